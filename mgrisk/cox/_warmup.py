"""Compile the likelihood kernels in a child process while this one does other work.

numba compiles each kernel once and caches it on disk. On a fresh install a first fit spends
most of its time compiling; with two cores, a child compiling the likelihood kernels (into the
same cache) while this process compiles the simulator and the indexing kernels takes about 5 s
off a first `mgrisk demo`. The child's kernels are loaded from the cache when the fit needs them.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from numba.types import float64, int64

from . import _kernels

__all__ = ["load", "start", "wait"]

_child: subprocess.Popen | None = None


def _builds(rows: int):
    """The builds of the likelihood kernels that a fit of `rows` rows calls."""
    pick = "threaded" if rows >= _kernels.PARALLEL_ROWS else "serial"
    return [
        getattr(_kernels.risk_weights, pick),
        getattr(_kernels.weighted_gram, pick),
        _kernels.event_time_terms,
        _kernels._within_block_cumsum,
        _kernels.information_weights,
    ]


def _cached(rows: int) -> bool:
    """Whether every kernel that the child would compile has a cache index already."""
    return all(_in_cache(k) for k in _builds(rows))


def _in_cache(kernel) -> bool:
    try:
        return os.path.exists(kernel._cache._cache_file._index_path)
    except AttributeError:  # another numba's internals: do not guess
        return True


def load() -> None:
    """Load numba from its cache with a small serial kernel of the fit: 0.2 s, numba's own first
    load, which every kernel after it then skips. Nothing when it is not cached (the fit
    compiles what it needs). Safe in a thread: numba loads under its lock, and no threaded
    kernel is loaded (that would start numba's threads there, and fork warns of them)."""
    kernel = _kernels._within_block_cumsum
    if _in_cache(kernel):
        kernel.compile((float64[::1], int64[::1]))


def start(rows: int) -> None:
    """Start compiling, in a child process, the likelihood kernels for a fit of `rows` rows,
    unless they are cached already or there is only one core."""
    global _child
    if _child is None and (os.cpu_count() or 1) > 1 and not _cached(rows):
        _child = subprocess.Popen(
            [sys.executable, "-c", f"from {__name__} import _compile; _compile({int(rows)})"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def wait() -> None:
    """Wait for the child started by `start`, if any (its kernels are then in the cache)."""
    global _child
    if _child is not None:
        _child.wait()
        _child = None


def _compile(rows: int) -> None:
    """One likelihood pass on two rows and one event time, with the argument types of a fit
    (X column-major and, with two columns, not also row-major)."""
    X = np.asfortranarray([[0.5, 1.0], [-0.5, 2.0]])
    w = np.ones(2)
    exit_pos, entry_pos = np.array([0, 0]), np.array([-1, -1])
    death_ptr, death_rows, block_end = np.array([0, 1]), np.array([0]), np.array([1])
    layout = (exit_pos, entry_pos, death_ptr, death_rows, block_end)
    risk_weights, weighted_gram = _builds(rows)[:2]
    eta, shift, wr = risk_weights(X, w, np.zeros(2), np.zeros(2))
    terms = _kernels.event_time_terms(X, w, eta, shift, wr, *layout, True, False)
    C = _kernels._within_block_cumsum(terms[4], block_end)
    q = _kernels.information_weights(wr, np.array([True, False]), exit_pos, entry_pos, C, terms[3])
    weighted_gram(X, q)
