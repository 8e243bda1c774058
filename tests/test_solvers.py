"""Solvers of spfsim.finance: each solution meets its constraints, and a perturbed solution
violates one or worsens the objective; infeasible problems say so and by how much."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest

from spfsim.equity import cohort_irr, complete_cohorts
from spfsim.finance import (
    SolverResult,
    contribution_schedule,
    model_balance_of,
    project_with_rate,
    rate_and_state_transfer,
    reserve_ratio,
    retirement_age_path,
    scheme_balance,
    summarized_rates,
)

# --------------------------------------------------------------------------- fixtures


def growing_cost(n=60):
    """A maturing scheme: the PAYG cost rate rises from 6.2 % to about 15 % of earnings."""
    t = np.arange(n)
    earnings = 1000.0 * 1.03**t
    benefits = earnings * (0.06 + 0.10 * (1 - np.exp(-t / 25)))
    return benefits, 0.04 * benefits, earnings, np.full(n, 0.045)


SCHEDULE = {"initial_reserve": 2 * 62.4, "start_rate": 0.08, "step_every": 5,
            "target_reserve_ratio": 1.5}


def cohort_scheme(first_year=2000, n_years=140, wage_growth=0.02, interest=0.04):
    """Cohort cash flows built by hand: cohorts whose birth growth falls from 2.5 % to
    0.5 % a year (an ageing scheme), survival by sex, careers 20-64 with a rising earnings
    profile, wage-indexed pensions 65-89. Aggregates are the sums over cohorts."""
    years = np.arange(first_year, first_year + n_years)
    ages = np.arange(20, 90)
    cohorts = np.arange(years[0] - ages[-1], years[-1] - ages[0] + 1)
    size = np.exp(np.cumsum(0.005 + 0.02 / (1 + np.exp((cohorts - 1990) / 12.0))))
    survival = [np.exp(-level * 0.0004 * np.expm1(0.09 * (ages - 20)) / 0.09)
                for level in (1.0, 0.7)]
    wage = (1 + wage_growth) ** (years - years[0])
    age = years[:, None] - cohorts[None, :]  # (year, cohort)
    inside = (age >= 20) & (age <= 89)
    earnings = np.zeros((years.size, cohorts.size, 2))
    benefits = np.zeros_like(earnings)
    for sex in (0, 1):
        alive = np.where(inside, survival[sex][np.clip(age - 20, 0, ages.size - 1)], 0.0)
        people = size[None, :] * alive * wage[:, None]
        earnings[:, :, sex] = np.where(age <= 64, people * (1 + 0.01 * (age - 20)), 0.0)
        benefits[:, :, sex] = np.where(age >= 65, 0.48 * people, 0.0)
    b = benefits.sum(axis=(1, 2))
    s = earnings.sum(axis=(1, 2))
    return {"years": years, "cohorts": cohorts, "earnings": earnings, "benefits": benefits,
            "b": b, "e": 0.03 * b, "s": s, "i": np.full(years.size, interest),
            "gdp": s / 0.4, "complete": complete_cohorts(years, cohorts, 20, 89)}


@pytest.fixture(scope="module")
def cohorts():
    return cohort_scheme()


def solve_rate_and_state(data, fiscal_limit=0.01, **options):
    return rate_and_state_transfer(
        data["b"], data["e"], data["s"], data["i"], data["gdp"], initial_reserve=0.0,
        cohort_earnings=data["earnings"], cohort_benefits=data["benefits"],
        years=data["years"], fiscal_limit=fiscal_limit, horizon=75, step_every=20,
        complete=data["complete"], **options)


# --------------------------------------------------------------------------- 1. schedule


def test_contribution_schedule_meets_target_with_allowed_steps():
    b, e, s, i = growing_cost()
    result = contribution_schedule(b, e, s, i, max_step=0.01, **SCHEDULE)
    assert isinstance(result, SolverResult)
    assert result.success, result.message
    rates, steps = result.solution["rates"], result.solution["steps"]
    # independent check of the constraint: roll the fund forward under the rates
    fund = project_with_rate(rates, b, e, s, i, SCHEDULE["initial_reserve"])
    ratio = reserve_ratio(fund.reserve, b, e)
    assert np.all(ratio >= SCHEDULE["target_reserve_ratio"] - 1e-9)
    np.testing.assert_allclose(result.constraints["reserve_ratio"], ratio, rtol=1e-12)
    assert result.constraints["min_margin"] >= -1e-9
    # steps within [0, max_step], only at multiples of k, adding up to the rates
    assert np.all(steps >= -1e-12)
    assert np.all(steps <= 0.01 + 1e-12)
    np.testing.assert_array_equal(result.solution["step_years"], np.arange(0, 60, 5))
    changes = np.flatnonzero(np.abs(np.diff(rates)) > 1e-12) + 1
    assert np.all(changes % 5 == 0)
    np.testing.assert_allclose(rates[::5], SCHEDULE["start_rate"] + np.cumsum(steps),
                               atol=1e-12)
    assert np.any(steps > 1e-6)  # the problem is not trivial: the target needs increases


def test_contribution_schedule_perturbation_violates_or_costs_more():
    """At the LP optimum, lowering any positive step breaks the target in some year, and
    raising any step (with room) raises the present value of contributions."""
    b, e, s, i = growing_cost()
    result = contribution_schedule(b, e, s, i, max_step=0.01, **SCHEDULE)
    steps, target = result.solution["steps"], SCHEDULE["target_reserve_ratio"]
    pv = result.solution["pv_contributions"]
    assert np.count_nonzero(steps > 1e-9) >= 3
    for j in np.flatnonzero(steps > 1e-9):
        lower = steps.copy()
        lower[j] -= min(steps[j], 1e-4)
        rates = SCHEDULE["start_rate"] + np.repeat(np.cumsum(lower), 5)
        ratio = reserve_ratio(project_with_rate(rates, b, e, s, i,
                                                SCHEDULE["initial_reserve"]).reserve, b, e)
        assert ratio.min() < target - 1e-7, f"step {j} could be lowered"
    mid = np.concatenate([[1.0], 1 / np.cumprod(1 + i)[:-1]]) / np.sqrt(1 + i)
    for j in np.flatnonzero(steps < 0.01 - 1e-9):
        higher = steps.copy()
        higher[j] += 1e-4
        rates = SCHEDULE["start_rate"] + np.repeat(np.cumsum(higher), 5)
        assert np.sum(mid * rates * s) > pv


def test_contribution_schedule_single_step_is_the_smallest_constant_rate():
    """With one possible change (at year 0) the LP gives the smallest constant rate that
    keeps the ratio: max_t (target X - F at rate 0) / (F at rate 1 - F at rate 0)."""
    b, e, s, i = growing_cost(30)
    f0 = SCHEDULE["initial_reserve"]
    at0 = project_with_rate(0.0, b, e, s, i, f0).reserve
    at1 = project_with_rate(1.0, b, e, s, i, f0).reserve
    expected = np.max((1.5 * (b + e) - at0) / (at1 - at0))
    result = contribution_schedule(b, e, s, i, initial_reserve=f0, start_rate=0.0,
                                   max_step=1.0, step_every=30, target_reserve_ratio=1.5)
    assert result.success
    assert result.solution["rates"][0] == pytest.approx(expected, abs=1e-8)


def test_contribution_schedule_with_decreases():
    """An early cost hump: the rate may fall afterwards, which costs less than keeping it;
    lowering any step further (within its bounds) breaks the target in some year."""
    _, _, s, i = growing_cost()
    b = s * np.where(np.arange(60) < 20, 0.12, 0.07)
    options = {**SCHEDULE, "initial_reserve": 1.6 * 1.04 * b[0], "start_rate": 0.12}
    result = contribution_schedule(b, 0.04 * b, s, i, max_step=0.03, allow_decreases=True,
                                   **options)
    assert result.success, result.message
    steps = result.solution["steps"]
    assert np.all(np.abs(steps) <= 0.03 + 1e-12)
    assert steps.min() < -0.01  # the rate comes down
    assert np.all(result.solution["rates"] >= -1e-12)
    assert result.constraints["min_margin"] >= -1e-9
    without = contribution_schedule(b, 0.04 * b, s, i, max_step=0.03, **options)
    assert without.success
    assert result.objective < without.objective - 0.01  # freedom to lower the rate pays
    for j in np.flatnonzero(steps > -0.03 + 1e-4):
        lower = steps.copy()
        lower[j] -= 1e-4
        rates = options["start_rate"] + np.repeat(np.cumsum(lower), 5)
        ratio = reserve_ratio(project_with_rate(rates, b, 0.04 * b, s, i,
                                                options["initial_reserve"]).reserve,
                              b, 0.04 * b)
        assert ratio.min() < 1.5 - 1e-7, f"step {j} could be lowered"


def test_contribution_schedule_infeasible_reports_best_minimum_ratio():
    b, e, s, i = growing_cost()
    result = contribution_schedule(b, e, s, i, max_step=0.002, **SCHEDULE)
    assert not result.success
    best = 1.5 + result.constraints["min_margin"]
    assert best < 1.5
    assert "target 1.5" in result.message
    assert f"{best:.6g}" in result.message
    assert "best achievable minimum reserve ratio" in result.message
    # the best schedule uses every step in full: nothing more can be done
    np.testing.assert_allclose(result.solution["steps"], 0.002, atol=1e-9)


def test_contribution_schedule_rate_cap_makes_it_infeasible():
    b, e, s, i = growing_cost()
    result = contribution_schedule(b, e, s, i, max_step=0.05, max_rate=0.10, **SCHEDULE)
    assert not result.success
    assert "rates <= 0.1" in result.message
    assert np.all(result.solution["rates"] <= 0.10 + 1e-12)


# --------------------------------------------------------------------------- 2. rate + state


def dispersion(data, period_rates, starts):
    """Unweighted SD of the complete cohorts' IRRs (both sexes), computed independently."""
    rates = np.repeat(period_rates, np.diff(np.append(starts, data["years"].size)))
    irr = cohort_irr(data["years"], rates[:, None, None] * data["earnings"],
                     data["benefits"], where=data["complete"], grid_points=201)
    return float(np.std(irr[data["complete"]]))


def balance(data, period_rates, starts, sigma):
    rates = np.repeat(period_rates, np.diff(np.append(starts, data["years"].size)))
    cost = data["b"] + data["e"]
    return summarized_rates(rates * data["s"] + sigma * cost, data["b"], data["e"], data["s"],
                            data["i"], 0.0, horizon=75).actuarial_balance


def test_rate_and_state_transfer_meets_constraints(cohorts):
    start = time.perf_counter()
    result = solve_rate_and_state(cohorts, fiscal_limit=0.01)
    assert time.perf_counter() - start < 30
    assert result.success, result.message
    sol, con = result.solution, result.constraints
    starts = sol["period_starts"]
    sigma = sol["sigma"]
    assert balance(cohorts, sol["period_rates"], starts, sigma) >= -1e-6
    assert con["actuarial_balance"] >= -1e-6
    cost = cohorts["b"] + cohorts["e"]
    assert np.all(sigma * cost / cohorts["gdp"] <= 0.01 + 1e-9)
    assert con["max_state_transfer_to_gdp"] <= 0.01 + 1e-9
    np.testing.assert_allclose(sol["state_transfer"], sigma * cost)
    assert result.objective == pytest.approx(dispersion(cohorts, sol["period_rates"], starts),
                                             rel=1e-9)
    # the solver improved on its feasible start (a constant rate)
    assert result.objective < dispersion(cohorts, np.full(starts.size, sol["start_rate"]),
                                         starts) - 1e-5
    assert np.isfinite(sol["irr"][cohorts["complete"]]).all()
    assert np.isnan(sol["irr"][~cohorts["complete"]]).all()


def test_rate_and_state_transfer_perturbations(cohorts):
    """Small moves of the rate path in random directions, raw or projected onto the
    balance constraint, either break a constraint (balance with the state transfer at the
    fiscal limit, rate bounds) or do not lower the dispersion."""
    result = solve_rate_and_state(cohorts, fiscal_limit=0.01)
    x, starts = result.solution["period_rates"], result.solution["period_starts"]
    sigma_max = result.constraints["sigma_max"]
    best = dispersion(cohorts, x, starts)
    unit = np.eye(x.size)
    normal = np.array([balance(cohorts, unit[k], starts, 0.0) for k in range(x.size)]) \
        - balance(cohorts, 0 * x, starts, 0.0)
    rng = np.random.default_rng(2024)
    checked = 0
    for _ in range(6):
        u = rng.normal(size=x.size)
        u /= np.linalg.norm(u)
        along = u - (normal @ u) / (normal @ normal) * normal
        for direction in (u, along, -along):
            y = x + 2e-4 * direction
            feasible = balance(cohorts, y, starts, sigma_max) >= -1e-12 and np.all(y >= 0)
            if feasible:
                checked += 1
                assert dispersion(cohorts, y, starts) >= best - 1e-9
    assert checked >= 6


def test_rate_and_state_transfer_weighted_dispersion(cohorts):
    """With weights (here the cohort's lifetime earnings) the objective is the weighted SD."""
    weights = cohorts["earnings"].sum(axis=0)  # (cohort, sex)
    result = solve_rate_and_state(cohorts, fiscal_limit=0.01, weights=weights)
    assert result.success, result.message
    irr = result.solution["irr"][cohorts["complete"]]
    w = weights[cohorts["complete"]] / weights[cohorts["complete"]].sum()
    mean = np.sum(w * irr)
    assert result.objective == pytest.approx(np.sqrt(np.sum(w * (irr - mean) ** 2)),
                                             rel=1e-12)
    assert result.constraints["actuarial_balance"] >= -1e-6


def test_rate_and_state_transfer_zero_limit_uses_no_state_transfer(cohorts):
    result = solve_rate_and_state(cohorts, fiscal_limit=0.0)
    assert result.success, result.message
    assert result.solution["sigma"] == 0.0
    assert result.constraints["actuarial_balance"] >= -1e-9
    assert np.all(result.constraints["state_transfer_to_gdp"] == 0.0)


def test_rate_and_state_transfer_infeasible(cohorts):
    result = solve_rate_and_state(cohorts, fiscal_limit=0.0, max_rate=0.05)
    assert not result.success
    assert "cannot close" in result.message
    best = result.constraints["actuarial_balance"]
    assert best < 0
    assert f"{best:.6g}" in result.message
    assert best == pytest.approx(balance(cohorts, np.full(7, 0.05), np.arange(0, 140, 20),
                                         0.0), abs=1e-12)


def test_rate_and_state_transfer_clips_horizon(cohorts):
    short = {k: (v[:60] if k in ("b", "e", "s", "i", "gdp", "years", "earnings",
                                 "benefits") else v) for k, v in cohorts.items()}
    short["complete"] = complete_cohorts(short["years"], cohorts["cohorts"], 20, 59)
    result = solve_rate_and_state(short, fiscal_limit=0.01)
    assert result.constraints["horizon"] == 60
    assert "clipped" in result.message


# --------------------------------------------------------------------------- 3. pension age


def linear_balance(schedule):
    """Balance rising by 0.4 % of payroll per year of final age from -2.1 % at 60."""
    return -0.021 + 0.004 * (max(schedule.values()) - 60)


def test_retirement_age_smallest_age_meets_target():
    result = retirement_age_path(linear_balance, start_year=2030, base_age=60, max_age=70,
                                 step_years=2)
    assert result.success, result.message
    assert result.solution["final_age"] == 66
    assert result.constraints["balance"] >= 0
    assert result.constraints["evaluated"][5] < 0  # one year less misses the target
    assert linear_balance(result.solution["schedule"]) >= 0
    assert result.solution["schedule"] == {2029: 60, 2030: 61, 2032: 62, 2034: 63,
                                           2036: 64, 2038: 65, 2040: 66}
    assert result.constraints["monotone"]
    assert len(result.constraints["evaluated"]) <= 6  # bisection, not a scan
    assert result.objective == 6


def test_retirement_age_deficit_and_by_sex():
    seen = []

    def balance_of(schedule):
        seen.append(schedule)
        men, women = schedule["male"], schedule["female"]
        return -0.03 + 0.003 * (max(men.values()) - 62) + 0.003 * (max(women.values()) - 60)

    result = retirement_age_path(balance_of, start_year=2027, base_age={"male": 62,
                                 "female": 60}, max_age=67, deficit=0.013)
    assert result.success
    assert result.constraints["target"] == pytest.approx(-0.03 + 0.013)
    assert result.solution["final_age"] == {"male": 65, "female": 63}  # 3 rises: +0.018
    assert result.constraints["evaluated"][2] < result.constraints["target"]
    assert all(set(s) == {"male", "female"} for s in seen)


def test_retirement_age_infeasible_reports_best_balance():
    result = retirement_age_path(linear_balance, start_year=2030, base_age=60, max_age=64)
    assert not result.success
    assert "-0.005" in result.message  # the balance at 64
    assert "short of the target 0" in result.message
    assert result.solution["final_age"] == 64


def test_retirement_age_flags_non_monotone_balance():
    def bumpy(schedule):
        age = max(schedule.values())
        return 0.03 if age == 62 else -0.02 + 0.004 * (age - 60)

    result = retirement_age_path(bumpy, start_year=2030, base_age=60, max_age=70)
    assert "caution" in result.message
    assert not result.constraints["monotone"]


@pytest.mark.slow  # several projections: CI's fast JIT-off subset skips it
def test_model_balance_of_small_model(small_model_dir: Path):
    import spfsim

    model = spfsim.load_model(small_model_dir)
    ds = model.project()
    rates = scheme_balance(ds, "pension")
    assert rates.horizon == ds.sizes["year"] == 21  # 75 years clipped to the projection
    assert rates.initial_reserve == pytest.approx(5.0e7, rel=1e-9)
    balance_of = model_balance_of(model, "pension")
    # the baseline ages written as a reform reproduce the baseline's balance
    base = balance_of({"male": {2024: 62}, "female": {2024: 60}})
    assert base == pytest.approx(rates.actuarial_balance, abs=1e-12)
    assert "[schemes.pension.parameters]" in balance_of.reform_text({2030: 63})
    start = time.perf_counter()
    result = retirement_age_path(balance_of, start_year=2027, step_years=2,
                                 base_age={"male": 62, "female": 60},
                                 max_age={"male": 70, "female": 68}, deficit=0.01)
    elapsed = time.perf_counter() - start
    assert result.success, result.message
    assert re.search(r"clipped to the projection's 21 years", result.message)
    n = result.solution["increments"]
    assert n >= 1
    assert result.constraints["balance"] >= result.constraints["target"]
    assert result.constraints["evaluated"][n - 1] < result.constraints["target"]
    assert result.constraints["monotone"]
    assert elapsed < 20


def test_model_parameters_change_in_memory_as_a_reform_file_would(small_model_dir: Path):
    """Model.with_parameters gives the projection a reform file with the same values
    gives, writes nothing, records the change in the attrs and reports every problem."""
    import xarray as xr

    import spfsim
    from spfsim.errors import AssumptionError

    model = spfsim.load_model(small_model_dir)
    before = sorted(p.name for p in small_model_dir.rglob("*"))
    changes = {"minimum_pension": {"value": 1800.0, "indexation": "prices"},
               "retirement_age": {"male": {2024: 62, 2028: 63}, "female": 61}}
    changed = model.with_parameters({"pension": changes})
    reform = small_model_dir / "reform.toml"
    reform.write_text('[reform]\nname = "same"\n\n[schemes.pension.parameters]\n'
                      'minimum_pension = { value = 1800.0, indexation = "prices" }\n'
                      'retirement_age = { male = { 2024 = 62, 2028 = 63 }, female = 61 }\n')
    by_file = model.with_reform(reform).project()
    ds = changed.project()
    xr.testing.assert_identical(ds.drop_attrs(), by_file.drop_attrs())
    assert ds.attrs["reform_file"] == "<in memory>"
    assert "pension.retirement_age" in ds.attrs["title"]
    assert model.reform is None  # the baseline is left alone
    assert sorted(p.name for p in small_model_dir.rglob("*")) == sorted([*before, "reform.toml"])
    with pytest.raises(AssumptionError) as error:
        model.with_parameters({"pension": {"retirement_age": -5, "no_such": 1},
                               "nowhere": {"x": 1}})
    fields = {problem.field for problem in error.value.problems}
    assert {"schemes.pension.parameters.retirement_age", "schemes.pension.parameters.no_such",
            "schemes.nowhere"} <= fields
    again = changed.with_parameters({"pension": changes})  # on top: both recorded
    assert again.reform.name == f"{changed.reform.name} + parameters"
    xr.testing.assert_identical(again.project().drop_attrs(), ds.drop_attrs())


def test_model_balance_takes_a_projection_callable(small_projection):
    """The balance sees only a callable parameters -> Dataset (no model): the schedule
    becomes calendar-year ages by sex from the base year on."""
    from spfsim.finance import ModelBalance

    seen = []

    def project(parameters):
        seen.append(parameters)
        return small_projection

    balance_of = ModelBalance(project, "pension", base_year=2024, horizon=75)
    value = balance_of({2030: 63, 2027: 62})
    assert value == pytest.approx(scheme_balance(small_projection, "pension").actuarial_balance,
                                  abs=1e-15)
    assert seen == [{"retirement_age_basis": "calendar_year",
                     "retirement_age": {"male": {2024: 62, 2030: 63},
                                        "female": {2024: 62, 2030: 63}}}]
    assert balance_of.notes == ["horizon 75 years clipped to the projection's 21 years"]
    assert "retirement_age = { male = { 2024 = 62, 2030 = 63 }" in balance_of.reform_text(
        {2030: 63, 2027: 62})
