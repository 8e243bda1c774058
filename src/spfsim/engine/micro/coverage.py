"""Non-contributory benefits and coverage of one person in the year kernel.

The rules are those of :mod:`spfsim.engine.benefits`, which the cohort engine applies to
its cells: :func:`benefit_state` gives a person's labour and pension state L,
:func:`benefits_and_coverage` draws the benefits they receive and counts the coverage.
"""

from __future__ import annotations

import numba as nb

from ...schemes.insurance import unemployment_qualifies
from ..benefits import (
    ANY_CASH,
    L_CONTRIBUTING,
    L_OTHER,
    L_PENSION_HIGH,
    L_PENSION_LOW,
    L_UNEMPLOYED,
    L_UNEMPLOYED_INSURED,
    N_COVERAGE,
    OLD_AGE,
    eligible,
    in_target,
)
from . import rng
from .counters import N_COUNTS, NC_CASH, NC_GROUP, NC_GUARANTEE, NC_TOP_UP, fixed, is_contributing
from .store import INVALID, RETIRED, UNEMPLOYED


@nb.njit(inline="always", cache=True)
def benefit_state(st, own_pension, top_up_floor, service, contributed, benefits):
    """A person's labour and pension state L (engine.benefits) from this year's status:
    a pensioner's pension against the top-up floor (-inf: no top-up), an unemployed
    person's qualifying period of unemployment insurance (from the ``service`` and
    ``contributed`` years before this year's credit)."""
    if is_contributing(st):
        return L_CONTRIBUTING
    if st in (RETIRED, INVALID):
        return L_PENSION_LOW if own_pension < top_up_floor else L_PENSION_HIGH
    if st == UNEMPLOYED:
        if unemployment_qualifies(service, contributed, benefits.ui_service,
                                  benefits.ui_credits_count):
            return L_UNEMPLOYED_INSURED
        return L_UNEMPLOYED
    return L_OTHER


@nb.njit(inline="always", cache=True)
def benefits_and_coverage(c, p, a, s, state, mother, own_pension, when, codes, probability,
                          amount, prevalence, counts, nc_money, coverage):
    """Count one person's non-contributory benefits and coverage (engine.benefits rules):
    rule j's ``codes`` (group, guarantee, top-up, cash), receipt ``probability`` and
    ``amount`` (j, age, sex); severe disability ``prevalence`` (age, sex).

    Severe disability and take-up are persistent draws (the same persons every year).
    """
    disabled = (prevalence[a, s] > 0.0
                and rng.uniform(when.seed, rng.SEVERE_DISABILITY, p, 0) < prevalence[a, s])
    covered = 0  # bit g: covered for coverage group g
    if state in (L_PENSION_LOW, L_PENSION_HIGH):
        covered |= (1 << OLD_AGE) | (1 << ANY_CASH)
    elif state == L_CONTRIBUTING:
        covered |= 1 << ANY_CASH
    for j in range(codes.shape[0]):
        if probability[j, a, s] <= 0.0:  # outside the age band: no draw needed
            continue
        top_up = codes[j, NC_TOP_UP] == 1
        if not eligible(codes[j, NC_GROUP], top_up, state, disabled, mother):
            continue
        if rng.uniform(when.seed, rng.TAKE_UP, p, j) >= probability[j, a, s]:
            continue
        paid = amount[j, a, s]
        if top_up and state == L_PENSION_LOW:
            paid -= own_pension
        counts[c, a, s, N_COUNTS + j] += 1
        nc_money[c, j, a, s] += fixed(paid, when.scale)
        if codes[j, NC_GUARANTEE] >= 0:
            covered |= 1 << codes[j, NC_GUARANTEE]
        if codes[j, NC_CASH] == 1:
            covered |= 1 << ANY_CASH
    for g in range(N_COVERAGE):
        if in_target(g, a, state, disabled, mother):
            coverage[c, a, s, g, 0] += 1
            if (covered >> g) & 1:
                coverage[c, a, s, g, 1] += 1
