"""Demographic assumptions from UN World Population Prospects 2024, for any country.

Reads the WPP 2024 files in the layout of ``shared/data/wpp2024`` (long CSVs keyed by UN M49
``country_code``, as packaged by the R package wpp2024) and returns single-age, annual
assumptions for the projection in :mod:`spfsim.demography.projection`.

Timing. A projection step runs from 1 July of year t to 1 July of t+1; in continuous time
(calendar year Y = [Y, Y+1)) that is [t+0.5, t+1.5), centred on t+1.0. Each input is
evaluated at that centre:

- WPP's 5-year rates (``mx5dt``, period p to p+5 = 1 July p to 1 July p+5, centred on
  p+3.0) are graduated to single ages keeping each group's life-table rate
  (:func:`~spfsim.demography.graduation.graduate_abridged_mx`) and interpolated
  log-linearly between period centres, held beyond the last one;
- annual series of calendar years (TFR, the age pattern of fertility, sex ratio at birth,
  net migration), centred on Y+0.5, are averaged over the calendar years t and t+1.

Net migration by single age exists from 2023 (``migprojAge1dt``). For 2020-2022 the age
and sex pattern comes from WPP's 5-year period 2020-2025 by age group (``migprojAge5dt``)
less the single-age flows of 2023-2025 it includes, and each year keeps its own total
(``mig1dt``); see :func:`~spfsim.demography.wpp_migration._migration_calendar`. Flows
are counted by age during the calendar year and enter a step by the same age at its end:
from WPP's own 2025 population this reproduces WPP's 2030 groups 5-79 to within 0.1 % for
Germany (``tools/validate_wpp.py`` reports every country).
"""


from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AssumptionError, Problem
from .graduation import MAX_AGE, graduate_abridged_mx, graduate_asfr, graduate_population
from .wpp_files import FERTILE_AGES, LICENCE, SEX_SUFFIX, SEXES, SOURCE, WPPData, _group_start
from .wpp_migration import SplitRule, _migration_calendar, spread_totals

__all__ = ["LICENCE", "SOURCE", "WPPData", "WPPDemography", "assumption_tables", "from_wpp",
           "write_wpp_assumptions"]


@dataclass
class WPPDemography:
    """Single-age annual demographic assumptions for one country (canonical units).

    Rates of ``years[k]`` apply to the projection step from 1 July ``years[k]`` to 1 July
    of the next year. Arrays: ``base_population`` (age, sex) persons at 1 July of the base
    year; ``mx`` (year, age, sex); ``asfr`` (year, age) births per woman-year; ``srb`` (year,)
    males per female; ``net_migration`` (year, age, sex) persons.
    """

    country: int
    name: str
    years: np.ndarray
    base_population: np.ndarray
    mx: np.ndarray
    asfr: np.ndarray
    srb: np.ndarray
    net_migration: np.ndarray


def _calendar_to_steps(values: np.ndarray, calendar_years: np.ndarray,
                       years: np.ndarray) -> np.ndarray:
    """Average calendar years t and t+1 for the step starting 1 July t (leading axis)."""
    index = {int(y): k for k, y in enumerate(calendar_years)}
    out = []
    for t in years:
        if int(t) not in index:
            raise ValueError(f"calendar year {t} missing")
        first = values[index[int(t)]]
        second = values[index[int(t) + 1]] if int(t) + 1 in index else first
        out.append(0.5 * (first + second))
    return np.asarray(out)


def _base_population(data: WPPData, country: int, year: int) -> np.ndarray:
    rows = data.rows(data.population5, "popAge5dt.csv", country)
    rows = rows[rows["year"] == year]
    if rows.empty:
        available = sorted(set(data.rows(data.population5, "popAge5dt.csv", country)["year"]))
        raise AssumptionError([Problem(str(data.dir / "popAge5dt.csv"), "year",
                                       f"no population by age for this base year; "
                                       f"available: {available}", None, year)])
    rows = rows.assign(start=rows["age"].map(_group_start)).sort_values("start")
    if not np.array_equal(rows["start"].to_numpy(), np.arange(0, MAX_AGE + 1, 5)):
        raise AssumptionError([Problem(str(data.dir / "popAge5dt.csv"), "age",
                                       "unexpected age groups", None, list(rows["age"]))])
    return np.stack([graduate_population(rows[f"pop{s}"].to_numpy(float) * 1000.0)
                     for s in SEX_SUFFIX], axis=-1)


def _mortality(data: WPPData, country: int, years: np.ndarray) -> np.ndarray:
    rows = data.rows(data.mx5, "mx5dt.csv", country)
    rows = rows.assign(start=rows["age"].map(_group_start),
                       period_start=rows["period"].str.slice(0, 4).astype(int))
    rows = rows.sort_values(["period_start", "start"])
    periods, groups = np.unique(rows["period_start"], return_counts=True)
    if np.ptp(groups):
        usual = int(np.bincount(groups).argmax())
        odd = ", ".join(f"{p}: {n}" for p, n in zip(periods, groups, strict=True) if n != usual)
        raise AssumptionError([Problem(
            str(data.dir / "mx5dt.csv"), "age", f"every period needs the same age groups: "
            f"most periods have {usual} rows, these have not (period: rows): {odd}", None,
            country)])
    # sorted by period and age: each sex's rates are a (period, age) grid
    abridged = np.stack([rows[f"mx{s}"].to_numpy(float).reshape(len(periods), -1)
                         for s in SEX_SUFFIX], axis=1)  # (period, sex, age)
    single = np.moveaxis(graduate_abridged_mx(abridged, keep_group_rates=True), -1, 1)
    centres = periods + 3.0  # 1 July p to 1 July p+5, centred on 1 January p+3
    log_mx = np.log(single)
    out = np.empty((len(years), MAX_AGE + 1, 2))
    for a in range(MAX_AGE + 1):
        for s in range(2):
            out[:, a, s] = np.exp(np.interp(years + 1.0, centres, log_mx[:, a, s]))
    return out


def _fertility(data: WPPData, country: int, years: np.ndarray) -> np.ndarray:
    tfr = data.rows(data.tfr, "tfr1dt.csv", country).set_index("year")["tfr"]
    pattern = data.rows(data.asfr_pattern, "percentASFR5_annual_by_age5.txt", country)
    pattern = pattern.assign(start=pattern["age"].map(_group_start)).set_index("start")
    calendar = np.arange(years[0], min(years[-1] + 1, int(tfr.index.max())) + 1)
    pct = pattern[[str(y) for y in calendar]].astype(float).reindex(range(10, 55, 5),
                                                                   fill_value=0.0)
    folded = pct.loc[15:45].to_numpy().copy()  # (group 15-19..45-49, year)
    folded[0] += pct.loc[10].to_numpy()
    folded[-1] += pct.loc[50].to_numpy()
    shares = folded / folded.sum(axis=0, keepdims=True)
    single = np.zeros((len(calendar), MAX_AGE + 1))
    for k, year in enumerate(calendar):
        group_rates = float(tfr.loc[year]) * shares[:, k] / 5.0
        single[k, FERTILE_AGES[0]:FERTILE_AGES[1]] = graduate_asfr(group_rates,
                                                                   FERTILE_AGES[0])
    return _calendar_to_steps(single, calendar, years)


def _sex_ratio(data: WPPData, country: int, years: np.ndarray) -> np.ndarray:
    rows = data.rows(data.srb, "sexRatio1dt.csv", country)
    return _calendar_to_steps(rows["srb"].to_numpy(float), rows["year"].to_numpy(), years)


def _migration(data: WPPData, country: int, years: np.ndarray,
               split: SplitRule = spread_totals) -> np.ndarray:
    """Net migrants (step, age at its end, sex), persons, for the steps from ``years``."""
    calendar, values = _migration_calendar(data, country, int(years[0]), split)
    return _calendar_to_steps(values, calendar, years)


#: WPP 2024's years: estimates from 1950, projections to 2100, population by age every
#: five years.
WPP_FIRST_YEAR, WPP_LAST_YEAR, WPP_AGE_STEP = 1950, 2100, 5
COUNTRY_LOCATION_TYPE = 4  # UNlocations' location_type of a country or area


def _check_years(base_year: int, end_year: int) -> None:
    """Base and end year within WPP 2024, the base year one with population by age."""
    problems = []
    if not WPP_FIRST_YEAR <= base_year < WPP_LAST_YEAR:
        problems.append(Problem("--base-year", "base_year", f"must be between "
                                f"{WPP_FIRST_YEAR} and {WPP_LAST_YEAR - WPP_AGE_STEP}", None,
                                base_year))
    elif base_year % WPP_AGE_STEP:
        problems.append(Problem(
            "--base-year", "base_year", "must be a multiple of five: WPP 2024 publishes "
            "the population by age group only at 1 July of 1950, 1955, ..., 2020 (to 2100 "
            "for the development subset), and the base population is taken from it", None,
            base_year))
    if end_year <= base_year:
        problems.append(Problem("--end-year", "end_year", f"must be after the base year "
                                f"{base_year}", None, end_year))
    elif end_year > WPP_LAST_YEAR:
        problems.append(Problem("--end-year", "end_year", f"WPP 2024 projects to "
                                f"{WPP_LAST_YEAR}", None, end_year))
    if problems:
        raise AssumptionError(problems)


def _check_country(data: WPPData, country: int) -> None:
    """``country`` must be a country or area of UNlocations, not a region or the World."""
    locations = data.locations
    if country not in locations.index:
        return  # data.rows() says which file has no rows for it
    kind = locations.loc[[country], "location_type"].iloc[0]
    if int(kind) != COUNTRY_LOCATION_TYPE:
        name = str(locations.loc[[country], "name"].iloc[0])
        raise AssumptionError([Problem(
            str(data.dir / "UNlocations.txt"), "country_code",
            f"{name} is an aggregate (location_type {int(kind)}), not a country: the "
            "import needs a country or area (location_type 4)", None, country)])


def from_wpp(data_dir: str | Path | WPPData, country: int, base_year: int = 2020,
             end_year: int = 2100) -> WPPDemography:
    """Demographic assumptions for ``country`` (UN M49 code) from WPP 2024.

    ``base_year`` must be a year with population by age in the data (1950, 1955, ...,
    2020 for every country; 2025, ..., 2100 for the development subset). Problems with
    the years, the country or the data folder raise AssumptionError.
    """
    _check_years(base_year, end_year)
    data = data_dir if isinstance(data_dir, WPPData) else WPPData(data_dir)
    _check_country(data, int(country))
    years = np.arange(base_year, end_year + 1)
    return WPPDemography(
        country=int(country), name=data.name(int(country)), years=years,
        base_population=_base_population(data, country, base_year),
        mx=_mortality(data, country, years), asfr=_fertility(data, country, years),
        srb=_sex_ratio(data, country, years), net_migration=_migration(data, country, years))


def assumption_tables(demography: WPPDemography) -> list:
    """The demographic tables of an assumption set, from WPP-derived assumptions."""
    from ..params.writer import TableOut

    d = demography
    ages = range(MAX_AGE + 1)
    years = [int(y) for y in d.years]
    fertile = range(*FERTILE_AGES)

    def by_year_age_sex(values):
        return ([y, a, sex, float(values[k, a, s])] for k, y in enumerate(years)
                for a in ages for s, sex in enumerate(SEXES))

    return [
        TableOut("population", "population.csv", ["age", "sex", "population"],
                 ([a, sex, float(d.base_population[a, s])] for a in ages
                  for s, sex in enumerate(SEXES)), {"population": "persons"}),
        TableOut("mortality", "mortality.csv", ["year", "age", "sex", "mx"],
                 by_year_age_sex(d.mx), {"mx": "per person-year"}),
        TableOut("fertility", "fertility.csv", ["year", "age", "asfr"],
                 ([y, a, float(d.asfr[k, a])] for k, y in enumerate(years) for a in fertile),
                 {"asfr": "births per woman-year"}),
        TableOut("sex_ratio_at_birth", "sex_ratio_at_birth.csv", ["year", "srb"],
                 ([y, float(d.srb[k])] for k, y in enumerate(years)),
                 {"srb": "males per female"}),
        TableOut("migration", "migration.csv", ["year", "age", "sex", "net_migration"],
                 by_year_age_sex(d.net_migration), {"net_migration": "persons"}),
    ]


README_TEMPLATE = """\
# Demographic assumptions: {name} (UN M49 {country}), WPP 2024

Written by `spfsim import-wpp --country {country} --base-year {base} --end-year {end}` from the
UN World Population Prospects 2024 files; do not edit by hand, re-import instead.

Source: {source}. Licence: {licence}. The single-age tables are spfsim's graduation of WPP's
published figures, not UN figures.

- `population.csv`: persons at 1 July {base} by single age (100 = 100+), graduated from 5-year
  groups by a monotone (PCHIP) curve through the cumulative population (group totals kept).
- `mortality.csv`: m(x) for the step from 1 July of each year to 1 July of the next, from
  WPP's abridged 5-year period rates: log-linear between group mid-points over age, each
  group then scaled so that its life-table rate nDx/nLx is WPP's, and log-linear between
  period centres over time.
- `fertility.csv`: single-age ASFR 15-49 from the annual TFR and its annual distribution by
  5-year group (10-14 folded into 15-19, 50-54 into 45-49), averaged over the two calendar
  years each step spans.
- `sex_ratio_at_birth.csv`, `migration.csv`: annual WPP series averaged likewise; net
  migration by single age from 2023; 2020-2022 by age from WPP's 2020-2025 period by
  5-year group less its 2023-2025 part, each year at its own total; net migrants enter a
  step at the age they have during the calendar year.

See `spfsim.demography.wpp` for the timing conventions.
"""


def write_wpp_assumptions(demography: WPPDemography, folder: Path | str,
                          overwrite: bool = False) -> Path:
    """Write the demographic assumption set of ``demography`` to ``folder``."""
    from ..params.writer import write_assumption_set

    d = demography
    meta = {"name": f"wpp2024-{d.country}", "title": f"{d.name}, WPP 2024 medium variant",
            "source": f"{SOURCE} ({d.name}, M49 {d.country}, medium variant)",
            "licence": LICENCE, "base_year": int(d.years[0])}
    readme = README_TEMPLATE.format(name=d.name, country=d.country, base=int(d.years[0]),
                                    end=int(d.years[-1]), source=SOURCE, licence=LICENCE)
    return write_assumption_set(folder, meta, assumption_tables(d), readme, overwrite)
