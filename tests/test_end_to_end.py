"""The whole path: default model -> Dataset contract -> files -> CLI; the notebook."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import spfsim
from spfsim.checks import fund_balance_residual, population_balance_residual
from spfsim.schemes import SCHEME_TYPES

REPO = Path(__file__).resolve().parents[1]
CONTRACT = ("population", "contributors", "beneficiaries", "benefit_expenditure",
            "contribution_income", "reserve", "paygo_cost_rate", "reserve_ratio",
            "births", "deaths", "net_migration", "labour_force", "employed",
            "insured_earnings", "admin_expenditure", "investment_income", "state_transfer",
            "cost_to_gdp", "depletion_year")


def test_default_model_dataset_contract(default_projection):
    ds = default_projection
    assert ds["population"].dims == ("year", "age", "sex")
    assert ds["contributors"].dims == ("year", "age", "sex", "scheme")
    assert ds["reserve"].dims == ("year", "scheme")
    for name in CONTRACT:
        assert ds[name].attrs.get("units"), name
        assert ds[name].attrs.get("long_name"), name
    for key in ("model", "spfsim_version", "input_hash", "seed", "engine", "created"):
        assert ds.attrs[key], key
    assert list(ds["sex"].values) == ["male", "female"]
    assert ds["age"].values[-1] == 100


def test_default_model_identities(default_projection):
    ds = default_projection
    assert population_balance_residual(ds) < 1e-9
    # from models/default/model.toml: the pension's reserve; the other schemes have none
    initial = np.array([1.0e10] + [0.0] * (ds.sizes["scheme"] - 1))
    assert fund_balance_residual(ds, initial) < 1e-9


def test_default_model_is_plausible(default_projection):
    """Guards against silent breakage, with wide bounds that are not tuned to the output."""
    ds = default_projection
    pop = ds["population"].sum(("age", "sex"))
    assert 34e6 < float(pop.sel(year=2025)) < 36e6  # WPP 2024: 35.06 million
    pension = ds.sel(scheme="pension")
    assert 0.0 < float(pension["paygo_cost_rate"].sel(year=2025)) < 0.13
    replacement = pension["average_new_benefit"].sel(year=2025) / ds["average_earnings"].sel(
        year=2025)
    assert ((replacement > 0.15) & (replacement < 0.8)).all()
    social = ds.sel(scheme="social_pension")
    assert np.isnan(float(social["depletion_year"]))
    assert float(abs(social["reserve"]).max()) == 0.0


def test_input_hash_changes_with_any_input(small_model_dir):
    """A file changed after a model is read changes the hash of the model read anew, not
    the provenance of the one read before it (the files it was built from)."""
    model = spfsim.load_model(small_model_dir)
    first = model.input.input_hash
    labour = small_model_dir / "assumptions" / "labour.csv"
    labour.write_text(labour.read_text().replace("0.05,0.4", "0.05,0.41", 1))
    assert spfsim.load_model(small_model_dir).input.input_hash != first
    assert model.input.input_hash == first


def test_every_scheme_type_is_run_by_the_engines():
    """The engines run the DB pension and every benefit paid by the rule of
    engine/benefits.py (non-contributory and short-term insurance); a new family of types
    must be taught to both engines before it is registered."""
    from spfsim.schemes.noncontributory import RuleBenefit

    others = {name for name, kind in SCHEME_TYPES.items() if not issubclass(kind, RuleBenefit)}
    assert others == {"db_old_age_pension"}


def test_every_parameter_is_documented():
    """docs/schemes.md holds each type's generated parameter table, current."""
    from spfsim.schemes.docs import parameter_table

    text = (REPO / "docs" / "schemes.md").read_text()
    for name, scheme_type in SCHEME_TYPES.items():
        assert f"`{name}`" in text
        assert parameter_table(scheme_type) in text, (
            f"the parameters of {name} in docs/schemes.md are out of date: run "
            "python tools/document_schemes.py")


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spfsim.cli", *args], cwd=cwd,
                          capture_output=True, text=True, check=False)


@pytest.mark.slow  # several projections: CI's fast JIT-off subset skips it
def test_cli_run_writes_outputs_and_refuses_to_overwrite(small_model_dir, tmp_path):
    out = tmp_path / "out"
    first = run_cli("run", str(small_model_dir), "--out", str(out), "--figures", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "pension" in first.stdout
    assert "population 2025-2045" in first.stderr  # progress
    for name in ("projection.nc", "report.xlsx", "figures/population_pyramid_2025.png",
                 "figures/population_pyramid_2045.png", "figures/cost_rates.png",
                 "figures/reserve_ratio.png"):
        assert (out / name).stat().st_size > 0, name
    with xr.open_dataset(out / "projection.nc") as ds:
        assert ds["population"].dims == ("year", "age", "sex")
        assert ds["paygo_cost_rate"].attrs["units"] == "fraction"
        assert ds.attrs["model"] == "small"
    before = (out / "report.xlsx").read_bytes()
    second = run_cli("run", str(small_model_dir), "--out", str(out), "--figures", cwd=tmp_path)
    assert second.returncode != 0
    assert "--overwrite" in second.stderr
    assert "Traceback" not in second.stderr
    assert (out / "report.xlsx").read_bytes() == before
    third = run_cli("run", str(small_model_dir), "--out", str(out), "--overwrite", "--quiet",
                    cwd=tmp_path)
    assert third.returncode == 0, third.stderr


def test_cli_run_reports_bad_model_without_traceback(small_model_dir, tmp_path):
    (small_model_dir / "assumptions" / "fertility.csv").unlink()
    result = run_cli("run", str(small_model_dir), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2
    assert "fertility.csv" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("name", ["01_quickstart.ipynb", "02_reform.ipynb",
                                  "03_uncertainty.ipynb", "04_poverty.ipynb"])
def test_quickstart_notebook_runs(name):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = REPO / "notebooks" / name
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [o for cell in notebook.cells if cell.cell_type == "code"
              for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    # every figure shows in the executed copy as an image, not as "<Figure size ...>"
    figures = [cell for cell in notebook.cells
               if "figure" in cell.get("metadata", {}).get("tags", [])]
    assert figures, f"{name}: no cell tagged 'figure'"
    for cell in figures:
        images = [o for o in cell.get("outputs", [])
                  if "image/png" in o.get("data", {})]
        assert images, f"{name}: the figure of this cell does not show:\n{cell.source}"
