"""Command line: ``spfsim run``, ``spfsim validate`` and ``spfsim import-wpp``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .errors import AssumptionError, SpfsimError

DEFAULT_OUT = "spfsim-output"


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
    run.add_argument("--quiet", action="store_true", help="print only the summary")
    run.add_argument("--engine", choices=("cohort", "micro"), default="cohort",
                     help="cohort (expected values, default) or micro (simulated persons)")
    run.add_argument("--persons", type=int, default=100_000,
                     help="micro engine: number of simulated persons (default 100000)")
    run.add_argument("--seed", type=int, default=0,
                     help="micro engine: random seed (default 0)")
    run.add_argument("--alignment", choices=("expected", "exact", "off"),
                     default="expected",
                     help="micro engine: match each age x sex cell's deaths and contributors "
                     "in expectation (default), exactly, or not at all")
    run.add_argument("--person-file", default=None,
                     help="micro engine: base-year person records (CSV or Parquet) to start "
                     "from; see docs/micro.md")
    validate = sub.add_parser("validate", help="check a model folder and list every problem")
    validate.add_argument("model_dir", help="model folder")
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
    from .spf.cli import add_spf_cost_parser

    add_spf_cost_parser(sub)
    return parser


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


def _validate(args: argparse.Namespace) -> int:
    from .model import load_model

    model = load_model(args.model_dir)
    schemes = ", ".join(f"{s.id} ({s.type})" for s in model.input.schemes)
    print(f"{model.path}: valid ({model.input.base_year}-{model.input.end_year}; "
          f"schemes: {schemes})")
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


def _run(args: argparse.Namespace) -> int:
    from .model import load_model
    from .report.outputs import refuse_existing, write_outputs
    from .report.summary import summary_lines

    started = time.perf_counter()

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr,
                  flush=True)

    progress("loading model " + (args.model_dir or "(default)"))
    model = load_model(args.model_dir)
    out = Path(args.out)
    if not args.overwrite:  # fail before the projection, not after it
        refuse_existing(out, model.input.base_year, model.input.end_year)
    ds = model.project(args.engine, persons=args.persons, seed=args.seed,
                       person_file=args.person_file, alignment=args.alignment,
                       progress=progress)
    progress(f"writing outputs to {out}")
    written = write_outputs(model, ds, out, overwrite=args.overwrite)
    for line in summary_lines(ds):
        print(line)
    print(f"  wrote {len(written)} files to {out} in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
