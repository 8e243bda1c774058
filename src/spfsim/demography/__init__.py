"""Demography: life tables, graduation, WPP import, the cohort-component projection and
mortality models.

The projection and life tables load with the package; the WPP import, graduation and
Lee-Carter (which need pandas and SciPy) load on first use, so the engines stay light.
"""

from __future__ import annotations

from importlib import import_module

from .lifetable import LifeTable, infant_ax
from .projection import (
    DemographicProjection,
    emigration_probability,
    external_projection,
    project,
    project_population,
)

_LAZY = {
    "LeeCarter": "leecarter",
    "WPPData": "wpp",
    "WPPDemography": "wpp",
    "from_wpp": "wpp",
    "write_wpp_assumptions": "wpp",
    "graduate_abridged_mx": "graduation",
    "graduate_asfr": "graduation",
    "graduate_counts": "graduation",
    "graduate_population": "graduation",
}

__all__ = ["DemographicProjection", "LifeTable", "emigration_probability",
           "external_projection", "infant_ax", "project", "project_population", *_LAZY]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
