"""Estimation: per-study GLS, multivariate random-effects meta-analysis, and the one-stage model.

Both procedures are one linear mixed model over blocks ``y_i = X_i beta + Z_i u_i + e_i`` with
``u_i ~ N(0, Psi)`` and ``e_i ~ N(0, S_i)``, S_i known:

- two-stage (Gasparrini et al., Stat Med 2012): block i is study i's GLS coefficients ``b_i``
  with their covariance (``X_i = Z_i = I``);
- one-stage (Crippa et al., Stat Methods Med Res 2019): block i is study i's non-reference log
  RRs, ``X_i = Z_i`` the dose basis contrasted with the reference dose, S_i the within-study
  (Greenland-Longnecker) covariance.

``beta`` is profiled out by GLS; Psi = L L' (L lower-triangular, so Psi stays positive
semi-definite) maximises the ML or REML log-likelihood with the analytic gradient (BFGS);
"fixed" sets Psi = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import minimize

from ..errors import ConvergenceError, InputError

__all__ = ["Blocks", "MixedFit", "fit_mixed", "generalised_q", "study_gls"]

METHODS = ("reml", "ml", "fixed")

#: BFGS stops when the gradient's largest element (log-likelihood per Cholesky parameter) is
#: below this; starting points tried: these multiples of the fixed-effect-based start.
GRADIENT_TOLERANCE = 1e-9
START_SCALES = (0.01, 1.0, 100.0)


@dataclass(frozen=True)
class Blocks:
    """The model's data, one entry per study."""

    y: list  # arrays (k_i,)
    X: list  # arrays (k_i, p)
    Z: list  # arrays (k_i, q)
    S: list  # arrays (k_i, k_i)

    @property
    def n_obs(self) -> int:
        return int(sum(len(v) for v in self.y))


@dataclass(frozen=True)
class MixedFit:
    coef: np.ndarray
    cov: np.ndarray
    psi: np.ndarray
    loglik: float
    method: str
    converged: bool
    iterations: int


def study_gls(X, y, S) -> tuple[np.ndarray, np.ndarray]:
    """One study's GLS estimate ``(X'S^-1X)^-1 X'S^-1 y`` and its covariance."""
    c = cho_factor(S)
    WX = cho_solve(c, X)
    info = X.T @ WX
    cov = np.linalg.inv(info)
    return cov @ (WX.T @ y), (cov + cov.T) / 2


def _vech_to_lower(theta, q):
    L = np.zeros((q, q))
    L[np.tril_indices(q)] = theta
    return L


def _evaluate(blocks: Blocks, psi: np.ndarray, method: str, gradient: bool):
    """Profiled log-likelihood at ``psi``, GLS beta and its covariance, and d loglik / d psi."""
    p = blocks.X[0].shape[1]
    info = np.zeros((p, p))
    score = np.zeros(p)
    logdet = 0.0
    facts = []
    for y, X, Z, S in zip(blocks.y, blocks.X, blocks.Z, blocks.S, strict=True):
        sigma = S + Z @ psi @ Z.T
        try:
            c = cho_factor(sigma)
        except np.linalg.LinAlgError:
            return -np.inf, None, None, None
        logdet += 2 * np.log(np.diag(c[0])).sum()
        WX = cho_solve(c, X)
        info += X.T @ WX
        score += WX.T @ y
        facts.append((c, WX))
    ci = cho_factor(info)
    beta = cho_solve(ci, score)
    cov = cho_solve(ci, np.eye(p))
    quad = 0.0
    grad = np.zeros_like(psi) if gradient else None
    for (c, WX), y, X, Z in zip(facts, blocks.y, blocks.X, blocks.Z, strict=True):
        Wr = cho_solve(c, y - X @ beta)
        quad += Wr @ (y - X @ beta)
        if gradient:
            WZ = cho_solve(c, Z)
            ZWr = Z.T @ Wr
            g = np.outer(ZWr, ZWr) - Z.T @ WZ
            if method == "reml":
                A = WX.T @ Z  # X' W Z
                g += A.T @ cov @ A
            grad += g / 2
    n = blocks.n_obs
    ll = -0.5 * (n * np.log(2 * np.pi) + logdet + quad)
    if method == "reml":
        ll += 0.5 * (p * np.log(2 * np.pi) - 2 * np.log(np.diag(ci[0])).sum())
    return ll, beta, cov, grad


def fit_mixed(blocks: Blocks, method: str = "reml") -> MixedFit:
    """Fit the model by REML, ML or fixed effects (Psi = 0).

    Examples
    --------
    Two studies' slopes 1 and 3 with variances 1: fixed effect 2 with variance 1/2.

    >>> b = Blocks([np.array([1.0]), np.array([3.0])], [np.eye(1)] * 2, [np.eye(1)] * 2,
    ...            [np.eye(1)] * 2)
    >>> f = fit_mixed(b, "fixed")
    >>> round(float(f.coef[0]), 12), round(float(f.cov[0, 0]), 12)
    (2.0, 0.5)
    """
    if method not in METHODS:
        raise InputError(f"method={method!r}: use 'reml', 'ml' or 'fixed'")
    q = blocks.Z[0].shape[1]
    zero = np.zeros((q, q))
    ll0, beta0, cov0, _ = _evaluate(blocks, zero, "ml" if method == "fixed" else method, False)
    if method == "fixed":
        return MixedFit(beta0, cov0, zero, ll0, method, True, 0)
    m = len(blocks.y)
    idx = np.tril_indices(q)

    def objective(theta):
        L = _vech_to_lower(theta, q)
        ll, _, _, g = _evaluate(blocks, L @ L.T, method, True)
        if not np.isfinite(ll):
            return np.inf, np.zeros_like(theta)
        return -ll, -(2 * g @ L)[idx]

    base = np.sqrt(np.maximum(np.diag(cov0) * m, 1e-12))
    best = None
    for scale in START_SCALES:
        start = np.diag(base * np.sqrt(scale))[idx]
        res = minimize(
            objective,
            start,
            jac=True,
            method="BFGS",
            options={"gtol": GRADIENT_TOLERANCE, "maxiter": 2000},
        )
        if best is None or res.fun < best.fun - 1e-12:
            best = res
    L = _vech_to_lower(best.x, q)
    psi = L @ L.T
    ll, beta, cov, grad = _evaluate(blocks, psi, method, True)
    if not np.isfinite(ll):
        raise ConvergenceError(
            f"{method.upper()}: the likelihood could not be evaluated at the optimum"
        )
    converged = bool(np.max(np.abs(2 * grad @ L)) < 1e-5 * max(1.0, abs(ll)))
    return MixedFit(beta, cov, (psi + psi.T) / 2, float(ll), method, converged, int(best.nit))


def generalised_q(blocks: Blocks, coef: np.ndarray, psi: np.ndarray) -> float:
    """``sum_i r_i' (S_i + Z_i Psi Z_i')^-1 r_i`` with ``r_i = y_i - X_i coef``: the residual
    quadratic form at the fitted Psi, whose ratio to ``n_obs - p`` is Jackson & Riley's (Stat
    Med 2014;33:541) scale factor of the pooled covariance (Hartung-Knapp's, multivariate).

    >>> b = Blocks([np.array([1.0]), np.array([3.0])], [np.eye(1)] * 2, [np.eye(1)] * 2,
    ...            [np.eye(1)] * 2)
    >>> generalised_q(b, np.array([2.0]), np.eye(1))  # (1 + 1) / (1 + 1)
    1.0
    """
    total = 0.0
    for y, X, Z, S in zip(blocks.y, blocks.X, blocks.Z, blocks.S, strict=True):
        r = y - X @ coef
        total += float(r @ np.linalg.solve(S + Z @ psi @ Z.T, r))
    return total
