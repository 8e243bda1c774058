"""Single-age life tables and the survival ratios a cohort-component projection needs.

Ages run 0..omega, the last age group open. Conventions (HMD Methods Protocol v6):
a(0) from Andreev & Kingkade (2015) by sex; a(x) = 0.5 at other closed ages; for the open
group L = l / m. q(x) = m / (1 + (1 - a) m), capped at 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def infant_ax(m0: np.ndarray, sex: str | None) -> np.ndarray:
    """Average years lived in the first year by infants who die (Andreev-Kingkade 2015).

    ``sex`` None uses the mean of the male and female formulas.
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


@dataclass(frozen=True)
class LifeTable:
    """A period life table by single age; arrays broadcast over leading dimensions.

    Attributes are per unit radix (l(0) = 1): ``lx`` survivors to exact age x, ``dx``
    deaths in [x, x+1), ``Lx`` person-years lived in [x, x+1) (open group: all above),
    ``Tx`` person-years above x, ``ex`` life expectancy at x, ``qx``, ``mx``, ``ax``.
    """

    mx: np.ndarray
    qx: np.ndarray
    ax: np.ndarray
    lx: np.ndarray
    dx: np.ndarray
    Lx: np.ndarray
    Tx: np.ndarray
    ex: np.ndarray

    @classmethod
    def from_mx(cls, mx: np.ndarray, sex: str | None = None) -> LifeTable:
        """Life table from central death rates m(x) (per person-year), ages on the last axis."""
        mx = np.asarray(mx, dtype=float)
        ax = np.full(mx.shape, 0.5)
        ax[..., 0] = infant_ax(mx[..., 0], sex)
        qx = np.minimum(mx / (1.0 + (1.0 - ax) * mx), 1.0)
        qx[..., -1] = 1.0
        return cls._complete(mx, qx, ax)

    @classmethod
    def from_qx(cls, qx: np.ndarray, sex: str | None = None) -> LifeTable:
        """Life table from death probabilities q(x); the last age is open (q = 1)."""
        qx = np.asarray(qx, dtype=float).copy()
        qx[..., -1] = 1.0
        ax = np.full(qx.shape, 0.5)
        # a(0) depends on m(0); m0 = q0 / (1 - (1 - a0) q0) is solved by a few fixed-point steps
        q0 = qx[..., 0]
        a0 = np.full(q0.shape, 0.1)
        for _ in range(20):
            a0 = infant_ax(q0 / (1.0 - (1.0 - a0) * q0), sex)
        ax[..., 0] = a0
        mx = qx / (1.0 - (1.0 - ax) * qx)
        # the open group needs m; with q = 1 it is not identified: take the last closed rate
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
