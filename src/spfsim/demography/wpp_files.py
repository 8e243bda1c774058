"""The UN World Population Prospects 2024 files, read lazily and indexed by country.

The layout is that of ``shared/data/wpp2024`` (long CSVs keyed by UN M49 ``country_code``,
as packaged by the R package wpp2024). :mod:`spfsim.demography.wpp` turns them into a
projection's assumptions.
"""

from __future__ import annotations

import gzip
import io
import zlib
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import AssumptionError, Problem
from ..input_files import SIZE_LIMITS, decode_text, read_input_bytes

SEXES = ("male", "female")
SEX_SUFFIX = ("M", "F")
FERTILE_AGES = (15, 50)  # single ages 15..49; WPP's 10-14 and 50-54 are folded in
FIRST_SINGLE_AGE_MIGRATION = 2023
PERIOD_START = 2020  # the 5-year period of migprojAge5dt that covers 2020-2023
SOURCE = ("UN DESA Population Division, World Population Prospects 2024, as packaged by the "
          "R package wpp2024 1.1-3")
LICENCE = "CC BY 3.0 IGO (https://creativecommons.org/licenses/by/3.0/igo/)"


#: What spfsim reads of each WPP file: the columns that must be there, those that must
#: hold numbers, and those whose numbers must not be negative (a wide file's year columns
#: are numbers that must not be negative too).
WPP_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "UNlocations.txt": (("country_code", "name", "location_type"), ("location_type",), ()),
    "popAge5dt.csv": (("country_code", "year", "age", "popM", "popF", "pop"),
                      ("year", "popM", "popF", "pop"), ("popM", "popF", "pop")),
    "popprojAge5dt_devsubset.csv": (("country_code", "year", "age", "popM", "popF", "pop"),
                                    ("year", "popM", "popF", "pop"), ("popM", "popF", "pop")),
    "mx5dt.csv": (("country_code", "period", "age", "mxM", "mxF"), ("mxM", "mxF"),
                  ("mxM", "mxF")),
    "tfr1dt.csv": (("country_code", "year", "tfr"), ("year", "tfr"), ("tfr",)),
    "tfrproj1dt.csv": (("country_code", "year", "tfr"), ("year", "tfr"), ("tfr",)),
    "percentASFR5_annual_by_age5.txt": (("country_code", "age"), (), ()),
    "sexRatio1dt.csv": (("country_code", "year", "srb"), ("year", "srb"), ("srb",)),
    "migprojAge1dt.csv.gz": (("country_code", "year", "age", "migM", "migF"),
                             ("year", "age", "migM", "migF"), ()),
    "migprojAge5dt.csv": (("country_code", "period", "age", "migM", "migF"),
                          ("migM", "migF"), ()),
    "misc1dt.csv": (("country_code", "year", "births", "deaths"),
                    ("year", "births", "deaths"), ("births", "deaths")),
    "miscproj1dt_devsubset.csv": (("country_code", "year", "births", "deaths"),
                                  ("year", "births", "deaths"), ("births", "deaths")),
    "mig1dt.csv": (("country_code", "year", "mig"), ("year", "mig"), ()),
    "migproj1dt.csv": (("country_code", "year", "mig"), ("year", "mig"), ()),
}
AGE_LABEL = r"^\d{1,3}(-\d{1,3}|\+)?$"
PERIOD_LABEL = r"^\d{4}-\d{4}$"


def _problem(path: Path, field: str, message: str, row: int | None = None,
             value: object = None) -> AssumptionError:
    return AssumptionError([Problem(str(path), field, message, row, value)])


def _wpp_text(path: Path) -> str:
    """The text of a WPP file (gzip-compressed when its name ends in .gz), read by the
    guarded reader; a truncated or damaged archive is an AssumptionError."""
    data = read_input_bytes(path, "wpp", "WPP file")
    if path.name.endswith(".gz"):
        limit = SIZE_LIMITS["wpp"]
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as archive:
                data = archive.read(limit + 1)
        except (EOFError, OSError, zlib.error) as exc:
            raise _problem(path, "file", f"damaged or truncated gzip file: {exc}") from None
        if len(data) > limit:
            raise _problem(path, "file", f"uncompressed, the file is larger than {limit:,} "
                           "bytes, the limit for a WPP file")
    return decode_text(data, path, "WPP file")


def read_wpp_frame(path: Path, **kwargs) -> pd.DataFrame:
    """One WPP file as a frame, its columns checked (:data:`WPP_COLUMNS`): every problem
    an AssumptionError naming the file, the column, the line and the value."""
    text = _wpp_text(path)
    try:
        frame = pd.read_csv(io.StringIO(text), skip_blank_lines=False, **kwargs)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise _problem(path, "file", f"not a readable CSV file: {exc}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    required, numeric, non_negative = WPP_COLUMNS.get(path.name, (("country_code",), (), ()))
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise _problem(path, missing[0], "required column is missing (is the header line "
                       f"there?); expected columns {list(required)}", 1,
                       ",".join(frame.columns[:8]))
    if path.name.startswith("percentASFR"):
        years = [c for c in frame.columns if c.isdigit()]
        numeric, non_negative = tuple(years), tuple(years)
    for column in ("country_code", *numeric):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() | ~np.isfinite(values.to_numpy(float))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise _problem(path, column, "must be a number", i + 2, str(frame[column].iloc[i]))
        if column in non_negative and (values < 0).any():
            i = int(np.flatnonzero((values < 0).to_numpy())[0])
            raise _problem(path, column, "must not be negative", i + 2, float(values.iloc[i]))
        frame[column] = values
    for column, pattern, meaning in (("age", AGE_LABEL, "an age or an age group ('0-4', "
                                      "'100+')"), ("period", PERIOD_LABEL, "a period "
                                                   "('2020-2025')")):
        if column in frame.columns:
            labels = frame[column].astype(str).str.strip()
            bad = ~labels.str.match(pattern)
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise _problem(path, column, f"must be {meaning}", i + 2, labels.iloc[i])
            frame[column] = labels
    frame["country_code"] = frame["country_code"].astype(int)
    return frame


def _group_start(label: object) -> int:
    """First age of a WPP age label ('0-4' -> 0, '100+' -> 100, '5' -> 5)."""
    return int(str(label).rstrip("+").split("-")[0])


class WPPData:
    """Lazily loaded WPP 2024 files; each file is read once and indexed by country."""

    def __init__(self, data_dir: str | Path):
        path = Path(data_dir)
        self.dir = path / "wpp2024" if (path / "wpp2024").is_dir() else path
        if not self.dir.is_dir():
            raise AssumptionError([Problem(str(path), "data", "WPP data folder not found",
                                           None, str(path))])

    def _read(self, name: str, **kwargs) -> pd.DataFrame:
        path = self.dir / name
        if not path.is_file() and not path.is_symlink():
            raise AssumptionError([Problem(str(path), "file", "WPP file not found", None,
                                           name)])
        frame = read_wpp_frame(path, **kwargs)
        return frame.set_index("country_code").sort_index()

    def rows(self, frame: pd.DataFrame, name: str, country: int) -> pd.DataFrame:
        """The rows of ``country``; a clear error naming the file if there are none."""
        if country not in frame.index:
            raise AssumptionError([Problem(str(self.dir / name), "country_code",
                                           "no rows for this country", None, country)])
        rows = frame.loc[[country]]
        return rows.reset_index(drop=True)

    @cached_property
    def locations(self) -> pd.DataFrame:
        return self._read("UNlocations.txt", sep="\t")

    @cached_property
    def population5(self) -> pd.DataFrame:
        """popAge5dt (estimates 1950-2020) and the projections of the development subset."""
        frames = [self._read("popAge5dt.csv")]
        if (self.dir / "popprojAge5dt_devsubset.csv").is_file():
            frames.append(self._read("popprojAge5dt_devsubset.csv")[
                ["year", "age", "popM", "popF", "pop"]])
        return pd.concat(frames).sort_index(kind="stable")

    @cached_property
    def mx5(self) -> pd.DataFrame:
        return self._read("mx5dt.csv")

    @cached_property
    def tfr(self) -> pd.DataFrame:
        return pd.concat([self._read("tfr1dt.csv"),
                          self._read("tfrproj1dt.csv")[["year", "tfr"]]]).sort_index(
            kind="stable")

    @cached_property
    def asfr_pattern(self) -> pd.DataFrame:
        # a wide file (one column per year): copy once into a consolidated frame
        return self._read("percentASFR5_annual_by_age5.txt", sep="\t").copy()

    @cached_property
    def srb(self) -> pd.DataFrame:
        return self._read("sexRatio1dt.csv")

    @cached_property
    def migration1(self) -> pd.DataFrame:
        return self._read("migprojAge1dt.csv.gz")

    @cached_property
    def migration5(self) -> pd.DataFrame:
        return self._read("migprojAge5dt.csv")

    def has(self, name: str) -> bool:
        """Whether the data folder holds the file ``name``."""
        return (self.dir / name).is_file()

    @cached_property
    def births(self) -> pd.DataFrame:
        """Births by calendar year (``misc1dt``, and ``miscproj1dt_devsubset`` where present;
        thousands), for comparisons only: the import never reads WPP's outputs."""
        frames = [self._read("misc1dt.csv")[["year", "births", "deaths"]]]
        if self.has("miscproj1dt_devsubset.csv"):
            frames.append(self._read("miscproj1dt_devsubset.csv")[["year", "births", "deaths"]])
        return pd.concat(frames).sort_index(kind="stable")

    @cached_property
    def migration_totals(self) -> pd.DataFrame:
        return pd.concat([self._read("mig1dt.csv"),
                          self._read("migproj1dt.csv")[["year", "mig"]]]).sort_index(
            kind="stable")

    def country_codes(self) -> list[int]:
        """Countries and areas (location_type 4) with a 2020 population estimate."""
        countries = self.locations[self.locations["location_type"] == 4].index
        pop = self.population5
        with_2020 = pop[pop["year"] == 2020].index.unique()
        return sorted(int(c) for c in countries if c in with_2020)

    def name(self, country: int) -> str:
        if country in self.locations.index:
            return str(self.locations.loc[country, "name"])
        return str(country)
