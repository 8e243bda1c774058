"""A user-supplied person file as the starting population of the micro engine.

The file is a sample of the base-year population (survey or administrative records). The
engine clones it into the simulated population stratum by stratum: each age x sex cell gets
the number of persons that the base population calls for (largest remainder), drawn from the
file's records of that cell with probability proportional to their ``weight``. Simulated
persons therefore keep uniform weights (so aggregates stay integer and bitwise
reproducible) while the file supplies the distribution of status, service, earnings and
pensions within each cell. Cells with no record fall back to the synthetic draw.

Columns (CSV with a header row, or Parquet when pyarrow is installed):

- ``person_id``: optional, unique; the row's identity in messages;
- ``age``: 0..100, completed years at 1 July of the base year (100 = 100+);
- ``sex``: ``male`` or ``female``;
- ``status``: ``contributing`` (an employee, in the base year),
  ``self_employed_contributing``, ``informal`` (employed without contributing),
  ``unemployed``, ``inactive`` (``not_contributing`` is read as inactive), ``disabled``, or
  ``pensioner`` (receiving the old-age pension);
- ``credited_years``: whole number >= 0, credited service before the base year;
- ``reference_earnings``: >= 0, career-average insured earnings revalued to the base year
  (currency per year);
- ``pension``: >= 0, old-age pension in payment (pensioners only; currency per year);
- ``earnings_level``: optional (default 1), > 0, persistent earnings relative to the
  age-sex profile;
- ``weight``: optional (default 1), > 0, sampling weight within the file.

Household columns (optional; ``household_id`` turns them on and needs ``person_id``):

- ``household_id``: the household the person lives in (any text); the members of a
  household share one weight (a household survey's household weight);
- ``partner_id``: the ``person_id`` of the person's partner in the household (blank for
  none): returned by the partner, of the other sex, both aged 15 or over;
- ``mother_id``, ``father_id``: the ``person_id`` of a parent in the household (blank for
  none), a woman (a man) older than the child.

With households, whole households are cloned (engine.micro.person_households), not persons
cell by cell.

Personal records never leave the engine: outputs are aggregates (R202 para. 23).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import ProblemLog
from ...input_files import check_input_file
from ...params.tables import read_csv_rows
from .families import MIN_PARTNER_AGE
from .store import (
    CONTRIBUTING,
    DISABLED,
    INACTIVE,
    INFORMAL,
    RETIRED,
    SELF_EMPLOYED,
    UNEMPLOYED,
)

STATUSES = {"contributing": CONTRIBUTING, "self_employed_contributing": SELF_EMPLOYED,
            "informal": INFORMAL, "unemployed": UNEMPLOYED, "inactive": INACTIVE,
            "disabled": DISABLED, "not_contributing": INACTIVE, "pensioner": RETIRED}
REQUIRED = ("age", "sex", "status", "credited_years", "reference_earnings", "pension")
LINKS = ("partner_id", "mother_id", "father_id")
OPTIONAL = ("person_id", "earnings_level", "weight", "household_id", *LINKS)
SEXES = ("male", "female")


@dataclass
class PersonRecords:
    """Validated records, one array per column."""

    path: Path
    age: np.ndarray
    sex: np.ndarray
    status: np.ndarray
    service: np.ndarray
    reference_earnings: np.ndarray
    pension: np.ndarray
    earnings_level: np.ndarray
    weight: np.ndarray
    # with household columns: each record's household (0.. in order of first appearance)
    # and its partner, mother and father (record indices, -1 for none); None without
    household: np.ndarray | None = None
    partner: np.ndarray | None = None
    mother: np.ndarray | None = None
    father: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.age)

    @property
    def linked(self) -> bool:
        """Whether the file gives households (and the links within them)."""
        return self.household is not None


def _rows(path: Path, log: ProblemLog) -> tuple[list[str], list[list[str]]] | None:
    if path.suffix.lower() == ".parquet":
        # a regular file within the person files' size, before pyarrow opens it (a pipe
        # would block it, a device feed it forever)
        check_input_file(path, "person file", "person file")
        try:
            import pandas as pd

            frame = pd.read_parquet(path)
        except ImportError:
            log.add(path, "file", "reading Parquet needs pyarrow (pip install pyarrow), or "
                    "give the person file as CSV", None, str(path))
            return None
        except (OSError, ValueError) as exc:
            log.add(path, "file", f"cannot read the Parquet file: {exc}", None, str(path))
            return None
        # a null cell is an empty one, as in a CSV file
        frame = frame.astype(object).where(frame.notna(), "")
        return [str(c) for c in frame.columns], frame.astype(str).to_numpy().tolist()
    rows = read_csv_rows(path, log, "the person file")
    if rows is None:
        return None
    return [h.strip() for h in rows[0]], rows[1:]


def read_person_file(path: str | Path) -> PersonRecords:
    """Read and validate a person file; raise AssumptionError listing every problem."""
    path = Path(path)
    log = ProblemLog()
    parsed = _rows(path, log)
    log.raise_if_any()
    assert parsed is not None
    header, rows = parsed
    for name in header:
        if name not in REQUIRED + OPTIONAL:
            log.add(path, name, f"unexpected column; expected {list(REQUIRED + OPTIONAL)}", 1,
                    name)
    for name in REQUIRED:
        if name not in header:
            log.add(path, name, "required column is missing", 1, None)
    log.raise_if_any()
    col = {name: header.index(name) for name in header}
    values: dict[str, list] = {name: [] for name in (*REQUIRED, *OPTIONAL, "line")}
    seen_ids: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):
        if not any(str(cell).strip() for cell in row):
            continue
        if len(row) != len(header):
            log.add(path, "row", f"has {len(row)} cells, header has {len(header)}", line,
                    ",".join(map(str, row)))
            continue
        record = _record(path, row, col, line, log, seen_ids)
        if record is not None:
            for name, value in record.items():
                values[name].append(value)
            values["line"].append(line)
    if not values["age"] and not len(log):
        log.add(path, "file", "the person file has no records", None, None)
    if "household_id" not in header:
        for name in ("partner_id", "mother_id", "father_id"):
            if name in header:
                log.add(path, name, "family links need the household_id column", 1, name)
    elif "person_id" not in header:
        log.add(path, "person_id", "household columns need the person_id column", 1, None)
    log.raise_if_any()
    records = PersonRecords(
        path, np.array(values["age"], dtype=np.int64), np.array(values["sex"], dtype=np.int64),
        np.array(values["status"], dtype=np.int8), np.array(values["credited_years"],
                                                            dtype=np.int64),
        np.array(values["reference_earnings"]), np.array(values["pension"]),
        np.array(values["earnings_level"]), np.array(values["weight"]))
    if "household_id" in header:
        _link_households(records, values, log)
        log.raise_if_any()
    return records


def _link_households(records: PersonRecords, values: dict[str, list],
                     log: ProblemLog) -> None:
    """Set the records' households and links from the household columns, logging every
    link that the engine's families cannot hold (engine.micro.families)."""
    path, lines = records.path, values["line"]
    index = {person: i for i, person in enumerate(values["person_id"]) if person}
    households: dict[str, int] = {}
    records.household = np.array([households.setdefault(h, len(households))
                                  for h in values["household_id"]], dtype=np.int64)
    found = {}
    for name in LINKS:
        found[name] = np.full(len(records), -1, dtype=np.int64)
        for i, other in enumerate(values[name]):
            if not other:
                continue
            j = index.get(other)
            problem = _link_problem(records, name, i, j)
            if problem:
                log.add(path, name, problem, lines[i], other)
            else:
                found[name][i] = j
    partner = found["partner_id"]
    for i in np.flatnonzero(partner >= 0):
        if partner[partner[i]] != i:
            log.add(path, "partner_id", "the partner's partner_id is not this person", lines[i],
                    values["partner_id"][i])
    for h in np.unique(records.household):
        members = np.flatnonzero(records.household == h)
        if np.ptp(records.weight[members]) > 0:
            log.add(path, "weight", "differs within the household (a household's members "
                    "share its weight); lines " + ", ".join(str(lines[m]) for m in members),
                    lines[members[0]], str(records.weight[members[0]]))
    records.partner, records.mother, records.father = (found["partner_id"], found["mother_id"],
                                                       found["father_id"])


def _link_problem(records: PersonRecords, name: str, i: int, j: int | None) -> str | None:
    """Why record i cannot link to record j as its ``name`` (None: it can)."""
    if j is None:
        return "no record has this person_id"
    if j == i:
        return "a person cannot be linked to themselves"
    if records.household[j] != records.household[i]:
        return "refers to a person of another household"
    if name == "partner_id":
        if records.sex[j] == records.sex[i]:
            return "partners must be of the other sex (the engine's families)"
        if min(records.age[i], records.age[j]) < MIN_PARTNER_AGE:
            return f"partners must both be aged {MIN_PARTNER_AGE} or over"
        return None
    if records.sex[j] != (1 if name == "mother_id" else 0):
        return f"the {name[:-3]} must be {'female' if name == 'mother_id' else 'male'}"
    if records.age[j] <= records.age[i]:
        return f"the {name[:-3]} must be older than the child"
    return None


def _number(text: str, path, name, line, log, *, whole=False, low=0.0, low_open=False,
            high=math.inf) -> float | None:
    try:
        value = float(text)
    except ValueError:
        log.add(path, name, "must be a number", line, text)
        return None
    if not math.isfinite(value) or value < low or (low_open and value == low) or value > high:
        bound = f"> {low:g}" if low_open else f">= {low:g}"
        log.add(path, name, f"must be finite, {bound}" + (f" and <= {high:g}"
                                                          if math.isfinite(high) else ""),
                line, text)
        return None
    if whole and not value.is_integer():
        log.add(path, name, "must be a whole number", line, text)
        return None
    return value


def _record(path, row, col, line, log, seen_ids) -> dict | None:
    cell = {name: str(row[i]).strip() for name, i in col.items()}
    before = len(log)
    age = _number(cell["age"], path, "age", line, log, whole=True, high=100)
    sex = cell["sex"].lower()
    if sex not in SEXES:
        log.add(path, "sex", "must be 'male' or 'female'", line, cell["sex"])
    status = cell["status"].lower()
    if status not in STATUSES:
        log.add(path, "status", f"must be one of {list(STATUSES)}", line, cell["status"])
    service = _number(cell["credited_years"], path, "credited_years", line, log, whole=True,
                      high=100)
    reference = _number(cell["reference_earnings"], path, "reference_earnings", line, log)
    pension = _number(cell["pension"], path, "pension", line, log)
    level = _number(cell.get("earnings_level", "1") or "1", path, "earnings_level", line, log,
                    low_open=True)
    weight = _number(cell.get("weight", "1") or "1", path, "weight", line, log, low_open=True)
    if status == "pensioner" and pension is not None and pension <= 0:
        log.add(path, "pension", "a pensioner needs a pension > 0", line, cell["pension"])
    if status != "pensioner" and pension:
        log.add(path, "pension", "only pensioners have a pension", line, cell["pension"])
    if "household_id" in cell and not cell["household_id"]:
        log.add(path, "household_id", "every person needs a household", line, "")
    person = cell.get("person_id")
    if person:
        if person in seen_ids:
            log.add(path, "person_id", f"duplicate; first on line {seen_ids[person]}", line,
                    person)
        seen_ids[person] = line
    if len(log) > before:
        return None
    return {"age": int(age), "sex": SEXES.index(sex), "status": STATUSES[status],
            "credited_years": int(service), "reference_earnings": reference,
            "pension": pension, "earnings_level": level, "weight": weight, "person_id": person,
            **{name: cell.get(name, "") for name in ("household_id", *LINKS)}}


def clone_cell(records: PersonRecords, a: int, s: int, ids: np.ndarray,
               uniforms: np.ndarray) -> np.ndarray | None:
    """Indices of the records cloned for the persons ``ids`` of cell (a, s): drawn with
    probability proportional to weight (one uniform each); None if the cell has none."""
    members = np.flatnonzero((records.age == a) & (records.sex == s))
    if members.size == 0:
        return None
    cumulative = np.cumsum(records.weight[members])
    cumulative /= cumulative[-1]
    pick = np.minimum(np.searchsorted(cumulative, uniforms, side="right"), members.size - 1)
    return members[pick]
