"""The invariants every projection is checked against (spfsim.checks), both engines.

Each invariant is shown to hold on real projections, and to fail (a) on a Dataset with one
number deliberately made impossible, naming the cell, and (b) where a rule can be broken
from Python, on a projection run with that rule deliberately broken (the mutation is
named in each test).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_factory import write_small_model
from test_insurance import INSURANCE

import spfsim
from spfsim import checks
from spfsim.checks import Finding, exceeding, invariant_findings
from spfsim.engine import benefits, cohort, cohort_benefit_kernels
from spfsim.engine.micro import kernels
from spfsim.errors import ProjectionError

# the insurance schemes and the maternity benefit of test_insurance, and a social pension
RICH = INSURANCE.format(service=2, maximum=0.0) + """
[[schemes]]
id = "social_pension"
type = "social_pension"
[schemes.parameters]
min_age = 65
means_test = "pension_tested"
benefit = 1.0
benefit_basis = "poverty_line"
take_up = 0.8
"""

PENSION_EXTRA = """start_year = 1995
survivor_pension_share = 0.5
orphan_pension_share = 0.2
married_share = { male = 0.8, female = 0.6 }
spouse_age_difference = { male = 4, female = -3 }
spouse_age_spread = 3.0
care_credit_child_age = 4
refund_share = 1.0"""


def rich_model(folder):
    """The small model with survivors, care credits, refunds, unemployment and maternity
    insurance, a maternity benefit and a social pension: every invariant has a subject."""
    write_small_model(folder, end=2040)
    toml = folder / "model.toml"
    toml.write_text(toml.read_text().replace("start_year = 1995", PENSION_EXTRA) + RICH)
    return folder


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    model = spfsim.load_model(rich_model(tmp_path_factory.mktemp("rich") / "m"))
    return model, model.project()


def test_real_projections_pass(rich):
    model, ds = rich
    assert invariant_findings(ds) == []
    micro = model.project("micro", persons=3000, seed=5)  # (fast also without JIT)
    assert invariant_findings(micro) == []


def test_the_default_model_passes(default_projection):
    assert invariant_findings(default_projection) == []


def one(findings: list[Finding], check: str) -> Finding:
    """The finding of ``check`` (exactly one expected)."""
    found = [f for f in findings if f.check == check]
    assert len(found) == 1, [f.message for f in findings]
    return found[0]


def test_exceeding_names_the_worst_cell_and_counts_the_others():
    import xarray as xr

    value = xr.DataArray([[1.0, 5.0], [3.0, 0.0]], dims=("year", "sex"),
                         coords={"year": [2030, 2031], "sex": ["male", "female"]}, name="x")
    found = exceeding("x above 2", value, 2.0)[0]
    assert found.where == {"year": 2030, "sex": "female"}
    assert (found.value, found.bound, found.cells) == (5.0, 2.0, 2)
    assert "2030" in found.message
    assert "female" in found.message
    assert exceeding("x above 5", value, 5.0) == []  # equal is within


def _exceeding_by_definition(value, bound, floor):
    """(count, worst value) of the cells beyond the bound as exceeding's docstring states
    it, in the plainest NumPy (no fast path): the reference of the fast one."""
    sign = -1.0 if floor else 1.0
    v = sign * value.values
    b = np.broadcast_to(sign * (bound.values if hasattr(bound, "values") else bound),
                        v.shape)
    finite = np.isfinite(v)
    largest = max(np.abs(v[~np.isnan(v)]).max(initial=0.0), 1.0)
    failing = finite & (v - b - 1e-9 * np.maximum(np.abs(b), largest) > 0)
    if not failing.any():
        return None
    ratio = np.where(failing, (v - b) / np.maximum(np.abs(b), 1.0), -np.inf)
    return int(failing.sum()), sign * float(v.flat[np.argmax(ratio)])


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.sampled_from([0.0, -1.0, 1.0, 2.0, 1e12, -3e-10, 1e-10,
                                        np.nan, np.inf, -np.inf]), min_size=6, max_size=6),
       bounds=st.lists(st.sampled_from([0.0, 1.0, 2.0, 1e12, -1.0]), min_size=3, max_size=3),
       scalar=st.booleans(), floor=st.booleans())
def test_exceeding_is_its_definition(values, bounds, scalar, floor):
    """The fast paths (a number for a bound: the extremes alone; an array: a first pass
    without temporaries of masks) find exactly the cells the definition finds, with NaN,
    infinities and values within rounding of the bound."""
    import xarray as xr

    value = xr.DataArray(np.reshape(values, (2, 3)), dims=("year", "age"),
                         coords={"year": [2030, 2031], "age": [0, 1, 2]}, name="x")
    bound = bounds[0] if scalar else xr.DataArray(bounds, dims=("age",),
                                                  coords={"age": [0, 1, 2]})
    expected = _exceeding_by_definition(value, bound, floor)
    found = exceeding("x", value, bound, floor=floor)
    if expected is None:
        assert found == []
    else:
        assert (found[0].cells, found[0].value) == expected


# ---------------------------------------------- (a) one impossible number in the Dataset

def broken(ds, name: str, value_of, **where):
    """A copy of ``ds`` whose ``name`` at ``where`` is set to ``value_of(ds)``."""
    out = ds.copy(deep=True)
    out[name].loc[where] = value_of(ds)
    return out


CELL = {"year": 2030, "age": 40, "sex": "female"}


@pytest.mark.parametrize(("check", "name", "scheme", "extra", "value_of"), [
    ("contributors above the population", "contributors", "pension", {},
     lambda ds: ds["population"].sel(**CELL) + 1.0),
    ("contributors above the employed", "contributors", "pension", {},
     lambda ds: ds["employed"].sel(**CELL) * 1.01),
    ("pensions of a kind above the population of their age and sex", "pensions_by_age",
     "pension", {"pension": "disability"}, lambda ds: ds["population"].sel(**CELL) * 1.5),
    ("own pensions (old age and disability) above the population", "pensions_by_age",
     "pension", {"pension": "old_age"}, lambda ds: ds["population"].sel(**CELL) * 0.99
     + 0.5 * ds["population"].sel(**CELL)),
    ("survivors' pensions (one a person) above the population", "pensions_by_age",
     "pension", {"pension": "spouse"}, lambda ds: ds["population"].sel(**CELL)
     - 0.5 * ds["pensions_by_age"].sel(**CELL, scheme="pension", pension="orphan")
     + 1.0),
    ("unemployment insurance beneficiaries above the unemployed", "beneficiaries", "ui", {},
     lambda ds: (ds["labour_force"] - ds["employed"]).sel(**CELL) + 1.0),
    ("beneficiaries of a benefit above the population of their age and sex",
     "beneficiaries", "social_pension", {}, lambda ds: ds["population"].sel(**CELL) + 1.0),
])
def test_a_count_above_its_population_at_risk_is_named(rich, check, name, scheme, extra,
                                                       value_of):
    _, ds = rich
    found = one(invariant_findings(broken(ds, name, value_of, **CELL, scheme=scheme,
                                          **extra)), check)
    named = {**CELL, "scheme": scheme}
    if check.startswith("pensions of a kind"):  # the others add the kinds up
        named.update(extra)
    assert named.items() <= found.where.items()


def test_maternity_beyond_births_or_to_men_is_named(rich):
    _, ds = rich
    to_men = broken(ds, "beneficiaries", lambda ds: 1.0, year=2030, age=30, sex="male",
                    scheme="maternity_nc")
    assert one(invariant_findings(to_men), "maternity benefits paid to men").where[
        "scheme"] == "maternity_nc"
    births = ds["births"].sel(year=2030).sum().item()
    too_many = broken(ds, "beneficiaries", lambda ds: births, year=2030, age=30,
                      sex="female", scheme="maternity_nc")
    found = one(invariant_findings(too_many), "maternity benefits (all schemes) above the "
                                              "births")
    assert found.where == {"year": 2030}


def test_covered_beyond_target_and_new_beyond_paid_are_named(rich):
    _, ds = rich
    where = {"year": 2035, "sex": "male", "guarantee": "old_age"}
    covered = broken(ds, "coverage_covered", lambda ds: ds["coverage_target"].sel(**where)
                     + 1.0, **where)
    assert one(invariant_findings(covered), "persons covered above the guarantee's target "
               "group").where == where
    new = broken(ds, "new_beneficiaries", lambda ds: 1e9, year=2035, sex="male",
                 scheme="pension")
    assert one(invariant_findings(new), "new pensions above the pensions in payment").where \
        == {"year": 2035, "sex": "male", "scheme": "pension"}


def test_a_negative_count_or_a_share_outside_zero_one_is_named(rich):
    _, ds = rich
    negative = broken(ds, "deaths", lambda ds: -1.0, year=2031, age=3, sex="male")
    found = one(invariant_findings(negative), "a count or flow below zero")
    assert (found.variable, found.where) == ("deaths", {"year": 2031, "age": 3, "sex": "male"})
    share = broken(ds, "coverage_rate", lambda ds: 1.2, year=2031, guarantee="children")
    found = one(invariant_findings(share), "a share above one")
    assert (found.variable, found.where) == ("coverage_rate",
                                             {"year": 2031, "guarantee": "children"})


def test_every_failure_is_listed_in_the_projection_error(rich, monkeypatch):
    _, ds = rich
    bad = broken(ds, "deaths", lambda ds: -1.0, year=2031, age=3, sex="male")
    monkeypatch.setattr(checks, "invariant_findings", lambda _ds: invariant_findings(bad))
    with pytest.raises(ProjectionError, match=r"deaths = -1 .* year 2031, age 3, sex male"):
        checks.assert_invariants(ds)


# ------------------------------------------------ (b) a rule deliberately broken in a run

def test_mothers_beyond_the_births_fail_the_run(tmp_path, monkeypatch):
    """Mutation: the probability of giving birth doubled for the maternity benefits
    (engine.benefits.mothers_rate), not for the births."""
    model = spfsim.load_model(rich_model(tmp_path / "m"))
    real = benefits.mothers_rate
    monkeypatch.setattr(benefits, "mothers_rate", lambda a, d: 2.0 * real(a, d))
    with pytest.raises(ProjectionError, match="above the births"):
        model.project()


@pytest.mark.parametrize("engine", ["cohort", "micro"])
def test_immigrant_mothers_left_out_fail_the_run(tmp_path, monkeypatch, engine):
    """Mutation: the women who immigrate and give birth during the year left out of the
    maternity benefits (engine.benefits.arriving_mothers; in the micro engine,
    kernels.arriving_mothers_benefits): the maternity target group falls below the births."""
    model = spfsim.load_model(rich_model(tmp_path / "m"))
    assert np.any(model.assumptions.net_migration[:, 15:50, 1] > 0)
    if engine == "cohort":
        monkeypatch.setattr(benefits, "arriving_mothers", lambda a, d: np.zeros(a.asfr.shape))
    else:
        monkeypatch.setattr(kernels, "arriving_mothers_benefits", _no_arriving_mothers)
    with pytest.raises(ProjectionError, match="mothers of newborns below the births"):
        model.project(engine, persons=3000)


def _no_arriving_mothers(pid, age, birth_flag, first, end, seed, codes, probability, amount):
    """kernels.arriving_mothers_benefits paying no one and counting no one."""
    n_rules, n_ages = probability.shape[:2]
    return (np.zeros((n_rules, n_ages), dtype=np.int64), np.zeros((n_rules, n_ages)),
            np.zeros((n_ages, 2), dtype=np.int64))


def test_unemployment_insurance_for_everybody_fails_the_run(tmp_path, monkeypatch):
    """Mutation: every person eligible for every benefit (engine.benefits.eligible), so the
    unemployment insurance pays the employed too. The array form of the benefits reads the
    mutated rule; the compiled loop has the real one compiled in."""
    model = spfsim.load_model(rich_model(tmp_path / "m"))
    monkeypatch.setattr(benefits, "eligible", lambda *args: True)
    monkeypatch.setattr(cohort_benefit_kernels, "COMPILED", False)
    with pytest.raises(ProjectionError, match="above the unemployed"):
        model.project()


def test_contributors_beyond_the_employed_fail_the_run(tmp_path, monkeypatch):
    """Mutation: the contributing share of each cell tripled (engine.cohort._density): the
    small model's coverage of 40 % of the employed becomes 120 %."""
    model = spfsim.load_model(rich_model(tmp_path / "m"))
    real = cohort._density
    monkeypatch.setattr(cohort, "_density", lambda econ, pop: 3.0 * real(econ, pop))
    with pytest.raises(ProjectionError, match="contributors above the employed"):
        model.project()
