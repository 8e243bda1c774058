"""What three features the US model does not yet take would move, one added after the
other (issue #22: which features move the average benefit, and by how much).

    python tools/us_oasdi_features.py [--model models/us-oasdi-tr2026]

Each variant is the model with, cumulatively:

1. ``never``: a share of each birth cohort never covered (``never_covered_share``): 20 % of
   the cohorts born before 1960, then 8 % of the men and 14 % of the women, about the
   most the labour table's covered workers leave (the men's coverage reaches 0.91 of an
   age, the women's 0.85). Stylised, not calibrated: it brings the old-age pensions of 2025
   near the 53.6 million retired workers (V.C4).
2. ``last 35``: the average over the last 35 credited years (``reference_earnings_years``)
   for the law's highest 35 (sec. 215(b)(2)(A)).
3. ``transitory``: the year's earnings spread (log-sd, calibrated to the 2025 taxable
   payroll) split into a person's for life (0.716) and the year's (0.836), the same
   yearly spread (so the same payroll): 42 % of its variance permanent instead of all. The
   award's spread is the permanent part's.

Nothing here is fitted to a projected result; the model itself is unchanged. The figures
are the cohort engine's, with the model's four other calibrations as they are.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

import spfsim  # noqa: E402

NEVER = {"male": {1900: 0.2, 1960: 0.08}, "female": {1900: 0.2, 1960: 0.14}}
PERMANENT_SD, TRANSITORY_SD = 0.716, 0.836
YEARS = (2025, 2040, 2060, 2080, 2099)


def _with_spread(model_dir: Path, folder: Path) -> Path:
    """A copy of the model with the permanent and transitory spreads of variant 3."""
    shutil.copytree(model_dir, folder)
    path = folder / "model.toml"
    text = re.sub(r"earnings_permanent_sd = [0-9.]+",
                  f"earnings_permanent_sd = {PERMANENT_SD}\n"
                  f"earnings_transitory_sd = {TRANSITORY_SD}", path.read_text())
    path.write_text(text)
    return folder


def _row(name: str, model: spfsim.Model) -> str:
    ds = model.project().sel(scheme="oasdi")
    payroll = ds["insured_earnings"]
    cost = (ds["benefit_expenditure"] + ds["admin_expenditure"]) / payroll
    branch = ds["beneficiaries_by_branch"].sum([d for d in ds["beneficiaries_by_branch"].dims
                                                if d not in ("year", "branch")])
    money = ds["benefit_expenditure_by_branch"]
    old_age = branch.sel(branch="old_age")
    monthly = money.sel(branch="old_age") / old_age / 12
    workers = ds["contributors"].sum(["age", "sex"])
    ratio = (money.sel(branch="old_age") / old_age) / (payroll / workers)
    first = {"year": YEARS[0]}
    return (f"| {name} | {float(old_age.sel(first)) / 1e6:.1f} "
            f"| {float(monthly.sel(first)):,.0f} "
            + "".join(f"| {float(ratio.sel(year=y)):.3f} " for y in (2025, 2060, 2099))
            + "".join(f"| {float(cost.sel(year=y)) * 100:.2f} " for y in YEARS)
            + f"| {float(ds['actuarial_balance']) * 100:+.2f} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=REPO / "models" / "us-oasdi-tr2026")
    args = parser.parse_args(argv)
    never = {"never_covered_share": NEVER}
    both = {**never, "reference_earnings_years": 35}
    print("| model | old-age pensions 2025, millions | average old-age pension 2025, USD a "
          "month | old-age pension / average taxable earnings 2025 | 2060 | 2099 | "
          + " | ".join(f"cost rate {y}" for y in YEARS) + " | actuarial balance |")
    print("|---" * 12 + "|")
    model = spfsim.load_model(args.model)
    print(_row("as built", model))
    print(_row("+ never covered", model.with_parameters({"oasdi": never})))
    print(_row("+ last 35 years", model.with_parameters({"oasdi": both})))
    with tempfile.TemporaryDirectory() as tmp:
        spread = spfsim.load_model(_with_spread(args.model, Path(tmp) / "model"))
        print(_row("+ transitory earnings", spread.with_parameters({"oasdi": both})))


if __name__ == "__main__":
    main()
