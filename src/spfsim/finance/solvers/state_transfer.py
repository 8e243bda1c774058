"""The contribution-rate path and state transfer that close the actuarial balance within a
fiscal limit at the least dispersion of cohort internal rates of return.

Method. The actuarial balance (:func:`~spfsim.finance.sustainability.summarized_rates`) is
affine in the period rates and in a state transfer proportional to expenditure,
``balance = a . pi + b(sigma)``; its coefficients come from projections of unit schedules.
``scipy.optimize.minimize(method="SLSQP")`` minimises 1e4 x the variance of the cohort IRRs
(in squared percentage points) with its gradient from the implicit function theorem on each
cohort's NPV equation, subject to the balance constraint at ``sigma = sigma_max``, starting
from the general average premium that closes the balance without a state transfer (clipped
to the rate bounds). The dispersion does not depend on sigma, so sigma is then set to the
*least* state transfer that closes the balance for the optimal rates (0 when the rates alone
close it). The balance is a ``>=`` constraint: when higher rates lower the dispersion the
solution may over-fund; bound the rates with ``max_rate``. A period that touches neither the
horizon nor a selected cohort keeps the start rate. SLSQP finds a local minimum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...economy.discount import ArrayLike, check_interest
from ...equity.returns import cohort_irr, where_mask
from ..methods import _arrays, general_average_premium
from ..sustainability import SummarizedRates, ending_target_cost, summarized_rates
from .common import SolverResult, period_matrix, period_starts

#: The variance is minimised in squared percentage points.
_SCALE = 1e4


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


@dataclass
class _Streams:
    """The cohort streams (columns: cohort x sex flattened) and their selection."""

    years: np.ndarray
    earnings: np.ndarray  # (year, stream)
    benefits: np.ndarray
    trailing: tuple
    mask: np.ndarray  # (stream,) selected by ``complete``
    weights: np.ndarray  # (stream,)


def _streams(years: ArrayLike, n: int, cohort_earnings: ArrayLike, cohort_benefits: ArrayLike,
             complete: ArrayLike | None, weights: ArrayLike | None) -> _Streams:
    yrs = np.asarray(years)
    if yrs.shape != (n,):
        raise ValueError(f"years must hold the {n} calendar years of the arrays")
    earn, trailing = _flatten_streams(cohort_earnings, n, "cohort_earnings")
    bens, trailing_b = _flatten_streams(cohort_benefits, n, "cohort_benefits")
    if trailing != trailing_b:
        raise ValueError(f"cohort_earnings and cohort_benefits differ in shape: "
                         f"{trailing} vs {trailing_b}")
    mask = np.ones(trailing, dtype=bool) if complete is None else where_mask(complete, trailing)
    w_all = (np.ones(trailing) if weights is None else
             np.broadcast_to(np.asarray(weights, dtype=float), trailing)).reshape(-1)
    return _Streams(yrs, earn, bens, trailing, mask.reshape(-1), w_all)


@dataclass
class _Balance:
    """The actuarial balance over ``horizon`` years, affine in (period rates, sigma)."""

    a: dict[str, np.ndarray]
    initial_reserve: float
    horizon: int
    ending_target_years: float
    starts: np.ndarray  # first year index of each period
    periods: np.ndarray = field(init=False)  # (year, period)
    zero: SummarizedRates = field(init=False)
    coef_rate: np.ndarray = field(init=False)
    coef_sigma: float = field(init=False)

    def __post_init__(self) -> None:
        n, k = self.a["benefits"].size, self.starts.size
        self.periods = period_matrix(n, self.starts)
        self.zero = self.summary(np.zeros(n), 0.0)
        self.coef_rate = np.array([self.summary(self.periods[:, j], 0.0).actuarial_balance
                                   for j in range(k)]) - self.zero.actuarial_balance
        self.coef_sigma = (self.summary(np.zeros(n), 1.0).actuarial_balance
                           - self.zero.actuarial_balance)

    @property
    def cost(self) -> np.ndarray:
        return self.a["benefits"] + self.a["admin"]

    def summary(self, rates_by_year: np.ndarray, sigma: float) -> SummarizedRates:
        """Summarized rates with contributions ``rates_by_year S`` and transfer sigma X."""
        a, s = self.a, self.a["insured_earnings"]
        income = rates_by_year * s + sigma * self.cost
        return summarized_rates(income, a["benefits"], a["admin"], s, a["interest"],
                                self.initial_reserve, horizon=self.horizon,
                                ending_target_years=self.ending_target_years)

    def __call__(self, rates: np.ndarray, sigma: float) -> float:
        return float(self.zero.actuarial_balance + self.coef_rate @ rates
                     + self.coef_sigma * sigma)


class _Dispersion:
    """The (weighted) variance of the selected streams' IRRs as a function of the period
    rates, x 1e4, with its gradient; evaluations are cached (SLSQP asks twice)."""

    def __init__(self, streams: _Streams, use: np.ndarray, periods: np.ndarray,
                 grid_points: int):
        self.years, self.periods, self.grid_points = streams.years, periods, grid_points
        self.use = use  # (stream,) the streams in the objective
        self.times = (streams.years - streams.years[0]).astype(float) + 0.5
        self.earnings, self.benefits = streams.earnings[:, use], streams.benefits[:, use]
        self.w = streams.weights[use] / streams.weights[use].sum()
        self.by_period = self.earnings[:, :, None] * periods[:, None, :]  # (year, stream, k)
        self.cache: dict[bytes, tuple[float, np.ndarray]] = {}

    def irrs(self, rates: np.ndarray) -> np.ndarray:
        return np.asarray(cohort_irr(self.years, (self.periods @ rates)[:, None] * self.earnings,
                                     self.benefits, grid_points=self.grid_points)).reshape(-1)

    def __call__(self, rates: np.ndarray) -> tuple[float, np.ndarray]:
        key = rates.tobytes()
        if key not in self.cache:
            r, w = self.irrs(rates), self.w
            if not np.all(np.isfinite(r)):
                self.cache[key] = (1e6, np.zeros_like(rates))
            else:
                dev = r - w @ r
                net = self.benefits - (self.periods @ rates)[:, None] * self.earnings
                grad = _irr_gradient(r, self.times, net, self.by_period)
                self.cache[key] = (_SCALE * float(w @ dev**2),
                                   _SCALE * 2.0 * (w * dev) @ (grad - w @ grad))
        return self.cache[key]


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
    X[t]``, a share sigma >= 0 of expenditure X = B + E paid every year. Constraints: the
    actuarial balance over the first ``horizon`` years (``summarized_rates`` with
    non-interest income ``pi S + G`` and an ending target fund of ``ending_target_years``
    x the following year's cost, or the last year's where the arrays end at the horizon)
    >= 0; the fiscal envelope ``G[t] / GDP[t] <= fiscal_limit`` in
    every year, i.e. ``sigma <= sigma_max = min_t fiscal_limit[t] GDP[t] / X[t]``.

    Objective: the (weighted) standard deviation SD = sqrt(sum_j w_j (r_j - rbar)^2 /
    sum_j w_j) of the cohort IRRs r_j (:func:`spfsim.equity.cohort_irr` on
    ``irr_grid_points`` rates) over the streams j (cohort x sex, the trailing axes of the
    cohort arrays) selected by ``complete`` (a mask over the trailing axes, aligned with the
    first, e.g. from :func:`spfsim.equity.complete_cohorts`; all when None) whose IRR is
    finite at the start; ``weights`` (same trailing shape, e.g. cohort size; None: equal).
    Stream j pays ``pi[t] cohort_earnings[t, j]`` and receives ``cohort_benefits[t, j]``
    (currency per year, mid-year, calendar ``years``); cohorts do not pay the state
    transfer. The method and its caveats: see the module.

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
    a = _arrays(benefits=benefits, admin=admin, insured_earnings=insured_earnings,
                interest=interest, gdp=gdp)
    check_interest(a["interest"])
    n = a["benefits"].size
    limit = np.broadcast_to(np.asarray(fiscal_limit, dtype=float), (n,))
    if np.any(limit < 0) or not np.all(np.isfinite(limit)):
        raise ValueError("fiscal_limit must be finite and >= 0 (a fraction of GDP)")
    if not 0 <= min_rate <= max_rate:
        raise ValueError(f"need 0 <= min_rate <= max_rate, got {min_rate!r}, {max_rate!r}")
    streams = _streams(years, n, cohort_earnings, cohort_benefits, complete, weights)
    notes: list[str] = []
    h = int(horizon)
    if h > n:
        notes.append(f"horizon {h} years clipped to the {n} years of the arrays")
        h = n
    starts = period_starts(n, step_every)
    balance = _Balance(a, initial_reserve, h, ending_target_years, starts)
    sigma_max = _sigma_max(limit, a["gdp"], balance.cost)
    base_constraints = {"fiscal_limit": limit.copy(), "sigma_max": sigma_max, "horizon": h}
    best = balance(np.full(starts.size, max_rate), sigma_max)
    if best < 0:
        return _infeasible(best, balance, a["gdp"], sigma_max, max_rate, base_constraints,
                           notes)
    gap = general_average_premium(a["benefits"][:h], a["admin"][:h],
                                  a["insured_earnings"][:h], a["interest"][:h],
                                  initial_reserve,
                                  terminal_reserve=ending_target_years * ending_target_cost(
                                      a["benefits"], a["admin"], h)[0])
    start_rate = float(np.clip(gap, min_rate, max_rate))
    x0 = np.full(starts.size, start_rate)
    if balance(x0, sigma_max) < 0:  # GAP above max_rate: max_rate is feasible
        x0 = np.full(starts.size, max_rate)
    dispersion = _dispersion(streams, balance.periods, x0, irr_grid_points, notes)
    rates_k, converged, how = _minimise(dispersion, balance, x0, sigma_max, min_rate,
                                        max_rate, tolerance, max_iterations)
    return _outcome(rates_k, converged, how, balance, dispersion, streams, a["gdp"],
                    start_rate, base_constraints, notes)


def _sigma_max(limit: np.ndarray, gdp: np.ndarray, cost: np.ndarray) -> float:
    """The largest share of expenditure the state can pay within the fiscal limit."""
    with np.errstate(divide="ignore", invalid="ignore"):
        caps = np.where(cost > 0, limit * gdp / cost, np.inf)
    sigma_max = float(np.min(caps))
    if not np.isfinite(sigma_max):
        raise ValueError("no year has positive expenditure: the state transfer is undefined")
    return sigma_max


def _infeasible(best: float, balance: _Balance, gdp: np.ndarray, sigma_max: float,
                max_rate: float, base_constraints: dict, notes: list[str]) -> SolverResult:
    k = balance.periods.shape[1]
    top = sigma_max * balance.cost / gdp
    return SolverResult(
        False, "; ".join([*notes, (
            f"infeasible: the actuarial balance cannot close: with the rate at its maximum "
            f"{max_rate:g} in every period and the state transfer at the fiscal limit "
            f"(sigma = {sigma_max:.6g} of expenditure, {np.max(top):.6g} of GDP at most) "
            f"the best balance over {balance.horizon} years is {best:.6g} of payroll, "
            f"{-best:.6g} short of 0")]),
        {"period_rates": np.full(k, max_rate), "sigma": sigma_max},
        {**base_constraints, "actuarial_balance": best}, float("nan"))


def _dispersion(streams: _Streams, periods: np.ndarray, x0: np.ndarray, grid_points: int,
                notes: list[str]) -> _Dispersion:
    """The objective over the selected streams with a finite IRR at the start rates."""
    irr0 = np.asarray(cohort_irr(streams.years, (periods @ x0)[:, None] * streams.earnings,
                                 streams.benefits, grid_points=grid_points)).reshape(-1)
    use = streams.mask & np.isfinite(irr0) & (streams.weights > 0)
    dropped = int(np.count_nonzero(streams.mask & ~use))
    if dropped:
        notes.append(f"{dropped} selected stream(s) without a finite IRR at the start (or "
                     f"with zero weight) left out of the dispersion")
    if np.count_nonzero(use) < 2:
        raise ValueError("fewer than two cohort streams with a finite IRR: the dispersion "
                         "is undefined")
    return _Dispersion(streams, use, periods, grid_points)


def _minimise(dispersion: _Dispersion, balance: _Balance, x0: np.ndarray, sigma_max: float,
              min_rate: float, max_rate: float, tolerance: float,
              max_iterations: int) -> tuple[np.ndarray, bool, str]:
    """SLSQP on the period rates with the balance closed at sigma_max."""
    from scipy.optimize import minimize

    result = minimize(lambda x: dispersion(x)[0], x0, jac=lambda x: dispersion(x)[1],
                      method="SLSQP", bounds=[(min_rate, max_rate)] * x0.size,
                      constraints=[{"type": "ineq", "fun": lambda x: balance(x, sigma_max),
                                    "jac": lambda x: balance.coef_rate}],
                      options={"ftol": tolerance, "maxiter": max_iterations})
    return np.clip(result.x, min_rate, max_rate), bool(result.success), str(result.message)


def _outcome(rates_k: np.ndarray, converged: bool, how: str, balance: _Balance,
             dispersion: _Dispersion, streams: _Streams, gdp: np.ndarray, start_rate: float,
             base_constraints: dict, notes: list[str]) -> SolverResult:
    """The least state transfer for the optimal rates, and the result."""
    limit, sigma_max = base_constraints["fiscal_limit"], base_constraints["sigma_max"]
    rates = balance.periods @ rates_k
    shortfall = -balance(rates_k, 0.0)
    coef_sigma = balance.coef_sigma
    sigma = float(np.clip(shortfall / coef_sigma, 0.0, sigma_max)) if coef_sigma > 0 else 0.0
    summary = balance.summary(rates, sigma)
    to_gdp = sigma * balance.cost / gdp
    irr_sel = dispersion.irrs(rates_k)
    irr_table = np.full(streams.mask.size, np.nan)
    irr_table[dispersion.use] = irr_sel
    w = dispersion.w
    sd = float(np.sqrt(w @ (irr_sel - w @ irr_sel) ** 2))
    solution = {"rates": rates, "period_rates": rates_k,
                "period_starts": balance.starts,
                "sigma": sigma, "state_transfer": sigma * balance.cost,
                "irr": irr_table.reshape(streams.trailing), "irr_dispersion": sd,
                "start_rate": start_rate}
    constraints = {**base_constraints, "actuarial_balance": summary.actuarial_balance,
                   "summarized": summary, "state_transfer_to_gdp": to_gdp,
                   "max_state_transfer_to_gdp": float(np.max(to_gdp)),
                   "fiscal_margin": float(np.min(limit - to_gdp))}
    ok = converged and summary.actuarial_balance >= -1e-9
    head = (f"least IRR dispersion {sd:.6g} (SD, fraction per year) with rates "
            f"{np.array2string(rates_k, precision=5)} and state transfer sigma = {sigma:.6g} "
            f"of expenditure (max {np.max(to_gdp):.6g} of GDP, limit "
            f"{float(np.min(limit)):.6g}); actuarial balance {summary.actuarial_balance:.3g}"
            if ok else f"SLSQP did not converge: {how} (balance "
            f"{summary.actuarial_balance:.3g}, dispersion {sd:.6g})")
    return SolverResult(ok, "; ".join([head, *notes]), solution, constraints, sd)
