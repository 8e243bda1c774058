"""A person's pension career in the year, event by event, for the micro engine's year kernel
(:func:`spfsim.engine.micro.year.year_step`): disability, retirement and the award, leaving
with a refund, contributions and care credits, and pensions in payment, each calling the
scheme's scalar rules (:mod:`spfsim.schemes.pension_rules`). The functions are inlined into
the kernel (``inline="always"``), which reads its records' arrays once into locals and
passes those: see docs/micro.md."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ... import rng
from ...schemes.db_pension import care_credit_qualifies
from ...schemes.pension_rules import (
    NO_CAPS,
    award_future_years,
    award_reference_years,
    disability_award,
    in_payment,
    insurable_earnings,
    keep_credited_year,
    leaves_without_pension,
    old_age_award,
    qualified_insured,
    reference_earnings,
    refund,
)
from .counters import (
    AGE_INSURED,
    AGE_PENSIONS,
    AGE_REFUNDS,
    BENEFITS,
    CONTRIBUTORS,
    INSURED,
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
    is_contributing,
)
from .store import (
    FEMALE,
    INACTIVE,
    INVALID,
    LEFT,
    RETIRED,
)


@nb.njit(inline="always", cache=True)
def _disability(c, i, p, a, s, st, when, rules, retirement_age, incidence, service, credits,
                paid, recent, pension, counts):
    """Enter the year, disability first: a disability pension in payment is indexed
    (pension_rules.in_payment) and the credits revalued; it turns into the old-age pension
    at the pensionable age or ends by recovery (``rules.recovery_rate``). A qualified
    contributor of last year (pension_rules.qualified_insured) may become disabled, with a
    pension of pension_rules.disability_award. Returns the state, and whether the credits
    were revalued and the pension indexed."""
    if not rules.has:
        return st, False, False
    if st == INVALID:
        pension[i] = in_payment(pension[i], rules.indexation, rules.minimum_pension)
        _revalue(credits, paid, recent, i, 1.0 + rules.revaluation)
        if a >= retirement_age[a, s]:
            st = RETIRED
            credits[i] = paid[i] = 0.0
        elif rng.uniform(when.seed, rng.RECOVERY, p, when.year) < rules.recovery_rate:
            st = INACTIVE
            pension[i] = 0.0
        return st, True, True
    if (is_contributing(st)
            and qualified_insured(a, retirement_age[a, s], service[i],
                                  rules.disability_minimum_service)
            and rng.uniform(when.seed, rng.DISABILITY_ONSET, p, when.year) < incidence[a, s]):
        _revalue(credits, paid, recent, i, 1.0 + rules.revaluation)
        pension[i] = _award_on_death_or_disability(i, a, s, rules, retirement_age, service,
                                                   credits, recent, False)
        counts[c, a, s, NEW_INVALID] += 1
        return INVALID, True, False
    return st, False, False


@nb.njit(inline="always", cache=True)
def _award_on_death_or_disability(i, a, s, rules, retirement_age, service, credits, recent,
                                  death):
    """Person i's pension of pension_rules.disability_award (credited to the pensionable
    age, or over the computation years of pension_rules.award_future_years), paid on
    disability or, with ``death``, left to survivors on an insured member's death."""
    future = award_future_years(a, retirement_age[a, s], death, rules.formula)
    years = award_reference_years(rules.reference_years, future, rules.formula)
    return disability_award(
        _reference(credits, recent, i, service[i], years), service[i], future,
        rules.minimum_pension, rules.maximum_pension, rules.formula, 0.0, NO_CAPS)


@nb.njit(inline="always", cache=True)
def _retirement(c, i, p, a, s, st, revalued, indexed, when, rules, retirement_age,
                retire_probability, retire_factor, service, credits, paid, recent, pension,
                received, counts, money, service_awarded, service_left, age_money, never):
    """Enter the year, old age: an old-age pension in payment is indexed
    (pension_rules.in_payment); an active member's credits are revalued and, with the
    minimum service, she retires with ``retire_probability`` on pension_rules.old_age_award
    (``retire_factor``: early reduction or late increment); without it she leaves at the
    pensionable age (pension_rules.leaves_without_pension, :func:`_leave`). A person
    ``never`` covered was never a member: she is out at the pensionable age, and not
    counted a leaver (as in the cohort engine, where she is outside the state). Returns
    the state."""
    if not rules.has:
        return st
    if st == RETIRED:
        if not indexed:
            pension[i] = in_payment(pension[i], rules.indexation, rules.minimum_pension)
        return st
    if not is_active(st):
        return st
    if never:
        return LEFT if a >= retirement_age[a, s] else st
    if not revalued:
        _revalue(credits, paid, recent, i, 1.0 + rules.revaluation)
    chance = retire_probability[a, s]
    years = min(np.int64(service[i]), MAX_SERVICE)
    if service[i] >= rules.minimum_service and chance > 0.0 and (
            chance >= 1.0 or rng.uniform(when.seed, rng.RETIREMENT, p, when.year) < chance):
        award = old_age_award(
            _reference(credits, recent, i, service[i], rules.reference_years), service[i],
            retire_factor[a, s], rules.minimum_pension, rules.maximum_pension, rules.formula,
            0.0, NO_CAPS)
        pension[i] = award
        counts[c, a, s, NEW_PENSIONERS] += 1
        money[c, s, NEW_AMOUNT] += fixed(award, when.scale)
        service_awarded[c, s, years] += 1
        credits[i] = paid[i] = 0.0
        return RETIRED
    if leaves_without_pension(a, retirement_age[a, s], service[i], rules.minimum_service):
        _leave(c, i, a, s, years, when, rules, credits, paid, received, counts, money,
               service_left, age_money)
        return LEFT
    return st


@nb.njit(inline="always", cache=True)
def _leave(c, i, a, s, years, when, rules, credits, paid, received, counts, money,
           service_left, age_money):
    """Leaving at the pensionable age without a pension: the credits lapse, and a share
    ``rules.refund_share`` of the contributions paid (care credits were not) is refunded
    (pension_rules.refund)."""
    counts[c, a, s, NEW_LEAVERS] += 1
    service_left[c, s, years] += 1
    if rules.refund_share > 0.0 and paid[i] > 0.0:
        back = refund(rules.refund_share, paid[i])
        counts[c, a, s, N_REFUNDS] += 1
        units = fixed(back, when.scale)
        money[c, s, REFUNDS] += units
        age_money[c, a, s, AGE_REFUNDS] += units
        received[i] += np.float32(back / when.deflator)
    credits[i] = paid[i] = 0.0


@nb.njit(inline="always", cache=True)
def _year_credits_and_pensions(c, i, p, a, s, st, when, rules, earnings, care_probability,
                               young_child, earnings_factor, service, care_years, credits,
                               paid, recent, pension, contributed, received, counts, money,
                               age_money, never):
    """The year's contributions and pensions: a contributor is credited her earnings
    (:func:`_contribute`), an active woman may be credited a care year (:func:`_care`; not
    one ``never`` covered), a pensioner is paid her pension (:func:`_pension_paid`).
    Without a contributory pension, contributors are counted alone. Returns a
    contributor's gross earnings of the year (currency; 0 for the others and without a
    contributory pension)."""
    if not rules.has:
        if is_contributing(st):
            counts[c, a, s, CONTRIBUTORS] += 1
    elif is_contributing(st):
        return _contribute(c, i, p, a, s, when, rules, earnings, earnings_factor, service,
                           credits, paid, recent, contributed, counts, money, age_money)
    elif is_active(st) and not never:
        _care(i, p, a, s, when, rules, care_probability, young_child, service, care_years,
              credits, recent)
    elif st in (RETIRED, INVALID):
        _pension_paid(c, i, a, s, st, when, pension, received, counts, money, age_money)
    return 0.0


@nb.njit(inline="always", cache=True)
def _contribute(c, i, p, a, s, when, rules, earnings, earnings_factor, service, credits,
                paid, recent, contributed, counts, money, age_money):
    """Contributions: a contributor earns the (age, sex) earnings times her level, with a
    lognormal transitory shock (``rules.transitory_sd``), insurable between the floor and
    ceiling (pension_rules.insurable_earnings); they are credited for a year of service and
    she pays ``rules.contribution_rate`` on them. Returns her gross earnings (before the
    floor and ceiling)."""
    earned = earnings[a, s] * earnings_factor[i]
    sd = rules.transitory_sd
    if sd > 0.0:
        z = rng.normal(when.seed, rng.EARNINGS_TRANSITORY, rng.EARNINGS_TRANSITORY_2, p,
                       when.year)
        earned *= math.exp(sd * z - 0.5 * sd ** 2)
    gross = earned
    earned = insurable_earnings(earned, rules.earnings_floor, rules.earnings_ceiling)
    counts[c, a, s, CONTRIBUTORS] += 1
    insured = fixed(earned, when.scale)
    money[c, s, INSURED] += insured
    age_money[c, a, s, AGE_INSURED] += insured
    contributed[i] += np.float32(rules.contribution_rate * earned / when.deflator)
    if service[i] < 255:
        service[i] += 1
    _credit(credits, recent, i, earned, rules.best_years)
    paid[i] += rules.contribution_rate * earned
    return gross


@nb.njit(inline="always", cache=True)
def _care(i, p, a, s, when, rules, care_probability, young_child, service, care_years,
          credits, recent):
    """Child-care credits (ILC 2021 para. 13(f)): an active woman who does not contribute is
    credited a year of ``rules.care_credit`` earnings if she qualifies
    (db_pension.care_credit_qualifies) and cares for a child below the scheme's age: with
    family links, if she is the linked mother of such a child living here
    (``young_child``, families.mothers_of_young_children); without, with the age's
    ``care_probability`` of having one (the cohort engine's expectation)."""
    if s != FEMALE or not care_credit_qualifies(service[i] - care_years[i],
                                                 rules.care_insured_only):
        return
    if len(young_child):
        cares = young_child[i] == 1
    else:
        cares = (care_probability[a] > 0.0
                 and rng.uniform(when.seed, rng.CARE_CREDIT, p, when.year) < care_probability[a])
    if cares:
        if service[i] < 255:
            service[i] += 1
            care_years[i] += 1
        _credit(credits, recent, i, rules.care_credit, rules.best_years)


@nb.njit(inline="always", cache=True)
def _pension_paid(c, i, a, s, st, when, pension, received, counts, money, age_money):
    """Pensions in payment: the year's old-age or disability pension is paid and counted."""
    counts[c, a, s, PENSIONERS] += 1
    money[c, s, BENEFITS] += fixed(pension[i], when.scale)
    if st == INVALID:
        counts[c, a, s, N_INVALID] += 1
        money[c, s, INVALID_BENEFITS] += fixed(pension[i], when.scale)
    age_money[c, a, s, AGE_PENSIONS] += fixed(pension[i], when.scale)
    received[i] += np.float32(pension[i] / when.deflator)


@nb.njit(inline="always", cache=True)
def _revalue(credits, paid, recent, i, factor):
    """Revalue person i's credits, the contributions paid on them and recent credited
    years' earnings."""
    credits[i] *= factor
    paid[i] *= factor
    for k in range(recent.shape[1]):
        recent[i, k] *= factor


@nb.njit(inline="always", cache=True)
def _credit(credits, recent, i, amount, best):
    """Credit person i a year with ``amount``: it joins her credits and, where it is one
    of them, the years the reference keeps (pension_rules.keep_credited_year: the last
    or, with ``best``, the best N)."""
    credits[i] += amount
    if recent.shape[1]:
        keep_credited_year(recent[i], amount, recent[i], best)


@nb.njit(inline="always", cache=True)
def _reference(credits, recent, i, service, years):
    """Person i's reference credits (schemes.pension_rules.reference_earnings) from the
    career's credits and the last ``years`` credited years' earnings."""
    total = 0.0
    for k in range(min(years, recent.shape[1])):
        total += recent[i, k]
    return reference_earnings(credits[i], total, service, years)
