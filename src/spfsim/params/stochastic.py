"""The ``[stochastic]`` section of model.toml: which assumptions vary, and how.

Every process is a deviation around the model's own deterministic path, zero in the base
year, so that with every standard deviation set to zero each draw is the deterministic
projection (docs/stochastic.md):

- ``[stochastic.mortality]``: ``method = "lee_carter"`` fits a Lee-Carter model on a
  life-table history (``history``: a CSV of ``year, age, sex, mx`` like the mortality table)
  and moves log m(x, t) by b(x) times the random walk of k(t) around its drift, with the
  drift's own uncertainty if ``parameter_uncertainty``; ``method = "improvement"`` moves
  log m(x, t) of every age by a random walk of standard deviation ``sd`` a year (a band of
  improvement rates) where no history is given;
- ``[stochastic.fertility]``: the total fertility rate (children per woman) plus an AR(1)
  deviation, bounded to [``min_tfr``, ``max_tfr``], the age schedule kept;
- ``[stochastic.migration]``: total net migration plus an AR(1) deviation in shares of the
  base year's population, spread over ages and sexes like the year's assumed migrants;
- ``[stochastic.economy]``: real wage growth, inflation, the nominal interest rate on
  reserves and the unemployment rate, each plus an AR(1) deviation (``sd``, ``ar``), their
  innovations correlated by ``correlation`` (a matrix over the variables given, in the order
  of :data:`ECONOMY_VARIABLES`), or a ``history`` file of observed rates on which a
  VAR(1) is fitted (spfsim.stochastic.paths.economy_model, with statsmodels);
- ``[stochastic.sensitivity]``: the low and high deviations of the one-at-a-time
  sensitivity tests, held from the year after the base year (:data:`SENSITIVITY_UNITS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ProblemLog
from ..input_files import check_inside
from .schema import ASSUMPTION_TABLES
from .tables import Table, read_csv_rows, read_table

ECONOMY_VARIABLES = ("real_wage_growth", "inflation", "interest_rate", "unemployment")
#: the assumptions a sensitivity test moves, and what a value means (units)
SENSITIVITY_UNITS = {
    "mortality": "change of log m(x) a year at every age (-0.005: mortality falls 0.5 % a "
                 "year faster than assumed)",
    "fertility": "children per woman added to the TFR",
    "migration": "net migrants a year added, as a share of the base population",
    "real_wage_growth": "fraction a year added",
    "inflation": "fraction a year added",
    "interest_rate": "fraction a year added (nominal return on reserves)",
    "unemployment": "fraction added to every unemployment rate",
}
SENSITIVITY_LIMITS = {"mortality": 0.05, "fertility": 3.0, "migration": 0.05,
                      "real_wage_growth": 0.2, "inflation": 0.5, "interest_rate": 0.5,
                      "unemployment": 0.5}
MORTALITY_METHODS = ("lee_carter", "improvement")
DEFAULT_PERCENTILES = (2.5, 10.0, 50.0, 90.0, 97.5)
SECTIONS = ("mortality", "fertility", "migration", "economy")
TOP_KEYS = ("draws", "seed", "percentiles", "sensitivity", *SECTIONS)
MAX_DRAWS = 1_000_000


@dataclass(frozen=True)
class Autoregressive:
    """An AR(1) deviation x(t) = ar x(t-1) + sd e(t), x(base year) = 0, in the variable's
    units (``sd``: of the yearly innovation)."""

    sd: float
    ar: float

    @property
    def stationary_sd(self) -> float:
        """The deviation's standard deviation far from the base year."""
        return self.sd / float(np.sqrt(1.0 - self.ar ** 2))


@dataclass(frozen=True)
class MortalitySpec:
    """How mortality varies: ``method`` (:data:`MORTALITY_METHODS`); a Lee-Carter
    ``history`` table (year, age, sex: mx) and whether the drift is uncertain; or the
    yearly ``sd`` of the log-mortality random walk (improvement method)."""

    method: str
    history: Table | None = None
    history_file: Path | None = None
    parameter_uncertainty: bool = True
    sd: float = 0.0


@dataclass(frozen=True)
class FertilitySpec:
    """The TFR deviation (children per woman) and its bounds."""

    process: Autoregressive
    min_tfr: float = 0.5
    max_tfr: float = 8.0


@dataclass(frozen=True)
class EconomyHistory:
    """Observed economic rates to fit the economy's VAR(1) on: ``values`` (year, variable)
    in fractions, over consecutive ``years``, for ``names`` (in :data:`ECONOMY_VARIABLES`
    order)."""

    file: Path
    years: np.ndarray
    names: tuple[str, ...]
    values: np.ndarray


MIN_HISTORY_YEARS = 15  # a VAR(1) of four rates has 20 coefficients and 10 covariances


@dataclass(frozen=True)
class StochasticSpec:
    """The model's stochastic assumptions; a section left out does not vary."""

    draws: int = 1000
    seed: int = 0
    percentiles: tuple[float, ...] = DEFAULT_PERCENTILES
    mortality: MortalitySpec | None = None
    fertility: FertilitySpec | None = None
    migration: Autoregressive | None = None  # sd: share of the base population a year
    economy: dict[str, Autoregressive] = field(default_factory=dict)
    correlation: np.ndarray = field(default_factory=lambda: np.eye(0))
    # one-at-a-time sensitivity tests: assumption -> (low, high) deviations, held from the
    # year after the base year (SENSITIVITY_UNITS)
    sensitivity: dict[str, tuple[float, float]] = field(default_factory=dict)
    # observed rates the economy's VAR(1) is fitted on, instead of declared sd, ar and
    # correlation (the fit sets ``economy`` and ``correlation``: spfsim.stochastic.paths)
    economy_history: EconomyHistory | None = None

    def without_variance(self) -> StochasticSpec:
        """The same declarations with every standard deviation 0 (each draw is then the
        deterministic projection)."""
        def still(p: Autoregressive) -> Autoregressive:
            return Autoregressive(0.0, p.ar)

        mortality = None if self.mortality is None else MortalitySpec(
            "improvement", sd=0.0)
        fertility = None if self.fertility is None else FertilitySpec(
            still(self.fertility.process), self.fertility.min_tfr, self.fertility.max_tfr)
        return StochasticSpec(self.draws, self.seed, self.percentiles, mortality, fertility,
                              None if self.migration is None else still(self.migration),
                              {k: still(p) for k, p in self.economy.items()},
                              self.correlation, self.sensitivity)  # no fitted history


class _Reader:
    """Typed entries of the section, every problem logged with its dotted field."""

    def __init__(self, file: Path, log: ProblemLog, folders: list[Path]):
        self.file, self.log, self.folders = file, log, folders

    def inside(self, path: Path, where: str, name: str) -> bool:
        """Whether the file ``path`` lies inside the model's folders (logged if not)."""
        outside = check_inside(path, self.folders)
        if outside:
            self.problem(where, outside, name)
        return outside is None

    def problem(self, where: str, message: str, value: object) -> None:
        self.log.add(self.file, where, message, None, value)

    def number(self, table: dict, key: str, where: str, low: float, high: float,
               default: float | None = None, high_open: bool = False) -> float | None:
        value = table.get(key, default)
        field_name = f"{where}.{key}"
        if value is None:
            self.problem(field_name, "required entry is missing", None)
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(field_name, "wrong type: expected a number", value)
            return None
        above = value >= high if high_open else value > high
        if not np.isfinite(value) or value < low or above:
            bound = f"below {high}" if high_open else f"at most {high}"
            self.problem(field_name, f"must be at least {low} and {bound}", value)
            return None
        return float(value)

    def unknown(self, table: dict, known: tuple[str, ...], where: str) -> None:
        for key in table:
            if key not in known:
                self.problem(f"{where}.{key}", f"unknown entry; known: {list(known)}", key)

    def table(self, parent: dict, key: str, where: str) -> dict | None:
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem(f"{where}.{key}", "wrong type: expected a table", value)
            return None
        return value

    def process(self, table: dict, where: str, known: tuple[str, ...] = ("sd", "ar"),
                sd_high: float = 1.0) -> Autoregressive | None:
        self.unknown(table, known, where)
        sd = self.number(table, "sd", where, 0.0, sd_high)
        ar = self.number(table, "ar", where, 0.0, 1.0, default=0.0, high_open=True)
        return None if sd is None or ar is None else Autoregressive(sd, ar)


def read_stochastic(section: object, model_file: Path, log: ProblemLog,
                    folders: list[Path] | None = None) -> StochasticSpec | None:
    """Validate the ``[stochastic]`` section (None: absent); log every problem.

    History files must lie inside ``folders`` (default: the model's folder)."""
    if section is None:
        return None
    r = _Reader(model_file, log, folders or [model_file.parent])
    if not isinstance(section, dict):
        r.problem("stochastic", "wrong type: expected a table", section)
        return None
    r.unknown(section, TOP_KEYS, "stochastic")
    draws = _whole(r, section, "draws", 1000, 1, MAX_DRAWS)
    seed = _whole(r, section, "seed", 0, 0, 2 ** 63 - 1)
    percentiles = _percentiles(r, section.get("percentiles", list(DEFAULT_PERCENTILES)))
    tables = {name: r.table(section, name, "stochastic") for name in SECTIONS}
    mortality = (None if tables["mortality"] is None
                 else _mortality(r, tables["mortality"], model_file.parent))
    fertility = None if tables["fertility"] is None else _fertility(r, tables["fertility"])
    migration = (None if tables["migration"] is None
                 else r.process(tables["migration"], "stochastic.migration"))
    economy, correlation, history = ({}, np.eye(0), None) if tables["economy"] is None \
        else _economy(r, tables["economy"], model_file.parent)
    sensitivity = _sensitivity(r, r.table(section, "sensitivity", "stochastic") or {})
    return StochasticSpec(draws or 1, seed or 0, percentiles, mortality, fertility, migration,
                          economy, correlation, sensitivity, history)


def _sensitivity(r: _Reader, table: dict) -> dict[str, tuple[float, float]]:
    """``[stochastic.sensitivity]``: assumption = { low = .., high = .. } deviations."""
    where = "stochastic.sensitivity"
    r.unknown(table, tuple(SENSITIVITY_UNITS), where)
    out = {}
    for name in SENSITIVITY_UNITS:
        entry = r.table(table, name, where)
        if entry is None:
            continue
        r.unknown(entry, ("low", "high"), f"{where}.{name}")
        limit = SENSITIVITY_LIMITS[name]
        low = r.number(entry, "low", f"{where}.{name}", -limit, limit)
        high = r.number(entry, "high", f"{where}.{name}", -limit, limit)
        if low is not None and high is not None:
            if low == high:
                r.problem(f"{where}.{name}.high", f"must differ from low {low}", high)
            else:
                out[name] = (low, high)
    return out


def _whole(r: _Reader, table: dict, key: str, default: int, low: int, high: int) -> int | None:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        r.problem(f"stochastic.{key}", "wrong type: expected a whole number", value)
        return None
    if not low <= value <= high:
        r.problem(f"stochastic.{key}", f"must be between {low} and {high}", value)
        return None
    return value


def _percentiles(r: _Reader, value: object) -> tuple[float, ...]:
    ok = (isinstance(value, list) and value
          and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value))
    if ok and all(0.0 < v < 100.0 for v in value) and list(value) == sorted(set(value)):
        return tuple(float(v) for v in value)
    r.problem("stochastic.percentiles", "expected increasing numbers between 0 and 100 "
              "(exclusive), e.g. [2.5, 50, 97.5]", value)
    return DEFAULT_PERCENTILES


def _mortality(r: _Reader, table: dict, folder: Path) -> MortalitySpec | None:
    where = "stochastic.mortality"
    method = table.get("method")
    if method not in MORTALITY_METHODS:
        r.problem(f"{where}.method", f"expected one of {list(MORTALITY_METHODS)}", method)
        return None
    if method == "improvement":
        r.unknown(table, ("method", "sd"), where)
        sd = r.number(table, "sd", where, 0.0, 0.2)
        return None if sd is None else MortalitySpec(method, sd=sd)
    r.unknown(table, ("method", "history", "parameter_uncertainty"), where)
    uncertain = table.get("parameter_uncertainty", True)
    if not isinstance(uncertain, bool):
        r.problem(f"{where}.parameter_uncertainty", "wrong type: expected true or false",
                  uncertain)
    history = table.get("history")
    if not isinstance(history, str):
        r.problem(f"{where}.history", "required for the lee_carter method: a CSV file of "
                  "year, age, sex, mx (the mortality table's format)", history)
        return None
    path = folder / history
    if not r.inside(path, f"{where}.history", history):
        return None
    path = path.resolve()
    read = read_table(ASSUMPTION_TABLES["mortality"], path, r.log)
    if read is not None:
        read = _usable_history(r, read, f"{where}.history", history)
    if read is None or not isinstance(uncertain, bool):
        return None
    return MortalitySpec(method, read, path, uncertain)


def _usable_history(r: _Reader, table: Table, where: str, name: str) -> Table | None:
    """A Lee-Carter history: rates for three or more consecutive years, all above 0 (the
    model is fitted on their logarithms)."""
    years = table.coords.get("year") if table.by_year else None
    if years is None or len(years) < 3 or np.any(np.diff(years) != 1):
        r.problem(where, "the history needs rates for three or more consecutive years", name)
        return None
    mx = table.values["mx"]
    if np.any(mx <= 0):
        year, age, sex = np.argwhere(mx <= 0)[0]
        r.problem(where, f"every rate must be above 0 (the model fits log m); year "
                  f"{int(years[year])}, age {age}, sex {('male', 'female')[sex]}", name)
        return None
    return table


def _fertility(r: _Reader, table: dict) -> FertilitySpec | None:
    where = "stochastic.fertility"
    process = r.process(table, where, ("sd", "ar", "min_tfr", "max_tfr"), sd_high=2.0)
    low = r.number(table, "min_tfr", where, 0.0, 20.0, default=0.5)
    high = r.number(table, "max_tfr", where, 0.0, 20.0, default=8.0)
    if low is not None and high is not None and low >= high:
        r.problem(f"{where}.max_tfr", f"must be above min_tfr {low}", high)
        return None
    return None if process is None or low is None or high is None else FertilitySpec(
        process, low, high)


def _economy(r: _Reader, table: dict, folder: Path
             ) -> tuple[dict[str, Autoregressive], np.ndarray, EconomyHistory | None]:
    """Declared AR(1)s and their correlation, or a ``history`` file to fit a VAR(1) on."""
    where = "stochastic.economy"
    if "history" in table:
        r.unknown(table, ("history",), where)
        history = table["history"]
        if not isinstance(history, str):
            r.problem(f"{where}.history", "expected a CSV file name", history)
            return {}, np.eye(0), None
        if not r.inside(folder / history, f"{where}.history", history):
            return {}, np.eye(0), None
        return {}, np.eye(0), _economy_history(r, (folder / history).resolve(),
                                               f"{where}.history")
    return (*_declared_economy(r, table), None)


def _economy_history(r: _Reader, path: Path, where: str) -> EconomyHistory | None:
    """A CSV of ``year`` and some of :data:`ECONOMY_VARIABLES` (fractions), one row a
    year, consecutive, at least :data:`MIN_HISTORY_YEARS` rows, every value finite."""
    rows = read_csv_rows(path, r.log, "the economy history")
    if rows is None:
        return None
    header = [h.strip() for h in rows[0]]
    names = tuple(n for n in ECONOMY_VARIABLES if n in header)
    unknown = [h for h in header if h != "year" and h not in ECONOMY_VARIABLES]
    if "year" not in header or not names or unknown:
        r.log.add(path, "header", f"expected year and some of {list(ECONOMY_VARIABLES)}",
                  1, ",".join(header))
        return None
    values = []
    for line, row in enumerate(rows[1:], start=2):
        numbers = []
        for name in ("year", *names):
            text = row[header.index(name)] if header.index(name) < len(row) else ""
            number = _finite(text)
            if number is None or (name != "year" and number <= -1.0):
                r.log.add(path, name, "expected a number (a rate: above -1)", line, text)
                return None
            numbers.append(number)
        values.append(numbers)
    data = np.array(values).reshape(-1, 1 + len(names))
    years = data[:, 0]
    if len(years) < MIN_HISTORY_YEARS or np.any(np.diff(years) != 1):
        r.problem(where, f"the history needs {MIN_HISTORY_YEARS} or more consecutive years, "
                  f"one row each; {path.name} has {len(years)}", path.name)
        return None
    return EconomyHistory(path, years.astype(int), names, data[:, 1:])


def _finite(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if np.isfinite(number) else None


def _declared_economy(r: _Reader, table: dict) -> tuple[dict[str, Autoregressive], np.ndarray]:
    where = "stochastic.economy"
    r.unknown(table, (*ECONOMY_VARIABLES, "correlation"), where)
    processes = {}
    for name in ECONOMY_VARIABLES:
        sub = r.table(table, name, where)
        if sub is not None:
            process = r.process(sub, f"{where}.{name}")
            if process is not None:
                processes[name] = process
    n = len(processes)
    raw = table.get("correlation", np.eye(n).tolist())
    try:
        matrix = np.array(raw, dtype=float)
    except (TypeError, ValueError):
        matrix = np.full((0, 0), np.nan)
    if matrix.shape != (n, n) or not np.all(np.isfinite(matrix)):
        r.problem(f"{where}.correlation", f"expected a {n} x {n} matrix of numbers over "
                  f"{list(processes)}", raw)
        return processes, np.eye(n)
    symmetric = np.allclose(matrix, matrix.T) and np.allclose(np.diag(matrix), 1.0)
    if not symmetric or np.min(np.linalg.eigvalsh(matrix), initial=1.0) < -1e-12:
        r.problem(f"{where}.correlation", "must be a correlation matrix: symmetric, ones on "
                  "the diagonal, positive semi-definite", raw)
        return processes, np.eye(n)
    return processes, matrix
