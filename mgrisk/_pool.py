"""Chunks of work on all local cores, for bootstrap and simulation studies."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager

__all__ = ["run_chunks"]


def run_chunks(
    fn: Callable,
    chunks: Sequence,
    jobs: int,
    initializer: Callable | None = None,
    initargs: tuple = (),
) -> Iterator:
    """``fn(chunk)`` of every chunk, yielded as they finish, on ``jobs`` cores.

    With ``jobs`` > 1, ``jobs - 1`` spawned workers take chunks from the front while this
    process, which needs no start-up, takes them from the back (a chunk no worker has taken
    yet is cancelled there and run here), so the workers' start-up (2-3 s) costs no wall time.
    ``initializer(*initargs)`` runs once in every process first. ``fn`` must give the same
    result wherever it runs.
    """
    if initializer is not None:
        initializer(*initargs)
    if jobs <= 1 or len(chunks) <= 1:
        yield from map(fn, chunks)
        return
    with _pool(jobs - 1, initializer, initargs) as pool:
        futures = [pool.submit(fn, c) for c in chunks]
        pending = list(futures)
        try:
            with _one_thread():
                for future, chunk in zip(reversed(futures), reversed(chunks), strict=True):
                    if not future.cancel():
                        break  # the workers took this chunk, so all before it
                    pending.remove(future)
                    yield fn(chunk)
                    for done in [f for f in pending if f.done()]:
                        pending.remove(done)
                        yield done.result()
            for future in as_completed(pending):
                yield future.result()
        finally:  # an error or an abandoned loop: start no more chunks
            for future in futures:
                future.cancel()


def _pool(workers: int, initializer, initargs) -> ProcessPoolExecutor:
    """Spawned worker processes (not forked: forking after numba's threads started is unsafe),
    each limited to one numba and one BLAS thread, so that they and this process keep one
    core each busy instead of fighting over them."""
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(
        workers, context, initializer=_start, initargs=(initializer, initargs)
    )


def _start(initializer: Callable | None, initargs: tuple) -> None:
    import numba
    from threadpoolctl import threadpool_limits

    numba.set_num_threads(1)
    threadpool_limits(1)
    if initializer is not None:
        initializer(*initargs)


@contextmanager
def _one_thread():
    """This process on one numba and one BLAS thread while the workers run."""
    import numba
    from threadpoolctl import threadpool_limits

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        numba.set_num_threads(before)
