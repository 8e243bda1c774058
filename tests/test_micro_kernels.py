"""Micro engine building blocks on hand-checked small populations (also run without JIT)."""

from __future__ import annotations

from pathlib import Path

import numba as nb
import numpy as np
import pytest

from spfsim import rng
from spfsim.engine.benefits import G_INSURED_UNEMPLOYED
from spfsim.engine.micro import kernels as K
from spfsim.engine.micro.align import scaled_probabilities, select_exact
from spfsim.engine.micro.labour import never_covered
from spfsim.engine.micro.prefetch import AHEAD, prefetch_row
from spfsim.engine.micro.store import (
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
    PersonStore,
)
from spfsim.schemes import pension_rules as rules

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")


# ---------------------------------------------------------------- random numbers

def test_draws_are_pure_functions_of_their_key():
    keys = np.arange(1000, dtype=np.int64)
    a = rng.uniforms(7, rng.DEATH, keys, 2030)
    assert np.array_equal(a, rng.uniforms(7, rng.DEATH, keys, 2030))
    assert np.array_equal(a[::-1], rng.uniforms(7, rng.DEATH, keys[::-1], 2030))
    for other in (rng.uniforms(8, rng.DEATH, keys, 2030), rng.uniforms(7, rng.BIRTH, keys, 2030),
                  rng.uniforms(7, rng.DEATH, keys, 2031)):
        assert not np.array_equal(a, other)
    assert ((a >= 0) & (a < 1)).all()


@pytest.mark.slow  # statistical, and slow without JIT
def test_every_random_process_has_its_own_stream():
    """The streams (rng's integer constants) are distinct: no two processes share
    draws."""
    streams = {name: getattr(rng, name) for name in dir(rng)
               if name.isupper() and not name.startswith("_")
               and isinstance(getattr(rng, name), int)}
    assert len(streams) > 50
    assert len(set(streams.values())) == len(streams)


def test_draws_are_uniform_and_independent():
    keys = np.arange(200_000, dtype=np.int64)
    u = rng.uniforms(1, rng.CONTRIBUTION, keys, 2040)
    counts = np.histogram(u, bins=100, range=(0, 1))[0]
    chi2 = ((counts - 2000.0) ** 2 / 2000.0).sum()
    assert chi2 < 150  # 99 degrees of freedom: P(chi2 > 150) < 0.001
    # next person, next year, other stream: no correlation beyond sampling noise (4.5 sd)
    for other in (u[1:], rng.uniforms(1, rng.CONTRIBUTION, keys, 2041)[:-1],
                  rng.uniforms(1, rng.DEATH, keys, 2040)[:-1]):
        assert abs(np.corrcoef(u[:-1], other)[0, 1]) < 4.5 / np.sqrt(len(keys))


# ---------------------------------------------------------------- alignment

def test_scaled_probabilities_hit_the_targets_and_keep_the_ranking():
    p = np.array([0.1, 0.2, 0.4, 0.3, 0.3, 0.0, 0.0])
    cell = np.array([0, 0, 0, 1, 1, 2, 2])
    out = scaled_probabilities(p, cell, np.array([1.4, 1.5, 1.0]))
    np.testing.assert_allclose([out[:3].sum(), out[3:5].sum(), out[5:].sum()], [1.4, 1.5, 1.0])
    assert out[0] < out[1] < out[2] <= 1.0
    np.testing.assert_allclose(out[5:], 0.5)  # no information: uniform
    # a target above the cell size gives everybody certainty
    np.testing.assert_allclose(scaled_probabilities(p, cell, np.array([5.0, 1.0, 0.0]))[:3], 1)


def test_select_exact_takes_exactly_the_target_and_favours_high_p():
    n = 20_000
    p = np.where(np.arange(n) % 2 == 0, 0.1, 0.4)
    cell = (np.arange(n) >= n // 2).astype(np.int64)
    u = rng.uniforms(3, rng.DEATH, np.arange(n, dtype=np.int64), 2025)
    chosen = select_exact(p, u, cell, np.array([1000.4, 0.0]))
    assert chosen[: n // 2].sum() == 1000
    assert chosen[n // 2:].sum() == 0
    high, low = chosen[1: n // 2: 2].sum(), chosen[: n // 2: 2].sum()
    assert high > 2.5 * low  # four times the weight: selected far more often


def test_select_exact_selects_each_person_with_her_probability():
    """A cell of 10 continuing contributors (0.95) and 90 others (0.05), 14 chosen each
    time, 4,000 times (the year as the draw's counter): each is chosen with her own
    probability, within 0.01, as independent draws would choose her (Pareto sampling).
    Weighted sampling without replacement, used before, chose the ten with 0.76 and the
    others with 0.071: exact alignment then broke careers' persistence."""
    p = np.r_[np.full(10, 0.95), np.full(90, 0.05)]
    cell = np.zeros(100, dtype=np.int64)
    chosen = np.zeros(100)
    for year in range(4000):
        u = rng.uniforms(7, rng.CONTRIBUTION, np.arange(100, dtype=np.int64), year)
        picked = select_exact(p, u, cell, np.array([14.0]))
        assert picked.sum() == 14
        chosen += picked
    assert chosen[:10].mean() / 4000 == pytest.approx(0.95, abs=0.01)
    assert chosen[10:].mean() / 4000 == pytest.approx(0.05, abs=0.01)


# ---------------------------------------------------------------- the year kernel

def small_store(rows: list[dict]) -> PersonStore:
    store = PersonStore.empty(len(rows) + 8)
    for i, row in enumerate(rows):
        store.pid[i] = i
        store.earnings_factor[i] = 1.0
        store.status[i] = INACTIVE
        for name, value in row.items():
            getattr(store, name)[i] = value
    store.size = store.next_id = len(rows)
    return store


def run_year(store: PersonStore, *, q_death=0.0, q_invalid=None, asfr=None, stay=1.0,
             join=0.0, keep=1.0, self_employed=0.0, retirement=60,
             minimum_service=15, accrual=0.02, minimum_pension=150.0, revaluation=0.0,
             earnings=500.0, universal=((65, 100, 1.0),), chunk=2, reference_years=0,
             refund_share=0.0, group=0, cumulative=(0.0, 0.0, 1.0, 1.0), ui_service=1000,
             ui_credits_count=False, care=None, care_insured_only=False,
             survivor_end_rate=0.0, never=0.0, dual_entitlement=False, dependants=None,
             dependant_spread=0.0, best_years=False, formula=None, incidence=0.0):
    """One year of the kernel; ``universal`` benefits are (min age, max age, take-up),
    all of target ``group`` (engine.benefits.G_*); non-contributors who draw a labour
    state take it from ``cumulative`` (informal, unemployed, inactive, disabled);
    ``never``: every cell's share never covered; ``dependants``: the dependants'
    supplements' tables (records.DEPENDANT_TABLES; None: none), paid only above a spouse's
    own pension with ``dual_entitlement``, a spouse's spread by ``dependant_spread``;
    ``formula``: the pension formula (None: ``accrual`` per year); ``incidence``: every
    cell's disability incidence."""
    chunks = store.capacity
    counts = np.zeros((chunks, 101, 2, K.N_COUNTS + len(universal)), dtype=np.int64)
    probability = np.zeros((len(universal), 101, 2))
    for j, (low, high, take_up) in enumerate(universal):
        probability[j, low:high + 1] = take_up
    codes = np.array([[group, -1, 0, 1, 0, 0]] * len(universal),
                     dtype=np.int64).reshape(-1, 6)
    money = np.zeros((chunks, 2, K.N_MONEY), dtype=np.int64)
    awarded = np.zeros((chunks, 2, 61), dtype=np.int64)
    left = np.zeros((chunks, 2, 61), dtype=np.int64)
    age_money = np.zeros((chunks, 101, 2, K.N_AGE_MONEY), dtype=np.int64)
    nc_money = np.zeros((chunks, len(universal), 101, 2), dtype=np.int64)
    lifetimes = np.zeros((chunks, 60, 2, 2, K.LIFETIME_BINS), dtype=np.int64)
    flags = np.zeros(store.capacity, dtype=np.int8)
    scale = 1.0 / 1024
    R = K.records
    K.year_step(
        R.persons(store, flags, np.zeros(store.capacity, dtype=np.int8)),
        R.step(1, 2030, store.size, chunk, scale, 1.0, 1900, 1000.0),
        R.demography(np.full((101, 2), q_death),
                     np.full((101, 2), q_death if q_invalid is None else q_invalid),
                     np.zeros((101, 2)), np.zeros(101) if asfr is None else asfr),
        R.labour(np.full((101, 2), stay), np.full((101, 2), join), np.full((101, 2), keep),
                 np.broadcast_to(np.array(cumulative), (101, 2, 4)),
                 np.full((101, 2), keep), np.full((101, 2), self_employed),
                 np.empty(0, dtype=np.int8), np.empty(0, dtype=np.int8)),
        *R.pension(
            has=True, retirement_age=np.full((101, 2), retirement),
            minimum_service=minimum_service,
            formula=rules.formula(accrual) if formula is None else formula,
            reference_years=reference_years, best_years=best_years,
            minimum_pension=minimum_pension, maximum_pension=np.inf, revaluation=revaluation,
            indexation=0.0,
            earnings=np.full((101, 2), earnings), transitory_sd=0.0, earnings_floor=0.0,
            earnings_ceiling=np.inf, contribution_rate=0.1,
            incidence=np.full((101, 2), incidence),
            disability_minimum_service=0, recovery_rate=0.0,
            care_probability=np.zeros(101) if care is None else care, care_credit=100.0,
            care_insured_only=care_insured_only, care_child_age=0, refund_share=refund_share,
            retire_probability=(np.arange(101) >= retirement)[:, None] * np.ones((1, 2)),
            retire_factor=np.ones((101, 2)), survivor_partnering=np.zeros((101, 2)),
            never_covered=np.full((101, 2), never), survivors_on=False,
            survivor_minimum_service=0, orphan_age_limit=17,
            survivor_end_rate=survivor_end_rate,
            survivor_dual_entitlement=dual_entitlement, survivor_minimum_age=0,
            dependant_dual_entitlement=dual_entitlement, dependant_spread=dependant_spread,
            **(dependants or R.NO_DEPENDANTS)),
        R.benefits(codes, probability, np.full_like(probability, 100.0), -1,
                   np.zeros((101, 2)), ui_service, ui_credits_count),
        R.NO_INCOME,
        R.Tallies(counts, money, awarded, left, age_money, lifetimes, nc_money,
                  np.zeros((chunks, 101, 2, 7, 2), dtype=np.int64)))
    run_year.lifetimes = lifetimes.sum(axis=0)
    run_year.age_money = age_money.sum(axis=0) * scale
    run_year.nc_money = nc_money.sum(axis=0) * scale
    return (counts.sum(axis=0), money.sum(axis=0) * scale, awarded.sum(axis=0),
            left.sum(axis=0), flags)


def test_a_contributor_is_credited_and_ages():
    store = small_store([{"age": 30, "status": CONTRIBUTING, "service": 5, "credits": 1000.0}])
    counts, money, *_ = run_year(store, revaluation=0.1)
    # revalued 10 % on entering the year, then this year's 500 credited
    assert store.credits[0] == pytest.approx(1000.0 * 1.1 + 500.0)
    assert store.service[0] == 6
    assert store.age[0] == 31
    assert counts[30, MALE, K.CONTRIBUTORS] == 1
    assert money[MALE, K.INSURED] == pytest.approx(500.0)
    assert store.lifetime_contributions[0] == pytest.approx(50.0)  # 10 % of 500


def test_money_is_recorded_by_age_and_sex():
    """Insured earnings at the contributor's age; own pensions and refunds (apart) at
    the recipient's age; non-contributory benefits by age (cohort cash flows for the equity
    measures)."""
    store = small_store([
        {"age": 30, "status": CONTRIBUTING, "service": 5},
        {"age": 70, "status": RETIRED, "pension": 200.0, "sex": FEMALE},
        {"age": 60, "status": CONTRIBUTING, "service": 3, "credits": 9000.0, "paid": 900.0}])
    run_year(store, minimum_pension=0.0, refund_share=1.0)
    by_age = run_year.age_money
    assert by_age[30, MALE, K.AGE_INSURED] == pytest.approx(500.0)
    assert by_age[70, FEMALE, K.AGE_PENSIONS] == pytest.approx(200.0)
    # below minimum service at the pensionable age: refund of 100 % of the contributions
    assert by_age[60, MALE, K.AGE_REFUNDS] == pytest.approx(900.0)
    assert by_age[:, :, K.AGE_PENSIONS].sum() == pytest.approx(200.0)
    assert by_age[:, :, K.AGE_INSURED].sum() == pytest.approx(500.0)
    assert run_year.nc_money[0, 70, FEMALE] == pytest.approx(100.0)
    assert run_year.nc_money[0].sum() == pytest.approx(100.0)


def test_labour_states_stay_or_move_as_told():
    store = small_store([{"age": 30, "status": INFORMAL}, {"age": 30, "status": UNEMPLOYED},
                         {"age": 30, "status": CONTRIBUTING}])
    counts, *_ = run_year(store, stay=0.0, join=0.0, keep=1.0)
    # keep = 1: non-contributors keep their state; the contributor who stops draws from
    # the cumulative distribution, here all "inactive"
    assert store.status[:3].tolist() == [INFORMAL, UNEMPLOYED, INACTIVE]
    assert counts[30, MALE, K.N_INFORMAL] == counts[30, MALE, K.N_UNEMPLOYED] == 1
    assert counts[30, MALE, K.N_INACTIVE] == 1
    store = small_store([{"age": 30, "status": INFORMAL}])
    run_year(store, stay=0.0, join=0.0, keep=0.0)
    assert store.status[0] == INACTIVE  # keep = 0: everybody draws afresh
    store = small_store([{"age": 30, "status": INFORMAL}])
    run_year(store, stay=0.0, join=1.0, keep=1.0)
    assert store.status[0] == CONTRIBUTING  # joining comes first
    store = small_store([{"age": 30, "status": INFORMAL}, {"age": 30, "status": CONTRIBUTING},
                         {"age": 30, "status": DISABLED}])
    counts, *_ = run_year(store, stay=1.0, join=1.0, keep=0.0, self_employed=1.0)
    # a new contributor, and a contributor who does not keep his state, draw the
    # self-employed share (here 1); the disabled person joins too (join = 1)
    assert store.status[:3].tolist() == [SELF_EMPLOYED] * 3
    assert counts[30, MALE, K.N_SELF_EMPLOYED] == 3
    assert counts[30, MALE, K.CONTRIBUTORS] == 3


def test_the_never_covered_do_not_contribute_nor_get_credits_nor_leave():
    """A person of the share never covered (labour.never_covered: the draw keyed by her
    id alone) keeps a non-contributing state when everybody else joins, gets no care
    credit, and at the pensionable age is out of the scheme without being counted a
    leaver; the others of the same cells are members as before."""
    rows = [{"age": 30, "status": INFORMAL}, {"age": 30, "status": INACTIVE, "sex": FEMALE},
            {"age": 60, "status": INACTIVE}] * 40
    share = 0.5
    never = rng.uniforms(1, rng.NEVER_COVERED, np.arange(len(rows)), 0) < share
    assert 0 < never.sum() < len(rows)
    assert all(never_covered(1, p, share) == never[p] for p in range(len(rows)))
    store = small_store(rows)
    counts, *_ = run_year(store, join=1.0, care=np.ones(101), never=share)
    status, service = store.status[:len(rows)], store.service[:len(rows)]
    young = np.array([row["age"] == 30 for row in rows])
    assert set(status[never & young].tolist()) <= {INFORMAL, INACTIVE}
    assert (service[never] == 0).all()
    assert (status[~never & young] == CONTRIBUTING).all()
    assert (status[never & ~young] == LEFT).all()
    # only the members reaching the pensionable age without service are leavers
    assert counts[60, MALE, K.NEW_LEAVERS] == (~never & ~young).sum()
    assert counts[30, MALE, K.CONTRIBUTORS] + counts[30, FEMALE, K.CONTRIBUTORS] \
        == (~never & young).sum()


def test_retirement_award_minimum_and_no_pension():
    store = small_store([
        {"age": 60, "service": 20, "credits": 10_000.0},  # 0.02 x 10,000 = 200
        {"age": 60, "service": 20, "credits": 5_000.0},  # 100 -> minimum 150
        {"age": 61, "service": 10, "credits": 9_000.0},  # too little service
    ])
    counts, money, awarded, left, _ = run_year(store)
    assert list(store.status[:3]) == [RETIRED, RETIRED, LEFT]
    assert store.pension[:3].tolist() == pytest.approx([200.0, 150.0, 0.0])
    assert money[MALE, K.NEW_AMOUNT] == pytest.approx(350.0)
    assert money[MALE, K.BENEFITS] == pytest.approx(350.0)  # paid from the award year
    assert awarded[MALE, 20] == 2
    assert left[MALE, 10] == 1
    assert counts[:, MALE, K.CONTRIBUTORS].sum() == 0  # retirees no longer contribute


def test_reference_earnings_over_the_last_years():
    """The last 3 credited years earned 300, 200 and 100 (latest first): reference
    earnings 200, pension 0.02 x 20 x 200 = 80 (career credits 10,000 are ignored). A
    contributor's year of 500 pushes the oldest out; with 2 credited years only, the
    average is over those 2."""
    store = small_store([
        {"age": 60, "service": 20, "credits": 10_000.0},
        {"age": 30, "status": CONTRIBUTING, "service": 5, "credits": 1000.0},
        {"age": 60, "service": 2, "credits": 500.0}])
    store.recent = np.zeros((store.capacity, 3))
    store.recent[0] = [300.0, 200.0, 100.0]
    store.recent[1] = [300.0, 200.0, 100.0]
    store.recent[2] = [300.0, 200.0, 0.0]
    run_year(store, reference_years=3, minimum_pension=0.0, minimum_service=2)
    assert store.pension[0] == pytest.approx(80.0)
    assert store.recent[1].tolist() == [500.0, 300.0, 200.0]
    assert store.credits[1] == pytest.approx(1500.0)
    assert store.pension[2] == pytest.approx(0.02 * 2 * 250.0)


def test_reference_earnings_over_the_best_years():
    """The best 3 of 5 credited years, kept in decreasing order: a contributor's year of
    250 goes between 300 and 200 and the lowest, 100, drops out; a year of 50 beats none
    and is not kept, though it is credited. The reference is the average of the best:
    0.02 x 20 x 200 = 80 for the retiring member."""
    store = small_store([
        {"age": 60, "service": 20, "credits": 10_000.0},
        {"age": 30, "status": CONTRIBUTING, "service": 5, "credits": 1000.0},
        {"age": 30, "status": CONTRIBUTING, "service": 5, "credits": 1000.0}])
    store.recent = np.zeros((store.capacity, 3))
    store.recent[:3] = [300.0, 200.0, 100.0]
    store.earnings_factor[1], store.earnings_factor[2] = 0.5, 0.1
    run_year(store, reference_years=3, minimum_pension=0.0, minimum_service=2,
             best_years=True)
    assert store.pension[0] == pytest.approx(80.0)
    assert store.recent[1].tolist() == [300.0, 250.0, 200.0]
    assert store.recent[2].tolist() == [300.0, 200.0, 100.0]
    assert store.credits[2] == pytest.approx(1050.0)


@pytest.mark.parametrize(("elapsed_from", "expected"), [(0, 1068.0), (22, 1076.0)])
def test_a_disability_averages_its_computation_years(elapsed_from, expected):
    """A contributor disabled at 45 with 20 credited years kept, 2,000 down to 1,050 (the
    best 35 kept, bend points at 1,000 and 5,000): with the elapsed years from 22, 23
    elapsed less 4 dropout years leave 19 computation years, the best 19 average 29,450 /
    19 = 1,550 and the pension is 0.9 x 1,000 + 0.32 x 550 = 1,076; without, the 22 years
    to the pensionable age 67 leave max(20, 35 - 22) = 20 years, all 20 averaging 1,525:
    0.9 x 1,000 + 0.32 x 525 = 1,068."""
    store = small_store([{"age": 45, "status": CONTRIBUTING, "service": 20,
                          "credits": 30_500.0}])
    store.recent = np.zeros((store.capacity, 35))
    store.recent[0, :20] = 2000.0 - 50.0 * np.arange(20)
    formula = rules.formula(0.0, bends=(1000.0, 5000.0), factors=(0.9, 0.32, 0.15),
                            averaging_years=35, elapsed_from=elapsed_from)
    run_year(store, retirement=67, reference_years=35, best_years=True, formula=formula,
             incidence=1.0, minimum_service=10)
    assert store.status[0] == INVALID
    assert store.pension[0] == pytest.approx(expected, rel=1e-12)


def test_deaths_are_counted_at_the_age_reached():
    asfr = np.zeros(101)
    asfr[25:27] = 1.0
    store = small_store([{"age": 40, "sex": MALE}, {"age": 25, "sex": FEMALE},
                         {"age": 100, "sex": FEMALE}])
    counts, *_ = run_year(store, q_death=1.0, asfr=asfr)
    assert (store.status[:3] == GONE).all()
    assert counts[41, MALE, K.DEATHS] == 1
    assert counts[26, FEMALE, K.DEATHS] == 1
    assert counts[100, FEMALE, K.DEATHS] == 1  # the open group stays at 100
    assert counts[:, :, K.POP].sum() == 3  # counted in the year's population first


def test_disability_pensioners_die_at_their_own_rate():
    """q_invalid applies to disability pensioners below the pensionable age (60 here), the
    population's rate to everyone else, old-age pensioners included."""
    store = small_store([{"age": 40, "status": INVALID, "service": 10, "pension": 100.0},
                         {"age": 40}, {"age": 70, "status": RETIRED, "pension": 100.0}])
    counts, *_ = run_year(store, q_death=0.0, q_invalid=1.0)
    assert list(store.status[:3]) == [GONE, INACTIVE, RETIRED]
    assert counts[41, MALE, K.DEATHS] == 1
    store = small_store([{"age": 40, "status": INVALID, "service": 10, "pension": 100.0},
                         {"age": 40}])
    run_year(store, q_death=1.0, q_invalid=0.0)
    assert list(store.status[:2]) == [INVALID, GONE]


def test_lifetime_amounts_are_recorded_at_death():
    store = small_store([{"age": 80, "birth_year": 1950, "lifetime_contributions": 2000.0,
                          "lifetime_benefits": 0.0, "status": LEFT}])
    run_year(store, q_death=1.0)
    lifetimes = run_year.lifetimes  # (cohort group, sex, kind, bin); unit 1000
    group = (1950 - 1900) // K.COHORT_GROUP
    assert lifetimes[group, MALE, 0, K.lifetime_bin(2.0)] == 1
    assert lifetimes[group, MALE, 1, 0] == 1  # no benefits: the zero bin
    edges = K.lifetime_bin_edges()
    b = K.lifetime_bin(2.0)
    assert edges[b] <= 2.0 < edges[b + 1]


def test_histogram_quantiles():
    from spfsim.engine.micro.engine import histogram_quantiles

    edges = K.lifetime_bin_edges()
    counts = np.zeros(K.LIFETIME_BINS)
    counts[0] = 50  # half the deaths with nothing
    counts[K.lifetime_bin(3.0)] = 50
    q = histogram_quantiles(counts, edges, (0.25, 0.75))
    assert q[0] == 0.0
    b = K.lifetime_bin(3.0)
    assert edges[b] <= q[1] <= edges[b + 1]


# the totals are in fixed point: a person's amount is rounded to half a unit of 2**-24 of
# the unit (here 100)
RESOLUTION = K.fixed_point_scale(100.0)


def _record(store, continuation, everyone, groups=60):
    exits = np.zeros((groups, 2, 2, K.EXIT_BINS), dtype=np.int64)
    totals = np.zeros((groups, 2, 3), dtype=np.int64)
    scale = K.fixed_point_scale(100.0)
    K.record_lifetimes(store.status, store.age, store.sex, store.birth_year, store.pension,
                       store.lifetime_contributions, store.lifetime_benefits, store.size,
                       1900, 100.0, continuation, everyone, exits, totals, scale)
    return exits, totals * scale


def test_lifetimes_are_recorded_when_gone_or_at_the_horizon():
    """Hand case, unit 100 (base-year average earnings): a pensioner who died (paid 100,
    received 250: ratio 2.5, net +1.5); a pensioner alive at the horizon (paid 100,
    received 20, pension 10 continued at 5 a unit: 50 more; ratio 0.7, net -0.3); a woman
    with a pension from care credits alone (net +0.4, no ratio); a non-member."""
    store = small_store([
        {"birth_year": 1950, "status": GONE, "lifetime_contributions": 100.0,
         "lifetime_benefits": 250.0},
        {"birth_year": 1952, "age": 75, "status": RETIRED, "pension": 10.0,
         "lifetime_contributions": 100.0, "lifetime_benefits": 20.0},
        {"birth_year": 1953, "age": 75, "sex": FEMALE, "status": RETIRED, "pension": 1.0,
         "lifetime_benefits": 35.0},
        {"birth_year": 1953, "age": 75, "status": LEFT}])
    continuation = np.zeros((101, 2))
    continuation[75] = 5.0
    group = (1950 - 1900) // K.COHORT_GROUP
    exits, totals = _record(store, continuation, everyone=False)  # before compaction
    assert exits.sum() == 2  # the one gone: in both distributions
    assert exits[group, MALE, K.EXIT_RATIO, K.asinh_bin(2.5 / K.RATIO_UNIT)] == 1
    assert exits[group, MALE, K.EXIT_NET, K.asinh_bin(1.5 / K.NET_UNIT)] == 1
    np.testing.assert_allclose(totals[group, MALE], [100.0, 250.0, 0.0],
                               atol=RESOLUTION)

    exits, totals = _record(store, continuation, everyone=True)  # at the horizon
    np.testing.assert_allclose(totals[group, MALE], [200.0, 270.0, 50.0],
                               atol=2 * RESOLUTION)
    np.testing.assert_allclose(totals[group, FEMALE], [0.0, 35.0, 5.0], atol=RESOLUTION)
    assert exits[group, MALE, K.EXIT_RATIO, K.asinh_bin(0.7 / K.RATIO_UNIT)] == 1
    assert exits[group, MALE, K.EXIT_NET, K.asinh_bin(-0.3 / K.NET_UNIT)] == 1
    assert exits[group, FEMALE, K.EXIT_NET, K.asinh_bin(0.4 / K.NET_UNIT)] == 1
    assert exits[group, FEMALE, K.EXIT_RATIO].sum() == 0  # no contributions: no ratio
    assert exits[:, :, K.EXIT_NET].sum() == 3  # the non-member is left out


def test_asinh_histogram_quantiles_recover_the_sample_quantiles():
    """Ratios (log-normal, with 10 % zeros) and transfers of either sign, binned by
    asinh_bin: the decoded quantiles are those of the sample within a bin's width."""
    from spfsim.engine.micro.engine import QUANTILES, asinh_histogram_quantiles

    generator = np.random.default_rng(5)
    ratios = np.where(generator.random(200_000) < 0.1, 0.0,
                      generator.lognormal(0.2, 0.8, 200_000))
    transfers = generator.normal(0.3, 2.0, 200_000) * generator.lognormal(0, 0.5, 200_000)
    for values, unit in ((ratios, K.RATIO_UNIT), (transfers, K.NET_UNIT)):
        counts = np.zeros((1, K.EXIT_BINS))
        np.add.at(counts[0], [K.asinh_bin(v / unit) for v in values], 1)
        got = asinh_histogram_quantiles(counts, unit)[0]
        expected = np.quantile(values, QUANTILES)
        width = np.abs(expected) * 0.03 + unit  # a bin: 2.8 % for |value| >> unit
        assert np.all(np.abs(got - expected) <= width), (got, expected)
    assert np.isnan(asinh_histogram_quantiles(np.zeros((1, K.EXIT_BINS)), 1.0)).all()


def test_birth_flags_and_universal_take_up():
    asfr = np.zeros(101)
    asfr[25:27] = 1.0
    store = small_store([{"age": 25, "sex": FEMALE}, {"age": 70, "sex": MALE},
                         {"age": 64, "sex": MALE}])
    counts, _, _, _, flags = run_year(store, asfr=asfr)
    assert flags.tolist()[:3] == [1, 0, 0]  # exposure 0.5 x 1 + 0.5 x 1 = 1
    assert counts[70, MALE, K.N_COUNTS] == 1
    assert counts[64, MALE, K.N_COUNTS] == 0


def test_newborns_and_immigrants_get_sequential_ids():
    store = PersonStore.empty(16)
    store.size, store.next_id = 2, 10
    flags = np.zeros(16, dtype=np.int8)
    flags[:2] = 1
    size, next_id, births, deaths, emigrants = K.add_newborns(
        store.pid, store.status, store.age, store.sex, store.birth_year,
        store.earnings_factor, flags, store.size, store.next_id, 1, 2030, 1.0,
        np.ones(2), np.zeros(2), 0.0)
    assert (size, next_id) == (4, 12)
    assert store.pid[2:4].tolist() == [10, 11]
    assert births.tolist() == [2, 0]
    assert deaths.sum() == emigrants.sum() == 0
    assert (store.age[2:4] == 0).all()
    assert (store.birth_year[2:4] == 2031).all()
    assert not flags.any()
    expected = np.zeros((101, 2))
    expected[30, FEMALE] = 2.0
    size, next_id, added = K.add_immigrants(
        store.pid, store.status, store.age, store.sex, store.birth_year,
        store.earnings_factor, flags, size, next_id, 1, 2030, expected, np.zeros(101), 0.0)
    assert (size, next_id) == (6, 14)
    assert added[30, FEMALE] == 2
    assert (store.age[4:6] == 30).all()
    assert (store.sex[4:6] == FEMALE).all()
    assert (store.birth_year[4:6] == 2001).all()


def test_newborns_that_do_not_survive_are_deaths():
    store = PersonStore.empty(8)
    flags = np.zeros(8, dtype=np.int8)
    flags[:3] = 1
    store.size = 3
    size, _, births, deaths, _ = K.add_newborns(
        store.pid, store.status, store.age, store.sex, store.birth_year,
        store.earnings_factor, flags, store.size, 3, 1, 2030, 0.0, np.zeros(2), np.zeros(2),
        0.0)
    assert size == 3
    assert births.tolist() == [0, 3]
    assert deaths.tolist() == [0, 3]


def test_store_compaction_keeps_order():
    store = small_store([{"age": a} for a in range(6)])
    store.status[[1, 4]] = GONE
    store.compact()
    assert store.size == 4
    assert store.pid[:4].tolist() == [0, 2, 3, 5]
    assert store.age[:4].tolist() == [0, 2, 3, 5]
    store.reserve(100)
    assert store.capacity >= 104
    assert store.pid[:4].tolist() == [0, 2, 3, 5]


@pytest.mark.parametrize("jit", [True, False])
def test_compaction_moves_values_bit_for_bit(monkeypatch, jit):
    """Compaction writes only the values that change, compared bit for bit: a -0.0 moved
    over a 0.0 and a NaN over a NaN arrive as they were, rows of a two-dimensional field
    too; the freed slots are zeros. With Numba and in NumPy (JIT off) alike."""
    import numba as nb

    from spfsim.engine.micro import store as S

    monkeypatch.setattr(nb.config, "DISABLE_JIT", not jit)
    rng = np.random.default_rng(2)
    status = np.where(rng.random(500) < 0.3, GONE, CONTRIBUTING).astype(np.int8)
    values = rng.choice([0.0, -0.0, 1.5, np.nan], size=(500, 3)).astype(np.float32)
    want = values[status != GONE].copy()
    rows = S._bits(values)
    kept = S._compacted(500, status, rows)
    S._cleared(rows, kept, 500)
    assert kept == len(want)
    np.testing.assert_array_equal(S._bits(values[:kept]), S._bits(want))
    assert not np.any(rows[kept:])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
@pytest.mark.skipif(nb.config.DISABLE_JIT, reason="the compiled compaction's property")
def test_compaction_leaves_untouched_zeros_untouched():
    """A sparse field's zeros on pages the process never wrote stay off its memory when
    compaction moves zeros over zeros: 80 MB of such zeros shifted by one slot add
    almost nothing to the resident memory (every page, written, would add all of it)."""
    from spfsim.engine.micro import store as S

    def resident() -> int:
        text = Path("/proc/self/status").read_text()
        return int(next(line for line in text.splitlines()
                        if line.startswith("VmRSS:")).split()[1]) * 1024

    small = np.zeros(4, dtype=np.float32)  # compiled first: compiling takes memory
    S._cleared(S._bits(small), S._compacted(4, np.zeros(4, dtype=np.int8), S._bits(small)), 4)
    n = 20_000_000
    status = np.full(n, CONTRIBUTING, dtype=np.int8)
    status[0] = GONE
    zeros = np.zeros(n, dtype=np.float32)  # 80 MB the system has not given yet
    before = resident()
    kept = S._compacted(n, status, S._bits(zeros))
    S._cleared(S._bits(zeros), kept, n)
    assert kept == n - 1
    assert resident() - before < 8_000_000


@pytest.mark.parametrize("scratch", [None, np.full(6, -7, dtype=np.int32)])
def test_compaction_moves_family_links_with_their_persons(scratch):
    """Links (slot + 1) follow the persons compaction moves; links to persons gone are
    cleared; the links' new slots may be worked out in a scratch array holding anything
    (PersonStore.compact's ``scratch``, the poverty pass's members between its passes)."""
    store = small_store([{"age": a} for a in (40, 70, 38, 12, 10, 65)])
    store.partner[[0, 2]] = [3, 1]  # 0 and 2 a couple
    store.partner[[1, 5]] = [6, 2]  # 1 (to go) and 5
    store.mother[[3, 4]] = [3, 2]  # 3's mother is 2; 4's mother is 1, who goes
    store.father[[3, 4]] = [1, 6]
    store.household[:6] = [1, 2, 1, 1, 2, 2]
    store.status[[1]] = GONE
    store.compact(scratch)
    assert store.size == 5
    assert store.pid[:5].tolist() == [0, 2, 3, 4, 5]
    assert store.partner[:5].tolist() == [2, 1, 0, 0, 0]
    assert store.mother[:5].tolist() == [0, 0, 2, 0, 0]
    assert store.father[:5].tolist() == [0, 0, 1, 5, 0]
    assert store.household[:5].tolist() == [1, 1, 1, 0, 0]


def test_the_buffers_lend_and_release_their_slots():
    """The per-slot buffers (outputs._Buffers): with poverty measured, the scratch of the
    passes outside the poverty pass and the flags of mothers of young children are the
    households' members' memory, and without it arrays of their own; at the horizon every
    per-slot array goes (PER_SLOT lists them all)."""
    from spfsim.engine.micro.outputs import _Buffers

    for poverty in (True, False):
        buffers = _Buffers(23, 2, 3)
        if poverty:
            buffers.measure_poverty()
        buffers.link_care_credits()
        buffers.link_dependants()
        buffers.cover_household_benefits()
        scratch = buffers.scratch(15)
        assert scratch.dtype == np.int32
        assert len(scratch) == 15
        assert buffers.young_child.dtype == np.int8
        assert len(buffers.young_child) == 23
        assert np.shares_memory(scratch, buffers.members) == poverty
        assert np.shares_memory(buffers.young_child, buffers.members) == poverty
        per_slot = {name for name, value in vars(buffers).items()
                    if isinstance(value, np.ndarray) and value.ndim and len(value) == 23}
        assert per_slot <= set(buffers.PER_SLOT)
        buffers.release()
        for name in buffers.PER_SLOT:
            assert len(getattr(buffers, name)) == 0, name
        assert buffers.capacity == 0


def test_an_empty_store_compacts():
    """A store without a slot (a worker holding no persons) compacts to nothing."""
    store = PersonStore.empty(0)
    store.compact()
    assert store.size == 0


def test_compaction_leaves_free_slots_empty_for_entrants():
    """A newborn written into a slot freed by compaction starts with nothing: no service,
    credits, pension or lifetime amounts of the person who held the slot before."""
    store = small_store([{"age": 40, "service": 20, "credits": 9e3, "pension": 300.0,
                          "lifetime_contributions": 5e3, "lifetime_benefits": 7e3,
                          "status": CONTRIBUTING} for _ in range(4)])
    store.recent = np.zeros((store.capacity, 2))
    store.recent[:4] = 11.0
    store.status[[0, 2]] = GONE
    store.compact()
    for name, array in store.arrays().items():
        assert not np.any(array[store.size:]), name
    flags = np.zeros(store.capacity, dtype=np.int8)
    flags[0] = 1
    size, *_ = K.add_newborns(
        store.pid, store.status, store.age, store.sex, store.birth_year,
        store.earnings_factor, flags, store.size, 10, 3, 2030, 1.0, np.ones(2), np.zeros(2),
        0.0)
    assert size == 3
    assert (store.service[2], store.credits[2], store.pension[2]) == (0, 0.0, 0.0)
    assert store.lifetime_contributions[2] == store.lifetime_benefits[2] == 0.0
    assert not store.recent[2].any()


@pytest.mark.parametrize("credits_count", [False, True])
def test_care_years_do_not_qualify_for_unemployment_insurance(credits_count):
    """Unemployment insurance needs two years of contributions (ILO C168 Art. 17): care
    credits are pension credits. Three unemployed women with three credited years each,
    of which 3, 2 and 1 care years: only the last has two years of contributions, unless
    the scheme lets credits count. Before the fix all three qualified."""
    store = small_store([{"age": 30, "sex": FEMALE, "status": UNEMPLOYED, "service": 3,
                          "care_years": care} for care in (3, 2, 1)])
    counts, *_ = run_year(store, universal=((15, 64, 1.0),), group=G_INSURED_UNEMPLOYED,
                          cumulative=(0.0, 1.0, 1.0, 1.0), ui_service=2,
                          ui_credits_count=credits_count)
    assert counts[30, FEMALE, K.N_UNEMPLOYED] == 3
    assert counts[30, FEMALE, K.N_COUNTS] == (3 if credits_count else 1)


def test_a_care_credit_is_counted_as_a_care_year():
    store = small_store([{"age": 30, "sex": FEMALE, "status": INACTIVE, "service": 4,
                          "care_years": 1}])
    run_year(store, care=np.where(np.arange(101) == 30, 1.0, 0.0))
    assert (store.service[0], store.care_years[0]) == (5, 2)
    assert store.credits[0] == pytest.approx(100.0)


@pytest.mark.parametrize(("service", "care", "credited"), [(0, 0, False), (2, 2, False),
                                                           (2, 1, True)])
def test_care_credits_are_for_the_insured(service, care, credited):
    """care_credit_eligibility = 'insured': a woman who never contributed (no service, or
    only care years from before) is not credited; one with a year of contributions is."""
    store = small_store([{"age": 30, "sex": FEMALE, "status": INACTIVE, "service": service,
                          "care_years": care}])
    run_year(store, care=np.where(np.arange(101) == 30, 1.0, 0.0), care_insured_only=True)
    assert store.service[0] == service + credited


def test_refunds_return_contributions_paid():
    """A woman reaching the pensionable age with 4 credited years, 2 of them care years, has
    paid 70 of contributions (on the earnings of her other 2 years, at their years'
    rates): a refund share of 1 pays back 70, whatever her credits (1,000, care credits
    included). One with care years alone has paid nothing and gets no refund. Before,
    the refund was the current rate x all credits, care credits included."""
    store = small_store([
        {"age": 60, "sex": FEMALE, "status": INACTIVE, "service": 4, "care_years": 2,
         "credits": 1000.0, "paid": 70.0},
        {"age": 60, "sex": FEMALE, "status": INACTIVE, "service": 2, "care_years": 2,
         "credits": 300.0}])
    counts, money, *_ = run_year(store, refund_share=1.0)
    assert money[FEMALE, K.REFUNDS] == pytest.approx(70.0)
    assert counts[60, FEMALE, K.N_REFUNDS] == 1
    assert (store.credits[:2] == 0.0).all()
    assert (store.paid[:2] == 0.0).all()


def test_contributions_paid_follow_each_year_s_rate():
    """A contributor earning 500 at a rate of 0.1 (run_year's) pays 50: it adds to what a
    refund returns; a care credit adds to the credits only."""
    store = small_store([
        {"age": 30, "sex": FEMALE, "status": CONTRIBUTING, "service": 2, "paid": 10.0},
        {"age": 30, "sex": FEMALE, "status": INACTIVE, "service": 2, "paid": 10.0}])
    run_year(store, care=np.where(np.arange(101) == 30, 1.0, 0.0), revaluation=0.1)
    assert store.paid[0] == pytest.approx(10.0 * 1.1 + 50.0)
    assert store.paid[1] == pytest.approx(10.0 * 1.1)
    assert store.credits[1] == pytest.approx(100.0)  # the care credit


def test_accumulator_rows_do_not_change_the_sums():
    """counters.chunk_rows: chunk k adds into row k modulo the rows, so a pass with one
    row, three rows or a row a chunk gives the same sums (integers), and the rows beyond
    the chunks, which a previous year may have left filled, are cleared."""
    n, chunk = 1000, 64  # 16 chunks
    generator = np.random.default_rng(5)
    status = generator.choice([GONE, CONTRIBUTING, INACTIVE, RETIRED, INVALID], n).astype(
        np.int8)
    age = generator.integers(0, 101, n).astype(np.uint8)
    sex = generator.integers(0, 2, n).astype(np.uint8)
    service = generator.integers(0, 40, n).astype(np.uint8)
    pid = np.arange(n, dtype=np.int32)
    retirement_age = np.full((101, 2), 65)
    never_share = np.full((101, 2), 0.3)

    def counted(rows):
        out = np.zeros((rows, 101, 2, K.N_STATE_COUNTS), dtype=np.int64)
        out[:] = 7  # what a previous year left
        total = K.count_states(status, age, sex, service, pid, n, chunk, retirement_age, 5,
                               3, never_share, out)
        return total, out

    by_chunk, _ = counted(16)
    for rows in (1, 3, 40):
        total, out = counted(rows)
        np.testing.assert_array_equal(total, by_chunk)
        assert not out[16:].any()
    assert by_chunk[..., K.S_POP].sum() == (status != GONE).sum()


@nb.njit
def _sum_rows_prefetched(array, links):
    """Sum array's rows named by ``links`` (1-based, 0 none), prefetching AHEAD on."""
    total = 0.0
    for i in range(len(links)):
        if i + AHEAD < len(links) and links[i + AHEAD] != 0:
            prefetch_row(array, links[i + AHEAD] - 1)
        if links[i] != 0:
            total += array[links[i] - 1].sum()
    return total


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1000,), (1000, 3)])
def test_prefetching_rows_changes_no_value(dtype, shape):
    """A prefetch is a hint: on 1-D and 2-D arrays of each dtype the passes use, and on a
    strided view, a loop that prefetches the rows it will read gives the loop's plain sum."""
    values = np.arange(np.prod(shape) * 2).reshape(shape[0] * 2, *shape[1:]) % 97
    array = values.astype(dtype)[::2]  # every other row: a stride of two rows
    rows = array if array.ndim == 2 else array[:, None]  # a view with array's strides
    links = np.random.default_rng(3).integers(0, shape[0] + 1, 5000)
    expected = sum(float(rows[j - 1].sum()) for j in links if j)
    assert _sum_rows_prefetched(rows, links) == expected


@pytest.mark.skipif(nb.config.DISABLE_JIT, reason="the compiled code's property")
def test_prefetching_rows_emits_a_prefetch_instruction():
    """The hint reaches the machine code (x86 prefetcht0, Arm prfm), not only the IR."""
    rows = np.zeros((10, 3), dtype=np.float32)
    _sum_rows_prefetched(rows, np.zeros(3, dtype=np.int64))
    assembly = next(iter(_sum_rows_prefetched.inspect_asm().values())).lower()
    assert "prefetch" in assembly or "prfm" in assembly
