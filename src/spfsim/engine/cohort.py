"""Cohort engine: expected values by age x sex (x credited-service class).

The contributory pension tracks, for every age and sex, the *share* of the population in
each credited-service class c = 0..60 and contribution status (contributing this year or
not), with the cumulative revalued insured earnings of each class, and the share receiving
a pension with their total pension. Shares, not counts: mortality is assumed independent of
service, so the demographic projection alone moves the counts and the scheme only moves
people between classes. Each year a share d(t, x, s) of the population contributes
(participation x employment x coverage, exactly), chosen by a two-state Markov chain whose
``contribution_persistence`` says how strongly last year's contributors are this year's:
formal careers persist, so service piles up on insiders rather than being spread thinly
(binomially) over everybody. Contributors move one service class up; immigrants join with
no service. This keeps the distribution of past service that an ILO
actuarial valuation carries, so new pensions reflect who has how many years, not a crude
average.

The base year's service distribution and pensioners are built by running the same step
from the scheme's start year at base-year rates, with earnings and the minimum pension
deflated at base-year growth rates (the usual "historical reconstruction" when no
membership data by service are supplied).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..demography import DemographicProjection
from ..economy import EconomicProjection
from ..params import AGES, Assumptions, CompiledScheme
from ..schemes import CONTRIBUTORY, NON_CONTRIBUTORY, SCHEME_TYPES
from ..schemes import db_pension as dbp
from ..schemes.base import admin_expenditure
from .benefits import (
    benefit_rules,
    cell_states,
    class_years,
    cohort_benefits,
    contribution_classes,
    top_up_floor,
    unemployment_qualification,
)
from .flows import BRANCHES, SchemeFlows

MAX_SERVICE = 60
SERVICE = np.arange(MAX_SERVICE + 1)
NOT_CONTRIBUTING, CONTRIBUTING = 0, 1
# the non-contributors' labour states, last axis of PensionState.labour, in the order of
# EconomicProjection.non_contributing and of the micro kernel's NON_CONTRIBUTING_STATES
NC_INFORMAL, NC_UNEMPLOYED, NC_INACTIVE, NC_DISABLED = range(4)


@dataclass
class PensionYear:
    """What one step of the pension needs, for one year (real or reconstructed)."""

    density: np.ndarray  # (age, sex) share of the population contributing this year
    persistence: float  # tendency to keep last year's contribution status (0..1)
    earnings: np.ndarray  # (age, sex) insured earnings per contributor this year
    retirement_age: np.ndarray  # (age, sex): pensionable age of each cell's birth cohort
    minimum_service: float
    accrual_rate: float
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
    rate_above: float = 0.0  # accrual rate beyond the band (band_years > 0)
    band_years: int = 0
    # (age, sex) probability that an eligible active member retires, and the pension's
    # early/late adjustment (None: everybody at the pensionable age, no adjustment)
    retire_probability: np.ndarray | None = None
    retire_factor: np.ndarray | None = None
    # (age, sex) probability of dying during the step, and disability pensioners'
    # mortality as a multiple of it (None or 1: everybody at the population's rates)
    death_rate: np.ndarray | None = None
    invalid_mortality: float = 1.0
    reference_years: int = 0  # reference earnings: 0 career average, N last N credited years
    # (age, sex, 4) persons not contributing this year by labour state
    # (EconomicProjection.non_contributing) and how strongly non-contributors keep last
    # year's state; None: every non-contributor is counted inactive (the reconstruction)
    labour_target: np.ndarray | None = None
    labour_persistence: float = 0.0


@dataclass
class SurvivorRules:
    """What the survivors' branch needs in a year: its parameters and the demography of
    the step (deaths by start age, fertility, sex ratio, populations now and next year)."""

    spouse_share: float
    orphan_share: float
    orphan_age_limit: int
    married: np.ndarray  # (sex,) of the deceased
    # (sex of the deceased, x, y) probability that the partner of a person aged x is aged y
    # (schemes.db_pension.partner_age_weights)
    partner_weights: np.ndarray
    end_rate: float
    minimum_service: float
    death_rate: np.ndarray  # (age, sex) probability of dying during the step, by start age
    asfr: np.ndarray  # (age,)
    p_male: float
    population: np.ndarray  # (age, sex) this year
    next_population: np.ndarray  # (age, sex) next year
    maximum_share: float = 0.0  # ceiling on one death's survivors' shares (0: none)

    @property
    def active(self) -> bool:
        return self.spouse_share > 0 or self.orphan_share > 0


class PensionState:
    """Shares of each (age, sex) population cell by contribution status and service class.

    ``active[age, sex, status, service]``: not retired, with ``status`` 1 if contributing
    this year (0 otherwise) and ``service`` credited years completed before this year.
    With ``recent_years`` R > 0, ``recent[..., k]`` holds the revalued earnings of each
    class's k-th most recent credited year (k = 0..R-1), for reference earnings over the
    last years: every member of a class moves alike, so the sums move linearly.
    ``labour[age, sex, service, k, state]`` splits the non-contributing actives by labour
    state (informal, unemployed, inactive, disabled): the same keep-or-draw chain as the
    micro engine's, so that, as there, the persistently unemployed are those with little
    credited service (what unemployment insurance, which needs service, pays on).

    With ``contribution_classes`` K > 1, the members of every class are further split by
    k = min(years of contributions, K - 1), the last axis of ``active``, ``labour`` (before
    the state) and ``invalid``: care credits add credited service but no contribution year,
    and unemployment insurance's qualifying period counts contributions only
    (schemes.insurance.unemployment_qualifies). Every other rule acts alike on the k of a
    class, so the earnings arrays need no such axis. K = 1: one class, not tracked.
    """

    ARRAYS = ("active", "labour", "credits", "paid", "recent", "pensioners", "pension",
              "invalid", "invalid_pension", "invalid_credits", "invalid_paid",
              "invalid_recent", "spouses", "spouse_pension", "orphans", "orphan_pension")
    INVALID = ("invalid", "invalid_pension", "invalid_credits", "invalid_paid",
               "invalid_recent")

    def __init__(self, n_age: int = len(AGES), recent_years: int = 0,
                 contribution_classes: int = 1):
        shape = (n_age, 2, 2, MAX_SERVICE + 1)
        k = contribution_classes
        self.active = np.zeros((*shape, k))
        self.active[:, :, NOT_CONTRIBUTING, 0, 0] = 1.0
        self.labour = np.zeros((n_age, 2, MAX_SERVICE + 1, k, 4))
        self.labour[:, :, 0, 0, NC_INACTIVE] = 1.0
        self.credits = np.zeros(shape)  # cumulative revalued insured earnings per capita
        # contributions paid on them (each year's rate; nothing on care credits), revalued
        # like them: what a refund returns
        self.paid = np.zeros(shape)
        self.recent = np.zeros((*shape, recent_years))
        self.pensioners = np.zeros((n_age, 2, MAX_SERVICE + 1))
        self.pension = np.zeros((n_age, 2, MAX_SERVICE + 1))  # total annual pension per capita
        # disability pensioners by credited service at onset, their pensions and their
        # credits (kept for a recovery)
        self.invalid = np.zeros((n_age, 2, MAX_SERVICE + 1, k))
        self.invalid_pension = np.zeros((n_age, 2, MAX_SERVICE + 1))
        self.invalid_credits = np.zeros((n_age, 2, MAX_SERVICE + 1))
        self.invalid_paid = np.zeros((n_age, 2, MAX_SERVICE + 1))
        self.invalid_recent = np.zeros((n_age, 2, MAX_SERVICE + 1, recent_years))
        # survivors' pensions in payment: spouses and orphans, and their total pensions
        self.spouses = np.zeros((n_age, 2))
        self.spouse_pension = np.zeros((n_age, 2))
        self.orphans = np.zeros((n_age, 2))
        self.orphan_pension = np.zeros((n_age, 2))
        # this year's leavers without a pension (share) and their refunds (per capita)
        self.refunded = np.zeros((n_age, 2))
        self.refund = np.zeros((n_age, 2))

    def arrays(self) -> tuple[np.ndarray, ...]:
        """Every share and per-capita amount the state carries (aged together)."""
        return tuple(getattr(self, name) for name in self.ARRAYS)

    def active_by_service(self) -> np.ndarray:
        """(age, sex, service) active members, contributing or not."""
        return self.active.sum(axis=(2, 4))

    def invalid_by_service(self) -> np.ndarray:
        """(age, sex, service) disability pensioners by credited service at onset."""
        return self.invalid.sum(axis=-1)

    def earnings_arrays(self) -> tuple[np.ndarray, ...]:
        """The revalued earnings the state carries (revalued together)."""
        return (self.credits, self.paid, self.recent, self.invalid_credits,
                self.invalid_paid, self.invalid_recent)

    def reference(self, credits: np.ndarray, recent: np.ndarray, service: np.ndarray,
                  y: PensionYear) -> np.ndarray:
        """Credited earnings for the pension formula from the career credits and the
        recent years' earnings (class totals in, class totals out; the rule is linear:
        schemes.db_pension.reference_credits)."""
        if y.reference_years <= 0:
            return credits
        return dbp.reference_credits(credits, recent[..., :y.reference_years].sum(axis=-1),
                                     service, y.reference_years)

    def step(self, y: PensionYear) -> tuple[np.ndarray, np.ndarray]:
        """Enter year y: revalue credits, index pensions, disability onsets and recoveries,
        set who contributes this year, award new old-age pensions, apply the minimum.

        Returns the shares newly awarded an old-age pension and their total annual pension
        (per capita), by (age, sex, service)."""
        for array in self.earnings_arrays():
            array *= 1.0 + y.revaluation
        self.pension = _indexed(self.pension, self.pensioners, y)
        self.invalid_pension = _indexed(self.invalid_pension, self.invalid_by_service(), y)
        self._survivors_year(y)
        self._disability(y)
        self._contribution_status(y)
        return self._retire(y)

    def _care_credits(self, y: PensionYear) -> None:
        """Women below the pensionable age who did not contribute this year, have a young
        child and may be credited (``care_insured_only``: those who have contributed) are
        credited a year of service and the care-credit earnings."""
        if y.care_probability is None or not y.care_probability.any():
            return
        _, contributed = class_years(self.active.shape[-1])
        may = dbp.care_credit_qualifies(contributed, y.care_insured_only)  # (service, k)
        # (age, 1, service, k): views below keep a sex axis of length 1 (women)
        rate = (y.care_probability * (y.retirement_age[:, 1] > AGES))[:, None, None, None] * may
        women = self.active[:, 1:2, NOT_CONTRIBUTING]  # views into the state
        labour = self.labour[:, 1:2]
        credits = self.credits[:, 1:2, NOT_CONTRIBUTING]
        paid = self.paid[:, 1:2, NOT_CONTRIBUTING]
        recent = self.recent[:, 1:2, NOT_CONTRIBUTING]
        moved = women * rate  # a credited year, no contribution year: k kept
        moved_labour = labour * rate[..., None]
        # the share of each class credited: within a class only the never-insured (class
        # 0, no credits) differ, so the class's earnings move in that proportion
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(women.sum(axis=-1) > 0, moved.sum(axis=-1) / women.sum(axis=-1),
                             0.0)
        credited = moved.sum(axis=-1) * y.care_credit
        moved_credits = credits * share + credited
        moved_paid = paid * share  # credited, not paid for
        moved_recent = _credited(recent * share[..., None], credited)
        women -= moved
        labour -= moved_labour
        credits -= credits * share
        paid -= paid * share
        recent -= recent * share[..., None]
        for array, shift in ((women, moved), (labour, moved_labour), (credits, moved_credits),
                             (paid, moved_paid), (recent, moved_recent)):
            _promote(array, shift)

    def _survivors_year(self, y: PensionYear) -> None:
        """Index survivors' pensions (no minimum), end orphans' pensions above the age
        limit and a share of spouses' pensions."""
        if y.survivors is None:
            return
        self.spouse_pension = dbp.pension_in_payment(self.spouse_pension, y.indexation, 0.0)
        self.orphan_pension = dbp.pension_in_payment(self.orphan_pension, y.indexation, 0.0)
        over = dbp.orphan_pension_ends(AGES, y.survivors.orphan_age_limit)
        self.orphans[over] = 0.0
        self.orphan_pension[over] = 0.0
        self.spouses *= 1.0 - y.survivors.end_rate
        self.spouse_pension *= 1.0 - y.survivors.end_rate

    def _survivor_deaths(self, y: PensionYear, q_invalid: np.ndarray,
                         q_others: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """This year's deaths of pensioners and qualified insured persons (who die at
        ``q_others``; disability pensioners at ``q_invalid``), and the pensions their
        survivors' shares apply to (for an insured person, the disability pension they
        would have had): persons and currency by (age, sex) at the start of the step."""
        rules = y.survivors
        q = q_others[:, :, None] * rules.population[:, :, None]  # deaths per share
        q_inv = q_invalid[:, :, None] * rules.population[:, :, None]
        future = np.maximum(y.retirement_age - AGES[:, None], 0)[:, :, None]
        active = self.active_by_service()
        credits = self.reference(self.credits.sum(axis=2), self.recent.sum(axis=2),
                                 SERVICE[None, None, :], y)
        qualified = dbp.qualified_insured(AGES[:, None, None], y.retirement_age[:, :, None],
                                          SERVICE, rules.minimum_service)
        with np.errstate(divide="ignore", invalid="ignore"):
            insured_pension = dbp.disability_pension(
                y.accrual_rate, np.where(active > 0, credits / active, 0.0),
                SERVICE[None, None, :], future, y.minimum_pension, y.maximum_pension,
                y.rate_above, y.band_years)
        deaths = q * (self.pensioners + active * qualified) + q_inv * self.invalid_by_service()
        money = (q * (self.pension + active * qualified * insured_pension)
                 + q_inv * self.invalid_pension)
        return deaths.sum(axis=2), money.sum(axis=2)

    def _add_survivors(self, y: PensionYear, deaths: np.ndarray, money: np.ndarray) -> None:
        """Award the survivors' pensions of this year's ``deaths`` (:meth:`_survivor_deaths`)
        to next year's cells, once the state has aged into them.

        A deceased aged x leaves a spouse aged y with probability married x the partner-age
        weight, and children by the mother's past fertility; each claim is scaled by the
        share of such persons who exist and do not yet receive a survivor's pension
        (schemes.db_pension.availability, the micro engine's rule too), so survivors in
        payment never exceed the population of their age and sex. The shares of one
        death's survivors are capped together (capped_survivor_shares)."""
        rules = y.survivors
        n = len(AGES)
        free = rules.next_population * np.clip(1.0 - self.spouses - self.orphans, 0.0, None)
        weights, limit = rules.partner_weights, rules.orphan_age_limit
        spouse_ok = dbp.availability(dbp.spouse_demand(rules.population, rules.married,
                                                       weights), free)  # (age y, sex)
        if rules.orphan_share > 0 and limit > 0:
            children = dbp.children_by_parent_age(rules.asfr, weights, limit)  # (s, x, k)
            demand = np.zeros((n, 2, 2))  # (child age, child sex, parent sex)
            demand[:limit] = dbp.orphan_demand(rules.population, children, rules.p_male)
            child_ok = dbp.availability(demand, free[:, :, None])[:limit]
        else:
            children, child_ok = np.zeros((2, n, 0)), np.zeros((0, 2, 2))
        child_sex = np.array([rules.p_male, 1.0 - rules.p_male])
        new = [np.zeros((n, 2)) for _ in range(4)]  # spouses, their money, orphans, theirs
        for sex in range(2):
            partner = weights[sex] * spouse_ok[None, :, 1 - sex]  # (x, y) partners who exist
            reach = partner.sum(axis=1)
            kids_by_sex = children[sex][..., None] * (child_sex * child_ok[:, :, sex])
            kids = kids_by_sex.sum(axis=-1)  # (x, k)
            spouse_part, orphan_part = dbp.capped_survivor_shares(
                rules.married[sex] * reach, kids, rules.spouse_share, rules.orphan_share,
                rules.maximum_share)
            cell = np.minimum(AGES + 1, AGES[-1])  # next year, one year older
            if rules.spouse_share > 0:
                with np.errstate(divide="ignore", invalid="ignore"):
                    where_to = np.where(reach[:, None] > 0, partner / reach[:, None], 0.0)
                np.add.at(new[0][:, 1 - sex], cell,
                          (deaths[:, sex] * rules.married[sex]) @ partner)
                np.add.at(new[1][:, 1 - sex], cell, (spouse_part * money[:, sex]) @ where_to)
            if kids.size:
                split = kids_by_sex.sum(axis=0) / np.maximum(kids.sum(axis=0), 1e-300)[:, None]
                new[2][1:limit + 1] += np.einsum("x,xkc->kc", deaths[:, sex], kids_by_sex)
                new[3][1:limit + 1] += (money[:, sex] @ orphan_part)[:, None] * split
        nxt = np.maximum(rules.next_population, 1e-300)  # persons -> shares of next year's
        for array, added in zip((self.spouses, self.spouse_pension, self.orphans,
                                 self.orphan_pension), new, strict=True):
            array += added / nxt

    def _disability(self, y: PensionYear) -> None:
        """Recoveries of last year's disability pensioners below the pensionable age, back
        to the active insured (not contributing) with their service; then onsets among
        last year's qualified contributors below the pensionable age. In this order a
        new disability pension cannot end in its first year, as in the micro engine."""
        below = (AGES[:, None] < y.retirement_age)[:, :, None]
        if y.recovery_rate > 0:
            rate = y.recovery_rate * below
            recovered = self.invalid * rate[..., None]
            self.active[:, :, NOT_CONTRIBUTING] += recovered
            self.labour[..., NC_INACTIVE] += recovered  # as in the micro engine
            self.credits[:, :, NOT_CONTRIBUTING] += self.invalid_credits * rate
            self.paid[:, :, NOT_CONTRIBUTING] += self.invalid_paid * rate
            self.recent[:, :, NOT_CONTRIBUTING] += self.invalid_recent * rate[..., None]
            self.invalid -= recovered
            for array in (self.invalid_pension, self.invalid_credits, self.invalid_paid):
                array *= 1.0 - rate
            self.invalid_recent *= 1.0 - rate[..., None]
        if not y.incidence.any():
            return
        qualified = dbp.qualified_insured(AGES[:, None, None], y.retirement_age[:, :, None],
                                          SERVICE, y.disability_minimum_service)
        rate = y.incidence[:, :, None] * qualified
        onset = self.active[:, :, CONTRIBUTING] * rate[..., None]  # (age, sex, service, k)
        credits = self.credits[:, :, CONTRIBUTING] * rate
        paid = self.paid[:, :, CONTRIBUTING] * rate
        recent = self.recent[:, :, CONTRIBUTING] * rate[..., None]
        future = np.maximum(y.retirement_age - AGES[:, None], 0)[:, :, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            onsets = onset.sum(axis=-1)
            per_person = np.where(onsets > 0, self.reference(credits, recent,
                                                             SERVICE[None, None, :], y)
                                  / onsets, 0.0)
        award = dbp.disability_pension(y.accrual_rate, per_person, SERVICE[None, None, :],
                                       future, y.minimum_pension, y.maximum_pension,
                                       y.rate_above, y.band_years)
        self.active[:, :, CONTRIBUTING] -= onset
        self.credits[:, :, CONTRIBUTING] -= credits
        self.paid[:, :, CONTRIBUTING] -= paid
        self.recent[:, :, CONTRIBUTING] -= recent
        self.invalid += onset
        self.invalid_pension += onsets * award
        self.invalid_credits += credits
        self.invalid_paid += paid
        self.invalid_recent += recent

    def _contribution_status(self, y: PensionYear) -> None:
        """Move people between statuses so that the contributing share is ``y.density``,
        and the non-contributors between labour states (``_labour_states``)."""
        active = self.active.sum(axis=(2, 3, 4))
        with np.errstate(divide="ignore", invalid="ignore"):
            was = np.where(active > 0, self.contributing_share() / active, 0.0)
            target = np.where(active > 0, np.minimum(y.density / active, 1.0), 0.0)
        stay, join = contribution_transitions(was, target, y.persistence)
        self.labour = _labour_states(
            self.labour * (1.0 - join)[:, :, None, None, None],
            self.active[:, :, CONTRIBUTING] * (1.0 - stay)[..., None, None], y.labour_target,
            y.labour_persistence)
        for array in (self.active, self.credits, self.paid, self.recent):
            trailing = (1,) * (array.ndim - 3)  # service (and recent years)
            leave_c = (1.0 - stay).reshape(stay.shape + trailing) * array[:, :, CONTRIBUTING]
            join_n = join.reshape(join.shape + trailing) * array[:, :, NOT_CONTRIBUTING]
            array[:, :, CONTRIBUTING] += join_n - leave_c
            array[:, :, NOT_CONTRIBUTING] += leave_c - join_n

    def _retire(self, y: PensionYear) -> tuple[np.ndarray, np.ndarray]:
        """Award pensions to those at or above retirement age; return new shares, amounts."""
        age = AGES[:, None, None]
        at_age = age >= y.retirement_age[:, :, None]
        active, credits = self.active_by_service(), self.credits.sum(axis=2)
        reference = self.reference(credits, self.recent.sum(axis=2), SERVICE[None, None, :], y)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_person = np.where(active > 0, reference / active, 0.0)
        probability, factor = retirement_choice(y)
        award = dbp.pension_at_award(y.accrual_rate, per_person, y.minimum_pension,
                                     y.maximum_pension, SERVICE, y.rate_above, y.band_years,
                                     factor[:, :, None])
        qualified = (y.minimum_service <= SERVICE)[None, None, :]
        new_share = qualified * probability[:, :, None] * active
        new_amount = new_share * award
        self.pensioners += new_share
        self.pension += new_amount
        # those who reach retirement age without enough service leave, with a refund
        leaving = dbp.leaves_without_pension(age, y.retirement_age[:, :, None], SERVICE,
                                             y.minimum_service)
        # those who contributed are paid back a share of their contributions (each at its
        # year's rate; care credits were not paid for), if the scheme refunds
        _, contributed = class_years(self.active.shape[-1])
        paid_in = self.active.sum(axis=2) * (contributed >= 1)  # (age, sex, service, k)
        self.refunded = np.where(leaving, paid_in.sum(axis=-1), 0.0).sum(axis=2) \
            * (y.refund_share > 0)
        self.refund = dbp.refund(y.refund_share, np.where(leaving, self.paid.sum(axis=2),
                                                          0.0).sum(axis=2))
        gone = np.where(leaving, 1.0, qualified * probability[:, :, None])  # (age, sex, class)
        self.active = self.active * (1.0 - gone[:, :, None, :, None])
        self.labour = self.labour * (1.0 - gone[..., None, None])
        self.credits = self.credits * (1.0 - gone[:, :, None, :])
        self.paid = self.paid * (1.0 - gone[:, :, None, :])
        self.recent = self.recent * (1.0 - gone[:, :, None, :, None])
        # disability pensions continue as old-age pensions
        self.pensioners += np.where(at_age, self.invalid_by_service(), 0.0)
        self.pension += np.where(at_age, self.invalid_pension, 0.0)
        for name in self.INVALID:
            getattr(self, name)[at_age[..., 0]] = 0.0
        return new_share, new_amount

    def contributing_share(self) -> np.ndarray:
        """(age, sex) share of the population contributing this year."""
        return self.active[:, :, CONTRIBUTING].sum(axis=(2, 3))

    def advance(self, y: PensionYear) -> None:
        """Credit this year's contributions, award survivors' pensions for the year's
        deaths, then age one year and add immigrants."""
        contributing = self.active[:, :, CONTRIBUTING]
        earned = contributing.sum(axis=-1) * y.earnings[:, :, None]
        moved = {"active": _contribution_year(contributing),
                 "credits": self.credits[:, :, CONTRIBUTING] + earned,
                 "paid": self.paid[:, :, CONTRIBUTING] + earned * y.contribution_rate,
                 "recent": _credited(self.recent[:, :, CONTRIBUTING], earned)}
        for name, shift in moved.items():
            array = getattr(self, name)[:, :, CONTRIBUTING]
            array[...] = 0.0
            _promote(array, shift)
        self._care_credits(y)
        q = _step_death_rate(y)
        q_invalid, q_others = dbp.differential_mortality(q, self.invalid.sum(axis=(2, 3)),
                                                         y.invalid_mortality)
        survivors = y.survivors is not None and y.survivors.active
        if survivors:
            deaths, money = self._survivor_deaths(y, q_invalid, q_others)
        self._differential_survival(q, q_invalid, q_others)
        for name in self.ARRAYS:
            setattr(self, name, _age_one_year(getattr(self, name), y.open_weights))
        self.active[0] = 0.0
        self.active[0, :, NOT_CONTRIBUTING, 0, 0] = 1.0
        self.labour[0] = 0.0
        self.labour[0, :, 0, 0, NC_INACTIVE] = 1.0
        stay = 1.0 - y.newcomer_share
        for array in self.arrays():
            array *= stay.reshape(stay.shape + (1,) * (array.ndim - 2))
        # newborns and immigrants enter inactive, with no service (as in the micro engine)
        self.active[:, :, NOT_CONTRIBUTING, 0, 0] += y.newcomer_share
        self.labour[:, :, 0, 0, NC_INACTIVE] += y.newcomer_share
        if survivors:
            self._add_survivors(y, deaths, money)


    def _differential_survival(self, q: np.ndarray, q_invalid: np.ndarray,
                               q_others: np.ndarray) -> None:
        """Shares are of the population, which survives at q: the disability pensioners'
        shares change by (1 - q_invalid) / (1 - q), everybody else's by
        (1 - q_others) / (1 - q)."""
        if q_invalid is q_others:  # everybody at the population's rates
            return
        with np.errstate(divide="ignore", invalid="ignore"):
            keep_invalid = np.where(q < 1.0, (1.0 - q_invalid) / (1.0 - q), 1.0)
            keep_others = np.where(q < 1.0, (1.0 - q_others) / (1.0 - q), 1.0)
        for name in self.ARRAYS:
            keep = keep_invalid if name in self.INVALID else keep_others
            array = getattr(self, name)
            array *= keep.reshape(keep.shape + (1,) * (array.ndim - 2))


def _credited(recent: np.ndarray, earned: np.ndarray) -> np.ndarray:
    """Recent-earnings sums (..., R) after one more credited year with ``earned`` (...):
    this year's earnings go first and the oldest drop out."""
    out = np.empty_like(recent)
    if recent.shape[-1]:
        out[..., 0] = earned
        out[..., 1:] = recent[..., :-1]
    return out


def _contribution_year(members: np.ndarray) -> np.ndarray:
    """Members (..., k) after a year of contributions: k + 1, the last class keeping its
    members (k = min(contribution years, K - 1))."""
    out = np.zeros_like(members)
    out[..., 1:] = members[..., :-1]
    out[..., -1] += members[..., -1]
    return out


def _promote(array: np.ndarray, moved: np.ndarray) -> None:
    """Add ``moved`` to ``array`` one credited-service class up (axis 2; the top class
    keeps its members)."""
    array[:, :, 1:] += moved[:, :, :-1]
    array[:, :, -1] += moved[:, :, -1]


def _step_death_rate(y: PensionYear) -> np.ndarray:
    """(age, sex) probability of dying during the step (zero when a hand-built year has
    none)."""
    if y.death_rate is not None:
        return y.death_rate
    if y.survivors is not None:
        return y.survivors.death_rate
    return np.zeros_like(y.density)


def retirement_choice(y: PensionYear) -> tuple[np.ndarray, np.ndarray]:
    """(age, sex) probability that an eligible active member retires this year, and the
    adjustment factor of the pension (everybody at the pensionable age by default)."""
    if y.retire_probability is None:
        at_age = (AGES[:, None] >= y.retirement_age).astype(float)
        return at_age, np.ones_like(at_age)
    return y.retire_probability, y.retire_factor


def _indexed(total: np.ndarray, persons: np.ndarray, y: PensionYear) -> np.ndarray:
    """Per-capita pension totals after indexation and the minimum pension."""
    per_person = np.where(persons > 0, total / np.maximum(persons, 1e-300), 0.0)
    in_payment = dbp.pension_in_payment(per_person, y.indexation, y.minimum_pension)
    return np.where(persons > 0, in_payment * persons, 0.0)


def contribution_transitions(was: np.ndarray, target: np.ndarray,
                             persistence: float) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of contributing this year given last year's status.

    A two-state Markov chain whose marginal moves from ``was`` (share contributing last
    year) to ``target``: ``stay`` = P(contribute | contributed) = target + persistence x
    (1 - target), capped at target / was, and ``join`` = P(contribute | did not) chosen so
    that was x stay + (1 - was) x join = target. persistence = 0 gives independent years
    (binomial service); 1 gives lifelong insiders and outsiders.
    """
    stay = target + persistence * (1.0 - target)
    with np.errstate(divide="ignore", invalid="ignore"):
        stay = np.where(was > 0, np.minimum(stay, target / np.where(was > 0, was, 1.0)), stay)
        join = np.where(was < 1, (target - was * stay) / np.where(was < 1, 1.0 - was, 1.0), 0.0)
    return stay, np.clip(join, 0.0, 1.0)


def aligned_persistence(previous: np.ndarray, incoming: np.ndarray, target: np.ndarray,
                        persistence: float) -> tuple[np.ndarray, np.ndarray]:
    """Keep-or-draw transitions among K states whose expected shares hit ``target``.

    ``previous`` (..., K): expected persons by last year's state who will be in this group
    this year; ``incoming`` (...): those who enter it from outside; ``target`` (..., K):
    wanted shares (summing to 1). A person of the group keeps last year's state with
    probability ``keep`` (the persistence, lowered where a state must shrink faster than
    allowed); everyone else draws a state with probabilities ``draw`` (..., K), so that
    keep x w_k + (1 - keep x sum w) x draw_k = target_k, w the previous shares.
    """
    total = previous.sum(axis=-1) + incoming
    with np.errstate(divide="ignore", invalid="ignore"):
        wanted = target / np.where(target.sum(-1, keepdims=True) > 0,
                                   target.sum(-1, keepdims=True), 1.0)
        wanted = np.where(target.sum(-1, keepdims=True) > 0, wanted, 1.0 / target.shape[-1])
        w = np.where(total[..., None] > 0, previous / total[..., None], 0.0)
        limit = np.where(w > 0, wanted / np.where(w > 0, w, 1.0), np.inf).min(axis=-1)
    keep = np.minimum(persistence, limit)
    free = 1.0 - keep * w.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        draw = np.where(free[..., None] > 1e-12,
                        (wanted - keep[..., None] * w) / free[..., None], wanted)
    draw = np.clip(draw, 0.0, None)
    draw /= np.where(draw.sum(-1, keepdims=True) > 0, draw.sum(-1, keepdims=True), 1.0)
    return keep, draw


def _labour_states(staying: np.ndarray, leaving: np.ndarray, target: np.ndarray | None,
                   persistence: float) -> np.ndarray:
    """This year's non-contributors (age, sex, service, k, state) from last year's who do
    not contribute this year (``staying``, same axes) and last year's contributors who stop
    (``leaving``, (age, sex, service, k)): the expected outcome of the micro engine's
    ``labour_state``. Non-contributors keep their state with probability ``keep``; the
    others and those who stop contributing draw one (:func:`aligned_persistence`, on each
    cell's totals). ``target`` None: all inactive."""
    if target is None:
        out = np.zeros_like(staying)
        out[..., NC_INACTIVE] = staying.sum(axis=-1) + leaving
        return out
    keep, draw = aligned_persistence(staying.sum(axis=(2, 3)), leaving.sum(axis=(2, 3)),
                                     target, persistence)
    drawing = (1.0 - keep)[..., None, None] * staying.sum(axis=-1) + leaving
    return (keep[:, :, None, None, None] * staying
            + drawing[..., None] * draw[:, :, None, None, :])


def _age_one_year(share: np.ndarray, open_weights: np.ndarray) -> np.ndarray:
    """Shift shares one age up; the open group merges ages 99 and 100+ by population."""
    out = np.zeros_like(share)
    out[1:-1] = share[:-2]
    w = open_weights / np.maximum(open_weights.sum(axis=0), 1e-300)
    w = w.reshape(w.shape + (1,) * (share.ndim - 2))  # broadcast over the trailing axes
    out[-1] = share[-2] * w[0] + share[-1] * w[1]
    return out


def _density(econ: EconomicProjection, population: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(population > 0, econ.covered / population, 0.0)


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

    def survivors(k: int) -> SurvivorRules:
        key = (*np.asarray(scheme["spouse_age_difference"][k]).astype(int).tolist(),
               float(scheme["spouse_age_spread"][k]))
        if key not in weights:
            weights[key] = dbp.partner_age_weights(key[:2], key[2])
        return SurvivorRules(
            spouse_share=float(scheme["survivor_pension_share"][k]),
            orphan_share=float(scheme["orphan_pension_share"][k]),
            orphan_age_limit=int(scheme["orphan_age_limit"][k]),
            married=np.asarray(scheme["married_share"][k], dtype=float),
            partner_weights=weights[key],
            end_rate=float(scheme["survivor_end_rate"][k]),
            minimum_service=float(scheme["survivor_minimum_service"][k]),
            death_rate=death_rates(demo.survival[k]), asfr=assumptions.asfr[k],
            p_male=float(assumptions.srb[k] / (1.0 + assumptions.srb[k])),
            population=demo.population[k], next_population=demo.population[nxt[k]],
            maximum_share=float(scheme["survivor_maximum_share"][k]))

    def inputs(k: int) -> PensionYear:
        return PensionYear(
            density=density[k], persistence=scheme["contribution_persistence"][k],
            earnings=dbp.insurable(econ.earnings[k], scheme["earnings_floor"][k],
                                   scheme["earnings_ceiling"][k]),
            retirement_age=scheme.retirement_age_grid[k],
            minimum_service=scheme["minimum_service"][k], accrual_rate=scheme["accrual_rate"][k],
            minimum_pension=scheme["minimum_pension"][k],
            maximum_pension=scheme["maximum_pension"][k],
            rate_above=float(scheme["accrual_rate_above"][k]),
            band_years=int(scheme["accrual_band_years"][k]),
            **retirement_options(scheme, k, scheme.retirement_age_grid[k]),
            open_weights=demo.population[k][-2:], newcomer_share=newcomers[k],
            # the base-year state is already in base-year terms
            revaluation=scheme.index_growth["earnings_revaluation"][k] if k else 0.0,
            indexation=scheme.index_growth["pension_indexation"][k] if k else 0.0,
            incidence=assumptions.invalidity_incidence[k],
            disability_minimum_service=scheme["disability_minimum_service"][k],
            recovery_rate=scheme["disability_recovery_rate"][k], survivors=survivors(k),
            care_probability=dbp.care_credit_probability(
                assumptions.asfr[k], int(scheme["care_credit_child_age"][k])),
            refund_share=float(scheme["refund_share"][k]),
            contribution_rate=float(scheme["contribution_rate"][k]),
            care_credit=float(scheme["care_credit_earnings"][k] * econ.average_earnings[k]),
            care_insured_only=scheme.choices["care_credit_eligibility"] == "insured",
            death_rate=death_rates(demo.survival[k]),
            invalid_mortality=float(scheme["disability_mortality_factor"][k]),
            reference_years=int(scheme["reference_earnings_years"][k]),
            labour_target=econ.non_contributing(k, demo.population[k]),
            labour_persistence=assumptions.labour_persistence)

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


def retirement_options(scheme: CompiledScheme, k: int, retirement_age: np.ndarray) -> dict:
    """PensionYear fields of early and late retirement for year k (none when unused, so
    that the default schedule keeps its exact arithmetic)."""
    early, defer = float(scheme["early_retirement_rate"][k]), float(scheme["deferral_rate"][k])
    if early <= 0 and defer <= 0:
        return {}
    probability, factor = dbp.retirement_schedule(
        AGES[:, None], retirement_age, scheme["early_retirement_age"][k], early,
        scheme["early_reduction"][k], defer, scheme["latest_retirement_age"][k],
        scheme["late_increment"][k])
    return {"retire_probability": probability, "retire_factor": factor}


def death_rates(survival: np.ndarray) -> np.ndarray:
    """(age, sex) probability of dying during the step by age at its start, from the
    projection's survival ratios by age at its end (the open group survives within
    itself)."""
    q = np.empty_like(survival)
    q[:-1] = 1.0 - survival[1:]
    q[-1] = 1.0 - survival[-1]
    return q


def run_db_pension(scheme: CompiledScheme, assumptions: Assumptions,
                   demo: DemographicProjection, econ: EconomicProjection,
                   contribution_classes: int = 1) -> SchemeFlows:
    """Expected contributors, pensioners and cash flows of a DB old-age pension
    (``contribution_classes``: see :class:`PensionState`)."""
    n = assumptions.n_years
    inputs = pension_years(scheme, assumptions, demo, econ)
    state = base_year_state(scheme, assumptions, inputs(0), contribution_classes)
    shape = demo.population.shape
    contributors, beneficiaries = np.zeros(shape), np.zeros(shape)
    new_count, new_amount = np.zeros((n, 2)), np.zeros((n, 2))
    service_awarded = np.zeros((n, 2, MAX_SERVICE + 1))
    insured, paid, refunds = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    active = np.zeros(shape)
    classes, per_person = np.zeros((*shape, MAX_SERVICE + 1)), np.zeros((*shape, MAX_SERVICE + 1))
    branch_persons, branch_money = np.zeros((*shape, len(BRANCHES))), np.zeros((n, len(BRANCHES)))
    unemployed = np.zeros((*shape, MAX_SERVICE + 1, contribution_classes))
    survivors = np.zeros((*shape, 2))
    for k in range(n):
        y = inputs(k)
        new_share, new_total = state.step(y)
        pop = demo.population[k]
        active[k] = state.active.sum(axis=(2, 3, 4))
        unemployed[k] = state.labour[..., NC_UNEMPLOYED]
        # every pension in payment, old-age and disability, by credited-service class
        classes[k] = state.pensioners + state.invalid_by_service()
        total = state.pension + state.invalid_pension
        with np.errstate(divide="ignore", invalid="ignore"):
            per_person[k] = np.where(classes[k] > 0, total / np.maximum(classes[k], 1e-300),
                                     0.0)
        contributors[k] = pop * state.contributing_share()
        insured[k] = contributors[k] * y.earnings
        for b, (persons, money) in enumerate((
                (state.pensioners, state.pension),
                (state.invalid_by_service(), state.invalid_pension),
                (state.spouses + state.orphans, state.spouse_pension + state.orphan_pension),
                (state.refunded, state.refund))):
            share = persons.sum(axis=2) if persons.ndim == 3 else persons
            spent = money.sum(axis=2) if money.ndim == 3 else money
            branch_persons[k, ..., b] = pop * share
            branch_money[k, b] = float((pop * spent).sum())
        beneficiaries[k] = branch_persons[k].sum(axis=-1)
        survivors[k] = pop[..., None] * np.stack([state.spouses, state.orphans], axis=-1)
        refunds[k] = pop * state.refund
        paid[k] = pop * (total.sum(axis=2) + state.spouse_pension + state.orphan_pension) \
            + refunds[k]
        service_awarded[k] = (pop[:, :, None] * new_share).sum(axis=0)
        new_count[k] = service_awarded[k].sum(axis=-1)
        new_amount[k] = (pop[:, :, None] * new_total).sum(axis=(0, 2))
        state.advance(y)
    return pension_flows(scheme, contributors, beneficiaries, new_count, new_amount, insured,
                         paid, service_awarded, lump_sums_by_age=refunds,
                         active_share=active,
                         pension_classes=classes, pension_per_person=per_person,
                         unemployed_service=unemployed, survivors_by_kind=survivors,
                         branch_beneficiaries=branch_persons,
                         branch_expenditure=branch_money)


def pension_flows(scheme: CompiledScheme, contributors, beneficiaries, new_count, new_amount,
                  insured_by_age, benefits_by_age, service_awarded, **detail) -> SchemeFlows:
    """A contributory pension's flows (both engines) from its insured earnings and benefits
    paid by (year, age, sex): contributions, the state's contribution, administration by
    its basis."""
    insured = insured_by_age.sum(axis=(1, 2))
    by_sex = benefits_by_age.sum(axis=1)
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


def recent_years(scheme: CompiledScheme) -> int:
    """How many recent credited years a state must keep: the longest reference period."""
    return int(np.max(scheme["reference_earnings_years"]))


def base_year_state(scheme: CompiledScheme, assumptions: Assumptions,
                    base: PensionYear, contribution_classes: int = 1) -> PensionState:
    """Base-year state from contributions since ``start_year`` at base-year rates."""
    state = PensionState(recent_years=recent_years(scheme),
                         contribution_classes=contribution_classes)
    start = int(scheme["start_year"][0])
    base_year = int(assumptions.years[0])
    wage_growth = assumptions.series_growth["wages"][0]
    price_growth = assumptions.series_growth["prices"][0]
    for year in range(start, base_year):
        lag = base_year - year
        past = PensionYear(
            density=base.density, persistence=base.persistence,
            earnings=base.earnings / (1.0 + wage_growth) ** lag,
            retirement_age=scheme.retirement_ages_before(year),
            minimum_service=base.minimum_service,
            accrual_rate=base.accrual_rate,
            minimum_pension=base.minimum_pension / (1.0 + price_growth) ** lag,
            maximum_pension=base.maximum_pension / (1.0 + price_growth) ** lag,
            rate_above=base.rate_above, band_years=base.band_years,
            **retirement_options(scheme, 0, scheme.retirement_ages_before(year)),
            open_weights=base.open_weights, newcomer_share=np.zeros_like(base.density),
            revaluation=scheme.index_growth["earnings_revaluation"][0],
            indexation=scheme.index_growth["pension_indexation"][0],
            incidence=base.incidence,
            disability_minimum_service=base.disability_minimum_service,
            recovery_rate=base.recovery_rate,
            # a stationary reconstruction: this year's population is next year's
            survivors=None if base.survivors is None else dataclasses.replace(
                base.survivors, next_population=base.survivors.population),
            care_probability=base.care_probability,
            care_credit=base.care_credit / (1.0 + wage_growth) ** lag,
            care_insured_only=base.care_insured_only,
            contribution_rate=base.contribution_rate,  # refunds are paid from the base year
            death_rate=base.death_rate, invalid_mortality=base.invalid_mortality,
            reference_years=base.reference_years)
        state.step(past)
        state.advance(past)
    # bring the last reconstructed year's credits and pensions into the base year
    for array in state.earnings_arrays():
        array *= 1.0 + scheme.index_growth["earnings_revaluation"][0]
    for array in (state.pension, state.invalid_pension, state.spouse_pension,
                  state.orphan_pension):
        array *= 1.0 + scheme.index_growth["pension_indexation"][0]
    return state


def benefit_flows(scheme: CompiledScheme, beneficiaries: np.ndarray,
                  benefits_by_age: np.ndarray, pension: SchemeFlows | None = None
                  ) -> SchemeFlows:
    """Flows of a rule-paid benefit from its beneficiaries and expenditure, both (year,
    age, sex). Short-term insurance: contributions on the insured earnings of the
    contributory pension's members (``pension``), into a fund; otherwise no contributions,
    financed entirely by the state."""
    n = len(beneficiaries)
    by_sex = benefits_by_age.sum(axis=1)
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
                econ: EconomicProjection) -> tuple[list[SchemeFlows], np.ndarray]:
    """Run every scheme of the model through the cohort engine: contributory schemes
    first, then the non-contributory benefits, which may depend on them.

    Returns the flows in model order and the coverage (year, age, sex, coverage group, 2:
    target persons, covered persons)."""
    rules = benefit_rules(assumptions, econ)
    unemployment = unemployment_qualification(rules)
    contributory = {s.id: run_db_pension(s, assumptions, demo, econ,
                                         contribution_classes(s, unemployment))
                    for s in assumptions.schemes if s.type == "db_old_age_pension"}
    pension = next(iter(contributory.values()), None)
    cells = cell_states(assumptions, demo, econ, pension, top_up_floor(rules), unemployment)
    results = cohort_benefits(rules, cells, demo.population)
    benefits = {rule.scheme.id: benefit_flows(rule.scheme, results.beneficiaries[j],
                                              results.expenditure[j], pension)
                for j, rule in enumerate(rules)}
    flows = [contributory.get(s.id) or benefits[s.id] for s in assumptions.schemes]
    return flows, results.coverage
