"""Speed of the micro engine with its persons split across Dask workers, against one process.

Usage: python benchmarks/bench_micro_workers.py --persons 1000000 --years 50 --workers 4
       [--seed 1] [--chunk-size 65536] [--model DIR] [--scheduler ADDRESS]

Starts a local cluster of ``--workers`` processes (one thread each; Numba's threads of the
workers share the machine's cores), or uses the cluster at ``--scheduler``, compiles the
kernels on a small run in this process and on the workers, then times the same run in one
process and split across the workers (the cohort projection that provides the targets is
not timed) and checks that both give the same results. Prints, as its last line, a JSON
object with persons, years, person_years, workers, seconds_one_process, seconds_split,
person_years_per_second of each, speedup and identical (bitwise, every output array).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np

import spfsim
from spfsim.batch.cli import dask_client
from spfsim.demography import project_population
from spfsim.economy import project_economy
from spfsim.engine.micro.engine import DEFAULT_CHUNK, MicroSettings, run_micro


def _arrays(result) -> list[np.ndarray]:
    """Every output array of a MicroResult."""
    out = [result.labour_status, result.lifetimes, result.exits, result.exit_totals,
           result.coverage]
    for record in (result.demography, *result.flows):
        out += [getattr(record, f.name) for f in dataclasses.fields(record)
                if isinstance(getattr(record, f.name), np.ndarray)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK)
    parser.add_argument("--model", default=None, help="model folder (default: the default "
                        "model)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="an existing Dask cluster (default: a local one)")
    args = parser.parse_args()
    probe = spfsim.load_model(args.model)
    model = spfsim.load_model(args.model, end_year=probe.input.base_year + args.years - 1)
    a = model.assumptions
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb, a.net_migration)
    econ = project_economy(a, demo.population)
    settings = MicroSettings(args.persons, args.seed, args.chunk_size)
    small = MicroSettings(1000, args.seed, args.chunk_size)
    run_micro(a, demo, econ, small)  # compile here
    started = time.perf_counter()
    one = run_micro(a, demo, econ, settings)
    seconds_one = time.perf_counter() - started
    with dask_client(args.scheduler, args.workers) as client:
        workers = len(client.scheduler_info()["workers"])
        run_micro(a, demo, econ, small, client=client, keep_store=False)  # compile there
        started = time.perf_counter()
        split = run_micro(a, demo, econ, settings, client=client, keep_store=False)
        seconds_split = time.perf_counter() - started
    identical = one.person_years == split.person_years and all(
        np.array_equal(x, y, equal_nan=True)
        for x, y in zip(_arrays(one), _arrays(split), strict=True))
    print(json.dumps({
        "persons": args.persons,
        "years": len(a.years),
        "person_years": one.person_years,
        "workers": workers,
        "seconds_one_process": round(seconds_one, 3),
        "seconds_split": round(seconds_split, 3),
        "person_years_per_second_one_process": round(one.person_years / seconds_one),
        "person_years_per_second_split": round(split.person_years / seconds_split),
        "speedup": round(seconds_one / seconds_split, 2),
        "identical": identical,
    }))


if __name__ == "__main__":
    main()
