"""Financing methods of a social insurance scheme, as pure functions over per-year arrays.

Sources: ILO (2002), Cichon, Scholz, van de Meerendonk, Hagemejer, Bertranou and Plamondon,
*Financing Social Protection* (Quantitative Methods in Social Protection Series), chapter on
the financial systems of social security schemes (pay-as-you-go, general average premium,
scaled premium, assessment of constituent capitals / terminal funding, full funding).

Every array holds one value per projection year, shape ``(n_years,)``; money is in currency
per year, rates are fractions (0.12 = 12 % of insured earnings). ``interest`` is the nominal
annual effective return on reserves ``i[t]``.

Timing (the same as :func:`spfsim.finance.fund.roll_forward`): contributions, state
transfers, benefits and administrative expenditure are paid evenly over the year, i.e. at
mid-year on average; reserves are valued at the end of the year. Present values are taken at
the start of the first projection year with :mod:`spfsim.economy.discount`
(``discount_factors``, ``present_value``, re-exported here)

    v[t]   = prod_{s <= t} 1 / (1 + i[s])          (end of year t)
    m[t]   = v[t-1] (1 + i[t])^(-1/2), v[-1] = 1   (mid-year of year t)

so that ``v[n-1] F[n-1] = F0 + sum_t m[t] (C + G - B - E)[t]`` holds exactly for the reserve
rolled forward by ``roll_forward``; this is the identity every method below rests on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

import numpy as np

from ..economy.discount import ArrayLike, check_interest, discount_factors, present_value
from .fund import FundProjection, ratio_to, roll_forward

Rule = Literal["non_decreasing", "target_ratio"]
RULES = ("non_decreasing", "target_ratio")


# --------------------------------------------------------------------------- validation


def _arrays(**named: ArrayLike) -> dict[str, np.ndarray]:
    """Float copies of ``named`` per-year arrays, checked one-dimensional, non-empty and of
    equal length (the error names every array and its length)."""
    out = {name: np.array(value, dtype=float) for name, value in named.items()}
    for name, array in out.items():
        if array.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional (one value per year), "
                             f"got shape {array.shape}")
    lengths = {name: array.size for name, array in out.items()}
    if len(set(lengths.values())) > 1:
        listing = ", ".join(f"{name} has {size}" for name, size in lengths.items())
        raise ValueError(f"array lengths differ (one value per year expected): {listing}")
    if 0 in lengths.values():
        raise ValueError("the per-year arrays are empty")
    return out


def _optional(values: ArrayLike | None, like: np.ndarray, name: str) -> np.ndarray:
    """``values`` as a float array of ``like``'s length, or zeros when None."""
    if values is None:
        return np.zeros_like(like)
    return _arrays(**{name: values, "insured_earnings": like})[name]


def _positive_pv_earnings(insured_earnings: np.ndarray, interest: np.ndarray) -> float:
    pv = present_value(insured_earnings, interest)
    if not pv > 0:
        raise ValueError(f"the present value of insured earnings must be positive, got {pv!r}")
    return pv


# --------------------------------------------------------------------------- GAP, level rates


def _level_rate(cost: np.ndarray, earnings: np.ndarray, interest: np.ndarray,
                initial_reserve: float, terminal_reserve: float,
                other_income: np.ndarray) -> float:
    """(PV(cost) - PV(other income) + v_n T - F0) / PV(earnings)."""
    pv_earnings = _positive_pv_earnings(earnings, interest)
    end, _ = discount_factors(interest)
    needed = (present_value(cost, interest) - present_value(other_income, interest)
              + terminal_reserve * end[-1] - initial_reserve)
    return float(needed / pv_earnings)


def general_average_premium(benefits: ArrayLike, admin: ArrayLike, insured_earnings: ArrayLike,
                            interest: ArrayLike, initial_reserve: float = 0.0,
                            terminal_reserve: float = 0.0,
                            other_income: ArrayLike | None = None) -> float:
    """General average premium (GAP) over the whole horizon of the arrays, open group.

    GAP = (PV(B + E) - PV(G) + v[n-1] F_T - F0) / PV(S)

    with B benefits, E administrative expenditure, S insured earnings and G other non-interest
    income (``other_income``, e.g. state transfers; zero by default), all currency per year
    paid at mid-year; ``initial_reserve`` F0 is the reserve at the start of the first year and
    ``terminal_reserve`` F_T the reserve wanted at the end of the last year (currency).
    Returns a fraction of insured earnings: the constant contribution rate under which the
    reserve projected by ``roll_forward`` ends the horizon at exactly F_T
    (ILO 2002, *Financing Social Protection*, general average premium).
    """
    a = _arrays(benefits=benefits, admin=admin, insured_earnings=insured_earnings,
                interest=interest)
    other = _optional(other_income, a["insured_earnings"], "other_income")
    return _level_rate(a["benefits"] + a["admin"], a["insured_earnings"], a["interest"],
                       float(initial_reserve), float(terminal_reserve), other)


def level_premium_closed_group(contributions_base: ArrayLike, benefits: ArrayLike,
                               interest: ArrayLike, initial_reserve: float = 0.0,
                               admin: ArrayLike | None = None) -> float:
    """Level (full funding) premium of a closed group: the constant rate pi with

    pi * PV(S_closed) = PV(B_closed + E_closed) - F0

    ``contributions_base`` S_closed is the projected insured earnings of the current insured
    only (no new entrants) and ``benefits`` B_closed (and optional ``admin``) the benefits
    they and their survivors will receive, currency per year at mid-year, over future years
    until the group has died out (a truncated horizon understates the rate).
    ``initial_reserve`` F0 is the reserve (accrued assets) credited to the group at the start
    of the first year. Returns a fraction of earnings (ILO 2002, *Financing Social
    Protection*, full funding / level premium of a closed group).
    """
    a = _arrays(contributions_base=contributions_base, benefits=benefits, interest=interest)
    cost = a["benefits"] + _optional(admin, a["contributions_base"], "admin")
    return _level_rate(cost, a["contributions_base"], a["interest"], float(initial_reserve),
                       0.0, np.zeros_like(cost))


def project_with_rate(rate_by_year: float | ArrayLike, benefits: ArrayLike, admin: ArrayLike,
                      insured_earnings: ArrayLike, interest: ArrayLike,
                      initial_reserve: float = 0.0,
                      other_income: ArrayLike | None = None) -> FundProjection:
    """Project the reserve under a contribution rate schedule with ``roll_forward``.

    Contributions are ``rate_by_year * insured_earnings`` (a scalar rate applies to every
    year), state transfers are ``other_income`` (zero by default); B, E, S and G are currency
    per year, paid at mid-year. ``initial_reserve`` is the reserve at the end of the year
    before the first. Returns the :class:`~spfsim.finance.fund.FundProjection`.
    """
    a = _arrays(benefits=benefits, admin=admin, insured_earnings=insured_earnings,
                interest=interest)
    check_interest(a["interest"])
    rate = np.broadcast_to(np.asarray(rate_by_year, dtype=float), a["benefits"].shape)
    other = _optional(other_income, a["insured_earnings"], "other_income")
    return roll_forward(float(initial_reserve), rate * a["insured_earnings"], other,
                        a["benefits"], a["admin"], a["interest"])


# --------------------------------------------------------------------------- scaled premium


@dataclass
class ScaledPremium:
    """A scaled premium schedule.

    ``rates`` (year,) the stepwise contribution rate (fraction of insured earnings);
    ``period_rates`` (period,) the rate of each period of equilibrium; ``periods`` the
    half-open ``(start, stop)`` year indices of each period, so ``rates[start:stop]`` is one
    period; ``critical_years`` (period,) the index of the year that fixes each period's rate
    (the year whose reserve change is zero under ``non_decreasing``; the period's last year
    under ``target_ratio``); ``reserve`` the fund projected under ``rates``.
    """

    rates: np.ndarray
    period_rates: np.ndarray
    periods: list[tuple[int, int]]
    critical_years: np.ndarray
    reserve: FundProjection
    rule: str


def _periods(n: int, period_length: int | None,
             period_starts: Sequence[int] | None) -> list[tuple[int, int]]:
    """Half-open (start, stop) index pairs covering 0..n from a length or start indices."""
    if (period_length is None) == (period_starts is None):
        raise ValueError("give exactly one of period_length and period_starts")
    if period_length is not None:
        if int(period_length) != period_length or period_length < 1:
            raise ValueError(f"period_length must be a whole number of years >= 1, "
                             f"got {period_length!r}")
        starts = list(range(0, n, int(period_length)))
    else:
        starts = [int(s) for s in period_starts]
        if not starts or starts[0] != 0:
            raise ValueError("period_starts must begin with 0 (the first projection year)")
        if any(b - a < 1 for a, b in pairwise(starts)):
            raise ValueError(f"period lengths must be at least 1 year: period_starts must be "
                             f"strictly increasing, got {starts}")
        if starts[-1] >= n:
            raise ValueError(f"period_starts {starts} reach beyond the {n} projection years")
    return list(zip(starts, [*starts[1:], n], strict=True))


def _affine_reserve(start_reserve: float, segment: dict[str, np.ndarray]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """End-of-year reserve over a segment as ``base + rate * unit`` (reserve is affine in the
    contribution rate): ``base`` at rate 0 from ``start_reserve``, ``unit`` the reserve built
    by contributions of 1 x insured earnings from nothing."""
    zeros = np.zeros_like(segment["benefits"])
    base = roll_forward(start_reserve, zeros, segment["other"], segment["benefits"],
                        segment["admin"], segment["interest"]).reserve
    unit = roll_forward(0.0, segment["insured_earnings"], zeros, zeros, zeros,
                        segment["interest"]).reserve
    return base, unit


def _non_decreasing_rate(start_reserve: float, base: np.ndarray, unit: np.ndarray,
                         cost: np.ndarray) -> tuple[float, int]:
    """Smallest rate with F[t] >= F[t-1] in every year of the segment, and its critical year.

    The yearly change is affine in the rate, ``a[t] + rate * d[t]``; each year with d > 0
    gives a lower bound -a/d and the rate is the largest of them. A year with d <= 0 (only
    possible with negative interest or no insured earnings) must hold at that rate, or no
    constant rate keeps the reserve from falling.
    """
    a = np.diff(base, prepend=start_reserve)
    d = np.diff(unit, prepend=0.0)
    bounding = d > 0
    if not bounding.any():
        raise ValueError("no insured earnings in the period: the rate cannot be solved")
    bounds = np.where(bounding, -a / np.where(bounding, d, 1.0), -np.inf)
    critical = int(np.argmax(bounds))
    rate = float(bounds[critical])
    scale = np.max(np.abs(base) + np.abs(rate * unit) + cost) + abs(start_reserve)
    if np.any(a + rate * d < -1e-9 * scale):
        raise ValueError("no constant rate keeps the reserve non-decreasing in the period "
                         "(in some year a higher rate does not raise the reserve change: "
                         "negative interest, or no insured earnings and no interest)")
    return rate, critical


def _target_ratio_rate(target_reserve: float, base: np.ndarray,
                      unit: np.ndarray) -> tuple[float, int]:
    """Rate with reserve ``target_reserve`` at the end of the segment's last year."""
    if not unit[-1] > 0:
        raise ValueError("no insured earnings in the period: the rate cannot be solved")
    return float((target_reserve - base[-1]) / unit[-1]), unit.size - 1


def scaled_premium(benefits: ArrayLike, admin: ArrayLike, insured_earnings: ArrayLike,
                   interest: ArrayLike, *, period_length: int | None = None,
                   period_starts: Sequence[int] | None = None, initial_reserve: float = 0.0,
                   rule: Rule = "non_decreasing", target_ratio: float | None = None,
                   other_income: ArrayLike | None = None) -> ScaledPremium:
    """Scaled premium system: a contribution rate constant within each period of equilibrium.

    Periods: ``period_length`` years each (the last may be shorter), or ``period_starts``
    (0-based year indices, first 0, strictly increasing). Within period k the rate pi_k is

    - ``rule="non_decreasing"``: the smallest constant rate under which the reserve does not
      decrease in any year of the period, F[t] >= F[t-1]; in the period's critical year
      contributions + other income + investment income just cover B + E;
    - ``rule="target_ratio"``: the rate under which the reserve at the end of the period's
      last year L equals ``target_ratio * (B[L] + E[L])`` (a reserve ratio, in years of
      expenditure).

    The reserve is affine in the rate, so each pi_k is solved in closed form from two
    ``roll_forward`` projections of the period, starting from the reserve left by the
    previous periods. Rates are not forced to rise from one period to the next. Money arrays
    are currency per year paid at mid-year; ``initial_reserve`` is the reserve at the start
    of the first year; ``other_income`` (e.g. state transfers) is zero by default. One-year
    periods with no initial reserve give the PAYG cost rate; one period over the horizon
    with ``target_ratio=0`` gives the general average premium (ILO 2002, *Financing Social
    Protection*, scaled premium system).
    """
    a = _arrays(benefits=benefits, admin=admin, insured_earnings=insured_earnings,
                interest=interest)
    check_interest(a["interest"])
    a["other"] = _optional(other_income, a["insured_earnings"], "other_income")
    _check_rule(rule, target_ratio)
    periods = _periods(a["benefits"].size, period_length, period_starts)
    cost = a["benefits"] + a["admin"]
    reserve, period_rates, critical = float(initial_reserve), [], []
    for start, stop in periods:
        segment = {name: values[start:stop] for name, values in a.items()}
        base, unit = _affine_reserve(reserve, segment)
        if rule == "non_decreasing":
            rate, year = _non_decreasing_rate(reserve, base, unit, cost[start:stop])
        else:
            rate, year = _target_ratio_rate(target_ratio * cost[stop - 1], base, unit)
        period_rates.append(float(rate))
        critical.append(start + year)
        reserve = float(base[-1] + rate * unit[-1])
    rates = np.concatenate([np.full(stop - start, r)
                            for (start, stop), r in zip(periods, period_rates, strict=True)])
    fund = project_with_rate(rates, a["benefits"], a["admin"], a["insured_earnings"],
                             a["interest"], initial_reserve, a["other"])
    return ScaledPremium(rates, np.array(period_rates), periods, np.array(critical), fund, rule)


def _check_rule(rule: str, target_ratio: float | None) -> None:
    if rule not in RULES:
        raise ValueError(f"unknown scaled premium rule {rule!r}: use one of {RULES}")
    if rule == "target_ratio":
        if target_ratio is None or not np.isfinite(target_ratio) or target_ratio < 0:
            raise ValueError("rule 'target_ratio' needs a finite target_ratio >= 0 "
                             f"(years of expenditure), got {target_ratio!r}")
    elif target_ratio is not None:
        raise ValueError("target_ratio applies only to rule='target_ratio'")


# --------------------------------------------------------------------------- terminal funding


def terminal_funding_rate(new_award_pensions: ArrayLike, annuity_factors: ArrayLike,
                          insured_earnings: ArrayLike,
                          admin: ArrayLike | None = None) -> np.ndarray:
    """Terminal funding (assessment of constituent capitals) rate per year, (year,).

    pi[t] = (sum_k P[t, k] * a[t, k] + E[t]) / S[t]

    ``new_award_pensions`` P is the annual amount (currency per year) of the pensions awarded
    in year t, ``annuity_factors`` a the present value at award of 1 a year of that pension
    (it carries the payment timing, indexation, mortality and survivors' reversion: the
    caller's choice), so P * a is the capital value set aside at award. Both are (year,) or
    (year, k) for k groups (age, sex, benefit type...), summed over k; they broadcast
    against each other. ``admin`` E (optional) is added to the capital values. ``insured
    earnings`` S is currency per year; the rate is NaN where S <= 0
    (ILO 2002, *Financing Social Protection*, assessment of constituent capitals).
    """
    earnings = _arrays(insured_earnings=insured_earnings)["insured_earnings"]
    capital = np.asarray(new_award_pensions, dtype=float) * np.asarray(annuity_factors,
                                                                        dtype=float)
    if capital.ndim == 2:
        capital = capital.sum(axis=1)
    if capital.ndim != 1 or capital.size != earnings.size:
        raise ValueError(f"new_award_pensions x annuity_factors must be (year,) or (year, k) "
                         f"with {earnings.size} years like insured_earnings, got "
                         f"{np.shape(new_award_pensions)} x {np.shape(annuity_factors)}")
    capital = capital + _optional(admin, earnings, "admin")
    return ratio_to(capital, earnings)
