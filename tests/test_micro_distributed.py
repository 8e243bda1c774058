"""The micro engine's persons split into shards (engine.micro.distributed): the results, and
every person, are bitwise those of one process, for any number of shards."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_survivors import survivors_model

import spfsim
from spfsim.demography import project_population
from spfsim.economy import project_economy
from spfsim.engine.micro import distributed
from spfsim.engine.micro import kernels as K
from spfsim.engine.micro.engine import MicroSettings, run_micro

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")


def _inputs(folder, end_year=None):
    """The small model with survivors' pensions: its assumptions and projections."""
    a = spfsim.load_model(survivors_model(folder), end_year=end_year).assumptions
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb, a.net_migration)
    return a, demo, project_economy(a, demo.population)


def assert_same_result(one, other) -> None:
    """Every array of two MicroResults, and every person of their stores, bitwise equal."""
    assert one.person_years == other.person_years
    assert one.synthetic_cells == other.synthetic_cells
    for name in ("labour_status", "lifetimes", "exits", "exit_totals", "coverage"):
        assert np.array_equal(getattr(one, name), getattr(other, name)), name
    pairs = [(one.demography, other.demography),
             *zip(one.flows, other.flows, strict=True)]
    for left, right in pairs:
        for field in dataclasses.fields(left):
            x, y = getattr(left, field.name), getattr(right, field.name)
            if isinstance(x, np.ndarray):
                assert np.array_equal(x, y, equal_nan=True), field.name
    a, b = one.store.view(), other.store.view()
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    assert one.store.next_id == other.store.next_id
    assert (one.sources is None) == (other.sources is None)
    if one.sources is not None:  # a person file's records behind the cells
        assert np.array_equal(one.sources.records, other.sources.records)
        assert np.array_equal(one.sources.households, other.sources.households)


class _Done:
    """A finished call (what an actor's future gives)."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


class _InProcess:
    """A shard held in this process, called as a Dask actor would be."""

    def __init__(self, *args):
        self.shard = distributed._Shard(*args)

    def call(self, method, *args):
        return _Done(self.shard.call(method, *args))

    def synthetic(self):
        return _Done(self.shard.synthetic())

    def persons(self):
        return _Done(self.shard.persons())


def _in_process(shards):
    """ShardedPopulation.start with ``shards`` shards in this process (no cluster)."""

    def start(client, assumptions, settings, state, person_file, capacity, n_rules,
              n_groups):
        page = distributed.page_size(settings.persons, shards)
        actors = [_InProcess(assumptions, settings, state, person_file,
                             capacity // shards + 1024, n_rules, n_groups,
                             (page, shards, index)) for index in range(shards)]
        return distributed.ShardedPopulation(actors, page, actors[0].persons().result(),
                                             actors[0].synthetic().result())

    return start


@pytest.mark.parametrize("shards", [1, 3])
def test_shards_in_one_process_give_the_single_process_result(tmp_path, monkeypatch,
                                                              shards):
    """The reduction over shards, without Dask: 3 shards (and 1) reproduce the run in one
    store bit for bit, through entrants, survivors' pensions and compactions."""
    a, demo, econ = _inputs(tmp_path / "m", end_year=2033)
    settings = MicroSettings(1500, 4, chunk_size=64)
    whole = run_micro(a, demo, econ, settings)
    monkeypatch.setattr(distributed.ShardedPopulation, "start", _in_process(shards))
    split = run_micro(a, demo, econ, settings, client=object())
    assert_same_result(whole, split)
    assert (whole.store.survivor_kind != 0).any()  # survivors' pensions were awarded


def test_shards_from_a_person_file(tmp_path, monkeypatch):
    """Persons cloned from a person file (some cells missing from it) are the same in
    shards as in one store."""
    from test_micro_persons import write

    rows = [[i, a, s, "contributing" if a < 62 else "pensioner", min(a, 30), 9000,
             0 if a < 62 else 2500, 1 + i % 3]
            for i, (a, s) in enumerate((a, s) for a in range(20, 90) for s in
                                       ("male", "female"))]
    path = write(tmp_path / "persons.csv", rows)
    a, demo, econ = _inputs(tmp_path / "m", end_year=2028)
    settings = MicroSettings(1200, 9, chunk_size=50, person_file=str(path))
    whole = run_micro(a, demo, econ, settings)
    monkeypatch.setattr(distributed.ShardedPopulation, "start", _in_process(2))
    split = run_micro(a, demo, econ, settings, client=object())
    assert whole.synthetic_cells > 0
    assert_same_result(whole, split)


def test_shards_from_a_household_survey(tmp_path, monkeypatch):
    """Whole households cloned from a person file with household columns (a run split
    across workers runs without family links) are the same in shards as in one store."""
    from test_person_households import survey

    path = survey(tmp_path / "persons.csv")
    a, demo, econ = _inputs(tmp_path / "m", end_year=2028)
    settings = MicroSettings(1200, 9, chunk_size=50, person_file=str(path), families=False)
    whole = run_micro(a, demo, econ, settings)
    monkeypatch.setattr(distributed.ShardedPopulation, "start", _in_process(2))
    split = run_micro(a, demo, econ, settings, client=object())
    assert whole.store.next_id != 0
    assert_same_result(whole, split)


def test_exact_alignment_in_shards(tmp_path, monkeypatch):
    """alignment="exact" chooses each cell's persons among all shards' alike: the same
    persons die and contribute as in one store."""
    a, demo, econ = _inputs(tmp_path / "m", end_year=2030)
    settings = MicroSettings(1500, 2, chunk_size=64, alignment="exact")
    whole = run_micro(a, demo, econ, settings)
    monkeypatch.setattr(distributed.ShardedPopulation, "start", _in_process(3))
    split = run_micro(a, demo, econ, settings, client=object())
    assert_same_result(whole, split)


def test_alignment_thresholds_choose_the_smallest_keys_and_ids():
    """Candidates of two shards: a cell wanting 2 of keys (0.1, id 7), (0.1, id 3), (0.5)
    takes ids 3 and 7; a cell wanting more than it has takes all; one wanting none,
    nobody."""
    cells = np.array([0, 0, 0, 1, 1])
    keys = np.array([0.1, 0.5, 0.1, np.inf, 0.2])
    ids = np.array([7, 1, 3, 9, 4])
    wanted = np.zeros(202, dtype=np.int64)
    wanted[0], wanted[1] = 2, 5
    threshold_key, threshold_id = K.alignment_thresholds(cells, keys, ids, wanted)
    assert (threshold_key[0], threshold_id[0]) == (0.1, 7)
    assert threshold_key[1] == np.inf
    assert threshold_key[2] == -np.inf
    out = np.empty(5, dtype=np.int8)
    K.apply_thresholds(cells, keys, ids, threshold_key, threshold_id, out)
    assert out.tolist() == [1, 0, 1, 1, 1]


@pytest.fixture(scope="module")
def two_workers():
    """A Dask client of a local cluster of two worker processes, one thread each."""
    import dask
    from distributed import Client, LocalCluster

    from spfsim.batch.cli import NO_TRIM

    with dask.config.set({NO_TRIM: None}), LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True,
            dashboard_address=":0") as cluster, Client(cluster) as client:
        yield client


@pytest.mark.slow
@pytest.mark.parametrize("alignment", ["expected", "exact"])
def test_two_workers_give_the_single_process_result(tmp_path, two_workers, alignment):
    """The persons split over two Dask worker processes: the result, and every person,
    bitwise that of one process with the same seed."""
    a, demo, econ = _inputs(tmp_path / "m")
    settings = MicroSettings(3000, 11, chunk_size=97, permanent_sd=0.3, transitory_sd=0.1,
                             alignment=alignment)
    whole = run_micro(a, demo, econ, settings)
    split = run_micro(a, demo, econ, settings, client=two_workers)
    assert_same_result(whole, split)
    assert (whole.store.survivor_kind != 0).any()
    assert len(two_workers.scheduler_info()["workers"]) == 2


@pytest.mark.slow
def test_cli_run_with_workers_writes_the_single_process_projection(tmp_path):
    """``spfsim run --engine micro --workers 2``: the projection file of a local cluster of
    two workers is that of one process."""
    import xarray as xr

    from spfsim.cli import main

    folder = survivors_model(tmp_path / "m")
    common = ["run", str(folder), "--engine", "micro", "--persons", "800", "--seed", "3",
              "--quiet"]
    assert main([*common, "--out", str(tmp_path / "one")]) == 0
    assert main([*common, "--workers", "2", "--out", str(tmp_path / "two")]) == 0
    with xr.open_dataset(tmp_path / "one" / "projection.nc") as one, \
            xr.open_dataset(tmp_path / "two" / "projection.nc") as two:
        assert one.data_vars.keys() == two.data_vars.keys()
        for name in one.data_vars:
            assert np.array_equal(one[name].values, two[name].values, equal_nan=True), name
