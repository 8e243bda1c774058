"""The bend-point formula and claiming factors (schemes.pension_rules), and the US Social
Security retired-worker benefit built on them (schemes.oasdi): hand-computed cases, the
law's published contribution and benefit bases, and the 2026 Trustees Report's Table V.C7
steady maximum earner reproduced from its own wage index and prices."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from spfsim.schemes import db_pension as dbp
from spfsim.schemes import oasdi
from spfsim.schemes.pension_rules import bend_point_formula, claiming_factor

# the contribution and benefit bases SSA published (Office of the Chief Actuary)
PUBLISHED_BASES = {
    1994: 60_600, 1995: 61_200, 1996: 62_700, 1997: 65_400, 1998: 68_400, 1999: 72_600,
    2000: 76_200, 2001: 80_400, 2002: 84_900, 2003: 87_000, 2004: 87_900, 2005: 90_000,
    2006: 94_200, 2007: 97_500, 2008: 102_000, 2009: 106_800, 2010: 106_800,
    2011: 106_800, 2012: 110_100, 2013: 113_700, 2014: 117_000, 2015: 118_500,
    2016: 118_500, 2017: 127_200, 2018: 128_400, 2019: 132_900, 2020: 137_700,
    2021: 142_800, 2022: 147_000, 2023: 160_200, 2024: 168_600, 2025: 176_100,
    2026: 184_500}


def test_the_bend_point_formula_by_hand():
    bends, factors = np.array([1000.0, 6000.0]), np.array([0.9, 0.32, 0.15])
    assert bend_point_formula(0.0, bends, factors) == 0.0
    assert bend_point_formula(500.0, bends, factors) == pytest.approx(450.0)
    assert bend_point_formula(1000.0, bends, factors) == pytest.approx(900.0)
    assert bend_point_formula(3000.0, bends, factors) == pytest.approx(900.0 + 640.0)
    assert bend_point_formula(8000.0, bends, factors) == pytest.approx(900 + 1600 + 300)
    # no bend: a flat replacement rate
    assert bend_point_formula(700.0, np.zeros(0), np.array([0.4])) == pytest.approx(280.0)


@pytest.mark.parametrize(("months", "factor"), [
    (0, 1.0), (-12, 1 - 12 * 5 / 900), (-36, 0.8), (-60, 0.7), (24, 1.16), (36, 1.24),
    (48, 1.24)])
def test_claiming_factors_by_hand(months, factor):
    """The Trustees' note to Table V.C7: 60 months early (62 with a normal age of 67) is
    30 % less; credits of 2/3 % a month stop at age 70 (36 months after 67)."""
    assert claiming_factor(months, 5 / 900, 36, 5 / 1200, 2 / 300, 36) == pytest.approx(
        factor)
    assert oasdi.claim_factor(1960, 67 * 12 + months) == pytest.approx(factor)


@pytest.mark.parametrize(("born", "months"), [
    (1930, 780), (1937, 780), (1938, 782), (1942, 790), (1943, 792), (1954, 792),
    (1955, 794), (1959, 802), (1960, 804), (1990, 804)])
def test_the_normal_retirement_age_by_year_of_birth(born, months):
    assert oasdi.normal_retirement_age_months(born) == months


@pytest.mark.parametrize("born", range(1943, 1966))
def test_the_engines_claiming_factors_are_the_laws_at_birthdays(born):
    """The engines' schedule (db_pension.retirement_schedule, with the normal retirement
    age in years and months and the two rates of early reduction) gives the law's factor
    of a claim at each birthday from 62 to 70, and no adjustment in the year of age in
    which the normal retirement age falls (claimed at it)."""
    nra = oasdi.normal_retirement_age_months(born)
    ages = np.arange(62, 71)
    _, factor = dbp.retirement_schedule(
        ages, nra // 12, 62, 0.25, 12 * oasdi.EARLY_RATE, 0.1, 70,
        12 * oasdi.delayed_credit_rate(born), exact_age=nra / 12,
        early_reduction_years=oasdi.EARLY_MONTHS / 12,
        early_reduction_after=12 * oasdi.EARLY_RATE_AFTER)
    law = [oasdi.claim_factor(born, max(12 * age, nra) if age == nra // 12 else 12 * age)
           for age in ages]
    np.testing.assert_allclose(factor, law, rtol=0, atol=1e-14)


@pytest.fixture(scope="module")
def series(shared_data):
    return oasdi.TrusteesSeries.read(shared_data / "ssa_tr2026")


def test_the_bases_follow_the_wage_index_as_published(series):
    """Sec. 230: the bases SSA published from 1994 to 2026, from the Trustees' AWI (the
    freezes of 2010, 2011 and 2016 after Decembers without a COLA included)."""
    computed = {y: oasdi.taxable_maximum(y, series) for y in PUBLISHED_BASES}
    assert computed == PUBLISHED_BASES


def test_the_2026_bend_points(series):
    """SSA's published bend points for those turning 62 in 2026: $1,286 and $7,749."""
    assert oasdi.bend_points(2026, series).tolist() == [1286.0, 7749.0]


def published_maximum_earner(shared_data) -> dict[int, tuple[float, float]]:
    """Table V.C7, steady maximum earnings: the year of attaining 65 -> (the annual benefit
    at the normal retirement age, at 65), 2026 CPI-indexed dollars."""
    rows, section, out = [], None, {}
    with (shared_data / "ssa_tr2026" / "V_C7.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    for row in rows:
        if row and row[0].startswith("Steady maximum"):
            section = "maximum"
        elif section == "maximum" and row and row[0].isdigit():
            out[int(row[0])] = (float(row[2]), float(row[5]))
    return out


def test_the_steady_maximum_earner_of_table_v_c7(series, shared_data):
    """Every year 2025-2100 of Table V.C7's steady maximum earner (the base every year from
    22 to the year before the claim), at the normal retirement age (67) and at 65, from the
    law's rules and the Trustees' AWI and CPI alone: within 0.15 % everywhere, and within
    0.01 % (dollar rounding) in all but four of the 152 cells. Two are the benefits claimed
    in 2027 (attaining 65 in 2025, at 67: -0.09 %; in 2027, at 65: -0.10 %), two those of
    the cohort born in 1965 (+0.10 % at both ages), whose bend points and indexing read the
    2025 AWI, an estimate in the table VI.G1 used here. The report does not publish the
    values its table V.C7 computed with, so the cause is not established."""
    published = published_maximum_earner(shared_data)
    gaps = {}
    for year in range(2025, 2101):
        born = year - 65
        earnings = {y: oasdi.taxable_maximum(y, series) for y in range(born + 22, born + 67)}
        for column, months in ((0, 67 * 12), (1, 65 * 12)):
            ours = oasdi.scheduled_annual_benefit(earnings, born, months, series,
                                                  dollars_of=2026)
            gaps[(year, months // 12)] = ours / published[year][column] - 1.0
    worst = max(gaps.values(), key=abs)
    assert abs(worst) < 0.0015, worst
    loose = sorted(k for k, g in gaps.items() if abs(g) > 1e-4)
    assert loose == [(2025, 67), (2027, 65), (2030, 65), (2030, 67)], loose
