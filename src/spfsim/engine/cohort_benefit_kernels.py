"""The cohort engine's non-contributory benefits as one compiled loop over the cells.

:func:`cohort_benefits` sums each scheme's expected beneficiaries, expenditure and the
guarantees' coverage over the joint (L, D, M) states of every (year, age, sex) cell. The
array form, :func:`spfsim.engine.benefits.cohort_benefits`, runs 24 states x every rule
over whole (year, age, sex) arrays; this loop visits each cell once and reads the answers
of the same scalar rules (:func:`~spfsim.engine.benefits.eligible`, ``covered_by_state``,
:func:`~spfsim.engine.benefits.in_target`) the micro engine calls person by person, asked
once for each state (they do not depend on the cell's numbers). It adds the same terms
in the same order, so both give the same numbers bitwise; the array form remains the
reference and the path with Numba's JIT off (``tests/test_noncontributory.py`` compares
them).
"""

from __future__ import annotations

from dataclasses import replace

import numba as nb
import numpy as np

from . import benefits
from .benefits import (
    ANY_CASH,
    L_PENSION_LOW,
    N_COVERAGE,
    N_L,
    BenefitResults,
    BenefitRule,
    CellStates,
    covered_by_state,
    eligible,
    in_target,
)

COMPILED = not nb.config.DISABLE_JIT


def cohort_benefits(rules: list[BenefitRule], cells: CellStates,
                    population: np.ndarray, coverage: bool = True) -> BenefitResults:
    """Expected beneficiaries, expenditure and coverage of the ``rules`` over the joint
    (L, D, M) states of the ``cells`` of ``population`` (year, age, sex); ``coverage``
    False: without the coverage (None; the stochastic draws do not keep it)."""
    if not COMPILED:  # the NumPy reference computes it anyway: dropped as promised
        results = benefits.cohort_benefits(rules, cells, population)
        return results if coverage else replace(results, coverage=None)
    beneficiaries = np.zeros((len(rules), *population.shape))
    money = np.zeros_like(beneficiaries)
    # without the coverage, none is written (an empty array of the same dimensions)
    covered = np.zeros((*(population.shape if coverage else (0, 0, 0)), N_COVERAGE, 2))
    by_cell = [np.ascontiguousarray(np.broadcast_to(x, population.shape), dtype=np.float64)
               for x in (population, cells.low_gap, cells.disabled, cells.mother)]
    cell_sums(by_cell[0], np.ascontiguousarray(cells.shares, dtype=np.float64),
              *by_cell[1:], _stacked(rules, "probability", population.shape),
              _stacked(rules, "amount", population.shape), _codes(rules, "group", np.int64),
              _codes(rules, "guarantee", np.int64), _codes(rules, "top_up", np.bool_),
              _codes(rules, "cash", np.bool_), beneficiaries, money, covered, coverage)
    beneficiaries, money = list(beneficiaries), list(money)
    benefits.pay_arriving_mothers(rules, cells.arriving_mothers, beneficiaries, money,
                                  covered if coverage else None)
    return BenefitResults(beneficiaries, money, covered if coverage else None)


def _stacked(rules: list[BenefitRule], name: str, shape: tuple) -> np.ndarray:
    """(rule, year, age, sex) the rules' array ``name``."""
    out = np.empty((len(rules), *shape))
    for j, rule in enumerate(rules):
        out[j] = getattr(rule, name)
    return out


def _codes(rules: list[BenefitRule], name: str, dtype) -> np.ndarray:
    """(rule,) the rules' code ``name``."""
    return np.array([getattr(rule, name) for rule in rules], dtype=dtype)


@nb.njit(cache=True)
def cell_sums(population, shares, low_gap, disabled, mother, probability, amount,
                    group, guarantee, top_up, cash, beneficiaries, money, coverage,
                    keep_coverage=True):
    """Add each rule's expected beneficiaries and expenditure into ``beneficiaries`` and
    ``money`` (rule, year, age, sex) and, with ``keep_coverage``, each guarantee's target
    and covered persons into ``coverage`` (year, age, sex, guarantee, 2); the rules'
    ``probability`` and ``amount`` (rule, year, age, sex) and codes ``group``,
    ``guarantee``, ``top_up``, ``cash`` (rule,) as in BenefitRule; the cells' states as in
    CellStates."""
    n_y, n_a, n_s = population.shape
    not_covered = np.empty(N_COVERAGE)
    # the rules' answers depend on the state (and the age), not on the year or the cell's
    # numbers: asked once for every state, then read
    allowed = np.zeros((group.shape[0], N_L, 2, 2), dtype=np.bool_)
    covered = np.zeros((N_COVERAGE, N_L), dtype=np.bool_)
    target = np.zeros((N_COVERAGE, n_a, N_L, 2, 2), dtype=np.bool_)
    for state in range(N_L):
        for d in range(2):
            for m in range(2):
                for j in range(group.shape[0]):
                    allowed[j, state, d, m] = eligible(group[j], top_up[j], state, d == 1,
                                                       m == 1)
                for g in range(N_COVERAGE):
                    covered[g, state] = covered_by_state(g, state)
                    for a in range(n_a):
                        target[g, a, state, d, m] = in_target(g, a, state, d == 1, m == 1)
    for t in range(n_y):
        for a in range(n_a):
            for s in range(n_s):
                _cell(t, a, s, population[t, a, s], shares, low_gap[t, a, s],
                      disabled[t, a, s], mother[t, a, s], probability, amount, allowed,
                      covered, target, guarantee, top_up, cash, beneficiaries, money,
                      coverage, not_covered, keep_coverage)


@nb.njit(cache=True)
def _cell(t, a, s, pop, shares, low_gap, disabled, mother, probability, amount, allowed,
          covered, target, guarantee, top_up, cash, beneficiaries, money, coverage,
          not_covered, keep_coverage):
    """One cell's states (``shares`` (year, age, sex, state), indexed: a view made for
    each cell would cost a reference count), in the array form's order of summation. Two
    thirds of the (cell, state) pairs hold nobody (children are not mothers, most are not
    disabled): they are skipped, as what they add is exactly zero, except the pensioners
    below a top-up's floor, whose gap is paid per capita of the cell."""
    for state in range(N_L):
        for d in range(2):
            p_d = disabled if d else 1.0 - disabled
            for m in range(2):
                p_m = mother if m else 1.0 - mother
                weight = pop * shares[t, a, s, state] * p_d * p_m
                if weight == 0.0 and state != L_PENSION_LOW:
                    continue
                for g in range(N_COVERAGE):  # (a loop: a slice here costs a view)
                    not_covered[g] = 1.0
                for j in range(allowed.shape[0]):
                    if not allowed[j, state, d, m]:
                        continue
                    p = probability[j, t, a, s]
                    beneficiaries[j, t, a, s] += weight * p
                    if top_up[j] and state == L_PENSION_LOW:
                        money[j, t, a, s] += pop * low_gap * p_d * p_m * p
                    else:
                        money[j, t, a, s] += weight * p * amount[j, t, a, s]
                    if guarantee[j] >= 0:
                        not_covered[guarantee[j]] *= 1.0 - p
                    if cash[j]:
                        not_covered[ANY_CASH] *= 1.0 - p
                if not keep_coverage:
                    continue
                for g in range(N_COVERAGE):
                    if covered[g, state]:
                        not_covered[g] = 0.0
                    if target[g, a, state, d, m]:
                        coverage[t, a, s, g, 0] += weight
                        coverage[t, a, s, g, 1] += weight * (1.0 - not_covered[g])
