"""The floor's rapid costing as a batch, one country a case (spfsim.spf.costing_batch): the
same numbers as the costing in one pass, resumable, failures recorded, changed files never
reused; from a batch file and from ``spfsim spf-cost --store``."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from spfsim.batch import run as batch_run
from spfsim.batch.run import run_batch
from spfsim.batch.spec import read_batch
from spfsim.cli import main
from spfsim.errors import AssumptionError
from spfsim.spf import costing_batch
from spfsim.spf.costing_batch import costing_from_store
from spfsim.spf.run import cost_floor

COUNTRIES = ["GHA", "NGA", 76, "KEN"]


def batch_file(path, shared_data, countries=COUNTRIES, extra=""):
    listed = ", ".join(f'"{c}"' if isinstance(c, str) else str(c) for c in countries)
    path.write_text(f'[batch]\nengine = "spf-cost"\nyear = 2030\ndata = "{shared_data}"\n'
                    f"{extra}\n[axes]\ncountry = [{listed}]\n")
    return path


def assert_same_costing(batch: xr.Dataset, one_pass: xr.Dataset) -> None:
    """Every variable, coordinate and attribute equal (but the time of creation)."""
    left, right = batch.copy(), one_pass.copy()
    left.attrs.pop("created")
    right.attrs.pop("created")
    xr.testing.assert_identical(left, right)


def test_a_costing_batch_gives_the_one_pass_costing(tmp_path, shared_data):
    spec = read_batch(batch_file(tmp_path / "spf.toml", shared_data))
    assert spec.axes["country"] == [288, 566, 76, 404]
    result = run_batch(spec, tmp_path / "store.zarr")
    assert result.computed == [0, 1, 2, 3]
    assert not result.failed
    batch = costing_from_store(tmp_path / "store.zarr", spec)
    assert_same_costing(batch, cost_floor(spec.axes["country"], 2030, data_dir=shared_data))
    # the store selects by country
    stored = batch_run.open_batch(tmp_path / "store.zarr")
    assert float(stored["floor_cost_to_gdp"].sel(country=566)) == pytest.approx(
        float(batch["floor_cost_to_gdp"].sel(country=566)))


def test_a_failed_country_is_recorded_and_the_next_run_costs_only_it(tmp_path, shared_data,
                                                                      monkeypatch):
    spec = read_batch(batch_file(tmp_path / "spf.toml", shared_data))
    store = tmp_path / "store.zarr"
    real = costing_batch.cost_case

    def failing(spec, country):
        if country == 76:
            raise RuntimeError("no data today")
        return real(spec, country)

    monkeypatch.setattr(costing_batch, "cost_case", failing)
    first = run_batch(spec, store)
    assert first.computed == [0, 1, 3]
    assert "no data today" in first.failed[2]
    monkeypatch.setattr(costing_batch, "cost_case", real)
    second = run_batch(spec, store)
    assert second.computed == [2]
    assert second.skipped == [0, 1, 3]
    assert_same_costing(costing_from_store(store, spec),
                        cost_floor(spec.axes["country"], 2030, data_dir=shared_data))


def test_changed_levels_are_never_reused(tmp_path, shared_data):
    levels = tmp_path / "levels.toml"
    levels.write_text('title = "mine"\n')
    spec = read_batch(batch_file(tmp_path / "spf.toml", shared_data, ["GHA", "KEN"],
                                 'levels = "levels.toml"'))
    store = tmp_path / "store.zarr"
    assert run_batch(spec, store).computed == [0, 1]
    assert run_batch(spec, store).computed == []
    levels.write_text('title = "mine, changed"\n')
    assert run_batch(read_batch(spec.path), store).computed == [0, 1]


@pytest.mark.parametrize(("text", "field"), [
    ('[batch]\nengine = "spf-cost"\n[axes]\ncountry = ["XXX"]\n', "axes.country"),
    ('[batch]\nengine = "spf-cost"\n[axes]\ncountry = ["GHA", 288]\n', "axes.country"),
    ('[batch]\nengine = "spf-cost"\nyear = 1990\n[axes]\ncountry = ["GHA"]\n', "batch.year"),
    ('[batch]\nengine = "spf-cost"\n[axes]\n"pension.accrual_rate" = [0.1]\n',
     "axes.country"),
    ('[batch]\nyear = 2030\n[axes]\n"pension.accrual_rate" = [0.1]\n', "batch.year"),
    ('[batch]\n[axes]\ncountry = ["GHA"]\n', "axes.country"),
    ('[batch]\nengine = "spf-cost"\n[axes]\ncountry = ["GHA"]\nseed = [1]\n', "axes.seed"),
])
def test_a_bad_costing_batch_is_named(tmp_path, shared_data, monkeypatch, text, field):
    monkeypatch.setenv("SPFSIM_DATA", str(shared_data))
    path = tmp_path / "spf.toml"
    path.write_text(text)
    with pytest.raises(AssumptionError) as info:
        read_batch(path)
    assert field in [p.field for p in info.value.problems]
    assert all(p.file == str(path) for p in info.value.problems)


def test_spf_cost_with_a_store_writes_what_the_one_pass_writes(tmp_path, shared_data,
                                                                capsys):
    common = ["spf-cost", "--country", "GHA,ETH,IND", "--year", "2030", "--data",
              str(shared_data), "--quiet"]
    assert main([*common, "--out", str(tmp_path / "one")]) == 0
    store = tmp_path / "store.zarr"
    assert main([*common, "--out", str(tmp_path / "batch"), "--store", str(store),
                 "--workers", "0"]) == 0
    one = xr.load_dataset(tmp_path / "one" / "spf_cost_2030.nc")
    batch = xr.load_dataset(tmp_path / "batch" / "spf_cost_2030.nc")
    assert_same_costing(batch, one)
    assert (tmp_path / "batch" / "spf_cost_2030.xlsx").exists()
    # again: every country is in the store, nothing is costed
    assert main([*common, "--out", str(tmp_path / "again"), "--store", str(store),
                 "--workers", "0"]) == 0
    assert_same_costing(xr.load_dataset(tmp_path / "again" / "spf_cost_2030.nc"), one)
    # workers need a store
    assert main([*common, "--out", str(tmp_path / "x"), "--workers", "2"]) != 0
    assert "--store" in capsys.readouterr().err


def test_a_costing_batch_file_exports_the_costing_workbook(tmp_path, shared_data):
    path = batch_file(tmp_path / "spf.toml", shared_data, ["GHA", "KEN"])
    store, netcdf = tmp_path / "store.zarr", tmp_path / "spf.nc"
    assert main(["batch", str(path), "--out", str(store), "--workers", "0", "--netcdf",
                 str(netcdf), "--workbook", str(tmp_path / "spf.xlsx"), "--quiet"]) == 0
    exported = xr.load_dataset(netcdf)
    assert exported.sizes["country"] == 2
    assert np.isfinite(exported["floor_cost_to_gdp"].values).all()
    from openpyxl import load_workbook

    assert "Overview" in load_workbook(tmp_path / "spf.xlsx").sheetnames


@pytest.mark.slow  # a local Dask cluster
def test_countries_on_two_workers_are_those_of_one_process(tmp_path, shared_data):
    common = ["spf-cost", "--country", "GHA,NGA,KEN,BRA", "--data", str(shared_data),
              "--quiet"]
    assert main([*common, "--out", str(tmp_path / "one")]) == 0
    assert main([*common, "--out", str(tmp_path / "two"), "--store",
                 str(tmp_path / "store.zarr"), "--workers", "2"]) == 0
    assert_same_costing(xr.load_dataset(tmp_path / "two" / "spf_cost_2025.nc"),
                        xr.load_dataset(tmp_path / "one" / "spf_cost_2025.nc"))


def test_the_bundled_batch_costs_every_country(shared_data, monkeypatch):
    from spfsim.batch.cli import find_batch_file

    monkeypatch.setenv("SPFSIM_DATA", str(shared_data))
    spec = read_batch(find_batch_file("spf-all-countries"))
    assert spec.engine == "spf-cost"
    assert len(spec.cases()) == 236
