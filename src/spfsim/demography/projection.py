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

Net emigration cannot take more people than a cohort holds: where the assumed net migration
M would leave fewer than zero, it is reduced to the most that leaves exactly zero,
M = -2 S P / (1 + S) for a cohort P with survival ratio S. ``net_migration`` reports the
migration applied (so the balance identity holds) and ``emigration_capped`` what was cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    import xarray as xr

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
    emigration_capped: np.ndarray  # (year, age, sex) emigrants assumed but not applied (>= 0)
    survival: np.ndarray | None = None  # (year, age at the end, sex) survival ratio of a step

    def to_dataset(self) -> xr.Dataset:
        """The demographic variables of the results contract, with units and long names."""
        import xarray as xr  # only here: the engines need no xarray

        return xr.Dataset(*self.variables())

    def variables(self) -> tuple[dict[str, xr.Variable], dict[str, tuple]]:
        """:meth:`to_dataset`'s variables and coordinates, for a Dataset built with
        others (results.assemble)."""
        import xarray as xr
        yas, ys = ("year", "age", "sex"), ("year", "sex")
        step = "from 1 July of year to 1 July of year+1"

        def var(dims, data, units, long_name):
            return xr.Variable(dims, data, attrs={"units": units, "long_name": long_name})

        return (
            {
                "population": var(yas, self.population, "persons", "population at 1 July"),
                "births": var(ys, self.births, "persons", f"live births {step}"),
                "deaths": var(yas, self.deaths, "persons", f"deaths {step}, by age at the end"),
                "net_migration": var(yas, self.net_migration, "persons",
                                     f"net migrants {step}, by age at the end"),
                "emigration_capped": var(ys, self.emigration_capped.sum(axis=1), "persons",
                                         "assumed net emigration that exceeded the cohorts "
                                         "and was not applied"),
                "life_expectancy": var(ys, self.life_expectancy, "years",
                                       "period life expectancy at birth"),
            },
            {
                "year": ("year", self.years.astype("int64"), {"long_name": "calendar year"}),
                "age": ("age", np.arange(self.population.shape[1], dtype="int64"),
                        {"long_name": "age in completed years at 1 July", "units": "years",
                         "note": "the last age is the open group (100 = 100 and over)"}),
                "sex": ("sex", np.array(SEXES, dtype=object)),
            },
        )


class DemographicInputs(Protocol):
    """What a projection needs; WPPDemography and the model's Assumptions both have it."""

    years: np.ndarray
    base_population: np.ndarray
    mx: np.ndarray
    asfr: np.ndarray
    srb: np.ndarray
    net_migration: np.ndarray


def project(assumptions: DemographicInputs, end_year: int | None = None) -> xr.Dataset:
    """Project demographic assumptions to ``end_year`` (default: their last year).

    Returns a Dataset with ``population(year, age, sex)`` in persons at 1 July, births,
    deaths, net migration, life expectancy and capped emigration.
    """
    a = assumptions
    n = len(a.years) if end_year is None else int(end_year) - int(a.years[0]) + 1
    if not 1 <= n <= len(a.years):
        raise ValueError(f"end_year must be within {a.years[0]}..{a.years[-1]}")
    return project_population(a.years[:n], a.base_population, a.mx[:n], a.asfr[:n],
                              a.srb[:n], a.net_migration[:n]).to_dataset()


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
    Net emigration beyond a cohort's size is capped (see the module docstring).
    """
    n, n_age = len(years), base_population.shape[0]
    population = np.zeros((n, n_age, 2))
    deaths = np.zeros((n, n_age, 2))
    applied = np.array(net_migration, dtype=float)
    births = np.zeros((n, 2))
    e0, survival_ratios = _step_survival(mx)
    population[0] = base_population
    for k in range(n):
        ratio = survival_ratios[k]
        start = _aged(population[k])
        # women's exposure needs the end-of-step population of ages >= 1 before births
        migrants = _cap_emigration(applied[k], start, ratio)
        end = (start + 0.5 * migrants) * ratio + 0.5 * migrants
        mean_women = 0.5 * (population[k][:, FEMALE] + end[:, FEMALE])
        total_births = float(asfr[k] @ mean_women)
        births[k] = total_births * np.array([srb[k], 1.0]) / (1.0 + srb[k])
        start[0] = births[k]
        migrants[0] = _cap_emigration(applied[k, :1], start[:1], ratio[:1])[0]
        applied[k] = migrants
        # the cohort's exposure; an emigration capped to empty it exactly can leave a
        # rounding residue below zero (-6e-35 found by hypothesis), which is no one
        deaths[k] = np.maximum(start + 0.5 * migrants, 0.0) * (1.0 - ratio)
        if k + 1 < n:
            # from the identity, so that it holds to rounding whatever the rates
            population[k + 1] = np.maximum(start - deaths[k] + migrants, 0.0)
    return DemographicProjection(years, population, births, deaths, applied, e0,
                                 applied - np.asarray(net_migration), survival_ratios)


def external_projection(years: np.ndarray, population: np.ndarray, mx: np.ndarray,
                        asfr: np.ndarray, srb: np.ndarray,
                        net_migration: np.ndarray) -> DemographicProjection:
    """A projection whose population (year, age, sex) is given: an external projection (a
    statistics office's, the US Trustees') that the model follows instead of its own.

    The flows are made consistent with it, step by step, by the conventions of
    :func:`project_population`:

    - births come from the fertility ``asfr`` on the women of the start and the end of the
      step, split by ``srb``;
    - net migrants are the balance: M = 2 (P[t+1] - S x start) / (1 + S) for a cohort
      ``start`` (its age at the end of the step) with survival ratio S of ``mx``, so that
      P[t+1] = (start + M / 2) S + M / 2;
    - deaths are (start + M / 2)(1 - S) = (start + P[t+1]) (1 - S) / (1 + S), never
      negative.

    So the balance identity holds exactly, and the engines, which draw deaths from ``mx``,
    births from ``asfr`` and migration from ``net_migration``, follow the given population.
    The last year's step goes beyond the given years: it is the model's own, with its
    ``net_migration``. Fed a population of :func:`project_population`, it gives back that
    projection's flows.
    """
    n, n_age = len(years), population.shape[1]
    births, deaths = np.zeros((n, 2)), np.zeros((n, n_age, 2))
    migration = np.zeros((n, n_age, 2))
    e0, survival_ratios = _step_survival(np.asarray(mx, dtype=float)[:n - 1])
    e0 = np.concatenate([e0, np.zeros((1, 2))])
    survival_ratios = np.concatenate([survival_ratios, np.zeros((1, n_age, 2))])
    for k in range(n - 1):
        ratio = survival_ratios[k]
        start, end = _aged(population[k]), population[k + 1]
        mean_women = 0.5 * (population[k][:, FEMALE] + end[:, FEMALE])
        births[k] = float(asfr[k] @ mean_women) * np.array([srb[k], 1.0]) / (1.0 + srb[k])
        start[0] = births[k]  # age 0: the step's births
        migration[k] = 2.0 * (end - start * ratio) / (1.0 + ratio)
        deaths[k] = np.maximum(start + 0.5 * migration[k], 0.0) * (1.0 - ratio)
    last = project_population(years[-1:], population[-1], mx[-1:], asfr[-1:], srb[-1:],
                              net_migration[-1:])
    births[-1], deaths[-1], migration[-1] = last.births[0], last.deaths[0], \
        last.net_migration[0]
    e0[-1], survival_ratios[-1] = last.life_expectancy[0], last.survival[0]
    capped = np.zeros((n, n_age, 2))
    capped[-1] = last.emigration_capped[0]
    return DemographicProjection(years, np.array(population, dtype=float), births, deaths,
                                 migration, e0, capped, survival_ratios)


def _step_survival(mx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Life expectancy at birth (year, sex) and the survival ratios (year, age at the end
    of the step, sex) of the steps with the central death rates ``mx`` (year, age, sex):
    the birth cohort's at age 0. The rates do not depend on the population, so every
    year's tables are built at once (row by row the same arithmetic)."""
    mx = np.asarray(mx, dtype=float)
    ratio, e0 = np.zeros(mx.shape), np.zeros((mx.shape[0], 2))
    for s in range(2):
        table = LifeTable.from_mx(mx[..., s], SEXES[s])
        ratio[:, 0, s], ratio[:, 1:, s] = table.projection_survival()
        e0[:, s] = table.ex[..., 0]
    return e0, ratio


def _aged(population: np.ndarray) -> np.ndarray:
    """The cohorts of ``population`` (age, sex) by their age at the end of the step (age
    0 empty: the step's births; the oldest two together)."""
    start = np.zeros_like(population, dtype=float)
    start[1:] = population[:-1]
    start[-1] += population[-1]
    return start


def _cap_emigration(migrants: np.ndarray, start: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """Net migration no lower than what leaves the cohort exactly empty at the end."""
    floor = -2.0 * start * ratio / (1.0 + ratio)
    return np.maximum(migrants, floor)


def emigration_probability(population: np.ndarray, net_migration: np.ndarray,
                           survival: np.ndarray, weight: float = 1.0) -> np.ndarray:
    """(..., age, sex) probability that a resident emigrates during the step, by age at
    its start (1 July), so that the net emigrants of each end age leave.

    ``population`` (..., age, sex): residents at the start of the step (persons, or
    simulated persons each standing for ``weight``); ``net_migration`` and ``survival``
    (..., age, sex): by age at the end. Net migrants M leave evenly over the year, so
    M (1 + S) / 2 are missing at its end from a cohort that would be P S (the
    projection's convention); ages with net immigration have none.
    """
    present = net_migration * (1.0 + survival) / 2.0 / weight
    starting = np.zeros_like(present)
    starting[..., 1:, :] = population[..., :-1, :]
    starting[..., -1, :] += population[..., -1, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        p_end = np.where(starting * survival > 0, -present / (starting * survival), 0.0)
    p_end = np.clip(np.where(present < 0, p_end, 0.0), 0.0, 1.0)
    p_start = np.zeros_like(p_end)
    p_start[..., :-1, :] = p_end[..., 1:, :]  # a person aged a at the start ends aged a + 1
    p_start[..., -1, :] = p_end[..., -1, :]
    return p_start
