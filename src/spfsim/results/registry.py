"""The results contract as data: every variable of the results Dataset with its dimensions,
units, long name and, where the CF standard-name table has one, its standard name.

This module imports nothing from spfsim: any layer may read it, as it reads a schema. The
assembly (:mod:`spfsim.results.assemble`) gives each variable its attrs from here, the
indicators build their variables from here, and the tests check every projection's
variables against it.

Units and long names are templates, filled from a projection's context (:func:`context`):
``{money}`` the model's currency at current prices ("LCU (nominal)"), ``{currency}``,
``{base_year}``, ``{end_year}``, ``{entry_age}``, ``{working_ages}`` ("15-64"), ``{over}``
(the sustainability horizon, "over 75 years (2025-2099)") and ``{period}`` (the scaled
premium's period, years).

Units follow the project's conventions (docs/results.md): money in currency units, persons,
fractions for rates, "years", "1", "1 per year"; the last three are UDUNITS units, the
others ("fraction", "persons", currency, "calendar year", "years of age") are not, and stay
as the workbook and the docs print them. No variable has a CF standard name today: the CF
table holds none for demographic, economic or actuarial quantities; ``standard_name`` is
there for the day one applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from string import Formatter
from typing import TYPE_CHECKING

from .variables_analysis import ANALYSIS_VARIABLES
from .variables_projection import PROJECTION_VARIABLES
from .variables_stochastic import STOCHASTIC_VARIABLES

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "CONTRACT_DIMS",
    "CONVENTIONS",
    "COORDINATES",
    "REGISTRY",
    "STOCHASTIC_REGISTRY",
    "UNDEFINED",
    "VariableSpec",
    "attrs_for",
    "check_single_projection",
    "context",
    "horizon_phrase",
    "spec",
    "variable",
    "variables",
]

#: The CF conventions the results Dataset follows (its ``Conventions`` attr).
CONVENTIONS = "CF-1.10"

#: Every dimension of a single projection's Dataset; any other (``scenario``, ``draw``)
#: means a batch of projections.
CONTRACT_DIMS = ("year", "age", "sex", "scheme", "service", "status", "birth_cohort",
                 "quantile", "guarantee", "branch", "pension", "payer", "cohort", "gap",
                 "financing_method", "flow", "payment", "family_status", "family_event",
                 "household_size", "income_stage", "age_group")


@dataclass(frozen=True)
class VariableSpec:
    """One variable of the contract; ``units`` and ``long_name`` are templates."""

    name: str
    dims: tuple[str, ...]
    units: str
    long_name: str
    standard_name: str | None = None

    @property
    def fields(self) -> frozenset[str]:
        """The context fields its templates use."""
        return frozenset(field for text in (self.units, self.long_name)
                         for _, field, _, _ in Formatter().parse(text) if field)

    def attrs(self, context: Mapping[str, object]) -> dict[str, str]:
        """``units``, ``long_name`` (and ``standard_name``) filled from ``context``."""
        missing = sorted(self.fields - set(context))
        if missing:
            raise KeyError(f"{self.name}: its attrs need {', '.join(missing)}")
        out = {"units": self.units.format_map(context),
               "long_name": self.long_name.format_map(context)}
        if self.standard_name:
            out["standard_name"] = self.standard_name
        return out


def _registry(*families: Iterable[tuple[str, str, str, str]]) -> dict[str, VariableSpec]:
    out: dict[str, VariableSpec] = {}
    for family in families:
        for name, dims, units, long_name in family:
            if name in out:
                raise ValueError(f"{name} is registered twice")
            out[name] = VariableSpec(name, tuple(dims.split()), units, long_name)
    return out


#: Every coordinate of the results Dataset: its attrs (CF: a long name, units where the
#: values have them).
COORDINATES: dict[str, dict[str, str]] = {
    "year": {"long_name": "calendar year"},
    "age": {"long_name": "age in completed years at 1 July", "units": "years"},
    "sex": {"long_name": "sex"},
    "scheme": {"long_name": "scheme id in the model file"},
    "scheme_name": {"long_name": "name of the scheme"},
    "scheme_type": {"long_name": "type of the scheme (its rules)"},
    "scheme_kind": {"long_name": "contributory or non-contributory scheme"},
    "scheme_guarantee": {"long_name": "R202 para. 5 guarantee the scheme serves"},
    "service": {"long_name": "credited years of service", "units": "years"},
    "payer": {"long_name": "payer of the contributions"},
    "gap": {"long_name": "indicator of the gender gap"},
    "branch": {"long_name": "branch of a contributory pension"},
    "pension": {"long_name": "kind of pension of a contributory pension scheme"},
    "payment": {"long_name": "form of payment: periodic benefits or lump sums"},
    "guarantee": {"long_name": "R202 para. 5 guarantee (any_cash: SDG 1.3.1, any cash "
                               "benefit or contributing)"},
    "financing_method": {"long_name": "financing method of the contributions"},
    "cohort": {"long_name": "birth year of the cohort"},
    "birth_cohort": {"long_name": "first birth year of the 5-year birth cohort"},
    "quantile": {"long_name": "quantile of the distribution within the birth cohort and sex",
                 "units": "1"},
    "status": {"long_name": "labour and pension status of simulated persons"},
    "flow": {"long_name": "lifetime flow: contributions, benefits paid in the projection, "
                          "benefits after it"},
    "family_status": {"long_name": "family situation of simulated persons"},
    "family_event": {"long_name": "family event of simulated persons during the year"},
    "household_size": {"long_name": "members of the household (the last: that many or more)",
                       "units": "persons"},
    "income_stage": {"long_name": "household income: market income (before transfers), "
                                  "after the contributory transfers (before the floor's), "
                                  "disposable (after all transfers)"},
    "age_group": {"long_name": "age group at 1 July: children, working age, older persons"},
}

#: Every variable of the results Dataset, by name.
REGISTRY: dict[str, VariableSpec] = _registry(PROJECTION_VARIABLES, ANALYSIS_VARIABLES)
#: The variables a stochastic projection adds (its others are REGISTRY's along ``draw``).
STOCHASTIC_REGISTRY: dict[str, VariableSpec] = _registry(STOCHASTIC_VARIABLES)


_NO_AWARDS = "a year and sex without new awards"
_NO_FUND = "a scheme without a fund or without insured earnings"
_NO_ENVELOPE = "no fiscal envelope in the model"
_NO_PERSONS = "a birth cohort without such simulated persons"

#: The variables that may hold NaN, and when: a value that is not defined (a share of an
#: empty group, a ratio to nothing, a year that never comes). Any other variable holding
#: NaN, and any variable holding an infinity, is a defect (spfsim.checks refuses it before
#: a projection is returned or written).
UNDEFINED: dict[str, str] = {
    "average_benefit": "a year without beneficiaries",
    "average_benefit_by_sex": "a year and sex without beneficiaries",
    "benefit_to_poverty_line": "no poverty line in the model, or no beneficiaries",
    "cost_to_revenue": "no government revenue in the model",
    "cost_to_revenue_by_guarantee": "no government revenue in the model",
    "government_revenue": "no government revenue in the model",
    "poverty_line": "no poverty line in the model",
    "poverty_rate": "an age group and sex without simulated persons",
    "poverty_gap_closed_by_floor": "no poverty gap before the floor's transfers",
    "median_equivalised_income": "no household measured",
    "gini_equivalised_income": "no household income at the stage (no market income)",
    "average_new_benefit": _NO_AWARDS,
    "credited_years_at_award": _NO_AWARDS,
    "contribution_density_at_award": _NO_AWARDS,
    "replacement_rate_new": _NO_AWARDS + ", or no covered worker of that age",
    "benefit_ratio": "no pension in payment or no contributors",
    "replacement_rate_by_sex": "no benefit in payment or no contributors of the sex",
    "average_insured_earnings_by_sex": "not reported by sex, or no contributors of the sex",
    "contributor_coverage_by_sex": "a scheme without contributors",
    "coverage_rate": "an empty target group",
    "coverage_rate_by_sex": "an empty target group",
    "gender_gap": "the men's value is 0 or not defined",
    "paygo_cost_rate": "a scheme without insured earnings",
    "paygo_cost_rate_by_payment": "a scheme without insured earnings",
    "reserve_ratio": "a scheme without a fund",
    "reserve_ratio_by_method": "a scheme without a fund",
    "trust_fund_ratio": "a scheme without a fund or without expenditure",
    "payable_share": _NO_FUND,
    "scaled_premium": _NO_FUND,
    "general_average_premium": _NO_FUND,
    "summarized_income_rate": _NO_FUND,
    "summarized_cost_rate": _NO_FUND,
    "actuarial_balance": _NO_FUND,
    "unfunded_obligation": _NO_FUND,
    "depletion_year": "no depletion within the horizon, or no fund",
    "fiscal_envelope": _NO_ENVELOPE,
    "financing_gap": _NO_ENVELOPE,
    "financing_gap_to_gdp": _NO_ENVELOPE,
    "cohort_irr": "no rate of return exists (no contributions or no benefits)",
    "money_worth_ratio": "no contributions (or too little to divide by)",
    "tail_age": "no benefit continued for life",
    "money_worth_ratio_by_person": _NO_PERSONS,
    "net_transfer_by_person": _NO_PERSONS,
    "lifetime_contributions_at_death": _NO_PERSONS,
    "lifetime_benefits_at_death": _NO_PERSONS,
}


def spec(name: str) -> VariableSpec:
    """The contract of ``name``; KeyError names the variable when it is not registered."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"{name!r} is not in the results registry "
                       "(spfsim.results.registry)") from None


def attrs_for(name: str, **context: object) -> dict[str, str]:
    """The attrs of variable ``name`` in a projection with ``context``."""
    return spec(name).attrs(context)


def variable(name: str, data, **context: object) -> xr.Variable:
    """An ``xarray.Variable`` of ``name``: its registered dims, ``data`` and attrs."""
    import numpy as np
    import xarray as xr

    s = spec(name)
    return xr.Variable(s.dims, np.asarray(data), attrs=s.attrs(context))


def variables(context: Mapping[str, object], **data) -> dict[str, xr.Variable]:
    """:func:`variable` of each ``name=data``, with the attrs filled from ``context``."""
    return {name: variable(name, values, **context) for name, values in data.items()}


def context(currency: str, base_year: int, end_year: int, **extra: object) -> dict[str, object]:
    """The template fields of a projection in ``currency`` from ``base_year`` to
    ``end_year``; ``extra`` adds or replaces fields."""
    return {"money": f"{currency} (nominal)", "currency": currency,
            "base_year": int(base_year), "end_year": int(end_year), **extra}


def horizon_phrase(first_year: int, horizon: int) -> str:
    """The ``{over}`` field: the sustainability measures' horizon in words."""
    return f"over {horizon} years ({first_year}-{first_year + horizon - 1})"


def check_single_projection(ds: xr.Dataset, required: Iterable[str], user: str) -> None:
    """Raise ValueError unless ``ds`` is one projection holding the ``required`` variables.

    ``user`` names what needs them ("the report", "the figure") for the message.
    """
    missing = [v for v in required if v not in ds.data_vars]
    if missing:
        raise ValueError(f"the Dataset lacks variables {user} needs: {', '.join(missing)}")
    if "year" not in ds.dims or ds.sizes["year"] == 0:
        raise ValueError("the Dataset has no years")
    extra = sorted(str(d) for d in ds.dims if d not in CONTRACT_DIMS)
    if extra:
        raise ValueError(
            f"{user} takes one projection; select along {', '.join(extra)} first "
            f"(e.g. ds.sel({extra[0]}=...) or ds.mean({extra[0]!r}))")
