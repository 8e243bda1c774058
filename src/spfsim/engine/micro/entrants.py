"""Entrants of the micro engine: newborns of the year's mothers, and immigrants.

Ids are given in a fixed order (mothers in index order, then immigrants by cell), and every
draw is keyed by the new person's id, so that the population does not depend on chunking.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ... import rng
from .store import FEMALE, INACTIVE, MALE, WHOLE, owns


@nb.njit(cache=True)
def add_newborns(pid, status, age, sex, birth_year, earnings_factor, birth_flag, size, next_id,
                 seed, year, p_male, survival_birth, p_emigrate_newborn, permanent_sd):
    """Create the babies of flagged mothers, in index order (deterministic ids), and
    clear the flags.

    Returns (new size, next id, births by sex, deaths by sex, emigrants by sex).
    """
    n = 0
    for i in range(size):
        if birth_flag[i] != 0:
            birth_flag[i] = 0
            n += 1
    end, births, deaths, emigrants = newborns(
        pid, status, age, sex, birth_year, earnings_factor, size, next_id, n, seed, year,
        p_male, survival_birth, p_emigrate_newborn, permanent_sd, WHOLE)
    return end, next_id + n, births, deaths, emigrants


@nb.njit(cache=True)
def newborns(pid, status, age, sex, birth_year, earnings_factor, size, first_id, n, seed,
             year, p_male, survival_birth, p_emigrate_newborn, permanent_sd, shard):
    """The ``n`` babies with ids first_id.. that ``shard`` holds (store.owns): a baby's
    sex, survival and emigration are keyed by its id alone, so that the babies of a year
    do not depend on which mother had which (ids follow the mothers' order).

    Returns (new size, births by sex, deaths by sex, emigrants by sex).
    """
    births = np.zeros(2, dtype=np.int64)
    deaths = np.zeros(2, dtype=np.int64)
    emigrants = np.zeros(2, dtype=np.int64)
    end = size
    for new_id in range(first_id, first_id + n):
        if not owns(shard, new_id):
            continue
        s = MALE if rng.uniform(seed, rng.NEWBORN_SEX, new_id, year) < p_male else FEMALE
        births[s] += 1
        if rng.uniform(seed, rng.NEWBORN_SURVIVAL, new_id, year) >= survival_birth[s]:
            deaths[s] += 1
            continue
        if rng.uniform(seed, rng.NEWBORN_EMIGRATION, new_id, year) < p_emigrate_newborn[s]:
            emigrants[s] += 1
            continue
        _new_person(pid, status, age, sex, birth_year, earnings_factor, end, new_id, s, 0,
                    year + 1, seed, permanent_sd)
        end += 1
    return end, births, deaths, emigrants


@nb.njit(inline="always", cache=True)
def _new_person(pid, status, age, sex, birth_year, earnings_factor, slot, new_id, s, a,
                born, seed, permanent_sd):
    pid[slot] = new_id
    status[slot] = INACTIVE
    age[slot] = a
    sex[slot] = s
    birth_year[slot] = born
    earnings_factor[slot] = permanent_factor(seed, new_id, permanent_sd)


@nb.njit(cache=True)
def permanent_factors(seed, persons, sd):
    """:func:`permanent_factor` for an array of person ids (float32)."""
    out = np.empty(len(persons), dtype=np.float32)
    for i in range(len(persons)):
        out[i] = permanent_factor(seed, persons[i], sd)
    return out


@nb.njit(inline="always", cache=True)
def permanent_factor(seed, person, sd):
    """Persistent earnings level exp(sd z - sd^2 / 2): lognormal with mean 1."""
    if sd <= 0.0:
        return np.float32(1.0)
    z = rng.normal(seed, rng.EARNINGS_PERMANENT, rng.EARNINGS_PERMANENT_2, person, 0)
    return np.float32(math.exp(sd * z - 0.5 * sd * sd))


@nb.njit(cache=True)
def add_immigrants(pid, status, age, sex, birth_year, earnings_factor, birth_flag, size,
                   next_id, seed, year, expected, asfr, permanent_sd):
    """Add immigrants at 1 July of year+1: ``expected`` (101, 2) persons per cell, rounded
    stochastically; immigrant women may have had a baby during the year (half exposure).

    Returns (new size, next id, immigrants by (age, sex)).
    """
    return shard_immigrants(pid, status, age, sex, birth_year, earnings_factor, birth_flag,
                            size, next_id, seed, year, expected, asfr, permanent_sd, WHOLE)


@nb.njit(cache=True)
def shard_immigrants(pid, status, age, sex, birth_year, earnings_factor, birth_flag, size,
                     next_id, seed, year, expected, asfr, permanent_sd, shard):
    """:func:`add_immigrants` of the immigrants ``shard`` holds (store.owns); ids, counts
    and the returned next id are those of all the immigrants."""
    added = np.zeros(expected.shape, dtype=np.int64)
    end = size
    for a in range(expected.shape[0]):
        for s in range(2):
            x = expected[a, s]
            if x <= 0.0:
                continue
            n = np.int64(math.floor(x))
            if rng.uniform(seed, rng.IMMIGRATION, a * 2 + s, year) < x - n:
                n += 1
            for _ in range(n):
                new_id = next_id
                next_id += 1
                if not owns(shard, new_id):
                    continue
                _new_person(pid, status, age, sex, birth_year, earnings_factor, end, new_id,
                            s, a, year + 1 - a, seed, permanent_sd)
                if (s == FEMALE and asfr[a] > 0.0
                        and rng.uniform(seed, rng.BIRTH, new_id, year) < 0.5 * asfr[a]):
                    birth_flag[end] = 1
                end += 1
            added[a, s] = n
    return end, next_id, added
