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
#: Rows from which kernels use all threads (below, starting threads costs more than it saves).
PARALLEL_ROWS = 200_000


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
def event_time_terms(
    X, w, eta, exit_pos, entry_pos, death_ptr, death_rows, block_end, efron, resid
):
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
    nr = n_times if resid else 0
    hazd = np.zeros(nr)
    amean = np.zeros((nr, p))
    gsum = np.zeros((nr, p))
    gsumd = np.zeros((nr, p))
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
            c2[m] += f * h
            for j in range(p):
                a[j] = (S1[m, j] - f * D1[j]) / s0
                U[j] -= wbar * a[j]
            if resid:
                hazd[m] += (1.0 - f) * h
                for j in range(p):
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


@njit(cache=True)
def _gram_chunk(X, q, start, stop, out):
    p = X.shape[1]
    for i in range(start, stop):
        qi = q[i]
        if qi == 0.0:
            continue
        for j in range(p):
            v = qi * X[i, j]
            for k in range(j + 1):
                out[j, k] += v * X[i, k]


@njit(cache=True, parallel=True)
def _gram_parallel(X, q, parts, size):
    for c in prange(N_CHUNKS):
        _gram_chunk(X, q, c * size, min(X.shape[0], (c + 1) * size), parts[c])


@njit(cache=True)
def _gram_serial(X, q, parts, size):
    for c in range(N_CHUNKS):
        _gram_chunk(X, q, c * size, min(X.shape[0], (c + 1) * size), parts[c])


def weighted_gram(X, q):
    """sum_i q_i x_i x_i^T (lower triangle), summed over a fixed number of row chunks in a fixed
    order, so the result does not depend on the number of threads. Threads only for large n
    (chosen here, in Python, so that only the variant used is compiled)."""
    n, p = X.shape
    parts = np.zeros((N_CHUNKS, p, p))
    size = (n + N_CHUNKS - 1) // N_CHUNKS
    (_gram_parallel if n >= PARALLEL_ROWS else _gram_serial)(X, q, parts, size)
    return parts.sum(axis=0)


def cox_pass(X, w, offset, beta, exit_pos, entry_pos, death_ptr, death_rows, block_end, efron):
    """Log partial likelihood, score and information at beta (information is symmetric)."""
    loglik, U, AA, q = _pass_terms(
        X, w, offset, beta, exit_pos, entry_pos, death_ptr, death_rows, block_end, efron
    )
    info = weighted_gram(X, q) - AA
    lower = np.tril(info)
    return loglik, U, lower + np.tril(lower, -1).T


@njit(cache=True)
def _pass_terms(X, w, offset, beta, exit_pos, entry_pos, death_ptr, death_rows, block_end, efron):
    """Log-likelihood, score, the a a' part of the information and the per-row weights q_i of
    its x x' part."""
    n = X.shape[0]
    eta = _linear_predictor(X, beta, offset)
    _, wr, loglik, U, AA, c2, haz, _, _, _, _ = event_time_terms(
        X, w, eta, exit_pos, entry_pos, death_ptr, death_rows, block_end, efron, False
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
    return loglik, U, AA, q


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
        X, w, eta, exit_pos, entry_pos, death_ptr, death_rows, block_end, efron, True
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


# --- indexing (run once by prepare.py) -------------------------------------------------------
@njit(cache=True)
def time_groups(a, oa, b, ob, tolerance):
    """Integer time groups over the union of times a and b (each walked in sorted order oa, ob).

    Consecutive distinct times closer than ``tolerance`` (absolutely, or relative to the mean of
    the distinct times) share a group, as R survival's ``aeqSurv``; ``tolerance=0`` merges only
    equal times. Returns (group of each a, group of each b, time of each group = its first).
    """
    sa = a[oa]
    sb = b[ob]
    na, nb = sa.size, sb.size
    merged = np.empty(na + nb)
    from_a = np.empty(na + nb, dtype=np.bool_)
    ia = ib = 0
    for k in range(na + nb):
        if ib >= nb or (ia < na and sa[ia] <= sb[ib]):
            merged[k] = sa[ia]
            from_a[k] = True
            ia += 1
        else:
            merged[k] = sb[ib]
            from_a[k] = False
            ib += 1
    n_unique = 0
    abs_sum = 0.0
    for k in range(merged.size):
        if k == 0 or merged[k] != merged[k - 1]:
            n_unique += 1
            abs_sum += abs(merged[k])
    mean_abs = abs_sum / max(n_unique, 1)
    ga = np.empty(na, dtype=np.int64)
    gb = np.empty(nb, dtype=np.int64)
    group_time = np.empty(n_unique)
    g = -1
    ia = ib = 0
    for k in range(merged.size):
        v = merged[k]
        if k == 0:
            g = 0
            group_time[0] = v
        elif v != merged[k - 1]:
            dy = v - merged[k - 1]
            if not (dy <= tolerance or dy / mean_abs <= tolerance):
                g += 1
                group_time[g] = v
        if from_a[k]:
            ga[oa[ia]] = g
            ia += 1
        else:
            gb[ob[ib]] = g
            ib += 1
    return ga, gb, group_time[: g + 1].copy()


@njit(cache=True)
def index_exits(g_exit, event, strata, order):
    """Number event times per stratum walking rows sorted by (stratum, exit group).

    Returns exit_pos (per row: last event time index <= its exit in its stratum, -1 if none),
    event_group (time group of each event time) and block_end.
    """
    n = g_exit.size
    exit_pos = np.full(n, -1, dtype=np.int64)
    event_group = np.empty(n, dtype=np.int64)
    event_stratum = np.empty(n, dtype=np.int64)
    n_times = 0
    k = 0
    while k < n:
        s = strata[order[k]]
        block_start = n_times
        while k < n and strata[order[k]] == s:  # one stratum
            g = g_exit[order[k]]
            run_end = k
            has_event = False
            while run_end < n and strata[order[run_end]] == s and g_exit[order[run_end]] == g:
                has_event |= event[order[run_end]]
                run_end += 1
            if has_event:
                event_group[n_times] = g
                event_stratum[n_times] = s
                n_times += 1
            last = n_times - 1 if n_times > block_start else -1
            for j in range(k, run_end):
                exit_pos[order[j]] = last
            k = run_end
    block_end = np.empty(n_times, dtype=np.int64)
    m = 0
    while m < n_times:
        e = m
        while e < n_times and event_stratum[e] == event_stratum[m]:
            e += 1
        block_end[m:e] = e
        m = e
    return exit_pos, event_group[:n_times].copy(), event_stratum[:n_times].copy(), block_end


@njit(cache=True)
def index_entries(g_entry, strata, order, event_group, event_stratum):
    """Per row: last event time index (in its stratum) at or before its entry, -1 if none.
    Rows are walked sorted by (stratum, entry group)."""
    n = g_entry.size
    entry_pos = np.full(n, -1, dtype=np.int64)
    n_times = event_group.size
    m = 0  # first event time of the current stratum not yet passed
    for r in order:
        s = strata[r]
        while m < n_times and event_stratum[m] < s:
            m += 1
        while m < n_times and event_stratum[m] == s and event_group[m] <= g_entry[r]:
            m += 1
        if m > 0 and event_stratum[m - 1] == s and event_group[m - 1] <= g_entry[r]:
            entry_pos[r] = m - 1
    return entry_pos


@njit(cache=True)
def column_moments(X):
    """Column means, mean absolute deviations and Gram matrix of the centred columns."""
    n, p = X.shape
    mean = np.zeros(p)
    for i in range(n):
        for j in range(p):
            mean[j] += X[i, j]
    mean /= n
    mad = np.zeros(p)
    gram = np.zeros((p, p))
    for i in range(n):
        for j in range(p):
            dj = X[i, j] - mean[j]
            mad[j] += abs(dj)
            for k in range(j + 1):
                gram[j, k] += dj * (X[i, k] - mean[k])
    for j in range(p):
        for k in range(j):
            gram[k, j] = gram[j, k]
    return mean, mad / n, gram / n


@njit(cache=True)
def argsort_times(times):
    """Stable argsort of non-negative float64 times: LSD radix sort on their bit patterns
    (order-preserving for x >= 0), 11 bits a pass, skipping passes where all keys agree."""
    n = times.size
    keys = times.view(np.uint64).copy()
    idx = np.arange(n)
    keys2 = np.empty_like(keys)
    idx2 = np.empty_like(idx)
    counts = np.empty(2049, dtype=np.int64)
    mask = np.uint64(0x7FF)
    for shift in range(0, 64, 11):
        sh = np.uint64(shift)
        counts[:] = 0
        for i in range(n):
            counts[((keys[i] >> sh) & mask) + 1] += 1
        if counts.max() == n:  # every key has the same digit: nothing to do
            continue
        for d in range(1, 2049):
            counts[d] += counts[d - 1]
        for i in range(n):
            k = keys[i]
            d = (k >> sh) & mask
            j = counts[d]
            keys2[j] = k
            idx2[j] = idx[i]
            counts[d] = j + 1
        keys, keys2 = keys2, keys
        idx, idx2 = idx2, idx
    return idx


@njit(cache=True)
def stable_sort_by_code(order, codes, n_codes):
    """Reorder ``order`` by codes[order] (0..n_codes-1), keeping the order within a code."""
    counts = np.zeros(n_codes + 1, dtype=np.int64)
    for r in order:
        counts[codes[r] + 1] += 1
    for c in range(1, n_codes + 1):
        counts[c] += counts[c - 1]
    out = np.empty_like(order)
    for r in order:
        out[counts[codes[r]]] = r
        counts[codes[r]] += 1
    return out


@njit(cache=True)
def _gather_rows(X, order, center, scale, out, start, stop):
    for k in range(start, stop):
        r = order[k]
        for j in range(X.shape[1]):
            out[k, j] = (X[r, j] - center[j]) / scale[j]


@njit(cache=True, parallel=True)
def _gather_parallel(X, order, center, scale, out):
    size = (order.size + N_CHUNKS - 1) // N_CHUNKS
    for c in prange(N_CHUNKS):
        _gather_rows(X, order, center, scale, out, c * size, min(order.size, (c + 1) * size))


def gather_scaled(X, order, center, scale):
    """(X[order] - center) / scale as a new C-contiguous matrix (threads for large n only)."""
    out = np.empty((order.size, X.shape[1]))
    if order.size >= PARALLEL_ROWS:
        _gather_parallel(X, order, center, scale, out)
    else:
        _gather_rows(X, order, center, scale, out, 0, order.size)
    return out
