"""Year-on-year jumps and their causes (spfsim.jumps), by hand and on the default model."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import spfsim
from spfsim import jumps
from spfsim.jumps import (
    THRESHOLD,
    Jump,
    find_jumps,
    pensionable_age_pauses,
    scheme_events,
    series_jumps,
)
from spfsim.params import AGES, CompiledScheme
from spfsim.params.dated import DatedValue
from spfsim.report.summary import summary_lines

YEARS = np.arange(2025, 2041)


@pytest.fixture(scope="module")
def default_model():
    return spfsim.load_model()


@pytest.fixture(scope="module")
def default_jumps(default_projection, default_model) -> list[Jump]:
    return find_jumps(default_projection, default_model.assumptions)


def _one(jumps: list[Jump], variable: str, year: int, branch: str | None = None) -> Jump:
    found = [j for j in jumps if j.scheme == "pension" and j.variable == variable
             and j.year == year and j.branch == branch]
    assert len(found) == 1, (variable, year, [j.message for j in jumps])
    return found[0]


# --------------------------------------------------------------------------- by hand


def test_smooth_series_have_no_jump():
    """Nominal money growing 18 % a year with inflation falling to 5 %, a population
    growing 2 % a year, a cost rate creeping up: no jump."""
    t = np.arange(len(YEARS))
    growth = 0.05 + 0.13 * np.exp(-t / 4.0)
    money = 1e9 * np.cumprod(1.0 + growth)
    for values in (money, 1e6 * 1.02 ** t, 0.10 + 0.002 * t, np.zeros(len(YEARS))):
        assert series_jumps(values) == []


def test_a_step_is_found_with_its_size_and_trend():
    """x grows 5 % a year, then one year 20 % more: a jump of 1.05 x 1.2 - 1 = 26 %
    against a trend of 5 %; the year back to the trend is not one."""
    x = 100.0 * 1.05 ** np.arange(10)
    x[6:] *= 1.2
    ((k, change, trend),) = series_jumps(x)
    assert k == 6
    assert change == pytest.approx(0.26)
    assert trend == pytest.approx(0.05)
    # within the threshold: 1.05 x 1.09 is 9 % off the trend
    y = 100.0 * 1.05 ** np.arange(10)
    y[6:] *= 1.09
    assert series_jumps(y) == []
    assert series_jumps(y, threshold=0.08) != []


def test_sampling_noise_is_not_a_jump(monkeypatch):
    """A micro-engine-like series, 12 % growth with 6 % noise a year, has years more than
    10 % off its trend: noise, not jumps. Halving it from one year stands out."""
    rng = np.random.default_rng(4)
    x = 1e6 * np.cumprod(1.12 * (1.0 + 0.06 * rng.standard_normal(40)))
    assert series_jumps(x) == []
    halved = x.copy()
    halved[25:] *= 0.5
    assert [k for k, _, _ in series_jumps(halved)] == [25]
    monkeypatch.setattr(jumps, "NOISE", 0.0)  # the threshold alone
    assert series_jumps(x) != []


def test_tiny_bases_are_not_measured():
    """A series leaving zero, or growing from 0.5 % of its level, starts; it does not
    jump. Falling to zero is a jump (-100 %)."""
    x = np.array([0.0, 0.0, 0.005, 1.0, 1.05, 1.1, 1.15, 1.2])
    assert series_jumps(x) == []
    y = np.array([1.0, 1.05, 1.1, 0.0, 1.2, 1.26, 1.32])
    ((k, change, _),) = series_jumps(y)
    assert (k, change) == (3, -1.0)


def _dataset(values: np.ndarray, units: str = "fraction") -> xr.Dataset:
    return xr.Dataset(
        {"cost_to_gdp": (("year", "scheme"), values[:, None],
                         {"units": units, "long_name": "cost / GDP"})},
        coords={"year": YEARS, "scheme": ["benefit"]}, attrs={"currency": "LCU"})


def test_a_jump_without_known_cause_is_unexplained():
    values = 0.01 * 1.02 ** np.arange(len(YEARS))
    values[8:] *= 1.5  # 2033
    (jump,) = find_jumps(_dataset(values))
    assert (jump.scheme, jump.variable, jump.year) == ("benefit", "cost_to_gdp", 2033)
    assert jump.change == pytest.approx(1.02 * 1.5 - 1)
    assert jump.cause is None
    assert jump.message.startswith("benefit: cost to GDP rose by 53% in 2033 (")
    assert "unexplained" in jump.message
    assert jump.message.endswith(".")


def _scheme(grid: np.ndarray) -> CompiledScheme:
    return CompiledScheme("pension", "db_old_age_pension", "Pension",
                          params={"refund_share": np.ones(len(YEARS))}, indexations={},
                          retirement_age_grid=grid)


def test_pauses_by_calendar_year():
    """60 to 2027, 61 from 2028, 63 from 2031: nobody reaches it in 2028 (those aged 60
    were 59, those aged 61 reached 60 the year before), nor in 2031 (a rise of two years
    pauses one year: those aged 63 in 2032 were 62, below 63); women only, 64 from
    2036."""
    ages = np.select([YEARS < 2028, YEARS < 2031], [60.0, 61.0], 63.0)
    grid = np.repeat(np.broadcast_to(ages[:, None, None], (len(YEARS), len(AGES), 1)), 2,
                     axis=2).copy()
    grid[YEARS >= 2036, :, 1] = 64.0
    pauses = pensionable_age_pauses(_scheme(grid), YEARS)
    assert pauses == {2028: {"male": (60, 61), "female": (60, 61)},
                      2031: {"male": (61, 63), "female": (61, 63)},
                      2036: {"female": (63, 64)}}
    events = {(e.year, e.text) for e in scheme_events(_scheme(grid), YEARS)}
    assert (2028, "the pensionable age rose from 60 to 61 in 2028: nobody reached it that "
            "year, so new pensions and the lump-sum refunds paused") in events
    assert (2029, "new pensions and the lump-sum refunds resumed after the pause of 2028, "
            "when the pensionable age rose from 60 to 61") in events
    assert (2036, "women's pensionable age rose from 63 to 64 in 2036: no woman reached "
            "it that year, so new pensions and the lump-sum refunds paused") in events


def test_a_lower_pensionable_age_is_a_parameter_step():
    """Men's pensionable age falls from 61 to 60 in 2030: two cohorts reach it at once,
    no pause; the step is told as a parameter's, for men only."""
    male = np.where(YEARS < 2030, 61.0, 60.0)
    ages = np.stack([male, np.full(len(YEARS), 60.0)], axis=-1)
    scheme = _scheme(np.repeat(ages[:, None, :], len(AGES), axis=1))
    scheme.params["retirement_age"] = ages
    scheme.numbers["retirement_age"] = {"male": DatedValue({2025: 61.0, 2030: 60.0}),
                                        "female": DatedValue({2025: 60.0})}
    assert pensionable_age_pauses(scheme, YEARS) == {}
    events = [(e.year, e.text) for e in scheme_events(scheme, YEARS) if e.year == 2030]
    assert events == [(2030, "the retirement age fell for men from 61 years of age to 60 "
                       "years of age in 2030")]


def test_pauses_by_birth_cohort():
    """The bundled reform: 61 from the 1965 cohort, 62 from 1967, 63 from 1970, 65 from
    1975. The 1964 cohort reached 60 in 2024, the 1965 one reaches 61 in 2026: nobody in
    2025; likewise 2028 (62 at 1967 + 62 = 2029), 2032 (1970 + 63 = 2033), and two
    years, 2038 and 2039, before the 1975 cohort reaches 65 in 2040."""
    model = spfsim.load_model(reform="retirement-age-by-cohort")
    pension = model.assumptions.schemes[0]
    pauses = pensionable_age_pauses(pension, model.years)
    assert sorted(pauses) == [2025, 2028, 2032, 2038, 2039]
    assert pauses[2028] == {"male": (61, 62), "female": (61, 62)}


def test_parameter_steps_at_effective_years_only():
    """An indexed amount changes every year; only its effective year is an event. The
    default model's contribution rate rises in 2030 and moves contributions (and refunds,
    which pay contributions back), not the cost rate."""
    model = spfsim.load_model(reform="higher-minimum-pension")
    pension = model.assumptions.schemes[0]
    events = scheme_events(pension, model.years, "LCU")
    minimum = [e for e in events if "minimum pension" in e.text]
    assert [e.year for e in minimum] == [2027]
    assert minimum[0].text.startswith("the minimum pension rose from ")
    assert minimum[0].text.endswith(" to 12,000 LCU per year in 2027")
    rate = [e for e in events if "contribution rate" in e.text]
    assert [(e.year, e.text, e.moves) for e in rate] == [
        (2030, "the contribution rate rose from 11% to 13% in 2030", ("income", "refunds"))]


def test_a_young_scheme_matures():
    """Contributions began in 2020, pensions after 10 years: jumps up to 2035 (the first
    pensions in 2030 and MATURING_YEARS after) are put down to the start."""
    n = len(YEARS)
    scheme = CompiledScheme("pension", "db_old_age_pension", "Pension",
                            params={"start_year": np.full(n, 2020.0),
                                    "minimum_service": np.full(n, 10.0)}, indexations={})
    young = [e.year for e in scheme_events(scheme, YEARS) if "young" in e.text]
    assert young == list(range(2026, 2020 + 10 + jumps.MATURING_YEARS + 1))
    scheme.params["start_year"][:] = 1991.0
    assert not [e for e in scheme_events(scheme, YEARS) if "young" in e.text]


# --------------------------------------------------------------------------- default model


def test_default_refund_pauses_are_put_down_to_the_pensionable_age(default_jumps):
    for year, (old, new) in ((2030, (60, 61)), (2035, (61, 62))):
        refunds = _one(default_jumps, "benefit_expenditure_by_branch", year, "refunds")
        assert refunds.change == -1.0
        assert refunds.after == 0.0
        assert refunds.cause == (f"the pensionable age rose from {old} to {new} in {year}: "
                                 "nobody reached it that year, so new pensions and the "
                                 "lump-sum refunds paused")
        assert refunds.message.startswith(f"pension: expenditure on refunds (lump sums) "
                                          f"fell to zero in {year} (from ")
        payg = _one(default_jumps, "paygo_cost_rate", year)
        assert payg.change < -THRESHOLD
        assert payg.cause == refunds.cause
        back = _one(default_jumps, "paygo_cost_rate", year + 1)
        assert back.change > THRESHOLD
        assert back.cause.startswith(f"new pensions and the lump-sum refunds resumed after "
                                     f"the pause of {year}")


def test_default_contribution_rate_rise_is_found(default_jumps):
    jump = _one(default_jumps, "contribution_income", 2030)
    assert jump.change > 0.13 / 0.11 - 1  # the rate's 18 %, on top of the trend
    assert jump.cause == "the contribution rate rose from 11% to 13% in 2030"
    assert "pensionable age" not in jump.message


def test_default_jumps_all_explained_and_stored(default_projection, default_jumps):
    """Every jump of the default model has a known cause; the projection stores the same
    messages, and the run summary lists them."""
    assert default_jumps
    assert all(j.cause for j in default_jumps), [j.message for j in default_jumps]
    stored = default_projection.attrs["jumps"]
    assert isinstance(stored, str)
    assert stored.splitlines() == [j.message for j in default_jumps]
    lines = summary_lines(default_projection)
    heading = next(i for i, line in enumerate(lines) if "why a series jumps" in line)
    assert [line.strip() for line in lines[heading + 1:]] == stored.splitlines()


def test_summary_without_jumps(default_projection):
    quiet = default_projection.copy()
    quiet.attrs["jumps"] = ""
    assert summary_lines(quiet)[-1].startswith("  no series jumps")
    del quiet.attrs["jumps"]
    assert not any("jump" in line for line in summary_lines(quiet))
