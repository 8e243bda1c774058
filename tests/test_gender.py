"""Gender gaps in the Dataset (ILC 2021 para. 15(c); R202 para. 3(d), 21)."""

from __future__ import annotations

import numpy as np
import pytest

from spfsim.engine.flows import SchemeFlows
from spfsim.indicators import GENDER_GAPS, gender_variables

N_AGES = 101


def _flows(scheme_id: str, kind: str, contributors: tuple[float, float],
           beneficiaries: tuple[float, float], spent: tuple[float, float],
           insured: tuple[float, float] | None, by_sex: bool = True) -> SchemeFlows:
    """One year; contributors at age 30, beneficiaries at age 70; ``insured`` is the total
    insured earnings of each sex (None: no insurance), reported by age and sex only when
    ``by_sex``."""
    shape = (1, N_AGES, 2)
    c, b, s = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    c[0, 30] = contributors
    b[0, 70] = beneficiaries
    if insured is not None:
        s[0, 30] = insured
    expenditure = np.array([spent])
    return SchemeFlows(
        scheme_id=scheme_id, kind=kind, contributors=c, beneficiaries=b,
        new_beneficiaries=np.zeros((1, 2)), new_benefit_amount=np.zeros((1, 2)),
        insured_earnings=s.sum(axis=(1, 2)), contribution_income=0.1 * s.sum(axis=(1, 2)),
        benefit_expenditure=expenditure.sum(axis=1), admin_expenditure=np.zeros(1),
        state_subsidy_rate=np.zeros(1), initial_reserve=0.0,
        service_awarded=np.zeros((1, 2, 2)), expenditure_by_sex=expenditure,
        insured_by_age=s if (insured is not None and by_sex) else None)


@pytest.fixture
def variables():
    # 10 persons of each sex at every age: 500 men and 500 women aged 15-64
    population = np.full((1, N_AGES, 2), 10.0)
    flows = [
        # men: 200 contributors earning 5,000 on average, 10 pensioners on 1,000 a year;
        # women: 100 contributors earning 4,000, 20 pensioners on 800
        _flows("pension", "contributory", (200.0, 100.0), (10.0, 20.0), (10_000.0, 16_000.0),
               (1.0e6, 4.0e5)),
        # the same insurance without earnings by sex (average of all contributors: 4,666.67)
        _flows("insurance", "contributory", (200.0, 100.0), (10.0, 20.0),
               (10_000.0, 16_000.0), (1.0e6, 4.0e5), by_sex=False),
        # a non-contributory benefit of 100 a year to 5 men and 5 women
        _flows("social", "non_contributory", (0.0, 0.0), (5.0, 5.0), (500.0, 500.0), None),
    ]
    return gender_variables(flows, population, "LCU")


def test_by_sex_inputs_hand_computed(variables):
    coverage = variables["contributor_coverage_by_sex"].values[0]  # (sex, scheme)
    np.testing.assert_allclose(coverage[:, 0], [200 / 500, 100 / 500])
    assert np.isnan(coverage[:, 2]).all()  # no contributors: not defined
    benefit = variables["average_benefit_by_sex"].values[0]
    np.testing.assert_allclose(benefit, [[1000.0, 1000.0, 100.0], [800.0, 800.0, 100.0]])
    earnings = variables["average_insured_earnings_by_sex"].values[0]
    np.testing.assert_allclose(earnings[:, 0], [5000.0, 4000.0])
    assert np.isnan(earnings[:, 1:]).all()
    replacement = variables["replacement_rate_by_sex"].values[0]
    np.testing.assert_allclose(replacement[:, 0], [0.2, 0.2])
    np.testing.assert_allclose(replacement[:, 1], [1000 / (1.4e6 / 300), 800 / (1.4e6 / 300)])
    assert np.isnan(replacement[:, 2]).all()


def test_gender_gaps_hand_computed(variables):
    gap = variables["gender_gap"]
    assert gap.dims == ("year", "scheme", "gap")
    values = gap.values[0]  # (scheme, gap)
    index = {name: k for k, name in enumerate(GENDER_GAPS)}
    assert list(index) == ["contributor_coverage", "average_benefit", "replacement_rate"]
    pension, insurance, social = values
    # coverage (0.4 - 0.2) / 0.4; benefit (1000 - 800) / 1000; replacement (0.2 - 0.2) / 0.2
    assert pension[index["contributor_coverage"]] == pytest.approx(0.5)
    assert pension[index["average_benefit"]] == pytest.approx(0.2)
    assert pension[index["replacement_rate"]] == pytest.approx(0.0, abs=1e-12)
    # with one earnings figure for both sexes the replacement gap is the benefit gap
    assert insurance[index["replacement_rate"]] == pytest.approx(0.2)
    assert social[index["average_benefit"]] == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(social[index["contributor_coverage"]])
    assert np.isnan(social[index["replacement_rate"]])
    for name, var in variables.items():
        assert var.attrs["units"], name
        assert var.attrs["long_name"], name


def test_gender_gap_in_the_projection(small_projection):
    ds = small_projection
    assert list(ds["gap"].values) == list(GENDER_GAPS)
    gap = ds["gender_gap"]
    assert gap.dims == ("year", "scheme", "gap")
    pension = ds.sel(scheme="pension")
    cov = pension["contributor_coverage_by_sex"]
    expected = (cov.sel(sex="male") - cov.sel(sex="female")) / cov.sel(sex="male")
    np.testing.assert_allclose(gap.sel(scheme="pension", gap="contributor_coverage"),
                               expected, rtol=1e-12)
    # coverage by hand: contributors of all ages / population aged 15-64, by sex
    pop = ds["population"].sel(age=slice(15, 64)).sum("age")
    np.testing.assert_allclose(cov, (pension["contributors"].sum("age") / pop)
                               .transpose("year", "sex"), rtol=1e-12)
    assert np.isnan(gap.sel(scheme="child_benefit", gap="contributor_coverage")).all()
    assert np.isfinite(gap.sel(scheme="pension")).all()
