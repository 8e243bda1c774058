"""Population by age and sex and births of one calendar year, for any WPP country.

The WPP 2024 inputs of the country (base population of 1 July 2020 graduated to single ages,
mortality, fertility, migration) are projected year by year with spfsim's cohort-component
projection (:mod:`spfsim.demography.projection`) to the costing year.

- ``population``: persons at 1 July of the year, single ages 0..100 (100 = 100 and over) by sex.
- ``births``: live births during the calendar year: the mean of the births of the projection
  steps starting 1 July of the year before and 1 July of the year (each step runs from 1 July
  to 1 July); for 2020, the first year, the births of the step starting 1 July 2020.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..demography.projection import project_population
from ..demography.wpp import WPPData, from_wpp
from ..errors import AssumptionError, Problem

__all__ = ["BASE_YEAR", "LAST_YEAR", "YearDemography", "check_year", "wpp_demography"]

BASE_YEAR = 2020  # the last year with a WPP population estimate by age for every country
LAST_YEAR = 2100  # the end of WPP's projections


@dataclass(frozen=True)
class YearDemography:
    """A country's population (age, sex) at 1 July of ``year`` and its births in ``year``."""

    year: int
    population: np.ndarray  # (101, 2) persons; sex order male, female
    births: float  # live births during the calendar year


def check_year(year: int) -> int:
    """``year`` if spfsim can cost it from WPP 2024 (2020..2100), else an AssumptionError."""
    if not isinstance(year, int | np.integer) or not BASE_YEAR <= int(year) <= LAST_YEAR:
        raise AssumptionError([Problem("command line", "--year",
                                       f"expected a year from {BASE_YEAR} to {LAST_YEAR}", None,
                                       year)])
    return int(year)


def wpp_demography(data: WPPData, country: int, year: int) -> YearDemography:
    """Project the WPP 2024 inputs of ``country`` (UN M49) from 2020 to ``year``."""
    year = check_year(year)
    inputs = from_wpp(data, country, base_year=BASE_YEAR, end_year=max(year, BASE_YEAR + 1))
    n = year - BASE_YEAR + 1
    projected = project_population(inputs.years[:n], inputs.base_population, inputs.mx[:n],
                                   inputs.asfr[:n], inputs.srb[:n], inputs.net_migration[:n])
    steps = projected.births.sum(axis=1)
    births = float(steps[-1] if n == 1 else 0.5 * (steps[-2] + steps[-1]))
    return YearDemography(year, projected.population[-1], births)
