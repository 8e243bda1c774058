"""Economy and labour: macro paths, labour force, employment, contributory coverage."""

from .macro import EconomicProjection, project_economy

__all__ = ["EconomicProjection", "project_economy"]
