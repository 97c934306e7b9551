"""Validate Cox model data once and index its risk sets for any number of refits.

`prepare_cox` checks every input (naming the first offending rows), merges near-tied times as R
survival does (``timefix``), numbers the distinct event times stratum by stratum and records, for
every row, the event times at which it is at risk. The covariates are centred and scaled for the
Newton iterations; a refit with new weights or new columns reuses the index (`with_weights`,
`with_X`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["PreparedCox", "prepare_cox"]

#: R survival's default tolerance for merging near-tied times (sqrt of double epsilon).
TIMEFIX_TOLERANCE = np.sqrt(np.finfo(float).eps)


@dataclass(frozen=True)
class PreparedCox:
    """Validated, indexed Cox data (see `prepare_cox`). Arrays are read-only by convention."""

    X: np.ndarray  # (n, p) centred and scaled covariates, C-contiguous
    names: list[str]
    center: np.ndarray  # (p,) column means subtracted
    scale: np.ndarray  # (p,) column scales divided by
    weights: np.ndarray  # (n,)
    offset: np.ndarray  # (n,)
    event: np.ndarray  # (n,) bool
    entry: np.ndarray | None  # (n,) entry times after timefix, or None
    exit: np.ndarray  # (n,) exit times after timefix
    strata: np.ndarray  # (n,) int codes
    strata_labels: list
    exit_pos: np.ndarray  # (n,) int64: last event time index at risk, -1 if none
    entry_pos: np.ndarray  # (n,) int64: last event time index not at risk, -1 if none
    death_ptr: np.ndarray  # (E + 1,) int64 CSR pointers into death_rows
    death_rows: np.ndarray  # int64 rows with an event, grouped by event time
    block_end: np.ndarray  # (E,) int64: one past the last event time of the stratum
    event_times: np.ndarray  # (E,) the distinct event times, stratum by stratum
    event_strata: np.ndarray  # (E,) stratum code of each event time
    cluster: np.ndarray | None  # (n,) int codes for robust variance, or None

    @property
    def n(self) -> int:
        return self.X.shape[0]

    def with_weights(self, weights) -> PreparedCox:
        """The same data with new case weights (e.g. bootstrap counts); no re-indexing."""
        return replace(self, weights=_check_weights(weights, self.n))

    def with_X(self, X, names: list[str] | None = None) -> PreparedCox:
        """The same rows with new covariates (same times, strata, weights)."""
        Xc, names, center, scale = _prepare_X(X, self.n, names)
        return replace(self, X=Xc, names=names, center=center, scale=scale)

    def raw_X(self) -> np.ndarray:
        """The covariates as given (undo centring and scaling)."""
        return self.X * self.scale + self.center


def _as_1d(values, name: str, n: int | None = None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim != 1:
        raise InputError(f"{name}: expected a 1-D array, got shape {np.shape(values)}")
    if n is not None and arr.size != n:
        raise InputError(f"{name}: has {arr.size} values but X has {n} rows")
    try:
        return arr.astype(float)
    except (TypeError, ValueError):
        raise InputError(f"{name}: values must be numeric") from None


def _first_rows(mask: np.ndarray, k: int = 5) -> str:
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r) for r in rows[:k])
    return f"{rows.size} row(s), first at row(s) {shown}"


def _check_finite(arr: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        raise InputError(f"{name}: {_first_rows(bad)} are missing or infinite; drop or impute them")


def _check_weights(weights, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = _as_1d(weights, "weights", n)
    _check_finite(w, "weights")
    if (w < 0).any():
        raise InputError(f"weights: {_first_rows(w < 0)} are negative; weights must be >= 0")
    return np.ascontiguousarray(w)


def _prepare_X(X, n: int | None, names: list[str] | None):
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns] if names is None else names
        non_numeric = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if non_numeric:
            raise InputError(
                f"X: column(s) {non_numeric} are not numeric; code them as numbers or dummies"
            )
        X = X.to_numpy(dtype=float)
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise InputError(f"X: expected a 2-D array, got shape {X.shape}")
    if n is not None and X.shape[0] != n:
        raise InputError(f"X: has {X.shape[0]} rows, expected {n}")
    names = [f"x{j}" for j in range(X.shape[1])] if names is None else list(names)
    if len(names) != X.shape[1]:
        raise InputError(f"names: {len(names)} names for {X.shape[1]} columns")
    bad = ~np.isfinite(X)
    if bad.any():
        col = names[int(np.flatnonzero(bad.any(axis=0))[0])]
        raise InputError(
            f"X: column '{col}' has missing or infinite values in "
            f"{_first_rows(bad.any(axis=1))}; drop or impute them"
        )
    center = X.mean(axis=0)
    scale = np.abs(X - center).mean(axis=0)
    scale[scale == 0] = 1.0
    return np.ascontiguousarray((X - center) / scale), names, center, scale


def _codes(values, name: str, n: int) -> tuple[np.ndarray, list]:
    arr = pd.Series(np.asarray(values).reshape(-1) if not isinstance(values, pd.Series) else values)
    if arr.size != n:
        raise InputError(f"{name}: has {arr.size} values but X has {n} rows")
    if arr.isna().any():
        raise InputError(f"{name}: {_first_rows(arr.isna().to_numpy())} are missing")
    codes, labels = pd.factorize(arr, sort=True)
    return codes.astype(np.int64), list(labels)


def timefix(times: np.ndarray, tolerance: float = TIMEFIX_TOLERANCE) -> np.ndarray:
    """Merge near-tied times to the first of each run, as R survival's ``aeqSurv``."""
    y = np.unique(times[np.isfinite(times)])
    if y.size < 2:
        return times
    dy = np.diff(y)
    tied = (dy <= tolerance) | (dy / np.mean(np.abs(y)) <= tolerance)
    if not tied.any():
        return times
    cuts = y[np.concatenate([[True], ~tied])]
    return cuts[np.searchsorted(cuts, times, side="right") - 1]


def prepare_cox(
    X,
    time,
    event,
    *,
    entry=None,
    strata=None,
    weights=None,
    offset=None,
    cluster=None,
    names: list[str] | None = None,
    fix_ties: bool = True,
) -> PreparedCox:
    """Validate and index Cox data once (see `fit_cox` for the parameters).

    Times are merged within R's ``timefix`` tolerance when ``fix_ties`` (R's default), so that
    times computed in floating point (e.g. ``age + futime / 365.25``) tie as R ties them.
    """
    Xc, names, center, scale = _prepare_X(X, None, names)
    n = Xc.shape[0]
    if n == 0:
        raise InputError("X: no rows")
    exit_ = _as_1d(time, "time", n)
    _check_finite(exit_, "time")
    ev = _as_1d(event, "event", n)
    _check_finite(ev, "event")
    if not np.isin(ev, (0.0, 1.0)).all():
        raise InputError(
            f"event: {_first_rows(~np.isin(ev, (0.0, 1.0)))} are not 0 or 1; code events as "
            "1 and censoring as 0 (for several causes, analyse one cause at a time)"
        )
    ev = ev.astype(bool)
    if not ev.any():
        raise InputError("event: no events (all values are 0); a Cox model needs events")
    if entry is not None:
        entry_ = _as_1d(entry, "entry", n)
        _check_finite(entry_, "entry")
        if (entry_ < 0).any():
            raise InputError(f"entry: {_first_rows(entry_ < 0)} have a negative entry time")
    else:
        entry_ = None
    if (exit_ < 0).any():
        raise InputError(f"time: {_first_rows(exit_ < 0)} have a negative time")
    if entry_ is not None and (exit_ <= entry_).any():
        raise InputError(
            f"time: {_first_rows(exit_ <= entry_)} exit at or before entry; every row needs "
            "entry < exit"
        )
    if fix_ties:
        if entry_ is None:
            exit_ = timefix(exit_)
        else:
            both = timefix(np.concatenate([entry_, exit_]))
            entry_, exit_ = both[:n], both[n:]
            if (exit_ <= entry_).any():
                raise InputError(
                    f"time: {_first_rows(exit_ <= entry_)} have entry and exit within R's "
                    "timefix tolerance (an interval of effective length 0)"
                )
    w = _check_weights(weights, n)
    off = np.zeros(n) if offset is None else _as_1d(offset, "offset", n)
    _check_finite(off, "offset")
    if strata is None:
        s_codes, s_labels = np.zeros(n, dtype=np.int64), [None]
    else:
        s_codes, s_labels = _codes(strata, "strata", n)
    cl = None if cluster is None else _codes(cluster, "cluster", n)[0]
    index = _index_risk_sets(exit_, entry_, ev, s_codes, len(s_labels))
    return PreparedCox(
        X=Xc,
        names=names,
        center=center,
        scale=scale,
        weights=w,
        offset=off,
        event=ev,
        entry=entry_,
        exit=exit_,
        strata=s_codes,
        strata_labels=s_labels,
        cluster=cl,
        **index,
    )


def _index_risk_sets(exit_, entry_, event, strata, n_strata) -> dict:
    """Number the event times stratum by stratum and place every row among them."""
    n = exit_.size
    exit_pos = np.full(n, -1, dtype=np.int64)
    entry_pos = np.full(n, -1, dtype=np.int64)
    times, time_strata, block_end = [], [], []
    start = 0
    for s in range(n_strata):
        rows = np.flatnonzero(strata == s) if n_strata > 1 else np.arange(n)
        t = np.unique(exit_[rows][event[rows]])
        if t.size:
            pos = np.searchsorted(t, exit_[rows], side="right") - 1
            exit_pos[rows] = np.where(pos >= 0, pos + start, -1)
            if entry_ is not None:
                pos = np.searchsorted(t, entry_[rows], side="right") - 1
                entry_pos[rows] = np.where(pos >= 0, pos + start, -1)
        times.append(t)
        time_strata.append(np.full(t.size, s, dtype=np.int64))
        block_end.append(np.full(t.size, start + t.size, dtype=np.int64))
        start += t.size
    # a row is at risk at no event time when its interval holds none
    exit_pos[exit_pos <= entry_pos] = -1
    deaths = np.flatnonzero(event)
    order = np.argsort(exit_pos[deaths], kind="stable")
    death_rows = deaths[order]
    counts = np.bincount(exit_pos[death_rows], minlength=start)
    death_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return {
        "exit_pos": exit_pos,
        "entry_pos": entry_pos,
        "death_ptr": death_ptr,
        "death_rows": death_rows.astype(np.int64),
        "block_end": np.concatenate(block_end),
        "event_times": np.concatenate(times),
        "event_strata": np.concatenate(time_strata),
    }
