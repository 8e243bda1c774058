"""Intergenerational equity measures: cohort IRR, money's worth, net transfer, gender gap and
weighted percentiles (spfsim.equity).

The must-show check is the closed form of Samuelson (1958) and Aaron (1966): in a stable
population whose births grow at n a year and wages at g, a balanced PAYG scheme returns
(1 + n)(1 + g) - 1 to every cohort.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from spfsim.demography.laws import makeham_qx
from spfsim.demography.lifetable import LifeTable
from spfsim.equity import (
    by_cohort,
    cohort_irr,
    complete_cohorts,
    discount_factors,
    gender_gap,
    money_worth_ratio,
    net_transfer_pv,
    weighted_percentiles,
)
from spfsim.equity.returns import IRR_BRACKET

# ----------------------------------------------------------------------- stable population

OMEGA = 110
AGES = np.arange(OMEGA + 1)
FIRST_WORK, LAST_WORK, PENSION_AGE = 20, 64, 65
Y0, N_YEARS = 2000, 300
YEARS = np.arange(Y0, Y0 + N_YEARS)


def person_years(A: float, B: float, c: float) -> np.ndarray:
    """L(x), ages 0..OMEGA (OMEGA open), of a Makeham life table."""
    return LifeTable.from_qx(makeham_qx(AGES, A, B, c)).Lx


MALE_L = person_years(0.0007, 0.00005, 10 ** 0.04)
FEMALE_L = person_years(0.0005, 0.00003, 10 ** 0.04)


def earnings_profile(scale: float = 1.0) -> np.ndarray:
    """Relative earnings by age, hump-shaped over the working ages, 0 elsewhere."""
    a = AGES.astype(float)
    profile = np.exp(-((a - 45.0) / 18.0) ** 2)
    return scale * np.where((a >= FIRST_WORK) & (a <= LAST_WORK), profile, 0.0)


def stable_paygo(n: float, g: float, person_years_by_sex, earnings_by_sex,
                 replacement: float = 0.4):
    """Contributions and benefits by [year, age, sex] of a balanced PAYG scheme.

    Births of year y: (1 + n)^(y - Y0) (both sexes, split 51/49); persons aged a in year y:
    births(y - a) L(a); wage level (1 + g)^(y - Y0); earnings = wage level x profile(a);
    pension from PENSION_AGE = replacement x wage level of the year (wage indexation). The
    contribution rate balances each year's budget. Returns (rate by year, contributions,
    benefits).
    """
    shares = np.array([0.51, 0.49])
    t = (YEARS - Y0)[:, None]
    births = (1 + n) ** (t - AGES[None, :])  # [year, age]
    L = np.stack(person_years_by_sex, axis=-1)  # [age, sex]
    pop = births[:, :, None] * L[None, :, :] * shares  # [year, age, sex]
    wage = (1 + g) ** t.astype(float)  # [year, 1]
    earnings = np.stack(earnings_by_sex, axis=-1)  # [age, sex]
    base = wage[:, :, None] * earnings[None, :, :] * pop
    retired = (AGES >= PENSION_AGE)[None, :, None]
    benefits = np.where(retired, replacement * wage[:, :, None] * pop, 0.0)
    rate = benefits.sum(axis=(1, 2)) / base.sum(axis=(1, 2))
    contributions = rate[:, None, None] * base
    return rate, contributions, benefits


PAIRS = [(0.01, 0.02), (0.0, 0.015), (-0.01, 0.02), (-0.02, 0.0), (0.025, -0.01),
         (0.03, 0.04)]


@pytest.mark.parametrize(("n", "g"), PAIRS)
def test_stable_population_irr_is_samuelson_aaron(n, g):
    """Every complete cohort earns (1 + n)(1 + g) - 1, to 5e-4 (achieved: ~1e-12)."""
    profile = earnings_profile()
    rate, contributions, benefits = stable_paygo(n, g, [MALE_L, MALE_L], [profile, profile])
    # stable population: the balancing rate is the same every year
    assert np.ptp(rate) < 1e-12 * rate.mean()
    cohorts, c = by_cohort(YEARS, AGES, contributions)
    _, b = by_cohort(YEARS, AGES, benefits)
    complete = complete_cohorts(YEARS, cohorts, FIRST_WORK, OMEGA)
    assert complete.sum() == N_YEARS - OMEGA + FIRST_WORK  # 1980..2189
    irr = cohort_irr(YEARS, c, b, where=complete)
    expected = (1 + n) * (1 + g) - 1
    assert irr.shape == (cohorts.size, 2)
    assert np.all(np.isnan(irr[~complete]))
    assert np.abs(irr[complete] - expected).max() < 5e-4
    assert np.abs(irr[complete] - expected).max() < 1e-10  # what is actually achieved


@pytest.mark.parametrize(("n", "g"), PAIRS[:4])
def test_stable_population_money_worth_and_net_transfer(n, g):
    profile = earnings_profile()
    _, contributions, benefits = stable_paygo(n, g, [MALE_L, FEMALE_L], [profile, profile])
    cohorts, c = by_cohort(YEARS, AGES, contributions.sum(axis=2))
    _, b = by_cohort(YEARS, AGES, benefits.sum(axis=2))
    complete = complete_cohorts(YEARS, cohorts, FIRST_WORK, OMEGA)
    irr = (1 + n) * (1 + g) - 1
    mwr = money_worth_ratio(YEARS, c, b, irr, where=complete)
    np.testing.assert_allclose(mwr[complete], 1.0, atol=1e-10)
    assert np.all(np.isnan(mwr[~complete]))
    scale = money_worth_ratio(YEARS, c, c, irr)  # PV(C)/PV(C) = 1, where PV(C) > 0
    pv_c = net_transfer_pv(YEARS, np.zeros_like(c), c, irr)
    assert np.all(pv_c[complete] > 0)
    np.testing.assert_allclose(scale[complete], 1.0)
    for at in ("first_year", "birth"):
        nt = net_transfer_pv(YEARS, c, b, irr, at=at, cohorts=cohorts, where=complete)
        assert np.all(np.abs(nt[complete]) < 1e-10 * pv_c[complete].max())
    # discounting below the IRR favours the (late) benefits, above it the contributions
    assert np.all(money_worth_ratio(YEARS, c, b, irr - 0.01)[complete] > 1.0)
    assert np.all(money_worth_ratio(YEARS, c, b, irr + 0.01)[complete] < 1.0)
    assert np.all(net_transfer_pv(YEARS, c, b, irr - 0.01)[complete] > 0.0)


def test_stable_population_by_sex():
    """One scheme for both sexes: the cohort as a whole earns the closed form; women, who
    live longer and earn less under a flat (wage-indexed) pension, earn more than men."""
    n, g = 0.01, 0.015
    rate, contributions, benefits = stable_paygo(
        n, g, [MALE_L, FEMALE_L], [earnings_profile(), earnings_profile(0.8)])
    assert np.ptp(rate) < 1e-12 * rate.mean()
    cohorts, c = by_cohort(YEARS, AGES, contributions)
    _, b = by_cohort(YEARS, AGES, benefits)
    complete = complete_cohorts(YEARS, cohorts, FIRST_WORK, OMEGA)
    both = cohort_irr(YEARS, c.sum(axis=2), b.sum(axis=2), where=complete)
    expected = (1 + n) * (1 + g) - 1
    assert np.abs(both[complete] - expected).max() < 5e-4
    by_sex = cohort_irr(YEARS, c, b, where=complete)[complete]
    assert np.all(by_sex[:, 1] > expected)
    assert np.all(by_sex[:, 0] < expected)
    gap = gender_gap(by_sex[:, 0], by_sex[:, 1])
    assert np.all(gap < 0)  # women's return is above men's


def test_truncated_cohorts_are_biased():
    """Cohorts cut by the projection window: those alive at its start miss their early
    contributions (IRR too high), those alive at its end their late benefits (too low, or
    no root at all when they have not reached pension age)."""
    n, g = 0.01, 0.02
    profile = earnings_profile()
    _, contributions, benefits = stable_paygo(n, g, [MALE_L, MALE_L], [profile, profile])
    cohorts, c = by_cohort(YEARS, AGES, contributions)
    _, b = by_cohort(YEARS, AGES, benefits)
    irr = cohort_irr(YEARS, c, b)[:, 0]
    expected = (1 + n) * (1 + g) - 1
    k = {year: int(np.flatnonzero(cohorts == year)[0]) for year in (1950, 2230, 2260)}
    assert irr[k[1950]] > expected + 0.005  # aged 50 at the start
    assert irr[k[2230]] < expected - 0.005  # aged 69 at the end
    assert math.isnan(irr[k[2260]])  # aged 39 at the end: no benefit, no root


# ----------------------------------------------------------------------- small cases


def test_hand_computed_irrs():
    assert cohort_irr([0, 1], [100, 0], [0, 110]) == pytest.approx(0.10, abs=1e-12)
    assert cohort_irr([0, 1, 2], [100, 0, 0], [0, 0, 121]) == pytest.approx(0.10, abs=1e-12)
    assert cohort_irr([0, 1], [100, 0], [0, 90]) == pytest.approx(-0.10, abs=1e-12)
    # pay 100, receive 60 and 60: 60 v + 60 v^2 = 100
    v = (-60 + math.sqrt(60**2 + 4 * 60 * 100)) / (2 * 60)
    assert cohort_irr([2020, 2021, 2022], [100, 0, 0], [0, 60, 60]) == pytest.approx(
        1 / v - 1, abs=1e-12)
    # a flow that is both paid and received in the same year counts net
    assert cohort_irr([0, 1], [100, 10], [0, 120]) == pytest.approx(0.10, abs=1e-12)
    # years shift nothing; the mid-year convention cancels
    assert cohort_irr([1990, 1991], [100, 0], [0, 110]) == pytest.approx(0.10, abs=1e-12)


def test_irr_nan_cases():
    years = [0, 1, 2]
    assert math.isnan(cohort_irr(years, [100, 100, 0], [0, 0, 0]))  # no benefits
    assert math.isnan(cohort_irr(years, [0, 0, 0], [0, 50, 50]))  # no contributions
    assert math.isnan(cohort_irr(years, [0, 0, 0], [0, 0, 0]))  # nothing
    assert math.isnan(cohort_irr(years, [100, np.nan, 0], [0, 0, 50]))  # missing data
    assert math.isnan(cohort_irr([0, 1], [100, 0], [0, 0.5]))  # r = -99.5 %: outside
    assert cohort_irr([0, 1], [100, 0], [0, 0.5], bracket=(-0.999, 1.0)) == pytest.approx(
        -0.995, abs=1e-12)
    assert math.isnan(cohort_irr([0, 1], [100, 0], [0, 250]))  # r = 150 %: outside
    assert cohort_irr([0, 1], [100, 0], [0, 250], bracket=(-0.5, 2.0)) == pytest.approx(1.5)


def test_irr_multiple_roots():
    """-100, +230, -132 has roots 10 % and 20 %."""
    years, c, b = [0, 1, 2], [100, 0, 132], [0, 230, 0]
    assert math.isnan(cohort_irr(years, c, b))
    assert cohort_irr(years, c, b, on_multiple="lowest") == pytest.approx(0.10, abs=1e-12)
    assert cohort_irr(years, c, b, on_multiple="highest") == pytest.approx(0.20, abs=1e-12)
    with pytest.raises(ValueError, match="on_multiple"):
        cohort_irr(years, c, b, on_multiple="first")


def test_shapes_masks_and_validation():
    years = np.arange(2000, 2003)
    c = np.zeros((3, 4, 2))
    b = np.zeros((3, 4, 2))
    c[0] = 100.0
    factor = np.array([0.5, 1.0, 2.0, 3.0])
    b[2] = 121.0 * factor[:, None]  # cohort k receives 121 factor[k] after two years
    irr = cohort_irr(years, c, b)
    assert irr.shape == (4, 2)
    np.testing.assert_allclose(irr[:, 0], np.sqrt(1.21 * factor) - 1, atol=1e-12)
    np.testing.assert_array_equal(irr[:, 0], irr[:, 1])
    masked = cohort_irr(years, c, b, where=[True, False, True, False])
    assert np.isnan(masked[[1, 3]]).all()
    np.testing.assert_array_equal(masked[[0, 2]], irr[[0, 2]])
    mwr = money_worth_ratio(years, c, b, 0.1, where=np.array([True, True, False, True]))
    np.testing.assert_allclose(mwr[[0, 1, 3]], np.array([[0.5, 0.5], [1, 1], [3, 3]]))
    assert np.isnan(mwr[2]).all()
    with pytest.raises(ValueError, match="consecutive"):
        cohort_irr([2000, 2002, 2003], c, b)
    with pytest.raises(ValueError, match="first axis"):
        cohort_irr(np.arange(2000, 2004), c, b)
    with pytest.raises(ValueError, match="discount"):
        money_worth_ratio(years, c, b, [0.01, 0.02])
    with pytest.raises(ValueError, match="birth"):
        net_transfer_pv(years, c, b, 0.02, at="birth")


def test_money_worth_ratio_and_net_transfer_by_hand():
    years = [2000, 2001]
    assert money_worth_ratio(years, [100, 0], [0, 110], 0.10) == pytest.approx(1.0)
    assert money_worth_ratio(years, [100, 0], [0, 110], 0.0) == pytest.approx(1.1)
    assert math.isnan(money_worth_ratio(years, [0, 0], [0, 110], 0.0))
    # contributions of a cohort of almost nobody (the fuzzing test's population of 1e-320
    # persons in one cell): the ratio overflows, so it is undefined, not infinite
    assert math.isnan(money_worth_ratio(years, [1e-320, 0], [0, 1e10], 0.0))
    # PV at 1 January 2000 of mid-year flows: -100/1.05^0.5 + 110/1.05^1.5
    nt = net_transfer_pv(years, [100, 0], [0, 110], 0.05)
    assert nt == pytest.approx(-100 / 1.05**0.5 + 110 / 1.05**1.5, rel=1e-13)
    # valued at birth in 1980: twenty more years of interest discounting
    at_birth = net_transfer_pv(years, [100, 0], [0, 110], 0.05, at="birth", cohorts=1980)
    assert at_birth == pytest.approx(nt / 1.05**20, rel=1e-13)
    assert net_transfer_pv(years, [100, 0], [0, 110], 0.05, at=2001.5) == pytest.approx(
        -100 * 1.05 + 110, rel=1e-13)
    with pytest.raises(ValueError, match="at must be"):
        net_transfer_pv(years, [100, 0], [0, 110], 0.05, at="death")


def test_discount_paths():
    years = np.arange(2010, 2015)
    np.testing.assert_allclose(discount_factors(years, 0.03),
                               1.03 ** -(np.arange(5) + 0.5), rtol=1e-14)
    np.testing.assert_allclose(discount_factors(years, [0.03] * 5),
                               discount_factors(years, 0.03), rtol=1e-14)
    path = np.array([0.01, 0.02, 0.03, 0.04, 0.05])
    v = discount_factors(years, path)
    expected = np.cumprod(np.concatenate([[1.0], 1 / (1 + path[:-1])])) / np.sqrt(1 + path)
    np.testing.assert_allclose(v, expected, rtol=1e-14)
    # valued at a later date: divide by v(at); before the path the first rate applies
    np.testing.assert_allclose(discount_factors(years, path, at=2008), v / 1.01**2,
                               rtol=1e-14)
    rng = np.random.default_rng(3)
    c = rng.random((5, 3))
    b = rng.random((5, 3))
    births = np.array([1950, 1990, 2012])
    nt = net_transfer_pv(years, c, b, path, at="birth", cohorts=births)
    first = net_transfer_pv(years, c, b, path)
    np.testing.assert_allclose(nt[:2], first[:2] / 1.01 ** (2010 - births[:2]), rtol=1e-13)
    np.testing.assert_allclose(nt[2], first[2] * 1.01 * 1.02, rtol=1e-13)


def test_by_cohort_and_complete_cohorts():
    years = np.arange(2000, 2003)
    ages = np.arange(1, 3)
    values = np.arange(6.0).reshape(3, 2) + 1  # [year, age]
    cohorts, out = by_cohort(years, ages, values)
    np.testing.assert_array_equal(cohorts, np.arange(1998, 2002))
    # cohort 1999: age 1 in 2000 (value 1), age 2 in 2001 (value 4)
    np.testing.assert_array_equal(out[:, 1], [1.0, 4.0, 0.0])
    np.testing.assert_array_equal(out.sum(axis=1), values.sum(axis=1))
    np.testing.assert_array_equal(complete_cohorts(years, cohorts, 1, 2),
                                  [False, True, True, False])
    with pytest.raises(ValueError, match="values"):
        by_cohort(years, ages, values.T)


# ----------------------------------------------------------------------- properties

conventional = st.tuples(
    st.lists(st.floats(1.0, 100.0), min_size=1, max_size=30),
    st.lists(st.floats(1.0, 100.0), min_size=1, max_size=30),
)


def _stream(pay, receive):
    c = np.concatenate([pay, np.zeros(len(receive))])
    b = np.concatenate([np.zeros(len(pay)), receive])
    return np.arange(c.size), c, b


@settings(max_examples=60, deadline=None)
@given(conventional, st.floats(1e-3, 1e4), st.floats(-0.05, 0.1))
def test_scaling_leaves_irr_and_mwr_unchanged(flows, k, rate):
    years, c, b = _stream(*flows)
    irr = cohort_irr(years, c, b)
    scaled = cohort_irr(years, k * c, k * b)
    assert (math.isnan(irr) and math.isnan(scaled)) or scaled == pytest.approx(irr, abs=1e-9)
    assert money_worth_ratio(years, k * c, k * b, rate) == pytest.approx(
        money_worth_ratio(years, c, b, rate), rel=1e-12)
    # a net transfer near zero is the difference of two large sums: its rounding is of the
    # order of the gross flows (k = 8,028 on flows of about 570 once gave 9.3e-10 against
    # -2.3e-10 scaled), not of the net
    gross = k * (np.abs(c).sum() + np.abs(b).sum())
    assert net_transfer_pv(years, k * c, k * b, rate) == pytest.approx(
        k * net_transfer_pv(years, c, b, rate), rel=1e-9, abs=1e-12 * gross)


@settings(max_examples=60, deadline=None)
@given(conventional, st.data())
def test_adding_benefits_never_lowers_the_irr(flows, data):
    years, c, b = _stream(*flows)
    irr = cohort_irr(years, c, b)
    assume(np.isfinite(irr))
    # extra benefits in any year; in contributory years less than the contribution, so
    # that the stream stays conventional (a single sign change)
    share = np.array(data.draw(st.lists(st.floats(0.0, 0.99), min_size=years.size,
                                        max_size=years.size)))
    extra = np.where(c > 0, share * c, share * 100.0)
    more = cohort_irr(years, c, b + extra)
    assert np.isnan(more) or more >= irr - 1e-10
    if np.isnan(more):  # only by leaving the bracket upwards: the extra benefits still
        # outweigh the contributions at the highest rate the bracket holds
        assert net_transfer_pv(years, c, b + extra, IRR_BRACKET[1]) > 0.0


@settings(max_examples=40, deadline=None)
@given(conventional)
def test_mwr_is_one_at_the_irr(flows):
    years, c, b = _stream(*flows)
    irr = cohort_irr(years, c, b)
    assume(np.isfinite(irr) and irr > -0.9)
    assert money_worth_ratio(years, c, b, irr) == pytest.approx(1.0, abs=1e-8)


def test_compiled_sign_changes_equal_the_array_count():
    """The compiled count of each stream's sign changes is its NumPy form's, with zeros
    between flows of either sign, streams of zeros and NaN."""
    from spfsim.equity import returns

    rng = np.random.default_rng(3)
    net = rng.choice([-2.0, -1.0, 0.0, 0.0, 1.0, 3.0], size=(40, 200))
    net[:, 0] = 0.0
    net[5, 1], net[9, 2] = np.nan, np.nan
    counts = returns._sign_changes(net)
    np.testing.assert_array_equal(counts, returns._sign_changes_arrays(net))
    assert counts[0] == 0
    assert counts.max() > 10


def test_the_scan_s_signs_are_numpy_s_in_its_order(monkeypatch):
    """The scan's zeros and sign changes (force, stream), from the compiled pass, are the
    NumPy masks' in np.nonzero's order, with zeros between values of either sign and
    NaN, which is neither sign."""
    import numba as nb

    from spfsim.equity import returns

    rng = np.random.default_rng(5)
    value = rng.choice([-2.0, -1.0, 0.0, 1.0, 3.0, np.nan], size=(300, 40),
                       p=[0.3, 0.15, 0.05, 0.2, 0.28, 0.02])
    compiled = returns._grid_signs(value)
    monkeypatch.setattr(nb.config, "DISABLE_JIT", True)
    arrays = returns._grid_signs(value)
    assert len(compiled[0]) > 100
    assert len(compiled[2]) > 1000
    for got, want in zip(compiled, arrays, strict=True):
        np.testing.assert_array_equal(got, want)


@settings(max_examples=40, deadline=None)
@given(st.lists(conventional, min_size=1, max_size=4))
def test_compiled_roots_equal_the_array_iteration(streams):
    """The compiled root finder, stream by stream, gives the roots of its NumPy form
    (all streams at once, the path with Numba's JIT off), also for a stream of zeros and
    brackets that hold no root."""
    from spfsim.equity import returns

    size = max(len(pay) + len(receive) for pay, receive in streams)
    net = np.zeros((size, len(streams) + 1))  # the last stream: nothing flows
    for j, flows in enumerate(streams):
        _, c, b = _stream(*flows)
        net[:c.size, j] = b - c
    times = np.arange(size) + 0.5
    for low, high in ((-0.5, 0.5), (0.2, 0.6), (np.full(net.shape[1], -0.1), 0.05)):
        with np.errstate(invalid="ignore"):  # the array form divides the zeros by zero
            expected = returns._bracketed_roots_arrays(times, net, low, high)
        np.testing.assert_allclose(returns._bracketed_roots(times, net, low, high), expected,
                                   rtol=1e-12, atol=1e-14)


@settings(max_examples=40, deadline=None)
@given(st.lists(conventional, min_size=1, max_size=4))
def test_single_roots_at_once_equal_the_scan(streams):
    """Streams with one sign change, solved together, and streams with more, scanned
    together, have the roots the grid scan and Brent's method find one stream at a
    time."""
    from spfsim.equity import returns

    size = max(len(pay) + len(receive) for pay, receive in streams)
    net = np.zeros((size, len(streams)))
    for j, flows in enumerate(streams):
        _, c, b = _stream(*flows)
        net[:c.size, j] = b - c
    times = np.arange(size) + 0.5
    grid = np.expm1(np.linspace(np.log1p(IRR_BRACKET[0]), np.log1p(IRR_BRACKET[1]), 2001))
    forces = np.log1p(grid)
    one_by_one = [returns._irr_one(times, net[:, j], grid, "nan") for j in range(len(streams))]
    at_once = np.expm1(returns._bracketed_roots(times, net, forces[0], forces[-1]))
    np.testing.assert_allclose(at_once, one_by_one, rtol=1e-11, atol=1e-13)
    # with a late payment (a second sign change), the scan of all streams at once too
    net = np.vstack([net, -1e-3 * np.abs(net).max(axis=0)])
    times = np.arange(size + 1) + 0.5
    assert (returns._sign_changes(net) == 2).all()
    for pick in ("nan", "lowest", "highest"):
        one_by_one = [returns._irr_one(times, net[:, j], grid, pick)
                      for j in range(len(streams))]
        scanned = np.expm1(returns._scanned_roots(times, net, forces, pick))
        np.testing.assert_allclose(scanned, one_by_one, rtol=1e-11, atol=1e-13)


# ----------------------------------------------------------------------- gender gap


def test_gender_gap():
    assert gender_gap(100.0, 75.0) == pytest.approx(0.25)
    assert gender_gap(0.8, 0.9) == pytest.approx(-0.125)
    out = gender_gap([0.0, 1.0, np.nan, 2.0], [1.0, np.nan, 1.0, 1.0])
    assert np.isnan(out[:3]).all()
    assert out[3] == pytest.approx(0.5)
    with np.errstate(all="raise"):
        gender_gap(np.array([0.0, 2.0]), np.array([0.0, 1.0]))
    assert gender_gap(np.ones((2, 3)), np.full(3, 0.5)).shape == (2, 3)


# ----------------------------------------------------------------------- percentiles


def test_weighted_percentiles_equal_weights_is_hazen():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(4, 3, 25))
    q = [0, 5, 25, 50, 90, 100]
    got = weighted_percentiles(v, np.ones(25), q)
    assert got.shape == (6, 4, 3)
    np.testing.assert_allclose(got, np.percentile(v, q, axis=-1, method="hazen"), rtol=1e-12)
    got1 = weighted_percentiles(v, np.full(v.shape, 2.0), 50, axis=1)
    np.testing.assert_allclose(got1, np.percentile(v, 50, axis=1, method="hazen"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e3, 1e3), st.integers(0, 5)), min_size=1,
                max_size=30),
       st.lists(st.floats(0.0, 100.0), min_size=1, max_size=5))
def test_weighted_percentiles_inverted_cdf_is_repetition(pairs, q):
    values = np.array([p[0] for p in pairs])
    weights = np.array([p[1] for p in pairs], dtype=float)
    assume(weights.sum() > 0)
    got = weighted_percentiles(values, weights, q, method="inverted_cdf")
    repeated = np.repeat(values, weights.astype(int))
    np.testing.assert_allclose(got, np.percentile(repeated, q, method="inverted_cdf"))


def test_weighted_percentiles_midpoint_by_hand_and_edge_cases():
    # positions: 1 at 0.1, 2 at 0.4, 3 at 0.8 (weights 0.2, 0.4, 0.4)
    v = np.array([3.0, 1.0, 2.0])
    w = np.array([0.4, 0.2, 0.4])
    np.testing.assert_allclose(weighted_percentiles(v, w, [0, 10, 25, 40, 60, 80, 100]),
                               [1.0, 1.0, 1.5, 2.0, 2.5, 3.0, 3.0])
    # zero weights and NaN values are ignored
    v2 = np.array([3.0, 1.0, 99.0, 2.0, np.nan])
    w2 = np.array([0.4, 0.2, 0.0, 0.4, 1.0])
    np.testing.assert_allclose(weighted_percentiles(v2, w2, [10, 25, 60]), [1.0, 1.5, 2.5])
    assert math.isnan(weighted_percentiles([1.0, 2.0], [0.0, 0.0], 50))
    assert weighted_percentiles([5.0], [1.0], 37) == 5.0
    rows = weighted_percentiles(np.array([[1.0, 2.0], [3.0, 4.0]]),
                                np.array([[1.0, 0.0], [0.0, 0.0]]), 50)
    assert rows[0] == 1.0
    assert math.isnan(rows[1])
    with pytest.raises(ValueError, match="q must"):
        weighted_percentiles(v, w, 101)
    with pytest.raises(ValueError, match="weights"):
        weighted_percentiles(v, -w, 50)
