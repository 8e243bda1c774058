"""The contract of the variables computed from the projection: indicators, sustainability
and equity measures, and the micro engine's distributions.

Rows: (name, dims separated by spaces, units template, long-name template); see
:mod:`spfsim.results.registry` for the template fields.
"""

#: Coverage, adequacy, cost, fiscal space and gender (:mod:`spfsim.indicators`).
INDICATORS = (
    ('coverage_target', 'year sex guarantee', 'persons',
     "persons in the guarantee's target group"),
    ('coverage_covered', 'year sex guarantee', 'persons',
     'persons of the target group covered by at least one benefit serving the guarantee'),
    ('coverage_rate', 'year guarantee', 'fraction',
     'share of the target group covered (any_cash: SDG 1.3.1, population covered by at least '
     'one cash benefit or contributing)'),
    ('coverage_rate_by_sex', 'year sex guarantee', 'fraction',
     'share of the target group covered, by sex'),
    ('average_benefit', 'year scheme', '{money} per beneficiary per year',
     'average benefit per beneficiary'),
    ('benefit_to_poverty_line', 'year scheme', 'fraction',
     'average benefit / annual poverty line (NaN: no poverty line in the model)'),
    ('cost_to_revenue', 'year scheme', 'fraction',
     'benefit and administrative expenditure / government revenue (NaN: no revenue share in '
     'the model)'),
    ('expenditure_by_guarantee', 'year guarantee', '{money} per year',
     'benefit and administrative expenditure of the schemes serving each guarantee (any_cash: '
     'all cash benefits)'),
    ('cost_to_gdp_by_guarantee', 'year guarantee', 'fraction',
     'expenditure by guarantee / GDP'),
    ('cost_to_revenue_by_guarantee', 'year guarantee', 'fraction',
     'expenditure by guarantee / government revenue'),
    ('benefit_ratio', 'year sex scheme', 'fraction',
     'average pension in payment (every branch; lump-sum refunds and their recipients left '
     'out) / average insured earnings of contributors'),
    ('replacement_rate_new', 'year sex scheme', 'fraction',
     'average new pension / annual earnings of a covered worker one year below the pensionable'
     ' age'),
    ('state_cost', 'year', '{money} per year',
     'cost of social protection to the state budget: benefits and administration of schemes '
     'without a fund, and every state transfer to funded schemes (subsidies, state '
     'contributions, deficit cover)'),
    ('state_cost_to_gdp', 'year', 'fraction',
     'cost of social protection to the state budget / GDP'),
    ('fiscal_envelope', 'year', 'fraction',
     'fiscal envelope: share of GDP the government states it can devote to social protection '
     '(NaN: not given)'),
    ('financing_gap', 'year', '{money} per year',
     'financing gap: state cost - fiscal envelope x GDP (positive: the envelope falls short; '
     'NaN: no envelope given)'),
    ('financing_gap_to_gdp', 'year', 'fraction',
     'financing gap / GDP (positive: the envelope falls short; NaN: no envelope given)'),
    ('contributor_coverage_by_sex', 'year sex scheme', 'fraction',
     'contributors / population aged {working_ages}, by sex (NaN: scheme without contributors)'),
    ('average_benefit_by_sex', 'year sex scheme', '{money} per beneficiary per year',
     'benefit expenditure / beneficiaries, by sex'),
    ('average_insured_earnings_by_sex', 'year sex scheme', '{money} per contributor per year',
     'insured earnings / contributors, by sex (NaN: not reported by sex)'),
    ('replacement_rate_by_sex', 'year sex scheme', 'fraction',
     'average benefit in payment / average insured earnings of contributors of the same sex '
     '(of all contributors where earnings by sex are not reported)'),
    ('gender_gap', 'year scheme gap', 'fraction',
     'gender gap (men - women) / men in contributor coverage, average benefit and replacement '
     'rate (positive: women below men)'),
)

#: Sustainability and financing measures (:func:`spfsim.finance.measures.sustainability_variables`).
SUSTAINABILITY = (
    ('trust_fund_ratio', 'year scheme', 'fraction',
     "reserve at the start of the year / that year's benefit and administrative expenditure"),
    ('payable_share', 'year scheme', 'fraction',
     'share of scheduled expenditure payable: 1 before the depletion year, then from '
     'continuing non-interest income'),
    ('scaled_premium', 'year scheme', 'fraction',
     'scaled premium: contribution rate of {period}-year periods of equilibrium in which the '
     'reserve never decreases'),
    ('general_average_premium', 'scheme', 'fraction',
     'general average premium from the start of the valuation period to the end of the '
     'projection, open group, with the reserve at that start'),
    ('summarized_income_rate', 'scheme', 'fraction',
     'summarized income rate {over}: (reserve at the start of the period + PV non-interest '
     'income, a deficit cover excluded) / PV insured earnings'),
    ('summarized_cost_rate', 'scheme', 'fraction',
     "summarized cost rate {over}, with an ending target fund of the following year's cost "
     "(the last year's where the projection ends with the period)"),
    ('actuarial_balance', 'scheme', 'fraction',
     'actuarial balance {over}: summarized income rate - summarized cost rate'),
    ('unfunded_obligation', 'scheme', '{money}',
     'open-group unfunded obligation {over}: PV cost - PV non-interest income (a deficit cover'
     ' excluded) - reserve at the start of the period, at that date'),
    ('reserve_ratio_by_method', 'year scheme financing_method', 'fraction',
     "reserve at end of year / that year's benefit and administrative expenditure (years of "
     "expenditure) when contributions follow: the scheme's own rates (scheme_rules, the "
     "projected reserve), each year's PAYG cost rate (paygo), the general average premium "
     '(general_average_premium) or the scaled premium of {period}-year periods '
     '(scaled_premium); state transfers and the initial reserve as projected; NaN for schemes '
     'without a fund'),
)

#: Equity by birth cohort (:func:`spfsim.equity.cohorts.equity_variables`).
EQUITY = (
    ('cohort_irr', 'cohort sex scheme', '1 per year',
     "internal rate of return of the birth cohort's expected contributions and benefits; life "
     "benefits in payment at the horizon continue with the last year's mortality (see "
     'cohort_complete)'),
    ('money_worth_ratio', 'cohort sex scheme', '1',
     'present value of expected benefits over present value of expected contributions, at the '
     "fund's interest rate; life benefits in payment at the horizon continue with the last "
     "year's mortality (see cohort_complete)"),
    ('net_transfer_pv', 'cohort sex scheme', '{currency} (present value at 1 January {base_year})',
     "present value of expected benefits less contributions of the birth cohort, at the fund's"
     " interest rate; life benefits in payment at the horizon continue with the last year's "
     'mortality (see cohort_complete)'),
    ('cohort_complete', 'cohort scheme', '1',
     "the cohort's cash flows in the scheme are all inside the projection once life benefits "
     'are continued: no older than its first contributing (or, without contributions, benefit)'
     " age in {base_year}, and in {end_year} past the scheme's contributions and temporary "
     "benefits and at its life benefits' age"),
    ('tail_age', 'scheme', 'years of age',
     'age from which benefits in payment at the horizon are continued for life (NaN: none)'),
)

#: Micro engine only: persons by status and distributions within birth cohorts
#: (:mod:`spfsim.results.micro`).
MICRO = (
    ('persons_by_status', 'year age sex status', 'persons',
     'persons by status: contributing employees, contributing self-employed or voluntary '
     'contributors, informal (employed, not contributing), unemployed, inactive, disabled, '
     'pensioner, retired without pension (micro engine)'),
    ('persons_by_family_status', 'year age sex family_status', 'persons',
     'persons living with a partner, and persons living with a parent, at 1 July (micro '
     'engine with families)'),
    ('family_events', 'year age sex family_event', 'persons',
     'persons by family event during the year, by age at 1 July of the next year: '
     "partnerships formed, separations, partnerships ended by the partner's death or "
     'emigration, leaving the parental household (micro engine with families)'),
    ('households_by_size', 'year household_size', 'households',
     'households by number of members at 1 July (micro engine with families)'),
    ('poverty_population', 'year sex age_group', 'persons',
     'persons whose household poverty is measured: the population of 1 July, in its '
     'households (micro engine with families and a [poverty] section)'),
    ('persons_in_poverty', 'year income_stage sex age_group', 'persons',
     'persons in households whose equivalised income of the year is below the household '
     'poverty line (micro engine with families and a [poverty] section)'),
    ('poverty_rate', 'year income_stage sex age_group', 'fraction',
     'share of the persons measured who live in poor households (poverty headcount ratio)'),
    ('poverty_gap', 'year income_stage sex age_group', '{money} per year',
     'sum over persons in poor households of the household poverty line less their '
     'equivalised income (what lifting them to the line costs, in equivalised terms)'),
    ('poverty_gap_closed_by_floor', 'year', 'fraction',
     "share of the poverty gap before the floor's transfers that they close: 1 - gap of "
     'disposable income / gap of income before the floor (R202 para. 8(b))'),
    ('household_poverty_line', 'year', '{money} per equivalent adult per year',
     "the household poverty line of the model's [poverty] section in each year"),
    ('gini_equivalised_income', 'year income_stage', '1',
     'Gini coefficient of equivalised household income over persons (a lower bound within '
     'about 0.001: inequality within 0.4 % wide income bins ignored)'),
    ('median_equivalised_income', 'year income_stage', '{money} per equivalent adult per year',
     'median equivalised household income over persons'),
    ('lifetime_contributions_at_death', 'birth_cohort sex quantile',
     'base-year average earnings (present value at 1 January {base_year} at the interest path)',
     'quantiles of lifetime pension contributions of those who died during the projection, by '
     '5-year birth cohort (first year given; micro engine)'),
    ('lifetime_benefits_at_death', 'birth_cohort sex quantile',
     'base-year average earnings (present value at 1 January {base_year} at the interest path)',
     'quantiles of lifetime pension benefits of those who died during the projection, by '
     '5-year birth cohort (first year given; micro engine)'),
    ('deaths_by_birth_cohort', 'birth_cohort sex', 'persons',
     'deaths during the projection by 5-year birth cohort (first year given; micro engine)'),
    ('money_worth_ratio_by_person', 'birth_cohort sex quantile', '1',
     "quantiles of persons' money's worth ratio in the pension scheme (present value of own "
     'benefits over own contributions), among its contributors, by 5-year birth cohort (first '
     'year given; micro engine); pensions in payment at the horizon continued for life (last '
     "year's mortality and indexation)"),
    ('net_transfer_by_person', 'birth_cohort sex quantile',
     'base-year average earnings (present value at 1 January {base_year} at the interest path)',
     "quantiles of persons' net transfer in the pension scheme (own benefits less "
     'contributions) among persons with pension contributions or benefits in the projection '
     "(own pensions and refunds; survivors' pensions go to survivors, who are not simulated "
     'persons), by 5-year birth cohort (first year given; micro engine); pensions in payment '
     "at the horizon continued for life (last year's mortality and indexation)"),
    ('lifetime_members', 'birth_cohort sex', 'persons',
     'persons with pension contributions or benefits in the projection (own pensions and '
     "refunds; survivors' pensions go to survivors, who are not simulated persons), by 5-year "
     'birth cohort (first year given; micro engine)'),
    ('lifetime_pv', 'birth_cohort sex flow',
     '{currency} (present value at 1 January {base_year} at the interest path)',
     'present values of the pension contributions and own benefits of persons with pension '
     "contributions or benefits in the projection (own pensions and refunds; survivors' "
     'pensions go to survivors, who are not simulated persons), by 5-year birth cohort (first '
     'year given; micro engine): paid in the projection, and after it (pensions in payment at '
     "the horizon continued for life (last year's mortality and indexation))"),
    ('birth_cohort_complete', 'birth_cohort', '1',
     'every cohort of the 5-year group is complete for the pension (cohort_complete)'),
)

ANALYSIS_VARIABLES = (*INDICATORS, *SUSTAINABILITY, *EQUITY, *MICRO)
