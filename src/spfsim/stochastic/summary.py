"""The results Dataset of a stochastic projection: percentiles, probabilities of
depletion, and (by choice) every draw's key series.

A reserve counts as exhausted in a year when it ends that year below zero (the
deterministic projection's depletion year, finance.fund.depletion_year); a draw whose
reserve never runs out within the horizon has no depletion year (NaN), and percentiles of
the depletion year that fall among such draws are NaN ("not within the horizon").
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..results import registry
from .run import DRAW_MEASURES, SCHEME_SERIES, YEAR_SERIES, DrawResults

#: the key series whose percentiles the Dataset holds
PERCENTILE_SERIES = ("total_population", "old_age_dependency_ratio", "paygo_cost_rate",
                     "reserve_ratio", "cost_to_gdp", "benefit_expenditure",
                     "contribution_income", "reserve")


def depletion_probability(results: DrawResults) -> np.ndarray:
    """(year, scheme) share of draws whose reserve is exhausted by the end of each year
    (NaN for schemes without a fund)."""
    first = results.measures["depletion_year"]  # (draw, scheme), NaN: never
    by_year = first[:, None, :] <= results.years[None, :, None]
    share = by_year.mean(axis=0)
    return np.where(results.funded[None, :], share, np.nan)


def depletion_percentiles(results: DrawResults, q: np.ndarray) -> np.ndarray:
    """(percentile, scheme) depletion year at each percentile of the draws, never-depleted
    draws last; NaN where the percentile falls among them or the scheme has no fund."""
    first = np.where(np.isnan(results.measures["depletion_year"]), np.inf,
                     results.measures["depletion_year"])
    out = np.percentile(first, q, axis=0, method="inverted_cdf")
    out = np.where(np.isfinite(out), out, np.nan)
    return np.where(results.funded[None, :], out, np.nan)


def stochastic_dataset(results: DrawResults, percentiles: tuple[float, ...],
                       keep_draws: bool = False, attrs: dict | None = None) -> xr.Dataset:
    """The Dataset of a stochastic projection: ``<series>_percentiles`` (percentile, year
    [, scheme]) of :data:`PERCENTILE_SERIES`; ``depletion_probability`` (year, scheme);
    ``depletion_year_percentiles``, ``actuarial_balance_percentiles`` and
    ``general_average_premium_percentiles`` (percentile, scheme) and their means over the
    draws; with ``keep_draws``, every draw's key series and measures along ``draw``."""
    q = np.asarray(percentiles, dtype=float)
    coords = {"year": results.years, "scheme": results.schemes, "percentile": q}
    data: dict[str, tuple] = {}
    for name in PERCENTILE_SERIES:
        values = results.series[name]
        dims = ("percentile", "year", "scheme")[: values.ndim]
        with np.errstate(all="ignore"):
            data[f"{name}_percentiles"] = (dims, _nanpercentile(values, q))
    data["depletion_probability"] = (("year", "scheme"), depletion_probability(results))
    data["depletion_year_percentiles"] = (("percentile", "scheme"),
                                          depletion_percentiles(results, q))
    for name in ("actuarial_balance", "general_average_premium"):
        values = results.measures[name]
        data[f"{name}_percentiles"] = (("percentile", "scheme"), _nanpercentile(values, q))
        data[f"{name}_mean"] = (("scheme",), _nanmean(values))
    if keep_draws:
        coords["draw"] = results.draws
        for name in (*SCHEME_SERIES, *YEAR_SERIES):
            values = results.series[name]
            data[name] = (("draw", "year", "scheme")[: values.ndim], values)
        for name in DRAW_MEASURES:
            data[name] = (("draw", "scheme"), results.measures[name])
    data["initial_reserve"] = (("scheme",), results.initial_reserve)
    ds = xr.Dataset(data, coords=coords, attrs=dict(attrs or {}))
    ds.attrs.update(draws=len(results.draws), base_year=int(results.years[0]),
                    end_year=int(results.years[-1]))
    return describe(ds, str(ds.attrs.get("currency", "currency")), int(results.years[0]),
                    int(results.years[-1]), results.horizon, results.valuation_start)


def describe(ds: xr.Dataset, currency: str, base_year: int, end_year: int,
             horizon: int, valuation_start: int | None = None) -> xr.Dataset:
    """Give every variable of a stochastic or sensitivity Dataset its ``units`` and
    ``long_name``: from the stochastic registry, or from the single projection's variable
    of the same name (a ``_percentiles``, ``_mean`` or ``baseline_`` form of it says so).
    The measures' ``horizon`` years start in ``valuation_start`` (None: ``base_year``)."""
    first = base_year if valuation_start is None else int(valuation_start)
    context = registry.context(currency, base_year, end_year,
                               over=registry.horizon_phrase(first, horizon))
    for name in ds.data_vars:
        base = name.removesuffix("_percentiles").removesuffix("_mean").removeprefix(
            "baseline_").removeprefix("final_")
        spec = registry.STOCHASTIC_REGISTRY.get(base) or registry.REGISTRY.get(base)
        if spec is None:
            continue
        attrs = spec.attrs(context)
        if name.endswith("_percentiles"):
            attrs["long_name"] = f"percentiles over the draws of: {attrs['long_name']}"
        elif name.endswith("_mean"):
            attrs["long_name"] = f"mean over the draws of: {attrs['long_name']}"
        elif name.startswith("final_"):
            attrs["long_name"] = f"in the last year: {attrs['long_name']}"
        ds[name].attrs.update(attrs)
    for coord, long_name in (("percentile", "percentile over the draws"),
                             ("draw", "number of the draw (its random numbers' key)")):
        if coord in ds.coords:
            ds[coord].attrs["long_name"] = long_name
    return ds


def _nanpercentile(values: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Percentiles over the draws (axis 0), NaN where every draw is NaN. Columns without
    NaN go to np.percentile at once: np.nanpercentile loops over columns in Python."""
    missing = np.isnan(values)
    full, some = ~missing.any(axis=0), ~missing.all(axis=0)
    partial = some & ~full
    out = np.full((len(q), *values.shape[1:]), np.nan)
    if full.any():
        out[:, full] = np.percentile(values[:, full], q, axis=0)
    if partial.any():
        out[:, partial] = np.nanpercentile(values[:, partial], q, axis=0)
    return out


def _nanmean(values: np.ndarray) -> np.ndarray:
    some = ~np.all(np.isnan(values), axis=0)
    out = np.full(values.shape[1:], np.nan)
    out[some] = np.nanmean(values[:, some], axis=0)
    return out
