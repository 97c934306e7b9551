"""Chunks of work on all local cores, for bootstrap and simulation studies.

Ctrl-C belongs to this process alone: worker processes are started with SIGINT blocked (a
terminal sends it to the whole process group, and a worker interrupted while importing would
print a traceback), and on Ctrl-C or an error this process cancels what has not started and
terminates the workers before the exception goes on, so no worker outlives the call. While
workers start, while this process looks at their futures (at most 0.1 s at a time) and while the
workers are stopped, Ctrl-C is held back and raised after: a Ctrl-C taken by another thread cut
the start short and left a worker running (7 runs in 8 at 1.2-1.8 s into a bootstrap), and one
raised while a future's lock was held left the pool's shutdown waiting forever (2 in 16 at 1-7 s).
"""

from __future__ import annotations

import ast
import multiprocessing
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, InvalidStateError, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from .errors import MgriskError

__all__ = ["check_main_guard", "run_chunks"]

#: Seconds to wait for a terminated worker to go.
_JOIN_TIMEOUT = 5.0


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
    check_main_guard()
    pool = _pool(jobs - 1, initializer, initargs)
    finished = False
    hook = threading.excepthook
    threading.excepthook = _quiet_broken_pool_hook(hook)
    try:
        with _sigint_held():  # workers start during submit and inherit the mask
            futures = [pool.submit(fn, c) for c in chunks]
        pending = list(futures)
        with _one_thread():
            for future, chunk in zip(reversed(futures), reversed(chunks), strict=True):
                with _sigint_held():  # see _finished
                    taken = not future.cancel()
                if taken:
                    break  # the workers took this chunk, so all before it
                pending.remove(future)
                yield fn(chunk)
                yield from _finished(pending, timeout=0)
        while pending:
            yield from _finished(pending, timeout=0.1)
        finished = True
    except BrokenProcessPool:
        raise MgriskError(
            "a worker process stopped unexpectedly (out of memory, killed, or a script "
            're-run by the worker without an `if __name__ == "__main__":` guard); '
            "run again with jobs=1 to see the cause"
        ) from None
    finally:  # done, an error, Ctrl-C or an abandoned loop: start no more chunks
        try:
            with _sigint_held():  # a second Ctrl-C must not cut the shutdown short
                _shut_down(pool, wait=finished)
        finally:
            threading.excepthook = hook


def _finished(pending: list, timeout: float) -> list:
    """The results of the futures in ``pending`` that are done within ``timeout`` seconds (taken
    out of it). Ctrl-C is held back meanwhile (at most ``timeout``), so that it is never raised
    while this thread holds a future's lock: the pool's own thread would wait for that lock
    forever, and so would the shutdown."""
    with _sigint_held():
        done, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
        ready = [f for f in pending if f in done]
        for future in ready:
            pending.remove(future)
        return [future.result() for future in ready]


def _quiet_broken_pool_hook(hook):
    """Python < 3.12's pool manager thread raises InvalidStateError (and prints a traceback)
    when a pool breaks while it holds futures this process cancelled (taken back to run here):
    a harmless bookkeeping error, kept off the user's screen."""

    def quiet(args):
        if args.exc_type is InvalidStateError:
            return
        hook(args)

    return quiet


def _shut_down(pool: ProcessPoolExecutor, wait: bool) -> None:
    """Shut the pool down; unless it finished, terminate its workers first (no orphans)."""
    if wait:
        pool.shutdown(wait=True)
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(_JOIN_TIMEOUT)
    pool.shutdown(wait=True)


@contextmanager
def _sigint_held():
    """Ctrl-C held back until the block ends, then raised. SIGINT is blocked in this thread (so
    in the processes it starts, which then ignore it), and should another thread of this
    process take it (numba's, a pool's), Python's handler only notes it meanwhile: a worker
    started but not yet counted, or a shutdown cut short, would outlive the run."""
    if not hasattr(signal, "pthread_sigmask") or (
        threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)  # one pending here is noted too
        signal.signal(signal.SIGINT, previous)
        if caught:
            signal.raise_signal(signal.SIGINT)  # to the handler the caller had


def check_main_guard() -> None:
    """Raise `MgriskError` when worker processes would re-run the calling script.

    Spawned workers import the main script again; code at its top level (not under
    ``if __name__ == "__main__":``) would run again in every worker, which then fails to start
    its own workers (Python's BrokenProcessPool). Found from the call stack and the script's
    source: the top-level statement of ``__main__`` that is running now must be that guard.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or not path:
        return  # an interactive session or python -c: workers re-run nothing
    frame = sys._getframe(1)
    while frame is not None and not (
        frame.f_globals is main.__dict__ and frame.f_code.co_name == "<module>"
    ):
        frame = frame.f_back
    if frame is None:
        return  # called from elsewhere (a thread, an interactive session): nothing to check
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return
    line = frame.f_lineno
    for statement in tree.body:
        if statement.lineno <= line <= (statement.end_lineno or statement.lineno):
            if isinstance(statement, ast.If) and _is_main_test(statement.test):
                return
            raise MgriskError(
                f"{path}, line {line}: asks for several worker processes outside "
                '`if __name__ == "__main__":`; each worker re-runs the script\'s top level. '
                "Put the script's work under that guard (or use jobs=1)"
            )


def _is_main_test(test: ast.expr) -> bool:
    names = {n.id for n in ast.walk(test) if isinstance(n, ast.Name)}
    texts = {n.value for n in ast.walk(test) if isinstance(n, ast.Constant)}
    return "__name__" in names and "__main__" in texts


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

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
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
