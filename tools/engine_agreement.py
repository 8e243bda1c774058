"""Do the two engines agree on each scheme's equity and financing measures? Many seeds.

The cohort engine gives expected values; the micro engine, run with R seeds, should scatter
around them. For every scheme and sex this prints the mean difference of the net transfer
(``net_transfer_pv``, summed over the cohorts complete for the pension) and of the money's
worth ratio (relative), of the cohort IRR (absolute; both averaged over those cohorts) and,
per scheme, of the general average premium (absolute), each with its standard error from
the replications and the t statistic (R - 1 degrees of freedom).
The slow test ``tests/test_engines_agree.py`` runs 10 seeds; this tool runs as many as
wanted, for the measures with too much run-to-run spread for 10 (the non-contributory
benefits: take-up is drawn once per person, so a run's luck lasts a childhood).

    python tools/engine_agreement.py --persons 40000 --seeds 1000 1200 \
        --end-year 2056 --cohorts 2010 2038

``--years`` adds the PAYG cost rate of those years (absolute difference).

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


def cohort_means(ds, name: str, cohorts: np.ndarray) -> np.ndarray:
    """(scheme, sex) mean of a cohort measure (``cohort_irr``, ``money_worth_ratio``) over
    ``cohorts``."""
    return ds[name].sel(cohort=cohorts).mean("cohort").transpose("scheme", "sex").values


def measures(ds, cohorts: np.ndarray, years: tuple[int, ...] = ()) -> dict[str, np.ndarray]:
    """What the engines are compared on, each (scheme, sex) or (scheme,); with ``years``,
    the PAYG cost rate of each of them too."""
    return {"net transfer": net_transfers(ds, cohorts),
            "IRR": cohort_means(ds, "cohort_irr", cohorts),
            "money's worth": cohort_means(ds, "money_worth_ratio", cohorts),
            "GAP": ds["general_average_premium"].transpose("scheme").values,
            **{f"PAYG cost rate {year}": ds["paygo_cost_rate"].sel(year=year).transpose(
                "scheme").values for year in years}}


def report(name: str, runs: np.ndarray, expected: np.ndarray, schemes, sexes,
           relative: bool) -> None:
    """Print the mean difference of the runs from the cohort engine, its standard error
    from the replications and t (R - 1 degrees of freedom), relative or absolute."""
    r = len(runs)
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = runs / expected - 1.0 if relative else runs - expected
    unit = "relative" if relative else "absolute"
    print(f"\n{name} ({unit} difference, micro - cohort)")
    print(f"{'scheme':<24}{'sex':<8}{'cohort':>10}{'difference':>12}{'s.e.':>10}{'t':>7}")
    for index in np.ndindex(expected.shape):
        x = diff[(slice(None), *index)]
        if not np.all(np.isfinite(x)) or expected[index] == 0:
            continue
        se = x.std(ddof=1) / np.sqrt(r)
        sex = sexes[index[1]] if len(index) > 1 else "both"
        fmt = ".3%" if relative else ".5f"
        print(f"{schemes[index[0]]!s:<24}{sex!s:<8}{expected[index]:>10.4g}"
              f"{x.mean():>12{fmt}}{se:>10{fmt}}{x.mean() / se:>7.1f}")


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
    parser.add_argument("--years", type=int, nargs="*", default=(),
                        help="compare the PAYG cost rate of these years too")
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
    years = tuple(args.years)
    expected = measures(cohort, cohorts, years)
    start = time.perf_counter()
    runs = [measures(model.project("micro", persons=args.persons, seed=seed), cohorts, years)
            for seed in range(*args.seeds)]
    print(f"{len(runs)} runs of {args.persons:,} persons in "
          f"{time.perf_counter() - start:.0f} s; cohorts {cohorts[0]}-{cohorts[-1]} ({label})")
    schemes, sexes = cohort["scheme"].values, cohort["sex"].values
    for name, value in expected.items():
        report(name, np.stack([run[name] for run in runs]), value, schemes, sexes,
               relative=name in ("net transfer", "money's worth"))


if __name__ == "__main__":
    main()
