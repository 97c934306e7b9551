"""Steady memory for the command line's own process: freed memory reused, no huge pages.

glibc serves every allocation above 32 MB (a column of 4M floats, a 1M x 5 design) with its own
``mmap`` and returns it with ``munmap`` when freed, so a run that builds one design after another
pays the kernel's page faults and unmaps each time: on a 1M-row ``mgrisk fit`` that was 5 s of
system time out of 14 s. Turning ``mmap`` off and never trimming the heap lets the next array
reuse the last one's pages (0.5 s).

numpy asks the kernel for transparent huge pages (2 MB) for its large arrays. On a virtual
machine that backs its memory lazily, as CI machines do, a huge page sometimes costs
milliseconds: 640 MB of arrays took 0.12 s one time and 5 to 8 s another, in system time; with
ordinary pages, 0.22 s every time. A 1M-row ``mgrisk fit`` took 4.45 s instead of 4.66 s
(medians of 5, alternated), and no run stalls.

Only the command line calls this: it owns its process; a library must not change its host's
allocator.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4


def steady_memory() -> bool:
    """Keep freed memory for reuse (glibc's malloc; other C libraries are left alone) and give
    numpy's arrays ordinary pages. Returns whether malloc took the settings.

    >>> steady_memory() in (True, False)
    True
    """
    _no_huge_pages()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))


def _no_huge_pages() -> None:
    """numpy's own switch (what ``NUMPY_MADVISE_HUGEPAGE=0`` sets when numpy is imported)."""
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # numpy 1.x
        try:
            from numpy.core.multiarray import _set_madvise_hugepage
        except ImportError:  # pragma: no cover  (a numpy without the switch)
            return
    _set_madvise_hugepage(False)
