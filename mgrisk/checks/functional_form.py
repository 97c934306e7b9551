"""Pictures' numbers: smooths of residuals (functional form, coefficients over time).

- `martingale_check`: martingale residuals of the model WITHOUT the exposure, smoothed against
  the exposure (Therneau, Grambsch & Fleming, Biometrika 1990). The log of the ratio of the
  smoothed observed to the smoothed expected events estimates the exposure's log-HR up to a
  constant (Therneau & Grambsch 2000, sec. 5.3); the fitted spline is shifted to the same mean.
- `smooth`: the smoother both use, a least-squares regression on a restricted cubic spline
  (knots at quantiles, as `rcs_knots`) with its pointwise band: deterministic, no tuning text.
- `log_hr_over_time`: the spline's implied log-HR at a few exposure values as the coefficients
  drift with time, from the smoothed per-column scaled Schoenfeld residuals (beta_j(t)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ..cox import PreparedCox
from ..splines import rcs_basis, rcs_knots
from ._moments import event_moments, within_block_cumsum

__all__ = ["log_hr_over_time", "martingale_check", "martingale_residuals", "smooth", "smooths"]


def smooth(x, y, grid, knots: int = 4, level: float = 0.95, weights=None) -> pd.DataFrame:
    """Least-squares fit of y on a restricted cubic spline of x, evaluated on ``grid``.

    Returns a DataFrame: x, fit, se, lower, upper (pointwise band, residual variance from the
    fit). Missing y (NaN) are left out.

    Examples
    --------
    >>> x = np.linspace(0, 1, 200)
    >>> out = smooth(x, 2 * x, [0.25, 0.75])
    >>> np.round(out.fit.to_numpy(), 10).tolist()
    [0.5, 1.5]
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(y)
    w = None if weights is None else np.asarray(weights, float)[ok]
    return _fit(*_design(x[ok], grid, knots), y[ok][:, None], w, level)[0]


def smooths(x, ys: dict[str, np.ndarray], grid, knots: int = 4) -> dict[str, pd.DataFrame]:
    """`smooth` of each of ``ys`` on the same x: one spline design and one solve for all the
    complete ones (a y with missing values gets its own).

    >>> x = np.linspace(0, 1, 200)
    >>> out = smooths(x, {"a": 2 * x, "b": np.where(x < 0.5, np.nan, x)}, [0.75])
    >>> [round(float(f.fit.iloc[0]), 10) for f in out.values()]
    [1.5, 0.75]
    """
    x = np.asarray(x, float)
    ys = {name: np.asarray(y, float) for name, y in ys.items()}
    complete = [name for name, y in ys.items() if np.isfinite(y).all()]
    fits = {}
    if complete:
        Y = np.column_stack([ys[name] for name in complete])
        fits = dict(zip(complete, _fit(*_design(x, grid, knots), Y), strict=True))
    return {
        name: fits[name] if name in fits else smooth(x, y, grid, knots) for name, y in ys.items()
    }


def _design(x, grid, knots: int) -> tuple[np.ndarray, np.ndarray]:
    """Intercept and restricted cubic spline columns of x (rms knots) and of the grid."""
    grid = np.asarray(grid, float)
    k = min(knots, np.unique(x).size)
    if k >= 3:
        kn = rcs_knots(x, k)
        A, G = rcs_basis(x, kn), rcs_basis(grid, kn)
    else:
        A, G = x[:, None], grid[:, None]
    return (
        np.column_stack([np.ones(x.size), A]),
        np.column_stack([np.ones(grid.size), G]),
        grid,
    )


def _fit(A, G, grid, Y, w=None, level: float = 0.95) -> list[pd.DataFrame]:
    """Least squares of each column of Y on A, weighted by ``w`` (None: unweighted; normal
    equations: p x p, cheap for a million points; no n x p temporaries beyond the residuals),
    evaluated at G, with a pointwise band from its residual variance."""
    Aw = A if w is None else A * w[:, None]
    XtX_inv = np.linalg.pinv(Aw.T @ A)
    coef = XtX_inv @ (Aw.T @ Y)
    resid = A @ coef
    np.subtract(Y, resid, out=resid)
    squares = np.einsum("ij,ij->j", resid, resid) if w is None else w @ resid**2
    sigma2 = squares / max(Y.shape[0] - A.shape[1], 1)
    fit = G @ coef
    leverage = np.einsum("ij,jk,ik->i", G, XtX_inv, G)
    se = np.sqrt(np.maximum(leverage[:, None] * sigma2, 0.0))
    z = ndtri(0.5 + level / 2)
    return [
        pd.DataFrame({"x": grid, "fit": f, "se": e, "lower": f - z * e, "upper": f + z * e})
        for f, e in zip(fit.T, se.T, strict=True)
    ]


def martingale_residuals(data: PreparedCox, beta_scaled: np.ndarray, efron: bool) -> np.ndarray:
    """Martingale residuals per row (caller's order) at ``beta_scaled`` (zeros: the model with
    no covariates), as R's ``residuals(fit, "martingale")`` (Efron's share at a row's own death
    time)."""
    mom = event_moments(data, beta_scaled, efron)
    C = within_block_cumsum(mom.haz, data.block_end)
    e, s = data.exit_pos, data.entry_pos
    at = e >= 0
    H = np.zeros(data.n)
    H[at] = C[e[at]] - np.where(s[at] >= 0, C[np.maximum(s[at], 0)], 0.0)
    ev = data.event & at
    H[ev] -= mom.c2[e[ev]]
    eta = data.X @ beta_scaled + data.offset
    shift = 0.5 * (eta.max() + eta.min())
    M = data.event - np.exp(eta - shift) * H
    return data.to_caller(M)


def martingale_check(
    x: np.ndarray,
    event: np.ndarray,
    martingale: np.ndarray,
    fitted_log_hr: np.ndarray,
    grid,
    knots: int = 4,
) -> pd.DataFrame:
    """Therneau's functional-form check on ``grid`` of the exposure.

    Parameters
    ----------
    x, event : arrays (n,)
        Exposure and event indicator (0/1) per row.
    martingale : array (n,)
        Martingale residuals of the model without the exposure (`martingale_residuals`).
    fitted_log_hr : array (len(grid),)
        The fitted spline's log-HR on ``grid`` (any constant).

    Returns
    -------
    pandas.DataFrame
        exposure, martingale (smooth), lower, upper (its band), log_ratio (log of smoothed
        observed over smoothed expected events), fitted (the spline's log-HR, shifted to the
        mean of log_ratio over the grid).
    """
    x = np.asarray(x, float)
    martingale = np.asarray(martingale, float)
    sm, observed, expected = _fit(  # the residuals, the observed and the expected events
        *_design(x, grid, knots),
        np.column_stack([martingale, event, event - martingale]),
    )
    observed, expected = observed.fit.to_numpy(), expected.fit.to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.log(np.where((observed > 0) & (expected > 0), observed / expected, np.nan))
    fitted = np.asarray(fitted_log_hr, float)
    shift = np.nanmean(ratio) - np.mean(fitted) if np.isfinite(ratio).any() else 0.0
    return pd.DataFrame(
        {
            "exposure": grid,
            "martingale": sm.fit.to_numpy(),
            "lower": sm.lower.to_numpy(),
            "upper": sm.upper.to_numpy(),
            "log_ratio": ratio,
            "fitted": fitted + shift,
        }
    )


def log_hr_over_time(
    residuals: pd.DataFrame,
    columns: list[str],
    D: np.ndarray,
    labels: list[str],
    n_points: int = 60,
) -> pd.DataFrame:
    """The log-HR ``D_v . beta(t)`` at each exposure value v (rows of D, vs the reference) with
    beta_j(t) the smooth of column j's scaled Schoenfeld residuals over transformed time.

    Returns a long DataFrame: ttime, value (label), log_hr.
    """
    t = residuals["ttime"].to_numpy()
    grid = np.linspace(t.min(), t.max(), n_points)
    fits = smooths(t, {c: residuals[c].to_numpy() for c in columns}, grid).values()
    B = np.column_stack([f.fit for f in fits])
    out = [
        pd.DataFrame({"ttime": grid, "value": lab, "log_hr": B @ d})
        for d, lab in zip(D, labels, strict=True)
    ]
    return pd.concat(out, ignore_index=True)
