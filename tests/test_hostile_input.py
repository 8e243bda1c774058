"""Hostile input (issue #23): whatever a model folder, a data folder or the command line
holds, spfsim ends in a clear error of its own (file, field, value; no traceback), fast,
or in a run whose outputs hold no undocumented NaN or infinity.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from model_factory import DEFAULT_MODEL_FOLDERS, set_csv_column, write_csv

import spfsim
from spfsim.cli import main
from spfsim.errors import AssumptionError

REPO = Path(__file__).resolve().parents[1]

#: Seconds a refusal may take: reading the small model's tables and stopping at the bad one
#: takes about 0.1 s; the margin is for a busy machine.
FAST = 1.0


def load_problems(model_dir: Path) -> tuple[str, float]:
    """The message of the AssumptionError loading ``model_dir`` raises, and the seconds it
    took."""
    started = time.perf_counter()
    with pytest.raises(AssumptionError) as caught:
        spfsim.load_model(model_dir)
    return str(caught.value), time.perf_counter() - started


def cli(argv: list[str], capsys) -> tuple[int, str, str]:
    """Exit status, standard output and standard error of ``spfsim argv``."""
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def no_traceback(err: str) -> None:
    assert "Traceback" not in err
    assert err.startswith("spfsim:"), err


# --- one guarded reader ---------------------------------------------------------------


def test_a_named_pipe_as_table_is_refused_without_blocking(small_model_dir):
    table = small_model_dir / "assumptions" / "population.csv"
    table.unlink()
    os.mkfifo(table)
    message, seconds = load_problems(small_model_dir)
    assert "population.csv" in message
    assert "named pipe" in message
    assert seconds < FAST


def test_a_link_to_dev_zero_is_refused_without_reading_it(small_model_dir):
    table = small_model_dir / "assumptions" / "mortality.csv"
    table.unlink()
    table.symlink_to("/dev/zero")
    message, seconds = load_problems(small_model_dir)
    assert "mortality.csv" in message
    assert "character device" in message
    assert "/dev/zero" in message
    assert seconds < FAST


def test_the_validate_command_reports_a_pipe_without_traceback(small_model_dir, capsys):
    header = small_model_dir / "assumptions" / "assumptions.toml"
    header.unlink()
    os.mkfifo(header)
    started = time.perf_counter()
    status, _, err = cli(["validate", str(small_model_dir)], capsys)
    assert time.perf_counter() - started < FAST
    assert status == 2
    no_traceback(err)
    assert "assumptions.toml" in err
    assert "named pipe" in err


def test_a_socket_as_table_is_refused(small_model_dir):
    import socket

    table = small_model_dir / "assumptions" / "srb.csv"
    if len(str(table)) > 100:  # AF_UNIX addresses are short
        pytest.skip("the temporary folder's path is too long for a socket")
    table.unlink()
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(table))
        message, seconds = load_problems(small_model_dir)
    assert "srb.csv" in message
    assert "a socket" in message
    assert seconds < FAST


@pytest.mark.parametrize("nested", ["[" * 5000 + "]" * 5000,
                                    "{ a = " * 5000 + "1" + " }" * 5000,
                                    "[" * 40 + "]" * 40])
def test_deeply_nested_toml_is_a_clear_error(small_model_dir, nested):
    model = small_model_dir / "model.toml"
    model.write_text(model.read_text().replace("[economy]\n", f"[economy]\nx = {nested}\n"))
    message, seconds = load_problems(small_model_dir)
    assert "model.toml" in message
    assert "nest deeper than" in message
    assert seconds < FAST


def test_a_binary_table_names_its_line(small_model_dir):
    table = small_model_dir / "assumptions" / "srb.csv"
    table.write_bytes(b"srb\n1.05\n\xff\xfe\x00garbage\n")
    message, _ = load_problems(small_model_dir)
    assert "srb.csv, line 3" in message
    assert "not UTF-8" in message


def test_a_nul_in_a_table_is_refused(small_model_dir):
    table = small_model_dir / "assumptions" / "srb.csv"
    table.write_bytes(b"srb\n1.0\x005\n")
    message, _ = load_problems(small_model_dir)
    assert "srb.csv, line 2" in message
    assert "NUL" in message


def test_a_table_over_the_size_limit_is_refused_before_reading(small_model_dir,
                                                               monkeypatch):
    from spfsim import input_files

    monkeypatch.setitem(input_files.SIZE_LIMITS, "table", 1000)
    message, _ = load_problems(small_model_dir)
    assert "too large" in message
    assert "the limit for a table file is" in message


@pytest.mark.parametrize("year", ["99999999999999999999", "1e15", "-3000"])
def test_a_year_far_out_of_range_is_refused_at_once(small_model_dir, year):
    """Found by the fuzzing test: a year of 1e20 made the check for missing years list
    every year up to it."""
    economy = small_model_dir / "assumptions" / "economy.csv"
    set_csv_column(economy, "year", lambda r: year if r["year"] == "2030" else r["year"])
    message, seconds = load_problems(small_model_dir)
    assert "economy.csv, line 7" in message
    assert "must be between 1700 and 2500" in message
    assert seconds < FAST


def test_missing_years_are_counted(small_model_dir):
    economy = small_model_dir / "assumptions" / "economy.csv"
    set_csv_column(economy, "year", lambda r: "2400" if r["year"] == "2045" else r["year"])
    message, _ = load_problems(small_model_dir)
    assert "years are not consecutive: 355 missing (value: 2045)" in message


def test_toml_syntax_errors_name_the_line(small_model_dir):
    model = small_model_dir / "model.toml"
    model.write_text(model.read_text().replace('currency = "LCU"', "currency = LCU"))
    message, _ = load_problems(small_model_dir)
    assert "model.toml, line 6" in message
    assert "not valid TOML" in message


@pytest.mark.parametrize("escape", ["../../../../../../../../etc/passwd", "/etc/passwd",
                                    "../model.toml"])
def test_table_paths_stay_inside_the_assumption_set(small_model_dir, escape):
    header = small_model_dir / "assumptions" / "assumptions.toml"
    header.write_text(header.read_text().replace('file = "srb.csv"', f'file = "{escape}"'))
    message, _ = load_problems(small_model_dir)
    assert "tables.sex_ratio_at_birth.file" in message
    assert "must lie inside" in message
    assert "root:" not in message


def test_a_rejected_file_is_quoted_not_echoed(small_model_dir):
    secret = "x" * 100 + "SECRET-TAIL" + "y" * 400
    (small_model_dir / "assumptions" / "srb.csv").write_text(f"{secret}\n1.05\n")
    message, _ = load_problems(small_model_dir)
    assert "srb.csv, line 1" in message
    assert "SECRET-TAIL" not in message
    assert "(cut)" in message
    assert max(len(line) for line in message.splitlines()) < 400


def test_a_reform_file_that_is_a_pipe_is_refused(small_model_dir, capsys):
    reform = small_model_dir / "reform.toml"
    os.mkfifo(reform)
    started = time.perf_counter()
    status, _, err = cli(["validate", str(small_model_dir), "--reform", str(reform)], capsys)
    assert time.perf_counter() - started < FAST
    assert status == 2
    no_traceback(err)
    assert "reform.toml" in err
    assert "named pipe" in err
def test_a_person_file_that_is_a_device_is_refused_before_the_run(small_model_dir,
                                                                  tmp_path, capsys):
    people = tmp_path / "people.csv"
    people.symlink_to("/dev/zero")
    started = time.perf_counter()
    status, _, err = cli(["run", str(small_model_dir), "--out", str(tmp_path / "out"),
                          "--engine", "micro", "--persons", "1000", "--person-file",
                          str(people), "--quiet"], capsys)
    assert time.perf_counter() - started < FAST
    assert status == 2
    no_traceback(err)
    assert "people.csv" in err
    assert "character device" in err
    assert not (tmp_path / "out").exists()


def test_a_batch_file_that_is_a_pipe_is_refused(tmp_path, capsys):
    batch = tmp_path / "grid.toml"
    os.mkfifo(batch)
    started = time.perf_counter()
    status, _, err = cli(["batch", str(batch), "--out", str(tmp_path / "grid.zarr")], capsys)
    assert time.perf_counter() - started < FAST
    assert status == 2
    no_traceback(err)
    assert "grid.toml" in err
    assert "named pipe" in err


# --- the command line's output location -------------------------------------------------


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot write in (as root, only /proc refuses)."""
    if os.geteuid() == 0:
        return Path("/proc")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    return folder


@pytest.mark.parametrize("where", ["file", "inside a file", "/dev/null", "unwritable",
                                   "model folder", "assumption set"])
def test_a_bad_output_location_is_refused_before_the_projection(small_model_dir, tmp_path,
                                                                 capsys, where):
    (tmp_path / "a-file").write_text("keep me")
    out = {"file": tmp_path / "a-file", "inside a file": tmp_path / "a-file" / "results",
           "/dev/null": Path("/dev/null"),
           "unwritable": unwritable_folder(tmp_path) / "results",
           "model folder": small_model_dir,
           "assumption set": small_model_dir / "assumptions"}[where]
    before = sorted(p.name for p in small_model_dir.rglob("*"))
    started = time.perf_counter()
    status, _, err = cli(["run", str(small_model_dir), "--out", str(out), "--quiet"], capsys)
    assert time.perf_counter() - started < FAST  # the projection takes longer
    assert status == 1
    no_traceback(err)
    assert f"--out {out}" in err
    assert (tmp_path / "a-file").read_text() == "keep me"
    assert sorted(p.name for p in small_model_dir.rglob("*")) == before


def test_absurdly_many_persons_are_refused_with_the_memory_they_need(small_model_dir,
                                                                     tmp_path, capsys):
    started = time.perf_counter()
    status, _, err = cli(["run", str(small_model_dir), "--out", str(tmp_path / "out"),
                          "--engine", "micro", "--persons", "1000000000000", "--quiet"],
                         capsys)
    assert time.perf_counter() - started < FAST
    assert status == 1
    no_traceback(err)
    assert "1,000,000,000,000 simulated persons need at least" in err
    assert "this machine has" in err
    assert not (tmp_path / "out").exists()


def test_the_output_set_appears_at_once_and_leaves_no_temporary_files(small_model_dir,
                                                                      tmp_path, capsys):
    out = tmp_path / "outs" / "results"
    status, _, err = cli(["run", str(small_model_dir), "--out", str(out), "--quiet"], capsys)
    assert status == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["projection.nc", "report.xlsx"]
    assert [p.name for p in out.parent.iterdir()] == ["results"]
    plain = tmp_path / "plain"
    plain.mkdir()
    assert out.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def test_a_failed_write_leaves_nothing_behind(small_model_dir, small_projection, tmp_path,
                                              monkeypatch):
    from spfsim.report import outputs, workbook

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(workbook, "write_workbook", broken)
    model = spfsim.load_model(small_model_dir)
    tmp_path = tmp_path / "outs"
    tmp_path.mkdir()
    with pytest.raises(OSError, match="disk full"):
        outputs.write_outputs(model, small_projection, tmp_path / "results", figures=False)
    assert list(tmp_path.iterdir()) == []
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "notes.txt").write_text("mine")
    with pytest.raises(OSError, match="disk full"):
        outputs.write_outputs(model, small_projection, existing, figures=False)
    assert [p.name for p in tmp_path.iterdir()] == ["existing"]
    assert [p.name for p in existing.iterdir()] == ["notes.txt"]


# --- import-wpp on a damaged data folder --------------------------------------------------

WPP_FILES = ("UNlocations.txt", "popAge5dt.csv", "mx5dt.csv", "tfr1dt.csv", "tfrproj1dt.csv",
             "percentASFR5_annual_by_age5.txt", "sexRatio1dt.csv", "migprojAge1dt.csv.gz",
             "migprojAge5dt.csv", "mig1dt.csv", "migproj1dt.csv")
WPP_KEEP = ("288", "900")  # Ghana and the World


@pytest.fixture(scope="session")
def small_wpp(shared_data, tmp_path_factory) -> Path:
    """The WPP files import-wpp reads, cut to Ghana and the World (a few hundred KiB)."""
    import gzip

    source = shared_data / "wpp2024"
    folder = tmp_path_factory.mktemp("wpp") / "wpp2024"
    folder.mkdir()
    for name in WPP_FILES:
        opener = gzip.open if name.endswith(".gz") else open
        with opener(source / name, "rt", encoding="utf-8") as handle:
            lines = [line for k, line in enumerate(handle)
                     if k == 0 or name == "UNlocations.txt"
                     or line.split("\t" if name.endswith(".txt") else ",")[0] in WPP_KEEP]
        with opener(folder / name, "wt", encoding="utf-8") as handle:
            handle.writelines(lines)
    return folder


def damaged(small_wpp: Path, tmp_path: Path, name: str | None = None, damage=None) -> Path:
    """A copy of the small WPP folder with ``damage(path)`` done to its file ``name``."""
    folder = tmp_path / "wpp2024"
    shutil.copytree(small_wpp, folder)
    if name is not None:
        damage(folder / name)
    return folder


def import_wpp(folder: Path, tmp_path: Path, capsys, *extra: str) -> tuple[int, str]:
    started = time.perf_counter()
    status, _, err = cli(["import-wpp", "--data", str(folder), "--out",
                          str(tmp_path / "imported"), *extra], capsys)
    assert time.perf_counter() - started < 10 * FAST  # reads every file once
    assert not (tmp_path / "imported").exists()
    return status, err


def edit_line(path: Path, starts: str, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in the first line of ``path`` that starts with ``starts``."""
    lines = path.read_text().splitlines(keepends=True)
    k = next(i for i, line in enumerate(lines) if line.startswith(starts))
    lines[k] = lines[k].replace(old, new, 1)
    path.write_text("".join(lines))


def test_the_small_wpp_folder_imports(small_wpp, tmp_path, capsys):
    status, out, err = cli(["import-wpp", "--data", str(small_wpp), "--country", "288",
                            "--out", str(tmp_path / "ghana"), "--end-year", "2030"], capsys)
    assert status == 0, err
    assert "Ghana" in out


@pytest.mark.parametrize(("name", "damage", "expected"), [
    ("popAge5dt.csv", lambda p: edit_line(p, "288,2020,30-34,", "30-34,", "30-34,1x"),
     ["popAge5dt.csv, line", "field 'popM'", "must be a number"]),
    ("popAge5dt.csv", lambda p: edit_line(p, "288,2020,30-34,", "30-34,", "30-34,-"),
     ["popAge5dt.csv, line", "field 'popM'", "must not be negative"]),
    ("mx5dt.csv", lambda p: edit_line(p, "288,2023,2020-2025,0,", "2020-2025", "2020-20x5"),
     ["mx5dt.csv, line", "field 'period'", "must be a period"]),
    ("mx5dt.csv", lambda p: p.write_text("".join(p.read_text().splitlines(True)[1:])),
     ["mx5dt.csv, line 1", "required column is missing (is the header line there?)"]),
    ("tfr1dt.csv", lambda p: p.write_bytes(bytes(range(256)) * 8),
     ["tfr1dt.csv, line 2", "not UTF-8"]),
    ("migprojAge1dt.csv.gz", lambda p: p.write_bytes(p.read_bytes()[:5000]),
     ["migprojAge1dt.csv.gz", "damaged or truncated gzip file"]),
    ("sexRatio1dt.csv", lambda p: p.unlink(), ["sexRatio1dt.csv", "WPP file not found"]),
    ("mig1dt.csv", lambda p: p.write_text("country_code,year,mig\n288,2020,\"unclosed\n"),
     ["mig1dt.csv"]),
])
def test_a_damaged_wpp_file_is_a_clear_error(small_wpp, tmp_path, capsys, name, damage,
                                             expected):
    folder = damaged(small_wpp, tmp_path, name, damage)
    status, err = import_wpp(folder, tmp_path, capsys, "--country", "288")
    assert status == 2
    no_traceback(err)
    for text in expected:
        assert text in err


@pytest.mark.parametrize(("options", "expected"), [
    (["--country", "288", "--base-year", "2020", "--end-year", "2010"],
     "must be after the base year 2020"),
    (["--country", "288", "--base-year", "2023"],
     "must be a multiple of five: WPP 2024 publishes the population by age group only"),
    (["--country", "288", "--end-year", "2150"], "WPP 2024 projects to 2100"),
    (["--country", "900"], "World is an aggregate (location_type 0), not a country"),
    (["--country", "99999"], "no rows for this country"),
])
def test_bad_import_options_are_clear_errors(small_wpp, tmp_path, capsys, options,
                                             expected):
    status, err = import_wpp(small_wpp, tmp_path, capsys, *options)
    assert status == 2
    no_traceback(err)
    assert expected in err


# --- what validate accepts, run can run ---------------------------------------------------


def _fertility_by_sex(folder: Path) -> None:
    write_csv(folder / "assumptions" / "fertility.csv", ["year", "age", "sex", "asfr"],
              [[y, a, s, 0.05] for y in range(2025, 2046) for a in range(15, 50)
               for s in ("male", "female")])


def _economy(old: str, new: str):
    def edit(folder: Path) -> None:
        model = folder / "model.toml"
        model.write_text(model.read_text().replace(old, new))
    return edit


@pytest.mark.parametrize(("break_it", "expected"), [
    (_fertility_by_sex, ["fertility.csv, line 1", "field 'sex'", "takes no sex column"]),
    (lambda f: set_csv_column(f / "assumptions" / "mortality.csv", "mx", lambda r: "2.0"),
     ["mortality.csv", "field 'mx'", "a death rate above 1 below age 85",
      "age 0, sex male"]),
    (lambda f: set_csv_column(f / "assumptions" / "population.csv", "population",
                              lambda r: "0"),
     ["population.csv", "the base population is 0 at every age and sex"]),
    (_economy("gdp = 1.0e9", "gdp = inf"), ["model.toml, line 10", "economy.gdp",
                                            "must be a finite number", "inf"]),
    (_economy("gdp = 1.0e9", "gdp = 1e300"), ["economy.gdp", "<= 1e+24", "1e+300"]),
    (_economy("average_earnings = 10000.0", "average_earnings = 1e12"),
     ["economy.average_earnings", "larger than the whole GDP"]),
])
def test_run_time_failures_are_validation_problems(small_model_dir, capsys, break_it,
                                                   expected):
    break_it(small_model_dir)
    started = time.perf_counter()
    status, _, err = cli(["validate", str(small_model_dir)], capsys)
    assert time.perf_counter() - started < FAST
    assert status == 2
    no_traceback(err)
    for text in expected:
        assert text in err


def test_an_empty_cell_runs_without_undefined_values(small_model_dir):
    """0 men aged 30 is legal; the run's outputs hold no infinity and NaN only where the
    results registry documents it (run_projection checks; this says so explicitly)."""
    from spfsim.checks import nonfinite_findings

    set_csv_column(small_model_dir / "assumptions" / "population.csv", "population",
                   lambda r: "0" if (r["age"], r["sex"]) == ("30", "male")
                   else r["population"])
    ds = spfsim.load_model(small_model_dir).project()
    assert nonfinite_findings(ds) == []
    assert float(ds["population"].sel(age=30, sex="male", year=2025)) == 0.0


@pytest.mark.slow
def test_the_default_model_with_no_men_aged_30_runs_clean(tmp_path):
    """Issue #23's case: 0 men aged 30 in the default model once wrote inf into
    benefit_expenditure, cost_to_gdp and paygo_cost_rate."""
    from spfsim.checks import nonfinite_findings

    repo = Path(__file__).resolve().parents[1]
    for folder in DEFAULT_MODEL_FOLDERS:
        shutil.copytree(repo / folder, tmp_path / folder)
    set_csv_column(tmp_path / "assumptions/ghana-wpp2024/population.csv", "population",
                   lambda r: "0" if (r["age"], r["sex"]) == ("30", "male")
                   else r["population"])
    with pytest.warns(UserWarning, match="it was capped"):  # its emigrants at age 30
        ds = spfsim.load_model(tmp_path / "models/default").project()
    assert nonfinite_findings(ds) == []


def test_emigration_above_a_cohort_is_capped_and_reported(small_model_dir):
    from spfsim.checks import nonfinite_findings

    set_csv_column(small_model_dir / "assumptions" / "migration.csv", "net_migration",
                   lambda r: "-50000" if (r["age"], r["sex"]) == ("30", "male")
                   else r["net_migration"])
    with pytest.warns(UserWarning, match="it was capped"):
        ds = spfsim.load_model(small_model_dir).project()
    assert nonfinite_findings(ds) == []
    assert float(ds["emigration_capped"].sum()) > 0


def test_undocumented_nan_and_any_infinity_are_findings(small_projection):
    from spfsim.checks import nonfinite_findings

    ds = small_projection.copy(deep=True)
    ds["benefit_expenditure"][3, 0] = float("inf")
    ds["contributors"][2, 30, 0] = float("nan")
    ds["depletion_year"][:] = float("nan")  # documented: no depletion within the horizon
    found = {f.variable: f for f in nonfinite_findings(ds)}
    assert sorted(found) == ["benefit_expenditure", "contributors"]
    assert "inf" in found["benefit_expenditure"].message
    assert "age 30" in found["contributors"].message


@pytest.mark.parametrize("history", ["../../../../../../../../etc/passwd", "/etc/passwd"])
def test_stochastic_history_files_stay_inside_the_model(small_model_dir, history):
    model = small_model_dir / "model.toml"
    model.write_text(model.read_text() + f'\n[stochastic.economy]\nhistory = "{history}"\n')
    message, _ = load_problems(small_model_dir)
    assert "stochastic.economy.history" in message
    assert "must lie inside" in message
    assert "root:" not in message


def test_a_parquet_person_file_that_is_a_pipe_is_refused_unread(tmp_path):
    """The Python API checks a Parquet person file before pyarrow opens it."""
    from spfsim.engine.micro.persons import read_person_file

    os.mkfifo(tmp_path / "persons.parquet")
    with pytest.raises(AssumptionError, match="named pipe"):
        read_person_file(tmp_path / "persons.parquet")


@pytest.mark.slow
def test_a_population_cell_of_almost_nobody_runs_clean(tmp_path):
    """Found by the long fuzzing run: one base-population cell of 1e-320 persons gave an
    infinite money's worth ratio (benefits over contributions of almost nobody)."""
    root = tmp_path / "copy"
    for folder in DEFAULT_MODEL_FOLDERS:
        shutil.copytree(REPO / folder, root / folder)
    path = root / "assumptions/ghana-wpp2024/population.csv"
    lines = path.read_text().splitlines()
    age, sex, _value = lines[52].split(",")
    lines[52] = f"{age},{sex},1e-320"
    path.write_text("\n".join(lines) + "\n")
    ds = spfsim.load_model(root / "models/default").project()
    mwr = ds["money_worth_ratio"].values
    assert not np.isinf(mwr).any()
