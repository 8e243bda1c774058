"""Run a batch's cases as Dask tasks and write each result into one zarr store.

The client submits the cases that the store does not hold yet, and writes each result into
its region of the store (``case`` chunks of one) as it arrives: the data first, then the
case's ``done`` flag, so that a batch killed at any point (client or worker) and started
again recomputes exactly the cases whose flag is not set. Only the client writes, so no
file locking is needed. A case that raises is recorded with its message in ``error`` and
the batch goes on; it is tried again by the next run.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import SpfsimError
from .spec import BASELINE, SPF_COST, BatchSpec, Case, case_key

KEY_WIDTH, ERROR_WIDTH, ATTRS_WIDTH = 64, 400, 2000
TEXT_WIDTH = 400  # a text variable of a case (the costing's sources and notes)
# format 2: fixed-width text (keys, errors, labels) has a stable specification there
ZARR_FORMAT = 2
#: per-case attributes of a projection kept in the store (its provenance)
CASE_ATTRS = ("input_hash", "created", "spfsim_version", "engine", "seed", "draws", "reform",
              "reform_hash")


@dataclass
class BatchResult:
    """What a run did: cases computed now, skipped (already in the store), failed."""

    computed: list[int]
    skipped: list[int]
    failed: dict[int, str]
    store: Path


def _load(folder: Path | None, end_year: int | None, reform: str):
    """The model in ``folder`` (None: the default) with ``reform`` (or none), from disk."""
    from ..model import load_model

    model = load_model(folder, end_year=end_year)
    return model if reform == BASELINE else model.with_reform(reform)


def input_hashes(model) -> tuple[str, str]:
    """The model's and its reform's input hashes (the reform's: "" for none)."""
    return model.input.input_hash, "" if model.reform is None else model.reform.sha256


@functools.lru_cache(maxsize=32)
def _reformed(folder: Path | None, end_year: int | None, reform: str,
              hashes: tuple[str, str]):
    """The case's model, loaded once per process for each content of its files (a worker
    reuses it, and Numba's compiled kernels, for every case it runs; a changed file is
    loaded anew). Refuses files that changed since the batch computed its keys."""
    model = _load(folder, end_year, reform)
    if input_hashes(model) != hashes:
        raise SpfsimError("the model or reform files changed while the batch ran; run the "
                          "command again")
    return model


def case_model(spec: BatchSpec, case: Case, hashes: tuple[str, str]):
    """The model of one case: the batch's model with its reform or parameter values."""
    model = _reformed(spec.model, spec.end_year, str(case.value("reform", BASELINE)), hashes)
    overrides = spec.overrides(case)
    return model.with_parameters(overrides, name="batch case") if overrides else model


def run_case(spec: BatchSpec, case: Case, hashes: tuple[str, str] | None = None,
             threads: int | None = None) -> tuple[xr.Dataset | None, str]:
    """Project one case and keep the batch's variables; (None, message) if it fails.
    ``hashes``: the input hashes its key was made from (:func:`case_inputs`; None: read
    them now); ``threads``: the Numba threads the case runs with (None: as they are)."""
    if threads is not None:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))  # this thread's
    try:
        if spec.engine == SPF_COST:
            return _costing_case(spec, case), ""
        if hashes is None:
            hashes = input_hashes(_load(spec.model, spec.end_year,
                                        str(case.value("reform", BASELINE))))
        model = case_model(spec, case, hashes)
        engine = str(case.value("engine", spec.engine))
        if engine == "stochastic":
            seed = case.value("seed")
            ds = model.project_stochastic(spec.draws,
                                          seed=None if seed is None else int(seed))
        else:
            ds = model.project(engine, persons=spec.persons, seed=int(case.value("seed", 0)))
        missing = [v for v in spec.variables if v not in ds.data_vars]
        if missing:
            raise SpfsimError(f"{spec.path}: batch.variables: the projection has no "
                              f"variable {', '.join(missing)}")
        kept = ds[list(spec.variables)]
        kept.attrs = {k: ds.attrs[k] for k in ds.attrs if k in CASE_ATTRS}
        return kept, ""
    except Exception as exc:  # recorded in the store; the batch goes on
        return None, f"{type(exc).__name__}: {exc}"[:ERROR_WIDTH]


def _costing_case(spec: BatchSpec, case: Case) -> xr.Dataset:
    """One country's costing of the floor (spfsim.spf.costing_batch), its text in the
    store's fixed width."""
    from ..spf.costing_batch import cost_case

    ds = cost_case(spec, int(case.value("country")))
    kept = ds[list(spec.variables)]
    for name in kept.data_vars:
        if kept[name].dtype == object or kept[name].dtype.kind == "U":
            text = str(kept[name].values)
            if len(text) > TEXT_WIDTH:
                raise SpfsimError(f"{name} is longer than the store's {TEXT_WIDTH} "
                                  f"characters: {text[:80]}...")
            kept[name] = kept[name].astype(f"<U{TEXT_WIDTH}")
    kept.attrs = {k: ds.attrs[k] for k in ("spfsim_version", "created")}
    return kept


def case_inputs(spec: BatchSpec, cases: list[Case]) -> list[tuple[str, str]]:
    """Each case's input hashes (model, reform; for the floor's costing, its data and its
    levels and macro files), read from disk now: one load per reform."""
    if spec.engine == SPF_COST:
        from ..spf.costing_batch import costing_inputs

        return [costing_inputs(spec)] * len(cases)
    by_reform = {}
    for reform in {str(c.value("reform", BASELINE)) for c in cases}:
        by_reform[reform] = input_hashes(_load(spec.model, spec.end_year, reform))
    return [by_reform[str(c.value("reform", BASELINE))] for c in cases]


def run_batch(spec: BatchSpec, store: str | Path, client=None,
              progress: Callable[[int, int], None] | None = None,
              threads: int | None = None) -> BatchResult:
    """Run the cases of ``spec`` not yet in ``store`` (a zarr folder) on ``client`` (a
    ``distributed.Client``; None: one after another in this process); ``threads``: the
    Numba threads of each case on a worker (None: the worker's; batch.cli.local_threads)."""
    store = Path(store)
    cases = spec.cases()
    inputs = case_inputs(spec, cases)
    keys = [case_key(spec, c, *hashes) for c, hashes in zip(cases, inputs, strict=True)]
    done = _done_cases(store, keys)
    todo = [c for c in cases if not done[c.index]]
    result = BatchResult([], [c.index for c in cases if done[c.index]], {}, store)
    if progress is not None:
        progress(len(result.skipped), len(cases))
    writer = CaseWriter(store)
    for case, (ds, error) in _results(spec, todo, inputs, client, threads):
        if ds is None:
            result.failed[case.index] = error
        else:
            if not store.exists():
                _create(store, spec, cases, keys, ds)
            writer.write(case.index, ds, keys[case.index])
            result.computed.append(case.index)
        if store.exists():  # errors wait for the store's layout, from a first result
            for index, message in result.failed.items():
                writer.record_error(index, message)
        if progress is not None:
            progress(len(result.skipped) + len(result.computed) + len(result.failed),
                     len(cases))
    return result


def _results(spec: BatchSpec, todo: list[Case], inputs: list[tuple[str, str]], client,
             threads: int | None = None):
    """(case, (Dataset | None, error)) as each case finishes."""
    if client is None:
        for case in todo:
            yield case, run_case(spec, case, inputs[case.index])
        return
    from distributed import as_completed

    futures = {client.submit(run_case, spec, case, inputs[case.index], threads, pure=False):
               case for case in todo}
    for future in as_completed(futures):
        try:
            yield futures[future], future.result()
        except Exception as exc:  # a worker lost for good: recorded, the batch goes on
            yield futures[future], (None, f"{type(exc).__name__}: {exc}"[:ERROR_WIDTH])


# ------------------------------------------------------------------------------ the store

def _done_cases(store: Path, keys: list[str]) -> np.ndarray:
    """Which cases the store holds with the same key (so the same inputs and settings)."""
    if not store.exists():
        return np.zeros(len(keys), dtype=bool)
    with xr.open_zarr(store) as old:
        if old.sizes.get("case") != len(keys):
            raise SpfsimError(f"{store}: the store holds {old.sizes.get('case')} cases, the "
                              f"batch has {len(keys)}: use another --out, or delete the "
                              "store to start again")
        stored = old["case_key"].values.astype(str)
        flags = old["done"].values.astype(bool)
    return flags & (stored == np.array(keys))


def _case_coords(spec: BatchSpec, cases: list[Case]) -> dict:
    names = spec.coordinate_names()
    coords = {"case": np.arange(len(cases))}
    for axis, name in names.items():
        values = [c.values[axis] for c in cases]
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        coords[name] = ("case", np.array(values, dtype=np.int64 if axis == "country"
                                         else float if numbers else str))  # country: M49
    return coords


def _create(store: Path, spec: BatchSpec, cases: list[Case], keys: list[str],
            first: xr.Dataset) -> None:
    """The store's layout from the first result: every variable along ``case`` (chunks of
    one), NaN until written; then ``case_key`` of every case, ``done`` 0, no ``error``
    and no ``case_attrs``."""
    n = len(cases)
    first = first.copy()
    for name in list(first.coords):
        if first[name].dtype == object:  # labels as fixed-width text, as zarr stores it
            first[name] = first[name].astype(str)
    template = first.expand_dims(case=n)
    for name in template.data_vars:  # NaN (or no text) until written; coordinates now
        if template[name].dtype.kind == "U":
            template[name] = xr.full_like(template[name], "").chunk({"case": 1})
        else:
            template[name] = template[name].chunk({"case": 1}) * np.nan
    template = template.assign_coords(_case_coords(spec, cases))
    book = _bookkeeping(keys, np.zeros(n, dtype=np.int8), [""] * n, [""] * n)
    template = template.merge(book.chunk({"case": 1}))
    template.attrs = {"batch_file": str(spec.path), "model": str(spec.model or "default"),
                      "axes": json.dumps(spec.coordinate_names())}
    # built under a temporary name and renamed: a store is complete or absent, whenever the
    # command is killed
    building = store.with_name(f".{store.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    try:
        template.to_zarr(building, compute=False, mode="w", zarr_format=ZARR_FORMAT)
        book.to_zarr(building, region={"case": slice(0, n)}, zarr_format=ZARR_FORMAT)
        building.rename(store)
    finally:
        shutil.rmtree(building, ignore_errors=True)


def _bookkeeping(keys: list[str], done: np.ndarray, errors: list[str],
                 attrs: list[str]) -> xr.Dataset:
    """The store's record of cases: key, done flag, error message, provenance."""
    return xr.Dataset({
        "case_key": ("case", np.array(keys, dtype=f"<U{KEY_WIDTH}")),
        "done": ("case", done),
        "error": ("case", np.array([e[:ERROR_WIDTH] for e in errors], dtype=f"<U{ERROR_WIDTH}")),
        "case_attrs": ("case", np.array([a[:ATTRS_WIDTH] for a in attrs],
                                        dtype=f"<U{ATTRS_WIDTH}"))})


class CaseWriter:
    """Writes cases into their rows of a store that :func:`_create` laid out, through
    zarr itself: each variable's row of the case is one chunk of its own, so a case is a
    few chunk writes. (xarray's region writes open and check the whole store for every
    call: 20 ms a case, which the client's process takes from the workers' cores.)"""

    def __init__(self, store: Path):
        self.store = store
        self._group = None

    def _array(self, name: str):
        if self._group is None:
            import zarr

            self._group = zarr.open_group(self.store, mode="r+", zarr_format=ZARR_FORMAT)
        return self._group[name]

    def _row(self, index: int, name: str, values: np.ndarray) -> None:
        array = self._array(name)
        array[index] = np.asarray(values).astype(array.dtype)

    def write(self, index: int, ds: xr.Dataset, key: str) -> None:
        """Case ``index``'s variables (in the store's order of dims), then its key, no
        error, its provenance and, last, its ``done`` flag."""
        for name, variable in ds.data_vars.items():
            dims = self._array(name).attrs["_ARRAY_DIMENSIONS"][1:]
            self._row(index, name, variable.transpose(*dims).values)
        attrs = json.dumps(ds.attrs, default=str)
        self._row(index, "case_key", _text(key, KEY_WIDTH)[0])
        self._row(index, "error", _text("", ERROR_WIDTH)[0])
        self._row(index, "case_attrs", _text(attrs, ATTRS_WIDTH)[0])
        self._row(index, "done", np.int8(1))

    def record_error(self, index: int, error: str) -> None:
        """Case ``index`` failed with ``error``: not done."""
        self._row(index, "error", _text(error, ERROR_WIDTH)[0])
        self._row(index, "done", np.int8(0))


def _text(value: str, width: int) -> np.ndarray:
    """One case's text, in the store's fixed width."""
    return np.array([value[:width]], dtype=f"<U{width}")


def open_batch(store: str | Path) -> xr.Dataset:
    """The batch's results with the axes as an index of ``case``, so that
    ``ds.sel(reform=..., contribution_rate=0.13)`` selects cases."""
    ds = xr.open_zarr(store)
    axes = list(json.loads(ds.attrs.get("axes", "{}")).values())
    if not axes:
        return ds
    return ds.set_xindex(axes, xr.indexes.PandasMultiIndex if len(axes) > 1 else None)
