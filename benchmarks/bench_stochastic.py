"""Time a stochastic projection of a model (default: the default model).

Usage: python benchmarks/bench_stochastic.py [MODEL_DIR] [--draws N] [--seed S]

One warm-up draw first (Numba compilation), then N draws with the model's [stochastic]
assumptions. Prints, as its last line, a JSON object: model, draws, years, schemes, seconds
(the N draws and their summaries), draws_per_second, peak_rss_bytes.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import spfsim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", default=None)
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = spfsim.load_model(args.model_dir)
    model.project_stochastic(1, seed=args.seed)
    started = time.perf_counter()
    model.project_stochastic(args.draws, seed=args.seed)
    seconds = time.perf_counter() - started
    print(json.dumps({
        "model": model.name,
        "draws": args.draws,
        "years": len(model.years),
        "schemes": len(model.assumptions.schemes),
        "seconds": round(seconds, 3),
        "draws_per_second": round(args.draws / seconds, 3),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


if __name__ == "__main__":
    main()
