"""The global (Sobol) sensitivity analysis (spfsim.stochastic.sobol, docs/stochastic.md):
the indices against closed forms, the design, the default model's analysis and the
``spfsim sensitivity --sobol`` command. SALib is optional: the tests that need it skip
without it."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import xarray as xr
from model_factory import write_small_model

import spfsim
from spfsim.errors import SpfsimError
from spfsim.stochastic import sobol
from spfsim.stochastic.sensitivity import joint_variant_assumptions, variant_assumptions

SKIP_REASON = "SALib is not installed (pip install 'spfsim[stochastic]')"


@pytest.fixture
def salib():
    return pytest.importorskip("SALib", reason=SKIP_REASON)


def small_model(folder, ranges: str = "interest_rate = { low = -0.01, high = 0.01 }\n"
                "fertility = { low = -0.3, high = 0.3 }\n"):
    """The small synthetic model (2025-2034) with a [stochastic.sensitivity] section."""
    write_small_model(folder, end=2034)
    toml = folder / "model.toml"
    toml.write_text(toml.read_text() + "\n[stochastic]\nseed = 5\n"
                    "[stochastic.sensitivity]\n" + ranges)
    return folder


# ------------------------------------------------------------ indices against closed forms

def test_additive_linear_model_has_the_closed_form_indices(salib):
    """Y = sum a_i X_i with X_i uniform on [low_i, high_i]: S1_i = a_i^2 var_i / sum_j
    a_j^2 var_j (var_i = (high_i - low_i)^2 / 12) and ST_i = S1_i; a range of zero width
    explains nothing, and a range given high to low is the same interval."""
    ranges = {"fertility": (-0.5, 0.5), "inflation": (0.0, 0.2),
              "interest_rate": (0.01, 0.01), "mortality": (0.01, -0.01)}
    a = np.array([1.0, 3.0, 5.0, -40.0])
    points = sobol.sample_points(ranges, 1024, seed=7)
    assert points.shape == (1024 * (len(ranges) + 2), len(ranges))
    for k, (low, high) in enumerate(ranges.values()):
        assert min(low, high) <= points[:, k].min() <= points[:, k].max() <= max(low, high)
    variance = np.array([(high - low) ** 2 / 12 for low, high in ranges.values()])
    expected = a ** 2 * variance / np.sum(a ** 2 * variance)  # 0.5, 0.18, 0, 0.32
    got = sobol.sobol_indices(list(ranges), points @ a, seed=7)
    np.testing.assert_allclose(got["sobol_first_order"], expected, atol=0.02)
    np.testing.assert_allclose(got["sobol_total"], expected, atol=0.02)
    assert got["sobol_first_order"][2] == got["sobol_total"][2] == 0.0
    assert np.all(np.isfinite(got["sobol_first_order_conf"]))
    assert np.all(got["sobol_total_conf"] >= 0.0)


def test_a_pure_interaction_has_no_first_order_effect(salib):
    """Y = X1 X2, X uniform on [-1, 1]: E[Y | X_i] = 0, so S1 = 0 and ST = 1 for both."""
    ranges = {"inflation": (-1.0, 1.0), "interest_rate": (-1.0, 1.0)}
    points = sobol.sample_points(ranges, 1024, seed=3)
    got = sobol.sobol_indices(list(ranges), points[:, 0] * points[:, 1], seed=3)
    np.testing.assert_allclose(got["sobol_first_order"], 0.0, atol=0.05)
    np.testing.assert_allclose(got["sobol_total"], 1.0, atol=0.05)


def test_outputs_are_analysed_column_by_column_and_constant_ones_are_nan(salib):
    """Several outputs at once give one row each; an affine change of an output leaves its
    indices as they are; an output that does not vary, or is not finite, has NaN indices."""
    ranges = {"inflation": (0.0, 1.0), "fertility": (0.0, 2.0)}
    x = sobol.sample_points(ranges, 64, seed=1)
    y = x[:, 0] + x[:, 1] ** 2
    broken = y.copy()
    broken[3] = np.nan
    got = sobol.sobol_indices(list(ranges), np.c_[y, 3 * y - 2, np.full(len(y), 2090.0),
                                                  broken], seed=1)
    assert got["sobol_total"].shape == (4, 2)
    np.testing.assert_allclose(got["sobol_first_order"][1], got["sobol_first_order"][0],
                               atol=1e-12)
    assert np.all(np.isnan(got["sobol_total"][2:]))
    assert np.all(np.isfinite(got["sobol_total"][:2]))


def test_the_sample_is_keyed_by_the_seed(salib):
    ranges = {"inflation": (0.0, 1.0), "fertility": (0.0, 2.0)}
    first = sobol.sample_points(ranges, 8, seed=4)
    np.testing.assert_array_equal(first, sobol.sample_points(ranges, 8, seed=4))
    assert not np.array_equal(first, sobol.sample_points(ranges, 8, seed=5))


@pytest.mark.parametrize(("ranges", "samples", "seed", "message"), [
    ({}, 8, 0, "no sensitivity ranges"),
    ({"wages": (0.0, 1.0)}, 8, 0, "unknown assumption 'wages'"),
    ({"inflation": (0.0, 1.0)}, 12, 0, "power of two"),
    ({"inflation": (0.0, 1.0)}, 2, 0, "power of two"),
    ({"inflation": (0.0, 1.0)}, 8, -1, "seed"),
])
def test_a_bad_design_is_refused_before_any_work(ranges, samples, seed, message):
    with pytest.raises(SpfsimError, match=message):
        sobol.check_design(ranges, samples, seed)


def test_without_salib_the_error_names_the_extra(monkeypatch):
    """SALib is optional: its absence is an spfsim error that says how to install it."""
    for name in [n for n in sys.modules if n == "SALib" or n.startswith("SALib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "SALib", None)  # import SALib -> ImportError
    with pytest.raises(SpfsimError, match=r"spfsim\[stochastic\]"):
        sobol.sample_points({"inflation": (0.0, 1.0)}, 8, seed=0)


# --------------------------------------------------------- the assumptions at a point

def test_a_joint_variant_moves_each_assumption_as_its_own_variant(tmp_path):
    """Every assumption of a point moves exactly as in its one-at-a-time variant, and the
    one-at-a-time variant is the joint one with a single assumption."""
    a = spfsim.load_model(small_model(tmp_path / "m")).assumptions
    joint = joint_variant_assumptions(a, {"interest_rate": 0.01, "fertility": 0.3,
                                          "mortality": -0.005})
    rate = variant_assumptions(a, "interest_rate", 0.01).interest_rate
    np.testing.assert_array_equal(joint.interest_rate, rate)
    np.testing.assert_array_equal(joint.asfr, variant_assumptions(a, "fertility", 0.3).asfr)
    np.testing.assert_array_equal(joint.mx, variant_assumptions(a, "mortality", -0.005).mx)
    np.testing.assert_array_equal(joint.net_migration, a.net_migration)
    assert joint_variant_assumptions(a, {}) is a
    with pytest.raises(ValueError, match="unknown assumption"):
        joint_variant_assumptions(a, {"wages": 0.01})


# --------------------------------------------------------------- the default model

@pytest.fixture(scope="module")
def default_sobol():
    """The default model over two of its ranges and one of zero width: 8 base samples,
    40 points, 32 projections (the zero-width assumption's points repeat others)."""
    pytest.importorskip("SALib", reason=SKIP_REASON)
    model = spfsim.load_model()
    declared = model.input.stochastic.sensitivity
    ranges = {"fertility": declared["fertility"], "interest_rate": declared["interest_rate"],
              "unemployment": (0.01, 0.01)}
    return model.sobol(samples=8, seed=3, ranges=ranges)


@pytest.mark.slow  # the default model's 32 projections
def test_default_model_indices_have_their_shape_and_sense(default_sobol):
    ds = default_sobol
    assert dict(ds.sizes) == {"measure": 2, "assumption": 3, "scheme": 9, "bound": 2,
                              "point": 40}
    assert ds.attrs["projections"] == 32
    assert ds.attrs["points"] == 40
    assert ds.attrs["depletion_beyond_horizon"] == ds.attrs["end_year"] + 1
    for name in ds.variables:
        if name in ds.data_vars or name in ("measure", "point"):
            assert ds[name].attrs.get("long_name"), name
        if name in ds.data_vars:
            assert "units" in ds[name].attrs, name
    pension = ds.sel(scheme="pension", measure="actuarial_balance")
    s1, st = pension["sobol_first_order"], pension["sobol_total"]
    assert np.all(np.isfinite(s1))
    assert np.all(np.isfinite(st))
    assert np.all(np.isfinite(pension["sobol_first_order_conf"]))
    # S1 <= ST up to sampling error (8 base samples: their confidence intervals)
    slack = pension["sobol_first_order_conf"] + pension["sobol_total_conf"] + 0.05
    assert np.all(s1 <= st + slack)
    assert np.all(st >= -0.05)
    # the interest rate moves the pension's balance: it has some total effect
    assert float(st.sel(assumption="interest_rate")) > 0.05
    # an assumption held fixed explains nothing
    fixed = ds.sel(assumption="unemployment")
    for name in sobol.INDICES:
        values = fixed[name].values
        assert np.all(np.abs(values[np.isfinite(values)]) < 1e-12), name
    # schemes without a fund have no indices
    assert np.isnan(ds["sobol_total"].sel(scheme="child_benefit")).all()
    assert sobol.sobol_schemes(ds)[0] == "pension"


@pytest.mark.slow  # the default model's 32 projections
def test_default_model_sobol_points_are_the_sample(default_sobol, tmp_path):
    ds = default_sobol
    values = ds["point_value"].sel(assumption="unemployment").values
    np.testing.assert_array_equal(values, 0.01)
    years = ds["depletion_year"].sel(scheme="pension").values
    end = ds.attrs["end_year"]
    assert np.all(np.isnan(years) | ((years > ds.attrs["base_year"]) & (years <= end)))
    path = tmp_path / "sobol.nc"
    ds.to_netcdf(path)
    with xr.open_dataset(path) as back:
        xr.testing.assert_allclose(back.load(), ds)


@pytest.mark.slow  # the default model's 32 projections
def test_sobol_report_has_a_sheet_and_a_chart_per_funded_scheme(default_sobol, tmp_path):
    from openpyxl import load_workbook

    from spfsim.report.uncertainty import sobol_pngs, write_sensitivity_workbook

    model = spfsim.load_model()
    sens = model.sensitivity({"interest_rate": (-0.01, 0.01)})
    path = write_sensitivity_workbook(sens, tmp_path / "s.xlsx", sobol=default_sobol)
    book = load_workbook(path)
    assert book.sheetnames == ["Sensitivity", "Sobol"]
    assert len(book["Sobol"]._charts) >= 1
    # the charts open the sheet, above the table; the scheme named in words
    ws = book["Sobol"]
    header = next(c.row for c in ws["A"] if c.value == "Scheme")
    assert all(chart.anchor._from.row + 1 < header for chart in ws._charts)
    assert ws.cell(header + 1, 1).value == "National old-age pension insurance"
    pngs = sobol_pngs(default_sobol)
    assert "sobol_pension.png" in pngs
    assert all(data[:4] == b"\x89PNG" for data in pngs.values())


# ------------------------------------------------------------------------- the command

@pytest.mark.slow  # projections: the JIT-off subset skips it
def test_sensitivity_command_with_sobol_writes_its_outputs(salib, tmp_path, capsys):
    """`spfsim sensitivity --sobol 4 --figures`: sobol.nc, a Sobol sheet, a PNG per funded
    scheme; a second run refuses to overwrite, a bad sample size is refused before any
    file is written."""
    from openpyxl import load_workbook

    from spfsim.cli import main

    folder = small_model(tmp_path / "m")
    out = tmp_path / "out"
    assert main(["sensitivity", str(folder), "--sobol", "3", "--out", str(out)]) == 1
    assert "power of two" in capsys.readouterr().err
    assert not out.exists()
    common = ["--out", str(out), "--figures", "--quiet"]
    assert main(["sensitivity", str(folder), "--sobol", "4", *common]) == 0
    printed = capsys.readouterr().out
    assert "global (Sobol) sensitivity, 4 base samples, 16 points" in printed
    with xr.open_dataset(out / "sobol.nc") as ds:
        assert ds.attrs["seed"] == 5  # the model file's seed
        assert ds.attrs["samples"] == 4
        assert list(ds["assumption"].values) == ["fertility", "interest_rate"]
    assert load_workbook(out / "sensitivity.xlsx").sheetnames == ["Sensitivity", "Sobol"]
    pictures = sorted(p.name for p in (out / "figures").iterdir())
    assert pictures == ["sobol_pension.png", "tornado_pension.png"]
    before = (out / "sobol.nc").read_bytes()
    assert main(["sensitivity", str(folder), "--sobol", "4", "--seed", "9", *common]) == 1
    assert "output exists" in capsys.readouterr().err
    assert (out / "sobol.nc").read_bytes() == before
    assert main(["sensitivity", str(folder), "--sobol", "4", "--seed", "9", "--overwrite",
                 *common]) == 0
    with xr.open_dataset(out / "sobol.nc") as ds:
        assert ds.attrs["seed"] == 9


@pytest.mark.slow
def test_points_on_two_workers_are_the_same(salib, tmp_path):
    """Blocks of the design's points projected by two Dask worker processes, put back in
    the design's order: the same numbers, bitwise, as in this process (8 base samples,
    32 points in blocks of four)."""
    from spfsim.batch.cli import dask_client

    model = spfsim.load_model(small_model(tmp_path / "m"))
    alone = model.sobol(samples=8, seed=2)
    with dask_client(None, 2) as client:
        spread = model.sobol(samples=8, seed=2, client=client)
    for name in ("actuarial_balance", "depletion_year", *sobol.INDICES):
        assert np.array_equal(alone[name].values, spread[name].values, equal_nan=True), name
    assert np.isfinite(alone["actuarial_balance"].values).any()
