"""The contract of a stochastic projection's own variables (spfsim.stochastic): those that
a single projection's Dataset does not hold. The key series kept per draw and their
percentiles take the units of the single projection's variable of the same name.

Rows: (name, dims separated by spaces, units template, long-name template).
"""

STOCHASTIC_VARIABLES = (
    ('total_population', 'draw year', 'persons', 'population at 1 July, all ages and sexes'),
    ('old_age_dependency_ratio', 'draw year', 'fraction',
     'persons aged 65 or more / persons aged 15-64'),
    ('committed_transfers', 'draw year scheme', '{money} per year',
     "the state's scheduled transfers to the fund, a deficit cover excluded"),
    ('depletion_probability', 'year scheme', 'fraction',
     'share of draws whose reserve ends the year, or an earlier one, below zero (NaN: no fund)'),
    ('initial_reserve', 'scheme', '{money}', 'reserve at the start of the first year'),
    # the global (Sobol) sensitivity analysis (spfsim.stochastic.sobol); the depletion year
    # of a reserve that lasts the horizon counts as the year after it
    ('sobol_first_order', 'measure assumption scheme', '1',
     "first-order Sobol index: share of the measure's variance over the ranges explained by "
     "the assumption alone (a reserve lasting the horizon depletes in the year after "
     "{end_year}; NaN: no fund, or the measure does not vary)"),
    ('sobol_first_order_conf', 'measure assumption scheme', '1',
     'half-width of the 95 % bootstrap confidence interval of the first-order Sobol index'),
    ('sobol_total', 'measure assumption scheme', '1',
     "total Sobol index: share of the measure's variance over the ranges due to the "
     'assumption, its interactions with the others included (a reserve lasting the horizon '
     'depletes in the year after {end_year}; NaN: no fund, or the measure does not vary)'),
    ('sobol_total_conf', 'measure assumption scheme', '1',
     'half-width of the 95 % bootstrap confidence interval of the total Sobol index'),
)
