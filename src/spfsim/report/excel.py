"""The Excel workbook of a projection: kept as the import path of
:mod:`spfsim.report.workbook`, where the sheets now live (one module per family of sheets).

The underscore names are the cell helpers other workbooks (:mod:`spfsim.spf.report`) import
from here; new code imports them from :mod:`spfsim.report.workbook.cells`.
"""

from __future__ import annotations

from .workbook import (
    AssumptionRow,
    build_workbook,
    finish_workbook,
    key_years,
    neutralise_text,
    sheet_name_for,
    write_workbook,
)
from .workbook import cells as _cells
from .workbook import metadata as _metadata

__all__ = ["AssumptionRow", "build_workbook", "finish_workbook", "key_years", "neutralise_text",
           "sheet_name_for", "write_workbook"]

# The cell helpers under their former names (spfsim.spf.report imports them from here).
_BOLD, _HEADING = _cells.BOLD, _cells.HEADING
_FMT_COUNT, _FMT_DECIMAL, _FMT_PERCENT = _cells.FMT_COUNT, _cells.FMT_DECIMAL, _cells.FMT_PERCENT
_FMT_RATIO, _FMT_YEAR = _cells.FMT_RATIO, _cells.FMT_YEAR
_put, _header, _units_row, _title = (_cells.put, _cells.write_header, _cells.write_units,
                                     _cells.sheet_title)
_fit_columns, _year_table, _line_chart = (_cells.fit_columns, _cells.year_table,
                                          _cells.line_chart)
_metadata_sheet = _metadata.metadata_sheet
