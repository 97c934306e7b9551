"""Within-study covariances of log relative risks that share a reference category.

The log RRs of one study all contrast their category with the same reference, so they are
correlated. Greenland & Longnecker (Am J Epidemiol 1992;135:1301) fit cell counts that keep the
reported margins (total cases, and the persons or person-time of each category) and reproduce the
reported (adjusted) RRs; the covariance of two log RRs is then the variance component of the
reference cell. Hamling et al. (Stat Med 2008;27:954) instead fit counts that reproduce both the
RRs and their reported variances, keeping the crude proportion of the reference category and the
ratio of non-cases (or persons) to cases.

Variance components of a cell with A cases among N (persons, or person-time for ``ir``):
``cc`` 1/A + 1/(N - A) (log odds), ``ci`` 1/A - 1/N (log risk), ``ir`` 1/A (log rate).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from ..errors import ConvergenceError, InputError

__all__ = [
    "covariance_from_counts",
    "gl_counts",
    "gl_covariance",
    "hamling_counts",
    "reproduced_log_rr",
]

#: Newton stops when the largest |log RR reproduced - log RR reported| is below this.
GL_TOLERANCE = 1e-12
GL_MAX_ITER = 200


def _component(a, N, kind: str):
    if kind == "cc":
        return 1 / a + 1 / (N - a)
    if kind == "ci":
        return 1 / a - 1 / N
    return 1 / a


def reproduced_log_rr(a, N, kind: str, ref: int, *, ci_counts: str = "risk") -> np.ndarray:
    """The log RRs that counts ``a`` (cases) and ``N`` imply against row ``ref``.

    Odds ratios for ``cc`` (and ``ci`` with ``ci_counts="odds"``), risk ratios for ``ci``, rate
    ratios for ``ir``.
    """
    a, N = np.asarray(a, float), np.asarray(N, float)
    odds = kind == "cc" or (kind == "ci" and ci_counts == "odds")
    log_p = np.log(a) - (np.log(N - a) if odds else np.log(N))
    return log_p - log_p[ref]


def gl_counts(log_rr, cases, n, kind: str, ref: int, *, ci_counts: str = "risk") -> np.ndarray:
    """Greenland-Longnecker fitted cases: counts that reproduce the reported log RRs.

    The total of cases and each category's n are kept; the cases ``A_i`` solve
    ``log RR_i = g(A_i, n_i) - g(A_0, n_0)`` with ``A_0 = sum(cases) - sum_{i != 0} A_i``,
    ``g(A, n) = log(A / (n - A))`` (cc) or ``log(A / n)`` (ci, ir), by Newton's method from the
    reported cases.

    Parameters
    ----------
    log_rr : array (k,)
        The study's log RRs, 0 on the reference row ``ref``.
    cases, n : array (k,)
        Reported cases and persons (cc, ci) or person-time (ir) per category.
    kind : {"cc", "ci", "ir"}
    ref : int
        Index of the reference row.
    ci_counts : {"risk", "odds"}
        For ``ci`` studies: reproduce the risk ratios (default, the RRs reported), or treat them
        as odds ratios as R dosresmeta 2.2's ``grl`` does.

    Returns
    -------
    numpy.ndarray (k,): fitted cases.

    Examples
    --------
    >>> a = gl_counts([0.0, np.log(2)], [10, 10], [1000.0, 1000.0], "ir", 0)
    >>> a.round(6).tolist()  # rates 1:2 with 20 cases
    [6.666667, 13.333333]
    """
    y = np.asarray(log_rr, dtype=float)
    c = np.asarray(cases, dtype=float)
    N = np.asarray(n, dtype=float)
    if kind not in ("cc", "ci", "ir"):
        raise InputError(f"type {kind!r}: use cc, ci or ir")
    if ci_counts not in ("risk", "odds"):
        raise InputError(f"ci_counts={ci_counts!r}: use 'risk' or 'odds'")
    odds = kind == "cc" or (kind == "ci" and ci_counts == "odds")
    total = c.sum()
    others = np.flatnonzero(np.arange(y.size) != ref)
    a = c.astype(float).copy()

    def resid(ax):
        a0 = total - ax.sum()
        if a0 <= 0 or np.any(ax <= 0) or (odds and (np.any(ax >= N[others]) or a0 >= N[ref])):
            return None, None
        g = np.log(ax) - (np.log(N[others] - ax) if odds else np.log(N[others]))
        g0 = np.log(a0) - (np.log(N[ref] - a0) if odds else np.log(N[ref]))
        return g - g0 - y[others], a0

    ax = a[others]
    e, a0 = resid(ax)
    for _ in range(GL_MAX_ITER):
        if np.max(np.abs(e)) < GL_TOLERANCE:
            out = np.empty_like(a)
            out[others], out[ref] = ax, a0
            return out
        cx = 1 / ax + (1 / (N[others] - ax) if odds else 0)
        c0 = 1 / a0 + (1 / (N[ref] - a0) if odds else 0)
        H = np.diag(cx) + c0  # d e_i / d A_j
        step = np.linalg.solve(H, e)
        t = 1.0
        while True:  # step-halving keeps the counts inside their bounds
            trial, trial_a0 = resid(ax - t * step)
            if (
                trial is not None
                and np.max(np.abs(trial)) < np.max(np.abs(e)) * (1 - 1e-4 * t) + 1e-15
            ):
                break
            t /= 2
            if t < 1e-10:
                raise ConvergenceError(
                    "Greenland-Longnecker counts: no counts reproduce these RRs within the "
                    "margins (check cases, n and type)"
                )
        ax, e, a0 = ax - t * step, trial, trial_a0
    raise ConvergenceError("Greenland-Longnecker counts did not converge in 200 iterations")


def covariance_from_counts(a, N, v, kind: str, ref: int) -> np.ndarray:
    """Covariance of the non-reference log RRs from fitted counts and the reported variances.

    ``cor_ij = s_0 / sqrt(s_i s_j)`` with ``s_0`` the reference cell's variance component and
    ``s_i = s_0 + component_i``; the diagonal is the reported variances ``v``.
    """
    a, N, v = (np.asarray(t, dtype=float) for t in (a, N, v))
    others = np.flatnonzero(np.arange(a.size) != ref)
    s0 = _component(a[ref], N[ref], kind)
    si = s0 + _component(a[others], N[others], kind)
    cor = s0 / np.sqrt(np.outer(si, si))
    np.fill_diagonal(cor, 1.0)
    sd = np.sqrt(v[others])
    return cor * np.outer(sd, sd)


def gl_covariance(log_rr, se, cases, n, kind: str, ref: int, *, ci_counts: str = "risk"):
    """Greenland-Longnecker covariance of a study's non-reference log RRs (rows in order).

    Examples
    --------
    >>> S = gl_covariance([0.0, 0.2, 0.4], [np.nan, 0.1, 0.12], [50, 60, 70],
    ...                   [1e4, 1e4, 1e4], "ir", 0)
    >>> S.shape, bool(S[0, 1] > 0)
    ((2, 2), True)
    """
    a = gl_counts(log_rr, cases, n, kind, ref, ci_counts=ci_counts)
    v = np.where(np.arange(len(a)) == ref, 0.0, np.asarray(se, dtype=float) ** 2)
    return covariance_from_counts(a, n, v, kind, ref)


def _hamling_cells(a0, n0, y, v, kind):
    """Cells (A_i, N_i) implied by the reference cell (a0, n0): each reproduces RR_i and v_i."""
    r = np.exp(y)
    if kind == "cc":
        b0 = n0 - a0
        a = (1 + r * a0 / b0) / (v - 1 / a0 - 1 / b0)
        b = a * b0 / (a0 * r)
        return a, a + b
    if kind == "ci":
        a = (1 - r * a0 / n0) / (v - 1 / a0 + 1 / n0)
    else:
        a = 1 / (v - 1 / a0)
    return a, a * n0 / (a0 * r)


def hamling_counts(log_rr, se, cases, n, kind: str, ref: int) -> tuple[np.ndarray, np.ndarray]:
    """Hamling's effective counts: cells reproducing the RRs and their variances.

    Unknowns are the reference cell's cases and n; every other cell follows from its RR and
    variance. They are fixed by keeping, as in the crude table, the reference category's share
    of non-cases (cc) or of n (ci, ir), and the ratio of non-cases (cc) or of n (ci, ir) to
    cases. Two equations in two unknowns, solved in logs by least squares (the relative errors
    of the share and the ratio, squared and summed, as Hamling and R dosresmeta do): exactly
    when a solution exists, as closely as possible when none does.

    Returns
    -------
    cases, n : arrays (k,)

    Examples
    --------
    >>> y, se = [0.0, 0.3, 0.5], [np.nan, 0.2, 0.25]
    >>> a, N = hamling_counts(y, se, [40, 35, 25], [500, 400, 300], "ci", 0)
    >>> v = 1 / a[1:] - 1 / N[1:] + 1 / a[0] - 1 / N[0]
    >>> np.allclose(np.sqrt(v), se[1:])
    True
    """
    y = np.asarray(log_rr, dtype=float)
    c = np.asarray(cases, dtype=float)
    N = np.asarray(n, dtype=float)
    others = np.flatnonzero(np.arange(y.size) != ref)
    v = np.asarray(se, dtype=float)[others] ** 2
    if kind == "cc":
        p0 = (N - c)[ref] / (N - c).sum()
        z0 = (N - c).sum() / c.sum()
    else:
        p0 = N[ref] / N.sum()
        z0 = N.sum() / c.sum()

    def cells(par):
        a0, n0 = np.exp(par)
        a, m = _hamling_cells(a0, n0, y[others], v, kind)
        A = np.empty(y.size)
        M = np.empty(y.size)
        A[ref], M[ref], A[others], M[others] = a0, n0, a, m
        return A, M

    def equations(par):
        A, M = cells(par)
        if kind == "cc":
            B = M - A
            p1, z1 = B[ref] / B.sum(), B.sum() / A.sum()
        else:
            p1, z1 = M[ref] / M.sum(), M.sum() / A.sum()
        return [p1 / p0 - 1, z1 / z0 - 1]

    sol = least_squares(equations, np.log([c[ref], N[ref]]), xtol=1e-15, ftol=1e-15, gtol=1e-15)
    A, M = cells(sol.x)
    if not np.all(np.isfinite(sol.x)) or np.any(A <= 0) or np.any(M <= A * (kind != "ir")):
        raise ConvergenceError(
            "Hamling counts: no positive cells reproduce these RRs and variances (check the "
            "SEs, cases and n); use covariance='gl'"
        )
    return A, M
