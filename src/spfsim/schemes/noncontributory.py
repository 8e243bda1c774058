"""Non-contributory (tax-financed) benefits: the cash and health guarantees of a social
protection floor, R202 para. 5.

Every type here is one rule with different defaults: persons of an age band who belong to
the scheme's *group* (everybody; persons with a severe disability; those without a
contributory pension; mothers of newborns not insured; the unemployed) receive it with the
*receipt probability*

    p = take_up x target_share x (1 - exclusion_error) / (1 - inclusion_error)  (capped at 1)

where ``target_share`` is the share of the group the scheme targets (the poor, say; 1 for a
universal scheme), ``exclusion_error`` the share of the targeted persons it misses and
``inclusion_error`` the share of its beneficiaries outside the target (so beneficiaries =
target reached / (1 - inclusion error)). The annual amount per beneficiary is

    amount = benefit x basis x months / 12

with ``basis`` 1 for amounts in currency, or the poverty line or GDP per capita of the year
for levels stated relative to them (R202 para. 8(b): levels tied to a nationally defined
minimum). Take-up draws in the micro engine are persistent (the same persons take a
benefit up every year) and independent between schemes; the cohort engine uses the same
assumption when it computes coverage (see :mod:`spfsim.engine.benefits`).
"""

from __future__ import annotations

import numpy as np

from ..params.dated import ParamSpec
from .base import ADMIN_COST_RATE, NON_CONTRIBUTORY, SchemeType, age_limit, params

# the guarantees of R202 para. 5; 5(c) is split into its three usual contingencies
GUARANTEES = ("health", "children", "maternity", "disability", "working_age", "old_age")
GUARANTEE_REFERENCES = {
    "health": "R202 para. 5(a)", "children": "R202 para. 5(b)",
    "maternity": "R202 para. 5(c) (and 5(a) maternity care)",
    "disability": "R202 para. 5(c)", "working_age": "R202 para. 5(c)",
    "old_age": "R202 para. 5(d)", "other": "R202 para. 9",
}
# who may receive a benefit, before take-up and targeting; the last two are the insured
# of the contributory scheme (schemes.insurance)
GROUPS = ("all", "disabled", "without_pension", "uninsured_mothers", "unemployed",
          "insured_mothers", "insured_unemployed")
BASES = ("currency", "poverty_line", "gdp_per_capita")
SEX_CHOICES = ("all", "female", "male")
# how a scheme tests households' incomes (RuleBenefit.household_test; engine.micro.poverty's
# codes: 0 none, 1, 2): it tops the household up to a guarantee, or pays a person's benefit
# below a threshold of the household's income
GUARANTEE, THRESHOLD = "guarantee", "threshold"
HOUSEHOLD_TESTS = (None, GUARANTEE, THRESHOLD)


def receipt_probability(take_up, target_share, exclusion_error, inclusion_error) -> np.ndarray:
    """Probability that a member of the scheme's group in its age band receives it."""
    reached = (np.asarray(take_up) * target_share * (1.0 - np.asarray(exclusion_error))
               / (1.0 - np.asarray(inclusion_error)))
    return np.minimum(reached, 1.0)


def annual_amount(benefit, basis, months) -> np.ndarray:
    """Annual amount per beneficiary (currency): level x basis x months paid / 12."""
    return np.asarray(benefit) * basis * np.asarray(months) / 12.0


def sex_mask(sex: str) -> np.ndarray:
    """(male, female) 1 for the sexes a benefit is paid to, 0 for the other."""
    return np.array([sex != "female", sex != "male"], dtype=float)


def top_up(floor, pension) -> np.ndarray:
    """A pension-tested top-up: what lifts a contributory pension to the floor (currency)."""
    return np.maximum(np.asarray(floor) - pension, 0.0)


def in_age_band(age, min_age, max_age) -> np.ndarray:
    """In the benefit's age band, both ends included (100 = the open age group)."""
    age = np.asarray(age)
    return (age >= min_age) & (age <= max_age)


def health_cost_profile(age, under5: float, over65: float) -> np.ndarray:
    """Cost per person by age relative to ages 5-64: ``under5`` below 5, ``over65`` from 65."""
    age = np.asarray(age)
    return np.where(age < 5, under5, np.where(age >= 65, over65, 1.0))


def _common(min_age: int, max_age: int, months: float, guarantee: str,
            basis_default: str = "currency") -> tuple[ParamSpec, ...]:
    """The parameters every non-contributory type shares, with the type's defaults."""
    reference = GUARANTEE_REFERENCES[guarantee]
    return (
        age_limit("min_age", min_age, "Youngest age entitled."),
        age_limit("max_age", max_age, "Oldest age entitled (100 = no upper limit)."),
        ParamSpec("benefit", "currency per year, or fraction of the annual basis",
                  "Benefit level as an annual rate, paid for `months` months of the year: "
                  "currency per beneficiary per year when benefit_basis is 'currency' (may be "
                  "indexed), else a fraction of the annual poverty line or GDP per capita.",
                  low=0.0, indexable=True, reference="R202 para. 8(b)"),
        ParamSpec("benefit_basis", "choice",
                  "What the level is stated in: 'currency', 'poverty_line' (the model's "
                  "[economy] poverty_line, indexed to prices) or 'gdp_per_capita'.",
                  kind="choice", choices=BASES, default=basis_default,
                  reference="R202 para. 8(b)"),
        ParamSpec("months", "months per year", "Months of the year the benefit is paid.",
                  low=0.0, high=12.0, default=months),
        ParamSpec("take_up", "fraction", "Share of those entitled who claim and receive it.",
                  low=0.0, high=1.0, default=1.0, reference=reference),
        ParamSpec("target_share", "fraction",
                  "Share of the group the scheme targets (e.g. the poor); 1 = universal.",
                  low=0.0, high=1.0, default=1.0, reference="R202 para. 9(2)"),
        ParamSpec("exclusion_error", "fraction",
                  "Share of the targeted persons the scheme fails to reach.",
                  low=0.0, high=1.0, default=0.0),
        ParamSpec("inclusion_error", "fraction",
                  "Share of beneficiaries outside the target group (leakage).",
                  low=0.0, high=0.99, default=0.0),
        ADMIN_COST_RATE,
        ParamSpec("sex", "choice", "Sex of those entitled: 'all', or only 'female' or "
                  "'male' persons of the group and age band.", kind="choice",
                  choices=SEX_CHOICES, default="all"),
    )


class RuleBenefit(SchemeType):
    """A benefit paid by the group x age band x receipt probability rule of
    :mod:`spfsim.engine.benefits`, contributory or not."""

    GROUP = "all"
    GUARANTEE = "other"

    @classmethod
    def group(cls, choices: dict[str, str]) -> str:
        """Who may receive it (one of GROUPS), given the scheme's choices."""
        return cls.GROUP

    @classmethod
    def household_test(cls, choices: dict[str, str]) -> str | None:
        """How it tests households' incomes, given the scheme's choices: None (it does
        not), GUARANTEE (it tops the household's income up to a level: MinimumIncome) or
        THRESHOLD (a person's benefit, paid when the household's income per equivalent
        adult is below a threshold: SocialPension with means_test 'household'). Only the
        micro engine with families and a [poverty] section (engine.micro.poverty) pays
        such a scheme."""
        return None

    @classmethod
    def guarantee(cls, choices: dict[str, str]) -> str:
        return cls.GUARANTEE

    @classmethod
    def is_top_up(cls, choices: dict[str, str]) -> bool:
        return False

    @classmethod
    def cross_check(cls, numbers, choices):
        problems = []
        low, high = numbers.get("min_age", {}).get("all"), numbers.get("max_age", {}).get("all")
        if low is not None and high is not None:
            for year in sorted(set(low.values) | set(high.values)):
                if low.at(year) > high.at(year):
                    problems.append(("max_age", f"must be >= min_age {low.at(year):g} (from "
                                     f"{year})", high.at(year)))
                    break
        return problems


class NonContributoryBenefit(RuleBenefit):
    """Base of the non-contributory types: group, guarantee and the common parameters."""

    KIND = NON_CONTRIBUTORY


class UniversalBenefit(NonContributoryBenefit):
    NAME = "universal_benefit"
    DESCRIPTION = "Universal flat-rate benefit for an age band, tax-financed."
    REFERENCE = "R202 para. 5, 8(b), 9(2), 11"
    PARAMETERS = params(
        *_common(0, 100, 12.0, "other"),
        ParamSpec("guarantee", "choice", "The R202 para. 5 guarantee the benefit serves, for "
                  "the coverage and cost indicators ('other' if none).", kind="choice",
                  choices=(*GUARANTEES, "other"), default="other"),
    )

    @classmethod
    def guarantee(cls, choices):
        return choices.get("guarantee", "other")


class ChildBenefit(NonContributoryBenefit):
    NAME = "child_benefit"
    GUARANTEE = "children"
    DESCRIPTION = "Child benefit for an age band, universal or targeted."
    REFERENCE = "R202 para. 5(b), 8(b), 9(1)"
    PARAMETERS = params(*_common(0, 14, 12.0, "children"))


class MaternityBenefit(NonContributoryBenefit):
    NAME = "maternity_benefit"
    GROUP = "uninsured_mothers"
    GUARANTEE = "maternity"
    DESCRIPTION = ("Cash benefit for mothers of newborns not covered by a contributory "
                   "scheme, paid for a number of months after the birth.")
    REFERENCE = "R202 para. 5(a), 5(c); ILC 2021 para. 13(f)"
    PARAMETERS = params(*_common(0, 100, 4.0, "maternity"))


class DisabilityBenefit(NonContributoryBenefit):
    NAME = "disability_benefit"
    GROUP = "disabled"
    GUARANTEE = "disability"
    DESCRIPTION = ("Benefit for persons with a severe disability (prevalence by age and sex "
                   "from the assumption set's disability table).")
    REFERENCE = "R202 para. 5(c), 9(1)"
    PARAMETERS = params(*_common(0, 100, 12.0, "disability"))


class SocialPension(NonContributoryBenefit):
    NAME = "social_pension"
    GUARANTEE = "old_age"
    DESCRIPTION = ("Social pension from an age: universal, pension-tested (only those "
                   "without a contributory pension), a top-up of contributory pensions "
                   "to the benefit level, or tested on the household's income (micro engine "
                   "with families and a [poverty] section).")
    REFERENCE = "R202 para. 5(d), 8(b), 9(2)"
    PARAMETERS = params(
        *_common(65, 100, 12.0, "old_age"),
        ParamSpec("means_test", "choice",
                  "'none' (universal), 'pension_tested' (only those without a contributory "
                  "pension), 'top_up' (everybody receives benefit minus their contributory "
                  "pension, when positive) or 'household' (the full benefit to each older "
                  "person whose household's income per equivalent adult, before this "
                  "pension, is below household_threshold x the benefit; target_share and "
                  "the targeting errors are then not used: the test decides).",
                  kind="choice",
                  choices=("none", "pension_tested", "top_up", "household"), default="none",
                  reference="R202 para. 5(d), 9(2)"),
        ParamSpec("household_threshold", "multiple of the annual benefit",
                  "With means_test 'household': the household income per equivalent adult "
                  "(earnings, contributory pensions and insurance benefits, the floor's "
                  "other cash benefits; the model's [poverty] equivalence scale) below "
                  "which the pension is paid, as a multiple of the year's benefit.",
                  low=0.0, default=1.0, reference="R202 para. 8(b)"),
    )

    @classmethod
    def group(cls, choices):
        return "without_pension" if choices.get("means_test") == "pension_tested" else "all"

    @classmethod
    def is_top_up(cls, choices):
        return choices.get("means_test") == "top_up"

    @classmethod
    def household_test(cls, choices):
        return THRESHOLD if choices.get("means_test") == "household" else None


class SocialAssistance(NonContributoryBenefit):
    NAME = "social_assistance"
    GUARANTEE = "working_age"
    DESCRIPTION = ("Social assistance or public employment for working-age people unable to "
                   "earn: a share of a target group x level x months.")
    REFERENCE = "R202 para. 5(c), 9(1), 9(2)"
    PARAMETERS = params(
        *_common(18, 64, 12.0, "working_age"),
        ParamSpec("target_group", "choice",
                  "Group the beneficiaries are drawn from: 'unemployed', 'all' (everybody in "
                  "the age band, e.g. poor households) or 'disabled'.", kind="choice",
                  choices=("unemployed", "all", "disabled"), default="unemployed"),
    )

    @classmethod
    def group(cls, choices):
        return choices.get("target_group", "unemployed")


class HealthCare(NonContributoryBenefit):
    NAME = "health_care"
    GUARANTEE = "health"
    DESCRIPTION = ("Essential health care: cost per person covered by age and sex x "
                   "population coverage, with cost growth above the level's indexation.")
    REFERENCE = "R202 para. 5(a), 8(a)"
    PARAMETERS = params(
        *_common(0, 100, 12.0, "health"),
        ParamSpec("relative_cost_under5", "multiple of the cost at ages 5-64",
                  "Cost per child under 5 relative to the benefit level.", low=0.0,
                  default=1.0, by_sex=True),
        ParamSpec("relative_cost_65plus", "multiple of the cost at ages 5-64",
                  "Cost per person aged 65 or more relative to the benefit level.", low=0.0,
                  default=1.0, by_sex=True),
        ParamSpec("excess_cost_growth", "fraction per year",
                  "Growth of the cost per person above the level's own indexation (medical "
                  "inflation, utilisation), compounding from the base year.", low=-0.5,
                  high=0.5, default=0.0),
    )


class MinimumIncome(NonContributoryBenefit):
    """A guaranteed minimum income, tested on the household's income.

    A household whose reference person is in the age band and takes the scheme up (a
    persistent draw, as every take-up) receives what lifts its income to the guaranteed
    level: ``benefit`` x basis x its equivalence scale (the model's [poverty] scale) less
    its counted income, when positive. Counted income: the members' earnings less the
    ``earnings_disregard`` share, their contributory pensions and insurance benefits and
    every other cash benefit of the floor. One beneficiary per household, counted at the
    reference person's age and sex.
    """

    NAME = "minimum_income"
    GUARANTEE = "working_age"
    DESCRIPTION = ("Guaranteed minimum income for households (social assistance of last "
                   "resort): tops the household's income up to a level per equivalent "
                   "adult. Micro engine with families and a [poverty] section only.")
    REFERENCE = "R202 para. 4, 5(c), 8(b), 9(3)"
    PARAMETERS = params(
        age_limit("min_age", 18, "Youngest age of the household's reference person."),
        age_limit("max_age", 100, "Oldest age of the household's reference person (100 = "
                  "no upper limit)."),
        ParamSpec("benefit", "currency per equivalent adult per year, or fraction of the "
                  "annual basis",
                  "Guaranteed income per equivalent adult: currency per year when "
                  "benefit_basis is 'currency' (may be indexed), else a fraction of the "
                  "annual poverty line or GDP per capita.", low=0.0, indexable=True,
                  reference="R202 para. 8(b)"),
        ParamSpec("benefit_basis", "choice",
                  "What the level is stated in: 'currency', 'poverty_line' or "
                  "'gdp_per_capita'.", kind="choice", choices=BASES,
                  default="poverty_line", reference="R202 para. 8(b)"),
        ParamSpec("take_up", "fraction",
                  "Share of the households entitled who claim and receive it.", low=0.0,
                  high=1.0, default=1.0, reference="R202 para. 5(c)"),
        ParamSpec("earnings_disregard", "fraction",
                  "Share of the household's earnings the means test does not count (a "
                  "work incentive).", low=0.0, high=1.0, default=0.0,
                  reference="R202 para. 9(3)"),
        ADMIN_COST_RATE,
    )

    @classmethod
    def household_test(cls, choices):
        return GUARANTEE


NON_CONTRIBUTORY_TYPES = (UniversalBenefit, ChildBenefit, MaternityBenefit, DisabilityBenefit,
                          SocialPension, SocialAssistance, HealthCare, MinimumIncome)
