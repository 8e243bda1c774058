"""Sustainability and financing measures of every funded scheme, from a projection Dataset.

Analysis on the results contract: :func:`sustainability_variables` takes the Dataset of
one projection and returns a Dataset of the measures (ILC 2021 para. 15(a), (e): sound
actuarial evaluation of sustainability), by scheme, computed with the functions of
:mod:`spfsim.finance.methods` and :mod:`spfsim.finance.sustainability` on each scheme's
flows. Schemes without a fund (financed by the budget as benefits fall due) get NaN.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import numpy as np
import xarray as xr

from .fund import reserve_ratio
from .methods import general_average_premium, project_with_rate, scaled_premium
from .sustainability import (
    depletion,
    summarized_rates,
    trust_fund_ratio,
    unfunded_obligation_open_group,
)

FLOWS = ("contribution_income", "state_transfer", "investment_income", "benefit_expenditure",
         "admin_expenditure", "insured_earnings", "reserve")
#: Financing methods along the ``financing_method`` dimension of ``reserve_ratio_by_method``.
FINANCING_METHODS = ("scheme_rules", "paygo", "general_average_premium", "scaled_premium")


def committed_transfers(scheme: xr.Dataset) -> np.ndarray:
    """A scheme's state transfers (year,) less any deficit cover (``state_deficit_cover``,
    absent: none), currency per year: the income the state commits to whatever the
    deficit (shares of expenditure, per-beneficiary subsidies, its contribution).

    The financing measures (general average premium, scaled premium, summarized rates,
    actuarial balance, unfunded obligation, reserve paths by method) count these as other
    income but not the cover: the cover is the deficit they measure, paid by the state's
    guarantee, and counting it as income would show every guaranteed scheme balanced.
    """
    return _committed(np.asarray(scheme["state_transfer"].values, dtype=float),
                      np.asarray(scheme["state_deficit_cover"].values, dtype=float)
                      if "state_deficit_cover" in scheme.data_vars else None)


def _committed(transfers: np.ndarray, cover: np.ndarray | None) -> np.ndarray:
    """:func:`committed_transfers` on arrays of the same shape (cover None: none)."""
    return transfers if cover is None else transfers - cover


def initial_reserves(ds: xr.Dataset) -> np.ndarray:
    """(scheme,) reserve at the start of the first year (currency), from the fund identity
    F0 = F[0] - (C + G + I - B - E)[0]."""
    return _initial(_by_year_and_scheme(ds, FLOWS))


def _initial(columns: dict[str, np.ndarray]) -> np.ndarray:
    """:func:`initial_reserves` from the (year, scheme) values of ``FLOWS``."""
    first = {name: values[0] for name, values in columns.items()}
    net = (first["contribution_income"] + first["state_transfer"] + first["investment_income"]
           - first["benefit_expenditure"] - first["admin_expenditure"])
    return first["reserve"] - net


def _by_year_and_scheme(ds: xr.Dataset, names: Iterable[str]) -> dict[str, np.ndarray]:
    """The (year, scheme) values of the variables ``names``, as floats (plain NumPy: the
    measures run in every projection, and xarray's selections cost more than they do)."""
    return {name: np.asarray(ds.variables[name].transpose("year", "scheme").values,
                             dtype=float) for name in names}


def _reserve_at(rate: float | np.ndarray, flows: dict[str, np.ndarray], interest: np.ndarray,
                initial: float) -> np.ndarray:
    """End-of-year reserve (year,), currency, when contributions are ``rate`` x insured
    earnings, with the scheme's benefits, administration and committed state transfers."""
    return project_with_rate(rate, flows["benefit_expenditure"], flows["admin_expenditure"],
                             flows["insured_earnings"], interest, initial,
                             other_income=flows["committed_transfers"]).reserve


def valuation_start(ds: xr.Dataset) -> int:
    """The first year of the valuation period of ``ds``'s financing measures: its attr
    ``valuation_start_year`` (the model's ``[model] valuation_start``), else its first
    year."""
    return int(ds.attrs.get("valuation_start_year", ds["year"].values[0]))


def valuation_offset(years: np.ndarray, start: int) -> int:
    """The index of year ``start`` in ``years`` (ValueError when it is not one of them)."""
    offset = int(start) - int(years[0])
    if not 0 <= offset < len(years):
        raise ValueError(f"the valuation period's start {start} is not a projection year "
                         f"({int(years[0])}-{int(years[-1])})")
    return offset


def opening_reserve(reserve: np.ndarray, initial: float, offset: int) -> float:
    """The reserve at the start of year index ``offset`` (currency): ``initial`` (at the
    start of the first year) or the reserve at the end of the year before."""
    return float(initial) if offset == 0 else float(reserve[offset - 1])


def _period_measures(flows: dict[str, np.ndarray], interest: np.ndarray, initial: float,
                     horizon: int) -> dict[str, float]:
    """The summarized rates, actuarial balance, general average premium and open-group
    unfunded obligation of flows that start with the valuation period, ``initial`` the
    reserve at its start."""
    other = flows["committed_transfers"]
    income = flows["contribution_income"] + other
    b, e, s = flows["benefit_expenditure"], flows["admin_expenditure"], flows["insured_earnings"]
    rates = summarized_rates(income, b, e, s, interest, initial, horizon=horizon)
    return {
        "general_average_premium": general_average_premium(
            b, e, s, interest, initial_reserve=initial, other_income=other),
        "summarized_income_rate": rates.income_rate,
        "summarized_cost_rate": rates.cost_rate,
        "actuarial_balance": rates.actuarial_balance,
        "unfunded_obligation": unfunded_obligation_open_group(
            income, b, e, interest, initial, horizon=horizon).amount,
    }


def _yearly_measures(flows: dict[str, np.ndarray], years: np.ndarray, interest: np.ndarray,
                     initial: float, period: int) -> dict[str, np.ndarray]:
    """The measures by year over the whole projection, from the reserve at its start."""
    other = flows["committed_transfers"]
    b, e, s = flows["benefit_expenditure"], flows["admin_expenditure"], flows["insured_earnings"]
    gap = general_average_premium(b, e, s, interest, initial_reserve=initial,
                                  other_income=other)
    try:
        plan = scaled_premium(b, e, s, interest, period_length=period, initial_reserve=initial,
                              other_income=other)
        scaled, scaled_reserve = plan.rates, plan.reserve.reserve
    except ValueError:  # no constant rate keeps the reserve from falling in some period
        scaled = scaled_reserve = np.full(len(years), np.nan)
    # PAYG: contributions equal to each year's cost; a year without insured earnings
    # collects nothing whatever the rate, so its (undefined) rate is taken as 0
    with np.errstate(divide="ignore", invalid="ignore"):
        paygo = np.where(s > 0, (b + e) / s, 0.0)
    reserves = {
        "scheme_rules": flows["reserve"],
        "paygo": _reserve_at(paygo, flows, interest, initial),
        "general_average_premium": _reserve_at(gap, flows, interest, initial),
        "scaled_premium": scaled_reserve,
    }
    by_method = np.stack([reserve_ratio(reserves[m], b, e) for m in FINANCING_METHODS],
                         axis=-1)
    return {
        "reserve_ratio_by_method": by_method,
        "trust_fund_ratio": trust_fund_ratio(flows["reserve"], b, e, initial),
        # the scheme's own path: with the deficit cover it pays, the reserve never runs out
        "payable_share": depletion(years, flows["reserve"],
                                   flows["contribution_income"] + flows["state_transfer"], b, e,
                                   interest).payable_share,
        "scaled_premium": scaled,
    }


def sustainability_variables(ds: xr.Dataset, horizon: int = 75,
                             period_length: int = 10) -> xr.Dataset:
    """Per funded scheme: the trust fund ratio and the share of scheduled cost payable
    (year, scheme); the scaled premium with ``period_length``-year periods of equilibrium
    (reserve never decreasing; committed state transfers as other income) (year, scheme); the
    general average premium from the start of the valuation period to the end of the
    projection, and the summarized income and cost rates, actuarial balance (ending target
    fund: the following year's cost, or the last year's where the projection ends at the
    horizon) and open-group unfunded obligation over ``horizon`` years from that start,
    clipped to the projection (scheme), each with the reserve at that start (scheme). Units:
    fractions of insured earnings, currency for the obligation.

    The valuation period starts in ``ds.attrs["valuation_start_year"]`` (the model's
    ``[model] valuation_start``; absent: the first year), as the US Trustees value 2026-2100
    from a 2025 base year whose flows are history; the measures by year cover the whole
    projection from its initial reserve.

    ``reserve_ratio_by_method`` (year, scheme, financing_method): the reserve ratio (end-of-
    year reserve / the year's benefit and administrative expenditure, as the Dataset's
    ``reserve_ratio``) when contributions follow each of ``FINANCING_METHODS``: the scheme's
    own rules (the projected reserve), the PAYG cost rate of each year, the general average
    premium, and the scaled premium above; each projected with
    :func:`~spfsim.finance.methods.project_with_rate` from the initial reserve, with the
    projected state transfers other than a deficit cover as other income
    (:func:`committed_transfers`; ILC 2021 para. 15(e): optimal combination of financing
    mechanisms). The same income enters the premiums, summarized rates and obligation, so
    a scheme whose deficits the state guarantees shows the deficit it guarantees."""
    years = ds["year"].values
    start = valuation_offset(years, valuation_start(ds))
    horizon = min(int(horizon), len(years) - start)
    interest = np.asarray(ds["interest_rate"].values, dtype=float)
    columns = _by_year_and_scheme(ds, FLOWS)
    initial = _initial(columns)
    funded = (ds["scheme_kind"].values == "contributory") & (
        np.nansum(columns["insured_earnings"], axis=0) > 0)
    n_years, n_schemes = len(years), ds.sizes["scheme"]
    per_year = {k: np.full((n_years, n_schemes), np.nan)
                for k in ("trust_fund_ratio", "payable_share", "scaled_premium")}
    per_scheme = {k: np.full(n_schemes, np.nan)
                  for k in ("general_average_premium", "summarized_income_rate",
                            "summarized_cost_rate", "actuarial_balance",
                            "unfunded_obligation")}
    by_method = np.full((n_years, n_schemes, len(FINANCING_METHODS)), np.nan)
    committed = _committed(columns["state_transfer"], _by_year_and_scheme(
        ds, ["state_deficit_cover"])["state_deficit_cover"]
        if "state_deficit_cover" in ds.data_vars else None)  # every scheme at once
    for j in np.flatnonzero(funded):
        flows = {name: values[:, j] for name, values in columns.items()}
        flows["committed_transfers"] = committed[:, j]
        measures = _yearly_measures(flows, years, interest, float(initial[j]), period_length)
        measures.update(_period_measures(
            {name: value[start:] for name, value in flows.items()}, interest[start:],
            opening_reserve(flows["reserve"], float(initial[j]), start), horizon))
        by_method[:, j, :] = measures.pop("reserve_ratio_by_method")
        for name, value in measures.items():
            if name in per_year:
                per_year[name][:, j] = value
            else:
                per_scheme[name][j] = value
    return _as_dataset(per_year, per_scheme, by_method, ds, horizon, period_length)


def _as_dataset(per_year: dict, per_scheme: dict, by_method: np.ndarray, ds: xr.Dataset,
                horizon: int, period: int) -> xr.Dataset:
    money = ds["reserve"].attrs.get("units", "currency")
    first = valuation_start(ds)
    last = first + horizon - 1
    over = f"over {horizon} years ({first}-{last})"
    meta = {
        "trust_fund_ratio": ("fraction", "reserve at the start of the year / that year's "
                             "benefit and administrative expenditure"),
        "payable_share": ("fraction", "share of scheduled expenditure payable: 1 before the "
                          "depletion year, then from continuing non-interest income"),
        "scaled_premium": ("fraction", f"scaled premium: contribution rate of {period}-year "
                           "periods of equilibrium in which the reserve never decreases"),
        "general_average_premium": ("fraction", "general average premium from the start of "
                                    "the valuation period to the end of the projection, "
                                    "open group, with the reserve at that start"),
        "summarized_income_rate": ("fraction", f"summarized income rate {over}: (reserve at "
                                   "the start of the period + PV non-interest income, a "
                                   "deficit cover excluded) / PV insured earnings"),
        "summarized_cost_rate": ("fraction", f"summarized cost rate {over}, with an ending "
                                 "target fund of the following year's cost (the last year's "
                                 "where the projection ends with the period)"),
        "actuarial_balance": ("fraction", f"actuarial balance {over}: summarized income "
                              "rate - summarized cost rate"),
        "unfunded_obligation": (money, f"open-group unfunded obligation {over}: PV cost - PV "
                                "non-interest income (a deficit cover excluded) - "
                                "reserve at the start of the period, at that date"),
    }
    attrs = {name: {"units": units, "long_name": long_name}
             for name, (units, long_name) in meta.items()}
    attrs["actuarial_balance"]["horizon_years"] = horizon
    # the year whose cost sizes the ending target fund (the last year's stands in for the
    # following year's when the projection ends with the valuation period)
    attrs["summarized_cost_rate"]["ending_target_year"] = min(last + 1, int(ds["year"][-1]))
    data = {name: (("year", "scheme"), value, attrs[name]) for name, value in per_year.items()}
    data.update({name: (("scheme",), value, attrs[name]) for name, value in per_scheme.items()})
    data["reserve_ratio_by_method"] = (("year", "scheme", "financing_method"), by_method, {
        "units": "fraction", "long_name": (
            "reserve at end of year / that year's benefit and administrative expenditure "
            "(years of expenditure) when contributions follow: the scheme's own rates "
            "(scheme_rules, the projected reserve), each year's PAYG cost rate (paygo), the "
            "general average premium (general_average_premium) or the scaled premium of "
            f"{period}-year periods (scaled_premium); state transfers and the initial "
            "reserve as projected; NaN for schemes without a fund")})
    # one Dataset made with its attrs (each variable set on it afterwards was a merge), on
    # ds's own indexes of the years and schemes and one made once of the methods (pandas
    # takes 0.1-0.3 ms to index strings)
    methods = _methods()
    shared = ("year", "scheme")
    return xr.Dataset(data, coords=xr.Coordinates(
        {**{name: ds.variables[name].copy(deep=False) for name in shared},
         "financing_method": methods.variables["financing_method"].copy(deep=True)},
        indexes={**{name: ds.xindexes[name] for name in shared},
                 "financing_method": methods.xindexes["financing_method"]}))


@functools.cache
def _methods() -> xr.Coordinates:
    """The financing methods' coordinate, with its index (immutable, shared)."""
    return xr.Coordinates({"financing_method": (
        "financing_method", np.array(FINANCING_METHODS, dtype=object),
        {"long_name": "financing method of the contributions"})})
