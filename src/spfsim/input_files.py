"""The one guarded way spfsim reads an input file.

Every file a user hands to spfsim (``model.toml``, assumption headers and tables, reform
files, person files, WPP files) goes through :func:`read_input_bytes`, so that whatever a
model folder holds, reading it ends in data or in an :class:`~spfsim.errors.AssumptionError`
naming the file:

- only regular files are read: a device (``/dev/zero``), a named pipe, a socket or a folder
  is refused without being read (a pipe is opened without blocking, so nothing hangs);
  symbolic links are followed and their target is checked the same way;
- each kind of file has a size limit (:data:`SIZE_LIMITS`), checked before and while reading;
- text that is not UTF-8 is refused with the line and column of the first bad byte;
- TOML is parsed as data (``tomllib``), its nesting depth bounded (:data:`MAX_TOML_DEPTH`).

Problems never echo more than a short excerpt of a file (:func:`excerpt`).
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path

from .errors import AssumptionError, Problem

__all__ = [
    "MAX_TOML_DEPTH",
    "SIZE_LIMITS",
    "check_input_file",
    "check_inside",
    "decode_text",
    "excerpt",
    "input_problem",
    "read_input_bytes",
    "read_input_text",
    "read_input_toml",
]

MiB = 1 << 20
#: The largest file of each kind spfsim reads, bytes. A model's TOML files are a few KiB;
#: a table by year, age and sex over two centuries is about 3 MiB.
SIZE_LIMITS: dict[str, int] = {
    "model": 4 * MiB,        # model.toml, assumption headers, reform and batch files
    "table": 256 * MiB,      # assumption tables (CSV)
    "person file": 4096 * MiB,
    "wpp": 512 * MiB,        # a UN WPP file (the largest, compressed, is 10 MiB)
}
#: The deepest nesting of arrays and tables a TOML input may have (a model needs about 6).
MAX_TOML_DEPTH = 32
#: The most characters of a file's content a message shows.
EXCERPT_CHARS = 60

_CHUNK = 1 << 20


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """``value`` as a short quoted excerpt: its ``repr``, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def input_problem(path: Path | str, message: str, row: int | None = None,
                  value: object = None, field: str = "file") -> AssumptionError:
    """An AssumptionError with one problem about the file ``path``."""
    return AssumptionError([Problem(str(path), field, message, row, value)])


def _kind_of(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _size_text(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n} bytes"  # pragma: no cover


def _open_checked(path: Path, kind: str, what: str) -> tuple[int, str]:
    """An open descriptor of the regular file ``path`` within its kind's size limit, and
    how to name its target in messages; AssumptionError otherwise (nothing is read)."""
    limit = SIZE_LIMITS[kind]
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        raise input_problem(path, f"{what} not found", None, str(path)) from None
    except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of symbolic links
        raise input_problem(path, f"cannot read {what}: {exc}", None, str(path)) from None
    shown = "" if target == path.absolute() else f" (a link to {target})"
    try:  # refuse devices and sockets before opening them (opening may act on a device)
        mode = os.stat(target).st_mode
    except OSError as exc:
        raise input_problem(path, f"cannot read {what}{shown}: {exc.strerror}", None,
                            str(path)) from None
    if not stat.S_ISREG(mode):
        raise input_problem(path, f"{what} must be a regular file, not {_kind_of(mode)}"
                            f"{shown}", None, str(path))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        raise input_problem(path, f"cannot read {what}{shown}: {exc.strerror}", None,
                            str(path)) from None
    try:
        info = os.fstat(fd)  # again: the path may have been replaced since
        if not stat.S_ISREG(info.st_mode):
            raise input_problem(path, f"{what} must be a regular file, not "
                                f"{_kind_of(info.st_mode)}{shown}", None, str(path))
        if info.st_size > limit:
            raise input_problem(path, f"{what} is too large: {_size_text(info.st_size)}, "
                                f"the limit for a {kind} file is {_size_text(limit)}", None,
                                str(path))
    except BaseException:
        os.close(fd)
        raise
    return fd, shown


def check_input_file(path: Path | str, kind: str, what: str = "file") -> Path:
    """Check, without reading it, that ``path`` is a regular file (links followed) within
    the size limit of ``kind`` (a key of :data:`SIZE_LIMITS`); AssumptionError otherwise."""
    fd, _ = _open_checked(Path(path), kind, what)
    os.close(fd)
    return Path(path)


def read_input_bytes(path: Path | str, kind: str, what: str = "file") -> bytes:
    """The bytes of the input file ``path`` of ``kind`` (a key of :data:`SIZE_LIMITS`).

    Raises AssumptionError naming the file when it is missing, not a regular file (after
    following symbolic links), larger than the kind's limit, or cannot be read.
    """
    path = Path(path)
    limit = SIZE_LIMITS[kind]
    fd, shown = _open_checked(path, kind, what)
    chunks, total = [], 0
    try:
        while chunk := os.read(fd, _CHUNK):
            total += len(chunk)
            if total > limit:  # the file grew while being read
                raise input_problem(path, f"{what} is larger than the limit for a {kind} "
                                    f"file, {_size_text(limit)}", None, str(path))
            chunks.append(chunk)
    except OSError as exc:
        raise input_problem(path, f"cannot read {what}{shown}: {exc.strerror}", None,
                            str(path)) from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def decode_text(data: bytes, path: Path | str, what: str = "file") -> str:
    """``data`` decoded as UTF-8 (a byte-order mark is dropped); AssumptionError with the
    line and column of the first byte that is not UTF-8, or of a NUL character."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise input_problem(path, f"{what} is not UTF-8 text (a binary file?): byte "
                            f"{data[exc.start]:#04x} at column {column}", line,
                            None) from None
    nul = text.find("\0")
    if nul >= 0:
        raise input_problem(path, f"{what} holds a NUL character (a binary file?) at column "
                            f"{nul - text.rfind(chr(10), 0, nul)}", text.count("\n", 0, nul) + 1,
                            None)
    return text


def read_input_text(path: Path | str, kind: str, what: str = "file") -> str:
    """The text of the input file ``path`` (UTF-8), read through :func:`read_input_bytes`."""
    return decode_text(read_input_bytes(path, kind, what), path, what)


def _depth(value: object) -> int:
    """How deeply arrays and tables nest in a parsed TOML value (iteratively)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level + 1)
        if deepest > MAX_TOML_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def read_input_toml(path: Path | str, kind: str = "model", what: str = "file") -> dict:
    """The parsed TOML file ``path``; AssumptionError naming the file and, for syntax
    errors, the line, when it cannot be read or parsed or nests deeper than
    :data:`MAX_TOML_DEPTH`."""
    text = read_input_text(path, kind, what)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python < 3.14 gives the position only in the message: "(at line 4, column 13)"
        found = re.search(r"at line (\d+)", str(exc))
        raise input_problem(path, f"not valid TOML: {exc}",
                            int(found.group(1)) if found else None, None,
                            "syntax") from None
    except RecursionError:
        raise input_problem(path, f"arrays or tables nest deeper than {MAX_TOML_DEPTH} levels",
                            None, None, "syntax") from None
    if _depth(data) > MAX_TOML_DEPTH:
        raise input_problem(path, f"arrays or tables nest deeper than {MAX_TOML_DEPTH} levels",
                            None, None, "syntax")
    return data


def check_inside(path: Path, folders: list[Path]) -> str | None:
    """Why ``path`` lies outside every one of ``folders``, or None when it lies inside one.

    The path is normalised as written (``..`` removed), so a symbolic link inside a folder
    may point elsewhere; its target is checked when it is read."""
    normal = Path(os.path.normpath(path.absolute()))
    for folder in folders:
        base = Path(os.path.normpath(folder.absolute()))
        if normal == base or base in normal.parents:
            return None
    names = " or ".join(str(f) for f in folders)
    return (f"the file must lie inside {names}; paths that leave it ('..', absolute paths "
            "elsewhere) are refused")
