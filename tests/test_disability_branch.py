"""The disability branch of the contributory pension in both engines."""

from __future__ import annotations

import numpy as np
import pytest
from model_factory import write_csv, write_small_model
from replication import replication_t
from test_schemes import year_inputs

import spfsim
from spfsim.engine.cohort import PensionState
from spfsim.schemes import db_pension as dbp


def disability_model(folder, incidence: float = 0.01, recovery: float = 0.05,
                     mortality: float = 1.0):
    """The small model with onsets of invalidity at ages 20-59, recoveries and disability
    pensioners dying at ``mortality`` times the population's rates."""
    write_small_model(folder)
    model = folder / "model.toml"
    model.write_text(model.read_text().replace(
        "start_year = 1995", f"start_year = 1995\ndisability_minimum_service = 3\n"
        f"disability_recovery_rate = {recovery}\ndisability_mortality_factor = {mortality}"))
    header = folder / "assumptions" / "assumptions.toml"
    header.write_text(header.read_text() + '\n[tables.disability]\nfile = "disability.csv"\n')
    write_csv(folder / "assumptions" / "disability.csv",
              ["age", "sex", "invalidity_incidence"],
              [[a, s, incidence if 20 <= a <= 59 else 0.0] for a in range(101)
               for s in ("male", "female")])
    return folder


def test_branch_off_without_onsets(small_model_dir, small_projection):
    """A zero onset rate reproduces the old-age-only results exactly."""
    ds = spfsim.load_model(disability_model(small_model_dir, incidence=0.0)).project()
    for name in ("benefit_expenditure", "contribution_income", "reserve"):
        np.testing.assert_array_equal(ds[name], small_projection[name])
    assert float(ds["beneficiaries_by_branch"].sel(branch="disability").sum()) == 0.0


def test_disability_branch_in_the_cohort_engine(small_model_dir, small_projection):
    ds = spfsim.load_model(disability_model(small_model_dir)).project()
    pension = ds.sel(scheme="pension")
    disabled = pension["beneficiaries_by_branch"].sel(branch="disability").sum("sex")
    assert np.all(disabled > 0)
    # branches add up to the scheme's totals
    np.testing.assert_allclose(pension["beneficiaries_by_branch"].sum(("sex", "branch")),
                               pension["beneficiaries"].sum(("age", "sex")), rtol=1e-12)
    np.testing.assert_allclose(pension["benefit_expenditure_by_branch"].sum("branch"),
                               pension["benefit_expenditure"], rtol=1e-12)
    # disability pensions are paid only below the pensionable age (62 men, 60 women); the
    # contributing share is still exactly employed x coverage
    base = small_projection.sel(scheme="pension")
    np.testing.assert_allclose(pension["contributors"], base["contributors"], rtol=1e-9)
    assert float(pension["benefit_expenditure"][-1]) > float(base["benefit_expenditure"][-1])


def test_differential_mortality_by_hand():
    """q = 1 %, a tenth of the cell disabled, three times the mortality: 3 % for them and
    (1 % - 0.1 x 3 %) / 0.9 = 0.778 % for the others, so the cell's deaths stay 1 %."""
    q_invalid, q_others = dbp.differential_mortality(np.array([0.01]), np.array([0.1]), 3.0)
    assert q_invalid[0] == pytest.approx(0.03)
    assert q_others[0] == pytest.approx(0.007 / 0.9)
    assert 0.1 * q_invalid[0] + 0.9 * q_others[0] == pytest.approx(0.01)
    same = np.array([0.02])
    assert dbp.differential_mortality(same, np.array([0.5]), 1.0) == (same, same)


def test_disability_pensioners_survive_at_their_own_rate_in_the_cohort_engine():
    """A cell with 10 % disability pensioners, q = 1 %, factor 3: next year their share of
    the (1 %-smaller) cell is 0.1 x 0.97 / 0.99, and everybody else's grows to match."""
    y = year_inputs(density=0.0)
    y.death_rate = np.full((101, 2), 0.01)
    y.invalid_mortality = 3.0
    state = PensionState()
    state.active[40] *= 0.9
    state.invalid[40, :, 10, 0] = 0.1  # (age, sex, service, contribution class)
    state.invalid_pension[40, :, 10] = 0.1 * 500.0
    state.refresh_tops()  # the arrays were written by hand
    state.advance(y)
    assert state.invalid[41, 0, 10, 0] == pytest.approx(0.1 * 0.97 / 0.99)
    assert state.invalid_pension[41, 0, 10] == pytest.approx(50.0 * 0.97 / 0.99)
    others = state.active[41, 0].sum()
    assert others == pytest.approx(0.9 * (1 - 0.007 / 0.9) / 0.99)
    assert others + state.invalid[41, 0].sum() == pytest.approx(1.0)


def test_excess_mortality_lowers_disability_pensioners(small_model_dir):
    base = spfsim.load_model(disability_model(small_model_dir / "a")).project()
    higher = spfsim.load_model(disability_model(small_model_dir / "b", mortality=3.0)).project()

    def disabled(ds):
        return ds["beneficiaries_by_branch"].sel(scheme="pension", branch="disability")

    assert np.all(disabled(higher).sum("sex") < disabled(base).sum("sex"))
    np.testing.assert_array_equal(higher["population"], base["population"])


def test_micro_disability_identities(tmp_path):
    """Fast (also without JIT): branches add up and nobody at or above the pensionable age
    draws a disability pension."""
    model = spfsim.load_model(disability_model(tmp_path / "m", incidence=0.03), end_year=2031)
    ds = model.project("micro", persons=3000, seed=2)
    pension = ds.sel(scheme="pension")
    np.testing.assert_allclose(pension["beneficiaries_by_branch"].sum(("sex", "branch")),
                               pension["beneficiaries"].sum(("age", "sex")), rtol=1e-12)
    assert float(pension["beneficiaries_by_branch"].sel(branch="disability").sum()) > 0
    status = ds["persons_by_status"].sel(status="disability_pensioner")
    assert float(status.sel(age=slice(62, None), sex="male").sum()) == 0.0
    assert float(status.sel(age=slice(60, None), sex="female").sum()) == 0.0


@pytest.mark.slow
def test_micro_agrees_with_cohort_on_disability(tmp_path):
    """Disability and old-age pensioners and the disability expenditure, with disability
    pensioners dying at four times the population's rates: 10 replications
    of 40,000 persons are unbiased for the cohort engine (per-year |t| <= 5.5 and
    horizon-wide |T| <= 4.5, Student t with 9 degrees of freedom; see replication.py)."""
    model = spfsim.load_model(disability_model(tmp_path / "m", incidence=0.01, recovery=0.02,
                                               mortality=4.0))
    cohort = model.project()
    runs = [model.project("micro", persons=40_000, seed=50 + r) for r in range(10)]

    def by_branch(ds, name, branch):
        value = ds[name].sel(scheme="pension", branch=branch)
        return (value.sum("sex") if "sex" in value.dims else value).values

    for name, branch in (("beneficiaries_by_branch", "disability"),
                         ("beneficiaries_by_branch", "old_age"),
                         ("benefit_expenditure_by_branch", "disability")):
        sims = np.stack([by_branch(ds, name, branch) for ds in runs])
        t, big_t = replication_t(sims, by_branch(cohort, name, branch))
        assert np.abs(t).max() <= 5.5, (name, branch, np.abs(t).max())
        assert abs(big_t) <= 4.5, (name, branch, big_t)
