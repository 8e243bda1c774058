"""The survivors' branch of the contributory pension in expectation: who a deceased person
leaves (a partner of some age, children by the mother's past fertility), whether such
persons exist, and the shares of the pension they receive under the ceiling.

Both engines use these functions: the cohort engine for its expected numbers, the micro
engine for the availability it draws persons against (engine.micro.steps). The per-death
rules (the ceiling's scale, an orphan's probability) are scalar rules of
:mod:`spfsim.schemes.pension_rules`. All are re-exported by :mod:`spfsim.schemes.db_pension`.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from . import pension_rules as rules

_survivor_scale = rules.cells(rules.survivor_scale)


PARTNER_MIN_AGE = 15  # persons younger have no partner, and nobody has a younger one


def partner_age_weights(age_difference, spread: float, n_ages: int = 101) -> np.ndarray:
    """(sex of a person, x, y): probability that the partner of a person aged x is aged
    y: x less ``age_difference`` (by sex) plus a deviation normally distributed with
    standard deviation ``spread`` (years), in whole years (0: exactly the difference).
    Only persons aged PARTNER_MIN_AGE or more have a partner, of that age or more; ages
    beyond the table fall into its last (open) age."""
    if spread > 0:
        half = int(np.ceil(4.0 * spread))
        offsets = np.arange(-half, half + 1)
        edges = (np.arange(-half, half + 2) - 0.5) / spread
        # the standard normal distribution function, Phi(z) = erfc(-z / sqrt 2) / 2
        weights = np.diff([0.5 * math.erfc(-z / math.sqrt(2.0)) for z in edges])
        weights /= weights.sum()
    else:
        offsets, weights = np.zeros(1, dtype=int), np.ones(1)
    ages = np.arange(PARTNER_MIN_AGE, n_ages)
    out = np.zeros((2, n_ages, n_ages))
    for sex in range(2):
        partner = np.clip(ages[:, None] - int(age_difference[sex]) + offsets[None, :],
                          PARTNER_MIN_AGE, n_ages - 1)
        np.add.at(out[sex], (np.repeat(ages, len(offsets)), partner.ravel()),
                  np.tile(weights, len(ages)))
    return out


def spouse_demand(population, married, weights) -> np.ndarray:
    """(age y, sex) partners of age y and that sex that the persons of the other sex claim:
    sum over x of ``married`` (by sex of the person) x ``weights`` (sex, x, y:
    :func:`partner_age_weights`) x ``population`` (age x, sex)."""
    claimed = np.einsum("s,sxy,xs->ys", np.asarray(married, dtype=float), weights,
                        population)
    return claimed[:, ::-1]  # the partners' sex is the other one


def children_by_mother_age(asfr, age_limit: int, child_scale=None) -> np.ndarray:
    """(x, k) expected children aged k = 0..age_limit - 1 of a woman aged x, born when she
    was x - 1 - k (:func:`expected_orphans`), each child age's times ``child_scale`` (k,)
    (:func:`children_scale`; None: 1)."""
    by_mother = expected_orphans(asfr, np.arange(len(asfr)), age_limit)[:, :age_limit]
    if child_scale is not None:
        by_mother = by_mother * np.asarray(child_scale)[:age_limit]
    return by_mother


def children_by_parent_age(asfr, weights, age_limit: int, child_scale=None,
                           linked=None) -> np.ndarray:
    """(sex of the parent, x, k) expected children aged k = 0..age_limit - 1 of a person
    aged x: a mother's born when she was x - 1 - k (:func:`expected_orphans`), a father's
    when their mother, his partner, aged y with probability ``weights`` (sex, x, y), was
    y - 1 - k; each child age's times ``child_scale`` (k,) (:func:`children_scale`; None:
    1). ``linked`` (group, sex, x, k), when given, are the parents' instead (the children
    linked to them at their birth: demography.partnerships.linked_children), as the
    children of those who leave a partner and of those who do not add them up
    (:func:`children_by_claim`)."""
    if linked is not None:  # (group, sex, x, k)
        by_claim = children_by_claim(np.asarray(linked, dtype=float)[..., :age_limit],
                                     weights)
        leaves = np.asarray(weights, dtype=float).sum(axis=-1)[..., None]
        return leaves * by_claim[0] + (1.0 - leaves) * by_claim[1]
    by_mother = children_by_mother_age(asfr, age_limit, child_scale)
    return np.stack([weights[0] @ by_mother, by_mother])


def children_scale(asfr, population, age_limit: int) -> np.ndarray:
    """(age_limit,) for each child age k, the children aged k in ``population`` (age, sex:
    male, female; both sexes) over those the women's current fertility rates give
    (sum over x of women aged x x asfr[x - 1 - k]), 1 where the rates give none: what the
    expected children of a parent (orphans, care credits) are scaled by so that they are
    the children there are, whatever the past's fertility and the children who died or
    migrated since."""
    population = np.asarray(population, dtype=float)
    n = max(age_limit, 0)
    if not nb.config.DISABLE_JIT:  # one compiled call (the projection asks it every year)
        out = np.empty(n)
        _children_scale(np.ascontiguousarray(asfr, dtype=np.float64),
                        np.ascontiguousarray(population), out)
        return out
    return _children_scale_arrays(asfr, population, n)


def _children_scale_arrays(asfr, population: np.ndarray, n: int) -> np.ndarray:
    """:func:`children_scale` as array algebra (the path with Numba's JIT off)."""
    by_child_age = np.ascontiguousarray(children_by_mother_age(asfr, n).T)  # (k, x)
    expected = by_child_age @ population[:, 1]
    there = population[:n].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected > 0, there / expected, 1.0)


@nb.njit(cache=True)
def _children_scale(asfr, population, out):
    """:func:`children_scale` into ``out`` (k,): the sums over the mothers' ages in
    turn."""
    for k in range(len(out)):
        expected = 0.0
        for x in range(population.shape[0]):
            expected += rules.orphan_probability(asfr, x, k) * population[x, 1]
        there = population[k, 0] + population[k, 1]
        out[k] = there / expected if expected > 0 else 1.0


def orphan_demand(population, children, p_male: float) -> np.ndarray:
    """(child age k, child sex, parent sex) children that the persons of each sex could
    leave orphaned: their expected children (``children``, :func:`children_by_parent_age`)
    x ``population`` (age, sex), split by the child's sex (``p_male`` boys)."""
    kids = np.einsum("sxk,xs->ks", children, population)
    return kids[:, None, :] * np.array([p_male, 1.0 - p_male])[None, :, None]


def availability(demand, free_next) -> np.ndarray:
    """Share of claimed survivors who exist (shape of ``demand``: age this year, then any
    axes): a survivor aged a this year is one of next year's persons aged min(a + 1, open
    age), and those are at most the persons of that cell who do not yet receive a
    survivor's pension (``free_next``, next year's age, then the same axes). Where the
    claims on a cell exceed them, every claim is scaled by free / claims; elsewhere 1.

    One rule for both engines (expected numbers, or the micro engine's persons): the
    surviving partner or orphan must be a person who exists, so survivors in payment
    never exceed the population of their age and sex."""
    demand = np.asarray(demand, dtype=float)
    n = demand.shape[0]
    into = np.minimum(np.arange(n) + 1, n - 1)
    claims = np.zeros_like(demand)
    add_a_year_older(claims, demand)
    free = np.maximum(np.asarray(free_next, dtype=float), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(claims > free, free / np.where(claims > 0, claims, 1.0), 1.0)
    return share[into]


def add_a_year_older(target: np.ndarray, values: np.ndarray) -> None:
    """Add ``values`` (age first) to ``target`` at the next age, min(age + 1, open age):
    ``np.add.at(target, into, values)`` in the same order, by slices (ufunc.at is slow)."""
    target[1:] += values[:-1]
    target[-1] += values[-1]


def expected_orphans(asfr, mother_age, age_limit: int) -> np.ndarray:
    """Expected children by age (0..age_limit) at the death of a parent whose child's
    mother is ``mother_age`` now (a number, or an array giving one row per age): a child
    aged k was born when she was about mother_age - 1 - k, at that age's fertility rate
    (:func:`pension_rules.orphan_probability`)."""
    mothers = np.asarray(mother_age)
    out = np.empty(mothers.size * (age_limit + 1))
    _orphans_by_age(np.ascontiguousarray(asfr, dtype=np.float64),
                    mothers.astype(np.int64).ravel(), age_limit, out)
    return out.reshape(*mothers.shape, age_limit + 1)


@nb.njit(cache=True)
def _orphans_by_age(asfr, mothers, age_limit, out):
    for i in range(len(mothers)):
        for k in range(age_limit + 1):
            out[i * (age_limit + 1) + k] = rules.orphan_probability(asfr, mothers[i], k)


def children_by_claim(linked, weights) -> np.ndarray:
    """(2, sex, x, k) a deceased's expected children aged k by whether they leave a
    partner: [0] of a parent aged x who leaves a partner here (probability the sum over y
    of the partner ``weights`` (sex, x, y)), [1] of one who does not; from the children
    linked to every parent and to a partnered parent, ``linked`` (group, sex, x, k)
    (demography.partnerships.linked_children). Taking a partnered person's children for
    the first keeps a man's children with his partner, as the family links do; the second
    is what is left of every parent's, so that the two add up to them."""
    linked = np.asarray(linked, dtype=float)
    leaves = np.asarray(weights, dtype=float).sum(axis=-1)[..., None]  # (sex, x, 1)
    rest = np.divide(np.maximum(linked[0] - leaves * linked[1], 0.0), 1.0 - leaves,
                     out=np.zeros_like(linked[0]), where=leaves < 1.0)
    return np.stack([linked[1], rest])


def capped_shares_by_claim(spouse_claim, leaves, children, spouse_share: float,
                           orphan_share: float, maximum_share: float
                           ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`capped_survivor_shares` of deaths whose children depend on whether they
    leave a partner: ``leaves`` (x,) the chance of leaving a partner, ``spouse_claim`` (x,)
    of a spouse's pension (at most ``leaves``), ``children`` (2, x, k) the children of
    one who leaves a partner and of one who does not (:func:`children_by_claim`). The
    expectation of the mixture: a man's children come with his partner, so the ceiling
    binds on a partner and several children together more often than if the two were
    independent."""
    leaves = np.asarray(leaves, dtype=float)
    given = np.divide(spouse_claim, leaves, out=np.zeros_like(leaves), where=leaves > 0)
    spouse, orphans = capped_survivor_shares(np.minimum(given, 1.0), children[0],
                                             spouse_share, orphan_share, maximum_share)
    _, alone = capped_survivor_shares(0.0, children[1], spouse_share, orphan_share,
                                      maximum_share)
    return leaves * spouse, leaves[:, None] * orphans + (1.0 - leaves)[:, None] * alone


def survivor_scale(total_share, maximum_share):
    """Factor applied to every survivor's share of one death: min(1, maximum / total), so
    that the shares add up to at most ``maximum_share`` (0: no ceiling;
    :func:`pension_rules.survivor_scale`)."""
    return _survivor_scale(total_share, maximum_share)


def capped_survivor_shares(married, children, spouse_share: float, orphan_share: float,
                           maximum_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Expected shares of the deceased's pension that go to the spouse and to each orphan,
    after the ceiling on their sum (:func:`survivor_scale`).

    ``married``: probability of leaving a spouse (a number, or one per row of
    ``children``); ``children``: (..., k) probability of a child of each age k
    (:func:`expected_orphans`), independent Bernoulli
    draws as in the micro engine, so the number of orphans is Poisson-binomial. Returns
    (spouse (...), orphans (..., k)): E[M x spouse_share x scale] and
    E[X_k x orphan_share x scale], where M and X_k are the indicators and scale depends on
    M and the number of orphans. Without a binding ceiling they are married x
    spouse_share and children x orphan_share.
    """
    children = np.asarray(children, dtype=float)
    married = np.broadcast_to(np.asarray(married, dtype=float), children.shape[:-1])
    spouse = np.array(married * spouse_share)  # arrays, even of one death
    orphans = children * orphan_share
    if maximum_share <= 0:
        return spouse, orphans
    # the ceiling can bind only where the spouse and every possible child exceed it
    binding = spouse_share + orphan_share * (children > 0).sum(axis=-1) > maximum_share
    if binding.any():
        spouse[binding], orphans[binding] = _capped_shares(
            married[binding], children[binding], spouse_share, orphan_share, maximum_share)
    return spouse, orphans


def _capped_shares(married, children, spouse_share: float, orphan_share: float,
                   maximum_share: float) -> tuple[np.ndarray, np.ndarray]:
    """capped_survivor_shares where the ceiling may bind (rows of ``children``): the
    compiled row loop, or with Numba's JIT off the same sums over whole arrays (the loop in
    Python would take minutes a projection)."""
    if nb.config.DISABLE_JIT:
        return _capped_shares_arrays(married, children, spouse_share, orphan_share,
                                     maximum_share)
    spouse = np.empty(children.shape[0])
    orphans = np.empty_like(children)
    _capped_rows(np.ascontiguousarray(married, dtype=np.float64),
                 np.ascontiguousarray(children, dtype=np.float64),
                 np.arange(children.shape[0]), float(spouse_share), float(orphan_share),
                 float(maximum_share), spouse, orphans)
    return spouse, orphans


@nb.njit(cache=True)
def _capped_rows(married, children, rows, spouse_share, orphan_share, maximum_share,
                 spouse, orphans):
    """Fill ``spouse`` (row) and ``orphans`` (row, k) for each of the ``rows`` of
    ``children`` (the others left as they are; indexed, not sliced: a view of an array
    made in a compiled loop costs a reference count each time): the expected ceiling's
    scale (:func:`pension_rules.survivor_scale`) over the number of orphans, a
    Poisson-binomial number built child by child, and for each child over the number of
    the others.

    Each child's expectation over the others is a forward-backward sum, all of it
    products of probabilities, no division (undoing a child's step of the distribution
    would divide, and lose digits where a child is nearly certain): ``value[i, a]`` is
    the expected scale of child i's orphans' pension when a of the children before it
    are orphaned, over those after it (built backwards, child by child), and child i's
    expectation is the sum over a of the distribution of the children before it, built
    forwards, times ``value[i, a]``. The forward distribution of all the children is the
    spouse's.

    Only the children a row may have (probability above zero) enter the distributions: a
    parent's possible children span the mother's fertile ages, often fewer than the
    child ages, and the others add nothing (and cannot be orphaned)."""
    n_kids = children.shape[1]
    possible = np.empty(n_kids)  # a row's children who may exist
    which = np.empty(n_kids, dtype=np.int64)
    # the ceiling's scale by the number of survivors: with a spouse, without one
    with_spouse, alone = np.empty(n_kids + 2), np.empty(n_kids + 2)
    for n in range(n_kids + 2):
        with_spouse[n] = rules.survivor_scale(spouse_share + orphan_share * n, maximum_share)
        alone[n] = rules.survivor_scale(orphan_share * n, maximum_share)
    before = np.empty(n_kids + 1)  # probability of n orphans among the children so far
    value = np.empty((n_kids, n_kids))  # (child i, orphans a before it)
    for row in rows:
        n_possible = 0
        for j in range(n_kids):
            orphans[row, j] = 0.0
            if children[row, j] > 0.0:
                possible[n_possible], which[n_possible] = children[row, j], j
                n_possible += 1
        m = married[row]
        if n_possible > 0:  # the last child: a orphans besides it, the spouse or not
            last = n_possible - 1
            for a in range(n_possible):
                value[last, a] = m * with_spouse[a + 1] + (1.0 - m) * alone[a + 1]
            for i in range(last, 0, -1):  # child i - 1's from child i's
                q = possible[i]
                for a in range(i):
                    value[i - 1, a] = value[i, a] * (1.0 - q) + value[i, a + 1] * q
        before[0] = 1.0
        for j in range(n_possible):
            p = possible[j]
            total = 0.0
            for a in range(j + 1):
                total += before[a] * value[j, a]
            orphans[row, which[j]] = p * orphan_share * total
            before[j + 1] = 0.0
            for n in range(j + 1, 0, -1):
                before[n] = before[n] * (1.0 - p) + before[n - 1] * p
            before[0] *= 1.0 - p
        total = 0.0
        for n in range(n_possible + 1):
            total += before[n] * with_spouse[n]
        spouse[row] = m * spouse_share * total


def _capped_shares_arrays(married, children, spouse_share: float, orphan_share: float,
                          maximum_share: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_capped_rows` over whole arrays (rows of ``children``) in NumPy."""
    n_kids = children.shape[-1]
    # distribution of the number of orphans, with every child and without child k
    counts = np.arange(n_kids + 1)
    others = np.zeros((*children.shape[:-1], n_kids + 1, n_kids + 1))  # (..., excluded, n)
    others[..., 0] = 1.0
    excluded = np.eye(n_kids + 1, n_kids, dtype=bool)  # row n_kids: nobody excluded
    for j in range(n_kids):
        p = np.where(excluded[:, j], 0.0, children[..., j, None])[..., None]
        others[..., 1:] = others[..., 1:] * (1.0 - p) + others[..., :-1] * p
        others[..., 0] *= 1.0 - p[..., 0]
    every = others[..., n_kids, :]  # (..., n)

    def scale(spouse: int, n: np.ndarray) -> np.ndarray:
        return survivor_scale(spouse * spouse_share + orphan_share * n, maximum_share)

    spouse = married * spouse_share * (every * scale(1, counts)).sum(axis=-1)
    with_child = (married[..., None] * scale(1, counts + 1)
                  + (1.0 - married[..., None]) * scale(0, counts + 1))  # (..., n)
    orphans = children * orphan_share * (others[..., :n_kids, :]
                                         * with_child[..., None, :]).sum(axis=-1)
    return spouse, orphans


@nb.njit(cache=True)
def spouses_beside_own_pensions(spouses, spouse_money, own, own_money, spread, shape):
    """(spouses counted, money paid) of one (age, sex) cell's spouses' pensions when only
    the higher of a survivor's and her own pension is paid (dual entitlement:
    :func:`pension_rules.survivor_above_own`). ``spouses`` and ``spouse_money``: the cell's
    spouses' pensions in payment (share of its persons, currency per person of it);
    ``own``, ``own_money`` (credited-service class): its old-age and disability pensioners
    (shares) and their pensions (currency per person of the cell); ``spread``: the log-sd of
    a survivor's pension around its mean (the cohort engine's amounts are means of cells
    and classes); ``shape`` (class, node): each class's own pensions relative to its mean,
    one per equal-probability node (mean 1 over a class's nodes:
    pension_rules.awards_at_levels; ones: every own pension at its class's mean).

    Survivors hold own pensions as the cell's persons do (being a survivor independent of
    one's own pension). Those with an own pension are counted in its branch, one person
    one beneficiary, as SSA counts a dually entitled retired worker (Annual Statistical
    Supplement, table 5.G1), and their survivor's top-up is paid in the survivors'
    branch; those without are counted and paid here in full."""
    if spouses <= 0.0:
        return 0.0, 0.0
    survivor = spouse_money / spouses
    without, topped_up = 1.0, 0.0
    nodes = shape.shape[1]
    for c in range(len(own)):
        if own[c] > 0.0:
            without -= own[c]
            mean = own_money[c] / own[c]
            above = 0.0
            for i in range(nodes):
                above += rules.survivor_above_own(survivor, mean * shape[c, i], spread)
            topped_up += own[c] * above / nodes
    without = max(without, 0.0)
    return spouses * without, spouses * (without * survivor + topped_up)
