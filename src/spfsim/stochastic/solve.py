"""The contribution rate that keeps a stochastic projection's probability of depletion
under a target, from the draws kept in its Dataset."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..finance.fund import ratio_to
from ..finance.solvers import SolverResult, rate_for_depletion_probability


def depletion_rate(ds: xr.Dataset, scheme: str, by_year: int, probability: float = 0.1,
                   from_year: int | None = None) -> SolverResult:
    """The lowest contribution rate from ``from_year`` on with which ``scheme``'s reserve is
    exhausted by the end of ``by_year`` in at most ``probability`` of the draws of ``ds``
    (a :meth:`~spfsim.Model.project_stochastic` Dataset made with ``keep_draws=True``);
    :func:`spfsim.finance.solvers.rate_for_depletion_probability` on its draws."""
    if "draw" not in ds.dims:
        raise ValueError("the Dataset keeps no draws: project with keep_draws=True")
    one = ds.sel(scheme=scheme).transpose("draw", "year", ...)

    def values(name: str) -> np.ndarray:
        return np.asarray(one[name].values, dtype=float)

    earnings = values("insured_earnings")
    scheduled = np.nan_to_num(ratio_to(values("contribution_income"), earnings))
    interest = np.asarray(ds["interest_rate"].transpose("draw", "year").values, dtype=float)
    return rate_for_depletion_probability(
        ds["year"].values, values("benefit_expenditure"), values("admin_expenditure"),
        earnings, interest, float(one["initial_reserve"]), values("committed_transfers"),
        scheduled, by_year=by_year, probability=probability, from_year=from_year)
