"""Financing: reserve fund, PAYG cost rate, reserve ratio, depletion year."""

from .fund import (
    FundProjection,
    budget_financed,
    depletion_year,
    paygo_cost_rate,
    reserve_ratio,
    roll_forward,
)

__all__ = ["FundProjection", "budget_financed", "depletion_year", "paygo_cost_rate",
           "reserve_ratio", "roll_forward"]
