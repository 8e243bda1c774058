"""Microsimulation engine: individual life courses run by the scheme rules of the cohort
engine, reported in the same form (SchemeFlows and a DemographicProjection).

Each simulated person stands for ``weight`` = base population / persons real persons. The
demographic targets (survival ratios, net migration, fertility) are those of the cohort
projection, applied with the same timing, so that as the number of persons grows the
micro results converge to the cohort engine's expected values (tested).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...demography import DemographicProjection, emigration_probability
from ...economy import EconomicProjection
from ...economy.annuities import continuation_factors
from ...economy.discount import mid_year_factors as discount_factors
from ...errors import SpfsimError
from ...params import Assumptions, CompiledScheme
from ...params.model_file import DEFAULT_LABOUR_PERSISTENCE
from ...schemes import db_pension as dbp
from ..benefits import (
    N_COVERAGE,
    BenefitRule,
    benefit_rules,
    contribution_classes,
    contributory_pension,
    unemployment_qualification,
)
from ..cohort import (
    MAX_SERVICE,
    NOT_CONTRIBUTING,
    PensionState,
    SurvivorRules,
    aligned_persistence,
    base_year_state,
    benefit_flows,
    contribution_transitions,
    death_rates,
    pension_years,
    retirement_choice,
)
from ..flows import SchemeFlows
from . import kernels as K
from . import rng
from .persons import PersonRecords, clone_cell, read_person_file
from .store import (
    CONTRIBUTING,
    INACTIVE,
    INVALID,
    LEFT,
    RETIRED,
    PersonStore,
)

DEFAULT_CHUNK = 1 << 16
COMPACT_WHEN_GONE = 0.15  # compact the store when this share of slots is empty


@dataclass(frozen=True)
class MicroSettings:
    """How to run the microsimulation.

    ``permanent_sd`` and ``transitory_sd`` are the standard deviations of the log of the
    persistent individual earnings level and of the yearly shock (both mean one); with
    both 0, earnings are those of the cohort engine's age-sex profile. ``person_file``: a
    CSV or Parquet file of base-year records to clone the population from.
    ``labour_persistence`` (0-1) says how strongly informal workers, the unemployed and the
    inactive keep their state from one year to the next (the shares are always those of
    the labour projection). ``alignment``: "expected" makes each cell's expected numbers
    of deaths and contributors match the projections; "exact" selects exactly that number
    (stochastically rounded) in each cell, at some cost in speed and memory; "off" sets
    the labour transitions from the projection's expected composition of each cell, not
    the simulated one, so simulated counts drift freely around the targets.
    """

    persons: int
    seed: int
    chunk_size: int = DEFAULT_CHUNK
    permanent_sd: float = 0.0
    transitory_sd: float = 0.0
    person_file: str | None = None  # start from these records (see persons.py)
    # tendency to keep last year's non-contributing state (the model's, by default)
    labour_persistence: float = DEFAULT_LABOUR_PERSISTENCE
    alignment: str = "expected"  # "expected", "exact" (counts per cell) or "off"

    def __post_init__(self) -> None:
        if self.persons < 1:
            raise SpfsimError(f"persons must be at least 1 (got {self.persons})")
        if not 0 <= self.seed < 2**63:
            raise SpfsimError(f"seed must be a non-negative integer (got {self.seed})")
        if self.chunk_size < 1:
            raise SpfsimError(f"chunk size must be at least 1 (got {self.chunk_size})")
        if self.alignment not in ("expected", "exact", "off"):
            raise SpfsimError(f"alignment must be 'expected', 'exact' or 'off' (got "
                              f"{self.alignment!r})")
        if not 0.0 <= self.labour_persistence <= 1.0:
            raise SpfsimError("labour persistence must be in [0, 1] "
                              f"(got {self.labour_persistence})")


@dataclass
class MicroResult:
    """Weighted results of a microsimulation, in the cohort engine's form."""

    demography: DemographicProjection
    flows: list[SchemeFlows]
    weight: float
    person_years: int
    store: PersonStore
    first_birth_year: int  # of the first cohort group of ``lifetimes``
    labour_status: np.ndarray | None = None  # (year, age, sex, status) persons
    lifetimes: np.ndarray | None = None  # (cohort group, sex, 2, bin) deaths, weighted
    # per-person money's worth ratio and net transfer in the pension scheme, weighted:
    # (cohort group, sex, 2, EXIT_BINS) persons, and (cohort group, sex, 3) present values
    # (kernels.record_lifetimes)
    exits: np.ndarray | None = None
    exit_totals: np.ndarray | None = None
    synthetic_cells: int = 0  # age x sex cells a person file had no record for
    coverage: np.ndarray | None = None  # (year, age, sex, group, 2) target, covered persons


# the status axis of MicroResult.labour_status, with the kernel's count index of each
STATUS_COUNTS = {"employee_contributing": K.CONTRIBUTORS, "self_employed_contributing":
                 K.N_SELF_EMPLOYED, "informal": K.N_INFORMAL, "unemployed": K.N_UNEMPLOYED,
                 "inactive": K.N_INACTIVE, "disabled": K.N_DISABLED, "pensioner": K.PENSIONERS,
                 "disability_pensioner": K.N_INVALID, "retired_without_pension": K.N_LEFT}


def _capacity(population: np.ndarray, persons: int) -> int:
    """Slots for the whole run, from the projected peak population: the living, those gone
    since the last compaction, and one year's entrants. The store still grows if a
    simulation drifts above it, but normally never reallocates."""
    peak = float(population.sum(axis=(1, 2)).max() / population[0].sum())
    return int(persons * peak * (1.0 / (1.0 - COMPACT_WHEN_GONE - 0.02) + 0.05)) + 1024


def _allocate(population: np.ndarray, persons: int) -> np.ndarray:
    """Persons per (age, sex) cell proportional to ``population`` (largest remainder)."""
    exact = population / population.sum() * persons
    counts = np.floor(exact).astype(np.int64)
    short = persons - counts.sum()
    order = np.argsort(-(exact - counts), axis=None, kind="stable")[:short]
    counts.flat[order] += 1
    return counts


def _initial_store(assumptions: Assumptions, settings: MicroSettings,
                   state: PensionState | None, capacity: int,
                   records: PersonRecords | None) -> tuple[PersonStore, int]:
    """The base-year population: persons by age and sex, and pension classes drawn from the
    cohort engine's base-year shares (so both engines start from the same expectation), or
    cloned from a person file. Returns the store and the number of cells the file lacked."""
    store = PersonStore.empty(capacity, state.recent.shape[-1] if state is not None else 0)
    synthetic_cells = 0
    counts = _allocate(assumptions.base_population, settings.persons)
    base_year = int(assumptions.years[0])
    start = 0
    for a in range(counts.shape[0]):
        for s in range(2):
            n = int(counts[a, s])
            if n == 0:
                continue
            slots = slice(start, start + n)
            ids = np.arange(start, start + n, dtype=np.int64)
            store.pid[slots] = ids
            store.age[slots] = a
            store.sex[slots] = s
            store.birth_year[slots] = base_year - a
            store.status[slots] = INACTIVE
            store.earnings_factor[slots] = K.permanent_factors(settings.seed, ids,
                                                               settings.permanent_sd)
            picks = None
            if records is not None:
                u = rng.uniforms(settings.seed, rng.INITIAL_STATE, ids, 0)
                picks = clone_cell(records, a, s, ids, u)
                synthetic_cells += picks is None
            if picks is not None:
                _copy_records(store, slots, records, picks, _base_rate(assumptions)
                              if state is not None else None)
            elif state is not None:
                _draw_pension_class(store, slots, ids, state, a, s, settings.seed)
            if state is not None:
                _draw_survivors(store, slots, ids, state, a, s, settings.seed)
            start += n
    store.size = start
    store.next_id = start
    return store, synthetic_cells


def _base_rate(assumptions: Assumptions) -> float:
    """The contributory pension's contribution rate in the base year."""
    return float(contributory_pension(assumptions)["contribution_rate"][0])


def _copy_records(store, slots, records: PersonRecords, picks: np.ndarray,
                  contribution_rate: float | None) -> None:
    """Persons cloned from a person file's records; ``contribution_rate``: the pension's
    base-year rate, at which a record's credited years count as paid for (None: the model
    has no pension)."""
    status = records.status[picks]
    has_pension = contribution_rate is not None
    if not has_pension:
        status = np.full(len(picks), INACTIVE, dtype=np.int8)
    store.status[slots] = status
    store.service[slots] = np.minimum(records.service[picks], 255)
    store.credits[slots] = np.where(status == RETIRED, 0.0, records.service[picks]
                                    * records.reference_earnings[picks])
    # a record's credited years count as contributions at the base-year rate
    store.paid[slots] = (contribution_rate or 0.0) * store.credits[slots]
    # a person file gives one reference earnings: every recent credited year gets it
    kept = np.minimum(records.service[picks], store.recent.shape[1])
    store.recent[slots] = np.where(
        (np.arange(store.recent.shape[1]) < kept[:, None]) & (status != RETIRED)[:, None],
        records.reference_earnings[picks][:, None], 0.0)
    store.pension[slots] = np.where(status == RETIRED, records.pension[picks], 0.0)
    store.earnings_factor[slots] = records.earnings_level[picks]


def _draw_pension_class(store, slots, ids, state: PensionState, a: int, s: int,
                        seed: int) -> None:
    by_k = state.active[a, s]  # (status, service, contribution class)
    active = by_k.sum(axis=-1)
    retired = state.pensioners[a, s]
    invalid = state.invalid[a, s].sum(axis=-1)
    left = max(1.0 - active.sum() - retired.sum() - invalid.sum(), 0.0)
    shares = np.concatenate([active[NOT_CONTRIBUTING], active[1], retired, invalid, [left]])
    cumulative = np.cumsum(shares / shares.sum())
    u = rng.uniforms(seed, rng.INITIAL_STATE, ids, 0)
    klass = np.minimum(np.searchsorted(cumulative, u, side="right"), len(shares) - 1)
    width = MAX_SERVICE + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        credits = np.where(active > 0, state.credits[a, s] / active, 0.0)
        paid = np.where(active > 0, state.paid[a, s] / active, 0.0)
        pension = np.where(retired > 0, state.pension[a, s] / retired, 0.0)
        invalid_credits = np.where(invalid > 0, state.invalid_credits[a, s] / invalid, 0.0)
        invalid_paid = np.where(invalid > 0, state.invalid_paid[a, s] / invalid, 0.0)
        invalid_pension = np.where(invalid > 0, state.invalid_pension[a, s] / invalid, 0.0)
        recent = np.where(active[..., None] > 0, state.recent[a, s]
                          / active[..., None], 0.0)  # (status, service, R)
        invalid_recent = np.where(invalid[:, None] > 0, state.invalid_recent[a, s]
                                  / invalid[:, None], 0.0)
    group, service = np.divmod(klass, width)
    status = np.select([group == 0, group == 1, group == 2, group == 3],
                       [INACTIVE, CONTRIBUTING, RETIRED, INVALID], LEFT).astype(np.int8)
    store.status[slots] = status
    service = np.where(group == 4, 0, service)
    store.service[slots] = service
    in_active = group < 2
    store.care_years[slots] = np.where(in_active, _care_years(
        by_k[np.minimum(group, 1), service], service,
        rng.uniforms(seed, rng.INITIAL_CONTRIBUTIONS, ids, 0)), 0)
    store.credits[slots] = np.select(
        [in_active, group == 3], [credits[np.minimum(group, 1), service],
                                  invalid_credits[service]], 0.0)
    store.paid[slots] = np.select(
        [in_active, group == 3], [paid[np.minimum(group, 1), service],
                                  invalid_paid[service]], 0.0)
    store.pension[slots] = np.select([group == 2, group == 3],
                                     [pension[service], invalid_pension[service]], 0.0)
    if store.recent.shape[1]:  # like the credits: the class's average per person
        store.recent[slots] = np.select(
            [in_active[:, None], (group == 3)[:, None]],
            [recent[np.minimum(group, 1), service], invalid_recent[service]], 0.0)


def _draw_survivors(store, slots, ids, state: PensionState, a: int, s: int,
                    seed: int) -> None:
    """The base year's survivors' pensions, drawn person by person from the cohort
    engine's reconstructed shares of the cell (spouses, orphans) with the cell's average
    amount, as pensioners are drawn from it."""
    spouse, orphan = state.spouses[a, s], state.orphans[a, s]
    if spouse + orphan <= 0:
        return
    u = rng.uniforms(seed, rng.INITIAL_SURVIVORS, ids, 0)
    kind = np.where(u < spouse, K.SPOUSE, np.where(u < spouse + orphan, K.ORPHAN,
                                                   K.NO_SURVIVOR))
    store.survivor_kind[slots] = kind
    store.survivor_pension[slots] = np.select(
        [kind == K.SPOUSE, kind == K.ORPHAN],
        [state.spouse_pension[a, s] / max(spouse, 1e-300),
         state.orphan_pension[a, s] / max(orphan, 1e-300)], 0.0)


def _care_years(by_k: np.ndarray, service: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Care years of active members drawn into classes of ``service`` credited years, given
    each one's class split by contribution class k (``by_k`` (person, K), see
    engine.cohort.PensionState) and a uniform ``u``: k < K - 1 contribution years leave
    service - k care years; the last class (at least K - 1 contribution years, the most the
    qualifying rules need to know) is taken as contributions only."""
    total = by_k.sum(axis=-1, keepdims=True)
    cumulative = np.cumsum(by_k / np.where(total > 0, total, 1.0), axis=-1)
    k = np.minimum((cumulative <= u[:, None]).sum(axis=-1), by_k.shape[-1] - 1)
    last = by_k.shape[-1] - 1
    return np.where((k < last) & (total[:, 0] > 0), service - k, 0).astype(np.uint8)


def _emigration(counts_pop, net_migration, survival, weight):
    """Per-resident emigration probability by start age (``emigration_probability``), and
    expected immigrants by end age: of net immigrants M, M (1 + S) / 2 are present at the
    end of the step (the cohort engine's convention)."""
    immigrants = np.maximum(net_migration * (1.0 + survival) / 2.0 / weight, 0.0)
    return emigration_probability(counts_pop, net_migration, survival, weight), immigrants


def run_micro(assumptions: Assumptions, demo: DemographicProjection,
              econ: EconomicProjection, settings: MicroSettings,
              progress: Callable[[str], None] | None = None) -> MicroResult:
    """Simulate ``settings.persons`` life courses over the projection years."""
    # the random-number hash relies on wrapping 64-bit arithmetic; without JIT numpy would
    # warn about every wrap
    with np.errstate(over="ignore"):
        return _run(assumptions, demo, econ, settings, progress)


def _run(assumptions, demo, econ, settings, progress) -> MicroResult:
    schemes = assumptions.schemes
    pensions = [s for s in schemes if s.type == "db_old_age_pension"]
    rules = benefit_rules(assumptions, econ)
    if len(pensions) > 1:
        raise SpfsimError("the micro engine runs at most one db_old_age_pension per model "
                          f"(this model has {len(pensions)})")
    pension = pensions[0] if pensions else None
    n, years = assumptions.n_years, assumptions.years
    weight = float(assumptions.base_population.sum()) / settings.persons
    capacity = _capacity(demo.population, settings.persons)
    inputs = pension_years(pension, assumptions, demo, econ) if pension else None
    unemployment = unemployment_qualification(rules)
    state = (base_year_state(pension, assumptions, inputs(0),
                             contribution_classes(pension, unemployment))
             if pension else None)
    records = read_person_file(settings.person_file) if settings.person_file else None
    store, synthetic_cells = _initial_store(assumptions, settings, state, capacity, records)
    first_birth_year = int(years[0]) - 100
    n_groups = (int(years[-1]) + 2 - first_birth_year + K.COHORT_GROUP - 1) // K.COHORT_GROUP
    buffers = _Buffers(store.capacity, settings.chunk_size, len(rules), n_groups)
    out = _Outputs(n, len(rules), n_groups)
    codes = _rule_codes(rules)
    top_up_index = next((j for j, r in enumerate(rules) if r.top_up), -1)
    person_years = 0
    # lifetime amounts are present values at 1 January of the base year, at the interest
    # path (the equity measures' valuation)
    discount = discount_factors(years, assumptions.interest_rate)
    for k, year in enumerate(years):
        if progress and k % 10 == 0:
            progress(f"micro: year {year} ({store.size:,} slots)")
        buffers.fit(store.capacity)
        p = _pension_year(pension, inputs, k, econ) if pension else _NO_PENSION
        counts0 = K.count_states(store.status, store.age, store.sex, store.service, store.size,
                                 settings.chunk_size, p["retirement_age"],
                                 p["disability_minimum_service"], buffers.state_counts)
        survival = demo.survival[k]
        p_emigrate, immigrants = _emigration(counts0[:, :, 0], demo.net_migration[k],
                                             survival, weight)
        after = _after_disability(counts0, p)
        q_invalid, q_death = _death_rates(survival, after, p)
        composition = (after if settings.alignment != "off" else _after_disability(
            _expected_composition(k, econ, demo, weight), p))
        labour = _labour_year(pension, k, composition, econ, demo, settings)
        scale = K.fixed_point_scale(float(econ.average_earnings[k]))
        forced_contribution = forced_death = _NOT_FORCED
        if settings.alignment == "exact":
            forced_contribution = np.empty(store.size, dtype=np.int8)
            forced_death = np.empty(store.size, dtype=np.int8)
            K.exact_alignment(store.status, store.age, store.sex, store.pid, store.size,
                              settings.seed, int(year), q_death, q_invalid, labour["stay"],
                              labour["join"], forced_contribution, forced_death)
        K.year_step(
            store.pid, store.status, store.age, store.sex, store.birth_year, store.service,
            store.care_years, store.credits, store.paid, store.recent, store.pension,
            store.earnings_factor, store.lifetime_contributions, store.lifetime_benefits,
            store.survivor_kind, store.survivor_pension, buffers.birth_flag,
            store.size, settings.seed, int(year), settings.chunk_size,
            q_death, q_invalid, p_emigrate, assumptions.asfr[k],
            labour["stay"], labour["join"], labour["keep"], labour["cumulative"],
            labour["keep_contributor"], labour["p_self_employed"],
            forced_contribution, forced_death,
            p["has"], p["retirement_age"], p["minimum_service"],
            p["accrual"], p["minimum_pension"], p["revaluation"], p["indexation"],
            p["earnings"], settings.transitory_sd, p["earnings_floor"], p["earnings_ceiling"],
            p["maximum_pension"], p["rate"], float(1.0 / discount[k]),
            scale, p["incidence"], p["disability_minimum_service"], p["recovery_rate"],
            p["care_probability"], p["care_credit"], p["care_insured_only"],
            p["refund_share"], p["rate_above"],
            p["band_years"], p["reference_years"], p["retire_probability"],
            p["retire_factor"],
            p["survivors"] is not None,
            int(p["survivors"].minimum_service) if p["survivors"] is not None else 0,
            buffers.death_flag, int(p["orphan_age_limit"]), float(p["survivor_end_rate"]),
            codes, _rule_year(rules, "probability", k), _rule_year(rules, "amount", k),
            top_up_index, np.ascontiguousarray(assumptions.severe_disability[k]),
            unemployment.minimum_service, unemployment.credits_count,
            first_birth_year, float(econ.average_earnings[0]),
            buffers.counts, buffers.money, buffers.service_awarded, buffers.service_left,
            buffers.age_money, buffers.lifetimes, buffers.nc_money, buffers.coverage)
        chunks = (store.size + settings.chunk_size - 1) // settings.chunk_size
        out.record(k, buffers, chunks, scale)
        person_years += int(counts0[:, :, 0].sum())
        _add_entrants(store, buffers, demo, assumptions, settings, k, int(year), immigrants,
                      weight, out)
        if p["survivors"] is not None:
            # next year's persons without a survivor's pension: the step's, and immigrants
            free = out.counts[k][..., K.N_FREE] + out.immigrants[k]
            _award_survivors(store, buffers, p["survivors"], counts0[:, :, K.S_POP], free,
                             settings.seed, int(year))
        gone = 1.0 - np.count_nonzero(store.status[:store.size]) / max(store.size, 1)
        if gone > COMPACT_WHEN_GONE:
            out.record_lifetimes(store, first_birth_year, float(econ.average_earnings[0]))
            store.compact()
    if pension is not None:
        continuation = discount[-1] * continuation_factors(
            death_rates(demo.survival[-1]), float(p["indexation"]),
            float(assumptions.interest_rate[-1]))
        out.record_lifetimes(store, first_birth_year, float(econ.average_earnings[0]),
                             continuation)
    result = out.result(assumptions, demo, econ, pension, rules, weight, person_years,
                        store, first_birth_year)
    result.synthetic_cells = synthetic_cells
    return result


def _rule_codes(rules: list[BenefitRule]) -> np.ndarray:
    """(J, 4) int64: group, guarantee, top-up and cash flags (kernels.NC_* columns)."""
    return np.array([[r.group, r.guarantee, int(r.top_up), int(r.cash)] for r in rules],
                    dtype=np.int64).reshape(len(rules), 4)


def _rule_year(rules: list[BenefitRule], name: str, k: int) -> np.ndarray:
    """(J, age, sex) of one rule array in year k."""
    return np.array([getattr(r, name)[k] for r in rules], dtype=np.float64).reshape(
        len(rules), 101, 2)


_NOT_FORCED = np.empty(0, dtype=np.int8)
_NO_PENSION = {"has": False, "retirement_age": np.zeros((101, 2), dtype=np.int64),
               "minimum_service": 0, "accrual": 0.0, "minimum_pension": 0.0,
               "revaluation": 0.0, "indexation": 0.0, "earnings": np.zeros((101, 2)),
               "rate": 0.0, "incidence": np.zeros((101, 2)), "disability_minimum_service": 0,
               "recovery_rate": 0.0, "invalid_mortality": 1.0, "survivors": None,
               "earnings_floor": 0.0, "earnings_ceiling": np.inf, "maximum_pension": np.inf,
               "care_probability": np.zeros(101), "care_credit": 0.0,
               "care_insured_only": False, "refund_share": 0.0,
               "rate_above": 0.0, "band_years": 0, "reference_years": 0,
               "orphan_age_limit": 0, "survivor_end_rate": 0.0,
               "retire_probability": np.zeros((101, 2)),
               "retire_factor": np.ones((101, 2))}


def _after_disability(counts: np.ndarray, p: dict) -> np.ndarray:
    """Last year's composition as the labour transitions will find it: expected onsets
    leave the contributors (employees and self-employed alike), expected recoveries join
    the inactive (as the kernel applies them before the labour states)."""
    counts = counts.astype(float)
    onset = counts[..., K.S_QUALIFIED] * p["incidence"]
    recovered = counts[..., K.S_INVALID] * p["recovery_rate"]
    contributing = counts[..., K.S_EMPLOYEE] + counts[..., K.S_SELF_EMPLOYED]
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = np.where(contributing > 0, 1.0 - onset / contributing, 1.0)
    counts[..., K.S_EMPLOYEE] *= keep
    counts[..., K.S_SELF_EMPLOYED] *= keep
    counts[..., K.S_ACTIVE] += recovered - onset
    counts[..., K.S_INACTIVE] += recovered
    counts[..., K.S_INVALID] += onset - recovered
    return counts


def _death_rates(survival: np.ndarray, composition: np.ndarray,
                 p: dict) -> tuple[np.ndarray, np.ndarray]:
    """(age, sex) probabilities of dying this year of disability pensioners and of the
    others, with the expected share of disability pensioners after this year's onsets
    and recoveries (schemes.db_pension.differential_mortality)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(composition[..., K.S_POP] > 0, composition[..., K.S_INVALID]
                         / composition[..., K.S_POP], 0.0)
    return dbp.differential_mortality(death_rates(survival), share, p["invalid_mortality"])


def _pension_year(scheme: CompiledScheme, inputs, k: int, econ: EconomicProjection) -> dict:
    """This year's pension parameters for the kernel."""
    y = inputs(k)
    return {"has": True, "retirement_age": np.asarray(y.retirement_age, dtype=np.int64),
            "minimum_service": int(y.minimum_service), "accrual": float(y.accrual_rate),
            "minimum_pension": float(y.minimum_pension), "revaluation": float(y.revaluation),
            "indexation": float(y.indexation),
            # gross earnings: the kernel applies the floor and ceiling person by person
            "earnings": np.asarray(econ.earnings[k], float),
            "earnings_floor": float(scheme["earnings_floor"][k]),
            "earnings_ceiling": float(scheme["earnings_ceiling"][k]) or np.inf,
            "maximum_pension": float(y.maximum_pension) or np.inf,
            "care_probability": np.zeros(101) if y.care_probability is None
            else np.asarray(y.care_probability, dtype=float),
            "care_credit": float(y.care_credit), "care_insured_only": y.care_insured_only,
            "refund_share": float(y.refund_share),
            "rate_above": float(y.rate_above), "band_years": int(y.band_years),
            "reference_years": int(y.reference_years),
            **dict(zip(("retire_probability", "retire_factor"),
                       (np.ascontiguousarray(x, dtype=float) for x in retirement_choice(y)),
                       strict=True)),
            "rate": float(scheme["contribution_rate"][k]),
            "incidence": np.ascontiguousarray(y.incidence, dtype=float),
            "disability_minimum_service": int(y.disability_minimum_service),
            "recovery_rate": float(y.recovery_rate),
            "invalid_mortality": float(y.invalid_mortality),
            "survivors": y.survivors if y.survivors is not None and y.survivors.active
            else None,
            # survivors' pensions in payment are paid and ended even if no new ones start
            "orphan_age_limit": y.survivors.orphan_age_limit if y.survivors else 0,
            "survivor_end_rate": y.survivors.end_rate if y.survivors else 0.0}


def _expected_composition(k: int, econ: EconomicProjection, demo: DemographicProjection,
                          weight: float) -> np.ndarray:
    """What ``count_states`` would return if the simulation followed the projection
    exactly: last year's labour shares, one age younger, of this year's population (in
    simulated persons). Used by alignment="off"."""
    previous = max(k - 1, 0)  # the base year's state reflects base-year rates
    population = demo.population[k] / weight
    out = np.zeros((*population.shape, K.N_STATE_COUNTS))
    with np.errstate(divide="ignore", invalid="ignore"):
        pop = np.where(demo.population[previous] > 0, demo.population[previous], np.inf)
        shares = {
            K.S_EMPLOYEE: (econ.covered[previous] - econ.self_employed[previous]) / pop,
            K.S_SELF_EMPLOYED: econ.self_employed[previous] / pop,
            K.S_INFORMAL: (econ.employed[previous] - econ.covered[previous]) / pop,
            K.S_UNEMPLOYED: (econ.labour_force[previous] - econ.employed[previous]) / pop,
            K.S_DISABLED: econ.disabled[previous] / pop,
        }
    for index, share in shares.items():
        aged = np.zeros_like(share)
        aged[1:] = share[:-1]  # last year's state of those one year younger then
        out[..., index] = aged * population
    out[..., K.S_INACTIVE] = np.clip(population - sum(out[..., i] for i in shares), 0.0, None)
    out[..., K.S_POP] = population
    out[..., K.S_ACTIVE] = population  # the labour states of the not (yet) retired
    return out


def _labour_year(scheme: CompiledScheme | None, k: int, counts0: np.ndarray,
                 econ: EconomicProjection, demo: DemographicProjection,
                 settings: MicroSettings) -> dict:
    """Transition probabilities of the labour states, aligned per age x sex cell.

    Contributing: the cohort engine's two-state chain (`contribution_transitions`), whose
    expected contributing share is employed x coverage. Contributors are employees or
    self-employed / voluntary contributors, non-contributors informal, unemployed, inactive
    or disabled; within each group :func:`aligned_persistence` keeps last year's state or
    draws one so that the expected shares are the labour projection's.
    """
    population = demo.population[k]
    counts = counts0.astype(float)
    active = counts[..., K.S_ACTIVE]
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(population > 0, econ.covered[k] / population, 0.0)
        was = np.where(active > 0, (counts[..., K.S_EMPLOYEE] + counts[..., K.S_SELF_EMPLOYED])
                       / active, 0.0)
        target = np.where(active > 0, np.minimum(density * counts[..., K.S_POP] / active, 1.0),
                          0.0)
    persistence = (float(scheme["contribution_persistence"][k]) if scheme is not None
                   else settings.labour_persistence)
    stay, join = contribution_transitions(was, target, persistence)
    earlier = counts[..., [K.S_EMPLOYEE, K.S_SELF_EMPLOYED]]
    others = counts[..., [K.S_INFORMAL, K.S_UNEMPLOYED, K.S_INACTIVE, K.S_DISABLED]]
    self_employed = np.divide(econ.self_employed[k], econ.covered[k],
                              out=np.zeros_like(population), where=econ.covered[k] > 0)
    keep_contributor, split = aligned_persistence(
        earlier * stay[..., None], others.sum(-1) * join,
        np.stack([1.0 - self_employed, self_employed], axis=-1), settings.labour_persistence)
    keep, draw = aligned_persistence(
        others * (1.0 - join)[..., None], earlier.sum(-1) * (1.0 - stay),
        econ.non_contributing(k, population), settings.labour_persistence)
    return {"stay": stay, "join": join, "keep": keep, "cumulative": np.cumsum(draw, axis=-1),
            "keep_contributor": keep_contributor, "p_self_employed": split[..., 1]}


QUANTILES = (0.025, 0.25, 0.5, 0.75, 0.975)


def _quantile_positions(counts: np.ndarray, quantiles: tuple[float, ...]
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each quantile of each histogram (last axis: bins): the bin it falls in and how
    far into that bin (0..1, the counts spread evenly), and whether there are counts."""
    total = counts.sum(axis=-1, keepdims=True)
    cumulative = np.cumsum(counts, axis=-1) / np.where(total > 0, total, 1.0)
    q = np.asarray(quantiles, dtype=float)
    # first bin whose cumulative share reaches q, for every histogram and quantile
    b = (cumulative[..., None, :] < q[:, None]).sum(axis=-1)
    b = np.minimum(b, counts.shape[-1] - 1)
    below = np.where(b > 0, np.take_along_axis(cumulative, np.maximum(b - 1, 0), axis=-1), 0.0)
    width = np.take_along_axis(cumulative, b, axis=-1) - below
    within = np.clip((q - below) / np.maximum(width, 1e-300), 0.0, 1.0)
    return b, within, total > 0


def histogram_quantiles(counts: np.ndarray, edges: np.ndarray,
                        quantiles: tuple[float, ...] = QUANTILES) -> np.ndarray:
    """Quantiles of a lifetime histogram (last axis: bins with lower ``edges``; bin 0 is
    zero), log-interpolated within a bin; NaN where there are no counts."""
    upper = np.append(edges[1:], edges[-1] * (edges[-1] / edges[-2]))
    b, within, some = _quantile_positions(counts, quantiles)
    lower = edges[np.maximum(b, 1)]
    out = np.where(b == 0, 0.0, lower * (upper[np.maximum(b, 1)] / lower) ** within)
    return np.where(some, out, np.nan)


def asinh_histogram_quantiles(counts: np.ndarray, unit: float,
                              quantiles: tuple[float, ...] = QUANTILES) -> np.ndarray:
    """Quantiles of a histogram binned by kernels.asinh_bin (last axis: EXIT_BINS) of
    values in ``unit``, interpolated linearly in asinh within a bin; NaN where empty."""
    edges = K.asinh_bin_edges()
    b, within, some = _quantile_positions(counts, quantiles)
    t = edges[b] + within * (edges[b + 1] - edges[b])
    return np.where(some, unit * np.sinh(t), np.nan)


def _award_survivors(store: PersonStore, buffers: _Buffers, rules: SurvivorRules,
                     population: np.ndarray, free: np.ndarray, seed: int,
                     year: int) -> None:
    """Survivors' pensions of this year's flagged deaths, to persons of next year's cells
    (after the step and the entrants): claims are scaled by the share of such persons who
    exist and have no survivor's pension yet, ``free`` (age, sex), against the simulated
    ``population`` (age, sex) at the start of the year (schemes.db_pension.availability,
    as in the cohort engine); kernels.survivor_claims draws them and
    kernels.award_survivors gives them to persons."""
    free = free.astype(float)
    weights, limit = rules.partner_weights, rules.orphan_age_limit
    spouse_ok = dbp.availability(dbp.spouse_demand(population, rules.married, weights), free)
    orphan_ok = np.ones((max(limit, 1), 2, 2))
    if rules.orphan_share > 0 and limit > 0:
        demand = np.zeros((len(population), 2, 2))
        demand[:limit] = dbp.orphan_demand(
            population, dbp.children_by_parent_age(rules.asfr, weights, limit), rules.p_male)
        orphan_ok = np.ascontiguousarray(dbp.availability(demand, free[:, :, None])[:limit])
    most = int(np.count_nonzero(buffers.death_flag[:store.size])) * (1 + limit)
    cells, kinds = np.empty(most, dtype=np.int64), np.empty(most, dtype=np.uint8)
    amounts = np.empty(most)
    claims = K.survivor_claims(
        store.pid, store.age, store.sex, store.pension, buffers.death_flag, store.size, seed,
        year, rules.spouse_share, rules.orphan_share, limit, np.asarray(rules.married, float),
        np.cumsum(weights, axis=-1), np.ascontiguousarray(spouse_ok), orphan_ok, rules.asfr,
        rules.p_male, rules.maximum_share, cells, kinds, amounts)
    K.award_survivors(store.pid, store.status, store.age, store.sex, store.survivor_kind,
                      store.survivor_pension, store.size, seed, year,
                      np.ascontiguousarray(free, dtype=np.int64), cells, kinds, amounts,
                      claims)


class _Buffers:
    """Per-chunk accumulators and the birth flags, grown with the store."""

    def __init__(self, capacity: int, chunk: int, n_rules: int, n_groups: int):
        self.chunk, self.n_rules, self.n_groups = chunk, n_rules, n_groups
        self.capacity = 0
        self.fit(capacity)

    def fit(self, capacity: int) -> None:
        if capacity <= self.capacity:
            return
        chunks = (capacity + self.chunk - 1) // self.chunk
        flags = np.zeros(capacity, dtype=np.int8)
        deaths = np.zeros(capacity, dtype=np.int8)
        if self.capacity:  # births and deaths already flagged must survive the growth
            flags[: self.capacity] = self.birth_flag
            deaths[: self.capacity] = self.death_flag
        self.capacity = capacity
        self.birth_flag = flags
        self.death_flag = deaths
        self.state_counts = np.zeros((chunks, 101, 2, K.N_STATE_COUNTS), dtype=np.int64)
        self.counts = np.zeros((chunks, 101, 2, K.N_COUNTS + self.n_rules), dtype=np.int64)
        self.nc_money = np.zeros((chunks, self.n_rules, 101, 2), dtype=np.int64)
        self.coverage = np.zeros((chunks, 101, 2, N_COVERAGE, 2), dtype=np.int64)
        self.money = np.zeros((chunks, 2, K.N_MONEY), dtype=np.int64)
        self.service_awarded = np.zeros((chunks, 2, MAX_SERVICE + 1), dtype=np.int64)
        self.service_left = np.zeros((chunks, 2, MAX_SERVICE + 1), dtype=np.int64)
        self.age_money = np.zeros((chunks, 101, 2, K.N_AGE_MONEY), dtype=np.int64)
        self.lifetimes = np.zeros((chunks, self.n_groups, 2, 2, K.LIFETIME_BINS),
                                  dtype=np.int64)


def _add_entrants(store, buffers, demo, assumptions, settings, k, year, immigrants, weight,
                  out) -> None:
    """Immigrants, then the babies born during the step (ids in a fixed order)."""
    expected_births = demo.births[k] / weight
    store.reserve(int(immigrants.sum()) + 2 * len(immigrants) * 2
                  + int(expected_births.sum() * 1.5) + 1024)
    buffers.fit(store.capacity)
    store.size, store.next_id, added = K.add_immigrants(
        store.pid, store.status, store.age, store.sex, store.birth_year,
        store.earnings_factor, buffers.birth_flag, store.size, store.next_id, settings.seed,
        year, immigrants, assumptions.asfr[k], settings.permanent_sd)
    births_pending = int(np.count_nonzero(buffers.birth_flag[:store.size]))
    store.reserve(births_pending)
    buffers.fit(store.capacity)
    survival_birth = demo.survival[k][0]
    newborn_migrants = demo.net_migration[k][0] * (1.0 + survival_birth) / 2.0 / weight
    with np.errstate(divide="ignore", invalid="ignore"):
        p_newborn = np.where(newborn_migrants < 0, -newborn_migrants
                             / np.maximum(expected_births * survival_birth, 1e-300), 0.0)
    srb = float(assumptions.srb[k])
    store.size, store.next_id, births, deaths, emigrants = K.add_newborns(
        store.pid, store.status, store.age, store.sex, store.birth_year,
        store.earnings_factor, buffers.birth_flag, store.size, store.next_id, settings.seed,
        year, srb / (1.0 + srb), survival_birth, np.clip(p_newborn, 0.0, 1.0),
        settings.permanent_sd)
    out.record_entrants(k, added, births, deaths, emigrants)


class _Outputs:
    """Yearly results in integers (counts) and fixed-point money, turned into currency."""

    def __init__(self, n: int, n_rules: int, n_groups: int):
        self.counts = np.zeros((n, 101, 2, K.N_COUNTS + n_rules), dtype=np.int64)
        self.nc_money = np.zeros((n, n_rules, 101, 2))
        self.coverage = np.zeros((n, 101, 2, N_COVERAGE, 2), dtype=np.int64)
        self.money = np.zeros((n, 2, K.N_MONEY))
        self.service_awarded = np.zeros((n, 2, MAX_SERVICE + 1), dtype=np.int64)
        self.service_left = np.zeros((n, 2, MAX_SERVICE + 1), dtype=np.int64)
        self.age_money = np.zeros((n, 101, 2, K.N_AGE_MONEY))
        self.lifetimes = np.zeros((n_groups, 2, 2, K.LIFETIME_BINS), dtype=np.int64)
        self.exits = np.zeros((n_groups, 2, 2, K.EXIT_BINS), dtype=np.int64)
        self.exit_totals = np.zeros((n_groups, 2, 3))
        self.immigrants = np.zeros((n, 101, 2), dtype=np.int64)
        self.births = np.zeros((n, 2), dtype=np.int64)
        self.newborn_deaths = np.zeros((n, 2), dtype=np.int64)
        self.newborn_emigrants = np.zeros((n, 2), dtype=np.int64)

    def record(self, k: int, b: _Buffers, chunks: int, scale: float) -> None:
        self.counts[k] = b.counts[:chunks].sum(axis=0)
        self.money[k] = b.money[:chunks].sum(axis=0) * scale
        self.service_awarded[k] = b.service_awarded[:chunks].sum(axis=0)
        self.service_left[k] = b.service_left[:chunks].sum(axis=0)
        self.age_money[k] = b.age_money[:chunks].sum(axis=0) * scale
        self.lifetimes += b.lifetimes[:chunks].sum(axis=0)
        self.nc_money[k] = b.nc_money[:chunks].sum(axis=0) * scale
        self.coverage[k] = b.coverage[:chunks].sum(axis=0)

    def record_lifetimes(self, store: PersonStore, first_birth_year: int, unit: float,
                         continuation: np.ndarray | None = None) -> None:
        """Record the lifetimes of the persons gone (before compaction drops them) or,
        given the pensions' ``continuation`` (age, sex) at the horizon, of everyone."""
        everyone = continuation is not None
        K.record_lifetimes(
            store.status, store.age, store.sex, store.birth_year, store.pension,
            store.lifetime_contributions, store.lifetime_benefits, store.size,
            first_birth_year, unit, continuation if everyone else np.zeros((101, 2)),
            everyone, self.exits, self.exit_totals)

    def record_entrants(self, k, immigrants, births, deaths, emigrants) -> None:
        self.immigrants[k] = immigrants
        self.births[k] = births
        self.newborn_deaths[k] = deaths
        self.newborn_emigrants[k] = emigrants

    def result(self, assumptions, demo, econ, pension, rules, weight, person_years,
               store, first_birth_year) -> MicroResult:
        w = weight
        c = self.counts
        deaths = c[..., K.DEATHS].astype(float)
        deaths[:, 0] += self.newborn_deaths
        migration = (self.immigrants - c[..., K.EMIGRANTS]).astype(float)
        migration[:, 0] -= self.newborn_emigrants
        demography = DemographicProjection(
            assumptions.years, c[..., K.POP] * w, self.births * w, deaths * w, migration * w,
            demo.life_expectancy, np.zeros_like(demo.emigration_capped), demo.survival)
        flows = []
        rule_index = {r.scheme.id: j for j, r in enumerate(rules)}
        pension_flows = self._pension_flows(pension, w) if pension is not None else None
        for scheme in assumptions.schemes:
            if scheme is pension:
                flows.append(pension_flows)
            else:
                j = rule_index[scheme.id]
                flows.append(benefit_flows(scheme, c[..., K.N_COUNTS + j] * w,
                                           self.nc_money[:, j] * w, pension_flows))
        labour_status = np.stack([c[..., index] for index in STATUS_COUNTS.values()],
                                 axis=-1) * w
        labour_status[..., 0] -= labour_status[..., 1]  # all contributors less self-employed
        pensioner = list(STATUS_COUNTS).index("pensioner")
        labour_status[..., pensioner] -= labour_status[..., pensioner + 1]  # old-age only
        return MicroResult(demography, flows, w, person_years, store,
                           first_birth_year, labour_status,
                           self.lifetimes * w, coverage=self.coverage * w,
                           exits=self.exits * w, exit_totals=self.exit_totals * w)

    def _pension_flows(self, scheme: CompiledScheme, w: float) -> SchemeFlows:
        from ..cohort import pension_flows

        c, m = self.counts, self.money
        refunds = self.age_money[..., K.AGE_REFUNDS]  # (year, age, sex)
        survivor_money = self.age_money[..., K.AGE_SURVIVORS]
        survivors = c[..., K.N_SPOUSES] + c[..., K.N_ORPHANS]
        paid = self.age_money[..., K.AGE_PENSIONS] + survivor_money + refunds
        return pension_flows(
            scheme, c[..., K.CONTRIBUTORS] * w,
            (c[..., K.PENSIONERS] + survivors + c[..., K.N_REFUNDS]) * w,
            c[..., K.NEW_PENSIONERS].sum(axis=1) * w, m[:, :, K.NEW_AMOUNT] * w,
            self.age_money[..., K.AGE_INSURED] * w, paid * w, self.service_awarded * w,
            lump_sums_by_age=refunds * w,
            survivors_by_kind=np.stack([c[..., K.N_SPOUSES], c[..., K.N_ORPHANS]], axis=-1) * w,
            branch_beneficiaries=np.stack([c[..., K.PENSIONERS] - c[..., K.N_INVALID],
                                           c[..., K.N_INVALID], survivors,
                                           c[..., K.N_REFUNDS]], axis=-1) * w,
            branch_expenditure=np.stack([
                (m[:, :, K.BENEFITS] - m[:, :, K.INVALID_BENEFITS]).sum(axis=1),
                m[:, :, K.INVALID_BENEFITS].sum(axis=1), survivor_money.sum(axis=(1, 2)),
                m[:, :, K.REFUNDS].sum(axis=1)], axis=-1) * w)
