"""A category's relative risk as a ratio of average risks over the exposure within it.

A published category RR compares the average risk of everyone in a category with that of the
reference category, not the risk at one assigned dose. Where the curve bends, or in an
open-ended extreme category (the lowest or highest quintile), the two differ: for a U-shape the
average over the curved tail lies above the curve at the category's median, and a curve fitted
to the medians is biased (``benchmarks/meta_coverage.py``). Here each study's exposure is taken
as normal (or log-normal), fitted to its categories' doses (medians: the median of the part of
the distribution between the category's cumulative shares ``a`` and ``b`` is the quantile at
``(a + b) / 2``) and sizes (persons, person-time, or controls for case-control studies), and the
expected log RR of category k is

    log E[exp f(X) | X in k] - log E[exp f(X) | X in ref],

as in Hartemink et al. (Am J Epidemiol 2006;163:1042). Linearised at a curve ``f = B beta`` it
is ``(Bw_k - Bw_ref) beta + r_k``, with ``Bw`` the basis averaged with weights ``exp f`` and
``r_k`` what the linearisation leaves; `tilted_design` gives both, and the fit iterates to the
fixed point, which is the nonlinear GLS (Gauss-Newton) estimate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from ..errors import InputError

__all__ = [
    "CATEGORY_MODELS",
    "CategoryNodes",
    "category_nodes",
    "category_shares",
    "exposure_fit",
    "quantile_function",
    "tilted_design",
]

CATEGORY_MODELS = ("piecewise", "normal", "lognormal", "point")

#: Gauss-Legendre nodes per category, over standard-normal scores cut at +-Z_LIMIT (mass beyond:
#: 1e-17); a category average of exp(spline) is then exact to ~1e-6 (tested against a dense sum).
NODES = 48
Z_LIMIT = 8.5


@dataclass(frozen=True)
class CategoryNodes:
    """Quadrature of one study's categories: exposure at the nodes and weights summing to 1.

    ``x`` and ``w`` are (categories, NODES), rows in the order the doses were given.
    """

    x: np.ndarray
    w: np.ndarray


def category_shares(cases, n, kind: str) -> np.ndarray:
    """Each category's share of the study's population: persons (ci), person-time (ir), or
    controls ``n - cases`` (cc), as fractions summing to 1."""
    size = np.asarray(n, float) - (np.asarray(cases, float) if kind == "cc" else 0.0)
    if not (np.isfinite(size).all() and (size > 0).all()):
        raise InputError("category sizes: every category needs n (and n > cases for cc) > 0")
    return size / size.sum()


def exposure_fit(dose, share, model: str = "normal") -> tuple[float, float]:
    """Mean and SD of a normal exposure (of log exposure for "lognormal") whose quantiles at the
    categories' mid-shares are their doses (least squares over categories).

    Parameters
    ----------
    dose : array (k,)
        The categories' doses (medians; exposure units), any order.
    share : array (k,)
        The categories' shares of the population (sum 1).

    Examples
    --------
    Quintile medians of N(0.85, 0.08^2):

    >>> z = ndtri(np.array([0.1, 0.3, 0.5, 0.7, 0.9]))
    >>> [round(v, 6) for v in exposure_fit(0.85 + 0.08 * z, np.full(5, 0.2))]
    [0.85, 0.08]
    """
    d, s = np.asarray(dose, float), np.asarray(share, float)
    if model == "lognormal":
        if (d <= 0).any():
            raise InputError("categories='lognormal' needs doses > 0; use 'normal' or 'point'")
        d = np.log(d)
    order = np.argsort(d, kind="stable")
    upper = np.cumsum(s[order])
    z = ndtri(np.clip(upper - s[order] / 2, 1e-12, 1 - 1e-12))
    if np.ptp(d) <= 0:
        raise InputError("categories: a study's doses are all equal; its spread is unknown")
    sd, mean = np.polyfit(z, d[order], 1)
    if sd <= 0:
        raise InputError("categories: doses do not increase with the categories' shares")
    return float(mean), float(sd)


def _mid_scores(dose: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Each category's normal score at its mid-share (categories ordered by dose)."""
    order = np.argsort(dose, kind="stable")
    upper = np.empty(dose.size)
    upper[order] = np.cumsum(share[order])
    return ndtri(np.clip(upper - share / 2, 1e-12, 1 - 1e-12))


def quantile_function(dose, share, model: str = "piecewise") -> Callable:
    """The exposure as a function of the normal score, ``x = Q(z)``, fitted to the categories'
    doses (medians) at their mid-shares.

    "piecewise": linear in z through every (score, median) point and extended linearly beyond
    the outer ones (a normal when the medians are, skewed when they are); "normal": one line
    (least squares); "lognormal": one line in log exposure.

    Examples
    --------
    Medians of a right-skewed exposure (scores -1.15, 0, 1.15): the upper tail stretches
    further than the lower one, 1 + (2 - 1) / 1.15 * (-2 + 1.15) = 0.261 and
    4 + (4 - 2) / 1.15 * (2 - 1.15) = 5.477.

    >>> q = quantile_function([1.0, 2.0, 4.0], [0.25, 0.5, 0.25])
    >>> [round(float(v), 3) for v in q(np.array([-2.0, 0.0, 2.0]))]
    [0.261, 2.0, 5.477]
    """
    d, s = np.asarray(dose, float), np.asarray(share, float)
    if model in ("normal", "lognormal"):
        mean, sd = exposure_fit(d, s, model)
        if model == "normal":
            return lambda z: mean + sd * z
        return lambda z: np.exp(mean + sd * z)
    if model != "piecewise":
        raise InputError(f"categories={model!r}: use 'piecewise', 'normal', 'lognormal' or 'point'")
    z = _mid_scores(d, s)
    order = np.argsort(z)
    zk, dk = z[order], d[order]
    if np.ptp(dk) <= 0:
        raise InputError("categories: a study's doses are all equal; its spread is unknown")
    if (np.diff(dk) < 0).any():
        raise InputError("categories: doses do not increase with the categories' shares")
    low = (dk[1] - dk[0]) / (zk[1] - zk[0])
    high = (dk[-1] - dk[-2]) / (zk[-1] - zk[-2])

    def q(score):
        score = np.asarray(score, float)
        inside = np.interp(score, zk, dk)
        below = dk[0] + low * (score - zk[0])
        above = dk[-1] + high * (score - zk[-1])
        return np.where(score < zk[0], below, np.where(score > zk[-1], above, inside))

    return q


def category_nodes(dose, share, model: str = "piecewise") -> CategoryNodes:
    """Quadrature nodes of each category's part of the study's fitted exposure distribution.

    Category bounds are the normal scores of the cumulative shares (categories ordered by dose);
    within a category, Gauss-Legendre over the score on each side of the median's score (where a
    piecewise Q bends), weights ``phi(z)`` normalised to 1; exposure ``Q(z)``
    (`quantile_function`).

    Examples
    --------
    >>> nd = category_nodes([0.8, 0.9], [0.5, 0.5])
    >>> sd = 0.05 / float(ndtri(0.75))  # the medians are the quartiles
    >>> round(float((nd.w[0] * nd.x[0]).sum()), 6), round(0.85 - sd * float(np.sqrt(2 / np.pi)), 6)
    (0.790853, 0.790853)
    """
    d, s = np.asarray(dose, float), np.asarray(share, float)
    q = quantile_function(d, s, model)
    order = np.argsort(d, kind="stable")
    cum = np.empty(d.size)
    cum[order] = np.cumsum(s[order])
    lo = np.maximum(ndtri(np.clip(cum - s, 0, 1)), -Z_LIMIT)
    hi = np.minimum(ndtri(np.clip(cum, 0, 1)), Z_LIMIT)
    mid = np.clip(_mid_scores(d, s), lo, hi)
    t, wt = np.polynomial.legendre.leggauss(NODES // 2)
    pieces = []
    for a, b in ((lo, mid), (mid, hi)):
        z = a[:, None] + (b - a)[:, None] * (t + 1) / 2
        pieces.append((z, wt * (b - a)[:, None] / 2 * np.exp(-(z**2) / 2)))
    z = np.hstack([p[0] for p in pieces])
    w = np.hstack([p[1] for p in pieces])
    return CategoryNodes(q(z), w / w.sum(axis=1, keepdims=True))


def tilted_design(
    nodes: CategoryNodes, basis: Callable[[np.ndarray], np.ndarray], beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Design rows and offsets of the category log RRs (row 0 the reference), linearised at
    the curve ``basis(x) @ beta``: ``E[log RR_k] ~= X_k beta + r_k`` for k >= 1.

    Returns ``X`` (k - 1, q): the ``exp f``-weighted category means of the basis minus the
    reference's; ``r`` (k - 1,): the exact expected log RR at ``beta`` minus ``X beta``. At
    ``beta = 0``, ``X`` is the difference of plain category means and ``r`` is 0.

    Examples
    --------
    A linear curve with slope 1 on N(0, 1) halves: log RR = log(E[e^X | X>0] / E[e^X | X<0])
    = log(ndtr(1) / ndtr(-1)).

    >>> from scipy.special import ndtr
    >>> nd = category_nodes(ndtri([0.25, 0.75]), [0.5, 0.5])
    >>> X, r = tilted_design(nd, lambda x: x[:, None], np.array([1.0]))
    >>> round(float(X[0, 0] + r[0]), 8), round(float(np.log(ndtr(1) / ndtr(-1))), 8)
    (1.66826787, 1.66826787)
    """
    k, m = nodes.x.shape
    B = basis(nodes.x.ravel()).reshape(k, m, -1)
    f = B @ beta
    top = f.max(axis=1, keepdims=True)
    e = nodes.w * np.exp(f - top)
    mass = e.sum(axis=1)
    log_mean = np.log(mass) + top[:, 0]
    Bw = np.einsum("km,kmq->kq", e / mass[:, None], B)
    offset = log_mean - Bw @ beta
    return Bw[1:] - Bw[0], offset[1:] - offset[0]
