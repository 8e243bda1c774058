"""Demography: life tables and the cohort-component population projection."""

from .lifetable import LifeTable, infant_ax
from .projection import DemographicProjection, project_population

__all__ = ["DemographicProjection", "LifeTable", "infant_ax", "project_population"]
