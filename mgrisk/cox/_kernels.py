"""numba kernels of the Cox partial likelihood (plain arrays in, plain arrays out).

Layout (built once by `prepare.py`): the E distinct event times of all strata are numbered
stratum by stratum, in increasing time. Row i is at risk at event time m when
``entry_pos[i] < m <= exit_pos[i]`` (``exit_pos = -1``: never at risk at an event time; both
positions lie in the row's own stratum block). ``death_ptr``/``death_rows`` list the event rows of
each event time (CSR). ``block_end[m]`` is one past the last event time of m's stratum.

One pass costs O(n p^2): risk-set sums S0, S1 come from a difference array summed backwards in
time (no sorting of rows), and the information matrix is split into a per-row term
``sum_i q_i x_i x_i^T`` (q_i a scalar from cumulative sums over event times) minus a per-event-time
term ``sum_k w a_k a_k^T``, so no p x p matrix is ever accumulated per risk set. Efron's tie
correction enters through k/d-weighted death sums. Linear predictors are shifted by their
midrange before exponentiation, so no risk score overflows.
"""

import numpy as np
from numba import njit, prange

__all__ = ["cox_pass", "event_time_terms", "score_residuals"]

#: Number of row chunks reduced in a fixed order: results do not depend on the thread count.
N_CHUNKS = 16


@njit(cache=True)
def _linear_predictor(X, beta, offset):
    n, p = X.shape
    eta = np.empty(n)
    for i in range(n):
        s = offset[i]
        for j in range(p):
            s += X[i, j] * beta[j]
        eta[i] = s
    return eta


@njit(cache=True)
def _risk_sums(X, wr, exit_pos, entry_pos, block_end, n_times):
    """S0[m] = sum of w*r over the risk set of event time m; S1[m] the same of w*r*x."""
    p = X.shape[1]
    S0 = np.zeros(n_times)
    S1 = np.zeros((n_times, p))
    for i in range(X.shape[0]):
        e = exit_pos[i]
        if e < 0:
            continue
        v = wr[i]
        S0[e] += v
        for j in range(p):
            S1[e, j] += v * X[i, j]
        s = entry_pos[i]
        if s >= 0:
            S0[s] -= v
            for j in range(p):
                S1[s, j] -= v * X[i, j]
    for m in range(n_times - 2, -1, -1):  # backwards in time, restarting at each stratum
        if block_end[m] == block_end[m + 1]:
            S0[m] += S0[m + 1]
            for j in range(p):
                S1[m, j] += S1[m + 1, j]
    return S0, S1


@njit(cache=True)
def event_time_terms(X, w, eta, exit_pos, entry_pos, death_ptr, death_rows, block_end, efron):
    """Per event time: the Efron steps' sums that the likelihood, score and information need.

    Returns (shift, wr, loglik, U, AA, c1, c2, haz, hazd, amean, gsum, gsumd), with, for event
    time m and its Efron steps k = 0..K-1 (f_k = k/d; K = 1 and f = 0 for Breslow):
    haz[m] = sum_k wbar/S0_k (the hazard increment), hazd[m] = sum_k (1-f_k) wbar/S0_k,
    gsum[m] = sum_k wbar a_k/S0_k, gsumd[m] likewise with (1-f_k), amean[m] = mean_k a_k,
    c1 = haz, c2[m] = sum_k f_k wbar/S0_k, AA = sum_m sum_k wbar a_k a_k^T.
    """
    n, p = X.shape
    n_times = death_ptr.size - 1
    shift = 0.5 * (eta.max() + eta.min())
    wr = np.empty(n)
    for i in range(n):
        wr[i] = w[i] * np.exp(eta[i] - shift)
    S0, S1 = _risk_sums(X, wr, exit_pos, entry_pos, block_end, n_times)
    loglik = 0.0
    U = np.zeros(p)
    AA = np.zeros((p, p))
    c2 = np.zeros(n_times)
    haz = np.zeros(n_times)
    hazd = np.zeros(n_times)
    amean = np.zeros((n_times, p))
    gsum = np.zeros((n_times, p))
    gsumd = np.zeros((n_times, p))
    D1 = np.empty(p)
    a = np.empty(p)
    for m in range(n_times):
        d = 0
        wd = 0.0
        D0 = 0.0
        D1[:] = 0.0
        for jj in range(death_ptr[m], death_ptr[m + 1]):
            i = death_rows[jj]
            if w[i] <= 0.0:
                continue
            d += 1
            wd += w[i]
            D0 += wr[i]
            loglik += w[i] * (eta[i] - shift)
            for j in range(p):
                D1[j] += wr[i] * X[i, j]
                U[j] += w[i] * X[i, j]
        if d == 0:
            continue
        K = d if (efron and d > 1) else 1
        wbar = wd / K
        for k in range(K):
            f = k / K
            s0 = S0[m] - f * D0
            loglik -= wbar * np.log(s0)
            h = wbar / s0
            haz[m] += h
            hazd[m] += (1.0 - f) * h
            c2[m] += f * h
            for j in range(p):
                a[j] = (S1[m, j] - f * D1[j]) / s0
                U[j] -= wbar * a[j]
                amean[m, j] += a[j] / K
                gsum[m, j] += h * a[j]
                gsumd[m, j] += (1.0 - f) * h * a[j]
            for j in range(p):
                for col in range(j + 1):
                    AA[j, col] += wbar * a[j] * a[col]
    return shift, wr, loglik, U, AA, c2, haz, hazd, amean, gsum, gsumd


@njit(cache=True)
def _within_block_cumsum(v, block_end):
    """Cumulative sum over event times, restarting at each stratum block."""
    out = np.empty_like(v)
    for m in range(v.shape[0]):
        if m > 0 and block_end[m - 1] == block_end[m]:
            out[m] = out[m - 1] + v[m]
        else:
            out[m] = v[m]
    return out


@njit(cache=True, parallel=True)
def _weighted_gram(X, q):
    """sum_i q_i x_i x_i^T (lower triangle), reduced over a fixed number of chunks."""
    n, p = X.shape
    parts = np.zeros((N_CHUNKS, p, p))
    size = (n + N_CHUNKS - 1) // N_CHUNKS
    for c in prange(N_CHUNKS):
        for i in range(c * size, min(n, (c + 1) * size)):
            qi = q[i]
            if qi == 0.0:
                continue
            for j in range(p):
                v = qi * X[i, j]
                for k in range(j + 1):
                    parts[c, j, k] += v * X[i, k]
    G = np.zeros((p, p))
    for c in range(N_CHUNKS):
        G += parts[c]
    return G


@njit(cache=True)
def cox_pass(X, w, offset, beta, exit_pos, entry_pos, death_ptr, death_rows, block_end, efron):
    """Log partial likelihood, score and information at beta (information is symmetric)."""
    n, p = X.shape
    eta = _linear_predictor(X, beta, offset)
    _, wr, loglik, U, AA, c2, haz, _, _, _, _ = event_time_terms(
        X, w, eta, exit_pos, entry_pos, death_ptr, death_rows, block_end, efron
    )
    C = _within_block_cumsum(haz, block_end)
    q = np.zeros(n)
    for i in range(n):
        e = exit_pos[i]
        if e < 0:
            continue
        s = entry_pos[i]
        q[i] = wr[i] * (C[e] - (C[s] if s >= 0 else 0.0))
    for m in range(death_ptr.size - 1):
        for jj in range(death_ptr[m], death_ptr[m + 1]):
            i = death_rows[jj]
            q[i] -= wr[i] * c2[m]
    info = _weighted_gram(X, q) - AA
    for j in range(p):
        for k in range(j):
            info[k, j] = info[j, k]
    return loglik, U, info


@njit(cache=True)
def score_residuals(
    X, w, offset, beta, exit_pos, entry_pos, death_ptr, death_rows, block_end, efron
):
    """Score residuals L (n x p, unweighted: the score is sum_i w_i L_i) and hazard increments.

    L_i = delta_i (x_i - abar) - r_i sum over event times at risk of (x_i dH - dG), with Efron's
    (1 - k/d) down-weighting of the row's own death time (as R's agscore2). Returns (L, haz,
    shift): ``haz`` are the hazard increments for risk scores exp(eta - shift).
    """
    n, p = X.shape
    eta = _linear_predictor(X, beta, offset)
    shift, wr, _, _, _, _, haz, hazd, amean, gsum, gsumd = event_time_terms(
        X, w, eta, exit_pos, entry_pos, death_ptr, death_rows, block_end, efron
    )
    H = _within_block_cumsum(haz, block_end)
    G = np.empty_like(gsum)
    for j in range(p):
        G[:, j] = _within_block_cumsum(gsum[:, j].copy(), block_end)
    L = np.zeros((n, p))
    for i in range(n):
        e = exit_pos[i]
        if e < 0:
            continue
        s = entry_pos[i]
        r = wr[i] / w[i] if w[i] > 0 else np.exp(eta[i] - shift)
        dh = H[e] - (H[s] if s >= 0 else 0.0)
        for j in range(p):
            dg = G[e, j] - (G[s, j] if s >= 0 else 0.0)
            L[i, j] = -r * (X[i, j] * dh - dg)
    for m in range(death_ptr.size - 1):
        for jj in range(death_ptr[m], death_ptr[m + 1]):
            i = death_rows[jj]
            r = wr[i] / w[i] if w[i] > 0 else np.exp(eta[i] - shift)
            for j in range(p):
                # own time: replace the at-risk part by its Efron-weighted version, add dN part
                L[i, j] += X[i, j] - amean[m, j]
                L[i, j] += r * ((X[i, j] * haz[m] - gsum[m, j]) - (X[i, j] * hazd[m] - gsumd[m, j]))
    return L, haz, shift
