"""The simulated population: structure of arrays with compact dtypes and stable ids.

One slot per person ever simulated; people who die or emigrate keep their slot (status
GONE) until :meth:`PersonStore.compact` removes them, preserving order, so that results
never depend on when compaction runs. Slots beyond ``size`` are always zero, so a new
person starts with no service, credits, pension or lifetime amounts whatever slot they
get. 57 bytes a slot (17 of them the family links), and 4 for each kept credited year
(``recent``): ids are int32 and amounts float32, whose rounding (a relative 6e-8 of each
amount) is far below any sampling error.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import ClassVar

import numba as nb
import numpy as np

from ...allocator import fresh_zeros

# status codes (int8); the labour states are those of persons not (yet) retired
GONE = 0  # dead or emigrated
INACTIVE = 1  # out of the labour force (studying, caring, ...); also newborns
CONTRIBUTING = 2  # employee contributing this year
RETIRED = 3  # receiving the old-age pension
LEFT = 4  # reached retirement age without enough service: no pension
INFORMAL = 5  # employed without contributing
UNEMPLOYED = 6  # in the labour force without a job
SELF_EMPLOYED = 7  # self-employed or voluntary contributor, contributing this year
DISABLED = 8  # out of work through disability
INVALID = 9  # receiving a contributory disability pension (below the pensionable age)

MALE, FEMALE = 0, 1

# the largest person id the store holds (int32: 4 bytes a slot fewer than int64); a run
# that would need more ids stops with an error (engine.micro.steps)
MAX_ID = int(np.iinfo(np.int32).max)

# A shard of the population: (page, shards, index) holds the persons whose id's page,
# id // page, is index modulo shards (engine.micro.distributed splits a run so). WHOLE
# holds everybody, in one page.
WHOLE = (1 << 62, 1, 0)


@nb.njit(inline="always", cache=True)
def owns(shard, person) -> bool:
    """Whether the shard (page, shards, index) holds person id ``person``."""
    return (person // shard[0]) % shard[1] == shard[2]


@dataclass
class PersonStore:
    """Per-person state; arrays have a capacity, ``size`` slots are in use."""

    pid: np.ndarray  # int32: stable person id (random-number key), below MAX_ID
    status: np.ndarray  # int8: see the codes above
    age: np.ndarray  # uint8: completed years at 1 July (100 = 100 and over)
    sex: np.ndarray  # uint8: 0 male, 1 female
    birth_year: np.ndarray  # int16
    service: np.ndarray  # uint8: credited years
    care_years: np.ndarray  # uint8: of which care credits (not contributions)
    credits: np.ndarray  # float32: sum of insured earnings revalued to this year
    paid: np.ndarray  # float32: contributions paid on them (not on care credits), revalued
    pension: np.ndarray  # float32: annual pension in payment (currency)
    earnings_factor: np.ndarray  # float32: persistent individual earnings level (mean 1)
    lifetime_contributions: np.ndarray  # float32: constant (base-year) prices
    lifetime_benefits: np.ndarray  # float32: constant (base-year) prices
    survivor_kind: np.ndarray  # uint8: survivor's pension received (kernels.SPOUSE, ...)
    survivor_pension: np.ndarray  # float32: its annual amount (currency)
    # family links (engine.micro.families; all 0 in a run without families): another
    # person's slot + 1 (moved by compact), 0 for none, so that a fresh slot has no links
    partner: np.ndarray  # int32: the person one lives with as a couple
    mother: np.ndarray  # int32
    father: np.ndarray  # int32: the mother's partner when the child was born
    household: np.ndarray  # int32: the household's reference person
    left_home: np.ndarray  # uint8: 1 once the person has left the parental household
    # float32 (slot, R), like the other amounts: revalued earnings of the R credited years
    # the reference keeps (pension_rules.keep_credited_year: the last, newest first, or the
    # best, in decreasing order; R = 0 unless the pension's reference earnings are N
    # years')
    recent: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    size: int = 0
    next_id: int = 0

    DTYPES: ClassVar[dict[str, type]] = {
        "pid": np.int32, "status": np.int8, "age": np.uint8, "sex": np.uint8,
        "birth_year": np.int16, "service": np.uint8, "care_years": np.uint8,
        "credits": np.float32, "paid": np.float32,
        "pension": np.float32, "earnings_factor": np.float32,
        "lifetime_contributions": np.float32, "lifetime_benefits": np.float32,
        "survivor_kind": np.uint8, "survivor_pension": np.float32,
        "partner": np.int32, "mother": np.int32, "father": np.int32, "household": np.int32,
        "left_home": np.uint8,
    }

    @classmethod
    def empty(cls, capacity: int, recent_years: int = 0) -> PersonStore:
        return cls(**{name: fresh_zeros(capacity, dtype)
                      for name, dtype in cls.DTYPES.items()},
                   recent=fresh_zeros((capacity, recent_years), np.float32))

    @property
    def capacity(self) -> int:
        return len(self.pid)

    @property
    def bytes_per_slot(self) -> int:
        return (sum(np.dtype(d).itemsize for d in self.DTYPES.values())
                + self.recent.itemsize * self.recent.shape[1])

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in (*self.DTYPES, "recent")}

    def reserve(self, extra: int) -> None:
        """Make room for ``extra`` more slots (grows by at least half)."""
        needed = self.size + extra
        if needed <= self.capacity:
            return
        capacity = max(needed, int(self.capacity * 1.5) + 1024)
        for name in (*self.DTYPES, "recent"):  # one at a time: the old one is freed at once
            old = getattr(self, name)
            grown = fresh_zeros((capacity, *old.shape[1:]), old.dtype)
            grown[: self.size] = old[: self.size]
            setattr(self, name, grown)

    def compact(self, scratch: np.ndarray | None = None) -> None:
        """Drop the slots of people gone, keeping the order of the others (in place: no
        temporary copies but the links' new slots, in ``scratch`` (int32, at least
        ``size`` slots, overwritten) when given, so compaction never raises the memory
        peak much; family links follow their persons). The slots freed at
        the end are cleared: entrants are written there and set only their identity.

        With Numba a value is written only where it changes (bit for bit): most of a
        sparse field (lifetime amounts, survivors' pensions) is zeros on pages the
        system has never given the process, and writing a zero over a zero there made
        them the process's memory (4.9 MB of a 1,000,000-person run's peak, and as much
        again clearing the freed slots)."""
        relink(self.size, self.status, self.partner, self.mother, self.father, self.household,
               np.empty(self.size, dtype=np.int32) if scratch is None else scratch)
        kept = _compacted_columns(self.size, self.status,  # status last: the others read it
                                  [_bits(getattr(self, name)) for name in (*self.DTYPES, "recent")
                                   if name != "status"])
        _compacted(self.size, self.status, _bits(self.status))
        for array in self.arrays().values():
            _cleared(_bits(array), kept, self.size)
        self.size = kept

    def view(self) -> dict[str, np.ndarray]:
        """The used part of every array (copies), e.g. to compare two runs person by person."""
        return {name: array[: self.size].copy() for name, array in self.arrays().items()}

    def __post_init__(self) -> None:
        names = {f.name for f in fields(self)} - {"size", "next_id", "recent"}
        assert names == set(self.DTYPES), "DTYPES must list every array"
        if self.recent.shape[0] != len(self.pid):
            self.recent = fresh_zeros((len(self.pid), self.recent.shape[1]), np.float32)


def _bits(array: np.ndarray) -> np.ndarray:
    """A store's array (slot, ...) as (slot, values) of unsigned integers of its size: the
    same memory, compared bit for bit."""
    rows = array.reshape(array.shape[0], math.prod(array.shape[1:]))  # also with no slot
    return rows.view(np.dtype(f"u{rows.itemsize}"))


def _compacted_columns(size: int, status: np.ndarray, columns: list[np.ndarray]) -> int:
    """:func:`_compacted` on each of ``columns`` (slot, values), as many at a time as Numba
    has threads (the compiled loop releases the GIL; each column moved by one thread
    alone, so the result is the same); returns the count kept. Serially, compaction was
    0.42 s of a 1,000,000-person, 50-year default run."""
    workers = min(nb.get_num_threads(), len(columns))
    if nb.config.DISABLE_JIT or workers < 2:
        return [_compacted(size, status, rows) for rows in columns][-1]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda rows: _compact_rows(size, status, rows), columns))[-1]


def _compacted(size: int, status: np.ndarray, rows: np.ndarray) -> int:
    """Move the rows of ``rows`` (slot, values) of the people still here to the front,
    writing only the values that change; return their count."""
    if nb.config.DISABLE_JIT:  # NumPy's selection: the loop in Python is slow
        here = status[:size] != GONE
        kept = int(here.sum())
        rows[:kept] = rows[:size][here]
        return kept
    return _compact_rows(size, status, rows)


@nb.njit(cache=True, nogil=True)
def _compact_rows(size, status, rows):
    """:func:`_compacted` with Numba."""
    kept = 0
    for i in range(size):
        if status[i] != GONE:
            if kept != i:
                for j in range(rows.shape[1]):
                    if rows[kept, j] != rows[i, j]:
                        rows[kept, j] = rows[i, j]
            kept += 1
    return kept


def _cleared(rows: np.ndarray, start: int, stop: int) -> None:
    """Zero the rows ``start`` to ``stop`` of ``rows`` (slot, values), writing only where a
    value is not zero already."""
    if nb.config.DISABLE_JIT:
        rows[start:stop] = 0
        return
    _clear_rows(rows, start, stop)


@nb.njit(cache=True)
def _clear_rows(rows, start, stop):
    """:func:`_cleared` with Numba."""
    for i in range(start, stop):
        for j in range(rows.shape[1]):
            if rows[i, j] != 0:
                rows[i, j] = 0


@nb.njit(cache=True)
def relink(size, status, partner, mother, father, household, new_slot):
    """Before a compaction (PersonStore.compact) drops the slots of the persons gone:
    every link to a person who stays is moved to that person's slot after it; links to
    persons gone are cleared. ``new_slot``: int32 scratch of at least ``size`` slots."""
    kept = 0
    for i in range(size):
        new_slot[i] = kept if status[i] != GONE else -1
        if status[i] != GONE:
            kept += 1
    for links in (partner, mother, father, household):
        for i in range(size):
            if links[i] != 0:
                j = new_slot[links[i] - 1]
                links[i] = j + 1 if j >= 0 else 0
