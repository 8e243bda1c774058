"""The ``[disclosure]`` section of model.toml: the disclosure control of micro runs started
from a person file (R202 para. 23; :mod:`spfsim.results.disclosure` applies it).

- ``minimum_records``: a whole number >= 1 (default :data:`DEFAULT_MINIMUM_RECORDS`); a
  cell of the results behind which at least one and fewer than this many of the person
  file's records stand is suppressed. 1 suppresses nothing.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ProblemLog

DEFAULT_MINIMUM_RECORDS = 10  # as statistical offices' common threshold rules for tables
KEYS = ("minimum_records",)


def read_disclosure(section: object, path: Path, log: ProblemLog) -> int:
    """The section's ``minimum_records`` (the default when the model has no section);
    problems go to ``log`` with the file, the field and the value."""
    if section is None:
        return DEFAULT_MINIMUM_RECORDS
    if not isinstance(section, dict):
        log.add(path, "disclosure", "expected a table ([disclosure])", None, section)
        return DEFAULT_MINIMUM_RECORDS
    for key in section:
        if key not in KEYS:
            log.add(path, f"disclosure.{key}", f"unknown entry; known: {list(KEYS)}", None,
                    key)
    value = section.get("minimum_records", DEFAULT_MINIMUM_RECORDS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        log.add(path, "disclosure.minimum_records", "must be a whole number of records >= 1",
                None, value)
        return DEFAULT_MINIMUM_RECORDS
    return value
