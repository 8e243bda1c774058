"""The C allocator's thresholds for a process that projects again and again.

A deterministic projection of the default model allocates about 22 MB of arrays above
what it keeps, and the next projection frees its predecessor's results (11 MB) and
allocates them again. glibc's malloc maps fresh memory for each array above a threshold
that follows the largest array freed so far, and gives the top of its heap back to the
system once more than twice that threshold is free there: so every projection in one
process (stochastic draws, solvers, sensitivity variants, a notebook's loop) touched
about 12 MB of pages new to the process, 2,200-2,900 page faults measured with
``getrusage`` on this project's machines, where a page fault in the virtual machine
costs a few microseconds: 6-11 ms of a deterministic projection of about 100 ms (the
median of 20, three runs each way), and 3 % of a stochastic draw. With the thresholds
fixed (arrays under 32 MiB from the heap, up to 64 MiB kept free at its top: glibc's own
largest dynamic values) the pages are used again, about 9 faults a projection.

:func:`keep_freed_memory` sets them once per process, at the first projection
(``pipeline.run_projection``, ``stochastic.run.simulate``,
``engine.micro.engine.run_micro``: the micro engine's arrays of a year are as many again
the next), on Linux with glibc only; not where the user has set glibc's
``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` or ``MALLOC_TOP_PAD_`` (their choice
stands) or ``SPFSIM_MALLOC=default``. The cost is memory: up to 64 MiB freed by the
process stay with it, which :func:`release_freed_memory` gives back (the micro benchmark
does, before it takes the memory its simulation starts from).

:func:`fresh_zeros` makes the micro engine's arrays of a slot a person outside the heap:
with them in the heap, a 1,000,000-person default micro run held 7-10 MB more at its peak
(calloc writing zeros over freed memory, the capacity's unused slots included, and what
those arrays freed staying with the process).
"""

from __future__ import annotations

import ctypes
import mmap
import os
import sys
import threading
from collections.abc import Mapping

import numpy as np

#: glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
#: arrays below this come from the heap (bytes): glibc's largest dynamic threshold on a
#: 64-bit system
MMAP_THRESHOLD = 32 * 2**20
#: free memory at the heap's top kept (bytes): twice the above, as glibc's dynamic rule
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
#: the environment variables that say the user chose the allocator's settings
USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")

_applied: bool | None = None
_lock = threading.Lock()


def keep_freed_memory() -> bool:
    """Fix glibc malloc's thresholds for this process, once (see the module); whether
    they are set."""
    global _applied
    with _lock:
        if _applied is None:
            _applied = wanted(os.environ) and _set_thresholds()
        return _applied


def wanted(environ: Mapping[str, str]) -> bool:
    """Whether to set the thresholds: on Linux with glibc, unless ``environ`` holds the
    user's own allocator settings or ``SPFSIM_MALLOC=default``."""
    if environ.get("SPFSIM_MALLOC") == "default" or any(n in environ for n in USER_SETTINGS):
        return False
    return _glibc()


def _glibc() -> bool:
    """Whether this is Linux with glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (ValueError, OSError, AttributeError):  # not glibc (musl has no such name)
        return False


#: arrays from this size (bytes) are mapped by :func:`fresh_zeros`, smaller ones made by
#: NumPy
FRESH_BYTES = 1 << 20


def fresh_zeros(shape: int | tuple[int, ...], dtype) -> np.ndarray:
    """A zero array in memory of its own, mapped from the system: its pages become the
    process's only where it is written, and go back to the system when it is freed.

    For the micro engine's arrays of a slot a person (engine.micro.store, outputs): made
    with NumPy above the thresholds :func:`keep_freed_memory` sets, they came from the
    heap, where ``calloc`` writes zeros over memory freed before (every page of the
    capacity then resident, slots never used included) and their memory, freed, stays
    with the process. Below FRESH_BYTES, NumPy's ``zeros``."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    dtype = np.dtype(dtype)
    nbytes = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
    if nbytes < FRESH_BYTES:
        return np.zeros(shape, dtype=dtype)
    return np.frombuffer(_private_map(nbytes), dtype=dtype).reshape(shape)


def _private_map(nbytes: int) -> mmap.mmap:
    """Anonymous memory of ``nbytes``, private where the system allows (POSIX): a shared
    map's pages are the system's shared memory, made real by a read."""
    if hasattr(mmap, "MAP_PRIVATE"):
        return mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    return mmap.mmap(-1, nbytes)


def release_freed_memory() -> bool:
    """Give the memory the process has freed back to the system now (glibc's
    malloc_trim); whether it could be asked (Linux with glibc)."""
    if not _glibc():
        return False
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes, trim.restype = (ctypes.c_size_t,), ctypes.c_int
    trim(0)
    return True


def _set_thresholds() -> bool:
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # mallopt returns 1 on success
    return (mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
            and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1)
