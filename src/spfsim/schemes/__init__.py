"""Scheme types. Each declares its parameters; the rules are plain array functions."""

from .base import CONTRIBUTORY, NON_CONTRIBUTORY, SchemeType
from .db_pension import DBOldAgePension
from .insurance import INSURANCE_TYPES
from .noncontributory import (
    GUARANTEES,
    NON_CONTRIBUTORY_TYPES,
    NonContributoryBenefit,
    UniversalBenefit,
)

SCHEME_TYPES: dict[str, type[SchemeType]] = {
    cls.NAME: cls for cls in (DBOldAgePension, *INSURANCE_TYPES, *NON_CONTRIBUTORY_TYPES)
}

__all__ = ["CONTRIBUTORY", "GUARANTEES", "NON_CONTRIBUTORY", "SCHEME_TYPES", "DBOldAgePension",
           "NonContributoryBenefit", "SchemeType", "UniversalBenefit"]
