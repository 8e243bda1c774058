"""spfsim: actuarial projection and microsimulation of social protection systems.

Quick use::

    import spfsim
    model = spfsim.load_model()      # the default model shipped with spfsim
    ds = model.project()             # xarray.Dataset following the results contract

Importing spfsim is light: the heavy layers load when a model is projected.
"""

from __future__ import annotations

from ._version import __version__
from .errors import AssumptionError, ProjectionError, SpfsimError
from .model import Model, default_model_path, load_model

__all__ = [
    "AssumptionError",
    "Model",
    "ProjectionError",
    "SpfsimError",
    "__version__",
    "default_model_path",
    "load_model",
]
