"""Per-event-time moments of a fitted Cox model: the Efron steps and their risk-set means.

Everything the proportional-hazards test, the Schoenfeld residuals and the functional-form
check need comes from one pass over the event times of a `PreparedCox`: the risk-set sums S0,
S1 (the Cox engine's public `risk_set_sums`), the death sums, and Efron's steps (``k = 0..d-1``
with the deaths' share ``1 - k/d`` in the risk set; one step for Breslow or a single death).
Rows are in the prepared (stratum, exit) order. Second moments are never formed per event
time: ``sum_m c_m sum_k wbar S2_k / S0_k`` is a per-row weighted Gram matrix (`weighted_gram`),
the trick the Cox kernels use for the information matrix, so a pass costs O(n p^2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cox import PreparedCox, information_weights, risk_set_sums
from ..cox import weighted_gram as gram

__all__ = ["EventMoments", "event_moments", "within_block_cumsum"]


@dataclass(frozen=True)
class EventMoments:
    """Efron steps of every event time of a fit (see `event_moments`), for the covariates as
    given minus their means: ``data.X * scale`` (not stored: sums are rescaled instead)."""

    scale: np.ndarray  # (p,) the prepared columns' scales
    wr: np.ndarray  # (n,) w exp(eta - shift)
    step_time: np.ndarray  # (K,) event time index of each Efron step
    step_f: np.ndarray  # (K,) the deaths' removed share k/d
    step_wbar: np.ndarray  # (K,) mean death weight of the step's event time
    step_a: np.ndarray  # (K, p) risk-set mean of x at the step
    haz: np.ndarray  # (E,) sum_k wbar / S0_k
    c2: np.ndarray  # (E,) sum_k f_k wbar / S0_k
    amean: np.ndarray  # (E, p) mean over the steps of a_k (the Schoenfeld residuals' centre)
    death_w: np.ndarray  # (E,) sum of the deaths' weights
    death_wx: np.ndarray  # (E, p) sum of the deaths' w x


def within_block_cumsum(v: np.ndarray, block_end: np.ndarray) -> np.ndarray:
    """Cumulative sum over event times (axis 0), restarting at each stratum block."""
    cs = np.cumsum(v, axis=0)
    m = np.arange(v.shape[0])
    starts = np.r_[True, block_end[1:] != block_end[:-1]]
    first = np.maximum.accumulate(np.where(starts, m, 0))  # first event time of m's block
    before = cs[np.maximum(first - 1, 0)]
    return cs - np.where((first > 0).reshape((-1,) + (1,) * (v.ndim - 1)), before, 0.0)


def event_moments(data: PreparedCox, beta_scaled: np.ndarray, efron: bool) -> EventMoments:
    """The Efron steps of ``data`` at the coefficients ``beta_scaled`` (scaled coordinates).

    Deaths with weight 0 count as the Cox engine counts them: not at all.
    """
    X, scale = data.X, data.scale
    eta = X @ beta_scaled + data.offset
    shift = 0.5 * (eta.max() + eta.min())
    wr = data.weights * np.exp(eta - shift)
    E = data.death_ptr.size - 1
    S0, S1 = risk_set_sums(X, wr, data.exit_pos, data.entry_pos, data.block_end, E)
    S1 = S1 * scale
    rows = data.death_rows
    time_of = np.repeat(np.arange(E), np.diff(data.death_ptr))
    w = data.weights[rows]
    live = w > 0
    rows, time_of, w = rows[live], time_of[live], w[live]
    d = np.bincount(time_of, minlength=E)
    death_w = np.bincount(time_of, weights=w, minlength=E)
    D0 = np.bincount(time_of, weights=wr[rows], minlength=E)
    p = X.shape[1]
    D1 = np.empty((E, p))
    death_wx = np.empty((E, p))
    Xd = X[rows] * scale  # the deaths' covariates
    for j in range(p):
        D1[:, j] = np.bincount(time_of, weights=wr[rows] * Xd[:, j], minlength=E)
        death_wx[:, j] = np.bincount(time_of, weights=w * Xd[:, j], minlength=E)
    K = np.where((d > 1) & efron, d, np.minimum(d, 1))
    step_time = np.repeat(np.arange(E), K)
    first_step = np.r_[0, np.cumsum(K)[:-1]]
    k = np.arange(step_time.size) - first_step[step_time]
    f = k / np.maximum(K[step_time], 1)
    wbar = death_w[step_time] / K[step_time]
    s0 = S0[step_time] - f * D0[step_time]
    a = (S1[step_time] - f[:, None] * D1[step_time]) / s0[:, None]
    h = wbar / s0
    haz = np.bincount(step_time, weights=h, minlength=E)
    c2 = np.bincount(step_time, weights=f * h, minlength=E)
    amean = np.empty((E, p))
    Kd = np.maximum(K, 1)
    for j in range(p):
        amean[:, j] = np.bincount(step_time, weights=a[:, j], minlength=E) / Kd
    return EventMoments(scale, wr, step_time, f, wbar, a, haz, c2, amean, death_w, death_wx)


def weighted_gram(data: PreparedCox, mom: EventMoments, g: np.ndarray) -> np.ndarray:
    """``sum_m g_m sum_k wbar (S2_k / S0_k - a_k a_k^T)``: the information matrix with each
    event time weighted by ``g_m`` (g = 1: the model's information at the estimate)."""
    C = within_block_cumsum(g * mom.haz, data.block_end)
    q = information_weights(mom.wr, data.event, data.exit_pos, data.entry_pos, C, g * mom.c2)
    lower = gram(data.X, q) * np.outer(mom.scale, mom.scale)  # the Cox engine's kernel
    AA = (mom.step_a * (mom.step_wbar * g[mom.step_time])[:, None]).T @ mom.step_a
    return lower + np.tril(lower, -1).T - AA
