"""The workbook comparing a batch's cases (spfsim batch --workbook): one row per case with
its axis values and key indicators, and charts of them.

It takes the batch store's Dataset (``case`` dimension, one coordinate per axis; see
docs/batch.md) and shows, for every scheme with a fund, the actuarial balance, general
average premium and depletion year where the batch kept them, and the PAYG cost rate and
reserve ratio in the chosen years; the coverage rate of each guarantee in the last year.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference, Series

from .io import atomic_write
from .workbook.cells import (
    FMT_YEAR,
    chart_title,
    finish_workbook,
    fit_columns,
    put,
    sheet_title,
    write_header,
)

FMT_PCT, FMT_RATIO = "0.00%", "0.00"
PER_SCHEME = (("actuarial_balance", FMT_PCT), ("general_average_premium", FMT_PCT),
              ("depletion_year", FMT_YEAR))
PER_YEAR = (("paygo_cost_rate", FMT_PCT), ("reserve_ratio", FMT_RATIO))
# a stochastic batch's summaries over the draws (spfsim.stochastic): means, the
# probability of depletion by a year, and medians
STOCHASTIC_PER_SCHEME = (("actuarial_balance_mean", FMT_PCT),
                         ("general_average_premium_mean", FMT_PCT))
STOCHASTIC_PER_YEAR = (("depletion_probability", FMT_PCT),)
MEDIAN_PER_SCHEME = (("depletion_year_percentiles", FMT_YEAR),)
MEDIAN_PER_YEAR = (("paygo_cost_rate_percentiles", FMT_PCT),
                   ("reserve_ratio_percentiles", FMT_RATIO))
MEDIAN = 50.0


def report_years(ds: xr.Dataset) -> list[int]:
    """The first year, 10 and 25 years on, and the last, within the projection."""
    years = ds["year"].values
    first, last = int(years[0]), int(years[-1])
    return sorted({y for y in (first, first + 10, first + 25, last) if first <= y <= last})


def funded(ds: xr.Dataset) -> list[str]:
    """Schemes whose actuarial balance (or reserve ratio) is a number in some case."""
    for name in ("actuarial_balance", "reserve_ratio", "actuarial_balance_mean"):
        if name in ds:
            values = ds[name]
            other = [d for d in values.dims if d != "scheme"]
            some = np.isfinite(values).any(other)
            return [str(s) for s in ds["scheme"].values if bool(some.sel(scheme=s))]
    return []


def _columns(ds: xr.Dataset, years: list[int]) -> list[tuple[str, str, np.ndarray]]:
    """(header, number format, values by case) of every column after the axes."""
    columns = []
    median = {"percentile": MEDIAN} if "percentile" in ds.coords and \
        MEDIAN in ds["percentile"].values else None
    for scheme in funded(ds):
        for name, fmt in (*PER_SCHEME, *STOCHASTIC_PER_SCHEME):
            if name in ds:
                columns.append((f"{scheme}: {name.replace('_', ' ')}", fmt,
                                ds[name].sel(scheme=scheme).values))
        for name, fmt in MEDIAN_PER_SCHEME:
            if name in ds and median:
                columns.append((f"{scheme}: median {name[:-12].replace('_', ' ')}", fmt,
                                ds[name].sel(scheme=scheme, **median).values))
        for name, fmt in (*PER_YEAR, *STOCHASTIC_PER_YEAR):
            if name in ds:
                for year in years:
                    columns.append((f"{scheme}: {name.replace('_', ' ')} {year}", fmt,
                                    ds[name].sel(scheme=scheme, year=year).values))
        for name, fmt in MEDIAN_PER_YEAR:
            if name in ds and median:
                for year in years:
                    columns.append((f"{scheme}: median {name[:-12].replace('_', ' ')} {year}",
                                    fmt, ds[name].sel(scheme=scheme, year=year,
                                                      **median).values))
    if "coverage_rate" in ds:
        last = int(ds["year"].values[-1])
        for guarantee in ds["guarantee"].values:
            columns.append((f"coverage {guarantee} {last}", FMT_PCT,
                            ds["coverage_rate"].sel(guarantee=guarantee, year=last).values))
    return columns


def write_batch_workbook(ds: xr.Dataset, path: Path, overwrite: bool = False) -> Path:
    """The comparison workbook of a batch store's Dataset (raw: no index on ``case``);
    written atomically."""
    axes = list(json.loads(ds.attrs.get("axes", "{}")).values())
    years = report_years(ds)
    wb = Workbook()
    ws = wb.active
    ws.title = "Cases"
    sheet_title(ws, f"Batch {Path(str(ds.attrs.get('batch_file', ''))).name}: "
                f"{ds.sizes['case']} cases", "one row per case; empty: the case failed "
                "(its error is in the store's error variable)")
    columns = _columns(ds, years)
    write_header(ws, 4, ["case", *axes, "done", *[c[0] for c in columns]])
    done = ds["done"].values.astype(bool)
    for i in range(ds.sizes["case"]):
        row = 5 + i
        put(ws, row, 1, i)
        for j, axis in enumerate(axes):
            value = ds[axis].values[i]
            put(ws, row, 2 + j, value.item() if hasattr(value, "item") else value)
        put(ws, row, 2 + len(axes), "yes" if done[i] else "no")
        for j, (_, fmt, values) in enumerate(columns):
            v = float(values[i])
            put(ws, row, 3 + len(axes) + j, None if not done[i] or np.isnan(v) else v, fmt)
    ws.freeze_panes = ws.cell(row=5, column=2)
    fit_columns(ws, skip_rows=3)
    _charts(wb, ds, axes, done)
    finish_workbook(wb, f"batch {ds.attrs.get('batch_file', '')}")
    return atomic_write(path, wb.save, overwrite)


def _charts(wb: Workbook, ds: xr.Dataset, axes: list[str], done: np.ndarray) -> None:
    """A Charts sheet per funded scheme: the actuarial balance by case (bars) and the PAYG
    cost rate by year of each case (lines, up to 12 cases)."""
    for scheme in funded(ds)[:3]:
        ws = wb.create_sheet(f"Charts {scheme}"[:31])
        labels = [", ".join(f"{a}={ds[a].values[i]}" for a in axes) or str(i)
                  for i in range(ds.sizes["case"])]
        write_header(ws, 1, ["case", "actuarial balance"])
        for i, label in enumerate(labels):
            put(ws, 2 + i, 1, label)
            balance = "actuarial_balance" if "actuarial_balance" in ds \
                else "actuarial_balance_mean"  # a stochastic batch's: its mean over draws
            value = float(ds[balance].sel(scheme=scheme).values[i]) \
                if balance in ds and done[i] else float("nan")
            put(ws, 2 + i, 2, None if np.isnan(value) else value, FMT_PCT)
        bars = BarChart()
        bars.type, bars.title = "bar", chart_title(f"Actuarial balance by case, {scheme}")
        bars.x_axis.title = chart_title("case", 9, bold=False)
        bars.y_axis.title = chart_title("% of insured earnings", 9, bold=False)
        bars.x_axis.delete = bars.y_axis.delete = False
        bars.legend.position = "b"
        bars.y_axis.number_format = FMT_PCT
        bars.add_data(Reference(ws, min_col=2, min_row=1, max_row=1 + len(labels)),
                      titles_from_data=True)
        bars.set_categories(Reference(ws, min_col=1, min_row=2, max_row=1 + len(labels)))
        bars.height, bars.width = 9.0, 16.0
        ws.add_chart(bars, "D2")
        if "paygo_cost_rate" in ds:
            _cost_rate_lines(ws, ds, scheme, labels, done, 4 + len(labels))


def _cost_rate_lines(ws, ds: xr.Dataset, scheme: str, labels: list[str], done: np.ndarray,
                     top: int) -> None:
    shown = [i for i in range(len(labels)) if done[i]][:12]
    years = ds["year"].values
    write_header(ws, top, ["year", *[labels[i] for i in shown]])
    rates = ds["paygo_cost_rate"].sel(scheme=scheme).transpose("case", "year").values
    for t, year in enumerate(years):
        put(ws, top + 1 + t, 1, int(year), FMT_YEAR)
        for j, i in enumerate(shown):
            v = float(rates[i, t])
            put(ws, top + 1 + t, 2 + j, None if np.isnan(v) else v, FMT_PCT)
    lines = LineChart()
    lines.title, lines.y_axis.number_format = chart_title(f"PAYG cost rate, {scheme}"), FMT_PCT
    lines.x_axis.title = chart_title("Year", 9, bold=False)
    lines.y_axis.title = chart_title("% of insured earnings", 9, bold=False)
    lines.x_axis.delete = lines.y_axis.delete = False
    lines.x_axis.tickLblPos = "low"
    lines.legend.position = "b"
    for j in range(len(shown)):
        lines.append(Series(Reference(ws, min_col=2 + j, min_row=top + 1,
                                      max_row=top + len(years)), title=labels[shown[j]]))
    lines.set_categories(Reference(ws, min_col=1, min_row=top + 1, max_row=top + len(years)))
    lines.height, lines.width = 9.0, 16.0
    ws.add_chart(lines, "D22")
