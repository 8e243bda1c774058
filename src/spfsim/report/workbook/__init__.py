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

Modules: :mod:`.cells` (cells, styles, tables, charts shared by every sheet and by the
comparison and SPF workbooks), one module per family of sheets (:mod:`.summary`,
:mod:`.schemes`, :mod:`.population`, :mod:`.sustainability`, :mod:`.equity`,
:mod:`.metadata`) and :mod:`.build`, which puts them together.
"""

from __future__ import annotations

from .build import build_workbook, write_workbook
from .cells import finish_workbook, key_years, neutralise_text, sheet_name_for
from .metadata import AssumptionRow

__all__ = ["AssumptionRow", "build_workbook", "finish_workbook", "key_years",
           "neutralise_text", "sheet_name_for", "write_workbook"]
