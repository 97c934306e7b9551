"""Influential people: who moves the curve, and how far the nadir and corridor move without them.

People are ranked by the spline part of their dfbeta (R's ``residuals(fit, "dfbeta")``,
clusters summed) as a Cook-type distance ``d_i' V^-1 d_i`` (V the spline coefficients'
covariance): the approximate shift of the whole curve, in standard errors, when the person is
left out. The top ones are then left out for real, one at a time and all together (an exact
refit each, weight 0 for their rows), and the nadir and corridor ends are recomputed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from ..curve import SplineCurve
from ..errors import InputError

__all__ = ["curve_distance", "influence_table"]


def curve_distance(dfbeta: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """``d_i' V^-1 d_i`` per row of ``dfbeta`` (the spline columns only)."""
    return np.einsum("ij,ij->i", dfbeta, np.linalg.solve(cov, dfbeta.T).T)


def _ends(curve: SplineCurve, rule: str, delta: float, level: float) -> tuple[float, ...]:
    nadir, _ = curve.minimum()
    c = curve.corridor(rule, delta, level)
    return nadir, c.lower, c.upper


def influence_table(
    ids: Sequence,
    dfbeta: np.ndarray,
    curve: SplineCurve,
    refit_without: Callable[[list], tuple[np.ndarray, np.ndarray]],
    *,
    top: int = 10,
    rule: str = "delta",
    delta: float = 0.1,
    level: float = 0.95,
) -> pd.DataFrame:
    """The ``top`` most influential people and the nadir and corridor without them.

    Parameters
    ----------
    ids : sequence
        The person (or row) of each row of ``dfbeta``.
    dfbeta : array (n, k - 1)
        The spline coefficients' dfbeta per person.
    curve : SplineCurve
        The fitted curve.
    refit_without : callable
        ``refit_without(list of ids) -> (coef, cov)`` of the spline after an exact refit
        without those people.
    top : int
        How many people to list.
    rule, delta, level
        The corridor definition (see `SplineCurve.corridor`).

    Returns
    -------
    pandas.DataFrame
        One row per person (most influential first) and a last row ``"all top"`` leaving all
        of them out: ``id``, ``distance`` (dfbeta-based, in squared SEs), ``nadir``,
        ``corridor_lower``, ``corridor_upper`` and their shifts ``d_nadir``, ``d_lower``,
        ``d_upper`` from the full fit (exposure units); ``attrs`` hold the full fit's values.

    Examples
    --------
    >>> from mgrisk import simulate_cohort, fit_dose_response
    >>> fit = fit_dose_response(simulate_cohort("rotterdam", n=2000, seed=1), "mg", "exit",
    ...                         "event", entry="entry", adjust="female")
    >>> table = fit.influence(top=3)
    >>> len(table)
    4
    """
    if not (isinstance(top, int | np.integer) and top >= 1):
        raise InputError(f"top={top!r}: give a whole number of people >= 1, e.g. 10")
    dist = curve_distance(dfbeta, curve.cov)
    order = np.argsort(-dist, kind="stable")[: min(top, len(dist))]
    base = _ends(curve, rule, delta, level)
    rows = []
    chosen = [ids[i] for i in order]
    for i, who in zip(order, chosen, strict=True):
        rows.append((who, dist[i], [who]))
    rows.append(("all top", float(dist[order].sum()), chosen))
    out = []
    for who, d, leave_out in rows:
        coef, cov = refit_without(leave_out)
        ends = _ends(
            replace(curve, coef=coef, cov=cov, resample=None, _draws={}), rule, delta, level
        )
        out.append(
            {
                "id": who,
                "distance": float(d),
                "nadir": ends[0],
                "corridor_lower": ends[1],
                "corridor_upper": ends[2],
                "d_nadir": ends[0] - base[0],
                "d_lower": ends[1] - base[1],
                "d_upper": ends[2] - base[2],
            }
        )
    table = pd.DataFrame(out)
    table.attrs.update(
        nadir=base[0],
        corridor_lower=base[1],
        corridor_upper=base[2],
        rule=rule,
        delta=delta,
        level=level,
    )
    return table
