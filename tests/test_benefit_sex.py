"""A non-contributory benefit for one sex (the ``sex`` parameter): both engines pay no one
of the other sex, and the cohort engine pays the entitled sex as before."""

from __future__ import annotations

import numpy as np
import pytest
from model_factory import write_small_model

import spfsim


@pytest.fixture(scope="module")
def girls_only(tmp_path_factory):
    folder = write_small_model(tmp_path_factory.mktemp("sex") / "m")
    model = folder / "model.toml"
    text = model.read_text().replace('type = "universal_benefit"', 'type = "child_benefit"')
    model.write_text(text.replace("take_up = 0.9", 'take_up = 0.9\nsex = "female"'))
    return folder


def test_cohort_engine_pays_only_the_entitled_sex(girls_only):
    ds = spfsim.load_model(girls_only, end_year=2030).project()
    paid = ds["beneficiaries"].sel(scheme="child_benefit").sum("age")
    assert float(paid.sel(sex="male").max()) == 0.0
    girls = ds["population"].sel(age=slice(0, 14), sex="female").sum("age")
    np.testing.assert_allclose(paid.sel(sex="female"), 0.9 * girls, rtol=1e-12)


def test_micro_engine_pays_only_the_entitled_sex(girls_only):
    ds = spfsim.load_model(girls_only, end_year=2027).project("micro", persons=3000, seed=3)
    paid = ds["beneficiaries"].sel(scheme="child_benefit").sum("age")
    assert float(paid.sel(sex="male").max()) == 0.0
    assert float(paid.sel(sex="female").min()) > 0.0


def test_an_unknown_sex_is_refused(tmp_path):
    folder = write_small_model(tmp_path / "m")
    model = folder / "model.toml"
    model.write_text(model.read_text().replace("take_up = 0.9", 'take_up = 0.9\nsex = "boys"'))
    with pytest.raises(spfsim.errors.AssumptionError, match="sex"):
        spfsim.load_model(folder)
