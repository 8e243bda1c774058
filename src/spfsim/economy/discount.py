"""Discounting along an interest path: discount factors and present values.

One implementation for every layer that values cash flows: the financing methods and
sustainability measures (:mod:`spfsim.finance`), the cohort equity measures
(:mod:`spfsim.equity`) and the micro engine's lifetime amounts. ``interest`` is the nominal
annual effective rate of each projection year, ``i[t]`` (a fraction, > -1); year t runs
from time t to t + 1, time 0 being the start (1 January) of the first projection year.

Conventions: a flow paid evenly over a year is valued at mid-year, a reserve at the end of
the year, and interest compounds geometrically within a year::

    v(t)   = prod_{s < t} 1 / (1 + i[s])                  (start of year t, v(0) = 1)
    v(tau) = v(k) (1 + i[k])^-(tau - k),  k = floor(tau)   (within year k)

    end[t] = v(t + 1) = prod_{s <= t} 1 / (1 + i[s])       (end of year t)
    mid[t] = v(t + 1/2) = end[t-1] (1 + i[t])^(-1/2)       (mid-year of year t)

Before time 0 the first year's rate applies, after the last year the last one (so that a
cohort born before the projection, or paid after it, can be valued on the same path).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

__all__ = ["check_interest", "discount_at", "discount_factors", "mid_year_factors",
           "per_year_rates", "present_value"]

ArrayLike = np.ndarray | Sequence[float]
Timing = Literal["mid", "end"]


def check_interest(interest: ArrayLike | float, name: str = "interest") -> np.ndarray:
    """``interest`` as a one-dimensional, non-empty float array of finite rates > -1."""
    i = np.atleast_1d(np.array(interest, dtype=float))
    if i.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (one value per year), "
                         f"got shape {i.shape}")
    if i.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(i)) or np.any(i <= -1.0):
        raise ValueError(f"{name} must be finite and greater than -1 (a fraction per year)")
    return i


def discount_factors(interest: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Discount factors ``(end_of_year, mid_year)`` to the start of the first year, (year,).

    ``end_of_year[t] = prod_{s<=t} 1/(1+i[s])`` discounts a reserve held at the end of year
    t; ``mid_year[t] = end_of_year[t-1] (1+i[t])^(-1/2)`` discounts a flow paid evenly over
    year t (the :func:`~spfsim.finance.fund.roll_forward` convention).
    """
    i = check_interest(interest)
    end = 1.0 / np.cumprod(1.0 + i)
    mid = np.concatenate([[1.0], end[:-1]]) / np.sqrt(1.0 + i)
    return end, mid


def discount_at(interest: ArrayLike, times: ArrayLike | float) -> np.ndarray:
    """Discount factor v(tau) from time 0 (the start of the first year) to each time tau
    (years since then; may be negative or past the last year), shape of ``times``.

    Within year k, ``v(k) (1 + i[k])^-(tau - k)``; before time 0 the first rate applies,
    ``(1 + i[0])^-tau``, after the last year n the last one, ``v(n) (1 + i[n-1])^-(tau - n)``.
    """
    i = check_interest(interest)
    tau = np.asarray(times, dtype=float)
    end, _ = discount_factors(i)
    start = np.concatenate([[1.0], end])  # v(0) .. v(n)
    k = np.clip(np.floor(tau).astype(np.int64), 0, i.size - 1)
    inside = start[k] * (1.0 + i[k]) ** -(tau - k)
    before = (1.0 + i[0]) ** -tau
    after = start[-1] * (1.0 + i[-1]) ** -(tau - i.size)
    return np.where(tau < 0, before, np.where(tau > i.size, after, inside))


def mid_year_factors(years: ArrayLike, interest: ArrayLike | float, *,
                     at: float | None = None) -> np.ndarray:
    """Discount factor of each calendar year's mid-year cash flow to calendar time ``at``.

    ``years``: consecutive calendar years y0, y0 + 1, ...; ``interest``: an annual effective
    rate, or one rate per year (the rate of year k compounds over that calendar year; before
    the first year the first rate, after the last year the last rate). ``at``: a calendar
    time, 1 January of year y being y (default: ``years[0]``, the start of the first year).
    Returns v(years + 1/2) / v(at), (year,); with ``at`` None, the ``mid_year`` factors of
    :func:`discount_factors`.
    """
    y = np.asarray(years)
    rates = per_year_rates(y.size, interest)
    _, mid = discount_factors(rates)
    if at is None:
        return mid
    return mid / discount_at(rates, float(at) - float(y[0]))


def per_year_rates(n_years: int, interest: ArrayLike | float) -> np.ndarray:
    """One discount rate per year, (n_years,), from a single rate or one per year."""
    rates = np.atleast_1d(np.asarray(interest, dtype=float))
    if rates.ndim != 1 or rates.size not in (1, n_years):
        raise ValueError("the discount rate must be a number or one annual rate per year "
                         f"({n_years} values)")
    return np.broadcast_to(check_interest(rates, "discount rates"), (n_years,))


def present_value(flows: ArrayLike, interest: ArrayLike, timing: Timing = "mid"
                  ) -> float | np.ndarray:
    """Present value at the start of the first year of per-year ``flows`` (currency).

    ``flows``: one value per year along the first axis (further axes, e.g. cohort and sex,
    give one present value each); ``interest``: one rate per year. ``timing="mid"``: flows
    paid evenly over each year (contributions, benefits); ``timing="end"``: amounts at the
    end of each year (reserves). A float for one-dimensional flows.
    """
    if timing not in ("mid", "end"):
        raise ValueError(f"unknown timing {timing!r}: use 'mid' or 'end'")
    end, mid = discount_factors(interest)
    values = np.asarray(flows, dtype=float)
    if values.ndim == 0 or values.shape[0] != end.size:
        raise ValueError(f"flows need a first (year) axis of {end.size} years like interest, "
                         f"got shape {values.shape}")
    factors = mid if timing == "mid" else end
    # one product of the factors with every trailing column (BLAS, no temporary array)
    pv = (factors @ values.reshape(values.shape[0], -1)).reshape(values.shape[1:])
    return float(pv) if pv.ndim == 0 else pv
