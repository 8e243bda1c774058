"""Demography: life tables, graduation, WPP import, the cohort-component projection and
mortality models."""

from .graduation import graduate_abridged_mx, graduate_asfr, graduate_counts, graduate_population
from .leecarter import LeeCarter
from .lifetable import LifeTable, infant_ax
from .projection import DemographicProjection, project, project_population
from .wpp import WPPData, WPPDemography, from_wpp, write_wpp_assumptions

__all__ = [
    "DemographicProjection",
    "LeeCarter",
    "LifeTable",
    "WPPData",
    "WPPDemography",
    "from_wpp",
    "graduate_abridged_mx",
    "graduate_asfr",
    "graduate_counts",
    "graduate_population",
    "infant_ax",
    "project",
    "project_population",
    "write_wpp_assumptions",
]
