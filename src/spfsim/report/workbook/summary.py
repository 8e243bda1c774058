"""The Summary sheet: the four figures a minister asks for (cost by guarantee as % of GDP,
the PAYG cost rate against the contribution rate, the reserve ratio and its depletion,
coverage by sex) as charts at the top, then model, horizon, the schemes, their key figures
in the key years, the population, and why a series jumps."""

from __future__ import annotations

import numpy as np
import xarray as xr
from openpyxl.utils import get_column_letter
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
    column_after,
    fit_columns,
    line_chart,
    put,
    put_note,
    sheet_title,
    write_header,
    years_of,
)
from .schemes import depletion_of, reserve_ratio_title

_OVERVIEW_CHART = (15.5, 8.5)  # width, height (cm) of the Summary's charts
_OVERVIEW_ROWS = 18  # rows a Summary chart covers, and a little space
OVERVIEW_FIRST_ROW = 4
#: The first row under the Summary's charts.
SUMMARY_TABLES_ROW = OVERVIEW_FIRST_ROW + 2 * _OVERVIEW_ROWS + 1


def summary_sheet(ws: Worksheet, ds: xr.Dataset, schemes: list[SchemeInfo],
                  sheet_names: dict[str, str]) -> None:
    """Model and horizon, the schemes, their key figures and the population in the key
    years, then why a series jumps, under the space :func:`overview_charts` fills."""
    sheet_title(ws, str(ds.attrs.get("title", "spfsim projection")), "Summary of the projection")
    put_note(ws, 3, "The figures below are drawn from the scheme and Floor sheets; the key "
             "figures follow under them.")
    row = _info_block(ws, ds, SUMMARY_TABLES_ROW)
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
        # a valuation that starts after the base year (its flows history) says so
        *([("Valuation period starts", int(attrs["valuation_start_year"]))]
          if "valuation_start_year" in attrs else []),
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
_FUNDED_INDICATORS = ("paygo_cost_rate", "reserve_ratio")
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
            if var in _FUNDED_INDICATORS and not s.contributory:
                continue  # no insured earnings, no fund: the rows would be empty
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



#: A chart's data on another sheet: (sheet, first data row, last data row,
#: {header: column}), as the scheme and Floor sheets return them.
ChartSource = tuple[Worksheet, int, int, dict[str, int]]


def overview_charts(ws: Worksheet, ds: xr.Dataset, schemes: list[SchemeInfo],
                    scheme_tables: dict[str, ChartSource],
                    floor: ChartSource | None) -> None:
    """The Summary's four charts, two by two from row ``OVERVIEW_FIRST_ROW``, drawn from
    the data on the scheme and Floor sheets: cost by guarantee (% of GDP), the first
    contributory scheme's PAYG cost rate against its contribution rate (% of insured
    earnings) and its reserve ratio (years of expenditure; the depletion year and the
    accumulated shortfall below zero in the title), and coverage by sex of SDG 1.3.1 and of older
    persons. A chart without data (no contributory scheme, no Floor sheet) is left out.
    Call it once the Summary's columns are fitted: the right-hand charts are placed beside
    the left-hand ones."""
    width, height = _OVERVIEW_CHART
    right = column_after(ws, 1, width + 0.3)
    anchors = [f"{letter}{OVERVIEW_FIRST_ROW + k * _OVERVIEW_ROWS}" for k in (0, 1)
               for letter in ("A", get_column_letter(right))]
    charts = []
    if floor is not None:
        sheet, first, last, col = floor
        cost = [(c, h.removeprefix("Cost, ")) for h, c in col.items() if h.startswith("Cost, ")]
        charts.append(("Cost by guarantee (R202), % of GDP", "% of GDP", "0.0%", cost,
                       sheet, first, last))
    funded = [s for s in schemes if s.contributory and s.id in scheme_tables]
    if funded:
        # the largest fund by expenditure: the others' ratios (a short-term scheme's
        # reserve can be worth a hundred years of its spending) would flatten its line
        spending = ds["benefit_expenditure"].sum("year").values
        main = max(funded, key=lambda s: float(np.nan_to_num(spending[s.index])))
        sheet, first, last, col = scheme_tables[main.id]
        charts.append((f"{main.name}: PAYG cost rate against the contribution rate",
                       "% of insured earnings", "0.0%",
                       [(col["PAYG cost rate"], "PAYG cost rate"),
                        (col["Contribution rate"], "Contribution rate")],
                       sheet, first, last))
        charts.append((reserve_ratio_title(main.name, depletion_of(ds, main)),
                       "reserve / annual expenditure", "0.0",
                       [(col["Reserve ratio"], "Reserve ratio")], sheet, first, last))
    if floor is not None:
        sheet, first, last, col = floor
        by_sex = [(c, h.removeprefix("Coverage, ")) for h, c in col.items()
                  if h.startswith("Coverage, ") and h.count(",") >= 2]
        if by_sex:
            charts.append(("Coverage by sex", "% of target group", "0%", by_sex, sheet,
                           first, last))
    for anchor, (title, y_title, fmt, series, sheet, first, last) in zip(
            anchors, charts, strict=False):
        line_chart(ws, title, y_title, fmt, series, first, last, anchor, data=sheet,
                   width=width, height=height)
