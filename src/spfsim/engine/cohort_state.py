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
no service. A share of each birth cohort never covered (``never_covered_share``) is not in
the state at all: the members of a cell are its cohort's covered share, and the
contributing share d is theirs alone. This keeps the distribution of past service that an ILO
actuarial valuation carries, so new pensions reflect who has how many years, not a crude
average.

The base year's service distribution and pensioners are built by running the same step
from the scheme's start year at base-year rates, with earnings and the minimum pension
deflated at base-year growth rates (the usual "historical reconstruction" when no
membership data by service are supplied).
"""

from __future__ import annotations

import numpy as np

from ..params import AGES
from ..schemes import db_pension as dbp
from ..schemes.dependants import dependants_of_pensioners
from ..schemes.pension_rules import CEILING
from . import cohort_kernels as kernels
from .cohort_survivors import SurvivorTransitions
from .cohort_transitions import (
    CONTRIBUTING,
    MAX_SERVICE,
    NC_INACTIVE,
    NOT_CONTRIBUTING,
    SHAPE_BANDS,
    StateTransitions,
    _contribution_year,
    _credited,
    _floats,
    _promote,
    add_up,
)
from .cohort_year import PensionYear


class PensionState(StateTransitions, SurvivorTransitions):
    """Shares of each (age, sex) population cell by contribution status and service class.

    ``active[age, sex, status, service]``: not retired, with ``status`` 1 if contributing
    this year (0 otherwise) and ``service`` credited years completed before this year.
    With ``recent_years`` R > 0, ``recent[..., k]`` holds the revalued earnings of each
    class's k-th kept credited year (k = 0..R-1: the most recent, or the best, by
    pension_rules.keep_credited_year), for reference earnings over the last or the best
    years: every member of a class moves alike, so the sums move linearly.
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

    ``top_class`` (age, sex) is the highest credited-service class a row may hold on the
    active side (``active``, ``labour``, ``credits``, ``paid``, ``recent``; -1: none),
    ``top_invalid_class`` the same for the disability pensioners' arrays and
    ``top_pension_class`` for the old-age pensioners' (``pensioners``, ``pension``): every
    class above them is exactly zero. The compiled transitions visit a row up to them and
    keep them (:mod:`.cohort_kernels`); the NumPy path, which does not need them, sets them
    to the last class. Code that writes these arrays by hand calls :meth:`refresh_tops`
    before a transition.
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
        # the base year's yearly caps of the ceiling (PensionYear.career_caps), which the
        # micro engine spreads its base-year members' credits with
        self.career_caps: np.ndarray | None = None
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
        # the year's dependants of the living pensioners (not aged: each year's are those
        # of its pensioners): spouses, their supplements, children, theirs (share, per
        # capita of the cell; schemes.dependants)
        self.dependants = np.zeros((4, n_age, 2))
        # this year's leavers without a pension (share) and their refunds (per capita)
        self.refunded = np.zeros((n_age, 2))
        self.refund = np.zeros((n_age, 2))
        self.top_class = np.zeros((n_age, 2), dtype=np.int64)  # everybody in class 0
        self.top_invalid_class = np.full((n_age, 2), -1, dtype=np.int64)
        self.top_pension_class = np.full((n_age, 2), -1, dtype=np.int64)
        # (sex, class, node) each class's old-age pensions relative to their mean at the
        # nodes of its members' earnings, from the latest awards (kept with dual
        # entitlement: StateTransitions._own_shapes); ones: all at the class's mean
        self.own_shape = np.ones((2, MAX_SERVICE + 1, len(SHAPE_BANDS) - 1))

    def cover_only(self, share: np.ndarray) -> None:
        """Start from members who are only ``share`` (age, sex) of each cell, all inactive
        with no service: the rest of the cell's cohort is never covered, and stays outside
        the state (shares of the population, so it is simply not there)."""
        self.active[:, :, NOT_CONTRIBUTING, 0, 0] = share
        self.labour[:, :, 0, 0, NC_INACTIVE] = share

    def refresh_tops(self) -> None:
        """Set ``top_class``, ``top_invalid_class`` and ``top_pension_class`` to the highest
        classes that hold anything (after the arrays were written by other means than the
        transitions)."""
        active = ((self.active != 0).any(axis=(2, 4)) | (self.labour != 0).any(axis=(3, 4))
                  | (self.credits != 0).any(axis=2) | (self.paid != 0).any(axis=2)
                  | (self.recent != 0).any(axis=(2, 4)))
        invalid = ((self.invalid != 0).any(axis=3) | (self.invalid_pension != 0)
                   | (self.invalid_credits != 0) | (self.invalid_paid != 0)
                   | (self.invalid_recent != 0).any(axis=3))
        self.top_class, self.top_invalid_class = _highest(active), _highest(invalid)
        self.top_pension_class = _highest((self.pensioners != 0) | (self.pension != 0))

    def _any_class(self) -> None:
        """Bounds that hold whatever the arrays (every class), set by the NumPy path,
        which does not keep them."""
        self.top_class[:] = MAX_SERVICE
        self.top_invalid_class[:] = MAX_SERVICE
        self.top_pension_class[:] = MAX_SERVICE

    def _age_arrays(self, weights: np.ndarray, stay: np.ndarray, y: PensionYear) -> None:
        """Age every array one year (:func:`_age_one_year`) and add the newborns and
        immigrants: the NumPy form of the compiled kernels.age_state."""
        for name in self.ARRAYS:
            setattr(self, name, _age_one_year(getattr(self, name), weights, stay))
        # newborns and immigrants enter inactive, with no service (as in the micro engine);
        # those of their cohort never covered stay outside
        born, arriving = stay[0], y.newcomer_share
        if y.covered_share is not None:
            born, arriving = born * y.covered_share[0], arriving * y.covered_share
        self.active[0, :, NOT_CONTRIBUTING, 0, 0] = born
        self.labour[0, :, 0, 0, NC_INACTIVE] = born
        self.active[:, :, NOT_CONTRIBUTING, 0, 0] += arriving
        self.labour[:, :, 0, 0, NC_INACTIVE] += arriving
        self._any_class()

    def arrays(self) -> tuple[np.ndarray, ...]:
        """Every share and per-capita amount the state carries (aged together)."""
        return tuple(getattr(self, name) for name in self.ARRAYS)

    def active_by_service(self) -> np.ndarray:
        """(age, sex, service) active members, contributing or not."""
        return add_up(self.active, (2, 4))

    def invalid_by_service(self) -> np.ndarray:
        """(age, sex, service) disability pensioners by credited service at onset."""
        return add_up(self.invalid, -1)

    def earnings_arrays(self) -> tuple[np.ndarray, ...]:
        """The revalued earnings the state carries (revalued together)."""
        return (self.credits, self.paid, self.recent, self.invalid_credits,
                self.invalid_paid, self.invalid_recent)

    def reference(self, credits: np.ndarray, recent: np.ndarray, service: np.ndarray,
                  members: np.ndarray, y: PensionYear, years=None) -> np.ndarray:
        """Credited earnings for the pension formula from the career credits and the
        kept years' earnings (class totals in, class totals out; the rule is linear:
        schemes.db_pension.reference_credits), the best years' with their transitory gain
        (db_pension.best_years_gains: the classes' ``members``, their permanent spread and
        the formula's ceiling). ``years``: the kept years counted, broadcast to the
        classes (a disability's: db_pension.award_years; None: the reference's N)."""
        if y.reference_years <= 0:
            return credits
        years = np.asarray(y.reference_years if years is None else years)
        if (years == y.reference_years).all():
            kept = recent[..., :y.reference_years].sum(axis=-1)
        else:  # fewer at some ages
            counted = np.arange(recent.shape[-1]) < years[..., None]
            kept = np.where(counted, recent, 0.0).sum(axis=-1)
        if y.best_years_sd > 0.0:
            cap = np.asarray(members) * y.formula[CEILING]
            kept = kept * dbp.best_years_gains(recent, service, years, y.best_years_sd,
                                               y.spread, cap)
        return dbp.reference_credits(credits, kept, service, years)

    def step(self, y: PensionYear) -> tuple[np.ndarray, np.ndarray]:
        """Enter year y: revalue credits, index pensions, disability onsets and recoveries,
        set who contributes this year, award new old-age pensions, apply the minimum.

        Returns the shares newly awarded an old-age pension and their total annual pension
        (per capita), by (age, sex, service)."""
        if kernels.COMPILED:
            kernels.revalued(*self.earnings_arrays(), 1.0 + y.revaluation, self.top_class,
                             self.top_invalid_class)
            growth, minimum = float(y.indexation), float(y.minimum_pension)
            kernels.indexed(self.pension, self.pensioners[..., None], growth, minimum,
                            self.top_pension_class)
            kernels.indexed(self.invalid_pension, self.invalid, growth, minimum,
                            self.top_invalid_class)
        else:
            for array in self.earnings_arrays():
                array *= 1.0 + y.revaluation
            self.pension = _indexed(self.pension, self.pensioners, y)
            self.invalid_pension = _indexed(self.invalid_pension, self.invalid_by_service(),
                                            y)
        self._dependants_year(y)
        self._survivors_year(y)
        self._disability(y)
        self._contribution_status(y)
        awarded = self._retire(y)
        if not kernels.COMPILED:
            self._any_class()
        return awarded

    def _dependants_year(self, y: PensionYear) -> None:
        """The year's dependants of the pensioners in payment at its start, at their
        indexed pensions (schemes.dependants.dependants_of_pensioners), among the persons
        without a survivor's pension before the year's ends; zeros without the
        supplements."""
        rules = y.dependants
        if rules is None:
            self.dependants[:] = 0.0
            return
        pop = rules.population
        pensioners = self.pensioners.sum(axis=2) + add_up(self.invalid, (2, 3))
        money = self.pension.sum(axis=2) + self.invalid_pension.sum(axis=2)
        found = dependants_of_pensioners(
            pop * pensioners, pop * money,
            pop * np.clip(1.0 - self.spouses - self.orphans, 0.0, None), pop, rules.married,
            rules.partner_weights, rules.children, rules.p_male, rules.spouse_share,
            rules.child_share, rules.maximum_share, rules.spouse_age)
        with np.errstate(divide="ignore", invalid="ignore"):
            for j, persons in enumerate(found):
                self.dependants[j] = np.where(pop > 0, persons / pop, 0.0)

    def _credit_year(self, y: PensionYear) -> None:
        """This year's contributors gain a credited year (one service class up), a
        contribution year, this year's insured earnings and the contributions paid."""
        if kernels.COMPILED:
            kernels.credit_year(self.active, self.credits, self.paid, self.recent,
                                _floats(y.earnings), float(y.contribution_rate),
                                self.top_class, bool(y.best_years))
            return
        contributing = self.active[:, :, CONTRIBUTING]
        earned = add_up(contributing, -1) * y.earnings[:, :, None]
        moved = {"active": _contribution_year(contributing),
                 "credits": self.credits[:, :, CONTRIBUTING] + earned,
                 "paid": self.paid[:, :, CONTRIBUTING] + earned * y.contribution_rate,
                 "recent": _credited(self.recent[:, :, CONTRIBUTING], earned,
                                     y.best_years)}
        for name, shift in moved.items():
            array = getattr(self, name)[:, :, CONTRIBUTING]
            array[...] = 0.0
            _promote(array, shift)

    def contributing_share(self) -> np.ndarray:
        """(age, sex) share of the population contributing this year."""
        return add_up(self.active[:, :, CONTRIBUTING], (2, 3))

    def advance(self, y: PensionYear) -> None:
        """Credit this year's contributions, award survivors' pensions for the year's
        deaths, then age one year and add immigrants."""
        self._credit_year(y)
        self._care_credits(y)
        q = _step_death_rate(y)
        # the disability pensioners' share matters only where they die apart
        share = None if y.invalid_mortality == 1.0 else add_up(self.invalid, (2, 3))
        q_invalid, q_others = dbp.differential_mortality(q, share, y.invalid_mortality)
        survivors = y.survivors is not None and y.survivors.active
        if survivors:
            deaths, money = self._survivor_deaths(y, q_invalid, q_others)
        self._differential_survival(q, q_invalid, q_others)
        # aged one year, each cell then shared with its newcomers
        stay = 1.0 - y.newcomer_share
        weights = y.open_weights / np.maximum(y.open_weights.sum(axis=0), 1e-300)
        if kernels.COMPILED:  # in place, the rows' bounds too
            kernels.age_state(*self.arrays(), _floats(weights), _floats(stay),
                              _floats(y.newcomer_share),
                              _floats(np.zeros((0, 0)) if y.covered_share is None
                                      else y.covered_share),
                              self.top_class, self.top_invalid_class,
                              self.top_pension_class)
        else:
            self._age_arrays(weights, stay, y)
        if survivors:
            self._add_survivors(y, deaths, money)




def _highest(occupied: np.ndarray) -> np.ndarray:
    """(age, sex) the highest class of ``occupied`` (age, sex, service) that is True, -1
    where none is."""
    last = occupied.shape[-1] - 1
    return np.where(occupied.any(axis=-1), last - np.argmax(occupied[..., ::-1], axis=-1), -1)


def _step_death_rate(y: PensionYear) -> np.ndarray:
    """(age, sex) probability of dying during the step (zero when a hand-built year has
    none)."""
    if y.death_rate is not None:
        return y.death_rate
    if y.survivors is not None:
        return y.survivors.death_rate
    return np.zeros_like(y.density)


def _indexed(total: np.ndarray, persons: np.ndarray, y: PensionYear) -> np.ndarray:
    """Per-capita pension totals after indexation and the minimum pension."""
    per_person = np.where(persons > 0, total / np.maximum(persons, 1e-300), 0.0)
    in_payment = dbp.pension_in_payment(per_person, y.indexation, y.minimum_pension)
    return np.where(persons > 0, in_payment * persons, 0.0)


def _age_one_year(share: np.ndarray, weights: np.ndarray, stay: np.ndarray) -> np.ndarray:
    """Shift shares one age up, times the (age, sex) share ``stay`` of each new cell that
    is not a newcomer; the open group merges ages 99 and 100+ by their population shares
    ``weights`` (2, sex)."""
    trailing = (1,) * (share.ndim - 2)  # broadcast over the trailing axes
    stay = stay.reshape(stay.shape + trailing)
    w = weights.reshape(weights.shape + trailing)
    out = np.empty_like(share)
    out[0] = 0.0  # the newborns' cells, filled by the caller
    np.multiply(share[:-2], stay[1:-1], out=out[1:-1])
    out[-1] = (share[-2] * w[0] + share[-1] * w[1]) * stay[-1]
    return out
