"""tools/actuarial_review.py (issues #15, #20): the identities its tables print hold on
the default model's projection, its orphans' arithmetic lands on the engine's figure, and
it writes only its own section of docs/validation.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from repo_tools import load_tool

import spfsim

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def review():
    return load_tool("actuarial_review")


@pytest.fixture(scope="module")
def model():
    return spfsim.load_model()


@pytest.fixture(scope="module")
def indicators(review, model, default_projection):
    return review.review_indicators(model, default_projection)


@pytest.fixture(scope="module")
def orphans(review, model, default_projection):
    return review.orphan_arithmetic(model, default_projection)


def test_cost_rate_decomposition_multiplies_back(review, indicators, default_projection):
    d = review.cost_rate_decomposition(indicators)
    paygo = default_projection["paygo_cost_rate"].sel(scheme="pension").to_series()
    np.testing.assert_allclose(d["paygo"], paygo, rtol=0, atol=0)
    assert d["residual"].abs().max() <= 1e-12 * paygo.max()
    np.testing.assert_allclose(d["dependency"] * d["relative_coverage"],
                               indicators["sdr_old_age"].to_series(), rtol=1e-12)
    # every factor is a finite positive number in every year
    factors = d[["dependency", "relative_coverage", "benefit_ratio", "branches", "loading"]]
    assert np.isfinite(factors.to_numpy()).all()
    assert (factors.to_numpy() > 0).all()


def test_branch_cost_rates_add_up_to_the_paygo_rate(review, indicators):
    b = review.branch_cost_rates(indicators)
    np.testing.assert_allclose(b["sum"], b["paygo"], rtol=1e-12)
    np.testing.assert_allclose(b["old_age_product"], b["old_age"], rtol=1e-12)
    assert (b[["old_age", "disability", "survivors", "administration"]] > 0).all().all()


def test_orphans_arithmetic_lands_on_the_engine(orphans):
    """The year's new orphans recomputed from the base-year insured population agree with
    the engine's flow within 2 % (the arithmetic leaves out only the year's care credits
    and the rule that survivors must exist, neither of which binds here); the share of
    17-year-olds within 5 % (child mortality and migration act on the engine's stock
    between the death and age 17); the steady-state stock within 10 % (the engine's stock
    was built while membership grew since 1991, so it is smaller)."""
    assert orphans.new == pytest.approx(orphans.engine_new, rel=0.02)
    assert orphans.share_at_limit == pytest.approx(orphans.engine_share_at_limit, rel=0.05)
    assert orphans.steady_stock == pytest.approx(orphans.engine_stock, rel=0.10)
    # issue #20: 2-5 % of 17-year-olds, a fraction of all who lose a parent
    assert 0.02 <= orphans.engine_share_at_limit <= 0.05
    assert orphans.share_at_limit < 0.5 * orphans.all_share_at_limit
    assert orphans.new == pytest.approx(float((orphans.deaths
                                               * orphans.children_per_death).sum()))
    assert 0 < orphans.average_years < orphans.limit


def test_verdicts_say_which_years_are_outside(review):
    expected = review.Expected({2025: (0.1, 0.2), 2050: (0.3, 0.4)}, "a reason")
    values = {year: 0.15 if year < 2050 else 0.35 for year in review.REVIEW_YEARS}
    values[2050] = 0.25
    values[2030] = float("nan")  # no awards that year: not judged
    row = review.Row("x", values, expected)
    row.judge()
    assert row.outside == [2050]
    assert "outside" in row.verdict()
    assert "to investigate" in row.verdict()
    row.if_outside = "why"
    assert "explained below" in row.verdict()
    assert expected.describe() == "10–20% to 2049; 30–40% from 2050"


def test_every_row_has_a_range_and_a_reason(review, model, indicators, tmp_path):
    rows = review.review_rows(indicators, {}, {}, 17)  # no WPP data: row 1 not judged
    assert rows[0].verdict().startswith("not judged")
    for row in rows[1:]:
        assert row.expected.bands, row.label
        assert len(row.expected.reason) > 80, row.label
        assert set(row.values) == set(review.REVIEW_YEARS)


@pytest.mark.shared_data
def test_dependency_ratio_within_the_wpp_band(review, indicators, shared_data):
    bands, ghana = review.wpp_dependency_bands(shared_data)
    row = review.review_rows(indicators, bands, ghana, 17)[0]
    assert row.outside == []
    for year, value in ghana.items():  # the model's demography is Ghana's WPP 2024
        assert row.values[year] == pytest.approx(value, rel=0.02)


def test_section_renders_every_figure(review, model, default_projection, orphans, tmp_path):
    section = review.build_section(model, default_projection, tmp_path / "no-data", orphans)
    assert section.startswith(review.BEGIN)
    assert section.rstrip().endswith(review.END)
    assert "nan" not in section.lower()
    assert "| 2100 |" in section


def test_only_the_section_between_the_markers_is_replaced(review):
    section = f"{review.BEGIN}\nnew\n{review.END}\n"
    before = f"# Title\n\nother tool's text\n\n{review.BEGIN}\nold\n{review.END}\n\n## after\n"
    after = review.replace_section(before, section)
    assert after == f"# Title\n\nother tool's text\n\n{section}\n## after\n"
    assert review.replace_section(after, section) == after
    # absent markers: appended after a blank line, the rest kept byte for byte
    assert review.replace_section("# Title\nlast line", section) == \
        f"# Title\nlast line\n\n{section}"
    assert review.replace_section("", section) == section
    with pytest.raises(ValueError, match="2 times"):
        review.replace_section(before + before, section)
