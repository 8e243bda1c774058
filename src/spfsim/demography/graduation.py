"""Graduation of abridged (5-year) demographic data into single years of age.

- Counts (population, births by age group): a monotone (PCHIP) curve through the cumulative
  totals at the group boundaries is differenced at single ages. Group totals are kept
  exactly and, the cumulative being non-decreasing, no single age is negative; the curve
  is C1, so the single-age distribution has no jumps at group boundaries (the property
  Sprague/Beers multipliers aim at, without their negative values at sparse old ages).
- Rates (m(x)): log-linear interpolation between group mid-points, the usual choice for
  mortality because log m(x) is close to linear (Gompertz) over adult ages.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import PchipInterpolator

MAX_AGE = 100


def graduate_counts(bounds: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Spread group totals over single ages, keeping each group's total exactly.

    ``bounds`` are the group boundaries (len(totals) + 1 ages, increasing); the result has
    one value per single age from ``bounds[0]`` to ``bounds[-1] - 1``. Totals must be >= 0.
    """
    bounds = np.asarray(bounds, dtype=float)
    totals = np.asarray(totals, dtype=float)
    if (totals < 0).any():
        raise ValueError("group totals must be non-negative")
    cumulative = np.concatenate([[0.0], np.cumsum(totals)])
    with np.errstate(over="ignore", divide="ignore"):  # flat stretches: slopes of 0 are fine
        curve = PchipInterpolator(bounds, cumulative)
        singles = np.diff(curve(np.arange(bounds[0], bounds[-1] + 1)))
    singles = np.maximum(singles, 0.0)  # clears round-off of order 1e-17 only
    # restore each group's total exactly (the clipping above may move it by round-off)
    edges = (bounds - bounds[0]).astype(int)
    for k in range(len(totals)):
        part = singles[edges[k]:edges[k + 1]]
        if part.sum() > 0:
            part *= totals[k] / part.sum()
    return singles


def graduate_net_flows(bounds: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Spread group totals of a net flow (net migrants, of either sign) over single ages.

    As :func:`graduate_counts`, a PCHIP curve through the cumulative totals at the group
    boundaries is differenced at single ages, but nothing constrains the sign: net flows
    change sign over age (net immigration of young adults, net emigration later), and where
    the cumulative turns, PCHIP's zero slope puts a zero flow at that boundary. Each
    group's total is kept to rounding (the curve passes through the cumulative totals).
    """
    bounds = np.asarray(bounds, dtype=float)
    totals = np.asarray(totals, dtype=float)
    cumulative = np.concatenate([[0.0], np.cumsum(totals)])
    curve = PchipInterpolator(bounds, cumulative)
    return np.diff(curve(np.arange(bounds[0], bounds[-1] + 1)))


def graduate_population(groups: np.ndarray) -> np.ndarray:
    """Single ages 0..100 from 5-year groups 0-4, ..., 95-99 and the open group 100+."""
    groups = np.asarray(groups, dtype=float)
    if groups.shape[-1] != MAX_AGE // 5 + 1:
        raise ValueError(f"expected {MAX_AGE // 5 + 1} groups (0-4 ... 95-99, 100+)")
    bounds = np.arange(0, MAX_AGE + 1, 5)
    return np.append(graduate_counts(bounds, groups[:-1]), groups[-1])


def graduate_abridged_mx(abridged: np.ndarray, keep_group_rates: bool = False
                         ) -> np.ndarray:
    """Single-age m(x) per person-year, 0..100, from abridged rates (per person-year) at
    ages 0, 1, 5, 10, ..., 95, 100+.

    Age 0 and ages 1-4 take their group's rate. From age 5, log m is linear between the
    mid-points (x + 2.5) of the 5-year groups, evaluated at single-age mid-points (a + 0.5);
    ages below the first mid-point (5-6) take the 5-9 rate; ages beyond the last closed
    mid-point (98-99) continue the 90-94 to 95-99 slope (Gompertz extension); age 100 is
    the open group's rate.

    ``keep_group_rates``: then scale each group 5-9 ... 95-99 by :func:`keep_abridged_rates`
    so that its life-table rate is the abridged one. Passing the curve through the groups'
    rates at their mid-points overstates them: m rises about exponentially within a group,
    so the mean of the curve exceeds its mid-point value (by about 1 % at adult ages).
    """
    abridged = np.asarray(abridged, dtype=float)
    if (abridged <= 0).any():
        raise ValueError("abridged m(x) must be positive")
    if abridged.shape[-1] != len(_ABRIDGED_STARTS):
        raise ValueError("expected rates at ages 0, 1, 5, ..., 95, 100+")
    # log m at single ages 5..99 is a fixed linear map of the groups' log m (5-9..95-99)
    log_single = np.log(abridged[..., 2:-1]) @ _LOG_MX_MAP.T
    lead = abridged.shape[:-1]
    single = np.concatenate([abridged[..., :1], np.broadcast_to(abridged[..., 1:2], (*lead, 4)),
                             np.exp(log_single), abridged[..., -1:]], axis=-1)
    return keep_abridged_rates(single, abridged) if keep_group_rates else single


def _log_mx_map() -> np.ndarray:
    """(single ages 5..99, groups 5-9..95-99): the weights of :func:`graduate_abridged_mx`."""
    mids = np.arange(5, MAX_AGE, 5) + 2.5
    centres = np.arange(5, MAX_AGE) + 0.5
    out = np.empty((len(centres), len(mids)))
    for k in range(len(mids)):
        unit = np.eye(len(mids))[k]
        column = np.interp(centres, mids, unit)
        above = centres > mids[-1]
        slope = (unit[-1] - unit[-2]) / 5.0
        column[above] = unit[-1] + slope * (centres[above] - mids[-1])
        out[:, k] = column
    return out


_ABRIDGED_STARTS = (0, 1, *range(5, MAX_AGE + 1, 5))
_LOG_MX_MAP = _log_mx_map()


def group_life_table_rate(mx: np.ndarray) -> np.ndarray:
    """The life-table rate nDx / nLx (per person-year) of consecutive single ages (last
    axis), a(x) = 1/2 at each age: deaths over person-years of a cohort entering the first
    age, as an abridged life table computes its nMx from a complete one."""
    qx = mx / (1.0 + 0.5 * mx)
    lx = np.cumprod(np.concatenate([np.ones((*qx.shape[:-1], 1)), 1.0 - qx[..., :-1]],
                                   axis=-1), axis=-1)
    dx = lx * qx
    return dx.sum(axis=-1) / (lx - 0.5 * dx).sum(axis=-1)


def keep_abridged_rates(single: np.ndarray, abridged: np.ndarray,
                        tolerance: float = 1e-13) -> np.ndarray:
    """``single`` (m(x) per person-year, ages 0..100 on the last axis) with each group
    5-9 ... 95-99 scaled so that its :func:`group_life_table_rate` equals the group's
    abridged rate (``abridged``: ages 0, 1, 5, ..., 100+ on the last axis, per
    person-year). Ages 0, 1-4 and 100+ are left as they are (a flat rate over 1-4 already
    has its group's rate). The shape within each group is kept.
    """
    single = np.array(single, dtype=float)
    lead = single.shape[:-1]
    groups = single[..., 5:MAX_AGE].reshape(*lead, -1, 5)  # 5-9 ... 95-99
    target = np.asarray(abridged, dtype=float)[..., 2:-1]
    # a group's rate is nearly proportional to a common factor on its single-age rates
    # (exactly so as m -> 0), so the fixed point converges in about ten steps
    for _ in range(100):
        factor = target / group_life_table_rate(groups)
        groups *= factor[..., None]
        if np.max(np.abs(factor - 1.0)) < tolerance:
            break
    single[..., 5:MAX_AGE] = groups.reshape(*lead, -1)
    return single


def graduate_asfr(group_rates: np.ndarray, first_age: int = 15) -> np.ndarray:
    """Single-age ASFR from 5-year group rates (births per woman-year in each group).

    Births in a group (5 x rate) are spread over its single ages with
    :func:`graduate_counts`, so the total fertility rate (5 x sum of group rates) is kept
    exactly. Returns one rate per single age from ``first_age``.
    """
    group_rates = np.asarray(group_rates, dtype=float)
    bounds = first_age + 5 * np.arange(len(group_rates) + 1)
    return graduate_counts(bounds, 5.0 * group_rates)
