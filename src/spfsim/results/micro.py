"""The micro engine's own variables: persons by status, and distributions within 5-year
birth cohorts of lifetime contributions, benefits, money's worth and net transfers
(ILC 2021 para. 15(c); docs/equity.md, "Within a cohort"). Attrs from the registry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from .registry import spec

if TYPE_CHECKING:
    from ..engine.micro.engine import MicroResult

LIFETIME_FLOWS = ("contributions", "benefits", "benefits_after_horizon")


def _array(name: str, data, coords: dict, ctx: Mapping[str, object]) -> xr.DataArray:
    s = spec(name)
    return xr.DataArray(data, dims=s.dims, coords={k: v for k, v in coords.items()
                                                   if k in s.dims},
                        attrs=s.attrs(ctx))


def micro_status_variable(result: MicroResult, ctx: Mapping[str, object]) -> xr.DataArray:
    """Simulated persons by labour and pension status (micro engine only)."""
    from ..engine.micro.engine import STATUS_COUNTS

    return _array("persons_by_status", result.labour_status,
                  {"status": list(STATUS_COUNTS)}, ctx)


def family_variables(result: MicroResult, ctx: Mapping[str, object]
                     ) -> dict[str, xr.DataArray]:
    """Persons by family status and event, and households by size (micro engine with
    families; none without)."""
    from ..engine.micro import families as F

    if result.family is None:
        return {}
    statuses = {"partnered": F.F_PARTNERED, "living_with_parent": F.F_WITH_PARENT}
    events = {"partnership_formed": F.F_FORMED, "separation": F.F_SEPARATED,
              "partner_died_or_left": F.F_WIDOWED, "left_parental_home": F.F_LEFT_HOME}
    coords = {"family_status": list(statuses), "family_event": list(events),
              "household_size": np.arange(1, F.N_SIZES + 1)}
    return {
        "persons_by_family_status": _array(
            "persons_by_family_status", result.family[..., list(statuses.values())], coords,
            ctx),
        "family_events": _array("family_events", result.family[..., list(events.values())],
                                coords, ctx),
        "households_by_size": _array("households_by_size", result.households, coords, ctx)}


def poverty_variables(result: MicroResult, ctx: Mapping[str, object]
                      ) -> dict[str, xr.DataArray]:
    """Household poverty and inequality by year (engine.micro.poverty; none when the run
    did not measure them)."""
    from ..engine.micro import poverty as P

    measured = result.poverty
    if measured is None:
        return {}
    coords = {"income_stage": list(P.STAGES), "age_group": list(P.AGE_GROUPS)}
    persons, poor, gaps = measured["persons"], measured["poor"], measured["gaps"]
    before, after = (gaps[:, P.STAGES.index(stage)].sum(axis=(1, 2))
                     for stage in ("before_floor", "disposable"))
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = poor / persons[:, None]
        closed = np.where(before > 0, 1.0 - after / before, np.nan)
    return {name: _array(name, values, coords, ctx) for name, values in (
        ("poverty_population", persons), ("persons_in_poverty", poor),
        ("poverty_rate", rate), ("poverty_gap", gaps),
        ("poverty_gap_closed_by_floor", closed),
        ("household_poverty_line", measured["line"]),
        ("gini_equivalised_income", measured["gini"]),
        ("median_equivalised_income", measured["median"]))}


def lifetime_variables(result: MicroResult, ctx: Mapping[str, object],
                       pension_complete: xr.DataArray | None = None
                       ) -> dict[str, xr.DataArray]:
    """Distributions within 5-year birth cohorts, by sex (micro engine only): lifetime
    contributions and benefits of those who died during the projection, and each person's
    money's worth ratio and net transfer in the pension scheme. ``pension_complete``: the
    pension's ``cohort_complete`` (cohort,), to flag the groups made of complete cohorts."""
    from ..engine.micro import kernels
    from ..engine.micro.engine import QUANTILES, asinh_histogram_quantiles, histogram_quantiles

    edges = kernels.lifetime_bin_edges()
    first = result.first_birth_year + kernels.COHORT_GROUP * np.arange(
        result.lifetimes.shape[0])
    coords = {"birth_cohort": first, "quantile": list(QUANTILES), "flow": list(LIFETIME_FLOWS)}
    variables = {
        f"lifetime_{kind}_at_death": _array(
            f"lifetime_{kind}_at_death",
            histogram_quantiles(result.lifetimes[:, :, k], edges), coords, ctx)
        for k, kind in enumerate(("contributions", "benefits"))}
    variables["deaths_by_birth_cohort"] = _array(
        "deaths_by_birth_cohort", result.lifetimes[:, :, 0].sum(axis=-1), coords, ctx)
    if result.exits is None:
        return variables
    variables["money_worth_ratio_by_person"] = _array(
        "money_worth_ratio_by_person", asinh_histogram_quantiles(
            result.exits[:, :, kernels.EXIT_RATIO], kernels.RATIO_UNIT), coords, ctx)
    variables["net_transfer_by_person"] = _array(
        "net_transfer_by_person", asinh_histogram_quantiles(
            result.exits[:, :, kernels.EXIT_NET], kernels.NET_UNIT), coords, ctx)
    variables["lifetime_members"] = _array(
        "lifetime_members", result.exits[:, :, kernels.EXIT_NET].sum(axis=-1), coords, ctx)
    variables["lifetime_pv"] = _array("lifetime_pv", result.exit_totals, coords, ctx)
    if pension_complete is not None:
        cohorts = pension_complete["cohort"].values
        in_group = (cohorts >= first[:, None]) & (cohorts < first[:, None] + kernels.COHORT_GROUP)
        flags = in_group.any(axis=1) & ~(in_group & ~pension_complete.values).any(axis=1)
        variables["birth_cohort_complete"] = _array("birth_cohort_complete", flags, coords,
                                                    ctx)
    return variables
