"""The default model's results are those committed in tests/data (issue #16: a refactoring
changes no number). The files are written by tools/reference_outputs.py, and regenerated only
by a commit that says which results move and why."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from repo_tools import load_tool

import spfsim

tool = load_tool("reference_outputs")


def _reference(name: str) -> xr.Dataset:
    with xr.open_dataset(tool.FOLDER / name) as ds:
        return ds.load()


def test_cohort_projection_matches_reference(default_projection):
    problems = tool.differences(tool.reference_view(default_projection),
                                _reference("reference_default_cohort.nc"))
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_micro_projection_matches_reference():
    ds = spfsim.load_model().project("micro", persons=tool.PERSONS, seed=tool.SEED)
    problems = tool.differences(tool.reference_view(ds),
                                _reference("reference_default_micro.nc"))
    assert not problems, "\n".join(problems)


def test_comparison_finds_a_changed_value():
    ref = _reference("reference_default_cohort.nc")
    changed = ref.copy(deep=True)
    changed["reserve"].loc[{"year": 2030, "scheme": "pension"}] *= 1 + 1e-8
    del changed["depletion_year"]
    changed["gdp"].attrs["units"] = "something else"
    problems = tool.differences(changed, ref)
    assert any(p.startswith("reserve: 1 of") for p in problems)
    assert "variables missing: ['depletion_year']" in problems
    assert any(p.startswith("gdp: attrs['units']") for p in problems)
    assert np.isnan(ref["depletion_year"].values).any()  # NaN compares equal to NaN
    assert not tool.differences(ref, ref)
