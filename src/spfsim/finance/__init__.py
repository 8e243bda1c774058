"""Financing: reserve fund, PAYG cost rate, reserve ratio, depletion year; financing methods
(general average premium, scaled premium, terminal funding, level premium) and sustainability
measures (trust fund ratio, summarized rates, actuarial balance, depletion, unfunded
obligation, sustainable solvency); solvers (contribution schedule, rate and state transfer,
retirement-age path)."""

from ..economy.discount import discount_factors, present_value
from .fund import (
    FundProjection,
    budget_financed,
    depletion_year,
    paygo_cost_rate,
    reserve_ratio,
    roll_forward,
)
from .methods import (
    ScaledPremium,
    general_average_premium,
    level_premium_closed_group,
    project_with_rate,
    scaled_premium,
    terminal_funding_rate,
)
from .solvers import (
    ModelBalance,
    SolverResult,
    contribution_schedule,
    model_balance_of,
    rate_and_state_transfer,
    retirement_age_path,
    scheme_balance,
)
from .sustainability import (
    Depletion,
    SummarizedRates,
    UnfundedObligation,
    depletion,
    ending_target_cost,
    summarized_rates,
    sustainable_solvency,
    trust_fund_ratio,
    unfunded_obligation_open_group,
)

__all__ = ["Depletion", "FundProjection", "ScaledPremium", "SummarizedRates",
           "UnfundedObligation", "budget_financed", "depletion", "depletion_year",
           "discount_factors", "ending_target_cost", "general_average_premium",
           "level_premium_closed_group",
           "paygo_cost_rate", "present_value", "project_with_rate", "reserve_ratio",
           "roll_forward", "scaled_premium", "summarized_rates", "sustainable_solvency",
           "terminal_funding_rate", "trust_fund_ratio", "unfunded_obligation_open_group"]
__all__ += ["ModelBalance", "SolverResult", "contribution_schedule", "model_balance_of",
            "rate_and_state_transfer", "retirement_age_path", "scheme_balance"]
