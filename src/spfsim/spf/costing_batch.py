"""The floor's rapid costing as a batch (spfsim.batch): one country a case.

``spfsim spf-cost --country all --store STORE`` (or a batch file with ``engine =
"spf-cost"`` and a ``country`` axis, ``spfsim batch``) costs every country as a Dask task
and writes each into one zarr store as it finishes, so that a run killed at any point
finishes only the countries missing, a country that fails is recorded while the others
go on, and a changed data, levels or macro file is never reused (the case key covers their
SHA-256). The store converts back to the Dataset of :func:`spfsim.spf.cost_floor` (a
``country`` dimension), the same numbers as the costing of all countries in one pass
(tested), for the netCDF file and the cross-country workbook.

Each case costs its country with :func:`spfsim.spf.run.cost_floor`; a worker reads the
reference data once (:func:`spfsim.spf.run.reference_data`), so a case takes about as long
as a country in the one-pass costing (about 0.05 s).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import AssumptionError, ProblemLog
from .levels import load_levels
from .macro import CountryCodes

# the costing's variables (spfsim.spf.costing.costing_dataset) and the country's names
NAME_VARIABLES = ("country_name", "iso3")
COSTING_VARIABLES = (
    "target_population", "beneficiaries", "benefit_level", "benefit_expenditure",
    "admin_expenditure", "total_expenditure", "cost_to_gdp", "cost_to_revenue",
    "floor_expenditure", "floor_cost_to_gdp", "floor_cost_to_revenue", "population", "births",
    "gdp", "gdp_per_capita", "poverty_line", "government_revenue_share", "poverty_headcount",
    "gdp_per_capita_source", "poverty_line_source", "government_revenue_share_source",
    "poverty_headcount_source", "note", *NAME_VARIABLES)


def costing_settings(path: Path, batch: dict, axes: dict[str, list],
                     log: ProblemLog) -> dict:
    """The spf-cost batch's year and files (relative to the batch file ``path``), checked
    as spf-cost checks them; resolves ``axes["country"]`` to UN M49 codes in place."""
    from .population import check_year
    from .run import DEFAULT_YEAR, find_data_dir, reference_data, select_countries

    def problems(where: str, call):
        try:
            return call()
        except AssumptionError as exc:
            for p in exc.problems:
                log.add(path, where, p.message, None, p.value)
        return None

    year = batch.get("year", DEFAULT_YEAR)
    if isinstance(year, bool) or not isinstance(year, int):
        log.add(path, "batch.year", "expected a year", None, year)
    else:
        problems("batch.year", lambda: check_year(year))
    files = {}
    for key in ("levels", "macro", "data"):
        value = batch.get(key)
        if value is not None and not isinstance(value, str):
            log.add(path, f"batch.{key}", "expected a file name", None, value)
            value = None
        files[key] = None if value is None else (path.parent / value).resolve()
    problems("batch.levels", lambda: load_levels(files["levels"]))
    if files["macro"] is not None:
        from .macro import load_macro_file

        problems("batch.macro", lambda: load_macro_file(files["macro"], CountryCodes.load()))
    folder = problems("batch.data", lambda: find_data_dir(files["data"]))
    if folder is not None:
        wpp, _ = reference_data(folder)
        values = axes["country"]
        spec = "all" if values == ["all"] else [str(v) for v in values]
        chosen = problems("axes.country", lambda: select_countries(spec, wpp,
                                                                   CountryCodes.load()))
        if chosen is not None:
            if len(chosen) != len(values) and values != ["all"]:
                log.add(path, "axes.country", "names a country twice", None, values)
            axes["country"] = chosen
        files["data"] = folder.resolve()
    return {"year": year, **files}


def costing_inputs(spec) -> tuple[str, str]:
    """SHA-256 of the reference data files and of the levels and macro files: what the
    case keys are made of (in place of a model's and a reform's input hashes)."""
    data = hashlib.sha256()
    for sub in ("wpp2024", "social_protection"):
        for file in sorted((spec.data / sub).rglob("*")):
            if file.is_file():
                data.update(str(file.relative_to(spec.data)).encode())
                data.update(file.read_bytes())
    files = hashlib.sha256()
    for file in (spec.levels, spec.macro):
        files.update(b"-" if file is None else file.read_bytes())
    return data.hexdigest(), files.hexdigest()


def cost_case(spec, country: int) -> xr.Dataset:
    """One country's costing, its ``country`` dimension dropped (the batch's ``case``
    holds it) and its names as variables."""
    from .run import cost_floor

    ds = cost_floor([country], int(spec.year), spec.levels, spec.macro, spec.data)
    one = ds.isel(country=0)
    names = {name: xr.DataArray(str(one[name].values)) for name in NAME_VARIABLES}
    return one.drop_vars(["country", *NAME_VARIABLES]).assign(names)


def costing_from_store(store: str | Path, spec) -> xr.Dataset:
    """The costing Dataset (a ``country`` dimension, as spfsim.spf.cost_floor gives it) of
    the countries the costing store of batch ``spec`` holds, with the costing's attrs (the
    first country's version and time)."""
    from .costing import COUNTRY_ATTRS, costing_attrs
    from .macro import load_macro_file
    from .run import source_attrs

    with xr.open_zarr(store) as stored:
        ds = stored.load()
    done = ds["done"].values.astype(bool)
    first = json.loads(str(ds["case_attrs"].values[np.flatnonzero(done)[0]])) if done.any() \
        else {}
    overrides = (None if spec.macro is None
                 else load_macro_file(spec.macro, CountryCodes.load()))
    attrs = {**costing_attrs(load_levels(spec.levels), int(spec.year)),
             **source_attrs(spec.data, overrides)}
    attrs.update({k: first[k] for k in ("spfsim_version", "created") if k in first})
    ds = ds.isel(case=np.flatnonzero(done))
    ds = ds.drop_vars(["case_key", "done", "error", "case_attrs"])
    ds = ds.swap_dims(case="country").drop_vars("case")
    ds["country"] = ds["country"].astype(np.int64)
    ds = ds.set_coords(list(NAME_VARIABLES))
    for name in ds.variables:
        if ds[name].dtype.kind == "U":  # fixed-width text of the store: as costed
            ds[name] = ds[name].astype(object)
    for name, described in COUNTRY_ATTRS.items():
        ds[name].attrs = dict(described)
    ds.attrs = attrs
    return ds

