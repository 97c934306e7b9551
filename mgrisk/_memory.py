"""Keep freed memory in the process: large arrays then reuse pages instead of asking the kernel.

glibc serves every allocation above 32 MB (a column of 4M floats, a 1M x 5 design) with its own
``mmap`` and returns it with ``munmap`` when freed, so a run that builds one design after another
pays the kernel's page faults and unmaps each time: on a 1M-row ``mgrisk fit`` that was 5 s of
system time out of 14 s. Turning ``mmap`` off and never trimming the heap lets the next array
reuse the last one's pages (0.5 s). Only the command line calls this: it owns its process; a
library must not change its host's allocator.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to reuse freed memory; False (and no change) on other C libraries.

    >>> keep_freed_memory() in (True, False)
    True
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
