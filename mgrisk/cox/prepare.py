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
from . import _kernels
from .checks import check_survival, first_rows

__all__ = ["PreparedCox", "prepare_cox"]

#: R survival's default tolerance for merging near-tied times (``aeqSurv``: sqrt of double eps).
TIMEFIX_TOLERANCE = np.sqrt(np.finfo(float).eps)


@dataclass(frozen=True)
class PreparedCox:
    """Validated, indexed Cox data (see `prepare_cox`). Arrays are read-only by convention.

    Rows are stored sorted by (stratum, exit time): ``order[k]`` is the caller's row at
    position k. Public results map back to the caller's order.
    """

    order: np.ndarray  # (n,) int64 caller's row index of each stored row
    X: np.ndarray  # (n, p) centred and scaled covariates, column-major (Fortran order)
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
        """The same data with new case weights (caller's row order, e.g. bootstrap counts);
        no re-indexing."""
        return replace(self, weights=_check_weights(weights, self.n)[self.order])

    def with_X(self, X, names: list[str] | None = None) -> PreparedCox:
        """The same rows with new covariates (caller's row order; same times and strata)."""
        X, names = _as_2d(X, names)
        if X.shape[0] != self.n:
            raise InputError(f"X: has {X.shape[0]} rows, expected {self.n}")
        Xc, names, center, scale = _prepare_X(X, self.order, names)
        return replace(self, X=Xc, names=names, center=center, scale=scale)

    def with_columns(self, X, names: list[str], keep: list[int]) -> PreparedCox:
        """New covariates (caller's row order) followed by the stored columns ``keep``: a refit
        that changes only some columns (e.g. the exposure's coding) gathers only those."""
        X, names = _as_2d(X, names)
        if X.shape[0] != self.n:
            raise InputError(f"X: has {X.shape[0]} rows, expected {self.n}")
        Xs, center, scale, _ = _standardized(X, self.order, names)
        Xc = np.empty((self.n, Xs.shape[1] + len(keep)), order="F")  # column-major, as stored
        Xc[:, : Xs.shape[1]] = Xs
        for k, j in enumerate(keep, Xs.shape[1]):  # column by column: no temporary copy
            Xc[:, k] = self.X[:, j]
        names = names + [self.names[j] for j in keep]
        _check_estimable((Xc.T @ Xc) / self.n, names)
        return replace(
            self,
            X=Xc,
            names=names,
            center=np.concatenate([center, self.center[keep]]),
            scale=np.concatenate([scale, self.scale[keep]]),
        )

    def select(self, keep: list[int]) -> PreparedCox:
        """The same rows with only the stored columns ``keep`` (e.g. a model without the
        exposure), as stored: no new centring or scaling."""
        X = np.empty((self.n, len(keep)), order="F")
        for k, j in enumerate(keep):
            X[:, k] = self.X[:, j]
        names = [self.names[j] for j in keep]
        return replace(self, X=X, names=names, center=self.center[keep], scale=self.scale[keep])

    def raw_X(self) -> np.ndarray:
        """The covariates as given, in stored order (undo centring and scaling)."""
        return self.X * self.scale + self.center

    def to_caller(self, values: np.ndarray) -> np.ndarray:
        """Per-row values in stored order, returned in the caller's row order."""
        out = np.empty_like(values)
        out[self.order] = values
        return out


def _as_1d(values, name: str, n: int | None = None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim != 1:
        raise InputError(f"{name}: expected a 1-D array, got shape {np.shape(values)}")
    if n is not None and arr.size != n:
        raise InputError(f"{name}: has {arr.size} values but X has {n} rows")
    try:
        return arr.astype(float, copy=False)
    except (TypeError, ValueError):
        raise InputError(f"{name}: values must be numeric") from None


def _check_finite(arr: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        raise InputError(f"{name}: {first_rows(bad)} are missing or infinite; drop or impute them")


def _check_weights(weights, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = _as_1d(weights, "weights", n)
    _check_finite(w, "weights")
    if (w < 0).any():
        raise InputError(f"weights: {first_rows(w < 0)} are negative; weights must be >= 0")
    return np.ascontiguousarray(w)


def _as_2d(X, names: list[str] | None) -> tuple[np.ndarray, list[str]]:
    """X as a float matrix with column names; non-numeric or non-finite values are errors."""
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
    names = [f"x{j}" for j in range(X.shape[1])] if names is None else list(names)
    if len(names) != X.shape[1]:
        raise InputError(f"names: {len(names)} names for {X.shape[1]} columns")
    bad = ~np.isfinite(X)
    if bad.any():
        col = names[int(np.flatnonzero(bad.any(axis=0))[0])]
        raise InputError(
            f"X: column '{col}' has missing or infinite values in "
            f"{first_rows(bad.any(axis=1))}; drop or impute them"
        )
    return X, names


def _standardized(X: np.ndarray, order: np.ndarray, names: list[str]):
    """Rows in ``order``, centred and scaled (as R's agfit4 scales); constant columns refused.
    Returns the columns, their centres and scales."""
    if X.shape[1] == 0:
        raise InputError("X has no columns")
    Xs = _kernels.gather_rows(X, order)
    center, scale, gram = _kernels.standardize_columns(Xs)
    constant = scale == 0
    if constant.any():
        bad = [names[j] for j in np.flatnonzero(constant)]
        raise InputError(f"X: column(s) {bad} are constant; a Cox model cannot estimate them")
    return Xs, center, scale, gram


def _check_estimable(gram: np.ndarray, names: list[str]) -> None:
    """Refuse collinear columns (a linear combination that is constant)."""
    p = gram.shape[0]
    if p > 1:
        corr = gram / np.sqrt(np.outer(np.diag(gram), np.diag(gram)))
        values, vectors = np.linalg.eigh(corr)
        for k in np.flatnonzero(values <= 1e-10 * p):
            involved = [names[j] for j in np.flatnonzero(np.abs(vectors[:, k]) > 1e-6)]
            raise InputError(
                f"X: columns {involved} are collinear (a linear combination of them is "
                "constant); drop one of them or recode the design"
            )


def _prepare_X(X: np.ndarray, order: np.ndarray, names: list[str]):
    """Rows in ``order``, centred and scaled; check it is estimable."""
    Xs, center, scale, gram = _standardized(X, order, names)
    _check_estimable(gram, names)
    return Xs, names, center, scale


def _codes(values, name: str, n: int) -> tuple[np.ndarray, list]:
    arr = pd.Series(np.asarray(values).reshape(-1) if not isinstance(values, pd.Series) else values)
    if arr.size != n:
        raise InputError(f"{name}: has {arr.size} values but X has {n} rows")
    if arr.isna().any():
        raise InputError(f"{name}: {first_rows(arr.isna().to_numpy())} are missing")
    codes, labels = pd.factorize(arr, sort=True)
    return codes.astype(np.int64), list(labels)


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
    X, names = _as_2d(X, names)
    n = X.shape[0]
    if n == 0:
        raise InputError("X: no rows")
    exit_, ev, entry_ = check_survival(time, event, entry, n=n, binary=True)
    ev = ev.astype(bool)
    if not ev.any():
        raise InputError("'event': no events (all values are 0); a Cox model needs events")
    w = _check_weights(weights, n)
    off = np.zeros(n) if offset is None else _as_1d(offset, "offset", n)
    _check_finite(off, "offset")
    if strata is None:
        s_codes, s_labels = np.zeros(n, dtype=np.int64), [None]
    else:
        s_codes, s_labels = _codes(strata, "strata", n)
    cl = None if cluster is None else _codes(cluster, "cluster", n)[0]

    # Sort once by (stratum, exit) and index the risk sets. Near-tied times are merged as R's
    # timefix (aeqSurv) merges them when fix_ties.
    index = _kernels.index_rows(
        exit_ + 0.0,  # + 0.0 turns -0.0 into 0.0
        exit_[:0] if entry_ is None else entry_ + 0.0,
        ev,
        s_codes,
        len(s_labels),
        TIMEFIX_TOLERANCE if fix_ties else 0.0,
    )
    order, g_exit, g_entry, exit_pos = index.order, index.g_exit, index.g_entry, index.exit_pos
    entry_pos, event_sorted, event_group = index.entry_pos, index.event, index.event_group
    if entry_ is not None and (g_exit <= g_entry).any():
        raise InputError(
            f"time: {first_rows(_to_caller_mask(g_exit <= g_entry, order))} have entry and "
            "exit within R's timefix tolerance (an interval of effective length 0)"
        )
    exit_pos[exit_pos <= entry_pos] = -1  # at risk at no event time

    Xs, names, center, scale = _prepare_X(X, order, names)
    death_rows = np.flatnonzero(event_sorted)  # grouped by event time: rows are exit-sorted
    counts = np.bincount(exit_pos[death_rows], minlength=event_group.size)
    return PreparedCox(
        order=order,
        X=Xs,
        names=names,
        center=center,
        scale=scale,
        weights=w if weights is None else w[order],  # all ones need no reordering
        offset=off if offset is None else off[order],
        event=event_sorted,
        entry=None if entry_ is None else index.group_time[g_entry],
        exit=index.group_time[g_exit],
        strata=index.strata,
        strata_labels=s_labels,
        cluster=None if cl is None else cl[order],
        exit_pos=exit_pos,
        entry_pos=entry_pos,
        death_ptr=np.concatenate([[0], np.cumsum(counts)]),
        death_rows=death_rows,
        block_end=index.block_end,
        event_times=index.group_time[event_group],
        event_strata=index.event_stratum,
    )


def _to_caller_mask(mask_stored: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = np.zeros(mask_stored.size, dtype=bool)
    out[order[mask_stored]] = True
    return out
