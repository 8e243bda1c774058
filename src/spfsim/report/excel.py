"""The Excel workbook: a summary, one sheet per scheme, the floor, adequacy, sustainability
and equity sheets (when the Dataset has their variables), population, assumptions and
metadata.

Money and persons are written as numbers in the Dataset's units (money: the model's currency,
at the price basis the Dataset's attrs state); fractions (PAYG cost rate, cost to GDP,
dependency ratio) are written as fractions with a percent number format, so ``0.12`` shows as
``12.00%``. The reserve ratio (reserve / expenditure of the year) is shown as a multiple
(``2.50`` = reserves worth two and a half years of expenditure).

Every text that reaches a cell passes through :func:`neutralise_text`, so text from a model file
(a scheme named ``=HYPERLINK(...)``) can never become a formula. NaN and infinite values are
written as empty cells. The file is written atomically (see :mod:`spfsim.report.io`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import xarray as xr
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import LineChart, Reference, Series
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..engine.benefits import WORKING_AGES
from ..jumps import THRESHOLD
from .dataset import (
    SchemeInfo,
    check_single_projection,
    complete_cohort_mask,
    lump_sum_cost_rate,
    scheme_infos,
)
from .io import atomic_write, check_writable

__all__ = ["AssumptionRow", "neutralise_text", "sheet_name_for", "write_workbook"]

#: One row of the assumptions table: (section, name, value, unit, description).
AssumptionRow = tuple[str, str, object, str, str]

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_MAX_CELL_CHARS = 32_767
_FIXED_SHEETS = ("Summary", "Population", "Assumptions", "Metadata", "Floor", "Adequacy",
                 "Sustainability", "Equity")

_FMT_COUNT = "#,##0"
_FMT_PERCENT = "0.00%"
_FMT_RATIO = "0.00"
_FMT_YEAR = "0"
_FMT_DECIMAL = "#,##0.00"

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEADING = Font(bold=True, size=12)
_UNITS = Font(italic=True, color="555555")
_HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
_HEADER_BORDER = Border(bottom=Side(style="thin"))

# Scheme-sheet columns: (header, variable, how to reduce it, format, unit shown or None = attrs).
_SCHEME_COLUMNS: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("Contributors", "contributors", "sum", _FMT_COUNT, None),
    ("Beneficiaries", "beneficiaries", "sum", _FMT_COUNT, None),
    ("Insured earnings", "insured_earnings", "as_is", _FMT_COUNT, None),
    ("Contribution income", "contribution_income", "as_is", _FMT_COUNT, None),
    ("State transfer", "state_transfer", "as_is", _FMT_COUNT, None),
    ("Investment income", "investment_income", "as_is", _FMT_COUNT, None),
    ("Benefit expenditure", "benefit_expenditure", "as_is", _FMT_COUNT, None),
    ("Admin expenditure", "admin_expenditure", "as_is", _FMT_COUNT, None),
    ("Reserve (end of year)", "reserve", "as_is", _FMT_COUNT, None),
    ("PAYG cost rate", "paygo_cost_rate", "as_is", _FMT_PERCENT, "% of insured earnings"),
    ("Reserve ratio", "reserve_ratio", "as_is", _FMT_RATIO, "x annual expenditure"),
    ("Cost % of GDP", "cost_to_gdp", "as_is", _FMT_PERCENT, "% of GDP"),
)

_REQUIRED = (
    "population", "births", "deaths", "net_migration", "life_expectancy",
    *(c[1] for c in _SCHEME_COLUMNS), "depletion_year",
)


# --------------------------------------------------------------------------- text and cells


def neutralise_text(text: str) -> str:
    """Text made safe for a spreadsheet cell.

    Characters Excel cannot store are removed, and text that a spreadsheet could read as a
    formula (starting with ``=``, ``+``, ``-``, ``@``, tab, CR or LF) gets a leading single
    quote, so ``"=HYPERLINK(...)"`` is stored and shown as the text ``'=HYPERLINK(...)``.
    Text longer than a cell can hold (32,767 characters) is cut.
    """
    text = ILLEGAL_CHARACTERS_RE.sub("", str(text))
    if text.startswith(_FORMULA_TRIGGERS):
        text = "'" + text
    return text[:_MAX_CELL_CHARS]


def _cell_value(value: object) -> object:
    """A value openpyxl writes as a constant: numbers, booleans, neutralised text or None."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 10**15 else neutralise_text(str(value))
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dt.datetime):
        return neutralise_text(value.isoformat())
    if isinstance(value, dt.date):
        return value
    return neutralise_text(value if isinstance(value, str) else str(value))


def _put(ws: Worksheet, row: int, col: int, value: object, fmt: str | None = None,
         font: Font | None = None) -> None:
    cell = ws.cell(row=row, column=col)
    cell.value = _cell_value(value)
    if isinstance(cell.value, str):
        cell.data_type = "s"  # never a formula, whatever the text
    if fmt is not None:
        cell.number_format = fmt
    if font is not None:
        cell.font = font


def _header(ws: Worksheet, row: int, labels: Sequence[str], col: int = 1) -> None:
    for j, label in enumerate(labels):
        _put(ws, row, col + j, label, font=_BOLD)
        cell = ws.cell(row=row, column=col + j)
        cell.fill = _HEADER_FILL
        cell.border = _HEADER_BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _units_row(ws: Worksheet, row: int, units: Sequence[str], col: int = 1) -> None:
    for j, unit in enumerate(units):
        _put(ws, row, col + j, unit, font=_UNITS)
        ws.cell(row=row, column=col + j).fill = _HEADER_FILL


def _fit_columns(ws: Worksheet, skip_rows: int = 0, minimum: float = 8,
                 maximum: float = 48) -> None:
    """Column widths from the longest shown value (rows after ``skip_rows``)."""
    widths: dict[int, float] = {}
    for row in ws.iter_rows(min_row=skip_rows + 1):
        for cell in row:
            value = cell.value
            if value is None:
                continue
            if isinstance(value, bool):
                n = 5
            elif isinstance(value, int | float):
                if "%" in cell.number_format:
                    n = len(f"{value * 100:,.2f}%")
                elif cell.number_format == _FMT_YEAR:
                    n = len(str(value))
                else:
                    n = len(f"{value:,.2f}")
            else:
                n = max(len(line) for line in str(value).split("\n"))
            widths[cell.column] = max(widths.get(cell.column, 0), n)
    for col, n in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = min(max(n + 2, minimum), maximum)


def sheet_name_for(scheme_id: str, taken: Iterable[str] = ()) -> str:
    """A valid, unique Excel sheet name for a scheme id.

    Characters Excel forbids (``[]:*?/\\`` and control characters) become ``_``, leading and
    trailing apostrophes are dropped, the name is cut to 31 characters and, if it clashes
    (case-insensitively) with a name in ``taken`` or a fixed sheet name, suffixed ``~2``, ``~3``...
    """
    name = re.sub(r"[\[\]:*?/\\\x00-\x1f\x7f]", "_", str(scheme_id)).strip().strip("'").strip()
    name = name or "scheme"
    used = {t.casefold() for t in (*_FIXED_SHEETS, "History", *taken)}
    candidate, n = name[:31], 1
    while candidate.casefold() in used:
        n += 1
        suffix = f"~{n}"
        candidate = name[: 31 - len(suffix)] + suffix
    return candidate


# --------------------------------------------------------------------------- dataset access


def _years(ds: xr.Dataset) -> list[int]:
    return [int(y) for y in ds["year"].values]


def key_years(ds: xr.Dataset) -> list[int]:
    """Base year, base year + 25 (when within the horizon) and end year, without repeats."""
    years = _years(ds)
    base, end = years[0], years[-1]
    wanted = [base, base + 25, end]
    return sorted({y for y in wanted if y in set(years)})


def _total(da: xr.DataArray, keep: Sequence[str]) -> xr.DataArray:
    """Sum over every dimension not in ``keep`` (NaNs skipped)."""
    drop = [d for d in da.dims if d not in keep]
    return da.sum(drop) if drop else da


def _attr_units(ds: xr.Dataset, name: str) -> str:
    return str(ds[name].attrs.get("units", ""))


def _population_table(ds: xr.Dataset) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """Headers, units, formats and a (year, column) array for the Population sheet."""
    pop = ds["population"]
    age = ds["age"]
    sexes = [str(s) for s in ds["sex"].values]
    total = _total(pop, ("year",))
    by_sex = _total(pop, ("year", "sex"))
    young = _total(pop.where(age <= 14, 0.0), ("year",))
    working = _total(pop.where((age >= 15) & (age <= 64), 0.0), ("year",))
    old = _total(pop.where(age >= 65, 0.0), ("year",))
    with np.errstate(divide="ignore", invalid="ignore"):
        dependency = np.where(working.values > 0, old.values / working.values, np.nan)
    cols: list[tuple[str, str, str, np.ndarray]] = [
        ("Total population", "persons", _FMT_COUNT, total.values),
        *((f"{s.capitalize()}", "persons", _FMT_COUNT, by_sex.sel(sex=s).values) for s in sexes),
        ("Aged 0-14", "persons", _FMT_COUNT, young.values),
        ("Aged 15-64", "persons", _FMT_COUNT, working.values),
        ("Aged 65+", "persons", _FMT_COUNT, old.values),
        ("Old-age dependency ratio (65+ / 15-64)", "%", _FMT_PERCENT, dependency),
        ("Births", _attr_units(ds, "births"), _FMT_COUNT, _total(ds["births"], ("year",)).values),
        ("Deaths", _attr_units(ds, "deaths"), _FMT_COUNT, _total(ds["deaths"], ("year",)).values),
        ("Net migration", _attr_units(ds, "net_migration"), _FMT_COUNT,
         _total(ds["net_migration"], ("year",)).values),
        *((f"Life expectancy at birth, {s}", _attr_units(ds, "life_expectancy"), _FMT_DECIMAL,
           ds["life_expectancy"].sel(sex=s).transpose("year").values) for s in sexes),
    ]
    headers = [c[0] for c in cols]
    units = [c[1] for c in cols]
    formats = [c[2] for c in cols]
    table = np.column_stack([np.asarray(c[3], dtype=float) for c in cols])
    return headers, units, formats, table


_PERIODIC, _LUMP_SUMS = "PAYG cost rate, periodic benefits", "PAYG cost rate, lump sums"


def _scheme_table(ds: xr.Dataset, scheme: SchemeInfo) -> tuple[list[str], list[str], list[str],
                                                              np.ndarray]:
    """The scheme sheet's columns; for a scheme paying lump sums (refunds) the PAYG cost
    rate of its periodic benefits and of its lump sums follow the total."""
    headers, units, formats, columns = [], [], [], []
    lump = lump_sum_cost_rate(ds, scheme.index)
    for label, var, how, fmt, unit in _SCHEME_COLUMNS:
        da = ds[var].isel(scheme=scheme.index)
        da = _total(da, ("year",)) if how == "sum" else da.transpose("year")
        headers.append(label)
        units.append(unit if unit is not None else _attr_units(ds, var))
        formats.append(fmt)
        columns.append(np.asarray(da.values, dtype=float))
        if var == "paygo_cost_rate" and lump is not None:
            headers += [_PERIODIC, _LUMP_SUMS]
            units += [unit, unit]
            formats += [fmt, fmt]
            columns += [columns[-1] - lump, lump]
    return headers, units, formats, np.column_stack(columns)


# --------------------------------------------------------------------------- sheets


def _title(ws: Worksheet, title: str, subtitle: str = "") -> None:
    _put(ws, 1, 1, title, font=_TITLE)
    if subtitle:
        _put(ws, 2, 1, subtitle, font=_UNITS)


def _year_table(ws: Worksheet, years: Sequence[int], headers: Sequence[str],
                units: Sequence[str], formats: Sequence[str], table: np.ndarray,
                header_row: int, first_label: str = "Year", freeze: bool = True) -> int:
    """Write Year (or ``first_label``, e.g. birth cohorts) + columns with a header and a
    units row; return the first data row. ``freeze``: freeze the rows above the data and
    the first column (off for a sheet holding several tables one below the other)."""
    _header(ws, header_row, [first_label, *headers])
    _units_row(ws, header_row + 1, ["", *units])
    first = header_row + 2
    for i, year in enumerate(years):
        _put(ws, first + i, 1, year, _FMT_YEAR)
        for j, fmt in enumerate(formats):
            _put(ws, first + i, 2 + j, float(table[i, j]), fmt)
    if freeze:
        ws.freeze_panes = ws.cell(row=first, column=2)
    return first


def _line_chart(ws: Worksheet, title: str, y_title: str, y_format: str,
                series: Sequence[tuple[int, str]], first: int, last: int,
                anchor: str) -> LineChart:
    chart = LineChart()
    chart.title = neutralise_text(title)
    chart.style = 10
    chart.height, chart.width = 8.0, 18.0
    chart.y_axis.title = neutralise_text(y_title)
    chart.x_axis.title = "Year"
    chart.y_axis.number_format = y_format
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    for col, label in series:
        values = Reference(ws, min_col=col, min_row=first, max_row=last)
        chart.series.append(Series(values, title=neutralise_text(label)))
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    ws.add_chart(chart, anchor)
    return chart


def _summary_sheet(ws: Worksheet, ds: xr.Dataset, schemes: list[SchemeInfo],
                   sheet_names: dict[str, str]) -> None:
    attrs = ds.attrs
    years = _years(ds)
    shown = key_years(ds)
    _title(ws, str(attrs.get("title", "spfsim projection")), "Summary of the projection")
    info = [
        ("Model", attrs.get("model", "")),
        ("Base year", years[0]),
        ("End year", years[-1]),
        ("Currency", attrs.get("currency", "")),
        ("Price basis", attrs.get("price_basis", "")),
        ("spfsim version", attrs.get("spfsim_version", "")),
        ("Created", attrs.get("created", "")),
    ]
    row = 3
    for key, value in info:
        _put(ws, row, 1, key, font=_BOLD)
        _put(ws, row, 2, value, _FMT_YEAR if isinstance(value, int) else None)
        row += 1

    row += 1
    _put(ws, row, 1, "Schemes", font=_HEADING)
    row += 1
    _header(ws, row, ["Scheme id", "Name", "Type", "Kind", "Depletion year", "Sheet"])
    row += 1
    depletion = ds["depletion_year"].values if "depletion_year" in ds else None
    for s in schemes:
        year = float(depletion[s.index]) if depletion is not None else float("nan")
        if not s.contributory:
            shown_depletion: object = "n/a (no fund)"  # financed from the budget each year
        elif np.isfinite(year):
            shown_depletion = int(year)
        else:
            shown_depletion = "not within horizon"
        for j, value in enumerate((s.id, s.name, s.type, s.kind.replace("_", "-"),
                                   shown_depletion, sheet_names[s.id])):
            _put(ws, row, 1 + j, value, _FMT_YEAR if j == 4 else None)
        row += 1
    if not schemes:
        _put(ws, row, 1, "(no schemes in this projection)")
        row += 1

    row += 1
    _put(ws, row, 1, "Key figures by scheme", font=_HEADING)
    row += 1
    _header(ws, row, ["Scheme id", "Name", "Indicator", "Unit", *map(str, shown)])
    row += 1
    indicators = (
        ("PAYG cost rate", "paygo_cost_rate", "% of insured earnings", _FMT_PERCENT),
        ("Cost % of GDP", "cost_to_gdp", "% of GDP", _FMT_PERCENT),
        ("Reserve ratio", "reserve_ratio", "x annual expenditure", _FMT_RATIO),
    )
    for s in schemes:
        for label, var, unit, fmt in indicators:
            series = ds[var].isel(scheme=s.index).sel(year=shown).values
            for j, value in enumerate((s.id, s.name, label, unit)):
                _put(ws, row, 1 + j, value)
            for j, value in enumerate(series):
                _put(ws, row, 5 + j, float(value), fmt)
            row += 1

    row += 1
    _put(ws, row, 1, "Population", font=_HEADING)
    row += 1
    _header(ws, row, ["Indicator", "", "", "Unit", *map(str, shown)])
    row += 1
    headers, _, _, table = _population_table(ds)
    index = {y: i for i, y in enumerate(years)}
    for label, col, unit, fmt in (("Total population", 0, "persons", _FMT_COUNT),
                                  ("Old-age dependency ratio (65+ / 15-64)",
                                   headers.index("Old-age dependency ratio (65+ / 15-64)"),
                                   "%", _FMT_PERCENT)):
        _put(ws, row, 1, label)
        _put(ws, row, 4, unit)
        for j, year in enumerate(shown):
            _put(ws, row, 5 + j, float(table[index[year], col]), fmt)
        row += 1
    _fit_columns(ws, skip_rows=2)
    ws.column_dimensions["A"].width = max(ws.column_dimensions["A"].width or 0, 16)
    # after fitting the columns: the sentences run on over the empty cells to their right
    _jumps_block(ws, ds, row + 1)


def _jumps_block(ws: Worksheet, ds: xr.Dataset, row: int) -> int:
    """Why a series jumps: the messages of ``attrs["jumps"]`` (spfsim.jumps), one a row;
    nothing for a Dataset without them. Return the next row."""
    if "jumps" not in ds.attrs:
        return row
    messages = [m for m in str(ds.attrs["jumps"]).splitlines() if m.strip()]
    _put(ws, row, 1, "Why a series jumps", font=_HEADING)
    row = _note(ws, row + 1, f"Year-on-year changes more than {THRESHOLD:.0%} off the "
                "trend of the years around them (money, persons and rates of each scheme), "
                "with the cause where the model knows it.")
    if not messages:
        return _note(ws, row, "No series jumps.")
    for message in messages:
        _put(ws, row, 1, message)
        row += 1
    return row


def _scheme_sheet(ws: Worksheet, ds: xr.Dataset, scheme: SchemeInfo) -> None:
    currency = ds.attrs.get("currency", "")
    basis = ds.attrs.get("price_basis", "")
    kind = scheme.kind.replace("_", "-") or "unknown kind"
    _title(ws, f"{scheme.name} ({scheme.id})",
           f"{kind} scheme, type {scheme.type}; money in {currency}, {basis}")
    headers, units, formats, table = _scheme_table(ds, scheme)
    years = _years(ds)
    first = _year_table(ws, years, headers, units, formats, table, header_row=3)
    last = first + len(years) - 1
    _fit_columns(ws, skip_rows=2, minimum=10, maximum=24)
    col = {label: 2 + j for j, label in enumerate(headers)}
    anchor_col = get_column_letter(len(headers) + 3)
    if scheme.contributory:
        # periodic benefits and lump sums apart, so that a year without lump sums (the
        # pensionable age rises) does not read as an unexplained dip of the cost rate
        parts = [(col[label], f"{label} (% of insured earnings)")
                 for label in (_PERIODIC, _LUMP_SUMS) if label in col]
        _line_chart(ws, f"{scheme.name}: PAYG cost rate and cost to GDP", "%", "0.0%",
                    [(col["PAYG cost rate"], "PAYG cost rate (% of insured earnings)"),
                     *parts, (col["Cost % of GDP"], "Cost (% of GDP)")],
                    first, last, f"{anchor_col}3")
        _line_chart(ws, f"{scheme.name}: reserve ratio", "reserve / annual expenditure",
                    "0.0", [(col["Reserve ratio"], "Reserve ratio")],
                    first, last, f"{anchor_col}20")
    else:
        _line_chart(ws, f"{scheme.name}: cost to GDP", "% of GDP", "0.00%",
                    [(col["Cost % of GDP"], "Cost (% of GDP)")], first, last, f"{anchor_col}3")


def _floor_sheet(ws: Worksheet, ds: xr.Dataset) -> None:
    """Coverage and cost by R202 guarantee (and SDG 1.3.1), with two charts."""
    _title(ws, "Social protection floor by guarantee (R202 para. 5)",
           "coverage: share of each target group covered; cost: expenditure incl. "
           "administration as a share of GDP; any_cash = SDG 1.3.1 / all cash benefits")
    guarantees = [str(g) for g in ds["guarantee"].values]
    table = np.concatenate([ds["coverage_rate"].transpose("year", "guarantee").values,
                            ds["cost_to_gdp_by_guarantee"].transpose("year", "guarantee")
                            .values], axis=1)
    headers = [f"Coverage {g}" for g in guarantees] + [f"Cost {g} % GDP" for g in guarantees]
    n = len(guarantees)
    years = _years(ds)
    first = _year_table(ws, years, headers, ["fraction"] * n + ["fraction"] * n,
                        [_FMT_PERCENT] * (2 * n), table, header_row=3)
    last = first + len(years) - 1
    _fit_columns(ws, skip_rows=2, minimum=10, maximum=24)
    anchor = get_column_letter(2 * n + 3)
    _line_chart(ws, "Coverage by guarantee", "% of target group", "0%",
                [(2 + j, g) for j, g in enumerate(guarantees)], first, last, f"{anchor}3")
    _line_chart(ws, "Cost by guarantee", "% of GDP", "0.0%",
                [(2 + n + j, g) for j, g in enumerate(guarantees)], first, last,
                f"{anchor}20")


def _adequacy_sheet(ws: Worksheet, ds: xr.Dataset) -> None:
    """Benefit levels relative to the poverty line, and the pension's replacement rates
    by sex (R202 para. 8(b); ILC 2021 para. 15(c))."""
    _title(ws, "Adequacy",
           "average benefit / annual poverty line by scheme; benefit ratio (average pension "
           "/ average insured earnings) and replacement rate of new pensions by sex")
    schemes = [str(x) for x in ds["scheme"].values]
    columns, labels = [], []
    for scheme in schemes:
        columns.append(ds["benefit_to_poverty_line"].sel(scheme=scheme).values)
        labels.append(f"{scheme}: benefit / poverty line")
    for name, label in (("benefit_ratio", "benefit ratio"),
                        ("replacement_rate_new", "replacement rate of new pensions")):
        for scheme in schemes:
            values = ds[name].sel(scheme=scheme)
            if not np.isfinite(values.values).any():
                continue
            for sex in ("male", "female"):
                columns.append(values.sel(sex=sex).values)
                labels.append(f"{scheme}: {label}, {sex}")
    table = np.stack(columns, axis=1)
    years = _years(ds)
    _year_table(ws, years, labels, ["fraction"] * len(labels), [_FMT_PERCENT] * len(labels),
                table, header_row=3)
    _fit_columns(ws, skip_rows=2, minimum=10, maximum=28)


# Sustainability sheet: scalar measures of each funded scheme (label, variable, unit shown or
# None = the variable's units attr, format), its yearly measures, and the fiscal space.
_SUSTAINABILITY_SCALARS: tuple[tuple[str, str, str | None, str], ...] = (
    ("General average premium", "general_average_premium", "% of insured earnings",
     _FMT_PERCENT),
    ("Summarized income rate", "summarized_income_rate", "% of insured earnings",
     _FMT_PERCENT),
    ("Summarized cost rate", "summarized_cost_rate", "% of insured earnings", _FMT_PERCENT),
    ("Actuarial balance", "actuarial_balance", "% of insured earnings", _FMT_PERCENT),
    ("Unfunded obligation (open group)", "unfunded_obligation", None, _FMT_COUNT),
    ("Depletion year", "depletion_year", "calendar year", _FMT_YEAR),
)
_SUSTAINABILITY_YEARLY: tuple[tuple[str, str, str, str], ...] = (
    ("Trust fund ratio", "trust_fund_ratio", "x annual expenditure", _FMT_RATIO),
    ("Reserve ratio", "reserve_ratio", "x annual expenditure", _FMT_RATIO),
    ("PAYG cost rate", "paygo_cost_rate", "% of insured earnings", _FMT_PERCENT),
    ("Scaled premium", "scaled_premium", "% of insured earnings", _FMT_PERCENT),
    ("Payable share", "payable_share", "% of scheduled cost", _FMT_PERCENT),
)
_METHOD_LABELS = {"scheme_rules": "scheme's own rates", "paygo": "PAYG cost rate",
                  "general_average_premium": "general average premium",
                  "scaled_premium": "scaled premium"}
_FISCAL_COLUMNS: tuple[tuple[str, str, str | None, str], ...] = (
    ("State cost", "state_cost", None, _FMT_COUNT),
    ("State cost % of GDP", "state_cost_to_gdp", "% of GDP", _FMT_PERCENT),
    ("Fiscal envelope % of GDP", "fiscal_envelope", "% of GDP", _FMT_PERCENT),
    ("Financing gap % of GDP", "financing_gap_to_gdp", "% of GDP", _FMT_PERCENT),
)
_FISCAL_REQUIRED = ("state_cost", "state_cost_to_gdp", "fiscal_envelope",
                    "financing_gap_to_gdp")
_SCHEME_MEASURES = ("general_average_premium", "reserve_ratio_by_method")
_EQUITY_REQUIRED = ("cohort_irr", "money_worth_ratio", "net_transfer_pv", "cohort_complete")
_EQUITY_COLUMNS: tuple[tuple[str, str, str | None, str], ...] = (
    ("IRR", "cohort_irr", "annual rate", _FMT_PERCENT),
    ("Money's worth ratio", "money_worth_ratio", "PV benefits / PV contributions",
     _FMT_RATIO),
    ("Net transfer", "net_transfer_pv", None, _FMT_COUNT),
)
_GAP_LABELS = {"contributor_coverage": "contributor coverage",
               "average_benefit": "average benefit", "replacement_rate": "replacement rate"}
_CHART_ROWS = 18  # rows a chart of _line_chart's height covers, and a little space


def _funded_schemes(ds: xr.Dataset, schemes: list[SchemeInfo]) -> list[SchemeInfo]:
    """Contributory schemes with sustainability measures (a fund and insured earnings)."""
    names = [v for v in (*_SCHEME_MEASURES, "trust_fund_ratio") if v in ds.data_vars]
    return [s for s in schemes if s.contributory and any(
        np.isfinite(ds[v].isel(scheme=s.index).values).any() for v in names)]


def _has_sustainability(ds: xr.Dataset) -> bool:
    return set(_FISCAL_REQUIRED) <= set(ds.data_vars) or any(
        v in ds.data_vars for v in _SCHEME_MEASURES)


def _note(ws: Worksheet, row: int, text: str) -> int:
    """A line of explanatory text; return the next row."""
    _put(ws, row, 1, text, font=_UNITS)
    return row + 1


def _fiscal_block(ws: Worksheet, ds: xr.Dataset, row: int) -> int:
    """Fiscal space by year with a chart (ILC 2021 para. 15(a), (g)); return the next row."""
    years = _years(ds)
    _put(ws, row, 1, "Fiscal space: cost of social protection to the state budget",
         font=_HEADING)
    row = _note(ws, row + 1, "State cost: benefits and administration of the schemes "
                "without a fund plus every state transfer to funded schemes (subsidies, "
                "state contributions, deficit cover). Financing gap: state cost - fiscal "
                "envelope x GDP (positive: the envelope falls short).")
    if not np.isfinite(ds["fiscal_envelope"].values).any():
        row = _note(ws, row, "No fiscal envelope in the model ([economy] fiscal_envelope): "
                    "the envelope and the financing gap are empty.")
    headers = [c[0] for c in _FISCAL_COLUMNS]
    units = [u if u is not None else _attr_units(ds, v) for _, v, u, _ in _FISCAL_COLUMNS]
    table = np.column_stack([np.asarray(ds[v].transpose("year").values, dtype=float)
                             for _, v, _, _ in _FISCAL_COLUMNS])
    header_row = row + 1
    first = _year_table(ws, years, headers, units, [c[3] for c in _FISCAL_COLUMNS], table,
                        header_row=header_row, freeze=False)
    last = first + len(years) - 1
    _line_chart(ws, "Fiscal space", "% of GDP", "0.0%",
                [(3 + j, headers[1 + j]) for j in range(3)], first, last,
                f"{get_column_letter(len(headers) + 3)}{header_row}")
    return max(last, header_row + _CHART_ROWS) + 2


def _scalar_value(ds: xr.Dataset, var: str, scheme: SchemeInfo) -> object:
    value = float(ds[var].isel(scheme=scheme.index).values)
    if var == "depletion_year":
        return int(value) if np.isfinite(value) else "not within horizon"
    return value


def _scheme_sustainability_block(ws: Worksheet, ds: xr.Dataset, scheme: SchemeInfo,
                                 row: int) -> int:
    """One funded scheme's measures and reserve ratios by financing method; next row."""
    _put(ws, row, 1, f"{scheme.label}: sustainability and financing methods", font=_HEADING)
    row += 1
    _header(ws, row, ["Measure", "Value", "Unit", "Definition"])
    row += 1
    for label, var, unit, fmt in _SUSTAINABILITY_SCALARS:
        if var not in ds.data_vars:
            continue
        horizon = ds[var].attrs.get("horizon_years")
        if horizon is not None:
            label = f"{label} ({int(horizon)}-year horizon)"
        value = _scalar_value(ds, var, scheme)
        _put(ws, row, 1, label)
        _put(ws, row, 2, value, fmt if not isinstance(value, str) else None)
        _put(ws, row, 3, unit if unit is not None else _attr_units(ds, var))
        _put(ws, row, 4, ds[var].attrs.get("long_name", ""))
        row += 1

    columns = [c for c in _SUSTAINABILITY_YEARLY if c[1] in ds.data_vars]
    headers = [c[0] for c in columns]
    units = [c[2] for c in columns]
    formats = [c[3] for c in columns]
    values = [np.asarray(ds[c[1]].isel(scheme=scheme.index).transpose("year").values,
                         dtype=float) for c in columns]
    methods: list[str] = []
    if "reserve_ratio_by_method" in ds.data_vars:
        by_method = ds["reserve_ratio_by_method"].isel(scheme=scheme.index)
        methods = [str(m) for m in by_method["financing_method"].values]
        for method in methods:
            headers.append(f"Reserve ratio, {_METHOD_LABELS.get(method, method)}")
            units.append("x annual expenditure")
            formats.append(_FMT_RATIO)
            values.append(np.asarray(by_method.sel(financing_method=method)
                                     .transpose("year").values, dtype=float))
    if not values:
        return row + 1
    years = _years(ds)
    header_row = row + 1
    first = _year_table(ws, years, headers, units, formats, np.column_stack(values),
                        header_row=header_row, freeze=False)
    last = first + len(years) - 1
    if methods:
        start = 2 + len(headers) - len(methods)
        _line_chart(ws, f"{scheme.name}: reserve ratio by financing method",
                    "reserve / annual expenditure", "0.0",
                    [(start + k, _METHOD_LABELS.get(m, m)) for k, m in enumerate(methods)],
                    first, last, f"{get_column_letter(len(headers) + 3)}{header_row}")
    return max(last, header_row + _CHART_ROWS) + 2


def _sustainability_sheet(ws: Worksheet, ds: xr.Dataset, schemes: list[SchemeInfo]) -> None:
    """Fiscal space and, per funded scheme, the sustainability measures and the reserve
    ratio under each financing method (ILC 2021 para. 15(a), (e), (g))."""
    currency = ds.attrs.get("currency", "")
    _title(ws, "Sustainability and fiscal space",
           f"ILC 2021 para. 15(a), (e), (g); money in {currency}, "
           f"{ds.attrs.get('price_basis', '')}; rates as % of insured earnings, reserve "
           "ratios in years of expenditure")
    row = 4
    if set(_FISCAL_REQUIRED) <= set(ds.data_vars):
        row = _fiscal_block(ws, ds, row)
    funded = _funded_schemes(ds, schemes)
    for scheme in funded:
        row = _scheme_sustainability_block(ws, ds, scheme, row)
    if not funded:
        _note(ws, row, "No funded scheme: no reserve or financing-method measures.")
    _fit_columns(ws, skip_rows=3, minimum=10, maximum=24)


def _complete_cohorts(ds: xr.Dataset, scheme: SchemeInfo) -> tuple[list[int], list[int]]:
    """(all birth cohorts, the complete ones in ``scheme``) of the equity variables."""
    cohorts = [int(c) for c in ds["cohort"].values]
    complete = complete_cohort_mask(ds, scheme.index)
    return cohorts, [c for c, ok in zip(cohorts, complete, strict=True) if ok]


def _cohort_block(ws: Worksheet, ds: xr.Dataset, scheme: SchemeInfo, row: int) -> int:
    """One contributory scheme's returns by complete birth cohort and sex, with a chart of
    the IRR; return the next row."""
    cohorts, complete = _complete_cohorts(ds, scheme)
    _put(ws, row, 1, f"{scheme.label}: returns by birth cohort", font=_HEADING)
    row += 1
    span = f" (born {complete[0]}-{complete[-1]})" if complete else ""
    row = _note(ws, row, f"Complete cohorts only: {len(complete)} of {len(cohorts)} birth "
                f"cohorts{span} have all their cash flows in the scheme within the "
                "projection; the others are cut by its start or end, their measures are "
                "biased and are left out.")
    if not complete:
        return _note(ws, row, "No complete cohort: lengthen the projection (end_year) to "
                     "measure cohort returns.") + 1
    sexes = [str(s) for s in ds["sex"].values]
    headers, units, formats, values = [], [], [], []
    for label, var, unit, fmt in _EQUITY_COLUMNS:
        da = ds[var].isel(scheme=scheme.index).sel(cohort=complete)
        for sex in sexes:
            headers.append(f"{label}, {sex}")
            units.append(unit if unit is not None else _attr_units(ds, var))
            formats.append(fmt)
            values.append(np.asarray(da.sel(sex=sex).transpose("cohort").values, dtype=float))
    table = np.column_stack(values)
    if not np.isfinite(table).any():
        return _note(ws, row, "No cohort measures for this scheme.") + 1
    header_row = row + 1
    first = _year_table(ws, complete, headers, units, formats, table, header_row=header_row,
                        first_label="Birth cohort", freeze=False)
    last = first + len(complete) - 1
    chart = _line_chart(ws, f"{scheme.name}: internal rate of return by birth cohort",
                        "IRR (annual rate)", "0.0%",
                        [(2 + k, f"IRR, {sex}") for k, sex in enumerate(sexes)], first, last,
                        f"{get_column_letter(len(headers) + 3)}{header_row}")
    chart.x_axis.title = "Birth cohort"
    return max(last, header_row + _CHART_ROWS) + 2


def _gender_gap_block(ws: Worksheet, ds: xr.Dataset, schemes: list[SchemeInfo],
                      row: int) -> int:
    """Gender gaps of every scheme at the key years; return the next row."""
    shown = key_years(ds)
    _put(ws, row, 1, "Gender gaps, (men - women) / men", font=_HEADING)
    row = _note(ws, row + 1, "Positive: women below men. Contributor coverage: "
                f"contributors / population aged {WORKING_AGES[0]}-{WORKING_AGES[1]}; "
                "average benefit per beneficiary; "
                "replacement rate: average benefit / average insured earnings of the same "
                "sex.")
    _header(ws, row, ["Scheme id", "Name", "Indicator", "Unit", *map(str, shown)])
    row += 1
    gap = ds["gender_gap"]
    for s in schemes:
        for name in (str(g) for g in gap["gap"].values):
            series = np.asarray(gap.isel(scheme=s.index).sel(gap=name, year=shown).values,
                                dtype=float)
            if not np.isfinite(series).any():
                continue  # not defined for this scheme (e.g. coverage of a benefit)
            for j, value in enumerate((s.id, s.name, _GAP_LABELS.get(name, name),
                                       "% of men's value")):
                _put(ws, row, 1 + j, value)
            for j, value in enumerate(series):
                _put(ws, row, 5 + j, float(value), _FMT_PERCENT)
            row += 1
    return row + 1


_PERSON_DISTRIBUTIONS = (("Money's worth ratio", "money_worth_ratio_by_person", _FMT_RATIO),
                         ("Net transfer", "net_transfer_by_person", _FMT_DECIMAL))


def _person_distribution_block(ws: Worksheet, ds: xr.Dataset, row: int) -> int:
    """Quantiles of persons' money's worth ratio and net transfer in the pension, by
    complete 5-year birth cohort and sex (micro engine); return the next row."""
    groups = [int(g) for g, ok in zip(ds["birth_cohort"].values,
                                      ds["birth_cohort_complete"].values, strict=True) if ok]
    _put(ws, row, 1, "Within each birth cohort: persons' returns in the pension "
                     "(micro engine)", font=_HEADING)
    row = _note(ws, row + 1, "Quantiles over the scheme's members, by 5-year birth cohort "
                "(first year given): own pensions and refunds against own contributions, "
                "present values at the interest path; the ratio among those who "
                "contributed. Survivors' pensions are not included (see docs/micro.md).")
    if not groups:
        return _note(ws, row, "No 5-year group of complete cohorts.") + 1
    quantiles = [float(q) for q in ds["quantile"].values]
    headers, units, formats, values = [], [], [], []
    for label, var, fmt in _PERSON_DISTRIBUTIONS:
        da = ds[var].sel(birth_cohort=groups)
        for sex in (str(s) for s in ds["sex"].values):
            for q in quantiles:
                headers.append(f"{label}, {sex}, {q:.1%}")
                units.append(_attr_units(ds, var))
                formats.append(fmt)
                values.append(np.asarray(da.sel(sex=sex, quantile=q).values, dtype=float))
    first = _year_table(ws, groups, headers, units, formats, np.column_stack(values),
                        header_row=row + 1, first_label="Birth cohorts from", freeze=False)
    return first + len(groups) + 1


def _has_cohort_returns(ds: xr.Dataset) -> bool:
    return set(_EQUITY_REQUIRED) <= set(ds.data_vars) and "cohort" in ds.dims


def _has_equity(ds: xr.Dataset) -> bool:
    return _has_cohort_returns(ds) or "gender_gap" in ds.data_vars


def _equity_sheet(ws: Worksheet, ds: xr.Dataset, schemes: list[SchemeInfo]) -> None:
    """Returns of complete birth cohorts by sex and gender gaps (ILC 2021 para. 15(c):
    intergenerational equity and gender equality)."""
    _title(ws, "Intergenerational equity and gender gaps",
           "ILC 2021 para. 15(c); returns of each birth cohort by sex: internal rate of "
           "return, money's worth ratio, net transfer (present values)")
    row = 4
    if _has_cohort_returns(ds):
        for var in ("money_worth_ratio", "net_transfer_pv"):
            row = _note(ws, row, f"{var}: {ds[var].attrs.get('long_name', '')}")
        row += 1
        for scheme in (s for s in schemes if s.contributory):
            row = _cohort_block(ws, ds, scheme, row)
    if {"money_worth_ratio_by_person", "birth_cohort_complete"} <= set(ds.data_vars):
        row = _person_distribution_block(ws, ds, row)
    if "gender_gap" in ds.data_vars:
        _gender_gap_block(ws, ds, schemes, row)
    _fit_columns(ws, skip_rows=3, minimum=10, maximum=24)


def _population_sheet(ws: Worksheet, ds: xr.Dataset) -> None:
    _title(ws, "Population", "Mid-year population, flows during the year, life expectancy")
    headers, units, formats, table = _population_table(ds)
    years = _years(ds)
    first = _year_table(ws, years, headers, units, formats, table, header_row=3)
    last = first + len(years) - 1
    _fit_columns(ws, skip_rows=2, minimum=10, maximum=22)
    col = {label: 2 + j for j, label in enumerate(headers)}
    _line_chart(ws, "Population by broad age group", "persons", "#,##0",
                [(col[h], h) for h in ("Total population", "Aged 0-14", "Aged 15-64",
                                       "Aged 65+")],
                first, last, f"{get_column_letter(len(headers) + 3)}3")


def _validated_assumptions(rows: Iterable[Sequence[object]]) -> list[tuple[object, ...]]:
    checked = []
    for i, row in enumerate(rows):
        if isinstance(row, str | bytes) or not isinstance(row, Sequence) or len(row) != 5:
            raise ValueError(
                f"assumptions_table row {i} must be (section, name, value, unit, description); "
                f"got {row!r}")
        checked.append(tuple(row))
    return checked


def _assumptions_sheet(ws: Worksheet, rows: list[tuple[object, ...]] | None) -> None:
    _title(ws, "Assumptions", "Assumptions used by the projection")
    if rows is None:
        _put(ws, 3, 1, "No assumptions table was given when this workbook was written; the model "
                       "file named in the Metadata sheet (model_path, input_hash) holds them.")
        ws.column_dimensions["A"].width = 100
        return
    _header(ws, 3, ["Section", "Name", "Value", "Unit", "Description"])
    ws.freeze_panes = "A4"
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            _put(ws, 4 + i, 1 + j, value)
            if j == 4:
                ws.cell(row=4 + i, column=5).alignment = Alignment(wrap_text=True,
                                                                  vertical="top")
    if not rows:
        _put(ws, 4, 1, "(the assumptions table given was empty)")
    _fit_columns(ws, skip_rows=2, minimum=10, maximum=40)
    ws.column_dimensions["E"].width = 80


def _metadata_sheet(ws: Worksheet, ds: xr.Dataset) -> None:
    _title(ws, "Metadata", "How this result was produced, and what each variable means")
    _put(ws, 3, 1, "Dataset attributes", font=_HEADING)
    _header(ws, 4, ["Key", "Value"])
    row = 5
    for key, value in ds.attrs.items():
        _put(ws, row, 1, str(key))
        _put(ws, row, 2, value)
        row += 1
    row += 1
    _put(ws, row, 1, "Variables", font=_HEADING)
    row += 1
    _header(ws, row, ["Name", "Role", "Dims", "Units", "Long name"])
    row += 1
    entries = [(name, "coordinate", ds.coords[name]) for name in ds.coords]
    entries += [(name, "data variable", ds[name]) for name in ds.data_vars]
    for name, role, var in entries:
        values = (str(name), role, ", ".join(map(str, var.dims)),
                  var.attrs.get("units", ""), var.attrs.get("long_name", ""))
        for j, value in enumerate(values):
            _put(ws, row, 1 + j, value)
        row += 1
    _fit_columns(ws, skip_rows=2, minimum=10, maximum=70)


# --------------------------------------------------------------------------- public entry


def build_workbook(ds: xr.Dataset,
                   assumptions_table: Iterable[Sequence[object]] | None = None) -> Workbook:
    """The report workbook, in memory (see :func:`write_workbook`)."""
    check_single_projection(ds, _REQUIRED, "the report")
    rows = None if assumptions_table is None else _validated_assumptions(assumptions_table)
    schemes = scheme_infos(ds)
    sheet_names: dict[str, str] = {}
    for s in schemes:
        sheet_names[s.id] = sheet_name_for(s.id, sheet_names.values())

    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    _summary_sheet(summary, ds, schemes, sheet_names)
    for s in schemes:
        _scheme_sheet(wb.create_sheet(sheet_names[s.id]), ds, s)
    if {"coverage_rate", "cost_to_gdp_by_guarantee"} <= set(ds.data_vars):
        _floor_sheet(wb.create_sheet("Floor"), ds)
    if {"benefit_to_poverty_line", "benefit_ratio", "replacement_rate_new"} <= set(
            ds.data_vars):
        _adequacy_sheet(wb.create_sheet("Adequacy"), ds)
    if _has_sustainability(ds):
        _sustainability_sheet(wb.create_sheet("Sustainability"), ds, schemes)
    if _has_equity(ds):
        _equity_sheet(wb.create_sheet("Equity"), ds, schemes)
    _population_sheet(wb.create_sheet("Population"), ds)
    _assumptions_sheet(wb.create_sheet("Assumptions"), rows)
    _metadata_sheet(wb.create_sheet("Metadata"), ds)
    return finish_workbook(wb, ds.attrs.get("title", "spfsim projection"))


def finish_workbook(wb: Workbook, title: object) -> Workbook:
    """Set the workbook's creator and (neutralised, at most 250 characters) title."""
    wb.properties.creator = "spfsim"
    wb.properties.title = neutralise_text(str(title))[:250]
    return wb


def write_workbook(ds: xr.Dataset, path: Path | str | os.PathLike[str],
                   assumptions_table: Iterable[Sequence[object]] | None = None,
                   overwrite: bool = False) -> Path:
    """Write the Excel report of one projection to ``path`` (``.xlsx``) atomically.

    Sheets: ``Summary`` (model, horizon, currency, price basis; per scheme its kind, depletion
    year, PAYG cost rate, cost % of GDP and reserve ratio in the base year, base year + 25
    when within the horizon, and the end year; total population and old-age dependency ratio;
    why a series jumps, the Dataset's ``jumps`` attribute, see :mod:`spfsim.jumps`), one
    sheet per scheme named by its id (see :func:`sheet_name_for`) with a yearly table and
    line charts (a scheme paying lump sums, the pension's refunds, has its PAYG cost rate
    split into periodic benefits and lump sums beside the total), ``Floor`` (coverage and
    cost by R202 guarantee), ``Adequacy`` (benefits relative to the poverty line,
    replacement rates by sex), ``Sustainability`` (fiscal
    space: state cost, fiscal envelope and financing gap as % of GDP; per funded scheme the
    general average premium, summarized rates, actuarial balance, unfunded obligation,
    depletion year, yearly trust fund and reserve ratios, scaled premium, payable share and
    the reserve ratio under each financing method, with charts) and ``Equity`` (per
    contributory scheme the IRR, money's worth ratio and net transfer of complete birth
    cohorts by sex with an IRR chart; gender gaps at the key years), each when the Dataset
    has the variables, then ``Population``, ``Assumptions`` and ``Metadata``.

    Units: persons as counts; money in the Dataset's currency and price basis (its
    ``currency`` and ``price_basis`` attrs) per year, the reserve at the end of the year;
    PAYG cost rate, cost to GDP and dependency ratio as fractions shown as percentages;
    reserve ratio as a multiple of the year's expenditure. NaN values are empty cells.

    ``assumptions_table``: rows ``(section, name, value, unit, description)``; ``None`` writes
    an Assumptions sheet saying that none were given.

    ``ds`` must hold one projection (dims among year, age, sex, scheme; select a scenario or
    draw first). Raises :class:`~spfsim.errors.OutputExistsError` if ``path`` exists and
    ``overwrite`` is false, ``ValueError`` for a Dataset or table it cannot report on; in
    every failure case nothing is written.
    """
    (target,) = check_writable(path, overwrite)
    if target.suffix.lower() != ".xlsx":
        raise ValueError(f"the workbook path must end in .xlsx: {target}")
    wb = build_workbook(ds, assumptions_table)
    return atomic_write(target, lambda tmp: wb.save(tmp), overwrite=overwrite)
