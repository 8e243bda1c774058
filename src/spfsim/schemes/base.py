"""What every scheme type declares, and rules shared by several types."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..params.dated import DatedValue, ParamSpec

CONTRIBUTORY = "contributory"
NON_CONTRIBUTORY = "non_contributory"


class SchemeType:
    """A scheme type: its parameters (with units and references) and its financing kind.

    Subclasses hold no state; the engines read ``PARAMETERS`` and call the module-level rule
    functions, so that the cohort and micro engines share one set of rules.
    """

    NAME: ClassVar[str]
    KIND: ClassVar[str]
    DESCRIPTION: ClassVar[str]
    REFERENCE: ClassVar[str]
    PARAMETERS: ClassVar[dict[str, ParamSpec]]

    @classmethod
    def cross_check(cls, numbers: dict[str, dict[str, DatedValue]],
                    choices: dict[str, str]) -> list[tuple[str, str, object]]:
        """Problems that involve several parameters: (parameter, message, value) each."""
        return []


def params(*specs: ParamSpec) -> dict[str, ParamSpec]:
    return {spec.name: spec for spec in specs}


ADMIN_COST_RATE = ParamSpec(
    "admin_cost_rate", "fraction of benefit expenditure",
    "Administrative expenditure as a share of benefit expenditure (ILO costing practice: "
    "state it explicitly, typically 0.05-0.15 of transfers).",
    low=0.0, high=1.0, default=0.0, reference="ILC 2021 para. 15(e)")


INITIAL_RESERVE = ParamSpec(
    "initial_reserve", "currency", "Reserve at the end of the year before the base year.",
    low=0.0, default=0.0, dated=False)

# how a contributory scheme's fund is financed beyond contributions (finance.fund)
FUND = (
    INITIAL_RESERVE,
    ParamSpec("state_subsidy_per_beneficiary", "currency per beneficiary per year",
              "State transfer to the fund for each beneficiary in payment (all branches).",
              low=0.0, default=0.0, indexable=True, reference="ILC 2021 para. 15(b)"),
    ParamSpec("state_guarantee", "choice",
              "'none': the reserve may turn negative (the depletion year shows when "
              "scheduled benefits stop being payable from the fund); 'deficit': the state "
              "budget pays whatever keeps the end-of-year reserve at zero or above.",
              kind="choice", choices=("none", "deficit"), default="none",
              reference="ILC 2021 para. 15(b), (e)"),
)


def age_limit(name: str, default: int, description: str) -> ParamSpec:
    """An age bound of a benefit (whole years, 100 = the open age group)."""
    return ParamSpec(name, "years of age", description, low=0, high=100, integer=True,
                     default=default)


def admin_expenditure(rate: np.ndarray | float, benefits: np.ndarray | float) -> np.ndarray:
    """Administrative expenditure = rate x benefit expenditure (currency)."""
    return np.asarray(rate) * np.asarray(benefits)
