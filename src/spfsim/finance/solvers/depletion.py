"""The contribution rate that keeps the probability of depletion under a target, over the
draws of a stochastic projection (ILC 2021 para. 15(a): financing sustainable with a stated
degree of confidence).

In each draw the reserve is affine in a contribution rate r applied from ``from_year``:
F(t; r) = base(t) + r unit(t) (both from :func:`~spfsim.finance.methods.project_with_rate`),
so the draw keeps its reserve at or above zero up to ``by_year`` exactly when r is at least
r_d = max_t -base(t) / unit(t). The probability of depletion at rate r is the share of draws
with r_d > r, and the lowest rate meeting a probability p is an order statistic of the r_d:
no search, no tolerance.
"""

from __future__ import annotations

import numpy as np

from ..methods import project_with_rate
from .common import SolverResult


def rate_for_depletion_probability(
        years: np.ndarray, benefits: np.ndarray, admin: np.ndarray,
        insured_earnings: np.ndarray, interest: np.ndarray, initial_reserve: float,
        other_income: np.ndarray, scheduled_rate: np.ndarray, *, by_year: int,
        probability: float = 0.1, from_year: int | None = None) -> SolverResult:
    """The lowest contribution rate, applied from ``from_year`` (default: the first year)
    on, with which the reserve is exhausted (ends a year below zero) by the end of
    ``by_year`` in at most ``probability`` of the draws.

    Arrays are (draw, year): benefits, administration, insured earnings and the state's
    committed transfers (``other_income``) in currency per year, the interest rate and the
    scheduled contribution rate (fractions) that applies before ``from_year``; the reserve
    starts from ``initial_reserve`` (currency). The flows of each draw are taken as given: a
    higher rate changes the reserve, not the benefits or earnings.
    """
    years = np.asarray(years)
    start = int(years[0]) if from_year is None else int(from_year)
    if not years[0] <= start <= by_year <= years[-1]:
        raise ValueError(f"need {years[0]} <= from_year {start} <= by_year {by_year} <= "
                         f"{years[-1]}")
    if not 0.0 <= probability < 1.0:
        raise ValueError(f"probability must be in [0, 1), not {probability}")
    before = years < start
    within = years <= by_year
    needed = np.array([_needed_rate(before, within, float(initial_reserve),
                                    *(x[d] for x in (benefits, admin, insured_earnings,
                                                     interest, other_income, scheduled_rate)))
                       for d in range(benefits.shape[0])])
    n = needed.size
    allowed = int(np.floor(probability * n + 1e-9))
    rate = float(np.sort(needed)[n - allowed - 1])
    if not np.isfinite(rate):
        share = float(np.mean(np.isinf(needed)))
        return SolverResult(False, f"{share:.1%} of the draws exhaust the reserve before "
                            f"{start} or in years without insured earnings, above the target "
                            f"{probability:.1%}: no rate from {start} meets it",
                            constraints={"needed_rate": needed})
    rate = max(rate, 0.0)
    achieved = float(np.mean(needed > rate))
    return SolverResult(True, f"rate {rate:.4%} from {start}: reserve exhausted by "
                        f"{by_year} in {achieved:.1%} of {n} draws (target {probability:.1%})",
                        {"contribution_rate": rate, "from_year": start},
                        {"depletion_probability": achieved, "needed_rate": needed},
                        rate)


def _needed_rate(before: np.ndarray, within: np.ndarray, initial: float, b: np.ndarray,
                 e: np.ndarray, s: np.ndarray, i: np.ndarray, other: np.ndarray,
                 scheduled: np.ndarray) -> float:
    """The lowest rate (from the first year not ``before``) keeping one draw's reserve at
    or above zero in the years ``within`` the target; inf if none does."""
    base = project_with_rate(np.where(before, scheduled, 0.0), b, e, s, i, initial,
                             other_income=other).reserve
    zeros = np.zeros_like(b)
    unit = project_with_rate(np.where(before, 0.0, 1.0), zeros, zeros, s, i, 0.0,
                             other_income=zeros).reserve
    base, unit = base[within], unit[within]
    short = base < 0
    if np.any(short & (unit <= 0)):
        return float("inf")
    bounds = np.where(unit > 0, -base / np.where(unit > 0, unit, 1.0), -np.inf)
    return float(np.max(bounds, initial=-np.inf))
