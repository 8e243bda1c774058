"""The Population sheet: mid-year population by broad age group and sex, flows during the
year, old-age dependency ratio and life expectancy."""

from __future__ import annotations

import numpy as np
import xarray as xr
from openpyxl.worksheet.worksheet import Worksheet

from ..series import population_by_age_group
from .cells import (
    FMT_COUNT,
    FMT_DECIMAL,
    FMT_PERCENT,
    attr_units,
    charted_year_table,
    sheet_title,
    total_over,
    years_of,
)


def population_columns(ds: xr.Dataset) -> list[tuple[str, str, str, np.ndarray]]:
    """The Population sheet's columns: (header, units, format, values by year)."""
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
    return cols


def population_sheet(ws: Worksheet, ds: xr.Dataset) -> None:
    sheet_title(ws, "Population", "Mid-year population, flows during the year, life expectancy")
    charted_year_table(ws, years_of(ds), population_columns(ds),
                       "Population by broad age group", "persons", "#,##0",
                       ("Total population", "Aged 0-14", "Aged 15-64", "Aged 65+"))

