"""Write the committed reference outputs that pin the default model's results.

A refactoring must leave results as they are. ``tests/test_reference_outputs.py`` projects
the default model again and compares it, variable by variable, with the files this tool
writes to ``tests/data/``:

- ``reference_default_cohort.nc``: the cohort engine's projection (every variable except the
  largest by-age tables, which are kept summed over age);
- ``reference_default_micro.nc``: a small microsimulation (``PERSONS`` persons, seed
  ``SEED``) of the default model, so that the kernels' arithmetic and random draws are
  pinned too.

Regenerate them only when a change of results is intended and explained in the commit that
makes it (the commit message names the variables that move and why)::

    python tools/reference_outputs.py            # writes both files
    python tools/reference_outputs.py --check    # compares, writes nothing
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import xarray as xr

import spfsim

REPO = Path(__file__).resolve().parents[1]
FOLDER = REPO / "tests" / "data"
PERSONS = 5000
SEED = 7

# By-age tables too large to commit whole: kept summed over age.
SUMMED_OVER_AGE = ("pensions_by_age", "contributors", "beneficiaries")
# Attributes that change from run to run or machine to machine.
VOLATILE_ATTRS = ("created", "model_path", "spfsim_version")
# Results must agree to rounding, allowing for a reordered sum: each value within RTOL of
# the reference, or within ATOL times the variable's largest magnitude (values that are
# differences of large terms, near zero).
RTOL = 1e-10
ATOL = 1e-12


def reference_view(ds: xr.Dataset) -> xr.Dataset:
    """The part of a results Dataset that the reference files hold."""
    out = ds.copy()
    for name in SUMMED_OVER_AGE:
        if name in out:
            out[name] = out[name].sum("age", keep_attrs=True)
    for key in VOLATILE_ATTRS:
        out.attrs.pop(key, None)
    out.attrs = {k: v for k, v in out.attrs.items() if isinstance(v, str | int | float)}
    return out


def projections() -> dict[str, xr.Dataset]:
    """The default model's projections the reference files are made of, by file name."""
    model = spfsim.load_model()
    return {
        "reference_default_cohort.nc": reference_view(model.project()),
        "reference_default_micro.nc": reference_view(
            model.project("micro", persons=PERSONS, seed=SEED)),
    }


def differences(new: xr.Dataset, ref: xr.Dataset) -> list[str]:
    """Every way ``new`` differs from ``ref``, one line each (empty: they agree)."""
    problems = []
    missing = sorted(set(ref.data_vars) - set(new.data_vars))
    extra = sorted(set(new.data_vars) - set(ref.data_vars))
    if missing:
        problems.append(f"variables missing: {missing}")
    if extra:
        problems.append(f"variables not in the reference: {extra}")
    for name in sorted(set(ref.data_vars) & set(new.data_vars)):
        a, b = new[name], ref[name]
        if a.dims != b.dims or a.shape != b.shape:
            problems.append(f"{name}: dims {a.dims}{a.shape} != {b.dims}{b.shape}")
            continue
        for dim in a.dims:
            if dim in b.coords and not np.array_equal(a[dim].values, b[dim].values):
                problems.append(f"{name}: coordinate {dim} differs")
        x = np.asarray(a.values, dtype=float)
        y = np.asarray(b.values, dtype=float)
        same_nan = np.isnan(x) == np.isnan(y)
        scale = np.nanmax(np.abs(y)) if np.isfinite(y).any() else 0.0
        close = np.isclose(x, y, rtol=RTOL, atol=ATOL * scale, equal_nan=True)
        bad = ~(same_nan & close)
        if bad.any():
            worst = np.nanmax(np.abs(x - y)[bad]) if np.isfinite(x - y)[bad].any() else np.nan
            problems.append(f"{name}: {int(bad.sum())} of {x.size} values differ "
                            f"(largest difference {worst:.3g}, scale {scale:.3g})")
        for key in ("units", "long_name"):
            if a.attrs.get(key) != b.attrs.get(key):
                problems.append(f"{name}: attrs[{key!r}] {a.attrs.get(key)!r} != "
                                f"{b.attrs.get(key)!r}")
    return problems


def write(ds: xr.Dataset, path: Path) -> None:
    encoding = {name: {"zlib": True, "complevel": 9} for name in ds.data_vars
                if ds[name].dtype.kind == "f"}
    tmp = path.with_suffix(".tmp.nc")
    ds.to_netcdf(tmp, encoding=encoding)
    tmp.replace(path)


def check_or_write(datasets: Iterable[tuple[str, xr.Dataset]], check: bool,
                   compare: Callable[[xr.Dataset, xr.Dataset], list[str]] = differences
                   ) -> int:
    """Compare each (file name, Dataset) with ``tests/data/<file>`` by ``compare`` and print
    what differs (``check``), or write it there. Returns 1 if any file differs, else 0."""
    status = 0
    for file, ds in datasets:
        path = FOLDER / file
        if check:
            with xr.open_dataset(path) as ref:
                problems = compare(ds, ref.load())
            print(f"{file}: " + ("agrees" if not problems else "DIFFERS"))
            for line in problems:
                print("  " + line)
            status |= bool(problems)
        else:
            FOLDER.mkdir(parents=True, exist_ok=True)
            write(ds, path)
            print(f"wrote {path.relative_to(REPO)} ({path.stat().st_size / 1e6:.2f} MB)")
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed files instead of writing them")
    args = parser.parse_args(argv)
    return check_or_write(projections().items(), args.check)


if __name__ == "__main__":
    sys.exit(main())
