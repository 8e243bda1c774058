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
income is its members' sum, divided by its equivalence scale; every member has that
equivalised income and is poor when it is below the line (by more than a millionth of it,
LINE_TOLERANCE: a benefit set at the line reaches it). The poverty gap of a person is
line - income (0 for the non-poor): summed, it is what lifting every poor person to the
line would cost in equivalised terms. The Gini coefficient and the median (for a relative
line) come from a histogram of equivalised incomes over persons, N_BINS bins of equal width
in log(income) (0.4 % of the income wide), whose within-bin inequality is ignored: the
Gini is a lower bound, within about 0.001 of the exact one (tests/test_poverty.py).

Counts are integers and money int64 fixed point (units of ``scale``), summed per chunk, so
the results are bitwise the same for any number of threads and any chunk size; the first
pass, which adds the members' incomes into their household's, runs serially in slot order.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from ..benefits import CHILD_MAX_AGE, OLDER_AGE
from .counters import fixed

MARKET, CONTRIBUTORY, FLOOR = range(3)  # income sources (columns of the income array)
STAGES = ("market", "before_floor", "disposable")  # sources 0..k added
AGE_GROUPS = ("0-14", "15-64", "65+")  # R202 para. 5: children, working age, older persons
N_BINS = 4096
# an equivalised income within this share of the line reaches it: the floor sets benefits
# at the line (a social pension of one poverty line), and the incomes' float32 rounding
# (about 6e-8) must not decide whether those who receive exactly that are poor
LINE_TOLERANCE = 1e-6
LOG_LOW, LOG_HIGH = -4.0, 3.0  # bins 1..N_BINS-1: income / unit from 10**-4 to 10**3


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
    """Histogram bin of an income in units: 0 below 10**LOG_LOW (and for 0), then N_BINS - 1
    bins of equal width in log10 up to 10**LOG_HIGH (the last one open)."""
    if relative < 10.0 ** LOG_LOW:
        return np.int64(0)
    x = (math.log10(relative) - LOG_LOW) / (LOG_HIGH - LOG_LOW) * (N_BINS - 1)
    return np.int64(min(math.floor(x), N_BINS - 2)) + 1


def bin_edges() -> np.ndarray:
    """The N_BINS + 1 edges of the income bins, in units (the first 0, the last +inf)."""
    inner = 10.0 ** np.linspace(LOG_LOW, LOG_HIGH, N_BINS)
    return np.concatenate([[0.0], inner[:-1], [np.inf]])


@nb.njit(inline="always", cache=True)
def _stage_income(income, r, stage) -> float:
    """Household r's income at a stage (sources 0..stage added)."""
    total = 0.0
    for k in range(stage + 1):
        total += income[r, k]
    return total


@nb.njit(cache=True)
def household_incomes(household, birth_year, income, size, year, child_age, members):
    """Pass 1, serial in slot order: add every member's income (slot, source) into the row
    of the household's reference person, in place (the references' rows become household
    totals; the other members' rows are spent), and count each household's adults and
    children (``members`` (slot, 2), uint16; age at 1 July of ``year`` below
    ``child_age``: a child). Persons outside the measure have household 0."""
    for i in range(size):
        members[i, 0] = 0
        members[i, 1] = 0
    for i in range(size):
        h = household[i]
        if h == 0:
            continue
        r = h - 1
        members[r, 1 if year - np.int64(birth_year[i]) < child_age else 0] += 1
        if r != i:
            for k in range(income.shape[1]):
                income[r, k] += income[i, k]


@nb.njit(parallel=True, cache=True)
def income_histograms(household, income, members, size, chunk, other_adult, child, unit,
                      scale, counts, sums):
    """Pass 2: persons by equivalised income bin for each stage, and their income in fixed
    point (``counts``, ``sums``: (chunk row, stage, N_BINS) int64), each household counted
    at its reference person with its number of members."""
    n_chunks = (size + chunk - 1) // chunk
    counts[:n_chunks] = 0
    sums[:n_chunks] = 0
    for c in nb.prange(n_chunks):
        for i in range(c * chunk, min(size, (c + 1) * chunk)):
            if household[i] != i + 1:
                continue
            adults, children = np.int64(members[i, 0]), np.int64(members[i, 1])
            eq = equivalence_scale(adults, children, other_adult, child)
            for stage in range(3):
                y = _stage_income(income, i, stage) / eq
                b = income_bin(y / unit)
                counts[c, stage, b] += adults + children
                sums[c, stage, b] += (adults + children) * fixed(y, scale)


@nb.njit(parallel=True, cache=True)
def poverty_counts(household, birth_year, sex, income, members, size, chunk, year,
                   other_adult, child, line, scale, persons, poor, gaps):
    """Pass 3: persons measured (chunk row, sex, age group), persons in poor households and
    their poverty gaps in fixed point (chunk row, stage, sex, age group), at the poverty
    ``line`` (currency per equivalent adult per year; an income within LINE_TOLERANCE of
    it reaches it)."""
    n_chunks = (size + chunk - 1) // chunk
    below = line * (1.0 - LINE_TOLERANCE)
    persons[:n_chunks] = 0
    poor[:n_chunks] = 0
    gaps[:n_chunks] = 0
    for c in nb.prange(n_chunks):
        for i in range(c * chunk, min(size, (c + 1) * chunk)):
            h = household[i]
            if h == 0:
                continue
            r = h - 1
            s, g = np.int64(sex[i]), age_group(min(year - np.int64(birth_year[i]), 100))
            persons[c, s, g] += 1
            eq = equivalence_scale(np.int64(members[r, 0]), np.int64(members[r, 1]),
                                   other_adult, child)
            for stage in range(3):
                y = _stage_income(income, r, stage) / eq
                if y < below:
                    poor[c, stage, s, g] += 1
                    gaps[c, stage, s, g] += fixed(line - y, scale)


def histogram_median(counts: np.ndarray, unit: float) -> float:
    """The median income (currency) of a histogram of persons by income_bin (N_BINS,),
    interpolated in log within its bin (0 in bin 0); NaN when empty."""
    total = counts.sum()
    if total == 0:
        return float("nan")
    cumulative = np.cumsum(counts)
    b = int(np.searchsorted(cumulative, 0.5 * total))
    if b == 0:
        return 0.0
    within = (0.5 * total - (cumulative[b - 1])) / counts[b]
    low = LOG_LOW + (b - 1) * (LOG_HIGH - LOG_LOW) / (N_BINS - 1)
    return unit * 10.0 ** (low + within * (LOG_HIGH - LOG_LOW) / (N_BINS - 1))


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
