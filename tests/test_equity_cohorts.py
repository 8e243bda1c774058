"""Cohort cash flows of a projection: the closed tail, completeness, the Dataset measures
(spfsim.equity.cohorts)."""

from __future__ import annotations

import numpy as np
import pytest

import spfsim
from spfsim.equity import by_cohort, cohort_irr
from spfsim.equity.cohorts import (
    close_tail,
    cohort_flows,
    completion_age,
    continuation_factors,
    entry_age,
    equity_variables,
)


def _zeros(years: int = 3) -> np.ndarray:
    return np.zeros((years, 101, 2))


def test_close_tail_follows_survivors_into_the_open_group():
    b = _zeros()
    b[-1, 98, 0] = 100.0   # a life pension at 98
    b[-1, 40, 1] = 50.0    # a temporary benefit below the tail age: stops
    b[0, 70, 0] = 7.0      # earlier years are kept as they are
    q = np.zeros((101, 2))
    q[98, 0], q[99, 0], q[100, 0] = 0.1, 0.2, 0.5
    out = close_tail(b, q, 60, 0.02, 3)
    assert out.shape == (6, 101, 2)
    np.testing.assert_array_equal(out[:3], b)
    assert out[3, 99, 0] == pytest.approx(100 * 0.9 * 1.02)
    assert out[4, 100, 0] == pytest.approx(100 * 0.9 * 0.8 * 1.02 ** 2)
    assert out[5, 100, 0] == pytest.approx(100 * 0.9 * 0.8 * 0.5 * 1.02 ** 3)
    assert out[3:, :, 1].sum() == 0.0
    assert out[3:].sum(axis=(1, 2)) == pytest.approx(
        [100 * 0.9 * 1.02, 100 * 0.72 * 1.02 ** 2, 100 * 0.36 * 1.02 ** 3])


def test_lump_sums_are_not_continued():
    b = _zeros()
    b[-1, 65, 0] = 300.0
    lump = _zeros()
    lump[-1, 65, 0] = 200.0  # a refund among the year's benefits
    out = close_tail(b, np.zeros((101, 2)), 60, 0.0, 2, lump)
    assert out[3, 66, 0] == pytest.approx(100.0)
    assert out[4, 67, 0] == pytest.approx(100.0)


def test_continuation_factors_are_close_tail_person_by_person():
    """A pension paid at age x in the last year continues, in expectation over that year's
    deaths, as (1 - q(x)) f(x + 1): the same present value as close_tail's tail."""
    generator = np.random.default_rng(1)
    q = np.clip(0.0005 * np.exp(0.09 * np.arange(101)), 0, 0.6)[:, None] * [1.0, 0.8]
    q = q * generator.uniform(0.9, 1.1, q.shape)
    growth, rate, years = 0.03, 0.06, 160
    paid = np.zeros((1, 101, 2))
    paid[0, 60:] = generator.uniform(1, 5, (41, 2))
    tail = close_tail(paid, q, 60, growth, years)[1:]  # the years after the last
    v = (1.0 + rate) ** -np.arange(1, years + 1)  # from the last year's middle
    expected = np.tensordot(v, tail, axes=(0, 0)).sum()
    f = continuation_factors(q, growth, rate, years)
    next_age = np.minimum(np.arange(101) + 1, 100)
    per_person = (paid[0] * (1.0 - q) * f[next_age]).sum()
    assert per_person == pytest.approx(expected, rel=1e-12)
    # by hand at the open group: f(100) = sum_j r^j p^(j-1), r = 1.03 / 1.06
    r, p = growth + 1.0, 1.0 - q[100, 0]
    r /= 1.0 + rate
    assert f[100, 0] == pytest.approx(r / (1.0 - r * p), rel=1e-12)


def test_micro_lifetime_values_add_up_to_the_cohort_flows(small_model_dir):
    """Persons' lifetime present values (micro engine), summed by 5-year birth cohort,
    equal the present values of the pension's cash flows by age of those cohorts (the
    small model has no survivors' pensions, so all benefits are own pensions or refunds);
    the pensions continued after the horizon match close_tail's within sampling error."""
    from spfsim.demography import project_population
    from spfsim.economy import project_economy
    from spfsim.engine.cohort import death_rates
    from spfsim.engine.micro import kernels as K
    from spfsim.engine.micro.engine import MicroSettings, run_micro
    from spfsim.equity.returns import by_cohort, discount_factors

    a = spfsim.load_model(small_model_dir).assumptions
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb,
                              a.net_migration)
    econ = project_economy(a, demo.population)
    result = run_micro(a, demo, econ, MicroSettings(persons=4000, seed=3), None)
    pension = next(f for f, s in zip(result.flows, a.schemes, strict=True)
                   if s.type == "db_old_age_pension")
    v = discount_factors(a.years, a.interest_rate)
    ages = np.arange(101)
    totals = result.exit_totals  # (group, sex, 3), weighted
    groups = result.first_birth_year + K.COHORT_GROUP * np.arange(totals.shape[0])
    # cohorts that stay below the open age group 100 to the horizon
    inside = groups >= a.years[-1] - 99
    for k, flows in ((K.PV_CONTRIBUTIONS, pension.contributions_by_age),
                     (K.PV_BENEFITS, pension.benefits_by_age)):
        cohorts, by = by_cohort(a.years, ages, flows * v[:, None, None])
        pv = by.sum(axis=0)  # (cohort, sex)
        expected = np.array([pv[(cohorts >= g) & (cohorts < g + K.COHORT_GROUP)].sum(axis=0)
                             for g in groups])
        assert expected[inside].sum() > 0
        np.testing.assert_allclose(totals[inside, :, k], expected[inside], rtol=2e-5,
                                   atol=1e-6 * expected.max())
    # after the horizon: the closed tail of the last year's own pensions (no lump sums),
    # in expectation over the last year's deaths
    from spfsim.pipeline import tail_settings

    growth = tail_settings(a)[1][[s.type for s in a.schemes].index("db_old_age_pension")]
    rate = float(a.interest_rate[-1])
    last = pension.benefits_by_age[-1:] - pension.lump_sums_by_age[-1:]
    tail = close_tail(last, death_rates(demo.survival[-1]), 0, growth, 150)[1:]
    expected = v[-1] * np.tensordot((1.0 + rate) ** -np.arange(1, 151), tail, axes=(0, 0))
    simulated = totals[..., K.PV_AFTER].sum()
    assert simulated == pytest.approx(expected.sum(), rel=0.03)


def test_entry_and_completion_ages():
    c, b = _zeros(), _zeros()
    c[1, 16, 0] = c[2, 59, 1] = 1.0   # contributions from 16; in the last year up to 59
    b[2, 30, 0] = 1.0                 # a temporary benefit (below the tail age)
    b[2, 70, 1] = 1.0                 # a life pension
    assert entry_age(c, b) == 16
    assert completion_age(c, b, tail_age=62) == 62    # past 59, at the tail age
    # no tail: every benefit is temporary, the pension at 70 too
    assert completion_age(c, b, tail_age=101) == 71
    b[2, 70, 1] = 0.0
    assert completion_age(c, b, tail_age=101) == 60   # past the last contribution (59)
    b[2, 75, 0] = 1.0
    assert completion_age(c, b, tail_age=101) == 76   # no tail: every benefit is temporary
    assert entry_age(np.zeros_like(c), b) == 30       # no contributions: first benefit


def test_dataset_measures_match_the_cohort_functions():
    """One contributory scheme paid by cohort 2000 only: the Dataset's IRR is that of the
    stream with the tail, its complete flag follows the ages."""
    years = np.arange(2020, 2081)
    c, b = np.zeros((61, 101, 2)), np.zeros((61, 101, 2))
    for t, year in enumerate(years):
        age = year - 2000
        if 20 <= age < 60:
            c[t, age, :] = 100.0
        elif age >= 60:
            b[t, age, :] = 400.0
    q = np.full((101, 2), 0.05)
    rates = np.full(len(years), 0.03)
    ds = equity_variables(years, ["p"], [c], [b], [None], q, rates, [60], [0.01],
                          currency="LCU")
    f = cohort_flows(years, c, b, q, 60, 0.01, 100 - 60 + 20)
    k = int(np.flatnonzero(f.cohorts == 2000)[0])
    expected = cohort_irr(f.years, f.contributions[:, k], f.benefits[:, k])
    np.testing.assert_allclose(ds["cohort_irr"].sel(cohort=2000, scheme="p").values,
                               expected, rtol=1e-12)
    assert np.all(np.isfinite(expected))
    assert bool(ds["cohort_complete"].sel(cohort=2000, scheme="p"))   # 20 in 2020, 80 in 2080
    assert not bool(ds["cohort_complete"].sel(cohort=1999, scheme="p"))  # 21 in 2020
    assert not bool(ds["cohort_complete"].sel(cohort=2021, scheme="p"))  # 59 in 2080
    assert bool(ds["cohort_complete"].sel(cohort=2020, scheme="p"))
    assert ds["net_transfer_pv"].attrs["units"].startswith("LCU")
    assert float(ds["tail_age"].sel(scheme="p")) == 60.0


@pytest.mark.parametrize("engine", ["cohort", "micro"])
def test_flows_by_age_add_up_to_the_scheme_totals(small_model_dir, engine):
    """Fast (also without JIT): every scheme's contributions and benefits by age and sex
    sum to its contribution income and benefit expenditure, in both engines."""
    from spfsim.demography import project_population
    from spfsim.economy import project_economy
    from spfsim.engine.cohort import run_schemes
    from spfsim.engine.micro.engine import MicroSettings, run_micro

    a = spfsim.load_model(small_model_dir, end_year=2029).assumptions
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb,
                              a.net_migration)
    econ = project_economy(a, demo.population)
    flows = (run_schemes(a, demo, econ)[0] if engine == "cohort"
             else run_micro(a, demo, econ, MicroSettings(persons=3000, seed=2), None).flows)
    for f in flows:
        np.testing.assert_allclose(f.contributions_by_age.sum(axis=(1, 2)),
                                   f.contribution_income, rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(f.benefits_by_age.sum(axis=(1, 2)),
                                   f.benefit_expenditure, rtol=1e-9, atol=1e-6)
    assert any(f.benefits_by_age.sum() > 0 for f in flows)
    assert any(f.contributions_by_age.sum() > 0 for f in flows)


def test_the_compiled_tail_and_cohorts_are_their_numpy_forms():
    """close_tail's continued years and by_cohort's re-indexing run compiled (Numba's JIT
    on) or in NumPy (off): the same numbers bit for bit, the later cohorts cut or not."""
    from spfsim.equity.cohorts import _continued, _continued_arrays
    from spfsim.equity.returns import _skew, _skew_arrays

    generator = np.random.default_rng(7)
    paying = generator.uniform(0, 1e6, (101, 2))
    survive = generator.uniform(0.5, 1.05, (101, 2))
    compiled, arrays = np.zeros((40, 101, 2)), np.zeros((40, 101, 2))
    _continued(paying.copy(), survive, compiled)
    _continued_arrays(paying.copy(), survive, arrays)
    np.testing.assert_array_equal(compiled, arrays)
    values = generator.uniform(-1e5, 1e5, (30, 101, 2))
    for n_cohorts in (130, 101, 7):
        compiled, arrays = np.zeros((30, n_cohorts, 2)), np.zeros((30, n_cohorts, 2))
        _skew(values, compiled)
        _skew_arrays(values, arrays)
        np.testing.assert_array_equal(compiled, arrays)
    cohorts, out = by_cohort(np.arange(2000, 2030), np.arange(101), values, last_cohort=1950)
    np.testing.assert_array_equal(cohorts, np.arange(1900, 1951))
    assert out.shape == (30, 51, 2)
    assert out[5, 1950 - 1900, 1] == values[5, 2005 - 1950, 1]
