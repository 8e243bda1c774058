"""Cells, styles, tables and charts shared by the sheets of the report workbooks.

Every text that reaches a cell passes through :func:`neutralise_text` (by way of :func:`put`),
so text from a model file (a scheme named ``=HYPERLINK(...)``) can never become a formula; NaN
and infinite values are written as empty cells. Fractions are written as fractions with a
percent number format (``FMT_PERCENT``), so ``0.12`` shows as ``12.00%``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

import numpy as np
import xarray as xr
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import LineChart, Reference, Series
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..dataset import SchemeInfo
from ..series import key_years, total_over, years_of

__all__ = ["key_years", "neutralise_text", "sheet_name_for", "total_over", "years_of"]

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_MAX_CELL_CHARS = 32_767
_FIXED_SHEETS = ("Summary", "Population", "Assumptions", "Metadata", "Floor", "Adequacy",
                 "Sustainability", "Equity")

FMT_COUNT = "#,##0"
FMT_PERCENT = "0.00%"
FMT_RATIO = "0.00"
FMT_YEAR = "0"
FMT_DECIMAL = "#,##0.00"

BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
HEADING = Font(bold=True, size=12)
UNITS_FONT = Font(italic=True, color="555555")
_HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
_HEADER_BORDER = Border(bottom=Side(style="thin"))
CHART_ROWS = 18  # rows a chart of line_chart's height covers, and a little space


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


def put(ws: Worksheet, row: int, col: int, value: object, fmt: str | None = None,
        font: Font | None = None) -> None:
    cell = ws.cell(row=row, column=col)
    cell.value = _cell_value(value)
    if isinstance(cell.value, str):
        cell.data_type = "s"  # never a formula, whatever the text
    if fmt is not None:
        cell.number_format = fmt
    if font is not None:
        cell.font = font


def write_header(ws: Worksheet, row: int, labels: Sequence[str], col: int = 1) -> None:
    for j, label in enumerate(labels):
        put(ws, row, col + j, label, font=BOLD)
        cell = ws.cell(row=row, column=col + j)
        cell.fill = _HEADER_FILL
        cell.border = _HEADER_BORDER
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def write_units(ws: Worksheet, row: int, units: Sequence[str], col: int = 1) -> None:
    for j, unit in enumerate(units):
        put(ws, row, col + j, unit, font=UNITS_FONT)
        ws.cell(row=row, column=col + j).fill = _HEADER_FILL


def fit_columns(ws: Worksheet, skip_rows: int = 0, minimum: float = 8,
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
                elif cell.number_format == FMT_YEAR:
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


def scheme_sheet_names(schemes: Iterable[SchemeInfo], reserved: Iterable[str] = ()
                       ) -> dict[str, str]:
    """A sheet name for each scheme id (:func:`sheet_name_for`), unique among themselves,
    the fixed sheets and ``reserved``."""
    reserved = list(reserved)
    names: dict[str, str] = {}
    for s in schemes:
        names[s.id] = sheet_name_for(s.id, [*names.values(), *reserved])
    return names


# --------------------------------------------------------------------------- dataset access


def attr_units(ds: xr.Dataset, name: str) -> str:
    return str(ds[name].attrs.get("units", ""))


def sheet_title(ws: Worksheet, title: str, subtitle: str = "") -> None:
    put(ws, 1, 1, title, font=TITLE_FONT)
    if subtitle:
        put(ws, 2, 1, subtitle, font=UNITS_FONT)


def year_table(ws: Worksheet, years: Sequence[int], headers: Sequence[str],
               units: Sequence[str], formats: Sequence[str], table: np.ndarray,
               header_row: int, first_label: str = "Year", freeze: bool = True) -> int:
    """Write Year (or ``first_label``, e.g. birth cohorts) + columns with a header and a
    units row; return the first data row. ``freeze``: freeze the rows above the data and
    the first column (off for a sheet holding several tables one below the other)."""
    write_header(ws, header_row, [first_label, *headers])
    write_units(ws, header_row + 1, ["", *units])
    first = header_row + 2
    for i, year in enumerate(years):
        put(ws, first + i, 1, year, FMT_YEAR)
        for j, fmt in enumerate(formats):
            put(ws, first + i, 2 + j, float(table[i, j]), fmt)
    if freeze:
        ws.freeze_panes = ws.cell(row=first, column=2)
    return first


def line_chart(ws: Worksheet, title: str, y_title: str, y_format: str,
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



def put_note(ws: Worksheet, row: int, text: str) -> int:
    """A line of explanatory text; return the next row."""
    put(ws, row, 1, text, font=UNITS_FONT)
    return row + 1



def finish_workbook(wb: Workbook, title: object) -> Workbook:
    """Set the workbook's creator and (neutralised, at most 250 characters) title."""
    wb.properties.creator = "spfsim"
    wb.properties.title = neutralise_text(str(title))[:250]
    return wb

