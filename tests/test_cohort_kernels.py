"""The cohort engine's compiled transitions (engine.cohort_kernels) give the state that
their NumPy statements give (cohort_transitions, cohort_state, cohort_survivors): the
projection's pension flows, with each feature of the pension rules switched on in turn,
and each transition of one year from the same state."""

from __future__ import annotations

import copy
import dataclasses

import numba as nb
import numpy as np
import pytest

import spfsim
from spfsim.demography import project_population
from spfsim.economy import project_economy
from spfsim.engine import cohort_kernels, cohort_loop
from spfsim.engine.cohort import (
    MAX_SERVICE,
    base_year_state,
    pension_inputs,
    run_db_pension,
    run_schemes,
)
from spfsim.engine.cohort_record import PensionRecord
from spfsim.engine.flows import sum_inner

pytestmark = pytest.mark.skipif(nb.config.DISABLE_JIT,
                                reason="compares the compiled transitions with NumPy's")

RTOL, ATOL = 1e-11, 1e-9  # currency amounts of ~1e10: 1e-9 is far below a cent

#: each a feature of the pension rules the default model does not use (it has disability
#: with recoveries, survivors, care credits for everybody, refunds and a minimum pension)
VARIANTS = {
    "default": {},
    "last years' earnings": {"reference_earnings_years": 5},
    # the best years kept in order (credits and care credits), their yearly caps and
    # transitory gain (pension_rules.best_years_gain)
    "best years' earnings, ceiling, spreads": {
        "reference_earnings_years": 5, "reference_earnings_selection": "best",
        "earnings_ceiling": {"value": 30000.0, "indexation": "wages"},
        "earnings_permanent_sd": 0.5, "earnings_transitory_sd": 0.4},
    "early and late retirement": {"early_retirement_rate": 0.3, "early_retirement_age": 55,
                                  "early_reduction": 0.05, "deferral_rate": 0.2,
                                  "latest_retirement_age": 68, "late_increment": 0.06},
    "bands, maximum, mortality": {"accrual_band_years": 20, "accrual_rate_above": 0.01,
                                  "maximum_pension": 40000.0,
                                  "disability_mortality_factor": 2.5},
    "care credits for the insured": {"care_credit_eligibility": "insured",
                                     "survivor_maximum_share": 0.8},
    # fathers' children linked at their birth, spouses' pensions ended by new partnerships
    "survivors from the families": {"survivor_partners": "families"},
    # the closed-form means over a cell's spread (the [economy] entry, set apart below)
    "bend points, ceiling, spread": {
        "benefit_formula": "bend_points", "bend_point_1": 8000.0, "bend_point_2": 48000.0,
        "earnings_ceiling": {"value": 90000.0, "indexation": "wages"},
        "earnings_permanent_sd": 0.5},
    # disability and death awards over computation years from the elapsed years: the
    # best of the kept years they count and the yearly caps, by age (the transitory gain
    # over the years by age: test_reference_earnings.py)
    "computation years from the elapsed years": {
        "benefit_formula": "bend_points", "bend_point_1": 8000.0, "bend_point_2": 48000.0,
        "averaging_years": 30, "elapsed_years_from_age": 25, "reference_earnings_years": 30,
        "reference_earnings_selection": "best",
        "earnings_ceiling": {"value": 30000.0, "indexation": "wages"},
        "earnings_permanent_sd": 0.5},
    # the dual entitlement's top-ups over own pensions in their classes' shapes
    # (PensionState.own_shape), from awards with adjustment factors and yearly caps
    "dual entitlement, class shapes": {
        "survivor_with_own_pension": "higher", "pensions_in_payment_spread": 0.4,
        "benefit_formula": "bend_points", "bend_point_1": 8000.0, "bend_point_2": 48000.0,
        "earnings_ceiling": {"value": 90000.0, "indexation": "wages"},
        "early_retirement_rate": 0.3, "early_retirement_age": 55, "early_reduction": 0.05,
        "earnings_permanent_sd": 0.5},
}


def _inputs(model: spfsim.Model):
    a = model.assumptions
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb,
                              a.net_migration)
    return a, demo, project_economy(a, demo.population)


def _flows(model: spfsim.Model, compiled: bool, monkeypatch) -> dict[str, np.ndarray]:
    monkeypatch.setattr(cohort_kernels, "COMPILED", compiled)
    a, demo, econ = _inputs(model)
    scheme = a.schemes[0]
    classes, _ = pension_inputs(scheme, a, demo, econ)
    flows = run_db_pension(scheme, a, demo, econ, classes)
    return {name: np.asarray(value) for name, value in vars(flows).items()
            if isinstance(value, np.ndarray)}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_projection_is_the_same_compiled_or_not(variant, monkeypatch):
    model = _variant_model(variant)
    fast = _flows(model, True, monkeypatch)
    reference = _flows(model, False, monkeypatch)
    assert fast.keys() == reference.keys()
    for name, expected in reference.items():
        np.testing.assert_allclose(fast[name], expected, rtol=RTOL, atol=ATOL,
                                   err_msg=f"{variant}: {name}")


#: the variants whose years the compiled loop does not take (they run year by year)
YEAR_BY_YEAR = {"bands, maximum, mortality", "survivors from the families"}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_compiled_loop_is_the_year_by_year_projection(variant, monkeypatch):
    """cohort_loop.project_years runs a pension's years in one compiled call: every
    scheme's flows (the floor's and unemployment insurance's readings of the pension's
    cells among them) are bitwise those of the year-by-year calls of the same compiled
    transitions; the variants it does not take say so (cohort_loop.supported)."""
    model = _variant_model(variant)
    a, demo, econ = _inputs(model)
    _, inputs = pension_inputs(a.schemes[0], a, demo, econ)
    years = [inputs(k) for k in range(a.n_years)]
    assert cohort_loop.supported(years) == (variant not in YEAR_BY_YEAR)
    loop, _ = run_schemes(a, demo, econ)
    monkeypatch.setattr(cohort_loop, "supported", lambda years: False)
    by_year, _ = run_schemes(a, demo, econ)
    for fast, slow in zip(loop, by_year, strict=True):
        for name, value in vars(slow).items():
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(getattr(fast, name), value,
                                              err_msg=f"{variant}: {fast.scheme_id}.{name}")


def test_each_transition_is_the_same_compiled_or_not(monkeypatch):
    """One year from the reconstructed base-year state, transition by transition, with
    every array of the state compared after each (so a difference is located)."""
    model = spfsim.load_model(end_year=2030).with_parameters(
        {"pension": {"reference_earnings_years": 3, "disability_mortality_factor": 2.0}})
    a, demo, econ = _inputs(model)
    scheme = a.schemes[0]
    classes, inputs = pension_inputs(scheme, a, demo, econ)
    y = inputs(1)
    start = base_year_state(scheme, a, inputs(0), classes)
    steps = [("step", lambda s: s.step(y)), ("advance", lambda s: s.advance(y))]
    states = {}
    for compiled in (True, False):
        monkeypatch.setattr(cohort_kernels, "COMPILED", compiled)
        state = copy.deepcopy(start)
        for name, move in steps:
            out = move(state)
            states[compiled, name] = (copy.deepcopy(state), out)
    for name, _ in steps:
        fast, fast_out = states[True, name]
        slow, slow_out = states[False, name]
        for array in (*fast.ARRAYS, "refunded", "refund"):
            np.testing.assert_allclose(getattr(fast, array), getattr(slow, array), rtol=RTOL,
                                       atol=1e-12, err_msg=f"{name}: {array}")
        for got, expected in zip(fast_out or (), slow_out or (), strict=True):
            np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-12)


def test_the_class_shapes_are_the_same_compiled_or_not(monkeypatch):
    """With dual entitlement the reconstruction (the compiled loop over the past years,
    or year by year in NumPy) leaves each class's own pensions in a shape that is not
    the class's mean alone (the bend points, ceiling and early retirement of the
    variant), the same in both paths; one more year's awards, compiled or not, update it
    alike, and every shape kept averages 1 over its bands, rising with earnings."""
    model = _variant_model("dual entitlement, class shapes", end_year=2030)
    a, demo, econ = _inputs(model)
    scheme = a.schemes[0]
    classes, inputs = pension_inputs(scheme, a, demo, econ)
    y = inputs(1)
    states = {}
    for compiled in (True, False):
        monkeypatch.setattr(cohort_kernels, "COMPILED", compiled)
        state = base_year_state(scheme, a, inputs(0), classes)
        base = state.own_shape.copy()
        state.step(y)
        states[compiled] = base, state.own_shape
    for fast, slow in zip(states[True], states[False], strict=True):
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-14)
    shaped = np.abs(states[True][1] - 1.0).max(axis=-1) > 0.05
    assert shaped.sum() >= 20, shaped.sum()
    np.testing.assert_allclose(states[True][1].mean(axis=-1), 1.0, rtol=1e-12)
    assert np.all(np.diff(states[True][1], axis=-1) >= -1e-12)


def test_the_cell_chain_and_alignment_are_the_array_ones():
    """The per-cell contribution chain and labour alignment of the kernels are those of
    cohort_transitions (the micro engine's targets use the array forms)."""
    from spfsim.engine.cohort_transitions import aligned_persistence, contribution_transitions

    rng = np.random.default_rng(4)
    was, target = rng.uniform(0, 1, 200), rng.uniform(0, 1, 200)
    was[:10], target[10:20] = 0.0, 0.0
    was[20:30] = 1.0
    stay, join = contribution_transitions(was, target, 0.7)
    for i in range(200):
        assert cohort_kernels.chain(was[i], target[i], 0.7) == pytest.approx(
            (stay[i], join[i]), rel=1e-14, abs=1e-15)
    previous, incoming = rng.uniform(0, 1, (200, 4)), rng.uniform(0, 1, 200)
    wanted = rng.uniform(0, 1, (200, 4))
    previous[:10], wanted[10:20] = 0.0, 0.0
    previous[20:30, :2] = 0.0
    keep, draw = aligned_persistence(previous, incoming, wanted, 0.8)
    out = np.empty(4)
    for i in range(200):
        assert cohort_kernels.aligned(previous[i], incoming[i], wanted[None], 0, i, 0.8,
                                      out) == pytest.approx(keep[i], rel=1e-14, abs=1e-15)
        np.testing.assert_allclose(out, draw[i], rtol=1e-13, atol=1e-15)


def _variant_model(variant: str, end_year: int = 2060) -> spfsim.Model:
    """The default model with a VARIANTS entry applied."""
    model = spfsim.load_model(end_year=end_year)
    parameters = dict(VARIANTS[variant])
    spread = parameters.pop("earnings_permanent_sd", 0.0)
    transitory = parameters.pop("earnings_transitory_sd", 0.0)
    if parameters:
        model = model.with_parameters({"pension": parameters})
    model.assumptions.earnings_permanent_sd = spread
    model.assumptions.earnings_transitory_sd = transitory
    return model


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_rows_highest_classes_bound_the_state(variant):
    """The compiled transitions visit each row only up to its highest occupied class
    (PensionState.top_class, top_invalid_class, top_pension_class), which they keep as
    they move persons up a class, between the active and the disabled, out at retirement
    and one age up. Every class above those bounds must hold exactly nothing after each
    step and advance, from the reconstruction of the past to the horizon; and the bounds
    must stay tight enough to skip most of the state (the young have few classes, the
    retired none)."""
    a, demo, econ = _inputs(_variant_model(variant))
    scheme = a.schemes[0]
    classes, inputs = pension_inputs(scheme, a, demo, econ)
    state = base_year_state(scheme, a, inputs(0), classes)
    visited = []
    for k in range(a.n_years):
        y = inputs(k)
        for move in (state.step, state.advance):
            move(y)
            exact = copy.copy(state)  # the same arrays, bounds of its own
            exact.refresh_tops()
            for name in ("top_class", "top_invalid_class", "top_pension_class"):
                held, least = getattr(state, name), getattr(exact, name)
                assert (held >= least).all(), (
                    f"{variant}, year {a.years[k]} after {move.__name__}: {name} below an "
                    f"occupied class at ages {np.flatnonzero((held < least).any(axis=1))}")
            visited.append((state.top_class + 1).sum() / state.top_class.size)
    assert np.mean(visited) < 0.4 * (state.active.shape[3])


def test_recoveries_above_a_rows_active_classes(monkeypatch):
    """Disability pensioners who recover return to the active insured in their class, which
    may lie above every class the row's active members hold: the compiled step must raise
    the row's bound to it, and give the NumPy step's state. A state written by hand, its
    bounds set by refresh_tops."""
    a, demo, econ = _inputs(spfsim.load_model(end_year=2030))
    scheme = a.schemes[0]
    classes, inputs = pension_inputs(scheme, a, demo, econ)
    y = dataclasses.replace(inputs(1), recovery_rate=0.5)
    start = base_year_state(scheme, a, inputs(0), classes)
    age, sex = 40, 0
    for name in ("active", "credits", "paid", "recent"):  # nobody active above class 9
        getattr(start, name)[age, sex, :, 10:] = 0.0
    start.labour[age, sex, 10:] = 0.0
    start.invalid[age, sex, 30] = 0.002 / start.invalid.shape[-1]
    start.invalid_pension[age, sex, 30] = 0.002 * 3000.0
    start.invalid_credits[age, sex, 30] = 0.002 * 5000.0
    start.refresh_tops()
    assert start.top_class[age, sex] == 9
    assert start.top_invalid_class[age, sex] >= 30
    states = {}
    for compiled in (True, False):
        monkeypatch.setattr(cohort_kernels, "COMPILED", compiled)
        state = copy.deepcopy(start)
        state.step(y)
        states[compiled] = state
    fast, slow = states[True], states[False]
    assert fast.top_class[age, sex] >= 30
    assert fast.active[age, sex, :, 30].sum() > 0.0
    for array in fast.ARRAYS:
        np.testing.assert_allclose(getattr(fast, array), getattr(slow, array), rtol=RTOL,
                                   atol=1e-12, err_msg=array)


@pytest.mark.parametrize("classes", [1, 3])
def test_a_years_record_is_the_same_compiled_or_not(classes, monkeypatch):
    """PensionRecord.record's compiled loop gives the series of its array algebra, with a
    top-up floor that some cells' pensions fall below and unemployment insurance's
    qualifying classes, from a state some years into a projection."""
    model = spfsim.load_model(end_year=2035)
    a, demo, econ = _inputs(model)
    scheme = a.schemes[0]
    _, inputs = pension_inputs(scheme, a, demo, econ)
    state = base_year_state(scheme, a, inputs(0), classes)
    for k in range(3):
        state.step(inputs(k))
        state.advance(inputs(k))
    y = inputs(3)
    new = state.step(y)
    per_person = (state.pension.sum(axis=2) / np.maximum(state.pensioners.sum(axis=2), 1e-300))
    floor = np.broadcast_to(np.median(per_person[per_person > 0]), (6, *per_person.shape))
    qualifies = np.zeros((MAX_SERVICE + 1, classes))
    qualifies[5:, -1] = 1.0
    records = {}
    for compiled in (True, False):
        monkeypatch.setattr(cohort_kernels, "COMPILED", compiled)
        record = PensionRecord(6, per_person.shape, floor, qualifies)
        record.record(4, state, demo.population[4], y.earnings, *new)
        records[compiled] = record
    fast, slow = records[True], records[False]
    assert 0 < slow.low[0][4].sum() < slow.pensioned[4].sum()  # some below, not all
    assert 0 < slow.insured_unemployed[4].max() <= 1
    for name, expected in _series(slow).items():
        np.testing.assert_allclose(_series(fast)[name], expected, rtol=RTOL, atol=1e-9,
                                   err_msg=name)


def _series(record: PensionRecord) -> dict[str, np.ndarray]:
    """A record's yearly series by name (the two below-floor arrays apart)."""
    out = {name: value for name, value in vars(record).items()
           if isinstance(value, np.ndarray) and name not in ("floor", "qualifies")}
    out["low_share"], out["low_gap"] = record.low
    return out


@pytest.mark.parametrize(("shape", "axis"), [((76, 101, 2), 1), ((76, 101, 2, 5), -1),
                                             ((3, 7), 0), ((4, 1, 3), 1)])
def test_the_sums_over_an_inner_axis_are_numpys(shape, axis):
    """engine.flows.sum_inner adds an axis followed by at most a short one in the axis's
    order, which is NumPy's own for such sums: bitwise its numbers, on numbers of very
    different sizes and signs, where another order would round differently."""
    rng = np.random.default_rng(11)
    values = rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 9, shape)
    np.testing.assert_array_equal(sum_inner(values, axis), values.sum(axis=axis))
    if shape[axis] >= 5:  # the test tells orders apart
        reversed_order = np.flip(values, axis=axis).sum(axis=axis)
        assert not np.array_equal(reversed_order, values.sum(axis=axis))
