"""The workbooks as a reader meets them: printed (LibreOffice headless, PDF page counts), their
charts labelled in words, their numbers stored as numbers (issue 21)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl.utils.cell import coordinate_from_string

from spfsim.report.comparison import build_comparison_workbook
from spfsim.report.summary import describe_assumptions
from spfsim.report.workbook import build_workbook
from spfsim.report.workbook.cells import DIFFERENCE_FILL, LABELS

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
#: Pages the default model's workbooks may print as (256 and 207 before they had a page
#: setup; 48 and 21 with it), and Ghana's floor costing (5 without its Overview, 7 with).
REPORT_PAGES, COMPARISON_PAGES, FLOOR_PAGES = 60, 30, 9
#: Ids that must never reach a legend: guarantees, sexes, financing methods.
RAW_IDS = set(LABELS)
_ID = re.compile(r"\b[a-z]+(_[a-z]+)+\b")
_NUMBER_TEXT = re.compile(r"\s*[-+]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?%?\s*")


@pytest.fixture(scope="module")
def model():
    import spfsim

    return spfsim.load_model()


@pytest.fixture(scope="module")
def report(model, default_projection):
    return build_workbook(default_projection, describe_assumptions(model))


@pytest.fixture(scope="module")
def comparison_ds(model, default_projection):
    from spfsim.scenarios import compare

    reform = model.with_reform("higher-minimum-pension").project()
    return compare(default_projection, reform)


@pytest.fixture(scope="module")
def comparison(comparison_ds):
    return build_comparison_workbook(comparison_ds)


@pytest.fixture(scope="module")
def floor_workbooks(shared_data):
    """The floor-costing workbooks of one country (Ghana) and of three."""
    from spfsim.spf import cost_floor
    from spfsim.spf.levels import load_levels
    from spfsim.spf.report import build_spf_workbook

    levels = load_levels(None)
    return {name: build_spf_workbook(cost_floor(countries, 2025, levels,
                                                data_dir=shared_data), levels)
            for name, countries in (("one", "288"), ("several", "288,566,404"))}


def _text(title) -> str:
    """The text of a chart or axis title (plain or rich)."""
    if title is None:
        return ""
    if isinstance(title, str):
        return title
    rich = title.tx.rich if title.tx is not None else None
    if rich is None:
        return ""
    return "".join(run.t for p in rich.p for run in (p.r or []))


def _series_name(series) -> str:
    return series.tx.v if series.tx is not None and series.tx.v is not None else ""


def _check_charts(wb) -> int:
    charts = 0
    for ws in wb.worksheets:
        for chart in ws._charts:
            charts += 1
            where = f"{ws.title}: {_text(chart.title)!r}"
            assert _text(chart.title).strip(), f"{ws.title}: a chart without a title"
            assert _text(chart.x_axis.title).strip(), f"{where} has no x axis title"
            assert _text(chart.y_axis.title).strip(), f"{where} has no y axis title"
            assert chart.legend is not None, f"{where} has no legend"
            for series in chart.series:
                name = _series_name(series)
                assert name.strip(), f"{where}: a series without a name"
                assert name not in RAW_IDS, f"{where}: legend shows the id {name!r}"
                assert not _ID.search(name), f"{where}: legend shows an id: {name!r}"
    return charts


def test_report_charts_are_labelled_in_words(report):
    assert _check_charts(report) >= 10
    # the Summary opens on the four figures a minister asks for, before any table
    summary = report["Summary"]
    assert report.sheetnames[0] == "Summary"
    titles = [_text(c.title) for c in summary._charts]
    assert len(titles) == 4, titles
    assert any("guarantee" in t for t in titles)
    assert any("contribution rate" in t for t in titles)
    assert any("reserve ratio" in t.lower() and "shortfall" in t for t in titles)
    assert any("sex" in t for t in titles)
    for chart in summary._charts:
        _, row = coordinate_from_string(chart.anchor)
        assert row < 45  # within the first screens, above the tables


def test_floor_costing_opens_on_labelled_charts(floor_workbooks):
    one, several = floor_workbooks["one"], floor_workbooks["several"]
    for wb, first_header in ((one, "Benefit"), (several, "Country")):
        assert wb.sheetnames[0] == "Overview"
        ws = wb["Overview"]
        header = next(r for r in range(1, ws.max_row + 1)
                      if ws.cell(r, 1).value == first_header)
        for chart in ws._charts:  # above the table they draw, from the sheet's top
            _, row = coordinate_from_string(chart.anchor)
            assert row < header - 10
    assert _check_charts(one) == 2
    titles = [_text(c.title) for c in one["Overview"]._charts]
    assert any("Ghana" in t and "cost" in t for t in titles)
    assert any("beneficiaries" in t for t in titles)
    assert _check_charts(several) == 1
    (chart,) = several["Overview"]._charts
    assert chart.grouping == "stacked"
    assert [_series_name(s) for s in chart.series][:2] == ["Child benefit",
                                                           "Maternity benefit"]
    # the countries' bars drawn from highest cost down, as the table below lists them
    costs = [ws.cell(r, 7).value for r in range(header + 2, header + 5)]
    assert all(isinstance(c, float) for c in costs)
    assert costs == sorted(costs, reverse=True)


def test_comparison_charts_are_labelled_in_words(comparison):
    assert _check_charts(comparison) >= 2


def _dashed(series) -> bool:
    line = series.graphicalProperties.line if series.graphicalProperties else None
    return line is not None and line.prstDash == "dash"


def test_comparison_has_the_reports_floor_sustainability_and_equity(comparison,
                                                                     comparison_ds):
    """Floor, Sustainability and Equity as in run's report, each with baseline, reform and
    the difference (filled), charts drawing the baseline dashed and the reform solid."""
    for name in ("general_average_premium", "actuarial_balance", "cohort_irr"):
        assert f"{name}_difference" in comparison_ds.data_vars
    assert comparison.sheetnames[-4:] == ["Floor", "Sustainability", "Equity", "Metadata"]
    for title in ("Floor", "Sustainability", "Equity", "pension", "Summary"):
        ws = comparison[title]
        assert ws._charts, title
        for chart in ws._charts:
            for series in chart.series:
                name = _series_name(series).lower()
                if name.endswith("baseline"):
                    assert _dashed(series), f"{title}: {name}"
                elif name.endswith("reform"):
                    assert not _dashed(series), f"{title}: {name}"
        if title == "Summary":
            continue
        headers = [c for row in ws.iter_rows() for c in row
                   if isinstance(c.value, str) and c.value.endswith(": difference")]
        assert headers, title
        assert all(c.fill.fgColor.rgb.endswith(DIFFERENCE_FILL.fgColor.rgb[-6:])
                   for c in headers), title
        # a chart sits above the first table, where the sheet opens
        first_table = min(c.row for c in headers)
        assert min(coordinate_from_string(c.anchor)[1] for c in ws._charts) < first_table
    sustainability = comparison["Sustainability"]
    rows = {r[0]: r[1:4] for r in sustainability.iter_rows(values_only=True) if r[0]}
    base, new, diff = rows["Actuarial balance"]
    assert diff == pytest.approx(new - base)
    assert "Depletion year" in rows
    pension = comparison_ds["scheme_name"].sel(scheme="pension").item()
    texts = [c.value for c in sustainability["A"] if isinstance(c.value, str)]
    assert f"{pension}: sustainability, baseline and reform" in texts
    equity = [c.value for row in comparison["Equity"].iter_rows() for c in row]
    assert "IRR, women: difference" in equity
    assert "Money's worth ratio, men: reform" in equity


def test_headers_and_legends_name_schemes_not_ids(report, comparison, default_projection):
    """Adequacy headers, chart legends and the PNG figures' legends read a scheme's name,
    never its id ("Child grant (targeted)", not "child_benefit" or "Name (child_benefit)")."""
    from spfsim.report.plots import cost_rate_figure, reserve_ratio_figure

    ids = [str(s) for s in default_projection["scheme"].values if "_" in str(s)]
    assert ids  # ids that are not words: they would show if they leaked
    adequacy = [c.value for c in report["Adequacy"][3] if c.value]
    names = [str(n) for n in default_projection["scheme_name"].values]
    assert f"{names[0]}: benefit / poverty line" in adequacy
    found = []
    for wb in (report, comparison):
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.font.bold and isinstance(cell.value, str):  # headers, headings
                        found += [f"{ws.title}!{cell.coordinate}: {cell.value}"
                                  for i in ids if i in cell.value]
            for chart in ws._charts:
                texts = [_text(chart.title), *map(_series_name, chart.series)]
                found += [f"{ws.title}: {t}" for t in texts for i in ids if i in t]
    for figure in (cost_rate_figure(default_projection),
                   reserve_ratio_figure(default_projection)):
        for ax in figure.axes:
            legend = ax.get_legend()
            texts = [t.get_text() for t in legend.get_texts()] if legend else []
            assert texts or not ax.has_data()
            found += [t for t in texts for i in ids if i in t]
    assert found == []


def _numbers_as_text(wb) -> list[str]:
    """Cells of the data (not headers) holding a number written as text."""
    found = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if not isinstance(cell.value, str) or cell.font.bold:
                    continue  # headers (bold) may name a year: "2050"
                if ws.title == "Metadata" and cell.value == "1":
                    continue  # the unit of a dimensionless variable (CF: "1"), as text
                if _NUMBER_TEXT.fullmatch(cell.value):
                    found.append(f"{ws.title}!{cell.coordinate}={cell.value!r}")
    return found


def test_report_numbers_are_numbers(report, default_projection):
    assert _numbers_as_text(report) == []
    # the Assumptions sheet's values, and every cell with a number format, are numbers
    assumptions = report["Assumptions"]
    values = [c.value for (c,) in assumptions.iter_rows(min_row=4, min_col=3, max_col=3)]
    numbers = [v for v in values if isinstance(v, int | float)]
    assert len(numbers) >= 100  # every parameter value; names, files and choices are text
    assert len(numbers) > 0.7 * len(values)
    for ws in report.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.number_format != "General" and cell.value is not None \
                        and not cell.font.bold:
                    assert isinstance(cell.value, int | float | str), cell.coordinate
                    if isinstance(cell.value, str):  # a number format holds a number, or
                        assert not _NUMBER_TEXT.fullmatch(cell.value)  # words ("n/a")
    # units say what the cells show: no "fraction" over percentages (the Assumptions and
    # Metadata sheets give the model's and the Dataset's own units, over plain numbers)
    for ws in report.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value == "fraction" and ws.title not in ("Assumptions", "Metadata"):
                    below = ws.cell(row=cell.row + 1, column=cell.column)
                    assert "%" not in below.number_format, f"{ws.title}!{cell.coordinate}"
    # the model's path is not the machine's
    meta = {r[0]: r[1] for r in report["Metadata"].iter_rows(values_only=True) if r[0]}
    assert meta["model_path"] == "default"
    assert str(default_projection.attrs["model_path"]) != meta["model_path"]


def test_comparison_numbers_are_numbers(comparison):
    assert _numbers_as_text(comparison) == []


def test_short_term_schemes_show_no_irr(report):
    equity = report["Equity"]
    texts = [c.value for row in equity.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(t.startswith("A short-term benefit") for t in texts)
    irr_charts = [c for c in equity._charts if "internal rate of return" in _text(c.title)]
    assert len(irr_charts) == 1  # the pension's only
    assert "pension" in _text(irr_charts[0].title).lower()


def test_every_sheet_has_a_page_setup(report, comparison):
    for wb in (report, comparison):
        for ws in wb.worksheets:
            assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4), ws.title
            assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
            assert ws.page_setup.fitToHeight == 0, ws.title
            assert ws.print_area, ws.title
    assert report["pension"].print_title_rows  # the table's header repeats on every page


def _pdf_pages(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed: the "
                    "workbooks cannot be printed to PDF here (apt-get install "
                    "libreoffice-calc)")
def test_workbooks_print_in_few_pages(report, comparison, floor_workbooks, tmp_path):
    paths = [tmp_path / "report.xlsx", tmp_path / "comparison.xlsx", tmp_path / "floor.xlsx"]
    report.save(paths[0])
    comparison.save(paths[1])
    floor_workbooks["one"].save(paths[2])
    profile = (tmp_path / "profile").as_uri()  # its own profile: no clash with a running one
    subprocess.run([SOFFICE, f"-env:UserInstallation={profile}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), *map(str, paths)],
                   check=True, capture_output=True, timeout=180)
    report_pages = _pdf_pages(tmp_path / "report.pdf")
    comparison_pages = _pdf_pages(tmp_path / "comparison.pdf")
    assert 5 <= report_pages <= REPORT_PAGES
    assert 3 <= comparison_pages <= COMPARISON_PAGES
    assert 6 <= _pdf_pages(tmp_path / "floor.pdf") <= FLOOR_PAGES


def test_no_local_paths_in_the_comparison(comparison):
    texts = [c.value for ws in comparison.worksheets for row in ws.iter_rows() for c in row
             if isinstance(c.value, str)]
    assert "higher-minimum-pension.toml" in texts
    assert not [t for t in texts if t.startswith("/") or re.match(r"[A-Za-z]:\\", t)]
