"""numba kernels of the Fine-Gray partial likelihood without data expansion.

R's ``finegray`` keeps a person with a competing event at T_i in every later risk set of the
cause of interest, with weight W(t-) / W(T_i-) at event time t (W the censoring survivor, times
the reversed-time entry distribution with delayed entry: Geskus 2011). The ratio factors, so the
risk set of event time m is the ordinary Cox risk set {i: entry_i < t_m <= exit_i} plus
``w_time[m] * sum_{i: tail_pos[i] <= m} tail_scale[i] * r_i``: a cumulative sum forward in time
(the "forward-backward scan" of Kawaguchi et al., R Journal 2021, here with delayed entry,
strata, case weights and Efron ties). Competing-event people are never events, so Efron's
correction applies to the events of interest only, as on the expanded data.

Layout: that of `mgrisk.cox.prepare` (rows sorted by stratum and exit, event times numbered
stratum by stratum; ``exit_pos``, ``entry_pos``, ``death_ptr``/``death_rows``, ``block_end``),
plus per row ``tail_pos`` (first event time of its stratum after a competing event, -1 if none)
and ``tail_scale`` (1 / W(T_i-)), and per event time ``w_time`` (W(t_m-)).

One pass costs O(n p^2), as the Cox kernels: the information is a per-row term
``sum_i q_i x_i x_i^T`` (q_i collects the hazard increments of the event times the row is at risk
at, a tail weighted by w_time) minus a per-event-time term; the Cox engine's `weighted_gram` sums
it in fixed row chunks added in a fixed order, so results are the same on any number of threads
(as its `efron_terms` and `risk_weights`, which serve both likelihoods). Arrays are
filled element by element, never by slice assignment (which makes numba compile seconds of
error-message code).
"""

import numpy as np
from numba import njit

from ..cox import efron_terms, information_weights, residual_rows, risk_weights, weighted_gram

__all__ = ["fg_pass", "fg_score_residuals"]

#: Rows from which the row kernels run on all threads (the Cox kernels' threshold).
PARALLEL_ROWS = 10_000


@njit(cache=True)
def _risk_set_sums(X, wr, exit_pos, entry_pos, tail_pos, tail_scale, w_time, block_end):
    """Row m: (S0, S1) of the subdistribution risk set of event time m.

    The ordinary part is a difference array summed backwards in time (a row enters at its exit
    position and leaves below its entry position); the competing-event tails are a difference
    array summed forwards (a tail starts at ``tail_pos``), scaled by ``w_time[m]``."""
    n, p = X.shape
    n_times = block_end.size
    S = np.zeros((n_times, p + 1))
    T = np.zeros((n_times, p + 1))
    for i in range(n):
        v = wr[i]
        e = exit_pos[i]
        if e >= 0:
            s = entry_pos[i]
            S[e, 0] += v
            if s >= 0:
                S[s, 0] -= v
            for j in range(p):
                vx = v * X[i, j]
                S[e, j + 1] += vx
                if s >= 0:
                    S[s, j + 1] -= vx
        t = tail_pos[i]
        if t >= 0:
            u = v * tail_scale[i]
            T[t, 0] += u
            for j in range(p):
                T[t, j + 1] += u * X[i, j]
    for m in range(n_times - 2, -1, -1):  # backwards, restarting at each stratum
        if block_end[m] == block_end[m + 1]:
            for j in range(p + 1):
                S[m, j] += S[m + 1, j]
    for m in range(1, n_times):  # forwards, restarting at each stratum
        if block_end[m - 1] == block_end[m]:
            for j in range(p + 1):
                T[m, j] += T[m - 1, j]
    for m in range(n_times):
        for j in range(p + 1):
            S[m, j] += w_time[m] * T[m, j]
    return S


@njit(cache=True)
def _block_sums(v, w_time, block_end):
    """C[m]: cumulative sum of v over the event times of m's stratum up to m; KT[m]: the sum of
    w_time v over those from m to the stratum's last (tails)."""
    n_times = v.size
    C = np.empty(n_times)
    KT = np.empty(n_times)
    for m in range(n_times):
        if m > 0 and block_end[m - 1] == block_end[m]:
            C[m] = C[m - 1] + v[m]
        else:
            C[m] = v[m]
    for m in range(n_times - 1, -1, -1):
        if m < n_times - 1 and block_end[m] == block_end[m + 1]:
            KT[m] = KT[m + 1] + w_time[m] * v[m]
        else:
            KT[m] = w_time[m] * v[m]
    return C, KT


@njit(cache=True)
def _tail_weights(q, wr, tail_pos, tail_scale, KT):
    """Add to the Cox row weights q (`information_weights`) the competing-event tails:
    r_i w_i K_T[tail]."""
    for i in range(q.size):
        t = tail_pos[i]
        if t >= 0:
            q[i] += wr[i] * tail_scale[i] * KT[t]
    return q


def _terms(X, w, offset, beta, index, efron, resid):
    """Risk weights, subdistribution risk-set sums and event-time terms at beta."""
    exit_pos, entry_pos, tail_pos, tail_scale, w_time, death_ptr, death_rows, block_end = index
    eta, shift, wr = risk_weights(X, w, offset, beta)  # the Cox engine's, shared
    S = _risk_set_sums(X, wr, exit_pos, entry_pos, tail_pos, tail_scale, w_time, block_end)
    terms = efron_terms(X, w, eta, shift, wr, S, death_ptr, death_rows, efron, resid)
    return eta, shift, wr, terms


def fg_pass(X, w, offset, beta, index, event, efron):
    """Log partial likelihood, score and information (symmetric) of the Fine-Gray model at beta.

    ``index`` is (exit_pos, entry_pos, tail_pos, tail_scale, w_time, death_ptr, death_rows,
    block_end), as the module docstring describes."""
    exit_pos, entry_pos, tail_pos, tail_scale, w_time, _, _, block_end = index
    _, _, wr, (loglik, U, AA, c2, haz, _, _, _, _) = _terms(X, w, offset, beta, index, efron, False)
    C, KT = _block_sums(haz, w_time, block_end)
    q = information_weights(wr, event, exit_pos, entry_pos, C, c2)
    lower = weighted_gram(X, _tail_weights(q, wr, tail_pos, tail_scale, KT)) - AA
    return loglik, U, lower + np.tril(lower, -1).T


def fg_score_residuals(X, w, offset, beta, index, efron):
    """Score residuals per person (n x p, unweighted by the case weight: the score is
    sum_i w_i L_i) and the hazard increments with their ``shift``, as `mgrisk.cox`'s.

    L_i is the sum over R's expanded rows of person i of fgwt times the row's score residual:
    the Cox residual of the own row, plus for a competing event the tail
    -r_i / W(T_i-) sum_{m >= tail_pos} W(t_m-) (x_i dH_m - dG_m)."""
    eta, shift, wr, terms = _terms(X, w, offset, beta, index, efron, True)
    exit_pos, entry_pos, tail_pos, tail_scale, w_time, death_ptr, death_rows, block_end = index
    haz, _, _, gsum, _ = terms[4:]
    layout = (exit_pos, entry_pos, death_ptr, death_rows, block_end)
    L = residual_rows(X, w, eta, shift, wr, *layout, *terms[4:])  # the Cox rows' own part
    _add_tails(L, X, w, eta, shift, wr, tail_pos, tail_scale, w_time, block_end, haz, gsum)
    return L, haz, shift


@njit(cache=True)
def _add_tails(L, X, w, eta, shift, wr, tail_pos, tail_scale, w_time, block_end, haz, gsum):
    """Subtract from L the tails of the competing-event rows."""
    n, p = X.shape
    _, KH = _block_sums(haz, w_time, block_end)
    KG = np.empty((haz.size, p))
    for j in range(p):
        KG[:, j] = _block_sums(gsum[:, j].copy(), w_time, block_end)[1]
    for i in range(n):
        t = tail_pos[i]
        if t >= 0:
            rt = tail_scale[i] * (wr[i] / w[i] if w[i] > 0 else np.exp(eta[i] - shift))
            for j in range(p):
                L[i, j] -= rt * (X[i, j] * KH[t] - KG[t, j])
