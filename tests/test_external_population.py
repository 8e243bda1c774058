"""An external population projection as a model's input (demography.external_projection,
the population_projection table): flows consistent with it, the model's own projection
given back from its own population, validation, and the engines following it."""

from __future__ import annotations

import numpy as np
import pytest
from model_factory import write_csv, write_small_model

import spfsim
from spfsim.demography import external_projection, project_population
from spfsim.errors import AssumptionError, SpfsimError

SEXES = ("male", "female")


def small_inputs(tmp_path):
    a = spfsim.load_model(write_small_model(tmp_path / "m")).assumptions
    return a, project_population(a.years, a.base_population, a.mx, a.asfr, a.srb,
                                 a.net_migration)


def test_its_own_population_gives_back_the_projection(tmp_path):
    """Fed the cohort-component projection's population, the external projection has its
    births, deaths and net migration (closed form: the same conventions)."""
    a, own = small_inputs(tmp_path)
    given = external_projection(a.years, own.population, a.mx, a.asfr, a.srb,
                                a.net_migration)
    for name in ("population", "births", "deaths", "net_migration", "survival",
                 "life_expectancy"):
        np.testing.assert_allclose(getattr(given, name), getattr(own, name), rtol=1e-9,
                                   atol=1e-6, err_msg=name)


def test_another_population_is_followed_with_consistent_flows(tmp_path):
    """A population 3 % larger at working ages from the fifth year: the projection is that
    population; the balance identity holds to rounding at every age; deaths are never
    negative and are the mortality's on the cohorts; the extra persons arrive as migrants."""
    a, own = small_inputs(tmp_path)
    population = own.population.copy()
    population[5:, 20:65] *= 1.03
    demo = external_projection(a.years, population, a.mx, a.asfr, a.srb, a.net_migration)
    np.testing.assert_array_equal(demo.population, population)
    assert (demo.deaths >= 0).all()
    for k in range(len(a.years) - 1):
        start = np.zeros_like(population[k])
        start[1:] = population[k][:-1]
        start[-1] += population[k][-1]
        start[0] = demo.births[k]
        np.testing.assert_allclose(population[k + 1],
                                   start - demo.deaths[k] + demo.net_migration[k],
                                   rtol=1e-12, atol=1e-9)
    extra = demo.net_migration.sum() - own.net_migration.sum()
    assert extra > 0.9 * (population - own.population)[5, 20:65].sum()


def with_projection(tmp_path, scale=1.0, base_offset=0.0, years=None):
    """The small model with its own projection (``scale``d from the second year) as its
    population_projection table."""
    folder = write_small_model(tmp_path / "p")
    a = spfsim.load_model(folder).assumptions
    own = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb,
                             a.net_migration).population
    rows = []
    for k, year in enumerate(a.years if years is None else years):
        factor = 1.0 if k == 0 else scale
        for age in range(101):
            for s, sex in enumerate(SEXES):
                value = own[min(k, len(own) - 1), age, s] * factor + (base_offset if k == 0
                                                                      and age == 30 else 0)
                rows.append([int(year), age, sex, f"{value:.10f}"])
    write_csv(folder / "assumptions" / "population_projection.csv",
              ["year", "age", "sex", "population"], rows)
    with (folder / "assumptions" / "assumptions.toml").open("a") as handle:
        handle.write('\n[tables.population_projection]\nfile = "population_projection.csv"\n')
    return folder


@pytest.mark.slow  # 12 s without JIT (a micro run); it checks data flow, not compiled code
def test_a_model_follows_its_population_projection(tmp_path):
    """Both engines: the cohort engine's population is the table's; the micro engine's,
    weighted, within sampling error of it."""
    folder = with_projection(tmp_path, scale=1.05)
    model = spfsim.load_model(folder)
    table = model.assumptions.population_projection
    ds = model.project()
    np.testing.assert_allclose(ds["population"].transpose("year", "age", "sex").values,
                               table, rtol=1e-9)
    micro = model.project("micro", persons=20_000, seed=3)
    total = micro["population"].sum(["age", "sex"]).values
    np.testing.assert_allclose(total, table.sum(axis=(1, 2)), rtol=0.02)
    with pytest.raises(SpfsimError, match="external population projection"):
        model.sensitivity()


def test_a_bad_population_projection_is_named(tmp_path):
    folder = with_projection(tmp_path, base_offset=7.0)
    with pytest.raises(AssumptionError) as info:
        spfsim.load_model(folder)
    problem = next(p for p in info.value.problems if p.field == "population")
    assert "population_projection.csv" in problem.file
    assert "age 30" in problem.message
    short = with_projection(tmp_path / "s", years=np.arange(2025, 2040))
    with pytest.raises(AssumptionError, match="end year"):
        spfsim.load_model(short)
