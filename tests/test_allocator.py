"""The allocator's thresholds (spfsim.allocator): freed memory used again, not faulted in."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from spfsim.allocator import wanted

GLIBC = wanted({})

#: allocate twenty arrays of 1 MiB and free them, three times (what a projection does with
#: its arrays, smaller), printing the page faults of each round, then the memory the
#: process holds (kB) before and after release_freed_memory
ROUNDS = """
import resource, numpy as np
from spfsim.allocator import keep_freed_memory, release_freed_memory
def rss():
    return next(int(line.split()[1]) for line in open("/proc/self/status")
                if line.startswith("VmRSS:"))
print(keep_freed_memory())
for _ in range(3):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    arrays = [np.ones(2**17) for _ in range(20)]
    del arrays
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
held = rss()
release_freed_memory()
print(held, rss())
"""


def _rounds(**env: str) -> tuple[bool, list[int], list[int]]:
    out = subprocess.run([sys.executable, "-c", ROUNDS], capture_output=True, text=True,
                         check=True, env={**os.environ, **env}).stdout.split()
    return out[0] == "True", [int(n) for n in out[1:4]], [int(n) for n in out[4:]]


def test_the_user_s_own_allocator_settings_stand():
    """Where the user set glibc's own thresholds, or SPFSIM_MALLOC=default, spfsim leaves
    the allocator as it is."""
    assert not wanted({"SPFSIM_MALLOC": "default"})
    for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"):
        assert not wanted({name: "1000000"})


@pytest.mark.skipif(not GLIBC, reason="the thresholds are glibc malloc's (Linux with glibc)")
def test_freed_arrays_are_used_again_without_page_faults():
    """20 MiB of arrays allocated and freed three times in a fresh process: with glibc's
    dynamic thresholds each round faults its 5,120 pages in again (the heap's top given
    back), with spfsim's fixed ones only the first round does, and the process holds the
    20 MiB until release_freed_memory gives them back. 4 KiB pages: a round of 20 MiB is
    5,120 of them."""
    applied, faults, held = _rounds()
    assert applied
    if faults[0] < 4000:  # the first round's pages are new, unless they come as huge pages
        pytest.skip(f"20 MiB of new memory took only {faults[0]} page faults here")
    assert max(faults[1:]) < 200
    assert held[0] - held[1] > 15_000  # kB
    applied, faults, _ = _rounds(SPFSIM_MALLOC="default")
    assert not applied
    assert min(faults[1:]) > 4000


#: the memory (kB) a process holds before 80 MB of fresh_zeros, after reading all of it,
#: after writing its first 8 MB, and after freeing it
FRESH = """
import numpy as np
from spfsim.allocator import fresh_zeros
def rss():
    return next(int(line.split()[1]) for line in open("/proc/self/status")
                if line.startswith("VmRSS:"))
start = rss()
array = fresh_zeros((10_000_000, 2), np.float32)
assert array.shape == (10_000_000, 2) and array.dtype == np.float32
assert not array.any()
read = rss()
array[:1_000_000] = 1.0
written = rss()
del array
print(start, read, written, rss())
"""


def test_fresh_zeros_hold_only_the_pages_written():
    """Arrays of a slot a person (the micro engine's store and buffers) come from
    fresh_zeros: zeros in memory mapped for them alone, which the process holds only where
    written (a read maps no memory: a private map, not the system's shared memory), and
    gives back when the array goes. Small arrays are NumPy's own."""
    import numpy as np

    from spfsim.allocator import FRESH_BYTES, fresh_zeros

    small = fresh_zeros(3, np.int16)
    assert small.tolist() == [0, 0, 0]
    assert small.dtype == np.int16
    assert fresh_zeros((0, 4), np.float64).shape == (0, 4)
    big = fresh_zeros(FRESH_BYTES, np.uint8)
    big[-1] = 7
    assert big.sum() == 7
    if not sys.platform.startswith("linux"):
        pytest.skip("reads the process's memory from /proc (Linux)")
    start, read, written, freed = (int(n) for n in subprocess.run(
        [sys.executable, "-c", FRESH], capture_output=True, text=True, check=True
    ).stdout.split())
    assert read - start < 4_000  # kB, of 80,000 read
    assert 7_000 < written - start < 12_000  # the 8 MB written
    assert freed - start < 4_000
