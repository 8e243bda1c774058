"""The costing years and each country's WPP 2024 inputs.

The inputs (base population of 1 July 2020 graduated to single ages, mortality, fertility,
sex ratio at birth, migration; :func:`spfsim.demography.wpp.from_wpp`) become the floor
model's demographic tables (:mod:`spfsim.spf.floor`), projected from 2020 to the
costing year by spfsim's cohort-component projection.
"""

from __future__ import annotations

import numpy as np

from ..demography.wpp import WPPData, WPPDemography, from_wpp
from ..errors import AssumptionError, Problem

__all__ = ["BASE_YEAR", "LAST_YEAR", "check_year", "wpp_inputs"]

BASE_YEAR = 2020  # the last year with a WPP population estimate by age for every country
LAST_YEAR = 2100  # the end of WPP's projections


def check_year(year: int) -> int:
    """``year`` if spfsim can cost it from WPP 2024 (2020..2100), else an AssumptionError."""
    if not isinstance(year, int | np.integer) or not BASE_YEAR <= int(year) <= LAST_YEAR:
        raise AssumptionError([Problem("command line", "--year",
                                       f"expected a year from {BASE_YEAR} to {LAST_YEAR}", None,
                                       year)])
    return int(year)


def wpp_inputs(data: WPPData, country: int, year: int) -> WPPDemography:
    """The WPP 2024 inputs of ``country`` (UN M49) from 1 July 2020, far enough to cost
    ``year`` (at least two years: WPP's inputs are made for a projection)."""
    return from_wpp(data, country, base_year=BASE_YEAR, end_year=max(check_year(year),
                                                                    BASE_YEAR + 1))
