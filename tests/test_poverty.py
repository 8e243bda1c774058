"""Household income, poverty and inequality (engine.micro.poverty): hand-built households,
the histogram measures against exact ones, and whole runs (identities, common random
numbers, chunking, the [poverty] section's validation)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_factory import families_model

import spfsim
from spfsim.demography import project_population
from spfsim.economy import project_economy
from spfsim.engine.benefits import ANY_CASH, N_COVERAGE, OLD_AGE, WORKING_AGE
from spfsim.engine.micro import poverty as P
from spfsim.engine.micro.counters import NC_CASH, NC_GUARANTEE, NC_HOUSEHOLD
from spfsim.engine.micro.coverage import TARGET_SHIFT
from spfsim.engine.micro.engine import MicroSettings, run_micro
from spfsim.errors import AssumptionError

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")

POVERTY = """
[poverty]
line = "{line}"
informal_earnings = {informal}
"""


def poverty_model(folder, line="absolute", informal=0.5, end=2032, **families):
    """The small model with families and a [poverty] section."""
    families_model(folder, end=end, **families)
    with (folder / "model.toml").open("a") as handle:
        handle.write(POVERTY.format(line=line, informal=informal))
    return folder


def measure(household, birth_year, sex, income, line, chunk=2, year=2030, other_adult=0.5,
            child=0.3, child_age=14, scale=1.0 / 1024, minimum=(), tested=(),
            coverage_bits=None, covered=None):
    """The passes over hand-built persons (ids = slots), with household guarantees
    ``minimum``: (level per equivalent adult, take-up, earnings disregard, youngest age of
    the reference person) each, after persons' benefits tested on the household ``tested``:
    (benefit, take-up, threshold as a multiple of it, youngest age) each. Returns persons
    (sex, group), poor and gaps (stage, sex, group), the histograms (stage, bin), and the
    schemes' beneficiaries and money (J, age, sex: the guarantees, then the tested). The
    schemes cover the working-age and old-age guarantees, in cash; ``coverage_bits``:
    the persons' groups as the year kernel kept them (none covered, none in a target when
    not given), updated in place, the persons newly covered added to ``covered`` (age,
    sex, group) when given."""
    n = len(household)
    rows = (n + chunk - 1) // chunk
    income = np.array(income, dtype=np.float32)
    members = np.zeros(n, dtype=np.uint32)
    household, birth_year = np.array(household, np.int32), np.array(birth_year, np.int16)
    sex = np.array(sex, np.uint8)
    counts = np.zeros((rows, 3, P.N_BINS), np.int64)
    sums = np.zeros_like(counts)
    persons = np.zeros((rows, 2, 3), np.int64)
    poor, gaps = np.zeros((rows, 3, 2, 3), np.int64), np.zeros((rows, 3, 2, 3), np.int64)
    schemes = [*minimum, *tested]
    codes = np.zeros((len(schemes), 6), np.int64)
    codes[:, NC_HOUSEHOLD] = [P.GUARANTEE_TEST] * len(minimum) + [P.THRESHOLD_TEST] * len(tested)
    codes[:, NC_GUARANTEE] = [WORKING_AGE] * len(minimum) + [OLD_AGE] * len(tested)
    codes[:, NC_CASH] = 1
    bits = (np.zeros(n, np.uint16) if coverage_bits is None else coverage_bits)
    newly = np.zeros((rows + 1, 101, 2, N_COVERAGE), np.int64)
    probability = np.zeros((len(schemes), 101, 2))
    amount = np.zeros((len(schemes), 101, 2))
    for j, (level, take_up, _, min_age) in enumerate(schemes):
        probability[j, min_age:] = take_up
        amount[j] = level
    disregard = np.array([m[2] if j < len(minimum) else 0.0 for j, m in enumerate(schemes)])
    threshold = np.array([m[2] if j >= len(minimum) else 0.0 for j, m in enumerate(schemes)])
    paid, money = (np.zeros((rows, len(schemes), 101, 2), np.int64) for _ in range(2))
    assert P.household_incomes(household, birth_year, sex, income, members, n, year,
                               child_age) == -1
    tested_paid, tested_money = (np.zeros((len(schemes), 101, 2), np.int64) for _ in range(2))
    P.household_tested_benefits(household, np.arange(n, dtype=np.int64), birth_year, sex,
                                income, members, n, 1, year, codes, probability, amount,
                                threshold, child_age, other_adult, child, scale, tested_paid,
                                tested_money, bits, newly[rows])
    groups = np.zeros(n, np.uint8)
    P.household_benefits(household, np.arange(n, dtype=np.int64), birth_year, sex, income,
                         members, n, chunk, 1, year, codes, probability, amount, disregard,
                         child_age, other_adult, child, scale, paid, money, groups)
    P.household_coverage(household, birth_year, sex, n, chunk, year, groups, bits,
                         newly[:rows])
    if covered is not None:
        covered += newly.sum(0)
    P.household_measures(household, income, members, n, chunk, child_age, other_adult,
                         child, 1000.0, scale, line, counts, sums, persons, poor, gaps)
    return (persons.sum(0), poor.sum(0), gaps.sum(0) * scale, counts.sum(0),
            sums.sum(0) * scale, paid.sum(0) + tested_paid,
            (money.sum(0) + tested_money) * scale)


def test_hand_built_household():
    """Two adults, two children and a grandmother with a pension (household of slot 1),
    and a widower alone with a social pension (slot 5), in 2030, at a line of 9,000.

    The five: scale 1 + 0.5 x 2 (second adult, grandmother) + 0.3 x 2 = 2.6. Incomes:
    father earns 15,000 (market), the grandmother's pension 4,000 (contributory), two child
    benefits of 2,250 (the floor's). Equivalised: market 15,000 / 2.6 = 5,769.23, before the
    floor 19,000 / 2.6 = 7,307.69, disposable 23,500 / 2.6 = 9,038.46: poor before the floor,
    not after; gaps per person 3,230.77 and 1,692.31. The widower: scale 1, social pension
    8,000 (the floor's): poor at every stage, gaps 9,000, 9,000 and 1,000.
    """
    household = [2, 2, 2, 2, 2, 6]  # slot + 1 of the reference person (the father)
    birth_year = [1995, 1993, 2022, 2025, 1955, 1950]  # ages 35, 37, 8, 5, 75, 80
    sex = [1, 0, 1, 0, 1, 0]
    income = [[0, 0, 0], [15000, 0, 0], [0, 0, 2250], [0, 0, 2250], [0, 4000, 0],
              [0, 0, 8000]]
    persons, poor, gaps, counts, *_ = measure(household, birth_year, sex, income, 9000.0)
    assert persons.tolist() == [[1, 1, 1], [1, 1, 1]]  # (sex, 0-14 / 15-64 / 65+)
    family = np.array([[1, 1, 0], [1, 1, 1]])  # the five by sex and group
    widower = np.array([[0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(poor[0], family + widower)  # market
    np.testing.assert_array_equal(poor[1], family + widower)  # before the floor
    np.testing.assert_array_equal(poor[2], widower)  # disposable
    np.testing.assert_allclose(gaps[0], (9000 - 15000 / 2.6) * family + 9000 * widower,
                               rtol=1e-6)
    np.testing.assert_allclose(gaps[1], (9000 - 19000 / 2.6) * family + 9000 * widower,
                               rtol=1e-6)
    np.testing.assert_allclose(gaps[2], 1000 * widower, rtol=1e-6)
    assert counts.sum(axis=1).tolist() == [6, 6, 6]
    assert counts[0, 0] == 1  # the widower without market income: the zero bin


def test_hand_built_household_minimum_income():
    """The households of test_hand_built_household with a minimum income of 9,000 per
    equivalent adult (the line), all taking it up, 20 % of earnings disregarded.

    The five (scale 2.6): counted income 15,000 x 0.8 + 4,000 + 2 x 2,250 = 20,500 against
    a guarantee of 9,000 x 2.6 = 23,400: 2,900 paid, counted at the father (37, male).
    Disposable 26,400 / 2.6 = 10,153.85: not poor. The widower: 9,000 - 8,000 = 1,000
    paid, at 80, male; disposable exactly the line: not poor. A second scheme for
    references from 90 pays nobody. Market and before-the-floor poverty are unchanged.
    """
    household = [2, 2, 2, 2, 2, 6]
    birth_year = [1995, 1993, 2022, 2025, 1955, 1950]
    sex = [1, 0, 1, 0, 1, 0]
    income = [[0, 0, 0], [15000, 0, 0], [0, 0, 2250], [0, 0, 2250], [0, 4000, 0],
              [0, 0, 8000]]
    _, poor, gaps, _, _, paid, money = measure(
        household, birth_year, sex, income, 9000.0,
        minimum=((9000.0, 1.0, 0.2, 18), (9000.0, 1.0, 0.0, 90)))
    assert paid.sum() == 2
    assert paid[0, 37, 0] == 1
    assert paid[0, 80, 0] == 1
    assert money[0, 37, 0] == pytest.approx(2900.0, abs=1e-2)
    assert money[0, 80, 0] == pytest.approx(1000.0, abs=1e-2)
    assert not paid[1].any()
    assert poor[2].sum() == 0
    assert gaps[2].sum() == 0
    family, widower = np.array([[1, 1, 0], [1, 1, 1]]), np.array([[0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(poor[0], family + widower)
    np.testing.assert_array_equal(poor[1], family + widower)
    taken_up = measure(household, birth_year, sex, income, 9000.0,
                       minimum=((9000.0, 0.0, 0.2, 18),))
    assert taken_up[5].sum() == 0  # nobody takes it up: nothing paid


def test_hand_built_household_tested_social_pension():
    """The households of test_hand_built_household (in 2030, line 9,000) with a social
    pension of 3,000 from 65, paid when the household's income per equivalent adult before
    it is below 3 x the benefit (9,000), all taking it up; and an older couple (slots 6, 7:
    72 and 68, household of slot 7) living on his contributory pension of 10,000.

    The five (scale 2.6): 23,500 / 2.6 = 9,038.46, above 9,000: the grandmother (75) gets
    nothing. The widower: 8,000 / 1 below: paid 3,000, at 80, male; disposable 11,000: no
    longer poor. The couple (scale 1.5): 10,000 / 1.5 = 6,666.67, below: both are paid
    (each tested on the income before either's pension): 16,000 / 1.5 = 10,666.67, not
    poor. A minimum income at the line after it counts the pension: the couple and the
    widower are above the line, nothing is paid to them.
    """
    household = [2, 2, 2, 2, 2, 6, 7, 7]
    birth_year = [1995, 1993, 2022, 2025, 1955, 1950, 1958, 1962]  # ..., 72, 68
    sex = [1, 0, 1, 0, 1, 0, 0, 1]
    income = [[0, 0, 0], [15000, 0, 0], [0, 0, 2250], [0, 0, 2250], [0, 4000, 0],
              [0, 0, 8000], [0, 10000, 0], [0, 0, 0]]
    _, poor, _, _, _, paid, money = measure(
        household, birth_year, sex, income, 9000.0, minimum=((9000.0, 1.0, 0.0, 65),),
        tested=((3000.0, 1.0, 3.0, 65),))
    pension = 1  # the tested scheme comes after the guarantee
    assert paid[pension].sum() == 3
    assert paid[pension, 80, 0] == paid[pension, 72, 0] == paid[pension, 68, 1] == 1
    assert money[pension].sum() == pytest.approx(9000.0, abs=1e-2)
    assert not paid[pension, 75].any()  # the grandmother's household is above
    # the minimum income (references from 65): the widower at 11,000 and the couple at
    # 10,666.67 are above the line; the father is 37
    assert not paid[0].any()
    # lifted by the floor: the five (by their child benefits), the widower and the couple
    family = np.array([[1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(poor[1] - poor[2], family + np.array([[0, 0, 2], [0, 0, 1]]))
    assert poor[2].sum() == 0
    none_taken = measure(household, birth_year, sex, income, 9000.0,
                         tested=((3000.0, 0.0, 3.0, 65),))
    assert none_taken[5].sum() == 0


def kept_groups(covered: list[tuple[int, ...]], targets: list[tuple[int, ...]]) -> np.ndarray:
    """Coverage bits as the year kernel keeps them, from each person's groups covered and
    groups whose target the person is in."""
    return np.array([sum(1 << g for g in c) | sum(1 << g for g in t) << TARGET_SHIFT
                     for c, t in zip(covered, targets, strict=True)], np.uint16)


def test_hand_built_household_coverage():
    """Who the household-tested benefits cover, on the households of the two tests above
    (2030). Every person is in the cash target; the older persons in the old-age one; the
    mother (35, slot 0) is jobless, in the working-age one. Covered before: the children
    (a child benefit), the grandmother and the older husband (contributory pensions) for
    both their groups, the widower for cash (a floor benefit).

    The social pension (paid to the widower, the husband and his wife) newly covers the
    widower for old age and the wife (68, no income) for old age and cash: 3. The minimum
    income (paid to the five's household and to the widower's) covers its members who
    were not: the mother for working age and cash, the father (37, informal) for cash: 3;
    the widower, already covered for cash, adds nothing.
    """
    household = [2, 2, 2, 2, 2, 6, 7, 7]
    birth_year = [1995, 1993, 2022, 2025, 1955, 1950, 1958, 1962]
    sex = [1, 0, 1, 0, 1, 0, 0, 1]
    income = [[0, 0, 0], [15000, 0, 0], [0, 0, 2250], [0, 0, 2250], [0, 4000, 0],
              [0, 0, 8000], [0, 10000, 0], [0, 0, 0]]
    cash, old = (ANY_CASH,), (ANY_CASH, OLD_AGE)
    targets = [(ANY_CASH, WORKING_AGE), cash, cash, cash, old, old, old, old]
    before = [(), (), cash, cash, old, cash, old, ()]
    covered = np.zeros((101, 2, N_COVERAGE), np.int64)
    measure(household, birth_year, sex, income, 9000.0, tested=((3000.0, 1.0, 3.0, 65),),
            coverage_bits=kept_groups(before, targets), covered=covered)
    assert covered.sum() == 3
    assert covered[80, 0, OLD_AGE] == covered[68, 1, OLD_AGE] == covered[68, 1, ANY_CASH] == 1
    covered[:] = 0
    bits = kept_groups(before, targets)
    measure(household[:6], birth_year[:6], sex[:6], income[:6], 9000.0,
            minimum=((9000.0, 1.0, 0.2, 18),), coverage_bits=bits[:6], covered=covered)
    assert covered.sum() == 3
    assert covered[35, 1, WORKING_AGE] == covered[35, 1, ANY_CASH] == 1
    assert covered[37, 0, ANY_CASH] == 1
    kept = bits[:6] >> TARGET_SHIFT & bits[:6]  # covered groups within the targets
    assert kept[0] == (1 << ANY_CASH) | (1 << WORKING_AGE)


def test_a_benefit_at_the_line_reaches_it():
    """A person alone whose only income is a social pension of exactly one poverty line is
    not poor, whatever the line's digits (incomes are float32, the line float64); one
    currency unit less is."""
    for line in (9000.0, 9954.0, 10869.768000000002, 13090.913784748802, 398309.71346349):
        incomes = [[0, 0, line], [0, 0, line - 1.0]]
        _, poor, gaps, *_ = measure([1, 2], [1950, 1950], [1, 1], incomes, line)
        assert poor[2].sum() == 1, line
        assert gaps[2].sum() == pytest.approx(1.0, abs=1e-2)


@pytest.mark.parametrize(("adults", "children", "expected"), [
    (1, 0, 1.0), (2, 0, 1.5), (2, 2, 2.1), (3, 1, 2.3), (0, 2, 1.3), (0, 1, 1.0)])
def test_oecd_modified_scale(adults, children, expected):
    assert P.equivalence_scale(adults, children, 0.5, 0.3) == pytest.approx(expected)


@pytest.mark.parametrize(("child_age", "children"), [(12, 1), (14, 1), (15, 2), (16, 2),
                                                   (18, 3), (25, 4)])
def test_the_scale_counts_children_below_child_age(child_age, children):
    """One household in 2030 of five members aged 40, 21, 17, 14 and 10 (market income
    26,000): the children are those below ``child_age``, on either side of the first age
    of working age (15), where the members' code splits them."""
    birth_year = [1990, 2009, 2013, 2016, 2020]
    income = [[26000.0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]
    persons, _, gaps, *_ = measure([1] * 5, birth_year, [0, 1, 0, 1, 0], income, 1e5,
                                   child_age=child_age)
    adults = 5 - children
    expected = 1.0 + 0.5 * (adults - 1) + 0.3 * children
    assert persons.tolist() == [[1, 2, 0], [1, 1, 0]]  # (sex, 0-14 / 15-64 / 65+)
    # the gap of every member: the line less 26,000 over the scale (float32 incomes)
    assert gaps[0].sum() == pytest.approx(5 * (1e5 - 26000.0 / expected), rel=1e-6)


def test_a_household_of_more_members_in_a_field_than_its_code_counts_is_refused():
    """The members' code counts up to 31 children of one sex: a household with that many
    boys is measured, one more and household_incomes names its reference slot (the
    engine then stops with an error)."""
    for extra, expected in ((0, -1), (1, 0)):
        n = 2 + 31 + extra  # two parents and the boys under 15
        household = np.ones(n, dtype=np.int32)
        birth_year = np.array([1990, 1990] + [2025] * (n - 2), dtype=np.int16)
        sex = np.array([0, 1] + [0] * (n - 2), dtype=np.uint8)
        income = np.zeros((n, P.N_SOURCES), dtype=np.float32)
        members = np.zeros(n, dtype=np.uint32)
        assert P.household_incomes(household, birth_year, sex, income, members, n, 2030,
                                   14) == expected
        if expected < 0:
            assert P.members_in(members[0], 0) == 31  # boys 0-14
            assert P.members_in(members[0], 1) == 1  # the father
            assert P.members_in(members[0], 4) == 1  # the mother


def test_a_line_known_later_counts_as_one_known_at_once():
    """A relative line is known only once the histograms are summed: the measures without
    a line, then the counts alone (poverty_counts), give what the one pass with the line
    gives, on 2,000 random persons in households of one to six."""
    rng_ = np.random.default_rng(5)
    n, chunk, line, scale = 2000, 128, 900.0, 1.0 / 1024
    sizes = rng_.integers(1, 7, n)  # households of consecutive slots, the first the reference
    reference = np.repeat(np.cumsum(sizes) - sizes, sizes)[:n]
    household = (reference + 1).astype(np.int32)
    birth_year = rng_.integers(1930, 2030, n).astype(np.int16)
    sex = rng_.integers(0, 2, n).astype(np.uint8)
    rows = (n + chunk - 1) // chunk
    persons_income = rng_.gamma(1.0, 500.0, (n, 3)).astype(np.float32)
    results = []
    for known in (True, False):
        income = persons_income.copy()
        members = np.zeros(n, np.uint32)
        assert P.household_incomes(household, birth_year, sex, income, members, n, 2030,
                                   14) == -1
        out = [np.zeros((rows, 3, P.N_BINS), np.int64), np.zeros((rows, 3, P.N_BINS), np.int64),
               np.zeros((rows, 2, 3), np.int64), np.zeros((rows, 3, 2, 3), np.int64),
               np.zeros((rows, 3, 2, 3), np.int64)]
        P.household_measures(household, income, members, n, chunk, 14, 0.5, 0.3, 1000.0,
                             scale, line if known else np.nan, *out)
        if not known:
            assert not out[3].any()  # nobody counted poor yet
            P.poverty_counts(household, income, members, n, chunk, line, scale, *out[2:])
        results.append([a.sum(0) for a in out])
    assert results[0][3].sum() > 0  # some are poor
    for with_line, later in zip(*results, strict=True):
        np.testing.assert_array_equal(with_line, later)


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=0.0, max_value=1e12, allow_nan=False))
def test_an_income_falls_in_the_bin_between_its_edges(units):
    """income_bin(x) is the bin b with edges b <= x < edges b+1 (bin_edges)."""
    edges = P.bin_edges()
    b = P.income_bin(units)
    assert edges[b] <= units < edges[b + 1]


def test_the_income_bins_of_edges_and_odd_values():
    """Each lower edge opens its bin; just below it, the bin before; NaN and negative
    incomes go to bin 0, infinity to the last."""
    edges = P.bin_edges()
    inner = edges[1:-1]
    assert [P.income_bin(x) for x in inner] == list(range(1, P.N_BINS))
    assert [P.income_bin(np.nextafter(x, 0.0)) for x in inner] == list(range(P.N_BINS - 1))
    assert P.income_bin(np.nan) == P.income_bin(-1.0) == P.income_bin(0.0) == 0
    assert P.income_bin(np.inf) == P.N_BINS - 1


def test_histogram_gini_and_median_near_the_exact_ones():
    """Lognormal household incomes (sd 0.8, mean about the unit) of households of 1-6
    members, a tenth without income: the histogram's Gini is a lower bound within 0.001
    of the exact Gini over persons, and its median within 0.3 % of the exact median."""
    rng = np.random.default_rng(5)
    n_households = 20_000
    size = rng.integers(1, 7, n_households)
    y = 1000.0 * rng.lognormal(0.0, 0.8, n_households) * (rng.random(n_households) > 0.1)
    household = np.repeat(np.arange(n_households), size)
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    income = np.zeros((len(household), 3))
    income[first, 0] = y  # all income with the reference person, market only
    birth_year = np.full(len(household), 1980)  # adults: scale 1 + 0.5 (size - 1)
    *_, counts, sums, _, _ = measure(first[household] + 1, birth_year,
                                     np.zeros(len(household)), income, 500.0, chunk=4096)
    persons_income = np.repeat(np.float32(y) / (1.0 + 0.5 * (size - 1)), size)
    ordered = np.sort(persons_income)
    n = len(ordered)
    exact = 1.0 - 2.0 * np.sum(np.cumsum(ordered) - 0.5 * ordered) / (n * ordered.sum())
    gini = P.histogram_gini(counts[2], sums[2])
    assert exact - 0.001 < gini <= exact + 1e-9
    assert P.histogram_median(counts[2], 1000.0) == pytest.approx(np.median(ordered),
                                                                  rel=0.003)


def simulate(folder, persons=3000, seed=4, chunk_size=512, **settings):
    a = spfsim.load_model(folder).assumptions
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb, a.net_migration)
    return run_micro(a, demo, project_economy(a, demo.population),
                     MicroSettings(persons, seed, chunk_size=chunk_size, **settings))


def test_a_run_measures_everybody_and_transfers_only_lower_poverty(tmp_path):
    """The persons measured are the population of 1 July by sex and age group; every
    transfer adds income, so poverty headcounts and gaps fall (weakly) from stage to
    stage, person by person, hence in every cell; the floor closes a share of the gap in
    [0, 1]; the line is the [economy] poverty line indexed to prices."""
    folder = poverty_model(tmp_path / "m")
    ds = spfsim.load_model(folder).project("micro", persons=3000, seed=4)
    for group, ages in zip(P.AGE_GROUPS, (slice(0, 14), slice(15, 64), slice(65, 100)),
                           strict=True):
        np.testing.assert_allclose(
            ds.poverty_population.sel(age_group=group).transpose("year", "sex"),
            ds.population.sel(age=ages).sum("age").transpose("year", "sex"), rtol=1e-12)
    poor, gap = ds.persons_in_poverty, ds.poverty_gap
    for stage, later in (("market", "before_floor"), ("before_floor", "disposable")):
        assert (poor.sel(income_stage=later) <= poor.sel(income_stage=stage)).all()
        assert (gap.sel(income_stage=later) <= gap.sel(income_stage=stage) + 1e-6).all()
    assert (poor <= ds.poverty_population).all()
    closed = ds.poverty_gap_closed_by_floor
    assert ((closed >= 0) & (closed <= 1)).all()
    assert (closed > 0).all()
    np.testing.assert_allclose(ds.household_poverty_line, ds.poverty_line)
    gini = ds.gini_equivalised_income
    assert ((gini > 0) & (gini < 1)).all()


def test_transfers_and_informal_earnings_move_only_their_stages(tmp_path):
    """Common random numbers: a higher child benefit leaves market income and the income
    before the floor as they were, person by person, and lowers children's disposable
    poverty; informal earnings change market incomes but no contributory flow."""
    base_folder = poverty_model(tmp_path / "b")
    base = simulate(base_folder)
    reform_folder = poverty_model(tmp_path / "r")
    text = (reform_folder / "model.toml").read_text()
    assert "benefit = 600.0" in text
    (reform_folder / "model.toml").write_text(text.replace("benefit = 600.0",
                                                           "benefit = 2400.0"))
    reform = simulate(reform_folder)
    for name in ("persons", "line"):
        np.testing.assert_array_equal(base.poverty[name], reform.poverty[name])
    for stage in (0, 1):
        np.testing.assert_array_equal(base.poverty["poor"][:, stage],
                                      reform.poverty["poor"][:, stage])
    children = (slice(None), 2, slice(None), 0)
    assert (reform.poverty["poor"][children] <= base.poverty["poor"][children]).all()
    assert reform.poverty["poor"][children].sum() < base.poverty["poor"][children].sum()
    informal = simulate(poverty_model(tmp_path / "i", informal=0.0))
    assert informal.poverty["poor"][:, 0].sum() > base.poverty["poor"][:, 0].sum()
    for one, other in zip(base.flows, informal.flows, strict=True):
        np.testing.assert_array_equal(one.benefit_expenditure, other.benefit_expenditure)
        np.testing.assert_array_equal(one.contribution_income, other.contribution_income)


def test_identical_for_any_chunk_size(tmp_path):
    """Poverty, and a minimum income (take-up 0.6) paid household by household."""
    folder = minimum_income_model(tmp_path / "m", take_up=0.6)
    one, two = simulate(folder, chunk_size=97), simulate(folder, chunk_size=4096)
    for name, values in one.poverty.items():
        np.testing.assert_array_equal(values, two.poverty[name], err_msg=name)
    for a, b in zip(one.flows, two.flows, strict=True):
        np.testing.assert_array_equal(a.benefit_expenditure, b.benefit_expenditure)
        np.testing.assert_array_equal(a.beneficiaries, b.beneficiaries)


def test_relative_line_is_its_share_of_the_median(tmp_path):
    folder = poverty_model(tmp_path / "m", line="relative", end=2028)
    result = simulate(folder, persons=2000)
    disposable = P.STAGES.index("disposable")
    np.testing.assert_allclose(result.poverty["line"],
                               0.6 * result.poverty["median"][:, disposable], rtol=1e-12)


def test_no_poverty_without_the_section_or_families(tmp_path):
    assert simulate(families_model(tmp_path / "f", end=2027), persons=300).poverty is None
    folder = poverty_model(tmp_path / "p", end=2027)
    assert simulate(folder, persons=300, families=False).poverty is None
    assert simulate(folder, persons=300, poverty=False).poverty is None


@pytest.mark.parametrize(("section", "field", "message"), [
    ('line = "absolute"', "poverty.informal_earnings", "required"),
    ('informal_earnings = 3.0', "poverty.informal_earnings", "from 0 to 2"),
    ('informal_earnings = 0.5\nline = "median"', "poverty.line", "one of"),
    ('informal_earnings = 0.5\nchild = 1.5', "poverty.child", "from 0 to 1"),
    ('informal_earnings = 0.5\nchild_age = 40', "poverty.child_age", "1 to 25"),
    ('informal_earnings = 0.5\nthreshold = 5', "poverty.threshold", "unknown"),
])
def test_a_bad_poverty_section_is_named(tmp_path, section, field, message):
    folder = families_model(tmp_path / "m")
    with (folder / "model.toml").open("a") as handle:
        handle.write(f"\n[poverty]\n{section}\n")
    with pytest.raises(AssumptionError) as error:
        spfsim.load_model(folder)
    text = str(error.value)
    assert "model.toml" in text
    assert field in text
    assert message in text


def test_an_absolute_line_needs_the_economy_poverty_line(tmp_path):
    folder = poverty_model(tmp_path / "m")
    text = (folder / "model.toml").read_text()
    (folder / "model.toml").write_text(text.replace("poverty_line = 2500.0\n", ""))
    with pytest.raises(AssumptionError, match=r"poverty\.line"):
        spfsim.load_model(folder)


def test_every_run_checks_the_poverty_identities(tmp_path):
    """spfsim.checks refuses a projection whose measured persons are not the population,
    whose poor outnumber them, or whose transfers raise poverty (each broken once)."""
    from spfsim.checks import invariant_findings

    ds = spfsim.load_model(poverty_model(tmp_path / "m", end=2028)).project(
        "micro", persons=1500, seed=2)
    assert invariant_findings(ds) == []
    breaks = {
        "persons measured below the population": ("poverty_population", {}, 0.9),
        "persons in poverty above the persons measured": (
            "persons_in_poverty", {"income_stage": "market"}, 100.0),
        "poverty_gap higher after a transfer": (
            "poverty_gap", {"income_stage": "disposable"}, 100.0),
    }
    for message, (name, where, factor) in breaks.items():
        broken = ds.copy(deep=True)
        broken[name].loc[{"year": 2027, **where}] = broken[name].sel(
            year=2027, **where) * factor + (1.0 if factor > 1 else 0.0)
        assert any(f.message.startswith(message) for f in invariant_findings(broken)), message


MINIMUM_INCOME = """
[[schemes]]
id = "minimum_income"
type = "minimum_income"
name = "Guaranteed minimum income"

[schemes.parameters]
min_age = 0
benefit = 1.0
benefit_basis = "poverty_line"
take_up = {take_up}
earnings_disregard = 0.0
"""


def minimum_income_model(folder, take_up=1.0, end=2030):
    """poverty_model with a minimum income at the poverty line per equivalent adult (its
    scheme written before the [poverty] section: TOML tables after [[schemes]] belong to
    it)."""
    return with_scheme(poverty_model(folder, end=end), MINIMUM_INCOME.format(take_up=take_up))


def with_scheme(folder, scheme: str):
    """The model of ``folder`` with ``scheme`` (a [[schemes]] table) written before its
    [poverty] section (TOML tables after [[schemes]] belong to it)."""
    head, tail = (folder / "model.toml").read_text().split("\n[poverty]", 1)
    (folder / "model.toml").write_text(head + scheme + "\n[poverty]" + tail)
    return folder


def load_error_without_poverty(folder) -> str:
    """The error loading the model of ``folder`` without its [poverty] section gives."""
    text = (folder / "model.toml").read_text()
    (folder / "model.toml").write_text(text.split("\n[poverty]")[0])
    with pytest.raises(AssumptionError) as error:
        spfsim.load_model(folder)
    return str(error.value)


def test_a_minimum_income_at_the_line_leaves_nobody_poor(tmp_path):
    """Every household taking up a minimum income of one poverty line per equivalent adult
    reaches the line: no disposable poverty in any year, poverty before the floor as
    without the scheme (common random numbers), beneficiaries within the population, more
    persons covered in its own and the cash group, in no other. Its
    cost is each poor household's equivalised gap times its scale, the poverty gap the
    same gap times its members: between 0.3 (a member adds at least 0.3 to the scale) and
    1 times the disposable poverty gap without it."""
    base = simulate(poverty_model(tmp_path / "b", end=2030))
    folder = minimum_income_model(tmp_path / "m")
    result = simulate(folder)
    assert result.poverty["poor"][:, 2].sum() == 0
    np.testing.assert_array_equal(result.poverty["poor"][:, :2], base.poverty["poor"][:, :2])
    flows = {f.scheme_id: f for f in result.flows}["minimum_income"]
    assert flows.beneficiaries.sum() > 0
    assert (flows.beneficiaries <= result.demography.population + 1e-9).all()
    # it covers the members of the households it pays whom nothing else covered
    np.testing.assert_array_equal(result.coverage[..., 0], base.coverage[..., 0])
    assert (result.coverage[..., 1] >= base.coverage[..., 1]).all()
    gained = (result.coverage[..., 1] - base.coverage[..., 1]).sum(axis=(0, 1, 2))
    assert gained[ANY_CASH] > 0
    assert gained[WORKING_AGE] > 0
    assert not np.delete(gained, [ANY_CASH, WORKING_AGE]).any()
    closed = base.poverty["gaps"][:, 2].sum(axis=(1, 2))
    assert (flows.benefit_expenditure <= closed * (1 + 1e-6)).all()
    assert (flows.benefit_expenditure >= 0.3 * closed).all()
    ds = spfsim.load_model(folder).project("micro", persons=1500, seed=2)
    assert float(ds.persons_in_poverty.sel(income_stage="disposable").sum()) == 0.0


def test_a_minimum_income_is_refused_where_there_are_no_households(tmp_path):
    """The cohort engine has no households; a micro run without families or without
    household incomes cannot pay it; a model without [poverty] is refused at load."""
    from spfsim.errors import SpfsimError

    folder = minimum_income_model(tmp_path / "m", end=2027)
    model = spfsim.load_model(folder)
    with pytest.raises(SpfsimError, match="cohort engine has no households"):
        model.project()
    with pytest.raises(SpfsimError, match="no-families"):
        simulate(folder, persons=300, families=False)
    with pytest.raises(SpfsimError, match="poverty=False"):
        simulate(folder, persons=300, poverty=False)
    error = load_error_without_poverty(folder)
    assert "schemes.minimum_income.type" in error
    assert "[poverty]" in error


def test_the_report_has_a_poverty_sheet(tmp_path):
    """The report workbook of a micro projection with poverty shows its rates by stage,
    of children and older persons, with a chart; a projection without has no such sheet."""
    import openpyxl

    from spfsim.report.workbook.build import write_workbook

    ds = spfsim.load_model(poverty_model(tmp_path / "m", end=2028)).project(
        "micro", persons=1500, seed=2)
    write_workbook(ds, tmp_path / "report.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "report.xlsx")["Poverty"]
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row[0] == "Year")
    column = rows[header].index("Poverty rate, disposable income")
    first = rows[header + 2]
    assert first[0] == 2025
    expected = (ds.persons_in_poverty.sel(year=2025, income_stage="disposable").sum()
                / ds.poverty_population.sel(year=2025).sum())
    assert first[column] == pytest.approx(float(expected))
    assert len(ws._charts) == 1
    cohort = spfsim.load_model(poverty_model(tmp_path / "c", end=2028)).project()
    write_workbook(cohort, tmp_path / "cohort.xlsx")
    assert "Poverty" not in openpyxl.load_workbook(tmp_path / "cohort.xlsx").sheetnames


@pytest.mark.slow
def test_identical_for_one_and_two_threads(tmp_path):
    """Poverty and a minimum income (take-up 0.6) with 1 and 2 Numba threads."""
    import textwrap

    import xarray as xr
    from replication import run_with_threads

    folder = minimum_income_model(tmp_path / "m", take_up=0.6)
    names = ["persons_in_poverty", "poverty_gap", "gini_equivalised_income",
             "median_equivalised_income", "benefit_expenditure", "beneficiaries"]
    script = textwrap.dedent(f"""
        import json, sys, numba, spfsim
        ds = spfsim.load_model({str(folder)!r}).project("micro", persons=4000, seed=3,
                                                         chunk_size=512)
        ds[{names!r}].to_netcdf(sys.argv[1])
        print(json.dumps(numba.get_num_threads()))
    """)
    out = [xr.load_dataset(run_with_threads(script, tmp_path / f"t{n}.nc", n))
           for n in (1, 2)]
    for name in names:
        assert np.array_equal(out[0][name].values, out[1][name].values), name


SOCIAL_PENSION = """
[[schemes]]
id = "social_pension"
type = "social_pension"
name = "Social pension"

[schemes.parameters]
min_age = 65
benefit = 0.5
benefit_basis = "poverty_line"
take_up = 0.8
means_test = "{means_test}"
household_threshold = {threshold}
"""


def social_pension_model(folder, means_test="household", threshold=1.0, end=2030):
    """poverty_model with a social pension of half the poverty line from 65."""
    return with_scheme(poverty_model(folder, end=end),
                       SOCIAL_PENSION.format(means_test=means_test, threshold=threshold))


def test_a_household_tested_social_pension_is_bounded_by_its_universal_twin(tmp_path):
    """Tested on the household's income with a threshold no household reaches, the social
    pension is the universal one: the same persons (the same take-up draws) by age and
    sex, the same money, the same coverage. At the model's threshold it pays fewer, at most
    those, covers more than nobody and at most the universal one's, and lowers older
    persons' disposable poverty, never market or before-the-floor poverty; at a threshold
    of 0 nobody."""
    universal = simulate(social_pension_model(tmp_path / "u", means_test="none"))
    everyone = simulate(social_pension_model(tmp_path / "e", threshold=1e6))
    tested = simulate(social_pension_model(tmp_path / "t", threshold=2.0))
    nobody = simulate(social_pension_model(tmp_path / "n", threshold=0.0))

    def flows(result):
        return {f.scheme_id: f for f in result.flows}["social_pension"]

    np.testing.assert_array_equal(flows(everyone).beneficiaries,
                                  flows(universal).beneficiaries)
    np.testing.assert_allclose(flows(everyone).benefit_expenditure,
                               flows(universal).benefit_expenditure, rtol=1e-9)
    # and covers the same persons: target and covered, each group, age and sex
    np.testing.assert_array_equal(everyone.coverage, universal.coverage)
    np.testing.assert_array_equal(nobody.coverage[..., 0], tested.coverage[..., 0])
    assert (nobody.coverage[..., 1] <= tested.coverage[..., 1]).all()
    assert (tested.coverage[..., 1] <= universal.coverage[..., 1]).all()
    assert (tested.coverage[..., OLD_AGE, 1].sum() > nobody.coverage[..., OLD_AGE, 1].sum())
    paid = flows(tested).beneficiaries
    assert 0 < paid.sum() < flows(universal).beneficiaries.sum()
    assert (paid <= flows(universal).beneficiaries).all()
    assert flows(nobody).beneficiaries.sum() == 0
    older = P.AGE_GROUPS.index("65+")
    poor = {name: r.poverty["poor"][:, :, :, older].sum(axis=2)
            for name, r in (("tested", tested), ("nobody", nobody))}
    np.testing.assert_array_equal(poor["tested"][:, :2], poor["nobody"][:, :2])
    assert poor["tested"][:, 2].sum() < poor["nobody"][:, 2].sum()


def test_a_household_tested_social_pension_needs_households(tmp_path):
    """The cohort engine refuses it; without [poverty] the model is refused at load, the
    field named means_test."""
    from spfsim.errors import SpfsimError

    folder = social_pension_model(tmp_path / "m", end=2027)
    with pytest.raises(SpfsimError, match="cohort engine has no households"):
        spfsim.load_model(folder).project()
    error = load_error_without_poverty(folder)
    assert "schemes.social_pension.means_test" in error
    assert "'household'" in error


def test_measuring_poverty_changes_no_other_result(tmp_path):
    """The households' members, which the poverty pass alone writes, lend their memory to
    passes outside it (the family pass's and compaction's scratch, the flags of mothers of
    young children for linked care credits: outputs._Buffers): with poverty measured,
    every other result is bit for bit the one without, over years with compactions."""
    folder = poverty_model(tmp_path / "m", end=2060)
    toml = folder / "model.toml"
    toml.write_text(toml.read_text().replace(
        "start_year = 1995", "start_year = 1995\ncare_credit_child_age = 6\n"
        "care_credit_earnings = 0.6"))
    model = spfsim.load_model(folder)
    on, off = (model.project("micro", persons=3000, seed=4, poverty=measured)
               for measured in (True, False))
    assert "persons_in_poverty" in on
    assert "persons_in_poverty" not in off
    shared = [name for name in off.data_vars if name in on.data_vars]
    assert {"contributors", "benefit_expenditure", "credited_years_at_award",
            "households_by_size", "persons_by_family_status"} <= set(shared)
    for name in shared:
        assert np.array_equal(on[name].values, off[name].values, equal_nan=True), name
