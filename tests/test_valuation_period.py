"""A valuation period that starts after the base year (``[model] valuation_start``): the
financing measures value the flows from that year on, with the reserve at its start, as the
US Trustees value 2026-2100 from a 2025 base year whose flows are history."""

from __future__ import annotations

import numpy as np
import pytest
from model_factory import refusal, write_small_model
from openpyxl import load_workbook

import spfsim
from spfsim.finance.solvers.balance import scheme_balance
from spfsim.report.workbook.build import write_workbook

PERIOD = ("general_average_premium", "summarized_income_rate", "summarized_cost_rate",
          "actuarial_balance", "unfunded_obligation")
YEARLY = ("trust_fund_ratio", "payable_share", "scaled_premium", "reserve_ratio_by_method")
STOCHASTIC = """
[stochastic]
draws = 2
seed = 3
[stochastic.fertility]
sd = 0.05
ar = 0.5
"""


def starting(folder, start: int | None, extra: str = ""):
    """The small model (2025-2045) with ``valuation_start = start`` (None: none)."""
    write_small_model(folder)
    toml = folder / "model.toml"
    line = "" if start is None else f"\nvaluation_start = {start}"
    toml.write_text(toml.read_text().replace("end_year = 2045", "end_year = 2045" + line)
                    + extra)
    return folder


@pytest.fixture(scope="module")
def projections(tmp_path_factory):
    root = tmp_path_factory.mktemp("valuation")
    return {start: spfsim.load_model(starting(root / str(start), start)).project()
            for start in (None, 2025, 2026)}


def test_the_base_year_as_start_changes_nothing(projections):
    plain, explicit = projections[None], projections[2025]
    for name in (*PERIOD, *YEARLY):
        np.testing.assert_array_equal(explicit[name].values, plain[name].values)
    assert "valuation_start_year" not in plain.attrs
    assert explicit.attrs["valuation_start_year"] == 2025


def test_the_obligation_rolls_forward_one_year(projections):
    """The open-group unfunded obligation over the rest of the projection, at the start of
    2025, is that at the start of 2026 discounted one year: the reserve at the end of 2025
    is the initial reserve rolled forward with 2025's flows and interest, so 2025's
    shortfall is in the one and in the reserve the other starts from. (The horizon, 75
    years, is clipped to the projection's end in both.)"""
    base, later = projections[None], projections[2026]
    interest = float(base["interest_rate"].sel(year=2025))
    pension = {"scheme": "pension"}
    np.testing.assert_allclose(float(base["unfunded_obligation"].sel(pension)),
                               float(later["unfunded_obligation"].sel(pension)) / (1 + interest),
                               rtol=1e-12)
    assert later["actuarial_balance"].attrs["horizon_years"] == 20  # 2026-2045
    assert "(2026-2045)" in later["actuarial_balance"].attrs["long_name"]
    assert later["summarized_cost_rate"].attrs["ending_target_year"] == 2045
    # a year of deficits left behind: the balance moves, the yearly measures do not
    assert float(later["actuarial_balance"].sel(pension)) != float(
        base["actuarial_balance"].sel(pension))
    for name in YEARLY:
        np.testing.assert_array_equal(later[name].values, base[name].values)


def test_the_balance_solver_values_the_same_period(projections):
    later = projections[2026]
    rates = scheme_balance(later, "pension")
    assert rates.horizon == 20
    assert rates.initial_reserve == float(later["reserve"].sel(scheme="pension", year=2025))
    assert rates.actuarial_balance == float(later["actuarial_balance"].sel(scheme="pension"))


def test_the_workbook_names_the_start(projections, tmp_path):
    path = write_workbook(projections[2026], tmp_path / "report.xlsx")
    rows = {r[0]: r[1] for r in load_workbook(path)["Summary"].iter_rows(values_only=True)
            if r and r[0]}
    assert rows["Valuation period starts"] == 2026


def test_stochastic_draws_value_the_same_period(tmp_path):
    """Without variance, every draw's actuarial balance and general average premium are
    the deterministic projection's over the same valuation period."""
    model = spfsim.load_model(starting(tmp_path / "m", 2026, STOCHASTIC))
    det = model.project().sel(scheme="pension")
    ds = model.project_stochastic(2, keep_draws=True,
                                  spec=model.input.stochastic.without_variance())
    for name in ("actuarial_balance", "general_average_premium"):
        np.testing.assert_allclose(ds[name].sel(scheme="pension").values,
                                   float(det[name]), rtol=1e-9)
    assert "(2026-2045)" in ds["actuarial_balance"].attrs["long_name"]


@pytest.mark.parametrize(("line", "field", "message"), [
    ("valuation_start = 2024", "model.valuation_start", "from base_year 2025"),
    ("valuation_start = 2045", "model.valuation_start", "end_year - 1 (2044)"),
    ('valuation_start = "2026"', "model.valuation_start", "wrong type"),
    ("valuation_begins = 2026", "model.valuation_begins", "unknown entry"),
])
def test_a_bad_start_is_named(tmp_path, line, field, message):
    folder = starting(tmp_path / "m", None)
    toml = folder / "model.toml"
    toml.write_text(toml.read_text().replace("end_year = 2045", f"end_year = 2045\n{line}"))
    text = refusal(folder)
    assert field in text
    assert message in text
    assert "model.toml" in text


def test_a_shortened_projection_must_reach_the_start(tmp_path):
    folder = starting(tmp_path / "m", 2030)
    with pytest.raises(ValueError, match="before the model's valuation_start 2030"):
        spfsim.load_model(folder, end_year=2029)
    assert spfsim.load_model(folder, end_year=2030).project().attrs[
        "valuation_start_year"] == 2030
