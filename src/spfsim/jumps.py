"""Year-on-year jumps in a projection's key series, each with its cause where the model knows
it.

A projection's series move with inflation, growth and ageing from year to year; a *jump* is
a year whose change is far off that movement. For each scheme, :func:`find_jumps` scans
benefit expenditure by branch (contributory pensions), contribution income, contributors,
beneficiaries, the PAYG cost rate and the cost to GDP, and reports year ``t`` when

    | (1 + g_t) / (1 + m_t) - 1 | > THRESHOLD (10 %),

with g_t = x_t / x_{t-1} - 1 the year-on-year relative change and m_t the median of the
changes from ``WINDOW`` (2) years before to as many after, g_t included: the trend of the
years around, which one jump, or a dip and its rebound, does not move. Measuring
against the trend, not zero, keeps steady growth (money grows 15-20 % a year while
inflation is high) from reading as jumps. A noisy series (the micro engine's sampling
noise) must also jump by more than ``NOISE`` (4) times its typical scatter around the
trend (a robust standard deviation: 1.4826 x the median absolute deviation), so that
noise does not read as jumps; a cohort-engine series is smooth and the threshold rules.
A change from a tiny base (below ``FLOOR``, 1 %, of the largest absolute value within
``WINDOW`` years) is not measured: a series leaving zero is a start, not a jump. The
change reported is g_t itself (a fraction; -1: the series fell to zero).

Each jump is put down to the events of its scheme that the model knows of in that year
(:func:`scheme_events`):

- a number parameter whose value changes in that year (its effective year in the model
  file; ``CompiledScheme.numbers``), for the series it can move: contribution parameters
  for contribution income and contributors, the others for benefits and costs;
- a rise of the pensionable age that nobody reaches in that year (``retirement_age_grid``):
  new pensions and the lump-sum refunds paid at that age pause for the year, and resume the
  year after;
- the first projected year, whose change starts from the base year's reconstructed state;
- a contributory pension's start (``start_year`` in the projection, or so recent that its
  first pensions fall in it): its series grow from small bases while it matures.

A jump with none of these is reported as unexplained. ``spfsim.pipeline.run_projection``
stores the messages, one a line, in the Dataset's ``attrs["jumps"]``; the run summary and
the workbook's Summary sheet list them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .params import AGES, SEXES
from .schemes import SCHEME_TYPES

if TYPE_CHECKING:
    import xarray as xr

    from .params import Assumptions, CompiledScheme

#: A year-on-year change more than this far (relative) from the trend is a jump.
THRESHOLD = 0.10
#: Years on either side whose changes, with the year's own, give the trend (their
#: median).
WINDOW = 2
#: A jump must also exceed this many times the series' typical scatter around its trend
#: (the robust standard deviation, 1.4826 x the median absolute deviation from it).
NOISE = 4.0
#: A base below this share of the largest absolute value of the years around it is too
#: small to measure.
FLOOR = 0.01
#: Years after a contributory pension's first pensions are due during which its jumps are
#: put down to its start (its series mature from small bases).
MATURING_YEARS = 5

INCOME, OUTGO = "income", "outgo"
# parameters that move contributions rather than benefits; the contribution rate moves the
# refunds too (a refund is the contributions paid back)
_INCOME_PARAMETERS = {"contribution_rate": (INCOME, "refunds"),
                      "worker_share": (INCOME,), "contribution_persistence": (INCOME,),
                      "state_contribution_rate": (INCOME,),
                      "earnings_floor": (INCOME, OUTGO), "earnings_ceiling": (INCOME, OUTGO)}
_BRANCH_LABELS = {"old_age": "old-age pensions", "disability": "disability pensions",
                  "survivors": "survivors' pensions",
                  "dependants": "dependants' supplements", "refunds": "refunds (lump sums)"}
_SEX_NOUNS = {"male": ("men's", "man"), "female": ("women's", "woman")}


@dataclass(frozen=True)
class Jump:
    """A year-on-year jump of one series of one scheme.

    ``variable``: the Dataset variable (summed over age and sex; ``branch`` set for
    ``benefit_expenditure_by_branch``); ``change``: the relative change from the year
    before (fraction; -1: fell to zero); ``before``, ``after``: the values of the two years
    in the variable's units; ``cause``: what the model knows happened that year, or None
    (unexplained); ``message``: one plain sentence saying all of it.
    """

    scheme: str
    variable: str
    year: int
    change: float
    before: float
    after: float
    cause: str | None
    message: str
    branch: str | None = None


@dataclass(frozen=True)
class Event:
    """Something the model knows happens to a scheme in a year: ``text`` says what, as a
    clause; ``moves`` the sides (``INCOME``, ``OUTGO``) or branches whose series it moves;
    ``overrides``: where it applies, the other events of the year are not listed (a year
    without awards swamps any parameter change)."""

    year: int
    text: str
    moves: tuple[str, ...]
    overrides: bool = False


def series_jumps(values: np.ndarray, threshold: float = THRESHOLD, window: int = WINDOW,
                 floor: float = FLOOR) -> list[tuple[int, float, float]]:
    """The jumps of one yearly series: ``(k, change, trend)`` for each position k >= 1
    whose relative change from position k - 1 is more than ``threshold`` off the trend
    (the median of the changes within ``window`` positions, its own included) and more
    than ``NOISE`` times the series' scatter around it; a base below ``floor`` x the
    largest absolute value of the positions around it (``window`` either side) is not
    measured. See the module's text."""
    return rows_jumps(np.asarray(values, dtype=float)[None, :], threshold, window, floor)[0]


def rows_jumps(rows: np.ndarray, threshold: float = THRESHOLD, window: int = WINDOW,
               floor: float = FLOOR) -> list[list[tuple[int, float, float]]]:
    """:func:`series_jumps` of each row of ``rows`` (series, year), every series at once
    (a projection scans some fifty)."""
    x = np.asarray(rows, dtype=float)
    n = x.shape[1]
    if n < 2:
        return [[] for _ in x]
    base, after = x[:, :-1], x[:, 1:]
    # the largest finite |value| at positions k - window .. k + 1 + window of each base k
    near = _windows(np.where(np.isfinite(x), np.abs(x), -np.inf), window, window + 1,
                    -np.inf)[:, :n - 1].max(axis=2)
    # money grows a hundredfold over a long nominal projection: "tiny" is local
    measured = np.isfinite(base) & np.isfinite(after) & (near > -np.inf) \
        & (np.abs(base) >= floor * near) & (base != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(measured, (after - base) / np.abs(base), np.nan)
    # a running median, the year itself included: one jump, or a dip and its rebound,
    # among the years around does not move it
    trend = np.where(np.isfinite(growth), _finite_medians(_windows(growth, window, window,
                                                                   np.nan)), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        off = np.where(trend > -1.0, (1.0 + growth) / (1.0 + trend) - 1.0, growth)
    finite = np.isfinite(off)
    # sampling noise (the micro engine's) scatters every year: a jump must stand out of
    # it (0 for a series without a measured change)
    scatter = NOISE * 1.4826 * np.nan_to_num(_finite_medians(np.where(finite, np.abs(off),
                                                                      np.nan)))
    with np.errstate(invalid="ignore"):
        jumps = finite & (np.abs(off) > np.maximum(threshold, scatter)[:, None])
    return [[(int(i) + 1, float(growth[r, i]), float(trend[r, i]))
             for i in np.flatnonzero(jumps[r])] for r in range(len(x))]


def _windows(x: np.ndarray, before: int, after: int, pad: float) -> np.ndarray:
    """(..., len, before + 1 + after): along the last axis of ``x``, window k holds
    positions k - before .. k + after, ``pad`` beyond the ends."""
    edges = [(0, 0)] * (x.ndim - 1) + [(before, after)]
    padded = np.pad(x, edges, constant_values=pad)
    return np.lib.stride_tricks.sliding_window_view(padded, before + 1 + after, axis=-1)


def _finite_medians(rows: np.ndarray) -> np.ndarray:
    """The median of the finite values along the last axis (NaN where none), as
    np.median gives it."""
    ordered = np.sort(rows, axis=-1)  # NaN last
    count = np.isfinite(rows).sum(axis=-1)
    low = np.take_along_axis(ordered, (np.maximum(count - 1, 0) // 2)[..., None],
                             axis=-1)[..., 0]
    high = np.take_along_axis(ordered, np.minimum(count // 2, rows.shape[-1] - 1)[..., None],
                              axis=-1)[..., 0]
    return np.where(count > 0, np.where(count % 2, low, (low + high) / 2.0), np.nan)


# --------------------------------------------------------------------------- causes


def _format_parameter(unit: str, value: float, currency: str) -> str:
    if unit.startswith("fraction"):
        return f"{100 * value:.4g}%"
    return f"{value:,.6g} {unit.replace('currency', currency)}".rstrip()


def _parameter_events(scheme: CompiledScheme, years: np.ndarray,
                      currency: str) -> list[Event]:
    """A number parameter whose value changes at one of its effective years within the
    projection (indexed amounts change every year; only the effective years count)."""
    specs = SCHEME_TYPES[scheme.type].PARAMETERS if scheme.type in SCHEME_TYPES else {}
    events = []
    for name, by_sex in scheme.numbers.items():
        by_cohort = name == "retirement_age" and scheme.retirement_age_by_cohort is not None
        if by_cohort or name not in scheme.params:
            continue  # effective years that are birth years: the pauses tell their steps
        values = scheme.params[name]
        unit = specs[name].unit if name in specs else ""
        effective = sorted({y for v in by_sex.values() for y in v.values})
        for year in (y for y in effective if years[0] < y <= years[-1]):
            k = int(year - years[0])
            before, after = np.atleast_1d(values[k - 1]), np.atleast_1d(values[k])
            if np.array_equal(before, after):
                continue
            if len(set(before.tolist())) == 1 and len(set(after.tolist())) == 1:
                changes = [("", before[0], after[0])]  # the same for both sexes
            else:
                changes = [(f" for {noun}", b, a) for noun, b, a
                           in zip(("men", "women"), before, after, strict=True) if b != a]
            parts = [f"{'rose' if a > b else 'fell'}{who} from "
                     f"{_format_parameter(unit, float(b), currency)} to "
                     f"{_format_parameter(unit, float(a), currency)}"
                     for who, b, a in changes]
            events.append(Event(int(year), f"the {name.replace('_', ' ')} "
                                f"{' and '.join(parts)} in {year}",
                                _INCOME_PARAMETERS.get(name, (OUTGO,))))
    return events


def _youngest_reached(grid: np.ndarray) -> np.ndarray:
    """([year,] sex) the youngest age at or above its own pensionable age in an ([year,]
    age, sex) grid."""
    reached = AGES[:, None] >= grid
    return np.where(reached.any(axis=-2), reached.argmax(axis=-2), AGES[-1])


def pensionable_age_pauses(scheme: CompiledScheme,
                           years: np.ndarray) -> dict[int, dict[str, tuple[int, int]]]:
    """The years in which nobody reaches the pensionable age because it rose: {year: {sex:
    (youngest pensionable age the year before, that year)}}, for a scheme with a
    ``retirement_age_grid`` (calendar-year or birth-year basis). A cell (age a, sex s)
    reaches it in year t when a is at or above its pensionable age and a - 1 was below the
    year before's (the base year's year before: ``retirement_ages_before``)."""
    grid = scheme.retirement_age_grid
    if grid is None:
        return {}
    pauses: dict[int, dict[str, tuple[int, int]]] = {}
    inner = AGES[1:-1]  # the open age group never reaches an age; age 0 has no age before
    grid = grid[: len(years)]
    # (year, age, sex) each year's grid and the year before's, every year at once
    previous = np.concatenate([scheme.retirement_ages_before(int(years[0]) - 1)[None],
                               grid[:-1]])
    reaching = ((inner[:, None] >= grid[:, inner])
                & (inner[:, None] - 1 < previous[:, inner - 1])).any(axis=1)
    old, new = _youngest_reached(previous), _youngest_reached(grid)
    for k in np.flatnonzero((~reaching & (new > old)).any(axis=1)):
        pauses[int(years[k])] = {sex: (int(old[k, s]), int(new[k, s]))
                                 for s, sex in enumerate(SEXES)
                                 if not reaching[k, s] and new[k, s] > old[k, s]}
    return pauses


def _describe_rise(paused: dict[str, tuple[int, int]], year: int) -> tuple[str, str]:
    """('the pensionable age rose from 60 to 61 in 2030', 'nobody') for the sexes whose
    awards pause; by sex when they differ."""
    if set(paused) == set(SEXES) and len(set(paused.values())) == 1:
        old, new = next(iter(paused.values()))
        return f"the pensionable age rose from {old} to {new} in {year}", "nobody"
    rises = [f"{_SEX_NOUNS[sex][0]} pensionable age rose from {old} to {new}"
             for sex, (old, new) in paused.items()]
    who = "nobody" if set(paused) == set(SEXES) else f"no {_SEX_NOUNS[next(iter(paused))][1]}"
    return " and ".join(rises) + f" in {year}", who


def _age_events(scheme: CompiledScheme, years: np.ndarray) -> list[Event]:
    """Pauses of the awards at the pensionable age, and their end the year after."""
    pauses = pensionable_age_pauses(scheme, years)
    refunds = "refund_share" in scheme.params
    events = []
    for year, paused in pauses.items():
        k = year - int(years[0])
        paid = "new pensions"
        if refunds and float(scheme["refund_share"][k]) > 0:
            paid += " and the lump-sum refunds"
        rise, who = _describe_rise(paused, year)
        events.append(Event(year, f"{rise}: {who} reached it that year, so {paid} "
                            "paused", (OUTGO,), overrides=True))
        if year + 1 <= years[-1] and year + 1 not in pauses:
            events.append(Event(year + 1, f"{paid} resumed after the pause of {year}, when "
                                f"{rise.removesuffix(f' in {year}')}", (OUTGO,),
                                overrides=True))
    return events


def _start_events(scheme: CompiledScheme, years: np.ndarray) -> list[Event]:
    """The maturing years of a contributory pension whose first pensions fall within (or
    just before) the projection."""
    if "start_year" not in scheme.params or "minimum_service" not in scheme.params:
        return []
    start = int(scheme["start_year"][0])
    first_pensions = start + int(np.min(scheme["minimum_service"]))
    last = first_pensions + MATURING_YEARS
    if last <= years[0]:
        return []
    text = (f"the scheme is young: contributions began in {start} and pensions are due "
            f"after {first_pensions - start} years of service, from {first_pensions}")
    return [Event(int(y), text, (INCOME, OUTGO)) for y in years[1:] if y <= last]


def scheme_events(scheme: CompiledScheme, years: np.ndarray, currency: str = "") -> list[Event]:
    """Everything the model knows happens to ``scheme`` in the projection ``years`` that
    can make a series jump (see the module's text), in order of year."""
    events = [*_parameter_events(scheme, years, currency), *_age_events(scheme, years),
              *_start_events(scheme, years)]
    if len(years) > 1:
        events.append(Event(int(years[1]), f"it is the first change after the base year "
                            f"{int(years[0])}, whose state the model builds rather than "
                            "projects", (INCOME, OUTGO)))
    return sorted(events, key=lambda e: e.year)


# --------------------------------------------------------------------------- scanning


@dataclass(frozen=True)
class _Series:
    variable: str
    label: str
    side: str
    branch: str | None = None


_SERIES = (
    _Series("contribution_income", "contribution income", INCOME),
    _Series("contributors", "contributors", INCOME),
    _Series("beneficiaries", "beneficiaries", OUTGO),
    _Series("paygo_cost_rate", "PAYG cost rate", OUTGO),
    _Series("cost_to_gdp", "cost to GDP", OUTGO),
)


def _series_of(ds: xr.Dataset) -> list[list[tuple[_Series, np.ndarray]]]:
    """The scanned series of each scheme (by position), (year,) each: each variable read
    once for all schemes, in NumPy (xarray's selections cost more than the scan)."""
    out: list[list[tuple[_Series, np.ndarray]]] = [[] for _ in range(ds.sizes["scheme"])]
    if "benefit_expenditure_by_branch" in ds.data_vars:
        values = _scheme_first(ds.variables["benefit_expenditure_by_branch"],
                               ("year", "branch"))
        branches = [str(b) for b in ds["branch"].values]
        for j, series in enumerate(out):
            for b, branch in enumerate(branches):
                if np.nansum(np.abs(values[j, :, b])) > 0:
                    label = f"expenditure on {_BRANCH_LABELS.get(branch, branch)}"
                    series.append((_Series("benefit_expenditure_by_branch", label, OUTGO,
                                           branch), values[j, :, b]))
    for kind in _SERIES:
        if kind.variable in ds.data_vars:
            values = _scheme_first(ds.variables[kind.variable], ("year",))
            # summed over the other axes, NaN where all are (xarray's min_count=1)
            rest = tuple(range(2, values.ndim))
            if rest:
                missing = np.isnan(values)
                if missing.any():
                    total = np.where(missing, 0.0, values).sum(axis=rest)
                    values = np.where(missing.all(axis=rest), np.nan, total)
                else:  # the same sums, in the same (C) order
                    values = np.ascontiguousarray(values).sum(axis=rest)
            for j, series in enumerate(out):
                series.append((kind, values[j]))
    return out


def _scheme_first(variable: xr.Variable, first: tuple[str, ...]) -> np.ndarray:
    """The values of ``variable`` with the scheme axis first, then the dims ``first``."""
    order = ["scheme", *first]
    values = np.asarray(variable.values, dtype=float)
    return np.moveaxis(values, [variable.dims.index(d) for d in order], range(len(order)))


def _format_value(ds: xr.Dataset, variable: str, value: float,
                  scale: float | None = None) -> str:
    """``value`` in the variable's units: rates as percentages (one decimal when
    ``scale``, by default the value itself, is 10 % or more, else two), persons, money in
    the Dataset's currency."""
    units = str(ds.variables[variable].attrs.get("units", ""))
    if units.startswith("fraction"):
        return f"{value:.1%}" if abs(value if scale is None else scale) >= 0.1 \
            else f"{value:.2%}"
    if units.startswith("persons"):
        return f"{value / 1e6:,.2f} million" if abs(value) >= 1e6 else f"{value:,.0f}"
    currency = str(ds.attrs.get("currency", "")).strip()
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if abs(value) >= size:
            return f"{value / size:,.2f} {word} {currency}".rstrip()
    return f"{value:,.0f} {currency}".rstrip()


def _format_pair(ds: xr.Dataset, variable: str, before: float, after: float) -> str:
    """'1.32 to 1.20 million': two values, their shared unit said once."""
    scale = max(abs(before), abs(after))
    first, second = (_format_value(ds, variable, v, scale).partition(" ")
                     for v in (before, after))
    if first[2] and first[2] == second[2]:
        return f"{first[0]} to {second[0]} {second[2]}"
    return f"{''.join(first)} to {''.join(second)}"


def _message(ds: xr.Dataset, scheme: str, series: _Series, year: int, change: float,
             trend: float, before: float, after: float, cause: str | None) -> str:
    if after == 0:
        size = f"fell to zero in {year} (from {_format_value(ds, series.variable, before)})"
    else:
        verb = "rose" if change > 0 else "fell"
        size = (f"{verb} by {abs(change):.0%} in {year} "
                f"({_format_pair(ds, series.variable, before, after)}")
        if abs(trend) >= 0.005:
            size += f"; trend {trend:+.0%} a year"
        size += ")"
    why = cause or ("unexplained: the model knows of no parameter change, pensionable-age "
                    "step or scheme start in that year")
    return f"{scheme}: {series.label} {size}; {why}."


def find_jumps(ds: xr.Dataset, assumptions: Assumptions | None = None,
               threshold: float = THRESHOLD) -> list[Jump]:
    """The year-on-year jumps of each scheme's key series in ``ds`` (one projection), each
    with the causes :func:`scheme_events` finds in ``assumptions`` (the model's compiled
    assumptions; None: every jump unexplained). Ordered by scheme, year and series."""
    years = np.asarray(ds["year"].values, dtype=int)
    currency = str(ds.attrs.get("currency", ""))
    compiled = {} if assumptions is None else {s.id: s for s in assumptions.schemes}
    jumps = []
    every_series = _series_of(ds)
    # every series of every scheme scanned at once
    scanned = iter(rows_jumps(np.array([values for of_scheme in every_series
                                        for _, values in of_scheme]).reshape(-1, len(years)),
                              threshold))
    for j, scheme_id in enumerate(str(s) for s in ds["scheme"].values):
        scheme = compiled.get(scheme_id)
        events = [] if scheme is None else scheme_events(scheme, years, currency)
        found = []
        for order, (series, values) in enumerate(every_series[j]):
            for k, change, trend in next(scanned):
                year = int(years[k])
                known = [e for e in events if e.year == year
                         and (series.side in e.moves or series.branch in e.moves)]
                known = [e for e in known if e.overrides] or known
                cause = "; ".join(e.text for e in known) or None
                before, after = float(values[k - 1]), float(values[k])
                found.append((year, order, Jump(
                    scheme_id, series.variable, year, change, before, after, cause,
                    _message(ds, scheme_id, series, year, change, trend, before, after,
                             cause), series.branch)))
        jumps += [jump for _, _, jump in sorted(found, key=lambda item: item[:2])]
    return jumps
