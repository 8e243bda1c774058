"""The microsimulation's year: one pass over the persons in use.

Persons are processed in fixed-size chunks with ``prange``; each chunk adds into a row of
integer accumulators (counts, and money in int64 fixed point: units of ``scale`` currency;
counters.chunk_rows: chunk k into row k modulo the rows), and the rows are summed
afterwards. Integer sums do not depend on their grouping, and every random number is keyed
by (seed, stream, person id, year), so results are bitwise identical for any number of
threads and any chunk size.

The order of events within a year mirrors the cohort engine (:mod:`spfsim.engine.cohort`):
enter year t (revalue credits, index pensions, contribution status, retirement, minimum
pension), record the year's contributors and beneficiaries, credit the year's contributions,
then the demographic step to 1 July of t+1 (death, emigration, births, ageing). Every
formula of the contributory pension is a rule of :mod:`spfsim.schemes.pension_rules`, the
cohort engine's too.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ... import rng
from ...schemes.insurance import unemployment_qualifies
from ...schemes.pension_rules import (
    qualified_insured,
)
from ..benefits import (
    L_CONTRIBUTING,
    L_OTHER,
    L_PENSION_HIGH,
    L_PENSION_LOW,
    L_UNEMPLOYED,
    L_UNEMPLOYED_INSURED,
)
from .careers import (
    _award_on_death_or_disability,
    _disability,
    _retirement,
    _year_credits_and_pensions,
)
from .counters import (
    CURRENT_STATE,
    DEATHS,
    EMIGRANTS,
    MAX_AGE,
    N_FREE,
    NO_SURVIVOR,
    POP,
    chunk_rows,
    is_active,
    is_contributing,
)
from .coverage import benefits_and_coverage
from .dependants import pay_dependant, pay_linked_dependant
from .labour import labour_state, never_covered
from .lifetimes import COHORT_GROUP, lifetime_bin
from .store import (
    FEMALE,
    GONE,
    INFORMAL,
    INVALID,
    RETIRED,
    UNEMPLOYED,
)
from .survivors import pay_survivor, survivor_in_payment


@nb.njit(parallel=True, cache=True)
def year_step(persons, when, demography, labour, rules, tables, benefits, income, out):
    """One year of every person in use, life event by life event in the cohort engine's
    order. The records (:mod:`.records`): person arrays and flags, the step, demography,
    labour transitions, the pension's numbers (``rules``) and tables, the non-contributory
    rules, the persons' incomes by source (written when the array is not empty) and the
    accumulators (one row per chunk)."""
    # the records' arrays as locals, once: in the prange body, writes through the arrays of
    # a tuple argument are lost (Numba 0.68), and reading a record's array costs a reference
    # count. The events, inlined, take these locals and the records of numbers (when, rules)
    pid, status, age, sex = persons.pid, persons.status, persons.age, persons.sex
    birth_year, service, care_years = persons.birth_year, persons.service, persons.care_years
    credits, paid, recent, pension = persons.credits, persons.paid, persons.recent, persons.pension
    earnings_factor, survivor_kind = persons.earnings_factor, persons.survivor_kind
    contributed, received = persons.lifetime_contributions, persons.lifetime_benefits
    survivor_pension, birth_flag = persons.survivor_pension, persons.birth_flag
    young_child = persons.young_child
    dependant_flags, supplements = persons.dependant_flags, persons.supplements
    death_flag, forced_death = persons.death_flag, labour.forced_death
    q_death, q_invalid, p_emigrate = demography.q_death, demography.q_invalid, demography.p_emigrate
    asfr, forced_contribution = demography.asfr, labour.forced_contribution
    stay, join, keep, cumulative = labour.stay, labour.join, labour.keep, labour.cumulative
    keep_contributor, p_self_employed = labour.keep_contributor, labour.p_self_employed
    earnings, incidence, retirement_age = tables.earnings, tables.incidence, tables.retirement_age
    care_probability = tables.care_probability
    spouse_probability = tables.dependent_spouse_probability
    spouse_amount, child_amount = tables.dependent_spouse_amount, tables.dependent_child_amount
    child_probability = tables.dependent_child_probability
    retire_probability, retire_factor = tables.retire_probability, tables.retire_factor
    survivor_partnering, never_share = tables.survivor_partnering, tables.never_covered
    nc_codes, nc_probability, nc_amount = benefits.codes, benefits.probability, benefits.amount
    top_up_index, disability_prevalence = benefits.top_up_index, benefits.disability_prevalence
    ui_service, ui_credits_count = benefits.ui_service, benefits.ui_credits_count
    counts, money, age_money, lifetimes = out.counts, out.money, out.age_money, out.lifetimes
    service_awarded, service_left, nc_money = out.service_awarded, out.service_left, out.nc_money
    coverage = out.coverage
    by_source, all_earnings, informal = income.by_source, income.earnings, income.informal
    coverage_bits = income.coverage_bits
    seed, year, size, chunk, scale = when.seed, when.year, when.size, when.chunk, when.scale
    n_chunks, rows = chunk_rows(size, chunk, counts.shape[0])
    _clear(out)
    for c in nb.prange(rows):  # accumulator row c: the chunks c, c + rows, ...
        for k in range(c, n_chunks, rows):
            for i in range(k * chunk, min(size, (k + 1) * chunk)):
                st = status[i]
                if st == GONE:
                    continue
                a, s, p = np.int64(age[i]), np.int64(sex[i]), pid[i]
                counts[c, a, s, POP] += 1
                free = survivor_kind[i] == NO_SURVIVOR  # at the start: who may be a dependant
                if not free:
                    survivor_in_payment(i, p, a, seed, year, rules.indexation,
                                        rules.orphan_age_limit, rules.survivor_end_rate,
                                        survivor_partnering[a, s], survivor_kind,
                                        survivor_pension)
                service_before, contributed_before = service[i], service[i] - care_years[i]
                st, revalued, indexed = _disability(
                    c, i, p, a, s, st, when, rules, retirement_age, incidence, service, credits,
                    paid, recent, pension, counts)
                never = False
                if is_active(st):
                    forced = forced_contribution[i] if len(forced_contribution) else -1
                    never = never_covered(seed, p, never_share[a, s])
                    st = labour_state(seed, p, year, st, stay, join, keep, cumulative,
                                      keep_contributor, p_self_employed, a, s, forced, never)
                st = _retirement(c, i, p, a, s, st, revalued, indexed, when, rules, retirement_age,
                                 retire_probability, retire_factor, service, credits, paid, recent,
                                 pension, received, counts, money, service_awarded, service_left,
                                 age_money, never)
                earned = _year_credits_and_pensions(
                    c, i, p, a, s, st, when, rules, earnings, care_probability, young_child,
                    earnings_factor, service, care_years, credits, paid, recent, pension,
                    contributed, received, counts, money, age_money, never)
                if CURRENT_STATE[st] >= 0:
                    counts[c, a, s, CURRENT_STATE[st]] += 1
                own = pension[i] if st in (RETIRED, INVALID) else 0.0
                survivor_paid = pay_survivor(
                    c, i, a, s, own, rules.survivor_dual_entitlement, rules.survivor_minimum_age,
                    scale, survivor_kind, survivor_pension, counts, age_money)
                if len(dependant_flags):  # the linked pensioners' own (flagged if free)
                    survivor_paid += pay_linked_dependant(
                        c, i, a, s, own, rules.dependant_dual_entitlement, dependant_flags,
                        supplements, scale, counts, age_money)
                elif free:
                    survivor_paid += pay_dependant(
                        c, p, a, s, own, seed, rules.dependant_dual_entitlement,
                        rules.dependant_spread, spouse_probability, spouse_amount,
                        child_probability, child_amount, scale, counts, age_money)
                status[i] = st
                stays = _death_or_emigration(
                    c, i, p, a, s, st, when, rules, q_death, q_invalid, p_emigrate, forced_death,
                    retirement_age, birth_year, service, credits, recent, pension, contributed,
                    received, death_flag, status, counts, lifetimes)
                _birth(i, p, a, s, stays, seed, year, asfr, birth_flag)
                if stays:
                    age[i] = min(a + 1, MAX_AGE)
                    if survivor_kind[i] == NO_SURVIVOR:
                        counts[c, min(a + 1, MAX_AGE), s, N_FREE] += 1
                state = _benefit_state(a, s, st, pension[i], service_before, contributed_before,
                                       top_up_index, nc_amount, ui_service, ui_credits_count)
                insured_cash, floor_cash = benefits_and_coverage(
                    c, i, p, a, s, state, birth_flag[i] == 1, seed, pension[i], scale,
                    nc_codes, nc_probability, nc_amount, disability_prevalence, counts,
                    nc_money, coverage, coverage_bits)
                if len(by_source):
                    by_source[i, 0] = _market_income(st, earned, rules.has,
                                                     all_earnings[a, s] * earnings_factor[i],
                                                     informal)
                    by_source[i, 1] = (insured_cash + survivor_paid
                                       + (pension[i] if st in (RETIRED, INVALID) else 0.0))
                    by_source[i, 2] = floor_cash


@nb.njit(cache=True)
def _clear(out):
    """Zero the accumulators (every row: the rows a year uses depend on its chunks)."""
    out.counts[:] = 0
    out.money[:] = 0
    out.service_awarded[:] = 0
    out.service_left[:] = 0
    out.age_money[:] = 0
    out.lifetimes[:] = 0
    out.nc_money[:] = 0
    out.coverage[:] = 0


@nb.njit(inline="always", cache=True)
def _death_or_emigration(c, i, p, a, s, st, when, rules, q_death, q_invalid, p_emigrate,
                         forced_death, retirement_age, birth_year, service, credits, recent,
                         pension, contributed, received, death_flag, status, counts,
                         lifetimes):
    """Death and emigration during the step to 1 July of the next year: the (age, sex)
    probability of dying (``q_invalid`` for disability pensioners) or an aligned death
    (``forced_death``), then of emigrating. A death leaves survivors (:func:`_survivors`)
    and closes the person's lifetime histograms. Returns whether the person stays."""
    end_age = min(a + 1, MAX_AGE)
    q = q_invalid[a, s] if st == INVALID else q_death[a, s]
    if (forced_death[i] == 1 if len(forced_death)
            else rng.uniform(when.seed, rng.DEATH, p, when.year) < q):
        status[i] = GONE
        counts[c, end_age, s, DEATHS] += 1
        if rules.survivors_on:
            _survivors(i, a, s, st, rules, retirement_age, service, credits, recent,
                       pension, death_flag)
        n_groups = lifetimes.shape[1]
        cohort = min(max(np.int64(birth_year[i]) - when.first_birth_year, 0),
                     n_groups * COHORT_GROUP - 1)
        group = min(cohort // COHORT_GROUP, n_groups - 1)
        unit = when.lifetime_unit
        lifetimes[c, group, s, 0, lifetime_bin(contributed[i] / unit)] += 1
        lifetimes[c, group, s, 1, lifetime_bin(received[i] / unit)] += 1
        return False
    if rng.uniform(when.seed, rng.EMIGRATION, p, when.year) < p_emigrate[a, s]:
        status[i] = GONE
        counts[c, end_age, s, EMIGRANTS] += 1
        return False
    return True


@nb.njit(inline="always", cache=True)
def _survivors(i, a, s, st, rules, retirement_age, service, credits, recent, pension,
               death_flag):
    """Survivors' claims: a pensioner's death, or an insured member's
    (pension_rules.qualified_insured with ``rules.survivor_minimum_service``), is flagged;
    the member's pension is then that of pension_rules.disability_award."""
    if st in (RETIRED, INVALID):
        death_flag[i] = 1
    elif is_active(st) and qualified_insured(a, retirement_age[a, s], service[i],
                                             rules.survivor_minimum_service):
        death_flag[i] = 1
        pension[i] = _award_on_death_or_disability(i, a, s, rules, retirement_age, service,
                                                   credits, recent, True)


@nb.njit(inline="always", cache=True)
def _birth(i, p, a, s, stays, seed, year, asfr, birth_flag):
    """Births: a woman gives birth with the fertility rate of her exposure, half the year at
    the start age and half at the end age if still here."""
    if s == FEMALE:
        birth_p = 0.5 * asfr[a] + (0.5 * asfr[min(a + 1, MAX_AGE)] if stays else 0.0)
        if birth_p > 0.0 and rng.uniform(seed, rng.BIRTH, p, year) < birth_p:
            birth_flag[i] = 1


@nb.njit(inline="always", cache=True)
def _market_income(st, earned, pension_on, covered_earnings, informal):
    """A person's earnings of the year for household incomes (engine.micro.poverty): a
    contributor's as the pension credited them (``earned``; without a contributory pension,
    ``covered_earnings``: the age-sex earnings times the person's level), an informal
    worker's ``informal`` times ``covered_earnings``, nothing for the others."""
    if is_contributing(st):
        return earned if pension_on else covered_earnings
    if st == INFORMAL:
        return informal * covered_earnings
    return 0.0


@nb.njit(inline="always", cache=True)
def _benefit_state(a, s, st, pension, service_before, contributed_before, top_up_index,
                   nc_amount, ui_service, ui_credits_count):
    """The labour and pension state the non-contributory benefits see: contributing, a
    pension above or below the top-up scheme's amount, unemployed with or without
    insurance (insurance.unemployment_qualifies on the service before this year's credit),
    other. benefits_and_coverage then pays on this state; mothers are those who gave birth
    during the step (as the maternity benefit pays)."""
    if is_contributing(st):
        return L_CONTRIBUTING
    if st in (RETIRED, INVALID):
        if top_up_index >= 0 and pension < nc_amount[top_up_index, a, s]:
            return L_PENSION_LOW
        return L_PENSION_HIGH
    if st == UNEMPLOYED:
        if unemployment_qualifies(service_before, contributed_before, ui_service,
                                  ui_credits_count):
            return L_UNEMPLOYED_INSURED
        return L_UNEMPLOYED
    return L_OTHER

