"""The tables an assumption set holds, with their columns, unit kinds and valid ranges."""

from __future__ import annotations

from .tables import ColumnSpec, TableSpec

ASSUMPTION_TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "population",
            dims=("age", "sex"),
            by_year_allowed=False,
            columns=(ColumnSpec("population", "count", low=0.0,
                                description="persons at 1 July of the base year"),),
            description="Base population by single age (100 = 100 and over) and sex.",
        ),
        TableSpec(
            "population_projection",
            dims=("age", "sex"),
            required=False,
            columns=(ColumnSpec("population", "count", low=0.0,
                                description="persons at 1 July of the year"),),
            description="Optional: an external population projection by year, age and sex "
            "(a statistics office's, the US Trustees'), from the base year to the end year; "
            "the model follows it instead of projecting its own: deaths from the mortality "
            "table, births from the fertility table, net migration the balance.",
        ),
        TableSpec(
            "mortality",
            dims=("age", "sex"),
            columns=(ColumnSpec("mx", "rate", low=0.0, high=10.0,
                                description="central death rate"),),
            description="Central death rates m(x) by age and sex, optionally by year.",
        ),
        TableSpec(
            "mortality_improvement",
            dims=("age", "sex"),
            by_year_allowed=False,
            required=False,
            columns=(ColumnSpec("improvement", "growth", low=-0.5, high=0.5,
                                description="annual rate of decline of m(x)"),),
            description="Optional: m(x, t) = m(x, t0) (1 - improvement)^(t - t0) beyond the "
            "last year of the mortality table.",
        ),
        TableSpec(
            "fertility",
            dims=("age",),
            full_ages=False,
            columns=(ColumnSpec("asfr", "fertility", low=0.0, high=1.0,
                                description="age-specific fertility rate"),),
            description="Births per woman-year by age of mother (a contiguous age range).",
        ),
        TableSpec(
            "sex_ratio_at_birth",
            dims=(),
            columns=(ColumnSpec("srb", "sex_ratio", low=0.8, high=1.3,
                                description="male births per female birth"),),
            description="Sex ratio at birth, one row, or one row per year.",
        ),
        TableSpec(
            "migration",
            dims=("age", "sex"),
            required=False,
            columns=(ColumnSpec("net_migration", "count",
                                description="net migrants during the year, by age at 1 July"),),
            description="Optional: net migration by age and sex (absent = closed population).",
        ),
        TableSpec(
            "disability",
            dims=("age", "sex"),
            required=False,
            columns=(ColumnSpec("severe_disability", "ratio", low=0.0, high=1.0, default=0.0,
                                description="share of the population with a severe "
                                "disability (the target group of disability benefits, "
                                "R202 para. 5(c))"),
                     ColumnSpec("invalidity_incidence", "ratio", low=0.0, high=1.0,
                                default=0.0,
                                description="annual probability that an insured contributor "
                                "becomes disabled (onset of a contributory disability "
                                "pension)")),
            description="Optional: prevalence of severe disability and onset of invalidity "
            "among the insured by age and sex, optionally by year (absent = none).",
        ),
        TableSpec(
            "contribution_history",
            dims=("sex",),
            required=False,
            columns=(ColumnSpec("density_ratio", "relative", low=0.0, high=10.0,
                                description="the share of each age contributing in a year "
                                "before the base year, as a multiple of the base year's"),),
            description="Optional: how contributing differed by year before the base year "
            "(years before it; women's rising attachment, coverage extended by law), for the "
            "base-year membership the engines rebuild from the scheme's start_year; a year "
            "outside the table takes its nearest year's ratio; absent = every past year at "
            "the base year's rates.",
        ),
        TableSpec(
            "economic_history",
            dims=(),
            required=False,
            columns=(ColumnSpec("inflation", "growth", low=-0.5, high=10.0,
                                description="consumer price growth during a year before "
                                "the base year"),
                     ColumnSpec("real_wage_growth", "growth", low=-0.5, high=1.0,
                                description="growth of average real earnings during a year "
                                "before the base year")),
            description="Optional: how prices and average wages grew in years before the "
            "base year (years before it), for the base-year state the engines rebuild from "
            "the pension's start_year (earnings, the formula's amounts and pensions in "
            "payment of each past year) and for the pensions awarded after the base year "
            "on a formula applied at an eligibility age before it; a year outside the table "
            "takes the base year's rates; absent = every past year at the base year's "
            "rates.",
        ),
        TableSpec(
            "families",
            dims=("age", "sex"),
            required=False,
            columns=(ColumnSpec("partnered", "ratio", low=0.0, high=1.0,
                                description="share of the persons of this age and sex who "
                                "live with a partner (the women's is aligned to each year)"),
                     ColumnSpec("separation", "ratio", low=0.0, high=1.0, default=0.0,
                                description="annual probability that a partnership ends "
                                "other than by death (a couple: the mean of the partners' "
                                "rates)"),
                     ColumnSpec("leave_home", "ratio", low=0.0, high=1.0, default=0.0,
                                description="annual probability that a person living with a "
                                "parent leaves the parental household"),
                     ColumnSpec("partner_age_difference", "duration", low=-30.0, high=30.0,
                                default=0.0,
                                description="mean age of the partner minus one's own age at "
                                "a new partnership (read on the women's rows: women's "
                                "partnerships are the ones aligned)"),
                     ColumnSpec("partner_age_spread", "duration", low=0.0, high=20.0,
                                default=0.0,
                                description="standard deviation of that difference")),
            description="Optional: families in the micro engine (partnerships, separations, "
            "children leaving home) by age and sex, optionally by year; absent = persons "
            "without family links.",
        ),
        TableSpec(
            "economy",
            dims=("year",),
            columns=(
                ColumnSpec("inflation", "growth", low=-0.5, high=10.0,
                           description="consumer price growth during the year"),
                ColumnSpec("real_wage_growth", "growth", low=-0.5, high=1.0,
                           description="growth of average real earnings (and of real GDP "
                           "per employed person)"),
                ColumnSpec("interest_rate", "growth", low=-0.5, high=10.0,
                           description="nominal return on reserves"),
            ),
            description="Macroeconomic paths, one row per year.",
        ),
        TableSpec(
            "labour",
            dims=("age", "sex"),
            full_ages=False,
            columns=(
                ColumnSpec("participation", "ratio", low=0.0, high=1.0,
                           description="labour force / population"),
                ColumnSpec("unemployment", "ratio", low=0.0, high=1.0,
                           description="unemployed / labour force"),
                ColumnSpec("coverage", "ratio", low=0.0, high=1.0,
                           description="contributors / employed (contributory coverage)"),
                ColumnSpec("relative_earnings", "relative", low=0.0,
                           description="earnings at this age and sex relative to the average"),
                ColumnSpec("self_employed_share", "ratio", low=0.0, high=1.0, default=0.0,
                           description="optional: share of contributors who are "
                           "self-employed or voluntary contributors"),
                ColumnSpec("disability_prevalence", "ratio", low=0.0, high=1.0, default=0.0,
                           description="optional: share of the population out of work "
                           "through disability (counted among the inactive)"),
            ),
            description="Labour force participation, unemployment, contributory coverage "
            "and the earnings profile by age and sex, optionally by year; ages outside the "
            "given range have no labour activity.",
        ),
    )
}
