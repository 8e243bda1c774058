"""Fuzzing the default model's files (issue #23): a mutated cell, row, key or encoding ends
either in an AssumptionError naming the mutated file, or in a projection whose results pass
every invariant (spfsim.checks, run inside each projection) - never in another exception.

CI runs a few examples, always the same ones, on a ten-year horizon; the long variant runs
many random ones on the full horizon, by hand only (a random failure must not fail CI; what
it finds becomes a fixed test). Run it (docs/checks.md, "Hostile input"):

    SPFSIM_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz_inputs.py -m slow
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from model_factory import DEFAULT_MODEL_FOLDERS

import spfsim
from spfsim.errors import AssumptionError
from spfsim.params import compile_assumptions

REPO = Path(__file__).resolve().parents[1]
#: the default model's input files, relative to a copy of the repository's models/ and
#: assumptions/ folders
FILES = ("models/default/model.toml",
         "assumptions/ghana-wpp2024/assumptions.toml",
         "assumptions/ghana-wpp2024/population.csv",
         "assumptions/ghana-wpp2024/mortality.csv",
         "assumptions/ghana-wpp2024/fertility.csv",
         "assumptions/ghana-wpp2024/sex_ratio_at_birth.csv",
         "assumptions/ghana-wpp2024/migration.csv",
         "assumptions/illustrative-lmic/assumptions.toml",
         "assumptions/illustrative-lmic/economy.csv",
         "assumptions/illustrative-lmic/labour.csv",
         "assumptions/illustrative-lmic/disability.csv",
         "assumptions/families-usa-ssa2024/assumptions.toml",
         "assumptions/families-usa-ssa2024/families.csv")
#: values a hostile or careless editor puts in a cell or after a key's "="
TOKENS = ("", "0", "-1", "1e308", "-1e308", "nan", "inf", "-inf", "abc", "1,5", "\x00",
          "１２", "2025.5", "true", "[]", "{}", '"', "'", "=", "[[schemes]]", "0.5",
          "99999999999999999999", "-0", "1e-320")
CI_EXAMPLES = int(os.environ.get("SPFSIM_FUZZ_CI_EXAMPLES", "8"))
LONG_EXAMPLES = int(os.environ.get("SPFSIM_FUZZ_EXAMPLES", "200"))
SHORT_HORIZON = 10  # years projected in the CI variant


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """A copy of the default model and its assumption sets."""
    root = tmp_path_factory.mktemp("fuzz") / "pristine"
    for folder in DEFAULT_MODEL_FOLDERS:
        shutil.copytree(REPO / folder, root / folder)
    return root


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


@st.composite
def mutations(draw) -> tuple[str, str, object]:
    """(file, kind of mutation, its parameters) for one mutation of one input file."""
    file = draw(st.sampled_from(FILES))
    kind = draw(st.sampled_from(("cell", "cell", "line", "key", "encoding")))
    token = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=6),
                           st.floats(allow_nan=True, allow_infinity=True).map(repr)))
    where = draw(st.floats(0.0, 1.0))  # relative position in the file
    column = draw(st.integers(0, 7))
    action = draw(st.sampled_from(("delete", "duplicate", "swap", "junk", "truncate",
                                   "utf16", "latin1", "bom", "crlf", "invalid")))
    return file, kind, (token, where, column, action)


def mutate(root: Path, file: str, kind: str, params: tuple) -> None:
    """Apply one mutation to ``root / file``."""
    token, where, column, action = params
    path = root / file
    data = path.read_bytes()
    lines = _lines(data)
    k = min(int(where * len(lines)), len(lines) - 1)
    encoded = token.encode("utf-8", "surrogatepass")
    if kind == "cell" and file.endswith(".csv"):
        cells = lines[k].rstrip(b"\r\n").split(b",")
        cells[column % len(cells)] = encoded
        lines[k] = b",".join(cells) + b"\n"
    elif kind == "key" or (kind == "cell" and file.endswith(".toml")):
        if b"=" in lines[k]:  # replace a value, or the key
            key, _, value = lines[k].partition(b"=")
            lines[k] = (key + b"= " + encoded + b"\n" if column % 2
                        else encoded + b" =" + value)
        else:
            lines[k] = encoded + b"\n"
    elif kind == "line":
        if action in ("delete", "truncate"):
            del lines[k]
        elif action == "duplicate":
            lines.insert(k, lines[k])
        elif action == "swap" and k + 1 < len(lines):
            lines[k], lines[k + 1] = lines[k + 1], lines[k]
        else:
            lines.insert(k, encoded + b"\n")
    else:  # encoding
        text = data.decode("utf-8")
        data = {"truncate": data[:int(where * len(data))],
                "utf16": text.encode("utf-16"),
                "latin1": text.replace("e", "\u00e9").encode("latin-1"),
                "bom": b"\xef\xbb\xbf" + data,
                "crlf": data.replace(b"\n", b"\r\n"),
                "invalid": data[:int(where * len(data))] + b"\xff\xfe"
                + data[int(where * len(data)):]}.get(action, data + encoded)
        path.write_bytes(data)
        return
    path.write_bytes(b"".join(lines))


def check_one(pristine: Path, work: Path, mutation: tuple, horizon: int | None) -> None:
    """Mutate a fresh copy; loading must fail naming the file, or the projection must run
    (its invariants and finite values checked inside run_projection)."""
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(pristine, work)
    file, kind, params = mutation
    mutate(work, file, kind, params)
    try:
        model = spfsim.load_model(work / "models" / "default")
    except AssumptionError as exc:
        error = exc
    else:
        error = None
    if error is not None:
        named = {Path(p.file).name for p in error.problems}
        assert Path(file).name in named, str(error)
        event("refused with an AssumptionError naming the file")
        return
    if horizon is not None:
        end = min(model.input.end_year, model.input.base_year + horizon)
        model = spfsim.Model(model.input, compile_assumptions(model.input, end))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # capped emigration, jumps: reported, not errors
        model.project()
    event("loaded and projected; every check passed")


@settings(max_examples=CI_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(mutation=mutations())
def test_a_mutated_default_model_fails_cleanly_or_runs(pristine, tmp_path_factory,
                                                       mutation):
    check_one(pristine, pristine.parent / "work", mutation, SHORT_HORIZON)


@pytest.mark.slow
@pytest.mark.skipif("SPFSIM_FUZZ_EXAMPLES" not in os.environ,
                    reason="the long fuzzing run is run by hand (random examples, minutes): "
                    "SPFSIM_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz_inputs.py -m slow")
@settings(max_examples=LONG_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(mutation=mutations())
def test_a_mutated_default_model_fails_cleanly_or_runs_long(pristine, mutation):
    check_one(pristine, pristine.parent / "work", mutation, None)
