"""Early and late retirement with actuarial adjustment, in both engines."""

from __future__ import annotations

import numpy as np
import pytest
from model_factory import write_small_model
from replication import replication_t

import spfsim
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
