"""Absolute risk from cause-specific Cox models: the cumulative incidence of one cause for a
covariate profile, with delta-method CIs from influence functions.

For a profile x, cause k has hazard increments h_k(s) = dL_k0(s) exp(x b_k) (Efron or Breslow
baseline, covariates at 0) at the event times of any cause. The risk of cause 1 in (s0, t],
for someone event-free at s0 (s0 = 0, or an age with age as the time scale), is the
product-limit form of riskRegression's ``predictRisk`` for ``CSC`` fits:

    F(t) = sum_{s0 < s <= t} S(s-) h_1(s),   S(s-) = prod_{s0 < u < s} (1 - sum_k h_k(u)).

Standard errors (the delta method through influence functions, as riskRegression): F is a
smooth function of every model's coefficients and baseline increments, so its influence
function is, per person i,

    IF_i = sum_k [ IFb_ki . sum_u c_k(u) h_k(u) (x - E_k(u))
                   + w_i dN_ik(u) c_k(u) exp(x b_k) / S0_k(u)
                   - w_i Y_i(u) exp(x_i b_k) c_k(u) h_k(u) / S0_k(u) ]   (sums over u in (s0, t])

with c_1(u) = S(u-) - D(u), c_k(u) = -D(u) for the other causes, D(u) = (F(t) - F(u)) /
(1 - sum_k h_k(u)), IFb the dfbeta residuals and E_k = S1/S0 the risk-set mean. The variance is
the sum over persons (or clusters) of IF_i squared. With Efron ties the baseline's influence
function is taken in its Breslow form, as riskRegression does; with Breslow ties the standard
errors are riskRegression's to 1e-9.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..cox import CoxResult, risk_set_sums
from ..errors import InputError
from .cif import confidence_limits

__all__ = ["CauseModel", "absolute_risk"]


@dataclass(frozen=True, eq=False)
class CauseModel:
    """One cause-specific Cox fit with the risk-set sums its influence functions need."""

    cause: int
    fit: CoxResult

    @cached_property
    def parts(self):
        fit, d = self.fit, self.fit.data
        beta = fit.coef.to_numpy()
        X = d.raw_X()
        lp = X @ beta
        shift = lp.max()
        wr = d.weights * np.exp(lp - shift)
        S0, S1 = risk_set_sums(X, wr, d.exit_pos, d.entry_pos, d.block_end, d.event_times.size)
        L = fit._residuals[0]
        dfbeta = (L * d.weights[:, None]) @ fit.cov_scaled / d.scale
        hazard = fit.baseline_hazard["hazard"].to_numpy()
        return beta, shift, wr, S0, S1 / S0[:, None], dfbeta, hazard


def _window(model: CauseModel, stratum: int, start: float, time: float) -> np.ndarray:
    d = model.fit.data
    t = d.event_times
    return np.flatnonzero((d.event_strata == stratum) & (t > start) & (t <= time))


def _risk_and_influence(models, x, stratum, start, time, cause, n_caller, exact=True):
    """F(t | event-free at start) for one profile x and its influence function (caller's
    row order)."""
    windows = [_window(m, stratum, start, time) for m in models]
    grid = np.unique(
        np.concatenate([m.fit.data.event_times[w] for m, w in zip(models, windows, strict=True)])
    )
    H = np.zeros((len(models), grid.size))
    pos = []
    for j, (m, w) in enumerate(zip(models, windows, strict=True)):
        beta, *_, hazard = m.parts
        p = np.searchsorted(grid, m.fit.data.event_times[w])
        H[j, p] = hazard[w] * np.exp(x @ beta)
        pos.append(p)
    total = H.sum(axis=0)
    S_minus = np.concatenate([[1.0], np.cumprod(1.0 - total)[:-1]])
    i_cause = [m.cause for m in models].index(cause)
    F_path = np.cumsum(S_minus * H[i_cause])
    risk = float(F_path[-1]) if grid.size else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        D = np.where(total < 1.0, (risk - F_path) / (1.0 - total), 0.0)
    if not exact:
        D = risk - F_path  # riskRegression's: S(s-) differentiated as exp(-cumulative hazard)
    influence = np.zeros(n_caller)
    for j, (m, w) in enumerate(zip(models, windows, strict=True)):
        if w.size == 0:
            continue
        d = m.fit.data
        beta, shift, wr, S0, E, dfbeta, _ = m.parts
        c = (S_minus if j == i_cause else 0.0) - D
        ck, hk = c[pos[j]], H[j, pos[j]]
        v_beta = (ck * hk) @ (x[None, :] - E[w])
        g_event = np.zeros(d.event_times.size)
        g_event[w] = ck * np.exp(x @ beta - shift) / S0[w]
        q = np.zeros(d.event_times.size + 1)  # q[m + 1]: cumulative over event times <= m
        q[w + 1] = ck * hk / S0[w]
        Q = np.cumsum(q)
        event_part = np.where(d.event, d.weights * g_event[np.maximum(d.exit_pos, 0)], 0.0)
        at_risk = np.where(d.exit_pos >= 0, Q[d.exit_pos + 1] - Q[d.entry_pos + 1], 0.0)
        influence += d.to_caller(dfbeta @ v_beta + event_part - wr * at_risk)
    return risk, influence


def absolute_risk(
    fits: dict[int, CoxResult],
    profiles: pd.DataFrame,
    *,
    cause: int,
    time: float,
    start: float = 0.0,
    stratum=None,
    cluster=None,
    level: float = 0.95,
    conf_type: str = "log-log",
    derivative: str = "product-limit",
) -> pd.DataFrame:
    """Cumulative incidence of ``cause`` by ``time`` for each row of ``profiles``.

    Parameters
    ----------
    fits : dict
        Cause code -> cause-specific `CoxResult`, one for every cause, fitted on the same rows
        with the same design (``profiles`` has their columns).
    profiles : pandas.DataFrame, shape (m, p)
        Design rows (covariates as in the fits, on their scale) to predict for.
    cause : int
    time, start : float
        Risk in (start, time] for someone event-free at ``start`` (0: from the time origin).
    stratum : optional
        Stratum label of the profiles when the fits are stratified.
    cluster : array-like, optional
        Cluster of each row (caller's order) for the variance; default: each row.
    level, conf_type : see `mgrisk.competing.confidence_limits`.
    derivative : {"product-limit", "exponential"}
        How S(s-) is differentiated in the influence function: exactly (the default: the
        standard errors are the infinitesimal jackknife's), or as exp(-cumulative hazard),
        riskRegression's approximation (its standard errors, on data without tied times).

    Returns
    -------
    pandas.DataFrame with columns risk, se, lower, upper (one row per profile).
    """
    if derivative not in ("product-limit", "exponential"):
        raise InputError(f"derivative={derivative!r}: use 'product-limit' or 'exponential'")
    if cause not in fits:
        raise InputError(f"cause={cause}: no model for it (causes: {sorted(fits)})")
    models = [CauseModel(k, fits[k]) for k in sorted(fits)]
    d0 = models[0].fit.data
    names = d0.names
    for m in models[1:]:
        if m.fit.data.names != names or m.fit.data.n != d0.n:
            raise InputError("the cause-specific fits must share their rows and design columns")
    if list(profiles.columns) != names:
        raise InputError(f"profiles: columns {list(profiles.columns)} differ from {names}")
    if not time > start:
        raise InputError(f"time={time} must be after start={start}")
    labels = d0.strata_labels
    if stratum is None and len(labels) > 1:
        raise InputError(f"the fits are stratified: give the stratum (one of {labels})")
    s_code = 0 if stratum is None else labels.index(stratum) if stratum in labels else -1
    if s_code < 0:
        raise InputError(f"stratum {stratum!r} is not one of {labels}")
    n = d0.n
    P = profiles.to_numpy(dtype=float)
    risk = np.empty(len(P))
    influence = np.empty((n, len(P)))
    for r, x in enumerate(P):
        risk[r], influence[:, r] = _risk_and_influence(
            models, x, s_code, start, time, cause, n, derivative == "product-limit"
        )
    if cluster is not None:
        influence = (
            pd.DataFrame(influence).groupby(np.asarray(cluster), sort=False).sum().to_numpy()
        )
    se = np.sqrt((influence**2).sum(axis=0))
    lower, upper = confidence_limits(risk, se, level, conf_type)
    return pd.DataFrame({"risk": risk, "se": se, "lower": lower, "upper": upper})
