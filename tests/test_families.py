"""Families in the micro engine (engine.micro.families): links, events, households and
their identities, by hand-built cases and over whole runs (threads, chunks, reforms)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from model_factory import families_model, write_csv
from replication import run_with_threads

import spfsim
from spfsim.demography import project_population
from spfsim.economy import project_economy
from spfsim.engine.micro import families as F
from spfsim.engine.micro.engine import MicroSettings, run_micro
from spfsim.engine.micro.store import FEMALE, GONE, INACTIVE, MALE, PersonStore
from spfsim.errors import AssumptionError, SpfsimError

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")

def tables(partnered=0.0, separation=0.0, leave_home=0.0, difference=0.0, spread=0.0):
    shape = (101, 2)
    return {"partnered": np.full(shape, partnered), "separation": np.full(shape, separation),
            "leave_home": np.full(shape, leave_home),
            "partner_age_difference": np.full(shape, difference),
            "partner_age_spread": np.full(shape, spread)}


def store_of(persons):
    """A store of (age, sex) persons with ids 0.., all inactive, no links."""
    store = PersonStore.empty(len(persons) + 4)
    for i, (age, sex) in enumerate(persons):
        store.pid[i], store.age[i], store.sex[i], store.status[i] = i, age, sex, INACTIVE
    store.size = len(persons)
    store.left_home[:store.size] = 1
    return store


def year(store, seed=1, when=2030, pensions=F.PENSIONS_IGNORED, **rates):
    counts = np.zeros((101, 2, F.N_FAMILY_COUNTS), dtype=np.int64)
    sizes = np.zeros(F.N_SIZES, dtype=np.int64)
    t = tables(**rates)
    F.family_year(store.pid, store.status, store.age, store.sex, store.partner, store.mother,
                  store.father, store.household, store.left_home, store.size, seed, when,
                  t["partnered"], t["separation"], t["leave_home"],
                  t["partner_age_difference"], t["partner_age_spread"], counts, sizes,
                  store.survivor_kind, store.survivor_pension, pensions,
                  np.full(store.size, 7, dtype=np.int32))  # scratch: its values unused
    return counts, sizes


def findings(store):
    return F.family_findings(store.status, store.sex, store.partner, store.mother,
                             store.father, store.household, store.left_home, store.size)


def link(store, i, j):
    store.partner[i], store.partner[j] = store.pid[j] + 1, store.pid[i] + 1


def test_hand_built_household():
    """Two partners (ids 0, 1), their children of 8 and 5 at home (ids 3, 4, father the
    partner), a pensioner living alone (id 2), a son of 19 who left home (id 5), and a girl
    of 16 at home whose baby (id 7) lives with her, in her mother's household (id 6)."""
    store = store_of([(40, MALE), (38, FEMALE), (70, FEMALE), (8, FEMALE), (5, MALE),
                      (19, MALE), (45, FEMALE), (0, MALE), (16, FEMALE)])
    link(store, 0, 1)
    for child in (3, 4):
        store.mother[child], store.father[child], store.left_home[child] = 2, 1, 0
    store.mother[5] = 2  # left home: a household of his own
    store.mother[8], store.left_home[8] = 7, 0  # the girl of 16 (slot 8) at her mother's
    store.mother[7], store.left_home[7] = 9, 0  # the baby (slot 7), with its mother
    _, sizes = year(store)
    assert list(store.household[:9]) == [1, 1, 3, 1, 1, 6, 7, 7, 7]
    assert list(sizes[:4]) == [2, 0, 1, 1]  # pensioner, son: alone; mother, girl, baby: 3
    assert sizes.sum() == 4
    assert (np.arange(1, F.N_SIZES + 1) * sizes).sum() == 9
    assert not findings(store).any()


def test_partnerships_form_to_the_target_with_the_nearest_single_man():
    """Target 1, no age difference: the women of 30 ask in the order of their keys (a
    draw on each one's id: not their slots); the first partners the man of 30, the second
    the nearest single man (32: searched 30, 31, 29, 32), the third none (the man of 34 is
    more than AGE_SEARCH years away)."""
    from spfsim import rng

    store = store_of([(30, FEMALE), (30, FEMALE), (30, FEMALE), (30, MALE), (32, MALE),
                      (34, MALE)])
    counts, _ = year(store, partnered=1.0)
    turns = np.argsort([rng.uniform(1, rng.PARTNER_ORDER, i, 2030) for i in range(3)])
    first, second, third = turns
    assert store.partner[first] == 4
    assert store.partner[second] == 5
    assert store.partner[third] == 0
    assert list(store.partner[3:6]) == [first + 1, second + 1, 0]
    assert not findings(store).any()
    assert counts[30, FEMALE, F.F_FORMED] == 2
    assert counts[30, MALE, F.F_FORMED] == counts[32, MALE, F.F_FORMED] == 1
    assert sorted(store.household[:6]) == sorted([min(first, 3) + 1, min(first, 3) + 1,
                                                  min(second, 4) + 1, min(second, 4) + 1,
                                                  third + 1, 6])


def test_every_woman_asks_at_her_drawn_age_before_anyone_searches_further():
    """Two women of 30 drawing partners of 32 (two single men there) and two of 31
    drawing 33 (one single man): in the first round each asks at her drawn age, so both
    women of 30 partner the men of 32 and one of 31 the man of 33; the other woman of 31
    finds no one at 34 (+1) and none left at 32 (-1), whatever the order of the turns (20
    seeds). When each woman searched all her ages before the next asked, a woman of 31
    who came first could take a man of 32 from a woman of 30 who drew him: the engines
    then differed (demography.partnerships.form grants each age's askers first)."""
    for seed in range(1, 21):
        store = store_of([(30, FEMALE), (30, FEMALE), (31, FEMALE), (31, FEMALE),
                          (32, MALE), (32, MALE), (33, MALE)])
        counts, _ = year(store, seed=seed, partnered=1.0, difference=2.0)
        partner_age = [store.age[store.partner[i] - 1] if store.partner[i] else 0
                       for i in range(4)]
        assert partner_age[:2] == [32, 32], seed
        assert sorted(partner_age[2:]) == [0, 33], seed
        assert counts[30, FEMALE, F.F_FORMED] == 2
        assert counts[31, FEMALE, F.F_FORMED] == 1
        assert not findings(store).any()


def pensioned_store():
    """Single persons, all partnering at a target of 1 with no age difference: a widow
    (40) and a widower (40) with spouses' pensions, a girl of 16 with an orphan's and a
    man of 16, a man of 42 without a pension."""
    from spfsim.engine.micro.counters import ORPHAN, SPOUSE

    store = store_of([(40, FEMALE), (40, MALE), (16, FEMALE), (16, MALE), (42, MALE)])
    store.survivor_kind[:3] = [SPOUSE, SPOUSE, ORPHAN]
    store.survivor_pension[:3] = [3000.0, 2000.0, 500.0]
    return store


def test_a_new_partnership_ends_a_spouses_pension():
    """With the survivors' partners from the families (PENSION_ENDS) the widow partners the
    widower (the nearest single man of 40) and both pensions end; the orphan partners the
    man of 16 and keeps hers. Without the rule the same partnerships end nothing."""
    from spfsim.engine.micro.counters import NO_SURVIVOR, ORPHAN

    store = pensioned_store()
    year(store, pensions=F.PENSION_ENDS, partnered=1.0)
    assert list(store.partner[:4]) == [2, 1, 4, 3]
    assert list(store.survivor_kind[:3]) == [NO_SURVIVOR, NO_SURVIVOR, ORPHAN]
    assert list(store.survivor_pension[:3]) == [0.0, 0.0, 500.0]
    store = pensioned_store()
    year(store, partnered=1.0)
    assert list(store.partner[:4]) == [2, 1, 4, 3]
    assert list(store.survivor_pension[:3]) == [3000.0, 2000.0, 500.0]


def test_the_base_years_spouses_pensioners_stay_single():
    """In the base year (PENSIONERS_SINGLE) the spouses' pensioners, who have lost their
    partner, form no partnership: the widow and the widower stay single and paid, the girl
    with an orphan's pension partners the man of 16 (target 1), and the other women of
    the widow's age partner at a chance raised to keep the age's share: half the women of
    40 paid, a target of 0.5, so the other woman of 40 partners for sure, with the man of
    40 who is not paid (the widower is not chosen).
    """
    from spfsim.engine.micro.counters import SPOUSE

    store = pensioned_store()
    store_size = store.size
    extra = store_of([(40, FEMALE), (40, MALE), (41, MALE), (43, MALE)])
    for name in ("pid", "age", "sex", "status", "left_home"):
        getattr(store, name)[store_size:store_size + 4] = getattr(extra, name)[:4]
    store.pid[store_size:store_size + 4] += store_size
    store.size += 4
    counts = np.zeros((101, 2, F.N_FAMILY_COUNTS), dtype=np.int64)
    sizes = np.zeros(F.N_SIZES, dtype=np.int64)
    partnered = np.full((101, 2), 1.0)
    partnered[40] = 0.5
    t = tables()
    F.initial_families(store.pid, store.status, store.age, store.sex, store.partner,
                       store.mother, store.father, store.household, store.left_home,
                       store.size, 1, 2025, partnered, t["leave_home"],
                       t["partner_age_difference"], t["partner_age_spread"], np.zeros(101),
                       counts, sizes, store.survivor_kind, F.PENSIONERS_SINGLE,
                       np.full(store.size, -3, dtype=np.int32))
    assert store.partner[0] == store.partner[1] == 0
    assert list(store.survivor_kind[:2]) == [SPOUSE, SPOUSE]
    assert store.partner[2] == 4
    assert store.partner[5] == 7  # the other woman of 40, the unpaid man of 40
    assert not findings(store).any()


def test_separation_and_departures_clear_both_links():
    store = store_of([(50, MALE), (48, FEMALE), (60, MALE), (58, FEMALE), (20, MALE)])
    link(store, 0, 1)
    link(store, 2, 3)
    store.mother[4], store.father[4] = 4, 3
    store.status[2] = GONE  # died or left: his partner is widowed, the son loses the link
    counts, _ = year(store, separation=1.0)
    assert list(store.partner[[0, 1, 3, 4]]) == [0, 0, 0, 0]
    assert counts[48, FEMALE, F.F_SEPARATED] == 1
    assert counts[50, MALE, F.F_SEPARATED] == 1
    assert counts[58, FEMALE, F.F_WIDOWED] == 1
    assert store.father[4] == 0
    assert store.mother[4] == 4
    assert not findings(store).any()


def test_no_separation_at_rate_zero_and_leaving_home():
    store = store_of([(50, MALE), (48, FEMALE), (17, FEMALE)])
    link(store, 0, 1)
    store.mother[2], store.left_home[2] = 2, 0
    counts, _ = year(store, separation=0.0, leave_home=1.0)
    assert store.partner[0] == 2
    assert store.partner[1] == 1
    assert store.left_home[2] == 1
    assert counts[17, FEMALE, F.F_LEFT_HOME] == 1
    assert store.household[2] == 3  # on her own


@pytest.mark.parametrize(("break_it", "finding"), [
    (lambda s: s.partner.__setitem__(0, 3), 1),  # my partner's partner is someone else
    (lambda s: s.status.__setitem__(1, GONE), 3),  # a partner no longer here
    (lambda s: s.household.__setitem__(2, 1), 4),  # named by a person of another household
    (lambda s: s.mother.__setitem__(3, 99), 0),  # a link outside the store
])
def test_findings_catch_broken_links(break_it, finding):
    store = store_of([(50, MALE), (48, FEMALE), (30, FEMALE), (28, FEMALE)])
    link(store, 0, 1)
    year(store)
    assert not findings(store).any()
    break_it(store)
    assert findings(store)[finding] > 0


def simulate(folder, persons=3000, seed=4, chunk_size=512, **settings):
    a = spfsim.load_model(folder).assumptions
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb, a.net_migration)
    econ = project_economy(a, demo.population)
    return run_micro(a, demo, econ, MicroSettings(persons, seed, chunk_size=chunk_size,
                                                  **settings))


def test_a_run_keeps_the_identities_and_links_births(tmp_path):
    """Over a run the identities hold every year (checked by the engine); babies are linked
    to a mother 15-49 years older; the women's partnered share approaches its target."""
    folder = families_model(tmp_path / "m", end=2040)
    result = simulate(folder, persons=4000)
    s = result.store
    here = s.status[:s.size] != GONE
    born = here & (s.birth_year[:s.size] > 2026) & (s.mother[:s.size] > 0)
    assert born.sum() > 100
    mothers = s.mother[:s.size][born] - 1
    gap = s.age[:s.size][mothers].astype(int) - s.age[:s.size][born]
    assert gap.min() >= 15
    assert gap.max() <= 50
    assert (s.sex[:s.size][mothers] == FEMALE).all()
    family = result.family / result.weight
    population = result.demography.population / result.weight
    share = family[-1, 30:60, FEMALE, F.F_PARTNERED].sum() / population[-1, 30:60,
                                                                          FEMALE].sum()
    assert share == pytest.approx(0.6, abs=0.05)
    households = result.households[-1] / result.weight
    assert (np.arange(1, F.N_SIZES + 1) * households).sum() == pytest.approx(
        population[-1].sum())


def test_identical_for_any_chunk_size(tmp_path):
    folder = families_model(tmp_path / "m", end=2035)
    one = simulate(folder, chunk_size=97)
    two = simulate(folder, chunk_size=4096)
    for name, array in one.store.view().items():
        assert np.array_equal(array, two.store.view()[name]), name
    assert np.array_equal(one.family, two.family)
    assert np.count_nonzero(one.store.partner) > 200


def test_reform_of_a_benefit_sees_the_same_families(tmp_path):
    """Common random numbers: a reform of a benefit's amount leaves every family link."""
    folder = families_model(tmp_path / "m", end=2032)
    base = spfsim.load_model(folder).project("micro", persons=2000, seed=6)
    text = (folder / "model.toml").read_text()
    assert "accrual_rate = 0.02" in text
    reformed_folder = families_model(tmp_path / "r", end=2032)
    (reformed_folder / "model.toml").write_text(text.replace("accrual_rate = 0.02",
                                                             "accrual_rate = 0.025"))
    reform = spfsim.load_model(reformed_folder).project("micro", persons=2000, seed=6)
    for name in ("persons_by_family_status", "family_events", "households_by_size"):
        assert np.array_equal(base[name].values, reform[name].values), name
    assert not np.array_equal(base["benefit_expenditure"].values,
                              reform["benefit_expenditure"].values)


@pytest.mark.slow
def test_identical_for_one_and_two_threads(tmp_path):
    folder = families_model(tmp_path / "m", end=2035)
    script = textwrap.dedent(f"""
        import json, sys, numba, numpy as np, spfsim
        ds = spfsim.load_model({str(folder)!r}).project("micro", persons=6000, seed=3,
                                                         chunk_size=512)
        ds[["persons_by_family_status", "family_events", "households_by_size",
            "population"]].to_netcdf(sys.argv[1])
        print(json.dumps(numba.get_num_threads()))
    """)
    import xarray as xr

    out = [xr.load_dataset(run_with_threads(script, tmp_path / f"t{n}.nc", n))
           for n in (1, 2)]
    for name in out[0].data_vars:
        assert np.array_equal(out[0][name].values, out[1][name].values), name


def test_families_refused_across_workers_with_the_way_out(tmp_path):
    folder = families_model(tmp_path / "m", end=2027)
    with pytest.raises(SpfsimError, match="no-families"):
        _split(folder)
    without = simulate(folder, persons=300, families=False)
    assert without.family is None
    assert not without.store.partner.any()


def _split(folder):
    a = spfsim.load_model(folder).assumptions
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb, a.net_migration)
    return run_micro(a, demo, project_economy(a, demo.population), MicroSettings(100, 1),
                     client=object())


def test_a_bad_families_table_is_named(tmp_path):
    folder = families_model(tmp_path / "m", partnered=1.5)
    with pytest.raises(AssumptionError) as error:
        spfsim.load_model(folder)
    assert "families.csv" in str(error.value)
    assert "partnered" in str(error.value)


def test_default_families_set_is_its_build_script_output(shared_data, tmp_path):
    """assumptions/families-usa-ssa2024 is what tools/build_families_table.py makes of the
    data folder (SSA's population by marital status), byte for byte."""
    from pathlib import Path

    from repo_tools import load_tool

    tool = load_tool("build_families_table")
    tool.main(["--data", str(shared_data), "--out", str(tmp_path / "families")])
    shipped = Path(tool.DEFAULT_OUT)
    for name in ("families.csv", "assumptions.toml", "README.md"):
        assert (tmp_path / "families" / name).read_bytes() == (shipped / name).read_bytes()
    partnered = spfsim.load_model(None).assumptions.families["partnered"][0]
    assert 0.6 < partnered[45, FEMALE] < 0.75  # SSA 2023: about two thirds married at 45


@pytest.mark.slow  # statistical, several thousand couples over ten years
def test_widowhood_follows_the_partners_mortality(tmp_path, monkeypatch):
    """Partnerships ended by death are those the mortality implies.

    At the start of each year the couples' ages (a, b) are taken from the store; a woman
    is widowed during the year with probability q_m(b) (1 - q_f(a)), her partner dying
    and she not (the small model has no emigration and no disability), and symmetrically
    for men; q = 1 - S(x + 1), the engine's death rates (engine.cohort.death_rates). The
    year's widowhood events (family_events, partner_died_or_left) are a sum of
    independent Bernoulli draws given the couples: over all years their total W has mean
    E = sum of the probabilities and variance V = sum p (1 - p); |W - E| / sqrt(V) < 4
    (about 1 in 16,000 false alarms), for women, for men, and for women under and over
    65 separately."""
    from spfsim.engine.cohort import death_rates
    from spfsim.engine.micro import population as P

    folder = families_model(tmp_path / "m", end=2036, separation=0.0)
    model = spfsim.load_model(folder)
    a = model.assumptions
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb, a.net_migration)
    expected = {key: [0.0, 0.0] for key in ("women", "men", "women<65", "women65+")}
    observed = dict.fromkeys(expected, 0.0)
    year_index = {"k": 0}
    count_states, family_year = P.Population.count_states, P.Population.family_year

    def start_of_year(self, *args):
        s, k = self.store, year_index["k"]
        q = death_rates(demo.survival[k])
        here = np.flatnonzero((s.status[:s.size] != GONE) & (s.sex[:s.size] == FEMALE)
                              & (s.partner[:s.size] != 0))
        men = s.partner[here] - 1
        wife, husband = s.age[here].astype(int), s.age[men].astype(int)
        for key, p, ages in (("women", q[husband, MALE] * (1 - q[wife, FEMALE]), wife),
                             ("men", q[wife, FEMALE] * (1 - q[husband, MALE]), wife)):
            _add(expected[key], p)
            if key == "women":
                _add(expected["women<65"], p[ages < 65])
                _add(expected["women65+"], p[ages >= 65])
        return count_states(self, *args)

    def end_of_year(self, seed, year, tables, *pensions):
        counts, sizes = family_year(self, seed, year, tables, *pensions)
        widowed = counts[..., F.F_WIDOWED]
        observed["women"] += widowed[:, FEMALE].sum()
        observed["men"] += widowed[:, MALE].sum()
        # ages at 1 July of the next year: under 65 at the start is under 66 now
        observed["women<65"] += widowed[:66, FEMALE].sum()
        observed["women65+"] += widowed[66:, FEMALE].sum()
        year_index["k"] += 1
        return counts, sizes

    monkeypatch.setattr(P.Population, "count_states", start_of_year)
    monkeypatch.setattr(P.Population, "family_year", end_of_year)
    run_micro(a, demo, project_economy(a, demo.population), MicroSettings(20_000, 5))
    for key, (mean, variance) in expected.items():
        assert mean > 50, key
        assert abs(observed[key] - mean) < 4 * np.sqrt(variance), (key, observed[key], mean)


def _add(moments: list[float], p: np.ndarray) -> None:
    moments[0] += float(p.sum())
    moments[1] += float((p * (1 - p)).sum())


def test_leaving_home_is_counted_only_for_those_with_a_parent_here():
    """A person of 20 with no parent here (an immigrant) is marked as having left, not
    counted as leaving; a child whose only parent is gone likewise."""
    store = store_of([(20, MALE), (40, FEMALE), (10, FEMALE)])
    store.left_home[[0, 2]] = 0
    store.mother[2] = 2
    store.status[1] = GONE
    counts, _ = year(store, leave_home=0.0)
    assert list(store.left_home[[0, 2]]) == [1, 1]
    assert counts[..., F.F_LEFT_HOME].sum() == 0


def arrive(store, first_slot, asfr, partnered=0.0, difference=0.0, spread=0.0):
    """families.link_arriving_families for slots first_slot.. of ``store``, the families
    tables the same at every age."""
    rates = tables(partnered=partnered, difference=difference, spread=spread)
    F.link_arriving_families(store.pid, store.status, store.age, store.sex, store.partner,
                             store.mother, store.father, store.left_home, first_slot,
                             store.size, 1, 2030, asfr, rates["partnered"],
                             rates["partner_age_difference"], rates["partner_age_spread"])


def test_immigrant_children_arrive_with_an_immigrant_mother():
    """Fertility only at 25: the arriving child of 5 gets the arriving woman of 30 (not the
    resident woman of 30); the child of 3 finds no arriving woman of 28 and has none."""
    store = store_of([(30, FEMALE), (40, MALE), (30, FEMALE), (5, MALE), (32, MALE),
                      (3, FEMALE)])
    asfr = np.zeros(101)
    asfr[25] = 1.0
    arrive(store, 2, asfr)
    assert list(store.mother[:6]) == [0, 0, 0, 3, 0, 0]
    assert not store.partner.any()  # no couples at a partnered share of 0
    store.left_home[[3, 5]] = 0
    year(store)
    assert store.household[3] == 3  # with his mother
    assert store.left_home[5] == 1  # no parent here: on her own
    assert not findings(store).any()


def test_immigrants_arrive_as_couples_with_their_children():
    """Everyone partnered, partners the same age: the arriving woman of 30 arrives with the
    arriving man of 30 (not the resident single man of 30, nor the arriving man of 45), and
    her child of 5 has him as father; the household is the three of them."""
    store = store_of([(30, MALE), (30, FEMALE), (5, MALE), (45, MALE), (30, MALE)])
    asfr = np.zeros(101)
    asfr[25] = 1.0
    arrive(store, 1, asfr, partnered=1.0)
    assert list(store.partner[:5]) == [0, 5, 0, 0, 2]
    assert (store.mother[2], store.father[2]) == (2, 5)
    assert store.left_home[1] == store.left_home[4] == 1
    store.left_home[2] = 0
    year(store, partnered=1.0)
    assert store.household[2] == store.household[1] == store.household[4] == 2
    assert not findings(store).any()


def test_a_run_with_immigrant_families_keeps_the_identities(tmp_path):
    """Immigrants of every age up to 40: the children among them are linked on arrival,
    and the identities hold to the end of the run (checked by the engine and here)."""
    folder = families_model(tmp_path / "m", end=2031)
    years = range(2025, 2032)
    write_csv(folder / "assumptions" / "migration.csv",
              ["year", "age", "sex", "net_migration"],
              [[y, a, s, 400.0 if a <= 40 else 0.0] for y in years for a in range(101)
               for s in ("male", "female")])
    result = simulate(folder, persons=3000)
    s = result.store
    assert not F.family_findings(s.status, s.sex, s.partner, s.mother, s.father,
                                 s.household, s.left_home, s.size).any()
    arrived_young = (s.pid[:s.size] >= 3000) & (s.birth_year[:s.size] <= 2025) & (
        s.age[:s.size] < 15)  # ids after the base population, born before arriving
    assert arrived_young.sum() > 100
    assert (s.mother[:s.size][arrived_young] > 0).mean() > 0.5


def _many_linked_persons(n, seed=5):
    """A store of ``n`` persons of random ages and sexes, a tenth gone, couples among the
    men and women here and children living with a mother here: the family passes then span
    several chunks of slots (families.FAMILY_CHUNK)."""
    r = np.random.default_rng(seed)
    store = PersonStore.empty(n)
    store.size = n
    store.pid[:n] = np.arange(n)
    store.age[:n] = r.integers(0, 101, n)
    store.sex[:n] = r.integers(0, 2, n)
    store.status[:n] = np.where(r.uniform(size=n) < 0.1, GONE, INACTIVE)
    store.left_home[:n] = 1
    here = store.status[:n] != GONE
    adults = here & (store.age[:n] >= 20)
    women = r.permutation(np.flatnonzero(adults & (store.sex[:n] == FEMALE)))
    men = r.permutation(np.flatnonzero(adults & (store.sex[:n] == MALE)))
    couples = min(len(women), len(men)) // 2
    store.partner[women[:couples]] = men[:couples] + 1
    store.partner[men[:couples]] = women[:couples] + 1
    children = np.flatnonzero(here & (store.age[:n] < 20))
    store.mother[children] = r.choice(women, len(children)) + 1
    store.left_home[children] = 0
    return store


def test_the_family_passes_over_several_chunks_are_one_pass_in_slot_order():
    """Step 4's lists (families._singles, in parallel over chunks of slots) are those of one
    pass in slot order, from the first slot and from a later one (the arriving immigrants'),
    and step 5's household sizes count every household's members, over 2.5 chunks."""
    from spfsim import rng

    n = int(2.5 * F.FAMILY_CHUNK)
    store = _many_linked_persons(n)
    s = store.arrays()
    p_form = np.linspace(0.0, 0.5, 101)
    for lo in (0, 1000):
        first, slots, forming, keys, count = F._singles(
            s["pid"], s["status"], s["age"], s["sex"], s["partner"], lo, n, 3, 2030, p_form,
            rng.PARTNERSHIP_STREAMS, s["survivor_kind"], F.PENSIONS_IGNORED,
            np.full(n, 2, dtype=np.uint8))  # scratch: left from before, overwritten
        single = np.zeros(n, dtype=bool)
        single[lo:] = ((s["status"][lo:n] != GONE) & (s["partner"][lo:n] == 0)
                       & (s["age"][lo:n] >= F.MIN_PARTNER_AGE))
        men = np.flatnonzero(single & (s["sex"][:n] == MALE))
        men = men[np.argsort(s["age"][men], kind="stable")]  # by age, in slot order
        assert np.array_equal(slots, men)
        assert np.array_equal(first, np.r_[0, np.cumsum(np.bincount(s["age"][men],
                                                                    minlength=101))])
        draws = rng.uniforms(3, rng.PARTNERSHIP, s["pid"][:n].astype(np.int64), 2030)
        women = np.flatnonzero(single & (s["sex"][:n] == FEMALE)
                               & (draws < p_form[s["age"][:n]]))
        assert count == len(women) > 0
        assert np.array_equal(forming, women)
        assert np.array_equal(keys, rng.uniforms(3, rng.PARTNER_ORDER,
                                                 s["pid"][women].astype(np.int64), 2030))
    counts = np.zeros((101, 2, F.N_FAMILY_COUNTS), dtype=np.int64)
    sizes = np.zeros(F.N_SIZES, dtype=np.int64)
    F.households(s["status"], s["age"], s["sex"], s["partner"], s["mother"], s["father"],
                 s["household"], s["left_home"], n, counts, sizes,
                 np.full(n + 5, 9, dtype=np.int32))  # scratch, longer than the slots
    members = np.bincount(s["household"][:n], minlength=n + 1)[1:]
    expected = np.bincount(np.minimum(members[members > 0], F.N_SIZES), minlength=13)[1:]
    assert np.array_equal(sizes, expected)
    assert sizes[1:].sum() > 0  # couples and children at home: households of several
    assert not findings(store).any()


def test_the_flagged_mothers_are_taken_in_slot_order_and_their_flags_cleared():
    """families.take_mothers: the j-th baby's mother is the j-th flagged slot (a link,
    slot + 1), its father her partner's link then (0 for none); the flags are cleared."""
    flags = np.zeros(10, dtype=np.int8)
    flags[[2, 5, 7]] = 1
    partner = np.zeros(10, dtype=np.int32)
    partner[5], partner[7] = 9, 4
    mothers, fathers = F.take_mothers(flags, partner, 10, 3)
    assert mothers.tolist() == [3, 6, 8]
    assert fathers.tolist() == [0, 9, 4]
    assert not flags.any()
