"""Time a batch (default: the example shipped with the default model) on 1 and 2 Dask
workers against the same cases in a plain loop in one process.

Usage: python benchmarks/bench_batch.py [BATCH] [--workers 1 2]

Each run writes a fresh store in a temporary folder. The loop runs spfsim.batch.run_case
over the cases (their input hashes read once, as the batch does) on one thread, as each
worker runs, after one warm-up case (the workers' first case includes their start and
Numba's cache loading). For each worker count the local cluster is started and every
worker runs one case (loading the model) before the batch is timed. Prints, as its last
line, a JSON object: cases, loop_seconds, and per worker count startup_seconds (cluster
start and model loading), seconds, cases_per_second and overhead (Dask seconds x workers /
loop seconds - 1: the share of work added per case by the batch machinery, store writes
included, when the workers are fully used).

For more than one worker, the same cases are also run as that many plain loops in as many
processes at once, with no Dask and no store (``parallel_loop_seconds``, from the moment
they all start): ``parallel_overhead`` is what running the cases side by side costs on
this machine by itself (the cores share their caches and memory), measured as
``overhead`` is, and ``overhead_vs_parallel_loops`` (Dask seconds / parallel loop seconds
- 1) what the batch machinery adds to it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

import numba

from spfsim.batch import read_batch, run_batch, run_case
from spfsim.batch.cli import dask_client, find_batch_file, local_threads
from spfsim.batch.run import case_inputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("batch", nargs="?", default="contribution-grid")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    spec = read_batch(find_batch_file(args.batch))
    cases = spec.cases()
    start, end = _loop(spec, cases)
    loop = end - start
    out = {"batch": spec.path.name, "cases": len(cases), "loop_seconds": round(loop, 3)}
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            with dask_client(None, workers) as client:
                threads = local_threads(None, workers)
                # each worker loads the model once, with the batch's threads (the Numba
                # default, every core in each worker, would oversubscribe the machine)
                client.run(run_case, spec, cases[0], None, threads)
                ready = time.perf_counter()
                run_batch(spec, Path(folder) / "store.zarr", client, threads=threads)
                seconds = time.perf_counter() - ready
        out[f"workers_{workers}"] = {
            "startup_seconds": round(ready - started, 3), "seconds": round(seconds, 3),
            "cases_per_second": round(len(cases) / seconds, 3),
            "overhead": round(seconds * workers / loop - 1.0, 3)}
        if workers > 1:
            side_by_side = parallel_loops(spec.path, workers)
            out[f"workers_{workers}"].update({
                "parallel_loop_seconds": round(side_by_side, 3),
                "parallel_overhead": round(side_by_side * workers / loop - 1.0, 3),
                "overhead_vs_parallel_loops": round(seconds / side_by_side - 1.0, 3)})
    print(json.dumps(out))


def parallel_loops(batch_file, processes: int) -> float:
    """Seconds from the common start to the end of the last of ``processes`` plain loops
    run at once, each in its own process over every ``processes``-th case (the share a
    worker gets), each warmed up first as the loop above is."""
    context = multiprocessing.get_context("spawn")
    ready, results = context.Barrier(processes), context.Queue()
    runs = [context.Process(target=_loop_part, args=(batch_file, k, processes, ready, results))
            for k in range(processes)]
    for run in runs:
        run.start()
    spans = [results.get() for _ in runs]
    for run in runs:
        run.join()
    return max(end for _, end in spans) - min(start for start, _ in spans)


def _loop_part(batch_file, part: int, parts: int, ready, results) -> None:
    """One of :func:`parallel_loops`' processes: its loop's (start, end)."""
    spec = read_batch(batch_file)
    results.put(_loop(spec, spec.cases()[part::parts], ready))


def _loop(spec, cases, ready=None) -> tuple[float, float]:
    """The plain loop over ``cases`` on one thread, as each worker has
    (threads_per_worker=1: the micro engine's parallel kernels would otherwise use every
    core in the loop and none in the comparison), after one warm-up case (and, given
    ``ready``, a barrier): its start and end on the system's monotonic clock, which every
    process reads alike. The inputs' hashes are read once within it, as run_batch reads
    them (without them each case would load its model from disk again to hash it)."""
    numba.set_num_threads(1)
    run_case(spec, cases[0])
    if ready is not None:
        ready.wait()
    start = time.monotonic()
    inputs = case_inputs(spec, cases)
    for case, hashes in zip(cases, inputs, strict=True):
        run_case(spec, case, hashes)
    return start, time.monotonic()


if __name__ == "__main__":
    main()
