"""Loading a model folder: ``model.toml`` plus the assumption set it points to.

Everything is validated before anything is computed; all problems are collected and raised
together as one :class:`~spfsim.errors.AssumptionError`. Nothing here executes code from
the input files: TOML and CSV are parsed as data.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import AssumptionError, ProblemLog
from ..input_files import check_inside, read_input_text, read_input_toml
from .dated import (
    DatedValue,
    Indexation,
    ParamSpec,
    parse_choice,
    parse_indexation,
    parse_parameter,
)
from .disclosure import DEFAULT_MINIMUM_RECORDS, read_disclosure
from .poverty import PovertySpec, read_poverty
from .schema import ASSUMPTION_TABLES
from .stochastic import StochasticSpec, read_stochastic
from .tables import Table, read_table

MODEL_FILE = "model.toml"
ASSUMPTIONS_FILE = "assumptions.toml"
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
FIRST_YEAR, LAST_YEAR = 1900, 2300
ECONOMY_KEYS = ("gdp", "average_earnings", "poverty_line", "government_revenue",
                "fiscal_envelope", "labour_persistence", "earnings_permanent_sd",
                "earnings_transitory_sd")
#: the largest log-sd of individual earnings an [economy] entry may give (3: a person at the
#: 99th percentile earns e^(3 x 2.33) = 1,100 times the median)
MAX_EARNINGS_SD = 3.0
#: the tables of years before the base year (the past the engines rebuild the base year
#: from), whose years must all be before it
PAST_TABLES = ("contribution_history", "economic_history")
#: the largest amount of money an [economy] entry may hold (GDP in any currency is far
#: below it; far above it, compounding over a century overflows)
MAX_AMOUNT = 1e24
#: a central death rate above 1 (more than 63 % of the group dying within the year) is
#: refused below this age: WPP 2024's highest rate under 85, in any country and period, is
#: 0.46
MAX_AGE_MX_ABOVE_ONE = 85
#: how strongly non-contributors keep last year's labour state when the model is silent
DEFAULT_LABOUR_PERSISTENCE = 0.8


@dataclass
class SchemeInput:
    """A scheme as the model file defines it, its parameters parsed but not compiled."""

    id: str
    type: str
    name: str
    numbers: dict[str, dict[str, DatedValue]] = field(default_factory=dict)
    indexations: dict[str, Indexation] = field(default_factory=dict)
    choices: dict[str, str] = field(default_factory=dict)
    raw: dict = field(default_factory=dict)
    # parameter -> its source in law as the model file gives it (``reference`` beside the
    # value: act, article, date), shown with the value in the report
    references: dict[str, str] = field(default_factory=dict)


#: The entries of ``[model]``.
MODEL_KEYS = ("name", "title", "base_year", "end_year", "valuation_start", "currency",
              "assumptions")


@dataclass
class ModelInput:
    """Everything read from a model folder, validated."""

    path: Path
    name: str
    title: str
    base_year: int
    end_year: int
    currency: str
    gdp: float
    average_earnings: float
    poverty_line: float | None  # currency per person per year in the base year
    revenue_share: float | None  # government revenue as a share of GDP
    tables: dict[str, Table]
    schemes: list[SchemeInput]
    assumption_sets: list[dict]
    files: list[Path]
    raw: dict
    # resources the government states it can devote to social protection, share of GDP
    # (ILC 2021 para. 15(a), (g): fiscal space; R202 para. 11); None: not given
    fiscal_envelope: float | None = None
    # how strongly informal workers, the unemployed, the inactive and the disabled keep
    # last year's state (0-1); both engines follow it
    labour_persistence: float = DEFAULT_LABOUR_PERSISTENCE
    # the [stochastic] section: which assumptions vary in stochastic projections
    stochastic: StochasticSpec | None = None
    # the [poverty] section: how the micro engine measures household poverty; None: it
    # does not
    poverty: PovertySpec | None = None
    # the [disclosure] section: a result cell needs this many of a person file's records
    # behind it, or none (spfsim.results.disclosure)
    minimum_records: int = DEFAULT_MINIMUM_RECORDS
    # the standard deviations of the log of a person's earnings around her age and sex's
    # mean: a permanent level and a yearly shock (both engines; 0: everybody at the mean)
    earnings_permanent_sd: float = 0.0
    earnings_transitory_sd: float = 0.0
    # the first year of the valuation period of the financing measures (None: base_year)
    valuation_start: int | None = None

    @property
    def input_hash(self) -> str:
        """SHA-256 over every input file's name and bytes: identifies the exact inputs.
        Taken when the model is read (read_model) and again only when the list of files
        changes (a reform adds its file), so that a projection's provenance names the
        files as they were read, not what they hold later, and no projection reads them
        again."""
        files = tuple(self.files)
        taken = getattr(self, "_input_hash", None)
        if taken is None or taken[0] != files:
            digest = hashlib.sha256()
            for file in sorted(files, key=lambda f: f.name):
                digest.update(file.name.encode())
                digest.update(file.read_bytes())
            taken = self._input_hash = (files, digest.hexdigest())
        return taken[1]


def _read_toml(path: Path, log: ProblemLog) -> dict | None:
    """The parsed TOML file ``path`` (read by the guarded reader, spfsim.input_files), or
    None with its problems logged."""
    try:
        return read_input_toml(path, "model")
    except AssumptionError as exc:
        log.extend(exc.problems)
    return None


def _get(table: dict, key: str, types: type | tuple, file: Path, where: str,
         log: ProblemLog, default: object = ...) -> object:
    """A typed entry of a TOML table; logs a problem when missing or of the wrong type."""
    if key not in table:
        if default is ...:
            log.add(file, f"{where}.{key}", "required entry is missing", None, None)
        return None if default is ... else default
    value = table[key]
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        log.add(file, f"{where}.{key}", "wrong type", None, value)
        return None
    if not isinstance(value, types):
        log.add(file, f"{where}.{key}", f"wrong type: expected {_type_name(types)}", None, value)
        return None
    return value


def _type_name(types) -> str:
    types = types if isinstance(types, tuple) else (types,)
    return " or ".join({int: "a whole number", float: "a number", str: "text",
                        dict: "a table"}.get(t, t.__name__) for t in types)


def read_model(model_dir: Path | str, scheme_types: Mapping[str, type]) -> ModelInput:
    """Read and validate a model folder; raise AssumptionError listing every problem.

    ``scheme_types``: the scheme library (``spfsim.schemes.SCHEME_TYPES``), by type name,
    each with its ``PARAMETERS`` declarations. The caller passes it because the schemes sit
    above the parameters in the layering (docs/architecture.md).
    """
    model_dir = Path(model_dir)
    log = ProblemLog()
    model_path = model_dir / MODEL_FILE
    if not model_dir.is_dir():
        log.add(model_dir, "model", "model folder not found", None, str(model_dir))
        log.raise_if_any()
    data = _read_toml(model_path, log)
    log.raise_if_any()
    assert data is not None

    meta = _get(data, "model", dict, model_path, "", log) or {}
    name = _get(meta, "name", str, model_path, "model", log)
    if isinstance(name, str) and not ID_PATTERN.match(name.replace("-", "_")):
        log.add(model_path, "model.name", "use lower-case letters, digits, '-' or '_'", None, name)
    title = _get(meta, "title", str, model_path, "model", log, default=name or "")
    base_year = _get(meta, "base_year", int, model_path, "model", log)
    end_year = _get(meta, "end_year", int, model_path, "model", log)
    for key, year in (("base_year", base_year), ("end_year", end_year)):
        if isinstance(year, int) and not FIRST_YEAR <= year <= LAST_YEAR:
            log.add(model_path, f"model.{key}", f"must be between {FIRST_YEAR} and {LAST_YEAR}",
                    None, year)
    if isinstance(base_year, int) and isinstance(end_year, int) and end_year <= base_year:
        log.add(model_path, "model.end_year", f"must be after base_year {base_year}", None,
                end_year)
    valuation_start = _valuation_start(meta, base_year, end_year, model_path, log)
    for key in meta:
        if key not in MODEL_KEYS:
            log.add(model_path, f"model.{key}", f"unknown entry; known: {list(MODEL_KEYS)}",
                    None, key)
    currency = _get(meta, "currency", str, model_path, "model", log, default="currency")
    assumptions_ref = _get(meta, "assumptions", (str, list), model_path, "model", log)

    economy = _get(data, "economy", dict, model_path, "", log) or {}
    gdp = _positive(economy, "gdp", model_path, log)
    earnings = _positive(economy, "average_earnings", model_path, log)
    poverty_line = _positive(economy, "poverty_line", model_path, log, required=False)
    revenue_share = _positive(economy, "government_revenue", model_path, log, required=False)
    if revenue_share is not None and revenue_share > 1.0:
        log.add(model_path, "economy.government_revenue", "must be a share of GDP <= 1", None,
                revenue_share)
    fiscal_envelope = _fraction(economy, "fiscal_envelope", model_path, log,
                                "a share of GDP between 0 and 1 (a fraction: 0.03 for 3 %)")
    labour_persistence = _fraction(economy, "labour_persistence", model_path, log,
                                   "a probability between 0 and 1")
    earnings_sd = [_earnings_sd(economy, key, model_path, log)
                   for key in ("earnings_permanent_sd", "earnings_transitory_sd")]
    _check_economy(gdp, {"average_earnings": earnings, "poverty_line": poverty_line},
                   model_path, log)
    for key in economy:
        if key not in ECONOMY_KEYS:
            log.add(model_path, f"economy.{key}", f"unknown entry; known: {list(ECONOMY_KEYS)}",
                    None, key)

    files = [model_path]
    tables: dict[str, Table] = {}
    assumption_sets: list[dict] = []
    if assumptions_ref is not None:
        refs = [assumptions_ref] if isinstance(assumptions_ref, str) else assumptions_ref
        declared: dict[str, Path] = {}
        for ref in refs:
            if not isinstance(ref, str):
                log.add(model_path, "model.assumptions", "expected folder names", None, ref)
                continue
            set_dir = (model_dir / ref).resolve()
            assumption_sets.append(_read_assumption_set(set_dir, tables, declared, files, log))
        _check_required_tables(declared, refs, model_path, log)
        if isinstance(base_year, int) and isinstance(end_year, int):
            _check_years(tables, base_year, end_year, log)
            check_demography(tables, log)
            check_population_projection(tables, base_year, log)

    schemes = _read_schemes(data, model_path, scheme_types, base_year, log)
    folders = [model_dir, *(Path(s["folder"]) for s in assumption_sets if "folder" in s)]
    stochastic = _stochastic(data, model_path, files, log, folders)
    poverty = read_poverty(data.get("poverty"), model_path, log, poverty_line is not None)
    minimum_records = read_disclosure(data.get("disclosure"), model_path, log)
    _check_household_tests(schemes, scheme_types, poverty is not None, "families" in tables,
                           model_path, log)
    _check_survivor_partners(schemes, "families" in tables, model_path, log)
    _check_sections(data, model_path, log)
    log.locate_rows(model_path, toml_line_finder(model_path))
    log.raise_if_any()
    model = ModelInput(model_dir.resolve(), name, title, base_year, end_year, currency, gdp,
                       earnings, poverty_line, revenue_share, tables, schemes,
                       assumption_sets, files, data, fiscal_envelope,
                       DEFAULT_LABOUR_PERSISTENCE if labour_persistence is None
                       else labour_persistence, stochastic, poverty, minimum_records,
                       *earnings_sd, valuation_start)
    model.input_hash  # noqa: B018 (taken now: the files as read)
    return model


def _valuation_start(meta: dict, base_year: object, end_year: object, model_path: Path,
                     log: ProblemLog) -> int | None:
    """``[model] valuation_start``: the first year of the financing measures' valuation
    period, from base_year to end_year - 1 (None when not given: the base year). A valuation
    that starts after a base year of historical data (the US Trustees value 2026-2100 from
    a 2025 base) counts the reserve at the start of that year as its initial reserve."""
    start = _get(meta, "valuation_start", int, model_path, "model", log, default=None)
    if start is None or not (isinstance(base_year, int) and isinstance(end_year, int)):
        return start
    if not base_year <= start < end_year:
        log.add(model_path, "model.valuation_start", f"must be from base_year {base_year} "
                f"to end_year - 1 ({end_year - 1})", None, start)
    return start


def _check_survivor_partners(schemes: list[SchemeInput], has_families: bool,
                             model_path: Path, log: ProblemLog) -> None:
    """Survivors' partners from the families need a families table."""
    for scheme in schemes:
        if scheme.choices.get("survivor_partners") == "families" and not has_families:
            log.add(model_path, f"schemes.{scheme.id}.survivor_partners",
                    "'families' takes the partners from the families table: the model's "
                    "assumption sets have none", None, "families")


def _check_household_tests(schemes: list[SchemeInput], scheme_types: Mapping[str, type],
                           has_poverty: bool, has_families: bool, model_path: Path,
                           log: ProblemLog) -> None:
    """A scheme that tests households' incomes needs households (a families table) and the
    [poverty] section's equivalence scale."""
    for scheme in schemes:
        kind = scheme_types.get(scheme.type)
        test = getattr(kind, "household_test", None)
        if test is None or test(scheme.choices) is None:
            continue
        field = (f"schemes.{scheme.id}.means_test" if "means_test" in scheme.choices
                 else f"schemes.{scheme.id}.type")
        value = scheme.choices.get("means_test", scheme.type)
        missing = [what for what, there in (("a [poverty] section (its equivalence scale)",
                                             has_poverty),
                                            ("a families table in the assumption sets",
                                             has_families)) if not there]
        if missing:
            log.add(model_path, field, f"'{value}' tests households' incomes: the model "
                    f"needs {' and '.join(missing)}", None, value)


def _stochastic(data: dict, model_path: Path, files: list[Path], log: ProblemLog,
                folders: list[Path]) -> StochasticSpec | None:
    """The [stochastic] section; its history files are among the model's input files and
    must lie inside ``folders`` (the model's and its assumption sets')."""
    spec = read_stochastic(data.get("stochastic"), model_path, log, folders)
    if spec is not None and spec.mortality is not None and spec.mortality.history_file:
        files.append(spec.mortality.history_file)
    if spec is not None and spec.economy_history is not None:
        files.append(spec.economy_history.file)
    return spec


def _check_sections(data: dict, model_path: Path, log: ProblemLog) -> None:
    for key in data:
        if key not in ("model", "economy", "schemes", "stochastic", "poverty", "disclosure"):
            log.add(model_path, key, "unknown section; expected [model], [economy], "
                    "[[schemes]], [stochastic], [poverty], [disclosure]", None, key)


def toml_line_finder(path: Path) -> Callable[[str], int | None]:
    """Line number of a dotted field in a TOML file, found by its last key (best effort).

    For ``schemes.<id>.…`` fields the search starts at the line declaring ``id = "<id>"``,
    so that a parameter is found in its own scheme's section.
    """
    try:
        lines = read_input_text(path, "model").splitlines()
    except AssumptionError:
        return lambda _field: None

    def first_match(pattern: re.Pattern, start: int = 0) -> int | None:
        return next((i for i in range(start, len(lines)) if pattern.match(lines[i])), None)

    def line_of(field_name: str) -> int | None:
        parts = [re.sub(r"\[\d+\]$", "", p) for p in field_name.split(".")]
        parts = [p for p in parts if p and not p.isdigit()]
        if not parts:
            return None
        start = 0
        if len(parts) > 1 and parts[0] == "schemes":
            found = first_match(re.compile(rf"^\s*id\s*=\s*[\"']{re.escape(parts[1])}[\"']"))
            if found is None:  # a reform file: schemes as [schemes.<id>.parameters] tables
                found = first_match(re.compile(
                    rf"^\s*\[\s*schemes\s*\.\s*{re.escape(parts[1])}\s*[.\]]"))
            start = found or 0
        elif len(parts) > 1:
            section = re.escape(f"{parts[0]}.{parts[1]}")
            start = first_match(re.compile(rf"^\s*\[\s*{section}\s*\]")) or 0
        for key in reversed(parts):  # the most specific key that appears on a line
            found = first_match(re.compile(rf"^\s*(\[+\s*)?{re.escape(key)}\s*(=|\]|\.)"),
                                start)
            if found is not None:
                return found + 1
        return start + 1 if start else None

    return line_of


def _positive(table: dict, key: str, file: Path, log: ProblemLog,
              required: bool = True) -> float | None:
    value = _get(table, key, (int, float), file, "economy", log,
                 **({} if required else {"default": None}))
    if value is not None and not value > 0:
        log.add(file, f"economy.{key}", "must be > 0", None, value)
        return None
    if value is not None and not value <= MAX_AMOUNT:  # also inf
        log.add(file, f"economy.{key}", f"must be a finite number <= {MAX_AMOUNT:g} (no "
                "economy comes near it in any currency; a unit mistake?)", None, value)
        return None
    return None if value is None else float(value)


def _check_economy(gdp: float | None, amounts: dict[str, float | None], file: Path,
                   log: ProblemLog) -> None:
    """Amounts per person cannot exceed the whole GDP: a unit or typing mistake."""
    if gdp is None:
        return
    for key, value in amounts.items():
        if value is not None and value > gdp:
            log.add(file, f"economy.{key}", f"is larger than the whole GDP ({gdp:g}): it is "
                    "an amount per person per year", None, value)


def _fraction(table: dict, key: str, file: Path, log: ProblemLog,
              meaning: str) -> float | None:
    """An optional ``[economy]`` number in [0, 1] (a fraction, not percent)."""
    value = _get(table, key, (int, float), file, "economy", log, default=None)
    if value is None:
        return None
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        log.add(file, f"economy.{key}", f"must be {meaning}", None, value)
        return None
    return float(value)


def _earnings_sd(table: dict, key: str, file: Path, log: ProblemLog) -> float:
    """An optional ``[economy]`` log-sd of individual earnings, 0 to MAX_EARNINGS_SD
    (absent: 0)."""
    value = _get(table, key, (int, float), file, "economy", log, default=0.0)
    if value is None:
        return 0.0
    if not 0.0 <= value <= MAX_EARNINGS_SD:  # also rejects NaN
        log.add(file, f"economy.{key}", "must be a standard deviation of log earnings "
                f"between 0 and {MAX_EARNINGS_SD:g}", None, value)
        return 0.0
    return float(value)


def _read_assumption_set(set_dir: Path, tables: dict, declared: dict[str, Path],
                         files: list, log: ProblemLog) -> dict:
    """Read one assumption set's declared tables into ``tables``; return its metadata."""
    header_path = set_dir / ASSUMPTIONS_FILE
    header = _read_toml(header_path, log)
    if header is None:
        return {}
    files.append(header_path)
    entries = _get(header, "tables", dict, header_path, "", log) or {}
    for key, entry in entries.items():
        if key not in ASSUMPTION_TABLES:
            log.add(header_path, f"tables.{key}",
                    f"unknown table; known tables: {sorted(ASSUMPTION_TABLES)}", None, key)
            continue
        if key in declared:
            log.add(header_path, f"tables.{key}",
                    f"table already given by the assumption set {declared[key].parent}", None,
                    key)
            continue
        declared[key] = header_path
        if not isinstance(entry, dict):
            log.add(header_path, f"tables.{key}", "expected a table with 'file'", None, entry)
            continue
        file_name = _get(entry, "file", str, header_path, f"tables.{key}", log)
        units = _get(entry, "units", dict, header_path, f"tables.{key}", log, default={})
        if file_name is None or units is None:
            continue
        path = set_dir / file_name
        outside = check_inside(path, [set_dir])
        if outside:
            log.add(header_path, f"tables.{key}.file", outside, None, file_name)
            continue
        table = read_table(ASSUMPTION_TABLES[key], path, log, units, units_file=header_path)
        if table is not None:
            tables[key] = table
            files.append(path)
    log.locate_rows(header_path, toml_line_finder(header_path))
    return {"folder": str(set_dir), **header.get("assumption_set", {})}


def _check_required_tables(declared: dict[str, Path], refs: list, model_path: Path,
                           log: ProblemLog) -> None:
    for spec in ASSUMPTION_TABLES.values():
        if spec.required and spec.name not in declared:
            log.add(model_path, "model.assumptions",
                    f"required table '{spec.name}' is declared by none of the assumption sets",
                    None, refs)


def _check_years(tables: dict[str, Table], base_year: int, end_year: int,
                 log: ProblemLog) -> None:
    """Year-dependent tables must cover base_year..end_year (mortality may stop earlier
    when an improvement table extends it)."""
    for table in tables.values():
        if not table.by_year:
            continue
        years = table.coords["year"]
        if table.name in PAST_TABLES:  # the past: before the base year
            if years[-1] >= base_year:
                log.add(table.file, "year", f"must be before the base year {base_year}",
                        None, int(years[-1]))
            continue
        last_needed = end_year
        if table.name == "mortality" and "mortality_improvement" in tables:
            last_needed = base_year
        if years[0] > base_year:
            log.add(table.file, "year", f"must start at or before the base year {base_year}",
                    None, int(years[0]))
        elif years[-1] < last_needed:
            log.add(table.file, "year", f"must extend to the end year {last_needed}", None,
                    int(years[-1]))


def _cell(table: Table, index: tuple) -> str:
    """'year 2030, age 30, sex male' of an index into ``table``'s values."""
    return ", ".join(f"{d} {table.coords[d][i]}" for d, i in zip(table.dims, index,
                                                                  strict=True))


def check_population_projection(tables: dict[str, Table], base_year: int,
                                log: ProblemLog) -> None:
    """An external population projection gives each year (a year column) and, in the base
    year, the base population itself (one population, not two)."""
    projection, base = tables.get("population_projection"), tables.get("population")
    if projection is None:
        return
    if not projection.by_year:
        log.add(projection.file, "year", "an external population projection needs a year "
                "column: one population a year", None, None)
        return
    years = projection.coords["year"]
    if base is None or not years[0] <= base_year <= years[-1]:
        return  # (the year range is checked with every table's)
    given = projection.values["population"][base_year - int(years[0])]
    gap = np.abs(given - base.values["population"])
    tolerance = 1e-9 * np.maximum(np.abs(base.values["population"]), 1.0)
    if (gap > tolerance).any():
        index = np.unravel_index(int(np.argmax(gap - tolerance)), gap.shape)
        cell = _cell(base, index)
        log.add(projection.file, "population", f"{cell}: the base year's must be the base "
                f"population ({base.values['population'][index]:g} in {base.file.name})",
                None, float(given[index]))


def check_demography(tables: dict[str, Table], log: ProblemLog) -> None:
    """What the projection cannot run with, though every cell is in range on its own: an
    empty base population and death rates above 1 below old age. (Net emigration above a
    cohort is legal: the projection caps it, warns, and reports it as emigration_capped.)"""
    population = tables.get("population")
    if population is not None and not population.values["population"].sum() > 0:
        log.add(population.file, "population", "the base population is 0 at every age and "
                "sex: there is nothing to project", None, 0.0)
    mortality = tables.get("mortality")
    if mortality is not None:
        mx = mortality.values["mx"]
        ages = mortality.coords["age"].reshape([-1 if d == "age" else 1
                                                for d in mortality.dims])
        high = (mx > 1.0) & (ages < MAX_AGE_MX_ABOVE_ONE)
        if high.any():
            first = tuple(np.argwhere(high)[0])
            log.add(mortality.file, "mx", f"a death rate above 1 below age "
                    f"{MAX_AGE_MX_ABOVE_ONE} (more than 63 % of the group dying within the "
                    f"year) is not plausible; {int(high.sum())} such rates, the first at "
                    f"{_cell(mortality, first)}", None, float(mx[first]))


def _read_schemes(data, model_path, scheme_types, base_year, log) -> list[SchemeInput]:
    raw_schemes = _get(data, "schemes", list, model_path, "", log, default=[])
    schemes, seen = [], set()
    for i, raw in enumerate(raw_schemes or []):
        where = f"schemes[{i + 1}]"
        if not isinstance(raw, dict):
            log.add(model_path, where, "each scheme must be a table", None, raw)
            continue
        scheme_id = _get(raw, "id", str, model_path, where, log)
        type_name = _get(raw, "type", str, model_path, where, log)
        if isinstance(scheme_id, str):
            if not ID_PATTERN.match(scheme_id):
                log.add(model_path, f"{where}.id", "use lower-case letters, digits and '_', "
                        "starting with a letter", None, scheme_id)
            if scheme_id in seen:
                log.add(model_path, f"{where}.id", "scheme id used twice", None, scheme_id)
            seen.add(scheme_id)
            where = f"schemes.{scheme_id}"
        if type_name is None:
            continue
        if type_name not in scheme_types:
            log.add(model_path, f"{where}.type",
                    f"unknown scheme type; known types: {sorted(scheme_types)}", None, type_name)
            continue
        scheme = SchemeInput(scheme_id or "", type_name,
                             _get(raw, "name", str, model_path, where, log,
                                  default=scheme_id or ""), raw=raw)
        for key in raw:
            if key not in ("id", "type", "name", "parameters"):
                log.add(model_path, f"{where}.{key}", "unknown entry; scheme parameters go "
                        "under 'parameters'", None, key)
        params = _get(raw, "parameters", dict, model_path, where, log, default={}) or {}
        _parse_scheme_params(scheme, params, scheme_types[type_name], model_path, where,
                             base_year, log)
        schemes.append(scheme)
    if raw_schemes == []:
        log.add(model_path, "schemes", "the model defines no scheme", None, None)
    return schemes


def _parse_scheme_params(scheme, params, scheme_type, model_path, where, base_year,
                         log) -> None:
    specs = scheme_type.PARAMETERS
    first_year = base_year if isinstance(base_year, int) else FIRST_YEAR
    for key in params:
        if key not in specs:
            log.add(model_path, f"{where}.parameters.{key}",
                    f"unknown parameter for type '{scheme.type}'; known: {sorted(specs)}",
                    None, key)
    for spec in specs.values():
        field_name = f"{where}.parameters.{spec.name}"
        raw = params.get(spec.name, spec.default)
        if raw is None:
            log.add(model_path, field_name, f"required parameter is missing ({spec.unit})",
                    None, None)
            continue
        parse_scheme_parameter(scheme, spec, raw, field_name, model_path, first_year, log)
    for name, message, value in scheme_type.cross_check(scheme.numbers, scheme.choices):
        log.add(model_path, f"{where}.parameters.{name}", message, None, value)


def parse_scheme_parameter(scheme: SchemeInput, spec: ParamSpec, raw: object, field_name: str,
                           file: Path, first_year: int, log: ProblemLog) -> bool:
    """Parse one scheme parameter's TOML value into ``scheme`` (its numbers, indexations or
    choices, by the spec's kind), replacing any earlier value; problems are logged against
    ``file`` and ``field_name``. Returns whether the value was valid.

    A value may carry its source in law, ``{ value = 0.015, reference = "Act 12/2019, art.
    31" }`` (or a ``reference`` key beside any table form: effective years, sexes,
    indexation): the reference is kept in ``scheme.references``; a new value without one
    drops the old value's."""
    scheme.references.pop(spec.name, None)
    raw = _with_reference(scheme, spec, raw, field_name, file, log)
    if spec.kind == "indexation":
        parsed = parse_indexation(raw, field_name, str(file), log)
        if parsed is not None:
            scheme.indexations[spec.name] = parsed
    elif spec.kind == "choice":
        parsed = parse_choice(spec, raw, field_name, str(file), log)
        if parsed is not None:
            scheme.choices[spec.name] = parsed
    else:
        parsed = parse_parameter(spec, raw, field_name, str(file), log, first_year)
        if parsed is not None:
            scheme.numbers[spec.name] = parsed
    return parsed is not None


REFERENCE_WIDTH = 200  # characters: a short citation, not a text


def _with_reference(scheme: SchemeInput, spec: ParamSpec, raw: object, field_name: str,
                    file: Path, log: ProblemLog) -> object:
    """``raw`` without its ``reference`` key, which goes to ``scheme.references`` (a table
    left with ``value`` alone is that value)."""
    if not isinstance(raw, dict) or "reference" not in raw:
        return raw
    reference = raw["reference"]
    if not isinstance(reference, str) or not reference.strip() \
            or len(reference) > REFERENCE_WIDTH:
        shown = reference[:60] + "..." if isinstance(reference, str) and len(reference) > 60 \
            else reference
        log.add(file, f"{field_name}.reference", "expected a short citation of the law "
                f"(act, article, date), at most {REFERENCE_WIDTH} characters", None, shown)
    else:
        scheme.references[spec.name] = " ".join(reference.split())
    rest = {key: value for key, value in raw.items() if key != "reference"}
    return rest["value"] if set(rest) == {"value"} else rest
