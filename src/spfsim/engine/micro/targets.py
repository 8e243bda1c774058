"""The micro engine's inputs for one year: the pension's parameters for the kernel, death,
emigration and labour-transition probabilities aligned to the projections, the
non-contributory rules' arrays."""

from __future__ import annotations

import numpy as np

from ...demography import DemographicProjection, emigration_probability
from ...economy import EconomicProjection
from ...params import CompiledScheme
from ...schemes import db_pension as dbp
from ..benefits import BenefitRule
from ..cohort import (
    PensionYear,
    aligned_persistence,
    contribution_transitions,
    death_rates,
    retirement_choice,
)
from . import kernels as K
from . import records


def _emigration(counts_pop, net_migration, survival, weight):
    """Per-resident emigration probability by start age (``emigration_probability``), and
    expected immigrants by end age: of net immigrants M, M (1 + S) / 2 are present at the
    end of the step (the cohort engine's convention)."""
    immigrants = np.maximum(net_migration * (1.0 + survival) / 2.0 / weight, 0.0)
    return emigration_probability(counts_pop, net_migration, survival, weight), immigrants


def _rule_codes(rules: list[BenefitRule]) -> np.ndarray:
    """(J, 6) int64: group, guarantee, top-up, cash, contributory and household-test flags
    (kernels.NC_* columns)."""
    return np.array([[r.group, r.guarantee, int(r.top_up), int(r.cash), int(r.contributory),
                      int(r.household)] for r in rules],
                    dtype=np.int64).reshape(len(rules), 6)


def _rule_year(rules: list[BenefitRule], name: str, k: int) -> np.ndarray:
    """(J, age, sex) of one rule array in year k."""
    return np.array([getattr(r, name)[k] for r in rules], dtype=np.float64).reshape(
        len(rules), 101, 2)


def _after_disability(counts: np.ndarray, pension: records.Pension,
                      tables: records.PensionTables) -> np.ndarray:
    """Last year's composition as the labour transitions will find it: expected onsets
    leave the contributors (employees and self-employed alike), expected recoveries join
    the inactive (as the kernel applies them before the labour states)."""
    counts = counts.astype(float)
    onset = counts[..., K.S_QUALIFIED] * tables.incidence
    recovered = counts[..., K.S_INVALID] * pension.recovery_rate
    contributing = counts[..., K.S_EMPLOYEE] + counts[..., K.S_SELF_EMPLOYED]
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = np.where(contributing > 0, 1.0 - onset / contributing, 1.0)
    counts[..., K.S_EMPLOYEE] *= keep
    counts[..., K.S_SELF_EMPLOYED] *= keep
    counts[..., K.S_ACTIVE] += recovered - onset
    counts[..., K.S_INACTIVE] += recovered
    counts[..., K.S_INVALID] += onset - recovered
    return counts


def _death_rates(survival: np.ndarray, composition: np.ndarray,
                 invalid_mortality: float) -> tuple[np.ndarray, np.ndarray]:
    """(age, sex) probabilities of dying this year of disability pensioners and of the
    others, with the expected share of disability pensioners after this year's onsets
    and recoveries (schemes.db_pension.differential_mortality)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(composition[..., K.S_POP] > 0, composition[..., K.S_INVALID]
                         / composition[..., K.S_POP], 0.0)
    return dbp.differential_mortality(death_rates(survival), share, invalid_mortality)


def _pension_year(scheme: CompiledScheme, y: PensionYear, k: int, year: int,
                  econ: EconomicProjection, transitory_sd: float, families: bool = False
                  ) -> tuple[records.Pension, records.PensionTables]:
    """This year's pension parameters for the kernel, from the cohort engine's inputs
    (``year``: the calendar year of index k).
    With the survivors' partners from the families but no family links (``families``
    False), a spouse's pension ends with the cohort engine's chance of a new partnership
    (with links, the partnership itself ends it: engine.micro.families)."""
    survivors = y.survivors
    partnering = (survivors.partnering if survivors is not None and not families
                  and survivors.partnering is not None else np.zeros((101, 2)))
    probability, factor = retirement_choice(y)
    return records.pension(
        has=True, retirement_age=y.retirement_age, minimum_service=y.minimum_service,
        formula=y.formula,
        reference_years=y.reference_years, best_years=y.best_years,
        minimum_pension=y.minimum_pension,
        maximum_pension=float(y.maximum_pension) or np.inf, revaluation=y.revaluation,
        indexation=y.indexation,
        # gross earnings: the kernel applies the floor and ceiling person by person
        earnings=econ.earnings[k], transitory_sd=transitory_sd,
        earnings_floor=scheme["earnings_floor"][k],
        earnings_ceiling=float(scheme["earnings_ceiling"][k]) or np.inf,
        contribution_rate=scheme["contribution_rate"][k], incidence=y.incidence,
        disability_minimum_service=y.disability_minimum_service,
        recovery_rate=y.recovery_rate,
        care_probability=np.zeros(101) if y.care_probability is None
        else y.care_probability,
        care_credit=y.care_credit, care_insured_only=y.care_insured_only,
        care_child_age=int(scheme["care_credit_child_age"][k]),
        refund_share=y.refund_share, retire_probability=probability, retire_factor=factor,
        survivor_partnering=partnering,
        never_covered=never_covered_shares(scheme, year),
        survivors_on=survivors_awarded(y) is not None,
        survivor_minimum_service=survivors.minimum_service
        if survivors_awarded(y) is not None else 0,
        # survivors' pensions in payment are paid and ended even if no new ones start
        orphan_age_limit=survivors.orphan_age_limit if survivors else 0,
        survivor_end_rate=survivors.end_rate if survivors else 0.0,
        survivor_dual_entitlement=bool(survivors and survivors.dual_entitlement),
        survivor_minimum_age=survivors.minimum_age if survivors else 0,
        dependant_dual_entitlement=bool(y.dependants and y.dependants.dual_entitlement),
        dependant_spread=y.dependants.payment_spread if y.dependants else 0.0,
        # the dependants' chances and amounts come from the year's pensioners
        # (engine.micro.dependants.dependant_tables, once they are counted)
        **records.NO_DEPENDANTS)


def never_covered_shares(scheme: CompiledScheme, year: int) -> np.ndarray:
    """(age, sex) share of each cell's birth cohort never covered in ``year`` (zeros:
    nobody)."""
    covered = scheme.covered_shares(np.array([year]))
    return np.zeros((101, 2)) if covered is None else 1.0 - covered[0]


def survivors_awarded(y: PensionYear | None):
    """The survivors' branch of the year if it awards new pensions (None: it does not)."""
    if y is None or y.survivors is None or not y.survivors.active:
        return None
    return y.survivors


def _expected_composition(k: int, econ: EconomicProjection, demo: DemographicProjection,
                          weight: float, never_share: np.ndarray) -> np.ndarray:
    """What ``count_states`` would return if the simulation followed the projection
    exactly: last year's labour shares, one age younger, of this year's population (in
    simulated persons), ``never_share`` (age, sex) of it never covered. Used by
    alignment="off"."""
    previous = max(k - 1, 0)  # the base year's state reflects base-year rates
    population = demo.population[k] / weight
    out = np.zeros((*population.shape, K.N_STATE_COUNTS))
    with np.errstate(divide="ignore", invalid="ignore"):
        pop = np.where(demo.population[previous] > 0, demo.population[previous], np.inf)
        shares = {
            K.S_EMPLOYEE: (econ.covered[previous] - econ.self_employed[previous]) / pop,
            K.S_SELF_EMPLOYED: econ.self_employed[previous] / pop,
            K.S_INFORMAL: (econ.employed[previous] - econ.covered[previous]) / pop,
            K.S_UNEMPLOYED: (econ.labour_force[previous] - econ.employed[previous]) / pop,
            K.S_DISABLED: econ.disabled[previous] / pop,
        }
    for index, share in shares.items():
        aged = np.zeros_like(share)
        aged[1:] = share[:-1]  # last year's state of those one year younger then
        out[..., index] = aged * population
    out[..., K.S_INACTIVE] = np.clip(population - sum(out[..., i] for i in shares), 0.0, None)
    out[..., K.S_POP] = population
    out[..., K.S_ACTIVE] = population  # the labour states of the not (yet) retired
    out[..., K.S_NEVER] = population * never_share
    return out


def _joining(join: np.ndarray, waiting: np.ndarray, never: np.ndarray) -> np.ndarray:
    """(age, sex) the share of all non-contributors (``waiting``) who join the
    contributors when those ``never`` covered among them cannot (their labour states
    taken to be like the others')."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(waiting > 0, join * np.clip(waiting - never, 0.0, None)
                        / np.where(waiting > 0, waiting, 1.0), 0.0)


def _labour_year(scheme: CompiledScheme | None, k: int, counts0: np.ndarray,
                 econ: EconomicProjection, demo: DemographicProjection,
                 settings) -> dict:
    """Transition probabilities of the labour states, aligned per age x sex cell.

    Contributing: the cohort engine's two-state chain (`contribution_transitions`), whose
    expected contributing share is employed x coverage. Contributors are employees or
    self-employed / voluntary contributors, non-contributors informal, unemployed, inactive
    or disabled; within each group :func:`aligned_persistence` keeps last year's state or
    draws one so that the expected shares are the labour projection's.
    """
    population = demo.population[k]
    counts = counts0.astype(float)
    # the never covered are active, but contribute never: the chain moves the others
    never = counts[..., K.S_NEVER]
    active = counts[..., K.S_ACTIVE] - never
    with np.errstate(divide="ignore", invalid="ignore"):
        density = np.where(population > 0, econ.covered[k] / population, 0.0)
        was = np.where(active > 0, (counts[..., K.S_EMPLOYEE] + counts[..., K.S_SELF_EMPLOYED])
                       / active, 0.0)
        target = np.where(active > 0, np.minimum(density * counts[..., K.S_POP] / active, 1.0),
                          0.0)
    persistence = (float(scheme["contribution_persistence"][k]) if scheme is not None
                   else settings.labour_persistence)
    stay, join = contribution_transitions(was, target, persistence)
    earlier = counts[..., [K.S_EMPLOYEE, K.S_SELF_EMPLOYED]]
    others = counts[..., [K.S_INFORMAL, K.S_UNEMPLOYED, K.S_INACTIVE, K.S_DISABLED]]
    joining = join if not never.any() else _joining(join, others.sum(-1), never)
    self_employed = np.divide(econ.self_employed[k], econ.covered[k],
                              out=np.zeros_like(population), where=econ.covered[k] > 0)
    keep_contributor, split = aligned_persistence(
        earlier * stay[..., None], others.sum(-1) * joining,
        np.stack([1.0 - self_employed, self_employed], axis=-1), settings.labour_persistence)
    keep, draw = aligned_persistence(
        others * (1.0 - joining)[..., None], earlier.sum(-1) * (1.0 - stay),
        econ.non_contributing(k, population), settings.labour_persistence)
    return {"stay": stay, "join": join, "keep": keep, "cumulative": np.cumsum(draw, axis=-1),
            "keep_contributor": keep_contributor, "p_self_employed": split[..., 1]}
