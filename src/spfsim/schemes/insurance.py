"""Short-term social insurance benefits: maternity and unemployment insurance.

Both are contributory schemes of the members of the model's contributory pension (its
contributors and their insured earnings are the scheme's): contributions =
``contribution_rate`` x those insured earnings, into a fund of their own. Benefits follow
the rule of :mod:`spfsim.engine.benefits` with the insured groups:

- maternity insurance: women who give birth in a year in which they contribute
  (``insured_mothers``), for ``months`` months (ILO Convention No. 183: at least 14 weeks
  at two thirds of previous earnings);
- unemployment insurance: the unemployed with at least ``minimum_service`` years of
  contributions to the pension (``insured_unemployed``; :func:`unemployment_qualifies`),
  for ``months`` months of the year (the duration limit). The pension's care credits are
  pension credits, not a qualifying period of contributions or employment (ILO C168
  Art. 17): they count only with ``qualifying_credits = "all_credits"``.

The benefit is ``replacement_rate`` x the insurable earnings of a covered worker of the
beneficiary's age and sex (the age-sex profile, within the pension's earnings floor and
ceiling) x months / 12 a year, capped at ``maximum_benefit``, with take-up ``take_up``.
Serves R202 para. 5(c) (income security in maternity and unemployment), 9(1) (social
insurance) and ILC 2021 para. 13(f) (maternity), 15(b) (contributory financing).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from ..params.dated import ParamSpec
from .base import ADMIN_COST_RATE, CONTRIBUTORY, FUND, age_limit, params
from .noncontributory import RuleBenefit


def insurance_benefit(replacement_rate, insurable_earnings, months, maximum) -> np.ndarray:
    """Annual amount per beneficiary (currency): replacement x earnings x months / 12,
    capped at the maximum (0 = none)."""
    amount = np.asarray(replacement_rate) * insurable_earnings * np.asarray(months) / 12.0
    return np.where(np.asarray(maximum) > 0, np.minimum(amount, maximum), amount)


@nb.njit(cache=True)
def unemployment_qualifies(credited_years, contribution_years, minimum_service,
                           credits_count):
    """Whether an unemployed member has unemployment insurance's qualifying period: at
    least ``minimum_service`` years of contributions (ILO C168 Art. 17), or of credited
    service of any kind (contributions and care credits) when ``credits_count``.

    One rule for both engines: the micro engine calls it per person, the cohort engine
    over its (credited service, contribution years) classes (arrays of one shape)."""
    years = credited_years if credits_count else contribution_years
    return years >= minimum_service


def _insurance_parameters(min_age: int, max_age: int, months: float, replacement: float,
                          reference: str) -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("contribution_rate", "fraction of insured earnings",
                  "Contribution rate on the insured earnings of the contributory pension's "
                  "members.", low=0.0, high=1.0, reference="ILC 2021 para. 15(b), (f)"),
        ParamSpec("replacement_rate", "fraction of insurable earnings",
                  "Benefit as a share of the insurable earnings of a covered worker of the "
                  "beneficiary's age and sex.", low=0.0, high=2.0, default=replacement,
                  reference=reference),
        ParamSpec("months", "months per year", "Months of benefit a year (duration).",
                  low=0.0, high=12.0, default=months),
        ParamSpec("take_up", "fraction", "Share of those entitled who claim.",
                  low=0.0, high=1.0, default=1.0),
        ParamSpec("maximum_benefit", "currency per year",
                  "Ceiling of the annual benefit (0: none).", low=0.0, default=0.0,
                  indexable=True),
        age_limit("min_age", min_age, "Youngest age entitled."),
        age_limit("max_age", max_age, "Oldest age entitled."),
        ADMIN_COST_RATE,
        *FUND,
    )


class InsuranceBenefit(RuleBenefit):
    """Base of the short-term social insurance benefits."""

    KIND = CONTRIBUTORY


class MaternityInsurance(InsuranceBenefit):
    NAME = "maternity_insurance"
    GROUP = "insured_mothers"
    GUARANTEE = "maternity"
    DESCRIPTION = ("Maternity cash benefit of social insurance for women who contribute in "
                   "the year they give birth.")
    REFERENCE = "R202 para. 5(c), 9(1); ILC 2021 para. 13(f); ILO C183"
    PARAMETERS = params(*_insurance_parameters(0, 100, 3.25, 2.0 / 3.0, "ILO C183 Art. 6"))


class UnemploymentInsurance(InsuranceBenefit):
    NAME = "unemployment_insurance"
    GROUP = "insured_unemployed"
    GUARANTEE = "working_age"
    DESCRIPTION = ("Unemployment insurance for the unemployed with a qualifying period of "
                   "contributions.")
    REFERENCE = "R202 para. 5(c), 9(1); ILO C168"
    PARAMETERS = params(
        *_insurance_parameters(15, 64, 6.0, 0.5, "ILO C168 Art. 15"),
        ParamSpec("minimum_service", "years",
                  "Years of contributions to the contributory pension needed for the "
                  "benefit (the qualifying period; see qualifying_credits).",
                  low=0, high=60, integer=True, default=1, reference="ILO C168 Art. 17"),
        ParamSpec("qualifying_credits", "choice",
                  "What counts towards minimum_service: 'contributions' (years in which the "
                  "member contributed) or 'all_credits' (also the pension's care credits, "
                  "which are pension credits, not contributions or employment).",
                  kind="choice", choices=("contributions", "all_credits"),
                  default="contributions", reference="ILO C168 Art. 17"),
    )


INSURANCE_TYPES = (MaternityInsurance, UnemploymentInsurance)
