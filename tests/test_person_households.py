"""A person file with household columns: validation, calibration of the households' weights to
the base population, whole households cloned with their links (engine.micro.persons,
engine.micro.person_households)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from model_factory import families_model
from test_micro_persons import without_disclosure_control

import spfsim
from spfsim.engine.micro import families as F
from spfsim.engine.micro import person_households as H
from spfsim.engine.micro.persons import read_person_file
from spfsim.errors import AssumptionError, SpfsimError

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
HEADER = ["person_id", "household_id", "age", "sex", "status", "credited_years",
          "reference_earnings", "pension", "weight", "partner_id", "mother_id", "father_id"]


def write(path: Path, rows: list[list]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    return path


def person(pid, household, age, sex, weight=1.0, partner="", mother="", father=""):
    """A record: contributing from 20, a pensioner from 65."""
    if age >= 65:
        status, service, earnings, pension = "pensioner", 30, 0, 4000
    elif age >= 20:
        status, service, earnings, pension = "contributing", min(age - 20, 40), 9000, 0
    else:
        status, service, earnings, pension = "inactive", 0, 0, 0
    return [pid, household, age, sex, status, service, earnings, pension, weight, partner,
            mother, father]


def survey(path: Path) -> Path:
    """Households of every kind, covering every 5-year age group of both sexes: couples
    with 0-3 children, a young adult still at home, single parents, persons alone, and
    three generations (a grandmother with her married son's family: she lives apart in
    the engine's families)."""
    rows, h = [], 0
    for woman in range(18, 101):
        h += 1
        hh = f"H{h}"
        man = min(woman + 3, 100)
        weight = 1.0 + (woman % 3)
        if woman < 70:  # a couple and their children
            rows += [person(f"{hh}m", hh, man, "male", weight, partner=f"{hh}w"),
                     person(f"{hh}w", hh, woman, "female", weight, partner=f"{hh}m")]
            for c in range((woman % 4) if woman < 55 else 0):
                age = max(woman - 20 - 5 * c, 0)
                rows.append(person(f"{hh}c{c}", hh, age, ("male", "female")[c % 2], weight,
                                   mother=f"{hh}w", father=f"{hh}m"))
        else:  # older persons alone, or a couple
            rows.append(person(f"{hh}w", hh, woman, "female", weight))
            h += 1
            rows.append(person(f"H{h}m", f"H{h}", man, "male", weight))
        if woman % 10 == 0 and woman < 60:  # a single mother
            h += 1
            rows += [person(f"H{h}w", f"H{h}", woman, "female"),
                     person(f"H{h}c", f"H{h}", woman - 18, "male", mother=f"H{h}w")]
    # persons alone at every adult age group, and a mother alone with a child of every
    # child age group: households that let the weights reach every group
    for age in range(15, 101, 5):
        for sex in ("male", "female"):
            rows.append(person(f"A{age}{sex}", f"A{age}{sex}", min(age + 2, 100), sex))
    for age in range(0, 15, 5):
        for sex in ("male", "female"):
            hh = f"M{age}{sex}"
            rows.append(person(f"{hh}w", hh, age + 25, "female"))
            rows += [person(f"{hh}c{c}", hh, age + c, sex, mother=f"{hh}w") for c in range(5)]
    # three generations: the grandmother is the husband's mother
    rows += [person("G1", "G", 72, "female"),
             person("G2", "G", 45, "male", mother="G1", partner="G3"),
             person("G3", "G", 42, "female", partner="G2"),
             person("G4", "G", 12, "female", mother="G3", father="G2"),
             person("G5", "G", 9, "male", mother="G3", father="G2")]
    return write(path, rows)


def test_a_survey_is_read_with_its_links(tmp_path):
    records = read_person_file(survey(tmp_path / "persons.csv"))
    assert records.linked
    g = list(np.flatnonzero(records.household == records.household[-1]))
    grandmother, husband, wife, girl, boy = g
    assert records.partner[husband] == wife
    assert records.partner[wife] == husband
    assert records.mother[husband] == grandmother
    assert records.mother[girl] == wife
    assert records.father[boy] == husband
    # the grandmother lives apart: her son is partnered, so he has left her home
    assert not H.at_home(records)[husband]
    assert H.at_home(records)[girl]
    assert H.records_apart(records) == 1


@pytest.mark.parametrize(("change", "field", "message"), [
    (lambda r: r[0].__setitem__(9, "nobody"), "partner_id", "no record has this person_id"),
    (lambda r: r[0].__setitem__(9, r[2][0]), "partner_id", "another household"),
    (lambda r: r[1].__setitem__(9, ""), "partner_id", "partner's partner_id"),
    (lambda r: r[1].__setitem__(3, "male"), "partner_id", "other sex"),
    (lambda r: r[3].__setitem__(10, r[0][0]), "mother_id", "must be female"),
    (lambda r: r[3].__setitem__(2, 60), "mother_id", "older than the child"),
    (lambda r: r[1].__setitem__(8, 9.0), "weight", "differs within the household"),
    (lambda r: r[2].__setitem__(1, ""), "household_id", "needs a household"),
])
def test_bad_links_name_file_field_line_and_value(tmp_path, change, field, message):
    rows = [person("a", "h1", 40, "male", partner="b"),
            person("b", "h1", 38, "female", partner="a"),
            person("c", "h2", 30, "female"),
            person("d", "h1", 10, "male", mother="b", father="a")]
    change(rows)
    with pytest.raises(AssumptionError) as info:
        read_person_file(write(tmp_path / "persons.csv", rows))
    problem = next(p for p in info.value.problems if p.field == field)
    assert message in problem.message
    assert "persons.csv" in str(problem)
    assert problem.row is not None


def test_links_need_households_and_ids(tmp_path):
    path = tmp_path / "persons.csv"
    path.write_text("age,sex,status,credited_years,reference_earnings,pension,partner_id\n"
                    "30,male,inactive,0,0,0,\n")
    with pytest.raises(AssumptionError, match="need the household_id column"):
        read_person_file(path)
    path.write_text("age,sex,status,credited_years,reference_earnings,pension,household_id\n"
                    "30,male,inactive,0,0,0,h\n")
    with pytest.raises(AssumptionError, match="need the person_id column"):
        read_person_file(path)


def test_calibration_reaches_the_base_population_and_keeps_equal_households_equal(
        tmp_path):
    records = read_person_file(survey(tmp_path / "persons.csv"))
    population = np.outer(np.exp(-0.02 * np.arange(101)), [1.0, 1.02])
    weights, covered = H.calibrate(records, population)
    assert covered.all()
    members = H.household_members(records)
    persons = np.zeros((H.N_GROUPS, 2))
    for h, m in enumerate(members):
        np.add.at(persons, (H.age_groups(records.age[m]), records.sex[m]), weights[h])
    target = H.group_population(population)
    np.testing.assert_allclose(persons, target / target.sum(), rtol=1e-6)
    # raking moves households by their members: the ratio of two households of the same
    # composition is that of their survey weights
    twins = [h for h, m in enumerate(members) if len(m) == 1 and records.sex[m[0]] == 0
             and records.age[m[0]] == 100]
    assert len(twins) > 1
    first = records.weight[members[twins[0]][0]]
    for h in twins[1:]:
        assert weights[h] / weights[twins[0]] == pytest.approx(
            records.weight[members[h][0]] / first, rel=1e-9)


def test_households_that_cannot_reach_the_population_are_refused(tmp_path):
    """Men and women of the same age groups only ever in couples: the sexes' shares are
    fixed, and a population with other shares cannot be reached."""
    rows = []
    for h, age in enumerate(range(0, 101, 5)):
        rows += [person(f"m{h}", h, max(age, 15), "male", partner=f"w{h}"),
                 person(f"w{h}", h, max(age, 15), "female", partner=f"m{h}")]
    records = read_person_file(write(tmp_path / "persons.csv", rows))
    population = np.outer(np.ones(101), [1.0, 2.0])
    with pytest.raises(SpfsimError, match="cannot be weighted to the base population"):
        H.calibrate(records, population)


def test_clones_are_whole_households_with_their_links(tmp_path):
    folder = without_disclosure_control(families_model(tmp_path / "m", end=2027))
    path = survey(tmp_path / "persons.csv")
    model = spfsim.load_model(folder)
    result = model.project("micro", persons=20_000, seed=5, person_file=path)
    assert result.attrs["person_file_records_apart"] == 1
    assert result.attrs["person_file_cells_synthetic"] == 0
    # the population by age group and sex is the base population's (in expectation)
    base = model.assumptions.base_population
    simulated = H.group_population(result["population"].isel(year=0).transpose(
        "age", "sex").values)
    expected = H.group_population(base)
    assert simulated.sum() == pytest.approx(base.sum(), rel=1e-12)
    assert np.abs(simulated / expected - 1).max() < 0.15
    # households of more than two: couples with their children, as in the file
    sizes = result["households_by_size"].isel(year=0).values
    assert sizes[2:5].sum() > 0


def test_clones_keep_their_households_in_the_store(tmp_path):
    """In the base year every clone's members are linked as in the file: the family
    identities hold, the children of a couple are its own and live in its household, and
    the households' sizes are those of the file's households, the grandmother apart."""
    from spfsim.engine.micro.engine import MicroSettings
    from spfsim.engine.micro.initial import _initial_store
    from spfsim.engine.micro.population import Population

    folder = families_model(tmp_path / "m", end=2026)
    a = spfsim.load_model(folder).assumptions
    path = survey(tmp_path / "persons.csv")
    records = read_person_file(path)
    store, synthetic, _ = _initial_store(a, MicroSettings(5000, 2, person_file=str(path)), None,
                                      20_000, records, links=True)
    assert synthetic == 0
    population = Population(store, 512, 0, 1)
    _counts, sizes = population.initial_families(2, 2025, F.year_tables(a.families, 0),
                                                a.asfr[0], linked=True)
    s, n = store, store.size
    assert not F.family_findings(s.status, s.sex, s.partner, s.mother, s.father,
                                 s.household, s.left_home, n).any()
    children = np.flatnonzero((s.mother[:n] > 0) & (s.father[:n] > 0))
    assert len(children) > 100
    mothers, fathers = s.mother[children] - 1, s.father[children] - 1
    assert (s.partner[mothers] - 1 == fathers).all()
    at_home = children[s.left_home[children] == 0]
    assert (s.household[at_home] == s.household[mothers[s.left_home[children] == 0]]).all()
    # sizes: the file's households, each as often as it is cloned (the grandmother's
    # household, the last, splits into her and the couple with their children)
    weights, _ = H.calibrate(records, a.base_population)
    clones = H.clone_counts(weights, 5000, 2)
    expected = np.zeros(F.N_SIZES)
    for members, k in zip(H.household_members(records)[:-1], clones[:-1], strict=True):
        expected[len(members) - 1] += k
    expected[[0, 3]] += clones[-1]
    np.testing.assert_array_equal(sizes, expected)
    assert n == (np.arange(1, F.N_SIZES + 1) * expected).sum()
