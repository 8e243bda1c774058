"""Lifetime amounts in the micro engine: histograms of what persons paid and received.

At death the kernels bin each person's lifetime contributions and benefits
(:func:`lifetime_bin`); when a slot is dropped (death or emigration) or at the horizon,
:func:`record_lifetimes` bins their money's worth ratio and net transfer
(:func:`asinh_bin`).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .counters import fixed
from .store import GONE, INVALID, RETIRED

# lifetime histograms at death: bin 0 holds zero; bins 1.. are log-spaced multiples of the
# base-year average earnings, from 10**LOG_LOW to 10**LOG_HIGH
LIFETIME_BINS, LOG_LOW, LOG_HIGH, COHORT_GROUP = 64, -3.0, 3.3, 5


@nb.njit(inline="always", cache=True)
def lifetime_bin(value: float) -> np.int64:
    """Histogram bin of a lifetime amount (in base-year average earnings)."""
    if value <= 0.0:
        return np.int64(0)
    x = (math.log10(value) - LOG_LOW) / (LOG_HIGH - LOG_LOW) * (LIFETIME_BINS - 1)
    return np.int64(min(max(math.floor(x), 0.0), LIFETIME_BINS - 2)) + 1


def lifetime_bin_edges() -> np.ndarray:
    """Lower edges of the lifetime bins (bin 0: exactly zero)."""
    steps = np.arange(LIFETIME_BINS - 1) / (LIFETIME_BINS - 1)
    return np.concatenate([[0.0], 10.0 ** (LOG_LOW + steps * (LOG_HIGH - LOG_LOW))])


# each person's money's worth ratio and net transfer in the pension scheme, recorded when
# the slot is dropped (death or emigration) or at the horizon (:func:`record_lifetimes`):
# histograms uniform in asinh(value / unit), logarithmic for |value| >> unit (bins 2.8 %
# wide) and linear through zero, so that one binning holds ratios from 0 and transfers of
# either sign
EXIT_RATIO, EXIT_NET = 0, 1
EXIT_BINS, EXIT_SPAN = 1024, 14.5  # asinh(1e6) = 14.5: |value| up to 1e6 units
RATIO_UNIT = 1e-3  # money's worth ratio
NET_UNIT = 1e-3  # net transfer, in base-year average earnings (present value)
# present values by (cohort group, sex), currency at 1 January of the base year
PV_CONTRIBUTIONS, PV_BENEFITS, PV_AFTER = 0, 1, 2


@nb.njit(inline="always", cache=True)
def asinh_bin(x: float) -> np.int64:
    """Bin of ``x`` (in units) among EXIT_BINS uniform in asinh(x) over +-EXIT_SPAN."""
    t = (math.asinh(x) + EXIT_SPAN) / (2.0 * EXIT_SPAN) * EXIT_BINS
    return np.int64(min(max(math.floor(t), 0.0), EXIT_BINS - 1))


def asinh_bin_edges() -> np.ndarray:
    """The EXIT_BINS + 1 bin edges in asinh(value / unit)."""
    return np.linspace(-EXIT_SPAN, EXIT_SPAN, EXIT_BINS + 1)


@nb.njit(cache=True)
def record_lifetimes(status, age, sex, birth_year, pension, lifetime_contributions,
                     lifetime_benefits, size, first_birth_year, unit, continuation,
                     everyone, exits, totals, scale):
    """Add persons' lifetime present values to ``exits`` (cohort group, sex, 2, EXIT_BINS)
    and ``totals`` (cohort group, sex, 3; int64 fixed point, units of ``scale`` currency,
    so that the totals do not depend on the order the persons are added in): those gone
    (before their slots are dropped) or, with ``everyone``, all (at the horizon).

    A pensioner still alive at the horizon receives, on top of the pensions paid, their
    continuation: the pension times ``continuation`` (age, sex), the present value at 1
    January of the base year of 1 a year paid from the next year for life (see
    spfsim.equity.cohorts.continuation_factors). Persons with neither contributions nor
    benefits are not members and are left out; the money's worth ratio (benefits over
    contributions) counts those with contributions. ``unit``: currency per base-year
    average earnings, the net transfer's unit.
    """
    n_groups = exits.shape[0]
    for i in range(size):
        st = status[i]
        if st != GONE and not everyone:
            continue
        paid = np.float64(lifetime_contributions[i])
        received = np.float64(lifetime_benefits[i])
        after = 0.0
        if st in (RETIRED, INVALID):
            after = pension[i] * continuation[age[i], sex[i]]
        if paid <= 0.0 and received + after <= 0.0:
            continue
        s = np.int64(sex[i])
        group = min(max(np.int64(birth_year[i]) - first_birth_year, 0) // COHORT_GROUP,
                    n_groups - 1)
        totals[group, s, PV_CONTRIBUTIONS] += fixed(paid, scale)
        totals[group, s, PV_BENEFITS] += fixed(received, scale)
        totals[group, s, PV_AFTER] += fixed(after, scale)
        exits[group, s, EXIT_NET, asinh_bin((received + after - paid) / unit / NET_UNIT)] += 1
        if paid > 0.0:
            exits[group, s, EXIT_RATIO, asinh_bin((received + after) / paid / RATIO_UNIT)] += 1
