"""Figures and workbook of a stochastic projection and of sensitivity tests: fan charts
(shaded percentile bands around the median), the probability of depletion by year, and a
tornado chart of the sensitivity tests' effect on a measure, and the first-order and total
Sobol indices of the global sensitivity analysis.

They take the Datasets of :meth:`spfsim.Model.project_stochastic`,
:meth:`spfsim.Model.sensitivity` and :meth:`spfsim.Model.sobol` (docs/stochastic.md); the
workbook's charts are native Excel charts (the bands are a stacked area chart whose lowest
layer is left unfilled).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from openpyxl import Workbook
from openpyxl.chart import AreaChart, BarChart, LineChart, Reference, Series
from openpyxl.utils import get_column_letter

from ..stochastic.sobol import sobol_schemes
from .dataset import scheme_infos
from .io import atomic_write
from .workbook.cells import (
    CHART_ROWS,
    CHART_WIDTH_CM,
    FMT_YEAR,
    chart_title,
    column_after,
    finish_workbook,
    fit_columns,
    legend_names,
    put,
    put_note,
    sheet_title,
    write_header,
)

FAN_VARIABLES = ("paygo_cost_rate", "reserve_ratio")
LABELS = {"paygo_cost_rate": "PAYG cost rate (of insured earnings)",
          "reserve_ratio": "Reserve ratio (years of expenditure)",
          "actuarial_balance": "Actuarial balance (of insured earnings)",
          "depletion_year": "Depletion year"}
FMT_PCT = "0.0%"
FMT_RATIO = "0.00"


def funded_schemes(ds: xr.Dataset) -> list[str]:
    """The schemes with a fund (a depletion probability that is not all NaN)."""
    p = ds["depletion_probability"]
    return [str(s) for s in ds["scheme"].values if not np.all(np.isnan(p.sel(scheme=s)))]


def _bands(q: np.ndarray) -> list[tuple[int, int]]:
    """Index pairs of percentiles symmetric around the median, widest first."""
    return [(i, len(q) - 1 - i) for i in range(len(q) // 2)
            if abs(q[i] + q[len(q) - 1 - i] - 100.0) < 1e-9]


def fan_chart(ds: xr.Dataset, variable: str, scheme: str | None = None, ax=None):
    """Shaded bands between symmetric percentiles of ``<variable>_percentiles`` and the
    median line; returns the matplotlib Axes."""
    if ax is None:
        ax = Figure(figsize=(7, 4)).subplots()
    values = ds[f"{variable}_percentiles"]
    if scheme is not None:
        values = values.sel(scheme=scheme)
    years, q = ds["year"].values, ds["percentile"].values
    data = values.transpose("percentile", "year").values
    for k, (lo, hi) in enumerate(_bands(q)):
        ax.fill_between(years, data[lo], data[hi], color="tab:blue", alpha=0.18 + 0.14 * k,
                        linewidth=0, label=f"P{q[lo]:g}-P{q[hi]:g}")
    if 50.0 in q:
        ax.plot(years, data[list(q).index(50.0)], color="tab:blue", label="median")
    shown = scheme_names(ds).get(scheme, scheme) if scheme else ""
    ax.set_title(f"{LABELS.get(variable, variable)}" + (f", {shown}" if shown else ""))
    ax.set_xlabel("year")
    ax.legend(loc="best", fontsize=8)
    return ax


def depletion_chart(ds: xr.Dataset, ax=None):
    """The probability that each funded scheme's reserve is exhausted by each year."""
    if ax is None:
        ax = Figure(figsize=(7, 4)).subplots()
    names = scheme_names(ds)
    for scheme in funded_schemes(ds):
        ax.plot(ds["year"].values, ds["depletion_probability"].sel(scheme=scheme),
                label=names[scheme])
    ax.set_ylim(0, 1)
    ax.set_title("Probability that the reserve is exhausted by the end of the year")
    ax.set_xlabel("year")
    ax.legend(loc="best", fontsize=8)
    return ax


def tornado_chart(sens: xr.Dataset, scheme: str, measure: str = "actuarial_balance", ax=None):
    """Horizontal bars of each assumption's low and high variant less the baseline, widest
    effect on top; returns the Axes."""
    if ax is None:
        ax = Figure(figsize=(7, 4)).subplots()
    effect = (sens[measure] - sens[f"baseline_{measure}"]).sel(scheme=scheme)
    order = np.argsort(np.nan_to_num(np.abs(effect).max("bound").values))
    names = sens["assumption"].values[order]
    rows = np.arange(len(names))
    for b, color in (("low", "tab:orange"), ("high", "tab:blue")):
        ax.barh(rows, effect.sel(bound=b).values[order], color=color, label=b)
    ax.set_yticks(rows, names)
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_title(f"{LABELS.get(measure, measure)}\n{scheme_names(sens)[scheme]}: change from "
                 "the baseline",
                 fontsize=10)
    ax.legend(loc="best", fontsize=8)
    return ax


def sobol_chart(sobol: xr.Dataset, scheme: str, measure: str = "actuarial_balance",
                ax=None):
    """Horizontal bars of each assumption's first-order (S1) and total (ST) Sobol index of
    ``measure`` with their confidence intervals, the largest total index on top; returns
    the Axes."""
    if ax is None:
        ax = Figure(figsize=(7, 4)).subplots()
    one = sobol.sel(scheme=scheme, measure=measure)
    order = np.argsort(np.nan_to_num(one["sobol_total"].values, nan=-np.inf))
    rows = np.arange(len(order))
    for name, label, shift, color in (("sobol_first_order", "first order (S1)", 0.2,
                                       "tab:blue"),
                                      ("sobol_total", "total (ST)", -0.2, "tab:orange")):
        ax.barh(rows + shift, one[name].values[order], height=0.4, color=color, label=label,
                xerr=one[f"{name}_conf"].values[order], error_kw={"elinewidth": 0.8})
    ax.set_yticks(rows, one["assumption"].values[order])
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_xlim(min(0.0, ax.get_xlim()[0]), max(1.0, ax.get_xlim()[1]))
    level = float(sobol.attrs.get("conf_level", 0.95))
    ax.set_title(f"{LABELS.get(measure, measure)}, {scheme_names(sobol)[scheme]}: share of "
                 "the variance\n"
                 f"({sobol.attrs.get('points')} points; bars: {level:.0%} intervals)",
                 fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    return ax


def sobol_pngs(sobol: xr.Dataset) -> dict[str, bytes]:
    """A chart of the Sobol indices of each measure per funded scheme, as PNG bytes
    (``sobol_<scheme>.png``; a measure that does not vary is left out)."""
    figures = {}
    for scheme in sobol_schemes(sobol):
        measures = [str(m) for m in sobol["measure"].values
                    if not np.all(np.isnan(sobol["sobol_total"].sel(scheme=scheme,
                                                                    measure=m)))]
        if not measures:
            continue
        figure = Figure(figsize=(7, 3.5 * len(measures)))
        for ax, measure in zip(figure.subplots(len(measures), 1, squeeze=False)[:, 0],
                               measures, strict=True):
            sobol_chart(sobol, scheme, measure, ax)
        figures[f"sobol_{scheme}.png"] = figure
    return _png_bytes(figures)


def stochastic_pngs(ds: xr.Dataset) -> dict[str, bytes]:
    """The figures as PNG bytes by file name: a fan chart of each of :data:`FAN_VARIABLES`
    per funded scheme, and the depletion probabilities."""
    figures = {}
    for scheme in funded_schemes(ds):
        for variable in FAN_VARIABLES:
            figures[f"fan_{variable}_{scheme}.png"] = fan_chart(ds, variable, scheme).figure
    figures["depletion_probability.png"] = depletion_chart(ds).figure
    return _png_bytes(figures)


def sensitivity_pngs(sens: xr.Dataset, sobol: xr.Dataset | None = None) -> dict[str, bytes]:
    """A tornado chart of the actuarial balance per funded scheme, and with ``sobol`` (the
    global analysis) its charts (:func:`sobol_pngs`), as PNG bytes."""
    out = _png_bytes({f"tornado_{scheme}.png": tornado_chart(sens, scheme).figure
                      for scheme in sensitivity_schemes(sens)})
    return out if sobol is None else {**out, **sobol_pngs(sobol)}


def _png_bytes(figures: dict) -> dict[str, bytes]:
    out = {}
    for name, figure in figures.items():
        buffer = io.BytesIO()
        figure.tight_layout()
        figure.savefig(buffer, format="png", dpi=110)
        out[name] = buffer.getvalue()
    return out


def write_stochastic_workbook(ds: xr.Dataset, path: Path, overwrite: bool = False) -> Path:
    """The workbook of a stochastic projection: a Summary sheet and one sheet per funded
    scheme with its fan charts (native Excel: shaded percentile bands) and the probability
    of depletion; written atomically."""
    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    _summary_sheet(summary, ds)
    for scheme in funded_schemes(ds):
        _scheme_sheet(wb.create_sheet(scheme[:31]), ds, scheme)
    finish_workbook(wb, ds.attrs.get("title", "stochastic projection"))
    return atomic_write(path, wb.save, overwrite)


def sensitivity_schemes(sens: xr.Dataset) -> list[str]:
    """The schemes of sensitivity tests with a fund (a baseline actuarial balance)."""
    balance = sens["baseline_actuarial_balance"]
    return [str(s) for s in sens["scheme"].values if np.isfinite(balance.sel(scheme=s))]


def write_sensitivity_workbook(sens: xr.Dataset, path: Path, overwrite: bool = False,
                               sobol: xr.Dataset | None = None) -> Path:
    """The workbook of sensitivity tests: the variants' values, actuarial balances and
    depletion years per funded scheme, with a bar chart each, and with ``sobol`` (the
    global analysis) a Sobol sheet of its indices; written atomically."""
    wb = Workbook()
    _sensitivity_sheet(wb.active, sens, sensitivity_schemes(sens))
    wb.active.title = "Sensitivity"
    if sobol is not None:
        _sobol_sheet(wb.create_sheet("Sobol"), sobol)
    finish_workbook(wb, sens.attrs.get("title", "sensitivity tests"))
    return atomic_write(path, wb.save, overwrite)


def _summary_sheet(ws, ds: xr.Dataset) -> None:
    q = ds["percentile"].values
    sheet_title(ws, f"{ds.attrs.get('title', '')}: stochastic projection",
                f"{ds.attrs['draws']} draws, seed {ds.attrs.get('seed')}; cohort engine; "
                "see docs/stochastic.md")
    write_header(ws, 4, ["Scheme", "Measure", *[f"P{x:g}" for x in q], "Mean"])
    row, names = 5, scheme_names(ds)
    for scheme in funded_schemes(ds):
        for measure, fmt in (("actuarial_balance", FMT_PCT),
                             ("general_average_premium", FMT_PCT),
                             ("depletion_year", FMT_YEAR)):
            put(ws, row, 1, names[scheme])
            put(ws, row, 2, LABELS.get(measure, measure.replace("_", " ")))
            values = ds[f"{measure}_percentiles"].sel(scheme=scheme).values
            for j, v in enumerate(values):
                put(ws, row, 3 + j, "beyond the horizon" if np.isnan(v) else float(v), fmt)
            if f"{measure}_mean" in ds:
                put(ws, row, 3 + len(q), float(ds[f"{measure}_mean"].sel(scheme=scheme)), fmt)
            row += 1
    row = put_note(ws, row + 1, "Depletion year: the first year whose reserve ends below "
                   "zero; draws that never deplete within the horizon count as later.")
    fit_columns(ws, skip_rows=3)


def _scheme_sheet(ws, ds: xr.Dataset, scheme: str) -> None:
    """Percentiles of each fan variable and the probability of depletion by year, in a
    table under their charts (the two fan charts side by side, the probability below),
    so that the charts are what the sheet opens on."""
    q = ds["percentile"].values
    years = ds["year"].values
    sheet_title(ws, f"{scheme_names(ds)[scheme]}: percentiles over {ds.attrs['draws']} "
                "draws")
    header = 3 + 2 * CHART_ROWS
    first, last = header + 1, header + len(years)
    col = 1
    headers = ["Year"]
    for variable in FAN_VARIABLES:
        headers += [f"{LABELS.get(variable, variable)} P{x:g}" for x in q]
    headers.append("P(exhausted by year end)")
    write_header(ws, header, headers)
    ws.print_title_rows = f"{header}:{header}"
    for i, year in enumerate(years):
        put(ws, first + i, 1, int(year), FMT_YEAR)
    beside = get_column_letter(column_after(ws, 1, CHART_WIDTH_CM + 0.5))
    anchors = ["A3", f"{beside}3", f"A{3 + CHART_ROWS}"]
    for k, variable in enumerate(FAN_VARIABLES):
        values = ds[f"{variable}_percentiles"].sel(scheme=scheme).transpose(
            "percentile", "year").values
        fmt = FMT_PCT if variable == "paygo_cost_rate" else FMT_RATIO
        for j in range(len(q)):
            for i in range(len(years)):
                v = values[j, i]
                put(ws, first + i, col + 1 + j, None if np.isnan(v) else float(v), fmt)
        _band_chart(ws, variable, q, col + 1, first, last, anchors[k])
        col += len(q)
    probability = ds["depletion_probability"].sel(scheme=scheme).values
    for i, p in enumerate(probability):
        put(ws, first + i, col + 1, float(p), FMT_PCT)
    chart = LineChart()
    chart.title = chart_title("Probability that the reserve is exhausted by the end of the "
                              "year")
    chart.x_axis.title = chart_title("Year", 9, bold=False)
    chart.y_axis.title = chart_title("probability", 9, bold=False)
    chart.y_axis.number_format = FMT_PCT
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0.0, 1.0
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.legend.position = "b"
    chart.append(Series(Reference(ws, min_col=col + 1, min_row=first, max_row=last),
                        title="probability"))
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    chart.height, chart.width = 8.0, 18.0
    ws.add_chart(chart, anchors[-1])


def _band_chart(ws, variable: str, q: np.ndarray, first_col: int, first: int, last: int,
                anchor: str) -> None:
    """Shaded percentile bands as a stacked area chart: an unfilled lowest layer up to the
    lowest percentile, then one layer per gap between percentiles (helper columns to the
    right of the table hold the gaps)."""
    gaps_col = ws.max_column + 2
    put(ws, first - 1, gaps_col, f"{variable}: layers of the band chart")
    for k in range(len(q)):
        for row in range(first, last + 1):
            here = ws.cell(row=row, column=first_col + k).coordinate
            below = ws.cell(row=row, column=first_col + k - 1).coordinate
            ws.cell(row=row, column=gaps_col + k).value = (f"={here}" if k == 0
                                                           else f"={here}-{below}")
    chart = AreaChart()
    chart.grouping = "stacked"
    chart.title = chart_title(f"{LABELS.get(variable, variable)}: percentile bands")
    chart.x_axis.title = chart_title("Year", 9, bold=False)
    chart.y_axis.title = chart_title(LABELS.get(variable, variable), 9, bold=False)
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.x_axis.tickLblPos = "low"
    chart.legend.position = "b"
    chart.height, chart.width = 8.0, 18.0
    chart.y_axis.number_format = FMT_PCT if variable == "paygo_cost_rate" else FMT_RATIO
    for k in range(len(q)):
        label = f"P{q[0]:g}" if k == 0 else f"P{q[k - 1]:g}-P{q[k]:g}"
        series = Series(Reference(ws, min_col=gaps_col + k, min_row=first, max_row=last),
                        title=label)
        if k == 0:
            series.graphicalProperties.noFill = True
        chart.series.append(series)
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    ws.add_chart(chart, anchor)


def scheme_names(ds: xr.Dataset) -> dict[str, str]:
    """The name each scheme id reads as in titles, legends and tables
    (:func:`~spfsim.report.workbook.cells.legend_names`; the id itself where the Dataset
    has no ``scheme_name``)."""
    return legend_names(scheme_infos(ds))


def _sensitivity_sheet(ws, sens: xr.Dataset, schemes: list[str]) -> None:
    """The variants' values, actuarial balances and depletion years per funded scheme,
    under a bar chart of each scheme's actuarial balances (the charts first, where the
    sheet opens, as on the report's sheets)."""
    names = scheme_names(sens)
    sheet_title(ws, "Sensitivity tests: one assumption at a time",
                "value: the deviation of each variant (units in the dataset's attrs)")
    header = 4 + CHART_ROWS * len(schemes)
    write_header(ws, header, ["Scheme", "Assumption", "Low value", "High value",
                              "Actuarial balance, low", "baseline", "high",
                              "Depletion year, low", "baseline", "high"])
    row, blocks = header + 1, []
    for scheme in schemes:
        first = row
        for name in sens["assumption"].values:
            one = sens.sel(assumption=name, scheme=scheme)
            values = [float(one["value"].sel(bound="low")), float(one["value"].sel(bound="high")),
                      float(one["actuarial_balance"].sel(bound="low")),
                      float(sens["baseline_actuarial_balance"].sel(scheme=scheme)),
                      float(one["actuarial_balance"].sel(bound="high")),
                      float(one["depletion_year"].sel(bound="low")),
                      float(sens["baseline_depletion_year"].sel(scheme=scheme)),
                      float(one["depletion_year"].sel(bound="high"))]
            put(ws, row, 1, names[scheme])
            put(ws, row, 2, str(name))
            for j, v in enumerate(values):
                fmt = FMT_YEAR if j >= 5 else (FMT_PCT if j >= 2 else "0.0000")
                put(ws, row, 3 + j, "beyond the horizon" if np.isnan(v) and j >= 5
                    else float(v), fmt)
            row += 1
        blocks.append((scheme, first, row - 1))
    fit_columns(ws, skip_rows=3)
    for k, (scheme, first, last) in enumerate(blocks):
        chart = _bars_by_assumption(
            ws, f"Actuarial balance by variant, {names[scheme]}", "% of insured earnings",
            FMT_PCT, ((5, "low"), (7, "high")), 2, (first, last))
        chart.height, chart.width = 8.0, 16.0
        ws.add_chart(chart, f"A{4 + CHART_ROWS * k}")


_SOBOL_CHART = (14.0, 7.0)  # width, height (cm) of a Sobol chart, two side by side
_SOBOL_CHART_ROWS = 16


def _sobol_sheet(ws, sobol: xr.Dataset) -> None:
    """The Sobol indices of each funded scheme's measures: a bar chart of S1 and ST per
    scheme and measure, two side by side, above the table."""
    level = float(sobol.attrs.get("conf_level", 0.95))
    names = scheme_names(sobol)
    sheet_title(ws, "Global (Sobol) sensitivity: every assumption uniform over its range, "
                "all moved together",
                f"{sobol.attrs.get('samples')} base samples, {sobol.attrs.get('points')} "
                f"points, seed {sobol.attrs.get('seed')}; see docs/stochastic.md")
    pairs = [(scheme, measure) for scheme in sobol_schemes(sobol)
             for measure in sobol["measure"].values]
    charted = [(scheme, m) for scheme, m in pairs
               if not np.all(np.isnan(sobol["sobol_total"].sel(scheme=scheme, measure=m)))]
    header = 4 + _SOBOL_CHART_ROWS * ((len(charted) + 1) // 2)
    write_header(ws, header, ["Scheme", "Measure", "Assumption", "Low value", "High value",
                              "First order (S1)", f"S1 +- ({level:.0%})", "Total (ST)",
                              f"ST +- ({level:.0%})"])
    row, blocks = header + 1, {}
    assumptions = [str(n) for n in sobol["assumption"].values]
    for scheme, measure in pairs:
        one = sobol.sel(scheme=scheme, measure=measure)
        blocks[(scheme, measure)] = (row, row + len(assumptions) - 1)
        for name in assumptions:
            at = one.sel(assumption=name)
            put(ws, row, 1, names[scheme])
            put(ws, row, 2, LABELS.get(str(measure), str(measure)))
            put(ws, row, 3, name)
            put(ws, row, 4, float(at["value"].sel(bound="low")), "0.0000")
            put(ws, row, 5, float(at["value"].sel(bound="high")), "0.0000")
            for j, index in enumerate(("sobol_first_order", "sobol_first_order_conf",
                                       "sobol_total", "sobol_total_conf")):
                v = float(at[index])
                put(ws, row, 6 + j, "does not vary" if np.isnan(v) else v, "0.000")
            row += 1
    put_note(ws, row + 1, "S1: share of the measure's variance the assumption explains "
             "alone; ST: with its interactions (ST >= S1 up to sampling error). Depletion "
             "year: a reserve lasting the horizon counts as depleted in "
             f"{sobol.attrs.get('depletion_beyond_horizon')}. +-: half-width of the "
             "bootstrap confidence interval.")
    fit_columns(ws, skip_rows=3)
    width, height = _SOBOL_CHART
    beside = get_column_letter(column_after(ws, 1, width + 0.5))
    for k, (scheme, measure) in enumerate(charted):
        chart = _bars_by_assumption(
            ws, f"Sobol indices: {LABELS.get(str(measure), str(measure))}, {names[scheme]}",
            "share of the variance", "0.00",
            ((6, "first order (S1)"), (8, "total (ST)")), 3, blocks[(scheme, measure)])
        chart.height, chart.width = height, width
        ws.add_chart(chart, f"{beside if k % 2 else 'A'}{4 + _SOBOL_CHART_ROWS * (k // 2)}")


def _bars_by_assumption(ws, title: str, axis_title: str, number_format: str,
                        columns: tuple[tuple[int, str], ...], category_column: int,
                        rows: tuple[int, int]) -> BarChart:
    """A horizontal bar chart of the table's ``columns`` (column, series name) over the
    assumptions named in ``category_column``, rows ``rows`` (first, last)."""
    chart = BarChart()
    chart.type = "bar"
    chart.title = chart_title(title)
    chart.x_axis.title = chart_title("assumption", 9, bold=False)
    chart.y_axis.title = chart_title(axis_title, 9, bold=False)
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.legend.position = "b"
    chart.y_axis.number_format = number_format
    first, last = rows
    for col, label in columns:
        chart.series.append(Series(Reference(ws, min_col=col, min_row=first, max_row=last),
                                   title=label))
    chart.set_categories(Reference(ws, min_col=category_column, min_row=first, max_row=last))
    return chart
