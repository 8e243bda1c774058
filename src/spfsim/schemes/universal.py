"""Non-contributory universal benefit for an age band (social pension or child benefit).

Every resident in the age band is entitled; take-up below 1 models those not reached. A flat
amount per beneficiary, optionally indexed. Serves R202 para. 5(b) (children) or 5(d) (older
persons), para. 8(b) (levels tied to a nationally defined minimum) and para. 9(2)
(universal schemes); financed from general revenue (R202 para. 11).
"""

from __future__ import annotations

import numpy as np

from ..params.dated import ParamSpec
from .base import ADMIN_COST_RATE, NON_CONTRIBUTORY, SchemeType, params


def is_eligible(age, min_age, max_age) -> np.ndarray:
    """In the benefit's age band, both ends included (100 = the open age group)."""
    age = np.asarray(age)
    return (age >= min_age) & (age <= max_age)


def beneficiaries(population, eligible, take_up) -> np.ndarray:
    """Expected beneficiaries = eligible population x take-up rate (persons)."""
    return np.asarray(population) * eligible * take_up


class UniversalBenefit(SchemeType):
    NAME = "universal_benefit"
    KIND = NON_CONTRIBUTORY
    DESCRIPTION = "Universal flat-rate benefit for an age band, tax-financed."
    REFERENCE = "R202 para. 5(b), 5(d), 8(b), 9(2), 11"
    PARAMETERS = params(
        ParamSpec("min_age", "years of age", "Youngest age entitled.", low=0, high=100,
                  integer=True),
        ParamSpec("max_age", "years of age", "Oldest age entitled (100 = no upper limit).",
                  low=0, high=100, integer=True),
        ParamSpec("benefit", "currency per beneficiary per year",
                  "Annual benefit amount; may be indexed.", low=0.0, indexable=True,
                  reference="R202 para. 8(b)"),
        ParamSpec("take_up", "fraction", "Share of those entitled who receive it.",
                  low=0.0, high=1.0, default=1.0),
        ADMIN_COST_RATE,
    )

    @classmethod
    def cross_check(cls, numbers):
        if "min_age" not in numbers or "max_age" not in numbers:
            return []
        low, high = numbers["min_age"]["all"], numbers["max_age"]["all"]
        for year in sorted(set(low.values) | set(high.values)):
            if low.at(year) > high.at(year):
                return [("max_age", f"must be >= min_age {low.at(year):g} (from {year})",
                         high.at(year))]
        return []
