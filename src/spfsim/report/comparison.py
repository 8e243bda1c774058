"""Outputs of a reform comparison (:func:`spfsim.scenarios.compare`): ``comparison.nc``,
``comparison.xlsx`` and a short text summary.

The workbook has a ``Summary`` sheet (charts of the scheme the reform changes most: cost
to GDP baseline and reform, their difference, and for a contributory scheme its PAYG cost
rate and reserve ratio; then the reform, and the baseline, reform and difference of the key
indicators of every scheme and guarantee in the key years: base year, base year + 25 when
within the horizon, end year; depletion years), one sheet per scheme with its charts above
the three columns of each indicator by year, a ``Guarantees`` sheet of the differences by
R202 guarantee, and ``Metadata``. Units are those of the comparison Dataset: money in the
model's currency per year (nominal; shown in thousands, millions or billions, named in the
units), persons as counts, fractions (PAYG cost rate, cost to GDP, coverage) shown as
percentages, the reserve ratio as a multiple of the year's expenditure. Text is
neutralised as in :mod:`spfsim.report.workbook`; every file is written atomically and
none is replaced unless asked.
"""

from __future__ import annotations

import math
import os
from pathlib import Path, PurePath

import numpy as np
import xarray as xr
from openpyxl import Workbook
from openpyxl.utils import get_column_letter
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
    column_after,
    finish_workbook,
    fit_columns,
    human_label,
    key_years,
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
        line_chart(ws, title, y_title, fmt, series, first, last, anchor, data=sheet,
                   width=width, height=height)


def _scheme_sheet(ws: Worksheet, cmp: xr.Dataset, scheme: SchemeInfo
                  ) -> tuple[int, int, dict[str, int]]:
    currency = cmp.attrs.get("currency", "")
    sheet_title(ws, f"{scheme.name} ({scheme.id}): reform against the baseline",
                f"{cmp.attrs.get('reform_title', '')}; money in {currency}, "
                f"{cmp.attrs.get('price_basis', '')}; difference = reform minus baseline")
    headers, units, formats, columns = [], [], [], []
    for label, var, fmt, unit in _indicators(scheme):
        three = _three(cmp, var, scheme=scheme.index)
        shown = _unit(cmp, var, unit)
        if (fmt == FMT_COUNT and "LCU" in shown) or cmp.attrs.get("currency", "?") in shown:
            factor, word = money_scale(np.concatenate(three))
            shown, fmt = money_units(shown, word), money_format(factor)
        for name, series in zip((*_SCENARIOS, "difference"), three, strict=True):
            headers.append(f"{label}: {name}")
            units.append(shown)
            formats.append(fmt)
            columns.append(series)
    years = [int(y) for y in cmp["year"].values]
    first = year_table(ws, years, headers, units, formats, np.column_stack(columns),
                       header_row=3 + CHART_ROWS)
    last = first + len(years) - 1
    fit_columns(ws, skip_rows=2, minimum=10, maximum=24)
    ws.freeze_panes = None  # the charts above the table would be frozen with its header
    beside = f"{get_column_letter(column_after(ws, 1, CHART_WIDTH_CM + 0.5))}3"
    line_chart(ws, f"{scheme.name}: cost to GDP, baseline and reform", "% of GDP", "0.00%",
               [(2, "Baseline"), (3, "Reform")], first, last, "A3")
    line_chart(ws, f"{scheme.name}: difference in cost to GDP (reform - baseline)",
               "% of GDP", "0.000%", [(4, "Difference")], first, last, beside)
    return first, last, {label: 2 + j for j, label in enumerate(headers)}


def _guarantee_sheet(ws: Worksheet, cmp: xr.Dataset) -> None:
    sheet_title(ws, "Differences by R202 guarantee (reform minus baseline)",
                "cost: expenditure incl. administration as a share of GDP; coverage: share of "
                "the target group covered; any cash benefit = SDG 1.3.1")
    guarantees = [str(g) for g in cmp["guarantee"].values]
    headers, units, columns = [], [], []
    for label, var, _fmt, unit in _GUARANTEE_INDICATORS:
        diff = cmp[f"{var}_difference"].transpose("year", "guarantee").values
        headers += [f"{label}, {human_label(g)}: difference" for g in guarantees]
        units += [f"{unit}, percentage points"] * len(guarantees)
        columns.append(np.asarray(diff, dtype=float))
    n = len(guarantees)
    years = [int(y) for y in cmp["year"].values]
    year_table(ws, years, headers, units, [FMT_PERCENT] * (2 * n),
               np.concatenate(columns, axis=1), header_row=3)
    fit_columns(ws, skip_rows=2, minimum=10, maximum=24)


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
    sheet_names = scheme_sheet_names(schemes, reserved=["Guarantees"])
    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    _summary_sheet(summary, cmp, schemes, sheet_names)
    tables = {}
    for s in schemes:
        ws = wb.create_sheet(sheet_names[s.id])
        tables[s.id] = (ws, *_scheme_sheet(ws, cmp, s))
    _guarantee_sheet(wb.create_sheet("Guarantees"), cmp)
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
        changed = bool(np.any(np.abs(_three(cmp, "benefit_expenditure", scheme=s.index)[2])
                              > 0) or np.any(np.abs(diff) > 0))
        if not changed:
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
