"""Cohort engine: expected values by age x sex (x credited-service class).

The contributory pension's state (:mod:`.cohort_state`: shares of each age x sex cell by
contribution status and credited-service class, with their credits and pensions) moves
each year by the transitions of :mod:`.cohort_transitions` and :mod:`.cohort_survivors`;
this module builds the pension's yearly inputs (:func:`pension_years`, both engines use
them), reconstructs the base-year state, runs the schemes and gathers their flows.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable

import numpy as np

from ..demography import DemographicProjection, partnerships
from ..economy import EconomicProjection
from ..errors import SpfsimError
from ..params import AGES, Assumptions, CompiledScheme
from ..schemes import CONTRIBUTORY, NON_CONTRIBUTORY, SCHEME_TYPES
from ..schemes import db_pension as dbp
from ..schemes import pension_rules as rules
from ..schemes.base import admin_expenditure
from . import cohort_kernels as kernels
from . import cohort_loop
from .benefits import (
    UnemploymentQualification,
    benefit_rules,
    cell_states,
    contribution_classes,
    insurable_earnings,
    top_up_floor,
    unemployment_qualification,
)
from .cohort_benefit_kernels import cohort_benefits
from .cohort_record import PensionRecord
from .cohort_state import PensionState
from .cohort_transitions import (
    CONTRIBUTING,
    MAX_SERVICE,
    NC_DISABLED,
    NC_INACTIVE,
    NC_INFORMAL,
    NC_UNEMPLOYED,
    NOT_CONTRIBUTING,
    SERVICE,
    _labour_states,
    aligned_persistence,
    contribution_transitions,
    retirement_choice,
)
from .cohort_year import DependantRules, PensionYear, SurvivorRules
from .flows import BRANCHES, SchemeFlows, sum_inner

__all__ = ["AGES", "CONTRIBUTING", "MAX_SERVICE", "NC_DISABLED", "NC_INACTIVE", "NC_INFORMAL",
           "NC_UNEMPLOYED", "NOT_CONTRIBUTING", "SERVICE", "PensionState", "PensionYear",
           "SurvivorRules", "_labour_states", "aligned_persistence", "base_year_state",
           "benefit_flows", "contribution_transitions", "death_rates", "pension_flows",
           "pension_inputs", "pension_years", "retirement_choice", "retirement_options",
           "run_db_pension", "run_schemes"]


def _density(econ: EconomicProjection, population: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(population > 0, econ.covered / population, 0.0)


def _check_coverable(scheme: CompiledScheme, years: np.ndarray, density: np.ndarray) -> None:
    """Refuse a never-covered share that leaves fewer persons coverable than the labour
    projection's covered workers (year, age, sex ``density`` of the population): nobody
    never covered can fill them, in either engine."""
    covered = scheme.covered_shares(years)
    if covered is None:
        return
    over = density > covered + 1e-12
    if not over.any():
        return
    k, age, sex = (int(i[0]) for i in np.nonzero(over))
    raise SpfsimError(
        f"scheme '{scheme.id}': field never_covered_share leaves {covered[k, age, sex]:.4g} "
        f"of the {('men', 'women')[sex]} born in {int(years[k]) - age} coverable, but the "
        f"labour projection has {density[k, age, sex]:.4g} of them (aged {age} in "
        f"{int(years[k])}) in covered employment; lower never_covered_share for that "
        f"cohort (value: {1.0 - covered[k, age, sex]:.4g}), or the coverage "
        f"({int(over.sum())} cells of year x age x sex exceed it)")


def _linked_children(scheme: CompiledScheme, assumptions: Assumptions,
                     demo: DemographicProjection, couples: np.ndarray,
                     forming: np.ndarray, ages: int = 0) -> np.ndarray:
    """(year, group, sex, age, k) a parent's expected children aged k below the highest
    orphan age limit (or ``ages`` more), linked to them at their birth and while both
    stay, per person and per partnered person (demography.partnerships.linked_children),
    from the base year's children of each mother (her current partner their father)."""
    limit = int(np.max(scheme["orphan_age_limit"])) + ages
    base = dbp.children_by_mother_age(
        assumptions.asfr[0], limit,
        dbp.children_scale(assumptions.asfr[0], demo.population[0], limit))
    return partnerships.linked_children(couples, demo.population, assumptions.asfr, base,
                                        forming, assumptions.families["separation"])


def pension_years(scheme: CompiledScheme, assumptions: Assumptions,
                  demo: DemographicProjection,
                  econ: EconomicProjection) -> Callable[[int], PensionYear]:
    """The pension's inputs for year index k (both engines use them)."""
    n = assumptions.n_years
    density = _density(econ, demo.population)
    nxt = np.minimum(np.arange(n) + 1, n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        newcomers = np.clip(np.where(demo.population[nxt] > 0,
                                     np.maximum(demo.net_migration, 0.0)
                                     / demo.population[nxt], 0.0), 0.0, 1.0)

    weights: dict[tuple, np.ndarray] = {}  # partner-age weights by their parameters
    from_families = scheme.choices.get("survivor_partners") == "families"
    couples, forming = (partnerships.project_partnerships(demo.population,
                                                          assumptions.families)
                        if from_families else (None, None))
    linked = (_linked_children(scheme, assumptions, demo, couples, forming)
              if from_families else None)
    # a living pensioner's children, aged to the orphans' limit and one more, the families'
    # (when the supplements are paid at all)
    paid = np.any(scheme["dependant_spouse_share"] > 0) or np.any(
        scheme["dependant_child_share"] > 0)
    linked_living = (_linked_children(scheme, assumptions, demo, couples, forming, 1)[:, 0]
                     if from_families and paid else None)
    # the inputs that are cell by cell the same rule every year, for all years at once
    # (the same arithmetic, elementwise)
    earnings = dbp.insurable(econ.earnings, _by_year(scheme["earnings_floor"]),
                             _by_year(scheme["earnings_ceiling"]),
                             assumptions.earnings_yearly_sd)
    dying = death_rates(demo.survival)
    labour_target = econ.non_contributing(slice(None), demo.population)
    _check_coverable(scheme, assumptions.years, density)
    # next year's cells' cohorts: those who join the members by birth or immigration
    covered = scheme.covered_shares(assumptions.years + 1)

    def partners(k: int) -> tuple[np.ndarray, np.ndarray]:
        """(married by sex, partner weights (sex, x, y)) of year k."""
        if from_families:
            return np.ones(2), partnerships.partner_weights(
                couples[k], demo.population[k], demo.population[nxt[k]])
        key = (*np.asarray(scheme["spouse_age_difference"][k]).astype(int).tolist(),
               float(scheme["spouse_age_spread"][k]))
        if key not in weights:
            weights[key] = dbp.partner_age_weights(key[:2], key[2])
        return np.asarray(scheme["married_share"][k], dtype=float), weights[key]

    def survivors(k: int) -> SurvivorRules:
        married, partner_weights = partners(k)
        return SurvivorRules(
            spouse_share=float(scheme["survivor_pension_share"][k]),
            orphan_share=float(scheme["orphan_pension_share"][k]),
            orphan_age_limit=int(scheme["orphan_age_limit"][k]),
            married=married, partner_weights=partner_weights,
            end_rate=float(scheme["survivor_end_rate"][k]),
            minimum_service=float(scheme["survivor_minimum_service"][k]),
            death_rate=dying[k], asfr=assumptions.asfr[k],
            p_male=float(assumptions.srb[k] / (1.0 + assumptions.srb[k])),
            population=demo.population[k], next_population=demo.population[nxt[k]],
            maximum_share=float(scheme["survivor_maximum_share"][k]), linked=from_families,
            partnering=forming[k] if from_families and k else None,
            past_partnering=forming[min(1, n - 1)] if from_families and not k else None,
            linked_children=linked[k] if from_families else None,
            child_scale=dbp.children_scale(assumptions.asfr[k], demo.population[k],
                                           int(scheme["orphan_age_limit"][k])),
            dual_entitlement=scheme.choices.get("survivor_with_own_pension") == "higher",
            payment_spread=float(scheme["pensions_in_payment_spread"][k]),
            minimum_age=int(scheme["survivor_minimum_age"][k]))

    def dependants(k: int) -> DependantRules | None:
        spouse_share = float(scheme["dependant_spouse_share"][k])
        child_share = float(scheme["dependant_child_share"][k])
        if spouse_share <= 0 and child_share <= 0:
            return None
        ages = int(scheme["orphan_age_limit"][k]) + 1  # children aged 0 to the limit
        if from_families:  # the partners of 1 July and the children linked to each parent
            married = np.ones(2)
            partner_weights = partnerships.partner_weights(couples[k], demo.population[k],
                                                           None)
            children = linked_living[k][..., :ages]
        else:  # by the mother's fertility, a father's his partner's
            _, partner_weights = partners(k)
            married = np.asarray(scheme["dependant_partner_share"][k], dtype=float)
            children = dbp.children_by_parent_age(
                assumptions.asfr[k], partner_weights, ages,
                dbp.children_scale(assumptions.asfr[k], demo.population[k], ages))
        return DependantRules(
            spouse_share=spouse_share, child_share=child_share,
            maximum_share=float(scheme["dependants_maximum_share"][k]),
            spouse_age=int(scheme["dependant_spouse_age"][k]), married=married,
            partner_weights=partner_weights, children=children,
            p_male=float(assumptions.srb[k] / (1.0 + assumptions.srb[k])),
            population=demo.population[k],
            dual_entitlement=scheme.choices.get("survivor_with_own_pension") == "higher",
            payment_spread=float(scheme["pensions_in_payment_spread"][k]))

    best = dbp.selects_best_years(scheme)

    def career_caps(k: int) -> np.ndarray | None:
        """Year k's yearly caps of the ceiling for the award with the earnings spread
        (None without a ceiling or a spread: the ceiling on the average as a whole)."""
        ceiling, sd = float(scheme["earnings_ceiling"][k]), assumptions.earnings_permanent_sd
        if ceiling <= 0 or sd <= 0:
            return None
        years = dbp.award_years_by_age(int(scheme["reference_earnings_years"][k]),
                                       dbp.pension_formula(scheme, k), len(econ.earnings[k]))
        return dbp.career_caps(econ.earnings[k], density[k], ceiling, sd,
                               assumptions.earnings_transitory_sd, years, best)

    # the growth of the years before the base year, for the formula applied at an
    # eligibility age before it (None: at the base year's rates)
    past = past_growth(scheme, assumptions, np.arange(int(scheme["start_year"][0]),
                                                      int(assumptions.years[0])))

    def inputs(k: int) -> PensionYear:
        return PensionYear(
            density=density[k], persistence=scheme["contribution_persistence"][k],
            earnings=earnings[k],
            spread=assumptions.earnings_permanent_sd,
            retirement_age=scheme.retirement_age_grid[k],
            minimum_service=scheme["minimum_service"][k], formula=dbp.pension_formula(scheme, k),
            career_caps=career_caps(k),
            minimum_pension=scheme["minimum_pension"][k],
            maximum_pension=scheme["maximum_pension"][k],
            **retirement_options(scheme, k, scheme.retirement_age_grid[k],
                                 scheme.exact_retirement_ages(k)),
            award_indexing=_award_indexing(scheme, k, past),
            open_weights=demo.population[k][-2:], newcomer_share=newcomers[k],
            # the base-year state is already in base-year terms
            revaluation=scheme.index_growth["earnings_revaluation"][k] if k else 0.0,
            indexation=scheme.index_growth["pension_indexation"][k] if k else 0.0,
            incidence=assumptions.invalidity_incidence[k],
            disability_minimum_service=scheme["disability_minimum_service"][k],
            recovery_rate=scheme["disability_recovery_rate"][k], survivors=survivors(k),
            care_probability=dbp.care_credit_probability(
                assumptions.asfr[k], int(scheme["care_credit_child_age"][k]),
                demo.population[k]),
            refund_share=float(scheme["refund_share"][k]),
            contribution_rate=float(scheme["contribution_rate"][k]),
            care_credit=float(scheme["care_credit_earnings"][k] * econ.average_earnings[k]),
            care_insured_only=scheme.choices["care_credit_eligibility"] == "insured",
            death_rate=dying[k],
            invalid_mortality=float(scheme["disability_mortality_factor"][k]),
            reference_years=int(scheme["reference_earnings_years"][k]),
            best_years=best,
            best_years_sd=assumptions.earnings_transitory_sd if best else 0.0,
            labour_target=labour_target[k],
            labour_persistence=assumptions.labour_persistence,
            covered_share=None if covered is None else covered[k],
            dependants=dependants(k))

    return inputs


def pension_inputs(scheme: CompiledScheme, assumptions: Assumptions,
                   demo: DemographicProjection, econ: EconomicProjection
                   ) -> tuple[int, Callable[[int], PensionYear]]:
    """A contributory pension's contribution classes (:class:`PensionState`) and yearly
    inputs (:func:`pension_years`), as :func:`run_schemes` builds them: for tools and
    tests that follow the pension's state themselves."""
    rules = benefit_rules(assumptions, econ)
    classes = contribution_classes(scheme, unemployment_qualification(rules))
    return classes, pension_years(scheme, assumptions, demo, econ)


def retirement_options(scheme: CompiledScheme, k: int, retirement_age: np.ndarray,
                       exact_age: np.ndarray | None = None) -> dict:
    """PensionYear fields of early and late retirement for year k (none when unused, so
    that the default schedule keeps its exact arithmetic): ``retirement_age`` the (age,
    sex) whole pensionable ages, ``exact_age`` the same in years and months (None: whole)."""
    early, defer = float(scheme["early_retirement_rate"][k]), float(scheme["deferral_rate"][k])
    if early <= 0 and defer <= 0:
        return {}
    probability, factor = dbp.retirement_schedule(
        AGES[:, None], retirement_age, scheme["early_retirement_age"][k], early,
        scheme["early_reduction"][k], defer, scheme["latest_retirement_age"][k],
        scheme["late_increment"][k], exact_age,
        float(scheme["early_reduction_years"][k]), float(scheme["early_reduction_after"][k]))
    return {"retire_probability": probability, "retire_factor": factor}


def past_growth(scheme: CompiledScheme, assumptions: Assumptions, years: np.ndarray
                ) -> dict[str, np.ndarray] | None:
    """The growth during each of ``years`` before the base year (the model's
    economic_history, Assumptions.past_series_growth) of the average wage, of prices and
    of each of the scheme's indices (CompiledScheme.index_growth's names); None without
    an economic_history table, where every past year grows at the base year's rates."""
    if assumptions.economic_history is None:
        return None
    series = assumptions.past_series_growth(years)
    return {**series, **{name: index.growth(series, len(years))
                         for name, index in scheme.indexations.items()}}


def _award_indexing(scheme: CompiledScheme, k: int,
                    past: dict[str, np.ndarray] | None = None) -> np.ndarray | None:
    """PensionYear.award_indexing of year k (None where the formula applies at award,
    so that those schemes keep their exact arithmetic), the years before the base year
    at ``past``'s rates (:func:`past_growth`; None: at the base year's)."""
    age = int(scheme["eligibility_age"][k])
    if age <= 0:
        return None
    indexation = scheme.index_growth["pension_indexation"]
    revaluation = scheme.index_growth["earnings_revaluation"]
    if past is not None:
        k = k + len(past["prices"])
        indexation = np.concatenate([past["pension_indexation"], indexation])
        revaluation = np.concatenate([past["earnings_revaluation"], revaluation])
    return dbp.award_indexing(AGES, age, k, indexation, revaluation)[:, None]


def death_rates(survival: np.ndarray) -> np.ndarray:
    """([year,] age, sex) probability of dying during the step by age at its start, from
    the projection's survival ratios by age at its end (the open group survives within
    itself)."""
    q = np.empty_like(survival)
    q[..., :-1, :] = 1.0 - survival[..., 1:, :]
    q[..., -1, :] = 1.0 - survival[..., -1, :]
    return q


def _by_year(values: np.ndarray) -> np.ndarray:
    """A parameter's values by year (year,) broadcast over the (age, sex) cells."""
    return np.asarray(values, dtype=float)[:, None, None]


def run_db_pension(scheme: CompiledScheme, assumptions: Assumptions,
                   demo: DemographicProjection, econ: EconomicProjection,
                   contribution_classes: int = 1,
                   base_states: dict[str, PensionState] | None = None,
                   floor: np.ndarray | None = None,
                   unemployment: UnemploymentQualification | None = None) -> SchemeFlows:
    """Expected contributors, pensioners and cash flows of a DB old-age pension
    (``contribution_classes``: see :class:`PensionState`), with what the non-contributory
    rules read of each cell (:func:`~spfsim.engine.benefits.cell_states`): its pensioners,
    those below a top-up ``floor`` (year, age, sex) and their gap to it, and the part of
    its unemployed who qualify for ``unemployment`` insurance.

    ``base_states``: a cache of base-year states by scheme id, for projections that share
    the base year's assumptions and differ only after it (the draws and variants of a
    stochastic projection): the state is reconstructed once and a copy of it starts each
    projection."""
    n = assumptions.n_years
    inputs = pension_years(scheme, assumptions, demo, econ)
    if base_states is None:
        state = base_year_state(scheme, assumptions, inputs(0), contribution_classes)
    else:
        if scheme.id not in base_states:
            base_states[scheme.id] = base_year_state(scheme, assumptions, inputs(0),
                                                     contribution_classes)
        state = copy.deepcopy(base_states[scheme.id])
    qualifies = (None if unemployment is None or unemployment.minimum_service > MAX_SERVICE
                 else unemployment.qualifies(contribution_classes))
    record = PensionRecord(n, demo.population.shape[1:], floor, qualifies)
    years = [inputs(k) for k in range(n)]
    if kernels.COMPILED and cohort_loop.supported(years):  # the years in one call
        cohort_loop.project_years(state, record, years, demo.population)
    else:
        for k, y in enumerate(years):
            new_share, new_total = state.step(y)
            record.record(k, state, demo.population[k], y.earnings, new_share, new_total,
                          y.survivors, y.dependants)
            state.advance(y)
    return pension_flows(scheme, record.contributors, record.beneficiaries, record.new_count,
                         record.new_amount, record.insured, record.paid,
                         record.service_awarded,
                         working=(econ.covered, insurable_earnings(
                             scheme, econ, scheme, assumptions.earnings_yearly_sd)),
                         lump_sums_by_age=record.refunds,
                         active_share=record.active, pensioner_share=record.pensioned,
                         never_covered_share=_never_covered_working(scheme,
                                                                    assumptions.years),
                         low_pension_share=None if record.low is None else record.low[0],
                         low_pension_gap=None if record.low is None else record.low[1],
                         insured_unemployed_fraction=record.insured_unemployed,
                         survivors_by_kind=record.survivors,
                         dependants_by_kind=record.dependants,
                         branch_beneficiaries=record.branch_persons,
                         branch_expenditure=record.branch_money)


def _never_covered_working(scheme: CompiledScheme, years: np.ndarray) -> np.ndarray | None:
    """(year, age, sex) share of each cell never in the scheme's covered employment and
    below the pensionable age, in the labour market as the members are (None: nobody)."""
    covered = scheme.covered_shares(years)
    if covered is None:
        return None
    return np.where(AGES[None, :, None] < scheme.retirement_age_grid, 1.0 - covered, 0.0)


def working_pensioners(scheme: CompiledScheme, covered: np.ndarray, contributors: np.ndarray,
                       old_age: np.ndarray) -> np.ndarray:
    """(year, age, sex) old-age pensioners who keep working in covered employment and pay
    contributions, where the scheme says they do (``working_pensioners = "contribute"``):
    the labour table's covered workers (``covered``) that the members who have not
    retired (``contributors``) leave unfilled, at most the ``old_age`` pensioners of the
    age. They earn no further credit. Zeros otherwise."""
    if scheme.choices.get("working_pensioners") != "contribute":
        return np.zeros_like(contributors)
    return np.clip(covered - contributors, 0.0, old_age)


def pension_flows(scheme: CompiledScheme, contributors, beneficiaries, new_count, new_amount,
                  insured_by_age, benefits_by_age, service_awarded,
                  working: tuple[np.ndarray, np.ndarray] | None = None,
                  **detail) -> SchemeFlows:
    """A contributory pension's flows (both engines) from its insured earnings and benefits
    paid by (year, age, sex): contributions, the state's contribution, administration by
    its basis. ``working``: (covered workers, insurable earnings per covered worker), both
    (year, age, sex), from which pensioners who keep working contribute
    (:func:`working_pensioners`; needs ``branch_beneficiaries`` in ``detail``)."""
    if working is not None:
        covered, insurable = working
        old_age = detail["branch_beneficiaries"][..., BRANCHES.index("old_age")]
        extra = working_pensioners(scheme, covered, contributors, old_age)
        contributors = contributors + extra
        insured_by_age = insured_by_age + extra * insurable
        detail["working_pensioners"] = extra
    insured = insured_by_age.sum(axis=(1, 2))
    by_sex = sum_inner(benefits_by_age, 1)
    expenditure = by_sex.sum(axis=1)
    rate = scheme["contribution_rate"]
    income = dbp.contributions(rate, insured)
    return SchemeFlows(
        scheme.id, CONTRIBUTORY, contributors, beneficiaries, new_count, new_amount, insured,
        income, expenditure, dbp.admin_costs(scheme, expenditure, income),
        scheme["state_subsidy_rate"].copy(), float(scheme["initial_reserve"][0]),
        service_awarded, by_sex,
        state_contribution=dbp.contributions(scheme["state_contribution_rate"], insured),
        insured_by_age=insured_by_age,
        contributions_by_age=dbp.contributions(rate[:, None, None], insured_by_age),
        benefits_by_age=benefits_by_age, **detail)


def recent_years(scheme: CompiledScheme, assumptions: Assumptions) -> int:
    """How many credited years a state must keep: the longest reference period, and
    pension_rules.BEST_EXTRA_YEARS more for the best years' transitory gain."""
    years = dbp.kept_years(scheme)
    if years and dbp.selects_best_years(scheme) and assumptions.earnings_transitory_sd > 0.0:
        years += rules.BEST_EXTRA_YEARS
    return years


def base_year_state(scheme: CompiledScheme, assumptions: Assumptions,
                    base: PensionYear, contribution_classes: int = 1) -> PensionState:
    """Base-year state from contributions since ``start_year``: the share contributing of
    each past year times its contribution_history ratio (at most every member), at the
    base year's earnings by age and rules, taken back to each past year by the growth of
    the average wage (earnings, the formula's amounts) and of prices (the minimum and
    maximum pensions) since, and the credits and pensions of each past year revalued and
    indexed by that year's growth: the economic_history table's (:func:`past_growth`),
    the base year's rates without it."""
    state = PensionState(recent_years=recent_years(scheme, assumptions),
                         contribution_classes=contribution_classes)
    state.career_caps = base.career_caps
    start = int(scheme["start_year"][0])
    base_year = int(assumptions.years[0])
    # each past year's cells' cohorts, from the start year's to the base year's
    covered = scheme.covered_shares(np.arange(start, base_year + 1))
    if covered is not None:
        state.cover_only(covered[0])
    history = _PastYears(scheme, assumptions, start)
    pasts = []
    for year in range(start, base_year):
        wages, prices = history.to_base(year)
        pasts.append(PensionYear(
            density=np.minimum(base.density * assumptions.past_density_ratio(year), 1.0),
            persistence=base.persistence,
            earnings=base.earnings / wages,
            retirement_age=scheme.retirement_ages_before(year),
            minimum_service=base.minimum_service,
            formula=rules.rescaled(base.formula, history.formula_scale(year)),
            minimum_pension=base.minimum_pension / prices,
            maximum_pension=base.maximum_pension / prices,
            spread=base.spread,
            career_caps=base.career_caps,  # relative to the year's earnings: as in the base
            **retirement_options(scheme, 0, scheme.retirement_ages_before(year),
                                 scheme.exact_retirement_ages_before(year)),
            award_indexing=history.award_indexing(year, base.award_indexing),
            open_weights=base.open_weights, newcomer_share=np.zeros_like(base.density),
            revaluation=history.growth("earnings_revaluation", year),
            indexation=history.growth("pension_indexation", year),
            incidence=base.incidence,
            disability_minimum_service=base.disability_minimum_service,
            recovery_rate=base.recovery_rate,
            # a stationary reconstruction: this year's population is next year's
            survivors=None if base.survivors is None else dataclasses.replace(
                base.survivors, next_population=base.survivors.population,
                partnering=base.survivors.past_partnering),
            care_probability=base.care_probability,
            care_credit=base.care_credit / wages,
            care_insured_only=base.care_insured_only,
            contribution_rate=base.contribution_rate,  # refunds are paid from the base year
            death_rate=base.death_rate, invalid_mortality=base.invalid_mortality,
            reference_years=base.reference_years, best_years=base.best_years,
            best_years_sd=base.best_years_sd,
            covered_share=None if covered is None else covered[year + 1 - start]))
    if kernels.COMPILED and pasts and cohort_loop.supported(pasts):
        cohort_loop.project_years(state, None, pasts)  # nothing recorded
    else:
        for past in pasts:
            state.step(past)
            state.advance(past)
    if base.survivors is not None and base.survivors.past_partnering is not None:
        # the last year's widows and widowers met the family events before the base year
        # too: those who formed a new partnership lost the pension
        state.end_spouse_pensions(base.survivors.past_partnering)
    # bring the last reconstructed year's credits and pensions into the base year
    for array in state.earnings_arrays():
        array *= 1.0 + scheme.index_growth["earnings_revaluation"][0]
    for array in (state.pension, state.invalid_pension, state.spouse_pension,
                  state.orphan_pension):
        array *= 1.0 + scheme.index_growth["pension_indexation"][0]
    return state


class _PastYears:
    """The growth of the years from ``start`` to the base year that the base-year state's
    reconstruction takes (:func:`past_growth`; the base year's rates without an
    economic_history table, in the arithmetic that had before it)."""

    def __init__(self, scheme: CompiledScheme, assumptions: Assumptions, start: int):
        self.scheme, self.start = scheme, start
        self.base_year = int(assumptions.years[0])
        self.base = {name: assumptions.series_growth[name][0] for name in ("wages", "prices")}
        self.past = past_growth(scheme, assumptions, np.arange(start, self.base_year))
        if self.past is not None:
            # each past year's index over the base year's: the growth of the years after
            # it, to the base year's own
            self.to_base_index = {}
            for name in ("wages", "prices"):
                after = np.append(self.past[name][1:], self.base[name])
                self.to_base_index[name] = np.cumprod((1.0 + after)[::-1])[::-1]

    def to_base(self, year: int) -> tuple[float, float]:
        """The average wage's and prices' growth from ``year`` to the base year (their
        base-year index over the year's)."""
        if self.past is None:
            lag = self.base_year - year
            return (1.0 + self.base["wages"]) ** lag, (1.0 + self.base["prices"]) ** lag
        j = year - self.start
        return (float(self.to_base_index["wages"][j]),
                float(self.to_base_index["prices"][j]))

    def formula_scale(self, year: int) -> float:
        """The formula's amounts of ``year`` over the base year's: 1 / the average wage's
        growth since (:meth:`to_base`)."""
        if self.past is None:
            return (1.0 + self.base["wages"]) ** (year - self.base_year)
        return 1.0 / self.to_base(year)[0]

    def growth(self, name: str, year: int) -> float:
        """The growth of the scheme's index ``name`` during ``year``."""
        if self.past is None:
            return self.scheme.index_growth[name][0]
        return float(self.past[name][year - self.start])

    def award_indexing(self, year: int, base: np.ndarray | None) -> np.ndarray | None:
        """PensionYear.award_indexing of ``year`` (``base``: the base year's, which stands
        for every past year without the table)."""
        if self.past is None or base is None:
            return base
        age = int(self.scheme["eligibility_age"][0])
        return dbp.award_indexing(AGES, age, year - self.start,
                                  self.past["pension_indexation"],
                                  self.past["earnings_revaluation"])[:, None]


def benefit_flows(scheme: CompiledScheme, beneficiaries: np.ndarray,
                  benefits_by_age: np.ndarray, pension: SchemeFlows | None = None
                  ) -> SchemeFlows:
    """Flows of a rule-paid benefit from its beneficiaries and expenditure, both (year,
    age, sex). Short-term insurance: contributions on the insured earnings of the
    contributory pension's members (``pension``), into a fund; otherwise no contributions,
    financed entirely by the state."""
    n = len(beneficiaries)
    by_sex = sum_inner(benefits_by_age, 1)
    expenditure = by_sex.sum(axis=1)
    if SCHEME_TYPES[scheme.type].KIND == CONTRIBUTORY:
        assert pension is not None
        assert pension.insured_by_age is not None
        rate = scheme["contribution_rate"]
        income = dbp.contributions(rate, pension.insured_earnings)
        return SchemeFlows(
            scheme.id, CONTRIBUTORY, pension.contributors.copy(), beneficiaries,
            np.zeros((n, 2)), np.zeros((n, 2)), pension.insured_earnings.copy(), income,
            expenditure, admin_expenditure(scheme["admin_cost_rate"], expenditure),
            np.zeros(n), float(scheme["initial_reserve"][0]),
            np.zeros((n, 2, MAX_SERVICE + 1)), by_sex,
            insured_by_age=pension.insured_by_age.copy(),
            contributions_by_age=dbp.contributions(rate[:, None, None],
                                                   pension.insured_by_age),
            benefits_by_age=benefits_by_age)
    zeros = np.zeros(n)
    newly = np.zeros((n, 2))
    return SchemeFlows(
        scheme.id, NON_CONTRIBUTORY, np.zeros_like(beneficiaries), beneficiaries, newly,
        newly.copy(), zeros, zeros.copy(), expenditure,
        admin_expenditure(scheme["admin_cost_rate"], expenditure), np.ones(n), 0.0,
        np.zeros((n, 2, MAX_SERVICE + 1)), by_sex,
        contributions_by_age=np.zeros_like(benefits_by_age), benefits_by_age=benefits_by_age)


def run_schemes(assumptions: Assumptions, demo: DemographicProjection,
                econ: EconomicProjection,
                base_states: dict[str, PensionState] | None = None,
                coverage: bool = True) -> tuple[list[SchemeFlows], np.ndarray | None]:
    """Run every scheme of the model through the cohort engine: contributory schemes
    first, then the non-contributory benefits, which may depend on them
    (``base_states``: see :func:`run_db_pension`).

    Returns the flows in model order and the coverage (year, age, sex, coverage group, 2:
    target persons, covered persons; None with ``coverage`` False, where it is not
    computed)."""
    rules = benefit_rules(assumptions, econ)
    household = [rule.scheme.id for rule in rules if rule.household]
    if household:
        raise SpfsimError(
            f"scheme(s) {household} test households' incomes (a minimum_income, or a "
            "social_pension with means_test = 'household'): the cohort "
            "engine has no households and cannot cost them. Project with the micro engine "
            "(spfsim run --engine micro; Model.project('micro', persons=...)), which needs "
            "the model's families table and [poverty] section")
    unemployment = unemployment_qualification(rules)
    floor = top_up_floor(rules)
    contributory = {s.id: run_db_pension(s, assumptions, demo, econ,
                                         contribution_classes(s, unemployment), base_states,
                                         floor, unemployment)
                    for s in assumptions.schemes if s.type == "db_old_age_pension"}
    pension = next(iter(contributory.values()), None)
    cells = cell_states(assumptions, demo, econ, pension, floor, unemployment)
    results = cohort_benefits(rules, cells, demo.population, coverage)
    benefits = {rule.scheme.id: benefit_flows(rule.scheme, results.beneficiaries[j],
                                              results.expenditure[j], pension)
                for j, rule in enumerate(rules)}
    flows = [contributory.get(s.id) or benefits[s.id] for s in assumptions.schemes]
    return flows, results.coverage
