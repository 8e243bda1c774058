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
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .economy import EconomicProjection
from .engine.benefits import COVERAGE_GROUPS, WORKING_AGES
from .engine.flows import BRANCHES, SchemeFlows
from .equity import gender_gap
from .params import Assumptions

#: Indicators along the ``gap`` dimension of ``gender_gap``.
GENDER_GAPS = ("contributor_coverage", "average_benefit", "replacement_rate")


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


def _in_payment(f: SchemeFlows) -> tuple[np.ndarray, np.ndarray]:
    """(year, sex) expenditure on benefits in payment and their number: a pension's lump
    sums (refunds) and their recipients left out."""
    spent, persons = f.expenditure_by_sex, f.beneficiaries.sum(axis=1)
    if f.lump_sums_by_age is not None:
        spent = spent - f.lump_sums_by_age.sum(axis=1)
    if f.branch_beneficiaries is not None:
        persons = persons - f.branch_beneficiaries[..., BRANCHES.index("refunds")].sum(axis=1)
    return spent, persons


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
        ratio[:, :, j] = _ratio(*_in_payment(f)) / average_insured[:, None]
        if "retirement_age" in scheme.params:
            final_age = np.clip(scheme["retirement_age"].astype(int) - 1, 0, 100)
            final = econ.earnings[years[:, None], final_age, [0, 1]]
            new_rate[:, :, j] = _ratio(f.new_benefit_amount, f.new_beneficiaries) / final
    dims = ("year", "sex", "scheme")
    return {
        "benefit_ratio": _var(dims, ratio, "fraction", "average pension in payment (every "
                              "branch; lump-sum refunds and their recipients left out) / "
                              "average insured earnings of contributors"),
        "replacement_rate_new": _var(dims, new_rate, "fraction",
                                     "average new pension / annual earnings of a covered "
                                     "worker one year below the pensionable age"),
    }


def fiscal_space_variables(state_transfer: np.ndarray, gdp: np.ndarray,
                           envelope: np.ndarray | None, money: str) -> dict[str, xr.Variable]:
    """What the state budget pays for social protection, against the fiscal envelope
    (ILC 2021 para. 15(a), (g): fiscal space; R202 para. 11).

    ``state_transfer`` (year, scheme) is the Dataset's variable of that name, currency per
    year: for a scheme without a fund it is benefits + administration - contributions (the
    budget pays what falls due), for a funded scheme the state subsidy, the state's
    contribution and any deficit cover. Its sum over schemes is therefore the whole budget
    cost, each payment counted once: the state's contribution is not also in
    ``contribution_income``, and the non-contributory benefits are not added again.
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
    y = ("year",)
    return {
        "state_cost": _var(y, state_cost, f"{money} per year",
                           "cost of social protection to the state budget: benefits and "
                           "administration of schemes without a fund, and every state "
                           "transfer to funded schemes (subsidies, state contributions, "
                           "deficit cover)"),
        "state_cost_to_gdp": _var(y, _ratio(state_cost, gdp), "fraction",
                                  "cost of social protection to the state budget / GDP"),
        "fiscal_envelope": _var(y, share, "fraction",
                                "fiscal envelope: share of GDP the government states it can "
                                "devote to social protection (NaN: not given)"),
        "financing_gap": _var(y, gap, f"{money} per year",
                              "financing gap: state cost - fiscal envelope x GDP (positive: "
                              "the envelope falls short; NaN: no envelope given)"),
        "financing_gap_to_gdp": _var(y, _ratio(gap, gdp), "fraction",
                                     "financing gap / GDP (positive: the envelope falls "
                                     "short; NaN: no envelope given)"),
    }


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
    working_population = population[:, working, :].sum(axis=1)  # (year, sex)
    shape = (n_years, 2, n_schemes)
    coverage, benefit, earnings, replacement = (np.full(shape, np.nan) for _ in range(4))
    for j, f in enumerate(flows):
        if f.expenditure_by_sex is not None:
            benefit[:, :, j] = _ratio(f.expenditure_by_sex, f.beneficiaries.sum(axis=1))
        contributors = f.contributors.sum(axis=1)  # (year, sex)
        if f.insured_earnings.sum() <= 0:
            continue  # no contributory insurance: coverage and replacement undefined
        coverage[:, :, j] = _ratio(contributors, working_population)
        if f.insured_by_age is not None:
            earnings[:, :, j] = _ratio(f.insured_by_age.sum(axis=1), contributors)
            replacement[:, :, j] = benefit[:, :, j] / earnings[:, :, j]
        else:
            average = _ratio(f.insured_earnings, contributors.sum(axis=1))
            replacement[:, :, j] = benefit[:, :, j] / average[:, None]
    gaps = np.stack([gender_gap(x[:, 0, :], x[:, 1, :])
                     for x in (coverage, benefit, replacement)], axis=-1)
    dims = ("year", "sex", "scheme")
    return {
        "contributor_coverage_by_sex": _var(
            dims, coverage, "fraction",
            f"contributors / population aged {WORKING_AGES[0]}-{WORKING_AGES[1]}, by sex "
            "(NaN: scheme without contributors)"),
        "average_benefit_by_sex": _var(dims, benefit, f"{money} per beneficiary per year",
                                       "benefit expenditure / beneficiaries, by sex"),
        "average_insured_earnings_by_sex": _var(
            dims, earnings, f"{money} per contributor per year",
            "insured earnings / contributors, by sex (NaN: not reported by sex)"),
        "replacement_rate_by_sex": _var(
            dims, replacement, "fraction",
            "average benefit in payment / average insured earnings of contributors of the "
            "same sex (of all contributors where earnings by sex are not reported)"),
        "gender_gap": _var(("year", "scheme", "gap"), gaps, "fraction",
                           "gender gap (men - women) / men in contributor coverage, average "
                           "benefit and replacement rate (positive: women below men)"),
    }
