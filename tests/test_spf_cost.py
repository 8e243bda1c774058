"""Rapid SPF costing (``spfsim spf-cost``): arithmetic, levels and macro files, end to end."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from spfsim.cli import main
from spfsim.demography.wpp import WPPDemography
from spfsim.errors import AssumptionError
from spfsim.spf import (
    BENEFITS,
    PARAMETERS,
    CountryCodes,
    CountryInputs,
    Levels,
    MacroData,
    MacroInputs,
    build_spf_workbook,
    cost_country,
    costing_dataset,
    default_levels,
    load_levels,
    load_macro_file,
    resolve_macro,
)
from spfsim.spf.levels import DEFAULT_LEVELS_FILE, valid_range

# A tiny synthetic country: 10 persons of each sex at every age 0..100 (2,020 persons), no
# deaths or migration, fertility 0.5 at ages 20-29 (50 births, 50 mothers of newborns), GDP
# per capita 1,000 and a poverty line of 2.00 a day (730 a year).
POP = np.full((101, 2), 10.0)
BIRTHS = 50.0
MACRO = MacroInputs(gdp_per_capita=1000.0, poverty_line=2.0, government_revenue_share=0.25,
                    poverty_headcount=0.3)
GDP = 1000.0 * 2020


def _demography(population: np.ndarray = POP) -> WPPDemography:
    asfr = np.zeros((2, 101))
    asfr[:, 20:30] = 0.5
    return WPPDemography(1, "Testland", np.array([2025, 2026]), population,
                         np.zeros((2, 101, 2)), asfr, np.ones(2), np.zeros((2, 101, 2)))


def _country(m49: int = 1, macro: MacroInputs = MACRO, notes: tuple[str, ...] = (),
             population: np.ndarray = POP) -> CountryInputs:
    return CountryInputs(m49, "TST", f"Testland {m49}", _demography(population), macro, notes)


def _costs(*benefits, macro: MacroInputs = MACRO, population: np.ndarray = POP) -> dict:
    """Each benefit's cost in the synthetic country, 2025 (benefits: changed defaults)."""
    changed = {b.id: b for b in benefits}
    levels = default_levels()
    levels = Levels(tuple(changed.get(b.id, b) for b in levels.benefits), levels.title)
    return cost_country(levels, _country(macro=macro, population=population), 2025).costs


def _levels_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "levels.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _problems(exc: pytest.ExceptionInfo[AssumptionError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


# --------------------------------------------------------------------------- arithmetic


def test_hand_computed_costs_of_the_default_levels():
    costs = _costs()
    child = costs["child"]
    # ages 0-4, both sexes: 100 children x 25 % of 730 x 12/12 = 18,250; admin 10 %
    assert child.target_population == 100
    assert child.beneficiaries == 100
    assert child.benefit_level == pytest.approx(182.5)
    assert child.benefit_expenditure == pytest.approx(18_250)
    assert child.admin_expenditure == pytest.approx(1_825)
    assert child.total_expenditure == pytest.approx(20_075)
    assert child.cost_to_gdp == pytest.approx(20_075 / GDP)
    assert child.cost_to_revenue == pytest.approx(20_075 / (0.25 * GDP))

    maternity = costs["maternity"]
    # 50 births x 100 % of 730 for 4 months = 50 x 243.33
    assert maternity.target_population == 50
    assert maternity.benefit_level == pytest.approx(730 * 4 / 12)
    assert maternity.benefit_expenditure == pytest.approx(50 * 730 / 3)

    disability = costs["disability"]
    # ages 15-64: 1,000 persons x 3.8 % = 38 beneficiaries x 730
    assert disability.target_population == pytest.approx(38)
    assert disability.benefit_expenditure == pytest.approx(38 * 730)

    old_age = costs["old_age"]
    # ages 65-100 (100 = 100+): 36 ages x 20 = 720 persons x 730
    assert old_age.beneficiaries == 720
    assert old_age.total_expenditure == pytest.approx(720 * 730 * 1.1)

    health = costs["health"]
    # everyone x 5 % of GDP per capita, no admin on top: 5 % of GDP
    assert health.benefit_level == pytest.approx(50)
    assert health.total_expenditure == pytest.approx(0.05 * GDP)
    assert health.cost_to_gdp == pytest.approx(0.05)


def test_sex_prevalence_from_poverty_and_monthly_dollar_levels():
    benefit = default_levels()["working_age_poor"].with_values(
        sex="female", coverage=0.5, basis="ppp_dollars_per_month", level=20.0, months=6,
        admin_share=0.0)
    cost = _costs(benefit.with_values(enabled=True))["working_age_poor"]
    # women 15-64: 500 x poverty headcount 0.3 = 150; half covered; 20 a month for 6 months
    assert cost.target_population == pytest.approx(150)
    assert cost.beneficiaries == pytest.approx(75)
    assert cost.benefit_level == pytest.approx(120)
    assert cost.total_expenditure == pytest.approx(9_000)


def test_unknown_gdp_leaves_money_shares_nan_but_persons_costed():
    costs = _costs(macro=MacroInputs(gdp_per_capita=math.nan))
    child = costs["child"]
    assert child.beneficiaries == 100
    assert child.total_expenditure == pytest.approx(100 * 0.25 * 3.0 * 365 * 1.1)
    assert math.isnan(child.cost_to_gdp)
    assert math.isnan(child.cost_to_revenue)
    assert costs["health"].beneficiaries == 2020
    assert math.isnan(costs["health"].total_expenditure)


_LEVELS = default_levels()
_BY_AGE = [b.id for b in _LEVELS.benefits if b.spec.target == "population"]


@settings(max_examples=15, deadline=None)
@given(benefit_id=st.sampled_from([b.id for b in _LEVELS.benefits]),
       factor=st.floats(0.0, 10.0),
       level=st.floats(0.0, 1.0),
       coverage=st.floats(0.0, 1.0),
       prevalence=st.floats(0.0, 1.0),
       ages=st.tuples(st.integers(0, 100), st.integers(0, 100)),
       population=st.lists(st.floats(1.0, 1e6), min_size=202, max_size=202))
def test_cost_is_linear_in_the_level_and_beneficiaries_within_target(
        benefit_id, factor, level, coverage, prevalence, ages, population):
    values = {"level": level, "coverage": coverage}
    if benefit_id in _BY_AGE:
        values.update(prevalence=prevalence, age_min=min(ages), age_max=max(ages))
    benefit = _LEVELS[benefit_id].with_values(enabled=True, **values)
    pop = np.array(population).reshape(101, 2)
    base = _costs(benefit, population=pop)[benefit_id]
    scaled = _costs(benefit.with_values(level=level * factor), population=pop)[benefit_id]
    for name in ("benefit_level", "benefit_expenditure", "admin_expenditure",
                 "total_expenditure", "cost_to_gdp"):
        assert getattr(scaled, name) == pytest.approx(factor * getattr(base, name), rel=1e-9,
                                                      abs=1e-9, nan_ok=True), name
    assert scaled.beneficiaries == base.beneficiaries  # the level changes no one's eligibility
    assert 0.0 <= base.beneficiaries <= base.target_population * (1 + 1e-12)
    assert base.target_population <= pop.sum() * (1 + 1e-12)  # mothers too: asfr <= 0.5


def _synthetic_country(m49: int = 1, gdp: float = 1000.0, notes: tuple[str, ...] = ()):
    macro = MacroInputs(gdp_per_capita=gdp, poverty_line=2.0, government_revenue_share=0.25,
                        sources={"gdp_per_capita": "test"})
    return cost_country(default_levels(), _country(m49, macro, notes), 2025)


def test_dataset_follows_the_results_contract():
    levels = default_levels()
    ds = costing_dataset(levels, [_synthetic_country(1), _synthetic_country(2, math.nan,
                                                                             ("no GDP",))],
                         2025)
    assert ds.sizes == {"country": 2, "benefit": len(levels.enabled())}
    assert list(ds["benefit"].values) == [b.id for b in levels.enabled()]
    assert "working_age_poor" not in ds["benefit"].values  # off by default
    assert list(ds["guarantee"].values) == ["R202 para. 5(b)", "R202 para. 5(c)",
                                            "R202 para. 5(c)", "R202 para. 5(d)",
                                            "R202 para. 5(a)"]
    for name, var in ds.data_vars.items():
        assert "units" in var.attrs, name
        assert var.attrs["long_name"], name
    assert ds["cost_to_gdp"].attrs["units"] == "1"
    np.testing.assert_allclose(ds["floor_expenditure"][0],
                               ds["total_expenditure"][0].sum())
    np.testing.assert_allclose(ds["floor_cost_to_gdp"][0],
                               ds["total_expenditure"][0].sum() / GDP)
    assert np.isnan(ds["floor_cost_to_gdp"][1])
    assert ds["beneficiaries"][1].sum() > 0  # still costed in persons
    assert str(ds["note"].values[1]) == "no GDP"
    for key in ("spfsim_version", "year", "levels", "created", "money_units"):
        assert key in ds.attrs
    assert ds.attrs["year"] == 2025


# --------------------------------------------------------------------------- levels file


def test_default_levels_cite_a_source_for_every_parameter():
    levels = default_levels()
    assert [b.id for b in levels.benefits] == list(BENEFITS)
    rows = levels.rows()
    assert len(rows) == sum(len(b.parameters()) for b in levels.benefits)
    for benefit, guarantee, name, _, _, unit, valid, reference in rows:
        assert reference.strip(), f"{benefit}.{name} has no reference"
        assert unit, f"{benefit}.{name}"
        assert valid, f"{benefit}.{name}"
        assert guarantee.startswith("R202 para. 5(")
    assert levels["child"].level == 0.25
    assert levels["maternity"].months == 4
    assert levels["disability"].level == levels["old_age"].level == 1.0


def test_levels_file_overrides_and_cites_itself(tmp_path):
    path = _levels_file(tmp_path, """
title = "national proposal"
[child]
age_max = 17
level = 0.5
sources.level = "Ministry proposal, 2025"
[old_age]
age_min = 60
[working_age_poor]
enabled = true
""")
    levels = load_levels(path)
    assert levels.title == "national proposal"
    assert levels.file == str(path)
    child = levels["child"]
    assert (child.age_max, child.level, child.age_min) == (17, 0.5, 0)
    assert child.sources["level"] == "Ministry proposal, 2025"
    assert child.sources["age_max"] == f"levels file {path}"
    assert "Ortiz" in child.sources["coverage"]  # untouched parameters keep their reference
    assert levels["old_age"].age_min == 60
    assert [b.id for b in levels.enabled()] == ["child", "maternity", "disability",
                                                "working_age_poor", "old_age", "health"]


@pytest.mark.parametrize(("text", "field", "value"), [
    ("[child]\nlevel = 30\n", "child.level", "30"),
    ("[child]\nlevel = -0.1\n", "child.level", "-0.1"),
    ("[health]\nlevel = 1.5\n", "health.level", "1.5"),
    ("[child]\ncolour = 'red'\n", "child.colour", "'colour'"),
    ("[pension]\nlevel = 1\n", "pension", "'pension'"),
    ("[maternity]\nage_min = 15\n", "maternity.age_min", "15"),
    ("[child]\nage_max = 'five'\n", "child.age_max", "'five'"),
    ("[child]\nage_max = 4.5\n", "child.age_max", "4.5"),
    ("[child]\nage_min = 10\nage_max = 4\n", "child.age_min", "10"),
    ("[child]\nsex = 'both'\n", "child.sex", "'both'"),
    ("[child]\nbasis = 'wages'\n", "child.basis", "'wages'"),
    ("[disability]\nprevalence = 1.2\n", "disability.prevalence", "1.2"),
    ("[disability]\nprevalence = 'many'\n", "disability.prevalence", "'many'"),
    ("[old_age]\nmonths = 13\n", "old_age.months", "13"),
    ("[old_age]\nenabled = 1\n", "old_age.enabled", "1"),
    ("[old_age]\nadmin_share = nan\n", "old_age.admin_share", "nan"),
    ("[old_age]\nsources.level = 3\n", "old_age.sources.level", "3"),
    ("[child]\nsources.colour = 'x'\n", "child.sources.colour", "'colour'"),
])
def test_bad_levels_entries_name_file_field_and_value(tmp_path, text, field, value):
    path = _levels_file(tmp_path, text)
    with pytest.raises(AssumptionError) as exc:
        load_levels(path)
    problems = _problems(exc)
    assert any(str(path) in p and f"field '{field}'" in p and f"(value: {value})" in p
               for p in problems), problems


def test_levels_problems_name_the_line(tmp_path):
    path = _levels_file(tmp_path, "title = 'x'\n[child]\nlevel = 0.2\nmonths = 13\n")
    with pytest.raises(AssumptionError) as exc:
        load_levels(path)
    assert f"{path}, line 4: field 'child.months'" in _problems(exc)[0]


def test_every_levels_problem_is_reported_at_once(tmp_path):
    path = _levels_file(tmp_path, "[child]\nlevel = 30\ncoverage = 2\n[pension]\nx = 1\n")
    with pytest.raises(AssumptionError) as exc:
        load_levels(path)
    assert len(exc.value.problems) == 3


def test_levels_file_syntax_error_and_missing_file(tmp_path):
    path = _levels_file(tmp_path, "[child\nlevel = 1\n")
    with pytest.raises(AssumptionError, match="not valid TOML"):
        load_levels(path)
    with pytest.raises(AssumptionError, match="file not found"):
        load_levels(tmp_path / "absent.toml")


def test_parameter_ranges_are_stated():
    for p in PARAMETERS.values():
        assert p.unit
        assert p.description
    assert valid_range(PARAMETERS["coverage"]) == "0 to 1"
    assert valid_range(PARAMETERS["prevalence"]) == '0 to 1 or "poverty_headcount"'
    assert valid_range(PARAMETERS["enabled"]) == "true | false"
    assert DEFAULT_LEVELS_FILE.is_file()


# --------------------------------------------------------------------------- macro inputs


def _macro_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "macro.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_country_codes_table():
    codes = CountryCodes.load()
    assert len(codes) == 236
    assert codes.find("GHA").m49 == 288
    assert codes.find("gha").m49 == 288
    assert codes.find("288").iso3 == "GHA"
    assert codes.find("566").iso3 == "NGA"
    assert codes.get(412).owid_code == "OWID_KOS"  # Kosovo: no ISO 3166-1 code
    assert codes.find("ZZZ") is None
    assert codes.find("900") is None


@pytest.mark.parametrize(("text", "line", "field", "value"), [
    ("country,gdp_per_capita,colour\n288,1000,red\n", 1, "colour", "'colour'"),
    ("country,gdp_per_capita\n288,abc\n", 2, "gdp_per_capita", "'abc'"),
    ("country,gdp_per_capita\n288,-5\n", 2, "gdp_per_capita", "'-5'"),
    ("country,poverty_line\n288,0\n", 2, "poverty_line", "'0'"),
    ("country,government_revenue_share\nGHA,1.5\n", 2, "government_revenue_share", "'1.5'"),
    ("country,poverty_headcount\nGHA,nan\n", 2, "poverty_headcount", "'nan'"),
    ("country,poverty_line\nXYZ,2\n", 2, "country", "'XYZ'"),
    ("country,poverty_line\n900,2\n", 2, "country", "'900'"),
    ("country,poverty_line\n288,2\nGHA,3\n", 3, "country", "'GHA'"),
    ("gdp_per_capita\n1000\n", 1, "country", "'gdp_per_capita'"),
])
def test_bad_macro_entries_name_file_line_field_and_value(tmp_path, text, line, field, value):
    path = _macro_file(tmp_path, text)
    with pytest.raises(AssumptionError) as exc:
        load_macro_file(path, CountryCodes.load())
    problems = _problems(exc)
    assert any(f"{path}, line {line}: field '{field}'" in p and f"(value: {value})" in p
               for p in problems), problems


def test_macro_precedence_file_row_then_star_then_data_and_defaults(tmp_path):
    codes = CountryCodes.load()
    path = _macro_file(tmp_path, "# national figures\ncountry,poverty_line,"
                       "government_revenue_share,gdp_per_capita\n*,2.15,,\nGHA,,0.16,\n"
                       "566,4.0,,9000\n")
    overrides = load_macro_file(path, codes)
    data = MacroData({"GHA": (np.array([2019, 2021]), np.array([5000.0, 6000.0]))},
                     {"GHA": (np.array([2016]), np.array([0.39]))})
    ghana, notes = resolve_macro(codes.find("GHA"), 2025, data, overrides)
    assert ghana.poverty_line == 2.15
    assert "(all countries)" in ghana.sources["poverty_line"]
    assert ghana.government_revenue_share == 0.16
    assert ghana.sources["government_revenue_share"] == f"macro file {path}, line 4"
    assert ghana.gdp_per_capita == 6000.0
    assert ghana.sources["gdp_per_capita"].endswith("2021")
    assert ghana.poverty_headcount == 0.39
    assert any("2021 used for 2025" in n for n in notes)
    early, _ = resolve_macro(codes.find("GHA"), 2020, data, None)
    assert early.gdp_per_capita == 5000.0
    assert early.poverty_line == 3.0
    assert early.government_revenue_share == 0.2
    assert "assumption" in early.sources["government_revenue_share"]
    nigeria, notes = resolve_macro(codes.find("NGA"), 2025, data, overrides)
    assert (nigeria.poverty_line, nigeria.gdp_per_capita) == (4.0, 9000.0)
    assert math.isnan(nigeria.poverty_headcount)
    assert not notes
    cuba, notes = resolve_macro(codes.find("CUB"), 2025, data, None)
    assert math.isnan(cuba.gdp_per_capita)
    assert "no GDP per capita" in notes[0]


# --------------------------------------------------------------------------- workbook


def test_workbook_neutralises_text_from_the_levels_file(tmp_path):
    path = _levels_file(tmp_path, "[child]\nlevel = 0.3\nsources.level = '=HYPERLINK(\"x\")'\n")
    levels = load_levels(path)
    ds = costing_dataset(levels, [_synthetic_country()], 2025)
    wb = build_spf_workbook(ds, levels)
    assert wb.sheetnames == ["Overview", "Cost by country", "Beneficiaries", "Levels",
                             "Macro inputs", "Metadata"]
    texts = [c.value for row in wb["Levels"].iter_rows() for c in row if isinstance(c.value, str)]
    assert "'=HYPERLINK(\"x\")" in texts
    assert not any(t.startswith("=") for t in texts)


# --------------------------------------------------------------------------- end to end


def _wpp_2025(shared_data: Path, country: int) -> tuple[float, float]:
    """WPP 2024's own medium-variant population (1 July 2025) and births (2025)."""
    wpp = shared_data / "wpp2024"
    pop = pd.read_csv(wpp / "popproj1dt_devsubset.csv")
    misc = pd.read_csv(wpp / "miscproj1dt_devsubset.csv")
    row = pop[(pop.country_code == country) & (pop.year == 2025)].iloc[0]
    births = misc[(misc.country_code == country) & (misc.year == 2025)].iloc[0]["births"]
    return 1000.0 * (row.popM + row.popF), 1000.0 * births


def test_spf_cost_command_on_ghana_and_nigeria(shared_data, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["spf-cost", "--country", "288,NGA", "--data", str(shared_data), "--out", str(out),
            "--quiet"]
    assert main(argv) == 0
    nc, xlsx = out / "spf_cost_2025.nc", out / "spf_cost_2025.xlsx"
    assert nc.is_file()
    assert xlsx.is_file()
    printed = capsys.readouterr().out
    assert "Ghana (288)" in printed
    assert "Nigeria (566)" in printed

    with xr.open_dataset(nc) as ds:
        assert list(ds["country"].values) == [288, 566]
        assert list(ds["iso3"].values) == ["GHA", "NGA"]
        for m49 in (288, 566):
            population, births = _wpp_2025(shared_data, m49)
            assert float(ds["population"].sel(country=m49)) == pytest.approx(population,
                                                                              rel=0.02)
            assert float(ds["births"].sel(country=m49)) == pytest.approx(births, rel=0.02)
        ghana = ds.sel(country=288)
        # Ghana: GDP per capita about 7,000 PPP $ (World Bank, 2024); cash benefits of the
        # default package between 1 % and 3 % of GDP, health 5 %
        assert 5_000 < float(ghana["gdp_per_capita"]) < 10_000
        cash = float(ghana["cost_to_gdp"].drop_sel(benefit="health").sum())
        assert 0.01 < cash < 0.03
        assert float(ghana["cost_to_gdp"].sel(benefit="health")) == pytest.approx(0.05)
        assert (ds["beneficiaries"] <= ds["target_population"]).all()
        children = float(ghana["beneficiaries"].sel(benefit="child"))
        assert 0.08 < children / float(ghana["population"]) < 0.16  # ages 0-4
        assert ds.attrs["year"] == 2025
        assert "Ortiz" in ds.attrs["levels"]

    wb = load_workbook(xlsx, read_only=True)
    assert wb.sheetnames == ["Overview", "Cost by country", "Beneficiaries", "Levels",
                             "Macro inputs", "Metadata"]
    rows = list(wb["Cost by country"].iter_rows(min_row=5, values_only=True))
    assert [r[0] for r in rows if r[0] is not None] == [288, 566]
    wb.close()

    before = (nc.stat().st_mtime_ns, xlsx.stat().st_mtime_ns)
    assert main(argv) == 1  # refuses to overwrite
    assert "--overwrite" in capsys.readouterr().err
    assert (nc.stat().st_mtime_ns, xlsx.stat().st_mtime_ns) == before
    assert main([*argv, "--overwrite", "--year", "2025"]) == 0


def test_maternity_counts_every_birth_where_immigration_is_large(shared_data):
    """Qatar, the United Arab Emirates and Kuwait receive many immigrant women of
    childbearing age: the mothers of the maternity benefit are the births all the same
    (residents', and immigrants' who give birth in their year of arrival)."""
    from spfsim.spf import cost_floor

    ds = cost_floor("QAT,ARE,KWT", 2025, data_dir=shared_data)
    np.testing.assert_allclose(ds["target_population"].sel(benefit="maternity"), ds["births"],
                               rtol=1e-12)


def test_spf_cost_command_rejects_bad_input_before_writing(shared_data, tmp_path, capsys):
    out = tmp_path / "out"
    base = ["spf-cost", "--data", str(shared_data), "--out", str(out)]
    assert main([*base, "--country", "288,999"]) == 2
    assert "'--country'" in capsys.readouterr().err
    assert main([*base, "--country", "288", "--year", "2101"]) == 2
    levels = _levels_file(tmp_path, "[child]\nlevel = 30\n")
    assert main([*base, "--country", "288", "--levels", str(levels)]) == 2
    assert "child.level" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_every_country_is_costed(shared_data):
    from spfsim.spf import cost_floor

    ds = cost_floor("all", 2030, data_dir=shared_data)
    assert ds.sizes["country"] == 236
    assert (ds["population"] > 0).all()
    assert (ds["births"] >= 0).all()
    assert np.isfinite(ds["beneficiaries"]).all()
    missing = np.isnan(ds["gdp_per_capita"].values)
    assert 0 < missing.sum() < 60
    notes = ds["note"].values[missing]
    assert all("no GDP per capita" in str(n) for n in notes)
    assert np.isfinite(ds["floor_cost_to_gdp"].values[~missing]).all()
    assert np.isfinite(ds["benefit_expenditure"].drop_sel(benefit="health")).all()


def test_the_floor_model_is_a_model_the_whole_pipeline_projects():
    """The costing runs the model that floor_model builds; Model.project() (the whole
    pipeline, with its accounting checks) gives the same figures for the costing year."""
    from spfsim.model import Model
    from spfsim.params import compile_assumptions
    from spfsim.spf import floor_model

    levels = default_levels()
    country = _country()
    model, unknown = floor_model(levels, country.demography, MACRO, 2026)
    assert not unknown
    assert [s.type for s in model.schemes] == ["child_benefit", "maternity_benefit",
                                               "disability_benefit", "social_pension",
                                               "health_care"]
    ds = Model(model, compile_assumptions(model)).project()
    costs = cost_country(levels, country, 2026).costs
    for benefit, cost in costs.items():
        year = ds.sel(scheme=benefit)
        # maternity: the mean of the two steps that straddle the calendar year
        when = [2025, 2026] if benefit == "maternity" else [2026]
        assert float(year["beneficiaries"].sel(year=when).sum(("age", "sex")).mean()) == \
            pytest.approx(cost.beneficiaries, rel=1e-12)
        assert float(year["benefit_expenditure"].sel(year=when).mean()) == \
            pytest.approx(cost.benefit_expenditure, rel=1e-12)
        assert float(year["admin_expenditure"].sel(year=when).mean()) == \
            pytest.approx(cost.admin_expenditure, rel=1e-12)
