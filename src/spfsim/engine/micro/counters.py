"""What the micro kernels count, and how: counter indices, fixed-point money, status tests.

Persons are processed in fixed-size chunks with ``prange``; each chunk adds into a row of
integer accumulators (counts, and money in int64 fixed point: units of ``scale`` currency),
and the rows are summed afterwards. Integer sums do not depend on their grouping, so results
are bitwise identical for any number of threads and any chunk size.

A pass has at most a few rows a thread, however many chunks it has (:func:`chunk_rows`:
chunk k adds into row k modulo the rows, and prange runs over the rows), so that the
accumulators' memory does not grow with the persons (with a row a chunk, the 34 chunks of a
1,000,000-person run held 16 MB of rows, the income histograms 10 MB of them) while every
thread still has rows, each of chunks spread over the slots.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .store import (
    CONTRIBUTING,
    DISABLED,
    INACTIVE,
    INFORMAL,
    LEFT,
    SELF_EMPLOYED,
    UNEMPLOYED,
)

MAX_AGE = 100
MAX_SERVICE = 60
NO_SURVIVOR, SPOUSE, ORPHAN = 0, 1, 2  # a person's survivor's pension (store.survivor_kind)

# count indices: by (age, sex); flows (deaths, emigrants) by age at the end of the step
POP, CONTRIBUTORS, PENSIONERS, DEATHS, EMIGRANTS, NEW_PENSIONERS, NEW_LEAVERS = range(7)
N_INFORMAL, N_UNEMPLOYED, N_INACTIVE, N_LEFT = range(7, 11)  # this year's labour states
N_SELF_EMPLOYED, N_DISABLED = 11, 12
N_INVALID, NEW_INVALID = 13, 14  # disability pensioners, and onsets during the year
N_REFUNDS = 15  # leavers paid a refund of contributions
N_SPOUSES, N_ORPHANS = 16, 17  # survivors' pensions in payment to spouses and orphans
# persons still here at the end of the step without a survivor's pension, by end age: those
# a new one can go to (with the year's immigrants: engine.micro._award_survivors)
N_FREE = 18
# dependants' supplements of living pensioners paid to spouses and children, each counted
# (a spouse paid only above her own pension is counted in its branch instead)
N_DEPENDENT_SPOUSES, N_DEPENDENT_CHILDREN = 19, 20
N_COUNTS = 21  # non-contributory benefits follow: index N_COUNTS + j
# columns of the non-contributory rule codes (see engine.benefits.BenefitRule)
NC_GROUP, NC_GUARANTEE, NC_TOP_UP, NC_CASH, NC_CONTRIBUTORY, NC_HOUSEHOLD = range(6)
# previous-status counts of count_states
S_POP, S_ACTIVE, S_EMPLOYEE, S_SELF_EMPLOYED = range(4)
S_INFORMAL, S_UNEMPLOYED, S_INACTIVE, S_DISABLED = range(4, 8)
# contributors exposed to disability onset; disability pensioners who may recover
S_QUALIFIED, S_INVALID = 8, 9
S_NEVER = 10  # active persons never covered (labour.never_covered), among S_ACTIVE
N_STATE_COUNTS = 11
NON_CONTRIBUTING_STATES = (INFORMAL, UNEMPLOYED, INACTIVE, DISABLED)  # order of cumulative


def _index_by_status(mapping: dict[int, int]) -> np.ndarray:
    """A lookup array: status code -> counter index (-1: not counted)."""
    table = np.full(16, -1, dtype=np.int64)
    for status, index in mapping.items():
        table[status] = index
    return table


# last year's state (count_states) and this year's labour state (year_step) by status code
PREVIOUS_STATE = _index_by_status({
    CONTRIBUTING: S_EMPLOYEE, SELF_EMPLOYED: S_SELF_EMPLOYED, INFORMAL: S_INFORMAL,
    UNEMPLOYED: S_UNEMPLOYED, INACTIVE: S_INACTIVE, DISABLED: S_DISABLED})
CURRENT_STATE = _index_by_status({
    SELF_EMPLOYED: N_SELF_EMPLOYED, DISABLED: N_DISABLED, INFORMAL: N_INFORMAL,
    UNEMPLOYED: N_UNEMPLOYED, INACTIVE: N_INACTIVE, LEFT: N_LEFT})
# money indices: by sex, fixed point
INSURED, BENEFITS, NEW_AMOUNT, INVALID_BENEFITS, REFUNDS = range(5)
N_MONEY = 5
# money by (age, sex), fixed point: insured earnings, own pensions, refunds, survivors'
# pensions, dependants' supplements
AGE_INSURED, AGE_PENSIONS, AGE_REFUNDS, AGE_SURVIVORS, AGE_DEPENDANTS = 0, 1, 2, 3, 4
N_AGE_MONEY = 5


# accumulator rows for each thread: more than one, so that prange's static schedule still
# shares the rows' chunks out evenly when some chunks cost more than others
ROWS_PER_THREAD = 4


def accumulator_rows() -> int:
    """Rows an accumulator is made with: ROWS_PER_THREAD for each thread Numba may run."""
    return ROWS_PER_THREAD * max(1, nb.config.NUMBA_NUM_THREADS)


@nb.njit(inline="always", cache=True)
def chunk_rows(size, chunk, rows):
    """The chunks of ``chunk`` slots over ``size`` slots, and the accumulator rows they add
    into (chunk k into row k modulo them): the chunks, at most ``rows``, the rows the
    accumulator has."""
    n_chunks = (size + chunk - 1) // chunk
    return n_chunks, min(n_chunks, rows)


def fixed_point_scale(average_earnings: float) -> float:
    """Currency per fixed-point unit: 2**-24 of the year's average earnings.

    A person's amount is then at most a few times 2**24 units and ten million persons'
    total stays far below the int64 limit, with a resolution of 6e-8 of average earnings.
    """
    return average_earnings / 16_777_216.0


@nb.njit(inline="always", cache=True)
def fixed(amount: float, scale: float) -> np.int64:
    """``amount`` in fixed-point units of ``scale`` currency (rounded to the nearest)."""
    return np.int64(math.floor(amount / scale + 0.5))


@nb.njit(inline="always", cache=True)
def is_active(st) -> bool:
    """Not retired, not left, not gone: one of the labour states."""
    return st in (CONTRIBUTING, SELF_EMPLOYED, INFORMAL, UNEMPLOYED, INACTIVE, DISABLED)


@nb.njit(inline="always", cache=True)
def is_contributing(st) -> bool:
    return st in (CONTRIBUTING, SELF_EMPLOYED)
