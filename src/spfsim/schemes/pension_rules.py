"""The contributory pension's rules, once, for both engines.

Each rule is a scalar function compiled by Numba: the micro kernels call it person by
person (:mod:`spfsim.engine.micro`), and the cohort engine applies it to every cell of its
state, age x sex x credited-service class, with :func:`cells`: a compiled loop over the
cells that calls the same function (the array functions of :mod:`spfsim.schemes.db_pension`
are such broadcasts). Amounts are in currency per year, service and ages in whole years, rates are
fractions.

The formula (ILO Convention No. 102 Art. 65, No. 128 Art. 10 style, as in ILO/PENSIONS):

    pension = bounded(E / n x accrual(m) x f, minimum, maximum)

with E the reference credits (:func:`reference_earnings`: n x the reference earnings), n
the credited years, m = n for an old-age pension and n + the years to the pensionable age
for a disability pension (credited future service), f the early/late retirement factor.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numba as nb
import numpy as np


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


@nb.njit(cache=True)
def formula_pension(reference, service, credited_years, rate, rate_above, band_years):
    """E / n x accrual(m): the pension of the formula before any factor, minimum or
    maximum (currency per year), for reference credits E over n = ``service`` years and m
    = ``credited_years`` credited (0 without service)."""
    if service <= 0:
        return 0.0
    return reference / service * accrual(credited_years, rate, rate_above, band_years)


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


@nb.njit(cache=True)
def old_age_award(reference, service, factor, minimum, maximum, rate, rate_above,
                  band_years):
    """Old-age pension at award (currency per year): bounded(E / n x accrual(n) x f),
    f the early-reduction or late-increment ``factor`` of the age at award (1 at the
    pensionable age: db_pension.retirement_schedule)."""
    pension = formula_pension(reference, service, service, rate, rate_above, band_years)
    return bounded(pension * factor, minimum, maximum)


@nb.njit(cache=True)
def disability_award(reference, service, future_years, minimum, maximum, rate, rate_above,
                     band_years):
    """Disability pension at onset (currency per year): bounded(E / n x accrual(n + F)),
    the F = ``future_years`` from onset to the pensionable age credited at the reference
    earnings (ILO C128 Art. 10: credited future service). Also the pension a survivor's
    share applies to at the death of an insured person (ILO C128 Art. 22)."""
    pension = formula_pension(reference, service, service + future_years, rate, rate_above,
                              band_years)
    return bounded(pension, minimum, maximum)


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
              leaves_without_pension, refund, survivor_scale, orphan_pension_ends)
PREDICATES = (qualified_insured, old_age_qualifies, leaves_without_pension,
              orphan_pension_ends)


def cells(rule) -> Callable[..., np.ndarray]:
    """``rule`` over arrays that broadcast together (as float64), by a compiled loop that
    calls the scalar rule itself on every cell: the cohort engine applies the micro
    engine's rule. Predicates give bool arrays. The loop is one cached function for every
    rule, so a projection loads it from disk instead of compiling a ufunc per rule."""
    number = next(k for k, r in enumerate(CELL_RULES) if r is rule)
    predicate = any(rule is r for r in PREDICATES)
    py_func = getattr(rule, "py_func", rule)
    if nb.config.DISABLE_JIT:  # the Python rule on each cell, looped over by NumPy
        each_cell = np.frompyfunc(py_func, py_func.__code__.co_argcount, 1)

        def over_cells(*args):
            out = each_cell(*(np.asarray(a, dtype=np.float64) for a in args))
            return np.asarray(out, dtype=bool if predicate else np.float64)

        over_cells.__doc__, over_cells.__name__ = rule.__doc__, py_func.__name__
        return over_cells

    def over_cells(*args):
        arrays = [np.asarray(a, dtype=np.float64) for a in args]
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
        # each argument broadcast straight into its row (every rule takes arguments)
        stacked = np.empty((len(arrays), math.prod(shape)))
        for row, a in zip(stacked, arrays, strict=True):
            row.reshape(shape)[...] = a
        out = _over_cells(number, stacked, np.empty(stacked.shape[1]))
        return (out != 0.0 if predicate else out).reshape(shape)

    over_cells.__doc__, over_cells.__name__ = rule.__doc__, py_func.__name__
    return over_cells


@nb.njit(cache=True)
def _over_cells(rule, a, out):
    """out[i] = CELL_RULES[rule](a[0, i], a[1, i], ...) for every cell i (predicates as
    1.0 / 0.0)."""
    for i in range(out.size):
        if rule == 0:
            out[i] = accrual(a[0, i], a[1, i], a[2, i], a[3, i])
        elif rule == 1:
            out[i] = reference_earnings(a[0, i], a[1, i], a[2, i], a[3, i])
        elif rule == 2:
            out[i] = bounded(a[0, i], a[1, i], a[2, i])
        elif rule == 3:
            out[i] = old_age_award(a[0, i], a[1, i], a[2, i], a[3, i], a[4, i], a[5, i],
                                   a[6, i], a[7, i])
        elif rule == 4:
            out[i] = disability_award(a[0, i], a[1, i], a[2, i], a[3, i], a[4, i], a[5, i],
                                      a[6, i], a[7, i])
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
        else:
            out[i] = orphan_pension_ends(a[0, i], a[1, i])
    return out
