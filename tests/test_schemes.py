"""Scheme rules and the cohort engine, against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from spfsim.engine.cohort import PensionState, PensionYear
from spfsim.schemes import db_pension as dbp
from spfsim.schemes import noncontributory as nc
from spfsim.schemes import pension_rules as rules


def test_pension_formula_by_hand():
    # 30 credited years at 10,000 (revalued) and 2 % accrual: 0.02 x 30 x 10,000 = 6,000
    assert dbp.pension_at_award(0.02, 30 * 10_000.0, 1_500.0) == pytest.approx(6_000.0)
    # the minimum pension lifts a small pension: 0.02 x 5 x 10,000 = 1,000 -> 1,500
    assert dbp.pension_at_award(0.02, 5 * 10_000.0, 1_500.0) == pytest.approx(1_500.0)
    # in payment: indexed 3 % then floored at this year's minimum
    assert dbp.pension_in_payment(1_000.0, 0.03, 1_000.0) == pytest.approx(1_030.0)
    assert dbp.pension_in_payment(1_000.0, 0.03, 1_100.0) == pytest.approx(1_100.0)
    assert dbp.contributions(0.1, np.array([1e6])) == pytest.approx([1e5])


def test_eligibility():
    age = np.array([59, 60, 60, 65])
    service = np.array([30, 14, 15, 40])
    np.testing.assert_array_equal(dbp.is_eligible(age, 60, service, 15),
                                  [False, False, True, True])


def year_inputs(density, earnings=1000.0, revaluation=0.0, minimum=0.0, min_service=0,
                accrual=0.02, retirement=60, persistence=0.0, incidence=0.0,
                disability_service=5, recovery=0.0):
    n_age = 101
    d = np.zeros((n_age, 2))
    d[20:60] = density
    return PensionYear(
        density=d, persistence=persistence, earnings=np.full((n_age, 2), earnings),
        retirement_age=np.full((n_age, 2), retirement), minimum_service=min_service,
        formula=rules.formula(accrual), minimum_pension=minimum, maximum_pension=0.0,
        open_weights=np.ones((2, 2)),
        newcomer_share=np.zeros((n_age, 2)), revaluation=revaluation, indexation=0.0,
        incidence=np.full((n_age, 2), incidence), disability_minimum_service=disability_service,
        recovery_rate=recovery)


def run_cohort(y: PensionYear, years: int) -> tuple[PensionState, list]:
    state, awards = PensionState(), []
    for _ in range(years):
        awards.append(state.step(y))
        state.advance(y)
    awards.append(state.step(y))
    return state, awards


def test_full_career_pension_by_hand():
    """Contributing every year from 20 to 59 with earnings revalued 3 % a year.

    A contribution at age a is revalued on entering each later year up to the award at 60,
    i.e. 60 - a times: credits = 1000 x sum_{m=1..40} 1.03^m.
    """
    y = year_inputs(density=1.0, revaluation=0.03)
    _state, awards = run_cohort(y, 60)
    new_share, new_amount = awards[-1]
    # after 60 steps the cohort that was aged 0 at the start is exactly 60
    credits = 1000.0 * sum(1.03**m for m in range(1, 41))
    assert new_share[60, 0].sum() == pytest.approx(1.0)
    assert new_share[60, 0, 40] == pytest.approx(1.0)  # all in the 40-year service class
    assert new_amount[60, 0].sum() == pytest.approx(0.02 * credits)


def test_service_distribution_is_binomial_not_an_average():
    """Half the cohort contributes each year at random: service ~ Binomial(40, 0.5).

    With 21 years needed, the share entitled is P(B >= 21) = 0.4373..., whereas a crude
    average career (20 years each) would entitle nobody.
    """
    y = year_inputs(density=0.5, min_service=21)
    _, awards = run_cohort(y, 60)
    new_share, new_amount = awards[-1]
    assert new_share[60, 0].sum() == pytest.approx(stats.binom.sf(20, 40, 0.5), rel=1e-9)
    # mean pension of those entitled: 0.02 x 1000 x E[B | B >= 21]
    b = np.arange(21, 41)
    mean_service = (b * stats.binom.pmf(b, 40, 0.5)).sum() / stats.binom.sf(20, 40, 0.5)
    assert new_amount[60, 0].sum() / new_share[60, 0].sum() == pytest.approx(
        0.02 * 1000 * mean_service, rel=1e-9)


def test_full_persistence_splits_insiders_and_outsiders():
    """persistence = 1, density 0.5 from age 20: half contribute every year (40 years of
    service), half never do; with 15 years needed exactly half get a pension."""
    y = year_inputs(density=0.5, min_service=15, persistence=1.0)
    _, awards = run_cohort(y, 60)
    new_share, new_amount = awards[-1]
    assert new_share[60, 0, 40] == pytest.approx(0.5)
    assert new_share[60, 0].sum() == pytest.approx(0.5)
    assert new_amount[60, 0].sum() == pytest.approx(0.5 * 0.02 * 40 * 1000)


@pytest.mark.parametrize("persistence", [0.0, 0.3, 0.9, 1.0])
def test_contributing_share_equals_density_whatever_the_persistence(persistence):
    y = year_inputs(density=0.37, persistence=persistence)
    state = PensionState()
    for _ in range(30):
        state.step(y)
        np.testing.assert_allclose(state.contributing_share(), y.density, atol=1e-12)
        state.advance(y)


def test_minimum_pension_applies_per_service_class():
    y = year_inputs(density=0.5, minimum=300.0)
    _, awards = run_cohort(y, 60)
    _new_share, new_amount = awards[-1]
    b = np.arange(41)
    expected = (stats.binom.pmf(b, 40, 0.5) * np.maximum(0.02 * 1000 * b, 300.0)).sum()
    assert new_amount[60, 0].sum() == pytest.approx(expected, rel=1e-9)


def test_universal_benefit_by_hand():
    age = np.arange(101)
    population = np.full(101, 10.0)
    eligible = nc.in_age_band(age, 65, 100)
    assert eligible.sum() == 36
    assert (population * eligible * 0.5).sum() == pytest.approx(180.0)


def test_engine_universal_benefit_cost(small_projection):
    ds = small_projection.sel(scheme="child_benefit")
    pop = small_projection["population"].sel(age=slice(0, 14)).sum(("age", "sex"))
    np.testing.assert_allclose(ds["beneficiaries"].sum(("age", "sex")), 0.9 * pop)
    np.testing.assert_allclose(ds["benefit_expenditure"], 0.9 * pop * 600.0)
    np.testing.assert_allclose(ds["state_transfer"], ds["benefit_expenditure"])
    assert np.isnan(ds["paygo_cost_rate"]).all()
    assert (ds["reserve"] == 0).all()


def test_engine_pension_contributions_and_admin(small_projection):
    ds = small_projection.sel(scheme="pension")
    np.testing.assert_allclose(ds["contribution_income"], 0.10 * ds["insured_earnings"])
    np.testing.assert_allclose(ds["admin_expenditure"], 0.05 * ds["benefit_expenditure"])
    # nobody below retirement age draws a pension; nobody above it contributes
    assert float(ds["beneficiaries"].sel(age=slice(0, 59)).sum()) == 0.0
    assert float(ds["contributors"].sel(age=slice(62, None), sex="male").sum()) == 0.0
    # the scheme matures: more pensioners every year
    pensioners = ds["beneficiaries"].sum(("age", "sex")).values
    assert (np.diff(pensioners) > 0).all()


def test_engine_contributors_match_labour_coverage(small_projection):
    ds = small_projection
    covered = ds["employed"] * 0.4  # coverage 0.4 in the small model
    working = ds["contributors"].sel(scheme="pension").sel(age=slice(15, 59))
    np.testing.assert_allclose(working, covered.sel(age=slice(15, 59)), rtol=1e-12)


def test_disability_pension_by_hand():
    """Full careers from 20, onset 1 % a year after 5 years of service: at 40 (20 years
    of service, 20 future years to 60) the disability pension is accrual x (20 + 20) x
    earnings, and the disabled share follows 1 - 0.99^(years exposed)."""
    y = year_inputs(density=1.0, persistence=1.0, incidence=0.01, disability_service=5)
    state, _ = run_cohort(y, 20)
    # at age 40 (index 40): those disabled this year had 20 years, 20 future years
    assert dbp.disability_pension(0.02, 20 * 1000.0, 20, 20, 0.0) == pytest.approx(800.0)
    exposed_years = 40 - 25 + 1  # onsets from age 25 (5 years of service) to 40
    assert state.invalid[40, 0].sum() == pytest.approx(1 - 0.99 ** exposed_years, rel=1e-9)
    onset_now = state.invalid[40, 0, 20].sum()  # over the contribution classes
    assert state.invalid_pension[40, 0, 20] == pytest.approx(onset_now * 800.0, rel=1e-9)
    # nobody below the qualifying period becomes disabled
    assert state.invalid[24, 0].sum() == 0.0
    # shares are conserved: active + disabled = 1 below the pensionable age
    assert state.active[40].sum(axis=(1, 2, 3)) + state.invalid[40].sum(axis=(1, 2)) == \
        pytest.approx([1.0, 1.0])


def test_disability_recovery_and_conversion():
    """Recovery returns the disabled to the active insured with their service; at the
    pensionable age disability pensions continue unchanged as old-age pensions."""
    y = year_inputs(density=1.0, persistence=1.0, incidence=0.01, recovery=0.5)
    state, _ = run_cohort(y, 40)
    no_recovery, _ = run_cohort(year_inputs(density=1.0, persistence=1.0, incidence=0.01), 40)
    assert state.invalid[50, 0].sum() < 0.5 * no_recovery.invalid[50, 0].sum()
    assert state.invalid[60:].sum() == 0.0  # converted at 60
    # at 60 everybody has a pension: those still disabled at 59 keep their amount
    assert state.pensioners[60, 0].sum() == pytest.approx(1.0, rel=1e-9)


@settings(max_examples=20, deadline=None)
@given(service=st.integers(1, 40), future=st.integers(0, 40),
       credits=st.floats(1.0, 1e6), extra=st.integers(1, 10))
def test_disability_pension_never_falls_with_service_or_earnings(service, future, credits,
                                                                 extra):
    base = dbp.disability_pension(0.02, credits, service, future, 100.0)
    assert dbp.disability_pension(0.02, credits * 1.1, service, future, 100.0) >= base
    # an extra credited year at the same average earnings never lowers the pension
    more = dbp.disability_pension(0.02, credits * (service + extra) / service,
                                  service + extra, max(future - extra, 0), 100.0)
    assert more >= base - 1e-9


COHORT_AGES = ('retirement_age = { male = { 1900 = 62, 1970 = 65 }, female = 60 }\n'
               'retirement_age_basis = "birth_year"')


def test_retirement_age_by_birth_cohort(small_model_dir):
    """Men born before 1970 retire at 62, later cohorts at 65: no new male pensions at 62
    from 2032 (the 1970 cohort turns 62) until 2035 (it turns 65)."""
    import spfsim

    toml = small_model_dir / "model.toml"
    toml.write_text(toml.read_text().replace(
        "retirement_age = { male = 62, female = 60 }", COHORT_AGES))
    model = spfsim.load_model(small_model_dir)
    scheme = model.assumptions.schemes[0]
    grid = scheme.retirement_age_grid  # (year, age, sex)
    k = list(model.years).index(2033)
    assert grid[k, 64, 0] == 62  # born 1969
    assert grid[k, 63, 0] == 65  # born 1970
    assert grid[k, 30, 1] == 60
    # the youngest pensionable age: 62 until 2031, then 63, 64 (nobody of the 1970 cohort
    # qualifies at 62-64), 65 from 2035
    youngest = dict(zip(model.years, scheme["retirement_age"][:, 0], strict=True))
    assert (youngest[2031], youngest[2032], youngest[2034], youngest[2035]) == (62, 63, 65, 65)
    for engine in ("cohort", "micro"):
        ds = model.project(engine, persons=4000, seed=3)
        new = ds["beneficiaries"].sel(scheme="pension", sex="male")
        # pensioners aged 62-64 in 2036: cohorts 1972-74, none yet
        assert float(new.sel(year=2036, age=slice(62, 64)).sum()) == 0.0, engine
        assert float(new.sel(year=2036, age=65).sum()) > 0.0, engine
        assert float(new.sel(year=2030, age=62).sum()) > 0.0, engine
