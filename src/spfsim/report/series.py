"""The series the report shows, taken from a projection's Dataset: key years, population by
broad age group, the population pyramid, the PAYG cost rate.

One implementation for the workbook, the figures and ``ds.spf`` (:mod:`.accessor`); nothing
here imports matplotlib or openpyxl. Units are the Dataset's: persons, fractions.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .dataset import check_single_projection, scheme_infos

__all__ = ["cost_rate", "key_years", "population_by_age_group", "pyramid", "years_of"]

#: Broad age groups (first age, last age) of the dependency ratio.
CHILDREN, WORKING_AGE, OLDER = (0, 14), (15, 64), (65, None)


def years_of(ds: xr.Dataset) -> list[int]:
    """The projection years, as ints."""
    return [int(y) for y in ds["year"].values]


def key_years(ds: xr.Dataset) -> list[int]:
    """Base year, base year + 25 (when within the horizon) and end year, without repeats."""
    years = years_of(ds)
    base, end = years[0], years[-1]
    wanted = [base, base + 25, end]
    return sorted({y for y in wanted if y in set(years)})


def total_over(da: xr.DataArray, keep: tuple[str, ...]) -> xr.DataArray:
    """Sum over every dimension not in ``keep`` (NaNs skipped)."""
    drop = [d for d in da.dims if d not in keep]
    return da.sum(drop) if drop else da


def population_by_age_group(ds: xr.Dataset) -> xr.Dataset:
    """Mid-year population by year: ``total``, ``aged_0_14``, ``aged_15_64``, ``aged_65_plus``
    (persons) and ``old_age_dependency_ratio`` (aged 65+ / aged 15-64, a fraction; NaN in a
    year without anyone of working age)."""
    pop = ds["population"]
    age = ds["age"]
    young = total_over(pop.where(age <= CHILDREN[1], 0.0), ("year",))
    working = total_over(pop.where((age >= WORKING_AGE[0]) & (age <= WORKING_AGE[1]), 0.0),
                         ("year",))
    old = total_over(pop.where(age >= OLDER[0], 0.0), ("year",))
    with np.errstate(divide="ignore", invalid="ignore"):
        dependency = np.where(working.values > 0, old.values / working.values, np.nan)
    persons = {"units": "persons"}
    return xr.Dataset({
        "total": total_over(pop, ("year",)).assign_attrs(persons, long_name="population"),
        "aged_0_14": young.assign_attrs(persons, long_name="population aged 0-14"),
        "aged_15_64": working.assign_attrs(persons, long_name="population aged 15-64"),
        "aged_65_plus": old.assign_attrs(persons, long_name="population aged 65 and over"),
        "old_age_dependency_ratio": ("year", dependency, {
            "units": "fraction", "long_name": "old-age dependency ratio (65+ / 15-64)"}),
    })


def pyramid(ds: xr.Dataset, year: int) -> xr.DataArray:
    """Population at 1 July of ``year`` by single year of age and sex, (age, sex), persons,
    males first when the sexes are male and female; age 100 is the open group.

    Raises ``ValueError`` if ``year`` is not in the projection or there are not two sexes.
    """
    check_single_projection(ds, ("population",), "the pyramid")
    years = years_of(ds)
    if int(year) not in years:
        raise ValueError(f"year {year} is not in the projection ({years[0]}-{years[-1]})")
    sexes = [str(s) for s in ds["sex"].values]
    if len(sexes) != 2:
        raise ValueError(f"a pyramid needs two sexes, the Dataset has {sexes}")
    order = ["male", "female"] if set(sexes) == {"male", "female"} else sexes
    pop = ds["population"].sel(year=int(year)).transpose("age", "sex").sel(sex=order)
    return pop.astype(float).fillna(0.0).assign_attrs(ds["population"].attrs)


def cost_rate(ds: xr.Dataset, by_payment: bool = False) -> xr.DataArray:
    """PAYG cost rate of the contributory schemes, (year, scheme): benefit and administrative
    expenditure of the year / insured earnings, a fraction (``paygo_cost_rate``).

    ``by_payment``: (year, scheme, payment) with ``payment`` "periodic" (pensions and other
    periodic benefits) and "lump_sum" (refunds of contributions), administration shared in
    proportion to benefits, so that the two add up to the total; ``ValueError`` if the
    Dataset does not split its cost rate (``paygo_cost_rate_by_payment``).
    """
    check_single_projection(ds, ("paygo_cost_rate",), "the cost rate")
    contributory = [s.id for s in scheme_infos(ds) if s.contributory]
    if not by_payment:
        return ds["paygo_cost_rate"].sel(scheme=contributory).transpose("year", "scheme")
    if "paygo_cost_rate_by_payment" not in ds.data_vars:
        raise ValueError("the Dataset does not split the PAYG cost rate by form of payment "
                         "(no paygo_cost_rate_by_payment)")
    return ds["paygo_cost_rate_by_payment"].sel(scheme=contributory).transpose(
        "year", "scheme", "payment")

