"""The Summary sheet: model, horizon, the schemes, their key figures in the key years, the
population, and why a series jumps."""

from __future__ import annotations

import numpy as np
import xarray as xr
from openpyxl.worksheet.worksheet import Worksheet

from ...jumps import THRESHOLD
from ..dataset import (
    SchemeInfo,
)
from ..summary import key_figures
from .cells import (
    BOLD,
    FMT_COUNT,
    FMT_PERCENT,
    FMT_RATIO,
    FMT_YEAR,
    HEADING,
    fit_columns,
    put,
    put_note,
    sheet_title,
    write_header,
    years_of,
)


def summary_sheet(ws: Worksheet, ds: xr.Dataset, schemes: list[SchemeInfo],
                  sheet_names: dict[str, str]) -> None:
    """Model and horizon, the schemes, their key figures and the population in the key
    years, then why a series jumps."""
    sheet_title(ws, str(ds.attrs.get("title", "spfsim projection")), "Summary of the projection")
    row = _info_block(ws, ds, 3)
    row = _schemes_block(ws, ds, schemes, sheet_names, row + 1)
    figures = key_figures(ds)
    row = _key_figures_block(ws, figures, schemes, row + 1)
    row = _population_block(ws, figures, row + 1)
    fit_columns(ws, skip_rows=2)
    ws.column_dimensions["A"].width = max(ws.column_dimensions["A"].width or 0, 16)
    # after fitting the columns: the sentences run on over the empty cells to their right
    jumps_block(ws, ds, row + 1)


def _info_block(ws: Worksheet, ds: xr.Dataset, row: int) -> int:
    """Model, horizon, currency, price basis, version; return the next row."""
    attrs = ds.attrs
    years = years_of(ds)
    info = [
        ("Model", attrs.get("model", "")),
        ("Base year", years[0]),
        ("End year", years[-1]),
        ("Currency", attrs.get("currency", "")),
        ("Price basis", attrs.get("price_basis", "")),
        ("spfsim version", attrs.get("spfsim_version", "")),
        ("Created", attrs.get("created", "")),
    ]
    for key, value in info:
        put(ws, row, 1, key, font=BOLD)
        put(ws, row, 2, value, FMT_YEAR if isinstance(value, int) else None)
        row += 1
    return row


def _shown_depletion(scheme: SchemeInfo, year: float) -> object:
    if not scheme.contributory:
        return "n/a (no fund)"  # financed from the budget each year
    return int(year) if np.isfinite(year) else "not within horizon"


def _schemes_block(ws: Worksheet, ds: xr.Dataset, schemes: list[SchemeInfo],
                   sheet_names: dict[str, str], row: int) -> int:
    """One row per scheme: id, name, type, kind, depletion year, its sheet; next row."""
    put(ws, row, 1, "Schemes", font=HEADING)
    row += 1
    write_header(ws, row, ["Scheme id", "Name", "Type", "Kind", "Depletion year", "Sheet"])
    row += 1
    depletion = ds["depletion_year"].values if "depletion_year" in ds else None
    for s in schemes:
        year = float(depletion[s.index]) if depletion is not None else float("nan")
        for j, value in enumerate((s.id, s.name, s.type, s.kind.replace("_", "-"),
                                   _shown_depletion(s, year), sheet_names[s.id])):
            put(ws, row, 1 + j, value, FMT_YEAR if j == 4 else None)
        row += 1
    if not schemes:
        put(ws, row, 1, "(no schemes in this projection)")
        row += 1
    return row


_KEY_INDICATORS = (  # (label, variable of key_figures, unit, format)
    ("PAYG cost rate", "paygo_cost_rate", "% of insured earnings", FMT_PERCENT),
    ("Cost % of GDP", "cost_to_gdp", "% of GDP", FMT_PERCENT),
    ("Reserve ratio", "reserve_ratio", "x annual expenditure", FMT_RATIO),
)
_KEY_POPULATION = (
    ("Total population", "population", "persons", FMT_COUNT),
    ("Old-age dependency ratio (65+ / 15-64)", "old_age_dependency_ratio", "%", FMT_PERCENT),
)


def _key_figures_block(ws: Worksheet, figures: xr.Dataset, schemes: list[SchemeInfo],
                       row: int) -> int:
    """PAYG cost rate, cost % of GDP and reserve ratio of each scheme in the key years."""
    shown = [int(y) for y in figures["year"].values]
    put(ws, row, 1, "Key figures by scheme", font=HEADING)
    row += 1
    write_header(ws, row, ["Scheme id", "Name", "Indicator", "Unit", *map(str, shown)])
    row += 1
    for s in schemes:
        for label, var, unit, fmt in _KEY_INDICATORS:
            series = figures[var].isel(scheme=s.index).transpose("year").values
            for j, value in enumerate((s.id, s.name, label, unit)):
                put(ws, row, 1 + j, value)
            for j, value in enumerate(series):
                put(ws, row, 5 + j, float(value), fmt)
            row += 1
    return row


def _population_block(ws: Worksheet, figures: xr.Dataset, row: int) -> int:
    """Total population and old-age dependency ratio in the key years; next row."""
    shown = [int(y) for y in figures["year"].values]
    put(ws, row, 1, "Population", font=HEADING)
    row += 1
    write_header(ws, row, ["Indicator", "", "", "Unit", *map(str, shown)])
    row += 1
    for label, var, unit, fmt in _KEY_POPULATION:
        put(ws, row, 1, label)
        put(ws, row, 4, unit)
        for j, value in enumerate(figures[var].values):
            put(ws, row, 5 + j, float(value), fmt)
        row += 1
    return row


def jumps_block(ws: Worksheet, ds: xr.Dataset, row: int) -> int:
    """Why a series jumps: the messages of ``attrs["jumps"]`` (spfsim.jumps), one a row;
    nothing for a Dataset without them. Return the next row."""
    if "jumps" not in ds.attrs:
        return row
    messages = [m for m in str(ds.attrs["jumps"]).splitlines() if m.strip()]
    put(ws, row, 1, "Why a series jumps", font=HEADING)
    row = put_note(ws, row + 1, f"Year-on-year changes more than {THRESHOLD:.0%} off the "
                   "trend of the years around them (money, persons and rates of each scheme), "
                   "with the cause where the model knows it.")
    if not messages:
        return put_note(ws, row, "No series jumps.")
    for message in messages:
        put(ws, row, 1, message)
        row += 1
    return row

