"""The costing arithmetic of the rapid SPF costing (ILO practice), and its results Dataset.

For each benefit (one of the R202 Paragraph 5 guarantees, see :mod:`spfsim.spf.levels`)::

    target population = persons of the age band and sex x prevalence   (or: live births)
    beneficiaries     = target population x coverage
    benefit level     = level x basis x months / 12     per beneficiary per year
    benefit expenditure = beneficiaries x benefit level
    admin expenditure   = admin_share x benefit expenditure
    total expenditure   = benefit + admin expenditure
    cost to GDP       = total expenditure / (GDP per capita x total population)
    cost to revenue   = total expenditure / (government revenue share x GDP)

where the basis is the poverty line x 365 days (R202 para. 8(b)), GDP per capita, or 12 for a
level in international $ per month. Money is in international $ at 2021 PPP per year; rates
are fractions. Unknown macro inputs (NaN) make the money results that need them NaN; persons
are always costed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .levels import POVERTY_HEADCOUNT, Benefit, Levels
from .macro import MacroInputs

__all__ = [
    "DAYS_PER_YEAR",
    "MONEY_UNITS",
    "BenefitCost",
    "CountryInputs",
    "basis_amount",
    "cost_benefit",
    "costing_dataset",
    "target_population",
]

DAYS_PER_YEAR = 365.0
MONEY_UNITS = "international $ (2021 PPP, constant 2021 prices) per year"
_SEX_INDEX = {"all": slice(0, 2), "male": slice(0, 1), "female": slice(1, 2)}


@dataclass(frozen=True)
class BenefitCost:
    """One benefit's cost in one country and year (persons; international $ per year;
    fractions of GDP and of government revenue)."""

    target_population: float
    beneficiaries: float
    benefit_level: float
    benefit_expenditure: float
    admin_expenditure: float
    total_expenditure: float
    cost_to_gdp: float
    cost_to_revenue: float


def basis_amount(basis: str, macro: MacroInputs) -> float:
    """The annual amount a ``level`` of 1 pays, international $ (2021 PPP) per person per year."""
    if basis == "poverty_line":
        return macro.poverty_line * DAYS_PER_YEAR
    if basis == "gdp_per_capita":
        return macro.gdp_per_capita
    if basis == "ppp_dollars_per_month":
        return 12.0
    raise ValueError(f"unknown basis {basis!r}")


def target_population(benefit: Benefit, population: np.ndarray, births: float,
                      macro: MacroInputs) -> float:
    """Persons the benefit is meant for: the age band and sex x prevalence, or the births.

    ``population`` (age 0..100, sex [male, female]) persons at 1 July; ``births`` live births
    of the year (maternity: one mother per birth, multiple births not netted out).
    """
    if benefit.spec.target == "births":
        return float(births)
    band = population[benefit.age_min:benefit.age_max + 1, _SEX_INDEX[benefit.sex]].sum()
    prevalence = (macro.poverty_headcount if benefit.prevalence == POVERTY_HEADCOUNT
                  else float(benefit.prevalence))
    return float(band) * prevalence


def cost_benefit(benefit: Benefit, population: np.ndarray, births: float,
                 macro: MacroInputs) -> BenefitCost:
    """The cost of one benefit for one country and year (see the module docstring).

    Pure arithmetic: ``population`` (age 0..100, sex) persons at 1 July, ``births`` live
    births in the year, ``macro`` GDP per capita, poverty line and revenue share.
    """
    target = target_population(benefit, population, births, macro)
    beneficiaries = target * benefit.coverage
    level = benefit.level * basis_amount(benefit.basis, macro) * benefit.months / 12.0
    spent = beneficiaries * level
    admin = benefit.admin_share * spent
    total = spent + admin
    gdp = macro.gdp_per_capita * float(population.sum())
    revenue = macro.government_revenue_share * gdp
    to_gdp = total / gdp if gdp > 0 else math.nan
    to_revenue = total / revenue if revenue > 0 else math.nan
    return BenefitCost(target, beneficiaries, level, spent, admin, total, to_gdp, to_revenue)


@dataclass(frozen=True)
class CountryInputs:
    """What the costing needs of one country: demography of the year and macro inputs."""

    m49: int
    iso3: str
    name: str
    population: np.ndarray  # (101, 2) persons at 1 July, male and female
    births: float  # live births during the year
    macro: MacroInputs
    notes: tuple[str, ...] = ()


_PER_BENEFIT: tuple[tuple[str, str, str], ...] = (
    ("target_population", "persons", "persons the benefit is meant for (age band x "
     "prevalence, or live births)"),
    ("beneficiaries", "persons", "persons receiving the benefit (target population x coverage)"),
    ("benefit_level", "international $ (2021 PPP) per beneficiary per year",
     "benefit paid per beneficiary in the year (level x basis x months / 12)"),
    ("benefit_expenditure", MONEY_UNITS, "benefit expenditure"),
    ("admin_expenditure", MONEY_UNITS, "administrative expenditure"),
    ("total_expenditure", MONEY_UNITS, "benefit and administrative expenditure"),
    ("cost_to_gdp", "1", "total expenditure as a fraction of GDP"),
    ("cost_to_revenue", "1", "total expenditure as a fraction of government revenue"),
)


def costing_dataset(levels: Levels, countries: Sequence[CountryInputs], year: int,
                    attrs: Mapping[str, object] | None = None) -> xr.Dataset:
    """The costing of every enabled benefit for every country, as an xarray Dataset.

    Dims ``country`` (UN M49 code; coords ``country_name``, ``iso3``) and ``benefit`` (coords
    ``guarantee``: the R202 Paragraph 5 clause, ``benefit_name``). Every variable has
    ``units`` and ``long_name``; rates are fractions. ``attrs`` are added to the Dataset's.
    """
    benefits = levels.enabled()
    costs = [[cost_benefit(b, c.population, c.births, c.macro) for b in benefits]
             for c in countries]

    def var(dims, data, units, long_name, **extra) -> xr.Variable:
        return xr.Variable(dims, np.asarray(data), attrs={"units": units,
                                                          "long_name": long_name, **extra})

    def text(values) -> np.ndarray:
        return np.array([str(v) for v in values], dtype=object)

    shape = (len(countries), len(benefits))
    data: dict[str, xr.Variable] = {}
    for name, units, long_name in _PER_BENEFIT:
        values = np.array([[getattr(cost, name) for cost in row] for row in costs],
                          dtype=float).reshape(shape)
        data[name] = var(("country", "benefit"), values, units, long_name)
    total = data["total_expenditure"].values.sum(axis=1) if benefits else np.zeros(len(countries))
    population = np.array([c.population.sum() for c in countries], dtype=float)
    gdp_pc = np.array([c.macro.gdp_per_capita for c in countries], dtype=float)
    revenue_share = np.array([c.macro.government_revenue_share for c in countries], dtype=float)
    gdp = gdp_pc * population
    with np.errstate(divide="ignore", invalid="ignore"):
        to_gdp = np.where(gdp > 0, total / gdp, np.nan)
        to_revenue = np.where(gdp * revenue_share > 0, total / (gdp * revenue_share), np.nan)
    c = ("country",)
    data.update({
        "floor_expenditure": var(c, total, MONEY_UNITS,
                                 "total expenditure of all costed benefits"),
        "floor_cost_to_gdp": var(c, to_gdp, "1", "total expenditure of all costed benefits as "
                                 "a fraction of GDP"),
        "floor_cost_to_revenue": var(c, to_revenue, "1", "total expenditure of all costed "
                                     "benefits as a fraction of government revenue"),
        "population": var(c, population, "persons", f"population at 1 July {year}"),
        "births": var(c, [x.births for x in countries], "persons",
                      f"live births during {year}"),
        "gdp": var(c, gdp, MONEY_UNITS, "GDP (GDP per capita x population)"),
        "gdp_per_capita": var(c, gdp_pc, "international $ (2021 PPP) per person per year",
                              "GDP per capita"),
        "poverty_line": var(c, [x.macro.poverty_line for x in countries],
                            "international $ (2021 PPP) per person per day", "poverty line"),
        "government_revenue_share": var(c, revenue_share, "1",
                                        "government revenue as a fraction of GDP"),
        "poverty_headcount": var(c, [x.macro.poverty_headcount for x in countries], "1",
                                 "fraction of the population below $3 a day (2021 PPP)"),
    })
    for name in ("gdp_per_capita", "poverty_line", "government_revenue_share",
                 "poverty_headcount"):
        data[f"{name}_source"] = var(c, text(x.macro.sources.get(name, "") for x in countries),
                                     "", f"source of {name}")
    data["note"] = var(c, text("; ".join(x.notes) for x in countries), "",
                       "notes on missing data and fallbacks")
    from .. import __version__

    ds = xr.Dataset(
        data,
        coords={
            "country": ("country", np.array([x.m49 for x in countries], dtype="int64"),
                        {"long_name": "UN M49 country code"}),
            "country_name": ("country", text(x.name for x in countries),
                             {"long_name": "country or area (UN WPP 2024 name)"}),
            "iso3": ("country", text(x.iso3 for x in countries),
                     {"long_name": "ISO 3166-1 alpha-3 code"}),
            "benefit": ("benefit", text(b.id for b in benefits), {"long_name": "benefit id"}),
            "benefit_name": ("benefit", text(b.name for b in benefits),
                             {"long_name": "benefit"}),
            "guarantee": ("benefit", text(f"R202 para. {b.guarantee}" for b in benefits),
                          {"long_name": "basic social security guarantee served "
                           "(ILO Recommendation No. 202, Paragraph 5)"}),
        },
    )
    ds.attrs.update({
        "title": f"Rapid costing of social protection floors, {year}",
        "year": int(year),
        "spfsim_version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "money_units": MONEY_UNITS,
        "levels_title": levels.title,
        "levels_file": levels.file or "(defaults)",
        "levels": levels.to_json(),
        "method": "cost = beneficiaries x benefit level x months / 12, plus administrative "
                  "cost; beneficiaries = population of the age band x prevalence x coverage "
                  "(maternity: live births x coverage); see docs/spf-costing.md",
    })
    ds.attrs.update(dict(attrs or {}))
    return ds
