"""Compiled loops of the cohort engine's survivors' branch: the year's deaths of pensioners
and qualified insured persons, and their survivors' pensions awarded to next year's cells.

The fast path of :class:`~spfsim.engine.cohort_survivors.SurvivorTransitions`, whose NumPy
methods remain the reference and the path with Numba's JIT off (as for
:mod:`.cohort_kernels`; ``tests/test_cohort_kernels.py`` checks that both agree). The rules
are those of :mod:`spfsim.schemes.pension_rules` and :mod:`spfsim.schemes.survivors`, the
micro engine's too.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..schemes import pension_rules as rules
from ..schemes import survivors
from .cohort_kernels import reference


@nb.njit(cache=True)
def survivors_year(spouses, spouse_pension, orphans, orphan_pension, growth, age_limit,
                   partnering, end_rate):
    """SurvivorTransitions._survivors_year in place: the survivors' pensions in payment
    (age, sex) indexed by ``growth`` with no minimum (pension_rules.in_payment), the
    orphans' ended above ``age_limit``, then the share ``partnering`` (age, sex; empty:
    none) and ``end_rate`` of the spouses' ended."""
    for a in range(spouses.shape[0]):
        for s in range(spouses.shape[1]):
            spouse_pension[a, s] = rules.in_payment(spouse_pension[a, s], growth, 0.0)
            orphan_pension[a, s] = rules.in_payment(orphan_pension[a, s], growth, 0.0)
            if rules.orphan_pension_ends(a, age_limit):
                orphans[a, s] = 0.0
                orphan_pension[a, s] = 0.0
            if partnering.shape[0] > 0:
                spouses[a, s] *= 1.0 - partnering[a, s]
                spouse_pension[a, s] *= 1.0 - partnering[a, s]
            spouses[a, s] *= 1.0 - end_rate
            spouse_pension[a, s] *= 1.0 - end_rate


@nb.njit(cache=True)
def survivor_deaths(active, credits, recent, pensioners, pension, invalid, invalid_pension,
                    population, q_others, q_invalid, retirement_age, minimum_service,
                    formula, minimum_pension, maximum_pension, spread, reference_years,
                    best_sd, caps, top, top_invalid, top_pension):
    """SurvivorTransitions._survivor_deaths: this year's deaths of pensioners and of
    qualified insured persons, and the pensions their survivors' shares apply to (an
    insured person's: the disability pension they would have had), (age, sex) persons and
    currency. The active members, disability and old-age pensioners are read up to their
    rows' highest occupied classes ``top``, ``top_invalid`` and ``top_pension``
    (PensionState.top_class)."""
    n_age, n_sex, _, _, n_k = active.shape
    n_r = recent.shape[-1]
    deaths, money = np.zeros((n_age, n_sex)), np.zeros((n_age, n_sex))
    recent_class = np.empty(n_r)
    for a in range(n_age):
        for s in range(n_sex):
            q = q_others[a, s] * population[a, s]
            q_inv = q_invalid[a, s] * population[a, s]
            future = rules.award_future_years(a, retirement_age[a, s], True, formula)
            years = rules.award_reference_years(reference_years, future, formula)
            # the row's sums in the order of the classes, held in registers
            died = spent = 0.0
            for c in range(max(top[a, s], top_invalid[a, s], top_pension[a, s]) + 1):
                members = disabled = 0.0
                if c <= top_invalid[a, s]:
                    for k in range(n_k):
                        disabled += invalid[a, s, c, k]
                if c > top[a, s]:  # no insured members: the pensioners' deaths only
                    died += q * pensioners[a, s, c] + q_inv * disabled
                    spent += q * pension[a, s, c] + q_inv * invalid_pension[a, s, c]
                    continue
                for k in range(n_k):
                    members += active[a, s, 0, c, k] + active[a, s, 1, c, k]
                qualified = rules.qualified_insured(a, retirement_age[a, s], c,
                                                    minimum_service)
                insured = members if qualified else 0.0
                would_have = 0.0
                if qualified:
                    for r in range(n_r):
                        recent_class[r] = recent[a, s, 0, c, r] + recent[a, s, 1, c, r]
                    credited = reference(credits[a, s, 0, c] + credits[a, s, 1, c],
                                         recent_class, c, years, best_sd, members, spread,
                                         formula)
                    would_have = rules.disability_award(
                        credited / members if members > 0 else 0.0, c, future,
                        minimum_pension, maximum_pension, formula, spread, caps[s, a])
                died += q * (pensioners[a, s, c] + insured) + q_inv * disabled
                spent += (q * (pension[a, s, c] + insured * would_have)
                          + q_inv * invalid_pension[a, s, c])
            deaths[a, s], money[a, s] = died, spent
    return deaths, money


@nb.njit(cache=True)
def add_survivors(spouses, spouse_pension, orphans, orphan_pension, deaths, money,
                  population, next_population, married, weights, first, last, asfr,
                  child_scale, linked, p_male, spouse_share, orphan_share, maximum_share,
                  age_limit):
    """SurvivorTransitions._add_survivors: the survivors' pensions of this year's
    ``deaths`` and their pensions ``money`` (age, sex of the deceased, at the start of the
    step) awarded, one year older, to next year's cells (shares of ``next_population``).

    Spouses aged y of a deceased aged x by the partner-age ``weights`` (sex, x, y), orphans
    by the mother's past fertility ``asfr`` times each child age's ``child_scale`` (a
    father's: his partner's), or, when ``linked`` (2, sex, x, k) is not empty, those of a
    deceased who leaves a partner and of one who does not (schemes.survivors.
    children_by_claim), the ceiling then taken over the two (capped_shares_by_claim); each
    claim scaled by the share of such persons who exist and do not yet receive a survivor's
    pension (schemes.survivors.availability), and the shares of one death's survivors
    capped together (capped_survivor_shares)."""
    n = population.shape[0]
    limit = age_limit if orphan_share > 0 else 0
    # each deceased's partners' ages lie in a band (the weights are zero outside it,
    # ``first`` to ``last`` - 1: partner_bands): the sums over partners run over it alone,
    # adding exactly what the whole row adds
    free = np.empty((n, 2))
    for y in range(n):
        for s in range(2):
            free[y, s] = next_population[y, s] * max(1.0 - spouses[y, s] - orphans[y, s], 0.0)
    # partners claimed, by their age and sex: married persons of the other sex
    demand = np.zeros((n, 2))
    for s in range(2):
        for x in range(n):
            weight = married[s] * population[x, s]
            if weight != 0.0:
                for y in range(first[s, x], last[s, x]):
                    demand[y, 1 - s] += weight * weights[s, x, y]
    spouse_ok = _available(demand, free)
    # children of a parent aged x by the child's age k: a mother's born when she was
    # x - 1 - k, a father's by his partner's age; or those linked to each
    children = np.zeros((2, n, limit))
    leaves = np.zeros((2, n))  # the chance of leaving a partner here (with ``linked``)
    if linked.shape[0] > 0:
        for s in range(2):
            for x in range(n):
                for y in range(first[s, x], last[s, x]):
                    leaves[s, x] += weights[s, x, y]
                for k in range(limit):
                    children[s, x, k] = (leaves[s, x] * linked[0, s, x, k]
                                         + (1.0 - leaves[s, x]) * linked[1, s, x, k])
    else:
        by_mother = np.zeros((n, limit))
        for x in range(n):
            for k in range(limit):
                by_mother[x, k] = rules.orphan_probability(asfr, x, k) * child_scale[k]
        children[1] = by_mother
        for x in range(n):
            for y in range(first[0, x], last[0, x]):
                if weights[0, x, y] != 0.0:
                    for k in range(limit):
                        children[0, x, k] += weights[0, x, y] * by_mother[y, k]
    child_sex = np.array([p_male, 1.0 - p_male])
    child_ok = np.ones((limit, 2, 2))  # (child age, child sex, parent sex)
    for s in range(2):
        for c in range(2):
            claimed = np.zeros((n, 1))
            for k in range(limit):
                for x in range(n):
                    claimed[k, 0] += children[s, x, k] * population[x, s]
                claimed[k, 0] *= child_sex[c]
            ok = _available(claimed, free[:, c:c + 1])
            for k in range(limit):
                child_ok[k, c, s] = ok[k, 0]
    new_spouses, new_spouse_money = np.zeros((n, 2)), np.zeros((n, 2))
    new_orphans, new_orphan_money = np.zeros((n, 2)), np.zeros((n, 2))
    partner = np.empty(n)
    kids_by_sex = np.empty((n, limit, 2))  # of a deceased of the sex, (x, k, child's sex)
    kids = np.empty((n, limit))
    spouse_part, orphan_part = np.empty(n), np.empty((n, limit))
    reach = np.empty(n)
    for sex in range(2):
        for x in range(n):
            total = 0.0
            for y in range(first[sex, x], last[sex, x]):
                total += weights[sex, x, y] * spouse_ok[y, 1 - sex]
            reach[x] = total
            for k in range(limit):
                for c in range(2):
                    kids_by_sex[x, k, c] = children[sex, x, k] * (child_sex[c]
                                                                  * child_ok[k, c, sex])
                kids[x, k] = kids_by_sex[x, k, 0] + kids_by_sex[x, k, 1]
        if linked.shape[0] > 0:
            available = np.zeros(limit)
            for k in range(limit):
                for c in range(2):
                    available[k] += child_sex[c] * child_ok[k, c, sex]
            _capped_by_claim(married[sex] * reach, leaves[sex], linked[:, sex], available,
                             spouse_share, orphan_share, maximum_share, spouse_part,
                             orphan_part)
        else:
            _capped(married[sex] * reach, kids, spouse_share, orphan_share, maximum_share,
                    spouse_part, orphan_part)
        if spouse_share > 0:
            for x in range(n):
                if deaths[x, sex] == 0.0 and money[x, sex] == 0.0:
                    continue
                for y in range(first[sex, x], last[sex, x]):
                    partner[y] = weights[sex, x, y] * spouse_ok[y, 1 - sex]
                persons = deaths[x, sex] * married[sex]
                spent = spouse_part[x] * money[x, sex] / reach[x] if reach[x] > 0 else 0.0
                for y in range(first[sex, x], last[sex, x]):
                    older = min(y + 1, n - 1)
                    new_spouses[older, 1 - sex] += persons * partner[y]
                    new_spouse_money[older, 1 - sex] += spent * partner[y]
        for k in range(limit):
            all_kids = spent = 0.0
            for x in range(n):
                all_kids += kids[x, k]
                spent += money[x, sex] * orphan_part[x, k]
            for c in range(2):
                of_sex = orphaned = 0.0
                for x in range(n):
                    of_sex += kids_by_sex[x, k, c]
                    orphaned += deaths[x, sex] * kids_by_sex[x, k, c]
                new_orphans[k + 1, c] += orphaned
                new_orphan_money[k + 1, c] += spent * (of_sex / max(all_kids, 1e-300))
    for y in range(n):
        for s in range(2):
            per = max(next_population[y, s], 1e-300)
            spouses[y, s] += new_spouses[y, s] / per
            spouse_pension[y, s] += new_spouse_money[y, s] / per
            orphans[y, s] += new_orphans[y, s] / per
            orphan_pension[y, s] += new_orphan_money[y, s] / per


@nb.njit(cache=True)
def _capped_by_claim(spouse_claim, leaves, by_claim, available, spouse_share, orphan_share,
                     maximum_share, spouse, orphans):
    """schemes.survivors.capped_shares_by_claim into ``spouse`` (x,), ``orphans`` (x, k):
    ``by_claim`` (2, x, k) the children of one who leaves a partner and of one who does
    not, times each child age's ``available`` (k,)."""
    n, limit = by_claim.shape[1], by_claim.shape[2]
    given = np.zeros(n)
    with_partner, alone = np.empty((n, limit)), np.empty((n, limit))
    for x in range(n):
        if leaves[x] > 0.0:
            given[x] = min(spouse_claim[x] / leaves[x], 1.0)
        for k in range(limit):
            with_partner[x, k] = by_claim[0, x, k] * available[k]
            alone[x, k] = by_claim[1, x, k] * available[k]
    spouse_with, orphans_with = np.empty(n), np.empty((n, limit))
    _capped(given, with_partner, spouse_share, orphan_share, maximum_share, spouse_with,
            orphans_with)
    spouse_alone, orphans_alone = np.empty(n), np.empty((n, limit))
    _capped(np.zeros(n), alone, spouse_share, orphan_share, maximum_share, spouse_alone,
            orphans_alone)
    for x in range(n):
        spouse[x] = leaves[x] * spouse_with[x]
        for k in range(limit):
            orphans[x, k] = (leaves[x] * orphans_with[x, k]
                             + (1.0 - leaves[x]) * orphans_alone[x, k])


def partner_bands(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The partner-age bands of ``weights`` (sex, x, y) that :func:`add_survivors` sums
    over: the first and one past the last y with a weight, by (sex, x)."""
    return _bands(np.ascontiguousarray(weights, dtype=np.float64))


@nb.njit(cache=True)
def _bands(weights):
    """(sex, x) the first and one past the last partner age y whose ``weights`` (sex, x,
    y) are not zero (an empty band, first = last, where none is)."""
    n_sex, n, m = weights.shape
    first, last = np.zeros((n_sex, n), np.int64), np.zeros((n_sex, n), np.int64)
    for s in range(n_sex):
        for x in range(n):
            lo = 0
            while lo < m and weights[s, x, lo] == 0.0:
                lo += 1
            hi = m
            while hi > lo and weights[s, x, hi - 1] == 0.0:
                hi -= 1
            first[s, x], last[s, x] = lo, hi
    return first, last


@nb.njit(cache=True)
def _available(demand, free):
    """schemes.survivors.availability for (age, j) claims: the share of the claims on
    next year's cells, one year older, that the persons ``free`` there can meet."""
    n, m = demand.shape
    claims = np.zeros((n, m))
    for a in range(n):
        for j in range(m):
            claims[min(a + 1, n - 1), j] += demand[a, j]
    ok = np.empty((n, m))
    for a in range(n):
        into = min(a + 1, n - 1)
        for j in range(m):
            room = max(free[into, j], 0.0)
            ok[a, j] = room / claims[into, j] if claims[into, j] > room else 1.0
    return ok


@nb.njit(cache=True)
def _capped(married, children, spouse_share, orphan_share, maximum_share, spouse, orphans):
    """schemes.survivors.capped_survivor_shares into ``spouse`` (x,), ``orphans`` (x, k)."""
    n_kids = children.shape[1]
    capped = np.zeros(children.shape[0], dtype=np.int64)  # the rows the ceiling binds
    n_capped = 0
    for x in range(children.shape[0]):
        spouse[x] = married[x] * spouse_share
        possible = 0
        for k in range(n_kids):
            orphans[x, k] = children[x, k] * orphan_share
            possible += children[x, k] > 0
        if maximum_share > 0 and spouse_share + orphan_share * possible > maximum_share:
            capped[n_capped] = x
            n_capped += 1
    if n_capped == 0:
        return
    # in one call: its buffers are allocated once
    survivors._capped_rows(married, children, capped[:n_capped], spouse_share, orphan_share,
                           maximum_share, spouse, orphans)
