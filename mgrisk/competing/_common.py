"""Checks and time ranks shared by the competing-risks modules (plain arrays, no pandas)."""

from __future__ import annotations

import numpy as np

from ..cox import TIMEFIX_TOLERANCE, argsort_times, time_groups
from ..errors import InputError

__all__ = ["check_arrays", "time_ranks"]


def _first(mask: np.ndarray) -> str:
    rows = np.flatnonzero(mask)
    return f"{rows.size} row(s), first at row(s) {', '.join(map(str, rows[:5]))}"


def check_arrays(time, event, entry=None, cause: int = 1):
    """Validated float times, integer event codes (0 censored, 1..K causes) and entry times."""
    t = np.asarray(time, dtype=float).ravel()
    e = np.asarray(event, dtype=float).ravel()
    if e.size != t.size:
        raise InputError(f"event: has {e.size} values but time has {t.size}")
    if t.size == 0:
        raise InputError("time: no rows")
    for name, v in (("time", t), ("event", e)):
        if not np.isfinite(v).all():
            raise InputError(f"{name}: {_first(~np.isfinite(v))} are missing or infinite")
    bad = (e < 0) | (e != np.round(e))
    if bad.any():
        raise InputError(
            f"event: {_first(bad)} are not event codes; use 0 for censored and 1, 2, ... for causes"
        )
    e = e.astype(np.int64)
    if not (e == cause).any():
        raise InputError(
            f"event: no events with code {cause} (codes present: {sorted(set(e.tolist()))}); "
            "set cause= to the event of interest"
        )
    if entry is None:
        if (t <= 0).any():
            raise InputError(f"time: {_first(t <= 0)} have zero or negative follow-up")
        return t, e, None
    a = np.asarray(entry, dtype=float).ravel()
    if a.size != t.size:
        raise InputError(f"entry: has {a.size} values but time has {t.size}")
    if not np.isfinite(a).all():
        raise InputError(f"entry: {_first(~np.isfinite(a))} are missing or infinite")
    if (a < 0).any():
        raise InputError(f"entry: {_first(a < 0)} are negative")
    if (t <= a).any():
        raise InputError(
            f"time: {_first(t <= a)} exit at or before entry; every row needs entry < exit"
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
            f"time: {_first(g_exit <= g_entry)} have entry and exit within R's timefix "
            "tolerance (an interval of effective length 0)"
        )
    return g_exit, g_entry, times
