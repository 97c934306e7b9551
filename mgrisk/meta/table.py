"""The input of a dose-response meta-analysis: one row per exposure category per study.

`check_meta_table` is the one validator (every public entry point calls it): it reads the
columns, converts RRs with CIs to log RRs with SEs, finds each study's reference row and says in
one line per problem what is missing or inconsistent, naming the study, the row (counted from 1)
and the fix. `category_doses` assigns doses to categories given by their bounds (open-ended ends
included), `rr_ci_to_log` converts a published RR and CI, and `rereference` re-expresses a study
against another of its categories.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ..errors import InputError

__all__ = [
    "STUDY_TYPES",
    "MetaTable",
    "category_doses",
    "check_meta_table",
    "rereference",
    "rr_ci_to_log",
]

#: Study designs: case-control (odds ratios, n = cases + controls), cumulative incidence (risk
#: ratios, n = persons), incidence rate (rate ratios, n = person-time).
STUDY_TYPES = {"cc": "case-control", "ci": "cumulative incidence", "ir": "incidence rate"}


@dataclass(frozen=True)
class MetaTable:
    """A checked table: arrays in the input's row order, one entry per row.

    ``row`` is the input row counted from 1; ``ref`` marks each study's reference row;
    ``se`` is NaN on reference rows; ``cases`` and ``n`` are NaN when not given.
    """

    study: np.ndarray  # study label of each row (as given)
    dose: np.ndarray
    log_rr: np.ndarray
    se: np.ndarray
    type: np.ndarray  # "cc", "ci" or "ir"
    cases: np.ndarray
    n: np.ndarray
    ref: np.ndarray  # bool
    row: np.ndarray  # 1-based input rows

    @property
    def studies(self) -> list:
        """The study labels in order of first appearance."""
        return list(pd.unique(self.study))

    def rows_of(self, label) -> np.ndarray:
        """Indices (0-based) of a study's rows, the reference first."""
        idx = np.flatnonzero(self.study == label)
        return np.concatenate([idx[self.ref[idx]], idx[~self.ref[idx]]])

    @property
    def has_counts(self) -> bool:
        return bool(np.isfinite(self.cases).all() and np.isfinite(self.n).all())

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame with standard column names."""
        return pd.DataFrame(
            {
                "study": self.study,
                "row": self.row,
                "type": self.type,
                "dose": self.dose,
                "log_rr": self.log_rr,
                "se": self.se,
                "rr": np.exp(self.log_rr),
                "cases": self.cases,
                "n": self.n,
                "reference": self.ref,
            }
        )


def rr_ci_to_log(rr, lower, upper, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Log RR and its SE from a published RR and its CI: ``se = log(upper/lower) / (2 z)``.

    Parameters
    ----------
    rr, lower, upper : array-like
        Relative risks and CI bounds (ratios, no unit). Reference rows: RR 1, bounds empty.
    level : float
        The CI's level (0.95 for a 95 % CI).

    Returns
    -------
    log_rr, se : numpy arrays (SE NaN where the bounds are missing)

    Examples
    --------
    >>> b, s = rr_ci_to_log([1.0, 1.5], [np.nan, 1.1], [np.nan, 2.0454545])
    >>> np.round(b, 4).tolist(), np.round(s, 4).tolist()
    ([0.0, 0.4055], [nan, 0.1582])
    """
    z = float(ndtri(0.5 + level / 2))
    rr, lo, up = (np.asarray(v, dtype=float) for v in (rr, lower, upper))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log(rr), (np.log(up) - np.log(lo)) / (2 * z)


def category_doses(lower, upper, median=None) -> np.ndarray:
    """Assigned doses of exposure categories given by their bounds, as meta-analysts assign them.

    The category's reported median where given; otherwise the midpoint of its bounds. An
    open-ended category (lower bound missing for the lowest, upper bound missing for the highest)
    is given the width of its neighbour: lowest ``upper - width / 2``, highest
    ``lower + width / 2`` (floored at 0 for the lowest when the exposure cannot be negative is up
    to the user).

    Parameters
    ----------
    lower, upper : array-like
        Category bounds (exposure units) of one study's categories, in increasing order; NaN for
        an open end.
    median : array-like, optional
        Reported medians (NaN where not reported).

    Examples
    --------
    Categories <0.8, 0.8-0.9, 0.9-1.0, >=1.0 mmol/L:

    >>> category_doses([np.nan, 0.8, 0.9, 1.0], [0.8, 0.9, 1.0, np.nan]).round(3).tolist()
    [0.75, 0.85, 0.95, 1.05]
    """
    lo, up = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    if lo.shape != up.shape or lo.ndim != 1:
        raise InputError("lower and upper bounds: give one value per category (NaN: open end)")
    width = up - lo
    dose = (lo + up) / 2
    k = lo.size
    for i in range(k):
        if np.isfinite(dose[i]):
            continue
        open_low, open_up = not np.isfinite(lo[i]), not np.isfinite(up[i])
        if open_low and open_up:
            raise InputError(f"category {i + 1}: both bounds missing; give at least one")
        neighbour = i + 1 if open_low else i - 1
        if not 0 <= neighbour < k or not np.isfinite(width[neighbour]):
            raise InputError(
                f"category {i + 1}: open-ended, and its neighbour has no width to borrow; "
                "give its median"
            )
        w = width[neighbour]
        dose[i] = up[i] - w / 2 if open_low else lo[i] + w / 2
    if median is not None:
        med = np.asarray(median, dtype=float)
        dose = np.where(np.isfinite(med), med, dose)
    return dose


def _numeric(frame: pd.DataFrame, column: str | None, what: str, problems: list) -> np.ndarray:
    if column is None:
        return np.full(len(frame), np.nan)
    if column not in frame.columns:
        problems.append(f"column {column!r} ({what}) not in the table; columns: {list(frame)}")
        return np.full(len(frame), np.nan)
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    raw = frame[column]
    bad = np.flatnonzero(np.isnan(values) & raw.notna().to_numpy())
    if bad.size:
        problems.append(
            f"column {column!r}: {bad.size} non-numeric values, first at row {bad[0] + 1} "
            f"({raw.iloc[bad[0]]!r}): use numbers with a decimal point"
        )
    return values


def check_meta_table(
    data,
    *,
    study: str,
    dose: str,
    log_rr: str | None = None,
    se: str | None = None,
    rr: str | None = None,
    lower: str | None = None,
    upper: str | None = None,
    type: str | None = None,
    cases: str | None = None,
    n: str | None = None,
    level: float = 0.95,
    default_type: str | None = None,
) -> MetaTable:
    """Check a dose-response table and return its arrays.

    Each study needs exactly one reference row (log RR 0 or RR 1 with no SE or CI) and at least
    one other row; the other rows need a log RR with an SE > 0 (or an RR with its CI). With
    ``cases`` and ``n`` (needed for the Greenland-Longnecker and Hamling covariances): cases >= 0,
    n > 0, and for case-control and cumulative-incidence studies cases < n (n counts persons).

    Parameters
    ----------
    data : DataFrame
    study, dose : str
        Columns of the study label and the assigned dose (exposure units).
    log_rr, se : str
        Columns of the log relative risk and its SE; or ``rr``, ``lower``, ``upper`` (the RR and
        its ``level`` CI).
    type : str, optional
        Column of the study design ("cc", "ci", "ir"), constant within a study; or
        ``default_type`` for every study.
    cases, n : str, optional
        Columns of cases and of persons (cc, ci) or person-time (ir) in each category.

    Raises
    ------
    InputError
        One line per problem: study, row (from 1) and fix.

    Examples
    --------
    >>> t = pd.DataFrame({"id": [1, 1], "dose": [0.8, 1.0], "b": [0.0, -0.2],
    ...                   "s": [np.nan, 0.1], "type": "ir", "d": [10, 12], "py": [900, 1100]})
    >>> check_meta_table(t, study="id", dose="dose", log_rr="b", se="s", type="type",
    ...                  cases="d", n="py").ref.tolist()
    [True, False]
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"data: a pandas DataFrame is needed, not {type_name(data)}")
    frame = data.reset_index(drop=True)
    problems: list[str] = []
    if study not in frame.columns:
        raise InputError(f"column {study!r} (study) not in the table; columns: {list(frame)}")
    labels = frame[study].to_numpy()
    x = _numeric(frame, dose, "dose", problems)
    if log_rr is not None:
        b = _numeric(frame, log_rr, "log RR", problems)
        s = _numeric(frame, se, "SE of the log RR", problems)
        if se is None:
            problems.append("se: give the column of the log RRs' standard errors")
    elif rr is not None:
        r = _numeric(frame, rr, "RR", problems)
        lo, up = (
            _numeric(frame, c, f"CI {w} bound", problems)
            for c, w in ((lower, "lower"), (upper, "upper"))
        )
        if lower is None or upper is None:
            problems.append("rr given without lower and upper: give the CI bounds' columns")
        bad = np.flatnonzero(r <= 0)
        if bad.size:
            problems.append(
                f"column {rr!r}: {bad.size} RRs <= 0, first at row {bad[0] + 1}: an RR is positive"
            )
        b, s = rr_ci_to_log(np.where(r > 0, r, np.nan), lo, up, level)
    else:
        raise InputError("give log_rr and se, or rr with lower and upper (the CI)")
    a = _numeric(frame, cases, "cases", problems)
    m = _numeric(frame, n, "n (persons or person-time)", problems)
    if type is not None:
        if type not in frame.columns:
            problems.append(
                f"column {type!r} (study type) not in the table; columns: {list(frame)}"
            )
            kinds = np.full(len(frame), "", dtype=object)
        else:
            kinds = frame[type].astype(str).str.strip().str.lower().to_numpy(dtype=object)
    elif default_type is not None:
        kinds = np.full(len(frame), default_type, dtype=object)
    else:
        kinds = np.full(len(frame), "", dtype=object)
        if cases is not None:
            problems.append("type: give the column of study types (cc, ci, ir) or default_type")
    if problems:
        raise InputError("; ".join(problems))
    rows = np.arange(1, len(frame) + 1)
    ref = np.zeros(len(frame), dtype=bool)
    for label in pd.unique(labels):
        idx = np.flatnonzero(labels == label)
        where = f"study {label!r}"
        if pd.isna(label):
            problems.append(f"rows {rows[idx][:3].tolist()}: study label missing; give one")
            continue
        for i in idx:
            at = f"{where}, row {rows[i]}"
            if not np.isfinite(x[i]):
                problems.append(f"{at}: dose missing; assign one (category_doses helps)")
            if not np.isfinite(b[i]):
                problems.append(f"{at}: log RR missing; give it (0 on the reference row)")
            if np.isfinite(s[i]) and s[i] < 0:
                problems.append(f"{at}: SE {s[i]:g} < 0; an SE is positive")
        no_se = idx[~(np.isfinite(s[idx]) & (s[idx] > 0))]
        zero_b = idx[np.isfinite(b[idx]) & (np.abs(b[idx]) < 1e-12)]
        if no_se.size == 0:
            if zero_b.size:
                problems.append(
                    f"{where}, row {rows[zero_b[0]]}: SE given for the reference row (log RR 0); "
                    "leave the reference's SE (or CI) empty"
                )
            else:
                problems.append(
                    f"{where}, rows {rows[idx[0]]}-{rows[idx[-1]]}: no reference row; add the "
                    "reference category (log RR 0, RR 1, no SE)"
                )
        elif no_se.size > 1:
            problems.append(
                f"{where}, rows {rows[no_se].tolist()}: {no_se.size} rows without SE; one is the "
                "reference, give the others' SEs (or CIs)"
            )
        else:
            k = no_se[0]
            if np.isfinite(b[k]) and abs(b[k]) > 1e-12:
                problems.append(
                    f"{where}, row {rows[k]}: no SE but log RR {b[k]:.4g} != 0; a reference row "
                    "has log RR 0 (use rereference to change the reference), others need an SE"
                )
            ref[k] = True
            if idx.size < 2:
                problems.append(
                    f"{where}, row {rows[k]}: only the reference row; add its other categories"
                )
        kind = set(kinds[idx])
        if cases is not None or type is not None or default_type is not None:
            if len(kind) > 1:
                problems.append(
                    f"{where}, row {rows[idx[0]]}: types {sorted(kind)} within one study; one "
                    "design per study (cc, ci or ir)"
                )
            elif not kind <= set(STUDY_TYPES):
                problems.append(
                    f"{where}, row {rows[idx[0]]}: type {next(iter(kind))!r}; use cc "
                    "(case-control), ci (cumulative incidence) or ir (incidence rate)"
                )
        if cases is not None and n is not None:
            for i in idx:
                at = f"{where}, row {rows[i]}"
                if not (np.isfinite(a[i]) and np.isfinite(m[i])):
                    problems.append(f"{at}: cases or n missing; give both for every category")
                elif a[i] <= 0:
                    problems.append(
                        f"{at}: cases {a[i]:g} <= 0; a category without cases cannot be "
                        "used: merge it with its neighbour"
                    )
                elif m[i] <= 0:
                    problems.append(f"{at}: n {m[i]:g} <= 0; give persons or person-time > 0")
                elif kinds[i] in ("cc", "ci") and a[i] >= m[i]:
                    problems.append(
                        f"{at}: cases {a[i]:g} >= n {m[i]:g}; for a {STUDY_TYPES[kinds[i]]} study "
                        "n counts persons (cases + non-cases)"
                    )
    if problems:
        raise InputError(
            problems[0]
            if len(problems) == 1
            else f"{len(problems)} problems: " + "; ".join(problems)
        )
    s = np.where(ref, np.nan, s)
    return MetaTable(labels, x, np.where(ref, 0.0, b), s, kinds, a, m, ref, rows)


def type_name(value) -> str:
    return type(value).__name__


def rereference(log_rr, cov, new_ref: int) -> tuple[np.ndarray, np.ndarray]:
    """One study's log RRs and their covariance against another of its categories.

    With ``y`` the log RRs of the non-reference categories (against the old reference) and
    ``S`` their covariance (e.g. `mgrisk.meta.covariance.gl_covariance`), the log RRs against
    category ``k`` are ``y - y_k`` (the old reference gets ``-y_k``) with covariance
    ``C S C'``, C the contrast matrix: exact under the same approximation.

    Parameters
    ----------
    log_rr : array (k,)
        All categories' log RRs, the old reference's 0 included.
    cov : array (k - 1, k - 1)
        Covariance of the non-reference log RRs, in their order in ``log_rr``.
    new_ref : int
        Index (0-based) of the new reference category.

    Returns
    -------
    log_rr, se : arrays (k,) against the new reference (0 and NaN on it)

    Examples
    --------
    >>> y, se = rereference([0.0, 0.5, 0.8], np.array([[0.04, 0.01], [0.01, 0.09]]), 1)
    >>> y.round(3).tolist(), se.round(4).tolist()
    ([-0.5, 0.0, 0.3], [0.2, nan, 0.3317])
    """
    y = np.asarray(log_rr, dtype=float)
    k = y.size
    old = np.flatnonzero(np.abs(y) < 1e-12)
    if old.size == 0:
        raise InputError("log_rr: no reference category (log RR 0) to re-reference from")
    old = old[0]
    if not 0 <= new_ref < k:
        raise InputError(f"new_ref={new_ref}: choose a category from 0 to {k - 1}")
    others = [i for i in range(k) if i != old]
    full = np.zeros((k, k))  # covariance of all k log RRs (the old reference's is 0)
    full[np.ix_(others, others)] = np.asarray(cov, dtype=float)
    C = np.eye(k)
    C[:, new_ref] -= 1
    V = C @ full @ C.T
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    se[new_ref] = np.nan
    return y - y[new_ref], se
