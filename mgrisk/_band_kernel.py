"""numba kernel of the simultaneous confidence band (plain arrays in, plain arrays out)."""

import numpy as np
from numba import njit

__all__ = ["max_abs_projection"]


@njit(cache=True)
def max_abs_projection(draws, A):
    """For each row z of ``draws`` (m x k), max over the rows a of A (g x k) of |a . z|.

    A plain loop rather than ``draws @ A.T``: the product would be large enough to start BLAS's
    threads, whose spinning then slows the Cox kernels."""
    m, k = draws.shape
    out = np.empty(m)
    for d in range(m):
        best = 0.0
        for g in range(A.shape[0]):
            t = 0.0
            for j in range(k):
                t += A[g, j] * draws[d, j]
            best = max(best, abs(t))
        out[d] = best
    return out
