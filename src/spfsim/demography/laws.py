"""Parametric mortality laws: Makeham (and Gompertz, its special case A = 0) in closed form.

Makeham (1860): force of mortality mu(x) = A + B c^x (per person-year, x in years), with
A >= 0 (the age-independent "accident" hazard), B > 0 and c > 1. Gompertz (1825) is A = 0,
usually written mu(x) = a e^(b x) (a = B, b = ln c).

Survival from x to x + t integrates the force:

    tp(x) = exp(-A t - B c^x (c^t - 1) / ln c),      q(x) = 1 - 1p(x).

The SOA Illustrative Life Table (Bowers et al. 1997, *Actuarial Mathematics*, 2nd ed.,
Appendix 2A) follows Makeham with A = 0.0007, B = 0.00005, c = 10^0.04 from age 13
(:data:`SOA_ILLUSTRATIVE`). To turn a law into a :class:`~spfsim.demography.LifeTable`
(annuities, insurances, commutation columns), pass :func:`makeham_qx` to
``LifeTable.from_qx`` (its last age is closed off, q = 1, with the open group's m set by
``open_mx``, e.g. :func:`makeham_mu` at that age).

Functions broadcast over numpy arrays (ages, durations and parameters) and use SciPy only
in :func:`gompertz_life_expectancy` (imported on first use).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "SOA_ILLUSTRATIVE",
    "gompertz_life_expectancy",
    "makeham_mu",
    "makeham_qx",
    "makeham_survival",
]

#: Makeham parameters (A, B, c) of the SOA Illustrative Life Table, ages >= 13
#: (Bowers et al. 1997, Appendix 2A).
SOA_ILLUSTRATIVE: tuple[float, float, float] = (0.0007, 0.00005, 10.0 ** 0.04)


def _result(x: np.ndarray) -> float | np.ndarray:
    return float(x) if x.ndim == 0 else x


def _check(B: np.ndarray, c: np.ndarray) -> None:
    if np.any(B < 0) or np.any(c <= 0):
        raise ValueError("Makeham parameters need B >= 0 and c > 0")


def makeham_mu(x: ArrayLike, A: ArrayLike, B: ArrayLike, c: ArrayLike) -> float | np.ndarray:
    """Force of mortality mu(x) = A + B c^x at exact age ``x`` (years), per person-year."""
    x, A, B, c = (np.asarray(v, dtype=float) for v in (x, A, B, c))
    _check(B, c)
    return _result(A + B * c ** x)


def _cumulative_hazard(x: np.ndarray, t: np.ndarray, A: np.ndarray, B: np.ndarray,
                       c: np.ndarray) -> np.ndarray:
    """integral_0^t mu(x + s) ds = A t + B c^x (c^t - 1) / ln c (B t c^x when c = 1)."""
    log_c = np.log(c)
    # (c^t - 1) / ln c, written with expm1 so that c close to 1 keeps its precision
    safe = np.where(log_c == 0.0, 1.0, log_c)
    growth = np.where(log_c == 0.0, t, np.expm1(t * safe) / safe)
    return A * t + B * c ** x * growth


def makeham_survival(x: ArrayLike, t: ArrayLike, A: ArrayLike, B: ArrayLike,
                     c: ArrayLike) -> float | np.ndarray:
    """t-year survival probability from exact age x, tp(x) = exp(-A t - B c^x (c^t - 1)/ln c).

    ``x`` and ``t`` in years (``t`` >= 0); the result is a probability (dimensionless).
    """
    x, t, A, B, c = (np.asarray(v, dtype=float) for v in (x, t, A, B, c))
    _check(B, c)
    if np.any(t < 0):
        raise ValueError("durations t must be >= 0")
    return _result(np.exp(-_cumulative_hazard(x, t, A, B, c)))


def makeham_qx(ages: ArrayLike, A: ArrayLike, B: ArrayLike, c: ArrayLike) -> float | np.ndarray:
    """One-year death probabilities q(x) = 1 - 1p(x) at the given (integer) ages.

    Computed as -expm1(-H) with H the one-year cumulative hazard, so that small q keep
    full relative precision. Pass the result to ``LifeTable.from_qx`` to build a table.
    """
    x, A, B, c = (np.asarray(v, dtype=float) for v in (ages, A, B, c))
    _check(B, c)
    return _result(-np.expm1(-_cumulative_hazard(x, np.ones_like(x), A, B, c)))


def _exp_e1(z: np.ndarray) -> np.ndarray:
    """e^z E_1(z) for z > 0, without overflow for large z (asymptotic series above 500)."""
    from scipy.special import exp1

    small = z <= 500.0
    zs = np.where(small, z, 1.0)
    zl = np.where(small, 1.0, z)
    direct = np.exp(zs) * exp1(zs)
    # e^z E1(z) ~ (1/z) sum_k (-1)^k k! / z^k; five terms leave a relative error < 1e-11
    series = (1.0 - 1.0 / zl + 2.0 / zl**2 - 6.0 / zl**3 + 24.0 / zl**4) / zl
    return np.where(small, direct, series)


def gompertz_life_expectancy(a: ArrayLike, b: ArrayLike,
                             age: ArrayLike = 0.0) -> float | np.ndarray:
    """Complete life expectancy under Gompertz mortality mu(x) = a e^(b x), in years.

    At birth e(0) = (1/b) e^(a/b) E_1(a/b), E_1 the exponential integral
    (``scipy.special.exp1``): substitute u = (a/b) e^(b t) in the integral of
    S(t) = exp(-(a/b)(e^(b t) - 1)). At exact age x the same formula holds with a replaced
    by mu(x) = a e^(b x). ``a`` per person-year (> 0), ``b`` per year (> 0).
    """
    a, b, x = (np.asarray(v, dtype=float) for v in (a, b, age))
    if np.any(a <= 0) or np.any(b <= 0):
        raise ValueError("Gompertz parameters need a > 0 and b > 0")
    z = a * np.exp(b * x) / b
    return _result(_exp_e1(z) / b)

