"""Write the committed reference outputs that pin ``spfsim spf-cost``'s results.

``tests/test_reference_spf_cost.py`` runs the command again and compares it, variable by
variable, with the files this tool writes to ``tests/data/`` (with ``differences()`` of
``tools/reference_outputs.py``, plus the text variables and the attributes that say what was
costed):

- ``reference_spf_cost.nc``: ``spfsim spf-cost --country all`` for 2025 with the default
  levels (every WPP country and area);
- ``reference_spf_cost_variants.nc``: a few countries costed for 2020 (the projection's first
  year: births of one step) with levels that exercise the other rules (``working_age_poor``
  on, a female-only band with partial coverage, a monthly dollar level, other ages).

Regenerate them only when a change of results is intended and explained in the commit that
makes it (the commit message names the variables that move and why)::

    python tools/reference_spf_cost.py            # writes both files (needs ../shared/data)
    python tools/reference_spf_cost.py --check    # compares, writes nothing
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference_outputs import FOLDER, REPO, check_or_write, differences

from spfsim.cli import main as spfsim_main

DATA = REPO.parent / "shared" / "data"
# Attributes that change from run to run or machine to machine, or that describe the method
# in words (they may be reworded without any number moving).
VOLATILE_ATTRS = ("created", "spfsim_version", "data_dir", "method", "data_sources")

VARIANT_LEVELS = """\
title = "reference variant"

[child]
age_max = 17
sex = "female"
coverage = 0.8

[disability]
age_min = 18
prevalence = 0.05
admin_share = 0.0

[working_age_poor]
enabled = true
months = 6

[old_age]
age_min = 60
basis = "ppp_dollars_per_month"
level = 40.0
"""

#: file name -> (countries, year, levels file text or None for the defaults)
RUNS: dict[str, tuple[str, int, str | None]] = {
    "reference_spf_cost.nc": ("all", 2025, None),
    "reference_spf_cost_variants.nc": ("288,NGA,356,CHN,USA,BRA,JPN,CUB,TUV,ERI", 2020,
                                       VARIANT_LEVELS),
}


def spf_cost(countries: str, year: int, levels: str | None,
             data: Path = DATA) -> xr.Dataset:
    """The netCDF results ``spfsim spf-cost`` writes for these arguments, loaded."""
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["spf-cost", "--country", countries, "--year", str(year), "--data", str(data),
                "--out", tmp, "--quiet"]
        if levels is not None:
            levels_file = Path(tmp) / "levels.toml"
            levels_file.write_text(levels, encoding="utf-8")
            argv += ["--levels", str(levels_file)]
        with contextlib.redirect_stdout(io.StringIO()):
            status = spfsim_main(argv)
        if status != 0:
            raise RuntimeError(f"spfsim spf-cost exited with status {status}")
        with xr.open_dataset(Path(tmp) / f"spf_cost_{year}.nc") as ds:
            return ds.load()


def reference(file: str) -> xr.Dataset:
    """The committed reference file ``tests/data/<file>``, loaded."""
    with xr.open_dataset(FOLDER / file) as ds:
        return ds.load()


def reference_view(ds: xr.Dataset) -> xr.Dataset:
    """The part of the results the reference files hold: everything but volatile attrs (and
    the levels file's temporary path)."""
    out = ds.copy()
    out.attrs = {k: v for k, v in ds.attrs.items() if k not in VOLATILE_ATTRS}
    if out.attrs.get("levels_file") != "(defaults)":
        out.attrs["levels_file"] = "levels.toml"
        out.attrs.pop("levels", None)  # names the temporary file; the values are pinned below
    return out


def spf_differences(new: xr.Dataset, ref: xr.Dataset) -> list[str]:
    """Every way ``new`` differs from ``ref``: numbers (within ``differences()``'s
    tolerance), text variables and coordinates (exactly), and the attributes kept."""
    numeric = [n for n in ref.data_vars if ref[n].dtype.kind == "f"]
    text = [n for n in ref.data_vars if n not in numeric]
    problems = differences(new.drop_vars([n for n in text if n in new]),
                           ref.drop_vars(text))
    for name in text + [c for c in ref.coords if ref[c].dtype.kind in "OU"]:
        if name not in new.variables:
            problems.append(f"{name}: missing")
        elif not np.array_equal(new[name].values.astype(str), ref[name].values.astype(str)):
            problems.append(f"{name}: text differs")
    for key, value in reference_view(ref).attrs.items():
        mine = reference_view(new).attrs.get(key)
        if str(mine) != str(value):
            problems.append(f"attrs[{key!r}]: {mine!r} != {value!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed files instead of writing them")
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    args = parser.parse_args(argv)
    datasets = ((file, reference_view(spf_cost(countries, year, levels, args.data)))
                for file, (countries, year, levels) in RUNS.items())
    return check_or_write(datasets, args.check, spf_differences)


if __name__ == "__main__":
    sys.exit(main())
