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
from openpyxl.chart import BarChart, LineChart, Reference, Series
from openpyxl.chart.text import RichText, Text
from openpyxl.chart.title import Title
from openpyxl.drawing.text import (
    CharacterProperties,
    Paragraph,
    ParagraphProperties,
    RegularTextRun,
)
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from ..dataset import SchemeInfo
from ..series import key_years, total_over, years_of

__all__ = ["LABELS", "human_label", "key_years", "legend_names", "money_scale",
           "neutralise_text", "page_setup", "sheet_name_for", "total_over", "years_of"]

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
#: The fill of a comparison's difference columns: the change is what the eye meets first.
DIFFERENCE_FILL = PatternFill("solid", fgColor="FCE4C4")
CHART_ROWS = 18  # rows a chart of line_chart's height covers, and a little space
CHART_WIDTH_CM, CHART_HEIGHT_CM = 18.0, 8.0  # line_chart's size

#: Human names of the ids a reader meets in legends and headers (R202 guarantees, sexes,
#: financing methods), in one place: every sheet and chart takes its labels from here.
LABELS: dict[str, str] = {
    "health": "Health care",
    "children": "Children",
    "maternity": "Maternity",
    "disability": "Disability",
    "working_age": "Working age (unemployed)",
    "old_age": "Older persons",
    "any_cash": "Any cash benefit (SDG 1.3.1)",
    "male": "Men",
    "female": "Women",
    "scheme_rules": "Scheme's own rates",
    "paygo": "PAYG cost rate",
    "general_average_premium": "General average premium",
    "scaled_premium": "Scaled premium",
}


def human_label(key: object) -> str:
    """The reader's name of an id (:data:`LABELS`): ``"any_cash"`` -> ``"Any cash benefit
    (SDG 1.3.1)"``; an id without one is returned with its underscores as spaces."""
    text = str(key)
    return LABELS.get(text, text.replace("_", " "))


def legend_names(schemes: Iterable[SchemeInfo]) -> dict[str, str]:
    """The name a legend or header gives each scheme (by id): its name, or where two
    schemes share a name, its label ("Name (id)"), so that neither hides the other."""
    schemes = list(schemes)
    counts: dict[str, int] = {}
    for s in schemes:
        counts[s.name] = counts.get(s.name, 0) + 1
    return {s.id: s.name if counts[s.name] == 1 else s.label for s in schemes}


_MONEY_SCALES = ((1e9, "billion"), (1e6, "million"), (1e3, "thousand"))


def money_scale(values: object) -> tuple[float, str]:
    """(factor, word) in which money of this size reads best: billions from a largest
    absolute value of 10^11, millions from 10^8, thousands from 10^5, else units
    (``(1.0, "")``). ``values``: any array-like of amounts (NaN ignored)."""
    array = np.abs(np.asarray(values, dtype=float))
    largest = float(np.nanmax(array)) if np.isfinite(array).any() else 0.0
    for factor, word in _MONEY_SCALES:
        if largest >= 100 * factor:
            return factor, word
    return 1.0, ""


def money_format(factor: float) -> str:
    """The number format showing an amount in units of ``factor`` (1e3, 1e6 or 1e9) while
    the cell keeps the amount itself (Excel's trailing-comma scaling): ``#,##0.0,,`` shows
    5,129,501,199,370 as 5,129,501.2 (millions)."""
    commas = {1e3: ",", 1e6: ",,", 1e9: ",,,"}.get(factor, "")
    return f"#,##0.0{commas}" if commas else FMT_COUNT


def money_units(units: str, word: str) -> str:
    """A units text with the scale word after the currency: ``"LCU (nominal) per year"``,
    ``"billion"`` -> ``"LCU billion (nominal) per year"``."""
    if not word:
        return units
    head, _, tail = units.partition(" ")
    return f"{head} {word} {tail}".strip()


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
        cell = ws.cell(row=row, column=col + j)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")


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
    _fit_wrapped_rows(ws, skip_rows)


def _fit_wrapped_rows(ws: Worksheet, skip_rows: int = 0) -> None:
    """Row heights for the wrapped text of headers and units rows (spreadsheets do not
    grow a row for text written by a program): 15 points a line."""
    for row in ws.iter_rows(min_row=skip_rows + 1):
        lines = 1
        for cell in row:
            if not isinstance(cell.value, str) or not cell.alignment.wrap_text:
                continue
            width = ws.column_dimensions[get_column_letter(cell.column)].width or 8.43
            per_line = max(int(width) - 1, 1)
            lines = max(lines, sum(-(-max(len(part), 1) // per_line)
                                   for part in cell.value.split("\n")))
        if lines > 1:
            ws.row_dimensions[row[0].row].height = 15 * min(lines, 6)


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
    # a fraction shown with a percent format reads as a percentage: say so
    units = ["%" if u == "fraction" and "%" in f else u for u, f in zip(units, formats,
                                                                         strict=True)]
    units, formats = _scaled_money(units, formats, table)
    write_units(ws, header_row + 1, ["", *units])
    first = header_row + 2
    for i, year in enumerate(years):
        put(ws, first + i, 1, year, FMT_YEAR)
        for j, fmt in enumerate(formats):
            put(ws, first + i, 2 + j, float(table[i, j]), fmt)
    if freeze:
        ws.freeze_panes = ws.cell(row=first, column=2)
        # the sheet's one table: its header and units rows print at the top of every page
        ws.print_title_rows = f"{header_row}:{header_row + 1}"
    return first


def column_table(columns: Sequence[tuple[str, str, str, object]]
                 ) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """Headers, units, formats and the (year, column) array of (header, units, format,
    values by year) columns."""
    table = np.column_stack([np.asarray(c[3], dtype=float) for c in columns])
    return ([c[0] for c in columns], [c[1] for c in columns], [c[2] for c in columns],
            table)


def charted_year_table(ws: Worksheet, years: Sequence[int],
                       columns: Sequence[tuple[str, str, str, object]], title: str,
                       y_title: str, y_format: str, charted: Sequence[str]) -> None:
    """A sheet's one yearly table of ``columns`` (:func:`column_table`) below a line chart
    of the columns headed ``charted``; the panes are not frozen (the chart above the table
    would be frozen with its header)."""
    headers, units, formats, table = column_table(columns)
    first = year_table(ws, years, headers, units, formats, table,
                       header_row=3 + CHART_ROWS)
    fit_columns(ws, skip_rows=2, minimum=10, maximum=22)
    ws.freeze_panes = None
    col = {label: 2 + j for j, label in enumerate(headers)}
    line_chart(ws, title, y_title, y_format, [(col[h], h) for h in charted], first,
               first + len(years) - 1, "A3")


def chart_title(text: str, size: float = 11.0, bold: bool = True) -> Title:
    """A chart or axis title of ``size`` points (spreadsheet defaults of 18 points leave a
    small chart no room to plot)."""
    props = CharacterProperties(sz=int(size * 100), b=bold)
    paragraph = Paragraph(pPr=ParagraphProperties(defRPr=props),
                          r=[RegularTextRun(rPr=props, t=neutralise_text(text))])
    return Title(tx=Text(rich=RichText(p=[paragraph])), overlay=False)


def _scaled_money(units: Sequence[str], formats: Sequence[str], table: np.ndarray
                  ) -> tuple[list[str], list[str]]:
    """Units and formats with every money column (whole-number format, units not counting
    persons) shown in thousands, millions or billions of its currency (:func:`money_scale`);
    the cells keep the amounts."""
    units, formats = list(units), list(formats)
    for j, (unit, fmt) in enumerate(zip(units, formats, strict=True)):
        if fmt != FMT_COUNT or not unit or "person" in unit:
            continue
        factor, word = money_scale(table[:, j])
        units[j], formats[j] = money_units(unit, word), money_format(factor)
    return units, formats


def line_chart(ws: Worksheet, title: str, y_title: str, y_format: str,
               series: Sequence[tuple[int, str]], first: int, last: int,
               anchor: str, data: Worksheet | None = None,
               width: float = CHART_WIDTH_CM, height: float = CHART_HEIGHT_CM) -> LineChart:
    """A line chart of columns ``series`` ((column, legend label), labels passed through
    :func:`human_label` where they are ids) over rows ``first``..``last`` of ``data``
    (default ``ws``), years (column A) along the x axis, placed on ``ws`` at ``anchor``.

    The legend sits below the plot (long names are not cut), and the year labels at the
    bottom of the plot, below any negative values (not on the zero line).
    """
    data = ws if data is None else data
    chart = LineChart()
    chart.title = chart_title(title)
    chart.style = 10
    chart.height, chart.width = height, width
    chart.y_axis.title = chart_title(y_title, 9, bold=False)
    chart.x_axis.title = chart_title("Year", 9, bold=False)
    chart.y_axis.number_format = y_format
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.x_axis.tickLblPos = "low"
    chart.x_axis.tickLblSkip = 5 if last - first > 30 else None
    chart.legend.position = "b"
    for col, label in series:
        values = Reference(data, min_col=col, min_row=first, max_row=last)
        chart.series.append(Series(values, title=neutralise_text(human_label(label))))
    chart.set_categories(Reference(data, min_col=1, min_row=first, max_row=last))
    ws.add_chart(chart, anchor)
    return chart


def bar_chart(ws: Worksheet, title: str, x_title: str, y_title: str, y_format: str,
              series: Sequence[tuple[int, str]], first: int, last: int, anchor: str,
              categories: int = 1, stacked: bool = False, horizontal: bool = False,
              width: float = CHART_WIDTH_CM, height: float = CHART_HEIGHT_CM) -> BarChart:
    """A bar chart of columns ``series`` ((column, legend label), labels passed through
    :func:`human_label`) over rows ``first``..``last`` of ``ws``, the categories (countries,
    benefits) read from column ``categories``, placed at ``anchor``; ``stacked``: the
    series' bars one on another (parts of a total), ``horizontal``: bars along the x axis
    (long category names stay readable). Legend below the plot, as :func:`line_chart`."""
    chart = BarChart()
    chart.type = "bar" if horizontal else "col"
    if stacked:
        chart.grouping, chart.overlap = "stacked", 100
    chart.title = chart_title(title)
    chart.style = 10
    chart.height, chart.width = height, width
    chart.x_axis.title = chart_title(x_title, 9, bold=False)
    chart.y_axis.title = chart_title(y_title, 9, bold=False)
    chart.y_axis.number_format = y_format
    chart.x_axis.delete = chart.y_axis.delete = False
    chart.x_axis.tickLblPos = "low"
    chart.gapWidth = 40  # bars wide enough to compare at a glance
    if horizontal:  # the first category on top, as the table reads; values below
        chart.x_axis.scaling.orientation = "maxMin"
        chart.y_axis.crosses = "max"
    chart.legend.position = "b"
    for col, label in series:
        values = Reference(ws, min_col=col, min_row=first, max_row=last)
        chart.series.append(Series(values, title=neutralise_text(human_label(label))))
    chart.set_categories(Reference(ws, min_col=categories, min_row=first, max_row=last))
    ws.add_chart(chart, anchor)
    return chart


def dash_series(chart: LineChart, positions: Iterable[int]) -> None:
    """Draw the chart's series at ``positions`` dashed (a comparison's baseline, beside
    its reform drawn solid)."""
    for k in positions:
        chart.series[k].graphicalProperties.line.dashStyle = "dash"


def highlight_columns(ws: Worksheet, columns: Iterable[int], first: int, last: int) -> None:
    """Fill the cells of ``columns`` in rows ``first``..``last`` (a comparison's difference
    columns, header to last row) with :data:`DIFFERENCE_FILL`."""
    for col in columns:
        for row in range(first, last + 1):
            ws.cell(row=row, column=col).fill = DIFFERENCE_FILL


def column_width_cm(ws: Worksheet, col: int) -> float:
    """The width of a column on screen and paper, in centimetres (Excel: a character of
    the default font is 7 pixels, plus 5 of padding, at 96 pixels an inch)."""
    width = ws.column_dimensions[get_column_letter(col)].width or 8.43
    return (width * 7 + 5) / 96 * 2.54


def column_after(ws: Worksheet, col: int, cm: float) -> int:
    """The first column right of ``cm`` centimetres measured from the left of ``col``
    (where a second chart goes beside one of that width)."""
    covered = 0.0
    while covered < cm:
        covered += column_width_cm(ws, col)
        col += 1
    return col


_ROW_CM = 20 / 96 * 2.54  # a row of the default height (15 points, 20 pixels)
_LANDSCAPE_FROM_CM = 19.0  # printed wider than a portrait A4 page's width inside margins


def _chart_extent(ws: Worksheet) -> tuple[int, int]:
    """(last column, last row) the sheet's charts cover."""
    last_col = last_row = 0
    for chart in ws._charts:
        anchor = chart.anchor
        if not isinstance(anchor, str):
            marker = anchor._from
            col, row = marker.col + 1, marker.row + 1
        else:
            letters, row = coordinate_from_string(anchor)
            col = column_index_from_string(letters)
        last_col = max(last_col, column_after(ws, col, chart.width) - 1)
        last_row = max(last_row, row + int(np.ceil(chart.height / _ROW_CM)))
    return last_col, last_row


def page_setup(ws: Worksheet) -> None:
    """Set how a sheet prints: A4, portrait or landscape from the width of what it holds,
    scaled to the page width (one page wide; two for tables wider than about two landscape
    pages would be at a readable scale), as many pages tall as it needs, the print area
    around its cells and charts, its table's header rows (``ws.print_title_rows``, set by
    :func:`year_table`) and first column repeated on every page, and a footer naming
    the sheet and the page. Every workbook writer calls it for every sheet by way of
    :func:`finish_workbook`."""
    cell_col, cell_row = ws.max_column, ws.max_row
    chart_col, chart_row = _chart_extent(ws)
    last_col, last_row = max(cell_col, chart_col, 1), max(cell_row, chart_row, 1)
    width_cm = sum(column_width_cm(ws, c) for c in range(1, last_col + 1))
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = (ws.ORIENTATION_LANDSCAPE if width_cm > _LANDSCAPE_FROM_CM
                                 else ws.ORIENTATION_PORTRAIT)
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = 1 if width_cm <= 75 else 2
    ws.page_setup.fitToHeight = 0  # as many pages as the rows need
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_area = f"A1:{get_column_letter(last_col)}{last_row}"
    if ws.print_title_rows is not None and ws.page_setup.fitToWidth > 1:
        ws.print_title_cols = "A:A"
    ws.oddFooter.left.text = "&A"
    ws.oddFooter.right.text = "Page &P of &N"



def put_note(ws: Worksheet, row: int, text: str) -> int:
    """A line of explanatory text; return the next row."""
    put(ws, row, 1, text, font=UNITS_FONT)
    return row + 1



def finish_workbook(wb: Workbook, title: object) -> Workbook:
    """Set every sheet's page setup (:func:`page_setup`), the workbook's creator and
    (neutralised, at most 250 characters) title."""
    for ws in wb.worksheets:
        page_setup(ws)
    wb.properties.creator = "spfsim"
    wb.properties.title = neutralise_text(str(title))[:250]
    return wb

