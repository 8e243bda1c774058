"""Sustainability measures in the projection Dataset (spfsim.finance.measures)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from spfsim.finance import project_with_rate, scheme_balance
from spfsim.finance.measures import (
    FINANCING_METHODS,
    initial_reserves,
    sustainability_variables,
)


def test_measures_are_in_the_dataset(small_projection):
    ds = small_projection
    for name in ("trust_fund_ratio", "payable_share", "scaled_premium",
                 "general_average_premium", "actuarial_balance", "unfunded_obligation"):
        assert name in ds, name
        assert "units" in ds[name].attrs, name


def test_measures_agree_with_their_definitions(small_projection):
    """The actuarial balance equals the solver's scheme_balance; projecting the fund at
    the general average premium (state transfers kept) leaves a zero reserve at the end;
    the first trust fund ratio is the initial reserve over the first year's cost."""
    ds = small_projection
    pension = ds.sel(scheme="pension")
    j = list(ds["scheme"].values).index("pension")
    f0 = float(initial_reserves(ds)[j])
    assert f0 == pytest.approx(5.0e7)  # the small model's initial_reserve
    balance = scheme_balance(ds, "pension", horizon=75)
    assert float(pension["actuarial_balance"]) == pytest.approx(balance.actuarial_balance,
                                                                abs=1e-12)
    gap = float(pension["general_average_premium"])
    fund = project_with_rate(gap, pension["benefit_expenditure"].values,
                             pension["admin_expenditure"].values,
                             pension["insured_earnings"].values, ds["interest_rate"].values,
                             initial_reserve=f0, other_income=pension["state_transfer"].values)
    assert fund.reserve[-1] == pytest.approx(0.0, abs=1e-6 * fund.reserve.max())
    cost = pension["benefit_expenditure"] + pension["admin_expenditure"]
    assert float(pension["trust_fund_ratio"][0]) == pytest.approx(f0 / float(cost[0]))
    # the scaled premium's reserve never decreases within a 10-year period
    scaled = project_with_rate(pension["scaled_premium"].values,
                               pension["benefit_expenditure"].values,
                               pension["admin_expenditure"].values,
                               pension["insured_earnings"].values, ds["interest_rate"].values,
                               initial_reserve=f0,
                               other_income=pension["state_transfer"].values)
    reserve = np.concatenate([[f0], scaled.reserve])
    assert np.all(np.diff(reserve) >= -1e-6 * reserve.max())


def test_budget_schemes_have_no_fund_measures(small_projection):
    kinds = small_projection["scheme_kind"].values
    budget = small_projection["general_average_premium"].values[kinds != "contributory"]
    assert np.all(np.isnan(budget))


def _tiny_dataset() -> xr.Dataset:
    """Three years at zero interest: a fund with F0 = 100, benefits 100 a year, insured
    earnings 1,000, contributions 50, a state transfer of 10 (reserve 60, 20, -20); and a
    budget-financed scheme."""
    ys = ("year", "scheme")

    def both(fund, other):
        return (ys, np.column_stack([np.full(3, fund, dtype=float),
                                     np.full(3, other, dtype=float)]))

    return xr.Dataset(
        {"contribution_income": both(50.0, 0.0), "state_transfer": both(10.0, 20.0),
         "investment_income": both(0.0, 0.0), "benefit_expenditure": both(100.0, 20.0),
         "admin_expenditure": both(0.0, 0.0), "insured_earnings": both(1000.0, 0.0),
         "reserve": (ys, np.column_stack([[60.0, 20.0, -20.0], np.zeros(3)])),
         "interest_rate": (("year",), np.zeros(3))},
        coords={"year": [2025, 2026, 2027], "scheme": ["fund", "budget"],
                "scheme_kind": ("scheme", ["contributory", "non_contributory"])})


def test_reserve_ratio_by_method_hand_computed():
    """PAYG rate 10 %: contributions pay the cost, the transfers add 10 a year (reserve 110,
    120, 130); GAP = (300 - 30 - 100) / 3000: reserve 66.7, 33.3, 0; scaled premium (one
    10-year period, reserve never falling): 9 %, reserve 100; the scheme's own 5 %: 60,
    20, -20. Costs are 100 a year, so the ratios are the reserves / 100."""
    out = sustainability_variables(_tiny_dataset(), horizon=3, period_length=10)
    ratio = out["reserve_ratio_by_method"]
    assert ratio.dims == ("year", "scheme", "financing_method")
    assert list(ratio["financing_method"].values) == list(FINANCING_METHODS)
    fund = ratio.sel(scheme="fund")
    np.testing.assert_allclose(fund.sel(financing_method="scheme_rules"), [0.6, 0.2, -0.2])
    np.testing.assert_allclose(fund.sel(financing_method="paygo"), [1.1, 1.2, 1.3])
    np.testing.assert_allclose(fund.sel(financing_method="general_average_premium"),
                               [2 / 3, 1 / 3, 0.0], atol=1e-12)
    np.testing.assert_allclose(fund.sel(financing_method="scaled_premium"), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(out["scaled_premium"].sel(scheme="fund"), 0.09)
    assert float(out["general_average_premium"].sel(scheme="fund")) == pytest.approx(0.17 / 3)
    assert np.isnan(ratio.sel(scheme="budget")).all()
    assert ratio.attrs["units"] == "fraction"
    assert ratio.attrs["long_name"]


def test_reserve_ratio_by_method_in_the_projection(small_projection):
    ds = small_projection
    pension = ds.sel(scheme="pension")
    ratio = pension["reserve_ratio_by_method"]
    cost = (pension["benefit_expenditure"] + pension["admin_expenditure"]).values
    f0 = float(initial_reserves(ds)[list(ds["scheme"].values).index("pension")])
    # the scheme's own rules: the Dataset's reserve ratio
    np.testing.assert_allclose(ratio.sel(financing_method="scheme_rules"),
                               pension["reserve_ratio"], rtol=1e-12)
    # GAP over the whole projection: no reserve left at the horizon
    gap_reserve = ratio.sel(financing_method="general_average_premium").values * cost
    assert gap_reserve[-1] == pytest.approx(0.0, abs=1e-9 * np.abs(gap_reserve).max())
    # scaled premium: the reserve never decreases, within or across the periods
    scaled_reserve = np.concatenate(
        [[f0], ratio.sel(financing_method="scaled_premium").values * cost])
    assert np.all(np.diff(scaled_reserve) >= -1e-9 * scaled_reserve.max())
    # PAYG: contributions pay the year's cost, so the reserve is the initial one rolled
    # with interest plus the state transfers (none in the small model)
    assert float(abs(pension["state_transfer"]).max()) == 0.0
    rolled = f0 * np.cumprod(1.0 + ds["interest_rate"].values)
    np.testing.assert_allclose(ratio.sel(financing_method="paygo"), rolled / cost,
                               rtol=1e-10)
    assert np.isnan(ds["reserve_ratio_by_method"].sel(scheme="child_benefit")).all()


def test_ending_target_fund_in_the_dataset():
    """Over 2 of the 3 years the target fund is the third year's cost (100): cost rate =
    (200 + 100) / 2000; over all 3 the last year's cost stands in (the attrs say which)."""
    two = sustainability_variables(_tiny_dataset(), horizon=2).sel(scheme="fund")
    assert float(two["summarized_cost_rate"]) == pytest.approx(300 / 2000, rel=1e-15)
    assert two["summarized_cost_rate"].attrs["ending_target_year"] == 2027
    three = sustainability_variables(_tiny_dataset(), horizon=3).sel(scheme="fund")
    assert float(three["summarized_cost_rate"]) == pytest.approx(400 / 3000, rel=1e-15)
    assert three["summarized_cost_rate"].attrs["ending_target_year"] == 2027
