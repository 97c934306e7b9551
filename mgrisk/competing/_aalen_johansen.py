"""The Aalen-Johansen estimator of cumulative incidence and its variance (arrays in, arrays out).

With all-cause risk set Y(s) (people with entry < s <= exit), d_k(s) events of cause k and
dL_k = d_k / Y, the event-free probability is S(t) = prod (1 - sum_k dL_k) and the cumulative
incidence of cause k is F_k(t) = sum_{s <= t} S(s-) dL_k(s) (Aalen & Johansen 1978).

Variances:

- ``"ij"``: the infinitesimal jackknife, sum over people of (dF_k(t)/dw_i)^2, as R's
  ``survfit`` reports for multi-state curves; with delayed entry too. The derivative is
  P_i(t) - F_k(t) Q_i(t), each person's P and Q being their own jump plus an integral over
  their time at risk, so the sums of squares over people come from cumulative sums (no
  n x T matrix).
- ``"delta"``: the delta-method (Greenwood-type) variance of Marubini & Valsecchi (1995) as in
  Collett (2015, p. 411), SAS's LIFETEST and lifelines' AalenJohansenFitter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AJCurve", "aalen_johansen"]


@dataclass(frozen=True)
class AJCurve:
    """Aalen-Johansen curves at the distinct event times (any cause)."""

    time: np.ndarray  # (T,)
    n_risk: np.ndarray  # (T,)
    n_event: np.ndarray  # (T, K) events of each cause
    survival: np.ndarray  # (T,) event-free probability S(t)
    cif: np.ndarray  # (T, K)
    se: np.ndarray  # (T, K)
    causes: tuple[int, ...]


def _running_sums(lo, hi, values, n_times):
    """For each time m, the sum of ``values`` over people with lo <= m < hi."""
    diff = np.zeros(n_times + 1)
    np.add.at(diff, lo, values)
    np.add.at(diff, hi, -values)
    return np.cumsum(diff)[:n_times]


def _final_sums(hi, values, n_times):
    """For each time m, the sum of ``values`` over people with hi <= m."""
    return np.cumsum(np.bincount(hi, weights=values, minlength=n_times))[:n_times]


def _ij_variance(F, S_minus, dL_k, dL, Y, lo, hi, own, event_k, event_any):
    """Infinitesimal-jackknife variance of one cause's F at every event time."""
    T = F.size
    with np.errstate(divide="ignore", invalid="ignore"):
        b1 = np.where(dL < 1.0, 1.0 / (Y * (1.0 - dL)), 0.0)  # dL = 1: S is 0 afterwards
    alpha = S_minus * dL_k / Y
    beta = b1 * dL
    A = np.cumsum(alpha + F * beta)
    B = np.cumsum(beta)
    A0 = np.concatenate([[0.0], A])  # A0[m] = A[m - 1]
    B0 = np.concatenate([[0.0], B])
    KA, KB = A0[lo], B0[lo]
    jP = np.where(event_k, S_minus[own] / Y[own], 0.0) + np.where(event_any, F[own] * b1[own], 0.0)
    jQ = np.where(event_any, b1[own], 0.0)
    Pf = jP - (A[hi] - KA)
    Qf = jQ - (B[hi] - KB)
    n_run = _running_sums(lo, hi, np.ones(lo.size), T)
    sum_pp = _final_sums(hi, Pf * Pf, T) + (
        n_run * A * A - 2 * A * _running_sums(lo, hi, KA, T) + _running_sums(lo, hi, KA * KA, T)
    )
    sum_qq = _final_sums(hi, Qf * Qf, T) + (
        n_run * B * B - 2 * B * _running_sums(lo, hi, KB, T) + _running_sums(lo, hi, KB * KB, T)
    )
    sum_pq = _final_sums(hi, Pf * Qf, T) + (
        n_run * A * B
        - A * _running_sums(lo, hi, KB, T)
        - B * _running_sums(lo, hi, KA, T)
        + _running_sums(lo, hi, KA * KB, T)
    )
    return np.maximum(sum_pp - 2 * F * sum_pq + F * F * sum_qq, 0.0)


def _delta_variance(F, S_minus, d_k, d, Y):
    """Marubini-Valsecchi delta-method variance of one cause's F at every event time."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(Y > d, d / (Y * (Y - d)), 0.0)
    b = S_minus**2 * d_k * (Y - d_k) / Y**3
    c = S_minus * d_k / Y**2
    ca, caf, caff = np.cumsum(a), np.cumsum(a * F), np.cumsum(a * F * F)
    cc, ccf = np.cumsum(c), np.cumsum(c * F)
    var = F * F * ca - 2 * F * caf + caff + np.cumsum(b) - 2 * (F * cc - ccf)
    return np.maximum(var, 0.0)


def aalen_johansen(exit_rank, event, entry_rank, times, variance: str = "ij") -> AJCurve:
    """Aalen-Johansen curves of every cause from time ranks (see `_common.time_ranks`).

    Parameters
    ----------
    exit_rank : (n,) int ranks of the exit times; ``times[rank]`` is the time.
    event : (n,) int codes, 0 censored.
    entry_rank : (n,) int ranks of the entry times, or None (everyone at risk from the start).
    variance : {"ij", "delta"}
    """
    causes = tuple(int(c) for c in np.unique(event[event > 0]))
    is_event = event > 0
    ev_ranks = np.unique(exit_rank[is_event])
    T = ev_ranks.size
    own = np.searchsorted(ev_ranks, exit_rank)  # event index of an event row's own time
    hi = np.searchsorted(ev_ranks, exit_rank, "right") - 1  # last event time at risk
    lo = (
        np.zeros(exit_rank.size, dtype=np.int64)
        if entry_rank is None
        else np.searchsorted(ev_ranks, entry_rank, "right")  # first event time at risk
    )
    Y = _running_sums(lo, hi + 1, np.ones(lo.size), T)
    d = np.column_stack([np.bincount(own[event == k], minlength=T).astype(float) for k in causes])
    dL_k = d / Y[:, None]
    dL = dL_k.sum(axis=1)
    S = np.cumprod(1.0 - dL)
    S_minus = np.concatenate([[1.0], S[:-1]])
    F = np.cumsum(S_minus[:, None] * dL_k, axis=0)
    at_risk = hi >= lo  # people at risk at no event time carry no information
    lo_r, hi_r, own_r = lo[at_risk], hi[at_risk], np.minimum(own[at_risk], T - 1)
    ev_r = event[at_risk]
    se = np.empty_like(F)
    for j, k in enumerate(causes):
        if variance == "ij":
            var = _ij_variance(
                F[:, j], S_minus, dL_k[:, j], dL, Y, lo_r, hi_r, own_r, ev_r == k, ev_r > 0
            )
        else:
            var = _delta_variance(F[:, j], S_minus, d[:, j], d.sum(axis=1), Y)
        se[:, j] = np.sqrt(var)
    return AJCurve(times[ev_ranks], Y, d, S, F, se, causes)
