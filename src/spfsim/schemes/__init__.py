"""Scheme types. Each declares its parameters; the rules are plain array functions."""

from .base import CONTRIBUTORY, NON_CONTRIBUTORY, SchemeType
from .db_pension import DBOldAgePension
from .universal import UniversalBenefit

SCHEME_TYPES: dict[str, type[SchemeType]] = {
    cls.NAME: cls for cls in (DBOldAgePension, UniversalBenefit)
}

__all__ = ["CONTRIBUTORY", "NON_CONTRIBUTORY", "SCHEME_TYPES", "DBOldAgePension",
           "SchemeType", "UniversalBenefit"]
