"""The micro engine's persons split across Dask workers, with the results of one process.

Each worker holds a shard of the persons: those whose id's page (id // ``page``) is the
shard's index modulo the number of shards (store.owns), so that every year's entrants,
whose ids are consecutive, are spread over the shards page by page. A shard is a
:class:`~.population.Population` kept on its worker by a Dask actor; the engine's year
(:func:`.engine._year`) runs unchanged on a :class:`ShardedPopulation`, which asks every
shard for its part and adds the parts up.

Why the result is bitwise that of one process, for any number of workers:

- every random number is keyed by a person's id (or a cell's), never by where a person is
  held or in which order persons are processed;
- everything the year's targets are computed from is integers (counts, money in int64 fixed
  point, lifetime totals in fixed point too), whose sum over shards is the whole's;
- what depends on the persons' order follows their ids, which are the order of the
  single-process store: babies' ids need only the number of mothers; survivors' claims are
  merged in the order of the deceased's ids, and a person's rank among its cell's free
  persons adds, to its rank in its own page, the free persons of the pages before
  (kernels.eligible_counts, kernels.give_claims);
- the immigrants' mothers' benefits, a sum of floats, are counted once, by the engine, over
  all the year's immigrants (steps._arriving_mothers), as in one process;
- compaction happens in the same years (the share of slots empty is the whole's);
- exact alignment: each cell's expected number of deaths and contributors is made of
  counts (kernels.alignment_counts), and its chosen persons, those of smallest (key, id),
  are found from each shard's candidates, the cell's wanted smallest keys there
  (kernels.alignment_thresholds).
"""

from __future__ import annotations

import os
from collections import Counter

import numba as nb
import numpy as np

from ...errors import SpfsimError
from . import kernels as K
from .initial import _initial_store
from .population import Population
from .store import PersonStore

PAGES_PER_SHARD = 8  # id pages per shard in the base population


class _Shard:
    """A Dask actor: one shard of the persons, built on its worker."""

    def __init__(self, assumptions, settings, state, person_file, capacity, n_rules,
                 n_groups, shard, neighbours=1):
        # Numba's threads of the shards on one machine share its cores
        self.threads = max(1, min(nb.config.NUMBA_NUM_THREADS,
                                  (os.cpu_count() or 1) // max(neighbours, 1)))
        with np.errstate(over="ignore"):
            store, self.synthetic_cells, sources = _initial_store(
                assumptions, settings, state, capacity, person_file, shard)
        self.population = Population(store, settings.chunk_size, n_rules, n_groups, shard,
                                     sources)

    def call(self, method: str, *args):
        """Population.``method``(*args) on this shard."""
        nb.set_num_threads(self.threads)  # per calling thread
        # the random-number hash wraps 64-bit integers on purpose (see engine.run_micro)
        with np.errstate(over="ignore"):
            return getattr(self.population, method)(*args)

    def synthetic(self) -> int:
        return self.synthetic_cells

    def persons(self) -> int:
        """The base year's persons of the whole population (ids 0..persons - 1)."""
        return self.population.store.next_id


def page_size(persons: int, shards: int) -> int:
    """Persons per id page: PAGES_PER_SHARD pages per shard of the base population."""
    return max(1, -(-persons // (PAGES_PER_SHARD * shards)))


class ShardedPopulation:
    """The persons split over a Dask cluster's workers, one shard (a Dask actor holding a
    population.Population) each; the methods are the Population's, whose results they add
    up over the shards."""

    def __init__(self, actors: list, page: int, next_id: int, synthetic_cells: int):
        self.actors, self.page, self.next_id = actors, page, next_id
        self.synthetic_cells = synthetic_cells
        self.size = next_id
        self._futures: list = []  # the actors' futures: the actors live as long as these

    @classmethod
    def start(cls, client, assumptions, settings, state, person_file, capacity: int,
              n_rules: int, n_groups: int) -> ShardedPopulation:
        """One shard on each worker of ``client``'s cluster, built there."""
        info = client.scheduler_info()["workers"]
        workers = sorted(info)
        if not workers:
            raise SpfsimError("the Dask cluster has no workers")
        hosts = Counter(info[address].get("host") for address in workers)
        shards, page = len(workers), page_size(settings.persons, len(workers))
        inputs = client.scatter([assumptions, state, person_file], broadcast=True)
        futures = [client.submit(_Shard, *inputs[:1], settings, *inputs[1:],
                                 capacity // shards + 1024, n_rules, n_groups,
                                 (page, shards, index), hosts[info[address].get("host")],
                                 actor=True, workers=[address],
                                 allow_other_workers=False, pure=False)
                   for index, address in enumerate(workers)]
        actors = [future.result() for future in futures]
        population = cls(actors, page, actors[0].persons().result(),
                         actors[0].synthetic().result())
        population._futures = futures
        return population

    def _all(self, method: str, *args) -> list:
        """Population.``method``(*args) on every shard, at once; their results in shard
        order."""
        calls = [actor.call(method, *args) for actor in self.actors]
        return [call.result() for call in calls]

    def count_states(self, *args) -> np.ndarray:
        return sum(self._all("count_states", *args))

    def pensioners_at_start(self, *args) -> np.ndarray:
        return sum(self._all("pensioners_at_start", *args))

    def alignment_counts(self, *args) -> np.ndarray:
        return sum(self._all("alignment_counts", *args))

    def source_units(self, *args) -> tuple[np.ndarray, np.ndarray]:
        """Population.source_units over the shards: a record or unit is marked when any
        shard holds a clone of it."""
        parts = self._all("source_units", *args)
        return (np.maximum.reduce([p[0] for p in parts]),
                np.maximum.reduce([p[1] for p in parts]))

    def align(self, seed: int, year: int, probabilities: dict, wanted: np.ndarray,
              never_share: np.ndarray) -> None:
        """Exact alignment: every shard's candidates (each cell's wanted smallest keys)
        give each cell's threshold, with which every shard chooses its persons."""
        parts = self._all("alignment_candidates", seed, year, probabilities, wanted,
                          never_share)
        thresholds = [K.alignment_thresholds(
            *(np.concatenate([part[kind][j] for part in parts]) for j in range(3)),
            wanted[kind]) for kind in range(2)]
        self._all("choose", thresholds)

    def year_step(self, *args) -> dict[str, np.ndarray]:
        parts = self._all("year_step", *args)
        return {name: sum(part[name] for part in parts) for name in parts[0]}

    def add_immigrants(self, *args) -> int:
        return sum(self._all("add_immigrants", *args))

    def add_newborns(self, first_id: int, n: int, *args):
        parts = self._all("add_newborns", first_id, n, *args)
        self.next_id = first_id + n
        return tuple(sum(part[j] for part in parts) for j in range(3))

    def survivor_claims(self, seed: int, year: int, rules: dict):
        """Every shard's claims, in the order of the deceased's ids (a shard's own are in
        that order already; one deceased's claims keep theirs)."""
        parts = self._all("survivor_claims", seed, year, rules)
        deaths, cells, kinds, amounts = (np.concatenate([part[j] for part in parts])
                                         for j in range(4))
        order = np.argsort(deaths, kind="stable")
        return deaths[order], cells[order], kinds[order], amounts[order]

    def award(self, ranks: tuple, kinds: np.ndarray, amounts: np.ndarray) -> int:
        """Give the claims: each shard needs, by id page and cell, the free persons of the
        pages before (all shards' pages count, in id order)."""
        n_pages = max(self.next_id - 1, 0) // self.page + 1
        free = sum(self._all("eligible_counts", n_pages))
        offsets = np.cumsum(free, axis=0) - free
        return sum(self._all("award", ranks, kinds, amounts, offsets))

    def occupancy(self) -> tuple[int, int]:
        parts = self._all("occupancy")
        here, self.size = (sum(part[j] for part in parts) for j in range(2))
        return here, self.size

    def compact(self, *args) -> None:
        self._all("compact", *args)

    def finish(self, *args) -> tuple[np.ndarray, np.ndarray]:
        parts = self._all("finish", *args)
        return sum(part[0] for part in parts), sum(part[1] for part in parts)

    def gather_store(self, next_id: int) -> PersonStore:
        """The shards' persons in one store, in id order (the order of a store of the
        whole population)."""
        views = self._all("view")
        arrays = {name: np.concatenate([view[name] for view in views]) for name in views[0]}
        order = np.argsort(arrays["pid"], kind="stable")
        store = PersonStore(**{name: array[order] for name, array in arrays.items()})
        store.size, store.next_id = len(order), next_id
        return store

    def close(self) -> None:
        """Let the actors go (their workers drop the shards)."""
        self.actors = []
        self._futures = []


__all__ = ["PAGES_PER_SHARD", "ShardedPopulation", "page_size"]
