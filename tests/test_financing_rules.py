"""Contribution base and split, maximum pension, state contribution, admin basis."""

from __future__ import annotations

import numpy as np
import pytest

import spfsim
from spfsim.checks import fund_balance_residual
from spfsim.schemes import db_pension as dbp

RULES = """worker_share = 0.4
state_contribution_rate = 0.02
earnings_ceiling = 14000.0
earnings_floor = 9000.0
maximum_pension = 4000.0
admin_cost_basis = "contribution_income"
"""


def test_rule_functions_by_hand():
    np.testing.assert_allclose(dbp.insurable(np.array([5000.0, 12000.0, 20000.0]), 9000.0,
                                             14000.0), [9000.0, 12000.0, 14000.0])
    np.testing.assert_allclose(dbp.insurable(np.array([20000.0]), 0.0, 0.0), [20000.0])
    assert dbp.pension_at_award(0.02, 300_000.0, 1000.0, 4000.0) == pytest.approx(4000.0)
    assert dbp.pension_at_award(0.02, 100_000.0, 1000.0, 0.0) == pytest.approx(2000.0)
    assert dbp.disability_pension(0.02, 200_000.0, 10, 30, 0.0, 5000.0) == pytest.approx(5000.0)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from model_factory import write_small_model

    folder = write_small_model(tmp_path_factory.mktemp("fin") / "m", end=2032)
    toml = folder / "model.toml"
    toml.write_text(toml.read_text().replace("start_year = 1995", "start_year = 1995\n" + RULES))
    model = spfsim.load_model(folder)
    return model, model.project(), model.project("micro", persons=3000, seed=9)


@pytest.mark.parametrize("engine", [1, 2])
def test_financing_rules_in_both_engines(runs, engine):
    ds = runs[engine]
    pension = ds.sel(scheme="pension")
    # insured earnings per contributor within floor and ceiling (not indexed: constant)
    per_contributor = pension["insured_earnings"] / pension["contributors"].sum(("age", "sex"))
    assert np.all(per_contributor >= 9000.0 - 1e-6)
    assert np.all(per_contributor <= 14000.0 + 1e-6)
    # no new pension above the maximum
    assert np.nanmax(pension["average_new_benefit"].values) <= 4000.0 + 1e-6
    np.testing.assert_allclose(pension["contribution_income"], 0.10 * pension["insured_earnings"])
    payer = pension["contribution_income_by_payer"]
    np.testing.assert_allclose(payer.sel(payer="worker"), 0.4 * pension["contribution_income"])
    np.testing.assert_allclose(payer.sel(payer="employer"),
                               0.6 * pension["contribution_income"])
    np.testing.assert_allclose(payer.sel(payer="state"), 0.02 * pension["insured_earnings"])
    # the state's contribution is a transfer into the fund (no state subsidy here)
    np.testing.assert_allclose(pension["state_transfer"], payer.sel(payer="state"))
    np.testing.assert_allclose(pension["admin_expenditure"], 0.05 * pension["contribution_income"])
    assert fund_balance_residual(ds, np.array([5.0e7, 0.0])) < 1e-9


def refund_model(folder, share):
    from model_factory import write_small_model

    write_small_model(folder)
    toml = folder / "model.toml"
    toml.write_text(toml.read_text().replace("minimum_service = 10", "minimum_service = 20")
                    .replace("start_year = 1995", f"start_year = 1995\nrefund_share = {share}"))
    return folder


def test_refunds_of_contributions(tmp_path, small_projection):
    """Leavers without the minimum service get refund_share of their revalued
    contributions: linear in the share, nothing else changes, both engines pay them."""
    half = spfsim.load_model(refund_model(tmp_path / "a", 0.5)).project()
    full = spfsim.load_model(refund_model(tmp_path / "b", 1.0)).project()
    refunds = [ds["benefit_expenditure_by_branch"].sel(scheme="pension", branch="refunds")
               for ds in (half, full)]
    assert np.all(refunds[0] > 0)
    np.testing.assert_allclose(refunds[1], 2 * refunds[0], rtol=1e-12)
    np.testing.assert_allclose(
        full["beneficiaries_by_branch"].sel(scheme="pension", branch="old_age"),
        half["beneficiaries_by_branch"].sel(scheme="pension", branch="old_age"), rtol=1e-12)
    micro = spfsim.load_model(refund_model(tmp_path / "c", 1.0), end_year=2030).project(
        "micro", persons=3000, seed=4)
    assert float(micro["benefit_expenditure_by_branch"].sel(
        scheme="pension", branch="refunds").sum()) > 0


@pytest.mark.slow
def test_micro_agrees_with_cohort_on_refunds(tmp_path):
    from replication import replication_t

    model = spfsim.load_model(refund_model(tmp_path / "m", 1.0))
    cohort = model.project()
    runs = [model.project("micro", persons=40_000, seed=140 + r) for r in range(10)]

    for name in ("benefit_expenditure_by_branch", "beneficiaries_by_branch"):
        def get(ds, name=name):
            value = ds[name].sel(scheme="pension", branch="refunds")
            return (value.sum("sex") if "sex" in value.dims else value).values

        t, big_t = replication_t(np.stack([get(ds) for ds in runs]), get(cohort))
        assert np.abs(t).max() <= 5.5, (name, np.abs(t).max())
        assert abs(big_t) <= 4.5, (name, big_t)


def test_accrual_bands_by_hand():
    assert dbp.accrual_factor(30, 0.015, 0.02, 20) == pytest.approx(0.015 * 20 + 0.02 * 10)
    assert dbp.accrual_factor(12, 0.015, 0.02, 20) == pytest.approx(0.015 * 12)
    assert dbp.accrual_factor(30, 0.015) == pytest.approx(0.45)
    # 30 years on average earnings of 10,000: 5,000
    assert dbp.pension_at_award(0.015, 300_000.0, 0.0, 0.0, 30, 0.02, 20) == \
        pytest.approx(5000.0)
    # disability at 10 years of service with 20 future years, same bands
    assert dbp.disability_pension(0.015, 100_000.0, 10, 20, 0.0, 0.0, 0.02, 20) == \
        pytest.approx(10_000.0 * (0.015 * 20 + 0.02 * 10))


@pytest.mark.parametrize("engine", ["cohort", "micro"])
def test_accrual_bands_in_both_engines(tmp_path, engine):
    """A band whose upper rate equals the lower one changes nothing; a higher upper rate
    raises pensions."""
    from model_factory import write_small_model

    def run(extra, name):
        folder = write_small_model(tmp_path / name, end=2032)
        toml = folder / "model.toml"
        toml.write_text(toml.read_text().replace("start_year = 1995",
                                                 "start_year = 1995\n" + extra))
        return spfsim.load_model(folder).project(engine, persons=3000, seed=2)

    flat = run("", "flat")
    same = run("accrual_band_years = 10\naccrual_rate_above = 0.02", "same")
    more = run("accrual_band_years = 10\naccrual_rate_above = 0.03", "more")
    np.testing.assert_allclose(same["benefit_expenditure"], flat["benefit_expenditure"],
                               rtol=1e-9)
    assert float(more["benefit_expenditure"].sel(scheme="pension")[-1]) > \
        float(flat["benefit_expenditure"].sel(scheme="pension")[-1])


def _with_parameters(folder, text: str, rate: float = 0.10):
    from model_factory import write_small_model

    write_small_model(folder)
    model = folder / "model.toml"
    model.write_text(model.read_text().replace("start_year = 1995",
                                               "start_year = 1995\n" + text).replace(
        "contribution_rate = 0.10", f"contribution_rate = {rate}"))
    return spfsim.load_model(folder).project()


def test_state_guarantee_and_per_beneficiary_subsidy(tmp_path, small_projection):
    """A deficit guarantee keeps the reserve at zero or above (so no depletion year) and
    the fund identity holds; a subsidy per beneficiary adds amount x beneficiaries."""
    poor = _with_parameters(tmp_path / "p", "", rate=0.02).sel(scheme="pension")
    assert float(poor["reserve"].min()) < 0  # at 2 % the fund runs out
    covered = _with_parameters(tmp_path / "a", 'state_guarantee = "deficit"',
                               rate=0.02).sel(scheme="pension")
    assert float(covered["reserve"].min()) >= -1e-6 * float(covered["reserve"].max())
    assert np.isnan(float(covered["depletion_year"]))
    assert np.all(covered["state_transfer"] >= poor["state_transfer"] - 1e-6)
    assert float(covered["state_transfer"].sum()) > 0
    # the financing measures do not count the cover as income: they show the deficit the
    # guarantee meets, the same as without it (docs/finance.md)
    for name in ("general_average_premium", "summarized_income_rate", "actuarial_balance",
                 "unfunded_obligation"):
        assert float(covered[name]) == pytest.approx(float(poor[name]), rel=1e-9), name
    assert float(covered["actuarial_balance"]) < -0.01
    np.testing.assert_allclose(covered["reserve_ratio_by_method"].sel(
        financing_method=["paygo", "general_average_premium"]), poor[
        "reserve_ratio_by_method"].sel(financing_method=["paygo", "general_average_premium"]),
        rtol=1e-9, atol=1e-12)
    base = small_projection.sel(scheme="pension")
    subsidy = _with_parameters(tmp_path / "b", "state_subsidy_per_beneficiary = 100.0").sel(
        scheme="pension")
    np.testing.assert_allclose(
        subsidy["state_transfer"] - base["state_transfer"],
        100.0 * base["beneficiaries"].sum(("age", "sex")), rtol=1e-9)
