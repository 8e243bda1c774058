"""Benefit levels of the rapid SPF costing: who is eligible, how much, and where it comes from.

The benefits cost the basic social security guarantees of ILO Recommendation No. 202,
Paragraph 5: (a) essential health care (``health``), (b) income security for children
(``child``), (c) income security in active age (``maternity``, ``disability`` and the optional
``working_age_poor``) and (d) income security for older persons (``old_age``). Levels tied to
the poverty line follow R202 Paragraph 8(b).

The defaults ship in ``default_levels.toml`` beside this module (after Ortiz et al. 2017, ILO
ESS Working Paper No. 58; each parameter cites its source there). A user's levels file has the
same layout and overrides any entry; every value is checked for its type and range, and every
problem is reported with the file, the field (``child.level``) and the value.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ProblemLog
from ..params.dated import ParamSpec, parse_choice, parse_parameter
from ..params.model_file import _read_toml, toml_line_finder
from ..schemes import noncontributory as nc
from ..schemes.base import ADMIN_COST_RATE

__all__ = [
    "BASES",
    "BENEFITS",
    "DEFAULT_LEVELS_FILE",
    "PARAMETERS",
    "Benefit",
    "BenefitSpec",
    "Levels",
    "default_levels",
    "load_levels",
    "valid_range",
]

DEFAULT_LEVELS_FILE = Path(__file__).with_name("default_levels.toml")
MAX_AGE = 100
POVERTY_HEADCOUNT = "poverty_headcount"


@dataclass(frozen=True)
class BenefitSpec:
    """What a benefit is (fixed): its R202 guarantee and whom its target population counts."""

    id: str
    name: str
    guarantee: str  # R202 Paragraph 5 clause, e.g. "5(b)"
    target: str  # "population" (persons by age and sex) or "births" (live births of the year)


BENEFITS: dict[str, BenefitSpec] = {
    spec.id: spec for spec in (
        BenefitSpec("child", "Child benefit", "5(b)", "population"),
        BenefitSpec("maternity", "Maternity benefit", "5(c)", "births"),
        BenefitSpec("disability", "Disability benefit", "5(c)", "population"),
        BenefitSpec("working_age_poor", "Working-age poor benefit", "5(c)", "population"),
        BenefitSpec("old_age", "Old-age pension", "5(d)", "population"),
        BenefitSpec("health", "Essential health care", "5(a)", "population"),
    )
}

#: basis -> (unit of ``level``, upper bound of ``level``)
BASES: dict[str, tuple[str, float]] = {
    "poverty_line": ("multiple of the poverty line", 20.0),
    "gdp_per_capita": ("share of GDP per capita", 1.0),
    "ppp_dollars_per_month": ("international $ (2021 PPP) per month", 1e6),
}


def _number(name: str, unit: str, description: str, low: float, high: float = math.inf,
            reference: str = "", **extra: Any) -> ParamSpec:
    """A levels-file number: a single value (not dated), bounds inclusive."""
    return ParamSpec(name, unit, description, low=low, high=high, dated=False,
                     reference=reference, **extra)


#: The levels-file parameters, declared as the scheme library declares its own
#: (:class:`~spfsim.params.dated.ParamSpec`: unit, meaning, valid values, reference). A
#: ``choice`` takes one of ``choices`` (``enabled``: true or false); ``prevalence`` is a
#: number or ``"poverty_headcount"``.
PARAMETERS: dict[str, ParamSpec] = {
    p.name: p for p in (
        ParamSpec("enabled", "true/false", "cost this benefit", kind="choice",
                  choices=("true", "false")),
        _number("age_min", "years (completed, at 1 July)", "first age of the target group",
                0, MAX_AGE, integer=True),
        _number("age_max", "years (completed, at 1 July)",
                "last age of the target group (100 = 100 and over)", 0, MAX_AGE,
                integer=True),
        ParamSpec("sex", "all | female | male", "sex of the target group", kind="choice",
                  choices=nc.SEX_CHOICES),
        _number("prevalence", "fraction of the age group",
                "share of the age group in the target population, or the country's share "
                "below $3 a day", 0.0, 1.0, "R202 para. 9(2)", choices=(POVERTY_HEADCOUNT,)),
        _number("coverage", "fraction of the target population",
                "share of the target population receiving the benefit", 0.0, 1.0),
        _number("level", "see basis", "benefit rate while paid, a multiple of the basis",
                0.0, max(high for _, high in BASES.values()), "R202 para. 8(b)"),
        ParamSpec("basis", "poverty_line | gdp_per_capita | ppp_dollars_per_month",
                  "what the level is a multiple of", kind="choice", choices=tuple(BASES),
                  reference="R202 para. 8(b)"),
        _number("months", "months per year (maternity: per birth)",
                "months for which the benefit is paid", 0.0, 12.0),
        _number("admin_share", "fraction of benefit expenditure",
                "administrative cost as a share of benefit expenditure", 0.0, 1.0,
                ADMIN_COST_RATE.reference),
    )
}


def valid_range(p: ParamSpec) -> str:
    """A parameter's valid values, as shown in the workbook and the docs."""
    parts = []
    if p.kind == "number":
        parts.append(f"{p.low:g} to {p.high:g}" if math.isfinite(p.high) else f">= {p.low:g}")
    if p.choices:
        parts.append(" | ".join(c if p.name == "enabled" else f'"{c}"' for c in p.choices))
    return " or ".join(parts)


_BY_AGE = ("age_min", "age_max", "sex", "prevalence")


def applicable(benefit_id: str) -> tuple[str, ...]:
    """The parameters a benefit takes, in :data:`PARAMETERS` order (maternity's target
    population is the births of the year: it takes no ages, sex or prevalence)."""
    births = BENEFITS[benefit_id].target == "births"
    return tuple(p for p in PARAMETERS if not (births and p in _BY_AGE))


@dataclass(frozen=True)
class Benefit:
    """One benefit's resolved parameters (units in :data:`PARAMETERS`) and their sources.

    A benefit's annual amount per beneficiary is ``level x basis x months / 12`` where the
    basis is the poverty line (international $ per person per day x 365), GDP per capita
    (international $ per person per year) or 12 (``ppp_dollars_per_month``: ``level`` is
    the monthly amount in international $).
    """

    id: str
    enabled: bool
    level: float
    basis: str
    months: float
    coverage: float
    admin_share: float
    age_min: int = 0
    age_max: int = MAX_AGE
    sex: str = "all"
    prevalence: float | str = 1.0
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def spec(self) -> BenefitSpec:
        return BENEFITS[self.id]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def guarantee(self) -> str:
        """The R202 Paragraph 5 clause the benefit serves, e.g. ``"5(b)"``."""
        return self.spec.guarantee

    def with_values(self, **values: Any) -> Benefit:
        """A copy with some parameters changed (no validation: for tests and scenarios)."""
        return dataclasses.replace(self, **values)

    def parameters(self) -> dict[str, object]:
        """The benefit's applicable parameters and their values, in the file's order."""
        return {name: getattr(self, name) for name in applicable(self.id)}


@dataclass(frozen=True)
class Levels:
    """The levels of every benefit (in :data:`BENEFITS` order) and where they were read."""

    benefits: tuple[Benefit, ...]
    title: str
    file: str | None = None  # the user's levels file; None: the defaults alone

    def __getitem__(self, benefit_id: str) -> Benefit:
        for benefit in self.benefits:
            if benefit.id == benefit_id:
                return benefit
        raise KeyError(benefit_id)

    def enabled(self) -> tuple[Benefit, ...]:
        return tuple(b for b in self.benefits if b.enabled)

    def rows(self) -> list[tuple[str, str, str, str, object, str, str, str]]:
        """(benefit, R202 guarantee, parameter, description, value, unit, valid range,
        reference) for every parameter of every benefit."""
        out = []
        for b in self.benefits:
            for name, value in b.parameters().items():
                p = PARAMETERS[name]
                unit, valid = p.unit, valid_range(p)
                if name == "level":
                    unit = BASES[b.basis][0]
                    valid = f"0 to {BASES[b.basis][1]:g}"
                out.append((b.id, f"R202 para. {b.guarantee}", name, p.description, value,
                            unit, valid, b.sources.get(name, "")))
        return out

    def to_json(self) -> str:
        """The resolved levels and their sources as JSON (for the results' attrs)."""
        return json.dumps({"title": self.title, "file": self.file,
                           "benefits": {b.id: {**b.parameters(), "sources": dict(b.sources)}
                                        for b in self.benefits}}, ensure_ascii=False)


# --------------------------------------------------------------------------- loading


def default_levels() -> Levels:
    """The default levels shipped with spfsim (``default_levels.toml``)."""
    return load_levels(None)


def load_levels(path: str | Path | None = None) -> Levels:
    """The default levels overridden by the levels file ``path`` (TOML), validated.

    Raises :class:`~spfsim.errors.AssumptionError` listing every problem (unknown table or
    key, wrong type, value out of range, ``age_min`` above ``age_max``), each naming the file,
    the field (``benefit.parameter``) and the value.
    """
    log = ProblemLog()
    with DEFAULT_LEVELS_FILE.open("rb") as handle:
        defaults = tomllib.load(handle)
    user: dict | None = None
    if path is not None:
        user = _read_toml(Path(path), log)
        log.raise_if_any()
        _check_structure(user or {}, str(path), log)
    title = str(defaults.get("title", "spfsim default levels"))
    if user and "title" in user:
        title = str(user["title"])
    benefits = [_resolve(bid, defaults, user, None if path is None else str(path), log)
                for bid in BENEFITS]
    for file in (DEFAULT_LEVELS_FILE, *([] if path is None else [Path(path)])):
        log.locate_rows(file, toml_line_finder(file))
    log.raise_if_any()
    return Levels(tuple(b for b in benefits if b is not None), title,
                  None if path is None else str(path))


def _check_structure(raw: dict, file: str, log: ProblemLog) -> None:
    """Unknown tables and keys, sources that are not text: problems naming file and field."""
    for key, value in raw.items():
        if key == "title":
            if not isinstance(value, str):
                log.add(file, "title", "wrong type: expected text", None, value)
            continue
        if key not in BENEFITS:
            log.add(file, key, f"unknown benefit; expected one of {', '.join(BENEFITS)} "
                    "(or title)", None, key)
            continue
        if not isinstance(value, dict):
            log.add(file, key, "expected a table of parameters", None, value)
            continue
        allowed = applicable(key)
        for name, entry in value.items():
            where = f"{key}.{name}"
            if name == "sources":
                if not isinstance(entry, dict):
                    log.add(file, where, "expected a table of parameter = \"reference\"", None,
                            entry)
                    continue
                for pname, ref in entry.items():
                    if pname not in allowed:
                        log.add(file, f"{where}.{pname}", "source for an unknown parameter",
                                None, pname)
                    elif not isinstance(ref, str):
                        log.add(file, f"{where}.{pname}", "wrong type: expected text", None,
                                ref)
            elif name not in PARAMETERS:
                log.add(file, where, f"unknown parameter; expected one of "
                        f"{', '.join(allowed)} (or sources)", None, name)
            elif name not in allowed:
                log.add(file, where, f"does not apply to {key} (its target population is the "
                        "live births of the year)", None, entry)


def _resolve(benefit_id: str, defaults: dict, user: dict | None, user_file: str | None,
             log: ProblemLog) -> Benefit | None:
    base = dict(defaults[benefit_id])
    sources = dict(base.pop("sources", {}))
    origin = {name: str(DEFAULT_LEVELS_FILE) for name in base}
    if user is not None and user_file is not None and isinstance(user.get(benefit_id), dict):
        allowed = applicable(benefit_id)  # others were reported by _check_structure
        mine = {k: v for k, v in user[benefit_id].items() if k in allowed}
        given = user[benefit_id].get("sources", {})
        my_sources = {k: v for k, v in (given if isinstance(given, dict) else {}).items()
                      if k in allowed and isinstance(v, str)}
        for name, value in mine.items():
            base[name] = value
            origin[name] = user_file
            sources[name] = my_sources.get(name, f"levels file {user_file}")
        for name, ref in my_sources.items():  # a new reference for a default value
            if name not in mine:
                sources[name] = ref
    values: dict[str, Any] = {}
    for name in applicable(benefit_id):
        where = f"{benefit_id}.{name}"
        if name not in base:
            log.add(str(DEFAULT_LEVELS_FILE), where, "required entry is missing", None, None)
            continue
        checked = _check_value(PARAMETERS[name], base[name], origin[name], where, log)
        if checked is not None:
            values[name] = checked
    if "level" in values and "basis" in values:
        unit, high = BASES[str(values["basis"])]
        if float(values["level"]) > high:
            log.add(origin["level"], f"{benefit_id}.level", f"out of range for basis "
                    f"\"{values['basis']}\": expected 0 to {high:g} ({unit})", None,
                    base["level"])
    if "age_min" in values and "age_max" in values and (
            int(values["age_min"]) > int(values["age_max"])):
        log.add(origin["age_min"], f"{benefit_id}.age_min",
                f"above age_max ({values['age_max']})", None, values["age_min"])
    if len(values) < len(applicable(benefit_id)):
        return None
    return Benefit(id=benefit_id, sources=sources, **values)


def _check_value(p: ParamSpec, value: object, file: str, where: str,
                 log: ProblemLog) -> object | None:
    """The value checked by the scheme library's parsers for its spec (a choice, or a single
    number in range), converted to its type; None after logging a problem."""
    if p.kind == "choice":
        raw = str(value).lower() if isinstance(value, bool) and p.name == "enabled" else value
        choice = parse_choice(p, raw, where, file, log)
        return None if choice is None else (choice == "true" if p.name == "enabled" else choice)
    if isinstance(value, str) and value in p.choices:
        return value
    parsed = parse_parameter(p, value, where, file, log, first_year=0)
    if parsed is None:
        return None
    number = parsed["all"].values[0]
    return int(number) if p.integer else number
