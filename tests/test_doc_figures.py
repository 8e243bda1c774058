"""The docs' figures about the default model are those tools/doc_figures.py computes."""

from __future__ import annotations

import numpy as np
import pytest
from repo_tools import load_tool

import spfsim


@pytest.fixture(scope="module")
def tool():
    return load_tool("doc_figures")


def _stale(tool, values: dict[str, str]) -> list[str]:
    """'file: figure' of each marked spot whose text differs from ``values``."""
    stale = []
    for path in tool.DOCS:
        text = path.read_text()
        for name, body in tool.marked(text):
            if name in values and body != values[name]:
                stale.append(f"{path.name}: {name}")
    return stale


def test_assumption_figures_are_current(tool):
    """Cheap: the figures from the model's files (no projection)."""
    stale = _stale(tool, tool.figures(spfsim.load_model()))
    assert not stale, f"stale figures {stale}: run python tools/doc_figures.py"


def test_every_figure_is_marked(tool):
    names = [name for path in tool.DOCS for name, _ in tool.marked(path.read_text())]
    assert set(names) == {*tool.ASSUMPTION_FIGURES, *tool.PROJECTION_FIGURES,
                          *tool.MICRO_FIGURES}
    for path in tool.DOCS:  # no inline spot starts a line (Markdown would read an HTML block)
        for line in path.read_text().splitlines():
            assert not (line.startswith("<!-- BEGIN generated:") and line.endswith("-->")
                        and "<!-- END" in line), (path.name, line)


@pytest.mark.slow
def test_projection_figures_are_current(tool, default_projection):
    """The figures from the default model's cohort projection (cohort returns, the
    actuarial balance, the jumps a run lists)."""
    stale = _stale(tool, tool.figures(spfsim.load_model(), default_projection))
    assert not stale, f"stale figures {stale}: run python tools/doc_figures.py"


def test_path_phrase(tool):
    years = np.arange(2025, 2036)
    ramp = np.interp(years, [2025, 2030], [0.12, 0.05])
    assert tool.path_phrase(years, ramp) == "12 % in 2025 falling to 5 % by 2030"
    held = np.interp(years, [2028, 2033], [0.02, 0.015])
    assert tool.path_phrase(years, held) == "2 % to 2028, falling to 1.5 % by 2033"
    assert tool.path_phrase(years, np.full(len(years), 0.025)) == "2.5 % throughout"
    assert tool.dated_phrase({2025: 60, 2030: 61, 2035: 62}, str) == "60 rising to 62 by 2035"
    assert tool.dated_phrase({2025: 0.11, 2030: 0.13}, tool.percent, "contribution") == \
        "11 % contribution rising to 13 % in 2030"


def test_rewrite(tool):
    text = ("a <!-- BEGIN generated:horizon -->old<!-- END generated:horizon --> b\n"
            "<!-- BEGIN generated:jumps-example -->\nold\n<!-- END generated:jumps-example -->\n")
    new = tool.rewrite(text, {"horizon": "2025–2100"})
    assert new.startswith("a <!-- BEGIN generated:horizon -->2025–2100<!-- END")
    assert new.endswith("-->\nold\n<!-- END generated:jumps-example -->\n")  # not given: kept
    with pytest.raises(ValueError, match="unknown figures: typo"):
        tool.rewrite("<!-- BEGIN generated:typo -->x<!-- END generated:typo -->", {})
