"""Rewrite the generated parameter tables in docs/schemes.md from the scheme types' specs.

Each type's section in docs/schemes.md holds a table between the markers written by
``spfsim.schemes.docs.parameter_table``; this script replaces every such table (and fails
if a type has no section). Run from anywhere::

    python tools/document_schemes.py
"""

from __future__ import annotations

import re
from pathlib import Path

from spfsim.report.io import atomic_write
from spfsim.schemes import SCHEME_TYPES
from spfsim.schemes.docs import BEGIN, END, parameter_table

DOC = Path(__file__).resolve().parents[1] / "docs" / "schemes.md"


def main() -> None:
    text = DOC.read_text()
    for name, scheme_type in SCHEME_TYPES.items():
        pattern = re.compile(re.escape(BEGIN.format(name)) + r".*?" + re.escape(END), re.S)
        if not pattern.search(text):
            raise SystemExit(f"{DOC}: no generated table for `{name}`; add the line\n"
                             f"{BEGIN.format(name)}\n{END}\nto its section")
        text = pattern.sub(lambda _m, t=scheme_type: parameter_table(t), text)
    atomic_write(DOC, lambda tmp: tmp.write_text(text), overwrite=True)
    print(f"{DOC}: {len(SCHEME_TYPES)} parameter tables written")


if __name__ == "__main__":
    main()
