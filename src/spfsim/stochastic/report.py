"""A stochastic projection in a few printed lines."""

from __future__ import annotations

import numpy as np
import xarray as xr


def stochastic_summary_lines(ds: xr.Dataset) -> list[str]:
    """The draws, and per funded scheme: the probability that its reserve is exhausted by
    the middle and the end of the projection, the median depletion year, and the actuarial
    balance's 5 percentiles."""
    years = ds["year"].values
    middle, last = int(years[len(years) // 2]), int(years[-1])
    lines = [f"{ds.attrs.get('title', '')}: {ds.attrs['draws']} draws, seed "
             f"{ds.attrs.get('seed')}, {years[0]}-{last}"]
    q = ds["percentile"].values
    for scheme in ds["scheme"].values:
        p = ds["depletion_probability"].sel(scheme=scheme)
        if np.all(np.isnan(p.values)):
            continue
        balance = ds["actuarial_balance_percentiles"].sel(scheme=scheme).values
        spread = ", ".join(f"P{x:g} {b:+.2%}" for x, b in zip(q, balance, strict=True))
        median = _median_depletion(ds, scheme)
        lines.append(f"  {scheme}: reserve exhausted by {middle} in "
                     f"{float(p.sel(year=middle)):.1%} of draws, by {last} in "
                     f"{float(p.sel(year=last)):.1%}; median depletion {median}; "
                     f"actuarial balance {spread}")
    return lines


def _median_depletion(ds: xr.Dataset, scheme: str) -> str:
    """The depletion year at the 50th percentile, if the Dataset has it."""
    if 50.0 not in ds["percentile"].values:
        return "not computed"
    year = float(ds["depletion_year_percentiles"].sel(scheme=scheme, percentile=50.0))
    return "beyond the horizon" if np.isnan(year) else str(int(year))


def sensitivity_summary_lines(sens: xr.Dataset) -> list[str]:
    """Per funded scheme: the baseline actuarial balance and depletion year, and each
    assumption's low and high variants, the widest effect first."""
    lines = [f"{sens.attrs.get('title', '')}: sensitivity tests, {sens.attrs['base_year']}-"
             f"{sens.attrs['end_year']}"]
    for scheme in sens["scheme"].values:
        base = float(sens["baseline_actuarial_balance"].sel(scheme=scheme))
        if np.isnan(base):
            continue
        lines.append(f"  {scheme}: actuarial balance {base:+.2%}, depletion "
                     f"{_year(float(sens['baseline_depletion_year'].sel(scheme=scheme)))}")
        balance = sens["actuarial_balance"].sel(scheme=scheme)
        width = np.nan_to_num(np.abs(balance - base).max("bound").values)
        for k in np.argsort(-width):
            name = str(sens["assumption"].values[k])
            low, high = (float(balance.sel(assumption=name, bound=b)) for b in ("low", "high"))
            years = [_year(float(sens["depletion_year"].sel(assumption=name, bound=b,
                                                             scheme=scheme)))
                     for b in ("low", "high")]
            lines.append(f"    {name:<17} low {low:+.2%} ({years[0]}), high {high:+.2%} "
                         f"({years[1]})")
    return lines


def _year(value: float) -> str:
    return "beyond the horizon" if np.isnan(value) else str(int(value))
