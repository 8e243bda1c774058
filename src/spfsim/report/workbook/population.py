"""The Population sheet: mid-year population by broad age group and sex, flows during the
year, old-age dependency ratio and life expectancy."""

from __future__ import annotations

import numpy as np
import xarray as xr
from openpyxl.worksheet.worksheet import Worksheet

from ..series import population_by_age_group
from .cells import (
    CHART_ROWS,
    FMT_COUNT,
    FMT_DECIMAL,
    FMT_PERCENT,
    attr_units,
    fit_columns,
    line_chart,
    sheet_title,
    total_over,
    year_table,
    years_of,
)


def population_table(ds: xr.Dataset) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """Headers, units, formats and a (year, column) array for the Population sheet."""
    sexes = [str(s) for s in ds["sex"].values]
    by_sex = total_over(ds["population"], ("year", "sex"))
    groups = population_by_age_group(ds)
    cols: list[tuple[str, str, str, np.ndarray]] = [
        ("Total population", "persons", FMT_COUNT, groups["total"].values),
        *((f"{s.capitalize()}", "persons", FMT_COUNT, by_sex.sel(sex=s).values) for s in sexes),
        ("Aged 0-14", "persons", FMT_COUNT, groups["aged_0_14"].values),
        ("Aged 15-64", "persons", FMT_COUNT, groups["aged_15_64"].values),
        ("Aged 65+", "persons", FMT_COUNT, groups["aged_65_plus"].values),
        ("Old-age dependency ratio (65+ / 15-64)", "%", FMT_PERCENT,
         groups["old_age_dependency_ratio"].values),
        ("Births", attr_units(ds, "births"), FMT_COUNT, total_over(ds["births"], ("year",)).values),
        ("Deaths", attr_units(ds, "deaths"), FMT_COUNT, total_over(ds["deaths"], ("year",)).values),
        ("Net migration", attr_units(ds, "net_migration"), FMT_COUNT,
         total_over(ds["net_migration"], ("year",)).values),
        *((f"Life expectancy at birth, {s}", attr_units(ds, "life_expectancy"), FMT_DECIMAL,
           ds["life_expectancy"].sel(sex=s).transpose("year").values) for s in sexes),
    ]
    headers = [c[0] for c in cols]
    units = [c[1] for c in cols]
    formats = [c[2] for c in cols]
    table = np.column_stack([np.asarray(c[3], dtype=float) for c in cols])
    return headers, units, formats, table


def population_sheet(ws: Worksheet, ds: xr.Dataset) -> None:
    sheet_title(ws, "Population", "Mid-year population, flows during the year, life expectancy")
    headers, units, formats, table = population_table(ds)
    years = years_of(ds)
    first = year_table(ws, years, headers, units, formats, table,
                       header_row=3 + CHART_ROWS)
    last = first + len(years) - 1
    fit_columns(ws, skip_rows=2, minimum=10, maximum=22)
    ws.freeze_panes = None  # the chart above the table would be frozen with its header
    col = {label: 2 + j for j, label in enumerate(headers)}
    line_chart(ws, "Population by broad age group", "persons", "#,##0",
               [(col[h], h) for h in ("Total population", "Aged 0-14", "Aged 15-64",
                                      "Aged 65+")],
               first, last, "A3")

