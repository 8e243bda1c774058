"""Metamorphic relations of spfsim projections (issue #15).

A metamorphic relation says how the results must change when the model's input is
transformed in a known way, without knowing the right results themselves. This module
has the two halves of each relation used by ``test_metamorphic.py``:

- **model transformations**, written as real model files: :func:`copy_model` (a
  self-contained copy of any model folder, the default one included),
  :func:`make_sex_symmetric`, :func:`scale_money`, :func:`scale_population`,
  :func:`shift_dates`, and reform files (:func:`write_reform`); plus :func:`write_rich_model`,
  a small model that switches on most of the scheme library;
- **comparisons**, each returning the list of :class:`Violation` found (variable,
  coordinates, the two values), so that a failure says exactly what broke:
  :func:`sex_symmetry_violations`, :func:`scaling_violations`, :func:`identity_violations`,
  :func:`contribution_raise_violations`, :func:`pensionable_age_violations`,
  :func:`date_shift_violations`. :func:`describe` turns a list into a readable message.

Model files are TOML and CSV only (read with ``tomllib``, written by :func:`toml_dumps`).
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from model_factory import gompertz_mx, set_csv_column, write_csv

# --------------------------------------------------------------------------- TOML files

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def toml_value(value: object) -> str:
    """A TOML value: numbers exactly (``repr`` round-trips a float), strings, arrays,
    inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"no TOML for {value!r} in a model file")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(str(k))} = {toml_value(v)}"
                                for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {type(value).__name__}")


def toml_dumps(doc: dict) -> str:
    """A model.toml, reform or assumptions.toml document: top-level tables, arrays of
    tables (``[[schemes]]``, whose ``parameters`` become ``[schemes.parameters]``) and, in
    a reform, ``schemes`` as a table of ``[schemes.<id>.parameters]``."""
    lines: list[str] = []
    # plain keys first: after a table header a key would belong to that table
    for name, value in sorted(doc.items(), key=lambda item: isinstance(item[1], dict | list)):
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            for item in value:
                lines += ["", f"[[{name}]]"]
                lines += [f"{_key(k)} = {toml_value(v)}" for k, v in item.items()
                          if not isinstance(v, dict)]
                for key, sub in item.items():
                    if isinstance(sub, dict):
                        lines += [f"[{name}.{_key(key)}]"]
                        lines += [f"{_key(k)} = {toml_value(v)}" for k, v in sub.items()]
        elif isinstance(value, dict) and name == "schemes":  # a reform's scheme overrides
            for scheme_id, entry in value.items():
                for key, sub in entry.items():
                    lines += ["", f"[{name}.{_key(scheme_id)}.{_key(key)}]"]
                    lines += [f"{_key(k)} = {toml_value(v)}" for k, v in sub.items()]
        elif isinstance(value, dict):
            plain = {k: v for k, v in value.items()
                     if not (isinstance(v, dict) and name == "tables")}
            lines += ["", f"[{name}]"] + [f"{_key(k)} = {toml_value(v)}"
                                          for k, v in plain.items()]
            if name == "tables":
                for key, sub in value.items():
                    lines += ["", f"[{name}.{_key(key)}]"]
                    lines += [f"{_key(k)} = {toml_value(v)}" for k, v in sub.items()]
        else:
            lines.append(f"{_key(name)} = {toml_value(value)}")
    return "\n".join(lines).lstrip("\n") + "\n"


def read_toml(path: Path) -> dict:
    with Path(path).open("rb") as handle:
        return tomllib.load(handle)


def write_toml(path: Path, doc: dict) -> Path:
    text = toml_dumps(doc)
    assert tomllib.loads(text) == doc, "the TOML writer must round-trip the document"
    Path(path).write_text(text)
    return Path(path)


def model_doc(folder: Path) -> dict:
    return read_toml(Path(folder) / "model.toml")


def edit_model(folder: Path, edit: Callable[[dict], None]) -> Path:
    """Apply ``edit`` to the parsed model.toml of ``folder`` and write it back."""
    doc = model_doc(folder)
    edit(doc)
    write_toml(Path(folder) / "model.toml", doc)
    return Path(folder)


def scheme(doc: dict, scheme_id: str) -> dict:
    """The parameters table of a scheme of a parsed model.toml."""
    return next(s for s in doc["schemes"] if s["id"] == scheme_id).setdefault("parameters", {})


# --------------------------------------------------------------------------- model folders


def assumption_sets(folder: Path) -> list[Path]:
    refs = model_doc(folder)["model"]["assumptions"]
    return [(Path(folder) / ref).resolve() for ref in ([refs] if isinstance(refs, str)
                                                        else refs)]


def assumption_tables(folder: Path) -> dict[str, Path]:
    """Table name -> CSV file of every assumption table the model declares."""
    tables = {}
    for set_dir in assumption_sets(folder):
        for name, entry in read_toml(set_dir / "assumptions.toml").get("tables", {}).items():
            tables[name] = set_dir / entry["file"]
    return tables


def copy_model(source: Path, target: Path) -> Path:
    """A self-contained copy of a model folder: model.toml and every assumption set it
    uses, copied under ``target`` (``assumptions-1``, ...), so that transformations of the
    copy leave the source alone."""
    target.mkdir(parents=True)
    doc = model_doc(source)
    refs = []
    for i, set_dir in enumerate(assumption_sets(source), start=1):
        name = f"assumptions-{i}"
        shutil.copytree(set_dir, target / name)
        refs.append(name)
    doc["model"]["assumptions"] = refs
    write_toml(target / "model.toml", doc)
    return target


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with Path(path).open(newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def number(text: str | float) -> str:
    """A CSV cell holding a float exactly (``repr`` round-trips)."""
    return repr(float(text))


# --------------------------------------------------------------------------- a rich model

RICH_SCHEMES = [
    {"id": "pension", "type": "db_old_age_pension", "name": "Contributory pension",
     "parameters": {
         "contribution_rate": {"{base}": 0.10, "{base+3}": 0.12},
         "worker_share": 0.4,
         "state_contribution_rate": 0.01,
         "earnings_floor": {"value": 2000.0, "indexation": "wages"},
         "earnings_ceiling": {"value": 13000.0, "indexation": "wages"},
         "contribution_persistence": 0.8,
         "accrual_rate": 0.02,
         "minimum_service": 10,
         "retirement_age": {"male": {"{base}": 62, "{base+4}": 63},
                            "female": {"{base}": 60, "{base+4}": 61}},
         "minimum_pension": {"value": 1500.0, "indexation": "prices"},
         "maximum_pension": {"value": 12000.0, "indexation": "wages"},
         "pension_indexation": {"prices": 0.5, "wages": 0.5},
         "admin_cost_rate": 0.05,
         "state_subsidy_per_beneficiary": {"value": 40.0, "indexation": "prices"},
         "initial_reserve": 5.0e7,
         "start_year": "{start}",
         "refund_share": 1.0,
         "early_retirement_age": 57,
         "early_retirement_rate": 0.1,
         "deferral_rate": 0.1,
         "disability_minimum_service": 3,
         "disability_recovery_rate": 0.03,
         "disability_mortality_factor": 2.0,
         "survivor_pension_share": 0.5,
         "orphan_pension_share": 0.2,
         "orphan_age_limit": 12,
         "married_share": {"male": 0.8, "female": 0.6},
         "spouse_age_difference": {"male": 3, "female": -2},
         "survivor_end_rate": 0.02,
         "survivor_minimum_service": 3,
         "care_credit_child_age": 3,
     }},
    {"id": "maternity_ins", "type": "maternity_insurance", "name": "Maternity insurance",
     "parameters": {"contribution_rate": 0.004, "take_up": 0.9, "initial_reserve": 1.0e5,
                    "admin_cost_rate": 0.05}},
    {"id": "ui", "type": "unemployment_insurance", "name": "Unemployment insurance",
     "parameters": {"contribution_rate": 0.01, "minimum_service": 2, "take_up": 0.8,
                    "maximum_benefit": {"value": 4000.0, "indexation": "wages"},
                    "state_guarantee": "deficit", "admin_cost_rate": 0.08}},
    {"id": "child", "type": "child_benefit", "name": "Child benefit",
     "parameters": {"benefit": {"values": {"{base}": 600.0, "{base+2}": 700.0},
                                "indexation": "prices"},
                    "target_share": 0.5, "exclusion_error": 0.2, "inclusion_error": 0.1,
                    "take_up": 0.9, "admin_cost_rate": 0.1}},
    {"id": "maternity_nc", "type": "maternity_benefit", "name": "Maternity benefit",
     "parameters": {"benefit": 1.0, "benefit_basis": "poverty_line", "months": 4,
                    "take_up": 0.7}},
    {"id": "disability_nc", "type": "disability_benefit", "name": "Disability benefit",
     "parameters": {"benefit": 0.15, "benefit_basis": "gdp_per_capita", "take_up": 0.6}},
    {"id": "assistance", "type": "social_assistance", "name": "Public works",
     "parameters": {"benefit": 0.5, "benefit_basis": "poverty_line", "months": 6,
                    "take_up": 0.3}},
    {"id": "social_pension", "type": "social_pension", "name": "Social pension (top-up)",
     "parameters": {"min_age": 65, "means_test": "top_up",
                    "benefit": {"value": 2400.0, "indexation": "prices"}, "take_up": 0.85,
                    "admin_cost_rate": 0.08}},
    {"id": "health", "type": "health_care", "name": "Health care",
     "parameters": {"benefit": 0.02, "benefit_basis": "gdp_per_capita", "take_up": 0.6,
                    "relative_cost_under5": {"male": 1.5, "female": 1.4},
                    "relative_cost_65plus": 3.0, "excess_cost_growth": 0.01}},
]


def _dated(value: object, base: int, start: int) -> object:
    """Resolve the ``{base}``, ``{base+n}`` and ``{start}`` placeholders of RICH_SCHEMES."""
    def year(text: str) -> int | str:
        found = re.fullmatch(r"\{base(?:\+(\d+))?\}", text)
        if found:
            return base + int(found.group(1) or 0)
        return start if text == "{start}" else text

    if isinstance(value, dict):
        return {str(year(k)): _dated(v, base, start) for k, v in value.items()}
    if isinstance(value, str):
        return year(value)
    return value


def write_rich_model(folder: Path, base: int = 2025, end: int = 2034,
                     start: int = 2000) -> Path:
    """A small model with most of the scheme library switched on (old-age, disability and
    survivors' branches, refunds, early and late retirement, care credits, a ceiling and
    a floor, state transfers; maternity and unemployment insurance; six floor benefits on
    every basis), tables by year where that matters (economy, labour, fertility,
    migration), mortality improvement, and a population table in thousands. Everything
    differs by sex, so :func:`make_sex_symmetric` has work to do."""
    folder.mkdir(parents=True, exist_ok=True)
    doc = {
        "model": {"name": "rich", "title": "Rich synthetic model", "base_year": base,
                  "end_year": end, "currency": "LCU", "assumptions": "assumptions"},
        "economy": {"gdp": 1.0e9, "average_earnings": 10000.0, "poverty_line": 2500.0,
                    "government_revenue": 0.18, "fiscal_envelope": 0.05,
                    "labour_persistence": 0.7},
        "schemes": [_dated(s, base, start) for s in RICH_SCHEMES],
    }
    write_toml(folder / "model.toml", doc)
    adir = folder / "assumptions"
    adir.mkdir(exist_ok=True)
    header = {"assumption_set": {"name": "rich"}, "tables": {
        "population": {"file": "population.csv", "units": {"population": "thousand persons"}},
        "mortality": {"file": "mortality.csv"},
        "mortality_improvement": {"file": "improvement.csv"},
        "fertility": {"file": "fertility.csv"},
        "sex_ratio_at_birth": {"file": "srb.csv"},
        "migration": {"file": "migration.csv"},
        "economy": {"file": "economy.csv", "units": {"inflation": "percent per year"}},
        "labour": {"file": "labour.csv"},
        "disability": {"file": "disability.csv"},
    }}
    write_toml(adir / "assumptions.toml", header)
    sexes = ("male", "female")
    ages = np.arange(101)
    years = range(base, end + 1)
    write_csv(adir / "population.csv", ["age", "sex", "population"],
              [[a, s, number(10.0 * math.exp(-0.02 * a) * (1.0 if s == "male" else 1.03))]
               for s in sexes for a in ages])
    write_csv(adir / "mortality.csv", ["age", "sex", "mx"],
              [[a, s, f"{gompertz_mx(np.array(a), s):.8f}"] for s in sexes for a in ages])
    write_csv(adir / "improvement.csv", ["age", "sex", "improvement"],
              [[a, s, 0.01 if s == "male" else 0.012] for s in sexes for a in ages])
    write_csv(adir / "fertility.csv", ["year", "age", "asfr"],
              [[y, a, number((0.09 if 20 <= a <= 34 else 0.03) * (1.0 - 0.01 * (y - base)))]
               for y in years for a in range(15, 50)])
    write_csv(adir / "srb.csv", ["srb"], [[1.05]])
    write_csv(adir / "migration.csv", ["year", "age", "sex", "net_migration"],
              [[y, a, s, number((25.0 if s == "male" else 15.0) + (y - base)
                                if 20 <= a <= 35 else (-4.0 if 50 <= a <= 60 else 0.0))]
               for y in years for a in ages for s in sexes])
    write_csv(adir / "economy.csv", ["year", "inflation", "real_wage_growth", "interest_rate"],
              [[y, number(3.0 + 0.2 * (y - base)), number(0.015 - 0.0005 * (y - base)),
                number(0.05 + 0.001 * (y - base))] for y in years])
    write_csv(adir / "labour.csv",
              ["year", "age", "sex", "participation", "unemployment", "coverage",
               "relative_earnings", "self_employed_share", "disability_prevalence"],
              [[y, a, s, 0.8 if s == "male" else 0.6, number(0.08 - 0.001 * (a - 15)),
                number(min(0.3 + 0.01 * (y - base) + (0.05 if s == "male" else 0.0), 1.0)),
                number(0.6 + 0.02 * (a - 15) * (1.0 if s == "male" else 0.9)),
                0.2, 0.02 if a >= 50 else 0.01]
               for y in years for a in range(15, 70) for s in sexes])
    write_csv(adir / "disability.csv", ["age", "sex", "severe_disability",
                                        "invalidity_incidence"],
              [[a, s, number(0.01 + 0.0005 * a), number(0.001 + 0.0001 * max(a - 30, 0)
                                                       * (1.0 if s == "male" else 0.8))]
               for s in sexes for a in ages])
    return folder


# --------------------------------------------------------------------------- transformations

#: Scheme parameters in currency (amounts; ``benefit`` only with benefit_basis "currency"):
#: what scaling every money input by k multiplies. test_metamorphic checks this list
#: against the units the scheme types declare, so a new money parameter cannot be missed.
MONEY_PARAMETERS = ("minimum_pension", "maximum_pension", "earnings_floor",
                    "earnings_ceiling", "initial_reserve", "state_subsidy_per_beneficiary",
                    "maximum_benefit", "benefit", "bend_point_1", "bend_point_2",
                    "benefit_tax_threshold")
#: ``[economy]`` entries in currency.
MONEY_ECONOMY = ("gdp", "average_earnings", "poverty_line")
#: Extensive inputs (they grow with the number of people): the base population (and an
#: external projection of it), the net migrants (persons), GDP and initial reserves.
EXTENSIVE_TABLES = {"population": "population", "migration": "net_migration",
                    "population_projection": "population"}


def scale_parameter(value: object, k: float) -> object:
    """A scheme parameter in any of its forms (number, by year, by sex, value/values with
    indexation) with every number multiplied by ``k``."""
    if isinstance(value, dict):
        return {key: (v if key == "indexation" else scale_parameter(v, k))
                for key, v in value.items()}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) * k
    return value


def scale_money(folder: Path, k: float) -> Path:
    """Multiply every money input of a model by ``k``: GDP, average earnings, the poverty
    line, and every scheme amount (MONEY_PARAMETERS). Rates, shares, ages, people and
    levels stated as fractions of the poverty line or GDP per capita stay."""
    def edit(doc: dict) -> None:
        for key in MONEY_ECONOMY:
            if key in doc["economy"]:
                doc["economy"][key] = float(doc["economy"][key]) * k
        for entry in doc["schemes"]:
            params = entry.get("parameters", {})
            for name in MONEY_PARAMETERS:
                if name not in params:
                    continue
                if name == "benefit" and params.get("benefit_basis", "currency") != "currency":
                    continue
                params[name] = scale_parameter(params[name], k)
    return edit_model(folder, edit)


def scale_population(folder: Path, k: float) -> Path:
    """Multiply the extensive inputs by ``k``: the base population, the net migrants,
    GDP and the initial reserves. Per-person amounts (earnings, the poverty line, benefit
    levels) and every rate stay."""
    tables = assumption_tables(folder)
    for table, column in EXTENSIVE_TABLES.items():
        if table in tables:
            set_csv_column(tables[table], column, lambda row, c=column: number(
                float(row[c]) * k))

    def edit(doc: dict) -> None:
        doc["economy"]["gdp"] = float(doc["economy"]["gdp"]) * k
        for entry in doc["schemes"]:
            params = entry.get("parameters", {})
            if "initial_reserve" in params:
                params["initial_reserve"] = float(params["initial_reserve"]) * k
    return edit_model(folder, edit)


def _shift_years(value: object, years: int) -> object:
    """Shift every effective year (the keys of values by year) in a parameter's form."""
    if isinstance(value, dict):
        if value and all(str(key).lstrip("-").isdigit() for key in value):
            return {str(int(key) + years): v for key, v in value.items()}
        return {key: _shift_years(v, years) for key, v in value.items()}
    return value


def shift_dates(folder: Path, years: int = 1) -> Path:
    """Move every date of a model by ``years``: base and end year, every effective year
    of every scheme parameter (birth years too, with retirement_age_basis "birth_year"),
    start_year, the ``year`` column of every assumption table and an assumption set's
    ``base_year``."""
    for path in assumption_tables(folder).values():
        header, _ = read_rows(path)
        if "year" in header:
            set_csv_column(path, "year", lambda row: str(int(float(row["year"])) + years))
    for set_dir in assumption_sets(folder):
        doc = read_toml(set_dir / "assumptions.toml")
        meta = doc.get("assumption_set", {})
        if isinstance(meta.get("base_year"), int):
            meta["base_year"] += years
            write_toml(set_dir / "assumptions.toml", doc)

    def edit(doc: dict) -> None:
        doc["model"]["base_year"] += years
        doc["model"]["end_year"] += years
        for entry in doc["schemes"]:
            params = entry.get("parameters", {})
            for name, value in params.items():
                params[name] = _shift_years(value, years)
            if "start_year" in params:
                params["start_year"] += years
    return edit_model(folder, edit)


#: Scheme types that exist for one sex only (mothers): dropped by make_sex_symmetric.
SEX_SPECIFIC_TYPES = ("maternity_insurance", "maternity_benefit")


def _male_form(value: object) -> object:
    """A by-sex parameter's male form for both sexes; other forms unchanged."""
    if isinstance(value, dict) and set(value) == {"male", "female"}:
        return value["male"]
    return value


def make_sex_symmetric(folder: Path) -> Path:
    """The same model with nothing that depends on sex: every assumption table's female
    rows take the male values, the sex ratio at birth is 1, every by-sex parameter takes
    its male value, and what is sex-specific by design goes: maternity schemes, care
    credits (women only) and the spouse's age difference and its spread (with them the
    orphans of a man are counted by his wife's fertility at other ages than those of a
    woman by hers)."""
    tables = assumption_tables(folder)
    for name, path in tables.items():
        header, rows = read_rows(path)
        if name == "sex_ratio_at_birth":
            set_csv_column(path, "srb", lambda row: "1.0")
            continue
        if "sex" not in header:
            continue
        dims = [c for c in ("year", "age") if c in header]
        male = {tuple(row[d] for d in dims): row for row in rows if row["sex"] == "male"}
        values = [c for c in header if c not in (*dims, "sex")]
        symmetric = [dict(row, **{c: male[tuple(row[d] for d in dims)][c] for c in values})
                     if row["sex"] == "female" else row for row in rows]
        write_csv(path, header, [[row[c] for c in header] for row in symmetric])

    def edit(doc: dict) -> None:
        doc["schemes"] = [s for s in doc["schemes"] if s["type"] not in SEX_SPECIFIC_TYPES]
        for entry in doc["schemes"]:
            params = entry.get("parameters", {})
            for name, value in params.items():
                params[name] = _male_form(value)
            if entry["type"] == "db_old_age_pension":
                params["care_credit_child_age"] = 0
                params["spouse_age_difference"] = 0
                params["spouse_age_spread"] = 0.0
    return edit_model(folder, edit)


def write_reform(path: Path, overrides: dict[str, dict[str, object]],
                 name: str = "metamorphic") -> Path:
    """A reform file replacing ``overrides[scheme id][parameter]``."""
    doc = {"reform": {"name": name, "title": f"metamorphic test: {name}"},
           "schemes": {sid: {"parameters": params} for sid, params in overrides.items()}}
    return write_toml(path, doc)


# --------------------------------------------------------------------------- comparisons


@dataclass(frozen=True)
class Violation:
    """One cell where a relation fails: the variable, its coordinates, the value found and
    the value the relation expects (``expected``), and what the relation says."""

    variable: str
    where: dict[str, object]
    found: object
    expected: object
    relation: str

    def __str__(self) -> str:
        where = ", ".join(f"{k}={v}" for k, v in self.where.items())
        return (f"{self.variable}[{where}]: {self.found!r}, expected {self.expected!r} "
                f"({self.relation})")


def describe(violations: list[Violation], per_variable: int = 3) -> str:
    """A failure message: how many cells of each variable break the relation, and the
    first few of each."""
    if not violations:
        return "no violation"
    by_variable: dict[str, list[Violation]] = {}
    for v in violations:
        by_variable.setdefault(v.variable, []).append(v)
    lines = [f"{len(violations)} violations in {len(by_variable)} variables:"]
    for name, found in by_variable.items():
        lines.append(f"  {name}: {len(found)} cells, e.g.")
        lines += [f"    {v}" for v in found[:per_variable]]
    return "\n".join(lines)


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return value


def cell_violations(name: str, found: xr.DataArray, expected: xr.DataArray, relation: str,
                    rtol: float = 0.0, atol: float | xr.DataArray = 0.0) -> list[Violation]:
    """Cells where ``found`` differs from ``expected`` (same dims and coordinates): by more
    than ``atol + rtol x |expected|`` for numbers (``atol`` may be an array broadcast over
    the cells; 0, 0: bitwise; NaN matches only NaN), unequal otherwise."""
    found, expected = xr.align(found, expected, join="exact")
    expected = expected.transpose(*found.dims)
    a, b = np.asarray(found.values), np.asarray(expected.values)
    if isinstance(atol, xr.DataArray):
        atol = np.asarray(atol.broadcast_like(found).transpose(*found.dims).values, float)
    if a.dtype.kind in "fiub" and b.dtype.kind in "fiub":
        a64, b64 = a.astype(float), b.astype(float)
        with np.errstate(invalid="ignore"):
            close = (a64 == b64) | (np.abs(a64 - b64) <= atol + rtol * np.abs(b64))
        bad = ~(close | (np.isnan(a64) & np.isnan(b64)))
    else:
        bad = a != b
    return _violations(name, found, bad, a, b, relation)


def _violations(name, found: xr.DataArray, bad: np.ndarray, a: np.ndarray, b: np.ndarray,
                relation: str) -> list[Violation]:
    out = []
    for index in zip(*np.nonzero(bad), strict=True):
        where = {d: _plain(found[d].values[i]) for d, i in zip(found.dims, index,
                                                                strict=True)}
        out.append(Violation(name, where, _plain(a[index]), _plain(b[index]), relation))
    return out


def excess_violations(name: str, found: xr.DataArray, limit: xr.DataArray,
                      relation: str) -> list[Violation]:
    """Cells where ``found`` is above ``limit`` (or either is NaN)."""
    found, limit = xr.align(found, limit, join="exact")
    a = np.asarray(found.values, float)
    b = np.asarray(limit.transpose(*found.dims).values, float)
    with np.errstate(invalid="ignore"):
        bad = ~(a <= b)
    return _violations(name, found, bad, a, b, relation)


# Dataset attrs that say when and from what a run was made, not what it found.
RUN_ATTRS = ("created", "input_hash", "model_path", "title", "reform", "reform_title",
             "reform_file", "reform_hash", "history")


def identity_violations(found: xr.Dataset, expected: xr.Dataset,
                        relation: str = "the same projection, bitwise") -> list[Violation]:
    """Every difference between two projections: variables present in one only, dims,
    coordinates, values (bitwise: NaN matches NaN) and the attrs that describe results
    (not RUN_ATTRS)."""
    out = []
    for name in sorted(set(found.data_vars) ^ set(expected.data_vars)):
        out.append(Violation(name, {}, name in found, name in expected, "present in both"))
    for name in sorted(set(found.coords) | set(expected.coords)):
        a, b = found.coords.get(name), expected.coords.get(name)
        if a is None or b is None or not np.array_equal(a.values, b.values):
            out.append(Violation(f"coordinate {name}", {}, None if a is None else a.values,
                                 None if b is None else b.values, relation))
    if out:
        return out
    for name in sorted(found.data_vars):
        out += cell_violations(name, found[name], expected[name], relation)
    for key in sorted((set(found.attrs) | set(expected.attrs)) - set(RUN_ATTRS)):
        if str(found.attrs.get(key)) != str(expected.attrs.get(key)):
            out.append(Violation(f"attrs[{key}]", {}, found.attrs.get(key),
                                 expected.attrs.get(key), relation))
    return out


#: Where men and women may differ in a model without sex differences: the maternity
#: guarantee's target group is the mothers of newborns, women by definition.
SEX_SPECIFIC_CELLS = {"guarantee": ["maternity"]}


def sex_symmetry_violations(ds: xr.Dataset, rtol: float = 0.0,
                            atol: float = 0.0) -> list[Violation]:
    """Cells where the results for men and for women differ (every variable with a
    ``sex`` dimension, except SEX_SPECIFIC_CELLS), and gender gaps that are not zero.
    ``rtol``/``atol`` 0: bitwise."""
    relation = "men and women alike"
    out = []
    names = sorted(ds.data_vars)
    for name in names:
        da = ds[name]
        if "sex" in da.dims:
            for dim, labels in SEX_SPECIFIC_CELLS.items():
                if dim in da.dims:
                    da = da.drop_sel({dim: labels})
            out += cell_violations(name, da.sel(sex="female", drop=True),
                                   da.sel(sex="male", drop=True), relation, rtol, atol)
    if "gender_gap" in names:
        gap = ds["gender_gap"]
        out += cell_violations("gender_gap", gap, xr.where(np.isnan(gap), gap, 0.0),
                               "no gender gap", 0.0, atol)
    return out


# How a variable changes under the two scalings, by kind.
COUNT, MONEY, PER_CAPITA, NEUTRAL = "count", "money", "money per person", "neutral"
#: Money per person whose units do not say so ("LCU (nominal) per year").
PER_CAPITA_VARIABLES = ("average_earnings", "average_new_benefit")
_NEUTRAL_UNITS = ("1", "fraction", "fraction per year", "1 per year", "years",
                  "years of age", "calendar year")


def variable_kind(ds: xr.Dataset, name: str) -> str:
    """COUNT (persons, households), MONEY (currency totals), PER_CAPITA (currency per person,
    per beneficiary, per contributor, per equivalent adult) or NEUTRAL (rates, ratios,
    indices, years, ages, amounts in base-year average earnings), from the variable's units.
    An unknown unit raises, so that a new kind of variable is classified before it is
    tested."""
    units = str(ds[name].attrs.get("units", ""))
    currency = str(ds.attrs.get("currency", "LCU"))
    if units in ("persons", "households"):
        return COUNT
    if units.startswith(currency):
        per_person = any(f" per {who}" in units for who in (
            "person", "beneficiary", "contributor", "equivalent adult"))
        return PER_CAPITA if per_person or name in PER_CAPITA_VARIABLES else MONEY
    if units in _NEUTRAL_UNITS or units.startswith("base-year average earnings"):
        return NEUTRAL
    raise ValueError(f"{name}: unknown units {units!r}; classify it in metamorphic.py")


def scaling_violations(base: xr.Dataset, scaled: xr.Dataset, factors: dict[str, float],
                       relation: str, rtol: float = 0.0) -> list[Violation]:
    """Cells where ``scaled`` is not ``base`` times the factor of the variable's kind
    (``factors``: kind -> factor; rtol 0: bitwise, which a power-of-two factor allows)."""
    out = []
    for name in sorted(base.data_vars):
        factor = factors[variable_kind(base, name)]
        expected = base[name] * factor if factor != 1.0 else base[name]
        out += cell_violations(name, scaled[name], expected,
                               f"{relation}: x {factor:g}", rtol)
    return out


def money_scaling_factors(k: float) -> dict[str, float]:
    """Every money input x k: money and money per person x k, the rest unchanged."""
    return {COUNT: 1.0, MONEY: k, PER_CAPITA: k, NEUTRAL: 1.0}


def population_scaling_factors(k: float) -> dict[str, float]:
    """The population (and what grows with it) x k: persons and money totals x k, money
    per person, rates and ratios unchanged."""
    return {COUNT: k, MONEY: k, PER_CAPITA: 1.0, NEUTRAL: 1.0}


def date_shift_violations(base: xr.Dataset, shifted: xr.Dataset,
                          years: int = 1) -> list[Violation]:
    """Cells where the projection of a model whose dates all moved by ``years`` is not
    the base projection moved by ``years``: the ``year`` and ``cohort`` (birth year)
    coordinates, calendar-year values (``depletion_year``), the present values' dates and
    the base and end years, all by ``years``; everything else identical, bitwise."""
    moved = base.copy()
    for coord in ("year", "cohort", "birth_cohort"):
        if coord in moved.coords:
            moved = moved.assign_coords({coord: moved[coord] + years})
    for name in moved.data_vars:
        if moved[name].attrs.get("units") == "calendar year":
            moved[name] = (moved[name] + years).assign_attrs(moved[name].attrs)
    for key in ("base_year", "end_year"):
        if key in moved.attrs:
            moved.attrs[key] = int(moved.attrs[key]) + years
    out = []
    relation = f"every date moved by {years} year(s)"
    for name in sorted(moved.data_vars):
        # a present value's date is in its units: "... at 1 January 2025"
        dated = re.sub(r"\b(\d{4})\b", lambda m: str(int(m.group(1)) + years),
                       str(moved[name].attrs.get("units", "")))
        if dated != str(shifted[name].attrs.get("units", "")):
            out.append(Violation(f"{name}.units", {}, shifted[name].attrs.get("units"),
                                 dated, relation))
        out += cell_violations(name, shifted[name], moved[name], relation)
    for key in ("base_year", "end_year"):
        if str(shifted.attrs.get(key)) != str(moved.attrs.get(key)):
            out.append(Violation(f"attrs[{key}]", {}, shifted.attrs.get(key),
                                 moved.attrs.get(key), relation))
    return out


#: Branches of a contributory pension paid periodically (refunds are lump sums).
PERIODIC_BRANCHES = ("old_age", "disability", "survivors")


def contribution_raise_violations(base: xr.Dataset, raised: xr.Dataset, scheme_id: str,
                                  rate_ratio: xr.DataArray, refund_rtol: float = 1e-12,
                                  refund_atol: float | xr.DataArray = 0.0
                                  ) -> list[Violation]:
    """What a higher contribution rate of ``scheme_id`` (``rate_ratio`` (year): new rate /
    old rate, >= 1) may and may not change:

    - its contribution income rises wherever the rate does and insured earnings are
      positive, and is unchanged elsewhere;
    - insured earnings, contributors and every scheme's beneficiaries (by branch too) are
      unchanged, bitwise, and so is every scheme's benefit expenditure except the pension's
      refunds of contributions, which are a share of the contributions paid (each year's
      rate x that year's insured earnings, revalued) and so grow with the rate: up to the
      first year the rate is raised, they cover only contributions paid before it and are
      the base's (x the base year's ratio, at which the contributions before the base
      year are rebuilt); later they lie between the base's x the least and x the largest
      ``rate_ratio`` so far, within ``refund_rtol`` (rounding) and ``refund_atol``
      (currency: the micro engine's fixed-point rounding of each refund);
    - other schemes' contribution income is unchanged.
    """
    out = []
    relation = f"contribution rate of {scheme_id} raised"
    insured = base["insured_earnings"].sel(scheme=scheme_id)
    income = base["contribution_income"].sel(scheme=scheme_id)
    new_income = raised["contribution_income"].sel(scheme=scheme_id)
    rises = ((rate_ratio > 1.0) & (insured > 0)).transpose(*income.dims).values
    a, b = new_income.transpose(*income.dims).values, income.values
    with np.errstate(invalid="ignore"):
        bad = np.where(rises, ~(a > b), ~(a == b))
    out += _violations(f"contribution_income[{scheme_id}]", income, bad, a, b,
                       f"{relation}: higher where the rate rises and earnings are insured, "
                       "else the same")
    others = [s for s in base["scheme"].values if s != scheme_id]
    out += cell_violations("contribution_income", raised["contribution_income"].sel(
        scheme=others), base["contribution_income"].sel(scheme=others), relation)
    for name in ("insured_earnings", "contributors", "beneficiaries",
                 "beneficiaries_by_branch", "new_beneficiaries"):
        out += cell_violations(name, raised[name], base[name], relation)
    by_branch = "benefit_expenditure_by_branch"
    out += cell_violations(by_branch, raised[by_branch].sel(branch=list(PERIODIC_BRANCHES)),
                           base[by_branch].sel(branch=list(PERIODIC_BRANCHES)), relation)
    out += cell_violations("benefit_expenditure", raised["benefit_expenditure"].sel(
        scheme=others), base["benefit_expenditure"].sel(scheme=others), relation)
    refunds, new_refunds = (ds[by_branch].sel(branch="refunds", scheme=scheme_id, drop=True)
                            for ds in (base, raised))
    name = f"{by_branch}[refunds, {scheme_id}]"
    # contributions before the base year are rebuilt at the base year's rate: raising it
    # raises them all
    past = float(rate_ratio.isel(year=0))
    changed = rate_ratio["year"].where(rate_ratio != past)
    unchanged = rate_ratio["year"] <= (changed.min() if changed.notnull().any()
                                       else rate_ratio["year"].max())
    out += cell_violations(name, new_refunds.where(unchanged),
                           (past * refunds).where(unchanged),
                           f"{relation}: refunds of contributions paid before the rise",
                           rtol=refund_rtol, atol=refund_atol)
    least = rate_ratio.copy(data=np.minimum.accumulate(rate_ratio.values))
    most = rate_ratio.copy(data=np.maximum.accumulate(rate_ratio.values))
    slack = refund_atol + refund_rtol * refunds
    later = ~unchanged  # elsewhere -inf <= inf: nothing to check
    out += excess_violations(name, (refunds * least - slack).where(later, -np.inf),
                             new_refunds.where(later, np.inf),
                             f"{relation}: refunds at least the base's x the least ratio")
    out += excess_violations(name, new_refunds.where(later, -np.inf),
                             (refunds * most + slack).where(later, np.inf),
                             f"{relation}: refunds at most the base's x the largest ratio")
    return out


def pensionable_age_violations(base: xr.Dataset, raised: xr.Dataset,
                               scheme_id: str) -> list[Violation]:
    """Years and sexes in which the pension with a higher pensionable age has more
    old-age pensioners than the base (``beneficiaries_by_branch``, branch "old_age")."""
    def pensioners(ds: xr.Dataset) -> xr.DataArray:
        return ds["beneficiaries_by_branch"].sel(scheme=scheme_id, branch="old_age",
                                                 drop=True)

    return excess_violations(f"old-age pensioners of {scheme_id}", pensioners(raised),
                             pensioners(base),
                             "a higher pensionable age never adds old-age pensioners")


def raised_schedule(value: object, increase: float, from_year: int,
                    base_year: int) -> object:
    """A parameter given as a number, values by effective year or by sex (no
    indexation: ages, rates) raised by ``increase`` from ``from_year`` on: every effective
    year from then on keeps its step, raised, and ``from_year`` itself becomes one."""
    if isinstance(value, dict) and set(value) == {"male", "female"}:
        return {s: raised_schedule(value[s], increase, from_year, base_year)
                for s in ("male", "female")}
    steps = ({int(y): v for y, v in value.items()} if isinstance(value, dict)
             else {base_year: value})
    before = [y for y in steps if y <= from_year]
    current = steps[max(before)] if before else steps[min(steps)]
    raised = {y: v + increase if y >= from_year else v for y, v in steps.items()}
    raised.setdefault(from_year, current + increase)
    return {str(y): raised[y] for y in sorted(raised)}


def _restated_indexation(value: object) -> object:
    """The same indexation written another way: a series name as a one-series mix, a mix
    with a series at weight 0 added or its series in the other order."""
    if isinstance(value, str):
        return value if value == "none" else {value: 1.0}
    if isinstance(value, dict) and len(value) == 1:
        (series, weight), = value.items()
        other = "wages" if series == "prices" else "prices"
        return {series: weight, other: 0.0}
    return dict(reversed(list(value.items()))) if isinstance(value, dict) else value


def restated(value: object, form: int, base_year: int, dated: bool = True,
             by_sex: bool = False) -> object:
    """``value``, a scheme parameter as parsed from TOML, written in an equivalent form
    (docs/model-format.md, "Parameters that change over time"); ``form`` picks one (0: as
    it is). A value holds from its effective year to the next; an effective year before
    the base year counts from the base year, also for an indexed amount; a repeated value
    adds a step that changes nothing unless the amount is indexed (then the index would
    restart there, so no step is added to an indexed amount); a by-sex parameter whose
    sexes agree may be written once, and one written once may be written for each sex
    (``by_sex``)."""
    form %= 5
    if form == 0 or not dated:
        return value
    if by_sex and form >= 3 and not (isinstance(value, dict)
                                     and set(value) == {"male", "female"}):
        return {sex: restated(value, form - 2, base_year) for sex in ("male", "female")}
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return [value, {"value": value}, {str(base_year): value},
                {str(base_year - 7): value}, {"values": {str(base_year - 3): value}}][form]
    if set(value) == {"male", "female"}:
        male, female = (restated(value[s], form, base_year) for s in ("male", "female"))
        return male if form % 2 and value["male"] == value["female"] else \
            {"male": male, "female": female}
    if "indexation" in value or "value" in value or "values" in value:
        steps = value.get("values", value.get("value"))
        if not isinstance(steps, dict):
            steps = {str(base_year): steps}
        indexation = value.get("indexation")
        if form in (1, 3):
            steps = _earlier(steps, base_year, form)
        out = {"values": dict(steps)}
        if indexation is not None:
            out["indexation"] = _restated_indexation(indexation) if form >= 2 else indexation
        return out
    steps = {int(y): v for y, v in value.items()}  # values by year, not indexed
    if form in (1, 3):
        return _earlier(value, base_year, form)
    if form == 2:  # a step that repeats the value in force
        first = min(steps)
        extra = next((y for y in range(first + 1, first + 40) if y not in steps), None)
        previous = max(y for y in steps if y < extra)
        steps[extra] = steps[previous]
        return {str(y): steps[y] for y in sorted(steps)}
    return {"values": dict(value)}


def _earlier(steps: dict, base_year: int, form: int) -> dict:
    """The first effective year (at or before the base year) moved earlier."""
    years = sorted(steps, key=int)
    earlier = min(int(years[0]), base_year) - (2 if form == 1 else 11)
    return {str(earlier) if y == years[0] else y: steps[y] for y in years}


def noop_overrides(doc: dict, scheme_types: dict, forms: Callable[[str], int],
                   with_defaults: bool = True) -> dict[str, dict[str, object]]:
    """A reform that changes nothing: every parameter of every scheme of ``doc`` restated,
    in the form ``forms(scheme.parameter)`` picks (:func:`restated`), and, with
    ``with_defaults``, every parameter the model leaves at its default given that default
    explicitly."""
    base_year = int(doc["model"]["base_year"])
    overrides = {}
    for entry in doc["schemes"]:
        specs = scheme_types[entry["type"]].PARAMETERS
        given = dict(entry.get("parameters", {}))
        if with_defaults:
            for name, spec in specs.items():
                if name not in given and spec.default is not None:
                    given[name] = spec.default
        overrides[entry["id"]] = {
            name: (_restated_indexation(value) if specs[name].kind == "indexation"
                   and forms(f"{entry['id']}.{name}") % 2 else
                   restated(value, forms(f"{entry['id']}.{name}"), base_year,
                            specs[name].dated and specs[name].kind == "number",
                            specs[name].by_sex))
            for name, value in given.items()}
    return overrides
