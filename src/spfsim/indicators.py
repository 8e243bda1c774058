"""Coverage, adequacy and cost indicators of a projection (R202 para. 19-21: monitoring,
with statistics disaggregated by sex).

- Coverage by guarantee and the SDG 1.3.1 share of the population covered by at least one
  social protection cash benefit (definitions in :mod:`spfsim.engine.benefits`): exact in
  the micro engine, under the documented overlap assumption in the cohort engine.
- Adequacy: the average benefit relative to the poverty line (R202 para. 8(b)); the
  benefit ratio (average pension / average insured earnings) and the replacement rate of
  new pensions (average new pension / earnings of a covered worker the year before the
  pensionable age), by sex.
- Cost of each scheme and of each guarantee as a share of GDP and of government revenue
  (ILC 2021 para. 15(a), (g): fiscal space).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .economy import EconomicProjection
from .engine.benefits import COVERAGE_GROUPS
from .engine.flows import BRANCHES, SchemeFlows
from .params import Assumptions


def _var(dims, data, units, long_name) -> xr.Variable:
    return xr.Variable(dims, np.asarray(data), attrs={"units": units, "long_name": long_name})


def _ratio(num, den) -> np.ndarray:
    num, den = np.asarray(num, float), np.asarray(den, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def coverage_variables(coverage: np.ndarray) -> dict[str, xr.Variable]:
    """Coverage by guarantee from (year, age, sex, group, 2: target, covered) persons."""
    by_sex = coverage.sum(axis=1)  # (year, sex, group, 2)
    dims = ("year", "sex", "guarantee")
    total = by_sex.sum(axis=1)
    return {
        "coverage_target": _var(dims, by_sex[..., 0], "persons",
                                "persons in the guarantee's target group"),
        "coverage_covered": _var(dims, by_sex[..., 1], "persons",
                                 "persons of the target group covered by at least one "
                                 "benefit serving the guarantee"),
        "coverage_rate": _var(("year", "guarantee"), _ratio(total[..., 1], total[..., 0]),
                              "fraction", "share of the target group covered (any_cash: "
                              "SDG 1.3.1, population covered by at least one cash benefit "
                              "or contributing)"),
        "coverage_rate_by_sex": _var(dims, _ratio(by_sex[..., 1], by_sex[..., 0]), "fraction",
                                     "share of the target group covered, by sex"),
    }


def scheme_guarantees(assumptions: Assumptions) -> list[str]:
    """The guarantee each scheme serves ('old_age' for contributory pensions)."""
    from .schemes import SCHEME_TYPES
    from .schemes.noncontributory import RuleBenefit

    out = []
    for scheme in assumptions.schemes:
        kind = SCHEME_TYPES[scheme.type]
        if issubclass(kind, RuleBenefit):
            out.append(kind.guarantee(scheme.choices))
        else:
            out.append("old_age")
    return out


def _cost_by_guarantee(guarantees: list[str], flows: list[SchemeFlows],
                       cost: np.ndarray) -> np.ndarray:
    """(year, guarantee) cost, benefits and administration. A contributory pension's
    disability branch counts for the disability guarantee, its other branches (old age,
    survivors, refunds) for old age, administration in proportion; along ``guarantee``,
    any_cash holds the cost of every cash benefit (all but health care)."""
    out = np.zeros((cost.shape[0], len(COVERAGE_GROUPS)))
    index = {g: i for i, g in enumerate(COVERAGE_GROUPS)}
    for j, (name, f) in enumerate(zip(guarantees, flows, strict=True)):
        share = {name: np.ones(cost.shape[0])}
        if f.branch_expenditure is not None:
            total = f.branch_expenditure.sum(axis=1)
            disability = _ratio(f.branch_expenditure[:, BRANCHES.index("disability")], total)
            disability = np.nan_to_num(disability)
            share = {"old_age": 1.0 - disability, "disability": disability}
        for guarantee, part in share.items():
            if guarantee in index:
                out[:, index[guarantee]] += cost[:, j] * part
        if name != "health":
            out[:, index["any_cash"]] += cost[:, j]
    return out


def adequacy_and_cost_variables(assumptions: Assumptions, econ: EconomicProjection,
                                flows: list[SchemeFlows], money: str) -> dict[str, xr.Variable]:
    """Adequacy and cost indicators by scheme and by guarantee."""
    guarantees = scheme_guarantees(assumptions)
    benefits = np.stack([f.benefit_expenditure for f in flows], axis=-1)
    cost = benefits + np.stack([f.admin_expenditure for f in flows], axis=-1)
    persons = np.stack([f.beneficiaries.sum(axis=(1, 2)) for f in flows], axis=-1)
    average = _ratio(benefits, persons)
    by_guarantee = _cost_by_guarantee(guarantees, flows, cost)
    ys, yg = ("year", "scheme"), ("year", "guarantee")
    out = {
        "average_benefit": _var(ys, average, f"{money} per beneficiary per year",
                                "average benefit per beneficiary"),
        "benefit_to_poverty_line": _var(ys, average / econ.poverty_line[:, None], "fraction",
                                        "average benefit / annual poverty line (NaN: no "
                                        "poverty line in the model)"),
        "cost_to_revenue": _var(ys, cost / econ.government_revenue[:, None], "fraction",
                                "benefit and administrative expenditure / government "
                                "revenue (NaN: no revenue share in the model)"),
        "expenditure_by_guarantee": _var(yg, by_guarantee, f"{money} per year",
                                         "benefit and administrative expenditure of the "
                                         "schemes serving each guarantee (any_cash: all "
                                         "cash benefits)"),
        "cost_to_gdp_by_guarantee": _var(yg, by_guarantee / econ.gdp[:, None], "fraction",
                                         "expenditure by guarantee / GDP"),
        "cost_to_revenue_by_guarantee": _var(yg, by_guarantee
                                             / econ.government_revenue[:, None], "fraction",
                                             "expenditure by guarantee / government revenue"),
    }
    out.update(_replacement_rates(assumptions, econ, flows, money))
    return out


def _replacement_rates(assumptions, econ, flows, money) -> dict[str, xr.Variable]:
    """Benefit ratio and replacement rate of new awards, by sex, for contributory schemes."""
    n = assumptions.n_years
    ratio = np.full((n, 2, len(flows)), np.nan)
    new_rate = np.full((n, 2, len(flows)), np.nan)
    years = np.arange(n)
    for j, (scheme, f) in enumerate(zip(assumptions.schemes, flows, strict=True)):
        if f.expenditure_by_sex is None or f.insured_earnings.sum() <= 0:
            continue
        average_insured = _ratio(f.insured_earnings, f.contributors.sum(axis=(1, 2)))
        ratio[:, :, j] = _ratio(f.expenditure_by_sex, f.beneficiaries.sum(axis=1)) \
            / average_insured[:, None]
        if "retirement_age" in scheme.params:
            final_age = np.clip(scheme["retirement_age"].astype(int) - 1, 0, 100)
            final = econ.earnings[years[:, None], final_age, [0, 1]]
            new_rate[:, :, j] = _ratio(f.new_benefit_amount, f.new_beneficiaries) / final
    dims = ("year", "sex", "scheme")
    return {
        "benefit_ratio": _var(dims, ratio, "fraction", "average pension in payment / average "
                              "insured earnings of contributors"),
        "replacement_rate_new": _var(dims, new_rate, "fraction",
                                     "average new pension / annual earnings of a covered "
                                     "worker one year below the pensionable age"),
    }
