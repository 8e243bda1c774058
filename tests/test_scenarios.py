"""Reform scenarios: reform files, their validation, Model.with_reform, compare() and
``spfsim compare``."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from model_factory import write_small_model

import spfsim
from spfsim.cli import main
from spfsim.errors import AssumptionError, Problem
from spfsim.scenarios import GUARANTEE_VARIABLES, SCHEME_VARIABLES, compare

END_YEAR = 2035  # a short horizon keeps the tests fast, also with NUMBA_DISABLE_JIT=1
PERSONS, SEED = 3000, 7

REFORM = """\
[reform]
name = "higher-minimum"
title = "Minimum pension doubled from 2027"

[schemes.pension.parameters]
# the small model's minimum is 1,500 LCU a year, price-indexed
minimum_pension = { values = { 2025 = 1500.0, 2027 = 3000.0 }, indexation = "prices" }
"""


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return write_small_model(tmp_path_factory.mktemp("scenarios") / "small")


@pytest.fixture(scope="module")
def reform_file(model_dir: Path) -> Path:
    path = model_dir.parent / "higher-minimum.toml"
    path.write_text(REFORM)
    return path


@pytest.fixture(scope="module")
def baseline(model_dir: Path) -> spfsim.Model:
    return spfsim.load_model(model_dir, end_year=END_YEAR)


@pytest.fixture(scope="module")
def reformed(baseline: spfsim.Model, reform_file: Path) -> spfsim.Model:
    return baseline.with_reform(reform_file)


@pytest.fixture(scope="module")
def cohort_comparison(baseline, reformed) -> xr.Dataset:
    return compare(baseline.project(), reformed.project())


@pytest.fixture(scope="module")
def micro_comparison(baseline, reformed) -> xr.Dataset:
    return compare(baseline.project("micro", persons=PERSONS, seed=SEED),
                   reformed.project("micro", persons=PERSONS, seed=SEED))


# --------------------------------------------------------------------------- applying


def test_reform_changes_exactly_the_parameter_it_names(baseline, reformed):
    years = baseline.years
    expected = np.where(years >= 2027, 3000.0, 1500.0)
    price_level = np.cumprod(1.0 + baseline.assumptions.inflation)
    expected = expected * price_level / price_level[np.searchsorted(years,
                                                                    np.where(years >= 2027,
                                                                             2027, 2025))]
    old = baseline.assumptions.schemes[0]["minimum_pension"]
    new = reformed.assumptions.schemes[0]["minimum_pension"]
    np.testing.assert_allclose(new, expected, rtol=1e-12)
    np.testing.assert_array_equal(new[:2], old[:2])  # unchanged before 2027
    assert (new[2:] > old[2:]).all()
    for before, after in zip(baseline.assumptions.schemes, reformed.assumptions.schemes,
                             strict=True):
        assert before.id == after.id
        assert before.choices == after.choices
        assert before.indexations == after.indexations
        assert set(before.params) == set(after.params)
        for name in before.params:
            if (after.id, name) != ("pension", "minimum_pension"):
                np.testing.assert_array_equal(after[name], before[name], err_msg=name)
    for name in ("mx", "asfr", "base_population", "participation", "coverage", "inflation"):
        np.testing.assert_array_equal(getattr(reformed.assumptions, name),
                                      getattr(baseline.assumptions, name))
    assert reformed.reform.changes() == ["pension.minimum_pension"]


def test_baseline_is_unchanged_by_with_reform(model_dir, reform_file):
    model = spfsim.load_model(model_dir, end_year=END_YEAR)
    schemes = copy.deepcopy(model.input.schemes)
    raw = copy.deepcopy(model.input.raw)
    files = list(model.input.files)
    digest = model.input.input_hash
    arrays = {(s.id, k): v.copy() for s in model.assumptions.schemes for k, v in s.params.items()}
    other = model.with_reform(reform_file)
    assert other is not model
    assert other.input is not model.input
    assert model.reform is None
    assert other.input.tables["population"] is not model.input.tables["population"]
    assert not np.shares_memory(other.assumptions.base_population,
                                model.assumptions.base_population)
    assert model.input.schemes == schemes
    assert model.input.raw == raw
    assert model.input.files == files
    assert model.input.input_hash == digest
    for s in model.assumptions.schemes:
        for k, v in s.params.items():
            np.testing.assert_array_equal(v, arrays[(s.id, k)])
    assert other.input.raw["schemes"][0]["parameters"]["minimum_pension"]["values"] == {
        "2025": 1500.0, "2027": 3000.0}
    assert list(other.years) == list(model.years)


def test_reform_enters_the_input_hash_and_the_attrs(baseline, reformed, reform_file):
    assert reformed.input.files[-1] == reform_file.resolve()
    assert reformed.input.input_hash != baseline.input.input_hash
    ds = reformed.project()
    assert ds.attrs["reform"] == "higher-minimum"
    assert ds.attrs["reform_title"] == "Minimum pension doubled from 2027"
    assert ds.attrs["reform_file"] == str(reform_file.resolve())
    digest = hashlib.sha256(reform_file.read_bytes()).hexdigest()
    assert ds.attrs["reform_hash"] == f"sha256:{digest}"
    assert ds.attrs["input_hash"] == f"sha256:{reformed.input.input_hash}"


def test_load_model_with_reform_equals_with_reform(model_dir, reform_file, reformed):
    loaded = spfsim.load_model(model_dir, end_year=END_YEAR, reform=reform_file)
    assert loaded.reform == reformed.reform
    np.testing.assert_array_equal(loaded.assumptions.schemes[0]["minimum_pension"],
                                  reformed.assumptions.schemes[0]["minimum_pension"])


def test_reform_by_name_from_the_models_reforms_folder(tmp_path, reform_file):
    folder = write_small_model(tmp_path / "m")
    (folder / "reforms").mkdir()
    (folder / "reforms" / "higher-minimum.toml").write_text(reform_file.read_text())
    model = spfsim.load_model(folder, end_year=END_YEAR, reform="higher-minimum")
    assert model.reform.path == (folder / "reforms" / "higher-minimum.toml").resolve()


def test_reforms_do_not_stack(reformed, reform_file):
    with pytest.raises(ValueError, match="already has the reform"):
        reformed.with_reform(reform_file)


def test_parameters_apply_on_top_of_a_reform(reformed, reform_file, model_dir):
    """with_parameters on a reformed model keeps the reform's changes, adds its own, and
    records both: the same projection as one reform file holding both changes."""
    stacked = reformed.with_parameters({"pension": {"accrual_rate": 0.02}}, name="grid")
    assert stacked.reform.name == "higher-minimum + grid"
    assert stacked.reform.path == reformed.reform.path
    assert stacked.reform.sha256 != reformed.reform.sha256
    assert set(stacked.reform.changes()) == {"pension.minimum_pension", "pension.accrual_rate"}
    both = model_dir.parent / "both.toml"
    both.write_text(REFORM + "accrual_rate = 0.02\n")
    by_file = spfsim.load_model(model_dir, end_year=END_YEAR, reform=both)
    xr.testing.assert_identical(stacked.project().drop_attrs(), by_file.project().drop_attrs())
    assert reformed.reform.changes() == ["pension.minimum_pension"]  # left alone


def test_bundled_reforms_are_valid_for_the_default_model():
    from spfsim.scenarios import available_reforms

    names = {p.stem for p in available_reforms(spfsim.default_model_path())}
    assert {"higher-minimum-pension", "top-up-social-pension",
            "retirement-age-by-cohort"} <= names
    model = spfsim.load_model(end_year=2026)
    for name in sorted(names):
        reformed = model.with_reform(name)
        assert reformed.reform.name == name
    top_up = model.with_reform("top-up-social-pension")
    social = next(s for s in top_up.assumptions.schemes if s.id == "social_pension")
    assert social.choices["means_test"] == "top_up"


# --------------------------------------------------------------------------- bad files

# Each case: (reform file text, field, value, line or None); the problem must name the
# reform file.
BAD = {
    "unknown scheme": (
        '[reform]\nname = "r"\n\n[schemes.pensoin.parameters]\naccrual_rate = 0.02\n',
        "schemes.pensoin", "pensoin", 4),
    "unknown parameter": (
        '[reform]\nname = "r"\n\n[schemes.pension.parameters]\nminimum_pensoin = 5.0\n',
        "schemes.pension.parameters.minimum_pensoin", "minimum_pensoin", 5),
    "value out of range": (
        '[reform]\nname = "r"\n\n[schemes.pension.parameters]\naccrual_rate = 0.5\n',
        "schemes.pension.parameters.accrual_rate", 0.5, 5),
    "bad choice, line in its own scheme's section": (
        '[reform]\nname = "r"\n\n[schemes.pension.parameters]\nadmin_cost_rate = 0.1\n\n'
        '[schemes.child_benefit.parameters]\nadmin_cost_rate = 1.5\n',
        "schemes.child_benefit.parameters.admin_cost_rate", 1.5, 8),
    "choice not in the list": (
        '[reform]\nname = "r"\n\n[schemes.child_benefit.parameters]\nbenefit_basis = "gdp"\n',
        "schemes.child_benefit.parameters.benefit_basis", "gdp", 5),
    "first effective year after the base year": (
        '[reform]\nname = "r"\n\n[schemes.pension.parameters]\n'
        'minimum_pension = { 2027 = 3000.0 }\n',
        "schemes.pension.parameters.minimum_pension", 2027, 5),
    "indexation of a rate": (
        '[reform]\nname = "r"\n\n[schemes.pension.parameters]\n'
        'accrual_rate = { value = 0.02, indexation = "prices" }\n',
        "schemes.pension.parameters.accrual_rate.indexation", "prices", 5),
    "cross-field rule with the model's values": (
        '[reform]\nname = "r"\n\n[schemes.child_benefit.parameters]\nmin_age = 20\n',
        "schemes.child_benefit.parameters.max_age", 14.0, 4),
    "unknown top-level section": (
        '[reform]\nname = "r"\n\n[economy]\ngdp = 2.0e9\n\n'
        '[schemes.pension.parameters]\naccrual_rate = 0.02\n',
        "economy", "economy", 4),
    "unknown reform entry": (
        '[reform]\nname = "r"\nyear = 2027\n\n[schemes.pension.parameters]\n'
        'accrual_rate = 0.02\n', "reform.year", "year", 3),
    "bad reform name": (
        '[reform]\nname = "Higher Minimum"\n\n[schemes.pension.parameters]\n'
        'accrual_rate = 0.02\n', "reform.name", "Higher Minimum", 2),
    "schemes written as in model.toml": (
        '[reform]\nname = "r"\n\n[[schemes]]\nid = "pension"\n', "schemes", "[[schemes]]", 4),
    "entry beside parameters": (
        '[reform]\nname = "r"\n\n[schemes.pension]\ntype = "universal_benefit"\n'
        '[schemes.pension.parameters]\naccrual_rate = 0.02\n',
        "schemes.pension.type", "type", 5),
    "no [reform] section": ('[schemes.pension.parameters]\naccrual_rate = 0.02\n', "reform",
                            None, None),
    "no change at all": ('[reform]\nname = "r"\n', "schemes", None, None),
    "not TOML": ('[reform]\nname = "r"\n\n[schemes.pension.parameters]\naccrual_rate = \n',
                 "syntax", None, 5),
}


def reform_problems(model: spfsim.Model, path: Path) -> list[Problem]:
    with pytest.raises(AssumptionError) as info:
        model.with_reform(path)
    return info.value.problems


@pytest.mark.parametrize("case", list(BAD))
def test_bad_reform_names_file_field_line_and_value(baseline, tmp_path, case):
    text, field, value, line = BAD[case]
    path = tmp_path / "reform.toml"
    path.write_text(text)
    problems = reform_problems(baseline, path)
    hits = [p for p in problems if p.field == field]
    assert hits, f"no problem for {field}; got: {[str(p) for p in problems]}"
    problem = hits[0]
    assert problem.file == str(path.resolve())
    assert problem.value == value
    if line is not None:
        assert problem.row == line, str(problem)
    assert str(path.resolve()) in str(AssumptionError(problems))


def test_every_reform_problem_is_reported_at_once(baseline, tmp_path):
    path = tmp_path / "reform.toml"
    path.write_text('[reform]\nname = "r"\ncolour = "red"\n\n[schemes.pension.parameters]\n'
                    'accrual_rate = 0.5\nretirement_age = { male = 62 }\n\n'
                    '[schemes.nope.parameters]\nbenefit = 1.0\n')
    fields = {p.field for p in reform_problems(baseline, path)}
    assert {"reform.colour", "schemes.pension.parameters.accrual_rate",
            "schemes.pension.parameters.retirement_age", "schemes.nope"} <= fields


def test_missing_reform_file_is_a_problem(baseline, tmp_path):
    problems = reform_problems(baseline, tmp_path / "absent.toml")
    assert problems[0].field == "file"
    assert "not found" in problems[0].message


def test_model_problems_still_point_at_model_toml(tmp_path, reform_file):
    folder = write_small_model(tmp_path / "m")
    text = (folder / "model.toml").read_text().replace("accrual_rate = 0.02",
                                                       "accrual_rate = 2.0")
    (folder / "model.toml").write_text(text)
    with pytest.raises(AssumptionError) as info:
        spfsim.load_model(folder, reform=reform_file)
    assert {Path(p.file).name for p in info.value.problems} == {"model.toml"}


# --------------------------------------------------------------------------- compare


def test_compare_difference_is_reform_minus_baseline(cohort_comparison):
    cmp = cohort_comparison
    assert list(cmp["scenario"].values) == ["baseline", "reform"]
    for name in (*SCHEME_VARIABLES, *GUARANTEE_VARIABLES):
        both, diff = cmp[name], cmp[f"{name}_difference"]
        assert "scenario" in both.dims
        expected = both.sel(scenario="reform") - both.sel(scenario="baseline")
        xr.testing.assert_allclose(diff, expected.drop_vars("scenario", errors="ignore"))
        for var in (both, diff):
            assert var.attrs["units"], name
            assert var.attrs["long_name"], name
    assert cmp["beneficiaries"].dims == ("scenario", "year", "scheme")
    assert cmp.attrs["engine"] == "cohort"
    assert cmp.attrs["reform"] == "higher-minimum"
    assert "seed" in cmp.attrs


def test_compare_untouched_schemes_have_zero_difference(cohort_comparison,
                                                         micro_comparison):
    for cmp in (cohort_comparison, micro_comparison):
        child = cmp.sel(scheme="child_benefit")
        for name in SCHEME_VARIABLES:
            diff = child[f"{name}_difference"].values
            assert np.all((diff == 0) | np.isnan(diff)), name
        assert float(abs(cmp["contributors_difference"]).max()) == 0.0


@pytest.mark.parametrize("engine", ["cohort", "micro"])
def test_higher_minimum_pension_raises_expenditure(cohort_comparison, micro_comparison,
                                                   engine):
    cmp = cohort_comparison if engine == "cohort" else micro_comparison
    diff = cmp["benefit_expenditure_difference"].sel(scheme="pension")
    years = cmp["year"].values
    # never lower; with common random numbers the micro difference has one sign every year
    assert (diff >= 0).all()
    assert (diff.values[years >= 2027] > 0).all()
    np.testing.assert_array_equal(diff.values[years < 2027], 0.0)
    assert (cmp["reserve_difference"].sel(scheme="pension").values[years >= 2027] < 0).all()
    assert cmp.attrs["engine"] == engine
    if engine == "micro":
        assert cmp.attrs["seed"] == str(SEED)
        assert cmp.attrs["persons"] == PERSONS


def test_compare_refuses_different_runs(baseline, reformed):
    base = baseline.project()
    other = reformed.project()
    with pytest.raises(ValueError, match="'engine'"):
        compare(base, other.assign_attrs(engine="micro"))
    with pytest.raises(ValueError, match="'model'"):
        compare(base, other.assign_attrs(model="another"))
    with pytest.raises(ValueError, match="different years"):
        compare(base, other.isel(year=slice(0, -1)))
    with pytest.raises(ValueError, match="different schemes"):
        compare(base, other.isel(scheme=[0]))
    with pytest.raises(ValueError, match="one projection"):
        compare(base, xr.concat([other, other], dim="draw"))
    micro = baseline.project("micro", persons=500, seed=1)
    with pytest.raises(ValueError, match="'seed'"):
        compare(micro, micro.assign_attrs(seed="2"))


# --------------------------------------------------------------------------- command line


@pytest.mark.slow  # several projections: CI's fast JIT-off subset skips it
def test_cli_compare_writes_both_files_and_refuses_to_overwrite(model_dir, reform_file,
                                                                tmp_path, capsys):
    out = tmp_path / "out"
    args = ["compare", str(model_dir), "--reform", str(reform_file), "--out", str(out),
            "--quiet"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "Minimum pension doubled from 2027" in printed
    assert "pension: 2025" in printed
    assert "child_benefit: unchanged" in printed
    with xr.open_dataset(out / "comparison.nc") as saved:
        assert list(saved["scenario"].values) == ["baseline", "reform"]
        assert saved.attrs["reform"] == "higher-minimum"
        assert saved["cost_to_gdp_difference"].attrs["units"] == "fraction"
    from openpyxl import load_workbook

    workbook = load_workbook(out / "comparison.xlsx")
    assert workbook.sheetnames[:3] == ["Summary", "pension", "child_benefit"]
    assert workbook["pension"]._charts
    before = {name: (out / name).read_bytes() for name in ("comparison.nc", "comparison.xlsx")}
    assert main(args) == 1
    assert "--overwrite" in capsys.readouterr().err
    for name, data in before.items():
        assert (out / name).read_bytes() == data
    assert sorted(p.name for p in out.iterdir()) == ["comparison.nc", "comparison.xlsx"]
    assert main([*args, "--overwrite"]) == 0
    # --figures: run's cost-rate and reserve-ratio figures, baseline against reform
    assert main([*args, "--overwrite", "--figures"]) == 0
    for name in ("cost_rates.png", "reserve_ratio.png"):
        assert (out / "figures" / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_cli_bad_reform_is_reported_before_anything_runs(model_dir, tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[reform]\nname = "r"\n\n[schemes.pension.parameters]\naccrual_rate = 5\n')
    out = tmp_path / "out"
    assert main(["compare", str(model_dir), "--reform", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml, line 5" in err
    assert "schemes.pension.parameters.accrual_rate" in err
    assert not out.exists()


def test_cli_run_with_reform_records_it(model_dir, reform_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(model_dir), "--reform", str(reform_file), "--out", str(out),
                 "--quiet"]) == 0
    with xr.open_dataset(out / "projection.nc") as saved:
        assert saved.attrs["reform"] == "higher-minimum"
    assert main(["validate", str(model_dir), "--reform", str(reform_file)]) == 0
    assert "pension.minimum_pension" in capsys.readouterr().out
