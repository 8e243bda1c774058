"""The micro kernels' labour year: last year's states counted, this year's drawn.

:func:`count_states` counts last year's states per age x sex cell (the targets' base);
:func:`labour_state` draws a person's state for the year (the cohort engine's keep-or-draw
chain); with ``alignment="exact"``, :func:`alignment_targets` sets the number of deaths
and contributors of each cell and :func:`alignment_keys`, :func:`smallest_keys`,
:func:`alignment_thresholds` and :func:`apply_thresholds` pick the persons, in a store or
in shards of the persons alike.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ... import rng
from ...schemes.pension_rules import qualified_insured
from .align import order_key
from .counters import (
    NON_CONTRIBUTING_STATES,
    PREVIOUS_STATE,
    S_ACTIVE,
    S_INVALID,
    S_NEVER,
    S_POP,
    S_QUALIFIED,
    chunk_rows,
    is_active,
    is_contributing,
)
from .store import CONTRIBUTING, GONE, INVALID, SELF_EMPLOYED


@nb.njit(inline="always", cache=True)
def never_covered(seed, p, share):
    """Whether person ``p`` is of the ``share`` of her birth cohort and sex never in the
    pension's covered employment (db_pension never_covered_share): a draw keyed by the
    person alone, so the same every year of her life (her cell's cohort does not change
    as she ages). Such a person never contributes nor is credited."""
    return share > 0.0 and rng.uniform(seed, rng.NEVER_COVERED, p, 0) < share


@nb.njit(parallel=True, cache=True)
def count_states(status, age, sex, service, pid, size, chunk, retirement_age,
                 disability_minimum_service, seed, never_share, out):
    """Per (age, sex), by last year's status: population, active (not retired), employee
    and self-employed contributors, informal, unemployed, inactive, disabled; contributors
    below the pensionable age with the disability qualifying period; disability
    pensioners below the pensionable age; the active never covered (``never_share``
    (age, sex): :func:`never_covered`). ``out`` is (rows, 101, 2, N_STATE_COUNTS)
    (counters.chunk_rows)."""
    n_chunks, rows = chunk_rows(size, chunk, out.shape[0])
    out[:] = 0
    for c in nb.prange(rows):
        for k in range(c, n_chunks, rows):
            for i in range(k * chunk, min(size, (k + 1) * chunk)):
                st = status[i]
                if st == GONE:
                    continue
                a, s = age[i], sex[i]
                out[c, a, s, S_POP] += 1
                below = a < retirement_age[a, s]
                if is_active(st):
                    out[c, a, s, S_ACTIVE] += 1
                    out[c, a, s, PREVIOUS_STATE[st]] += 1
                    if never_covered(seed, pid[i], never_share[a, s]):
                        out[c, a, s, S_NEVER] += 1
                    if is_contributing(st) and qualified_insured(
                            a, retirement_age[a, s], service[i], disability_minimum_service):
                        out[c, a, s, S_QUALIFIED] += 1
                elif st == INVALID and below:
                    out[c, a, s, S_INVALID] += 1
    return out.sum(axis=0)


@nb.njit(inline="always", cache=True)
def labour_state(seed, p, year, previous, stay, join, keep, cumulative, keep_contributor,
                 p_self_employed, a, s, forced, never):
    """This year's labour state of an active person (see engine._labour_year).

    ``forced`` is -1 (draw whether to contribute) or the outcome chosen by exact alignment;
    a person ``never`` covered (:func:`never_covered`) does not contribute, and keeps or
    draws a state of those who do not.
    """
    contributed = is_contributing(previous)
    stays = rng.uniform(seed, rng.LABOUR_STAY, p, year)
    v = rng.uniform(seed, rng.LABOUR_STATE, p, year)
    if never:
        contributes = False
    elif forced >= 0:
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


N_CELLS = 101 * 2  # age x 2 + sex


@nb.njit(cache=True)
def alignment_counts(status, age, sex, pid, size, seed, never_share):
    """What exact alignment's expected numbers are made of: (2, N_CELLS, 2) persons by
    event (0: death, of everyone here; 1: contribution, of the active but the never
    covered), cell and which probability is theirs (deaths: 0 q_death, 1 q_invalid;
    contribution: 0 join, 1 stay). Counts, so that the expected numbers do not depend on
    the persons' grouping."""
    out = np.zeros((2, N_CELLS, 2), dtype=np.int64)
    for i in range(size):
        st = status[i]
        if st == GONE:
            continue
        a, s = np.int64(age[i]), np.int64(sex[i])
        cell = a * 2 + s
        out[0, cell, 1 if st == INVALID else 0] += 1
        if is_active(st) and not never_covered(seed, pid[i], never_share[a, s]):
            out[1, cell, 1 if is_contributing(st) else 0] += 1
    return out


def alignment_targets(counts, seed, year, q_death, q_invalid, stay, join) -> np.ndarray:
    """(2, N_CELLS) int64: the deaths and the contributors each cell gets with exact
    alignment: its expected number (persons x their probability, ``counts`` from
    :func:`alignment_counts`), rounded stochastically."""
    p = np.stack([np.stack([np.ravel(q_death), np.ravel(q_invalid)], axis=-1),
                  np.stack([np.ravel(join), np.ravel(stay)], axis=-1)])
    expected = counts[..., 0] * p[..., 0] + counts[..., 1] * p[..., 1]
    whole = np.floor(expected)
    extra = rng.uniforms(seed, rng.ALIGNMENT, np.arange(2 * N_CELLS, dtype=np.int64),
                         year).reshape(2, N_CELLS)
    return (whole + (extra < expected - whole)).astype(np.int64)


@nb.njit(cache=True)
def alignment_keys(status, age, sex, pid, size, seed, year, q_death, q_invalid, stay, join,
                   never_share, kind):
    """Each person's cell for the event ``kind`` (0: death, 1: contribution; N_CELLS: not
    concerned, as the never covered are for contributions) and selection key
    (align.order_key, Pareto sampling: each person chosen with about her probability),
    the smallest keys of a cell being chosen (p = 0 gives an infinite key, chosen only
    when nobody else is left).
    Deaths are chosen before this year's disability onsets, recoveries and conversions,
    so a disability pensioner's rate (``q_invalid``) follows last year's status here."""
    cell = np.empty(size, dtype=np.int64)
    key = np.empty(size)
    for i in range(size):
        st = status[i]
        a, s = np.int64(age[i]), np.int64(sex[i])
        if st == GONE or (kind == 1 and (not is_active(st) or never_covered(
                seed, pid[i], never_share[a, s]))):
            cell[i], key[i] = N_CELLS, np.inf
            continue
        cell[i] = a * 2 + s
        if kind == 0:
            p = q_invalid[a, s] if st == INVALID else q_death[a, s]
            u = rng.uniform(seed, rng.DEATH, pid[i], year)
        else:
            p = stay[a, s] if is_contributing(st) else join[a, s]
            u = rng.uniform(seed, rng.CONTRIBUTION, pid[i], year)
        key[i] = order_key(u, p)
    return cell, key


@nb.njit(cache=True)
def smallest_keys(cell, key, wanted):
    """The positions of each cell's ``wanted`` persons with the smallest keys (ties: the
    earlier position, i.e. the smaller id), cell by cell in key order: a store's
    candidates for exact alignment (:func:`alignment_thresholds`)."""
    order = np.argsort(key, kind="mergesort")  # stable: ties keep their positions
    taken = np.zeros(N_CELLS, dtype=np.int64)
    out = np.empty(len(key), dtype=np.int64)
    n = 0
    for j in range(len(order)):
        i = order[j]
        c = cell[i]
        if c < N_CELLS and taken[c] < wanted[c]:
            taken[c] += 1
            out[n] = i
            n += 1
    return out[:n]


def alignment_thresholds(cells, keys, ids, wanted) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's last chosen (key, id): the ``wanted`` smallest in (key, id) order among
    the candidates (:func:`smallest_keys` of every shard of the persons, which hold the
    cell's wanted smallest). All are chosen where the cell has fewer, none where it
    wants none."""
    order = np.lexsort((ids, keys, cells))
    cells, keys, ids = cells[order], keys[order], ids[order]
    first = np.searchsorted(cells, np.arange(N_CELLS))
    found = np.bincount(cells, minlength=N_CELLS)[:N_CELLS]
    threshold_key = np.full(N_CELLS, np.inf)
    threshold_id = np.full(N_CELLS, np.iinfo(np.int64).max, dtype=np.int64)
    enough = found >= wanted
    last = np.minimum(first + wanted - 1, max(len(keys) - 1, 0))
    if len(keys):
        threshold_key[enough] = keys[last[enough]]
        threshold_id[enough] = ids[last[enough]]
    threshold_key[wanted == 0] = -np.inf
    threshold_id[wanted == 0] = -1
    return threshold_key, threshold_id


@nb.njit(cache=True)
def apply_thresholds(cell, key, pid, threshold_key, threshold_id, out):
    """``out``: 1 for the persons chosen (their (key, id) at most their cell's threshold),
    0 for the others, -1 for those not concerned."""
    for i in range(len(cell)):
        c = cell[i]
        if c == N_CELLS:
            out[i] = -1
        elif key[i] < threshold_key[c] or (key[i] == threshold_key[c]
                                           and pid[i] <= threshold_id[c]):
            out[i] = 1
        else:
            out[i] = 0
