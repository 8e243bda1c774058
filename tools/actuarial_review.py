"""Write the actuarial review of the default model into docs/validation.md.

Usage: python tools/actuarial_review.py [--model DIR] [--data ../shared/data]
                                        [--out docs/validation.md]

Projects the model (cohort engine) and reads its contributory pension the way a reviewing
actuary reads a valuation (issues #15 and #20):

1. a review table by decade: dependency ratio, system dependency ratios, coverage,
   replacement rate of new pensions, benefit ratios, PAYG cost rate and survivors, each
   against the range expected for a lower-middle-income scheme of this kind, with the
   reason and source of the range and a verdict (within / outside, and why);
2. the PAYG cost rate decomposed into demographic ratio x relative coverage x benefit
   ratio x expenditure loading, and into branches, with the residual of each identity;
3. the orphans' pensions of the base year recomputed step by step from the model's inputs
   and base-year insured population, against the engine's figure.

The section is written between the lines ``BEGIN`` and ``END`` below (appended at the end
of the file the first time); the rest of the file belongs to tools/validate_wpp.py and is
left as it is. Every figure is computed here; only the expected ranges, their reasons and
the explanations of rows outside their range are judgement, typed below.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

import spfsim
from spfsim.report.io import atomic_write

REPO = Path(__file__).resolve().parents[1]
BEGIN = "<!-- BEGIN tools/actuarial_review.py -->"
END = "<!-- END tools/actuarial_review.py -->"
REVIEW_YEARS = (2025, 2030, 2040, 2050, 2060, 2070, 2080, 2090, 2100)
SCHEME = "pension"
WORKING_AGES = (15, 64)  # years of age, both included
OLD_AGE = 65  # years of age and over
PENSIONS = ("old_age", "disability", "spouse", "orphan")  # pensions in payment, by kind
PAID_BRANCHES = ("old_age", "disability", "survivors")  # periodical pensions
# WPP 2024 aggregates that bracket a lower-middle-income country with Sub-Saharan fertility
WPP_BAND = {"low": (1834, "Sub-Saharan Africa"), "high": (1501, "Lower-middle-income countries")}
WPP_FILE = "wpp2024/popprojAge5dt_devsubset.csv"
SSNIT_ACTIVE_2023 = 1_951_494  # SSNIT active members in 2023 (SSNIT figures, Newscenta)


# --------------------------------------------------------------------------- indicators


def _age_sum(da: xr.DataArray, low: int, high: int | None = None) -> xr.DataArray:
    """Sum of ``da`` over ages low..high (both included; None: to the open age)."""
    return da.sel(age=slice(low, high)).sum("age")


def pension_indicators(ds: xr.Dataset, pensionable: xr.DataArray, scheme: str = SCHEME,
                       orphan_age_limit: int = 17) -> dict[str, xr.DataArray]:
    """The review's indicators of one contributory pension, by year (and sex where named).

    ``pensionable`` (year, age, sex) is True where the cell has reached the pensionable age
    (the compiled scheme's ``retirement_age_grid``). Counts are persons (or pensions in
    payment) at 1 July, money is currency per year, every ratio a fraction, credited
    service in years. Keys:

    - ``p_old``, ``p_working``: population 65+ and 15-64 (persons);
    - ``p_retired``, ``p_before``: population at or above the pensionable age, and from 15
      to the year before it (persons);
    - ``contributors`` C (persons contributing during the year, any age), ``employed``;
    - ``insured_earnings`` S, ``average_earnings`` w = S / C (currency per contributor);
    - ``pensions`` (year, pension): pensions in payment by kind (``PENSIONS``; old age
      includes disability pensions continued from the pensionable age);
    - ``branch_cost`` (year, branch): benefit expenditure by branch, refunds included;
    - ``pensions_paid`` B_p: expenditure on periodical pensions (all but refunds);
    - ``cost`` B + E: benefit and administrative expenditure;
    - ``dependency``: P65+ / P15-64;
    - ``coverage`` (year, sex) and ``coverage_total``: C / P15-64;
      ``coverage_employed``: C / employed;
    - ``sdr_old_age``: old-age pensions / C; ``sdr_all``: pensions of every kind / C;
    - ``replacement_new`` (year, sex): average new old-age pension / w (NaN in a year
      without awards, e.g. when the pensionable age steps up);
    - ``service_at_award`` (year, sex): mean credited years of new old-age pensioners;
    - ``refunds``, ``new_pensions``: refund recipients and new old-age pensions (persons);
    - ``benefit_ratio_old_age``: average old-age pension in payment / w;
      ``benefit_ratio_all``: B_p / pensions of every kind / w;
    - ``paygo``: (B + E) / S, the Dataset's ``paygo_cost_rate``;
    - ``orphans_at_limit``: orphans' pensions to children aged ``orphan_age_limit`` (the
      last age paid, years) / the population of that age;
    - ``spouses_old`` (year, sex): spouses' pensions to persons 65+ / population 65+;
    - ``survivors_to_old_age``: survivors' expenditure / old-age expenditure.
    """
    p = ds.sel(scheme=scheme)
    population = ds["population"]
    p_old = _age_sum(population, OLD_AGE).sum("sex")
    working = _age_sum(population, *WORKING_AGES)
    contributors_by_sex = p["contributors"].sum("age")
    contributors = contributors_by_sex.sum("sex")
    insured = p["insured_earnings"]
    w = insured / contributors
    pensions = p["pensions_by_age"].sum(["age", "sex"]).sel(pension=list(PENSIONS))
    branch_cost = p["benefit_expenditure_by_branch"]
    paid = branch_cost.sel(branch=list(PAID_BRANCHES)).sum("branch")
    cost = p["benefit_expenditure"] + p["admin_expenditure"]
    old_age_n = pensions.sel(pension="old_age")
    all_n = pensions.sum("pension")
    limit = orphan_age_limit
    spouses = _age_sum(p["pensions_by_age"].sel(pension="spouse"), OLD_AGE)
    adult = population["age"] >= WORKING_AGES[0]
    return {
        "p_old": p_old,
        "p_working": working.sum("sex"),
        "p_retired": population.where(pensionable, 0.0).sum(["age", "sex"]),
        "p_before": population.where(adult & ~pensionable, 0.0).sum(["age", "sex"]),
        "contributors": contributors,
        "employed": ds["employed"].sum(["age", "sex"]),
        "insured_earnings": insured,
        "average_earnings": w,
        "pensions": pensions,
        "branch_cost": branch_cost,
        "pensions_paid": paid,
        "cost": cost,
        "dependency": p_old / working.sum("sex"),
        "coverage": contributors_by_sex / working,
        "coverage_total": contributors / working.sum("sex"),
        "coverage_employed": contributors / ds["employed"].sum(["age", "sex"]),
        "sdr_old_age": old_age_n / contributors,
        "sdr_all": all_n / contributors,
        "replacement_new": p["average_new_benefit"] / w,
        "service_at_award": p["credited_years_at_award"],
        "refunds": p["beneficiaries_by_branch"].sel(branch="refunds").sum("sex"),
        "new_pensions": p["new_beneficiaries"].sum("sex"),
        "benefit_ratio_old_age": branch_cost.sel(branch="old_age") / old_age_n / w,
        "benefit_ratio_all": paid / all_n / w,
        "paygo": p["paygo_cost_rate"],
        "orphans_at_limit": (p["pensions_by_age"].sel(pension="orphan", age=limit).sum("sex")
                             / population.sel(age=limit).sum("sex")),
        "spouses_old": spouses / _age_sum(population, OLD_AGE),
        "survivors_to_old_age": (branch_cost.sel(branch="survivors")
                                 / branch_cost.sel(branch="old_age")),
    }


def cost_rate_decomposition(ind: Mapping[str, xr.DataArray]) -> pd.DataFrame:
    """The PAYG cost rate (B + E) / S as a product of factors, by year (rows).

    PAYG = DR x RC x BR x F x L, with DR = P_R+ / P_15..R-1 (demographic ratio at the
    pensionable age R), RC = (N_old / P_R+) / (C / P_15..R-1) (relative coverage: old-age
    pensions per person of pensionable age over contributors per person of working age),
    BR = (B_old / N_old) / (S / C) (benefit ratio of old-age pensions in payment),
    F = B_p / B_old (the periodical pensions of every branch per unit of old-age pensions)
    and L = (B + E) / B_p (the loading of refunds and administration). DR x RC is the
    old-age system dependency ratio N_old / C and DR x RC x BR the old-age cost rate.
    ``product`` multiplies the factors back and ``residual`` = product - PAYG (exact
    arithmetic: 0). Every column is a fraction, or a ratio of fractions.
    """
    old_n = ind["pensions"].sel(pension="old_age")
    old_b = ind["branch_cost"].sel(branch="old_age")
    out = pd.DataFrame({
        "paygo": ind["paygo"].to_series(),
        "dependency": (ind["p_retired"] / ind["p_before"]).to_series(),
        "pensions_per_retired": (old_n / ind["p_retired"]).to_series(),
        "contributors_per_working": (ind["contributors"] / ind["p_before"]).to_series(),
        "benefit_ratio": ind["benefit_ratio_old_age"].to_series(),
        "branches": (ind["pensions_paid"] / old_b).to_series(),
        "loading": (ind["cost"] / ind["pensions_paid"]).to_series(),
    })
    out["relative_coverage"] = out["pensions_per_retired"] / out["contributors_per_working"]
    out["old_age_rate"] = out["dependency"] * out["relative_coverage"] * out["benefit_ratio"]
    out["product"] = out["old_age_rate"] * out["branches"] * out["loading"]
    out["residual"] = out["product"] - out["paygo"]
    return out


def branch_cost_rates(ind: Mapping[str, xr.DataArray]) -> pd.DataFrame:
    """The PAYG cost rate by branch, by year (rows): each branch's expenditure and the
    administrative expenditure / S (fractions of insured earnings), their sum, the
    residual sum - PAYG, and the old-age branch as SDR_old x BR_old (``old_age_product``,
    with its residual against the old-age cost rate)."""
    s = ind["insured_earnings"]
    cost = ind["branch_cost"]
    out = pd.DataFrame({name: (cost.sel(branch=name) / s).to_series()
                        for name in cost["branch"].values})
    out["administration"] = ((ind["cost"] - cost.sum("branch")) / s).to_series()
    out["sum"] = out.sum(axis=1)
    out["paygo"] = ind["paygo"].to_series()
    out["residual"] = out["sum"] - out["paygo"]
    out["old_age_product"] = (ind["sdr_old_age"] * ind["benefit_ratio_old_age"]).to_series()
    out["old_age_residual"] = out["old_age_product"] - out["old_age"]
    return out


# ---------------------------------------------------------------- the orphans' arithmetic


@dataclass
class OrphanArithmetic:
    """The base year's orphans' pensions recomputed from the model's own inputs and state.

    Persons a year unless stated; arrays by sex of the deceased parent (male, female) or by
    the child's age k at the parent's death (0 .. limit - 1).
    """

    year: int
    limit: int  # orphans are paid up to and including this age (years)
    minimum_service: float  # credited years an insured person needs (years)
    members: np.ndarray  # (sex,) insured below the pensionable age with the service
    pensioners: np.ndarray  # (sex,) old-age pensioners
    disabled: np.ndarray  # (sex,) disability pensioners
    working_population: np.ndarray  # (sex,) population 15-64 (persons)
    deaths: np.ndarray  # (sex,) deaths of those qualifying their survivors, a year
    all_deaths: np.ndarray  # (sex,) deaths of everybody, a year
    children_per_death: np.ndarray  # (sex,) children under the limit per qualifying death
    new_by_age: np.ndarray  # (k,) new orphans by age at the parent's death
    all_new_by_age: np.ndarray  # (k,) children losing a parent, any parent
    children: np.ndarray  # (k,) population by age (persons)
    implied_children: np.ndarray  # (sex,) children under the limit the rule gives parents
    engine_stock: float  # orphans' pensions in payment in the year (engine)
    engine_next_stock: float  # the same, the next year
    engine_new: float  # new orphans of the year implied by the engine's two stocks
    engine_share_at_limit: float  # orphans at the limit age / population of that age

    @property
    def qualifying(self) -> np.ndarray:
        """(sex,) persons whose death gives survivors' pensions."""
        return self.members + self.pensioners + self.disabled

    @property
    def new(self) -> float:
        """New orphans' pensions a year."""
        return float(self.new_by_age.sum())

    @property
    def years_paid(self) -> np.ndarray:
        """(k,) years an orphan of age k at the death is paid: ages k + 1 .. limit."""
        return self.limit - np.arange(self.limit)

    @property
    def average_years(self) -> float:
        """Average years an orphan's pension is paid (child mortality ignored)."""
        return float((self.new_by_age * self.years_paid).sum() / self.new)

    @property
    def steady_stock(self) -> float:
        """Orphans' pensions in payment if the year's flow had been the same every year."""
        return self.new * self.average_years

    @property
    def share_at_limit(self) -> float:
        """Share of the children reaching the limit age who hold an orphan's pension: the
        sum over k of this year's chance, at age k, of losing a qualifying parent."""
        return float((self.new_by_age / self.children).sum())

    @property
    def all_share_at_limit(self) -> float:
        """The same for the loss of any parent, insured or not."""
        return float((self.all_new_by_age / self.children).sum())


def _projection_inputs(model: spfsim.Model):
    """The model's demographic and economic projections and its pension's year inputs,
    as the cohort engine builds them (spfsim.engine.cohort.run_db_pension)."""
    from spfsim.demography import project_population
    from spfsim.economy import project_economy
    from spfsim.engine.cohort import pension_inputs

    a = model.assumptions
    demo = project_population(a.years, a.base_population, a.mx, a.asfr, a.srb,
                              a.net_migration)
    econ = project_economy(a, demo.population)
    scheme = next(s for s in a.schemes if s.id == SCHEME)
    return demo, scheme, *pension_inputs(scheme, a, demo, econ)


def orphan_arithmetic(model: spfsim.Model, ds: xr.Dataset) -> OrphanArithmetic:
    """Recompute the first projection year's new orphans from the base-year insured
    population, and set them against the engine's orphans' pensions in ``ds``.

    1. The base-year state (``spfsim.engine.cohort.base_year_state``), entered into the
       first year (``PensionState.step``: retirements, disability, who contributes).
    2. Who qualifies survivors: pensioners, disability pensioners, and insured persons
       below the pensionable age with ``survivor_minimum_service`` credited years once the
       year's contributions are credited (as the engine counts them at death; care
       credits of the year are left out).
    3. Their deaths at the projection's probabilities of dying (``death_rates``; the
       default model's disability pensioners die at the population's rates).
    4. Children under the age limit per death: ``db_pension.children_by_parent_age``, the
       mother's fertility at her age - 1 - k, a father's via his partner (with the
       partners from the families: the children linked to him at their birth).
    5. New orphans a year, years paid (ages k + 1 .. limit), the stock they would make in a
       steady state, and the share of children of the limit age who hold one.
    """
    from spfsim.engine.cohort import (
        AGES,
        CONTRIBUTING,
        NOT_CONTRIBUTING,
        base_year_state,
        death_rates,
    )
    from spfsim.schemes import db_pension as dbp

    demo, scheme, classes, inputs = _projection_inputs(model)
    y = inputs(0)
    rules = y.survivors
    if rules is None or rules.orphan_share <= 0:
        raise ValueError(f"scheme {SCHEME!r} pays no orphans' pensions")
    state = base_year_state(scheme, model.assumptions, y, classes)
    state.step(y)
    by_status = state.active.sum(axis=-1)  # (age, sex, status, service)
    credited = by_status[:, :, NOT_CONTRIBUTING].copy()  # service after this year's credit
    credited[:, :, 1:] += by_status[:, :, CONTRIBUTING][:, :, :-1]
    credited[:, :, -1] += by_status[:, :, CONTRIBUTING][:, :, -1]
    service = np.arange(credited.shape[-1])
    below = AGES[:, None] < y.retirement_age
    members = (credited * (service >= rules.minimum_service)).sum(axis=-1) * below
    pensioners = state.pensioners.sum(axis=-1)
    disabled = state.invalid_by_service().sum(axis=-1)
    pop = demo.population[0]
    q = death_rates(demo.survival[0])
    q_invalid, q_others = dbp.differential_mortality(q, disabled, y.invalid_mortality)
    deaths = pop * (q_others * (members + pensioners) + q_invalid * disabled)
    limit = rules.orphan_age_limit
    kids = dbp.children_by_parent_age(rules.asfr, rules.partner_weights, limit,
                                      rules.child_scale, rules.linked_children)  # (s, x, k)
    by_parent = np.einsum("xs,sxk->s", deaths, kids)
    orphans = ds["pensions_by_age"].sel(scheme=SCHEME, pension="orphan").sum("sex")
    population = ds["population"].sum("sex")
    year = int(ds["year"][0])
    now, nxt = (orphans.sel(year=t).values for t in (year, year + 1))
    p_now, p_next = (population.sel(year=t).values for t in (year, year + 1))
    # the year's new orphans, aged k + 1 next year, less last year's orphans who survived
    # (with the population of their age, migration included)
    engine_new = float((nxt[1:limit + 1] - now[:limit] * p_next[1:limit + 1]
                        / p_now[:limit]).sum())
    working = pop[WORKING_AGES[0]:WORKING_AGES[1] + 1].sum(axis=0)
    return OrphanArithmetic(
        year=year, limit=limit, minimum_service=float(rules.minimum_service),
        members=(pop * members).sum(axis=0), pensioners=(pop * pensioners).sum(axis=0),
        disabled=(pop * disabled).sum(axis=0), working_population=working,
        deaths=deaths.sum(axis=0), all_deaths=(pop * q).sum(axis=0),
        children_per_death=by_parent / deaths.sum(axis=0),
        new_by_age=np.einsum("xs,sxk->k", deaths, kids),
        all_new_by_age=np.einsum("xs,sxk->k", pop * q, kids),
        children=pop[:limit].sum(axis=1),
        implied_children=np.einsum("xs,sxk->s", pop, kids),
        engine_stock=float(now.sum()), engine_next_stock=float(nxt.sum()),
        engine_new=engine_new,
        engine_share_at_limit=float(now[limit] / p_now[limit]))


# ------------------------------------------------------------------- expected ranges


@dataclass(frozen=True)
class Expected:
    """The range expected for an indicator: ``bands`` maps the first year of each period
    to (low, high) in the indicator's unit, or gives each review year its own band
    (``per_year``). ``unit`` is "%" for fractions (shown as percentages) or a word for
    plain numbers ("years"). ``reason`` says why and where the range comes from."""

    bands: Mapping[int, tuple[float, float]]
    reason: str
    per_year: bool = False
    unit: str = "%"

    def bounds(self, year: int) -> tuple[float, float] | None:
        """(low, high) for ``year``; None where no band applies."""
        if self.per_year:
            return self.bands.get(year)
        starts = [start for start in sorted(self.bands) if start <= year]
        return self.bands[starts[-1]] if starts else None

    def show(self, x: float, digits: int = 1) -> str:
        """A value in the indicator's unit."""
        return _pct(x, digits) if self.unit == "%" else ("–" if not np.isfinite(x)
                                                         else f"{x:.{digits}f}")

    def band(self, band: tuple[float, float]) -> str:
        """A band in words: "3–20%", "15–30 years"."""
        scale, suffix = (100.0, "%") if self.unit == "%" else (1.0, f" {self.unit}")
        low, high = (round(scale * b, 1) for b in band)
        return f"{low:g}–{high:g}{suffix}"

    def describe(self) -> str:
        """The range in words."""
        if not self.bands:
            return "not judged"
        if self.per_year:
            first, last = min(self.bands), max(self.bands)
            return f"{self.band(self.bands[first])} in {first} to " \
                   f"{self.band(self.bands[last])} in {last}"
        starts = sorted(self.bands)
        if len(starts) == 1:
            return self.band(self.bands[starts[0]])
        parts = [f"{self.band(self.bands[start])} "
                 + (f"to {starts[i + 1] - 1}" if i == 0 else f"from {start}")
                 for i, start in enumerate(starts)]
        return "; ".join(parts)


@dataclass
class Row:
    """One line of the review table: values by review year, the expected range and the
    explanation to give when a value lies outside it."""

    label: str
    values: Mapping[int, float]
    expected: Expected
    if_outside: str = ""  # judgement: why a value outside the range is right, or the issue
    note: int = 0  # number of the note that gives the range's reason
    outside: list[int] = field(default_factory=list)  # review years outside the range

    def judge(self) -> None:
        """Fill ``outside`` with the review years whose value lies outside its band."""
        self.outside = []
        for year, value in self.values.items():
            band = self.expected.bounds(year)
            if band is not None and np.isfinite(value) and not band[0] <= value <= band[1]:
                self.outside.append(year)

    def verdict(self) -> str:
        """``within``, or the years outside and where they are explained."""
        if not self.expected.bands:
            return "not judged (no reference data)"
        if not self.outside:
            return "within"
        years = ", ".join(f"{y} ({self.expected.show(self.values[y])})"
                          for y in self.outside)
        why = "explained below" if self.if_outside else "**unexplained: to investigate**"
        return f"**outside** {years}: {why}"


def _pct(x: float, digits: int = 1) -> str:
    return "–" if not np.isfinite(x) else f"{100 * x:.{digits}f}%"


def wpp_dependency_bands(data: Path) -> tuple[dict[int, tuple[float, float]], dict[int, float]]:
    """WPP 2024 medium-variant ratios P65+ / P15-64 by review year: the band between the
    Sub-Saharan Africa and the lower-middle-income aggregates, and Ghana's own ratio
    (fractions); empty when the data folder lacks the file."""
    path = data / WPP_FILE
    if not path.is_file():
        return {}, {}
    codes = {WPP_BAND["low"][0], WPP_BAND["high"][0], 288}
    table = pd.read_csv(path, usecols=["country_code", "year", "age", "pop"])
    table = table[table["country_code"].isin(codes) & table["year"].isin(REVIEW_YEARS)]
    lower = table["age"].str.extract(r"^(\d+)")[0].astype(int)
    old = table[lower >= OLD_AGE].groupby(["country_code", "year"])["pop"].sum()
    working = table[(lower >= WORKING_AGES[0]) & (lower <= WORKING_AGES[1] - 4)] \
        .groupby(["country_code", "year"])["pop"].sum()
    ratio = old / working
    bands = {}
    for year in REVIEW_YEARS:
        pair = sorted(float(ratio[(code, year)]) for code, _ in WPP_BAND.values())
        bands[year] = (pair[0], pair[1])
    return bands, {year: float(ratio[(288, year)]) for year in REVIEW_YEARS}


def _by_year(da: xr.DataArray) -> dict[int, float]:
    return {year: float(da.sel(year=year)) for year in REVIEW_YEARS}


def review_rows(ind: Mapping[str, xr.DataArray], wpp: dict[int, tuple[float, float]],
                ghana: dict[int, float], limit: int,
                orphaned: float | None = None) -> list[Row]:
    """The review table's rows: values, expected ranges with their reasons, and what to
    say when a value lies outside (judgement; the numbers in the text are computed, or
    quoted from the named sources). ``wpp`` and ``ghana``: :func:`wpp_dependency_bands`
    (empty: the dependency ratio is not judged); ``limit``: the last age an orphan is
    paid (years); ``orphaned``: the share of children of that age who have lost a parent,
    insured or not (:attr:`OrphanArithmetic.all_share_at_limit`, a fraction)."""
    no_awards = [int(y) for y in ind["new_pensions"]["year"].values
                 if float(ind["new_pensions"].sel(year=y)) == 0.0]
    coverage_2025 = SSNIT_ACTIVE_2023 / float(ind["p_working"].sel(year=REVIEW_YEARS[0]))
    dependency_reason = (
        "The default model's demography is Ghana's (UN WPP 2024, medium variant). A "
        "lower-middle-income country with Sub-Saharan fertility should lie between the "
        "WPP 2024 medium-variant ratios of Sub-Saharan Africa and of the lower-middle-income "
        "countries, computed year by year from `popprojAge5dt_devsubset.csv` "
        + ("(Ghana's own WPP ratio: " + ", ".join(f"{y} {_pct(v)}" for y, v in ghana.items()
                                                  if y in (2025, 2050, 2100)) + ")."
           if ghana else "(data folder absent: not judged).")
        + " Population 65 and over / population 15-64, both sexes; the pensionable age is "
        "60 rising to 62, so the ratio understates the scheme's own demography a little.")
    coverage = Expected(
        {2025: (0.03, 0.20), 2030: (0.03, 0.40)},
        "Contributors (any age, during the year) / population 15-64. ILO World Social "
        "Protection Database: active contributors are 8.5 % of the working-age population "
        "in Africa and 32.5 % worldwide (as summarised by RisCura, *Bright Africa*). Ghana's "
        f"SSNIT had {SSNIT_ACTIVE_2023:,} active members in 2023 (SSNIT figures reported by "
        f"Newscenta), {_pct(coverage_2025)} of the model's 2025 population 15-64. Later, the "
        "model assumes formalisation (coverage of the employed +80 % by 2060, "
        "models/default/README.md), so the upper bound rises to 40 %, above the world "
        "average; women lower than men (ILC 2021 para. 15(c)).")
    rows = [
        Row("Dependency ratio, 65+ / 15-64", _by_year(ind["dependency"]),
            Expected(wpp, dependency_reason, per_year=True)),
        Row("Contributors / population 15-64, both sexes", _by_year(ind["coverage_total"]),
            coverage),
        Row("— men", _by_year(ind["coverage"].sel(sex="male")), coverage),
        Row("— women", _by_year(ind["coverage"].sel(sex="female")), coverage),
        Row("Contributors / employed", _by_year(ind["coverage_employed"]), Expected(
            {2025: (0.05, 0.30), 2030: (0.05, 0.50)},
            "Informal employment is 85.8 % of employment in Africa (ILO, *Women and men in "
            "the informal economy: a statistical picture*, 3rd ed., 2018), so a national "
            "scheme covers 5-30 % of the employed today; with the model's formalisation "
            "assumption at most half by the end of the century.")),
        Row("System dependency ratio, old-age pensions / contributors",
            _by_year(ind["sdr_old_age"]), Expected(
                {2025: (0.05, 0.25), 2050: (0.10, 0.50)},
                "Ghana's SSNIT, a defined-benefit scheme of the same age (pensions from "
                "1991) and the same 15-year qualifying period, had 9 contributors per "
                "pensioner in 2013 and 7 in 2020 (11-14 %; Africa Centre for Retirement "
                "Research figures reported by the B&FT, 16 Dec. 2021), and its 2017 actuarial "
                "valuation projects 2.9 by 2067 (34 %). Once mature (from 2050) the ratio "
                "follows the demographic ratio at the pensionable age, which doubles or "
                "triples by 2100 (row 1).")),
        Row("System dependency ratio, pensions of every branch / contributors",
            _by_year(ind["sdr_all"]), Expected(
                {2025: (0.10, 0.60), 2050: (0.15, 0.80)},
                "The old-age ratio plus disability and survivors' pensions (spouses and "
                "each orphan count as one pension). Survivors qualify after 5 credited "
                "years, old-age pensions after 15, so while the scheme is young survivors' "
                "pensions can be as numerous as old-age pensions, or more (judgement from "
                "the qualifying rules); at maturity they add a third to two thirds.")),
        Row("Replacement rate of new old-age pensions, men",
            _by_year(ind["replacement_new"].sel(sex="male")), _replacement(no_awards)),
        Row("— women", _by_year(ind["replacement_new"].sel(sex="female")),
            _replacement(no_awards)),
        Row("Credited years of new old-age pensioners, men",
            _by_year(ind["service_at_award"].sel(sex="male")), _service()),
        Row("— women", _by_year(ind["service_at_award"].sel(sex="female")), _service()),
        Row("Benefit ratio, average old-age pension in payment / w",
            _by_year(ind["benefit_ratio_old_age"]), Expected(
                {2025: (0.15, 0.45)},
                "Below the replacement rate of new pensions (row above), because pensions "
                "are indexed 75 % to prices and 25 % to wages: with real wage growth of "
                "1.5-2 % a year they lose 1.1-1.5 % a year against average earnings, "
                "10-15 % over the decade or so a pension has been paid on average; the "
                "price-indexed minimum pension lifts the lowest.")),
        Row("Benefit ratio, average pension of every branch / w",
            _by_year(ind["benefit_ratio_all"]), Expected(
                {2025: (0.10, 0.40)},
                "Lower than the old-age benefit ratio: a spouse receives 50 % and each "
                "orphan 20 % of the deceased's pension (ILO C102 Part X asks for 40 % of "
                "reference earnings for a widow with two children, C128 45 %).")),
        Row("PAYG cost rate (B + E) / S", _by_year(ind["paygo"]), Expected(
            {2025: (0.04, 0.15), 2050: (0.08, 0.30)},
            "SSNIT paid benefits equal to 66-89 % of its contribution income in 2019-2023 "
            "(SSNIT figures reported by Newscenta), about 7-12 % of insurable earnings at an "
            "11-13.5 % rate. Later the cost rate is the product of the factors below: an "
            "old-age cost rate of SDR_old x BR_old (10-50 % x 15-45 %, the ends not "
            "together: a mature scheme with this demography pays old-age pensions of "
            "5-15 % of insured earnings) raised by a third to three quarters for the other "
            "branches, refunds and administration: 8-30 %.")),
        Row(f"Orphans' pensions at age {limit} / population {limit}",
            _by_year(ind["orphans_at_limit"]), Expected(
                {2025: (0.02, 0.05)},
                "Issue #20: with about 10 % of people aged 15-64 contributing, roughly 3-4 % "
                f"of {limit}-year-olds should draw an orphan's pension. "
                + (f"{_pct(orphaned)} of children lose a parent by {limit} under the "
                   "model's mortality and fertility (step 14 of the orphans' arithmetic "
                   "below)" if orphaned is not None else
                   f"About one child in six or seven loses a parent by {limit} in this "
                   "mortality")
                + ", and the insured with 5 years' service are "
                "older than the contributors and die more often, so between a sixth and a "
                "third of those parents qualify: 2-5 %."),
            if_outside=(
                "The 2-5 % band was set when the expected children of a parent took today's "
                "fertility for the past, which gave a 15.1 % chance of losing a parent by "
                "17. They are now scaled to the children there are "
                "(schemes.survivors.children_scale): this population, whose fertility "
                "falls, has more children than today's rates give, and the chance is "
                + (f"{_pct(orphaned)}" if orphaned is not None else "higher")
                + ". A third of it, the reasoning's upper end, exceeds 5 %, and the share of "
                "parents who qualify grows with coverage to 2070-2080, then eases as "
                "fertility falls further.")),
        Row("Spouses' pensions at 65+ / population 65+, women",
            _by_year(ind["spouses_old"].sel(sex="female")), Expected(
                {2025: (0.01, 0.10), 2050: (0.03, 0.20)},
                "A woman 65+ holds a widow's pension if her husband died insured (75 % of "
                "deceased insured men leave a spouse, 5 years younger) and she has not "
                "remarried (2 % a year): the share of older women widowed (a large part, "
                "wives being younger) times the share of their husbands who qualified "
                "(15-25 % of men today, more as coverage grows) times the share still "
                "paid. Judgement from the scheme's rules.")),
        Row("— men (widowers)", _by_year(ind["spouses_old"].sel(sex="male")), Expected(
            {2025: (0.005, 0.06)},
            "Fewer than widows: wives are younger and live longer, fewer women are "
            "insured, and 55 % of deceased insured women leave a spouse. Judgement from the "
            "scheme's rules; `married_share` does not vary with the age of the deceased, "
            "so widowers of women dying old are, if anything, overstated.")),
        Row("Survivors' expenditure / old-age expenditure",
            _by_year(ind["survivors_to_old_age"]), Expected(
                {2025: (0.20, 1.00), 2050: (0.10, 0.50)},
                "While the scheme is young, deaths of members with 5-14 years' service "
                "qualify survivors but not themselves, and a member's survivors' pensions "
                "are computed on the disability pension with credited future service, so "
                "survivors' expenditure can approach the old-age expenditure; at maturity "
                "the spouse's 50 % and orphans' 20 % of a fraction of the pensions bring it "
                "to 10-50 % (judgement; mature schemes with spouses' pensions for life sit "
                "in the upper half).")),
    ]
    for row in rows:
        row.judge()
    return rows


def _service() -> Expected:
    return Expected(
        {2025: (15.0, 32.0)},
        "At least the 15-year qualifying period; with contribution densities of 40-70 % "
        "over the 45 years from 15 to the pensionable age, 18-32 years, and fewer while the "
        "scheme (pensions since 1991) is too young for full careers. This is what the "
        "replacement rate rests on (1.5 % a year). Women fewer than men (care credits fill "
        "part of the gap: ILC 2021 para. 13(f)).",
        unit="years")


def _replacement(no_awards: Sequence[int]) -> Expected:
    """The replacement rate's range; ``no_awards``: years without new pensions."""
    return Expected(
        {2025: (0.20, 0.50)},
        "Average new old-age pension / average insured earnings of all contributors (w = S "
        "/ C). The formula gives 1.5 % of career-average revalued earnings a credited year: "
        "22.5 % at the 15-year minimum, 52.5 % at 35 years; members of schemes with low "
        "contribution densities retire with 20-25 years. ILO C102 (Part V, Art. 28, and the "
        "schedule to Part XI) asks for 40 % after 30 years for the standard beneficiary, "
        "C128 45 %: this design reaches 40 % at 27 years. Women's pensions are lower "
        "(shorter careers, lower earnings)."
        + (f" No awards in {', '.join(map(str, no_awards))}, when the pensionable age "
           "steps up: shown as –." if no_awards else ""))


# ---------------------------------------------------------------------------- rendering


def review_table(rows: list[Row]) -> list[str]:
    """The review table and the notes giving each range's reason."""
    header = ["| indicator | " + " | ".join(str(y) for y in REVIEW_YEARS)
              + " | expected | verdict |",
              "|---" * (len(REVIEW_YEARS) + 3) + "|"]
    notes, seen = [], {}
    for row in rows:
        if row.expected.reason not in seen:
            seen[row.expected.reason] = len(seen) + 1
            notes.append(f"{seen[row.expected.reason]}. **{row.label}**: "
                         f"{row.expected.reason}")
        row.note = seen[row.expected.reason]
    lines = [*header]
    for row in rows:
        cells = " | ".join(row.expected.show(row.values[y]) for y in REVIEW_YEARS)
        lines.append(f"| {row.label} | {cells} | {row.expected.describe()} (note "
                     f"{row.note}) | {row.verdict()} |")
    outside = [row for row in rows if row.outside]
    lines += ["", "Why these ranges:", "", *notes, ""]
    if outside:
        lines += ["Rows outside their range:", ""]
        lines += [f"- **{row.label}** ({', '.join(map(str, row.outside))}): "
                  f"{row.if_outside or 'not explained: an issue to investigate.'}"
                  for row in outside]
    else:
        lines.append("Every judged value lies within its expected range.")
    return lines


def decomposition_section(ind: Mapping[str, xr.DataArray],
                          pensionable_age: Mapping[int, str]) -> list[str]:
    """The cost-rate decomposition and branch tables, with their residuals.
    ``pensionable_age`` gives the pensionable age of each review year, as text."""
    full = cost_rate_decomposition(ind)
    d = full.loc[list(REVIEW_YEARS)]
    branches = branch_cost_rates(ind)
    b = branches.loc[list(REVIEW_YEARS)]
    first = REVIEW_YEARS[0]
    refunds, new = (float(ind[k].sel(year=first)) for k in ("refunds", "new_pensions"))
    last = REVIEW_YEARS[-1]
    no_awards = [y for y in REVIEW_YEARS if float(ind["new_pensions"].sel(year=y)) == 0.0
                 and float(ind["refunds"].sel(year=y)) == 0.0]
    refunds_last, new_last = (float(ind[k].sel(year=last)) for k in ("refunds",
                                                                      "new_pensions"))
    lines = [
        "### The PAYG cost rate, factor by factor",
        "",
        "PAYG = (B + E) / S = DR x RC x BR x F x L, where R is the pensionable age and",
        "",
        "- DR = P_R+ / P_15..R-1, the demographic ratio at the pensionable age;",
        "- RC = (N_old / P_R+) / (C / P_15..R-1), relative coverage: old-age pensions per "
        "person of pensionable age over contributors per person of working age (DR x RC = "
        "N_old / C, the old-age system dependency ratio);",
        "- BR = (B_old / N_old) / w, the benefit ratio of old-age pensions in payment "
        "(DR x RC x BR = B_old / S, the old-age cost rate);",
        "- F = B_p / B_old, the periodical pensions of every branch (old age, disability, "
        "survivors) per unit of old-age pensions;",
        "- L = (B + E) / B_p, the loading of lump-sum refunds (paid at the pensionable age "
        "to those without 15 years' service) and of administration.",
        "",
        "The product is computed from unrounded factors; the residual is product - PAYG.",
        "",
        "| year | R | PAYG | DR | N_old / P_R+ | C / P_15..R-1 | RC | BR | DR x RC x BR "
        "| F | L | product | residual |",
        "|---" * 13 + "|",
    ]
    for year, r in d.iterrows():
        lines.append(
            f"| {year} | {pensionable_age[year]} | {_pct(r.paygo, 2)} | "
            f"{_pct(r.dependency)} | {_pct(r.pensions_per_retired)} | "
            f"{_pct(r.contributors_per_working)} | {r.relative_coverage:.3f} | "
            f"{_pct(r.benefit_ratio)} | {_pct(r.old_age_rate, 2)} | {r.branches:.3f} | "
            f"{r.loading:.3f} | {_pct(r['product'], 2)} | {r.residual:.1e} |")
    lines += [
        "",
        f"Largest residual over every year of the projection: "
        f"{full['residual'].abs().max():.1e} (fraction of insured earnings). RC is "
        f"{d.relative_coverage.iloc[0]:.2f} in {first} and {d.relative_coverage.iloc[-1]:.2f}"
        f" in {last}: below 1 while the scheme is young and coverage extends (today's old "
        "were insured when fewer were), above 1 once it is mature, because an old-age "
        "pension goes to everybody who reached 15 years' service and a contribution only "
        "to those contributing in the year.",
        "",
        "By branch, as fractions of insured earnings S (the two-factor form of "
        "ACTUARIAL_NOTES: each branch's cost rate is its pensions per contributor times "
        "their benefit ratio):",
        "",
        "| year | old age | disability | survivors | refunds | administration | sum "
        "| PAYG | residual |",
        "|---" * 9 + "|",
    ]
    for year, r in b.iterrows():
        lines.append(
            f"| {year} | {_pct(r.old_age, 2)} | {_pct(r.disability, 2)} | "
            f"{_pct(r.survivors, 2)} | {_pct(r.refunds, 2)} | {_pct(r.administration, 2)} "
            f"| {_pct(r['sum'], 2)} | {_pct(r.paygo, 2)} | {r.residual:.1e} |")
    lines += [
        "",
        f"Largest residuals over every year: sum of branches - PAYG "
        f"{branches['residual'].abs().max():.1e}; old-age cost rate - SDR_old x BR_old "
        f"{branches['old_age_residual'].abs().max():.1e}. "
        + (f"No refunds and no new pensions in {', '.join(map(str, no_awards))}: the "
           "pensionable age steps up that year, so nobody reaches it, hence the dip of the "
           "cost rate. " if no_awards else "")
        + f"Refunds are large: in {first}, {_n(refunds)} persons "
        f"reached the pensionable age with credits but less than 15 years' service and "
        f"took their contributions back, against {_n(new)} new old-age pensions "
        f"({_pct(refunds / (refunds + new), 0)} of those leaving with credits); in {last}, "
        f"{_n(refunds_last)} against {_n(new_last)} "
        f"({_pct(refunds_last / (refunds_last + new_last), 0)}). That is the 15-year "
        "qualifying period meeting contribution densities of a labour market where most "
        "careers are partly informal: a finding about the scheme's design (its qualifying "
        "period, and a refund rather than a pro-rata pension below it), not an error of "
        "the projection.",
    ]
    return lines


def _n(x: float) -> str:
    return f"{x:,.0f}"


def orphan_section(o: OrphanArithmetic, model: spfsim.Model) -> list[str]:
    """The orphans' arithmetic as a step table an actuary can check."""
    scheme = pension_scheme(model)
    share = float(scheme["orphan_pension_share"][0])
    m, f = 0, 1
    families = scheme.choices.get("survivor_partners") == "families"
    married = np.asarray(scheme["married_share"][0], dtype=float)
    gap = np.asarray(scheme["spouse_age_difference"][0], dtype=int)
    father = ("a father's those born to his partner at the time (the expected couples of "
              "the families table)" if families else
              f"a father's through his partner ({gap[m]} years younger)")
    spouses = ("Spouses come from the families table's partnerships (who lives with a "
               "partner of what age)" if families else
               f"{_pct(married[m], 0)} of deceased insured men and {_pct(married[f], 0)} "
               "of women leave a spouse")
    working = o.working_population
    kids_per = o.new_by_age.sum()
    rows = [
        ("1", "insured below the pensionable age with at least "
         f"{o.minimum_service:g} credited years (this year's contributions credited)",
         _n(o.members[m]), _n(o.members[f]), "base-year state, entered into "
         f"{o.year}"),
        ("2", "old-age pensioners", _n(o.pensioners[m]), _n(o.pensioners[f]), ""),
        ("3", "disability pensioners", _n(o.disabled[m]), _n(o.disabled[f]), ""),
        ("4", "persons whose death qualifies survivors (1 + 2 + 3)", _n(o.qualifying[m]),
         _n(o.qualifying[f]),
         f"{_pct(o.qualifying[m] / working[m])} and {_pct(o.qualifying[f] / working[f])} of "
         "the population 15-64"),
        ("5", "their deaths in the year", _n(o.deaths[m]), _n(o.deaths[f]),
         f"{1000 * o.deaths[m] / o.qualifying[m]:.1f} and "
         f"{1000 * o.deaths[f] / o.qualifying[f]:.1f} per 1,000; all deaths "
         f"{_n(o.all_deaths[m])} and {_n(o.all_deaths[f])}"),
        ("6", f"children under {o.limit} per death", f"{o.children_per_death[m]:.2f}",
         f"{o.children_per_death[f]:.2f}",
         f"mother's fertility at her age − 1 − k; {father}"),
        ("7", "new orphans a year (5 x 6)", _n(o.deaths[m] * o.children_per_death[m]),
         _n(o.deaths[f] * o.children_per_death[f]), f"together {_n(kids_per)}"),
        ("8", "engine: new orphans of the year", "", "",
         f"{_n(o.engine_new)} (its {o.year + 1} stock at ages 1-{o.limit} less its "
         f"{o.year} stock at 0-{o.limit - 1} carried forward with the population): "
         f"7 / 8 = {kids_per / o.engine_new:.3f}"),
        ("9", f"average years paid (ages k + 1 to {o.limit})", "", "",
         f"{o.average_years:.2f}"),
        ("10", "orphans' pensions in a steady state (7 x 9)", "", "",
         _n(o.steady_stock)),
        ("11", f"engine: orphans' pensions in payment in {o.year} and {o.year + 1}", "", "",
         f"{_n(o.engine_stock)} and {_n(o.engine_next_stock)}: 10 / {o.year} = "
         f"{o.steady_stock / o.engine_stock:.3f}"),
        ("12", f"share of {o.limit}-year-olds with an orphan's pension: Σ_k new orphans "
         "aged k / children aged k", "", "", _pct(o.share_at_limit, 2)),
        ("13", f"engine: orphans aged {o.limit} / population {o.limit} in {o.year}", "", "",
         f"{_pct(o.engine_share_at_limit, 2)}: 12 / 13 = "
         f"{o.share_at_limit / o.engine_share_at_limit:.3f}"),
        ("14", f"every parent, insured or not: share of {o.limit}-year-olds who have lost "
         "one (same rule on all deaths)", "", "", _pct(o.all_share_at_limit, 1)),
        ("15", "share of the parents children lose who qualified (12 / 14)", "", "",
         _pct(o.share_at_limit / o.all_share_at_limit, 1)),
        ("16", f"check of step 6: children under {o.limit} the rule gives all men and all "
         "women / children in the population", f"{o.implied_children[m] / o.children.sum():.3f}",
         f"{o.implied_children[f] / o.children.sum():.3f}", ""),
    ]
    lines = [
        f"### Orphans' pensions in {o.year} (issue #20)",
        "",
        f"Each child of a deceased qualifying parent receives {_pct(share, 0)} of the "
        f"deceased's pension up to and including age {o.limit}, from the year after the "
        "death (docs/schemes.md, survivors' branch). The table recomputes the year's new "
        "orphans from the model's inputs and its base-year insured population "
        "(`spfsim.engine.cohort.base_year_state`, `death_rates`, "
        "`spfsim.schemes.db_pension.children_by_parent_age`) and sets them against the "
        f"engine. {spouses}; the orphans' rule does not depend on it.",
        "",
        "| step | quantity | men | women | both, or how |",
        "|---|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows],
        "",
        f"Reading. The flow agrees with the engine to {_pct(abs(kids_per / o.engine_new - 1))}"
        f" and the share at {o.limit} to "
        f"{_pct(abs(o.share_at_limit / o.engine_share_at_limit - 1))}: the engine pays the "
        "orphans its own rules imply, and a child's chance of an orphan's pension is the "
        f"chance of losing a parent by {o.limit} ({_pct(o.all_share_at_limit, 1)}) times the "
        f"share of those parents who qualify ({_pct(o.share_at_limit / o.all_share_at_limit)}"
        "), in the 2-5 % expected. The steady-state stock exceeds the engine's "
        f"{o.year} stock by {_pct(o.steady_stock / o.engine_stock - 1)}: the stock was "
        "built by deaths of the last "
        f"{o.limit} years, when fewer members had reached {o.minimum_service:g} years' "
        "service (the reconstruction since the scheme's start). Step 16: the rule gives men "
        "fewer children than women, since a man's children are those of a partner "
        f"{gap[m]} years younger and, in a growing population, men aged x are fewer than "
        f"women aged x − {gap[m]}; both fall short of 1 mostly because the current year's "
        "fertility stands in for the higher fertility of the past. Orphans of deceased "
        "fathers are therefore, if anything, understated.",
    ]
    return lines


def pension_scheme(model: spfsim.Model):
    """The model's compiled contributory pension (``SCHEME``)."""
    return next(s for s in model.assumptions.schemes if s.id == SCHEME)


def pensionable_cells(model: spfsim.Model, ds: xr.Dataset) -> xr.DataArray:
    """(year, age, sex) True where the cell has reached its pensionable age (the compiled
    scheme's ``retirement_age_grid``, by birth cohort where the model says so)."""
    grid = pension_scheme(model).retirement_age_grid
    return xr.DataArray(ds["age"].values[None, :, None] >= grid,
                        coords={"year": ds["year"], "age": ds["age"], "sex": ds["sex"]},
                        dims=("year", "age", "sex"))


def review_indicators(model: spfsim.Model, ds: xr.Dataset) -> dict[str, xr.DataArray]:
    """:func:`pension_indicators` of the model's pension in its projection ``ds``."""
    limit = int(pension_scheme(model)["orphan_age_limit"][0])
    return pension_indicators(ds, pensionable_cells(model, ds), SCHEME, limit)


def build_section(model: spfsim.Model, ds: xr.Dataset, data: Path,
                  orphans: OrphanArithmetic | None = None) -> str:
    """The whole generated section, markers included, from the model, its cohort-engine
    projection ``ds`` and the reference data folder ``data`` (WPP 2024; without it the
    dependency ratio is not judged). ``orphans``: :func:`orphan_arithmetic`, computed
    here when not given."""
    scheme = pension_scheme(model)
    limit = int(scheme["orphan_age_limit"][0])
    youngest = scheme["retirement_age"]  # (year, sex): the year's youngest pensionable age
    years = list(ds["year"].values)
    ages = {y: "/".join(sorted({f"{a:g}" for a in youngest[years.index(y)]}))
            for y in REVIEW_YEARS}
    ind = review_indicators(model, ds)
    wpp, ghana = wpp_dependency_bands(data)
    orphans = orphans or orphan_arithmetic(model, ds)
    rows = review_rows(ind, wpp, ghana, limit, orphans.all_share_at_limit)
    name = ds.attrs.get("model", "default")
    lines = [
        BEGIN,
        "",
        f"## Actuarial review of the {name} model",
        "",
        "Generated by `python tools/actuarial_review.py`; do not edit by hand. The "
        f"`{name}` model (cohort engine) read the way a reviewing actuary reads a "
        f"valuation of its contributory pension (`{SCHEME}`), by decade, each indicator "
        "against the range expected for a lower-middle-income scheme of this kind (defined "
        "benefit, pensions since 1991, 15 years' minimum service, 1.5 % accrual, about a "
        "tenth of the working-age population contributing), with the reason and source of "
        "the range. Every figure is computed by the script; the ranges, their reasons and "
        "the explanation of any value outside them are judgement. `tests/"
        "test_actuarial_review.py` checks the identities printed here.",
        "",
        "Notation: P population at 1 July; C contributors (persons contributing during the "
        "year, any age); S insured earnings; w = S / C the average insured earnings; N "
        "pensions in payment (`pensions_by_age`: old age, including disability pensions "
        "continued from the pensionable age, disability, spouses and orphans, each counted "
        "once); B benefit expenditure (`benefit_expenditure_by_branch`: old age, "
        "disability, survivors, lump-sum refunds), B_p its periodical pensions (all but "
        "refunds); E administrative expenditure. The Dataset's own `benefit_ratio` (by sex) "
        "is B_p / pensions of every kind / w, the second benefit ratio below.",
        "",
        "### Review table",
        "",
        *review_table(rows),
        "",
        *decomposition_section(ind, ages),
        "",
        *orphan_section(orphans, model),
        "",
        END,
    ]
    return "\n".join(lines) + "\n"


def replace_section(text: str, section: str) -> str:
    """``text`` with the part from BEGIN to END (both lines) replaced by ``section``, or
    with ``section`` appended (after a blank line) when the markers are absent. Everything
    else is kept byte for byte."""
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", re.S)
    found = pattern.findall(text)
    if len(found) > 1:
        raise ValueError(f"the markers {BEGIN} ... {END} appear {len(found)} times")
    if found:
        return pattern.sub(lambda _m: section, text, count=1)
    if text and not text.endswith("\n"):
        text += "\n"
    if text and not text.endswith("\n\n"):
        text += "\n"
    return text + section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder (default: the default "
                        "model)")
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--out", default=str(REPO / "docs" / "validation.md"))
    args = parser.parse_args()
    started = time.perf_counter()
    model = spfsim.load_model(args.model) if args.model else spfsim.load_model()
    ds = model.project()
    projected = time.perf_counter() - started
    section = build_section(model, ds, Path(args.data))
    out = Path(args.out)
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    new = replace_section(text, section)
    atomic_write(out, lambda tmp: tmp.write_text(new, encoding="utf-8"), overwrite=True)
    print(f"wrote {out}: projection {projected:.1f} s, "
          f"total {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
