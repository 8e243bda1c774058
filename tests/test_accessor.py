"""``ds.spf``: registered by ``import spfsim``, and the same numbers and figures as the report.

Most checks use a small hand-made Dataset whose figures can be worked out by hand:
101 ages, every age holding 1,000 men and 1,100 women in 2025, growing by 1 % of the 2025
numbers a year; a contributory pension whose PAYG cost rate is 10 % + 0.1 point a year and
a non-contributory child benefit.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

import spfsim  # noqa: F401 - registers ds.spf
from spfsim.report import plots
from spfsim.scenarios import compare

YEARS = np.arange(2025, 2052)  # 27 years: base + 25 = 2050 is a key year
AGES = np.arange(101)


@pytest.fixture
def ds() -> xr.Dataset:
    t = (YEARS - 2025).astype(float)
    growth = 1.0 + 0.01 * t  # 1.25 in 2050
    population = np.empty((len(YEARS), len(AGES), 2))
    population[:, :, 0] = 1000.0 * growth[:, None]
    population[:, :, 1] = 1100.0 * growth[:, None]
    nan = np.full(len(YEARS), np.nan)
    paygo = np.stack([0.10 + 0.001 * t, nan], axis=1)
    cost = np.stack([np.full(len(YEARS), 0.02), np.full(len(YEARS), 0.005)], axis=1)
    reserve_ratio = np.stack([3.0 - 0.1 * t, nan], axis=1)
    ys = ("year", "scheme")
    return xr.Dataset(
        {
            "population": (("year", "age", "sex"), population,
                           {"units": "persons", "long_name": "mid-year population"}),
            "paygo_cost_rate": (ys, paygo, {"units": "fraction", "long_name": "PAYG cost rate"}),
            "cost_to_gdp": (ys, cost, {"units": "fraction", "long_name": "cost / GDP"}),
            "reserve_ratio": (ys, reserve_ratio, {"units": "1", "long_name": "reserve ratio"}),
            "depletion_year": ("scheme", [2049.0, np.nan],
                               {"units": "calendar year", "long_name": "depletion year"}),
        },
        coords={"year": YEARS, "age": AGES, "sex": ["male", "female"],
                "scheme": ["pension", "child"],
                "scheme_name": ("scheme", ["Pension", "Child benefit"]),
                "scheme_type": ("scheme", ["db_old_age_pension", "universal_benefit"]),
                "scheme_kind": ("scheme", ["contributory", "non_contributory"])},
        attrs={"title": "spfsim projection: Handland", "model": "hand", "engine": "cohort",
               "base_year": 2025, "end_year": 2051, "currency": "LCU"},
    )


# --------------------------------------------------------------------------- registration


def _python(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True)


def test_import_spfsim_registers_without_importing_xarray():
    _python("import sys, spfsim\n"
            "assert 'xarray' not in sys.modules, 'import spfsim must stay light'\n"
            "import xarray\n"
            "assert isinstance(xarray.Dataset().spf, spfsim.report.accessor.SpfAccessor)\n"
            "assert not any(k in sys.modules for k in ('matplotlib', 'openpyxl'))\n")


def test_registered_when_xarray_came_first():
    _python("import xarray, spfsim\n"
            "assert type(xarray.Dataset().spf).__name__ == 'SpfAccessor'\n")


# --------------------------------------------------------------------------- numbers


def test_cost_rate_contributory_schemes_by_year(ds):
    rate = ds.spf.cost_rate()
    assert rate.dims == ("year", "scheme")
    assert list(rate["scheme"].values) == ["pension"]  # the child benefit has no earnings base
    assert float(rate.sel(year=2025, scheme="pension")) == pytest.approx(0.10)
    assert float(rate.sel(year=2035, scheme="pension")) == pytest.approx(0.11)
    with pytest.raises(ValueError, match="paygo_cost_rate_by_payment"):
        ds.spf.cost_rate(by_payment=True)


def test_cost_rate_by_payment_adds_up(small_projection):
    split = small_projection.spf.cost_rate(by_payment=True)
    total = small_projection.spf.cost_rate()
    assert list(split["payment"].values) == ["periodic", "lump_sum"]
    np.testing.assert_allclose(split.sum("payment").values, total.values, rtol=1e-12)
    # the definition: (benefits + administration) / insured earnings
    pension = small_projection.sel(scheme="pension")
    expected = ((pension["benefit_expenditure"] + pension["admin_expenditure"])
                / pension["insured_earnings"])
    np.testing.assert_allclose(total.sel(scheme="pension").values, expected.values, rtol=1e-12)


def test_pyramid(ds):
    pyramid = ds.spf.pyramid(2025)
    assert pyramid.dims == ("age", "sex")
    assert list(pyramid["sex"].values) == ["male", "female"]
    assert pyramid.shape == (101, 2)
    assert np.all(pyramid.sel(sex="male").values == 1000.0)
    assert np.all(pyramid.sel(sex="female").values == 1100.0)
    assert float(ds.spf.pyramid(2045).sel(age=40, sex="female")) == pytest.approx(1320.0)
    with pytest.raises(ValueError, match="2060"):
        ds.spf.pyramid(2060)


def test_summary_key_figures(ds):
    summary = ds.spf.summary()
    assert list(summary["year"].values) == [2025, 2050, 2051]
    assert float(summary["paygo_cost_rate"].sel(year=2050, scheme="pension")) == \
        pytest.approx(0.125)
    assert float(summary["reserve_ratio"].sel(year=2050, scheme="pension")) == \
        pytest.approx(0.5)
    assert float(summary["cost_to_gdp"].sel(year=2025, scheme="child")) == 0.005
    assert float(summary["depletion_year"].sel(scheme="pension")) == 2049
    # 101 ages x (1,000 + 1,100) persons, 25 % more in 2050
    assert summary["population"].values.tolist() == pytest.approx([212_100.0, 265_125.0,
                                                                    267_246.0])
    # 36 ages 65-100 over 50 ages 15-64, whatever the year
    np.testing.assert_allclose(summary["old_age_dependency_ratio"].values, 0.72)
    assert summary.attrs["title"] == "spfsim projection: Handland"


def test_summary_text(ds):
    text = ds.spf.summary_text()
    assert "0.21 million in 2025" in text
    assert "pension (contributory): cost 2.00% of GDP in 2025" in text
    assert "PAYG cost rate 10.0% -> 12.6%" in text
    assert "reserve depleted in 2049" in text


def test_compare_is_scenarios_compare(small_projection):
    reform = small_projection.copy()
    reform["cost_to_gdp"] = small_projection["cost_to_gdp"] + 0.001
    result = small_projection.spf.compare(reform)
    direct = compare(small_projection, reform)
    for ds in (result, direct):  # when each was made: the two calls may straddle a second
        for key in ("created", "history"):
            ds.attrs.pop(key, None)
    xr.testing.assert_identical(result, direct)
    np.testing.assert_allclose(result["cost_to_gdp_difference"].values, 0.001, rtol=1e-9)
    assert float(np.abs(result["reserve_difference"]).max()) == 0.0


# --------------------------------------------------------------------------- figures


def test_plot_pyramid_bars_are_the_data(ds):
    fig = ds.spf.plot.population_pyramid(2025)
    ax = fig.axes[0]
    men, women = ax.containers
    assert [p.get_width() for p in men.patches] == [-1000.0] * 101  # persons (under 10,000)
    assert [p.get_width() for p in women.patches] == [1100.0] * 101
    assert "persons" in ax.get_xlabel()
    assert "total 212,100 persons" in ax.get_title()


def test_plot_cost_rates_lines_are_the_data(ds):
    fig = ds.spf.plot.cost_rates()
    left, right = fig.axes
    (line,) = left.get_lines()
    np.testing.assert_allclose(line.get_ydata(), ds.spf.cost_rate().sel(scheme="pension"))
    assert [text.get_text() for text in right.get_legend().get_texts()] == [
        "Pension", "Child benefit", "All schemes"]  # names, not ids
    total = right.get_lines()[-1]
    np.testing.assert_allclose(total.get_ydata(), 0.025)


def test_plot_names_are_the_files_spfsim_run_writes(ds):
    figures = ds.spf.plot.standard()
    assert list(figures) == ["population_pyramid_2025.png", "population_pyramid_2051.png",
                             "cost_rates.png", "reserve_ratio.png",
                             "reserve_ratio_methods.png", "cohort_irr.png"]
    for name in ("reserve_ratio", "reserve_ratio_methods", "cohort_irr"):
        assert getattr(ds.spf.plot, name)().get_suptitle() == "spfsim projection: Handland"


def test_figure_writer_and_accessor_share_the_drawing_function(ds, monkeypatch):
    calls = []
    original = plots.cost_rate_figure

    def recording(data):
        calls.append(data)
        return original(data)

    monkeypatch.setattr(plots, "cost_rate_figure", recording)
    ds.spf.plot.cost_rates()
    pngs = plots.render_pngs(ds, ["cost_rates.png"])
    assert len(calls) == 2
    assert all(c is ds for c in calls)
    assert pngs["cost_rates.png"].startswith(b"\x89PNG")
