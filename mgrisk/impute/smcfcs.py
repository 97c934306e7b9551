"""Substantive-model-compatible imputation of the exposure (SMC-FCS, Bartlett et al., Stat
Methods Med Res 2015;24:462-487) for a spline of the exposure in cause-specific Cox models.

Predictive mean matching with the outcome as linear predictors (White & Royston 2009) assumes
the exposure acts linearly: with a U-shaped effect, people with the event have a wider, not a
shifted, exposure distribution, which a linear imputation model cannot reproduce, and the
imputed curve is flattened (``benchmarks/impute_study.py`` measures it). SMC-FCS draws the
exposure from the distribution implied by the analysis model itself:

1. covariate model: exposure | other covariates, normal linear regression with parameters drawn
   from their posterior (as mice's ``.norm.draw``), fitted to the current completed data;
2. substantive model: for every event code k, a Cox model with ``rcs(exposure, knots)`` and the
   other covariates, delayed entry respected; coefficients drawn from N(beta_k, V_k); Breslow
   (Efron-adjusted) cumulative baseline hazard H_k, and each person's ``dH_k = H_k(exit) -
   H_k(entry)``;
3. sampling-importance-resampling (where R smcfcs uses rejection sampling): `CANDIDATES`
   draws x* per person from the covariate model, one kept with probability proportional to the
   person's Cox likelihood ``prod_k exp(lp_k(x*))^[own cause k] exp(-dH_k exp(lp_k(x*)))``.

Why not rejection sampling: its acceptance probability for someone with the event,
``u exp(1 - u)`` with ``u = dH exp(lp)``, is tiny when the cumulative hazard over their time at
risk is small (an event soon after entry); a first version with 200 tries left such people with
a draw that ignored the outcome, which flattened the imputed U-curve by a third in
``benchmarks/impute_study.py``. Resampling gives every person a draw weighted by the outcome.
"""

from __future__ import annotations

import numpy as np

from ..cox import fit_cox
from ..splines import rcs_basis

__all__ = ["CANDIDATES", "smc_draw"]

#: Candidates per missing value for the resampling step (their effective number is reported by
#: nothing: 200 draws of a normal covariate model cover the exposure's range densely).
CANDIDATES = 200


def _cumhaz_at(fit, t: np.ndarray) -> np.ndarray:
    bh = fit.baseline_hazard
    times, cum = bh.time.to_numpy(), bh.cumhaz.to_numpy()
    pos = np.searchsorted(times, t, side="right")
    return np.where(pos > 0, cum[np.maximum(pos - 1, 0)], 0.0)


def smc_draw(x, ry, Z, time, entry, codes, knots, rng, norm_draw, standardise) -> np.ndarray:
    """Draws of the missing exposure values (``~ry``) given the current completed data.

    ``Z``: the other covariates' design columns (n, q); ``codes``: event codes (0 censored);
    ``norm_draw`` and ``standardise``: the imputer's linear-regression posterior draw and
    scaling (shared with predictive mean matching).
    """
    Xs = standardise(Z)
    _, beta, sigma = norm_draw(Xs, x, rng)
    miss = np.flatnonzero(~ry)
    mu = Xs[miss] @ beta
    B = rcs_basis(x, knots)
    s = B.shape[1]
    causes = []
    for k in np.unique(codes[codes > 0]):
        fit = fit_cox(np.column_stack([B, Z]), time, (codes == k).astype(int), entry=entry)
        chol = np.linalg.cholesky(fit.vcov + 1e-12 * np.eye(fit.vcov.shape[0]))
        b = fit.beta + chol @ rng.standard_normal(fit.beta.size)
        dh = _cumhaz_at(fit, time[miss]) - _cumhaz_at(fit, entry[miss])
        causes.append((b[:s], Z[miss] @ b[s:], dh, codes[miss] == k))
    # sampling-importance-resampling: CANDIDATES draws per person from the covariate model,
    # one kept with probability proportional to the Cox likelihood of (entry, exit], event
    cand = mu[:, None] + sigma * rng.standard_normal((miss.size, CANDIDATES))
    Bc = rcs_basis(cand.ravel(), knots).reshape(miss.size, CANDIDATES, s)
    log_w = np.zeros(cand.shape)
    for b_s, lp_z, dh, own in causes:
        lp = Bc @ b_s + lp_z[:, None]
        log_w += np.where(own[:, None], lp, 0.0) - dh[:, None] * np.exp(lp)
    w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
    cum = np.cumsum(w, axis=1)
    pick = (cum < rng.random(miss.size)[:, None] * cum[:, -1:]).sum(axis=1)
    out = cand[np.arange(miss.size), np.minimum(pick, CANDIDATES - 1)]
    return out
