"""Fine-Gray subdistribution hazards with the results of R's ``finegray`` + weighted ``coxph``.

The model of Fine & Gray (JASA 1999) keeps people who died of a competing cause in the risk set
of the cause of interest, down-weighted by the probability of still being under observation.
R's ``survival::finegray`` (Therneau, Crowson & Atkinson, vignette "Multi-state models and
competing risks") does that by expanding the data: a person with a competing event at T keeps a
row to the end of T's censoring interval with weight 1, then one row per later interval that
holds an event of interest, weighted W(t) / W(T), and a weighted Cox fit does the rest.

W is the censoring survivor function G (Kaplan-Meier of censoring, events before censorings at
tied times). With delayed entry (age as the time scale) W = G * H, with H the distribution of
entry times estimated in reversed time: the weights of Geskus (Biometrics 2011,
doi 10.1111/j.1541-0420.2010.01420.x) for left truncation and right censoring (`_weights`).

`fit_fine_gray` does not build those rows: the weight factors into a function of t over a
function of T, so every risk-set sum is the ordinary Cox one plus a cumulative sum in time order
(the forward-backward scan of Kawaguchi et al., R Journal 2021), O(n p^2) per Newton step
(`_fg_kernels`, `_fg_model`). It gives the expanded likelihood exactly: coefficients, model and
robust variances as R's to 1e-8 (tests/reference/finegray.R). `finegray_rows` still builds R's
rows, row for row (``expand=True`` fits them: the reference implementation, O(n^2) rows).

The robust (sandwich) variance clustered by person is the default, as R's
``coxph(weights = fgwt, cluster = id)``; it treats the weights as known (cmprsk::crr adds a term
for the estimated censoring distribution, a small difference).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..cox import CoxResult, PreparedCox, fit_prepared, prepare_cox
from ..errors import InputError
from ._common import check_arrays, time_ranks
from ._fg_model import PreparedFineGray, prepare_persons
from ._weights import weight_steps

__all__ = [
    "FineGrayRows",
    "PreparedFineGray",
    "finegray_rows",
    "fit_fine_gray",
    "prepare_fine_gray",
]


@dataclass(frozen=True)
class FineGrayRows:
    """Rows of Fine-Gray data: R ``finegray``'s expanded rows in its order (`finegray_rows`),
    or one row per person (`prepare_fine_gray` without ``expand``)."""

    row: np.ndarray  # caller's row (person) of each new row
    start: np.ndarray  # fgstart
    stop: np.ndarray  # fgstop
    status: np.ndarray  # fgstatus: 1 for the event of interest
    weight: np.ndarray  # fgwt (times the case weight when given)
    delayed_entry: bool  # whether the entry distribution H entered the weights

    @property
    def n(self) -> int:
        return self.row.size

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "row": self.row,
                "fgstart": self.start,
                "fgstop": self.stop,
                "fgstatus": self.status,
                "fgwt": self.weight,
            }
        )


def _stratum(a, b, s, cause, delay, events_first):
    """Expanded rows of one stratum, as local indices and ranks (R finegray's stratfun)."""
    cut, cut_prob = weight_steps(a, b, s, delay, events_first)
    # interval j is (ends[j-1], ends[j]] with weight prob[j]; interval 0 starts at -infinity
    ends = np.append(cut, b.max())
    prob = np.concatenate([[1.0], cut_prob])
    keep = np.zeros(ends.size, dtype=bool)
    keep[np.searchsorted(ends, np.unique(b[s == cause]), "left")] = True
    kept = np.flatnonzero(keep)

    local = np.arange(b.size)
    stop = b.copy()
    competing = np.flatnonzero((s != 0) & (s != cause))
    j0 = np.searchsorted(ends, b[competing], "left")
    stop[competing] = ends[j0]  # weight 1 to the end of the event's interval
    first = np.searchsorted(kept, j0, "right")
    counts = kept.size - first
    total = int(counts.sum())
    owner = np.repeat(np.arange(competing.size), counts)
    offset = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    j = kept[np.repeat(first, counts) + offset]
    rows = np.concatenate([local, competing[owner]])
    order = np.argsort(rows, kind="stable")  # each person's own row, then the added ones
    with np.errstate(divide="ignore", invalid="ignore"):  # W(T) = 0: R's rows are not finite
        ratio = prob[j] / prob[j0][owner]
    return (
        rows[order],
        np.concatenate([a, ends[j - 1]])[order],
        np.concatenate([stop, ends[j]])[order],
        np.concatenate([s == cause, np.zeros(total, dtype=bool)])[order],
        np.concatenate([np.ones(b.size), ratio])[order],
    )


def finegray_rows(
    time,
    event,
    *,
    entry=None,
    strata=None,
    weights=None,
    cause: int = 1,
    fix_ties: bool = True,
    censoring_ties: str = "finegray",
) -> FineGrayRows:
    """Expand competing-risks data for the Fine-Gray model, as R's ``survival::finegray``.

    Parameters
    ----------
    time : array-like, shape (n,)
        Exit time (follow-up, or age at exit with ``entry``), one row per person.
    event : array-like, shape (n,)
        0 censored, 1, 2, ... causes.
    entry : array-like, optional
        Entry time (delayed entry, e.g. age at baseline with age as the time scale); the
        weights then include the entry distribution (Geskus 2011).
    strata : array-like, optional
        Censoring (and entry) distributions are estimated within strata, as R.
    weights : array-like, optional
        Case weights, multiplied into the expansion weights (the distributions are unweighted,
        as R).
    cause : int
        The event of interest.
    fix_ties : bool
        Merge near-tied times as R's ``timefix``.
    censoring_ties : {"finegray", "crr"}
        In the censoring Kaplan-Meier, events at a tied time leave the risk set before the
        censorings (R finegray), or stay in it ("crr", as cmprsk::crr: with Breslow ties the
        Cox fit then gives crr's coefficients).

    Returns
    -------
    FineGrayRows

    Examples
    --------
    >>> rows = finegray_rows([1.0, 2.0, 3.0, 4.0, 5.0], [1, 2, 0, 1, 0])
    >>> rows.to_frame().round(4).values.tolist()[:3]  # person 1 (competing event at 2) ...
    [[0.0, 0.0, 1.0, 1.0, 1.0], [1.0, 0.0, 3.0, 0.0, 1.0], [1.0, 3.0, 5.0, 0.0, 0.6667]]

    ... stays at risk for the event at 4 with weight G(4-) / G(2-) = 2/3.
    """
    if censoring_ties not in ("finegray", "crr"):
        raise InputError(f"censoring_ties={censoring_ties!r}: use 'finegray' or 'crr'")
    t, e, a = check_arrays(time, event, entry, cause)
    b_rank, a_rank, times = time_ranks(t, a, fix_ties)
    a_rank = np.full(t.size, -1, dtype=np.int64) if a_rank is None else a_rank
    delay = bool(a is not None and (a_rank > b_rank.min()).any())
    if strata is None:
        codes = np.zeros(t.size, dtype=np.int64)
    else:
        codes = pd.factorize(pd.Series(np.asarray(strata).ravel()), sort=True)[0]
    parts = []
    for k in range(codes.max() + 1):
        idx = np.flatnonzero(codes == k)
        if not (e[idx] == cause).any():
            continue  # R drops a stratum without events of interest
        r, start, stop, status, w = _stratum(
            a_rank[idx], b_rank[idx], e[idx], cause, delay, censoring_ties == "finegray"
        )
        parts.append((idx[r], start, stop, status, w))
    row, start, stop, status, w = (np.concatenate(p) for p in zip(*parts, strict=True))
    if weights is not None:
        w = w * np.asarray(weights, dtype=float).ravel()[row]
    start_time = np.where(start < 0, 0.0, times[np.maximum(start, 0)])
    return FineGrayRows(row, start_time, times[stop], status.astype(np.int64), w, delay)


def _person_rows(t, e, a, weights, cause, delay) -> FineGrayRows:
    """One row per person (no expansion): the rows `prepare_fine_gray` indexes by default."""
    n = t.size
    return FineGrayRows(
        row=np.arange(n),
        start=np.zeros(n) if a is None else a,
        stop=t,
        status=(e == cause).astype(np.int64),
        weight=np.ones(n) if weights is None else np.asarray(weights, dtype=float).ravel(),
        delayed_entry=delay,
    )


def prepare_fine_gray(
    X,
    time,
    event,
    *,
    entry=None,
    strata=None,
    weights=None,
    cluster=None,
    cause: int = 1,
    names: list[str] | None = None,
    fix_ties: bool = True,
    censoring_ties: str = "finegray",
    expand: bool = False,
) -> tuple[PreparedCox, FineGrayRows]:
    """Validate and index Fine-Gray data once; fit with `mgrisk.cox.fit_prepared`.

    Parameters are those of `fit_fine_gray`. By default the persons are indexed as they are
    (a `PreparedFineGray`: the kernel reproduces the likelihood of R's expanded rows without
    building them, in O(n p^2) per Newton step); ``expand=True`` builds R's rows (see
    `finegray_rows`) and prepares them for the Cox engine, clustered by person (the reference
    implementation, O(n^2) rows). Refits with new case weights (one per person) reuse either
    (``prepared.with_weights``).

    Returns
    -------
    prepared : PreparedFineGray or PreparedCox
    rows : FineGrayRows
        The rows behind ``prepared``: one per person (``row`` is 0..n-1, ``weight`` the case
        weights), or R's expanded rows with ``expand=True``.

    Examples
    --------
    >>> from mgrisk.cox import fit_prepared
    >>> x = [0.5, -1.0, 0.2, 1.5, -0.3, 0.8]
    >>> prepared, rows = prepare_fine_gray(x, [1.0, 2, 3, 4, 5, 6], [1, 2, 1, 0, 1, 2])
    >>> rows.n, fit_prepared(prepared, robust=True).n
    (6, 6)
    """
    if censoring_ties not in ("finegray", "crr"):
        raise InputError(f"censoring_ties={censoring_ties!r}: use 'finegray' or 'crr'")
    if expand:
        rows = finegray_rows(
            time,
            event,
            entry=entry,
            strata=strata,
            weights=weights,
            cause=cause,
            fix_ties=fix_ties,
            censoring_ties=censoring_ties,
        )
        return _prepare_expanded(X, rows, strata, cluster, names, fix_ties), rows
    t, e, a = check_arrays(time, event, entry, cause)
    b_rank, a_rank, _ = time_ranks(t, a, fix_ties)
    a_rank = np.full(t.size, -1, dtype=np.int64) if a_rank is None else a_rank
    delay = bool(a is not None and (a_rank > b_rank.min()).any())
    prepared = prepare_persons(
        X,
        t,
        e,
        a,
        b_rank,
        a_rank,
        delay,
        strata=strata,
        weights=weights,
        cluster=cluster,
        cause=cause,
        names=names,
        fix_ties=fix_ties,
        events_first=censoring_ties == "finegray",
    )
    return prepared, _person_rows(t, e, a, weights, cause, delay)


def _prepare_expanded(X, rows, strata, cluster, names, fix_ties) -> PreparedCox:
    """R's expanded rows prepared for the Cox engine, clustered by person (or ``cluster``)."""
    if isinstance(X, pd.DataFrame):
        Xr = X.iloc[rows.row].reset_index(drop=True)
    else:
        X = np.asarray(X, dtype=float)
        Xr = (X[:, None] if X.ndim == 1 else X)[rows.row]
    person = np.arange(rows.row.max() + 1) if cluster is None else np.asarray(cluster).ravel()
    return prepare_cox(
        Xr,
        rows.stop,
        rows.status,
        entry=rows.start,
        strata=None if strata is None else np.asarray(strata).ravel()[rows.row],
        weights=rows.weight,
        cluster=person[rows.row],
        names=names,
        fix_ties=fix_ties,
    )


def fit_fine_gray(
    X,
    time,
    event,
    *,
    entry=None,
    strata=None,
    weights=None,
    cluster=None,
    cause: int = 1,
    ties: str = "efron",
    robust: bool = True,
    tol: float = 1e-9,
    max_iter: int = 50,
    censoring_ties: str = "finegray",
    expand: bool = False,
) -> CoxResult:
    """Fit the Fine-Gray subdistribution hazards model, with the results of R's ``finegray`` +
    weighted ``coxph``, without expanding the data.

    Parameters
    ----------
    X : array-like or DataFrame, shape (n, p)
        Covariates, one row per person.
    time : array-like, shape (n,)
        Exit time (follow-up, or age at exit with ``entry``).
    event : array-like, shape (n,)
        0 censored, 1, 2, ... causes.
    entry : array-like, shape (n,), optional
        Entry time (delayed entry, e.g. age at baseline with age as the time scale): the weights
        then include the entry distribution (Geskus 2011), as R's ``finegray``.
    strata : array-like, optional
        Separate baseline hazards, censoring and entry distributions by stratum.
    weights : array-like, optional
        Case weights (>= 0), multiplied into R's weights.
    cluster : array-like, optional
        Cluster of each person for the robust variance (default: the person).
    cause : int
        The event of interest.
    ties : {"efron", "breslow"}
        Among the tied events of interest (competing events are never events).
    robust : bool
        The sandwich variance clustered by person, as ``coxph(..., weights = fgwt, cluster =
        id)`` (default), or the model-based one.
    tol, max_iter
        Newton convergence (relative change of the log-likelihood) and iteration limit.
    censoring_ties : {"finegray", "crr"}
        See `finegray_rows`.
    expand : bool
        Fit R's expanded rows with the Cox engine instead (the reference implementation;
        O(n^2) rows).

    Returns
    -------
    CoxResult
        Coefficients are log subdistribution hazard ratios; ``n`` counts persons (rows with
        ``expand=True``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> t = rng.exponential(1 / np.exp(0.5 * x))
    >>> cause = rng.integers(1, 3, size=400)
    >>> c = rng.exponential(2.0, size=400)
    >>> fit = fit_fine_gray(x, np.minimum(t, c), np.where(t <= c, cause, 0))
    >>> fit.summary().index.tolist()
    ['x0']
    """
    prepared, _ = prepare_fine_gray(
        X,
        time,
        event,
        entry=entry,
        strata=strata,
        weights=weights,
        cluster=cluster,
        cause=cause,
        censoring_ties=censoring_ties,
        expand=expand,
    )
    return fit_prepared(prepared, ties=ties, robust=robust, tol=tol, max_iter=max_iter)
