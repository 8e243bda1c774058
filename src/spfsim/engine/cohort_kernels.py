"""Compiled loops of the cohort engine's pension year.

Each function here is one transition of :class:`~spfsim.engine.cohort_state.PensionState`
(``active[age, sex, status, service, k]`` and the arrays beside it) written as a Numba
loop over the cells that reads and writes the state in place, calling the scalar rules of
:mod:`spfsim.schemes.pension_rules` (the micro kernels' rules) on each cell. They are the
engine's fast path: one pass over the state per transition instead of the dozens of
whole-array temporaries of the NumPy formulation.

The survivors' branch has its own: :mod:`.cohort_survivor_kernels`. The NumPy methods of
:mod:`.cohort_transitions`, :mod:`.cohort_state` and :mod:`.cohort_survivors` remain the
reference: they state each transition as array algebra, they run when Numba's JIT is off
(a loop over every cell in Python would take minutes), and ``tests/test_cohort_kernels.py``
checks that both give the same state, transition by transition and over whole
projections, model feature by feature.

Most of the state is empty: the young have few credited years and the retired none, so
four fifths of the (age, service) cells hold nobody. Each kernel visits a row's classes
only up to its highest occupied one (``top`` (age, sex) for the active members' arrays,
``top_invalid`` for the disability pensioners', ``top_pension`` for the old-age
pensioners': PensionState.top_class), skipping cells
whose update would add zeros to zeros, so the state is bitwise the one the whole loop
gives. The kernels that move persons to a higher class, or between the two sides, raise
these bounds; the ageing shifts them (PensionState.advance).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..schemes import pension_rules as rules

NOT_CONTRIBUTING, CONTRIBUTING = 0, 1
NC_INACTIVE = 2  # cohort_transitions.NC_INACTIVE: where recoveries and the untargeted go

COMPILED = not nb.config.DISABLE_JIT


@nb.njit(cache=True)
def contributed_years(service, k, n_k):
    """Years of contributions of class (service, k): the service with one class, k
    otherwise (engine.benefits.class_years)."""
    return service if n_k == 1 else k


@nb.njit(cache=True)
def reference(credits, recent, service, years, best_sd, members, spread, formula):
    """The reference credits of a class of ``members`` from its career credits and its
    kept years' earnings ``recent`` (R,) (pension_rules.reference_earnings), the best
    years' with their transitory gain where ``best_sd`` > 0 (pension_rules.best_years_gain,
    the members' permanent ``spread`` and the ``formula``'s ceiling, per member)."""
    if years <= 0:
        return credits
    total = 0.0
    for r in range(years):
        total += recent[r]
    if best_sd > 0.0:
        total *= rules.best_years_gain(recent, service, years, best_sd, spread,
                                       formula[rules.CEILING] * members)
    return rules.reference_earnings(credits, total, service, years)


@nb.njit(cache=True)
def chain(was, target, persistence):
    """(stay, join) of the two-state contribution chain for one cell
    (cohort_transitions.contribution_transitions, whose docstring states the chain)."""
    stay = target + persistence * (1.0 - target)
    if was > 0:
        stay = min(stay, target / was)
    join = (target - was * stay) / (1.0 - was) if was < 1 else 0.0
    return stay, min(max(join, 0.0), 1.0)


@nb.njit(cache=True)
def aligned(previous, incoming, target, a, s, persistence, draw):
    """Keep-or-draw transitions of one cell (cohort_transitions.aligned_persistence), its
    wanted shares ``target[a, s]`` (indexed: not a view made for each cell): returns
    ``keep`` and writes the draw probabilities into ``draw``."""
    n = previous.size
    total = 0.0
    for i in range(n):
        total += previous[i]
    total += incoming
    wanted_total = 0.0
    for i in range(n):
        wanted_total += target[a, s, i]
    limit = np.inf
    kept = 0.0
    for i in range(n):
        wanted = target[a, s, i] / wanted_total if wanted_total > 0 else 1.0 / n
        w = previous[i] / total if total > 0 else 0.0
        if w > 0:
            limit = min(limit, wanted / w)
        draw[i] = wanted  # the wanted shares for now
        kept += w
    keep = min(persistence, limit)
    free = 1.0 - keep * kept
    drawn = 0.0
    for i in range(n):
        if free > 1e-12:
            w = previous[i] / total if total > 0 else 0.0
            draw[i] = (draw[i] - keep * w) / free
        draw[i] = max(draw[i], 0.0)
        drawn += draw[i]
    if drawn > 0:
        for i in range(n):
            draw[i] /= drawn
    return keep


@nb.njit(cache=True)
def contribution_status(active, labour, credits, paid, recent, density, persistence,
                        labour_target, labour_persistence, top):
    """StateTransitions._contribution_status: move each cell's members between statuses so
    that the contributing share is ``density`` (age, sex), and the non-contributors
    between labour states (``labour_target`` (age, sex, state), or empty: all inactive)."""
    n_age, n_sex, _, _, n_k = active.shape
    n_state, n_r = labour.shape[-1], recent.shape[-1]
    targeted = labour_target.size > 0
    in_state, draw = np.empty(n_state), np.empty(n_state)
    for a in range(n_age):
        for s in range(n_sex):
            n_s = top[a, s] + 1  # an empty row (0) has nobody to move
            # one pass: members, contributors, non-contributors by labour state
            members = contributing = 0.0
            in_state[:] = 0.0
            for c in range(n_s):
                for k in range(n_k):
                    members += active[a, s, 0, c, k] + active[a, s, 1, c, k]
                    contributing += active[a, s, 1, c, k]
                    for st in range(n_state):
                        in_state[st] += labour[a, s, c, k, st]
            was = contributing / members if members > 0 else 0.0
            target = min(density[a, s] / members, 1.0) if members > 0 else 0.0
            stay, join = chain(was, target, persistence)
            keep = 0.0
            if targeted:  # last year's non-contributors who stay out, those who stop
                for st in range(n_state):
                    in_state[st] *= 1.0 - join
                keep = aligned(in_state, contributing * (1.0 - stay), labour_target, a, s,
                               labour_persistence, draw)
            for c in range(n_s):
                for k in range(n_k):
                    staying = 0.0
                    for st in range(n_state):
                        staying += labour[a, s, c, k, st] * (1.0 - join)
                    leaving = active[a, s, 1, c, k] * (1.0 - stay)
                    if targeted:
                        drawing = (1.0 - keep) * staying + leaving
                        for st in range(n_state):
                            labour[a, s, c, k, st] = (keep * (labour[a, s, c, k, st]
                                                              * (1.0 - join))
                                                      + drawing * draw[st])
                    else:
                        for st in range(n_state):
                            labour[a, s, c, k, st] = 0.0
                        labour[a, s, c, k, NC_INACTIVE] = staying + leaving
                    active[a, s, 1, c, k], active[a, s, 0, c, k] = _switched(
                        active[a, s, 1, c, k], active[a, s, 0, c, k], stay, join)
                credits[a, s, 1, c], credits[a, s, 0, c] = _switched(
                    credits[a, s, 1, c], credits[a, s, 0, c], stay, join)
                paid[a, s, 1, c], paid[a, s, 0, c] = _switched(
                    paid[a, s, 1, c], paid[a, s, 0, c], stay, join)
                for r in range(n_r):
                    recent[a, s, 1, c, r], recent[a, s, 0, c, r] = _switched(
                        recent[a, s, 1, c, r], recent[a, s, 0, c, r], stay, join)


@nb.njit(cache=True)
def _any(values):
    """Whether any of ``values`` (1-D) is not zero."""
    for v in values:  # noqa: SIM110 (a loop Numba compiles without a generator)
        if v != 0.0:
            return True
    return False


@nb.njit(cache=True)
def _switched(contributing, not_contributing, stay, join):
    """A quantity of contributors and of non-contributors after last year's contributors
    who stop (1 - stay) and the non-contributors who start (join) have moved."""
    leave = (1.0 - stay) * contributing
    enter = join * not_contributing
    return contributing + (enter - leave), not_contributing + (leave - enter)


@nb.njit(cache=True)
def disability(active, labour, credits, paid, recent, invalid, invalid_pension,
               invalid_credits, invalid_paid, invalid_recent, retirement_age, recovery_rate,
               incidence, minimum_service, formula, minimum_pension, maximum_pension,
               spread, reference_years, best_sd, caps, top, top_invalid):
    """StateTransitions._disability: recoveries below the pensionable age back to the
    active insured (not contributing), then onsets among last year's qualified
    contributors below it, awarded pension_rules.disability_award (``caps``: the cells'
    yearly caps, (sex, age, pension_rules.CAPS_SIZE), 0 knots for none)."""
    n_age, n_sex, _, _, n_k = active.shape
    n_r = recent.shape[-1]
    onset_recent = np.empty(n_r)
    for a in range(n_age):
        for s in range(n_sex):
            below = a < retirement_age[a, s]
            rate = recovery_rate * (1.0 if below else 0.0)
            if recovery_rate > 0 and rate > 0:
                for c in range(top_invalid[a, s] + 1):
                    for k in range(n_k):
                        recovered = invalid[a, s, c, k] * rate
                        active[a, s, NOT_CONTRIBUTING, c, k] += recovered
                        labour[a, s, c, k, NC_INACTIVE] += recovered
                        invalid[a, s, c, k] -= recovered
                    credits[a, s, NOT_CONTRIBUTING, c] += invalid_credits[a, s, c] * rate
                    paid[a, s, NOT_CONTRIBUTING, c] += invalid_paid[a, s, c] * rate
                    for r in range(n_r):
                        recent[a, s, NOT_CONTRIBUTING, c, r] += invalid_recent[a, s, c, r] * rate
                        invalid_recent[a, s, c, r] *= 1.0 - rate
                    invalid_pension[a, s, c] *= 1.0 - rate
                    invalid_credits[a, s, c] *= 1.0 - rate
                    invalid_paid[a, s, c] *= 1.0 - rate
                top[a, s] = max(top[a, s], top_invalid[a, s])
            if incidence[a, s] == 0.0:
                continue
            future = rules.award_future_years(a, retirement_age[a, s], False, formula)
            years = rules.award_reference_years(reference_years, future, formula)
            highest = -1  # the highest class an onset reached
            for c in range(top[a, s] + 1):
                if not rules.qualified_insured(a, retirement_age[a, s], c, minimum_service):
                    continue
                rate = incidence[a, s]
                onsets = 0.0
                for k in range(n_k):
                    onset = active[a, s, CONTRIBUTING, c, k] * rate
                    onsets += onset
                    active[a, s, CONTRIBUTING, c, k] -= onset
                    invalid[a, s, c, k] += onset
                onset_credits = credits[a, s, CONTRIBUTING, c] * rate
                onset_paid = paid[a, s, CONTRIBUTING, c] * rate
                for r in range(n_r):
                    onset_recent[r] = recent[a, s, CONTRIBUTING, c, r] * rate
                    recent[a, s, CONTRIBUTING, c, r] -= onset_recent[r]
                    invalid_recent[a, s, c, r] += onset_recent[r]
                per_person = 0.0
                if onsets > 0:
                    per_person = reference(onset_credits, onset_recent, c, years, best_sd,
                                           onsets, spread, formula) / onsets
                award = rules.disability_award(per_person, c, future, minimum_pension,
                                               maximum_pension, formula, spread, caps[s, a])
                credits[a, s, CONTRIBUTING, c] -= onset_credits
                paid[a, s, CONTRIBUTING, c] -= onset_paid
                invalid_pension[a, s, c] += onsets * award
                invalid_credits[a, s, c] += onset_credits
                invalid_paid[a, s, c] += onset_paid
                if onsets != 0.0 or onset_credits != 0.0 or onset_paid != 0.0 \
                        or _any(onset_recent):
                    highest = c
            top_invalid[a, s] = max(top_invalid[a, s], highest)


@nb.njit(cache=True)
def retire(active, labour, credits, paid, recent, pensioners, pension, invalid,
           invalid_pension, invalid_credits, invalid_paid, invalid_recent, refunded, refund,
           retirement_age, probability, factor, minimum_service, formula,
           minimum_pension, maximum_pension, spread, reference_years, best_sd, caps,
           refund_share, new_share, new_amount, award_reference, top, top_invalid,
           top_pension):
    """StateTransitions._retire: award old-age pensions (pension_rules.old_age_award) to
    the qualified members who retire this year (``probability`` (age, sex), each pension
    times ``factor``; both empty: everybody at the pensionable age, factor 1:
    cohort_transitions.retirement_choice), let those short of the minimum service leave
    with a refund, and carry disability pensions at the pensionable age into old-age
    pensions. Adds the newly awarded shares and their pensions into ``new_share``,
    ``new_amount`` (zeros) and sets the awarded cells' mean reference credits in
    ``award_reference`` (:func:`own_shapes`), lowers the rows' highest occupied classes to
    those that kept members and raises the pensioners' (``top_pension``) to those
    awarded."""
    n_age, n_sex, _, _, n_k = active.shape
    n_r = recent.shape[-1]
    recent_class = np.empty(n_r)
    refunds = 1.0 if refund_share > 0 else 0.0
    for a in range(n_age):
        for s in range(n_sex):
            at_age = a >= retirement_age[a, s]
            if probability.size:
                p, f = probability[a, s], factor[a, s]
            else:
                p, f = (1.0 if at_age else 0.0), 1.0
            left = refunded_paid = 0.0
            kept = -1  # the highest class not emptied
            for c in range(top[a, s] + 1):
                gone = (1.0 if minimum_service <= c else 0.0) * p  # awarded a pension
                leaving = rules.leaves_without_pension(a, retirement_age[a, s], c,
                                                       minimum_service)
                if gone == 0.0 and not leaving:  # nobody moves
                    kept = c
                    continue
                members = 0.0
                for k in range(n_k):
                    members += active[a, s, 0, c, k] + active[a, s, 1, c, k]
                share = gone * members
                if share > 0:
                    for r in range(n_r):
                        recent_class[r] = recent[a, s, 0, c, r] + recent[a, s, 1, c, r]
                    credited = reference(credits[a, s, 0, c] + credits[a, s, 1, c],
                                         recent_class, c, reference_years, best_sd,
                                         members, spread, formula)
                    award = rules.old_age_award(credited / members, c, f, minimum_pension,
                                                maximum_pension, formula, spread, caps[s, a])
                    new_share[a, s, c] = share
                    new_amount[a, s, c] = share * award
                    award_reference[a, s, c] = credited / members
                    pensioners[a, s, c] += share
                    pension[a, s, c] += share * award
                    top_pension[a, s] = max(top_pension[a, s], c)
                if leaving:
                    gone = 1.0
                    for k in range(n_k):
                        if contributed_years(c, k, n_k) >= 1:
                            left += active[a, s, 0, c, k] + active[a, s, 1, c, k]
                    refunded_paid += paid[a, s, 0, c] + paid[a, s, 1, c]
                if gone == 0.0:
                    kept = c
                    continue
                stays = 1.0 - gone
                if stays != 0.0:
                    kept = c
                for k in range(n_k):
                    for status in range(2):
                        active[a, s, status, c, k] *= stays
                    for st in range(labour.shape[-1]):
                        labour[a, s, c, k, st] *= stays
                for status in range(2):
                    credits[a, s, status, c] *= stays
                    paid[a, s, status, c] *= stays
                    for r in range(n_r):
                        recent[a, s, status, c, r] *= stays
            refunded[a, s] = left * refunds
            refund[a, s] = rules.refund(refund_share, refunded_paid)
            top[a, s] = kept
            if at_age:  # disability pensions continue as old-age pensions
                top_pension[a, s] = max(top_pension[a, s], top_invalid[a, s])
                for c in range(top_invalid[a, s] + 1):
                    for k in range(n_k):
                        pensioners[a, s, c] += invalid[a, s, c, k]
                        invalid[a, s, c, k] = 0.0
                    pension[a, s, c] += invalid_pension[a, s, c]
                    invalid_pension[a, s, c] = 0.0
                    invalid_credits[a, s, c] = 0.0
                    invalid_paid[a, s, c] = 0.0
                    for r in range(n_r):
                        invalid_recent[a, s, c, r] = 0.0
                top_invalid[a, s] = -1


@nb.njit(cache=True)
def own_shapes(shape, new_share, award_reference, factor, formula, minimum_pension,
               maximum_pension, spread, caps, edges):
    """``shape`` (sex, class, node): the old-age pensions of each credited-service class
    relative to their mean, one for each equal-probability band (``edges``) of the
    members' earnings levels (pension_rules.awards_at_levels), from the year's awards
    (:func:`retire`'s ``new_share`` and ``award_reference``, each award cell weighted by
    its share, its pensions times ``factor`` (age, sex; empty: 1)); a class without an
    award this year keeps last year's shape. The spread of own pensions within a class
    is the formula's on the spread of earnings, the same at every age of award and
    payment once the formula is indexed to wages: the dual entitlement's top-ups read it
    (survivors.spouses_beside_own_pensions)."""
    n_age, n_sex, n_class = new_share.shape
    n = edges.size - 1
    at = np.empty(n)
    money = np.empty(n)
    for s in range(n_sex):
        for c in range(n_class):
            money[:] = 0.0
            for a in range(n_age):
                share = new_share[a, s, c]
                if share <= 0.0:
                    continue
                f = factor[a, s] if factor.size else 1.0
                rules.awards_at_levels(award_reference[a, s, c], c, f, minimum_pension,
                                       maximum_pension, formula, spread, caps[s, a], edges,
                                       at)
                for i in range(n):
                    money[i] += share * at[i]
            mean = money.sum() / n
            if mean > 0.0:
                for i in range(n):
                    shape[s, c, i] = money[i] / mean


@nb.njit(cache=True)
def care_credits(active, labour, credits, paid, recent, probability, retirement_age,
                 care_credit, insured_only, top, best):
    """StateTransitions._care_credits: women below the pensionable age who did not
    contribute this year and have a young child (``probability`` (age,)) are credited a
    year of service and ``care_credit`` earnings, not a contribution year (kept among the
    reference's years as pension_rules.keep_credited_year keeps them, ``best``: the best
    N)."""
    n_age, _, _, n_s, n_k = active.shape
    n_state, n_r = labour.shape[-1], recent.shape[-1]
    least = 1 if insured_only else 0
    woman, status = 1, NOT_CONTRIBUTING
    moved = np.zeros((n_s, n_k))
    moved_labour = np.zeros((n_s, n_k, n_state))
    moved_credits, moved_paid = np.zeros(n_s), np.zeros(n_s)
    moved_recent = np.zeros((n_s, n_r))
    for a in range(n_age):
        base = probability[a] * (1.0 if retirement_age[a, woman] > a else 0.0)
        if base == 0.0:
            continue
        n = top[a, woman] + 1
        highest = -1  # the highest class with anything moved up
        for c in range(n):
            in_class = moved_class = 0.0
            for k in range(n_k):
                rate = base if contributed_years(c, k, n_k) >= least else 0.0
                moved[c, k] = active[a, woman, status, c, k] * rate
                for st in range(n_state):
                    moved_labour[c, k, st] = labour[a, woman, c, k, st] * rate
                in_class += active[a, woman, status, c, k]
                moved_class += moved[c, k]
            share = moved_class / in_class if in_class > 0 else 0.0
            credited = moved_class * care_credit
            moved_credits[c] = credits[a, woman, status, c] * share + credited
            moved_paid[c] = paid[a, woman, status, c] * share
            if n_r:
                for r in range(n_r):
                    moved_recent[c, r] = recent[a, woman, status, c, r] * share
                rules.keep_credited_year(moved_recent[c], credited, moved_recent[c], best)
            for k in range(n_k):
                active[a, woman, status, c, k] -= moved[c, k]
                for st in range(n_state):
                    labour[a, woman, c, k, st] -= moved_labour[c, k, st]
            credits[a, woman, status, c] -= credits[a, woman, status, c] * share
            paid[a, woman, status, c] -= paid[a, woman, status, c] * share
            for r in range(n_r):
                recent[a, woman, status, c, r] -= recent[a, woman, status, c, r] * share
            if (moved_credits[c] != 0.0 or moved_paid[c] != 0.0 or _any_in(moved, c)
                    or _any_in(moved_recent, c)):
                highest = c
            else:
                for k in range(n_k):
                    for st in range(n_state):
                        if moved_labour[c, k, st] != 0.0:
                            highest = c
        _promote_status(active, credits, paid, recent, a, woman, status, moved,
                        moved_credits, moved_paid, moved_recent, n)
        last = n_s - 1
        for c in range(min(n, last), 0, -1):
            for k in range(n_k):
                for st in range(n_state):
                    labour[a, woman, c, k, st] += moved_labour[c - 1, k, st]
        if n > last:
            for k in range(n_k):
                for st in range(n_state):
                    labour[a, woman, last, k, st] += moved_labour[last, k, st]
        top[a, woman] = _raised(top[a, woman], highest, n_s)


@nb.njit(cache=True)
def _any_in(values, row):
    """Whether any of ``values[row]`` (a 2-D array's row) is not zero (without a view)."""
    for j in range(values.shape[1]):  # noqa: SIM110 (as _any)
        if values[row, j] != 0.0:
            return True
    return False


@nb.njit(cache=True)
def _promote_status(active, credits, paid, recent, a, s, status, moved, moved_credits,
                    moved_paid, moved_recent, n):
    """Add what moved from the classes below ``n`` of one cell's contribution ``status``
    (``moved`` (service, k), ``moved_credits``, ``moved_paid`` (service,),
    ``moved_recent`` (service, r)) one credited-service class up, the top class keeping
    its members (cohort_transitions._promote), indexing the state itself: a view of it
    in a loop costs Numba more than the loop."""
    last = active.shape[3] - 1
    n_k, n_r = active.shape[4], recent.shape[4]
    for c in range(min(n, last), 0, -1):
        for k in range(n_k):
            active[a, s, status, c, k] += moved[c - 1, k]
        credits[a, s, status, c] += moved_credits[c - 1]
        paid[a, s, status, c] += moved_paid[c - 1]
        for r in range(n_r):
            recent[a, s, status, c, r] += moved_recent[c - 1, r]
    if n > last:
        for k in range(n_k):
            active[a, s, status, last, k] += moved[last, k]
        credits[a, s, status, last] += moved_credits[last]
        paid[a, s, status, last] += moved_paid[last]
        for r in range(n_r):
            recent[a, s, status, last, r] += moved_recent[last, r]


@nb.njit(cache=True)
def _raised(top, highest, n_s):
    """A row's highest occupied class once the class ``highest`` (-1: none) has moved one
    class up (the last class keeps its members)."""
    return top if highest < 0 else max(top, min(highest + 1, n_s - 1))


@nb.njit(cache=True)
def credit_year(active, credits, paid, recent, earnings, contribution_rate, top, best):
    """PensionState.advance's first move: this year's contributors gain a credited year
    (one service class up), a contribution year (k + 1, the last class keeping its
    members), this year's insured ``earnings`` (age, sex) in their credits and among the
    reference's years (pension_rules.keep_credited_year; ``best``: the best N), and the
    contributions paid on them.

    One pass down each row's classes: a class is read, then written one class up, where
    the class above has already moved on; the last class's own members, who stay, are
    added after those who arrive from below (the order of the arrays' formulation,
    cohort_transitions._promote), and the first class, which nobody enters, is emptied."""
    n_age, n_sex, _, n_s, n_k = active.shape
    n_r = recent.shape[-1]
    status = CONTRIBUTING
    last = n_s - 1
    moved, moved_recent = np.empty(n_k), np.empty(n_r)
    kept, kept_recent = np.empty(n_k), np.empty(n_r)  # the last class's, who stay there
    for a in range(n_age):
        for s in range(n_sex):
            n = top[a, s] + 1
            highest = -1  # the highest class with anything moved up
            kept_credits = kept_paid = 0.0
            for c in range(n - 1, -1, -1):
                in_class = 0.0
                for k in range(n_k):
                    in_class += active[a, s, status, c, k]
                earned = in_class * earnings[a, s]
                moved[0] = 0.0
                for k in range(1, n_k):
                    moved[k] = active[a, s, status, c, k - 1]
                moved[n_k - 1] += active[a, s, status, c, n_k - 1]
                moved_credits = credits[a, s, status, c] + earned
                moved_paid = paid[a, s, status, c] + earned * contribution_rate
                if n_r:
                    rules.keep_credited_year(recent[a, s, status, c], earned, moved_recent,
                                             best)
                if highest < 0 and (moved_credits != 0.0 or moved_paid != 0.0
                                    or _any(moved) or _any(moved_recent)):
                    highest = c
                if c == last:
                    kept[:] = moved
                    kept_recent[:] = moved_recent
                    kept_credits, kept_paid = moved_credits, moved_paid
                    continue
                for k in range(n_k):
                    active[a, s, status, c + 1, k] = moved[k]
                credits[a, s, status, c + 1] = moved_credits
                paid[a, s, status, c + 1] = moved_paid
                for r in range(n_r):
                    recent[a, s, status, c + 1, r] = moved_recent[r]
            if n > 0:
                for k in range(n_k):
                    active[a, s, status, 0, k] = 0.0
                credits[a, s, status, 0] = 0.0
                paid[a, s, status, 0] = 0.0
                for r in range(n_r):
                    recent[a, s, status, 0, r] = 0.0
            if n > last:
                for k in range(n_k):
                    active[a, s, status, last, k] += kept[k]
                credits[a, s, status, last] += kept_credits
                paid[a, s, status, last] += kept_paid
                for r in range(n_r):
                    recent[a, s, status, last, r] += kept_recent[r]
            top[a, s] = _raised(top[a, s], highest, n_s)


@nb.njit(cache=True)
def age_one_year(share, weights, stay, top, blocks, per_class):
    """cohort_state._age_one_year in place on ``share`` (age, sex, rest): one age up,
    times the share ``stay`` (age, sex) of each new cell that is not a newcomer, the open
    group merging ages 99 and 100+ by ``weights`` (2, sex); the newborns' cells emptied.

    ``rest`` is ``blocks`` blocks (contribution statuses) of service classes of
    ``per_class`` numbers each; only the classes up to each row's highest occupied one
    ``top`` (age, sex) are moved, those above being zero (``top`` zeros and ``per_class``
    the whole block: every number)."""
    n_age, n_sex, n_rest = share.shape
    block = n_rest // blocks
    last = n_age - 1
    for s in range(n_sex):
        used = _used(max(top[last - 1, s], top[last, s]), per_class, block)
        for b in range(blocks):
            for i in range(b * block, b * block + used):
                share[last, s, i] = (share[last - 1, s, i] * weights[0, s]
                                     + share[last, s, i] * weights[1, s]) * stay[last, s]
        for a in range(last - 1, 0, -1):
            moved, held = _used(top[a - 1, s], per_class, block), _used(top[a, s],
                                                                        per_class, block)
            for b in range(blocks):
                for i in range(b * block, b * block + moved):
                    share[a, s, i] = share[a - 1, s, i] * stay[a, s]
                for i in range(b * block + moved, b * block + held):
                    share[a, s, i] = 0.0
        held = _used(top[0, s], per_class, block)
        for b in range(blocks):
            for i in range(b * block, b * block + held):
                share[0, s, i] = 0.0


@nb.njit(cache=True)
def age_state(active, labour, credits, paid, recent, pensioners, pension, invalid,
              invalid_pension, invalid_credits, invalid_paid, invalid_recent, spouses,
              spouse_pension, orphans, orphan_pension, weights, stay, newcomers, covered,
              top, top_invalid, top_pension):
    """PensionState.advance's ageing in place: every array of the state (PensionState.
    ARRAYS, in that order) one age up by :func:`age_one_year`, the active members' arrays
    up to the rows' bounds ``top``, the disability pensioners' up to ``top_invalid``, the
    old-age pensioners' up to ``top_pension``; then the newborns (``stay`` of the first
    row) and the immigrants (``newcomers`` (age, sex)) enter inactive with no service,
    times the share of their cohort ever covered (``covered`` (age, sex); empty: all),
    and the bounds age with the rows."""
    whole = np.zeros(top.shape, dtype=np.int64)  # a row as one class
    n_k = active.shape[-1]
    for array, bound, blocks, per_class in (
            (_rows(active), top, 2, n_k), (_rows(credits), top, 2, 1),
            (_rows(paid), top, 2, 1), (_rows(invalid), top_invalid, 1, n_k),
            (_rows(invalid_pension), top_invalid, 1, 1),
            (_rows(invalid_credits), top_invalid, 1, 1),
            (_rows(invalid_paid), top_invalid, 1, 1), (_rows(pensioners), top_pension, 1, 1),
            (_rows(pension), top_pension, 1, 1)):
        age_one_year(array, weights, stay, bound, blocks, per_class)
    age_one_year(_rows(labour), weights, stay, top, 1, n_k * labour.shape[-1])
    age_one_year(_rows(recent), weights, stay, top, 2, recent.shape[-1])
    age_one_year(_rows(invalid_recent), weights, stay, top_invalid, 1,
                 invalid_recent.shape[-1])
    for array in (_rows(spouses), _rows(spouse_pension), _rows(orphans),
                  _rows(orphan_pension)):
        age_one_year(array, weights, stay, whole, 1, array.shape[-1])
    n_age, n_sex = top.shape
    for s in range(n_sex):
        born = stay[0, s] * covered[0, s] if covered.size else stay[0, s]
        active[0, s, NOT_CONTRIBUTING, 0, 0] = born
        labour[0, s, 0, 0, NC_INACTIVE] = born
    for a in range(n_age):
        for s in range(n_sex):
            arriving = newcomers[a, s] * covered[a, s] if covered.size else newcomers[a, s]
            active[a, s, NOT_CONTRIBUTING, 0, 0] += arriving
            labour[a, s, 0, 0, NC_INACTIVE] += arriving
    for bounds in (top, top_invalid, top_pension):  # one age up (_age_one_year)
        for s in range(n_sex):
            bounds[n_age - 1, s] = max(bounds[n_age - 2, s], bounds[n_age - 1, s])
            for a in range(n_age - 2, 0, -1):
                bounds[a, s] = bounds[a - 1, s]
            bounds[0, s] = -1
    for a in range(n_age):  # the newcomers' class
        for s in range(n_sex):
            if newcomers[a, s] > 0 or a == 0:
                top[a, s] = max(top[a, s], 0)


@nb.njit(cache=True)
def _rows(array):
    """``array`` (age, sex, ...) as (age, sex, rest), the same memory."""
    n_age, n_sex = array.shape[0], array.shape[1]
    return array.reshape((n_age, n_sex, array.size // max(n_age * n_sex, 1)))


@nb.njit(cache=True)
def _used(top, per_class, block):
    """How many numbers of a block hold the service classes up to ``top`` (-1: none)."""
    return min((top + 1) * per_class, block)


@nb.njit(cache=True)
def revalued(credits, paid, recent, invalid_credits, invalid_paid, invalid_recent, factor,
             top, top_invalid):
    """The revalued earnings of the state (PensionState.earnings_arrays) times ``factor``
    in place, each row up to its highest occupied class (those above are zeros)."""
    n_age, n_sex = top.shape
    n_r = recent.shape[-1]
    for a in range(n_age):
        for s in range(n_sex):
            for status in range(2):
                for c in range(top[a, s] + 1):
                    credits[a, s, status, c] *= factor
                    paid[a, s, status, c] *= factor
                    for r in range(n_r):
                        recent[a, s, status, c, r] *= factor
            for c in range(top_invalid[a, s] + 1):
                invalid_credits[a, s, c] *= factor
                invalid_paid[a, s, c] *= factor
                for r in range(n_r):
                    invalid_recent[a, s, c, r] *= factor


@nb.njit(cache=True)
def indexed(total, persons, growth, minimum, top):
    """cohort_state._indexed in place: each cell's pensions in payment ``total`` (age,
    sex, service) indexed per person (pension_rules.in_payment), ``persons`` (age, sex,
    service, k) summed over k; each row up to its highest occupied class ``top`` (age,
    sex; empty: every class)."""
    n_age, n_sex, n_s = total.shape
    for a in range(n_age):
        for s in range(n_sex):
            for c in range(top[a, s] + 1 if top.size else n_s):
                count = 0.0
                for k in range(persons.shape[-1]):
                    count += persons[a, s, c, k]
                if count > 0:
                    total[a, s, c] = rules.in_payment(total[a, s, c] / count, growth,
                                                      minimum) * count
                else:
                    total[a, s, c] = 0.0
