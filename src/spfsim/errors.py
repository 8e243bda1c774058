"""Exceptions raised by spfsim.

Every problem with user input is reported as an :class:`AssumptionError` that carries a list
of :class:`Problem` records (file, field, row, value, what was expected), so a user sees all
problems at once and never a traceback from library internals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


class SpfsimError(Exception):
    """Base class of every error spfsim raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    ``row`` is the line number in the file as a spreadsheet or editor shows it (the CSV
    header is line 1, the first data row line 2); ``None`` where no row applies.
    """

    file: str
    field: str
    message: str
    row: int | None = None
    value: object = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", line {self.row}"
        shown = "" if self.value is None else f" (value: {_excerpt(self.value)})"
        return f"{where}: field {_excerpt(self.field, FIELD_CHARS)}: {self.message}{shown}"


#: The most characters of an input's content a message echoes (a value, a field name read
#: from a file): a rejected file is quoted, never printed.
VALUE_CHARS, FIELD_CHARS = 80, 60


def _excerpt(value: object, limit: int = VALUE_CHARS) -> str:
    """``value``'s repr (a string's in single quotes), cut to ``limit`` characters."""
    text = repr(str(value)) if isinstance(value, str) else repr(value)
    if len(text) <= limit:
        return text
    quote = text[-1] if text[0] in "'\"" else ""
    return f"{text[:limit - 6]}…{quote} (cut)"


class AssumptionError(SpfsimError):
    """Bad model or assumption input; ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the input:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


class ProjectionError(SpfsimError):
    """A projection reached an impossible state (e.g. a negative population)."""


class OutputExistsError(SpfsimError):
    """An output file exists and overwriting was not asked for."""


class OutputLocationError(SpfsimError):
    """An output location cannot take the outputs: a file where a folder is needed, a folder
    that cannot be written, or one of the model's own input folders."""


class ResourceError(SpfsimError):
    """A run would need more of the machine (memory) than it has."""


class ProblemLog:
    """Collects problems while loading, so that validation can report them all at once."""

    def __init__(self) -> None:
        self._problems: list[Problem] = []

    def add(
        self,
        file: str | Path,
        field: str,
        message: str,
        row: int | None = None,
        value: object = None,
    ) -> None:
        self._problems.append(Problem(str(file), field, message, row, value))

    def extend(self, problems: Iterable[Problem]) -> None:
        """Add problems found elsewhere (e.g. those of a caught AssumptionError)."""
        self._problems.extend(problems)

    def __len__(self) -> int:
        return len(self._problems)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._problems)

    def locate_rows(self, file: str | Path, line_of: Callable[[str], int | None]) -> None:
        """Fill in the line number of problems in ``file`` that have none, by field name."""
        for i, p in enumerate(self._problems):
            if p.file == str(file) and p.row is None:
                self._problems[i] = Problem(p.file, p.field, p.message, line_of(p.field),
                                            p.value)

    def raise_if_any(self) -> None:
        if self._problems:
            raise AssumptionError(self._problems)
