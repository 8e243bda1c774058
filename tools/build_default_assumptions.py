"""Build the default model's assumption set ``assumptions/illustrative-lmic``.

The demography is Ghana's (UN M49 code 288) from the UN World Population Prospects 2024
(medium variant), graduated to single years of age; the economy and labour market are
illustrative (made up but plausible for a lower-middle-income West African country).

Reads only from ``--data`` (default ``../shared/data`` relative to the repository root) and
writes derived single-age tables, ``assumptions.toml`` and ``README.md`` to ``--out``
(default ``assumptions/illustrative-lmic`` in the repository). Raw WPP files are never
copied. Run from anywhere::

    python tools/build_default_assumptions.py [--data DIR] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.interpolate import PchipInterpolator

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "assumptions" / "illustrative-lmic"

COUNTRY = 288  # Ghana
SET_NAME = "illustrative-lmic"
BASE_YEAR, END_YEAR = 2025, 2100
YEARS = np.arange(BASE_YEAR, END_YEAR + 1)
MAX_AGE = 100  # open age group 100+
AGES = np.arange(MAX_AGE + 1)
SEXES = ("male", "female")
WPP_SEX_SUFFIX = {"male": "M", "female": "F"}
FERTILE = (15, 50)  # single ages 15..49
LABOUR = (15, 76)  # single ages 15..75

SOURCE = ("UN DESA Population Division, World Population Prospects 2024, as packaged by the "
          "R package wpp2024 1.1-3 (Ghana, M49 288, medium variant); economy and labour "
          "market illustrative")
LICENCE = ("WPP 2024 data: CC BY 3.0 IGO (derived tables: population, mortality, fertility, "
           "sex ratio at birth, migration); illustrative tables: Apache-2.0 with spfsim")

# formats for writing: rates to 8 significant digits, persons to 0.1
RATE, PERSONS, FRACTION, EXACT = ".8g", ".1f", ".6g", ".10g"


@dataclass
class Report:
    """Numbers gathered while building, for the console summary and the README."""

    lines: list[str] = field(default_factory=list)
    values: dict[str, float] = field(default_factory=dict)

    def note(self, text: str) -> None:
        """Record a line for the summary and print it."""
        self.lines.append(text)
        print(text)


# ---------------------------------------------------------------------------------------
# reading WPP


def read_wpp(data: Path, name: str, sep: str = ",") -> pd.DataFrame:
    """Rows of one WPP 2024 file for the country (gzip is detected from the name)."""
    path = data / "wpp2024" / name
    if not path.is_file():
        raise SystemExit(f"missing input file: {path}")
    frame = pd.read_csv(path, sep=sep)
    rows = frame[frame["country_code"] == COUNTRY].copy()
    if rows.empty:
        raise SystemExit(f"no rows for country {COUNTRY} in {path}")
    return rows


def annual_series(data: Path, name: str, column: str) -> np.ndarray:
    """An annual WPP series over YEARS; fails if a year is missing."""
    rows = read_wpp(data, name).set_index("year")[column]
    missing = sorted(set(YEARS) - set(rows.index))
    if missing:
        raise SystemExit(f"{name}: years missing for {column}: {missing[:5]}...")
    return rows.loc[YEARS].to_numpy(dtype=float)


def group_start(label: str) -> int:
    """First age of a WPP age label ('0-4' -> 0, '100+' -> 100, '5' -> 5)."""
    return int(str(label).rstrip("+").split("-")[0])


# ---------------------------------------------------------------------------------------
# graduation helpers


def graduate_groups(bounds: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Spread group totals over single ages, keeping each group's total.

    ``bounds`` are the group boundaries (len(totals) + 1, unit steps between them are single
    ages). A monotone (PCHIP) curve through the cumulative totals at the boundaries is
    differenced at single ages: group totals are kept exactly and, the cumulative being
    non-decreasing, no single age is negative.
    """
    cumulative = np.concatenate([[0.0], np.cumsum(totals)])
    curve = PchipInterpolator(bounds, cumulative)
    edges = np.arange(bounds[0], bounds[-1] + 1)
    singles = np.diff(curve(edges))
    return np.maximum(singles, 0.0)  # clears -1e-17 round-off only


def round_keeping_groups(values: np.ndarray, size: int, step: float) -> np.ndarray:
    """Round to multiples of ``step`` so that each run of ``size`` values keeps its sum
    (itself rounded to ``step``): largest-remainder rounding within each group."""
    units = values.reshape(-1, size) / step
    floor = np.floor(units)
    short = np.rint(units.sum(axis=1) - floor.sum(axis=1)).astype(int)
    order = np.argsort(-(units - floor), axis=1, kind="stable")
    for g, k in enumerate(short):
        floor[g, order[g, :k]] += 1.0
    return (floor * step).reshape(values.shape)


# ---------------------------------------------------------------------------------------
# population


def build_population(data: Path, report: Report) -> pd.DataFrame:
    """Base population at 1 July 2025 by single age and sex, persons."""
    rows = read_wpp(data, "popprojAge5dt_devsubset.csv")
    rows = rows[rows["year"] == BASE_YEAR].copy()
    rows["start"] = rows["age"].map(group_start)
    rows = rows.sort_values("start")
    starts = rows["start"].to_numpy()
    if not np.array_equal(starts, np.arange(0, MAX_AGE + 1, 5)):
        raise SystemExit(f"unexpected population age groups: {starts}")
    bounds = np.append(starts[:-1], MAX_AGE)
    frames = []
    for sex in SEXES:
        groups = rows[f"pop{WPP_SEX_SUFFIX[sex]}"].to_numpy(dtype=float) * 1000.0
        closed = graduate_groups(bounds, groups[:-1])
        check_group_totals(closed, groups[:-1], sex)
        single = np.append(round_keeping_groups(closed, 5, 0.1), groups[-1])
        frames.append(pd.DataFrame({"age": AGES, "sex": sex, "population": single}))
        report.values[f"pop_{sex}"] = single.sum()
        report.values[f"pop_wpp_{sex}"] = groups.sum()
    return pd.concat(frames, ignore_index=True)


def check_group_totals(single: np.ndarray, groups: np.ndarray, sex: str) -> None:
    """Graduated single ages must add up to the 5-year group totals (1e-6 relative)."""
    sums = single.reshape(-1, 5).sum(axis=1)
    worst = np.max(np.abs(sums - groups) / groups)
    if worst > 1e-6 or (single < 0).any():
        raise SystemExit(f"population graduation ({sex}) breaks group totals: {worst:.2e}")


# ---------------------------------------------------------------------------------------
# mortality


def single_age_mx(abridged: np.ndarray) -> np.ndarray:
    """Single-age m(x), 0..100, from abridged rates at ages 0, 1, 5, 10, ..., 95, 100+.

    Age 0 and ages 1-4 take their group's rate. From age 5, log m is linear between the
    mid-points (x + 2.5) of the 5-year groups, evaluated at single-age mid-points (a + 0.5);
    ages below the first mid-point (5-6) take the 5-9 rate; ages above the last closed
    mid-point (98-99) continue the 90-94 to 95-99 slope; age 100 is the 100+ rate.
    """
    log_groups = np.log(abridged[2:-1])  # 5-9 .. 95-99
    mids = np.arange(5, MAX_AGE, 5) + 2.5
    centres = np.arange(5, MAX_AGE) + 0.5
    log_single = np.interp(centres, mids, log_groups)
    slope = (log_groups[-1] - log_groups[-2]) / 5.0
    above = centres > mids[-1]
    log_single[above] = log_groups[-1] + slope * (centres[above] - mids[-1])
    return np.concatenate([[abridged[0]], np.full(4, abridged[1]), np.exp(log_single),
                           [abridged[-1]]])


def abridged_mx(data: Path) -> tuple[np.ndarray, np.ndarray]:
    """Period start years and rates (period, sex, abridged age) from mx5dt."""
    rows = read_wpp(data, "mx5dt.csv")
    rows["start"] = rows["age"].map(group_start)
    rows["period_start"] = rows["period"].str.slice(0, 4).astype(int)
    rows = rows.sort_values(["period_start", "start"])
    periods = np.unique(rows["period_start"])
    ages = np.unique(rows["start"])
    expected = np.concatenate([[0, 1], np.arange(5, MAX_AGE + 1, 5)])
    if not np.array_equal(ages, expected):
        raise SystemExit(f"unexpected mx5dt ages: {ages}")
    rates = np.stack([
        np.stack([rows.loc[rows["period_start"] == p, f"mx{WPP_SEX_SUFFIX[s]}"].to_numpy()
                  for s in SEXES])
        for p in periods])
    return periods, rates


def build_mortality(data: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """m(x) by calendar year 2025..2100, single age and sex; also the array (year, age, sex).

    A period p..p+5 (1 July p to 1 July p+5) is centred on 1 January p+3, the middle of
    calendar year p+2.5: log m is linear in the calendar year between these mid-points
    (2022.5, 2027.5, ...) and constant after the last one (2097.5).
    """
    periods, rates = abridged_mx(data)
    single = np.apply_along_axis(single_age_mx, -1, rates)  # (period, sex, age)
    mids = periods + 2.5
    log_single = np.log(single)
    mx = np.empty((len(YEARS), MAX_AGE + 1, len(SEXES)))
    for s in range(len(SEXES)):
        for a in AGES:
            mx[:, a, s] = np.exp(np.interp(YEARS, mids, log_single[:, s, a]))
    check_mortality(mx)
    return long_table(mx, "mx"), mx


def check_mortality(mx: np.ndarray) -> None:
    """Plausibility: positive, below 1 per person-year before 100, infant rate above the
    1-4 rate, non-decreasing from age 30, and the open group at least the age-99 rate."""
    problems = []
    if not (mx > 0).all() or (mx[:, :MAX_AGE] >= 1).any():
        problems.append("rates outside (0, 1)")
    if (mx[:, 0] <= mx[:, 1]).any():
        problems.append("infant rate not above the 1-4 rate")
    if (np.diff(mx[:, 30:], axis=1) < 0).any():
        problems.append("rates decrease with age above 30")
    if problems:
        raise SystemExit("implausible mortality: " + "; ".join(problems))


def long_table(values: np.ndarray, column: str) -> pd.DataFrame:
    """Long table year, age, sex, value from an array (year, age, sex)."""
    year, age, sex = np.meshgrid(YEARS, AGES, np.array(SEXES), indexing="ij")
    return pd.DataFrame({"year": year.ravel(), "age": age.ravel(), "sex": sex.ravel(),
                         column: values.ravel()})


def compare_e0(data: Path, mx: np.ndarray, report: Report) -> None:
    """Life expectancy at birth from the single-age rates vs WPP's annual e0."""
    sys.path.insert(0, str(REPO / "src"))
    from spfsim.demography import LifeTable

    wpp = read_wpp(data, "e0proj1dt.csv").set_index("year")
    for year in (2025, 2050, 2100):
        for s, sex in enumerate(SEXES):
            ours = LifeTable.from_mx(mx[year - BASE_YEAR, :, s], sex=sex).ex[0]
            theirs = float(wpp.loc[year, f"e0{WPP_SEX_SUFFIX[sex]}"])
            report.values[f"e0_{sex}_{year}"] = ours
            report.values[f"e0_wpp_{sex}_{year}"] = theirs
            report.note(f"e0 {year} {sex:6}: {ours:6.2f} here, WPP {theirs:6.2f} "
                        f"(difference {ours - theirs:+.2f})")


# ---------------------------------------------------------------------------------------
# fertility, sex ratio at birth, migration


def fertility_shares(data: Path) -> np.ndarray:
    """Share of TFR by 5-year group 15-19..45-49 (year, group), each year summing to 1.

    10-14 is folded into 15-19 and 50-54 into 45-49; the (rounded) percentages are rescaled
    to sum exactly to 100.
    """
    rows = read_wpp(data, "percentASFR5_annual_by_age5.txt", sep="\t")
    rows["start"] = rows["age"].map(group_start)
    pct = rows.set_index("start")[[str(y) for y in YEARS]].astype(float)
    pct = pct.reindex(range(10, 55, 5), fill_value=0.0)
    folded = pct.loc[15:45].copy()
    folded.loc[15] += pct.loc[10]
    folded.loc[45] += pct.loc[50]
    shares = folded.to_numpy().T
    return shares / shares.sum(axis=1, keepdims=True)


def build_fertility(data: Path, report: Report) -> pd.DataFrame:
    """ASFR by calendar year and single age 15..49 from annual TFR and its age distribution.

    The group ASFR is TFR * share / 5; single ages come from a monotone curve through the
    cumulative fertility at ages 15, 20, ..., 50, so each group's sum is kept exactly.
    """
    tfr = annual_series(data, "tfrproj1dt.csv", "tfr")
    shares = fertility_shares(data)
    bounds = np.arange(FERTILE[0], FERTILE[1] + 1, 5)
    asfr = np.stack([graduate_groups(bounds, tfr[i] * shares[i]) for i in range(len(YEARS))])
    written = np.array([[float(format(v, ".12g")) for v in row] for row in asfr])
    worst = np.max(np.abs(written.sum(axis=1) - tfr))
    if worst > 1e-9:
        raise SystemExit(f"single-age ASFR do not add up to TFR: {worst:.2e}")
    for year in (2025, 2050, 2100):
        report.values[f"tfr_{year}"] = tfr[year - BASE_YEAR]
    report.values["tfr_error"] = worst
    ages = np.arange(*FERTILE)
    year, age = np.meshgrid(YEARS, ages, indexing="ij")
    return pd.DataFrame({"year": year.ravel(), "age": age.ravel(), "asfr": written.ravel()})


def build_srb(data: Path, report: Report) -> pd.DataFrame:
    """Sex ratio at birth (males per female) by calendar year."""
    srb = annual_series(data, "sexRatio1dt.csv", "srb")
    report.values["srb_2025"] = srb[0]
    return pd.DataFrame({"year": YEARS, "srb": srb})


def build_migration(data: Path, report: Report) -> pd.DataFrame:
    """Net migrants by calendar year, single age (ages above 100 folded into 100), sex."""
    rows = read_wpp(data, "migprojAge1dt.csv.gz")
    rows = rows[rows["year"].between(BASE_YEAR, END_YEAR)].copy()
    rows["age"] = np.minimum(rows["age"].astype(int), MAX_AGE)
    grouped = rows.groupby(["year", "age"])[["migM", "migF"]].sum()
    full = pd.MultiIndex.from_product([YEARS, AGES], names=["year", "age"])
    if not full.isin(grouped.index).all():
        raise SystemExit("migprojAge1dt: some year and age combinations are missing")
    grouped = grouped.reindex(full)
    values = np.stack([grouped["migM"], grouped["migF"]], axis=-1).reshape(
        len(YEARS), MAX_AGE + 1, 2) * 1000.0
    values = np.round(values, 1) + 0.0  # whole persons in WPP (3 decimals of thousands)
    totals = read_wpp(data, "migproj1dt.csv").set_index("year")["mig"]
    report.values["mig_2025"] = values[0].sum()
    report.values["mig_wpp_2025"] = float(totals.loc[BASE_YEAR]) * 1000.0
    report.values["mig_2050"] = values[2050 - BASE_YEAR].sum()
    return long_table(values, "net_migration")


# ---------------------------------------------------------------------------------------
# illustrative economy and labour market


def ramp(years: np.ndarray, start: tuple[int, float], end: tuple[int, float]) -> np.ndarray:
    """Constant ``start[1]`` up to ``start[0]``, linear to ``end[1]`` at ``end[0]``, then flat."""
    return np.interp(years, [start[0], end[0]], [start[1], end[1]])


def build_economy() -> pd.DataFrame:
    """Illustrative macroeconomic paths (fractions per year)."""
    inflation = ramp(YEARS, (2025, 0.12), (2030, 0.05))
    real_wage_growth = ramp(YEARS, (2040, 0.02), (2060, 0.015))
    interest_rate = (1.0 + inflation) * 1.025 - 1.0  # 2.5% real return on reserves
    return pd.DataFrame({"year": YEARS, "inflation": inflation,
                         "real_wage_growth": real_wage_growth, "interest_rate": interest_rate})


# knots (age, value) of the illustrative labour-market profiles; PCHIP between knots
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
FEMALE_EARNINGS = 0.85


def profile(knots: list[tuple[int, float]], ages: np.ndarray) -> np.ndarray:
    """Smooth, shape-preserving age profile through the knots."""
    x, y = zip(*knots, strict=True)
    return PchipInterpolator(x, y)(ages)


def earnings_profile(ages: np.ndarray) -> np.ndarray:
    """Concave age-earnings profile, 1 on average over ages 25-59."""
    def raw(x: np.ndarray) -> np.ndarray:
        return np.exp(0.06 * (x - 15) - 0.0009 * (x - 15) ** 2)
    return raw(ages) / raw(np.arange(25, 60)).mean()


def build_labour() -> pd.DataFrame:
    """Illustrative participation, unemployment, coverage and earnings by year, age, sex."""
    ages = np.arange(*LABOUR)
    factor = ramp(YEARS, *FORMALISATION)
    frames = []
    for sex in SEXES:
        earnings = earnings_profile(ages) * (FEMALE_EARNINGS if sex == "female" else 1.0)
        coverage = np.minimum(np.outer(factor, profile(COVERAGE[sex], ages)), 1.0)
        year, age = np.meshgrid(YEARS, ages, indexing="ij")
        n = len(YEARS)
        frames.append(pd.DataFrame({
            "year": year.ravel(), "age": age.ravel(), "sex": sex,
            "participation": np.tile(profile(PARTICIPATION[sex], ages), n),
            "unemployment": np.tile(profile(UNEMPLOYMENT, ages), n),
            "coverage": coverage.ravel(),
            "relative_earnings": np.tile(earnings, n),
        }))
    table = pd.concat(frames, ignore_index=True)
    return table.sort_values(["year", "age", "sex"], key=sex_order).reset_index(drop=True)


def sex_order(column: pd.Series) -> pd.Series:
    """Sort key putting male before female and leaving other columns as they are."""
    return column.map(SEXES.index) if column.name == "sex" else column


# ---------------------------------------------------------------------------------------
# writing


TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "population": ("population.csv", {"population": "persons"}),
    "mortality": ("mortality.csv", {"mx": "per person-year"}),
    "fertility": ("fertility.csv", {"asfr": "births per woman-year"}),
    "sex_ratio_at_birth": ("sex_ratio_at_birth.csv", {"srb": "males per female"}),
    "migration": ("migration.csv", {"net_migration": "persons"}),
    "economy": ("economy.csv", {"inflation": "fraction per year",
                                "real_wage_growth": "fraction per year",
                                "interest_rate": "fraction per year"}),
    "labour": ("labour.csv", {"participation": "fraction", "unemployment": "fraction",
                              "coverage": "fraction", "relative_earnings": "relative"}),
}
FORMATS = {"population": PERSONS, "mx": RATE, "asfr": ".12g", "srb": EXACT,
           "net_migration": PERSONS, "inflation": EXACT, "real_wage_growth": EXACT,
           "interest_rate": EXACT, "participation": FRACTION, "unemployment": FRACTION,
           "coverage": FRACTION, "relative_earnings": FRACTION}


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a long table: header row, comma separated, values formatted per column."""
    formatters: list[Callable[[object], str]] = [
        (lambda v, f=FORMATS[c]: format(float(v), f)) if c in FORMATS else str
        for c in frame.columns]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(frame.columns)
        for row in frame.itertuples(index=False):
            writer.writerow([fmt(v) for fmt, v in zip(formatters, row, strict=True)])


def toml_string(text: str) -> str:
    """A basic TOML string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_header(out: Path) -> None:
    """Write assumptions.toml declaring every table and its units."""
    lines = [
        "[assumption_set]",
        f"name = {toml_string(SET_NAME)}",
        "title = "
        + toml_string("Illustrative lower-middle-income country (demography: Ghana, WPP 2024)"),
        f"source = {toml_string(SOURCE)}",
        f"licence = {toml_string(LICENCE)}",
        f"base_year = {BASE_YEAR}",
    ]
    for name, (file, units) in TABLES.items():
        unit_text = ", ".join(f"{k} = {toml_string(v)}" for k, v in units.items())
        lines += ["", f"[tables.{name}]", f"file = {toml_string(file)}",
                  f"units = {{ {unit_text} }}"]
    (out / "assumptions.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


README = """\
# Assumption set `illustrative-lmic`

An illustrative lower-middle-income country for spfsim's default model. **Its demography is
Ghana's** (UN M49 code 288) from the UN World Population Prospects 2024, medium variant,
graduated to single years of age 0-100 (100 = 100 and over). **Its economy and labour market
are illustrative**: made up but plausible for a lower-middle-income West African country; they
describe no actual country or scheme. Base year {base_year} (populations at 1 July), years
{base_year}-{end_year} (calendar years, as in WPP's annual series).

Generated by `tools/build_default_assumptions.py` from the public reference data in
`../shared/data` (never copied here); rerun it with `--overwrite` to rebuild. Do not edit
the CSVs by hand.

## Sources and licence

- Demographic tables (`population`, `mortality`, `fertility`, `sex_ratio_at_birth`,
  `migration`) are derived from: UN DESA Population Division, World Population Prospects
  2024, as packaged by the R package wpp2024 1.1-3. Licence: CC BY 3.0 IGO
  (https://creativecommons.org/licenses/by/3.0/igo/). The figures here are our
  graduation of WPP's published figures, not UN figures; the UN does not endorse them.
- Illustrative tables (`economy`, `labour`) are spfsim's own, under the project's licence.
  Their shapes are informed only qualitatively by the ILO modelled estimates (ILOSTAT) for
  West Africa; no ILO figure is reproduced.

## What is data and how it is derived

All from WPP 2024 files for country 288, medium variant.

- `population.csv` from `popprojAge5dt_devsubset.csv` (year 2025, `popM`/`popF`, thousands,
  5-year groups 0-4 ... 95-99, 100+): x1000 to persons; a monotone (PCHIP) curve through the
  cumulative population at ages 0, 5, ..., 100 is differenced at single ages, which keeps
  every group total and gives no negative count; 100+ stays as age 100. Rounded to 0.1
  person by largest remainder within each group, so the written single ages still add up
  exactly to WPP's group totals.
- `mortality.csv` from `mx5dt.csv` (`mxM`/`mxF`; abridged ages 0, 1, 5, ..., 95, 100+;
  5-year periods). Ages: age 0 takes the age-0 rate, ages 1-4 the 1-4 rate; from age 5,
  log m(x) is linear between the group mid-points x+2.5, evaluated at the single-age
  mid-points a+0.5 (ages 5-6, below the first mid-point, take the 5-9 rate; ages 98-99
  continue the log-linear slope from 90-94 to 95-99); age 100 takes the 100+ rate. Years:
  log m(x) is linear in the calendar year between period mid-points. The period p to p+5
  runs from 1 July p to 1 July p+5 and is centred on 1 January p+3, the middle of calendar
  year p+2.5; so the mid-points used are 2022.5, 2027.5, ..., 2097.5 (not the file's `year`
  column, half a year later). Rates are held constant after 2097.5 (2098-2100 use the
  2095-2100 rates). The build checks that rates lie in (0, 1) below age 100, that the
  infant rate exceeds the 1-4 rate and that rates do not decrease with age from 30.
- `fertility.csv` from `tfrproj1dt.csv` (`tfr`, annual) and
  `percentASFR5_annual_by_age5.txt` (annual percentage of TFR by 5-year group): group
  10-14 is folded into 15-19 and 50-54 into 45-49; the percentages, rounded in the file,
  are rescaled to add up to 100; group ASFR = TFR x percentage / 100 / 5; single ages
  15-49 come from a PCHIP curve through cumulative fertility at ages 15, 20, ..., 50, which
  keeps every group's sum and gives no negative rate. The single-age ASFR as written add up
  to the annual TFR within {tfr_error:.0e}.
- `sex_ratio_at_birth.csv` from `sexRatio1dt.csv` (`srb`), as published.
- `migration.csv` from `migprojAge1dt.csv.gz` (`migM`/`migF`, thousands, single ages):
  x1000 to persons. Ages are coded 0-100 with 100 the open group (any age above 100 would
  be folded into 100).

## What is illustrative

- `economy.csv`: inflation 12% in 2025 falling linearly to 5% by 2030, 5% after; real wage
  growth 2% a year to 2040, falling linearly to 1.5% by 2060, flat after; nominal interest
  on reserves (1 + inflation) x 1.025 - 1 (a 2.5% real return).
- `labour.csv`, ages 15-75 (none outside), smooth shape-preserving (PCHIP) curves through
  the knots in the script: participation about 0.35 at 15, plateau 0.90 (men) / 0.80 (women)
  at 30-50, about 0.45 at 70 and 0.30 at 75; unemployment 0.10 at 15-24 falling to 0.04 from
  30; coverage (contributors / employed) 0.05 at 15-19, peak 0.22 (men) / 0.14 (women) at
  30-50, about 0.02 at 75, times a formalisation factor rising linearly from 1.0 in 2025 to
  1.8 in 2060 and flat after (capped at 1); relative earnings
  exp(0.06 (x-15) - 0.0009 (x-15)^2), normalised to average 1 over ages 25-59 for men,
  women 0.85 of men. Participation, unemployment and earnings are the same every year.

## Checks (computed by the build script)

Population 1 July 2025: {pop_male:,.0f} men and {pop_female:,.0f} women ({pop_total:,.0f}).
TFR {tfr_2025:.3f} (2025), {tfr_2050:.3f} (2050), {tfr_2100:.3f} (2100); SRB 2025
{srb_2025:.3f}. Net migration 2025: {mig_2025:,.0f} persons (WPP annual total
{mig_wpp_2025:,.0f}; difference is rounding in WPP's file).

Life expectancy at birth from these single-age rates (spfsim's `LifeTable`) against WPP's
annual e0 (`e0proj1dt.csv`); nothing was tuned to match:

| year | sex | here | WPP | difference |
|---|---|---|---|---|
{e0_rows}

Between about 2030 and 2097 the difference is about 0.01 year, which supports centring
the periods on calendar year p+2.5 (centring them on the file's `year` column instead gives
e0 about 0.08 year too low throughout). In 2025 e0 is about 0.1 year low because the
2020-2025 period rates include the COVID-19 years 2020-2021 (WPP's annual e0 dips then),
which the interpolation carries into 2025. In 2100 it is about 0.3-0.4 year low because the
rates are held at their 2095-2100 level after 2097.5 while WPP's keep falling.
"""


def write_readme(out: Path, report: Report) -> None:
    """Write README.md with sources, derivations and the checks' numbers."""
    v = report.values
    e0_rows = "\n".join(
        f"| {y} | {s} | {v[f'e0_{s}_{y}']:.2f} | {v[f'e0_wpp_{s}_{y}']:.2f} | "
        f"{v[f'e0_{s}_{y}'] - v[f'e0_wpp_{s}_{y}']:+.2f} |"
        for y in (2025, 2050, 2100) for s in SEXES)
    text = README.format(base_year=BASE_YEAR, end_year=END_YEAR, e0_rows=e0_rows,
                         pop_total=v["pop_male"] + v["pop_female"], **v)
    (out / "README.md").write_text(text, encoding="utf-8")


def prepare_out(out: Path, overwrite: bool) -> None:
    """Create the output folder; refuse to replace existing files unless told to."""
    names = [file for file, _ in TABLES.values()] + ["assumptions.toml", "README.md"]
    existing = [n for n in names if (out / n).exists()]
    if existing and not overwrite:
        raise SystemExit(f"{out} already holds {', '.join(existing)}; use --overwrite")
    out.mkdir(parents=True, exist_ok=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"reference data folder (default {DEFAULT_DATA})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Build every table, check it, write the set and print a summary."""
    args = parse_args(argv)
    if not (args.data / "wpp2024").is_dir():
        raise SystemExit(f"no wpp2024 folder under {args.data}")
    prepare_out(args.out, args.overwrite)
    report = Report()
    mortality, mx = build_mortality(args.data)
    tables = {
        "population": build_population(args.data, report),
        "mortality": mortality,
        "fertility": build_fertility(args.data, report),
        "sex_ratio_at_birth": build_srb(args.data, report),
        "migration": build_migration(args.data, report),
        "economy": build_economy(),
        "labour": build_labour(),
    }
    compare_e0(args.data, mx, report)
    for name, frame in tables.items():
        write_csv(frame, args.out / TABLES[name][0])
    write_header(args.out)
    write_readme(args.out, report)
    print_summary(args.out, report)


def print_summary(out: Path, report: Report) -> None:
    """Print the headline numbers and file sizes."""
    v = report.values
    print(f"population 2025: male {v['pop_male']:,.1f}, female {v['pop_female']:,.1f} "
          f"(WPP {v['pop_wpp_male']:,.1f}, {v['pop_wpp_female']:,.1f})")
    print(f"TFR 2025 {v['tfr_2025']:.4f}, 2050 {v['tfr_2050']:.4f} "
          f"(max |sum asfr - TFR| {v['tfr_error']:.1e})")
    print(f"net migration 2025: {v['mig_2025']:,.0f} persons (WPP total {v['mig_wpp_2025']:,.0f})")
    total = 0
    for file in sorted(out.iterdir()):
        size = file.stat().st_size
        total += size if file.suffix == ".csv" else 0
        print(f"  {file.name:26} {size / 1024:8.1f} KiB")
    print(f"  CSVs in all: {total / 1024 / 1024:.2f} MiB")


if __name__ == "__main__":
    main()
