"""Atomic output: write to a temporary file next to the target, then rename it into place.

Nothing half-written is ever left at an output path: a writer that fails leaves neither the
target nor its temporary file behind, and an existing file is never replaced unless the caller
asks for it with ``overwrite=True`` (DESIGN.md, "Reliability").
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import xarray as xr

from ..errors import OutputExistsError

__all__ = ["atomic_write", "check_writable", "write_files", "write_netcdf"]

_TMP_MARK = ".tmp-"


def check_writable(paths: Path | str | os.PathLike[str] | Iterable[Path | str | os.PathLike[str]],
                   overwrite: bool = False) -> list[Path]:
    """Check output paths before anything is written; return them as :class:`Path` objects.

    Raises :class:`~spfsim.errors.OutputExistsError` naming every path that exists when
    ``overwrite`` is false, :class:`IsADirectoryError` if a path is a folder, and
    :class:`FileNotFoundError` if a path's folder does not exist. Touches nothing on disk.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    checked = [Path(p) for p in paths]
    for p in checked:
        if p.is_dir():
            raise IsADirectoryError(f"output path is a folder, not a file: {p}")
        parent = p.parent if str(p.parent) else Path(".")
        if not parent.is_dir():
            raise FileNotFoundError(f"output folder does not exist: {parent} (for {p})")
    if not overwrite:
        existing = [p for p in checked if p.exists() or p.is_symlink()]
        if existing:
            names = ", ".join(str(p) for p in existing)
            what = ("output files already exist" if len(existing) > 1
                    else "output file already exists")
            raise OutputExistsError(f"{what}: {names} (pass overwrite=True to replace)")
    return checked


def _temp_path(path: Path) -> Path:
    stem = path.name[:200]
    return path.with_name(f".{stem}{_TMP_MARK}{secrets.token_hex(6)}")


def _fsync(path: Path) -> None:
    """Flush a file's contents to disk (best effort: some platforms refuse it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def atomic_write(path: Path | str | os.PathLike[str], writer: Callable[[Path], object],
                 overwrite: bool = False) -> Path:
    """Write ``path`` atomically and return it.

    ``writer(tmp_path)`` must create the file ``tmp_path`` (a hidden name such as
    ``.results.nc.tmp-3f9a…`` in the same folder as ``path``, so the final rename never crosses
    file systems). Once it returns, the temporary file is flushed and renamed to ``path``.

    - If ``path`` exists and ``overwrite`` is false, :class:`~spfsim.errors.OutputExistsError`
      is raised before ``writer`` is called; the existing file is left untouched. Without
      ``overwrite`` the final step is a hard link that fails if another process created
      ``path`` meanwhile (on file systems without hard links, a check then a rename).
    - If ``writer`` (or the rename) raises, the temporary file is deleted and the exception
      re-raised: no partial output is left behind.
    - The output folder must exist (:class:`FileNotFoundError` otherwise).
    """
    (target,) = check_writable(path, overwrite)
    tmp = _temp_path(target)
    try:
        writer(tmp)
        if not tmp.is_file():
            raise RuntimeError(f"the writer for {target} did not create its file {tmp}")
        _fsync(tmp)
        if overwrite:
            os.replace(tmp, target)
        else:
            _publish_new(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    return target


def _publish_new(tmp: Path, target: Path) -> None:
    """Move ``tmp`` to ``target`` only if ``target`` does not exist (no race where possible)."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise OutputExistsError(
            f"output file already exists: {target} (pass overwrite=True to replace)") from None
    except OSError:
        # No hard links here (some network or FAT file systems): check, then rename.
        if target.exists() or target.is_symlink():
            raise OutputExistsError(
                f"output file already exists: {target} (pass overwrite=True to replace)"
            ) from None
        os.replace(tmp, target)
    else:
        _remove(tmp)


def write_files(folder: Path, files: dict[str, bytes], overwrite: bool = False) -> list[Path]:
    """Write files (name -> contents) into ``folder`` (created if missing), each atomically;
    if a later file fails, the files this call newly created are removed again (files it
    replaced under ``overwrite=True`` stay replaced). Return the paths, in ``files``' order."""
    folder.mkdir(parents=True, exist_ok=True)
    targets = [folder / name for name in files]
    created: list[Path] = []
    try:
        for target, data in zip(targets, files.values(), strict=True):
            existed = target.exists()
            atomic_write(target, functools.partial(Path.write_bytes, data=data),
                         overwrite=overwrite)
            if not existed:
                created.append(target)
    except BaseException:
        for path in created:
            _remove(path)
        raise
    return targets


def _string_encoding(ds: xr.Dataset) -> dict[str, dict[str, object]]:
    """Encoding that writes object-dtype string variables as netCDF-4 variable-length strings."""
    encoding: dict[str, dict[str, object]] = {}
    for name, var in ds.variables.items():
        if var.dtype != object or "dtype" in var.encoding:
            continue
        values = np.asarray(var.values).ravel()
        if all(isinstance(v, str) for v in values):
            encoding[str(name)] = {"dtype": str}
    return encoding


def write_netcdf(ds: xr.Dataset, path: Path | str | os.PathLike[str],
                 overwrite: bool = False) -> Path:
    """Write the results Dataset to a netCDF-4 file atomically; return the path.

    Values keep the Dataset's own units (see each variable's ``units`` attr: persons, currency
    per year, fractions, ...). String coordinates (``sex``, ``scheme``, ``scheme_name``, ...)
    are stored as variable-length strings, so ``xarray.open_dataset`` reads them back as
    ``str``. Raises :class:`~spfsim.errors.OutputExistsError` if ``path`` exists and
    ``overwrite`` is false; nothing is left on disk if writing fails.
    """
    encoding = _string_encoding(ds)
    for name, var in ds.data_vars.items():  # compressed: by-age arrays are mostly zeros
        if var.dtype.kind == "f" and var.ndim >= 3:
            encoding.setdefault(str(name), {}).update(zlib=True, complevel=4)

    def writer(tmp: Path) -> None:
        ds.to_netcdf(tmp, engine="netcdf4", format="NETCDF4", encoding=encoding)

    return atomic_write(path, writer, overwrite=overwrite)
