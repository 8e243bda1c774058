"""Rapid costing of social protection floors (ILO Recommendation No. 202), for any country.

``spfsim spf-cost`` and :func:`cost_floor` cost the basic social security guarantees of R202
Paragraph 5 — (a) essential health care, (b) income security for children, (c) for persons in
active age (maternity, disability, optionally the working-age poor) and (d) for older persons —
from UN WPP 2024 population by age and sex and births, and World Bank macro data, with benefit
levels tied to the poverty line (R202 Paragraph 8(b)) as cited parameters. Each country's
floor is a model of the scheme library built in memory (:mod:`spfsim.spf.floor`: WPP
demography, the benefits as non-contributory scheme types), projected and paid by the cohort
engine's rules (:mod:`spfsim.spf.costing`). Money is in international $ at 2021 PPP; results
are an xarray Dataset with dims ``country`` and ``benefit``. See docs/spf-costing.md.

Quick use::

    from spfsim.spf import cost_floor
    ds = cost_floor("288,566", year=2025, data_dir="../shared/data")
    ds["floor_cost_to_gdp"].to_series()
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Names are loaded on first use, so that building the ``spfsim`` command's parser (which
# imports spfsim.spf.cli) does not import xarray, pandas or openpyxl.
_WHERE = {
    **dict.fromkeys(("BenefitCost", "CountryCost", "CountryInputs", "cost_country",
                     "costing_dataset"), "costing"),
    **dict.fromkeys(("FLOOR_SCHEMES", "floor_model"), "floor"),
    **dict.fromkeys(("BENEFITS", "PARAMETERS", "Benefit", "Levels", "default_levels",
                     "load_levels"), "levels"),
    **dict.fromkeys(("DEFAULT_POVERTY_LINE", "DEFAULT_REVENUE_SHARE", "CountryCodes",
                     "MacroData", "MacroInputs", "load_macro_file", "resolve_macro"), "macro"),
    **dict.fromkeys(("check_year", "wpp_inputs"), "population"),
    **dict.fromkeys(("build_spf_workbook", "summary_lines", "write_spf_workbook"), "report"),
    **dict.fromkeys(("DEFAULT_YEAR", "cost_floor", "find_data_dir", "select_countries"), "run"),
}


def __getattr__(name: str) -> object:
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    from .costing import BenefitCost, CountryCost, CountryInputs, cost_country, costing_dataset
    from .floor import FLOOR_SCHEMES, floor_model
    from .levels import BENEFITS, PARAMETERS, Benefit, Levels, default_levels, load_levels
    from .macro import (
        DEFAULT_POVERTY_LINE,
        DEFAULT_REVENUE_SHARE,
        CountryCodes,
        MacroData,
        MacroInputs,
        load_macro_file,
        resolve_macro,
    )
    from .population import check_year, wpp_inputs
    from .report import build_spf_workbook, summary_lines, write_spf_workbook
    from .run import DEFAULT_YEAR, cost_floor, find_data_dir, select_countries

__all__ = [
    "BENEFITS",
    "DEFAULT_POVERTY_LINE",
    "DEFAULT_REVENUE_SHARE",
    "DEFAULT_YEAR",
    "FLOOR_SCHEMES",
    "PARAMETERS",
    "Benefit",
    "BenefitCost",
    "CountryCodes",
    "CountryCost",
    "CountryInputs",
    "Levels",
    "MacroData",
    "MacroInputs",
    "build_spf_workbook",
    "check_year",
    "cost_country",
    "cost_floor",
    "costing_dataset",
    "default_levels",
    "find_data_dir",
    "floor_model",
    "load_levels",
    "load_macro_file",
    "resolve_macro",
    "select_countries",
    "summary_lines",
    "wpp_inputs",
    "write_spf_workbook",
]
