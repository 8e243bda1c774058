"""Non-contributory benefits and coverage: hand-computed cases, properties, both engines."""

from __future__ import annotations

import numba as nb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_factory import write_csv, write_small_model

import spfsim
from spfsim.engine import benefits as B
from spfsim.errors import AssumptionError, SpfsimError
from spfsim.schemes import noncontributory as nc

FLOOR_SCHEMES = """
[[schemes]]
id = "health"
type = "health_care"
[schemes.parameters]
benefit = 0.05
benefit_basis = "gdp_per_capita"
take_up = 0.7
relative_cost_under5 = 2.0
relative_cost_65plus = {{ male = 3.0, female = 2.5 }}
excess_cost_growth = 0.02

[[schemes]]
id = "maternity"
type = "maternity_benefit"
[schemes.parameters]
benefit = 1.0
benefit_basis = "poverty_line"
months = 4
take_up = 0.8

[[schemes]]
id = "disability"
type = "disability_benefit"
[schemes.parameters]
benefit = 2400.0
take_up = 0.6

[[schemes]]
id = "assistance"
type = "social_assistance"
[schemes.parameters]
target_group = "unemployed"
benefit = 0.5
benefit_basis = "poverty_line"
months = 6
take_up = 0.5

[[schemes]]
id = "social_pension"
type = "social_pension"
[schemes.parameters]
min_age = 65
means_test = "{means_test}"
benefit = {floor}
take_up = 0.9
admin_cost_rate = 0.1
"""


def floor_model(folder, means_test: str = "pension_tested", floor: float = 2500.0,
                extra: str = ""):
    """The small model with every floor scheme and a severe-disability table."""
    write_small_model(folder)
    model = folder / "model.toml"
    base = model.read_text().replace('type = "universal_benefit"', 'type = "child_benefit"')
    base = base.replace("take_up = 0.9", "take_up = 0.9\ntarget_share = 0.5")
    model.write_text(base + FLOOR_SCHEMES.format(means_test=means_test, floor=floor) + extra)
    header = folder / "assumptions" / "assumptions.toml"
    header.write_text(header.read_text() + '\n[tables.disability]\nfile = "disability.csv"\n')
    write_csv(folder / "assumptions" / "disability.csv", ["age", "sex", "severe_disability"],
              [[a, s, round(0.005 + 0.002 * a, 6)] for a in range(101)
               for s in ("male", "female")])
    return folder


@pytest.fixture(scope="module")
def floor_run(tmp_path_factory):
    model = spfsim.load_model(floor_model(tmp_path_factory.mktemp("floor") / "m"))
    return model, model.project()


def scheme_total(ds, scheme, name="beneficiaries"):
    return ds[name].sel(scheme=scheme).sum(("age", "sex")) if name == "beneficiaries" \
        else ds[name].sel(scheme=scheme)


# ---------------------------------------------------------------------------------------
# the rule functions, by hand


def test_receipt_probability_by_hand():
    assert nc.receipt_probability(0.9, 0.4, 0.3, 0.2) == pytest.approx(0.9 * 0.4 * 0.7 / 0.8)
    assert nc.receipt_probability(1.0, 1.0, 0.0, 0.0) == 1.0
    assert nc.receipt_probability(1.0, 0.9, 0.0, 0.5) == 1.0  # capped


def test_amount_and_top_up_by_hand():
    assert nc.annual_amount(1.0, 9000.0, 4) == pytest.approx(3000.0)
    assert nc.annual_amount(600.0, 1.0, 12) == 600.0
    np.testing.assert_allclose(nc.top_up(1000.0, np.array([0.0, 400.0, 1200.0])),
                               [1000.0, 600.0, 0.0])
    np.testing.assert_allclose(nc.health_cost_profile(np.array([0, 4, 5, 64, 65, 100]), 2, 3),
                               [2, 2, 1, 1, 3, 3])


def test_eligibility_rules():
    assert B.eligible(B.G_ALL, False, B.L_PENSION_HIGH, False, False)
    assert not B.eligible(B.G_ALL, True, B.L_PENSION_HIGH, False, False)  # top-up: above floor
    assert B.eligible(B.G_ALL, True, B.L_PENSION_LOW, False, False)
    assert not B.eligible(B.G_WITHOUT_PENSION, False, B.L_PENSION_LOW, False, False)
    assert B.eligible(B.G_WITHOUT_PENSION, False, B.L_OTHER, False, False)
    assert not B.eligible(B.G_UNINSURED_MOTHERS, False, B.L_CONTRIBUTING, False, True)
    assert B.eligible(B.G_UNINSURED_MOTHERS, False, B.L_UNEMPLOYED, False, True)
    assert not B.eligible(B.G_UNINSURED_MOTHERS, False, B.L_UNEMPLOYED, False, False)
    assert B.eligible(B.G_DISABLED, False, B.L_OTHER, True, False)
    assert not B.eligible(B.G_UNEMPLOYED, False, B.L_OTHER, False, False)
    assert B.in_target(B.WORKING_AGE, 30, B.L_UNEMPLOYED, False, False)
    assert not B.in_target(B.WORKING_AGE, 70, B.L_UNEMPLOYED, False, False)
    assert B.in_target(B.CHILDREN, 14, B.L_OTHER, False, False)
    assert not B.in_target(B.CHILDREN, 15, B.L_OTHER, False, False)
    # a contributory pension covers old age and counts as cash; contributing counts as cash
    covered = {(g, state) for g in range(B.N_COVERAGE) for state in range(B.N_L)
               if B.covered_by_state(g, state)}
    assert covered == {(B.OLD_AGE, B.L_PENSION_LOW), (B.OLD_AGE, B.L_PENSION_HIGH),
                       (B.ANY_CASH, B.L_CONTRIBUTING), (B.ANY_CASH, B.L_PENSION_LOW),
                       (B.ANY_CASH, B.L_PENSION_HIGH)}


# ---------------------------------------------------------------------------------------
# the cohort engine, each type against a hand computation from the Dataset


def test_child_benefit_targeted(small_model_dir):
    text = (small_model_dir / "model.toml").read_text().replace(
        'type = "universal_benefit"', 'type = "child_benefit"').replace(
        "take_up = 0.9", "take_up = 0.9\ntarget_share = 0.4\nexclusion_error = 0.3\n"
        "inclusion_error = 0.2\nbenefit_basis = \"poverty_line\"").replace(
        "benefit = 600.0", "benefit = 0.25")
    (small_model_dir / "model.toml").write_text(text)
    ds = spfsim.load_model(small_model_dir).project()
    pop = ds["population"].sel(age=slice(0, 14)).sum(("age", "sex"))
    p = 0.9 * 0.4 * 0.7 / 0.8
    np.testing.assert_allclose(scheme_total(ds, "child_benefit"), p * pop, rtol=1e-12)
    np.testing.assert_allclose(ds["benefit_expenditure"].sel(scheme="child_benefit"),
                               p * pop * 0.25 * ds["poverty_line"], rtol=1e-12)
    # the poverty line is the base-year value indexed to prices (3 % a year)
    np.testing.assert_allclose(ds["poverty_line"], 2500.0 * 1.03 ** np.arange(ds.sizes["year"]))
    np.testing.assert_allclose(ds["coverage_rate"].sel(guarantee="children"), p)
    np.testing.assert_allclose(ds["benefit_to_poverty_line"].sel(scheme="child_benefit"), 0.25)


def test_health_care_cost_by_age_and_sex(floor_run):
    _model, ds = floor_run
    pop = ds["population"]
    years = np.arange(ds.sizes["year"])
    profile = np.ones((101, 2))
    profile[:5] = 2.0
    profile[65:] = [3.0, 2.5]
    cost = (pop * profile).sum(("age", "sex")) * 0.7 * 0.05 * ds["gdp_per_capita"] \
        * 1.02 ** years
    np.testing.assert_allclose(ds["benefit_expenditure"].sel(scheme="health"), cost, rtol=1e-10)
    np.testing.assert_allclose(ds["coverage_rate"].sel(guarantee="health"), 0.7)
    np.testing.assert_allclose(ds["gdp_per_capita"], ds["gdp"] / pop.sum(("age", "sex")))


def test_maternity_benefit_for_uninsured_mothers(floor_run):
    """Resident mothers by hand (no net emigration here), and the year's immigrant women
    who give birth, half-exposed at their age on arrival (uninsured: no contributions
    yet); together they are the births."""
    model, ds = floor_run
    a = model.assumptions
    women = ds["population"].sel(sex="female").values
    contributing = ds["contributors"].sel(scheme="pension", sex="female").values / women
    nxt = np.minimum(np.arange(101) + 1, 100)
    demo = spfsim.demography.project_population(a.years, a.base_population, a.mx, a.asfr,
                                                a.srb, a.net_migration)
    assert np.all(demo.net_migration[..., 1] >= 0)
    survival = demo.survival[:, nxt, 1]
    mothers = women * (0.5 * a.asfr + 0.5 * a.asfr[:, nxt] * survival)
    arrived = 0.5 * a.asfr * demo.net_migration[..., 1] * (1 + demo.survival[..., 1]) / 2
    assert arrived.sum() > 0
    expected = ((mothers * (1.0 - contributing)).sum(axis=1) + arrived.sum(axis=1)) * 0.8
    np.testing.assert_allclose(scheme_total(ds, "maternity"), expected, rtol=1e-10)
    np.testing.assert_allclose(ds["benefit_expenditure"].sel(scheme="maternity"),
                               expected * 4 / 12 * ds["poverty_line"], rtol=1e-10)
    np.testing.assert_allclose(mothers.sum(axis=1) + arrived.sum(axis=1),
                               ds["births"].sum("sex"), rtol=1e-12)
    np.testing.assert_allclose(ds["coverage_target"].sel(guarantee="maternity").sum("sex"),
                               ds["births"].sum("sex"), rtol=1e-12)


def test_disability_and_assistance(floor_run):
    _model, ds = floor_run
    prevalence = 0.005 + 0.002 * np.arange(101)
    pop = ds["population"]
    expected = (pop * prevalence[:, None]).sum(("age", "sex")) * 0.6
    np.testing.assert_allclose(scheme_total(ds, "disability"), expected, rtol=1e-12)
    np.testing.assert_allclose(ds["coverage_rate"].sel(guarantee="disability"), 0.6)
    # below the retirement ages everybody is active: the unemployed are the labour
    # projection's (labour force - employed), aged 18-64 by default
    unemployed = ds["labour_force"] - ds["employed"]
    band = unemployed.sel(age=slice(18, 59)).sum(("age", "sex"))
    got = ds["beneficiaries"].sel(scheme="assistance", age=slice(18, 59)).sum(("age", "sex"))
    np.testing.assert_allclose(got, 0.5 * band, rtol=1e-9)


def test_pension_tested_social_pension(floor_run):
    _model, ds = floor_run
    older = slice(65, None)
    pop = ds["population"].sel(age=older).sum(("age", "sex"))
    pensioners = ds["beneficiaries"].sel(scheme="pension", age=older).sum(("age", "sex"))
    np.testing.assert_allclose(scheme_total(ds, "social_pension"), 0.9 * (pop - pensioners),
                               rtol=1e-10)
    # coverage of older persons: pensioners + social pensioners, nobody counted twice
    covered = ds["coverage_covered"].sel(guarantee="old_age").sum("sex")
    np.testing.assert_allclose(covered, pensioners + 0.9 * (pop - pensioners), rtol=1e-10)
    assert float(ds["admin_expenditure"].sel(scheme="social_pension")[0]) == pytest.approx(
        0.1 * float(ds["benefit_expenditure"].sel(scheme="social_pension")[0]))


def test_top_up_above_every_pension_pays_floor_minus_pensions(tmp_path):
    """With a floor above every pension and an age band holding all pensioners, the
    top-up costs p x (floor x persons in the band - pension expenditure)."""
    folder = floor_model(tmp_path / "m", means_test="top_up", floor=1.0e6)
    text = (folder / "model.toml").read_text().replace("min_age = 65\nmeans_test",
                                                       "min_age = 55\nmeans_test")
    (folder / "model.toml").write_text(text)
    ds = spfsim.load_model(folder).project()
    persons = ds["population"].sel(age=slice(55, None)).sum(("age", "sex"))
    pensions = ds["benefit_expenditure"].sel(scheme="pension")
    np.testing.assert_allclose(ds["benefit_expenditure"].sel(scheme="social_pension"),
                               0.9 * (1.0e6 * persons - pensions), rtol=1e-9)


def test_top_up_below_every_pension_pays_only_non_pensioners(tmp_path):
    """A floor below the minimum pension (1500 x prices) never tops up a pension."""
    ds = spfsim.load_model(floor_model(tmp_path / "m", means_test="top_up",
                                       floor=1000.0)).project()
    older = slice(65, None)
    pop = ds["population"].sel(age=older).sum(("age", "sex"))
    pensioners = ds["beneficiaries"].sel(scheme="pension", age=older).sum(("age", "sex"))
    np.testing.assert_allclose(scheme_total(ds, "social_pension"), 0.9 * (pop - pensioners),
                               rtol=1e-10)


def test_sdg_131_counts_each_person_once(floor_run):
    _model, ds = floor_run
    rate = ds["coverage_rate"].sel(guarantee="any_cash")
    assert np.all((rate > 0) & (rate < 1))
    pop = ds["population"].sum(("age", "sex"))
    np.testing.assert_allclose(ds["coverage_target"].sel(guarantee="any_cash").sum("sex"), pop,
                               rtol=1e-12)
    # covered persons cannot exceed the sum of contributors, pensioners and cash beneficiaries
    cash = ["pension", "child_benefit", "maternity", "disability", "assistance",
            "social_pension"]
    upper = ds["contributors"].sel(scheme="pension").sum(("age", "sex")) + \
        ds["beneficiaries"].sel(scheme=cash).sum(("age", "sex", "scheme"))
    assert np.all(ds["coverage_covered"].sel(guarantee="any_cash").sum("sex") <= upper + 1e-6)


def test_cost_by_guarantee_adds_up(floor_run):
    _model, ds = floor_run
    cost = ds["benefit_expenditure"] + ds["admin_expenditure"]
    for guarantee, schemes in (("health", ["health"]), ("maternity", ["maternity"]),
                               ("old_age", ["pension", "social_pension"]),
                               ("working_age", ["assistance"])):
        np.testing.assert_allclose(ds["expenditure_by_guarantee"].sel(guarantee=guarantee),
                                   cost.sel(scheme=schemes).sum("scheme"), rtol=1e-12)
    np.testing.assert_allclose(ds["expenditure_by_guarantee"].sel(guarantee="any_cash"),
                               cost.drop_sel(scheme="health").sum("scheme"), rtol=1e-12)
    np.testing.assert_allclose(ds["cost_to_revenue"], cost / (0.18 * ds["gdp"]), rtol=1e-12)


def test_pension_disability_branch_counts_for_disability(tmp_path):
    """With a disability branch the pension's cost splits between old age and disability
    in proportion to the branches' benefits; the total is unchanged."""
    from test_disability_branch import disability_model

    ds = spfsim.load_model(disability_model(tmp_path / "m")).project()
    cost = (ds["benefit_expenditure"] + ds["admin_expenditure"]).sel(scheme="pension").values
    branch = ds["benefit_expenditure_by_branch"].sel(scheme="pension")
    share = (branch.sel(branch="disability") / branch.sum("branch")).values
    by_guarantee = ds["expenditure_by_guarantee"]
    np.testing.assert_allclose(by_guarantee.sel(guarantee="disability").values, cost * share,
                               rtol=1e-12)
    other = ds["benefit_expenditure"] + ds["admin_expenditure"]
    old_age = by_guarantee.sel(guarantee="old_age").values
    # the small model's other schemes serve no old-age guarantee ('other')
    np.testing.assert_allclose(old_age, cost * (1 - share), rtol=1e-12)
    assert float(other.sel(scheme="child_benefit")[0]) > 0


# ---------------------------------------------------------------------------------------
# properties


@settings(max_examples=25, deadline=None)
@given(level=st.floats(0.01, 10.0), take_up=st.floats(0.0, 1.0, allow_subnormal=False),
       target=st.floats(0.0, 1.0, allow_subnormal=False), inclusion=st.floats(0.0, 0.9))
def test_beneficiaries_and_cost_properties(level, take_up, target, inclusion):
    """Cost is linear in the level; beneficiaries never exceed the group."""
    rng = np.random.default_rng(0)
    population = rng.uniform(0, 100, (3, 101, 2))
    shares = rng.dirichlet(np.ones(B.N_L), (3, 101, 2))
    arriving = rng.uniform(0, 5, (3, 101, 2)) * [0.0, 1.0]
    cells = B.CellStates(shares, np.zeros((3, 101, 2)), rng.uniform(0, 0.2, (3, 101, 2)),
                         rng.uniform(0, 0.1, (3, 101, 2)), arriving)
    p = nc.receipt_probability(take_up, target, 0.0, inclusion)

    def rule(amount, group):
        return B.BenefitRule(None, group, 1, False, True, np.full((3, 101, 2), p),
                             np.full((3, 101, 2), amount))

    for group in range(len(nc.GROUPS)):
        one = B.cohort_benefits([rule(level, group)], cells, population)
        two = B.cohort_benefits([rule(2 * level, group)], cells, population)
        # expenditure is by (year, age, sex): subnormal cells (a target share of 1e-308)
        # keep fewer significant bits, hence the absolute tolerance far below any money
        np.testing.assert_allclose(two.expenditure[0], 2 * one.expenditure[0], rtol=1e-12,
                                   atol=1e-300)
        np.testing.assert_allclose(one.beneficiaries[0], two.beneficiaries[0])
        assert np.all(one.beneficiaries[0] <= population + arriving + 1e-9)
        covered, target_persons = one.coverage[..., 1], one.coverage[..., 0]
        assert np.all(covered <= target_persons + 1e-9)


@settings(max_examples=15, deadline=None)
@given(p1=st.floats(0.0, 1.0), p2=st.floats(0.0, 1.0))
def test_coverage_of_two_independent_schemes(p1, p2):
    """Two schemes for the same guarantee and group cover 1 - (1 - p1)(1 - p2)."""
    population = np.full((1, 101, 2), 10.0)
    shares = np.zeros((1, 101, 2, B.N_L))
    shares[..., B.L_OTHER] = 1.0
    cells = B.CellStates(shares, np.zeros((1, 101, 2)), np.zeros((1, 101, 2)),
                         np.zeros((1, 101, 2)), np.zeros((1, 101, 2)))
    rules = [B.BenefitRule(None, B.G_ALL, B.CHILDREN, False, True, np.full((1, 101, 2), p),
                           np.ones((1, 101, 2))) for p in (p1, p2)]
    result = B.cohort_benefits(rules, cells, population)
    children = result.coverage[0, :15, :, B.CHILDREN]
    np.testing.assert_allclose(children[..., 1], 10.0 * (1 - (1 - p1) * (1 - p2)))


# ---------------------------------------------------------------------------------------
# validation


def test_poverty_line_basis_needs_a_poverty_line(small_model_dir):
    model = small_model_dir / "model.toml"
    model.write_text(model.read_text().replace("poverty_line = 2500.0\n", "").replace(
        "take_up = 0.9", 'take_up = 0.9\nbenefit_basis = "poverty_line"'))
    with pytest.raises(SpfsimError, match="poverty_line"):
        spfsim.load_model(small_model_dir).project()


def test_bad_choice_names_field_and_value(tmp_path):
    folder = floor_model(tmp_path / "m", means_test="sometimes")
    with pytest.raises(AssumptionError) as err:
        spfsim.load_model(folder)
    problem = err.value.problems[0]
    assert problem.field == "schemes.social_pension.parameters.means_test"
    assert problem.value == "sometimes"
    assert problem.row is not None


def test_two_top_ups_are_refused(tmp_path):
    last = FLOOR_SCHEMES.format(means_test="top_up", floor=100.0).split("[[schemes]]")[-1]
    extra = last.replace('"social_pension"', '"second"', 1)
    folder = floor_model(tmp_path / "m", means_test="top_up", extra="[[schemes]]" + extra)
    with pytest.raises(SpfsimError, match="at most one top-up"):
        spfsim.load_model(folder).project()


# ---------------------------------------------------------------------------------------
# both engines


def _z(micro, micro_group, cohort, cohort_group, weight):
    """z of a share of a group (micro - cohort) / its binomial sampling error, given the
    micro engine's group size (so that the group's own randomness does not count)."""
    rate = [np.asarray(x) / np.maximum(g, 1e-300) for x, g in ((micro, micro_group),
                                                              (cohort, cohort_group))]
    n = np.maximum(micro_group / weight, 1.0)
    se = np.sqrt(np.maximum(rate[1] * (1.0 - rate[1]), 1.0 / n) / n)
    return (rate[0] - rate[1]) / se


def test_micro_counts_each_person_once(tmp_path):
    """Identities that hold person by person in the micro engine (fast, also without JIT):
    a pension-tested social pension never goes to a pensioner, so the covered older
    persons are exactly pensioners + social pensioners; health coverage is the health
    scheme's beneficiaries; no mother is counted twice."""
    model = spfsim.load_model(floor_model(tmp_path / "m"), end_year=2029)
    ds = model.project("micro", persons=3000, seed=4)
    older = slice(65, None)
    pensioners = ds["beneficiaries"].sel(scheme=["pension", "social_pension"],
                                         age=older).sum(("age", "sex", "scheme"))
    np.testing.assert_allclose(ds["coverage_covered"].sel(guarantee="old_age").sum("sex"),
                               pensioners, rtol=1e-12)
    np.testing.assert_allclose(ds["coverage_covered"].sel(guarantee="health").sum("sex"),
                               scheme_total(ds, "health"), rtol=1e-12)
    mothers = ds["coverage_target"].sel(guarantee="maternity").sum("sex")
    assert np.all(scheme_total(ds, "maternity") <= mothers + 1e-9)
    np.testing.assert_allclose(mothers, ds["births"].sum("sex"), rtol=0.15)
    assert float(ds["coverage_target"].sel(guarantee="maternity", sex="male").sum()) == 0.0


@pytest.mark.slow
@pytest.mark.parametrize("means_test", ["pension_tested", "top_up"])
def test_micro_agrees_with_cohort_on_every_benefit(tmp_path, means_test):
    """Each scheme's beneficiaries and each guarantee's covered persons, each year, as a
    share of the guarantee's target group: within binomial sampling error of the cohort
    engine's expectation (4.5 allows for 13 x 21 tests at once; the mean of |z| would be
    0.8 for exact standard errors)."""
    folder = floor_model(tmp_path / "m", means_test=means_test, floor=3000.0)
    model = spfsim.load_model(folder)
    cohort = model.project()
    micro = model.project("micro", persons=60_000, seed=3)
    weight = float(micro.attrs["weight"])

    def target(ds, guarantee):
        return ds["coverage_target"].sel(guarantee=guarantee).sum("sex").values

    z = []
    for scheme, guarantee in (("child_benefit", "children"), ("health", "health"),
                              ("maternity", "maternity"),
                              ("disability", "disability"), ("assistance", "working_age"),
                              ("social_pension", "old_age")):
        z.append(_z(scheme_total(micro, scheme).values, target(micro, guarantee),
                    scheme_total(cohort, scheme).values, target(cohort, guarantee), weight))
    for guarantee in ["health", "maternity", "disability", "working_age", "old_age",
                      "any_cash", "children"]:
        z.append(_z(*(x for ds in (micro, cohort)
                      for x in (ds["coverage_covered"].sel(guarantee=guarantee).sum("sex"),
                                target(ds, guarantee))), weight))
    z = np.abs(np.concatenate(z))
    assert z.max() < 4.5, z.max()
    assert z.mean() < 1.3, z.mean()
    # money: the average amount per beneficiary (top-ups vary by person)
    amount = [ds["average_benefit"].sel(scheme="social_pension").values
              for ds in (micro, cohort)]
    np.testing.assert_allclose(*amount, rtol=0.02)


def year_cell(ws, year: int, label: str):
    """The value of a report sheet's column ``label`` in the row of ``year``."""
    header = next(r for r in ws.iter_rows(max_row=40) if r[0].value == "Year")
    column = {cell.value: cell.column for cell in header}[label]
    row = next(r[0].row for r in ws.iter_rows() if r[0].value == year)
    return ws.cell(row=row, column=column).value


def test_report_floor_sheet(floor_run):
    from spfsim.report.workbook import build_workbook

    _model, ds = floor_run
    ws = build_workbook(ds)["Floor"]
    assert year_cell(ws, 2030, "Coverage, Older persons") == pytest.approx(
        float(ds["coverage_rate"].sel(year=2030, guarantee="old_age")))
    assert year_cell(ws, 2030, "Cost, Health care") == pytest.approx(
        float(ds["cost_to_gdp_by_guarantee"].sel(year=2030, guarantee="health")))
    assert year_cell(ws, 2030, "Coverage, Older persons, women") == pytest.approx(
        float(ds["coverage_rate_by_sex"].sel(year=2030, guarantee="old_age", sex="female")))
    assert len(ws._charts) == 2


def test_report_adequacy_sheet(floor_run):
    from spfsim.report.workbook import build_workbook

    _model, ds = floor_run
    ws = build_workbook(ds)["Adequacy"]
    # headers name the schemes in words, not by id
    names = dict(zip(ds["scheme"].values, ds["scheme_name"].values, strict=True))
    assert year_cell(ws, 2030, f"{names['maternity']}: benefit / poverty line") == \
        pytest.approx(float(ds["benefit_to_poverty_line"].sel(year=2030, scheme="maternity")))
    assert year_cell(ws, 2030, f"{names['pension']}: replacement rate of new pensions, "
                     "women") == \
        pytest.approx(float(ds["replacement_rate_new"].sel(year=2030, scheme="pension",
                                                           sex="female")))


@pytest.mark.skipif(nb.config.DISABLE_JIT, reason="compares the compiled loop with NumPy's")
def test_compiled_benefits_are_the_array_sums():
    """The compiled loop over the cells (engine.cohort_benefit_kernels) gives the array
    statements' beneficiaries, expenditure and coverage bitwise: every group, top-ups with
    a gap to the floor, each guarantee and none (-1), cash and not, probabilities and
    amounts that vary by cell, immigrant mothers."""
    from spfsim.engine import cohort_benefit_kernels

    rng = np.random.default_rng(7)
    shape = (4, 101, 2)
    population = rng.uniform(0, 100, shape)
    cells = B.CellStates(rng.dirichlet(np.ones(B.N_L), shape), rng.uniform(0, 50, shape),
                         rng.uniform(0, 0.2, shape), rng.uniform(0, 0.1, shape),
                         rng.uniform(0, 5, shape) * [0.0, 1.0])
    rules = [B.BenefitRule(None, group, guarantee, top_up, cash, rng.uniform(0, 1, shape),
                           rng.uniform(10, 1000, shape))
             for group in range(len(nc.GROUPS))
             for guarantee, top_up, cash in ((group % 6, False, True), (-1, True, True),
                                             (B.HEALTH, False, False))]
    fast = cohort_benefit_kernels.cohort_benefits(rules, cells, population)
    slow = B.cohort_benefits(rules, cells, population)
    for j in range(len(rules)):
        np.testing.assert_array_equal(fast.beneficiaries[j], slow.beneficiaries[j])
        np.testing.assert_array_equal(fast.expenditure[j], slow.expenditure[j])
    np.testing.assert_array_equal(fast.coverage, slow.coverage)
    assert slow.coverage[..., 1].sum() > 0


def test_schemes_without_coverage_give_the_same_flows_and_no_coverage():
    """run_schemes(coverage=False), as the stochastic draws and the floor's costing call
    it, leaves the coverage out (None, on the compiled path and the NumPy reference alike)
    and every scheme's flows exactly as with it."""
    from spfsim.demography import project_population
    from spfsim.economy import project_economy
    from spfsim.engine.cohort import run_schemes

    a = spfsim.load_model(None, end_year=2030).assumptions
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb,
                              a.net_migration)
    econ = project_economy(a, demo.population)
    with_it, coverage = run_schemes(a, demo, econ)
    without, none = run_schemes(a, demo, econ, coverage=False)
    assert none is None
    assert coverage.shape[:3] == demo.population.shape
    for one, other in zip(with_it, without, strict=True):
        assert np.array_equal(one.benefit_expenditure, other.benefit_expenditure), \
            one.scheme_id
        assert np.array_equal(one.beneficiaries, other.beneficiaries), one.scheme_id
