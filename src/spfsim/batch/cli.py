"""The ``spfsim batch`` command's body: the Dask client, the progress bar, the summary."""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from ..errors import OutputExistsError
from ..report.io import check_writable
from .run import run_batch
from .spec import read_batch

NO_TRIM = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
NO_PROFILE = "distributed.worker.profile.enabled"
#: How often the local cluster's processes wake up for their own housekeeping, a wake-up
#: taking the interpreter from the running case: the event loop's health tick (20 ms by
#: default), the memory monitor (100 ms; it still pauses or ends a worker near its memory
#: limit, a second late at most) and the system monitor (500 ms, for a dashboard this
#: cluster does not serve). At the defaults they took 5-6 % of the time of 12 one-second
#: cases on two workers (benchmarks/bench_batch.py; issue #18 asks under 10 % in all).
QUIET = {"distributed.admin.tick.interval": "1s",
         "distributed.worker.memory.monitor-interval": "1s",
         "distributed.admin.system-monitor.interval": "5s"}


def local_cores() -> int:
    """The cores this process may use: the machine's, fewer where its affinity or a
    container's quota (cgroups) allows fewer (Dask's own count, which a local cluster
    uses too); ``os.cpu_count`` alone would count a container's host."""
    from dask.system import CPU_COUNT

    return max(int(CPU_COUNT), 1)


def local_threads(scheduler: str | None, workers: int | None) -> int | None:
    """The Numba threads each case runs with on the workers of :func:`dask_client`'s local
    cluster: their share of the cores but one, which the client's store writes and the
    scheduler need (at least 1); None for an existing cluster or no cluster. With one
    worker on two cores, a batch of micro cases of 0.7 s took 6-7 % longer than a loop in
    one process on one thread, against 12 % with the worker's kernels on both cores
    (benchmarks/bench_batch.py)."""
    if scheduler is not None or workers == 0:
        return None
    cores = local_cores()
    return max(1, (cores - 1) // (workers or cores))


@contextmanager
def dask_client(scheduler: str | None, workers: int | None):
    """A client of the scheduler at ``scheduler``, or of a local cluster of ``workers``
    processes (one thread each: the projections hold the GIL in places); None for
    ``workers == 0`` (the cases run one after another in this process)."""
    if scheduler is None and workers == 0:
        yield None
        return
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    n = workers or local_cores()
    # Dask's workers return freed memory to the system at once (MALLOC_TRIM_THRESHOLD_ =
    # 64 KiB): the engines' many short-lived arrays then cost a system call each and a
    # projection takes 2.4 times as long; glibc's own adaptive threshold is kept instead.
    # Their statistical profiler walks the running task's stack every 10 ms, 4 % of a
    # projection's time, for a dashboard this cluster does not serve
    with dask.config.set({NO_TRIM: None, NO_PROFILE: False, **QUIET}), LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True,
            dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def export(store: str | Path, netcdf: str | None, workbook: str | None,
           overwrite: bool, spec=None) -> None:
    """The store as one netCDF file and as a workbook comparing the cases (the floor's
    costing, ``spec`` of engine spf-cost: as spf-cost writes them, by country)."""
    import xarray as xr

    from ..report.batch_workbook import write_batch_workbook
    from ..report.io import write_netcdf
    from .spec import SPF_COST

    if spec is not None and spec.engine == SPF_COST:
        from ..spf.costing_batch import costing_from_store
        from ..spf.levels import load_levels
        from ..spf.report import write_spf_workbook

        data = costing_from_store(store, spec)
        if netcdf is not None:
            write_netcdf(data, netcdf, overwrite=overwrite)
        if workbook is not None:
            write_spf_workbook(data, load_levels(spec.levels), Path(workbook),
                               overwrite=overwrite)
        return
    with xr.open_zarr(store) as ds:
        data = ds.load()
    if netcdf is not None:
        write_netcdf(data, netcdf, overwrite=overwrite)
    if workbook is not None:
        write_batch_workbook(data, Path(workbook), overwrite=overwrite)


def find_batch_file(name: str) -> Path:
    """A batch file: a path, or the name of one shipped with the default model
    (``batches/<name>.toml``, e.g. ``contribution-grid``)."""
    path = Path(name)
    if path.exists() or path.suffix:
        return path
    from ..model import default_model_path

    bundled = default_model_path() / "batches" / f"{name}.toml"
    return bundled if bundled.exists() else path


def batch_main(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    spec = read_batch(find_batch_file(args.batch_file))
    total = len(spec.cases())
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="case", file=sys.stderr)

    def progress(done: int, _total: int) -> None:
        if bar is not None:
            bar.update(done - bar.n)

    for target in (args.netcdf, args.workbook):  # fail before the work, not after it
        if target is not None and Path(target).exists() and not args.overwrite:
            raise OutputExistsError(f"output exists: {target}; use --overwrite to replace")
        if target is not None:
            check_writable(target, args.overwrite)
    with dask_client(args.scheduler, args.workers) as client:
        result = run_batch(spec, args.out, client, progress,
                           local_threads(args.scheduler, args.workers))
    if bar is not None:
        bar.close()
    if (args.netcdf or args.workbook) and Path(args.out).exists():
        export(args.out, args.netcdf, args.workbook, args.overwrite, spec)
    print(f"{spec.path.name}: {total} cases; {len(result.computed)} computed, "
          f"{len(result.skipped)} already in {args.out}, {len(result.failed)} failed, in "
          f"{time.perf_counter() - started:.1f}s")
    for index, message in sorted(result.failed.items()):
        print(f"  case {index} failed: {message}")
    return 1 if result.failed else 0
