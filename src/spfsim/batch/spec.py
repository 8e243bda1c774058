"""A batch description: a TOML file naming a model and the axes of a grid of projections.

::

    [batch]
    model = "../models/default"     # model folder, relative to this file (absent: default)
    end_year = 2060                 # optional: a shorter horizon
    engine = "cohort"               # default engine of every case
    persons = 20000                 # micro engine: simulated persons
    draws = 200                     # stochastic engine: draws of the [stochastic] section
    variables = ["paygo_cost_rate", "reserve_ratio", "actuarial_balance"]

    [axes]                          # the cases are the cartesian product of the axes
    reform = ["baseline", "higher-minimum-pension"]  # "baseline": no reform
    "pension.contribution_rate" = [0.11, 0.13, 0.15] # scheme.parameter = values
    engine = ["cohort", "micro"]
    seed = [1, 2]                   # micro engine's seed (stochastic engine: its seed)

The rapid costing of the floor (``spfsim spf-cost``, docs/spf-costing.md) runs as a batch
of one country a case::

    [batch]
    engine = "spf-cost"
    year = 2025                     # costing year
    levels = "levels.toml"          # optional, relative to this file (absent: the defaults)
    macro = "macro.csv"             # optional per-country macro inputs
    data = "../shared/data"         # optional reference data folder (absent: as spf-cost)

    [axes]
    country = ["all"]               # or UN M49 / ISO alpha-3 codes: [288, "NGA"]

Every problem is reported at once with the file, the field and the value
(:class:`~spfsim.errors.AssumptionError`), before anything runs. Each case has a key: the
SHA-256 of what determines its result (the model's and reform's input files, the case's
values and the batch's settings), so that a changed file never reuses a stored result.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

from .._version import __version__
from ..errors import ProblemLog
from ..input_files import read_input_toml

BASELINE = "baseline"
SPF_COST = "spf-cost"  # the floor's rapid costing (spfsim.spf): one country a case
#: "stochastic": the cohort engine over the model's [stochastic] draws (Model.project_
#: stochastic), whose results are summaries over the draws: another set of variables, so
#: it is not mixed with the other engines in one batch
ENGINES = ("cohort", "micro", "stochastic", SPF_COST)
NAMED_AXES = ("reform", "engine", "seed", "country")
BATCH_KEYS = ("model", "end_year", "engine", "persons", "draws", "variables", "year", "levels",
              "macro", "data")
SPF_KEYS = ("year", "levels", "macro", "data")
DEFAULT_VARIABLES = ("paygo_cost_rate", "reserve_ratio", "benefit_expenditure",
                     "contribution_income", "cost_to_gdp", "actuarial_balance",
                     "general_average_premium", "depletion_year", "coverage_rate")
STOCHASTIC_VARIABLES = ("paygo_cost_rate_percentiles", "reserve_ratio_percentiles",
                        "depletion_probability", "depletion_year_percentiles",
                        "actuarial_balance_percentiles", "actuarial_balance_mean",
                        "general_average_premium_mean")


@dataclass(frozen=True)
class Case:
    """One projection of the batch: its values along each axis."""

    index: int
    values: dict[str, object]

    def value(self, axis: str, default: object = None) -> object:
        return self.values.get(axis, default)


@dataclass(frozen=True)
class BatchSpec:
    """A validated batch description."""

    path: Path
    model: Path | None
    end_year: int | None
    engine: str
    persons: int
    variables: tuple[str, ...]
    axes: dict[str, list] = field(default_factory=dict)
    draws: int = 200  # the stochastic engine's draws per case
    # the spf-cost engine's costing year, levels and macro files (None: the defaults) and
    # reference data folder (None: as spf-cost finds it)
    year: int | None = None
    levels: Path | None = None
    macro: Path | None = None
    data: Path | None = None

    def cases(self) -> list[Case]:
        """The cartesian product of the axes, the first axis varying slowest."""
        names = list(self.axes)
        grid = itertools.product(*(self.axes[n] for n in names)) if names else [()]
        return [Case(i, dict(zip(names, values, strict=True))) for i, values in enumerate(grid)]

    def coordinate_names(self) -> dict[str, str]:
        """Axis -> coordinate name in the result store: a parameter's own name where no
        other axis has it (``contribution_rate``), else scheme__parameter."""
        last = [a.split(".")[-1] for a in self.axes]
        names = {}
        for axis, own in zip(self.axes, last, strict=True):
            if axis in NAMED_AXES:
                names[axis] = axis
            elif last.count(own) == 1 and own not in NAMED_AXES:
                names[axis] = own
            else:
                names[axis] = axis.replace(".", "__")
        return names

    def overrides(self, case: Case) -> dict[str, dict[str, object]]:
        """The case's parameter values: scheme id -> parameter -> value."""
        out: dict[str, dict[str, object]] = {}
        for axis, value in case.values.items():
            if axis not in NAMED_AXES:
                scheme, parameter = axis.split(".")
                out.setdefault(scheme, {})[parameter] = value
        return out


def costing_spec(countries, year: int, levels: str | Path | None,
                 macro: str | Path | None, data: str | Path | None, store: Path) -> BatchSpec:
    """The batch that costs the floor for ``countries`` (as spf-cost's ``--country``) one a
    case (spfsim.spf.costing_batch), for ``spfsim spf-cost --store``; ``store`` names it in
    messages."""
    from ..spf.costing_batch import COSTING_VARIABLES
    from ..spf.macro import CountryCodes
    from ..spf.run import find_data_dir, reference_data, select_countries

    folder = find_data_dir(data).resolve()
    wpp, _ = reference_data(folder)
    chosen = select_countries(countries, wpp, CountryCodes.load())
    return BatchSpec(store, None, None, SPF_COST, 1, COSTING_VARIABLES, {"country": chosen},
                     year=year, levels=None if levels is None else Path(levels).resolve(),
                     macro=None if macro is None else Path(macro).resolve(), data=folder)


def case_key(spec: BatchSpec, case: Case, model_hash: str, reform_hash: str) -> str:
    """SHA-256 of everything that determines the case's stored result."""
    content = {"model": model_hash, "reform": reform_hash, "values": case.values,
               "end_year": spec.end_year, "engine": spec.engine, "persons": spec.persons,
               "variables": spec.variables, "spfsim": __version__}
    if "stochastic" in (spec.engine, *spec.axes.get("engine", ())):
        content["draws"] = spec.draws  # (absent otherwise: the keys of other batches stay)
    if spec.engine == SPF_COST:
        content["year"] = spec.year
    text = json.dumps(content, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def read_batch(path: str | Path) -> BatchSpec:
    """Read and validate a batch file; raise AssumptionError listing every problem."""
    path = Path(path).resolve()
    log = ProblemLog()
    if not path.exists():
        log.add(path, "file", "batch file not found", None, str(path))
        log.raise_if_any()
    # the guarded reader: a regular file of a model file's size, UTF-8, TOML of bounded
    # nesting, or an AssumptionError naming the file
    data = read_input_toml(path, "model", "batch file")
    for key in data:
        if key not in ("batch", "axes"):
            log.add(path, key, "unknown section; expected [batch] and [axes]", None, key)
    batch = data.get("batch", {})
    axes = data.get("axes", {})
    if not isinstance(batch, dict) or not isinstance(axes, dict):
        log.add(path, "batch", "[batch] and [axes] must be tables", None, None)
        log.raise_if_any()
    spec = _settings(path, batch, log)
    parsed = _axes(path, axes, log)
    engines = set(parsed.get("engine", [spec["engine"]]))
    if "stochastic" in engines and len(engines) > 1:
        log.add(path, "axes.engine", "the stochastic engine's results are summaries over its "
                "draws, other variables than a projection's: run it in a batch of its own",
                None, sorted(engines))
    if "variables" not in batch and engines == {"stochastic"}:
        spec["variables"] = STOCHASTIC_VARIABLES
    _check_costing(path, batch, parsed, engines, spec, log)
    log.raise_if_any()
    return BatchSpec(path, spec["model"], spec["end_year"], spec["engine"], spec["persons"],
                     spec["variables"], parsed, spec["draws"], **spec["costing"])


def _check_costing(path: Path, batch: dict, axes: dict[str, list], engines: set[str],
                   spec: dict, log: ProblemLog) -> None:
    """The spf-cost engine's settings and country axis (``spec["costing"]``), and the
    other engines' refusal of them; the countries are resolved to UN M49 codes."""
    spec["costing"] = {}
    costing = SPF_COST in engines
    if costing and len(engines) > 1:
        log.add(path, "axes.engine", "the floor's costing has other inputs and variables than "
                "a projection: run it in a batch of its own", None, sorted(engines))
    if not costing:
        for key in (*SPF_KEYS, "country"):
            if key in batch or key in axes:
                where = f"axes.{key}" if key in axes else f"batch.{key}"
                log.add(path, where, 'only the floor\'s costing (engine = "spf-cost") takes '
                        "it", None, key)
        return
    if "country" not in axes:
        log.add(path, "axes.country", "the floor's costing needs the countries to cost "
                '(country = ["all"], or codes)', None, None)
        return
    others = [a for a in axes if a != "country"]
    if others:
        log.add(path, f"axes.{others[0]}", "the floor's costing varies only the country", None,
                others)
    from ..spf.costing_batch import COSTING_VARIABLES, costing_settings

    spec["costing"] = costing_settings(path, batch, axes, log)
    if "variables" not in batch:
        spec["variables"] = COSTING_VARIABLES


def _settings(path: Path, batch: dict, log: ProblemLog) -> dict:
    for key in batch:
        if key not in BATCH_KEYS:
            log.add(path, f"batch.{key}", f"unknown entry; known: {list(BATCH_KEYS)}", None, key)
    model = batch.get("model")
    if model is not None and not isinstance(model, str):
        log.add(path, "batch.model", "expected a folder name", None, model)
        model = None
    end_year = batch.get("end_year")
    if end_year is not None and (isinstance(end_year, bool) or not isinstance(end_year, int)):
        log.add(path, "batch.end_year", "expected a year", None, end_year)
        end_year = None
    engine = batch.get("engine", "cohort")
    if engine not in ENGINES:
        log.add(path, "batch.engine", f"expected one of {list(ENGINES)}", None, engine)
    persons = batch.get("persons", 20_000)
    if isinstance(persons, bool) or not isinstance(persons, int) or not 1 <= persons <= 10**8:
        log.add(path, "batch.persons", "expected a whole number of persons, 1 to 1e8", None,
                persons)
    draws = batch.get("draws", 200)
    if isinstance(draws, bool) or not isinstance(draws, int) or not 1 <= draws <= 10**6:
        log.add(path, "batch.draws", "expected a whole number of draws, 1 to 1e6", None, draws)
    variables = batch.get("variables", list(DEFAULT_VARIABLES))
    if not (isinstance(variables, list) and variables
            and all(isinstance(v, str) for v in variables)):
        log.add(path, "batch.variables", "expected a list of variable names", None, variables)
        variables = list(DEFAULT_VARIABLES)
    return {"model": None if model is None else (path.parent / model).resolve(),
            "end_year": end_year, "engine": engine, "persons": persons, "draws": draws,
            "variables": tuple(variables)}


def _axes(path: Path, axes: dict, log: ProblemLog) -> dict[str, list]:
    """Each axis: a non-empty list of distinct values of one type."""
    out = {}
    for name, values in axes.items():
        where = f"axes.{name}"
        if not isinstance(values, list) or not values:
            log.add(path, where, "expected a non-empty list of values", None, values)
            continue
        if name not in NAMED_AXES and name.count(".") != 1:
            log.add(path, where, "an axis is reform, engine, seed, country or "
                    "scheme_id.parameter", None, name)
            continue
        if name == "engine" and any(v not in ENGINES for v in values):
            log.add(path, where, f"engines are {list(ENGINES)}", None, values)
            continue
        if name == "seed" and any(isinstance(v, bool) or not isinstance(v, int) or v < 0
                                  for v in values):
            log.add(path, where, "seeds are whole numbers >= 0", None, values)
            continue
        if name == "reform" and any(not isinstance(v, str) for v in values):
            log.add(path, where, "reforms are file names (or \"baseline\")", None, values)
            continue
        if len({json.dumps(v, sort_keys=True) for v in values}) != len(values):
            log.add(path, where, "values must be distinct", None, values)
            continue
        out[name] = values
    return out
