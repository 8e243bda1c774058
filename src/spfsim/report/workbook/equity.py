"""The Equity sheet: returns of complete birth cohorts by sex, persons' returns within
cohorts (micro engine) and gender gaps (ILC 2021 para. 15(c))."""

from __future__ import annotations

import numpy as np
import xarray as xr
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from ...engine.benefits import WORKING_AGES
from ...schemes.insurance import INSURANCE_TYPES
from ..dataset import (
    SchemeInfo,
    complete_cohort_mask,
)
from .cells import (
    CHART_ROWS,
    FMT_COUNT,
    FMT_DECIMAL,
    FMT_PERCENT,
    FMT_RATIO,
    HEADING,
    attr_units,
    chart_title,
    fit_columns,
    human_label,
    key_years,
    legend_names,
    line_chart,
    put,
    put_note,
    sheet_title,
    write_header,
    year_table,
)

_EQUITY_REQUIRED = ("cohort_irr", "money_worth_ratio", "net_transfer_pv", "cohort_complete")
_EQUITY_COLUMNS: tuple[tuple[str, str, str | None, str], ...] = (
    ("IRR", "cohort_irr", "annual rate", FMT_PERCENT),
    ("Money's worth ratio", "money_worth_ratio", "PV benefits / PV contributions",
     FMT_RATIO),
    ("Net transfer", "net_transfer_pv", None, FMT_COUNT),
)
#: Scheme types paying short-term benefits (spells of unemployment, maternity), whose
#: cohort IRR swings to extremes on small flows and means little: their money's worth
#: ratio and net transfer are shown instead. Every other contributory scheme pays
#: long-term benefits (pensions), whose IRR is shown.
SHORT_TERM_TYPES = frozenset(cls.NAME for cls in INSURANCE_TYPES)
_GAP_LABELS = {"contributor_coverage": "contributor coverage",
               "average_benefit": "average benefit", "replacement_rate": "replacement rate"}


def _complete_cohorts(ds: xr.Dataset, scheme: SchemeInfo) -> tuple[list[int], list[int]]:
    """(all birth cohorts, the complete ones in ``scheme``) of the equity variables."""
    cohorts = [int(c) for c in ds["cohort"].values]
    complete = complete_cohort_mask(ds, scheme.index)
    return cohorts, [c for c, ok in zip(cohorts, complete, strict=True) if ok]


def _cohort_block(ws: Worksheet, ds: xr.Dataset, scheme: SchemeInfo, name: str,
                  row: int) -> int:
    """One contributory scheme's returns by complete birth cohort and sex, with a chart of
    the IRR; return the next row."""
    cohorts, complete = _complete_cohorts(ds, scheme)
    put(ws, row, 1, f"{name}: returns by birth cohort", font=HEADING)
    row += 1
    span = f" (born {complete[0]}-{complete[-1]})" if complete else ""
    row = put_note(ws, row, f"Complete cohorts only: {len(complete)} of {len(cohorts)} birth "
                   f"cohorts{span} have all their cash flows in the scheme within the "
                   "projection; the others are cut by its start or end, their measures are "
                   "biased and are left out.")
    if not complete:
        return put_note(ws, row, "No complete cohort: lengthen the projection (end_year) to "
                        "measure cohort returns.") + 1
    sexes = [str(s) for s in ds["sex"].values]
    long_term = scheme.type not in SHORT_TERM_TYPES
    if not long_term:
        row = put_note(ws, row, "A short-term benefit (paid for spells, not for life): its "
                       "internal rate of return swings to extremes on small flows and means "
                       "little, so it is not shown; the money's worth ratio and the net "
                       "transfer say what each cohort gets for its contributions.")
    headers, units, formats, values = [], [], [], []
    for label, var, unit, fmt in _EQUITY_COLUMNS:
        if var == "cohort_irr" and not long_term:
            continue
        da = ds[var].isel(scheme=scheme.index).sel(cohort=complete)
        for sex in sexes:
            headers.append(f"{label}, {sex}")
            units.append(unit if unit is not None else attr_units(ds, var))
            formats.append(fmt)
            values.append(np.asarray(da.sel(sex=sex).transpose("cohort").values, dtype=float))
    table = np.column_stack(values)
    if not np.isfinite(table).any():
        return put_note(ws, row, "No cohort measures for this scheme.") + 1
    chart_row = row + 1
    header_row = chart_row + CHART_ROWS
    first = year_table(ws, complete, headers, units, formats, table, header_row=header_row,
                       first_label="Birth cohort", freeze=False)
    last = first + len(complete) - 1
    if long_term:
        chart = line_chart(ws, f"{scheme.name}: internal rate of return by birth cohort",
                           "IRR (annual rate)", "0.0%",
                           [(2 + k, f"IRR, {human_label(sex).lower()}")
                            for k, sex in enumerate(sexes)], first, last, f"A{chart_row}")
    else:
        mwr = 2 + len(sexes)
        chart = line_chart(ws, f"{scheme.name}: money's worth ratio by birth cohort",
                           "PV benefits / PV contributions", "0.00",
                           [(mwr + k, f"Money's worth ratio, {human_label(sex).lower()}")
                            for k, sex in enumerate(sexes)], first, last, f"A{chart_row}")
    chart.x_axis.title = chart_title("Birth cohort", 9, bold=False)
    ws.row_breaks.append(Break(id=last + 1))  # the next block starts a page
    return last + 2


def _gender_gap_block(ws: Worksheet, ds: xr.Dataset, schemes: list[SchemeInfo],
                      row: int) -> int:
    """Gender gaps of every scheme at the key years; return the next row."""
    shown = key_years(ds)
    put(ws, row, 1, "Gender gaps, (men - women) / men", font=HEADING)
    row = put_note(ws, row + 1, "Positive: women below men. Contributor coverage: "
                   f"contributors / population aged {WORKING_AGES[0]}-{WORKING_AGES[1]}; "
                   "average benefit per beneficiary; "
                   "replacement rate: average benefit / average insured earnings of the same "
                   "sex.")
    write_header(ws, row, ["Scheme id", "Name", "Indicator", "Unit", *map(str, shown)])
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
                put(ws, row, 1 + j, value)
            for j, value in enumerate(series):
                put(ws, row, 5 + j, float(value), FMT_PERCENT)
            row += 1
    return row + 1


_PERSON_DISTRIBUTIONS = (("Money's worth ratio", "money_worth_ratio_by_person", FMT_RATIO),
                         ("Net transfer", "net_transfer_by_person", FMT_DECIMAL))


def _person_distribution_block(ws: Worksheet, ds: xr.Dataset, row: int) -> int:
    """Quantiles of persons' money's worth ratio and net transfer in the pension, by
    complete 5-year birth cohort and sex (micro engine); return the next row."""
    groups = [int(g) for g, ok in zip(ds["birth_cohort"].values,
                                      ds["birth_cohort_complete"].values, strict=True) if ok]
    put(ws, row, 1, "Within each birth cohort: persons' returns in the pension "
                    "(micro engine)", font=HEADING)
    row = put_note(ws, row + 1, "Quantiles over the scheme's members, by 5-year birth cohort "
                   "(first year given): own pensions and refunds against own contributions, "
                   "present values at the interest path; the ratio among those who "
                   "contributed. Survivors' pensions are not included (see docs/micro.md).")
    if not groups:
        return put_note(ws, row, "No 5-year group of complete cohorts.") + 1
    quantiles = [float(q) for q in ds["quantile"].values]
    headers, units, formats, values = [], [], [], []
    for label, var, fmt in _PERSON_DISTRIBUTIONS:
        da = ds[var].sel(birth_cohort=groups)
        for sex in (str(s) for s in ds["sex"].values):
            for q in quantiles:
                headers.append(f"{label}, {sex}, {q:.1%}")
                units.append(attr_units(ds, var))
                formats.append(fmt)
                values.append(np.asarray(da.sel(sex=sex, quantile=q).values, dtype=float))
    first = year_table(ws, groups, headers, units, formats, np.column_stack(values),
                       header_row=row + 1, first_label="Birth cohorts from", freeze=False)
    return first + len(groups) + 1


def _has_cohort_returns(ds: xr.Dataset) -> bool:
    return set(_EQUITY_REQUIRED) <= set(ds.data_vars) and "cohort" in ds.dims


def has_equity(ds: xr.Dataset) -> bool:
    return _has_cohort_returns(ds) or "gender_gap" in ds.data_vars


def equity_sheet(ws: Worksheet, ds: xr.Dataset, schemes: list[SchemeInfo]) -> None:
    """Returns of complete birth cohorts by sex and gender gaps (ILC 2021 para. 15(c):
    intergenerational equity and gender equality)."""
    sheet_title(ws, "Intergenerational equity and gender gaps",
                "ILC 2021 para. 15(c); returns of each birth cohort by sex: internal rate of "
                "return, money's worth ratio, net transfer (present values)")
    row = 4
    if _has_cohort_returns(ds):
        for label, var in (("Money's worth ratio", "money_worth_ratio"),
                           ("Net transfer", "net_transfer_pv")):
            row = put_note(ws, row, f"{label}: {ds[var].attrs.get('long_name', '')}")
        row += 1
        names = legend_names(schemes)
        for scheme in (s for s in schemes if s.contributory):
            row = _cohort_block(ws, ds, scheme, names[scheme.id], row)
    if {"money_worth_ratio_by_person", "birth_cohort_complete"} <= set(ds.data_vars):
        row = _person_distribution_block(ws, ds, row)
    if "gender_gap" in ds.data_vars:
        _gender_gap_block(ws, ds, schemes, row)
    fit_columns(ws, skip_rows=3, minimum=10, maximum=24)

