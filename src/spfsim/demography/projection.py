"""Annual cohort-component projection by single year of age (0..100+) and sex.

Populations are at 1 July (mid-year). The step from mid-year t to mid-year t+1 uses the
rates of year t (mortality, fertility, sex ratio at birth) and the net migrants of year t.
Flows of year t are those of that step, by age at its end (the age at 1 July of t+1), so the
balance identity reads, for every age a and sex::

    P[t+1, a]   = P[t, a-1] - deaths[t, a] + net_migration[t, a]          (1 <= a < 100)
    P[t+1, 0]   = births[t] - deaths[t, 0] + net_migration[t, 0]
    P[t+1, 100] = P[t, 99] + P[t, 100] - deaths[t, 100] + net_migration[t, 100]

Net migrants arrive evenly over the year: half are exposed to the step's mortality (the UN
Population Division's mid-period convention). Births use the mean of the female population
at the start and end of the step (the exposure of women of each age during the year).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ProjectionError
from .lifetable import LifeTable

SEXES = ("male", "female")
FEMALE = 1


@dataclass
class DemographicProjection:
    """Projected population and flows; arrays over (year, age, sex) unless noted.

    ``population[k]`` is at 1 July of ``years[k]``; the flows ``births`` (year, sex),
    ``deaths`` and ``net_migration`` are those of the step from ``years[k]`` to the next
    year (for the last year, the step beyond the horizon). ``life_expectancy`` (year, sex)
    is e(0) of each year's period life table.
    """

    years: np.ndarray
    population: np.ndarray
    births: np.ndarray
    deaths: np.ndarray
    net_migration: np.ndarray
    life_expectancy: np.ndarray


def project_population(
    years: np.ndarray,
    base_population: np.ndarray,
    mx: np.ndarray,
    asfr: np.ndarray,
    srb: np.ndarray,
    net_migration: np.ndarray,
) -> DemographicProjection:
    """Project ``base_population`` (age, sex) over ``years`` with the given rates.

    ``mx`` (year, age, sex) central death rates; ``asfr`` (year, age) births per woman-year;
    ``srb`` (year,) males per female at birth; ``net_migration`` (year, age, sex) persons.
    Raises ProjectionError when migration would empty a cohort below zero.
    """
    n, n_age = len(years), base_population.shape[0]
    population = np.zeros((n, n_age, 2))
    deaths = np.zeros((n, n_age, 2))
    births = np.zeros((n, 2))
    e0 = np.zeros((n, 2))
    population[0] = base_population
    for k in range(n):
        tables = [LifeTable.from_mx(mx[k, :, s], SEXES[s]) for s in range(2)]
        e0[k] = [t.ex[0] for t in tables]
        survival = [t.projection_survival() for t in tables]
        migrants = net_migration[k]
        start = np.zeros((n_age, 2))  # cohorts by their age at the end of the step
        start[1:] = population[k][:-1]
        start[-1] += population[k][-1]
        ratio = np.zeros((n_age, 2))
        for s, (_, s_x) in enumerate(survival):
            ratio[1:, s] = s_x
        # women's exposure at end of step is needed for births: ages >= 1 first
        exposed = start + 0.5 * migrants
        end = exposed * ratio + 0.5 * migrants
        mean_women = 0.5 * (population[k][:, FEMALE] + end[:, FEMALE])
        total_births = float(asfr[k] @ mean_women)
        births[k] = total_births * np.array([srb[k], 1.0]) / (1.0 + srb[k])
        start[0] = births[k]
        exposed[0] = births[k] + 0.5 * migrants[0]
        ratio[0] = [s_birth for s_birth, _ in survival]
        end[0] = exposed[0] * ratio[0] + 0.5 * migrants[0]
        if (exposed < 0).any():
            a, s = np.argwhere(exposed < 0)[0]
            raise ProjectionError(
                f"net migration in {years[k]} empties the cohort aged {a} ({SEXES[s]}) at "
                f"1 July {years[k] + 1}: {migrants[a, s]:.0f} migrants for "
                f"{start[a, s]:.0f} persons")
        deaths[k] = exposed * (1.0 - ratio)
        if k + 1 < n:
            # from the identity, not from `end`, so it holds to rounding whatever the rates
            population[k + 1] = start - deaths[k] + migrants
    return DemographicProjection(years, population, births, deaths,
                                 net_migration.copy(), e0)
