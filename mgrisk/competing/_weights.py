"""R ``finegray``'s weight function W on time ranks: censoring, and with delayed entry, entry.

W is the censoring survivor function G (Kaplan-Meier of censoring; events before censorings at
tied times, as R ``finegray``, or with them, as cmprsk::crr), times with delayed entry the
distribution H of entry times estimated in reversed time (Geskus, Biometrics 2011,
doi 10.1111/j.1541-0420.2010.01420.x). It is a step function of the rank, changing at its cut
points; R's expansion gives a competing-event person at a later event time t the weight
W(t-) / W(T-), W(t-) being its value after the last cut point before t.
"""

from __future__ import annotations

import numpy as np

__all__ = ["weight_before", "weight_steps"]


def _censoring_survival(a, b, s, n_ranks, events_first=True):
    """Kaplan-Meier of censoring on ranks: censorings per rank and G just after each rank with
    one (in rank order).

    ``events_first``: events at a tied time leave the risk set before the censorings (R
    finegray); otherwise they are at risk of censoring too (cmprsk::crr's survfit)."""
    entered = np.cumsum(np.bincount(a + 1, minlength=n_ranks + 1))[:n_ranks]  # #{a < r}
    left = np.concatenate([[0], np.cumsum(np.bincount(b, minlength=n_ranks))[:-1]])  # #{b < r}
    events = np.bincount(b[s != 0], minlength=n_ranks) if events_first else 0
    censored = np.bincount(b[s == 0], minlength=n_ranks)
    ranks = np.flatnonzero(censored)
    at_risk = (entered - left - events)[ranks]
    return censored, np.cumprod(1.0 - censored[ranks] / at_risk)


def _entry_distribution(a, b, n_ranks):
    """Entries per rank and H just after each rank with one: the product over later entries of
    (1 - d/r), with r = #{a <= e < b} (R's reversed-time Kaplan-Meier of entry times)."""
    entries = np.bincount(a, minlength=n_ranks)
    ranks = np.flatnonzero(entries)
    upto_a = np.cumsum(entries)  # #{a <= e}
    upto_b = np.cumsum(np.bincount(b, minlength=n_ranks))  # #{b <= e}
    factor = 1.0 - entries[ranks] / (upto_a - upto_b)[ranks]
    later = np.concatenate([np.cumprod(factor[::-1])[::-1][1:], [1.0]])
    return entries, later


def weight_steps(a, b, s, delay: bool, events_first: bool = True):
    """Cut points (increasing ranks) of W in one stratum and W just after each.

    ``a``, ``b``: entry and exit ranks (``a`` -1 without entry), ``s``: event codes (0
    censored)."""
    n_ranks = int(b.max()) + 1
    censored, G = _censoring_survival(a, b, s, n_ranks, events_first)
    if not delay:
        return np.flatnonzero(censored), G
    entries, H = _entry_distribution(a, b, n_ranks)
    is_c, is_d = censored > 0, entries > 0
    cut = np.flatnonzero(is_c | is_d)
    # H after the last entry at or before each cut (there is one: censorings follow entries),
    # G after the last censoring at or before it (1 before the first)
    h = H[np.cumsum(is_d)[cut] - 1]
    g = np.concatenate([[1.0], G])[np.cumsum(is_c)[cut]]
    return cut, h * g


def weight_before(cut, prob, ranks):
    """W(r-) at each rank r: W after the last cut point before r (1 before the first)."""
    return np.concatenate([[1.0], prob])[np.searchsorted(cut, ranks, "left")]
