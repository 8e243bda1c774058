"""The records the year kernel takes (:func:`spfsim.engine.micro.year.year_step`).

Named tuples of arrays and numbers, which Numba passes as they are: the kernel reads
``pension.minimum_pension`` as it would a parameter of its own. Each record has a builder that
gives every field one type (float64 or int64 C-contiguous arrays, Python floats, ints and
bools), so that a record always compiles to the same signature and the cached kernel is
reused.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...schemes.pension_rules import FORMULA_SIZE


class Persons(NamedTuple):
    """The person arrays of a :class:`~spfsim.engine.micro.store.PersonStore` (one slot
    each), and the step's flags: births and deaths that leave survivors, and the mothers of
    a child below the care credits' age (``young_child``: empty without family links)."""

    pid: np.ndarray
    status: np.ndarray
    age: np.ndarray
    sex: np.ndarray
    birth_year: np.ndarray
    service: np.ndarray
    care_years: np.ndarray
    credits: np.ndarray
    paid: np.ndarray
    recent: np.ndarray
    pension: np.ndarray
    earnings_factor: np.ndarray
    lifetime_contributions: np.ndarray
    lifetime_benefits: np.ndarray
    survivor_kind: np.ndarray
    survivor_pension: np.ndarray
    birth_flag: np.ndarray
    death_flag: np.ndarray
    young_child: np.ndarray
    # the living pensioners' dependants from the family links (dependants.linked_dependants:
    # flags DEPENDENT_SPOUSE | DEPENDENT_CHILD and the two supplements, (slot, 2)); empty:
    # the dependants are drawn by cell (dependants.pay_dependant)
    dependant_flags: np.ndarray
    supplements: np.ndarray


class Step(NamedTuple):
    """The year and how it is run: random-number seed, calendar year, persons in use,
    chunk size; money's fixed-point ``scale`` (currency per unit); ``deflator``, the
    interest accumulation from 1 January of the base year to the middle of this year
    (lifetime amounts are present values at that date); the first birth year of the
    lifetime histograms' cohort groups, and their ``lifetime_unit`` (currency per
    base-year average earnings)."""

    seed: int
    year: int
    size: int
    chunk: int
    scale: float
    deflator: float
    first_birth_year: int
    lifetime_unit: float


class Demography(NamedTuple):
    """(age, sex) probabilities of dying during the step by start age, of disability
    pensioners (``q_invalid``) and of everybody else; of emigrating; (age,) fertility."""

    q_death: np.ndarray
    q_invalid: np.ndarray
    p_emigrate: np.ndarray
    asfr: np.ndarray


class Labour(NamedTuple):
    """This year's labour transitions by (age, sex) (engine._labour_year): contribute
    again, join, keep a non-contributing state, the cumulative draw among the four
    (age, sex, 4), keep a contributing state, be self-employed; and the outcomes chosen by
    exact alignment per person (int8, -1: draw), or empty arrays."""

    stay: np.ndarray
    join: np.ndarray
    keep: np.ndarray
    cumulative: np.ndarray
    keep_contributor: np.ndarray
    p_self_employed: np.ndarray
    forced_contribution: np.ndarray
    forced_death: np.ndarray


class Pension(NamedTuple):
    """The contributory pension's parameters for the year (``has`` False: none, the other
    fields are ignored), numbers only; amounts in currency per year. The rules that use
    them are those of :mod:`spfsim.schemes.pension_rules`."""

    has: bool
    minimum_service: int
    formula: np.ndarray  # the pension formula (pension_rules.formula)
    reference_years: int  # reference earnings: last N credited years (0: career average)
    best_years: bool  # the reference's N years the best N, not the last N
    minimum_pension: float
    maximum_pension: float  # at award (0 or infinite: none)
    revaluation: float  # growth of credited earnings into this year
    indexation: float  # growth of pensions in payment into this year
    transitory_sd: float  # of the log of the yearly earnings shock
    earnings_floor: float
    earnings_ceiling: float  # 0 or infinite: none
    contribution_rate: float
    disability_minimum_service: int
    recovery_rate: float
    care_credit: float  # earnings credited for a care year
    care_insured_only: bool
    care_child_age: int  # credits for a child below this age (0: none)
    refund_share: float  # of the contributions paid, to leavers without a pension
    survivors_on: bool  # flag deaths that leave survivors' pensions
    survivor_minimum_service: int
    orphan_age_limit: int
    survivor_end_rate: float  # spouses' pensions ending a year
    # a spouse's pension paid only above her own pension (dual entitlement)
    survivor_dual_entitlement: bool
    survivor_minimum_age: int  # a spouse's pension paid and counted from this age
    # a dependent spouse's supplement paid only above her own pension, and the log-sd of
    # a spouse's supplement around her cell's mean (engine.micro.dependants)
    dependant_dual_entitlement: bool
    dependant_spread: float


class PensionTables(NamedTuple):
    """The contributory pension's (age, sex) arrays for the year, by this year's age."""

    retirement_age: np.ndarray  # int64: pensionable age of the cell's cohort
    earnings: np.ndarray  # gross earnings of a contributor of level 1
    incidence: np.ndarray  # disability onset among last year's contributors
    care_probability: np.ndarray  # (age,) a woman is credited for child care
    retire_probability: np.ndarray  # an eligible active member retires
    retire_factor: np.ndarray  # early reduction or late increment
    # a spouse's pensioner's chance of a new partnership ending it, where the cohort
    # engine's families give one and no family link does (zeros: none)
    survivor_partnering: np.ndarray
    # the share of the cell's birth cohort never covered (labour.never_covered; zeros:
    # nobody)
    never_covered: np.ndarray
    # a person's chance of being a living pensioner's dependent spouse or child, and the
    # cell's mean supplement (engine.micro.dependants.dependant_tables; zeros: none)
    dependent_spouse_probability: np.ndarray
    dependent_spouse_amount: np.ndarray
    dependent_child_probability: np.ndarray
    dependent_child_amount: np.ndarray


class Benefits(NamedTuple):
    """Non-contributory benefits: rule codes (J, 4: kernels NC_* columns), receipt
    probability and amount (J, age, sex), the top-up scheme (-1: none), severe disability
    prevalence (age, sex); unemployment insurance's qualifying period (years, and whether
    care credits count)."""

    codes: np.ndarray
    probability: np.ndarray
    amount: np.ndarray
    top_up_index: int
    disability_prevalence: np.ndarray
    ui_service: int
    ui_credits_count: bool


class Income(NamedTuple):
    """What the year kernel needs to write each person's income of the year by source
    (engine.micro.poverty: market, contributory transfers, the floor's), when household
    poverty is measured: ``by_source`` (slot, 3) float32, or an empty array (nothing
    written); the (age, sex) earnings of a covered worker of level 1, and an informal
    worker's earnings as a fraction of them; ``coverage_bits`` (slot,) uint16, where
    benefits tested on the household are paid after the year
    (engine.micro.coverage.cover), or empty."""

    by_source: np.ndarray
    earnings: np.ndarray
    informal: float
    coverage_bits: np.ndarray


class Tallies(NamedTuple):
    """The year's accumulators, one row per chunk (int64): counts (age, sex, N_COUNTS +
    J), money by sex, new pensions and leavers by credited service, money by (age, sex),
    lifetime histograms at death, non-contributory money, coverage."""

    counts: np.ndarray
    money: np.ndarray
    service_awarded: np.ndarray
    service_left: np.ndarray
    age_money: np.ndarray
    lifetimes: np.ndarray
    nc_money: np.ndarray
    coverage: np.ndarray


def _floats(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64)


def _ints(x, dtype=np.int64) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=dtype)


NO_LINKED_DEPENDANTS = (np.zeros(0, dtype=np.int8), np.zeros((0, 2)))


def persons(store, birth_flag: np.ndarray, death_flag: np.ndarray,
            young_child: np.ndarray | None = None,
            dependants: tuple[np.ndarray, np.ndarray] = NO_LINKED_DEPENDANTS) -> Persons:
    """The store's arrays (not copies) and the step's flags (``young_child`` None: no
    family links, care credits by probability; ``dependants``: the linked dependants'
    flags and supplements, or empty)."""
    if young_child is None:
        young_child = np.zeros(0, dtype=np.int8)
    return Persons(*(getattr(store, name) for name in Persons._fields[:-5]),
                   birth_flag, death_flag, young_child, *dependants)


def step(seed, year, size, chunk, scale, deflator, first_birth_year,
         lifetime_unit) -> Step:
    return Step(int(seed), int(year), int(size), int(chunk), float(scale), float(deflator),
                int(first_birth_year), float(lifetime_unit))


def demography(q_death, q_invalid, p_emigrate, asfr) -> Demography:
    return Demography(_floats(q_death), _floats(q_invalid), _floats(p_emigrate),
                      _floats(asfr))


def labour(stay, join, keep, cumulative, keep_contributor, p_self_employed,
           forced_contribution, forced_death) -> Labour:
    return Labour(_floats(stay), _floats(join), _floats(keep), _floats(cumulative),
                  _floats(keep_contributor), _floats(p_self_employed),
                  _ints(forced_contribution, np.int8), _ints(forced_death, np.int8))


_PENSION_TYPES = {
    "has": bool, "minimum_service": int, "formula": _floats, "reference_years": int,
    "best_years": bool, "minimum_pension": float,
    "maximum_pension": float, "revaluation": float, "indexation": float,
    "transitory_sd": float, "earnings_floor": float, "earnings_ceiling": float,
    "contribution_rate": float, "disability_minimum_service": int, "recovery_rate": float,
    "care_credit": float, "care_insured_only": bool, "care_child_age": int,
    "refund_share": float,
    "survivors_on": bool, "survivor_minimum_service": int, "orphan_age_limit": int,
    "survivor_end_rate": float, "survivor_dual_entitlement": bool,
    "survivor_minimum_age": int, "dependant_dual_entitlement": bool, "dependant_spread": float}
#: the PensionTables fields of the dependants' supplements, zeros without them
DEPENDANT_TABLES = ("dependent_spouse_probability", "dependent_spouse_amount",
                    "dependent_child_probability", "dependent_child_amount")
NO_DEPENDANTS = dict.fromkeys(DEPENDANT_TABLES, np.zeros((101, 2)))
assert tuple(_PENSION_TYPES) == Pension._fields


def pension(**fields) -> tuple[Pension, PensionTables]:
    """The Pension record and its PensionTables from their fields by name (each given its
    type)."""
    return (Pension(**{name: kind(fields[name]) for name, kind in _PENSION_TYPES.items()}),
            PensionTables(_ints(fields["retirement_age"]),
                          *(_floats(fields[name]) for name in PensionTables._fields[1:])))


NO_PENSION = pension(
    has=False, retirement_age=np.zeros((101, 2)), minimum_service=0,
    formula=np.zeros(FORMULA_SIZE), reference_years=0, best_years=False, minimum_pension=0.0,
    maximum_pension=np.inf, revaluation=0.0, indexation=0.0, earnings=np.zeros((101, 2)),
    transitory_sd=0.0, earnings_floor=0.0, earnings_ceiling=np.inf, contribution_rate=0.0,
    incidence=np.zeros((101, 2)), disability_minimum_service=0, recovery_rate=0.0,
    care_probability=np.zeros(101), care_credit=0.0, care_insured_only=False,
    care_child_age=0, refund_share=0.0, retire_probability=np.zeros((101, 2)),
    retire_factor=np.ones((101, 2)), survivor_partnering=np.zeros((101, 2)),
    never_covered=np.zeros((101, 2)), survivors_on=False, survivor_minimum_service=0,
    orphan_age_limit=0, survivor_end_rate=0.0, survivor_dual_entitlement=False,
    survivor_minimum_age=0, dependant_dual_entitlement=False, dependant_spread=0.0, **NO_DEPENDANTS)


NO_COVERAGE_BITS = np.zeros(0, dtype=np.uint16)


def income(by_source: np.ndarray, earnings, informal: float,
           coverage_bits: np.ndarray = NO_COVERAGE_BITS) -> Income:
    return Income(by_source, _floats(earnings), float(informal), coverage_bits)


NO_INCOME = income(np.zeros((0, 3), dtype=np.float32), np.zeros((101, 2)), 0.0)


def benefits(codes, probability, amount, top_up_index, disability_prevalence, ui_service,
             ui_credits_count) -> Benefits:
    return Benefits(_ints(codes), _floats(probability), _floats(amount), int(top_up_index),
                    _floats(disability_prevalence), int(ui_service), bool(ui_credits_count))
