"""Restricted cubic splines, exactly as R's ``rms::rcs`` / ``Hmisc::rcspline.eval``.

Knots follow Hmisc's algorithm in every branch (default quantiles, n < 100, heavily tied
extremes, too few unique values); the basis uses rms's default normalisation (cubic terms divided
by ``(t_k - t_1)^2``). Knots are plain floats so that a fitted transform round-trips through a
TOML model file.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from patsy import stateful_transform

from .errors import InputError, SplineWarning

__all__ = [
    "RestatedSpline",
    "rcs",
    "rcs_basis",
    "rcs_column_names",
    "rcs_knots",
    "rcs_pieces",
    "rcs_restate",
]

#: Fraction of the data a lowest/highest value must hold to be treated as heavily tied (Hmisc).
FRACTIED = 0.05


def _outer_quantile(n_knots: int) -> float:
    """Hmisc's outer knot quantile: .10 for 3 knots, .05 for 4-6, .025 for 7 or more."""
    if n_knots > 6:
        return 0.025
    return 0.05 if n_knots > 3 else 0.10


def _finite_values(x, name: str = "x") -> np.ndarray:
    """x as a float array with NaN dropped; infinite values are an error."""
    try:
        arr = np.asarray(x, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: values must be numeric ({exc})") from None
    if np.isinf(arr).any():
        row = int(np.flatnonzero(np.isinf(arr))[0])
        raise InputError(f"{name}: infinite value at row {row}; remove or recode it")
    return arr[~np.isnan(arr)]


def rcs_knots(x, n_knots: int = 4, *, fractied: float = FRACTIED) -> np.ndarray:
    """Knot locations for a restricted cubic spline, as ``rms::rcs(x, n_knots)`` places them.

    Parameters
    ----------
    x : array-like
        Exposure values (e.g. serum Mg, mmol/L). NaN values are ignored.
    n_knots : int
        Number of knots requested (>= 3). Default quantiles: 3 knots .10 .5 .90; 4 knots
        .05 .35 .65 .95; 5 knots .05 .275 .5 .725 .95; ...; 7 knots .025 ... .975.
    fractied : float
        A lowest or highest value holding at least this share of the data gets a knot of its own
        next to it (Hmisc's rule for heavily tied extremes). 0 disables the rule.

    Returns
    -------
    numpy.ndarray
        Sorted, unique knots (possibly fewer than requested, with a `SplineWarning`).

    Examples
    --------
    >>> rcs_knots(np.arange(1.0, 201.0), 4)
    array([ 10.95,  70.65, 130.35, 190.05])
    """
    xx = _finite_values(x)
    n = xx.size
    if n < 6:
        raise InputError(
            f"knots not specified, and only {n} non-missing values (at least 6 are needed)"
        )
    if n_knots < 3:
        raise InputError(f"n_knots={n_knots}: a restricted cubic spline needs at least 3 knots")
    xu, counts = np.unique(xx, return_counts=True)
    nxu = xu.size
    if nxu - 2 <= n_knots:
        warnings.warn(
            f"{n_knots} knots requested with {nxu} unique values of x. "
            f"knots set to {nxu - 2} interior values.",
            SplineWarning,
            stacklevel=2,
        )
        return _checked_knots(xu[1:-1], xx)

    outer = _outer_quantile(n_knots)
    nke = n_knots
    first_knot: list[float] = []
    last_knot: list[float] = []
    if 0 < fractied < 1:
        share = counts / n
        if share[1:-1].max() < fractied:
            if share[0] >= fractied:
                first_knot = [xx[xx > xx.min()].min()]
                xx = xx[xx > first_knot[0]]
                nke -= 1
            if share[-1] >= fractied:
                last_knot = [xx[xx < xx.max()].max()]
                xx = xx[xx < last_knot[0]]
                nke -= 1

    if nke == 1:
        knots = np.array([np.median(xx)])
    else:
        probs = np.linspace(0.5 if nke == 2 else outer, 1 - outer, nke)
        knots = np.quantile(xx, probs)
        if np.unique(knots).size < min(nke, 3):
            knots = np.quantile(xx, np.linspace(outer, 1 - outer, 2 * nke))
            if first_knot and np.unique(knots).size < 3:
                mid = (first_knot[0] + last_knot[0]) / 2 if last_knot else np.median(xx)
                high = last_knot[0] if last_knot else np.quantile(xx, 1 - outer)
                knots = np.sort([first_knot[0], mid, high])
            n_unique = np.unique(knots).size
            if n_unique >= 3:
                warnings.warn(
                    f"could not obtain {nke} interior knots with default algorithm. "
                    f"Used alternate algorithm to obtain {n_unique} knots",
                    SplineWarning,
                    stacklevel=2,
                )
        if xx.size < 100:
            # Hmisc: with < 100 values the outer knots are the 5th smallest and largest values.
            # (In the alternate branch above this indexes knot nke of 2*nke, as Hmisc does.)
            xs = np.sort(xx)
            knots = knots.copy()
            if not first_knot:
                knots[0] = xs[4]
            if not last_knot:
                knots[nke - 1] = xs[-5]
    return _checked_knots(np.concatenate([first_knot, knots, last_knot]), x)


def _checked_knots(knots, x) -> np.ndarray:
    knots = np.unique(np.asarray(knots, dtype=float))
    if knots.size < 3:
        values, counts = np.unique(_finite_values(x), return_counts=True)
        table = ", ".join(f"{v:g}: {c}" for v, c in zip(values[:10], counts[:10], strict=False))
        raise InputError(
            f"fewer than 3 unique knots could be placed; the variable has {values.size} distinct "
            f"values ({table}{', ...' if values.size > 10 else ''}); use fewer knots, give knots "
            "explicitly, or treat the variable as categorical"
        )
    return knots


def _validate_knots(knots) -> np.ndarray:
    k = np.asarray(knots, dtype=float).ravel()
    if k.size < 3:
        raise InputError(f"knots={k.tolist()}: a restricted cubic spline needs at least 3 knots")
    if not np.isfinite(k).all():
        raise InputError(f"knots={k.tolist()}: knots must be finite numbers")
    if np.any(np.diff(k) <= 0):
        raise InputError(f"knots={k.tolist()}: knots must be strictly increasing")
    return k


def rcs_basis(x, knots, *, deriv: int = 0) -> np.ndarray:
    """The restricted cubic spline basis (or its derivative) at x, as ``rms::rcs`` builds it.

    Parameters
    ----------
    x : array-like, shape (n,)
        Exposure values; NaN gives a row of NaN.
    knots : array-like, shape (k,)
        Strictly increasing knots, k >= 3.
    deriv : {0, 1, 2}
        0 for the basis, 1 and 2 for its first and second derivative with respect to x.

    Returns
    -------
    numpy.ndarray, shape (n, k - 1)
        Column 0 is x (or its derivative); column j = 1..k-2 is the nonlinear term
        ``(x-t_j)+^3 - (x-t_{k-1})+^3 (t_k-t_j)/(t_k-t_{k-1})
        + (x-t_k)+^3 (t_{k-1}-t_j)/(t_k-t_{k-1})`` divided by ``(t_k - t_1)^2``.
        The function is linear beyond the outer knots.

    Examples
    --------
    >>> rcs_basis([0.5, 1.5], [0.0, 1.0, 2.0]).round(3)
    array([[0.5  , 0.031],
           [1.5  , 0.781]])
    """
    if deriv not in (0, 1, 2):
        raise InputError(f"deriv={deriv}: only 0, 1 or 2 is available")
    t = _validate_knots(knots)
    x = np.asarray(x, dtype=float).ravel()
    k = t.size
    kd = (t[-1] - t[0]) ** (2 / 3)  # Hmisc's norm = 2, in its own order of operations
    tk, tk1 = t[-1], t[-2]

    def cube(knot):  # d^deriv/dx^deriv of max((x - knot) / kd, 0)^3
        zp = np.maximum((x - knot) / kd, 0.0)
        if deriv == 0:
            return zp**3
        return 3 * zp**2 / kd if deriv == 1 else 6 * zp / kd**2

    out = np.empty((x.size, k - 1))
    out[:, 0] = x if deriv == 0 else float(deriv == 1)
    out[np.isnan(x), 0] = np.nan
    cube_k, cube_k1 = cube(tk), cube(tk1)
    for j in range(k - 2):
        out[:, j + 1] = cube(t[j]) + ((tk1 - t[j]) * cube_k - (tk - t[j]) * cube_k1) / (tk - tk1)
    return out


def rcs_pieces(knots, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """The basis as polynomials between the knots, on [lo, hi].

    Returns
    -------
    edges : numpy.ndarray, shape (m + 1,)
        lo, the knots inside (lo, hi), hi.
    P : numpy.ndarray, shape (m, k - 1, 4)
        On [edges[i], edges[i + 1]], column j of `rcs_basis` is ``sum_d P[i, j, d] * s**d``
        with s = (x - edges[i]) / (edges[i + 1] - edges[i]) in [0, 1] (a local variable keeps
        the coefficients well scaled).
    """
    t = _validate_knots(knots)
    if not lo < hi:
        raise InputError(f"[{lo}, {hi}]: need lo < hi")
    edges = np.concatenate([[lo], t[(t > lo) & (t < hi)], [hi]])
    a, w = edges[:-1, None], np.diff(edges)[:, None]
    d = a - t  # (m, k): (x - t)^3 = (d + w s)^3 on the pieces right of knot t, else 0
    right = (a + w / 2) > t
    cubes = np.stack([d**3, 3 * d**2 * w, 3 * d * w**2, w**3 + 0 * d], axis=-1)
    cubes *= (right / (t[-1] - t[0]) ** 2)[..., None]
    k, tk, tk1 = t.size, t[-1], t[-2]
    mix = np.zeros((k - 2, k))  # column j = cube(t_j) + a_j cube(t_{k-1}) + b_j cube(t_k)
    mix[np.arange(k - 2), np.arange(k - 2)] = 1.0
    mix[:, -2] = -(tk - t[:-2]) / (tk - tk1)
    mix[:, -1] = (tk1 - t[:-2]) / (tk - tk1)
    P = np.zeros((edges.size - 1, k - 1, 4))
    P[:, 0, 0], P[:, 0, 1] = a[:, 0], w[:, 0]
    P[:, 1:] = np.einsum("jm,imd->ijd", mix, cubes)
    return edges, P


def rcs_column_names(name: str, n_knots: int) -> list[str]:
    """rms's names of the spline columns: ``mg``, ``mg'``, ``mg''``, ..."""
    return [name + "'" * j for j in range(n_knots - 1)]


@dataclass(frozen=True)
class RestatedSpline:
    """A fitted spline written without the restriction, as ``Hmisc::rcspline.restate`` does.

    ``f(x) = intercept + linear * x + sum_j cubic[j] * (x - knots[j])_+^3`` over all k knots;
    ``pieces`` gives the same function as an ordinary cubic polynomial on each interval.
    """

    knots: np.ndarray
    intercept: float
    linear: float
    cubic: np.ndarray
    pieces: pd.DataFrame

    def __call__(self, x) -> np.ndarray:
        """The restated function at x (equal to basis @ coef)."""
        x = np.asarray(x, dtype=float)
        z = np.maximum(x[..., None] - self.knots, 0.0) ** 3
        return self.intercept + self.linear * x + z @ self.cubic

    def __str__(self) -> str:
        terms = [f"{self.intercept:.8g}"] if self.intercept else []
        terms.append(f"{self.linear:+.8g} * x")
        terms += [
            f"{c:+.8g} * pmax(x - {t:.8g}, 0)^3"
            for c, t in zip(self.cubic, self.knots, strict=True)
        ]
        return " ".join(terms).lstrip("+ ")


def rcs_restate(coef, knots, *, intercept: float = 0.0) -> RestatedSpline:
    """Restate fitted spline coefficients as unrestricted and piecewise cubic polynomials.

    Parameters
    ----------
    coef : array-like, shape (k - 1,)
        Coefficients of the `rcs_basis` columns (e.g. the log-HR coefficients of ``mg``,
        ``mg'``, ...).
    knots : array-like, shape (k,)
    intercept : float
        Constant added to the function (0 for a Cox model).

    Returns
    -------
    RestatedSpline
        ``linear`` and ``cubic`` as Hmisc's rcspline.restate reports them (its last two cubic
        coefficients are the "restricted" ones), and ``pieces``: a DataFrame with one row per
        interval (``lower``, ``upper``, ``c0``..``c3``) so that f(x) = c0 + c1 x + c2 x^2 + c3 x^3.
    """
    t = _validate_knots(knots)
    b = np.asarray(coef, dtype=float).ravel()
    k = t.size
    if b.size != k - 1:
        raise InputError(f"coef has {b.size} values; {k} knots need {k - 1}")
    g = b[1:] / (t[-1] - t[0]) ** 2
    tk, tk1 = t[-1], t[-2]
    # coefficients of (x - t_{k-1})^3_+ and (x - t_k)^3_+ (Hmisc's "coefk" and "coefk1")
    at_k1 = np.sum(g * (t[:-2] - tk)) / (tk - tk1)
    at_k = np.sum(g * (t[:-2] - tk1)) / (tk1 - tk)
    cubic = np.concatenate([g, [at_k1, at_k]])
    bounds = np.concatenate([[-np.inf], t, [np.inf]])
    rows = []
    for i in range(k + 1):
        c = np.array([intercept, b[0], 0.0, 0.0])
        for gj, tj in zip(cubic[:i], t[:i], strict=True):  # (x - t)^3 expanded
            c += gj * np.array([-(tj**3), 3 * tj**2, -3 * tj, 1.0])
        rows.append([bounds[i], bounds[i + 1], *c])
    pieces = pd.DataFrame(rows, columns=["lower", "upper", "c0", "c1", "c2", "c3"])
    return RestatedSpline(t, float(intercept), float(b[0]), cubic, pieces)


class _RCS:
    """patsy stateful transform: ``rcs(mg, 4)`` or ``rcs(mg, knots=[...])`` in a formula.

    Knots are learned from the training data once and reused for new data, so
    ``build_design_matrices`` on a new DataFrame gives the same columns.
    """

    def __init__(self):
        self._chunks: list[np.ndarray] = []
        self._n_knots = 4
        self.knots: np.ndarray | None = None

    def memorize_chunk(self, x, n_knots=4, knots=None):
        self._n_knots = int(n_knots)
        if knots is None:
            self._chunks.append(np.asarray(x, dtype=float).ravel())
        else:
            self.knots = _validate_knots(knots)

    def memorize_finish(self):
        if self._chunks:
            self.knots = rcs_knots(np.concatenate(self._chunks), self._n_knots)
        self._chunks = []

    def transform(self, x, n_knots=4, knots=None):
        name = str(getattr(x, "name", None) or "x")
        index = x.index if isinstance(x, pd.Series) else None
        cols = rcs_column_names(name, self.knots.size)
        return pd.DataFrame(rcs_basis(x, self.knots), columns=cols, index=index)


rcs = stateful_transform(_RCS)
