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
    scheme_infos,
)
from .cells import (
    CHART_ROWS,
    CHART_WIDTH_CM,
    FMT_COUNT,
    FMT_PERCENT,
    FMT_RATIO,
    attr_units,
    column_after,
    fit_columns,
    human_label,
    legend_names,
    line_chart,
    money_format,
    money_scale,
    money_units,
    put_note,
    sheet_title,
    total_over,
    year_table,
    years_of,
)

#: Where a sheet's table starts when charts sit above it: the title, a note, the charts.
TABLE_BELOW_CHARTS = 4 + CHART_ROWS

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
#: The money columns of a scheme sheet, shown in thousands, millions or billions.
MONEY_VARIABLES = ("insured_earnings", "contribution_income", "state_transfer",
                   "investment_income", "benefit_expenditure", "admin_expenditure", "reserve")
CONTRIBUTION_RATE = "Contribution rate"

_PERIODIC, _LUMP_SUMS = "PAYG cost rate, periodic benefits", "PAYG cost rate, lump sums"


def _scheme_table(ds: xr.Dataset, scheme: SchemeInfo) -> tuple[list[str], list[str], list[str],
                                                              np.ndarray]:
    """The scheme sheet's columns; for a scheme paying lump sums (refunds) the PAYG cost
    rate of its periodic benefits and of its lump sums follow the total."""
    headers, units, formats, columns = [], [], [], []
    lump = lump_sum_cost_rate(ds, scheme.index)
    factor, word = money_scale(np.concatenate(
        [ds[v].isel(scheme=scheme.index).values.ravel() for v in MONEY_VARIABLES]))
    for label, var, how, fmt, unit in SCHEME_COLUMNS:
        da = ds[var].isel(scheme=scheme.index)
        da = total_over(da, ("year",)) if how == "sum" else da.transpose("year")
        headers.append(label)
        shown = unit if unit is not None else attr_units(ds, var)
        if var in MONEY_VARIABLES:
            shown, fmt = money_units(shown, word), money_format(factor)
        units.append(shown)
        formats.append(fmt)
        columns.append(np.asarray(da.values, dtype=float))
        if var == "paygo_cost_rate" and lump is not None:
            headers += [_PERIODIC, _LUMP_SUMS]
            units += [unit, unit]
            formats += [fmt, fmt]
            columns += [columns[-1] - lump, lump]
        if var == "paygo_cost_rate" and scheme.contributory:
            # what the contributions raise, beside what the benefits cost
            income = ds["contribution_income"].isel(scheme=scheme.index).transpose("year")
            earnings = ds["insured_earnings"].isel(scheme=scheme.index).transpose("year")
            with np.errstate(divide="ignore", invalid="ignore"):
                rate = np.asarray(income.values, dtype=float) / np.asarray(
                    earnings.values, dtype=float)
            headers.append(CONTRIBUTION_RATE)
            units.append("% of insured earnings")
            formats.append(FMT_PERCENT)
            columns.append(rate)
    return headers, units, formats, np.column_stack(columns)



def depletion_of(ds: xr.Dataset, scheme: SchemeInfo) -> int | None:
    """The scheme's depletion year within the horizon, or None."""
    if not scheme.contributory or "depletion_year" not in ds.data_vars:
        return None
    year = float(ds["depletion_year"].isel(scheme=scheme.index).values)
    return int(year) if np.isfinite(year) else None


def reserve_ratio_title(name: str, depleted: int | None) -> str:
    """A reserve-ratio chart's title, saying what the line below zero means."""
    if depleted is None:
        return f"{name}: reserve ratio"
    return (f"{name}: reserve ratio (reserve depleted in {depleted}; below zero: the "
            "accumulated shortfall)")


def scheme_sheet(ws: Worksheet, ds: xr.Dataset, scheme: SchemeInfo
                 ) -> tuple[int, int, dict[str, int]]:
    """A scheme's yearly table below its charts (PAYG cost rate against the contribution
    rate and cost to GDP, and the reserve ratio, of a contributory scheme; the cost to GDP
    of a non-contributory one). Return (first data row, last data row, {header: column})."""
    currency = ds.attrs.get("currency", "")
    basis = ds.attrs.get("price_basis", "")
    kind = scheme.kind.replace("_", "-") or "unknown kind"
    sheet_title(ws, scheme.name,  # the sheet's tab gives the id
                f"{kind} scheme, type {scheme.type}; money in {currency}, {basis}")
    depleted = depletion_of(ds, scheme)
    if depleted is not None:
        put_note(ws, 3, f"The reserve is depleted in {depleted}: from then on the reserve and "
                 "reserve ratio below zero are the accumulated shortfall, the benefits the "
                 "scheduled contributions do not pay (see the payable share on the "
                 "Sustainability sheet).")
    headers, units, formats, table = _scheme_table(ds, scheme)
    years = years_of(ds)
    first = year_table(ws, years, headers, units, formats, table,
                       header_row=TABLE_BELOW_CHARTS)
    last = first + len(years) - 1
    fit_columns(ws, skip_rows=3, minimum=10, maximum=24)
    ws.freeze_panes = None  # the charts above the table would be frozen with its header
    col = {label: 2 + j for j, label in enumerate(headers)}
    beside = f"{get_column_letter(column_after(ws, 1, CHART_WIDTH_CM + 0.5))}4"
    if scheme.contributory:
        # periodic benefits and lump sums apart, so that a year without lump sums (the
        # pensionable age rises) does not read as an unexplained dip of the cost rate
        parts = [(col[label], f"{label} (% of insured earnings)")
                 for label in (_PERIODIC, _LUMP_SUMS) if label in col]
        line_chart(ws, f"{scheme.name}: PAYG cost rate, contribution rate and cost to GDP",
                   "%", "0.0%",
                   [(col["PAYG cost rate"], "PAYG cost rate (% of insured earnings)"),
                    *parts,
                    (col[CONTRIBUTION_RATE], "Contribution rate (% of insured earnings)"),
                    (col["Cost % of GDP"], "Cost (% of GDP)")],
                   first, last, "A4")
        line_chart(ws, reserve_ratio_title(scheme.name, depleted),
                   "reserve / annual expenditure", "0.0", [(col["Reserve ratio"],
                                                           "Reserve ratio")],
                   first, last, beside)
    else:
        line_chart(ws, f"{scheme.name}: cost to GDP", "% of GDP", "0.00%",
                   [(col["Cost % of GDP"], "Cost (% of GDP)")], first, last, "A4")
    return first, last, col


#: The guarantees whose coverage the Floor sheet also shows by sex.
COVERAGE_BY_SEX = ("any_cash", "old_age")


def floor_sheet(ws: Worksheet, ds: xr.Dataset) -> tuple[int, int, dict[str, int]]:
    """Coverage and cost by R202 guarantee (and SDG 1.3.1; coverage of it and of older
    persons by sex where the Dataset has ``coverage_rate_by_sex``), below two charts.
    Return (first data row, last data row, {header: column})."""
    sheet_title(ws, "Social protection floor by guarantee (R202 para. 5)",
                "coverage: share of each target group covered; cost: expenditure incl. "
                "administration as a share of GDP; any cash benefit = SDG 1.3.1")
    guarantees = [str(g) for g in ds["guarantee"].values]
    names = [human_label(g) for g in guarantees]
    columns = [ds["coverage_rate"].transpose("year", "guarantee").values,
               ds["cost_to_gdp_by_guarantee"].transpose("year", "guarantee").values]
    headers = [f"Coverage, {g}" for g in names] + [f"Cost, {g}" for g in names]
    units = ["% of target group"] * len(names) + ["% of GDP"] * len(names)
    if "coverage_rate_by_sex" in ds.data_vars:
        by_sex = ds["coverage_rate_by_sex"]
        for g in (g for g in COVERAGE_BY_SEX if g in guarantees):
            for sex in (str(x) for x in by_sex["sex"].values):
                headers.append(f"Coverage, {human_label(g)}, {human_label(sex).lower()}")
                units.append("% of target group")
                columns.append(by_sex.sel(guarantee=g, sex=sex).transpose("year")
                               .values[:, None])
    table = np.concatenate(columns, axis=1)
    n = len(guarantees)
    years = years_of(ds)
    first = year_table(ws, years, headers, units, [FMT_PERCENT] * len(headers), table,
                       header_row=TABLE_BELOW_CHARTS)
    last = first + len(years) - 1
    fit_columns(ws, skip_rows=3, minimum=10, maximum=18)
    ws.freeze_panes = None  # the charts above the table would be frozen with its header
    beside = f"{get_column_letter(column_after(ws, 1, CHART_WIDTH_CM + 0.5))}4"
    line_chart(ws, "Coverage by guarantee", "% of target group", "0%",
               [(2 + j, g) for j, g in enumerate(names)], first, last, "A4")
    line_chart(ws, "Cost by guarantee", "% of GDP", "0.0%",
               [(2 + n + j, g) for j, g in enumerate(names)], first, last, beside)
    return first, last, {label: 2 + j for j, label in enumerate(headers)}


def adequacy_sheet(ws: Worksheet, ds: xr.Dataset) -> None:
    """Benefit levels relative to the poverty line, and the pension's replacement rates
    by sex (R202 para. 8(b); ILC 2021 para. 15(c))."""
    sheet_title(ws, "Adequacy",
                "average benefit / annual poverty line by scheme; benefit ratio (average pension "
                "/ average insured earnings) and replacement rate of new pensions by sex")
    names = legend_names(scheme_infos(ds))  # headers name schemes in words, not by id
    columns, labels = [], []
    for scheme, shown in names.items():
        columns.append(ds["benefit_to_poverty_line"].sel(scheme=scheme).values)
        labels.append(f"{shown}: benefit / poverty line")
    for name, label in (("benefit_ratio", "benefit ratio"),
                        ("replacement_rate_new", "replacement rate of new pensions")):
        for scheme, shown in names.items():
            values = ds[name].sel(scheme=scheme)
            if not np.isfinite(values.values).any():
                continue
            for sex in ("male", "female"):
                columns.append(values.sel(sex=sex).values)
                labels.append(f"{shown}: {label}, {human_label(sex).lower()}")
    table = np.stack(columns, axis=1)
    years = years_of(ds)
    year_table(ws, years, labels, ["%"] * len(labels), [FMT_PERCENT] * len(labels),
               table, header_row=3)
    fit_columns(ws, skip_rows=2, minimum=10, maximum=28)


# Sustainability sheet: scalar measures of each funded scheme (label, variable, unit shown or
