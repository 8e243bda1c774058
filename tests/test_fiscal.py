"""Fiscal space: the state's cost of social protection against the fiscal envelope
(ILC 2021 para. 15(a), (g); R202 para. 11)."""

from __future__ import annotations

import numpy as np
import pytest

import spfsim
from spfsim.errors import AssumptionError
from spfsim.indicators import fiscal_space_variables

MONEY = "LCU (nominal)"


def test_fiscal_space_hand_computed():
    # two years, two schemes: a fund receiving a subsidy and a budget-financed benefit
    state_transfer = np.array([[10.0, 30.0],
                               [20.0, 40.0]])
    gdp = np.array([1000.0, 2000.0])
    out = fiscal_space_variables(state_transfer, gdp, np.array([0.03, 0.03]), MONEY)
    np.testing.assert_allclose(out["state_cost"].values, [40.0, 60.0])
    np.testing.assert_allclose(out["state_cost_to_gdp"].values, [0.04, 0.03])
    np.testing.assert_allclose(out["fiscal_envelope"].values, [0.03, 0.03])
    # 40 - 0.03 x 1000 = 10 short; 60 - 0.03 x 2000 = 0
    np.testing.assert_allclose(out["financing_gap"].values, [10.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(out["financing_gap_to_gdp"].values, [0.01, 0.0], atol=1e-15)
    for name, var in out.items():
        assert var.dims == ("year",), name
        assert var.attrs["units"], name
        assert var.attrs["long_name"], name
    assert out["state_cost"].attrs["units"] == f"{MONEY} per year"
    assert out["financing_gap_to_gdp"].attrs["units"] == "fraction"


def test_fiscal_space_without_envelope_is_nan():
    out = fiscal_space_variables(np.array([[5.0, 5.0]]), np.array([100.0]), None, MONEY)
    assert out["state_cost"].values.tolist() == [10.0]
    assert out["state_cost_to_gdp"].values.tolist() == [0.1]
    for name in ("fiscal_envelope", "financing_gap", "financing_gap_to_gdp"):
        assert np.isnan(out[name].values).all(), name


def _with_envelope(folder, line: str) -> None:
    path = folder / "model.toml"
    text = path.read_text()
    assert "government_revenue = 0.18\n" in text
    path.write_text(text.replace("government_revenue = 0.18\n",
                                 f"government_revenue = 0.18\n{line}\n"))


def test_model_file_reads_fiscal_envelope(small_model_dir):
    # optional: the small model has none
    assert spfsim.load_model(small_model_dir).input.fiscal_envelope is None
    _with_envelope(small_model_dir, "fiscal_envelope = 0.05")
    assert spfsim.load_model(small_model_dir).input.fiscal_envelope == 0.05


def test_model_file_accepts_zero_envelope(small_model_dir):
    _with_envelope(small_model_dir, "fiscal_envelope = 0")  # nothing to spare: valid
    assert spfsim.load_model(small_model_dir).input.fiscal_envelope == 0.0


@pytest.mark.parametrize("value", ["1.5", "-0.01", "nan", '"3%"', "true"])
def test_model_file_rejects_bad_fiscal_envelope(small_model_dir, value):
    _with_envelope(small_model_dir, f"fiscal_envelope = {value}")
    with pytest.raises(AssumptionError) as info:
        spfsim.load_model(small_model_dir)
    problems = [p for p in info.value.problems if p.field == "economy.fiscal_envelope"]
    assert len(problems) == 1, info.value
    problem = problems[0]
    assert problem.file.endswith("model.toml")
    assert problem.row is not None  # the line of the entry
    assert "economy.fiscal_envelope" in str(info.value)
    shown = str(info.value)
    assert repr(problem.value) in shown


def test_fiscal_space_in_the_projection(small_model_dir):
    _with_envelope(small_model_dir, "fiscal_envelope = 0.05")
    ds = spfsim.load_model(small_model_dir).project()
    gdp = ds["gdp"].values
    np.testing.assert_allclose(ds["fiscal_envelope"].values, 0.05)
    # what the budget pays: the child benefit and its administration in full (no fund) and
    # the pension's state transfers (none in the small model): no double counting
    child = ds.sel(scheme="child_benefit")
    expected = (child["benefit_expenditure"] + child["admin_expenditure"]).values \
        + ds["state_transfer"].sel(scheme="pension").values
    np.testing.assert_allclose(ds["state_cost"].values, expected, rtol=1e-12)
    np.testing.assert_allclose(ds["state_cost_to_gdp"].values, expected / gdp, rtol=1e-12)
    np.testing.assert_allclose(ds["financing_gap"].values, expected - 0.05 * gdp, rtol=1e-9)
    np.testing.assert_allclose(ds["financing_gap_to_gdp"].values, expected / gdp - 0.05,
                               atol=1e-15)
    for name in ("state_cost", "state_cost_to_gdp", "fiscal_envelope", "financing_gap",
                 "financing_gap_to_gdp"):
        assert ds[name].dims == ("year",)
        assert ds[name].attrs["units"]
        assert ds[name].attrs["long_name"]


def test_state_cost_counts_pension_subsidies(small_model_dir):
    """A state subsidy and a state contribution to the pension fund enter the state cost
    once each (the state's contribution is not in contribution_income)."""
    path = small_model_dir / "model.toml"
    text = path.read_text().replace(
        "admin_cost_rate = 0.05\n",
        "admin_cost_rate = 0.05\nstate_subsidy_rate = 0.1\nstate_contribution_rate = 0.02\n",
        1)
    path.write_text(text)
    ds = spfsim.load_model(small_model_dir).project()
    pension = ds.sel(scheme="pension")
    subsidy = 0.1 * pension["benefit_expenditure"] + 0.02 * pension["insured_earnings"]
    child = ds.sel(scheme="child_benefit")
    expected = subsidy + child["benefit_expenditure"] + child["admin_expenditure"]
    np.testing.assert_allclose(ds["state_cost"].values, expected.values, rtol=1e-12)
    assert np.isnan(ds["financing_gap"].values).all()  # no envelope in this model


def test_fiscal_envelope_from_model_file_to_dataset(small_model_dir):
    _with_envelope(small_model_dir, "fiscal_envelope = 0.05")
    ds = spfsim.load_model(small_model_dir).project()
    np.testing.assert_allclose(ds["fiscal_envelope"].values, 0.05)


def test_a_model_without_government_revenue_projects(small_model_dir):
    """government_revenue is optional: the ratios to it are NaN, which the results'
    checks accept (the US OASDI model has none; this once stopped its projection)."""
    path = small_model_dir / "model.toml"
    path.write_text(path.read_text().replace("government_revenue = 0.18\n", ""))
    ds = spfsim.load_model(small_model_dir, end_year=2027).project()
    assert np.isnan(ds["cost_to_revenue"]).all()
    assert np.isnan(ds["cost_to_revenue_by_guarantee"]).all()
