"""Sustainability measures in the projection Dataset (spfsim.finance.measures)."""

from __future__ import annotations

import numpy as np
import pytest

from spfsim.finance import project_with_rate, scheme_balance
from spfsim.finance.measures import initial_reserves


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
