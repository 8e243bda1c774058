"""The micro kernels' labour year: last year's states counted, this year's drawn.

:func:`count_states` counts last year's states per age x sex cell (the targets' base);
:func:`labour_state` draws a person's state for the year (the cohort engine's keep-or-draw
chain); :func:`exact_alignment` picks, with ``alignment="exact"``, exactly the expected
numbers of deaths and contributors in each cell.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ... import rng
from ...schemes.pension_rules import qualified_insured
from .align import select_exact
from .counters import (
    NON_CONTRIBUTING_STATES,
    PREVIOUS_STATE,
    S_ACTIVE,
    S_INVALID,
    S_POP,
    S_QUALIFIED,
    is_active,
    is_contributing,
)
from .store import CONTRIBUTING, GONE, INVALID, SELF_EMPLOYED


@nb.njit(parallel=True, cache=True)
def count_states(status, age, sex, service, size, chunk, retirement_age,
                 disability_minimum_service, out):
    """Per (age, sex), by last year's status: population, active (not retired), employee
    and self-employed contributors, informal, unemployed, inactive, disabled; contributors
    below the pensionable age with the disability qualifying period; disability
    pensioners below the pensionable age. ``out`` is (chunks, 101, 2, N_STATE_COUNTS)."""
    n_chunks = (size + chunk - 1) // chunk
    out[:n_chunks] = 0
    for c in nb.prange(n_chunks):
        for i in range(c * chunk, min(size, (c + 1) * chunk)):
            st = status[i]
            if st == GONE:
                continue
            a, s = age[i], sex[i]
            out[c, a, s, S_POP] += 1
            below = a < retirement_age[a, s]
            if is_active(st):
                out[c, a, s, S_ACTIVE] += 1
                out[c, a, s, PREVIOUS_STATE[st]] += 1
                if is_contributing(st) and qualified_insured(
                        a, retirement_age[a, s], service[i], disability_minimum_service):
                    out[c, a, s, S_QUALIFIED] += 1
            elif st == INVALID and below:
                out[c, a, s, S_INVALID] += 1
    return out[:n_chunks].sum(axis=0)


@nb.njit(inline="always", cache=True)
def labour_state(seed, p, year, previous, stay, join, keep, cumulative, keep_contributor,
                 p_self_employed, a, s, forced):
    """This year's labour state of an active person (see engine._labour_year).

    ``forced`` is -1 (draw whether to contribute) or the outcome chosen by exact alignment.
    """
    contributed = is_contributing(previous)
    stays = rng.uniform(seed, rng.LABOUR_STAY, p, year)
    v = rng.uniform(seed, rng.LABOUR_STATE, p, year)
    if forced >= 0:
        contributes = forced == 1
    else:
        contributes = rng.uniform(seed, rng.CONTRIBUTION, p, year) < (
            stay[a, s] if contributed else join[a, s])
    if contributes:
        if contributed and stays < keep_contributor[a, s]:
            return previous
        return SELF_EMPLOYED if v < p_self_employed[a, s] else CONTRIBUTING
    if not contributed and stays < keep[a, s]:
        return previous
    for k in range(3):
        if v < cumulative[a, s, k]:
            return NON_CONTRIBUTING_STATES[k]
    return NON_CONTRIBUTING_STATES[3]


@nb.njit(cache=True)
def exact_alignment(status, age, sex, pid, size, seed, year, q_death, q_invalid, stay, join,
                    forced_contribution, forced_death):
    """Choose this year's deaths and contributors exactly per age x sex cell.

    In each cell the number of events is the expected number (sum of the persons'
    probabilities) rounded stochastically, and the persons are chosen by weighted sampling
    without replacement (`align.select_exact`), so continuing contributors stay far more
    likely to contribute than others. Writes 0/1 into the forced arrays (-1: not active).
    Deaths are chosen before this year's disability onsets, recoveries and conversions,
    so a disability pensioner's rate (``q_invalid``) follows last year's status here.
    """
    n_cells = 101 * 2
    for kind in range(2):  # 0: deaths of everyone alive, 1: contribution of the active
        p = np.zeros(size)
        u = np.zeros(size)
        cell = np.zeros(size, dtype=np.int64)
        expected = np.zeros(n_cells)
        for i in range(size):
            st = status[i]
            cell[i] = np.int64(age[i]) * 2 + np.int64(sex[i])
            if st == GONE or (kind == 1 and not is_active(st)):
                cell[i] = n_cells  # outside every cell
                continue
            a, s = np.int64(age[i]), np.int64(sex[i])
            if kind == 0:
                p[i] = q_invalid[a, s] if st == INVALID else q_death[a, s]
                u[i] = rng.uniform(seed, rng.DEATH, pid[i], year)
            else:
                p[i] = stay[a, s] if is_contributing(st) else join[a, s]
                u[i] = rng.uniform(seed, rng.CONTRIBUTION, pid[i], year)
            expected[cell[i]] += p[i]
        target = np.zeros(n_cells + 1)
        for c in range(n_cells):
            whole = math.floor(expected[c])
            extra = rng.uniform(seed, rng.ALIGNMENT, kind * n_cells + c, year)
            target[c] = whole + (1.0 if extra < expected[c] - whole else 0.0)
        chosen = select_exact(p, u, cell, target)
        out = forced_death if kind == 0 else forced_contribution
        for i in range(size):
            out[i] = -1 if cell[i] == n_cells else (1 if chosen[i] else 0)
