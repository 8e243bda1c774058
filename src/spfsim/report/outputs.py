"""Write a projection's three outputs: netCDF dataset, Excel workbook, PNG figures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .files import DATASET_FILE, FIGURES_DIR, WORKBOOK_FILE, figure_names

if TYPE_CHECKING:
    import xarray as xr

    from ..model import Model

__all__ = ["DATASET_FILE", "FIGURES_DIR", "WORKBOOK_FILE", "figure_names", "output_paths",
           "refuse_existing", "write_outputs"]


def output_paths(out: Path, base_year: int, end_year: int) -> list[Path]:
    """Every file ``write_outputs`` writes under ``out``."""
    return [out / DATASET_FILE, out / WORKBOOK_FILE,
            *(out / FIGURES_DIR / name for name in figure_names(base_year, end_year))]


def refuse_existing(out: Path, base_year: int, end_year: int) -> None:
    """Raise OutputExistsError naming the first output that already exists, if any."""
    from ..errors import OutputExistsError

    existing = [p for p in output_paths(out, base_year, end_year) if p.exists()]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise OutputExistsError(f"output exists: {existing[0]}{more}; use --overwrite to "
                                "replace")


def write_outputs(model: Model, ds: xr.Dataset, out: Path, overwrite: bool = False) -> list[Path]:
    """Write projection.nc, report.xlsx and figures/ under ``out``; return the paths.

    Refuses (OutputExistsError) before writing anything if a target exists and
    ``overwrite`` is False; each file is written atomically.
    """
    from .excel import write_workbook
    from .io import write_netcdf
    from .plots import write_figures
    from .summary import describe_assumptions

    if not overwrite:
        refuse_existing(out, int(ds.attrs["base_year"]), int(ds.attrs["end_year"]))
    (out / FIGURES_DIR).mkdir(parents=True, exist_ok=True)
    write_netcdf(ds, out / DATASET_FILE, overwrite=overwrite)
    write_workbook(ds, out / WORKBOOK_FILE, assumptions_table=describe_assumptions(model),
                   overwrite=overwrite)
    figures = write_figures(ds, out / FIGURES_DIR, overwrite=overwrite)
    return [out / DATASET_FILE, out / WORKBOOK_FILE, *figures]
