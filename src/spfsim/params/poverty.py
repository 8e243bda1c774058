"""The ``[poverty]`` section of model.toml: how the micro engine measures household poverty.

R202 para. 8(b) ties the floor's levels to a nationally defined poverty line, and ILC 2021
para. 15 asks whether protection is adequate: the micro engine with families
(:mod:`spfsim.engine.micro.poverty`) adds up each household's income, divides it by the
household's equivalence scale and compares every member's equivalised income with the line.
The section says:

- ``line``: ``"absolute"`` (the ``[economy]`` ``poverty_line``, indexed to prices: the same
  real line every year), ``"wages"`` (that line indexed to average earnings: uprated with
  living standards) or ``"relative"`` (``relative_share`` of the median equivalised
  disposable income of the year, as the EU's at-risk-of-poverty line at 60 %);
- the equivalence scale: the first adult counts 1, every other member aged ``child_age`` or
  more ``other_adult`` and every younger member ``child`` (the OECD-modified scale, the
  default: 0.5 and 0.3 under 14); a household of children alone counts its first child 1;
- ``informal_earnings``: the earnings of an informal worker (employed without contributing)
  as a fraction of those of a covered worker of the same age, sex and earnings level (the
  contributory schemes never see them; household incomes do).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import ProblemLog

LINES = ("absolute", "wages", "relative")
KEYS = ("line", "relative_share", "other_adult", "child", "child_age", "informal_earnings")


@dataclass(frozen=True)
class PovertySpec:
    """What the ``[poverty]`` section declares (see the module docstring)."""

    informal_earnings: float
    line: str = "absolute"
    relative_share: float = 0.6
    other_adult: float = 0.5
    child: float = 0.3
    child_age: int = 14


def read_poverty(section: object, path: Path, log: ProblemLog, has_poverty_line: bool
                 ) -> PovertySpec | None:
    """The parsed section (None when the model has none); problems go to ``log``, each with
    the file, the field and the value. ``has_poverty_line``: the ``[economy]`` section gives
    ``poverty_line`` (the absolute and wage-indexed lines need it)."""
    if section is None:
        return None
    if not isinstance(section, dict):
        log.add(path, "poverty", "expected a table ([poverty])", None, section)
        return None
    found = len(log)
    for key in section:
        if key not in KEYS:
            log.add(path, f"poverty.{key}", f"unknown entry; known: {list(KEYS)}", None, key)
    line = section.get("line", "absolute")
    if line not in LINES:
        log.add(path, "poverty.line", f"must be one of {list(LINES)}", None, line)
    elif line != "relative" and not has_poverty_line:
        log.add(path, "poverty.line", f"a line '{line}' needs poverty_line in [economy] (or "
                "line = 'relative')", None, line)
    informal = _number(section, "informal_earnings", path, log, 0.0, 2.0, None)
    numbers = {key: _number(section, key, path, log, low, high, default)
               for key, low, high, default in (("relative_share", 0.01, 1.0, 0.6),
                                               ("other_adult", 0.0, 1.0, 0.5),
                                               ("child", 0.0, 1.0, 0.3))}
    child_age = section.get("child_age", 14)
    if isinstance(child_age, bool) or not isinstance(child_age, int) or not 1 <= child_age <= 25:
        log.add(path, "poverty.child_age", "must be a whole number of years from 1 to 25",
                None, child_age)
    if len(log) > found:
        return None
    return PovertySpec(informal_earnings=informal, line=line, child_age=child_age, **numbers)


def _number(section: dict, key: str, path: Path, log: ProblemLog, low: float, high: float,
            default: float | None) -> float | None:
    """A number of the section in [low, high]; ``default`` None: required."""
    if key not in section:
        if default is None:
            log.add(path, f"poverty.{key}", "required entry is missing", None, None)
        return default
    value = section[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        log.add(path, f"poverty.{key}", f"must be a number from {low:g} to {high:g}", None,
                value)
        return None
    return float(value)
