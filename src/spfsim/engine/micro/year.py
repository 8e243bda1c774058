"""The microsimulation's year: one pass over the persons per group of life events.

Persons are processed in fixed-size chunks with ``prange``; each chunk counts into its own
row of the accumulators (:mod:`.counters`), and every random number is keyed by (seed,
stream, person id, year), so results are bitwise identical for any number of threads and
any chunk size.

Each chunk is run in three passes, each person's events in the cohort engine's order
(:mod:`spfsim.engine.cohort`); no person's year reads another's, so the passes give what
one pass would:

1. :func:`entry_pass`: enter year t: survivors' pensions in payment, the disability branch
   (:mod:`.pension_events`), this year's labour state;
2. :func:`pension_pass`: pensions indexed and credits revalued, retirement or leaving, the
   year's contributions, care credits and pensions paid, the labour states counted;
3. :func:`life_pass`: the demographic step to 1 July of t+1 (death, emigration, births,
   ageing), then the year's non-contributory benefits and coverage (:mod:`.coverage`).

The arrays every person needs are taken out of the records (:mod:`.records`) once per
chunk: in Numba each read of a record's array costs a reference count, too dear for every
person every year. Events rare in a life (an onset, an award, a death) read the records.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ...schemes.pension_rules import in_payment, leaves_without_pension, qualified_insured
from . import rng
from .counters import (
    AGE_INSURED,
    CONTRIBUTORS,
    CURRENT_STATE,
    DEATHS,
    EMIGRANTS,
    INSURED,
    MAX_AGE,
    N_FREE,
    NO_SURVIVOR,
    POP,
    is_active,
    is_contributing,
)
from .coverage import benefit_state, benefits_and_coverage
from .labour import labour_state
from .lifetimes import COHORT_GROUP, lifetime_bin
from .pension_events import (
    care_credited,
    count_money,
    count_pension,
    credit,
    disability_onset,
    insured_earnings,
    insured_pension,
    invalid_year,
    leave,
    retire,
    retires,
    revalue,
)
from .store import FEMALE, GONE, INVALID, LEFT, RETIRED
from .survivors import survivor_in_payment

# what the disability branch did on entering the year (entry_pass to pension_pass)
UNTOUCHED, REVALUED, INDEXED = 0, 1, 2


@nb.njit(parallel=True, cache=True)
def year_step(persons, when, demography, labour, pension, tables, benefits, out):
    """One year of every person in use (records: :mod:`.records`); the accumulators
    ``out`` get one row per chunk of ``when.chunk`` persons."""
    n_chunks = (when.size + when.chunk - 1) // when.chunk
    _clear(out, n_chunks)
    for c in nb.prange(n_chunks):
        # a call, not the loop itself: inside a prange body, writes through the arrays
        # of a tuple argument are lost (Numba 0.68)
        chunk_year(c, persons, when, demography, labour, pension, tables, benefits, out)


@nb.njit(cache=True)
def _clear(out, n_chunks):
    """Zero the accumulators' rows of this year's chunks."""
    out.counts[:n_chunks] = 0
    out.money[:n_chunks] = 0
    out.service_awarded[:n_chunks] = 0
    out.service_left[:n_chunks] = 0
    out.age_money[:n_chunks] = 0
    out.lifetimes[:n_chunks] = 0
    out.nc_money[:n_chunks] = 0
    out.coverage[:n_chunks] = 0


@nb.njit(cache=True)
def chunk_year(c, persons, when, demography, labour, pension, tables, benefits, out):
    """The year of chunk c's persons, counted in its row of the accumulators."""
    lo, hi = c * when.chunk, min(when.size, (c + 1) * when.chunk)
    entered = np.zeros(hi - lo, dtype=np.int8)  # UNTOUCHED, REVALUED or INDEXED
    state = np.zeros(hi - lo, dtype=np.int8)  # L of engine.benefits
    entry_pass(c, lo, hi, entered, persons, when, labour, pension, tables, out)
    pension_pass(c, lo, hi, entered, state, persons, when, pension, tables, benefits, out)
    life_pass(c, lo, hi, state, persons, when, demography, labour, pension, tables,
              benefits, out)


@nb.njit(cache=True)
def entry_pass(c, lo, hi, entered, persons, when, labour, pension, tables, out):
    """Enter the year: count the population, pay survivors' pensions, the disability
    branch (a pension in payment first, then onsets among last year's qualified
    contributors), and draw the labour state of the active."""
    status, age, sex, pid = persons.status, persons.age, persons.sex, persons.pid
    service, survivor_kind, counts = persons.service, persons.survivor_kind, out.counts
    retirement_age, incidence = tables.retirement_age, tables.incidence
    stay, join, keep, cumulative = labour.stay, labour.join, labour.keep, labour.cumulative
    keep_contributor, p_self_employed = labour.keep_contributor, labour.p_self_employed
    forced = labour.forced_contribution
    for i in range(lo, hi):
        st = status[i]
        if st == GONE:
            continue
        a, s, p = np.int64(age[i]), np.int64(sex[i]), pid[i]
        counts[c, a, s, POP] += 1
        if survivor_kind[i] != NO_SURVIVOR:
            survivor_in_payment(c, i, p, a, s, persons, when, pension, out)
        if pension.has and st == INVALID:
            st = invalid_year(i, p, a, s, persons, when, pension, tables)
            entered[i - lo] = INDEXED
        elif (pension.has and is_contributing(st)
                and qualified_insured(a, retirement_age[a, s], service[i],
                                      pension.disability_minimum_service)
                and rng.uniform(when.seed, rng.DISABILITY_ONSET, p, when.year)
                < incidence[a, s]):
            disability_onset(c, i, a, s, persons, pension, tables, out)
            st = INVALID
            entered[i - lo] = REVALUED
        if is_active(st):
            st = labour_state(when.seed, p, when.year, st, stay, join, keep, cumulative,
                              keep_contributor, p_self_employed, a, s,
                              forced[i] if len(forced) else -1)
        status[i] = st


@nb.njit(cache=True)
def pension_pass(c, lo, hi, entered, state, persons, when, pension, tables, benefits, out):
    """The pension's year: index pensions and revalue credits, retire or leave; note the
    state L for the benefits (with the service before this year's credit); then the
    year's contributions, care credits and pensions paid; count the labour states."""
    status, age, sex, pid = persons.status, persons.age, persons.sex, persons.pid
    service, care_years, amount = persons.service, persons.care_years, persons.pension
    credits, paid, recent = persons.credits, persons.paid, persons.recent
    factor, contributed_pv = persons.earnings_factor, persons.lifetime_contributions
    received_pv = persons.lifetime_benefits
    retirement_age, retire_probability = tables.retirement_age, tables.retire_probability
    earnings, care_probability = tables.earnings, tables.care_probability
    counts, money, age_money = out.counts, out.money, out.age_money
    rate, scale = pension.contribution_rate, when.scale
    nc_amount, top_up = benefits.amount, benefits.top_up_index
    for i in range(lo, hi):
        st = status[i]
        if st == GONE:
            continue
        a, s, p = np.int64(age[i]), np.int64(sex[i]), pid[i]
        if pension.has and st == RETIRED and entered[i - lo] != INDEXED:
            amount[i] = in_payment(amount[i], pension.indexation, pension.minimum_pension)
        elif pension.has and is_active(st):
            if entered[i - lo] == UNTOUCHED:
                revalue(credits, paid, recent, i, 1.0 + pension.revaluation)
            if retires(p, a, s, service[i], retire_probability[a, s], when, pension):
                retire(c, i, a, s, persons, when, pension, tables, out)
                st = RETIRED
            elif leaves_without_pension(a, retirement_age[a, s], service[i],
                                        pension.minimum_service):
                leave(c, i, a, s, persons, when, pension, out)
                st = LEFT
        # the unemployed's insured status uses the service before this year's credit
        floor = nc_amount[top_up, a, s] if top_up >= 0 else -np.inf
        state[i - lo] = benefit_state(st, amount[i], floor, service[i],
                                      service[i] - care_years[i], benefits)
        if is_contributing(st):
            counts[c, a, s, CONTRIBUTORS] += 1
            if pension.has:
                earned = insured_earnings(p, earnings[a, s] * factor[i], when, pension)
                count_money(c, a, s, INSURED, AGE_INSURED, earned, scale, money, age_money)
                contributed_pv[i] += np.float32(rate * earned / when.deflator)
                if service[i] < 255:
                    service[i] += 1
                credit(credits, recent, i, earned)
                paid[i] += rate * earned
        elif pension.has and care_credited(p, a, s, st, service[i] - care_years[i],
                                           care_probability[a], when, pension):
            if service[i] < 255:
                service[i] += 1
                care_years[i] += 1
            credit(credits, recent, i, pension.care_credit)
        elif pension.has and st in (RETIRED, INVALID):
            count_pension(c, a, s, st, amount[i], scale, counts, money, age_money)
            received_pv[i] += np.float32(amount[i] / when.deflator)
        if CURRENT_STATE[st] >= 0:
            counts[c, a, s, CURRENT_STATE[st]] += 1
        status[i] = st


@nb.njit(cache=True)
def life_pass(c, lo, hi, state, persons, when, demography, labour, pension, tables,
              benefits, out):
    """The demographic step to 1 July of the next year: death (flagged for the survivors'
    branch, lifetime amounts binned) or emigration, a birth, ageing; then the year's
    non-contributory benefits and coverage, on this year's state (mothers: those who gave
    birth during the step, as the maternity benefit pays)."""
    status, age, sex, pid = persons.status, persons.age, persons.sex, persons.pid
    survivor_kind, birth_flag, amount = (persons.survivor_kind, persons.birth_flag,
                                         persons.pension)
    q_death, q_invalid = demography.q_death, demography.q_invalid
    p_emigrate, asfr, forced = demography.p_emigrate, demography.asfr, labour.forced_death
    codes, probability, nc_amount = benefits.codes, benefits.probability, benefits.amount
    prevalence, counts = benefits.disability_prevalence, out.counts
    nc_money, coverage = out.nc_money, out.coverage
    for i in range(lo, hi):
        st = status[i]
        if st == GONE:
            continue
        a, s, p = np.int64(age[i]), np.int64(sex[i]), pid[i]
        end_age = min(a + 1, MAX_AGE)
        q = q_invalid[a, s] if st == INVALID else q_death[a, s]
        stays = False
        if (forced[i] == 1 if len(forced)
                else rng.uniform(when.seed, rng.DEATH, p, when.year) < q):
            die(c, i, a, s, st, end_age, persons, when, pension, tables, out)
        elif rng.uniform(when.seed, rng.EMIGRATION, p, when.year) < p_emigrate[a, s]:
            status[i] = GONE
            counts[c, end_age, s, EMIGRANTS] += 1
        else:
            stays = True
        if s == FEMALE:
            # exposure: half the year at the start age, half at the end age if still here
            birth_p = 0.5 * asfr[a] + (0.5 * asfr[end_age] if stays else 0.0)
            if birth_p > 0.0 and rng.uniform(when.seed, rng.BIRTH, p, when.year) < birth_p:
                birth_flag[i] = 1
        if stays:
            age[i] = end_age
            if survivor_kind[i] == NO_SURVIVOR:
                counts[c, end_age, s, N_FREE] += 1
        benefits_and_coverage(c, p, a, s, state[i - lo], birth_flag[i] == 1, amount[i],
                              when, codes, probability, nc_amount, prevalence, counts,
                              nc_money, coverage)


@nb.njit(cache=True)
def die(c, i, a, s, st, end_age, persons, when, pension, tables, out):
    """Person i dies during the step: a pensioner's death, or an insured person's with the
    survivors' qualifying period (pension_rules.qualified_insured), is flagged for the
    survivors' branch (an insured person's shares then apply to the disability pension
    they would have had, left in ``pension``); lifetime amounts are binned."""
    persons.status[i] = GONE
    out.counts[c, end_age, s, DEATHS] += 1
    if pension.survivors_on:
        if st in (RETIRED, INVALID):
            persons.death_flag[i] = 1
        elif is_active(st) and qualified_insured(a, tables.retirement_age[a, s],
                                                 persons.service[i],
                                                 pension.survivor_minimum_service):
            persons.death_flag[i] = 1
            persons.pension[i] = insured_pension(persons, i, a, s, pension, tables)
    n_groups = out.lifetimes.shape[1]
    cohort = min(max(np.int64(persons.birth_year[i]) - when.first_birth_year, 0),
                 n_groups * COHORT_GROUP - 1)
    group = min(cohort // COHORT_GROUP, n_groups - 1)
    unit = when.lifetime_unit
    out.lifetimes[c, group, s, 0, lifetime_bin(persons.lifetime_contributions[i] / unit)] += 1
    out.lifetimes[c, group, s, 1, lifetime_bin(persons.lifetime_benefits[i] / unit)] += 1
