"""Assemble the results contract: one xarray.Dataset per projection.

Every variable carries ``units`` and ``long_name``; money is in the model's currency at
current (nominal) prices; rates are fractions. Dataset attrs say how to reproduce the file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..demography import DemographicProjection
from ..economy import EconomicProjection
from ..engine.benefits import COVERAGE_GROUPS
from ..engine.flows import BRANCHES, SURVIVOR_KINDS, SchemeFlows
from ..finance import FundProjection, depletion_year, paygo_cost_rate, reserve_ratio
from ..indicators import (
    GENDER_GAPS,
    adequacy_and_cost_variables,
    coverage_variables,
    fiscal_space_variables,
    gender_variables,
    scheme_guarantees,
)
from ..params import AGES, SEXES, Assumptions

ENTRY_AGE = 15  # first age of working life, for the contribution density at award


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


def _var(dims, data, units, long_name, **extra) -> xr.Variable:
    return xr.Variable(dims, np.asarray(data), attrs={"units": units, "long_name": long_name,
                                                      **extra})


def build_dataset(assumptions: Assumptions, demo: DemographicProjection,
                  econ: EconomicProjection, flows: list[SchemeFlows],
                  funds: list[FundProjection], schemes_meta: list[dict],
                  info: RunInfo, coverage: np.ndarray) -> xr.Dataset:
    """The results-contract Dataset from the projection's parts; ``coverage`` is (year,
    age, sex, coverage group, 2: target, covered persons)."""
    years = assumptions.years
    money = f"{info.currency} (nominal)"
    y, yas, yass = ("year",), ("year", "age", "sex"), ("year", "age", "sex", "scheme")
    ys = ("year", "scheme")

    def stack(attr, source=flows):
        return np.stack([getattr(f, attr) for f in source], axis=-1)

    benefits, admin = stack("benefit_expenditure"), stack("admin_expenditure")
    reserve = stack("reserve", funds)
    insured = stack("insured_earnings")
    new_count, new_amount = stack("new_beneficiaries"), stack("new_benefit_amount")
    service = stack("service_awarded")  # (year, sex, service, scheme)
    credited = (service * np.arange(service.shape[2])[None, None, :, None]).sum(axis=2)
    awarded = service.sum(axis=2)
    potential = np.stack([
        scheme["retirement_age"] - ENTRY_AGE if "retirement_age" in scheme.params
        else np.full((len(years), 2), np.nan) for scheme in assumptions.schemes], axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_credited = np.where(awarded > 0, credited / awarded, np.nan)
        density_at_award = mean_credited / potential
    funded = np.array([m["kind"] == "contributory" for m in schemes_meta])[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        average_new = np.where(new_count > 0, new_amount / new_count, np.nan)
    data = {
        "labour_force": _var(yas, econ.labour_force, "persons", "labour force"),
        "employed": _var(yas, econ.employed, "persons", "employed persons"),
        "gdp": _var(y, econ.gdp, money, "gross domestic product"),
        "average_earnings": _var(y, econ.average_earnings, f"{money} per year",
                                 "average annual earnings of covered workers (base profile)"),
        "price_index": _var(y, econ.price_index, "1", "consumer price index (base year = 1)"),
        "wage_index": _var(y, econ.wage_index, "1", "average earnings index (base year = 1)"),
        "interest_rate": _var(y, econ.interest_rate, "fraction per year",
                              "nominal return on reserves"),
        "contributors": _var(yass, stack("contributors"), "persons",
                             "persons contributing during the year"),
        "beneficiaries": _var(yass, stack("beneficiaries"), "persons",
                              "persons receiving a benefit"),
        "new_beneficiaries": _var(("year", "sex", "scheme"), new_count, "persons",
                                  "benefits awarded during the year"),
        "average_new_benefit": _var(("year", "sex", "scheme"), average_new,
                                    f"{money} per year", "average annual amount of new awards"),
        "service_at_award": _var(("year", "sex", "service", "scheme"), service, "persons",
                                 "new pensions by credited years of service"),
        "credited_years_at_award": _var(("year", "sex", "scheme"), mean_credited, "years",
                                        "mean credited years of new pensioners"),
        "contribution_density_at_award": _var(
            ("year", "sex", "scheme"), density_at_award, "fraction",
            f"mean credited years of new pensioners / years from age {ENTRY_AGE} to the "
            "retirement age"),
        "insured_earnings": _var(ys, insured, f"{money} per year",
                                 "insured (contributory) earnings"),
        "contribution_income": _var(ys, stack("contribution_income"), f"{money} per year",
                                    "contribution income"),
        "state_transfer": _var(ys, stack("state_transfer", funds), f"{money} per year",
                               "transfers from the state budget"),
        "investment_income": _var(ys, stack("investment_income", funds), f"{money} per year",
                                  "investment income of the reserve"),
        "state_deficit_cover": _var(
            ys, np.stack([np.zeros(len(years)) if f.deficit_cover is None
                          else f.deficit_cover for f in funds], axis=-1),
            f"{money} per year", "part of the state transfer paid under a deficit "
            "guarantee (state_guarantee = 'deficit'), keeping the reserve at zero"),
        "benefit_expenditure": _var(ys, benefits, f"{money} per year", "benefit expenditure"),
        "admin_expenditure": _var(ys, admin, f"{money} per year",
                                  "administrative expenditure"),
        "reserve": _var(ys, reserve, money, "reserve at the end of the year"),
        "paygo_cost_rate": _var(ys, paygo_cost_rate(benefits, admin, insured), "fraction",
                                "PAYG cost rate: (benefits + administration) / insured "
                                "earnings"),
        "paygo_cost_rate_by_payment": _var(
            ("year", "payment", "scheme"), paygo_cost_rate_by_payment(
                benefits, admin, insured, _lump_sums(flows, len(years))),
            "fraction", "PAYG cost rate of periodic benefits (pensions and other benefits "
            "in payment) and of lump sums (refunds of contributions at the pensionable "
            "age), administrative expenditure shared in proportion to benefits; the two "
            "add up to paygo_cost_rate"),
        "reserve_ratio": _var(ys, np.where(funded, reserve_ratio(reserve, benefits, admin),
                                           np.nan), "fraction",
                              "reserve at end of year / expenditure of the year (years of "
                              "expenditure); NaN for schemes without a fund"),
        "cost_to_gdp": _var(ys, (benefits + admin) / econ.gdp[:, None], "fraction",
                            "benefit and administrative expenditure / GDP"),
        "depletion_year": _var(("scheme",), [depletion_year(years, f.reserve) for f in funds],
                               "calendar year",
                               "first year with a negative end-of-year reserve (NaN: none "
                               "within the horizon or no fund)"),
    }
    data.update(_branch_variables(flows, len(years), money))
    data["contribution_income_by_payer"] = _var(
        ("year", "payer", "scheme"), _by_payer(assumptions, flows), f"{money} per year",
        "contributions by payer: the insured person (worker_share of the rate), the "
        "employer (the rest) and the state (state_contribution_rate, paid as a transfer)")
    data.update(coverage_variables(coverage))
    data.update(adequacy_and_cost_variables(assumptions, econ, flows, money))
    data["gdp_per_capita"] = _var(y, econ.gdp_per_capita, f"{money} per person per year",
                                  "GDP per resident")
    data["poverty_line"] = _var(y, econ.poverty_line, f"{money} per person per year",
                                "poverty line (base-year value indexed to prices)")
    data["government_revenue"] = _var(y, econ.government_revenue, f"{money} per year",
                                      "government revenue (share of GDP x GDP)")
    data.update(fiscal_space_variables(stack("state_transfer", funds), econ.gdp,
                                       econ.fiscal_envelope, money))
    data.update(gender_variables(flows, demo.population, money))
    coords = {
        "year": ("year", years.astype("int64"), {"long_name": "calendar year"}),
        "payer": ("payer", np.array(PAYERS, dtype=object)),
        "gap": ("gap", np.array(GENDER_GAPS, dtype=object),
                {"long_name": "indicator of the gender gap"}),
        "branch": ("branch", np.array(BRANCHES, dtype=object),
                   {"long_name": "branch of a contributory pension"}),
        "pension": ("pension", np.array(PENSION_KINDS, dtype=object),
                    {"long_name": "kind of pension of a contributory pension scheme"}),
        "payment": ("payment", np.array(PAYMENTS, dtype=object),
                    {"long_name": "form of payment: periodic benefits or lump sums"}),
        "guarantee": ("guarantee", np.array(COVERAGE_GROUPS, dtype=object),
                      {"long_name": "R202 para. 5 guarantee (any_cash: SDG 1.3.1, any cash "
                       "benefit or contributing)"}),
        "scheme_guarantee": ("scheme", np.array(scheme_guarantees(assumptions), dtype=object)),
        "service": ("service", np.arange(service.shape[2], dtype="int64"),
                    {"long_name": "credited years of service", "units": "years"}),
        "age": ("age", AGES.astype("int64"),
                {"long_name": "age in completed years at 1 July", "units": "years",
                 "note": "100 is the open group 100 and over"}),
        "sex": ("sex", np.array(SEXES, dtype=object)),
        "scheme": ("scheme", np.array([m["id"] for m in schemes_meta], dtype=object)),
        "scheme_name": ("scheme", np.array([m["name"] for m in schemes_meta], dtype=object)),
        "scheme_type": ("scheme", np.array([m["type"] for m in schemes_meta], dtype=object)),
        "scheme_kind": ("scheme", np.array([m["kind"] for m in schemes_meta], dtype=object)),
    }
    ds = xr.merge([demo.to_dataset(), xr.Dataset(data, coords=coords)],
                  combine_attrs="override")
    ds.attrs = {
        "title": f"spfsim projection: {info.title}",
        "model": info.model,
        "model_path": info.model_path,
        "spfsim_version": info.version,
        "input_hash": f"sha256:{info.input_hash}",
        "engine": info.engine,
        "seed": info.seed,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "base_year": int(years[0]),
        "end_year": int(years[-1]),
        "currency": info.currency,
        "price_basis": "nominal (current prices)",
        "Conventions": "CF-1.10",
    }
    return ds


CONTRACT_DIMS = ("year", "age", "sex", "scheme", "service", "status", "birth_cohort",
                 "quantile", "guarantee", "branch", "pension", "payer", "cohort", "gap",
                 "financing_method", "flow", "payment")
PAYERS = ("worker", "employer", "state")
PENSION_KINDS = ("old_age", "disability", *SURVIVOR_KINDS)
PAYMENTS = ("periodic", "lump_sum")
# branches of a contributory pension paid once, as a lump sum, not as a benefit in payment
LUMP_SUM_BRANCHES = ("refunds",)


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
                      money: str) -> dict[str, xr.Variable]:
    """Pensioners and expenditure by branch of each contributory pension (0 elsewhere)."""
    persons = np.zeros((n_years, 2, len(BRANCHES), len(flows)))
    spent = np.zeros((n_years, len(BRANCHES), len(flows)))
    by_age = np.zeros((n_years, len(AGES), 2, len(PENSION_KINDS), len(flows)))
    for j, f in enumerate(flows):
        if f.branch_beneficiaries is not None:
            persons[..., j] = f.branch_beneficiaries.sum(axis=1)
            spent[..., j] = f.branch_expenditure
            by_age[..., :2, j] = f.branch_beneficiaries[..., :2]
        if f.survivors_by_kind is not None:
            by_age[..., 2:, j] = f.survivors_by_kind
    return {
        "pensions_by_age": _var(("year", "age", "sex", "pension", "scheme"), by_age,
                                "persons", "pensions in payment by age and sex of the "
                                "beneficiary: old age (including disability pensions "
                                "continued from the pensionable age), disability, and the "
                                "survivors' pensions of spouses and orphans"),
        "beneficiaries_by_branch": _var(("year", "sex", "branch", "scheme"), persons,
                                        "persons", "pensions in payment by branch: old age "
                                        "(including disability pensions continued from "
                                        "the pensionable age), disability, survivors "
                                        "(spouses and orphans)"),
        "benefit_expenditure_by_branch": _var(("year", "branch", "scheme"), spent,
                                              f"{money} per year",
                                              "benefit expenditure by branch"),
    }


def check_single_projection(ds: xr.Dataset, required: Iterable[str], user: str) -> None:
    """Raise ValueError unless ``ds`` is one projection holding the ``required`` variables.

    ``user`` names what needs them ("the report", "the figure") for the message.
    """
    missing = [v for v in required if v not in ds.data_vars]
    if missing:
        raise ValueError(f"the Dataset lacks variables {user} needs: {', '.join(missing)}")
    if "year" not in ds.dims or ds.sizes["year"] == 0:
        raise ValueError("the Dataset has no years")
    extra = sorted(str(d) for d in ds.dims if d not in CONTRACT_DIMS)
    if extra:
        raise ValueError(
            f"{user} takes one projection; select along {', '.join(extra)} first "
            f"(e.g. ds.sel({extra[0]}=...) or ds.mean({extra[0]!r}))")


@dataclass(frozen=True)
class SchemeInfo:
    """A scheme as the Dataset describes it (position along ``scheme`` and its coords)."""

    index: int
    id: str
    name: str
    type: str
    kind: str

    @property
    def contributory(self) -> bool:
        return self.kind == "contributory"

    @property
    def label(self) -> str:
        return self.name if self.name == self.id else f"{self.name} ({self.id})"


def scheme_infos(ds: xr.Dataset) -> list[SchemeInfo]:
    """The schemes of a Dataset, in order, from the ``scheme_*`` coordinates."""
    if "scheme" not in ds.coords:
        return []
    ids = [str(s) for s in ds["scheme"].values]

    def coord(name: str, default: list[str]) -> list[str]:
        if name in ds.coords and ds[name].dims == ("scheme",):
            return [str(v) for v in ds[name].values]
        return default

    rows = zip(ids, coord("scheme_name", ids), coord("scheme_type", [""] * len(ids)),
               coord("scheme_kind", [""] * len(ids)), strict=True)
    return [SchemeInfo(i, *row) for i, row in enumerate(rows)]


def complete_cohort_mask(ds: xr.Dataset, scheme: int) -> np.ndarray:
    """(cohort,) bool: ``cohort_complete`` (cohort, scheme) (True where the birth cohort's
    cash flows in the scheme are all inside the projection, so its equity measures are
    unbiased) for the scheme at position ``scheme``."""
    complete = ds["cohort_complete"].isel(scheme=scheme)
    return np.asarray(complete.transpose("cohort").values, dtype=bool)


def lump_sum_cost_rate(ds: xr.Dataset, scheme: int) -> np.ndarray | None:
    """(year,) the PAYG cost rate (fraction of insured earnings) of the lump sums of the
    scheme at position ``scheme`` (``paygo_cost_rate_by_payment``), or None when it pays
    none or the Dataset does not split its cost rate by form of payment."""
    if "paygo_cost_rate_by_payment" not in ds.data_vars:
        return None
    lump = ds["paygo_cost_rate_by_payment"].isel(scheme=scheme).sel(payment="lump_sum")
    values = np.asarray(lump.transpose("year").values, dtype=float)
    return values if np.nansum(np.abs(values)) > 0 else None
