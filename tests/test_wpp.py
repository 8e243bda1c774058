"""Graduation, the WPP import and the validation of the projection against WPP 2024."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spfsim.demography.graduation import (
    graduate_abridged_mx,
    graduate_asfr,
    graduate_counts,
    graduate_net_flows,
    graduate_population,
    group_life_table_rate,
    keep_abridged_rates,
)
from spfsim.demography.wpp_migration import (
    period_weights,
    scale_totals,
    split_groups,
    spread_totals,
)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.0, 1e6), min_size=2, max_size=21))
def test_graduated_counts_keep_group_totals_and_are_non_negative(totals):
    totals = np.array(totals)
    bounds = 5 * np.arange(len(totals) + 1)
    singles = graduate_counts(bounds, totals)
    assert (singles >= 0).all()
    np.testing.assert_allclose(singles.reshape(-1, 5).sum(axis=1), totals, rtol=1e-12,
                               atol=1e-9)


def test_graduated_population_is_smooth_for_a_smooth_input():
    """Groups of an exponential age distribution graduate back close to it (no steps)."""
    ages = np.arange(101)
    truth = 1000 * np.exp(-0.03 * ages)
    groups = np.append(truth[:100].reshape(20, 5).sum(axis=1), truth[100])
    singles = graduate_population(groups)
    assert np.max(np.abs(singles[:95] / truth[:95] - 1)) < 0.01
    # no jump at a group boundary: the step from age 5k+4 to 5k+5 is no larger than the
    # steps beside it inside the groups (measured 1.015 of them; a uniform split within
    # groups would give a step of the whole difference between groups)
    steps = np.abs(np.diff(singles[:95]))
    for k in range(18):
        beside = 0.5 * (steps[5 * k + 3] + steps[5 * k + 5])
        assert steps[5 * k + 4] <= 1.1 * beside, k


def test_abridged_mx_interpolates_gompertz_exactly():
    """log m linear in age (Gompertz) is reproduced from its group mid-point values."""
    a, b = 1e-4, 0.09
    starts = np.arange(5, 100, 5)
    abridged = np.concatenate([[0.05, 0.004], a * np.exp(b * (starts + 2.5)), [0.6]])
    single = graduate_abridged_mx(abridged)
    centres = np.arange(5, 100) + 0.5
    np.testing.assert_allclose(single[7:100], a * np.exp(b * centres[2:]), rtol=1e-12)
    assert single[0] == 0.05
    assert (single[1:5] == 0.004).all()
    assert single[100] == 0.6


def test_group_life_table_rate_by_hand():
    """One age: d / L = q / (1 - q/2) = m. Two ages, m = 0.1 then 0.2, a(x) = 1/2."""
    assert group_life_table_rate(np.array([0.3]))[()] == pytest.approx(0.3, rel=1e-14)
    q1, q2 = 0.1 / 1.05, 0.2 / 1.1
    l2 = 1 - q1
    deaths = q1 + l2 * q2
    years = (1 - q1 / 2) + (l2 - l2 * q2 / 2)
    assert group_life_table_rate(np.array([0.1, 0.2]))[()] == pytest.approx(deaths / years,
                                                                            rel=1e-14)
    # a flat rate is its own group rate, whatever the number of ages
    np.testing.assert_allclose(group_life_table_rate(np.full((3, 5), 0.04)), 0.04,
                               rtol=1e-14)


def test_kept_abridged_rates_are_the_groups_rates():
    """Gompertz abridged rates: the interpolated curve misses the groups' life-table rates
    (by about 0.8 % over 10-59); scaled, each group has its rate, within-group shape kept."""
    a, b = 1e-4, 0.09
    starts = np.arange(5, 100, 5)
    abridged = np.concatenate([[0.05, 0.004], a * np.exp(b * (starts + 2.5)), [0.6]])
    curve = graduate_abridged_mx(abridged)
    kept = graduate_abridged_mx(abridged, keep_group_rates=True)
    before = group_life_table_rate(curve[5:100].reshape(-1, 5)) / abridged[2:-1] - 1
    assert (before[1:10] > 0.005).all()  # 10-14 .. 55-59 overstated
    np.testing.assert_allclose(group_life_table_rate(kept[5:100].reshape(-1, 5)),
                               abridged[2:-1], rtol=1e-12)
    ratio = (kept[5:100] / curve[5:100]).reshape(-1, 5)
    np.testing.assert_allclose(ratio, ratio[:, :1] * np.ones((1, 5)), rtol=1e-12)
    assert kept[0] == 0.05
    assert (kept[1:5] == 0.004).all()
    assert kept[100] == 0.6
    # leading dimensions: the same as row by row
    both = np.stack([abridged, abridged * 1.3])
    np.testing.assert_allclose(keep_abridged_rates(graduate_abridged_mx(both), both)[1],
                               graduate_abridged_mx(both[1], keep_group_rates=True),
                               rtol=1e-12)


def test_net_flows_keep_group_totals_of_either_sign():
    bounds = np.array([0, 5, 10, 15])
    # a linear cumulative (the same total in every group) graduates to a flat flow
    np.testing.assert_allclose(graduate_net_flows(bounds, [5.0, 5.0, 5.0]), 1.0,
                               rtol=1e-12)
    # in, then out: totals kept; the flow is zero where the cumulative turns (age 5)
    flows = graduate_net_flows(bounds[:3], [10.0, -10.0])
    np.testing.assert_allclose([flows[:5].sum(), flows[5:].sum()], [10.0, -10.0],
                               rtol=1e-12)
    assert (flows[:5] > 0).all()
    assert (flows[5:] < 0).all()
    np.testing.assert_allclose(flows[:5], -flows[5:][::-1], rtol=1e-12)  # mirror image


# PCHIP's harmonic mean of slopes overflows inside scipy for tiny slopes next to huge ones;
# the groups are kept whatever it does (the test's assertion)
@pytest.mark.filterwarnings("ignore:overflow encountered in divide:RuntimeWarning")
@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=42, max_size=42))
def test_split_groups_keeps_every_group(values):
    groups = np.array(values).reshape(21, 2)  # 0-4 ... 95-99, 100+; two sexes
    single = split_groups(groups)
    assert single.shape == (101, 2)
    np.testing.assert_allclose(single[:100].reshape(20, 5, 2).sum(axis=1), groups[:20],
                               rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(single[100], groups[20])


def test_spread_totals_by_hand():
    """pattern total 2, |pattern| total 4: a year of 5 adds 3 x |pattern| / 4."""
    pattern = np.array([[2.0, -1.0], [1.0, 0.0]])  # (age, sex)
    out = spread_totals([2.0, 5.0, -2.0], pattern)
    np.testing.assert_allclose(out[0], pattern)
    np.testing.assert_allclose(out[1], [[3.5, -0.25], [1.75, 0.0]])
    np.testing.assert_allclose(out[2], [[0.0, -2.0], [0.0, 0.0]])
    np.testing.assert_allclose(out.sum(axis=(1, 2)), [2.0, 5.0, -2.0])
    # weights 1/2, 1, 1 on totals whose weighted sum is 2.5 x the pattern's: the weighted
    # flows are 2.5 x the pattern at every age
    weights = period_weights(2020, np.arange(2020, 2023))
    np.testing.assert_array_equal(weights, [0.5, 1.0, 1.0])
    totals = np.array([-4.0, 3.0, 4.0])  # 0.5 * -4 + 3 + 4 = 5 = 2.5 x 2
    flows = spread_totals(totals, pattern)
    np.testing.assert_allclose(np.tensordot(weights, flows, axes=1), 2.5 * pattern,
                               atol=1e-12)
    # no pattern at all: even shares
    np.testing.assert_allclose(spread_totals([4.0], np.zeros((2, 2))), np.ones((1, 2, 2)))


def test_scale_totals_by_hand():
    pattern = np.array([[2.0, -1.0], [1.0, 0.0]])
    np.testing.assert_allclose(scale_totals([4.0, -2.0], pattern), [2 * pattern, -pattern])
    np.testing.assert_array_equal(period_weights(2020, np.arange(2020, 2026)),
                                  [0.5, 1, 1, 1, 1, 0.5])


def test_asfr_keeps_tfr():
    rates = np.array([0.02, 0.15, 0.2, 0.16, 0.1, 0.04, 0.01])
    single = graduate_asfr(rates)
    assert len(single) == 35
    assert single.sum() == pytest.approx(5 * rates.sum(), rel=1e-12)
    assert (single >= 0).all()


@pytest.fixture(scope="module")
def wpp(shared_data):
    from spfsim.demography.wpp import WPPData

    return WPPData(shared_data)


def test_from_wpp_matches_the_wpp_inputs(wpp):
    from spfsim.demography.wpp import from_wpp

    d = from_wpp(wpp, 288)  # Ghana, base 2020
    assert d.years[0] == 2020
    assert d.years[-1] == 2100
    assert d.base_population.shape == (101, 2)
    # the base population keeps WPP's 5-year totals (thousands in the file)
    ref = wpp.rows(wpp.population5, "popAge5dt.csv", 288)
    ref = ref[ref["year"] == 2020]
    assert d.base_population.sum() == pytest.approx(ref["pop"].sum() * 1000, rel=1e-9)
    # fertility of the step 2030-2031 is the mean of calendar TFRs 2030 and 2031
    tfr = wpp.rows(wpp.tfr, "tfr1dt.csv", 288).set_index("year")["tfr"]
    assert d.asfr[10].sum() == pytest.approx(0.5 * (tfr.loc[2030] + tfr.loc[2031]), rel=1e-9)
    assert (d.mx > 0).all()
    assert ((d.srb > 1.0) & (d.srb < 1.1)).all()


def test_unknown_country_and_base_year_are_clear_errors(wpp):
    from spfsim.demography.wpp import from_wpp
    from spfsim.errors import AssumptionError

    with pytest.raises(AssumptionError, match="no rows for this country"):
        from_wpp(wpp, 99999)
    with pytest.raises(AssumptionError, match="must be a multiple of five: WPP 2024"):
        from_wpp(wpp, 288, base_year=2023)


def test_a_period_missing_an_age_group_is_a_clear_error(shared_data):
    """mx5dt's rates are read as a (period, age group) grid: a period short of a group is
    an error naming the file and the periods' rows, not a misaligned grid."""
    from spfsim.demography.wpp import WPPData, from_wpp
    from spfsim.errors import AssumptionError

    data = WPPData(shared_data)
    ghana = data.mx5.loc[[288]]
    first = np.flatnonzero(ghana["period"].to_numpy() == "2030-2035")[0]
    data.mx5 = ghana.iloc[np.r_[0:first, first + 1:len(ghana)]]
    with pytest.raises(AssumptionError, match="mx5dt.csv.*every period needs the same age "
                       r"groups: most periods have 22 rows, these have not \(period: rows\): "
                       "2030: 21 "):
        from_wpp(data, 288)


@pytest.mark.parametrize("country", [392, 840, 566, 356, 76, 276, 288, 360])
def test_projection_reproduces_wpp_medium_variant(wpp, country):
    """Issue #3: totals by sex within 1 % (2050) and 2 % (2100); 5-year groups under 80
    within GROUP_TOLERANCE_2050 in 2050 (3 % in issue #3, 1.5 % since issue #15).
    docs/validation.md reports the figures."""
    from spfsim.demography.validation import GROUP_TOLERANCE_2050, compare_with_wpp

    result = compare_with_wpp(wpp, country)
    for (year, sex), difference in result.total.items():
        assert abs(difference) <= {2050: 0.01, 2100: 0.02}[year], (year, sex, difference)
    group, sex, difference = result.worst_group_2050
    assert abs(difference) <= GROUP_TOLERANCE_2050, (group, sex, difference)


@pytest.mark.slow
def test_every_country_projects_without_negative_population(wpp):
    from spfsim.demography.validation import project_wpp
    from spfsim.demography.wpp import from_wpp

    codes = wpp.country_codes()
    assert len(codes) > 200
    for code in codes:
        projection = project_wpp(from_wpp(wpp, code))
        assert (projection.population >= 0).all(), code
        assert np.isfinite(projection.population).all(), code


def test_import_wpp_writes_a_loadable_assumption_set(shared_data, small_model_dir,
                                                     tmp_path):
    """import-wpp output replaces the small model's demography and the model still loads."""
    import subprocess
    import sys

    import spfsim

    out = tmp_path / "ghana"
    result = subprocess.run([sys.executable, "-m", "spfsim.cli", "import-wpp", "--data",
                             str(shared_data), "--country", "288", "--base-year",
                             "2025", "--out", str(out)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert "Ghana" in result.stdout
    again = subprocess.run([sys.executable, "-m", "spfsim.cli", "import-wpp", "--data",
                            str(shared_data), "--country", "288", "--base-year",
                            "2025", "--out", str(out)], capture_output=True, text=True,
                           check=False)
    assert again.returncode != 0
    assert "--overwrite" in again.stderr
    # keep the small model's economy and labour, take the demography from WPP
    header = small_model_dir / "assumptions" / "assumptions.toml"
    text = header.read_text()
    for table in ("population", "mortality", "fertility", "sex_ratio_at_birth", "migration"):
        start = text.index(f"[tables.{table}]")
        end = text.find("[tables.", start + 1)
        text = text[:start] + (text[end:] if end > 0 else "")
    header.write_text(text)
    model_toml = small_model_dir / "model.toml"
    model_toml.write_text(model_toml.read_text().replace(
        'assumptions = "assumptions"', f'assumptions = ["{out}", "assumptions"]'))
    model = spfsim.load_model(small_model_dir)
    assert model.assumptions.base_population.sum() == pytest.approx(35.06e6, rel=1e-3)
    ds = model.project()
    assert float(ds["population"].sum(("age", "sex")).sel(year=2045)) > 35e6


@pytest.mark.shared_data
@pytest.mark.parametrize("country", [300, 417, 752, 208, 756, 826])
def test_formerly_hard_countries_meet_the_all_country_tolerances(wpp, country):
    """Issue #15: Greece, Kyrgyzstan, Sweden, Denmark, Switzerland and the United Kingdom
    missed their 2050 groups by 2-8 % when 2020-2022 migration took the 2023 age pattern;
    totals by sex within 0.5 % (2050) and 1 % (2100), groups under 80 within 1.5 % (2050).
    The run over every country is tools/validate_wpp.py's (docs/validation.md)."""
    from spfsim.demography.validation import compare_with_wpp

    result = compare_with_wpp(wpp, country)
    assert result.checked
    assert result.misses() == [], {m: result.figure(m) for m in result.misses()}


@pytest.mark.shared_data
@pytest.mark.parametrize("country", [203, 414])
def test_2020_2022_migration_keeps_the_published_period_and_years(wpp, country):
    """Czechia (2022 refugee inflow) and Kuwait (2020 departures, 2022 returns): the
    2020-2025 flows weighted 1/2, 1, ..., 1/2 give back migprojAge5dt by group and sex,
    and each of 2020-2022 its mig1dt total."""
    from spfsim.demography.wpp_migration import _migration_calendar, _period_groups

    years, flows = _migration_calendar(wpp, country, 2020)
    period = np.tensordot(period_weights(2020, years[:6]), flows[:6], axes=1)
    groups = np.concatenate([period[:100].reshape(20, 5, 2).sum(axis=1), period[100:]])
    np.testing.assert_allclose(groups, _period_groups(wpp, country, "2020-2025"),
                               atol=1.0)  # persons: the files' rounding
    totals = wpp.rows(wpp.migration_totals, "mig1dt.csv", country).set_index("year")["mig"]
    np.testing.assert_allclose(flows[:3].sum(axis=(1, 2)),
                               [1000 * totals.loc[y] for y in (2020, 2021, 2022)], rtol=1e-12)


@pytest.mark.shared_data
def test_a_births_miss_is_shown_as_such(wpp):
    """Jamaica misses its 2100 total by about 1 %: with WPP's published births imposed it
    is within 0.1 %, and WPP's own fertility inputs on WPP's own population give fewer
    births than WPP publishes (the gap the projection inherits)."""
    from spfsim.demography.validation import compare_with_wpp, explain_miss

    result = compare_with_wpp(wpp, 388)
    evidence = explain_miss(wpp, result)
    assert abs(evidence.births_imposed.figure("total 2100")) < 0.001
    assert all(gap < 0 for gap in evidence.implied_births.values())
    assert abs(evidence.births_imposed.totals[(2050, "female")]) < 0.001


def test_project_with_births_imposes_them():
    """A synthetic population: the counterfactual births are the ones asked for."""
    from spfsim.demography.validation import project_with_births, project_wpp
    from spfsim.demography.wpp import WPPDemography

    n = 31
    asfr = np.zeros((n, 101))
    asfr[:, 15:50] = 0.06
    demography = WPPDemography(0, "synthetic", np.arange(2020, 2020 + n),
                               np.full((101, 2), 1000.0), np.full((n, 101, 2), 0.01), asfr,
                               np.full(n, 1.05), np.zeros((n, 101, 2)))
    births = project_wpp(demography).births.sum(axis=1) * np.linspace(1.1, 0.8, n)
    projected = project_with_births(demography, births)
    np.testing.assert_allclose(projected.births.sum(axis=1), births, rtol=1e-10)


def test_comparison_misses_name_the_measures():
    from spfsim.demography.validation import Comparison

    totals = {(y, s): 0.0 for y in (2030, 2050, 2100) for s in ("male", "female")}
    totals[(2100, "female")] = -0.011
    totals[(2050, "male")] = 0.004
    groups = {2030: ("0-4", "male", 0.05), 2050: ("20-24", "female", 0.016),
              2100: ("75-79", "male", 0.2)}
    big = Comparison(1, "a", 2020, 2e6, totals, groups)
    assert big.checked
    assert big.misses() == ["total 2100", "groups 2050"]
    assert big.figure("total 2100") == -0.011
    assert big.worst_total(2050) == ("male", 0.004)
    assert big.total == {k: v for k, v in totals.items() if k[0] in (2050, 2100)}
    assert not Comparison(2, "b", 2020, 0.9e6, totals, groups).checked


def _tool():
    from repo_tools import load_tool

    return load_tool("validate_wpp")


def test_tool_writes_only_between_its_markers(tmp_path):
    tool = _tool()
    begin, end = tool.BEGIN, tool.END
    # the first time: markers around what the file holds, then its content inside
    first = tool.replace_section("# Old\n\nold text\n", "# New\n\nnew text")
    assert first == f"{begin}\n# New\n\nnew text\n{end}\n"
    # another tool's section after the markers (and text before) is kept byte for byte
    other = f"intro\n\n{first}\n<!-- BEGIN tools/other.py -->\nx  \n<!-- END tools/other.py -->\n"
    again = tool.replace_section(other, "second")
    assert again == other.replace("# New\n\nnew text", "second")
    assert tool.replace_section(again, "second") == again
    with pytest.raises(ValueError, match="expected one"):
        tool.replace_section(f"{begin}\nno end\n", "x")
    out = tmp_path / "validation.md"
    tool.write_atomically(out, again)
    assert out.read_text(encoding="utf-8") == again
    assert [p.name for p in tmp_path.iterdir()] == ["validation.md"]
