"""Validation of the population projection against the WPP 2024 medium variant.

For the development subset (``popprojAge5dt_devsubset.csv``), project from 1 July 2020 with
WPP's own inputs (:func:`spfsim.demography.wpp.from_wpp`), sum single ages into WPP's
5-year groups and compare with WPP's projected mid-year population: the total by sex and
the worst 5-year group under 80 in 2030, 2050 and 2100 (ours / WPP - 1).

Tolerances (issue #15), for every country with more than 1 million people in 2050 (WPP's
figure): totals by sex within 0.5 % in 2050 and 1 % in 2100, every 5-year group under 80
within 1.5 % in 2050. Where a country misses, :func:`explain_miss` gathers the evidence of
what the public inputs leave open, by counterfactual projections that use WPP's published
*outputs* (its 2025 population, its births): those are diagnostics only and never enter the
import.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .graduation import MAX_AGE
from .projection import DemographicProjection, project_population
from .wpp import WPPDemography, _migration, from_wpp
from .wpp_files import PERIOD_START, SEXES, WPPData, _group_start
from .wpp_migration import early_period_groups, period_weights, scale_totals

COMPARISON_YEARS = (2030, 2050, 2100)
TOTAL_TOLERANCE = {2050: 0.005, 2100: 0.01}  # by sex, |ours / WPP - 1|
GROUP_TOLERANCE_2050 = 0.015  # every 5-year group under 80, by sex, in 2050
CHECKED_POPULATION = 1e6  # persons in 2050 (WPP): the tolerances apply above it
GROUPS_UNDER_80 = 16  # 0-4 ... 75-79
EMPTIED_SHARE = 0.2  # a group below this share of its neighbours' mean is nearly emptied


@dataclass(frozen=True)
class Comparison:
    """Relative differences (ours / WPP - 1) for one country and base year.

    ``totals[(year, sex)]``: the total population by sex; ``worst_groups[year]``: the
    5-year group under 80 (label, sex, difference) with the largest absolute difference;
    ``population_2050``: WPP's 2050 population, persons (whether the tolerances apply).
    """

    country: int
    name: str
    base_year: int
    population_2050: float
    totals: dict[tuple[int, str], float]
    worst_groups: dict[int, tuple[str, str, float]]

    @property
    def total(self) -> dict[tuple[int, str], float]:
        """Totals of the years with a tolerance (2050, 2100)."""
        return {k: v for k, v in self.totals.items() if k[0] in TOTAL_TOLERANCE}

    @property
    def worst_group_2050(self) -> tuple[str, str, float]:
        return self.worst_groups[2050]

    def worst_total(self, year: int) -> tuple[str, float]:
        """(sex, difference) of the larger absolute difference in ``year``'s totals."""
        return max(((sex, self.totals[(year, sex)]) for sex in SEXES),
                   key=lambda item: abs(item[1]))

    @property
    def checked(self) -> bool:
        """Whether the tolerances apply (more than 1 million people in 2050)."""
        return self.population_2050 > CHECKED_POPULATION

    def misses(self) -> list[str]:
        """The measures beyond tolerance: "total 2050", "total 2100", "groups 2050"."""
        out = [f"total {year}" for year, tolerance in TOTAL_TOLERANCE.items()
               if abs(self.worst_total(year)[1]) > tolerance]
        if abs(self.worst_groups[2050][2]) > GROUP_TOLERANCE_2050:
            out.append("groups 2050")
        return out

    @property
    def passes(self) -> bool:
        """Within every tolerance (whatever the country's size)."""
        return not self.misses()

    def figure(self, measure: str) -> float:
        """The difference behind a measure named as in :meth:`misses`."""
        kind, year = measure.split()
        if kind == "total":
            return self.worst_total(int(year))[1]
        return self.worst_groups[int(year)][2]


def project_wpp(demography: WPPDemography) -> DemographicProjection:
    """Project a WPP-derived set of assumptions over its years."""
    d = demography
    return project_population(d.years, d.base_population, d.mx, d.asfr, d.srb,
                              d.net_migration)


def five_year_groups(population: np.ndarray) -> np.ndarray:
    """Sum single ages 0..100 (age first axis) into 0-4, ..., 95-99, 100+."""
    closed = population[:MAX_AGE].reshape(MAX_AGE // 5, 5, *population.shape[1:]).sum(axis=1)
    return np.concatenate([closed, population[MAX_AGE:]], axis=0)


def reference_groups(data: WPPData, country: int) -> dict[int, tuple[list[str], np.ndarray]]:
    """WPP's mid-year population by 5-year group: year -> (labels, (group, sex) persons)."""
    rows = data.rows(data.population5, "popprojAge5dt_devsubset.csv", country)
    rows = rows.assign(start=rows["age"].map(_group_start)).sort_values(["year", "start"])
    return {int(year): (list(frame["age"].astype(str)),
                        frame[["popM", "popF"]].to_numpy(float) * 1000.0)
            for year, frame in rows.groupby("year")}


def compare_projection(data: WPPData, country: int, projection: DemographicProjection,
                       reference: dict | None = None) -> Comparison:
    """Compare a projection of ``country`` with WPP's projected population."""
    reference = reference_groups(data, country) if reference is None else reference
    years = projection.years
    totals, worst = {}, {}
    for year in COMPARISON_YEARS:
        labels, theirs = reference[year]
        ours = five_year_groups(projection.population[int(np.searchsorted(years, year))])
        for s, sex in enumerate(SEXES):
            totals[(year, sex)] = float(ours[:, s].sum() / theirs[:, s].sum() - 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            diff = ours[:GROUPS_UNDER_80] / theirs[:GROUPS_UNDER_80] - 1.0
        diff = np.where(theirs[:GROUPS_UNDER_80] > 0, diff, 0.0)
        g, s = np.unravel_index(int(np.argmax(np.abs(diff))), diff.shape)
        worst[year] = (labels[g], SEXES[s], float(diff[g, s]))
    population_2050 = float(reference[2050][1].sum())
    return Comparison(int(country), data.name(int(country)), int(years[0]), population_2050,
                      totals, worst)


def compare_with_wpp(data: WPPData, country: int, base_year: int = 2020,
                     demography: WPPDemography | None = None) -> Comparison:
    """Project ``country`` from ``base_year`` and compare with WPP's medium variant.

    ``demography``: assumptions to project instead of ``from_wpp(data, country,
    base_year)`` (a counterfactual).
    """
    if demography is None:
        demography = from_wpp(data, country, base_year=base_year)
    return compare_projection(data, country, project_wpp(demography))


def development_subset(data: WPPData) -> list[int]:
    """Countries and areas (not aggregates) with WPP's projected population by age
    (``*_devsubset`` files)."""
    frame = data._read("popprojAge5dt_devsubset.csv")
    countries = set(data.country_codes())
    return sorted(int(c) for c in frame.index.unique() if int(c) in countries)


def wpp_step_births(data: WPPData, country: int, years: np.ndarray) -> np.ndarray:
    """WPP's published births (persons) of each step from 1 July ``years[k]``: the mean
    of calendar years t and t+1 (the last step repeats its year)."""
    births = data.rows(data.births, "miscproj1dt_devsubset.csv", country)
    births = births.set_index("year")["births"] * 1000.0
    return np.array([0.5 * (births[t] + births.get(t + 1, births[t])) for t in years])


def project_with_births(demography: WPPDemography, births: np.ndarray,
                        passes: int = 12) -> DemographicProjection:
    """A counterfactual projection whose births equal ``births`` (persons, per step).

    Each step's fertility rates are scaled by the ratio of the births wanted to the births
    projected. A step's births do not change its own women's exposure, but they change
    later ones (from 15 years on), so the scaling is repeated until it settles.
    """
    d = demography
    asfr = np.array(d.asfr, dtype=float)
    projection = project_wpp(d)
    for _ in range(passes):
        ratio = births / np.maximum(projection.births.sum(axis=1), 1e-300)
        if np.max(np.abs(ratio - 1.0)) < 1e-12:
            break
        asfr *= ratio[:, None]
        projection = project_population(d.years, d.base_population, d.mx, asfr, d.srb,
                                        d.net_migration)
    return projection


def births_implied_by_inputs(data: WPPData, country: int,
                             years: tuple[int, ...] = (2025, 2050, 2075, 2100)
                             ) -> dict[int, float]:
    """Births implied by WPP's published fertility inputs on WPP's own population, against
    WPP's published births (implied / published - 1), by calendar year.

    The rates of each 5-year group 10-14 ... 50-54 are TFR x its percentage share / 500
    (what the import uses), applied to WPP's mid-year female population of the group. A
    gap here is independent of spfsim's projection: the published inputs and outputs do
    not close, for reasons WPP does not publish (single-age structure within groups, or
    how its births are computed).
    """
    tfr = data.rows(data.tfr, "tfr1dt.csv", country).set_index("year")["tfr"]
    pattern = data.rows(data.asfr_pattern, "percentASFR5_annual_by_age5.txt", country)
    pattern = pattern.assign(start=pattern["age"].map(_group_start)).set_index("start")
    reference = reference_groups(data, country)
    births = data.rows(data.births, "miscproj1dt_devsubset.csv", country).set_index(
        "year")["births"] * 1000.0
    out = {}
    for year in years:
        labels, groups = reference[year]
        women = dict(zip([_group_start(label) for label in labels], groups[:, 1], strict=True))
        rates = float(tfr.loc[year]) * pattern[str(year)].astype(float) / 500.0
        implied = sum(float(rates.get(g, 0.0)) * women[g] for g in range(10, 55, 5))
        out[year] = implied / float(births.loc[year]) - 1.0
    return out


@dataclass(frozen=True)
class Evidence:
    """What lies behind a country's miss; comparisons are counterfactual projections.

    - ``from_2025``: projected from WPP's own 2025 population by 5-year group (graduated
      like the 2020 one), which takes 2020-2025 out;
    - ``births_imposed``: from 2020 with WPP's published births imposed step by step;
    - ``from_2025_births_imposed``: both;
    - ``other_split``: from 2020 with the 2020-2022 migration split over the three years
      by the other defensible rule (:func:`~spfsim.demography.wpp.scale_totals`): the
      published data fix only the weighted sum of those years by 5-year group;
    - ``implied_births``: :func:`births_implied_by_inputs`;
    - ``early_migration``: 2020-2022 net migrants published only as part of the 2020-2025
      period by 5-year group (sum of absolute values over groups and sexes), as a share of
      the 2020 population;
    - ``reference_2050``: WPP's 2050 groups (labels, (group, sex) persons), for
      :meth:`group_share`.
    """

    comparison: Comparison
    from_2025: Comparison
    births_imposed: Comparison
    from_2025_births_imposed: Comparison
    other_split: Comparison
    implied_births: dict[int, float]
    early_migration: float
    reference_2050: tuple[list[str], np.ndarray]

    def group_share(self, comparison: Comparison) -> float:
        """WPP's size of ``comparison``'s worst 2050 group against the mean of its two
        neighbouring groups (same sex). A small share means net emigration nearly empties
        that cohort, so a small absolute difference is a large relative one."""
        label, sex, _ = comparison.worst_groups[2050]
        labels, groups = self.reference_2050
        g, s = labels.index(label), SEXES.index(sex)
        neighbours = [groups[k, s] for k in (g - 1, g + 1) if 0 <= k < len(labels)]
        return float(groups[g, s] / max(float(np.mean(neighbours)), 1e-300))


def explain_miss(data: WPPData, comparison: Comparison) -> Evidence:
    """Counterfactual projections and input checks for a country (see :class:`Evidence`)."""
    country = comparison.country
    reference = reference_groups(data, country)
    from_2020 = from_wpp(data, country, base_year=PERIOD_START)
    from_2025 = from_wpp(data, country, base_year=2025)

    def compare(projection: DemographicProjection) -> Comparison:
        return compare_projection(data, country, projection, reference)

    other = replace(from_2020, net_migration=_migration(data, country, from_2020.years,
                                                        split=scale_totals))
    early = early_period_groups(data, country)
    population_2020 = float(from_2020.base_population.sum())
    return Evidence(
        comparison=comparison,
        from_2025=compare(project_wpp(from_2025)),
        births_imposed=compare(project_with_births(
            from_2020, wpp_step_births(data, country, from_2020.years))),
        from_2025_births_imposed=compare(project_with_births(
            from_2025, wpp_step_births(data, country, from_2025.years))),
        other_split=compare(project_wpp(other)),
        implied_births=births_implied_by_inputs(data, country),
        early_migration=(float(np.abs(early).sum()) / population_2020
                         if early is not None else 0.0),
        reference_2050=reference[2050],
    )


def period_file_gap(data: WPPData, period_start: int = 2025) -> float:
    """Largest absolute difference (persons, over every location, group and sex) between
    WPP's net migration of a 5-year period by group (``migprojAge5dt``) and the single-age
    annual flows (``migprojAge1dt``) weighted 1/2, 1, 1, 1, 1, 1/2 and summed by group.

    A gap within the files' rounding (thousands to three decimals: about a person) shows
    the period file is that aggregation, the rule the import inverts for 2020-2022.
    """
    single = data.migration1.reset_index()
    years = np.arange(period_start, period_start + 6)
    single = single[single["year"].isin(years)]
    weight = period_weights(period_start, single["year"].to_numpy())
    single = single.assign(group=np.minimum(single["age"].astype(int) // 5, MAX_AGE // 5),
                           migM=single["migM"] * weight, migF=single["migF"] * weight)
    ours = single.groupby(["country_code", "group"])[["migM", "migF"]].sum()
    period = data.migration5.reset_index()
    period = period[period["period"] == f"{period_start}-{period_start + 5}"]
    period = period.assign(group=period["age"].map(_group_start) // 5)
    theirs = period.set_index(["country_code", "group"])[["migM", "migF"]]
    joined = ours.join(theirs, rsuffix="_period", how="inner")
    gap = np.abs(joined[["migM", "migF"]].to_numpy()
                 - joined[["migM_period", "migF_period"]].to_numpy())
    return float(gap.max()) * 1000.0
