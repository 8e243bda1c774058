"""The UN World Population Prospects 2024 files, read lazily and indexed by country.

The layout is that of ``shared/data/wpp2024`` (long CSVs keyed by UN M49 ``country_code``,
as packaged by the R package wpp2024). :mod:`spfsim.demography.wpp` turns them into a
projection's assumptions.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import pandas as pd

from ..errors import AssumptionError, Problem

SEXES = ("male", "female")
SEX_SUFFIX = ("M", "F")
FERTILE_AGES = (15, 50)  # single ages 15..49; WPP's 10-14 and 50-54 are folded in
FIRST_SINGLE_AGE_MIGRATION = 2023
PERIOD_START = 2020  # the 5-year period of migprojAge5dt that covers 2020-2023
SOURCE = ("UN DESA Population Division, World Population Prospects 2024, as packaged by the "
          "R package wpp2024 1.1-3")
LICENCE = "CC BY 3.0 IGO (https://creativecommons.org/licenses/by/3.0/igo/)"


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
        if not path.is_file():
            raise AssumptionError([Problem(str(path), "file", "WPP file not found", None,
                                           name)])
        frame = pd.read_csv(path, **kwargs)
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
