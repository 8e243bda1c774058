"""Build the illustrative assumption set ``assumptions/illustrative-lmic``.

The set holds only an illustrative economy (``economy.csv``), labour market
(``labour.csv``) and prevalence of severe disability (``disability.csv``): made up but
plausible for a lower-middle-income West African country, describing no actual country
or scheme. Nothing in it is data. The default model pairs it with the demographic set
``assumptions/ghana-wpp2024``, which the library writes (``spfsim import-wpp --data
../shared/data --country 288 --base-year 2025 --out assumptions/ghana-wpp2024``).

The whole folder is written into a temporary sibling and then renamed into place; an
existing folder (and anything else in it) is replaced only with ``--overwrite``. Run from
anywhere::

    python tools/build_default_assumptions.py [--out DIR] [--overwrite]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.interpolate import PchipInterpolator

from spfsim.params.writer import TableOut, build_assumption_set

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "assumptions" / "illustrative-lmic"

BASE_YEAR, END_YEAR = 2025, 2100
YEARS = np.arange(BASE_YEAR, END_YEAR + 1)
SEXES = ("male", "female")
LABOUR_AGES = np.arange(15, 76)  # single ages 15..75; nothing outside

META: dict[str, object] = {
    "name": "illustrative-lmic",
    "title": "Illustrative lower-middle-income economy, labour market and disability",
    "source": "illustrative (spfsim)",
    "licence": "Apache-2.0 (spfsim's licence)",
    "base_year": BASE_YEAR,
}

# number formats as written: economy rates to 10 significant digits, labour fractions to 6
EXACT, FRACTION = ".10g", ".6g"


# ---------------------------------------------------------------------------------------
# economy


def ramp(years: np.ndarray, start: tuple[int, float], end: tuple[int, float]) -> np.ndarray:
    """Constant ``start[1]`` up to ``start[0]``, linear to ``end[1]`` at ``end[0]``, then flat."""
    return np.interp(years, [start[0], end[0]], [start[1], end[1]])


def economy_table() -> TableOut:
    """Illustrative macroeconomic paths by calendar year (fractions per year)."""
    inflation = ramp(YEARS, (2025, 0.12), (2030, 0.05))
    real_wage_growth = ramp(YEARS, (2040, 0.02), (2060, 0.015))
    interest_rate = (1.0 + inflation) * 1.025 - 1.0  # 2.5% real return on reserves
    rows = [[str(year), *(format(float(v), EXACT) for v in values)]
            for year, *values in zip(YEARS, inflation, real_wage_growth, interest_rate,
                                     strict=True)]
    return TableOut(
        name="economy", file="economy.csv",
        header=["year", "inflation", "real_wage_growth", "interest_rate"], rows=rows,
        units={"inflation": "fraction per year", "real_wage_growth": "fraction per year",
               "interest_rate": "fraction per year"})


# ---------------------------------------------------------------------------------------
# labour market

# knots (age, value) of the illustrative age profiles; PCHIP between knots
PARTICIPATION = {
    "male": [(15, 0.35), (20, 0.62), (25, 0.82), (30, 0.90), (50, 0.90), (55, 0.86),
             (60, 0.76), (65, 0.61), (70, 0.45), (75, 0.30)],
    "female": [(15, 0.35), (20, 0.58), (25, 0.72), (30, 0.80), (50, 0.80), (55, 0.75),
               (60, 0.65), (65, 0.55), (70, 0.43), (75, 0.28)],
}
UNEMPLOYMENT = [(15, 0.10), (24, 0.10), (30, 0.04), (75, 0.04)]
COVERAGE = {
    "male": [(15, 0.05), (19, 0.05), (25, 0.16), (30, 0.22), (50, 0.22), (55, 0.20),
             (60, 0.15), (65, 0.07), (70, 0.04), (75, 0.02)],
    "female": [(15, 0.05), (19, 0.05), (25, 0.11), (30, 0.14), (50, 0.14), (55, 0.12),
               (60, 0.09), (65, 0.05), (70, 0.03), (75, 0.02)],
}
FORMALISATION = ((2025, 1.0), (2060, 1.8))  # coverage multiplier over time
FEMALE_EARNINGS = 0.85  # women's relative earnings as a fraction of men's


def profile(knots: list[tuple[int, float]], ages: np.ndarray) -> np.ndarray:
    """Smooth, shape-preserving (PCHIP) age profile through the knots."""
    x, y = zip(*knots, strict=True)
    return PchipInterpolator(x, y)(ages)


def earnings_profile(ages: np.ndarray) -> np.ndarray:
    """Concave age-earnings profile, 1 on average over ages 25-59."""
    def raw(x: np.ndarray) -> np.ndarray:
        return np.exp(0.06 * (x - 15) - 0.0009 * (x - 15) ** 2)
    return raw(ages) / raw(np.arange(25, 60)).mean()


def labour_table() -> TableOut:
    """Illustrative participation, unemployment, coverage and relative earnings.

    Rows by year, age and sex (men first). Coverage is the age profile times a
    formalisation factor rising over time, capped at 1; the other columns are the same
    every year.
    """
    factor = ramp(YEARS, *FORMALISATION)
    unemployment = profile(UNEMPLOYMENT, LABOUR_AGES)
    by_sex = {
        sex: (profile(PARTICIPATION[sex], LABOUR_AGES),
              profile(COVERAGE[sex], LABOUR_AGES),
              earnings_profile(LABOUR_AGES) * (FEMALE_EARNINGS if sex == "female" else 1.0))
        for sex in SEXES}
    rows = []
    for year, multiplier in zip(YEARS, factor, strict=True):
        for i, age in enumerate(LABOUR_AGES):
            for sex in SEXES:
                participation, coverage, earnings = by_sex[sex]
                values = (participation[i], unemployment[i],
                          min(multiplier * coverage[i], 1.0), earnings[i])
                rows.append([str(year), str(age), sex,
                             *(format(float(v), FRACTION) for v in values)])
    return TableOut(
        name="labour", file="labour.csv",
        header=["year", "age", "sex", "participation", "unemployment", "coverage",
                "relative_earnings"], rows=rows,
        units={"participation": "fraction", "unemployment": "fraction",
               "coverage": "fraction", "relative_earnings": "relative"})


# severe disability: knots (age, prevalence), the same for both sexes and every year. The
# shape echoes the Global Burden of Disease 2004 estimates of severe disability reported in
# WHO and World Bank (2011), World Report on Disability, Table 2.1 (world: 0.7 % at 0-14,
# 2.6 % at 15-59, 10.2 % at 60+); the knots are illustrative, not fitted to them.
SEVERE_DISABILITY = [(0, 0.005), (10, 0.007), (30, 0.015), (50, 0.03), (60, 0.06),
                     (70, 0.10), (80, 0.18), (90, 0.30), (100, 0.40)]
# onset of invalidity among insured contributors (annual probability): illustrative knots
# of the rising shape that actuarial valuations of social insurance schemes typically use
INVALIDITY = [(0, 0.0), (15, 0.0005), (30, 0.0008), (40, 0.0015), (50, 0.003), (55, 0.005),
              (60, 0.008), (65, 0.012), (100, 0.012)]
ALL_AGES = np.arange(0, 101)


def disability_table() -> TableOut:
    """Illustrative prevalence of severe disability and onset of invalidity among the
    insured, by single age 0-100 and sex (the same for both sexes)."""
    prevalence = profile(SEVERE_DISABILITY, ALL_AGES)
    incidence = profile(INVALIDITY, ALL_AGES)
    rows = [[str(age), sex, format(float(prevalence[i]), FRACTION),
             format(float(incidence[i]), FRACTION)]
            for i, age in enumerate(ALL_AGES) for sex in SEXES]
    return TableOut(name="disability", file="disability.csv",
                    header=["age", "sex", "severe_disability", "invalidity_incidence"],
                    rows=rows, units={"severe_disability": "fraction",
                                      "invalidity_incidence": "fraction"})


# ---------------------------------------------------------------------------------------
# README


README = f"""\
# Assumption set `illustrative-lmic`

An **illustrative** economy, labour market and prevalence of severe disability for
spfsim's default model: made up but plausible for a lower-middle-income West African
country. They describe no actual country
or scheme, and **nothing in this folder is data**: every number comes from the shapes and
knots below, chosen by hand. Years {BASE_YEAR}-{END_YEAR} (calendar years).

The set holds no demography. The default model pairs it with the demographic set
`assumptions/ghana-wpp2024` (Ghana, UN World Population Prospects 2024, medium variant),
written by the library's WPP importer:

    spfsim import-wpp --data ../shared/data --country 288 --base-year 2025 \\
        --out assumptions/ghana-wpp2024

and combines the two in its `model.toml`:

    assumptions = ["../../assumptions/ghana-wpp2024", "../../assumptions/illustrative-lmic"]

Generated by `tools/build_default_assumptions.py`; rerun it with `--overwrite` to rebuild
(the folder is replaced as a whole). Do not edit the CSVs by hand.

## Licence

spfsim's own, under the project's licence (Apache-2.0). The shapes are informed only
qualitatively by the ILO modelled estimates (ILOSTAT) for West Africa; no ILO figure is
reproduced.

## How the numbers were chosen

- `economy.csv` (fractions per year): inflation 12% in 2025 falling linearly to 5% by
  2030, 5% after; real wage growth 2% a year to 2040, falling linearly to 1.5% by 2060, flat
  after; nominal interest on reserves (1 + inflation) x 1.025 - 1 (a 2.5% real return).
- `labour.csv`, ages 15-75 (none outside), men and women, smooth shape-preserving (PCHIP)
  curves through knots (age, value) listed in the script:
  - participation: about 0.35 at 15, plateau 0.90 (men) / 0.80 (women) at 30-50, about 0.45
    at 70 and 0.30 at 75;
  - unemployment: 0.10 at 15-24, falling to 0.04 from 30;
  - coverage (contributors / employed): 0.05 at 15-19, peak 0.22 (men) / 0.14 (women) at
    30-50, about 0.02 at 75, times a formalisation factor rising linearly from 1.0 in 2025
    to 1.8 in 2060 and flat after (capped at 1);
  - relative earnings: exp(0.06 (x-15) - 0.0009 (x-15)^2), normalised to average 1 over
    ages 25-59 for men; women 0.85 of men.

  Participation, unemployment and relative earnings are the same every year; only
  coverage changes over time.
- `disability.csv`, ages 0-100, both sexes alike, every year: the share of the population
  with a severe disability (the target group of disability benefits), a PCHIP curve
  through 0.5 % at 0, 0.7 % at 10, 1.5 % at 30, 3 % at 50, 6 % at 60, 10 % at 70, 18 % at
  80, 30 % at 90 and 40 % at 100. The shape echoes the Global Burden of Disease 2004
  estimates of severe disability in WHO and World Bank (2011), *World Report on
  Disability*, Table 2.1 (world: 0.7 % at ages 0-14, 2.6 % at 15-59, 10.2 % at 60 and
  over); the knots are illustrative and were not fitted to those figures.
  `invalidity_incidence`, the annual probability that an insured contributor becomes
  disabled (onset of a contributory disability pension): 0.05 % at 15, 0.08 % at 30,
  0.15 % at 40, 0.3 % at 50, 0.5 % at 55, 0.8 % at 60 and 1.2 % from 65, an illustrative
  rising shape.
"""


# ---------------------------------------------------------------------------------------
# command line


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing output folder as a whole")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Build both tables and write the set (atomically); print what was written."""
    args = parse_args(argv)
    if args.out.exists() and not args.overwrite:
        raise SystemExit(f"{args.out} exists; use --overwrite to replace it")
    build_assumption_set(args.out, META, [economy_table(), labour_table(), disability_table()],
                         README, args.overwrite)


if __name__ == "__main__":
    main()
