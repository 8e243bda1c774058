"""One-at-a-time sensitivity tests: the model projected with one assumption at its low or
high value, the others as assumed, as an ILO actuarial valuation report shows them (a table
and a tornado chart of the effect on the actuarial balance and the depletion year).

A variant is a deterministic path of deviations, held from the year after the base year,
applied through the same :func:`~spfsim.stochastic.paths.drawn_assumptions` as a random
draw: mortality moves log m(x, t) of every age by ``value`` x (years since the base year),
fertility adds ``value`` children per woman to the TFR, migration ``value`` x the base
population a year, the economic rates ``value``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from ..params import AGES, Assumptions
from ..params.stochastic import (
    SENSITIVITY_UNITS,
    Autoregressive,
    FertilitySpec,
    StochasticSpec,
)
from .paths import DrawPaths, MortalityModel, drawn_assumptions
from .run import allocate, project_draw
from .summary import describe

BOUNDS = ("low", "high")
#: every age moves alike (the improvement method's model)
EVERY_AGE = MortalityModel(np.ones((len(AGES), 2)), np.zeros(2), np.zeros(2))
#: bounds wide enough never to cut a sensitivity test's TFR
OPEN_FERTILITY = FertilitySpec(Autoregressive(0.0, 0.0), 0.0, 20.0)


def variant_assumptions(a: Assumptions, assumption: str, value: float) -> Assumptions:
    """``a`` with one assumption moved by ``value`` (see the module docstring)."""
    return joint_variant_assumptions(a, {assumption: value})


def joint_variant_assumptions(a: Assumptions, values: Mapping[str, float]) -> Assumptions:
    """``a`` with every assumption of ``values`` moved by its value at once, each as in
    :func:`variant_assumptions` (a point of the global analysis, :mod:`.sobol`); an empty
    ``values`` leaves ``a`` as it is."""
    n = len(a.years)
    unknown = [name for name in values if name not in SENSITIVITY_UNITS]
    if unknown:
        raise ValueError(f"unknown assumption {unknown[0]!r}; known: "
                         f"{list(SENSITIVITY_UNITS)}")

    def held(value: float) -> np.ndarray:
        path = np.full((1, n), float(value))
        path[:, 0] = 0.0
        return path

    mortality = fertility = migration = None
    economy = {}
    for assumption, value in values.items():
        if assumption == "mortality":
            mortality = ((float(value) * np.arange(n, dtype=float))[None, :, None]
                         * np.ones((1, 1, 2)))
        elif assumption == "fertility":
            fertility = held(value)
        elif assumption == "migration":
            migration = held(value)
        else:
            economy[assumption] = held(value)
    paths = DrawPaths(np.zeros(1, dtype=np.int64), mortality, fertility, migration, economy)
    spec = StochasticSpec(fertility=OPEN_FERTILITY)
    return drawn_assumptions(a, spec, EVERY_AGE, paths, 0)


def sensitivity_dataset(a: Assumptions, ranges: dict[str, tuple[float, float]],
                        attrs: dict | None = None) -> xr.Dataset:
    """The baseline and, for each assumption of ``ranges``, its low and high variants:
    ``actuarial_balance``, ``general_average_premium`` and ``depletion_year`` (assumption,
    bound, scheme) with the ``baseline_`` values (scheme), the PAYG cost rate in the last
    year, and the ``value`` (assumption, bound) of each variant in its ``units``."""
    names = list(ranges)
    if not names:
        raise ValueError("no sensitivity tests declared: add [stochastic.sensitivity] "
                         "(docs/stochastic.md)")
    out = allocate(a, 1 + 2 * len(names))
    base_states: dict = {}  # every variant starts from the baseline's base year
    project_draw(a, out, 0, base_states)
    for i, name in enumerate(names):
        for b, value in enumerate(ranges[name]):
            project_draw(variant_assumptions(a, name, value), out, 1 + 2 * i + b, base_states)
    data = {}
    last_cost = out.series["paygo_cost_rate"][:, -1, :]
    for measure, values in (*out.measures.items(), ("final_paygo_cost_rate", last_cost)):
        data[f"baseline_{measure}"] = (("scheme",), values[0])
        data[measure] = (("assumption", "bound", "scheme"),
                         values[1:].reshape(len(names), 2, -1))
    data["value"] = (("assumption", "bound"), np.array([ranges[n] for n in names]))
    ds = xr.Dataset(data, coords={"assumption": names, "bound": list(BOUNDS),
                                  "scheme": out.schemes},
                    attrs={**(attrs or {}), "base_year": int(out.years[0]),
                           "end_year": int(out.years[-1])})
    funded = out.funded
    for name in list(data):
        if name != "value":
            ds[name] = ds[name].where(xr.DataArray(funded, dims="scheme"))
    ds = describe(ds, str(ds.attrs.get("currency", "currency")), int(out.years[0]),
                  int(out.years[-1]), out.horizon, out.valuation_start)
    ds["value"].attrs.update(
        long_name="deviation of the assumption in the variant",
        units="; ".join(f"{n}: {SENSITIVITY_UNITS[n]}" for n in names))
    return ds
