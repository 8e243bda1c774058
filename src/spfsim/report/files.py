"""Names of a projection's output files, shared by the writers and by ``spfsim run``.

A leaf of :mod:`spfsim.report`: it imports nothing, so the command line can check its outputs
before the projection without loading matplotlib or openpyxl, and both
:mod:`~spfsim.report.outputs` and :mod:`~spfsim.report.plots` take the names from here.
"""

from __future__ import annotations

__all__ = ["DATASET_FILE", "FIGURES_DIR", "WORKBOOK_FILE", "figure_names"]

DATASET_FILE = "projection.nc"
WORKBOOK_FILE = "report.xlsx"
FIGURES_DIR = "figures"


def figure_names(base_year: int, end_year: int) -> list[str]:
    """The PNG files ``plots.write_figures`` writes for a projection over these years."""
    pyramids = [f"population_pyramid_{y}.png" for y in dict.fromkeys((base_year, end_year))]
    return [*pyramids, "cost_rates.png", "reserve_ratio.png", "reserve_ratio_methods.png",
            "cohort_irr.png"]
