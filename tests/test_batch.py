"""Batches on Dask (docs/batch.md): a grid equal to its cases run alone, a failing case
recorded, resume after a killed run, stale results never reused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr
from model_factory import write_small_model

import spfsim
from spfsim.batch import open_batch, read_batch, run_batch, run_case
from spfsim.batch.cli import QUIET, dask_client
from spfsim.errors import AssumptionError

GRID = """
[batch]
model = "m"
end_year = 2034
persons = 2000
variables = ["paygo_cost_rate", "reserve_ratio", "actuarial_balance", "coverage_rate"]

[axes]
"pension.contribution_rate" = [0.08, 0.10, 0.12]
"pension.accrual_rate" = [0.01, 0.015]
engine = ["cohort", "micro"]
"""


def batch_file(folder, text: str = GRID):
    if not (folder / "m").exists():
        write_small_model(folder / "m", end=2040)
    path = folder / "batch.toml"
    path.write_text(text)
    return path


def same(a: xr.Dataset, b: xr.Dataset, names) -> bool:
    """Every variable of ``names`` bitwise equal (NaN where the other has NaN)."""
    def equal(x: np.ndarray, y: np.ndarray) -> bool:
        return np.array_equal(x, y, equal_nan=x.dtype.kind == "f")

    return all(equal(np.asarray(a[n]), np.asarray(b[n])) for n in names)


def test_the_batch_file_is_validated(tmp_path):
    bad = GRID.replace('engine = ["cohort", "micro"]', 'engine = ["cohort", "fast"]').replace(
        "persons = 2000", "persons = -1")
    with pytest.raises(AssumptionError) as caught:
        read_batch(batch_file(tmp_path, bad))
    text = str(caught.value)
    assert "axes.engine" in text
    assert "batch.persons" in text
    assert "batch.toml" in text


def test_a_batch_file_that_is_a_pipe_is_refused_unread(tmp_path):
    """The Python API reads a batch file through the guarded reader too: a named pipe is
    refused at once instead of blocking."""
    os.mkfifo(tmp_path / "batch.toml")
    with pytest.raises(AssumptionError, match="named pipe"):
        read_batch(tmp_path / "batch.toml")


@pytest.mark.slow
def test_a_grid_on_two_workers_equals_its_cases_alone(tmp_path):
    spec = read_batch(batch_file(tmp_path))
    cases = spec.cases()
    assert len(cases) == 12
    with dask_client(None, 2) as client:
        result = run_batch(spec, tmp_path / "store.zarr", client)
        # the workers run with the local cluster's quiet housekeeping (batch.cli.QUIET)
        import dask

        settings = client.run(lambda: {k: dask.config.get(k) for k in QUIET})
        assert list(settings.values()) == [QUIET, QUIET]
    assert sorted(result.computed) == list(range(12))
    assert not result.failed
    ds = open_batch(tmp_path / "store.zarr").load()
    for case in (cases[0], cases[7], cases[11]):
        alone, error = run_case(spec, case)
        assert not error
        assert same(ds.isel(case=case.index), alone, spec.variables), case
    picked = ds.sel(contribution_rate=0.12, accrual_rate=0.015, engine="cohort")
    assert picked["actuarial_balance"].dims == ("scheme",)  # one case: its dimension dropped
    assert same(picked, ds.isel(case=10), spec.variables)
    assert cases[10].values == {"pension.contribution_rate": 0.12,
                                "pension.accrual_rate": 0.015, "engine": "cohort"}


def test_a_failing_case_is_recorded_and_the_others_finish(tmp_path):
    text = GRID.replace("[0.08, 0.10, 0.12]", "[0.08, 1.5]").replace(
        'engine = ["cohort", "micro"]', "")
    spec = read_batch(batch_file(tmp_path, text))
    result = run_batch(spec, tmp_path / "store.zarr")
    assert sorted(result.failed) == [2, 3]
    assert "contribution_rate" in result.failed[2]
    ds = open_batch(tmp_path / "store.zarr").load()
    assert list(ds["done"].values) == [1, 1, 0, 0]
    assert "contribution_rate" in str(ds["error"].values[3])
    assert str(ds["error"].values[0]) == ""


@pytest.mark.slow
def test_a_killed_batch_resumes_to_the_same_store(tmp_path):
    """The client is killed (SIGKILL) once three cases are in the store; the same command
    then finishes only the missing cases, and the store equals an uninterrupted run's."""
    path = batch_file(tmp_path, GRID.replace('engine = ["cohort", "micro"]',
                                             'engine = ["cohort"]\nseed = [1, 2]'))
    command = [sys.executable, "-m", "spfsim.cli", "batch", str(path), "--out",
               str(tmp_path / "killed.zarr"), "--workers", "0", "--quiet"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    done = 0
    while time.monotonic() < deadline and process.poll() is None:
        if (tmp_path / "killed.zarr").exists():  # complete once there (built, then renamed)
            with xr.open_zarr(tmp_path / "killed.zarr") as ds:
                done = int(ds["done"].values.sum())
            if done >= 3:
                break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert 3 <= done < 12, f"the batch was killed after {done} of 12 cases"
    spec = read_batch(path)
    resumed = run_batch(spec, tmp_path / "killed.zarr")
    assert len(resumed.skipped) >= 3
    assert len(resumed.computed) == 12 - len(resumed.skipped)
    run_batch(spec, tmp_path / "whole.zarr")
    killed, whole = (open_batch(tmp_path / n).load() for n in ("killed.zarr", "whole.zarr"))
    assert same(killed, whole, [*spec.variables, "done", "case_key"])


@pytest.mark.slow  # projections: the JIT-off subset skips it
def test_reforms_combine_with_parameter_axes(tmp_path):
    """A reform axis crossed with a parameter axis: each case is the reform with the
    parameter on top, its key covering the reform file; a changed reform file is not
    reused."""
    path = batch_file(tmp_path, GRID.replace('engine = ["cohort", "micro"]',
                                             'reform = ["baseline", "higher"]').replace(
        '"pension.accrual_rate" = [0.01, 0.015]\n', ""))
    (tmp_path / "m" / "reforms").mkdir()
    reform = tmp_path / "m" / "reforms" / "higher.toml"
    reform.write_text('[reform]\nname = "higher"\n\n[schemes.pension.parameters]\n'
                      'minimum_pension = { value = 3000.0, indexation = "prices" }\n')
    spec = read_batch(path)
    assert len(spec.cases()) == 6
    result = run_batch(spec, tmp_path / "store.zarr")
    assert not result.failed, result.failed
    ds = open_batch(tmp_path / "store.zarr").load()
    one = ds.sel(reform="higher", contribution_rate=0.12)
    model = spfsim.load_model(tmp_path / "m", end_year=2034, reform="higher").with_parameters(
        {"pension": {"contribution_rate": 0.12}})
    alone = model.project()
    assert same(one, alone, ["actuarial_balance", "paygo_cost_rate"])
    assert not same(one, ds.sel(reform="baseline", contribution_rate=0.12),
                    ["actuarial_balance"])
    reform.write_text(reform.read_text().replace("3000.0", "3500.0"))
    again = run_batch(read_batch(path), tmp_path / "store.zarr")
    assert sorted(again.computed) == [c.index for c in spec.cases()
                                      if c.value("reform", "baseline") == "higher"]


@pytest.mark.slow  # projections: the JIT-off subset skips it
def test_stochastic_draws_as_a_batch(tmp_path):
    """The stochastic engine over a parameter axis: each case the summaries of the model's
    draws with the case's rate, as Model.project_stochastic gives them; the engine is not
    mixed with the others."""
    text = """
[batch]
end_year = 2032
engine = "stochastic"
draws = 3

[axes]
"pension.contribution_rate" = [0.11, 0.16]
"""
    path = tmp_path / "draws.toml"
    path.write_text(text)
    spec = read_batch(path)
    assert "depletion_probability" in spec.variables
    run_batch(spec, tmp_path / "draws.zarr")
    ds = open_batch(tmp_path / "draws.zarr").load()
    assert list(ds["done"].values) == [1, 1]
    model = spfsim.load_model(end_year=2032).with_parameters(
        {"pension": {"contribution_rate": 0.16}})
    alone = model.project_stochastic(3)
    assert same(ds.sel(contribution_rate=0.16), alone, spec.variables)
    low = ds.sel(contribution_rate=0.11)["actuarial_balance_mean"].sel(scheme="pension")
    high = ds.sel(contribution_rate=0.16)["actuarial_balance_mean"].sel(scheme="pension")
    assert float(high) > float(low)
    from openpyxl import load_workbook

    from spfsim.report.batch_workbook import write_batch_workbook

    write_batch_workbook(xr.open_zarr(tmp_path / "draws.zarr").load(), tmp_path / "d.xlsx")
    header = [c.value for c in load_workbook(tmp_path / "d.xlsx")["Cases"][4]]
    assert {"pension: actuarial balance mean", "pension: depletion probability 2032",
            "pension: median paygo cost rate 2032"} <= set(header)
    path.write_text(text.replace('engine = "stochastic"', "") + 'engine = ["cohort", '
                    '"stochastic"]\n')
    with pytest.raises(AssumptionError, match="batch of its own"):
        read_batch(path)


@pytest.mark.slow
def test_a_killed_worker_loses_no_case(tmp_path):
    """A worker process killed (SIGKILL) once two cases are in the store: Dask runs its
    cases again on the other worker (and on the one the nanny restarts), every case ends
    in the store and the store equals a run in one process."""
    import threading

    path = batch_file(tmp_path, GRID.replace('engine = ["cohort", "micro"]',
                                             'engine = ["micro"]'))
    spec = read_batch(path)
    killed = []

    def kill_a_worker(client) -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            store = tmp_path / "store.zarr"
            if store.exists():
                with xr.open_zarr(store) as ds:
                    if int(ds["done"].values.sum()) >= 2:
                        pids = client.run(os.getpid)
                        pid = next(iter(pids.values()))
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                        return
            time.sleep(0.05)

    with dask_client(None, 2) as client:
        watcher = threading.Thread(target=kill_a_worker, args=(client,), daemon=True)
        watcher.start()
        result = run_batch(spec, tmp_path / "store.zarr", client)
        watcher.join(timeout=5)
    assert killed, "no worker was killed: the batch finished too soon"
    assert not result.failed, result.failed
    assert sorted(result.computed) == list(range(len(spec.cases())))
    run_batch(spec, tmp_path / "alone.zarr")
    stored, alone = (open_batch(tmp_path / n).load() for n in ("store.zarr", "alone.zarr"))
    assert same(stored, alone, [*spec.variables, "done", "case_key"])


@pytest.mark.slow  # several projections: CI's fast JIT-off subset skips it
def test_a_changed_model_is_not_reused(tmp_path):
    text = GRID.replace('engine = ["cohort", "micro"]', "").replace(
        '"coverage_rate"]', '"coverage_rate", "cost_to_gdp"]')
    spec = read_batch(batch_file(tmp_path, text))
    run_batch(spec, tmp_path / "store.zarr")
    first = open_batch(tmp_path / "store.zarr").load().isel(case=0)
    toml = tmp_path / "m" / "model.toml"
    toml.write_text(toml.read_text().replace("gdp = 1.0e9", "gdp = 1.1e9"))
    again = run_batch(read_batch(tmp_path / "batch.toml"), tmp_path / "store.zarr")
    assert sorted(again.computed) == list(range(6))
    assert not again.skipped
    # computed from the changed model, not from one this process loaded before the change
    stored = open_batch(tmp_path / "store.zarr").load().isel(case=0)
    alone, _error = run_case(spec, spec.cases()[0])
    assert same(stored, alone, ["cost_to_gdp"])
    before = stored["cost_to_gdp"].sel(scheme="pension").values
    assert np.all(np.isclose(before * 1.1, first["cost_to_gdp"].sel(scheme="pension").values,
                             rtol=1e-9))


def test_the_command_exports_a_netcdf_file_and_a_workbook(tmp_path, capsys):
    from openpyxl import load_workbook

    from spfsim.cli import main

    path = batch_file(tmp_path, GRID.replace('engine = ["cohort", "micro"]', ""))
    out = ["--out", str(tmp_path / "s.zarr"), "--workers", "0", "--quiet",
           "--netcdf", str(tmp_path / "s.nc"), "--workbook", str(tmp_path / "s.xlsx")]
    assert main(["batch", str(path), *out]) == 0
    assert "6 computed" in capsys.readouterr().out
    with xr.open_dataset(tmp_path / "s.nc") as exported:
        stored = open_batch(tmp_path / "s.zarr").load().reset_index("case")
        assert same(exported, stored, ["paygo_cost_rate", "actuarial_balance", "case_key"])
    book = load_workbook(tmp_path / "s.xlsx")
    assert book.sheetnames == ["Cases", "Charts pension"]
    header = [c.value for c in book["Cases"][4]]
    assert header[:4] == ["case", "contribution_rate", "accrual_rate", "done"]
    assert "pension: actuarial balance" in header
    assert main(["batch", str(path), *out]) == 1  # the exports exist: refused before work
    assert "--overwrite" in capsys.readouterr().err


def test_the_local_cluster_shares_the_cores_this_process_may_use(monkeypatch):
    """The cores counted are those of the process's affinity and quota (never more than
    the machine's); each worker of the local cluster runs its cases on its share of them
    but one, at least one thread; an existing cluster or none keeps its own setting."""
    import os

    from spfsim.batch import cli

    assert 1 <= cli.local_cores() <= (os.cpu_count() or 1)
    monkeypatch.setattr(cli, "local_cores", lambda: 8)
    assert cli.local_threads(None, 2) == 3
    assert cli.local_threads(None, None) == 1  # one worker a core
    assert cli.local_threads(None, 16) == 1
    assert cli.local_threads("tcp://host:8786", 2) is None
    assert cli.local_threads(None, 0) is None
