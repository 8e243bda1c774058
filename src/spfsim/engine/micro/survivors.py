"""Survivors' pensions in the micro engine: paid, ended, and awarded at deaths.

A pension in payment is indexed and may end (:func:`survivor_in_payment`); each year's
flagged deaths of pensioners and qualified insured persons become claims on next year's
persons (:func:`survivor_claims`), which :func:`award_survivors` gives to persons who exist
and have no survivor's pension yet. The rules are those of
:mod:`spfsim.schemes.pension_rules`, as in the cohort engine.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ... import rng
from ...schemes.pension_rules import (
    in_payment,
    orphan_pension_ends,
    orphan_probability,
    survivor_above_own,
    survivor_scale,
)
from .counters import (
    AGE_SURVIVORS,
    MAX_AGE,
    N_ORPHANS,
    N_SPOUSES,
    NO_SURVIVOR,
    ORPHAN,
    SPOUSE,
    fixed,
)
from .store import FEMALE, GONE, MALE, WHOLE


@nb.njit(inline="always", cache=True)
def survivor_in_payment(i, p, a, seed, year, indexation, orphan_age_limit, end_rate,
                        partnering, survivor_kind, survivor_pension):
    """The start of a year of person i's survivor's pension, in the cohort engine's order:
    index it, end an orphan's above the age limit and a spouse's at the end rate
    (remarriage) and, where no family link shows a new partnership, at the cohort engine's
    chance of one (``partnering``). :func:`pay_survivor` pays it later in the year."""
    survivor_pension[i] = in_payment(survivor_pension[i], indexation, 0.0)
    kind = survivor_kind[i]
    if partnering > 0.0:  # both ends in one draw
        end_rate = 1.0 - (1.0 - end_rate) * (1.0 - partnering)
    if (kind == ORPHAN and orphan_pension_ends(a, orphan_age_limit)) or (
            kind == SPOUSE and end_rate > 0.0
            and rng.uniform(seed, rng.SURVIVOR_END, p, year) < end_rate):
        survivor_kind[i] = NO_SURVIVOR
        survivor_pension[i] = 0.0


@nb.njit(inline="always", cache=True)
def pay_survivor(c, i, a, s, own, dual_entitlement, minimum_age, scale, survivor_kind,
                 survivor_pension, counts, age_money):
    """Count and pay person i's survivor's pension at this year's age, once her own
    pension's year is done (``own``: her old-age or disability pension in payment, 0 for
    none; her death follows in the step), as the cohort engine records its cells. With
    ``dual_entitlement`` a spouse's is paid only above her own pension
    (pension_rules.survivor_above_own), and a spouse with an own pension is counted in its
    branch, not here (schemes.survivors.spouses_beside_own_pensions). A spouse younger
    than ``minimum_age`` keeps her entitlement but is neither paid nor counted. Returns
    the amount paid (currency per year)."""
    kind = survivor_kind[i]
    if kind == NO_SURVIVOR or (kind == SPOUSE and a < minimum_age):
        return 0.0
    amount = survivor_pension[i]
    if dual_entitlement and kind == SPOUSE and own > 0.0:
        amount = survivor_above_own(amount, own, 0.0)
    else:
        counts[c, a, s, N_SPOUSES if kind == SPOUSE else N_ORPHANS] += 1
    age_money[c, a, s, AGE_SURVIVORS] += fixed(amount, scale)
    return amount


@nb.njit(cache=True)
def survivor_claims(pid, age, sex, pension, death_flag, size, seed, year, spouse_share,
                    orphan_share, orphan_age_limit, married, partner_cumulative,
                    spouse_available, orphan_available, asfr, child_scale, linked, p_male,
                    maximum_share, claim_cell, claim_kind, claim_amount):
    """:func:`claims_of_deaths` without the deceased's ids."""
    return claims_of_deaths(pid, age, sex, pension, death_flag, size, seed, year,
                            spouse_share, orphan_share, orphan_age_limit, married,
                            partner_cumulative, spouse_available, orphan_available, asfr,
                            child_scale, linked, p_male, maximum_share, claim_cell,
                            claim_kind, claim_amount,
                            np.empty(len(claim_cell), dtype=np.int64))


@nb.njit(cache=True)
def claims_of_deaths(pid, age, sex, pension, death_flag, size, seed, year, spouse_share,
                     orphan_share, orphan_age_limit, married, partner_cumulative,
                     spouse_available, orphan_available, asfr, child_scale, linked, p_male,
                     maximum_share, claim_cell, claim_kind, claim_amount, claim_death):
    """The survivors' pensions of the flagged deaths, in index order, each as a claim on a
    cell of next year's (age, sex) persons (age x 2 + sex), with its kind and amount.

    A deceased of sex s aged a has a partner aged y drawn from ``partner_cumulative``
    (sex, a, y: cumulative schemes.db_pension.partner_age_weights), who survives them
    with probability ``married`` [s] x ``spouse_available`` [y, other sex], and children
    aged k < the orphan age limit with the mother's fertility when each was born (the
    mother: the deceased, or the partner; when ``linked`` (2, sex, age, k) is not empty,
    the deceased's own with those probabilities, [0] when leaving a partner, [1] when not:
    schemes.survivors.children_by_claim), each with probability ``orphan_available``
    [k, child's sex, s] of being a child who exists (schemes.db_pension.availability, the
    cohort engine's rule). When one death's shares add up to more than ``maximum_share``
    (> 0), each is scaled down in proportion. :func:`award_survivors` then gives the claims
    to persons. ``claim_death``: the id of each claim's deceased. Clears the flags;
    returns the number of claims written.
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
        # weights that add up to less than 1 (the partners from the families) leave the
        # draws beyond them without a partner: no spouse, and a man no children
        partnered = u < partner_cumulative[s, a, MAX_AGE] or partner_cumulative[s, a, MAX_AGE] \
            > 1.0 - 1e-9
        spouse = (partnered and spouse_share > 0.0
                  and rng.uniform(seed, rng.SURVIVOR_SPOUSE, p, year)
                  < married[s] * spouse_available[partner_age, 1 - s])
        mother = a if s == FEMALE else partner_age
        own = linked.shape[0] > 0  # the deceased's own children
        n_orphans = 0
        if orphan_share > 0.0 and (partnered or s == FEMALE or own):
            for k in range(limit):
                if not (_own_child(seed, year, p, k, linked[0 if partnered else 1, s, a])
                        if own
                        else _orphan(seed, year, p, k, mother, asfr, child_scale)):
                    continue
                c = MALE if rng.uniform(seed, rng.ORPHAN_SEX, p * 32 + k, year) < p_male \
                    else FEMALE
                if rng.uniform(seed, rng.SURVIVOR_ORPHAN_AVAILABLE, p * 32 + k, year) \
                        >= orphan_available[k, c, s]:
                    continue
                orphan_age[n_orphans], orphan_sex[n_orphans] = k + 1, c
                n_orphans += 1
        total = spouse_share * spouse + orphan_share * n_orphans
        scale = survivor_scale(total, maximum_share)
        if spouse:
            claim_cell[n_claims] = min(partner_age + 1, MAX_AGE) * 2 + (1 - s)
            claim_kind[n_claims] = SPOUSE
            claim_amount[n_claims] = scale * spouse_share * pension[i]
            claim_death[n_claims] = p
            n_claims += 1
        for n in range(n_orphans):
            claim_cell[n_claims] = orphan_age[n] * 2 + orphan_sex[n]
            claim_kind[n_claims] = ORPHAN
            claim_amount[n_claims] = scale * orphan_share * pension[i]
            claim_death[n_claims] = p
            n_claims += 1
    return n_claims


@nb.njit(cache=True)
def linked_survivors(status, age, pension, death_flag, partner, mother, father,
                     survivor_kind, survivor_pension, size, spouse_share, orphan_share,
                     orphan_age_limit, maximum_share):
    """The survivors' pensions of the flagged deaths paid to the deceased's own partner
    and children (family links, engine.micro.families; the partners from the families,
    db_pension's survivor_partners): after the step and the entrants, before the family
    pass clears the links to the dead. The partner is paid ``spouse_share`` of the
    deceased's pension if still here (not dead or gone during the same step) without a
    survivor's pension; each child linked to the deceased as mother or father, here, aged
    1 to ``orphan_age_limit`` now (below it at the death) and without a survivor's pension,
    ``orphan_share``; one death's shares together capped at ``maximum_share``
    (pension_rules.survivor_scale). A child whose two parents died is paid its mother's.
    Clears the flags; returns (spouses paid, orphans paid)."""
    limit = orphan_age_limit if orphan_share > 0.0 else 0
    children = np.zeros(size, dtype=np.int16)  # of each deceased: the orphans to be paid
    for i in range(size):
        d = _orphaned_by(i, status, age, mother, father, death_flag, survivor_kind, limit)
        if d >= 0:
            children[d] += 1
    n_spouses = n_orphans = 0
    for i in range(size):  # orphans first: the partner's state is that before any award
        d = _orphaned_by(i, status, age, mother, father, death_flag, survivor_kind, limit)
        if d >= 0:
            spouse = spouse_share if _has_spouse(d, status, partner, survivor_kind) else 0.0
            scale = survivor_scale(spouse + orphan_share * children[d], maximum_share)
            survivor_kind[i] = ORPHAN
            survivor_pension[i] = scale * orphan_share * pension[d]
            n_orphans += 1
    for d in range(size):
        if death_flag[d] != 1:
            continue
        death_flag[d] = 0
        if spouse_share > 0.0 and _has_spouse(d, status, partner, survivor_kind):
            scale = survivor_scale(spouse_share + orphan_share * children[d], maximum_share)
            j = partner[d] - 1
            survivor_kind[j] = SPOUSE
            survivor_pension[j] = scale * spouse_share * pension[d]
            n_spouses += 1
    return n_spouses, n_orphans


@nb.njit(inline="always", cache=True)
def _orphaned_by(i, status, age, mother, father, death_flag, survivor_kind, limit):
    """The slot of the flagged deceased parent (the mother first) whose orphan's pension
    the person in slot i would receive, or -1: i is here, aged 1 to ``limit`` and without
    a survivor's pension."""
    if status[i] == GONE or age[i] < 1 or age[i] > limit or survivor_kind[i] != NO_SURVIVOR:
        return -1
    if mother[i] != 0 and death_flag[mother[i] - 1] == 1:
        return np.int64(mother[i] - 1)
    if father[i] != 0 and death_flag[father[i] - 1] == 1:
        return np.int64(father[i] - 1)
    return -1


@nb.njit(inline="always", cache=True)
def _has_spouse(d, status, partner, survivor_kind):
    """Whether the deceased in slot d leaves a partner here without a survivor's pension."""
    if partner[d] == 0:
        return False
    j = partner[d] - 1
    return status[j] != GONE and survivor_kind[j] == NO_SURVIVOR


@nb.njit(cache=True)
def award_survivors(pid, status, age, sex, survivor_kind, survivor_pension, size, seed, year,
                    free, claim_cell, claim_kind, claim_amount, n_claims):
    """Give each claim (:func:`survivor_claims`) to a person of its cell who is here and has
    no survivor's pension, ``free`` (age, sex) of them: in each cell min(claims, free)
    distinct ranks among its free persons, in the persons' order, are drawn alike likely
    (Floyd's algorithm, keyed by cell and draw: :func:`survivor_ranks`), and one pass over
    the persons gives the cell's claims, in the order of the deaths, to the persons of
    those ranks (:func:`give_claims`). Claims beyond a cell's free persons (which the
    availability makes rare) are not paid. Returns the number of claims paid."""
    start, order, chosen, ranks = survivor_ranks(seed, year, free, claim_cell, n_claims)
    return give_claims(pid, status, age, sex, survivor_kind, survivor_pension, size,
                       WHOLE[0], np.zeros((1, (MAX_AGE + 1) * 2), dtype=np.int64), start,
                       order, chosen, ranks, claim_kind, claim_amount)


@nb.njit(cache=True)
def survivor_ranks(seed, year, free, claim_cell, n_claims):
    """Each cell's claims in the order of the deaths and the ranks, among the cell's
    ``free`` persons, they go to. Returns (start (cells + 1): each cell's first entry in
    ``order`` and ``ranks``; order: claim numbers by cell; chosen (cells): the claims
    paid; ranks: increasing within a cell)."""
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
    return start, order, chosen, ranks


@nb.njit(cache=True)
def eligible_counts(pid, status, age, sex, survivor_kind, size, page, n_pages):
    """(n_pages, cells) persons here without a survivor's pension, by id page (id //
    ``page``) and cell (age x 2 + sex): a shard's part of the ranks :func:`give_claims`
    needs."""
    out = np.zeros((n_pages, (MAX_AGE + 1) * 2), dtype=np.int64)
    for i in range(size):
        if status[i] == GONE or survivor_kind[i] != NO_SURVIVOR:
            continue
        out[np.int64(pid[i]) // page, np.int64(age[i]) * 2 + np.int64(sex[i])] += 1
    return out


@nb.njit(cache=True)
def give_claims(pid, status, age, sex, survivor_kind, survivor_pension, size, page, offsets,
                start, order, chosen, ranks, claim_kind, claim_amount):
    """One pass over the persons (in id order) giving each cell's claims to the persons
    of its chosen ranks (:func:`survivor_ranks`). A person's rank in its cell counts the
    persons here without a survivor's pension before it: ``offsets`` (id page, cell) of
    them in the pages before its own page (id // ``page``; other shards' persons among
    them), and those of its page before it here. Returns the number of claims paid."""
    n_cells = (MAX_AGE + 1) * 2
    seen = np.zeros(n_cells, dtype=np.int64)
    taken = np.zeros(n_cells, dtype=np.int64)  # the next of the cell's ranks
    paid = 0
    current = -1
    for i in range(size):
        if status[i] == GONE or survivor_kind[i] != NO_SURVIVOR:
            continue
        this_page = np.int64(pid[i]) // page
        if this_page != current:
            current = this_page
            seen[:] = 0
        cell = np.int64(age[i]) * 2 + np.int64(sex[i])
        rank = offsets[this_page, cell] + seen[cell]
        seen[cell] += 1
        first = start[cell]
        while taken[cell] < chosen[cell] and ranks[first + taken[cell]] < rank:
            taken[cell] += 1  # a rank held in another shard
        if taken[cell] < chosen[cell] and ranks[first + taken[cell]] == rank:
            n = order[first + taken[cell]]
            survivor_kind[i], survivor_pension[i] = claim_kind[n], claim_amount[n]
            taken[cell] += 1
            paid += 1
    return np.int64(paid)


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
def _own_child(seed, year, p, k, children):
    """1 if person ``p``, dying this year, leaves a child aged k, with their expected
    children of that age ``children`` (k,) (at most one a year of age), else 0."""
    return _child_drawn(seed, year, p, k, children[k])


@nb.njit(inline="always", cache=True)
def _orphan(seed, year, p, k, mother, asfr, child_scale):
    """1 if person ``p``, dying this year, leaves a child aged k (born when the mother was
    mother - 1 - k, at that age's fertility rate, times the child age's ``child_scale``),
    else 0."""
    return _child_drawn(seed, year, p, k, orphan_probability(asfr, mother, k) * child_scale[k])


@nb.njit(inline="always", cache=True)
def _child_drawn(seed, year, p, k, probability):
    """1 with ``probability`` (the draw of person ``p``'s child aged k), else 0."""
    if probability <= 0.0:
        return 0
    return 1 if rng.uniform(seed, rng.SURVIVOR_ORPHAN, p * 32 + k, year) < probability else 0
