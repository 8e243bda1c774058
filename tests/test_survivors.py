"""The survivors' branch of the contributory pension in both engines."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_factory import set_csv_column, write_small_model
from replication import replication_t
from test_schemes import year_inputs

import spfsim
from spfsim import checks
from spfsim.checks import invariant_findings
from spfsim.engine import cohort_kernels
from spfsim.engine.cohort import PensionState, SurvivorRules
from spfsim.engine.micro import kernels as K
from spfsim.engine.micro.store import FEMALE, GONE, INACTIVE, MALE, PersonStore
from spfsim.schemes import db_pension as dbp

# the counter-based random numbers wrap 64-bit integers on purpose; without JIT numpy warns
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")

SURVIVORS = """survivor_pension_share = 0.5
orphan_pension_share = 0.2
orphan_age_limit = 17
married_share = { male = 0.8, female = 0.6 }
spouse_age_difference = { male = 4, female = -3 }
survivor_end_rate = 0.03
survivor_minimum_service = 3
survivor_maximum_share = 0.7
"""


def survivors_model(folder):
    write_small_model(folder)
    model = folder / "model.toml"
    model.write_text(model.read_text().replace("start_year = 1995",
                                               "start_year = 1995\n" + SURVIVORS))
    return folder


def test_expected_orphans_by_hand():
    asfr = np.zeros(101)
    asfr[20:40] = 0.1
    # a mother aged 30 now: children aged k were born at 29 - k (all fertile for k <= 9)
    children = dbp.expected_orphans(asfr, 30, 17)
    np.testing.assert_allclose(children[:10], 0.1)
    np.testing.assert_allclose(children[10:], 0.0)  # born before 20
    assert dbp.expected_orphans(asfr, 10, 17).sum() == 0.0


def test_survivor_ceiling_by_hand():
    """A certain spouse (0.5) and a certain child (0.3) exceed a 0.6 ceiling: both shares
    are scaled by 0.6 / 0.8. With a child of probability 1/2, the spouse gets 0.5 x 0.75
    half the time and 0.5 otherwise."""
    spouse, orphans = dbp.capped_survivor_shares(1.0, np.array([1.0]), 0.5, 0.3, 0.6)
    assert float(spouse) == pytest.approx(0.5 * 0.75)
    assert orphans[0] == pytest.approx(0.3 * 0.75)
    spouse, orphans = dbp.capped_survivor_shares(1.0, np.array([0.5]), 0.5, 0.3, 0.6)
    assert float(spouse) == pytest.approx(0.5 * (0.5 * 0.75 + 0.5))
    assert orphans[0] == pytest.approx(0.5 * 0.3 * 0.75)
    assert dbp.survivor_scale(0.8, 0.0) == 1.0  # no ceiling


@settings(max_examples=60, deadline=None)
@given(married=st.floats(0, 1), children=st.lists(st.floats(0, 1), min_size=1, max_size=5),
       spouse_share=st.floats(0, 1), orphan_share=st.floats(0, 1),
       maximum=st.floats(0, 2))
def test_survivor_ceiling_is_the_exact_expectation(married, children, spouse_share,
                                                   orphan_share, maximum):
    """The expected capped shares equal the sum over every outcome (spouse or not, each
    child or not) of its probability x the scaled shares; and the expected total never
    exceeds the ceiling."""
    kids = np.array(children)
    spouse, orphans = dbp.capped_survivor_shares(married, kids, spouse_share, orphan_share,
                                                 maximum)
    want_spouse, want_orphans, = 0.0, np.zeros(len(kids))
    for outcome in itertools.product((0, 1), repeat=len(kids) + 1):
        m, x = outcome[0], np.array(outcome[1:])
        prob = (married if m else 1 - married) * np.prod(np.where(x, kids, 1 - kids))
        scale = dbp.survivor_scale(m * spouse_share + orphan_share * x.sum(), maximum)
        want_spouse += prob * m * spouse_share * scale
        want_orphans += prob * x * orphan_share * scale
    assert float(spouse) == pytest.approx(want_spouse, abs=1e-12)
    np.testing.assert_allclose(orphans, want_orphans, atol=1e-12)
    if maximum > 0:
        assert float(spouse) + orphans.sum() <= maximum + 1e-12


def test_ceiling_with_the_children_of_a_partner_by_hand():
    """Half the deaths leave a partner (all of whom claim) and three certain children;
    the other half leave none: the half with a partner claims 0.5 + 3 x 0.2 = 1.1 of a
    1.0 ceiling, so each share is scaled by 1 / 1.1 there. Spread independently (a
    spouse with 0.5, each child with 0.5) the ceiling would bind only one time in 16."""
    from spfsim.schemes.survivors import capped_shares_by_claim

    children = np.array([[[1.0, 1.0, 1.0]], [[0.0, 0.0, 0.0]]])  # (claim, x, k)
    spouse, orphans = capped_shares_by_claim(np.array([0.5]), np.array([0.5]), children,
                                             0.5, 0.2, 1.0)
    assert spouse[0] == pytest.approx(0.5 * 0.5 / 1.1)
    np.testing.assert_allclose(orphans[0], 0.5 * 0.2 / 1.1)
    spouse, orphans = dbp.capped_survivor_shares(0.5, np.array([0.5, 0.5, 0.5]), 0.5, 0.2,
                                                 1.0)
    assert float(spouse) == pytest.approx(0.5 * 0.5 * (1 - 1 / 8 + 1 / 8 / 1.1))


@settings(max_examples=40, deadline=None)
@given(leaves=st.floats(0.01, 1), claim=st.floats(0, 1),
       children=st.lists(st.floats(0, 1), min_size=1, max_size=4),
       maximum=st.floats(0, 2))
def test_ceiling_by_claim_is_the_independent_one_when_children_do_not_depend_on_it(
        leaves, claim, children, maximum):
    """When a deceased's children are the same whether or not they leave a partner, the
    ceiling's expectation over the two is that of independent chances (the spouse's
    claim ``claim`` x ``leaves``)."""
    from spfsim.schemes.survivors import capped_shares_by_claim

    kids = np.array([children])
    spouse, orphans = capped_shares_by_claim(np.array([claim * leaves]), np.array([leaves]),
                                             np.stack([kids, kids]), 0.5, 0.2, maximum)
    want_spouse, want_orphans = dbp.capped_survivor_shares(claim * leaves, kids[0], 0.5,
                                                           0.2, maximum)
    assert spouse[0] == pytest.approx(float(want_spouse), abs=1e-12)
    np.testing.assert_allclose(orphans[0], want_orphans, atol=1e-12)


def test_survivor_awards_by_hand():
    """Pensioners at 70 only (half the cell, 1,000 a year each), 10 % die: 1,000 x 0.5 x
    0.1 = 50 deaths per sex; 80 % of the men leave a wife 4 years younger, who appears at
    67 next year with half the pension."""
    population = np.full((101, 2), 1000.0)
    death_rate = np.zeros((101, 2))
    death_rate[70] = 0.1
    rules = SurvivorRules(0.5, 0.0, 17, np.array([0.8, 0.6]),
                          dbp.partner_age_weights([4, -3], 0.0), 0.0, 5, death_rate,
                          np.zeros(101), 0.5, population, population * 2)
    y = year_inputs(density=0.0)
    y.survivors = rules
    state = PensionState()
    state.active[:] = 0.0
    state.pensioners[70, :, 10] = 0.5
    state.pension[70, :, 10] = 0.5 * 1000.0
    state.refresh_tops()  # the arrays were written by hand
    deaths, money = state._survivor_deaths(y, death_rate, death_rate)
    fresh = PensionState()  # next year's cells, without survivors yet
    fresh._add_survivors(y, deaths, money)
    spouses = fresh.spouses * rules.next_population  # persons
    money = fresh.spouse_pension * rules.next_population
    orphans = fresh.orphans * rules.next_population
    assert spouses[70 - 4 + 1, 1] == pytest.approx(50 * 0.8)
    assert money[70 - 4 + 1, 1] == pytest.approx(50 * 0.8 * 0.5 * 1000.0)
    assert spouses[70 + 3 + 1, 0] == pytest.approx(50 * 0.6)
    assert spouses.sum() == pytest.approx(50 * 1.4)
    assert orphans.sum() == 0.0


def test_branch_off_by_default(small_model_dir, small_projection):
    ds = spfsim.load_model(small_model_dir).project()
    assert float(ds["beneficiaries_by_branch"].sel(branch="survivors").sum()) == 0.0


def test_survivors_in_the_cohort_engine(tmp_path, small_projection):
    ds = spfsim.load_model(survivors_model(tmp_path / "m")).project()
    pension = ds.sel(scheme="pension")
    survivors = pension["beneficiaries_by_branch"].sel(branch="survivors")
    assert np.all(survivors.sum("sex") > 0)
    # widows outnumber widowers: more men die and more of them leave a spouse
    assert np.all(survivors.sel(sex="female") > survivors.sel(sex="male"))
    np.testing.assert_allclose(pension["beneficiaries_by_branch"].sum(("sex", "branch")),
                               pension["beneficiaries"].sum(("age", "sex")), rtol=1e-12)
    np.testing.assert_allclose(pension["benefit_expenditure_by_branch"].sum("branch"),
                               pension["benefit_expenditure"], rtol=1e-12)
    base = small_projection.sel(scheme="pension")
    np.testing.assert_allclose(
        pension["benefit_expenditure"] - base["benefit_expenditure"],
        pension["benefit_expenditure_by_branch"].sel(branch="survivors"), rtol=1e-9)


def test_orphans_only_up_to_the_age_limit(tmp_path, small_projection):
    folder = survivors_model(tmp_path / "m")
    model = folder / "model.toml"
    model.write_text(model.read_text().replace("survivor_pension_share = 0.5",
                                               "survivor_pension_share = 0.0"))
    ds = spfsim.load_model(folder).project()
    extra = (ds["beneficiaries"] - small_projection["beneficiaries"]).sel(scheme="pension")
    assert float(extra.sel(age=slice(1, 17)).sum()) > 0
    assert float(abs(extra.sel(age=0)).sum()) == 0.0
    assert float(abs(extra.sel(age=slice(18, None))).sum()) < 1e-6


def test_micro_survivor_identities(tmp_path):
    """Fast (also without JIT): the branches add up, survivors' pensions are paid."""
    model = spfsim.load_model(survivors_model(tmp_path / "m"), end_year=2031)
    ds = model.project("micro", persons=3000, seed=6)
    pension = ds.sel(scheme="pension")
    np.testing.assert_allclose(pension["beneficiaries_by_branch"].sum(("sex", "branch")),
                               pension["beneficiaries"].sum(("age", "sex")), rtol=1e-12)
    np.testing.assert_allclose(pension["benefit_expenditure_by_branch"].sum("branch"),
                               pension["benefit_expenditure"], rtol=1e-12)
    assert np.all(pension["beneficiaries_by_branch"].sel(branch="survivors").sum("sex") > 0)


@pytest.mark.parametrize("engine", ["cohort", "micro"])
def test_spouses_paid_from_the_minimum_age(tmp_path, engine):
    """survivor_minimum_age = 45: the same spouses are entitled (the state does not depend
    on what is paid; common random numbers in the micro engine), but those under 45 are
    neither paid nor counted, in every year, the base year's reconstruction included;
    those of 45 and over exactly as without the age; the survivors' branch is the
    pension's expenditure less what the younger spouses were paid."""
    folder = survivors_model(tmp_path / "m")
    model = spfsim.load_model(folder, end_year=2035)
    options = {"persons": 3000, "seed": 6} if engine == "micro" else {}
    plain = model.project(engine, **options).sel(scheme="pension")
    later = model.with_parameters({"pension": {"survivor_minimum_age": 45}}).project(
        engine, **options).sel(scheme="pension")
    spouses = {name: ds["pensions_by_age"].sel(pension="spouse")
               for name, ds in (("plain", plain), ("later", later))}
    young, old = slice(0, 44), slice(45, None)
    assert float(spouses["plain"].sel(age=young).sum()) > 0
    assert float(spouses["later"].sel(age=young).sum()) == 0.0
    np.testing.assert_array_equal(spouses["later"].sel(age=old), spouses["plain"].sel(age=old))
    np.testing.assert_array_equal(later["beneficiaries"].sel(age=old),
                                  plain["beneficiaries"].sel(age=old))
    survivors = {name: ds["benefit_expenditure_by_branch"].sel(branch="survivors")
                 for name, ds in (("plain", plain), ("later", later))}
    assert np.all(survivors["later"] < survivors["plain"])
    np.testing.assert_allclose(later["benefit_expenditure"] - plain["benefit_expenditure"],
                               survivors["later"] - survivors["plain"], rtol=1e-9)


@pytest.mark.slow
def test_micro_agrees_with_cohort_on_survivors(tmp_path):
    """Survivors' pensioners and expenditure: 10 replications of 40,000 persons are
    unbiased for the cohort engine (see replication.py)."""
    model = spfsim.load_model(survivors_model(tmp_path / "m"))
    cohort = model.project()
    runs = [model.project("micro", persons=40_000, seed=70 + r) for r in range(10)]

    def get(ds, name):
        value = ds[name].sel(scheme="pension", branch="survivors")
        return (value.sum("sex") if "sex" in value.dims else value).values

    for name in ("beneficiaries_by_branch", "benefit_expenditure_by_branch"):
        t, big_t = replication_t(np.stack([get(ds, name) for ds in runs]), get(cohort, name))
        assert np.abs(t).max() <= 5.5, (name, np.abs(t).max())
        assert abs(big_t) <= 4.5, (name, big_t)


# --------------------------------------------------- survivors are persons who exist

def test_partner_age_weights_by_hand():
    """A point difference puts every partner x - d years old (in 15..100); a spread of
    2 years keeps the mean and gives weight to the neighbouring ages; persons under 15
    have no partner."""
    point = dbp.partner_age_weights([5, -5], 0.0)
    assert point[0, 40, 35] == 1.0
    assert point[1, 40, 45] == 1.0
    assert point[1, 98, 100] == 1.0  # 103 is in the open group
    assert point[0, 18, 15] == 1.0  # nobody has a partner under 15
    assert not point[:, :15].any()
    spread = dbp.partner_age_weights([5, -5], 2.0)
    np.testing.assert_allclose(spread[:, 15:].sum(axis=-1), 1.0)
    assert (spread[0, 50] * np.arange(101)).sum() == pytest.approx(45.0)
    assert spread[0, 50, 44] == pytest.approx(spread[0, 50, 46])
    assert 0.15 < spread[0, 50, 45] < 0.25  # normal density at 0 over a 1-year bin, sd 2


def test_availability_by_hand():
    """Claims on next year's cells: 30 on age 1 (from age 0) against 20 free persons are
    scaled by 2/3; ages 99 and 100 both move into 100, where 10 + 30 claims meet 20 free
    persons; elsewhere claims are met in full."""
    demand = np.zeros(101)
    demand[0], demand[99], demand[100], demand[50] = 30.0, 10.0, 30.0, 5.0
    free = np.full(101, 20.0)
    share = dbp.availability(demand, free)
    assert share[0] == pytest.approx(2 / 3)
    assert share[99] == share[100] == pytest.approx(0.5)
    assert share[50] == 1.0
    assert share[10] == 1.0  # no claims


def stressed_survivors_model(folder):
    """Every deceased leaves a spouse, wives' husbands 12 years older, and children who
    die young (25 % a year to 17) with their parents dying at 6 % a year: under the old
    rule (a spouse or child of any age counted whether or not one exists) the cohort
    engine paid 23 times as many widowers' pensions at 100 as there were men, and 12.7
    times as many orphans' pensions at 17 as there were girls; the micro engine, 2 and 4
    times (5,000 persons, seed 1)."""
    survivors_model(folder)
    set_csv_column(folder / "assumptions" / "mortality.csv", "mx",
                   lambda row: "0.25" if int(row["age"]) <= 17
                   else ("0.06" if int(row["age"]) < 60 else row["mx"]))
    toml = folder / "model.toml"
    toml.write_text(toml.read_text().replace(
        "spouse_age_difference = { male = 4, female = -3 }",
        "spouse_age_difference = { male = 4, female = -12 }").replace(
        "married_share = { male = 0.8, female = 0.6 }",
        "married_share = { male = 1.0, female = 1.0 }"))
    return folder


def survivors_over_population(ds) -> list:
    """The failed checks on spouses and orphans in payment, whatever their number."""
    return [f for f in invariant_findings(ds, [checks._pension_bounds])
            if f.where.get("pension") in ("spouse", "orphan") or "survivors" in f.check]


def test_cohort_survivors_never_exceed_the_population(tmp_path, monkeypatch):
    """For every year, age and sex, spouses and orphans in payment stay within the
    population of that age and sex; with the old rule (every claimed survivor exists:
    availability 1) the same model fails."""
    model = spfsim.load_model(stressed_survivors_model(tmp_path / "m"))
    ds = model.project()
    assert survivors_over_population(ds) == []
    pensions = ds["pensions_by_age"].sel(scheme="pension")
    assert float(pensions.sel(pension="spouse", age=100, sex="male").max()) > 0
    # the old rule in the NumPy statement of the branch (the compiled one has it built in)
    monkeypatch.setattr(cohort_kernels, "COMPILED", False)
    monkeypatch.setattr(dbp, "availability",
                        lambda demand, free: np.ones_like(np.asarray(demand, float)))
    with pytest.raises(spfsim.errors.ProjectionError, match="survivors' pensions"):
        model.project()


def test_default_model_widowers_within_the_men(default_projection):
    """The defect as found: the default model's widowers at 100 and over were 2.5 times
    the men of that age in 2050 and 8 times in 2075-2100; now a share below one."""
    spouses = default_projection["pensions_by_age"].sel(scheme="pension", pension="spouse")
    share = spouses / default_projection["population"]
    assert float(share.max()) < 1.0
    assert 0.0 < float(share.sel(age=100, sex="male", year=2075)) < 1.0


def test_micro_survivors_never_exceed_the_population(tmp_path):
    """Survivors' pensions go to persons who exist and have none: exact in every cell
    (also without JIT)."""
    model = spfsim.load_model(stressed_survivors_model(tmp_path / "m"), end_year=2035)
    ds = model.project("micro", persons=3000, seed=1)
    assert survivors_over_population(ds) == []
    pensions = ds["pensions_by_age"].sel(scheme="pension")
    assert float(pensions.sel(pension="orphan").sum()) > 0
    assert float(pensions.sel(pension="spouse").sum()) > 0


def test_micro_survivors_go_to_free_persons_by_hand():
    """Two pensioners die: a man of 70 (pension 1,000) married to a woman 4 years younger
    and a woman of 70 (pension 800) married to a man 3 years older. One woman of 67 is
    free (next year's age: the widow is placed there) and no man of 74: the widow is paid
    half the man's pension; the widower, who does not exist, nothing."""
    store = PersonStore.empty(8)
    rows = [(70, MALE, 1000.0), (70, FEMALE, 800.0), (67, FEMALE, 0.0), (30, MALE, 0.0)]
    for i, (a, s, pension) in enumerate(rows):
        store.pid[i], store.age[i], store.sex[i], store.pension[i] = i, a, s, pension
        store.status[i] = GONE if pension else INACTIVE
    store.size = len(rows)
    flags = np.array([1, 1, 0, 0, 0, 0, 0, 0], dtype=np.int8)
    weights = dbp.partner_age_weights([4, -3], 0.0)
    cells, kinds, amounts = np.empty(4, np.int64), np.empty(4, np.uint8), np.empty(4)
    claims = K.survivor_claims(store.pid, store.age, store.sex, store.pension, flags,
                               store.size, 1, 2030, 0.5, 0.0, 17, np.array([1.0, 1.0]),
                               np.cumsum(weights, axis=-1), np.ones((101, 2)),
                               np.ones((17, 2, 2)), np.zeros(101), np.ones(17),
                               np.zeros((0, 0, 0, 0)), 0.5, 0.0,
                               cells, kinds, amounts)
    assert claims == 2
    assert list(cells[:2]) == [67 * 2 + FEMALE, 74 * 2 + MALE]
    assert not flags.any()
    free = np.zeros((101, 2), dtype=np.int64)
    free[67, FEMALE] = free[30, MALE] = 1
    paid = K.award_survivors(store.pid, store.status, store.age, store.sex,
                             store.survivor_kind, store.survivor_pension, store.size, 1,
                             2030, free, cells, kinds, amounts, claims)
    assert paid == 1
    assert store.survivor_kind[2] == K.SPOUSE
    assert store.survivor_pension[2] == pytest.approx(500.0)
    assert store.survivor_kind[3] == K.NO_SURVIVOR


def test_selection_gives_each_cell_exactly_its_claims():
    """Algorithm S: 3 claims on a cell of 10 free persons (and one already a survivor)
    go to exactly 3 of them, each with probability 3/10 over many years."""
    n = 12
    store = PersonStore.empty(n)
    store.pid[:n] = np.arange(n)
    store.age[:n], store.sex[:n], store.status[:n] = 40, FEMALE, INACTIVE
    store.survivor_kind[0] = K.ORPHAN  # not free
    store.status[1] = GONE  # not here
    store.size = n
    free = np.zeros((101, 2), dtype=np.int64)
    free[40, FEMALE] = 10
    cells = np.full(3, 40 * 2 + FEMALE, dtype=np.int64)
    kinds = np.full(3, K.SPOUSE, dtype=np.uint8)
    chosen = np.zeros(n)
    for year in range(2000, 4000):
        store.survivor_kind[2:n] = K.NO_SURVIVOR
        paid = K.award_survivors(store.pid, store.status, store.age, store.sex,
                                 store.survivor_kind, store.survivor_pension, store.size, 1,
                                 year, free, cells, kinds, np.array([1.0, 2.0, 3.0]), 3)
        assert paid == 3
        assert (store.survivor_kind[2:n] == K.SPOUSE).sum() == 3
        chosen += store.survivor_kind == K.SPOUSE
    share = chosen[2:] / 2000
    assert np.all(np.abs(share - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 2000))


def test_survivor_ceiling_loop_matches_the_array_sums():
    """The compiled row loop of the ceiling and its NumPy form (used with Numba's JIT
    off) give the same shares, also where some children, or all of a row's, cannot exist
    (the loop leaves them out of the distributions); the loop writes the rows it is given
    and leaves the others as they were."""
    from spfsim.schemes import survivors

    rng = np.random.default_rng(7)
    married, children = rng.random(6), rng.random((6, 4)) * 0.8
    children[[0, 2, 3], [1, 0, 3]] = 0.0
    children[4] = 0.0
    children[5, 1:] = 0.0
    spouse, orphans = np.empty(6), np.empty((6, 4))
    survivors._capped_rows(married, children, np.arange(6), 0.5, 0.3, 0.7, spouse, orphans)
    want_spouse, want_orphans = survivors._capped_shares_arrays(married, children, 0.5,
                                                                0.3, 0.7)
    np.testing.assert_allclose(spouse, want_spouse, rtol=1e-13)
    np.testing.assert_allclose(orphans, want_orphans, rtol=1e-13)
    some_spouse, some_orphans = np.full(6, -1.0), np.full((6, 4), -1.0)
    survivors._capped_rows(married, children, np.array([1, 5]), 0.5, 0.3, 0.7, some_spouse,
                           some_orphans)
    np.testing.assert_array_equal(some_spouse[[1, 5]], spouse[[1, 5]])
    np.testing.assert_array_equal(some_orphans[[1, 5]], orphans[[1, 5]])
    assert (some_spouse[[0, 2, 3, 4]] == -1.0).all()
    assert (some_orphans[[0, 2, 3, 4]] == -1.0).all()


# --------------------------------------------------- survivors from the families

def test_children_scale_compiled_is_the_array_form():
    """The compiled children's scale (one call a year in a projection) equals its array
    form, used with Numba's JIT off, on the default model's rates and population, with
    child ages from none to beyond the fertile span's start."""
    from spfsim.schemes import survivors

    a = spfsim.load_model().assumptions
    for limit in (0, 1, 3, 17, 30):
        got = dbp.children_scale(a.asfr[10], a.base_population, limit)
        want = survivors._children_scale_arrays(a.asfr[10], a.base_population, limit)
        assert got.shape == want.shape == (limit,)
        np.testing.assert_allclose(got, want, rtol=1e-14)


def test_children_scale_by_hand():
    """100 women of every age 20-39 at a fertility of 0.1 give 190 children aged 0 (those
    of 21-39) and 180 aged 1; with 95 aged 0 and 270 aged 1 the scales are 0.5 and 1.5; a
    child age no rate gives (none: every woman under 20 at the birth) keeps 1."""
    asfr = np.zeros(101)
    asfr[20:40] = 0.1
    population = np.zeros((101, 2))
    population[20:40, FEMALE] = 100.0
    population[0], population[1] = [50.0, 45.0], [135.0, 135.0]
    np.testing.assert_allclose(dbp.children_scale(asfr, population, 2), [0.5, 1.5])
    population[20:40, FEMALE] = 0.0
    np.testing.assert_allclose(dbp.children_scale(asfr, population, 2), [1.0, 1.0])


def test_linked_survivors_by_hand():
    """kernels.linked_survivors. A man (slot 0, pension 1,000) dies leaving his partner
    (slot 1) and children aged 5 and 12 now (slots 2, 3; the second already an orphan's
    pensioner: not paid again) and one of 18 now (slot 4: 17 at the death, above the limit
    of 16); shares 0.5 and 0.2, ceiling 0.6: spouse and one orphan 0.7 > 0.6, scaled by
    6/7: widow 428.57, child 171.43. A woman (slot 5, pension 600) dies; her partner (slot
    6) died in the same step: no spouse; her child of 1 (slot 7) 0.2 x 600 = 120, its father
    (slot 6) gone. A pensioner (slot 8) dies with a partner (slot 9) who already has a
    survivor's pension: nothing paid. A death not flagged (slot 10, no qualifying
    service): its partner (slot 11) gets nothing."""
    persons = [(60, MALE), (55, FEMALE), (5, FEMALE), (12, MALE), (18, MALE),
               (40, FEMALE), (42, MALE), (1, FEMALE), (80, MALE), (75, FEMALE),
               (50, MALE), (48, FEMALE)]
    store = PersonStore.empty(len(persons))
    for i, (age, sex) in enumerate(persons):
        store.pid[i], store.age[i], store.sex[i], store.status[i] = i, age, sex, INACTIVE
    store.size = len(persons)
    for a, b in ((0, 1), (5, 6), (8, 9), (10, 11)):
        store.partner[a], store.partner[b] = b + 1, a + 1
    store.father[2:5] = 1
    store.mother[2:5] = 2
    store.mother[7], store.father[7] = 6, 7
    store.status[[0, 5, 6, 8, 10]] = GONE
    store.pension[[0, 5, 8]] = [1000.0, 600.0, 900.0]
    store.survivor_kind[[3, 9]] = K.ORPHAN, K.SPOUSE
    flags = np.zeros(len(persons), dtype=np.int8)
    flags[[0, 5, 8]] = 1
    spouses, orphans = K.linked_survivors(
        store.status, store.age, store.pension, flags, store.partner, store.mother,
        store.father, store.survivor_kind, store.survivor_pension, store.size, 0.5, 0.2, 16,
        0.6)
    assert (spouses, orphans) == (1, 2)
    assert store.survivor_kind[1] == K.SPOUSE
    assert store.survivor_pension[1] == pytest.approx(1000 * 0.5 * 0.6 / 0.7)
    assert store.survivor_kind[2] == K.ORPHAN
    assert store.survivor_pension[2] == pytest.approx(1000 * 0.2 * 0.6 / 0.7)
    assert store.survivor_pension[3] == 0.0  # had one already
    assert store.survivor_kind[4] == K.NO_SURVIVOR  # above the limit
    assert store.survivor_pension[7] == pytest.approx(120.0)
    assert store.survivor_pension[9] == 0.0
    assert store.survivor_kind[11] == K.NO_SURVIVOR
    assert not flags.any()


def test_partner_weights_are_the_partnered_who_stay():
    """partnerships.partner_weights: 100 men of 60, 30 of them with women of 55 and 20 with
    women of 58; 90 % of women of 55 and 80 % of 58 are still here a year later: a man of 60
    leaves a partner of 55 with 0.3 x 0.9 and of 58 with 0.2 x 0.8. A woman of 55 (50 of
    them) leaves her partner of 60 with 30 / 50 x his 0.95."""
    from spfsim.demography import partnerships as PS

    couples = np.zeros((101, 101))
    couples[55, 60], couples[58, 60] = 30.0, 20.0
    population = np.full((101, 2), 100.0)
    population[55, FEMALE] = 50.0
    following = population.copy()
    following[56, FEMALE], following[59, FEMALE] = 45.0, 80.0
    following[61, MALE] = 95.0
    weights = PS.partner_weights(couples, population, following)
    assert weights[MALE, 60, 55] == pytest.approx(0.27)
    assert weights[MALE, 60, 58] == pytest.approx(0.16)
    assert weights[MALE, 60].sum() == pytest.approx(0.43)
    assert weights[FEMALE, 55, 60] == pytest.approx(0.6 * 0.95)


def families_survivors_model(folder):
    """survivors_model with a families table and the spouses taken from it."""
    from model_factory import families_model

    families_model(folder)
    model = folder / "model.toml"
    text = model.read_text().replace("start_year = 1995", "start_year = 1995\n" + SURVIVORS)
    model.write_text(text.replace("married_share = { male = 0.8, female = 0.6 }\n",
                                  'survivor_partners = "families"\n')
                     .replace("spouse_age_difference = { male = 4, female = -3 }\n", ""))
    return folder


def test_survivor_partners_from_families_need_a_families_table(tmp_path):
    from spfsim.errors import AssumptionError

    folder = survivors_model(tmp_path / "m")
    model = folder / "model.toml"
    model.write_text(model.read_text().replace("married_share = { male = 0.8, female = 0.6 }",
                                               'survivor_partners = "families"'))
    with pytest.raises(AssumptionError) as error:
        spfsim.load_model(folder)
    assert "schemes.pension.survivor_partners" in str(error.value)
    assert "families table" in str(error.value)


@pytest.mark.slow
def test_micro_linked_survivors_near_the_cohort_expectation(tmp_path):
    """With the survivors' partners from the families, the micro engine pays the
    deceased's own partner and children, and the cohort engine expects them from the
    expected couples (demography.partnerships): each age's partners, a single person's
    chance of forming a partnership (which ends a spouse's pension in both engines) and a
    man's children linked to him at their birth. On the default model (8 runs of
    1,000,000 persons, tools/survivors_agreement.py) widows agree within sampling error
    in every year; the residuals are in docs/schemes.md. Here, on the small model (4 runs
    of 40,000 persons, 2026-2045; six runs spread about +-15 % a year around their mean,
    so the mean of four about 4 %): spouses' and orphans' pensions in payment within 8 %
    of the cohort engine in every year and within 5 % over the years. Before the partners'
    new partnerships and the fathers' own children, orphans ran 17-55 % above."""
    model = spfsim.load_model(families_survivors_model(tmp_path / "m"))
    cohort = model.project()
    runs = [model.project("micro", persons=40_000, seed=70 + r, poverty=False)
            for r in range(4)]

    def in_payment(ds, kind):
        return ds["pensions_by_age"].sel(scheme="pension", pension=kind).sum(
            ["age", "sex"]).values[1:]

    for kind in ("spouse", "orphan"):
        ratio = np.mean([in_payment(ds, kind) for ds in runs], axis=0) / in_payment(cohort,
                                                                                   kind)
        assert np.all(np.abs(ratio - 1.0) <= 0.08), (kind, ratio)
        assert abs(ratio.mean() - 1.0) <= 0.05, (kind, ratio)


@pytest.mark.slow
def test_micro_without_links_ends_spouses_pensions_as_the_cohort_engine(tmp_path):
    """With the survivors' partners from the families but a micro run without family
    links (families=False), no partnership shows who partners again, so a spouse's
    pension ends with the cohort engine's chance of a new partnership. Small model, 4 runs
    of 40,000 persons, 2026-2045: spouses' pensions within 10 % of the cohort engine in
    every year and within 5 % over the years (measured 0 to +7 %; without the chance the
    pensions ran 15 % above in the first year and 81 % by 2045)."""
    model = spfsim.load_model(families_survivors_model(tmp_path / "m"))
    cohort = model.project()
    runs = [model.project("micro", persons=40_000, seed=70 + r, families=False)
            for r in range(4)]

    def spouses(ds):
        return ds["pensions_by_age"].sel(scheme="pension", pension="spouse").sum(
            ["age", "sex"]).values[1:]

    ratio = np.mean([spouses(ds) for ds in runs], axis=0) / spouses(cohort)
    assert np.all(np.abs(ratio - 1.0) <= 0.10), ratio
    assert abs(ratio.mean() - 1.0) <= 0.05, ratio


def test_linked_survivors_start_without_a_jump(tmp_path):
    """The base year's survivors are reconstructed with the pensions that new partnerships
    ended (the first projection year's chances standing in for the past's): the cohort
    engine's spouses' pensions in payment change in the first projection year as in the
    next (within 2 points of growth; without it the default model's widowers fell 44 %
    in the first year, 7 % in the second)."""
    model = spfsim.load_model(end_year=2028).with_parameters(
        {"pension": {"survivor_partners": "families"}})
    spouses = model.project()["pensions_by_age"].sel(scheme="pension", pension="spouse")
    for sex in ("female", "male"):
        paid = spouses.sel(sex=sex).sum("age").values
        growth = paid[1:] / paid[:-1]
        assert abs(growth[0] - growth[1]) <= 0.02, (sex, growth)


# ------------------------------------- dual entitlement: the higher of two pensions

def test_survivor_above_own_by_hand():
    """Spread 0 (a person): the survivor's pension less her own, never negative."""
    above = dbp.rules.survivor_above_own
    assert above(1000.0, 600.0, 0.0) == pytest.approx(400.0)
    assert above(1000.0, 1500.0, 0.0) == 0.0
    assert above(1000.0, 0.0, 0.0) == 1000.0
    assert above(1000.0, 0.0, 0.7) == 1000.0  # no own pension: the whole of it
    assert above(0.0, 600.0, 0.7) == 0.0


@pytest.mark.parametrize(("survivor", "own", "spread"), [(1000.0, 600.0, 0.4),
                                                         (1000.0, 1500.0, 0.6),
                                                         (800.0, 800.0, 0.2)])
def test_survivor_above_own_is_the_mean_over_lognormal_amounts(survivor, own, spread):
    """The closed form against 2,000,000 draws of S lognormal with this mean and log-sd,
    O the own pension: within 0.5 % (the draws' standard error is below 0.15 %)."""
    gen = np.random.default_rng(5)
    n = 2_000_000
    s = survivor * np.exp(spread * gen.standard_normal(n) - spread ** 2 / 2)
    simulated = np.maximum(s - own, 0.0).mean()
    assert dbp.rules.survivor_above_own(survivor, own, spread) == pytest.approx(
        simulated, rel=5e-3)


@settings(max_examples=80, deadline=None)
@given(survivor=st.floats(1.0, 1e5), own=st.floats(1.0, 1e5), spread=st.floats(0.0, 2.0),
       more=st.floats(0.01, 1.0))
def test_survivor_above_own_is_bounded_and_grows_with_the_spread(survivor, own, spread,
                                                                 more):
    """The mean top-up is at least the top-up of the means (Jensen: max is convex), at
    most the survivor's pension, and a wider spread never lowers it."""
    above = dbp.rules.survivor_above_own
    value = above(survivor, own, spread)
    assert max(survivor - own, 0.0) * (1 - 1e-9) - 1e-9 <= value <= survivor * (1 + 1e-12)
    assert above(survivor, own, spread + more) >= value * (1 - 1e-9) - 1e-9


def test_spouses_beside_own_pensions_by_hand():
    """A cell with 10 % spouses' pensions of 1,000 a year (100 per person of the cell),
    30 % own pensions of 600 and 20 % of 1,500: half the spouses have no own pension and
    are counted (5 %); paid: 0.1 x (0.5 x 1,000 + 0.3 x 400 + 0.2 x 0) = 62."""
    from spfsim.schemes.survivors import spouses_beside_own_pensions
    at_means = np.ones((3, 4))  # every own pension at its class's mean
    counted, paid = spouses_beside_own_pensions(
        0.1, 100.0, np.array([0.3, 0.0, 0.2]), np.array([180.0, 0.0, 300.0]), 0.0,
        at_means)
    assert counted == pytest.approx(0.05)
    assert paid == pytest.approx(62.0)
    assert spouses_beside_own_pensions(0.0, 0.0, np.array([0.3]), np.array([180.0]),
                                       0.5, at_means) == (0.0, 0.0)


def test_spouses_beside_own_pensions_read_the_classes_shape():
    """The same cell with each class's own pensions at two nodes, half of its pensioners
    at 0.5 and half at 1.5 of its mean: the first class's at 300 and 900, top-ups 700 and
    100, 400 on average as at the mean (both below 1,000); the second's at 750 and
    2,250, top-ups 250 and 0, 125 where the mean's is 0. Paid: 0.1 x (0.5 x 1,000 + 0.3
    x 400 + 0.2 x 125) = 64.5; counted as before."""
    from spfsim.schemes.survivors import spouses_beside_own_pensions
    shape = np.array([[0.5, 1.5], [1.0, 1.0], [0.5, 1.5]])
    counted, paid = spouses_beside_own_pensions(
        0.1, 100.0, np.array([0.3, 0.0, 0.2]), np.array([180.0, 0.0, 300.0]), 0.0, shape)
    assert counted == pytest.approx(0.05)
    assert paid == pytest.approx(64.5)


def dual_entitlement_model(folder, spread: float = 0.0):
    survivors_model(folder)
    model = folder / "model.toml"
    model.write_text(model.read_text().replace(
        "survivor_maximum_share = 0.7",
        "survivor_maximum_share = 0.7\nsurvivor_with_own_pension = \"higher\"\n"
        f"pensions_in_payment_spread = {spread}"))
    return folder


def test_dual_entitlement_in_the_cohort_engine(tmp_path, monkeypatch):
    """Only the higher pension: the survivors' branch costs less and counts fewer
    spouses (those with an own pension are counted there), every year; the own pensions
    and the orphans are as without it; the compiled record and the NumPy one agree."""
    both = spfsim.load_model(survivors_model(tmp_path / "both")).project()
    model = spfsim.load_model(dual_entitlement_model(tmp_path / "higher", spread=0.3))
    higher = model.project()

    def branch(ds, name, b):
        return ds[name].sel(scheme="pension", branch=b).sum("sex") if "sex" in ds[
            name].dims else ds[name].sel(scheme="pension", branch=b)

    for name in ("beneficiaries_by_branch", "benefit_expenditure_by_branch"):
        assert np.all(branch(higher, name, "survivors") < branch(both, name, "survivors"))
        for b in ("old_age", "disability"):
            np.testing.assert_allclose(branch(higher, name, b), branch(both, name, b),
                                       rtol=1e-12)
    np.testing.assert_allclose(
        higher["pensions_by_age"].sel(scheme="pension", pension="orphan"),
        both["pensions_by_age"].sel(scheme="pension", pension="orphan"), rtol=1e-12)
    # more spread, more top-up
    wider = spfsim.load_model(dual_entitlement_model(tmp_path / "wider", spread=0.8))
    assert np.all(branch(wider.project(), "benefit_expenditure_by_branch", "survivors")
                  > branch(higher, "benefit_expenditure_by_branch", "survivors"))
    monkeypatch.setattr(cohort_kernels, "COMPILED", False)
    arrays = model.project()
    for name in ("beneficiaries_by_branch", "benefit_expenditure_by_branch",
                 "pensions_by_age"):
        np.testing.assert_allclose(arrays[name], higher[name], rtol=1e-10, atol=1e-9)


def test_micro_pays_a_widow_the_higher_pension_by_hand():
    """Three widows of 70 with a survivor's pension of 1,000: one with an own pension of
    600 (paid 400 more), one with none (1,000), one with 1,500 (nothing more). Only the
    one without an own pension counts as a survivor; with both paid, all three, 3,000."""
    from test_micro_kernels import run_year, small_store

    from spfsim.engine.micro.store import RETIRED
    rows = [{"age": 70, "sex": FEMALE, "status": status, "pension": own,
             "survivor_kind": K.SPOUSE, "survivor_pension": 1000.0}
            for status, own in ((RETIRED, 600.0), (INACTIVE, 0.0), (RETIRED, 1500.0))]
    for dual, paid, counted in ((True, 1400.0, 1), (False, 3000.0, 3)):
        counts, *_ = run_year(small_store(rows), dual_entitlement=dual, universal=())
        assert run_year.age_money[70, FEMALE, K.AGE_SURVIVORS] == pytest.approx(paid)
        assert counts[70, FEMALE, K.N_SPOUSES] == counted


@pytest.mark.slow  # statistical: 400,000 draws, half a minute with the JIT off
def test_base_year_pensions_are_spread_around_the_cohort_means():
    """The micro engine's base-year pensions in payment: each cell mean times a lognormal
    factor of mean 1 and the declared log-sd, keyed by the person's id (the same for a
    person whatever else is drawn), none with spread 0."""
    from spfsim import rng
    from spfsim.engine.micro.initial import _around_mean

    ids = np.arange(400_000, dtype=np.int64)
    means = np.full(len(ids), 1200.0)
    streams = (rng.INITIAL_PENSION, rng.INITIAL_PENSION_2)
    assert np.array_equal(_around_mean(means, 3, streams, ids, 0.0), means)
    spread = _around_mean(means, 3, streams, ids, 0.5)
    assert spread.mean() == pytest.approx(1200.0, rel=3e-3)
    assert np.log(spread).std() == pytest.approx(0.5, abs=3e-3)
    assert np.array_equal(_around_mean(means[::7], 3, streams, ids[::7], 0.5), spread[::7])
    survivors = _around_mean(means, 3, (rng.INITIAL_SURVIVOR_PENSION,
                                        rng.INITIAL_SURVIVOR_PENSION_2), ids, 0.5)
    assert abs(np.corrcoef(np.log(spread), np.log(survivors))[0, 1]) < 0.01


def test_base_year_own_pensions_take_their_class_shape():
    """With dual entitlement the micro engine's base-year own pensions are their cells'
    means times their class's shape (PensionState.own_shape) at a band drawn uniformly by
    the person's id: only the shape's values, each band about as often, the cell's mean
    kept in expectation; a class at its means (ones) keeps them."""
    from types import SimpleNamespace

    from spfsim.engine.micro.initial import _in_class_shape

    n = 60_000  # 30,000 in the shaped class: a band's share has a standard error of 0.0025
    ids = np.arange(n, dtype=np.int64)
    shape = np.ones((2, 41, 4))
    shape[1, 40] = [0.2, 0.7, 1.1, 2.0]
    store = SimpleNamespace(pension=np.full(n, 1200.0),
                            service=np.where(ids % 2 == 0, 40, 10).astype(np.uint8))
    state = SimpleNamespace(own_shape=shape)
    drawn = _in_class_shape(store, slice(0, n), ids, state, 1, 3)
    shaped = drawn[ids % 2 == 0] / 1200.0
    assert set(np.round(shaped, 12)) == {0.2, 0.7, 1.1, 2.0}
    counts = np.unique(shaped, return_counts=True)[1]
    assert np.all(np.abs(counts / shaped.size - 0.25) < 0.0125)
    assert shaped.mean() == pytest.approx(1.0, rel=0.02)  # standard error 0.004
    assert np.all(drawn[ids % 2 == 1] == 1200.0)
    assert np.array_equal(_in_class_shape(store, slice(0, n), ids, state, 1, 3), drawn)
