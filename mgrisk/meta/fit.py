"""`dose_response_meta`: from a table of published (and your own) categories to a pooled curve."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from ..splines import rcs_basis, rcs_knots
from .covariance import covariance_from_counts, gl_covariance, hamling_counts
from .models import Blocks, fit_mixed, study_gls
from .result import MetaResult
from .table import MetaTable, check_meta_table

__all__ = ["dose_response_meta", "within_covariances"]

COVARIANCES = ("gl", "hamling", "independent")


def within_covariances(
    table: MetaTable, covariance: str = "gl", *, ci_counts: str = "risk"
) -> dict:
    """Each study's covariance of its non-reference log RRs (rows in `MetaTable.rows_of` order,
    reference excluded): Greenland-Longnecker, Hamling, or independent (variances only)."""
    if covariance not in COVARIANCES:
        raise InputError(f"covariance={covariance!r}: use 'gl', 'hamling' or 'independent'")
    if covariance != "independent" and not table.has_counts:
        raise InputError(
            f"covariance={covariance!r} needs cases and n for every row: give the cases= and n= "
            "columns, or use covariance='independent' (ignores the correlation)"
        )
    out = {}
    for label in table.studies:
        idx = table.rows_of(label)  # reference first
        y, se, kind = table.log_rr[idx], table.se[idx], table.type[idx[0]]
        if covariance == "independent":
            out[label] = np.diag(se[1:] ** 2)
        elif covariance == "gl":
            out[label] = gl_covariance(
                y, se, table.cases[idx], table.n[idx], kind, 0, ci_counts=ci_counts
            )
        else:
            a, m = hamling_counts(y, se, table.cases[idx], table.n[idx], kind, 0)
            v = np.where(np.arange(idx.size) == 0, 0.0, se**2)
            out[label] = covariance_from_counts(a, m, v, kind, 0)
    return out


def dose_response_meta(
    data: pd.DataFrame,
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
    knots=3,
    method: str = "reml",
    stage: int = 2,
    covariance: str = "gl",
    ci_counts: str = "risk",
    level: float = 0.95,
    unit: str | None = None,
    highlight=None,
) -> MetaResult:
    """Dose-response meta-analysis of published category tables (Greenland-Longnecker GLS).

    Parameters
    ----------
    data : DataFrame
        One row per exposure category per study (see `mgrisk.meta.table.check_meta_table`).
    study, dose, log_rr, se, rr, lower, upper, type, cases, n : str
        Column names: study label; assigned dose (exposure units); log RR and SE, or RR and its
        ``level`` CI; study type (cc, ci, ir); cases; persons (cc, ci) or person-time (ir).
    knots : int, sequence of float, or None
        ``None`` or ``"linear"``: a linear trend (log RR per exposure unit). An int k >= 3:
        restricted cubic spline with k knots at the doses' quantiles as ``rms::rcs`` places them;
        a list: the knots themselves.
    method : {"reml", "ml", "fixed"}
        Between-study covariance by REML, ML, or none (fixed effects).
    stage : {2, 1}
        Two-stage (per-study GLS, then multivariate meta-analysis; each study needs at least as
        many non-reference rows as coefficients) or one-stage (linear mixed model over all rows,
        Crippa et al. 2019; studies with fewer rows contribute).
    covariance : {"gl", "hamling", "independent"}
        Within-study covariance of the log RRs.
    ci_counts : {"risk", "odds"}
        Greenland-Longnecker counts of cumulative-incidence studies reproduce the risk ratios
        (default) or, as R dosresmeta 2.2 does, treat them as odds ratios.
    unit : str, optional
        The exposure's unit, for figures and texts.
    highlight : optional
        A study label to highlight in figures (your own cohort).

    Returns
    -------
    MetaResult
        ``coef``, ``cov``, ``psi``, ``Q``, ``I2``, ``tests()``, ``curve`` (a SplineCurve:
        ``.nadir()``, ``.corridor()``, ``.hr_curve()``; called as ``curve(grid, ref)`` it gives
        the pooled RRs with confidence and prediction intervals).

    Examples
    --------
    >>> t = pd.DataFrame({"id": [1, 1, 1, 2, 2, 2], "dose": [0, 1, 2, 0, 1, 2.0],
    ...                   "b": [0, 0.1, 0.2, 0, 0.3, 0.6], "s": [np.nan, .1, .1, np.nan, .1, .1],
    ...                   "type": "ir", "d": [50, 50, 50] * 2, "py": [1e4] * 6})
    >>> fit = dose_response_meta(t, study="id", dose="dose", log_rr="b", se="s", type="type",
    ...                          cases="d", n="py", knots=None, method="fixed")
    >>> round(float(fit.coef[0]), 2)
    0.2
    """
    table = check_meta_table(
        data,
        study=study,
        dose=dose,
        log_rr=log_rr,
        se=se,
        rr=rr,
        lower=lower,
        upper=upper,
        type=type,
        cases=cases,
        n=n,
        level=level,
        default_type=None if type else ("ir" if covariance == "independent" else None),
    )
    if stage not in (1, 2):
        raise InputError(f"stage={stage!r}: use 2 (two-stage) or 1 (one-stage)")
    if method not in ("reml", "ml", "fixed"):
        raise InputError(f"method={method!r}: use 'reml', 'ml' or 'fixed'")
    if knots is None or (isinstance(knots, str) and knots == "linear"):
        shape, kn = "linear", None
    elif isinstance(knots, int | np.integer):
        shape, kn = "spline", tuple(float(k) for k in rcs_knots(table.dose, int(knots)))
    else:
        shape = "spline"
        try:
            kn = tuple(float(k) for k in knots)
        except (TypeError, ValueError):
            raise InputError(
                f"knots={knots!r}: use an int (>= 3), a list of numbers, or None"
            ) from None
        rcs_basis([kn[0]], kn)  # validates

    def basis(x):
        return np.asarray(x, float)[:, None] if kn is None else rcs_basis(x, kn)

    S = within_covariances(table, covariance, ci_counts=ci_counts)
    Xs, ys, Ss, labels = [], [], [], []
    for label in table.studies:
        idx = table.rows_of(label)
        B = basis(table.dose[idx])
        Xs.append(B[1:] - B[0])
        ys.append(table.log_rr[idx[1:]])
        Ss.append(S[label])
        labels.append(label)
    q = Xs[0].shape[1]
    study_coef, study_cov = {}, {}
    for label, X, y, Si in zip(labels, Xs, ys, Ss, strict=True):
        if X.shape[0] >= q and np.linalg.matrix_rank(X) == q:
            study_coef[label], study_cov[label] = study_gls(X, y, Si)
    if stage == 2:
        missing = [lab for lab in labels if lab not in study_coef]
        if missing:
            raise InputError(
                f"two-stage {shape} model: studies {[_label(v) for v in missing[:5]]} have fewer "
                f"than {q} distinct "
                f"non-reference doses, so their {q} coefficients cannot be estimated; use "
                "stage=1 (one-stage), fewer knots, or a linear trend"
            )
        eye = np.eye(q)
        blocks = Blocks(
            [study_coef[lab] for lab in labels],
            [eye] * len(labels),
            [eye] * len(labels),
            [study_cov[lab] for lab in labels],
        )
        fixed = fit_mixed(blocks, "fixed")
        Q = float(
            sum(
                (b - fixed.coef) @ np.linalg.solve(V, b - fixed.coef)
                for b, V in zip(blocks.y, blocks.S, strict=True)
            )
        )
        Q_df = q * (len(labels) - 1)
    else:
        blocks = Blocks(ys, Xs, Xs, Ss)
        fixed = fit_mixed(blocks, "fixed")
        Q = float(
            sum(
                (y - X @ fixed.coef) @ np.linalg.solve(Si, y - X @ fixed.coef)
                for y, X, Si in zip(ys, Xs, Ss, strict=True)
            )
        )
        Q_df = blocks.n_obs - q
    fit = fixed if method == "fixed" else fit_mixed(blocks, method)
    return MetaResult(
        coef=fit.coef,
        cov=(fit.cov + fit.cov.T) / 2,
        psi=fit.psi,
        method=method,
        stage=stage,
        shape=shape,
        knots=kn,
        table=table,
        Q=Q,
        Q_df=int(Q_df),
        loglik=fit.loglik,
        converged=fit.converged,
        covariance=covariance,
        exposure=dose,
        unit=unit,
        study_coef=study_coef,
        study_cov=study_cov,
        highlight=highlight,
    )


def _label(value):
    """A study label as the user wrote it (numpy scalars as plain Python values)."""
    return value.item() if isinstance(value, np.generic) else value
