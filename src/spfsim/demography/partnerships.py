"""Expected partnerships by the two partners' ages: the cohort-level twin of the micro
engine's families (:mod:`spfsim.engine.micro.families`).

The micro engine links persons into couples; a model's survivors' pensions, widowhood and
household structure follow from who is partnered to whom. The cohort engine has no persons,
so this module carries the expected number of couples ``C[x, y]`` with the woman aged x and
the man aged y, through the same events in the same order, on the demographic projection:

1. the base year: from nobody partnered, each age's single women form partnerships at the
   families table's ``partnered`` share (:func:`form`);
2. each year, to the persons of 1 July of the next year: a couple stays together when both
   partners stay in the population (survive and do not emigrate: the projection's cohort
   ratio of each partner's age and sex, at most 1, :func:`stay`), one year older;
3. couples separate with the mean of the two partners' ``separation`` rates;
4. single women form partnerships, aligned so that the expected share of women of each
   age living with a partner is the ``partnered`` share (the shortfall over the single
   women, as the micro engine's alignment), each with a single man whose age is hers plus a
   normal draw of mean ``partner_age_difference`` and sd ``partner_age_spread``, rounded;
   where that age's single men run out, the nearest ages with single men are tried, up to
   AGE_SEARCH years away, in the micro engine's order (the drawn age, +1, -1, +2, ...).

Both engines search in rounds: every woman forming asks at her drawn age, then those still
single at +1, and so on. The micro engine's women ask within a round in a random order, so
an age's single men go to a random choice of its askers; here the requests for an age are
granted in proportion when they exceed its single men, the expectation of that choice, and
what is not granted moves on to the next round.
Immigrant couples arriving together are not modelled (the alignment forms women's
partnerships to the same shares).

Used to check the micro engine's partnerships (tests/test_partnerships.py) and to give the
cohort engine, with a families table, each age's chance of leaving a partner and the
partner's age, a single person's chance of forming a partnership (which ends a spouse's
pension: :func:`project_partnerships`) and each parent's children linked to them at their
birth (:func:`linked_children`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

MAX_AGE = 100
MIN_PARTNER_AGE = 15  # the youngest age at which a partnership is formed (as the micro's)
AGE_SEARCH = 3  # years either side of the drawn partner's age searched for a single man
MALE, FEMALE = 0, 1


def partner_age_distribution(age, difference, spread) -> np.ndarray:
    """(..., MAX_AGE + 1) probability that a woman aged ``age`` draws a partner aged y: y =
    floor(age + difference + spread x z + 0.5), z standard normal, clipped to
    MIN_PARTNER_AGE..MAX_AGE (the micro engine's draw). Numbers or arrays of one shape."""
    ages = np.arange(MAX_AGE + 1)
    centre = np.asarray(age + np.asarray(difference, dtype=float))[..., None]
    spread = np.asarray(spread, dtype=float)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        cdf = np.where(spread > 0, ndtr((ages + 0.5 - centre) / spread),
                       (ages + 0.5 > centre).astype(float))  # P(drawn <= y)
    p = np.diff(cdf, axis=-1, prepend=0.0)
    p[..., MAX_AGE] += 1.0 - cdf[..., MAX_AGE]
    p[..., MIN_PARTNER_AGE] += p[..., :MIN_PARTNER_AGE].sum(axis=-1)
    p[..., :MIN_PARTNER_AGE] = 0.0
    return p


# the ages tried after the drawn one, as offsets: 0, +1, -1, +2, -2, ... (the micro's order)
_OFFSETS = [0] + [sign * step for step in range(1, AGE_SEARCH + 1) for sign in (1, -1)]


def form(couples: np.ndarray, women: np.ndarray, men: np.ndarray, partnered: np.ndarray,
         difference: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Form the year's partnerships into ``couples`` (women's age, men's age; in place):
    ``women``, ``men`` (age,) persons; ``partnered``, ``difference``, ``spread`` (age,) the
    families table's women's columns. Returns the couples formed (x, y)."""
    n = MAX_AGE + 1
    with_partner = couples.sum(axis=1)
    single_men = np.maximum(men - couples.sum(axis=0), 0.0)
    single_men[:MIN_PARTNER_AGE] = 0.0
    single_women = np.maximum(women - with_partner, 0.0)
    shortfall = np.maximum(partnered * women - with_partner, 0.0)
    forming = np.minimum(shortfall, single_women)
    forming[:MIN_PARTNER_AGE] = 0.0
    # each forming woman's drawn partner age, then the ages tried while single men last
    pending = forming[:, None] * partner_age_distribution(np.arange(n), difference, spread)
    formed = np.zeros((n, n))
    for offset in _OFFSETS:
        asked = np.zeros((n, n))  # (woman's age, man's age asked at this offset)
        lo, hi = max(MIN_PARTNER_AGE - offset, 0), min(MAX_AGE - offset, MAX_AGE) + 1
        asked[:, lo + offset:hi + offset] = pending[:, lo:hi]
        total = asked.sum(axis=0)
        granted = np.divide(np.minimum(total, single_men), total, out=np.zeros(n),
                            where=total > 0)
        formed += asked * granted[None, :]
        single_men -= total * granted
        pending[:, lo:hi] *= 1.0 - granted[lo + offset:hi + offset]
    couples += formed
    return formed


def stay(population: np.ndarray, next_population: np.ndarray) -> np.ndarray:
    """(age, sex) share of the persons of 1 July who are still in the population a year
    later, one year older: the projection's cohort ratio, at most 1 (deaths and emigrants;
    a cohort that grows by immigration loses no one). The open age group keeps its own
    and the last age's survivors."""
    ratio = np.ones_like(population, dtype=float)
    ratio[:-1] = np.divide(next_population[1:], population[:-1],
                           out=np.ones_like(population[:-1]), where=population[:-1] > 0)
    ratio[-2] = ratio[-1] = np.divide(
        next_population[-1], population[-2] + population[-1],
        out=np.ones(2), where=population[-2] + population[-1] > 0)
    return np.minimum(ratio, 1.0)


def age_couples(couples: np.ndarray, women_stay: np.ndarray, men_stay: np.ndarray
                ) -> np.ndarray:
    """The couples of next year: each stays with both partners' ``stay`` (age,), one year
    older (the open age group keeps its own)."""
    kept = couples * women_stay[:, None] * men_stay[None, :]
    out = np.zeros_like(couples)
    out[1:, 1:] = kept[:-1, :-1]
    out[-1, 1:] += kept[-1, :-1]
    out[1:, -1] += kept[:-1, -1]
    out[-1, -1] += kept[-1, -1]
    return out


def separate(couples: np.ndarray, separation: np.ndarray) -> None:
    """Couples separate (in place) with the mean of the woman's and the man's
    ``separation`` (age, sex) rates."""
    couples *= 1.0 - 0.5 * (separation[:, FEMALE][:, None] + separation[:, MALE][None, :])


def project_partnerships(population: np.ndarray, families: dict[str, np.ndarray]
                         ) -> tuple[np.ndarray, np.ndarray]:
    """The expected couples (year, women's age, men's age) of 1 July of each year, after
    the year's family events, and each single person's chance of forming a partnership
    in those events (year, age, sex; 0 in the base year, whose couples are formed from
    nobody partnered), on the projection's ``population`` (year, age, sex); ``families``
    the families table's (year, age, sex) columns (params.Assumptions.families).

    Single: living without a partner after the year's separations. The micro engine gives
    every single woman of an age the same chance and chooses among the single men of an
    age at random, so a widow, or a widower, forms a partnership with her or his age's
    chance (the end of a spouse's pension at a new partnership, engine.cohort_survivors)."""
    n_years = len(population)
    out = np.zeros((n_years, MAX_AGE + 1, MAX_AGE + 1))
    forming = np.zeros((n_years, MAX_AGE + 1, 2))
    couples = np.zeros((MAX_AGE + 1, MAX_AGE + 1))
    for k in range(n_years):
        women, men = population[k, :, FEMALE], population[k, :, MALE]
        if k:
            couples = age_couples(couples, *(stay(population[k - 1], population[k])[:, s]
                                             for s in (FEMALE, MALE)))
            separate(couples, families["separation"][k])
        single = np.stack([np.maximum(men - couples.sum(axis=0), 0.0),
                           np.maximum(women - couples.sum(axis=1), 0.0)], axis=-1)
        formed = form(couples, women, men, families["partnered"][k, :, FEMALE],
                      families["partner_age_difference"][k, :, FEMALE],
                      families["partner_age_spread"][k, :, FEMALE])
        if k:
            new = np.stack([formed.sum(axis=0), formed.sum(axis=1)], axis=-1)
            forming[k] = np.minimum(np.divide(new, single, out=np.zeros_like(new),
                                              where=single > 0), 1.0)
        out[k] = couples
    return out, forming


def project_couples(population: np.ndarray, families: dict[str, np.ndarray]) -> np.ndarray:
    """(year, women's age, men's age) expected couples of 1 July of each year, after the
    year's family events (:func:`project_partnerships`)."""
    return project_partnerships(population, families)[0]


def linked_children(couples: np.ndarray, population: np.ndarray, asfr: np.ndarray,
                    base_children: np.ndarray, forming: np.ndarray | None = None,
                    separation: np.ndarray | None = None) -> np.ndarray:
    """(year, group, sex of the parent, x, k) the expected children aged k linked to a
    parent aged x at 1 July of each year: group 0 per person aged x of that sex, group 1
    per such person living with a partner. These are the micro engine's mother and father
    links, which a child keeps whatever becomes of its parents' partnership, until that
    parent dies or leaves (the link is then cleared, and the child is no longer that
    parent's to be orphaned by).

    - Base year: a child's mother is drawn among the women of the age its fertility makes
      likely and its father is her partner (families.initial_families): the children of a
      woman aged m ``base_children`` (m, k) (the survivors' expected children of a mother,
      schemes.survivors.children_by_parent_age), a man's over ``couples`` [0].
    - Each later year, the children of the year before stay with their parent's and their
      own chance of staying (:func:`stay`), one year older; the newborns (age 0) are
      linked to their mother and to the partner she had when they were born
      (engine.micro.families.link_newborns): the children aged 0 there are, shared by the
      births each woman of age m has (the micro engine's rate: half her age's ``asfr`` and,
      if she stays, half the next age's), the mother's when she stays, the father's over
      the partner's age in the year's ``couples`` when he stays.
    - The partnered parents' children (group 1) follow the parents through the year's
      family events (:func:`project_partnerships`): a parent whose partner leaves, and a
      couple that separates (``separation`` (year, age, sex), the mean of the partners'
      rates), take theirs to the single; a single parent who forms a partnership
      (``forming`` (year, age, sex)) brings theirs. A father's newborns are a partnered
      father's; a mother's, partnered or not, in her age's share (births do not depend on
      the partnership). Without ``forming`` and ``separation``: no such events.

    A child whose mother died or left has no mother here: the mothers' children are fewer
    than the children there are (on the default model 3 % fewer by 2040, as in the micro
    engine), where the survivors' expectation from the mothers' fertility alone counts them
    all. A man's children are nearly all a partnered man's, so a father who dies leaves a
    partner and several children together more often than independent chances would say
    (the survivors' ceiling: schemes.survivors.capped_survivor_shares).
    ``couples`` (year, women's age, men's age) (:func:`project_partnerships`),
    ``population`` (year, age, sex), ``asfr`` (year, age). Immigrant children arriving
    with a parent are not counted (as immigrant couples are not, :func:`form`)."""
    n_years, limit = len(population), base_children.shape[1]
    out = np.zeros((n_years, 2, 2, MAX_AGE + 1, limit))
    if limit == 0:
        return out
    # (group: every parent, the partnered; parent's sex, parent's age, child's age)
    linked = np.zeros((2, 2, MAX_AGE + 1, limit))
    linked[:, MALE] = couples[0].T @ base_children
    linked[0, FEMALE] = population[0, :, FEMALE, None] * base_children
    linked[1, FEMALE] = couples[0].sum(axis=1)[:, None] * base_children
    no_events = np.zeros((MAX_AGE + 1, 2))
    for k in range(n_years):
        if k:
            events = (no_events if separation is None else separation[k],
                      no_events if forming is None else forming[k])
            linked = _a_year_of_links(linked, population[k - 1], population[k], asfr[k - 1],
                                      couples[k - 1], *events, limit)
        partnered = np.stack([couples[k].sum(axis=0), couples[k].sum(axis=1)])  # (sex, age)
        for group, persons in enumerate((population[k].T, partnered)):
            out[k, group] = np.divide(linked[group], persons[:, :, None],
                                      out=np.zeros_like(linked[group]),
                                      where=persons[:, :, None] > 0)
    return out


def _a_year_of_links(linked: np.ndarray, before: np.ndarray, now: np.ndarray,
                     asfr: np.ndarray, couples: np.ndarray, separation: np.ndarray,
                     forming: np.ndarray, limit: int) -> np.ndarray:
    """:func:`linked_children`'s year: the links (group, sex, x, k) of 1 July a year later,
    from those of ``before`` and the year's ``couples``; ``separation`` and ``forming``
    (age, sex): the year's family events."""
    staying = stay(before, now)  # (age, sex)
    children = before[:limit].sum(axis=1)
    child_stay = np.minimum(np.divide(now[1:limit + 1].sum(axis=1), children,
                                      out=np.ones(limit), where=children > 0), 1.0)
    kept = linked * staying.T[None, :, :, None] * child_stay[None, None, None, :]
    out = np.zeros_like(linked)
    out[..., 1:, 1:] = kept[..., :-1, :-1]
    out[..., -1, 1:] += kept[..., -1, :-1]
    next_rate = np.append(asfr[1:], 0.0)
    births = 0.5 * (asfr + next_rate * staying[:, FEMALE])  # a woman's, by her age m
    all_births = float(births @ before[:, FEMALE])
    with_partner = np.stack([couples.sum(axis=0), couples.sum(axis=1)])  # (sex, age)
    if all_births > 0:
        by_parent = np.empty((2, 2, MAX_AGE + 1))
        by_parent[:, MALE] = (births @ couples) * staying[:, MALE]
        # a mother who dies or leaves in the year keeps no link: her births if she stays
        by_parent[0, FEMALE] = (0.5 * (asfr + next_rate) * staying[:, FEMALE]
                                * before[:, FEMALE])
        by_parent[1, FEMALE] = by_parent[0, FEMALE] * np.divide(
            with_partner[FEMALE], before[:, FEMALE], out=np.zeros(MAX_AGE + 1),
            where=before[:, FEMALE] > 0)
        newborn = float(now[0].sum()) / all_births * by_parent
        out[..., 1:, 0] = newborn[..., :-1]
        out[..., -1, 0] += newborn[..., -1]
    # a partnered parent whose partner left is single: the share of each age's couples
    # whose partner stays, one year older
    partner_stays = np.stack([couples.T @ staying[:, FEMALE], couples @ staying[:, MALE]])
    keeps = np.divide(partner_stays, with_partner, out=np.ones_like(partner_stays),
                      where=with_partner > 0)
    out[1, :, 1:] *= keeps[:, :-1, None]
    aged = age_couples(couples, staying[:, FEMALE], staying[:, MALE])
    rate = 0.5 * (separation[:, FEMALE][:, None] + separation[:, MALE][None, :])
    pairs = np.stack([aged.sum(axis=0), aged.sum(axis=1)])
    separated = np.stack([(aged * rate).sum(axis=0), (aged * rate).sum(axis=1)])
    out[1] *= 1.0 - np.divide(separated, pairs, out=np.zeros_like(pairs),
                              where=pairs > 0)[:, :, None]
    out[1] += (out[0] - out[1]) * forming.T[:, :, None]
    return out


def partnered_shares(couples: np.ndarray, population: np.ndarray) -> np.ndarray:
    """(..., age, sex) share of each age and sex living with a partner, from ``couples``
    (..., x, y) and ``population`` (..., age, sex)."""
    with_partner = np.stack([couples.sum(axis=-2), couples.sum(axis=-1)], axis=-1)
    return np.divide(with_partner, population, out=np.zeros_like(with_partner),
                     where=population > 0)


def partner_weights(couples: np.ndarray, population: np.ndarray,
                    next_population: np.ndarray | None) -> np.ndarray:
    """(sex of a person, x, y): the probability that a person aged x of the sex, at 1 July,
    lives with a partner aged y who is still in the population a year later (:func:`stay`),
    from the year's ``couples`` (x, y) and ``population`` (age, sex) and the next year's:
    the survivors' pensions a death leaves (schemes.survivors, with a married share of 1).
    Summed over y, a person's chance of leaving a partner. ``next_population`` None: a
    partner aged y at 1 July, whatever becomes of them (a living pensioner's dependent
    spouse, schemes.dependants)."""
    staying = (np.ones_like(population, dtype=float) if next_population is None
               else stay(population, next_population))
    out = np.zeros((2, MAX_AGE + 1, MAX_AGE + 1))
    men, women = population[:, MALE], population[:, FEMALE]
    out[MALE] = np.divide(couples.T, men[:, None], out=np.zeros_like(couples),
                          where=men[:, None] > 0) * staying[None, :, FEMALE]
    out[FEMALE] = np.divide(couples, women[:, None], out=np.zeros_like(couples),
                            where=women[:, None] > 0) * staying[None, :, MALE]
    return out
