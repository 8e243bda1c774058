"""Reserve fund roll-forward and the basic financing measures.

With C contributions, G state transfers, B benefits, E administration, all paid evenly over
the year, and i the nominal return on reserves (ILO / ACTUARIAL_NOTES convention)::

    F[t] = F[t-1] (1 + i[t]) + (C[t] + G[t] - B[t] - E[t]) (1 + i[t])^(1/2)

so investment income is I[t] = F[t-1] i[t] + (C + G - B - E)((1 + i)^(1/2) - 1) and the fund
identity F[t] = F[t-1] + C + G + I - B - E holds exactly. The reserve may turn negative: the
projection shows scheduled benefits, and the depletion year says when they stop being payable
from the fund.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class FundProjection:
    """Fund flows (currency per year) and end-of-year reserve, all (year,)."""

    contribution_income: np.ndarray
    state_transfer: np.ndarray
    investment_income: np.ndarray
    benefit_expenditure: np.ndarray
    admin_expenditure: np.ndarray
    reserve: np.ndarray
    initial_reserve: float
    deficit_cover: np.ndarray | None = None  # part of state_transfer paid under a guarantee
    # part of state_transfer that is the income tax on the scheme's benefits: passed on
    # by the state, not paid from its budget (db_pension.benefit_tax_income)
    benefit_tax: np.ndarray | None = None


def roll_forward(initial_reserve: float, contributions: np.ndarray, state: np.ndarray,
                 benefits: np.ndarray, admin: np.ndarray, interest: np.ndarray,
                 cover_deficit: bool = False) -> FundProjection:
    """Project the end-of-year reserve from ``initial_reserve`` (end of the year before).

    ``cover_deficit``: the state adds, in each year where the reserve would end negative,
    the mid-year transfer that leaves it at exactly zero (a state guarantee); it is
    included in ``state_transfer`` and reported in ``deficit_cover``.
    """
    n = len(contributions)
    reserve, income, cover = np.zeros(n), np.zeros(n), np.zeros(n)
    previous = float(initial_reserve)
    for t in range(n):
        growth = np.sqrt(1.0 + interest[t])
        net = contributions[t] + state[t] - benefits[t] - admin[t]
        if cover_deficit:
            cover[t] = max(0.0, -(previous * (1.0 + interest[t]) + net * growth) / growth)
            net += cover[t]
        income[t] = previous * interest[t] + net * (growth - 1.0)
        reserve[t] = previous + net + income[t]
        if cover[t] > 0:  # exactly zero, not a rounding error below it
            reserve[t] = 0.0
            income[t] = -previous - net
        previous = reserve[t]
    return FundProjection(contributions, state + cover, income, benefits, admin, reserve,
                          float(initial_reserve), cover)


def state_transfers(subsidy_rate: np.ndarray, benefits: np.ndarray,
                    state_contribution: np.ndarray | None = None,
                    per_beneficiary: np.ndarray | None = None,
                    beneficiaries: np.ndarray | None = None) -> np.ndarray:
    """The state's scheduled transfers to a fund (currency per year, (year,)): a share of
    benefit expenditure, its contribution on insured earnings, and a subsidy per
    beneficiary in payment (ILC 2021 para. 15(b): a mix of contributory and
    non-contributory financing). A deficit guarantee comes on top (roll_forward)."""
    total = subsidy_rate * benefits
    if state_contribution is not None:
        total = total + state_contribution
    if per_beneficiary is not None and beneficiaries is not None:
        total = total + per_beneficiary * beneficiaries
    return total


def budget_financed(contributions: np.ndarray, benefits: np.ndarray,
                    admin: np.ndarray) -> FundProjection:
    """A scheme without a fund: the state budget pays what contributions do not cover, as
    it falls due, so the reserve is zero by construction (not by a rounded roll-forward)."""
    zeros = np.zeros(len(benefits))
    return FundProjection(contributions, benefits + admin - contributions, zeros, benefits,
                          admin, zeros.copy(), 0.0)


def ratio_to(amount: np.ndarray, base: np.ndarray) -> np.ndarray:
    """``amount / base`` where ``base`` is positive, NaN elsewhere (a rate or ratio)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(base > 0, amount / base, np.nan)


def paygo_cost_rate(benefits: np.ndarray, admin: np.ndarray,
                    insured_earnings: np.ndarray) -> np.ndarray:
    """PAYG cost rate (B + E) / S; NaN where there are no insured earnings."""
    return ratio_to(benefits + admin, insured_earnings)


def reserve_ratio(reserve: np.ndarray, benefits: np.ndarray, admin: np.ndarray) -> np.ndarray:
    """End-of-year reserve / expenditure of the year (ILO reserve ratio); NaN if none."""
    return ratio_to(reserve, benefits + admin)


def depletion_year(years: np.ndarray, reserve: np.ndarray) -> float:
    """First year whose end-of-year reserve is negative; NaN when never within the horizon."""
    below = np.flatnonzero(reserve < 0)
    return float(years[below[0]]) if below.size else float("nan")
