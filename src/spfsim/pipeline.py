"""The data flow of one projection: demography -> economy -> engine -> fund -> Dataset."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from . import __version__
from .checks import assert_identities, assert_invariants
from .demography import project_population
from .economy import project_economy
from .engine.cohort import death_rates, run_schemes
from .equity.cohorts import equity_variables
from .finance.fund import FundProjection, budget_financed, roll_forward, state_transfers
from .finance.measures import sustainability_variables
from .jumps import find_jumps
from .params import AGES
from .report.dataset import RunInfo, build_dataset
from .schemes import CONTRIBUTORY, SCHEME_TYPES
from .schemes.noncontributory import RuleBenefit

if TYPE_CHECKING:
    from .engine.flows import SchemeFlows
    from .engine.micro.engine import MicroResult, MicroSettings
    from .model import Model
    from .params import Assumptions, CompiledScheme


def micro_status_variable(result: MicroResult) -> xr.DataArray:
    """Simulated persons by labour and pension status (micro engine only)."""
    from .engine.micro.engine import STATUS_COUNTS

    return xr.DataArray(
        result.labour_status, dims=("year", "age", "sex", "status"),
        coords={"status": list(STATUS_COUNTS)},
        attrs={"units": "persons", "long_name": "persons by status: contributing employees, "
               "contributing self-employed or voluntary contributors, informal (employed, "
               "not contributing), unemployed, inactive, disabled, pensioner, retired "
               "without pension (micro engine)"})


def lifetime_variables(result: MicroResult, base_year: int, currency: str,
                       pension_complete: xr.DataArray | None = None
                       ) -> dict[str, xr.DataArray]:
    """Distributions within 5-year birth cohorts, by sex (micro engine only): lifetime
    contributions and benefits of those who died during the projection, and each person's
    money's worth ratio and net transfer in the pension scheme (ILC 2021 para. 15(c);
    docs/equity.md, "Within a cohort"). ``pension_complete``: the pension's
    ``cohort_complete`` (cohort,), to flag the groups made of complete cohorts."""
    from .engine.micro import kernels
    from .engine.micro.engine import QUANTILES, asinh_histogram_quantiles, histogram_quantiles

    edges = kernels.lifetime_bin_edges()
    groups = result.lifetimes.shape[0]
    first = result.first_birth_year + kernels.COHORT_GROUP * np.arange(groups)
    coords = {"birth_cohort": first, "quantile": list(QUANTILES)}
    dims = ("birth_cohort", "sex", "quantile")
    valued = f"present value at 1 January {base_year} at the interest path"
    unit = f"base-year average earnings ({valued})"
    group_note = "by 5-year birth cohort (first year given; micro engine)"
    variables = {
        f"lifetime_{kind}_at_death": xr.DataArray(
            histogram_quantiles(result.lifetimes[:, :, k], edges), dims=dims, coords=coords,
            attrs={"units": unit, "long_name": f"quantiles of lifetime pension {kind} of "
                   f"those who died during the projection, {group_note}"})
        for k, kind in enumerate(("contributions", "benefits"))}
    variables["deaths_by_birth_cohort"] = xr.DataArray(
        result.lifetimes[:, :, 0].sum(axis=-1), dims=("birth_cohort", "sex"),
        coords={"birth_cohort": first},
        attrs={"units": "persons", "long_name": f"deaths during the projection {group_note}"})
    if result.exits is None:
        return variables
    members = ("persons with pension contributions or benefits in the projection "
               "(own pensions and refunds; survivors' pensions go to survivors, who are "
               "not simulated persons)")
    continued = ("pensions in payment at the horizon continued for life (last year's "
                 "mortality and indexation)")
    variables["money_worth_ratio_by_person"] = xr.DataArray(
        asinh_histogram_quantiles(result.exits[:, :, kernels.EXIT_RATIO],
                                  kernels.RATIO_UNIT), dims=dims, coords=coords,
        attrs={"units": "1", "long_name": "quantiles of persons' money's worth ratio in "
               "the pension scheme (present value of own benefits over own contributions), "
               f"among its contributors, {group_note}; {continued}"})
    variables["net_transfer_by_person"] = xr.DataArray(
        asinh_histogram_quantiles(result.exits[:, :, kernels.EXIT_NET], kernels.NET_UNIT),
        dims=dims, coords=coords,
        attrs={"units": unit, "long_name": "quantiles of persons' net transfer in the "
               f"pension scheme (own benefits less contributions) among {members}, "
               f"{group_note}; {continued}"})
    variables["lifetime_members"] = xr.DataArray(
        result.exits[:, :, kernels.EXIT_NET].sum(axis=-1), dims=("birth_cohort", "sex"),
        coords={"birth_cohort": first},
        attrs={"units": "persons", "long_name": f"{members}, {group_note}"})
    variables["lifetime_pv"] = xr.DataArray(
        result.exit_totals, dims=("birth_cohort", "sex", "flow"),
        coords={"birth_cohort": first,
                "flow": ["contributions", "benefits", "benefits_after_horizon"]},
        attrs={"units": f"{currency} ({valued})", "long_name": "present values of the "
               f"pension contributions and own benefits of {members}, {group_note}: "
               f"paid in the projection, and after it ({continued})"})
    if pension_complete is not None:
        cohorts = pension_complete["cohort"].values
        in_group = (cohorts >= first[:, None]) & (cohorts < first[:, None] + kernels.COHORT_GROUP)
        flags = in_group.any(axis=1) & ~(in_group & ~pension_complete.values).any(axis=1)
        variables["birth_cohort_complete"] = xr.DataArray(
            flags, dims=("birth_cohort",), coords={"birth_cohort": first},
            attrs={"units": "1", "long_name": "every cohort of the 5-year group is "
                   "complete for the pension (cohort_complete)"})
    return variables


def fund_projection(f: SchemeFlows, scheme: CompiledScheme,
                    interest: np.ndarray) -> FundProjection:
    """A scheme's fund under its state-transfer rules; schemes without a fund are financed
    by the budget as benefits fall due."""
    if f.kind != CONTRIBUTORY:
        return budget_financed(f.contribution_income, f.benefit_expenditure,
                               f.admin_expenditure)
    per_beneficiary = scheme.params.get("state_subsidy_per_beneficiary")
    state = state_transfers(f.state_subsidy_rate, f.benefit_expenditure, f.state_contribution,
                            per_beneficiary, f.beneficiaries.sum(axis=(1, 2)))
    return roll_forward(f.initial_reserve, f.contribution_income, state,
                        f.benefit_expenditure, f.admin_expenditure, interest,
                        cover_deficit=scheme.choices.get("state_guarantee") == "deficit")


NO_TAIL = 101  # a tail age above the last age: the scheme pays no life benefits
# target groups of rule-paid benefits whose condition lasts (schemes.noncontributory)
LASTING_GROUPS = ("all", "disabled", "without_pension")


def _tail_age(scheme: CompiledScheme) -> int:
    """The age from which a scheme's benefits are paid for life: a contributory pension's
    youngest pensionable age in the last year; a rule-paid benefit's lowest age when its
    target group lasts (everybody, the disabled, those without a pension) and its age
    band runs to the open age group; otherwise (mothers, the unemployed) none."""
    if scheme.type == "db_old_age_pension":
        return int(np.min(scheme["retirement_age"][-1]))
    kind = SCHEME_TYPES[scheme.type]
    lasting = issubclass(kind, RuleBenefit) and kind.group(scheme.choices) in LASTING_GROUPS
    if lasting and int(scheme["max_age"][-1]) >= AGES[-1]:
        return int(scheme["min_age"][-1])
    return NO_TAIL


def tail_settings(a: Assumptions) -> tuple[list[int], list[float]]:
    """Each scheme's tail age (:func:`_tail_age`) and the growth of its life benefits
    after the horizon: its pension indexation in the last year, else the growth of prices
    (the poverty line, to which non-contributory levels are tied)."""
    prices = float(a.series_growth["prices"][-1])
    growth = [float(s.index_growth["pension_indexation"][-1])
              if "pension_indexation" in s.index_growth else prices for s in a.schemes]
    return [_tail_age(s) for s in a.schemes], growth


def cohort_equity(a: Assumptions, demo, flows: list[SchemeFlows],
                  currency: str) -> xr.Dataset:
    """Equity measures by birth cohort, sex and scheme (spfsim.equity.cohorts), either
    engine: the flows by age, the last year's mortality, the fund's interest rate."""
    tail_ages, growth = tail_settings(a)
    return equity_variables(
        a.years, [f.scheme_id for f in flows], [f.contributions_by_age for f in flows],
        [f.benefits_by_age for f in flows], [f.lump_sums_by_age for f in flows],
        death_rates(demo.survival[-1]),
        a.interest_rate, tail_ages, growth, currency)


def run_projection(model: Model, engine: str, progress: Callable[[str], None],
                   micro: MicroSettings | None = None) -> xr.Dataset:
    """Project ``model`` with ``engine``; assert the accounting identities."""
    a = model.assumptions
    progress(f"population {a.years[0]}-{a.years[-1]}")
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb, a.net_migration)
    capped = float(demo.emigration_capped.sum())
    if capped > 0:
        warnings.warn(f"assumed net emigration exceeded the cohorts by {capped:,.0f} persons "
                      "in all; it was capped (see the variable emigration_capped)",
                      stacklevel=3)
    progress("economy and labour force")
    econ = project_economy(a, demo.population)
    progress(f"schemes ({engine} engine): " + ", ".join(s.id for s in a.schemes))
    seed, extra = "none (deterministic)", {}
    if micro is None:
        flows, coverage = run_schemes(a, demo, econ)
    else:
        from .engine.micro.engine import run_micro

        result = run_micro(a, demo, econ, micro, progress)
        demo, flows, coverage = result.demography, result.flows, result.coverage
        seed = str(micro.seed)
        extra = {"persons": micro.persons, "weight": result.weight,
                 "chunk_size": micro.chunk_size, "person_years": result.person_years,
                 "earnings_permanent_sd": micro.permanent_sd,
                 "earnings_transitory_sd": micro.transitory_sd,
                 "alignment": micro.alignment, "labour_persistence": micro.labour_persistence}
        if micro.person_file:
            digest = hashlib.sha256(Path(micro.person_file).read_bytes()).hexdigest()
            extra.update({"person_file": str(micro.person_file),
                          "person_file_hash": f"sha256:{digest}",
                          "person_file_cells_synthetic": result.synthetic_cells})
    progress("reserve funds")
    funds = [fund_projection(f, scheme, a.interest_rate)
             for f, scheme in zip(flows, a.schemes, strict=True)]
    meta = [{"id": s.id, "name": s.name, "type": s.type, "kind": SCHEME_TYPES[s.type].KIND}
            for s in a.schemes]
    info = RunInfo(model.name, model.input.title, model.input.currency, model.input.input_hash,
                   engine, seed, __version__, str(model.path))
    ds = build_dataset(a, demo, econ, flows, funds, meta, info, coverage)
    ds = ds.merge(sustainability_variables(ds))
    progress("equity by birth cohort")
    ds = ds.merge(cohort_equity(a, demo, flows, model.input.currency))
    ds.attrs.update(extra)
    if micro is not None:
        pension = next((s.id for s in a.schemes if s.type == "db_old_age_pension"), None)
        ds = ds.assign(persons_by_status=micro_status_variable(result),
                       **lifetime_variables(
                           result, int(a.years[0]), model.input.currency,
                           None if pension is None
                           else ds["cohort_complete"].sel(scheme=pension)))
    assert_identities(ds, np.array([f.initial_reserve for f in funds]))
    assert_invariants(ds)
    ds.attrs["jumps"] = "\n".join(j.message for j in find_jumps(ds, a))
    return ds
