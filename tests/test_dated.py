"""Dated parameters: values by effective year, indexation, by-sex values."""

from __future__ import annotations

import numpy as np
import pytest

from spfsim.errors import ProblemLog
from spfsim.params.dated import Indexation, ParamSpec, parse_indexation, parse_parameter

YEARS = np.arange(2025, 2031)
GROWTH = {"prices": np.full(6, 0.10), "wages": np.full(6, 0.20)}
AMOUNT = ParamSpec("benefit", "currency", "", low=0.0, indexable=True)
RATE = ParamSpec("rate", "fraction", "", low=0.0, high=1.0, by_sex=True)


def parse(spec, raw):
    log = ProblemLog()
    value = parse_parameter(spec, raw, "p", "model.toml", log, 2025)
    return value, list(log)


def test_step_function_by_effective_year():
    value, problems = parse(RATE, {"2025": 0.1, "2028": 0.2})
    assert not problems
    np.testing.assert_array_equal(value["male"].compile(YEARS, GROWTH),
                                  [0.1, 0.1, 0.1, 0.2, 0.2, 0.2])


def test_indexed_amount_is_uprated_from_each_effective_year():
    value, _ = parse(AMOUNT, {"values": {"2025": 100.0, "2028": 200.0}, "indexation": "prices"})
    compiled = value["all"].compile(YEARS, GROWTH)
    # 100 uprated by 10 % a year, then a new value 200 from 2028, uprated again
    np.testing.assert_allclose(compiled, [100, 110, 121, 200, 220, 242])


def test_mixed_indexation_mixes_growth_rates():
    value, _ = parse(AMOUNT, {"value": 100.0, "indexation": {"prices": 0.5, "wages": 0.5}})
    compiled = value["all"].compile(YEARS, GROWTH)
    np.testing.assert_allclose(compiled, 100 * 1.15 ** np.arange(6))


def test_by_sex_values_and_broadcast():
    value, _ = parse(RATE, {"male": 0.1, "female": {"2025": 0.1, "2027": 0.3}})
    assert value["female"].compile(YEARS, GROWTH)[2] == 0.3
    same, _ = parse(RATE, 0.25)
    assert set(same) == {"male", "female"}


@pytest.mark.parametrize(("raw", "fragment"), [
    ({"2030": 0.1}, "first effective year"),
    ({"abc": 0.1}, "whole numbers"),
    (1.5, "between 0 and 1"),
    ("x", "expected a number"),
    ({"male": 0.1}, "exactly the keys"),
])
def test_bad_parameter_values(raw, fragment):
    _, problems = parse(RATE, raw)
    assert problems
    assert fragment in str(problems[0])


def test_indexation_forms():
    log = ProblemLog()
    assert parse_indexation("none", "x", "f", log) == Indexation()
    assert parse_indexation("wages", "x", "f", log).weights == (("wages", 1.0),)
    assert parse_indexation("gold", "x", "f", log) is None
    assert "unknown indexation" in str(next(iter(log)))


def test_an_indexation_lag_grows_by_the_index_of_years_before():
    """Wages growing 20 % a year to 2027, then 5 %: with a lag of two years the amount
    grows in 2026 and 2027 by the first year's 20 % (standing for the years before), then
    by 2025-2027's 20 % until 2029, by 2028's 5 % in 2030."""
    growth = {"prices": np.full(6, 0.10), "wages": np.array([0.2, 0.2, 0.2, 0.05, 0.05, 0.05])}
    value, problems = parse(AMOUNT, {"value": 100.0, "indexation": "wages",
                                     "indexation_lag": 2})
    assert not problems
    np.testing.assert_allclose(value["all"].compile(YEARS, growth),
                               100 * np.cumprod([1.0, 1.2, 1.2, 1.2, 1.2, 1.05]), rtol=1e-14)
    assert value["all"].indexation.describe() == "1 x wages, 2 years before"
    plain, _ = parse(AMOUNT, {"value": 100.0, "indexation": "wages", "indexation_lag": 0})
    np.testing.assert_array_equal(plain["all"].compile(YEARS, growth),
                                  parse(AMOUNT, {"value": 100.0, "indexation": "wages"})[0][
                                      "all"].compile(YEARS, growth))


@pytest.mark.parametrize(("raw", "fragment"), [
    ({"value": 1.0, "indexation_lag": 2}, "needs an 'indexation'"),
    ({"value": 1.0, "indexation": "wages", "indexation_lag": 1.5}, "whole years from 0 to 10"),
    ({"value": 1.0, "indexation": "wages", "indexation_lag": -1}, "whole years from 0 to 10"),
    ({"value": 1.0, "indexation": "wages", "indexation_lag": "2"}, "whole years from 0 to 10"),
])
def test_bad_indexation_lags(raw, fragment):
    _, problems = parse(AMOUNT, raw)
    assert problems
    assert fragment in str(problems[0])
    assert "p.indexation_lag" in str(problems[0])
