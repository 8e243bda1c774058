"""spfsim: actuarial projection and microsimulation of social protection systems.

Quick use::

    import spfsim
    model = spfsim.load_model()      # the default model shipped with spfsim
    ds = model.project()             # xarray.Dataset following the results contract

Importing spfsim is light: the heavy layers load when a model is projected. The ``ds.spf``
accessor of results Datasets (:mod:`spfsim.report.accessor`) is registered as soon as xarray
is imported, without importing xarray here (it takes longer than the rest of ``import spfsim``).
"""

from __future__ import annotations

from ._version import __version__
from .errors import AssumptionError, ProjectionError, SpfsimError
from .model import Model, default_model_path, load_model
from .report.registration import register_accessor_with_xarray as _register_accessor

_register_accessor()

__all__ = [
    "AssumptionError",
    "Model",
    "ProjectionError",
    "SpfsimError",
    "__version__",
    "default_model_path",
    "load_model",
]
