"""The one check of survival data: every entry point (cohort frames, the Cox engine, Fine-Gray,
cumulative incidence) validates times and event codes here, with the same rules and messages.

Rules (those of R's ``Surv`` and ``coxph``, restricted to non-negative times): times are finite
and >= 0; with an entry time, entry < exit; event codes are 0 (censored) and 1, 2, ... (causes),
or 0/1 where only one event type is allowed. Rows are named as a person counts them: from 1.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from ..errors import InputError

__all__ = ["SurvivalArrays", "check_survival", "first_rows"]

#: The largest event code accepted: codes name a handful of causes, so a larger value is a
#: data error (and would not survive the cast to an integer).
MAX_CODE = 1000


def first_rows(
    mask: np.ndarray, rows: np.ndarray | None = None, k: int = 5, lines: np.ndarray | None = None
) -> str:
    """'3 row(s), first at row(s) 4, 9, 12': 1-based positions (``rows``: each position's
    row in the caller's data, 0-based, when the arrays are a subset of it; ``lines``: each of
    the caller's rows' line in its file, named too)."""
    where = np.flatnonzero(mask)
    if rows is not None:
        where = np.asarray(rows)[where]
    text = f"{where.size} row(s), first at row(s) {', '.join(str(r + 1) for r in where[:k])}"
    if lines is not None:
        text += f" (file line(s) {', '.join(str(lines[r]) for r in where[:k])})"
    return text


class SurvivalArrays(NamedTuple):
    """Checked float arrays: exit times, event codes and entry times (None without entry)."""

    exit: np.ndarray
    event: np.ndarray
    entry: np.ndarray | None


def _numeric(values, name: str, n: int | None, where=first_rows) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise InputError(f"{name}: expected one value per row, got shape {np.shape(values)}")
    if n is not None and arr.size != n:
        raise InputError(f"{name}: has {arr.size} values, expected {n} (one per row)")
    try:
        arr = arr.astype(float, copy=False)
    except (TypeError, ValueError):
        raise InputError(f"{name}: values must be numeric") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        raise InputError(f"{name}: {where(bad)} are missing or infinite; drop or fix them")
    return arr


def check_survival(
    time,
    event,
    entry=None,
    *,
    n: int | None = None,
    binary: bool = False,
    names: tuple[str, str, str] = ("time", "event", "entry"),
    rows: np.ndarray | None = None,
    lines: np.ndarray | None = None,
) -> SurvivalArrays:
    """Validate exit times, event codes and entry times.

    Parameters
    ----------
    time, event, entry : array-like
        Exit times (>= 0), event codes (0 censored, 1, 2, ... causes; 0/1 with ``binary``),
        entry times (>= 0 and < exit) or None.
    n : int, optional
        The number of rows expected.
    names : (str, str, str)
        How messages name the three (e.g. the user's column names).
    rows : array of int, optional
        Each position's 0-based row in the caller's data (messages then count those rows).
    lines : array of int, optional
        Each of the caller's rows' line in its file (messages name them too).

    Examples
    --------
    >>> check_survival([2.0, 3.0], [1, 0]).event.tolist()
    [1.0, 0.0]
    >>> check_survival([2.0, 3.0], [1, 0], entry=[2.5, 0.0])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mgrisk.errors.InputError: 'time'/'entry': 1 row(s), first at row(s) 1 exit at or before ...
    """
    t_name, e_name, a_name = (f"'{name}'" for name in names)
    where = functools.partial(first_rows, rows=rows, lines=lines)
    t = _numeric(time, t_name, n, where)
    n = t.size
    if n == 0:
        raise InputError(f"{t_name}: no rows")
    e = _numeric(event, e_name, n, where)
    if binary:
        bad = (e != 0.0) & (e != 1.0)
        if bad.any():
            raise InputError(
                f"{e_name}: {where(bad)} are not 0 or 1; code events as 1 and "
                "censoring as 0 (for several causes, analyse one cause at a time)"
            )
    else:
        bad = (e < 0) | (e != np.round(e)) | (e > MAX_CODE)
        if bad.any():
            first = e[bad][0]
            raise InputError(
                f"{e_name}: {where(bad)} ({first:g}) are not event codes; use 0 for "
                f"censored and 1, 2, ... (up to {MAX_CODE}) for causes"
            )
    if (t < 0).any():
        raise InputError(
            f"{t_name}: {where(t < 0)} have a negative time ({t[t < 0][0]:g}); times must be >= 0"
        )
    if entry is None:
        return SurvivalArrays(t, e, None)
    a = _numeric(entry, a_name, n, where)
    if (a < 0).any():
        raise InputError(
            f"{a_name}: {where(a < 0)} have a negative entry time ({a[a < 0][0]:g}); "
            "times must be >= 0"
        )
    late = t <= a
    if late.any():
        raise InputError(
            f"{t_name}/{a_name}: {where(late)} exit at or before entry; every row "
            "needs entry < exit"
        )
    return SurvivalArrays(t, e, a)
