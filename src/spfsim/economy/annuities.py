"""Life annuity factors by age from a vector of death rates, for the engines and the equity
measures: present values of an indexed pension at the fund's rate of interest, weighted by
survival (:mod:`.discount` values cash flows that are certain; the
:class:`~spfsim.demography.lifetable.LifeTable` methods value annuities from a full table
at exact ages).

They sit in the economy layer, beside the discounting they extend, because they value money
at the economy's interest and indexation rates; they use nothing above it, so the engines
and the analysis layers (equity) can both import them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["continuation_factors"]


def continuation_factors(death_rate: np.ndarray, growth: float, rate: float,
                         years: int = 121) -> np.ndarray:
    """The per-person form of :func:`spfsim.equity.cohorts.close_tail`: (age, sex) present
    value, at the middle of the last projection year, of a life pension of 1 a year (the
    last year's amount) paid from the next year to a person alive at the horizon who is then
    aged x,

        f(x) = sum_{j=1..years} ((1 + growth) / (1 + rate))^j prod_{m=0..j-2} (1 - q(x + m))

    with ``death_rate`` q (age, sex) by age at the start of a year (the open group stays
    at its age), indexation ``growth`` and interest ``rate`` a year. In expectation over
    the last year's deaths it equals the tail that ``close_tail`` adds to a pension paid
    at age x - 1 in the last year: (1 - q(x - 1)) f(x).
    """
    q = np.asarray(death_rate, dtype=float)
    ages = np.arange(q.shape[0])
    ratio = (1.0 + growth) / (1.0 + rate)
    alive = np.ones_like(q)
    out = np.zeros_like(q)
    for j in range(1, years + 1):
        out += ratio ** j * alive
        alive = alive * (1.0 - q[np.minimum(ages + j - 1, q.shape[0] - 1)])
    return out
