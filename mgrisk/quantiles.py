"""Quantile-category table (the Rotterdam table): counts, rates, HRs vs a reference category.

Cut-points are R's ``quantile(x, type = 7)`` (numpy's default) and categories follow R's
``cut(x, breaks, include.lowest = TRUE)``: intervals are closed on the right, (a, b], and the
first is closed on both ends, [a, b].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from .errors import InputError

__all__ = ["QuantileTable", "quantile_categories", "quantile_table"]

CONVENTION = (
    "cut-points: quantile(type = 7); intervals closed on the right, (a, b], the first [a, b] "
    "(R's cut(include.lowest = TRUE))"
)


@dataclass(frozen=True)
class QuantileTable:
    """The table, the p for trend (its Cox fit runs when first asked) and the conventions."""

    table: pd.DataFrame
    reference: str
    trend_fit: Callable[[], object] = field(repr=False)  # -> CoxResult of the trend model
    convention: str = CONVENTION
    time_unit: str = "years"

    @property
    def rate_label(self) -> str:
        """What ``rate_per_1000`` counts: events per 1,000 person-<time unit>."""
        return f"per 1,000 person-{self.time_unit}"

    @cached_property
    def p_trend(self) -> float:
        """Wald p of the category medians entered as one linear term."""
        fit = self.trend_fit()
        return float(2 * ndtr(-abs(fit.beta[0]) / np.sqrt(fit.vcov[0, 0])))

    def __str__(self) -> str:
        cols = ["interval", "n", "events", "person_time", "rate_per_1000", "hr", "lower", "upper"]
        body = self.table[cols].to_string(float_format=lambda v: f"{v:.3g}")
        trend = f"reference: {self.reference}; p for trend = {self.p_trend:.3g}"
        return (
            f"{body}\nperson-time in {self.time_unit}; rates {self.rate_label}\n{trend}\n"
            f"{self.convention}"
        )


def quantile_categories(x: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Category (0..q-1) of each value and the q + 1 cut-points."""
    if q < 2:
        raise InputError(f"q={q}: need at least 2 categories")
    breaks = np.quantile(x, np.linspace(0, 1, q + 1))
    if np.unique(breaks).size < breaks.size:
        raise InputError(
            f"the {q} quantile categories are not distinct (cut-points {np.round(breaks, 4)}); "
            "the exposure has too many ties: use fewer categories"
        )
    return np.searchsorted(breaks[1:-1], x, side="left"), breaks


def _interval(k: int, breaks: np.ndarray) -> str:
    left = "[" if k == 0 else "("
    return f"{left}{breaks[k]:.4g}, {breaks[k + 1]:.4g}]"


def quantile_table(
    x: np.ndarray,
    event: np.ndarray,
    person_time: np.ndarray,
    fit: Callable[[np.ndarray, list[str]], object],
    *,
    q: int = 5,
    ref: str | int = "middle",
    level: float = 0.95,
    time_unit: str = "years",
) -> QuantileTable:
    """Counts, incidence rates and HRs by quantile category of the exposure.

    Parameters
    ----------
    x : exposure values; event : 1 for the event of interest; person_time : time at risk
    (in ``time_unit``).
    fit : callable(columns, names) -> CoxResult
        Fits the Cox model with these exposure columns plus the analysis' adjustment.
    q : number of categories. ref : "middle" (category ceil(q/2), e.g. Q3 of 5) or 1..q.
    """
    cat, breaks = quantile_categories(x, q)
    ref_k = (q + 1) // 2 - 1 if ref == "middle" else int(ref) - 1
    if not 0 <= ref_k < q:
        raise InputError(f"ref={ref!r}: use 'middle' or a category number from 1 to {q}")
    labels = [f"Q{k + 1}" for k in range(q)]
    events = np.bincount(cat, weights=event, minlength=q).round().astype(int)
    if not events.all():
        empty = [labels[k] for k in np.flatnonzero(events == 0)]
        raise InputError(
            f"quantile categories {', '.join(empty)} have no events: their HRs cannot be "
            "estimated; use fewer categories"
        )
    others = [k for k in range(q) if k != ref_k]
    dummies = np.column_stack([(cat == k).astype(float) for k in others])
    result = fit(dummies, [labels[k] for k in others])
    z = ndtri(0.5 + level / 2)
    b, se = np.zeros(q), np.full(q, np.nan)  # the reference: log HR 0, no se
    b[others], se[others] = result.beta[: len(others)], np.sqrt(np.diag(result.vcov))[: len(others)]
    reference = np.arange(q) == ref_k
    years = np.bincount(cat, weights=person_time, minlength=q)
    table = pd.DataFrame(
        {
            "interval": [_interval(k, breaks) for k in range(q)],
            "lower_bound": breaks[:-1],
            "upper_bound": breaks[1:],
            "n": np.bincount(cat, minlength=q),
            "events": events,
            "person_time": years,
            "rate_per_1000": 1000 * events / np.where(years > 0, years, np.nan),
            "hr": np.exp(b),
            "lower": np.where(reference, 1.0, np.exp(b - z * se)),
            "upper": np.where(reference, 1.0, np.exp(b + z * se)),
            "p": 2 * ndtr(-np.abs(b / se)),
        },
        index=pd.Index(labels, name="category"),
    )

    def trend_fit():  # the category medians as one linear term
        medians = np.array([np.median(x[cat == k]) for k in range(q)])
        return fit(medians[cat][:, None], ["trend"])

    return QuantileTable(table, labels[ref_k], trend_fit, time_unit=time_unit)
