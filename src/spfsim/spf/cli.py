"""The ``spfsim spf-cost`` command: its arguments and its body."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

__all__ = ["DEFAULT_OUT", "add_spf_cost_parser", "spf_cost_main"]

DEFAULT_OUT = "spfsim-output"


def add_spf_cost_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``spf-cost`` subcommand to the ``spfsim`` parser's subparsers."""
    cmd = sub.add_parser(
        "spf-cost", help="cost the four R202 guarantees for any country from WPP and macro data",
        description="Rapid costing of the basic social security guarantees of ILO "
        "Recommendation No. 202 (para. 5(a)-(d)) from UN WPP 2024 population and births and "
        "World Bank macro data; money in international $ at 2021 PPP. See docs/spf-costing.md.")
    cmd.add_argument("--country", required=True,
                     help="UN M49 code (288), ISO alpha-3 code (GHA), a comma-separated list "
                     "(288,566), or all")
    cmd.add_argument("--year", type=int, default=None,
                     help="costing year, 2020-2100 (default 2025)")
    cmd.add_argument("--levels", default=None,
                     help="TOML file overriding the default benefit levels")
    cmd.add_argument("--macro", default=None,
                     help="CSV of per-country macro inputs: country, gdp_per_capita, "
                     "poverty_line, government_revenue_share, poverty_headcount (any subset)")
    cmd.add_argument("--data", default=None,
                     help="reference data folder with wpp2024/ and social_protection/ "
                     "(default: $SPFSIM_DATA, ./shared/data or ../shared/data)")
    cmd.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default ./{DEFAULT_OUT})")
    cmd.add_argument("--store", default=None, metavar="STORE",
                     help="cost one country a Dask task into this zarr store (a folder): a run "
                     "stopped at any point and started again costs only the countries missing "
                     "(docs/spf-costing.md, 'As a batch')")
    cmd.add_argument("--workers", type=int, default=None,
                     help="with --store: local Dask worker processes (default: one a core; 0: "
                     "in this process)")
    cmd.add_argument("--scheduler", default=None, metavar="ADDRESS",
                     help="with --store: send the countries to this Dask scheduler")
    cmd.add_argument("--overwrite", action="store_true", help="replace existing output files")
    cmd.add_argument("--quiet", action="store_true", help="print only the summary")
    return cmd


def output_paths(out: Path, year: int) -> tuple[Path, Path]:
    """The netCDF and workbook paths of a costing year under ``out``."""
    return out / f"spf_cost_{year}.nc", out / f"spf_cost_{year}.xlsx"


def _cli_hint(exc: Exception) -> str:
    return str(exc).replace("pass overwrite=True to replace", "pass --overwrite to replace")


def _cost_as_batch(args: argparse.Namespace, year: int, progress):
    """Cost the countries one a case into ``--store`` (spfsim.spf.costing_batch); the
    costing Dataset, or None (the failures printed) when a country failed."""
    from ..batch.cli import dask_client, local_threads
    from ..batch.run import run_batch
    from ..batch.spec import costing_spec
    from .costing_batch import costing_from_store

    spec = costing_spec(args.country, year, args.levels, args.macro, args.data,
                        Path(args.store))
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=len(spec.axes["country"]), unit="country", file=sys.stderr)

    def advance(done: int, _total: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)

    with dask_client(args.scheduler, args.workers) as client:
        result = run_batch(spec, args.store, client, advance,
                           local_threads(args.scheduler, args.workers))
    if bar is not None:
        bar.close()
    progress(f"{len(result.computed)} countries costed, {len(result.skipped)} already in "
             f"{args.store}, {len(result.failed)} failed")
    if result.failed:
        for index, message in sorted(result.failed.items()):
            print(f"  country {spec.axes['country'][index]} failed: {message}")
        print(f"  nothing written to {args.out}: run the command again to cost the countries "
              "missing")
        return None
    return costing_from_store(args.store, spec)


def spf_cost_main(args: argparse.Namespace) -> int:
    """Run ``spfsim spf-cost``: cost, write ``spf_cost_<year>.nc`` and ``.xlsx``, summarise."""
    from ..errors import OutputExistsError, SpfsimError
    from ..report.io import check_writable, write_netcdf
    from .levels import load_levels
    from .macro import CountryCodes, load_macro_file
    from .population import check_year
    from .report import summary_lines, write_spf_workbook
    from .run import DEFAULT_YEAR, cost_floor

    started = time.perf_counter()

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr,
                  flush=True)

    # bad input fails before anything is computed or written
    year = check_year(DEFAULT_YEAR if args.year is None else args.year)
    levels = load_levels(args.levels)
    macro = load_macro_file(args.macro, CountryCodes.load()) if args.macro else None
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise SpfsimError(f"--out must be a folder, and {out} is a file")
    paths = output_paths(out, year)
    if out.is_dir():
        try:  # refuse before the costing, not after it
            check_writable(paths, args.overwrite)
        except OutputExistsError as exc:
            raise OutputExistsError(_cli_hint(exc)) from None
    progress(f"costing {args.country} for {year}")
    if args.store is None:
        if args.workers is not None or args.scheduler is not None:
            raise SpfsimError("--workers and --scheduler cost the countries as a batch: give "
                              "--store STORE as well")
        ds = cost_floor(args.country, year, levels, macro, args.data, progress)
    else:
        ds = _cost_as_batch(args, year, progress)
        if ds is None:
            return 1
    out.mkdir(parents=True, exist_ok=True)
    progress(f"writing outputs to {out}")
    try:
        check_writable(paths, args.overwrite)
        write_netcdf(ds, paths[0], overwrite=args.overwrite)
        write_spf_workbook(ds, levels, paths[1], overwrite=args.overwrite)
    except OutputExistsError as exc:
        raise OutputExistsError(_cli_hint(exc)) from None
    for line in summary_lines(ds):
        print(line)
    print(f"  wrote {paths[0].name} and {paths[1].name} to {out} in "
          f"{time.perf_counter() - started:.1f}s")
    return 0
