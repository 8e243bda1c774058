"""Numba kernels of the microsimulation, by life event, under one name.

The kernels live in modules of their own: the year's pass over the persons
(:mod:`.year`, with its records :mod:`.records`), labour states and alignment
(:mod:`.labour`), survivors' pensions (:mod:`.survivors`), entrants (:mod:`.entrants`),
non-contributory benefits and coverage (:mod:`.coverage`), lifetime histograms
(:mod:`.lifetimes`) and what is counted (:mod:`.counters`). This module gathers their
public names: the micro engine calls the kernels through it (``kernels.year_step``), and
tools and tests read its constants.
"""

from __future__ import annotations

from . import records
from .counters import (
    AGE_INSURED,
    AGE_PENSIONS,
    AGE_REFUNDS,
    AGE_SURVIVORS,
    BENEFITS,
    CONTRIBUTORS,
    CURRENT_STATE,
    DEATHS,
    EMIGRANTS,
    INSURED,
    INVALID_BENEFITS,
    MAX_AGE,
    MAX_SERVICE,
    N_AGE_MONEY,
    N_COUNTS,
    N_DISABLED,
    N_FREE,
    N_INACTIVE,
    N_INFORMAL,
    N_INVALID,
    N_LEFT,
    N_MONEY,
    N_ORPHANS,
    N_REFUNDS,
    N_SELF_EMPLOYED,
    N_SPOUSES,
    N_STATE_COUNTS,
    N_UNEMPLOYED,
    NC_CASH,
    NC_GROUP,
    NC_GUARANTEE,
    NC_TOP_UP,
    NEW_AMOUNT,
    NEW_INVALID,
    NEW_LEAVERS,
    NEW_PENSIONERS,
    NO_SURVIVOR,
    NON_CONTRIBUTING_STATES,
    ORPHAN,
    PENSIONERS,
    POP,
    PREVIOUS_STATE,
    REFUNDS,
    S_ACTIVE,
    S_DISABLED,
    S_EMPLOYEE,
    S_INACTIVE,
    S_INFORMAL,
    S_INVALID,
    S_POP,
    S_QUALIFIED,
    S_SELF_EMPLOYED,
    S_UNEMPLOYED,
    SPOUSE,
    fixed_point_scale,
    is_active,
    is_contributing,
)
from .coverage import arriving_mothers_benefits, benefits_and_coverage
from .entrants import add_immigrants, add_newborns, permanent_factor, permanent_factors
from .labour import count_states, exact_alignment, labour_state
from .lifetimes import (
    COHORT_GROUP,
    EXIT_BINS,
    EXIT_NET,
    EXIT_RATIO,
    EXIT_SPAN,
    LIFETIME_BINS,
    LOG_HIGH,
    LOG_LOW,
    NET_UNIT,
    PV_AFTER,
    PV_BENEFITS,
    PV_CONTRIBUTIONS,
    RATIO_UNIT,
    asinh_bin,
    asinh_bin_edges,
    lifetime_bin,
    lifetime_bin_edges,
    record_lifetimes,
)
from .store import (
    CONTRIBUTING,
    DISABLED,
    FEMALE,
    GONE,
    INACTIVE,
    INFORMAL,
    INVALID,
    LEFT,
    MALE,
    RETIRED,
    SELF_EMPLOYED,
    UNEMPLOYED,
)
from .survivors import award_survivors, survivor_claims, survivor_in_payment
from .year import year_step

__all__ = [
    "AGE_INSURED", "AGE_PENSIONS", "AGE_REFUNDS", "AGE_SURVIVORS", "BENEFITS", "COHORT_GROUP",
    "CONTRIBUTING", "CONTRIBUTORS", "CURRENT_STATE", "DEATHS", "DISABLED", "EMIGRANTS",
    "EXIT_BINS", "EXIT_NET", "EXIT_RATIO", "EXIT_SPAN", "FEMALE", "GONE", "INACTIVE",
    "INFORMAL", "INSURED", "INVALID", "INVALID_BENEFITS", "LEFT", "LIFETIME_BINS",
    "LOG_HIGH", "LOG_LOW", "MALE", "MAX_AGE", "MAX_SERVICE", "NC_CASH", "NC_GROUP",
    "NC_GUARANTEE", "NC_TOP_UP", "NET_UNIT", "NEW_AMOUNT", "NEW_INVALID", "NEW_LEAVERS",
    "NEW_PENSIONERS", "NON_CONTRIBUTING_STATES", "NO_SURVIVOR", "N_AGE_MONEY", "N_COUNTS",
    "N_DISABLED", "N_FREE", "N_INACTIVE", "N_INFORMAL", "N_INVALID", "N_LEFT", "N_MONEY",
    "N_ORPHANS", "N_REFUNDS", "N_SELF_EMPLOYED", "N_SPOUSES", "N_STATE_COUNTS",
    "N_UNEMPLOYED", "ORPHAN", "PENSIONERS", "POP", "PREVIOUS_STATE", "PV_AFTER",
    "PV_BENEFITS", "PV_CONTRIBUTIONS", "RATIO_UNIT", "REFUNDS", "RETIRED", "SELF_EMPLOYED",
    "SPOUSE", "S_ACTIVE", "S_DISABLED", "S_EMPLOYEE", "S_INACTIVE", "S_INFORMAL",
    "S_INVALID", "S_POP", "S_QUALIFIED", "S_SELF_EMPLOYED", "S_UNEMPLOYED", "UNEMPLOYED",
    "add_immigrants", "add_newborns", "arriving_mothers_benefits", "asinh_bin",
    "asinh_bin_edges", "award_survivors", "benefits_and_coverage", "count_states",
    "exact_alignment",
    "fixed_point_scale", "is_active", "is_contributing", "labour_state", "lifetime_bin",
    "lifetime_bin_edges", "permanent_factor", "permanent_factors", "record_lifetimes",
    "records", "survivor_claims", "survivor_in_payment", "year_step",
]
