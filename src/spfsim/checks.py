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
        return ds[name].transpose(*dims).values

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
    flows = [ds[v].transpose("year", "scheme").values for v in FUND_FLOWS]
    return fund_residual(ds["reserve"].transpose("year", "scheme").values, initial_reserve,
                         *flows)


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


def _beyond(ds: xr.Dataset, name: str, bound: float, check: str,
            floor: bool = False) -> list[Finding]:
    """:func:`exceeding` of variable ``name`` against a number, its DataArray built only
    when a cell may fail."""
    if not may_exceed(ds.variables[name].values, bound, floor):
        return []
    return exceeding(check, ds[name], bound, name, floor)


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
    missing = set(bound.dims) - set(value.dims)
    if missing:
        raise ValueError(f"a bound has dimensions its value lacks: {sorted(missing)}")
    order = [d for d in value.dims if d in bound.dims]
    shape = [bound.sizes[d] if d in bound.dims else 1 for d in value.dims]
    return bound.transpose(*order).values.reshape(shape)


def _label(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _schemes(ds: xr.Dataset, keep: Callable[[str, str], bool]) -> list[str]:
    """The schemes whose type and guarantee ``keep`` accepts (read from the arrays: a
    Dataset selection per scheme cost more than the checks)."""
    kinds = zip(ds["scheme"].values, ds["scheme_type"].values, ds["scheme_guarantee"].values,
                strict=True)
    return [str(s) for s, kind, guarantee in kinds if keep(str(kind), str(guarantee))]


def _pension_bounds(ds: xr.Dataset) -> list[Finding]:
    """Pensions of each kind, a person's own pensions, and her survivor's pension with a
    dependant's supplement of each kind, never exceed the population of the
    beneficiaries' age and sex."""
    if "pensions_by_age" not in ds:
        return []
    pensions, pop = _with_values(ds["pensions_by_age"], "scheme"), ds["population"]
    axis = pensions.get_axis_num("pension")
    bound = np.take(_aligned(pop, pensions), 0, axis=axis)
    labels = list(pensions["pension"].values)

    def kinds(*names: str) -> np.ndarray:
        """The pensions of those kinds added up (a NaN stays NaN, and nonfinite_findings
        names it)."""
        return np.sum([np.take(pensions.values, labels.index(k), axis=axis)
                       for k in names], axis=0)

    def beyond(check: str, values: np.ndarray, kind: int | None = None) -> list[Finding]:
        """exceeding, the DataArray (of one ``kind``, which the finding names, or a sum
        of kinds) built only when a cell may fail."""
        if not may_exceed(values, bound):
            return []
        value = (pensions.isel(pension=0, drop=True).copy(data=values) if kind is None
                 else pensions.isel(pension=kind))
        return exceeding(check, value, pop, "pensions_by_age")

    findings = []
    for i, kind in enumerate(labels):
        findings += beyond("pensions of a kind above the population of their age and sex",
                           kinds(kind), i)
    survivors = kinds("spouse", "orphan")
    findings += beyond("own pensions (old age and disability) above the population",
                       kinds("old_age", "disability"))
    findings += beyond("survivors' pensions (one a person) above the population", survivors)
    for kind in ("dependent_spouse", "dependent_child"):
        dependants = kinds(kind) if kind in labels else None
        if dependants is not None and np.any(dependants != 0):
            findings += beyond(f"survivors' pensions and {kind.replace('_', ' ')}s' "
                               "supplements (one a person) above the population",
                               survivors + dependants)
    return findings


def _with_values(values: xr.DataArray, dim: str) -> xr.DataArray:
    """``values`` at the labels of ``dim`` where any value is not zero (NaN included): a
    scheme's zero cells are within every non-negative bound, and a negative bound fails
    the signs' check. The pensions' array has a cell for every scheme, most of them zero,
    and checking them all cost more than the rest of the checks."""
    axes = tuple(i for i in range(values.ndim) if values.dims[i] != dim)
    return values.isel({dim: np.flatnonzero(values.values.any(axis=axes))})


def _unemployed(ds: xr.Dataset) -> xr.DataArray:
    """Unemployed persons by (year, age, sex): the micro engine's own simulated ones, or
    the labour projection's."""
    if "persons_by_status" in ds:
        return ds["persons_by_status"].sel(status="unemployed")
    return ds["labour_force"] - ds["employed"]


def _benefit_bounds(ds: xr.Dataset) -> list[Finding]:
    """Contributors within their population, unemployment insurance within the
    unemployed, maternity benefits within births and women, every other rule-paid benefit
    within the population of its cell (maternity also pays the year's immigrant mothers,
    outside the cells), and the covered within each target group."""
    pop = ds["population"]
    findings = exceeding("contributors above the population", ds["contributors"], pop)
    if ds.attrs.get("engine") == "cohort":
        findings += exceeding("contributors above the employed", ds["contributors"],
                              ds["employed"])
    rule_paid = _schemes(ds, lambda kind, guarantee: kind != "db_old_age_pension"
                         and guarantee != "maternity")
    if rule_paid:
        findings += exceeding("beneficiaries of a benefit above the population of their "
                              "age and sex", ds["beneficiaries"].sel(scheme=rule_paid), pop)
    unemployment = _schemes(ds, lambda kind, _: kind == "unemployment_insurance")
    if unemployment:
        findings += exceeding("unemployment insurance beneficiaries above the unemployed",
                              ds["beneficiaries"].sel(scheme=unemployment), _unemployed(ds))
    maternity = _schemes(ds, lambda _, guarantee: guarantee == "maternity")
    if maternity:
        mothers = ds["beneficiaries"].sel(scheme=maternity)
        findings += exceeding("maternity benefits paid to men", mothers.sel(sex="male"), 0.0)
        findings += exceeding("maternity benefits (all schemes) above the births",
                              mothers.sum(("age", "sex", "scheme")), ds["births"].sum("sex"),
                              "beneficiaries")
    findings += _mothers_are_the_births(ds)
    findings += exceeding("persons covered above the guarantee's target group",
                          ds["coverage_covered"], ds["coverage_target"])
    findings += exceeding("a guarantee's target group above the population",
                          ds["coverage_target"], pop.sum("age"))
    findings += exceeding("new pensions above the pensions in payment",
                          ds["new_beneficiaries"], ds["beneficiaries_by_branch"].sel(
                              branch=["old_age", "disability"]).sum("branch"))
    return findings


def _mothers_are_the_births(ds: xr.Dataset) -> list[Finding]:
    """Every birth of the year has one mother in the maternity guarantee's target group:
    a resident who gives birth, or a woman who immigrates and gives birth during the year
    (engine.benefits.arriving_mothers; the micro engine's flagged mothers)."""
    mothers = ds["coverage_target"].sel(guarantee="maternity").sum("sex")
    births = ds["births"].sum("sex")
    return (exceeding("mothers of newborns above the births", mothers, births)
            + exceeding("mothers of newborns below the births", mothers, births, floor=True))


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
            findings += _beyond(ds, name, 0.0, "a count or flow below zero", floor=True)
    for name in SHARES:
        if name in ds:
            findings += _beyond(ds, name, 0.0, "a share below zero", floor=True)
            findings += _beyond(ds, name, 1.0, "a share above one")
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
