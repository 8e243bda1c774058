"""Global (Sobol) sensitivity analysis over the ranges of the one-at-a-time tests.

Where the one-at-a-time tests (:mod:`.sensitivity`) move one assumption with the others as
assumed, the global analysis moves them all together: each assumption of the declared
ranges is taken as uniform between its low and high value, independently of the others;
points of this box are drawn by Saltelli's design on a scrambled Sobol sequence, the model
is projected at each point with every assumption moved at once
(:func:`~.sensitivity.joint_variant_assumptions`, held from the year after the base year as
in the one-at-a-time tests), and the variance of a measure is apportioned among the
assumptions (Saltelli et al. 2010 estimators, 95 % bootstrap confidence intervals):

- the **first-order index** S1 of an assumption is the share of the measure's variance that
  the assumption explains alone (the variance of the measure's mean given the assumption);
- the **total index** ST is the share the measure would lose were the assumption fixed:
  its first-order effect and every interaction with the others. ST >= S1 up to sampling
  error; the S1 sum to 1 when the measure is additive in the assumptions, ST - S1 is what
  interactions add.

The measures are the actuarial balance and the depletion year of each funded scheme. A
reserve that lasts the horizon has no depletion year; for the indices it counts as depleted
in the year after the last projection year (``end_year + 1``): the analysis then
apportions the variance of min(depletion year, end_year + 1), and an assumption that only
moves depletion beyond the horizon shows no effect. A measure that does not vary over the
sample (every point depletes in the same year, or never) has no variance to apportion: its
indices are NaN. Schemes without a fund have NaN indices.

The sampler and estimators are SALib's (``SALib.sample.sobol``, ``SALib.analyze.sobol``),
an optional dependency: ``pip install 'spfsim[stochastic]'``. With N base samples and D
assumptions the design has N (D + 2) points; points that coincide (an assumption whose range
has zero width) are projected once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import xarray as xr

from ..errors import SpfsimError
from ..params import Assumptions
from ..params.stochastic import SENSITIVITY_UNITS
from .run import DrawResults, allocate, blocks_on_workers, project_draw
from .sensitivity import BOUNDS, joint_variant_assumptions
from .summary import describe

#: the measures whose variance is apportioned, per funded scheme
MEASURES = ("actuarial_balance", "depletion_year")
#: the confidence level of the bootstrap intervals and the number of bootstrap resamples
CONF_LEVEL, RESAMPLES = 0.95, 100
#: the fewest base samples N accepted (a power of two, as the Sobol sequence needs)
MIN_SAMPLES = 4
INDICES = ("sobol_first_order", "sobol_first_order_conf", "sobol_total", "sobol_total_conf")
INSTALL = "pip install 'spfsim[stochastic]'"
#: the most points in one Dask task (each worker gets at least four tasks)
BLOCK = 50


def _salib():
    """SALib's Sobol sampler and analysis (an optional dependency)."""
    try:
        from SALib.analyze import sobol as analyze
        from SALib.sample import sobol as sample
    except ImportError as exc:
        raise SpfsimError(f"the global (Sobol) sensitivity analysis needs SALib: {INSTALL}"
                          ) from exc
    return sample, analyze


def _unit_problem(names: Sequence[str]) -> dict:
    """SALib's problem on the unit cube: the scaling to each range is done here, so that a
    range of zero width (which SALib refuses) is simply a constant assumption."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def check_design(ranges: Mapping[str, tuple[float, float]], samples: int, seed: int) -> None:
    """Refuse an empty set of ranges, an unknown assumption, a number of base samples that
    is not a power of two of at least :data:`MIN_SAMPLES`, or a negative seed."""
    if not ranges:
        raise SpfsimError("no sensitivity ranges declared: add [stochastic.sensitivity] "
                          "(docs/stochastic.md)")
    unknown = [name for name in ranges if name not in SENSITIVITY_UNITS]
    if unknown:
        raise SpfsimError(f"unknown assumption {unknown[0]!r}; known: "
                          f"{list(SENSITIVITY_UNITS)}")
    if (isinstance(samples, bool) or not isinstance(samples, int | np.integer)
            or samples < MIN_SAMPLES or samples & (samples - 1)):
        raise SpfsimError(f"the Sobol analysis needs a number of base samples that is a "
                          f"power of two, {MIN_SAMPLES} or more (64, 128, ...), not {samples!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SpfsimError(f"the Sobol analysis needs a seed that is a whole number >= 0, "
                          f"not {seed!r}")


def sample_points(ranges: Mapping[str, tuple[float, float]], samples: int,
                  seed: int) -> np.ndarray:
    """(point, assumption) values of Saltelli's design without second-order terms: for each
    of ``samples`` base samples, a point of matrix A, one of A with each column in turn
    taken from B, and one of B (N (D + 2) points, SALib's order); a scrambled Sobol
    sequence (keyed by ``seed``) on the unit cube, scaled to each range: uniform between
    its two values."""
    check_design(ranges, samples, seed)
    sample, _ = _salib()
    names = list(ranges)
    unit = sample.sample(_unit_problem(names), int(samples), calc_second_order=False,
                         scramble=True, seed=int(seed))
    low = np.array([float(ranges[n][0]) for n in names])
    high = np.array([float(ranges[n][1]) for n in names])
    return low + unit * (high - low)


def sobol_indices(names: Sequence[str], outputs: np.ndarray, seed: int
                  ) -> dict[str, np.ndarray]:
    """First-order and total indices, with the half-widths of their confidence intervals
    (:data:`CONF_LEVEL`, :data:`RESAMPLES` bootstrap resamples keyed by ``seed``), of each
    column of ``outputs`` (point[, output]): the model's values at the points of
    :func:`sample_points`, in its order. Returns :data:`INDICES` -> (output, assumption)
    arrays (one output: (assumption,)); NaN for an output that is not finite at every
    point or does not vary."""
    _, analyze = _salib()
    values = np.asarray(outputs, dtype=float)
    single = values.ndim == 1
    values = values.reshape(len(values), -1)
    d = len(names)
    if len(values) % (d + 2):
        raise ValueError(f"{len(values)} outputs are not N (D + 2) with D = {d}")
    out = {name: np.full((values.shape[1], d), np.nan) for name in INDICES}
    problem = _unit_problem(names)
    for k in range(values.shape[1]):
        y = values[:, k]
        if not np.all(np.isfinite(y)) or np.ptp(y) <= 1e-12 * max(1.0, np.abs(y).max()):
            continue
        # SALib takes a seed of 0 for none (an unseeded bootstrap): shift it by one
        result = analyze.analyze(problem, y, calc_second_order=False,
                                 num_resamples=RESAMPLES, conf_level=CONF_LEVEL,
                                 seed=int(seed) + 1)
        for name, key in zip(INDICES, ("S1", "S1_conf", "ST", "ST_conf"), strict=True):
            out[name][k] = result[key]
    return {name: v[0] for name, v in out.items()} if single else out


def sobol_dataset(a: Assumptions, ranges: Mapping[str, tuple[float, float]], samples: int,
                  seed: int = 0, attrs: dict | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  client=None) -> xr.Dataset:
    """The global sensitivity analysis of ``a`` over ``ranges`` (assumption -> (low,
    high), the one-at-a-time tests' ranges) with ``samples`` base samples (a power of two):

    - ``sobol_first_order``, ``sobol_total`` and their ``_conf`` half-widths (measure,
      assumption, scheme), :data:`MEASURES`; NaN for schemes without a fund;
    - ``value`` (assumption, bound): the ranges; ``point_value`` (point, assumption): the
      sample; ``actuarial_balance`` and ``depletion_year`` (point, scheme) at each point
      (the depletion year NaN when the reserve lasts the horizon; the indices count it as
      ``end_year + 1``).

    ``progress(done, total)`` after each projection (with ``client``, after each block).
    ``client``: a ``distributed.Client`` whose workers project blocks of the points (the
    same numbers, bitwise)."""
    check_design(ranges, samples, seed)
    names = list(ranges)
    points = sample_points(ranges, samples, seed)
    unique, inverse = np.unique(points, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    project = functools.partial(project_points, names=names)
    if client is None:
        out = project(a, unique, progress)
    else:
        out = blocks_on_workers(client, a, unique, project, None if progress is None else
                                lambda done: progress(done, len(unique)), BLOCK)
    end_year = int(out.years[-1])
    funded = out.funded
    balance = np.where(funded, out.measures["actuarial_balance"][inverse], np.nan)
    depletion = np.where(funded, out.measures["depletion_year"][inverse], np.nan)
    capped = np.where(funded & np.isnan(depletion), end_year + 1.0, depletion)
    shape = (len(MEASURES), len(names), len(out.schemes))
    indices = {name: np.full(shape, np.nan) for name in INDICES}
    for m, values in enumerate((balance, capped)):
        for name, v in sobol_indices(names, values, seed).items():
            indices[name][m] = v.T
    data = {name: (("measure", "assumption", "scheme"), v) for name, v in indices.items()}
    data["value"] = (("assumption", "bound"),
                     np.array([[float(x) for x in ranges[n]] for n in names]))
    data["point_value"] = (("point", "assumption"), points)
    data["actuarial_balance"] = (("point", "scheme"), balance)
    data["depletion_year"] = (("point", "scheme"), depletion)
    ds = xr.Dataset(data, coords={"measure": list(MEASURES), "assumption": names,
                                  "scheme": out.schemes, "bound": list(BOUNDS),
                                  "point": np.arange(len(points))},
                    attrs={**(attrs or {}), "base_year": int(out.years[0]),
                           "end_year": end_year, "samples": int(samples), "seed": int(seed),
                           "points": len(points), "projections": len(unique),
                           "distribution": "independent uniform over each [low, high]",
                           "design": "Saltelli, scrambled Sobol sequence, no second order",
                           "estimator": "Saltelli et al. 2010 (SALib.analyze.sobol)",
                           "conf_level": CONF_LEVEL, "bootstrap_resamples": RESAMPLES,
                           "depletion_beyond_horizon": end_year + 1,
                           "salib_version": _salib_version()})
    ds = describe(ds, str(ds.attrs.get("currency", "currency")), int(out.years[0]),
                  end_year, out.horizon, out.valuation_start)
    units = "; ".join(f"{n}: {SENSITIVITY_UNITS[n]}" for n in names)
    ds["value"].attrs.update(long_name="low and high deviation of the assumption (its "
                             "range, sampled uniformly)", units=units)
    ds["point_value"].attrs.update(long_name="deviation of each assumption at the point",
                                   units=units)
    ds["depletion_year"].attrs["long_name"] += (" at the point; the indices count a reserve "
                                                "lasting the horizon as depleted in "
                                                f"{end_year + 1}")
    ds["actuarial_balance"].attrs["long_name"] += " at the point"
    for coord, long_name in (("measure", "measure whose variance is apportioned"),
                             ("assumption", "assumption moved over its range"),
                             ("scheme", "scheme id in the model file"),
                             ("point", "point of the Saltelli design (SALib's order)"),
                             ("bound", "end of the assumption's range")):
        ds[coord].attrs["long_name"] = long_name
    return ds


def project_points(a: Assumptions, rows: np.ndarray, progress=None, *,
                   names: Sequence[str]) -> DrawResults:
    """The projections of ``a`` at the ``rows`` (point, assumption) of a design, every
    assumption of ``names`` moved at once (``progress(done, total)`` after each)."""
    out = allocate(a, len(rows))
    base_states: dict = {}  # every point starts from the same base year
    for k, row in enumerate(rows):
        project_draw(joint_variant_assumptions(a, dict(zip(names, row, strict=True))), out,
                     k, base_states)
        if progress is not None:
            progress(k + 1, len(rows))
    return out


def _salib_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("SALib")
    except PackageNotFoundError:  # importable without its metadata
        return "unknown"


def sobol_schemes(ds: xr.Dataset) -> list[str]:
    """The schemes of a Sobol Dataset with a fund (an actuarial balance at every point)."""
    balance = ds["actuarial_balance"]
    return [str(s) for s in ds["scheme"].values
            if bool(np.all(np.isfinite(balance.sel(scheme=s).values)))]


def sobol_summary_lines(ds: xr.Dataset) -> list[str]:
    """The design, and per funded scheme and measure each assumption's S1 and ST with their
    confidence half-widths, the largest total index first."""
    lines = [f"{ds.attrs.get('title', '')}: global (Sobol) sensitivity, {ds.attrs['samples']} "
             f"base samples, {ds.attrs['points']} points ({ds.attrs['projections']} "
             f"projections), seed {ds.attrs['seed']}"]
    for scheme in sobol_schemes(ds):
        for measure in ds["measure"].values:
            one = ds.sel(scheme=scheme, measure=measure)
            total = one["sobol_total"].values
            if np.all(np.isnan(total)):
                lines.append(f"  {scheme}, {measure}: does not vary over the sample")
                continue
            lines.append(f"  {scheme}, {measure}: S1, ST (+- {CONF_LEVEL:.0%} half-width)")
            for k in np.argsort(-np.nan_to_num(total, nan=-np.inf)):
                lines.append(
                    f"    {ds['assumption'].values[k]!s:<17} "
                    f"S1 {float(one['sobol_first_order'][k]):6.3f} "
                    f"+- {float(one['sobol_first_order_conf'][k]):.3f}, "
                    f"ST {float(one['sobol_total'][k]):6.3f} "
                    f"+- {float(one['sobol_total_conf'][k]):.3f}")
    return lines


__all__ = ["CONF_LEVEL", "INDICES", "MEASURES", "MIN_SAMPLES", "RESAMPLES", "check_design",
           "project_points", "sample_points", "sobol_dataset", "sobol_indices",
           "sobol_schemes",
           "sobol_summary_lines"]
