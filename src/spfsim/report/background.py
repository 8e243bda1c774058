"""Report work in helper processes started early, so that it overlaps the projection.

``spfsim run`` spends about as long drawing its figures as projecting the model, and the
projection keeps one core busy. :func:`start_workers` forks helper processes before the
projection; each imports matplotlib (a third of a second) and draws a throw-away figure to
load its fonts while the projection runs, then waits for one job. Once the projection is
done, the figures are drawn in the helpers while this process writes the netCDF file and
the workbook. A helper only computes and returns values (PNG bytes): every file is still
written by the calling process, atomically, in the same order and with the same checks.

The helpers' head start is only free when a core is idle: on a machine busy with other work
they take their share of the cores from the projection. So a second helper is started only
when the load average leaves a core spare.

Forking is used only on Linux (elsewhere, or on one core, :func:`start_workers` returns no
helper and the caller does the work itself). A helper that dies is replaced by doing its job
in the calling process; its errors are raised there as if the job had run there.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import sys
import warnings
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["Worker", "available_cores", "spare_cores", "start_workers"]


def available_cores() -> int:
    """The number of cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _serve(conn: Connection, other_end: Connection, prepare: Callable[[], None] | None) -> None:
    """The helper's loop: prepare, then run jobs ``(fn, args)`` until ``None`` or EOF."""
    other_end.close()  # so that the parent's exit shows here as EOF
    if prepare is not None:
        with contextlib.suppress(Exception):  # the job itself meets and reports the problem
            prepare()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        fn, args = message
        try:
            reply: tuple[bool, Any] = (True, fn(*args))
        except BaseException as exc:
            reply = (False, exc)
        try:
            conn.send(reply)
        except (EOFError, OSError):  # the parent has gone
            return
        except Exception as exc:
            try:
                conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
            except (EOFError, OSError):
                return


class Worker:
    """A forked helper process that runs jobs (module-level functions and picklable
    arguments) one at a time: :meth:`submit`, then :meth:`result`."""

    def __init__(self, prepare: Callable[[], None] | None = None) -> None:
        ctx = mp.get_context("fork")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(child, self._conn, prepare),
                                    name="spfsim-report-worker", daemon=True)
        with warnings.catch_warnings():  # Python 3.12+ warns about fork in threaded processes
            warnings.simplefilter("ignore", DeprecationWarning)
            self._process.start()
        child.close()
        self._job: tuple[Callable[..., Any], tuple[Any, ...]] | None = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Send a job; if the helper is gone, the job runs in :meth:`result` instead."""
        self._job = (fn, args)
        with contextlib.suppress(OSError, ValueError):
            self._conn.send(self._job)

    def result(self) -> Any:
        """The submitted job's return value (its exception raised here)."""
        if self._job is None:
            raise RuntimeError("no job was submitted")
        fn, args = self._job
        self._job = None
        try:
            ok, value = self._conn.recv()
        except (EOFError, OSError):  # the helper died: do the job here
            return fn(*args)
        if ok:
            return value
        raise value

    def close(self) -> None:
        """Stop the helper: it ends when it reads the stop message, else (still preparing,
        or busy with a job whose result nobody will collect) it is terminated."""
        with contextlib.suppress(OSError, ValueError):
            self._conn.send(None)
        self._conn.close()
        self._process.join(timeout=0.1)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()


def spare_cores() -> float:
    """Cores not busy with other work: the cores this process may use less the load average
    of the last minute (all of them where the system does not say)."""
    cores = available_cores()
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):
        busy = 0.0
    return max(cores - busy, 0.0)


def start_workers(n: int, prepare: Callable[[], None] | None = None) -> list[Worker]:
    """Start up to ``n`` helpers: none on one core or where processes cannot be forked
    cheaply and safely (outside Linux); one when the machine is busy, since a second helper
    only pays off on a free core (it imports matplotlib a second time)."""
    if not sys.platform.startswith("linux") or "fork" not in mp.get_all_start_methods():
        return []
    if available_cores() < 2 or n <= 0:
        return []
    n = max(1, min(n, round(spare_cores())))
    return [Worker(prepare) for _ in range(n)]
