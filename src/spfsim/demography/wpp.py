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
(``mig1dt``); see :func:`_migration_calendar`. Flows are counted by age during the calendar
year and enter a step by the same age at its end: from WPP's own 2025 population this
reproduces WPP's 2030 groups 5-79 to within 0.1 % for Germany (``tools/validate_wpp.py``
reports every country).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..errors import AssumptionError, Problem
from .graduation import (
    MAX_AGE,
    graduate_abridged_mx,
    graduate_asfr,
    graduate_net_flows,
    graduate_population,
)

SEXES = ("male", "female")
SEX_SUFFIX = ("M", "F")
FERTILE_AGES = (15, 50)  # single ages 15..49; WPP's 10-14 and 50-54 are folded in
FIRST_SINGLE_AGE_MIGRATION = 2023
PERIOD_START = 2020  # the 5-year period of migprojAge5dt that covers 2020-2023
SOURCE = ("UN DESA Population Division, World Population Prospects 2024, as packaged by the "
          "R package wpp2024 1.1-3")
LICENCE = "CC BY 3.0 IGO (https://creativecommons.org/licenses/by/3.0/igo/)"


def _group_start(label: object) -> int:
    """First age of a WPP age label ('0-4' -> 0, '100+' -> 100, '5' -> 5)."""
    return int(str(label).rstrip("+").split("-")[0])


class WPPData:
    """Lazily loaded WPP 2024 files; each file is read once and indexed by country."""

    def __init__(self, data_dir: str | Path):
        path = Path(data_dir)
        self.dir = path / "wpp2024" if (path / "wpp2024").is_dir() else path
        if not self.dir.is_dir():
            raise AssumptionError([Problem(str(path), "data", "WPP data folder not found",
                                           None, str(path))])

    def _read(self, name: str, **kwargs) -> pd.DataFrame:
        path = self.dir / name
        if not path.is_file():
            raise AssumptionError([Problem(str(path), "file", "WPP file not found", None,
                                           name)])
        frame = pd.read_csv(path, **kwargs)
        return frame.set_index("country_code").sort_index()

    def rows(self, frame: pd.DataFrame, name: str, country: int) -> pd.DataFrame:
        """The rows of ``country``; a clear error naming the file if there are none."""
        if country not in frame.index:
            raise AssumptionError([Problem(str(self.dir / name), "country_code",
                                           "no rows for this country", None, country)])
        rows = frame.loc[[country]]
        return rows.reset_index(drop=True)

    @cached_property
    def locations(self) -> pd.DataFrame:
        return self._read("UNlocations.txt", sep="\t")

    @cached_property
    def population5(self) -> pd.DataFrame:
        """popAge5dt (estimates 1950-2020) and the projections of the development subset."""
        frames = [self._read("popAge5dt.csv")]
        if (self.dir / "popprojAge5dt_devsubset.csv").is_file():
            frames.append(self._read("popprojAge5dt_devsubset.csv")[
                ["year", "age", "popM", "popF", "pop"]])
        return pd.concat(frames).sort_index(kind="stable")

    @cached_property
    def mx5(self) -> pd.DataFrame:
        return self._read("mx5dt.csv")

    @cached_property
    def tfr(self) -> pd.DataFrame:
        return pd.concat([self._read("tfr1dt.csv"),
                          self._read("tfrproj1dt.csv")[["year", "tfr"]]]).sort_index(
            kind="stable")

    @cached_property
    def asfr_pattern(self) -> pd.DataFrame:
        # a wide file (one column per year): copy once into a consolidated frame
        return self._read("percentASFR5_annual_by_age5.txt", sep="\t").copy()

    @cached_property
    def srb(self) -> pd.DataFrame:
        return self._read("sexRatio1dt.csv")

    @cached_property
    def migration1(self) -> pd.DataFrame:
        return self._read("migprojAge1dt.csv.gz")

    @cached_property
    def migration5(self) -> pd.DataFrame:
        return self._read("migprojAge5dt.csv")

    def has(self, name: str) -> bool:
        """Whether the data folder holds the file ``name``."""
        return (self.dir / name).is_file()

    @cached_property
    def births(self) -> pd.DataFrame:
        """Births by calendar year (``misc1dt``, and ``miscproj1dt_devsubset`` where present;
        thousands), for comparisons only: the import never reads WPP's outputs."""
        frames = [self._read("misc1dt.csv")[["year", "births", "deaths"]]]
        if self.has("miscproj1dt_devsubset.csv"):
            frames.append(self._read("miscproj1dt_devsubset.csv")[["year", "births", "deaths"]])
        return pd.concat(frames).sort_index(kind="stable")

    @cached_property
    def migration_totals(self) -> pd.DataFrame:
        return pd.concat([self._read("mig1dt.csv"),
                          self._read("migproj1dt.csv")[["year", "mig"]]]).sort_index(
            kind="stable")

    def country_codes(self) -> list[int]:
        """Countries and areas (location_type 4) with a 2020 population estimate."""
        countries = self.locations[self.locations["location_type"] == 4].index
        pop = self.population5
        with_2020 = pop[pop["year"] == 2020].index.unique()
        return sorted(int(c) for c in countries if c in with_2020)

    def name(self, country: int) -> str:
        if country in self.locations.index:
            return str(self.locations.loc[country, "name"])
        return str(country)


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
    periods = np.unique(rows["period_start"])
    abridged = np.stack([np.stack([rows.loc[rows["period_start"] == p, f"mx{s}"].to_numpy(float)
                                   for s in SEX_SUFFIX]) for p in periods])  # (period, sex, age)
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


def _migration_single_years(data: WPPData, country: int) -> tuple[np.ndarray, np.ndarray]:
    """Calendar years and net migrants (year, age 0..100, sex), persons, from 2023."""
    rows = data.rows(data.migration1, "migprojAge1dt.csv.gz", country)
    rows = rows.assign(age=np.minimum(rows["age"].astype(int), MAX_AGE))
    grouped = rows.groupby(["year", "age"])[["migM", "migF"]].sum()
    single_years = np.unique(grouped.index.get_level_values("year")).astype(int)
    full = pd.MultiIndex.from_product([single_years, range(MAX_AGE + 1)])
    by_age = grouped.reindex(full, fill_value=0.0).to_numpy().reshape(
        len(single_years), MAX_AGE + 1, 2) * 1000.0
    return single_years, by_age


def _period_groups(data: WPPData, country: int, period: str) -> np.ndarray | None:
    """Net migrants of a 5-year period (group 0-4..95-99, 100+; sex), persons, or None."""
    if not data.has("migprojAge5dt.csv"):
        return None
    rows = data.rows(data.migration5, "migprojAge5dt.csv", country)
    rows = rows[rows["period"] == period]
    if rows.empty:
        return None
    rows = rows.assign(start=rows["age"].map(_group_start)).sort_values("start")
    return rows[["migM", "migF"]].to_numpy(float) * 1000.0


def split_groups(groups: np.ndarray) -> np.ndarray:
    """Single ages 0..100 (leading axis; any trailing axes) from net flows by 5-year group
    0-4, ..., 95-99 and the open group 100+, by :func:`graduate_net_flows`."""
    bounds = np.arange(0, MAX_AGE + 1, 5)
    closed = np.apply_along_axis(lambda g: graduate_net_flows(bounds, g), 0, groups[:-1])
    return np.concatenate([closed, groups[-1:]])


def spread_totals(totals: ArrayLike, pattern: np.ndarray) -> np.ndarray:
    """Flows by age and sex for each of several years, with the given annual totals.

    ``totals`` (year,) persons; ``pattern`` (age, sex) persons. Each year gets ``pattern``
    plus the difference between its total and the pattern's, spread in proportion to
    ``|pattern|`` (evenly if the pattern is zero): a difference of either sign moves the
    ages where migration is large, and no year's total depends on a division by a
    pattern total that may be near zero. Returns (year, age, sex).
    """
    totals = np.asarray(totals, dtype=float)
    absolute = np.abs(pattern)
    size = absolute.sum()
    share = absolute / size if size > 0 else np.full(pattern.shape, 1.0 / pattern.size)
    return pattern + (totals - pattern.sum())[:, None, None] * share


def scale_totals(totals: ArrayLike, pattern: np.ndarray) -> np.ndarray:
    """The alternative to :func:`spread_totals`: each year ``pattern`` scaled to its total.

    Keeps the same cumulative flow by age when the pattern's total is not near zero, but
    turns a year of net emigration into the mirror image of a pattern of net immigration
    (and back). Not used by the import; :mod:`spfsim.demography.validation` uses it to
    show how much the unpublished split of 2020-2022 by year moves a projection.
    """
    totals = np.asarray(totals, dtype=float)
    size = pattern.sum()
    if abs(size) <= 1e-9 * max(np.abs(pattern).sum(), 1.0):
        return spread_totals(totals, pattern)
    return pattern * (totals / size)[:, None, None]


SplitRule = Callable[[ArrayLike, np.ndarray], np.ndarray]


def period_weights(period_start: int, years: np.ndarray) -> np.ndarray:
    """Weights of calendar years in a 5-year period from 1 July ``period_start`` to 1 July
    ``period_start + 5``: half for the first and last calendar years, one between."""
    years = np.asarray(years)
    return np.where((years == period_start) | (years == period_start + 5), 0.5, 1.0)


def early_period_groups(data: WPPData, country: int) -> np.ndarray | None:
    """Net migrants of the calendar years before single ages (2020-2022) by 5-year group
    (0-4, ..., 95-99, 100+) and sex, persons, weighted as in the period 2020-2025
    (1/2 M(2020) + M(2021) + M(2022)): the period's flows by group less its part published
    by single age. None if the data hold no such period.
    """
    single_years, by_age = _migration_single_years(data, country)
    first = int(single_years[0])
    groups = _period_groups(data, country, f"{PERIOD_START}-{PERIOD_START + 5}")
    if groups is None or not PERIOD_START < first <= PERIOD_START + 5:
        return None
    known_years = np.arange(first, PERIOD_START + 6)
    known = np.tensordot(period_weights(PERIOD_START, known_years),
                         by_age[known_years - first], axes=1)
    return groups - np.concatenate([known[:MAX_AGE].reshape(-1, 5, 2).sum(axis=1),
                                    known[MAX_AGE:]])


def _migration_calendar(data: WPPData, country: int, first_year: int,
                        split: SplitRule = spread_totals) -> tuple[np.ndarray, np.ndarray]:
    """Net migrants (calendar year, age 0..100, sex), persons, by age during the year.

    From 2023, ``migprojAge1dt`` (single ages). For 2020-2022, WPP publishes net migration
    by 5-year group and sex for the period 1 July 2020 - 1 July 2025 (``migprojAge5dt``):
    the calendar years 2020-2025 weighted 1/2, 1, 1, 1, 1, 1/2 (checked: the 2025-2030
    period is the single-age flows so weighted, to the file's rounding). Less the
    single-age flows of 2023-2025, that leaves C = 1/2 M(2020) + M(2021) + M(2022) by group
    and sex, graduated to single ages (:func:`graduate_net_flows`). Each of the three years
    gets C / 2.5 adjusted to its published total (``mig1dt``) by :func:`spread_totals`, so
    that the weighted sum is C again by age and sex. Years before 2020 (a base year before
    2020) take the same pattern adjusted to their totals: WPP publishes no age pattern
    for them here.
    """
    single_years, by_age = _migration_single_years(data, country)
    first = int(single_years[0])
    if first_year >= first:
        return single_years, by_age
    totals = data.rows(data.migration_totals, "mig1dt.csv", country).set_index("year")["mig"]
    earlier = np.arange(min(first_year, PERIOD_START), first)
    residual = early_period_groups(data, country)
    if residual is not None:
        unknown_years = np.arange(PERIOD_START, first)
        pattern = split_groups(residual) / period_weights(PERIOD_START, unknown_years).sum()
    else:  # no period by age covers the years before single ages: the first one's pattern
        pattern = by_age[0]
    extra = split([float(totals.loc[y]) * 1000.0 for y in earlier], pattern)
    return np.concatenate([earlier, single_years]), np.concatenate([extra, by_age])


def _migration(data: WPPData, country: int, years: np.ndarray,
               split: SplitRule = spread_totals) -> np.ndarray:
    """Net migrants (step, age at its end, sex), persons, for the steps from ``years``."""
    calendar, values = _migration_calendar(data, country, int(years[0]), split)
    return _calendar_to_steps(values, calendar, years)


def from_wpp(data_dir: str | Path | WPPData, country: int, base_year: int = 2020,
             end_year: int = 2100) -> WPPDemography:
    """Demographic assumptions for ``country`` (UN M49 code) from WPP 2024.

    ``base_year`` must be a year with population by age in the data (1950, 1955, ...,
    2020 for every country; 2025, ..., 2100 for the development subset).
    """
    data = data_dir if isinstance(data_dir, WPPData) else WPPData(data_dir)
    if end_year <= base_year:
        raise ValueError("end_year must be after base_year")
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
