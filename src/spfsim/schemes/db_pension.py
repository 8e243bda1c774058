"""Contributory defined-benefit old-age pension (social insurance).

Benefit at award: pension = max(accrual_rate x sum of revalued insured earnings, minimum),
i.e. accrual rate x credited years x career-average revalued earnings, the formula of ILO
Convention No. 128 style schemes and of ILO/PENSIONS (or, with ``reference_earnings_years``
N, the average over the last N credited years: :func:`reference_credits`); paid from the
retirement age by sex to those with at least the minimum credited service, indexed in
payment. Serves R202 para. 9(1)
(social insurance as one of the scheme types delivering the guarantees) and ILC 2021
para. 15(b), (e), (f) (contributory financing, actuarial soundness, contribution shares).

Disability branch: an insured person who contributed last year, has at least
``disability_minimum_service`` credited years and is below the pensionable age becomes
disabled with the onset rate of the assumption set (``invalidity_incidence``) and receives a
disability pension with credited future service (:func:`disability_pension`), indexed like
old-age pensions, until recovery (back to the active insured with the same service) or the
pensionable age, where it continues as the old-age pension. Disability pensioners may die
faster than others (``disability_mortality_factor``, :func:`differential_mortality`).

Survivors' branch: at the death of a pensioner (old age or disability) or of an insured
person with ``survivor_minimum_service`` credited years, a spouse (with probability
``married_share``, about ``spouse_age_difference`` years younger:
:func:`partner_age_weights`) receives ``survivor_pension_share`` and each child below
``orphan_age_limit`` (:func:`expected_orphans`) ``orphan_pension_share`` of the deceased's
pension (for an insured person, the disability pension they would have received), indexed
like pensions. A spouse or child is one of the persons of their age and sex who exist and
have no survivor's pension yet (:func:`availability`).
When the shares of one death's survivors add up to more than ``survivor_maximum_share``,
each is scaled down in proportion (:func:`survivor_scale`; ILO C128 Art. 21 style).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..params.dated import ParamSpec
from . import pension_rules as rules
from .base import (
    ADMIN_COST_RATE,
    CONTRIBUTORY,
    FUND,
    SchemeType,
    admin_expenditure,
    params,
)
from .survivors import (
    PARTNER_MIN_AGE,
    availability,
    capped_survivor_shares,
    children_by_mother_age,
    children_by_parent_age,
    children_scale,
    expected_orphans,
    orphan_demand,
    partner_age_weights,
    spouse_demand,
    survivor_scale,
)

# the survivors' branch lives in schemes.survivors; its names stay importable from here
__all__ = ["PARTNER_MIN_AGE", "DBOldAgePension", "accrual_factor", "admin_costs",
           "availability", "capped", "capped_survivor_shares", "care_credit_probability",
           "care_credit_qualifies", "children_by_mother_age", "children_by_parent_age",
           "children_scale",
           "contributions",
           "differential_mortality", "disability_pension", "expected_orphans", "insurable",
           "is_eligible", "orphan_demand", "partner_age_weights", "pension_at_award",
           "pension_in_payment", "reference_credits", "retirement_schedule",
           "spouse_demand", "survivor_scale"]

# the rules of pension_rules over arrays (the cohort engine's cells)
_accrual = rules.cells(rules.accrual)
_reference = rules.cells(rules.reference_earnings)
_old_age_award = rules.cells(rules.old_age_award)
_disability_award = rules.cells(rules.disability_award)
_bounded = rules.cells(rules.bounded)
_in_payment = rules.cells(rules.in_payment)
_insurable = rules.cells(rules.insurable_earnings)
_expected_insurable = rules.cells(rules.expected_insurable)
_taxable_benefit = rules.cells(rules.taxable_benefit)
_old_age_qualifies = rules.cells(rules.old_age_qualifies)
qualified_insured = rules.cells(rules.qualified_insured)
leaves_without_pension = rules.cells(rules.leaves_without_pension)
orphan_pension_ends = rules.cells(rules.orphan_pension_ends)
refund = rules.cells(rules.refund)



def contributions(rate: np.ndarray | float, insured_earnings: np.ndarray) -> np.ndarray:
    """Contribution income = contribution rate x insured earnings (currency per year)."""
    return np.asarray(rate) * insured_earnings


def insurable(earnings, floor, ceiling, spread=0.0) -> np.ndarray:
    """Insurable earnings: earnings within the floor and the ceiling (0 = none) of the
    contribution base (currency per year; :func:`pension_rules.insurable_earnings`); with
    a ``spread`` (log-sd of a worker's earnings around ``earnings``, their mean), the mean
    insurable earnings of such workers (:func:`pension_rules.expected_insurable`)."""
    if np.all(np.asarray(spread) == 0.0):
        return _insurable(earnings, floor, ceiling)
    return _expected_insurable(earnings, floor, ceiling, spread)


def capped(pension, maximum) -> np.ndarray:
    """A pension at award under the maximum pension (0 = none)."""
    return _bounded(pension, -np.inf, maximum)


def admin_costs(scheme, benefits: np.ndarray, contributions_: np.ndarray) -> np.ndarray:
    """Administrative expenditure: admin_cost_rate x benefit expenditure or x contribution
    income, as admin_cost_basis says (currency per year)."""
    basis = contributions_ if scheme.choices.get("admin_cost_basis") == \
        "contribution_income" else benefits
    return admin_expenditure(scheme["admin_cost_rate"], basis)


def is_eligible(age, retirement_age, service, minimum_service) -> np.ndarray:
    """Entitled to an old-age pension: at or above retirement age with enough service
    (:func:`pension_rules.old_age_qualifies`)."""
    return _old_age_qualifies(age, retirement_age, service, minimum_service)


def accrual_factor(years, accrual_rate, rate_above=0.0, band_years=0) -> np.ndarray:
    """Pension per unit of career-average earnings for ``years`` credited years: the
    accrual rate for the first ``band_years`` and ``rate_above`` for each year beyond
    (band_years 0: the accrual rate for every year; :func:`pension_rules.accrual`)."""
    return _accrual(years, accrual_rate, rate_above, band_years)


def reference_credits(credits, recent_sum, service, years: int) -> np.ndarray:
    """The credited earnings the pension formula uses (currency; the ``credited_earnings``
    of :func:`pension_at_award`): the sum of revalued insured earnings over the career
    (``years`` 0), or the average over the last min(years, service) credited years,
    ``recent_sum`` / min(years, service), times the service, so that accrual x service x
    reference earnings keeps the formula's shape (:func:`pension_rules.reference_earnings`)."""
    return _reference(credits, recent_sum, service, years)


def selects_best_years(scheme) -> bool:
    """Whether the reference earnings average the best years, not the last
    (``reference_earnings_selection``)."""
    return scheme.choices.get("reference_earnings_selection") == "best"


def kept_years(scheme) -> int:
    """The most credited years the reference earnings average (0: the career average)."""
    return int(np.max(scheme["reference_earnings_years"]))


def best_years_gains(kept: np.ndarray, service, years, sd: float,
                     permanent_sd: float = 0.0, cap=0.0) -> np.ndarray:
    """pension_rules.best_years_gain for every class: ``kept`` (..., R) the classes' kept
    years (decreasing), ``service`` their credited years, ``years`` the best years
    counted and ``cap`` their ceiling in the units of ``kept`` (each broadcast to kept's
    leading shape)."""
    shape = kept.shape[:-1]
    service, years = (np.broadcast_to(np.asarray(a, dtype=np.int64), shape).ravel()
                      for a in (service, years))
    cap = np.broadcast_to(np.asarray(cap, dtype=np.float64), shape).ravel()
    rows = np.ascontiguousarray(kept, dtype=np.float64).reshape(-1, kept.shape[-1])
    out = np.empty(rows.shape[0])
    _best_years_gains(rows, service, years, float(sd), float(permanent_sd), cap, out)
    return out.reshape(shape)


@nb.njit(cache=True)
def _best_years_gains(rows, service, years, sd, permanent_sd, cap, out):
    for i in range(rows.shape[0]):
        out[i] = rules.best_years_gain(rows[i], service[i], years[i], sd, permanent_sd,
                                       cap[i])


def award_years(ages, retirement_age, years: int, formula: np.ndarray, death: bool = False
                ) -> tuple[np.ndarray, np.ndarray]:
    """(F, N') of the disability awards (with ``death``, the awards deaths leave to
    survivors) at ``ages`` with the pensionable ``retirement_age`` (broadcast together):
    their future years (pension_rules.award_future_years) and the credited years their
    reference counts (pension_rules.award_reference_years) of the reference's N =
    ``years``, cell by cell."""
    ages, retirement_age = np.broadcast_arrays(np.asarray(ages, dtype=np.float64),
                                               np.asarray(retirement_age, dtype=np.float64))
    future = np.empty(ages.shape)
    counted = np.empty(ages.shape, dtype=np.int64)
    for cell in np.ndindex(ages.shape):
        future[cell] = rules.award_future_years(ages[cell], retirement_age[cell], death,
                                                formula)
        counted[cell] = rules.award_reference_years(years, future[cell], formula)
    return future, counted


def pension_at_award(accrual_rate, credited_earnings, minimum, maximum=0.0, service=None,
                     rate_above=0.0, band_years=0, factor=1.0, *,
                     formula: np.ndarray | None = None, spread=0.0) -> np.ndarray:
    """Annual pension at award (currency per year), between the minimum and the maximum
    pension (0 = none), times the early/late ``factor`` before them
    (:func:`pension_rules.old_age_award`).

    ``credited_earnings`` is the sum over credited years of insured earnings revalued to the
    award year (= credited years x career-average revalued earnings). With accrual bands
    (``band_years`` > 0) or a ``formula`` (:func:`pension_rules.formula`, which replaces
    the accrual arguments: the bend-point formula) the ``service`` (credited years) is
    needed. ``spread``: the log-sd of the average earnings within a cell, for the mean
    pension of the cell (0: every member at the cell's mean).
    """
    service = 1.0 if service is None else service  # one rate: E x accrual rate
    if formula is None:
        formula = rules.formula(accrual_rate, rate_above, band_years)
    return _old_age_award(credited_earnings, service, factor, minimum, maximum, spread,
                          formula=formula)


def disability_pension(accrual_rate, credited_earnings, service, future_service,
                       minimum, maximum=0.0, rate_above=0.0, band_years=0, *,
                       formula: np.ndarray | None = None, spread=0.0) -> np.ndarray:
    """Annual disability pension at onset (currency per year): the old-age formula with
    the years from onset to the pensionable age credited at the career-average revalued
    earnings, accrual x credits x (service + future) / service (ILO Convention No. 128,
    Art. 10: credited future service), never below the minimum pension
    (:func:`pension_rules.disability_award`; ``formula`` and ``spread`` as in
    :func:`pension_at_award`)."""
    if formula is None:
        formula = rules.formula(accrual_rate, rate_above, band_years)
    return _disability_award(credited_earnings, service, future_service, minimum, maximum,
                             spread, formula=formula)


def benefit_tax_income(scheme, pensions: np.ndarray, pensioners: np.ndarray) -> np.ndarray:
    """The income tax on benefits paid into the fund (currency per year, (year,)): the
    year's benefit_tax_rate x the taxable part of the pensions (pension_rules.
    taxable_benefit, pensioners' benefits spread around their age and sex's mean) over
    ``pensions`` (year, age, sex: the pensions paid, currency per year) and ``pensioners``
    (year, age, sex: persons)."""
    rate = np.asarray(scheme["benefit_tax_rate"], dtype=float)
    if not np.any(rate > 0):
        return np.zeros(len(rate))
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(pensioners > 0, pensions / pensioners, 0.0)

    def by_year(name: str) -> np.ndarray:
        return np.asarray(scheme[name], dtype=float)[:, None, None]

    taxed = _taxable_benefit(mean, by_year("benefit_tax_spread"),
                             by_year("benefit_tax_threshold"),
                             by_year("benefit_tax_inclusion"),
                             by_year("benefit_tax_other_income"))
    return rate * (taxed * pensioners).sum(axis=(1, 2))


def pension_formula(scheme, k: int) -> np.ndarray:
    """The pension formula of ``scheme`` (a compiled scheme) in year index ``k``, as the
    rules read it (:func:`pension_rules.formula`): accrual, or bend points at the year's
    (indexed) values, with the share of the credits its indexing lag keeps
    (:func:`indexed_share`)."""
    accrual = (float(scheme["accrual_rate"][k]), float(scheme["accrual_rate_above"][k]),
               int(scheme["accrual_band_years"][k]))
    ceiling = float(scheme["earnings_ceiling"][k])
    indexed = indexed_share(scheme.index_growth["earnings_revaluation"], k,
                            int(scheme["indexing_lag"][k]))
    if scheme.choices.get("benefit_formula", "accrual") != "bend_points":
        return rules.formula(*accrual, ceiling=ceiling, indexed=indexed)
    return rules.formula(
        *accrual, bends=(float(scheme["bend_point_1"][k]), float(scheme["bend_point_2"][k])),
        factors=tuple(float(scheme[f"bend_factor_{j}"][k]) for j in (1, 2, 3)),
        averaging_years=int(scheme["averaging_years"][k]), ceiling=ceiling, indexed=indexed,
        elapsed_from=int(scheme["elapsed_years_from_age"][k]))


def award_years_by_age(years: int, formula: np.ndarray, n_age: int) -> int | np.ndarray:
    """The credited years that the reference of an award at each age below ``n_age``
    counts (for :func:`career_caps`): the reference's N = ``years``, or where the
    ``formula`` counts the elapsed years, a disability's fewer at the ages whose
    computation years fall short of an old-age pension's (:func:`award_years`)."""
    if not rules.counts_elapsed_years(formula):
        return years
    future, counted = award_years(np.arange(n_age), 0.0, years, formula)
    return np.where(future > 0, counted, years)


#: equal-probability bands of a year's transitory earnings factor in the yearly caps
TRANSITORY_BANDS = 8


def career_caps(earnings: np.ndarray, contributing: np.ndarray, ceiling: float,
                spread: float, transitory: float = 0.0, years=0,
                best: bool = False) -> np.ndarray:
    """The yearly caps of a cell's career (sex, age, pension_rules.CAPS_SIZE), for the
    award rules' ceiling applied year by year (pension_rules.career_capped_pension):
    for a cell of age x, the years of ages below x as the year's cross-section has them
    (with reference earnings over the last ``years`` credited years, > 0, the ages x -
    ``years`` to x - 1 only: the years the reference averages; over the ``best`` years,
    the ``years`` ages below x of the highest mean earnings, as the cohort engine ranks
    them: pension_rules.keep_credited_year; ``years`` an int, or one per age x:
    pension_rules.award_reference_years), each a knot k =
    ``ceiling`` / m (m the mean ``earnings`` of the age and sex, per contributor, before
    the ceiling) weighted w = m x ``contributing`` (the contributors' share), and the
    mean of G(L) = sum w min(L, k) over L lognormal with mean 1 and log-sd ``spread``
    (the permanent spread). With ``transitory`` > 0, the log-sd of a
    year's earnings around the person's level (a factor e of mean 1), the ceiling cuts
    the year's earnings L e, not the level: min(L e, k) = e min(L, k / e), so each year
    is split over TRANSITORY_BANDS equal-probability bands of e, the band of mean factor
    f a knot k / f of weight w f / TRANSITORY_BANDS (the slope below every knot stays
    1). More than MAX_KNOTS knots are merged into that many groups of equal weight, each
    at its weighted mean knot. Rows with no such age have 0 knots (the ceiling on the
    average as a whole)."""
    out = np.zeros((2, earnings.shape[0], rules.CAPS_SIZE))
    factors = np.ones(1)
    if transitory > 0.0:
        factors = rules.band_levels(rules.shape_bands(TRANSITORY_BANDS), transitory)
    _fill_career_caps(np.ascontiguousarray(earnings, dtype=np.float64),
                      np.ascontiguousarray(contributing, dtype=np.float64), float(ceiling),
                      float(spread), factors,
                      np.broadcast_to(np.asarray(years, dtype=np.int64), earnings.shape[:1]),
                      bool(best), out)
    return out


@nb.njit(cache=True)
def _counted_ages(earnings, contributing, x, years, best):
    """The ages below x whose years the reference counts (:func:`career_caps`): all with
    earnings and contributors, the last ``years`` (> 0) of them, or the ``best`` years of
    the highest mean earnings."""
    first = max(x - years, 0) if years > 0 and not best else 0
    ages = np.empty(x - first, dtype=np.int64)
    n = 0
    for a in range(first, x):
        if earnings[a] > 0.0 and contributing[a] > 0.0:
            ages[n] = a
            n += 1
    ages = ages[:n]
    if best and 0 < years < n:
        ages = ages[np.argsort(-earnings[ages], kind="mergesort")[:years]]
    return ages


@nb.njit(cache=True)
def _fill_career_caps(earnings, contributing, ceiling, spread, factors, years, best, out):
    """:func:`career_caps` into ``out`` (``factors``: the transitory bands' mean
    factors, one 1 for none; ``years`` (age,) > 0: the last or ``best`` years only)."""
    n_age, most, n_f = earnings.shape[0], rules.MAX_KNOTS, factors.size
    knots, weights = np.empty(n_age * n_f), np.empty(n_age * n_f)
    for s in range(2):
        for x in range(1, n_age):
            j = 0
            for a in _counted_ages(earnings[:, s], contributing[:, s], x, years[x], best):
                m, d = earnings[a, s], contributing[a, s]
                for f in factors:
                    knots[j], weights[j] = ceiling / m / f, m * d * f / n_f
                    j += 1
            if j == 0:
                continue
            order = np.argsort(knots[:j], kind="mergesort")
            k, w = knots[:j][order], weights[:j][order]
            w = w / w.sum()
            if j > most:  # merged into groups of equal weight at their weighted mean knot
                total, moment = np.zeros(most), np.zeros(most)
                below = 0.0
                for i in range(j):
                    group = min(int((below + 0.5 * w[i]) * most), most - 1)
                    below += w[i]
                    total[group] += w[i]
                    moment[group] += w[i] * k[i]
                j = 0
                for group in range(most):
                    if total[group] > 0.0:
                        k[j], w[j] = moment[group] / total[group], total[group]
                        j += 1
            row = out[s, x]
            row[0] = j
            mean = 0.0
            for i in range(j):
                row[2 + i], row[2 + most + i] = k[i], w[i]
                mean += w[i] * (1.0 - rules.lognormal_excess(1.0, spread, k[i]))
            row[1] = mean


def indexed_share(revaluation: np.ndarray, k: int, lag: int) -> float:
    """The revaluation index of ``lag`` years before year index ``k`` over year k's: 1 /
    the product of (1 + ``revaluation``) (growth per year, by year index) over the lag
    years up to k; years before the first take the first's growth (as
    :func:`award_indexing`). 1 for no lag."""
    share = 1.0
    for j in range(k - lag + 1, k + 1):
        share /= 1.0 + float(revaluation[max(j, 0)])
    return share


def differential_mortality(death_rate, invalid_share, factor: float
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of dying of disability pensioners and of everybody else in a cell.

    Disability pensioners die at min(1, factor x q); the rest at
    (q - I x q_invalid) / (1 - I), floored at 0, where ``invalid_share`` I is their share of
    the cell, so that the cell's expected deaths stay those of the demographic projection
    (q), which runs first. factor = 1 returns (q, q) unchanged.
    """
    q = np.asarray(death_rate, dtype=float)
    if factor == 1.0:
        return q, q
    share = np.asarray(invalid_share, dtype=float)
    q_invalid = np.minimum(factor * q, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        others = np.where(share < 1.0, (q - share * q_invalid) / (1.0 - share), q)
    return q_invalid, np.clip(others, 0.0, 1.0)



@nb.njit(cache=True)
def care_credit_qualifies(contribution_years, insured_only):
    """Whether a woman may be credited for child care: with ``insured_only``, only an
    insured person, one who has contributed at least one year; otherwise every woman. One
    rule for both engines (a number, or an array)."""
    return contribution_years >= (1 if insured_only else 0)


def care_credit_probability(asfr, child_age: int, population=None) -> np.ndarray:
    """(age,) probability that a woman of each age at 1 July has a child below
    ``child_age``: 1 - prod over the last child_age years of (1 - fertility at her age
    then), with the current year's rates for the past.

    With the year's ``population`` (age, sex: male, female) at 1 July, each child age k's
    rates are scaled so that the women's expected children aged k are the children aged k
    there are (:func:`children_scale`: the past's fertility, and the children who died or
    migrated since; a woman who lost her only young child is not credited; a base
    population with more young children than today's rates give credits more mothers).
    Without it, no child dies or migrates and the past had today's rates."""
    asfr = np.asarray(asfr)
    if child_age <= 0:
        return np.zeros_like(asfr)
    scale = (children_scale(asfr, population, child_age) if population is not None
             else np.ones(child_age))
    if not nb.config.DISABLE_JIT:  # one compiled call (the projection asks it every year)
        out = np.empty(len(asfr))
        _care_credit_probability(np.ascontiguousarray(asfr, dtype=np.float64),
                                 np.ascontiguousarray(scale, dtype=np.float64), out)
        return out
    return _care_credit_probability_arrays(asfr, child_age, scale)


def _care_credit_probability_arrays(asfr: np.ndarray, child_age: int,
                                    scale: np.ndarray) -> np.ndarray:
    """:func:`care_credit_probability` as array algebra (the path with Numba's JIT off)."""
    rates = children_by_mother_age(asfr, child_age, scale)  # (her age, child's age)
    return 1.0 - np.prod(1.0 - np.minimum(rates.T, 1.0), axis=0)


@nb.njit(cache=True)
def _care_credit_probability(asfr, scale, out):
    """:func:`care_credit_probability` into ``out`` (her age,), the product over the
    child's ages in turn (as the array form's)."""
    for x in range(len(out)):
        no_child = 1.0
        for k in range(len(scale)):
            no_child *= 1.0 - min(rules.orphan_probability(asfr, x, k) * scale[k], 1.0)
        out[x] = 1.0 - no_child


def retirement_schedule(ages, retirement_age, early_age, early_rate, early_reduction,
                        deferral_rate, latest_age, late_increment, exact_age=None,
                        early_reduction_years=0.0, early_reduction_after=0.0):
    """Probability that an eligible active member of each age retires this year, and the
    actuarial adjustment of the pension at that age (arrays broadcast over ages and sex).

    ``retirement_age`` R is the whole age in which the pensionable age falls, ``exact_age``
    the pensionable age in years and months (None: R). Below R: ``early_rate`` from
    ``early_age`` (0: none), claimed at the birthday and reduced by ``early_reduction`` a
    year (of the first ``early_reduction_years`` before the exact age, 0: all of them;
    ``early_reduction_after`` a year beyond them: Social Security Act sec. 202(q)); at R:
    1 - ``deferral_rate``, claimed at the exact age without adjustment; after R up to the
    latest age (0: R + 5), where everybody retires, the same share, increased by
    ``late_increment`` a year after the exact age (sec. 202(w)).
    """
    ages = np.asarray(ages)
    exact = retirement_age if exact_age is None else exact_age
    latest = np.where(np.asarray(latest_age) > 0, latest_age, retirement_age + 5)
    probability = np.where(
        ages >= np.maximum(latest, retirement_age), 1.0,
        np.where(ages >= retirement_age, 1.0 - deferral_rate,
                 np.where((early_age > 0) & (ages >= early_age), early_rate, 0.0)))
    early = np.where(ages < retirement_age, exact - ages, 0)
    if early_reduction_years > 0:
        reduction = (early_reduction * np.minimum(early, early_reduction_years)
                     + early_reduction_after * np.maximum(early - early_reduction_years, 0))
    else:
        reduction = early_reduction * early
    factor = 1.0 - reduction + late_increment * np.maximum(ages - exact, 0)
    return probability, np.maximum(factor, 0.0)


def award_indexing(ages, eligibility_age: int, k: int, indexation: np.ndarray,
                   revaluation: np.ndarray) -> np.ndarray:
    """The pension awarded at each of ``ages`` in year index ``k`` when the formula is
    applied at ``eligibility_age`` E and the pension indexed in payment since, as a multiple
    of the formula applied at award (fraction, one per age): over the m = max(age - E, 0)
    years since eligibility, the product of (1 + indexation) / (1 + revaluation), the
    growth rates (fraction per year, by year index) of pensions in payment and of the
    credits (and of the formula's amounts, which follow the same index). Years before the
    first take the first's rates. E = 0: ones (the formula at award)."""
    ages = np.asarray(ages, dtype=float)
    if eligibility_age <= 0:
        return np.ones_like(ages)
    log_ratio = np.log1p(np.asarray(indexation, dtype=float)) - np.log1p(
        np.asarray(revaluation, dtype=float))
    cumulative = np.cumsum(log_ratio)

    def total_to(j: np.ndarray) -> np.ndarray:  # sum of log_ratio over years up to j
        return np.where(j >= 0, cumulative[np.clip(j, 0, None)], (j + 1) * log_ratio[0])

    first = k - np.maximum(ages - eligibility_age, 0).astype(int) + 1
    return np.exp(cumulative[k] - total_to(first - 1))


def pension_in_payment(previous, index_growth, minimum) -> np.ndarray:
    """Last year's pension indexed by this year's growth, never below this year's minimum
    (:func:`pension_rules.in_payment`)."""
    return _in_payment(previous, index_growth, minimum)


class DBOldAgePension(SchemeType):
    NAME = "db_old_age_pension"
    KIND = CONTRIBUTORY
    DESCRIPTION = "Contributory defined-benefit old-age pension with a minimum pension."
    REFERENCE = "R202 para. 9(1); ILC 2021 para. 15(b), (e), (f)"
    PARAMETERS = params(
        ParamSpec("contribution_rate", "fraction of insured earnings",
                  "Total contribution rate (worker + employer) on insured earnings.",
                  low=0.0, high=1.0, reference="ILC 2021 para. 15(f)"),
        ParamSpec("worker_share", "fraction of the contribution rate",
                  "Part of the contribution rate paid by the insured person; the employer "
                  "pays the rest (self-employed contributors pay both).", low=0.0, high=1.0,
                  default=0.5, reference="ILC 2021 para. 15(f)"),
        ParamSpec("state_contribution_rate", "fraction of insured earnings",
                  "Contribution of the state on top of contribution_rate, paid into the fund "
                  "as a state transfer.", low=0.0, high=1.0, default=0.0,
                  reference="ILC 2021 para. 15(b)"),
        ParamSpec("earnings_floor", "currency per year",
                  "Floor of insurable earnings: contributions are due on at least this amount "
                  "(0: none).", low=0.0, default=0.0, indexable=True),
        ParamSpec("earnings_ceiling", "currency per year",
                  "Ceiling of insurable earnings (0: none).", low=0.0, default=0.0,
                  indexable=True, reference="ILC 2021 para. 15(c)"),
        ParamSpec("never_covered_share", "fraction of a birth cohort",
                  "Share of each birth cohort, by sex, never in the scheme's covered "
                  "employment (employment the scheme does not cover, late immigrants, "
                  "persons who never work): they never contribute nor are credited, so "
                  "have no pension of their own; the covered workers are the others. Dated "
                  "by year of birth: { 1930 = 0.3, 1960 = 0.1 } gives 0.3 to the cohorts "
                  "born 1930-1959 (and before) and 0.1 to those born from 1960.",
                  low=0.0, high=0.95, default=0.0, by_sex=True,
                  reference="R202 para. 15; ILC 2021 para. 15(g)"),
        ParamSpec("contribution_persistence", "fraction",
                  "How strongly contributing persists from one year to the next: 0 = "
                  "independent years (service spread binomially over everybody), 1 = the "
                  "same persons contribute every year while the contributing share allows. "
                  "The contributing share itself is always employed x coverage.",
                  low=0.0, high=1.0, reference="ILC 2021 para. 15(g), (h)"),
        ParamSpec("reference_earnings_years", "years",
                  "Reference earnings of the pension formula: 0 for the career average of "
                  "revalued insured earnings, N for the average over N credited years, the "
                  "last or the best (reference_earnings_selection; all of them when fewer).",
                  low=0, high=40, integer=True, default=0,
                  reference="ILO C102 Art. 65 (previous earnings)"),
        ParamSpec("reference_earnings_selection", "choice",
                  "Which N credited years the reference earnings average when "
                  "reference_earnings_years is N > 0: 'last' (the most recent N) or 'best' "
                  "(the N with the highest revalued earnings, the others dropped, as the "
                  "US computation years). The cohort engine ranks a class's years by their "
                  "mean earnings: exact when its members' careers are proportional (the "
                  "same years ranked alike); with transitory earnings "
                  "(earnings_transitory_sd) it adds the expected gain of a member's lucky "
                  "years (docs/schemes.md).",
                  kind="choice", choices=("last", "best"), default="last",
                  reference="Social Security Act sec. 215(b)(1)-(2)"),
        ParamSpec("accrual_rate", "fraction of reference earnings per credited year",
                  "Pension per credited year as a share of reference earnings (career "
                  "average or last years: reference_earnings_years).",
                  low=0.0, high=0.1),
        ParamSpec("accrual_band_years", "years",
                  "Accrual bands: accrual_rate applies to the first this many credited "
                  "years and accrual_rate_above to each year beyond (0: one rate).", low=0,
                  high=60, integer=True, default=0),
        ParamSpec("accrual_rate_above", "fraction of reference earnings per credited year",
                  "Accrual rate for credited years beyond accrual_band_years.", low=0.0,
                  high=0.1, default=0.0),
        ParamSpec("benefit_formula", "choice",
                  "The pension formula: 'accrual' (accrual_rate per credited year of the "
                  "reference earnings) or 'bend_points' (bend_factor_1 of the average "
                  "earnings up to bend_point_1, bend_factor_2 between the bend points, "
                  "bend_factor_3 above; the average over averaging_years years, "
                  "the years without earnings counting as zeros; accrual_rate is then "
                  "not used).", kind="choice", choices=("accrual", "bend_points"),
                  default="accrual",
                  reference="Social Security Act sec. 215(a)(1)(A) (the US primary "
                  "insurance amount); ILO C102 Art. 65"),
        ParamSpec("bend_point_1", "currency per year",
                  "First bend point of the bend-point formula, on yearly average "
                  "revalued earnings; index it to wages as the US indexes its bend points "
                  "to the average wage.", low=0.0, default=0.0, indexable=True,
                  reference="Social Security Act sec. 215(a)(1)(B)"),
        ParamSpec("bend_point_2", "currency per year",
                  "Second bend point (above bend_point_1).", low=0.0, default=0.0,
                  indexable=True, reference="Social Security Act sec. 215(a)(1)(B)"),
        ParamSpec("bend_factor_1", "fraction of average earnings",
                  "Replacement of average earnings up to bend_point_1.", low=0.0, high=2.0,
                  default=0.9, reference="Social Security Act sec. 215(a)(1)(A)"),
        ParamSpec("bend_factor_2", "fraction of average earnings",
                  "Replacement of average earnings between the bend points.", low=0.0,
                  high=2.0, default=0.32, reference="Social Security Act sec. 215(a)(1)(A)"),
        ParamSpec("bend_factor_3", "fraction of average earnings",
                  "Replacement of average earnings above bend_point_2.", low=0.0, high=2.0,
                  default=0.15, reference="Social Security Act sec. 215(a)(1)(A)"),
        ParamSpec("averaging_years", "years",
                  "Years the bend-point formula averages revalued earnings over: the "
                  "credits over max(credited years, this), fewer for a disability pension by "
                  "the years from onset to the pensionable age, or by the elapsed years "
                  "(elapsed_years_from_age) (US: 35 computation years, sec. 215(b)(2); "
                  "which years count: reference_earnings_years and "
                  "reference_earnings_selection).", low=0, high=60, integer=True,
                  default=35, reference="Social Security Act sec. 215(b)"),
        ParamSpec("elapsed_years_from_age", "years of age",
                  "With the bend-point formula, a disability pension (and the pension a "
                  "death leaves to survivors) averages over computation years counted "
                  "from the elapsed years: those from the year of reaching this age to "
                  "the year before the onset, less one dropout year in five (at most "
                  "five) for a disability, less five for a death, at least 2 and at most "
                  "averaging_years; the reference's kept years (reference_earnings_years) "
                  "then count at most that many, the best (or last) of them (US: 22, "
                  "the years after attaining 21). 0: the years from onset to the "
                  "pensionable age shorten averaging_years instead.", low=0, high=60,
                  integer=True, default=0,
                  reference="Social Security Act sec. 215(b)(2)(A), (B)(iii)"),
        ParamSpec("eligibility_age", "years of age",
                  "The formula is applied at this age, with that year's credits and bend "
                  "points, and the pension indexed as in payment (pension_indexation) from "
                  "then until it is awarded (US: the primary insurance amount of the year "
                  "of first eligibility, at 62, raised by the cost-of-living adjustments "
                  "after it, sec. 215(a)(1)(B), 215(i)); 0: the formula is applied at "
                  "award. Exact where the credits and the formula's amounts follow one "
                  "index (earnings_revaluation).", low=0, high=100, integer=True,
                  default=0, reference="Social Security Act sec. 215(a), 215(i)"),
        ParamSpec("indexing_lag", "years",
                  "The credits are revalued (earnings_revaluation) to the level of this "
                  "many years before the year the formula is applied: the formula applies "
                  "to the reference earnings revalued to that year times the revaluation "
                  "index of the earlier year over that year's (US: 2, earnings indexed to "
                  "the average wage index of the second year before eligibility, sec. "
                  "215(b)(3)(A)(ii), with the bend points of the year of eligibility, "
                  "which follow the same index; the law counts the last two years' "
                  "earnings at their nominal value, which this revalues back too). 0: "
                  "revalued to the year itself.", low=0, high=10, integer=True, default=0,
                  reference="Social Security Act sec. 215(b)(3)"),
        ParamSpec("minimum_service", "years", "Credited years needed for a pension.",
                  low=0, high=60, integer=True),
        ParamSpec("retirement_age", "years of age",
                  "Pensionable age, by sex, in years and whole months (66.5: 66 years 6 "
                  "months; 66.1667: 66 years 2 months). A member may retire without "
                  "reduction in the year of age in which she reaches it; a fraction of a "
                  "year moves only the early reductions and late increments, counted in "
                  "months from it (Social Security Act sec. 216(l): the normal retirement "
                  "age by year of birth).",
                  low=30, high=99, months=True, by_sex=True),
        ParamSpec("retirement_age_basis", "choice",
                  "What the years of retirement_age are: 'calendar_year' (the age applies "
                  "from that year) or 'birth_year' (the age applies to those born in or "
                  "after that year, e.g. { 1965 = 60, 1970 = 62 }).", kind="choice",
                  choices=("calendar_year", "birth_year"), default="calendar_year"),
        ParamSpec("minimum_pension", "currency per year",
                  "Floor of the pension at award and in payment; may be indexed.",
                  low=0.0, indexable=True, reference="R202 para. 8(b)"),
        ParamSpec("maximum_pension", "currency per year",
                  "Ceiling of the pension at award, old-age and disability (0: none).",
                  low=0.0, default=0.0, indexable=True),
        ParamSpec("pension_indexation", "index", "Indexation of pensions in payment.",
                  kind="indexation", default="prices"),
        ParamSpec("earnings_revaluation", "index",
                  "Revaluation of past insured earnings up to the award year.",
                  kind="indexation", default="wages"),
        ADMIN_COST_RATE,
        ParamSpec("admin_cost_basis", "choice",
                  "What admin_cost_rate applies to: 'benefit_expenditure' or "
                  "'contribution_income'.", kind="choice",
                  choices=("benefit_expenditure", "contribution_income"),
                  default="benefit_expenditure"),
        ParamSpec("working_pensioners", "choice",
                  "Old-age pensioners who keep working: 'stop' (a pension ends "
                  "contributing) or 'contribute' (the labour table's covered workers of an "
                  "age that the members not yet retired leave unfilled are pensioners who "
                  "work and pay contributions, earning no further credit).",
                  kind="choice", choices=("stop", "contribute"), default="stop",
                  reference="US Internal Revenue Code secs. 3101, 3111 (the payroll tax "
                  "on every worker's wages)"),
        ParamSpec("benefit_tax_threshold", "currency per year",
                  "Taxation of benefits: a pensioner's benefit enters taxable income for "
                  "benefit_tax_inclusion of it, or of her combined income above this "
                  "threshold if less (combined income: other income plus half the "
                  "benefit); the income tax on it, at benefit_tax_rate, is paid into the "
                  "fund. 0: benefits are not taxed for the fund. Not indexed unless "
                  "given an indexation (the US thresholds are fixed in dollars).",
                  low=0.0, default=0.0, indexable=True,
                  reference="US Internal Revenue Code sec. 86; Social Security Act sec. "
                  "201(a)"),
        ParamSpec("benefit_tax_inclusion", "fraction of the benefit",
                  "Largest share of a benefit that enters taxable income.", low=0.0,
                  high=1.0, default=0.5, reference="US Internal Revenue Code sec. 86(a)(1)"),
        ParamSpec("benefit_tax_rate", "fraction of taxable benefits",
                  "Income tax rate on the benefits that enter taxable income, paid into "
                  "the fund (0: none).", low=0.0, high=1.0, default=0.0),
        ParamSpec("benefit_tax_other_income", "ratio to the benefit",
                  "Pensioners' other income (in combined income) as a multiple of their "
                  "benefit.", low=0.0, high=50.0, default=1.0),
        ParamSpec("benefit_tax_spread", "log-sd",
                  "Spread of benefits among the pensioners of an age and sex around their "
                  "mean (lognormal), for the share above the threshold.", low=0.0,
                  high=3.0, default=0.5),
        ParamSpec("state_subsidy_rate", "fraction of benefit expenditure",
                  "State transfer to the fund as a share of benefit expenditure.",
                  low=0.0, high=1.0, default=0.0, reference="ILC 2021 para. 15(b)"),
        *FUND,
        ParamSpec("disability_minimum_service", "years",
                  "Credited years an insured person needs for a disability pension (the "
                  "qualifying period). Onset rates come from the assumption set's disability "
                  "table, column invalidity_incidence (absent: no disability branch).",
                  low=0, high=60, integer=True, default=5,
                  reference="R202 para. 5(c); ILO C128 Art. 11"),
        ParamSpec("disability_recovery_rate", "fraction per year",
                  "Share of disability pensioners below the pensionable age who recover each "
                  "year and return to the active insured with their credited service.",
                  low=0.0, high=1.0, default=0.0),
        ParamSpec("disability_mortality_factor", "ratio",
                  "Mortality of disability pensioners (below the pensionable age) as a "
                  "multiple of the population's; the others' mortality is lowered so that the "
                  "population's deaths are unchanged (differential_mortality).", low=0.0,
                  high=20.0, default=1.0, reference="ILO/PENSIONS: mortality of invalids"),
        ParamSpec("survivor_pension_share", "fraction of the deceased's pension",
                  "Pension of the surviving spouse of a deceased pensioner or qualified "
                  "insured person (0: no survivors' branch).", low=0.0, high=1.0, default=0.0,
                  reference="R202 para. 9(1); ILO C128 Part IV"),
        ParamSpec("orphan_pension_share", "fraction of the deceased's pension per orphan",
                  "Pension of each child of the deceased below orphan_age_limit.", low=0.0,
                  high=1.0, default=0.0, reference="R202 para. 5(b); ILO C128 Art. 21"),
        ParamSpec("orphan_age_limit", "years of age",
                  "Orphans' pensions are paid up to and including this age.", low=0, high=30,
                  integer=True, default=17),
        ParamSpec("survivor_partners", "choice",
                  "Who leaves a spouse, and of what age: 'married_share' (married_share "
                  "of each sex, the spouse's age by spouse_age_difference and "
                  "spouse_age_spread) or 'families' (the model's families table: in the "
                  "cohort engine the expected couples of demography.partnerships, each age's "
                  "share living with a partner and the partners' ages, and each parent's "
                  "children those linked to them at birth who are still theirs (a man's "
                  "born to his partner at the time; none of a parent who died or left); "
                  "in the micro engine with family links the deceased's own partner and "
                  "children). With 'families' a "
                  "spouse's pension also ends when the survivor forms a new partnership.",
                  kind="choice", choices=("married_share", "families"),
                  default="married_share", reference="R202 para. 5(d); ILC 2021 para. 13"),
        ParamSpec("married_share", "fraction",
                  "Share of deceased insured persons who leave a spouse entitled to a "
                  "survivor's pension, by sex of the deceased (survivor_partners = "
                  "'married_share').", low=0.0, high=1.0, default=0.7, by_sex=True),
        ParamSpec("spouse_age_difference", "years",
                  "Age of the deceased minus age of the surviving spouse, by sex of the "
                  "deceased (the mean, with spouse_age_spread).", low=-30, high=30,
                  integer=True, default=0, by_sex=True),
        ParamSpec("spouse_age_spread", "years",
                  "Standard deviation of the spouses' age difference around "
                  "spouse_age_difference (0: every couple has exactly that difference).",
                  low=0.0, high=15.0, default=0.0),
        ParamSpec("survivor_end_rate", "fraction per year",
                  "Share of spouses' pensions ending each year (remarriage, end of a "
                  "temporary pension; with survivor_partners = 'families' a new partnership "
                  "ends the pension besides).", low=0.0, high=1.0, default=0.0),
        ParamSpec("survivor_maximum_share", "fraction of the deceased's pension",
                  "Ceiling on the sum of the survivors' shares of one deceased person; above "
                  "it every share is reduced in proportion (0: no ceiling).", low=0.0,
                  high=5.0, default=1.0, reference="ILO C128 Part IV"),
        ParamSpec("survivor_minimum_age", "years of age",
                  "A surviving spouse's pension is paid from this age: a spouse widowed "
                  "younger keeps the entitlement (indexed, ended as any spouse's) and is "
                  "paid and counted from it (US: 60, Social Security Act sec. 202(e)(1)(B), "
                  "(f)(1)(B); the benefit of a younger widow(er) caring for a child, sec. "
                  "202(g), is not modelled). 0: from any age.", low=0, high=100,
                  integer=True, default=0, reference="Social Security Act sec. 202(e)"),
        ParamSpec("survivor_minimum_service", "years",
                  "Credited years a deceased insured person (not a pensioner) needs for "
                  "survivors' pensions.", low=0, high=60, integer=True, default=5),
        ParamSpec("survivor_with_own_pension", "choice",
                  "A surviving spouse who has an old-age or disability pension of her own: "
                  "'both' (the survivor's pension is paid in full beside it, and counted "
                  "besides) or 'higher' (only the part of the survivor's pension above her "
                  "own is paid: the higher of the two, dual entitlement; she is counted "
                  "once, in her own pension's branch, the top-up paid in the survivors').",
                  kind="choice", choices=("both", "higher"), default="both",
                  reference="US Social Security Act sec. 202(k)(3)(A)"),
        ParamSpec("pensions_in_payment_spread", "log-sd",
                  "Spread of a spouse's survivor's pension or dependant's supplement around "
                  "its (age, sex) cell's mean, which the cohort engine keeps (lognormal). "
                  "With survivor_with_own_pension = 'higher' the cohort engine's expected "
                  "top-up E[max(S - O, 0)] takes S lognormal with it and the own pensions "
                  "O in their credited-years class's shape (the formula on 20 "
                  "equal-probability bands of the earnings spread, from the year's "
                  "awards); the micro engine draws the base year's survivors' pensions "
                  "around the cohort engine's means with it, and each dependant's "
                  "supplement factor for life, and the base year's own pensions from "
                  "their class's shape ('higher') or lognormal with it ('both'); those "
                  "it awards later follow each person's career. 0: every survivor's "
                  "pension and supplement at its cell's mean. "
                  "Survivors' pensions, a progressive formula of the deceased's career, "
                  "are not lognormal either: tools/build_us_oasdi.py measures the spread "
                  "that gives the micro engine's top-up.", low=0.0, high=3.0,
                  default=0.0),
        ParamSpec("dependant_spouse_share", "fraction of the pensioner's pension",
                  "Supplement for the dependent spouse of a living old-age or disability "
                  "pensioner, aged dependant_spouse_age or more (paid to the spouse and "
                  "counted in the dependants' branch; with survivor_with_own_pension = "
                  "'higher' only above her own pension). 0: none.", low=0.0, high=1.0,
                  default=0.0,
                  reference="ILO C102, Schedule to Part XI; US Social Security Act sec. "
                            "202(b), (c)"),
        ParamSpec("dependant_partner_share", "fraction",
                  "Share of living old-age and disability pensioners with a partner, by "
                  "sex of the pensioner (survivor_partners = 'married_share'; with "
                  "'families' the families' couples), the partner's age by "
                  "spouse_age_difference and spouse_age_spread.", low=0.0, high=1.0,
                  default=0.7, by_sex=True),
        ParamSpec("dependant_spouse_age", "years of age",
                  "Youngest age of a dependent spouse (0: any partner).", low=0, high=100,
                  integer=True, default=0,
                  reference="US Social Security Act sec. 202(b)(1)(B): age 62"),
        ParamSpec("dependant_child_share", "fraction of the pensioner's pension per child",
                  "Supplement for each child of a living old-age or disability pensioner "
                  "aged up to orphan_age_limit. 0: none.", low=0.0, high=1.0, default=0.0,
                  reference="ILO C102, Schedule to Part XI; US Social Security Act sec. "
                            "202(d)"),
        ParamSpec("dependants_maximum_share", "fraction of the pensioner's pension",
                  "Ceiling on the sum of the dependants' supplements of one pensioner (the "
                  "family maximum less the pensioner's own pension); above it every "
                  "supplement is reduced in proportion (0: no ceiling).", low=0.0,
                  high=5.0, default=0.0, reference="US Social Security Act sec. 203(a)"),
        ParamSpec("early_retirement_age", "years of age",
                  "Youngest age at which an insured person with the minimum service may "
                  "retire early (0: no early retirement).", low=0, high=99, integer=True,
                  default=0),
        ParamSpec("early_retirement_rate", "fraction per year",
                  "Share of those eligible below the pensionable age who retire each year.",
                  low=0.0, high=1.0, default=0.0),
        ParamSpec("early_reduction", "fraction per year",
                  "Reduction of the pension for each year before the pensionable age "
                  "(for the first early_reduction_years of them where that is set).",
                  low=0.0, high=0.2, default=0.06),
        ParamSpec("early_reduction_years", "years",
                  "Years before the pensionable age reduced by early_reduction; those "
                  "before them by early_reduction_after (0: every year by "
                  "early_reduction). US: 3 (5/9 % a month for the first 36 months, 5/12 % "
                  "beyond).", low=0, high=20, default=0,
                  reference="Social Security Act sec. 202(q)(1), (9)"),
        ParamSpec("early_reduction_after", "fraction per year",
                  "Reduction of the pension for each year before the pensionable age "
                  "beyond the first early_reduction_years.", low=0.0, high=0.2,
                  default=0.0, reference="Social Security Act sec. 202(q)(9)"),
        ParamSpec("deferral_rate", "fraction per year",
                  "Share of those eligible at or above the pensionable age who defer their "
                  "pension another year (until latest_retirement_age).", low=0.0, high=1.0,
                  default=0.0),
        ParamSpec("latest_retirement_age", "years of age",
                  "Age by which every deferred pension is taken (0: the pensionable age + "
                  "5).", low=0, high=100, integer=True, default=0),
        ParamSpec("late_increment", "fraction per year",
                  "Increase of the pension for each year of deferral.", low=0.0, high=0.2,
                  default=0.06),
        ParamSpec("refund_share", "fraction of revalued contributions",
                  "Lump sum at the pensionable age for those without the minimum service: "
                  "this share of the contributions they paid (each year's at that year's "
                  "rate, revalued like their earnings; care credits were not paid for); 0: "
                  "they leave with nothing.",
                  low=0.0, high=2.0, default=0.0),
        ParamSpec("care_credit_child_age", "years of age",
                  "Care credits: an insured woman of working age (see "
                  "care_credit_eligibility) who does not contribute in a year in "
                  "which she has a child below this age is credited a year of service (0: "
                  "no care credits).", low=0, high=18, integer=True, default=0,
                  reference="ILC 2021 para. 13(f)"),
        ParamSpec("care_credit_eligibility", "choice",
                  "Who may be credited for child care: 'insured' women (with at least one "
                  "year of contributions) or 'everyone' (every woman, insured or not).",
                  kind="choice", choices=("insured", "everyone"), default="insured",
                  reference="ILC 2021 para. 13(f)"),
        ParamSpec("care_credit_earnings", "fraction of average earnings",
                  "Earnings credited for a year of care credit, as a share of the year's "
                  "average earnings of covered workers.", low=0.0, high=2.0, default=0.5,
                  reference="ILC 2021 para. 13(f)"),
        ParamSpec("start_year", "calendar year",
                  "Year contributions began: the base year's credited service and pensions "
                  "are built from contributions since then (at base-year rates, or the "
                  "model's contribution_history and economic_history).",
                  low=1850, high=2300, integer=True, dated=False),
    )

    @classmethod
    def cross_check(cls, numbers, choices):
        """With the bend-point formula, the bend points must be given, positive and
        increasing (each year a value is given for); without it, the elapsed years
        (elapsed_years_from_age) have no computation years to count."""
        if choices.get("benefit_formula") != "bend_points":
            elapsed = numbers.get("elapsed_years_from_age", {}).get("all")
            for year in sorted(elapsed.values) if elapsed is not None else ():
                if elapsed.at(year) > 0:
                    return [("elapsed_years_from_age", "needs benefit_formula = "
                             f"'bend_points' (from {year})", elapsed.at(year))]
            return []
        first = numbers.get("bend_point_1", {}).get("all")
        second = numbers.get("bend_point_2", {}).get("all")
        if first is None or second is None:
            missing = "bend_point_1" if first is None else "bend_point_2"
            return [(missing, "is needed with benefit_formula = 'bend_points'", None)]
        for year in sorted(set(first.values) | set(second.values)):
            if not first.at(year) > 0:
                return [("bend_point_1", f"must be > 0 with benefit_formula = 'bend_points' "
                         f"(from {year})", first.at(year))]
            if not second.at(year) > first.at(year):
                return [("bend_point_2", f"must be > bend_point_1 {first.at(year):g} (from "
                         f"{year})", second.at(year))]
        return []
