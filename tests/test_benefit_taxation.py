"""The income tax on benefits paid into the fund (benefit_tax_* parameters; US Internal
Revenue Code sec. 86): the rule by hand and against quadrature, and through both engines'
fund."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

import spfsim
from spfsim.schemes import pension_rules as rules


def _by_hand(benefit: float, threshold: float, inclusion: float, other: float) -> float:
    """sec. 86(a)(1): the lesser of half the benefit and half the combined income (other
    income + half the benefit) above the threshold."""
    combined = other * benefit + 0.5 * benefit
    return min(inclusion * benefit, inclusion * max(combined - threshold, 0.0))


@pytest.mark.parametrize(("benefit", "expected"), [(10_000.0, 0.0), (30_000.0, 10_000.0),
                                                   (60_000.0, 30_000.0)])
def test_taxable_benefit_by_hand(benefit, expected):
    """Other income equal to the benefit, threshold 25,000: combined income 1.5 B; at
    30,000 half of (45,000 - 25,000) is taxable, at 60,000 half the benefit."""
    assert rules.taxable_benefit(benefit, 0.0, 25_000.0, 0.5, 1.0) == pytest.approx(
        expected, abs=1e-9)
    assert _by_hand(benefit, 25_000.0, 0.5, 1.0) == pytest.approx(expected)


@settings(max_examples=40, deadline=None)
@given(benefit=st.floats(1_000.0, 100_000.0), spread=st.floats(0.05, 1.5),
       threshold=st.floats(0.0, 60_000.0), other=st.floats(0.0, 5.0))
def test_taxable_benefit_is_the_integral(benefit, spread, threshold, other):
    """The mean over lognormal benefits (mean ``benefit``, log-sd ``spread``) equals
    quadrature of the law's per-person amount."""
    mu = math.log(benefit) - spread * spread / 2
    kinks = [threshold / (other + 0.5)] + ([threshold / (other - 0.5)] if other > 0.5 else [])
    points = sorted(p for p in ((math.log(k) - mu) / spread for k in kinks if k > 0)
                    if -10 < p < 10)
    expected = integrate.quad(
        lambda z: _by_hand(math.exp(mu + spread * z), threshold, 0.5, other)
        * stats.norm.pdf(z), -10, 10, points=points or None, limit=200, epsabs=1e-8)[0]
    assert rules.taxable_benefit(benefit, spread, threshold, 0.5, other) == pytest.approx(
        expected, rel=1e-7, abs=1e-6)


def _with_taxation(folder, threshold: float, rate: float = 0.2, other: float = 1.0):
    model = folder / "model.toml"
    model.write_text(model.read_text().replace("start_year = 1995", f"""start_year = 1995
benefit_tax_threshold = {threshold}
benefit_tax_rate = {rate}
benefit_tax_other_income = {other}"""))
    return spfsim.load_model(folder, end_year=2035)


@pytest.mark.parametrize("engine", ["cohort", "micro"])
def test_a_zero_threshold_taxes_half_of_every_pension(small_model_dir, engine):
    """Threshold 0 and other income at least half the benefit: half of every pension is
    taxed, so the fund receives rate x 0.5 x the pensions (the small model pays no
    refunds), in either engine."""
    model = _with_taxation(small_model_dir, 0.0)
    full = model.project(engine, persons=3000, seed=3)
    ds = full.sel(scheme="pension")
    plain = ds["benefit_expenditure"]
    np.testing.assert_allclose(ds["state_transfer"], 0.2 * 0.5 * plain, rtol=1e-9)
    # reported apart, and no cost to the state's budget
    np.testing.assert_allclose(ds["benefit_tax_income"], ds["state_transfer"], rtol=1e-12)
    others = full["state_transfer"].sum("scheme") - ds["state_transfer"]
    np.testing.assert_allclose(full["state_cost"], others, rtol=1e-12)


def test_a_fixed_threshold_taxes_a_rising_share(small_model_dir):
    """A threshold fixed in money while pensions grow with prices and wages: the taxed
    share of the pensions rises every year, and stays under rate x inclusion."""
    ds = _with_taxation(small_model_dir, 3000.0).project().sel(scheme="pension")
    share = (ds["state_transfer"] / ds["benefit_expenditure"]).values
    assert np.all(np.diff(share) > 0)
    assert share.max() < 0.2 * 0.5

