"""Net migration by single age and sex from WPP 2024, including the years before WPP
publishes single ages (see :func:`_migration_calendar`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .graduation import MAX_AGE, graduate_net_flows
from .wpp_files import PERIOD_START, WPPData, _group_start


def _migration_single_years(data: WPPData, country: int) -> tuple[np.ndarray, np.ndarray]:
    """Calendar years and net migrants (year, age 0..100, sex), persons, from 2023."""
    rows = data.rows(data.migration1, "migprojAge1dt.csv.gz", country)
    years = rows["year"].to_numpy().astype(int)
    ages = np.minimum(rows["age"].to_numpy().astype(int), MAX_AGE)
    single_years = np.unique(years)
    by_age = np.zeros((len(single_years), MAX_AGE + 1, 2))
    # summed in the file's order where ages above MAX_AGE meet; a cell without a row is 0
    np.add.at(by_age, (np.searchsorted(single_years, years), ages),
              rows[["migM", "migF"]].to_numpy(float))
    return single_years, by_age * 1000.0


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


def early_period_groups(data: WPPData, country: int,
                        single: tuple[np.ndarray, np.ndarray] | None = None
                        ) -> np.ndarray | None:
    """Net migrants of the calendar years before single ages (2020-2022) by 5-year group
    (0-4, ..., 95-99, 100+) and sex, persons, weighted as in the period 2020-2025
    (1/2 M(2020) + M(2021) + M(2022)): the period's flows by group less its part published
    by single age. None if the data hold no such period. ``single``: the country's
    flows by single age (:func:`_migration_single_years`) when the caller has them.
    """
    single_years, by_age = single or _migration_single_years(data, country)
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
    residual = early_period_groups(data, country, (single_years, by_age))
    if residual is not None:
        unknown_years = np.arange(PERIOD_START, first)
        pattern = split_groups(residual) / period_weights(PERIOD_START, unknown_years).sum()
    else:  # no period by age covers the years before single ages: the first one's pattern
        pattern = by_age[0]
    extra = split([float(totals.loc[y]) * 1000.0 for y in earlier], pattern)
    return np.concatenate([earlier, single_years]), np.concatenate([extra, by_age])
