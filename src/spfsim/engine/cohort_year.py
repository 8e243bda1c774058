"""The records one year of the cohort engine's pension step reads: the pension's yearly
inputs (:class:`PensionYear`), its survivors' branch (:class:`SurvivorRules`) and its
living pensioners' dependants (:class:`DependantRules`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class PensionYear:
    """What one step of the pension needs, for one year (real or reconstructed)."""

    density: np.ndarray  # (age, sex) share of the population contributing this year
    persistence: float  # tendency to keep last year's contribution status (0..1)
    earnings: np.ndarray  # (age, sex) insured earnings per contributor this year
    retirement_age: np.ndarray  # (age, sex): pensionable age of each cell's birth cohort
    minimum_service: float
    # the pension formula (schemes.pension_rules.formula: accrual or bend points, this
    # year's bend points)
    formula: np.ndarray
    minimum_pension: float
    maximum_pension: float  # at award (0: none)
    open_weights: np.ndarray  # (2, sex): population aged 99 and 100+ (merging weights)
    newcomer_share: np.ndarray  # (age, sex) share of next year's cell who are immigrants
    revaluation: float  # revaluation of credited earnings into this year
    indexation: float  # indexation of pensions in payment into this year
    incidence: np.ndarray  # (age, sex) onset of invalidity among last year's contributors
    disability_minimum_service: float
    recovery_rate: float
    survivors: SurvivorRules | None = None  # the survivors' branch (None: none)
    care_probability: np.ndarray | None = None  # (age,) women credited for child care
    care_credit: float = 0.0  # earnings credited per care year
    care_insured_only: bool = False  # care credits need a year of contributions
    refund_share: float = 0.0  # lump sum per unit of revalued contributions, for leavers
    contribution_rate: float = 0.0  # of insured earnings, paid this year
    # log-sd of a person's average earnings around the cell's mean, for the mean pension
    # at award of a cell (pension_rules.expected_bounded_pension; 0: all at the mean)
    spread: float = 0.0
    # (sex, age, pension_rules.CAPS_SIZE) each cell's yearly caps of the ceiling
    # (db_pension.career_caps), for the award with the spread; None: the ceiling caps a
    # member's average as a whole
    career_caps: np.ndarray | None = None
    # (age, sex) probability that an eligible active member retires, and the pension's
    # early/late adjustment (None: everybody at the pensionable age, no adjustment)
    retire_probability: np.ndarray | None = None
    retire_factor: np.ndarray | None = None
    # (age, 1) the pension of an award at each age as a multiple of the formula's at award,
    # when the formula is applied at an eligibility age (db_pension.award_indexing; None:
    # at award)
    award_indexing: np.ndarray | None = None
    # (age, sex) probability of dying during the step, and disability pensioners'
    # mortality as a multiple of it (None or 1: everybody at the population's rates)
    death_rate: np.ndarray | None = None
    invalid_mortality: float = 1.0
    reference_years: int = 0  # reference earnings: 0 career average, N last N credited years
    best_years: bool = False  # the reference's N years the best N, not the last N
    # the log-sd of a year's transitory earnings, for the best years' gain
    # (pension_rules.best_years_gain; 0: none)
    best_years_sd: float = 0.0
    # (age, sex, 4) persons not contributing this year by labour state
    # (EconomicProjection.non_contributing) and how strongly non-contributors keep last
    # year's state; None: every non-contributor is counted inactive (the reconstruction)
    labour_target: np.ndarray | None = None
    labour_persistence: float = 0.0
    # (age, sex) share of each of next year's cells' birth cohort ever in covered
    # employment (CompiledScheme.covered_shares): the newborns and immigrants who join the
    # members; the others stay outside the state (None: everybody)
    covered_share: np.ndarray | None = None
    # the supplements for the living pensioners' dependants (None: none)
    dependants: DependantRules | None = None

    @property
    def dual_entitlement(self) -> bool:
        """Whether a survivor's pension (or a dependent spouse's supplement without
        survivors' rules) is paid only above her own pension."""
        rules = self.survivors if self.survivors is not None else self.dependants
        return rules is not None and rules.dual_entitlement


@dataclass
class SurvivorRules:
    """What the survivors' branch needs in a year: its parameters and the demography of
    the step (deaths by start age, fertility, sex ratio, populations now and next year)."""

    spouse_share: float
    orphan_share: float
    orphan_age_limit: int
    married: np.ndarray  # (sex,) of the deceased
    # (sex of the deceased, x, y) probability that the partner of a person aged x is aged y
    # (schemes.db_pension.partner_age_weights); with the partners from the families
    # (``linked``), the probability that a person aged x has a partner aged y who is still
    # here a year later (demography.partnerships.partner_weights), ``married`` then 1
    partner_weights: np.ndarray
    end_rate: float
    minimum_service: float
    death_rate: np.ndarray  # (age, sex) probability of dying during the step, by start age
    asfr: np.ndarray  # (age,)
    p_male: float
    population: np.ndarray  # (age, sex) this year
    next_population: np.ndarray  # (age, sex) next year
    maximum_share: float = 0.0  # ceiling on one death's survivors' shares (0: none)
    # the partners from the families: the micro engine with family links pays the
    # deceased's own partner and children
    linked: bool = False
    # (orphan_age_limit,) each child age's expected children scaled to the children there
    # are (schemes.survivors.children_scale; None: 1)
    child_scale: np.ndarray | None = None
    # (age, sex) with the partners from the families: a single person's chance of forming
    # a partnership in the family events before the year, which ends a spouse's pension
    # (demography.partnerships.project_partnerships; None: no such end)
    partnering: np.ndarray | None = None
    # (age, sex) the base year's stand-in for that chance in the past, which the base-year
    # state's reconstruction applies (engine.cohort.base_year_state): the first projection
    # year's (the base year's couples are formed from nobody partnered)
    past_partnering: np.ndarray | None = None
    # (group, sex, age, orphan_age_limit) with the partners from the families: a parent's
    # expected children by age, those linked to them at their birth who are still theirs,
    # per person and per partnered person (demography.partnerships.linked_children;
    # None: a mother's by her fertility, a man's his partner's)
    linked_children: np.ndarray | None = None
    # only the higher of a spouse's survivor's pension and her own is paid (dual
    # entitlement, schemes.survivors.spouses_beside_own_pensions), with this spread
    dual_entitlement: bool = False
    payment_spread: float = 0.0
    # a spouse's pension is paid and counted from this age (entitled below it)
    minimum_age: int = 0

    @property
    def active(self) -> bool:
        return self.spouse_share > 0 or self.orphan_share > 0


@dataclass
class DependantRules:
    """What the dependants' supplements of the living pensioners need in a year
    (schemes.dependants): their shares of the pension, the ceiling, the spouse's age, who
    the pensioners' partners and children are, and this year's population."""

    spouse_share: float
    child_share: float
    maximum_share: float  # of one pensioner's dependants together (0: none)
    spouse_age: int  # youngest dependent spouse
    married: np.ndarray  # (sex,) of the pensioner: the chance of a partner
    partner_weights: np.ndarray  # (sex of the pensioner, x, y), as SurvivorRules'
    children: np.ndarray  # (sex, x, k): expected children aged k = 0 .. orphan_age_limit
    p_male: float
    population: np.ndarray  # (age, sex) this year
    # a spouse's supplement paid only above her own pension, as a survivor's is
    # (SurvivorRules.dual_entitlement, payment_spread)
    dual_entitlement: bool = False
    payment_spread: float = 0.0
