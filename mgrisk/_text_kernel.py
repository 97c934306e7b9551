"""numba kernels over a text file's bytes: how many line ends and separators it has, where its
lines are and how many fields each has.

One pass over the bytes (a million-line CSV in about 0.05 s to count, 0.1 s to split), instead
of splitting the text into Python strings. Lines end at "\n" ("\r\n" counts as one end); empty
lines are left out, as pandas skips them. Arrays only, as every mgrisk kernel.
"""

import numpy as np
from numba import njit

__all__ = ["byte_counts", "line_fields"]


@njit(cache=True, nogil=True)
def byte_counts(b, sep):
    """The number of "\n" bytes and of ``sep`` bytes (a byte value) in the bytes ``b`` (uint8):
    half the time of Python's two ``bytes.count``, in one pass."""
    lines = 0
    seps = 0
    for i in range(b.size):
        lines += b[i] == 10
        seps += b[i] == sep
    return lines, seps


@njit(cache=True)
def line_fields(b, sep, n_lines):
    """For each non-empty line of the bytes ``b`` (uint8; at most ``n_lines`` lines): its file
    line number (1-based), start and end offsets (end excludes "\r\n") and its number of
    fields separated by ``sep`` (a byte value)."""
    number = np.empty(n_lines, dtype=np.int64)
    start = np.empty(n_lines, dtype=np.int64)
    end = np.empty(n_lines, dtype=np.int64)
    fields = np.empty(n_lines, dtype=np.int64)
    k = 0
    line = 1
    first = 0
    count = 1
    n = b.size
    for i in range(n + 1):
        if i < n and b[i] != 10:
            if b[i] == sep:
                count += 1
            continue
        stop = i - 1 if i > first and b[i - 1] == 13 else i
        if stop > first:
            number[k] = line
            start[k] = first
            end[k] = stop
            fields[k] = count
            k += 1
        line += 1
        first = i + 1
        count = 1
    return number[:k], start[:k], end[:k], fields[:k]
