"""Non-contributory benefits and coverage of one person in the year kernel.

The rules are those of :mod:`spfsim.engine.benefits`, which the cohort engine applies to
its cells: :func:`benefits_and_coverage` draws the benefits a person in state L receives
and counts the coverage; :func:`arriving_mothers_benefits` those of the year's immigrant
mothers.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ... import rng
from ..benefits import (
    ANY_CASH,
    L_PENSION_LOW,
    MATERNITY,
    N_COVERAGE,
    covered_by_state,
    eligible,
    in_target,
    pays_arriving_mother,
)
from .counters import (
    N_COUNTS,
    NC_CASH,
    NC_CONTRIBUTORY,
    NC_GROUP,
    NC_GUARANTEE,
    NC_HOUSEHOLD,
    NC_TOP_UP,
    fixed,
)
from .store import FEMALE

# coverage_bits: bits 0..N_COVERAGE-1 covered, from TARGET_SHIFT in the target
TARGET_SHIFT = 8


@nb.njit(inline="always", cache=True)
def benefits_and_coverage(c, i, p, a, s, state, mother, seed, own_pension, scale, nc_codes,
                          nc_probability, nc_amount, disability_prevalence, counts, nc_money,
                          coverage, coverage_bits):
    """Count one person's non-contributory benefits and coverage (engine.benefits rules).

    Severe disability and take-up are persistent draws (the same persons every year).
    Returns the person's cash benefits of the year (currency): those of the short-term
    social insurance schemes, and those of the floor (health care, in kind, in neither).
    Where the benefits tested on the household's income are paid after the year
    (``coverage_bits`` not empty), the person's groups are kept there for
    :func:`cover`: bit g covered for group g, bit 8 + g in its target.
    """
    disabled = (disability_prevalence[a, s] > 0.0
                and rng.uniform(seed, rng.SEVERE_DISABILITY, p, 0) < disability_prevalence[a, s])
    covered = 0  # bit g: covered for coverage group g
    for g in range(N_COVERAGE):
        if covered_by_state(g, state):
            covered |= 1 << g
    insured_cash = floor_cash = 0.0
    for j in range(nc_codes.shape[0]):
        # outside the age band: no draw needed; a household test is paid after the year
        if nc_probability[j, a, s] <= 0.0 or nc_codes[j, NC_HOUSEHOLD] != 0:
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
            if nc_codes[j, NC_CONTRIBUTORY] == 1:
                insured_cash += amount
            else:
                floor_cash += amount
    target = 0
    for g in range(N_COVERAGE):
        if in_target(g, a, state, disabled, mother):
            target |= 1 << g
            coverage[c, a, s, g, 0] += 1
            if (covered >> g) & 1:
                coverage[c, a, s, g, 1] += 1
    if len(coverage_bits):
        coverage_bits[i] = covered | (target << TARGET_SHIFT)
    return insured_cash, floor_cash


@nb.njit(inline="always", cache=True)
def scheme_groups(codes, j) -> int:
    """The coverage groups (bits) a benefit of scheme j covers its recipient for: its
    guarantee's, and any cash benefit's when it is paid in cash."""
    groups = 1 << codes[j, NC_GUARANTEE] if codes[j, NC_GUARANTEE] >= 0 else 0
    if codes[j, NC_CASH] == 1:
        groups |= 1 << ANY_CASH
    return groups


@nb.njit(inline="always", cache=True)
def cover(coverage_bits, i, groups, a, s, covered):
    """Count person i as covered for the coverage ``groups`` (bits) of a benefit paid after
    the year's pass (a benefit tested on the household's income): in each group whose
    target the person is in and that no other benefit covered, ``covered`` (age, sex,
    group) gains one, so that a person is counted once a group as the year kernel counts."""
    bits = np.int64(coverage_bits[i])
    new = groups & (bits >> TARGET_SHIFT) & ~bits & ((1 << TARGET_SHIFT) - 1)
    if new == 0:
        return
    coverage_bits[i] = bits | new
    for g in range(N_COVERAGE):
        if (new >> g) & 1:
            covered[a, s, g] += 1


@nb.njit(cache=True)
def arriving_mothers_benefits(pid, age, birth_flag, first, end, seed, nc_codes,
                              nc_probability, nc_amount):
    """The benefits of the year's immigrant mothers, slots ``first``..``end`` of the store
    (flagged by add_immigrants, before add_newborns clears the flags): the rules that
    engine.benefits.pays_arriving_mother admits, with each person's persistent take-up
    draw, counted at the age she would have had on 1 July (her age on arrival less one,
    as the cohort engine's engine.benefits.arriving_mothers); maternity coverage only.

    Returns (beneficiaries (J, age), expenditure (J, age) in currency, maternity coverage
    (age, 2): target, covered) of women.
    """
    n_rules = nc_codes.shape[0]
    paid = np.zeros((n_rules, nc_probability.shape[1]), dtype=np.int64)
    money = np.zeros((n_rules, nc_probability.shape[1]))
    coverage = np.zeros((nc_probability.shape[1], 2), dtype=np.int64)
    for i in range(first, end):
        if birth_flag[i] == 0:
            continue
        a, p, covered = np.int64(age[i]) - 1, pid[i], False
        for j in range(n_rules):
            if not pays_arriving_mother(nc_codes[j, NC_GROUP], nc_codes[j, NC_TOP_UP] == 1):
                continue
            if rng.uniform(seed, rng.TAKE_UP, p, j) >= nc_probability[j, a, FEMALE]:
                continue
            paid[j, a] += 1
            money[j, a] += nc_amount[j, a, FEMALE]
            covered |= nc_codes[j, NC_GUARANTEE] == MATERNITY
        coverage[a, 0] += 1
        coverage[a, 1] += covered
    return paid, money, coverage
