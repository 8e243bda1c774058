"""What the cohort engine keeps of a contributory pension's state each year.

:class:`PensionRecord` holds the pension's yearly series by (year, age, sex): contributors
and their insured earnings, beneficiaries and expenditure by branch, survivors, refunds,
the new awards by credited service, and what the floor's rules read of each cell (its
active members and pensioners, those below a top-up floor and their gap to it, the
insured among its unemployed). :meth:`PensionRecord.record` fills year k from the state
after the year's transitions.

Two forms give the same numbers, up to the order of the sums (about 1e-16 of their
scale): a compiled loop that visits each (age, sex) cell once, the fast path, and the
NumPy array algebra, which runs with Numba's JIT off (``cohort_kernels.COMPILED``) and is
the reference (``tests/test_cohort_kernels.py`` compares them).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..schemes.survivors import spouses_beside_own_pensions
from . import cohort_kernels as kernels
from .cohort_state import PensionState
from .cohort_transitions import CONTRIBUTING, MAX_SERVICE, NC_UNEMPLOYED
from .cohort_year import DependantRules, SurvivorRules
from .flows import BRANCHES


class PensionRecord:
    """The yearly series of a pension projection of ``n`` years over ``shape`` (age, sex)
    cells (persons and currency per year; shares of the cell's population where said).

    ``floor`` (year, age, sex): the top-up floor whose shortfalls are kept (None: not
    kept); ``qualifies`` (service, contribution class): the unemployed whose class
    qualifies for unemployment insurance (None: not kept)."""

    def __init__(self, n: int, shape: tuple[int, int], floor: np.ndarray | None = None,
                 qualifies: np.ndarray | None = None):
        cells = (n, *shape)
        self.contributors, self.insured = np.zeros(cells), np.zeros(cells)
        self.beneficiaries, self.paid, self.refunds = (np.zeros(cells), np.zeros(cells),
                                                       np.zeros(cells))
        self.active, self.pensioned = np.zeros(cells), np.zeros(cells)  # shares
        self.new_count, self.new_amount = np.zeros((n, 2)), np.zeros((n, 2))
        self.service_awarded = np.zeros((n, 2, MAX_SERVICE + 1))
        self.branch_persons = np.zeros((*cells, len(BRANCHES)))
        self.branch_money = np.zeros((n, len(BRANCHES)))
        self.survivors = np.zeros((*cells, 2))  # spouses, orphans
        self.dependants = np.zeros((*cells, 2))  # dependent spouses, children
        self.floor = floor
        # below the floor: share of the cell and summed gap per capita
        self.low = None if floor is None else (np.zeros(cells), np.zeros(cells))
        self.qualifies = qualifies
        self.insured_unemployed = None if qualifies is None else np.zeros(cells)

    def record(self, k: int, state: PensionState, population: np.ndarray,
               earnings: np.ndarray, new_share: np.ndarray, new_total: np.ndarray,
               survivors: SurvivorRules | None = None,
               dependants: DependantRules | None = None) -> None:
        """Year k's series from the ``state`` after the year's transitions, the cells'
        ``population`` and insurable ``earnings`` (age, sex), and the shares newly awarded
        an old-age pension and their total pension ``new_share``, ``new_total`` (age, sex,
        service). ``survivors``: the year's survivors' rules, for whether a spouse's
        pension is paid beside her own or only above it (dual entitlement:
        schemes.survivors.spouses_beside_own_pensions). ``dependants``: the year's
        dependants' rules, for the same of a dependent spouse's supplement (the state holds
        the year's dependants: PensionState.dependants). A spouse's pension is paid and
        counted from the survivors' ``minimum_age`` (SurvivorRules)."""
        rules = survivors if survivors is not None else dependants
        dual = rules is not None and rules.dual_entitlement
        spread = rules.payment_spread if dual else 0.0
        shape = state.own_shape
        spouse_age = survivors.minimum_age if survivors is not None else 0
        if kernels.COMPILED:
            none = np.zeros((0, 0, 0))
            record_year(
                k, state.active, state.labour, state.pensioners, state.pension,
                state.invalid, state.invalid_pension, state.spouses, state.spouse_pension,
                state.orphans, state.orphan_pension, state.dependants, state.refunded,
                state.refund, _floats(population), _floats(earnings), new_share, new_total,
                none if self.floor is None else _floats(self.floor),
                np.zeros((0, 0)) if self.qualifies is None else _floats(self.qualifies),
                self.contributors, self.insured, self.beneficiaries, self.paid, self.refunds,
                self.active, self.pensioned, self.new_count, self.new_amount,
                self.service_awarded, self.branch_persons, self.branch_money,
                self.survivors, self.dependants,
                none if self.low is None else self.low[0],
                none if self.low is None else self.low[1],
                none if self.insured_unemployed is None else self.insured_unemployed,
                state.top_class, state.top_invalid_class, state.top_pension_class, dual,
                spread, shape, spouse_age)
            return
        self._record_arrays(k, state, population, earnings, new_share, new_total, dual,
                            spread, shape, spouse_age)

    def _record_arrays(self, k: int, state: PensionState, pop: np.ndarray,
                       earnings: np.ndarray, new_share: np.ndarray,
                       new_total: np.ndarray, dual: bool, spread: float, shape: np.ndarray,
                       spouse_age: int = 0) -> None:
        """:meth:`record` as array algebra (the reference)."""
        members = state.active.sum(axis=(2, 3, 4))
        contributing = state.active[:, :, CONTRIBUTING].sum(axis=(2, 3))
        self.active[k] = members
        invalid = state.invalid_by_service()
        # every pension in payment, old-age and disability, by credited-service class
        classes = state.pensioners + invalid
        self.pensioned[k] = classes.sum(axis=-1)
        if self.low is not None:
            self.low[0][k], self.low[1][k] = _below_floor(
                classes, state.pension + state.invalid_pension, self.floor[k])
        if self.qualifies is not None:
            unemployed = state.labour[..., NC_UNEMPLOYED]
            total = unemployed.sum(axis=(2, 3))
            qualifying = (unemployed * self.qualifies).sum(axis=(2, 3))
            with np.errstate(divide="ignore", invalid="ignore"):
                self.insured_unemployed[k] = np.where(total > 0, qualifying / total, 0.0)
        self.contributors[k] = pop * contributing
        self.insured[k] = self.contributors[k] * earnings
        spouses, spouse_money = state.spouses, state.spouse_pension
        if spouse_age > 0:  # entitled below the age, paid from it
            paid_from = (np.arange(len(spouses)) >= spouse_age)[:, None]
            spouses, spouse_money = spouses * paid_from, spouse_money * paid_from
        dependent, dependent_money, children, child_money = state.dependants
        if dual:
            own_money = state.pension + state.invalid_pension
            spouses, spouse_money = _beside_own_pensions(spouses, spouse_money, classes,
                                                         own_money, spread, shape)
            dependent, dependent_money = _beside_own_pensions(dependent, dependent_money,
                                                              classes, own_money, spread, shape)
        for b, (persons, money) in enumerate((
                (state.pensioners, state.pension),
                (invalid, state.invalid_pension),
                (spouses + state.orphans, spouse_money + state.orphan_pension),
                (dependent + children, dependent_money + child_money),
                (state.refunded, state.refund))):
            share = persons.sum(axis=2) if persons.ndim == 3 else persons
            spent = money.sum(axis=2) if money.ndim == 3 else money
            self.branch_persons[k, ..., b] = pop * share
            self.branch_money[k, b] = float((pop * spent).sum())
        self.beneficiaries[k] = self.branch_persons[k].sum(axis=-1)
        self.survivors[k] = pop[..., None] * np.stack([spouses, state.orphans], axis=-1)
        self.dependants[k] = pop[..., None] * np.stack([dependent, children], axis=-1)
        self.refunds[k] = pop * state.refund
        self.paid[k] = pop * ((state.pension + state.invalid_pension).sum(axis=2)
                              + spouse_money + state.orphan_pension + dependent_money
                              + child_money) + self.refunds[k]
        self.service_awarded[k] = (pop[:, :, None] * new_share).sum(axis=0)
        self.new_count[k] = self.service_awarded[k].sum(axis=-1)
        self.new_amount[k] = (pop[:, :, None] * new_total).sum(axis=(0, 2))


def _floats(array) -> np.ndarray:
    """An input of the compiled loop as a C-ordered float64 array (one signature)."""
    return np.ascontiguousarray(array, dtype=np.float64)


def _beside_own_pensions(spouses: np.ndarray, spouse_money: np.ndarray, own: np.ndarray,
                         own_money: np.ndarray, spread: float, shape: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
    """(age, sex) the spouses counted and the money paid to them when only the higher of
    a survivor's and her own pension is paid: schemes.survivors.
    spouses_beside_own_pensions on each cell, its own pensions by credited-service class
    ``own``, ``own_money`` (age, sex, class) in the classes' ``shape`` (sex, class, node:
    PensionState.own_shape)."""
    counted, paid = np.zeros_like(spouses), np.zeros_like(spouse_money)
    for a, s in np.ndindex(spouses.shape):
        counted[a, s], paid[a, s] = spouses_beside_own_pensions(
            spouses[a, s], spouse_money[a, s], own[a, s], own_money[a, s], spread,
            shape[s])
    return counted, paid


def _below_floor(classes: np.ndarray, total: np.ndarray,
                 floor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(age, sex) the share of each cell whose pension (``total`` / ``classes`` of each
    credited-service class, old-age and disability together) is below the top-up
    ``floor`` (age, sex), and their summed gap to it (per capita)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        per_person = np.where(classes > 0, total / np.maximum(classes, 1e-300), 0.0)
    low = classes * (per_person < floor[..., None])
    return low.sum(axis=-1), (low * (floor[..., None] - per_person)).sum(axis=-1)


@nb.njit(cache=True)
def record_year(k, active, labour, pensioners, pension, invalid, invalid_pension, spouses,
                spouse_pension, orphans, orphan_pension, dependants, refunded, refund,
                population, earnings, new_share, new_total, floor, qualifies, contributors,
                insured, beneficiaries, paid, refunds, active_share, pensioned, new_count,
                new_amount, service_awarded, branch_persons, branch_money, survivors,
                dependants_kept, low_share, low_gap, insured_unemployed, top, top_invalid,
                top_pension, dual, spread, shape, spouse_age):
    """PensionRecord.record as one pass over the (age, sex) cells (``floor``,
    ``qualifies``: empty when not kept), each row's active members, disability and old-age
    pensioners up to its highest occupied class (``top``, ``top_invalid``,
    ``top_pension``: PensionState.top_class); the year's ``dependants``
    (PensionState.dependants); with ``dual``, the spouses' pensions and supplements paid
    only above their own (spouses_beside_own_pensions, with ``spread`` and the own
    pensions' ``shape``: PensionState.own_shape); the spouses' pensions paid and counted
    from ``spouse_age``."""
    n_age, n_sex, n_class, n_k = active.shape[0], active.shape[1], active.shape[3], \
        active.shape[4]
    keep_low, keep_unemployed = floor.shape[0] > 0, qualifies.shape[0] > 0
    own, own_money = np.zeros(n_class), np.zeros(n_class)  # a cell's, by class
    for b in range(branch_money.shape[1]):
        branch_money[k, b] = 0.0
    for s in range(n_sex):
        new_count[k, s], new_amount[k, s] = 0.0, 0.0
        for c in range(n_class):
            service_awarded[k, s, c] = 0.0
    for a in range(n_age):
        for s in range(n_sex):
            p = population[a, s]
            members, contributing = 0.0, 0.0
            for status in range(active.shape[2]):
                in_status = 0.0
                for c in range(top[a, s] + 1):
                    for j in range(n_k):
                        in_status += active[a, s, status, c, j]
                members += in_status
                if status == CONTRIBUTING:
                    contributing = in_status
            active_share[k, a, s] = members
            contributors[k, a, s] = p * contributing
            insured[k, a, s] = contributors[k, a, s] * earnings[a, s]
            old_age, old_age_money, disabled, disabled_money = 0.0, 0.0, 0.0, 0.0
            below, gap, awarded = 0.0, 0.0, 0.0
            held = max(top_invalid[a, s], top_pension[a, s]) + 1  # pensions above: none
            for c in range(held):
                invalid_c = 0.0
                if c <= top_invalid[a, s]:
                    for j in range(n_k):
                        invalid_c += invalid[a, s, c, j]
                old_age += pensioners[a, s, c]
                old_age_money += pension[a, s, c]
                disabled += invalid_c
                disabled_money += invalid_pension[a, s, c]
                if dual:
                    own[c] = pensioners[a, s, c] + invalid_c
                    own_money[c] = pension[a, s, c] + invalid_pension[a, s, c]
                if keep_low:
                    in_class = pensioners[a, s, c] + invalid_c
                    total = pension[a, s, c] + invalid_pension[a, s, c]
                    per_person = total / max(in_class, 1e-300) if in_class > 0 else 0.0
                    if per_person < floor[k, a, s]:
                        below += in_class
                        gap += in_class * (floor[k, a, s] - per_person)
                service_awarded[k, s, c] += p * new_share[a, s, c]
                awarded += p * new_total[a, s, c]
            if dual:
                for c in range(held, n_class):
                    own[c], own_money[c] = 0.0, 0.0
            new_amount[k, s] += awarded
            pensioned[k, a, s] = old_age + disabled
            if keep_low:
                low_share[k, a, s], low_gap[k, a, s] = below, gap
            if keep_unemployed:
                unemployed, qualifying = 0.0, 0.0
                for c in range(top[a, s] + 1):
                    for j in range(n_k):
                        u = labour[a, s, c, j, NC_UNEMPLOYED]
                        unemployed += u
                        qualifying += u * qualifies[c, j]
                insured_unemployed[k, a, s] = qualifying / unemployed if unemployed > 0 \
                    else 0.0
            spouses_paid, spouse_money = spouses[a, s], spouse_pension[a, s]
            if a < spouse_age:  # entitled, paid from the age
                spouses_paid, spouse_money = 0.0, 0.0
            dependent, dependent_money = dependants[0, a, s], dependants[1, a, s]
            if dual:
                spouses_paid, spouse_money = spouses_beside_own_pensions(
                    spouses_paid, spouse_money, own, own_money, spread, shape[s])
                dependent, dependent_money = spouses_beside_own_pensions(
                    dependent, dependent_money, own, own_money, spread, shape[s])
            supplements = dependent_money + dependants[3, a, s]
            persons = (old_age, disabled, spouses_paid + orphans[a, s],
                       dependent + dependants[2, a, s], refunded[a, s])
            money = (old_age_money, disabled_money, spouse_money + orphan_pension[a, s],
                     supplements, refund[a, s])
            everybody = 0.0
            for b in range(5):
                branch_persons[k, a, s, b] = p * persons[b]
                everybody += branch_persons[k, a, s, b]
                branch_money[k, b] += p * money[b]
            beneficiaries[k, a, s] = everybody
            survivors[k, a, s, 0] = p * spouses_paid
            survivors[k, a, s, 1] = p * orphans[a, s]
            dependants_kept[k, a, s, 0] = p * dependent
            dependants_kept[k, a, s, 1] = p * dependants[2, a, s]
            refunds[k, a, s] = p * refund[a, s]
            paid[k, a, s] = p * (old_age_money + disabled_money + spouse_money
                                 + orphan_pension[a, s] + supplements) + refunds[k, a, s]
    for s in range(n_sex):
        for c in range(n_class):
            new_count[k, s] += service_awarded[k, s, c]
