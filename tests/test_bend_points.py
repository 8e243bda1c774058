"""The bend-point pension formula (benefit_formula = "bend_points") and earnings spread
within a cell ([economy] earnings_permanent_sd, earnings_transitory_sd): the rules by hand,
the cohort engine's closed-form means against numerical integration, and the two engines
against each other."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_factory import write_small_model
from replication import replication_t, scheme_series
from scipy import integrate, stats
from test_schemes import run_cohort, year_inputs
from test_validation import the_problem

import spfsim
from spfsim.schemes import db_pension as dbp
from spfsim.schemes import pension_rules as rules

NO = rules.NO_CAPS  # the ceiling on a member's average as a whole

# the 2026 US bend points a year ($1,286 and $7,749 a month) and factors
US_BENDS, US_FACTORS = (12 * 1286.0, 12 * 7749.0), (0.90, 0.32, 0.15)


def _py(rule):
    return getattr(rule, "py_func", rule)


def us_formula(ceiling: float = 0.0) -> np.ndarray:
    return rules.formula(0.0, bends=US_BENDS, factors=US_FACTORS, averaging_years=35,
                         ceiling=ceiling)


def test_bend_point_award_by_hand():
    """35 years at an average of 60,000: 0.9 x 15,432 + 0.32 x (60,000 - 15,432) =
    28,150.56; 20 years of the same earnings average 20/35 of it over the 35 years (the
    missing years count as zeros); a disability at 40 with 27 years to the pensionable age
    averages the 10 years worked over max(10, 35 - 27) = 10."""
    f = us_formula()
    assert rules.old_age_award(35 * 60_000.0, 35, 1.0, 0.0, 0.0, f, 0.0, NO) == pytest.approx(
        0.9 * 15_432 + 0.32 * (60_000 - 15_432), rel=1e-14)
    short = 20 * 60_000.0 / 35
    assert rules.old_age_award(20 * 60_000.0, 20, 1.0, 0.0, 0.0, f, 0.0, NO) == pytest.approx(
        0.9 * 15_432 + 0.32 * (short - 15_432), rel=1e-14)
    # above the second bend, reduced by 20 % for an early claim, under a maximum
    high = 0.9 * 15_432 + 0.32 * (92_988 - 15_432) + 0.15 * (120_000 - 92_988)
    assert rules.old_age_award(35 * 120_000.0, 35, 0.8, 0.0, 0.0, f, 0.0, NO) == pytest.approx(
        0.8 * high, rel=1e-14)
    assert rules.old_age_award(35 * 120_000.0, 35, 0.8, 0.0, 20_000.0, f, 0.0, NO) == 20_000.0
    assert rules.disability_award(10 * 50_000.0, 10, 27, 0.0, 0.0, f, 0.0, NO) == pytest.approx(
        0.9 * 15_432 + 0.32 * (50_000 - 15_432), rel=1e-14)
    assert rules.averaging_years(10, 10 + 20, f) == 15  # onset 20 years before
    assert rules.old_age_award(0.0, 0, 1.0, 1_000.0, 0.0, f, 0.3, NO) == 1_000.0  # no service


def test_computation_years_by_hand():
    """The US computation years of a disability or a death at age x (sec. 215(b)(2)(A)):
    e = x - 22 elapsed years, less e // 5 dropout years (at most 5) for a disability, 5
    for a death, at least 2, at most 35. The future years F = 35 - c then give the
    averaging years max(n, c), and the reference counts at most c of its kept years."""
    f = rules.formula(0.0, bends=US_BENDS, factors=US_FACTORS, averaging_years=35,
                      elapsed_from=22)
    for age, disability, death in [(20, 2, 2), (24, 2, 2), (26, 4, 2), (30, 7, 3),
                                   (45, 19, 18), (46, 20, 19), (47, 20, 20), (50, 23, 23),
                                   (61, 34, 34), (62, 35, 35), (66, 35, 35)]:
        assert rules.computation_years(age, False, f) == disability, age
        assert rules.computation_years(age, True, f) == death, age
        future = rules.award_future_years(age, 67.0, False, f)
        assert future == 35 - disability
        assert rules.award_reference_years(35, future, f) == disability
        assert rules.award_reference_years(0, future, f) == 0  # the career average
        assert rules.averaging_years(10, 10 + future, f) == max(10, disability)
    # without the elapsed years, or with the accrual formula: the years to the
    # pensionable age, and the reference's N
    for other in (us_formula(), rules.formula(0.02)):
        assert rules.award_future_years(45, 67.0, False, other) == 22.0
        assert rules.award_future_years(68, 67.0, True, other) == 0.0
        assert rules.award_reference_years(35, 22.0, other) == 35


def test_a_death_averages_its_best_computation_years_by_hand():
    """An insured worker dying at 45 with 20 credited years kept, 2,000 down to 1,050
    a year, leaves the award over 18 computation years (23 elapsed less 5): the best 18
    average (36,000 - 50 x 153) / 18 = 1,575, and with bends at 1,000 and 5,000 the
    pension is 0.9 x 1,000 + 0.32 x 575 = 1,084."""
    f = rules.formula(0.0, bends=(1000.0, 5000.0), factors=(0.9, 0.32, 0.15),
                      averaging_years=35, elapsed_from=22)
    kept = np.zeros(35)
    kept[:20] = 2000.0 - 50.0 * np.arange(20)
    future = rules.award_future_years(45, 67.0, True, f)
    years = rules.award_reference_years(35, future, f)
    reference = rules.reference_earnings(kept.sum(), kept[:years].sum(), 20, years)
    award = rules.disability_award(reference, 20, future, 0.0, 0.0, f, 0.0, NO)
    assert award == pytest.approx(0.9 * 1000 + 0.32 * 575, rel=1e-14)


def test_the_indexing_lag_by_hand():
    """Revaluation of 3, 4 and 5 % in three years: two years' lag in the third keeps
    1 / (1.05 x 1.04) of the credits; in the first, the first year's growth stands for
    the years before it."""
    growth = np.array([0.03, 0.04, 0.05])
    assert dbp.indexed_share(growth, 2, 2) == pytest.approx(1 / (1.05 * 1.04), rel=1e-15)
    assert dbp.indexed_share(growth, 0, 2) == pytest.approx(1 / 1.03 ** 2, rel=1e-15)
    assert dbp.indexed_share(growth, 2, 0) == 1.0


@settings(max_examples=60, deadline=None)
@given(reference=st.floats(0.0, 5e6), service=st.integers(1, 60), future=st.integers(0, 40),
       factor=st.floats(0.5, 1.5), minimum=st.floats(0.0, 2e4), maximum=st.floats(0.0, 1e5),
       spread=st.sampled_from([0.0, 0.2, 0.8]), ceiling=st.sampled_from([0.0, 150_000.0]),
       indexed=st.floats(0.8, 1.0), bends=st.booleans())
def test_the_formula_applies_to_the_indexed_share(reference, service, future, factor,
                                                  minimum, maximum, spread, ceiling,
                                                  indexed, bends):
    """A formula keeping a share s of the credits awards what the formula without it
    awards on s times the credits under s times the ceiling (the ceiling caps the
    credits of each year, revalued with them), for both formulas, with and without a
    cell's spread."""
    def formula(share, cap):
        if bends:
            return rules.formula(0.0, bends=US_BENDS, factors=US_FACTORS, averaging_years=35,
                                 ceiling=cap, indexed=share)
        return rules.formula(0.02, ceiling=cap, indexed=share)

    lagged, plain = formula(indexed, ceiling), formula(1.0, ceiling * indexed)
    assert _py(rules.old_age_award)(
        reference, service, factor, minimum, maximum, lagged, spread, NO) == pytest.approx(
        _py(rules.old_age_award)(reference * indexed, service, factor, minimum, maximum,
                                 plain, spread, NO), rel=1e-12, abs=1e-9)
    assert _py(rules.disability_award)(
        reference, service, future, minimum, maximum, lagged, spread, NO) == pytest.approx(
        _py(rules.disability_award)(reference * indexed, service, future, minimum, maximum,
                                    plain, spread, NO), rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("engine", ["cohort", "micro"])
def test_an_indexing_lag_scales_a_linear_formulas_pensions(tmp_path, engine):
    """With the accrual formula and no minimum pension every pension is linear in the
    credits: a lag of two years scales each award by its year's share s_k (and the
    base year's pensions, awarded in the past at the base year's rates, by s_0), so the
    same persons are paid, each year's expenditure between the smallest and the largest
    s_j of the years up to it times the expenditure without the lag (common random
    numbers in the micro engine, which keeps amounts in float32)."""
    write_small_model(tmp_path / "m")
    base = spfsim.load_model(tmp_path / "m", end_year=2035).with_parameters(
        {"pension": {"minimum_pension": 0.0}})
    lagged = base.with_parameters({"pension": {"indexing_lag": 2}})
    options = {"persons": 3000, "seed": 21} if engine == "micro" else {}
    plain, lag = (m.project(engine, **options).sel(scheme="pension") for m in (base, lagged))
    np.testing.assert_array_equal(lag["beneficiaries"], plain["beneficiaries"])
    scheme = next(s for s in base.assumptions.schemes if s.id == "pension")
    growth = scheme.index_growth["earnings_revaluation"]
    shares = np.array([dbp.indexed_share(growth, k, 2) for k in range(len(growth))])
    assert np.all(shares < 1.0)
    ratio = (lag["benefit_expenditure"] / plain["benefit_expenditure"]).values
    low, high = np.minimum.accumulate(shares), np.maximum.accumulate(shares)
    tolerance = 1e-6 if engine == "micro" else 1e-12
    assert np.all(ratio >= low * (1 - tolerance))
    assert np.all(ratio <= high * (1 + tolerance))


def test_cohort_engine_awards_the_formula():
    """A full career: everybody contributes 1,000 a year from 20 to 59 and retires at 60
    with 40 credited years; bends at 300 and 800: the pension is 0.9 x 300 + 0.32 x 500 +
    0.15 x 200 = 460, the same for every member (no spread)."""
    y = year_inputs(density=1.0)
    y.formula = rules.formula(0.0, bends=(300.0, 800.0), factors=US_FACTORS,
                              averaging_years=35)
    _state, awards = run_cohort(y, 60)
    new_share, new_amount = awards[-1]
    assert new_share[60, 0].sum() == pytest.approx(1.0)
    assert new_amount[60, 0].sum() == pytest.approx(460.0, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(reference=st.floats(0.0, 5e6), service=st.integers(0, 60), future=st.integers(0, 40),
       factor=st.floats(0.5, 1.5), minimum=st.floats(0.0, 2e4), maximum=st.floats(0.0, 1e5),
       spread=st.sampled_from([0.0, 0.2, 0.8]), ceiling=st.sampled_from([0.0, 150_000.0]))
def test_cells_apply_the_scalar_rules(reference, service, future, factor, minimum, maximum,
                                      spread, ceiling):
    """The cohort engine's array functions give the scalar rule's value bit for bit, with
    the formula and the spread."""
    f = us_formula(ceiling)
    award = dbp.pension_at_award(0.0, np.array([reference, reference]), minimum, maximum,
                                 service, factor=factor, formula=f, spread=spread)
    expected = _py(rules.old_age_award)(reference, service, factor, minimum, maximum, f,
                                        spread, NO)
    assert award.tolist() == [expected, expected]
    assert dbp.disability_pension(0.0, reference, service, future, minimum, maximum,
                                  formula=f, spread=spread) == rules.disability_award(
        reference, service, future, minimum, maximum, f, spread, rules.NO_CAPS)


def _lognormal_mean(h, mean: float, sd: float, kinks) -> float:
    """E[h(Y)] for Y lognormal with E[Y] = ``mean`` and log-sd ``sd``, by quadrature over
    the standard normal with the kinks of ``h`` as break points."""
    mu = math.log(mean) - sd * sd / 2
    points = [(math.log(k) - mu) / sd for k in kinks if k > 0]
    points = sorted(p for p in points if -10 < p < 10)
    return integrate.quad(lambda z: h(math.exp(mu + sd * z)) * stats.norm.pdf(z), -10, 10,
                          points=points or None, limit=400, epsabs=1e-9, epsrel=1e-11)[0]


@settings(max_examples=40, deadline=None)
@given(average=st.floats(1_000.0, 300_000.0), sd=st.floats(0.05, 1.2),
       service=st.integers(1, 45), factor=st.floats(0.7, 1.3),
       minimum=st.sampled_from([0.0, 12_000.0]), maximum=st.sampled_from([0.0, 45_000.0]),
       ceiling=st.sampled_from([0.0, 184_500.0]))
def test_a_cells_mean_pension_is_the_integral(average, sd, service, factor, minimum,
                                              maximum, ceiling):
    """The closed form of a cell's mean award equals numerical integration over its
    members: an uncapped average Y lognormal (mean m, log-sd sd), a member's average
    min(Y, K) with K the ceiling's cap (ceiling x n / d), m set so that the mean of
    min(Y, K) is the cell's; the pension bounded(bend(min(Y, K)) x factor)."""
    f = us_formula(ceiling)
    d = max(service, 35)
    cap = ceiling * service / d if ceiling else math.inf
    m = average
    if ceiling:
        m = average * 0.5 + cap * 0.25  # any uncapped mean below the cap's reach
        average = _lognormal_mean(lambda y: min(y, cap), m, sd, [cap])

    def member(y):
        x = min(y, cap)
        pension = max(_py(rules.bend_point_formula)(x, f[4:6], f[6:9]) * factor, minimum)
        return min(pension, maximum) if maximum else pension

    kinks = [*US_BENDS, cap, *(_inverse(level / factor) for level in (minimum, maximum)
                               if level)]
    expected = _lognormal_mean(member, m, sd, kinks)
    got = rules.old_age_award(average * d, service, factor, minimum, maximum, f, sd, rules.NO_CAPS)
    assert got == pytest.approx(expected, rel=1e-7)


def _inverse(level: float) -> float:
    """The average at which the US formula pays ``level``."""
    b1, b2 = US_BENDS
    at_b1, at_b2 = 0.9 * b1, 0.9 * b1 + 0.32 * (b2 - b1)
    if level <= at_b1:
        return level / 0.9
    if level <= at_b2:
        return b1 + (level - at_b1) / 0.32
    return b2 + (level - at_b2) / 0.15


def test_small_spread_tends_to_the_formula():
    f = us_formula(184_500.0)
    exact = rules.old_age_award(35 * 50_000.0, 35, 1.0, 10_000.0, 0.0, f, 0.0, rules.NO_CAPS)
    assert rules.old_age_award(35 * 50_000.0, 35, 1.0, 10_000.0, 0.0, f, 1e-6, rules.NO_CAPS) == \
        pytest.approx(exact, rel=1e-9)
    # a concave formula pays a spread-out cell less than its mean member (Jensen)
    assert rules.old_age_award(35 * 50_000.0, 35, 1.0, 0.0, 0.0, f, 0.6, rules.NO_CAPS) < exact


@settings(max_examples=40, deadline=None)
@given(earnings=st.floats(100.0, 1e5), sd=st.floats(0.05, 1.5),
       floor=st.floats(0.0, 5e3), ceiling=st.sampled_from([0.0, 2e4, 8e4]))
def test_mean_insurable_earnings_is_the_integral(earnings, sd, floor, ceiling):
    expected = _lognormal_mean(
        lambda w: min(max(w, floor), ceiling) if ceiling else max(w, floor), earnings, sd,
        [floor, ceiling])
    assert rules.expected_insurable(earnings, floor, ceiling, sd) == pytest.approx(
        expected, rel=1e-8)
    assert dbp.insurable(earnings, floor, ceiling, 0.0) == rules.insurable_earnings(
        earnings, floor, ceiling)


def test_members_credits_keep_the_class_mean():
    """The micro engine's base-year members of a class (their credits min(m x level, cap))
    keep the class's mean: over the lognormal levels' quantiles, within 1e-4."""
    sd, cap, mean = 0.6, 40 * 25_000.0, 40 * 18_000.0
    u = (np.arange(200_000) + 0.5) / 200_000
    levels = np.exp(sd * stats.norm.ppf(u) - sd * sd / 2)
    credits = rules.members_credits(mean, levels, sd, cap, NO)
    assert credits.max() == cap
    assert credits.mean() == pytest.approx(mean, rel=1e-4)
    assert np.all(rules.members_credits(mean, levels[:5], 0.0, cap, NO) == mean)


@settings(max_examples=30, deadline=None)
@given(average=st.floats(2_000.0, 200_000.0), sd=st.floats(0.1, 1.0),
       minimum=st.sampled_from([0.0, 5_000.0]), maximum=st.sampled_from([0.0, 40_000.0]),
       ceiling=st.sampled_from([0.0, 150_000.0]), bends=st.booleans(),
       yearly=st.booleans())
def test_awards_at_levels_average_to_the_cells_mean_award(average, sd, minimum, maximum,
                                                          ceiling, bends, yearly):
    """The mean pensions of a cell's members within each of n equal-probability bands of
    their earnings levels (awards_at_levels, exact on the pension's linear pieces)
    average to the cell's mean award in closed form (old_age_award with the spread, a
    separate computation): to 1e-9 with the engine's 20 bands and with 3 (1.3e-12 the
    worst on a grid of these cases; with each band's pension at its mean level instead,
    as before, 4.2 %: an accrual formula whose maximum pension falls inside the top band
    at a log-sd of 1.0). The members stay in order of earnings."""
    service = 35
    formula = (rules.formula(0.0, bends=US_BENDS, factors=US_FACTORS, averaging_years=35,
                             ceiling=ceiling) if bends
               else rules.formula(0.015, ceiling=ceiling))
    caps = _caps([1.5, 2.5, 4.0], [0.5, 0.3, 0.2], sd) if yearly and ceiling else NO
    reference = average * service
    exact = rules.old_age_award(reference, service, 1.0, minimum, maximum, formula, sd, caps)
    for n in (rules.SHAPE_NODES, 3):
        out = np.empty(n)
        rules.awards_at_levels(reference, service, 1.0, minimum, maximum, formula, sd, caps,
                               rules.shape_bands(n), out)
        assert out.mean() == pytest.approx(exact, rel=1e-9)
        assert np.all(np.diff(out) >= -1e-9 * exact)  # members in order of earnings


def test_own_shapes_weigh_the_years_awards_and_keep_the_others():
    """kernels.own_shapes by hand: a class awarded at two ages (shares 0.02 and 0.01;
    the first's pensions reduced by the factor 0.8, the second's credits capped by the
    ceiling year by year, caps[sex, age]) takes the share-weighted sum of their pensions
    at the bands over its mean; a class without an award keeps last year's shape; every
    kept shape averages 1."""
    from spfsim.engine import cohort_kernels as kernels
    edges = rules.shape_bands(4)
    formula = rules.formula(0.0, bends=US_BENDS, factors=US_FACTORS, averaging_years=35,
                            ceiling=150_000.0)
    factor = np.ones((3, 2))
    factor[1, 0] = 0.8
    caps = np.zeros((2, 3, rules.CAPS_SIZE))
    caps[0, 2] = _caps([1.5, 2.5], [0.6, 0.4], 0.6)
    new_share = np.zeros((3, 2, 36))
    reference = np.zeros((3, 2, 36))
    new_share[1, 0, 35], new_share[2, 0, 35] = 0.02, 0.01
    reference[1, 0, 35], reference[2, 0, 35] = 35 * 30_000.0, 35 * 60_000.0
    shape = np.ones((2, 36, 4))
    shape[1, 20] = [0.4, 0.8, 1.1, 1.7]  # last year's, kept
    kernels.own_shapes(shape, new_share, reference, factor, formula, 0.0, 0.0, 0.6, caps,
                       edges)
    by_hand = np.zeros(4)
    for a, weight, f, cell_caps in ((1, 0.02, 0.8, NO), (2, 0.01, 1.0, caps[0, 2])):
        out = np.empty(4)
        rules.awards_at_levels(reference[a, 0, 35], 35, f, 0.0, 0.0, formula, 0.6,
                               cell_caps, edges, out)
        by_hand += weight * out
    np.testing.assert_allclose(shape[0, 35], by_hand / by_hand.mean(), rtol=1e-12)
    np.testing.assert_array_equal(shape[1, 20], [0.4, 0.8, 1.1, 1.7])
    np.testing.assert_array_equal(shape[0, 34], 1.0)
    assert shape[0, 35, 0] < 0.75 < 1.2 < shape[0, 35, -1]


def _caps(knots, weights, sd):
    """A cell's yearly caps (pension_rules.career_capped_pension's layout) by hand."""
    caps = np.zeros(rules.CAPS_SIZE)
    j = len(knots)
    caps[0] = j
    caps[1] = sum(w * (1.0 - rules.lognormal_excess(1.0, sd, k))
                  for k, w in zip(knots, weights, strict=True))
    caps[2:2 + j] = knots
    caps[2 + rules.MAX_KNOTS:2 + rules.MAX_KNOTS + j] = weights
    return caps


@settings(max_examples=40, deadline=None)
@given(average=st.floats(1_000.0, 200_000.0), sd=st.floats(0.1, 1.3),
       knots=st.lists(st.floats(0.3, 8.0), min_size=1, max_size=rules.MAX_KNOTS),
       weights=st.lists(st.floats(0.05, 1.0), min_size=rules.MAX_KNOTS,
                        max_size=rules.MAX_KNOTS),
       minimum=st.sampled_from([0.0, 5_000.0]), maximum=st.sampled_from([0.0, 40_000.0]),
       bends=st.booleans())
def test_the_yearly_ceilings_mean_pension_is_the_integral(average, sd, knots, weights,
                                                          minimum, maximum, bends):
    """career_capped_pension: a member of level L (lognormal, mean 1) averages
    average x G(L) / E[G], G(L) = sum w min(L, k); the mean of the bounded formula on it
    is its integral over L (200,001 points), to 1e-7."""
    knots = np.sort(np.array(knots))
    w = np.array(weights[:len(knots)]) / sum(weights[:len(knots)])
    caps = _caps(knots, w, sd)
    c0, b1, c1, b2, c2 = ((0.9, US_BENDS[0], 0.32 - 0.9, US_BENDS[1], 0.15 - 0.32) if bends
                          else (0.6, math.inf, 0.0, math.inf, 0.0))
    got = rules.career_capped_pension(average, sd, c0, b1, c1, b2, c2, minimum, maximum,
                                      caps)
    z = np.linspace(-10.0, 10.0, 200_001)
    density = np.exp(-0.5 * z * z)
    density /= density.sum()
    level = np.exp(sd * z - 0.5 * sd * sd)
    g = (w * np.minimum(level[:, None], knots)).sum(axis=1)
    y = average * g / (density @ g)
    p = c0 * y + c1 * np.maximum(y - b1, 0.0) + c2 * np.maximum(y - b2, 0.0)
    p = np.maximum(p, minimum)
    if maximum > 0:
        p = np.minimum(p, maximum)
    assert got == pytest.approx(density @ p, rel=1e-7)


def test_one_yearly_cap_is_the_cap_on_the_average():
    """With one knot, k = K / m (m the uncapped mean under the cap K on the average), the
    ceiling year by year is the ceiling on the average: the award and the members' credits
    are the closed form's, to 1e-10."""
    f = rules.formula(0.0, bends=US_BENDS, factors=US_FACTORS, averaging_years=35,
                      ceiling=120_000.0)
    sd, service, mean = 0.8, 35, 60_000.0
    cap = 120_000.0
    caps = _caps([cap / rules.uncapped_mean(mean, sd, cap)], [1.0], sd)
    for minimum, maximum in ((0.0, 0.0), (8_000.0, 30_000.0)):
        assert rules.old_age_award(mean * service, service, 0.9, minimum, maximum, f, sd,
                                   caps) == pytest.approx(
            rules.old_age_award(mean * service, service, 0.9, minimum, maximum, f, sd, NO),
            rel=1e-10)
    levels = np.exp(sd * np.linspace(-3, 3, 13) - sd * sd / 2)
    np.testing.assert_allclose(
        rules.members_credits(mean * service, levels, sd, cap * service, caps),
        rules.members_credits(mean * service, levels, sd, cap * service, NO), rtol=1e-10)


def test_career_caps_by_hand():
    """db_pension.career_caps: a cell of age x has the knots ceiling / m of the ages below
    x that have earnings and contributors, weighted m x contributors (summing to 1), in
    ascending order; more ages than MAX_KNOTS merge into groups of equal weight that keep
    the total weight and the weighted mean knot."""
    earnings = np.zeros((101, 2))
    contributing = np.zeros((101, 2))
    earnings[20:23, 0] = (10_000.0, 20_000.0, 40_000.0)
    contributing[20:23, 0] = (0.5, 0.5, 0.25)
    caps = dbp.career_caps(earnings, contributing, 50_000.0, 0.5)
    assert caps[0, 21, 0] == 1
    assert caps[0, 20, 0] == 0
    assert caps[1, 60, 0] == 0
    row = caps[0, 23]
    assert row[0] == 3
    np.testing.assert_allclose(row[2:5], [1.25, 2.5, 5.0])  # 50,000 / m, ascending
    np.testing.assert_allclose(row[2 + rules.MAX_KNOTS:5 + rules.MAX_KNOTS],
                               [0.4, 0.4, 0.2])  # m x contributing / 25,000
    assert row[1] == pytest.approx(_caps(row[2:5], row[18:21], 0.5)[1], rel=1e-14)
    # reference earnings over the last 2 years: a cell of 23 counts the ages 21 and 22
    # (earnings 20,000 and 40,000, contributors 0.5 and 0.25: equal weights)
    last = dbp.career_caps(earnings, contributing, 50_000.0, 0.5, years=2)[0, 23]
    assert last[0] == 2
    np.testing.assert_allclose(last[2:4], [1.25, 2.5])
    np.testing.assert_allclose(last[2 + rules.MAX_KNOTS:4 + rules.MAX_KNOTS], [0.5, 0.5])
    # with a low year at 23 (15,000, contributors 0.5), a cell of 24: the last 2 years
    # are the ages 22 and 23, the best 2 the ages 21 and 22 (as above)
    earnings[23, 0], contributing[23, 0] = 15_000.0, 0.5
    last = dbp.career_caps(earnings, contributing, 50_000.0, 0.5, years=2)[0, 24]
    np.testing.assert_allclose(last[2:4], [1.25, 50 / 15])
    best = dbp.career_caps(earnings, contributing, 50_000.0, 0.5, years=2, best=True)[0, 24]
    assert best[0] == 2
    np.testing.assert_allclose(best[2:4], [1.25, 2.5])
    np.testing.assert_allclose(best[2 + rules.MAX_KNOTS:4 + rules.MAX_KNOTS], [0.5, 0.5])
    earnings[15:65, 1] = np.linspace(5_000.0, 60_000.0, 50)
    contributing[15:65, 1] = 0.6
    row = dbp.career_caps(earnings, contributing, 80_000.0, 0.5)[1, 70]
    assert row[0] == rules.MAX_KNOTS
    knots, weights = row[2:2 + rules.MAX_KNOTS], row[2 + rules.MAX_KNOTS:]
    assert np.all(np.diff(knots) > 0)
    assert weights.sum() == pytest.approx(1.0)
    every = earnings[15:65, 1]
    assert knots @ weights == pytest.approx((80_000.0 / every) @ (every / every.sum()))


def test_career_caps_cut_the_years_transitory_earnings():
    """With transitory earnings (log-sd 0.6 around a person's level L) the ceiling cuts
    the year's earnings L e, not L: the caps' G(L) = sum w min(L, k) is then within 1.5 %
    of sum_a w_a E[min(L e, k_a)] (each year's expectation in closed form, L from 0.2 to
    4 times the mean; 8 bands of e, merged to MAX_KNOTS knots), below the G without the
    transitory earnings near the ceiling, its slope 1 below every knot; and 0 transitory
    earnings leave the caps as they were."""
    earnings, contributing = np.zeros((101, 2)), np.zeros((101, 2))
    earnings[20:60, 0] = np.linspace(20_000.0, 60_000.0, 40)
    contributing[20:60, 0] = 0.7
    ceiling, sd, transitory = 90_000.0, 0.5, 0.6
    row = dbp.career_caps(earnings, contributing, ceiling, sd, transitory)[0, 60]
    plain = dbp.career_caps(earnings, contributing, ceiling, sd)[0, 60]
    np.testing.assert_array_equal(dbp.career_caps(earnings, contributing, ceiling, sd, 0.0),
                                  dbp.career_caps(earnings, contributing, ceiling, sd))

    def g(caps, level):
        n = int(caps[0])
        return caps[2 + rules.MAX_KNOTS:2 + rules.MAX_KNOTS + n] @ np.minimum(
            level, caps[2:2 + n])

    m, w = earnings[20:60, 0], earnings[20:60, 0] * 0.7
    w = w / w.sum()
    for level in (0.2, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0):
        expected = w @ np.array([level - rules.lognormal_excess(level, transitory,
                                                                ceiling / x) for x in m])
        assert g(row, level) == pytest.approx(expected, rel=0.015), level
        assert g(row, level) <= g(plain, level) + 1e-12
    assert g(row, 1e-3) == pytest.approx(1e-3, rel=1e-12)


# ------------------------------------------------------------------------ the model


def bend_point_model(folder, sd: float = 0.6, ceiling: float = 25_000.0):
    """The small model with the US-style formula on its average earnings of 10,000 (bends
    at 22 % and 133 % of it), a ceiling at 2.5 times it and earnings spread."""
    write_small_model(folder)
    model = folder / "model.toml"
    model.write_text(model.read_text().replace("accrual_rate = 0.02", f"""accrual_rate = 0.0
benefit_formula = "bend_points"
bend_point_1 = {{ value = 2200.0, indexation = "wages" }}
bend_point_2 = {{ value = 13300.0, indexation = "wages" }}
averaging_years = 35
earnings_ceiling = {{ value = {ceiling}, indexation = "wages" }}""").replace(
        "government_revenue = 0.18", f"""government_revenue = 0.18
earnings_permanent_sd = {sd}
earnings_transitory_sd = 0.1"""))
    return folder


def test_bend_points_are_checked(small_model_dir):
    model = small_model_dir / "model.toml"
    model.write_text(model.read_text().replace("accrual_rate = 0.02", """accrual_rate = 0.0
benefit_formula = "bend_points"
bend_point_1 = 2200.0
bend_point_2 = 2000.0"""))
    problem = the_problem(small_model_dir, "model.toml", "pension.parameters.bend_point_2")
    assert problem.value == 2000.0
    assert "must be > bend_point_1 2200" in str(problem)


def test_elapsed_years_need_bend_points(small_model_dir):
    model = small_model_dir / "model.toml"
    model.write_text(model.read_text().replace(
        "accrual_rate = 0.02", "accrual_rate = 0.02\nelapsed_years_from_age = 22"))
    problem = the_problem(small_model_dir, "model.toml",
                          "pension.parameters.elapsed_years_from_age")
    assert problem.value == 22
    assert "needs benefit_formula = 'bend_points'" in str(problem)


def test_earnings_spread_is_checked(small_model_dir):
    model = small_model_dir / "model.toml"
    model.write_text(model.read_text().replace(
        "government_revenue = 0.18", "government_revenue = 0.18\nearnings_permanent_sd = -0.2"))
    problem = the_problem(small_model_dir, "model.toml", "economy.earnings_permanent_sd")
    assert problem.value == -0.2


def test_micro_runs_with_the_models_spread(tmp_path):
    """Fast (also without JIT: two years): the micro engine takes the model's spread and
    formula."""
    model = spfsim.load_model(bend_point_model(tmp_path / "m"), end_year=2026)
    ds = model.project("micro", persons=3000, seed=4)
    assert ds.attrs["earnings_permanent_sd"] == 0.6
    assert ds.attrs["earnings_transitory_sd"] == 0.1
    assert float(ds["benefit_expenditure"].sel(scheme="pension")[-1]) > 0


@pytest.mark.slow  # two cohort projections with the spread: 15 s with the JIT off
def test_a_wider_spread_under_the_ceiling_insures_less(tmp_path):
    """A higher spread under the same ceiling: fewer insurable earnings in the cohort
    engine."""
    model = spfsim.load_model(bend_point_model(tmp_path / "m"), end_year=2026)
    narrow = spfsim.load_model(bend_point_model(tmp_path / "n", sd=0.1), end_year=2026)
    wide = model.project().sel(scheme="pension")["insured_earnings"]
    assert float(wide[0]) < float(narrow.project().sel(scheme="pension")["insured_earnings"][0])


@pytest.mark.slow
def test_micro_agrees_with_cohort_on_bend_points_with_spread(tmp_path):
    """New pensions' average amount, pension expenditure and contributions with the
    bend-point formula, a ceiling and earnings spread within cells: 10 replications of
    40,000 persons are unbiased for the cohort engine's closed forms (see replication.py)."""
    model = spfsim.load_model(bend_point_model(tmp_path / "m"))
    cohort = model.project()
    runs = [model.project("micro", persons=40_000, seed=70 + r) for r in range(10)]
    for name in ("average_new_benefit", "benefit_expenditure", "contribution_income"):
        t, big_t = replication_t(np.stack([scheme_series(ds, name) for ds in runs]),
                                   scheme_series(cohort, name))
        assert np.abs(t).max() <= 5.5, (name, np.abs(t).max())
        assert abs(big_t) <= 4.5, (name, big_t)
