"""Care credits (ILC 2021 para. 13(f)) in both engines."""

from __future__ import annotations

import numpy as np
import pytest
from model_factory import write_small_model
from replication import replication_t

import spfsim
from spfsim.schemes import db_pension as dbp


def test_care_probability_by_hand():
    asfr = np.zeros(101)
    asfr[20:40] = 0.1
    p = dbp.care_credit_probability(asfr, 3)
    assert p[30] == pytest.approx(1 - 0.9 ** 3)  # fertile at 29, 28 and 27
    assert p[21] == pytest.approx(0.1)  # only at 20
    assert p[20] == 0.0
    assert p[43] == pytest.approx(0.0)  # fertile at 42-40: no
    assert not dbp.care_credit_probability(asfr, 0).any()


def test_care_probability_follows_the_children_there_are():
    """With the population, each child age's rates are scaled to the children of that age
    there are: 100 women of every age 20-39 at 0.1 expect 190 children aged 0 (from the
    women of 21-39) and 180 aged 1 (22-39); with 285 aged 0 (a base population from higher
    past fertility) and 90 aged 1 (children who died or left), a woman of 30 has a child
    under 2 with probability 1 - (1 - 0.15)(1 - 0.05)."""
    asfr = np.zeros(101)
    asfr[20:40] = 0.1
    population = np.zeros((101, 2))
    population[20:40, 1] = 100.0
    population[0] = [140.0, 145.0]
    population[1] = [45.0, 45.0]
    p = dbp.care_credit_probability(asfr, 2, population)
    assert p[30] == pytest.approx(1 - 0.85 * 0.95)
    assert p[21] == pytest.approx(0.15)  # born when she was 20: aged 0
    population[:2] = 0.0  # no children: nobody is credited
    assert not dbp.care_credit_probability(asfr, 2, population).any()


def test_care_probability_compiled_is_the_array_form():
    """The compiled care-credit probability (one call a year in a projection) is bitwise
    its array form, used with Numba's JIT off (the same product over the child's ages in
    turn), on the default model's rates and population, with rates capped at one."""
    a = spfsim.load_model().assumptions
    crowded = a.base_population.copy()
    crowded[:6] *= 40.0  # forty times the children the rates give: rates above one
    for child_age, population in ((1, a.base_population), (3, a.base_population),
                                  (6, a.base_population), (3, crowded)):
        scale = dbp.children_scale(a.asfr[10], population, child_age)
        got = dbp.care_credit_probability(a.asfr[10], child_age, population)
        np.testing.assert_array_equal(
            got, dbp._care_credit_probability_arrays(a.asfr[10], child_age, scale))
    assert got.max() == 1.0  # capped


def care_model(folder, child_age=6):
    write_small_model(folder)
    toml = folder / "model.toml"
    toml.write_text(toml.read_text().replace(
        "start_year = 1995", f"start_year = 1995\ncare_credit_child_age = {child_age}\n"
        "care_credit_earnings = 0.6"))
    return folder


def test_care_credits_raise_womens_service_only(tmp_path, small_projection):
    ds = spfsim.load_model(care_model(tmp_path / "m")).project()
    base, care = small_projection.sel(scheme="pension"), ds.sel(scheme="pension")
    np.testing.assert_allclose(care["contributors"], base["contributors"], rtol=1e-12)
    men = [x["credited_years_at_award"].sel(sex="male") for x in (care, base)]
    np.testing.assert_allclose(*men, rtol=1e-12)
    women = [x["credited_years_at_award"].sel(sex="female") for x in (care, base)]
    assert np.all(women[0] > women[1])
    assert float(care["benefit_expenditure"][-1]) > float(base["benefit_expenditure"][-1])


@pytest.mark.slow
def test_micro_agrees_with_cohort_on_care_credits(tmp_path):
    assert_women_agree_with_cohort(spfsim.load_model(care_model(tmp_path / "m")))


def assert_women_agree_with_cohort(model, **settings):
    """Women's credited years and new pensions: 10 micro replications of 40,000 persons
    (seeds 90-99, ``settings`` to Model.project) unbiased for the cohort engine."""
    cohort = model.project()
    runs = [model.project("micro", persons=40_000, seed=90 + r, **settings)
            for r in range(10)]

    def women(ds, name):
        return ds[name].sel(scheme="pension", sex="female").values

    for name in ("credited_years_at_award", "average_new_benefit"):
        t, big_t = replication_t(np.stack([women(ds, name) for ds in runs]),
                                 women(cohort, name))
        assert np.abs(t).max() <= 5.5, (name, np.abs(t).max())
        assert abs(big_t) <= 4.5, (name, big_t)


def base_state(model: spfsim.Model):
    """The cohort engine's reconstructed base-year pension state of ``model``."""
    from spfsim.demography import project_population
    from spfsim.economy import project_economy
    from spfsim.engine.cohort import base_year_state, pension_inputs

    a = model.assumptions
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb,
                              a.net_migration)
    econ = project_economy(a, demo.population)
    scheme = a.schemes[0]
    classes, inputs = pension_inputs(scheme, a, demo, econ)
    return base_year_state(scheme, a, inputs(0), classes)


def test_care_credits_go_to_insured_women_only(tmp_path):
    """With care_credit_eligibility = 'insured' (the default) no woman holds credited
    service without a year of contributions; with 'everyone' nearly every woman does. The
    old rule credited every non-contributing mother, which made nearly every woman aged
    40-55 an insured person (97 % of them qualified their survivors in the default
    model, where 11 % contribute)."""
    states = {}
    for eligibility in ("insured", "everyone"):
        folder = care_model(tmp_path / eligibility)
        toml = folder / "model.toml"
        toml.write_text(toml.read_text().replace(
            "care_credit_earnings = 0.6", f'care_credit_earnings = 0.6\n'
            f'care_credit_eligibility = "{eligibility}"'))
        states[eligibility] = base_state(spfsim.load_model(folder))
    insured = states["insured"].active[40:56, 1].sum(axis=(0, 1))  # (service, k)
    # contribution classes: none, at least one year; nobody credited without one
    assert insured.shape[-1] == 2
    assert insured[1:, 0].sum() == 0.0
    # with credits for everyone, contributions are not tracked (one class)
    everyone = states["everyone"].active[40:56, 1].sum(axis=(0, 1))[:, 0]
    with_service = {"insured": insured[1:].sum() / insured.sum(),
                    "everyone": everyone[1:].sum() / everyone.sum()}
    # the small model's women aged 40-55: 79 % have contributed, 99 % have a young child
    # at some point
    assert with_service["everyone"] > 0.95
    assert with_service["everyone"] - with_service["insured"] > 0.1, with_service


def test_refunds_return_contributions_not_care_credits(tmp_path):
    """With a minimum service nobody reaches, every member who contributed is paid back
    at the pensionable age: the same refunds with care credits as without, for the
    credits were not paid for (before, the credited care earnings were refunded too)."""
    refunds = {}
    for child_age in (0, 6):
        folder = care_model(tmp_path / f"care{child_age}", child_age)
        toml = folder / "model.toml"
        toml.write_text(toml.read_text().replace("minimum_service = 10", "minimum_service = 60")
                        + "")
        toml.write_text(toml.read_text().replace("care_credit_earnings = 0.6",
                                                 "care_credit_earnings = 0.6\nrefund_share = 1.0"))
        ds = spfsim.load_model(folder).project()
        refunds[child_age] = ds["benefit_expenditure_by_branch"].sel(scheme="pension",
                                                                     branch="refunds").values
    assert refunds[0].sum() > 0
    np.testing.assert_allclose(refunds[6], refunds[0], rtol=1e-9)


def test_refunds_return_each_year_s_contributions_at_its_rate(tmp_path):
    """The contribution rate doubles in 2030 and nobody reaches a pension: the refunds of
    2030, on contributions up to 2029, are those of the constant rate; later ones mix both
    rates. Before, each refund applied the year's rate to all past earnings (2030's
    refunds were twice as large)."""
    refunds = {}
    for rate in ("0.10", "{ 2025 = 0.10, 2030 = 0.20 }"):
        folder = write_small_model(tmp_path / f"r{len(refunds)}")
        toml = folder / "model.toml"
        toml.write_text(toml.read_text().replace("minimum_service = 10", "minimum_service = 60")
                        .replace("contribution_rate = 0.10", f"contribution_rate = {rate}")
                        .replace("start_year = 1995", "start_year = 1995\nrefund_share = 1.0"))
        ds = spfsim.load_model(folder).project()
        refunds[rate] = ds["benefit_expenditure_by_branch"].sel(scheme="pension",
                                                                branch="refunds")
    constant, doubled = refunds.values()
    np.testing.assert_allclose(doubled.sel(year=slice(2025, 2030)),
                               constant.sel(year=slice(2025, 2030)), rtol=1e-12)
    ratio = (doubled / constant).sel(year=slice(2031, None)).values
    assert np.all(np.diff(ratio) > 0)
    assert 1.0 < ratio[0] < ratio[-1] < 2.0


def test_linked_mothers_of_young_children_are_flagged():
    """families.mothers_of_young_children with a child age of 3: a mother (slot 0) of
    children aged 2 and 1 (flagged once), a mother (slot 1) of a child of 3 (not), a mother
    (slot 2) whose child of 1 died (not), a father (slot 3, the children's father link only:
    not), a woman (slot 4) with no child (not)."""
    from spfsim.engine.micro import families as F
    from spfsim.engine.micro.store import FEMALE, GONE, INACTIVE, MALE, PersonStore

    persons = [(30, FEMALE), (28, FEMALE), (25, FEMALE), (33, MALE), (29, FEMALE),
               (2, MALE), (1, FEMALE), (3, MALE), (1, MALE)]
    store = PersonStore.empty(len(persons))
    for i, (age, sex) in enumerate(persons):
        store.pid[i], store.age[i], store.sex[i], store.status[i] = i, age, sex, INACTIVE
    store.size = len(persons)
    store.mother[5:9] = [1, 1, 2, 3]
    store.father[5:7] = 4
    store.status[8] = GONE
    flags = np.full(store.size, 7, dtype=np.int8)
    F.mothers_of_young_children(store.status, store.age, store.mother, store.size, 3, flags)
    assert flags.tolist() == [1, 0, 0, 0, 0, 0, 0, 0, 0]


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # JIT off
def test_care_credit_goes_to_the_linked_mother_not_by_chance():
    """careers._care with family links credits the mothers flagged (slot 0) and no one
    else, even where the age's probability of a young child is 1; without links (an empty
    flag array) that probability decides, for both women."""
    from spfsim.engine.micro import records
    from spfsim.engine.micro.careers import _care

    rules = records.NO_PENSION[0]._replace(has=True, care_credit=500.0, care_child_age=3)
    when = records.step(seed=1, year=2030, size=2, chunk=2, scale=1.0, deflator=1.0,
                        first_birth_year=1900, lifetime_unit=1.0)
    certain = np.ones(101)

    def credited(young_child):
        service, care_years = np.zeros(2, dtype=np.uint8), np.zeros(2, dtype=np.uint8)
        credits, recent = np.zeros(2), np.zeros((2, 0))
        for i in range(2):
            _care(i, i, 30, 1, when, rules, certain, young_child, service, care_years,
                  credits, recent)
        return care_years.tolist(), credits.tolist()

    assert credited(np.array([1, 0], dtype=np.int8)) == ([1, 0], [500.0, 0.0])
    assert credited(np.zeros(0, dtype=np.int8)) == ([1, 1], [500.0, 500.0])


@pytest.mark.slow
def test_micro_with_linked_mothers_agrees_with_cohort_on_care_credits(tmp_path):
    """With family links, care credits go to the linked mothers of children below 6 rather
    than by the cohort engine's probability of having one; women's credited service and
    new pensions agree with the cohort engine within the replications' sampling error. The
    small model's base population holds 61 % more children under 6 than its fertility
    rates give: with the probability from today's rates alone, the linked mothers' credits
    ran ahead of the cohort engine's (horizon-wide t 7.7); scaled to the children there
    are (db_pension.care_credit_probability), t was 3.1 at seeds 90-99."""
    from model_factory import families_model

    folder = families_model(tmp_path / "m")
    toml = folder / "model.toml"
    toml.write_text(toml.read_text().replace(
        "start_year = 1995", "start_year = 1995\ncare_credit_child_age = 6\n"
        "care_credit_earnings = 0.6"))
    assert_women_agree_with_cohort(spfsim.load_model(folder), poverty=False)
