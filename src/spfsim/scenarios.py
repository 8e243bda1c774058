"""Reform scenarios: a reform file overrides scheme parameters of a model, and
:func:`compare` sets a reform's results beside its baseline's.

A reform file (TOML, see docs/model-format.md, "Reforms") names the reform and replaces
whole parameters of schemes that exist in the model::

    [reform]
    name = "higher-minimum"
    title = "Minimum pension raised to 8,000 LCU from 2027"

    [schemes.pension.parameters]
    minimum_pension = { values = { 2025 = 6000.0, 2027 = 8000.0 }, indexation = "prices" }

The override values are parsed by the same parsers as ``model.toml`` and every problem is
reported against the reform file (file, field, line, value). Applying a reform gives a new
:class:`~spfsim.params.ModelInput`; the baseline's is left untouched. The reform file enters
the model's input hash, and a projection of the reformed model records the reform in its
attrs (``reform``, ``reform_title``, ``reform_file``, ``reform_hash``).

Typical use::

    baseline = spfsim.load_model()
    reformed = baseline.with_reform("higher-minimum-pension")   # models/default/reforms/
    diff = compare(baseline.project(), reformed.project())
    diff["cost_to_gdp_difference"].sel(scheme="pension")
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from .errors import ProblemLog
from .input_files import read_input_bytes
from .params.model_file import (
    ID_PATTERN,
    ModelInput,
    SchemeInput,
    _get,
    _read_toml,
    parse_scheme_parameter,
    toml_line_finder,
)
from .results.registry import check_single_projection

__all__ = [
    "GUARANTEE_VARIABLES",
    "OPTIONAL_VARIABLES",
    "REFORMS_DIR",
    "SCENARIOS",
    "SCHEME_VARIABLES",
    "Reform",
    "apply_reform",
    "available_reforms",
    "compare",
    "find_reform_file",
]

REFORMS_DIR = "reforms"  # a model's bundled reform files: <model folder>/reforms/*.toml
REFORM_KEYS = ("name", "title", "description")
SCENARIOS = ("baseline", "reform")

#: Yearly results compared per scheme; beneficiaries and contributors are summed over age
#: and sex, the others are compared as they are.
SCHEME_VARIABLES = ("benefit_expenditure", "contribution_income", "reserve", "reserve_ratio",
                    "paygo_cost_rate", "cost_to_gdp", "beneficiaries", "contributors",
                    "average_benefit", "depletion_year")
#: Results compared per R202 guarantee.
GUARANTEE_VARIABLES = ("coverage_rate", "cost_to_gdp_by_guarantee")
_SUMMED = ("beneficiaries", "contributors")
#: Results compared when both projections have them (a model with a fund, a horizon long
#: enough for complete birth cohorts): the sustainability and equity measures the report
#: shows. ``cohort_complete`` (a flag) is carried for both scenarios without a difference.
OPTIONAL_VARIABLES = ("general_average_premium", "actuarial_balance", "cohort_irr",
                      "money_worth_ratio", "cohort_complete")
_FLAGS = ("cohort_complete",)

# Dataset attrs that must agree for two projections to be compared (when either has them).
_MUST_MATCH = ("model", "engine", "seed", "currency", "price_basis", "persons", "alignment",
               "labour_persistence", "earnings_permanent_sd", "earnings_transitory_sd",
               "person_file_hash")
# Dataset attrs of a single run that the comparison does not carry over as they are.
_PER_RUN = ("title", "created", "input_hash", "reform", "reform_title", "reform_file",
            "reform_hash", "model_path", "history")


# --------------------------------------------------------------------------- reform files


@dataclass(frozen=True)
class Reform:
    """A validated reform file.

    ``overrides`` maps scheme id -> parameter name -> the value as written in the file
    (whole-parameter replacements, in the units of ``model.toml``). ``sha256`` is the hash
    of the file's bytes.
    """

    name: str
    title: str
    description: str
    path: Path
    sha256: str
    overrides: dict[str, dict[str, object]]

    def attrs(self) -> dict[str, str]:
        """The Dataset attrs that record this reform in a projection's results."""
        return {"reform": self.name, "reform_title": self.title,
                "reform_file": str(self.path), "reform_hash": f"sha256:{self.sha256}"}

    def changes(self) -> list[str]:
        """The overridden parameters as ``scheme.parameter``, in file order."""
        return [f"{scheme}.{name}" for scheme, params in self.overrides.items()
                for name in params]


def available_reforms(model_dir: str | Path) -> list[Path]:
    """The reform files shipped with a model: ``<model folder>/reforms/*.toml``, sorted."""
    folder = Path(model_dir) / REFORMS_DIR
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


def find_reform_file(reform: str | Path, model_dir: str | Path) -> Path:
    """The reform file a user means: ``reform`` itself when it is a file, else, for a bare
    name such as ``higher-minimum-pension`` (``.toml`` optional), the file of that name in
    the model's ``reforms/`` folder. Returns ``Path(reform)`` when neither exists."""
    path = Path(reform)
    if path.is_file():
        return path.resolve()
    if len(path.parts) == 1:
        folder = Path(model_dir) / REFORMS_DIR
        for candidate in (folder / path.name, folder / f"{path.name}.toml"):
            if candidate.is_file():
                return candidate.resolve()
    return path


def apply_reform(model_input: ModelInput, reform: str | Path) -> tuple[ModelInput, Reform]:
    """Read and validate a reform file against ``model_input``; return the reformed input
    and the :class:`Reform`.

    ``reform`` is a path, or the name of a file in the model's ``reforms/`` folder (see
    :func:`find_reform_file`). Every problem (missing or unparsable file, unknown section or
    key, a scheme id the model lacks, a parameter the scheme's type does not have, a bad
    value or a cross-field rule it breaks) is raised together as one
    :class:`~spfsim.errors.AssumptionError` whose problems name the reform file, the field
    (e.g. ``schemes.pension.parameters.minimum_pension``), the line and the value.

    The returned input is a deep copy that shares nothing with ``model_input`` (which is
    not modified): its overridden schemes hold the reform's values, its ``files`` end with
    the reform file (so the input hash covers it), its ``raw`` holds the overrides.
    """
    log = ProblemLog()
    path = find_reform_file(reform, model_input.path)
    if not path.exists() and not path.is_symlink():  # a pipe or device: refused when read
        known = [p.stem for p in available_reforms(model_input.path)]
        hint = f"; the model's reforms/ folder holds {known}" if known else ""
        log.add(path, "file", f"reform file not found{hint}", None, str(reform))
        log.raise_if_any()
    data = _read_toml(path, log)
    log.raise_if_any()
    assert data is not None

    for key in data:
        if key not in ("reform", "schemes"):
            log.add(path, key, "unknown section; a reform file holds [reform] and "
                    "[schemes.<scheme id>.parameters]", None, key)
    name, title, description = _reform_table(data.get("reform"), path, log)
    reformed, overrides = _reformed_schemes(data, model_input, path, log)
    log.locate_rows(path, toml_line_finder(path))
    log.raise_if_any()

    new_input = copy.deepcopy(model_input)  # shares nothing with the baseline
    new_input.schemes = [reformed.get(s.id, s) for s in new_input.schemes]
    new_input.files.append(path)
    for entry in new_input.raw.get("schemes", []):
        if isinstance(entry, dict) and entry.get("id") in reformed:
            entry.setdefault("parameters", {}).update(copy.deepcopy(overrides[entry["id"]]))
            reformed[entry["id"]].raw = entry
    digest = hashlib.sha256(read_input_bytes(path, "model", "reform file")).hexdigest()
    return new_input, Reform(str(name), str(title), str(description), path, digest, overrides)


def _reform_table(meta: object, path: Path, log: ProblemLog
                  ) -> tuple[str | None, str | None, str | None]:
    """The reform file's [reform] table: its name, title and description (problems
    logged)."""
    if not isinstance(meta, dict):
        log.add(path, "reform", "a reform file needs a [reform] table with its name (and "
                "title)", None, meta)
        return None, None, None
    name = _get(meta, "name", str, path, "reform", log)
    if isinstance(name, str) and not ID_PATTERN.match(name.replace("-", "_")):
        log.add(path, "reform.name", "use lower-case letters, digits, '-' or '_'", None,
                name)
    title = _get(meta, "title", str, path, "reform", log, default=name or "")
    description = _get(meta, "description", str, path, "reform", log, default="")
    for key in meta:
        if key not in REFORM_KEYS:
            log.add(path, f"reform.{key}", f"unknown entry; known: {list(REFORM_KEYS)}",
                    None, key)
    return name, title, description


def _reformed_schemes(data: dict, model_input: ModelInput, path: Path, log: ProblemLog
                      ) -> tuple[dict[str, SchemeInput], dict[str, dict]]:
    """The schemes the reform file's [schemes.<id>.parameters] tables change (copies
    holding the new values) and their overrides as written, by scheme id."""
    listed = isinstance(data.get("schemes"), list)
    if listed:
        log.add(path, "schemes", "a reform names each scheme by its id: write "
                "[schemes.<scheme id>.parameters] tables, not [[schemes]]", None, "[[schemes]]")
    raw_schemes = {} if listed else _get(data, "schemes", dict, path, "", log, default={})
    if raw_schemes == {} and not listed:
        log.add(path, "schemes", "the reform changes nothing: give at least one "
                "[schemes.<scheme id>.parameters] table", None, None)
    by_id = {s.id: s for s in model_input.schemes}
    reformed, overrides = {}, {}
    for scheme_id, entry in (raw_schemes or {}).items():
        where = f"schemes.{scheme_id}"
        if scheme_id not in by_id:
            log.add(path, where, f"the model {model_input.name!r} has no scheme with this id; "
                    f"its schemes: {sorted(by_id)}", None, scheme_id)
            continue
        if not isinstance(entry, dict):
            log.add(path, where, "expected a table with 'parameters'", None, entry)
            continue
        for key in entry:
            if key != "parameters":
                log.add(path, f"{where}.{key}", "unknown entry; a reform changes only the "
                        f"scheme's parameters, under [schemes.{scheme_id}.parameters]", None,
                        key)
        params = _get(entry, "parameters", dict, path, where, log)
        if params is None:
            continue
        if not params:
            log.add(path, f"{where}.parameters", "no parameter given", None, None)
            continue
        scheme = copy.deepcopy(by_id[scheme_id])
        override_parameters(scheme, params, where, model_input.base_year, path, log)
        reformed[scheme_id], overrides[scheme_id] = scheme, dict(params)
    return reformed, overrides


def override_parameters(scheme: SchemeInput, params: Mapping[str, object], where: str,
                        base_year: int, path: Path, log: ProblemLog) -> None:
    """Parse ``params`` (parameter name -> value as written in a model or reform file) into
    ``scheme`` (a copy: it is changed), then check the rules across its parameters with the
    overrides applied; problems logged against ``path`` at ``where``
    (``schemes.<id>``). A reform file and :meth:`spfsim.Model.with_parameters` both change a
    scheme this way."""
    from .schemes import SCHEME_TYPES  # schemes sit above params in the layering

    scheme_type = SCHEME_TYPES[scheme.type]
    valid = True
    for key, raw in params.items():
        field_name = f"{where}.parameters.{key}"
        spec = scheme_type.PARAMETERS.get(key)
        if spec is None:
            log.add(path, field_name, f"unknown parameter for type '{scheme.type}'; "
                    f"known: {sorted(scheme_type.PARAMETERS)}", None, key)
            valid = False
        elif not parse_scheme_parameter(scheme, spec, raw, field_name, path, base_year, log):
            valid = False
    if valid:  # rules across parameters, on the model's values with the overrides
        for pname, message, value in scheme_type.cross_check(scheme.numbers, scheme.choices):
            log.add(path, f"{where}.parameters.{pname}",
                    f"{message} (with the reform applied to the model)", None, value)


# --------------------------------------------------------------------------- comparison


def _check_comparable(baseline: xr.Dataset, reform: xr.Dataset) -> None:
    """Raise ValueError unless the two projections can be set side by side."""
    required = (*SCHEME_VARIABLES, *GUARANTEE_VARIABLES)
    for label, ds in zip(SCENARIOS, (baseline, reform), strict=True):
        check_single_projection(ds, required, f"compare ({label} Dataset)")
    for key in _MUST_MATCH:
        if key in baseline.attrs or key in reform.attrs:
            left, right = baseline.attrs.get(key), reform.attrs.get(key)
            if str(left) != str(right):
                raise ValueError(
                    f"cannot compare projections with different {key!r}: baseline {left!r}, "
                    f"reform {right!r}; run both with the same model, engine and settings "
                    "(the same seed gives common random numbers in the micro engine)")
    b_years, r_years = baseline["year"].values, reform["year"].values
    if not np.array_equal(b_years, r_years):
        raise ValueError(
            f"cannot compare projections over different years: baseline {int(b_years[0])}-"
            f"{int(b_years[-1])}, reform {int(r_years[0])}-{int(r_years[-1])}")
    b_schemes = [str(s) for s in baseline["scheme"].values]
    r_schemes = [str(s) for s in reform["scheme"].values]
    if sorted(b_schemes) != sorted(r_schemes) or len(set(b_schemes)) != len(b_schemes):
        raise ValueError(f"cannot compare projections with different schemes: baseline "
                         f"{b_schemes}, reform {r_schemes}")
    for coord in ("scheme_type", "scheme_kind"):
        if coord in baseline.coords and coord in reform.coords:
            left = baseline[coord].to_series().to_dict()
            right = reform[coord].to_series().to_dict()
            if left != right:
                raise ValueError(f"cannot compare projections whose schemes differ in "
                                 f"{coord}: baseline {left}, reform {right}")
    if [str(g) for g in baseline["guarantee"].values] != [
            str(g) for g in reform["guarantee"].values]:
        raise ValueError("cannot compare projections with different guarantees")


def _key_variable(ds: xr.Dataset, name: str, schemes: list[str]) -> xr.DataArray:
    """A compared variable of one projection: summed over age and sex where it has them,
    schemes in ``schemes``' order, without per-run coordinates."""
    da = ds[name]
    if name in _SUMMED:
        da = da.sum([d for d in ("age", "sex") if d in da.dims], keep_attrs=True)
    if "scheme" in da.dims:
        da = da.sel(scheme=schemes)
    keep = set(da.dims)
    return da.drop_vars([c for c in da.coords if c not in keep])


def compare(baseline: xr.Dataset, reform: xr.Dataset) -> xr.Dataset:
    """The reform's key results beside the baseline's, and their difference.

    Both Datasets must be single projections of the same model (attrs ``model``), by the
    same engine with the same settings (``seed``, ``persons``, ...), over the same years and
    schemes; otherwise ``ValueError`` says what differs.

    Returns a Dataset with dimensions ``scenario`` ("baseline", "reform"), ``year``,
    ``scheme`` and ``guarantee``. For each of :data:`SCHEME_VARIABLES` (per scheme;
    ``beneficiaries`` and ``contributors`` summed over age and sex) and
    :data:`GUARANTEE_VARIABLES` (per R202 guarantee), ``NAME`` holds both scenarios and
    ``NAME_difference`` the reform minus the baseline, in the same units (money: currency
    per year, nominal; rates: fractions, so a difference of 0.001 in ``cost_to_gdp`` is
    0.1 percentage point of GDP; ``depletion_year_difference`` in years, NaN when either
    reserve is not depleted within the horizon). Every variable has ``units`` and
    ``long_name``; the attrs record the model, engine, seed, the reform (``reform``,
    ``reform_title``, ``reform_file``, ``reform_hash``) and both input hashes. Each of
    :data:`OPTIONAL_VARIABLES` that both projections have is compared the same way (the
    ``cohort_complete`` flag without a difference).
    """
    _check_comparable(baseline, reform)
    schemes = [str(s) for s in baseline["scheme"].values]
    scenario = xr.DataArray(list(SCENARIOS), dims="scenario",
                            attrs={"long_name": "scenario: the baseline model, or the model "
                                   "with the reform applied"})
    data: dict[str, xr.DataArray] = {}
    optional = [n for n in OPTIONAL_VARIABLES if n in baseline.data_vars
                and n in reform.data_vars]
    for name in (*SCHEME_VARIABLES, *GUARANTEE_VARIABLES, *optional):
        base = _key_variable(baseline, name, schemes)
        new = _key_variable(reform, name, schemes)
        units = str(baseline[name].attrs.get("units", ""))
        long_name = str(baseline[name].attrs.get("long_name", name))
        if name in _SUMMED:
            long_name += " (all ages, both sexes)"
        both = xr.concat([base, new], dim=scenario, coords="minimal", compat="override",
                         combine_attrs="drop")
        both.attrs = {"units": units, "long_name": long_name}
        data[name] = both
        if name in _FLAGS:
            continue
        difference = new - base
        difference.attrs = {
            "units": "years" if name == "depletion_year" else units,
            "long_name": f"reform minus baseline: {long_name}"}
        data[f"{name}_difference"] = difference
    out = xr.Dataset(data)
    out = out.assign_coords(scenario=scenario)
    for coord in ("scheme_name", "scheme_type", "scheme_kind"):
        if coord in baseline.coords:
            out = out.assign_coords({coord: ("scheme", [str(v) for v in
                                                        baseline[coord].sel(scheme=schemes)
                                                        .values])})
    for coord in ("year", "scheme", "guarantee"):
        out[coord].attrs = dict(baseline[coord].attrs)
    out.attrs = _comparison_attrs(baseline, reform)
    return out


def _comparison_attrs(baseline: xr.Dataset, reform: xr.Dataset) -> dict[str, object]:
    shared = {k: v for k, v in baseline.attrs.items()
              if k not in _PER_RUN and k in reform.attrs and str(reform.attrs[k]) == str(v)}
    name = str(reform.attrs.get("reform", "none"))
    title = str(reform.attrs.get("reform_title", name))
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    # CF history: this step first, then the audit trails of the two projections
    history = "\n".join([f"{created}: spfsim compared the reform '{name}' with its baseline",
                         *(str(ds.attrs["history"]) for ds in (reform, baseline)
                           if "history" in ds.attrs)])
    attrs: dict[str, object] = {
        "title": f"spfsim comparison: {title} against the baseline "
                 f"({baseline.attrs.get('model', 'model')})",
        **shared,
        "model_path": str(baseline.attrs.get("model_path", "")),
        "created": created,
        "history": history,
        "difference": "reform minus baseline",
        "baseline_input_hash": str(baseline.attrs.get("input_hash", "")),
        "reform_input_hash": str(reform.attrs.get("input_hash", "")),
        "reform": name,
        "reform_title": title,
        "reform_file": str(reform.attrs.get("reform_file", "")),
        "reform_hash": str(reform.attrs.get("reform_hash", "")),
    }
    if "reform" in baseline.attrs:  # the "baseline" is itself a reform
        attrs["baseline_reform"] = str(baseline.attrs["reform"])
        attrs["baseline_reform_hash"] = str(baseline.attrs.get("reform_hash", ""))
    return attrs
