"""Gray's test that the cumulative incidence of one cause is the same in every group.

Gray RJ, "A class of K-sample tests for comparing the cumulative incidence of a competing
risk", Ann Stat 1988;16(3):1141-1154. The score of group i compares its subdistribution hazard
with the pooled one, weighted by (1 - F(t-))^rho; the variance is Gray's estimator with the
correction for tied event times, the figures of R's ``cmprsk::cuminc`` (checked in the tests).
Right-censored data only: with delayed entry the test does not apply.

Everything is vectorised over the distinct times: per time and group the risk set, the
Kaplan-Meier and cumulative incidence just before (``*_m``) and after; the sums over time of
Gray's variance terms are einsums over (time, group, group) arrays.
"""

from __future__ import annotations

import numpy as np

__all__ = ["gray_test"]


def _per_time(rank, group, mask, n_times, n_groups):
    out = np.zeros((n_times, n_groups))
    np.add.at(out, (rank[mask], group[mask]), 1.0)
    return out


def gray_test(exit_rank, event, group, cause: int, rho: float = 0.0) -> tuple[float, int]:
    """Gray's statistic (chi-square with G - 1 df) and its df; groups coded 0..G-1."""
    n_groups = int(group.max()) + 1
    ranks, t_idx = np.unique(exit_rank, return_inverse=True)
    T = ranks.size
    every = np.ones(event.size, dtype=bool)
    d1 = _per_time(t_idx, group, event == cause, T, n_groups)
    d2 = _per_time(t_idx, group, (event > 0) & (event != cause), T, n_groups)
    leaving = _per_time(t_idx, group, every, T, n_groups)
    rs = np.cumsum(leaving[::-1], axis=0)[::-1]  # at risk: time >= t
    live = rs > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        km = np.cumprod(np.where(live, (rs - d1 - d2) / rs, 1.0), axis=0)
        km_m = np.vstack([np.ones(n_groups), km[:-1]])
        f1 = np.cumsum(np.where(live, km_m * d1 / rs, 0.0), axis=0)
        f1_m = np.vstack([np.zeros(n_groups), f1[:-1]])
        t1 = np.where(live, rs / km_m, 0.0)
    nd1, nd2 = d1.sum(axis=1), d2.sum(axis=1)
    tr = t1.sum(axis=1)
    active = (nd1 + nd2) > 0
    f = np.cumsum(np.where(active, nd1 / np.where(active, tr, 1.0), 0.0))
    f_m = np.concatenate([[0.0], f[:-1]])

    # restrict to the times with an event
    keep = np.flatnonzero(active)
    d1, d2, rs, live, km, km_m, f1_m, t1 = (v[keep] for v in (d1, d2, rs, live, km, km_m, f1_m, t1))
    nd1, nd2, tr, f, f_m = (v[keep] for v in (nd1, nd2, tr, f, f_m))
    tq = (t1 * (1 - f1_m)).sum(axis=1)
    fb = (1 - f_m) ** rho
    g1 = n_groups - 1
    a = fb[:, None, None] * (
        np.einsum("tg,gh->tgh", t1, np.eye(n_groups))
        - t1[:, :, None] * t1[:, None, :] / tr[:, None, None]
    )
    c = np.cumsum(a * (nd1 / (tr * (1 - f_m)))[:, None, None], axis=0)
    score = (fb[:, None] * (d1 - nd1[:, None] * t1 * (1 - f1_m) / tq[:, None])).sum(axis=0)[:g1]

    with np.errstate(divide="ignore", invalid="ignore"):
        # events of the cause of interest
        on = live & (nd1 > 0)[:, None]
        t4 = np.where(km > 0, 1 - (1 - f)[:, None] / km, 1.0)
        t5 = np.where(nd1[:, None] > 1, 1 - (nd1[:, None] - 1) / (tr[:, None] * km_m - 1), 1.0)
        t3 = np.where(on, t5 * km_m * nd1[:, None] / (tr[:, None] * rs), 0.0)
        # competing events
        on2 = (km > 0) & (d2 > 0)
        u4 = np.where(on2, (1 - f)[:, None] / km, 0.0)
        u5 = np.where(d2 > 1, 1 - (d2 - 1) / (rs - 1), 1.0)
        u3 = np.where(on2, u5 * km_m**2 * d2 / rs**2, 0.0)
    M = a[:, :g1, :] - t4[:, None, :] * c[:, :g1, :]
    N = u4[:, None, :] * c[:, :g1, :]
    v3 = (t4**2 * t3).sum(axis=0) + (u4**2 * u3).sum(axis=0)
    v2 = np.einsum("tik,tk->ik", M, t4 * t3) - np.einsum("tik,tk->ik", N, u4 * u3)
    V = np.einsum("tik,tjk,tk->ij", M, M, t3) + np.einsum("tik,tjk,tk->ij", N, N, u3)
    cf = c[-1, :g1, :]
    V += (cf * v3) @ cf.T + cf @ v2.T + v2 @ cf.T
    stat = float(score @ np.linalg.solve(V, score))
    return stat, g1
