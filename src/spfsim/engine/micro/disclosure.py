"""The person file's records behind the micro engine's cells, for disclosure control
(R202 para. 23; the suppression itself: :mod:`spfsim.results.disclosure`).

A run started from a person file clones its records: a cell of the results is about the
survey's respondents whose clones are in it, however many clones there are. Every clone
of a record has the record's birth year and sex, so the records behind a cell by age (or
birth cohort) and sex are those of its cohort with a clone still living; the engine notes
them at the start of each year (:func:`living_records`). Households by size are about the
source households (the records themselves in a file of persons) with a member living in a
household of that size (:func:`household_sources`). Persons born or arrived after the base
year, and those drawn for the cells a file lacks, are simulated, no record behind them.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .families import N_SIZES
from .persons import PersonRecords
from .store import GONE


@nb.njit(cache=True)
def living_records(pid, status, size, sources, alive):
    """Set ``alive[r]`` for every record r with a clone here (``sources``: the record each
    base-year person id was cloned from, -1 for none)."""
    for i in range(size):
        if status[i] != GONE and pid[i] < len(sources):
            r = sources[pid[i]]
            if r >= 0:
                alive[r] = 1


@nb.njit(cache=True)
def household_sources(pid, status, household, size, sources, unit_of_record, seen):
    """Set ``seen[c, u]`` for every source unit u (``unit_of_record``: a record's household,
    or the record itself) with a clone living in a household of size class c (0: one
    member, ..., N_SIZES - 1: that many or more)."""
    members = np.zeros(size, dtype=np.int32)
    for i in range(size):
        if status[i] != GONE and household[i] != 0:
            members[household[i] - 1] += 1
    for i in range(size):
        if status[i] != GONE and household[i] != 0 and pid[i] < len(sources):
            r = sources[pid[i]]
            if r >= 0:
                seen[min(members[household[i] - 1], N_SIZES) - 1, unit_of_record[r]] = 1


def records_by_age(alive: np.ndarray, age: np.ndarray, sex: np.ndarray) -> np.ndarray:
    """Records marked in ``alive`` (record,) by their base-year age and sex: (101, 2)."""
    counts = np.bincount(age * 2 + sex, weights=alive.astype(np.float64), minlength=202)
    return counts.reshape(101, 2).astype(np.int64)


class SourceCells:
    """The person file's records behind the cells, year by year (noted at the start of
    each year, before its deaths): ``records`` (year, base-year age 0..100, sex) records
    with a living clone; ``households`` (year, size class) source units with a clone
    living in a household of that size."""

    def __init__(self, records: PersonRecords, n_years: int):
        self.age, self.sex = records.age, records.sex
        self.unit = (records.household if records.linked
                     else np.arange(len(records), dtype=np.int64))
        self.records = np.zeros((n_years, 101, 2), dtype=np.int64)
        self.households = np.zeros((n_years, N_SIZES), dtype=np.int64)

    def note(self, k: int, population) -> None:
        """Year k's records and units, from a population.Population (or its shards)."""
        alive, seen = population.source_units(len(self.age), self.unit)
        self.records[k] = records_by_age(alive, self.age, self.sex)
        self.households[k] = seen.sum(axis=1)
