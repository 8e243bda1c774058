"""Graduation, the WPP import and the validation of the projection against WPP 2024."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spfsim.demography.graduation import (
    graduate_abridged_mx,
    graduate_asfr,
    graduate_counts,
    graduate_population,
)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 1e6), min_size=2, max_size=21))
def test_graduated_counts_keep_group_totals_and_are_non_negative(totals):
    totals = np.array(totals)
    bounds = 5 * np.arange(len(totals) + 1)
    singles = graduate_counts(bounds, totals)
    assert (singles >= 0).all()
    np.testing.assert_allclose(singles.reshape(-1, 5).sum(axis=1), totals, rtol=1e-12,
                               atol=1e-9)


def test_graduated_population_is_smooth_for_a_smooth_input():
    """Groups of an exponential age distribution graduate back close to it (no steps)."""
    ages = np.arange(101)
    truth = 1000 * np.exp(-0.03 * ages)
    groups = np.append(truth[:100].reshape(20, 5).sum(axis=1), truth[100])
    singles = graduate_population(groups)
    assert np.max(np.abs(singles[:95] / truth[:95] - 1)) < 0.01
    # no jump at a group boundary: the step from age 5k+4 to 5k+5 is no larger than the
    # steps beside it inside the groups (measured 1.015 of them; a uniform split within
    # groups would give a step of the whole difference between groups)
    steps = np.abs(np.diff(singles[:95]))
    for k in range(18):
        beside = 0.5 * (steps[5 * k + 3] + steps[5 * k + 5])
        assert steps[5 * k + 4] <= 1.1 * beside, k


def test_abridged_mx_interpolates_gompertz_exactly():
    """log m linear in age (Gompertz) is reproduced from its group mid-point values."""
    a, b = 1e-4, 0.09
    starts = np.arange(5, 100, 5)
    abridged = np.concatenate([[0.05, 0.004], a * np.exp(b * (starts + 2.5)), [0.6]])
    single = graduate_abridged_mx(abridged)
    centres = np.arange(5, 100) + 0.5
    np.testing.assert_allclose(single[7:100], a * np.exp(b * centres[2:]), rtol=1e-12)
    assert single[0] == 0.05
    assert (single[1:5] == 0.004).all()
    assert single[100] == 0.6


def test_asfr_keeps_tfr():
    rates = np.array([0.02, 0.15, 0.2, 0.16, 0.1, 0.04, 0.01])
    single = graduate_asfr(rates)
    assert len(single) == 35
    assert single.sum() == pytest.approx(5 * rates.sum(), rel=1e-12)
    assert (single >= 0).all()


@pytest.fixture(scope="module")
def wpp(shared_data):
    from spfsim.demography.wpp import WPPData

    return WPPData(shared_data)


def test_from_wpp_matches_the_wpp_inputs(wpp):
    from spfsim.demography.wpp import from_wpp

    d = from_wpp(wpp, 288)  # Ghana, base 2020
    assert d.years[0] == 2020
    assert d.years[-1] == 2100
    assert d.base_population.shape == (101, 2)
    # the base population keeps WPP's 5-year totals (thousands in the file)
    ref = wpp.rows(wpp.population5, "popAge5dt.csv", 288)
    ref = ref[ref["year"] == 2020]
    assert d.base_population.sum() == pytest.approx(ref["pop"].sum() * 1000, rel=1e-9)
    # fertility of the step 2030-2031 is the mean of calendar TFRs 2030 and 2031
    tfr = wpp.rows(wpp.tfr, "tfr1dt.csv", 288).set_index("year")["tfr"]
    assert d.asfr[10].sum() == pytest.approx(0.5 * (tfr.loc[2030] + tfr.loc[2031]), rel=1e-9)
    assert (d.mx > 0).all()
    assert ((d.srb > 1.0) & (d.srb < 1.1)).all()


def test_unknown_country_and_base_year_are_clear_errors(wpp):
    from spfsim.demography.wpp import from_wpp
    from spfsim.errors import AssumptionError

    with pytest.raises(AssumptionError, match="no rows for this country"):
        from_wpp(wpp, 99999)
    with pytest.raises(AssumptionError, match="available: \\[1950, 1955"):
        from_wpp(wpp, 288, base_year=2023)


@pytest.mark.parametrize("country", [392, 840, 566, 356, 76, 276, 288, 360])
def test_projection_reproduces_wpp_medium_variant(wpp, country):
    """Issue #3: totals by sex within 1 % (2050) and 2 % (2100); 5-year groups under 80
    within 3 % in 2050. docs/validation.md reports the figures."""
    from spfsim.demography.validation import GROUP_TOLERANCE_2050, compare_with_wpp

    result = compare_with_wpp(wpp, country)
    for (year, sex), difference in result.total.items():
        assert abs(difference) <= {2050: 0.01, 2100: 0.02}[year], (year, sex, difference)
    group, sex, difference = result.worst_group_2050
    assert abs(difference) <= GROUP_TOLERANCE_2050, (group, sex, difference)


@pytest.mark.slow
def test_every_country_projects_without_negative_population(wpp):
    from spfsim.demography.validation import project_wpp
    from spfsim.demography.wpp import from_wpp

    codes = wpp.country_codes()
    assert len(codes) > 200
    for code in codes:
        projection = project_wpp(from_wpp(wpp, code))
        assert (projection.population >= 0).all(), code
        assert np.isfinite(projection.population).all(), code


def test_import_wpp_writes_a_loadable_assumption_set(shared_data, small_model_dir,
                                                     tmp_path):
    """import-wpp output replaces the small model's demography and the model still loads."""
    import subprocess
    import sys

    import spfsim

    out = tmp_path / "ghana"
    result = subprocess.run([sys.executable, "-m", "spfsim.cli", "import-wpp", "--data",
                             str(shared_data), "--country", "288", "--base-year",
                             "2025", "--out", str(out)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert "Ghana" in result.stdout
    again = subprocess.run([sys.executable, "-m", "spfsim.cli", "import-wpp", "--data",
                            str(shared_data), "--country", "288", "--base-year",
                            "2025", "--out", str(out)], capture_output=True, text=True,
                           check=False)
    assert again.returncode != 0
    assert "--overwrite" in again.stderr
    # keep the small model's economy and labour, take the demography from WPP
    header = small_model_dir / "assumptions" / "assumptions.toml"
    text = header.read_text()
    for table in ("population", "mortality", "fertility", "sex_ratio_at_birth", "migration"):
        start = text.index(f"[tables.{table}]")
        end = text.find("[tables.", start + 1)
        text = text[:start] + (text[end:] if end > 0 else "")
    header.write_text(text)
    model_toml = small_model_dir / "model.toml"
    model_toml.write_text(model_toml.read_text().replace(
        'assumptions = "assumptions"', f'assumptions = ["{out}", "assumptions"]'))
    model = spfsim.load_model(small_model_dir)
    assert model.assumptions.base_population.sum() == pytest.approx(35.06e6, rel=1e-3)
    ds = model.project()
    assert float(ds["population"].sum(("age", "sex")).sel(year=2045)) > 35e6
