"""Cohort returns on a pay-as-you-go scheme: internal rate of return, money's worth ratio and
net transfer, from expected cash flows by calendar year and birth cohort.

Conventions (shared by every function here):

* ``years``: consecutive calendar years y0, y0 + 1, ..., y0 + T - 1 (integers).
* ``contributions`` and ``benefits``: arrays whose **first axis is the year** (length T);
  the remaining axes are free, typically ``[year, cohort, sex]``. Values are the cohort's
  *expected* cash flows in the year (currency per year: the sum over the survivors of the
  cohort, or per member of the original cohort — any scale, as long as contributions and
  benefits share it). Contributions are entered as positive amounts.
* Cash flows are paid at mid-year: the flow of year y falls at time y + 1/2.
* Results have the trailing shape (e.g. ``[cohort, sex]``).

Truncated cohorts. Every measure sees only the years in ``years``. A cohort alive at the
start of the window has paid contributions before it (unknown here); a cohort still alive
at its end will receive benefits after it. Their measures are biased — IRRs upward for the
first, downward (or NaN) for the second. Select complete cohorts with
:func:`complete_cohorts` and pass the mask as ``where``.

References: Samuelson (1958) and Aaron (1966) for the PAYG return (1 + n)(1 + g) - 1 in a
stable population; see docs/equity.md.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numba as nb
import numpy as np
from numpy.typing import ArrayLike

from ..economy.discount import discount_at, per_year_rates, present_value
from ..economy.discount import mid_year_factors as discount_factors

__all__ = [
    "by_cohort",
    "cohort_irr",
    "complete_cohorts",
    "discount_factors",
    "money_worth_ratio",
    "net_transfer_pv",
]

Discount = float | ArrayLike

#: Default search interval for the IRR (annual effective rates).
IRR_BRACKET: tuple[float, float] = (-0.99, 1.0)


# --------------------------------------------------------------------------- validation


def _years(years: ArrayLike) -> np.ndarray:
    y = np.asarray(years)
    if y.ndim != 1 or y.size == 0:
        raise ValueError("years must be a non-empty 1-D array of calendar years")
    if not np.all(np.asarray(y, dtype=float) == np.round(np.asarray(y, dtype=float))):
        raise ValueError("years must be whole calendar years")
    y = y.astype(np.int64)
    if y.size > 1 and np.any(np.diff(y) != 1):
        raise ValueError("years must be consecutive (y0, y0 + 1, ...)")
    return y


def _flows(years: np.ndarray, contributions: ArrayLike,
           benefits: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(contributions, dtype=float)
    b = np.asarray(benefits, dtype=float)
    if c.ndim == 0 or b.ndim == 0:
        raise ValueError("contributions and benefits need a first (year) axis")
    c, b = np.broadcast_arrays(c, b)
    if c.shape[0] != years.size:
        raise ValueError(f"the first axis of contributions/benefits has length {c.shape[0]}, "
                         f"years has {years.size}")
    return c, b


def where_mask(where: ArrayLike, shape: tuple[int, ...]) -> np.ndarray:
    """A boolean mask over the trailing axes of the flows (e.g. ``[cohort]`` or ``[cohort,
    sex]``), aligned with the first of them and broadcast to ``shape``."""
    mask = np.asarray(where, dtype=bool)
    return np.broadcast_to(mask.reshape(mask.shape + (1,) * (len(shape) - mask.ndim)), shape)


def _apply_where(out: np.ndarray, where: ArrayLike | None) -> float | np.ndarray:
    if where is not None:
        out = np.where(where_mask(where, out.shape), out, np.nan)
    return float(out) if out.ndim == 0 else out


# --------------------------------------------------------------------------- cohorts


def by_cohort(years: ArrayLike, ages: ArrayLike, values: ArrayLike,
              last_cohort: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Re-index an array by ``[year, age, ...]`` into ``[year, cohort, ...]``.

    ``ages``: consecutive integer ages of the second axis. Cohorts (birth years) run from
    ``years[0] - ages[-1]`` to ``years[-1] - ages[0]``, or to ``last_cohort`` when given
    (the later ones left out); ``out[t, k] = values[t, a]`` with ``a = years[t] -
    cohorts[k]`` where that age is in ``ages``, and 0 where it is not (the cohort is
    outside the age range, or outside the projection, that year). Returns ``(cohorts,
    out)``, ``out`` C-contiguous; units are those of ``values``.
    """
    y = _years(years)
    a = _years(ages)  # same checks: consecutive integers
    v = np.asarray(values)
    if v.ndim < 2 or v.shape[0] != y.size or v.shape[1] != a.size:
        raise ValueError(f"values must be [year, age, ...] of shape ({y.size}, {a.size}, ...), "
                         f"got {v.shape}")
    last = y[-1] - a[0] if last_cohort is None else min(int(last_cohort), y[-1] - a[0])
    cohorts = np.arange(y[0] - a[-1], max(last + 1, y[0] - a[-1]))
    out = np.zeros((y.size, cohorts.size, *v.shape[2:]), dtype=v.dtype)
    if nb.config.DISABLE_JIT or v.dtype != np.float64:
        _skew_arrays(v, out)
    else:  # one compiled pass (the strided copy below walks both arrays out of order)
        flat = np.ascontiguousarray(v).reshape(y.size, a.size, -1)
        _skew(flat, out.reshape(y.size, cohorts.size, -1))
    return cohorts, out


@nb.njit(cache=True)
def _skew(values, out):
    """``out[t, t + A - 1 - a] = values[t, a]`` (A ages) for every column within ``out``:
    year t's ages, oldest first, are the cohorts from the t-th on."""
    n_years, n_ages, n_rest = values.shape
    n_cohorts = out.shape[1]
    for t in range(n_years):
        for a in range(n_ages):
            k = t + n_ages - 1 - a
            if k < n_cohorts:
                for r in range(n_rest):
                    out[t, k, r] = values[t, a, r]


def _skew_arrays(values: np.ndarray, out: np.ndarray) -> None:
    """:func:`_skew` in NumPy (Numba's JIT off): a view of ``out`` whose row t starts at
    its column t takes every year's ages reversed (no two cells of the view share memory),
    those beyond ``out``'s last column left out."""
    n_years, n_ages = values.shape[:2]
    wide = np.zeros((n_years, n_years + n_ages - 1, *values.shape[2:]), dtype=out.dtype)
    skewed = np.lib.stride_tricks.as_strided(
        wide, shape=values.shape,
        strides=(wide.strides[0] + wide.strides[1], *wide.strides[1:]), writeable=True)
    skewed[...] = values[:, ::-1]
    out[...] = wide[:, :out.shape[1]]


def complete_cohorts(years: ArrayLike, cohorts: ArrayLike, first_age: int,
                     last_age: int) -> np.ndarray:
    """Boolean mask over ``cohorts`` (birth years): True where the cohort's whole
    contributory and benefit life, ages ``first_age`` to ``last_age`` inclusive, lies in
    ``years``, i.e. ``cohort + first_age >= years[0]`` and ``cohort + last_age <= years[-1]``.

    ``first_age``: the youngest age with any cash flow (e.g. the minimum contributory age);
    ``last_age``: the oldest age with a material benefit (e.g. the life table's omega).
    """
    y = _years(years)
    c = np.asarray(cohorts)
    return (c + first_age >= y[0]) & (c + last_age <= y[-1])


def money_worth_ratio(years: ArrayLike, contributions: ArrayLike, benefits: ArrayLike,
                      discount: Discount, *, where: ArrayLike | None = None
                      ) -> float | np.ndarray:
    """Money's worth ratio PV(benefits) / PV(contributions), dimensionless.

    Both present values are taken at 1 January of ``years[0]`` at the ``discount`` rate(s)
    (see :func:`discount_factors`; the valuation date cancels in the ratio). > 1: the
    cohort receives more than it pays at that rate. NaN where PV(contributions) = 0 (or is
    so small against the benefits that the ratio overflows, as for a cohort of almost no
    persons), and where ``where`` (a mask over the trailing axes, e.g. from
    :func:`complete_cohorts`, aligned with the leading trailing axis) is False. At the
    discount rate equal to the cohort's IRR the ratio is 1.
    """
    y = _years(years)
    c, b = _flows(y, contributions, benefits)
    rates = per_year_rates(y.size, discount)
    return _apply_where(worth_ratio(present_value(b, rates), present_value(c, rates)), where)


def worth_ratio(pv_benefits: ArrayLike, pv_contributions: ArrayLike) -> np.ndarray:
    """PV(benefits) / PV(contributions) of :func:`money_worth_ratio` from the two present
    values: NaN where PV(contributions) is 0 or the ratio overflows."""
    pv_b, pv_c = np.asarray(pv_benefits, dtype=float), np.asarray(pv_contributions,
                                                                   dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = pv_b / np.where(pv_c != 0.0, pv_c, 1.0)
    return np.asarray(np.where((pv_c != 0.0) & np.isfinite(ratio), ratio, np.nan))


def net_transfer_pv(years: ArrayLike, contributions: ArrayLike, benefits: ArrayLike,
                    discount: Discount, *,
                    at: Literal["first_year", "birth"] | float = "first_year",
                    cohorts: ArrayLike | None = None, where: ArrayLike | None = None
                    ) -> float | np.ndarray:
    """Net transfer PV(benefits) - PV(contributions), in the currency units of the flows.

    Valuation date ``at``:

    * ``"first_year"`` (default): 1 January of ``years[0]`` — one date for all cohorts,
      so that net transfers add up across cohorts;
    * ``"birth"``: 1 January of each cohort's birth year (needs ``cohorts``, the birth
      years along the first trailing axis, i.e. axis 1 of the flows); before ``years[0]``
      the first discount rate applies, after the last year the last one;
    * a number: that calendar time (y = 1 January of year y).

    Positive: the cohort receives more than it pays, in present value at ``discount``.
    ``where`` as in :func:`money_worth_ratio`.
    """
    y = _years(years)
    c, b = _flows(y, contributions, benefits)
    rates = per_year_rates(y.size, discount)
    pv = np.asarray(present_value(b - c, rates))  # at 1 January of years[0]
    if at == "first_year":
        out = pv
    elif at == "birth":
        if cohorts is None:
            raise ValueError('at="birth" needs the cohorts (birth years)')
        births = np.asarray(cohorts, dtype=float)
        if births.ndim > 1 or (births.ndim == 1 and (pv.ndim == 0 or
                                                      births.size != pv.shape[0])):
            raise ValueError("cohorts must give one birth year per entry of the flows' "
                             "axis 1")
        births = births.reshape(births.shape + (1,) * (pv.ndim - births.ndim))
        out = pv / discount_at(rates, births - y[0])
    elif isinstance(at, int | float | np.number) and not isinstance(at, bool):
        out = pv / discount_at(rates, float(at) - y[0])
    else:
        raise ValueError(f'at must be "first_year", "birth" or a calendar time, not {at!r}')
    return _apply_where(np.asarray(out, dtype=float), where)


# --------------------------------------------------------------------------- IRR


def _irr_one(times: np.ndarray, net: np.ndarray, grid: np.ndarray,
             on_multiple: str) -> float:
    """IRR of one stream of net flows ``net`` at ``times`` (years) by scan and Brent."""
    from scipy.optimize import brentq

    if not np.all(np.isfinite(net)):
        return np.nan
    active = net != 0.0
    if not active.any():
        return np.nan
    t = times[active]
    f = net[active]
    if np.all(f > 0) or np.all(f < 0):
        return np.nan
    # centre the time origin on the stream and rescale each evaluation by its largest
    # exponent: the sign (and the roots) of the NPV are unchanged, overflow is avoided
    t = t - 0.5 * (t[0] + t[-1])
    scale = np.abs(f).max()
    f = f / scale

    def npv(force: np.ndarray | float) -> np.ndarray:
        e = -np.multiply.outer(np.atleast_1d(force), t)
        e -= e.max(axis=-1, keepdims=True)
        return np.exp(e) @ f

    forces = np.log1p(grid)
    values = npv(forces)
    sign = np.sign(values)
    roots: list[float] = [float(forces[i]) for i in np.flatnonzero(sign == 0)]
    nz = np.flatnonzero(sign != 0)
    changes = nz[:-1][sign[nz[:-1]] != sign[nz[1:]]]
    nxt = nz[1:][sign[nz[:-1]] != sign[nz[1:]]]
    for i, j in zip(changes, nxt, strict=True):
        if j == i + 1:
            roots.append(brentq(lambda d: float(npv(d)[0]), forces[i], forces[j],
                                xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=200))
    roots = sorted(set(roots))
    if not roots:
        return np.nan
    if len(roots) > 1:
        if on_multiple == "nan":
            return np.nan
        root = roots[0] if on_multiple == "lowest" else roots[-1]
    else:
        root = roots[0]
    return float(np.expm1(root))


def _sign_changes(net: np.ndarray) -> np.ndarray:
    """How often each stream (column of ``net``, years down) changes sign over its
    non-zero flows: by Descartes' rule of signs in v = 1 / (1 + r), at least how many
    roots in r > -1 its net present value may have; one change, exactly one root."""
    if not nb.config.DISABLE_JIT:
        out = np.empty(net.shape[1], dtype=np.int64)
        _sign_change_counts(np.asfortranarray(net, dtype=np.float64), out)
        return out
    return _sign_changes_arrays(net)


def _sign_changes_arrays(net: np.ndarray) -> np.ndarray:
    """:func:`_sign_changes` in NumPy (the path with Numba's JIT off)."""
    sign = np.sign(net)
    rows = np.arange(len(net))[:, None]
    last = np.maximum.accumulate(np.where(sign != 0, rows, -1), axis=0)  # last non-zero
    before = np.where(last[:-1] >= 0, np.take_along_axis(sign, np.maximum(last[:-1], 0),
                                                         axis=0), 0.0)
    return ((sign[1:] != 0) & (before != 0) & (sign[1:] != before)).sum(axis=0)


@nb.njit(cache=True)
def _sign_change_counts(net, out):
    """:func:`_sign_changes` into ``out``, stream by stream (a NaN counts as a sign of
    its own, as there)."""
    for j in range(net.shape[1]):
        count, before = 0, 0.0
        for i in range(net.shape[0]):
            sign = np.sign(net[i, j])
            if sign != 0:
                if before != 0 and sign != before:
                    count += 1
                before = sign
        out[j] = count


def _bracketed_roots(times: np.ndarray, net: np.ndarray, low, high,
                     max_iterations: int = 100) -> np.ndarray:
    """Root in force of interest of each stream (columns of ``net`` at ``times``, years)
    within its bracket [``low``, ``high``] (numbers or one per stream) where the net
    present value changes sign across it (NaN elsewhere): Newton's method, kept in a
    shrinking bracket by bisection, to the last bits of the force. A Newton step that
    leaves the bracket, or is longer than half the step before it, gives way to a
    bisection (Numerical Recipes' rtsafe): far from a root, where the value is nearly
    linear and its slope small, Newton's steps crawl (40-100 iterations for old cohorts'
    streams, against 4-5 near a root).

    One compiled loop solving the streams one after another (:func:`_stream_roots`);
    with Numba's JIT off, the same iteration on every stream at once in NumPy
    (:func:`_bracketed_roots_arrays`). They agree to rounding (tests/test_equity.py)."""
    if nb.config.DISABLE_JIT:
        return _bracketed_roots_arrays(times, net, low, high, max_iterations)
    lo = np.broadcast_to(np.asarray(low, dtype=float), net.shape[1:])
    hi = np.broadcast_to(np.asarray(high, dtype=float), net.shape[1:])
    out = np.empty(net.shape[1])
    _stream_roots(np.ascontiguousarray(times, dtype=np.float64),
                  np.asfortranarray(net, dtype=np.float64), np.ascontiguousarray(lo),
                  np.ascontiguousarray(hi), max_iterations, out)
    return out


@nb.njit(cache=True)
def _stream_roots(times, net, low, high, max_iterations, out):
    """:func:`_bracketed_roots` into ``out``, stream (column of ``net``) by stream."""
    eps4 = 4 * np.finfo(np.float64).eps
    for j in range(net.shape[1]):
        flows = net[:, j]
        first, last, largest = -1, -1, 0.0
        for i in range(len(flows)):
            if flows[i] != 0.0:
                if first < 0:
                    first = i
                last = i
                largest = max(largest, abs(flows[i]))
        if first < 0:  # no flows: no root
            out[j] = np.nan
            continue
        # the time origin centred, the flows scaled, as _irr_one does
        origin = 0.5 * (times[first] + times[last])
        lo, hi = low[j], high[j]
        at_lo = np.sign(_npv(times, flows, origin, largest, first, last, lo)[0])
        at_hi = np.sign(_npv(times, flows, origin, largest, first, last, hi)[0])
        if at_lo == 0:
            out[j] = lo
            continue
        if at_hi == 0:
            out[j] = hi
            continue
        if not at_lo * at_hi < 0:
            out[j] = np.nan
            continue
        x, moved = 0.5 * (lo + hi), hi - lo
        for _ in range(max_iterations):
            value, slope = _npv(times, flows, origin, largest, first, last, x)
            if np.sign(value) == at_lo:
                lo = x
            else:
                hi = x
            step = x - value / slope if slope != 0.0 else np.nan
            newton = (np.isfinite(step) and lo <= step <= hi
                      and abs(step - x) <= 0.5 * abs(moved))
            # a Newton step within rounding of the force ends the search, a zero too
            ends = value == 0 or (newton and abs(step - x) <= eps4 * max(abs(x), 1.0))
            if value != 0:
                following = step if newton else 0.5 * (lo + hi)
                x, moved = following, following - x
            if ends:
                break
        out[j] = x


@nb.njit(cache=True)
def _npv(times, flows, origin, largest, first, last, force):
    """Net present value of ``flows`` (scaled by ``largest``, times from ``origin``) at
    ``force`` and its derivative, each term rescaled by the largest exponent."""
    # the exponent is linear in the time: its largest over the flows is at the first or
    # the last (both flows)
    top = max(-force * (times[first] - origin), -force * (times[last] - origin))
    value = slope = 0.0
    for i in range(first, last + 1):
        if flows[i] != 0.0:
            t = times[i] - origin
            weighted = np.exp(-force * t - top) * (flows[i] / largest)
            value += weighted
            slope -= weighted * t
    return value, slope


def _bracketed_roots_arrays(times: np.ndarray, net: np.ndarray, low, high,
                            max_iterations: int = 100) -> np.ndarray:
    """:func:`_bracketed_roots` on every stream at once in NumPy."""
    active = net != 0.0
    first, last = active.argmax(axis=0), len(net) - 1 - active[::-1].argmax(axis=0)
    # centre each stream's time origin and rescale each evaluation by its largest
    # exponent, as _irr_one does: the signs and roots are unchanged, overflow is avoided
    t = times[:, None] - 0.5 * (times[first] + times[last])
    f = net / np.abs(net).max(axis=0, initial=0.0)

    def npv(force: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scaled net present value at ``force`` and its derivative (same scale)."""
        e = np.where(active, -force * t, -np.inf)
        weighted = np.exp(e - e.max(axis=0, initial=-np.inf)) * f
        return weighted.sum(axis=0), -(weighted * t).sum(axis=0)

    lo = np.broadcast_to(np.asarray(low, dtype=float), net.shape[1:]).copy()
    hi = np.broadcast_to(np.asarray(high, dtype=float), net.shape[1:]).copy()
    at_lo, at_hi = np.sign(npv(lo)[0]), np.sign(npv(hi)[0])
    out = np.where(at_lo == 0, lo, np.where(at_hi == 0, hi, np.nan))
    solve = at_lo * at_hi < 0
    lo, hi, at_lo = lo[solve], hi[solve], at_lo[solve]
    t, f, active = t[:, solve], f[:, solve], active[:, solve]
    x, moved = 0.5 * (lo + hi), hi - lo
    roots = np.full(x.shape, np.nan)
    left = np.arange(x.size)  # the streams still searched, by their place in ``roots``
    for _ in range(max_iterations):
        value, slope = npv(x)
        below = np.sign(value) == at_lo
        lo, hi = np.where(below, x, lo), np.where(below, hi, x)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = x - value / slope
        newton = (np.isfinite(step) & (step >= lo) & (step <= hi)
                  & (np.abs(step - x) <= 0.5 * np.abs(moved)))
        # a Newton step within rounding of the force ends the search, a zero too
        tiny = 4 * np.finfo(float).eps * np.maximum(np.abs(x), 1.0)
        ends = (value == 0) | (newton & (np.abs(step - x) <= tiny))
        following = np.where(value == 0, x, np.where(newton, step, 0.5 * (lo + hi)))
        moved = np.where(value == 0, moved, following - x)
        x = following
        roots[left[ends]] = x[ends]
        if ends.all():
            break
        # the settled streams leave the search: the last iterations, often bisections
        # towards a root near an end of the bracket, run on a few streams, not on all
        going = ~ends
        left, x, lo, hi, at_lo = left[going], x[going], lo[going], hi[going], at_lo[going]
        moved = moved[going]
        t, f, active = t[:, going], f[:, going], active[:, going]
    else:
        roots[left] = x  # the iterations ran out: the last estimates
    out[solve] = roots
    return out


def _scanned_roots(times: np.ndarray, net: np.ndarray, forces: np.ndarray,
                   on_multiple: str) -> np.ndarray | None:
    """Root in force of interest of streams that may have several (columns of ``net``):
    the signs of every stream's net present value at the scan's ``forces``, from one
    matrix product, and each sign change between neighbours refined
    (:func:`_bracketed_roots`); the one ``on_multiple`` picks, as :func:`_irr_one` does.
    None where the forces and times are so far apart that the product would overflow."""
    t = times - 0.5 * (times[0] + times[-1])
    if np.abs(forces).max() * np.abs(t).max() > 600.0:
        return None
    if net.shape[1] == 0:
        return np.empty(0)
    value = _discounts(forces.tobytes(), t.tobytes()) @ (net / np.abs(net).max(axis=0))
    at_zero, zero_of, before, change_of = _grid_signs(value)
    roots = np.concatenate([forces[at_zero], _bracketed_roots(
        times, net[:, change_of], forces[before], forces[before + 1])])
    of = np.concatenate([zero_of, change_of])
    found = np.isfinite(roots)
    roots, of = roots[found], of[found]
    count = np.bincount(of, minlength=net.shape[1])
    out = np.full(net.shape[1], np.inf if on_multiple != "highest" else -np.inf)
    (np.maximum if on_multiple == "highest" else np.minimum).at(out, of, roots)
    return np.where((count == 1) | ((count > 1) & (on_multiple != "nan")), out, np.nan)


def _grid_signs(value: np.ndarray) -> tuple[np.ndarray, ...]:
    """The scan's (force, stream) net present values ``value``: (force, stream) of the
    zeros, and of each sign change, the force before it; a change is a positive value
    next to a negative one (a NaN is neither). The pairs of each kind in np.nonzero's
    order (force, then stream); with Numba's JIT on in one pass over the values,
    against NumPy's five."""
    if nb.config.DISABLE_JIT:
        above, below = value > 0, value < 0
        at_zero, zero_of = np.nonzero(value == 0)
        before, change_of = np.nonzero((above[:-1] & below[1:]) | (below[:-1] & above[1:]))
        return at_zero, zero_of, before, change_of
    pairs = np.empty((4, value.size), dtype=np.int64)
    zeros, changes = _grid_sign_pairs(value, pairs)
    return pairs[0, :zeros], pairs[1, :zeros], pairs[2, :changes], pairs[3, :changes]


@nb.njit(cache=True)
def _grid_sign_pairs(value, pairs):
    """:func:`_grid_signs` into ``pairs`` (zero's force, its stream, change's force
    before, its stream); returns how many zeros and changes."""
    zeros = changes = 0
    n_forces, n_streams = value.shape
    for i in range(n_forces):
        for j in range(n_streams):
            v = value[i, j]
            if v == 0.0:
                pairs[0, zeros], pairs[1, zeros] = i, j
                zeros += 1
            if i + 1 < n_forces:
                w = value[i + 1, j]
                if (v > 0.0 and w < 0.0) or (v < 0.0 and w > 0.0):
                    pairs[2, changes], pairs[3, changes] = i, j
                    changes += 1
    return zeros, changes


@lru_cache(maxsize=4)
def _discounts(forces: bytes, times: bytes) -> np.ndarray:
    """(force, time) the discount factors exp(-force x time) of the scan (float64 arrays
    as bytes, so that the matrix is computed once for the many calls of a projection and
    of the next: every cohort and scheme shares the grid and the years)."""
    out = np.exp(-np.multiply.outer(np.frombuffer(forces), np.frombuffer(times)))
    out.flags.writeable = False
    return out


def cohort_irr(years: ArrayLike, contributions: ArrayLike, benefits: ArrayLike, *,
               where: ArrayLike | None = None,
               bracket: tuple[float, float] = IRR_BRACKET, grid_points: int = 2001,
               on_multiple: Literal["nan", "lowest", "highest"] = "nan"
               ) -> float | np.ndarray:
    """Internal rate of return of each stream (e.g. each cohort and sex), annual effective.

    The rate r solving sum_t (B_t - C_t) (1 + r)^-(t - t0) = 0 over the years given
    (mid-year timing; the time origin does not change r). Found by scanning ``grid_points``
    rates in ``bracket`` (evenly spaced in ln(1 + r)) for sign changes of the net present
    value and refining each by a bracketed Newton iteration (to the last bits of
    ln(1 + r)), every stream at once; a stream with one sign change needs only the
    bracket's ends.

    NaN where there is no root in ``bracket``: no contributions, no benefits, non-finite
    flows, or flows so truncated that benefits never catch up; and where ``where`` (mask
    over the trailing axes, aligned with the first of them) is False. Conventional streams
    (contributions first, benefits after: one sign change) have at most one root
    (Descartes' rule of signs in v = 1/(1 + r)); other streams may have several, and
    ``on_multiple`` says which to return ("nan", the default, "lowest" or "highest"). A root
    where the NPV touches zero without changing sign is not found.

    Caveat: cohorts truncated by the projection horizon (alive at its start with their
    earlier contributions unknown, or alive at its end) give biased IRRs; mask them with
    :func:`complete_cohorts`.
    """
    if on_multiple not in ("nan", "lowest", "highest"):
        raise ValueError(f"on_multiple must be 'nan', 'lowest' or 'highest', not "
                         f"{on_multiple!r}")
    lo, hi = (float(v) for v in bracket)
    if not -1.0 < lo < hi:
        raise ValueError("bracket must satisfy -1 < low < high")
    if grid_points < 2:
        raise ValueError("grid_points must be at least 2")
    y = _years(years)
    c, b = _flows(y, contributions, benefits)
    net = (b - c).reshape(y.size, -1)
    grid = np.expm1(np.linspace(np.log1p(lo), np.log1p(hi), int(grid_points)))
    times = (y - y[0]).astype(float) + 0.5
    wanted = np.ones(net.shape[1], dtype=bool) if where is None \
        else where_mask(where, c.shape[1:]).reshape(-1)
    out = np.full(net.shape[1], np.nan)  # force of interest, until the end
    # no sign change: no root; one: a single root, solved for every such stream at once
    # within the bracket; several: the scan finds them (NaN: not finite)
    changes = np.where(np.isfinite(net).all(axis=0), _sign_changes(net), 0)
    forces = np.log1p(grid)
    single = wanted & (changes == 1)
    out[single] = _bracketed_roots(times, net[:, single], forces[0], forces[-1])
    several = wanted & (changes > 1)
    scanned = _scanned_roots(times, net[:, several], forces, on_multiple)
    if scanned is None:  # one stream at a time, each in its own time frame
        scanned = np.log1p([_irr_one(times, net[:, j], grid, on_multiple)
                            for j in np.flatnonzero(several)])
    out[several] = scanned
    out = np.expm1(out)
    out = out.reshape(c.shape[1:])
    return float(out) if out.ndim == 0 else out
