"""Harrell's concordance of a Cox fit with its standard error, as ``survival::concordance``.

A pair is a death at t and a row at risk at t that is not a death at t ((entry, exit] rows are
at risk when entry < t <= exit; strata are compared within themselves); it is concordant when the
death has the higher risk score. ``C = (concordant + tied / 2) / (concordant + discordant +
tied)``, weighted by the product of the case weights. The variance is R's infinitesimal
jackknife: per row (summed by cluster) ``w_i ((c_i - d_i) / N - D (c_i + d_i + t_i) / N) / 2``
with ``c_i, d_i, t_i`` the weights of the row's partners in each class, N the number of pairs
and D Somers' d; the variance is the sum of their squares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..cox import CoxResult, PreparedCox, argsort_times
from ._concordance_kernel import concordance_counts

__all__ = ["Concordance", "concordance"]

#: Risk scores closer than this share of their range are tied (R compares them exactly; equal
#: covariates give equal scores in R, but a BLAS product may differ in the last bit).
TIE_TOLERANCE = 1e-10


@dataclass(frozen=True)
class Concordance:
    """Harrell's C, its standard error and the pair counts (weighted)."""

    value: float
    se: float
    concordant: float
    discordant: float
    tied_risk: float

    def to_dict(self) -> dict:
        return {
            "value": self.value,
            "se": self.se,
            "concordant": self.concordant,
            "discordant": self.discordant,
            "tied_risk": self.tied_risk,
        }


def _ranks(score: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, int]:
    """Each row's rank among the deaths' risk scores, and the number of ranks.

    Pairs always have a death in them, so a row's score needs placing only among the deaths'
    (scores within the tie tolerance are one): below, equal to or above each. Rank 2k - 1 is
    the k-th death score, rank 2k the gap above it; the kernel's trees then have a slot per
    death score, not per row (85,000 instead of 1M: they stay in the processor's cache)."""
    order = argsort_times(score - score.min())  # stable (a radix sort on large data)
    s = score[order]
    spread = s[-1] - s[0]
    new = np.r_[True, np.diff(s) > TIE_TOLERANCE * max(spread, 1e-300)]
    group = np.cumsum(new) - 1  # tied scores form one group, in increasing order
    dies = np.bincount(group, weights=event[order], minlength=group[-1] + 1) > 0
    placed = 2 * np.cumsum(dies) - dies  # 2k - 1: the k-th death score; 2k: above it
    rank = np.empty(score.size, dtype=np.int64)
    rank[order] = placed[group]
    return rank, int(2 * dies.sum() + 1)


def concordance(data: PreparedCox, fit: CoxResult | np.ndarray) -> Concordance:
    """Harrell's C of the fit's risk score, with R's standard error.

    Parameters
    ----------
    data : PreparedCox
        The prepared data of ``fit`` (its times after timefix, strata, weights and clusters).
    fit : CoxResult or array (n,)
        A Cox fit of ``data``, or risk scores (higher: earlier events) in the caller's row
        order.

    Returns
    -------
    Concordance

    Examples
    --------
    >>> from mgrisk.cox import prepare_cox
    >>> d = prepare_cox([[0.0], [1.0], [0.0], [1.0]], [1.0, 2.0, 3.0, 4.0], [1, 1, 1, 0])
    >>> concordance(d, np.array([3.0, 2.0, 1.0, 0.0])).value  # higher risk dies first
    1.0
    """
    if isinstance(fit, CoxResult):
        score = data.X @ fit.beta_scaled
    else:
        score = np.asarray(fit, dtype=float)[data.order]
    rank, n_ranks = _ranks(score, data.event)
    if data.entry is None:
        entry = np.empty(0)
        by_entry = np.empty(0, dtype=np.int64)
    elif len(data.strata_labels) < 2:  # rows by entry, latest first (ties in any order)
        entry = data.entry
        by_entry = argsort_times(entry)[::-1].copy()
    else:
        entry = data.entry
        by_entry = np.lexsort((-entry, -data.strata)).astype(np.int64)
    counts, infl = concordance_counts(
        data.exit, entry, data.event, data.strata, data.weights, rank, n_ranks, by_entry
    )
    conc, disc, tied = counts
    npair = conc + disc + tied
    somers = (conc - disc) / npair
    dfbeta = data.weights * ((infl[:, 0] - infl[:, 1]) / npair - somers / npair * infl.sum(1))
    if data.cluster is not None:
        dfbeta = np.bincount(data.cluster, weights=dfbeta)
    return Concordance(
        value=float((somers + 1) / 2),
        se=float(np.sqrt(np.sum(dfbeta**2) / 4)),
        concordant=float(conc),
        discordant=float(disc),
        tied_risk=float(tied),
    )
