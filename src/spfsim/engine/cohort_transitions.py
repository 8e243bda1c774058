"""How the cohort engine's pension state moves in a year: care credits, disability onsets
and recoveries, who contributes and in which labour state, retirement and leaving, and the
survival of disability pensioners apart from the others.

The methods of :class:`StateTransitions` act on a
:class:`~spfsim.engine.cohort_state.PensionState` (shares by age x sex x status x
credited-service class); every pension formula they use is a rule of
:mod:`spfsim.schemes.pension_rules` (through :mod:`spfsim.schemes.db_pension`'s array
functions), the micro kernels' too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..params import AGES
from ..schemes import db_pension as dbp
from ..schemes import pension_rules as rules
from . import cohort_kernels as kernels
from .benefits import class_years

if TYPE_CHECKING:
    from .cohort_year import PensionYear

MAX_SERVICE = 60
SERVICE = np.arange(MAX_SERVICE + 1)
NOT_CONTRIBUTING, CONTRIBUTING = 0, 1
# the non-contributors' labour states, last axis of PensionState.labour, in the order of
# EconomicProjection.non_contributing and of the micro kernel's NON_CONTRIBUTING_STATES
NC_INFORMAL, NC_UNEMPLOYED, NC_INACTIVE, NC_DISABLED = range(4)
#: the equal-probability bands of the earnings levels at whose means a class's own
#: pensions are kept (PensionState.own_shape, pension_rules.awards_at_levels)
SHAPE_BANDS = rules.shape_bands()


class StateTransitions:
    """The year's moves of a PensionState between its classes (mixed into it)."""

    def _care_credits(self, y: PensionYear) -> None:
        """Women below the pensionable age who did not contribute this year, have a young
        child and may be credited (``care_insured_only``: those who have contributed) are
        credited a year of service and the care-credit earnings."""
        if y.care_probability is None or not y.care_probability.any():
            return
        if kernels.COMPILED:
            kernels.care_credits(self.active, self.labour, self.credits, self.paid,
                                 self.recent, _floats(y.care_probability),
                                 _floats(y.retirement_age), float(y.care_credit),
                                 bool(y.care_insured_only), self.top_class,
                                 bool(y.best_years))
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
        in_class, moved_class = add_up(women, -1), add_up(moved, -1)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(in_class > 0, moved_class / in_class, 0.0)
        credited = moved_class * y.care_credit
        moved_credits = credits * share + credited
        moved_paid = paid * share  # credited, not paid for
        moved_recent = _credited(recent * share[..., None], credited, y.best_years)
        women -= moved
        labour -= moved_labour
        credits -= credits * share
        paid -= paid * share
        recent -= recent * share[..., None]
        for array, shift in ((women, moved), (labour, moved_labour), (credits, moved_credits),
                             (paid, moved_paid), (recent, moved_recent)):
            _promote(array, shift)


    def _disability(self, y: PensionYear) -> None:
        """Recoveries of last year's disability pensioners below the pensionable age, back
        to the active insured (not contributing) with their service; then onsets among
        last year's qualified contributors below the pensionable age. In this order a
        new disability pension cannot end in its first year, as in the micro engine."""
        if kernels.COMPILED:
            kernels.disability(
                self.active, self.labour, self.credits, self.paid, self.recent, self.invalid,
                self.invalid_pension, self.invalid_credits, self.invalid_paid,
                self.invalid_recent, _floats(y.retirement_age), float(y.recovery_rate),
                _floats(y.incidence), float(y.disability_minimum_service), *_formula(y),
                self.top_class, self.top_invalid_class)
            return
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
        future, years = (a[:, :, None] for a in dbp.award_years(
            AGES[:, None], y.retirement_age, y.reference_years, y.formula))
        with np.errstate(divide="ignore", invalid="ignore"):
            onsets = add_up(onset, -1)
            per_person = np.where(onsets > 0, self.reference(credits, recent,
                                                             SERVICE[None, None, :],
                                                             onsets, y, years)
                                  / onsets, 0.0)
        award = (dbp.disability_pension(0.0, per_person, SERVICE[None, None, :], future,
                                        y.minimum_pension, y.maximum_pension,
                                        formula=y.formula, spread=y.spread)
                 if y.career_caps is None else
                 capped_awards(rules.disability_award, per_person, future, y))
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
        if kernels.COMPILED:
            target = (np.empty((0, 0, 0)) if y.labour_target is None
                      else _floats(y.labour_target))
            kernels.contribution_status(self.active, self.labour, self.credits, self.paid,
                                        self.recent, _floats(y.density),
                                        float(y.persistence), target,
                                        float(y.labour_persistence), self.top_class)
            return
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
        if kernels.COMPILED:
            if default_retirement(y):
                probability = factor = np.zeros((0, 0))  # the default, in the kernel
            else:
                probability, factor = retirement_choice(y)
            new_share, new_amount = np.zeros_like(self.pension), np.zeros_like(self.pension)
            reference = np.zeros_like(self.pension)
            self.refunded, self.refund = np.empty_like(self.refunded), np.empty_like(self.refund)
            kernels.retire(
                self.active, self.labour, self.credits, self.paid, self.recent,
                self.pensioners, self.pension, self.invalid, self.invalid_pension,
                self.invalid_credits, self.invalid_paid, self.invalid_recent, self.refunded,
                self.refund, _floats(y.retirement_age), _floats(probability), _floats(factor),
                float(y.minimum_service), *_formula(y), float(y.refund_share), new_share,
                new_amount, reference, self.top_class, self.top_invalid_class,
                self.top_pension_class)
            self._own_shapes(y, new_share, reference, factor)
            return new_share, new_amount
        age = AGES[:, None, None]
        at_age = age >= y.retirement_age[:, :, None]
        active, credits = self.active_by_service(), self.credits.sum(axis=2)
        reference = self.reference(credits, self.recent.sum(axis=2), SERVICE[None, None, :],
                                   active, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            per_person = np.where(active > 0, reference / active, 0.0)
        probability, factor = retirement_choice(y)
        award = (dbp.pension_at_award(0.0, per_person, y.minimum_pension, y.maximum_pension,
                                      SERVICE, factor=factor[:, :, None], formula=y.formula,
                                      spread=y.spread)
                 if y.career_caps is None else
                 capped_awards(rules.old_age_award, per_person, factor[:, :, None], y))
        qualified = (y.minimum_service <= SERVICE)[None, None, :]
        new_share = qualified * probability[:, :, None] * active
        new_amount = new_share * award
        self._own_shapes(y, new_share, per_person, factor)
        self.pensioners += new_share
        self.pension += new_amount
        # those who reach retirement age without enough service leave, with a refund
        leaving = dbp.leaves_without_pension(age, y.retirement_age[:, :, None], SERVICE,
                                             y.minimum_service)
        # those who contributed are paid back a share of their contributions (each at its
        # year's rate; care credits were not paid for), if the scheme refunds
        _, contributed = class_years(self.active.shape[-1])
        paid_in = add_up(self.active, 2) * (contributed >= 1)  # (age, sex, service, k)
        self.refunded = np.where(leaving, add_up(paid_in, -1), 0.0).sum(axis=2) \
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


    def _own_shapes(self, y: PensionYear, new_share: np.ndarray, reference: np.ndarray,
                    factor: np.ndarray) -> None:
        """Where only the higher of a survivor's (or dependant's) and her own pension is
        paid, each class's own pensions at the nodes of its members' earnings from the
        year's awards (kernels.own_shapes; ``reference`` the awarded cells' mean reference
        credits, ``factor`` (age, sex) their adjustment, empty for 1)."""
        if not y.dual_entitlement:
            return
        formula, minimum, maximum, spread, _, _, caps = _formula(y)
        kernels.own_shapes(self.own_shape, new_share, _floats(reference), _floats(factor),
                           formula, minimum, maximum, spread, caps, SHAPE_BANDS)

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



def _floats(array) -> np.ndarray:
    """An input of a compiled transition as a float64 array (one compiled signature)."""
    return np.asarray(array, dtype=np.float64)


def _formula(y: PensionYear) -> tuple:
    """The pension formula's parameters, in the compiled transitions' order: the formula
    (pension_rules.formula), minimum and maximum pension, the cell's spread, reference
    years, the best years' transitory log-sd (0: no gain), the cells' yearly caps
    (:func:`career_caps`)."""
    return (_floats(y.formula), float(y.minimum_pension), float(y.maximum_pension),
            float(y.spread), int(y.reference_years), float(y.best_years_sd),
            career_caps(y))


def capped_awards(rule, per_person: np.ndarray, third: np.ndarray,
                  y: PensionYear) -> np.ndarray:
    """``rule`` (pension_rules.old_age_award or disability_award) on every (age, sex,
    service) cell with its yearly caps (y.career_caps), ``third`` the rule's third
    argument (the factor or the future years) broadcast to the cells: the arrays' path
    (Numba's JIT off), cell by cell."""
    third = np.broadcast_to(third, per_person.shape)
    out = np.empty(per_person.shape)
    for a, s, c in np.ndindex(per_person.shape):
        out[a, s, c] = rule(float(per_person[a, s, c]), int(SERVICE[c]), float(third[a, s, c]),
                            float(y.minimum_pension), float(y.maximum_pension), y.formula,
                            float(y.spread), y.career_caps[s, a])
    return out


def career_caps(y: PensionYear, width: int = 0) -> np.ndarray:
    """The cells' yearly caps of the ceiling (sex, age, pension_rules.CAPS_SIZE; db_pension.
    career_caps); where the year has none, (sex, age, ``width``) zeros: no knot (the
    ceiling on a member's average as a whole)."""
    if y.career_caps is None:
        return np.zeros((2, len(AGES), width))
    return _floats(y.career_caps)


def add_up(array: np.ndarray, axis: int | tuple[int, ...]) -> np.ndarray:
    """``array.sum(axis=axis)``, quick where the state's short last axis (contribution
    classes, labour states) is summed or kept: NumPy reduces a short last axis cell by
    cell, ten times slower than adding its slices in turn."""
    axes = tuple(sorted(a % array.ndim for a in np.atleast_1d(axis)))
    last = array.ndim - 1
    trailing = axes == tuple(range(axes[0], array.ndim))
    if trailing and np.prod(array.shape[axes[0]:]) >= 16:  # a long contiguous block
        return array.sum(axis=axes)
    if last in axes:  # add the last axis's slices, then the other axes
        out = np.zeros(array.shape[:-1])
        for i in range(array.shape[-1]):
            out += array[..., i]
        return out.sum(axis=axes[:-1]) if len(axes) > 1 else out
    return np.stack([array[..., i].sum(axis=axes) for i in range(array.shape[-1])], axis=-1)


def _credited(recent: np.ndarray, earned: np.ndarray, best: bool = False) -> np.ndarray:
    """The reference's years' earnings sums (..., R) after one more credited year with
    ``earned`` (...), as pension_rules.keep_credited_year keeps them: this year's earnings
    go first and the oldest drop out, or (``best``) the best R of the kept and this year's,
    in decreasing order."""
    if best and recent.shape[-1]:
        both = np.concatenate([recent, np.asarray(earned)[..., None]], axis=-1)
        return -np.sort(-both, axis=-1)[..., :recent.shape[-1]]
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


def default_retirement(y: PensionYear) -> bool:
    """Whether year y's retirement choice is the default (everybody at the pensionable
    age, factor 1: :func:`retirement_choice`), which kernels.retire applies itself when
    given none."""
    return y.retire_probability is None and y.award_indexing is None


def retirement_choice(y: PensionYear) -> tuple[np.ndarray, np.ndarray]:
    """(age, sex) probability that an eligible active member retires this year, and the
    adjustment factor of the pension (everybody at the pensionable age by default), times
    its indexing since the eligibility age where the formula is applied at it."""
    if y.retire_probability is None:
        probability = (AGES[:, None] >= y.retirement_age).astype(float)
        factor = np.ones_like(probability)
    else:
        probability, factor = y.retire_probability, y.retire_factor
    if y.award_indexing is not None:
        factor = factor * y.award_indexing
    return probability, factor


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
        out[..., NC_INACTIVE] = add_up(staying, -1) + leaving
        return out
    keep, draw = aligned_persistence(add_up(staying, (2, 3)), add_up(leaving, (2, 3)),
                                     target, persistence)
    drawing = (1.0 - keep)[..., None, None] * add_up(staying, -1) + leaving
    # state by state: broadcasting ``drawing`` and ``draw`` against each other over all
    # the states at once runs NumPy's inner loop over the 4 states, five times slower
    out = np.empty_like(staying)
    for state in range(staying.shape[-1]):
        np.multiply(keep[:, :, None, None], staying[..., state], out=out[..., state])
        out[..., state] += drawing * draw[:, :, None, None, state]
    return out
