"""The contributory pension's rules, once, for both engines.

Each rule is a scalar function compiled by Numba: the micro kernels call it person by
person (:mod:`spfsim.engine.micro`), and the cohort engine applies it to every cell of its
state, age x sex x credited-service class, with :func:`cells`: a compiled loop over the
cells that calls the same function (the array functions of :mod:`spfsim.schemes.db_pension`
are such broadcasts). Amounts are in currency per year, service and ages in whole years, rates are
fractions.

The pension formula is one of two, described by a small array (:func:`formula`):

- accrual (ILO Convention No. 102 Art. 65, No. 128 Art. 10 style, as in ILO/PENSIONS):

      pension = bounded(E / n x accrual(m) x f, minimum, maximum)

- bend points (the US primary insurance amount, Social Security Act sec. 215(a)):

      pension = bounded(bend_point_formula(E / d, bends, factors) x f, minimum, maximum)

  with d = max(n, D - (m - n)) the averaging years: D (``averaging_years``) years for an
  old-age pension, whatever fewer years were credited (the years without earnings count
  as zeros), fewer for a disability pension by the years from onset to the pensionable
  age, or with the formula's elapsed years the US computation years of the onset
  (:func:`computation_years`, :func:`award_future_years`), never fewer than n;

with E the reference credits (:func:`reference_earnings`: n x the reference earnings), n
the credited years, m = n for an old-age pension and n + the years to the pensionable age
for a disability pension (credited future service), f the early/late retirement factor.
E is revalued to the year of award, times the formula's ``indexed`` share (1 but with an
indexing lag: the revaluation index of a year before the award over the award year's, the
US average wage index of the second year before eligibility, sec. 215(b)(3)(A)(ii)).

A cell of the cohort engine holds people whose reference earnings differ around the cell's
mean; with a ``spread`` (the standard deviation of the log of a person's average earnings
in the cell) the award rules give the mean pension of a lognormal distribution of the
average in closed form (:func:`expected_bounded_pension`): a progressive formula, a
minimum and a maximum act on people, not on the mean. A person (the micro engine) has
spread 0, for which the rules are the formula itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist

import numba as nb
import numpy as np

#: The pension formulas (:func:`formula`).
ACCRUAL, BEND_POINTS = 0, 1
# the fields of a formula array, in order
KIND, RATE, RATE_ABOVE, BAND_YEARS, BEND_1, BEND_2, FACTOR_1, FACTOR_2, FACTOR_3, \
    AVERAGING_YEARS, CEILING, INDEXED, ELAPSED_FROM = range(13)
FORMULA_SIZE = 13
#: The computation years of a disability or death award from the elapsed years
#: (:func:`computation_years`), Social Security Act sec. 215(b)(2)(A): a disability drops
#: one elapsed year in DROPOUT_PER_ELAPSED, at most MOST_DROPOUT_YEARS, a death the most;
#: never fewer than FEWEST_COMPUTATION_YEARS.
DROPOUT_PER_ELAPSED = 5
MOST_DROPOUT_YEARS = 5
FEWEST_COMPUTATION_YEARS = 2

#: A cell's yearly caps (db_pension.career_caps): the number of knots, the mean of G, the
#: knots (ascending) and their weights, at most MAX_KNOTS of each.
MAX_KNOTS = 16
CAPS_SIZE = 2 + 2 * MAX_KNOTS
#: No yearly caps: the ceiling caps a member's average as a whole.
NO_CAPS = np.zeros(0)
#: The equal-probability bands of the members' earnings levels at whose mean levels the
#: cohort engine keeps the shape of a class's own pensions (:func:`awards_at_levels`):
#: each node stands for 1 / SHAPE_NODES of the members.
SHAPE_NODES = 20


def formula(accrual_rate: float, rate_above: float = 0.0, band_years: int = 0, *,
            bends: tuple[float, float] | None = None,
            factors: tuple[float, float, float] = (0.0, 0.0, 0.0),
            averaging_years: int = 0, ceiling: float = 0.0, indexed: float = 1.0,
            elapsed_from: int = 0) -> np.ndarray:
    """The pension formula as the rules read it (float64 array of FORMULA_SIZE): the
    accrual formula (``accrual_rate`` per credited year, ``rate_above`` beyond
    ``band_years``), or with ``bends`` (two bend points, currency per year, increasing)
    the bend-point formula: ``factors`` of the average earnings below, between and above
    the bends, averaged over ``averaging_years`` (see the module). ``ceiling``: the year's
    ceiling of insurable earnings (currency per year, 0: none), which caps a member's
    average where a cell's spread is taken into account (:func:`old_age_award`).
    ``indexed``: the share of the reference credits (revalued to the year of award) the
    formula applies to, the revaluation index of an earlier year over the award year's
    (the module; 1: none). ``elapsed_from``: with bend points, the age from which a
    disability or death award counts its elapsed years (:func:`computation_years`; 0:
    the years to the pensionable age shorten the average instead)."""
    out = np.zeros(FORMULA_SIZE)
    out[RATE], out[RATE_ABOVE], out[BAND_YEARS] = accrual_rate, rate_above, band_years
    out[CEILING], out[INDEXED] = ceiling, indexed
    if bends is not None:
        out[KIND] = BEND_POINTS
        out[BEND_1], out[BEND_2] = bends
        out[FACTOR_1], out[FACTOR_2], out[FACTOR_3] = factors
        out[AVERAGING_YEARS] = averaging_years
        out[ELAPSED_FROM] = elapsed_from
    return out


def rescaled(formula_: np.ndarray, factor: float) -> np.ndarray:
    """``formula_`` with its amounts (the bend points and the ceiling) times ``factor``:
    the formula of a year whose earnings are ``factor`` times as high."""
    out = np.array(formula_, dtype=float)
    for field in (BEND_1, BEND_2, CEILING):
        out[field] *= factor
    return out


@nb.njit(cache=True)
def accrual(years, rate, rate_above, band_years):
    """Pension per unit of reference earnings for ``years`` credited years (fraction):
    rate x min(years, B) + rate_above x max(years - B, 0), B = ``band_years`` (accrual
    bands; B = 0: rate x years)."""
    if band_years <= 0:
        return rate * years
    return rate * min(years, band_years) + rate_above * max(years - band_years, 0)


@nb.njit(cache=True)
def reference_earnings(credits, recent_sum, service, years):
    """Reference credits E of the formula (currency): the revalued insured earnings of the
    whole career, ``credits`` (``years`` = 0), or, with reference earnings over the last
    N = ``years`` credited years (ILO C102 Art. 65: previous earnings), their average over
    min(N, service) years times the service, E = recent_sum / min(N, n) x n, so that the
    formula keeps its shape."""
    if years <= 0:
        return credits
    counted = min(service, years)
    if counted <= 0:
        return 0.0
    return recent_sum / counted * service


#: The years a cohort engine's class keeps beyond the best N when a year's earnings have a
#: transitory part (:func:`best_years_gain`): a member's lucky year among them may be one
#: of her best N.
BEST_EXTRA_YEARS = 10
#: The quadrature of :func:`best_years_gain`: points per log-sd of a year's transitory
#: factor, and how many log-sds below the lowest year's mean it starts.
GAIN_STEPS = 2
GAIN_WIDTH = 6.0
GAIN_MOST_POINTS = 1000


@nb.njit(cache=True)
def best_years_gain(kept, service, years, sd, permanent_sd=0.0, cap=0.0):
    """What choosing a member's best N = ``years`` credited years adds when each year's
    earnings have a transitory part: E[sum of her best N years] / the sum of the class's N
    best means, over the m = min(``service``, R) years the class keeps (``kept`` (R,),
    decreasing: :func:`keep_credited_year` with ``best``), a member's year k earning L m_k
    e_k before the ceiling ``cap`` (in the units of ``kept``; 0: none): L her level
    (lognormal, mean 1, log-sd ``permanent_sd``), e_k independent lognormal factors of
    mean 1 and log-sd ``sd``, and m_k such that the capped mean E[min(L m_k e_k, cap)] is
    the kept mean mu_k (:func:`uncapped_mean`; m_k = mu_k without a ceiling). 1 without a
    choice (m <= N or ``sd`` 0). A person's best years are partly her lucky ones, which
    the class's ranking of its means does not see (the micro engine's persons do).

    Her years rank as X_k = m_k e_k do, whatever L, and she drops the D = m - N lowest.
    A year's value to a member is v(X_k), v(y) = E[min(L y, cap)], increasing, v(0) = 0,
    so the dropped years' value is int_0^inf v'(s) (D - N(s))+ ds, N(s) the number of
    years with X_k <= s (each of the D lowest above s adds v'(s) ds), and

        E = sum_k mu_k - int_0^inf v'(s) E[(D - N(s))+] ds,

    N(s) a sum of independent Bernoulli variables of chances P(X_k <= s): a
    Poisson-binomial distribution, counted up to D. Where fewer are kept than dropped, E
    = int_0^inf v'(s) E[min(N, M(s))] ds, M(s) the years above s. v'(s) = E[L; L s <
    cap] (1 without a ceiling). The integral is taken over ln s by the trapezoidal rule
    (GAIN_STEPS points per log-sd, from GAIN_WIDTH log-sds below the lowest year's mean,
    the part below in closed form, to where nothing is dropped any more; with a ceiling
    and no level spread, four times as many to the ceiling, where v' falls to 0; against
    24 points a log-sd, within 4e-5 of the gain, 1e-4 with the ceiling and no level
    spread). Checked against simulated careers in the tests (within 0.1 %, where the
    threshold approximation of order statistics this replaced, an upper bound, was
    0.1-0.9 % above). Years below the R kept are left out (they are the class's
    lowest)."""
    m = min(service, kept.shape[0])
    while m > 0 and kept[m - 1] <= 0.0:  # the years without earnings are never chosen
        m -= 1
    if sd <= 0.0 or years <= 0 or m <= years:
        return 1.0
    capped = 0.0 < cap < math.inf
    both = math.sqrt(sd * sd + permanent_sd * permanent_sd)  # the log-sd of L e
    centre = np.empty(m)  # E[ln X_k] = ln m_k - sd^2 / 2
    top = total_kept = 0.0
    for k in range(m):
        uncapped = kept[k]
        if capped and kept[k] < cap * (1.0 - 1e-12):
            uncapped = uncapped_mean(kept[k], both, cap)
        centre[k] = math.log(uncapped) - 0.5 * sd * sd
        total_kept += kept[k]
        if k < years:
            top += kept[k]
    dropped = m - years
    below = dropped <= years  # count the years below s (else those above)
    most = dropped if below else years
    kinked = capped and permanent_sd <= 0.0  # v' falls from 1 to 0 at the ceiling
    end = math.log(cap) if kinked else math.inf
    # cut at the ceiling, the rule's error is the step's square: four times finer; never
    # more than about GAIN_MOST_POINTS points (a log-sd far below the years' spread: h is
    # then a staircase, each step's error a share of the point spacing)
    step = max(sd / GAIN_STEPS / (4.0 if kinked else 1.0),
               (centre[0] - centre[m - 1] + 2.0 * GAIN_WIDTH * sd) / GAIN_MOST_POINTS)
    # where no year is below yet: GAIN_WIDTH log-sds, or as many steps, below the lowest
    low = centre[m - 1] - GAIN_WIDTH * max(sd, step)
    count = np.empty(most)  # P(i years counted), i < most
    before, h = _gain_integrand(low, centre, sd, below, count, permanent_sd, cap)
    # below the first point h is its value there to 1e-6: int_0^s v' h = h v(s), v(s) =
    # E[min(L s, cap)] the mean insurable earnings of levels L around s
    integral = h * expected_insurable(math.exp(low), 0.0, cap, permanent_sd)
    u = low
    while u < end:
        after = min(u + step, end)  # the last piece ends on the ceiling
        value, h = _gain_integrand(after, centre, sd, below, count, permanent_sd, cap)
        integral += 0.5 * (after - u) * (before + value)
        if after > centre[0] and h < 1e-12:  # h only falls as s rises
            break
        u, before = after, value
    best = total_kept - integral if below else integral
    # the expectation of the best N lies between the N best means and all the years
    return min(max(best / top, 1.0), total_kept / top)


@nb.njit(cache=True)
def _gain_integrand(u, centre, sd, below, count, permanent_sd, cap):
    """(v'(s) s E[...], E[...]) of :func:`best_years_gain` at s = e^u, E[...] = E[(D -
    N(s))+] (``below``) or E[min(N, M(s))], D or N the length of ``count`` (work space):
    v'(s) = 1 without a ceiling or below it without a level spread (the left limit at
    it), else E[L; L s < cap]."""
    most = count.shape[0]
    count[:] = 0.0
    count[0] = 1.0
    for j in range(centre.shape[0]):
        z = (u - centre[j]) / sd
        _count_one_more(count, _tail_chance(z if below else -z))
    expected = 0.0  # E[(most - count)+]
    for i in range(most):
        expected += (most - i) * count[i]
    h = expected if below else most - expected
    s = math.exp(u)
    slope = 1.0
    if 0.0 < cap < math.inf and permanent_sd > 0.0:
        slope = normal_cdf((math.log(cap / s) - 0.5 * permanent_sd ** 2) / permanent_sd)
    return slope * s * h, h


@nb.njit(cache=True, inline="always")
def _tail_chance(z):
    """Phi(z), 0 below -8.3 (under 5e-17) and 1 above 8.3."""
    if z < -8.3:
        return 0.0
    if z > 8.3:
        return 1.0
    return normal_cdf(z)


@nb.njit(cache=True, inline="always")
def _count_one_more(count, chance):
    """The distribution of a count, ``count`` (truncated), after one more Bernoulli
    variable of ``chance`` (in place)."""
    if chance == 0.0:
        return
    for i in range(count.shape[0] - 1, 0, -1):
        count[i] = count[i] * (1.0 - chance) + count[i - 1] * chance
    count[0] *= 1.0 - chance


@nb.njit(cache=True, inline="always")
def keep_credited_year(kept, amount, out, best):
    """The earnings of the credited years the reference keeps (:func:`reference_earnings`:
    the last N, or with ``best`` the best N) after one more credited year of ``amount``
    (currency): ``kept`` (R,) in, ``out`` (R,) out (it may be ``kept`` itself).

    The last N years are kept newest first: the new year goes first and the oldest drops
    out (ILO C102 Art. 65: previous earnings). The best N are kept in decreasing order:
    the new year goes before the first year it beats and the lowest drops out, so that
    the kept years are always the best N credited (the US computation years, Social
    Security Act sec. 215(b)(2)(A): the elapsed years less five, the highest indexed
    earnings counted). Revaluation multiplies every kept year alike, which keeps the order.
    A cell of the cohort engine applies it to its members' totals: exact when their
    careers are proportional (the same years ranked alike), as without transitory
    earnings."""
    n = kept.shape[0]
    first = 0
    if best:
        while first < n and kept[first] >= amount:
            first += 1
    for k in range(n - 1, first, -1):
        out[k] = kept[k - 1]
    if first < n:
        out[first] = amount
    for k in range(first):
        out[k] = kept[k]


@nb.njit(cache=True)
def averaging_years(service, credited_years, formula):
    """The years d the bend-point formula averages the reference credits over (see the
    module): max(n, D - (m - n)) for n = ``service`` credited years and m =
    ``credited_years`` (m - n: the years from a disability onset to the pensionable age)."""
    return max(service, formula[AVERAGING_YEARS] - (credited_years - service))


@nb.njit(cache=True)
def counts_elapsed_years(formula):
    """Whether the ``formula``'s disability and death awards average over computation
    years counted from the elapsed years (bend points with ELAPSED_FROM > 0)."""
    return formula[KIND] == BEND_POINTS and formula[ELAPSED_FROM] > 0


@nb.njit(cache=True)
def computation_years(age, death, formula):
    """The years c that a disability award at ``age`` (with ``death``, the award a death
    leaves to survivors) averages its reference over, from the elapsed years e = age - A,
    A the formula's ELAPSED_FROM: the years from the one in which she reaches A to the one
    before the onset. As the US counts them (Social Security Act sec. 215(b)(2)(A),
    (B)(iii), A = 22): c = e less one dropout year in five elapsed, at most five, for a
    disability; e - 5 for a death; at least 2 and at most the D (AVERAGING_YEARS) of an
    old-age pension, whose elapsed years to 62 less five are 35."""
    elapsed = max(age - formula[ELAPSED_FROM], 0.0)
    dropped = float(MOST_DROPOUT_YEARS)
    if not death:
        dropped = min(elapsed // DROPOUT_PER_ELAPSED, dropped)
    return min(max(elapsed - dropped, FEWEST_COMPUTATION_YEARS), formula[AVERAGING_YEARS])


@nb.njit(cache=True)
def award_future_years(age, retirement_age, death, formula):
    """F of a disability award at ``age`` (:func:`disability_award`; with ``death``, of
    the award a death leaves to survivors): the years to the pensionable age
    ``retirement_age``, which the accrual formula credits as future service and by which
    the bend-point formula's average is shorter (:func:`averaging_years`), or where the
    formula counts the elapsed years (:func:`counts_elapsed_years`) D - c, the years by
    which the award's computation years c (:func:`computation_years`) fall short of an
    old-age pension's D."""
    if counts_elapsed_years(formula):
        return formula[AVERAGING_YEARS] - computation_years(age, death, formula)
    return max(retirement_age - age, 0.0)


@nb.njit(cache=True)
def award_reference_years(years, future_years, formula):
    """The credited years that the reference earnings of a disability or death award
    count (:func:`reference_earnings`), its F = ``future_years``
    (:func:`award_future_years`): the reference's N = ``years`` (0: the whole career), or
    where the formula counts the elapsed years at most the award's computation years
    c = D - F, so that only the best (or the last) c kept years are averaged: the law
    drops the others (sec. 215(b)(2)(A)). With d = max(n, c) the average is then the c
    best years' over c, or with n < c credited years all of them over c."""
    if years > 0 and counts_elapsed_years(formula):
        return min(years, int(formula[AVERAGING_YEARS] - future_years + 0.5))
    return years


@nb.njit(cache=True, inline="always")
def formula_pension(reference, service, credited_years, formula):
    """The pension of the ``formula`` before any factor, minimum or maximum (currency per
    year), for reference credits E over n = ``service`` years and m = ``credited_years``
    credited (0 without service): E / n x accrual(m), or the bend-point formula of E / d
    (:func:`averaging_years`)."""
    if service <= 0:
        return 0.0
    reference = reference * formula[INDEXED]
    if formula[KIND] == BEND_POINTS:
        return bend_point_formula(reference / averaging_years(service, credited_years, formula),
                                  formula[BEND_1:BEND_2 + 1], formula[FACTOR_1:FACTOR_3 + 1])
    return reference / service * accrual(credited_years, formula[RATE], formula[RATE_ABOVE],
                                         formula[BAND_YEARS])


@nb.njit(cache=True)
def normal_cdf(x):
    """The standard normal distribution function."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


@nb.njit(cache=True)
def lognormal_excess(mean, sd, level):
    """E[(X - level)+] for X lognormal with E[X] = ``mean`` and ``sd`` the standard
    deviation of log X (sd 0: X = mean): mean N(d1) - level N(d1 - sd), d1 = (log(mean /
    level) + sd^2 / 2) / sd (the undiscounted Black-Scholes call)."""
    if level <= 0.0:
        return mean - level
    if mean <= 0.0:
        return 0.0
    if sd <= 0.0:
        return max(mean - level, 0.0)
    d1 = (math.log(mean / level) + 0.5 * sd * sd) / sd
    return mean * normal_cdf(d1) - level * normal_cdf(d1 - sd)


@nb.njit(cache=True)
def _excess(mean, sd, c0, b1, c1, b2, c2, b3, c3, level):
    """E[(p(X) - level)+] for the pension p(x) = c0 x + c1 (x - b1)+ + c2 (x - b2)+ + c3
    (x - b3)+ of the average x (nondecreasing, p(0) = 0; 0 <= b1 <= b2 <= b3, a knot of
    increment 0 ignored) and X lognormal (mean, sd). For x above x* = the least x with p(x)
    >= level, p(x) - level = sum_k c_k (x - max(b_k, x*))+, so the expectation is the sum
    of the c_k lognormal_excess(max(b_k, x*)) (b_0 = 0)."""
    if level <= 0.0:
        total = c0 * mean
        for b, c in ((b1, c1), (b2, c2), (b3, c3)):
            if c != 0.0:
                total += c * lognormal_excess(mean, sd, b)
        return total - level
    # x*: walk the segments [0, b1), [b1, b2), [b2, b3), [b3, inf)
    slope, start, at_start = c0, 0.0, 0.0
    x_star = math.inf
    for end, rise in ((b1, c1), (b2, c2), (b3, c3), (math.inf, 0.0)):
        at_end = at_start + slope * (end - start) if end < math.inf else math.inf
        if slope > 0.0 and at_end >= level:
            x_star = start + (level - at_start) / slope
            break
        start, at_start, slope = end, at_end, slope + rise
    if x_star == math.inf:
        return 0.0
    total = c0 * lognormal_excess(mean, sd, x_star)
    for b, c in ((b1, c1), (b2, c2), (b3, c3)):
        if c != 0.0:
            total += c * lognormal_excess(mean, sd, max(b, x_star))
    return total


@nb.njit(cache=True)
def expected_bounded_pension(mean, sd, c0, b1, c1, b2, c2, b3, c3, minimum, maximum):
    """E[bounded(p(X), minimum, maximum)] (currency per year) for the piecewise-linear
    pension p of :func:`_excess` and an average X lognormal with E[X] = ``mean`` and
    log-sd ``sd``: minimum + E[(p - minimum)+] - E[(p - maximum)+] (``maximum`` 0:
    none)."""
    expected = minimum + _excess(mean, sd, c0, b1, c1, b2, c2, b3, c3, minimum)
    if 0.0 < maximum < math.inf:
        if maximum <= minimum:
            return maximum
        expected -= _excess(mean, sd, c0, b1, c1, b2, c2, b3, c3, maximum)
    return expected


@nb.njit(cache=True)
def _piecewise_excess(sd, xs, slopes, n, level):
    """E[(h(L) - level)+] for L lognormal with mean 1 and log-sd ``sd`` and h continuous,
    nondecreasing and piecewise linear with h(0) = 0: slope ``slopes[i]`` from ``xs[i]``
    (xs[0] = 0, increasing) to ``xs[i + 1]``, the last of the ``n`` pieces to infinity.
    Above x* = the least x with h(x) >= level, h(x) - level = s(x*) (x - x*) + the sum of
    the slope's rises at the knots beyond x* times (x - knot)+, so the expectation is a
    sum of lognormal_excess terms (a level <= 0: E[h] - level)."""
    if level <= 0.0:
        total = slopes[0]
        for i in range(1, n):
            total += (slopes[i] - slopes[i - 1]) * lognormal_excess(1.0, sd, xs[i])
        return total - level
    at = 0.0
    for i in range(n):
        if slopes[i] > 0.0:
            end = at + slopes[i] * (xs[i + 1] - xs[i]) if i + 1 < n else math.inf
            if end >= level:
                x_star = xs[i] + (level - at) / slopes[i]
                total = slopes[i] * lognormal_excess(1.0, sd, x_star)
                for j in range(i + 1, n):
                    total += (slopes[j] - slopes[j - 1]) * lognormal_excess(1.0, sd, xs[j])
                return total
            at = end
    return 0.0


@nb.njit(cache=True)
def career_capped_pension(average, sd, c0, b1, c1, b2, c2, minimum, maximum, caps):
    """E[bounded(p(g(L)), minimum, maximum)] (currency per year) for the pension p(y) = c0 y
    + c1 (y - b1)+ + c2 (y - b2)+ of a member's average y = g(L) when the ceiling caps her
    earnings year by year: a member of level L (lognormal, mean 1, log-sd ``sd``) has
    g(L) = average x G(L) / E[G], G(L) = sum_j w_j min(L, k_j), the knots k_j the years'
    ceilings over the cell's mean earnings and w_j their weights (``caps``:
    db_pension.career_caps), so that her average approaches the ceiling's as her level
    rises, reaching it only when every year is capped, and the cell keeps its mean. p(g) is
    piecewise linear in L (knots at the k_j and where g crosses a bend point): the mean is
    a sum of lognormal calls (:func:`_piecewise_excess`)."""
    knots = int(caps[0])
    scale = average / caps[1]
    xs = np.zeros(knots + 4)
    slopes = np.zeros(knots + 4)
    remaining = 0.0
    for j in range(knots):
        remaining += caps[2 + MAX_KNOTS + j]
    n, start, at = 0, 0.0, 0.0  # the current piece of g: from x ``start``, g = ``at``
    passed_1, passed_2 = b1 <= 0.0, b2 <= 0.0
    for j in range(knots + 1):
        end = caps[2 + j] if j < knots else math.inf
        g_slope = scale * remaining if j < knots else 0.0  # flat beyond the last knot
        while True:  # the piece of g split at the bend points it crosses
            f_slope = c0 + (c1 if passed_1 else 0.0) + (c2 if passed_2 else 0.0)
            xs[n], slopes[n] = start, g_slope * f_slope
            n += 1
            if g_slope <= 0.0:
                break
            cut, which = math.inf, 0
            if not passed_1 and b1 < math.inf:
                cut, which = max(start + (b1 - at) / g_slope, start), 1
            if not passed_2 and b2 < math.inf:
                x = max(start + (b2 - at) / g_slope, start)
                if x < cut:
                    cut, which = x, 2
            if which == 0 or cut >= end:
                break
            at += g_slope * (cut - start)
            start = cut
            if which == 1:
                passed_1 = True
            else:
                passed_2 = True
        if j < knots:
            at += g_slope * (end - start)
            start = end
            remaining -= caps[2 + MAX_KNOTS + j]
    expected = minimum + _piecewise_excess(sd, xs, slopes, n, minimum)
    if 0.0 < maximum < math.inf:
        if maximum <= minimum:
            return maximum
        expected -= _piecewise_excess(sd, xs, slopes, n, maximum)
    return expected


@nb.njit(cache=True)
def uncapped_mean(capped, sd, cap):
    """The mean m of a lognormal Y (log-sd ``sd``) whose capped mean E[min(Y, cap)] = m -
    E[(Y - cap)+] is ``capped`` (currency; ``capped`` < ``cap``). The capped mean rises
    with m at the rate P(Y < cap) and is concave in it, so Newton's steps from m =
    ``capped`` rise to the root without passing it."""
    m = capped
    for _ in range(100):
        gap = capped - (m - lognormal_excess(m, sd, cap))
        if gap <= 1e-13 * capped:
            break
        d1 = (math.log(m / cap) + 0.5 * sd * sd) / sd
        below = normal_cdf(-d1)  # P(Y < cap), the slope
        if below <= 0.0:
            break
        m += gap / below
    return m


@nb.njit(cache=True)
def members_credits(mean, levels, sd, cap, caps):
    """The credits of members of a class whose mean credits are ``mean`` (currency), each
    of a permanent earnings ``levels`` (lognormal with mean 1 and log-sd ``sd``): min(m x
    level, cap), m the uncapped mean (:func:`uncapped_mean`) under ``cap`` (the ceiling
    times the credited years; 0: none), so that the class keeps its mean in expectation
    and its members are spread as the cohort engine's award rules assume (``_spread_award``).
    With the cell's yearly ``caps`` (:func:`career_capped_pension`; size 0: none), mean x
    G(level) / E[G] instead, the ceiling applied year by year."""
    out = np.empty(levels.size)
    if mean <= 0.0 or sd <= 0.0:
        out[:] = mean
        return out
    capped = 0.0 < cap < math.inf
    if capped and mean >= cap * (1.0 - 1e-12):
        out[:] = mean
        return out
    if capped and caps.size and caps[0] > 0:
        for i in range(levels.size):
            g = 0.0
            for j in range(int(caps[0])):
                g += caps[2 + MAX_KNOTS + j] * min(levels[i], caps[2 + j])
            out[i] = mean * g / caps[1]
        return out
    m = uncapped_mean(mean, sd, cap) if capped else mean
    for i in range(levels.size):
        out[i] = min(m * levels[i], cap) if capped else m * levels[i]
    return out


@nb.njit(cache=True)
def _spread_award(reference, service, credited_years, factor, minimum, maximum, formula,
                  spread, caps):
    """The mean of bounded(formula_pension x factor, minimum, maximum) over the members
    of a cell whose averages are min(Y, K): Y lognormal with log-sd ``spread`` > 0, K the
    earnings ceiling's cap on the average (the formula's CEILING x n / d; none without a
    ceiling), the mean of min(Y, K) the cell's average reference / d (see the module;
    ``service`` > 0). With the cell's yearly ``caps`` (db_pension.career_caps; size 0:
    none) a member's average approaches the ceiling's as her earnings are capped year by
    year instead (:func:`career_capped_pension`)."""
    if formula[KIND] == BEND_POINTS:
        divisor = averaging_years(service, credited_years, formula)
        f1, f2, f3 = formula[FACTOR_1] * factor, formula[FACTOR_2] * factor, \
            formula[FACTOR_3] * factor
        c0, b1, c1, b2, c2 = f1, formula[BEND_1], f2 - f1, formula[BEND_2], f3 - f2
    else:
        divisor = service
        c0 = accrual(credited_years, formula[RATE], formula[RATE_ABOVE],
                     formula[BAND_YEARS]) * factor
        b1, c1, b2, c2 = math.inf, 0.0, math.inf, 0.0
    average = reference * formula[INDEXED] / divisor
    ceiling = formula[CEILING]
    if not 0.0 < ceiling < math.inf:
        return expected_bounded_pension(average, spread, c0, b1, c1, b2, c2, math.inf, 0.0,
                                        minimum, maximum)
    cap = ceiling * formula[INDEXED] * service / divisor
    if average >= cap * (1.0 - 1e-12):  # every member at the ceiling every year
        return expected_bounded_pension(average, 0.0, c0, b1, c1, b2, c2, math.inf, 0.0,
                                        minimum, maximum)
    if caps.size and caps[0] > 0:
        return career_capped_pension(average, spread, c0, b1, c1, b2, c2, minimum, maximum,
                                     caps)
    # p(min(y, K)): the knots beyond K dropped, the slope back to 0 at K
    if cap <= b1:
        b1, c1, b2, c2, b3, c3 = cap, -c0, math.inf, 0.0, math.inf, 0.0
    elif cap <= b2:
        b2, c2, b3, c3 = cap, -(c0 + c1), math.inf, 0.0
    else:
        b3, c3 = cap, -(c0 + c1 + c2)
    return expected_bounded_pension(uncapped_mean(average, spread, cap), spread, c0, b1, c1,
                                    b2, c2, b3, c3, minimum, maximum)


@nb.njit(cache=True)
def bend_point_formula(average, bends, factors):
    """A benefit from bend points (currency per period of ``average``): ``factors[0]`` of
    the average up to ``bends[0]``, ``factors[1]`` of the part between ``bends[0]`` and
    ``bends[1]``, ..., ``factors[-1]`` of the part above the last bend (len(factors) =
    len(bends) + 1; bends increasing). The progressive formula of the US primary insurance
    amount (Social Security Act sec. 215(a)(1)(A): 90 %, 32 % and 15 % of the average
    indexed monthly earnings between two bend points), of Canada's and Japan's flat-plus-
    earnings formulas and of replacement-rate bands."""
    total, below = 0.0, 0.0
    for i in range(len(bends)):
        if average <= below:
            return total
        total += factors[i] * (min(average, bends[i]) - below)
        below = bends[i]
    if average > below:
        total += factors[len(bends)] * (average - below)
    return total


@nb.njit(cache=True)
def claiming_factor(months, early_rate, early_months, early_rate_after, late_rate,
                    late_months):
    """The factor on a pension claimed ``months`` months after the normal retirement age
    (negative: before): 1 - ``early_rate`` a month for the first ``early_months`` months
    early and ``early_rate_after`` a month beyond; 1 + ``late_rate`` a month late, for at
    most ``late_months`` months (US: 5/9 % and 5/12 % a month after 36 months, Social
    Security Act sec. 202(q); delayed retirement credits of 2/3 % a month to age 70, sec.
    202(w))."""
    if months < 0:
        early = -months
        return (1.0 - early_rate * min(early, early_months)
                - early_rate_after * max(early - early_months, 0))
    return 1.0 + late_rate * min(months, late_months)


@nb.njit(cache=True)
def bounded(amount, minimum, maximum):
    """A pension between the minimum and the maximum pension (currency per year):
    min(max(amount, minimum), maximum), with ``maximum`` 0 (or infinite) for none."""
    amount = max(amount, minimum)
    if maximum > 0.0:
        return min(amount, maximum)
    return amount


@nb.njit(cache=True, inline="always")
def old_age_award(reference, service, factor, minimum, maximum, formula, spread, caps):
    """Old-age pension at award (currency per year): bounded(E / n x accrual(n) x f), or
    with bend points bounded(bend_point_formula(E / d) x f), f the early-reduction or
    late-increment ``factor`` of the age at award (1 at the pensionable age:
    db_pension.retirement_schedule); the mean over a cell's lognormal ``spread`` of the
    average (0 for a person; see the module) and the cell's yearly ``caps`` (NO_CAPS:
    the ceiling on the average as a whole; :func:`_spread_award`)."""
    if spread <= 0.0 or service <= 0:
        pension = formula_pension(reference, service, service, formula)
        return bounded(pension * factor, minimum, maximum)
    return _spread_award(reference, service, service, factor, minimum, maximum, formula,
                         spread, caps)


@nb.njit(cache=True)
def awards_at_levels(reference, service, factor, minimum, maximum, formula, spread, caps,
                     edges, out):
    """``out``: the mean old-age pension at award (currency per year) of the members of a
    cell whose mean reference credits are ``reference`` within each equal-probability
    band of their earnings levels L (lognormal, mean 1, log-sd ``spread``) between the
    normal quantiles ``edges`` (:func:`shape_bands`): a member's pension is the formula
    itself (:func:`old_age_award` at spread 0) on her credits as :func:`_spread_award`
    spreads them (:func:`members_credits`: the ceiling on the average as a whole, or year
    by year with the cell's yearly ``caps``). They give the cell's pensions' shape: a
    progressive formula of a lognormal average is not a lognormal (a long tail of small
    pensions), and a minimum or a maximum piles members up at it.

    The pension is continuous and piecewise linear in L, so each band's mean is exact: the
    sum over the pieces between its kinks (:func:`_pension_kinks`) of the lognormal's
    partial moments, f(a) P(a < L < b) + slope (E[L; a < L < b] - a P(a < L < b)). The
    bands therefore average to the closed-form award of the cell (:func:`old_age_award`
    with the spread)."""
    n = edges.size - 1
    ceiling = formula[CEILING]
    cap = ceiling * service if 0.0 < ceiling < math.inf else 0.0
    if spread <= 0.0:
        out[:] = old_age_award(reference, service, factor, minimum, maximum, formula, 0.0,
                               NO_CAPS)
        return
    half = 0.5 * spread * spread
    bounds = np.empty(n + 1)  # the bands' edges in L
    for i in range(n + 1):
        bounds[i] = math.exp(spread * edges[i] - half) if math.isfinite(edges[i]) else (
            0.0 if edges[i] < 0 else math.inf)
    kinks = _pension_kinks(reference, service, factor, minimum, maximum, formula, spread,
                           cap, caps)
    points = np.unique(np.concatenate((bounds[:n], kinks)))  # 0 first, all finite
    values = _members_pensions(reference, points, service, factor, minimum, maximum,
                               formula, spread, cap, caps)
    # the last piece is linear to infinity: its slope from one more point
    beyond = _members_pensions(reference, np.array([points[-1] + 1.0]), service, factor,
                               minimum, maximum, formula, spread, cap, caps)[0]
    out[:] = 0.0
    band = 0
    for j in range(points.size):
        a = points[j]
        b = points[j + 1] if j + 1 < points.size else math.inf
        while band < n - 1 and a >= bounds[band + 1]:
            band += 1
        slope = (values[j + 1] - values[j]) / (b - a) if j + 1 < points.size else \
            beyond - values[j]
        probability = _lognormal_below(b, spread, half) - _lognormal_below(a, spread, half)
        moment = _lognormal_below(b, spread, -half) - _lognormal_below(a, spread, -half)
        out[band] += values[j] * probability + slope * (moment - a * probability)
    for i in range(n):
        out[i] *= n


@nb.njit(cache=True)
def _lognormal_below(level, sd, shift):
    """For L lognormal with mean 1 and log-sd ``sd``: P(L < level) with ``shift`` = sd^2 /
    2, E[L; L < level] with ``shift`` = -sd^2 / 2 (Phi((ln level + shift) / sd))."""
    if level <= 0.0:
        return 0.0
    if level == math.inf:
        return 1.0
    return normal_cdf((math.log(level) + shift) / sd)


@nb.njit(cache=True)
def _members_pensions(reference, levels, service, factor, minimum, maximum, formula,
                      spread, cap, caps):
    """The old-age pensions at award of members of earnings ``levels``
    (:func:`awards_at_levels`)."""
    credits = members_credits(reference, levels, spread, cap, caps)
    out = np.empty(levels.size)
    for i in range(levels.size):
        out[i] = old_age_award(credits[i], service, factor, minimum, maximum, formula, 0.0,
                               NO_CAPS)
    return out


@nb.njit(cache=True)
def _pension_kinks(reference, service, factor, minimum, maximum, formula, spread, cap,
                   caps):
    """The levels L where a member's pension (:func:`awards_at_levels`) may change slope:
    those of her credits (the yearly caps' knots, or where the cap on the whole average
    binds), and the levels whose credits reach the formula's bend points, or a pension at
    the minimum or the maximum (each found on the credits' and the formula's pieces,
    which are linear between these)."""
    knots = np.empty(0)
    if 0.0 < cap < math.inf and reference < cap * (1.0 - 1e-12):
        if caps.size and caps[0] > 0:
            knots = caps[2:2 + int(caps[0])].copy()
        else:
            knots = np.array([cap / uncapped_mean(reference, spread, cap)])
    levels = np.concatenate((np.zeros(1), np.sort(knots)))
    credits = members_credits(reference, levels, spread, cap, caps)
    after = members_credits(reference, np.array([levels[-1] + 1.0]), spread, cap, caps)[0]
    # the formula's own kinks, in credits
    bends = np.empty(0)
    if formula[KIND] == BEND_POINTS:
        scale = averaging_years(service, service, formula) / formula[INDEXED]
        bends = np.array([formula[BEND_1] * scale, formula[BEND_2] * scale])
    steps = np.concatenate((np.zeros(1), np.sort(bends)))
    paid = np.empty(steps.size)
    for i in range(steps.size):
        paid[i] = formula_pension(steps[i], service, service, formula) * factor
    paid_after = formula_pension(steps[-1] + 1.0, service, service, formula) * factor
    wanted = list(bends)
    for amount in (minimum, maximum):
        if 0.0 < amount < math.inf:
            at = _inverse_piecewise(steps, paid, paid_after - paid[-1], amount)
            if at >= 0.0:
                wanted.append(at)
    found = list(knots)
    for amount in wanted:
        at = _inverse_piecewise(levels, credits, after - credits[-1], amount)
        if at >= 0.0:
            found.append(at)
    return np.array(found) if len(found) else np.empty(0)


@nb.njit(cache=True)
def _inverse_piecewise(xs, ys, slope, target):
    """x with y(x) = ``target`` for y nondecreasing, piecewise linear between (``xs``,
    ``ys``) and of ``slope`` beyond the last (per unit of x); -1 where none."""
    for i in range(xs.size - 1):
        if ys[i] <= target < ys[i + 1]:
            return xs[i] + (target - ys[i]) / (ys[i + 1] - ys[i]) * (xs[i + 1] - xs[i])
    if target >= ys[-1] and slope > 0.0:
        return xs[-1] + (target - ys[-1]) / slope
    return -1.0


@nb.njit(cache=True)
def band_levels(edges, sd):
    """The mean of a lognormal factor (mean 1, log-sd ``sd``) within each of the
    equal-probability bands between the normal quantiles ``edges`` (:func:`shape_bands`):
    n (N(b_i+1 - sd) - N(b_i - sd)) for n bands, which average to 1 exactly."""
    n = edges.size - 1
    levels = np.empty(n)
    for i in range(n):
        levels[i] = n * (normal_cdf(edges[i + 1] - sd) - normal_cdf(edges[i] - sd))
    return levels


def shape_bands(n: int = SHAPE_NODES) -> np.ndarray:
    """The edges of ``n`` equal-probability bands of the standard normal, its quantiles
    at i / n, i = 0 .. n (-inf and inf at the ends: :func:`awards_at_levels`)."""
    normal = NormalDist()
    inner = [normal.inv_cdf(i / n) for i in range(1, n)]
    return np.array([-math.inf, *inner, math.inf])


@nb.njit(cache=True, inline="always")
def disability_award(reference, service, future_years, minimum, maximum, formula, spread,
                     caps):
    """Disability pension at onset (currency per year): bounded(E / n x accrual(n + F)),
    the F = ``future_years`` from onset to the pensionable age credited at the reference
    earnings (ILO C128 Art. 10: credited future service), or with bend points the formula
    on the average over fewer years (:func:`averaging_years`; F from
    :func:`award_future_years`). Also the pension a survivor's share applies to at the
    death of an insured person (ILO C128 Art. 22)."""
    if spread <= 0.0 or service <= 0:
        pension = formula_pension(reference, service, service + future_years, formula)
        return bounded(pension, minimum, maximum)
    return _spread_award(reference, service, service + future_years, 1.0, minimum, maximum,
                         formula, spread, caps)


@nb.njit(cache=True)
def in_payment(previous, index_growth, minimum):
    """A pension in payment this year (currency per year): last year's, indexed by this
    year's growth of the indexation series, never below this year's minimum pension,
    max(P (1 + g), minimum) (R202 para. 8(b): adjusted periodically)."""
    return max(previous * (1.0 + index_growth), minimum)


@nb.njit(cache=True)
def insurable_earnings(earnings, floor, ceiling):
    """Insurable earnings (currency per year): the earnings within the contribution base's
    floor and ceiling, min(max(w, floor), ceiling), ``ceiling`` 0 (or infinite) for none
    (ILC 2021 para. 15(c))."""
    insured = max(earnings, floor)
    if ceiling > 0.0:
        return min(insured, ceiling)
    return insured


@nb.njit(cache=True)
def expected_insurable(earnings, floor, ceiling, spread):
    """Mean insurable earnings of workers whose earnings are lognormal with mean
    ``earnings`` and log-sd ``spread`` (currency per year): E[min(max(W, floor),
    ceiling)] = floor + E[(W - floor)+] - E[(W - ceiling)+] (``ceiling`` 0 or infinite:
    none); with spread 0, :func:`insurable_earnings` of the mean."""
    if spread <= 0.0:
        return insurable_earnings(earnings, floor, ceiling)
    mean = floor + lognormal_excess(earnings, spread, floor)
    if 0.0 < ceiling < math.inf:
        if ceiling <= floor:
            return ceiling
        mean -= lognormal_excess(earnings, spread, ceiling)
    return mean


@nb.njit(cache=True)
def taxable_benefit(benefit, spread, threshold, inclusion, other_income):
    """The mean amount of a pension that enters taxable income (currency per year), for
    pensioners whose benefits B are lognormal with mean ``benefit`` and log-sd ``spread``
    (0: all at the mean): min(i B, i (C - T)+) with combined income C = (k + 1/2) B, k =
    ``other_income`` (the pensioner's other income as a multiple of the benefit), i =
    ``inclusion`` and T = ``threshold`` (US Internal Revenue Code sec. 86(a)(1), the part
    of benefits taxable under the rules before 1994, whose proceeds the OASDI trust funds
    receive: Social Security Act sec. 201(a)). In B it is i c (B - b1)+ - i (c - 1)
    (B - b2)+, c = k + 1/2, b1 = T / c, b2 = T / (c - 1) (when c > 1), so its mean is two
    lognormal calls."""
    c = other_income + 0.5
    if threshold <= 0.0:
        return inclusion * min(1.0, c) * benefit
    taxed = inclusion * c * lognormal_excess(benefit, spread, threshold / c)
    if c > 1.0:
        taxed -= inclusion * (c - 1.0) * lognormal_excess(benefit, spread,
                                                          threshold / (c - 1.0))
    return taxed


@nb.njit(cache=True)
def qualified_insured(age, retirement_age, service, minimum_service):
    """Whether an insured person below the pensionable age has a branch's qualifying
    period of credited years: the disability pension's (for an onset among last year's
    contributors; ILO C128 Art. 11) and the survivors' (at the death of an insured person
    who is not a pensioner; ILO C128 Art. 24)."""
    return age < retirement_age and service >= minimum_service


@nb.njit(cache=True)
def old_age_qualifies(age, retirement_age, service, minimum_service):
    """Whether a member is entitled to an old-age pension: at or above the pensionable age
    with at least the minimum credited service (ILO C102 Art. 29)."""
    return age >= retirement_age and service >= minimum_service


@nb.njit(cache=True)
def leaves_without_pension(age, retirement_age, service, minimum_service):
    """Whether a member reaches the pensionable age short of the minimum service: they
    leave the scheme, with a refund where it pays one (:func:`refund`)."""
    return age >= retirement_age and service < minimum_service


@nb.njit(cache=True)
def refund(share, paid):
    """Lump sum paid to a leaver without a pension (currency): ``share`` x the
    contributions paid, each at its year's rate and revalued like the credits (care
    credits were not paid for)."""
    return share * paid


@nb.njit(cache=True)
def survivor_scale(total_share, maximum_share):
    """Factor applied to every survivor's share of one death: min(1, maximum / total), so
    that the shares add up to at most ``maximum_share`` (0: no ceiling; ILO C128 Art. 21
    style)."""
    if maximum_share <= 0.0 or total_share <= maximum_share:
        return 1.0
    return maximum_share / total_share


@nb.njit(cache=True)
def survivor_above_own(survivor, own, spread):
    """The part of a survivor's pension paid beside the survivor's own old-age or
    disability pension when only the higher of the two is paid (dual entitlement: the
    survivor's benefit is reduced by the own benefit, US Social Security Act sec.
    202(k)(3)(A)): max(S - O, 0) for a survivor's pension S = ``survivor`` and an own
    pension O = ``own`` (currency per year). With a ``spread`` > 0, its mean over S
    lognormal with mean ``survivor`` and ``spread`` the standard deviation of log S (the
    Black-Scholes call, :func:`lognormal_excess`); the cohort engine takes the own
    pensions of a class at the nodes of its shape (:func:`awards_at_levels`,
    survivors.spouses_beside_own_pensions)."""
    if own <= 0.0:
        return max(survivor, 0.0)
    if survivor <= 0.0:
        return 0.0
    return lognormal_excess(survivor, spread, own)


@nb.njit(cache=True)
def orphan_pension_ends(age, age_limit):
    """Whether an orphan's pension has ended: paid up to and including ``age_limit``."""
    return age > age_limit


@nb.njit(cache=True)
def orphan_probability(asfr, mother_age, k):
    """Probability that a parent dying now leaves a child aged k whose mother is aged
    ``mother_age``: her fertility rate at the age she had at the birth, mother_age - 1 - k
    (``asfr`` by age; the current year's rates stand in for the past's, and child
    mortality is ignored)."""
    at_birth = mother_age - 1 - k
    if at_birth < 0 or at_birth >= len(asfr):
        return 0.0
    return asfr[at_birth]


# --------------------------------------------------------------------------- over cells

# The rules the cohort engine applies to every cell, in the order _over_cells numbers them,
# and which of them are predicates (a bool per cell).
CELL_RULES = (accrual, reference_earnings, bounded, old_age_award, disability_award,
              in_payment, insurable_earnings, qualified_insured, old_age_qualifies,
              leaves_without_pension, refund, survivor_scale, orphan_pension_ends,
              expected_insurable, taxable_benefit)
PREDICATES = (qualified_insured, old_age_qualifies, leaves_without_pension,
              orphan_pension_ends)
#: The rules whose last two arguments are the formula (an array, the same for every
#: cell) and the spread.
AWARDS = (old_age_award, disability_award)
_NO_FORMULA = np.zeros(FORMULA_SIZE)


def cells(rule) -> Callable[..., np.ndarray]:
    """``rule`` over arrays that broadcast together (as float64), by a compiled loop that
    calls the scalar rule itself on every cell: the cohort engine applies the micro
    engine's rule. Predicates give bool arrays. The award rules take their ``formula``
    (:func:`formula`) as a keyword, the same for every cell. The loop is one cached
    function for every rule, so a projection loads it from disk instead of compiling a
    ufunc per rule."""
    number = next(k for k, r in enumerate(CELL_RULES) if r is rule)
    predicate = any(rule is r for r in PREDICATES)
    award = any(rule is r for r in AWARDS)
    py_func = getattr(rule, "py_func", rule)
    if nb.config.DISABLE_JIT:  # the Python rule on each cell, looped over by NumPy

        def over_cells(*args, formula=None):
            if award:  # the formula before the spread, the last argument
                # a list: the rule reads its fields once per cell, and a list's items are
                # several times faster to read than a NumPy array's
                fields = (_NO_FORMULA if formula is None else np.asarray(formula)).tolist()

                def each(*cell):
                    return py_func(*cell[:-1], fields, cell[-1], NO_CAPS)
            else:
                each = py_func
            arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in args))
            shape = arrays[0].shape
            if arrays[0].size == 0:
                return np.zeros(shape, dtype=bool if predicate else np.float64)
            # the rule once per distinct cell (a third of them in a projection): the same
            # arguments give the same result, and Python calls are what this path costs
            distinct, where = _distinct_columns(np.stack([a.ravel() for a in arrays]))
            out = np.frompyfunc(each, len(args), 1)(*distinct)
            out = np.asarray(out, dtype=bool if predicate else np.float64)
            return out[where].reshape(shape)

        over_cells.__doc__, over_cells.__name__ = rule.__doc__, py_func.__name__
        return over_cells

    def over_cells(*args, formula=None):
        arrays = [np.asarray(a, dtype=np.float64) for a in args]
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        # each argument broadcast straight into its row (every rule takes arguments)
        stacked = np.empty((len(arrays), math.prod(shape)))
        for row, a in zip(stacked, arrays, strict=True):
            row.reshape(shape)[...] = a
        given = _NO_FORMULA if formula is None else np.asarray(formula, dtype=np.float64)
        out = _over_cells(number, stacked, given, np.empty(stacked.shape[1]))
        return (out != 0.0 if predicate else out).reshape(shape)

    over_cells.__doc__, over_cells.__name__ = rule.__doc__, py_func.__name__
    return over_cells


def _distinct_columns(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct columns of ``a`` and, for each column, the number of its distinct one:
    ``distinct[:, where] == a``. (np.unique(axis=1) sorts the columns as bytes, several
    times slower than this lexicographic sort.)"""
    order = np.lexsort(a)
    ordered = a[:, order]
    first = np.ones(a.shape[1], dtype=bool)
    first[1:] = (ordered[:, 1:] != ordered[:, :-1]).any(axis=0)
    where = np.empty(a.shape[1], dtype=np.intp)
    where[order] = np.cumsum(first) - 1
    return ordered[:, first], where


@nb.njit(cache=True)
def _over_cells(rule, a, formula, out):
    """out[i] = CELL_RULES[rule](a[0, i], a[1, i], ...) for every cell i (predicates as
    1.0 / 0.0; the award rules with ``formula`` before their last argument)."""
    for i in range(out.size):
        if rule == 0:
            out[i] = accrual(a[0, i], a[1, i], a[2, i], a[3, i])
        elif rule == 1:
            out[i] = reference_earnings(a[0, i], a[1, i], a[2, i], a[3, i])
        elif rule == 2:
            out[i] = bounded(a[0, i], a[1, i], a[2, i])
        elif rule == 3:
            out[i] = old_age_award(a[0, i], a[1, i], a[2, i], a[3, i], a[4, i], formula,
                                   a[5, i], NO_CAPS)
        elif rule == 4:
            out[i] = disability_award(a[0, i], a[1, i], a[2, i], a[3, i], a[4, i], formula,
                                      a[5, i], NO_CAPS)
        elif rule == 5:
            out[i] = in_payment(a[0, i], a[1, i], a[2, i])
        elif rule == 6:
            out[i] = insurable_earnings(a[0, i], a[1, i], a[2, i])
        elif rule == 7:
            out[i] = qualified_insured(a[0, i], a[1, i], a[2, i], a[3, i])
        elif rule == 8:
            out[i] = old_age_qualifies(a[0, i], a[1, i], a[2, i], a[3, i])
        elif rule == 9:
            out[i] = leaves_without_pension(a[0, i], a[1, i], a[2, i], a[3, i])
        elif rule == 10:
            out[i] = refund(a[0, i], a[1, i])
        elif rule == 11:
            out[i] = survivor_scale(a[0, i], a[1, i])
        elif rule == 12:
            out[i] = orphan_pension_ends(a[0, i], a[1, i])
        elif rule == 13:
            out[i] = expected_insurable(a[0, i], a[1, i], a[2, i], a[3, i])
        else:
            out[i] = taxable_benefit(a[0, i], a[1, i], a[2, i], a[3, i], a[4, i])
    return out
