"""Time ``spfsim spf-cost --country all``: every WPP country costed and written.

Usage: python benchmarks/bench_spf_cost.py [--data ../shared/data] [--year 2025]
       [--country all] [--repeat 1]

Runs the command's own entry point (``spfsim.cli.main``) in a fresh temporary output folder
and prints, as its last line, a JSON object: countries, year, seconds (wall time of the whole
command: reading the data, building each country's floor model, projecting it from 2020
and running the scheme library's rules, writing the netCDF file and the workbook; best of
``--repeat`` runs), seconds_per_country, cores.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
import time
from pathlib import Path

import xarray as xr

from spfsim.cli import main as spfsim_main

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--country", default="all")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    timings = []
    countries = 0
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as out:
            argv = ["spf-cost", "--country", args.country, "--year", str(args.year),
                    "--data", args.data, "--out", out, "--quiet"]
            started = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                status = spfsim_main(argv)
            timings.append(time.perf_counter() - started)
            if status != 0:
                raise SystemExit(f"spfsim spf-cost exited with status {status}")
            with xr.open_dataset(Path(out) / f"spf_cost_{args.year}.nc") as ds:
                countries = ds.sizes["country"]
    best = min(timings)
    print(json.dumps({"countries": countries, "year": args.year, "seconds": round(best, 2),
                      "seconds_per_country": round(best / max(countries, 1), 4),
                      "cores": os.cpu_count()}))


if __name__ == "__main__":
    main()
