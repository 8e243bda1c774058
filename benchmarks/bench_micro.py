"""Speed and memory of the micro engine on the default model.

Usage: python benchmarks/bench_micro.py --persons 1000000 --years 50 [--seed 1]
       [--chunk-size 65536] [--model DIR] [--no-families] [--no-poverty] [--repeat N]
       [--reference FILE | --no-reference] [--paired-without-families]

Compiles the kernels on a small run first, then times the simulation alone (the cohort
projection that provides the targets is not timed), ``--repeat`` times (default 1): on a
shared, noisy machine the median of several runs is the figure to quote. Prints, as its
last line, a JSON object with persons, years, person_years (persons alive and simulated,
summed over years), seconds (the median run's), seconds_each (every run's),
person_years_per_second (at the median), peak_rss_bytes (the whole process, from the kernel's
high-water mark), baseline_rss_bytes (after compilation, before the simulation),
bytes_per_person (peak / persons) and simulation_bytes_per_person ((peak - baseline) /
persons) (the memory figures of the first run), threads, families (whether persons were
linked into families: the model has a families table and --no-families was not given) and
poverty (whether household poverty was measured: families, the model's [poverty] section
and no --no-poverty).

The micro engine's speed targets are ratios to a minimal reference kernel run beside it
(``../shared/bench/ref_kernel.py`` from the repository's root, or ``--reference FILE``):
after the simulation the benchmark runs it as often, each time in a fresh process with the
same persons and years, and adds reference_person_years_per_second (the median) and
ratio_to_reference (the two medians' ratio); both null when the file is absent or
--no-reference is given.

Issue #19 asks the engine with families to keep at least 60 % of its speed without them.
Two runs of the two settings in separate processes drift apart with the machine (on this
project's machines the same run has taken 7 s and 11 s within an hour), so
``--paired-without-families`` times, right after each run, one run of the same persons
without families and poverty (compiled beforehand too) and adds
seconds_without_families_each, share_of_speed_without_families_each (person-years a
second with, over without, pair by pair) and share_of_speed_without_families (their
median).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numba

import spfsim
from spfsim.allocator import release_freed_memory
from spfsim.demography import project_population
from spfsim.economy import project_economy
from spfsim.engine.micro.engine import DEFAULT_CHUNK, MicroSettings, run_micro


def _rss_bytes(field: str) -> int:
    """VmRSS (current) or VmHWM (peak) of this process from /proc, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "bench" / "ref_kernel.py"


def _reference_speed(kernel: Path | None, persons: int, years: int,
                     repeat: int) -> float | None:
    """Median person-years a second of the reference kernel (its last line's JSON) run
    ``repeat`` times, each in a fresh process with ``persons`` and ``years``; None without
    the file."""
    if kernel is None or not kernel.is_file():
        return None
    speeds = []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, str(kernel), str(persons), str(years)],
                              capture_output=True, text=True, check=True)
        speeds.append(float(json.loads(done.stdout.strip().splitlines()[-1])
                            ["person_years_per_second"]))
    return statistics.median(speeds)


def micro_inputs(model_dir: str | None, years: int):
    """The model's assumptions over its first ``years`` years (default model: None), their
    population and economy projections: what run_micro takes."""
    probe = spfsim.load_model(model_dir)
    model = spfsim.load_model(model_dir, end_year=probe.input.base_year + years - 1)
    a = model.assumptions
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb, a.net_migration)
    return a, demo, project_economy(a, demo.population)


def _reset_peak() -> None:
    """Reset the kernel's high-water mark so the peak covers the simulation alone."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK)
    parser.add_argument("--model", default=None, help="model folder (default: the default "
                        "model)")
    parser.add_argument("--no-families", action="store_true",
                        help="persons without family links (the model's families table "
                        "ignored)")
    parser.add_argument("--no-poverty", action="store_true",
                        help="household poverty not measured (the model's [poverty] "
                        "section ignored)")
    parser.add_argument("--reference", type=Path, default=REFERENCE,
                        help="the reference kernel run beside the simulation (default: "
                        "../shared/bench/ref_kernel.py from the repository's root)")
    parser.add_argument("--no-reference", action="store_true",
                        help="do not run the reference kernel")
    parser.add_argument("--repeat", type=int, default=1,
                        help="time the simulation (and the reference kernel) this many "
                        "times and report the medians (default 1)")
    parser.add_argument("--paired-without-families", action="store_true",
                        help="after each run, time one without families and poverty, and "
                        "report the share of its speed pair by pair")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, not {args.repeat}")
    options = {"families": not args.no_families, "poverty": not args.no_poverty}
    alone = {"families": False, "poverty": False}
    a, demo, econ = micro_inputs(args.model, args.years)
    for compiled in ([options, alone] if args.paired_without_families else [options]):
        run_micro(a, demo, econ, MicroSettings(1000, args.seed, args.chunk_size,
                                               **compiled))  # compile
    # the memory the compiling run freed, which spfsim's allocator settings keep in the
    # process, is not part of the simulation's start
    release_freed_memory()
    baseline = _rss_bytes("VmRSS")
    _reset_peak()
    each, without, shares = [], [], []
    for run in range(args.repeat):
        seconds_run, person_years, linked, measured = _timed_run(a, demo, econ, args, options)
        each.append(seconds_run)
        if not run:  # the high-water mark: the memory given back after does not lower it
            peak = max(_rss_bytes("VmHWM"), baseline)
        if args.paired_without_families:
            seconds_alone, person_years_alone, _, _ = _timed_run(a, demo, econ, args, alone)
            without.append(seconds_alone)
            shares.append((person_years / each[-1]) / (person_years_alone / seconds_alone))
    seconds = statistics.median(each)
    speed = person_years / seconds
    reference = _reference_speed(None if args.no_reference else args.reference,
                                 args.persons, args.years, args.repeat)
    print(json.dumps({
        "persons": args.persons,
        "years": len(a.years),
        "person_years": person_years,
        "seconds": round(seconds, 3),
        "seconds_each": [round(s, 3) for s in each],
        "person_years_per_second": round(speed),
        "peak_rss_bytes": peak,
        "baseline_rss_bytes": baseline,
        "bytes_per_person": round(peak / args.persons, 1),
        "simulation_bytes_per_person": round((peak - baseline) / args.persons, 1),
        "threads": numba.get_num_threads(),
        "families": linked,
        "poverty": measured,
        "reference_person_years_per_second": None if reference is None else round(reference),
        "ratio_to_reference": None if reference is None else round(speed / reference, 4),
        **({"seconds_without_families_each": [round(s, 3) for s in without],
            "share_of_speed_without_families_each": [round(s, 3) for s in shares],
            "share_of_speed_without_families": round(statistics.median(shares), 3)}
           if args.paired_without_families else {}),
    }))


def _timed_run(a, demo, econ, args, options: dict) -> tuple[float, int, bool, bool]:
    """Seconds, person-years, and whether families were linked and poverty measured, of
    one run of ``options`` (MicroSettings' families and poverty); its memory goes back
    before the next run starts."""
    started = time.perf_counter()
    result = run_micro(a, demo, econ, MicroSettings(args.persons, args.seed,
                                                    args.chunk_size, **options))
    seconds = time.perf_counter() - started
    facts = (result.person_years, result.family is not None, result.poverty is not None)
    del result
    release_freed_memory()
    return (seconds, *facts)


if __name__ == "__main__":
    main()
