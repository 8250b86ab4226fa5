"""The C heap of a rendering process: memory a scene lets go of is kept for the next one.

A render holds one scene's sprites and frames (a few MB each) and lets them all go when the
scene ends. By default glibc hands the top of its heap back to the kernel as soon as more
than its trim threshold is free there, a threshold it sets to twice the largest block freed
so far (a few MB): so every scene got its pages from the kernel again, each one zeroed and
faulted in, about 17,000 page faults a render. With fixed thresholds the heap keeps up to
KEEP_FREE_BYTES for the next scene (docs/benchmarks.md, ## Video, measures the gain).
Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
from functools import lru_cache

# mallopt(3) parameters, from glibc's malloc.h
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# Blocks below this come from the heap, not from a mapping of their own made and unmade each
# time: glibc's own ceiling for the threshold on 64-bit systems, above any frame or sprite.
MMAP_THRESHOLD_BYTES = 32 << 20
KEEP_FREE_BYTES = 64 << 20  # free at the top of the heap before it is handed back


@lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Set the heap's thresholds for rendering (once per process; forked work horses inherit
    them). False where the C library has no mallopt or refuses the values."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # Setting either threshold also stops glibc from moving them as blocks are freed.
    return bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        and mallopt(M_TRIM_THRESHOLD, KEEP_FREE_BYTES)
    )


def hand_back_free_memory() -> bool:
    """Return the heap's free pages to the kernel now (malloc_trim): a worker's warm-up
    leaves garbage (the font files it rewrote) that its work horses have no use for. False
    where the C library has no malloc_trim."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trim(0)
    return True
