"""Time the cohort engine on a model (default: the default model).

Usage: python benchmarks/bench_cohort.py [MODEL_DIR] [--repeat N]

Prints, as its last line, a JSON object: model, years, schemes, load_seconds (validation and
compilation), project_seconds (best of N projections), peak_rss_bytes.
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
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    model = spfsim.load_model(args.model_dir)
    load_seconds = time.perf_counter() - started
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        model.project()
        timings.append(time.perf_counter() - started)
    print(json.dumps({
        "model": model.name,
        "years": len(model.years),
        "schemes": len(model.assumptions.schemes),
        "load_seconds": round(load_seconds, 4),
        "project_seconds": round(min(timings), 4),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


if __name__ == "__main__":
    main()
