"""A share of each birth cohort never in the pension's covered employment
(``never_covered_share``): it never contributes, has no pension of its own, and the covered
workers are the others', in both engines."""

from __future__ import annotations

import numpy as np
import pytest
from replication import replication_t

import spfsim
from spfsim.errors import AssumptionError, SpfsimError

# dated by year of birth: women born before 1980 less often covered
SHARES = {"male": 0.5, "female": {1900: 0.7, 1980: 0.6}}


def with_shares(model: spfsim.Model, shares=SHARES) -> spfsim.Model:
    return model.with_parameters({"pension": {"never_covered_share": shares}})


@pytest.fixture(scope="module")
def model() -> spfsim.Model:
    return spfsim.load_model(end_year=2060)


def test_shares_by_birth_year_and_sex(model):
    """Read at each cell's year of birth; a cohort born before the first date takes its
    value; no share (or zeros) is None, so that such a model keeps its arithmetic."""
    assert model.assumptions.schemes[0].covered_shares(np.array([2025])) is None
    covered = with_shares(model).assumptions.schemes[0].covered_shares(np.array([2025, 2030]))
    assert covered.shape == (2, 101, 2)
    np.testing.assert_allclose(covered[..., 0], 0.5)
    women = covered[..., 1]
    assert women[0, 45] == pytest.approx(0.4)  # born 1980
    assert women[0, 46] == pytest.approx(0.3)  # born 1979
    assert women[1, 50] == pytest.approx(0.4)  # born 1980
    assert women[0, 100] == pytest.approx(0.3)  # born 1925: before 1980
    assert with_shares(model, 0.0).assumptions.schemes[0].covered_shares(
        np.array([2025])) is None


def test_a_share_beyond_its_bound_or_the_coverage_is_refused(model):
    with pytest.raises(AssumptionError, match="never_covered_share") as info:
        with_shares(model, 0.96)
    assert info.value.problems[0].value == 0.96
    # the default model covers up to 34 % of the men of an age: 0.8 never covered leaves
    # 0.2, too few
    with pytest.raises(SpfsimError, match=r"never_covered_share leaves 0\.2 of the men "
                       r"born in \d+ coverable.*value: 0\.8"):
        with_shares(model, {"male": 0.8, "female": 0.5}).project()


def _state(model: spfsim.Model, years: int):
    """The cohort engine's pension state after ``years`` projection years, and the
    scheme."""
    from spfsim.demography import project_population
    from spfsim.economy import project_economy
    from spfsim.engine.cohort import base_year_state, pension_inputs

    a = model.assumptions
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb,
                              a.net_migration)
    scheme = a.schemes[0]
    classes, inputs = pension_inputs(scheme, a, demo, project_economy(a, demo.population))
    state = base_year_state(scheme, a, inputs(0), classes)
    for k in range(years):
        y = inputs(k)
        state.step(y)
        state.advance(y)
    return state, scheme


@pytest.mark.parametrize("years", [0, 12])
def test_the_never_covered_stay_outside_the_pension_state(model, years):
    """Below the pensionable age nobody leaves the members but by disability, so the
    members (active and disability pensioners) are exactly the cell's covered share, its
    cohort's 1 - never_covered_share: in the reconstructed base year and later."""
    state, scheme = _state(with_shares(model), years)
    year = int(model.assumptions.years[years])
    covered = scheme.covered_shares(np.array([year]))[0]
    youngest = int(scheme.retirement_age_grid[years].min())
    members = state.active.sum(axis=(2, 3, 4)) + state.invalid.sum(axis=(2, 3))
    np.testing.assert_allclose(members[:youngest], covered[:youngest], rtol=0, atol=1e-12)
    # and above it, a member's pension or leaving never makes more than the cohort's share
    own = members + state.pensioners.sum(axis=2)
    assert (own <= covered + 1e-12).all()


def test_contributors_fill_the_covered_workers_and_own_pensions_stay_within(model):
    """The covered workers are the labour projection's whatever the share never covered
    (they are all among the others); own pensions, old-age and disability, never exceed
    the covered share of the population of their age and sex."""
    base = model.project()
    ds = with_shares(model).project()
    pension = ds.sel(scheme="pension")
    np.testing.assert_allclose(pension["contributors"], base.sel(scheme="pension")[
        "contributors"], rtol=1e-9)
    scheme = with_shares(model).assumptions.schemes[0]
    covered = scheme.covered_shares(model.assumptions.years)
    own = pension["pensions_by_age"].sel(pension=["old_age", "disability"]).sum("pension")
    assert (own.values <= covered * ds["population"].values * (1 + 1e-9)).all()
    # the careers are denser: more of the covered reach the minimum service
    old_age = pension["pensions_by_age"].sel(pension="old_age").sum(["age", "sex"])
    before = base.sel(scheme="pension")["pensions_by_age"].sel(pension="old_age").sum(
        ["age", "sex"])
    assert (old_age > before).all()


@pytest.mark.slow
def test_the_engines_agree_with_a_share_never_covered(model):
    """8 micro replications of 200,000 persons (seeds 70-77) unbiased for the cohort
    engine on what the share never covered moves: old-age pensions in payment (+15-24 %
    against none never covered), new pensions' average amount and credited years, and the
    pension's expenditure; |t| per year at most 5.5 (7 degrees of freedom) and over the
    horizon 4.5 (averages of new pensions: the years that award some).

    Not 40,000 persons, as for care credits: with 40 to 70 % of each cell never covered,
    an age and sex holds a few dozen simulated members, and their contributing, drawn from
    probabilities aligned on the cell's own counts, gives new pensions 1.5 % fewer
    credited years than the cohort engine in 2026-2045 (horizon t -5.9 with 10 runs);
    with 400,000 persons 0.06 % (t 0.5): a small-cell effect of the alignment, not of the
    rule."""
    shared = with_shares(model)
    cohort = shared.project()
    runs = [shared.project("micro", persons=200_000, seed=70 + r) for r in range(8)]

    def series(ds, name):
        value = ds[name].sel(scheme="pension")
        if name == "pensions_by_age":
            return value.sel(pension="old_age").sum(["age", "sex"]).values
        if name in ("average_new_benefit", "credited_years_at_award"):
            new = ds["new_beneficiaries"].sel(scheme="pension")
            return ((value * new).sum("sex") / new.sum("sex")).values
        return value.values

    for name in ("pensions_by_age", "average_new_benefit", "credited_years_at_award",
                 "benefit_expenditure"):
        simulated, expected = np.stack([series(ds, name) for ds in runs]), series(
            cohort, name)
        # the years with new pensions (none where the pensionable age rises)
        some = np.isfinite(simulated).all(axis=0) & np.isfinite(expected)
        assert some.sum() >= 30, name
        t, big_t = replication_t(simulated[:, some], expected[some])
        assert np.abs(t).max() <= 5.5, (name, np.abs(t).max())
        assert abs(big_t) <= 4.5, (name, big_t)


def test_a_person_file_with_a_share_never_covered_is_refused(small_model_dir, tmp_path):
    """A person file's persons bring their own coverage history: a share never covered
    on top of it would stop some of its contributors, so the run is refused, naming the
    field."""
    from test_micro_persons import full_file

    path = full_file(tmp_path / "persons.csv")
    model = with_shares(spfsim.load_model(small_model_dir), 0.1)
    with pytest.raises(SpfsimError, match="never_covered_share with a person file"):
        model.project("micro", persons=2000, seed=3, person_file=path)


def test_the_micro_engine_with_a_share_never_covered_does_not_depend_on_chunking(model):
    """Whom the share takes is a draw keyed by the person's id alone: two chunk sizes give
    the same projection, bit for bit, under exact alignment too."""
    shared = with_shares(spfsim.load_model(end_year=2028))
    for alignment in ("expected", "exact"):
        small, large = (shared.project("micro", persons=2_000, seed=5, chunk_size=size,
                                       alignment=alignment) for size in (251, 65536))
        for name in ("contributors", "beneficiaries", "benefit_expenditure",
                     "pensions_by_age"):
            np.testing.assert_array_equal(small[name].values, large[name].values)
