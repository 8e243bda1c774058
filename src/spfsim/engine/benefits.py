"""Non-contributory benefits and coverage, one set of rules for both engines.

A person's situation in a year is described by three things:

- ``L``, the labour and pension state: contributing (0), receiving a contributory pension
  below a top-up floor (1) or at or above it (2), unemployed (3), anything else (4),
  unemployed with the qualifying service of unemployment insurance (5);
- ``D``, severe disability (the ``disability`` table's ``severe_disability`` prevalence for
  the age, sex and year; a persistent individual draw in the micro engine, independent of
  ``L``);
- ``M``, having given birth during the year (mothers of newborns).

:func:`eligible` says, from (L, D, M), whether a scheme's group admits the person; the
scheme's receipt probability (take-up and targeting, 0 outside its age band) then applies,
independently between schemes. The micro engine applies this person by person
(:mod:`spfsim.engine.micro.kernels`); the cohort engine sums it over the joint
distribution of (L, D, M) in every age x sex cell, assuming D and M independent of L and
of each other (the micro engine's draws make them so, up to the correlation of survival).
That is the documented *overlap assumption* behind the cohort engine's coverage figures.

Coverage (ILO World Social Protection Report definitions, SDG indicator 1.3.1): for each
guarantee, persons of the target group covered by at least one scheme serving it:

- health: everybody, covered by a health-care scheme;
- children: ages 0-14, receiving a child benefit;
- maternity: mothers of newborns, receiving a maternity benefit;
- disability: persons with a severe disability, receiving a disability benefit;
- working_age: the unemployed aged 15-64, receiving a working-age benefit;
- old_age: persons aged 65 or more receiving a pension (contributory or not);
- any_cash (SDG 1.3.1): everybody, covered by contributing to a contributory scheme,
  receiving a contributory pension or receiving at least one non-contributory cash benefit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numba as nb
import numpy as np

from ..demography import DemographicProjection, emigration_probability
from ..economy import EconomicProjection
from ..errors import SpfsimError
from ..params import AGES, Assumptions, CompiledScheme
from ..schemes import GUARANTEES, SCHEME_TYPES
from ..schemes import db_pension as dbp
from ..schemes import insurance as ins
from ..schemes import noncontributory as nc
from .flows import sum_inner

# L: labour and pension state
L_CONTRIBUTING, L_PENSION_LOW, L_PENSION_HIGH, L_UNEMPLOYED, L_OTHER = range(5)
L_UNEMPLOYED_INSURED = 5
N_L = 6
GROUP_CODES = {name: code for code, name in enumerate(nc.GROUPS)}
G_ALL, G_DISABLED, G_WITHOUT_PENSION, G_UNINSURED_MOTHERS, G_UNEMPLOYED = range(5)
G_INSURED_MOTHERS, G_INSURED_UNEMPLOYED = 5, 6
COVERAGE_GROUPS = (*GUARANTEES, "any_cash")
N_COVERAGE = len(COVERAGE_GROUPS)
HEALTH, CHILDREN, MATERNITY, DISABILITY, WORKING_AGE, OLD_AGE = range(6)
ANY_CASH = 6
CHILD_MAX_AGE, OLDER_AGE, WORKING_AGES = 14, 65, (15, 64)
# BenefitRule.household: the codes of schemes.noncontributory.HOUSEHOLD_TESTS
GUARANTEE_TEST, THRESHOLD_TEST = (nc.HOUSEHOLD_TESTS.index(test)
                                  for test in (nc.GUARANTEE, nc.THRESHOLD))
MAX_CLASS = 60  # the cohort engine's highest credited-service class


@nb.njit(cache=True)
def eligible(group: int, top_up: bool, state: int, disabled: bool, mother: bool) -> bool:
    """Whether a scheme's group admits a person in state (L, D, M)."""
    if top_up and state == L_PENSION_HIGH:
        return False
    if group == G_ALL:
        return True
    if group == G_DISABLED:
        return disabled
    if group == G_WITHOUT_PENSION:
        return state != L_PENSION_LOW and state != L_PENSION_HIGH
    if group == G_UNINSURED_MOTHERS:
        return mother and state != L_CONTRIBUTING
    if group == G_INSURED_MOTHERS:
        return mother and state == L_CONTRIBUTING
    if group == G_INSURED_UNEMPLOYED:
        return state == L_UNEMPLOYED_INSURED
    return state in (L_UNEMPLOYED, L_UNEMPLOYED_INSURED)  # G_UNEMPLOYED


@nb.njit(cache=True)
def pays_arriving_mother(group: int, top_up: bool) -> bool:
    """Whether a scheme pays a woman who immigrates during the year and gives birth in the
    country before its end (R202 para. 5(c): maternity protection for every birth). She
    is not yet in the resident population of 1 July, so only the mothers' groups pay her,
    in the state of someone with no contribution or pension in the country (``L_OTHER``);
    her other benefits start with the next year."""
    mothers = group in (G_UNINSURED_MOTHERS, G_INSURED_MOTHERS)
    return mothers and eligible(group, top_up, L_OTHER, False, True)


@nb.njit(cache=True)
def covered_by_state(guarantee: int, state: int) -> bool:
    """Whether a person's labour and pension state covers them for a guarantee whatever
    benefits they receive: a contributory pension, for old age; contributing or a
    contributory pension, for any cash benefit (SDG 1.3.1)."""
    if guarantee == OLD_AGE:
        return state in (L_PENSION_LOW, L_PENSION_HIGH)
    if guarantee == ANY_CASH:
        return state in (L_CONTRIBUTING, L_PENSION_LOW, L_PENSION_HIGH)
    return False


@nb.njit(cache=True)
def in_target(guarantee: int, age: int, state: int, disabled: bool, mother: bool) -> bool:
    """Whether a person belongs to a guarantee's target group (see the module docstring)."""
    if guarantee == CHILDREN:
        return age <= CHILD_MAX_AGE
    if guarantee == MATERNITY:
        return mother
    if guarantee == DISABILITY:
        return disabled
    if guarantee == WORKING_AGE:
        return (state in (L_UNEMPLOYED, L_UNEMPLOYED_INSURED)
                and WORKING_AGES[0] <= age <= WORKING_AGES[1])
    if guarantee == OLD_AGE:
        return age >= OLDER_AGE
    return True  # HEALTH, ANY_CASH


@dataclass
class BenefitRule:
    """A non-contributory scheme's rule as arrays both engines read.

    ``probability`` (year, age, sex): receipt probability of an eligible person, 0 outside
    the age band. ``amount`` (year, age, sex): annual amount per beneficiary (currency); for
    a top-up, the floor (a pensioner gets floor - pension).
    """

    scheme: CompiledScheme
    group: int
    guarantee: int  # index in GUARANTEES, -1 for 'other'
    top_up: bool
    cash: bool  # False for health care (not a cash benefit: outside SDG 1.3.1)
    probability: np.ndarray
    amount: np.ndarray
    # short-term social insurance (maternity, unemployment): part of the contributory
    # transfers, not of the floor's, in household incomes (engine.micro.poverty)
    contributory: bool = False
    # paid after a test of the household's income (the micro engine's
    # engine.micro.poverty): 0 no test; 1 a guarantee (schemes.noncontributory
    # .MinimumIncome: ``amount`` is the guaranteed income per equivalent adult,
    # ``probability`` the take-up in the age band of the household's reference person,
    # ``earnings_disregard`` (year,) the share of earnings not counted); 2 a person's
    # benefit below a threshold (SocialPension with means_test 'household': ``amount`` the
    # benefit, ``probability`` the take-up in the age band, ``household_threshold`` (year,)
    # the threshold as a multiple of the benefit)
    household: int = 0
    earnings_disregard: np.ndarray | None = None
    household_threshold: np.ndarray | None = None


def _basis(scheme: CompiledScheme, econ: EconomicProjection) -> np.ndarray:
    """The level's basis per year: 1 (currency), the poverty line or GDP per capita."""
    basis = scheme.choices.get("benefit_basis", "currency")
    if basis == "currency":
        return np.ones_like(econ.gdp)
    values = econ.poverty_line if basis == "poverty_line" else econ.gdp_per_capita
    if basis == "poverty_line" and np.all(np.isnan(values)):
        raise SpfsimError(f"scheme '{scheme.id}': benefit_basis = 'poverty_line' needs "
                          "poverty_line in the model file's [economy] section")
    if not np.all(np.isfinite(values)):  # an extreme input, not a missing one
        raise SpfsimError(f"scheme '{scheme.id}': benefit_basis = '{basis}': the {basis} "
                          "is not a finite number in some years; check the [economy] "
                          "amounts and the economy table's growth rates")
    return values


def benefit_rule(scheme: CompiledScheme, assumptions: Assumptions,
                 econ: EconomicProjection, pension: CompiledScheme | None) -> BenefitRule:
    """The arrays of one scheme paid by the rule (non-contributory or short-term
    insurance; ``pension`` is the model's contributory pension, whose members and
    insurable earnings the insurance benefits use)."""
    kind = SCHEME_TYPES[scheme.type]
    assert issubclass(kind, nc.RuleBenefit)
    band = nc.in_age_band(AGES[None, :, None], scheme["min_age"][:, None, None],
                          scheme["max_age"][:, None, None])
    test = nc.HOUSEHOLD_TESTS.index(kind.household_test(scheme.choices))
    if test:  # the household test decides who is entitled: take-up alone
        p = scheme["take_up"]
        months = 12.0 if test == GUARANTEE_TEST else scheme["months"]
        amount = nc.annual_amount(scheme["benefit"], _basis(scheme, econ),
                                  months)[:, None, None]
    elif issubclass(kind, ins.InsuranceBenefit):
        p = scheme["take_up"]
        amount = ins.insurance_benefit(
            scheme["replacement_rate"][:, None, None],
            insurable_earnings(pension, econ, scheme, assumptions.earnings_yearly_sd),
            scheme["months"][:, None, None],
            scheme["maximum_benefit"][:, None, None])
    else:
        p = nc.receipt_probability(scheme["take_up"], scheme["target_share"],
                                   scheme["exclusion_error"], scheme["inclusion_error"])
        amount = nc.annual_amount(scheme["benefit"], _basis(scheme, econ),
                                  scheme["months"])[:, None, None]
    probability = np.where(band, p[:, None, None], 0.0) * nc.sex_mask(
        scheme.choices.get("sex", "all"))
    amount = np.broadcast_to(amount, probability.shape).copy()
    if scheme.type == nc.HealthCare.NAME:
        profile = np.stack([nc.health_cost_profile(AGES[None, :], scheme["relative_cost_under5"]
                                                   [:, None, s],
                                                   scheme["relative_cost_65plus"][:, None, s])
                            for s in range(2)], axis=-1)
        steps = np.arange(assumptions.n_years)[:, None, None]
        amount *= profile * (1.0 + scheme["excess_cost_growth"][:, None, None]) ** steps
    guarantee = kind.guarantee(scheme.choices)
    return BenefitRule(scheme, GROUP_CODES[kind.group(scheme.choices)],
                       GUARANTEES.index(guarantee) if guarantee in GUARANTEES else -1,
                       kind.is_top_up(scheme.choices), scheme.type != nc.HealthCare.NAME,
                       probability, amount, issubclass(kind, ins.InsuranceBenefit),
                       test, scheme["earnings_disregard"] if test == GUARANTEE_TEST else None,
                       scheme["household_threshold"] if test == THRESHOLD_TEST else None)


def insurable_earnings(pension: CompiledScheme | None, econ: EconomicProjection,
                       scheme: CompiledScheme, spread: float = 0.0) -> np.ndarray:
    """(year, age, sex) insurable earnings of a covered worker: the earnings profile within
    the contributory pension's floor and ceiling (the mean over workers whose earnings
    spread around the profile with log-sd ``spread``: db_pension.insurable)."""
    if pension is None:
        raise SpfsimError(f"scheme '{scheme.id}' ({scheme.type}) insures the members of a "
                          "contributory pension; the model has no db_old_age_pension")
    return dbp.insurable(econ.earnings, pension["earnings_floor"][:, None, None],
                         pension["earnings_ceiling"][:, None, None], spread)


def benefit_rules(assumptions: Assumptions, econ: EconomicProjection) -> list[BenefitRule]:
    """The rules of the model's rule-paid schemes (non-contributory and short-term
    insurance), in model order."""
    pension = contributory_pension(assumptions)
    rules = [benefit_rule(s, assumptions, econ, pension) for s in assumptions.schemes
             if issubclass(SCHEME_TYPES[s.type], nc.RuleBenefit)]
    if sum(r.top_up for r in rules) > 1:
        raise SpfsimError("a model may have at most one top-up social pension (means_test = "
                          "'top_up')")
    if sum(r.group == G_INSURED_UNEMPLOYED for r in rules) > 1:
        raise SpfsimError("a model may have at most one unemployment_insurance scheme")
    return rules


def contributory_pension(assumptions: Assumptions) -> CompiledScheme | None:
    """The model's contributory pension (the first db_old_age_pension), if any."""
    return next((s for s in assumptions.schemes if s.type == "db_old_age_pension"), None)


@dataclass(frozen=True)
class UnemploymentQualification:
    """Unemployment insurance's qualifying period (schemes.insurance.unemployment_qualifies):
    ``minimum_service`` years (a number no one reaches without such a scheme) of
    contributions, or of any credited service when ``credits_count``."""

    minimum_service: int = 1_000
    credits_count: bool = False

    def qualifies(self, contribution_classes: int) -> np.ndarray:
        """(service, contribution class) True where the cohort engine's members of the
        class qualify (:func:`class_years`)."""
        service, contributed = class_years(contribution_classes)
        return ins.unemployment_qualifies(service, contributed, self.minimum_service,
                                          self.credits_count)


def class_years(contribution_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(service, contribution class) credited years and years of contributions of the
    cohort engine's classes (engine.cohort.PensionState): class k < K - 1 holds k years of
    contributions, the last class at least K - 1 (as many as any rule asks for); with one
    class, contribution years are the credited service (no care credits)."""
    shape = (MAX_CLASS + 1, contribution_classes)
    service = np.broadcast_to(np.arange(MAX_CLASS + 1)[:, None], shape).copy()
    if contribution_classes == 1:
        return service, service.copy()
    return service, np.broadcast_to(np.arange(contribution_classes)[None, :], shape).copy()


def contribution_classes(pension: CompiledScheme | None,
                         unemployment: UnemploymentQualification) -> int:
    """How many classes of contribution years the cohort engine carries beside credited
    service: when care credits make credited service and contributions differ, 1 + the
    most contribution years a rule asks for (one year: whether a member has contributed,
    which care credits and refunds ask; unemployment insurance's qualifying period, unless
    credits count); otherwise one."""
    if pension is None or np.max(pension["care_credit_child_age"]) <= 0:
        return 1
    needed = [1]
    if not unemployment.credits_count and unemployment.minimum_service <= MAX_CLASS:
        needed.append(unemployment.minimum_service)
    return min(max(needed), MAX_CLASS) + 1


def unemployment_qualification(rules: list[BenefitRule]) -> UnemploymentQualification:
    """The qualifying period of the model's unemployment insurance (none: unreachable)."""
    rule = next((r for r in rules if r.group == G_INSURED_UNEMPLOYED), None)
    if rule is None:
        return UnemploymentQualification()
    return UnemploymentQualification(
        int(rule.scheme["minimum_service"][0]),
        rule.scheme.choices["qualifying_credits"] == "all_credits")


def top_up_floor(rules: list[BenefitRule]) -> np.ndarray | None:
    """The top-up floor by (year, age, sex), or None without a top-up scheme."""
    return next((r.amount for r in rules if r.top_up), None)


def mothers_rate(assumptions: Assumptions, demo: DemographicProjection) -> np.ndarray:
    """(year, age) probability that a woman aged ``age`` on 1 July gives birth in the
    country during the year: half the year at her age, half at the next if she neither
    dies nor emigrates (the projection's exposure convention, and the micro engine's
    birth draw). Women who immigrate during the year are :func:`arriving_mothers`."""
    asfr = assumptions.asfr
    nxt = np.minimum(AGES + 1, AGES[-1])
    leaving = emigration_probability(demo.population, demo.net_migration, demo.survival)
    return 0.5 * asfr + 0.5 * asfr[:, nxt] * demo.survival[:, nxt, 1] * (1.0 - leaving[..., 1])


def arriving_mothers(assumptions: Assumptions, demo: DemographicProjection) -> np.ndarray:
    """(year, age) expected number of women who immigrate during the year and give birth
    in the country before its end, by the age they would have had on 1 July (one less
    than at arrival, as the benefits of residents are counted).

    Of net immigrants M of end age x, M (1 + S) / 2 are present at the end of the step
    (the projection's convention), exposed half the year at the rate of age x: their
    births, asfr(x) M (1 + S) / 4, are those the projection adds to the residents', so
    that residents x :func:`mothers_rate` plus these equal the births. The micro engine
    draws the same births for its immigrants (``add_immigrants``)."""
    present = np.maximum(demo.net_migration[..., 1] * (1.0 + demo.survival[..., 1]) / 2.0, 0.0)
    mothers = np.zeros_like(present)
    mothers[:, :-1] = 0.5 * assumptions.asfr[:, 1:] * present[:, 1:]
    return mothers


@dataclass
class CellStates:
    """Shares of each (year, age, sex) cell by labour-pension state, and what top-ups pay.

    ``shares`` (year, age, sex, L); ``low_gap`` (year, age, sex): per capita sum of
    floor - pension over pensioners below the top-up floor; ``disabled`` and ``mother``
    (year, age, sex) probabilities; ``arriving_mothers`` (year, age, sex): persons, the
    mothers among the year's immigrants (:func:`arriving_mothers`), outside the cells.
    """

    shares: np.ndarray
    low_gap: np.ndarray
    disabled: np.ndarray
    mother: np.ndarray
    arriving_mothers: np.ndarray


def cell_states(assumptions: Assumptions, demo: DemographicProjection,
                econ: EconomicProjection, pension, floor: np.ndarray | None,
                unemployment: UnemploymentQualification | None = None) -> CellStates:
    """The cohort engine's distribution of (L, D, M) per cell.

    ``pension``: the contributory pension's SchemeFlows (with what it keeps of each cell
    for these rules: engine.cohort.run_db_pension, given the same ``floor`` and
    ``unemployment``), or None.
    The unemployed are the labour projection's share of the non-contributing active
    population (as the micro engine aligns them); those with unemployment insurance's
    qualifying period (``unemployment``) are insured against unemployment, in the
    proportion that the pension's labour chain gives the unemployed of each cell
    (``PensionState.labour``, by credited service and contribution years: with persistent
    states, the long-term unemployed have less service than other non-contributors).
    """
    unemployment = unemployment or UnemploymentQualification()
    pop = demo.population
    with np.errstate(divide="ignore", invalid="ignore"):
        if pension is not None:
            # a pensioner who works is in a pension state for the floor's rules
            members = pension.contributors if pension.working_pensioners is None \
                else pension.contributors - pension.working_pensioners
            contributing = np.where(pop > 0, members / pop, 0.0)
            active = pension.active_share
            pensioners = pension.pensioner_share
        else:
            contributing = np.where(pop > 0, econ.covered / pop, 0.0)
            active = np.ones_like(pop)
            pensioners = np.zeros_like(pop)
        if pension is not None and floor is not None:
            if pension.low_pension_share is None:
                raise ValueError("the pension was projected without the top-up floor")
            low_share, low_gap = pension.low_pension_share, pension.low_pension_gap
        else:
            low_share, low_gap = np.zeros_like(pop), np.zeros_like(pop)
        non_contributing = np.where(pop > 0, (pop - econ.covered) / pop, 0.0)
        unemployed_rate = np.where(non_contributing > 0, (econ.labour_force - econ.employed)
                                   / pop / non_contributing, 0.0)
    unemployed = np.clip(unemployed_rate * np.clip(active - contributing, 0.0, None), 0.0,
                         None)
    insured = np.zeros_like(pop)
    if pension is not None and unemployment.minimum_service <= MAX_CLASS:
        if pension.insured_unemployed_fraction is None:
            raise ValueError("the pension was projected without the unemployment "
                             "insurance's qualifying period")
        insured = pension.insured_unemployed_fraction * unemployed
    if pension is not None and pension.never_covered_share is not None:
        # the never covered are not members, but work or seek work all the same (none of
        # them insured)
        unemployed = unemployed + unemployed_rate * pension.never_covered_share
    shares = np.stack([contributing, low_share, pensioners - low_share, unemployed - insured,
                       np.zeros_like(pop), insured], axis=-1)
    shares[..., L_OTHER] = np.clip(1.0 - sum_inner(shares, -1), 0.0, None)
    mother = np.zeros_like(pop)
    mother[..., 1] = mothers_rate(assumptions, demo)
    arriving = np.zeros_like(pop)
    arriving[..., 1] = arriving_mothers(assumptions, demo)
    return CellStates(shares, low_gap, assumptions.severe_disability, mother, arriving)


@dataclass
class BenefitResults:
    """Expected beneficiaries and amounts of each rule, and coverage, by cell."""

    beneficiaries: list[np.ndarray]  # (year, age, sex) per rule
    expenditure: list[np.ndarray]  # (year, age, sex) per rule
    # (year, age, sex, N_COVERAGE, 2): target, covered persons (None: not computed)
    coverage: np.ndarray | None


def cohort_benefits(rules: list[BenefitRule], cells: CellStates,
                    population: np.ndarray) -> BenefitResults:
    """Expected beneficiaries, expenditure and coverage over the joint (L, D, M) states,
    as array statements state by state: the reference of the compiled loop
    (:func:`spfsim.engine.cohort_benefit_kernels.cohort_benefits`, the same sums) and its
    path with Numba's JIT off."""
    beneficiaries = [np.zeros_like(population) for _ in rules]
    money = [np.zeros_like(population) for _ in rules]
    coverage = np.zeros((*population.shape, N_COVERAGE, 2))
    for state in range(N_L):
        for disabled in (False, True):
            p_d = cells.disabled if disabled else 1.0 - cells.disabled
            for mother in (False, True):
                p_m = cells.mother if mother else 1.0 - cells.mother
                weight = population * cells.shares[..., state] * p_d * p_m
                not_covered = np.ones((N_COVERAGE, *population.shape))
                for j, rule in enumerate(rules):
                    if not eligible(rule.group, rule.top_up, state, disabled, mother):
                        continue
                    p = rule.probability
                    beneficiaries[j] += weight * p
                    if rule.top_up and state == L_PENSION_LOW:
                        # low_gap is already summed over the cell's low pensioners
                        money[j] += population * cells.low_gap * p_d * p_m * p
                    else:
                        money[j] += weight * p * rule.amount
                    if rule.guarantee >= 0:
                        not_covered[rule.guarantee] *= 1.0 - p
                    if rule.cash:
                        not_covered[ANY_CASH] *= 1.0 - p
                for g in range(N_COVERAGE):
                    if covered_by_state(g, state):
                        not_covered[g] = 0.0
                    target = _target_mask(g, state, disabled, mother)
                    coverage[..., g, 0] += weight * target
                    coverage[..., g, 1] += weight * target * (1.0 - not_covered[g])
    pay_arriving_mothers(rules, cells.arriving_mothers, beneficiaries, money, coverage)
    return BenefitResults(beneficiaries, money, coverage)


def pay_arriving_mothers(rules: list[BenefitRule], mothers: np.ndarray,
                         beneficiaries: list[np.ndarray], money: list[np.ndarray],
                         coverage: np.ndarray | None) -> None:
    """Add the benefits of the year's immigrant mothers (:func:`pays_arriving_mother`)
    and their maternity coverage (``coverage`` None: not kept); they are in no other
    guarantee's target group, which counts residents."""
    not_covered = np.ones_like(mothers)
    for j, rule in enumerate(rules):
        if pays_arriving_mother(rule.group, rule.top_up):
            beneficiaries[j] += mothers * rule.probability
            money[j] += mothers * rule.probability * rule.amount
            if rule.guarantee == MATERNITY:
                not_covered *= 1.0 - rule.probability
    if coverage is not None:
        coverage[..., MATERNITY, 0] += mothers
        coverage[..., MATERNITY, 1] += mothers * (1.0 - not_covered)


@cache
def _target_mask(g: int, state: int, disabled: bool, mother: bool) -> np.ndarray:
    """(1, age, 1) 1 where persons of the state belong to guarantee g's target group
    (read-only: kept for every projection, as the rule does not change)."""
    mask = np.array([in_target(g, int(a), state, disabled, mother) for a in AGES],
                    dtype=float)[None, :, None]
    mask.flags.writeable = False
    return mask
