"""The micro engine's accumulators and results: per-chunk buffers the kernels count into,
yearly outputs in currency, and the MicroResult in the cohort engine's form."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...allocator import fresh_zeros
from ...demography import DemographicProjection
from ...params import CompiledScheme
from ..benefits import MATERNITY, N_COVERAGE, insurable_earnings
from ..cohort import MAX_SERVICE, benefit_flows
from ..flows import SchemeFlows
from . import families as F
from . import kernels as K
from . import poverty as P
from . import records
from .store import FEMALE, PersonStore


@dataclass
class MicroResult:
    """Weighted results of a microsimulation, in the cohort engine's form."""

    demography: DemographicProjection
    flows: list[SchemeFlows]
    weight: float
    person_years: int
    store: PersonStore | None  # None: a run split across workers that left them there
    first_birth_year: int  # of the first cohort group of ``lifetimes``
    labour_status: np.ndarray | None = None  # (year, age, sex, status) persons
    lifetimes: np.ndarray | None = None  # (cohort group, sex, 2, bin) deaths, weighted
    # per-person money's worth ratio and net transfer in the pension scheme, weighted:
    # (cohort group, sex, 2, EXIT_BINS) persons, and (cohort group, sex, 3) present values
    # (kernels.record_lifetimes)
    exits: np.ndarray | None = None
    exit_totals: np.ndarray | None = None
    synthetic_cells: int = 0  # age x sex cells a person file had no record for
    # a person file's records living apart from their household (person_households); None
    # for a file without households
    records_apart: int | None = None
    # the person file's records behind the cells (engine.micro.disclosure.SourceCells);
    # None without a person file
    sources: object = None
    coverage: np.ndarray | None = None  # (year, age, sex, group, 2) target, covered persons
    # families (None without): (year, age, sex, families.N_FAMILY_COUNTS) persons, and
    # (year, families.N_SIZES) households by size, weighted
    family: np.ndarray | None = None
    households: np.ndarray | None = None
    # household poverty (engine.micro.poverty; None when not measured), by year: persons
    # measured (sex, age group) and in poor households (stage, sex, age group), weighted;
    # poverty gaps (stage, sex, age group) in currency, weighted; the line (currency per
    # equivalent adult); Gini and median equivalised income (stage)
    poverty: dict[str, np.ndarray] | None = None


# the status axis of MicroResult.labour_status, with the kernel's count index of each
STATUS_COUNTS = {"employee_contributing": K.CONTRIBUTORS, "self_employed_contributing":
                 K.N_SELF_EMPLOYED, "informal": K.N_INFORMAL, "unemployed": K.N_UNEMPLOYED,
                 "inactive": K.N_INACTIVE, "disabled": K.N_DISABLED, "pensioner": K.PENSIONERS,
                 "disability_pensioner": K.N_INVALID, "retired_without_pension": K.N_LEFT}


QUANTILES = (0.025, 0.25, 0.5, 0.75, 0.975)


def _quantile_positions(counts: np.ndarray, quantiles: tuple[float, ...]
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each quantile of each histogram (last axis: bins): the bin it falls in and how
    far into that bin (0..1, the counts spread evenly), and whether there are counts."""
    total = counts.sum(axis=-1, keepdims=True)
    cumulative = np.cumsum(counts, axis=-1) / np.where(total > 0, total, 1.0)
    q = np.asarray(quantiles, dtype=float)
    # first bin whose cumulative share reaches q, for every histogram and quantile
    b = (cumulative[..., None, :] < q[:, None]).sum(axis=-1)
    b = np.minimum(b, counts.shape[-1] - 1)
    below = np.where(b > 0, np.take_along_axis(cumulative, np.maximum(b - 1, 0), axis=-1), 0.0)
    width = np.take_along_axis(cumulative, b, axis=-1) - below
    within = np.clip((q - below) / np.maximum(width, 1e-300), 0.0, 1.0)
    return b, within, total > 0


def histogram_quantiles(counts: np.ndarray, edges: np.ndarray,
                        quantiles: tuple[float, ...] = QUANTILES) -> np.ndarray:
    """Quantiles of a lifetime histogram (last axis: bins with lower ``edges``; bin 0 is
    zero), log-interpolated within a bin; NaN where there are no counts."""
    upper = np.append(edges[1:], edges[-1] * (edges[-1] / edges[-2]))
    b, within, some = _quantile_positions(counts, quantiles)
    lower = edges[np.maximum(b, 1)]
    out = np.where(b == 0, 0.0, lower * (upper[np.maximum(b, 1)] / lower) ** within)
    return np.where(some, out, np.nan)


def asinh_histogram_quantiles(counts: np.ndarray, unit: float,
                              quantiles: tuple[float, ...] = QUANTILES) -> np.ndarray:
    """Quantiles of a histogram binned by kernels.asinh_bin (last axis: EXIT_BINS) of
    values in ``unit``, interpolated linearly in asinh within a bin; NaN where empty."""
    edges = K.asinh_bin_edges()
    b, within, some = _quantile_positions(counts, quantiles)
    t = edges[b] + within * (edges[b + 1] - edges[b])
    return np.where(some, unit * np.sinh(t), np.nan)


class _Buffers:
    """The passes' accumulators (rows of chunks: counters.chunk_rows, made once) and the
    persons' flags and incomes (grown with the store)."""

    #: the arrays of one row a slot (made by :meth:`fit`)
    PER_SLOT = ("birth_flag", "death_flag", "dependant_flags", "supplements", "coverage_bits",
                "income", "members", "_scratch", "young_child")

    def __init__(self, capacity: int, n_rules: int, n_groups: int):
        self.capacity = 0
        self.poverty = False  # hold the persons' incomes (engine.micro.poverty)
        self.care_links = False  # flag the mothers of young children (families)
        self.dependant_links = False  # the pensioners' own dependants (families)
        self.household_coverage = False  # keep the persons' coverage groups (poverty)
        rows = K.accumulator_rows()
        self.state_counts = np.zeros((rows, 101, 2, K.N_STATE_COUNTS), dtype=np.int64)
        self.counts = np.zeros((rows, 101, 2, K.N_COUNTS + n_rules), dtype=np.int64)
        self.nc_money = np.zeros((rows, n_rules, 101, 2), dtype=np.int64)
        self.coverage = np.zeros((rows, 101, 2, N_COVERAGE, 2), dtype=np.int64)
        self.money = np.zeros((rows, 2, K.N_MONEY), dtype=np.int64)
        self.service_awarded = np.zeros((rows, 2, MAX_SERVICE + 1), dtype=np.int64)
        self.service_left = np.zeros((rows, 2, MAX_SERVICE + 1), dtype=np.int64)
        self.age_money = np.zeros((rows, 101, 2, K.N_AGE_MONEY), dtype=np.int64)
        self.lifetimes = np.zeros((rows, n_groups, 2, 2, K.LIFETIME_BINS), dtype=np.int64)
        self.fit(capacity)

    def link_care_credits(self) -> None:
        """Hold the flags of mothers of young children from now on (families'
        mothers_of_young_children, remade each year: nothing to carry over)."""
        self.care_links = True
        self.young_child = self._care_flags(self.capacity)

    def link_dependants(self) -> None:
        """Hold each person's supplements as a linked pensioner's dependant from now on
        (dependants.linked_dependants, remade each year: nothing to carry over)."""
        self.dependant_links = True
        self.dependant_flags = fresh_zeros(self.capacity, np.int8)
        self.supplements = fresh_zeros((self.capacity, 2), np.float64)

    def cover_household_benefits(self) -> None:
        """Keep each person's coverage groups from now on, for the benefits tested on the
        household's income that the poverty pass pays (engine.micro.coverage.cover;
        written and read within a year: nothing to carry over)."""
        self.household_coverage = True
        self.coverage_bits = fresh_zeros(self.capacity, np.uint16)

    def measure_poverty(self) -> None:
        """Hold the persons' incomes and households' members from now on (called before
        the first year: the buffers are made anew, births and deaths flagged none)."""
        self.poverty = True
        rows = K.accumulator_rows()
        self.income_counts = np.zeros((rows, 3, P.N_BINS), dtype=np.int64)
        self.income_sums = np.zeros((rows, 3, P.N_BINS), dtype=np.int64)
        self.poverty_persons = np.zeros((rows, 2, len(P.AGE_GROUPS)), dtype=np.int64)
        self.poor = np.zeros((rows, 3, 2, len(P.AGE_GROUPS)), dtype=np.int64)
        self.poverty_gaps = np.zeros((rows, 3, 2, len(P.AGE_GROUPS)), dtype=np.int64)
        capacity, self.capacity = self.capacity, 0
        self.fit(capacity)

    def fit(self, capacity: int) -> None:
        if capacity <= self.capacity:
            return
        flags = fresh_zeros(capacity, np.int8)
        deaths = fresh_zeros(capacity, np.int8)
        if self.capacity:  # births and deaths already flagged must survive the growth
            flags[: self.capacity] = self.birth_flag
            deaths[: self.capacity] = self.death_flag
        self.capacity = capacity
        self.birth_flag = flags
        self.death_flag = deaths
        self.dependant_flags = fresh_zeros(capacity if self.dependant_links else 0, np.int8)
        self.supplements = fresh_zeros((capacity if self.dependant_links else 0, 2),
                                       np.float64)
        self.coverage_bits = fresh_zeros(capacity if self.household_coverage else 0,
                                         np.uint16)
        # incomes by source and the households' members (engine.micro.poverty), written
        # and read within a year: nothing to carry over
        self.income = fresh_zeros((capacity if self.poverty else 0, P.N_SOURCES),
                                  np.float32)
        self.members = fresh_zeros(capacity if self.poverty else 0, np.uint32)
        self._scratch = np.zeros(0, dtype=np.int32)  # scratch() without poverty
        self.young_child = self._care_flags(capacity)

    def _care_flags(self, capacity: int) -> np.ndarray:
        """int8 (capacity,) for the flags of mothers of young children (families'
        mothers_of_young_children, made and read by the year step), or (0,) without care
        links. With poverty measured, the first quarter of the households' members'
        memory, which the poverty pass writes after the year step (its first pass sets
        every household's members anew, and no pass reads the other slots')."""
        if not self.care_links:
            return np.zeros(0, dtype=np.int8)
        if self.poverty:
            return self.members.view(np.int8)[:capacity]
        return fresh_zeros(capacity, np.int8)

    def release(self) -> None:
        """Drop the per-slot arrays (at the horizon: nothing reads them after; a later
        :meth:`fit` makes them anew, empty)."""
        for name in self.PER_SLOT:
            array = getattr(self, name)
            setattr(self, name, np.zeros((0, *array.shape[1:]), dtype=array.dtype))
        self.capacity = 0

    def scratch(self, size: int) -> np.ndarray:
        """int32 (size,) for the passes between a year's poverty pass and the next year
        step (the family pass's singles, a byte a slot, and households' sizes;
        compaction's new slots), its values left from before. With poverty measured, the
        memory of the households' members, which the poverty pass alone uses
        (engine.micro.poverty.household_incomes writes them anew each year), so that
        those passes allocate no array of a slot's size of their own."""
        if self.poverty and len(self.members) >= size:
            return self.members[:size].view(np.int32)
        if len(self._scratch) < size:
            self._scratch = fresh_zeros(max(size, self.capacity), np.int32)
        return self._scratch[:size]

    def sums(self) -> dict[str, np.ndarray]:
        """The year's accumulators summed over their rows (integers: the sums do not
        depend on how the persons were grouped)."""
        return {name: getattr(self, name).sum(axis=0) for name in records.Tallies._fields}

    def tallies(self) -> records.Tallies:
        """The accumulators as the year kernel takes them."""
        return records.Tallies(self.counts, self.money, self.service_awarded,
                               self.service_left, self.age_money, self.lifetimes,
                               self.nc_money, self.coverage)


class _Outputs:
    """Yearly results in integers (counts) and fixed-point money, turned into currency."""

    def __init__(self, n: int, n_rules: int, n_groups: int, lifetime_scale: float = 1.0):
        self.lifetime_scale = lifetime_scale  # currency per unit of exit_totals
        self.counts = np.zeros((n, 101, 2, K.N_COUNTS + n_rules), dtype=np.int64)
        self.nc_money = np.zeros((n, n_rules, 101, 2))
        self.coverage = np.zeros((n, 101, 2, N_COVERAGE, 2), dtype=np.int64)
        self.money = np.zeros((n, 2, K.N_MONEY))
        self.service_awarded = np.zeros((n, 2, MAX_SERVICE + 1), dtype=np.int64)
        self.service_left = np.zeros((n, 2, MAX_SERVICE + 1), dtype=np.int64)
        self.age_money = np.zeros((n, 101, 2, K.N_AGE_MONEY))
        self.lifetimes = np.zeros((n_groups, 2, 2, K.LIFETIME_BINS), dtype=np.int64)
        self.exits = np.zeros((n_groups, 2, 2, K.EXIT_BINS), dtype=np.int64)
        self.exit_totals = np.zeros((n_groups, 2, 3), dtype=np.int64)
        self.immigrants = np.zeros((n, 101, 2), dtype=np.int64)
        self.births = np.zeros((n, 2), dtype=np.int64)
        self.newborn_deaths = np.zeros((n, 2), dtype=np.int64)
        self.newborn_emigrants = np.zeros((n, 2), dtype=np.int64)
        # families (engine.micro.families): persons partnered and living with a parent at
        # 1 July of each year, the year's family events, households by size at 1 July
        self.family = None
        self.households = None
        self.poverty = None  # engine.micro.poverty's measures by year, when measured

    def record(self, k: int, sums: dict[str, np.ndarray], scale: float) -> None:
        """Year k's accumulators summed over the chunks (_Buffers.sums), money in units of
        ``scale`` currency."""
        self.counts[k] = sums["counts"]
        self.money[k] = sums["money"] * scale
        self.service_awarded[k] = sums["service_awarded"]
        self.service_left[k] = sums["service_left"]
        self.age_money[k] = sums["age_money"] * scale
        self.lifetimes += sums["lifetimes"]
        self.nc_money[k] = sums["nc_money"] * scale
        self.coverage[k] = sums["coverage"]

    def record_exits(self, exits: np.ndarray, totals: np.ndarray) -> None:
        """Add the persons' lifetime histograms and totals (kernels.record_lifetimes)."""
        self.exits += exits
        self.exit_totals += totals

    def record_arriving_mothers(self, k: int, paid: np.ndarray, money: np.ndarray,
                                coverage: np.ndarray) -> None:
        """Add the year's immigrant mothers' benefits (coverage.arriving_mothers_benefits:
        by rule and age, women) to those of the residents."""
        self.counts[k][:, FEMALE, K.N_COUNTS:] += paid.T
        self.nc_money[k][:, :, FEMALE] += money
        self.coverage[k][:, FEMALE, MATERNITY] += coverage

    def record_families(self, events: int | None, stocks: int, counts: np.ndarray,
                        sizes: np.ndarray) -> None:
        """A family pass (families.family_year): its events in year ``events`` (None: the
        base year's families, drawn without events), its persons partnered and living with a
        parent, and its households by size, at 1 July of year ``stocks`` (none past the
        horizon)."""
        n = len(self.counts)
        if self.family is None:
            self.family = np.zeros((n, 101, 2, F.N_FAMILY_COUNTS), dtype=np.int64)
            self.households = np.zeros((n, F.N_SIZES), dtype=np.int64)
        kept = [F.F_PARTNERED, F.F_WITH_PARENT]
        if events is not None:
            happened = [c for c in range(F.N_FAMILY_COUNTS) if c not in kept]
            self.family[events][..., happened] = counts[..., happened]
        if stocks < n:
            self.family[stocks][..., kept] = counts[..., kept]
            self.households[stocks] = sizes

    def record_poverty(self, k: int, measured: dict[str, np.ndarray]) -> None:
        """Year k's household poverty (population.Population.poverty)."""
        n = len(self.counts)
        if self.poverty is None:
            self.poverty = {
                "persons": np.zeros((n, 2, len(P.AGE_GROUPS))),
                "poor": np.zeros((n, 3, 2, len(P.AGE_GROUPS))),
                "gaps": np.zeros((n, 3, 2, len(P.AGE_GROUPS))),
                "line": np.full(n, np.nan), "gini": np.full((n, 3), np.nan),
                "median": np.full((n, 3), np.nan)}
        for name in ("persons", "poor", "gaps", "line"):
            self.poverty[name][k] = measured[name]
        # the household-tested schemes' beneficiaries and expenditure (J, age, sex)
        self.counts[k][..., K.N_COUNTS:] += np.moveaxis(measured["household_paid"], 0, -1)
        self.nc_money[k] += measured["household_money"]
        self.coverage[k][..., 1] += measured["household_covered"]
        counts, sums = measured["income_counts"], measured["income_sums"]
        for stage in range(3):
            self.poverty["gini"][k, stage] = P.histogram_gini(counts[stage], sums[stage])
            self.poverty["median"][k, stage] = P.histogram_median(counts[stage],
                                                                  measured["unit"])

    def record_entrants(self, k, immigrants, births, deaths, emigrants) -> None:
        self.immigrants[k] = immigrants
        self.births[k] = births
        self.newborn_deaths[k] = deaths
        self.newborn_emigrants[k] = emigrants

    def result(self, assumptions, demo, econ, pension, rules, weight, person_years,
               store, first_birth_year) -> MicroResult:
        w = weight
        c = self.counts
        deaths = c[..., K.DEATHS].astype(float)
        deaths[:, 0] += self.newborn_deaths
        migration = (self.immigrants - c[..., K.EMIGRANTS]).astype(float)
        migration[:, 0] -= self.newborn_emigrants
        demography = DemographicProjection(
            assumptions.years, c[..., K.POP] * w, self.births * w, deaths * w, migration * w,
            demo.life_expectancy, np.zeros_like(demo.emigration_capped), demo.survival)
        flows = []
        rule_index = {r.scheme.id: j for j, r in enumerate(rules)}
        pension_flows = (self._pension_flows(pension, w, (econ.covered, insurable_earnings(
            pension, econ, pension, assumptions.earnings_yearly_sd)))
            if pension is not None else None)
        for scheme in assumptions.schemes:
            if scheme is pension:
                flows.append(pension_flows)
            else:
                j = rule_index[scheme.id]
                flows.append(benefit_flows(scheme, c[..., K.N_COUNTS + j] * w,
                                           self.nc_money[:, j] * w, pension_flows))
        labour_status = np.stack([c[..., index] for index in STATUS_COUNTS.values()],
                                 axis=-1) * w
        labour_status[..., 0] -= labour_status[..., 1]  # all contributors less self-employed
        pensioner = list(STATUS_COUNTS).index("pensioner")
        labour_status[..., pensioner] -= labour_status[..., pensioner + 1]  # old-age only
        return MicroResult(demography, flows, w, person_years, store,
                           first_birth_year, labour_status,
                           self.lifetimes * w, coverage=self.coverage * w,
                           exits=self.exits * w,
                           exit_totals=self.exit_totals * self.lifetime_scale * w,
                           family=None if self.family is None else self.family * w,
                           households=None if self.households is None
                           else self.households * w,
                           poverty=None if self.poverty is None else {
                               name: values * w if name in ("persons", "poor", "gaps")
                               else values for name, values in self.poverty.items()})

    def _pension_flows(self, scheme: CompiledScheme, w: float,
                       working: tuple[np.ndarray, np.ndarray]) -> SchemeFlows:
        from ..cohort import pension_flows

        c, m = self.counts, self.money
        refunds = self.age_money[..., K.AGE_REFUNDS]  # (year, age, sex)
        survivor_money = self.age_money[..., K.AGE_SURVIVORS]
        survivors = c[..., K.N_SPOUSES] + c[..., K.N_ORPHANS]
        supplements = self.age_money[..., K.AGE_DEPENDANTS]
        dependants = c[..., K.N_DEPENDENT_SPOUSES] + c[..., K.N_DEPENDENT_CHILDREN]
        paid = self.age_money[..., K.AGE_PENSIONS] + survivor_money + supplements + refunds
        return pension_flows(
            scheme, c[..., K.CONTRIBUTORS] * w,
            (c[..., K.PENSIONERS] + survivors + dependants + c[..., K.N_REFUNDS]) * w,
            c[..., K.NEW_PENSIONERS].sum(axis=1) * w, m[:, :, K.NEW_AMOUNT] * w,
            self.age_money[..., K.AGE_INSURED] * w, paid * w, self.service_awarded * w,
            working=working, lump_sums_by_age=refunds * w,
            survivors_by_kind=np.stack([c[..., K.N_SPOUSES], c[..., K.N_ORPHANS]], axis=-1) * w,
            dependants_by_kind=np.stack([c[..., K.N_DEPENDENT_SPOUSES],
                                         c[..., K.N_DEPENDENT_CHILDREN]], axis=-1) * w,
            branch_beneficiaries=np.stack([c[..., K.PENSIONERS] - c[..., K.N_INVALID],
                                           c[..., K.N_INVALID], survivors, dependants,
                                           c[..., K.N_REFUNDS]], axis=-1) * w,
            branch_expenditure=np.stack([
                (m[:, :, K.BENEFITS] - m[:, :, K.INVALID_BENEFITS]).sum(axis=1),
                m[:, :, K.INVALID_BENEFITS].sum(axis=1), survivor_money.sum(axis=(1, 2)),
                supplements.sum(axis=(1, 2)), m[:, :, K.REFUNDS].sum(axis=1)], axis=-1) * w)
