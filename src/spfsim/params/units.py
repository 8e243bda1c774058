"""Units that assumption tables and parameters may declare, and their conversion.

Each unit belongs to a *kind* and converts to that kind's canonical unit by a factor. A table
column accepts one kind; the loader converts declared units to the canonical one, so the
engines only ever see canonical units: persons, fractions (0.12, not 12), rates per
person-year, births per woman-year, males per female, currency units of the model.
"""

from __future__ import annotations

from typing import NamedTuple


class Unit(NamedTuple):
    kind: str
    factor: float  # multiply a value in this unit by `factor` to get the canonical unit


CANONICAL = {
    "count": "persons",
    "ratio": "fraction",
    "rate": "per person-year",
    "fertility": "births per woman-year",
    "sex_ratio": "males per female",
    "growth": "fraction per year",
    "relative": "relative",
    "money": "currency",
    "age": "years of age",
    "duration": "years",
}

UNITS: dict[str, Unit] = {
    "persons": Unit("count", 1.0),
    "thousand persons": Unit("count", 1000.0),
    "fraction": Unit("ratio", 1.0),
    "percent": Unit("ratio", 0.01),
    "per person-year": Unit("rate", 1.0),
    "per 1000 person-years": Unit("rate", 0.001),
    "births per woman-year": Unit("fertility", 1.0),
    "births per 1000 woman-years": Unit("fertility", 0.001),
    "males per female": Unit("sex_ratio", 1.0),
    "males per 100 females": Unit("sex_ratio", 0.01),
    "fraction per year": Unit("growth", 1.0),
    "percent per year": Unit("growth", 0.01),
    "relative": Unit("relative", 1.0),
    "currency": Unit("money", 1.0),
    "thousand currency": Unit("money", 1000.0),
    "million currency": Unit("money", 1.0e6),
    "years of age": Unit("age", 1.0),
    "years": Unit("duration", 1.0),
}


def canonical_unit(kind: str) -> str:
    """The canonical unit name of a kind (what results and engines use)."""
    return CANONICAL[kind]


def units_of_kind(kind: str) -> list[str]:
    """All unit names that may be declared for a column of this kind."""
    return [name for name, unit in UNITS.items() if unit.kind == kind]
