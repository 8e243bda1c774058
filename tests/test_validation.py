"""Bad inputs: each is reported with the file, field, row and value, and all at once."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

import spfsim
from spfsim.errors import AssumptionError, Problem


def edit_csv(path: Path, edit) -> None:
    """Apply ``edit(rows)`` to a CSV file's rows (header included)."""
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    rows = edit(rows)
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)


def set_cell(column: str, value: str, data_row: int = 0):
    def edit(rows):
        rows[1 + data_row][rows[0].index(column)] = value
        return rows
    return edit


def replace_text(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def problems_of(model_dir: Path) -> list[Problem]:
    with pytest.raises(AssumptionError) as info:
        spfsim.load_model(model_dir)
    return info.value.problems


def the_problem(model_dir: Path, file_name: str, field: str) -> Problem:
    problems = problems_of(model_dir)
    hits = [p for p in problems if Path(p.file).name == file_name and field in p.field]
    assert hits, f"no problem for {file_name}/{field}; got: {[str(p) for p in problems]}"
    return hits[0]


# Each case: (break the model, file named, field named, value named, line named or None)
CASES = {
    "missing file": (
        lambda d: (d / "assumptions" / "population.csv").unlink(),
        "population.csv", "file", "population.csv", None),
    "missing column": (
        lambda d: edit_csv(d / "assumptions" / "mortality.csv",
                           lambda rows: [r[:2] for r in rows]),
        "mortality.csv", "mx", None, 1),
    "probability above one": (
        lambda d: edit_csv(d / "assumptions" / "labour.csv", set_cell("participation", "1.5", 3)),
        "labour.csv", "participation", "1.5", 5),
    "negative population": (
        lambda d: edit_csv(d / "assumptions" / "population.csv", set_cell("population", "-5", 7)),
        "population.csv", "population", "-5", 9),
    "year gap": (
        lambda d: edit_csv(d / "assumptions" / "economy.csv",
                           lambda rows: [r for r in rows if r[0] != "2030"]),
        "economy.csv", "year", 2030, None),
    "unknown scheme type": (
        lambda d: replace_text(d / "model.toml", 'type = "universal_benefit"',
                               'type = "universal_benefits"'),
        "model.toml", "schemes.child_benefit.type", "universal_benefits", 33),
    "non-numeric cell": (
        lambda d: edit_csv(d / "assumptions" / "mortality.csv", set_cell("mx", "abc", 10)),
        "mortality.csv", "mx", "abc", 12),
    "unknown unit": (
        lambda d: replace_text(d / "assumptions" / "assumptions.toml",
                               'file = "mortality.csv"',
                               'file = "mortality.csv"\nunits = { mx = "per fortnight" }'),
        "assumptions.toml", "tables.mortality.units.mx", "per fortnight", 9),
    "duplicate row": (
        lambda d: edit_csv(d / "assumptions" / "population.csv",
                           lambda rows: [*rows, rows[5]]),
        "population.csv", "age,sex", {"age": 4, "sex": "male"}, 204),
    "missing parameter": (
        lambda d: replace_text(d / "model.toml", "accrual_rate = 0.02\n", ""),
        "model.toml", "schemes.pension.parameters.accrual_rate", None, None),
    "invalid TOML": (
        lambda d: replace_text(d / "model.toml", "base_year = 2025", "base_year = = 2025"),
        "model.toml", "syntax", None, 4),
    "indexation weights": (
        lambda d: replace_text(d / "model.toml", 'indexation = "prices"',
                               "indexation = { prices = 0.6, wages = 0.6 }"),
        "model.toml", "minimum_pension.indexation", 1.2, None),
    "age out of range": (
        lambda d: edit_csv(d / "assumptions" / "mortality.csv", set_cell("age", "101", 100)),
        "mortality.csv", "age", "101", 102),
    "unknown sex": (
        lambda d: edit_csv(d / "assumptions" / "population.csv", set_cell("sex", "x", 0)),
        "population.csv", "sex", "x", 2),
    "end before base": (
        lambda d: replace_text(d / "model.toml", "end_year = 2045", "end_year = 2020"),
        "model.toml", "model.end_year", 2020, 5),
    "age band reversed": (
        lambda d: replace_text(d / "model.toml", "max_age = 14", "max_age = -1"),
        "model.toml", "schemes.child_benefit.parameters.max_age", -1, 38),
    "infinite rate": (
        lambda d: edit_csv(d / "assumptions" / "economy.csv", set_cell("interest_rate", "inf")),
        "economy.csv", "interest_rate", "inf", 2),
    "table too short": (
        lambda d: edit_csv(d / "assumptions" / "economy.csv", lambda rows: rows[:-3]),
        "economy.csv", "year", 2042, None),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_names_file_field_value(small_model_dir, case):
    breaker, file_name, field, value, line = CASES[case]
    breaker(small_model_dir)
    problem = the_problem(small_model_dir, file_name, field)
    text = str(problem)
    assert file_name in text
    assert field.split(".")[-1] in text
    if value is not None:
        if isinstance(value, str):  # a cell as written, or a path ending in the file name
            assert value in text
            assert str(problem.value).endswith(value)
        else:
            assert repr(value) in text
            assert problem.value == value
    if line is not None:
        assert problem.row == line
        assert f"line {line}" in text


def test_all_problems_reported_at_once(small_model_dir):
    CASES["probability above one"][0](small_model_dir)
    CASES["unknown scheme type"][0](small_model_dir)
    CASES["non-numeric cell"][0](small_model_dir)
    files = {Path(p.file).name for p in problems_of(small_model_dir)}
    assert {"labour.csv", "model.toml", "mortality.csv"} <= files


def test_bad_input_changes_nothing_on_disk(small_model_dir):
    CASES["negative population"][0](small_model_dir)
    before = {p: p.read_bytes() for p in small_model_dir.rglob("*") if p.is_file()}
    problems_of(small_model_dir)
    after = {p: p.read_bytes() for p in small_model_dir.rglob("*") if p.is_file()}
    assert before == after


def test_percent_units_are_converted(small_model_dir):
    header = small_model_dir / "assumptions" / "assumptions.toml"
    replace_text(header, 'file = "labour.csv"',
                 'file = "labour.csv"\nunits = { participation = "percent" }')
    edit_csv(small_model_dir / "assumptions" / "labour.csv",
             lambda rows: [rows[0]] + [[*r[:2], str(float(r[2]) * 100), *r[3:]]
                                       for r in rows[1:]])
    model = spfsim.load_model(small_model_dir)
    assert model.assumptions.participation[0, 30, 0] == pytest.approx(0.8)


def test_validate_command_lists_every_problem(small_model_dir):
    CASES["probability above one"][0](small_model_dir)
    CASES["unknown sex"][0](small_model_dir)
    result = subprocess.run([sys.executable, "-m", "spfsim.cli", "validate",
                             str(small_model_dir)], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "labour.csv" in result.stderr
    assert "participation" in result.stderr
    assert "population.csv" in result.stderr
    assert "'x'" in result.stderr


def test_validate_command_accepts_a_valid_model(small_model_dir):
    result = subprocess.run([sys.executable, "-m", "spfsim.cli", "validate",
                             str(small_model_dir)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_missing_model_folder(tmp_path):
    problems = problems_of(tmp_path / "nowhere")
    assert "not found" in str(problems[0])
