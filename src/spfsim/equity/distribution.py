"""Distributional helpers: gender gaps and weighted percentiles within a cohort.

Both are pure numpy and vectorised; the micro engine passes per-person values with their
weights (or histogrammed values with their counts), the cohort engine group totals.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["gender_gap", "weighted_percentiles"]


def gender_gap(male: ArrayLike, female: ArrayLike) -> float | np.ndarray:
    """Gender gap (male - female) / male, as a fraction (0.25 = women 25 % below men).

    For coverage rates, average pensions, replacement rates and the like (any positive
    indicator, same units for both sexes). Negative when women are above men. NaN-safe:
    NaN where ``male`` is 0 or either input is NaN, never a warning. Broadcasts.
    """
    m = np.asarray(male, dtype=float)
    f = np.asarray(female, dtype=float)
    m, f = np.broadcast_arrays(m, f)
    ok = (m != 0.0) & np.isfinite(m) & np.isfinite(f)
    out = np.full(m.shape, np.nan)
    np.divide(m - f, m, out=out, where=ok)
    return float(out) if out.ndim == 0 else out


def _percentile_inputs(values: ArrayLike, weights: ArrayLike,
                       q: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values, weights broadcast to them and percentages, checked, as float arrays."""
    v = np.asarray(values, dtype=float)
    if v.ndim == 0:
        raise ValueError("values need at least one axis")
    w = np.broadcast_to(np.asarray(weights, dtype=float), v.shape)
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite and >= 0")
    qa = np.asarray(q, dtype=float)
    if np.any(~np.isfinite(qa)) or np.any((qa < 0) | (qa > 100)):
        raise ValueError("q must be percentages in [0, 100]")
    return v, w, qa


def weighted_percentiles(values: ArrayLike, weights: ArrayLike, q: ArrayLike, *,
                         axis: int = -1,
                         method: Literal["midpoint", "inverted_cdf"] = "midpoint"
                         ) -> float | np.ndarray:
    """Weighted percentiles of ``values`` along ``axis``; ``q`` in percent (0..100).

    ``weights`` (>= 0, e.g. population weights or histogram counts) broadcast against
    ``values``; entries with zero weight or a NaN value are ignored. Sorting the valid
    values x_1 <= ... <= x_n with weights w_i, W = sum w_i, S_i = w_1 + ... + w_i:

    * ``"midpoint"`` (default): x_i sits at cumulative position p_i = (S_i - w_i / 2) / W,
      the centre of its weight; the percentile interpolates linearly between those points
      and is x_1 below p_1, x_n above p_n. With equal weights this is numpy's
      ``method="hazen"`` (p_i = (i - 1/2) / n); an entry of weight k acts as k equal ones
      only approximately (the positions of the copies are spread out).
    * ``"inverted_cdf"``: the smallest x_i with S_i / W >= q / 100 (a step function; with
      integer weights, identical to repeating each value weight times, numpy's
      ``method="inverted_cdf"``).

    Returns an array of shape ``q.shape + values.shape`` without ``axis`` (a float when
    both are scalars); NaN where all weights are zero. Units: those of ``values``.
    """
    if method not in ("midpoint", "inverted_cdf"):
        raise ValueError(f"method must be 'midpoint' or 'inverted_cdf', not {method!r}")
    v, w, qa = _percentile_inputs(values, weights, q)
    frac = qa.reshape(-1) / 100.0

    v = np.moveaxis(v, axis, -1)
    w = np.moveaxis(w, axis, -1)
    lead = v.shape[:-1]
    n = v.shape[-1]
    v = v.reshape(-1, n)
    w = w.reshape(-1, n)
    rows = v.shape[0]

    invalid = np.isnan(v) | (w == 0.0)
    w = np.where(invalid, 0.0, w)
    # invalid entries sort last; their (zero) weights leave the positions of the rest alone
    order = np.lexsort((np.where(invalid, 0.0, v), invalid), axis=-1)
    sv = np.take_along_axis(v, order, axis=-1)
    sw = np.take_along_axis(w, order, axis=-1)
    n_valid = (~invalid).sum(axis=-1)
    total = sw.sum(axis=-1)
    cum = np.cumsum(sw, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = (cum - 0.5 * sw if method == "midpoint" else cum) / total[:, None]
    pos = np.where(np.arange(n) < n_valid[:, None], pos, np.inf)
    pos[total == 0] = np.inf

    # one searchsorted over all rows: offset row r by 3 r (positions lie in [0, 1] or inf)
    offset = 3.0 * np.arange(rows)
    flat = np.minimum(pos, 2.0) + offset[:, None]
    target = frac[:, None] + offset[None, :]  # (Q, rows)
    side = "right" if method == "midpoint" else "left"
    k = np.searchsorted(flat.reshape(-1), target.reshape(-1), side=side).reshape(target.shape)
    k = k - (np.arange(rows) * n)[None, :]
    last = np.maximum(n_valid - 1, 0)[None, :]
    r = np.broadcast_to(np.arange(rows)[None, :], k.shape)

    if method == "inverted_cdf":
        # positions may miss q by rounding (e.g. q = 1 and cum/W = 1 - 1e-16)
        out = sv[r, np.minimum(k, last)]
    else:
        hi = np.minimum(k, last)
        lo = np.maximum(np.minimum(k - 1, last), 0)
        p_lo = pos[r, lo]
        p_hi = pos[r, hi]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(hi > lo, (frac[:, None] - p_lo) / (p_hi - p_lo), 0.0)
        t = np.clip(t, 0.0, 1.0)
        out = sv[r, lo] + t * (sv[r, hi] - sv[r, lo])
    out = np.where((total > 0)[None, :], out, np.nan)
    out = out.reshape(qa.shape + lead)
    return float(out) if out.ndim == 0 else out
