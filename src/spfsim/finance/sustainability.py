"""Sustainability measures of a social insurance scheme, as pure functions over per-year arrays.

Definitions follow the glossary of the Annual Report of the Board of Trustees of the Federal
Old-Age and Survivors Insurance and Federal Disability Insurance Trust Funds (SSA Trustees
Report; e.g. https://www.ssa.gov/oact/tr/2017/VI_I_glossary.html): trust fund ratio,
summarized income and cost rates, actuarial balance, reserve depletion and the share of
scheduled benefits payable afterwards, open-group unfunded obligation, sustainable solvency.

Arrays hold one value per projection year, shape ``(n_years,)``; money is in currency per
year, rates and ratios are fractions (1.0 = 100 %). Cost is B + E (benefits plus
administrative expenditure); non-interest income is contributions plus state transfers and
any other income except the return on reserves. Timing and discounting are those of
:mod:`spfsim.finance.methods`: flows at mid-year, reserves at the end of the year, present
values at the start of the first year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..economy.discount import ArrayLike, discount_factors, present_value
from .fund import depletion_year, ratio_to
from .methods import _arrays, _positive_pv_earnings


def _first_years(horizon: int, **named: ArrayLike) -> dict[str, np.ndarray]:
    """The first ``horizon`` years of equal-length per-year arrays (error if shorter)."""
    arrays = _arrays(**named)
    n = next(iter(arrays.values())).size
    if int(horizon) != horizon or horizon < 1:
        raise ValueError(f"horizon must be a whole number of years >= 1, got {horizon!r}")
    if n < horizon:
        raise ValueError(f"the horizon is {horizon} years but the arrays cover only {n} years "
                         f"({', '.join(arrays)}): project further or pass horizon={n}")
    return {name: values[: int(horizon)] for name, values in arrays.items()}


def ending_target_cost(benefits: ArrayLike, admin: ArrayLike, horizon: int) -> tuple[float, bool]:
    """The cost the ending target fund is sized on (currency per year), and whether it is
    the Trustees' own: the cost B + E of the year *after* the horizon's last (index
    ``horizon``; SSA Trustees Report glossary, "summarized cost rate": a target fund of
    100 % of the following year's cost) when the arrays reach that year (True), else the
    horizon's last year's cost, which stands in for it (False)."""
    a = _arrays(benefits=benefits, admin=admin)
    cost = a["benefits"] + a["admin"]
    following = cost.size > int(horizon)
    return float(cost[int(horizon) if following else int(horizon) - 1]), following


def trust_fund_ratio(reserve: ArrayLike, benefits: ArrayLike, admin: ArrayLike,
                     initial_reserve: float) -> np.ndarray:
    """Trust fund ratio per year, (year,): reserve at the START of the year / cost of the year.

    The start-of-year reserve of year 0 is ``initial_reserve``; of year t > 0, the
    end-of-year ``reserve`` of year t-1 (currency). Cost = ``benefits + admin`` (currency per
    year). A fraction (1.0 = 100 %, the Trustees' short-range test); NaN where the cost is
    not positive (SSA Trustees Report glossary, "trust fund ratio").
    """
    a = _arrays(reserve=reserve, benefits=benefits, admin=admin)
    start = np.concatenate([[float(initial_reserve)], a["reserve"][:-1]])
    return ratio_to(start, a["benefits"] + a["admin"])


@dataclass
class SummarizedRates:
    """Summarized rates over ``horizon`` years (fractions of the PV of insured earnings) and
    the present values they rest on (currency, at the start of the first year)."""

    income_rate: float
    cost_rate: float
    actuarial_balance: float
    horizon: int
    pv_income: float
    pv_cost: float
    pv_ending_target: float
    pv_earnings: float
    initial_reserve: float
    target_on_following_year: bool = True


def summarized_rates(non_interest_income: ArrayLike, benefits: ArrayLike, admin: ArrayLike,
                     insured_earnings: ArrayLike, interest: ArrayLike, initial_reserve: float,
                     horizon: int = 75, ending_target_years: float = 1.0) -> SummarizedRates:
    """Summarized income and cost rates and the actuarial balance over the first ``horizon``
    years of the arrays (SSA Trustees Report glossary).

    income rate  = (F0 + PV(Y)) / PV(S)
    cost rate    = (PV(B + E) + v[h-1] * ending_target_years * (B + E)[h]) / PV(S)
    balance      = income rate - cost rate

    Y non-interest income, B benefits, E administrative expenditure and S insured earnings
    are currency per year paid at mid-year; F0 = ``initial_reserve`` is the reserve at the
    start of the first year. The ending target fund, ``ending_target_years`` times the cost
    of the year after the horizon (the Trustees' 100 % of the following year's cost), is
    held at the end of the horizon's last year and discounted by v[h-1]. Where the arrays
    stop at the horizon, the last year's cost (B + E)[h-1] stands in for the following
    year's, and ``target_on_following_year`` is False (:func:`ending_target_cost`). Years
    beyond h + 1 are never read. Raises if the arrays cover fewer than ``horizon`` years.
    """
    a = _first_years(horizon, non_interest_income=non_interest_income, benefits=benefits,
                     admin=admin, insured_earnings=insured_earnings, interest=interest)
    pv_earnings = _positive_pv_earnings(a["insured_earnings"], a["interest"])
    cost = a["benefits"] + a["admin"]
    end, _ = discount_factors(a["interest"])
    pv_income = present_value(a["non_interest_income"], a["interest"])
    pv_cost = present_value(cost, a["interest"])
    target_cost, following = ending_target_cost(benefits, admin, horizon)
    pv_target = float(ending_target_years * target_cost * end[-1])
    income_rate = (float(initial_reserve) + pv_income) / pv_earnings
    cost_rate = (pv_cost + pv_target) / pv_earnings
    return SummarizedRates(income_rate, cost_rate, income_rate - cost_rate, int(horizon),
                           pv_income, pv_cost, pv_target, pv_earnings, float(initial_reserve),
                           following)


@dataclass
class Depletion:
    """Reserve depletion: ``year`` the first year whose end-of-year reserve is negative (NaN
    if never), ``index`` its position in the arrays (None if never), and ``payable_share``
    (year,) the share of scheduled cost payable each year (1.0 = in full)."""

    year: float
    index: int | None
    payable_share: np.ndarray


def depletion(years: ArrayLike, reserve: ArrayLike, non_interest_income: ArrayLike,
              benefits: ArrayLike, admin: ArrayLike,
              interest: ArrayLike | None = None) -> Depletion:
    """Depletion year and the share of scheduled cost payable (SSA Trustees Report).

    ``reserve`` must be the *unconstrained* projection: end-of-year reserves (currency) that
    are allowed to turn negative, as ``roll_forward`` projects them with scheduled benefits.
    The depletion year D is the first year whose end-of-year reserve is negative; a later
    return to a positive reserve is ignored (once depleted the fund stays depleted: no
    reserve is rebuilt from later surpluses). ``payable_share`` (fraction, year,):

    - before D: 1;
    - in D: what the reserve at the start of the year, grown to mid-year, plus the year's
      non-interest income Y can pay, ``(F[D-1] (1+i)^(1/2) + Y[D]) / X[D]``, capped at 1,
      with X = B + E. From the roll-forward identity this equals ``1 + F[D] (1+i)^(-1/2) /
      X[D]``, which is how it is computed (the start-of-year reserve is not needed). Without
      ``interest`` the in-year growth is ignored (i = 0 in year D);
    - after D: ``min(1, Y / X)``, the share payable from continuing income.

    Years with no cost have share 1.
    """
    a = _arrays(years=years, reserve=reserve, non_interest_income=non_interest_income,
                benefits=benefits, admin=admin)
    growth = np.ones_like(a["reserve"]) if interest is None else np.sqrt(
        1.0 + _arrays(interest=interest, reserve=a["reserve"])["interest"])
    cost = a["benefits"] + a["admin"]
    share = np.ones_like(cost)
    below = np.flatnonzero(a["reserve"] < 0)
    if below.size == 0:
        return Depletion(float("nan"), None, share)
    d = int(below[0])
    after = ratio_to(a["non_interest_income"][d + 1:], cost[d + 1:])
    share[d + 1:] = np.where(np.isnan(after), 1.0, np.minimum(after, 1.0))
    if cost[d] > 0:
        share[d] = min(1.0, max(0.0, 1.0 + a["reserve"][d] / growth[d] / cost[d]))
    return Depletion(depletion_year(a["years"], a["reserve"]), d, share)


@dataclass
class UnfundedObligation:
    """Open-group unfunded obligation over ``horizon`` years: ``amount`` (currency, at the
    start of the first year; positive = unfunded) and, when insured earnings were given,
    ``share_of_earnings`` = amount / PV(S) (fraction; NaN otherwise)."""

    amount: float
    share_of_earnings: float
    pv_cost: float
    pv_income: float
    pv_earnings: float
    initial_reserve: float
    horizon: int


def unfunded_obligation_open_group(non_interest_income: ArrayLike, benefits: ArrayLike,
                                   admin: ArrayLike, interest: ArrayLike,
                                   initial_reserve: float, horizon: int = 75,
                                   insured_earnings: ArrayLike | None = None
                                   ) -> UnfundedObligation:
    """Open-group unfunded obligation: PV(B + E) - PV(Y) - F0 over the first ``horizon``
    years (SSA Trustees Report, "open group unfunded obligation").

    Y non-interest income, B, E (currency per year, mid-year), F0 = ``initial_reserve``
    (start of the first year). Positive = unfunded. With ``insured_earnings`` S it is also
    given as a share of PV(S): minus the actuarial balance without an ending target fund.
    """
    named = {"non_interest_income": non_interest_income, "benefits": benefits,
             "admin": admin, "interest": interest}
    if insured_earnings is not None:
        named["insured_earnings"] = insured_earnings
    a = _first_years(horizon, **named)
    pv_cost = present_value(a["benefits"] + a["admin"], a["interest"])
    pv_income = present_value(a["non_interest_income"], a["interest"])
    amount = pv_cost - pv_income - float(initial_reserve)
    pv_earnings = (float("nan") if insured_earnings is None
                   else _positive_pv_earnings(a["insured_earnings"], a["interest"]))
    return UnfundedObligation(amount, amount / pv_earnings, pv_cost, pv_income, pv_earnings,
                              float(initial_reserve), int(horizon))


def sustainable_solvency(trust_fund_ratios: ArrayLike, tail_years: int = 5,
                         tolerance: float = 1e-9) -> bool:
    """Sustainable solvency (SSA Trustees Report): the trust fund ratio stays positive in every
    year passed and is stable or rising at the end of the period.

    Pass the ratios of the valuation horizon (75 years in the Trustees' test), e.g. from
    :func:`trust_fund_ratio`. "Stable or rising at the end" is taken as: over the last
    ``tail_years`` years (5) no year-on-year fall larger than ``tolerance`` (in ratio units,
    1.0 = 100 % of a year's cost). A NaN ratio (no cost) fails the test.
    """
    ratios = _arrays(trust_fund_ratios=trust_fund_ratios)["trust_fund_ratios"]
    if int(tail_years) != tail_years or not 2 <= tail_years <= ratios.size:
        raise ValueError(f"tail_years must be a whole number from 2 to the {ratios.size} "
                         f"ratios given, got {tail_years!r}")
    if np.any(np.isnan(ratios)) or np.any(ratios <= 0):
        return False
    return bool(np.all(np.diff(ratios[-int(tail_years):]) >= -tolerance))
