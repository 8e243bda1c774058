"""The Sustainability sheet: fiscal space, and per funded scheme its sustainability measures
and reserve ratio under each financing method (ILC 2021 para. 15(a), (e), (g))."""

from __future__ import annotations

import numpy as np
import xarray as xr
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from ..dataset import (
    SchemeInfo,
)
from .cells import (
    CHART_ROWS,
    FMT_COUNT,
    FMT_PERCENT,
    FMT_RATIO,
    FMT_YEAR,
    HEADING,
    attr_units,
    fit_columns,
    legend_names,
    line_chart,
    put,
    put_note,
    sheet_title,
    write_header,
    year_table,
    years_of,
)

_SUSTAINABILITY_SCALARS: tuple[tuple[str, str, str | None, str], ...] = (
    ("General average premium", "general_average_premium", "% of insured earnings",
     FMT_PERCENT),
    ("Summarized income rate", "summarized_income_rate", "% of insured earnings",
     FMT_PERCENT),
    ("Summarized cost rate", "summarized_cost_rate", "% of insured earnings", FMT_PERCENT),
    ("Actuarial balance", "actuarial_balance", "% of insured earnings", FMT_PERCENT),
    ("Unfunded obligation (open group)", "unfunded_obligation", None, FMT_COUNT),
    ("Depletion year", "depletion_year", "calendar year", FMT_YEAR),
)
_SUSTAINABILITY_YEARLY: tuple[tuple[str, str, str, str], ...] = (
    ("Trust fund ratio", "trust_fund_ratio", "x annual expenditure", FMT_RATIO),
    ("Reserve ratio", "reserve_ratio", "x annual expenditure", FMT_RATIO),
    ("PAYG cost rate", "paygo_cost_rate", "% of insured earnings", FMT_PERCENT),
    ("Scaled premium", "scaled_premium", "% of insured earnings", FMT_PERCENT),
    ("Payable share", "payable_share", "% of scheduled cost", FMT_PERCENT),
)
_METHOD_LABELS = {"scheme_rules": "scheme's own rates", "paygo": "PAYG cost rate",
                  "general_average_premium": "general average premium",
                  "scaled_premium": "scaled premium"}
_FISCAL_COLUMNS: tuple[tuple[str, str, str | None, str], ...] = (
    ("State cost", "state_cost", None, FMT_COUNT),
    ("State cost % of GDP", "state_cost_to_gdp", "% of GDP", FMT_PERCENT),
    ("Fiscal envelope % of GDP", "fiscal_envelope", "% of GDP", FMT_PERCENT),
    ("Financing gap % of GDP", "financing_gap_to_gdp", "% of GDP", FMT_PERCENT),
)
_FISCAL_REQUIRED = ("state_cost", "state_cost_to_gdp", "fiscal_envelope",
                    "financing_gap_to_gdp")
_SCHEME_MEASURES = ("general_average_premium", "reserve_ratio_by_method")


def _funded_schemes(ds: xr.Dataset, schemes: list[SchemeInfo]) -> list[SchemeInfo]:
    """Contributory schemes with sustainability measures (a fund and insured earnings)."""
    names = [v for v in (*_SCHEME_MEASURES, "trust_fund_ratio") if v in ds.data_vars]
    return [s for s in schemes if s.contributory and any(
        np.isfinite(ds[v].isel(scheme=s.index).values).any() for v in names)]


def has_sustainability(ds: xr.Dataset) -> bool:
    return set(_FISCAL_REQUIRED) <= set(ds.data_vars) or any(
        v in ds.data_vars for v in _SCHEME_MEASURES)



def _fiscal_block(ws: Worksheet, ds: xr.Dataset, row: int) -> int:
    """Fiscal space by year with a chart (ILC 2021 para. 15(a), (g)); return the next row."""
    years = years_of(ds)
    put(ws, row, 1, "Fiscal space: cost of social protection to the state budget",
        font=HEADING)
    row = put_note(ws, row + 1, "State cost: benefits and administration of the schemes "
                   "without a fund plus every state transfer to funded schemes (subsidies, "
                   "state contributions, deficit cover). Financing gap: state cost - fiscal "
                   "envelope x GDP (positive: the envelope falls short).")
    if not np.isfinite(ds["fiscal_envelope"].values).any():
        row = put_note(ws, row, "No fiscal envelope in the model ([economy] fiscal_envelope): "
                       "the envelope and the financing gap are empty.")
    headers = [c[0] for c in _FISCAL_COLUMNS]
    units = [u if u is not None else attr_units(ds, v) for _, v, u, _ in _FISCAL_COLUMNS]
    table = np.column_stack([np.asarray(ds[v].transpose("year").values, dtype=float)
                             for _, v, _, _ in _FISCAL_COLUMNS])
    chart_row, header_row = row + 1, row + 1 + CHART_ROWS
    first = year_table(ws, years, headers, units, [c[3] for c in _FISCAL_COLUMNS], table,
                       header_row=header_row, freeze=False)
    last = first + len(years) - 1
    line_chart(ws, "Fiscal space", "% of GDP", "0.0%",
               [(3 + j, headers[1 + j]) for j in range(3)], first, last, f"A{chart_row}")
    ws.row_breaks.append(Break(id=last + 1))  # the next block starts a page
    return last + 2


def _scalar_value(ds: xr.Dataset, var: str, scheme: SchemeInfo) -> object:
    value = float(ds[var].isel(scheme=scheme.index).values)
    if var == "depletion_year":
        return int(value) if np.isfinite(value) else "not within horizon"
    return value


def _scheme_sustainability_block(ws: Worksheet, ds: xr.Dataset, scheme: SchemeInfo,
                                 name: str, row: int) -> int:
    """One funded scheme's measures and reserve ratios by financing method; next row."""
    put(ws, row, 1, f"{name}: sustainability and financing methods", font=HEADING)
    row += 1
    write_header(ws, row, ["Measure", "Value", "Unit", "Definition"])
    row += 1
    for label, var, unit, fmt in _SUSTAINABILITY_SCALARS:
        if var not in ds.data_vars:
            continue
        horizon = ds[var].attrs.get("horizon_years")
        if horizon is not None:
            label = f"{label} ({int(horizon)}-year horizon)"
        value = _scalar_value(ds, var, scheme)
        put(ws, row, 1, label)
        put(ws, row, 2, value, fmt if not isinstance(value, str) else None)
        put(ws, row, 3, unit if unit is not None else attr_units(ds, var))
        put(ws, row, 4, ds[var].attrs.get("long_name", ""))
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
            formats.append(FMT_RATIO)
            values.append(np.asarray(by_method.sel(financing_method=method)
                                     .transpose("year").values, dtype=float))
    if not values:
        return row + 1
    years = years_of(ds)
    chart_row = row + 1
    header_row = chart_row + (CHART_ROWS if methods else 0)
    first = year_table(ws, years, headers, units, formats, np.column_stack(values),
                       header_row=header_row, freeze=False)
    last = first + len(years) - 1
    if methods:
        start = 2 + len(headers) - len(methods)
        line_chart(ws, f"{scheme.name}: reserve ratio by financing method (below zero: "
                   "accumulated shortfall)", "reserve / annual expenditure", "0.0",
                   [(start + k, _METHOD_LABELS.get(m, m)) for k, m in enumerate(methods)],
                   first, last, f"A{chart_row}")
    ws.row_breaks.append(Break(id=last + 1))  # the next block starts a page
    return last + 2


def sustainability_sheet(ws: Worksheet, ds: xr.Dataset, schemes: list[SchemeInfo]) -> None:
    """Fiscal space and, per funded scheme, the sustainability measures and the reserve
    ratio under each financing method (ILC 2021 para. 15(a), (e), (g))."""
    currency = ds.attrs.get("currency", "")
    sheet_title(ws, "Sustainability and fiscal space",
                f"ILC 2021 para. 15(a), (e), (g); money in {currency}, "
                f"{ds.attrs.get('price_basis', '')}; rates as % of insured earnings, reserve "
                "ratios in years of expenditure")
    row = 4
    if set(_FISCAL_REQUIRED) <= set(ds.data_vars):
        row = _fiscal_block(ws, ds, row)
    funded = _funded_schemes(ds, schemes)
    names = legend_names(schemes)
    for scheme in funded:
        row = _scheme_sustainability_block(ws, ds, scheme, names[scheme.id], row)
    if not funded:
        put_note(ws, row, "No funded scheme: no reserve or financing-method measures.")
    fit_columns(ws, skip_rows=3, minimum=10, maximum=24)

