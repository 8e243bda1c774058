"""Draws of the stochastic assumptions: deviations around the deterministic path.

Every normal innovation is a pure function of (seed, variable, draw, year) through the
project's counter-based generator (:mod:`spfsim.rng`): draw 17 is the same whatever the
number of draws, the threads or the workers, and a reform run with the same seed sees the
same futures (common random numbers). All deviations are 0 in the base year (its values
are observed), so a draw with every standard deviation 0 is the deterministic projection.

Units follow the assumptions they move: fractions a year for the economy's rates, children
per woman for the TFR, persons for migration, log-rate units for mortality.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numba as nb
import numpy as np

from .. import rng
from ..demography.leecarter import LeeCarter
from ..errors import SpfsimError
from ..params import AGES, SEXES, Assumptions
from ..params.stochastic import ECONOMY_VARIABLES, Autoregressive, StochasticSpec

# one pair of generator streams per variable (rng.normal takes two); above the micro
# engine's streams so that no process shares draws with another
STREAMS = {name: 101 + 2 * i for i, name in enumerate(
    ("mortality_male", "mortality_female", "drift_male", "drift_female", "fertility",
     "migration", *ECONOMY_VARIABLES))}
UNEMPLOYMENT_CAP = 0.95  # an unemployment rate's upper bound in a draw


@nb.njit(cache=True)
def _normals(seed, stream, draws, years, out):
    for i in range(draws.size):
        for t in range(years.size):
            out[i, t] = rng.normal(seed, stream, stream + 1, draws[i], years[t])


def innovations(seed: int, variable: str, draws: np.ndarray, years: np.ndarray) -> np.ndarray:
    """(draw, year) standard normals of ``variable`` keyed by (seed, variable, draw, year)."""
    out = np.empty((len(draws), len(years)))
    _normals(np.int64(seed), np.int64(STREAMS[variable]), np.asarray(draws, dtype=np.int64),
             np.asarray(years, dtype=np.int64), out)
    return out


def autoregressive(process: Autoregressive, shocks: np.ndarray) -> np.ndarray:
    """(draw, year) AR(1) deviations x(t) = ar x(t-1) + sd e(t) from the standard
    ``shocks`` e (draw, year), with x = 0 in the first (base) year."""
    x = np.zeros_like(shocks)
    for t in range(1, shocks.shape[1]):
        x[:, t] = process.ar * x[:, t - 1] + process.sd * shocks[:, t]
    return x


@dataclass(frozen=True)
class EconomyModel:
    """The economy's deviations as a VAR(1), x(t) = A x(t-1) + L e(t), x(base year) = 0,
    with e independent standard normals: ``names`` (in ECONOMY_VARIABLES order), ``ar``
    the matrix A, ``covariance`` L L' of the yearly innovations (fractions squared)."""

    names: tuple[str, ...]
    ar: np.ndarray
    covariance: np.ndarray

    @property
    def stationary_covariance(self) -> np.ndarray:
        """The deviations' covariance far from the base year: the solution V of
        V = A V A' + L L' (a discrete Lyapunov equation)."""
        from scipy.linalg import solve_discrete_lyapunov

        return solve_discrete_lyapunov(self.ar, self.covariance)


def economy_model(spec: StochasticSpec) -> EconomyModel | None:
    """The declared AR(1)s with correlated innovations (A diagonal), or the VAR(1) fitted on
    the model's economy history by ordinary least squares with a constant (statsmodels'
    VAR; the constant only centres the history: draws are deviations from the model's own
    path); None when the economy does not vary."""
    history = spec.economy_history
    if history is not None:
        return _fitted_economy(history)
    if not spec.economy:
        return None
    names = tuple(spec.economy)
    sd = np.array([spec.economy[n].sd for n in names])
    return EconomyModel(names, np.diag([spec.economy[n].ar for n in names]),
                        spec.correlation * np.outer(sd, sd))


def _fitted_economy(history) -> EconomyModel:
    try:
        from statsmodels.tsa.api import VAR
    except ImportError as exc:
        raise SpfsimError(f"{history.file}: stochastic.economy.history: fitting the VAR(1) "
                          "needs statsmodels: pip install 'spfsim[stochastic]'") from exc

    try:
        fit = VAR(history.values).fit(1, trend="c")
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise SpfsimError(f"{history.file}: stochastic.economy.history: the VAR(1) cannot "
                          f"be fitted: {exc}") from exc
    ar = np.asarray(fit.coefs[0])
    if np.max(np.abs(np.linalg.eigvals(ar)), initial=0.0) >= 1.0:
        raise SpfsimError(f"{history.file}: stochastic.economy.history: the fitted VAR(1) "
                          "is not stationary (an eigenvalue of its coefficient matrix is 1 "
                          "or more in modulus): give the processes' sd and ar instead")
    return EconomyModel(history.names, ar, np.asarray(fit.sigma_u))


def economy_deviations(model: EconomyModel | None, seed: int, draws: np.ndarray,
                       years: np.ndarray) -> dict[str, np.ndarray]:
    """(draw, year) deviations of each economic variable of ``model``: its VAR(1) driven by
    keyed standard normals through the Cholesky factor of the innovations' covariance."""
    if model is None:
        return {}
    z = np.stack([innovations(seed, name, draws, years) for name in model.names])
    shocks = np.einsum("ij,jdt->idt", _cholesky(model.covariance), z)
    x = np.zeros_like(shocks)
    for t in range(1, len(years)):
        x[:, :, t] = np.einsum("ij,jd->id", model.ar, x[:, :, t - 1]) + shocks[:, :, t]
    return {name: x[i] for i, name in enumerate(model.names)}


def _cholesky(covariance: np.ndarray) -> np.ndarray:
    """A lower-triangular L with L L' = ``covariance``; variables without variance get
    none (their deviations stay exactly 0), and a semi-definite matrix (perfectly
    correlated variables) is factored with a ridge of 1e-12 of its variances."""
    varying = np.diag(covariance) > 0
    factor = np.zeros_like(covariance)
    sub = covariance[np.ix_(varying, varying)]
    ridge = 1e-12 * np.diag(np.diag(sub))
    factor[np.ix_(varying, varying)] = np.linalg.cholesky(sub + ridge)
    return factor


@dataclass(frozen=True)
class MortalityModel:
    """b(x) by (age, sex) and, per sex, the yearly sd of k(t)'s random walk and the sd of
    its drift's estimate (0 without parameter uncertainty). The improvement method is the
    special case b(x) = 1 at every age, sd its ``sd``, no drift uncertainty."""

    bx: np.ndarray  # (age, sex)
    sigma: np.ndarray  # (sex,)
    drift_sd: np.ndarray  # (sex,)


def mortality_model(spec: StochasticSpec) -> MortalityModel | None:
    """The mortality model of the declaration (Lee-Carter fitted on its history), or None
    when mortality does not vary."""
    m = spec.mortality
    if m is None:
        return None
    if m.method == "improvement":
        return MortalityModel(np.ones((len(AGES), 2)), np.full(2, m.sd), np.zeros(2))
    table = m.history
    assert table is not None
    years = table.coords["year"]
    bx, sigma, drift_sd = np.zeros((len(AGES), 2)), np.zeros(2), np.zeros(2)
    for s, sex in enumerate(SEXES):
        try:
            fit = LeeCarter.fit(table.values["mx"][:, :, s], years, AGES, sex=sex)
        except ValueError as exc:
            raise SpfsimError(f"{m.history_file}: stochastic.mortality.history: cannot fit "
                              f"the Lee-Carter model for {sex}s: {exc}") from exc
        bx[:, s], sigma[s] = fit.bx, fit.sigma
        if m.parameter_uncertainty:
            drift_sd[s] = fit.sigma / np.sqrt(len(years) - 1)
    return MortalityModel(bx, sigma, drift_sd)


def mortality_deviations(model: MortalityModel, seed: int, draws: np.ndarray,
                         years: np.ndarray) -> np.ndarray:
    """(draw, year, sex) deviations of k(t) from its deterministic path: the random walk's
    sum of innovations sigma e(t), plus (theta_draw - theta) h for the drift's uncertainty
    (theta_draw ~ N(theta, drift_sd^2), one value per draw), h years after the base year."""
    out = np.zeros((len(draws), len(years), 2))
    h = np.arange(len(years), dtype=float)
    for s, sex in enumerate(SEXES):
        steps = model.sigma[s] * innovations(seed, f"mortality_{sex}", draws, years)
        steps[:, 0] = 0.0
        drift = model.drift_sd[s] * innovations(seed, f"drift_{sex}", draws, years[:1])
        out[..., s] = np.cumsum(steps, axis=1) + drift * h
    return out


@dataclass(frozen=True)
class DrawPaths:
    """The deviations of a set of draws, (draw, year[, sex]) each; None: not varied."""

    draws: np.ndarray
    mortality: np.ndarray | None
    fertility: np.ndarray | None
    migration: np.ndarray | None
    economy: dict[str, np.ndarray]


def draw_paths(spec: StochasticSpec, mortality: MortalityModel | None,
               economy: EconomyModel | None, seed: int, draws: np.ndarray,
               years: np.ndarray) -> DrawPaths:
    """The deviations of ``draws`` (draw numbers) over ``years``."""
    draws = np.asarray(draws, dtype=np.int64)

    def ar(process, variable):
        if process is None:
            return None
        return autoregressive(process, innovations(seed, variable, draws, years))

    return DrawPaths(
        draws,
        None if mortality is None else mortality_deviations(mortality, seed, draws, years),
        ar(None if spec.fertility is None else spec.fertility.process, "fertility"),
        ar(spec.migration, "migration"),
        economy_deviations(economy, seed, draws, years))


def drawn_assumptions(a: Assumptions, spec: StochasticSpec, mortality: MortalityModel | None,
                      paths: DrawPaths, i: int) -> Assumptions:
    """The assumptions of the i-th draw of ``paths``: the deterministic ones moved by its
    deviations (log m(x, t) + b(x) dk(t); TFR + d(t) within its bounds, the age schedule
    kept; net migration + d(t) x base population, spread like the year's migrants; each
    economic rate + its deviation, unemployment within [0, 0.95])."""
    changes: dict[str, np.ndarray] = {}
    if paths.mortality is not None and mortality is not None:
        changes["mx"] = a.mx * np.exp(mortality.bx[None] * paths.mortality[i][:, None, :])
    if paths.fertility is not None and spec.fertility is not None:
        changes["asfr"] = _fertility(a.asfr, paths.fertility[i], spec.fertility.min_tfr,
                                     spec.fertility.max_tfr)
    if paths.migration is not None:
        changes["net_migration"] = _migration(a, paths.migration[i])
    for name, deviation in paths.economy.items():
        base = getattr(a, name)
        moved = base + deviation[i].reshape((-1,) + (1,) * (base.ndim - 1))
        # bounds that never bind on the deterministic values themselves
        changes[name] = (np.clip(moved, 0.0, np.maximum(UNEMPLOYMENT_CAP, base))
                         if name == "unemployment" else np.maximum(moved, np.minimum(-0.99, base)))
    return replace(a, **changes) if changes else a


def _fertility(asfr: np.ndarray, deviation: np.ndarray, low: float, high: float) -> np.ndarray:
    """asfr scaled to the drawn TFR (deterministic TFR + deviation, within [low, high]);
    years without births keep none."""
    tfr = asfr.sum(axis=1)
    drawn = np.clip(tfr + deviation, np.minimum(low, tfr), np.maximum(high, tfr))
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(tfr > 0, drawn / tfr, 1.0)
    return asfr * scale[:, None]


def _migration(a: Assumptions, deviation: np.ndarray) -> np.ndarray:
    """Net migration plus ``deviation`` x the base population (persons), spread over ages
    and sexes in proportion to each year's assumed migrants (|M|)."""
    weight = np.abs(a.net_migration)
    total = weight.sum(axis=(1, 2), keepdims=True)
    if np.any(total <= 0):
        raise SpfsimError("stochastic.migration: every projection year needs some assumed "
                          "migrants (the migration table) to spread the deviation over ages")
    persons = deviation[:, None, None] * float(a.base_population.sum())
    return a.net_migration + persons * weight / total
