"""Write a projection's three outputs: netCDF dataset, Excel workbook, PNG figures."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .files import DATASET_FILE, FIGURES_DIR, WORKBOOK_FILE, figure_names

if TYPE_CHECKING:
    import xarray as xr

    from .summary import HasInput

__all__ = ["DATASET_FILE", "FIGURES_DIR", "WORKBOOK_FILE", "check_output_folder",
           "figure_names", "output_paths", "refuse_existing", "write_outputs"]

_STAGING_MARK = ".tmp-"


def check_output_folder(out: Path, inputs: Iterable[Path] = ()) -> None:
    """Refuse (OutputLocationError) an output folder that cannot take the outputs, before
    any work: a path that is a file (or a device such as /dev/null), a folder inside a
    file, a folder this process cannot write in, or one of ``inputs`` (the model's own
    folders) or a folder inside them. Creates and removes a probe folder to test writing.
    """
    from ..errors import OutputLocationError

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputLocationError(f"--out {out}: is not a folder (a file or a device); "
                                  "name a folder for the outputs")
    existing = out
    while not existing.exists():
        if existing.is_symlink():
            raise OutputLocationError(f"--out {out}: {existing} is a broken symbolic link")
        existing = existing.parent
    if not existing.is_dir():
        raise OutputLocationError(f"--out {out}: lies inside {existing}, which is a file, "
                                  "not a folder")
    target = out.resolve()
    for folder in inputs:
        folder = Path(folder).resolve()
        if target == folder or folder in target.parents:
            raise OutputLocationError(
                f"--out {out}: is the model's own input folder {folder} or inside it; "
                "write the outputs elsewhere, so that a model folder holds only its inputs")
    try:
        probe = tempfile.mkdtemp(prefix=".spfsim-probe-", dir=existing)
    except OSError as exc:
        raise OutputLocationError(f"--out {out}: cannot write in {existing}: "
                                  f"{exc.strerror or exc}") from None
    os.rmdir(probe)


def output_paths(out: Path, base_year: int, end_year: int, figures: bool = True) -> list[Path]:
    """Every file ``write_outputs`` writes under ``out`` (``figures``: with the figures)."""
    names = figure_names(base_year, end_year) if figures else []
    return [out / DATASET_FILE, out / WORKBOOK_FILE, *(out / FIGURES_DIR / n for n in names)]


def refuse_existing(out: Path, base_year: int, end_year: int, figures: bool = True) -> None:
    """Raise OutputExistsError naming the first output that already exists, if any."""
    from ..errors import OutputExistsError

    existing = [p for p in output_paths(out, base_year, end_year, figures) if p.exists()]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise OutputExistsError(f"output exists: {existing[0]}{more}; use --overwrite to "
                                "replace")


def write_outputs(model: HasInput, ds: xr.Dataset, out: Path, overwrite: bool = False,
                  figures: bool = True) -> list[Path]:
    """Write projection.nc, report.xlsx and (``figures``) figures/ under ``out``; return the
    paths.

    Refuses (OutputExistsError) before writing anything if a target exists and
    ``overwrite`` is False. The set is written into a hidden temporary folder next to
    ``out`` and then moved into place: when ``out`` does not exist yet, by one rename of
    the folder (all files appear at once); otherwise file by file, each by a rename. If
    anything fails, the temporary folder is removed and ``out`` is as it was.
    """
    base, end = int(ds.attrs["base_year"]), int(ds.attrs["end_year"])
    if not overwrite:
        refuse_existing(out, base, end, figures)
    return write_output_set(
        out, lambda folder: _write_set(model, ds, folder, base, end, figures), overwrite)


def write_output_set(out: Path, write_into: Callable[[Path], list[Path]],
                     overwrite: bool = False) -> list[Path]:
    """Write a set of output files as one: ``write_into(folder)`` writes them into an
    empty hidden folder beside ``out`` and returns their paths relative to it; the set is
    then moved into ``out`` (one rename when ``out`` does not exist, else file by file,
    replacing files only with ``overwrite``). If anything fails, nothing of the set is
    left and ``out`` is as it was. Returns the paths under ``out``."""
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.resolve().name[:100]}{_STAGING_MARK}",
                                    dir=parent))
    try:
        _as_mkdir_would(staging)
        names = write_into(staging)
        _move_set(staging, out, names, overwrite)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out / name for name in names]


def _as_mkdir_would(folder: Path) -> None:
    """Give ``folder`` (made private by mkdtemp) the permissions a plain mkdir gives."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(folder, 0o777 & ~mask)


def _write_set(model: HasInput, ds: xr.Dataset, folder: Path, base: int, end: int,
               figures: bool) -> list[Path]:
    """Write the output set into the empty ``folder``; return the paths relative to it."""
    from .io import write_files, write_netcdf
    from .summary import describe_assumptions
    from .workbook import write_workbook

    write_netcdf(ds, folder / DATASET_FILE)
    write_workbook(ds, folder / WORKBOOK_FILE, assumptions_table=describe_assumptions(model))
    names = [Path(DATASET_FILE), Path(WORKBOOK_FILE)]
    if figures:
        from .plots import render_pngs

        pictures = render_pngs(ds, figure_names(base, end))
        write_files(folder / FIGURES_DIR, pictures)
        names += [Path(FIGURES_DIR) / name for name in pictures]
    return names


def _move_set(staging: Path, out: Path, names: list[Path], overwrite: bool) -> None:
    """Move the written set from ``staging`` to ``out``: the whole folder at once when
    ``out`` does not exist, else each file (replacing only with ``overwrite``)."""
    from .io import _publish_new

    if not out.exists() and not out.is_symlink():
        with contextlib.suppress(FileExistsError, OSError):
            os.rename(staging, out)
            return
    out.mkdir(parents=True, exist_ok=True)
    moved: list[Path] = []
    try:
        for name in names:
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            existed = target.exists()
            if overwrite:
                os.replace(staging / name, target)
            else:
                _publish_new(staging / name, target)
            if not existed:
                moved.append(target)
    except BaseException:
        for target in moved:  # leave out as it was (files replaced stay replaced)
            with contextlib.suppress(OSError):
                target.unlink()
        raise
