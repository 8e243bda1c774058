"""Numba kernels of the microsimulation: one pass over the persons per year.

Persons are processed in fixed-size chunks with ``prange``; each chunk writes its own row of
integer accumulators (counts, and money in int64 fixed point: units of ``scale`` currency),
and the rows are summed afterwards. Integer sums do not depend on their grouping, and every
random number is keyed by (seed, stream, person id, year), so results are bitwise identical
for any number of threads and any chunk size.

The order of events within a year mirrors the cohort engine (:mod:`spfsim.engine.cohort`):
enter year t (revalue credits, index pensions, contribution status, retirement, minimum
pension), record the year's contributors and beneficiaries, credit the year's contributions,
then the demographic step to 1 July of t+1 (death, emigration, births, ageing).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ...schemes.db_pension import care_credit_qualifies
from ...schemes.insurance import unemployment_qualifies
from ..benefits import (
    ANY_CASH,
    L_CONTRIBUTING,
    L_OTHER,
    L_PENSION_HIGH,
    L_PENSION_LOW,
    L_UNEMPLOYED,
    L_UNEMPLOYED_INSURED,
    N_COVERAGE,
    OLD_AGE,
    eligible,
    in_target,
)
from . import rng
from .align import select_exact
from .store import (
    CONTRIBUTING,
    DISABLED,
    FEMALE,
    GONE,
    INACTIVE,
    INFORMAL,
    INVALID,
    LEFT,
    MALE,
    RETIRED,
    SELF_EMPLOYED,
    UNEMPLOYED,
)

MAX_AGE = 100
MAX_SERVICE = 60
NO_SURVIVOR, SPOUSE, ORPHAN = 0, 1, 2  # a person's survivor's pension (store.survivor_kind)

# count indices: by (age, sex); flows (deaths, emigrants) by age at the end of the step
POP, CONTRIBUTORS, PENSIONERS, DEATHS, EMIGRANTS, NEW_PENSIONERS, NEW_LEAVERS = range(7)
N_INFORMAL, N_UNEMPLOYED, N_INACTIVE, N_LEFT = range(7, 11)  # this year's labour states
N_SELF_EMPLOYED, N_DISABLED = 11, 12
N_INVALID, NEW_INVALID = 13, 14  # disability pensioners, and onsets during the year
N_REFUNDS = 15  # leavers paid a refund of contributions
N_SPOUSES, N_ORPHANS = 16, 17  # survivors' pensions in payment to spouses and orphans
# persons still here at the end of the step without a survivor's pension, by end age: those
# a new one can go to (with the year's immigrants: engine.micro._award_survivors)
N_FREE = 18
N_COUNTS = 19  # non-contributory benefits follow: index N_COUNTS + j
# columns of the non-contributory rule codes (see engine.benefits.BenefitRule)
NC_GROUP, NC_GUARANTEE, NC_TOP_UP, NC_CASH = range(4)
# previous-status counts of count_states
S_POP, S_ACTIVE, S_EMPLOYEE, S_SELF_EMPLOYED = range(4)
S_INFORMAL, S_UNEMPLOYED, S_INACTIVE, S_DISABLED = range(4, 8)
# contributors exposed to disability onset; disability pensioners who may recover
S_QUALIFIED, S_INVALID = 8, 9
N_STATE_COUNTS = 10
NON_CONTRIBUTING_STATES = (INFORMAL, UNEMPLOYED, INACTIVE, DISABLED)  # order of cumulative


def _index_by_status(mapping: dict[int, int]) -> np.ndarray:
    """A lookup array: status code -> counter index (-1: not counted)."""
    table = np.full(16, -1, dtype=np.int64)
    for status, index in mapping.items():
        table[status] = index
    return table


# last year's state (count_states) and this year's labour state (year_step) by status code
PREVIOUS_STATE = _index_by_status({
    CONTRIBUTING: S_EMPLOYEE, SELF_EMPLOYED: S_SELF_EMPLOYED, INFORMAL: S_INFORMAL,
    UNEMPLOYED: S_UNEMPLOYED, INACTIVE: S_INACTIVE, DISABLED: S_DISABLED})
CURRENT_STATE = _index_by_status({
    SELF_EMPLOYED: N_SELF_EMPLOYED, DISABLED: N_DISABLED, INFORMAL: N_INFORMAL,
    UNEMPLOYED: N_UNEMPLOYED, INACTIVE: N_INACTIVE, LEFT: N_LEFT})
# money indices: by sex, fixed point
INSURED, BENEFITS, NEW_AMOUNT, INVALID_BENEFITS, REFUNDS = range(5)
N_MONEY = 5
# money by (age, sex), fixed point: insured earnings, own pensions, refunds
AGE_INSURED, AGE_PENSIONS, AGE_REFUNDS, AGE_SURVIVORS = 0, 1, 2, 3
N_AGE_MONEY = 4
# lifetime histograms at death: bin 0 holds zero; bins 1.. are log-spaced multiples of the
# base-year average earnings, from 10**LOG_LOW to 10**LOG_HIGH
LIFETIME_BINS, LOG_LOW, LOG_HIGH, COHORT_GROUP = 64, -3.0, 3.3, 5


@nb.njit(inline="always", cache=True)
def lifetime_bin(value: float) -> np.int64:
    """Histogram bin of a lifetime amount (in base-year average earnings)."""
    if value <= 0.0:
        return np.int64(0)
    x = (math.log10(value) - LOG_LOW) / (LOG_HIGH - LOG_LOW) * (LIFETIME_BINS - 1)
    return np.int64(min(max(math.floor(x), 0.0), LIFETIME_BINS - 2)) + 1


def lifetime_bin_edges() -> np.ndarray:
    """Lower edges of the lifetime bins (bin 0: exactly zero)."""
    steps = np.arange(LIFETIME_BINS - 1) / (LIFETIME_BINS - 1)
    return np.concatenate([[0.0], 10.0 ** (LOG_LOW + steps * (LOG_HIGH - LOG_LOW))])


# each person's money's worth ratio and net transfer in the pension scheme, recorded when
# the slot is dropped (death or emigration) or at the horizon (:func:`record_lifetimes`):
# histograms uniform in asinh(value / unit), logarithmic for |value| >> unit (bins 2.8 %
# wide) and linear through zero, so that one binning holds ratios from 0 and transfers of
# either sign
EXIT_RATIO, EXIT_NET = 0, 1
EXIT_BINS, EXIT_SPAN = 1024, 14.5  # asinh(1e6) = 14.5: |value| up to 1e6 units
RATIO_UNIT = 1e-3  # money's worth ratio
NET_UNIT = 1e-3  # net transfer, in base-year average earnings (present value)
# present values by (cohort group, sex), currency at 1 January of the base year
PV_CONTRIBUTIONS, PV_BENEFITS, PV_AFTER = 0, 1, 2


@nb.njit(inline="always", cache=True)
def asinh_bin(x: float) -> np.int64:
    """Bin of ``x`` (in units) among EXIT_BINS uniform in asinh(x) over +-EXIT_SPAN."""
    t = (math.asinh(x) + EXIT_SPAN) / (2.0 * EXIT_SPAN) * EXIT_BINS
    return np.int64(min(max(math.floor(t), 0.0), EXIT_BINS - 1))


def asinh_bin_edges() -> np.ndarray:
    """The EXIT_BINS + 1 bin edges in asinh(value / unit)."""
    return np.linspace(-EXIT_SPAN, EXIT_SPAN, EXIT_BINS + 1)


@nb.njit(cache=True)
def record_lifetimes(status, age, sex, birth_year, pension, lifetime_contributions,
                     lifetime_benefits, size, first_birth_year, unit, continuation,
                     everyone, exits, totals):
    """Add persons' lifetime present values to ``exits`` (cohort group, sex, 2, EXIT_BINS)
    and ``totals`` (cohort group, sex, 3): those gone (before their slots are dropped) or,
    with ``everyone``, all (at the horizon).

    A pensioner still alive at the horizon receives, on top of the pensions paid, their
    continuation: the pension times ``continuation`` (age, sex), the present value at 1
    January of the base year of 1 a year paid from the next year for life (see
    spfsim.equity.cohorts.continuation_factors). Persons with neither contributions nor
    benefits are not members and are left out; the money's worth ratio (benefits over
    contributions) counts those with contributions. ``unit``: currency per base-year
    average earnings, the net transfer's unit.
    """
    n_groups = exits.shape[0]
    for i in range(size):
        st = status[i]
        if st != GONE and not everyone:
            continue
        paid = np.float64(lifetime_contributions[i])
        received = np.float64(lifetime_benefits[i])
        after = 0.0
        if st in (RETIRED, INVALID):
            after = pension[i] * continuation[age[i], sex[i]]
        if paid <= 0.0 and received + after <= 0.0:
            continue
        s = np.int64(sex[i])
        group = min(max(np.int64(birth_year[i]) - first_birth_year, 0) // COHORT_GROUP,
                    n_groups - 1)
        totals[group, s, PV_CONTRIBUTIONS] += paid
        totals[group, s, PV_BENEFITS] += received
        totals[group, s, PV_AFTER] += after
        exits[group, s, EXIT_NET, asinh_bin((received + after - paid) / unit / NET_UNIT)] += 1
        if paid > 0.0:
            exits[group, s, EXIT_RATIO, asinh_bin((received + after) / paid / RATIO_UNIT)] += 1


def fixed_point_scale(average_earnings: float) -> float:
    """Currency per fixed-point unit: 2**-24 of the year's average earnings.

    A person's amount is then at most a few times 2**24 units and ten million persons'
    total stays far below the int64 limit, with a resolution of 6e-8 of average earnings.
    """
    return average_earnings / 16_777_216.0


@nb.njit(inline="always", cache=True)
def _fixed(amount: float, scale: float) -> np.int64:
    return np.int64(math.floor(amount / scale + 0.5))


@nb.njit(inline="always", cache=True)
def is_active(st) -> bool:
    """Not retired, not left, not gone: one of the labour states."""
    return st in (CONTRIBUTING, SELF_EMPLOYED, INFORMAL, UNEMPLOYED, INACTIVE, DISABLED)


@nb.njit(inline="always", cache=True)
def is_contributing(st) -> bool:
    return st in (CONTRIBUTING, SELF_EMPLOYED)


@nb.njit(parallel=True, cache=True)
def count_states(status, age, sex, service, size, chunk, retirement_age,
                 disability_minimum_service, out):
    """Per (age, sex), by last year's status: population, active (not retired), employee
    and self-employed contributors, informal, unemployed, inactive, disabled; contributors
    below the pensionable age with the disability qualifying period; disability
    pensioners below the pensionable age. ``out`` is (chunks, 101, 2, N_STATE_COUNTS)."""
    n_chunks = (size + chunk - 1) // chunk
    out[:n_chunks] = 0
    for c in nb.prange(n_chunks):
        for i in range(c * chunk, min(size, (c + 1) * chunk)):
            st = status[i]
            if st == GONE:
                continue
            a, s = age[i], sex[i]
            out[c, a, s, S_POP] += 1
            below = a < retirement_age[a, s]
            if is_active(st):
                out[c, a, s, S_ACTIVE] += 1
                out[c, a, s, PREVIOUS_STATE[st]] += 1
                if (is_contributing(st) and below
                        and service[i] >= disability_minimum_service):
                    out[c, a, s, S_QUALIFIED] += 1
            elif st == INVALID and below:
                out[c, a, s, S_INVALID] += 1
    return out[:n_chunks].sum(axis=0)


@nb.njit(inline="always", cache=True)
def labour_state(seed, p, year, previous, stay, join, keep, cumulative, keep_contributor,
                 p_self_employed, a, s, forced):
    """This year's labour state of an active person (see engine._labour_year).

    ``forced`` is -1 (draw whether to contribute) or the outcome chosen by exact alignment.
    """
    contributed = is_contributing(previous)
    stays = rng.uniform(seed, rng.LABOUR_STAY, p, year)
    v = rng.uniform(seed, rng.LABOUR_STATE, p, year)
    if forced >= 0:
        contributes = forced == 1
    else:
        contributes = rng.uniform(seed, rng.CONTRIBUTION, p, year) < (
            stay[a, s] if contributed else join[a, s])
    if contributes:
        if contributed and stays < keep_contributor[a, s]:
            return previous
        return SELF_EMPLOYED if v < p_self_employed[a, s] else CONTRIBUTING
    if not contributed and stays < keep[a, s]:
        return previous
    for k in range(3):
        if v < cumulative[a, s, k]:
            return NON_CONTRIBUTING_STATES[k]
    return NON_CONTRIBUTING_STATES[3]


@nb.njit(parallel=True, cache=True)
def year_step(
    # state
    pid, status, age, sex, birth_year, service, care_years, credits, paid, recent, pension,
    earnings_factor, lifetime_contributions, lifetime_benefits, survivor_kind,
    survivor_pension, birth_flag, size,
    # year and random numbers
    seed, year, chunk,
    # demography: death probabilities by start age (of disability pensioners, and of
    # everybody else), emigration probabilities by start age, ASFR by age
    q_death, q_invalid, p_emigrate, asfr,
    # pension (has_pension False: the fields are ignored)
    stay, join, keep, cumulative, keep_contributor, p_self_employed,
    # exact alignment: per-person outcomes chosen beforehand (-1: draw), or empty arrays
    forced_contribution, forced_death,
    has_pension, retirement_age, minimum_service, accrual_rate,
    minimum_pension, revaluation, indexation, earnings, transitory_sd, earnings_floor,
    earnings_ceiling, maximum_pension, contribution_rate, deflator, scale,
    # disability branch: onset by (age, sex) among last year's contributors
    incidence, disability_minimum_service, recovery_rate,
    # care credits: probability by age that a non-contributing woman is credited a year,
    # the earnings credited, and whether only the insured (who have contributed) may be
    care_probability, care_credit, care_insured_only,
    # share of their contributions paid back to those who reach the pensionable age without
    # a pension
    refund_share,
    # accrual bands: rate beyond band_years credited years (band_years 0: one rate);
    # reference earnings over the last reference_years credited years (0: career average)
    rate_above, band_years, reference_years,
    # (age, sex) probability that an eligible active member retires, and the adjustment
    retire_probability, retire_factor,
    # survivors' branch: flag deaths of pensioners and qualified insured persons (their
    # pension, or the disability pension they would have had, is left in ``pension``);
    # pay the survivors' pensions in payment (indexed, ended above the orphans' age limit
    # and at the spouses' end rate)
    survivors_on, survivor_minimum_service, death_flag, orphan_age_limit, survivor_end_rate,
    # non-contributory benefits: codes (J, 4), receipt probability and amount (J, age,
    # sex), top-up scheme index (-1: none); severe disability prevalence (age, sex)
    nc_codes, nc_probability, nc_amount, top_up_index, disability_prevalence,
    # unemployment insurance's qualifying period: years, and whether care credits count
    ui_service, ui_credits_count,
    # first birth year of the lifetime histograms' cohort groups; the lifetime amounts are
    # present values at 1 January of the base year: each year's amounts are divided by
    # ``deflator``, the interest accumulation from then to the middle of the year
    first_birth_year,
    # lifetime amounts are recorded at death in units of base-year average earnings
    lifetime_unit,
    # accumulators (chunks, ...) int64
    counts, money, service_awarded, service_left, age_money, lifetimes,
    nc_money, coverage,
):
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
                pension[i] = max(pension[i] * (1.0 + indexation), minimum_pension)
                _revalue(credits, paid, recent, i, 1.0 + revaluation)
                revalued = indexed = True
                if a >= retirement_age[a, s]:
                    st = RETIRED
                    credits[i] = paid[i] = 0.0
                elif rng.uniform(seed, rng.RECOVERY, p, year) < recovery_rate:
                    st = INACTIVE
                    pension[i] = 0.0
            elif (has_pension and is_contributing(st) and a < retirement_age[a, s]
                    and service[i] >= disability_minimum_service
                    and rng.uniform(seed, rng.DISABILITY_ONSET, p, year) < incidence[a, s]):
                _revalue(credits, paid, recent, i, 1.0 + revaluation)
                revalued = True
                pension[i] = min(max(accrued(
                    accrual_rate, rate_above, band_years,
                    _reference(credits, recent, i, service[i], reference_years), service[i],
                    service[i] + retirement_age[a, s] - a), minimum_pension), maximum_pension)
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
                        pension[i] = max(pension[i] * (1.0 + indexation), minimum_pension)
                elif is_active(st):
                    if not revalued:
                        _revalue(credits, paid, recent, i, 1.0 + revaluation)
                    chance = retire_probability[a, s]
                    years = min(np.int64(service[i]), MAX_SERVICE)
                    if service[i] >= minimum_service and chance > 0.0 and (
                            chance >= 1.0
                            or rng.uniform(seed, rng.RETIREMENT, p, year) < chance):
                        award = min(max(accrued(
                            accrual_rate, rate_above, band_years,
                            _reference(credits, recent, i, service[i], reference_years),
                            service[i], service[i]) * retire_factor[a, s], minimum_pension),
                            maximum_pension)
                        pension[i] = award
                        st = RETIRED
                        counts[c, a, s, NEW_PENSIONERS] += 1
                        money[c, s, NEW_AMOUNT] += _fixed(award, scale)
                        service_awarded[c, s, years] += 1
                        credits[i] = paid[i] = 0.0
                    elif a >= retirement_age[a, s] and service[i] < minimum_service:
                        st = LEFT
                        counts[c, a, s, NEW_LEAVERS] += 1
                        service_left[c, s, years] += 1
                        if refund_share > 0.0 and paid[i] > 0.0:
                            # a share of the contributions paid (care credits were not)
                            back = refund_share * paid[i]
                            counts[c, a, s, N_REFUNDS] += 1
                            refund = _fixed(back, scale)
                            money[c, s, REFUNDS] += refund
                            age_money[c, a, s, AGE_REFUNDS] += refund
                            lifetime_benefits[i] += np.float32(back / deflator)
                        credits[i] = paid[i] = 0.0
                # the year's contributions and benefits
                if is_contributing(st):
                    earned = earnings[a, s] * earnings_factor[i]
                    if transitory_sd > 0.0:
                        z = rng.normal(seed, rng.EARNINGS_TRANSITORY, rng.EARNINGS_TRANSITORY_2,
                                       p, year)
                        earned *= math.exp(transitory_sd * z - 0.5 * transitory_sd ** 2)
                    earned = min(max(earned, earnings_floor), earnings_ceiling)
                    counts[c, a, s, CONTRIBUTORS] += 1
                    insured = _fixed(earned, scale)
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
                    money[c, s, BENEFITS] += _fixed(pension[i], scale)
                    if st == INVALID:
                        counts[c, a, s, N_INVALID] += 1
                        money[c, s, INVALID_BENEFITS] += _fixed(pension[i], scale)
                    age_money[c, a, s, AGE_PENSIONS] += _fixed(pension[i], scale)
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
                    elif (is_active(st) and a < retirement_age[a, s]
                            and service[i] >= survivor_minimum_service):
                        death_flag[i] = 1
                        pension[i] = min(max(accrued(
                            accrual_rate, rate_above, band_years,
                            _reference(credits, recent, i, service[i], reference_years),
                            service[i], service[i] + retirement_age[a, s] - a),
                            minimum_pension), maximum_pension)
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
    """Credited earnings for the pension formula (schemes.db_pension.reference_credits):
    the career's credits, or the average of the last min(years, service) credited years
    times the service."""
    if years <= 0:
        return credits[i]
    counted = min(np.int64(service), years)
    if counted <= 0:
        return 0.0
    total = 0.0
    for k in range(min(years, recent.shape[1])):
        total += recent[i, k]
    return total / counted * service


@nb.njit(inline="always", cache=True)
def accrued(accrual_rate, rate_above, band_years, credits, service, credited_years):
    """A person's pension before the minimum and maximum: career-average earnings
    (credits / service) x the accrual for ``credited_years`` (service, plus future service
    for a disability pension), with accrual bands (schemes.db_pension.accrual_factor)."""
    if service <= 0:
        return 0.0
    if band_years <= 0:
        factor = accrual_rate * credited_years
    else:
        factor = (accrual_rate * min(credited_years, band_years)
                  + rate_above * max(credited_years - band_years, 0))
    return credits / service * factor


@nb.njit(inline="always", cache=True)
def benefits_and_coverage(c, i, p, a, s, state, mother, seed, own_pension, scale, nc_codes,
                          nc_probability, nc_amount, disability_prevalence, counts, nc_money,
                          coverage):
    """Count one person's non-contributory benefits and coverage (engine.benefits rules).

    Severe disability and take-up are persistent draws (the same persons every year).
    """
    disabled = (disability_prevalence[a, s] > 0.0
                and rng.uniform(seed, rng.SEVERE_DISABILITY, p, 0) < disability_prevalence[a, s])
    covered = 0  # bit g: covered for coverage group g
    if state in (L_PENSION_LOW, L_PENSION_HIGH):
        covered |= (1 << OLD_AGE) | (1 << ANY_CASH)
    elif state == L_CONTRIBUTING:
        covered |= 1 << ANY_CASH
    for j in range(nc_codes.shape[0]):
        if nc_probability[j, a, s] <= 0.0:  # outside the age band: no draw needed
            continue
        top_up = nc_codes[j, NC_TOP_UP] == 1
        if not eligible(nc_codes[j, NC_GROUP], top_up, state, disabled, mother):
            continue
        if rng.uniform(seed, rng.TAKE_UP, p, j) >= nc_probability[j, a, s]:
            continue
        amount = nc_amount[j, a, s]
        if top_up and state == L_PENSION_LOW:
            amount -= own_pension
        counts[c, a, s, N_COUNTS + j] += 1
        nc_money[c, j, a, s] += _fixed(amount, scale)
        if nc_codes[j, NC_GUARANTEE] >= 0:
            covered |= 1 << nc_codes[j, NC_GUARANTEE]
        if nc_codes[j, NC_CASH] == 1:
            covered |= 1 << ANY_CASH
    for g in range(N_COVERAGE):
        if in_target(g, a, state, disabled, mother):
            coverage[c, a, s, g, 0] += 1
            if (covered >> g) & 1:
                coverage[c, a, s, g, 1] += 1


@nb.njit(inline="always", cache=True)
def survivor_in_payment(c, i, p, a, s, seed, year, indexation, orphan_age_limit, end_rate,
                        scale, survivor_kind, survivor_pension, counts, age_money):
    """One year of person i's survivor's pension, in the cohort engine's order: index it,
    end an orphan's above the age limit and a spouse's at the end rate (remarriage), then
    count and pay it at this year's age (the person's own death follows in the step)."""
    survivor_pension[i] *= 1.0 + indexation
    kind = survivor_kind[i]
    if (kind == ORPHAN and a > orphan_age_limit) or (
            kind == SPOUSE and end_rate > 0.0
            and rng.uniform(seed, rng.SURVIVOR_END, p, year) < end_rate):
        survivor_kind[i] = NO_SURVIVOR
        survivor_pension[i] = 0.0
        return
    counts[c, a, s, N_SPOUSES if kind == SPOUSE else N_ORPHANS] += 1
    age_money[c, a, s, AGE_SURVIVORS] += _fixed(survivor_pension[i], scale)


@nb.njit(cache=True)
def survivor_claims(pid, age, sex, pension, death_flag, size, seed, year, spouse_share,
                    orphan_share, orphan_age_limit, married, partner_cumulative,
                    spouse_available, orphan_available, asfr, p_male, maximum_share,
                    claim_cell, claim_kind, claim_amount):
    """The survivors' pensions of the flagged deaths, in index order, each as a claim on a
    cell of next year's (age, sex) persons (age x 2 + sex), with its kind and amount.

    A deceased of sex s aged a has a partner aged y drawn from ``partner_cumulative``
    (sex, a, y: cumulative schemes.db_pension.partner_age_weights), who survives them
    with probability ``married`` [s] x ``spouse_available`` [y, other sex], and children
    aged k < the orphan age limit with the mother's fertility when each was born (the
    mother: the deceased, or the partner), each with probability ``orphan_available`` [k,
    child's sex, s] of being a child who exists (schemes.db_pension.availability, the
    cohort engine's rule). When one death's shares add up to more than ``maximum_share``
    (> 0), each is scaled down in proportion. :func:`award_survivors` then gives the claims
    to persons. Clears the flags; returns the number of claims written.
    """
    limit = orphan_age_limit
    orphan_age = np.empty(max(limit, 1), dtype=np.int64)
    orphan_sex = np.empty(max(limit, 1), dtype=np.int64)
    n_claims = 0
    for i in range(size):
        if death_flag[i] == 0:
            continue
        death_flag[i] = 0
        a, s, p = np.int64(age[i]), np.int64(sex[i]), pid[i]
        u = rng.uniform(seed, rng.SURVIVOR_PARTNER_AGE, p, year)
        partner_age = MAX_AGE
        for y in range(MAX_AGE + 1):
            if u < partner_cumulative[s, a, y]:
                partner_age = y
                break
        spouse = (spouse_share > 0.0 and rng.uniform(seed, rng.SURVIVOR_SPOUSE, p, year)
                  < married[s] * spouse_available[partner_age, 1 - s])
        mother = a if s == FEMALE else partner_age
        n_orphans = 0
        if orphan_share > 0.0:
            for k in range(limit):
                if not _orphan(seed, year, p, k, mother, asfr):
                    continue
                c = MALE if rng.uniform(seed, rng.ORPHAN_SEX, p * 32 + k, year) < p_male \
                    else FEMALE
                if rng.uniform(seed, rng.SURVIVOR_ORPHAN_AVAILABLE, p * 32 + k, year) \
                        >= orphan_available[k, c, s]:
                    continue
                orphan_age[n_orphans], orphan_sex[n_orphans] = k + 1, c
                n_orphans += 1
        total = spouse_share * spouse + orphan_share * n_orphans
        scale = 1.0 if maximum_share <= 0.0 or total <= maximum_share \
            else maximum_share / total
        if spouse:
            claim_cell[n_claims] = min(partner_age + 1, MAX_AGE) * 2 + (1 - s)
            claim_kind[n_claims] = SPOUSE
            claim_amount[n_claims] = scale * spouse_share * pension[i]
            n_claims += 1
        for n in range(n_orphans):
            claim_cell[n_claims] = orphan_age[n] * 2 + orphan_sex[n]
            claim_kind[n_claims] = ORPHAN
            claim_amount[n_claims] = scale * orphan_share * pension[i]
            n_claims += 1
    return n_claims


@nb.njit(cache=True)
def award_survivors(pid, status, age, sex, survivor_kind, survivor_pension, size, seed, year,
                    free, claim_cell, claim_kind, claim_amount, n_claims):
    """Give each claim (:func:`survivor_claims`) to a person of its cell who is here and has
    no survivor's pension, ``free`` (age, sex) of them: in each cell min(claims, free)
    distinct ranks among its free persons, in the persons' order, are drawn alike likely
    (Floyd's algorithm, keyed by cell and draw), and one pass over the persons gives the
    cell's claims, in the order of the deaths, to the persons of those ranks. Claims beyond
    a cell's free persons (which the availability makes rare) are not paid. Returns the
    number of claims paid."""
    n_cells = (MAX_AGE + 1) * 2
    remaining = free.ravel()  # (age x 2 + sex)
    pending = np.zeros(n_cells, dtype=np.int64)
    for n in range(n_claims):
        pending[claim_cell[n]] += 1
    # each cell's claims in the order of the deaths (a counting sort), and its chosen ranks
    start = np.zeros(n_cells + 1, dtype=np.int64)
    for cell in range(n_cells):
        start[cell + 1] = start[cell] + pending[cell]
    order = np.empty(max(n_claims, 1), dtype=np.int64)
    filled = start[:-1].copy()
    for n in range(n_claims):
        order[filled[claim_cell[n]]] = n
        filled[claim_cell[n]] += 1
    ranks = np.empty(max(n_claims, 1), dtype=np.int64)
    chosen = np.minimum(pending, remaining)
    used = np.zeros(max(remaining.max(), 1), dtype=np.bool_)  # ranks drawn, one cell at a time
    for cell in range(n_cells):
        _distinct_ranks(seed, year, cell, chosen[cell], remaining[cell],
                        ranks[start[cell]:start[cell] + chosen[cell]], used)
    seen = np.zeros(n_cells, dtype=np.int64)
    taken = np.zeros(n_cells, dtype=np.int64)
    for i in range(size):
        if status[i] == GONE or survivor_kind[i] != NO_SURVIVOR:
            continue
        cell = np.int64(age[i]) * 2 + np.int64(sex[i])
        if taken[cell] < chosen[cell] and ranks[start[cell] + taken[cell]] == seen[cell]:
            n = order[start[cell] + taken[cell]]
            survivor_kind[i], survivor_pension[i] = claim_kind[n], claim_amount[n]
            taken[cell] += 1
        seen[cell] += 1
    return np.int64(taken.sum())


@nb.njit(cache=True)
def _distinct_ranks(seed, year, cell, m, n, out, used):
    """m distinct ranks in 0..n-1, every set alike likely (Floyd's algorithm), written to
    ``out`` in increasing order; the draws are keyed by (cell, j, year). ``used``: at
    least n False flags, left False."""
    for count, j in enumerate(range(n - m, n)):
        t = min(np.int64(rng.uniform(seed, rng.SURVIVOR_PICK, cell * 4294967296 + j, year)
                         * (j + 1)), j)
        if used[t]:
            t = j
        used[t] = True
        out[count] = t
    for k in range(m):
        used[out[k]] = False
    out[:m].sort()


@nb.njit(inline="always", cache=True)
def _orphan(seed, year, p, k, mother, asfr):
    """1 if person ``p``, dying this year, leaves a child aged k (born when the mother was
    mother - 1 - k, at that age's fertility rate), else 0."""
    at_birth = mother - 1 - k
    if at_birth < 0 or at_birth >= len(asfr) or asfr[at_birth] <= 0.0:
        return 0
    return 1 if rng.uniform(seed, rng.SURVIVOR_ORPHAN, p * 32 + k, year) < asfr[at_birth] \
        else 0


@nb.njit(cache=True)
def add_newborns(pid, status, age, sex, birth_year, earnings_factor, birth_flag, size, next_id,
                 seed, year, p_male, survival_birth, p_emigrate_newborn, permanent_sd):
    """Create the babies of flagged mothers, in index order (deterministic ids).

    Returns (new size, next id, births by sex, deaths by sex, emigrants by sex).
    """
    births = np.zeros(2, dtype=np.int64)
    deaths = np.zeros(2, dtype=np.int64)
    emigrants = np.zeros(2, dtype=np.int64)
    end = size
    for i in range(size):
        if birth_flag[i] == 0:
            continue
        birth_flag[i] = 0
        new_id = next_id
        next_id += 1
        s = MALE if rng.uniform(seed, rng.NEWBORN_SEX, new_id, year) < p_male else FEMALE
        births[s] += 1
        if rng.uniform(seed, rng.NEWBORN_SURVIVAL, new_id, year) >= survival_birth[s]:
            deaths[s] += 1
            continue
        if rng.uniform(seed, rng.NEWBORN_EMIGRATION, new_id, year) < p_emigrate_newborn[s]:
            emigrants[s] += 1
            continue
        _new_person(pid, status, age, sex, birth_year, earnings_factor, end, new_id, s, 0,
                    year + 1, seed, permanent_sd)
        end += 1
    return end, next_id, births, deaths, emigrants


@nb.njit(inline="always", cache=True)
def _new_person(pid, status, age, sex, birth_year, earnings_factor, slot, new_id, s, a,
                born, seed, permanent_sd):
    pid[slot] = new_id
    status[slot] = INACTIVE
    age[slot] = a
    sex[slot] = s
    birth_year[slot] = born
    earnings_factor[slot] = permanent_factor(seed, new_id, permanent_sd)


@nb.njit(cache=True)
def permanent_factors(seed, persons, sd):
    """:func:`permanent_factor` for an array of person ids (float32)."""
    out = np.empty(len(persons), dtype=np.float32)
    for i in range(len(persons)):
        out[i] = permanent_factor(seed, persons[i], sd)
    return out


@nb.njit(inline="always", cache=True)
def permanent_factor(seed, person, sd):
    """Persistent earnings level exp(sd z - sd^2 / 2): lognormal with mean 1."""
    if sd <= 0.0:
        return np.float32(1.0)
    z = rng.normal(seed, rng.EARNINGS_PERMANENT, rng.EARNINGS_PERMANENT_2, person, 0)
    return np.float32(math.exp(sd * z - 0.5 * sd * sd))


@nb.njit(cache=True)
def add_immigrants(pid, status, age, sex, birth_year, earnings_factor, birth_flag, size,
                   next_id, seed, year, expected, asfr, permanent_sd):
    """Add immigrants at 1 July of year+1: ``expected`` (101, 2) persons per cell, rounded
    stochastically; immigrant women may have had a baby during the year (half exposure).

    Returns (new size, next id, immigrants by (age, sex)).
    """
    added = np.zeros(expected.shape, dtype=np.int64)
    end = size
    for a in range(expected.shape[0]):
        for s in range(2):
            x = expected[a, s]
            if x <= 0.0:
                continue
            n = np.int64(math.floor(x))
            if rng.uniform(seed, rng.IMMIGRATION, a * 2 + s, year) < x - n:
                n += 1
            for _ in range(n):
                new_id = next_id
                next_id += 1
                _new_person(pid, status, age, sex, birth_year, earnings_factor, end, new_id,
                            s, a, year + 1 - a, seed, permanent_sd)
                if (s == FEMALE and asfr[a] > 0.0
                        and rng.uniform(seed, rng.BIRTH, new_id, year) < 0.5 * asfr[a]):
                    birth_flag[end] = 1
                end += 1
            added[a, s] = n
    return end, next_id, added


@nb.njit(cache=True)
def exact_alignment(status, age, sex, pid, size, seed, year, q_death, q_invalid, stay, join,
                    forced_contribution, forced_death):
    """Choose this year's deaths and contributors exactly per age x sex cell.

    In each cell the number of events is the expected number (sum of the persons'
    probabilities) rounded stochastically, and the persons are chosen by weighted sampling
    without replacement (`align.select_exact`), so continuing contributors stay far more
    likely to contribute than others. Writes 0/1 into the forced arrays (-1: not active).
    Deaths are chosen before this year's disability onsets, recoveries and conversions,
    so a disability pensioner's rate (``q_invalid``) follows last year's status here.
    """
    n_cells = 101 * 2
    for kind in range(2):  # 0: deaths of everyone alive, 1: contribution of the active
        p = np.zeros(size)
        u = np.zeros(size)
        cell = np.zeros(size, dtype=np.int64)
        expected = np.zeros(n_cells)
        for i in range(size):
            st = status[i]
            cell[i] = np.int64(age[i]) * 2 + np.int64(sex[i])
            if st == GONE or (kind == 1 and not is_active(st)):
                cell[i] = n_cells  # outside every cell
                continue
            a, s = np.int64(age[i]), np.int64(sex[i])
            if kind == 0:
                p[i] = q_invalid[a, s] if st == INVALID else q_death[a, s]
                u[i] = rng.uniform(seed, rng.DEATH, pid[i], year)
            else:
                p[i] = stay[a, s] if is_contributing(st) else join[a, s]
                u[i] = rng.uniform(seed, rng.CONTRIBUTION, pid[i], year)
            expected[cell[i]] += p[i]
        target = np.zeros(n_cells + 1)
        for c in range(n_cells):
            whole = math.floor(expected[c])
            extra = rng.uniform(seed, rng.ALIGNMENT, kind * n_cells + c, year)
            target[c] = whole + (1.0 if extra < expected[c] - whole else 0.0)
        chosen = select_exact(p, u, cell, target)
        out = forced_death if kind == 0 else forced_contribution
        for i in range(size):
            out[i] = -1 if cell[i] == n_cells else (1 if chosen[i] else 0)
