"""Sustainability measures: trust fund ratio, summarized rates and actuarial balance,
depletion and payable shares, unfunded obligation, sustainable solvency."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spfsim.finance import (
    depletion,
    general_average_premium,
    present_value,
    project_with_rate,
    roll_forward,
    summarized_rates,
    sustainable_solvency,
    trust_fund_ratio,
    unfunded_obligation_open_group,
)

# a 3-year scheme: Y non-interest income, B, E, S, RET the return i, F0
Y = np.array([100.0, 110.0, 120.0])
B = np.array([90.0, 100.0, 130.0])
E = np.array([10.0, 10.0, 10.0])
S = np.array([1000.0, 1050.0, 1100.0])
RET = np.array([0.04, 0.05, 0.03])
F0 = 200.0


@st.composite
def schemes(draw, min_size=1, max_size=30):
    n = draw(st.integers(min_size, max_size))
    floats = st.lists(st.floats(1.0, 1000.0), min_size=n, max_size=n)
    benefits, earnings = np.array(draw(floats)), 10.0 * np.array(draw(floats))
    interest = np.array(draw(st.lists(st.floats(-0.02, 0.12), min_size=n, max_size=n)))
    return benefits, 0.04 * benefits, earnings, interest


# ---------------------------------------------------------------------------- trust fund ratio


def test_trust_fund_ratio_by_hand():
    ratios = trust_fund_ratio([150.0, 90.0, -10.0], [90.0, 100.0, 0.0], [10.0, 20.0, 0.0],
                              initial_reserve=250.0)
    np.testing.assert_allclose(ratios[:2], [250 / 100, 150 / 120])
    assert np.isnan(ratios[2])


def test_trust_fund_ratio_uses_the_start_of_year_reserve():
    fund = roll_forward(F0, Y, np.zeros(3), B, E, RET)
    ratios = trust_fund_ratio(fund.reserve, B, E, F0)
    np.testing.assert_allclose(ratios * (B + E), [F0, *fund.reserve[:2]], rtol=1e-15)


# ---------------------------------------------------------------------------- summarized rates


def test_summarized_rates_by_hand_without_interest():
    result = summarized_rates(Y, B, E, S, np.zeros(3), F0, horizon=3)
    assert result.income_rate == pytest.approx((200 + 330) / 3150, rel=1e-15)
    assert result.cost_rate == pytest.approx((350 + 140) / 3150, rel=1e-15)
    assert result.actuarial_balance == pytest.approx(40 / 3150, rel=1e-13)
    assert result.pv_ending_target == pytest.approx(140.0)
    assert not result.target_on_following_year  # the last year's cost stands in


def test_ending_target_fund_is_the_following_years_cost():
    """Trustees Report: the target fund at the end of the period is 100 % of the next
    year's cost. Over 2 of the 3 years without interest: cost rate = (PV(X) over two years
    + X[2]) / PV(S) = (100 + 110 + 140) / 2050."""
    result = summarized_rates(Y, B, E, S, np.zeros(3), F0, horizon=2)
    assert result.target_on_following_year
    assert result.pv_ending_target == pytest.approx(140.0)
    assert result.cost_rate == pytest.approx((100 + 110 + 140) / 2050, rel=1e-15)
    # with interest, held at the end of year 2 (index 1) and discounted from there
    with_interest = summarized_rates(Y, B, E, S, RET, F0, horizon=2)
    assert with_interest.pv_ending_target == pytest.approx(140 / (1.04 * 1.05), rel=1e-15)


def test_summarized_rates_by_hand_with_interest():
    m = [1.04**-0.5, 1.05**-0.5 / 1.04, 1.03**-0.5 / (1.04 * 1.05)]
    v_end = 1 / (1.04 * 1.05 * 1.03)
    pv_s = 1000 * m[0] + 1050 * m[1] + 1100 * m[2]
    income = (200 + 100 * m[0] + 110 * m[1] + 120 * m[2]) / pv_s
    cost = (100 * m[0] + 110 * m[1] + 140 * m[2] + 2 * 140 * v_end) / pv_s
    result = summarized_rates(Y, B, E, S, RET, F0, horizon=3, ending_target_years=2.0)
    assert result.income_rate == pytest.approx(income, rel=1e-14)
    assert result.cost_rate == pytest.approx(cost, rel=1e-14)
    assert result.actuarial_balance == pytest.approx(income - cost, rel=1e-12)
    assert result.pv_earnings == pytest.approx(pv_s, rel=1e-15)


def test_summarized_rates_use_the_first_horizon_years():
    """Flows of the horizon, and one more year's cost for the target fund: no more."""
    longer = [np.concatenate([x, [1e6, 1e6]]) for x in (Y, B, E, S, RET)]
    one_more = [np.concatenate([x, [1e6]]) for x in (Y, B, E, S, RET)]
    cut = summarized_rates(*longer, F0, horizon=3)
    assert cut == summarized_rates(*one_more, F0, horizon=3)
    full = summarized_rates(Y, B, E, S, RET, F0, horizon=3)
    for field in ("income_rate", "pv_income", "pv_cost", "pv_earnings"):
        assert getattr(cut, field) == getattr(full, field)
    with pytest.raises(ValueError, match="horizon is 75 years but the arrays cover only 3"):
        summarized_rates(Y, B, E, S, RET, F0)
    with pytest.raises(ValueError, match="horizon must be a whole number"):
        summarized_rates(Y, B, E, S, RET, F0, horizon=0)


@settings(max_examples=50, deadline=None)
@given(schemes(), st.floats(0.0, 0.3), st.floats(0.0, 1e4), st.floats(0.0, 3.0))
def test_actuarial_balance_is_contribution_rate_minus_gap(scheme, rate, initial, target_years):
    """With a constant contribution rate c, AB = c - GAP(terminal reserve = ending target)."""
    benefits, admin, earnings, interest = scheme
    n = len(benefits)
    result = summarized_rates(rate * earnings, benefits, admin, earnings, interest, initial,
                              horizon=n, ending_target_years=target_years)
    target = target_years * (benefits + admin)[-1]
    gap = general_average_premium(benefits, admin, earnings, interest, initial, target)
    assert result.actuarial_balance == pytest.approx(rate - gap, rel=1e-9, abs=1e-11)
    # projected at the GAP, the fund ends at the target and the balance is nil
    at_gap = summarized_rates(gap * earnings, benefits, admin, earnings, interest, initial,
                              horizon=n, ending_target_years=target_years)
    assert at_gap.actuarial_balance == pytest.approx(0.0, abs=1e-10 * (1 + abs(gap)))


# ---------------------------------------------------------------------------- depletion


def test_depletion_by_hand_without_interest():
    years = np.arange(2025, 2030)
    income = np.full(5, 50.0)
    cost = np.array([80.0, 80.0, 80.0, 80.0, 40.0])
    fund = roll_forward(100.0, income, np.zeros(5), cost, np.zeros(5), np.zeros(5))
    np.testing.assert_allclose(fund.reserve, [70, 40, 10, -20, -10])
    result = depletion(years, fund.reserve, income, cost, np.zeros(5))
    assert result.year == 2028
    assert result.index == 3
    # depletion year: (10 + 50) / 80; afterwards min(1, 50 / 40)
    np.testing.assert_allclose(result.payable_share, [1, 1, 1, 0.75, 1])


def test_depletion_with_interest_and_a_later_recovery():
    years = np.arange(2030, 2036)
    income = np.array([100.0, 100.0, 100.0, 100.0, 100.0, 600.0])
    benefits = np.array([120.0, 150.0, 160.0, 160.0, 200.0, 100.0])
    admin = np.full(6, 5.0)
    interest = np.full(6, 0.04)
    fund = roll_forward(90.0, income, np.zeros(6), benefits, admin, interest)
    d = int(np.flatnonzero(fund.reserve < 0)[0])
    assert d == 2
    assert fund.reserve[-1] > 0  # the unconstrained path recovers; depletion stands
    result = depletion(years, fund.reserve, income, benefits, admin, interest=interest)
    cost = benefits + admin
    at_depletion = (fund.reserve[d - 1] * 1.04**0.5 + income[d]) / cost[d]
    np.testing.assert_allclose(result.payable_share,
                               [1, 1, at_depletion, 100 / 165, 100 / 205, 1], rtol=1e-12)
    assert result.year == 2032


def test_no_depletion():
    result = depletion([2025, 2026], [10.0, 0.0], [5.0, 5.0], [5.0, 15.0], [0.0, 0.0])
    assert np.isnan(result.year)
    assert result.index is None
    np.testing.assert_array_equal(result.payable_share, [1.0, 1.0])


# ---------------------------------------------------------------------------- unfunded obligation


def test_unfunded_obligation_by_hand():
    result = unfunded_obligation_open_group(Y, B, E, np.zeros(3), F0, horizon=3,
                                            insured_earnings=S)
    assert result.amount == pytest.approx(350 - 330 - 200)
    assert result.share_of_earnings == pytest.approx(-180 / 3150)
    without_s = unfunded_obligation_open_group(Y, B, E, np.zeros(3), F0, horizon=2)
    assert without_s.amount == pytest.approx(210 - 210 - 200)
    assert np.isnan(without_s.share_of_earnings)


@settings(max_examples=50, deadline=None)
@given(schemes(), st.floats(0.0, 0.3), st.floats(0.0, 1e4))
def test_unfunded_obligation_is_minus_the_balance_without_target(scheme, rate, initial):
    benefits, admin, earnings, interest = scheme
    n = len(benefits)
    income = rate * earnings
    balance = summarized_rates(income, benefits, admin, earnings, interest, initial, horizon=n,
                               ending_target_years=0.0)
    result = unfunded_obligation_open_group(income, benefits, admin, interest, initial,
                                            horizon=n, insured_earnings=earnings)
    scale = initial + present_value(benefits + admin + income, interest)
    assert abs(result.amount + balance.actuarial_balance * balance.pv_earnings) < 1e-12 * scale
    assert result.share_of_earnings == pytest.approx(-balance.actuarial_balance, rel=1e-9,
                                                     abs=1e-12)
    # and it is the discounted end-of-horizon deficit of the projected fund
    fund = project_with_rate(rate, benefits, admin, earnings, interest, initial)
    discount = 1 / np.prod(1 + interest)
    assert abs(result.amount + discount * fund.reserve[-1]) < 1e-10 * scale


# ---------------------------------------------------------------------------- solvency


@pytest.mark.parametrize(("ratios", "expected"), [
    ([1.5, 1.4, 1.3, 1.3, 1.35, 1.4, 1.5, 1.6], True),    # dips, then rises over the last 5
    ([2.0, 2.0, 2.0, 2.0, 2.0, 2.0], True),               # stable
    ([1.0, 1.2, 1.4, 1.6, 1.7, 1.65], False),             # falls in the last year
    ([0.5, 0.4, -0.1, 0.2, 0.5, 0.8, 1.0, 1.2], False),   # not positive throughout
    ([0.5, 0.0, 0.1, 0.2, 0.5, 0.8, 1.0, 1.2], False),    # zero is not positive
    ([1.0, np.nan, 1.0, 1.0, 1.0, 1.0], False),
])
def test_sustainable_solvency(ratios, expected):
    assert sustainable_solvency(ratios) is expected


def test_sustainable_solvency_tail_and_tolerance():
    ratios = [1.0, 0.9, 0.8, 0.7, 0.7, 0.7]
    assert sustainable_solvency(ratios, tail_years=3)
    assert not sustainable_solvency(ratios, tail_years=4)
    assert sustainable_solvency([1.0, 1.0, 1.0, 1.0, 1.0 - 1e-12])
    assert sustainable_solvency([1.0, 1.0, 1.0, 1.0, 0.99], tolerance=0.02)
    with pytest.raises(ValueError, match="tail_years must be a whole number from 2 to the 4"):
        sustainable_solvency([1.0, 1.0, 1.0, 1.0])


# ---------------------------------------------------------------------------- errors


def test_errors_name_the_lengths_and_the_earnings():
    with pytest.raises(ValueError, match="reserve has 2, benefits has 3"):
        trust_fund_ratio([1.0, 2.0], B, E, 0.0)
    with pytest.raises(ValueError, match="years has 4, reserve has 3"):
        depletion(np.arange(4), [1.0, -1.0, -2.0], Y, B, E)
    with pytest.raises(ValueError, match="interest has 2, reserve has 3"):
        depletion(np.arange(3), [1.0, -1.0, -2.0], Y, B, E, interest=[0.0, 0.0])
    with pytest.raises(ValueError, match="insured_earnings has 2"):
        unfunded_obligation_open_group(Y, B, E, RET, F0, horizon=3, insured_earnings=S[:2])
    with pytest.raises(ValueError, match="present value of insured earnings must be positive"):
        summarized_rates(Y, B, E, np.zeros(3), RET, F0, horizon=3)
