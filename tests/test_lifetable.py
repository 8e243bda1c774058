"""Life tables: construction conventions, actuarial functions, and validation against
closed forms (constant force, Gompertz), the SOA Illustrative Life Table and UN WPP 2024.

References: Bowers, Gerber, Hickman, Jones & Nesbitt (1997), Actuarial Mathematics, 2nd ed.
(App. 2A: Illustrative Life Table at 6 %); HMD Methods Protocol v6; Andreev & Kingkade (2015).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import exp1

from spfsim.demography.lifetable import LifeTable, infant_ax, infant_ax_coale_demeny

OMEGA = 100
SOA_FILE = Path("lifetables") / "soa08lt_SOA_illustrative_life_table.csv"
WPP_LT_FILE = Path("lifetables") / "wpp2024_single_age_life_tables_13countries_2015_2023.csv"
WPP_E0_FILE = Path("wpp2024") / "e01dt.csv"
HMD_FILE = Path("lifetables") / "HMD_USA_period_life_tables_1x1_1933_2021.csv"


def constant_force(mu: float, omega: int = OMEGA) -> LifeTable:
    """A table with exactly constant force mu: q = 1 - e^-mu at every age, open m = mu."""
    return LifeTable.from_qx(np.full(omega + 1, 1.0 - math.exp(-mu)), open_mx=mu)


def udd_alpha_beta(i: float, m: int) -> tuple[float, float]:
    """alpha(m) = i d / (i^(m) d^(m)), beta(m) = (i - i^(m)) / (i^(m) d^(m)) (Bowers 5.4.13)."""
    d = i / (1 + i)
    im = m * ((1 + i) ** (1 / m) - 1)
    dm = m * (1 - (1 + i) ** (-1 / m))
    return i * d / (im * dm), (i - im) / (im * dm)


# ----------------------------------------------------------------------- constant force


@pytest.mark.parametrize("x", [0, 30, 65, 99, 100, 110])
def test_constant_force_annuity_closed_form(x):
    """ä = sum_k v^k e^(-mu k) = 1 / (1 - v e^-mu), exactly (the tail past omega is the
    open group's constant force); a = ä - 1; A = v (1 - e^-mu) / (1 - v e^-mu) = 1 - d ä."""
    mu, i = 0.03, 0.04
    v, d = 1 / (1 + i), i / (1 + i)
    table = constant_force(mu)
    r = v * math.exp(-mu)
    due = table.annuity_due(x, i)
    assert due == pytest.approx(1 / (1 - r), rel=1e-12, abs=1e-9)
    assert table.annuity_immediate(x, i) == pytest.approx(due - 1, abs=1e-9)
    assert table.insurance(x, i) == pytest.approx(v * (1 - math.exp(-mu)) / (1 - r), abs=1e-12)
    assert table.insurance(x, i) == pytest.approx(1 - d * due, abs=1e-12)
    # a constant path is the constant rate
    assert table.annuity_due(x, [i, i, i]) == pytest.approx(due, abs=1e-12)


@pytest.mark.parametrize("x", [0, 40, 65, 100])
def test_constant_force_monthly_closed_form(x):
    """Monthly annuity-due: below omega l is linear within the year, so the temporary part
    is the UDD result alpha ä(x:n) - beta (1 - nE); from omega on l is exponential, so
    the rest is nE (1/m) / (1 - r^(1/m)), r = v e^-mu (n = omega - x)."""
    mu, i, m = 0.05, 0.03, 12
    table = constant_force(mu)
    r = math.exp(-mu) / (1 + i)
    n = max(OMEGA - x, 0)
    alpha, beta = udd_alpha_beta(i, m)
    temporary = alpha * (1 - r ** n) / (1 - r) - beta * (1 - r ** n)
    expected = temporary + r ** n * (1 / m) / (1 - r ** (1 / m))
    got = table.annuity_due(x, i, frequency=m)
    assert got == pytest.approx(expected, abs=1e-10)
    assert table.annuity_immediate(x, i, frequency=m) == pytest.approx(got - 1 / m, abs=1e-10)
    # between the continuous annuity 1/(mu + delta) and the annual annuity-due
    assert 1 / (mu + math.log(1 + i)) < got < table.annuity_due(x, i)


def test_monthly_udd_identity_for_temporary_annuities():
    """Below omega, ä^(m)(x:n) = alpha(m) ä(x:n) - beta(m) (1 - nE(x)) for any table."""
    ages = np.arange(OMEGA + 1)
    table = LifeTable.from_mx(0.0002 * np.exp(0.085 * ages) + 0.004 * np.exp(-ages), "female")
    i = 0.035
    alpha, beta = udd_alpha_beta(i, 12)
    for x, n in [(20, 45), (65, 20), (65, 35), (0, 100)]:
        annual = table.annuity_due(x, i, term=n)
        expected = alpha * annual - beta * (1 - table.pure_endowment(x, n, i))
        assert table.annuity_due(x, i, frequency=12, term=n) == pytest.approx(expected,
                                                                              abs=1e-11)


def test_monthly_matches_brute_force_sum():
    """An independent sum over the 12 payments of each year with linear l inside the year,
    for a temporary annuity ending before omega."""
    ages = np.arange(OMEGA + 1)
    table = LifeTable.from_mx(0.0001 * np.exp(0.09 * ages), "male")
    x, n, m, i = 60, 30, 12, 0.025
    t = np.arange(n * m) / m
    k = np.floor(t).astype(int)
    lx = table.lx
    s = (lx[x + k] - (t - k) * (lx[x + k] - lx[x + k + 1])) / lx[x]
    brute = np.sum((1 + i) ** -t * s) / m
    assert table.annuity_due(x, i, frequency=m, term=n) == pytest.approx(brute, abs=1e-12)


@pytest.mark.parametrize("frequency", [1, 12])
def test_deferred_and_temporary_identities(frequency):
    """ä(x) = ä(x:n) + nE(x) ä(x+n) and n|ä(x) = nE(x) ä(x+n); with an interest path, the
    value at x+n uses the path from year n on."""
    ages = np.arange(OMEGA + 1)
    table = LifeTable.from_mx(0.00015 * np.exp(0.088 * ages), "female")
    x, n = 45, 20
    for interest, later in [(0.03, 0.03), (np.linspace(0.01, 0.05, 30),
                                            np.linspace(0.01, 0.05, 30)[n:])]:
        whole = table.annuity_due(x, interest, frequency=frequency)
        temporary = table.annuity_due(x, interest, frequency=frequency, term=n)
        nex = table.pure_endowment(x, n, interest)
        deferred = table.annuity_due(x, interest, frequency=frequency, deferment=n)
        at_x_n = table.annuity_due(x + n, later, frequency=frequency)
        assert whole == pytest.approx(temporary + nex * at_x_n, abs=1e-11)
        assert deferred == pytest.approx(nex * at_x_n, abs=1e-11)
        assert whole == pytest.approx(temporary + deferred, abs=1e-11)
        # arrears: payments at 1/m, ..., n, so a(x:n) = ä(x:n) - (1 - nE)/m
        immediate = table.annuity_immediate(x, interest, frequency=frequency, term=n)
        assert immediate == pytest.approx(temporary - (1 - nex) / frequency, abs=1e-11)
        if np.ndim(interest) == 0:
            # term insurance = endowment insurance (1 - d ä(x:n)) - pure endowment
            d = interest / (1 + interest)
            term_insurance = table.insurance(x, interest, term=n)
            assert term_insurance == pytest.approx(
                1 - d * table.annuity_due(x, interest, term=n) - nex, abs=1e-12)
        # a deferred temporary annuity is the difference of two temporaries
        part = table.annuity_due(x, interest, frequency=frequency, deferment=n, term=10)
        assert part == pytest.approx(table.annuity_due(x, interest, frequency=frequency,
                                                       term=n + 10) - temporary, abs=1e-11)


def test_interest_path_closed_form():
    """Rates 1 %, 2 %, 3 % in years 0, 1, 2, then 3 % held: with r_k = e^-mu / (1 + i_k),
    ä = 1 + r0 + r0 r1 + r0 r1 r2 / (1 - r2)."""
    mu = 0.02
    table = constant_force(mu)
    r0, r1, r2 = (math.exp(-mu) / (1 + i) for i in (0.01, 0.02, 0.03))
    expected = 1 + r0 + r0 * r1 + r0 * r1 * r2 / (1 - r2)
    assert table.annuity_due(50, [0.01, 0.02, 0.03]) == pytest.approx(expected, abs=1e-12)
    v3 = 1 / (1.01 * 1.02 * 1.03)
    assert table.pure_endowment(50, 3, [0.01, 0.02, 0.03]) == pytest.approx(
        v3 * math.exp(-3 * mu), abs=1e-15)


def test_joint_life_of_constant_forces_is_single_life_at_the_sum():
    mu1, mu2, i = 0.02, 0.035, 0.03
    first, second = constant_force(mu1), constant_force(mu2)
    both = constant_force(mu1 + mu2)
    r = math.exp(-mu1 - mu2) / (1 + i)
    for x, y in [(60, 57), (0, 30), (95, 104)]:
        joint = first.annuity_due(x, i, second=second, second_age=y)
        assert joint == pytest.approx(both.annuity_due(x, i), abs=1e-11)
        assert joint == pytest.approx(1 / (1 - r), abs=1e-11)
        joint_imm = first.annuity_immediate(x, i, second=second, second_age=y)
        assert joint_imm == pytest.approx(joint - 1, abs=1e-11)


def test_last_survivor_and_reversionary_closed_forms():
    """Constant forces: a(y) = r_y / (1 - r_y); a(x|y) = a(y) - a(xy); last survivor
    ä(xy-bar) = ä(x) + ä(y) - ä(xy)."""
    mu_x, mu_y, i = 0.04, 0.025, 0.035
    tx, ty = constant_force(mu_x), constant_force(mu_y)

    def imm(mu):
        r = math.exp(-mu) / (1 + i)
        return r / (1 - r)

    reversion = tx.reversionary_annuity(70, 65, i, other=ty)
    assert reversion == pytest.approx(imm(mu_y) - imm(mu_x + mu_y), abs=1e-11)
    assert tx.reversionary_annuity(70, 65, i, other=ty, timing="due") == pytest.approx(
        reversion, abs=1e-11)
    last = tx.annuity_last_survivor(70, 65, i, other=ty)
    assert last == pytest.approx(1 + imm(mu_x) + 1 + imm(mu_y) - 1 - imm(mu_x + mu_y),
                                 abs=1e-11)
    # reversionary + joint = the survivor's single-life annuity; the monthly version too
    joint12 = tx.annuity_immediate(70, i, frequency=12, second=ty, second_age=65)
    single12 = ty.annuity_immediate(65, i, frequency=12)
    assert tx.reversionary_annuity(70, 65, i, other=ty, frequency=12) == pytest.approx(
        single12 - joint12, abs=1e-12)
    assert single12 > joint12 > 0


def test_commutation_columns():
    ages = np.arange(OMEGA + 1)
    table = LifeTable.from_mx(0.0003 * np.exp(0.08 * ages), "male")
    i = 0.045
    c = table.commutation(i)
    d = i / (1 + i)
    for x in (0, 40, 65, 99, 100):
        assert c.Nx[x] / c.Dx[x] == pytest.approx(table.annuity_due(x, i), rel=1e-12)
        assert c.Mx[x] / c.Dx[x] == pytest.approx(table.insurance(x, i), rel=1e-12)
    np.testing.assert_allclose(c.Mx, c.Dx - d * c.Nx, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(c.Nx[:-1], c.Dx[:-1] + c.Nx[1:], rtol=1e-12)
    np.testing.assert_allclose(c.Mx[:-1], c.Cx[:-1] + c.Mx[1:], rtol=1e-12)
    # a 20-year deferred annuity and a pure endowment from the columns
    assert c.Nx[85] / c.Dx[65] == pytest.approx(table.annuity_due(65, i, deferment=20),
                                                rel=1e-12)
    assert c.Dx[85] / c.Dx[65] == pytest.approx(table.pure_endowment(65, 20, i), rel=1e-12)


def test_continuous_limit_at_zero_interest_is_life_expectancy():
    """At i = 0 and m payments a year, ä^(m)(x) - 1/(2m) -> e(x) for x >= 1: the m-thly
    method's survival curve integrates to the table's L (a = 1/2 at closed ages, l/m in the
    open group). Left-Riemann error: exactly 1/(2m) on the linear part, plus about
    m(omega) / (12 m^2) S(omega - x) on the exponential part."""
    ages = np.arange(OMEGA + 1)
    table = LifeTable.from_mx(0.0001 * np.exp(0.09 * ages), "female")
    m = 360
    for x in (1, 50, 90, 100):
        value = table.annuity_due(x, 0.0, frequency=m) - 1 / (2 * m)
        bound = table.mx[-1] / (12 * m ** 2) + 1e-12
        assert abs(value - table.ex[x]) < bound


def test_annuity_vectorised_over_ages_and_validation():
    table = constant_force(0.03)
    values = table.annuity_due(np.array([20, 60]), 0.03)
    assert values.shape == (2,)
    assert values[0] == pytest.approx(values[1])
    with pytest.raises(ValueError, match="one-dimensional"):
        LifeTable.from_mx(np.full((2, 101), 0.01)).annuity_due(60, 0.03)
    with pytest.raises(ValueError, match="frequency"):
        table.annuity_due(60, 0.03, frequency=0)
    with pytest.raises(ValueError, match="deferment"):
        table.annuity_due(60, 0.03, deferment=1.5)
    with pytest.raises(ValueError, match="constant interest"):
        table.commutation([0.01, 0.02])


# ----------------------------------------------------------------------- a(0) rules


def test_a0_rules():
    mx = np.full(101, 0.01)
    mx[0] = 0.03
    default = LifeTable.from_mx(mx, "male")
    np.testing.assert_array_equal(default.ex, LifeTable.from_mx(mx, "male",
                                                                a0="andreev-kingkade").ex)
    assert LifeTable.from_mx(mx, a0="wpp").ax[0] == pytest.approx(infant_ax(0.03, "male"))
    assert LifeTable.from_mx(mx, "both", a0="wpp").ax[0] == pytest.approx(
        infant_ax(0.03, "male"))
    assert LifeTable.from_mx(mx, "female", a0="wpp").ax[0] == pytest.approx(
        infant_ax(0.03, "female"))
    assert LifeTable.from_mx(mx, "female", a0="coale-demeny").ax[0] == pytest.approx(
        0.053 + 2.8 * 0.03)
    assert infant_ax_coale_demeny(0.2, "male") == pytest.approx(0.330)
    assert LifeTable.from_mx(mx, a0=0.3).ax[0] == 0.3
    for rule in ("andreev-kingkade", "wpp", "coale-demeny"):
        a = LifeTable.from_mx(mx, "male", a0=rule)
        b = LifeTable.from_qx(a.qx, "male", a0=rule, open_mx=mx[-1])
        np.testing.assert_allclose(b.mx, a.mx, rtol=1e-9)
    with pytest.raises(ValueError, match="unknown a0"):
        LifeTable.from_mx(mx, a0="kannisto")


# ----------------------------------------------------------------------- Gompertz


@pytest.mark.parametrize(("a", "b"), [(1e-4, 0.1), (2e-5, 0.11)])
def test_gompertz_life_expectancy(a, b):
    """mu(x) = a e^(bx), S(x) = exp(-(a/b)(e^(bx) - 1)): e0 = (1/b) e^(a/b) E1(a/b).

    The table (exact q from the integrated hazard) has L(x) = (l(x) + l(x+1))/2 at ages
    1..99: the trapezoid rule, whose error on [0, 100] is, by Euler-Maclaurin,
    (1/12)(S'(100) - S'(0)) - (1/720)(S3(100) - S3(0)) + ..., with S' = -mu S and
    S3 = S''' = (-mu'' + 3 mu mu' - mu^3) S. Two more terms: at age 0 the Andreev-Kingkade
    a(0) (~0.149, a human infant's; Gompertz gives ~0.5) lowers L(0) by (1/2 - a0) q0, and
    the open group has L = l(100)/m(99) instead of the exact (1/b) e^(a/b) E1((a/b) e^(100b)).
    The first-order bias is asserted to within twice the S''' term.
    """
    ages = np.arange(OMEGA + 1, dtype=float)
    cumulative = (a / b) * np.expm1(b * ages)
    qx = -np.expm1(-(np.append(cumulative[1:], np.inf) - cumulative))
    table = LifeTable.from_qx(qx)
    exact = math.exp(a / b) * exp1(a / b) / b

    def mu(x):
        return a * math.exp(b * x)

    def third(x):  # S'''(x)
        return (-b * b * mu(x) + 3 * b * mu(x) ** 2 - mu(x) ** 3) * math.exp(-cumulative[x])

    l100 = table.lx[OMEGA]
    open_exact = math.exp(a / b) * exp1(a / b * math.exp(b * OMEGA)) / b
    bias = ((a - mu(OMEGA) * l100) / 12 - (0.5 - table.ax[0]) * table.qx[0]
            + table.Lx[OMEGA] - open_exact)
    tolerance = 2 * (abs(third(0)) + abs(third(OMEGA))) / 720
    assert tolerance < 1e-7
    assert table.ex[0] - exact == pytest.approx(bias, abs=tolerance)
    assert abs(table.ex[0] - exact) < 5e-5


# ----------------------------------------------------------------------- SOA table


@pytest.fixture
def soa(shared_data):
    import pandas as pd

    return pd.read_csv(shared_data / SOA_FILE)


@pytest.mark.shared_data
def test_soa_illustrative_life_table_internal_consistency(soa):
    table = LifeTable.from_qx(soa["qx"].to_numpy())
    assert table.omega == 140
    lx = soa["lx"].to_numpy()
    # lx is printed to 6 significant digits at the oldest ages, where q was derived from it
    np.testing.assert_allclose(table.lx * lx[0], lx, rtol=1e-7)
    i = 0.06
    d, v = i / (1 + i), 1 / (1 + i)
    for x in (0, 20, 40, 65, 80, 100):
        due = table.annuity_due(x, i)
        assert due == pytest.approx((1 - table.insurance(x, i)) / d, abs=1e-10)
        direct = np.sum(lx[x:] * v ** np.arange(lx.size - x)) / lx[x]
        assert due == pytest.approx(direct, abs=1e-10)


@pytest.mark.shared_data
def test_soa_illustrative_life_table_published_values(soa):
    """Bowers et al. (1997), Appendix 2A, Illustrative Life Table at 6 %: ä(40) = 14.8166,
    1000 A(40) = 161.32, ä(65) = 9.8969, 1000 A(65) = 439.80 (to the published decimals),
    both from the table's lx and from its Makeham law for x >= 13,
    mu = 0.0007 + 0.00005 * 10^(0.04 x): p(x) = exp(-A - B (c^(x+1) - c^x) / ln c)."""
    published = {40: (14.8166, 161.32), 65: (9.8969, 439.80)}
    from_table = LifeTable.from_qx(soa["qx"].to_numpy())
    ages = np.arange(141, dtype=float)
    c = 10 ** 0.04
    px = np.exp(-0.0007 - 0.00005 * (c ** (ages + 1) - c ** ages) / math.log(c))
    qx = 1 - px
    qx[:13] = soa["qx"].to_numpy()[:13]  # the law holds from age 13
    from_law = LifeTable.from_qx(qx)
    np.testing.assert_allclose(soa["px"].to_numpy()[13:100], px[13:100], rtol=1e-9)
    for table in (from_table, from_law):
        for x, (annuity, insurance) in published.items():
            assert table.annuity_due(x, 0.06) == pytest.approx(annuity, abs=5e-5)
            assert 1000 * table.insurance(x, 0.06) == pytest.approx(insurance, abs=5e-3)


# ----------------------------------------------------------------------- WPP 2024


def wpp_tables(path: Path):
    """(keys, mx by single age 0-100, published e0) for every country, year and sex."""
    import pandas as pd

    lt = pd.read_csv(path / WPP_LT_FILE).sort_values(["country_code", "year", "sex", "x"])
    keys = lt[["country_code", "year", "sex"]].drop_duplicates().reset_index(drop=True)
    assert (lt.groupby(["country_code", "year", "sex"]).size() == 101).all()
    mx = lt["mx"].to_numpy().reshape(len(keys), 101)
    e0 = pd.read_csv(path / WPP_E0_FILE).melt(id_vars=["country_code", "year"],
                                              var_name="column", value_name="e0")
    e0["sex"] = e0["column"].map({"e0M": "male", "e0F": "female", "e0B": "both"})
    published = keys.merge(e0, on=["country_code", "year", "sex"], how="left")["e0"]
    assert published.notna().all()
    return keys, mx, published.to_numpy()


@pytest.mark.shared_data
def test_wpp2024_e0_reproduced(shared_data):
    """e0 from WPP 2024's single-age m(x) with WPP's conventions (a0="wpp": Andreev-Kingkade
    by sex, the male formula for both sexes; a = 1/2 at other closed ages; L(100+) = l/m)
    matches e01dt within the issue's 0.05 years for all 13 countries x 2015-2023 x 3 sexes
    — in fact within 1e-4 (e01dt has 4 decimals, m(x) 5 significant digits); 5e-4 is
    asserted. The HMD default (mean of the two formulas for both sexes) is ~1e-3 off for
    both sexes combined in high-infant-mortality countries; a0 = 1/2 is ~0.02 off."""
    keys, mx, published = wpp_tables(shared_data)
    e0 = np.empty(len(keys))
    for sex in ("male", "female", "both"):
        rows = (keys["sex"] == sex).to_numpy()
        e0[rows] = LifeTable.from_mx(mx[rows], sex, a0="wpp").ex[:, 0]
    worst = np.abs(e0 - published).max()
    print(f"\nWPP 2024 e0, {len(keys)} tables: worst |difference| {worst:.6f} years")
    assert worst < 0.05
    assert worst < 5e-4


# ----------------------------------------------------------------------- HMD


@pytest.mark.shared_data
@pytest.mark.parametrize("sex", ["male", "female"])
def test_hmd_usa_e0_reproduced_by_default_construction(shared_data, sex):
    """HMD conventions are the default: e0 from HMD USA m(x) (ages 0-110+, 1933-2021) matches
    HMD's e0 within 0.01 (HMD prints m to 5 decimals and e to 2)."""
    import pandas as pd

    df = pd.read_csv(shared_data / HMD_FILE)
    df = df[df["sex"] == sex].assign(age=lambda d: d["Age"].astype(str).str.rstrip("+")
                                     .astype(int))
    wide = df.pivot(index="Year", columns="age", values="mx").sort_index()
    e0 = df[df["age"] == 0].set_index("Year")["ex"].sort_index().to_numpy()
    table = LifeTable.from_mx(wide.to_numpy(), sex)
    assert np.abs(table.ex[:, 0] - e0).max() < 0.01
