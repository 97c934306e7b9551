"""One piece of a run computed in a forked child while this process computes the rest.

The child starts as a copy of this process (the fitted model included: nothing is sent to it),
computes ``fn()`` and sends the value back through a pipe; the value is the same as computed
here, so a run's numbers do not depend on where its pieces ran. Where fork is unsafe or absent
(not Linux, one core, numba's GNU OpenMP threads already running) ``fn`` runs here, when its
value is asked for. While the child runs, each process gives numba's threaded kernels one
thread (the two share the cores; their numbers do not depend on the threads). Ctrl-C belongs to
this process: the child ignores it and is ended with it.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable

import numba
from threadpoolctl import threadpool_limits

__all__ = ["apart", "prefer_fork_safe_threads"]


def prefer_fork_safe_threads() -> None:
    """Have numba's threaded kernels use TBB, else its own workqueue, before GNU OpenMP (which
    makes a forked child abort). Only the command line calls this, before any kernel runs, and
    not for ``explore``: the workqueue refuses kernels launched from two threads at once."""
    numba.config.THREADING_LAYER_PRIORITY = ["tbb", "workqueue", "omp"]


def _fork_safe() -> bool:
    if not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2:
        return False
    try:
        return numba.threading_layer() != "omp"  # GNU OpenMP aborts in a forked child
    except ValueError:  # no threaded kernel has run yet
        return True


def _child(fn: Callable, conn) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    numba.set_num_threads(1)
    threadpool_limits(1, user_api="blas")
    try:
        conn.send((True, fn()))
    except BaseException as exc:  # sent back and raised there, as if computed there
        try:
            conn.send((False, exc))
        except Exception:  # an exception that does not pickle
            conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        conn.close()


def apart(fn: Callable[[], object], enabled: bool = True) -> Callable[[], object]:
    """Start ``fn()`` in a forked child; returns a function that waits for its value (and
    raises what ``fn`` raised).

    >>> value = apart(lambda: 6 * 7)
    >>> value()
    42
    """
    if not enabled or not _fork_safe():
        return fn
    sys.stdout.flush()  # else the child would print what is buffered here again
    sys.stderr.flush()
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(fn, send), daemon=True)
    child.start()
    send.close()
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    blas = threadpool_limits(1, user_api="blas")

    def wait():
        try:
            ok, value = receive.recv()
        except EOFError:  # the child died without an answer: compute it here
            ok, value = None, None
        except BaseException:  # Ctrl-C here: the child's answer is no longer wanted
            child.terminate()
            raise
        finally:
            numba.set_num_threads(threads)
            blas.restore_original_limits()
            receive.close()
            child.join(timeout=5.0)
            if child.is_alive():
                child.kill()
                child.join()
        if ok is None:
            return fn()
        if not ok:
            raise value
        return value

    return wait
