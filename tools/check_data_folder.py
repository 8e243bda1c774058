"""Check a reference data folder for ``spfsim import-wpp``, ``spfsim init --country`` and
``spfsim spf-cost`` (docs/data.md): every file spfsim reads is there with the columns it
reads; optionally record or verify the files' SHA-256 checksums.

Usage:
    python tools/check_data_folder.py DATA_DIR                 # files and columns
    python tools/check_data_folder.py DATA_DIR --write-manifest FILE   # and record checksums
    python tools/check_data_folder.py DATA_DIR --manifest FILE         # and verify them

Exit status 0 when the folder is complete (and matches the manifest), 1 otherwise, each
problem on a line naming the file and the column or checksum.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import sys
from pathlib import Path

#: file (relative to the data folder) -> columns spfsim reads from it
REQUIRED: dict[str, tuple[str, ...]] = {
    "wpp2024/countries.csv": ("country_code", "name"),
    "wpp2024/UNlocations.txt": ("name", "country_code", "location_type"),
    "wpp2024/popAge5dt.csv": ("country_code", "year", "age", "popM", "popF"),
    "wpp2024/mx5dt.csv": ("country_code", "year", "period", "age", "mxM", "mxF"),
    "wpp2024/tfr1dt.csv": ("country_code", "year", "tfr"),
    "wpp2024/tfrproj1dt.csv": ("country_code", "year", "tfr"),
    "wpp2024/percentASFR5_annual_by_age5.txt": ("country_code", "age"),
    "wpp2024/sexRatio1dt.csv": ("country_code", "year", "srb"),
    "wpp2024/mig1dt.csv": ("country_code", "year", "mig"),
    "wpp2024/migproj1dt.csv": ("country_code", "year", "mig"),
    "wpp2024/migprojAge5dt.csv": ("country_code", "period", "age", "migM", "migF"),
    "wpp2024/migprojAge1dt.csv.gz": ("country_code", "year", "age", "migM", "migF"),
    "wpp2024/misc1dt.csv": ("country_code", "year", "births", "deaths"),
    "social_protection/wb_gdp_per_capita_ppp_const2021_owid.csv":
        ("Entity", "Code", "Year", "gdp_per_capita_ppp_const2021_intl_usd"),
    "social_protection/wb_pip_share_population_below_3usd_day_owid.csv":
        ("Entity", "Code", "Year", "Share of population in poverty ($3 a day)"),
}
#: read when present: the projected outputs of WPP's development subset (validation)
OPTIONAL = ("wpp2024/popprojAge5dt_devsubset.csv", "wpp2024/miscproj1dt_devsubset.csv")


def header(path: Path) -> list[str]:
    """The first line's column names (tab-separated for .txt files, gzip read through)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        delimiter = "\t" if path.name.endswith(".txt") else ","
        return next(csv.reader(handle, delimiter=delimiter), [])


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def problems(folder: Path) -> list[str]:
    """Every missing file or column, one line each."""
    found = []
    for name, columns in REQUIRED.items():
        path = folder / name
        if not path.is_file():
            found.append(f"{path}: missing")
            continue
        try:
            have = header(path)
        except (OSError, UnicodeDecodeError, EOFError) as exc:
            found.append(f"{path}: cannot read its header ({exc})")
            continue
        found += [f"{path}: no column {c!r}" for c in columns if c not in have]
    return found


def manifest(folder: Path) -> dict[str, str]:
    """file -> SHA-256 of every required file and every optional one present."""
    names = [*REQUIRED, *(n for n in OPTIONAL if (folder / n).is_file())]
    return {name: sha256(folder / name) for name in names if (folder / name).is_file()}


def read_manifest(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["file"]: row["sha256"] for row in csv.DictReader(handle)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("--write-manifest", metavar="FILE", default=None)
    parser.add_argument("--manifest", metavar="FILE", default=None,
                        help="verify the files against these checksums")
    args = parser.parse_args(argv)
    folder = Path(args.data_dir)
    found = problems(folder)
    sums = manifest(folder)
    if args.manifest:
        for name, expected in read_manifest(Path(args.manifest)).items():
            if name in sums and sums[name] != expected:
                found.append(f"{folder / name}: SHA-256 {sums[name]} differs from the "
                             f"manifest's {expected}")
    if args.write_manifest:
        with open(args.write_manifest, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "sha256"])
            writer.writerows(sums.items())
    for line in found:
        print(line)
    if not found:
        print(f"{folder}: complete ({len(sums)} files)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
