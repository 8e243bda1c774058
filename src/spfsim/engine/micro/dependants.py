"""Dependants' supplements of living pensioners in the micro engine.

The rule is the cohort engine's (:mod:`spfsim.schemes.dependants`), on the simulated
persons: :func:`pensioners_at_start` counts, before the year's pass, the pensioners in
payment by (age, sex), their pensions indexed for the year and the persons without a
survivor's pension; :func:`dependant_tables` turns them into each cell's chance that a
person is a dependent spouse or child and the cell's mean supplement
(schemes.dependants.dependants_of_pensioners: the same partners, children, availability
and ceiling); :func:`pay_dependant` then pays them person by person in the year's pass.

Without family links (or with the partners of ``married_share``), a dependant is drawn
against her cell's chance, as the survivors' claims are: whether a person is a dependant
is keyed by her id alone (year 0), so the same persons stay dependants from year to year
as their cells' chances allow, and a spouse's supplement is her cell's mean times a
life-long lognormal draw with the pensions' spread (``pensions_in_payment_spread``: the
pensioners' pensions vary around their means), which under dual entitlement is paid only
above her own pension. With the partners from the families (``survivor_partners =
"families"``) and family links, the dependants are the pensioners' own
(:func:`linked_dependants`, as kernels.linked_survivors pays the deceased's own
survivors): the partner and the children linked to a pensioner, at the shares of his own
pension, his family's together capped (:func:`pay_linked_dependant` pays them).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ... import rng
from ...schemes.dependants import dependants_of_pensioners
from ...schemes.pension_rules import in_payment, survivor_above_own, survivor_scale
from ..cohort_year import DependantRules
from .counters import (
    AGE_DEPENDANTS,
    N_DEPENDENT_CHILDREN,
    N_DEPENDENT_SPOUSES,
    NO_SURVIVOR,
    chunk_rows,
    fixed,
)
from .store import GONE, INVALID, RETIRED

#: linked_dependants' flags of a person: a pensioner's dependent spouse, child (or both)
DEPENDENT_SPOUSE, DEPENDENT_CHILD = 1, 2

#: pensioners_at_start's columns: pensioners, their indexed pensions (fixed point), the
#: persons without a survivor's pension
AT_START_PENSIONERS, AT_START_MONEY, AT_START_FREE = 0, 1, 2


@nb.njit(parallel=True, cache=True)
def pensioners_at_start(status, age, sex, pension, survivor_kind, size, chunk, indexation,
                        minimum, scale, out):
    """Per (age, sex) at the start of the year: old-age and disability pensioners, their
    pensions indexed for the year (pension_rules.in_payment, as the year's pass will
    index them; in fixed-point units of ``scale``) and the persons here without a
    survivor's pension. ``out`` (rows, 101, 2, 3) int64 (counters.chunk_rows); returns
    its sum over the rows (integers: the same for any chunking)."""
    n_chunks, rows = chunk_rows(size, chunk, out.shape[0])
    out[:] = 0
    for c in nb.prange(rows):
        for k in range(c, n_chunks, rows):
            for i in range(k * chunk, min(size, (k + 1) * chunk)):
                st = status[i]
                if st == GONE:
                    continue
                a, s = np.int64(age[i]), np.int64(sex[i])
                if st in (RETIRED, INVALID):
                    out[c, a, s, AT_START_PENSIONERS] += 1
                    out[c, a, s, AT_START_MONEY] += fixed(
                        in_payment(np.float64(pension[i]), indexation, minimum), scale)
                if survivor_kind[i] == NO_SURVIVOR:
                    out[c, a, s, AT_START_FREE] += 1
    return out.sum(axis=0)


def dependant_tables(at_start: np.ndarray, persons: np.ndarray, scale: float,
                     rules: DependantRules) -> dict[str, np.ndarray]:
    """The PensionTables fields of the year's dependants from :func:`pensioners_at_start`'s
    counts and the ``persons`` (age, sex) here: each cell's chance that a person without a
    survivor's pension is a dependent spouse or child of a pensioner, and the mean
    supplement (currency per year)."""
    found = dependants_of_pensioners(
        at_start[..., AT_START_PENSIONERS].astype(float),
        at_start[..., AT_START_MONEY] * scale, at_start[..., AT_START_FREE].astype(float),
        np.asarray(persons, dtype=float), rules.married, rules.partner_weights,
        rules.children, rules.p_male, rules.spouse_share, rules.child_share,
        rules.maximum_share, rules.spouse_age)
    free = at_start[..., AT_START_FREE]
    with np.errstate(divide="ignore", invalid="ignore"):
        def chance(persons):
            return np.where(free > 0, np.minimum(persons / np.maximum(free, 1), 1.0), 0.0)

        def mean(money, persons):
            return np.where(persons > 0, money / np.where(persons > 0, persons, 1.0), 0.0)

        return {"dependent_spouse_probability": chance(found.spouses),
                "dependent_spouse_amount": mean(found.spouse_money, found.spouses),
                "dependent_child_probability": chance(found.children),
                "dependent_child_amount": mean(found.child_money, found.children)}


@nb.njit(inline="always", cache=True)
def pay_dependant(c, p, a, s, own, seed, dual_entitlement, spread, spouse_probability,
                  spouse_amount, child_probability, child_amount, scale, counts, age_money):
    """Count and pay person p's dependant's supplements of the year (she had no
    survivor's pension at its start), once her own pension's year is done (``own``: her
    old-age or disability pension in payment, 0 for none), as the cohort engine records
    its cells: a spouse's, her cell's mean times her life-long lognormal draw of log-sd
    ``spread`` (mean 1), under ``dual_entitlement`` only above her own pension and then
    counted in its branch (pension_rules.survivor_above_own); a child's, the cell's mean.
    Returns the amount paid (currency per year)."""
    paid = 0.0
    chance = spouse_probability[a, s]
    if chance > 0.0 and rng.uniform(seed, rng.DEPENDENT_SPOUSE, p, 0) < chance:
        amount = spouse_amount[a, s]
        if spread > 0.0:
            z = rng.normal(seed, rng.DEPENDENT_SUPPLEMENT, rng.DEPENDENT_SUPPLEMENT_2, p, 0)
            amount *= math.exp(spread * z - 0.5 * spread * spread)
        paid += _pay_spouse(c, a, s, amount, own, dual_entitlement, scale, counts,
                            age_money)
    chance = child_probability[a, s]
    if chance > 0.0 and rng.uniform(seed, rng.DEPENDENT_CHILD, p, 0) < chance:
        paid += _pay_child(c, a, s, child_amount[a, s], scale, counts, age_money)
    return paid


@nb.njit(inline="always", cache=True)
def _pay_spouse(c, a, s, amount, own, dual_entitlement, scale, counts, age_money):
    """Count and pay a dependent spouse's supplement ``amount``: under
    ``dual_entitlement`` only above her own pension ``own`` and then counted in its branch
    (pension_rules.survivor_above_own). Returns the amount paid."""
    if dual_entitlement and own > 0.0:
        amount = survivor_above_own(amount, own, 0.0)
    else:
        counts[c, a, s, N_DEPENDENT_SPOUSES] += 1
    age_money[c, a, s, AGE_DEPENDANTS] += fixed(amount, scale)
    return amount


@nb.njit(inline="always", cache=True)
def _pay_child(c, a, s, amount, scale, counts, age_money):
    """Count and pay a dependent child's supplement ``amount``; returns it."""
    counts[c, a, s, N_DEPENDENT_CHILDREN] += 1
    age_money[c, a, s, AGE_DEPENDANTS] += fixed(amount, scale)
    return amount


@nb.njit(cache=True)
def linked_dependants(status, age, pension, partner, mother, father, survivor_kind, size,
                      indexation, minimum, spouse_share, child_share, maximum_share,
                      spouse_age, child_age_limit, flags, supplements):
    """The dependants of the pensioners in payment at the start of the year among their
    own family links (before the year's pass: every status is the start's), for persons
    here without a survivor's pension: a partner aged ``spouse_age`` or more, a child aged
    up to ``child_age_limit`` linked as the pensioner's child (of two pensioner parents,
    the one with the higher pension pays, as the law pays the highest benefit). Each is
    owed its share of the pensioner's pension indexed for the year
    (pension_rules.in_payment), one pensioner's together scaled down to
    ``maximum_share`` (pension_rules.survivor_scale, the survivors' ceiling rule). Writes
    ``flags`` (DEPENDENT_SPOUSE | DEPENDENT_CHILD) and ``supplements`` (slot, 2: spouse's,
    child's; currency per year) of the first ``size`` slots; returns (spouses,
    children)."""
    flags[:size] = 0
    supplements[:size] = 0.0
    spouses = np.zeros(size, dtype=np.int8)  # of each pensioner: a dependent spouse
    children = np.zeros(size, dtype=np.int32)  # and dependent children
    payer = np.full(size, -1, dtype=np.int64)  # of each dependent child
    for i in range(size):  # who is whose dependant
        if status[i] == GONE or survivor_kind[i] != NO_SURVIVOR:
            continue
        if spouse_share > 0.0 and age[i] >= spouse_age and partner[i] != 0 \
                and _pensioner(status[partner[i] - 1]):
            spouses[partner[i] - 1] = 1
            flags[i] |= DEPENDENT_SPOUSE
        if child_share > 0.0 and age[i] <= child_age_limit:
            payer[i] = _paying_parent(i, status, pension, mother, father)
            if payer[i] >= 0:
                children[payer[i]] += 1
                flags[i] |= DEPENDENT_CHILD
    n_spouses = n_children = 0
    for i in range(size):  # what each is owed
        if flags[i] & DEPENDENT_SPOUSE:
            j = partner[i] - 1
            supplements[i, 0] = spouse_share * _family_pension(
                j, spouses, children, pension, indexation, minimum, spouse_share,
                child_share, maximum_share)
            n_spouses += 1
        if flags[i] & DEPENDENT_CHILD:
            supplements[i, 1] = child_share * _family_pension(
                payer[i], spouses, children, pension, indexation, minimum, spouse_share,
                child_share, maximum_share)
            n_children += 1
    return n_spouses, n_children


@nb.njit(inline="always", cache=True)
def _pensioner(status):
    return status in (RETIRED, INVALID)


@nb.njit(inline="always", cache=True)
def _paying_parent(i, status, pension, mother, father):
    """The slot of child i's pensioner parent (the higher pension of two), or -1."""
    best = -1
    for link in (mother[i], father[i]):
        if link != 0 and _pensioner(status[link - 1]) and (
                best < 0 or pension[link - 1] > pension[best]):
            best = np.int64(link - 1)
    return best


@nb.njit(inline="always", cache=True)
def _family_pension(j, spouses, children, pension, indexation, minimum, spouse_share,
                    child_share, maximum_share):
    """Pensioner j's pension indexed for the year times the ceiling's scale of his
    family's supplements (pension_rules.survivor_scale)."""
    total = spouse_share * spouses[j] + child_share * children[j]
    return survivor_scale(total, maximum_share) * in_payment(np.float64(pension[j]),
                                                              indexation, minimum)


@nb.njit(inline="always", cache=True)
def pay_linked_dependant(c, i, a, s, own, dual_entitlement, flags, supplements, scale,
                         counts, age_money):
    """Count and pay person i's supplements of :func:`linked_dependants`, once her own
    pension's year is done (``own``), as :func:`pay_dependant` does. Returns the amount
    paid."""
    paid = 0.0
    if flags[i] & DEPENDENT_SPOUSE:
        paid += _pay_spouse(c, a, s, supplements[i, 0], own, dual_entitlement, scale,
                            counts, age_money)
    if flags[i] & DEPENDENT_CHILD:
        paid += _pay_child(c, a, s, supplements[i, 1], scale, counts, age_money)
    return paid


__all__ = ["AT_START_FREE", "AT_START_MONEY", "AT_START_PENSIONERS", "DEPENDENT_CHILD",
           "DEPENDENT_SPOUSE", "dependant_tables", "linked_dependants", "pay_dependant",
           "pay_linked_dependant", "pensioners_at_start"]
