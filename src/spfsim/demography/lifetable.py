"""Single-age life tables, the survival ratios a cohort-component projection needs, and
life-contingent actuarial functions (annuities, insurances, commutation columns).

Ages run 0..omega, the last age group open. Conventions (HMD Methods Protocol v6):
a(0) from Andreev & Kingkade (2015) by sex; a(x) = 0.5 at other closed ages; for the open
group L = l / m. q(x) = m / (1 + (1 - a) m), capped at 1. Other a(0) rules are available
through the ``a0`` keyword (see :data:`A0_RULES`); ``a0="wpp"`` reproduces UN WPP 2024.

The actuarial functions (methods of a one-dimensional :class:`LifeTable`) are written in
:mod:`spfsim.demography.contingencies`; see docs/lifetables.md for formulas and references.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from .contingencies import LifeContingencies

#: Names accepted by the ``a0`` keyword of :meth:`LifeTable.from_mx` / :meth:`LifeTable.from_qx`.
A0_RULES = ("andreev-kingkade", "wpp", "coale-demeny")

A0Rule = Literal["andreev-kingkade", "wpp", "coale-demeny"]


def infant_ax(m0: np.ndarray, sex: str | None) -> np.ndarray:
    """Average years lived in the first year by infants who die (Andreev-Kingkade 2015).

    ``sex`` None (or anything but "male"/"female") uses the mean of the male and female
    formulas.
    """
    m0 = np.asarray(m0, dtype=float)
    male = np.where(m0 < 0.02300, 0.14929 - 1.99545 * m0,
                    np.where(m0 < 0.08307, 0.02832 + 3.26201 * m0, 0.29915))
    female = np.where(m0 < 0.01724, 0.14903 - 2.05527 * m0,
                      np.where(m0 < 0.06891, 0.04667 + 3.88089 * m0, 0.31411))
    if sex == "male":
        return male
    if sex == "female":
        return female
    return 0.5 * (male + female)


def infant_ax_coale_demeny(m0: np.ndarray, sex: str | None) -> np.ndarray:
    """a(0) from 1m0 by the Coale-Demeny (West) rule, Preston, Heuveline & Guillot (2001),
    table 3.3: males 0.045 + 2.684 m0 (0.330 when m0 >= 0.107), females 0.053 + 2.800 m0
    (0.350). ``sex`` None uses the mean of the two.
    """
    m0 = np.asarray(m0, dtype=float)
    male = np.where(m0 >= 0.107, 0.330, 0.045 + 2.684 * m0)
    female = np.where(m0 >= 0.107, 0.350, 0.053 + 2.800 * m0)
    if sex == "male":
        return male
    if sex == "female":
        return female
    return 0.5 * (male + female)


def _a0_from_m0(m0: np.ndarray, sex: str | None, rule: A0Rule) -> np.ndarray:
    if rule == "andreev-kingkade":
        return infant_ax(m0, sex)
    if rule == "wpp":
        # UN WPP 2024 (found by reproducing its e0 for 13 countries, 2015-2023, to 5e-5
        # years): Andreev-Kingkade by sex, and the *male* formula for both sexes combined
        return infant_ax(m0, sex if sex == "female" else "male")
    if rule == "coale-demeny":
        return infant_ax_coale_demeny(m0, sex)
    raise ValueError(f"unknown a0 rule {rule!r}; expected one of {A0_RULES} or numbers")


@dataclass(frozen=True)
class LifeTable(LifeContingencies):
    """A period life table by single age; arrays broadcast over leading dimensions.

    Attributes are per unit radix (l(0) = 1): ``lx`` survivors to exact age x, ``dx``
    deaths in [x, x+1), ``Lx`` person-years lived in [x, x+1) (open group: all above),
    ``Tx`` person-years above x, ``ex`` life expectancy at x, ``qx``, ``mx``, ``ax``.

    The actuarial methods (:meth:`annuity_due`, :meth:`annuity_immediate`,
    :meth:`annuity_last_survivor`, :meth:`reversionary_annuity`, :meth:`pure_endowment`,
    :meth:`insurance`, :meth:`commutation`) need a one-dimensional table (ages only).
    """

    mx: np.ndarray
    qx: np.ndarray
    ax: np.ndarray
    lx: np.ndarray
    dx: np.ndarray
    Lx: np.ndarray
    Tx: np.ndarray
    ex: np.ndarray

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_mx(cls, mx: np.ndarray, sex: str | None = None, *,
                a0: A0Rule | ArrayLike = "andreev-kingkade") -> LifeTable:
        """Life table from central death rates m(x) (per person-year), ages on the last axis.

        ``a0``: the rule for a(0), the mean years lived in the first year by infants who die
        — "andreev-kingkade" (default, HMD; ``sex`` None averages the male and female
        formulas), "wpp" (UN WPP 2024: Andreev-Kingkade by sex, the male formula for both
        sexes combined, ``sex`` None or "both"), "coale-demeny" (Preston et al. 2001), or
        the values themselves (a number or an array broadcasting over the leading dims).
        """
        mx = np.asarray(mx, dtype=float)
        ax = np.full(mx.shape, 0.5)
        if isinstance(a0, str):
            ax[..., 0] = _a0_from_m0(mx[..., 0], sex, a0)
        else:
            ax[..., 0] = np.asarray(a0, dtype=float)
        qx = np.minimum(mx / (1.0 + (1.0 - ax) * mx), 1.0)
        qx[..., -1] = 1.0
        return cls._complete(mx, qx, ax)

    @classmethod
    def from_qx(cls, qx: np.ndarray, sex: str | None = None, *,
                a0: A0Rule | ArrayLike = "andreev-kingkade",
                open_mx: ArrayLike | None = None) -> LifeTable:
        """Life table from death probabilities q(x); the last age is open (q = 1).

        ``a0`` as in :meth:`from_mx` (a rule is applied to m(0), found by fixed point).
        ``open_mx``: m of the open group (per person-year); None (default) takes the rate of
        the last closed age, m(omega-1) = q / (1 - 0.5 q).
        """
        qx = np.asarray(qx, dtype=float).copy()
        qx[..., -1] = 1.0
        ax = np.full(qx.shape, 0.5)
        q0 = qx[..., 0]
        if isinstance(a0, str):
            # a(0) depends on m(0); m0 = q0 / (1 - (1 - a0) q0) is solved by a few
            # fixed-point steps
            a = np.full(q0.shape, 0.1)
            for _ in range(20):
                a = _a0_from_m0(q0 / (1.0 - (1.0 - a) * q0), sex, a0)
            ax[..., 0] = a
        else:
            ax[..., 0] = np.asarray(a0, dtype=float)
        mx = qx / (1.0 - (1.0 - ax) * qx)
        if open_mx is not None:
            mx[..., -1] = np.asarray(open_mx, dtype=float)
        else:
            # with q = 1 the open group's m is not identified: take the last closed rate
            mx[..., -1] = mx[..., -2] if qx.shape[-1] > 1 else 1.0
        return cls._complete(mx, qx, ax)

    @classmethod
    def _complete(cls, mx, qx, ax) -> LifeTable:
        px = 1.0 - qx
        lx = np.concatenate([np.ones((*qx.shape[:-1], 1)), np.cumprod(px, axis=-1)[..., :-1]],
                            axis=-1)
        dx = lx * qx
        Lx = lx - (1.0 - ax) * dx
        with np.errstate(divide="ignore", invalid="ignore"):
            open_L = np.where(mx[..., -1] > 0, lx[..., -1] / mx[..., -1], 0.0)
        Lx[..., -1] = open_L
        ax[..., -1] = np.where(dx[..., -1] > 0, open_L / np.maximum(dx[..., -1], 1e-300), 0.0)
        Tx = np.cumsum(Lx[..., ::-1], axis=-1)[..., ::-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            ex = np.where(lx > 0, Tx / lx, 0.0)
        return cls(mx, qx, ax, lx, dx, Lx, Tx, ex)

    def projection_survival(self) -> tuple[np.ndarray, np.ndarray]:
        """Survival ratios for a one-year projection step between mid-year populations.

        Returns ``(s_birth, s)``: ``s_birth = L(0) / l(0)`` for births during the step;
        ``s[x] = L(x+1) / L(x)`` for those aged x at the start (x = 0..omega-2), and
        ``s[omega-1] = T(omega) / T(omega-1)`` for the merged last two groups (those aged
        omega-1 and omega+ at the start end in the open group).
        """
        L, T = self.Lx, self.Tx
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(L[..., :-1] > 0, L[..., 1:] / L[..., :-1], 0.0)
            s[..., -1] = np.where(T[..., -2] > 0, T[..., -1] / T[..., -2], 0.0)
        return L[..., 0] / self.lx[..., 0], s

    # ------------------------------------------------------------------ actuarial helpers

    @property
    def omega(self) -> int:
        """The open age group's lower bound (the last age of the table)."""
        return self.lx.shape[-1] - 1

    def _require_1d(self) -> None:
        if self.lx.ndim != 1:
            raise ValueError("actuarial functions need a one-dimensional life table (ages "
                             f"only); this one has shape {self.lx.shape}")

    def survival(self, ages: ArrayLike) -> np.ndarray:
        """l at exact (possibly fractional) ages >= 0, per unit radix.

        Below omega, linear between integer ages (UDD): l(k + s) = l(k) - s d(k). From omega
        on, the open group's constant force m = m(omega): l(omega + t) = l(omega) e^(-m t),
        so that the integral of l over the open group is L(omega) = l(omega) / m.
        """
        self._require_1d()
        a = np.asarray(ages, dtype=float)
        if np.any(a < 0):
            raise ValueError("ages must be >= 0")
        w = self.omega
        k = np.minimum(np.floor(a), w - 1).astype(int) if w > 0 else np.zeros(a.shape, int)
        closed = self.lx[k] - (a - k) * (self.lx[k] - self.lx[np.minimum(k + 1, w)])
        with np.errstate(over="ignore", invalid="ignore"):
            open_ = self.lx[w] * np.exp(-self.mx[w] * np.maximum(a - w, 0.0))
        return np.where(a >= w, open_, closed)
