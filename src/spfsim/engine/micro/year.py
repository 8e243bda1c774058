"""The microsimulation's year: one pass over the persons in use.

Persons are processed in fixed-size chunks with ``prange``; each chunk writes its own row of
integer accumulators (counts, and money in int64 fixed point: units of ``scale`` currency),
and the rows are summed afterwards. Integer sums do not depend on their grouping, and every
random number is keyed by (seed, stream, person id, year), so results are bitwise identical
for any number of threads and any chunk size.

The order of events within a year mirrors the cohort engine (:mod:`spfsim.engine.cohort`):
enter year t (revalue credits, index pensions, contribution status, retirement, minimum
pension), record the year's contributors and beneficiaries, credit the year's contributions,
then the demographic step to 1 July of t+1 (death, emigration, births, ageing). Every
formula of the contributory pension is a rule of :mod:`spfsim.schemes.pension_rules`, the
cohort engine's too.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ...schemes.db_pension import care_credit_qualifies
from ...schemes.insurance import unemployment_qualifies
from ...schemes.pension_rules import (
    disability_award,
    in_payment,
    insurable_earnings,
    leaves_without_pension,
    old_age_award,
    qualified_insured,
    reference_earnings,
    refund,
)
from ..benefits import (
    L_CONTRIBUTING,
    L_OTHER,
    L_PENSION_HIGH,
    L_PENSION_LOW,
    L_UNEMPLOYED,
    L_UNEMPLOYED_INSURED,
)
from . import rng
from .counters import (
    AGE_INSURED,
    AGE_PENSIONS,
    AGE_REFUNDS,
    BENEFITS,
    CONTRIBUTORS,
    CURRENT_STATE,
    DEATHS,
    EMIGRANTS,
    INSURED,
    INVALID_BENEFITS,
    MAX_AGE,
    MAX_SERVICE,
    N_FREE,
    N_INVALID,
    N_REFUNDS,
    NEW_AMOUNT,
    NEW_INVALID,
    NEW_LEAVERS,
    NEW_PENSIONERS,
    NO_SURVIVOR,
    PENSIONERS,
    POP,
    REFUNDS,
    fixed,
    is_active,
    is_contributing,
)
from .coverage import benefits_and_coverage
from .labour import labour_state
from .lifetimes import COHORT_GROUP, lifetime_bin
from .store import (
    FEMALE,
    GONE,
    INACTIVE,
    INVALID,
    LEFT,
    RETIRED,
    UNEMPLOYED,
)
from .survivors import survivor_in_payment


@nb.njit(parallel=True, cache=True)
def year_step(persons, when, demography, labour, rules, tables, benefits, out):
    """One year of every person in use. The records (:mod:`.records`): the person arrays
    and flags, the step (seed, year, size, chunk, fixed-point scale, deflator, lifetime
    histograms), demography, labour transitions, the pension's numbers (``rules``) and
    (age, sex) tables, the non-contributory rules, and the accumulators (one row per chunk)."""
    # the records' fields as locals, once: inside the prange body, writes through the arrays
    # of a tuple argument are lost (Numba 0.68), and reading a record's array per person
    # costs a reference count
    pid = persons.pid
    status = persons.status
    age = persons.age
    sex = persons.sex
    birth_year = persons.birth_year
    service = persons.service
    care_years = persons.care_years
    credits = persons.credits
    paid = persons.paid
    recent = persons.recent
    pension = persons.pension
    earnings_factor = persons.earnings_factor
    lifetime_contributions = persons.lifetime_contributions
    lifetime_benefits = persons.lifetime_benefits
    survivor_kind = persons.survivor_kind
    survivor_pension = persons.survivor_pension
    birth_flag = persons.birth_flag
    death_flag = persons.death_flag
    seed = when.seed
    year = when.year
    size = when.size
    chunk = when.chunk
    scale = when.scale
    deflator = when.deflator
    first_birth_year = when.first_birth_year
    lifetime_unit = when.lifetime_unit
    q_death = demography.q_death
    q_invalid = demography.q_invalid
    p_emigrate = demography.p_emigrate
    asfr = demography.asfr
    stay = labour.stay
    join = labour.join
    keep = labour.keep
    cumulative = labour.cumulative
    keep_contributor = labour.keep_contributor
    p_self_employed = labour.p_self_employed
    forced_contribution = labour.forced_contribution
    forced_death = labour.forced_death
    has_pension = rules.has
    minimum_service = rules.minimum_service
    accrual_rate = rules.accrual_rate
    rate_above = rules.rate_above
    band_years = rules.band_years
    reference_years = rules.reference_years
    minimum_pension = rules.minimum_pension
    maximum_pension = rules.maximum_pension
    revaluation = rules.revaluation
    indexation = rules.indexation
    transitory_sd = rules.transitory_sd
    earnings_floor = rules.earnings_floor
    earnings_ceiling = rules.earnings_ceiling
    contribution_rate = rules.contribution_rate
    disability_minimum_service = rules.disability_minimum_service
    recovery_rate = rules.recovery_rate
    care_credit = rules.care_credit
    care_insured_only = rules.care_insured_only
    refund_share = rules.refund_share
    survivors_on = rules.survivors_on
    survivor_minimum_service = rules.survivor_minimum_service
    orphan_age_limit = rules.orphan_age_limit
    survivor_end_rate = rules.survivor_end_rate
    retirement_age = tables.retirement_age
    earnings = tables.earnings
    incidence = tables.incidence
    care_probability = tables.care_probability
    retire_probability = tables.retire_probability
    retire_factor = tables.retire_factor
    nc_codes = benefits.codes
    nc_probability = benefits.probability
    nc_amount = benefits.amount
    top_up_index = benefits.top_up_index
    disability_prevalence = benefits.disability_prevalence
    ui_service = benefits.ui_service
    ui_credits_count = benefits.ui_credits_count
    counts = out.counts
    money = out.money
    service_awarded = out.service_awarded
    service_left = out.service_left
    age_money = out.age_money
    lifetimes = out.lifetimes
    nc_money = out.nc_money
    coverage = out.coverage
    n_chunks = (size + chunk - 1) // chunk
    counts[:n_chunks] = 0
    money[:n_chunks] = 0
    service_awarded[:n_chunks] = 0
    service_left[:n_chunks] = 0
    age_money[:n_chunks] = 0
    lifetimes[:n_chunks] = 0
    nc_money[:n_chunks] = 0
    coverage[:n_chunks] = 0
    n_groups = lifetimes.shape[1]
    n_cohorts = n_groups * COHORT_GROUP
    for c in nb.prange(n_chunks):
        for i in range(c * chunk, min(size, (c + 1) * chunk)):
            st = status[i]
            if st == GONE:
                continue
            a = np.int64(age[i])
            s = np.int64(sex[i])
            p = pid[i]
            cohort = min(max(np.int64(birth_year[i]) - first_birth_year, 0), n_cohorts - 1)
            counts[c, a, s, POP] += 1
            if survivor_kind[i] != NO_SURVIVOR:
                survivor_in_payment(c, i, p, a, s, seed, year, indexation, orphan_age_limit,
                                    survivor_end_rate, scale, survivor_kind,
                                    survivor_pension, counts, age_money)
            earned = 0.0
            # the unemployed's insured status uses the service before this year's credit
            service_before = service[i]
            contributed_before = service[i] - care_years[i]
            # enter the year, disability branch first: a disability pension in payment is
            # indexed, then ends by recovery or turns into the old-age pension; a qualified
            # contributor of last year may become disabled
            revalued = indexed = False
            if has_pension and st == INVALID:
                pension[i] = in_payment(pension[i], indexation, minimum_pension)
                _revalue(credits, paid, recent, i, 1.0 + revaluation)
                revalued = indexed = True
                if a >= retirement_age[a, s]:
                    st = RETIRED
                    credits[i] = paid[i] = 0.0
                elif rng.uniform(seed, rng.RECOVERY, p, year) < recovery_rate:
                    st = INACTIVE
                    pension[i] = 0.0
            elif (has_pension and is_contributing(st)
                    and qualified_insured(a, retirement_age[a, s], service[i],
                                          disability_minimum_service)
                    and rng.uniform(seed, rng.DISABILITY_ONSET, p, year) < incidence[a, s]):
                _revalue(credits, paid, recent, i, 1.0 + revaluation)
                revalued = True
                pension[i] = disability_award(
                    _reference(credits, recent, i, service[i], reference_years), service[i],
                    retirement_age[a, s] - a, minimum_pension, maximum_pension, accrual_rate,
                    rate_above, band_years)
                st = INVALID
                counts[c, a, s, NEW_INVALID] += 1
            if is_active(st):
                forced = forced_contribution[i] if len(forced_contribution) else -1
                st = labour_state(seed, p, year, st, stay, join, keep, cumulative,
                                  keep_contributor, p_self_employed, a, s, forced)
            if has_pension:
                # enter the year: index pensions, revalue credits, retire
                if st == RETIRED:
                    if not indexed:
                        pension[i] = in_payment(pension[i], indexation, minimum_pension)
                elif is_active(st):
                    if not revalued:
                        _revalue(credits, paid, recent, i, 1.0 + revaluation)
                    chance = retire_probability[a, s]
                    years = min(np.int64(service[i]), MAX_SERVICE)
                    if service[i] >= minimum_service and chance > 0.0 and (
                            chance >= 1.0
                            or rng.uniform(seed, rng.RETIREMENT, p, year) < chance):
                        award = old_age_award(
                            _reference(credits, recent, i, service[i], reference_years),
                            service[i], retire_factor[a, s], minimum_pension,
                            maximum_pension, accrual_rate, rate_above, band_years)
                        pension[i] = award
                        st = RETIRED
                        counts[c, a, s, NEW_PENSIONERS] += 1
                        money[c, s, NEW_AMOUNT] += fixed(award, scale)
                        service_awarded[c, s, years] += 1
                        credits[i] = paid[i] = 0.0
                    elif leaves_without_pension(a, retirement_age[a, s], service[i],
                                                minimum_service):
                        st = LEFT
                        counts[c, a, s, NEW_LEAVERS] += 1
                        service_left[c, s, years] += 1
                        if refund_share > 0.0 and paid[i] > 0.0:
                            # a share of the contributions paid (care credits were not)
                            back = refund(refund_share, paid[i])
                            counts[c, a, s, N_REFUNDS] += 1
                            units = fixed(back, scale)
                            money[c, s, REFUNDS] += units
                            age_money[c, a, s, AGE_REFUNDS] += units
                            lifetime_benefits[i] += np.float32(back / deflator)
                        credits[i] = paid[i] = 0.0
                # the year's contributions and benefits
                if is_contributing(st):
                    earned = earnings[a, s] * earnings_factor[i]
                    if transitory_sd > 0.0:
                        z = rng.normal(seed, rng.EARNINGS_TRANSITORY, rng.EARNINGS_TRANSITORY_2,
                                       p, year)
                        earned *= math.exp(transitory_sd * z - 0.5 * transitory_sd ** 2)
                    earned = insurable_earnings(earned, earnings_floor, earnings_ceiling)
                    counts[c, a, s, CONTRIBUTORS] += 1
                    insured = fixed(earned, scale)
                    money[c, s, INSURED] += insured
                    age_money[c, a, s, AGE_INSURED] += insured
                    lifetime_contributions[i] += np.float32(
                        contribution_rate * earned / deflator)
                    if service[i] < 255:
                        service[i] += 1
                    _credit(credits, recent, i, earned)
                    paid[i] += contribution_rate * earned
                elif (s == FEMALE and is_active(st) and care_probability[a] > 0.0
                        and care_credit_qualifies(service[i] - care_years[i],
                                                  care_insured_only)
                        and rng.uniform(seed, rng.CARE_CREDIT, p, year) < care_probability[a]):
                    if service[i] < 255:
                        service[i] += 1
                        care_years[i] += 1
                    _credit(credits, recent, i, care_credit)
                elif st in (RETIRED, INVALID):
                    counts[c, a, s, PENSIONERS] += 1
                    money[c, s, BENEFITS] += fixed(pension[i], scale)
                    if st == INVALID:
                        counts[c, a, s, N_INVALID] += 1
                        money[c, s, INVALID_BENEFITS] += fixed(pension[i], scale)
                    age_money[c, a, s, AGE_PENSIONS] += fixed(pension[i], scale)
                    lifetime_benefits[i] += np.float32(pension[i] / deflator)
            elif is_contributing(st):
                counts[c, a, s, CONTRIBUTORS] += 1
            if CURRENT_STATE[st] >= 0:
                counts[c, a, s, CURRENT_STATE[st]] += 1
            status[i] = st
            # demographic step to 1 July of the next year
            end_age = min(a + 1, MAX_AGE)
            stays = True
            q = q_invalid[a, s] if st == INVALID else q_death[a, s]
            if (forced_death[i] == 1 if len(forced_death)
                    else rng.uniform(seed, rng.DEATH, p, year) < q):
                status[i] = GONE
                counts[c, end_age, s, DEATHS] += 1
                stays = False
                if survivors_on:
                    if st in (RETIRED, INVALID):
                        death_flag[i] = 1
                    elif is_active(st) and qualified_insured(a, retirement_age[a, s], service[i],
                                                             survivor_minimum_service):
                        death_flag[i] = 1
                        pension[i] = disability_award(
                            _reference(credits, recent, i, service[i], reference_years),
                            service[i], retirement_age[a, s] - a, minimum_pension,
                            maximum_pension, accrual_rate, rate_above, band_years)
                group = min(cohort // COHORT_GROUP, n_groups - 1)
                lifetimes[c, group, s, 0, lifetime_bin(
                    lifetime_contributions[i] / lifetime_unit)] += 1
                lifetimes[c, group, s, 1, lifetime_bin(lifetime_benefits[i] / lifetime_unit)] += 1
            elif rng.uniform(seed, rng.EMIGRATION, p, year) < p_emigrate[a, s]:
                status[i] = GONE
                counts[c, end_age, s, EMIGRANTS] += 1
                stays = False
            if s == FEMALE:
                # exposure: half the year at the start age, half at the end age if still here
                birth_p = 0.5 * asfr[a] + (0.5 * asfr[end_age] if stays else 0.0)
                if birth_p > 0.0 and rng.uniform(seed, rng.BIRTH, p, year) < birth_p:
                    birth_flag[i] = 1
            if stays:
                age[i] = end_age
                if survivor_kind[i] == NO_SURVIVOR:
                    counts[c, end_age, s, N_FREE] += 1
            # non-contributory benefits and coverage, on this year's state; mothers are
            # those who gave birth during the step (as the maternity benefit pays)
            state = L_OTHER
            if is_contributing(st):
                state = L_CONTRIBUTING
            elif st in (RETIRED, INVALID):
                state = L_PENSION_HIGH
                if top_up_index >= 0 and pension[i] < nc_amount[top_up_index, a, s]:
                    state = L_PENSION_LOW
            elif st == UNEMPLOYED:
                state = L_UNEMPLOYED
                if unemployment_qualifies(service_before, contributed_before, ui_service,
                                          ui_credits_count):
                    state = L_UNEMPLOYED_INSURED
            benefits_and_coverage(
                c, i, p, a, s, state, birth_flag[i] == 1, seed, pension[i], scale,
                nc_codes, nc_probability, nc_amount, disability_prevalence, counts,
                nc_money, coverage)


@nb.njit(inline="always", cache=True)
def _revalue(credits, paid, recent, i, factor):
    """Revalue person i's credits, the contributions paid on them and recent credited
    years' earnings."""
    credits[i] *= factor
    paid[i] *= factor
    for k in range(recent.shape[1]):
        recent[i, k] *= factor


@nb.njit(inline="always", cache=True)
def _credit(credits, recent, i, amount):
    """Credit person i a year with ``amount``: it becomes the most recent year's earnings
    and the oldest one kept drops out."""
    credits[i] += amount
    n = recent.shape[1]
    if n == 0:
        return
    for k in range(n - 1, 0, -1):
        recent[i, k] = recent[i, k - 1]
    recent[i, 0] = amount


@nb.njit(inline="always", cache=True)
def _reference(credits, recent, i, service, years):
    """Person i's reference credits (schemes.pension_rules.reference_earnings) from the
    career's credits and the last ``years`` credited years' earnings."""
    total = 0.0
    for k in range(min(years, recent.shape[1])):
        total += recent[i, k]
    return reference_earnings(credits[i], total, service, years)
