"""`dose_response_meta`: from a table of published (and your own) categories to a pooled curve."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ConvergenceError, InputError
from ..splines import rcs_basis, rcs_knots
from .categories import CATEGORY_MODELS, category_nodes, category_shares, tilted_design
from .covariance import covariance_from_counts, gl_covariance, hamling_counts
from .models import Blocks, fit_mixed, generalised_q, study_gls
from .result import MetaResult
from .table import MetaTable, check_meta_table

__all__ = ["dose_response_meta", "within_covariances"]

COVARIANCES = ("gl", "hamling", "independent")
CI_METHODS = ("t", "z", "hksj")

#: categories other than "point": the fixed-point iteration stops when no coefficient moves by
#: more than this (log RR per basis unit), and fails after CATEGORY_MAX_ITER fits.
CATEGORY_TOLERANCE = 1e-9
CATEGORY_MAX_ITER = 100


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
    categories: str = "piecewise",
    ci: str | None = None,
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
    categories : {"piecewise", "normal", "lognormal", "point"}
        What a category's RR is taken to be. "piecewise" (default): the ratio of the category's
        average risk to the reference category's, ``exp(curve)`` averaged over the category's
        part of an exposure distribution fitted per study to the doses (medians) and the
        categories' sizes n (`mgrisk.meta.categories`; Hartemink et al., Am J Epidemiol 2006):
        its quantile function is linear in the normal score between the medians and extended
        linearly beyond the outer ones; "normal" / "lognormal": the same over one normal /
        log-normal distribution; "point": the curve at the category's dose (Greenland-Longnecker,
        R dosresmeta: use it, with ``ci="z"``, to reproduce dosresmeta). Needs n unless "point".
        A category that is one value (non-drinkers at dose 0) is spread over the fitted
        distribution too; where such categories dominate, compare with "point".
        Why: in a U-shape the open-ended extreme quintiles average the risk over a curved tail,
        which lies above the curve at their medians. Measured (``benchmarks/meta_coverage.py``,
        10 studies of quintiles, U-shaped truth, REML, 95 % CI, t): "point" is biased by up to
        1.06 SD and covers 0.864-0.949 (z: 0.796-0.917; 1,000 replicates); "piecewise" is
        within 0.04 SD and covers 0.947-0.967 (nadir 0.959, MC SE 0.006);
        "normal" covers 0.949-0.966 but, when the exposure is skewed (skewness 1), is biased by
        -1.9 SD and covers 0.687-0.910 (300 replicates), where "piecewise" covers 0.937-0.983.
    ci : {"t", "z", "hksj"}, optional
        The pooled curve's confidence intervals (and its nadir's and corridor's). "t" (default
        for random effects): the model-based covariance with t quantiles on studies - 1 degrees
        of freedom, as in univariate random-effects meta-analysis; "z": normal quantiles
        (dosresmeta; the default for method="fixed" or one study); "hksj": Jackson & Riley's
        (2014) multivariate Hartung-Knapp scaling of the covariance, t on (block rows -
        coefficients) df. Measured with categories="piecewise" (as above, 1,000 replicates, MC
        SE 0.006-0.009), pointwise over 0.70-1.00 mmol/L and for the nadir (inversion): "t"
        0.947-0.967, nadir 0.959; "z" 0.913-0.939, nadir 0.922; "hksj" 0.908-0.938, nadir
        0.921 (its scale factor is below 1 in ~80 % of meta-analyses: REML's Psi errs upward).
        ``cov`` is never scaled; ``MetaResult.with_ci`` switches.
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

    Slopes 0.1 and 0.3 per unit with equal weights, each category's RR taken at its dose:

    >>> fit = dose_response_meta(t, study="id", dose="dose", log_rr="b", se="s", type="type",
    ...                          cases="d", n="py", knots=None, method="fixed",
    ...                          categories="point")
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
    if categories not in CATEGORY_MODELS:
        raise InputError(
            f"categories={categories!r}: use 'piecewise', 'normal', 'lognormal' or 'point'"
        )
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

    ci = _ci_method(ci, method, len(table.studies))
    S = within_covariances(table, covariance, ci_counts=ci_counts)
    labels = table.studies
    Ss = [S[label] for label in labels]
    nodes = _category_nodes(table, categories)
    q = 1 if kn is None else len(kn) - 1
    beta = np.zeros(q)
    for _ in range(CATEGORY_MAX_ITER):
        Xs, ys = _rows(table, labels, basis, nodes, beta)
        fit, Q, Q_df, study_coef, study_cov, blocks = _fit_rows(
            Xs, ys, Ss, labels, stage, method, shape
        )
        step = np.max(np.abs(fit.coef - beta))
        beta = fit.coef
        if nodes is None or step < CATEGORY_TOLERANCE:
            break
    else:
        raise ConvergenceError(
            f"categories={categories!r}: the category averages did not settle in "
            f"{CATEGORY_MAX_ITER} iterations (last change {step:.2g}); use categories='point'"
        )
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
        categories=categories,
        ci=ci,
        q_gen=generalised_q(blocks, fit.coef, fit.psi),
        q_gen_df=blocks.n_obs - fit.coef.size,
        exposure=dose,
        unit=unit,
        study_coef=study_coef,
        study_cov=study_cov,
        highlight=highlight,
    )


def _ci_method(ci: str | None, method: str, n_studies: int) -> str:
    """The curve's CI method: as given, or t for random effects and z for fixed effects or a
    single study."""
    if ci is None:
        return "z" if method == "fixed" or n_studies < 2 else "t"
    if ci not in CI_METHODS:
        raise InputError(f"ci={ci!r}: use 't', 'z' or 'hksj' (or None: the default)")
    if ci != "z" and n_studies < 2:
        raise InputError(f"ci={ci!r} needs at least 2 studies; use ci='z'")
    return ci


def _category_nodes(table: MetaTable, categories: str) -> dict | None:
    """Each study's quadrature of its categories (reference first), or None for 'point'."""
    if categories == "point":
        return None
    if not np.isfinite(table.n).all():
        raise InputError(
            f"categories={categories!r} needs each category's size: give the n= column (and "
            "cases= for case-control studies), or use categories='point' (each category's RR "
            "taken as the curve at its dose, as dosresmeta does)"
        )
    out = {}
    for label in table.studies:
        idx = table.rows_of(label)
        kind = str(table.type[idx[0]])
        cases = table.cases[idx] if kind == "cc" else np.zeros(idx.size)
        try:
            share = category_shares(cases, table.n[idx], kind)
            out[label] = category_nodes(table.dose[idx], share, categories)
        except InputError as e:
            raise InputError(f"study {_label(label)}: {e}") from None
    return out


def _rows(table: MetaTable, labels, basis, nodes, beta) -> tuple[list, list]:
    """Each study's design rows and log RRs (non-reference rows), linearised at ``beta``."""
    Xs, ys = [], []
    for label in labels:
        idx = table.rows_of(label)
        y = table.log_rr[idx[1:]]
        if nodes is None:
            B = basis(table.dose[idx])
            Xs.append(B[1:] - B[0])
            ys.append(y)
        else:
            X, r = tilted_design(nodes[label], basis, beta)
            Xs.append(X)
            ys.append(y - r)
    return Xs, ys


def _fit_rows(Xs, ys, Ss, labels, stage: int, method: str, shape: str):
    """The two- or one-stage fit of given rows: (fit, Q, Q_df, study_coef, study_cov, blocks)."""
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
    return fit, Q, Q_df, study_coef, study_cov, blocks


def _label(value):
    """A study label as the user wrote it (numpy scalars as plain Python values)."""
    return value.item() if isinstance(value, np.generic) else value
