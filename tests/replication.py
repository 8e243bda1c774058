"""Unbiasedness of the micro engine against the cohort engine, from replications; runs in a
fresh process with a given number of threads (bitwise reproducibility)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np


def run_with_threads(script: str, out: Path, threads: int) -> Path:
    """Run ``script`` (Python source, given ``out`` as sys.argv[1], printing Numba's thread
    count as its last line) in a new process with ``threads`` Numba threads; checks that
    it ran with them and returns ``out``."""
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    done = subprocess.run([sys.executable, "-c", script, str(out)], env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == threads
    return out


def replication_t(simulated: np.ndarray, expected: np.ndarray) -> tuple[np.ndarray, float]:
    """Student t statistics of the relative difference between R independent micro runs
    (``simulated``: (R, year)) and the cohort engine (``expected``: (year,), all > 0).

    Returns the per-year t and the t of the horizon-wide mean relative difference, both
    with R - 1 degrees of freedom when the micro engine is unbiased. Standard errors come
    from the replications themselves, so no scaling law for the variance is assumed, and
    the horizon-wide statistic is one value however strongly the years are correlated.
    """
    r = len(simulated)
    relative = simulated / expected - 1.0
    t = relative.mean(axis=0) / (relative.std(axis=0, ddof=1) / np.sqrt(r))
    overall = relative.mean(axis=1)
    return t, float(overall.mean() / (overall.std(ddof=1) / np.sqrt(r)))


def difference_t(simulated: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Student t statistics of the difference between R independent micro runs
    (``simulated``: (R, ...)) and the cohort engine (``expected``: (...)), element by
    element, with R - 1 degrees of freedom when the micro engine is unbiased: for measures
    that may be zero or change sign (an actuarial balance, a net transfer)."""
    r = len(simulated)
    difference = simulated - expected
    return difference.mean(axis=0) / (difference.std(axis=0, ddof=1) / np.sqrt(r))


def scheme_series(ds, name: str, scheme: str = "pension") -> np.ndarray:
    """A scheme's yearly series for a replication test: ``average_new_benefit`` weighted
    over the sexes by new beneficiaries, any other variable as it is."""
    value = ds[name].sel(scheme=scheme)
    if name == "average_new_benefit":
        new = ds["new_beneficiaries"].sel(scheme=scheme)
        return ((value * new).sum("sex") / new.sum("sex")).values
    return value.values
