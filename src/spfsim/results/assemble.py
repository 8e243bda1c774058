"""Assemble the results Dataset of one projection from its parts: the demographic and
economic projections, each scheme's flows (either engine) and fund.

Every variable takes its dims and attrs from :mod:`spfsim.results.registry`; money is in
the model's currency at current (nominal) prices, rates are fractions. The Dataset's attrs
(:func:`provenance_attrs`) say how to reproduce it, in the CF conventions.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..demography import DemographicProjection
from ..economy import EconomicProjection
from ..engine.benefits import COVERAGE_GROUPS
from ..engine.flows import BRANCHES, DEPENDANT_KINDS, SURVIVOR_KINDS, SchemeFlows, sum_inner
from ..finance import FundProjection, depletion_year, paygo_cost_rate, reserve_ratio
from ..finance.measures import valuation_start
from ..indicators import (
    GENDER_GAPS,
    WORKING_AGE_RANGE,
    cost_variables,
    coverage_variables,
    fiscal_space_variables,
    gender_variables,
    replacement_rate_variables,
    scheme_guarantees,
)
from ..params import AGES, SEXES, Assumptions
from .registry import CONVENTIONS, COORDINATES, REGISTRY, context, horizon_phrase, variables

ENTRY_AGE = 15  # first age of working life, for the contribution density at award
PAYERS = ("worker", "employer", "state")
PENSION_KINDS = ("old_age", "disability", *SURVIVOR_KINDS, *DEPENDANT_KINDS)
PAYMENTS = ("periodic", "lump_sum")
# branches of a contributory pension paid once, as a lump sum, not as a benefit in payment
LUMP_SUM_BRANCHES = ("refunds",)


@dataclass(frozen=True)
class RunInfo:
    """Provenance written into the Dataset's attrs."""

    model: str
    title: str
    currency: str
    input_hash: str
    engine: str
    seed: str
    version: str
    model_path: str


def projection_context(info: RunInfo, years: np.ndarray) -> dict[str, object]:
    """The registry's template fields for a projection (:func:`registry.context`)."""
    return context(info.currency, int(years[0]), int(years[-1]), entry_age=ENTRY_AGE,
                   working_ages=WORKING_AGE_RANGE)


def build_dataset(assumptions: Assumptions, demo: DemographicProjection,
                  econ: EconomicProjection, flows: list[SchemeFlows],
                  funds: list[FundProjection], schemes_meta: list[dict],
                  info: RunInfo, coverage: np.ndarray,
                  more: tuple[Mapping[str, tuple], Mapping[str, tuple]] = ({}, {})
                  ) -> xr.Dataset:
    """The results-contract Dataset from the projection's parts; ``coverage`` is (year,
    age, sex, coverage group, 2: target, covered persons). Indicators computed from the
    Dataset's own variables (costs, fiscal space) are added once the flows are in.
    ``more``: variables made elsewhere from the projection (the equity by cohort:
    equity.cohorts.equity_data) and their coordinates, each (dims, values[, attrs]);
    those of their coordinates the Dataset has already must have its labels."""
    ctx = projection_context(info, assumptions.years)
    data = _economy_variables(econ, ctx, ("labour_force", "employed", "gdp", "average_earnings",
                                          "price_index", "wage_index", "interest_rate"))
    data.update(_award_variables(assumptions, flows, ctx))
    data.update(_flow_variables(flows, funds, ctx))
    data.update(_cost_rate_variables(assumptions.years, flows, funds, econ.gdp, schemes_meta,
                                     ctx))
    data.update(_branch_variables(flows, len(assumptions.years), ctx))
    data.update(variables(ctx, contribution_income_by_payer=_by_payer(assumptions, flows)))
    data.update(coverage_variables(coverage))
    data.update(replacement_rate_variables(assumptions, econ, flows))
    data.update(_economy_variables(econ, ctx, ("gdp_per_capita", "poverty_line",
                                               "government_revenue")))
    data.update(gender_variables(flows, demo.population, ctx["money"]))
    demo_vars, coords = demo.variables()  # the demography's coordinates, with their attrs
    coords.update({name: coord for name, coord in _coords(
        assumptions, schemes_meta, data["service_at_award"].shape[2]).items()
        if name not in coords})
    data = {**demo_vars, **data}
    data.update(cost_variables({**data, "scheme_guarantee": xr.Variable(
        *coords["scheme_guarantee"])}, ctx["money"]))
    # the income tax on benefits reaches a fund through the state but is not its cost
    data.update(fiscal_space_variables(
        data["state_transfer"].values - data["benefit_tax_income"].transpose(
            *data["state_transfer"].dims).values, data["gdp"].values,
        econ.fiscal_envelope, ctx["money"]))
    data.update(more[0])
    coords.update(_new_coordinates(coords, more[1]))
    # one Dataset of every variable: each merge of a part aligned and copied all of them
    ds = xr.Dataset(data, coords=_coordinates(coords))
    ds.attrs = provenance_attrs(info, assumptions.years)
    return ds


def _new_coordinates(coords: Mapping[str, tuple], more: Mapping[str, tuple]
                     ) -> dict[str, tuple]:
    """Those of the coordinates ``more`` that ``coords`` lacks; ValueError where one
    ``coords`` has carries other labels (xarray's ``join="exact"``)."""
    for name in more.keys() & coords.keys():
        if not np.array_equal(np.asarray(more[name][1]), np.asarray(coords[name][1])):
            raise ValueError(f"the coordinate {name!r} of a part of the projection has "
                             f"other labels than the projection's: {list(more[name][1])}")
    return {name: coord for name, coord in more.items() if name not in coords}


#: The coordinates made from each set of labels: the dimension coordinates with their
#: indexes, the others as variables (a few models at a time; a lock: projections may run
#: in threads).
_INDEXED: dict[tuple, tuple[xr.Coordinates, dict[str, xr.Variable]]] = {}
_INDEXED_LOCK = threading.Lock()


def _coordinates(coords: Mapping[str, tuple]) -> xr.Coordinates:
    """``coords`` ((dims, values[, attrs]) by name) as Coordinates made once for each set
    of labels: pandas makes an index of strings in 0.1-0.3 ms, three quarters of the
    results Dataset's making, and xarray checks an array of strings (the schemes' names)
    through pandas in 65 us; a model's projections share their labels. Indexes are
    immutable; each call has its own coordinate variables (values, attrs): the dimension
    coordinates' from a shallow copy, the others' copied."""
    key = tuple((name, coord[0], np.asarray(coord[1]).dtype.str,
                 tuple(np.asarray(coord[1]).tolist()),
                 tuple(sorted(coord[2].items())) if len(coord) > 2 else ())
                for name, coord in coords.items())
    with _INDEXED_LOCK:
        if key not in _INDEXED:
            if len(_INDEXED) >= 8:
                del _INDEXED[next(iter(_INDEXED))]
            _INDEXED[key] = (
                xr.Coordinates({name: c for name, c in coords.items() if c[0] == name}),
                {name: xr.Variable(*c) for name, c in coords.items() if c[0] != name})
        indexed, others = _INDEXED[key]
        indexed = indexed.copy()
    made = indexed.variables  # a new mapping at each reading
    variables = {name: others[name].copy(deep=True) if name in others else made[name]
                 for name in coords}
    return xr.Coordinates(variables, indexes=dict(indexed.xindexes))


def joined(ds: xr.Dataset, more: xr.Dataset) -> xr.Dataset:
    """``ds`` with the variables of ``more``, a part of the same projection: its
    coordinates must be ``ds``'s own (``join="exact"`` refuses any other) and its variables
    new, so that nothing is compared value by value again (xarray's default merge does,
    at a few milliseconds a projection). ``ds``'s attrs are kept."""
    again = sorted(set(ds.data_vars) & set(more.data_vars))
    if again:
        raise ValueError(f"variables made twice in one projection: {again}")
    return xr.merge([ds, more], join="exact", compat="override", combine_attrs="override")


def provenance_attrs(info: RunInfo, years: np.ndarray) -> dict[str, object]:
    """The Dataset's global attrs: CF's ``title``, ``source``, ``history`` and
    ``Conventions``, and what it takes to reproduce the projection."""
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return {
        "title": f"spfsim projection: {info.title}",
        "model": info.model,
        "model_path": info.model_path,
        "spfsim_version": info.version,
        "input_hash": f"sha256:{info.input_hash}",
        "engine": info.engine,
        "seed": info.seed,
        "created": created,
        "base_year": int(years[0]),
        "end_year": int(years[-1]),
        "currency": info.currency,
        "price_basis": "nominal (current prices)",
        "Conventions": CONVENTIONS,
        "source": f"spfsim {info.version}, {info.engine} engine",
        "history": f"{created}: spfsim {info.version} projected model '{info.model}' "
                   f"(inputs sha256:{info.input_hash}) with the {info.engine} engine, "
                   f"seed {info.seed}",
    }


def apply_contract(ds: xr.Dataset, ctx: Mapping[str, object]) -> xr.Dataset:
    """``ds`` with every registered variable's ``units``, ``long_name`` (and
    ``standard_name``) taken from the registry, whichever layer made it, and every
    coordinate's attrs from ``COORDINATES``; other attrs are kept. The sustainability
    horizon (``{over}``) is read from ``actuarial_balance`` and starts with the valuation
    period (:func:`spfsim.finance.measures.valuation_start`)."""
    ctx = dict(ctx)
    if "actuarial_balance" in ds.data_vars and "horizon_years" in ds["actuarial_balance"].attrs:
        horizon = int(ds["actuarial_balance"].attrs["horizon_years"])
        ctx["over"] = horizon_phrase(valuation_start(ds), horizon)
    # the Dataset's own variables, updated in place: a DataArray built for each of them
    # cost more than the registry's templates
    for name, var in ds.variables.items():
        if name in ds.data_vars and name in REGISTRY:
            var.attrs.update(REGISTRY[name].attrs(ctx))
        elif name in ds.coords and name in COORDINATES:
            var.attrs.update(COORDINATES[name])
    return ds


def _economy_variables(econ: EconomicProjection, ctx: Mapping[str, object],
                       names: tuple[str, ...]) -> dict[str, xr.Variable]:
    """The economy's yearly series of those ``names`` (its attributes of the same name)."""
    return variables(ctx, **{name: getattr(econ, name) for name in names})


def _stack(attr: str, source: list) -> np.ndarray:
    """(..., scheme): each scheme's attribute ``attr`` stacked along a last axis."""
    return np.stack([getattr(f, attr) for f in source], axis=-1)


def _award_variables(assumptions: Assumptions, flows: list[SchemeFlows],
                     ctx: Mapping[str, object]) -> dict[str, xr.Variable]:
    """Persons contributing and receiving benefits, and the new awards: their number,
    amount and the credited service of the new pensioners."""
    years = assumptions.years
    new_count, new_amount = _stack("new_beneficiaries", flows), _stack("new_benefit_amount",
                                                                       flows)
    service = _stack("service_awarded", flows)  # (year, sex, service, scheme)
    credited = sum_inner(service * np.arange(service.shape[2])[None, None, :, None], 2)
    awarded = sum_inner(service, 2)
    potential = np.stack([
        scheme["retirement_age"] - ENTRY_AGE if "retirement_age" in scheme.params
        else np.full((len(years), 2), np.nan) for scheme in assumptions.schemes], axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_credited = np.where(awarded > 0, credited / awarded, np.nan)
        density_at_award = mean_credited / potential
        average_new = np.where(new_count > 0, new_amount / new_count, np.nan)
    return variables(
        ctx, contributors=_stack("contributors", flows),
        beneficiaries=_stack("beneficiaries", flows), new_beneficiaries=new_count,
        average_new_benefit=average_new, service_at_award=service,
        credited_years_at_award=mean_credited, contribution_density_at_award=density_at_award)


def _flow_variables(flows: list[SchemeFlows], funds: list[FundProjection],
                    ctx: Mapping[str, object]) -> dict[str, xr.Variable]:
    """Each scheme's income, expenditure and reserve (year, scheme)."""
    n_years = len(funds[0].reserve)
    cover = np.stack([np.zeros(n_years) if f.deficit_cover is None else f.deficit_cover
                      for f in funds], axis=-1)
    tax = np.stack([np.zeros(n_years) if f.benefit_tax is None else f.benefit_tax
                    for f in funds], axis=-1)
    return variables(
        ctx, insured_earnings=_stack("insured_earnings", flows),
        contribution_income=_stack("contribution_income", flows),
        state_transfer=_stack("state_transfer", funds),
        investment_income=_stack("investment_income", funds), state_deficit_cover=cover,
        benefit_tax_income=tax,
        benefit_expenditure=_stack("benefit_expenditure", flows),
        admin_expenditure=_stack("admin_expenditure", flows),
        reserve=_stack("reserve", funds))


def _cost_rate_variables(years: np.ndarray, flows: list[SchemeFlows],
                         funds: list[FundProjection], gdp: np.ndarray,
                         schemes_meta: list[dict], ctx: Mapping[str, object]
                         ) -> dict[str, xr.Variable]:
    """PAYG cost rates, reserve ratio, cost to GDP and the depletion year by scheme."""
    benefits, admin = _stack("benefit_expenditure", flows), _stack("admin_expenditure", flows)
    insured, reserve = _stack("insured_earnings", flows), _stack("reserve", funds)
    funded = np.array([m["kind"] == "contributory" for m in schemes_meta])[None, :]
    return variables(
        ctx, paygo_cost_rate=paygo_cost_rate(benefits, admin, insured),
        paygo_cost_rate_by_payment=paygo_cost_rate_by_payment(
            benefits, admin, insured, _lump_sums(flows, len(years))),
        reserve_ratio=np.where(funded, reserve_ratio(reserve, benefits, admin), np.nan),
        cost_to_gdp=(benefits + admin) / gdp[:, None],
        depletion_year=[depletion_year(years, f.reserve) for f in funds])


def _coords(assumptions: Assumptions, schemes_meta: list[dict],
            n_service: int) -> dict[str, tuple]:
    """The coordinates of the assembled variables (their attrs: :func:`apply_contract`)."""
    def labels(values) -> np.ndarray:
        return np.array(list(values), dtype=object)

    def of_schemes(key: str) -> tuple:
        return ("scheme", labels(m[key] for m in schemes_meta))

    return {
        "year": ("year", assumptions.years.astype("int64")),
        "payer": ("payer", labels(PAYERS)),
        "gap": ("gap", labels(GENDER_GAPS)),
        "branch": ("branch", labels(BRANCHES)),
        "pension": ("pension", labels(PENSION_KINDS)),
        "payment": ("payment", labels(PAYMENTS)),
        "guarantee": ("guarantee", labels(COVERAGE_GROUPS)),
        "scheme_guarantee": ("scheme", labels(scheme_guarantees(assumptions))),
        "service": ("service", np.arange(n_service, dtype="int64")),
        "age": ("age", AGES.astype("int64")),
        "sex": ("sex", labels(SEXES)),
        "scheme": of_schemes("id"),
        "scheme_name": of_schemes("name"),
        "scheme_type": of_schemes("type"),
        "scheme_kind": of_schemes("kind"),
    }


def _lump_sums(flows: list[SchemeFlows], n_years: int) -> np.ndarray:
    """(year, scheme) expenditure on lump sums (:data:`LUMP_SUM_BRANCHES`; none outside
    the contributory pensions), currency per year."""
    lump = np.zeros((n_years, len(flows)))
    columns = [BRANCHES.index(b) for b in LUMP_SUM_BRANCHES]
    for j, f in enumerate(flows):
        if f.branch_expenditure is not None:
            lump[:, j] = f.branch_expenditure[:, columns].sum(axis=1)
    return lump


def paygo_cost_rate_by_payment(benefits: np.ndarray, admin: np.ndarray, insured: np.ndarray,
                               lump_sums: np.ndarray) -> np.ndarray:
    """(year, payment, scheme) PAYG cost rate (fraction of insured earnings) of periodic
    benefits and of lump sums (:data:`PAYMENTS`), from (year, scheme) benefits,
    administrative expenditure, insured earnings and the lump sums among the benefits.

    Administrative expenditure goes to each part in proportion to its benefits, so the
    parts add up to the PAYG cost rate and a pause in the lump sums (the year the
    pensionable age rises, nobody reaches it) shows in the lump-sum part only.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(benefits > 0, lump_sums / benefits, 0.0)
    total = paygo_cost_rate(benefits, admin, insured)
    return np.stack([total * (1.0 - share), total * share], axis=1)


def _by_payer(assumptions: Assumptions, flows: list[SchemeFlows]) -> np.ndarray:
    """(year, payer, scheme) contributions of workers, employers and the state."""
    out = np.zeros((len(assumptions.years), len(PAYERS), len(flows)))
    for j, (scheme, f) in enumerate(zip(assumptions.schemes, flows, strict=True)):
        if "worker_share" not in scheme.params:
            continue
        out[:, 0, j] = scheme["worker_share"] * f.contribution_income
        out[:, 1, j] = (1.0 - scheme["worker_share"]) * f.contribution_income
        out[:, 2, j] = f.state_contribution
    return out


def _branch_variables(flows: list[SchemeFlows], n_years: int,
                      ctx: Mapping[str, object]) -> dict[str, xr.Variable]:
    """Pensioners and expenditure by branch of each contributory pension (0 elsewhere)."""
    persons = np.zeros((n_years, 2, len(BRANCHES), len(flows)))
    spent = np.zeros((n_years, len(BRANCHES), len(flows)))
    by_age = np.zeros((n_years, len(AGES), 2, len(PENSION_KINDS), len(flows)))
    for j, f in enumerate(flows):
        if f.branch_beneficiaries is not None:
            persons[..., j] = sum_inner(f.branch_beneficiaries, 1)
            spent[..., j] = f.branch_expenditure
            by_age[..., :2, j] = f.branch_beneficiaries[..., :2]
        if f.survivors_by_kind is not None:
            by_age[..., 2:4, j] = f.survivors_by_kind
        if f.dependants_by_kind is not None:
            by_age[..., 4:, j] = f.dependants_by_kind
    return variables(ctx, pensions_by_age=by_age, beneficiaries_by_branch=persons,
                     benefit_expenditure_by_branch=spent)
