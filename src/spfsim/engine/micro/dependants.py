"""Dependants' supplements of living pensioners in the micro engine.

The rule is the cohort engine's (:mod:`spfsim.schemes.dependants`), on the simulated
persons: :func:`pensioners_at_start` counts, before the year's pass, the pensioners in
payment by (age, sex), their pensions indexed for the year and the persons without a
survivor's pension; :func:`dependant_tables` turns them into each cell's chance that a
person is a dependent spouse or child and the cell's mean supplement
(schemes.dependants.dependants_of_pensioners: the same partners, children, availability
and ceiling); :func:`pay_dependant` then pays them person by person in the year's pass.

The pensioner's partner and children are not the linked persons of the families (a
dependant is drawn against her cell's chance, as the survivors' claims are without family
links): whether a person is a dependant is keyed by her id alone (year 0), so the same
persons stay dependants from year to year as their cells' chances allow, and a spouse's
supplement is her cell's mean times a life-long lognormal draw with the pensions' spread
(``pensions_in_payment_spread``: the pensioners' pensions vary around their means), which
under dual entitlement is paid only above her own pension.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ... import rng
from ...schemes.dependants import dependants_of_pensioners
from ...schemes.pension_rules import in_payment, survivor_above_own
from ..cohort_year import DependantRules
from .counters import (
    AGE_DEPENDANTS,
    N_DEPENDENT_CHILDREN,
    N_DEPENDENT_SPOUSES,
    NO_SURVIVOR,
    fixed,
)
from .store import GONE, INVALID, RETIRED

#: pensioners_at_start's columns: pensioners, their indexed pensions (fixed point), the
#: persons without a survivor's pension
AT_START_PENSIONERS, AT_START_MONEY, AT_START_FREE = 0, 1, 2


@nb.njit(parallel=True, cache=True)
def pensioners_at_start(status, age, sex, pension, survivor_kind, size, chunk, indexation,
                        minimum, scale, out):
    """Per (age, sex) at the start of the year: old-age and disability pensioners, their
    pensions indexed for the year (pension_rules.in_payment, as the year's pass will
    index them; in fixed-point units of ``scale``) and the persons here without a
    survivor's pension. ``out`` (chunks, 101, 2, 3) int64; returns its sum over the
    chunks (integers: the same for any chunking)."""
    n_chunks = (size + chunk - 1) // chunk
    out[:n_chunks] = 0
    for c in nb.prange(n_chunks):
        for i in range(c * chunk, min(size, (c + 1) * chunk)):
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
    return out[:n_chunks].sum(axis=0)


def dependant_tables(at_start: np.ndarray, scale: float,
                     rules: DependantRules) -> dict[str, np.ndarray]:
    """The PensionTables fields of the year's dependants from :func:`pensioners_at_start`'s
    counts: each (age, sex) cell's chance that a person without a survivor's pension is a
    dependent spouse or child of a pensioner, and the mean supplement (currency per
    year)."""
    found = dependants_of_pensioners(
        at_start[..., AT_START_PENSIONERS].astype(float),
        at_start[..., AT_START_MONEY] * scale, at_start[..., AT_START_FREE].astype(float),
        rules.married, rules.partner_weights, rules.children, rules.p_male,
        rules.spouse_share, rules.child_share, rules.maximum_share, rules.spouse_age)
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
        if dual_entitlement and own > 0.0:
            amount = survivor_above_own(amount, own, 0.0)
        else:
            counts[c, a, s, N_DEPENDENT_SPOUSES] += 1
        age_money[c, a, s, AGE_DEPENDANTS] += fixed(amount, scale)
        paid += amount
    chance = child_probability[a, s]
    if chance > 0.0 and rng.uniform(seed, rng.DEPENDENT_CHILD, p, 0) < chance:
        counts[c, a, s, N_DEPENDENT_CHILDREN] += 1
        age_money[c, a, s, AGE_DEPENDANTS] += fixed(child_amount[a, s], scale)
        paid += child_amount[a, s]
    return paid


__all__ = ["AT_START_FREE", "AT_START_MONEY", "AT_START_PENSIONERS", "dependant_tables",
           "pay_dependant", "pensioners_at_start"]
