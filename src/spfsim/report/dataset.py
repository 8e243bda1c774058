"""How the report reads a results Dataset: its schemes, the complete cohorts, the cost rate
of lump sums.

The Dataset itself is assembled by :mod:`spfsim.results`; ``check_single_projection`` and
``CONTRACT_DIMS`` (the results contract, :mod:`spfsim.results.registry`) stay importable
from here for the report's modules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..results.registry import CONTRACT_DIMS, check_single_projection

__all__ = ["CONTRACT_DIMS", "SchemeInfo", "check_single_projection", "complete_cohort_mask",
           "lump_sum_cost_rate", "scheme_infos"]


@dataclass(frozen=True)
class SchemeInfo:
    """A scheme as the Dataset describes it (position along ``scheme`` and its coords)."""

    index: int
    id: str
    name: str
    type: str
    kind: str

    @property
    def contributory(self) -> bool:
        return self.kind == "contributory"

    @property
    def label(self) -> str:
        return self.name if self.name == self.id else f"{self.name} ({self.id})"


def scheme_infos(ds: xr.Dataset) -> list[SchemeInfo]:
    """The schemes of a Dataset, in order, from the ``scheme_*`` coordinates."""
    if "scheme" not in ds.coords:
        return []
    ids = [str(s) for s in ds["scheme"].values]

    def coord(name: str, default: list[str]) -> list[str]:
        if name in ds.coords and ds[name].dims == ("scheme",):
            return [str(v) for v in ds[name].values]
        return default

    rows = zip(ids, coord("scheme_name", ids), coord("scheme_type", [""] * len(ids)),
               coord("scheme_kind", [""] * len(ids)), strict=True)
    return [SchemeInfo(i, *row) for i, row in enumerate(rows)]


def complete_cohort_mask(ds: xr.Dataset, scheme: int) -> np.ndarray:
    """(cohort,) bool: ``cohort_complete`` (cohort, scheme) (True where the birth cohort's
    cash flows in the scheme are all inside the projection, so its equity measures are
    unbiased) for the scheme at position ``scheme``."""
    complete = ds["cohort_complete"].isel(scheme=scheme)
    return np.asarray(complete.transpose("cohort").values, dtype=bool)


def lump_sum_cost_rate(ds: xr.Dataset, scheme: int) -> np.ndarray | None:
    """(year,) the PAYG cost rate (fraction of insured earnings) of the lump sums of the
    scheme at position ``scheme`` (``paygo_cost_rate_by_payment``), or None when it pays
    none or the Dataset does not split its cost rate by form of payment."""
    if "paygo_cost_rate_by_payment" not in ds.data_vars:
        return None
    lump = ds["paygo_cost_rate_by_payment"].isel(scheme=scheme).sel(payment="lump_sum")
    values = np.asarray(lump.transpose("year").values, dtype=float)
    return values if np.nansum(np.abs(values)) > 0 else None
