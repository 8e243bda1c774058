"""The column-by-column reading of a clean assumption table (params.tables._clean_table)
gives exactly what the row-by-row reading gives, and leaves every table with a problem to
the row-by-row reading, which reports it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from spfsim.errors import ProblemLog
from spfsim.params import tables
from spfsim.params.model_file import read_model
from spfsim.schemes import SCHEME_TYPES

MODELS = Path(__file__).resolve().parents[1] / "models"
SPEC = tables.TableSpec(
    "example", dims=("age", "sex"), full_ages=False,
    columns=(tables.ColumnSpec("rate", "rate", low=0.0, high=1.0, low_open=True),
             tables.ColumnSpec("level", "rate", default=0.25)))


def _tables(model_input) -> dict[str, tables.Table]:
    found = {f"model.{name}": t for name, t in model_input.tables.items()}
    for i, assumption_set in enumerate(model_input.assumption_sets):
        found.update({f"set {i}.{name}": t for name, t in assumption_set.items()
                      if isinstance(t, tables.Table)})
    return found


def _assert_same(fast: tables.Table, slow: tables.Table) -> None:
    assert (fast.name, fast.dims, fast.units) == (slow.name, slow.dims, slow.units)
    for dim in slow.coords:
        assert fast.coords[dim].dtype == slow.coords[dim].dtype
        assert np.array_equal(fast.coords[dim], slow.coords[dim])
    assert fast.values.keys() == slow.values.keys()
    for name, values in slow.values.items():
        assert fast.values[name].dtype == values.dtype
        assert np.array_equal(fast.values[name], values)


@pytest.mark.parametrize("model", sorted(p.name for p in MODELS.iterdir() if p.is_dir()))
def test_every_bundled_table_reads_the_same_both_ways(model, monkeypatch):
    read = []
    fast_path = tables._clean_table

    def counted(*args):
        table = fast_path(*args)
        read.append(table is not None)
        return table

    monkeypatch.setattr(tables, "_clean_table", counted)
    fast = _tables(read_model(MODELS / model, SCHEME_TYPES))
    assert read  # every bundled table is clean, so read column by column
    assert all(read)
    monkeypatch.setattr(tables, "_clean_table", lambda *args: None)
    slow = _tables(read_model(MODELS / model, SCHEME_TYPES))
    assert fast.keys() == slow.keys()
    for name in slow:
        _assert_same(fast[name], slow[name])


def _rows(ages=range(15, 20), text=None) -> list[list[str]]:
    """A clean partial-age table by hand (ages 15-19, both sexes), in percent; ``text``
    replaces cells: {(row, column): text}, row 0 the header."""
    rows = [["sex", "age", "rate"]] + [[sex, str(age), f"{(age - 10) * 1.5:g}"]
                                       for sex in ("female", "male") for age in ages]
    for (row, column), value in (text or {}).items():
        rows[row][column] = value
    return rows


def _read(rows, fast: bool, monkeypatch) -> tuple[tables.Table | None, ProblemLog]:
    if not fast:
        monkeypatch.setattr(tables, "_clean_table", lambda *args: None)
    log = ProblemLog()
    flog = tables._FileLog(log, Path("example.csv"))
    table = tables._parse_rows(SPEC, rows, Path("example.csv"), flog, {"rate": 0.01})
    monkeypatch.undo()
    return table, log


def test_a_clean_table_by_hand_reads_the_same_both_ways(monkeypatch):
    fast, log = _read(_rows(), True, monkeypatch)
    slow, _ = _read(_rows(), False, monkeypatch)
    assert not list(log)
    _assert_same(fast, slow)
    # ages outside the range are zero, the optional column takes its default
    assert fast.values["rate"][17, 1] == pytest.approx(0.105)  # 10.5 % for a man of 17
    assert fast.values["rate"][14].sum() == 0.0 == fast.values["rate"][20].sum()
    assert fast.values["level"][15, 0] == 0.25
    assert fast.values["level"][40, 0] == 0.0


@pytest.mark.parametrize("change", [
    {(3, 2): "1e3"},            # out of range (10 = 1000 %)
    {(3, 2): "-7.5"},           # below zero
    {(3, 2): "0"},              # on an open bound
    {(3, 2): "nan"},            # not finite
    {(3, 2): "x"},              # not a number
    {(3, 1): "16.5"},           # an age that is not whole
    {(3, 1): "101"},            # beyond the open age group
    {(3, 0): "other"},          # not a sex
    {(3, 1): "15"},             # a duplicate (and age 17 missing)
])
def test_a_problem_is_left_to_the_row_by_row_reading(change, monkeypatch):
    table, log = _read(_rows(text=change), True, monkeypatch)
    assert table is None
    assert list(log)
    assert next(iter(log)).row == 4  # named on its line of the file


def test_a_gap_or_a_missing_combination_is_reported_by_the_row_by_row_reading(monkeypatch):
    gap = [row for row in _rows() if row[1] != "17"]
    table, log = _read(gap, True, monkeypatch)
    assert table is None
    assert "contiguous" in next(iter(log)).message
    missing = _rows()[:-1]  # no man of 19
    table, log = _read(missing, True, monkeypatch)
    assert table is None
    assert "missing" in next(iter(log)).message


def test_a_blank_line_is_skipped_by_the_row_by_row_reading(monkeypatch):
    rows = _rows()
    rows.insert(4, [])
    table, log = _read(rows, True, monkeypatch)
    assert not list(log)
    _assert_same(table, _read(_rows(), False, monkeypatch)[0])
