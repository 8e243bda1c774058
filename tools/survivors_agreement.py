"""Do the micro engine's survivors from family links agree with the cohort engine's?

With the pension's ``survivor_partners = "families"`` the micro engine pays the deceased's
own partner and children (family links), while the cohort engine expects them from the
expected couples of :mod:`spfsim.demography.partnerships` (each age's partners, a single
person's chance of forming a partnership, which ends a spouse's pension, and a man's
children linked to him at their birth). This runs the model so switched with R seeds and
prints, for chosen years, the micro engine's mean against the cohort engine for widows' and
widowers' pensions in payment, orphans' pensions and the survivors' branch expenditure:
the relative difference, its standard error from the replications and t (R - 1 degrees of
freedom), then the share of all years with |t| > 2 per measure.

    python tools/survivors_agreement.py --persons 1000000 --seeds 101 109 [--as-is]
        [--no-care-credits]

``--no-care-credits`` switches the pension's care credits off: with family links they go
to each child's own mother, year after year, while the cohort engine credits every
non-contributing woman of an age with the same chance each year, so fewer young women
reach the survivors' minimum service in the micro engine (see docs/schemes.md); without
them the comparison is of the survivors' rules alone.

(the default model; about 30 s a run of 1,000,000 persons on a 2-core machine).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import spfsim

SHOWN = (2025, 2026, 2030, 2035, 2040, 2050, 2060, 2075, 2100)


def survivor_measures(ds) -> dict[str, np.ndarray]:
    """(year,) survivors' pensions in payment by kind and the branch's expenditure."""
    pensions = ds["pensions_by_age"].sel(scheme="pension")
    spouses = pensions.sel(pension="spouse").sum("age")
    return {"widows": spouses.sel(sex="female").values,
            "widowers": spouses.sel(sex="male").values,
            "orphans": pensions.sel(pension="orphan").sum(["age", "sex"]).values,
            "expenditure": ds["benefit_expenditure_by_branch"].sel(
                scheme="pension", branch="survivors").values}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", nargs="?", default=None)
    parser.add_argument("--persons", type=int, default=250_000)
    parser.add_argument("--seeds", type=int, nargs=2, default=(101, 105),
                        help="first and last + 1 seed")
    parser.add_argument("--as-is", action="store_true",
                        help="keep the model's own survivor_partners (a reference: the "
                             "default model's married_share)")
    parser.add_argument("--no-care-credits", action="store_true",
                        help="switch the pension's care credits off")
    args = parser.parse_args()
    model = spfsim.load_model(args.model_dir)
    changes = {} if args.as_is else {"survivor_partners": "families"}
    if args.no_care_credits:
        changes["care_credit_child_age"] = 0
    if changes:
        model = model.with_parameters({"pension": changes}, name="survivors compared")
    expected = survivor_measures(model.project())
    started = time.perf_counter()
    runs = [survivor_measures(model.project("micro", persons=args.persons, seed=seed,
                                            poverty=False))
            for seed in range(*args.seeds)]
    years = model.years
    r = len(runs)
    print(f"{r} runs of {args.persons:,} persons in {time.perf_counter() - started:.0f} s; "
          "micro mean against the cohort engine: relative difference (s.e.) t")
    for name, cohort in expected.items():
        values = np.array([run[name] for run in runs])
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = values / cohort - 1.0
            mean, se = relative.mean(axis=0), relative.std(axis=0, ddof=1) / np.sqrt(r)
            t = mean / se
        print(f"\n{name} (cohort engine {cohort[0]:,.0f} in {years[0]})")
        for k, year in enumerate(years):
            if year in SHOWN:
                print(f"  {year}: {100 * mean[k]:+6.2f} % ({100 * se[k]:.2f}) t {t[k]:+5.1f}")
        finite = np.isfinite(t)
        print(f"  years with |t| > 2: {np.mean(np.abs(t[finite]) > 2):.0%} of {finite.sum()}"
              f"; mean difference over the years {100 * np.nanmean(mean):+.2f} %")


if __name__ == "__main__":
    main()
