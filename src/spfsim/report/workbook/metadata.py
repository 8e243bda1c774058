"""The Assumptions and Metadata sheets: what a projection assumed, how it was produced and
what each variable means."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import PurePath

import xarray as xr
from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from .cells import (
    HEADING,
    fit_columns,
    put,
    sheet_title,
    write_header,
)

#: One row of the assumptions table: (section, name, value, unit, description).
AssumptionRow = tuple[str, str, object, str, str]


def validated_assumptions(rows: Iterable[Sequence[object]]) -> list[tuple[object, ...]]:
    checked = []
    for i, row in enumerate(rows):
        if isinstance(row, str | bytes) or not isinstance(row, Sequence) or len(row) != 5:
            raise ValueError(
                f"assumptions_table row {i} must be (section, name, value, unit, description); "
                f"got {row!r}")
        checked.append(tuple(row))
    return checked


_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def _as_number(value: object) -> object:
    """A value given as the text of one number (``"0.11"``, ``"60"``) as that number, so
    that formulas can use it; any other value as it is."""
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        number = float(value)
        return int(number) if number.is_integer() and "." not in value else number
    return value


def assumptions_sheet(ws: Worksheet, rows: list[tuple[object, ...]] | None) -> None:
    sheet_title(ws, "Assumptions", "Assumptions used by the projection")
    if rows is None:
        put(ws, 3, 1, "No assumptions table was given when this workbook was written; the model "
                      "file named in the Metadata sheet (model_path, input_hash) holds them.")
        ws.column_dimensions["A"].width = 100
        return
    write_header(ws, 3, ["Section", "Name", "Value", "Unit", "Description"])
    ws.freeze_panes = "A4"
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            put(ws, 4 + i, 1 + j, _as_number(value) if j == 2 else value)
            if j == 4:
                ws.cell(row=4 + i, column=5).alignment = Alignment(wrap_text=True,
                                                                  vertical="top")
    if not rows:
        put(ws, 4, 1, "(the assumptions table given was empty)")
    fit_columns(ws, skip_rows=2, minimum=10, maximum=40)
    ws.column_dimensions["E"].width = 80


#: Attributes holding a path on the machine that ran the projection: the workbook shows
#: the file's or folder's name only.
LOCAL_PATHS = ("model_path", "reform_file")


def metadata_sheet(ws: Worksheet, ds: xr.Dataset) -> None:
    sheet_title(ws, "Metadata", "How this result was produced, and what each variable means")
    put(ws, 3, 1, "Dataset attributes", font=HEADING)
    write_header(ws, 4, ["Key", "Value"])
    row = 5
    for key, value in ds.attrs.items():
        if key in LOCAL_PATHS and value:
            # the folder's name, not where it sits on the machine that ran it
            value = PurePath(str(value)).name
        put(ws, row, 1, str(key))
        put(ws, row, 2, value)
        row += 1
    row += 1
    put(ws, row, 1, "Variables", font=HEADING)
    row += 1
    write_header(ws, row, ["Name", "Role", "Dims", "Units", "Long name"])
    row += 1
    entries = [(name, "coordinate", ds.coords[name]) for name in ds.coords]
    entries += [(name, "data variable", ds[name]) for name in ds.data_vars]
    for name, role, var in entries:
        values = (str(name), role, ", ".join(map(str, var.dims)),
                  var.attrs.get("units", ""), var.attrs.get("long_name", ""))
        for j, value in enumerate(values):
            put(ws, row, 1 + j, value)
        row += 1
    fit_columns(ws, skip_rows=2, minimum=10, maximum=70)

