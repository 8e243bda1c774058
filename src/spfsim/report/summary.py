"""Plain-language summaries of a model and of a projection (CLI, Excel, notebooks)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Protocol

from ..jumps import THRESHOLD
from ..schemes import SCHEME_TYPES

if TYPE_CHECKING:
    import xarray as xr

    from ..params import ModelInput


class HasInput(Protocol):
    """What the report reads of a model: its validated input (a :class:`spfsim.Model` has
    it; the report sits below the model in the layering and does not import it)."""

    input: ModelInput

AssumptionRow = tuple[str, str, object, str, str]  # section, name, value, unit, description


def _number(value: float) -> int | float:
    """A parameter value as a workbook stores it: whole numbers as integers."""
    value = float(value)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _parameter_rows(section: str, name: str, by_sex: dict, unit: str, note: str
                    ) -> list[AssumptionRow]:
    """One row per value of a numeric parameter, each value a number: one row when it is
    the same for both sexes and never changes; otherwise one per sex (``name (female)``)
    and per effective year (``name from 2030``). Indexation goes to the unit."""
    per_sex = dict(by_sex)
    same = len({(tuple(sorted(v.values.items())), v.indexation.describe()
                 if v.indexation.weights else "") for v in per_sex.values()}) == 1
    groups = [("", next(iter(per_sex.values())))] if same else [
        (f" ({sex})", v) for sex, v in per_sex.items()]
    rows: list[AssumptionRow] = []
    for suffix, dated in groups:
        shown_unit = unit + (f", indexed by {dated.indexation.describe()}"
                             if dated.indexation.weights else "")
        values = sorted(dated.values.items())
        for year, value in values:
            label = f"{name}{suffix}" + (f" from {year}" if len(values) > 1 else "")
            rows.append((section, label, _number(value), shown_unit, note))
    return rows


def describe_assumptions(model: HasInput) -> list[AssumptionRow]:
    """The assumptions a projection used, one row each: model settings, tables, parameters
    (a numeric parameter's values as numbers: one row per sex where they differ and per
    effective year where they change)."""
    inp = model.input
    rows: list[AssumptionRow] = [
        ("model", "name", inp.name, "", inp.title),
        ("model", "base_year", inp.base_year, "calendar year", "first projection year"),
        ("model", "end_year", inp.end_year, "calendar year", "last projection year"),
        ("model", "currency", inp.currency, "", "currency unit of all amounts"),
        ("economy", "gdp", inp.gdp, inp.currency, "nominal GDP in the base year"),
        ("economy", "average_earnings", inp.average_earnings, f"{inp.currency} per year",
         "average annual earnings of covered workers in the base year"),
    ]
    for assumption_set in inp.assumption_sets:
        for key in ("name", "title", "source", "licence"):
            if key in assumption_set:
                rows.append(("assumption set", key, str(assumption_set[key]), "", ""))
    for name, table in sorted(inp.tables.items()):
        dims = ", ".join(table.dims) or "constant"
        units = "; ".join(f"{c} [{u}]" for c, u in table.units.items())
        rows.append(("table", name, table.file.name, units, f"by {dims}"))
    for scheme in inp.schemes:
        specs = SCHEME_TYPES[scheme.type].PARAMETERS
        section = f"scheme {scheme.id} ({scheme.type})"
        for pname, spec in specs.items():
            note = spec.description + (f" [{spec.reference}]" if spec.reference else "")
            if pname in scheme.references:  # the model's own source in law
                note += f"; source: {scheme.references[pname]}"
            if pname in scheme.indexations:
                rows.append((section, pname, scheme.indexations[pname].describe(), spec.unit,
                             note))
            elif pname in scheme.choices:
                rows.append((section, pname, scheme.choices[pname], spec.unit, note))
            else:
                rows += _parameter_rows(section, pname, scheme.numbers[pname], spec.unit,
                                        note)
    return rows


#: The key figures of each scheme: variables of the Dataset, (year, scheme).
KEY_FIGURES = ("paygo_cost_rate", "cost_to_gdp", "reserve_ratio")


def key_figures(ds: xr.Dataset) -> xr.Dataset:
    """The key figures of a projection in its key years (base year, base year + 25 when
    within the horizon, end year; :func:`~spfsim.report.series.key_years`).

    Per scheme (year, scheme): ``paygo_cost_rate`` (fraction of insured earnings; NaN for a
    scheme without contributions), ``cost_to_gdp`` (fraction of GDP), ``reserve_ratio``
    (reserve / the year's expenditure, a multiple); (scheme): ``depletion_year`` (NaN when the
    reserve lasts the horizon or there is no fund) and ``scheme_kind``; (year): ``population``
    (persons, mid-year) and ``old_age_dependency_ratio`` (65+ / 15-64, a fraction). Units and
    long names are the Dataset's. The Summary sheet of the workbook shows these figures.
    """
    from .dataset import check_single_projection
    from .series import key_years, population_by_age_group

    check_single_projection(ds, (*KEY_FIGURES, "population"), "the summary")
    shown = key_years(ds)
    out = ds[list(KEY_FIGURES)].sel(year=shown)
    if "depletion_year" in ds.data_vars:
        out["depletion_year"] = ds["depletion_year"]
    groups = population_by_age_group(ds).sel(year=shown)
    out["population"] = groups["total"]
    out["old_age_dependency_ratio"] = groups["old_age_dependency_ratio"]
    keep = {"year", "scheme", "scheme_name", "scheme_type", "scheme_kind"}
    out = out.drop_vars([c for c in out.coords if c not in keep])
    out.attrs = {k: ds.attrs[k] for k in ("title", "model", "engine", "currency",
                                          "price_basis", "base_year", "end_year")
                 if k in ds.attrs}
    return out


def _at(da: xr.DataArray, year: int) -> float:
    return float(da.sel(year=year))


def summary_lines(ds: xr.Dataset) -> list[str]:
    """A short summary of a projection for the end of a command-line run."""
    base, end = int(ds.attrs["base_year"]), int(ds.attrs["end_year"])
    pop = ds["population"].sum(("age", "sex"))
    lines = [
        f"{ds.attrs.get('title', 'projection')} ({base}-{end}, {ds.attrs.get('engine')} "
        "engine)",
        f"  population: {_at(pop, base) / 1e6:,.2f} million in {base}, "
        f"{_at(pop, end) / 1e6:,.2f} million in {end}",
    ]
    for scheme in ds["scheme"].values:
        s = ds.sel(scheme=scheme)
        cost = s["cost_to_gdp"]
        line = (f"  {scheme} ({str(s['scheme_kind'].values).replace('_', '-')}): cost "
                f"{_at(cost, base):.2%} of GDP in {base}, {_at(cost, end):.2%} in {end}")
        if s["scheme_kind"] == "contributory":
            payg = s["paygo_cost_rate"]
            depletion = float(s["depletion_year"])
            line += (f"; PAYG cost rate {_at(payg, base):.1%} -> {_at(payg, end):.1%}; "
                     + ("reserve not depleted by " + str(end) if math.isnan(depletion)
                        else f"reserve depleted in {int(depletion)}"))
        lines.append(line)
    return lines + jump_lines(ds)


def jump_lines(ds: xr.Dataset) -> list[str]:
    """Why a series jumps: the messages of ``ds.attrs["jumps"]`` (written by every
    projection, see :mod:`spfsim.jumps`) under a heading; none for a Dataset without."""
    if "jumps" not in ds.attrs:
        return []
    messages = [m for m in str(ds.attrs["jumps"]).splitlines() if m.strip()]
    if not messages:
        return [f"  no series jumps: every year-on-year change is within {THRESHOLD:.0%} "
                "of the trend of the years around it"]
    return [f"  why a series jumps ({len(messages)} year-on-year changes more than "
            f"{THRESHOLD:.0%} off the trend of the years around them):",
            *(f"    {m}" for m in messages)]

