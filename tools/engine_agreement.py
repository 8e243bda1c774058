"""Do the two engines agree on each scheme's net transfers to complete cohorts? Many seeds.

The cohort engine gives expected values; the micro engine, run with R seeds, should scatter
around them. For every scheme and sex this prints the mean relative difference of the net
transfer (``net_transfer_pv``, summed over the cohorts complete for the pension), its
standard error from the replications and the t statistic (R - 1 degrees of freedom).
The slow test ``tests/test_engines_agree.py`` runs 10 seeds; this tool runs as many as
wanted, for the measures with too much run-to-run spread for 10 (the non-contributory
benefits: take-up is drawn once per person, so a run's luck lasts a childhood).

    python tools/engine_agreement.py --persons 40000 --seeds 1000 1200 \
        --end-year 2056 --cohorts 2010 2038

A shorter horizon (``--end-year``) is much faster; it leaves the child benefit's transfers
to the cohorts born up to 2041 as they are, but no cohort complete for the pension, hence
``--cohorts``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import spfsim


def net_transfers(ds, cohorts: np.ndarray) -> np.ndarray:
    """(scheme, sex) net transfers summed over ``cohorts``."""
    return ds["net_transfer_pv"].sel(cohort=cohorts).sum("cohort").transpose(
        "scheme", "sex").values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder (default: the default)")
    parser.add_argument("--persons", type=int, default=40_000)
    parser.add_argument("--seeds", type=int, nargs=2, default=(1000, 1100),
                        metavar=("FIRST", "STOP"), help="seeds FIRST .. STOP - 1")
    parser.add_argument("--end-year", type=int, default=None)
    parser.add_argument("--complete-for", default="pension",
                        help="scheme id whose complete cohorts are summed (default: pension)")
    parser.add_argument("--cohorts", type=int, nargs=2, default=None, metavar=("FIRST", "LAST"),
                        help="sum these birth cohorts instead (e.g. with a short horizon)")
    args = parser.parse_args()
    model = spfsim.load_model(args.model, end_year=args.end_year)
    cohort = model.project()
    if args.cohorts:
        chosen = (cohort["cohort"] >= args.cohorts[0]) & (cohort["cohort"] <= args.cohorts[1])
        label = "chosen"
    else:
        chosen = cohort["cohort_complete"].sel(scheme=args.complete_for)
        label = f"complete for {args.complete_for}"
    cohorts = cohort["cohort"].values[chosen.values]
    if not cohorts.size:
        parser.error(f"no cohort is {label} with this horizon: give --cohorts")
    expected = net_transfers(cohort, cohorts)
    start = time.perf_counter()
    runs = np.stack([net_transfers(model.project("micro", persons=args.persons, seed=seed),
                                   cohorts) for seed in range(*args.seeds)])
    r = len(runs)
    print(f"{r} runs of {args.persons:,} persons in {time.perf_counter() - start:.0f} s; "
          f"cohorts {cohorts[0]}-{cohorts[-1]} ({label})")
    print(f"{'scheme':<24}{'sex':<8}{'difference':>11}{'s.e.':>9}{'t':>7}")
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = runs / expected - 1.0
    for i, scheme in enumerate(cohort["scheme"].values):
        for j, sex in enumerate(cohort["sex"].values):
            x = relative[:, i, j]
            if not np.all(np.isfinite(x)) or expected[i, j] == 0:
                continue
            se = x.std(ddof=1) / np.sqrt(r)
            print(f"{scheme!s:<24}{sex!s:<8}{x.mean():>10.3%}{se:>9.3%}"
                  f"{x.mean() / se:>7.1f}")


if __name__ == "__main__":
    main()
