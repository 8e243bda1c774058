"""Stochastic projections: the model under uncertain demography and economy.

:mod:`.paths` draws the assumption paths (deviations around the deterministic path, keyed
by seed, variable, draw and year), :mod:`.run` projects every draw with the cohort engine
and keeps its key series, :mod:`.summary` turns them into the results Dataset
(percentiles, probabilities of depletion) and :mod:`.solve` finds the contribution rate
that keeps the probability of depletion under a target. :mod:`.sensitivity` projects the
one-at-a-time sensitivity tests and :mod:`.sobol` the global (Sobol) analysis over the same
ranges (SALib, an optional dependency, imported only when it runs). See docs/stochastic.md.
"""

from .paths import DrawPaths, draw_paths, drawn_assumptions, mortality_model
from .run import DrawResults, simulate
from .sobol import sobol_dataset
from .solve import depletion_rate
from .summary import stochastic_dataset

__all__ = ["DrawPaths", "DrawResults", "depletion_rate", "draw_paths", "drawn_assumptions",
           "mortality_model", "simulate", "sobol_dataset", "stochastic_dataset"]
