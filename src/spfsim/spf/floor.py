"""One country's floor as a model of the scheme library, built in memory.

The rapid costing writes no model folder: it assembles, per country, the same
:class:`~spfsim.params.ModelInput` that ``read_model`` would read from one, and compiles it
with :func:`~spfsim.params.compile_assumptions`:

- demography: the country's WPP 2024 inputs (:func:`spfsim.demography.wpp.from_wpp`) as the
  assumption set's population, mortality, fertility, sex-ratio and migration tables, for the
  costing year and the one before it (the model's base year: its base population is the
  projection of WPP's 1 July 2020 population to then, :func:`rebase`);
- economy: money in international $ (2021 PPP) at constant prices (no inflation, no real
  growth): the poverty line of the year x 365 days as ``[economy] poverty_line``, and GDP so
  that GDP per capita is the country's, constant in real terms;
- labour: nobody contributes (no contributory scheme), so every person is in the cohort
  engine's "other" labour state and every group of the non-contributory rules is its whole
  age band; the ``disability`` table's severe-disability prevalence is the ``disability``
  benefit's ``prevalence`` at every age;
- schemes: each enabled benefit as the scheme type that pays it (:data:`FLOOR_SCHEMES`), its
  parameters translated from the levels (:func:`scheme_parameters`) and checked against the
  type's :class:`~spfsim.params.dated.ParamSpec`.

The result is a model like any other: ``spfsim.Model(model, compile_assumptions(model))``
projects it with the whole pipeline.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np

from ..demography import project_population
from ..errors import ProblemLog
from ..params import AGES, SEXES, ModelInput
from ..params.model_file import SchemeInput, parse_scheme_parameter
from ..params.tables import Table
from ..schemes import noncontributory as nc
from .levels import POVERTY_HEADCOUNT, Benefit, Levels
from .macro import MacroInputs

__all__ = ["DAYS_PER_YEAR", "FLOOR_SCHEMES", "floor_model", "prevalence", "rebase",
           "scheme_parameters"]

DAYS_PER_YEAR = 365.0
#: benefit id -> (scheme type that pays it, its fixed choices)
FLOOR_SCHEMES: dict[str, tuple[type[nc.NonContributoryBenefit], dict[str, str]]] = {
    "child": (nc.ChildBenefit, {}),
    "maternity": (nc.MaternityBenefit, {}),
    "disability": (nc.DisabilityBenefit, {}),
    "working_age_poor": (nc.SocialAssistance, {"target_group": "all"}),
    "old_age": (nc.SocialPension, {"means_test": "none"}),
    "health": (nc.HealthCare, {}),
}
#: levels basis -> the rule's benefit_basis (a monthly dollar level is a currency amount)
_BASIS = {"poverty_line": "poverty_line", "gdp_per_capita": "gdp_per_capita",
          "ppp_dollars_per_month": "currency"}
_MODEL = Path("<spf-cost floor model>")


def scheme_parameters(benefit: Benefit, target_share: float) -> dict[str, object]:
    """The scheme parameters (as a model file writes them) of a benefit's levels.

    ``level`` -> ``benefit`` (x 12 for a monthly dollar level: the rule's currency amounts
    are annual), ``coverage`` -> ``take_up``, the prevalence -> ``target_share``,
    ``admin_share`` -> ``admin_cost_rate``; ages and sex as they are.
    """
    monthly = benefit.basis == "ppp_dollars_per_month"
    values: dict[str, object] = {
        "benefit": benefit.level * 12.0 if monthly else benefit.level,
        "benefit_basis": _BASIS[benefit.basis], "months": benefit.months,
        "take_up": benefit.coverage, "target_share": target_share,
        "admin_cost_rate": benefit.admin_share,
        **FLOOR_SCHEMES[benefit.id][1]}
    if benefit.spec.target == "population":
        values.update(min_age=benefit.age_min, max_age=benefit.age_max, sex=benefit.sex)
    return values


def prevalence(benefit: Benefit, macro: MacroInputs) -> float:
    """The share of the benefit's age band (and sex) in its target population: its
    ``prevalence``, or the country's poverty headcount (NaN where unknown)."""
    if benefit.prevalence == POVERTY_HEADCOUNT:
        return macro.poverty_headcount
    return float(benefit.prevalence)


def _target_share(benefit: Benefit, macro: MacroInputs) -> float:
    """The rule's target share: the prevalence, except for maternity (all mothers of
    newborns) and disability (whose prevalence is the disability table's)."""
    if benefit.spec.target == "births":
        return 1.0
    share = prevalence(benefit, macro)
    return 1.0 if benefit.id == "disability" and math.isfinite(share) else share


def _scheme(scheme_id: str, benefit: Benefit, values: dict[str, object], base_year: int,
            log: ProblemLog) -> SchemeInput:
    """A scheme of the benefit's type with ``values``, checked against its ParamSpecs."""
    kind = FLOOR_SCHEMES[benefit.id][0]
    scheme = SchemeInput(scheme_id, kind.NAME, benefit.name)
    for spec in kind.PARAMETERS.values():
        raw = values.get(spec.name, spec.default)
        parse_scheme_parameter(scheme, spec, raw, f"{benefit.id}.{spec.name}", _MODEL,
                               base_year, log)
    for name, message, value in kind.cross_check(scheme.numbers, scheme.choices):
        log.add(_MODEL, f"{benefit.id}.{name}", message, None, value)
    return scheme


def floor_schemes(levels: Levels, macro: MacroInputs, base_year: int
                  ) -> tuple[list[SchemeInput], list[str]]:
    """The schemes of the enabled benefits, and the ids of the benefits whose target
    population is unknown (a prevalence from an unknown poverty headcount: their schemes
    target no one)."""
    log = ProblemLog()
    schemes, unknown = [], []
    for benefit in levels.enabled():
        share = _target_share(benefit, macro)
        if math.isnan(share):  # costed with no one targeted, for its amount
            unknown.append(benefit.id)
            share = 0.0
        schemes.append(_scheme(benefit.id, benefit, scheme_parameters(benefit, share),
                               base_year, log))
    log.raise_if_any()
    return schemes, unknown


def _table(name: str, dims: tuple[str, ...], years: np.ndarray,
           **values: np.ndarray) -> Table:
    coords = {"year": years, "age": AGES, "sex": np.array(SEXES)}
    return Table(name, _MODEL, dims, {d: coords[d] for d in dims}, dict(values))


def demographic_tables(demography, n_years: int, disability: float) -> dict[str, Table]:
    """The assumption tables of a country: its demography (``years``, ``base_population``,
    ``mx``, ``asfr``, ``srb``, ``net_migration``; the first ``n_years``), nobody in
    contributory work, ``disability`` the severe-disability prevalence at every age."""
    d, shape = demography, (len(AGES), len(SEXES))
    years = np.asarray(d.years[:n_years])
    zeros = np.zeros(shape)
    return {
        "population": _table("population", ("age", "sex"), years,
                             population=d.base_population),
        "mortality": _table("mortality", ("year", "age", "sex"), years, mx=d.mx[:n_years]),
        "fertility": _table("fertility", ("year", "age"), years, asfr=d.asfr[:n_years]),
        "sex_ratio_at_birth": _table("sex_ratio_at_birth", ("year",), years,
                                     srb=d.srb[:n_years]),
        "migration": _table("migration", ("year", "age", "sex"), years,
                            net_migration=d.net_migration[:n_years]),
        "disability": _table("disability", ("age", "sex"), years,
                             severe_disability=np.full(shape, disability),
                             invalidity_incidence=zeros),
        "economy": _table("economy", ("year",), years, inflation=np.zeros(n_years),
                          real_wage_growth=np.zeros(n_years), interest_rate=np.zeros(n_years)),
        "labour": _table("labour", ("age", "sex"), years, participation=np.ones(shape),
                         unemployment=zeros, coverage=zeros, relative_earnings=np.ones(shape),
                         self_employed_share=zeros, disability_prevalence=zeros),
    }


def rebase(demography, year: int):
    """The demographic inputs from 1 July of the year before ``year`` (not before their
    first year): the population projected to then, the rates from then.

    The floor model needs the costing year and the one before it (the calendar year's
    births); every projection step depends only on the population at its start and its
    own rates, so the model's projection from the new base is the projection from the
    first year, to the last bit.
    """
    d = demography
    k = max(year - 1 - int(d.years[0]), 0)
    if k == 0:
        return d
    before = project_population(d.years[:k + 1], d.base_population, d.mx[:k + 1],
                                d.asfr[:k + 1], d.srb[:k + 1], d.net_migration[:k + 1])
    return dataclasses.replace(d, years=d.years[k:], base_population=before.population[k],
                               mx=d.mx[k:], asfr=d.asfr[k:], srb=d.srb[k:],
                               net_migration=d.net_migration[k:])


def floor_model(levels: Levels, demography, macro: MacroInputs, year: int,
                name: str = "floor") -> tuple[ModelInput, list[str]]:
    """The model of a country's floor from the year before ``year`` to ``year`` (in
    memory; see :func:`rebase`), and the benefits whose target population is unknown (see
    :func:`floor_schemes`).

    ``demography``: the country's demographic inputs from its base year (a
    :class:`~spfsim.demography.wpp.WPPDemography` or anything with the same arrays, as a
    dataclass). A country without GDP per capita gets 1 (its GDP-based amounts are
    placeholders, which the costing reports as unknown).
    """
    demography = rebase(demography, year)
    base_year = int(demography.years[0])
    n_years = year - base_year + 1
    schemes, unknown = floor_schemes(levels, macro, base_year)
    disability = next((prevalence(b, macro) for b in levels.enabled()
                       if b.id == "disability"), 0.0)
    gdp_per_capita = macro.gdp_per_capita if math.isfinite(macro.gdp_per_capita) else 1.0
    model = ModelInput(
        path=_MODEL, name=name, title=f"social protection floor, {name}",
        base_year=base_year, end_year=year, currency="international $ (2021 PPP)",
        gdp=gdp_per_capita * float(demography.base_population.sum()), average_earnings=1.0,
        poverty_line=macro.poverty_line * DAYS_PER_YEAR,
        revenue_share=macro.government_revenue_share,
        tables=demographic_tables(demography, n_years,
                                  disability if math.isfinite(disability) else 0.0),
        schemes=schemes,
        assumption_sets=[], files=[], raw={})
    return model, unknown
