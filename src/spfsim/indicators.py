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
- Fiscal space: what the state budget pays for social protection against the envelope the
  government states it can devote to it, and the financing gap (ILC 2021 para. 15(a), (g);
  R202 para. 11).
- Gender gaps in contributor coverage, average benefits and replacement rates, by scheme
  (ILC 2021 para. 15(c): gender equality; R202 para. 3(d), 21).

The costs (:func:`cost_variables`) read the results Dataset. Coverage, replacement rates
and the gender gaps need what the Dataset does not hold (persons by coverage group, benefits
in payment and insured earnings by sex, earnings by age) and take the engine's output, as
the assembly of the Dataset does. Every variable takes its dims and attrs from the results
registry (:mod:`spfsim.results.registry`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from .economy import EconomicProjection
from .engine.benefits import COVERAGE_GROUPS, WORKING_AGES
from .engine.flows import BRANCHES, SchemeFlows, sum_inner
from .equity import gender_gap
from .params import Assumptions
from .results.registry import variables

#: The working ages of the coverage indicators, as the long names give them.
WORKING_AGE_RANGE = f"{WORKING_AGES[0]}-{WORKING_AGES[1]}"

#: Indicators along the ``gap`` dimension of ``gender_gap``.
GENDER_GAPS = ("contributor_coverage", "average_benefit", "replacement_rate")


def _ratio(num, den) -> np.ndarray:
    num, den = np.asarray(num, float), np.asarray(den, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def coverage_variables(coverage: np.ndarray) -> dict[str, xr.Variable]:
    """Coverage by guarantee from (year, age, sex, group, 2: target, covered) persons."""
    by_sex = sum_inner(coverage, 1)  # (year, sex, group, 2)
    total = by_sex.sum(axis=1)
    return variables({}, coverage_target=by_sex[..., 0], coverage_covered=by_sex[..., 1],
                     coverage_rate=_ratio(total[..., 1], total[..., 0]),
                     coverage_rate_by_sex=_ratio(by_sex[..., 1], by_sex[..., 0]))


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


def _cost_by_guarantee(guarantees: list[str], by_branch: np.ndarray,
                       cost: np.ndarray) -> np.ndarray:
    """(year, guarantee) cost, benefits and administration, from each scheme's guarantee,
    its (year, branch, scheme) benefit expenditure by branch and its (year, scheme) cost.
    A contributory pension's disability branch counts for the disability guarantee, its
    other branches (old age, survivors, refunds) for old age, administration in
    proportion; along ``guarantee``, any_cash holds the cost of every cash benefit (all
    but health care)."""
    out = np.zeros((cost.shape[0], len(COVERAGE_GROUPS)))
    index = {g: i for i, g in enumerate(COVERAGE_GROUPS)}
    for j, name in enumerate(guarantees):
        share = {name: np.ones(cost.shape[0])}
        branches = by_branch[:, :, j]
        if name == "old_age" and branches.any():  # a contributory pension's branches
            disability = _ratio(branches[:, BRANCHES.index("disability")],
                                branches.sum(axis=1))
            disability = np.nan_to_num(disability)
            share = {"old_age": 1.0 - disability, "disability": disability}
        for guarantee, part in share.items():
            if guarantee in index:
                out[:, index[guarantee]] += cost[:, j] * part
        if name != "health":
            out[:, index["any_cash"]] += cost[:, j]
    return out


def cost_variables(ds: xr.Dataset | Mapping[str, xr.Variable],
                   money: str) -> dict[str, xr.Variable]:
    """Average benefit and cost indicators by scheme and by guarantee, from the results
    Dataset's expenditure, beneficiaries, benefit expenditure by branch, the schemes'
    guarantees (``scheme_guarantee``), GDP, the poverty line and government revenue (a
    Dataset, or its variables by name); ``money``: the currency units of its money ("LCU
    (nominal)")."""
    def values(name: str, *dims: str) -> np.ndarray:
        return np.asarray(ds[name].transpose(*dims).values, dtype=float)

    benefits = values("benefit_expenditure", "year", "scheme")
    cost = benefits + values("admin_expenditure", "year", "scheme")
    persons = values("beneficiaries", "year", "age", "sex", "scheme").sum(axis=(1, 2))
    average = _ratio(benefits, persons)
    by_guarantee = _cost_by_guarantee(
        [str(g) for g in ds["scheme_guarantee"].values],
        values("benefit_expenditure_by_branch", "year", "branch", "scheme"), cost)
    gdp, revenue = values("gdp", "year")[:, None], values("government_revenue", "year")[:, None]
    return variables(
        {"money": money}, average_benefit=average,
        benefit_to_poverty_line=average / values("poverty_line", "year")[:, None],
        cost_to_revenue=cost / revenue, expenditure_by_guarantee=by_guarantee,
        cost_to_gdp_by_guarantee=by_guarantee / gdp,
        cost_to_revenue_by_guarantee=by_guarantee / revenue)


def _in_payment(f: SchemeFlows) -> tuple[np.ndarray, np.ndarray]:
    """(year, sex) expenditure on benefits in payment and their number: a pension's lump
    sums (refunds) and their recipients left out."""
    spent, persons = f.expenditure_by_sex, sum_inner(f.beneficiaries, 1)
    if f.lump_sums_by_age is not None:
        spent = spent - sum_inner(f.lump_sums_by_age, 1)
    if f.branch_beneficiaries is not None:
        persons = persons - sum_inner(f.branch_beneficiaries[..., BRANCHES.index("refunds")], 1)
    return spent, persons


def replacement_rate_variables(assumptions: Assumptions, econ: EconomicProjection,
                               flows: list[SchemeFlows]) -> dict[str, xr.Variable]:
    """Benefit ratio and replacement rate of new awards, by sex, for contributory schemes,
    from the engine's flows (benefits in payment by sex, new awards), the insured earnings
    and a covered worker's earnings one year below each year's pensionable age."""
    n = assumptions.n_years
    ratio = np.full((n, 2, len(flows)), np.nan)
    new_rate = np.full((n, 2, len(flows)), np.nan)
    years = np.arange(n)
    for j, (scheme, f) in enumerate(zip(assumptions.schemes, flows, strict=True)):
        if f.expenditure_by_sex is None or f.insured_earnings.sum() <= 0:
            continue
        average_insured = _ratio(f.insured_earnings, f.contributors.sum(axis=(1, 2)))
        ratio[:, :, j] = _ratio(*_in_payment(f)) / average_insured[:, None]
        if "retirement_age" in scheme.params:
            final_age = np.clip(scheme["retirement_age"].astype(int) - 1, 0, 100)
            final = econ.earnings[years[:, None], final_age, [0, 1]]
            new_rate[:, :, j] = _ratio(f.new_benefit_amount, f.new_beneficiaries) / final
    return variables({}, benefit_ratio=ratio, replacement_rate_new=new_rate)


def fiscal_space_variables(state_transfer: np.ndarray, gdp: np.ndarray,
                           envelope: np.ndarray | None, money: str) -> dict[str, xr.Variable]:
    """What the state budget pays for social protection, against the fiscal envelope
    (ILC 2021 para. 15(a), (g): fiscal space; R202 para. 11).

    ``state_transfer`` (year, scheme) is the Dataset's variable of that name, currency per
    year: for a scheme without a fund it is benefits + administration - contributions (the
    budget pays what falls due), for a funded scheme the state subsidy, the state's
    contribution and any deficit cover. Its sum over schemes is therefore the whole budget
    cost, each payment counted once: the state's contribution is not also in
    ``contribution_income``, and the non-contributory benefits are not added again. The
    caller leaves out the income tax on benefits passed on to a fund
    (``benefit_tax_income``): no budget pays it.
    ``gdp`` (year,) is in currency; ``envelope`` (year,) the share of GDP the government
    states it can devote to social protection (NaN or None: not given).

    Variables: ``state_cost`` (year, currency per year), ``state_cost_to_gdp`` (year,
    fraction of GDP), ``fiscal_envelope`` (year, fraction of GDP), ``financing_gap`` (year,
    currency per year: state_cost - envelope x GDP, positive when the envelope falls short)
    and ``financing_gap_to_gdp`` (year, fraction of GDP); the last three NaN without an
    envelope.
    """
    state_cost = np.asarray(state_transfer, dtype=float).sum(axis=1)
    gdp = np.asarray(gdp, dtype=float)
    share = np.full(gdp.shape, np.nan) if envelope is None else np.broadcast_to(
        np.asarray(envelope, dtype=float), gdp.shape)
    gap = state_cost - share * gdp
    return variables({"money": money}, state_cost=state_cost,
                     state_cost_to_gdp=_ratio(state_cost, gdp), fiscal_envelope=share,
                     financing_gap=gap, financing_gap_to_gdp=_ratio(gap, gdp))


def gender_variables(flows: list[SchemeFlows], population: np.ndarray,
                     money: str) -> dict[str, xr.Variable]:
    """Indicators by sex and their gender gaps, by scheme (ILC 2021 para. 15(c): gender
    equality; R202 para. 3(d), 21: statistics disaggregated by sex).

    ``population`` is (year, age, sex), persons at 1 July. By sex (year, sex, scheme):

    - ``contributor_coverage_by_sex``: contributors of any age / population aged 15-64
      (the working ages of the coverage indicators, ``WORKING_AGES``), fraction; NaN for
      schemes without contributors (non-contributory);
    - ``average_benefit_by_sex``: benefit expenditure / beneficiaries, currency per
      beneficiary per year (a pension's average covers all its branches: old age,
      disability, survivors); NaN without beneficiaries;
    - ``average_insured_earnings_by_sex``: insured earnings / contributors, currency per
      contributor per year, where the engine reports insured earnings by sex (contributory
      schemes); NaN elsewhere;
    - ``replacement_rate_by_sex``: average benefit / average insured earnings of the same
      sex, fraction; where insured earnings are not reported by sex, the average insured
      earnings of all contributors stand in for both sexes, so the gap then equals the
      average-benefit gap.

    ``gender_gap`` (year, scheme, gap): (men - women) / men of each (``GENDER_GAPS``), a
    fraction (0.25: women 25 % below men; negative: women above), NaN where undefined.
    """
    n_years, n_schemes = population.shape[0], len(flows)
    ages = np.arange(population.shape[1])
    working = (ages >= WORKING_AGES[0]) & (ages <= WORKING_AGES[1])
    working_population = sum_inner(population[:, working, :], 1)  # (year, sex)
    shape = (n_years, 2, n_schemes)
    coverage, benefit, earnings, replacement = (np.full(shape, np.nan) for _ in range(4))
    for j, f in enumerate(flows):
        if f.expenditure_by_sex is not None:
            benefit[:, :, j] = _ratio(f.expenditure_by_sex, sum_inner(f.beneficiaries, 1))
        contributors = sum_inner(f.contributors, 1)  # (year, sex)
        if f.insured_earnings.sum() <= 0:
            continue  # no contributory insurance: coverage and replacement undefined
        coverage[:, :, j] = _ratio(contributors, working_population)
        if f.insured_by_age is not None:
            earnings[:, :, j] = _ratio(sum_inner(f.insured_by_age, 1), contributors)
            replacement[:, :, j] = benefit[:, :, j] / earnings[:, :, j]
        else:
            average = _ratio(f.insured_earnings, contributors.sum(axis=1))
            replacement[:, :, j] = benefit[:, :, j] / average[:, None]
    gaps = np.stack([gender_gap(x[:, 0, :], x[:, 1, :])
                     for x in (coverage, benefit, replacement)], axis=-1)
    return variables({"money": money, "working_ages": WORKING_AGE_RANGE},
                     contributor_coverage_by_sex=coverage, average_benefit_by_sex=benefit,
                     average_insured_earnings_by_sex=earnings,
                     replacement_rate_by_sex=replacement, gender_gap=gaps)
