"""Stochastic projections: the cohort engine over many draws of the assumptions.

Each draw is the model projected under its own assumption paths (:mod:`.paths`); of each
draw only the key series are kept, as arrays over (draw, year[, scheme]), never a full
Dataset, so that thousands of draws fit in memory (5,000 draws of 76 years and nine schemes:
about 30 MB). The accounting identities are checked in every draw.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..allocator import keep_freed_memory
from ..checks import FUND_FLOWS, TOLERANCE, fund_residual, population_residual
from ..demography import project_population
from ..economy import project_economy
from ..engine.cohort import run_schemes
from ..engine.flows import sum_inner
from ..errors import ProjectionError
from ..finance.fund import depletion_year, paygo_cost_rate, ratio_to, reserve_ratio
from ..finance.measures import opening_reserve, valuation_offset
from ..finance.methods import general_average_premium
from ..finance.sustainability import summarized_rates
from ..params import Assumptions, StochasticSpec
from ..pipeline import SUSTAINABILITY_HORIZON, fund_projection
from ..schemes import CONTRIBUTORY
from .paths import (
    MortalityModel,
    draw_paths,
    drawn_assumptions,
    economy_model,
    mortality_model,
)

#: series kept per draw, (draw, year, scheme), currency per year or fractions
SCHEME_SERIES = ("benefit_expenditure", "admin_expenditure", "contribution_income",
                 "committed_transfers", "insured_earnings", "reserve", "paygo_cost_rate",
                 "reserve_ratio", "cost_to_gdp")
#: series kept per draw, (draw, year)
YEAR_SERIES = ("total_population", "old_age_dependency_ratio", "gdp", "interest_rate")
#: measures per draw and scheme, (draw, scheme)
DRAW_MEASURES = ("depletion_year", "actuarial_balance", "general_average_premium")
OLD_AGE, WORKING_AGES = 65, (15, 64)


@dataclass
class DrawResults:
    """The key series of every draw: ``series[name]`` (draw, year[, scheme]);
    ``measures[name]`` (draw, scheme); ``funded`` (scheme,) whether a scheme has a fund
    (contributory with insured earnings); ``initial_reserve`` (scheme,)."""

    years: np.ndarray
    schemes: list[str]
    draws: np.ndarray
    series: dict[str, np.ndarray]
    measures: dict[str, np.ndarray]
    funded: np.ndarray
    initial_reserve: np.ndarray
    horizon: int
    #: the index of the valuation period's first year in ``years`` (the measures value
    #: ``horizon`` years from it, with the reserve at its start)
    valuation_offset: int = 0

    @property
    def valuation_start(self) -> int:
        """The first year of the valuation period."""
        return int(self.years[self.valuation_offset])


def simulate(a: Assumptions, spec: StochasticSpec, draws: int | Sequence[int],
             seed: int, progress: Callable[[int], None] | None = None,
             batch: int = 50, client=None) -> DrawResults:
    """Project ``draws`` (a number: draws 0..n-1; or the draw numbers) of ``spec`` from the
    compiled assumptions ``a`` with the cohort engine, ``batch`` draws' paths at a time;
    ``progress(k)`` after each draw (with ``client``, after each block of draws).

    ``client``: a ``distributed.Client`` whose workers project blocks of ``batch`` draws
    in parallel; a draw's numbers depend only on (seed, draw), so the result is the same,
    bitwise, whatever the workers."""
    numbers = np.arange(draws) if isinstance(draws, int) else np.asarray(draws, dtype=np.int64)
    keep_freed_memory()  # each draw uses the previous one's pages again
    if client is not None:
        return _on_workers(client, a, spec, numbers, seed, progress, batch)
    mortality, economy = mortality_model(spec), economy_model(spec)
    out = allocate(a, len(numbers))
    base_states: dict = {}  # the draws share the base year: its state is built once
    for start in range(0, len(numbers), batch):
        chunk = numbers[start:start + batch]
        paths = draw_paths(spec, mortality, economy, seed, chunk, a.years)
        for i in range(len(chunk)):
            project_draw(drawn_assumptions(a, spec, mortality, paths, i), out, start + i,
                         base_states)
            if progress is not None:
                progress(start + i + 1)
    out.draws = numbers
    return out


def _on_workers(client, a: Assumptions, spec: StochasticSpec, numbers: np.ndarray, seed: int,
                progress: Callable[[int], None] | None, batch: int) -> DrawResults:
    """:func:`simulate` of blocks of draws as Dask tasks, put back in draw order."""
    out = blocks_on_workers(client, a, numbers, functools.partial(_draw_block, spec=spec,
                                                                  seed=seed),
                            progress, batch)
    out.draws = numbers
    return out


def _draw_block(a: Assumptions, numbers: np.ndarray, spec: StochasticSpec,
                seed: int) -> DrawResults:
    """One Dask task of :func:`_on_workers`: the draws ``numbers``."""
    return simulate(a, spec, numbers, seed, None, len(numbers))


def blocks_on_workers(client, a: Assumptions, items: np.ndarray,
                      project: Callable[[Assumptions, np.ndarray], DrawResults],
                      progress: Callable[[int], None] | None, batch: int) -> DrawResults:
    """``project(a, block)`` of blocks of ``items`` (draw numbers, points of a design) as
    Dask tasks on ``client``'s workers, their rows put back in the order of ``items``
    (``project`` and the projections depend on nothing else: the same numbers, bitwise,
    as one call on all of them); ``progress(done)`` as blocks come back. ``a`` is sent to
    every worker once."""
    from distributed import as_completed

    shared = client.scatter(a, broadcast=True, hash=False)  # its own key: never shared
    workers = max(len(client.scheduler_info().get("workers", {})), 1)
    # at least four blocks a worker, so that they all stay busy to the end
    size = max(1, min(batch, -(-len(items) // (4 * workers))))
    blocks = [items[i:i + size] for i in range(0, len(items), size)]
    futures = {client.submit(project, shared, block, pure=False): k
               for k, block in enumerate(blocks)}
    parts: dict[int, DrawResults] = {}
    for future in as_completed(futures):
        parts[futures[future]] = future.result()
        if progress is not None:
            progress(sum(len(p.draws) for p in parts.values()))
    ordered = [parts[k] for k in range(len(blocks))]
    out = ordered[0]
    out.series = {n: np.concatenate([p.series[n] for p in ordered]) for n in out.series}
    out.measures = {n: np.concatenate([p.measures[n] for p in ordered]) for n in out.measures}
    out.draws = np.arange(len(items))
    return out


def allocate(a: Assumptions, n: int) -> DrawResults:
    """Room for the key series of ``n`` draws of ``a``'s years and schemes (NaN)."""
    years, schemes = a.years, [s.id for s in a.schemes]
    nan = np.full
    series = {name: nan((n, len(years), len(schemes)), np.nan) for name in SCHEME_SERIES}
    series.update({name: nan((n, len(years)), np.nan) for name in YEAR_SERIES})
    measures = {name: nan((n, len(schemes)), np.nan) for name in DRAW_MEASURES}
    start = valuation_offset(years, years[0] if a.valuation_start is None
                             else a.valuation_start)
    return DrawResults(years, schemes, np.arange(n), series, measures,
                       np.zeros(len(schemes), dtype=bool), np.zeros(len(schemes)),
                       min(SUSTAINABILITY_HORIZON, len(years) - start), start)


def project_draw(a: Assumptions, out: DrawResults, d: int,
                 base_states: dict | None = None) -> None:
    """Project one draw's assumptions and store its key series in row ``d``
    (``base_states``: the pensions' base-year states shared by draws whose assumptions
    agree in the base year, engine.cohort.run_db_pension)."""
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb, a.net_migration)
    econ = project_economy(a, demo.population)
    flows, _ = run_schemes(a, demo, econ, base_states, coverage=False)
    funds = [fund_projection(f, s, a.interest_rate) for f, s in zip(flows, a.schemes,
                                                                   strict=True)]
    _check_identities(demo, funds, d)
    pop = sum_inner(demo.population, 2)
    s = out.series
    s["total_population"][d] = pop.sum(axis=1)
    s["old_age_dependency_ratio"][d] = ratio_to(
        pop[:, OLD_AGE:].sum(axis=1), pop[:, WORKING_AGES[0]:WORKING_AGES[1] + 1].sum(axis=1))
    s["gdp"][d], s["interest_rate"][d] = econ.gdp, a.interest_rate
    for j, (f, fund) in enumerate(zip(flows, funds, strict=True)):
        committed = fund.state_transfer - (0.0 if fund.deficit_cover is None
                                           else fund.deficit_cover)
        values = {"benefit_expenditure": f.benefit_expenditure,
                  "admin_expenditure": f.admin_expenditure,
                  "contribution_income": f.contribution_income,
                  "committed_transfers": committed, "insured_earnings": f.insured_earnings,
                  "reserve": fund.reserve,
                  "paygo_cost_rate": paygo_cost_rate(f.benefit_expenditure,
                                                     f.admin_expenditure, f.insured_earnings),
                  "reserve_ratio": reserve_ratio(fund.reserve, f.benefit_expenditure,
                                                 f.admin_expenditure),
                  "cost_to_gdp": ratio_to(f.benefit_expenditure + f.admin_expenditure,
                                          econ.gdp)}
        for name, value in values.items():
            s[name][d, :, j] = value
        out.initial_reserve[j] = fund.initial_reserve
        out.funded[j] = f.kind == CONTRIBUTORY and float(f.insured_earnings.sum()) > 0
        if out.funded[j]:
            _measures(out, d, j, f, fund, committed, a.interest_rate)


def _measures(out: DrawResults, d: int, j: int, f, fund, committed: np.ndarray,
              interest: np.ndarray) -> None:
    """Depletion year, actuarial balance and general average premium of a funded scheme
    in one draw (the deterministic projection's definitions: finance.measures; the last
    two from the start of the valuation period, with the reserve at that start)."""
    out.measures["depletion_year"][d, j] = depletion_year(out.years, fund.reserve)
    k = out.valuation_offset
    b, e, s = f.benefit_expenditure[k:], f.admin_expenditure[k:], f.insured_earnings[k:]
    initial = opening_reserve(fund.reserve, fund.initial_reserve, k)
    out.measures["actuarial_balance"][d, j] = summarized_rates(
        f.contribution_income[k:] + committed[k:], b, e, s, interest[k:], initial,
        horizon=out.horizon).actuarial_balance
    out.measures["general_average_premium"][d, j] = general_average_premium(
        b, e, s, interest[k:], initial_reserve=initial, other_income=committed[k:])


def _check_identities(demo, funds, d: int) -> None:
    """Population and fund balance in the draw, to 1e-9 relative (checks.assert_identities)."""
    pop = population_residual(demo.population, demo.deaths, demo.net_migration, demo.births)
    columns = [np.stack([getattr(f, name) for f in funds], axis=1) for name in FUND_FLOWS]
    fund = fund_residual(np.stack([f.reserve for f in funds], axis=1),
                         np.array([f.initial_reserve for f in funds]), *columns)
    if pop > TOLERANCE or fund > TOLERANCE:
        raise ProjectionError(f"draw {d}: an accounting identity fails (population relative "
                              f"residual {pop:.3g}, fund {fund:.3g})")


__all__ = ["DRAW_MEASURES", "SCHEME_SERIES", "YEAR_SERIES", "DrawResults", "MortalityModel",
           "allocate", "blocks_on_workers", "project_draw", "simulate"]
