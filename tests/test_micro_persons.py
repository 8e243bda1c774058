"""Starting the micro engine from a user-supplied person file."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import spfsim
from spfsim.engine.micro.persons import clone_cell, read_person_file
from spfsim.engine.micro.store import CONTRIBUTING
from spfsim.errors import AssumptionError

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
HEADER = ["person_id", "age", "sex", "status", "credited_years", "reference_earnings",
          "pension", "weight"]


def write(path: Path, rows: list[list]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    return path


def full_file(path: Path) -> Path:
    """Three records per age and sex: pensioners from 62, contributors from 20."""
    rows, i = [], 0
    for a in range(101):
        for s in ("male", "female"):
            for k in range(3):
                i += 1
                if a >= 62:
                    rows.append([i, a, s, "pensioner", 25, 0, 3000 + 100 * k, 1])
                elif a >= 20:
                    rows.append([i, a, s, "contributing" if k < 2 else "not_contributing",
                                 min(a - 20, 40), 9000, 0, 1 + k])
                else:
                    rows.append([i, a, s, "not_contributing", 0, 0, 0, 1])
    return write(path, rows)


@pytest.mark.parametrize(("row", "field", "value"), [
    ([1, 130, "male", "contributing", 3, 100, 0, 1], "age", "130"),
    ([1, 30, "m", "contributing", 3, 100, 0, 1], "sex", "m"),
    ([1, 30, "male", "working", 3, 100, 0, 1], "status", "working"),
    ([1, 30, "male", "contributing", 2.5, 100, 0, 1], "credited_years", "2.5"),
    ([1, 30, "male", "contributing", 3, "abc", 0, 1], "reference_earnings", "abc"),
    ([1, 70, "male", "pensioner", 30, 0, 0, 1], "pension", "0"),
    ([1, 30, "male", "contributing", 3, 100, 0, 0], "weight", "0"),
])
def test_bad_records_name_file_field_line_and_value(tmp_path, row, field, value):
    path = write(tmp_path / "persons.csv", [[9, 40, "female", "contributing", 5, 10, 0, 1], row])
    with pytest.raises(AssumptionError) as info:
        read_person_file(path)
    problem = next(p for p in info.value.problems if p.field == field)
    assert problem.row == 3
    assert problem.value == value
    assert "persons.csv" in str(problem)


def test_missing_column_and_duplicate_ids(tmp_path):
    path = tmp_path / "persons.csv"
    path.write_text("age,sex,status\n30,male,contributing\n")
    with pytest.raises(AssumptionError, match="credited_years"):
        read_person_file(path)
    write(path, [[7, 30, "male", "contributing", 1, 1, 0, 1],
                 [7, 31, "male", "contributing", 1, 1, 0, 1]])
    with pytest.raises(AssumptionError, match="duplicate; first on line 2"):
        read_person_file(path)


def test_cloning_follows_the_weights(tmp_path):
    records = read_person_file(full_file(tmp_path / "persons.csv"))
    ids = np.arange(30_000, dtype=np.int64)
    u = (ids + 0.5) / len(ids)  # evenly spread: shares are exact up to rounding
    picks = clone_cell(records, 40, 1, ids, u)
    statuses = records.status[picks]
    # weights 1, 2 (contributing) and 3 (not contributing): 50 % contributing
    assert (statuses == CONTRIBUTING).mean() == pytest.approx(0.5, abs=1e-3)
    assert clone_cell(records, 40, 1, ids, u) is not None
    assert (records.age[picks] == 40).all()


def without_disclosure_control(folder: Path) -> Path:
    """The model with ``[disclosure] minimum_records = 1``: no cell suppressed, so that a
    test sees every cell of a run from a small person file."""
    with (folder / "model.toml").open("a") as handle:
        handle.write("\n[disclosure]\nminimum_records = 1\n")
    return folder


def test_micro_run_from_a_person_file(small_model_dir, tmp_path):
    path = full_file(tmp_path / "persons.csv")
    model = spfsim.load_model(without_disclosure_control(small_model_dir))
    ds = model.project("micro", persons=4000, seed=3, person_file=path)
    assert ds.attrs["person_file_cells_synthetic"] == 0
    assert ds.attrs["person_file_hash"].startswith("sha256:")
    pension = ds.sel(scheme="pension")
    # everyone from 62 is a pensioner in the file: the base year has pensioners at 62+
    base = pension["beneficiaries"].isel(year=0)
    assert float(base.sel(age=slice(62, None)).sum()) > 0
    assert float(base.sel(age=slice(None, 59)).sum()) == 0
    # the population by age and sex is still the base population
    assert float(ds["population"].isel(year=0).sum()) == pytest.approx(
        model.assumptions.base_population.sum(), rel=1e-12)


def test_cells_missing_from_the_file_fall_back_to_the_synthetic_draw(small_model_dir,
                                                                      tmp_path):
    path = write(tmp_path / "persons.csv", [[1, 40, "male", "contributing", 10, 9000, 0, 1]])
    ds = spfsim.load_model(without_disclosure_control(small_model_dir)).project(
        "micro", persons=2000, seed=3, person_file=path)
    assert ds.attrs["person_file_cells_synthetic"] == 201
    # the synthetic cells start from the cohort engine's base year, pensioners included
    pensioners = ds["beneficiaries"].sel(scheme="pension").isel(year=0)
    assert float(pensioners.sel(age=slice(62, None), sex="male").sum()) > 0


@pytest.mark.slow  # several projections: CI's fast JIT-off subset skips it
def test_parquet_and_csv_person_files_give_the_same_projection(small_model_dir, tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    csv_path = full_file(tmp_path / "persons.csv")
    parquet_path = tmp_path / "persons.parquet"
    pd.read_csv(csv_path).to_parquet(parquet_path)
    model = spfsim.load_model(small_model_dir)
    a = model.project("micro", persons=3000, seed=4, person_file=csv_path)
    b = model.project("micro", persons=3000, seed=4, person_file=parquet_path)
    for name in a.data_vars:
        assert np.array_equal(a[name].values, b[name].values, equal_nan=True), name


def test_records_credited_years_count_as_paid_at_the_base_year_rate(tmp_path):
    """A record's credited years count as contributions at the base-year rate, so a
    member cloned from a file who reaches the pensionable age without a pension gets a
    refund of them (a refund returns the contributions paid)."""
    from spfsim.engine.micro.engine import _copy_records
    from spfsim.engine.micro.store import PersonStore

    records = read_person_file(full_file(tmp_path / "persons.csv"))
    picks = np.arange(len(records.age))
    store = PersonStore.empty(len(picks))
    _copy_records(store, slice(0, len(picks)), records, picks, 0.11)
    np.testing.assert_allclose(store.paid[: len(picks)], 0.11 * store.credits[: len(picks)])
    assert store.paid.max() > 0
    _copy_records(store, slice(0, len(picks)), records, picks, None)  # no pension
    assert not store.paid.any()
