"""A person's year in the contributory pension, event by event, for the year kernel.

In the cohort engine's order (:class:`spfsim.engine.cohort.PensionState`): the disability
branch first (a pension in payment indexed, ended by recovery or turned into the old-age
pension; onsets among last year's qualified contributors), then, after the labour state,
entering the year (pensions indexed, credits revalued, retirement or leaving with a refund),
then the year's contributions, care credits and pensions paid. Every formula is a rule of
:mod:`spfsim.schemes.pension_rules`; the functions here read and write a person's slot
(``persons``, a :class:`~spfsim.engine.micro.records.Persons`) and count into ``out``
(:class:`~spfsim.engine.micro.records.Tallies`).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ...schemes.db_pension import care_credit_qualifies
from ...schemes.pension_rules import (
    disability_award,
    in_payment,
    insurable_earnings,
    old_age_award,
    reference_earnings,
    refund,
)
from . import rng
from .counters import (
    AGE_PENSIONS,
    AGE_REFUNDS,
    BENEFITS,
    INVALID_BENEFITS,
    MAX_SERVICE,
    N_INVALID,
    N_REFUNDS,
    NEW_AMOUNT,
    NEW_INVALID,
    NEW_LEAVERS,
    NEW_PENSIONERS,
    PENSIONERS,
    REFUNDS,
    fixed,
    is_active,
)
from .store import FEMALE, INACTIVE, INVALID, RETIRED


@nb.njit(inline="always", cache=True)
def revalue(credits, paid, recent, i, factor):
    """Revalue person i's credits, the contributions paid on them and recent credited
    years' earnings."""
    credits[i] *= factor
    paid[i] *= factor
    for k in range(recent.shape[1]):
        recent[i, k] *= factor


@nb.njit(inline="always", cache=True)
def credit(credits, recent, i, amount):
    """Credit person i a year with ``amount``: it becomes the most recent year's earnings
    and the oldest one kept drops out."""
    credits[i] += amount
    n = recent.shape[1]
    if n == 0:
        return
    for k in range(n - 1, 0, -1):
        recent[i, k] = recent[i, k - 1]
    recent[i, 0] = amount


@nb.njit(cache=True)
def reference(persons, i, years):
    """Person i's reference credits (pension_rules.reference_earnings) from the career's
    credits and the last ``years`` credited years' earnings."""
    recent = 0.0
    for k in range(min(years, persons.recent.shape[1])):
        recent += persons.recent[i, k]
    return reference_earnings(persons.credits[i], recent, persons.service[i], years)


# The events below that are rare in a person's life (onset, award, leaving, death) read
# the records; the yearly ones take the arrays they use, which the year kernel takes out
# of the records once per chunk (in Numba, each read of a record's array costs a
# reference count: too dear for every person every year).

@nb.njit(cache=True)
def insured_pension(persons, i, a, s, pension, tables):
    """The disability pension of insured person i aged a (sex s), with the years to the
    pensionable age credited: at onset, and at death for the survivors' shares."""
    return disability_award(
        reference(persons, i, pension.reference_years), persons.service[i],
        tables.retirement_age[a, s] - a, pension.minimum_pension, pension.maximum_pension,
        pension.accrual_rate, pension.rate_above, pension.band_years)


@nb.njit(cache=True)
def invalid_year(i, p, a, s, persons, when, pension, tables):
    """A disability pension in payment on entering the year: indexed (credits revalued,
    kept for a recovery), then ended by recovery or turned into the old-age pension at the
    pensionable age. Returns the status."""
    persons.pension[i] = in_payment(persons.pension[i], pension.indexation,
                                    pension.minimum_pension)
    revalue(persons.credits, persons.paid, persons.recent, i, 1.0 + pension.revaluation)
    if a >= tables.retirement_age[a, s]:
        persons.credits[i] = persons.paid[i] = 0.0
        return RETIRED
    if rng.uniform(when.seed, rng.RECOVERY, p, when.year) < pension.recovery_rate:
        persons.pension[i] = 0.0
        return INACTIVE
    return INVALID


@nb.njit(cache=True)
def disability_onset(c, i, a, s, persons, pension, tables, out):
    """Last year's qualified contributor becomes disabled: credits revalued, the
    disability pension awarded (pension_rules.disability_award)."""
    revalue(persons.credits, persons.paid, persons.recent, i, 1.0 + pension.revaluation)
    persons.pension[i] = insured_pension(persons, i, a, s, pension, tables)
    out.counts[c, a, s, NEW_INVALID] += 1


@nb.njit(cache=True)
def retire(c, i, a, s, persons, when, pension, tables, out):
    """Award the old-age pension (pension_rules.old_age_award) at the year's age."""
    service = persons.service[i]
    award = old_age_award(reference(persons, i, pension.reference_years), service,
                          tables.retire_factor[a, s], pension.minimum_pension,
                          pension.maximum_pension, pension.accrual_rate, pension.rate_above,
                          pension.band_years)
    persons.pension[i] = award
    out.counts[c, a, s, NEW_PENSIONERS] += 1
    out.money[c, s, NEW_AMOUNT] += fixed(award, when.scale)
    out.service_awarded[c, s, min(np.int64(service), MAX_SERVICE)] += 1
    persons.credits[i] = persons.paid[i] = 0.0


@nb.njit(cache=True)
def leave(c, i, a, s, persons, when, pension, out):
    """Leave at the pensionable age short of the minimum service, with a refund where the
    scheme pays one (pension_rules.refund: care credits were not paid for)."""
    out.counts[c, a, s, NEW_LEAVERS] += 1
    out.service_left[c, s, min(np.int64(persons.service[i]), MAX_SERVICE)] += 1
    if pension.refund_share > 0.0 and persons.paid[i] > 0.0:
        back = refund(pension.refund_share, persons.paid[i])
        out.counts[c, a, s, N_REFUNDS] += 1
        amount = fixed(back, when.scale)
        out.money[c, s, REFUNDS] += amount
        out.age_money[c, a, s, AGE_REFUNDS] += amount
        persons.lifetime_benefits[i] += np.float32(back / when.deflator)
    persons.credits[i] = persons.paid[i] = 0.0


@nb.njit(inline="always", cache=True)
def retires(p, a, s, service, chance, when, pension):
    """Whether an active member with the minimum service retires this year (``chance``:
    the probability at their age, 1 from the latest age)."""
    return service >= pension.minimum_service and chance > 0.0 and (
        chance >= 1.0 or rng.uniform(when.seed, rng.RETIREMENT, p, when.year) < chance)


@nb.njit(inline="always", cache=True)
def insured_earnings(p, gross, when, pension):
    """A contributor's insurable earnings (currency): the gross earnings times a
    transitory lognormal shock of mean 1, within the floor and ceiling
    (pension_rules.insurable_earnings)."""
    sd = pension.transitory_sd
    if sd > 0.0:
        z = rng.normal(when.seed, rng.EARNINGS_TRANSITORY, rng.EARNINGS_TRANSITORY_2, p,
                       when.year)
        gross *= math.exp(sd * z - 0.5 * sd ** 2)
    return insurable_earnings(gross, pension.earnings_floor, pension.earnings_ceiling)


@nb.njit(inline="always", cache=True)
def count_money(c, a, s, column, age_column, amount, scale, money, age_money):
    """Add ``amount`` (currency) to the money by sex and by (age, sex), in fixed point."""
    units = fixed(amount, scale)
    money[c, s, column] += units
    age_money[c, a, s, age_column] += units


@nb.njit(inline="always", cache=True)
def care_credited(p, a, s, st, contributed, care_probability, when, pension):
    """Whether a non-contributing woman with ``contributed`` years of contributions is
    credited a care year (a young child: ``care_probability`` at her age; and
    schemes.db_pension.care_credit_qualifies)."""
    return (s == FEMALE and is_active(st) and care_probability > 0.0
            and care_credit_qualifies(contributed, pension.care_insured_only)
            and rng.uniform(when.seed, rng.CARE_CREDIT, p, when.year) < care_probability)


@nb.njit(inline="always", cache=True)
def count_pension(c, a, s, st, amount, scale, counts, money, age_money):
    """Count a pension in payment, old-age or disability, at the pensioner's age."""
    counts[c, a, s, PENSIONERS] += 1
    money[c, s, BENEFITS] += fixed(amount, scale)
    if st == INVALID:
        counts[c, a, s, N_INVALID] += 1
        money[c, s, INVALID_BENEFITS] += fixed(amount, scale)
    age_money[c, a, s, AGE_PENSIONS] += fixed(amount, scale)
