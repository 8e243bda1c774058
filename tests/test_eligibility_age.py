"""The pension formula applied at an eligibility age and the pension indexed as in payment
until award (db_old_age_pension ``eligibility_age``; US: the primary insurance amount of
the year of first eligibility, at 62, raised by the cost-of-living adjustments after it)."""

from __future__ import annotations

import numpy as np
import pytest
from model_factory import write_small_model

import spfsim
from spfsim.schemes import db_pension as dbp


def test_award_indexing_by_hand():
    """Eligibility at 62, year index 2: an award at 64 was indexed in years 1 and 2, one at
    66 in years -1 to 2 (the years before the first at the first's rates), one at or below
    62 not at all."""
    indexation, revaluation = np.array([0.02, 0.03, 0.025]), np.array([0.04, 0.05, 0.045])
    got = dbp.award_indexing(np.array([60, 62, 64, 66]), 62, 2, indexation, revaluation)
    years_1_2 = (1.03 / 1.05) * (1.025 / 1.045)
    np.testing.assert_allclose(got, [1.0, 1.0, years_1_2, (1.02 / 1.04) ** 2 * years_1_2],
                               rtol=1e-13)
    assert dbp.award_indexing(np.array([70]), 0, 2, indexation, revaluation).tolist() == [1.0]


def _model(folder, line: str = "", extra: str = ""):
    """The small model with one pensionable age (62), no minimum pension (so the award is
    proportional to the formula) and ``line`` among the pension's parameters."""
    write_small_model(folder)
    toml = folder / "model.toml"
    text = toml.read_text().replace("retirement_age = { male = 62, female = 60 }",
                                    f"retirement_age = 62\n{line}\n{extra}")
    toml.write_text(text.replace('minimum_pension = { value = 1500.0, indexation = "prices" }',
                                 "minimum_pension = 0.0"))
    return spfsim.load_model(folder)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return _model(tmp_path_factory.mktemp("plain") / "m").project()


def test_old_age_pensions_are_those_of_the_eligibility_age_indexed(plain, tmp_path):
    """Every old-age pension is awarded at 62, 5 years after the eligibility age 57, and
    the small model's wages grow 1.5 % a year faster than prices, by which pensions are
    indexed: each pension ever awarded, and so the old-age expenditure of every year (and
    the survivors' pensions that follow them), is 1.015^-5 of the formula's at award."""
    later = _model(tmp_path / "m", "eligibility_age = 57").project()
    factor = 1.0 / 1.015 ** 5
    for branch in ("old_age", "survivors"):
        np.testing.assert_allclose(
            later["benefit_expenditure_by_branch"].sel(scheme="pension", branch=branch),
            plain["benefit_expenditure_by_branch"].sel(scheme="pension", branch=branch)
            * factor, rtol=1e-9)
    np.testing.assert_allclose(later["insured_earnings"], plain["insured_earnings"],
                               rtol=1e-12)


def test_indexed_like_the_credits_nothing_changes(plain, tmp_path):
    """Pensions in payment indexed by the same index as the credits: the formula gives
    the same pension at any age it is applied, so the projection is unchanged."""
    same = _model(tmp_path / "m", 'eligibility_age = 57\npension_indexation = "wages"')
    wages = _model(tmp_path / "w", 'pension_indexation = "wages"')
    np.testing.assert_array_equal(same.project()["benefit_expenditure"].values,
                                  wages.project()["benefit_expenditure"].values)


def test_both_engines_apply_it(tmp_path):
    """The micro engine reads the same factor (engine.cohort_transitions.retirement_choice):
    its old-age expenditure moves by the cohort engine's factor, in a run with the same
    seed: the awards are the same persons', so the ratio is the factor. (It was within
    2e-8 of it in this run, either way from year to year, the same persons and counts in
    both: a rounding difference in the micro engine's arithmetic that was not located.)"""
    plain = _model(tmp_path / "p").project("micro", persons=4000, seed=5)
    later = _model(tmp_path / "m", "eligibility_age = 57").project("micro", persons=4000,
                                                                      seed=5)
    old_age = {"scheme": "pension", "branch": "old_age"}
    np.testing.assert_allclose(later["benefit_expenditure_by_branch"].sel(old_age),
                               plain["benefit_expenditure_by_branch"].sel(old_age)
                               / 1.015 ** 5, rtol=1e-6)
