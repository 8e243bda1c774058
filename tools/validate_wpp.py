"""Generate the WPP section of docs/validation.md: spfsim's demography against UN WPP 2024.

Usage: python tools/validate_wpp.py [--data ../shared/data] [--out docs/validation.md]

1. Every country of the development subset (WPP's projected population by age, 221
   countries and areas): project from 1 July 2020 with WPP's inputs and compare totals by
   sex and 5-year groups under 80 in 2030, 2050 and 2100 with the medium variant, against
   the tolerances of issue #15 for countries over 1 million people in 2050.
2. For each such country that misses: counterfactual projections and input checks that
   show what the public inputs leave open (:func:`spfsim.demography.validation.explain_miss`).
3. Every country (location type 4 with a 2020 population) projected to 2100: errors,
   negative populations, emigration capped at the cohort size, time per country.
4. Life expectancy at birth from WPP's single-age life tables against WPP's e0 (e01dt).

The script writes only between the lines ``<!-- BEGIN tools/validate_wpp.py -->`` and
``<!-- END tools/validate_wpp.py -->`` of the output (other tools write other sections of
the same file); the first time, it puts the markers around what the file holds. The file
is replaced atomically. Every figure is computed here; nothing is typed by hand. It takes
about a minute (two cores).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from spfsim.demography.lifetable import LifeTable
from spfsim.demography.validation import (
    CHECKED_POPULATION,
    EMPTIED_SHARE,
    GROUP_TOLERANCE_2050,
    TOTAL_TOLERANCE,
    Comparison,
    Evidence,
    compare_projection,
    development_subset,
    explain_miss,
    period_file_gap,
    project_wpp,
    reference_groups,
)
from spfsim.demography.wpp import WPPData, from_wpp

REPO = Path(__file__).resolve().parents[1]
LIFE_TABLES = "lifetables/wpp2024_single_age_life_tables_13countries_2015_2023.csv"
E0_TOLERANCE = 0.05
BEGIN = "<!-- BEGIN tools/validate_wpp.py -->"
END = "<!-- END tools/validate_wpp.py -->"
MEASURES = ("total 2050", "total 2100", "groups 2050")
TOLERANCE = {"total 2050": TOTAL_TOLERANCE[2050], "total 2100": TOTAL_TOLERANCE[2100],
             "groups 2050": GROUP_TOLERANCE_2050}


def percent(x: float) -> str:
    return f"{100 * x:+.2f}%"


def sex_letter(sex: str) -> str:
    return {"male": "M", "female": "F"}[sex]


# ------------------------------------------------------------------------------ survey


class Survey:
    """Every country projected once; the development subset compared with WPP."""

    def __init__(self, data: WPPData):
        self.codes = data.country_codes()
        subset = set(development_subset(data))
        self.failures: list[str] = []
        self.negative: list[int] = []
        self.capped: list[tuple[str, int, float, float, int]] = []
        self.seconds: list[float] = []
        self.comparisons: dict[int, Comparison] = {}
        self.from_2025: dict[int, Comparison] = {}  # diagnostic: WPP's 2025 population
        for code in self.codes:
            try:
                demography = from_wpp(data, code)
                started = time.perf_counter()
                projection = project_wpp(demography)
                self.seconds.append(time.perf_counter() - started)
            except Exception as exc:  # report, do not stop: a survey of all countries
                self.failures.append(f"{data.name(code)} ({code}): {exc}")
                continue
            if (projection.population < 0).any():
                self.negative.append(code)
            cut = float(projection.emigration_capped.sum())
            if cut >= 0.5:
                assumed = float(-(projection.net_migration - projection.emigration_capped)
                                .clip(max=0).sum())
                first = int(projection.years[np.flatnonzero(
                    projection.emigration_capped.sum(axis=(1, 2)) > 0)[0]])
                self.capped.append((data.name(code), code, cut, cut / assumed, first))
            if code in subset:
                reference = reference_groups(data, code)
                self.comparisons[code] = compare_projection(data, code, projection, reference)
                self.from_2025[code] = compare_projection(
                    data, code, project_wpp(from_wpp(data, code, base_year=2025)), reference)


# ------------------------------------------------------------------------------ section 1


def total_cell(r: Comparison, year: int, flag: bool) -> str:
    sex, diff = r.worst_total(year)
    text = f"{percent(diff)} {sex_letter(sex)}"
    beyond = year in TOTAL_TOLERANCE and abs(diff) > TOTAL_TOLERANCE[year]
    return f"**{text}**" if flag and beyond else text


def group_cell(r: Comparison, year: int, flag: bool) -> str:
    group, sex, diff = r.worst_groups[year]
    text = f"{percent(diff)} {group} {sex_letter(sex)}"
    return f"**{text}**" if flag and year == 2050 and abs(diff) > GROUP_TOLERANCE_2050 \
        else text


def comparison_section(survey: Survey, seconds: float) -> list[str]:
    results = sorted(survey.comparisons.values(), key=lambda r: r.name)
    checked = [r for r in results if r.checked]
    diagnostic = [survey.from_2025[r.country] for r in checked]
    within = {m: sum(m not in r.misses() for r in checked) for m in MEASURES}
    within_2025 = {m: sum(m not in r.misses() for r in diagnostic) for m in MEASURES}
    within_all = {m: sum(m not in r.misses() for r in results) for m in MEASURES}
    lines = [
        "## 1. Every WPP country against the medium variant",
        "",
        f"Each of the {len(results)} countries and areas with WPP's projected population by "
        "age (`popprojAge5dt_devsubset.csv`) is projected from 1 July 2020 with WPP's own "
        "inputs (`spfsim.demography.from_wpp`: the 2020 population by 5-year group, "
        "mortality, fertility, sex ratio at birth and net migration), its single ages "
        "summed into WPP's 5-year groups and compared with WPP (ours / WPP - 1). Tolerances "
        f"(issue #15), for the {len(checked)} countries with more than "
        f"{CHECKED_POPULATION / 1e6:.0f} million people in 2050: totals by sex within "
        f"{TOTAL_TOLERANCE[2050]:.1%} in 2050 and {TOTAL_TOLERANCE[2100]:.0%} in 2100, "
        f"every 5-year group under 80 within {GROUP_TOLERANCE_2050:.1%} in 2050.",
        "",
        "| measure | countries over 1 million within tolerance | the same from WPP's 2025 "
        "population (diagnostic) | all countries within the same bound |",
        "|---|---|---|---|",
        *[f"| {m} (within {TOLERANCE[m]:.1%}) | {within[m]} of {len(checked)} | "
          f"{within_2025[m]} of {len(checked)} | {within_all[m]} of {len(results)} |"
          for m in MEASURES],
        f"| all three | {sum(r.passes for r in checked)} of {len(checked)} | "
        f"{sum(r.passes for r in diagnostic)} of {len(checked)} | "
        f"{sum(r.passes for r in results)} of {len(results)} |",
        "",
        "The diagnostic column projects from WPP's own 2025 population by 5-year group "
        "(published for these countries, not for the held-out ones), which takes out "
        "2020-2025, the years whose migration WPP publishes only as a 5-year period by age "
        "group. Its median worst 2030 group under 80 over all "
        f"{len(results)} countries is "
        f"{100 * np.median([abs(c.worst_groups[2030][2]) for c in survey.from_2025.values()]):.2f}"
        "% (from 2020: "
        f"{100 * np.median([abs(r.worst_groups[2030][2]) for r in results]):.2f}%).",
        "",
        f"The whole run of this script took {seconds:.0f} s on the machine that generated "
        "this file. In the table, each year shows the worst total (larger absolute "
        "difference of the two sexes) and the worst 5-year group under 80; figures beyond "
        "tolerance are in bold for countries over 1 million (smaller ones are reported, "
        "not checked). Section 2 gives the evidence for each miss.",
        "",
        "| country | M49 | 2050 population (millions, WPP) | 2030 total | 2030 group | "
        "2050 total | 2050 group | 2100 total | 2100 group | within tolerance |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        cells = []
        for year in (2030, 2050, 2100):
            cells += [total_cell(r, year, r.checked), group_cell(r, year, r.checked)]
        if not r.checked:
            status = "not checked (under 1 million)"
        else:
            status = "yes" if r.passes else "**no**: " + ", ".join(r.misses())
        lines.append(f"| {r.name} | {r.country} | {r.population_2050 / 1e6:.2f} | "
                     f"{' | '.join(cells)} | {status} |")
    return lines


# ------------------------------------------------------------------------------ section 2


def attribution(evidence: Evidence, measure: str) -> str:
    """Which counterfactual brings ``measure`` within tolerance, in words."""
    tolerance = TOLERANCE[measure]
    causes = []
    if abs(evidence.from_2025.figure(measure)) <= tolerance:
        causes.append("2020-2025")
    if abs(evidence.births_imposed.figure(measure)) <= tolerance:
        causes.append("births")
    if causes:
        return " or ".join(causes)
    if abs(evidence.from_2025_births_imposed.figure(measure)) <= tolerance:
        return "2020-2025 and births"
    if measure == "groups 2050" and evidence.group_share(
            evidence.from_2025_births_imposed) < EMPTIED_SHARE:
        return "a nearly emptied cohort"
    return "not explained"


def counterfactual_cell(c: Comparison, measure: str) -> str:
    text = percent(c.figure(measure))
    if measure == "groups 2050":
        group, sex, _ = c.worst_groups[2050]
        text += f" {group} {sex_letter(sex)}"
    return text if abs(c.figure(measure)) <= TOLERANCE[measure] else f"**{text}**"


def reading(evidence: Evidence, measure: str, cause: str) -> str:
    """One country's miss in a few sentences, with the figures behind its attribution."""
    e = evidence
    implied = ", ".join(f"{year} {percent(gap)}" for year, gap in e.implied_births.items())
    early = (f"its 2020-2022 net migrants, published only as part of the 2020-2025 period "
             f"by 5-year group, amount to {e.early_migration:.1%} of the 2020 population "
             f"(sum of absolute values by group and sex), and the other split of those "
             f"three years gives {percent(e.other_split.figure(measure))}")
    births = (f"WPP's published fertility (TFR x age pattern) applied to WPP's own female "
              f"population gives births off WPP's published births by {implied}")
    both = e.from_2025_births_imposed
    parts = []
    if "2020-2025" in cause.split(" or "):
        parts.append(f"from WPP's 2025 population it is within tolerance "
                     f"({percent(e.from_2025.figure(measure))}); {early}")
    if "births" in cause.split(" or "):
        parts.append(f"with WPP's published births imposed it is within tolerance "
                     f"({percent(e.births_imposed.figure(measure))}); {births}")
    if cause == "2020-2025 and births":
        parts.append(f"it is within tolerance only with both WPP's 2025 population and its "
                     f"births ({percent(both.figure(measure))}); {early}; {births}")
    if cause in ("a nearly emptied cohort", "not explained"):
        group, sex, diff = both.worst_groups[2050]
        labels, groups = e.reference_2050
        size = groups[labels.index(group), ("male", "female").index(sex)]
        worst = (f"with both counterfactuals the worst group is {group} {sex} "
                 f"({percent(diff)}; {size:,.0f} persons in WPP, "
                 f"{e.group_share(both):.0%} of its neighbouring groups' mean)")
        if cause == "a nearly emptied cohort":
            parts.append(f"{worst}: WPP's net emigration nearly empties that cohort, so a "
                         f"small absolute difference is a large relative one; {early}")
        else:
            parts.append(f"none of the counterfactuals closes it: {worst}; {early}; "
                         f"{births}")
    text = "; and ".join(parts)
    return text[0].upper() + text[1:] + "."


def evidence_section(data: WPPData, survey: Survey) -> list[str]:
    missing = sorted((r for r in survey.comparisons.values() if r.checked and not r.passes),
                     key=lambda r: r.name)
    evidence = {r.country: explain_miss(data, r) for r in missing}
    lines = [
        "",
        "## 2. Countries over 1 million that miss, and why",
        "",
        "Nothing is tuned per country. For each miss, counterfactual projections use what "
        "WPP publishes as *outputs* (never used by the import) to show which missing input "
        "carries it:",
        "",
        "- **from WPP 2025**: projected from WPP's own 2025 population by 5-year group "
        "(graduated like the 2020 one), which takes 2020-2025 out. WPP publishes net "
        "migration by single age only from 2023; for 2020-2022 only the 2020-2025 period "
        "by 5-year group, which the import reconciles with the annual totals, but the "
        "split by year and single age is not published.",
        "- **births imposed**: from 2020 with WPP's published births imposed step by step "
        "(fertility rates scaled).",
        "- **both**: from WPP 2025 with its births imposed.",
        "- **other 2020-22 split**: from 2020, with each of 2020-2022 given the period's "
        "age pattern scaled to its total (`wpp.scale_totals`) instead of adjusted to it "
        "(`wpp.spread_totals`): both keep the published period by group and each year's "
        "total, so the difference is what the unpublished detail can move.",
        "- **implied births**: WPP's published TFR and age pattern of fertility applied to "
        "WPP's own published female population, against WPP's published births, in 2025, "
        "2050, 2075 and 2100: a gap here owes nothing to spfsim's projection; the "
        "published inputs and outputs do not close.",
        "",
        "| country | measure missed | ours | from WPP 2025 | births imposed | both | "
        "other 2020-22 split | implied births 2025 / 2050 / 2100 | 2020-22 migration (% of "
        "2020 population) | carried by |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    readings = []
    causes: dict[str, int] = {}
    for r in missing:
        e = evidence[r.country]
        implied = " / ".join(percent(e.implied_births[y]) for y in (2025, 2050, 2100))
        for measure in r.misses():
            cause = attribution(e, measure)
            causes[cause] = causes.get(cause, 0) + 1
            lines.append(
                f"| {r.name} | {measure} | {counterfactual_cell(r, measure)} | "
                f"{counterfactual_cell(e.from_2025, measure)} | "
                f"{counterfactual_cell(e.births_imposed, measure)} | "
                f"{counterfactual_cell(e.from_2025_births_imposed, measure)} | "
                f"{counterfactual_cell(e.other_split, measure)} | {implied} | "
                f"{e.early_migration:.1%} | {cause} |")
            readings.append(f"- **{r.name}**, {measure} {percent(r.figure(measure))}: "
                            f"{reading(e, measure, cause)}")
    summary = ", ".join(f"{cause} {n}" for cause, n in sorted(causes.items()))
    lines += ["", f"Misses by what carries them: {summary}.", "", *readings]
    return lines


def method_section(data: WPPData) -> list[str]:
    gap = period_file_gap(data)
    return [
        "",
        "## 3. What the import takes from WPP's files for 2020-2022",
        "",
        "WPP's 5-year net migration by age group (`migprojAge5dt`) for a period from 1 July "
        "p to 1 July p+5 is the single-age annual flows (`migprojAge1dt`) of calendar years "
        "p..p+5 weighted 1/2, 1, 1, 1, 1, 1/2 and summed by group: for 2025-2030 the "
        f"largest difference over every location, group and sex is {gap:.1f} persons (the "
        "files give thousands to three decimals). The import inverts that rule for "
        "2020-2025: less the 2023-2025 single-age part, the period gives "
        "1/2 M(2020) + M(2021) + M(2022) by group and sex, graduated to single ages "
        "(`graduation.graduate_net_flows`) and shared by the three years at their "
        "published totals (`wpp.spread_totals`). Before, those years took the 2023 age "
        "pattern scaled to their totals, which missed the age and sex of the 2020-2022 "
        "movements (the 2022 refugee flows, the Gulf's departures and returns).",
    ]


# ------------------------------------------------------------------------------ section 4


def all_countries_section(survey: Survey) -> list[str]:
    seconds = survey.seconds
    lines = [
        "",
        "## 4. Every country",
        "",
        f"{len(survey.codes)} countries and areas (location type 4 in `UNlocations.txt` "
        f"with a 2020 population; {len(survey.codes) - len(survey.comparisons)} of them "
        f"held out of the development subset) projected 2020-2100: "
        f"{len(survey.failures)} errors, {len(survey.negative)} with a negative "
        f"population. Median projection time {1000 * np.median(seconds):.1f} ms per "
        f"country (slowest {1000 * max(seconds):.1f} ms), inputs already loaded, on the "
        "machine that generated this file (`benchmarks/bench_demography.py` measures it "
        "alone).",
        "",
    ]
    if survey.failures:
        lines += [*[f"- error: {f}" for f in survey.failures], ""]
    lines += [
        "Where WPP's assumed net emigration at some age exceeds the cohort that our "
        "graduated single ages hold, the projection applies the most emigration that leaves "
        "the cohort empty and reports the rest (`emigration_capped`). Countries where that "
        "happened (persons over 2020-2100, share of all assumed net emigration, first year):",
        "",
        "| country | M49 | emigrants not applied | share | first year |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {name} | {code} | {cut:,.0f} | {share:.2%} | {first} |"
              for name, code, cut, share, first in survey.capped]
    return lines


# ------------------------------------------------------------------------------ section 5


def life_table_section(shared: Path) -> list[str]:
    tables = pd.read_csv(shared / LIFE_TABLES)
    e0 = pd.read_csv(shared / "wpp2024" / "e01dt.csv").set_index(["country_code", "year"])
    rows, worst = [], {}
    for (code, year, sex), group in tables.groupby(["country_code", "year", "sex"]):
        table = LifeTable.from_mx(group.sort_values("x")["mx"].to_numpy(),
                                  None if sex == "both" else sex)
        column = {"male": "e0M", "female": "e0F", "both": "e0B"}[sex]
        diff = float(table.ex[0] - e0.loc[(code, year), column])
        rows.append(abs(diff))
        name = group["country"].iloc[0]
        if abs(diff) > abs(worst.get(name, (0.0,))[0]):
            worst[name] = (diff, int(year), sex)
    return [
        "",
        "## 5. Life expectancy from the single-age life tables",
        "",
        f"`LifeTable.from_mx` on the m(x) of `{LIFE_TABLES}` (13 countries, 2015-2023, "
        f"both sexes and total) against WPP's `e01dt` e0: {len(rows)} tables, largest "
        f"absolute difference {max(rows):.4f} years (tolerance {E0_TOLERANCE} years: "
        f"{'met' if max(rows) <= E0_TOLERANCE else '**missed**'}).",
        "",
        "| country | worst difference (years) | year | sex |",
        "|---|---|---|---|",
        *[f"| {name} | {d:+.4f} | {y} | {s} |" for name, (d, y, s) in sorted(worst.items())],
    ]


# ------------------------------------------------------------------------------ output


def replace_section(text: str, content: str) -> str:
    """``text`` with what lies between the BEGIN and END markers replaced by ``content``.

    Without markers, they are put around the whole of ``text`` first (the file as it was
    before the markers existed is this script's earlier output). Everything outside the
    markers is kept byte for byte.
    """
    if BEGIN not in text and END not in text:
        text = f"{BEGIN}\n{text.rstrip()}\n{END}\n"
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start or text.count(BEGIN) != 1 or text.count(END) != 1:
        raise ValueError(f"expected one {BEGIN!r} line before one {END!r} line")
    return text[:start + len(BEGIN)] + "\n" + content.strip("\n") + "\n" + text[end:]


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it into place."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--out", default=str(REPO / "docs" / "validation.md"))
    args = parser.parse_args()
    started = time.perf_counter()
    data = WPPData(args.data)
    survey = Survey(data)
    evidence = evidence_section(data, survey)
    rest = [*method_section(data), *all_countries_section(survey),
            *life_table_section(Path(args.data))]
    seconds = time.perf_counter() - started
    lines = [
        "# Validation of the demography against UN WPP 2024",
        "",
        "Generated by `python tools/validate_wpp.py`; do not edit by hand. Data: UN DESA "
        "Population Division, World Population Prospects 2024 (CC BY 3.0 IGO), in "
        "`../shared/data`. `tests/test_wpp.py` asserts the tolerances for a handful of "
        "countries and `tests/test_lifetable.py` the life tables; the run over every "
        "country is this script's.",
        "",
        *comparison_section(survey, seconds),
        *evidence,
        *rest,
    ]
    out = Path(args.out)
    old = out.read_text(encoding="utf-8") if out.is_file() else ""
    write_atomically(out, replace_section(old, "\n".join(lines)))
    print(f"wrote {out} in {seconds:.0f} s")


if __name__ == "__main__":
    main()
