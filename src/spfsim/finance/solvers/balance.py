"""The actuarial balance of one scheme from a projection Dataset, and a ``schedule ->
balance`` callable that re-projects a model with a scheme's pensionable age changed.

Analysis reads the results Dataset and calls what it is given: :class:`ModelBalance` takes a
callable ``parameters -> Dataset`` (a model projected with one scheme's parameters replaced
in memory, e.g. :meth:`spfsim.Model.parameter_projection`), never the model itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..measures import (
    committed_transfers,
    initial_reserves,
    opening_reserve,
    valuation_offset,
    valuation_start,
)
from ..sustainability import SummarizedRates, summarized_rates
from .retirement import Schedule

if TYPE_CHECKING:
    import xarray as xr

#: Scheme parameters (as in a model file) -> the projection with them.
Projection = Callable[[Mapping[str, Any]], "xr.Dataset"]


def scheme_balance(ds: xr.Dataset, scheme_id: str, horizon: int = 75,
                   ending_target_years: float = 1.0) -> SummarizedRates:
    """Summarized rates and actuarial balance of one scheme from a projection Dataset.

    Uses the scheme's ``contribution_income`` + committed state transfers (non-interest
    income; a deficit cover is not counted:
    :func:`spfsim.finance.measures.committed_transfers`),
    ``benefit_expenditure``, ``admin_expenditure``, ``insured_earnings`` (currency per year)
    and the Dataset's ``interest_rate`` (fraction per year) from the start of the valuation
    period (:func:`spfsim.finance.measures.valuation_start`), with the reserve at that start
    (at the start of the first year, from the fund identity:
    :func:`spfsim.finance.measures.initial_reserves`). The horizon is clipped to the
    projection's length (the result's ``horizon`` field holds the one used). See
    :func:`spfsim.finance.summarized_rates`.
    """
    scheme = ds.sel(scheme=scheme_id)
    values = {name: np.asarray(scheme[name].values, dtype=float)
              for name in ("contribution_income", "benefit_expenditure",
                           "admin_expenditure", "insured_earnings")}
    values["committed_transfers"] = committed_transfers(scheme)
    for name, array in values.items():
        if array.ndim != 1:
            raise ValueError(f"{name} of scheme {scheme_id!r} must have the dimension year "
                             f"only, got shape {array.shape}")
    start = valuation_offset(ds["year"].values, valuation_start(ds))
    initial = opening_reserve(np.asarray(scheme["reserve"].values, dtype=float),
                              initial_reserves(ds)[list(ds["scheme"].values).index(scheme_id)],
                              start)
    values = {name: array[start:] for name, array in values.items()}
    income = values["contribution_income"] + values["committed_transfers"]
    return summarized_rates(income, values["benefit_expenditure"], values["admin_expenditure"],
                            values["insured_earnings"],
                            np.asarray(ds["interest_rate"].values, dtype=float)[start:],
                            initial, horizon=min(int(horizon), income.size),
                            ending_target_years=ending_target_years)


def _toml_ages(path: Mapping[int, int]) -> str:
    return "{ " + ", ".join(f"{int(y)} = {int(a)}" for y, a in sorted(path.items())) + " }"


@dataclass
class ModelBalance:
    """A callable ``schedule -> actuarial balance`` of one scheme, for
    :func:`~spfsim.finance.retirement_age_path`.

    ``project``: scheme parameters -> projection Dataset (one projection per call; e.g.
    ``model.parameter_projection(scheme_id)``); ``base_year``: the model's base year (a
    schedule's first effective year is moved back to it). For a schedule (calendar year ->
    age, or by sex) it projects with the scheme's ``retirement_age`` set to it
    (:meth:`parameters`) and returns :func:`scheme_balance` (fraction of payroll) over
    ``horizon`` years. ``notes`` records what the caller should know (a horizon clipped to
    the projection); ``evaluations`` every schedule and its :class:`SummarizedRates`.
    """

    project: Projection
    scheme_id: str
    base_year: int
    horizon: int = 75
    ending_target_years: float = 1.0
    notes: list[str] = field(default_factory=list)
    evaluations: list[tuple[Schedule, SummarizedRates]] = field(default_factory=list)

    def parameters(self, schedule: Schedule) -> dict[str, Any]:
        """The scheme parameters that set ``retirement_age`` to ``schedule`` (calendar
        years, by sex; an int schedule applies to both sexes), as a model file writes them.
        The first effective year is moved back to the base year when later (parameters give
        every year from the base year on, and the first age holds before the next effective
        year anyway)."""
        by_sex = schedule if isinstance(next(iter(schedule.values())), Mapping) else {
            "male": schedule, "female": schedule}
        ages = {}
        for sex in ("male", "female"):
            path = {int(y): int(a) for y, a in sorted(by_sex[sex].items())}
            first = next(iter(path))
            if first > self.base_year:
                path = {self.base_year: path.pop(first), **path}
            ages[sex] = path
        return {"retirement_age_basis": "calendar_year", "retirement_age": ages}

    def reform_text(self, schedule: Schedule) -> str:
        """The reform file (TOML, docs/model-format.md, "Reforms") that sets the same
        parameters as :meth:`parameters`: to keep a solver's answer as a reform."""
        ages = self.parameters(schedule)["retirement_age"]
        parts = ", ".join(f"{sex} = {_toml_ages(path)}" for sex, path in ages.items())
        return ("[reform]\nname = \"retirement-age-solver\"\n"
                "title = \"Pensionable age path tried by spfsim.finance.retirement_age_path\"\n"
                "description = \"Written by spfsim.finance.ModelBalance.reform_text.\"\n\n"
                f"[schemes.{self.scheme_id}.parameters]\n"
                "retirement_age_basis = \"calendar_year\"\n"
                f"retirement_age = {{ {parts} }}\n")

    def __call__(self, schedule: Schedule) -> float:
        ds = self.project(self.parameters(schedule))
        rates = scheme_balance(ds, self.scheme_id, self.horizon, self.ending_target_years)
        if rates.horizon < self.horizon:
            note = (f"horizon {self.horizon} years clipped to the projection's "
                    f"{rates.horizon} years")
            if note not in self.notes:
                self.notes.append(note)
        self.evaluations.append((schedule, rates))
        return rates.actuarial_balance


class _ChangesParameters(Protocol):
    """What :func:`model_balance_of` needs of a model (:class:`spfsim.Model` has it)."""

    @property
    def years(self) -> np.ndarray: ...

    def parameter_projection(self, scheme_id: str) -> Projection: ...


def model_balance_of(model: _ChangesParameters, scheme_id: str, horizon: int = 75,
                     ending_target_years: float = 1.0) -> ModelBalance:
    """A :class:`ModelBalance` for ``model`` (a baseline :class:`spfsim.Model`): each call
    projects the model with the cohort engine, ``scheme_id``'s ``retirement_age`` changed in
    memory (:meth:`spfsim.Model.parameter_projection`), and returns the scheme's actuarial
    balance over ``horizon`` years (clipped to the projection, noted in ``notes``)."""
    return ModelBalance(model.parameter_projection(scheme_id), scheme_id,
                        int(model.years[0]), int(horizon), float(ending_target_years))
