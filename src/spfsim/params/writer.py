"""Write assumption sets (the inverse of loading): CSV tables plus an ``assumptions.toml``.

The folder is written complete in a temporary sibling and then renamed into place, so a
failure leaves nothing half-written; an existing folder is replaced only when asked.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import OutputExistsError
from .model_file import ASSUMPTIONS_FILE


@dataclass
class TableOut:
    """A table to write: its name in the schema, file name, header, rows and units."""

    name: str
    file: str
    header: Sequence[str]
    rows: Iterable[Sequence[object]]
    units: dict[str, str]


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _cell(value: object) -> str:
    if isinstance(value, float):
        return format(value, ".10g")
    return str(value)


def write_assumption_set(folder: Path | str, meta: dict[str, object],
                         tables: Sequence[TableOut], readme: str | None = None,
                         overwrite: bool = False) -> Path:
    """Write ``tables`` and a header with ``meta`` into ``folder`` (atomically)."""
    folder = Path(folder)
    if folder.exists() and not overwrite:
        raise OutputExistsError(f"output exists: {folder}; use --overwrite to replace")
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; an assumption set is ordinary data
    try:
        lines = ["[assumption_set]"]
        for key, value in meta.items():
            shown = value if isinstance(value, int) else _toml_string(str(value))
            lines.append(f"{key} = {shown}")
        for table in tables:
            with (staging / table.file).open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(table.header)
                writer.writerows([_cell(v) for v in row] for row in table.rows)
            units = ", ".join(f"{k} = {_toml_string(v)}" for k, v in table.units.items())
            lines += ["", f"[tables.{table.name}]", f"file = {_toml_string(table.file)}",
                      f"units = {{ {units} }}"]
        (staging / ASSUMPTIONS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
        if readme is not None:
            (staging / "README.md").write_text(readme, encoding="utf-8")
        _replace_folder(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def _replace_folder(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``; an old ``target`` is removed only once ``new`` is in."""
    if not target.exists():
        new.rename(target)
        return
    old = target.with_name(f".{target.name}.old-{new.name[-8:]}")
    target.rename(old)
    try:
        new.rename(target)
    except BaseException:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)



def build_assumption_set(folder: Path | str, meta: dict[str, object],
                         tables: Sequence[TableOut], readme: str | None = None,
                         overwrite: bool = False) -> None:
    """For the scripts that build an assumption set (tools/): write it
    (:func:`write_assumption_set`) and print each file's name and size; an existing folder
    without ``overwrite`` ends the script with the message."""
    try:
        out = write_assumption_set(folder, meta, tables, readme=readme, overwrite=overwrite)
    except OutputExistsError as error:
        raise SystemExit(str(error)) from None
    for file in sorted(out.iterdir()):
        print(f"  {file.name:18} {file.stat().st_size / 1024:8.1f} KiB")
