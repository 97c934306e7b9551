"""numba kernel of the Cox partial likelihood with covariates multiplied by a function of time.

Columns ``j >= n_fixed`` of X enter as ``X[i, j] * g[m]`` at event time m (R's ``tt()``): the
risk set of every event time is visited (rows ``row_start[m] .. row_end[m]`` of the stored
order, at risk when ``entry_pos < m <= exit_pos``), as R's expansion at event times does, without
building the expanded rows. Cost O(sum of risk-set sizes x p^2). Efron ties as the Cox engine.
Arrays are filled element by element (see the note in `mgrisk.cox._kernels`).
"""

import numpy as np
from numba import njit

__all__ = ["tt_pass"]


@njit(cache=True)
def tt_pass(
    X,
    w,
    offset,
    beta,
    n_fixed,
    g,
    row_start,
    row_end,
    exit_pos,
    entry_pos,
    death_ptr,
    death_rows,
    efron,
):
    """Log partial likelihood, score and information (full symmetric) at beta."""
    n, P = X.shape
    E = death_ptr.size - 1
    loglik = 0.0
    U = np.zeros(P)
    info = np.zeros((P, P))
    eta = np.empty(n)
    z = np.empty(P)
    S1 = np.empty(P)
    S2 = np.empty((P, P))
    D1 = np.empty(P)
    D2 = np.empty((P, P))
    a = np.empty(P)
    for m in range(E):
        gm = g[m]
        top = -np.inf
        for i in range(row_start[m], row_end[m]):
            if exit_pos[i] >= m and entry_pos[i] < m:
                e = offset[i]
                for j in range(P):
                    e += X[i, j] * beta[j] * (gm if j >= n_fixed else 1.0)
                eta[i] = e
                if e > top:
                    top = e
        S0 = 0.0
        for j in range(P):
            S1[j] = 0.0
            for k in range(P):
                S2[j, k] = 0.0
        for i in range(row_start[m], row_end[m]):
            if exit_pos[i] >= m and entry_pos[i] < m:
                r = w[i] * np.exp(eta[i] - top)
                S0 += r
                for j in range(P):
                    z[j] = X[i, j] * (gm if j >= n_fixed else 1.0)
                for j in range(P):
                    S1[j] += r * z[j]
                    for k in range(j + 1):
                        S2[j, k] += r * z[j] * z[k]
        d = 0
        wd = 0.0
        D0 = 0.0
        for j in range(P):
            D1[j] = 0.0
            for k in range(P):
                D2[j, k] = 0.0
        for jj in range(death_ptr[m], death_ptr[m + 1]):
            i = death_rows[jj]
            if w[i] <= 0.0:
                continue
            d += 1
            wd += w[i]
            r = w[i] * np.exp(eta[i] - top)
            D0 += r
            loglik += w[i] * (eta[i] - top)
            for j in range(P):
                z[j] = X[i, j] * (gm if j >= n_fixed else 1.0)
            for j in range(P):
                U[j] += w[i] * z[j]
                D1[j] += r * z[j]
                for k in range(j + 1):
                    D2[j, k] += r * z[j] * z[k]
        if d == 0:
            continue
        K = d if (efron and d > 1) else 1
        wbar = wd / K
        for step in range(K):
            f = step / K
            s0 = S0 - f * D0
            loglik -= wbar * np.log(s0)
            for j in range(P):
                a[j] = (S1[j] - f * D1[j]) / s0
                U[j] -= wbar * a[j]
            for j in range(P):
                for k in range(j + 1):
                    info[j, k] += wbar * ((S2[j, k] - f * D2[j, k]) / s0 - a[j] * a[k])
    for j in range(P):
        for k in range(j):
            info[k, j] = info[j, k]
    return loglik, U, info
