"""Write a projection's three outputs: netCDF dataset, Excel workbook, PNG figures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .files import DATASET_FILE, FIGURES_DIR, WORKBOOK_FILE, figure_names

if TYPE_CHECKING:
    import xarray as xr

    from .summary import HasInput

__all__ = ["DATASET_FILE", "FIGURES_DIR", "WORKBOOK_FILE", "figure_names", "output_paths",
           "refuse_existing", "write_outputs"]


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


def write_outputs(model: HasInput, ds: xr.Dataset, out: Path, overwrite: bool = False,
                  figures: bool = True) -> list[Path]:
    """Write projection.nc, report.xlsx and (``figures``) figures/ under ``out``; return the
    paths.

    Refuses (OutputExistsError) before writing anything if a target exists and
    ``overwrite`` is False; each file is written atomically, the figures last.
    """
    from .io import write_files, write_netcdf
    from .summary import describe_assumptions
    from .workbook import write_workbook

    base, end = int(ds.attrs["base_year"]), int(ds.attrs["end_year"])
    if not overwrite:
        refuse_existing(out, base, end, figures)
    out.mkdir(parents=True, exist_ok=True)
    write_netcdf(ds, out / DATASET_FILE, overwrite=overwrite)
    write_workbook(ds, out / WORKBOOK_FILE, assumptions_table=describe_assumptions(model),
                   overwrite=overwrite)
    if not figures:
        return [out / DATASET_FILE, out / WORKBOOK_FILE]
    from .plots import render_pngs

    names = figure_names(base, end)
    pictures = write_files(out / FIGURES_DIR, render_pngs(ds, names), overwrite)
    return [out / DATASET_FILE, out / WORKBOOK_FILE, *pictures]
