"""One sheet per scheme (a yearly table with charts), the social protection floor by R202
guarantee and the adequacy of benefits."""

from __future__ import annotations

import numpy as np
import xarray as xr
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..dataset import (
    SchemeInfo,
    lump_sum_cost_rate,
)
from .cells import (
    FMT_COUNT,
    FMT_PERCENT,
    FMT_RATIO,
    attr_units,
    fit_columns,
    line_chart,
    sheet_title,
    total_over,
    year_table,
    years_of,
)

SCHEME_COLUMNS: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("Contributors", "contributors", "sum", FMT_COUNT, None),
    ("Beneficiaries", "beneficiaries", "sum", FMT_COUNT, None),
    ("Insured earnings", "insured_earnings", "as_is", FMT_COUNT, None),
    ("Contribution income", "contribution_income", "as_is", FMT_COUNT, None),
    ("State transfer", "state_transfer", "as_is", FMT_COUNT, None),
    ("Investment income", "investment_income", "as_is", FMT_COUNT, None),
    ("Benefit expenditure", "benefit_expenditure", "as_is", FMT_COUNT, None),
    ("Admin expenditure", "admin_expenditure", "as_is", FMT_COUNT, None),
    ("Reserve (end of year)", "reserve", "as_is", FMT_COUNT, None),
    ("PAYG cost rate", "paygo_cost_rate", "as_is", FMT_PERCENT, "% of insured earnings"),
    ("Reserve ratio", "reserve_ratio", "as_is", FMT_RATIO, "x annual expenditure"),
    ("Cost % of GDP", "cost_to_gdp", "as_is", FMT_PERCENT, "% of GDP"),
)

_PERIODIC, _LUMP_SUMS = "PAYG cost rate, periodic benefits", "PAYG cost rate, lump sums"


def _scheme_table(ds: xr.Dataset, scheme: SchemeInfo) -> tuple[list[str], list[str], list[str],
                                                              np.ndarray]:
    """The scheme sheet's columns; for a scheme paying lump sums (refunds) the PAYG cost
    rate of its periodic benefits and of its lump sums follow the total."""
    headers, units, formats, columns = [], [], [], []
    lump = lump_sum_cost_rate(ds, scheme.index)
    for label, var, how, fmt, unit in SCHEME_COLUMNS:
        da = ds[var].isel(scheme=scheme.index)
        da = total_over(da, ("year",)) if how == "sum" else da.transpose("year")
        headers.append(label)
        units.append(unit if unit is not None else attr_units(ds, var))
        formats.append(fmt)
        columns.append(np.asarray(da.values, dtype=float))
        if var == "paygo_cost_rate" and lump is not None:
            headers += [_PERIODIC, _LUMP_SUMS]
            units += [unit, unit]
            formats += [fmt, fmt]
            columns += [columns[-1] - lump, lump]
    return headers, units, formats, np.column_stack(columns)



def scheme_sheet(ws: Worksheet, ds: xr.Dataset, scheme: SchemeInfo) -> None:
    currency = ds.attrs.get("currency", "")
    basis = ds.attrs.get("price_basis", "")
    kind = scheme.kind.replace("_", "-") or "unknown kind"
    sheet_title(ws, f"{scheme.name} ({scheme.id})",
                f"{kind} scheme, type {scheme.type}; money in {currency}, {basis}")
    headers, units, formats, table = _scheme_table(ds, scheme)
    years = years_of(ds)
    first = year_table(ws, years, headers, units, formats, table, header_row=3)
    last = first + len(years) - 1
    fit_columns(ws, skip_rows=2, minimum=10, maximum=24)
    col = {label: 2 + j for j, label in enumerate(headers)}
    anchor_col = get_column_letter(len(headers) + 3)
    if scheme.contributory:
        # periodic benefits and lump sums apart, so that a year without lump sums (the
        # pensionable age rises) does not read as an unexplained dip of the cost rate
        parts = [(col[label], f"{label} (% of insured earnings)")
                 for label in (_PERIODIC, _LUMP_SUMS) if label in col]
        line_chart(ws, f"{scheme.name}: PAYG cost rate and cost to GDP", "%", "0.0%",
                   [(col["PAYG cost rate"], "PAYG cost rate (% of insured earnings)"),
                    *parts, (col["Cost % of GDP"], "Cost (% of GDP)")],
                   first, last, f"{anchor_col}3")
        line_chart(ws, f"{scheme.name}: reserve ratio", "reserve / annual expenditure",
                   "0.0", [(col["Reserve ratio"], "Reserve ratio")],
                   first, last, f"{anchor_col}20")
    else:
        line_chart(ws, f"{scheme.name}: cost to GDP", "% of GDP", "0.00%",
                   [(col["Cost % of GDP"], "Cost (% of GDP)")], first, last, f"{anchor_col}3")


def floor_sheet(ws: Worksheet, ds: xr.Dataset) -> None:
    """Coverage and cost by R202 guarantee (and SDG 1.3.1), with two charts."""
    sheet_title(ws, "Social protection floor by guarantee (R202 para. 5)",
                "coverage: share of each target group covered; cost: expenditure incl. "
                "administration as a share of GDP; any_cash = SDG 1.3.1 / all cash benefits")
    guarantees = [str(g) for g in ds["guarantee"].values]
    table = np.concatenate([ds["coverage_rate"].transpose("year", "guarantee").values,
                            ds["cost_to_gdp_by_guarantee"].transpose("year", "guarantee")
                            .values], axis=1)
    headers = [f"Coverage {g}" for g in guarantees] + [f"Cost {g} % GDP" for g in guarantees]
    n = len(guarantees)
    years = years_of(ds)
    first = year_table(ws, years, headers, ["fraction"] * n + ["fraction"] * n,
                       [FMT_PERCENT] * (2 * n), table, header_row=3)
    last = first + len(years) - 1
    fit_columns(ws, skip_rows=2, minimum=10, maximum=24)
    anchor = get_column_letter(2 * n + 3)
    line_chart(ws, "Coverage by guarantee", "% of target group", "0%",
               [(2 + j, g) for j, g in enumerate(guarantees)], first, last, f"{anchor}3")
    line_chart(ws, "Cost by guarantee", "% of GDP", "0.0%",
               [(2 + n + j, g) for j, g in enumerate(guarantees)], first, last,
               f"{anchor}20")


def adequacy_sheet(ws: Worksheet, ds: xr.Dataset) -> None:
    """Benefit levels relative to the poverty line, and the pension's replacement rates
    by sex (R202 para. 8(b); ILC 2021 para. 15(c))."""
    sheet_title(ws, "Adequacy",
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
    years = years_of(ds)
    year_table(ws, years, labels, ["fraction"] * len(labels), [FMT_PERCENT] * len(labels),
               table, header_row=3)
    fit_columns(ws, skip_rows=2, minimum=10, maximum=28)


# Sustainability sheet: scalar measures of each funded scheme (label, variable, unit shown or
