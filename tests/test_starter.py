"""``spfsim init``: a model folder of one's own that validates and projects (issue #21)."""

from __future__ import annotations

import numpy as np
import pytest

import spfsim
from spfsim.cli import main
from spfsim.errors import SpfsimError
from spfsim.starter import init_model


def test_init_for_a_wpp_country_projects(shared_data, tmp_path, capsys):
    folder = tmp_path / "models" / "nigeria"
    assert main(["init", str(folder), "--country", "NGA", "--data", str(shared_data),
                 "--end-year", "2040"]) == 0
    assert "spfsim run" in capsys.readouterr().out
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "assumptions",
                                                        "model.toml", "reforms"]
    text = (folder / "model.toml").read_text()
    assert ('assumptions = ["assumptions/nigeria-wpp2024", "assumptions/illustrative-lmic", '
            '"assumptions/families-usa-ssa2024"]') in text
    assert "Ghana" not in text
    model = spfsim.load_model(folder)
    assert model.name == "nigeria"
    assert int(model.years[-1]) == 2040
    population = model.assumptions.base_population.sum()
    assert 2.2e8 < population < 2.5e8  # Nigeria, 1 July 2025 (WPP 2024: about 233 million)
    # the economy's levels scaled with the population: GDP per person the default's
    default = spfsim.load_model()
    per_person = model.input.gdp / population
    assert per_person == pytest.approx(
        default.input.gdp / default.assumptions.base_population.sum(), rel=1e-3)
    ds = model.project()
    assert np.isfinite(ds["cost_to_gdp"].values).all()
    reformed = model.with_reform("higher-minimum-pension")  # the copied reforms apply
    assert reformed.reform.name


@pytest.mark.slow  # projections: the JIT-off subset skips it
def test_init_without_a_country_is_the_default_model_in_its_own_folder(tmp_path):
    folder = init_model(tmp_path / "mine")
    model = spfsim.load_model(folder, end_year=2030)
    default = spfsim.load_model(end_year=2030)
    assert model.name == "mine"
    assert np.array_equal(model.assumptions.base_population, default.assumptions.base_population)
    ours, theirs = model.project(), default.project()
    assert np.array_equal(ours["reserve"].values, theirs["reserve"].values)


def test_init_refuses_an_existing_folder_and_an_unknown_country(tmp_path, shared_data):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(SpfsimError, match="not an empty folder"):
        init_model(tmp_path / "taken")
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"
    with pytest.raises(SpfsimError, match="not a country"):
        init_model(tmp_path / "nowhere", country="XYZ", data=shared_data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # nothing left behind


def test_the_data_folder_checker(shared_data, tmp_path, capsys):
    """tools/check_data_folder.py: the reference folder is complete and matches the
    manifest docs/data.md quotes; a missing column and a changed file are named."""
    import shutil

    from repo_tools import TOOLS, load_tool

    tool = load_tool("check_data_folder")
    manifest = TOOLS / "data_manifest.csv"
    assert tool.main([str(shared_data), "--manifest", str(manifest)]) == 0
    copy = tmp_path / "data"
    for name in tool.REQUIRED:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared_data / name, copy / name)
    tfr = copy / "wpp2024" / "tfr1dt.csv"
    tfr.write_text(tfr.read_text().replace("country_code,year,tfr", "country_code,yr,tfr", 1))
    capsys.readouterr()
    assert tool.main([str(copy), "--manifest", str(manifest)]) == 1
    out = capsys.readouterr().out
    assert "tfr1dt.csv: no column 'year'" in out
    assert "tfr1dt.csv: SHA-256" in out


def test_validate_defaults_to_the_bundled_model_and_persons_read_as_a_count(capsys):
    """As `run` does, `validate` checks the default model when no folder is given;
    `--persons 1e6` is a million persons, and a count that is not whole is refused by the
    argument parser, before any model is loaded."""
    from spfsim.cli import _parser

    assert main(["validate"]) == 0
    assert "valid" in capsys.readouterr().out
    assert _parser().parse_args(["run", "--persons", "1e6"]).persons == 1_000_000
    assert _parser().parse_args(["run", "--persons", "20_000"]).persons == 20_000
    with pytest.raises(SystemExit) as stopped:
        _parser().parse_args(["run", "--persons", "1.5"])
    assert stopped.value.code == 2
    assert "expected a whole number of persons" in capsys.readouterr().err
