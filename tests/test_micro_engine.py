"""The micro engine as a whole: reproducibility, common random numbers, convergence."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from replication import replication_t, run_with_threads

import spfsim
from spfsim.demography import project_population
from spfsim.economy import project_economy
from spfsim.engine.micro.engine import MicroSettings, run_micro
from spfsim.engine.micro.store import INACTIVE, INFORMAL

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")


def data_arrays(ds) -> dict[str, np.ndarray]:
    return {name: ds[name].values for name in ds.data_vars}


def assert_bitwise_equal(a, b) -> None:
    left, right = data_arrays(a), data_arrays(b)
    assert left.keys() == right.keys()
    for name in left:
        assert np.array_equal(left[name], right[name], equal_nan=True), name


def test_micro_dataset_follows_the_contract(small_model_dir):
    ds = spfsim.load_model(small_model_dir).project("micro", persons=3000, seed=5)
    assert ds.attrs["engine"] == "micro"
    assert ds.attrs["seed"] == "5"
    assert ds.attrs["persons"] == 3000
    for name in ("population", "contributors", "beneficiaries", "benefit_expenditure",
                 "credited_years_at_award", "contribution_density_at_award",
                 "service_at_award"):
        assert ds[name].attrs["units"]
    assert "sex" in ds["credited_years_at_award"].dims
    # weighted to the population: the base year is the base population exactly
    model = spfsim.load_model(small_model_dir)
    assert float(ds["population"].isel(year=0).sum()) == pytest.approx(
        model.assumptions.base_population.sum(), rel=1e-12)


def test_identical_for_any_chunk_size(small_model_dir):
    model = spfsim.load_model(small_model_dir)
    a = model.project("micro", persons=4000, seed=11, chunk_size=97)
    b = model.project("micro", persons=4000, seed=11, chunk_size=4096)
    assert_bitwise_equal(a, b)
    c = model.project("micro", persons=4000, seed=12, chunk_size=97)
    assert not np.array_equal(a["contributors"].values, c["contributors"].values)


@pytest.mark.slow
def test_identical_for_one_and_two_threads(small_model_dir, tmp_path):
    script = textwrap.dedent(f"""
        import json, sys, spfsim
        ds = spfsim.load_model({str(small_model_dir)!r}).project("micro", persons=20000,
                                                                  seed=3, chunk_size=1024)
        ds.to_netcdf(sys.argv[1])
        import numba; print(json.dumps(numba.get_num_threads()))
    """)
    outputs = [run_with_threads(script, tmp_path / f"threads{n}.nc", n) for n in (1, 2)]
    import xarray as xr

    with xr.open_dataset(outputs[0]) as one, xr.open_dataset(outputs[1]) as two:
        assert_bitwise_equal(one, two)


def simulate(model, persons=5000, seed=21, **settings):
    a = model.assumptions
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb, a.net_migration)
    econ = project_economy(a, demo.population)
    return run_micro(a, demo, econ, MicroSettings(persons, seed, chunk_size=512, **settings))


@pytest.mark.slow  # statistical: with the JIT off it takes half a minute
def test_labour_states_follow_the_labour_projection(small_model_dir):
    model = spfsim.load_model(small_model_dir)
    ds = model.project("micro", persons=40_000, seed=8)
    cohort = model.project()
    status = ds["persons_by_status"].sel(age=slice(20, 55)).sum(("age", "sex"))
    employed = cohort["employed"].sel(age=slice(20, 55)).sum(("age", "sex"))
    labour = cohort["labour_force"].sel(age=slice(20, 55)).sum(("age", "sex"))
    population = cohort["population"].sel(age=slice(20, 55)).sum(("age", "sex"))
    expected = {"informal": employed * 0.6, "unemployed": labour - employed,
                "inactive": population - labour, "employee_contributing": employed * 0.4}
    weight = ds.attrs["weight"]
    for name, value in expected.items():
        simulated = status.sel(status=name).values / weight  # persons simulated
        wanted = value.values / weight
        z = (simulated - wanted) / np.sqrt(wanted)  # binomial sd <= sqrt(expected count)
        assert np.abs(z).max() < 4.0, (name, np.abs(z).max())


@pytest.mark.slow  # statistical: with the JIT off it takes half a minute
def test_self_employed_and_disabled_states_follow_their_shares(small_model_dir):
    labour = small_model_dir / "assumptions" / "labour.csv"
    lines = labour.read_text().splitlines()
    rows = [lines[0] + ",self_employed_share,disability_prevalence"]
    for line in lines[1:]:
        age = int(line.split(",")[0])
        rows.append(line + f",0.3,{0.06 if age >= 40 else 0.0}")
    labour.write_text("\n".join(rows) + "\n")
    model = spfsim.load_model(small_model_dir)
    ds = model.project("micro", persons=40_000, seed=8)
    cohort = model.project()
    weight = ds.attrs["weight"]
    status = ds["persons_by_status"].sel(age=slice(40, 55)).sum(("age", "sex"))
    contributors = cohort["contributors"].sel(scheme="pension", age=slice(40, 55))
    expected = {
        "self_employed_contributing": 0.3 * contributors.sum(("age", "sex")),
        "employee_contributing": 0.7 * contributors.sum(("age", "sex")),
        "disabled": 0.06 * cohort["population"].sel(age=slice(40, 55)).sum(("age", "sex")),
    }
    for name, value in expected.items():
        simulated, wanted = status.sel(status=name).values / weight, value.values / weight
        z = (simulated - wanted) / np.sqrt(wanted)
        assert np.abs(z).max() < 4.0, (name, np.abs(z).max())


@pytest.mark.parametrize("persistence", [0.0, 0.9])
def test_labour_persistence_controls_who_stays(small_model_dir, persistence):
    """With the same draws, persons present in the first two years keep their state far
    more often with persistence 0.9 than 0 (where the chance is about the state's share)."""
    model1 = spfsim.load_model(small_model_dir, end_year=2025)
    model2 = spfsim.load_model(small_model_dir, end_year=2026)
    first = simulate(model1, persons=20_000, labour_persistence=persistence).store.view()
    second = simulate(model2, persons=20_000, labour_persistence=persistence).store.view()
    _, i1, i2 = np.intersect1d(first["pid"], second["pid"], return_indices=True)
    s1, s2, age = first["status"][i1], second["status"][i2], first["age"][i1]
    # men of 30-50: the small model's labour shares are the same at every such age, so
    # informal and inactive men face the same targets
    prime = (age >= 30) & (age <= 50) & (first["sex"][i1] == 0)
    kept = float((s2[(s1 == INFORMAL) & prime] == INFORMAL).mean())
    moved_in = float((s2[(s1 == INACTIVE) & prime] == INFORMAL).mean())
    if persistence == 0.0:  # last year's state among non-contributors does not matter
        n = min(((s1 == INFORMAL) & prime).sum(), ((s1 == INACTIVE) & prime).sum())
        assert kept == pytest.approx(moved_in, abs=4 * np.sqrt(0.25 / n) * np.sqrt(2))
    else:
        assert kept > 0.85
        assert kept > moved_in + 0.3


@pytest.mark.slow  # several projections: CI's fast JIT-off subset skips it
def test_reform_of_the_pension_formula_keeps_every_other_history(small_model_dir):
    """Common random numbers: a reform that changes only the accrual rate leaves every
    person's demographic and contribution history unchanged, person by person."""
    baseline = simulate(spfsim.load_model(small_model_dir))
    toml = small_model_dir / "model.toml"
    toml.write_text(toml.read_text().replace("accrual_rate = 0.02", "accrual_rate = 0.025"))
    reform = simulate(spfsim.load_model(small_model_dir))
    before, after = baseline.store.view(), reform.store.view()
    for name in ("pid", "status", "age", "sex", "birth_year", "service", "credits",
                 "lifetime_contributions"):
        assert np.array_equal(before[name], after[name]), name
    retired = before["status"] == 3
    assert retired.sum() > 50
    assert (after["pension"][retired] > before["pension"][retired]).any()
    assert np.array_equal(baseline.demography.population, reform.demography.population)


def test_population_and_fund_identities_hold_in_the_micro_engine(small_model_dir):
    from spfsim.checks import fund_balance_residual, population_balance_residual

    ds = spfsim.load_model(small_model_dir).project("micro", persons=3000, seed=2)
    assert population_balance_residual(ds) < 1e-9
    assert fund_balance_residual(ds, np.array([5.0e7, 0.0])) < 1e-9


@pytest.mark.slow
def test_converges_to_the_cohort_engine():
    """Default model, 2025-2074 (50 years): the micro engine is unbiased for the cohort
    engine's expected values.

    R = 20 independent replications of 200,000 persons. For every scheme and quantity
    (contributors, beneficiaries, contribution income, benefit expenditure):

    - per year, t = (mean of the replications - cohort) / (sd / sqrt(R)), Student t with
      19 degrees of freedom without bias: |t| <= 5.5 everywhere (probability 2.7e-5 per
      value; the default model has about 1,500 of them, strongly correlated, so a false
      alarm is below 5 %; with R = 10 the t tails were heavy enough to give one);
    - over the horizon, the same statistic of each replication's mean relative
      difference: |T| <= 4.5 for every scheme and quantity (2.5e-4 each).

    Standard errors are measured at the size tested: the micro engine's variance does
    not fall exactly as 1/persons in this model (population: about persons^-0.6 between
    50,000 and 400,000), so scaling a small run's spread to a large run understates it.
    Years are strongly correlated (pension stocks persist), which is why the horizon-wide
    statistic is one value per series rather than a mean over years.

    Household poverty is not measured (poverty=False, a third faster): no scheme of the
    default model is tested on the household's income, so no number compared here is
    paid in that pass (tests/test_poverty.py checks it).
    """
    replications = 20
    model = spfsim.load_model(end_year=2074)
    cohort = model.project()
    quantities = {
        "contributors": lambda ds: ds["contributors"].sum(("age", "sex")),
        "beneficiaries": lambda ds: ds["beneficiaries"].sum(("age", "sex")),
        "contribution_income": lambda ds: ds["contribution_income"],
        "benefit_expenditure": lambda ds: ds["benefit_expenditure"],
    }
    assert not any(s.type == "minimum_income" or s.choices.get("means_test") == "household"
                   for s in model.input.schemes)
    runs = [model.project("micro", persons=200_000, seed=100 + r, poverty=False)
            for r in range(replications)]
    tested = 0
    for name, get in quantities.items():
        expected = get(cohort).transpose("year", "scheme").values
        sims = np.stack([get(ds).transpose("year", "scheme").values for ds in runs])
        for j in range(expected.shape[1]):
            if not (expected[:, j] > 0).all():
                continue  # e.g. contributions of a tax-financed scheme
            t, big_t = replication_t(sims[:, :, j], expected[:, j])
            assert np.abs(t).max() <= 5.5, (name, j, np.abs(t).max())
            assert abs(big_t) <= 4.5, (name, j, big_t)
            tested += 1
    assert tested >= 12


@pytest.mark.slow  # statistical: with the JIT off it takes half a minute
def test_exact_alignment_matches_each_cell_to_one_person(small_model_dir):
    """alignment="exact": contributors in every age x sex cell are the expected number
    (density x simulated cell size) rounded up or down, never further off."""
    model = spfsim.load_model(small_model_dir)
    ds = model.project("micro", persons=20_000, seed=6, alignment="exact")
    cohort = model.project()
    weight = ds.attrs["weight"]
    simulated = ds["contributors"].sel(scheme="pension").values / weight
    population = ds["population"].values / weight
    density = np.divide(cohort["contributors"].sel(scheme="pension").values,
                        cohort["population"].values,
                        out=np.zeros_like(population), where=cohort["population"].values > 0)
    working = (ds["age"].values >= 15) & (ds["age"].values <= 58)
    gap = np.abs(simulated - density * population)[:, working]
    assert gap.max() < 1.0 + 1e-6
    expected_mode = model.project("micro", persons=20_000, seed=6)
    loose = np.abs(expected_mode["contributors"].sel(scheme="pension").values / weight
                   - density * expected_mode["population"].values / weight)[:, working]
    assert loose.max() > 3.0  # without exact alignment cells scatter binomially


@pytest.mark.slow  # several projections: CI's fast JIT-off subset skips it
def test_exact_alignment_is_reproducible_and_keeps_careers(small_model_dir):
    model = spfsim.load_model(small_model_dir)
    a = model.project("micro", persons=5000, seed=9, alignment="exact", chunk_size=101)
    b = model.project("micro", persons=5000, seed=9, alignment="exact", chunk_size=4096)
    assert_bitwise_equal(a, b)
    # persistence survives the selection: pensions still pile up on full careers
    service = a["credited_years_at_award"].sel(scheme="pension").isel(year=-1)
    expected = model.project("micro", persons=5000, seed=9)["credited_years_at_award"]
    assert float(abs(service - expected.sel(scheme="pension").isel(year=-1)).max()) < 3.0


@pytest.mark.slow  # several projections: CI's fast JIT-off subset skips it
def test_exact_alignment_keeps_the_careers_of_the_cohort_engine():
    """10 micro runs of 40,000 persons of the default model to 2045 with exact alignment
    (seeds 70-79) unbiased for the cohort engine on new pensions' credited years and
    average amount: |t| per year at most 5.5 (9 degrees of freedom), over the horizon
    4.5. Exact alignment chose each cell's contributors by weighted sampling without
    replacement before, which chose continuing contributors less often than their
    probability of staying: new pensions had 2.8 % fewer credited years and 4.1 % lower
    amounts than the cohort engine (horizon t -10.8 and -14.2 with 4 runs of 200,000)."""
    model = spfsim.load_model(end_year=2045)
    cohort = model.project()
    runs = [model.project("micro", persons=40_000, seed=70 + r, alignment="exact")
            for r in range(10)]

    def awarded(ds, name):
        value, new = (ds[v].sel(scheme="pension") for v in (name, "new_beneficiaries"))
        return ((value * new).sum("sex") / new.sum("sex")).values

    for name in ("credited_years_at_award", "average_new_benefit"):
        simulated, expected = np.stack([awarded(ds, name) for ds in runs]), awarded(
            cohort, name)
        some = np.isfinite(simulated).all(axis=0) & np.isfinite(expected)
        t, big_t = replication_t(simulated[:, some], expected[some])
        assert np.abs(t).max() <= 5.5, (name, np.abs(t).max())
        assert abs(big_t) <= 4.5, (name, big_t)


@pytest.mark.slow  # several projections: CI's fast JIT-off subset skips it
def test_alignment_off_lets_cells_drift(small_model_dir):
    """alignment="off" takes transitions from the projection's expected composition, so
    each cell's contributors scatter more around density x simulated size than with the
    default alignment, while the total still follows the projection."""
    model = spfsim.load_model(small_model_dir)
    cohort = model.project()
    density = np.divide(cohort["contributors"].sel(scheme="pension").values,
                        cohort["population"].values, out=np.zeros((21, 101, 2)),
                        where=cohort["population"].values > 0)
    spread = {}
    for alignment in ("expected", "off"):
        ds = model.project("micro", persons=30_000, seed=12, alignment=alignment)
        simulated = ds["contributors"].sel(scheme="pension").values
        gap = simulated - density * ds["population"].values
        spread[alignment] = float(np.sqrt((gap[:, 20:55] ** 2).mean()))
        total = simulated.sum(axis=(1, 2)) / cohort["contributors"].sel(
            scheme="pension").sum(("age", "sex")).values
        assert np.abs(total - 1).max() < 0.05, alignment
    assert spread["off"] > 1.2 * spread["expected"]
    with pytest.raises(spfsim.SpfsimError, match="alignment must be"):
        model.project("micro", persons=100, alignment="sometimes")
