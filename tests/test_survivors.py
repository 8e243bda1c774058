"""The survivors' branch of the contributory pension in both engines."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_factory import write_small_model
from replication import replication_t
from test_schemes import year_inputs

import spfsim
from spfsim.engine.cohort import PensionState, SurvivorRules
from spfsim.schemes import db_pension as dbp

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


def test_survivor_awards_by_hand():
    """Pensioners at 70 only (half the cell, 1,000 a year each), 10 % die: 1,000 x 0.5 x
    0.1 = 50 deaths per sex; 80 % of the men leave a wife 4 years younger, who appears at
    67 next year with half the pension."""
    population = np.full((101, 2), 1000.0)
    death_rate = np.zeros((101, 2))
    death_rate[70] = 0.1
    rules = SurvivorRules(0.5, 0.0, 17, np.array([0.8, 0.6]), np.array([4, -3]), 0.0, 5,
                          death_rate, np.zeros(101), 0.5, population, population * 2)
    y = year_inputs(density=0.0)
    y.survivors = rules
    state = PensionState()
    state.active[:] = 0.0
    state.pensioners[70, :, 10] = 0.5
    state.pension[70, :, 10] = 0.5 * 1000.0
    spouses, money, orphans, _ = state._new_survivors(y, death_rate, death_rate)
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
