"""Work spread over the machine's cores: a pool of worker processes, started once.

Drawing is CPU-bound Python and Pillow, so threads would share one core; processes are
started with `spawn` (a fork of a threaded web server could inherit a lock held by another
thread) and kept, warm (fonts loaded), for the next grid or check. Each chunk of work
carries the bundle it draws from (a template bundle pickles to some tens of kilobytes).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from renderers.templates import TemplateBundle

CHUNKS_PER_WORKER = 3  # smaller chunks even out workers whose cells cost more

T = TypeVar("T")
R = TypeVar("R")
A = TypeVar("A")

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _executor() -> Executor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(cores(), mp_context=multiprocessing.get_context("spawn"))
        return _pool


def _ready(_: int) -> int:
    """In a worker: load the shipped bundles and what their locales need (fonts, locale
    data), as a render worker does before it takes jobs."""
    from renderers.warm import warm_up

    warm_up()
    return os.getpid()


def start() -> None:
    """Start the worker processes now and make them ready (a server calls this when it
    starts, so that the first grid does not wait for them: seconds on a busy machine)."""
    list(_executor().map(_ready, range(cores())))


def shutdown() -> None:
    """Stop the worker processes (a new call starts them again)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def run_chunks(
    work: Callable[[TemplateBundle, A, Sequence[T]], list[R]],
    bundle: TemplateBundle,
    arg: A,
    items: Sequence[T],
    *,
    workers: int | None = None,
) -> list[R]:
    """`work(bundle, arg, chunk)` over chunks of `items`, the results in the items' order;
    on `workers` processes (None: one per core; 1: in this process, no pool)."""
    count = cores() if workers is None else workers
    if count <= 1 or len(items) <= 1:
        return work(bundle, arg, items)
    pieces = min(len(items), count * CHUNKS_PER_WORKER)
    chunks = [items[i::pieces] for i in range(pieces)]  # interleaved: costs spread evenly
    try:
        done = list(_executor().map(work, [bundle] * pieces, [arg] * pieces, chunks))
    except BrokenProcessPool:
        shutdown()  # a worker died (killed, out of memory): the next call starts afresh
        raise
    results: list[R | None] = [None] * len(items)
    for i, chunk_results in enumerate(done):
        results[i::pieces] = chunk_results
    return results  # type: ignore[return-value]  # every slot was filled
