"""``spfsim spf-cost``'s results are those committed in tests/data (issue #16: rebuilding the
floor costing on the scheme library changes no number, or says why in the commit that
regenerates the files with tools/reference_spf_cost.py)."""

from __future__ import annotations

import pytest
from repo_tools import load_tool

tool = load_tool("reference_spf_cost")


@pytest.mark.slow
@pytest.mark.parametrize("file", list(tool.RUNS))
def test_spf_cost_matches_reference(shared_data, file):
    countries, year, levels = tool.RUNS[file]
    ds = tool.reference_view(tool.spf_cost(countries, year, levels, shared_data))
    problems = tool.spf_differences(ds, tool.reference(file))
    assert not problems, "\n".join(problems)


def test_comparison_finds_changed_numbers_text_and_attrs():
    ref = tool.reference("reference_spf_cost_variants.nc")
    changed = ref.copy(deep=True)
    changed["total_expenditure"][0, 0] *= 1 + 1e-8
    changed["note"].values[1] = "another note"
    changed.attrs["year"] = 2021
    problems = tool.spf_differences(changed, ref)
    assert any(p.startswith("total_expenditure: 1 of") for p in problems)
    assert "note: text differs" in problems
    assert any(p.startswith("attrs['year']") for p in problems)
    assert not tool.spf_differences(ref, ref)
