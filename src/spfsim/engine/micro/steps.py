"""The micro engine's steps between two years' kernels: the year's entrants (immigrants,
then newborns) and the survivors' pensions of the year's deaths."""

from __future__ import annotations

import numpy as np

from ...errors import SpfsimError
from ...schemes import db_pension as dbp
from ..cohort import SurvivorRules
from ..cohort_survivors import child_scale, children_by_claim_of
from . import families as F
from . import kernels as K
from .store import MAX_ID, PersonStore


def _award_survivors(population, rules: SurvivorRules, persons: np.ndarray,
                     free: np.ndarray, seed: int, year: int) -> None:
    """Survivors' pensions of this year's flagged deaths, to persons of next year's cells
    (after the step and the entrants): claims are scaled by the share of such persons who
    exist and have no survivor's pension yet, ``free`` (age, sex), against the simulated
    ``persons`` (age, sex) at the start of the year (schemes.db_pension.availability,
    as in the cohort engine); kernels.claims_of_deaths draws them (``population``: a
    population.Population or its shards, which give them in the order of the deceased's
    ids), kernels.survivor_ranks picks the ranks of the persons who get them among each
    cell's free persons and the population gives them (kernels.give_claims). With the
    partners from the families (``rules.linked``) and family links, the deceased's own
    partner and children are paid instead (kernels.linked_survivors)."""
    if rules.linked and getattr(population, "families", False):
        population.linked_survivors(rules)
        return
    free = free.astype(float)
    weights, limit = rules.partner_weights, rules.orphan_age_limit
    scale = np.ones(max(limit, 1))
    scale[:limit] = child_scale(rules)
    spouse_ok = dbp.availability(dbp.spouse_demand(persons, rules.married, weights), free)
    orphan_ok = np.ones((max(limit, 1), 2, 2))
    if rules.orphan_share > 0 and limit > 0:
        demand = np.zeros((len(persons), 2, 2))
        demand[:limit] = dbp.orphan_demand(
            persons, dbp.children_by_parent_age(rules.asfr, weights, limit, scale[:limit],
                                                rules.linked_children), rules.p_male)
        orphan_ok = np.ascontiguousarray(dbp.availability(demand, free[:, :, None])[:limit])
    claim_rules = {
        "spouse_share": rules.spouse_share, "orphan_share": rules.orphan_share,
        "orphan_age_limit": limit, "married": np.asarray(rules.married, float),
        # with the partners from the families the weights add up to the chance of having
        # a partner, and a draw beyond them leaves none
        "partner_cumulative": np.cumsum(weights, axis=-1),
        "spouse_available": np.ascontiguousarray(spouse_ok), "orphan_available": orphan_ok,
        "asfr": rules.asfr, "child_scale": scale, "linked": children_by_claim_of(rules),
        "p_male": rules.p_male,
        "maximum_share": rules.maximum_share}
    _, cells, kinds, amounts = population.survivor_claims(seed, year, claim_rules)
    ranks = K.survivor_ranks(seed, year, np.ascontiguousarray(free, dtype=np.int64), cells,
                             len(cells))
    population.award(ranks, kinds, amounts)


def _arriving_mothers(next_id, seed, year, immigrants, asfr, permanent_sd, benefits):
    """The year's immigrants (kernels.add_immigrants, ids from ``next_id``) by (age, sex),
    and the benefits of the mothers among them (kernels.arriving_mothers_benefits), all
    counted in one scratch store whatever the shards that hold them."""
    room = int(np.where(immigrants > 0, np.floor(immigrants) + 1, 0).sum())
    scratch = PersonStore.empty(max(room, 1))
    flags = np.zeros(max(room, 1), dtype=np.int8)
    size, _, added = K.add_immigrants(
        scratch.pid, scratch.status, scratch.age, scratch.sex, scratch.birth_year,
        scratch.earnings_factor, flags, 0, next_id, seed, year, immigrants, asfr,
        permanent_sd)
    return added, K.arriving_mothers_benefits(scratch.pid, scratch.age, flags, 0, size, seed,
                                              benefits.codes, benefits.probability,
                                              benefits.amount)


def _add_entrants(run, k, year, immigrants, benefits) -> None:
    """Immigrants (and the benefits of those who give birth during the step: ``benefits``,
    the year's records.Benefits), then the babies born during the step (ids in a fixed
    order: immigrants by cell, then one baby per flagged mother)."""
    demo, assumptions, settings, out = run.demo, run.assumptions, run.settings, run.out
    seed, permanent_sd, asfr = settings.seed, settings.permanent_sd, assumptions.asfr[k]
    expected_births = demo.births[k] / run.weight
    room = (int(immigrants.sum()) + 2 * len(immigrants) * 2
            + int(expected_births.sum() * 1.5) + 1024)
    if run.next_id + room > MAX_ID:
        raise SpfsimError(f"the micro engine's person ids would pass {MAX_ID:,} in {year}: "
                          "simulate fewer persons")
    added, mothers = _arriving_mothers(run.next_id, seed, year, immigrants, asfr,
                                       permanent_sd, benefits)
    out.record_arriving_mothers(k, *mothers)
    tables = (F.year_tables(assumptions.families, min(k + 1, assumptions.n_years - 1))
              if run.families else None)
    births_pending = run.population.add_immigrants(run.next_id, seed, year, immigrants, asfr,
                                                   permanent_sd, room, tables)
    first = run.next_id + int(added.sum())
    survival_birth = demo.survival[k][0]
    newborn_migrants = demo.net_migration[k][0] * (1.0 + survival_birth) / 2.0 / run.weight
    with np.errstate(divide="ignore", invalid="ignore"):
        p_newborn = np.where(newborn_migrants < 0, -newborn_migrants
                             / np.maximum(expected_births * survival_birth, 1e-300), 0.0)
    srb = float(assumptions.srb[k])
    births, deaths, emigrants = run.population.add_newborns(
        first, births_pending, seed, year, srb / (1.0 + srb), survival_birth,
        np.clip(p_newborn, 0.0, 1.0), permanent_sd)
    run.next_id = first + births_pending
    out.record_entrants(k, added, births, deaths, emigrants)
