"""Time a whole ``spfsim run`` of a model (default: the default model) in a fresh process.

Usage: python benchmarks/bench_run.py [MODEL_DIR] [--repeat N] [--engine cohort|micro]
       [--figures]

Each run is ``python -m spfsim.cli run [MODEL_DIR] --out <fresh temporary folder>``
in a new interpreter, so the figure includes starting Python, importing spfsim and its
libraries, loading the model, the projection and writing projection.nc, report.xlsx and the
figures: what a user waits for. The phases come from the command's own progress lines
(stderr). ``--figures`` is passed on to the command. Prints, as its last line, a JSON
object: model, engine, figures, repeat, seconds (best of
``--repeat`` runs), median_seconds, all_seconds, phases_seconds (of the best run: start =
interpreter and imports until the model loads, load, project, write), files, cores,
load_average (1-minute, at the start: other work on the machine slows every figure).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_PROGRESS = re.compile(r"^\[\s*([0-9.]+)s\] (.*)$")


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _phases(stderr: str, started: float, total: float) -> dict[str, float]:
    """Seconds of each phase from the progress lines: ``[  1.2s] message``; the command's
    clock starts after its imports, so the first stamp is offset by ``started``."""
    stamps = {}
    for line in stderr.splitlines():
        match = _PROGRESS.match(line)
        if match:
            stamps.setdefault(match.group(2).split(" ")[0], float(match.group(1)))
    load, write = stamps.get("loading"), stamps.get("writing")
    first_phase = stamps.get("population")
    if load is None or write is None or first_phase is None:
        return {}
    return {"start": round(started, 3), "load": round(first_phase - load, 3),
            "project": round(write - first_phase, 3),
            "write": round(total - started - write, 3)}


def _run_once(model_dir: str | None, engine: str, figures: bool
              ) -> tuple[float, dict[str, float], int]:
    with tempfile.TemporaryDirectory(prefix="spfsim-bench-run-") as tmp:
        out = Path(tmp) / "out"
        command = [sys.executable, "-m", "spfsim.cli", "run", *([model_dir] if model_dir else []),
                   "--out", str(out), "--engine", engine, *(["--figures"] if figures else [])]
        env = {**os.environ, "MPLBACKEND": "Agg"}
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"spfsim run failed ({done.returncode}):\n{done.stderr}")
        # the command's clock starts once its modules are imported: the first stamp's offset
        first = re.search(r"wrote \d+ files to .* in ([0-9.]+)s", done.stdout)
        command_seconds = float(first.group(1)) if first else seconds
        files = sum(1 for p in out.rglob("*") if p.is_file())
        phases = _phases(done.stderr, max(seconds - command_seconds, 0.0), seconds)
        return seconds, phases, files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", default=None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--engine", choices=("cohort", "micro"), default="cohort")
    parser.add_argument("--figures", action="store_true")
    args = parser.parse_args()
    load_average = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    runs = [_run_once(args.model_dir, args.engine, args.figures)
            for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r[0])
    times = [r[0] for r in runs]
    print(json.dumps({
        "model": args.model_dir or "default",
        "engine": args.engine,
        "figures": args.figures,
        "repeat": args.repeat,
        "seconds": round(best[0], 3),
        "median_seconds": round(statistics.median(times), 3),
        "all_seconds": [round(t, 3) for t in times],
        "phases_seconds": best[1],
        "files": best[2],
        "cores": _cores(),
        "load_average": None if load_average is None else round(load_average, 2),
    }))


if __name__ == "__main__":
    main()
