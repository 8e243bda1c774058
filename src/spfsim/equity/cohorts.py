"""Cohort cash flows of a projection and the equity measures built on them.

Every engine splits each scheme's contributions and benefits by the age and sex of whoever
pays or receives them (``SchemeFlows.contributions_by_age``, ``benefits_by_age``). Here
they are re-indexed by birth cohort and, because a projection ends while most cohorts are
still alive, the life benefits in payment at the horizon are *closed*: those paid in the
last year at or above the scheme's ``tail_age`` (the age from which its benefits are paid
for life, e.g. the pensionable age) continue as the cohort survives at the last year's
death rates, growing at the scheme's ``tail_growth`` a year (:func:`close_tail`). What
remains truncated is flagged by :func:`~spfsim.equity.returns.complete_cohorts`: a cohort
is complete for a scheme when it was no older than its first age in the scheme at the start
(:func:`entry_age`) and, at the end, past every age at which the scheme takes contributions
or pays temporary benefits and at its ``tail_age`` or older (:func:`completion_age`).

:func:`equity_variables` makes the results-contract variables ``cohort_irr``,
``money_worth_ratio`` and ``net_transfer_pv`` (cohort, sex, scheme) and ``cohort_complete``
(cohort, scheme) (ILC 2021 para. 15(c): intergenerational equity and gender equality; the
definitions are in ACTUARIAL_NOTES and docs/equity.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba as nb
import numpy as np
import xarray as xr

# continuation_factors, the per-person form of close_tail, lives with the life annuities
# (the micro engine needs it too); re-exported here, where it was first documented
from ..economy.annuities import continuation_factors as continuation_factors
from ..economy.discount import present_value
from .returns import by_cohort, cohort_irr, complete_cohorts, worth_ratio

SEXES = ("male", "female")


def close_tail(benefits_by_age: np.ndarray, death_rate: np.ndarray, tail_age: int,
               growth: float, extra_years: int,
               lump_sums_by_age: np.ndarray | None = None) -> np.ndarray:
    """Benefits (year, age, sex) extended by ``extra_years`` years after the last.

    The pensions paid in the last year at ages >= ``tail_age`` (the benefits less the
    lump sums among them, e.g. refunds) go on: the amount paid at
    age x is paid the next year at age x + 1 (the open group 100+ stays at 100), times the
    probability ``1 - death_rate[x]`` (``death_rate`` (age, sex): dying during the year by
    age at its start, the last year's) and times ``1 + growth`` (the indexation). Benefits
    below ``tail_age`` (temporary: children's, maternity, unemployment...) stop, as do
    the contributions (not extended here). Currency per year, like the input.
    """
    n_age = benefits_by_age.shape[1]
    out = np.zeros((benefits_by_age.shape[0] + extra_years, *benefits_by_age.shape[1:]))
    out[: benefits_by_age.shape[0]] = benefits_by_age
    last = benefits_by_age[-1] if lump_sums_by_age is None else (
        benefits_by_age[-1] - lump_sums_by_age[-1])
    paying = np.where(np.arange(n_age)[:, None] >= tail_age, last, 0.0)
    survive = (1.0 - death_rate) * (1.0 + growth)
    tail = out[benefits_by_age.shape[0]:]
    if nb.config.DISABLE_JIT or paying.ndim != 2:
        _continued_arrays(paying, survive, tail)
    else:  # one compiled call: the loop's NumPy operations are on 202 numbers each
        _continued(paying, np.ascontiguousarray(survive, dtype=np.float64), tail)
    return out


@nb.njit(cache=True)
def _continued(paying, survive, tail):
    """:func:`close_tail`'s years after the horizon into ``tail`` (year, age, sex):
    each year the amounts ``paying`` (age, sex) move up one age, times ``survive``; the
    open group survives within itself. The operations of :func:`_continued_arrays`, in
    its order."""
    n_age, n_sex = paying.shape
    for k in range(tail.shape[0]):
        for s in range(n_sex):
            top = paying[n_age - 1, s] * survive[n_age - 1, s]
            for x in range(n_age - 1, 0, -1):
                paying[x, s] = paying[x - 1, s] * survive[x - 1, s]
            paying[0, s] = 0.0
            paying[n_age - 1, s] += top
            for x in range(n_age):
                tail[k, x, s] = paying[x, s]


def _continued_arrays(paying: np.ndarray, survive: np.ndarray, tail: np.ndarray) -> None:
    """:func:`_continued` in NumPy (Numba's JIT off)."""
    moved = np.empty_like(paying)
    for k in range(tail.shape[0]):
        np.multiply(paying, survive, out=moved)
        paying[0] = 0.0
        paying[1:] = moved[:-1]
        paying[-1] += moved[-1]  # the open group survives within itself
        tail[k] = paying


def completion_age(contributions_by_age: np.ndarray, benefits_by_age: np.ndarray,
                   tail_age: int) -> int:
    """The age a cohort must have reached in the last year for none of a scheme's flows
    to fall after the horizon: past the oldest age with contributions or with benefits
    below ``tail_age`` (temporary ones) in the last year, and at ``tail_age`` or older
    when the scheme pays life benefits (``tail_age`` <= 100)."""
    temporary = np.abs(contributions_by_age[-1]).sum(axis=1) + np.where(
        np.arange(benefits_by_age.shape[1]) < tail_age, benefits_by_age[-1].sum(axis=1), 0.0)
    ages = np.flatnonzero(temporary > 0)
    age = int(ages[-1]) + 1 if ages.size else 0
    return max(age, tail_age) if tail_age <= 100 else age


@dataclass
class CohortFlows:
    """Cash flows of one scheme by (year, cohort, sex), the years extended by the tail."""

    years: np.ndarray
    cohorts: np.ndarray
    contributions: np.ndarray
    benefits: np.ndarray


def cohort_flows(years: np.ndarray, contributions_by_age: np.ndarray,
                 benefits_by_age: np.ndarray, death_rate: np.ndarray, tail_age: int,
                 tail_growth: float, extra_years: int,
                 lump_sums_by_age: np.ndarray | None = None) -> CohortFlows:
    """A scheme's (year, age, sex) flows by birth cohort, with the benefit tail closed.

    Cohorts are born ``years[0] - 100`` to ``years[-1]`` (the last age is the open group
    100+, counted with the cohort aged 100).
    """
    ages = np.arange(contributions_by_age.shape[1])
    extended = np.arange(years[0], years[-1] + extra_years + 1)
    c = np.zeros((len(extended), *contributions_by_age.shape[1:]))
    c[: len(years)] = contributions_by_age
    b = close_tail(benefits_by_age, death_rate, tail_age, tail_growth, extra_years,
                   lump_sums_by_age)
    # the cohorts born by the end
    cohorts, b_by = by_cohort(extended, ages, b, last_cohort=years[-1])
    # a scheme without contributions (the floor's) has none in any cohort
    c_by = by_cohort(extended, ages, c, last_cohort=years[-1])[1] \
        if np.any(contributions_by_age) else np.zeros_like(b_by)
    return CohortFlows(extended, cohorts, c_by, b_by)


def entry_age(contributions_by_age: np.ndarray, benefits_by_age: np.ndarray) -> int:
    """The age at which a cohort's life in a scheme starts: the youngest age with a
    contribution in any year when the scheme takes contributions, else the youngest age
    with a benefit (0 if none). A contributory scheme's benefits in childhood (orphans'
    pensions) before the projection are thereby ignored: they are small beside a career's
    contributions, and counting them would leave few complete cohorts."""
    flows = np.asarray(contributions_by_age if np.any(contributions_by_age)
                       else benefits_by_age)
    # (year, age x sex): NumPy's reduction over leading years is quick, over the middle
    # ages slow
    by_age = (flows.reshape(flows.shape[0], -1) != 0).any(axis=0).reshape(
        flows.shape[1], -1).any(axis=1)
    ages = np.flatnonzero(by_age)
    return int(ages[0]) if ages.size else 0


def equity_variables(years: np.ndarray, scheme_ids: Sequence[str],
                     contributions_by_age: Sequence[np.ndarray],
                     benefits_by_age: Sequence[np.ndarray],
                     lump_sums_by_age: Sequence[np.ndarray | None], death_rate: np.ndarray,
                     interest: np.ndarray, tail_ages: Sequence[int],
                     tail_growth: Sequence[float], currency: str = "currency",
                     extra_years: int | None = None) -> xr.Dataset:
    """Equity measures by birth cohort, sex and scheme, as a Dataset: see
    :func:`equity_data`, whose arguments these are."""
    data, coords = equity_data(years, scheme_ids, contributions_by_age, benefits_by_age,
                               lump_sums_by_age, death_rate, interest, tail_ages, tail_growth,
                               currency, extra_years)
    return xr.Dataset(data, coords=coords)


def equity_data(years: np.ndarray, scheme_ids: Sequence[str],
                contributions_by_age: Sequence[np.ndarray],
                benefits_by_age: Sequence[np.ndarray],
                lump_sums_by_age: Sequence[np.ndarray | None], death_rate: np.ndarray,
                interest: np.ndarray, tail_ages: Sequence[int], tail_growth: Sequence[float],
                currency: str = "currency", extra_years: int | None = None
                ) -> tuple[dict[str, tuple], dict[str, tuple]]:
    """Equity measures by birth cohort, sex and scheme, from each scheme's (year, age, sex)
    contributions and benefits (currency per year, paid mid-year), the lump sums among
    the benefits (or None) apart.

    The internal rate of return is the lowest root: a cohort's stream can change sign
    more than once (orphans' pensions in childhood, contributions, then pensions), and the
    higher roots only reflect the childhood benefits outweighing heavily discounted
    contributions.

    ``interest`` (year,): the discount rate of each projection year (the last one goes on
    after it); ``tail_ages`` and ``tail_growth`` (one per scheme; a tail age above 100:
    no life benefits): see :func:`close_tail`; ``extra_years``: how long the tail runs
    (default: to age 100 from the youngest tail age, plus 20 years in the open group). Net
    transfers are valued at 1 January of ``years[0]``, so that they add up across
    cohorts.

    Returns the variables and their coordinates, each as (dims, values[, attrs]), so that
    a projection makes them part of its one results Dataset
    (:func:`spfsim.results.assemble.build_dataset`).
    """
    years = np.asarray(years)
    extra = (100 - min(min(tail_ages), 100) + 20) if extra_years is None else int(extra_years)
    rates = np.concatenate([interest, np.full(extra, interest[-1])])
    irr, mwr, net, complete = [], [], [], []
    cohorts = None
    for c_age, b_age, lump, tail_age, growth in zip(
            contributions_by_age, benefits_by_age, lump_sums_by_age, tail_ages, tail_growth,
            strict=True):
        f = cohort_flows(years, c_age, b_age, death_rate, tail_age, growth, extra, lump)
        cohorts = f.cohorts
        complete.append(complete_cohorts(years, cohorts, entry_age(c_age, b_age),
                                         completion_age(c_age, b_age, tail_age)))
        pv_c, pv_b = present_value(f.contributions, rates), present_value(f.benefits, rates)
        # without contributions there is no rate of return (cohort_irr's NaN)
        irr.append(cohort_irr(f.years, f.contributions, f.benefits, on_multiple="lowest")
                   if np.any(c_age) else np.full(pv_b.shape, np.nan))
        mwr.append(worth_ratio(pv_b, pv_c))
        net.append(pv_b - pv_c)  # net_transfer_pv, valued at 1 January of years[0]
    assert cohorts is not None, "no schemes"
    dims = ("cohort", "sex", "scheme")
    coords = {"cohort": ("cohort", cohorts), "sex": ("sex", list(SEXES)),
              "scheme": ("scheme", list(scheme_ids))}
    note = ("; life benefits in payment at the horizon continue with the last year's "
            "mortality (see cohort_complete)")
    base = int(years[0])
    return {
        "cohort_irr": (dims, np.stack(irr, axis=-1), {
            "units": "1 per year",
            "long_name": "internal rate of return of the birth cohort's expected "
                         "contributions and benefits" + note}),
        "money_worth_ratio": (dims, np.stack(mwr, axis=-1), {
            "units": "1",
            "long_name": "present value of expected benefits over present value of "
                         "expected contributions, at the fund's interest rate" + note}),
        "net_transfer_pv": (dims, np.stack(net, axis=-1), {
            "units": f"{currency} (present value at 1 January {base})",
            "long_name": "present value of expected benefits less contributions of the "
                         "birth cohort, at the fund's interest rate" + note}),
        "cohort_complete": (("cohort", "scheme"), np.stack(complete, axis=-1), {
            "units": "1",
            "long_name": f"the cohort's cash flows in the scheme are all inside the "
                         f"projection once life benefits are continued: no older than its "
                         f"first contributing (or, without contributions, benefit) age in "
                         f"{base}, and in {int(years[-1])} past the scheme's contributions "
                         "and temporary benefits and at its life benefits' age"}),
        "tail_age": (("scheme",), np.asarray(tail_ages, dtype=float), {
            "units": "years of age",
            "long_name": "age from which benefits in payment at the horizon are continued "
                         "for life (NaN: none)"}),
    }, coords
