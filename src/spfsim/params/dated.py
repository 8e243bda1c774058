"""Parameters whose values change over time, and their indexation.

A parameter is written in ``model.toml`` in one of these forms::

    accrual_rate = 0.015                                   # constant
    contribution_rate = { 2025 = 0.11, 2035 = 0.13 }       # values by effective year
    minimum_pension = { value = 6000, indexation = "prices" }
    benefit = { values = { 2025 = 3600, 2030 = 4800 }, indexation = { prices = 0.5, wages = 0.5 } }
    retirement_age = { male = { 2025 = 60, 2030 = 62 }, female = 60 }   # by sex

A value holds from its effective year until the next one. An indexed amount is uprated every
year after its effective year: ``value(t) = V(e) * I(t) / I(e)``, ``e`` the latest effective
year <= t and ``I`` the index named by ``indexation`` (OpenFisca-style dated values with
declared uprating). Everything is compiled once, at load time, to per-year arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ProblemLog
from .tables import SEXES

INDEX_SERIES = ("prices", "wages")


@dataclass(frozen=True)
class Indexation:
    """A weighted mix of index series; empty weights = no indexation.

    The mix applies to growth rates: g(t) = sum_k w_k g_k(t), as most pension laws write a
    mixed (e.g. Swiss-style 50/50 prices-wages) index. With a ``lag`` of L years an amount
    grows in year t as the index grew in year t - L (the US taxable maximum and bend points
    of year t follow the average wage index of year t - 2, Social Security Act secs. 230,
    215(a)(1)(B)); the years before the first take the first year's growth.
    """

    weights: tuple[tuple[str, float], ...] = ()
    lag: int = 0

    def growth(self, series_growth: dict[str, np.ndarray], n_years: int) -> np.ndarray:
        """Growth rate of the index in each year (fraction per year)."""
        total = np.zeros(n_years)
        for name, weight in self.weights:
            total = total + weight * series_growth[name]
        if self.lag and n_years:
            total = total[np.clip(np.arange(n_years) - self.lag, 0, None)]
        return total

    def describe(self) -> str:
        if not self.weights:
            return "none"
        mix = " + ".join(f"{w:g} x {name}" for name, w in self.weights)
        return mix + (f", {self.lag} years before" if self.lag else "")


@dataclass(frozen=True)
class ParamSpec:
    """What a scheme parameter means and which values it accepts.

    ``kind``: "number" (a dated value, possibly indexed and by sex), "indexation", or
    "choice" (one of ``choices``, fixed over the projection: a rule variant, not a level).
    ``unit`` is documentation for users and the report; ``reference`` the R202 / ILC 2021
    paragraph or actuarial source the parameter serves.
    """

    name: str
    unit: str
    description: str
    kind: str = "number"
    low: float = -math.inf
    high: float = math.inf
    default: object = None
    by_sex: bool = False
    indexable: bool = False
    integer: bool = False
    # years of age in whole months: a whole number of years plus a multiple of 1/12
    months: bool = False
    dated: bool = True  # False: a single number, not values by effective year
    reference: str = ""
    choices: tuple[str, ...] = ()  # the accepted values of a "choice" parameter

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass
class DatedValue:
    """Values by effective year, with optional indexation, for one sex or both."""

    values: dict[int, float]
    indexation: Indexation = field(default_factory=Indexation)

    def at(self, year: int) -> float:
        """The value given for ``year`` before any indexation (the step function)."""
        effective = [e for e in self.values if e <= year]
        return self.values[max(effective) if effective else min(self.values)]

    def compile(self, years: np.ndarray, series_growth: dict[str, np.ndarray]) -> np.ndarray:
        """Per-year array; uprated by the indexation from each effective year.

        ``series_growth[name][k]`` is the growth of index ``name`` during ``years[k]``.
        An effective year before the first projection year counts from that first year.
        """
        effective = sorted(self.values)
        out = np.empty(len(years))
        growth = self.indexation.growth(series_growth, len(years))
        level = np.cumprod(1.0 + growth)  # index level, any base: only ratios are used
        for k, year in enumerate(years):
            eff = max((e for e in effective if e <= year), default=effective[0])
            base = self.values[eff]
            if self.indexation.weights and eff < year:
                k0 = int(np.searchsorted(years, eff)) if eff >= years[0] else 0
                base = base * level[k] / level[k0]
            out[k] = base
        return out


def parse_indexation(raw: object, where: str, file: str, log: ProblemLog) -> Indexation | None:
    """Parse 'none' | 'prices' | 'wages' | {prices = a, wages = b} (weights summing to 1)."""
    if isinstance(raw, str):
        if raw == "none":
            return Indexation()
        if raw in INDEX_SERIES:
            return Indexation(((raw, 1.0),))
        log.add(file, where, f"unknown indexation; use 'none', {list(INDEX_SERIES)} or a mix "
                "such as {{prices = 0.5, wages = 0.5}}", None, raw)
        return None
    if isinstance(raw, dict) and raw:
        weights = []
        for name, weight in raw.items():
            if name not in INDEX_SERIES:
                log.add(file, f"{where}.{name}", f"unknown index series; known: {INDEX_SERIES}",
                        None, name)
                return None
            if not _is_number(weight) or not 0.0 <= weight <= 1.0:
                log.add(file, f"{where}.{name}", "weight must be a number in [0, 1]", None,
                        weight)
                return None
            weights.append((name, float(weight)))
        total = sum(w for _, w in weights)
        if abs(total - 1.0) > 1e-9:
            log.add(file, where, "indexation weights must sum to 1", None, total)
            return None
        return Indexation(tuple(weights))
    log.add(file, where, "indexation must be a name or a table of weights", None, raw)
    return None


MAX_INDEXATION_LAG = 10


def _parse_lag(raw: object, indexed: bool, where: str, file: str, log: ProblemLog
               ) -> int | None:
    """An indexation lag: whole years from 0 to MAX_INDEXATION_LAG, with an indexation."""
    if not indexed:
        log.add(file, where, "an indexation lag needs an 'indexation'", None, raw)
        return None
    if (not _is_number(raw) or not float(raw).is_integer()
            or not 0 <= raw <= MAX_INDEXATION_LAG):
        log.add(file, where, f"must be whole years from 0 to {MAX_INDEXATION_LAG}", None, raw)
        return None
    return int(raw)


def parse_choice(spec: ParamSpec, raw: object, where: str, file: str,
                 log: ProblemLog) -> str | None:
    """A "choice" parameter: one of ``spec.choices``."""
    if isinstance(raw, str) and raw in spec.choices:
        return raw
    log.add(file, where, f"expected one of {list(spec.choices)}", None, raw)
    return None


# a value 1/200 of a month from a multiple of 1/12 (66.1667 for 66 years 2 months) is
# that multiple: a model file writes such values with four decimals
MONTHS_TOLERANCE = 0.005


def whole_months(years: float) -> int:
    """An age in years (a multiple of 1/12 within MONTHS_TOLERANCE of a month) in months."""
    return round(float(years) * 12)


def is_whole_months(years: float) -> bool:
    """Whether an age in years is whole months (within MONTHS_TOLERANCE of a month)."""
    return abs(float(years) * 12 - whole_months(years)) <= MONTHS_TOLERANCE


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_parameter(spec: ParamSpec, raw: object, where: str, file: str, log: ProblemLog,
                    first_year: int) -> dict[str, DatedValue] | None:
    """Parse a number parameter into {sex: DatedValue} ('all' when not by sex)."""
    if spec.by_sex and isinstance(raw, dict) and set(raw) & set(SEXES):
        unknown = set(raw) - set(SEXES)
        if unknown or set(raw) != set(SEXES):
            log.add(file, where, "a by-sex value needs exactly the keys 'male' and 'female'",
                    None, sorted(raw))
            return None
        parsed = {s: _parse_dated(spec, raw[s], f"{where}.{s}", file, log, first_year)
                  for s in SEXES}
        return None if any(v is None for v in parsed.values()) else parsed
    value = _parse_dated(spec, raw, where, file, log, first_year)
    if value is None:
        return None
    return dict.fromkeys(SEXES, value) if spec.by_sex else {"all": value}


def _parse_dated(spec, raw, where, file, log, first_year) -> DatedValue | None:
    indexation = Indexation()
    if isinstance(raw, dict) and ("value" in raw or "values" in raw):
        extra = set(raw) - {"value", "values", "indexation", "indexation_lag"}
        if extra or ("value" in raw and "values" in raw):
            log.add(file, where, "expected keys 'value' or 'values', and 'indexation' "
                    "(with 'indexation_lag')", None, sorted(raw))
            return None
        if "indexation" in raw:
            if not spec.indexable:
                log.add(file, f"{where}.indexation", "this parameter cannot be indexed", None,
                        raw["indexation"])
                return None
            parsed = parse_indexation(raw["indexation"], f"{where}.indexation", file, log)
            if parsed is None:
                return None
            indexation = parsed
        if "indexation_lag" in raw:
            lag = _parse_lag(raw["indexation_lag"], "indexation" in raw,
                             f"{where}.indexation_lag", file, log)
            if lag is None:
                return None
            indexation = Indexation(indexation.weights, lag)
        raw = raw["value"] if "value" in raw else raw["values"]
    if _is_number(raw):
        values = {first_year: raw}
    elif not spec.dated:
        log.add(file, where, f"expected a single number ({spec.unit})", None, raw)
        return None
    elif isinstance(raw, dict) and raw:
        values = {}
        for key, value in raw.items():
            try:
                year = int(key)
            except ValueError:
                log.add(file, f"{where}.{key}", "effective years must be whole numbers", None,
                        key)
                return None
            values[year] = value
        if min(values) > first_year:
            log.add(file, where, f"the first effective year must be <= the base year "
                    f"{first_year}", None, min(values))
            return None
    else:
        log.add(file, where, f"expected a number, values by year, or a by-sex table "
                f"({spec.unit})", None, raw)
        return None
    ok = True
    for year, value in values.items():
        reason = _check_number(spec, value)
        if reason:
            log.add(file, f"{where}" if len(values) == 1 else f"{where}.{year}", reason, None,
                    value)
            ok = False
    return DatedValue({y: float(v) for y, v in values.items()}, indexation) if ok else None


def _check_number(spec: ParamSpec, value: object) -> str | None:
    if not _is_number(value):
        return f"must be a number ({spec.unit})"
    if not math.isfinite(value):
        return "must be finite"
    if spec.integer and not float(value).is_integer():
        return "must be a whole number"
    if spec.months and not is_whole_months(value):
        return ("must be years and whole months: a multiple of 1/12 "
                f"(the nearest is {whole_months(value) / 12:.4f})")
    if not spec.low <= value <= spec.high:
        return f"must be between {spec.low:g} and {spec.high:g} ({spec.unit})"
    return None
