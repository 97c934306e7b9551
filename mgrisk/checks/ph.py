"""Tests of proportional hazards: the score test of ``survival::cox.zph`` (survival >= 3.0).

Grambsch & Therneau (Biometrika 1994) test whether a coefficient changes with a function g of
time by adding ``x * g(t)`` to the model. cox.zph 3.x computes the score test of those added
terms at the fitted coefficients (not the older regression of the scaled Schoenfeld residuals on
time): with ``gbar`` the mean of g over the events and ``G_m = g(t_m) - gbar``,

    u   = sum_m G_m (sum_deaths w x - wbar sum_k a_k)                (the added terms' score)
    I_r = sum_m G_m^r sum_k wbar V_k,  r = 0, 1, 2                    (V_k the risk-set covariance)

and a term's statistic is ``(0, u_J)' [[I_0, I_1[:, J]], [I_1[J, :], I_2[J, J]]]^-1 (0, u_J)``
with ``len(J)`` degrees of freedom (``terms=True``: a spline's columns form one term); GLOBAL
uses every column. Times are g of the row's (timefixed) exit time: ``"identity"``, ``"log"``,
``"rank"`` (average rank among all rows' exit times) or ``"km"`` (1 minus the left-continuous
Kaplan-Meier of all rows, unweighted, unstratified, with delayed entry). Case weights and strata
enter as in the fit; a robust variance does not (the test uses the information).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import chdtrc

from ..cox import CoxResult, PreparedCox
from ..errors import InputError
from ._moments import EventMoments, event_moments, weighted_gram

__all__ = [
    "TRANSFORMS",
    "ZphParts",
    "ph_test",
    "scaled_schoenfeld",
    "transformed_times",
    "zph_parts",
]

TRANSFORMS = ("km", "rank", "identity", "log")


def _km_before(data: PreparedCox, t: np.ndarray) -> np.ndarray:
    """Kaplan-Meier S(t-) of all rows (unweighted, one stratum, delayed entry) at times t."""
    ev_times, d = np.unique(data.exit[data.event], return_counts=True)
    exits = data.exit if len(data.strata_labels) == 1 else np.sort(data.exit)  # stored sorted
    n_risk = exits.size - np.searchsorted(exits, ev_times, side="left")
    if data.entry is not None:
        entries = np.sort(data.entry)
        n_risk -= entries.size - np.searchsorted(entries, ev_times, side="left")
    surv = np.cumprod(1.0 - d / n_risk)
    k = np.searchsorted(ev_times, t, side="left")  # event times strictly before t
    return np.r_[1.0, surv][k]


def transformed_times(data: PreparedCox, transform: str = "km") -> np.ndarray:
    """g(t) at each event time of ``data`` (one value per event time, stratum by stratum).

    Examples
    --------
    >>> from mgrisk.cox import prepare_cox
    >>> d = prepare_cox([[0.0], [1.0], [2.0]], [1.0, 2.0, 3.0], [1, 1, 0])
    >>> transformed_times(d, "km").round(12).tolist()   # 1 - S(t-): 0 before the first death
    [0.0, 0.333333333333]
    """
    if transform not in TRANSFORMS:
        raise InputError(
            f"transform={transform!r}: use one of {', '.join(map(repr, TRANSFORMS))} "
            "(as survival::cox.zph)"
        )
    t = data.event_times
    if transform == "identity":
        return t.astype(float)
    if transform == "log":
        if (t <= 0).any():
            raise InputError(
                "transform='log': an event at time 0 has no log; use transform='km' or 'rank'"
            )
        return np.log(t)
    if transform == "rank":
        exits = np.sort(data.exit)
        below = np.searchsorted(exits, t, side="left")
        tied = np.searchsorted(exits, t, side="right") - below
        return below + (tied + 1) / 2.0
    return 1.0 - _km_before(data, t)


@dataclass(frozen=True)
class ZphParts:
    """What the test and the residuals of cox.zph share: one fit, one transform of time."""

    transform: str
    mom: EventMoments  # the fit's Efron steps
    g: np.ndarray  # (E,) g(t) at each event time
    info: np.ndarray  # (p, p) the information at the estimate (unscaled covariates)


def zph_parts(data: PreparedCox, fit: CoxResult, transform: str = "km") -> ZphParts:
    """The parts `ph_test` and `scaled_schoenfeld` need, computed once (pass them to both)."""
    g = transformed_times(data, transform)
    mom = event_moments(data, fit.beta_scaled, fit.model.efron)
    return ZphParts(transform, mom, g, weighted_gram(data, mom, np.ones(g.size)))


def _parts(data, fit, transform: str, parts: ZphParts | None) -> ZphParts:
    if parts is None:
        return zph_parts(data, fit, transform)
    if parts.transform != transform:
        raise ValueError(f"parts computed for transform={parts.transform!r}, not {transform!r}")
    return parts


def _score_parts(data: PreparedCox, parts: ZphParts):
    mom = parts.mom
    n_dead = np.diff(data.death_ptr)
    G = parts.g - (n_dead @ parts.g) / n_dead.sum()  # centred over the event rows, as cox.zph
    u = G @ mom.death_wx - (mom.step_wbar * G[mom.step_time]) @ mom.step_a
    I1 = weighted_gram(data, mom, G)
    I2 = weighted_gram(data, mom, G * G)
    return u, np.block([[parts.info, I1], [I1.T, I2]])


def _terms(fit: CoxResult, terms: dict[str, list[int]] | None) -> dict[str, list[int]]:
    if terms is None:
        return {name: [j] for j, name in enumerate(fit.names)}
    return {name: list(cols) for name, cols in terms.items()}


def ph_test(
    data: PreparedCox,
    fit: CoxResult,
    terms: dict[str, list[int]] | None = None,
    transform: str = "km",
    parts: ZphParts | None = None,
) -> pd.DataFrame:
    """The score test of proportional hazards per term and GLOBAL, as ``survival::cox.zph``.

    Parameters
    ----------
    data : PreparedCox
        The prepared data of ``fit``.
    fit : CoxResult
        A Cox fit of ``data`` (Efron or Breslow ties, as fitted).
    terms : dict of str to list of int, optional
        Term label -> its columns (a spline's columns as one term: R's ``terms = TRUE``);
        None tests each column (``terms = FALSE``).
    transform : {"km", "rank", "identity", "log"}
        The function of time the coefficients may change with.
    parts : ZphParts, optional
        ``zph_parts(data, fit, transform)``, when the caller has them already.

    Returns
    -------
    pandas.DataFrame
        Indexed by term and ``GLOBAL``: ``chi2``, ``df``, ``p``; ``attrs["transform"]``.

    Examples
    --------
    >>> import numpy as np
    >>> from mgrisk.cox import prepare_cox, fit_prepared
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(500, 1))
    >>> d = prepare_cox(x, rng.exponential(np.exp(-x[:, 0])), np.ones(500))
    >>> table = ph_test(d, fit_prepared(d))
    >>> list(table.index), list(table.columns)
    (['x0', 'GLOBAL'], ['chi2', 'df', 'p'])
    """
    u, imat = _score_parts(data, _parts(data, fit, transform, parts))
    p = u.size
    rows, chi2, df = [], [], []
    for name, cols in {**_terms(fit, terms), "GLOBAL": list(range(p))}.items():
        kk = list(range(p)) + [p + j for j in cols]
        score = np.r_[np.zeros(p), u[cols]]
        rows.append(name)
        chi2.append(float(score @ np.linalg.solve(imat[np.ix_(kk, kk)], score)))
        df.append(len(cols))
    out = pd.DataFrame({"chi2": chi2, "df": df}, index=pd.Index(rows, name="term"))
    out["p"] = chdtrc(out["df"].to_numpy(float), out["chi2"].to_numpy())
    out.attrs["transform"] = transform
    return out


def _used(data: PreparedCox, X: np.ndarray) -> np.ndarray:
    """(strata, p): the stratum's number of events where the column varies in it, else 0."""
    S = len(data.strata_labels)
    used = np.zeros((S, X.shape[1]))
    for s in range(S):
        rows = slice(None) if S == 1 else data.strata == s
        Xs = X[rows]
        if not Xs.shape[0]:
            continue
        varies = Xs.max(axis=0) > Xs.min(axis=0)
        used[s] = np.where(varies, data.event[rows].sum(), 0)
    return used


def scaled_schoenfeld(
    data: PreparedCox,
    fit: CoxResult,
    terms: dict[str, list[int]] | None = None,
    transform: str = "km",
    parts: ZphParts | None = None,
) -> pd.DataFrame:
    """Scaled Schoenfeld residuals per event and term, as ``cox.zph(...)$y``.

    Each is ``beta + V^-1 r`` with r the Schoenfeld residual and V the information divided by
    the number of events (per stratum); a multi-column term is the linear predictor's residual,
    so its values scatter around 1 (a constant multiplier of the term's log-HR).

    Returns
    -------
    pandas.DataFrame
        One row per event in (stratum, time) order: ``time``, ``ttime`` (transformed),
        ``stratum``, ``row`` (caller's row) and one column per term.

    Examples
    --------
    >>> import numpy as np
    >>> from mgrisk.cox import prepare_cox, fit_prepared
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(300, 1))
    >>> d = prepare_cox(x, rng.exponential(np.exp(-x[:, 0])), np.ones(300))
    >>> r = scaled_schoenfeld(d, fit_prepared(d))
    >>> list(r.columns)
    ['time', 'ttime', 'stratum', 'row', 'x0']
    """
    parts = _parts(data, fit, transform, parts)
    mom = parts.mom
    terms = _terms(fit, terms)
    rows = data.death_rows
    time_of = np.repeat(np.arange(data.death_ptr.size - 1), np.diff(data.death_ptr))
    resid = data.X[rows] * mom.scale - mom.amean[time_of]
    used = _used(data, data.X)
    wtmat = sum(np.minimum.outer(u, u) for u in used)
    vmean = parts.info / np.where(wtmat == 0, 1.0, wtmat)
    beta = fit.beta
    T = np.zeros((beta.size, len(terms)))
    for i, cols in enumerate(terms.values()):
        T[cols, i] = 1.0 if len(cols) == 1 else beta[cols]
    resid, vmean = resid @ T, T.T @ vmean @ T
    used = used[:, [cols[0] for cols in terms.values()]]
    stratum = data.strata[rows]
    out = np.full(resid.shape, np.nan)
    for s in range(used.shape[0]):
        k = np.flatnonzero(used[s] > 0)
        j = stratum == s
        if k.size and j.any():
            out[np.ix_(j, k)] = np.linalg.solve(vmean[np.ix_(k, k)], resid[np.ix_(j, k)].T).T
    for i, cols in enumerate(terms.values()):
        out[:, i] += beta[cols[0]] if len(cols) == 1 else 1.0
    g = parts.g
    frame = pd.DataFrame(
        {
            "time": data.event_times[time_of],
            "ttime": g[time_of],
            "stratum": [data.strata_labels[s] for s in stratum],
            "row": data.order[rows],
        }
    )
    for i, name in enumerate(terms):
        frame[name] = out[:, i]
    frame.attrs["transform"] = transform
    return frame
