"""Counter-based random numbers keyed by (seed, stream, person id, year).

Every draw is a pure function of its key: a person's draw for a process in a year is the
same whatever the number of threads, the chunking, the order of processing or what other
persons exist, and a reform run sees exactly its baseline's draws for every process it
does not change (common random numbers; vivarium's approach). No global state, no seeding.

The key is hashed with the SplitMix64 finaliser (Steele, Lea & Flood 2014), applied in a
chain so that each key component is fully mixed before the next enters; the top 53 bits
give a double in [0, 1).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

# one stream per random process, so that processes never share draws
DEATH, EMIGRATION, BIRTH, CONTRIBUTION, EARNINGS_PERMANENT, EARNINGS_PERMANENT_2 = range(1, 7)
EARNINGS_TRANSITORY, EARNINGS_TRANSITORY_2, NEWBORN_SEX, NEWBORN_SURVIVAL = range(7, 11)
IMMIGRATION, INITIAL_STATE, TAKE_UP, NEWBORN_EMIGRATION = range(11, 15)
LABOUR_STAY, LABOUR_STATE, ALIGNMENT, SEVERE_DISABILITY = range(15, 19)
DISABILITY_ONSET, RECOVERY = range(19, 21)
SURVIVOR_SPOUSE, SURVIVOR_ORPHAN, ORPHAN_SEX, SURVIVOR_END = range(21, 25)
INITIAL_SURVIVORS, CARE_CREDIT = 27, 28  # 25, 26 are retired (survivor records' own fates)
RETIREMENT, INITIAL_CONTRIBUTIONS = 29, 30
SURVIVOR_PARTNER_AGE, SURVIVOR_ORPHAN_AVAILABLE, SURVIVOR_PICK = 31, 32, 33
# families (engine.micro.families)
PARTNERSHIP, PARTNER_AGE, PARTNER_AGE_2, PARTNER_PICK, SEPARATION = range(34, 39)
LEAVE_HOME, MOTHER_AGE, MOTHER_PICK, AT_HOME = range(39, 43)
ARRIVING_PARTNERSHIP, ARRIVING_PARTNER_AGE, ARRIVING_PARTNER_AGE_2 = range(43, 46)
ARRIVING_PARTNER_PICK = 46
PARTNER_ORDER, ARRIVING_PARTNER_ORDER = 47, 48
INITIAL_PARTNERSHIP, INITIAL_PARTNER_AGE, INITIAL_PARTNER_AGE_2 = range(49, 52)
INITIAL_PARTNER_PICK, INITIAL_PARTNER_ORDER = 52, 53
HOUSEHOLD_CLONES = 54  # a person file's households (engine.micro.person_households)
NEVER_COVERED = 55  # a person's cohort's share never covered (keyed by year 0: for life)
# the base year's pensions in payment around their cells' means (engine.micro.initial)
INITIAL_PENSION, INITIAL_PENSION_2, INITIAL_SURVIVOR_PENSION, INITIAL_SURVIVOR_PENSION_2 = \
    range(56, 60)
# a living pensioner's dependants (engine.micro.dependants; keyed by year 0: for life)
DEPENDENT_SPOUSE, DEPENDENT_CHILD, DEPENDENT_SUPPLEMENT, DEPENDENT_SUPPLEMENT_2 = range(60, 64)
# the transitory part of the base year's kept best years (engine.micro.initial; keyed by
# the kept year's rank for the year)
INITIAL_KEPT_YEARS, INITIAL_KEPT_YEARS_2 = 64, 65
# the draws of a partnership formed: (formed, partner's age, its second stream, pick, the
# woman's turn among those forming)
PARTNERSHIP_STREAMS = (PARTNERSHIP, PARTNER_AGE, PARTNER_AGE_2, PARTNER_PICK, PARTNER_ORDER)
ARRIVING_PARTNERSHIP_STREAMS = (ARRIVING_PARTNERSHIP, ARRIVING_PARTNER_AGE,
                                ARRIVING_PARTNER_AGE_2, ARRIVING_PARTNER_PICK,
                                ARRIVING_PARTNER_ORDER)
# the base year's: its draws are keyed by the base year, as the first year's family pass's
# are, and sharing their streams made a woman who did not partner in the base year all but
# unable to in the first pass (the same draw against a smaller chance)
INITIAL_PARTNERSHIP_STREAMS = (INITIAL_PARTNERSHIP, INITIAL_PARTNER_AGE, INITIAL_PARTNER_AGE_2,
                               INITIAL_PARTNER_PICK, INITIAL_PARTNER_ORDER)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@nb.njit(inline="always", cache=True)
def _mix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@nb.njit(inline="always", cache=True)
def uniform(seed: int, stream: int, key: int, year: int) -> float:
    """A uniform draw in [0, 1) for (seed, stream, key, year)."""
    h = _mix(np.uint64(seed) + _GOLDEN)
    h = _mix(h ^ (np.uint64(stream) * _GOLDEN))
    h = _mix(h ^ np.uint64(key))
    h = _mix(h ^ (np.uint64(year) * _M1))
    return float(h >> _S11) * _TO_UNIT


@nb.njit(inline="always", cache=True)
def normal(seed: int, stream: int, stream_2: int, key: int, year: int) -> float:
    """A standard normal draw (Box-Muller on two independent uniforms)."""
    u1 = 1.0 - uniform(seed, stream, key, year)  # in (0, 1]
    u2 = uniform(seed, stream_2, key, year)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@nb.njit(cache=True)
def normals(seed: int, stream: int, stream_2: int, keys: np.ndarray, year: int
            ) -> np.ndarray:
    """Vectorised :func:`normal` over ``keys`` (host-side code)."""
    out = np.empty(len(keys))
    for i in range(len(keys)):
        out[i] = normal(seed, stream, stream_2, keys[i], year)
    return out


@nb.njit(cache=True)
def uniforms(seed: int, stream: int, keys: np.ndarray, year: int) -> np.ndarray:
    """Vectorised :func:`uniform` over ``keys`` (for tests and host-side code)."""
    out = np.empty(len(keys))
    for i in range(len(keys)):
        out[i] = uniform(seed, stream, keys[i], year)
    return out
