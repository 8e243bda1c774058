"""The contract of the projection's own variables: demography, economy, and each scheme's
flows, fund and awards (assembled by :mod:`spfsim.results.assemble`).

Rows: (name, dims separated by spaces, units template, long-name template); see
:mod:`spfsim.results.registry` for the template fields.
"""

#: Demography (:meth:`spfsim.demography.DemographicProjection.to_dataset`).
DEMOGRAPHY = (
    ('population', 'year age sex', 'persons',
     'population at 1 July'),
    ('births', 'year sex', 'persons',
     'live births from 1 July of year to 1 July of year+1'),
    ('deaths', 'year age sex', 'persons',
     'deaths from 1 July of year to 1 July of year+1, by age at the end'),
    ('net_migration', 'year age sex', 'persons',
     'net migrants from 1 July of year to 1 July of year+1, by age at the end'),
    ('emigration_capped', 'year sex', 'persons',
     'assumed net emigration that exceeded the cohorts and was not applied'),
    ('life_expectancy', 'year sex', 'years',
     'period life expectancy at birth'),
)

#: Economy and labour (:mod:`spfsim.economy`).
ECONOMY = (
    ('labour_force', 'year age sex', 'persons',
     'labour force'),
    ('employed', 'year age sex', 'persons',
     'employed persons'),
    ('gdp', 'year', '{money}',
     'gross domestic product'),
    ('average_earnings', 'year', '{money} per year',
     'average annual earnings of covered workers (base profile)'),
    ('price_index', 'year', '1',
     'consumer price index (base year = 1)'),
    ('wage_index', 'year', '1',
     'average earnings index (base year = 1)'),
    ('interest_rate', 'year', 'fraction per year',
     'nominal return on reserves'),
    ('gdp_per_capita', 'year', '{money} per person per year',
     'GDP per resident'),
    ('poverty_line', 'year', '{money} per person per year',
     'poverty line (base-year value indexed to prices)'),
    ('government_revenue', 'year', '{money} per year',
     'government revenue (share of GDP x GDP)'),
)

#: Each scheme's flows, fund, awards and branches (:mod:`spfsim.results.assemble`).
SCHEME_FLOWS = (
    ('contributors', 'year age sex scheme', 'persons',
     'persons contributing during the year'),
    ('beneficiaries', 'year age sex scheme', 'persons',
     'persons receiving a benefit'),
    ('new_beneficiaries', 'year sex scheme', 'persons',
     'benefits awarded during the year'),
    ('average_new_benefit', 'year sex scheme', '{money} per year',
     'average annual amount of new awards'),
    ('service_at_award', 'year sex service scheme', 'persons',
     'new pensions by credited years of service'),
    ('credited_years_at_award', 'year sex scheme', 'years',
     'mean credited years of new pensioners'),
    ('contribution_density_at_award', 'year sex scheme', 'fraction',
     'mean credited years of new pensioners / years from age {entry_age} to the retirement age'),
    ('insured_earnings', 'year scheme', '{money} per year',
     'insured (contributory) earnings'),
    ('contribution_income', 'year scheme', '{money} per year',
     'contribution income'),
    ('state_transfer', 'year scheme', '{money} per year',
     'transfers from the state budget'),
    ('investment_income', 'year scheme', '{money} per year',
     'investment income of the reserve'),
    ('state_deficit_cover', 'year scheme', '{money} per year',
     "part of the state transfer paid under a deficit guarantee (state_guarantee = 'deficit'),"
     ' keeping the reserve at zero'),
    ('benefit_tax_income', 'year scheme', '{money} per year',
     'part of the state transfer that is the income tax on the scheme\'s benefits, passed '
     'on to the fund (benefit_tax_*; not a cost to the state budget)'),
    ('benefit_expenditure', 'year scheme', '{money} per year',
     'benefit expenditure'),
    ('admin_expenditure', 'year scheme', '{money} per year',
     'administrative expenditure'),
    ('reserve', 'year scheme', '{money}',
     'reserve at the end of the year'),
    ('paygo_cost_rate', 'year scheme', 'fraction',
     'PAYG cost rate: (benefits + administration) / insured earnings'),
    ('paygo_cost_rate_by_payment', 'year payment scheme', 'fraction',
     'PAYG cost rate of periodic benefits (pensions and other benefits in payment) and of lump'
     ' sums (refunds of contributions at the pensionable age), administrative expenditure '
     'shared in proportion to benefits; the two add up to paygo_cost_rate'),
    ('reserve_ratio', 'year scheme', 'fraction',
     'reserve at end of year / expenditure of the year (years of expenditure); NaN for schemes'
     ' without a fund'),
    ('cost_to_gdp', 'year scheme', 'fraction',
     'benefit and administrative expenditure / GDP'),
    ('depletion_year', 'scheme', 'calendar year',
     'first year with a negative end-of-year reserve (NaN: none within the horizon or no fund)'),
    ('pensions_by_age', 'year age sex pension scheme', 'persons',
     'pensions in payment by age and sex of the beneficiary: old age (including disability '
     "pensions continued from the pensionable age), disability, the survivors' pensions of"
     " spouses and orphans, and the dependants' supplements of living pensioners' spouses and"
     " children (a spouse paid only above her own pension is counted in its kind)"),
    ('beneficiaries_by_branch', 'year sex branch scheme', 'persons',
     'pensions in payment by branch: old age (including disability pensions continued from the'
     " pensionable age), disability, survivors (spouses and orphans), dependants (of living"
     ' pensioners), refunds (lump sums, in the year paid)'),
    ('benefit_expenditure_by_branch', 'year branch scheme', '{money} per year',
     'benefit expenditure by branch'),
    ('contribution_income_by_payer', 'year payer scheme', '{money} per year',
     'contributions by payer: the insured person (worker_share of the rate), the employer (the'
     ' rest) and the state (state_contribution_rate, paid as a transfer)'),
)

PROJECTION_VARIABLES = (*DEMOGRAPHY, *ECONOMY, *SCHEME_FLOWS)
