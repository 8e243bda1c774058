"""Disclosure control of a micro run started from a person file (R202 para. 23: the
confidentiality of personal data).

A person file holds survey or administrative records of real persons. The micro engine
clones them, so a cell of the results (a year, age and sex; an age group; a birth cohort; a
household size) is about the records whose clones are in it, however many clones there
are: a cell behind which only a few records stand could disclose what they hold. Before a
Dataset leaves the projection, :func:`control_disclosure` suppresses (sets to NaN) every
cell behind which at least one and fewer than ``minimum_records`` records stand (the
model's ``[disclosure]`` section, :mod:`spfsim.params.disclosure`).

The records behind a cell are counted by the engine (:mod:`spfsim.engine.micro.disclosure`):
the records of the cell's cohort and sex with a clone living at the start of the year, or
for households by size the source households with a member living in a household of that
size. A variable is judged by its finest population cell:

- by age (and sex): the records of that age's cohort;
- by age group (and sex): the records of the group's cohorts;
- by birth cohort or cohort (and sex): the records born in it;
- by household size: the source households;
- by year (and sex) only: all the records living that year;
- without year or cohort (the horizon's measures): all the records.

Within a cell, the further splits (status, income stage, scheme, quantile) are not judged
apart: every clone's life after the base year is simulated from its own random draws, so
those splits describe simulated paths, not the records. Cells with no record behind them
hold only simulated persons (born or arrived after the base year, or drawn for what the
file lacks) and are kept. The model's assumptions (GDP, earnings, prices, interest, the
poverty line, revenue) are not about persons and are never suppressed.

No per-person or per-household output is written, and no person or household id of the
file reaches a result, a workbook or a figure: outputs are cells.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

if TYPE_CHECKING:
    from ..engine.micro.disclosure import SourceCells

# variables that are the model's assumptions, not the persons' (never suppressed)
ASSUMPTIONS = ("gdp", "average_earnings", "price_index", "wage_index", "interest_rate",
               "poverty_line", "government_revenue", "fiscal_envelope")
MAX_AGE = 100


def records_by_cell(sources: SourceCells, years: np.ndarray) -> dict[str, xr.DataArray]:
    """The records behind each kind of cell: by (year, age, sex), (year, sex, age group),
    (year, sex), (year,), (birth_cohort, sex) by first birth year of 5, (cohort, sex) by
    birth year, (year, household_size) and overall."""
    from ..engine.micro import poverty as P  # the engine's, only for a micro run
    from ..engine.micro.families import N_SIZES
    from ..engine.micro.kernels import COHORT_GROUP

    n = len(years)
    base_year = int(years[0])
    by_age = np.zeros((n, MAX_AGE + 1, 2), dtype=np.int64)
    for k in range(n):
        # a record of base-year age b is aged b + k (the oldest together at MAX_AGE)
        ages = np.minimum(np.arange(MAX_AGE + 1) + k, MAX_AGE)
        np.add.at(by_age[k], ages, sources.records[k])
    sex = ["male", "female"]
    age = xr.DataArray(by_age, dims=("year", "age", "sex"),
                       coords={"year": years, "age": np.arange(MAX_AGE + 1), "sex": sex})
    group = xr.DataArray(np.array([P.AGE_GROUPS[P.age_group(a)]
                                   for a in range(MAX_AGE + 1)]), dims="age")
    groups = age.groupby(group.rename("age_group")).sum().transpose("year", "sex",
                                                                    "age_group")
    base = sources.records[0]  # every record with a clone at the start
    birth = base_year - np.arange(MAX_AGE + 1)
    cohort = xr.DataArray(base, dims=("cohort", "sex"), coords={"cohort": birth, "sex": sex})
    first = base_year - MAX_AGE  # the first birth cohort group's (engine.micro.engine)
    group_of = first + (cohort.cohort - first) // COHORT_GROUP * COHORT_GROUP
    birth_cohort = cohort.groupby(group_of.rename("birth_cohort")).sum()
    households = xr.DataArray(sources.households, dims=("year", "household_size"),
                              coords={"year": years, "household_size": np.arange(1, N_SIZES + 1)})
    return {"age": age, "age_group": groups, "year_sex": age.sum("age"),
            "year": age.sum(("age", "sex")), "birth_cohort": birth_cohort,
            "cohort": cohort, "household_size": households,
            "all": xr.DataArray(int(base.sum()))}


def _cells_of(da: xr.DataArray, cells: dict[str, xr.DataArray]) -> xr.DataArray:
    """The records behind each cell of ``da`` (its finest population cell, summed over
    sex where ``da`` has none)."""
    dims = set(da.dims)
    for kind in ("household_size", "age", "age_group", "birth_cohort", "cohort"):
        if kind in dims:
            found = cells[kind]
            break
    else:
        found = (cells["year_sex"] if "sex" in dims else cells["year"]) if "year" in dims \
            else cells["all"]
    if "sex" in found.dims and "sex" not in dims:
        found = found.sum("sex")
    return found.reindex({d: da[d] for d in found.dims if d in da.coords}, fill_value=0)


def control_disclosure(ds: xr.Dataset, sources: SourceCells | None,
                       minimum_records: int) -> xr.Dataset:
    """``ds`` with every cell behind which 1 to ``minimum_records`` - 1 of the person file's
    records stand set to NaN (see the module docstring); the count of values suppressed
    is in each variable's ``cells_suppressed`` attr and the rule in the Dataset's attrs.
    ``sources`` None (no person file): nothing to control, said in the attrs."""
    ds = ds.copy()
    if sources is None:
        ds.attrs["disclosure_control"] = ("none needed: a synthetic population, no record of "
                                          "a person behind any cell")
        return ds
    cells = records_by_cell(sources, ds["year"].values)
    suppressed_total = 0
    for name in list(ds.data_vars):
        da = ds[name]
        if name in ASSUMPTIONS or not np.issubdtype(da.dtype, np.number) or da.dtype == bool:
            continue
        behind = _cells_of(da, cells)
        hidden = (behind > 0) & (behind < minimum_records)
        count = int((hidden & da.notnull()).sum())  # values hidden (not those undefined)
        if count:
            ds[name] = da.astype(np.float64).where(~hidden)
            ds[name].attrs = dict(da.attrs, cells_suppressed=count)
            suppressed_total += count
    ds.attrs["disclosure_control"] = (
        f"cells behind which 1 to {minimum_records - 1} of the person file's records stand "
        f"are suppressed (NaN): {suppressed_total} cells (spfsim.results.disclosure)")
    ds.attrs["disclosure_minimum_records"] = minimum_records
    return ds
