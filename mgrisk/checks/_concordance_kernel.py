"""numba kernel of Harrell's concordance with its influence per row (arrays in, arrays out).

Rows come in the Cox engine's stored order (stratum blocks, exit times increasing). Each
stratum is walked backwards in time with two Fenwick trees over the ranks of the risk score: the
weights of the rows at risk, and the weights of the deaths already passed. A death at t is
compared with every row at risk at t that is not a death at t (a tie on time is no pair). A
comparator's share is read from the death tree as a difference: deaths passed while it was at
risk (from its exit back to its entry). O(n log n).
"""

import numpy as np
from numba import njit

__all__ = ["concordance_counts"]


@njit(cache=True)
def _add(tree, i, v):
    i += 1
    while i < tree.size:
        tree[i] += v
        i += i & (-i)


@njit(cache=True)
def _below(tree, i):
    """Sum of the weights of ranks < i."""
    s = 0.0
    while i > 0:
        s += tree[i]
        i -= i & (-i)
    return s


@njit(cache=True)
def _query(tree, node, total, r):
    """(weight with rank < r, rank > r, rank == r)."""
    lo = _below(tree, r)
    eq = node[r]
    return lo, total - lo - eq, eq


@njit(cache=True)
def concordance_counts(exit_, entry, event, strata, w, rank, n_ranks, by_entry):
    """Pairs (death i, comparator j at risk at i's time): concordant when i's risk score is
    higher, discordant when lower, tied when equal (weights w_i w_j).

    ``entry`` is empty for right-censored data; ``by_entry`` lists rows by (stratum, entry
    decreasing). Returns (counts[3], infl (n, 3)): the concordant, discordant and tied sums,
    and per row the weights of its partners in each class (R's influence matrix, reversed for
    risk scores).
    """
    n = exit_.size
    counts = np.zeros(3)
    infl = np.zeros((n, 3))
    at_tree = np.zeros(n_ranks + 1)
    at_node = np.zeros(n_ranks)
    d_tree = np.zeros(n_ranks + 1)
    d_node = np.zeros(n_ranks)
    counting = entry.size > 0
    in_tree = np.zeros(n, dtype=np.bool_)
    at_total = 0.0
    d_total = 0.0
    e_ptr = 0  # next row of by_entry to remove
    hi = n
    while hi > 0:
        s = strata[hi - 1]
        lo = hi
        while lo > 0 and strata[lo - 1] == s:
            lo -= 1
        while counting and e_ptr < n and strata[by_entry[e_ptr]] > s:
            e_ptr += 1
        # walk the stratum's rows [lo, hi) backwards by exit time
        k = hi
        while k > lo:
            t = exit_[k - 1]
            g = k
            while g > lo and exit_[g - 1] == t:
                g -= 1
            has_death = False
            for i in range(g, k):
                if event[i]:
                    has_death = True
            if has_death and counting:  # rows entering at or after t are not at risk at t
                while e_ptr < n and strata[by_entry[e_ptr]] == s and entry[by_entry[e_ptr]] >= t:
                    j = by_entry[e_ptr]
                    e_ptr += 1
                    if not in_tree[j]:
                        continue
                    lo_d, hi_d, eq_d = _query(d_tree, d_node, d_total, rank[j])
                    infl[j, 0] += hi_d
                    infl[j, 1] += lo_d
                    infl[j, 2] += eq_d
                    _add(at_tree, rank[j], -w[j])
                    at_node[rank[j]] -= w[j]
                    at_total -= w[j]
                    in_tree[j] = False
            for i in range(g, k):  # censored rows at t join the risk set first
                if not event[i]:
                    lo_d, hi_d, eq_d = _query(d_tree, d_node, d_total, rank[i])
                    infl[i, 0] -= hi_d
                    infl[i, 1] -= lo_d
                    infl[i, 2] -= eq_d
                    _add(at_tree, rank[i], w[i])
                    at_node[rank[i]] += w[i]
                    at_total += w[i]
                    in_tree[i] = True
            for i in range(g, k):  # each death against the risk set
                if event[i]:
                    lo_a, hi_a, eq_a = _query(at_tree, at_node, at_total, rank[i])
                    counts[0] += w[i] * lo_a
                    counts[1] += w[i] * hi_a
                    counts[2] += w[i] * eq_a
                    infl[i, 0] += lo_a
                    infl[i, 1] += hi_a
                    infl[i, 2] += eq_a
            for i in range(g, k):
                if event[i]:
                    _add(d_tree, rank[i], w[i])
                    d_node[rank[i]] += w[i]
                    d_total += w[i]
            for i in range(g, k):  # then the deaths join the risk set of earlier times
                if event[i]:
                    lo_d, hi_d, eq_d = _query(d_tree, d_node, d_total, rank[i])
                    infl[i, 0] -= hi_d
                    infl[i, 1] -= lo_d
                    infl[i, 2] -= eq_d
                    _add(at_tree, rank[i], w[i])
                    at_node[rank[i]] += w[i]
                    at_total += w[i]
                    in_tree[i] = True
            k = g
        for i in range(lo, hi):  # the stratum's rows still at risk at its start
            if in_tree[i]:
                lo_d, hi_d, eq_d = _query(d_tree, d_node, d_total, rank[i])
                infl[i, 0] += hi_d
                infl[i, 1] += lo_d
                infl[i, 2] += eq_d
                in_tree[i] = False
        for r in range(n_ranks + 1):
            at_tree[r] = 0.0
            d_tree[r] = 0.0
        for r in range(n_ranks):
            at_node[r] = 0.0
            d_node[r] = 0.0
        at_total = 0.0
        d_total = 0.0
        hi = lo
    return counts, infl
