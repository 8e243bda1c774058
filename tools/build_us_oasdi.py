"""Build models/us-oasdi-tr2026: US Social Security (OASDI) from the inputs of the 2026
Trustees Report, intermediate assumptions (issue #22).

    python tools/build_us_oasdi.py [--data ../shared/data/ssa_tr2026] [--out DIR]
                                   [--report-only] [--engines RUNS] [--diagnose]

Reads the report's input tables (``../shared/data/ssa_tr2026``, public domain, SSA Office
of the Chief Actuary; see its README) and HFD's US fertility by age (``../shared/data/
lifetables``), writes the assumption tables and ``model.toml``, then calibrates four
numbers, each to one **historical** figure of 2025 (never to a projected result):

1. the spread of earnings within a cell (``[economy] earnings_permanent_sd``): the 2025
   taxable payroll (table VI.G1) over the covered workers (IV.B4);
2. the level of disability onset rates (``invalidity_incidence``): the disabled workers in
   current payment at the end of 2025 (V.C5);
3. the share of deceased insured persons who leave a survivor entitled to a benefit
   (``married_share``): the survivors in current payment at the end of 2025 (V.C4:
   widow(er)s, mothers and fathers, children);
4. beneficiaries' other income as a multiple of their benefit (``benefit_tax_other_income``),
   in the taxation of benefits (Internal Revenue Code sec. 86: its thresholds fixed in
   dollars): the 2025 non-interest income less 12.4 % of taxable payroll (VI.G2, VI.G1).

It also measures one number on the model's own micro engine, after the first round of
calibration: the spread of survivors' pensions around the means the cohort engine keeps
(``pensions_in_payment_spread``), as the spread at which the cohort engine's expectation
of the dual-entitlement top-up (the own pensions in their classes' shapes) is the micro
engine's top-up in 2080 (:func:`survivor_topup`).

Everything else is the law (each parameter cites its section of the Social Security Act)
or an input series of the report. The age profiles of labour-force attachment and
earnings and the shape of disability onset by age are stylised (the data folder has none)
and stated in the model's README. Each calibration solves its equation by bisection on the
model's own cohort projection of the base year.

The report's tables end in 2100, the last year of its 75-year valuation period; the
Trustees size its ending target fund on the cost of the year after (2101). The model runs
to 2101 for that alone: the population of 2101 from each cohort's change of 2099-2100
(:func:`next_population`), the year's other inputs those of 2100, the report's ultimate
assumptions.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from spfsim.schemes import oasdi  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "ssa_tr2026"
OUT = REPO / "models" / "us-oasdi-tr2026"
BASE, END = 2025, 2100  # the report's first projection year's base and last year
LAST = END + 1  # the model's last year: the cost of the ending target fund
AGES = np.arange(101)
SEXES = ("male", "female")
PAYROLL_TAX = 0.124  # OASDI: 6.2 % employee + 6.2 % employer, IRC secs. 3101(a), 3111(a)


# ------------------------------------------------------------------ reading the tables


def next_population(before: np.ndarray, last: np.ndarray) -> np.ndarray:
    """The (age, sex) population of the year after ``last``, each cohort changed as it did
    from ``before`` (the year before) to ``last`` (a cohort-change-ratio projection: its
    deaths and migration together); the newborns as the last year's over the year
    before's; age 100 the open group (99 and 100 and over of ``last``)."""
    out = np.empty_like(last)
    out[0] = last[0] * last[0] / before[0]
    out[1:100] = last[:99] * last[1:100] / before[:99]
    out[100] = (last[99] + last[100]) * last[100] / (before[99] + before[100])
    return out


def held(series: dict[int, float], year: int) -> float:
    """A yearly input of the report, its last year's value after the report's tables."""
    return series[min(year, END)]

def number(cell: str) -> float | None:
    """A number of a Trustees Report cell: footnote letters before or after it and
    thousands' commas dropped; None for a blank, a dash or letters alone."""
    text = re.sub(r"^[a-z]+|[a-z]+$", "", cell.strip().replace(",", ""))
    try:
        return float(text)
    except ValueError:
        return None


def by_year(path: Path, column: int) -> dict[int, float]:
    """Column ``column`` of a Trustees Report table by calendar year (rows whose first cell
    starts with a year; a footnote letter after the year is dropped)."""
    out = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if row and re.match(r"^\d{4}", row[0]) and len(row) > column:
                value = number(row[column])
                if value is not None:
                    out[int(row[0][:4])] = value
    return out


def area_population(path: Path, first: int = BASE) -> dict[int, np.ndarray]:
    """SSPopJul: the Social Security area population at 1 July, (101, 2) by year from
    ``first`` to END (age 100 is 100 and over; M Tot, F Tot: all marital statuses)."""
    out: dict[int, np.ndarray] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            year, age = int(row["Year"]), int(row["Age"])
            if first <= year <= END:
                grid = out.setdefault(year, np.zeros((101, 2)))
                grid[min(age, 100)] += (float(row["M Tot"]), float(row["F Tot"]))
    return out


def married_shares(data: Path, year: int = BASE, youngest: int = 62) -> tuple[float, float]:
    """The married share of the area population aged ``youngest`` and over at 1 July of
    ``year`` (SSPopJul's M Mar / M Tot and F Mar / F Tot): the chance that a pensioner
    has a partner who may be a dependent spouse (``dependant_partner_share``, measured;
    tools/us_oasdi_features.py)."""
    married, total = np.zeros(2), np.zeros(2)
    with (data / "SSPopJul_TR2024.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if int(row["Year"]) == year and int(row["Age"]) >= youngest:
                married += (float(row["M Mar"]), float(row["F Mar"]))
                total += (float(row["M Tot"]), float(row["F Tot"]))
    male, female = married / total
    return float(male), float(female)


def area_population_all(data: Path) -> dict[int, np.ndarray]:
    """The area population of every year the file has (1941-2100)."""
    return area_population(data / "SSPopJul_TR2024.csv", first=0)


def death_rates(path: Path) -> dict[int, np.ndarray]:
    """The period life tables' central death rates m(x) = d(x) / L(x), (101, 2) by year;
    for the open age group 100+, l(100) / T(100)."""
    out: dict[int, np.ndarray] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            year, age = int(row["Year"]), int(row["x"])
            if year < BASE or age > 100:
                continue
            s = SEXES.index(row["sex"])
            grid = out.setdefault(year, np.zeros((101, 2)))
            if age < 100:
                grid[age, s] = float(row["dx"]) / float(row["Lx"])
            else:
                grid[age, s] = float(row["lx"]) / float(row["Tx"])
    return out


def fertility_pattern(path: Path, year: int = 2020) -> dict[int, float]:
    """HFD's US age-specific fertility of ``year`` at ages 14-49, scaled to a total of 1
    (the shape the Trustees' TFR is spread over)."""
    rates = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if int(row["Year"]) == year and row["Age"].isdigit() and 14 <= int(row["Age"]) <= 49:
                rates[int(row["Age"])] = float(row["ASFR"])
    total = sum(rates.values())
    return {age: rate / total for age, rate in rates.items()}


# ------------------------------------------------------------- stylised age profiles

# Share of each age with covered earnings at some time in the year, before the yearly
# scale to the Trustees' covered workers (stylised: the shape of US work experience by
# age, BLS "Work experience of the population"): men and women.
_ATTACHMENT = {15: (0.20, 0.20), 16: (0.40, 0.40), 18: (0.72, 0.72), 20: (0.88, 0.86),
               25: (0.96, 0.90), 35: (0.97, 0.88), 45: (0.96, 0.88), 55: (0.88, 0.80),
               60: (0.76, 0.68), 62: (0.66, 0.58), 65: (0.48, 0.40), 67: (0.37, 0.30),
               70: (0.26, 0.20), 75: (0.15, 0.10), 80: (0.08, 0.05), 85: (0.03, 0.02),
               90: (0.0, 0.0)}
# Men's mean earnings by age, relative (the model rescales the profile so that covered
# workers earn the average wage index on average); stylised: the shape of US annual
# earnings by age (Census CPS-ASEC); women's level 78 % of men's
_EARNINGS = {15: 0.12, 18: 0.25, 20: 0.38, 25: 0.70, 30: 0.90, 35: 1.05, 40: 1.15,
             45: 1.20, 50: 1.20, 55: 1.15, 60: 1.05, 65: 0.85, 70: 0.65, 80: 0.5, 90: 0.5}
WOMEN_EARNINGS = 0.78


def _profile(points: dict, ages: np.ndarray) -> np.ndarray:
    xs = sorted(points)
    ys = np.array([points[x] for x in xs], dtype=float)
    if ys.ndim == 1:
        return np.interp(ages, xs, ys)
    return np.stack([np.interp(ages, xs, ys[:, s]) for s in range(ys.shape[1])], axis=1)


# Civilian labour-force participation rates, per cent, of men and women aged 16 and over
# (BLS, Current Population Survey, annual averages, series LNU01300001 and LNU01300002;
# to about half a point): only their ratio of women to men enters, to split the covered
# workers' history between the sexes.
_PARTICIPATION = {1948: (86.6, 32.7), 1950: (86.4, 33.9), 1955: (85.4, 35.7),
                  1960: (83.3, 37.7), 1965: (80.7, 39.3), 1970: (79.7, 43.3),
                  1975: (77.9, 46.3), 1980: (77.4, 51.5), 1985: (76.3, 54.5),
                  1990: (76.4, 57.5), 1995: (75.0, 58.9), 2000: (74.8, 59.9),
                  2005: (73.3, 59.3), 2010: (71.2, 58.6), 2015: (69.1, 56.7),
                  2020: (67.7, 56.2), 2024: (68.0, 57.5)}
HISTORY_START = 1937  # the first year of contributions (Social Security Act of 1935, title VIII)


def contribution_history(covered: dict[int, float], population: dict[int, np.ndarray],
                         attachment: np.ndarray) -> dict[int, np.ndarray]:
    """(sex,) contributing in each year 1937-2024 as a multiple of 2025's: the covered
    workers (IV.B4, from 1945) per person aged 15-89 (SSPopJul, from 1941) against 2025's,
    split between men and women by the BLS participation rates' change against 2024,
    keeping the total; a year without data takes its nearest year's."""
    def per_person(year: int) -> float:
        pop = population[min(max(year, min(population)), max(population))]
        return covered[year] * 1e3 / pop[15:90].sum()

    weights = (population[BASE] * attachment)[15:90].sum(axis=0)
    men_share = weights[0] / weights.sum()
    years = np.array(sorted(_PARTICIPATION))
    now = np.array(_PARTICIPATION[max(_PARTICIPATION)])
    out = {}
    for year in range(HISTORY_START, BASE):
        total = per_person(max(year, min(covered))) / per_person(BASE)
        change = np.array([np.interp(year, years, [_PARTICIPATION[y][s] for y in years])
                           for s in (0, 1)]) / now
        out[year] = total * change / (men_share * change[0] + (1 - men_share) * change[1])
    return out


def onset_shape(ages: np.ndarray) -> np.ndarray:
    """Stylised disability onset by age among insured workers, relative (men, women): rising
    about 8.5 % a year of age from 20 to the normal retirement age (the shape of SSA's
    age-specific DI incidence), women's 90 % of men's."""
    shape = np.where((ages >= 20) & (ages < 67), np.exp(0.085 * (ages - 45.0)), 0.0)
    return np.stack([shape, 0.9 * shape], axis=1)


# -------------------------------------------------------------------------- writing

def write_csv(path: Path, header: list[str], rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _g(x: float) -> str:
    return f"{x:.8g}"


def write_tables(data: Path, lifetables: Path, folder: Path, incidence_scale: float) -> None:
    """Write the assumption set into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    years = range(BASE, LAST + 1)
    population = area_population(data / "SSPopJul_TR2024.csv")
    population[LAST] = next_population(population[END - 1], population[END])
    write_csv(folder / "population.csv", ["age", "sex", "population"],
              ((a, s, _g(population[BASE][a, j])) for j, s in enumerate(SEXES) for a in AGES))
    write_csv(folder / "population_projection.csv", ["year", "age", "sex", "population"],
              ((y, a, s, _g(population[y][a, j])) for y in years for j, s in enumerate(SEXES)
               for a in AGES))
    mx = death_rates(data / "ssa_period_life_tables_TR2020_long.csv")
    last = max(mx)
    write_csv(folder / "mortality.csv", ["year", "age", "sex", "mx"],
              ((y, a, s, _g(mx[y][a, j])) for y in range(BASE, last + 1)
               for j, s in enumerate(SEXES) for a in AGES))
    # beyond the tables (2095), each age and sex's average improvement of 2085-2095
    improvement = 1.0 - (mx[last] / mx[last - 10]) ** 0.1
    write_csv(folder / "mortality_improvement.csv", ["age", "sex", "improvement"],
              ((a, s, _g(improvement[a, j])) for j, s in enumerate(SEXES) for a in AGES))
    tfr = by_year(data / "V_A1_intermediate.csv", 1)
    pattern = fertility_pattern(lifetables / "HFD_USA_asfr_1x1_1933_2020.csv")
    write_csv(folder / "fertility.csv", ["year", "age", "asfr"],
              ((y, a, _g(held(tfr, y) * p)) for y in years
               for a, p in sorted(pattern.items())))
    write_csv(folder / "sex_ratio_at_birth.csv", ["year", "srb"],
              ((y, _g(population[y][0, 0] / population[y][0, 1])) for y in years))
    cpi = by_year(data / "V_B1_intermediate.csv", 7)
    real_wage = by_year(data / "V_B1_intermediate.csv", 6)
    interest = by_year(data / "V_B2_intermediate.csv", 5)
    write_csv(folder / "economy.csv", ["year", "inflation", "real_wage_growth", "interest_rate"],
              ((y, _g(held(cpi, y) / 100), _g(held(real_wage, y) / 100),
                _g(held(interest, y) / 100)) for y in years))
    unemployment = by_year(data / "V_B2_intermediate.csv", 1)
    covered = by_year(data / "covered_workers_IV_B4.csv", 1)
    attachment = _profile(_ATTACHMENT, AGES)
    earnings = _profile(_EARNINGS, AGES)[:, None] * np.array([1.0, WOMEN_EARNINGS])
    working = (AGES >= 15) & (AGES <= 89)
    rows, coverage = [], {}
    for y in years:
        u = held(unemployment, y) / 100
        workers = float((population[y] * attachment * (1 - u))[working].sum())
        coverage[y] = covered[y] * 1e3 / workers if y <= END else coverage[END]
        rows += [(y, a, s, _g(attachment[a, j]), _g(u), _g(coverage[y]), _g(earnings[a, j]))
                 for j, s in enumerate(SEXES) for a in AGES if working[a]]
    if max(coverage.values()) > 1:
        raise SystemExit(f"coverage above 1 in {max(coverage, key=coverage.get)}: raise the "
                         "attachment profile")
    write_csv(folder / "labour.csv", ["year", "age", "sex", "participation", "unemployment",
                                      "coverage", "relative_earnings"], rows)
    history = contribution_history(covered, area_population_all(data), attachment)
    write_csv(folder / "contribution_history.csv", ["year", "sex", "density_ratio"],
              ((y, s, _g(history[y][j])) for y in sorted(history) for j, s in enumerate(SEXES)))
    write_onset(folder, incidence_scale)
    (folder / "assumptions.toml").write_text(ASSUMPTIONS_TOML)


def write_economic_history(data: Path, folder: Path) -> None:
    """Write ``economic_history.csv`` into the assumption set ``folder``: the historical
    rows (1960-2024) of the two series economy.csv takes from V.B1, the CPI's growth and
    the real average wage in covered employment's. Not declared by the model (it does not
    take them yet: tools/us_oasdi_features.py, docs/validation.md); declared with
    ``[tables.economic_history]``, its base-year pensions in payment are those of the
    past's real wage growth, not 2025's."""
    cpi = by_year(data / "V_B1_intermediate.csv", 7)
    real_wage = by_year(data / "V_B1_intermediate.csv", 6)
    write_csv(folder / "economic_history.csv", ["year", "inflation", "real_wage_growth"],
              ((y, _g(cpi[y] / 100), _g(real_wage[y] / 100))
               for y in sorted(cpi) if y < BASE))


def write_onset(folder: Path, scale: float) -> None:
    """disability.csv: the onset shape at a level of ``scale`` (the rate at 45, men, as
    written: to 8 digits, so that the file gives back its own scale)."""
    onset = onset_shape(AGES) * float(_g(scale))
    write_csv(folder / "disability.csv", ["age", "sex", "invalidity_incidence"],
              ((a, s, _g(onset[a, j])) for j, s in enumerate(SEXES) for a in AGES))


ASSUMPTIONS_TOML = """\
[assumption_set]
name = "us-oasdi-tr2026"
title = "US Social Security area, 2026 Trustees Report, intermediate assumptions"
source = "SSA OACT: 2026 Trustees Report tables, SSPopJul_TR2024, life tables TR2020; HFD"
licence = "public domain (US government works); HFD: CC BY 4.0"
base_year = 2025

[tables.population]
file = "population.csv"

[tables.population_projection]
file = "population_projection.csv"

[tables.mortality]
file = "mortality.csv"

[tables.mortality_improvement]
file = "mortality_improvement.csv"

[tables.fertility]
file = "fertility.csv"

[tables.sex_ratio_at_birth]
file = "sex_ratio_at_birth.csv"

[tables.economy]
file = "economy.csv"

[tables.labour]
file = "labour.csv"

[tables.disability]
file = "disability.csv"

[tables.contribution_history]
file = "contribution_history.csv"
"""


def normal_retirement_ages() -> str:
    """A TOML value: the normal retirement age by year of birth in years and months
    (sec. 216(l), schemes.oasdi): 65 to 1937, 2 months a year more to 66 for 1943-1954,
    then to 67 from 1960; each age written to four decimals (66.1667: 66 years 2 months)."""
    steps, last = [], None
    for born in range(1937, 1961):
        months = oasdi.normal_retirement_age_months(born)
        if months != last:
            steps.append(f"{born} = {round(months / 12, 4):g}")
            last = months
    return "{ " + ", ".join(steps) + " }"


def _wage_indexed(values: dict[int, float]) -> str:
    """A TOML value: amounts by effective year, indexed after the last to wages of two
    years before (the average wage index of t - 2: secs. 230, 215(a)(1)(B))."""
    dated = ", ".join(f"{year} = {value:.0f}" for year, value in sorted(values.items()))
    return "{ values = { " + dated + ' }, indexation = "wages", indexation_lag = 2 }'


def model_toml(data: Path, sd: float, married: float, other_income: float,
               spread: float) -> str:
    """model.toml: the law's parameters (cited), the report's 2025 levels, the calibrated
    numbers (``other_income``: beneficiaries' other income as a multiple of their benefit)
    and the measured ``spread`` of pensions in payment (:func:`survivor_topup`)."""
    series = oasdi.TrusteesSeries.read(data)
    g1 = {c: by_year(data / "VI_G1_intermediate.csv", c) for c in (2, 4)}
    reserve_2024 = by_year(data / "VI_G2_historical.csv", 5)[BASE - 1]
    bends = {y: 12 * oasdi.bend_points(y, series) for y in (BASE, BASE + 1)}
    nra = normal_retirement_ages()
    base = {y: oasdi.taxable_maximum(y, series) for y in (BASE, BASE + 1)}
    return f"""\
# US Social Security (OASDI, old-age, survivors and disability insurance as one fund),
# from the inputs of the 2026 Trustees Report, intermediate assumptions. Written by
# tools/build_us_oasdi.py; see README.md for what is the law, what is an input of the
# report, what is stylised and what is calibrated (to 2025 only).

[model]
name = "us-oasdi-tr2026"
title = "US Social Security (OASDI), 2026 Trustees Report inputs, intermediate"
base_year = {BASE}
end_year = {LAST}
# the Trustees' valuation period: 75 years after the base year, whose flows are history
# (to 2100; the model runs to 2101 for the ending target fund, the cost of 2101)
valuation_start = {BASE + 1}
currency = "USD"
assumptions = "assumptions"

[economy]
gdp = {g1[4][BASE] * 1e9:.6g}                  # 2025, table VI.G1
average_earnings = {g1[2][BASE]:.2f}           # the average wage index of 2025, VI.G1
earnings_permanent_sd = {sd:.4f}             # calibrated: 2025 taxable payroll (README)
labour_persistence = 0.8

[[schemes]]
id = "oasdi"
type = "db_old_age_pension"
name = "Old-Age, Survivors and Disability Insurance"

[schemes.parameters]
contribution_rate = {PAYROLL_TAX}            # IRC secs. 3101(a), 3111(a), 1401(a)
worker_share = 0.5
contribution_persistence = 0.85
working_pensioners = "contribute"             # the payroll tax on every worker, IRC sec. 3101
# the taxable maximum, sec. 230 (schemes.oasdi.taxable_maximum), then the wages of t - 2
earnings_ceiling = {_wage_indexed(base)}
benefit_formula = "bend_points"               # sec. 215(a)(1)(A): 90 %, 32 %, 15 %
# a year: 12 x the monthly bend points of sec. 215(a)(1)(B) (schemes.oasdi.bend_points),
# then the wages of t - 2
bend_point_1 = {_wage_indexed({y: b[0] for y, b in bends.items()})}
bend_point_2 = {_wage_indexed({y: b[1] for y, b in bends.items()})}
bend_factor_1 = 0.90
bend_factor_2 = 0.32
bend_factor_3 = 0.15
# the PIA of the year of first eligibility, at 62, raised by COLAs until claimed
eligibility_age = 62                          # sec. 215(a)(1)(B), 215(i)
averaging_years = 35                          # sec. 215(b)(2): 35 computation years
# a disability's computation years: the elapsed years after 21 less one in five (at most
# five), a death's less five, at least two, sec. 215(b)(2)(A), (B)(iii)
elapsed_years_from_age = 22
# earnings indexed to the average wage index of the second year before eligibility,
# sec. 215(b)(3)(A)(ii): the bend points of eligibility follow the same lagged index
indexing_lag = 2
accrual_rate = 0.0                            # not used by the bend-point formula
minimum_service = 10                          # 40 quarters of coverage, sec. 214(a)
# the normal retirement age by year of birth in years and months, sec. 216(l)
retirement_age = {{ male = {nra}, female = {nra} }}
retirement_age_basis = "birth_year"
early_retirement_age = 62                     # sec. 216(l)(2)
early_retirement_rate = 0.25                  # stylised claiming before the NRA
# sec. 202(q): 5/9 % a month for the first 36 months, 5/12 % a month beyond
early_reduction = {12 * oasdi.EARLY_RATE!r}
early_reduction_years = {oasdi.EARLY_MONTHS // 12}
early_reduction_after = {12 * oasdi.EARLY_RATE_AFTER!r}
deferral_rate = 0.1                           # stylised claiming after the NRA
latest_retirement_age = 70                    # sec. 202(w): no credits after 70
late_increment = 0.08                         # sec. 202(w)(6)(E): 2/3 % a month
minimum_pension = 0.0
pension_indexation = "prices"                 # sec. 215(i): CPI-W COLA
earnings_revaluation = "wages"                # sec. 215(b)(3): wage indexing
admin_cost_rate = 0.005                       # administrative expenses, about 0.5 % of cost
# taxation of benefits, IRC sec. 86(a)(1) and Social Security Act sec. 201(a): the fund
# receives the income tax on up to half of a benefit above a threshold of combined income
# fixed in dollars: 25,000 single, 32,000 a couple (16,000 each), about 21,000 a person
benefit_tax_threshold = 21000
benefit_tax_inclusion = 0.5
benefit_tax_rate = 0.15                       # stylised average income tax rate
benefit_tax_spread = 0.5                      # stylised spread of benefits by age and sex
# calibrated: the 2025 income other than payroll tax (README)
benefit_tax_other_income = {other_income:.4f}
initial_reserve = {reserve_2024 * 1e9:.6g}         # end of 2024, table VI.G2
start_year = 1937
disability_minimum_service = 5                # 20 quarters in the last 40, sec. 223(c)
disability_recovery_rate = 0.01               # stylised
disability_mortality_factor = 2.5             # stylised
survivor_pension_share = 1.0                  # widow(er) at the NRA, sec. 202(e), (f)
orphan_pension_share = 0.75                   # child of a deceased worker, sec. 202(d)(2)
orphan_age_limit = 17                         # under 18, sec. 202(d)(1)
# calibrated: the 2025 survivors (README)
married_share = {{ male = {married:.4f}, female = {married * 0.45:.4f} }}
spouse_age_difference = {{ male = 3, female = -3 }}
spouse_age_spread = 4
survivor_maximum_share = 1.75                 # family maximum, 150-188 % of the PIA, sec. 203(a)
survivor_minimum_service = 5
# dual entitlement: a survivor's benefit is reduced by her own, sec. 202(k)(3)(A)
survivor_with_own_pension = "higher"
# measured: the spread that gives the micro engine's dual-entitlement top-up (README)
pensions_in_payment_spread = {spread:.3f}
"""


# --------------------------------------------------------------------- calibration

def _project(model_dir: Path):
    import spfsim

    return spfsim.load_model(model_dir, end_year=BASE + 1).project().sel(scheme="oasdi")


def _micro_run(model_dir: Path, year: int, persons: int, seed: int,
               overrides: dict | None = None):
    """The model (its ``oasdi`` parameters ``overrides`` changed) run to the end of
    ``year`` by the micro engine: (assumptions, demography, economy, the run's result)."""
    import spfsim
    from spfsim.economy import project_economy
    from spfsim.engine.micro.engine import MicroSettings, run_micro
    from spfsim.pipeline import project_demography

    model = spfsim.load_model(model_dir, end_year=year)
    if overrides:
        model = model.with_parameters({"oasdi": overrides})
    a = model.assumptions
    demo = project_demography(a)
    econ = project_economy(a, demo.population)
    settings = MicroSettings(persons, seed, permanent_sd=a.earnings_permanent_sd,
                             transitory_sd=a.earnings_transitory_sd,
                             labour_persistence=a.labour_persistence)
    return a, demo, econ, run_micro(a, demo, econ, settings)


def award_check(model_dir: Path, year: int = 2070, age: int = 61,
                persons: int = 1_000_000, seed: int = 7,
                overrides: dict | None = None) -> dict[str, float]:
    """The old-age formula on the micro engine's insured persons of ``age`` at the end of
    ``year`` who have 10 credited years or more and no pension yet, three ways, each on
    the same credits: the formula on each person's own credits; the cohort engine's
    expectation of it on each (sex, credited years) class's mean credits with the
    earnings spread and the ceiling applied year by year (``old_age_award`` with the
    cell's ``career_caps``: the ages to ``age`` of the year's cross-section); and the
    same with the ceiling on the average as a whole (min(Y, K), the engine's rule
    before). Returns ``persons_gap`` and ``whole_average_gap``, each over the cohort
    engine's expectation less 1 (%), and the ``counted`` persons. The persons' sum has
    its sampling error (about 0.1 % with 1,000,000 persons) and a bias of the small
    classes' sample spread: run it without the taxable maximum too
    (``overrides={"earnings_ceiling": 0.0}``), where the ceiling plays no part."""
    from spfsim.engine.benefits import contributory_pension
    from spfsim.engine.cohort import _density
    from spfsim.engine.micro import kernels
    from spfsim.schemes import db_pension
    from spfsim.schemes import pension_rules as rules

    a, demo, econ, result = _micro_run(model_dir, year, persons, seed, overrides)
    store, k = result.store, len(a.years) - 1
    formula = db_pension.pension_formula(contributory_pension(a), k)
    sd = a.earnings_permanent_sd
    ceiling = float(formula[rules.CEILING])
    caps = (db_pension.career_caps(econ.earnings[k], _density(econ, demo.population)[k],
                                   ceiling, sd)[:, age + 1] if ceiling > 0 else None)
    n = store.size
    status = store.status[:n]
    chosen = ((status != kernels.GONE) & (status != kernels.RETIRED)
              & (status != kernels.INVALID) & (store.age[:n] == age)
              & (store.service[:n] >= 10))
    sex, service = store.sex[:n][chosen], store.service[:n][chosen].astype(int)
    credits = store.credits[:n][chosen].astype(float)

    def award(average, years, spread=0.0, caps_row=rules.NO_CAPS) -> float:
        return rules.old_age_award(float(average), int(years), 1.0, 0.0, 0.0, formula,
                                   spread, caps_row)

    totals = {"persons": 0.0, "cohort": 0.0, "whole": 0.0}
    for s in (0, 1):
        row = rules.NO_CAPS if caps is None else caps[s]
        for years in np.unique(service[sex == s]):
            members = (sex == s) & (service == years)
            mean, count = float(credits[members].mean()), members.sum()
            totals["persons"] += sum(award(x, years) for x in credits[members])
            totals["cohort"] += count * award(mean, years, sd, row)
            totals["whole"] += count * award(mean, years, sd)
    return {"persons_gap": 100 * (totals["persons"] / totals["cohort"] - 1),
            "whole_average_gap": 100 * (totals["whole"] / totals["cohort"] - 1),
            "counted": float(chosen.sum())}


def onset_exposure(model_dir: Path, year: int = 2049, persons: int = 500_000,
                   seeds: tuple[int, ...] = (1, 2, 3, 4)) -> dict[str, np.ndarray]:
    """The persons at risk of a disability onset the year after ``year``, in both engines:
    last year's contributors with the disability minimum service (credited years,
    pension_rules.qualified_insured), at the end of ``year`` (aged, after its deaths and
    credits), by five-year age group 20-24 to 65-69 (``groups``, their first ages). The
    cohort engine's state (``cohort``, persons) and the micro engine's store in runs of
    ``persons`` (``micro``, (seed, group) persons, weighted); ``contributors``, each
    engine's contributors of every service alike (``cohort_contributors``,
    ``micro_contributors``). Both engines draw onsets among them at the same rates."""
    import spfsim
    from spfsim.economy import project_economy
    from spfsim.engine import cohort
    from spfsim.engine.micro import kernels
    from spfsim.pipeline import project_demography

    groups = np.arange(20, 70, 5)

    def by_group(table: np.ndarray) -> np.ndarray:  # (age, sex) -> (group,)
        return np.array([table[g:g + 5].sum() for g in groups])

    # the cohort engine's state after the year's advance holds next year's cells
    a = spfsim.load_model(model_dir, end_year=year + 1).assumptions
    demo = project_demography(a)
    econ = project_economy(a, demo.population)
    scheme = next(s for s in a.schemes if s.type == "db_old_age_pension")
    minimum = int(scheme["disability_minimum_service"][0])
    inputs = cohort.pension_years(scheme, a, demo, econ)
    state = cohort.base_year_state(scheme, a, inputs(0))
    for k in range(year - int(a.years[0]) + 1):
        state.step(inputs(k))
        state.advance(inputs(k))
    cells = demo.population[k + 1]
    out = {"groups": groups,
           "cohort": by_group(state.active[:, :, 1, minimum:].sum(axis=(2, 3)) * cells),
           "cohort_contributors": by_group(state.active[:, :, 1].sum(axis=(2, 3)) * cells)}
    micro, contributors = [], []
    for seed in seeds:
        result = _micro_run(model_dir, year, persons, seed)[3]
        store, n = result.store, result.store.size
        contributing = np.isin(store.status[:n], (kernels.CONTRIBUTING,
                                                  kernels.SELF_EMPLOYED))
        tables = []
        for chosen in (contributing & (store.service[:n] >= minimum), contributing):
            table = np.zeros((101, 2))
            np.add.at(table, (store.age[:n][chosen], store.sex[:n][chosen]), result.weight)
            tables.append(by_group(table))
        micro.append(tables[0])
        contributors.append(tables[1])
    out["micro"], out["micro_contributors"] = np.array(micro), np.array(contributors)
    return out


def diagnosis(model_dir: Path) -> str:
    """:func:`survivor_topup` (the model's spread), :func:`award_check` (with and
    without the taxable maximum, two seeds) and :func:`onset_exposure`, as text."""
    lines = ["dual-entitlement top-up, billion USD (micro engine, 500,000 persons):"]
    for year in (2050, 2080, 2099):
        t = survivor_topup(model_dir, year)
        lines.append(f"  {year}: actual {t['actual']:.1f}, own pensions drawn from the cell "
                     f"{t['independent']:.1f}, cohort expectation {t['cohort']:.1f} "
                     f"(log-sd {t['log_sd']:.3f}, matching spread "
                     f"{t['matching_spread']:.3f})")
    lines.append("old-age formula at 61 in 2070 over the cohort engine's expectation (the "
                 "ceiling year by year) - 1 (%), micro engine, 1,000,000 persons:")
    for seed in (7, 8):
        for name, overrides in (("with", None), ("without", {"earnings_ceiling": 0.0})):
            c = award_check(model_dir, seed=seed, overrides=overrides)
            lines.append(f"  seed {seed}, {name} the taxable maximum: persons "
                         f"{c['persons_gap']:+.2f}, the ceiling on the average as a whole "
                         f"{c['whole_average_gap']:+.2f} ({c['counted']:.0f} persons)")
    e = onset_exposure(model_dir)
    lines.append("at risk of a disability onset in 2050 (contributors of 2049 with the "
                 "minimum service), micro (4 runs of 500,000) / cohort - 1 (%), and the "
                 "share of contributors at risk:")
    lines.append("  ages            " + " ".join(f"{g:>6d}" for g in e["groups"]))
    gap = 100 * (e["micro"] / e["cohort"] - 1)
    lines.append("  micro / cohort  " + " ".join(f"{v:+6.2f}" for v in gap.mean(axis=0)))
    lines.append("  standard error  " + " ".join(
        f"{v:6.2f}" for v in gap.std(axis=0, ddof=1) / np.sqrt(len(gap))))
    lines.append("  share, cohort   " + " ".join(
        f"{v:6.3f}" for v in e["cohort"] / e["cohort_contributors"]))
    lines.append("  share, micro    " + " ".join(
        f"{v:6.3f}" for v in (e["micro"] / e["micro_contributors"]).mean(axis=0)))
    return "\n".join(lines)


def _micro_pensions(model_dir: Path, year: int, persons: int, seed: int,
                    spread: float | None = None, parameters: dict | None = None
                    ) -> dict[str, np.ndarray]:
    """The micro engine's persons here at the end of ``year`` (a run of ``persons`` with
    ``seed``, the scheme's ``parameters`` changed if given; the model's
    ``pensions_in_payment_spread`` unless ``spread`` is given): age,
    sex, credited years (``service``), own old-age or disability pension (``own``) and
    spouse's pension before any dual-entitlement offset (``spouse``), 0 where none
    (currency per year); ``weight``, the persons each simulated one stands for, and the
    run's ``spread``."""
    from spfsim.engine.benefits import contributory_pension
    from spfsim.engine.micro import kernels

    overrides = dict(parameters or {})
    if spread is not None:
        overrides["pensions_in_payment_spread"] = spread
    a, _, _, result = _micro_run(model_dir, year, persons, seed, overrides)
    pension = contributory_pension(a)
    store = result.store
    n = store.size
    here = store.status[:n] != kernels.GONE
    own = here & np.isin(store.status[:n], (kernels.RETIRED, kernels.INVALID))
    spouse = here & (store.survivor_kind[:n] == kernels.SPOUSE)
    return {"age": store.age[:n][here], "sex": store.sex[:n][here],
            "service": store.service[:n][here],
            "own": np.where(own, store.pension[:n], 0.0)[here].astype(float),
            "spouse": np.where(spouse, store.survivor_pension[:n], 0.0)[here].astype(float),
            "weight": float(result.weight),
            "spread": float(pension["pensions_in_payment_spread"][-1])}


def survivor_topup(model_dir: Path, year: int = 2080, persons: int = 500_000,
                   seed: int = 3, spread: float | None = None,
                   draws: int = 20, parameters: dict | None = None) -> dict[str, float]:
    """The dual-entitlement top-up max(S - O, 0) of the micro engine's surviving spouses in
    ``year`` (a run with ``spread`` as ``pensions_in_payment_spread``, the model's if
    None, and the scheme's ``parameters`` changed if given) against the cohort engine's
    expectation of it (``survivors.
    spouses_beside_own_pensions``: S lognormal around its cell's mean with the spread, O
    independent of it and shaped as its class's own pensions are, one value for each of
    20 equal-count bands of them), the expectation taken on the same persons' means and
    classes' shapes (:func:`_own_shapes`), so that only S's spread is left to it.
    Returns:

    - ``actual``, in billions of the model's currency a year;
    - ``independent``: the same with each spouse's own pension replaced by that of a
      person drawn from her (age, sex) cell, ``draws`` times (what the top-up would be if
      being a survivor said nothing of one's own pension);
    - ``cohort``: the expectation at the run's spread;
    - ``own_at_means``: the expectation at it with every own pension at its class's mean
      instead of the shape (how much the shape weighs);
    - ``log_sd``: the root mean square of the log-sd of own old-age and disability
      pensions within (age, sex, credited years) and of spouses' pensions within (age,
      sex), pooled over the cells: the pensions' spread as a lognormal's log-sd;
    - ``matching_spread``: the spread at which the expectation is ``actual``, which is
      what the model declares (``pensions_in_payment_spread``: the tool measures it with
      ``spread`` 0, so that it does not depend on itself; the base year's survivors'
      pensions are then their cells' means, and by 2080 none of the base year's own
      pensions is left, few of its survivors').

    The survivor's pensions are the deceased's, the formula of a lognormal career
    average, not a lognormal: the matching spread is the lognormal's that gives their
    top-up against the persons' own pensions in their classes' shapes as measured here.
    The cohort engine keeps such a shape from the formula on the earnings spread
    (cohort_kernels.own_shapes), a little narrower at the top than the persons' (their
    transitory earnings and careers): matched against its shapes instead, the spread is
    0.564 in 2080 (docs/validation.md)."""
    from spfsim.schemes.survivors import spouses_beside_own_pensions

    p = _micro_pensions(model_dir, year, persons, seed, spread, parameters)
    shapes = _own_shapes(p)
    rng = np.random.default_rng(seed)
    actual = independent = 0.0
    cells = []
    for s in (0, 1):
        for x in np.unique(p["age"][p["sex"] == s]):
            cell = (p["age"] == x) & (p["sex"] == s)
            spouses = cell & (p["spouse"] > 0)
            if not spouses.any():
                continue
            survivor = p["spouse"][spouses]
            actual += float(np.maximum(survivor - p["own"][spouses], 0.0).sum())
            drawn = p["own"][cell][rng.integers(0, cell.sum(), size=(draws, survivor.size))]
            independent += float(np.maximum(survivor - drawn, 0.0).mean(axis=0).sum())
            with_own = cell & (p["own"] > 0)
            classes = np.unique(p["service"][with_own])
            own = np.array([(with_own & (p["service"] == c)).sum() for c in classes], float)
            money = np.array([p["own"][with_own & (p["service"] == c)].sum()
                              for c in classes])
            cells.append((cell.sum(), spouses.sum() / cell.sum(), survivor.sum() / cell.sum(),
                          own / cell.sum(), money / cell.sum(), shapes[s, classes]))

    def expected(sd: float, shaped: bool = True) -> float:
        return sum(n * spouses_beside_own_pensions(
            share, money, own, own_money, sd, shape if shaped else np.ones_like(shape))[1]
            for n, share, money, own, own_money, shape in cells)

    scale = p["weight"] / 1e9  # persons represented by each simulated one
    own, spouse = p["own"] > 0, p["spouse"] > 0
    own_sd = _pooled_log_sd((p["age"][own], p["sex"][own], p["service"][own]),
                            p["own"][own])
    spouse_sd = _pooled_log_sd((p["age"][spouse], p["sex"][spouse]), p["spouse"][spouse])
    return {"actual": actual * scale, "independent": independent * scale,
            "cohort": expected(p["spread"]) * scale,
            "own_at_means": expected(p["spread"], shaped=False) * scale,
            "log_sd": float(np.sqrt((own_sd ** 2 + spouse_sd ** 2) / 2.0)),
            "matching_spread": _bisect(lambda sd: expected(sd) - actual, 0.0, 2.0)}


def _own_shapes(p: dict[str, np.ndarray], bands: int = 20) -> np.ndarray:
    """(sex, credited years, band) the micro persons' own pensions relative to the mean of
    their (age, sex, credited years) cell, sorted within (sex, credited years) and
    averaged over ``bands`` equal-count bands, each class's over its mean (ones for a
    class of fewer than ``bands`` persons): the shape the cohort engine keeps
    (PensionState.own_shape)."""
    own = p["own"] > 0
    keys = np.stack([p["age"][own], p["sex"][own], p["service"][own]])
    _, cell = np.unique(keys, axis=1, return_inverse=True)
    cell = cell.ravel()
    relative = p["own"][own] / (np.bincount(cell, p["own"][own]) / np.bincount(cell))[cell]
    shapes = np.ones((2, int(p["service"].max()) + 1, bands))
    for s, c in np.unique(keys[1:], axis=1).T:
        members = np.sort(relative[(keys[1] == s) & (keys[2] == c)])
        if members.size >= bands:
            means = np.array([part.mean() for part in np.array_split(members, bands)])
            shapes[s, c] = means / means.mean()
    return shapes


def _pooled_log_sd(keys: tuple[np.ndarray, ...], amounts: np.ndarray) -> float:
    """The standard deviation of log ``amounts`` within the groups of equal ``keys``,
    pooled (the within-group sum of squares over its degrees of freedom)."""
    _, group = np.unique(np.stack(keys), axis=1, return_inverse=True)
    group = group.ravel()
    n = np.bincount(group)
    logs = np.log(amounts)
    mean = np.bincount(group, logs) / n
    squares = np.bincount(group, (logs - mean[group]) ** 2)
    return float(np.sqrt(squares.sum() / (n - 1).sum()))


def _bisect(f, low: float, high: float, steps: int = 30) -> float:
    """The root of the increasing function ``f`` between ``low`` and ``high``."""
    for _ in range(steps):
        middle = 0.5 * (low + high)
        if f(middle) > 0:
            high = middle
        else:
            low = middle
    return 0.5 * (low + high)


def survivors_2025(data: Path) -> float:
    """V.C4's survivors in current payment at the end of 2025 (persons): widow(er)s,
    mothers and fathers, children of deceased workers."""
    return sum(by_year(data / "V_C4_historical.csv", c)[BASE] * 1e3 for c in (4, 5, 6))


def spouses_2025(data: Path) -> float:
    """V.C4's and V.C5's spouses of retired and disabled workers in current payment at
    the end of 2025 (persons)."""
    return sum(by_year(data / f"V_C{t}_historical.csv", 2)[BASE] * 1e3 for t in (4, 5))


def build(data: Path, lifetables: Path, out: Path) -> dict[str, float]:
    """Write the model into ``out`` and calibrate it; return the calibrated numbers and
    the 2025 figures they were calibrated to."""
    folder = out / "assumptions"
    if folder.exists():  # the tables only: the model's README is written by hand
        shutil.rmtree(folder)
    payroll = by_year(data / "VI_G1_intermediate.csv", 3)[BASE] * 1e9
    disabled = by_year(data / "V_C5_historical.csv", 1)[BASE] * 1e3
    survivors = survivors_2025(data)
    g2 = {c: by_year(data / "VI_G2_historical.csv", c)[BASE] * 1e9 for c in (1, 4)}
    other = g2[1] - PAYROLL_TAX * payroll  # non-interest income but the payroll tax
    state = {"sd": 0.8, "married": 0.5, "incidence": 0.004, "other_income": 1.0,
             "spread": 0.0}

    def write() -> None:
        write_onset(folder, state["incidence"])
        (out / "model.toml").write_text(model_toml(data, state["sd"], state["married"],
                                                   state["other_income"], state["spread"]))

    write_tables(data, lifetables, folder, state["incidence"])
    write()

    def excess(name: str, value: float, measure) -> float:
        state[name] = value
        write()
        return measure(_project(out))

    # each target moves with its own number mostly: one pass, then a second for the rest,
    # the spread of pensions measured on the model of the first
    for round_ in range(2):
        if round_:
            state["spread"] = survivor_topup(out, spread=0.0)["matching_spread"]
            write()
        state["sd"] = _bisect(lambda v: payroll - excess(
            "sd", v, lambda ds: float(ds["insured_earnings"].sel(year=BASE))), 0.05, 2.0, 20)
        state["incidence"] = _bisect(lambda v: excess(
            "incidence", v, lambda ds: float(ds["beneficiaries_by_branch"].sel(
                year=BASE, branch="disability").sum())) - disabled, 1e-4, 0.05, 20)
        state["married"] = _bisect(lambda v: excess(
            "married", v, lambda ds: float(ds["beneficiaries_by_branch"].sel(
                year=BASE, branch="survivors").sum())) - survivors, 0.01, 1.0, 20)
        state["other_income"] = _bisect(lambda v: excess(
            "other_income", v, lambda ds: float(ds["benefit_tax_income"].sel(year=BASE)))
            - other, 0.0, 20.0, 20)
    write()
    return {**state, "benefit_tax_income_2025": other, "taxable_payroll_2025": payroll,
            "disabled_workers_2025": disabled, "survivors_2025": survivors}


REPORT_YEARS = (2025, 2026, 2030, 2035, 2040, 2050, 2060, 2070, 2080, 2090, 2099)


def report(model_dir: Path, data: Path) -> str:
    """The model's cohort projection as the Trustees show it (markdown): the annual income
    and cost rates (% of taxable payroll), beneficiaries per 100 covered workers, the
    average benefit over the average taxable earnings, the trust fund ratio, by year;
    the summarized rates, actuarial balance and depletion year; the base year against
    the report's historical 2025."""
    import spfsim

    ds = spfsim.load_model(model_dir).project().sel(scheme="oasdi")
    payroll = ds["insured_earnings"]
    cost = (ds["benefit_expenditure"] + ds["admin_expenditure"]) / payroll
    income = (ds["contribution_income"] + ds["state_transfer"]) / payroll
    beneficiaries = ds["beneficiaries"].sum(["age", "sex"])
    workers = ds["contributors"].sum(["age", "sex"])
    ratio = (ds["benefit_expenditure"] / beneficiaries) / (payroll / workers)
    lines = ["| year | income rate | cost rate | balance | beneficiaries per 100 workers | "
             "average benefit / average taxable earnings | trust fund ratio |",
             "|---|---|---|---|---|---|---|"]
    for year in REPORT_YEARS:
        at = {"year": year}
        lines.append(
            f"| {year} | {float(income.sel(at)) * 100:.2f} | {float(cost.sel(at)) * 100:.2f} "
            f"| {float((income - cost).sel(at)) * 100:+.2f} "
            f"| {float((beneficiaries / workers).sel(at)) * 100:.1f} "
            f"| {float(ratio.sel(at)):.3f} | {float(ds['trust_fund_ratio'].sel(at)) * 100:.0f} % |")
    horizon = int(ds["actuarial_balance"].attrs["horizon_years"])
    start = int(ds.attrs.get("valuation_start_year", BASE))
    lines += ["", f"Over {horizon} years from {start} (target fund: the cost of "
              f"{ds['summarized_cost_rate'].attrs['ending_target_year']}): summarized income "
              f"rate {float(ds['summarized_income_rate']) * 100:.2f} %, summarized cost rate "
              f"{float(ds['summarized_cost_rate']) * 100:.2f} %, actuarial balance "
              f"{float(ds['actuarial_balance']) * 100:+.2f} % of taxable payroll; combined "
              f"fund depleted in {float(ds['depletion_year']):.0f}."]
    branch = ds["beneficiaries_by_branch"].sel(year=BASE).sum("sex") / 1e6
    kinds = ds["pensions_by_age"].sel(year=BASE).sum(["age", "sex"]) / 1e6
    history = {
        "OASDI cost rate (% of taxable payroll, IV.B1)": (
            float(cost.sel(year=BASE)) * 100, by_year(data / "IV_B1_historical.csv", 8)[BASE]),
        "OASDI income rate (IV.B1)": (
            float(income.sel(year=BASE)) * 100, by_year(data / "IV_B1_historical.csv", 7)[BASE]),
        "covered workers, millions (IV.B4)": (
            float(workers.sel(year=BASE)) / 1e6, by_year(data / "IV_B4_historical.csv", 1)[BASE]
            / 1e3),
        "old-age pensions / retired workers, millions (V.C4)": (
            float(branch.sel(branch="old_age")),
            by_year(data / "V_C4_historical.csv", 1)[BASE] / 1e3),
        "disability pensions / disabled workers, millions (V.C5; calibrated)": (
            float(branch.sel(branch="disability")),
            by_year(data / "V_C5_historical.csv", 1)[BASE] / 1e3),
        "survivors, millions (V.C4; calibrated)": (
            float(branch.sel(branch="survivors")),
            sum(by_year(data / "V_C4_historical.csv", c)[BASE] for c in (4, 5, 6)) / 1e3),
        "spouses of retired and disabled workers, millions (V.C4, V.C5)": (
            float(kinds.sel(pension="dependent_spouse")),
            spouses_2025(data) / 1e6),
        "children of retired and disabled workers, millions (V.C4, V.C5)": (
            float(kinds.sel(pension="dependent_child")),
            (by_year(data / "V_C4_historical.csv", 3)[BASE]
             + by_year(data / "V_C5_historical.csv", 3)[BASE]) / 1e3),
        "cost, billion USD (VI.G2)": (
            float((ds["benefit_expenditure"] + ds["admin_expenditure"]).sel(year=BASE)) / 1e9,
            by_year(data / "VI_G2_historical.csv", 4)[BASE]),
        "reserve at the end of 2025, billion USD (VI.G2)": (
            float(ds["reserve"].sel(year=BASE)) / 1e9,
            by_year(data / "VI_G2_historical.csv", 5)[BASE]),
    }
    lines += ["", f"| {BASE} | model | Trustees Report (historical) |", "|---|---|---|"]
    lines += [f"| {name} | {model:,.2f} | {report_:,.2f} |"
              for name, (model, report_) in history.items()]
    return "\n".join(lines)


ENGINE_YEARS = (2025, 2030, 2040, 2050, 2060, 2070, 2080, 2090, 2099)


def _engines(model_dir: Path, runs: int, persons: int, series,
             parameters: dict | None = None) -> tuple[np.ndarray, ...]:
    """``series`` (the ``oasdi`` scheme's results -> a list of DataArrays by year) at
    ENGINE_YEARS of the model's cohort projection, (series, year), and of ``runs`` micro
    runs of ``persons`` (seeds 1, 2, ...), (run, series, year); the scheme's
    ``parameters`` changed, if given."""
    import spfsim

    model = spfsim.load_model(model_dir)
    if parameters:
        model = model.with_parameters({"oasdi": parameters})

    def values(ds) -> np.ndarray:
        return np.array([x.sel(year=list(ENGINE_YEARS)).values
                         for x in series(ds.sel(scheme="oasdi"))])

    return values(model.project()), np.array([
        values(model.project("micro", persons=persons, seed=seed))
        for seed in range(1, runs + 1)])


def _branch(ds, branch: str) -> list:
    """A branch's persons counted and expenditure by year."""
    return [ds["beneficiaries_by_branch"].sel(branch=branch).sum("sex"),
            ds["benefit_expenditure_by_branch"].sel(branch=branch)]


BRANCHES = ("old_age", "disability", "survivors")


def branches_report(model_dir: Path, runs: int, persons: int = 500_000,
                    branches: tuple[str, ...] = BRANCHES, parameters: dict | None = None,
                    cost: bool = False) -> str:
    """Both engines by branch (markdown): the micro engine's persons counted and
    expenditure of each of ``branches`` relative to the cohort engine's (micro / cohort -
    1, %), the mean of ``runs`` runs of ``persons`` and its standard error, from 2030
    (the scheme's ``parameters`` changed, if given); with ``cost``, first the cost rate's
    difference (micro - cohort, points of taxable payroll)."""
    def series(ds):
        rate = 100 * (ds["benefit_expenditure"] + ds["admin_expenditure"]) / ds[
            "insured_earnings"]
        return [rate, *[x for branch in branches for x in _branch(ds, branch)]]

    cohort, micro = _engines(model_dir, runs, persons, series, parameters)
    relative = np.concatenate([(micro[:, :1] - cohort[:1]),
                               100 * (micro[:, 1:] / cohort[1:] - 1)], axis=1)
    mean = relative.mean(axis=0)
    error = relative.std(axis=0, ddof=1) / np.sqrt(runs)
    years = ENGINE_YEARS[1:]
    names = [f"{branch.replace('_', '-')} {what}" for branch in branches
             for what in ("counted", "expenditure")]
    rows = [("cost rate, micro - cohort (points)", 0)] if cost else []
    rows += [(name, j + 1) for j, name in enumerate(names)]
    lines = ["| micro / cohort - 1 (%) | " + " | ".join(map(str, years)) + " |",
             "|---" * (len(years) + 1) + "|"]
    for name, j in rows:
        lines.append(f"| {name} | " + " | ".join(
            f"{m:+.2f} ± {e:.2f}" for m, e in zip(mean[j, 1:], error[j, 1:], strict=True)) + " |")
    return "\n".join(lines)


def engines_report(model_dir: Path, runs: int, persons: int = 1_000_000) -> str:
    """Both engines on the model (markdown): the cost rate (% of taxable payroll) of the
    cohort engine and the mean and standard deviation of ``runs`` micro runs of
    ``persons`` (seeds 1, 2, ...), and the micro engine's survivors' branch (counted,
    expenditure) relative to the cohort engine's."""
    def series(ds):
        cost = 100 * (ds["benefit_expenditure"] + ds["admin_expenditure"]) / ds[
            "insured_earnings"]
        return [cost, *_branch(ds, "survivors")]

    cohort, micro = _engines(model_dir, runs, persons, series)
    mean, sd = micro.mean(axis=0), micro.std(axis=0, ddof=1)
    relative = 100 * (micro[:, 1:] / np.array(cohort[1:]) - 1)
    rows = [("cohort", cohort[0], ".2f"), (f"micro, mean of {runs}", mean[0], ".2f"),
            ("sd of the runs", sd[0], ".2f"),
            ("survivors counted, micro / cohort - 1 (%)", relative[:, 0].mean(axis=0), "+.1f"),
            ("survivors' expenditure, micro / cohort - 1 (%)", relative[:, 1].mean(axis=0),
             "+.1f")]
    lines = ["| year | " + " | ".join(map(str, ENGINE_YEARS)) + " |",
             "|---" * (len(ENGINE_YEARS) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(f"{v:{fmt}}" for v in values) + " |"
              for name, values, fmt in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--lifetables", type=Path, default=DATA.parent / "lifetables")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--report-only", action="store_true",
                        help="print the projection's tables of the model as it is")
    parser.add_argument("--engines", type=int, default=0, metavar="RUNS",
                        help="also compare the cohort engine with RUNS micro runs of "
                        "1,000,000 persons")
    parser.add_argument("--branches", type=int, default=0, metavar="RUNS",
                        help="also compare the engines branch by branch, RUNS micro runs "
                        "of 500,000 persons")
    parser.add_argument("--diagnose", action="store_true",
                        help="print the cohort engine's two approximations that the micro "
                        "engine measures (the survivors' top-up and the award's ceiling) "
                        "and both engines' persons at risk of a disability onset")
    args = parser.parse_args(argv)
    if not args.report_only:
        result = build(args.data, args.lifetables, args.out)
        for name, value in result.items():
            print(f"{name}: {value:.6g}")
    print(report(args.out, args.data))
    if args.engines:
        print()
        print(engines_report(args.out, args.engines))
    if args.branches:
        print()
        print(branches_report(args.out, args.branches))
    if args.diagnose:
        print()
        print(diagnosis(args.out))


if __name__ == "__main__":
    main()
