"""The US Social Security (OASDI) retired-worker benefit as the law computes it, for the
models of the US Trustees Report (issue #22) and as a check of the bend-point formula.

Sections are those of the Social Security Act (42 U.S.C. ch. 7, subch. II); the amounts
of the law's history are SSA's published ones (Office of the Chief Actuary, "Contribution
and benefit base" and "Cost-of-living adjustments" tables); the wage index, the adjusted CPI
and the projected price growth are the 2026 Trustees Report's (``../shared/data/ssa_tr2026``,
tables VI.G1 and V.B1):

- **Earnings** count up to the contribution and benefit base (taxable maximum) of their
  year (sec. 230): 60,600 x AWI(y - 2) / AWI(1992), rounded to the nearest $300, never
  lower than the year before, and not raised in a year after a December without a
  cost-of-living adjustment (2010, 2011, 2016); before 1994 the bases the law set.
- **AIME** (sec. 215(b)): a worker's earnings up to the year before the year of turning 60
  are indexed to the AWI of that year (the indexing year), later ones count as earned; the
  highest 35 years (the 40 elapsed years from 22 to 61 less 5 dropout years) are averaged
  over 420 months, rounded down to the dollar.
- **PIA** (sec. 215(a)(1)): 90 % of the AIME up to the first bend point, 32 % up to the
  second and 15 % above; the bend points are $180 and $1,085 times AWI(E - 2) / AWI(1977),
  rounded to the dollar, E the year of turning 62; the PIA rounded down to the dime.
- **Cost-of-living adjustments** (sec. 215(i)): from December of the year of turning 62,
  each December's COLA, the PIA rounded down to the dime each time. The law's COLAs to
  December 2025; later ones the Trustees' projected CPI growth of the year, rounded to
  0.1 % (the COLA of December y measures the CPI of the third quarter of y over that of
  y - 1, which the year's growth stands for).
- **Normal retirement age** (sec. 216(l)) by year of birth: 65 to 1937, then 2 months more
  a year to 66 for 1943-1954, then 2 months more a year to 67 from 1960.
- **Claiming** (sec. 202(q), 202(w)): 5/9 % less a month for the first 36 months before the
  normal retirement age and 5/12 % a month beyond; a delayed retirement credit a month after
  it, to age 70 (2/3 % for those born from 1943). The monthly benefit is rounded down to the
  dollar (sec. 215(g)).

:func:`scheduled_annual_benefit` gives Table V.C7's measure: the benefits of the 12 months
from the month of retirement, in CPI-indexed dollars of a year (the adjusted CPI of table
VI.G1, extended past 2100 at the last year's growth). ``tests/test_oasdi.py`` reproduces the
table's steady maximum earner for every year 2025-2100.
"""

from __future__ import annotations

import contextlib
import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .pension_rules import bend_point_formula, claiming_factor

BEND_POINTS_1979 = (180.0, 1085.0)  # sec. 215(a)(1)(B)(i), for AWI(1977)
PIA_FACTORS = (0.90, 0.32, 0.15)  # sec. 215(a)(1)(A)
BASE_1994, BASE_AWI_YEAR = 60_600.0, 1992  # sec. 230(b): the 1994 base and its AWI year
BASE_ROUNDING = 300.0
# the bases the law set before automatic indexing took over in 1994 (SSA OACT)
STATUTORY_BASES = {1981: 29_700, 1982: 32_400, 1983: 35_700, 1984: 37_800, 1985: 39_600,
                   1986: 42_000, 1987: 43_800, 1988: 45_000, 1989: 48_000, 1990: 51_300,
                   1991: 53_400, 1992: 55_500, 1993: 57_600}
# COLAs effective December of the year (SSA OACT); December 2009, 2010 and 2015 had none
COLAS = {2009: 0.0, 2010: 0.0, 2011: 0.036, 2012: 0.017, 2013: 0.015, 2014: 0.017,
         2015: 0.0, 2016: 0.003, 2017: 0.020, 2018: 0.028, 2019: 0.016, 2020: 0.013,
         2021: 0.059, 2022: 0.087, 2023: 0.032, 2024: 0.025, 2025: 0.028}
COMPUTATION_YEARS = 35  # sec. 215(b)(2): 40 elapsed years (22-61) less 5 dropout years
EARLY_RATE, EARLY_MONTHS, EARLY_RATE_AFTER = 5 / 900, 36, 5 / 1200  # sec. 202(q)
LAST_CREDIT_AGE = 70  # sec. 202(w)(2)(B): no credit for months after age 70


@dataclass(frozen=True)
class TrusteesSeries:
    """The Trustees Report's series the rules read, by calendar year: ``awi`` the national
    average wage index (dollars), ``adjusted_cpi`` (2026 = 100) and ``cpi_growth`` the CPI's
    annual change (fraction)."""

    awi: Mapping[int, float]
    adjusted_cpi: Mapping[int, float]
    cpi_growth: Mapping[int, float]

    @classmethod
    def read(cls, folder: str | Path) -> TrusteesSeries:
        """Tables VI.G1 (adjusted CPI, AWI) and V.B1 (CPI) of ``folder``
        (``../shared/data/ssa_tr2026``)."""
        folder = Path(folder)
        g1 = _columns(folder / "VI_G1_intermediate.csv", (1, 2))
        b1 = _columns(folder / "V_B1_intermediate.csv", (7,))
        return cls(awi=g1[2], adjusted_cpi=g1[1],
                   cpi_growth={y: v / 100.0 for y, v in b1[7].items()})

    def cpi(self, year: int) -> float:
        """The adjusted CPI of ``year``; past the table's last year, grown at its last
        year's CPI growth."""
        last = max(self.adjusted_cpi)
        if year <= last:
            return self.adjusted_cpi[year]
        return self.adjusted_cpi[last] * (1.0 + self.cpi_growth[last]) ** (year - last)

    def cola(self, year: int) -> float:
        """The COLA effective December of ``year`` (fraction): the law's to 2025, then the
        year's projected CPI growth rounded to 0.1 % (sec. 215(i)(2)(A)(ii))."""
        if year in COLAS:
            return COLAS[year]
        growth = self.cpi_growth[min(year, max(self.cpi_growth))]
        return round(growth * 1000.0) / 1000.0


def _columns(path: Path, columns: tuple[int, ...]) -> dict[int, dict[int, float]]:
    """The numbers of ``columns`` by calendar year of a Trustees Report table as SSA
    publishes it (header lines and footnote letters around the rows of years)."""
    out: dict[int, dict[int, float]] = {c: {} for c in columns}
    with path.open(encoding="utf-8") as handle:
        for row in csv.reader(handle):
            head = row[0].strip() if row else ""
            if len(head) < 4 or not head[:4].isdigit():
                continue
            for c in columns:  # a blank or lettered cell is no number of the year
                with contextlib.suppress(ValueError, IndexError):
                    out[c][int(head[:4])] = float(row[c].replace(",", ""))
    return out


def taxable_maximum(year: int, series: TrusteesSeries) -> float:
    """The contribution and benefit base of ``year`` (dollars a year, sec. 230)."""
    if year in STATUTORY_BASES:
        return float(STATUTORY_BASES[year])
    if year < min(STATUTORY_BASES):
        raise ValueError(f"no contribution and benefit base before {min(STATUTORY_BASES)}")
    base = BASE_1994
    for y in range(1995, year + 1):
        if COLAS.get(y - 1, 1.0) == 0.0:
            continue  # no COLA for December of the year before: the base stays
        indexed = BASE_1994 * series.awi[y - 2] / series.awi[BASE_AWI_YEAR]
        base = max(base, round(indexed / BASE_ROUNDING) * BASE_ROUNDING)
    return base


def bend_points(eligibility_year: int, series: TrusteesSeries) -> np.ndarray:
    """The PIA formula's bend points (dollars a month) for a worker turning 62 in
    ``eligibility_year`` (sec. 215(a)(1)(B))."""
    ratio = series.awi[eligibility_year - 2] / series.awi[1977]
    return np.array([float(round(b * ratio)) for b in BEND_POINTS_1979])


def aime(earnings: Mapping[int, float], birth_year: int, series: TrusteesSeries) -> float:
    """Average indexed monthly earnings (dollars, sec. 215(b)) of ``earnings`` (dollars by
    calendar year, capped at each year's base here), the highest COMPUTATION_YEARS years
    (any year, those before 22 too: the elapsed years only set how many count)."""
    indexing_year = birth_year + 60
    indexed = []
    for year, amount in earnings.items():
        counted = min(amount, taxable_maximum(year, series))
        if year < indexing_year:
            counted *= series.awi[indexing_year] / series.awi[year]
        indexed.append(counted)
    best = sorted(indexed)[-COMPUTATION_YEARS:]
    return float(math.floor(sum(best) / (12 * COMPUTATION_YEARS)))


def pia(average: float, eligibility_year: int, series: TrusteesSeries) -> float:
    """Primary insurance amount at eligibility (dollars a month, down to the dime)."""
    amount = bend_point_formula(average, bend_points(eligibility_year, series),
                                np.array(PIA_FACTORS))
    return _down(amount, 0.1)


def normal_retirement_age_months(birth_year: int) -> int:
    """The normal retirement age of those born in ``birth_year``, in months (sec. 216(l))."""
    if birth_year <= 1937:
        return 65 * 12
    if birth_year <= 1942:
        return 65 * 12 + 2 * (birth_year - 1937)
    if birth_year <= 1954:
        return 66 * 12
    if birth_year <= 1959:
        return 66 * 12 + 2 * (birth_year - 1954)
    return 67 * 12


def delayed_credit_rate(birth_year: int) -> float:
    """The delayed retirement credit a month (fraction, sec. 202(w)(6)): 8 % a year for
    those born from 1943, half a point less every two years of birth before, 3 % for those
    born before 1925."""
    if birth_year >= 1943:
        yearly = 0.08
    elif birth_year >= 1925:
        yearly = 0.035 + 0.005 * ((birth_year - 1925) // 2)
    else:
        yearly = 0.03
    return yearly / 12.0


def claim_factor(birth_year: int, claim_age_months: int) -> float:
    """The factor on the PIA of a worker born in ``birth_year`` who claims at
    ``claim_age_months`` (sec. 202(q), 202(w))."""
    months = claim_age_months - normal_retirement_age_months(birth_year)
    late_months = max(LAST_CREDIT_AGE * 12 - normal_retirement_age_months(birth_year), 0)
    return claiming_factor(months, EARLY_RATE, EARLY_MONTHS, EARLY_RATE_AFTER,
                           delayed_credit_rate(birth_year), late_months)


def pia_with_colas(amount: float, eligibility_year: int, through: int,
                   series: TrusteesSeries) -> float:
    """The PIA after the COLAs of December of ``eligibility_year`` .. ``through``, each
    rounded down to the dime (sec. 215(i))."""
    for year in range(eligibility_year, through + 1):
        amount = _down(amount * (1.0 + series.cola(year)), 0.1)
    return amount


def scheduled_annual_benefit(earnings: Mapping[int, float], birth_year: int,
                             claim_age_months: int, series: TrusteesSeries,
                             dollars_of: int | None = None) -> float:
    """The retired worker's benefits of the 12 months from the month of the claim (Table
    V.C7's measure), for a worker born in January of ``birth_year`` with ``earnings``
    (dollars by year) who claims at ``claim_age_months``; in CPI-indexed dollars of
    ``dollars_of`` (the adjusted CPI; None: as paid)."""
    eligibility_year = birth_year + 62
    claim_year = birth_year + claim_age_months // 12
    month = claim_age_months % 12 + 1  # 1: January
    counted = {y: e for y, e in earnings.items() if y < claim_year}
    base = pia(aime(counted, birth_year, series), eligibility_year, series)
    factor = claim_factor(birth_year, claim_age_months)
    before_december = math.floor(pia_with_colas(base, eligibility_year, claim_year - 1,
                                                series) * factor)
    from_december = math.floor(pia_with_colas(base, eligibility_year, claim_year, series)
                               * factor)
    total = (12 - month) * before_december + month * from_december
    if dollars_of is None:
        return float(total)
    return total * series.cpi(dollars_of) / series.cpi(claim_year)


def _down(amount: float, step: float) -> float:
    """``amount`` rounded down to a multiple of ``step`` (a tolerance of 1e-9 for the
    binary fractions of decimal amounts)."""
    return math.floor(amount / step + 1e-9) * step
