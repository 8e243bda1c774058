"""The data flow of one projection: demography -> economy -> engine -> fund -> Dataset."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from ._version import __version__
from .allocator import keep_freed_memory
from .checks import assert_identities, assert_invariants
from .demography import DemographicProjection, external_projection, project_population
from .economy import project_economy
from .engine.cohort import death_rates, run_schemes
from .equity.cohorts import equity_data
from .finance.fund import FundProjection, budget_financed, roll_forward, state_transfers
from .finance.measures import sustainability_variables
from .jumps import find_jumps
from .params import AGES
from .results.assemble import (
    RunInfo,
    apply_contract,
    build_dataset,
    joined,
    projection_context,
)
from .results.disclosure import control_disclosure
from .results.micro import (
    family_variables,
    lifetime_variables,
    micro_status_variable,
    poverty_variables,
)
from .schemes import CONTRIBUTORY, SCHEME_TYPES
from .schemes.db_pension import benefit_tax_income
from .schemes.noncontributory import RuleBenefit

if TYPE_CHECKING:
    from .engine.flows import SchemeFlows
    from .engine.micro.engine import MicroResult, MicroSettings
    from .params import Assumptions, CompiledScheme, ModelInput


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
    tax = (benefit_tax_income(scheme, *f.pensions_by_person_age())  # on its pensions
           if scheme.type == "db_old_age_pension" else np.zeros_like(state))
    fund = roll_forward(f.initial_reserve, f.contribution_income, state + tax,
                        f.benefit_expenditure, f.admin_expenditure, interest,
                        cover_deficit=scheme.choices.get("state_guarantee") == "deficit")
    fund.benefit_tax = tax
    return fund


NO_TAIL = 101  # a tail age above the last age: the scheme pays no life benefits
# target groups of rule-paid benefits whose condition lasts (schemes.noncontributory)
LASTING_GROUPS = ("all", "disabled", "without_pension")


def _tail_age(scheme: CompiledScheme) -> int:
    """The age from which a scheme's benefits are paid for life: a contributory pension's
    youngest pensionable age in the last year; a rule-paid benefit's lowest age when its
    target group lasts (everybody, the disabled, those without a pension) and its age
    band runs to the open age group; otherwise (mothers, the unemployed, a household
    means test, which no condition of the person makes last) none."""
    if scheme.type == "db_old_age_pension":
        return int(np.min(scheme["retirement_age"][-1]))
    kind = SCHEME_TYPES[scheme.type]
    lasting = (issubclass(kind, RuleBenefit) and not kind.household_test(scheme.choices)
               and kind.group(scheme.choices) in LASTING_GROUPS)
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
                  currency: str) -> tuple[dict[str, tuple], dict[str, tuple]]:
    """Equity measures by birth cohort, sex and scheme (spfsim.equity.cohorts.equity_data:
    the variables and their coordinates), either engine: the flows by age, the last
    year's mortality, the fund's interest rate."""
    tail_ages, growth = tail_settings(a)
    return equity_data(
        a.years, [f.scheme_id for f in flows], [f.contributions_by_age for f in flows],
        [f.benefits_by_age for f in flows], [f.lump_sums_by_age for f in flows],
        death_rates(demo.survival[-1]),
        a.interest_rate, tail_ages, growth, currency)


#: The sustainability measures' horizon (years) and the scaled premium's period (years).
SUSTAINABILITY_HORIZON = 75
SCALED_PREMIUM_PERIOD = 10


def project_demography(a: Assumptions, progress: Callable[[str], None] = lambda _: None
                       ) -> DemographicProjection:
    """The cohort-component projection, or the model's external population projection
    with consistent flows (demography.external_projection); warns when assumed emigration
    was capped."""
    progress(f"population {a.years[0]}-{a.years[-1]}")
    if a.population_projection is not None:
        demo = external_projection(a.years, a.population_projection, a.mx, a.asfr, a.srb,
                                   a.net_migration)
    else:
        demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb,
                                  a.net_migration)
    capped = float(demo.emigration_capped.sum())
    if capped > 0:
        warnings.warn(f"assumed net emigration exceeded the cohorts by {capped:,.0f} persons "
                      "in all; it was capped (see the variable emigration_capped)",
                      stacklevel=4)
    return demo


def _micro_attrs(micro: MicroSettings, result: MicroResult) -> dict[str, object]:
    """The Dataset attrs that say how a micro run was made."""
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
        if result.records_apart is not None:
            extra["person_file_records_apart"] = result.records_apart
    return extra


def run_projection(model_input: ModelInput, a: Assumptions, engine: str,
                   progress: Callable[[str], None],
                   micro: MicroSettings | None = None, client=None) -> xr.Dataset:
    """Project the model read as ``model_input``, compiled as ``a``, with ``engine``;
    assert the accounting identities. ``client``: a Dask client whose workers hold the
    micro engine's persons (engine.micro.distributed)."""
    keep_freed_memory()  # the next projection uses this one's pages again
    demo = project_demography(a, progress)
    progress("economy and labour force")
    econ = project_economy(a, demo.population)
    progress(f"schemes ({engine} engine): " + ", ".join(s.id for s in a.schemes))
    result = None
    if micro is None:
        flows, coverage = run_schemes(a, demo, econ)
    else:
        from .engine.micro.engine import run_micro

        result = run_micro(a, demo, econ, micro, progress, client=client,
                           keep_store=client is None)
        demo, flows, coverage = result.demography, result.flows, result.coverage
    progress("reserve funds")
    funds = [fund_projection(f, scheme, a.interest_rate)
             for f, scheme in zip(flows, a.schemes, strict=True)]
    meta = [{"id": s.id, "name": s.name, "type": s.type, "kind": SCHEME_TYPES[s.type].KIND}
            for s in a.schemes]
    info = RunInfo(model_input.name, model_input.title, model_input.currency,
                   model_input.input_hash, engine,
                   "none (deterministic)" if micro is None else str(micro.seed),
                   __version__, str(model_input.path))
    progress("equity by birth cohort")
    ds = build_dataset(a, demo, econ, flows, funds, meta, info, coverage,
                       more=cohort_equity(a, demo, flows, model_input.currency))
    if a.valuation_start is not None:
        ds.attrs["valuation_start_year"] = int(a.valuation_start)
    ds = joined(ds, sustainability_variables(ds, horizon=SUSTAINABILITY_HORIZON,
                                             period_length=SCALED_PREMIUM_PERIOD))
    ctx = {**projection_context(info, a.years), "period": SCALED_PREMIUM_PERIOD}
    if result is not None:
        ds.attrs.update(_micro_attrs(micro, result))
        pension = next((s.id for s in a.schemes if s.type == "db_old_age_pension"), None)
        ds = ds.assign(persons_by_status=micro_status_variable(result, ctx),
                       **lifetime_variables(
                           result, ctx, None if pension is None
                           else ds["cohort_complete"].sel(scheme=pension)),
                       **family_variables(result, ctx), **poverty_variables(result, ctx))
    ds = apply_contract(ds, ctx)
    assert_identities(ds, np.array([f.initial_reserve for f in funds]))
    assert_invariants(ds)
    ds.attrs["jumps"] = "\n".join(j.message for j in find_jumps(ds, a))
    if result is not None:  # last: the checks above see every cell
        ds = control_disclosure(ds, result.sources, model_input.minimum_records)
    return ds
