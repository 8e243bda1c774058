"""What the US model's features move, one taken out at a time, and what five features
it does not yet take would move, one added after the other (issue #22: which features
move the average benefit, and by how much).

    python tools/us_oasdi_features.py [--model models/us-oasdi-tr2026] [--data DIR]
    python tools/us_oasdi_features.py --engines RUNS

With ``--engines``, only the two engines on the model with variants 1 and 2 (the
dependants' supplements and the past's prices and wages): the cost rate and each branch,
RUNS micro runs of 500,000 persons against the cohort engine.

The first table takes out, one at a time, a feature the model has (:data:`TAKEN_OUT`);
the last lines say what paying widow(er)s only from 60 would do (:func:`widows_from_60`)
and what the past's prices and wages would do alone.
The second table's variants are the model with, cumulatively:

1. ``dependants``: the supplements of the spouses and children of living retired and
   disabled workers, the law's (Social Security Act sec. 202(b)-(d), 203(a)): half the
   worker's benefit for a spouse from 62 and for each child under 18, all of them within
   a family maximum of 175 % of the worker's (``dependants_maximum_share`` 0.75, as the
   model's survivors' 1.75), the partners by the married share of the area population
   aged 62 and over in 2025 (SSPopJul: tools/build_us_oasdi.married_shares);
2. ``history``: the past's prices and wages (the ``economic_history`` table of
   tools/build_us_oasdi.write_economic_history: V.B1's CPI and real covered wage,
   1960-2024), for the base year's pensions in payment, instead of every past year at
   2025's growth;
3. ``never``: a share of each birth cohort never covered (``never_covered_share``): 20 % of
   the cohorts born before 1960, then 8 % of the men and 14 % of the women, about the
   most the labour table's covered workers leave (the men's coverage reaches 0.91 of an
   age, the women's 0.85). Stylised, not calibrated: it brings the old-age pensions of 2025
   near the 53.6 million retired workers (V.C4).
4. ``best 35``: the average over the best 35 credited years (``reference_earnings_years``
   35, ``reference_earnings_selection`` "best"), the law's highest 35 (sec. 215(b)(2)(A));
   the row before it shows the last 35 instead.
5. ``transitory``: the year's earnings spread (log-sd, calibrated to the 2025 taxable
   payroll) split into a person's for life (0.716) and the year's (0.836), the same
   yearly spread (so the same payroll): 42 % of its variance permanent instead of all. The
   award's spread is the permanent part's; the survivors' ``pensions_in_payment_spread``
   is measured on this variant (build_us_oasdi.survivor_topup, its micro engine in 2080
   with the variant's parameters), since the deceased's pensions spread less with it.

Then, with those five, widow(er)s paid from 60 (``survivor_minimum_age``, sec.
202(e)(1)(B)) with the ``married_share`` that gives V.C4's survivors of 2025, and the
dependent spouses' partner shares scaled to V.C4's and V.C5's spouses of 2025 (each found
by bisection on the base year: historical figures).

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
sys.path.insert(0, str(REPO / "tools"))

from build_us_oasdi import (  # noqa: E402
    BRANCHES,
    DATA,
    branches_report,
    married_shares,
    spouses_2025,
    survivor_topup,
    survivors_2025,
    write_economic_history,
)

import spfsim  # noqa: E402

NEVER = {"male": {1900: 0.2, 1960: 0.08}, "female": {1900: 0.2, 1960: 0.14}}
PERMANENT_SD, TRANSITORY_SD = 0.716, 0.836
YEARS = (2025, 2040, 2060, 2080, 2099)


def dependants(data: Path) -> dict:
    """The parameters of variant 1 (the law's shares, the measured partners)."""
    male, female = married_shares(data)
    return {"dependant_spouse_share": 0.5, "dependant_child_share": 0.5,
            "dependant_spouse_age": 62, "dependants_maximum_share": 0.75,
            "dependant_partner_share": {"male": male, "female": female}}


def _with_history(model_dir: Path, folder: Path, data: Path) -> Path:
    """A copy of the model with the past's prices and wages of variant 2."""
    shutil.copytree(model_dir, folder)
    write_economic_history(data, folder / "assumptions")
    header = folder / "assumptions" / "assumptions.toml"
    header.write_text(header.read_text()
                      + '\n[tables.economic_history]\nfile = "economic_history.csv"\n')
    return folder


def _with_spread(model_dir: Path, folder: Path) -> Path:
    """A copy of the model with the permanent and transitory spreads of variant 5."""
    shutil.copytree(model_dir, folder)
    path = folder / "model.toml"
    text = re.sub(r"earnings_permanent_sd = [0-9.]+",
                  f"earnings_permanent_sd = {PERMANENT_SD}\n"
                  f"earnings_transitory_sd = {TRANSITORY_SD}", path.read_text())
    path.write_text(text)
    return folder


# the model with one feature taken out: its scheme parameters, or an edit of one of its
# files (the file, a pattern, its replacement)
WHOLE_YEARS = {"male": {1937: 65, 1943: 66, 1957: 67}, "female": {1937: 65, 1943: 66,
                                                                  1957: 67}}
TAKEN_OUT = (
    ("the normal retirement age in whole years (1957 = 67) and 6 % a year of early "
     "reduction (the build before)",
     {"retirement_age": WHOLE_YEARS, "early_reduction": 0.06, "early_reduction_years": 0,
      "early_reduction_after": 0.0}, None),
    ("no indexing lag: the credits indexed to the year of eligibility (`indexing_lag = 0`)",
     {"indexing_lag": 0}, None),
    ("the formula applied at award, not at 62 (`eligibility_age = 0`)",
     {"eligibility_age": 0}, None),
    ("no earnings spread within a cell (`earnings_permanent_sd = 0`)", {},
     ("model.toml", r"earnings_permanent_sd = [0-9.]+", "earnings_permanent_sd = 0.0")),
    ("no contribution history (every past year at 2025's rates)", {},
     ("assumptions/assumptions.toml",
      r"\[tables.contribution_history\]\nfile = \"contribution_history.csv\"\n", "")),
    ("survivors' pensions at their cells' means (`pensions_in_payment_spread = 0`; the own "
     "pensions keep their classes' shapes)",
     {"pensions_in_payment_spread": 0.0}, None),
    ("both pensions paid in full (`\"both\"`), `married_share` 0.1085 as an earlier build "
     "calibrated it", {"survivor_with_own_pension": "both", "married_share": 0.1085}, None),
)
TAKEN_OUT_YEARS = (2025, 2040, 2060, 2080, 2099)


def _edited(model_dir: Path, folder: Path, file: str, pattern: str, replacement: str
            ) -> Path:
    """A copy of the model with one edit of one of its files (which must match once)."""
    shutil.copytree(model_dir, folder)
    path = folder / file
    text, count = re.subn(pattern, replacement, path.read_text())
    if count != 1:
        raise SystemExit(f"{path}: {pattern!r} matched {count} times, not once")
    path.write_text(text)
    return folder


def _taken_out_row(name: str, model: spfsim.Model) -> str:
    """The average benefit of every beneficiary over the average taxable earnings, the
    cost rate, the actuarial balance and the depletion year (markdown)."""
    ds = model.project().sel(scheme="oasdi")
    payroll = ds["insured_earnings"]
    cost = (ds["benefit_expenditure"] + ds["admin_expenditure"]) / payroll
    ratio = (ds["benefit_expenditure"] / ds["beneficiaries"].sum(["age", "sex"])) / (
        payroll / ds["contributors"].sum(["age", "sex"]))
    return (f"| {name} "
            + "".join(f"| {float(ratio.sel(year=y)):.3f} " for y in TAKEN_OUT_YEARS)
            + "".join(f"| {float(cost.sel(year=y)) * 100:.2f} " for y in (2025, 2060, 2099))
            + f"| {float(ds['actuarial_balance']) * 100:+.2f} "
            + f"| {float(ds['depletion_year']):.0f} |")


def taken_out(model_dir: Path) -> None:
    """Print the table of the model with one feature taken out at a time."""
    print("| model | ratio " + " | ".join(str(y) for y in TAKEN_OUT_YEARS)
          + " | cost rate 2025 | 2060 | 2099 | actuarial balance 2026-2100 | depletion |")
    print("|---" * 11 + "|")
    model = spfsim.load_model(model_dir)
    print(_taken_out_row("as built", model))
    with tempfile.TemporaryDirectory() as tmp:
        for k, (name, parameters, edit) in enumerate(TAKEN_OUT):
            variant = (spfsim.load_model(_edited(model_dir, Path(tmp) / str(k), *edit))
                       if edit else model)
            if parameters:
                variant = variant.with_parameters({"oasdi": parameters})
            print(_taken_out_row(name, variant))


def _row(name: str, model: spfsim.Model) -> str:
    ds = model.project().sel(scheme="oasdi")
    payroll = ds["insured_earnings"]
    cost = (ds["benefit_expenditure"] + ds["admin_expenditure"]) / payroll
    branch = ds["beneficiaries_by_branch"].sum([d for d in ds["beneficiaries_by_branch"].dims
                                                if d not in ("year", "branch")])
    kinds = ds["pensions_by_age"].sel(year=YEARS[0]).sum(["age", "sex"]) / 1e6
    money = ds["benefit_expenditure_by_branch"]
    old_age = branch.sel(branch="old_age")
    monthly = money.sel(branch="old_age") / old_age / 12
    workers = ds["contributors"].sum(["age", "sex"])
    ratio = (money.sel(branch="old_age") / old_age) / (payroll / workers)
    first = {"year": YEARS[0]}
    return (f"| {name} | {float(old_age.sel(first)) / 1e6:.1f} "
            f"| {float(kinds.sel(pension='dependent_spouse')):.1f} "
            f"| {float(kinds.sel(pension='dependent_child')):.1f} "
            f"| {float(monthly.sel(first)):,.0f} "
            + "".join(f"| {float(ratio.sel(year=y)):.3f} " for y in (2025, 2060, 2099))
            + "".join(f"| {float(cost.sel(year=y)) * 100:.2f} " for y in YEARS)
            + f"| {float(ds['actuarial_balance']) * 100:+.2f} |")


def _survivors_and_cost(model: spfsim.Model, parameters: dict) -> tuple[float, list]:
    """The 2025 survivors' branch count (millions) and the cost rate (%) of 2025, 2060 and
    2099 of ``model`` with its scheme's ``parameters``."""
    ds = model.with_parameters({"oasdi": parameters}).project().sel(scheme="oasdi")
    cost = (ds["benefit_expenditure"] + ds["admin_expenditure"]) / ds["insured_earnings"]
    survivors = ds["beneficiaries_by_branch"].sel(year=2025, branch="survivors").sum()
    return float(survivors) / 1e6, [float(cost.sel(year=y)) * 100 for y in (2025, 2060, 2099)]


def _bisected(measure, target: float, low: float, high: float, steps: int = 14) -> float:
    """The value in [low, high] at which the increasing ``measure`` reaches ``target``."""
    for _ in range(steps):
        middle = (low + high) / 2
        low, high = (middle, high) if measure(middle) < target else (low, middle)
    return (low + high) / 2


def _base_year(model: spfsim.Model, parameters: dict):
    return model.with_parameters({"oasdi": parameters}).project().sel(scheme="oasdi",
                                                                      year=2025)


def _widows_calibrated(model: spfsim.Model, parameters: dict, target: float
                       ) -> tuple[dict, float]:
    """``parameters`` with widow(er)s paid from 60 and the ``married_share`` (the women's
    0.45 times the men's, as the build) at which the 2025 survivors without a worker's
    benefit are ``target`` (persons)."""
    def survivors(share: float) -> float:
        ds = _base_year(model, _widows(parameters, share))
        return float(ds["beneficiaries_by_branch"].sel(branch="survivors").sum())

    share = _bisected(survivors, target, 0.2, 1.0)
    return _widows(parameters, share), share


def _widows(parameters: dict, share: float) -> dict:
    """``parameters`` with widow(er)s paid from 60 and a ``married_share`` of ``share``
    for the men, 0.45 times it for the women (as the build)."""
    return {**parameters, "survivor_minimum_age": 60,
            "married_share": {"male": share, "female": round(0.45 * share, 4)}}


def _spouses_calibrated(model: spfsim.Model, parameters: dict, target: float
                        ) -> tuple[dict, float]:
    """``parameters`` with the dependent spouses' partner shares scaled so that the 2025
    dependent spouses are ``target`` (persons)."""
    measured = parameters["dependant_partner_share"]

    def with_scale(scale: float) -> dict:
        return {**parameters, "dependant_partner_share": {
            sex: share * scale for sex, share in measured.items()}}

    def spouses(scale: float) -> float:
        ds = _base_year(model, with_scale(scale))
        return float(ds["pensions_by_age"].sel(pension="dependent_spouse").sum())

    scale = _bisected(spouses, target, 0.0, 1.0)
    return with_scale(scale), scale


def widows_from_60(model: spfsim.Model, target: float) -> None:
    """Print what paying a widow(er) only from 60 (sec. 202(e)(1)(B)) does to the model
    as built: the survivors' count with every deceased man leaving a widow, and the
    ``married_share`` that reaches ``target`` (persons) with the never covered."""
    count, cost = _survivors_and_cost(model, _widows({}, 1.0))
    print(f"widows from 60, married_share 1: {count:.2f} million survivors, cost rate "
          + ", ".join(f"{c:.2f}" for c in cost))
    parameters, share = _widows_calibrated(model, {"never_covered_share": NEVER}, target)
    count, cost = _survivors_and_cost(model, parameters)
    print(f"widows from 60 with the never covered: married_share {share:.3f} gives "
          f"{count:.2f} million survivors, cost rate " + ", ".join(f"{c:.2f}" for c in cost))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=REPO / "models" / "us-oasdi-tr2026")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--engines", type=int, default=0, metavar="RUNS",
                        help="compare the engines on the model with the dependants' "
                        "supplements and the past's prices and wages, RUNS micro runs")
    args = parser.parse_args(argv)
    if args.engines:
        with tempfile.TemporaryDirectory() as tmp:
            print(branches_report(_with_history(args.model, Path(tmp) / "history", args.data),
                                  args.engines, branches=(*BRANCHES, "dependants"),
                                  parameters=dependants(args.data), cost=True))
        return
    taken_out(args.model)
    print()
    added = dependants(args.data)
    never = {**added, "never_covered_share": NEVER}
    last = {**never, "reference_earnings_years": 35}
    both = {**last, "reference_earnings_selection": "best"}
    print("| model | old-age pensions 2025, millions | dependent spouses 2025, millions | "
          "dependent children 2025, millions | average old-age pension 2025, USD a month "
          "| old-age pension / average taxable earnings 2025 | 2060 | 2099 | "
          + " | ".join(f"cost rate {y}" for y in YEARS) + " | actuarial balance |")
    print("|---" * 14 + "|")
    model = spfsim.load_model(args.model)
    print(_row("as built", model))
    print(_row("+ dependants' supplements", model.with_parameters({"oasdi": added})))
    with tempfile.TemporaryDirectory() as tmp:
        history_dir = _with_history(args.model, Path(tmp) / "history", args.data)
        history = spfsim.load_model(history_dir)
        print(_row("+ the past's prices and wages", history.with_parameters({"oasdi": added})))
        print(_row("+ never covered", history.with_parameters({"oasdi": never})))
        print(_row("+ last 35 years", history.with_parameters({"oasdi": last})))
        print(_row("+ best 35 years instead", history.with_parameters({"oasdi": both})))
        spread_dir = _with_spread(history_dir, Path(tmp) / "model")
        spread = spfsim.load_model(spread_dir)
        # the survivors' spread measured on the variant, as the build measures the model's
        measured = survivor_topup(spread_dir, spread=0.0, parameters=both)["matching_spread"]
        both = {**both, "pensions_in_payment_spread": round(measured, 3)}
        print(_row(f"+ transitory earnings (the survivors' spread measured on it: "
                   f"{measured:.3f})", spread.with_parameters({"oasdi": both})))
        widows, married = _widows_calibrated(spread, both, survivors_2025(args.data))
        print(_row(f"+ widow(er)s from 60, `married_share` {married:.3f} (V.C4's survivors)",
                   spread.with_parameters({"oasdi": widows})))
        spouses, scale = _spouses_calibrated(spread, widows, spouses_2025(args.data))
        print(_row(f"+ the dependent spouses' partners {scale:.2f} times the married share "
                   "(V.C4's and V.C5's spouses)", spread.with_parameters({"oasdi": spouses})))
        print()
        widows_from_60(model, survivors_2025(args.data))
        _, cost = _survivors_and_cost(history, {})
        print("the past's prices and wages alone: cost rate " + ", ".join(
            f"{c:.2f}" for c in cost))


if __name__ == "__main__":
    main()
