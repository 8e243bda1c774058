"""Figures of a projection, drawn on :class:`matplotlib.figure.Figure` objects with Agg.

Nothing here imports :mod:`matplotlib.pyplot` or changes the global backend or rcParams, so
importing this module leaves an interactive session (or a notebook) as it was. Each function
returns a :class:`ReportFigure`: a Figure with an Agg canvas that shows itself as a PNG
image in Jupyter (its ``_repr_png_``), whatever the backend and without ``%matplotlib
inline`` (IPython only knows how to show plain Figures once pyplot's inline backend is
running, and nothing here starts it), and can be saved with ``fig.savefig(...)``.
:func:`write_figures` writes the standard set as PNG files, atomically.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from .dataset import (
    check_single_projection,
    complete_cohort_mask,
    lump_sum_cost_rate,
    scheme_infos,
)
from .files import figure_names
from .io import check_writable, write_files
from .series import pyramid, years_of
from .workbook.cells import legend_names
from .workbook.equity import SHORT_TERM_TYPES

__all__ = [
    "COMPARISON_FIGURES",
    "DPI",
    "ReportFigure",
    "cohort_irr_figure",
    "comparison_cost_figure",
    "comparison_pngs",
    "comparison_reserve_figure",
    "cost_rate_figure",
    "population_pyramid",
    "render_pngs",
    "reserve_ratio_figure",
    "reserve_ratio_methods_figure",
    "standard_figures",
    "write_figures",
]

#: Resolution of the PNG files (dots per inch).
DPI = 120

_TITLE_SIZE = 13
_LABEL_SIZE = 11
_TICK_SIZE = 10
_LEGEND_SIZE = 9


class ReportFigure(Figure):
    """A matplotlib Figure that Jupyter (IPython's display) shows as a PNG image: in a
    notebook, in its executed copy (``image/png`` output) and in a console with rich
    display, with or without pyplot."""

    def _repr_png_(self) -> bytes:
        return png_bytes(self)


def _new_figure(width: float, height: float) -> ReportFigure:
    fig = ReportFigure(figsize=(width, height), dpi=DPI, layout="constrained",
                       facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def _model_title(ds: xr.Dataset) -> str:
    return str(ds.attrs.get("title", "spfsim projection"))


def _style(ax: Axes, xlabel: str, ylabel: str, title: str) -> None:
    ax.set_xlabel(xlabel, fontsize=_LABEL_SIZE)
    ax.set_ylabel(ylabel, fontsize=_LABEL_SIZE)
    ax.set_title(title, fontsize=_LABEL_SIZE + 1)
    ax.tick_params(labelsize=_TICK_SIZE)
    ax.grid(True, alpha=0.3)


def _percent_by_year(*axes: Axes) -> None:
    """Percentages from zero over whole years, with a legend where something is drawn."""
    for ax in axes:
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)
        if ax.has_data():
            ax.legend(fontsize=_LEGEND_SIZE)


def _reserve_axes(ax: Axes, drawn: bool, title: str) -> None:
    """A reserve-ratio panel's zero line, legend (or a 'no data' note), years and titles."""
    if drawn:
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.legend(fontsize=_LEGEND_SIZE)
    else:
        _no_data(ax, "no contributory scheme")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _style(ax, "Year", "Reserve ratio (reserve / annual expenditure)", title)


def _schemes(ds: xr.Dataset, contributory_only: bool) -> list[tuple[int, str]]:
    """(position, legend label) of the schemes to draw."""
    schemes = scheme_infos(ds)
    names = legend_names(schemes)
    return [(s.index, names[s.id]) for s in schemes if s.contributory or not contributory_only]


def _no_data(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes,
            fontsize=_LABEL_SIZE, color="0.4")


def _scale(maximum: float) -> tuple[float, str]:
    if maximum >= 1e7:
        return 1e6, "millions"
    if maximum >= 1e4:
        return 1e3, "thousands"
    return 1.0, "persons"


def population_pyramid(ds: xr.Dataset, year: int) -> Figure:
    """Population pyramid at 1 July of ``year``: persons by single year of age and sex.

    Males (first sex) to the left, females to the right; the axis is in persons, thousands or
    millions of persons depending on size (the label says which). Age 100 is the open group.
    Raises ``ValueError`` if ``year`` is not in the projection.
    """
    pop = pyramid(ds, year)
    left_sex, right_sex = (str(s) for s in pop["sex"].values)
    ages = pop["age"].values
    left = pop.sel(sex=left_sex).values
    right = pop.sel(sex=right_sex).values
    factor, unit = _scale(float(max(left.max(initial=0.0), right.max(initial=0.0))))

    fig = _new_figure(8.0, 7.5)
    ax = fig.add_subplot()
    ax.barh(ages, -left / factor, height=1.0, color="#3b75af", label=left_sex.capitalize())
    ax.barh(ages, right / factor, height=1.0, color="#d1605e", label=right_sex.capitalize())
    limit = max(float(np.max(left, initial=0.0)), float(np.max(right, initial=0.0))) / factor
    ax.set_xlim(-1.05 * limit if limit > 0 else -1, 1.05 * limit if limit > 0 else 1)
    ax.set_ylim(float(ages.min()) - 0.5, float(ages.max()) + 0.5)
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{abs(x):,g}"))
    total = float(left.sum() + right.sum())
    _style(ax, f"Population at 1 July ({unit})", "Age (years; 100 = 100 and over)",
           f"Population by age and sex, {int(year)} (total {total:,.0f} persons)")
    ax.legend(fontsize=_LEGEND_SIZE + 1, loc="upper right")
    fig.suptitle(_model_title(ds), fontsize=_TITLE_SIZE)
    return fig


def cost_rate_figure(ds: xr.Dataset) -> Figure:
    """Two panels over the years: PAYG cost rate of the contributory schemes (% of insured
    earnings) and cost of every scheme (% of GDP, with the total when there are several).

    For a scheme that pays lump sums (a pension's refunds of contributions,
    ``paygo_cost_rate_by_payment``) the left panel also draws the cost rate of its periodic
    benefits (dashed) and shades the lump sums above it, so a year in which the lump sums
    pause (the pensionable age rises and nobody reaches it) reads as such, not as a dip of
    the whole cost.
    """
    check_single_projection(ds, ("paygo_cost_rate", "cost_to_gdp"), "the figure")
    years = ds["year"].values
    fig = _new_figure(13.0, 5.5)
    left, right = fig.subplots(1, 2)

    contributory = _schemes(ds, contributory_only=True)
    for i, label in contributory:
        total = np.asarray(ds["paygo_cost_rate"].isel(scheme=i).transpose("year").values,
                           dtype=float)
        (line,) = left.plot(years, total, label=label, linewidth=2)
        lump = lump_sum_cost_rate(ds, i)
        if lump is None:
            continue
        periodic = total - lump
        left.plot(years, periodic, color=line.get_color(), linewidth=1.2, linestyle="--",
                  label=f"{label}: periodic benefits")
        left.fill_between(years, periodic, total, color=line.get_color(), alpha=0.25,
                          linewidth=0, label=f"{label}: lump sums (refunds)")
    if not contributory:
        _no_data(left, "no contributory scheme")
    _style(left, "Year", "PAYG cost rate (% of insured earnings)",
           "PAYG cost rate, contributory schemes")

    every = _schemes(ds, contributory_only=False)
    cost = ds["cost_to_gdp"].transpose("year", "scheme").values if every else None
    for i, label in every:
        right.plot(years, cost[:, i], label=label, linewidth=2)
    if len(every) > 1:
        right.plot(years, np.nansum(cost, axis=1), label="All schemes", color="black",
                   linewidth=2, linestyle="--")
    if not every:
        _no_data(right, "no scheme")
    _style(right, "Year", "Cost (% of GDP)", "Benefit and administrative expenditure")

    _percent_by_year(left, right)
    fig.suptitle(_model_title(ds), fontsize=_TITLE_SIZE)
    return fig


def reserve_ratio_figure(ds: xr.Dataset) -> Figure:
    """Reserve ratio of the contributory schemes over the years: end-of-year reserve divided by
    the year's benefit and administrative expenditure (a multiple, i.e. years of expenditure).
    A dashed vertical line marks each scheme's depletion year within the horizon.
    """
    check_single_projection(ds, ("reserve_ratio",), "the figure")
    years = ds["year"].values
    fig = _new_figure(9.0, 5.5)
    ax = fig.add_subplot()
    contributory = _schemes(ds, contributory_only=True)
    depletion = ds["depletion_year"].values if "depletion_year" in ds else None
    for i, label in contributory:
        (line,) = ax.plot(years, ds["reserve_ratio"].isel(scheme=i).transpose("year").values,
                          label=label, linewidth=2)
        if depletion is not None and np.isfinite(depletion[i]):
            ax.axvline(float(depletion[i]), color=line.get_color(), linestyle="--",
                       linewidth=1.2, label=f"{label}: reserve depleted {int(depletion[i])}")
    _reserve_axes(ax, bool(contributory), "Reserve ratio, contributory schemes")
    fig.suptitle(_model_title(ds), fontsize=_TITLE_SIZE)
    return fig


_METHOD_STYLES = {  # financing method -> (legend label, line style)
    "scheme_rules": ("scheme's own rates", "-"),
    "paygo": ("PAYG cost rate", "--"),
    "general_average_premium": ("general average premium", "-."),
    "scaled_premium": ("scaled premium", ":"),
}


def _panels(n: int, width: float = 9.0, height: float = 5.5) -> tuple[Figure, list[Axes]]:
    """A figure with ``n`` panels (at least one) side by side, up to two a row."""
    n = max(n, 1)
    cols = min(n, 2)
    rows = -(-n // cols)
    fig = _new_figure(width * cols, height * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def reserve_ratio_methods_figure(ds: xr.Dataset) -> Figure:
    """Reserve ratio (end-of-year reserve / the year's benefit and administrative
    expenditure, a multiple: years of expenditure) of each funded scheme when contributions
    follow each financing method of ``reserve_ratio_by_method``: the scheme's own rates,
    the PAYG cost rate, the general average premium and the scaled premium (ILC 2021
    para. 15(e)). One panel per funded scheme; one 'no data' panel when there is none or
    the Dataset lacks the variable.
    """
    check_single_projection(ds, (), "the figure")
    years = ds["year"].values
    ratio = ds.get("reserve_ratio_by_method")
    funded = [] if ratio is None else [
        (i, label) for i, label in _schemes(ds, contributory_only=True)
        if np.isfinite(ratio.isel(scheme=i).values).any()]
    fig, axes = _panels(len(funded))
    if not funded:
        _no_data(axes[0], "no funded scheme" if ratio is not None
                 else "no reserve ratios by financing method in the Dataset")
        _style(axes[0], "Year", "Reserve ratio (reserve / annual expenditure)",
               "Reserve ratio by financing method")
    for ax, (i, label) in zip(axes, funded, strict=False):
        by_method = ratio.isel(scheme=i)
        for method in (str(m) for m in by_method["financing_method"].values):
            name, style = _METHOD_STYLES.get(method, (method, "-"))
            ax.plot(years, by_method.sel(financing_method=method).transpose("year").values,
                    label=name, linestyle=style, linewidth=2)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _style(ax, "Year", "Reserve ratio (reserve / annual expenditure)",
               f"{label}: reserve ratio by financing method")
        ax.legend(fontsize=_LEGEND_SIZE)
    fig.suptitle(_model_title(ds), fontsize=_TITLE_SIZE)
    return fig


_SEX_COLOURS = {"male": "#3b75af", "female": "#d1605e"}


def cohort_irr_figure(ds: xr.Dataset) -> Figure:
    """Internal rate of return (annual rate) of each birth cohort, men and women, one
    panel per contributory scheme paying long-term benefits (pensions: ILC 2021 para.
    15(c), intergenerational equity; a short-term benefit's IRR swings to extremes on small
    flows and means little, its money's worth ratio is on the Equity sheet).
    Complete cohorts (``cohort_complete``: all their cash flows in the scheme within the
    projection) are drawn solid; the others, whose
    returns the horizon biases, dashed and faint; the axis is scaled to the complete cohorts
    (the others' extreme values run off it). One 'no data' panel when the Dataset has no
    cohort returns or no contributory scheme.
    """
    check_single_projection(ds, (), "the figure")
    present = {"cohort_irr", "cohort_complete"} <= set(ds.data_vars) and "cohort" in ds.dims
    long_term = {s.index for s in scheme_infos(ds) if s.type not in SHORT_TERM_TYPES}
    schemes = [(i, label) for i, label in _schemes(ds, contributory_only=True)
               if i in long_term] if present else []
    fig, axes = _panels(len(schemes))
    if not schemes:
        _no_data(axes[0], "no contributory pension scheme" if present
                 else "no cohort returns in the Dataset")
        _style(axes[0], "Birth cohort", "Internal rate of return (per year)",
               "Internal rate of return by birth cohort")
        fig.suptitle(_model_title(ds), fontsize=_TITLE_SIZE)
        return fig
    cohorts = ds["cohort"].values
    for ax, (i, label) in zip(axes, schemes, strict=True):
        complete = complete_cohort_mask(ds, i)
        irr = ds["cohort_irr"].isel(scheme=i)
        for sex in (str(s) for s in ds["sex"].values):
            values = np.asarray(irr.sel(sex=sex).transpose("cohort").values, dtype=float)
            colour = _SEX_COLOURS.get(sex)
            ax.plot(cohorts, np.where(complete, values, np.nan), color=colour,
                    linewidth=2, label=f"{sex.capitalize()}")
            ax.plot(cohorts, np.where(complete, np.nan, values), color=colour,
                    linewidth=1, linestyle="--", alpha=0.5,
                    label=f"{sex.capitalize()}, incomplete cohorts (biased)")
        if not np.isfinite(irr.values).any():
            _no_data(ax, "no cohort returns for this scheme")
        shown = irr.transpose("cohort", ...).values[complete]
        shown = shown[np.isfinite(shown)]
        if shown.size:
            # the truncated cohorts' returns run to extremes (docs/equity.md, section 3):
            # scale the axis to the complete cohorts so that their returns can be read
            low, high = float(shown.min()), float(shown.max())
            pad = max(0.5 * (high - low), 0.02)
            ax.set_ylim(low - pad, high + pad)
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _style(ax, "Birth cohort", "Internal rate of return (per year)",
               f"{label}: IRR by birth cohort ({int(complete.sum())} complete cohorts)")
        ax.legend(fontsize=_LEGEND_SIZE)
    fig.suptitle(_model_title(ds), fontsize=_TITLE_SIZE)
    return fig


def standard_figures(ds: xr.Dataset) -> dict[str, Callable[[], Figure]]:
    """The figures :func:`write_figures` writes, by file name (:func:`.files.figure_names`),
    each a call that draws it with the functions above (those of ``ds.spf.plot``)."""
    years = years_of(ds)
    draw: dict[str, Callable[[], Figure]] = {
        f"population_pyramid_{y}.png": functools.partial(population_pyramid, ds, y)
        for y in dict.fromkeys((years[0], years[-1]))}
    draw.update({"cost_rates.png": functools.partial(cost_rate_figure, ds),
                 "reserve_ratio.png": functools.partial(reserve_ratio_figure, ds),
                 "reserve_ratio_methods.png": functools.partial(reserve_ratio_methods_figure,
                                                                ds),
                 "cohort_irr.png": functools.partial(cohort_irr_figure, ds)})
    # by name, so the order of figure_names does not matter
    return {name: draw[name] for name in figure_names(years[0], years[-1])}


def png_bytes(fig: Figure) -> bytes:
    """A figure as a PNG file (``DPI`` dots per inch, white background), in memory."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def render_pngs(ds: xr.Dataset, names: Iterable[str] | None = None) -> dict[str, bytes]:
    """The standard figures (those named, or all) drawn and encoded as PNG files in memory,
    by file name. Every figure is drawn before any is returned, so a failure leaves none."""
    makers = standard_figures(ds)
    wanted = list(makers) if names is None else list(names)
    return {name: png_bytes(makers[name]()) for name in wanted}


def check_figure_targets(ds: xr.Dataset, folder: Path, overwrite: bool = False) -> None:
    """Raise before drawing if the figures cannot be written to ``folder``: not a folder, or
    (``overwrite`` false) one of the files exists (:class:`~spfsim.errors.OutputExistsError`)."""
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"not a folder: {folder}")
    years = years_of(ds)
    if folder.is_dir():
        check_writable([folder / n for n in figure_names(years[0], years[-1])], overwrite)


def write_figures(ds: xr.Dataset, folder: Path | str | os.PathLike[str],
                  overwrite: bool = False) -> list[Path]:
    """Write the standard figures as PNG files (``DPI`` = 120) into ``folder``; return paths.

    Files: ``population_pyramid_<base year>.png``, ``population_pyramid_<end year>.png``,
    ``cost_rates.png``, ``reserve_ratio.png``, ``reserve_ratio_methods.png``
    (:func:`reserve_ratio_methods_figure`) and ``cohort_irr.png`` (:func:`cohort_irr_figure`;
    a 'no data' panel when the Dataset lacks the variables). Every target is checked
    before anything is written: if any exists and ``overwrite`` is false,
    :class:`~spfsim.errors.OutputExistsError` is raised and nothing is written. The folder is
    created if missing (after all figures have been drawn). Each file is written atomically;
    if a later file fails, the files this call newly created are removed again (files it
    replaced under ``overwrite=True`` stay replaced).
    """
    folder = Path(folder)
    check_figure_targets(ds, folder, overwrite)
    return write_files(folder, render_pngs(ds), overwrite)


# --------------------------------------------------------------------------- comparisons

_BASELINE, _REFORM, _DIFFERENCE = "#555555", "#c0392b", "#f5b041"


def _versus(ax: Axes, years: np.ndarray, base: np.ndarray, new: np.ndarray,
            label: str) -> None:
    """Baseline (dashed grey) and reform (solid) of one series, the gap between them
    shaded, so the difference the reform makes is what the eye meets first."""
    ax.plot(years, base, color=_BASELINE, linestyle="--", linewidth=1.5,
            label=f"{label}: baseline")
    (line,) = ax.plot(years, new, linewidth=2, label=f"{label}: reform")
    ax.fill_between(years, base, new, color=line.get_color(), alpha=0.25, linewidth=0,
                    label=f"{label}: difference")


def _changed(cmp: xr.Dataset, var: str, index: int) -> bool:
    diff = np.asarray(cmp[f"{var}_difference"].isel(scheme=index).values, dtype=float)
    return bool(np.nanmax(np.abs(diff), initial=0.0) > 0)


def comparison_cost_figure(cmp: xr.Dataset) -> Figure:
    """A reform against its baseline (a :func:`spfsim.scenarios.compare` Dataset), as
    :func:`cost_rate_figure` draws one projection: the PAYG cost rate of the contributory
    schemes the reform changes (% of insured earnings) and the cost of every changed scheme
    and of all schemes together (% of GDP); baseline dashed, reform solid, the difference
    shaded between them."""
    years = cmp["year"].values
    fig = _new_figure(13.0, 5.5)
    left, right = fig.subplots(1, 2)
    schemes = scheme_infos(cmp)
    changed = [s for s in schemes if _changed(cmp, "cost_to_gdp", s.index)
               or _changed(cmp, "paygo_cost_rate", s.index)]
    for s in (s for s in changed if s.contributory):
        rate = cmp["paygo_cost_rate"].isel(scheme=s.index).transpose("scenario", "year")
        _versus(left, years, rate.sel(scenario="baseline").values,
                rate.sel(scenario="reform").values, s.name)
    if not left.has_data():
        _no_data(left, "no contributory scheme changed")
    _style(left, "Year", "PAYG cost rate (% of insured earnings)",
           "PAYG cost rate, contributory schemes the reform changes")
    cost = cmp["cost_to_gdp"].transpose("scenario", "year", "scheme")
    for s in changed:
        _versus(right, years, cost.sel(scenario="baseline").values[:, s.index],
                cost.sel(scenario="reform").values[:, s.index], s.name)
    total = cost.sum("scheme")
    _versus(right, years, total.sel(scenario="baseline").values,
            total.sel(scenario="reform").values, "All schemes")
    _style(right, "Year", "Cost (% of GDP)", "Benefit and administrative expenditure")
    _percent_by_year(left, right)
    fig.suptitle(f"{cmp.attrs.get('reform_title', 'Reform')} against the baseline",
                 fontsize=_TITLE_SIZE)
    return fig


def comparison_reserve_figure(cmp: xr.Dataset) -> Figure:
    """The reserve ratio (reserve / annual expenditure) of the contributory schemes the
    reform changes (all of them when it changes none), baseline dashed, reform solid, the
    difference shaded; each depletion year marked (below zero: the accumulated
    shortfall)."""
    years = cmp["year"].values
    fig = _new_figure(9.0, 5.5)
    ax = fig.add_subplot()
    depletion = cmp["depletion_year"].transpose("scenario", "scheme")
    funded = [s for s in scheme_infos(cmp) if s.contributory]
    changed = [s for s in funded if _changed(cmp, "reserve_ratio", s.index)]
    for s in changed or funded:
        ratio = cmp["reserve_ratio"].isel(scheme=s.index).transpose("scenario", "year")
        _versus(ax, years, ratio.sel(scenario="baseline").values,
                ratio.sel(scenario="reform").values, s.name)
        for scenario, style in (("baseline", ":"), ("reform", "--")):
            year = float(depletion.sel(scenario=scenario).values[s.index])
            if np.isfinite(year):
                ax.axvline(year, color=_BASELINE if scenario == "baseline" else _REFORM,
                           linestyle=style, linewidth=1,
                           label=f"{s.name}: depleted {int(year)} ({scenario})")
    _reserve_axes(ax, ax.has_data(),
                  "Reserve ratio of the schemes the reform changes (below zero: accumulated "
                  "shortfall)" if changed else "Reserve ratio (below zero: accumulated "
                  "shortfall)")
    fig.suptitle(f"{cmp.attrs.get('reform_title', 'Reform')} against the baseline",
                 fontsize=_TITLE_SIZE)
    return fig


#: The figures ``spfsim compare --figures`` writes, by file name.
COMPARISON_FIGURES = {"cost_rates.png": comparison_cost_figure,
                      "reserve_ratio.png": comparison_reserve_figure}


def comparison_pngs(cmp: xr.Dataset) -> dict[str, bytes]:
    """The comparison figures (:data:`COMPARISON_FIGURES`) as PNG files in memory, by file
    name; every figure is drawn before any is returned."""
    return {name: png_bytes(draw(cmp)) for name, draw in COMPARISON_FIGURES.items()}
