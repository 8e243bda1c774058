"""Lee-Carter mortality model: fit, diagnostics, central forecast and stochastic simulation.

The model (Lee & Carter 1992) writes the central death rate m(x, t) (deaths per person-year)
at single age x in calendar year t as

    log m(x, t) = a(x) + b(x) k(t) + e(x, t),    sum_x b(x) = 1,  sum_t k(t) = 0,

so that a(x) is the mean of log m(x, t) over the fitting years, k(t) a period index of the
level of mortality (dimensionless, in log-rate units once multiplied by b), and b(x) the
share of the change of k(t) that falls on age x. a, b and k come from the singular value
decomposition of the centred matrix log m(x, t) - a(x). Optionally k(t) is re-estimated in
a second stage so that the fitted rates reproduce each year's observed life expectancy at
birth (Lee & Miller 2001) or total deaths (Lee & Carter 1992; needs exposures).

k(t) is forecast as a random walk with drift, k(t+1) = k(t) + theta + sigma eps(t+1),
theta = (k(T) - k(1)) / (T - 1), so that k(T+h) ~ N(k(T) + h theta, h sigma^2); parameter
uncertainty adds theta ~ N(theta_hat, sigma^2 / (T - 1)). Forecast rates jump off either from
the fitted rates of the last year (``jump_off="fitted"``, the original method) or from the
observed ones (``jump_off="observed"``, Lee & Miller 2001):

    fitted:    log m(x, T+h) = a(x) + b(x) k(T+h)
    observed:  log m(x, T+h) = log m_obs(x, T) + b(x) (k(T+h) - k(T)).

Random numbers are counter-based (Philox), keyed by (seed, stream) with the path number in the
counter, so that a path's draws depend neither on the number of paths nor on the horizon
(a shorter run is a prefix of a longer one: common random numbers). See
docs/mortality-models.md for the method, the references and diagnostics on US data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .lifetable import LifeTable

__all__ = [
    "RNG_STREAM",
    "LeeCarter",
    "LeeCarterForecast",
    "LeeCarterSimulation",
    "fold_open_age",
    "percentile_bands",
]

#: Default random-number stream of Lee-Carter simulations (the second word of the Philox key).
RNG_STREAM = 0x4C43  # "LC"

JumpOff = Literal["fitted", "observed"]
Adjust = Literal["e0", "deaths"] | None


# --------------------------------------------------------------------------------------------
# helpers


def fold_open_age(mx: np.ndarray, omega: int, sex: str | None = None) -> np.ndarray:
    """Close a single-age schedule at a lower open age ``omega``.

    ``mx`` holds central death rates (per person-year) at single ages 0..W on the last axis,
    the last age open (W+). Returns rates at ages 0..omega, where ages below omega are kept and
    the new open group omega+ gets the rate of the life-table (stationary) population above
    omega, m(omega+) = l(omega) / T(omega) = deaths / person-years above omega, computed with
    :meth:`LifeTable.from_mx` (a(x) = 0.5 at closed ages, L = l / m for the open group, the HMD
    conventions). The life expectancy at every age <= omega is unchanged by the folding.
    """
    mx = np.asarray(mx, dtype=float)
    if not 0 < omega < mx.shape[-1]:
        raise ValueError(f"omega must lie in 1..{mx.shape[-1] - 1}, got {omega}")
    table = LifeTable.from_mx(mx, sex=sex)
    out = mx[..., : omega + 1].copy()
    out[..., omega] = table.lx[..., omega] / table.Tx[..., omega]
    return out


def percentile_bands(paths: np.ndarray, q: tuple[float, ...] = (2.5, 50.0, 97.5)) -> np.ndarray:
    """Percentiles over simulated paths (axis 0), e.g. of e0 paths shaped (path, year).

    ``q`` in percent. Returns an array shaped ``(len(q), *paths.shape[1:])``, in the units of
    ``paths`` (years of life for e0).
    """
    return np.percentile(np.asarray(paths, dtype=float), q, axis=0)


def _check_rates(mx: np.ndarray, years: np.ndarray, ages: np.ndarray) -> None:
    """Raise a ValueError naming the first year and age whose rate is missing or not > 0."""
    bad = ~(np.isfinite(mx) & (mx > 0))
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"mx must be finite and > 0 for the log transform: year {years[i]}, age {ages[j]} "
            f"has mx = {mx[i, j]!r} ({int(bad.sum())} bad cell(s) in all); restrict the age "
            "range, fold the oldest ages (fold_open_age) or graduate the rates first")


def _bisect(fun, target: np.ndarray, start: np.ndarray, span: float) -> np.ndarray:
    """Vectorised root of ``fun(k) = target`` (elementwise), searched around ``start``.

    ``fun`` maps k shaped (n,) to values shaped (n,); it must change sign around the root.
    The bracket [start - span, start + span] is widened (doubling) until it holds a sign change.
    """
    lo, hi = start - span, start + span
    f_lo, f_hi = fun(lo) - target, fun(hi) - target
    for _ in range(60):
        missing = np.sign(f_lo) == np.sign(f_hi)
        if not missing.any():
            break
        width = hi - lo
        lo = np.where(missing, lo - width, lo)
        hi = np.where(missing, hi + width, hi)
        f_lo, f_hi = fun(lo) - target, fun(hi) - target
    else:
        raise ValueError("second-stage re-estimation of k(t) found no bracketing interval")
    increasing = f_hi > f_lo
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if np.all((mid == lo) | (mid == hi)):
            break
        f_mid = fun(mid) - target
        go_up = (f_mid < 0) == increasing  # the root lies above mid
        lo = np.where(go_up, mid, lo)
        hi = np.where(go_up, hi, mid)
    return 0.5 * (lo + hi)


def _rng(seed: int, stream: int, path: int) -> np.random.Generator:
    """Counter-based generator for one path: Philox key (seed, stream), path in the counter."""
    key = np.array([seed, stream], dtype=np.uint64)
    counter = np.array([0, 0, path, 0], dtype=np.uint64)
    return np.random.Generator(np.random.Philox(key=key, counter=counter))


# --------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class LeeCarterForecast:
    """Central (mean-k) forecast.

    ``years`` (horizon,) calendar years T+1..T+h; ``kt`` (horizon,) the mortality index;
    ``mx`` (horizon, age) central death rates per person-year.
    """

    years: np.ndarray
    kt: np.ndarray
    mx: np.ndarray


@dataclass(frozen=True)
class LeeCarterSimulation:
    """Simulated paths.

    ``years`` (horizon,); ``kt`` (path, horizon) the mortality index; ``mx`` (path, horizon,
    age) central death rates per person-year; ``drift`` (path,) the drift used by each path
    (all equal to the estimate without parameter uncertainty), per year.
    """

    years: np.ndarray
    kt: np.ndarray
    mx: np.ndarray
    drift: np.ndarray


# --------------------------------------------------------------------------------------------
# the model


@dataclass(frozen=True)
class LeeCarter:
    """A fitted Lee-Carter model; build it with :meth:`LeeCarter.fit`.

    Attributes (arrays are read as given; do not modify them):

    ``years`` (T,) and ``ages`` (A,) of the fit; ``log_mx`` (T, A) observed log central death
    rates; ``ax`` (A,) mean log rate by age; ``bx`` (A,) age response, sum 1; ``kt`` (T,)
    mortality index, sum 0 (after any second-stage adjustment, re-centred into ``ax``);
    ``kt_svd`` (T,) the first-stage index from the SVD; ``singular_values`` of the centred
    matrix; ``drift`` theta (index units per year); ``sigma`` the standard deviation of the
    random walk's innovations (index units); ``jump_off``, ``adjust``, ``sex`` as given to fit.
    """

    years: np.ndarray
    ages: np.ndarray
    log_mx: np.ndarray
    ax: np.ndarray
    bx: np.ndarray
    kt: np.ndarray
    kt_svd: np.ndarray
    singular_values: np.ndarray
    drift: float
    sigma: float
    jump_off: JumpOff = "fitted"
    adjust: Adjust = None
    sex: str | None = None

    # ---- estimation -------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        mx: np.ndarray,
        years: np.ndarray,
        ages: np.ndarray,
        *,
        jump_off: JumpOff = "fitted",
        adjust: Adjust = None,
        sex: str | None = None,
        exposures: np.ndarray | None = None,
    ) -> LeeCarter:
        """Fit the model to central death rates ``mx`` shaped (year, age), per person-year.

        ``years``: consecutive calendar years (T >= 3); ``ages``: the ages of the columns
        (single ages 0..omega, last open, if life expectancies are wanted).

        ``adjust``: None keeps the SVD index; ``"e0"`` re-estimates each k(t) so that the
        fitted rates give the observed life expectancy at birth (Lee & Miller 2001; both
        computed with :class:`LifeTable` for ``sex``); ``"deaths"`` so that they give the
        observed total deaths sum_x E(x, t) m(x, t) (Lee & Carter 1992), which needs
        ``exposures`` (person-years, same shape as ``mx``). After adjustment k is re-centred
        (a(x) += b(x) mean(k), k -= mean(k)), which leaves the fitted rates unchanged but makes
        ``ax`` differ from the row mean of log m by b(x) times that mean.

        ``jump_off``: ``"fitted"`` forecasts from the fitted rates of the last year;
        ``"observed"`` from its observed rates (Lee & Miller 2001).

        ``sex``: "male", "female" or None; used only by life tables (the infant a(0)).
        """
        mx = np.asarray(mx, dtype=float)
        years = np.asarray(years)
        ages = np.asarray(ages)
        _check_fit_inputs(mx, years, ages, jump_off, adjust)
        log_mx = np.log(mx)
        ax, bx, kt, s = _svd_fit(log_mx)
        kt_svd = kt.copy()
        if adjust is not None:
            ax, kt = _adjusted_index(mx, ax, bx, kt, adjust, sex, exposures)

        steps = np.diff(kt)
        drift = (kt[-1] - kt[0]) / (kt.size - 1)
        sigma = float(np.sqrt(((steps - drift) ** 2).sum() / (kt.size - 2)))
        return cls(years=years, ages=ages, log_mx=log_mx, ax=ax, bx=bx, kt=kt, kt_svd=kt_svd,
                   singular_values=s, drift=float(drift), sigma=sigma, jump_off=jump_off,
                   adjust=adjust, sex=sex)

    # ---- in-sample diagnostics ----------------------------------------------------------------

    @property
    def fitted_log_mx(self) -> np.ndarray:
        """Fitted log central death rates a(x) + b(x) k(t), shaped (year, age)."""
        return self.ax + np.outer(self.kt, self.bx)

    @property
    def residuals(self) -> np.ndarray:
        """Observed minus fitted log rates, shaped (year, age) (log points)."""
        return self.log_mx - self.fitted_log_mx

    @property
    def rmse(self) -> float:
        """Root mean squared residual of log m over all years and ages (log points)."""
        return float(np.sqrt(np.mean(self.residuals**2)))

    @property
    def explained_variance(self) -> float:
        """Share of the centred log-rate matrix's sum of squares carried by the first
        singular vector, s_1^2 / sum_i s_i^2 (first stage, before any adjustment)."""
        s2 = self.singular_values**2
        return float(s2[0] / s2.sum())

    def fitted_e0(self) -> np.ndarray:
        """Life expectancy at birth (years) of the fitted rates, by fitting year."""
        return LifeTable.from_mx(np.exp(self.fitted_log_mx), sex=self._sex(None)).ex[:, 0]

    def observed_e0(self) -> np.ndarray:
        """Life expectancy at birth (years) of the observed rates, by fitting year."""
        return LifeTable.from_mx(np.exp(self.log_mx), sex=self._sex(None)).ex[:, 0]

    # ---- forecasting ---------------------------------------------------------------------------

    @property
    def jump_off_log_mx(self) -> np.ndarray:
        """Log rates of the last fitting year from which forecasts start, shaped (age,)."""
        if self.jump_off == "observed":
            return self.log_mx[-1]
        return self.ax + self.bx * self.kt[-1]

    def _years(self, horizon: int) -> np.ndarray:
        if horizon < 1:
            raise ValueError(f"horizon must be >= 1 year, got {horizon}")
        return self.years[-1] + np.arange(1, horizon + 1)

    def _rates(self, kt: np.ndarray) -> np.ndarray:
        """Central death rates for index values ``kt`` (any shape), ages appended last."""
        return np.exp(self.jump_off_log_mx + (kt[..., None] - self.kt[-1]) * self.bx)

    def forecast(self, horizon: int) -> LeeCarterForecast:
        """Central forecast for years T+1..T+horizon: k(T+h) = k(T) + h theta and its rates."""
        years = self._years(horizon)
        kt = self.kt[-1] + self.drift * np.arange(1, horizon + 1)
        return LeeCarterForecast(years=years, kt=kt, mx=self._rates(kt))

    def simulate(
        self,
        horizon: int,
        n_paths: int,
        seed: int,
        *,
        parameter_uncertainty: bool = True,
        stream: int = RNG_STREAM,
    ) -> LeeCarterSimulation:
        """Simulate ``n_paths`` random-walk paths of k and the rates over T+1..T+horizon.

        k(T+h) = k(T) + h theta_p + sigma (eps_1 + ... + eps_h), eps ~ N(0, 1) independent;
        theta_p = theta_hat + z_p sigma / sqrt(T - 1) with parameter uncertainty, else
        theta_hat. Path p draws z_p then eps_1..eps_h from Philox keyed (seed, stream) with p in
        the counter, so paths are reproducible, do not depend on ``n_paths`` or ``horizon``
        (prefixes), and runs with and without parameter uncertainty share their innovations.
        ``seed``: a non-negative integer, required (no global seed).
        """
        years = self._years(horizon)
        if n_paths < 1:
            raise ValueError(f"n_paths must be >= 1, got {n_paths}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        draws = np.empty((n_paths, horizon + 1))
        for p in range(n_paths):
            draws[p] = _rng(int(seed), int(stream), p).standard_normal(horizon + 1)
        se_drift = self.sigma / np.sqrt(self.kt.size - 1)
        drift = self.drift + (se_drift * draws[:, 0] if parameter_uncertainty else 0.0)
        drift = np.broadcast_to(drift, (n_paths,)).astype(float)
        h = np.arange(1, horizon + 1)
        kt = self.kt[-1] + drift[:, None] * h + self.sigma * np.cumsum(draws[:, 1:], axis=1)
        return LeeCarterSimulation(years=years, kt=kt, mx=self._rates(kt), drift=drift)

    # ---- life expectancy -------------------------------------------------------------------------

    def _sex(self, sex: str | None) -> str | None:
        return self.sex if sex is None else sex

    def _check_life_table_ages(self) -> None:
        if self.ages[0] != 0 or not np.all(np.diff(self.ages) == 1):
            raise ValueError("life expectancies need single ages 0..omega (last open)")

    def forecast_e0(self, horizon: int, *, sex: str | None = None) -> np.ndarray:
        """Life expectancy at birth (years) of the central forecast, shaped (horizon,).

        ``sex`` None uses the sex given to :meth:`fit`.
        """
        self._check_life_table_ages()
        return LifeTable.from_mx(self.forecast(horizon).mx, sex=self._sex(sex)).ex[:, 0]

    def e0_paths(
        self,
        horizon: int,
        n_paths: int,
        seed: int,
        *,
        sex: str | None = None,
        parameter_uncertainty: bool = True,
        stream: int = RNG_STREAM,
    ) -> np.ndarray:
        """Simulated life expectancy at birth (years), shaped (path, year T+1..T+horizon).

        Paths as in :meth:`simulate`; period life tables by :meth:`LifeTable.from_mx`.
        ``sex`` None uses the sex given to :meth:`fit`. Summarise with :func:`percentile_bands`.
        """
        self._check_life_table_ages()
        sim = self.simulate(horizon, n_paths, seed, parameter_uncertainty=parameter_uncertainty,
                            stream=stream)
        return LifeTable.from_mx(sim.mx, sex=self._sex(sex)).ex[..., 0]


def _check_fit_inputs(mx: np.ndarray, years: np.ndarray, ages: np.ndarray, jump_off: str,
                      adjust: str | None) -> None:
    """ValueError unless :meth:`LeeCarter.fit` can use these inputs."""
    if mx.ndim != 2 or mx.shape != (years.size, ages.size):
        raise ValueError(f"mx must be shaped (year, age) = ({years.size}, {ages.size}), "
                         f"got {mx.shape}")
    if years.size < 3:
        raise ValueError("need at least 3 years to estimate a drift and its volatility")
    if not np.all(np.diff(years) == 1):
        raise ValueError("years must be consecutive calendar years (annual steps)")
    if jump_off not in ("fitted", "observed"):
        raise ValueError(f"jump_off must be 'fitted' or 'observed', got {jump_off!r}")
    if adjust not in (None, "e0", "deaths"):
        raise ValueError(f"adjust must be None, 'e0' or 'deaths', got {adjust!r}")
    _check_rates(mx, years, ages)


def _svd_fit(log_mx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """a(x), b(x), k(t) and the singular values of log m(x, t) = a(x) + b(x) k(t) by the
    first singular vector of the centred log rates, normalised sum b(x) = 1, sum k(t) = 0
    (Lee & Carter 1992)."""
    ax = log_mx.mean(axis=0)
    u, s, vt = np.linalg.svd(log_mx - ax, full_matrices=False)
    scale = vt[0].sum()
    if abs(scale) < 1e-12 * np.abs(vt[0]).sum():
        raise ValueError("the first age vector sums to zero: b(x) cannot be normalised")
    bx = vt[0] / scale
    kt = u[:, 0] * s[0] * scale
    return ax, bx, kt - kt.mean(), s  # the mean is zero in theory; this removes rounding


def _adjusted_index(mx: np.ndarray, ax: np.ndarray, bx: np.ndarray, kt: np.ndarray,
                    adjust: str, sex: str | None, exposures: np.ndarray | None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """a(x) and k(t) with each k(t) re-estimated to give the observed life expectancy at
    birth (``adjust="e0"``, Lee & Miller 2001) or total deaths (``"deaths"``, Lee & Carter
    1992), then re-centred (a(x) += b(x) mean(k), k -= mean(k))."""
    span = max(1.0, float(np.ptp(kt)))
    if adjust == "e0":
        def fun(k: np.ndarray) -> np.ndarray:
            return LifeTable.from_mx(np.exp(ax + k[:, None] * bx), sex=sex).ex[:, 0]

        target = LifeTable.from_mx(mx, sex=sex).ex[:, 0]
    else:
        if exposures is None:
            raise ValueError("adjust='deaths' needs exposures (person-years by year "
                             "and age); adjust='e0' needs none")
        expo = np.asarray(exposures, dtype=float)
        if expo.shape != mx.shape or not np.all(np.isfinite(expo) & (expo >= 0)):
            raise ValueError(f"exposures must be finite, >= 0 and shaped {mx.shape}")

        def fun(k: np.ndarray) -> np.ndarray:
            return (expo * np.exp(ax + k[:, None] * bx)).sum(axis=1)

        target = (expo * mx).sum(axis=1)
    kt = _bisect(fun, target, kt, span)
    shift = kt.mean()
    return ax + bx * shift, kt - shift
