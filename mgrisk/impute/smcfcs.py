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
3. rejection sampling: a candidate x* from the covariate model is accepted with probability
   ``prod_k a_k`` where, with ``u_k = dH_k exp(lp_k(x*))``, ``a_k = u_k exp(1 - u_k)`` for the
   person's own event cause and ``exp(-u_k)`` otherwise (each at most 1: the Cox likelihood of
   (entry, exit] data divided by its maximum over the linear predictor).

Candidates are drawn up to `MAX_TRIES` times; a person still without an accepted value keeps
the last candidate (counted in `SmcResult.not_accepted`).
"""

from __future__ import annotations

import numpy as np

from ..cox import fit_cox
from ..splines import rcs_basis

__all__ = ["MAX_TRIES", "smc_draw"]

#: Candidates per missing value before the last one is kept (R smcfcs's default rjlimit is 1000;
#: acceptance rates here are typically above 0.3, so 200 is rarely reached).
MAX_TRIES = 200


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
    out = np.empty(miss.size)
    pending = np.arange(miss.size)
    for _ in range(MAX_TRIES):
        cand = mu[pending] + sigma * rng.standard_normal(pending.size)
        Bc = rcs_basis(cand, knots)
        log_accept = np.zeros(pending.size)
        for b_s, lp_z, dh, own in causes:
            u = dh[pending] * np.exp(Bc @ b_s + lp_z[pending])
            log_accept += np.where(own[pending], np.log(np.maximum(u, 1e-300)) + 1 - u, -u)
        accept = np.log(rng.random(pending.size)) < log_accept
        out[pending] = cand  # the last candidate stays for those never accepted
        pending = pending[~accept]
        if pending.size == 0:
            break
    return out
