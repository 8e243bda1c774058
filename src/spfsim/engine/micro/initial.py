"""The micro engine's base-year population: persons drawn by age and sex, with the cohort
engine's base-year pension classes (so that both engines start from the same expectation)
or cloned from a person file."""

from __future__ import annotations

import numpy as np

from ... import rng
from ...errors import SpfsimError
from ...params import Assumptions
from ...schemes import db_pension as dbp
from ...schemes import pension_rules as rules
from ..benefits import contributory_pension
from ..cohort import MAX_SERVICE, NOT_CONTRIBUTING, PensionState
from . import kernels as K
from . import person_households as H
from .persons import PersonRecords, clone_cell
from .store import (
    CONTRIBUTING,
    INACTIVE,
    INVALID,
    LEFT,
    RETIRED,
    WHOLE,
    PersonStore,
)
from .targets import never_covered_shares

COMPACT_WHEN_GONE = 0.08  # compact the store when this share of slots is empty


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


def _initial_store(assumptions: Assumptions, settings,
                   state: PensionState | None, capacity: int,
                   records: PersonRecords | None,
                   shard: tuple[int, int, int] = WHOLE,
                   links: bool = False) -> tuple[PersonStore, int, np.ndarray | None]:
    """The base-year population: persons by age and sex, and pension classes drawn from the
    cohort engine's base-year shares (so both engines start from the same expectation), or
    cloned from a person file (whole households when it has household columns: their
    family links set with ``links``); of them, those ``shard`` holds (store.owns: every
    draw is keyed by the person's id, so a shard's persons are those of the whole
    population). Returns the store, the number of cells the file lacked and, with a file,
    the record each base-year person id was cloned from (-1: drawn; for disclosure
    control); the store's ``next_id`` is the base year's persons."""
    store = PersonStore.empty(capacity, state.recent.shape[-1] if state is not None else 0)
    synthetic_cells = 0
    counts = _allocate(assumptions.base_population, settings.persons)
    base_year = int(assumptions.years[0])
    never = _never_covered(assumptions, records)
    spread = _payment_spread(assumptions)
    shaped = _dual_entitlement(assumptions)
    pension = contributory_pension(assumptions)
    best = pension is not None and dbp.selects_best_years(pension)
    start = first = 0
    sources = []  # (ids, records) of the persons cloned
    if records is not None and records.linked:
        counts, start, first, picks = _household_clones(store, assumptions, settings, state,
                                                        records, shard, links)
        sources.append((np.arange(first), picks))  # the cells left have no record
    for a in range(counts.shape[0]):
        for s in range(2):
            n = int(counts[a, s])
            if n == 0:
                continue
            ids = np.arange(first, first + n, dtype=np.int64)
            ids = ids[(ids // shard[0]) % shard[1] == shard[2]]  # store.owns
            first += n
            if records is not None and not np.any((records.age == a) & (records.sex == s)):
                synthetic_cells += 1  # persons.clone_cell finds no record for the cell
            if len(ids) == 0:
                continue
            slots = slice(start, start + len(ids))
            store.pid[slots] = ids
            store.age[slots] = a
            store.sex[slots] = s
            store.birth_year[slots] = base_year - a
            store.status[slots] = INACTIVE
            store.earnings_factor[slots] = K.permanent_factors(settings.seed, ids,
                                                               settings.permanent_sd)
            picks = None
            if records is not None and not records.linked:
                u = rng.uniforms(settings.seed, rng.INITIAL_STATE, ids, 0)
                picks = clone_cell(records, a, s, ids, u)
            if picks is not None:
                sources.append((ids, picks))
                _copy_records(store, slots, records, picks, _base_rate(assumptions)
                              if state is not None else None)
            elif state is not None:
                _draw_pension_class(store, slots, ids, state, a, s, settings.seed, *never[a, s])
                _spread_credits(store, slots, settings.permanent_sd,
                                _base_ceiling(assumptions), _caps_of(state, a, s))
                if best:
                    _lucky_years(store, slots, ids, settings.seed, settings.transitory_sd)
                store.pension[slots] = (
                    _in_class_shape(store, slots, ids, state, s, settings.seed) if shaped
                    else _around_mean(store.pension[slots], settings.seed,
                                      (rng.INITIAL_PENSION, rng.INITIAL_PENSION_2), ids,
                                      spread))
            if state is not None:
                _draw_survivors(store, slots, ids, state, a, s, settings.seed, spread)
            start += len(ids)
    store.size = start
    store.next_id = first
    if best and store.recent.shape[1] > dbp.kept_years(pension):
        # a person's best N are exact with N kept: the cohort engine's extra years
        # (pension_rules.BEST_EXTRA_YEARS) served her lucky draws above
        store.recent = np.ascontiguousarray(store.recent[:, :dbp.kept_years(pension)])
    return store, synthetic_cells, _sources(sources, first) if records is not None else None


def _sources(cloned: list, persons: int) -> np.ndarray:
    """The record each base-year person id was cloned from (-1 for none): ``cloned``
    holds (ids, records) pairs."""
    sources = np.full(persons, -1, dtype=np.int64)
    for ids, picks in cloned:
        sources[ids] = picks
    return sources


def _household_clones(store, assumptions: Assumptions, settings, state, records: PersonRecords,
                      shard, links: bool) -> tuple[np.ndarray, int, int, np.ndarray]:
    """Clone the person file's households (person_households) into the store's first slots,
    their members' ids consecutive; with ``links`` (one process, families on), set their
    partners, parents and homes. Returns the persons by (age, sex) still to draw (the
    cells of the groups without a record), the slots and the ids used, and the record of
    each id."""
    population = assumptions.base_population
    weights, covered = H.calibrate(records, population)
    in_covered = covered[H.age_groups(np.arange(population.shape[0]))]  # (age, sex)
    persons = settings.persons * float(population[in_covered].sum() / population.sum())
    clones = H.clone_counts(weights, persons, settings.seed)
    members = H.household_members(records)
    picks = np.concatenate([np.tile(members[h], clones[h]) for h in range(len(members))]
                           + [np.zeros(0, dtype=np.int64)])
    ids = np.arange(len(picks), dtype=np.int64)
    sizes = np.repeat(np.array([len(m) for m in members]), clones)
    first_of_clone = np.repeat(np.cumsum(sizes) - sizes, sizes)  # the clone's first id
    place = np.empty(len(records), dtype=np.int64)  # a record's place in its household
    for m in members:
        place[m] = np.arange(len(m))
    total, cloned = len(ids), picks
    mine = (ids // shard[0]) % shard[1] == shard[2]  # store.owns
    slots = np.arange(int(mine.sum()))
    picks, ids, first_of_clone = picks[mine], ids[mine], first_of_clone[mine]
    store.pid[slots] = ids
    store.age[slots] = records.age[picks]
    store.sex[slots] = records.sex[picks]
    store.birth_year[slots] = int(assumptions.years[0]) - records.age[picks]
    _copy_records(store, slots, records, picks, _base_rate(assumptions)
                  if state is not None else None)
    if state is not None:  # by (age, sex) cell, as the synthetic persons
        cells = store.age[slots].astype(np.int64) * 2 + store.sex[slots]
        order = np.argsort(cells, kind="stable")
        spread = _payment_spread(assumptions)
        for cell in np.split(order, np.flatnonzero(np.diff(cells[order])) + 1):
            if len(cell):
                a, s = divmod(int(cells[cell[0]]), 2)
                _draw_survivors(store, cell, store.pid[cell], state, a, s, settings.seed,
                                spread)
    if links and shard == WHOLE:  # slot = id: a link is the clone's first slot + place
        for name in ("partner", "mother", "father"):
            linked = getattr(records, name)[picks]
            getattr(store, name)[slots] = np.where(
                linked >= 0, first_of_clone + place[np.maximum(linked, 0)] + 1, 0)
        store.left_home[slots] = ~H.at_home(records)[picks]
    remaining = _allocate(population, settings.persons) * ~in_covered
    return remaining, len(slots), total, cloned


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


def _never_covered(assumptions: Assumptions, records: PersonRecords | None) -> np.ndarray:
    """(age, sex, 2) the base year's share of each cell never covered (the contributory
    pension's never_covered_share) and whether the cell is at or above the pensionable
    age; refused with a person file, whose persons bring their own coverage."""
    out = np.zeros((101, 2, 2))
    pension = contributory_pension(assumptions)
    if pension is None:
        return out
    out[..., 0] = never_covered_shares(pension, int(assumptions.years[0]))
    if not out[..., 0].any():
        return out
    if records is not None:
        raise SpfsimError(
            f"scheme '{pension.id}': field never_covered_share with a person file: the "
            "file's persons bring their own coverage history; leave never_covered_share "
            f"at 0 (value: {out[..., 0].max():.4g})")
    out[..., 1] = np.arange(101)[:, None] >= pension.retirement_age_grid[0]
    return out


def _draw_pension_class(store, slots, ids, state: PensionState, a: int, s: int,
                        seed: int, never_share: float = 0.0, old: float = 0.0) -> None:
    """The persons' pension classes drawn from the cohort engine's base-year shares of
    their cell (a, s); those of the ``never_share`` never covered (labour.never_covered,
    the same draw) are outside the state: inactive, or out of it (LEFT) where the cell is
    ``old`` (at or above the pensionable age), with nothing credited."""
    by_k = state.active[a, s]  # (status, service, contribution class)
    active = by_k.sum(axis=-1)
    retired = state.pensioners[a, s]
    invalid = state.invalid[a, s].sum(axis=-1)
    # the cohort engine's cell holds the never covered nowhere: the rest of it
    left = max(1.0 - active.sum() - retired.sum() - invalid.sum() - never_share, 0.0)
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
    if never_share > 0.0:
        never = rng.uniforms(seed, rng.NEVER_COVERED, ids, 0) < never_share
        store.status[slots] = np.where(never, LEFT if old else INACTIVE, status)
        for name in ("service", "care_years", "credits", "paid", "pension"):
            getattr(store, name)[slots] = np.where(never, 0, getattr(store, name)[slots])
        store.recent[slots] = np.where(never[:, None], 0.0, store.recent[slots])


def _base_ceiling(assumptions: Assumptions) -> float:
    """The contributory pension's ceiling of insurable earnings in the base year (currency
    per year; 0: none or no pension)."""
    pension = contributory_pension(assumptions)
    return 0.0 if pension is None else float(pension["earnings_ceiling"][0])


def _caps_of(state: PensionState, a: int, s: int) -> np.ndarray:
    """The (age, sex) cell's yearly caps of the base year (PensionState.career_caps;
    none: size 0)."""
    caps = state.career_caps
    return rules.NO_CAPS if caps is None else np.ascontiguousarray(caps[s, a])


def _spread_credits(store, slots, sd: float, ceiling: float, caps: np.ndarray) -> None:
    """Spread the drawn persons' credits (and the contributions paid and recent years on
    them) around their class's mean by their permanent earnings level, as the cohort
    engine assumes its members are spread (pension_rules.members_credits, capped at the
    base year's ceiling times their credited years): a person who earns more also earned
    more before the base year; with the cell's yearly ``caps`` (the cohort engine's,
    PensionState.career_caps; size 0: none) the ceiling applies year by year. Pensions in
    payment are spread apart by :func:`_around_mean`."""
    if sd <= 0.0:
        return
    idx = np.arange(slots.start, slots.stop)
    credits, levels = store.credits[idx], store.earnings_factor[idx].astype(np.float64)
    spread = np.array(credits)
    service = store.service[idx].astype(np.float64)
    for mean, years in np.unique(np.stack([credits, service])[:, credits > 0], axis=1).T:
        members = np.flatnonzero((credits == mean) & (service == years))
        spread[members] = rules.members_credits(float(mean), levels[members], sd,
                                                ceiling * years, caps)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(credits > 0, spread / credits, 1.0)
    store.credits[idx] = spread
    store.paid[idx] *= ratio
    if store.recent.shape[1]:
        store.recent[idx] *= ratio[:, None]


def _draw_survivors(store, slots, ids, state: PensionState, a: int, s: int,
                    seed: int, spread: float = 0.0) -> None:
    """The base year's survivors' pensions, drawn person by person from the cohort
    engine's reconstructed shares of the cell (spouses, orphans) with the cell's average
    amount, as pensioners are drawn from it, spread around it as pensions in payment are
    (:func:`_around_mean`)."""
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
    store.survivor_pension[slots] = _around_mean(
        store.survivor_pension[slots], seed,
        (rng.INITIAL_SURVIVOR_PENSION, rng.INITIAL_SURVIVOR_PENSION_2), ids, spread)


def _payment_spread(assumptions: Assumptions) -> float:
    """The contributory pension's base-year ``pensions_in_payment_spread`` (0: none or no
    pension)."""
    pension = contributory_pension(assumptions)
    return 0.0 if pension is None else float(pension["pensions_in_payment_spread"][0])


def _dual_entitlement(assumptions: Assumptions) -> bool:
    """Whether the contributory pension pays a survivor only above her own pension
    (``survivor_with_own_pension = "higher"``), for which the cohort engine keeps the
    shape of each class's own pensions (PensionState.own_shape)."""
    pension = contributory_pension(assumptions)
    return pension is not None and pension.choices.get("survivor_with_own_pension") == "higher"


def _lucky_years(store, slots, ids: np.ndarray, seed: int, sd: float) -> None:
    """The drawn persons' kept best years (their class's means per person) each times a
    lognormal factor of mean 1 and log-sd ``sd`` (the transitory earnings' spread), drawn
    for the person and the year's rank, then kept in decreasing order: a person's best
    years are partly her lucky ones, as the cohort engine's award takes them
    (pension_rules.best_years_gain, over the same years). Unchanged with ``sd`` 0."""
    if sd <= 0.0 or not store.recent.shape[1]:
        return
    kept = store.recent[slots]
    for k in range(kept.shape[1]):
        z = rng.normals(seed, rng.INITIAL_KEPT_YEARS, rng.INITIAL_KEPT_YEARS_2, ids, k)
        kept[:, k] *= np.exp(sd * z - 0.5 * sd * sd)
    store.recent[slots] = -np.sort(-kept, axis=1)


def _in_class_shape(store, slots, ids: np.ndarray, state: PensionState, s: int,
                    seed: int) -> np.ndarray:
    """The drawn persons' base-year own pensions (their cells' means in ``store.pension``)
    each times its credited-years class's shape at one of its equal-probability bands,
    drawn for the person (PensionState.own_shape of sex ``s``: the formula on the bands of
    the earnings spread), so that the micro engine's base-year pensions are spread as the
    cohort engine takes them in the dual entitlement's top-ups (a lognormal would have too
    few small pensions). Uniform bands keep each cell's mean in expectation."""
    shape = state.own_shape[s]
    u = rng.uniforms(seed, rng.INITIAL_PENSION, ids, 0)
    band = np.minimum((u * shape.shape[1]).astype(np.int64), shape.shape[1] - 1)
    service = np.minimum(store.service[slots].astype(np.int64), shape.shape[0] - 1)
    return store.pension[slots] * shape[service, band]


def _around_mean(amounts: np.ndarray, seed: int, streams: tuple[int, int], ids: np.ndarray,
                 spread: float) -> np.ndarray:
    """Base-year pensions in payment (``amounts``: their cells' means) each times a
    lognormal factor of mean 1 and log-sd ``spread`` drawn for the person (a normal from
    the two ``streams``, keyed by the id): the cohort engine holds means, people hold
    amounts around them (``pensions_in_payment_spread``). Unchanged with spread 0."""
    if spread <= 0.0:
        return amounts
    z = rng.normals(seed, *streams, ids, 0)
    return amounts * np.exp(spread * z - 0.5 * spread * spread)


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
