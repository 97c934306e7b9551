"""Fine-Gray data prepared once (one row per person) and its likelihood for the Newton loop.

`prepare_persons` indexes the persons as `mgrisk.cox.prepare_cox` does (events of interest as
events) and adds what R's expansion encodes: per competing-event person the first later event
time (``tail_pos``) and 1 / W(T_i-) (``tail_scale``), and per event time W(t-) (``w_time``), W
being R ``finegray``'s censoring (times, with delayed entry, entry) weight function. The kernels
in `_fg_kernels` then reproduce the likelihood of the expanded data without building it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..cox import PreparedCox, likelihood, prepare_cox
from . import _fg_kernels
from ._weights import weight_before, weight_steps

__all__ = ["FineGrayLikelihood", "PreparedFineGray", "prepare_persons"]


@dataclass(frozen=True)
class PreparedFineGray(PreparedCox):
    """Persons prepared for the Fine-Gray likelihood (see `prepare_persons`); a `PreparedCox`
    whose events are the events of interest, plus the competing-event tails. ``with_weights``
    and ``with_X`` keep the tails (R's weights do not use the case weights)."""

    tail_pos: np.ndarray  # (n,) int64: first event time after a competing event, -1 if none
    tail_scale: np.ndarray  # (n,) 1 / W(T_i-) for a competing event with a tail, else 0
    w_time: np.ndarray  # (E,) W(t-) at each event time
    delayed_entry: bool  # whether the entry distribution entered the weights


@dataclass(frozen=True)
class FineGrayLikelihood:
    """The Fine-Gray partial likelihood of prepared persons (centred and scaled coordinates),
    equal to the weighted Cox partial likelihood of R's expanded rows."""

    data: PreparedFineGray
    efron: bool

    def _index(self):
        d = self.data
        return (
            d.exit_pos,
            d.entry_pos,
            d.tail_pos,
            d.tail_scale,
            d.w_time,
            d.death_ptr,
            d.death_rows,
            d.block_end,
        )

    def evaluate(self, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        d = self.data
        return _fg_kernels.fg_pass(
            d.X, d.weights, d.offset, beta, self._index(), d.event, self.efron
        )

    def score_residuals(self, beta: np.ndarray):
        d = self.data
        return _fg_kernels.fg_score_residuals(
            d.X, d.weights, d.offset, beta, self._index(), self.efron
        )


@likelihood.register
def _(data: PreparedFineGray, efron: bool) -> FineGrayLikelihood:
    return FineGrayLikelihood(data, efron)


def prepare_persons(
    X,
    time: np.ndarray,
    event: np.ndarray,
    entry: np.ndarray | None,
    b_rank: np.ndarray,
    a_rank: np.ndarray,
    delay: bool,
    *,
    strata=None,
    weights=None,
    cluster=None,
    cause: int = 1,
    names: list[str] | None = None,
    fix_ties: bool = True,
    events_first: bool = True,
) -> PreparedFineGray:
    """Index validated persons (``event`` integer codes, ``b_rank``/``a_rank`` their time ranks,
    ``a_rank`` -1 without entry) for the Fine-Gray likelihood."""
    base = prepare_cox(
        X,
        time,
        (event == cause).astype(float),
        entry=entry,
        strata=strata,
        weights=weights,
        cluster=cluster,
        names=names,
        fix_ties=fix_ties,
    )
    order = base.order
    b, a, s = b_rank[order], a_rank[order], event[order]
    n = order.size
    exit_pos, entry_pos = base.exit_pos.copy(), base.entry_pos
    tail_pos = np.full(n, -1, dtype=np.int64)
    tail_scale = np.zeros(n)
    w_time = np.ones(base.event_times.size)
    # rank of each event time: that of its first death row
    event_rank = b[base.death_rows[base.death_ptr[:-1]]]
    bounds = np.flatnonzero(np.diff(base.strata)) + 1
    row_start = np.concatenate([[0], bounds])
    row_stop = np.concatenate([bounds, [n]])
    time_start = np.searchsorted(base.event_strata, base.strata[row_start], "left")
    time_stop = np.searchsorted(base.event_strata, base.strata[row_start], "right")
    for r0, r1, m0, m1 in zip(row_start, row_stop, time_start, time_stop, strict=True):
        if m0 == m1:
            continue  # no events of interest: R drops the stratum
        rows = slice(r0, r1)
        cut, prob = weight_steps(a[rows], b[rows], s[rows], delay, events_first)
        w_time[m0:m1] = weight_before(cut, prob, event_rank[m0:m1])
        competing = r0 + np.flatnonzero((s[rows] != 0) & (s[rows] != cause))
        # As R, a competing event keeps weight 1 to the end of W's step holding it (the next
        # cut point, or the stratum's last exit): the own row runs to there, the tail after it
        # (so a zero W(T-) never meets 0/0).
        ends = np.append(cut, b[rows].max())
        row_end = ends[np.searchsorted(ends, b[competing], "left")]
        last = m0 - 1 + np.searchsorted(event_rank[m0:m1], row_end, "right")
        at_risk = (last >= m0) & (last > entry_pos[competing])
        exit_pos[competing] = np.where(at_risk, last, -1)
        has_tail = last + 1 < m1
        competing, first = competing[has_tail], last[has_tail] + 1
        tail_pos[competing] = first
        tail_scale[competing] = 1.0 / weight_before(cut, prob, b[competing])
    cox = {f.name: getattr(base, f.name) for f in fields(base)} | {"exit_pos": exit_pos}
    return PreparedFineGray(
        **cox, tail_pos=tail_pos, tail_scale=tail_scale, w_time=w_time, delayed_entry=delay
    )
