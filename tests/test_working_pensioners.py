"""Old-age pensioners who keep working and contribute (working_pensioners = "contribute"):
they fill the labour table's covered workers that the members not yet retired leave, in
both engines, and earn no credit."""

from __future__ import annotations

import numpy as np
import pytest

import spfsim


def _working(folder, choice: str):
    model = folder / "model.toml"
    text = model.read_text()
    if "working_pensioners" not in text:
        text = text.replace("start_year = 1995", 'start_year = 1995\nworking_pensioners = "stop"')
    model.write_text(text.replace('working_pensioners = "stop"',
                                  f'working_pensioners = "{choice}"'))
    return spfsim.load_model(folder, end_year=2035)


def test_working_pensioners_fill_the_covered_workers(small_model_dir):
    """With working pensioners contributing, the cohort engine's contributors at ages with
    old-age pensioners are the labour table's covered workers (the pensioners fill what
    the members not yet retired leave), their earnings add to insured earnings at the
    year's insurable earnings, and no pension changes (they earn no credit)."""
    from spfsim.demography import project_population
    from spfsim.economy import project_economy

    stop = _working(small_model_dir, "stop").project().sel(scheme="pension")
    model = _working(small_model_dir, "contribute")
    work = model.project().sel(scheme="pension")
    np.testing.assert_allclose(work["benefit_expenditure"], stop["benefit_expenditure"],
                               rtol=1e-12)
    a = model.assumptions
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb,
                              a.net_migration)
    covered = project_economy(a, demo.population).covered  # (year, age, sex)
    old = slice(62, 80)  # the small model's men retire at 62
    got = work["contributors"].sel(sex="male").values[:, old]
    np.testing.assert_allclose(got, covered[:, old, 0], rtol=1e-9)
    extra = float((work["contributors"] - stop["contributors"]).sum())
    assert extra > 0
    assert float((work["insured_earnings"] - stop["insured_earnings"]).sum()) > 0


@pytest.mark.slow  # 7 s without JIT; the rule itself is NumPy code, the same in both
def test_micro_working_pensioners_agree_with_cohort(small_model_dir):
    """The micro engine fills the same covered workers: its contributors aged 60 and over
    within 5 % of the cohort engine's at 20,000 persons."""
    model = _working(small_model_dir, "contribute")
    cohort = model.project().sel(scheme="pension")["contributors"]
    micro = model.project("micro", persons=20_000, seed=5).sel(scheme="pension")
    older = {"age": slice(60, 100)}
    ratio = float(micro["contributors"].sel(older).sum()) / float(cohort.sel(older).sum())
    assert ratio == pytest.approx(1.0, abs=0.05)
