"""Stochastic projections: the [stochastic] section, the draws and their statistics, the
runner and the depletion-probability solver (docs/stochastic.md)."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from model_factory import refusal, write_small_model

import spfsim
from spfsim.errors import AssumptionError, ProjectionError
from spfsim.params.stochastic import Autoregressive, MortalitySpec, StochasticSpec
from spfsim.stochastic import depletion_rate, paths, run, simulate

SECTION = """
[stochastic]
draws = 6
seed = 11
[stochastic.mortality]
method = "improvement"
sd = 0.01
[stochastic.fertility]
sd = 0.05
ar = 0.7
[stochastic.migration]
sd = 0.0005
ar = 0.5
[stochastic.economy]
real_wage_growth = { sd = 0.01, ar = 0.5 }
inflation = { sd = 0.01, ar = 0.6 }
interest_rate = { sd = 0.015, ar = 0.7 }
unemployment = { sd = 0.01, ar = 0.6 }
correlation = [[1, 0.3, 0.2, -0.4], [0.3, 1, 0.6, 0], [0.2, 0.6, 1, 0], [-0.4, 0, 0, 1]]
"""


def stochastic_model(folder, section: str = SECTION, end: int = 2040):
    write_small_model(folder, end=end)
    toml = folder / "model.toml"
    toml.write_text(toml.read_text() + section)
    return folder


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return spfsim.load_model(stochastic_model(tmp_path_factory.mktemp("st") / "m"))


# ----------------------------------------------------------------- the model file's section

def test_the_section_is_read(model):
    spec = model.input.stochastic
    assert (spec.draws, spec.seed) == (6, 11)
    assert spec.economy["interest_rate"] == Autoregressive(0.015, 0.7)
    assert spec.correlation[0, 3] == -0.4
    assert spec.mortality == MortalitySpec("improvement", sd=0.01)


@pytest.mark.parametrize(("change", "field", "message"), [
    ("draws = 6", "stochastic.draws", "between 1 and"),
    ("sd = 0.05", "stochastic.fertility.sd", "wrong type"),
    ('method = "improvement"', "stochastic.mortality.method", "expected one of"),
    ("ar = 0.7", "stochastic.fertility.ar", "below 1"),
    ("[-0.4, 0, 0, 1]]", "stochastic.economy.correlation", "correlation matrix"),
])
def test_bad_entries_name_the_file_the_field_and_the_value(tmp_path, change, field, message):
    bad = {"draws = 6": "draws = 0", "sd = 0.05": 'sd = "high"',
           'method = "improvement"': 'method = "cairns"', "ar = 0.7": "ar = 1.0",
           "[-0.4, 0, 0, 1]]": "[-0.4, 0, 0, 0.5]]"}[change]
    text = refusal(stochastic_model(tmp_path / "m", SECTION.replace(change, bad)))
    assert field in text
    assert message in text
    assert "model.toml" in text


@pytest.mark.parametrize(("entry", "message"), [
    ("fertility = { low = 0.3, high = 0.3 }", "stochastic.sensitivity.fertility.high"),
    ("inflation = { low = -0.01, high = 5 }", "stochastic.sensitivity.inflation.high"),
    ("wages = { low = -0.01, high = 0.01 }", "stochastic.sensitivity.wages"),
])
def test_bad_sensitivity_entries_are_named(tmp_path, entry, message):
    folder = stochastic_model(tmp_path / "m", SECTION + f"[stochastic.sensitivity]\n{entry}\n")
    with pytest.raises(AssumptionError, match=message):
        spfsim.load_model(folder)


def test_a_lee_carter_history_must_be_usable(tmp_path):
    folder = stochastic_model(tmp_path / "m", SECTION.replace(
        'method = "improvement"\nsd = 0.01', 'method = "lee_carter"\nhistory = "none.csv"'))
    with pytest.raises(AssumptionError, match=r"none\.csv"):
        spfsim.load_model(folder)


# ------------------------------------------------------------------------- the draws

def test_a_draw_is_the_same_whatever_the_draws_around_it():
    years = np.arange(2025, 2060)
    many = paths.innovations(5, "inflation", np.arange(1000), years)
    one = paths.innovations(5, "inflation", np.array([17]), years)
    assert np.array_equal(many[17], one[0])
    assert not np.array_equal(many[17], paths.innovations(6, "inflation", [17], years)[0])
    assert not np.array_equal(many[17], paths.innovations(5, "interest_rate", [17], years)[0])


@pytest.mark.slow
def test_autoregressive_moments_and_correlations():
    """5,000 draws of four AR(1)s, 60 years: far from the base year a deviation has mean 0
    and sd sd / sqrt(1 - ar^2) (standard error of an sd estimate: sd / sqrt(2n), 1 %), the
    lag-one autocorrelation is ar and the innovations have the declared correlation (the
    standard error of a correlation is about (1 - r^2) / sqrt(n) <= 0.015); bounds 4 se."""
    spec = StochasticSpec(economy={"real_wage_growth": Autoregressive(0.01, 0.5),
                                   "inflation": Autoregressive(0.02, 0.8),
                                   "interest_rate": Autoregressive(0.015, 0.0)},
                          correlation=np.array([[1, 0.3, -0.5], [0.3, 1, 0.6],
                                                [-0.5, 0.6, 1]]))
    n, years = 5000, np.arange(2025, 2085)
    dev = paths.economy_deviations(paths.economy_model(spec), 3, np.arange(n), years)
    for name, process in spec.economy.items():
        x = dev[name]
        assert np.all(x[:, 0] == 0)
        last = x[:, -1]
        assert abs(last.mean()) < 4 * process.stationary_sd / np.sqrt(n)
        assert last.std() == pytest.approx(process.stationary_sd, rel=4 / np.sqrt(2 * n))
        lag = np.corrcoef(x[:, -1], x[:, -2])[0, 1]
        assert lag == pytest.approx(process.ar, abs=4 * (1 - process.ar ** 2) / np.sqrt(n)
                                    + 1e-3)
        # median of a symmetric process: within its Monte Carlo error of the path (0)
        assert abs(np.median(last)) < 4 * 1.2533 * process.stationary_sd / np.sqrt(n)
    shocks = {k: dev[k][:, 1] for k in dev}  # the first deviation is sd x the innovation
    names = list(spec.economy)
    for i in range(3):
        for j in range(i + 1, 3):
            r = np.corrcoef(shocks[names[i]], shocks[names[j]])[0, 1]
            assert r == pytest.approx(spec.correlation[i, j], abs=4 * 0.015)


@pytest.mark.slow
def test_the_economy_fitted_on_a_history(tmp_path):
    """A VAR(1) with a cross effect (wages on unemployment) and correlated innovations,
    simulated for 400 years, written as the model's history: the fit recovers its
    coefficients (standard errors about 0.05 here; bound 0.15) and innovation sds (2 %);
    5,000 draws far from the base year have the fitted model's stationary covariance
    (Lyapunov), sds within 4 standard errors of an sd estimate (sd / sqrt(2n))."""
    truth = np.array([[0.6, 0.0, 0.0], [0.0, 0.5, 0.0], [-0.3, 0.0, 0.7]])
    sd = np.array([0.01, 0.015, 0.008])
    correlation = np.array([[1.0, 0.3, -0.4], [0.3, 1.0, 0.0], [-0.4, 0.0, 1.0]])
    gen = np.random.default_rng(4)
    shocks = gen.multivariate_normal(np.zeros(3), correlation * np.outer(sd, sd), size=400)
    x = np.zeros((400, 3))
    for t in range(1, 400):
        x[t] = truth @ x[t - 1] + shocks[t]
    x += [0.02, 0.05, 0.08]  # real wage growth, inflation, unemployment around their means
    rows = ["year,real_wage_growth,inflation,unemployment"]
    rows += [f"{1600 + t},{a:.12g},{b:.12g},{c:.12g}" for t, (a, b, c) in enumerate(x)]
    folder = stochastic_model(tmp_path / "m", SECTION[:SECTION.index("[stochastic.economy]")]
                              + '[stochastic.economy]\nhistory = "economy.csv"\n')
    (folder / "economy.csv").write_text("\n".join(rows) + "\n")
    spec = spfsim.load_model(folder).input.stochastic
    model = paths.economy_model(spec)
    assert model.names == ("real_wage_growth", "inflation", "unemployment")
    np.testing.assert_allclose(model.ar, truth, atol=0.15)
    np.testing.assert_allclose(np.sqrt(np.diag(model.covariance)), sd, rtol=0.1)
    n = 5000
    dev = paths.economy_deviations(model, 8, np.arange(n), np.arange(2025, 2085))
    last = np.stack([dev[name][:, -1] for name in model.names], axis=1)
    expected = np.sqrt(np.diag(model.stationary_covariance))
    np.testing.assert_allclose(last.std(axis=0), expected, rtol=4 / np.sqrt(2 * n))


def test_a_bad_economy_history_is_named(tmp_path):
    folder = stochastic_model(tmp_path / "m", SECTION[:SECTION.index("[stochastic.economy]")]
                              + '[stochastic.economy]\nhistory = "economy.csv"\n')
    (folder / "economy.csv").write_text("year,inflation\n2000,0.05\n2001,x\n")
    with pytest.raises(AssumptionError, match=r"economy\.csv, line 3: field 'inflation'.*'x'"):
        spfsim.load_model(folder)
    (folder / "economy.csv").write_text("year,inflation\n2000,0.05\n2001,0.04\n")
    with pytest.raises(AssumptionError, match="15 or more consecutive years"):
        spfsim.load_model(folder)


@pytest.mark.slow
def test_lee_carter_k_has_the_fitted_drift_and_variance(tmp_path):
    """Rates log m(x, t) = a(x) + b(x) k(t) with k a random walk of drift -0.5 and sd 0.3
    over 40 years: the fit recovers sigma; the simulated deviation of k(t + h) from its
    central path has mean 0 and variance h sigma^2 + h^2 sigma^2 / (T - 1) with the drift's
    uncertainty (h = 30, 4,000 draws: the sd of a variance estimate is var sqrt(2 / n),
    2.2 %; bound 4 se)."""
    gen = np.random.default_rng(1)
    years = np.arange(1980, 2020)
    k = np.cumsum(-0.5 + 0.3 * gen.standard_normal(len(years)))
    ages = np.arange(101)
    ax = -9.0 + 0.08 * ages
    rows = ["year,age,sex,mx"]
    for t, year in enumerate(years):
        mx = np.exp(ax + k[t] / 10)
        rows += [f"{year},{a},{sex},{mx[a]:.10g}" for sex in ("male", "female")
                 for a in ages]
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "history.csv").write_text("\n".join(rows) + "\n")
    folder = stochastic_model(tmp_path / "m", SECTION.replace(
        'method = "improvement"\nsd = 0.01', 'method = "lee_carter"\nhistory = "history.csv"'))
    spec = spfsim.load_model(folder).input.stochastic
    model = paths.mortality_model(spec)
    sigma = float(model.sigma[0])
    # every age moves by k / 10: with sum b(x) = 1 over 101 ages the fitted index is 10.1 k
    assert sigma == pytest.approx(np.std(np.diff(10.1 * k), ddof=1), rel=1e-6)
    np.testing.assert_allclose(model.bx[:, 0], 1 / 101, rtol=1e-6)
    n, h = 4000, 30
    dev = paths.mortality_deviations(model, 2, np.arange(n), np.arange(2025, 2025 + h + 1))
    x = dev[:, h, 0]
    variance = h * sigma ** 2 + h ** 2 * sigma ** 2 / (len(years) - 1)
    assert abs(x.mean()) < 4 * np.sqrt(variance / n)
    assert x.var() == pytest.approx(variance, rel=4 * np.sqrt(2 / n))


# -------------------------------------------------------------------------- the runner

def test_without_variance_every_draw_is_the_deterministic_projection(model):
    det = model.project()
    ds = model.project_stochastic(3, keep_draws=True,
                                  spec=model.input.stochastic.without_variance())
    for name in ("benefit_expenditure", "contribution_income", "reserve", "insured_earnings",
                 "paygo_cost_rate"):
        expected = det[name].transpose("year", "scheme").values
        got = ds[name].transpose("draw", "year", "scheme").values
        np.testing.assert_allclose(got, np.broadcast_to(expected, got.shape), rtol=1e-9,
                                   atol=1e-9)
    total = det["population"].sum(("age", "sex")).values
    np.testing.assert_allclose(ds["total_population"].values,
                               np.broadcast_to(total, (3, total.size)), rtol=1e-9)
    np.testing.assert_allclose(ds["actuarial_balance"].sel(scheme="pension"),
                               det["actuarial_balance"].sel(scheme="pension"), rtol=1e-9)


def test_draws_vary_and_are_the_same_with_other_draws_and_threads(model):
    spec = model.input.stochastic
    a = model.assumptions
    all_four = simulate(a, spec, 4, seed=9, batch=3)
    numba.set_num_threads(1)
    try:
        alone = simulate(a, spec, [2], seed=9)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    for name, values in all_four.series.items():
        assert np.array_equal(values[2], alone.series[name][0], equal_nan=True), name
    reserve = all_four.series["reserve"][:, -1, 0]
    assert np.unique(reserve).size == 4


def test_draws_sharing_the_base_year_state_are_the_same(model):
    """The pension's base-year state, built once and copied into every draw, gives each
    draw bitwise the numbers of a projection that builds its own."""
    spec, a = model.input.stochastic, model.assumptions
    shared = simulate(a, spec, 3, seed=5)
    for d in range(3):
        alone = run.allocate(a, 1)
        paths_d = paths.draw_paths(spec, paths.mortality_model(spec), paths.economy_model(spec),
                                   5, np.array([d]), a.years)
        run.project_draw(paths.drawn_assumptions(a, spec, paths.mortality_model(spec),
                                                 paths_d, 0), alone, 0)
        for name, values in shared.series.items():
            assert np.array_equal(values[d], alone.series[name][0], equal_nan=True), name


def test_the_summaries(model):
    ds = model.project_stochastic(6, keep_draws=True)
    q = ds["paygo_cost_rate_percentiles"].sel(scheme="pension")
    assert np.all(np.diff(q.values, axis=0) >= -1e-15)  # percentiles in order
    p = ds["depletion_probability"].sel(scheme="pension").values
    assert np.all(np.diff(p) >= 0)
    assert np.all((p >= 0) & (p <= 1))
    first = ds["depletion_year"].sel(scheme="pension").values
    for k, year in enumerate(ds["year"].values):
        assert p[k] == np.mean(first <= year)
    assert np.isnan(ds["depletion_probability"].sel(scheme="child_benefit")).all()
    median = np.median(ds["paygo_cost_rate"].sel(scheme="pension").values, axis=0)
    np.testing.assert_allclose(q.sel(percentile=50.0), median)
    undescribed = [v for v in ds.data_vars if not {"units", "long_name"} <= set(ds[v].attrs)]
    assert not undescribed
    assert ds["actuarial_balance_percentiles"].attrs["long_name"].startswith(
        "percentiles over the draws of: actuarial balance over 16 years (2025-2040)")


def test_a_broken_fund_identity_stops_the_run(model, monkeypatch):
    real = run.fund_projection

    def leaking(f, scheme, interest):
        fund = real(f, scheme, interest)
        fund.reserve = fund.reserve * 1.001
        return fund

    monkeypatch.setattr(run, "fund_projection", leaking)
    with pytest.raises(ProjectionError, match="draw 0: an accounting identity fails"):
        model.project_stochastic(1)


def test_the_rate_that_keeps_depletion_under_a_probability(model):
    """The solver's rate meets the target in a direct roll-forward of every draw, and
    any lower rate does not (the rate is an order statistic of the draws' needed rates)."""
    ds = model.project_stochastic(6, keep_draws=True)
    by, start = int(ds["year"][-1]), int(ds["year"][3])
    result = depletion_rate(ds, "pension", by, probability=0.34, from_year=start)
    assert result.success, result.message
    rate = result.solution["contribution_rate"]
    needed = result.constraints["needed_rate"]
    assert np.mean(needed > rate) <= 0.34
    assert np.mean(needed > rate - 1e-6) > 0.34 or rate == 0.0
    one = ds.sel(scheme="pension").isel(draw=int(np.argmax(needed)))
    s = one["insured_earnings"].values
    years = ds["year"].values
    scheduled = one["contribution_income"].values / s
    schedule = np.where(years < start, scheduled, needed.max())
    reserve = spfsim.finance.project_with_rate(
        schedule, one["benefit_expenditure"], one["admin_expenditure"], s,
        one["interest_rate"], float(one["initial_reserve"]),
        other_income=one["committed_transfers"]).reserve
    assert reserve.min() >= -1e-6 * np.abs(reserve).max()


def test_without_a_section_there_is_nothing_to_draw(tmp_path):
    write_small_model(tmp_path / "m", end=2030)
    with pytest.raises(ValueError, match="no \\[stochastic\\] section"):
        spfsim.load_model(tmp_path / "m").project_stochastic(2)


def test_the_command_writes_the_dataset(tmp_path, capsys):
    from spfsim.cli import main

    folder = stochastic_model(tmp_path / "m", end=2032)
    out = tmp_path / "out"
    assert main(["stochastic", str(folder), "--draws", "3", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "3 draws" in printed
    assert "pension: reserve exhausted by" in printed
    assert (out / "stochastic.nc").is_file()
    assert main(["stochastic", str(folder), "--draws", "3", "--out", str(out)]) == 1
    assert "--overwrite" in capsys.readouterr().err


# ------------------------------------------------------------------ sensitivity tests

def test_sensitivity_variants_move_one_assumption(model):
    """A variant is the deterministic projection with one assumption moved from the year
    after the base year: higher interest on reserves raises the balance of a funded scheme;
    slower mortality decline (log m(x) + 0.01 a year) leaves fewer pensioners; each
    variant's baseline is the deterministic projection."""
    from spfsim.stochastic.sensitivity import variant_assumptions

    a = model.assumptions
    moved = variant_assumptions(a, "interest_rate", 0.01)
    np.testing.assert_allclose(moved.interest_rate[1:], a.interest_rate[1:] + 0.01)
    assert moved.interest_rate[0] == a.interest_rate[0]
    assert np.array_equal(moved.mx, a.mx)
    mortality = variant_assumptions(a, "mortality", 0.01)
    np.testing.assert_allclose(mortality.mx[5], a.mx[5] * np.exp(0.05))
    tfr = variant_assumptions(a, "fertility", 0.3).asfr.sum(axis=1)
    np.testing.assert_allclose(tfr[1:], a.asfr.sum(axis=1)[1:] + 0.3)
    sens = model.sensitivity({"interest_rate": (-0.01, 0.01), "mortality": (-0.01, 0.01)})
    det = model.project()
    assert float(sens["baseline_actuarial_balance"].sel(scheme="pension")) == pytest.approx(
        float(det["actuarial_balance"].sel(scheme="pension")), rel=1e-9)
    balance = sens["actuarial_balance"].sel(scheme="pension")
    assert float(balance.sel(assumption="interest_rate", bound="high")) > float(
        balance.sel(assumption="interest_rate", bound="low"))
    assert float(balance.sel(assumption="mortality", bound="high")) > float(
        balance.sel(assumption="mortality", bound="low"))
    assert np.isnan(sens["actuarial_balance"].sel(scheme="child_benefit")).all()


def test_uncertainty_commands_write_workbooks_and_figures(tmp_path, capsys):
    """`spfsim stochastic` and `spfsim sensitivity` with --figures: the workbooks have a
    sheet per funded scheme with native charts, the figures are PNG files."""
    from openpyxl import load_workbook

    from spfsim.cli import main

    section = SECTION + """[stochastic.sensitivity]
interest_rate = { low = -0.01, high = 0.01 }
fertility = { low = -0.3, high = 0.3 }
"""
    folder = stochastic_model(tmp_path / "m", section, end=2034)
    out = tmp_path / "out"
    common = ["--out", str(out), "--figures"]
    assert main(["stochastic", str(folder), "--draws", "3", "--quiet", *common]) == 0
    assert main(["sensitivity", str(folder), *common]) == 0
    printed = capsys.readouterr().out
    assert "interest_rate" in printed
    book = load_workbook(out / "stochastic.xlsx")
    assert book.sheetnames == ["Summary", "pension"]
    assert len(book["pension"]._charts) == 3  # two fans and the probability of depletion
    sensitivity = load_workbook(out / "sensitivity.xlsx")
    assert sensitivity.sheetnames == ["Sensitivity"]
    # the chart opens the sheet, above its table; schemes named in words, not by id
    ws = sensitivity["Sensitivity"]
    header = next(c.row for c in ws["A"] if c.value == "Scheme")
    (chart,) = ws._charts
    assert chart.anchor._from.row + 1 < header
    assert ws.cell(header + 1, 1).value == "Old-age pension"
    assert book["pension"]["A1"].value.startswith("Old-age pension: ")
    pictures = sorted(p.name for p in (out / "figures").iterdir())
    assert pictures == ["depletion_probability.png", "fan_paygo_cost_rate_pension.png",
                        "fan_reserve_ratio_pension.png", "tornado_pension.png"]
    assert all((out / "figures" / p).read_bytes()[:4] == b"\x89PNG" for p in pictures)


@pytest.mark.slow
def test_draws_on_two_workers_are_the_same(model):
    """Blocks of draws projected by two Dask worker processes, put back in draw order: the
    same numbers, bitwise, as in this process."""
    from spfsim.batch.cli import dask_client

    alone = simulate(model.assumptions, model.input.stochastic, 6, seed=4, batch=2)
    with dask_client(None, 2) as client:
        spread = simulate(model.assumptions, model.input.stochastic, 6, seed=4, batch=2,
                          client=client)
    for name, values in alone.series.items():
        assert np.array_equal(values, spread.series[name], equal_nan=True), name
    for name, values in alone.measures.items():
        assert np.array_equal(values, spread.measures[name], equal_nan=True), name


def test_the_command_projects_many_draws_on_a_local_cluster_by_default(monkeypatch):
    """``spfsim stochastic`` without --workers: one worker a core from
    AUTO_CLUSTER_PROJECTIONS draws on a machine of several cores, else in this process; an
    explicit --workers is kept, a negative one refused."""
    from argparse import Namespace

    from spfsim.cli import AUTO_CLUSTER_PROJECTIONS, _cluster_workers
    from spfsim.errors import SpfsimError

    monkeypatch.setattr("spfsim.batch.cli.local_cores", lambda: 4)
    auto = Namespace(workers=None)
    assert _cluster_workers(auto, AUTO_CLUSTER_PROJECTIONS) == 4
    assert _cluster_workers(auto, AUTO_CLUSTER_PROJECTIONS - 1) == 0
    assert _cluster_workers(Namespace(workers=0), 10 * AUTO_CLUSTER_PROJECTIONS) == 0
    assert _cluster_workers(Namespace(workers=3), 1) == 3
    with pytest.raises(SpfsimError, match="--workers"):
        _cluster_workers(Namespace(workers=-1), 1)
    monkeypatch.setattr("spfsim.batch.cli.local_cores", lambda: 1)
    assert _cluster_workers(auto, 10 * AUTO_CLUSTER_PROJECTIONS) == 0
