"""Write a projection's three outputs: netCDF dataset, Excel workbook, PNG figures."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .files import DATASET_FILE, FIGURES_DIR, WORKBOOK_FILE, figure_names

if TYPE_CHECKING:
    import xarray as xr

    from .background import Worker
    from .summary import HasInput

__all__ = ["DATASET_FILE", "FIGURES_DIR", "WORKBOOK_FILE", "figure_names", "output_paths",
           "prepare_figures", "refuse_existing", "write_outputs"]


def output_paths(out: Path, base_year: int, end_year: int, figures: bool = True) -> list[Path]:
    """Every file ``write_outputs`` writes under ``out`` (``figures``: with the figures)."""
    names = figure_names(base_year, end_year) if figures else []
    return [out / DATASET_FILE, out / WORKBOOK_FILE, *(out / FIGURES_DIR / n for n in names)]


def refuse_existing(out: Path, base_year: int, end_year: int, figures: bool = True) -> None:
    """Raise OutputExistsError naming the first output that already exists, if any."""
    from ..errors import OutputExistsError

    existing = [p for p in output_paths(out, base_year, end_year, figures) if p.exists()]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise OutputExistsError(f"output exists: {existing[0]}{more}; use --overwrite to "
                                "replace")


def prepare_figures() -> None:
    """Import matplotlib and load its fonts: what a figure helper does while it waits."""
    from .plots import warm_up

    warm_up()


def _render_figures(ds: xr.Dataset, names: list[str]) -> dict[str, bytes]:
    """The named standard figures as PNG bytes (a job for a helper: this module is light,
    so sending the job does not import matplotlib here)."""
    from .plots import render_pngs

    return render_pngs(ds, names)


def write_outputs(model: HasInput, ds: xr.Dataset, out: Path, overwrite: bool = False,
                  workers: Sequence[Worker] = (), figures: bool = True) -> list[Path]:
    """Write projection.nc, report.xlsx and figures/ under ``out``; return the paths.

    Refuses (OutputExistsError) before writing anything if a target exists and
    ``overwrite`` is False; each file is written atomically, the figures last.
    ``workers`` (:func:`spfsim.report.background.start_workers`): helpers that draw the
    figures, shared out among them, while this process writes the dataset and the workbook;
    without, the figures are drawn here. The files are the same either way. ``figures``
    false: the dataset and the workbook only (no helper is asked).
    """
    from .io import write_files, write_netcdf
    from .summary import describe_assumptions
    from .workbook import write_workbook

    base, end = int(ds.attrs["base_year"]), int(ds.attrs["end_year"])
    if not overwrite:
        refuse_existing(out, base, end, figures)
    names = figure_names(base, end) if figures else []
    helpers = list(workers) if names else []
    shares = [names[i::len(helpers)] for i in range(len(helpers))]
    for worker, share in zip(helpers, shares, strict=True):
        worker.submit(_render_figures, ds, share)
    out.mkdir(parents=True, exist_ok=True)
    write_netcdf(ds, out / DATASET_FILE, overwrite=overwrite)
    write_workbook(ds, out / WORKBOOK_FILE, assumptions_table=describe_assumptions(model),
                   overwrite=overwrite)
    if not names:
        return [out / DATASET_FILE, out / WORKBOOK_FILE]
    pngs: dict[str, bytes] = {}
    for worker in helpers:
        pngs.update(worker.result())
    missing = [name for name in names if name not in pngs]
    if missing:
        pngs.update(_render_figures(ds, missing))
    pictures = write_files(out / FIGURES_DIR, {name: pngs[name] for name in names}, overwrite)
    return [out / DATASET_FILE, out / WORKBOOK_FILE, *pictures]
