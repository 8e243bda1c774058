"""Checks every projection passes before anyone reads it, both engines.

Accounting identities (population balance, fund balance) and the invariants a reviewing
actuary checks first in the results themselves: no count above the population at risk
(contributors, pensions of each kind, survivors, the insured unemployed, mothers,
beneficiaries of every benefit, the covered within each guarantee's target group), no
negative count or flow, and shares within [0, 1]. Each check is vectorised over the
Dataset; a failure names the variable, scheme, kind, year, age and sex, the value and its
bound. They hold exactly (to rounding) in both engines: the micro engine's bounds are its
own simulated persons, never the projection's expected numbers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .errors import ProjectionError

TOLERANCE = 1e-9
# coordinates that name where a failure is (others, like scheme_name, describe a scheme)
LABELS = ("scheme", "pension", "branch", "status", "guarantee", "year", "age", "sex")


@dataclass(frozen=True)
class Finding:
    """One failed check: which one, where (the coordinates) and by how much."""

    check: str  # short name of the invariant
    variable: str
    where: dict[str, object]  # coordinates of the cell: scheme, pension, year, age, sex...
    value: float
    bound: float  # an upper bound, or with ``floor`` a lower one
    cells: int = 1  # cells failing this check in all (the worst is described)
    floor: bool = False
    bounded: bool = True  # False: a check without a bound (a value that must be finite)

    @property
    def message(self) -> str:
        place = ", ".join(f"{k} {v}" for k, v in self.where.items())
        more = f" ({self.cells - 1} more cells fail it)" if self.cells > 1 else ""
        if not self.bounded:
            return f"{self.check}: {self.variable} = {self.value} at {place}{more}"
        kind = "a floor" if self.floor else "a bound"
        return (f"{self.check}: {self.variable} = {self.value:,.6g} against {kind} of "
                f"{self.bound:,.6g} at {place}{more}")


def population_balance_residual(ds: xr.Dataset) -> float:
    """Largest relative residual of P[t+1, a] = P[t, a-1] - D[t, a] + M[t, a] (+ B at a = 0)."""
    def values(name: str, dims: tuple[str, ...]) -> np.ndarray:
        return ds.variables[name].transpose(*dims).values  # no DataArray built

    cells = ("year", "age", "sex")
    return population_residual(values("population", cells), values("deaths", cells),
                               values("net_migration", cells), values("births", ("year", "sex")))


def population_residual(pop: np.ndarray, deaths: np.ndarray, migration: np.ndarray,
                        births: np.ndarray) -> float:
    """:func:`population_balance_residual` on arrays: (year, age, sex) persons, births
    (year, sex)."""
    start = np.zeros_like(pop[:-1])
    start[:, 1:] = pop[:-1, :-1]
    start[:, -1] += pop[:-1, -1]
    start[:, 0] = births[:-1]
    expected = start - deaths[:-1] + migration[:-1]
    scale = np.maximum(np.abs(pop[1:]), 1.0)
    return float(np.max(np.abs(pop[1:] - expected) / scale, initial=0.0))


FUND_FLOWS = ("contribution_income", "state_transfer", "investment_income",
              "benefit_expenditure", "admin_expenditure")


def fund_balance_residual(ds: xr.Dataset, initial_reserve: np.ndarray) -> float:
    """Largest relative residual of F[t] = F[t-1] + C + G + I - B - E, per scheme."""
    flows = [ds.variables[v].transpose("year", "scheme").values for v in FUND_FLOWS]
    return fund_residual(ds.variables["reserve"].transpose("year", "scheme").values,
                         initial_reserve, *flows)


def fund_residual(reserve: np.ndarray, initial_reserve: np.ndarray, contributions: np.ndarray,
                  state: np.ndarray, investment: np.ndarray, benefits: np.ndarray,
                  admin: np.ndarray) -> float:
    """:func:`fund_balance_residual` on arrays (year, scheme), currency; ``initial_reserve``
    (scheme,)."""
    previous = np.vstack([initial_reserve[None, :], reserve[:-1]])
    flows = contributions + state + investment - benefits - admin
    scale = np.maximum.reduce([np.abs(reserve), np.abs(previous), np.abs(benefits),
                               np.ones_like(reserve)])
    return float(np.max(np.abs(reserve - previous - flows) / scale))


def assert_identities(ds: xr.Dataset, initial_reserve: np.ndarray) -> None:
    """Raise ProjectionError if an accounting identity fails beyond 1e-9 (relative)."""
    pop = population_balance_residual(ds)
    fund = fund_balance_residual(ds, initial_reserve)
    if pop > TOLERANCE:
        raise ProjectionError(f"population balance fails: relative residual {pop:.3g}")
    if fund > TOLERANCE:
        raise ProjectionError(f"fund balance fails: relative residual {fund:.3g}")


# ------------------------------------------------------------------ bounds and signs

def exceeding(check: str, value: xr.DataArray, bound: xr.DataArray | float,
              variable: str | None = None, floor: bool = False) -> list[Finding]:
    """The cells where ``value`` exceeds ``bound`` (with ``floor``, falls below it) beyond
    rounding (relative 1e-9 of the bound, at least 1e-9 x the largest value), as one
    Finding at the worst cell."""
    raw, aligned = value.values, _aligned(bound, value)
    if not may_exceed(raw, aligned, floor):
        return []
    sign = -1.0 if floor else 1.0
    v, b = (sign * raw if floor else raw), sign * aligned
    low, high = _extremes(raw)
    largest = max(abs(low), abs(high), 1.0) if low <= high else 1.0  # |v|'s, NaN aside
    scale = TOLERANCE * np.maximum(np.abs(b), largest)
    excess = np.where(np.isfinite(v), v - b - scale, -np.inf)
    failing = excess > 0
    if not failing.any():
        return []
    b = np.broadcast_to(b, v.shape)
    worst = np.unravel_index(np.argmax(np.where(failing, (v - b) / np.maximum(np.abs(b), 1.0),
                                                -np.inf)), v.shape)
    where = {name: _label(c.values) for name, c in value.coords.items()
             if c.ndim == 0 and name in LABELS}  # a kind selected before the check
    where.update({dim: _label(value[dim].values[i]) if dim in value.coords else int(i)
                  for dim, i in zip(value.dims, worst, strict=True)})
    return [Finding(check, variable or str(value.name), where, sign * float(v[worst]),
                    sign * float(b[worst]), int(failing.sum()), floor)]


def may_exceed(values: np.ndarray, bound: np.ndarray | float, floor: bool = False) -> bool:
    """False when no cell of ``values`` exceeds ``bound`` (a number, or an array that
    broadcasts against ``values``; with ``floor``, falls below it) beyond rounding, as
    :func:`exceeding` defines it; True when some cell may. In NumPy, so that a check that
    passes builds no DataArray."""
    sign = -1.0 if floor else 1.0
    b = sign * np.asarray(bound, dtype=float)
    low, high = _extremes(values)
    largest = max(abs(low), abs(high), 1.0) if low <= high else 1.0  # |v|'s, NaN aside
    if b.ndim == 0:
        top = -low if floor else high  # the largest of v (-inf: all NaN)
        # a number for a bound: the excess rises with the value (rounding is monotone),
        # so no cell fails where the largest value does not
        return not (np.isfinite(largest) and not top - b - TOLERANCE * max(abs(float(b)),
                                                                            largest) > 0)
    # a cell that fails exceeds the bound by more than the scale: where none does, none
    # fails (exceeding also sets aside the values that are not finite)
    gap = np.subtract(-values if floor else values, b)
    gap -= TOLERANCE * np.maximum(np.abs(b), largest)
    return bool((gap > 0).any())


def _extremes(values: np.ndarray) -> tuple[float, float]:
    """The least and the largest of ``values`` that are not NaN (inf, -inf if all are),
    without a temporary array."""
    return (float(np.fmin.reduce(values, axis=None, initial=np.inf)),
            float(np.fmax.reduce(values, axis=None, initial=-np.inf)))


def _aligned(bound: xr.DataArray | float, value: xr.DataArray) -> np.ndarray:
    """``bound`` as an array that broadcasts against ``value``'s values: its dims (a subset
    of value's, on the same coordinates: both from one Dataset) in value's order, with
    length-one axes for the others. Plain numpy: the checks run in every projection."""
    if not isinstance(bound, xr.DataArray):
        return np.asarray(bound, dtype=float)
    return _aligned_to(bound.values, tuple(str(d) for d in bound.dims),
                       tuple(str(d) for d in value.dims))


def _label(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _schemes(ds: xr.Dataset, keep: Callable[[str, str], bool]) -> list[str]:
    """The schemes whose type and guarantee ``keep`` accepts (read from the arrays: a
    Dataset selection per scheme cost more than the checks)."""
    kinds = zip(*(_labels(ds, name) for name in ("scheme", "scheme_type", "scheme_guarantee")),
                strict=True)
    return [str(s) for s, kind, guarantee in kinds if keep(str(kind), str(guarantee))]


@dataclass(frozen=True)
class _Cells:
    """A variable's values (or a selection or sum of them) with their dims, for a check in
    NumPy; ``build`` makes the same as a DataArray, only to name a failing cell."""

    values: np.ndarray
    dims: tuple[str, ...]
    build: Callable[[], xr.DataArray]

    def take(self, dim: str, positions: list[int] | int) -> _Cells:
        """The cells at ``positions`` along ``dim`` (one position: the dim dropped and
        kept as a coordinate, as DataArray.isel does)."""
        axis = self.dims.index(dim)
        dims = self.dims if isinstance(positions, list) else \
            self.dims[:axis] + self.dims[axis + 1:]
        return _Cells(np.take(self.values, positions, axis=axis), dims,
                      lambda: self.build().isel({dim: positions}))

    def sum(self, *dims: str) -> _Cells:
        """Summed over ``dims`` (a NaN stays NaN: nonfinite_findings names it)."""
        axes = tuple(self.dims.index(d) for d in dims)
        return _Cells(self.values.sum(axis=axes), tuple(d for d in self.dims if d not in dims),
                      lambda: self.build().sum(dims))

    def __add__(self, other: _Cells) -> _Cells:
        return _Cells(self.values + _aligned_to(other.values, other.dims, self.dims), self.dims,
                      lambda: self.build() + other.build())

    def __sub__(self, other: _Cells) -> _Cells:
        return _Cells(self.values - _aligned_to(other.values, other.dims, self.dims), self.dims,
                      lambda: self.build() - other.build())


def _cells(ds: xr.Dataset, name: str) -> _Cells:
    var = ds.variables[name]
    return _Cells(var.values, tuple(str(d) for d in var.dims), lambda: ds[name])


def _aligned_to(values: np.ndarray, own: tuple[str, ...], dims: tuple[str, ...]
                ) -> np.ndarray:
    """``values`` (dims ``own``, a subset of ``dims``) broadcasting against values of
    ``dims``."""
    missing = set(own) - set(dims)
    if missing:
        raise ValueError(f"a bound has dimensions its value lacks: {sorted(missing)}")
    order = [own.index(d) for d in dims if d in own]
    shape = [values.shape[own.index(d)] if d in own else 1 for d in dims]
    return np.transpose(values, order).reshape(shape)


def _within(check: str, value: _Cells, bound: _Cells | float, variable: str | None = None,
            floor: bool = False) -> list[Finding]:
    """:func:`exceeding` of cells, screened in NumPy (:func:`may_exceed`) first."""
    cells = isinstance(bound, _Cells)
    raw = _aligned_to(bound.values, bound.dims, value.dims) if cells else bound
    if not may_exceed(value.values, raw, floor):
        return []
    return exceeding(check, value.build(), bound.build() if cells else bound, variable,
                     floor)


def _positions(ds: xr.Dataset, dim: str, labels: Iterable[str]) -> list[int]:
    every = _labels(ds, dim)
    return [every.index(label) for label in labels]


def _labels(ds: xr.Dataset, name: str) -> list[str]:
    """A coordinate's labels, read from its variable (a DataArray of it costs 90 us)."""
    return [str(v) for v in ds.variables[name].values]


def _pension_bounds(ds: xr.Dataset) -> list[Finding]:
    """Pensions of each kind, a person's own pensions, and her survivor's pension with a
    dependant's supplement of each kind, never exceed the population of the
    beneficiaries' age and sex."""
    if "pensions_by_age" not in ds:
        return []
    pensions, pop = _cells(ds, "pensions_by_age"), _cells(ds, "population")
    # the schemes with a value (NaN included): a scheme's zero cells are within every
    # non-negative bound, and a negative population fails the signs' check; the array has
    # a cell for every scheme, most of them zero
    by_scheme = np.moveaxis(pensions.values, pensions.dims.index("scheme"), -1)
    # |values| added up by one product (NumPy's reductions over a short last axis are
    # slow): zero only where every value is, NaN where one is
    magnitude = np.ones(by_scheme.size // by_scheme.shape[-1]) @ np.abs(
        by_scheme.reshape(-1, by_scheme.shape[-1]))
    pensions = pensions.take("scheme", np.flatnonzero(magnitude != 0).tolist())
    labels = _labels(ds, "pension")

    def kinds(*names: str) -> _Cells:
        return pensions.take("pension", [labels.index(k) for k in names]).sum("pension")

    findings = []
    for i in range(len(labels)):
        findings += _within("pensions of a kind above the population of their age and sex",
                            pensions.take("pension", i), pop, "pensions_by_age")
    survivors = kinds("spouse", "orphan")
    findings += _within("own pensions (old age and disability) above the population",
                        kinds("old_age", "disability"), pop, "pensions_by_age")
    findings += _within("survivors' pensions (one a person) above the population",
                        survivors, pop, "pensions_by_age")
    for kind in ("dependent_spouse", "dependent_child"):
        dependants = kinds(kind) if kind in labels else None
        if dependants is not None and np.any(dependants.values != 0):
            findings += _within(f"survivors' pensions and {kind.replace('_', ' ')}s' "
                                "supplements (one a person) above the population",
                                survivors + dependants, pop, "pensions_by_age")
    return findings


def _unemployed(ds: xr.Dataset) -> _Cells:
    """Unemployed persons by (year, age, sex): the micro engine's own simulated ones, or
    the labour projection's."""
    if "persons_by_status" in ds:
        return _cells(ds, "persons_by_status").take(
            "status", _positions(ds, "status", ["unemployed"])[0])
    return _cells(ds, "labour_force") - _cells(ds, "employed")


def _benefit_bounds(ds: xr.Dataset) -> list[Finding]:
    """Contributors within their population, unemployment insurance within the
    unemployed, maternity benefits within births and women, every other rule-paid benefit
    within the population of its cell (maternity also pays the year's immigrant mothers,
    outside the cells), and the covered within each target group."""
    pop, contributors = _cells(ds, "population"), _cells(ds, "contributors")
    beneficiaries = _cells(ds, "beneficiaries")
    findings = _within("contributors above the population", contributors, pop)
    if ds.attrs.get("engine") == "cohort":
        findings += _within("contributors above the employed", contributors,
                            _cells(ds, "employed"))
    rule_paid = _schemes(ds, lambda kind, guarantee: kind != "db_old_age_pension"
                         and guarantee != "maternity")
    if rule_paid:
        findings += _within("beneficiaries of a benefit above the population of their "
                            "age and sex", beneficiaries.take(
                                "scheme", _positions(ds, "scheme", rule_paid)), pop)
    unemployment = _schemes(ds, lambda kind, _: kind == "unemployment_insurance")
    if unemployment:
        findings += _within("unemployment insurance beneficiaries above the unemployed",
                            beneficiaries.take("scheme", _positions(ds, "scheme",
                                                                    unemployment)),
                            _unemployed(ds))
    maternity = _schemes(ds, lambda _, guarantee: guarantee == "maternity")
    if maternity:
        mothers = beneficiaries.take("scheme", _positions(ds, "scheme", maternity))
        findings += _within("maternity benefits paid to men", mothers.take(
            "sex", _positions(ds, "sex", ["male"])[0]), 0.0)
        findings += _within("maternity benefits (all schemes) above the births",
                            mothers.sum("age", "sex", "scheme"),
                            _cells(ds, "births").sum("sex"), "beneficiaries")
    findings += _mothers_are_the_births(ds)
    target = _cells(ds, "coverage_target")
    findings += _within("persons covered above the guarantee's target group",
                        _cells(ds, "coverage_covered"), target)
    findings += _within("a guarantee's target group above the population", target,
                        pop.sum("age"))
    findings += _within("new pensions above the pensions in payment",
                        _cells(ds, "new_beneficiaries"),
                        _cells(ds, "beneficiaries_by_branch").take(
                            "branch", _positions(ds, "branch", ["old_age", "disability"])
                        ).sum("branch"))
    return findings


def _mothers_are_the_births(ds: xr.Dataset) -> list[Finding]:
    """Every birth of the year has one mother in the maternity guarantee's target group:
    a resident who gives birth, or a woman who immigrates and gives birth during the year
    (engine.benefits.arriving_mothers; the micro engine's flagged mothers)."""
    mothers = _cells(ds, "coverage_target").take(
        "guarantee", _positions(ds, "guarantee", ["maternity"])[0]).sum("sex")
    births = _cells(ds, "births").sum("sex")
    return (_within("mothers of newborns above the births", mothers, births)
            + _within("mothers of newborns below the births", mothers, births, floor=True))


def _poverty_bounds(ds: xr.Dataset) -> list[Finding]:
    """Household poverty (micro engine, engine.micro.poverty): the persons measured are the
    population of 1 July by sex and age group; the poor are among them; every transfer adds
    income, so headcounts and gaps never rise from one income stage to the next."""
    if "persons_in_poverty" not in ds:
        return []
    from .engine.micro.poverty import AGE_GROUPS, age_group

    groups = xr.DataArray([AGE_GROUPS[age_group(int(a))] for a in ds["age"].values],
                          dims="age", coords={"age": ds["age"]}, name="age_group")
    population = ds["population"].groupby(groups).sum()
    measured = ds["poverty_population"]
    findings = (exceeding("persons measured above the population", measured, population)
                + exceeding("persons measured below the population", measured, population,
                            floor=True)
                + exceeding("persons in poverty above the persons measured",
                            ds["persons_in_poverty"], measured))
    stages = list(ds["income_stage"].values)
    for name in ("persons_in_poverty", "poverty_gap"):
        for before, after in itertools.pairwise(stages):
            findings += exceeding(f"{name} higher after a transfer than before it",
                                  ds[name].sel(income_stage=after),
                                  ds[name].sel(income_stage=before), name)
    return findings


# variables that can never be negative (persons, and money that flows one way)
NON_NEGATIVE = ("population", "births", "deaths", "labour_force", "employed",
                "contributors", "beneficiaries", "new_beneficiaries", "insured_earnings",
                "contribution_income", "state_transfer", "state_deficit_cover",
                "benefit_expenditure", "admin_expenditure", "beneficiaries_by_branch",
                "benefit_expenditure_by_branch", "pensions_by_age", "coverage_target",
                "coverage_covered", "persons_by_status", "poverty_population",
                "persons_in_poverty", "poverty_gap")
# shares that must lie in [0, 1]
SHARES = ("coverage_rate", "coverage_rate_by_sex", "contributor_coverage_by_sex",
          "payable_share", "contribution_density_at_award", "poverty_rate",
          "poverty_gap_closed_by_floor", "gini_equivalised_income")


def _signs_and_shares(ds: xr.Dataset) -> list[Finding]:
    findings = []
    for name in NON_NEGATIVE:
        if name in ds:
            findings += _within("a count or flow below zero", _cells(ds, name), 0.0, name,
                                floor=True)
    for name in SHARES:
        if name in ds:
            findings += _within("a share below zero", _cells(ds, name), 0.0, name,
                                floor=True)
            findings += _within("a share above one", _cells(ds, name), 1.0, name)
    return findings


def nonfinite_findings(ds: xr.Dataset) -> list[Finding]:
    """Infinities anywhere, and NaN in a variable whose registry entry does not say when it
    is undefined (spfsim.results.registry.UNDEFINED): a division by an empty cell."""
    from .results.registry import UNDEFINED

    findings = []
    for name in ds.data_vars:
        var = ds.variables[name]  # no DataArray built unless a cell fails
        if var.dtype.kind not in "fc":
            continue
        values = np.asarray(var.values)
        bad = np.isinf(values) if name in UNDEFINED else ~np.isfinite(values)
        if bad.any():
            var = ds[name]
            first = np.unravel_index(int(np.argmax(bad)), values.shape)
            where = {str(d): _label(var[str(d)].values[i]) if d in var.coords else int(i)
                     for d, i in zip(var.dims, first, strict=True)}
            findings.append(Finding(
                "not a finite number, and the results registry documents no undefined "
                "value for it", str(name), where, float(values[first]), 0.0,
                int(bad.sum()), bounded=False))
    return findings


CHECKS: tuple[Callable[[xr.Dataset], list[Finding]], ...] = (
    _signs_and_shares, _pension_bounds, _benefit_bounds, _poverty_bounds,
    nonfinite_findings)


def invariant_findings(ds: xr.Dataset,
                       checks: Iterable[Callable[[xr.Dataset], list[Finding]]] = CHECKS
                       ) -> list[Finding]:
    """Every failed invariant of a projection (empty when it passes)."""
    return [finding for check in checks for finding in check(ds)]


def assert_invariants(ds: xr.Dataset) -> None:
    """Raise ProjectionError listing every failed invariant of a projection: a number an
    actuary could not sign is a defect of the model or of spfsim, never a result."""
    findings = invariant_findings(ds)
    if findings:
        raise ProjectionError(
            "the projection fails checks that every result must pass (a defect: please "
            "report it with the model):\n" + "\n".join(f"  - {f.message}" for f in findings))
