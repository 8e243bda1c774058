"""Financing methods: GAP, scaled premium, terminal funding, level premium, by hand, in
closed form and as identities with the reserve roll-forward."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spfsim.finance import (
    discount_factors,
    general_average_premium,
    level_premium_closed_group,
    paygo_cost_rate,
    present_value,
    project_with_rate,
    roll_forward,
    scaled_premium,
    terminal_funding_rate,
)

RULES = [("non_decreasing", None), ("target_ratio", 0.0)]


def growing_scheme(n=30, cost_growth=0.06, wage_growth=0.03, rate=0.04):
    """A maturing scheme: cost grows faster than insured earnings."""
    t = np.arange(n)
    benefits = 80.0 * (1 + cost_growth) ** t
    return benefits, 0.05 * benefits, 1000.0 * (1 + wage_growth) ** t, np.full(n, rate)


@st.composite
def paths(draw, min_size=2, max_size=25):
    """Per-year B, E, S, i with cost growing at a drawn rate and bumpy earnings."""
    n = draw(st.integers(min_size, max_size))
    growth = draw(st.floats(0.0, 0.12))
    wages = draw(st.lists(st.floats(500.0, 1500.0), min_size=n, max_size=n))
    interest = draw(st.lists(st.floats(0.0, 0.12), min_size=n, max_size=n))
    benefits = draw(st.floats(10.0, 200.0)) * (1 + growth) ** np.arange(n)
    return benefits, 0.03 * benefits, np.array(wages), np.array(interest)


def yearly_change(fund):
    return np.diff(fund.reserve, prepend=fund.initial_reserve)


# ---------------------------------------------------------------------------- discounting


def test_discount_factors_by_hand():
    end, mid = discount_factors([0.04, 0.05])
    np.testing.assert_allclose(end, [1 / 1.04, 1 / (1.04 * 1.05)], rtol=1e-15)
    np.testing.assert_allclose(mid, [1.04**-0.5, 1.05**-0.5 / 1.04], rtol=1e-15)
    assert present_value([10.0, 20.0], [0.04, 0.05], timing="end") == pytest.approx(
        10 / 1.04 + 20 / (1.04 * 1.05), rel=1e-15)


def test_one_discounting_for_finance_and_equity():
    """The equity measures' calendar-year factors are the financing methods' mid-year
    factors (one module, spfsim.economy.discount), and v(tau) within a year is geometric:
    v(t + 1) is the end-of-year factor, v(t + 1/2) the mid-year one."""
    from spfsim import equity
    from spfsim.economy.discount import discount_at

    interest = np.array([0.04, 0.05, -0.01, 0.07, 0.03])
    years = np.arange(2031, 2036)
    end, mid = discount_factors(interest)
    np.testing.assert_array_equal(equity.discount_factors(years, interest), mid)
    np.testing.assert_allclose(discount_at(interest, np.arange(1, 6)), end, rtol=1e-15)
    np.testing.assert_allclose(discount_at(interest, np.arange(5) + 0.5), mid, rtol=1e-15)
    # before the path the first rate applies, after it the last
    assert discount_at(interest, -2.0) == pytest.approx(1.04**2, rel=1e-15)
    assert discount_at(interest, 7.0) == pytest.approx(end[-1] / 1.03**2, rel=1e-15)
    flows = np.arange(10.0).reshape(5, 2)  # a trailing axis: one present value per column
    np.testing.assert_allclose(present_value(flows, interest),
                               [present_value(flows[:, k], interest) for k in (0, 1)],
                               rtol=1e-15)


@settings(max_examples=50, deadline=None)
@given(paths(), st.floats(0.0, 5000.0), st.floats(0.0, 0.3))
def test_present_values_match_roll_forward(path, initial, rate):
    """v[n-1] F[n-1] = F0 + PV(C - B - E): the identity the methods rest on."""
    benefits, admin, earnings, interest = path
    fund = roll_forward(initial, rate * earnings, np.zeros_like(earnings), benefits, admin,
                        interest)
    end, _ = discount_factors(interest)
    pv_net = present_value(rate * earnings - benefits - admin, interest)
    assert end[-1] * fund.reserve[-1] == pytest.approx(initial + pv_net, rel=1e-10, abs=1e-8)


# ---------------------------------------------------------------------------- GAP


def test_gap_by_hand():
    # two years, i = 4 % then 5 %, mid-year flows; F0 = 50, terminal reserve 30
    m0, m1, v1 = 1.04**-0.5, 1.05**-0.5 / 1.04, 1 / (1.04 * 1.05)
    expected = ((100 + 10) * m0 + (150 + 10) * m1 + 30 * v1 - 50) / (1000 * m0 + 1100 * m1)
    gap = general_average_premium([100.0, 150.0], [10.0, 10.0], [1000.0, 1100.0],
                                  [0.04, 0.05], initial_reserve=50.0, terminal_reserve=30.0)
    assert gap == pytest.approx(expected, rel=1e-14)
    # it is not the simple mean of the PAYG rates
    assert abs(gap - np.mean([110 / 1000, 160 / 1100])) > 1e-3


@settings(max_examples=40, deadline=None)
@given(st.floats(1.0, 1e6), st.floats(0.0, 1e5), st.floats(1.0, 1e7), st.floats(-0.02, 0.15),
       st.integers(1, 40))
def test_stationary_gap_equals_paygo(benefit, admin, earnings, rate, n):
    ones = np.ones(n)
    gap = general_average_premium(benefit * ones, admin * ones, earnings * ones, rate * ones)
    assert gap == pytest.approx((benefit + admin) / earnings, rel=1e-10, abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(paths(), st.floats(0.0, 5000.0), st.floats(0.0, 3000.0))
def test_gap_leaves_the_target_reserve_at_the_horizon(path, initial, terminal):
    benefits, admin, earnings, interest = path
    gap = general_average_premium(benefits, admin, earnings, interest, initial_reserve=initial,
                                  terminal_reserve=terminal)
    fund = project_with_rate(gap, benefits, admin, earnings, interest, initial)
    scale = initial + terminal + np.sum(benefits + admin + earnings) * np.prod(1 + interest)
    assert abs(fund.reserve[-1] - terminal) < 1e-10 * scale


def test_gap_with_other_income_and_project_with_rate():
    benefits, admin, earnings, interest = growing_scheme()
    state = 0.01 * earnings
    gap = general_average_premium(benefits, admin, earnings, interest, 100.0,
                                  other_income=state)
    fund = project_with_rate(gap, benefits, admin, earnings, interest, 100.0, other_income=state)
    np.testing.assert_allclose(fund.state_transfer, state)
    np.testing.assert_allclose(fund.contribution_income, gap * earnings)
    assert abs(fund.reserve[-1]) < 1e-9 * np.sum(earnings)
    without = general_average_premium(benefits, admin, earnings, interest, 100.0)
    assert gap == pytest.approx(without - 0.01, rel=1e-12)


# ---------------------------------------------------------------------------- scaled premium


@pytest.mark.parametrize("length", [1, 2, 3, 5, 7, 12, 30])
@pytest.mark.parametrize(("rule", "target"), RULES)
def test_stationary_scaled_premium_equals_gap_and_paygo(length, rule, target):
    n, ones = 30, np.ones(30)
    b, e, s, i = 900.0 * ones, 60.0 * ones, 8000.0 * ones, 0.045 * ones
    gap = general_average_premium(b, e, s, i)
    result = scaled_premium(b, e, s, i, period_length=length, rule=rule, target_ratio=target)
    assert gap == pytest.approx(0.12, abs=1e-10)
    np.testing.assert_allclose(result.rates, np.full(n, 0.12), rtol=0, atol=1e-10)
    assert len(result.periods) == -(-n // length)


@settings(max_examples=40, deadline=None)
@given(paths(), st.integers(1, 10))
def test_scaled_premium_reserve_never_falls_and_the_rate_is_the_smallest(path, length):
    benefits, admin, earnings, interest = path
    result = scaled_premium(benefits, admin, earnings, interest, period_length=length)
    change = yearly_change(result.reserve)
    scale = np.max(np.abs(result.reserve.reserve) + benefits + admin)
    assert np.all(change >= -1e-9 * scale)
    for k, (start, stop) in enumerate(result.periods):
        critical = result.critical_years[k]
        assert start <= critical < stop
        assert abs(change[critical]) <= 1e-9 * scale
        lowered = result.rates.copy()
        lowered[start:stop] -= 1e-6
        fund = project_with_rate(lowered, benefits, admin, earnings, interest)
        assert np.min(yearly_change(fund)[start:stop]) < -1e-4 * 1e-6 * np.min(earnings)


def test_scaled_premium_rates_rise_for_a_maturing_scheme():
    benefits, admin, earnings, interest = growing_scheme()
    result = scaled_premium(benefits, admin, earnings, interest, period_length=10)
    assert np.all(np.diff(result.period_rates) > 0)
    np.testing.assert_array_equal(result.rates, np.repeat(result.period_rates, 10))
    assert result.periods == [(0, 10), (10, 20), (20, 30)]


@settings(max_examples=40, deadline=None)
@given(paths(), st.floats(0.0, 100.0))
def test_one_year_periods_give_paygo(path, initial):
    benefits, admin, earnings, interest = path
    result = scaled_premium(benefits, admin, earnings, interest, period_length=1)
    np.testing.assert_allclose(result.rates, paygo_cost_rate(benefits, admin, earnings),
                               rtol=1e-10)
    np.testing.assert_allclose(result.reserve.reserve, 0.0, atol=1e-9 * np.max(earnings))
    # with a reserve, one-year periods hold it constant: the rate lies below PAYG
    funded = scaled_premium(benefits, admin, earnings, interest, period_length=1,
                            initial_reserve=initial + 1.0)
    np.testing.assert_allclose(funded.reserve.reserve, initial + 1.0, rtol=1e-10)


@settings(max_examples=40, deadline=None)
@given(paths(), st.floats(0.0, 5000.0))
def test_one_period_with_target_zero_gives_gap(path, initial):
    benefits, admin, earnings, interest = path
    gap = general_average_premium(benefits, admin, earnings, interest, initial_reserve=initial)
    result = scaled_premium(benefits, admin, earnings, interest, period_length=len(benefits),
                            initial_reserve=initial, rule="target_ratio", target_ratio=0.0)
    assert result.period_rates[0] == pytest.approx(gap, rel=1e-10, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(paths(min_size=6), st.floats(0.0, 5.0), st.integers(1, 8), st.floats(0.0, 500.0))
def test_target_ratio_is_reached_at_each_period_end(path, target, length, initial):
    benefits, admin, earnings, interest = path
    result = scaled_premium(benefits, admin, earnings, interest, period_length=length,
                            initial_reserve=initial, rule="target_ratio", target_ratio=target)
    cost = benefits + admin
    for _, stop in result.periods:
        ratio = result.reserve.reserve[stop - 1] / cost[stop - 1]
        assert ratio == pytest.approx(target, abs=1e-9)


def test_period_starts_match_period_length_and_allow_uneven_periods():
    benefits, admin, earnings, interest = growing_scheme()
    by_length = scaled_premium(benefits, admin, earnings, interest, period_length=10)
    by_starts = scaled_premium(benefits, admin, earnings, interest, period_starts=[0, 10, 20])
    np.testing.assert_array_equal(by_length.rates, by_starts.rates)
    uneven = scaled_premium(benefits, admin, earnings, interest, period_starts=[0, 3, 25],
                            rule="target_ratio", target_ratio=1.5)
    assert uneven.periods == [(0, 3), (3, 25), (25, 30)]
    assert uneven.reserve.reserve[24] / (benefits + admin)[24] == pytest.approx(1.5)


# ---------------------------------------------------------------------------- terminal funding


def test_terminal_funding_by_hand():
    pensions = np.array([[100.0, 50.0], [120.0, 0.0], [10.0, 10.0]])
    factors = np.array([[12.0, 15.0], [11.0, 15.0], [12.0, 15.0]])
    earnings = np.array([10_000.0, 12_000.0, 0.0])
    rates = terminal_funding_rate(pensions, factors, earnings)
    np.testing.assert_allclose(rates[:2], [(1200 + 750) / 10_000, 1320 / 12_000])
    assert np.isnan(rates[2])
    one_group = terminal_funding_rate(pensions[:, 0], factors[:, 0], earnings,
                                      admin=[50.0, 60.0, 0.0])
    np.testing.assert_allclose(one_group[:2], [1250 / 10_000, 1380 / 12_000])
    # annuity factors per group, the same every year, broadcast
    np.testing.assert_allclose(terminal_funding_rate(pensions, np.array([12.0, 15.0]),
                                                     earnings)[0], 0.195)


# ---------------------------------------------------------------------------- level premium


def test_level_premium_by_hand():
    # a cohort pays on 1000 a year for 2 years, then draws 500 a year for 2 years; i = 3 %
    m = 1.03 ** -(np.arange(4) + 0.5)
    expected = (500 * (m[2] + m[3]) - 100) / (1000 * (m[0] + m[1]))
    rate = level_premium_closed_group([1000.0, 1000.0, 0.0, 0.0], [0.0, 0.0, 500.0, 500.0],
                                      np.full(4, 0.03), initial_reserve=100.0)
    assert rate == pytest.approx(expected, rel=1e-14)
    with_admin = level_premium_closed_group([1000.0, 1000.0, 0.0, 0.0],
                                            [0.0, 0.0, 500.0, 500.0], np.full(4, 0.03),
                                            admin=[10.0, 10.0, 0.0, 0.0])
    assert with_admin == pytest.approx(expected + (100 + 10 * (m[0] + m[1]))
                                       / (1000 * (m[0] + m[1])), rel=1e-13)


@pytest.mark.parametrize(("n", "g"), [(0.01, 0.02), (0.0, 0.015), (-0.005, 0.03)])
def test_level_premium_equals_paygo_when_interest_is_the_biological_rate(n, g):
    """Steady state with population growth n, wage growth g and i = (1+n)(1+g) - 1: a new
    cohort's level premium equals the PAYG rate (Samuelson 1958; Aaron 1966)."""
    work, retire, replacement = 40, 20, 0.6
    t = np.arange(work + retire)
    wage = (1 + g) ** t
    earnings = np.where(t < work, wage, 0.0)
    benefits = np.where(t >= work, replacement * wage, 0.0)
    interest = np.full(t.size, (1 + n) * (1 + g) - 1)
    ages = (1 + n) ** -np.arange(work + retire)
    paygo = replacement * ages[work:].sum() / ages[:work].sum()
    assert level_premium_closed_group(earnings, benefits, interest) == pytest.approx(
        paygo, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(paths(), st.floats(0.0, 1000.0))
def test_level_premium_exhausts_the_closed_group_fund(path, initial):
    benefits, _, earnings, interest = path
    rate = level_premium_closed_group(earnings, benefits, interest, initial_reserve=initial)
    fund = project_with_rate(rate, benefits, np.zeros_like(benefits), earnings, interest,
                             initial)
    scale = initial + np.sum(benefits + earnings) * np.prod(1 + interest)
    assert abs(fund.reserve[-1]) < 1e-10 * scale


# ---------------------------------------------------------------------------- errors


def test_mismatched_lengths_are_named():
    with pytest.raises(ValueError, match=r"benefits has 3, admin has 2"):
        general_average_premium([1.0, 2.0, 3.0], [1.0, 2.0], [1.0, 2.0, 3.0], [0.0] * 3)
    with pytest.raises(ValueError, match="other_income has 2"):
        scaled_premium(*growing_scheme(3), period_length=1, other_income=[1.0, 2.0])
    with pytest.raises(ValueError, match="one-dimensional"):
        general_average_premium(np.ones((2, 2)), np.ones(2), np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match="year"):
        terminal_funding_rate(np.ones(3), np.ones(3), np.ones(4))


def test_nonpositive_present_value_of_earnings():
    with pytest.raises(ValueError, match="present value of insured earnings must be positive"):
        general_average_premium([1.0, 1.0], [0.0, 0.0], [0.0, 0.0], [0.03, 0.03])
    with pytest.raises(ValueError, match="present value of insured earnings must be positive"):
        level_premium_closed_group([-1.0, 0.0], [1.0, 1.0], [0.03, 0.03])


def test_bad_rules_periods_and_interest():
    scheme = growing_scheme(6)
    with pytest.raises(ValueError, match="unknown scaled premium rule 'fixed'"):
        scaled_premium(*scheme, period_length=2, rule="fixed")
    with pytest.raises(ValueError, match="needs a finite target_ratio"):
        scaled_premium(*scheme, period_length=2, rule="target_ratio")
    with pytest.raises(ValueError, match="applies only to rule='target_ratio'"):
        scaled_premium(*scheme, period_length=2, target_ratio=1.0)
    with pytest.raises(ValueError, match="period_length must be a whole number of years >= 1"):
        scaled_premium(*scheme, period_length=0)
    with pytest.raises(ValueError, match="period lengths must be at least 1 year"):
        scaled_premium(*scheme, period_starts=[0, 2, 2, 4])
    with pytest.raises(ValueError, match="must begin with 0"):
        scaled_premium(*scheme, period_starts=[1, 3])
    with pytest.raises(ValueError, match="reach beyond"):
        scaled_premium(*scheme, period_starts=[0, 6])
    with pytest.raises(ValueError, match="exactly one of"):
        scaled_premium(*scheme)
    with pytest.raises(ValueError, match="greater than -1"):
        general_average_premium([1.0], [0.0], [1.0], [-1.0])
    with pytest.raises(ValueError, match="unknown timing"):
        present_value([1.0], [0.0], timing="start")


def test_non_decreasing_rule_without_a_solution():
    # a 50 % loss on the reserve in year 2 that year's small contributions cannot offset:
    # a higher rate only builds a larger reserve to lose
    with pytest.raises(ValueError, match="no constant rate keeps the reserve non-decreasing"):
        scaled_premium([100.0, 100.0], [0.0, 0.0], [1000.0, 1.0], [0.1, -0.5],
                       period_length=2)
    with pytest.raises(ValueError, match="no insured earnings in the period"):
        scaled_premium([100.0, 100.0], [0.0, 0.0], [1000.0, 0.0], [0.1, 0.1],
                       period_length=1)
