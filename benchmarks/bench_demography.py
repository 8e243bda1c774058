"""Time one country's 2020-2100 population projection from WPP 2024 inputs.

Usage: python benchmarks/bench_demography.py [--data ../shared/data] [--country 566]
       [--repeat 20]

Prints, as its last line, a JSON object: country, years, load_seconds (reading the WPP
files once), build_seconds (graduating one country's inputs), project_seconds (best of
N projections, the issue's "once loaded" figure).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from spfsim.demography.validation import project_wpp
from spfsim.demography.wpp import WPPData, from_wpp

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--country", type=int, default=566)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    started = time.perf_counter()
    data = WPPData(args.data)
    from_wpp(data, args.country)  # reads every file once
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    demography = from_wpp(data, args.country)
    build_seconds = time.perf_counter() - started
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        project_wpp(demography)
        timings.append(time.perf_counter() - started)
    print(json.dumps({"country": args.country, "years": len(demography.years),
                      "load_seconds": round(load_seconds, 3),
                      "build_seconds": round(build_seconds, 4),
                      "project_seconds": round(min(timings), 4)}))


if __name__ == "__main__":
    main()
