"""Dependants' benefits of living pensioners in expectation: the supplements a contributory
pension pays for the spouse and the children of an old-age or disability pensioner.

Many schemes pay them: increments of the pension for a dependent wife and children (ILO
C102 measures its old-age benefit for "a man with wife of pensionable age" and its
invalidity benefit for a man with wife and two children: the Schedule to its Part XI), or
benefits paid to the dependants themselves (US Social Security: a spouse aged 62 or over
and each child below 18 receive up to half of the worker's primary insurance amount, sec.
202(b)-(d) of the Social Security Act, all of them together within the family maximum,
sec. 203(a)). A dependent spouse is a partner aged ``dependant_spouse_age`` or more of a
pensioner, a dependent child a child aged up to
``orphan_age_limit`` (the orphans' limit, which the law sets alike: sec. 202(d)(1)); each
receives its share of the pensioner's pension, the shares of one pensioner's dependants
capped together at ``dependants_maximum_share`` (the family maximum less the pensioner's
own pension).

Who they are follows the survivors' branch's rules (:mod:`.survivors`), for the living
instead of the dead: a pensioner aged x has a partner aged y with probability
``married`` x the partner-age weight, children by the mother's past fertility; each claim
is scaled by the share of such persons who exist and do not receive a survivor's pension
(a person with a survivor's pension has no living partner), so that dependants and
survivors together never exceed the population of their age and sex; the ceiling's
expected scale is that of a Poisson-binomial number of children
(:func:`~.survivors.capped_survivor_shares`). The year's dependants are those of the
pensioners in payment at its start, at their pensions of the year.

Both engines use :func:`dependants_of_pensioners`: the cohort engine for its expected
numbers, the micro engine for each cell's chance that a person is a dependant and the
cell's mean supplement (engine.micro.dependants), which it pays person by person. A
dependent spouse's supplement under dual entitlement (``survivor_with_own_pension =
"higher"``) is paid only above her own pension, as a survivor's is
(:func:`~.survivors.spouses_beside_own_pensions`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .survivors import capped_survivor_shares


class Dependants(NamedTuple):
    """Dependants of a year's pensioners by their own (age, sex): spouses and children
    (persons) and the supplements paid to them (currency per year)."""

    spouses: np.ndarray
    spouse_money: np.ndarray
    children: np.ndarray
    child_money: np.ndarray


def dependants_of_pensioners(pensioners: np.ndarray, pension_money: np.ndarray,
                             free: np.ndarray, population: np.ndarray, married: np.ndarray,
                             weights: np.ndarray, children: np.ndarray, p_male: float,
                             spouse_share: float, child_share: float, maximum_share: float,
                             spouse_age: int) -> Dependants:
    """The expected dependants of ``pensioners`` (age x, sex: persons with an old-age or
    disability pension in payment) whose pensions add up to ``pension_money`` (x, sex;
    currency per year), among the persons ``free`` (age, sex) who may be one (here and
    without a survivor's pension) of the ``population`` (age, sex).

    ``married`` (sex,): the chance that a pensioner of that sex has a partner;
    ``weights`` (sex, x, y): that the partner of one aged x is aged y
    (schemes.survivors.partner_age_weights); ``children`` (sex, x, k): a person's expected
    children aged k = 0 .. limit (schemes.survivors.children_by_parent_age), ``p_male``
    of them boys. A spouse aged ``spouse_age`` or more receives ``spouse_share`` of the
    pension, each child ``child_share``, one pensioner's together capped at
    ``maximum_share`` (0: no ceiling). Claims on a cell beyond its free persons are
    scaled down to them.

    A child of two pensioner parents is one dependant, paid on one parent's pension (the
    law pays the higher benefit): each parent's claims on the children aged k are scaled
    by 1 - m f / (m + f), m and f the chances that a child's mother and father are
    pensioners (their pensioners' children over all the children of their sex's parents,
    the two taken independent), so that the children claimed are those with at least one
    pensioner parent; such a child is paid the mean of the two supplements rather than
    the higher."""
    n = free.shape[0]
    free = np.maximum(np.asarray(free, dtype=float), 0.0)
    married = np.asarray(married, dtype=float)
    eligible = np.asarray(weights, dtype=float) * (np.arange(n) >= spouse_age)
    spouse_ok = _available(np.einsum("s,sxy,xs->ys", married, eligible,
                                     pensioners)[:, ::-1], free)  # (y, sex of the spouse)
    limit = children.shape[-1]
    children = children * _once(children, pensioners, population)[None, None, :]
    child_sex = np.array([p_male, 1.0 - p_male])
    kid_claims = np.einsum("sxk,xs->k", children, pensioners)[:, None] * child_sex
    child_ok = _available(kid_claims, free[:limit])  # (k, child's sex)
    out = Dependants(*(np.zeros((n, 2)) for _ in range(4)))
    for sex in range(2):
        partner = eligible[sex] * spouse_ok[None, :, 1 - sex]  # (x, y) partners who exist
        reach = partner.sum(axis=1)
        kids_by_sex = children[sex][..., None] * (child_sex * child_ok)  # (x, k, c)
        kids = kids_by_sex.sum(axis=-1)
        spouse_part, child_part = capped_survivor_shares(
            married[sex] * reach, kids, spouse_share, child_share, maximum_share)
        if spouse_share > 0:
            with np.errstate(divide="ignore", invalid="ignore"):
                where_to = np.where(reach[:, None] > 0, partner / reach[:, None], 0.0)
            out.spouses[:, 1 - sex] += (pensioners[:, sex] * married[sex]) @ partner
            out.spouse_money[:, 1 - sex] += (spouse_part * pension_money[:, sex]) @ where_to
        if child_share > 0 and limit:
            split = kids_by_sex.sum(axis=0) / np.maximum(kids.sum(axis=0), 1e-300)[:, None]
            out.children[:limit] += np.einsum("x,xkc->kc", pensioners[:, sex], kids_by_sex)
            out.child_money[:limit] += (pension_money[:, sex] @ child_part)[:, None] * split
    return out


def _once(children: np.ndarray, pensioners: np.ndarray, population: np.ndarray) -> np.ndarray:
    """(k,) the factor on both parents' claims that counts a child of two pensioner
    parents once: 1 - m f / (m + f), m (f) the share of the children aged k whose mother
    (father) is a pensioner (:func:`dependants_of_pensioners`)."""
    claimed = np.einsum("sxk,xs->sk", children, pensioners)
    everyone = np.einsum("sxk,xs->sk", children, population)
    share = np.divide(claimed, everyone, out=np.zeros_like(claimed), where=everyone > 0)
    either = share.sum(axis=0)
    both = share[0] * share[1]
    return 1.0 - np.divide(both, either, out=np.zeros_like(both), where=either > 0)


def _available(claims: np.ndarray, free: np.ndarray) -> np.ndarray:
    """The share of the ``claims`` on each cell that its ``free`` persons can meet: free /
    claims where the claims exceed them, 1 elsewhere (schemes.survivors.availability,
    without its year's ageing: a dependant is one of this year's persons)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(claims > free, free / np.where(claims > 0, claims, 1.0), 1.0)


__all__ = ["Dependants", "dependants_of_pensioners"]
