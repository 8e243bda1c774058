"""Disclosure control of micro runs from a person file (R202 para. 23): the records behind
each cell, counted by hand; cells with 1 to minimum_records - 1 records suppressed, the
others untouched; no person or household id in any output (spfsim.results.disclosure)."""

from __future__ import annotations

import csv

import numpy as np
import openpyxl
import pytest
import xarray as xr
from model_factory import families_model
from test_micro_persons import without_disclosure_control
from test_person_households import survey

import spfsim
from spfsim.engine.micro.disclosure import SourceCells, records_by_age
from spfsim.engine.micro.families import N_SIZES
from spfsim.errors import AssumptionError
from spfsim.results.disclosure import control_disclosure, records_by_cell

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
YEARS = np.array([2025, 2026, 2027])


def sources(records: dict[tuple[int, int, int], int], households=None) -> SourceCells:
    """SourceCells with ``records[(k, base age, sex)]`` records living in year k."""
    cells = SourceCells.__new__(SourceCells)
    cells.records = np.zeros((len(YEARS), 101, 2), dtype=np.int64)
    for (k, age, sex), n in records.items():
        cells.records[k, age, sex] = n
    cells.households = (np.zeros((len(YEARS), N_SIZES), dtype=np.int64)
                        if households is None else households)
    return cells


def test_records_are_counted_by_their_cohort_by_hand():
    """A record aged 30 in the base year is 32 two years on; the oldest are together at
    100; an age group, a sex and a year add their records; a birth cohort counts those
    of the base year."""
    cells = records_by_cell(sources({(0, 30, 0): 3, (2, 30, 0): 2, (0, 99, 1): 4,
                                     (2, 99, 1): 1, (2, 100, 1): 5, (2, 70, 0): 7}), YEARS)
    age = cells["age"]
    assert int(age.sel(year=2025, age=30, sex="male")) == 3
    assert int(age.sel(year=2027, age=32, sex="male")) == 2
    assert int(age.sel(year=2027, age=30, sex="male")) == 0  # born 1997: no record left
    assert int(age.sel(year=2025, age=99, sex="female")) == 4
    assert int(age.sel(year=2027, age=100, sex="female")) == 6  # base ages 99 and 100
    groups = cells["age_group"].sel(year=2027)
    assert int(groups.sel(sex="male", age_group="15-64")) == 2
    assert int(groups.sel(sex="male", age_group="65+")) == 7
    assert int(cells["year_sex"].sel(year=2027, sex="female")) == 6
    assert int(cells["year"].sel(year=2027)) == 15
    assert int(cells["cohort"].sel(cohort=1995, sex="male")) == 3
    assert int(cells["birth_cohort"].sel(birth_cohort=1995, sex="male")) == 3
    assert int(cells["all"]) == 7


def test_records_by_age_adds_the_living():
    alive = np.array([1, 0, 1, 1], dtype=np.uint8)
    counts = records_by_age(alive, np.array([5, 5, 5, 100]), np.array([0, 0, 1, 1]))
    assert counts[5, 0] == 1
    assert counts[5, 1] == 1
    assert counts[100, 1] == 1
    assert counts.sum() == 3


def dataset() -> xr.Dataset:
    coords = {"year": YEARS, "age": np.arange(101), "sex": ["male", "female"]}
    shape = (len(YEARS), 101, 2)
    return xr.Dataset({
        "population": (("year", "age", "sex"), np.ones(shape)),
        "contributors": (("year", "sex", "scheme"), np.ones((len(YEARS), 2, 1))),
        "gdp": (("year",), np.ones(len(YEARS))),
        "households_by_size": (("year", "household_size"), np.ones((len(YEARS), N_SIZES))),
        "actuarial_balance": (("scheme",), np.ones(1)),
    }, coords={**coords, "scheme": ["pension"], "household_size": np.arange(1, N_SIZES + 1)})


def test_cells_with_few_records_are_suppressed_and_the_others_kept():
    households = np.zeros((len(YEARS), N_SIZES), dtype=np.int64)
    households[:, 0], households[:, 5] = 20, 3
    cells = sources({(0, 30, 0): 3, (0, 40, 0): 10, (0, 50, 1): 12, (1, 40, 0): 9},
                    households)
    ds = control_disclosure(dataset(), cells, minimum_records=10)
    population = ds["population"]
    assert np.isnan(population.sel(year=2025, age=30, sex="male"))
    assert float(population.sel(year=2025, age=40, sex="male")) == 1.0  # 10 records
    assert np.isnan(population.sel(year=2026, age=41, sex="male"))  # 9 left
    assert float(population.sel(year=2025, age=31, sex="male")) == 1.0  # no record
    assert population.attrs["cells_suppressed"] == 2
    # by sex: 13 men in 2025, 9 in 2026, none in 2027 (nobody left)
    men = ds["contributors"].sel(sex="male", scheme="pension")
    assert np.isnan(men.values).tolist() == [False, True, False]
    sizes = ds["households_by_size"]
    assert np.isnan(sizes.sel(household_size=6)).all()
    assert not np.isnan(sizes.sel(household_size=1)).any()
    assert "cells_suppressed" not in ds["gdp"].attrs  # an assumption
    assert float(ds["actuarial_balance"].sel(scheme="pension")) == 1.0  # 25 records in all
    assert ds.attrs["disclosure_minimum_records"] == 10
    # a threshold of 1 suppresses nothing
    assert not control_disclosure(dataset(), cells, 1)["population"].isnull().any()


def test_a_synthetic_population_needs_none():
    ds = control_disclosure(dataset(), None, 10)
    assert "none needed" in ds.attrs["disclosure_control"]
    assert not ds["population"].isnull().any()


def test_a_run_from_a_survey_suppresses_only_cells_of_few_records(tmp_path):
    """The same run with the default threshold and with none: every value kept is the
    uncontrolled one, every cell suppressed had 1-9 records behind it, and nothing about
    the file's persons (their ids, their households' ids) reaches the workbook or the
    netCDF file."""
    from spfsim.report.outputs import write_outputs

    path = survey(tmp_path / "persons.csv")
    folder = families_model(tmp_path / "m", end=2030)
    model = spfsim.load_model(folder)
    assert model.input.minimum_records == 10
    controlled = model.project("micro", persons=8000, seed=5, person_file=path)
    free = spfsim.load_model(without_disclosure_control(families_model(
        tmp_path / "f", end=2030))).project("micro", persons=8000, seed=5, person_file=path)
    assert "suppressed" in controlled.attrs["disclosure_control"]
    suppressed = 0
    for name in free.data_vars:
        kept = controlled[name].notnull() | free[name].isnull()
        same = (controlled[name] == free[name]) | ~controlled[name].notnull()
        assert bool(same.all()), name
        suppressed += int((~kept).sum())
        assert int((~kept).sum()) == controlled[name].attrs.get("cells_suppressed", 0), name
    assert suppressed > 0
    households = controlled["households_by_size"]
    assert households.attrs["cells_suppressed"] > 0
    out = tmp_path / "out"
    written = write_outputs(model, controlled, out, overwrite=True)
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    ids = {r["person_id"] for r in rows} | {r["household_id"] for r in rows}
    workbook = openpyxl.load_workbook(next(f for f in written if f.suffix == ".xlsx"))
    found = [c.value for ws in workbook for row in ws.iter_rows() for c in row
             if isinstance(c.value, str) and c.value.strip() in ids]
    assert found == []
    netcdf = xr.open_dataset(next(f for f in written if f.suffix == ".nc"))
    texts = [str(v) for v in netcdf.attrs.values()] + [
        str(v) for name in netcdf.variables for v in netcdf[name].attrs.values()]
    assert not [t for t in texts if t.strip() in ids]
    netcdf.close()


@pytest.mark.parametrize("value", [0, 2.5, "ten", True])
def test_a_bad_threshold_is_named(small_model_dir, value):
    text = repr(value).lower() if not isinstance(value, str) else f'"{value}"'
    with (small_model_dir / "model.toml").open("a") as handle:
        handle.write(f"\n[disclosure]\nminimum_records = {text}\n")
    with pytest.raises(AssumptionError) as info:
        spfsim.load_model(small_model_dir)
    assert any(p.field == "disclosure.minimum_records" for p in info.value.problems)


def test_living_records_and_their_households_by_hand():
    """Five persons: ids 0-3 cloned from records 0, 0, 1, 2 (record 2 of household 1, the
    others of household 0), id 9 born later. Person 1 is gone. Households: 0 and 2 live
    together (size 2), 3 and 9 together (size 2)."""
    from spfsim.engine.micro.disclosure import household_sources, living_records
    from spfsim.engine.micro.store import GONE, INACTIVE

    pid = np.array([0, 1, 2, 3, 9])
    status = np.array([INACTIVE, GONE, INACTIVE, INACTIVE, INACTIVE], dtype=np.int8)
    household = np.array([1, 0, 1, 4, 4], dtype=np.int32)  # reference slot + 1
    sources = np.array([0, 0, 1, 2])
    alive = np.zeros(3, dtype=np.uint8)
    living_records(pid, status, 5, sources, alive)
    assert alive.tolist() == [1, 1, 1]
    seen = np.zeros((N_SIZES, 2), dtype=np.uint8)
    household_sources(pid, status, household, 5, sources, np.array([0, 0, 1]), seen)
    assert seen[1].tolist() == [1, 1]  # both source households in households of 2
    assert seen.sum() == 2
