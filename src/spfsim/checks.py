"""Accounting identities asserted in every run (population balance, fund balance)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .errors import ProjectionError

TOLERANCE = 1e-9


def population_balance_residual(ds: xr.Dataset) -> float:
    """Largest relative residual of P[t+1, a] = P[t, a-1] - D[t, a] + M[t, a] (+ B at a = 0)."""
    pop = ds["population"].transpose("year", "age", "sex").values
    deaths = ds["deaths"].transpose("year", "age", "sex").values
    migration = ds["net_migration"].transpose("year", "age", "sex").values
    births = ds["births"].transpose("year", "sex").values
    start = np.zeros_like(pop[:-1])
    start[:, 1:] = pop[:-1, :-1]
    start[:, -1] += pop[:-1, -1]
    start[:, 0] = births[:-1]
    expected = start - deaths[:-1] + migration[:-1]
    scale = np.maximum(np.abs(pop[1:]), 1.0)
    return float(np.max(np.abs(pop[1:] - expected) / scale, initial=0.0))


def fund_balance_residual(ds: xr.Dataset, initial_reserve: np.ndarray) -> float:
    """Largest relative residual of F[t] = F[t-1] + C + G + I - B - E, per scheme."""
    reserve = ds["reserve"].transpose("year", "scheme").values
    previous = np.vstack([initial_reserve[None, :], reserve[:-1]])
    flows = sum(ds[v].transpose("year", "scheme").values for v in
                ("contribution_income", "state_transfer", "investment_income"))
    flows = flows - ds["benefit_expenditure"].values - ds["admin_expenditure"].values
    scale = np.maximum.reduce([np.abs(reserve), np.abs(previous),
                               np.abs(ds["benefit_expenditure"].values), np.ones_like(reserve)])
    return float(np.max(np.abs(reserve - previous - flows) / scale))


def assert_identities(ds: xr.Dataset, initial_reserve: np.ndarray) -> None:
    """Raise ProjectionError if an accounting identity fails beyond 1e-9 (relative)."""
    pop = population_balance_residual(ds)
    fund = fund_balance_residual(ds, initial_reserve)
    if pop > TOLERANCE:
        raise ProjectionError(f"population balance fails: relative residual {pop:.3g}")
    if fund > TOLERANCE:
        raise ProjectionError(f"fund balance fails: relative residual {fund:.3g}")
