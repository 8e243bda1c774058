"""Model files: TOML structure, CSV tables, dated parameters, validation and compilation."""

from .compile import Assumptions, CompiledScheme, compile_assumptions
from .model_file import ModelInput, read_model
from .stochastic import StochasticSpec
from .tables import AGES, MAX_AGE, SEXES

__all__ = [
    "AGES",
    "MAX_AGE",
    "SEXES",
    "Assumptions",
    "CompiledScheme",
    "ModelInput",
    "StochasticSpec",
    "compile_assumptions",
    "read_model",
]
