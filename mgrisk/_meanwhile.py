"""One piece of work in a thread of this process while the caller does another (work that lets
go of the GIL: hashing, reading files, numba kernels, pandas' parser)."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["meanwhile"]


def meanwhile(fn: Callable[[], object]) -> Callable[[], object]:
    """Start ``fn()`` in a thread; returns a function that waits for its value (and raises what
    ``fn`` raised).

    >>> value = meanwhile(lambda: 6 * 7)
    >>> value()
    42
    """
    done: list = []

    def run():
        try:
            done.append((True, fn()))
        except BaseException as exc:
            done.append((False, exc))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def wait():
        thread.join()
        ok, value = done[0]
        if not ok:
            raise value
        return value

    return wait
