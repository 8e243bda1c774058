"""Build the assumption set ``assumptions/families-usa-ssa2024``: the default model's families.

One table, ``families.csv`` (age 0-100, sex), read by the micro engine's families
(``spfsim.engine.micro.families``):

- ``partnered``: the share of each age and sex who are married in the Social Security area
  population of the United States at 1 July 2023 (SSA Office of the Chief Actuary,
  ``SSPopJul_TR2024.csv``, columns ``M Mar`` / ``M Tot`` and ``F Mar`` / ``F Tot``; public
  domain), the only population by marital status in the data folder. Married, not
  cohabiting: the shares of persons living with a partner are somewhat higher. A model of
  another country should take its own census or survey shares;
- ``partner_age_difference`` and ``partner_age_spread``: a new partner 5 years older for
  women (5 younger for men), standard deviation 4 years: the default pension's own
  survivors' assumptions (``spouse_age_difference``, ``spouse_age_spread`` in
  ``models/default/model.toml``), so that both say the same of couples;
- ``separation`` and ``leave_home``: illustrative, chosen by hand (no data): partnerships
  end other than by death at 1 % a year to age 64 and 0.3 % after; persons living with a
  parent leave home at 2 % a year at 15-17, 10 % at 18-24, 15 % at 25-34 and 20 % after.

Run from anywhere (``--data``: the data folder holding ``ssa_tr2026/``)::

    python tools/build_families_table.py --data ../shared/data [--out DIR] [--overwrite]
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from spfsim.params.writer import TableOut, build_assumption_set

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "assumptions" / "families-usa-ssa2024"
SOURCE_FILE = Path("ssa_tr2026") / "SSPopJul_TR2024.csv"
SOURCE_YEAR = 2023  # an estimate, not a projection, in the 2024 report
AGES = np.arange(101)
SEXES = ("male", "female")
PARTNER_AGE_DIFFERENCE = {"male": -5.0, "female": 5.0}  # partner's age minus one's own
PARTNER_AGE_SPREAD = 4.0

META: dict[str, object] = {
    "name": "families-usa-ssa2024",
    "title": "Families: shares married by age and sex (United States, SSA area population "
             "2023) with illustrative separation and leaving home",
    "source": "SSA Office of the Chief Actuary, SSPopJul_TR2024 (Social Security area "
              "population by marital status, 1 July 2023); separation and leaving home "
              "illustrative (spfsim)",
    "licence": "public domain (US government work); spfsim's own numbers Apache-2.0",
    "base_year": 2025,
}

README = f"# Assumption set `families-usa-ssa2024`\n\n{__doc__}"


def partnered_shares(data: Path) -> dict[str, np.ndarray]:
    """The married share of each age 0-100 by sex in SOURCE_YEAR (age 100: 100 and over)."""
    path = data / SOURCE_FILE
    married = {s: np.zeros(101) for s in SEXES}
    total = {s: np.zeros(101) for s in SEXES}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if int(row["Year"]) != SOURCE_YEAR:
                continue
            age = min(int(row["Age"]), 100)
            for sex, prefix in (("male", "M"), ("female", "F")):
                married[sex][age] += float(row[f"{prefix} Mar"])
                total[sex][age] += float(row[f"{prefix} Tot"])
    if not all(total[s].all() for s in SEXES):
        raise SystemExit(f"{path}: no population for some ages of {SOURCE_YEAR}")
    return {s: married[s] / total[s] for s in SEXES}


def separation_rate(age: int) -> float:
    """Illustrative: annual chance that a partnership ends other than by death."""
    return 0.01 if age < 65 else 0.003


def leave_home_rate(age: int) -> float:
    """Illustrative: annual chance that a person living with a parent leaves home."""
    for below, rate in ((15, 0.0), (18, 0.02), (25, 0.10), (35, 0.15)):
        if age < below:
            return rate
    return 0.20


def families_table(data: Path) -> TableOut:
    shares = partnered_shares(data)
    rows = [(int(a), sex, float(round(shares[sex][a], 6)), separation_rate(a),
             leave_home_rate(a), PARTNER_AGE_DIFFERENCE[sex], PARTNER_AGE_SPREAD)
            for a in AGES for sex in SEXES]
    return TableOut("families", "families.csv",
                    ("age", "sex", "partnered", "separation", "leave_home",
                     "partner_age_difference", "partner_age_spread"), rows,
                    {"partnered": "fraction", "separation": "fraction",
                     "leave_home": "fraction", "partner_age_difference": "years",
                     "partner_age_spread": "years"})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True,
                        help="data folder holding ssa_tr2026/SSPopJul_TR2024.csv")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    build_assumption_set(args.out, META, [families_table(args.data)], README, args.overwrite)


if __name__ == "__main__":
    main()
