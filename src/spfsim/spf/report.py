"""The Excel workbook of a rapid SPF costing, and the short summary printed by the command.

Sheets: ``Overview`` (charts above a short table: for one country the cost of each benefit as %
of GDP and its target population and beneficiaries; for several, the cost of the floor by
benefit in the countries where it is highest), ``Cost by country`` (one row per country: cost
of each benefit and of the floor as % of GDP, % of revenue), ``Beneficiaries`` (country x
benefit: persons, levels, expenditure), ``Levels`` (every parameter with its unit, valid range
and reference), ``Macro inputs`` (GDP per capita, poverty line, revenue share, poverty
headcount, each with its source) and ``Metadata``. Fractions are written as fractions with a
percent format; money in international $ (2021 PPP) per year. Cells are written with the
helpers of :mod:`spfsim.report.workbook.cells`, which neutralise text against formula
injection; the file is written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from ..report.io import atomic_write, check_writable
from ..report.workbook import finish_workbook
from ..report.workbook.cells import (
    CHART_HEIGHT_CM,
    CHART_ROWS,
    FMT_COUNT,
    FMT_DECIMAL,
    FMT_PERCENT,
    bar_chart,
    fit_columns,
    money_format,
    money_scale,
    put,
    put_note,
    sheet_title,
    write_header,
    write_units,
)
from ..report.workbook.metadata import metadata_sheet
from .levels import Levels

__all__ = ["build_spf_workbook", "summary_lines", "write_spf_workbook"]

_FMT_MONEY = FMT_COUNT
#: Countries the cross-country overview charts: the floor's cost is highest in these.
TOP_COUNTRIES = 20


def _table(ws: Worksheet, row: int, headers: list[str], units: list[str] | None,
           rows: list[list[tuple[object, str | None]]], freeze_column: int = 4) -> None:
    """A header, a units row (if any) and rows of (value, number format) cells from ``row``."""
    if units is not None:
        units, rows = _money_in_scale(units, rows)
    write_header(ws, row, headers)
    first = row + 1
    if units is not None:
        write_units(ws, first, units)
        first += 1
    for i, cells in enumerate(rows):
        for j, (value, fmt) in enumerate(cells):
            put(ws, first + i, 1 + j, value, fmt)
    ws.freeze_panes = ws.cell(row=first, column=freeze_column)


def _money_in_scale(units: list[str], rows: list[list[tuple[object, str | None]]]
                    ) -> tuple[list[str], list[list[tuple[object, str | None]]]]:
    """Money columns (units in $ per year) shown in thousands, millions or billions when
    their size calls for it, the scale named in the units row; the cells keep the
    amounts."""
    units = list(units)
    for j, unit in enumerate(units):
        if "$" not in unit or "person" in unit:
            continue
        values = [v for r in rows for v, fmt in r[j:j + 1]
                  if fmt == _FMT_MONEY and isinstance(v, int | float)]
        if not values:
            continue
        factor, word = money_scale(values)
        if not word:
            continue
        head, _, tail = unit.partition(" per ")
        units[j] = f"{head} {word} per {tail}" if tail else f"{unit} ({word}s)"
        fmt = money_format(factor)
        rows = [[(v, fmt) if k == j and f == _FMT_MONEY else (v, f)
                 for k, (v, f) in enumerate(r)] for r in rows]
    return units, rows


def _country_cells(ds: xr.Dataset, i: int) -> list[tuple[object, str | None]]:
    return [(int(ds["country"].values[i]), "0"), (str(ds["iso3"].values[i]), None),
            (str(ds["country_name"].values[i]), None)]


def _cost_sheet(ws: Worksheet, ds: xr.Dataset) -> None:
    year = ds.attrs["year"]
    sheet_title(ws, f"Cost of the social protection floor, {year}",
           f"Total expenditure (benefits and administration) as % of GDP; money in "
           f"{ds.attrs['money_units']}; levels: {ds.attrs['levels_title']}")
    names = [str(n) for n in ds["benefit_name"].values]
    guarantees = [str(g) for g in ds["guarantee"].values]
    headers = ["M49", "ISO3", "Country", "Population", "GDP per capita",
               *(f"{n} ({g})" for n, g in zip(names, guarantees, strict=True)),
               "Floor, % of GDP", "Floor, % of revenue", "Floor expenditure", "Note"]
    units = ["", "", "", "persons", "PPP $ per year", *(["% of GDP"] * len(names)),
             "% of GDP", "% of revenue", "PPP $ per year", ""]
    cost = ds["cost_to_gdp"].values
    rows = []
    for i in range(ds.sizes["country"]):
        rows.append([*_country_cells(ds, i),
                     (float(ds["population"].values[i]), FMT_COUNT),
                     (float(ds["gdp_per_capita"].values[i]), FMT_COUNT),
                     *((float(v), FMT_PERCENT) for v in cost[i]),
                     (float(ds["floor_cost_to_gdp"].values[i]), FMT_PERCENT),
                     (float(ds["floor_cost_to_revenue"].values[i]), FMT_PERCENT),
                     (float(ds["floor_expenditure"].values[i]), _FMT_MONEY),
                     (str(ds["note"].values[i]), None)])
    _table(ws, 3, headers, units, rows)
    fit_columns(ws, skip_rows=2, minimum=8, maximum=28)
    ws.column_dimensions["C"].width = 32


def _beneficiaries_sheet(ws: Worksheet, ds: xr.Dataset) -> None:
    sheet_title(ws, "Beneficiaries and expenditure by benefit",
           f"{ds.attrs['year']}; money in {ds.attrs['money_units']}")
    columns = [("target_population", "Target population", FMT_COUNT),
               ("beneficiaries", "Beneficiaries", FMT_COUNT),
               ("benefit_level", "Benefit per beneficiary", FMT_DECIMAL),
               ("benefit_expenditure", "Benefit expenditure", _FMT_MONEY),
               ("admin_expenditure", "Admin expenditure", _FMT_MONEY),
               ("total_expenditure", "Total expenditure", _FMT_MONEY),
               ("cost_to_gdp", "% of GDP", FMT_PERCENT),
               ("cost_to_revenue", "% of revenue", FMT_PERCENT)]
    headers = ["M49", "ISO3", "Country", "Benefit", "R202", *(c[1] for c in columns)]
    units = ["", "", "", "", "", "persons", "persons", "PPP $ per year", "PPP $ per year",
             "PPP $ per year", "PPP $ per year", "% of GDP", "% of revenue"]
    values = {name: ds[name].values for name, _, _ in columns}
    rows = []
    for i in range(ds.sizes["country"]):
        for j in range(ds.sizes["benefit"]):
            rows.append([*_country_cells(ds, i), (str(ds["benefit_name"].values[j]), None),
                         (str(ds["guarantee"].values[j]), None),
                         *((float(values[name][i, j]), fmt) for name, _, fmt in columns)])
    _table(ws, 3, headers, units, rows)
    fit_columns(ws, skip_rows=2, minimum=8, maximum=24)
    ws.column_dimensions["C"].width = 32


def _benefit_names(ds: xr.Dataset) -> list[str]:
    return [str(n) for n in ds["benefit_name"].values]


def _country_overview(ws: Worksheet, ds: xr.Dataset) -> None:
    """One country: the cost of each benefit as % of GDP, and its target population and
    beneficiaries, two charts above the table by benefit they draw."""
    country, year = str(ds["country_name"].values[0]), ds.attrs["year"]
    sheet_title(ws, f"Cost of the social protection floor: {country}, {year}",
                f"Levels: {ds.attrs['levels_title']}; money in {ds.attrs['money_units']}")
    put_note(ws, 3, f"The floor costs {_percent(float(ds['floor_cost_to_gdp'].values[0]))} "
             f"of GDP, {_percent(float(ds['floor_cost_to_revenue'].values[0]))} of "
             "government revenue (benefits and administration).")
    header = 5 + 2 * CHART_ROWS
    names = _benefit_names(ds)
    headers = ["Benefit", "R202", "Target population", "Beneficiaries", "Total expenditure",
               "% of GDP", "% of revenue"]
    units = ["", "", "persons", "persons", "PPP $ per year", "% of GDP", "% of revenue"]
    rows = [[(name, None), (str(ds["guarantee"].values[j]), None),
             *((float(ds[v].values[0, j]), fmt) for v, fmt in (
                 ("target_population", FMT_COUNT), ("beneficiaries", FMT_COUNT),
                 ("total_expenditure", _FMT_MONEY), ("cost_to_gdp", FMT_PERCENT),
                 ("cost_to_revenue", FMT_PERCENT)))]
            for j, name in enumerate(names)]
    _table(ws, header, headers, units, rows, freeze_column=1)
    ws.freeze_panes = None  # the charts above the table would be frozen with its header
    first, last = header + 2, header + 1 + len(names)
    bar_chart(ws, f"{country}: cost of each benefit of the floor, {year}", "Benefit",
              "% of GDP", "0.0%", [(6, "Cost (% of GDP)")], first, last, "A5",
              horizontal=True)
    bar_chart(ws, f"{country}: target population and beneficiaries, {year}", "Benefit",
              "persons", "#,##0", [(3, "Target population"), (4, "Beneficiaries")],
              first, last, f"A{5 + CHART_ROWS}", horizontal=True)
    fit_columns(ws, skip_rows=4, minimum=10, maximum=28)


def _countries_overview(ws: Worksheet, ds: xr.Dataset) -> None:
    """Several countries: the cost of the floor by benefit as % of GDP in the
    :data:`TOP_COUNTRIES` countries where it is highest, a stacked bar chart above the
    table it draws (every country is on the ``Cost by country`` sheet)."""
    year = ds.attrs["year"]
    total = np.asarray(ds["floor_cost_to_gdp"].values, dtype=float)
    costed = np.flatnonzero(np.isfinite(total))
    order = costed[np.argsort(-total[costed], kind="stable")][:TOP_COUNTRIES]
    shown = len(order)
    sheet_title(ws, f"Cost of the social protection floor, {year}: the {shown} countries "
                "where it is highest", f"Levels: {ds.attrs['levels_title']}; every country "
                "on the Cost by country sheet")
    median = float(np.median(total[costed])) if costed.size else float("nan")
    put_note(ws, 3, f"{costed.size} of {ds.sizes['country']} countries costed as % of GDP "
             f"(the others have no GDP per capita in the data); median cost of the floor "
             f"{_percent(median)} of GDP.")
    chart_rows = int(np.ceil(_TOP_CHART_CM / CHART_HEIGHT_CM * CHART_ROWS))
    header = 5 + chart_rows
    names = _benefit_names(ds)
    headers = ["Country", *names, "Floor, % of GDP", "Floor, % of revenue"]
    units = ["", *(["% of GDP"] * len(names)), "% of GDP", "% of revenue"]
    cost = ds["cost_to_gdp"].values
    rows = [[(str(ds["country_name"].values[i]), None),
             *((float(v), FMT_PERCENT) for v in cost[i]),
             (float(total[i]), FMT_PERCENT),
             (float(ds["floor_cost_to_revenue"].values[i]), FMT_PERCENT)] for i in order]
    _table(ws, header, headers, units, rows, freeze_column=1)
    ws.freeze_panes = None  # the chart above the table would be frozen with its header
    if shown:
        bar_chart(ws, f"Cost of the floor by benefit, {year}: the {shown} countries where "
                  "it is highest", "Country", "% of GDP", "0.0%",
                  [(2 + j, name) for j, name in enumerate(names)], header + 2,
                  header + 1 + shown, "A5", stacked=True, horizontal=True,
                  height=_TOP_CHART_CM)
    fit_columns(ws, skip_rows=4, minimum=10, maximum=28)


_TOP_CHART_CM = 16.0  # height of the cross-country chart: twenty bars with their names


def _overview_sheet(ws: Worksheet, ds: xr.Dataset) -> None:
    """The sheet a reader meets first: charts of the costing above a short table."""
    if ds.sizes["country"] == 1:
        _country_overview(ws, ds)
    else:
        _countries_overview(ws, ds)


def _levels_sheet(ws: Worksheet, levels: Levels) -> None:
    sheet_title(ws, "Benefit levels", f"{levels.title}; file: {levels.file or '(defaults)'}")
    headers = ["Benefit", "Costed", "Guarantee", "Parameter", "Description", "Value", "Unit",
               "Valid range", "Reference"]
    enabled = {b.id: b.enabled for b in levels.benefits}
    rows = [[(benefit, None), ("yes" if enabled[benefit] else "no", None), (guarantee, None),
             (name, None), (description, None), (value, None), (unit, None), (valid, None),
             (reference, None)]
            for benefit, guarantee, name, description, value, unit, valid, reference
            in levels.rows()]
    _table(ws, 3, headers, None, rows, freeze_column=1)
    fit_columns(ws, skip_rows=2, minimum=8, maximum=40)
    ws.column_dimensions["I"].width = 100
    for row in ws.iter_rows(min_row=4, min_col=9, max_col=9):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _macro_sheet(ws: Worksheet, ds: xr.Dataset) -> None:
    sheet_title(ws, "Macro inputs", "Each value with its source; NaN (empty) where not in the data")
    fields = [("gdp_per_capita", "GDP per capita", "PPP $ per person per year", FMT_COUNT),
              ("poverty_line", "Poverty line", "PPP $ per person per day", FMT_DECIMAL),
              ("government_revenue_share", "Government revenue", "% of GDP", FMT_PERCENT),
              ("poverty_headcount", "Below $3 a day", "% of population", FMT_PERCENT)]
    headers = ["M49", "ISO3", "Country"]
    units = ["", "", ""]
    for _, label, unit, _ in fields:
        headers += [label, f"{label}: source"]
        units += [unit, ""]
    rows = []
    for i in range(ds.sizes["country"]):
        cells = _country_cells(ds, i)
        for name, _, _, fmt in fields:
            cells += [(float(ds[name].values[i]), fmt),
                      (str(ds[f"{name}_source"].values[i]), None)]
        rows.append(cells)
    _table(ws, 3, headers, units, rows)
    fit_columns(ws, skip_rows=2, minimum=8, maximum=60)


def build_spf_workbook(ds: xr.Dataset, levels: Levels) -> Workbook:
    """The costing workbook in memory (see :func:`write_spf_workbook`)."""
    wb = Workbook()
    overview = wb.active
    overview.title = "Overview"
    _overview_sheet(overview, ds)
    _cost_sheet(wb.create_sheet("Cost by country"), ds)
    _beneficiaries_sheet(wb.create_sheet("Beneficiaries"), ds)
    _levels_sheet(wb.create_sheet("Levels"), levels)
    _macro_sheet(wb.create_sheet("Macro inputs"), ds)
    metadata_sheet(wb.create_sheet("Metadata"), ds)
    return finish_workbook(wb, ds.attrs.get("title", "spfsim"))


def write_spf_workbook(ds: xr.Dataset, levels: Levels, path: Path | str | os.PathLike[str],
                       overwrite: bool = False) -> Path:
    """Write the costing workbook (``.xlsx``) atomically; refuse to replace a file unless
    ``overwrite`` (:class:`~spfsim.errors.OutputExistsError`)."""
    (target,) = check_writable(path, overwrite)
    wb = build_spf_workbook(ds, levels)
    return atomic_write(target, lambda tmp: wb.save(tmp), overwrite=overwrite)


def _percent(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{100 * value:.2f}%"


def summary_lines(ds: xr.Dataset, limit: int = 10) -> list[str]:
    """A few lines on the costing: per country (up to ``limit``), the floor's cost by benefit."""
    n = ds.sizes["country"]
    lines = [f"spf-cost {ds.attrs['year']}: {n} countr{'y' if n == 1 else 'ies'}, "
             f"{ds.sizes['benefit']} benefits; levels: {ds.attrs['levels_title']}"]
    order = np.argsort(-np.nan_to_num(ds["population"].values))[:limit]
    ids = [str(b) for b in ds["benefit"].values]
    for i in sorted(order):
        parts = ", ".join(f"{b} {_percent(float(v))}"
                          for b, v in zip(ids, ds["cost_to_gdp"].values[i], strict=True))
        lines.append(f"  {ds['country_name'].values[i]} ({int(ds['country'].values[i])}): "
                     f"population {ds['population'].values[i] / 1e6:,.2f} million; floor "
                     f"{_percent(float(ds['floor_cost_to_gdp'].values[i]))} of GDP, "
                     f"{_percent(float(ds['floor_cost_to_revenue'].values[i]))} of revenue "
                     f"({parts})")
    if n > limit:
        lines.append(f"  ... and {n - limit} more (the {limit} most populous shown; all in the "
                     "workbook)")
    missing = int(np.isnan(ds["gdp_per_capita"].values).sum())
    if missing:
        lines.append(f"  {missing} countr{'y has' if missing == 1 else 'ies have'} no GDP per "
                     "capita in the data: costed in persons and PPP $, % of GDP left empty "
                     "(see the note column)")
    return lines
