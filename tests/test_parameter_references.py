"""A parameter's source in law beside its value in model.toml (as OpenFisca parameters
carry theirs), shown with the value in the report's Assumptions sheet (issue #21)."""

from __future__ import annotations

import numpy as np
import pytest
from model_factory import write_small_model

import spfsim
from spfsim.errors import AssumptionError
from spfsim.report.summary import describe_assumptions

ACT = "Social Security Act 12/2019, art. 31 (as amended 1 July 2024)"


def _with(folder, old: str, new: str):
    toml = folder / "model.toml"
    text = toml.read_text()
    assert old in text
    toml.write_text(text.replace(old, new))
    return folder


def test_a_reference_rides_with_its_value(tmp_path):
    plain = write_small_model(tmp_path / "plain")
    cited = _with(write_small_model(tmp_path / "cited"), "accrual_rate = 0.02",
                  f'accrual_rate = {{ value = 0.02, reference = "{ACT}" }}')
    cited = _with(cited, 'minimum_pension = { value = 1500.0, indexation = "prices" }',
                  'minimum_pension = { value = 1500.0, indexation = "prices", '
                  'reference = "Decree 4/2025" }')
    a, b = spfsim.load_model(plain, end_year=2030), spfsim.load_model(cited, end_year=2030)
    assert b.input.schemes[0].references == {"accrual_rate": ACT,
                                             "minimum_pension": "Decree 4/2025"}
    assert np.array_equal(a.project()["reserve"].values, b.project()["reserve"].values)
    rows = {row[1]: row for row in describe_assumptions(b)}
    assert rows["accrual_rate"][2] == 0.02
    assert rows["accrual_rate"][4].endswith(f"source: {ACT}")
    # a reform's new value without a reference drops the old value's
    reformed = b.with_parameters({"pension": {"accrual_rate": 0.025}})
    assert "accrual_rate" not in reformed.input.schemes[0].references
    assert reformed.input.schemes[0].references["minimum_pension"] == "Decree 4/2025"


@pytest.mark.parametrize("reference", ["12", '""', '"' + "x" * 300 + '"'])
def test_a_bad_reference_names_its_field(tmp_path, reference):
    folder = _with(write_small_model(tmp_path / "m"), "accrual_rate = 0.02",
                   f"accrual_rate = {{ value = 0.02, reference = {reference} }}")
    with pytest.raises(AssumptionError) as caught:
        spfsim.load_model(folder)
    assert "schemes.pension.parameters.accrual_rate.reference" in str(caught.value)
