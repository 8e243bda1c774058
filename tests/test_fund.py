"""Reserve roll-forward and financing measures, by hand and as identities."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spfsim.finance import depletion_year, paygo_cost_rate, reserve_ratio, roll_forward


def test_roll_forward_by_hand():
    # F0 = 1000, i = 4 %; year 1: C 300, B 200, E 20 -> net 80 paid mid-year
    fund = roll_forward(1000.0, np.array([300.0, 300.0]), np.zeros(2),
                        np.array([200.0, 500.0]), np.array([20.0, 20.0]),
                        np.array([0.04, 0.04]))
    f1 = 1000 * 1.04 + 80 * 1.04**0.5
    f2 = f1 * 1.04 + (-220) * 1.04**0.5
    np.testing.assert_allclose(fund.reserve, [f1, f2])
    np.testing.assert_allclose(fund.investment_income, [f1 - 1000 - 80, f2 - f1 + 220])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e9), st.floats(0, 1e9), st.floats(0, 1e9),
                          st.floats(-0.05, 0.2)), min_size=1, max_size=30),
       st.floats(0, 1e10))
def test_fund_identity(rows, initial):
    c, b, g, i = (np.array(col) for col in zip(*rows, strict=True))
    admin = 0.05 * b
    fund = roll_forward(initial, c, g, b, admin, i)
    previous = np.concatenate([[initial], fund.reserve[:-1]])
    residual = fund.reserve - (previous + c + g + fund.investment_income - b - admin)
    scale = np.maximum.reduce([abs(fund.reserve), previous, b, np.ones_like(b)])
    assert np.max(np.abs(residual) / scale) < 1e-9


def test_measures_by_hand():
    assert paygo_cost_rate(np.array([90.0]), np.array([10.0]), np.array([1000.0]))[0] == 0.1
    assert np.isnan(paygo_cost_rate(np.array([1.0]), np.array([0.0]), np.array([0.0]))[0])
    assert reserve_ratio(np.array([500.0]), np.array([90.0]), np.array([10.0]))[0] == 5.0
    years = np.arange(2025, 2030)
    assert depletion_year(years, np.array([5.0, 3.0, 1.0, -1.0, -3.0])) == 2028
    assert np.isnan(depletion_year(years, np.ones(5)))
    assert pytest.approx(2025) == depletion_year(years, -np.ones(5))
