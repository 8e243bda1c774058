"""Cost the floor for one country, a list, or every country in the data: the library entry."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import xarray as xr

from ..demography.wpp import LICENCE as WPP_LICENCE
from ..demography.wpp import SOURCE as WPP_SOURCE
from ..demography.wpp import WPPData
from ..errors import AssumptionError, Problem
from .costing import CountryInputs, cost_country, costing_dataset
from .levels import POVERTY_HEADCOUNT, Levels, load_levels
from .macro import (
    GDP_SOURCE,
    POVERTY_SOURCE,
    CountryCode,
    CountryCodes,
    MacroData,
    MacroOverrides,
    load_macro_file,
    resolve_macro,
)
from .population import check_year, wpp_inputs

__all__ = ["DATA_ENV", "DEFAULT_YEAR", "cost_floor", "find_data_dir", "select_countries"]

DEFAULT_YEAR = 2025
DATA_ENV = "SPFSIM_DATA"


def find_data_dir(explicit: str | Path | None = None) -> Path:
    """The reference data folder (holding ``wpp2024/`` and ``social_protection/``).

    ``explicit`` if given, else ``$SPFSIM_DATA``, else ``./shared/data`` or ``../shared/data``
    from the current folder; an :class:`AssumptionError` says what to pass if none exists.
    """
    if explicit is not None:
        candidates = [Path(explicit)]
    elif os.environ.get(DATA_ENV):
        candidates = [Path(os.environ[DATA_ENV])]
    else:
        candidates = [Path("shared/data"), Path("../shared/data")]
    for folder in candidates:
        if (folder / "wpp2024").is_dir():
            return folder
    raise AssumptionError([Problem(
        "command line", "--data", "no data folder with wpp2024/ and social_protection/ found: "
        f"pass --data DIR or set {DATA_ENV}", None, ", ".join(str(c) for c in candidates))])


def data_signature(folder: Path) -> tuple:
    """The reference data files' names, sizes and modification times: what makes a
    process's reference data (:func:`reference_data`) current."""
    return tuple(sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                        for sub in ("wpp2024", "social_protection")
                        for p in (folder / sub).rglob("*") if p.is_file()))


def reference_data(folder: Path) -> tuple[WPPData, MacroData]:
    """The WPP and macro data of ``folder``, read once per process for each content of its
    files (:func:`data_signature`: a changed file is read anew): WPPData reads a file when
    first asked and keeps it, so a batch of one country a case reads each file once."""
    return _reference_data(folder.resolve(), data_signature(folder))


@functools.lru_cache(maxsize=4)
def _reference_data(folder: Path, signature: tuple) -> tuple[WPPData, MacroData]:
    del signature  # part of the cache's key only
    return WPPData(folder), MacroData.from_dir(folder)


def select_countries(spec: str | Sequence[int | str], data: WPPData,
                     codes: CountryCodes) -> list[int]:
    """UN M49 codes of ``spec``: ``"all"``, ``"288,566"``, ``"GHA,NGA"`` or a list of codes.

    Raises :class:`AssumptionError` naming every token that is not a WPP country or area.
    """
    available = data.country_codes()
    if isinstance(spec, str):
        if spec.strip().lower() == "all":
            return available
        tokens = [t.strip() for t in spec.split(",")]
    else:
        tokens = [str(t).strip() for t in spec]
    known = set(available)
    chosen: list[int] = []
    problems = []
    for token in tokens:
        found = codes.find(token) if token else None
        m49 = found.m49 if found is not None else (int(token) if token.isdigit() else None)
        if m49 is None or m49 not in known:
            problems.append(Problem(
                "command line", "--country", "not a country or area of WPP 2024 (use a UN M49 "
                "code such as 288, an ISO alpha-3 code such as GHA, or all)", None, token))
        elif m49 not in chosen:
            chosen.append(m49)
    if problems or not chosen:
        raise AssumptionError(problems or [Problem("command line", "--country",
                                                   "no country given", None, spec)])
    return chosen


def cost_floor(countries: str | Sequence[int | str] = "all", year: int = DEFAULT_YEAR,
               levels: Levels | str | Path | None = None,
               macro: MacroOverrides | str | Path | None = None,
               data_dir: str | Path | None = None,
               progress: Callable[[str], None] | None = None) -> xr.Dataset:
    """Cost the R202 guarantees (para. 5(a)-(d)) for ``countries`` in ``year`` (2020..2100).

    ``levels``: a :class:`Levels`, a levels TOML file, or None for the defaults; ``macro``:
    per-country macro values, or the CSV file holding them (see
    :func:`spfsim.spf.macro.load_macro_file`), or None for the data and defaults;
    ``data_dir``: the reference data folder (see :func:`find_data_dir`). Returns the Dataset of
    :func:`spfsim.spf.costing.costing_dataset`: money in international $ (2021 PPP) per year.
    """
    year = check_year(year)
    resolved = levels if isinstance(levels, Levels) else load_levels(levels)
    codes = CountryCodes.load()
    overrides = (macro if isinstance(macro, MacroOverrides) or macro is None
                 else load_macro_file(macro, codes))
    folder = find_data_dir(data_dir)
    wpp, macro_data = reference_data(folder)
    chosen = select_countries(countries, wpp, codes)
    uses_headcount = any(b.prevalence == POVERTY_HEADCOUNT for b in resolved.enabled())
    costed = []
    for k, m49 in enumerate(chosen):
        code = codes.get(m49) or CountryCode(m49, "", "", wpp.name(m49))
        macro, notes = resolve_macro(code, year, macro_data, overrides)
        if uses_headcount and macro.poverty_headcount != macro.poverty_headcount:
            notes.append("no poverty headcount in the data: benefits whose prevalence is "
                         "poverty_headcount are NaN (give poverty_headcount with --macro)")
        country = CountryInputs(m49, code.iso3, wpp.name(m49), wpp_inputs(wpp, m49, year),
                                macro, tuple(notes))
        costed.append(cost_country(resolved, country, year))
        if progress is not None and (k + 1) % 50 == 0:
            progress(f"costed {k + 1} of {len(chosen)} countries")
    return costing_dataset(resolved, costed, year, source_attrs(folder.resolve(), overrides))


def source_attrs(folder: Path, overrides: MacroOverrides | None) -> dict[str, str]:
    """The costing Dataset's attrs that name its data."""
    return {
        "data_sources": (f"population and births: {WPP_SOURCE}, medium variant, {WPP_LICENCE}, "
                         f"projected by spfsim from 1 July 2020; GDP per capita: {GDP_SOURCE}; "
                         f"poverty headcount: {POVERTY_SOURCE}; country codes: ISO 3166-1 "
                         "(Debian iso-codes 4.15.0) matched to UN M49"),
        "data_dir": str(folder),
        "macro_file": overrides.file if overrides is not None else "(none)",
    }
