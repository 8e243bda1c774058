"""The economic_history table: how prices and wages grew before the base year, for the
base-year state the engines rebuild from the pension's start year (cohort.base_year_state)
and for the awards after it on a formula applied at an eligibility age before it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from model_factory import write_csv
from test_validation import the_problem

import spfsim
from spfsim.economy import project_economy
from spfsim.engine import cohort
from spfsim.pipeline import project_demography

BASE = 2025
# the small model's economy: inflation 3 %, real wages 1.5 % a year
BASE_INFLATION, BASE_REAL = 0.03, 0.015
# pure indices and no minimum, so that a pension is the formula on the credits
PURE = {"pension_indexation": "prices", "earnings_revaluation": "wages",
        "minimum_pension": 0.0}


def with_history(folder: Path, rows: dict[int, tuple[float, float]]) -> Path:
    """The small model in ``folder`` with an economic_history table of ``rows`` (year:
    (inflation, real wage growth))."""
    write_csv(folder / "assumptions" / "economic_history.csv",
              ["year", "inflation", "real_wage_growth"],
              [[year, *rates] for year, rates in sorted(rows.items())])
    header = folder / "assumptions" / "assumptions.toml"
    if "economic_history" not in header.read_text():
        header.write_text(header.read_text() + '\n[tables.economic_history]\n'
                          'file = "economic_history.csv"\n')
    return folder


def base_state(folder: Path, parameters: dict):
    """The pension's base-year state of the model in ``folder`` with its scheme
    ``parameters``."""
    model = spfsim.load_model(folder, end_year=BASE + 1).with_parameters(
        {"pension": parameters})
    a = model.assumptions
    demo = project_demography(a)
    econ = project_economy(a, demo.population)
    scheme = next(s for s in a.schemes if s.id == "pension")
    return cohort.base_year_state(scheme, a, cohort.pension_years(scheme, a, demo, econ)(0))


def average_pension(state, age: int, sex: int = 0) -> np.ndarray:
    """The old-age pension a pensioner of ``age`` and ``sex`` (0 male) by service class
    (nan where none)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return state.pension[age, sex] / state.pensioners[age, sex]


def test_a_pension_in_payment_is_eroded_by_the_real_wage_growth_since_its_award(
        small_model_dir):
    """A man retired at 62 (the small model retires everybody at the pensionable age)
    d years before the base year: his award was the formula on credits revalued by the
    wage index, in the award year's money, then indexed by prices. So his base-year
    pension, with a history, over the same without, is the product over the years after
    the award up to the base year of (1 + real wage growth at the base year's rate) / (1 +
    the year's real wage growth) (the base year's own at its rates in both), whatever his
    credits: by hand for d = 4 and 10, every service class."""
    rows = dict.fromkeys(range(2000, BASE), (0.05, 0.03))
    without = base_state(small_model_dir, PURE)  # before the table is written into it
    with_table = base_state(with_history(small_model_dir, rows), PURE)
    for d in (4, 10):
        award_year = BASE - d
        expected = np.prod([(1 + BASE_REAL) / (1 + rows[t][1])
                            for t in range(award_year + 1, BASE)])
        here = np.isfinite(average_pension(without, 62 + d))
        assert here.sum() >= 5  # service classes with pensioners
        np.testing.assert_allclose(average_pension(with_table, 62 + d)[here]
                                   / average_pension(without, 62 + d)[here], expected,
                                   rtol=1e-10)
    # the credits of the insured (revalued by the wage index: the path cancels) and who
    # is insured do not move
    np.testing.assert_allclose(with_table.credits, without.credits, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(with_table.active, without.active, rtol=0, atol=1e-15)


def test_a_history_at_the_base_years_rates_changes_nothing(small_model_dir):
    """Every past year at the base year's rates, in a table, projects what no table
    does (to rounding: the table's growth is multiplied year by year, not raised to a
    power), with the formula applied at an eligibility age below the pensionable age too
    (whose awards of the first projection years reach back before the base year)."""
    parameters = {**PURE, "eligibility_age": 58}
    model = spfsim.load_model(small_model_dir).with_parameters({"pension": parameters})
    before = model.project().sel(scheme="pension")
    rows = dict.fromkeys(range(1990, BASE), (BASE_INFLATION, BASE_REAL))
    after = spfsim.load_model(with_history(small_model_dir, rows)).with_parameters(
        {"pension": parameters}).project().sel(scheme="pension")
    for name in ("benefit_expenditure", "beneficiaries", "contribution_income", "reserve"):
        np.testing.assert_allclose(after[name], before[name], rtol=1e-11, err_msg=name)
    # and a different history moves the base year's pensions in payment
    rows = dict.fromkeys(range(1990, BASE), (0.05, 0.03))
    moved = spfsim.load_model(with_history(small_model_dir, rows)).with_parameters(
        {"pension": parameters}).project().sel(scheme="pension", year=BASE)
    assert float(moved["benefit_expenditure"]) < 0.95 * float(
        before["benefit_expenditure"].sel(year=BASE))


def test_an_eligibility_age_takes_the_history_into_the_first_awards(small_model_dir):
    """With the formula applied at 58 and the pension raised by prices until the award
    at 62, a man awarded in the base year had his formula applied 4 years before it: his
    award, with a history, over the same without, is the product over the years from
    the eligibility year to the base year of the prices' growth over the wages' (those
    of the history against the base year's), the years' revaluation undone by prices."""
    parameters = {**PURE, "eligibility_age": 58}
    rows = dict.fromkeys(range(1990, BASE), (0.05, 0.03))

    def award(folder: Path) -> float:
        ds = spfsim.load_model(folder, end_year=BASE + 1).with_parameters(
            {"pension": parameters}).project().sel(scheme="pension", year=BASE)
        return float(ds["average_new_benefit"].sel(sex="male"))

    before = award(small_model_dir)
    after = award(with_history(small_model_dir, rows))
    # (1 + inflation) / (1 + wage growth) = 1 / (1 + real wage growth), years 2022-2024
    expected = np.prod([(1 + BASE_REAL) / (1 + rows[t][1]) for t in range(BASE - 3, BASE)])
    assert after / before == pytest.approx(expected, rel=1e-10)


def test_a_year_from_the_base_year_on_is_refused(small_model_dir):
    """The table is the past: a row for the base year is named, with its file and
    field."""
    folder = with_history(small_model_dir, dict.fromkeys(range(2000, 2026), (0.03, 0.01)))
    problem = the_problem(folder, "economic_history.csv", "year")
    assert problem.value == BASE


@pytest.mark.slow  # the micro engine without JIT takes minutes
def test_the_micro_engine_starts_from_the_same_history(small_model_dir):
    """The micro engine draws its base-year pensioners from the cohort engine's
    reconstructed state: with a history of faster real wage growth, its base-year
    old-age expenditure falls by the cohort engine's ratio (the same seed, so the same
    persons: within 1 %; 0.06 % measured, 0.928 against 0.929; 20,000 persons)."""
    rows = dict.fromkeys(range(1990, BASE), (0.05, 0.03))

    def old_age(folder: Path, engine: str) -> float:
        model = spfsim.load_model(folder, end_year=BASE + 1).with_parameters(
            {"pension": PURE})
        ds = (model.project() if engine == "cohort"
              else model.project("micro", persons=20_000, seed=5))
        return float(ds["benefit_expenditure_by_branch"].sel(
            scheme="pension", branch="old_age", year=BASE))

    before = {e: old_age(small_model_dir, e) for e in ("cohort", "micro")}
    folder = with_history(small_model_dir, rows)
    after = {e: old_age(folder, e) for e in ("cohort", "micro")}
    assert after["cohort"] < 0.95 * before["cohort"]
    assert after["micro"] / before["micro"] == pytest.approx(
        after["cohort"] / before["cohort"], rel=0.01)
