"""Rewrite the figures about the default model in the docs from its files and a projection.

The docs quote the default model: its assumptions (the interest rate path, the pension's
contribution rate and pensionable ages, the horizon) and its results (cohort returns, the
actuarial balance, the jumps a run lists). Typed by hand they drift from the data; here each
is computed, and written between markers in the Markdown::

    <!-- BEGIN generated:NAME -->text this script writes<!-- END generated:NAME -->

on one line (inside a sentence or a table cell) or around whole lines (a code block). The
script rewrites every marked spot of ``DOCS`` (each file atomically, and only when it
changes); a marker with a name it does not know is an error, so is a figure used nowhere.

    python tools/doc_figures.py                      # all figures: one cohort projection, ~10 s
    python tools/doc_figures.py --assumptions-only   # only those from the model's files
    python tools/doc_figures.py --check              # list stale spots, write nothing (exit 1)
    python tools/doc_figures.py --micro              # also the micro engine's (MICRO_RUN), minutes

``tests/test_doc_figures.py`` fails when a committed doc differs from what this script would
write (the assumption figures always; the projection figures in a slow test).
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DOCS = (REPO / "docs" / "equity.md", REPO / "docs" / "finance.md",
        REPO / "models" / "default" / "README.md")
MARKER = re.compile(r"<!-- BEGIN generated:(?P<name>[a-z0-9-]+) -->(?P<body>.*?)"
                    r"<!-- END generated:(?P=name) -->", re.S)
_TOLERANCE = 1e-9  # fractions closer than this are the same value (CSV rounding)


# --------------------------------------------------------------------------- wording


def percent(value: float) -> str:
    """0.07625 -> '7.625 %' (the docs' style: up to four significant digits, a space)."""
    return f"{100 * value:.4g} %"


def _range(values: np.ndarray, fmt: Callable[[float], str], unit: str = "") -> str:
    """'8.5 %', '11.2-11.8 %' or '-0.11 to -0.07': the lowest and highest value, once when
    they read alike ('to' where a sign would make a dash ambiguous)."""
    low, high = fmt(float(np.nanmin(values))), fmt(float(np.nanmax(values)))
    if low == high:
        return f"{low}{unit}"
    dash = " to " if low.startswith("-") or high.startswith(("-", "+")) else "-"
    return f"{low}{dash}{high}{unit}"


def path_phrase(years: np.ndarray, values: np.ndarray,
                fmt: Callable[[float], str] = percent) -> str:
    """A piecewise-linear yearly path in words, from its kinks: '12 % in 2025 falling to 5 %
    by 2030'; '2 % to 2040, falling to 1.5 % by 2060'; '2.5 % throughout'."""
    v = np.asarray(values, dtype=float)
    slope = np.diff(v)
    kinks = [0, *(k for k in range(1, len(v) - 1)
                  if abs(slope[k] - slope[k - 1]) > _TOLERANCE), len(v) - 1]
    if np.all(np.abs(v - v[0]) <= _TOLERANCE):
        return f"{fmt(v[0])} throughout"
    parts: list[str] = []
    for start, end in itertools.pairwise(kinks):
        if abs(v[end] - v[start]) <= _TOLERANCE:  # a level held
            if end != len(v) - 1:  # held until a later change; to the end goes unsaid
                parts.append(f"{fmt(v[start])} to {years[end]}")
            continue
        change = (f"{'rising' if v[end] > v[start] else 'falling'} to {fmt(v[end])} "
                  f"by {years[end]}")
        parts.append(change if parts else f"{fmt(v[start])} in {years[start]} {change}")
    return ", ".join(parts)


def dated_phrase(values: dict[int, float], fmt: Callable[[float], str],
                 noun: str = "") -> str:
    """A parameter's values by effective year: '11 % contribution rising to 13 % in 2030',
    '60 rising to 62 by 2035' (several steps: the last one's year)."""
    years = sorted(values)
    first = fmt(values[years[0]]) + (f" {noun}" if noun else "")
    if len(years) == 1:
        return first
    last = values[years[-1]]
    verb = "rising" if last > values[years[0]] else "falling"
    when = f"in {years[-1]}" if len(years) == 2 else f"by {years[-1]}"
    return f"{first} {verb} to {fmt(last)} {when}"


def _by_sex(by_sex: dict, fmt: Callable[[float], str], noun: str = "") -> str:
    """One phrase when both sexes have the same dated values, else one each."""
    phrases = {sex: dated_phrase(v.values, fmt, noun) for sex, v in by_sex.items()}
    if len(set(phrases.values())) == 1:
        return next(iter(phrases.values()))
    return "; ".join(f"{sex}: {text}" for sex, text in phrases.items())


def _age(value: float) -> str:
    return f"{value:g}"


# --------------------------------------------------------------------------- figures


def _pension(model):
    return next(s for s in model.input.schemes if s.type == "db_old_age_pension")


def _horizon(model) -> str:
    return f"{model.years[0]}–{model.years[-1]}"


def _horizon_length(model) -> str:
    return f"{len(model.years)} years"


def _interest_rate(model) -> str:
    return path_phrase(model.years, model.assumptions.interest_rate)


def _economy(model) -> str:
    a = model.assumptions
    real = (1.0 + a.interest_rate) / (1.0 + a.inflation) - 1.0
    return (f"inflation {path_phrase(a.years, a.inflation)}; real wage growth "
            f"{path_phrase(a.years, a.real_wage_growth)}; real return on reserves "
            f"{path_phrase(a.years, real)}")


def _contribution_rate(model) -> str:
    return _by_sex(_pension(model).numbers["contribution_rate"], percent, "contribution")


def _pensionable_age(model) -> str:
    return _by_sex(_pension(model).numbers["retirement_age"], _age)


def _retirement_age_example(model) -> str:
    """The solver example of docs/finance.md, from the pension's own age steps."""
    pension = _pension(model)
    steps = pension.numbers["retirement_age"]
    values = next(iter(steps.values())).values  # the example is for both sexes alike
    last = max(values)
    final, start = int(values[last]), last + 1
    before = "{" + ", ".join(f"{y}: {int(values[y])}" for y in sorted(values)) + "}"
    return f"""

```python
model = spfsim.load_model()
balance_of = fin.model_balance_of(model, "{pension.id}")
path = fin.retirement_age_path(balance_of, start_year={start}, base_age={final}, max_age=70,
                               step_years=2, before={before})
path.solution["final_age"], path.constraints["evaluated"]
```

(`before` keeps the default model's own steps to {final} by {last}, so n = 0 reproduces the
baseline's balance; from {start} the age rises a year every two years. Five projections,
about 5 s.)

"""


ASSUMPTION_FIGURES: dict[str, Callable] = {
    "horizon": _horizon,
    "horizon-length": _horizon_length,
    "interest-rate": _interest_rate,
    "economy": _economy,
    "contribution-rate": _contribution_rate,
    "pensionable-age": _pensionable_age,
    "retirement-age-example": _retirement_age_example,
}


def _complete(ds, scheme: str) -> np.ndarray:
    return ds["cohort"].values[ds["cohort_complete"].sel(scheme=scheme).values.astype(bool)]


def _complete_cohorts(model, ds) -> str:
    pension, social = _complete(ds, "pension"), _complete(ds, "social_pension")
    return (f"born {pension.min()}-{pension.max()} ({len(pension)}), the social pension's "
            f"{social.min()}-{social.max()}")


def _pension_cohorts(model, ds) -> str:
    cohorts = _complete(ds, "pension")
    return f"{cohorts.min()}-{cohorts.max()}"


def _pension_measure(ds, name: str, sex: str) -> np.ndarray:
    measure = ds[name].sel(scheme="pension", sex=sex)
    return measure.sel(cohort=_complete(ds, "pension")).values


def _pension_irr(model, ds) -> str:
    def fmt(v: float) -> str:
        return f"{100 * v:.1f}"

    men, women = (_pension_measure(ds, "cohort_irr", s) for s in ("male", "female"))
    return f"{_range(men, fmt, ' %')} (men) and {_range(women, fmt, ' %')} (women)"


def _pension_money_worth(model, ds) -> str:
    def fmt(v: float) -> str:
        return f"{v:.2f}"

    men, women = (_pension_measure(ds, "money_worth_ratio", s) for s in ("male", "female"))
    return f"{_range(men, fmt)} (men) and {_range(women, fmt)} (women)"


def _pension_balance(model, ds) -> str:
    return f"{100 * float(ds['actuarial_balance'].sel(scheme='pension')):.1f} %"


def _unemployment(ds, name: str, sex: str, cohort: int) -> float:
    return float(ds[name].sel(scheme="unemployment_insurance", sex=sex, cohort=cohort))


def _unemployment_irr(model, ds) -> str:
    def fmt(v: float) -> str:
        return "NaN" if np.isnan(v) else f"{100 * v:.0f} %"

    late = _unemployment(ds, "cohort_irr", "male", 2030)
    early = _unemployment(ds, "cohort_irr", "male", 2010)
    return (f"{fmt(late)} for men born 2030, who seldom draw it, and {fmt(early)} for men "
            "born 2010")


def _unemployment_money_worth(model, ds) -> str:
    men = _unemployment(ds, "money_worth_ratio", "male", 2030)
    women = _unemployment(ds, "money_worth_ratio", "female", 2030)
    return f"{men:.2f} for those men, {women:.1f} for women"


def _jumps_example(model, ds) -> str:
    """Two of the default model's jumps as ``spfsim run`` lists them: the refunds' pause
    and the contribution rate's rise, in the first year that has both."""
    lines = str(ds.attrs["jumps"]).splitlines()
    picked = [next(line for line in lines if "refunds (lump sums) fell to zero" in line),
              next(line for line in lines if "contribution income" in line
                   and "contribution rate" in line)]
    wrapped = [textwrap.fill(line, width=92, initial_indent="    ",
                             subsequent_indent="      ") for line in picked]
    return "\n\n" + "\n".join(wrapped) + "\n\n"


PROJECTION_FIGURES: dict[str, Callable] = {
    "complete-cohorts": _complete_cohorts,
    "pension-cohorts": _pension_cohorts,
    "pension-irr": _pension_irr,
    "pension-money-worth": _pension_money_worth,
    "pension-balance": _pension_balance,
    "unemployment-irr": _unemployment_irr,
    "unemployment-money-worth": _unemployment_money_worth,
    "jumps-example": _jumps_example,
}


# the micro engine's run behind the figures about the distribution within cohorts
MICRO_RUN = {"persons": 400_000, "seed": 11}


def _complete_groups(ds) -> tuple[np.ndarray, np.ndarray]:
    """The micro run's 5-year birth-cohort groups complete for the pension, and a mask."""
    mask = ds["birth_cohort_complete"].values.astype(bool)
    return ds["birth_cohort"].values[mask], mask


def _micro_run(model, micro) -> str:
    groups, _ = _complete_groups(micro)
    return (f"the default model, {MICRO_RUN['persons']:,} persons (seed "
            f"{MICRO_RUN['seed']}), complete groups born {groups.min()}-{groups.max() + 4}")


def _by_person(micro, name: str, sex: str) -> np.ndarray:
    """(group, quantile) quantiles of a per-person measure in the complete groups."""
    _, mask = _complete_groups(micro)
    return micro[name].sel(sex=sex).values[mask]


def _summed_ratio(micro, sex: str) -> np.ndarray:
    """(group,) present value of own benefits (in and after the projection) over
    contributions, summed over the members of each complete group."""
    _, mask = _complete_groups(micro)
    pv = micro["lifetime_pv"].sel(sex=sex)
    ratio = (pv.sel(flow="benefits") + pv.sel(flow="benefits_after_horizon")) \
        / pv.sel(flow="contributions")
    return ratio.values[mask]


def _two(v: float) -> str:
    return f"{v:.2f}"


def _micro_table(model, micro) -> str:
    """The table of the per-person money's worth ratio and net transfer by sex."""
    quantiles = list(micro["quantile"].values)
    rows = []
    for label, name, wanted, fmt in (
            ("money's worth ratio, quartiles", "money_worth_ratio_by_person",
             (0.25, 0.5, 0.75), _two),
            ("money's worth ratio, 97.5 %", "money_worth_ratio_by_person", (0.975,),
             lambda v: f"{v:.1f}"),
            ("net transfer, median (average earnings)", "net_transfer_by_person", (0.5,),
             lambda v: f"{v:+.2f}")):
        cells = []
        for sex in ("male", "female"):
            values = _by_person(micro, name, sex)
            cells.append(", ".join(
                _range(values[:, quantiles.index(q)], fmt) for q in wanted))
        rows.append(f"| {label} | {cells[0]} | {cells[1]} |")
    return "\n| | men | women |\n|---|---|---|\n" + "\n".join(rows) + "\n"


def _micro_summed_ratio(model, micro) -> str:
    men, women = (_summed_ratio(micro, s) for s in ("male", "female"))
    return f"{_range(men, _two)} for men and {_range(women, _two)} for women"


def _micro_cohort_ratio(model, micro) -> str:
    groups, _ = _complete_groups(micro)
    cohorts = micro["cohort"].values
    chosen = (cohorts >= groups.min()) & (cohorts <= groups.max() + 4)
    ratio = micro["money_worth_ratio"].sel(scheme="pension").isel(cohort=chosen)
    men, women = (float(ratio.sel(sex=s).mean()) for s in ("male", "female"))
    return f"{men:.2f} and {women:.2f}"


def _micro_medians(model, micro) -> str:
    median = list(micro["quantile"].values).index(0.5)
    men = _by_person(micro, "money_worth_ratio_by_person", "male")[:, median]
    women = _by_person(micro, "money_worth_ratio_by_person", "female")[:, median]
    lowest = list(micro["quantile"].values).index(0.025)
    nothing = all(not _by_person(micro, "money_worth_ratio_by_person", s)[:, lowest].any()
                  for s in ("male", "female"))
    return (f"the median man gets back {'less' if np.median(men) < 1 else 'more'} than he "
            f"paid (ratio {np.median(men):.2f}) while the cohort as a whole gets "
            f"{_range(_summed_ratio(micro, 'male'), _two)} without survivors' pensions; "
            f"women's median ratio is about {np.median(women):.1f}"
            + ("; at least 2.5 % of contributors of either sex receive nothing at all"
               if nothing else ""))


MICRO_FIGURES: dict[str, Callable] = {
    "micro-run": _micro_run,
    "micro-table": _micro_table,
    "micro-summed-ratio": _micro_summed_ratio,
    "micro-cohort-ratio": _micro_cohort_ratio,
    "micro-medians": _micro_medians,
}


# --------------------------------------------------------------------------- the rewrite


def figures(model, ds=None, micro=None) -> dict[str, str]:
    """Every figure's text: those from the model's files, with ``ds`` (the model's cohort
    projection) those from its results, and with ``micro`` (its micro projection,
    MICRO_RUN) those from the distribution within cohorts."""
    out = {name: f(model) for name, f in ASSUMPTION_FIGURES.items()}
    if ds is not None:
        out.update({name: f(model, ds) for name, f in PROJECTION_FIGURES.items()})
    if micro is not None:
        out.update({name: f(model, micro) for name, f in MICRO_FIGURES.items()})
    return out


def marked(text: str) -> list[tuple[str, str]]:
    """(name, text) of each marked spot of a document, in order."""
    return [(m["name"], m["body"]) for m in MARKER.finditer(text)]


def rewrite(text: str, values: dict[str, str]) -> str:
    """``text`` with the spots named in ``values`` rewritten; the others as they are.
    Raises ValueError for a marker of an unknown figure."""
    known = {*ASSUMPTION_FIGURES, *PROJECTION_FIGURES, *MICRO_FIGURES}
    unknown = sorted({name for name, _ in marked(text)} - known)
    if unknown:
        raise ValueError(f"markers of unknown figures: {', '.join(unknown)}")

    def replace(match: re.Match) -> str:
        name = match["name"]
        if name not in values:
            return match[0]
        return (f"<!-- BEGIN generated:{name} -->{values[name]}"
                f"<!-- END generated:{name} -->")

    return MARKER.sub(replace, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="list the stale spots and exit 1 if any; write nothing")
    parser.add_argument("--assumptions-only", action="store_true",
                        help="only the figures from the model's files (no projection)")
    parser.add_argument("--micro", action="store_true",
                        help="also the figures from a micro projection (MICRO_RUN; minutes)")
    args = parser.parse_args(argv)
    import spfsim
    from spfsim.report.io import atomic_write

    model = spfsim.load_model()
    ds = None if args.assumptions_only else model.project()
    micro = model.project("micro", **MICRO_RUN) if args.micro else None
    values = figures(model, ds, micro)
    texts = {path: path.read_text() for path in DOCS}
    used = {name for text in texts.values() for name, _ in marked(text)}
    unused = sorted(set(values) - used)
    if unused:
        raise SystemExit(f"figures no document marks: {', '.join(unused)}")
    stale = 0
    for path, text in texts.items():
        new = rewrite(text, values)
        if new == text:
            continue
        changed = [name for (name, old), (_, body) in zip(marked(text), marked(new),
                                                          strict=True) if old != body]
        stale += len(changed)
        where = path.relative_to(REPO)
        if args.check:
            print(f"{where}: stale: {', '.join(changed)}")
        else:
            atomic_write(path, lambda tmp, new=new: tmp.write_text(new), overwrite=True)
            print(f"{where}: rewrote {', '.join(changed)}")
    if not stale:
        print(f"{len(values)} figures, all current")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
