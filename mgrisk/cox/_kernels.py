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

Covariates are stored column-major (rows sorted by stratum and exit), so the per-row sweeps run
down contiguous columns and vectorise; row work is split into N_CHUNKS fixed chunks whose sums
are added in a fixed order, so results are the same on any number of threads.

Arrays are filled element by element, never by assigning an array to a slice: such an
assignment makes numba compile its shape-mismatch error message, seconds of a first run.
"""

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .._threads import threaded_from

__all__ = [
    "cox_pass",
    "efron_terms",
    "event_time_terms",
    "information_weights",
    "risk_set_sums",
    "risk_weights",
    "score_residuals",
    "weighted_gram",
]

#: Number of row chunks reduced in a fixed order: results do not depend on the thread count.
N_CHUNKS = 16
#: Rows from which the kernels run on all threads: threads pay from about 10k rows (a 10k-row
#: fit in 2.9 ms instead of 3.7 ms). The threaded builds compile on first use (about 13 s, once).
PARALLEL_ROWS = 10_000
#: Sums may be reassociated (vectorised); the fixed chunking keeps them thread-independent.
FAST_SUMS = {"reassoc", "contract"}


# Chunk kernels take slices and loop from 0: numba then vectorises the column sweeps.
@njit(cache=True, fastmath=FAST_SUMS)
def _eta_chunk(X, offset, beta, eta, start):
    """eta = offset + X[start:start + eta.size] beta."""
    m = eta.size
    for i in range(m):
        eta[i] = offset[i]
    for j in range(X.shape[1]):
        xj = X[start : start + m, j]
        b = beta[j]
        for i in range(m):
            eta[i] += xj[i] * b


@threaded_from(PARALLEL_ROWS)
def risk_weights(X, w, offset, beta):
    """Linear predictors eta, their midrange ``shift`` and risk weights w exp(eta - shift)
    (shifting keeps every exp finite)."""
    n = X.shape[0]
    size = (n + N_CHUNKS - 1) // N_CHUNKS
    eta = np.empty(n)
    wr = np.empty(n)
    for c in prange(N_CHUNKS):
        start, stop = min(n, c * size), min(n, (c + 1) * size)
        _eta_chunk(X, offset[start:stop], beta, eta[start:stop], start)
    shift = 0.5 * (eta.max() + eta.min())
    for c in prange(N_CHUNKS):
        for i in range(min(n, c * size), min(n, (c + 1) * size)):
            wr[i] = w[i] * np.exp(eta[i] - shift)
    return eta, shift, wr


@njit(cache=True)
def _risk_set_steps(X, wr, exit_pos, entry_pos, n_times):
    """Row m: the change of (S0, S1) between event times m and m + 1 (a difference array:
    a row enters at its exit position and leaves below its entry position)."""
    p = X.shape[1]
    steps = np.zeros((n_times, p + 1))
    for i in range(X.shape[0]):
        e = exit_pos[i]
        if e < 0:
            continue
        v = wr[i]
        s = entry_pos[i]
        steps[e, 0] += v
        if s >= 0:
            steps[s, 0] -= v
        for j in range(p):
            vx = v * X[i, j]
            steps[e, j + 1] += vx
            if s >= 0:
                steps[s, j + 1] -= vx
    return steps


@njit(cache=True)
def risk_set_table(X, wr, exit_pos, entry_pos, block_end, n_times):
    """Row m: (S0, S1), the sums of wr and wr x over the risk set of event time m."""
    S = _risk_set_steps(X, wr, exit_pos, entry_pos, n_times)
    for m in range(n_times - 2, -1, -1):  # backwards in time, restarting at each stratum
        if block_end[m] == block_end[m + 1]:
            for j in range(S.shape[1]):
                S[m, j] += S[m + 1, j]
    return S


@njit(cache=True)
def risk_set_sums(X, wr, exit_pos, entry_pos, block_end, n_times):
    """S0[m] = sum of wr over the risk set of event time m; S1[m] the same of wr x."""
    S = risk_set_table(X, wr, exit_pos, entry_pos, block_end, n_times)
    return S[:, 0].copy(), S[:, 1:].copy()


@njit(cache=True)
def efron_terms(X, w, eta, shift, wr, S, death_ptr, death_rows, efron, resid):
    """Per event time m: the Efron steps' sums that the likelihood, score and information need,
    given the risk-set sums S[m] = (S0, S1) of each event time (the Cox risk sets, or Fine-Gray's
    subdistribution risk sets).

    Returns (loglik, U, AA, c2, haz, hazd, amean, gsum, gsumd), with, for event time m and its
    Efron steps k = 0..K-1 (f_k = k/d; K = 1 and f = 0 for Breslow):
    haz[m] = sum_k wbar/S0_k (the hazard increment), hazd[m] = sum_k (1-f_k) wbar/S0_k,
    gsum[m] = sum_k wbar a_k/S0_k, gsumd[m] likewise with (1-f_k), amean[m] = mean_k a_k,
    c2[m] = sum_k f_k wbar/S0_k, AA = sum_m sum_k wbar a_k a_k^T (lower triangle).
    """
    p = X.shape[1]
    n_times = death_ptr.size - 1
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
        for j in range(p):
            D1[j] = 0.0
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
            s0 = S[m, 0] - f * D0
            loglik -= wbar * np.log(s0)
            inv = 1.0 / s0
            h = wbar * inv
            haz[m] += h
            c2[m] += f * h
            for j in range(p):
                a[j] = (S[m, j + 1] - f * D1[j]) * inv
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
    return loglik, U, AA, c2, haz, hazd, amean, gsum, gsumd


@njit(cache=True)
def event_time_terms(
    X, w, eta, shift, wr, exit_pos, entry_pos, death_ptr, death_rows, block_end, efron, resid
):
    """`efron_terms` over the Cox risk sets of the (entry, exit] layout."""
    S = risk_set_table(X, wr, exit_pos, entry_pos, block_end, death_ptr.size - 1)
    return efron_terms(X, w, eta, shift, wr, S, death_ptr, death_rows, efron, resid)


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
def information_weights(wr, event, exit_pos, entry_pos, C, c2):
    """q_i = r_i (C[exit] - C[entry]) less the Efron share c2 of the row's own event time: the
    row weights of the information's risk-set part, sum_i q_i x_i x_i^T (`weighted_gram`)."""
    q = np.zeros(wr.size)
    for i in range(wr.size):
        e = exit_pos[i]
        if e >= 0:
            s = entry_pos[i]
            q[i] = wr[i] * (C[e] - (C[s] if s >= 0 else 0.0))
            if event[i]:
                q[i] -= wr[i] * c2[e]
    return q


@njit(cache=True, fastmath=FAST_SUMS)
def _gram_chunk(X, q, start, out):
    """out = sum over rows start.. (as many as q has) of q_i x_i x_i^T (lower triangle)."""
    m = q.size
    for j in range(X.shape[1]):
        xj = X[start : start + m, j]
        for k in range(j + 1):
            xk = X[start : start + m, k]
            acc = 0.0
            for i in range(m):
                acc += q[i] * xj[i] * xk[i]
            out[j, k] = acc


@threaded_from(PARALLEL_ROWS)
def weighted_gram(X, q):
    """sum_i q_i x_i x_i^T (lower triangle) of the column-major X, summed over a fixed number
    of row chunks in a fixed order, so the result does not depend on the number of threads."""
    n, p = X.shape
    size = (n + N_CHUNKS - 1) // N_CHUNKS
    parts = np.zeros((N_CHUNKS, p, p))
    for c in prange(N_CHUNKS):
        a, b = min(n, c * size), min(n, (c + 1) * size)
        _gram_chunk(X, q[a:b], a, parts[c])
    total = np.zeros((p, p))
    for c in range(N_CHUNKS):
        for j in range(p):
            for k in range(j + 1):
                total[j, k] += parts[c, j, k]
    return total


class EventTimeTerms(NamedTuple):
    """What `event_time_terms` returns, by name."""

    loglik: float
    U: np.ndarray  # score
    AA: np.ndarray  # the event-time part of the information (lower triangle)
    c2: np.ndarray
    haz: np.ndarray  # hazard increments per event time
    hazd: np.ndarray
    amean: np.ndarray
    gsum: np.ndarray
    gsumd: np.ndarray


def _terms_at(X, w, offset, beta, layout, efron, resid):
    """Risk weights and the event-time terms at beta (``layout``: exit_pos, entry_pos,
    death_ptr, death_rows, block_end)."""
    eta, shift, wr = risk_weights(X, w, offset, beta)
    t = EventTimeTerms(*event_time_terms(X, w, eta, shift, wr, *layout, efron, resid))
    return eta, shift, wr, t


def cox_pass(
    X, w, offset, beta, exit_pos, entry_pos, death_ptr, death_rows, block_end, event, efron
):
    """Log partial likelihood, score and information (symmetric) at beta."""
    layout = (exit_pos, entry_pos, death_ptr, death_rows, block_end)
    _, _, wr, t = _terms_at(X, w, offset, beta, layout, efron, False)
    C = _within_block_cumsum(t.haz, block_end)
    q = information_weights(wr, event, exit_pos, entry_pos, C, t.c2)
    lower = weighted_gram(X, q) - t.AA
    return t.loglik, t.U, lower + np.tril(lower, -1).T


def score_residuals(
    X, w, offset, beta, exit_pos, entry_pos, death_ptr, death_rows, block_end, efron
):
    """Score residuals L (n x p, unweighted: the score is sum_i w_i L_i) and hazard increments.

    L_i = delta_i (x_i - abar) - r_i sum over event times at risk of (x_i dH - dG), with Efron's
    (1 - k/d) down-weighting of the row's own death time (as R's agscore2). Returns (L, haz,
    shift): ``haz`` are the hazard increments for risk scores exp(eta - shift).
    """
    layout = (exit_pos, entry_pos, death_ptr, death_rows, block_end)
    eta, shift, wr, t = _terms_at(X, w, offset, beta, layout, efron, True)
    L = residual_rows(X, w, eta, shift, wr, *layout, t.haz, t.hazd, t.amean, t.gsum, t.gsumd)
    return L, t.haz, shift


@njit(cache=True)
def residual_rows(
    X,
    w,
    eta,
    shift,
    wr,
    exit_pos,
    entry_pos,
    death_ptr,
    death_rows,
    block_end,
    haz,
    hazd,
    amean,
    gsum,
    gsumd,
):
    """Score residuals per row from the event-time terms (`score_residuals`; the Fine-Gray
    model adds its competing-event tails to them)."""
    n, p = X.shape
    H = _within_block_cumsum(haz, block_end)
    G = np.empty_like(gsum)
    for j in range(p):
        Gj = _within_block_cumsum(gsum[:, j].copy(), block_end)
        for m in range(Gj.size):
            G[m, j] = Gj[m]
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
    return L


# --- indexing (run once by prepare.py) -------------------------------------------------------
@njit(cache=True)
def _radix_sort(times):
    """Stable argsort of non-negative float64 times, and the sorted times: LSD radix sort on
    their bit patterns (order-preserving for x >= 0), 11 bits a pass, skipping passes where all
    keys agree."""
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
    return idx, keys.view(np.float64)


@njit(cache=True)
def _radix_sort_into(times, idx, values):
    """`_radix_sort` of times, written into idx and values."""
    i, v = _radix_sort(times)
    for k in range(times.size):
        idx[k] = i[k]
        values[k] = v[k]


@njit(cache=True, parallel=True)
def _radix_sort_both(a, b):
    """`_radix_sort` of a and of b, the two on two threads."""
    ia, va = np.empty(a.size, dtype=np.int64), np.empty(a.size)
    ib, vb = np.empty(b.size, dtype=np.int64), np.empty(b.size)
    for k in prange(2):
        if k == 0:
            _radix_sort_into(a, ia, va)
        else:
            _radix_sort_into(b, ib, vb)
    return ia, va, ib, vb


def _sort(times):
    """Stable argsort of non-negative float64 times, and the sorted times. Below PARALLEL_ROWS
    numpy's sorts (small data then never compiles the radix sort): its unstable SIMD sort, three
    times faster, whose permutation is the stable one when no two times are equal, else its
    stable sort. The permutation is the same either way, as a stable sort's is unique (-0.0
    aside: callers pass x + 0.0)."""
    if times.size >= PARALLEL_ROWS:
        return _radix_sort(times)
    order = np.argsort(times)
    ordered = times[order]
    if (ordered[1:] == ordered[:-1]).any():
        order = np.argsort(times, kind="stable")
        ordered = times[order]
    return order, ordered


def argsort_times(times):
    """Stable argsort of non-negative float64 times."""
    return _sort(times)[0]


@njit(cache=True)
def _sorted_groups(sa, sb, tolerance):
    """Integer time groups over the union of the sorted times sa and sb.

    Consecutive distinct times closer than ``tolerance`` (absolutely, or relative to the mean of
    the distinct times) share a group, as R survival's ``aeqSurv``; ``tolerance=0`` merges only
    equal times. Returns (group of each sa, group of each sb, time of each group = its first).
    """
    na, nb = sa.size, sb.size
    n_unique = 0
    abs_sum = 0.0
    prev = np.nan
    ia = ib = 0
    for k in range(na + nb):  # first walk: the mean of the distinct times
        if ib >= nb or (ia < na and sa[ia] <= sb[ib]):
            v = sa[ia]
            ia += 1
        else:
            v = sb[ib]
            ib += 1
        if k == 0 or v != prev:
            n_unique += 1
            abs_sum += abs(v)
        prev = v
    mean_abs = abs_sum / max(n_unique, 1)
    ga = np.empty(na, dtype=np.int64)
    gb = np.empty(nb, dtype=np.int64)
    group_time = np.empty(n_unique)
    g = -1
    ia = ib = 0
    for k in range(na + nb):  # second walk: number the groups
        take_a = ib >= nb or (ia < na and sa[ia] <= sb[ib])
        v = sa[ia] if take_a else sb[ib]
        if k == 0:
            g = 0
            group_time[0] = v
        elif v != prev:
            dy = v - prev
            if not (dy <= tolerance or dy / mean_abs <= tolerance):
                g += 1
                group_time[g] = v
        prev = v
        if take_a:
            ga[ia] = g
            ia += 1
        else:
            gb[ib] = g
            ib += 1
    return ga, gb, group_time[: g + 1].copy()


@njit(cache=True)
def time_groups(a, oa, b, ob, tolerance):
    """`_sorted_groups` of times a and b walked in their sorted orders oa and ob, with the
    groups returned in the arrays' own order."""
    ga_s, gb_s, group_time = _sorted_groups(a[oa], b[ob], tolerance)
    ga = np.empty_like(ga_s)
    gb = np.empty_like(gb_s)
    for k in range(oa.size):
        ga[oa[k]] = ga_s[k]
    for k in range(ob.size):
        gb[ob[k]] = gb_s[k]
    return ga, gb, group_time


@njit(cache=True)
def _by_code(codes, order, n_codes):
    """Positions P such that codes[order[P]] is sorted, stably."""
    counts = np.zeros(n_codes + 1, dtype=np.int64)
    for r in order:
        counts[codes[r] + 1] += 1
    for c in range(1, n_codes + 1):
        counts[c] += counts[c - 1]
    out = np.empty_like(order)
    for k in range(order.size):
        c = codes[order[k]]
        out[counts[c]] = k
        counts[c] += 1
    return out


class RowIndex(NamedTuple):
    """The sorted layout `index_rows` returns (rows in stored order)."""

    order: np.ndarray  # caller's row of each stored row
    g_exit: np.ndarray  # exit time group of each row
    g_entry: np.ndarray  # entry time group (-1 without entry)
    group_time: np.ndarray  # the time of each group
    exit_pos: np.ndarray  # last event time index <= exit in the row's stratum, -1 if none
    entry_pos: np.ndarray  # last event time index <= entry, -1 if none
    event: np.ndarray  # event indicator of each row
    strata: np.ndarray  # stratum of each row
    event_group: np.ndarray  # per event time: its time group
    event_stratum: np.ndarray  # per event time: its stratum
    block_end: np.ndarray  # per event time: one past its stratum's last event time


def index_rows(exit_, entry, event, strata, n_strata, tolerance) -> RowIndex:
    """Sort rows by (stratum, exit time) and index the event times at which each is at risk.

    ``entry`` is empty for right-censored data. Returns, with rows in stored order (``order[k]``
    is the caller's row at position k): order, exit and entry time groups (entry -1 without
    entry), the group times, exit_pos (last event time index <= exit in the row's stratum, -1 if
    none), entry_pos (last event time index <= entry, -1 if none), event and stratum of each
    row, and per event time its group, stratum and block_end (one past its stratum's last).
    """
    if exit_.size >= PARALLEL_ROWS:
        sorted_both = _radix_sort_both(exit_, entry)
    else:
        sorted_both = (*_sort(exit_), *_sort(entry))
    return RowIndex(*_index_sorted(*sorted_both, event, strata, n_strata, tolerance))


@njit(cache=True)
def _index_sorted(order, sorted_exit, by_entry, sorted_entry, event, strata, n_strata, tolerance):
    n = order.size
    g_exit, g_entry_sorted, group_time = _sorted_groups(sorted_exit, sorted_entry, tolerance)
    if n_strata > 1:
        pos = _by_code(strata, order, n_strata)
        order, g_exit = order[pos], g_exit[pos]
        pos = _by_code(strata, by_entry, n_strata)
        by_entry, g_entry_sorted = by_entry[pos], g_entry_sorted[pos]
    ev = event[order]
    st = strata[order] if n_strata > 1 else strata

    # Event times, stratum by stratum, walking the stored order.
    exit_pos = np.full(n, -1, dtype=np.int64)
    event_group = np.empty(n, dtype=np.int64)
    event_stratum = np.empty(n, dtype=np.int64)
    n_times = 0
    k = 0
    while k < n:
        s = st[k]
        block_start = n_times
        while k < n and st[k] == s:
            g = g_exit[k]
            run_end = k
            has_event = False
            while run_end < n and st[run_end] == s and g_exit[run_end] == g:
                has_event |= ev[run_end]
                run_end += 1
            if has_event:
                event_group[n_times] = g
                event_stratum[n_times] = s
                n_times += 1
            exit_pos[k:run_end] = n_times - 1 if n_times > block_start else -1
            k = run_end
    block_end = np.empty(n_times, dtype=np.int64)
    m = 0
    while m < n_times:
        e = m
        while e < n_times and event_stratum[e] == event_stratum[m]:
            e += 1
        block_end[m:e] = e
        m = e

    # Entry positions, walking rows by (stratum, entry time).
    entry_pos = np.full(n, -1, dtype=np.int64)
    g_entry = np.full(n, -1, dtype=np.int64)
    if by_entry.size:
        stored = np.empty(n, dtype=np.int64)
        for k in range(n):
            stored[order[k]] = k
        m = 0  # first event time of the current stratum not yet passed
        for t in range(n):
            r = by_entry[t]
            s = strata[r] if n_strata > 1 else 0
            g = g_entry_sorted[t]
            while m < n_times and event_stratum[m] < s:
                m += 1
            while m < n_times and event_stratum[m] == s and event_group[m] <= g:
                m += 1
            k = stored[r]
            g_entry[k] = g
            if m > 0 and event_stratum[m - 1] == s and event_group[m - 1] <= g:
                entry_pos[k] = m - 1
    return (
        order,
        g_exit,
        g_entry,
        group_time,
        exit_pos,
        entry_pos,
        ev,
        st,
        event_group[:n_times].copy(),
        event_stratum[:n_times].copy(),
        block_end,
    )


@njit(cache=True, fastmath=FAST_SUMS)
def _standardize(x):
    """Centre x (in place) at its mean and divide it by its mean absolute deviation; a constant
    x is left as it is, with scale 0. Returns (mean, scale)."""
    n = x.size
    total = 0.0
    lo = hi = x[0]
    for i in range(n):
        total += x[i]
        lo = min(lo, x[i])
        hi = max(hi, x[i])
    if lo == hi:
        return 0.0, 0.0
    mean = total / n
    dev = 0.0
    for i in range(n):
        x[i] -= mean
        dev += abs(x[i])
    scale = dev / n
    inv = 1.0 / scale
    for i in range(n):
        x[i] *= inv
    return mean, scale


@njit(cache=True, fastmath=FAST_SUMS)
def _dot(x, y):
    total = 0.0
    for i in range(x.size):
        total += x[i] * y[i]
    return total


@threaded_from(PARALLEL_ROWS)
def standardize_columns(X):
    """Centre each column of the column-major X (in place) at its mean and divide it by its mean
    absolute deviation (R's agfit4 scaling); a constant column gets scale 0. Returns the means,
    the scales and the Gram matrix of the standardized columns over n."""
    n, p = X.shape
    mean = np.zeros(p)
    scale = np.zeros(p)
    for j in prange(p):
        mean[j], scale[j] = _standardize(X[:, j])
    gram = np.zeros((p, p))
    for j in prange(p):
        for k in range(j + 1):
            gram[j, k] = _dot(X[:, j], X[:, k]) / n
    for j in range(p):
        for k in range(j):
            gram[k, j] = gram[j, k]
    return mean, scale, gram


@threaded_from(PARALLEL_ROWS)
def gather_rows(X, order):
    """X[order] as a new column-major (Fortran-order) matrix: the kernels sweep columns."""
    n, p = order.size, X.shape[1]
    out = np.empty((p, n)).T
    size = (n + N_CHUNKS - 1) // N_CHUNKS
    for c in prange(N_CHUNKS):
        for k in range(c * size, min(n, (c + 1) * size)):
            r = order[k]
            for j in range(p):
                out[k, j] = X[r, j]
    return out
