"""Local worker processes for bootstrap and simulation studies."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

__all__ = ["process_pool"]


def process_pool(
    jobs: int, initializer: Callable | None = None, initargs: tuple = ()
) -> ProcessPoolExecutor:
    """``jobs`` spawned worker processes (not forked: forking after numba's threads started is
    unsafe), each limited to one numba and one BLAS thread, so that ``jobs`` workers keep
    ``jobs`` cores busy instead of fighting over them."""
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(jobs, context, initializer=_start, initargs=(initializer, initargs))


def _start(initializer: Callable | None, initargs: tuple) -> None:
    import numba
    from threadpoolctl import threadpool_limits

    numba.set_num_threads(1)
    threadpool_limits(1)
    if initializer is not None:
        initializer(*initargs)
