"""Time one country's 2020-2100 population projection from WPP 2024 inputs.

Usage: python benchmarks/bench_demography.py [--data ../shared/data] [--country 566]
       [--repeat 20] [--all]

Prints, as its last line, a JSON object: country, years, load_seconds (reading the WPP
files once), build_seconds (graduating one country's inputs), project_seconds (best of
N projections, the issue's "once loaded" figure). With ``--all``, also every country of
the development subset built, projected and compared with WPP once: all_countries,
all_seconds, and how many of those over 1 million in 2050 are within the tolerances
(``tools/validate_wpp.py`` writes the figures and the evidence for each miss).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from spfsim.demography.validation import compare_with_wpp, development_subset, project_wpp
from spfsim.demography.wpp import WPPData, from_wpp

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--country", type=int, default=566)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--all", action="store_true",
                        help="also build, project and compare every development country")
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
    result = {"country": args.country, "years": len(demography.years),
              "load_seconds": round(load_seconds, 3),
              "build_seconds": round(build_seconds, 4),
              "project_seconds": round(min(timings), 4)}
    if args.all:
        started = time.perf_counter()
        comparisons = [compare_with_wpp(data, code) for code in development_subset(data)]
        checked = [c for c in comparisons if c.checked]
        result.update(all_countries=len(comparisons),
                      all_seconds=round(time.perf_counter() - started, 1),
                      checked=len(checked), checked_within=sum(c.passes for c in checked))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
