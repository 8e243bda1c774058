"""Life tables and the cohort-component projection."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spfsim.checks import population_balance_residual
from spfsim.demography import LifeTable, emigration_probability, project_population

AGES = np.arange(101)


def test_constant_force_life_expectancy():
    """Constant force mu: e(x) = 1/mu (up to the infant a0 and the linear-ax approximation)."""
    mu = 0.05
    table = LifeTable.from_mx(np.full(101, mu))
    assert table.ex[0] == pytest.approx(1 / mu, abs=0.02)
    assert table.ex[100] == pytest.approx(1 / mu)  # the open group is exact
    assert table.lx[0] == 1.0
    np.testing.assert_allclose(table.Tx[0], table.Lx.sum())


def test_from_qx_inverts_from_mx():
    mx = 0.0002 * np.exp(0.08 * AGES) + 0.01 * np.exp(-AGES)
    mx[100] = mx[99]  # from_qx takes the open group's rate from the last closed age
    a = LifeTable.from_mx(mx, "female")
    b = LifeTable.from_qx(a.qx, "female")
    np.testing.assert_allclose(b.mx, a.mx, rtol=1e-9)
    np.testing.assert_allclose(b.ex, a.ex, rtol=1e-9)


def test_projection_closed_population_by_hand():
    """One step, no migration: survivors are P x L(x+1)/L(x); births by hand."""
    mx = np.full((2, 101, 2), 0.02)
    pop = np.full((101, 2), 1000.0)
    asfr = np.zeros((2, 101))
    asfr[:, 25] = 0.1
    proj = project_population(np.array([2025, 2026]), pop, mx, asfr, np.array([1.05, 1.05]),
                              np.zeros((2, 101, 2)))
    table = LifeTable.from_mx(mx[0, :, 1], "female")
    s_birth, s = table.projection_survival()
    assert proj.population[1, 30, 1] == pytest.approx(1000 * s[29])
    women_25 = 0.5 * (1000 + 1000 * s[24])
    assert proj.births[0].sum() == pytest.approx(0.1 * women_25)
    assert proj.births[0, 0] / proj.births[0, 1] == pytest.approx(1.05)
    assert proj.population[1, 0, 1] == pytest.approx(proj.births[0, 1] * s_birth)
    # the open group gathers those aged 99 and 100+
    assert proj.population[1, 100, 0] == pytest.approx(2000 * s[99])


@settings(max_examples=25, deadline=None)
@given(level=st.floats(0.001, 0.05), migration=st.floats(-200.0, 50.0),
       fertility=st.floats(0.05, 0.2))
def test_population_balance_holds_for_any_rates(level, migration, fertility):
    import xarray as xr

    n = 6
    years = np.arange(2025, 2025 + n)
    mx = np.broadcast_to(level * np.exp(0.05 * AGES)[None, :, None], (n, 101, 2))
    asfr = np.zeros((n, 101))
    asfr[:, 18:45] = fertility
    mig = np.full((n, 101, 2), migration)
    proj = project_population(years, np.full((101, 2), 500.0), mx, asfr, np.full(n, 1.05), mig)
    ds = xr.Dataset({
        "population": (("year", "age", "sex"), proj.population),
        "deaths": (("year", "age", "sex"), proj.deaths),
        "net_migration": (("year", "age", "sex"), proj.net_migration),
        "births": (("year", "sex"), proj.births),
    })
    assert population_balance_residual(ds) < 1e-12
    assert (proj.deaths >= 0).all()
    assert (proj.population >= 0).all()


def test_emigration_larger_than_cohort_is_capped_at_the_cohort():
    mig = np.zeros((2, 101, 2))
    mig[0, 50, 0] = -5000.0
    proj = project_population(np.array([2025, 2026]), np.full((101, 2), 100.0),
                              np.full((2, 101, 2), 0.01), np.zeros((2, 101)), np.full(2, 1.05),
                              mig)
    assert proj.population[1, 50, 0] == pytest.approx(0.0, abs=1e-9)
    assert (proj.population >= 0).all()
    # what was applied empties the cohort exactly; the rest is reported
    applied = proj.net_migration[0, 50, 0]
    assert -100.0 < applied < 0.0
    assert proj.emigration_capped[0, 50, 0] == pytest.approx(applied + 5000.0)
    assert proj.deaths[0, 50, 0] >= 0.0


def test_emptied_cohort_has_no_negative_deaths():
    """Found by hypothesis: an emigration capped to empty a cohort exactly left a rounding
    residue of -6e-35 persons exposed, hence negative deaths."""
    n = 6
    mx = np.broadcast_to(0.047767656154798 * np.exp(0.05 * AGES)[None, :, None], (n, 101, 2))
    asfr = np.zeros((n, 101))
    asfr[:, 18:45] = 0.125
    proj = project_population(np.arange(2025, 2025 + n), np.full((101, 2), 500.0), mx, asfr,
                              np.full(n, 1.05), np.full((n, 101, 2), -98.75))
    assert (proj.deaths >= 0).all()


# net migration rates: none, or at least 1e-12 of the cohort either way (far below one
# person; tinier rates make probabilities subnormal, whose rounding is not relative)
RATES = st.one_of(st.just(0.0), st.floats(1e-12, 0.6), st.floats(-0.6, -1e-12))


@settings(max_examples=50, deadline=None)
@given(st.floats(1.0, 1e4), st.floats(0.5, 1.0), RATES, st.floats(0.5, 100.0))
def test_emigration_probability_removes_the_net_emigrants(size, survival, rate, weight):
    """A cohort of P (simulated persons of ``weight``) aged a at the start, surviving at S:
    P S p(a) of them leave, the M (1 + S) / 2 net emigrants (M < 0) of end age a + 1
    missing at the end; nobody leaves where migration is net immigration."""
    population = np.full((5, 2), size)
    s = np.full((5, 2), survival)
    migration = np.full((5, 2), rate * size * weight)  # persons of end age
    p = emigration_probability(population, migration, s, weight)
    leaving = population[:-1] * s[1:] * p[:-1] * weight  # by end age 1..
    leaving[-1] += population[-1] * s[-1] * p[-1] * weight  # the open group stays in it
    if rate < 0:
        np.testing.assert_allclose(leaving, -migration[1:] * (1 + s[1:]) / 2, rtol=1e-12)
    else:
        assert not p.any()
    assert np.all((p >= 0) & (p <= 1))
