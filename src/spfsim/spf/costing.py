"""The rapid SPF costing (ILO practice) by the scheme library's rules, and its Dataset.

For each country, :func:`cost_country` builds the floor's model in memory
(:mod:`spfsim.spf.floor`), projects its population from 2020 with the cohort-component
projection and runs the floor's benefits through the cohort engine's non-contributory rules
(:func:`spfsim.engine.cohort.run_schemes`, :mod:`spfsim.engine.benefits`). Of the costing
year it reads, for each benefit (one of the R202 Paragraph 5 guarantees, see
:mod:`spfsim.spf.levels`)::

    target population   = beneficiaries of the benefit's rule at full take-up:
                          beneficiaries / coverage (the rule is linear in take-up), or the
                          rule's beneficiaries with take-up 1 where coverage is 0 (persons of
                          the age band and sex x prevalence; maternity: mothers of newborns)
    beneficiaries       = beneficiaries of the rule (target population x coverage)
    benefit level       = the rule's annual amount: level x basis x months / 12
    benefit expenditure = the rule's expenditure (beneficiaries x benefit level)
    admin expenditure   = admin_share x benefit expenditure
    total expenditure   = benefit + admin expenditure
    cost to GDP         = total expenditure / (GDP per capita x total population)
    cost to revenue     = total expenditure / (government revenue share x GDP)

where the basis is the poverty line x 365 days (R202 para. 8(b)), GDP per capita, or 12 for a
level in international $ per month. Flows of births (maternity, and ``births``) are those of
the calendar year: the mean of the projection steps from 1 July of the year before and of
the year (the year's step alone for 2020). Money is in international $ at 2021 PPP per year;
rates are fractions. Unknown macro inputs (NaN) make the results that need them NaN.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..demography import project_population
from ..economy import project_economy
from ..engine.benefits import benefit_rules
from ..engine.cohort import run_schemes
from ..params import compile_assumptions
from .floor import floor_model
from .levels import Benefit, Levels
from .macro import MacroInputs

__all__ = [
    "MONEY_UNITS",
    "BenefitCost",
    "CountryCost",
    "CountryInputs",
    "cost_country",
    "costing_dataset",
]

MONEY_UNITS = "international $ (2021 PPP, constant 2021 prices) per year"
_UNKNOWN = math.nan


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


@dataclass(frozen=True)
class CountryInputs:
    """What the costing needs of one country: its demographic inputs from the base year
    (``years``, ``base_population``, ``mx``, ``asfr``, ``srb``, ``net_migration``, as
    :class:`~spfsim.demography.wpp.WPPDemography` holds them) and its macro inputs."""

    m49: int
    iso3: str
    name: str
    demography: object
    macro: MacroInputs
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CountryCost:
    """A country's costing of one year: population (age 0..100, sex) at 1 July, births
    of the calendar year, and each enabled benefit's cost."""

    country: CountryInputs
    population: np.ndarray
    births: float
    costs: dict[str, BenefitCost]


def _benefit_cost(benefit: Benefit, run: _Run, target: _Run, gdp: float,
                  revenue_share: float, known: tuple[bool, bool]) -> BenefitCost:
    """One benefit's cost in the costing year from the floor's run, and its target
    population from ``target`` (the same run unless the benefit's coverage is 0: a run at
    full take-up); ``known``: whether its target population and GDP per capita are known."""
    births = benefit.spec.target == "births"
    main = run.flows[benefit.id]
    beneficiaries = run.year(main.beneficiaries.sum(axis=(1, 2)), births)
    spent = run.year(main.benefit_expenditure, births)
    admin = run.year(main.admin_expenditure, births)
    level = float(run.amounts[benefit.id][run.k].max())  # the same amount for every cell
    persons = (target.year(target.flows[benefit.id].beneficiaries.sum(axis=(1, 2)), births)
               if target is not run else beneficiaries / benefit.coverage)
    if not known[0]:
        persons = beneficiaries = spent = admin = _UNKNOWN
    if not known[1] and benefit.basis == "gdp_per_capita":
        level = spent = admin = _UNKNOWN
    total = spent + admin
    revenue = revenue_share * gdp
    return BenefitCost(persons, beneficiaries, level, spent, admin, total,
                       total / gdp if gdp > 0 else _UNKNOWN,
                       total / revenue if revenue > 0 else _UNKNOWN)


@dataclass
class _Run:
    """The floor model's projection: its flows and rule amounts by scheme id, the
    population and births, and the index ``k`` of the costing year."""

    flows: dict
    amounts: dict[str, np.ndarray]
    population: np.ndarray
    births: np.ndarray
    k: int

    def year(self, values: np.ndarray, births: bool) -> float:
        """The costing year's value of a per-year series; for flows of births, the calendar
        year's (the mean of the steps starting 1 July of the year before and of the year)."""
        if births and self.k > 0:
            return float(0.5 * (values[self.k - 1] + values[self.k]))
        return float(values[self.k])


def _run(levels: Levels, country: CountryInputs, year: int) -> tuple[_Run, list[str]]:
    """Build the floor's model, project it, run its rules; and the benefits whose target
    population is unknown."""
    model, unknown = floor_model(levels, country.demography, country.macro, year,
                                 f"floor-{country.m49}")
    a = compile_assumptions(model)
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb,
                              a.net_migration)
    econ = project_economy(a, demo.population)
    flows, _ = run_schemes(a, demo, econ, coverage=False)
    amounts = {r.scheme.id: r.amount for r in benefit_rules(a, econ)}
    return _Run({f.scheme_id: f for f in flows}, amounts, demo.population,
                demo.births.sum(axis=1), len(a.years) - 1), unknown


def cost_country(levels: Levels, country: CountryInputs, year: int) -> CountryCost:
    """Cost the enabled benefits of ``levels`` for ``country`` in ``year`` with the scheme
    library: build the floor's model, project it, run its rules (see the module docstring).
    """
    run, unknown = _run(levels, country, year)
    target = run
    if any(b.coverage == 0 for b in levels.enabled()):
        full = Levels(tuple(b.with_values(coverage=1.0) for b in levels.benefits),
                      levels.title, levels.file)
        target = _run(full, country, year)[0]
    population = run.population[run.k]
    macro = country.macro
    gdp = macro.gdp_per_capita * float(population.sum())
    costs = {b.id: _benefit_cost(b, run, target if b.coverage == 0 else run, gdp,
                                 macro.government_revenue_share,
                                 (b.id not in unknown, math.isfinite(macro.gdp_per_capita)))
             for b in levels.enabled()}
    return CountryCost(country, population, run.year(run.births, True), costs)


_PER_BENEFIT: tuple[tuple[str, str, str], ...] = (
    ("target_population", "persons", "persons the benefit is meant for (age band x "
     "prevalence, or mothers of newborns)"),
    ("beneficiaries", "persons", "persons receiving the benefit (target population x coverage)"),
    ("benefit_level", "international $ (2021 PPP) per beneficiary per year",
     "benefit paid per beneficiary in the year (level x basis x months / 12)"),
    ("benefit_expenditure", MONEY_UNITS, "benefit expenditure"),
    ("admin_expenditure", MONEY_UNITS, "administrative expenditure"),
    ("total_expenditure", MONEY_UNITS, "benefit and administrative expenditure"),
    ("cost_to_gdp", "1", "total expenditure as a fraction of GDP"),
    ("cost_to_revenue", "1", "total expenditure as a fraction of government revenue"),
)


def _var(dims, data, units: str, long_name: str) -> xr.Variable:
    return xr.Variable(dims, np.asarray(data), attrs={"units": units, "long_name": long_name})


def _text(values) -> np.ndarray:
    return np.array([str(v) for v in values], dtype=object)


def _country_variables(costed: Sequence[CountryCost], total: np.ndarray,
                       year: int) -> dict[str, xr.Variable]:
    """The floor's totals, the demography and the macro inputs of each country."""
    countries = [c.country for c in costed]
    population = np.array([c.population.sum() for c in costed], dtype=float)
    gdp_pc = np.array([c.macro.gdp_per_capita for c in countries], dtype=float)
    revenue_share = np.array([c.macro.government_revenue_share for c in countries], dtype=float)
    gdp = gdp_pc * population
    with np.errstate(divide="ignore", invalid="ignore"):
        to_gdp = np.where(gdp > 0, total / gdp, np.nan)
        to_revenue = np.where(gdp * revenue_share > 0, total / (gdp * revenue_share), np.nan)
    c = ("country",)
    data = {
        "floor_expenditure": _var(c, total, MONEY_UNITS,
                                  "total expenditure of all costed benefits"),
        "floor_cost_to_gdp": _var(c, to_gdp, "1", "total expenditure of all costed benefits "
                                  "as a fraction of GDP"),
        "floor_cost_to_revenue": _var(c, to_revenue, "1", "total expenditure of all costed "
                                      "benefits as a fraction of government revenue"),
        "population": _var(c, population, "persons", f"population at 1 July {year}"),
        "births": _var(c, [x.births for x in costed], "persons",
                       f"live births during {year}"),
        "gdp": _var(c, gdp, MONEY_UNITS, "GDP (GDP per capita x population)"),
        "gdp_per_capita": _var(c, gdp_pc, "international $ (2021 PPP) per person per year",
                               "GDP per capita"),
        "poverty_line": _var(c, [x.macro.poverty_line for x in countries],
                             "international $ (2021 PPP) per person per day", "poverty line"),
        "government_revenue_share": _var(c, revenue_share, "1",
                                         "government revenue as a fraction of GDP"),
        "poverty_headcount": _var(c, [x.macro.poverty_headcount for x in countries], "1",
                                  "fraction of the population below $3 a day (2021 PPP)"),
    }
    for name in ("gdp_per_capita", "poverty_line", "government_revenue_share",
                 "poverty_headcount"):
        data[f"{name}_source"] = _var(c, _text(x.macro.sources.get(name, "")
                                               for x in countries), "", f"source of {name}")
    data["note"] = _var(c, _text("; ".join(x.notes) for x in countries), "",
                        "notes on missing data and fallbacks")
    return data


COUNTRY_ATTRS = {"country": {"long_name": "UN M49 country code"},
                 "country_name": {"long_name": "country or area (UN WPP 2024 name)"},
                 "iso3": {"long_name": "ISO 3166-1 alpha-3 code"}}


def _coords(countries: Sequence[CountryInputs], benefits: Sequence[Benefit]) -> dict:
    return {
        "country": ("country", np.array([x.m49 for x in countries], dtype="int64"),
                    COUNTRY_ATTRS["country"]),
        "country_name": ("country", _text(x.name for x in countries),
                         COUNTRY_ATTRS["country_name"]),
        "iso3": ("country", _text(x.iso3 for x in countries), COUNTRY_ATTRS["iso3"]),
        "benefit": ("benefit", _text(b.id for b in benefits), {"long_name": "benefit id"}),
        "benefit_name": ("benefit", _text(b.name for b in benefits), {"long_name": "benefit"}),
        "guarantee": ("benefit", _text(f"R202 para. {b.guarantee}" for b in benefits),
                      {"long_name": "basic social security guarantee served "
                       "(ILO Recommendation No. 202, Paragraph 5)"}),
    }


def costing_dataset(levels: Levels, costed: Sequence[CountryCost], year: int,
                    attrs: Mapping[str, object] | None = None) -> xr.Dataset:
    """The costing of every enabled benefit for every country, as an xarray Dataset.

    Dims ``country`` (UN M49 code; coords ``country_name``, ``iso3``) and ``benefit`` (coords
    ``guarantee``: the R202 Paragraph 5 clause, ``benefit_name``). Every variable has
    ``units`` and ``long_name``; rates are fractions. ``attrs`` are added to the Dataset's.
    """
    benefits = levels.enabled()
    shape = (len(costed), len(benefits))
    data: dict[str, xr.Variable] = {}
    for name, units, long_name in _PER_BENEFIT:
        values = np.array([[getattr(c.costs[b.id], name) for b in benefits] for c in costed],
                          dtype=float).reshape(shape)
        data[name] = _var(("country", "benefit"), values, units, long_name)
    total = data["total_expenditure"].values.sum(axis=1)
    data.update(_country_variables(costed, total, year))
    ds = xr.Dataset(data, coords=_coords([c.country for c in costed], benefits))
    ds.attrs.update(costing_attrs(levels, year))
    ds.attrs.update(dict(attrs or {}))
    return ds


def costing_attrs(levels: Levels, year: int) -> dict[str, object]:
    """The costing Dataset's attrs that say what was costed and how."""
    from .._version import __version__

    return {
        "title": f"Rapid costing of social protection floors, {year}",
        "year": int(year),
        "spfsim_version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "money_units": MONEY_UNITS,
        "levels_title": levels.title,
        "levels_file": levels.file or "(defaults)",
        "levels": levels.to_json(),
        "method": "each country's floor built as a model of the scheme library (WPP "
                  "demography, the benefits as non-contributory schemes) and run by the "
                  "cohort engine's rules: cost = beneficiaries x benefit level x months / 12, "
                  "plus administrative cost; beneficiaries = population of the age band x "
                  "prevalence x coverage (maternity: mothers of newborns x coverage); see "
                  "docs/spf-costing.md",
    }
