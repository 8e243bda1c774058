"""Time a stochastic projection of a model (default: the default model).

Usage: python benchmarks/bench_stochastic.py [MODEL_DIR] [--draws N] [--seed S]
                                              [--workers W]

One warm-up draw first (Numba compilation), then N draws with the model's [stochastic]
assumptions. Prints, as its last line, a JSON object: model, draws, years, schemes,
workers, seconds (the N draws and their summaries), draws_per_second, peak_rss_bytes (of
this process: with workers, each worker's own memory is not counted).

``--workers W`` projects blocks of draws on a local Dask cluster of W processes (as
``spfsim stochastic --workers W``), started and warmed up before the clock starts; the
default 0 projects them in this process.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import spfsim
from spfsim.batch.cli import dask_client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", default=None)
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    model = spfsim.load_model(args.model_dir)
    with dask_client(None, args.workers) as client:
        # every worker compiles (or loads) the kernels before the clock starts
        model.project_stochastic(max(2 * args.workers, 1), seed=args.seed, client=client)
        started = time.perf_counter()
        model.project_stochastic(args.draws, seed=args.seed, client=client)
        seconds = time.perf_counter() - started
    print(json.dumps({
        "model": model.name,
        "draws": args.draws,
        "years": len(model.years),
        "schemes": len(model.assumptions.schemes),
        "workers": args.workers,
        "seconds": round(seconds, 3),
        "draws_per_second": round(args.draws / seconds, 3),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


if __name__ == "__main__":
    main()
