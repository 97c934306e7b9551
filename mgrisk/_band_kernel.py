"""numba kernel of the simultaneous confidence band (plain arrays in, plain arrays out)."""

import numpy as np
from numba import njit

__all__ = ["max_abs_projection"]


@njit(cache=True)
def max_abs_projection(draws, A):
    """For each column z of ``draws`` (k x m), max over the rows a of A (g x k) of |a . z|.

    A plain loop rather than ``A @ draws``: the product would be large enough to start BLAS's
    threads, whose spinning then slows the Cox kernels. The loops run along the draws, so they
    vectorise."""
    k, m = draws.shape
    out = np.zeros(m)
    t = np.empty(m)
    for g in range(A.shape[0]):
        for d in range(m):
            t[d] = 0.0
        for j in range(k):
            a, z = A[g, j], draws[j]
            for d in range(m):
                t[d] += a * z[d]
        for d in range(m):
            out[d] = max(out[d], abs(t[d]))
    return out
