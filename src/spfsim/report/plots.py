"""Figures of a projection, drawn on :class:`matplotlib.figure.Figure` objects with Agg.

Nothing here imports :mod:`matplotlib.pyplot` or changes the global backend or rcParams, so
importing this module leaves an interactive session (or a notebook) as it was. Each function
returns a Figure with an Agg canvas; it displays inline in Jupyter and can be saved with
``fig.savefig(...)``. :func:`write_figures` writes the standard set as PNG files, atomically.
"""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from .dataset import check_single_projection, scheme_infos
from .io import atomic_write, check_writable
from .outputs import figure_names

__all__ = [
    "DPI",
    "cost_rate_figure",
    "population_pyramid",
    "reserve_ratio_figure",
    "write_figures",
]

#: Resolution of the PNG files (dots per inch).
DPI = 120

_TITLE_SIZE = 13
_LABEL_SIZE = 11
_TICK_SIZE = 10
_LEGEND_SIZE = 9


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained", facecolor="white")
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


def _schemes(ds: xr.Dataset, contributory_only: bool) -> list[tuple[int, str]]:
    """(position, legend label) of the schemes to draw."""
    return [(s.index, s.label) for s in scheme_infos(ds)
            if s.contributory or not contributory_only]


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
    check_single_projection(ds, ("population",), "the figure")
    years = [int(y) for y in ds["year"].values]
    if int(year) not in years:
        raise ValueError(f"year {year} is not in the projection ({years[0]}-{years[-1]})")
    pop = ds["population"].sel(year=int(year)).transpose("age", "sex")
    sexes = [str(s) for s in ds["sex"].values]
    if len(sexes) != 2:
        raise ValueError(f"a pyramid needs two sexes, the Dataset has {sexes}")
    left_sex, right_sex = ("male", "female") if set(sexes) == {"male", "female"} else sexes
    ages = ds["age"].values
    left = np.nan_to_num(pop.sel(sex=left_sex).values.astype(float))
    right = np.nan_to_num(pop.sel(sex=right_sex).values.astype(float))
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
    """
    check_single_projection(ds, ("paygo_cost_rate", "cost_to_gdp"), "the figure")
    years = ds["year"].values
    fig = _new_figure(13.0, 5.5)
    left, right = fig.subplots(1, 2)

    contributory = _schemes(ds, contributory_only=True)
    for i, label in contributory:
        left.plot(years, ds["paygo_cost_rate"].isel(scheme=i).transpose("year").values,
                  label=label, linewidth=2)
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

    for ax in (left, right):
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)
        if ax.has_data():
            ax.legend(fontsize=_LEGEND_SIZE)
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
    if contributory:
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.legend(fontsize=_LEGEND_SIZE)
    else:
        _no_data(ax, "no contributory scheme")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _style(ax, "Year", "Reserve ratio (reserve / annual expenditure)",
           "Reserve ratio, contributory schemes")
    fig.suptitle(_model_title(ds), fontsize=_TITLE_SIZE)
    return fig


def _save_png(fig: Figure, tmp: Path) -> None:
    fig.savefig(tmp, format="png", dpi=DPI, facecolor="white")


def write_figures(ds: xr.Dataset, folder: Path | str | os.PathLike[str],
                  overwrite: bool = False) -> list[Path]:
    """Write the standard figures as PNG files (``DPI`` = 120) into ``folder``; return paths.

    Files: ``population_pyramid_<base year>.png``, ``population_pyramid_<end year>.png``,
    ``cost_rates.png`` and ``reserve_ratio.png``. Every target is checked before anything is
    written: if any exists and ``overwrite`` is false,
    :class:`~spfsim.errors.OutputExistsError` is raised and nothing is written. The folder is
    created if missing (after all figures have been drawn). Each file is written atomically;
    if a later file fails, the files this call newly created are removed again (files it
    replaced under ``overwrite=True`` stay replaced).
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"not a folder: {folder}")
    years = ds["year"].values
    targets = [folder / name for name in figure_names(int(years[0]), int(years[-1]))]
    if folder.is_dir():
        check_writable(targets, overwrite)
    years = [int(y) for y in ds["year"].values]
    figures = [population_pyramid(ds, years[0])]
    if years[-1] != years[0]:
        figures.append(population_pyramid(ds, years[-1]))
    figures += [cost_rate_figure(ds), reserve_ratio_figure(ds)]

    folder.mkdir(parents=True, exist_ok=True)
    created: list[Path] = []
    try:
        for fig, target in zip(figures, targets, strict=True):
            existed = target.exists()
            atomic_write(target, functools.partial(_save_png, fig), overwrite=overwrite)
            if not existed:
                created.append(target)
    except BaseException:
        for path in created:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        raise
    return targets
