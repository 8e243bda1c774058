"""Household income, poverty and inequality in the micro engine with families.

R202 para. 8(b) sets the floor's levels against a nationally defined poverty line and ILC
2021 para. 15 asks whether protection is adequate; this module measures both on the
simulated households (the model's ``[poverty]`` section, :mod:`spfsim.params.poverty`).

Who and when: the population of 1 July of year t (the persons the year's step began with,
those who die during the year included), in the households of that date (the previous
family pass: :func:`spfsim.engine.micro.families.households`), each member with the income
the step paid or earned in year t. Newborns and immigrants of the year enter the measure
the next year.

Income by source, per person (written by the year kernel, :mod:`.year`):

- market: earnings, gross of contributions and taxes, which the model does not split: a
  contributor's earnings of the year (the pension's earnings with their transitory shock),
  an informal worker's at ``informal_earnings`` of a covered worker of the same age, sex
  and earnings level; nothing for the others;
- contributory transfers: the old-age or disability pension paid in the year, a survivor's
  pension, maternity and unemployment insurance benefits;
- the floor's transfers: the non-contributory cash benefits (health care, in kind, is no
  income).

Three incomes, each a stage of the transfers: ``market`` (before all transfers),
``before_floor`` (market + contributory) and ``disposable`` (all three). A household's
income is its members' sum (with the benefits tested on it: a social pension paid to older
members below a threshold, :func:`household_tested_benefits`, then, for the households that
take it up, a guaranteed minimum income, :func:`household_benefits`), divided by its
equivalence scale; every member has that
equivalised income and is poor when it is below the line (by more than a millionth of it,
LINE_TOLERANCE: a benefit set at the line reaches it). The poverty gap of a person is
line - income (0 for the non-poor): summed, it is what lifting every poor person to the
line would cost in equivalised terms. The Gini coefficient and the median (for a relative
line) come from a histogram of equivalised incomes over persons, 256 bins an octave (each
at most 0.4 % of its income wide, found from the float's exponent: no logarithm), whose
within-bin inequality is ignored: the Gini is a lower bound, within about 0.001 of the
exact one (tests/test_poverty.py).

Counts are integers and money int64 fixed point (units of ``scale``), summed in rows of
chunks (counters.chunk_rows), so the results are bitwise the same for any number of threads
and any chunk size; the first pass, which adds the members' incomes into their household's,
runs serially in slot order.

A household's members are counted once, in that first pass, at its reference person's
slot (``members``, uint32: MEMBER_FIELDS fields of MEMBER_FIELD_BITS): by sex and age
group, and those between ``child_age`` and the first age of working age. The scale, the
histograms' persons and the poverty counts read them there, so the passes after the first
go over the households' reference slots alone. The members of a household mostly lie far from its
reference person's slot (partners joined at any age, children born after): counted per
person, reading each member's household row, the poverty counts took 1.1 s of a
1,000,000-person, 50-year run, against 0.4 s (docs/micro.md). A household with more than
MEMBER_FIELD_MAX members in a field (31 children, 31 persons of working age or 7 older
persons of one sex) stops the run with an error.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ... import rng
from ..benefits import CHILD_MAX_AGE, GUARANTEE_TEST, OLDER_AGE, THRESHOLD_TEST
from .counters import MAX_AGE, NC_HOUSEHOLD, chunk_rows, fixed
from .coverage import cover, scheme_groups
from .prefetch import AHEAD, prefetch_row

MARKET, CONTRIBUTORY, FLOOR = range(3)  # income sources (columns of the income array)
N_SOURCES = 3
STAGES = ("market", "before_floor", "disposable")  # sources 0..k added
AGE_GROUPS = ("0-14", "15-64", "65+")  # R202 para. 5: children, working age, older persons
# an equivalised income within this share of the line reaches it: the floor sets benefits
# at the line (a social pension of one poverty line), and the incomes' float32 rounding
# (about 6e-8) must not decide whether those who receive exactly that are poor
LINE_TOLERANCE = 1e-6
# income histogram (in units of the year's average earnings): bin 0 below 2**LOW_OCTAVE,
# then OCTAVE_BINS bins of equal width in each octave up to 2**(LOW_OCTAVE + N_OCTAVES),
# the last bin open; a bin is at most 1 / OCTAVE_BINS (0.4 %) of its income wide
OCTAVE_BITS, LOW_OCTAVE, N_OCTAVES = 8, -14, 24
OCTAVE_BINS = 2 ** OCTAVE_BITS
# a float64's bits: 52 of fraction under 11 of exponent (biased by 1023)
_FRACTION_BITS, _EXPONENT_BIAS = np.uint64(52), 1023
_WITHIN_OCTAVE_SHIFT = np.uint64(52 - OCTAVE_BITS)
_WITHIN_OCTAVE_MASK = np.uint64(OCTAVE_BINS - 1)
# a household's members at its reference slot (uint32): field sex x 3 + age group
# (AGE_GROUPS) for the persons, field BETWEEN for those aged from child_age to
# CHILD_MAX_AGE, or from CHILD_MAX_AGE + 1 to child_age - 1: with group 0-14 they give the
# equivalence scale's children (below child_age). Bits a field: 5 for children (up to 31
# of a sex), 5 for those of working age (31), 3 for older persons (7), 6 for BETWEEN (63).
# The largest counts in a household over the 50 years of a 1,000,000-person run (boys,
# men, older men, girls, women, older women, BETWEEN): the default model 8, 8, 1, 10, 9, 1,
# 5; a high-fertility country (Niger, WPP 2024: `spfsim init --country NER` with a
# [poverty] section) 12, 11, 1, 12, 10, 2, 6
MEMBER_FIELD_BITS = (5, 5, 3) * 2 + (6,)
MEMBER_SHIFTS = tuple(sum(MEMBER_FIELD_BITS[:k]) for k in range(len(MEMBER_FIELD_BITS)))
MEMBER_FIELD_MAX = tuple(2 ** bits - 1 for bits in MEMBER_FIELD_BITS)
BETWEEN = 2 * len(AGE_GROUPS)
MEMBER_FIELDS = BETWEEN + 1
assert sum(MEMBER_FIELD_BITS) <= 32
assert len(MEMBER_FIELD_BITS) == MEMBER_FIELDS
N_BINS = 1 + OCTAVE_BINS * N_OCTAVES


@nb.njit(inline="always", cache=True)
def age_group(age: int) -> int:
    """AGE_GROUPS index of an age (children to CHILD_MAX_AGE, older persons from
    OLDER_AGE, as the coverage indicators count them)."""
    if age <= CHILD_MAX_AGE:
        return 0
    return 2 if age >= OLDER_AGE else 1


@nb.njit(inline="always", cache=True)
def equivalence_scale(adults: int, children: int, other_adult: float, child: float) -> float:
    """The household's equivalence scale: 1 for the first adult (the first child when there
    is no adult), ``other_adult`` for each other adult, ``child`` for each other child."""
    if adults > 0:
        return 1.0 + other_adult * (adults - 1) + child * children
    return 1.0 + child * (children - 1)


@nb.njit(inline="always", cache=True)
def income_bin(relative: float) -> np.int64:
    """Histogram bin of an income in units (see OCTAVE_BINS; NaN and below 2**LOW_OCTAVE:
    0, infinity: the last), read off the float's bits: relative = 1.f x 2**e, so the
    exponent e gives the octave and the fraction's first OCTAVE_BITS bits the bin of
    equal width within it. No logarithm and no call: found with math.frexp, 2 million
    bins took 6.7 ms against 0.9 ms (the same bins, but infinity's, which frexp lost)."""
    if not relative >= 2.0 ** LOW_OCTAVE:  # positive (and normal) beyond this
        return np.int64(0)
    bits = np.float64(relative).view(np.uint64)
    octave = np.int64(bits >> _FRACTION_BITS) - _EXPONENT_BIAS - LOW_OCTAVE
    if octave >= N_OCTAVES:
        return np.int64(N_BINS - 1)
    return np.int64(1 + octave * OCTAVE_BINS
                    + np.int64((bits >> _WITHIN_OCTAVE_SHIFT) & _WITHIN_OCTAVE_MASK))


def bin_edges() -> np.ndarray:
    """The N_BINS + 1 edges of the income bins, in units (the first 0, the last +inf)."""
    octaves = 2.0 ** np.arange(LOW_OCTAVE, LOW_OCTAVE + N_OCTAVES)
    lower = (octaves[:, None] * (1.0 + np.arange(OCTAVE_BINS) / OCTAVE_BINS)).ravel()
    return np.concatenate([[0.0], lower, [np.inf]])


@nb.njit(inline="always", cache=True)
def member_field(age: int, sex: int) -> int:
    """The field of MEMBER_FIELDS a person of ``age`` (at 1 July, at most 100) and ``sex``
    is counted in."""
    return sex * len(AGE_GROUPS) + age_group(age)


@nb.njit(inline="always", cache=True)
def between_ages(age: int, child_age: int) -> bool:
    """Whether ``age`` lies between ``child_age`` and the first age of working age (either
    way round): the members field BETWEEN counts, so that the scale's children are the
    members of group 0-14 less them (child_age up to CHILD_MAX_AGE + 1) or with them."""
    if child_age <= CHILD_MAX_AGE:
        return child_age <= age <= CHILD_MAX_AGE
    return CHILD_MAX_AGE < age < child_age


@nb.njit(inline="always", cache=True)
def members_in(code, field) -> np.int64:
    """The members a household's code (uint32) counts in ``field``."""
    return np.int64((np.uint32(code) >> np.uint32(MEMBER_SHIFTS[field]))
                    & np.uint32(MEMBER_FIELD_MAX[field]))


@nb.njit(cache=True)
def household_incomes(household, birth_year, sex, income, members, size, year, child_age):
    """Pass 1, serial in slot order: add every member's income (slot, source) into the row
    of the household's reference person, in place, and count the member in the
    household's ``members`` code at the reference slot (MEMBER_FIELDS; age at 1 July of
    ``year``), prefetching the rows of the household a few slots on (.prefetch: the
    reference rows are mostly far away). The other members' rows are spent. Persons
    outside the measure have household 0. Returns -1, or the reference slot of a household
    with more members in a field than MEMBER_FIELD_MAX (the incomes then half summed)."""
    for i in range(size):
        if household[i] == i + 1:
            members[i] = 0
    for i in range(size):
        if i + AHEAD < size and household[i + AHEAD] != 0:  # the rows a few members on
            prefetch_row(members, household[i + AHEAD] - 1)
            prefetch_row(income, household[i + AHEAD] - 1)
        h = household[i]
        if h == 0:
            continue
        r = h - 1
        a = min(year - np.int64(birth_year[i]), MAX_AGE)
        for field in (member_field(a, np.int64(sex[i])), BETWEEN):
            if field == BETWEEN and not between_ages(a, child_age):
                continue
            if members_in(members[r], field) == MEMBER_FIELD_MAX[field]:
                return np.int64(r)
            members[r] += np.uint32(1) << np.uint32(MEMBER_SHIFTS[field])
        if r != i:
            for k in range(N_SOURCES):
                income[r, k] += income[i, k]
    return np.int64(-1)


@nb.njit(inline="always", cache=True)
def _persons_of(code) -> np.int64:
    """The members a household's code counts (every field but BETWEEN)."""
    total = np.int64(0)
    for field in range(BETWEEN):
        total += members_in(code, field)
    return total


@nb.njit(inline="always", cache=True)
def _scale_of(members, r, child_age, other_adult, child) -> float:
    """The equivalence scale of the household of reference slot r (its members' code)."""
    code = members[r]
    young = members_in(code, 0) + members_in(code, len(AGE_GROUPS))  # 0-14, both sexes
    between = members_in(code, BETWEEN)
    children = young - between if child_age <= CHILD_MAX_AGE + 1 else young + between
    return equivalence_scale(_persons_of(code) - children, children, other_adult, child)


@nb.njit(cache=True)
def household_tested_benefits(household, pid, birth_year, sex, income, members, size, seed,
                              year, codes, probability, amount, threshold, child_age,
                              other_adult, child, scale, counts, money, coverage_bits,
                              covered):
    """Pass 1a, serial in slot order: the persons' benefits tested on their household's
    income (codes' NC_HOUSEHOLD THRESHOLD_TEST: schemes.noncontributory.SocialPension with
    means_test 'household'). A person in scheme j's age band who takes it up (the
    persistent take-up draw, ``probability`` (J, age, sex)) receives ``amount`` (J, age,
    sex: the benefit) when the household's income per equivalent adult (every source, as
    household_incomes summed it) is below ``threshold`` (J,) x that amount. Every member
    is tested on the income before this pass: the payments join the household's floor
    column once all are tested, so that two older partners are tested alike whatever their
    order. Beneficiaries and money (fixed point): ``counts``, ``money`` (J, age, sex); the
    recipients newly covered (coverage.cover, with the year kernel's ``coverage_bits``):
    ``covered`` (age, sex, group)."""
    added = np.zeros(size, dtype=np.float64)  # this pass's payments, by reference row
    for i in range(size):
        h = household[i]
        if h == 0:
            continue
        r = h - 1
        a, s = min(year - np.int64(birth_year[i]), 100), np.int64(sex[i])
        for j in range(codes.shape[0]):
            if codes[j, NC_HOUSEHOLD] != THRESHOLD_TEST or probability[j, a, s] <= 0.0:
                continue
            if rng.uniform(seed, rng.TAKE_UP, pid[i], j) >= probability[j, a, s]:
                continue
            counted = 0.0
            for k in range(N_SOURCES):
                counted += income[r, k]
            eq = _scale_of(members, r, child_age, other_adult, child)
            if counted / eq < threshold[j] * amount[j, a, s]:
                added[r] += amount[j, a, s]
                counts[j, a, s] += 1
                money[j, a, s] += fixed(amount[j, a, s], scale)
                cover(coverage_bits, i, scheme_groups(codes, j), a, s, covered)
    for r in range(size):
        if added[r] > 0.0:
            income[r, FLOOR] += added[r]


@nb.njit(parallel=True, cache=True)
def household_benefits(household, pid, birth_year, sex, income, members, size, chunk, seed,
                       year, codes, probability, amount, disregard, child_age, other_adult,
                       child, scale, counts, money, groups):
    """Pass 1b, over households (their reference rows, household totals by source): the
    household guarantees (codes' NC_HOUSEHOLD GUARANTEE_TEST, MinimumIncome),
    in model order. A household whose reference person takes scheme j up (the persistent
    take-up draw, with ``probability`` (J, age, sex): the take-up in the age band) receives
    ``amount`` (J, age, sex: income per equivalent adult) x its scale less its counted
    income (earnings less the ``disregard`` (J,) share, contributory transfers, the floor's
    other cash benefits and the schemes before j), when positive; it goes to the floor's
    column. One beneficiary per household, at the reference's age and sex: ``counts`` and
    ``money`` (fixed point) (row, J, age, sex)."""
    n_chunks, rows = chunk_rows(size, chunk, counts.shape[0])
    counts[:] = 0
    money[:] = 0
    for c in nb.prange(rows):
        for k in range(c, n_chunks, rows):
            for i in range(k * chunk, min(size, (k + 1) * chunk)):
                if household[i] != i + 1:
                    continue
                a, s = min(year - np.int64(birth_year[i]), 100), np.int64(sex[i])
                eq = _scale_of(members, i, child_age, other_adult, child)
                for j in range(codes.shape[0]):
                    if (codes[j, NC_HOUSEHOLD] != GUARANTEE_TEST
                            or probability[j, a, s] <= 0.0):
                        continue
                    if rng.uniform(seed, rng.TAKE_UP, pid[i], j) >= probability[j, a, s]:
                        continue
                    counted = (income[i, MARKET] * (1.0 - disregard[j])
                               + income[i, CONTRIBUTORY] + income[i, FLOOR])
                    paid = amount[j, a, s] * eq - counted
                    if paid > 0.0:
                        income[i, FLOOR] += paid
                        counts[c, j, a, s] += 1
                        money[c, j, a, s] += fixed(paid, scale)
                        groups[i] |= scheme_groups(codes, j)


@nb.njit(parallel=True, cache=True)
def household_coverage(household, birth_year, sex, size, chunk, year, groups, coverage_bits,
                       covered):
    """Pass 1b': the coverage of a household guarantee. It protects the household, so
    each member of a household paid one (household_benefits' ``groups`` at the reference
    row) is covered for its groups where the member is in their target and no benefit
    covered the member before (coverage.cover): a jobless member of working age is
    covered for the working-age guarantee, every member for a cash benefit (SDG 1.3.1).
    ``covered``: (row, age, sex, group)."""
    n_chunks, rows = chunk_rows(size, chunk, covered.shape[0])
    covered[:] = 0
    for c in nb.prange(rows):
        for k in range(c, n_chunks, rows):
            for i in range(k * chunk, min(size, (k + 1) * chunk)):
                h = household[i]
                if h == 0 or groups[h - 1] == 0:
                    continue
                a, s = min(year - np.int64(birth_year[i]), 100), np.int64(sex[i])
                cover(coverage_bits, i, np.int64(groups[h - 1]), a, s, covered[c])


@nb.njit(inline="always", cache=True)
def _equivalise(i, income, members, child_age, other_adult, child):
    """Reference row i becomes the household's equivalised income at each stage (STAGES:
    sources 0..k added, over the equivalence scale), float32 as the row holds it."""
    eq = _scale_of(members, i, child_age, other_adult, child)
    total = 0.0
    for k in range(N_SOURCES):
        total += income[i, k]
        income[i, k] = total / eq


@nb.njit(inline="always", cache=True)
def _add_to_histograms(c, i, income, members, unit, scale, counts, sums):
    """Household of reference row i (equivalised) into row c of the income histograms:
    its members, and their income in fixed point, in its bin at each stage."""
    persons = _persons_of(members[i])
    for stage in range(N_SOURCES):
        y = np.float64(income[i, stage])
        b = income_bin(y / unit)
        counts[c, stage, b] += persons
        sums[c, stage, b] += persons * fixed(y, scale)


@nb.njit(inline="always", cache=True)
def _add_to_poverty_counts(c, i, income, members, line, scale, persons, poor, gaps):
    """Household of reference row i (equivalised) into row c of the persons measured
    (sex, age group), the poor and their gaps in fixed point (stage, sex, age group), at
    the poverty ``line`` (an income within LINE_TOLERANCE of it reaches it): a member's gap
    is her household's, so the gaps of its members in a field are their number x that
    gap."""
    code = members[i]
    below = line * (1.0 - LINE_TOLERANCE)
    for s in range(2):
        for g in range(len(AGE_GROUPS)):
            n = members_in(code, s * len(AGE_GROUPS) + g)
            if n == 0:
                continue
            persons[c, s, g] += n
            for stage in range(N_SOURCES):
                y = np.float64(income[i, stage])
                if y < below:
                    poor[c, stage, s, g] += n
                    gaps[c, stage, s, g] += n * fixed(line - y, scale)


@nb.njit(parallel=True, cache=True)
def household_measures(household, income, members, size, chunk, child_age, other_adult,
                       child, unit, scale, line, counts, sums, persons, poor, gaps):
    """Passes 1c-3, in one pass over households (their reference rows: household_incomes'
    sums and ``members``): each row becomes the household's equivalised income
    (:func:`_equivalise`), counted in the income histograms (``counts``, ``sums``: (row,
    stage, N_BINS) int64, persons and their income, ``unit`` the bins' unit) and, when the
    ``line`` is known (currency per equivalent adult per year; NaN for a relative line,
    known only from the histograms: :func:`poverty_counts` then counts), in the poverty
    counts (``persons`` (row, sex, age group), ``poor`` and ``gaps`` (row, stage, sex, age
    group)). One pass instead of three, each reading every slot's household and the
    reference rows: on the last year of a 1,000,000-person, 50-year default run, 21 ms
    against 29.5 ms."""
    n_chunks, rows = chunk_rows(size, chunk, counts.shape[0])
    counts[:] = 0
    sums[:] = 0
    persons[:] = 0
    poor[:] = 0
    gaps[:] = 0
    known = not np.isnan(line)
    for c in nb.prange(rows):
        for k in range(c, n_chunks, rows):
            for i in range(k * chunk, min(size, (k + 1) * chunk)):
                if household[i] != i + 1:
                    continue
                _equivalise(i, income, members, child_age, other_adult, child)
                _add_to_histograms(c, i, income, members, unit, scale, counts, sums)
                if known:
                    _add_to_poverty_counts(c, i, income, members, line, scale, persons,
                                           poor, gaps)


@nb.njit(parallel=True, cache=True)
def poverty_counts(household, income, members, size, chunk, line, scale, persons, poor,
                   gaps):
    """Pass 3 alone, over households already equivalised (:func:`household_measures`
    with a relative line, once its median is known): :func:`_add_to_poverty_counts` of
    every household at ``line``."""
    n_chunks, rows = chunk_rows(size, chunk, persons.shape[0])
    persons[:] = 0
    poor[:] = 0
    gaps[:] = 0
    for c in nb.prange(rows):
        for k in range(c, n_chunks, rows):
            for i in range(k * chunk, min(size, (k + 1) * chunk)):
                if household[i] == i + 1:
                    _add_to_poverty_counts(c, i, income, members, line, scale, persons,
                                           poor, gaps)


def histogram_median(counts: np.ndarray, unit: float) -> float:
    """The median income (currency) of a histogram of persons by income_bin (N_BINS,),
    interpolated linearly within its bin (the last, open bin: its lower edge); NaN when
    empty."""
    total = counts.sum()
    if total == 0:
        return float("nan")
    cumulative = np.cumsum(counts)
    b = int(np.searchsorted(cumulative, 0.5 * total))
    edges = bin_edges()
    before = cumulative[b - 1] if b > 0 else 0
    within = (0.5 * total - before) / counts[b]
    upper = edges[b + 1] if np.isfinite(edges[b + 1]) else edges[b]
    return unit * (edges[b] + within * (upper - edges[b]))


def histogram_gini(counts: np.ndarray, sums: np.ndarray) -> float:
    """The Gini coefficient of a histogram of persons (``counts``) and their incomes
    (``sums``) by increasing income bin, inequality within a bin ignored (a lower bound):
    1 - sum over bins of (P_b - P_b-1) (L_b + L_b-1), P and L the Lorenz curve's population
    and income shares at the bins' upper edges. NaN without persons or income."""
    n, total = counts.sum(), sums.sum()
    if n == 0 or total <= 0:
        return float("nan")
    p = np.concatenate([[0.0], np.cumsum(counts) / n])
    lorenz = np.concatenate([[0.0], np.cumsum(sums) / total])
    return float(1.0 - np.sum(np.diff(p) * (lorenz[1:] + lorenz[:-1])))
