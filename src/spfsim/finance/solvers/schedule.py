"""The cheapest stepwise contribution schedule that keeps a reserve ratio: a linear program.

The reserve is affine in the contribution rate changes, ``F = F_base + sum_j d_j U_j``,
where ``F_base`` is the projection at the start rate and ``U_j`` the reserve built by
contributions of 1 x S from the j-th possible change on (``project_with_rate`` with a unit
step), so the reserve-ratio constraints are linear rows in the changes and the present value
of contributions is a linear objective (``scipy.optimize.linprog(method="highs")``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...economy.discount import ArrayLike, check_interest, discount_factors
from ..fund import reserve_ratio
from ..methods import _arrays, _optional, project_with_rate
from .common import HIGHS_OPTIONS, LP_GUARD, SolverResult, period_starts


@dataclass
class _ScheduleLP:
    """The linear program of :func:`contribution_schedule` and the projection of a
    solution. Constraint rows: ``ratio_a d <= ratio_b`` (the reserve ratio at or above
    the target in each year with expenditure), ``rate_a d <= rate_b`` (rate bounds)."""

    a: dict[str, np.ndarray]
    other: np.ndarray
    initial_reserve: float
    start_rate: float
    target: float
    starts: np.ndarray
    cumulative: np.ndarray  # (year, step): 1 from the step's year on
    mid: np.ndarray
    pv_earnings: float
    pv_tail: np.ndarray  # objective per unit step, fraction of PV(S)
    rows: np.ndarray  # years with positive expenditure
    ratio_base: np.ndarray
    ratio_unit: np.ndarray
    rate_a: np.ndarray
    rate_b: np.ndarray
    bounds: list[tuple[float, float]]

    @property
    def a_ub(self) -> np.ndarray:
        return np.vstack([-self.ratio_unit, self.rate_a])

    @property
    def b_ub(self) -> np.ndarray:
        return np.concatenate([self.ratio_base - self.target - LP_GUARD, self.rate_b])

    def outcome(self, steps: np.ndarray) -> tuple[dict[str, Any], dict[str, Any], float]:
        """The solution, constraints and objective of the schedule with ``steps``."""
        a, s = self.a, self.a["insured_earnings"]
        rates = self.start_rate + self.cumulative @ steps
        fund = project_with_rate(rates, a["benefits"], a["admin"], s, a["interest"],
                                 self.initial_reserve, self.other)
        ratio = reserve_ratio(fund.reserve, a["benefits"], a["admin"])
        margin = ratio - self.target
        pv = float(np.sum(self.mid * rates * s))
        solution = {"rates": rates, "steps": steps, "step_years": self.starts,
                    "pv_contributions": pv}
        constraints = {"reserve": fund.reserve, "reserve_ratio": ratio, "margin": margin,
                       "min_margin": float(np.nanmin(margin)) if self.rows.any() else np.inf,
                       "target": float(self.target)}
        return solution, constraints, pv / self.pv_earnings


def _schedule_lp(a: dict[str, np.ndarray], other: np.ndarray, initial_reserve: float,
                 start_rate: float, max_step: float, step_every: int, target: float,
                 allow_decreases: bool, max_rate: float) -> _ScheduleLP:
    """Build the LP: the base projection, unit-step reserves, objective and rows."""
    n = a["benefits"].size
    starts = period_starts(n, step_every)
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
    rows = cost > 0
    # rate bounds as linear rows on the cumulative steps: start + C d <= max_rate, >= 0
    rate_rows = cumulative[starts]  # the rate after each change (one row per period)
    rate_a, rate_b = [rate_rows], [np.full(k, max_rate - start_rate)]
    if allow_decreases:
        rate_a.append(-rate_rows)
        rate_b.append(np.full(k, start_rate))
    step_low = -max_step if allow_decreases else 0.0
    return _ScheduleLP(a, other, float(initial_reserve), start_rate, target, starts,
                       cumulative, mid, pv_earnings, (mid * s) @ cumulative / pv_earnings,
                       rows, base[rows] / cost[rows], unit[rows] / cost[rows][:, None],
                       np.vstack(rate_a), np.concatenate(rate_b), [(step_low, max_step)] * k)


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
    without decreases). Constraint, every year with positive expenditure X = B + E:
    ``F[t] / X[t] >= target_reserve_ratio``, with F the end-of-year reserve (currency)
    rolled forward from ``initial_reserve`` (the reserve at the start of year 0) with
    contributions ``pi S``, other income G (``other_income``, e.g. state transfers; zero by
    default), benefits B and administration E (currency per year, mid-year). A linear
    program (see the module): minimise the present value of contributions ``PV(pi S)`` (at
    the start of year 0, mid-year flows).

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
    p = _schedule_lp(a, other, initial_reserve, start_rate, max_step, step_every,
                     target_reserve_ratio, allow_decreases, max_rate)
    lp = linprog(p.pv_tail, A_ub=p.a_ub, b_ub=p.b_ub, bounds=p.bounds, method="highs",
                 options=HIGHS_OPTIONS)
    if lp.status == 0:
        steps = _least_change(lp.x, lp.fun, p.pv_tail, p.a_ub, p.b_ub, p.bounds)
        solution, constraints, objective = p.outcome(np.clip(steps, p.bounds[0][0], max_step))
        changes = int(np.count_nonzero(np.abs(solution["steps"]) > 1e-12))
        lowest = target_reserve_ratio + constraints["min_margin"]
        return SolverResult(True, f"optimal schedule: {changes} rate change(s), final rate "
                            f"{solution['rates'][-1]:.6g}, minimum reserve ratio {lowest:.6g} "
                            f">= target {target_reserve_ratio:g}", solution, constraints,
                            objective)
    if lp.status != 2:
        return SolverResult(False, f"linprog (HiGHS) failed with status {lp.status}: "
                            f"{lp.message}")
    rule = (f"rate {'changes' if allow_decreases else 'increases'} of at most {max_step:g} "
            f"every {int(step_every)} year(s) from {start_rate:g} and rates <= {max_rate:g}")
    return _best_minimum(p, lp.message, rule)


def _best_minimum(p: _ScheduleLP, message: str, rule: str) -> SolverResult:
    """The infeasible case: the schedule with the best achievable minimum reserve ratio,
    max z s.t. ratio_t(d) >= z (and the rate bounds)."""
    from scipy.optimize import linprog

    k, target = p.starts.size, p.target
    c2 = np.zeros(k + 1)
    c2[-1] = -1.0
    a2 = np.vstack([np.column_stack([-p.ratio_unit, np.ones(p.rows.sum())]),
                    np.column_stack([p.rate_a, np.zeros(p.rate_a.shape[0])])])
    b2 = np.concatenate([p.ratio_base, p.rate_b])
    best = linprog(c2, A_ub=a2, b_ub=b2, bounds=[*p.bounds, (None, None)], method="highs",
                   options=HIGHS_OPTIONS)
    if best.status != 0:
        return SolverResult(False, f"no schedule keeps the reserve ratio >= {target:g} every "
                            f"year (linprog: {message}); the best achievable minimum could "
                            f"not be found either (status {best.status}: {best.message})")
    low, high = p.bounds[0]
    solution, constraints, objective = p.outcome(np.clip(best.x[:k], low, high))
    worst = int(np.nanargmin(constraints["margin"]))
    best_min = target + constraints["min_margin"]
    return SolverResult(False, (
        f"infeasible: no schedule keeps the reserve ratio >= target {target:g} in every year "
        f"with {rule}; the best achievable minimum reserve ratio is {best_min:.6g} (in year "
        f"index {worst}), short of the target by {target - best_min:.6g}"),
        solution, constraints, objective)


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
                     options=HIGHS_OPTIONS)
    return smooth.x[:k] if smooth.status == 0 else steps
