"""The micro engine's steps between two years' kernels: the year's entrants (immigrants,
then newborns) and the survivors' pensions of the year's deaths."""

from __future__ import annotations

import numpy as np

from ...schemes import db_pension as dbp
from ..cohort import SurvivorRules
from . import kernels as K
from .outputs import _Buffers
from .store import PersonStore


def _award_survivors(store: PersonStore, buffers: _Buffers, rules: SurvivorRules,
                     population: np.ndarray, free: np.ndarray, seed: int,
                     year: int) -> None:
    """Survivors' pensions of this year's flagged deaths, to persons of next year's cells
    (after the step and the entrants): claims are scaled by the share of such persons who
    exist and have no survivor's pension yet, ``free`` (age, sex), against the simulated
    ``population`` (age, sex) at the start of the year (schemes.db_pension.availability,
    as in the cohort engine); kernels.survivor_claims draws them and
    kernels.award_survivors gives them to persons."""
    free = free.astype(float)
    weights, limit = rules.partner_weights, rules.orphan_age_limit
    spouse_ok = dbp.availability(dbp.spouse_demand(population, rules.married, weights), free)
    orphan_ok = np.ones((max(limit, 1), 2, 2))
    if rules.orphan_share > 0 and limit > 0:
        demand = np.zeros((len(population), 2, 2))
        demand[:limit] = dbp.orphan_demand(
            population, dbp.children_by_parent_age(rules.asfr, weights, limit), rules.p_male)
        orphan_ok = np.ascontiguousarray(dbp.availability(demand, free[:, :, None])[:limit])
    most = int(np.count_nonzero(buffers.death_flag[:store.size])) * (1 + limit)
    cells, kinds = np.empty(most, dtype=np.int64), np.empty(most, dtype=np.uint8)
    amounts = np.empty(most)
    claims = K.survivor_claims(
        store.pid, store.age, store.sex, store.pension, buffers.death_flag, store.size, seed,
        year, rules.spouse_share, rules.orphan_share, limit, np.asarray(rules.married, float),
        np.cumsum(weights, axis=-1), np.ascontiguousarray(spouse_ok), orphan_ok, rules.asfr,
        rules.p_male, rules.maximum_share, cells, kinds, amounts)
    K.award_survivors(store.pid, store.status, store.age, store.sex, store.survivor_kind,
                      store.survivor_pension, store.size, seed, year,
                      np.ascontiguousarray(free, dtype=np.int64), cells, kinds, amounts,
                      claims)


def _add_entrants(store, buffers, demo, assumptions, settings, k, year, immigrants, weight,
                  out, benefits) -> None:
    """Immigrants (and the benefits of those who give birth during the step: ``benefits``,
    the year's records.Benefits), then the babies born during the step (ids in a fixed
    order)."""
    expected_births = demo.births[k] / weight
    store.reserve(int(immigrants.sum()) + 2 * len(immigrants) * 2
                  + int(expected_births.sum() * 1.5) + 1024)
    buffers.fit(store.capacity)
    first = store.size
    store.size, store.next_id, added = K.add_immigrants(
        store.pid, store.status, store.age, store.sex, store.birth_year,
        store.earnings_factor, buffers.birth_flag, store.size, store.next_id, settings.seed,
        year, immigrants, assumptions.asfr[k], settings.permanent_sd)
    out.record_arriving_mothers(k, *K.arriving_mothers_benefits(
        store.pid, store.age, buffers.birth_flag, first, store.size, settings.seed,
        benefits.codes, benefits.probability, benefits.amount))
    births_pending = int(np.count_nonzero(buffers.birth_flag[:store.size]))
    store.reserve(births_pending)
    buffers.fit(store.capacity)
    survival_birth = demo.survival[k][0]
    newborn_migrants = demo.net_migration[k][0] * (1.0 + survival_birth) / 2.0 / weight
    with np.errstate(divide="ignore", invalid="ignore"):
        p_newborn = np.where(newborn_migrants < 0, -newborn_migrants
                             / np.maximum(expected_births * survival_birth, 1e-300), 0.0)
    srb = float(assumptions.srb[k])
    store.size, store.next_id, births, deaths, emigrants = K.add_newborns(
        store.pid, store.status, store.age, store.sex, store.birth_year,
        store.earnings_factor, buffers.birth_flag, store.size, store.next_id, settings.seed,
        year, srb / (1.0 + srb), survival_birth, np.clip(p_newborn, 0.0, 1.0),
        settings.permanent_sd)
    out.record_entrants(k, added, births, deaths, emigrants)
