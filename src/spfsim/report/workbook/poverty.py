"""The Poverty sheet (micro engine with families and a [poverty] section): household poverty
before and after the transfers, of children and older persons, the share of the poverty gap
the floor closes and the Gini coefficient (R202 para. 8(b); ILC 2021 para. 15)."""

from __future__ import annotations

import numpy as np
import xarray as xr
from openpyxl.worksheet.worksheet import Worksheet

from .cells import (
    FMT_COUNT,
    FMT_DECIMAL,
    FMT_PERCENT,
    attr_units,
    charted_year_table,
    sheet_title,
    years_of,
)

STAGE_LABELS = {"market": "market income", "before_floor": "before the floor's transfers",
                "disposable": "disposable income"}


def has_poverty(ds: xr.Dataset) -> bool:
    return "persons_in_poverty" in ds


def _rate(ds: xr.Dataset, stage: str, **where) -> np.ndarray:
    """Share of the persons measured (of ``where``'s sex and age group, summed over the
    others) in poor households at an income stage."""
    poor = ds["persons_in_poverty"].sel(income_stage=stage, **where)
    people = ds["poverty_population"].sel(**where)
    other = [d for d in people.dims if d != "year"]
    with np.errstate(invalid="ignore", divide="ignore"):
        return (poor.sum(other) / people.sum(other)).transpose("year").values


def poverty_columns(ds: xr.Dataset) -> list[tuple[str, str, str, np.ndarray]]:
    """The Poverty sheet's columns: (header, units, format, values by year)."""
    cols: list[tuple[str, str, str, np.ndarray]] = [
        ("Poverty line", attr_units(ds, "household_poverty_line"), FMT_COUNT,
         ds["household_poverty_line"].values),
        *((f"Poverty rate, {label}", "%", FMT_PERCENT, _rate(ds, stage))
          for stage, label in STAGE_LABELS.items()),
        ("Children 0-14, disposable income", "%", FMT_PERCENT,
         _rate(ds, "disposable", age_group="0-14")),
        ("Women 65+, disposable income", "%", FMT_PERCENT,
         _rate(ds, "disposable", age_group="65+", sex="female")),
        ("Men 65+, disposable income", "%", FMT_PERCENT,
         _rate(ds, "disposable", age_group="65+", sex="male")),
        ("Persons in poor households, disposable income", "persons", FMT_COUNT,
         ds["persons_in_poverty"].sel(income_stage="disposable").sum(
             ["sex", "age_group"]).transpose("year").values),
        ("Share of the poverty gap the floor closes", "%", FMT_PERCENT,
         ds["poverty_gap_closed_by_floor"].values),
        *((f"Gini, {STAGE_LABELS[stage]}", "1", FMT_DECIMAL,
           ds["gini_equivalised_income"].sel(income_stage=stage).transpose("year").values)
          for stage in ("market", "disposable")),
    ]
    return cols


def poverty_sheet(ws: Worksheet, ds: xr.Dataset) -> None:
    sheet_title(ws, "Poverty", "Persons in households whose equivalised income is below the "
                "household poverty line, by income stage (micro engine: docs/micro.md, "
                "\"Poverty\")")
    charted_year_table(ws, years_of(ds), poverty_columns(ds),
                       "Poverty rate by income stage, and of children and older women", "%",
                       "0%", (*(f"Poverty rate, {label}" for label in STAGE_LABELS.values()),
                              "Children 0-14, disposable income",
                              "Women 65+, disposable income"))
