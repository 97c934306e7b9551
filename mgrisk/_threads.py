"""One numba kernel, two builds: one-threaded for small data, on all threads for large data."""

import types

import numpy as np
from numba import njit

__all__ = ["threaded_from"]


class _Twins:
    """A one-threaded and an all-threads build of one kernel with ``prange`` loops, compiled
    (and cached) apart and only when first used. Calls go to the threaded build from
    ``threshold`` rows on; the rows are the first argument (a count, or an array of one row per
    row). The kernel must give the same numbers either way (e.g. work split into fixed chunks
    added in a fixed order, or rows independent of each other)."""

    def __init__(self, fn, threshold: int):
        twin = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_threaded")
        twin.__qualname__ = fn.__qualname__ + "_threaded"  # its own numba cache file
        self.serial = njit(cache=True)(fn)
        self.threaded = njit(cache=True, parallel=True)(twin)
        self.threshold = threshold
        self.__doc__ = fn.__doc__

    def __call__(self, *args):
        first = args[0]
        rows = int(first) if np.ndim(first) == 0 else len(first)
        return (self.threaded if rows >= self.threshold else self.serial)(*args)


def threaded_from(threshold: int):
    """Decorator: build the kernel twice, as `_Twins` describes."""
    return lambda fn: _Twins(fn, threshold)
