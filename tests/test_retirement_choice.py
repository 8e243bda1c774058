"""Early and late retirement with actuarial adjustment, in both engines."""

from __future__ import annotations

import numpy as np
import pytest
from model_factory import write_small_model
from replication import replication_t

import spfsim
from spfsim.errors import AssumptionError
from spfsim.schemes import db_pension as dbp

OPTIONS = """early_retirement_age = 57
early_retirement_rate = 0.2
early_reduction = 0.05
deferral_rate = 0.4
latest_retirement_age = 66
late_increment = 0.07
"""


def test_schedule_by_hand():
    ages = np.arange(50, 70)
    p, f = dbp.retirement_schedule(ages, 62, 57, 0.2, 0.05, 0.4, 66, 0.07)
    at = dict(zip(ages, zip(p, f, strict=True), strict=True))
    assert at[56] == (0.0, pytest.approx(1 - 0.05 * 6))
    assert at[57][0] == 0.2
    assert at[57][1] == pytest.approx(1 - 0.05 * 5)
    assert at[62] == (pytest.approx(0.6), pytest.approx(1.0))
    assert at[65] == (pytest.approx(0.6), pytest.approx(1 + 0.07 * 3))
    assert at[66][0] == 1.0
    # no options: everybody at the pensionable age
    p, f = dbp.retirement_schedule(ages, 62, 0, 0.0, 0.05, 0.0, 0, 0.07)
    np.testing.assert_array_equal(p, (ages >= 62).astype(float))


def test_schedule_in_years_and_months_by_hand():
    """A pensionable age of 66 years 6 months: claims at the birthdays before 66 reduced
    by the months to it (two rates: the first three years' and beyond), the claim in the
    year of age 66 made at it, those after increased by the months after it."""
    ages = np.arange(61, 71)
    p, f = dbp.retirement_schedule(ages, 66, 62, 0.25, 0.08, 0.1, 70, 0.08, exact_age=66.5,
                                   early_reduction_years=3, early_reduction_after=0.05)
    at = dict(zip(ages, f, strict=True))
    assert at[62] == pytest.approx(1 - 0.08 * 3 - 0.05 * 1.5)
    assert at[63] == pytest.approx(1 - 0.08 * 3 - 0.05 * 0.5)
    assert at[64] == pytest.approx(1 - 0.08 * 2.5)
    assert at[65] == pytest.approx(1 - 0.08 * 1.5)
    assert at[66] == 1.0
    assert at[67] == pytest.approx(1 + 0.08 * 0.5)
    assert at[70] == pytest.approx(1 + 0.08 * 3.5)
    np.testing.assert_array_equal(p, dbp.retirement_schedule(
        ages, 66, 62, 0.25, 0.08, 0.1, 70, 0.08)[0])  # who retires: the whole age's
    # one rate: the same as the whole-years schedule at a whole pensionable age
    whole = dbp.retirement_schedule(ages, 66, 62, 0.25, 0.08, 0.1, 70, 0.08)
    months = dbp.retirement_schedule(ages, 66, 62, 0.25, 0.08, 0.1, 70, 0.08,
                                     exact_age=66.0)
    np.testing.assert_array_equal(whole[1], months[1])


@pytest.mark.parametrize(("value", "ok"), [(62.5, True), (62.1667, True), (62.25, True),
                                           (62.1, False), (62.17, False)])
def test_the_pensionable_age_in_whole_months(tmp_path, value, ok):
    """A pensionable age is years and whole months; another is refused, naming the file,
    the field and the nearest whole months."""
    folder = options_model(tmp_path / "m")
    toml = folder / "model.toml"
    text = toml.read_text()
    toml.write_text(text.replace("retirement_age = { male = 62,",
                                 f"retirement_age = {{ male = {value},", 1))
    if ok:
        scheme = pension_scheme(spfsim.load_model(folder))
        assert np.all(scheme.retirement_age_grid[..., 0] == 62)
        np.testing.assert_allclose(scheme.retirement_age_exact[..., 0],
                                   round(value * 12) / 12)
        return
    with pytest.raises(AssumptionError) as error:
        spfsim.load_model(folder)
    message = str(error.value)
    assert "model.toml" in message
    assert "retirement_age" in message
    assert f"{round(value * 12) / 12:.4f}" in message


def pension_scheme(model):
    return next(s for s in model.assumptions.schemes if s.id == "pension")


def months_model(folder, exact: str):
    """The options model with the men's pensionable age ``exact`` (62 years and months)."""
    options_model(folder)
    toml = folder / "model.toml"
    toml.write_text(toml.read_text().replace("retirement_age = { male = 62,",
                                             f"retirement_age = {{ male = {exact},", 1))
    return spfsim.load_model(folder, end_year=2035)


@pytest.mark.parametrize("engine", ["cohort", "micro"])
def test_months_of_the_pensionable_age_move_only_the_adjustments(tmp_path, engine):
    """A men's pensionable age of 62 years 6 months instead of 62: the same persons retire
    at the same ages (common random numbers in the micro engine), those retiring before
    62 and after 62 with smaller pensions, those at 62 with the same (claimed at 62 and 6
    months, without adjustment): fewer pensions paid every year, the past's included."""
    runs = {exact: months_model(tmp_path / exact, exact) for exact in ("62", "62.5")}
    options = {"persons": 3000, "seed": 12} if engine == "micro" else {}
    whole, months = (runs[e].project(engine, **options).sel(scheme="pension")
                     for e in ("62", "62.5"))
    np.testing.assert_array_equal(months["beneficiaries"], whole["beneficiaries"])
    assert np.all(months["benefit_expenditure"] < whole["benefit_expenditure"])


def options_model(folder):
    write_small_model(folder)
    toml = folder / "model.toml"
    toml.write_text(toml.read_text().replace("start_year = 1995", "start_year = 1995\n"
                                             + OPTIONS))
    return folder


def test_early_and_late_pensions_in_the_cohort_engine(tmp_path, small_projection):
    ds = spfsim.load_model(options_model(tmp_path / "m")).project()
    men = ds["beneficiaries"].sel(scheme="pension", sex="male")  # pensionable age 62
    assert float(men.sel(age=slice(57, 61)).sum()) > 0  # early pensioners
    assert float(men.sel(age=slice(0, 56)).sum()) == 0.0
    base = small_projection["beneficiaries"].sel(scheme="pension", sex="male")
    assert float(base.sel(age=slice(57, 61)).sum()) == 0.0
    # deferral: fewer pensioners at 62-65 than at 66 relative to the baseline
    assert float(men.sel(age=63).sum()) < float(base.sel(age=63).sum())
    # some keep contributing after 62
    contributors = ds["contributors"].sel(scheme="pension", sex="male")
    assert float(contributors.sel(age=slice(62, 65)).sum()) > 0


def test_micro_early_and_late(tmp_path):
    """Fast (also without JIT): early and deferred pensions appear in the micro engine."""
    model = spfsim.load_model(options_model(tmp_path / "m"), end_year=2030)
    ds = model.project("micro", persons=3000, seed=12)
    men = ds["beneficiaries"].sel(scheme="pension", sex="male")
    assert float(men.sel(age=slice(57, 61)).sum()) > 0
    assert float(men.sel(age=slice(0, 56)).sum()) == 0.0


@pytest.mark.slow
def test_micro_agrees_with_cohort_on_retirement_choice(tmp_path):
    model = spfsim.load_model(options_model(tmp_path / "m"))
    cohort = model.project()
    runs = [model.project("micro", persons=40_000, seed=160 + r) for r in range(10)]
    for name in ("beneficiaries", "benefit_expenditure", "contributors"):
        def get(ds, name=name):
            value = ds[name].sel(scheme="pension")
            return (value.sum(("age", "sex")) if "age" in value.dims else value).values

        t, big_t = replication_t(np.stack([get(ds) for ds in runs]), get(cohort))
        assert np.abs(t).max() <= 5.5, (name, np.abs(t).max())
        assert abs(big_t) <= 4.5, (name, big_t)
