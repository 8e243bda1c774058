"""Lee-Carter model: constraints, exact recovery, forecasting, simulation, US (HMD) data."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from spfsim.demography.leecarter import (
    LeeCarter,
    fold_open_age,
    percentile_bands,
)
from spfsim.demography.lifetable import LifeTable

AGES = np.arange(101)
YEARS = np.arange(1980, 2020)


def synthetic_mx(noise: float = 0.02, seed: int = 7) -> np.ndarray:
    """Gompertz-like rates falling over time, with multiplicative noise; (year, age)."""
    rng = np.random.Generator(np.random.Philox(key=seed))
    a = np.log(2e-4) + 0.085 * AGES + np.where(AGES == 0, 3.0, 0.0)
    b = 0.02 * np.exp(-AGES / 60.0)
    k = -1.5 * np.arange(YEARS.size) + 0.5 * np.sin(np.arange(YEARS.size))
    log_m = a + np.outer(k, b) + noise * rng.standard_normal((YEARS.size, AGES.size))
    return np.exp(np.minimum(log_m, np.log(0.9)))


# ---- constraints and recovery ------------------------------------------------------------------


@pytest.mark.parametrize("adjust", [None, "e0", "deaths"])
def test_identification_constraints(adjust):
    mx = synthetic_mx()
    exposures = np.full(mx.shape, 1e4) if adjust == "deaths" else None
    model = LeeCarter.fit(mx, YEARS, AGES, adjust=adjust, exposures=exposures)
    assert model.bx.sum() == pytest.approx(1.0, abs=1e-12)
    assert abs(model.kt.sum()) < 1e-12
    assert abs(model.kt_svd.sum()) < 1e-12
    if adjust is None:
        np.testing.assert_allclose(model.ax, np.log(mx).mean(axis=0), rtol=0, atol=1e-12)
        np.testing.assert_array_equal(model.kt, model.kt_svd)
    else:
        # the adjusted index is re-centred into ax: ax = row mean + bx * mean(adjusted k)
        assert not np.allclose(model.kt, model.kt_svd, rtol=0, atol=1e-6)
    if adjust == "e0":
        np.testing.assert_allclose(model.fitted_e0(), model.observed_e0(), rtol=0, atol=1e-9)
    if adjust == "deaths":
        fitted = (exposures * np.exp(model.fitted_log_mx)).sum(axis=1)
        np.testing.assert_allclose(fitted, (exposures * mx).sum(axis=1), rtol=1e-11)


@pytest.mark.parametrize("b_scale", [2.5, -0.7])
def test_exact_recovery_of_rank_one_data(b_scale):
    """log m = a + b k exactly, with sum k != 0 and sum b != 1 (even negative)."""
    a = np.log(3e-4) + 0.08 * AGES
    b = b_scale * (0.5 + np.cos(AGES / 40.0) ** 2) / 101.0
    k = 25.0 - 1.3 * np.arange(YEARS.size) + 3.0 * np.sin(0.4 * np.arange(YEARS.size))
    log_m = a + np.outer(k, b)
    model = LeeCarter.fit(np.exp(log_m), YEARS, AGES)

    s, kbar = b.sum(), k.mean()
    np.testing.assert_allclose(model.bx, b / s, rtol=0, atol=1e-10)
    np.testing.assert_allclose(model.kt, (k - kbar) * s, rtol=0, atol=1e-10)
    np.testing.assert_allclose(model.ax, a + b * kbar, rtol=0, atol=1e-10)
    np.testing.assert_allclose(model.fitted_log_mx, log_m, rtol=0, atol=1e-10)
    assert model.rmse < 1e-10
    assert model.explained_variance == pytest.approx(1.0, abs=1e-12)


# ---- input validation ------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0.0, np.nan, -1e-3])
def test_bad_rate_names_year_and_age(bad):
    mx = synthetic_mx()
    mx[YEARS == 1993, 57] = bad
    with pytest.raises(ValueError, match=r"year 1993, age 57"):
        LeeCarter.fit(mx, YEARS, AGES)


def test_invalid_arguments():
    mx = synthetic_mx()
    with pytest.raises(ValueError, match="exposures"):
        LeeCarter.fit(mx, YEARS, AGES, adjust="deaths")
    with pytest.raises(ValueError, match="consecutive"):
        LeeCarter.fit(mx, YEARS * 2, AGES)
    with pytest.raises(ValueError, match="shaped"):
        LeeCarter.fit(mx.T, YEARS, AGES)
    with pytest.raises(ValueError, match="jump_off"):
        LeeCarter.fit(mx, YEARS, AGES, jump_off="last")
    model = LeeCarter.fit(mx, YEARS, AGES)
    with pytest.raises(ValueError, match="seed"):
        model.simulate(5, 3, seed=None)


# ---- random walk with drift and forecasts ------------------------------------------------------


def test_drift_volatility_and_jump_off():
    mx = synthetic_mx()
    fitted = LeeCarter.fit(mx, YEARS, AGES, jump_off="fitted")
    k = fitted.kt
    theta = (k[-1] - k[0]) / (k.size - 1)
    assert fitted.drift == pytest.approx(theta, rel=1e-12)
    assert fitted.sigma == pytest.approx(np.std(np.diff(k), ddof=1), rel=1e-12)

    fc = fitted.forecast(3)
    np.testing.assert_array_equal(fc.years, [2020, 2021, 2022])
    np.testing.assert_allclose(fc.kt, k[-1] + theta * np.array([1, 2, 3]), rtol=1e-14)
    np.testing.assert_allclose(np.log(fc.mx[0]), fitted.ax + fitted.bx * (k[-1] + theta),
                               rtol=0, atol=1e-12)

    observed = LeeCarter.fit(mx, YEARS, AGES, jump_off="observed")
    fo = observed.forecast(3)
    np.testing.assert_allclose(fo.mx[0], mx[-1] * np.exp(observed.bx * theta), rtol=1e-12)
    # the same index forecast; only the age profile of the level differs
    np.testing.assert_allclose(fo.kt, fc.kt, rtol=1e-14)


def test_simulation_moments_match_random_walk_formula():
    """Mean k(T) + h theta; Var k(T+h) = h sigma^2 (+ h^2 sigma^2 / (T-1) with drift risk)."""
    model = LeeCarter.fit(synthetic_mx()[:, :3], YEARS, AGES[:3])  # few ages: cheap
    n, horizon = 4000, 20
    h = np.arange(1, horizon + 1)
    s2, big_t = model.sigma**2, model.kt.size
    for pu, var in [(False, h * s2), (True, h * s2 + h**2 * s2 / (big_t - 1))]:
        sim = model.simulate(horizon, n, seed=11, parameter_uncertainty=pu)
        assert sim.kt.shape == (n, horizon)
        assert sim.mx.shape == (n, horizon, 3)
        mean = model.kt[-1] + model.drift * h
        assert np.all(np.abs(sim.kt.mean(axis=0) - mean) < 4 * np.sqrt(var / n))
        np.testing.assert_allclose(sim.kt.var(axis=0, ddof=1), var, rtol=0.1)


def test_simulation_is_reproducible_keyed_and_prefix_stable():
    model = LeeCarter.fit(synthetic_mx(), YEARS, AGES)
    a = model.simulate(30, 50, seed=2024)
    b = model.simulate(30, 50, seed=2024)
    c = model.simulate(30, 50, seed=2025)
    np.testing.assert_array_equal(a.kt, b.kt)
    np.testing.assert_array_equal(a.mx, b.mx)
    assert not np.allclose(a.kt, c.kt)
    # a path's draws depend neither on the number of paths nor on the horizon
    short = model.simulate(10, 20, seed=2024)
    np.testing.assert_array_equal(short.kt, a.kt[:20, :10])
    # without parameter uncertainty: the same innovations, one common drift
    fixed = model.simulate(30, 50, seed=2024, parameter_uncertainty=False)
    assert np.all(fixed.drift == model.drift)
    np.testing.assert_allclose(np.diff(a.kt - fixed.kt, axis=1),
                               np.broadcast_to((a.drift - model.drift)[:, None], (50, 29)),
                               rtol=0, atol=1e-11)


def test_percentile_bands_and_fold_open_age():
    paths = np.arange(1001.0)[:, None] * np.array([1.0, 2.0])
    bands = percentile_bands(paths)
    np.testing.assert_allclose(bands, [[25.0, 50.0], [500.0, 1000.0], [975.0, 1950.0]])

    mx = np.exp(np.log(1e-4) + 0.09 * np.arange(111.0))[None, :] * np.array([[1.0], [0.7]])
    folded = fold_open_age(mx, 100, sex="female")
    assert folded.shape == (2, 101)
    np.testing.assert_array_equal(folded[:, :100], mx[:, :100])
    assert np.all(folded[:, 100] > mx[:, 100])  # rising rates: the open group is older
    full = LifeTable.from_mx(mx, sex="female").ex[:, :101]
    np.testing.assert_allclose(LifeTable.from_mx(folded, sex="female").ex, full, rtol=1e-12)


# ---- HMD USA 1950-2019 -------------------------------------------------------------------------

HMD_FILE = "lifetables/HMD_USA_period_life_tables_1x1_1933_2021.csv"

# Measured on HMD USA 1950-2019, ages 0-100 (100+ folded from 100..110+), adjust=None:
#   share of variance of the first singular vector: male 0.9498, female 0.9488
#   in-sample RMSE of log mx:                       male 0.0663, female 0.0642
#   drift theta (index units per year):             male -1.088, female -1.203
#   sigma:                                          male 1.404,  female 1.686
MEASURED = {
    "male": {"share": 0.9498, "rmse": 0.0663, "drift": -1.088},
    "female": {"share": 0.9488, "rmse": 0.0642, "drift": -1.203},
}


@lru_cache(maxsize=4)
def hmd_usa(path: Path, sex: str) -> tuple[np.ndarray, np.ndarray]:
    """HMD USA mx 1950-2019 at ages 0-100, the open group 110+ folded into 100+."""
    import pandas as pd

    df = pd.read_csv(path / HMD_FILE)
    df = df[(df["sex"] == sex) & df["Year"].between(1950, 2019)]
    age = df["Age"].astype(str).str.rstrip("+").astype(int)  # "110+" is the open group
    wide = df.assign(age=age).pivot(index="Year", columns="age", values="mx").sort_index()
    assert list(wide.columns) == list(range(111))
    return fold_open_age(wide.to_numpy(), 100, sex=sex), wide.index.to_numpy()


@pytest.mark.parametrize("sex", ["male", "female"])
def test_hmd_usa_fit_diagnostics(shared_data, sex):
    mx, years = hmd_usa(shared_data, sex)
    model = LeeCarter.fit(mx, years, AGES, sex=sex)
    print(f"\nHMD USA {sex} 1950-2019: share {model.explained_variance:.4f}, "
          f"RMSE {model.rmse:.4f}, drift {model.drift:.4f}, sigma {model.sigma:.4f}")
    assert model.bx.sum() == pytest.approx(1.0, abs=1e-12)
    assert abs(model.kt.sum()) < 1e-12
    assert model.explained_variance > 0.93
    assert model.rmse < 0.07
    assert model.drift < -0.9  # mortality falls
    for key, value in (("share", model.explained_variance), ("rmse", model.rmse),
                       ("drift", model.drift)):
        assert value == pytest.approx(MEASURED[sex][key], abs=6e-4)

    e0_obs = model.observed_e0()[-1]
    for jump_off in ("fitted", "observed"):
        e0 = LeeCarter.fit(mx, years, AGES, sex=sex, jump_off=jump_off).forecast_e0(50)
        assert np.all(np.diff(e0) > 0)  # the forecast e0 rises every year
        assert e0[-1] > e0_obs + 4.0

    adjusted = LeeCarter.fit(mx, years, AGES, sex=sex, adjust="e0")
    np.testing.assert_allclose(adjusted.fitted_e0(), adjusted.observed_e0(), atol=1e-8)
    assert adjusted.drift < 0


@pytest.mark.parametrize("jump_off", ["fitted", "observed"])
def test_hmd_usa_simulated_e0(shared_data, jump_off):
    mx, years = hmd_usa(shared_data, "female")
    model = LeeCarter.fit(mx, years, AGES, sex="female", jump_off=jump_off)
    central = model.forecast_e0(50)
    paths = model.e0_paths(50, 400, seed=20240601)
    assert paths.shape == (400, 50)
    low, median, high = percentile_bands(paths)
    width = high - low
    assert width[49] > 1.5 * width[9]  # the fan widens with the horizon
    np.testing.assert_allclose(median[[9, 49]], central[[9, 49]], atol=0.15)

    no_pu = model.e0_paths(50, 400, seed=20240601, parameter_uncertainty=False)
    bands = percentile_bands(no_pu)
    assert width[49] > (bands[2] - bands[0])[49] * 1.15

    np.testing.assert_array_equal(model.e0_paths(10, 20, seed=20240601), paths[:20, :10])
    assert not np.allclose(model.e0_paths(10, 20, seed=20240602), paths[:20, :10])
