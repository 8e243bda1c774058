"""Where the micro engine's time goes: its phases on the default model, timed.

Usage: python benchmarks/bench_micro_phases.py --persons 1000000 --years 50 [--seed 1]
       [--model DIR] [--no-families] [--no-poverty]

Profile before you optimise: this times each phase of a run (the population's year step,
the poverty pass and each of its kernels, the family pass, compaction, the entrants and
the survivors' awards) by wrapping the functions the engine calls, after a small compiling
run. Prints, as its last line, a JSON object with persons, years, seconds (the whole run)
and phases (seconds each, summed over the years, largest first). A phase inside another
(the poverty kernels inside ``poverty``) counts in both. One run on a shared machine
varies by 10-20 %: compare two versions by running them in turn, several times.
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import time

from bench_micro import micro_inputs  # this folder is the script's import path

from spfsim.engine.micro import population, poverty
from spfsim.engine.micro.engine import DEFAULT_CHUNK, MicroSettings, run_micro

#: the Population methods the engine calls each year
POPULATION_PHASES = ("year_step", "poverty", "family_year", "compact", "add_newborns",
                     "add_immigrants", "survivor_claims", "award", "count_states", "finish")
#: the poverty pass's kernels (engine.micro.poverty), inside ``poverty``
POVERTY_PHASES = ("household_incomes", "household_tested_benefits", "household_benefits",
                  "household_coverage", "household_measures", "poverty_counts")


def _timed(function, seconds: dict[str, float], name: str):
    @functools.wraps(function)
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[name] += time.perf_counter() - started
    return timed


def _wrap(seconds: dict[str, float]) -> None:
    for name in POPULATION_PHASES:
        if hasattr(population.Population, name):
            setattr(population.Population, name,
                    _timed(getattr(population.Population, name), seconds, name))
    for name in POVERTY_PHASES:
        setattr(poverty, name, _timed(getattr(poverty, name), seconds, "poverty." + name))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model", default=None, help="model folder (default: the default "
                        "model)")
    parser.add_argument("--no-families", action="store_true")
    parser.add_argument("--no-poverty", action="store_true")
    args = parser.parse_args()
    options = {"families": not args.no_families, "poverty": not args.no_poverty}
    a, demo, econ = micro_inputs(args.model, args.years)
    seconds: dict[str, float] = collections.defaultdict(float)
    _wrap(seconds)
    run_micro(a, demo, econ, MicroSettings(1000, args.seed, DEFAULT_CHUNK, **options))
    seconds.clear()
    started = time.perf_counter()
    run_micro(a, demo, econ, MicroSettings(args.persons, args.seed, DEFAULT_CHUNK, **options))
    total = time.perf_counter() - started
    print(json.dumps({
        "persons": args.persons, "years": len(a.years), "seconds": round(total, 3),
        "phases": {name: round(value, 3)
                   for name, value in sorted(seconds.items(), key=lambda kv: -kv[1])}}))


if __name__ == "__main__":
    main()
