"""Financing: reserve fund, PAYG cost rate, reserve ratio, depletion year."""

from .fund import FundProjection, depletion_year, paygo_cost_rate, reserve_ratio, roll_forward

__all__ = ["FundProjection", "depletion_year", "paygo_cost_rate", "reserve_ratio",
           "roll_forward"]
