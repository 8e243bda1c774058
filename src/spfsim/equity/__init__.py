"""Intergenerational equity and gender measures, as pure numpy/SciPy functions.

Cohort returns (:mod:`.returns`) work on expected cash flows by calendar year and birth
cohort, ``contributions[year, cohort, sex]`` and ``benefits[year, cohort, sex]`` (paid at
mid-year): the internal rate of return, the money's worth ratio and the net transfer in
present value. :mod:`.distribution` has the gender gap and weighted percentiles. See
docs/equity.md for definitions, valuation dates, units and the caveat on cohorts truncated
by the projection horizon.
"""

from __future__ import annotations

from .distribution import gender_gap, weighted_percentiles
from .returns import (
    by_cohort,
    cohort_irr,
    complete_cohorts,
    discount_factors,
    money_worth_ratio,
    net_transfer_pv,
)

__all__ = [
    "by_cohort",
    "cohort_irr",
    "complete_cohorts",
    "discount_factors",
    "gender_gap",
    "money_worth_ratio",
    "net_transfer_pv",
    "weighted_percentiles",
]
