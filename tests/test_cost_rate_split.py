"""The PAYG cost rate split into periodic benefits and lump sums (refunds), in the Dataset,
the cost-rate figure and the scheme sheet of the workbook."""

from __future__ import annotations

import numpy as np
import pytest

from spfsim.report.plots import cost_rate_figure
from spfsim.report.workbook import build_workbook
from spfsim.report.workbook.schemes import TABLE_BELOW_CHARTS
from spfsim.results.assemble import PAYMENTS, paygo_cost_rate_by_payment


def test_split_by_hand():
    """Benefits 100 of which 30 lump sums, administration 5, insured earnings 1,000: the
    cost rate 10.5 % splits 7.35 % + 3.15 % (administration shared 70:30); a year without
    lump sums puts it all on periodic benefits; no insured earnings: NaN, no benefits: 0."""
    benefits = np.array([[100.0], [100.0], [100.0], [0.0]])
    admin = np.array([[5.0], [5.0], [5.0], [1.0]])
    insured = np.array([[1000.0], [1000.0], [0.0], [1000.0]])
    lump = np.array([[30.0], [0.0], [30.0], [0.0]])
    split = paygo_cost_rate_by_payment(benefits, admin, insured, lump)
    assert split.shape == (4, len(PAYMENTS), 1)
    np.testing.assert_allclose(split[0, :, 0], [0.0735, 0.0315])
    np.testing.assert_allclose(split[1, :, 0], [0.105, 0.0])
    assert np.isnan(split[2]).all()
    np.testing.assert_allclose(split[3, :, 0], [0.001, 0.0])


def test_default_split_adds_up_and_the_dip_is_in_the_lump_sums(default_projection):
    """The default model's pensionable age rises in 2030 and 2035: nobody reaches it, so
    the refunds pause and the cost rate falls by a third; the periodic part carries on
    (it dips a little: no new pensions are awarded either)."""
    ds = default_projection
    split = ds["paygo_cost_rate_by_payment"]
    assert split.dims == ("year", "payment", "scheme")
    assert split.attrs["units"] == "fraction"
    assert split.attrs["long_name"]
    total = ds["paygo_cost_rate"]
    np.testing.assert_allclose(split.sum("payment").where(total.notnull()), total,
                               rtol=1e-12, atol=1e-15)
    pension = split.sel(scheme="pension")
    lump = pension.sel(payment="lump_sum")
    periodic = pension.sel(payment="periodic")
    for year in (2030, 2035):
        before = float(total.sel(scheme="pension", year=year - 1))
        assert float(total.sel(scheme="pension", year=year)) < 0.75 * before
        assert float(lump.sel(year=year)) == 0.0
        assert float(lump.sel(year=year - 1)) > 0.01  # about 2 % of insured earnings
        change = float(periodic.sel(year=year)) / float(periodic.sel(year=year - 1)) - 1
        assert abs(change) < 0.1, (year, change)
    # only the pension pays lump sums
    others = split.drop_sel(scheme="pension").sel(payment="lump_sum")
    assert float(np.nanmax(np.abs(others.values))) == 0.0


def test_figure_shows_the_parts(default_projection):
    fig = cost_rate_figure(default_projection)
    left = fig.axes[0]
    labels = [text.get_text() for text in left.get_legend().get_texts()]
    assert any(label.endswith("periodic benefits") for label in labels)
    assert any(label.endswith("lump sums (refunds)") for label in labels)
    periodic = next(line for line in left.get_lines()
                    if line.get_label().endswith("periodic benefits"))
    expected = default_projection["paygo_cost_rate_by_payment"].sel(
        scheme="pension", payment="periodic").values
    np.testing.assert_allclose(periodic.get_ydata(), expected)


@pytest.fixture(scope="module")
def workbook(default_projection):
    return build_workbook(default_projection)


def test_workbook_shows_the_parts(workbook):
    ws = workbook["pension"]
    header = TABLE_BELOW_CHARTS  # the yearly table starts under the charts
    headers = {ws.cell(row=header, column=c).value: c for c in range(1, ws.max_column + 1)}
    total = headers["PAYG cost rate"]
    periodic = headers["PAYG cost rate, periodic benefits"]
    lump = headers["PAYG cost rate, lump sums"]
    years = {ws.cell(row=r, column=1).value: r for r in range(header + 2, ws.max_row + 1)}
    for year in (2029, 2030, 2031):
        row = years[year]
        parts = ws.cell(row=row, column=periodic).value + ws.cell(row=row, column=lump).value
        assert parts == pytest.approx(ws.cell(row=row, column=total).value, rel=1e-12)
    assert ws.cell(row=years[2030], column=lump).value == 0.0
    chart = ws._charts[0]
    # total, periodic, lump sums, the contribution rate against them, cost to GDP
    assert len(chart.series) == 5
    # the other contributory schemes pay no lump sums: their sheets are as before
    assert "PAYG cost rate, lump sums" not in {
        c.value for c in workbook["maternity_insurance"][header]}
