"""Solvers for financing policy: the contribution schedule that keeps a reserve ratio, the mix
of contribution rate and state transfer that closes the actuarial balance at the least
dispersion of cohort returns, and the pensionable-age path that closes a deficit.

Every array holds one value per projection year, shape ``(n_years,)``; money is currency per
year paid at mid-year, reserves are held at the end of the year, rates are fractions of
insured earnings (0.12 = 12 %), reserve ratios are in years of expenditure (1.0 = 100 %).
Timing, discounting and the fund roll-forward are those of :mod:`spfsim.finance.methods`
and :func:`spfsim.finance.fund.roll_forward`::

    F[t] = F[t-1] (1 + i[t]) + (C + G - B - E)[t] (1 + i[t])^(1/2)

The reserve is affine in the contribution rates, and the actuarial balance
(:func:`~spfsim.finance.sustainability.summarized_rates`) is affine in the rates and in a
state transfer proportional to expenditure; the solvers build their linear constraints from
projections of unit schedules (``project_with_rate``), not from a re-derivation of the
roll-forward.

Each solver returns a :class:`SolverResult`: ``success``, a ``message`` that says, when no
solution exists, which constraint cannot be met and by how much, the ``solution`` (decision
values), the ``constraints`` (their values and margins) and the ``objective``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..economy.discount import ArrayLike, check_interest, discount_factors
from .fund import reserve_ratio
from .measures import committed_transfers, initial_reserves
from .methods import _arrays, _optional, general_average_premium, project_with_rate
from .sustainability import SummarizedRates, summarized_rates

if TYPE_CHECKING:
    import xarray as xr

    from ..model import Model

__all__ = ["ModelBalance", "SolverResult", "contribution_schedule", "model_balance_of",
           "rate_and_state_transfer", "retirement_age_path", "scheme_balance"]

#: Slack (in reserve-ratio units, years of expenditure) the LP keeps above the target so
#: that the roll-forward of the solution meets the target despite solver round-off.
_LP_GUARD = 1e-10
_HIGHS_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


@dataclass
class SolverResult:
    """What a solver found.

    ``success``: a solution meeting every constraint was found. ``message``: how it went; on
    failure it names the constraint that cannot be met and by how much (e.g. the best
    achievable minimum reserve ratio against the target). ``solution``: the decision values
    (name -> value; on failure, the best attempt where there is one). ``constraints``: name
    -> value (float or per-year array) of each constraint and its margin (positive = met
    with room). ``objective``: the value minimised (NaN when there is none).
    """

    success: bool
    message: str
    solution: dict[str, Any] = field(default_factory=dict)
    constraints: dict[str, Any] = field(default_factory=dict)
    objective: float = float("nan")


def _period_starts(n: int, step_every: int) -> np.ndarray:
    if int(step_every) != step_every or step_every < 1:
        raise ValueError(f"step_every must be a whole number of years >= 1, got {step_every!r}")
    return np.arange(0, n, int(step_every))


def _period_matrix(n: int, starts: np.ndarray) -> np.ndarray:
    """(year, period) 0/1 matrix: 1 where the year lies in the period starting at starts[k]
    and ending before starts[k+1]."""
    index = np.searchsorted(starts, np.arange(n), side="right") - 1
    return (index[:, None] == np.arange(starts.size)[None, :]).astype(float)


# --------------------------------------------------------------------------- 1. schedule


def contribution_schedule(benefits: ArrayLike, admin: ArrayLike, insured_earnings: ArrayLike,
                          interest: ArrayLike, *, initial_reserve: float, start_rate: float,
                          max_step: float, step_every: int, target_reserve_ratio: float,
                          other_income: ArrayLike | None = None,
                          allow_decreases: bool = False,
                          max_rate: float = 1.0) -> SolverResult:
    """The cheapest stepwise contribution schedule that keeps the reserve ratio at or above a
    target in every year.

    The rate of year t is ``pi[t] = start_rate + sum_{j: s_j <= t} d_j``, with possible
    changes ``d_j`` only at years ``s_j = j * step_every`` (0-based indices 0, k, 2k, ...);
    each change lies in ``[0, max_step]`` (``[-max_step, max_step]`` with
    ``allow_decreases``) and every rate in ``[0, max_rate]`` (``[start_rate, max_rate]``
    without decreases). Constraint, every year with positive expenditure X = B + E::

        F[t] / X[t] >= target_reserve_ratio

    with F the end-of-year reserve (currency) rolled forward from ``initial_reserve`` (the
    reserve at the start of year 0) with contributions ``pi S``, other income G
    (``other_income``, e.g. state transfers; zero by default), benefits B and administration
    E (currency per year, mid-year). The reserve is affine in the changes,
    ``F = F_base + sum_j d_j U_j``, where ``F_base`` is the projection at ``start_rate`` and
    ``U_j`` the reserve built by contributions of 1 x S from year s_j on
    (``project_with_rate`` with a unit step), so this is a linear program: minimise the
    present value of contributions ``PV(pi S)`` (at the start of year 0, mid-year flows),
    solved with ``scipy.optimize.linprog(method="highs")``.

    Returns a :class:`SolverResult` with ``solution``: ``rates`` (year,), ``steps`` (one per
    possible change), ``step_years`` (their 0-based year indices), ``pv_contributions``;
    ``constraints``: ``reserve`` (year,), ``reserve_ratio`` (year,), ``margin`` (ratio -
    target, year,), ``min_margin``, ``target``; ``objective``: PV of contributions as a
    fraction of PV(S) (the schedule's level-equivalent rate). The cheapest schedule is
    often not unique (by the roll-forward identity v[n-1] F[n-1] = F0 + PV(C + G - B - E),
    PV(C) is fixed once the last year's ratio binds), so a second LP picks, among the
    schedules within 1e-10 of the least PV(C)/PV(S), the one with the least total change
    sum_j |d_j| (without decreases: the lowest final rate). When no schedule meets the
    target, ``success`` is False and a second LP maximises the minimum reserve ratio: the
    message gives that best achievable minimum (and its year) against the target, and the
    solution holds that best schedule.
    """
    from scipy.optimize import linprog

    a = _arrays(benefits=benefits, admin=admin, insured_earnings=insured_earnings,
                interest=interest)
    check_interest(a["interest"])
    other = _optional(other_income, a["insured_earnings"], "other_income")
    if not max_step >= 0 or not np.isfinite(max_step):
        raise ValueError(f"max_step must be a finite rate >= 0, got {max_step!r}")
    if not 0 <= start_rate <= max_rate:
        raise ValueError(f"start_rate must lie in [0, max_rate={max_rate}], got {start_rate!r}")
    n = a["benefits"].size
    starts = _period_starts(n, step_every)
    k = starts.size
    cost = a["benefits"] + a["admin"]
    s, i = a["insured_earnings"], a["interest"]
    zeros = np.zeros(n)

    base = project_with_rate(start_rate, a["benefits"], a["admin"], s, i, initial_reserve,
                             other).reserve
    # U[:, j]: reserve built by a unit rate from year starts[j] on, nothing else (linearity)
    cumulative = (np.arange(n)[:, None] >= starts[None, :]).astype(float)  # (year, step)
    unit = np.column_stack([project_with_rate(cumulative[:, j], zeros, zeros, s, i).reserve
                            for j in range(k)])
    _, mid = discount_factors(i)
    pv_earnings = float(np.sum(mid * s))
    if not pv_earnings > 0:
        raise ValueError("the present value of insured earnings must be positive")
    pv_tail = (mid * s) @ cumulative / pv_earnings  # objective per unit step, fraction of PV(S)

    rows = cost > 0
    ratio_base = base[rows] / cost[rows]
    ratio_unit = unit[rows] / cost[rows][:, None]
    # rate bounds as linear rows on the cumulative steps: start + C d <= max_rate, >= 0
    step_low = -max_step if allow_decreases else 0.0
    rate_rows = cumulative[starts]  # the rate after each change (one row per period)
    a_ub = [-ratio_unit, rate_rows]
    b_ub = [ratio_base - target_reserve_ratio - _LP_GUARD,
            np.full(k, max_rate - start_rate)]
    if allow_decreases:
        a_ub.append(-rate_rows)
        b_ub.append(np.full(k, start_rate))
    bounds = [(step_low, max_step)] * k
    lp = linprog(pv_tail, A_ub=np.vstack(a_ub), b_ub=np.concatenate(b_ub), bounds=bounds,
                 method="highs", options=_HIGHS_OPTIONS)

    def outcome(steps: np.ndarray) -> tuple[dict[str, Any], dict[str, Any], float]:
        rates = start_rate + cumulative @ steps
        fund = project_with_rate(rates, a["benefits"], a["admin"], s, i, initial_reserve,
                                 other)
        ratio = reserve_ratio(fund.reserve, a["benefits"], a["admin"])
        margin = ratio - target_reserve_ratio
        pv = float(np.sum(mid * rates * s))
        solution = {"rates": rates, "steps": steps, "step_years": starts,
                    "pv_contributions": pv}
        constraints = {"reserve": fund.reserve, "reserve_ratio": ratio, "margin": margin,
                       "min_margin": float(np.nanmin(margin)) if rows.any() else np.inf,
                       "target": float(target_reserve_ratio)}
        return solution, constraints, pv / pv_earnings

    if lp.status == 0:
        steps = _least_change(lp.x, lp.fun, pv_tail, np.vstack(a_ub), np.concatenate(b_ub),
                              bounds)
        steps = np.clip(steps, step_low, max_step)
        solution, constraints, objective = outcome(steps)
        changes = int(np.count_nonzero(np.abs(steps) > 1e-12))
        lowest = target_reserve_ratio + constraints["min_margin"]
        return SolverResult(True, f"optimal schedule: {changes} rate change(s), final rate "
                            f"{solution['rates'][-1]:.6g}, minimum reserve ratio {lowest:.6g} "
                            f">= target {target_reserve_ratio:g}", solution, constraints,
                            objective)
    if lp.status != 2:
        return SolverResult(False, f"linprog (HiGHS) failed with status {lp.status}: "
                            f"{lp.message}")
    # infeasible: the best achievable minimum ratio, max z s.t. ratio_t(d) >= z
    c2 = np.zeros(k + 1)
    c2[-1] = -1.0
    a2 = [np.column_stack([-ratio_unit, np.ones(rows.sum())])]
    b2 = [ratio_base]
    a2 += [np.column_stack([m, np.zeros(m.shape[0])]) for m in a_ub[1:]]
    b2 += b_ub[1:]
    best = linprog(c2, A_ub=np.vstack(a2), b_ub=np.concatenate(b2),
                   bounds=[*bounds, (None, None)], method="highs", options=_HIGHS_OPTIONS)
    if best.status != 0:
        return SolverResult(False, f"no schedule keeps the reserve ratio >= "
                            f"{target_reserve_ratio:g} every year (linprog: {lp.message}); "
                            f"the best achievable minimum could not be found either "
                            f"(status {best.status}: {best.message})")
    solution, constraints, objective = outcome(np.clip(best.x[:k], step_low, max_step))
    worst = int(np.nanargmin(constraints["margin"]))
    best_min = target_reserve_ratio + constraints["min_margin"]
    rule = "changes" if allow_decreases else "increases"
    message = (f"infeasible: no schedule keeps the reserve ratio >= target "
               f"{target_reserve_ratio:g} in every year with rate {rule} of at most "
               f"{max_step:g} every {int(step_every)} year(s) from {start_rate:g} and rates <= "
               f"{max_rate:g}; the best achievable minimum reserve ratio is {best_min:.6g} "
               f"(in year index {worst}), short of the target by "
               f"{target_reserve_ratio - best_min:.6g}")
    return SolverResult(False, message, solution, constraints, objective)


def _least_change(steps: np.ndarray, cheapest: float, pv_tail: np.ndarray, a_ub: np.ndarray,
                  b_ub: np.ndarray, bounds: list[tuple[float, float]]) -> np.ndarray:
    """Among the schedules as cheap as the optimum (PV within 1e-10 of PV(S)), the one with
    the least total change sum_j |d_j| (a second LP with d_j <= t_j, -d_j <= t_j, minimise
    sum t_j). The cheapest schedule is rarely unique (PV(C) is tied to the end reserve by
    v[n-1] F[n-1] = F0 + PV(C + G - X)); this picks a smooth one. Falls back to ``steps``."""
    from scipy.optimize import linprog

    k = steps.size
    eye = np.eye(k)
    a2 = np.vstack([np.hstack([a_ub, np.zeros((a_ub.shape[0], k))]),
                    np.concatenate([pv_tail, np.zeros(k)])[None, :],
                    np.hstack([eye, -eye]), np.hstack([-eye, -eye])])
    b2 = np.concatenate([b_ub, [cheapest + 1e-10], np.zeros(2 * k)])
    smooth = linprog(np.concatenate([np.zeros(k), np.ones(k)]), A_ub=a2, b_ub=b2,
                     bounds=[*bounds, *[(0.0, None)] * k], method="highs",
                     options=_HIGHS_OPTIONS)
    return smooth.x[:k] if smooth.status == 0 else steps


# --------------------------------------------------------------------------- 2. rate + state


def _flatten_streams(values: ArrayLike, n: int, name: str) -> tuple[np.ndarray, tuple]:
    v = np.asarray(values, dtype=float)
    if v.ndim < 2 or v.shape[0] != n:
        raise ValueError(f"{name} must be [year, cohort, ...] with {n} years, got {v.shape}")
    return v.reshape(n, -1), v.shape[1:]


def _irr_gradient(irr: np.ndarray, times: np.ndarray, net: np.ndarray,
                  earnings_by_period: np.ndarray) -> np.ndarray:
    """d irr_j / d rate_k, (stream, period), by the implicit function theorem on
    NPV_j(delta) = sum_t (B - pi E)[t, j] exp(-delta tau_t) = 0, delta = ln(1 + irr)."""
    delta = np.log1p(irr)
    exponent = -np.outer(delta, times)  # (stream, year)
    exponent -= exponent.max(axis=1, keepdims=True)  # common factor: cancels in the ratio
    w = np.exp(exponent)
    d_npv_d_delta = -np.einsum("jt,tj,t->j", w, net, times)
    d_npv_d_rate = -np.einsum("jt,tjk->jk", w, earnings_by_period)
    return (1.0 + irr)[:, None] * (-d_npv_d_rate / d_npv_d_delta[:, None])


def rate_and_state_transfer(benefits: ArrayLike, admin: ArrayLike, insured_earnings: ArrayLike,
                            interest: ArrayLike, gdp: ArrayLike, *, initial_reserve: float,
                            cohort_earnings: ArrayLike, cohort_benefits: ArrayLike,
                            years: ArrayLike, fiscal_limit: float | ArrayLike,
                            horizon: int = 75, ending_target_years: float = 1.0,
                            step_every: int = 10, complete: ArrayLike | None = None,
                            weights: ArrayLike | None = None, min_rate: float = 0.0,
                            max_rate: float = 1.0, irr_grid_points: int = 201,
                            tolerance: float = 1e-12, max_iterations: int = 200
                            ) -> SolverResult:
    """The contribution-rate path and state transfer that close the actuarial balance within
    a fiscal limit at the least dispersion of cohort internal rates of return.

    Decision variables: a rate ``pi_k`` in ``[min_rate, max_rate]`` for each period of
    ``step_every`` years (periods start at year indices 0, k, 2k, ...; the last may be
    shorter), so ``pi[t] = pi_k`` for t in period k; and a state transfer ``G[t] = sigma
    X[t]``, a share sigma >= 0 of expenditure X = B + E paid every year.

    Constraints:

    - actuarial balance over the first ``horizon`` years (``summarized_rates`` with
      non-interest income ``pi S + G`` and an ending target fund of ``ending_target_years``
      x the last year's cost) >= 0;
    - fiscal envelope: ``G[t] / GDP[t] <= fiscal_limit`` in every year of the arrays, i.e.
      ``sigma <= sigma_max = min_t fiscal_limit[t] GDP[t] / X[t]``.

    Objective: the dispersion of cohort IRRs, the (weighted) standard deviation

        SD = sqrt(sum_j w_j (r_j - rbar)^2 / sum_j w_j),  rbar = sum_j w_j r_j / sum_j w_j

    over the streams j (cohort x sex, the trailing axes of the cohort arrays) selected by
    ``complete`` (a mask over the trailing axes, aligned with the first, e.g. from
    :func:`spfsim.equity.complete_cohorts`; all streams when None) whose IRR is finite at
    the start. ``weights`` (same trailing shape, e.g. cohort size) weight the streams;
    None: every stream counts the same (unweighted). Stream j pays contributions
    ``pi[t] cohort_earnings[t, j]`` and receives ``cohort_benefits[t, j]`` (currency per
    year, mid-year, calendar ``years``); benefits do not depend on the rate and cohorts do
    not pay the state transfer. r_j is :func:`spfsim.equity.cohort_irr` (IRR search on
    ``irr_grid_points`` rates in its default bracket).

    Method: ``scipy.optimize.minimize(method="SLSQP")`` minimises 1e4 x the variance (in
    squared percentage points) with its gradient from the implicit function theorem on each
    cohort's NPV equation, subject to the balance constraint at ``sigma = sigma_max`` (the
    balance is affine in the rates: ``balance = a . pi + b(sigma)``), starting from the
    general average premium that closes the balance without a state transfer (clipped to
    the rate bounds). The dispersion does not depend on sigma, so sigma is then set to the
    *least* state transfer that closes the balance for the optimal rates (0 when the rates
    alone close it). The balance is a ``>=`` constraint: when higher rates lower the
    dispersion the solution may over-fund; bound the rates with ``max_rate``. A period that
    touches neither the horizon nor a selected cohort keeps the start rate. SLSQP finds a
    local minimum.

    Returns a :class:`SolverResult` with ``solution``: ``rates`` (year,), ``period_rates``,
    ``period_starts``, ``sigma``, ``state_transfer`` (year,), ``irr`` (trailing shape, NaN
    outside the selected streams), ``irr_dispersion``, ``start_rate`` (the feasible start);
    ``constraints``: ``actuarial_balance``, ``summarized`` (:class:`SummarizedRates`),
    ``state_transfer_to_gdp`` (year,), ``max_state_transfer_to_gdp``, ``fiscal_limit``,
    ``fiscal_margin`` (limit - max), ``sigma_max``, ``horizon`` (used; clipped to the
    arrays' length, with a note in the message); ``objective``: the SD (fraction per year).
    Infeasible when even ``max_rate`` in every period with the state transfer at the fiscal
    limit leaves a negative balance: the message gives that best balance.
    """
    from scipy.optimize import minimize

    from ..equity.returns import cohort_irr

    a = _arrays(benefits=benefits, admin=admin, insured_earnings=insured_earnings,
                interest=interest, gdp=gdp)
    check_interest(a["interest"])
    n = a["benefits"].size
    limit = np.broadcast_to(np.asarray(fiscal_limit, dtype=float), (n,))
    if np.any(limit < 0) or not np.all(np.isfinite(limit)):
        raise ValueError("fiscal_limit must be finite and >= 0 (a fraction of GDP)")
    if not 0 <= min_rate <= max_rate:
        raise ValueError(f"need 0 <= min_rate <= max_rate, got {min_rate!r}, {max_rate!r}")
    yrs = np.asarray(years)
    if yrs.shape != (n,):
        raise ValueError(f"years must hold the {n} calendar years of the arrays")
    earn, trailing = _flatten_streams(cohort_earnings, n, "cohort_earnings")
    bens, trailing_b = _flatten_streams(cohort_benefits, n, "cohort_benefits")
    if trailing != trailing_b:
        raise ValueError(f"cohort_earnings and cohort_benefits differ in shape: "
                         f"{trailing} vs {trailing_b}")
    mask = (np.ones(trailing, dtype=bool) if complete is None else
            np.broadcast_to(np.asarray(complete, dtype=bool).reshape(
                np.shape(complete) + (1,) * (len(trailing) - np.ndim(complete))), trailing))
    w_all = (np.ones(trailing) if weights is None else
             np.broadcast_to(np.asarray(weights, dtype=float), trailing)).reshape(-1)
    mask = mask.reshape(-1)

    notes: list[str] = []
    h = int(horizon)
    if h > n:
        notes.append(f"horizon {h} years clipped to the {n} years of the arrays")
        h = n
    cost = a["benefits"] + a["admin"]
    s, i = a["insured_earnings"], a["interest"]
    starts = _period_starts(n, step_every)
    periods = _period_matrix(n, starts)  # (year, period)

    # the balance is affine in (rates, sigma): evaluate it on unit schedules
    def balance_for(rates_by_year: np.ndarray, sigma: float) -> SummarizedRates:
        income = rates_by_year * s + sigma * cost
        return summarized_rates(income, a["benefits"], a["admin"], s, i, initial_reserve,
                                horizon=h, ending_target_years=ending_target_years)

    zero = balance_for(np.zeros(n), 0.0)
    coef_rate = np.array([balance_for(periods[:, k], 0.0).actuarial_balance
                          for k in range(starts.size)]) - zero.actuarial_balance
    coef_sigma = balance_for(np.zeros(n), 1.0).actuarial_balance - zero.actuarial_balance
    with np.errstate(divide="ignore", invalid="ignore"):
        caps = np.where(cost > 0, limit * a["gdp"] / cost, np.inf)
    sigma_max = float(np.min(caps))
    if not np.isfinite(sigma_max):
        raise ValueError("no year has positive expenditure: the state transfer is undefined")

    def affine_balance(rates: np.ndarray, sigma: float) -> float:
        return float(zero.actuarial_balance + coef_rate @ rates + coef_sigma * sigma)

    base_constraints = {"fiscal_limit": limit.copy(), "sigma_max": sigma_max, "horizon": h}
    best = affine_balance(np.full(starts.size, max_rate), sigma_max)
    if best < 0:
        top = sigma_max * cost / a["gdp"]
        return SolverResult(
            False, "; ".join([*notes, (
                f"infeasible: the actuarial balance cannot close: with the rate at its maximum "
                f"{max_rate:g} in every period and the state transfer at the fiscal limit "
                f"(sigma = {sigma_max:.6g} of expenditure, {np.max(top):.6g} of GDP at most) "
                f"the best balance over {h} years is {best:.6g} of payroll, "
                f"{-best:.6g} short of 0")]),
            {"period_rates": np.full(starts.size, max_rate), "sigma": sigma_max},
            {**base_constraints, "actuarial_balance": best}, float("nan"))

    gap = general_average_premium(a["benefits"][:h], a["admin"][:h], s[:h], i[:h],
                                  initial_reserve,
                                  terminal_reserve=ending_target_years * cost[h - 1])
    start_rate = float(np.clip(gap, min_rate, max_rate))
    x0 = np.full(starts.size, start_rate)
    if affine_balance(x0, sigma_max) < 0:  # GAP above max_rate: max_rate is feasible
        x0 = np.full(starts.size, max_rate)

    # streams: the selected ones with a finite IRR at the start
    times = (yrs - yrs[0]).astype(float) + 0.5
    irr0 = np.asarray(cohort_irr(yrs, (periods @ x0)[:, None] * earn, bens,
                                 grid_points=irr_grid_points)).reshape(-1)
    use = mask & np.isfinite(irr0) & (w_all > 0)
    dropped = int(np.count_nonzero(mask & ~use))
    if dropped:
        notes.append(f"{dropped} selected stream(s) without a finite IRR at the start (or "
                     f"with zero weight) left out of the dispersion")
    if np.count_nonzero(use) < 2:
        raise ValueError("fewer than two cohort streams with a finite IRR: the dispersion "
                         "is undefined")
    e_sel, b_sel, w = earn[:, use], bens[:, use], w_all[use] / w_all[use].sum()
    e_by_period = e_sel[:, :, None] * periods[:, None, :]  # (year, stream, period)
    scale = 1e4  # variance in squared percentage points

    def irrs(rates: np.ndarray) -> np.ndarray:
        return np.asarray(cohort_irr(yrs, (periods @ rates)[:, None] * e_sel, b_sel,
                                     grid_points=irr_grid_points)).reshape(-1)

    cache: dict[bytes, tuple[float, np.ndarray]] = {}

    def objective(rates: np.ndarray) -> tuple[float, np.ndarray]:
        key = rates.tobytes()
        if key not in cache:
            r = irrs(rates)
            if not np.all(np.isfinite(r)):
                cache[key] = (1e6, np.zeros_like(rates))
            else:
                dev = r - w @ r
                grad = _irr_gradient(r, times, b_sel - (periods @ rates)[:, None] * e_sel,
                                     e_by_period)
                cache[key] = (scale * float(w @ dev**2),
                              scale * 2.0 * (w * dev) @ (grad - w @ grad))
        return cache[key]

    result = minimize(lambda x: objective(x)[0], x0, jac=lambda x: objective(x)[1],
                      method="SLSQP", bounds=[(min_rate, max_rate)] * starts.size,
                      constraints=[{"type": "ineq",
                                    "fun": lambda x: affine_balance(x, sigma_max),
                                    "jac": lambda x: coef_rate}],
                      options={"ftol": tolerance, "maxiter": max_iterations})
    rates_k = np.clip(result.x, min_rate, max_rate)
    rates = periods @ rates_k
    shortfall = -affine_balance(rates_k, 0.0)
    sigma = float(np.clip(shortfall / coef_sigma, 0.0, sigma_max)) if coef_sigma > 0 else 0.0
    summary = balance_for(rates, sigma)
    to_gdp = sigma * cost / a["gdp"]
    irr_sel = irrs(rates_k)
    irr_table = np.full(mask.size, np.nan)
    irr_table[use] = irr_sel
    sd = float(np.sqrt(w @ (irr_sel - w @ irr_sel) ** 2))
    solution = {"rates": rates, "period_rates": rates_k, "period_starts": starts,
                "sigma": sigma, "state_transfer": sigma * cost,
                "irr": irr_table.reshape(trailing), "irr_dispersion": sd,
                "start_rate": start_rate}
    constraints = {**base_constraints, "actuarial_balance": summary.actuarial_balance,
                   "summarized": summary, "state_transfer_to_gdp": to_gdp,
                   "max_state_transfer_to_gdp": float(np.max(to_gdp)),
                   "fiscal_margin": float(np.min(limit - to_gdp))}
    ok = bool(result.success) and summary.actuarial_balance >= -1e-9
    head = (f"least IRR dispersion {sd:.6g} (SD, fraction per year) with rates "
            f"{np.array2string(rates_k, precision=5)} and state transfer sigma = {sigma:.6g} "
            f"of expenditure (max {np.max(to_gdp):.6g} of GDP, limit "
            f"{float(np.min(limit)):.6g}); actuarial balance {summary.actuarial_balance:.3g}"
            if ok else f"SLSQP did not converge: {result.message} (balance "
            f"{summary.actuarial_balance:.3g}, dispersion {sd:.6g})")
    return SolverResult(ok, "; ".join([head, *notes]), solution, constraints, sd)


# --------------------------------------------------------------------------- 3. pension age


Schedule = dict[int, int] | dict[str, dict[int, int]]


def _age_schedule(increments: int, start_year: int, step_years: int,
                  base_age: int | Mapping[str, int],
                  before: Mapping[int, int] | None) -> Schedule:
    """Effective calendar year -> age: ``before`` (default {start_year - 1: base_age}), then
    one more year of age at start_year, start_year + step_years, ... (``increments`` rises)."""
    def one(base: int) -> dict[int, int]:
        path = dict(before) if before is not None else {start_year - 1: base}
        path.update({start_year + j * step_years: base + j + 1 for j in range(increments)})
        return dict(sorted(path.items()))

    if isinstance(base_age, Mapping):
        return {sex: one(int(age)) for sex, age in base_age.items()}
    return one(int(base_age))


def retirement_age_path(balance_of: Callable[[Schedule], float], *, start_year: int,
                        base_age: int | Mapping[str, int], max_age: int | Mapping[str, int],
                        step_years: int = 1, target: float = 0.0,
                        deficit: float | None = None,
                        before: Mapping[int, int] | None = None) -> SolverResult:
    """The smallest final pensionable age whose actuarial balance reaches a target, for an age
    rising by one year every ``step_years`` years from ``start_year``.

    With n one-year rises the schedule (effective calendar year -> age, the form of a reform
    file's ``retirement_age``) is ``{start_year - 1: base_age, start_year: base_age + 1,
    start_year + step_years: base_age + 2, ..., start_year + (n-1) step_years: base_age +
    n}``; ``before`` replaces the first entry by a whole earlier schedule (years before
    start_year). ``base_age`` (and ``max_age``) may be given by sex as ``{"male": 62,
    "female": 60}``: both sexes then rise by the same n years and ``balance_of`` receives
    ``{sex: schedule}``. The final age is ``base_age + n``, n in ``0 .. max_age -
    base_age`` (the smallest room over the sexes).

    ``balance_of(schedule) -> float`` is the actuarial balance (fraction of payroll) under
    that schedule, e.g. from :func:`model_balance_of`. The target is ``target`` (default 0)
    or, with ``deficit`` (fraction of payroll), the balance at n = 0 plus ``deficit``: the
    path must close that deficit. The balance rises with the age in practice; the solver
    checks the ends of the bracket (n = 0 and n = max) and bisects over the integers, so it
    needs about log2(max - base) + 2 evaluations. Every evaluated point is reported.

    Returns a :class:`SolverResult` with ``solution``: ``final_age`` (int, or by sex),
    ``increments`` n, ``schedule``, ``balance``; ``constraints``: ``balance``, ``target``,
    ``margin`` (balance - target), ``evaluated`` ({n: balance}, every call),
    ``monotone`` (the evaluated balances do not fall as n rises); ``objective``: n, the
    number of years added. Infeasible when even ``max_age`` misses the target: the message
    gives the best balance found.
    """
    if int(step_years) != step_years or step_years < 1:
        raise ValueError(f"step_years must be a whole number >= 1, got {step_years!r}")
    sexes = list(base_age) if isinstance(base_age, Mapping) else None
    base_by = dict(base_age) if sexes else {"all": int(base_age)}
    max_by = ({sex: int(max_age[sex]) for sex in base_by} if isinstance(max_age, Mapping)
              else dict.fromkeys(base_by, int(max_age)))
    room = min(max_by[sex] - base_by[sex] for sex in base_by)
    if room < 0:
        raise ValueError(f"max_age {max_age!r} is below base_age {base_age!r}")
    evaluated: dict[int, float] = {}

    def schedule(n: int) -> Schedule:
        return _age_schedule(n, int(start_year), int(step_years), base_age, before)

    def balance(n: int) -> float:
        if n not in evaluated:
            evaluated[n] = float(balance_of(schedule(n)))
        return evaluated[n]

    def final_age(n: int) -> int | dict[str, int]:
        return {sex: base_by[sex] + n for sex in sexes} if sexes else base_by["all"] + n

    goal = float(target) if deficit is None else balance(0) + float(deficit)

    def result(n: int | None, ok: bool, message: str) -> SolverResult:
        points = dict(sorted(evaluated.items()))
        values = np.array(list(points.values()))
        monotone = bool(np.all(np.diff(values) >= -1e-12))
        if not monotone:
            message += ("; caution: the evaluated balances do not rise monotonically with the "
                        "age, so a smaller age may also meet the target")
        pick = n if n is not None else max(points, key=points.get)
        notes = getattr(balance_of, "notes", None)
        if notes:
            message += "; " + "; ".join(notes)
        solution = {"final_age": final_age(pick), "increments": pick,
                    "schedule": schedule(pick), "balance": points[pick]}
        constraints = {"balance": points[pick], "target": goal,
                       "margin": points[pick] - goal, "evaluated": points,
                       "monotone": monotone}
        return SolverResult(ok, message, solution, constraints, float(pick))

    if balance(0) >= goal:
        return result(0, True, f"the base age {final_age(0)} already meets the target "
                               f"{goal:.6g} (balance {balance(0):.6g})")
    if balance(room) < goal:
        best = max(evaluated.values())
        return result(None, False, (
            f"infeasible: even the maximum age {final_age(room)} (reached in "
            f"{int(start_year) + (room - 1) * int(step_years)}) gives a balance of "
            f"{balance(room):.6g}, short of the target {goal:.6g} by {goal - balance(room):.6g};"
            f" the best balance evaluated is {best:.6g}"))
    low, high = 0, room  # balance(low) < goal <= balance(high)
    while high - low > 1:
        middle = (low + high) // 2
        if balance(middle) >= goal:
            high = middle
        else:
            low = middle
    return result(high, True, (
        f"smallest final age {final_age(high)} (reached in "
        f"{int(start_year) + (high - 1) * int(step_years)}): balance {balance(high):.6g} >= "
        f"target {goal:.6g}; one year less ({final_age(high - 1)}) gives "
        f"{balance(high - 1):.6g}"))


def scheme_balance(ds: xr.Dataset, scheme_id: str, horizon: int = 75,
                   ending_target_years: float = 1.0) -> SummarizedRates:
    """Summarized rates and actuarial balance of one scheme from a projection Dataset.

    Uses the scheme's ``contribution_income`` + committed state transfers (non-interest
    income; a deficit cover is not counted:
    :func:`spfsim.finance.measures.committed_transfers`),
    ``benefit_expenditure``, ``admin_expenditure``, ``insured_earnings`` (currency per year)
    and the Dataset's ``interest_rate`` (fraction per year); the reserve at the start of the
    first year comes from the fund identity (:func:`spfsim.finance.measures.initial_reserves`).
    The horizon is clipped to the projection's length (the result's ``horizon`` field holds
    the one used). See :func:`spfsim.finance.summarized_rates`.
    """
    scheme = ds.sel(scheme=scheme_id)
    values = {name: np.asarray(scheme[name].values, dtype=float)
              for name in ("contribution_income", "benefit_expenditure",
                           "admin_expenditure", "insured_earnings")}
    values["committed_transfers"] = committed_transfers(scheme)
    for name, array in values.items():
        if array.ndim != 1:
            raise ValueError(f"{name} of scheme {scheme_id!r} must have the dimension year "
                             f"only, got shape {array.shape}")
    income = values["contribution_income"] + values["committed_transfers"]
    initial = float(initial_reserves(ds)[list(ds["scheme"].values).index(scheme_id)])
    return summarized_rates(income, values["benefit_expenditure"], values["admin_expenditure"],
                            values["insured_earnings"], np.asarray(ds["interest_rate"].values,
                                                                   dtype=float),
                            initial, horizon=min(int(horizon), income.size),
                            ending_target_years=ending_target_years)


def _toml_ages(path: Mapping[int, int]) -> str:
    return "{ " + ", ".join(f"{int(y)} = {int(a)}" for y, a in sorted(path.items())) + " }"


@dataclass
class ModelBalance:
    """A callable ``schedule -> actuarial balance`` of one scheme of a model (see
    :func:`model_balance_of`). ``notes`` records what the caller should know (a horizon
    clipped to the projection); ``evaluations`` every schedule and its
    :class:`SummarizedRates`."""

    model: Model
    scheme_id: str
    horizon: int = 75
    ending_target_years: float = 1.0
    notes: list[str] = field(default_factory=list)
    evaluations: list[tuple[Schedule, SummarizedRates]] = field(default_factory=list)

    def reform_text(self, schedule: Schedule) -> str:
        """The reform file (TOML) that sets the scheme's ``retirement_age`` to ``schedule``
        (calendar years; an int schedule applies to both sexes). The first effective year is
        moved back to the model's base year when later (a reform gives every year from the
        base year on, and the first age holds before the next effective year anyway)."""
        base_year = int(self.model.input.base_year)
        by_sex = schedule if isinstance(next(iter(schedule.values())), Mapping) else {
            "male": schedule, "female": schedule}
        parts = []
        for sex in ("male", "female"):
            path = dict(sorted(by_sex[sex].items()))
            first = next(iter(path))
            if first > base_year:
                path = {base_year: path.pop(first), **path}
            parts.append(f"{sex} = {_toml_ages(path)}")
        return ("[reform]\nname = \"retirement-age-solver\"\n"
                "title = \"Pensionable age path tried by spfsim.finance.retirement_age_path\"\n"
                "description = \"Written by spfsim.finance.solvers.model_balance_of.\"\n\n"
                f"[schemes.{self.scheme_id}.parameters]\n"
                "retirement_age_basis = \"calendar_year\"\n"
                f"retirement_age = {{ {', '.join(parts)} }}\n")

    def __call__(self, schedule: Schedule) -> float:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "retirement-age-solver.toml"
            path.write_text(self.reform_text(schedule))
            ds = self.model.with_reform(path).project()
        rates = scheme_balance(ds, self.scheme_id, self.horizon, self.ending_target_years)
        if rates.horizon < self.horizon:
            note = (f"horizon {self.horizon} years clipped to the projection's "
                    f"{rates.horizon} years")
            if note not in self.notes:
                self.notes.append(note)
        self.evaluations.append((schedule, rates))
        return rates.actuarial_balance


def model_balance_of(model: Model, scheme_id: str, horizon: int = 75,
                     ending_target_years: float = 1.0) -> ModelBalance:
    """A ``balance_of`` callable for :func:`retirement_age_path`: for a schedule (calendar
    year -> age, or by sex) it writes a reform file setting ``scheme_id``'s
    ``retirement_age`` into a temporary folder, projects ``model.with_reform(path)`` with
    the cohort engine and returns :func:`scheme_balance` (fraction of payroll) over
    ``horizon`` years (clipped to the projection, noted in ``notes``). ``model`` must be
    a baseline (without a reform). One projection per call."""
    return ModelBalance(model, scheme_id, int(horizon), float(ending_target_years))
