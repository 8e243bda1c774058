"""Macro inputs of the rapid SPF costing, country codes, and the ``--macro`` override file.

Every money figure of the costing is in international dollars at 2021 purchasing power parity
(constant 2021 prices), so that benefit levels, GDP and costs as a share of GDP are in one
unit for every country:

- ``gdp_per_capita``: World Bank WDI, GDP per capita, PPP (constant 2021 international $), via
  Our World in Data; the costing year's value where the series has it, otherwise the nearest
  earlier year (held constant in real terms), otherwise the nearest later one.
- ``poverty_line``: default the World Bank's international poverty line, $3.00 a day per person
  (2021 PPP). No national poverty lines are in the data: give them per country with ``--macro``.
- ``government_revenue_share``: default 20 % of GDP, an assumption, not data.
- ``poverty_headcount``: World Bank PIP, share of the population below $3 a day (2021 PPP), via
  Our World in Data, year chosen as for GDP (used only by a benefit whose ``prevalence`` is
  ``"poverty_headcount"``).

WPP is keyed by UN M49 codes, the World Bank files by ISO 3166-1 alpha-3 codes:
``country_codes.csv`` beside this module maps one to the other (see its header for its source).
A value missing from the data stays NaN, with a note, and the country is still costed in
persons; a ``--macro`` file can supply it.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import AssumptionError, Problem, ProblemLog

__all__ = [
    "COUNTRY_CODES_FILE",
    "DEFAULT_POVERTY_LINE",
    "DEFAULT_REVENUE_SHARE",
    "MACRO_FIELDS",
    "CountryCode",
    "CountryCodes",
    "MacroData",
    "MacroInputs",
    "MacroOverrides",
    "load_macro_file",
    "resolve_macro",
]

COUNTRY_CODES_FILE = Path(__file__).with_name("country_codes.csv")

#: World Bank international poverty line, international $ (2021 PPP) per person per day.
DEFAULT_POVERTY_LINE = 3.00
#: Government revenue as a share of GDP when none is given: an assumption, not data.
DEFAULT_REVENUE_SHARE = 0.20

GDP_FILE = "wb_gdp_per_capita_ppp_const2021_owid.csv"
POVERTY_FILE = "wb_pip_share_population_below_3usd_day_owid.csv"
GDP_SOURCE = ("World Bank WDI, GDP per capita, PPP (constant 2021 international $), via Our "
              "World in Data (CC BY 4.0)")
POVERTY_SOURCE = ("World Bank Poverty and Inequality Platform, share of population below $3 a "
                  "day (2021 PPP), via Our World in Data (CC BY 4.0)")
POVERTY_LINE_SOURCE = ("default: World Bank international poverty line, $3.00 a day per person "
                       "(2021 PPP)")
REVENUE_SOURCE = (f"default assumption: {DEFAULT_REVENUE_SHARE:.0%} of GDP (not data; give "
                  "government_revenue_share with --macro)")

#: macro-file column -> (unit, lowest valid value, highest valid value, lowest excluded)
MACRO_FIELDS: dict[str, tuple[str, float, float, bool]] = {
    "gdp_per_capita": ("international $ (2021 PPP) per person per year", 0.0, 1e6, True),
    "poverty_line": ("international $ (2021 PPP) per person per day", 0.0, 1000.0, True),
    "government_revenue_share": ("fraction of GDP", 0.0, 1.0, True),
    "poverty_headcount": ("fraction of the population", 0.0, 1.0, False),
}


# --------------------------------------------------------------------------- country codes


@dataclass(frozen=True)
class CountryCode:
    """A country's UN M49 code, ISO 3166-1 alpha-3 code, OWID code and WPP name."""

    m49: int
    iso3: str
    owid_code: str
    name: str


class CountryCodes:
    """The M49 <-> ISO alpha-3 table of ``country_codes.csv`` (236 WPP countries and areas)."""

    def __init__(self, codes: Iterable[CountryCode]):
        self._by_m49 = {c.m49: c for c in codes}
        self._by_iso3 = {c.iso3.upper(): c for c in self._by_m49.values()}

    @classmethod
    def load(cls, path: str | Path = COUNTRY_CODES_FILE) -> CountryCodes:
        with Path(path).open(newline="", encoding="utf-8") as handle:
            lines = [line for line in handle if not line.startswith("#")]
        return cls(CountryCode(int(r["m49"]), r["iso3"], r["owid_code"] or r["iso3"],
                               r["wpp_name"]) for r in csv.DictReader(lines))

    def __len__(self) -> int:
        return len(self._by_m49)

    def get(self, m49: int) -> CountryCode | None:
        return self._by_m49.get(int(m49))

    def find(self, token: str) -> CountryCode | None:
        """The country of an M49 code (``"288"``) or an ISO alpha-3 code (``"GHA"``, any case)."""
        token = token.strip()
        if token.isdigit():
            return self._by_m49.get(int(token))
        return self._by_iso3.get(token.upper())


# --------------------------------------------------------------------------- data series


def _nearest(years: np.ndarray, values: np.ndarray, year: int) -> tuple[float, int] | None:
    """The value of ``year``, else of the nearest earlier year, else of the nearest later one."""
    if len(years) == 0:
        return None
    earlier = np.nonzero(years <= year)[0]
    k = earlier[-1] if len(earlier) else 0
    return float(values[k]), int(years[k])


class MacroData:
    """GDP per capita and poverty headcount series from the ``social_protection`` data folder."""

    def __init__(self, gdp: dict[str, tuple[np.ndarray, np.ndarray]],
                 poverty: dict[str, tuple[np.ndarray, np.ndarray]]):
        self.gdp = gdp
        self.poverty = poverty

    @classmethod
    def from_dir(cls, data_dir: str | Path) -> MacroData:
        """Read the two World Bank / OWID CSVs from ``data_dir`` (or its ``social_protection``)."""
        path = Path(data_dir)
        folder = path / "social_protection" if (path / "social_protection").is_dir() else path
        return cls(_read_series(folder / GDP_FILE, "gdp_per_capita_ppp_const2021_intl_usd"),
                   _read_series(folder / POVERTY_FILE, "Share of population in poverty ($3 a day)",
                                scale=0.01))

    def gdp_per_capita(self, code: str, year: int) -> tuple[float, int] | None:
        """(international $ 2021 PPP per person per year, data year), or None."""
        return _nearest(*self.gdp.get(code, (np.array([]), np.array([]))), year)

    def poverty_headcount(self, code: str, year: int) -> tuple[float, int] | None:
        """(fraction of the population below $3 a day, data year), or None."""
        return _nearest(*self.poverty.get(code, (np.array([]), np.array([]))), year)


def _read_series(path: Path, column: str,
                 scale: float = 1.0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    if not path.is_file():
        raise AssumptionError([Problem(str(path), "file", "macro data file not found", None,
                                       path.name)])
    frame = pd.read_csv(path, usecols=["Code", "Year", column])
    frame = frame.dropna().sort_values(["Code", "Year"])
    return {str(code): (group["Year"].to_numpy(int), group[column].to_numpy(float) * scale)
            for code, group in frame.groupby("Code", sort=False)}


# --------------------------------------------------------------------------- overrides


@dataclass(frozen=True)
class MacroOverrides:
    """Values from a ``--macro`` CSV: by M49 code, and for every country (row ``*``)."""

    file: str
    by_country: dict[int, dict[str, tuple[float, int]]] = field(default_factory=dict)
    every_country: dict[str, tuple[float, int]] = field(default_factory=dict)

    def get(self, m49: int, name: str) -> tuple[float, str] | None:
        """(value, source text) for one country and field, or None."""
        own = self.by_country.get(m49, {})
        if name in own:
            value, line = own[name]
            return value, f"macro file {self.file}, line {line}"
        if name in self.every_country:
            value, line = self.every_country[name]
            return value, f"macro file {self.file}, line {line} (all countries)"
        return None


def load_macro_file(path: str | Path, codes: CountryCodes) -> MacroOverrides:
    """Read a macro override CSV; raise :class:`AssumptionError` listing every problem.

    Columns: ``country`` (UN M49 code, ISO alpha-3 code, or ``*`` for every country) and any of
    :data:`MACRO_FIELDS`; an empty cell leaves that value alone. Lines starting with ``#`` are
    comments. Each problem names the file, the line, the field and the value.
    """
    file = str(path)
    log = ProblemLog()
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            rows = list(enumerate(csv.reader(handle), start=1))
    except (OSError, UnicodeDecodeError) as exc:
        raise AssumptionError([Problem(file, "file", f"cannot read: {exc}", None, file)]) from None
    rows = [(n, r) for n, r in rows if r and any(c.strip() for c in r)
            and not r[0].lstrip().startswith("#")]
    if not rows:
        raise AssumptionError([Problem(file, "country", "empty file: expected a header with "
                                       "country and at least one of " + ", ".join(MACRO_FIELDS),
                                       None, None)])
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    if "country" not in header:
        log.add(file, "country", "missing column", header_line, ",".join(header))
    for name in header:
        if name != "country" and name not in MACRO_FIELDS:
            log.add(file, name, "unknown column; expected country and any of "
                    + ", ".join(MACRO_FIELDS), header_line, name)
    if len(set(header)) != len(header):
        log.add(file, "header", "a column appears twice", header_line, ",".join(header))
    log.raise_if_any()
    out = MacroOverrides(file)
    seen: dict[str, int] = {}
    for line, row in rows[1:]:
        if len(row) > len(header):
            log.add(file, "row", f"{len(row)} cells for {len(header)} columns", line,
                    ",".join(row))
            continue
        cells = dict(zip(header, (c.strip() for c in row), strict=False))
        token = cells.get("country", "")
        target = _override_target(token, codes, file, line, log)
        if target is None:
            continue
        key = "*" if target == "*" else str(target)
        if key in seen:
            log.add(file, "country", f"given twice (also line {seen[key]})", line, token)
            continue
        seen[key] = line
        values: dict[str, tuple[float, int]] = {}
        for name in MACRO_FIELDS:
            text = cells.get(name, "")
            if text:
                number = _macro_number(name, text, file, line, log)
                if number is not None:
                    values[name] = (number, line)
        if target == "*":
            out.every_country.update(values)
        else:
            out.by_country[int(target)] = values
    log.raise_if_any()
    return out


def _override_target(token: str, codes: CountryCodes, file: str, line: int,
                     log: ProblemLog) -> int | str | None:
    if token == "*":
        return "*"
    country = codes.find(token) if token else None
    if country is None:
        log.add(file, "country", "unknown country: expected a UN M49 code or ISO alpha-3 code "
                "of a WPP country, or * for every country", line, token)
        return None
    return country.m49


def _macro_number(name: str, text: str, file: str, line: int, log: ProblemLog) -> float | None:
    unit, low, high, open_low = MACRO_FIELDS[name]
    try:
        number = float(text)
    except ValueError:
        log.add(file, name, f"not a number ({unit})", line, text)
        return None
    if not math.isfinite(number) or number > high or number < low or (open_low and number == low):
        bound = f"more than {low:g}" if open_low else f"at least {low:g}"
        log.add(file, name, f"out of range: expected {bound} and at most {high:g} ({unit})",
                line, text)
        return None
    return number


# --------------------------------------------------------------------------- resolution


@dataclass(frozen=True)
class MacroInputs:
    """One country's macro inputs (NaN where unknown) and the source of each.

    ``gdp_per_capita``: international $ (2021 PPP) per person per year; ``poverty_line``:
    international $ (2021 PPP) per person per day; ``government_revenue_share``: fraction of
    GDP; ``poverty_headcount``: fraction of the population below $3 a day.
    """

    gdp_per_capita: float
    poverty_line: float = DEFAULT_POVERTY_LINE
    government_revenue_share: float = DEFAULT_REVENUE_SHARE
    poverty_headcount: float = math.nan
    sources: dict[str, str] = field(default_factory=dict)


def resolve_macro(country: CountryCode, year: int, data: MacroData,
                  overrides: MacroOverrides | None = None) -> tuple[MacroInputs, list[str]]:
    """The macro inputs of ``country`` for costing ``year``, and notes on gaps and fallbacks.

    Precedence: the country's row of the macro file, then its ``*`` row, then the data (GDP per
    capita, poverty headcount) or the documented defaults (poverty line, revenue share).
    """
    values: dict[str, float] = {}
    sources: dict[str, str] = {}
    notes: list[str] = []
    series = {"gdp_per_capita": (data.gdp_per_capita, GDP_SOURCE),
              "poverty_headcount": (data.poverty_headcount, POVERTY_SOURCE)}
    defaults = {"poverty_line": (DEFAULT_POVERTY_LINE, POVERTY_LINE_SOURCE),
                "government_revenue_share": (DEFAULT_REVENUE_SHARE, REVENUE_SOURCE)}
    for name in MACRO_FIELDS:
        given = overrides.get(country.m49, name) if overrides is not None else None
        if given is not None:
            values[name], sources[name] = given
        elif name in defaults:
            values[name], sources[name] = defaults[name]
        else:
            reader, source = series[name]
            found = reader(country.owid_code, year)
            if found is None:
                values[name], sources[name] = math.nan, "missing: not in the data"
                if name == "gdp_per_capita":
                    notes.append("no GDP per capita in the World Bank data: costs in % of GDP "
                                 "and GDP-based levels are NaN (give gdp_per_capita with --macro)")
            else:
                values[name] = found[0]
                sources[name] = f"{source}, {found[1]}"
                if name == "gdp_per_capita" and found[1] != year:
                    notes.append(f"GDP per capita of {found[1]} used for {year} (constant in "
                                 "real terms)")
    return MacroInputs(sources=sources, **values), notes
