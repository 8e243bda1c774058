"""Generate docs/validation.md: spfsim's demography against UN WPP 2024.

Usage: python tools/validate_wpp.py [--data ../shared/data] [--out docs/validation.md]

1. For the eight development countries with WPP's projected population by age, project
   from 1 July 2020 with WPP's inputs and compare totals by sex (2050, 2100) and 5-year
   groups under 80 (2050) with the medium variant.
2. Project every country (location type 4 with a 2020 population) to 2100: errors,
   negative populations, emigration capped at the cohort size, and time per country.
3. Life expectancy at birth from WPP's single-age life tables against WPP's e0 (e01dt).

Every figure in the file is computed by this script; nothing is typed by hand.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from spfsim.demography.lifetable import LifeTable
from spfsim.demography.validation import (
    GROUP_TOLERANCE_2050,
    TOTAL_TOLERANCE,
    compare_with_wpp,
    development_subset,
    project_wpp,
)
from spfsim.demography.wpp import WPPData, from_wpp

REPO = Path(__file__).resolve().parents[1]
LIFE_TABLES = "lifetables/wpp2024_single_age_life_tables_13countries_2015_2023.csv"
E0_TOLERANCE = 0.05


def percent(x: float) -> str:
    return f"{100 * x:+.2f}%"


def development_section(data: WPPData) -> list[str]:
    lines = [
        "## 1. Projection against the WPP 2024 medium variant (development subset)",
        "",
        "Projection from 1 July 2020 with WPP's own inputs (`spfsim.demography.from_wpp`), "
        "single ages summed into WPP's 5-year groups, compared with "
        "`popprojAge5dt_devsubset.csv` (ours / WPP - 1). Tolerances (issue #3): totals by "
        f"sex within {TOTAL_TOLERANCE[2050]:.0%} in 2050 and {TOTAL_TOLERANCE[2100]:.0%} in "
        f"2100; every 5-year group under 80 within {GROUP_TOLERANCE_2050:.0%} in 2050.",
        "",
        "| country | M49 | 2050 male | 2050 female | 2100 male | 2100 female | worst group "
        "< 80 in 2050 | within tolerance |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for code in development_subset(data):
        r = compare_with_wpp(data, code)
        group, sex, diff = r.worst_group_2050
        cells = [percent(r.total[(y, s)]) for y in (2050, 2100) for s in ("male", "female")]
        lines.append(f"| {r.name} | {code} | {' | '.join(cells)} | {group} {sex} "
                     f"{percent(diff)} | {'yes' if r.passes else '**no**'} |")
    return lines


def all_countries_section(data: WPPData) -> list[str]:
    codes = data.country_codes()
    failures, negative, capped, seconds = [], [], [], []
    for code in codes:
        demography = from_wpp(data, code)
        started = time.perf_counter()
        try:
            projection = project_wpp(demography)
        except Exception as exc:  # report, do not stop: this is a survey of all countries
            failures.append(f"{data.name(code)} ({code}): {exc}")
            continue
        seconds.append(time.perf_counter() - started)
        if (projection.population < 0).any():
            negative.append(code)
        cut = float(projection.emigration_capped.sum())
        if cut >= 0.5:
            assumed = float(-(projection.net_migration - projection.emigration_capped)
                            .clip(max=0).sum())
            first = int(projection.years[np.flatnonzero(
                projection.emigration_capped.sum(axis=(1, 2)) > 0)[0]])
            capped.append((data.name(code), code, cut, cut / assumed, first))
    lines = [
        "",
        "## 2. Every country",
        "",
        f"{len(codes)} countries and areas (location type 4 in `UNlocations.txt` with a 2020 "
        f"population) projected 2020-2100: {len(failures)} errors, {len(negative)} with a "
        f"negative population. Median projection time {1000 * np.median(seconds):.1f} ms "
        f"per country (slowest {1000 * max(seconds):.1f} ms), inputs already loaded, on the "
        "machine that generated this file (`benchmarks/bench_demography.py` measures it "
        "alone).",
        "",
    ]
    lines += [f"- error: {f}" for f in failures]
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
              for name, code, cut, share, first in capped]
    return lines


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
        "## 3. Life expectancy from the single-age life tables",
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--out", default=str(REPO / "docs" / "validation.md"))
    args = parser.parse_args()
    data = WPPData(args.data)
    lines = [
        "# Validation of the demography against UN WPP 2024",
        "",
        "Generated by `python tools/validate_wpp.py`; do not edit by hand. Data: UN DESA "
        "Population Division, World Population Prospects 2024 (CC BY 3.0 IGO), in "
        "`../shared/data`. The tests in `tests/test_wpp.py` and `tests/test_lifetable.py` "
        "assert the same tolerances.",
        "",
        *development_section(data),
        *all_countries_section(data),
        *life_table_section(Path(args.data)),
        "",
    ]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
