"""Checks and time ranks shared by the competing-risks modules (plain arrays, no pandas)."""

from __future__ import annotations

import numpy as np

from ..cox import TIMEFIX_TOLERANCE, argsort_times, check_survival, first_rows, time_groups
from ..errors import InputError

__all__ = ["check_arrays", "time_ranks"]


def check_arrays(time, event, entry=None, cause: int = 1):
    """Validated float times, integer event codes (0 censored, 1..K causes) and entry times
    (the rules of `mgrisk.cox.check_survival`), with events of the cause of interest."""
    t, e, a = check_survival(time, event, entry)
    e = e.astype(np.int64)
    if not (e == cause).any():
        raise InputError(
            f"'event': no events with code {cause} (codes present: {sorted(set(e.tolist()))}); "
            "set cause= to the event of interest"
        )
    return t, e, a


def time_ranks(exit_, entry=None, fix_ties: bool = True):
    """Ranks (0, 1, ...) of exit and entry times among the distinct times of both.

    Near-tied times are merged as R survival's ``aeqSurv`` (``timefix``) when ``fix_ties``, the
    same rule the Cox engine applies. Returns (exit ranks, entry ranks or None, time of each
    rank).
    """
    tol = TIMEFIX_TOLERANCE if fix_ties else 0.0
    exit_ = np.ascontiguousarray(exit_, dtype=float) + 0.0
    order = argsort_times(exit_)
    if entry is None:
        g_exit, _, times = time_groups(exit_, order, exit_[:0], order[:0], tol)
        return g_exit, None, times
    entry = np.ascontiguousarray(entry, dtype=float) + 0.0
    g_exit, g_entry, times = time_groups(exit_, order, entry, argsort_times(entry), tol)
    if (g_exit <= g_entry).any():
        raise InputError(
            f"time: {first_rows(g_exit <= g_entry)} have entry and exit within R's timefix "
            "tolerance (an interval of effective length 0)"
        )
    return g_exit, g_entry, times
