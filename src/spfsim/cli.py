"""Command line: ``spfsim run``, ``spfsim compare``, ``spfsim validate``, ``spfsim init``,
``spfsim import-wpp``, ``spfsim stochastic``, ``spfsim sensitivity``, ``spfsim batch`` and
``spfsim spf-cost``."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import AssumptionError, OutputExistsError, SpfsimError

if TYPE_CHECKING:
    import xarray as xr

    from .model import Model

DEFAULT_OUT = "spfsim-output"
#: projections (stochastic draws, points of the Sobol analysis) from which ``spfsim
#: stochastic`` and ``spfsim sensitivity --sobol`` run them on a local cluster of one worker
#: a core unless told otherwise: the cluster's start (about 3 s) is then repaid (1,000
#: draws of the default model on two cores: 40 s with the outputs, against 72 s in one
#: process)
AUTO_CLUSTER_PROJECTIONS = 200


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spfsim",
        description="Actuarial projection of social protection systems (ILO R202 floors and "
        "social insurance).")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="project a model and write the dataset, report, figures")
    run.add_argument("model_dir", nargs="?", default=None,
                     help="model folder (default: the default model shipped with spfsim)")
    run.add_argument("--out", default=DEFAULT_OUT,
                     help=f"output folder (default: ./{DEFAULT_OUT})")
    run.add_argument("--overwrite", action="store_true",
                     help="replace existing output files")
    run.add_argument("--reform", default=None, metavar="FILE",
                     help="project the model with this reform file applied (a path, or the "
                     "name of a file in the model's reforms/ folder)")
    run.add_argument("--figures", action="store_true",
                     help="also draw the standard figures as PNG files in figures/ (the "
                     "workbook has its charts either way; in Python: ds.spf.plot...)")
    _add_engine_options(run)
    compare = sub.add_parser(
        "compare", help="project the baseline and a reform with the same engine and "
        "settings; write comparison.nc and comparison.xlsx")
    compare.add_argument("model_dir", nargs="?", default=None,
                         help="model folder (default: the default model shipped with spfsim)")
    compare.add_argument("--reform", required=True, metavar="FILE",
                         help="reform file (a path, or the name of a file in the model's "
                         "reforms/ folder, e.g. higher-minimum-pension)")
    compare.add_argument("--out", default=DEFAULT_OUT,
                         help=f"output folder (default: ./{DEFAULT_OUT})")
    compare.add_argument("--overwrite", action="store_true",
                         help="replace existing output files")
    compare.add_argument("--figures", action="store_true",
                         help="also draw the figures of run, baseline against reform, as PNG "
                         "files in figures/")
    _add_engine_options(compare)
    validate = sub.add_parser("validate", help="check a model folder and list every problem")
    validate.add_argument("model_dir", nargs="?", default=None,
                          help="model folder (default: the default model)")
    validate.add_argument("--reform", default=None, metavar="FILE",
                          help="also check this reform file against the model")
    wpp = sub.add_parser("import-wpp",
                         help="write a demographic assumption set from UN WPP 2024 data")
    wpp.add_argument("--data", required=True,
                     help="folder with the WPP 2024 files (or its parent holding wpp2024/)")
    wpp.add_argument("--country", required=True, type=int, help="UN M49 country code")
    wpp.add_argument("--out", required=True, help="assumption set folder to write")
    wpp.add_argument("--base-year", type=int, default=2020,
                     help="base year: 1950-2020 by 5 for every country (default 2020)")
    wpp.add_argument("--end-year", type=int, default=2100, help="last year (default 2100)")
    wpp.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    init = sub.add_parser("init", help="write a new, complete model folder to edit (the "
                          "default model's, or with --country that country's demography)")
    init.add_argument("folder", help="model folder to write (must not exist, or be empty)")
    init.add_argument("--country", default=None,
                      help="UN M49 code (566) or ISO alpha-3 code (NGA): its demography from "
                      "UN WPP 2024, the economy and schemes illustrative")
    init.add_argument("--data", default=None,
                      help="reference data folder holding wpp2024/ (default: $SPFSIM_DATA, "
                      "./shared/data or ../shared/data; docs/data.md)")
    init.add_argument("--base-year", type=int, default=2025, help="with --country (default 2025)")
    init.add_argument("--end-year", type=int, default=2100, help="with --country (default 2100)")
    _add_uncertainty_parsers(sub)
    batch = sub.add_parser("batch", help="run a grid of projections (a batch file) as Dask "
                           "tasks into one zarr store; a rerun finishes only missing cases")
    batch.add_argument("batch_file", help="batch description (TOML; docs/batch.md), or the "
                       "name of one shipped with the default model (contribution-grid)")
    batch.add_argument("--out", required=True, help="zarr store to write (a folder)")
    batch.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="address of an existing Dask scheduler (default: a local "
                       "cluster on this machine)")
    batch.add_argument("--workers", type=int, default=None,
                       help="local cluster: worker processes (default: the cores; 0: run "
                       "the cases one after another in this process)")
    batch.add_argument("--netcdf", default=None, metavar="FILE",
                       help="also export the store to this netCDF file")
    batch.add_argument("--workbook", default=None, metavar="FILE",
                       help="also write a workbook comparing the cases (.xlsx)")
    batch.add_argument("--overwrite", action="store_true",
                       help="replace existing --netcdf and --workbook files")
    batch.add_argument("--quiet", action="store_true", help="print only the summary")
    from .spf.cli import add_spf_cost_parser

    add_spf_cost_parser(sub)
    return parser


def _add_uncertainty_parsers(sub) -> None:
    """``stochastic`` and ``sensitivity``: the model, reform, output and figure options
    they share, and the draws of ``stochastic``."""
    stochastic = sub.add_parser(
        "stochastic", help="project a model under its [stochastic] assumptions; write "
        "stochastic.nc and .xlsx (percentiles, probabilities of depletion, fan charts)")
    sensitivity = sub.add_parser(
        "sensitivity", help="project a model with each assumption at its low and high value "
        "([stochastic.sensitivity]); write sensitivity.nc and .xlsx; with --sobol N also a "
        "global (Sobol) analysis over the same ranges: sobol.nc and a Sobol sheet")
    for parser, figures in ((stochastic, "the fan charts and the probability of depletion"),
                            (sensitivity, "a tornado chart per funded scheme")):
        parser.add_argument("model_dir", nargs="?", default=None,
                            help="model folder (default: the default model shipped with "
                            "spfsim)")
        parser.add_argument("--reform", default=None, metavar="FILE",
                            help="with this reform file applied (same seed: same futures)")
        parser.add_argument("--out", default=DEFAULT_OUT,
                            help=f"output folder (default: ./{DEFAULT_OUT})")
        parser.add_argument("--overwrite", action="store_true",
                            help="replace existing output files")
        parser.add_argument("--figures", action="store_true",
                            help=f"also draw {figures} as PNG files in figures/")
    stochastic.add_argument("--draws", type=int, default=None,
                            help="number of draws (default: the model file's)")
    stochastic.add_argument("--seed", type=int, default=None,
                            help="random seed (default: the model file's)")
    stochastic.add_argument("--keep-draws", action="store_true",
                            help="keep every draw's key series in the dataset")
    stochastic.add_argument("--quiet", action="store_true", help="print only the summary")
    stochastic.add_argument("--workers", type=int, default=None,
                            help="project blocks of draws on a local Dask cluster of this "
                            "many worker processes (0: in this process; default: one a "
                            f"core from {AUTO_CLUSTER_PROJECTIONS} draws on a machine of "
                            "several cores, else 0); the numbers are the same either way")
    stochastic.add_argument("--scheduler", default=None, metavar="ADDRESS",
                            help="project blocks of draws on an existing Dask cluster")
    sensitivity.add_argument("--sobol", type=int, default=None, metavar="N",
                             help="also the global (Sobol) analysis with N base samples (a "
                             "power of two; N x (assumptions + 2) projections); needs "
                             "SALib: pip install 'spfsim[stochastic]'")
    sensitivity.add_argument("--seed", type=int, default=None,
                             help="seed of the Sobol sample and of its confidence intervals "
                             "(default: the model file's)")
    sensitivity.add_argument("--quiet", action="store_true",
                             help="no progress bar of the Sobol analysis")
    sensitivity.add_argument("--workers", type=int, default=None,
                             help="project blocks of the Sobol analysis' points on a local "
                             "Dask cluster of this many worker processes (0: in this "
                             "process; default: one a core from "
                             f"{AUTO_CLUSTER_PROJECTIONS} points on a machine of several "
                             "cores, else 0); the numbers are the same either way")
    sensitivity.add_argument("--scheduler", default=None, metavar="ADDRESS",
                             help="project blocks of the Sobol analysis' points on an "
                             "existing Dask cluster")


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    """Options of ``run`` and ``compare``: the engine and its settings."""
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.add_argument("--engine", choices=("cohort", "micro"), default="cohort",
                        help="cohort (expected values, default) or micro (simulated persons)")
    parser.add_argument("--persons", type=_whole_number, default=100_000,
                        help="micro engine: number of simulated persons (default 100000)")
    parser.add_argument("--seed", type=int, default=0,
                        help="micro engine: random seed (default 0)")
    parser.add_argument("--alignment", choices=("expected", "exact", "off"),
                        default="expected",
                        help="micro engine: match each age x sex cell's deaths and "
                        "contributors in expectation (default), exactly, or not at all")
    parser.add_argument("--person-file", default=None,
                        help="micro engine: base-year person records (CSV or Parquet) to "
                        "start from; see docs/micro.md")
    parser.add_argument("--workers", type=int, default=0,
                        help="micro engine: split the persons across a local Dask cluster "
                        "of this many worker processes, with the result of one process "
                        "(default 0: in this process)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="micro engine: split the persons across an existing Dask "
                        "cluster's workers")
    parser.add_argument("--no-families", action="store_true",
                        help="micro engine: persons without family links even where the "
                        "model has a families table (a run split across workers needs it)")
    parser.add_argument("--no-poverty", action="store_true",
                        help="micro engine: household poverty not measured even where the "
                        "model has a [poverty] section (faster)")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``spfsim`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.version:
        from . import __version__

        print(__version__)
        return 0
    if args.command is None:
        _parser().print_help()
        return 2
    try:
        if args.command == "validate":
            return _validate(args)
        if args.command == "import-wpp":
            return _import_wpp(args)
        if args.command == "init":
            return _init(args)
        if args.command == "compare":
            return _compare(args)
        if args.command == "stochastic":
            return _stochastic(args)
        if args.command == "sensitivity":
            return _sensitivity(args)
        if args.command == "batch":
            from .batch.cli import batch_main

            _check_batch_file(args.batch_file)
            return batch_main(args)
        if args.command == "spf-cost":
            from .spf.cli import spf_cost_main

            return spf_cost_main(args)
        return _run(args)
    except AssumptionError as exc:
        print(f"spfsim: {exc}", file=sys.stderr)
        return 2
    except SpfsimError as exc:
        print(f"spfsim: error: {exc}", file=sys.stderr)
        return 1


def _whole_number(text: str) -> int:
    """A count given as ``100000``, ``100_000`` or ``1e6`` (a whole number, >= 1)."""
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and value >= 1 and value == int(value)):
        raise argparse.ArgumentTypeError(f"expected a whole number of persons such as 100000 "
                                         f"or 1e6, not {text!r}")
    return int(value)


def _check_batch_file(name: str) -> None:
    """A batch file given as a path must be a regular file of a model file's size (a pipe
    would block its reader); a bare name is looked up by ``spfsim batch`` itself."""
    from .input_files import check_input_file

    path = Path(name)
    if path.exists() or path.is_symlink():
        check_input_file(path, "model", "batch file")


def _validate(args: argparse.Namespace) -> int:
    from .model import load_model

    model = load_model(args.model_dir, reform=args.reform)
    schemes = ", ".join(f"{s.id} ({s.type})" for s in model.input.schemes)
    print(f"{model.path}: valid ({model.input.base_year}-{model.input.end_year}; "
          f"schemes: {schemes})")
    if model.reform is not None:
        print(f"{model.reform.path}: valid reform {model.reform.name!r}, changes "
              + ", ".join(model.reform.changes()))
    return 0


def _import_wpp(args: argparse.Namespace) -> int:
    from .demography.wpp import from_wpp, write_wpp_assumptions

    demography = from_wpp(args.data, args.country, args.base_year, args.end_year)
    folder = write_wpp_assumptions(demography, args.out, overwrite=args.overwrite)
    population = demography.base_population.sum()
    print(f"{folder}: {demography.name} (M49 {demography.country}), {args.base_year}-"
          f"{args.end_year}, population {population / 1e6:,.2f} million at 1 July "
          f"{args.base_year}")
    return 0


def _init(args: argparse.Namespace) -> int:
    from .starter import init_model

    folder = init_model(args.folder, args.country, args.data, args.base_year, args.end_year)
    print(f"{folder}: a new model; project it with: spfsim run {folder}")
    return 0


def _progress(args: argparse.Namespace, started: float) -> Callable[[str], None]:
    def progress(message: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr,
                  flush=True)

    return progress


def _micro_client(args: argparse.Namespace):
    """The Dask client (a context manager) across whose workers the micro engine splits
    its persons: a local cluster of --workers processes, or the cluster at --scheduler;
    None (in this process) by default and for the cohort engine."""
    from .batch.cli import dask_client

    if args.workers < 0:
        raise SpfsimError(f"--workers must be 0 or more, not {args.workers}")
    split = args.engine == "micro" and (args.workers > 0 or args.scheduler is not None)
    return dask_client(args.scheduler, args.workers if split else 0)


def _project(model: Model, args: argparse.Namespace, progress: Callable[[str], None],
             client=None) -> xr.Dataset:
    """Project ``model`` with the engine and settings of the command line."""
    return model.project(args.engine, persons=args.persons, seed=args.seed,
                         person_file=args.person_file, alignment=args.alignment,
                         progress=progress, client=client,
                         families=not getattr(args, "no_families", False),
                         poverty=not getattr(args, "no_poverty", False))


def _check_out(out: Path, model: Model, args: argparse.Namespace) -> None:
    """Before any projection: the output folder can take the outputs and is none of the
    model's input folders; the micro engine's persons fit in memory; a person file is a
    regular file."""
    from .input_files import check_input_file
    from .model import check_micro_memory
    from .report.outputs import check_output_folder

    inputs = [model.input.path, *(Path(s["folder"]) for s in model.input.assumption_sets
                                  if "folder" in s)]
    check_output_folder(out, inputs)
    if getattr(args, "engine", "cohort") == "micro":
        check_micro_memory(args.persons)
        if args.person_file:
            check_input_file(args.person_file, "person file", "the person file")


def _run(args: argparse.Namespace) -> int:
    from .model import load_model
    from .report.outputs import refuse_existing, write_outputs
    from .report.summary import summary_lines

    started = time.perf_counter()
    progress = _progress(args, started)
    progress("loading model " + (args.model_dir or "(default)")
             + ("" if args.reform is None else f" with the reform {args.reform}"))
    model = load_model(args.model_dir, reform=args.reform)
    out = Path(args.out)
    _check_out(out, model, args)  # fail before the projection, not after it
    if not args.overwrite:
        refuse_existing(out, model.input.base_year, model.input.end_year, figures=args.figures)
    with _micro_client(args) as client:
        ds = _project(model, args, progress, client)
    progress(f"writing outputs to {out}")
    written = write_outputs(model, ds, out, overwrite=args.overwrite, figures=args.figures)
    for line in summary_lines(ds):
        print(line)
    print(f"  wrote {len(written)} files to {out} in {time.perf_counter() - started:.1f}s")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from .model import load_model
    from .report.comparison import comparison_paths, comparison_summary_lines, write_comparison
    from .report.outputs import write_output_set
    from .scenarios import compare

    started = time.perf_counter()
    progress = _progress(args, started)
    progress("loading model " + (args.model_dir or "(default)") + f" and reform {args.reform}")
    baseline = load_model(args.model_dir)
    reformed = baseline.with_reform(args.reform)  # every problem of the reform file, now
    out = Path(args.out)
    _check_out(out, baseline, args)
    existing = [str(p) for p in comparison_paths(out) if p.exists() or p.is_symlink()]
    if existing and not args.overwrite:  # fail before the projections, not after them
        raise OutputExistsError(f"output exists: {', '.join(existing)}; use --overwrite to "
                                "replace")
    assert reformed.reform is not None
    with _micro_client(args) as client:
        progress("baseline")
        base_ds = _project(baseline, args, progress, client)
        progress(f"reform {reformed.reform.name}")
        reform_ds = _project(reformed, args, progress, client)
    comparison = compare(base_ds, reform_ds)
    progress(f"writing outputs to {out}")

    def write_into(folder: Path) -> list[Path]:
        written = write_comparison(comparison, folder)
        if args.figures:
            from .report.io import write_files
            from .report.plots import comparison_pngs

            written += write_files(folder / "figures", comparison_pngs(comparison))
        return [path.relative_to(folder) for path in written]

    written = write_output_set(out, write_into, args.overwrite)
    for line in comparison_summary_lines(comparison):
        print(line)
    print(f"  wrote {len(written)} files to {out} in {time.perf_counter() - started:.1f}s")
    return 0


def _uncertainty_outputs(args: argparse.Namespace, stem: str, model: Model) -> list[Path]:
    """``stem``.nc and .xlsx under --out, refused before any work when one exists and
    --overwrite is not given (figures are refused when written, file by file)."""
    out = Path(args.out)
    _check_out(out, model, args)
    paths = [out / f"{stem}.nc", out / f"{stem}.xlsx"]
    existing = [p for p in paths if p.exists()]
    if existing and not args.overwrite:
        raise OutputExistsError(f"output exists: {existing[0]}; use --overwrite to replace")
    return paths


def _write_uncertainty(args: argparse.Namespace, ds: xr.Dataset, paths: list[Path],
                       write_workbook: Callable, pngs: Callable, summary: Callable,
                       started: float, extra: dict[str, xr.Dataset] | None = None) -> None:
    """Write the dataset, its workbook (``write_workbook``), the ``extra`` netCDF files
    (name -> Dataset) and with --figures its figures (``pngs``), as one set; print its
    ``summary`` lines and what was written."""
    from .report.io import write_files, write_netcdf
    from .report.outputs import write_output_set

    dataset, workbook = paths

    def write_into(folder: Path) -> list[Path]:
        write_netcdf(ds, folder / dataset.name)
        write_workbook(ds, folder / workbook.name)
        names = [Path(dataset.name), Path(workbook.name)]
        for name, other in (extra or {}).items():
            write_netcdf(other, folder / name)
            names.append(Path(name))
        if args.figures:
            names += [p.relative_to(folder) for p in write_files(folder / "figures", pngs(ds))]
        return names

    written = write_output_set(Path(args.out), write_into, args.overwrite)
    for line in summary(ds):
        print(line)
    print(f"  wrote {len(written)} files to {args.out} in {time.perf_counter() - started:.1f}s")


def _stochastic(args: argparse.Namespace) -> int:
    from .batch.cli import dask_client
    from .model import load_model
    from .report.uncertainty import stochastic_pngs, write_stochastic_workbook
    from .stochastic.report import stochastic_summary_lines

    started = time.perf_counter()
    model = load_model(args.model_dir, reform=args.reform)
    spec = model.input.stochastic
    if spec is None:
        raise SpfsimError(f"{model.path / 'model.toml'}: no [stochastic] section: declare "
                          "which assumptions vary (docs/stochastic.md)")
    paths = _uncertainty_outputs(args, "stochastic", model)
    draws = spec.draws if args.draws is None else args.draws
    if draws < 1:
        raise SpfsimError(f"--draws must be at least 1, not {draws}")
    with dask_client(args.scheduler, _cluster_workers(args, draws)) as client:
        ds = model.project_stochastic(draws, seed=args.seed, keep_draws=args.keep_draws,
                                      progress=_draw_progress(draws, args.quiet),
                                      client=client)
    _write_uncertainty(args, ds, paths, write_stochastic_workbook, stochastic_pngs,
                       stochastic_summary_lines, started)
    return 0


def _cluster_workers(args: argparse.Namespace, projections: int) -> int:
    """The local cluster's worker processes for ``projections`` (stochastic draws, points
    of the Sobol analysis): --workers, or by default one a core when there are enough of
    them to repay the cluster's start (:data:`AUTO_CLUSTER_PROJECTIONS`) and several
    cores; 0: in this process."""
    if args.workers is not None:
        if args.workers < 0:
            raise SpfsimError(f"--workers must be 0 or more, not {args.workers}")
        return args.workers
    if projections < AUTO_CLUSTER_PROJECTIONS:
        return 0
    from .batch.cli import local_cores

    cores = local_cores()
    return cores if cores > 1 else 0


def _sensitivity(args: argparse.Namespace) -> int:
    from .batch.cli import dask_client
    from .model import load_model
    from .report.uncertainty import sensitivity_pngs, write_sensitivity_workbook
    from .stochastic.report import sensitivity_summary_lines

    started = time.perf_counter()
    model = load_model(args.model_dir, reform=args.reform)
    if model.input.stochastic is None or not model.input.stochastic.sensitivity:
        raise SpfsimError(f"{model.path / 'model.toml'}: no [stochastic.sensitivity] "
                          "section: declare each assumption's low and high values "
                          "(docs/stochastic.md)")
    paths = _uncertainty_outputs(args, "sensitivity", model)
    if args.sobol is None:
        _write_uncertainty(args, model.sensitivity(), paths, write_sensitivity_workbook,
                           sensitivity_pngs, sensitivity_summary_lines, started)
        return 0
    from .stochastic.sobol import check_design, sobol_summary_lines

    seed = model.input.stochastic.seed if args.seed is None else args.seed
    check_design(model.input.stochastic.sensitivity, args.sobol, seed)
    sobol_path = Path(args.out) / "sobol.nc"
    if sobol_path.exists() and not args.overwrite:
        raise OutputExistsError(f"output exists: {sobol_path}; use --overwrite to replace")
    sens = model.sensitivity()
    points = args.sobol * (len(model.input.stochastic.sensitivity) + 2)
    with dask_client(args.scheduler, _cluster_workers(args, points)) as client:
        sobol = model.sobol(args.sobol, seed=seed, progress=_sobol_progress(args.quiet),
                            client=client)
    _write_uncertainty(
        args, sens, paths,
        lambda ds, path, overwrite=False: write_sensitivity_workbook(ds, path, overwrite,
                                                                     sobol),
        lambda ds: sensitivity_pngs(ds, sobol),
        lambda ds: [*sensitivity_summary_lines(ds), *sobol_summary_lines(sobol)], started,
        extra={sobol_path.name: sobol})
    return 0


def _sobol_progress(quiet: bool) -> Callable[[int, int], None] | None:
    """A progress bar of the Sobol analysis' projections, on standard error."""
    if quiet:
        return None
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = _draw_progress(total, False)
        bar(done)

    return progress


def _draw_progress(total: int, quiet: bool) -> Callable[[int], None] | None:
    """A progress bar of draws done / total with the time left (tqdm), on standard error."""
    if quiet:
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="draw", file=sys.stderr, smoothing=0.1)

    def progress(done: int) -> None:
        bar.update(done - bar.n)
        if done == total:
            bar.close()

    return progress


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
