"""Compile validated model input into dense per-year arrays (done once, at load time).

Array layout everywhere below: ``(year, age, sex)`` with ages 0..100 (100 open) and sexes
("male", "female"), matching the results contract's dimension order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .dated import DatedValue, Indexation
from .model_file import DEFAULT_LABOUR_PERSISTENCE, ModelInput
from .poverty import PovertySpec
from .tables import AGES, SEXES, Table


@dataclass
class CompiledScheme:
    """A scheme's parameters as per-year arrays: shape (year,) or (year, sex)."""

    id: str
    type: str
    name: str
    params: dict[str, np.ndarray]
    indexations: dict[str, Indexation]
    index_growth: dict[str, np.ndarray] = field(default_factory=dict)
    choices: dict[str, str] = field(default_factory=dict)
    # (year, age, sex) pensionable age of each cell's birth cohort, for schemes with a
    # retirement_age; params["retirement_age"] is then the youngest pensionable age of
    # each year (year, sex)
    retirement_age_grid: np.ndarray | None = None
    # birth_year basis: pensionable age by (cohort, sex) from first_cohort on
    retirement_age_by_cohort: np.ndarray | None = None
    first_cohort: int = 0
    # the same two in years and months, where some pensionable age is not whole years
    # (None: the whole ages above are exact); the grids above hold the whole age in
    # which it falls, from which a member may retire without reduction
    retirement_age_exact: np.ndarray | None = None
    retirement_age_exact_by_cohort: np.ndarray | None = None
    # the number parameters as the model file dates them, {name: {sex or "all": value}}:
    # their effective years, which the per-year arrays of indexed amounts do not show
    numbers: dict[str, dict[str, DatedValue]] = field(default_factory=dict)

    def retirement_ages_before(self, year: int) -> np.ndarray:
        """(age, sex) pensionable ages in a year before the projection (the base year's
        reconstruction): each cohort's own age on the birth-year basis, else the base
        year's ages (reconstruction at base-year rates)."""
        assert self.retirement_age_grid is not None
        if self.retirement_age_by_cohort is None:
            return self.retirement_age_grid[0]
        return self.retirement_age_by_cohort[self._born(year)]

    def exact_retirement_ages(self, k: int) -> np.ndarray | None:
        """(age, sex) pensionable ages in years and months of year index k (None where
        every one is whole years: ``retirement_age_grid[k]``)."""
        return None if self.retirement_age_exact is None else self.retirement_age_exact[k]

    def exact_retirement_ages_before(self, year: int) -> np.ndarray | None:
        """:meth:`retirement_ages_before` in years and months (None: whole years)."""
        if self.retirement_age_exact is None:
            return None
        if self.retirement_age_exact_by_cohort is None:
            return self.retirement_age_exact[0]
        return self.retirement_age_exact_by_cohort[self._born(year)]

    def _born(self, year: int) -> np.ndarray:
        """(age,) index into the by-cohort arrays of each age's cohort in ``year``."""
        return np.clip(year - AGES - self.first_cohort, 0, None)

    def covered_shares(self, years: np.ndarray) -> np.ndarray | None:
        """(year, age, sex) share of each cell's birth cohort (born year - age) ever in the
        scheme's covered employment: 1 - its ``never_covered_share``, dated by year of
        birth (a cohort before the first date takes the first date's value). None where
        the scheme has no such share or every value is 0 (everybody coverable)."""
        by_sex = self.numbers.get("never_covered_share")
        if by_sex is None or not any(v for dated in by_sex.values()
                                     for v in dated.values.values()):
            return None
        cohorts = np.asarray(years, dtype=int)[:, None] - AGES[None, :]
        shares = [_by_birth_year(by_sex.get(s, by_sex.get("all")), cohorts) for s in SEXES]
        return 1.0 - np.stack(shares, axis=-1)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.params[name]


def _by_birth_year(dated: DatedValue, cohorts: np.ndarray) -> np.ndarray:
    """A dated value's step function read at years of birth (not indexed)."""
    effective = np.array(sorted(dated.values), dtype=int)
    values = np.array([dated.values[e] for e in effective], dtype=float)
    at = np.searchsorted(effective, cohorts, side="right") - 1
    return values[np.clip(at, 0, None)]


@dataclass
class Assumptions:
    """Dense assumption arrays over the projection years, canonical units."""

    years: np.ndarray
    base_population: np.ndarray  # (age, sex), persons at 1 July of the base year
    mx: np.ndarray  # (year, age, sex), central death rates
    asfr: np.ndarray  # (year, age), births per woman-year (0 outside the fertile ages)
    srb: np.ndarray  # (year,), males per female at birth
    net_migration: np.ndarray  # (year, age, sex), persons
    inflation: np.ndarray  # (year,)
    real_wage_growth: np.ndarray  # (year,)
    interest_rate: np.ndarray  # (year,)
    participation: np.ndarray  # (year, age, sex)
    unemployment: np.ndarray  # (year, age, sex)
    coverage: np.ndarray  # (year, age, sex)
    relative_earnings: np.ndarray  # (year, age, sex)
    self_employed_share: np.ndarray  # (year, age, sex) of contributors
    disability_prevalence: np.ndarray  # (year, age, sex) of the population
    severe_disability: np.ndarray  # (year, age, sex) share with a severe disability
    invalidity_incidence: np.ndarray  # (year, age, sex) onset among insured contributors
    gdp_base: float
    average_earnings_base: float
    schemes: list[CompiledScheme]
    poverty_line_base: float | None = None  # currency per person per year, base year
    revenue_share: float | None = None  # government revenue as a share of GDP
    fiscal_envelope: float | None = None  # stated budget for social protection, of GDP
    # non-contributors' tendency to keep their labour state (both engines)
    labour_persistence: float = DEFAULT_LABOUR_PERSISTENCE
    # the families table's columns as (year, age, sex) arrays (FAMILY_COLUMNS), or None:
    # no families (the micro engine's persons have no family links)
    families: dict[str, np.ndarray] | None = None
    # how the micro engine measures household poverty (the model's [poverty]), or None
    poverty: PovertySpec | None = None
    # an external population projection (year, age, sex), persons at 1 July, that the
    # model follows instead of projecting its own (demography.external_projection); None
    population_projection: np.ndarray | None = None
    # log-sd of a person's earnings around her age and sex's mean: permanent and yearly
    # (the model's [economy]; the cohort engine's spread within a cell, the micro
    # engine's persons by default)
    earnings_permanent_sd: float = 0.0
    earnings_transitory_sd: float = 0.0
    # (years, (year, sex) ratios): the contribution_history table, contributing in years
    # before the base year as a multiple of the base year's; None: at the base year's rates
    contribution_history: tuple[np.ndarray, np.ndarray] | None = None
    # (years, (year, 2) inflation and real wage growth): the economic_history table, years
    # before the base year (None: one row for every past year); None: every past year at
    # the base year's rates
    economic_history: tuple[np.ndarray | None, np.ndarray] | None = None
    # the first year of the financing measures' valuation period (None: the first year)
    valuation_start: int | None = None

    def past_density_ratio(self, year: int) -> np.ndarray:
        """(sex,) contributing in ``year`` (before the base year) as a multiple of the base
        year's: the contribution_history table's row of the nearest year (1 without it)."""
        if self.contribution_history is None:
            return np.ones(2)
        years, ratios = self.contribution_history
        return ratios[int(np.abs(years - year).argmin())]

    def past_series_growth(self, years: np.ndarray) -> dict[str, np.ndarray]:
        """:attr:`series_growth` (prices, wages) during each of ``years`` (before the base
        year, or the base year itself): the economic_history table's row of the year, the
        base year's rates where it has none (every year without the table)."""
        years = np.asarray(years, dtype=int)
        inflation = np.full(len(years), float(self.inflation[0]))
        real = np.full(len(years), float(self.real_wage_growth[0]))
        if self.economic_history is not None:
            known, rates = self.economic_history
            if known is None:  # one row for every past year
                row = np.zeros(len(years), dtype=int)
                found = years < self.years[0]
            else:
                row = np.minimum(np.searchsorted(known, years), len(known) - 1)
                found = known[row] == years
            inflation[found] = rates[row[found], 0]
            real[found] = rates[row[found], 1]
        return _growth(inflation, real)

    @property
    def earnings_yearly_sd(self) -> float:
        """Log-sd of a person's earnings in a year around her age and sex's mean: the
        permanent level's and the yearly shock's together (independent lognormal
        factors: their log-variances add)."""
        return float(np.hypot(self.earnings_permanent_sd, self.earnings_transitory_sd))

    @property
    def n_years(self) -> int:
        return len(self.years)

    @property
    def series_growth(self) -> dict[str, np.ndarray]:
        """Growth of each named index during each year: prices (CPI) and average wages."""
        return _growth(self.inflation, self.real_wage_growth)


def _growth(inflation: np.ndarray, real_wage_growth: np.ndarray) -> dict[str, np.ndarray]:
    """The named indices' growth (Assumptions.series_growth) from price growth and real
    wage growth."""
    return {"prices": inflation, "wages": (1.0 + inflation) * (1.0 + real_wage_growth) - 1.0}


#: the columns of the optional families table (params.schema), all (age, sex)
FAMILY_COLUMNS = ("partnered", "separation", "leave_home", "partner_age_difference",
                  "partner_age_spread")


def _by_year(table: Table, column: str, years: np.ndarray) -> np.ndarray:
    """A table column as (year, ...): sliced to the projection years, or broadcast."""
    values = table.values[column]
    if not table.by_year:
        return np.broadcast_to(values, (len(years), *values.shape)).copy()
    first = int(table.coords["year"][0])
    return values[years - first]


def _history(table: Table | None) -> tuple[np.ndarray, np.ndarray] | None:
    """The contribution_history table as (years, (year, sex) ratios); a table without a
    year column holds for every past year."""
    if table is None:
        return None
    values = table.values["density_ratio"]
    if not table.by_year:
        return np.array([0]), values[None, :]
    return np.asarray(table.coords["year"], dtype=int), values


def _economic_history(table: Table | None
                      ) -> tuple[np.ndarray | None, np.ndarray] | None:
    """The economic_history table as (years, (year, 2) inflation and real wage growth),
    years None for a table without a year column (one row for every past year)."""
    if table is None:
        return None
    values = np.stack([np.atleast_1d(table.values[c]) for c in ("inflation",
                                                                "real_wage_growth")], axis=-1)
    if not table.by_year:
        return None, values
    return np.asarray(table.coords["year"], dtype=int), values


def _mortality(input_: ModelInput, years: np.ndarray) -> np.ndarray:
    table = input_.tables["mortality"]
    improvement = input_.tables.get("mortality_improvement")
    if not table.by_year:
        last_year, last = years[0], table.values["mx"]
        given = np.broadcast_to(last, (0, *last.shape))
    else:
        t_years = table.coords["year"]
        inside = years[years <= t_years[-1]]
        given = table.values["mx"][inside - t_years[0]]
        last_year, last = t_years[-1], table.values["mx"][-1]
    beyond = years[years > last_year] if table.by_year else years
    if improvement is None:
        extended = np.broadcast_to(last, (len(beyond), *last.shape))
    else:
        steps = (beyond - last_year).reshape(-1, 1, 1)
        extended = last * (1.0 - improvement.values["improvement"]) ** steps
    return np.concatenate([given, extended], axis=0)


def _reached_valuation_start(start: int | None, last: int) -> int | None:
    """The model's valuation start, which a projection shortened by ``end_year`` must
    reach (its measures would value no year)."""
    if start is not None and start > last:
        raise ValueError(f"end_year {last} is before the model's valuation_start {start}")
    return start


def compile_assumptions(input_: ModelInput, end_year: int | None = None) -> Assumptions:
    """Dense per-year arrays from validated input, with scheme parameters compiled.

    ``end_year`` shortens the horizon (it must lie within the model's years).
    """
    last = input_.end_year if end_year is None else int(end_year)
    if not input_.base_year <= last <= input_.end_year:
        raise ValueError(f"end_year must be within {input_.base_year}..{input_.end_year}")
    years = np.arange(input_.base_year, last + 1)
    t = input_.tables
    migration = (
        _by_year(t["migration"], "net_migration", years)
        if "migration" in t
        else np.zeros((len(years), len(AGES), len(SEXES)))
    )
    disability = {c: _by_year(t["disability"], c, years) if "disability" in t
                  else np.zeros((len(years), len(AGES), len(SEXES)))
                  for c in ("severe_disability", "invalidity_incidence")}
    labour = {c: _by_year(t["labour"], c, years)
              for c in ("participation", "unemployment", "coverage", "relative_earnings",
                        "self_employed_share", "disability_prevalence")}
    assumptions = Assumptions(
        years=years,
        base_population=t["population"].values["population"],
        mx=_mortality(input_, years),
        asfr=_by_year(t["fertility"], "asfr", years),
        srb=_by_year(t["sex_ratio_at_birth"], "srb", years),
        net_migration=migration,
        **disability,
        inflation=_by_year(t["economy"], "inflation", years),
        real_wage_growth=_by_year(t["economy"], "real_wage_growth", years),
        interest_rate=_by_year(t["economy"], "interest_rate", years),
        gdp_base=input_.gdp,
        average_earnings_base=input_.average_earnings,
        schemes=[],
        poverty_line_base=input_.poverty_line,
        revenue_share=input_.revenue_share,
        fiscal_envelope=input_.fiscal_envelope,
        labour_persistence=input_.labour_persistence,
        earnings_permanent_sd=input_.earnings_permanent_sd,
        earnings_transitory_sd=input_.earnings_transitory_sd,
        contribution_history=_history(t.get("contribution_history")),
        economic_history=_economic_history(t.get("economic_history")),
        valuation_start=_reached_valuation_start(input_.valuation_start, last),
        families=({c: _by_year(t["families"], c, years) for c in FAMILY_COLUMNS}
                  if "families" in t else None),
        poverty=input_.poverty,
        population_projection=(_by_year(t["population_projection"], "population", years)
                               if "population_projection" in t else None),
        **labour,
    )
    growth = assumptions.series_growth
    for scheme in input_.schemes:
        params = {}
        for name, by_sex in scheme.numbers.items():
            if set(by_sex) == {"all"}:
                params[name] = by_sex["all"].compile(years, growth)
            else:
                params[name] = np.stack([by_sex[s].compile(years, growth) for s in SEXES],
                                        axis=-1)
        index_growth = {name: ix.growth(growth, len(years))
                        for name, ix in scheme.indexations.items()}
        compiled = CompiledScheme(scheme.id, scheme.type, scheme.name, params,
                                  scheme.indexations, index_growth, dict(scheme.choices),
                                  numbers=dict(scheme.numbers))
        if "retirement_age" in scheme.numbers:
            _retirement_ages(compiled, scheme.numbers["retirement_age"], years, growth)
        assumptions.schemes.append(compiled)
    return assumptions


def _whole_years(ages: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Pensionable ages (years, whole months) as the whole years in which each falls and,
    where some are not whole years, the ages in months over 12 (else None)."""
    months = np.round(np.asarray(ages, dtype=float) * 12)
    whole = months // 12
    return whole, (None if np.array_equal(whole * 12, months) else months / 12)


def _retirement_ages(scheme: CompiledScheme, by_sex: dict, years: np.ndarray,
                     growth: dict[str, np.ndarray]) -> None:
    """The (year, age, sex) grid of pensionable ages, by calendar year or birth cohort:
    the whole ages in which they fall, and the ages in years and months where some are
    not whole years."""
    ages = AGES[None, :, None]
    if scheme.choices.get("retirement_age_basis") != "birth_year":
        whole, exact = _whole_years(scheme["retirement_age"])
        scheme.params["retirement_age"] = whole
        shape = (len(years), len(AGES), len(SEXES))
        scheme.retirement_age_grid = np.broadcast_to(whole[:, None, :], shape).copy()
        if exact is not None:
            scheme.retirement_age_exact = np.broadcast_to(exact[:, None, :], shape).copy()
        return
    cohorts = np.arange(years[0] - AGES[-1], years[-1] + 1)
    by_cohort, exact = _whole_years(
        np.stack([by_sex[s].compile(cohorts, growth) for s in SEXES], axis=-1))
    born = years[:, None] - AGES[None, :] - cohorts[0]  # (year, age) index into cohorts
    grid = by_cohort[born]  # (year, age, sex)
    scheme.retirement_age_grid = grid
    scheme.retirement_age_by_cohort, scheme.first_cohort = by_cohort, int(cohorts[0])
    if exact is not None:
        scheme.retirement_age_exact, scheme.retirement_age_exact_by_cohort = exact[born], exact
    # the youngest age whose cohort has reached its pensionable age, each year and sex
    reached = ages >= grid
    scheme.params["retirement_age"] = np.where(reached.any(axis=1),
                                               reached.argmax(axis=1), AGES[-1]).astype(float)
