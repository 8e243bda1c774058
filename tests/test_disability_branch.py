"""The disability branch of the contributory pension in both engines."""

from __future__ import annotations

import numpy as np
import pytest
from model_factory import write_csv, write_small_model

import spfsim


def disability_model(folder, incidence: float = 0.01, recovery: float = 0.05):
    """The small model with onsets of invalidity at ages 20-59 and recoveries."""
    write_small_model(folder)
    model = folder / "model.toml"
    model.write_text(model.read_text().replace(
        "start_year = 1995", f"start_year = 1995\ndisability_minimum_service = 3\n"
        f"disability_recovery_rate = {recovery}"))
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
    """Disability pensioners, old-age pensioners and contributors each year within
    binomial sampling error (as shares of the population) of the cohort engine."""
    model = spfsim.load_model(disability_model(tmp_path / "m"))
    cohort = model.project()
    micro = model.project("micro", persons=60_000, seed=5)
    n = float(micro["population"].sum(("age", "sex"))[0]) / float(micro.attrs["weight"])
    z = []
    for select in ({"branch": "disability"}, {"branch": "old_age"}):
        got, want = (ds["beneficiaries_by_branch"].sel(scheme="pension", **select).sum("sex")
                     / ds["population"].sum(("age", "sex")) for ds in (micro, cohort))
        z.append(((got - want) / np.sqrt(want * (1 - want) / n)).values)
    got, want = (ds["contributors"].sel(scheme="pension").sum(("age", "sex"))
                 / ds["population"].sum(("age", "sex")) for ds in (micro, cohort))
    z.append(((got - want) / np.sqrt(want * (1 - want) / n)).values)
    z = np.abs(np.concatenate(z))
    assert z.max() < 4.5, z.max()
    assert z.mean() < 1.3, z.mean()
    spent = [ds["benefit_expenditure_by_branch"].sel(scheme="pension", branch="disability")
             / ds["beneficiaries_by_branch"].sel(scheme="pension", branch="disability")
             .sum("sex") for ds in (micro, cohort)]
    np.testing.assert_allclose(*spent, rtol=0.03)  # average disability pension
