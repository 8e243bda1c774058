"""Outputs of a reform comparison (:func:`spfsim.scenarios.compare`): ``comparison.nc``,
``comparison.xlsx`` and a short text summary.

The workbook has a ``Summary`` sheet (charts of the scheme the reform changes most: cost
to GDP baseline and reform, their difference, and for a contributory scheme its PAYG cost
rate and reserve ratio; then the reform, and the baseline, reform and difference of the key
indicators of every scheme and guarantee in the key years: base year, base year + 25 when
within the horizon, end year; depletion years), one sheet per scheme with its charts above
the three columns of each indicator by year, then the sheets ``run``'s report has, each
showing baseline, reform and difference: ``Floor`` (cost and coverage by R202 guarantee),
``Sustainability`` (per funded scheme: general average premium, actuarial balance,
depletion year, PAYG cost rate and reserve ratio by year) and ``Equity`` (returns of
complete birth cohorts by sex, when both projections have them), and ``Metadata``. Charts
draw the baseline dashed and the reform solid; difference columns are filled, so the
change is what the eye meets first. Schemes are named by name (by "Name (id)" only where
two share a name). Units are those of the comparison Dataset: money in the model's currency
per year (nominal; shown in thousands, millions or billions, named in the units), persons
as counts, fractions (PAYG cost rate, cost to GDP, coverage) shown as percentages, the
reserve ratio as a multiple of the year's expenditure. Text is neutralised as in
:mod:`spfsim.report.workbook`; every file is written atomically and none is replaced
unless asked.
"""

from __future__ import annotations

import math
import os
from pathlib import Path, PurePath

import numpy as np
import xarray as xr
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from ..errors import OutputExistsError
from .dataset import SchemeInfo, scheme_infos
from .io import atomic_write, check_writable, write_netcdf
from .workbook.cells import (
    BOLD,
    CHART_ROWS,
    CHART_WIDTH_CM,
    FMT_COUNT,
    FMT_PERCENT,
    FMT_RATIO,
    FMT_YEAR,
    HEADING,
    chart_title,
    column_after,
    dash_series,
    finish_workbook,
    fit_columns,
    highlight_columns,
    human_label,
    key_years,
    legend_names,
    line_chart,
    money_format,
    money_scale,
    money_units,
    put,
    put_note,
    scheme_sheet_names,
    sheet_title,
    write_header,
    year_table,
)
from .workbook.equity import SHORT_TERM_TYPES
from .workbook.metadata import metadata_sheet

__all__ = ["COMPARISON_DATASET", "COMPARISON_WORKBOOK", "build_comparison_workbook",
           "comparison_paths", "comparison_summary_lines", "write_comparison",
           "write_comparison_workbook"]

COMPARISON_DATASET = "comparison.nc"
COMPARISON_WORKBOOK = "comparison.xlsx"
_SCENARIOS = ("baseline", "reform")

# Indicators per scheme: (label, variable, number format, unit shown or None = the
# variable's units attr, only for contributory schemes).
_INDICATORS: tuple[tuple[str, str, str, str | None, bool], ...] = (
    ("Cost % of GDP", "cost_to_gdp", FMT_PERCENT, "% of GDP", False),
    ("PAYG cost rate", "paygo_cost_rate", FMT_PERCENT, "% of insured earnings", True),
    ("Benefit expenditure", "benefit_expenditure", FMT_COUNT, None, False),
    ("Contribution income", "contribution_income", FMT_COUNT, None, True),
    ("Reserve (end of year)", "reserve", FMT_COUNT, None, True),
    ("Reserve ratio", "reserve_ratio", FMT_RATIO, "x annual expenditure", True),
    ("Beneficiaries", "beneficiaries", FMT_COUNT, None, False),
    ("Contributors", "contributors", FMT_COUNT, None, True),
    ("Average benefit", "average_benefit", FMT_COUNT, None, False),
)
_GUARANTEE_INDICATORS = (
    ("Cost % of GDP", "cost_to_gdp_by_guarantee", FMT_PERCENT, "% of GDP"),
    ("Coverage", "coverage_rate", FMT_PERCENT, "% of target group"),
)


def comparison_paths(out: Path | str) -> list[Path]:
    """The files :func:`write_comparison` writes under ``out``."""
    return [Path(out) / COMPARISON_DATASET, Path(out) / COMPARISON_WORKBOOK]


def _indicators(scheme: SchemeInfo) -> list[tuple[str, str, str, str | None]]:
    return [(label, var, fmt, unit) for label, var, fmt, unit, funded in _INDICATORS
            if scheme.contributory or not funded]


def _unit(cmp: xr.Dataset, var: str, unit: str | None) -> str:
    return unit if unit is not None else str(cmp[var].attrs.get("units", ""))


def _money(unit: str, fmt: str, series: tuple[np.ndarray, ...]) -> tuple[str, str]:
    """(unit, format) of an indicator: money (a whole-number format, units other than
    persons) in the thousands, millions or billions its size calls for."""
    if fmt != FMT_COUNT or "person" in unit:
        return unit, fmt
    factor, word = money_scale(np.concatenate(series))
    return money_units(unit, word), money_format(factor)


def _three(cmp: xr.Dataset, var: str, **where: object) -> tuple[np.ndarray, np.ndarray,
                                                                  np.ndarray]:
    """Baseline, reform and difference of ``var`` at ``where`` (e.g. scheme=2)."""
    both = cmp[var].isel(**where) if where else cmp[var]
    diff = cmp[f"{var}_difference"].isel(**where) if where else cmp[f"{var}_difference"]
    return (np.asarray(both.sel(scenario="baseline").values, dtype=float),
            np.asarray(both.sel(scenario="reform").values, dtype=float),
            np.asarray(diff.values, dtype=float))


def _reform_rows(cmp: xr.Dataset) -> list[tuple[str, object]]:
    attrs = cmp.attrs
    years = [int(y) for y in cmp["year"].values]
    rows: list[tuple[str, object]] = [
        ("Model", attrs.get("model", "")),
        ("Reform", attrs.get("reform", "")),
        ("Reform title", attrs.get("reform_title", "")),
        ("Reform file", PurePath(str(attrs.get("reform_file", ""))).name),
        ("Reform file hash", attrs.get("reform_hash", "")),
        ("Engine", attrs.get("engine", "")),
        ("Seed", attrs.get("seed", "")),
    ]
    if "persons" in attrs:
        rows.append(("Simulated persons", attrs["persons"]))
    rows += [
        ("Base year", years[0]),
        ("End year", years[-1]),
        ("Currency", attrs.get("currency", "")),
        ("Price basis", attrs.get("price_basis", "")),
        ("Difference", attrs.get("difference", "reform minus baseline")),
        ("spfsim version", attrs.get("spfsim_version", "")),
        ("Created", attrs.get("created", "")),
    ]
    return rows


def _key_year_header(ws: Worksheet, row: int, first: list[str], shown: list[int]) -> None:
    labels = [f"{y} {s}" for y in shown for s in (*_SCENARIOS, "difference")]
    write_header(ws, row, [*first, *labels])


def _summary_sheet(ws: Worksheet, cmp: xr.Dataset, schemes: list[SchemeInfo],
                   sheet_names: dict[str, str]) -> None:
    sheet_title(ws, str(cmp.attrs.get("title", "spfsim comparison")),
                "Reform against the baseline; differences are reform minus baseline")
    put_note(ws, 3, "The figures below show the scheme the reform changes most, from its "
             "sheet; the key figures of every scheme follow under them.")
    row = _SUMMARY_TABLES_ROW
    for key, value in _reform_rows(cmp):
        put(ws, row, 1, key, font=BOLD)
        put(ws, row, 2, value, FMT_YEAR if isinstance(value, int) else None)
        row += 1
    shown = key_years(cmp)
    position = {int(y): i for i, y in enumerate(cmp["year"].values)}

    row += 1
    put(ws, row, 1, "Key figures by scheme", font=HEADING)
    row += 1
    _key_year_header(ws, row, ["Scheme id", "Name", "Indicator", "Unit"], shown)
    row += 1
    for s in schemes:
        for label, var, fmt, unit in _indicators(s):
            base, new, diff = _three(cmp, var, scheme=s.index)
            shown_unit, fmt = _money(_unit(cmp, var, unit), fmt, (base, new, diff))
            for j, value in enumerate((s.id, s.name, label, shown_unit)):
                put(ws, row, 1 + j, value)
            for k, year in enumerate(shown):
                for j, series in enumerate((base, new, diff)):
                    put(ws, row, 5 + 3 * k + j, float(series[position[year]]), fmt)
            row += 1

    row += 1
    put(ws, row, 1, "Depletion year of the reserve (contributory schemes)", font=HEADING)
    row += 1
    write_header(ws, row, ["Scheme id", "Name", "Baseline", "Reform", "Difference (years)",
                           "Sheet"])
    row += 1
    base, new, diff = _three(cmp, "depletion_year")
    for s in schemes:
        if not s.contributory:
            continue
        shown_years = [int(v) if math.isfinite(v) else "not within horizon"
                       for v in (base[s.index], new[s.index])]
        change = float(diff[s.index]) if math.isfinite(diff[s.index]) else None
        for j, value in enumerate((s.id, s.name, *shown_years, change, sheet_names[s.id])):
            put(ws, row, 1 + j, value, FMT_YEAR if j in (2, 3, 4) else None)
        row += 1

    row += 1
    put(ws, row, 1, "Key figures by R202 guarantee", font=HEADING)
    row += 1
    _key_year_header(ws, row, ["Guarantee", "", "Indicator", "Unit"], shown)
    row += 1
    for g, guarantee in enumerate(str(v) for v in cmp["guarantee"].values):
        for label, var, fmt, unit in _GUARANTEE_INDICATORS:
            base, new, diff = _three(cmp, var, guarantee=g)
            for j, value in ((0, human_label(guarantee)), (2, label), (3, unit)):
                put(ws, row, 1 + j, value)
            for k, year in enumerate(shown):
                for j, series in enumerate((base, new, diff)):
                    put(ws, row, 5 + 3 * k + j, float(series[position[year]]), fmt)
            row += 1
    fit_columns(ws, skip_rows=2, minimum=10, maximum=40)


_SUMMARY_CHART = (15.5, 8.5)  # width, height (cm) of the Summary's charts
_SUMMARY_CHART_ROWS = 18
_SUMMARY_TABLES_ROW = 4 + 2 * _SUMMARY_CHART_ROWS + 1


def _summary_charts(ws: Worksheet, cmp: xr.Dataset, schemes: list[SchemeInfo],
                    tables: dict[str, tuple[Worksheet, int, int, dict[str, int]]]) -> None:
    """The Summary's charts, two by two above its tables, of the scheme whose cost the
    reform changes most (the first scheme when it changes none), from its sheet: cost to
    GDP, baseline and reform; the difference (reform - baseline) in cost to GDP; and for
    a contributory scheme its PAYG cost rate and its reserve ratio, baseline and reform."""
    if not schemes:
        return
    change = np.nan_to_num(np.abs(cmp["cost_to_gdp_difference"].transpose("scheme", ...)
                                  .values)).max(axis=1)
    main = schemes[int(np.argmax(change))]
    sheet, first, last, col = tables[main.id]
    width, height = _SUMMARY_CHART
    right = get_column_letter(column_after(ws, 1, width + 0.3))
    charts = [(f"{main.name}: cost, baseline and reform", "% of GDP", "0.00%",
               [(col["Cost % of GDP: baseline"], "Baseline"),
                (col["Cost % of GDP: reform"], "Reform")]),
              (f"{main.name}: difference in cost (reform - baseline)", "% of GDP", "0.000%",
               [(col["Cost % of GDP: difference"], "Difference")])]
    if main.contributory:
        charts += [(f"{main.name}: PAYG cost rate, baseline and reform",
                    "% of insured earnings", "0.0%",
                    [(col["PAYG cost rate: baseline"], "Baseline"),
                     (col["PAYG cost rate: reform"], "Reform")]),
                   (f"{main.name}: reserve ratio, baseline and reform (below zero: "
                    "accumulated shortfall)", "reserve / annual expenditure", "0.0",
                    [(col["Reserve ratio: baseline"], "Baseline"),
                     (col["Reserve ratio: reform"], "Reform")])]
    anchors = [f"{c}{4 + k * _SUMMARY_CHART_ROWS}" for k in (0, 1) for c in ("A", right)]
    for anchor, (title, y_title, fmt, series) in zip(anchors, charts, strict=False):
        chart = line_chart(ws, title, y_title, fmt, series, first, last, anchor, data=sheet,
                           width=width, height=height)
        dash_series(chart, [k for k, (_, label) in enumerate(series) if label == "Baseline"])


def _versus_table(ws: Worksheet, header_row: int, keys: list[int],
                  blocks: list[tuple[str, str, str, tuple[np.ndarray, ...]]],
                  first_label: str = "Year", freeze: bool = False
                  ) -> tuple[int, int, dict[str, int]]:
    """A table by year (or birth cohort, ``first_label``) of three columns per block
    (label, unit, number format, (baseline, reform, difference)): baseline, reform and
    difference, the difference columns filled so that the change stands out; money in
    the scale its size calls for. Return (first data row, last data row, {header: column})."""
    headers, units, formats, columns = [], [], [], []
    for label, unit, fmt, three in blocks:
        shown, fmt = _money(unit, fmt, three)
        for name, series in zip((*_SCENARIOS, "difference"), three, strict=True):
            headers.append(f"{label}: {name}")
            units.append(shown)
            formats.append(fmt)
            columns.append(series)
    first = year_table(ws, keys, headers, units, formats, np.column_stack(columns),
                       header_row=header_row, first_label=first_label, freeze=freeze)
    last = first + len(keys) - 1
    highlight_columns(ws, range(4, 2 + len(headers), 3), header_row, last)
    return first, last, {label: 2 + j for j, label in enumerate(headers)}


def _versus_chart(ws: Worksheet, title: str, y_title: str, y_format: str,
                  lines: list[tuple[str, int]], first: int, last: int, anchor: str,
                  data: Worksheet | None = None, **size: float):
    """A line chart of baseline (dashed) and reform (solid) of each of ``lines`` (legend
    label, column of its baseline; the reform's is the next), as ``compare --figures``
    draws them; a label of "" names the lines Baseline and Reform."""
    series = []
    for label, col in lines:
        prefix = f"{label}, " if label else ""
        series += [(col, f"{prefix}baseline".capitalize()), (col + 1, f"{prefix}reform"
                                                               .capitalize())]
    chart = line_chart(ws, title, y_title, y_format, series, first, last, anchor, data=data,
                       **size)
    dash_series(chart, range(0, len(series), 2))
    return chart


def _scheme_sheet(ws: Worksheet, cmp: xr.Dataset, scheme: SchemeInfo, name: str
                  ) -> tuple[int, int, dict[str, int]]:
    currency = cmp.attrs.get("currency", "")
    sheet_title(ws, f"{name}: reform against the baseline",
                f"{cmp.attrs.get('reform_title', '')}; money in {currency}, "
                f"{cmp.attrs.get('price_basis', '')}; difference = reform minus baseline")
    blocks = [(label, _unit(cmp, var, unit), fmt, _three(cmp, var, scheme=scheme.index))
              for label, var, fmt, unit in _indicators(scheme)]
    years = [int(y) for y in cmp["year"].values]
    first, last, col = _versus_table(ws, 3 + CHART_ROWS, years, blocks, freeze=True)
    fit_columns(ws, skip_rows=2, minimum=10, maximum=24)
    ws.freeze_panes = None  # the charts above the table would be frozen with its header
    beside = f"{get_column_letter(column_after(ws, 1, CHART_WIDTH_CM + 0.5))}3"
    _versus_chart(ws, f"{name}: cost to GDP, baseline and reform", "% of GDP", "0.00%",
                  [("", col["Cost % of GDP: baseline"])], first, last, "A3")
    line_chart(ws, f"{name}: difference in cost to GDP (reform - baseline)",
               "% of GDP", "0.000%", [(col["Cost % of GDP: difference"], "Difference")],
               first, last, beside)
    return first, last, col


def _changed(cmp: xr.Dataset, var: str, dim: str, positions: range) -> list[int]:
    """The positions along ``dim`` where the reform changes ``var`` (all when it changes
    none), so that charts draw what moved."""
    diff = cmp[f"{var}_difference"].transpose(dim, ...).values
    moved = [k for k in positions
             if np.nanmax(np.abs(np.asarray(diff[k], dtype=float)), initial=0.0) > 0]
    return moved or list(positions)


def _floor_sheet(ws: Worksheet, cmp: xr.Dataset) -> None:
    """Cost and coverage by R202 guarantee, baseline, reform and difference, below charts
    of the cost by guarantee (baseline dashed, reform solid) and of its difference."""
    sheet_title(ws, "Social protection floor by guarantee: reform against the baseline",
                "cost: expenditure incl. administration as a share of GDP; coverage: share of "
                "the target group covered; any cash benefit = SDG 1.3.1; difference = reform "
                "minus baseline")
    guarantees = [human_label(g) for g in cmp["guarantee"].values]
    every = range(len(guarantees))
    # coverage only where the reform moves it: seven more triples would not fit a page
    covered = [k for k in _changed(cmp, "coverage_rate", "guarantee", every)
               if np.nanmax(np.abs(_three(cmp, "coverage_rate", guarantee=k)[2]),
                            initial=0.0) > 0]
    blocks = []
    for (label, var, fmt, unit), shown in zip(_GUARANTEE_INDICATORS, (every, covered),
                                              strict=True):
        blocks += [(f"{label.split(' %')[0]}, {guarantees[k]}", unit, fmt,
                    _three(cmp, var, guarantee=k)) for k in shown]
    if len(covered) < len(guarantees):
        put_note(ws, 3, "Coverage is shown for the guarantees whose coverage the reform "
                 "changes" + (": none." if not covered else "."))
    years = [int(y) for y in cmp["year"].values]
    first, last, col = _versus_table(ws, 4 + CHART_ROWS, years, blocks, freeze=True)
    # narrow columns, headers wrapped: the seven guarantees' triples print one page wide
    fit_columns(ws, skip_rows=3, minimum=10, maximum=12)
    ws.freeze_panes = None  # the charts above the table would be frozen with its header
    moved = _changed(cmp, "cost_to_gdp_by_guarantee", "guarantee", every)
    beside = f"{get_column_letter(column_after(ws, 1, CHART_WIDTH_CM + 0.5))}4"
    _versus_chart(ws, "Cost by guarantee, baseline (dashed) and reform", "% of GDP", "0.0%",
                  [(guarantees[k], col[f"Cost, {guarantees[k]}: baseline"]) for k in moved],
                  first, last, "A4")
    line_chart(ws, "Difference in cost by guarantee (reform - baseline)", "% of GDP",
               "0.000%", [(col[f"Cost, {guarantees[k]}: difference"], guarantees[k])
                          for k in moved], first, last, beside)


# Sustainability measures of a funded scheme: (label, variable, unit, number format).
_SUSTAINABILITY_MEASURES = (
    ("General average premium", "general_average_premium", "% of insured earnings",
     FMT_PERCENT),
    ("Actuarial balance", "actuarial_balance", "% of insured earnings", FMT_PERCENT),
    ("Depletion year", "depletion_year", "calendar year", FMT_YEAR),
)
#: A chart waiting for the sheet's column widths: (title, y title, format, lines, first,
#: last, row, beside the first chart).
_Pending = tuple[str, str, str, list[tuple[str, int]], int, int, int, bool]


def _draw(ws: Worksheet, pending: list[_Pending], x_title: str = "Year") -> None:
    """Draw the sheet's charts once its columns have their widths (a second chart sits
    beside the first, past as many columns as that one covers)."""
    beside = get_column_letter(column_after(ws, 1, CHART_WIDTH_CM + 0.5))
    for title, y_title, fmt, lines, first, last, row, right in pending:
        chart = _versus_chart(ws, title, y_title, fmt, lines, first, last,
                              f"{beside if right else 'A'}{row}")
        chart.x_axis.title = chart_title(x_title, 9, bold=False)


def _scheme_changed(cmp: xr.Dataset, scheme: SchemeInfo) -> bool:
    """Whether the reform changes the scheme's expenditure or its cost to GDP."""
    return any(np.any(np.abs(_three(cmp, var, scheme=scheme.index)[2]) > 0)
               for var in ("benefit_expenditure", "cost_to_gdp"))


def _funded(cmp: xr.Dataset, schemes: list[SchemeInfo]) -> list[SchemeInfo]:
    """Contributory schemes with a reserve ratio in either scenario."""
    ratio = cmp["reserve_ratio"]
    return [s for s in schemes if s.contributory
            and np.isfinite(ratio.isel(scheme=s.index).values).any()]


def _shown(ws: Worksheet, row: int, schemes: list[SchemeInfo], cmp: xr.Dataset,
           names: dict[str, str]) -> tuple[list[SchemeInfo], int]:
    """The schemes of ``schemes`` the reform changes (all when it changes none), and a
    note naming the others, which a sheet of what moved leaves out (their baseline is on
    ``run``'s report); return them and the next row."""
    changed = [s for s in schemes if _scheme_changed(cmp, s)] or schemes
    same = [names[s.id] for s in schemes if s not in changed]
    if same:
        row = put_note(ws, row, "Unchanged by the reform, not shown: " + ", ".join(same)
                       + ".") + 1
    return changed, row


def _measure_cells(var: str, three: tuple[np.ndarray, ...]) -> list[object]:
    base, new, diff = (float(v) for v in three)
    if var == "depletion_year":
        return [int(v) if math.isfinite(v) else "not within horizon" for v in (base, new)] + [
            diff if math.isfinite(diff) else None]
    return [base, new, diff]


def _sustainability_block(ws: Worksheet, cmp: xr.Dataset, scheme: SchemeInfo, name: str,
                          row: int, pending: list[_Pending]) -> int:
    """A funded scheme's measures and its yearly PAYG cost rate and reserve ratio,
    baseline, reform and difference, with their charts; return the next row."""
    put(ws, row, 1, f"{name}: sustainability, baseline and reform", font=HEADING)
    row += 1
    write_header(ws, row, ["Measure", "Baseline", "Reform", "Difference", "Unit"])
    top = row
    for label, var, unit, fmt in _SUSTAINABILITY_MEASURES:
        if var not in cmp.data_vars:
            continue
        row += 1
        cells = _measure_cells(var, _three(cmp, var, scheme=scheme.index))
        put(ws, row, 1, label)
        for j, value in enumerate(cells):
            put(ws, row, 2 + j, value, None if isinstance(value, str) else fmt)
        put(ws, row, 5, "years" if var == "depletion_year" else unit)
    highlight_columns(ws, [4], top, row)
    chart_row = row + 2
    blocks = [("PAYG cost rate", "% of insured earnings", FMT_PERCENT,
               _three(cmp, "paygo_cost_rate", scheme=scheme.index)),
              ("Reserve ratio", "x annual expenditure", FMT_RATIO,
               _three(cmp, "reserve_ratio", scheme=scheme.index))]
    years = [int(y) for y in cmp["year"].values]
    first, last, col = _versus_table(ws, chart_row + CHART_ROWS, years, blocks)
    pending += [(f"{name}: PAYG cost rate, baseline (dashed) and reform",
                 "% of insured earnings", "0.0%", [("", col["PAYG cost rate: baseline"])],
                 first, last, chart_row, False),
                (f"{name}: reserve ratio, baseline (dashed) and reform (below zero: "
                 "accumulated shortfall)", "reserve / annual expenditure", "0.0",
                 [("", col["Reserve ratio: baseline"])], first, last, chart_row, True)]
    ws.row_breaks.append(Break(id=last + 1))  # the next scheme starts a page
    return last + 2


def _sustainability_sheet(ws: Worksheet, cmp: xr.Dataset, schemes: list[SchemeInfo],
                          names: dict[str, str]) -> None:
    """Per funded scheme: general average premium, actuarial balance and depletion year,
    and the PAYG cost rate and reserve ratio by year, baseline, reform and difference."""
    sheet_title(ws, "Sustainability: reform against the baseline",
                "ILC 2021 para. 15(a), (e); rates as % of insured earnings, reserve ratios in "
                "years of expenditure; difference = reform minus baseline")
    funded, row = _shown(ws, 4, _funded(cmp, schemes), cmp, names)
    pending: list[_Pending] = []
    for scheme in funded:
        row = _sustainability_block(ws, cmp, scheme, names[scheme.id], row, pending)
    if not funded:
        put_note(ws, row, "No funded scheme: no reserve or sustainability measures.")
    fit_columns(ws, skip_rows=3, minimum=10, maximum=24)
    _draw(ws, pending)


# Cohort returns compared: (label, variable, unit, number format, long-term schemes only).
_EQUITY_MEASURES = (("IRR", "cohort_irr", "annual rate", FMT_PERCENT, True),
                    ("Money's worth ratio", "money_worth_ratio",
                     "PV benefits / PV contributions", FMT_RATIO, False))


def has_equity(cmp: xr.Dataset) -> bool:
    """Whether the comparison has cohort returns (both projections had them)."""
    return {"cohort_irr", "money_worth_ratio", "cohort_complete"} <= set(cmp.data_vars)


def _equity_block(ws: Worksheet, cmp: xr.Dataset, scheme: SchemeInfo, name: str, row: int,
                  pending: list[_Pending]) -> int:
    """A contributory scheme's returns by complete birth cohort and sex, baseline, reform
    and difference, with a chart of the IRR (a pension) or of the money's worth ratio (a
    short-term benefit); return the next row."""
    complete = cmp["cohort_complete"].isel(scheme=scheme.index).all("scenario")
    cohorts = [int(c) for c, ok in zip(cmp["cohort"].values, complete.values, strict=True)
               if ok]
    put(ws, row, 1, f"{name}: returns by birth cohort, baseline and reform", font=HEADING)
    if not cohorts:
        return put_note(ws, row + 1, "No birth cohort complete in both projections.") + 1
    row = put_note(ws, row + 1, f"Complete cohorts only (all their cash flows in the scheme "
                   f"within both projections): born {cohorts[0]}-{cohorts[-1]}.")
    long_term = scheme.type not in SHORT_TERM_TYPES
    sexes = [str(x) for x in cmp["sex"].values]
    blocks = []
    for label, var, unit, fmt, pension_only in _EQUITY_MEASURES:
        if pension_only and not long_term:
            continue
        one = cmp[var].isel(scheme=scheme.index).sel(cohort=cohorts)
        diff = cmp[f"{var}_difference"].isel(scheme=scheme.index).sel(cohort=cohorts)
        for sex in sexes:
            blocks.append((f"{label}, {human_label(sex).lower()}", unit, fmt, tuple(
                np.asarray(da.sel(sex=sex).transpose("cohort").values, dtype=float)
                for da in (one.sel(scenario="baseline"), one.sel(scenario="reform"), diff))))
    first, last, col = _versus_table(ws, row + 1 + CHART_ROWS, cohorts, blocks,
                                     first_label="Birth cohort")
    label, _, unit, fmt, _ = _EQUITY_MEASURES[0 if long_term else 1]
    pending.append((f"{name}: {'internal rate of return' if long_term else label.lower()} by "
                    "birth cohort, baseline (dashed) and reform", unit,
                    "0.0%" if fmt == FMT_PERCENT else "0.00",
                    [(human_label(sex), col[f"{label}, {human_label(sex).lower()}: baseline"])
                     for sex in sexes], first, last, row + 1, False))
    ws.row_breaks.append(Break(id=last + 1))  # the next scheme starts a page
    return last + 2


def _equity_sheet(ws: Worksheet, cmp: xr.Dataset, schemes: list[SchemeInfo],
                  names: dict[str, str]) -> None:
    """Returns of complete birth cohorts by sex in each contributory scheme, baseline,
    reform and difference (ILC 2021 para. 15(c))."""
    sheet_title(ws, "Intergenerational equity: reform against the baseline",
                "ILC 2021 para. 15(c); internal rate of return (pensions) and money's worth "
                "ratio of each complete birth cohort by sex; difference = reform minus "
                "baseline")
    contributory, row = _shown(ws, 4, [s for s in schemes if s.contributory], cmp, names)
    pending: list[_Pending] = []
    for scheme in contributory:
        row = _equity_block(ws, cmp, scheme, names[scheme.id], row, pending)
    fit_columns(ws, skip_rows=3, minimum=10, maximum=24)
    _draw(ws, pending, x_title="Birth cohort")


def build_comparison_workbook(cmp: xr.Dataset) -> Workbook:
    """The comparison workbook, in memory (see :func:`write_comparison_workbook`)."""
    needed = [f"{v}{suffix}" for _, v, *_ in (*_INDICATORS, *_GUARANTEE_INDICATORS)
              for suffix in ("", "_difference")]
    missing = [v for v in [*needed, "depletion_year", "depletion_year_difference"]
               if v not in cmp.data_vars]
    if missing or "scenario" not in cmp.dims:
        raise ValueError("not a comparison Dataset (see spfsim.scenarios.compare); missing: "
                         + ", ".join(missing or ["the scenario dimension"]))
    schemes = scheme_infos(cmp)
    names = legend_names(schemes)
    sheet_names = scheme_sheet_names(schemes)
    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    _summary_sheet(summary, cmp, schemes, sheet_names)
    tables = {}
    for s in schemes:
        ws = wb.create_sheet(sheet_names[s.id])
        tables[s.id] = (ws, *_scheme_sheet(ws, cmp, s, names[s.id]))
    _floor_sheet(wb.create_sheet("Floor"), cmp)
    _sustainability_sheet(wb.create_sheet("Sustainability"), cmp, schemes, names)
    if has_equity(cmp):
        _equity_sheet(wb.create_sheet("Equity"), cmp, schemes, names)
    metadata_sheet(wb.create_sheet("Metadata"), cmp)
    _summary_charts(summary, cmp, schemes, tables)
    return finish_workbook(wb, cmp.attrs.get("title", "spfsim comparison"))


def write_comparison_workbook(cmp: xr.Dataset, path: Path | str | os.PathLike[str],
                              overwrite: bool = False) -> Path:
    """Write the comparison workbook (``.xlsx``) atomically; return its path.

    Raises :class:`~spfsim.errors.OutputExistsError` if ``path`` exists and ``overwrite``
    is false, ``ValueError`` if ``cmp`` is not a comparison Dataset; nothing is written
    then.
    """
    (target,) = check_writable(path, overwrite)
    if target.suffix.lower() != ".xlsx":
        raise ValueError(f"the workbook path must end in .xlsx: {target}")
    wb = build_comparison_workbook(cmp)
    return atomic_write(target, lambda tmp: wb.save(tmp), overwrite=overwrite)


def write_comparison(cmp: xr.Dataset, out: Path | str, overwrite: bool = False) -> list[Path]:
    """Write ``comparison.nc`` and ``comparison.xlsx`` under ``out`` (created if needed);
    return their paths.

    Refuses (:class:`~spfsim.errors.OutputExistsError`, naming the files) before writing
    anything if either exists and ``overwrite`` is false. The workbook is built in memory
    first, and each file is written atomically, so a failure leaves no partial file.
    """
    out = Path(out)
    paths = comparison_paths(out)
    if not overwrite:
        existing = [p for p in paths if p.exists() or p.is_symlink()]
        if existing:
            raise OutputExistsError(
                f"output exists: {', '.join(map(str, existing))}; use --overwrite "
                "(overwrite=True) to replace")
    wb = build_comparison_workbook(cmp)
    out.mkdir(parents=True, exist_ok=True)
    check_writable(paths, overwrite)
    write_netcdf(cmp, paths[0], overwrite=overwrite)
    atomic_write(paths[1], lambda tmp: wb.save(tmp), overwrite=overwrite)
    return paths


def _percent(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.2%}"


def comparison_summary_lines(cmp: xr.Dataset) -> list[str]:
    """A short text summary of a comparison: cost to GDP of each scheme and in all in the
    key years (baseline -> reform, difference in percentage points of GDP), and the
    depletion year of each contributory scheme before and after the reform."""
    shown = key_years(cmp)
    attrs = cmp.attrs
    years = [int(y) for y in cmp["year"].values]
    seed = f", seed {attrs['seed']}" if attrs.get("engine") == "micro" else ""
    lines = [f"{attrs.get('reform_title', attrs.get('reform', 'reform'))} "
             f"({attrs.get('model', '')} model, {attrs.get('engine', '')} engine{seed}, "
             f"{years[0]}-{years[-1]})",
             "  cost to GDP, baseline -> reform (difference in percentage points):"]

    def describe(base: np.ndarray, new: np.ndarray, diff: np.ndarray) -> str:
        parts = []
        for year in shown:
            i = years.index(year)
            parts.append(f"{year} {_percent(base[i])} -> {_percent(new[i])} "
                         f"({diff[i] * 100:+.3f} pp)")
        return "; ".join(parts)

    cost = cmp["cost_to_gdp"]
    depletion = _three(cmp, "depletion_year")
    for s in scheme_infos(cmp):
        base, new, diff = _three(cmp, "cost_to_gdp", scheme=s.index)
        if not _scheme_changed(cmp, s):
            lines.append(f"  {s.id}: unchanged")
            continue
        line = f"  {s.id}: {describe(base, new, diff)}"
        if s.contributory:
            before, after = (str(int(v)) if math.isfinite(v) else f"not by {years[-1]}"
                             for v in (depletion[0][s.index], depletion[1][s.index]))
            line += (f"; reserve not depleted by {years[-1]} in either"
                     if before == after == f"not by {years[-1]}"
                     else f"; reserve depleted: {before} -> {after}")
        lines.append(line)
    total = cost.sum("scheme")
    lines.append("  all schemes: " + describe(
        np.asarray(total.sel(scenario="baseline").values, dtype=float),
        np.asarray(total.sel(scenario="reform").values, dtype=float),
        np.asarray(cmp["cost_to_gdp_difference"].sum("scheme").values, dtype=float)))
    return lines
