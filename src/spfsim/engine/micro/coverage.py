"""Non-contributory benefits and coverage of one person in the year kernel.

The rules are those of :mod:`spfsim.engine.benefits`, which the cohort engine applies to
its cells: :func:`benefits_and_coverage` draws the benefits a person in state L receives
and counts the coverage.
"""

from __future__ import annotations

import numba as nb

from ..benefits import (
    ANY_CASH,
    L_CONTRIBUTING,
    L_PENSION_HIGH,
    L_PENSION_LOW,
    N_COVERAGE,
    OLD_AGE,
    eligible,
    in_target,
)
from . import rng
from .counters import N_COUNTS, NC_CASH, NC_GROUP, NC_GUARANTEE, NC_TOP_UP, fixed


@nb.njit(inline="always", cache=True)
def benefits_and_coverage(c, i, p, a, s, state, mother, seed, own_pension, scale, nc_codes,
                          nc_probability, nc_amount, disability_prevalence, counts, nc_money,
                          coverage):
    """Count one person's non-contributory benefits and coverage (engine.benefits rules).

    Severe disability and take-up are persistent draws (the same persons every year).
    """
    disabled = (disability_prevalence[a, s] > 0.0
                and rng.uniform(seed, rng.SEVERE_DISABILITY, p, 0) < disability_prevalence[a, s])
    covered = 0  # bit g: covered for coverage group g
    if state in (L_PENSION_LOW, L_PENSION_HIGH):
        covered |= (1 << OLD_AGE) | (1 << ANY_CASH)
    elif state == L_CONTRIBUTING:
        covered |= 1 << ANY_CASH
    for j in range(nc_codes.shape[0]):
        if nc_probability[j, a, s] <= 0.0:  # outside the age band: no draw needed
            continue
        top_up = nc_codes[j, NC_TOP_UP] == 1
        if not eligible(nc_codes[j, NC_GROUP], top_up, state, disabled, mother):
            continue
        if rng.uniform(seed, rng.TAKE_UP, p, j) >= nc_probability[j, a, s]:
            continue
        amount = nc_amount[j, a, s]
        if top_up and state == L_PENSION_LOW:
            amount -= own_pension
        counts[c, a, s, N_COUNTS + j] += 1
        nc_money[c, j, a, s] += fixed(amount, scale)
        if nc_codes[j, NC_GUARANTEE] >= 0:
            covered |= 1 << nc_codes[j, NC_GUARANTEE]
        if nc_codes[j, NC_CASH] == 1:
            covered |= 1 << ANY_CASH
    for g in range(N_COVERAGE):
        if in_target(g, a, state, disabled, mother):
            coverage[c, a, s, g, 0] += 1
            if (covered >> g) & 1:
                coverage[c, a, s, g, 1] += 1
