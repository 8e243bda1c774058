"""Build and write the report workbook of one projection from its sheets."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import xarray as xr
from openpyxl import Workbook

from ..dataset import (
    check_single_projection,
    scheme_infos,
)
from ..io import atomic_write, check_writable
from .cells import finish_workbook, scheme_sheet_names
from .equity import equity_sheet, has_equity
from .metadata import assumptions_sheet, metadata_sheet, validated_assumptions
from .population import population_sheet
from .poverty import has_poverty, poverty_sheet
from .schemes import SCHEME_COLUMNS, adequacy_sheet, floor_sheet, scheme_sheet
from .summary import overview_charts, summary_sheet
from .sustainability import has_sustainability, sustainability_sheet

__all__ = ["build_workbook", "write_workbook"]

_REQUIRED = (
    "population", "births", "deaths", "net_migration", "life_expectancy",
    *(c[1] for c in SCHEME_COLUMNS), "depletion_year",
)



def build_workbook(ds: xr.Dataset,
                   assumptions_table: Iterable[Sequence[object]] | None = None) -> Workbook:
    """The report workbook, in memory (see :func:`write_workbook`)."""
    check_single_projection(ds, _REQUIRED, "the report")
    rows = None if assumptions_table is None else validated_assumptions(assumptions_table)
    schemes = scheme_infos(ds)
    sheet_names = scheme_sheet_names(schemes)

    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    summary_sheet(summary, ds, schemes, sheet_names)
    tables = {}
    for s in schemes:
        ws = wb.create_sheet(sheet_names[s.id])
        tables[s.id] = (ws, *scheme_sheet(ws, ds, s))
    floor = None
    if {"coverage_rate", "cost_to_gdp_by_guarantee"} <= set(ds.data_vars):
        ws = wb.create_sheet("Floor")
        floor = (ws, *floor_sheet(ws, ds))
    if {"benefit_to_poverty_line", "benefit_ratio", "replacement_rate_new"} <= set(
            ds.data_vars):
        adequacy_sheet(wb.create_sheet("Adequacy"), ds)
    if has_sustainability(ds):
        sustainability_sheet(wb.create_sheet("Sustainability"), ds, schemes)
    if has_equity(ds):
        equity_sheet(wb.create_sheet("Equity"), ds, schemes)
    if has_poverty(ds):
        poverty_sheet(wb.create_sheet("Poverty"), ds)
    population_sheet(wb.create_sheet("Population"), ds)
    assumptions_sheet(wb.create_sheet("Assumptions"), rows)
    metadata_sheet(wb.create_sheet("Metadata"), ds)
    overview_charts(summary, ds, schemes, tables, floor)
    return finish_workbook(wb, ds.attrs.get("title", "spfsim projection"))



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
