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

from ...allocator import keep_freed_memory, release_freed_memory
from ...demography import DemographicProjection
from ...economy import EconomicProjection
from ...economy.annuities import continuation_factors
from ...economy.discount import mid_year_factors as discount_factors
from ...errors import SpfsimError
from ...params import Assumptions
from ...params.model_file import DEFAULT_LABOUR_PERSISTENCE
from ..benefits import benefit_rules, contribution_classes, unemployment_qualification
from ..cohort import base_year_state, death_rates, pension_years
from . import disclosure as D
from . import families as F
from . import kernels as K
from . import records
from .dependants import dependant_tables
from .initial import COMPACT_WHEN_GONE, _capacity, _copy_records, _initial_store
from .outputs import (
    QUANTILES,
    STATUS_COUNTS,
    MicroResult,
    _Outputs,
    asinh_histogram_quantiles,
    histogram_quantiles,
)
from .person_households import records_apart
from .persons import read_person_file
from .population import Population
from .steps import _add_entrants, _award_survivors
from .targets import (
    _after_disability,
    _death_rates,
    _emigration,
    _expected_composition,
    _labour_year,
    _pension_year,
    _rule_codes,
    _rule_year,
    survivors_awarded,
)

__all__ = ["COMPACT_WHEN_GONE", "DEFAULT_CHUNK", "QUANTILES", "STATUS_COUNTS", "MicroResult",
           "MicroSettings", "_copy_records", "asinh_histogram_quantiles",
           "histogram_quantiles", "run_micro"]

DEFAULT_CHUNK = 1 << 16
# the family identities are checked in the base year, every this many years and at the
# horizon: a broken link stays broken, so it is caught, and a check costs about a quarter
# of a year's family pass (about 16 ms a year with a million persons on two cores)
FAMILY_CHECK_YEARS = 5



@dataclass(frozen=True)
class MicroSettings:
    """How to run the microsimulation.

    ``permanent_sd`` and ``transitory_sd`` are the standard deviations of the log of the
    persistent individual earnings level and of the yearly shock (both mean one); with both
    0, earnings are those of the cohort engine's age-sex profile. ``person_file``: a CSV or
    Parquet file of base-year records to clone the population from. ``families``: link
    persons into families when the model's assumptions have a families table.
    ``labour_persistence`` (0-1) says how strongly informal workers, the unemployed and the
    inactive keep their state from one year to the next (the shares are always those of the
    labour projection). ``alignment``: "expected" makes each cell's expected numbers of
    deaths and contributors match the projections; "exact" selects exactly that number
    (stochastically rounded) in each cell, at some cost in speed and memory; "off" sets the
    labour transitions from the projection's expected composition of each cell, not the
    simulated one, so simulated counts drift freely around the targets.
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
    # simulate families (partners, parents, households: engine.micro.families) when the
    # model has a families table; False: persons without family links
    families: bool = True
    # measure household poverty (engine.micro.poverty) when families are simulated and the
    # model has a [poverty] section
    poverty: bool = True

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


def run_micro(assumptions: Assumptions, demo: DemographicProjection,
              econ: EconomicProjection, settings: MicroSettings,
              progress: Callable[[str], None] | None = None, client=None,
              keep_store: bool = True) -> MicroResult:
    """Simulate ``settings.persons`` life courses over the projection years.

    ``client``: a dask.distributed Client whose workers hold the persons, split by id
    (:mod:`.distributed`); the results are bitwise those of a run in this process.
    ``keep_store`` False leaves the workers' persons out of the result (``store`` None).
    """
    keep_freed_memory()  # a year's arrays use the pages of the year before's
    # the random-number hash relies on wrapping 64-bit arithmetic; without JIT numpy would
    # warn about every wrap
    with np.errstate(over="ignore"):
        return _run(assumptions, demo, econ, settings, progress, client, keep_store)



@dataclass
class _Run:
    """What every year of a run reads: the projections, the settings, the rules, the
    persons (a population.Population, or its shards) and the accumulators."""

    assumptions: Assumptions
    demo: DemographicProjection
    econ: EconomicProjection
    settings: MicroSettings
    scheme: object  # the contributory pension (CompiledScheme), or None
    benefits: list  # the rule-paid benefits (engine.benefits.BenefitRule)
    unemployment: object  # unemployment insurance's qualification (engine.benefits)
    weight: float
    first_birth_year: int
    discount: np.ndarray  # (year,) to 1 January of the base year (lifetime amounts)
    population: object  # population.Population or distributed.ShardedPopulation
    next_id: int  # the id of the next person to enter
    out: _Outputs
    families: bool = False  # persons linked into families (engine.micro.families)
    poverty: object = None  # the model's [poverty] (params.PovertySpec) when measured
    sources: object = None  # a person file's records behind the cells (D.SourceCells)


def _run(assumptions, demo, econ, settings, progress, client, keep_store) -> MicroResult:
    pensions = [s for s in assumptions.schemes if s.type == "db_old_age_pension"]
    rules = benefit_rules(assumptions, econ)
    if len(pensions) > 1:
        raise SpfsimError("the micro engine runs at most one db_old_age_pension per model "
                          f"(this model has {len(pensions)})")
    pension = pensions[0] if pensions else None
    n, years = assumptions.n_years, assumptions.years
    inputs = pension_years(pension, assumptions, demo, econ) if pension else None
    unemployment = unemployment_qualification(rules)
    state = (base_year_state(pension, assumptions, inputs(0),
                             contribution_classes(pension, unemployment))
             if pension else None)
    families = settings.families and assumptions.families is not None
    if families and client is not None:
        raise SpfsimError("families (the model's families table) link persons that a run "
                          "split across workers holds apart: run in one process, or with "
                          "families off (MicroSettings(families=False), --no-families)")
    person_file = read_person_file(settings.person_file) if settings.person_file else None
    first_birth_year = int(years[0]) - 100
    n_groups = (int(years[-1]) + 2 - first_birth_year + K.COHORT_GROUP - 1) // K.COHORT_GROUP
    capacity = _capacity(demo.population, settings.persons)
    if client is None:
        store, synthetic_cells, sources = _initial_store(assumptions, settings, state,
                                                         capacity, person_file, links=families)
        population = Population(store, settings.chunk_size, len(rules), n_groups,
                                sources=sources)
        persons = store.next_id
    else:
        from .distributed import ShardedPopulation

        population = ShardedPopulation.start(client, assumptions, settings, state,
                                             person_file, capacity, len(rules), n_groups)
        synthetic_cells, persons = population.synthetic_cells, population.next_id
    unit = float(econ.average_earnings[0])
    # lifetime amounts are present values at 1 January of the base year, at the interest
    # path (the equity measures' valuation); a person file's households clone to about
    # ``settings.persons`` persons (person_households), each standing for the same weight
    run = _Run(assumptions, demo, econ, settings, pension, rules, unemployment,
               float(assumptions.base_population.sum()) / persons, first_birth_year,
               discount_factors(years, assumptions.interest_rate), population,
               persons, _Outputs(n, len(rules), n_groups, K.fixed_point_scale(unit)))
    run.families = families
    if person_file is not None:
        run.sources = D.SourceCells(person_file, n)
    if families:
        run.out.record_families(None, 0, *population.initial_families(
            settings.seed, int(years[0]), F.year_tables(assumptions.families, 0),
            assumptions.asfr[0], _linked_survivors(pension),
            person_file is not None and person_file.linked))
        _check_families(population, int(years[0]))
        if settings.poverty and assumptions.poverty is not None:
            run.poverty = assumptions.poverty
            population.measure_poverty()
    household = [r.scheme.id for r in rules if r.household]
    if household and run.poverty is None:
        raise SpfsimError(f"scheme(s) {household} test households' incomes: the micro engine "
                          "pays them with families and household incomes on (the model's "
                          "families table and [poverty] section; not with --no-families or "
                          "MicroSettings(poverty=False))")
    # the base year's build (the persons drawn, their families) frees many times what a
    # year's passes allocate, and the allocator keeps the memory a process frees
    # (spfsim.allocator): given back now, those pages do not stay beside the years' arrays
    # (6 MB of a 1,000,000-person default run's peak memory)
    release_freed_memory()
    if progress and not getattr(K.year_step, "signatures", True):
        progress("micro: loading the compiled kernels (the first run after installing "
                 "compiles them: about 40 s, once)")
    try:
        person_years = 0
        y = None
        for k, year in enumerate(years):
            if progress and k % 10 == 0:
                progress(f"micro: year {year} ({run.population.size:,} slots)")
            y = inputs(k) if pension else None
            person_years += _year(run, k, int(year), y)
        continuation = None
        if pension is not None:
            continuation = run.discount[-1] * continuation_factors(
                death_rates(demo.survival[-1]), float(y.indexation),
                float(assumptions.interest_rate[-1]))
        run.out.record_exits(*population.finish(first_birth_year, unit,
                                                run.out.lifetime_scale, continuation))
        store = population.store if client is None else (
            population.gather_store(run.next_id) if keep_store else None)
    finally:
        if client is not None:
            population.close()
    result = run.out.result(assumptions, demo, econ, pension, rules, run.weight,
                            person_years, store, first_birth_year)
    result.synthetic_cells = synthetic_cells
    result.sources = run.sources
    if person_file is not None and person_file.linked:
        result.records_apart = records_apart(person_file)
    return result


def _year(run: _Run, k: int, year: int, y) -> int:
    """Simulate year k (calendar ``year``; ``y`` the pension's inputs, or None); returns
    the persons simulated."""
    settings, demo, econ, population = run.settings, run.demo, run.econ, run.population
    if run.sources is not None:
        run.sources.note(k, population)
    pension, tables = (_pension_year(run.scheme, y, k, year, econ, settings.transitory_sd,
                                     run.families)
                       if y is not None else records.NO_PENSION)
    counts0 = population.count_states(tables.retirement_age,
                                      pension.disability_minimum_service, settings.seed,
                                      tables.never_covered)
    scale = K.fixed_point_scale(float(econ.average_earnings[k]))
    if y is not None and y.dependants is not None:
        if run.families and _linked_survivors(run.scheme):  # the pensioners' own
            population.linked_dependants(y.dependants, y.indexation, y.minimum_pension,
                                         int(run.scheme["orphan_age_limit"][k]))
        else:
            tables = tables._replace(**dependant_tables(
                population.pensioners_at_start(y.indexation, y.minimum_pension, scale),
                counts0[:, :, K.S_POP], scale, y.dependants))
    p_emigrate, immigrants = _emigration(counts0[:, :, 0], demo.net_migration[k],
                                         demo.survival[k], run.weight)
    after = _after_disability(counts0, pension, tables)
    q_invalid, q_death = _death_rates(demo.survival[k], after,
                                      y.invalid_mortality if y is not None else 1.0)
    composition = (after if settings.alignment != "off" else _after_disability(
        _expected_composition(k, econ, demo, run.weight, tables.never_covered), pension,
        tables))
    labour = _labour_year(run.scheme, k, composition, econ, demo, settings)
    exact = settings.alignment == "exact"
    if exact:
        probabilities = {"q_death": q_death, "q_invalid": q_invalid,
                         "stay": labour["stay"], "join": labour["join"]}
        wanted = K.alignment_targets(
            population.alignment_counts(settings.seed, tables.never_covered), settings.seed,
            year, **probabilities)
        population.align(settings.seed, year, probabilities, wanted, tables.never_covered)
    benefits = _benefits_year(run, k)
    when = {"seed": settings.seed, "year": year, "scale": scale,
            "deflator": 1.0 / run.discount[k], "first_birth_year": run.first_birth_year,
            "lifetime_unit": econ.average_earnings[0]}
    income = ((econ.earnings[k], run.poverty.informal_earnings) if run.poverty is not None
              else ())
    sums = population.year_step(
        when, records.demography(q_death, q_invalid, p_emigrate, run.assumptions.asfr[k]),
        labour, pension, tables, benefits, exact, *income)
    run.out.record(k, sums, scale)
    if run.poverty is not None:
        run.out.record_poverty(k, population.poverty(
            year, settings.seed, run.poverty, _poverty_line(run.poverty, econ, k),
            float(econ.average_earnings[k]), scale, benefits,
            np.array([0.0 if r.earnings_disregard is None else r.earnings_disregard[k]
                      for r in run.benefits]),
            np.array([0.0 if r.household_threshold is None else r.household_threshold[k]
                      for r in run.benefits])))
    _add_entrants(run, k, year, immigrants, benefits)
    survivors = survivors_awarded(y)
    if survivors is not None:
        # next year's persons without a survivor's pension: the step's, and immigrants
        free = run.out.counts[k][..., K.N_FREE] + run.out.immigrants[k]
        _award_survivors(population, survivors, counts0[:, :, K.S_POP], free,
                         settings.seed, year)
    if run.families:
        tables = F.year_tables(run.assumptions.families,
                               min(k + 1, run.assumptions.n_years - 1))
        run.out.record_families(k, k + 1, *population.family_year(
            settings.seed, year, tables, _linked_survivors(run.scheme)))
        if k % FAMILY_CHECK_YEARS == FAMILY_CHECK_YEARS - 1 or k == run.assumptions.n_years - 1:
            _check_families(population, year + 1)
    here, slots = population.occupancy()
    if 1.0 - here / max(slots, 1) > COMPACT_WHEN_GONE:
        population.compact(run.first_birth_year, float(econ.average_earnings[0]),
                           run.out.lifetime_scale)
    return int(counts0[:, :, 0].sum())


def _linked_survivors(pension) -> bool:
    """Whether the pension scheme takes the survivors' partners from the families: then a
    new partnership ends a spouse's pension (docs/schemes.md, survivors' branch)."""
    return pension is not None and pension.choices.get("survivor_partners") == "families"


def _benefits_year(run: _Run, k: int) -> records.Benefits:
    """The non-contributory rules' arrays of year k for the kernel."""
    rules = run.benefits
    return records.benefits(
        _rule_codes(rules), _rule_year(rules, "probability", k),
        _rule_year(rules, "amount", k), next((j for j, r in enumerate(rules) if r.top_up), -1),
        run.assumptions.severe_disability[k], run.unemployment.minimum_service,
        run.unemployment.credits_count)


def _poverty_line(spec, econ, k: int) -> float | None:
    """The year's poverty line (currency per equivalent adult per year) of the model's
    [poverty] ``line``; None for a relative line (set from the year's median)."""
    if spec.line == "relative":
        return None
    line = float(econ.poverty_line[k])
    if spec.line == "wages":  # the base year's line, uprated with average earnings
        line = float(econ.poverty_line[0] * econ.average_earnings[k]
                     / econ.average_earnings[0])
    return line


def _check_families(population, year: int) -> None:
    """Stop the run when a family identity fails (families.family_findings)."""
    found = population.family_findings()
    if found.any():
        problems = "; ".join(f"{what}: {n}" for what, n in zip(F.FINDINGS, found,
                                                                strict=True) if n)
        raise SpfsimError(f"micro engine: family links broken at 1 July {year} ({problems})")
