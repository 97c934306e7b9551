"""An exposure effect that changes with time (or age): spline x g(time) interactions.

The model adds ``B(x) * g(t)`` to the Cox model, B the exposure's spline columns and g a
function of the analysis time (age, with age as the time scale) chosen by name from `G_FUNCTIONS`
(never evaluated text): R's ``coxph(..., tt = function(x, t, ...) x * g(t))``. The likelihood
visits each event time's risk set with the interaction evaluated at that time (`_tt_kernels`),
which is the likelihood of R's expansion (or of a ``survSplit`` at the event times). The log-HR
of x versus r at time t is ``(B(x) - B(r)) (b + g(t) c)``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ..cox import CoxResult, PreparedCox, Test, fit_prepared, likelihood
from ..curve import contrast, ratio_table
from ..errors import InputError
from ..splines import rcs_basis
from ._tt_kernels import tt_pass

__all__ = ["G_FUNCTIONS", "TimeVaryingFit", "fit_time_varying", "hr_by_time"]

#: The functions of time an effect may change with, by name.
G_FUNCTIONS = {"log": np.log, "identity": lambda t: t, "sqrt": np.sqrt}


@dataclass(frozen=True)
class PreparedTimeVarying(PreparedCox):
    """A `PreparedCox` whose columns from ``n_fixed`` on are multiplied by ``g`` of the event
    time (copies of the time-varying columns)."""

    n_fixed: int
    g: np.ndarray  # (E,) g(t_m)
    row_start: np.ndarray  # (E,) first stored row with exit >= t_m in t_m's stratum
    row_end: np.ndarray  # (E,) one past the stratum's last row


@dataclass(frozen=True)
class TimeVaryingLikelihood:
    data: PreparedTimeVarying
    efron: bool

    def evaluate(self, beta):
        d = self.data
        return tt_pass(
            d.X,
            d.weights,
            d.offset,
            beta,
            d.n_fixed,
            d.g,
            d.row_start,
            d.row_end,
            d.exit_pos,
            d.entry_pos,
            d.death_ptr,
            d.death_rows,
            self.efron,
        )

    def score_residuals(self, beta):
        raise InputError(
            "a time-varying model has no robust variance here: its tests use the model-based one"
        )


@likelihood.register
def _(data: PreparedTimeVarying, efron: bool) -> TimeVaryingLikelihood:
    return TimeVaryingLikelihood(data, efron)


def _g_values(g: str, t: np.ndarray, where: str) -> np.ndarray:
    if g not in G_FUNCTIONS:
        raise InputError(f"g={g!r}: use one of {', '.join(map(repr, G_FUNCTIONS))}")
    t = np.asarray(t, dtype=float)
    if g in ("log", "sqrt") and (t <= 0).any():
        raise InputError(f"g={g!r}: {where} include times <= 0; use g='identity'")
    return G_FUNCTIONS[g](t)


def _row_ranges(data: PreparedCox) -> tuple[np.ndarray, np.ndarray]:
    E = data.event_times.size
    start, end = np.empty(E, dtype=np.int64), np.empty(E, dtype=np.int64)
    bounds = np.r_[0, np.flatnonzero(np.diff(data.strata)) + 1, data.n]
    for lo, hi in itertools.pairwise(bounds):
        s = data.strata[lo]
        ms = np.flatnonzero(data.event_strata == s)
        start[ms] = lo + np.searchsorted(data.exit[lo:hi], data.event_times[ms], side="left")
        end[ms] = hi
    return start, end


@dataclass(frozen=True)
class TimeVaryingFit:
    """The fitted spline x g(time) model: the Cox fit, the interaction columns and g."""

    cox: CoxResult
    spline_cols: list[int]
    interaction_cols: list[int]
    g: str
    knots: tuple[float, ...]

    @property
    def interaction_test(self) -> Test:
        """Wald test that all spline x g(time) coefficients are zero (proportional hazards)."""
        c = self.interaction_cols
        b, V = self.cox.beta[c], self.cox.vcov[np.ix_(c, c)]
        return Test.of(b @ np.linalg.solve(V, b), len(c))


def fit_time_varying(
    data: PreparedCox,
    fit: CoxResult,
    spline_cols: list[int],
    knots,
    g: str = "log",
    ties: str = "efron",
) -> TimeVaryingFit:
    """Refit ``fit`` with its spline columns also multiplied by ``g(t)``.

    Parameters
    ----------
    data : PreparedCox
        The prepared data of ``fit`` (any strata, weights, (entry, exit] rows).
    fit : CoxResult
        The proportional-hazards fit (its coefficients start Newton).
    spline_cols : list of int
        The exposure's spline columns.
    knots : sequence of float
        The spline's knots.
    g : {"log", "identity", "sqrt"}
        The function of the analysis time.
    ties : {"efron", "breslow"}

    Returns
    -------
    TimeVaryingFit
        Coefficients in R's order: the model's columns, then ``name:g(t)`` per spline column.
    """
    gm = _g_values(g, data.event_times, "event times")
    X = np.asfortranarray(np.concatenate([data.X, data.X[:, spline_cols]], axis=1))
    names = data.names + [f"{data.names[j]}:{g}(t)" for j in spline_cols]
    base = {f.name: getattr(data, f.name) for f in fields(PreparedCox)}
    base.update(
        X=X,
        names=names,
        center=np.r_[data.center, data.center[spline_cols]],
        scale=np.r_[data.scale, data.scale[spline_cols]],
    )
    start, end = _row_ranges(data)
    tv = PreparedTimeVarying(**base, n_fixed=data.X.shape[1], g=gm, row_start=start, row_end=end)
    init = np.r_[fit.beta, np.zeros(len(spline_cols))]
    cox = fit_prepared(tv, ties=ties, robust=False, init=init, tol=1e-12, max_iter=100)
    p = data.X.shape[1]
    inter = list(range(p, p + len(spline_cols)))
    return TimeVaryingFit(cox, list(spline_cols), inter, g, tuple(map(float, knots)))


def hr_by_time(tv: TimeVaryingFit, times, grid, ref: float, level: float = 0.95) -> pd.DataFrame:
    """HR of the exposure versus ``ref`` at each of ``times``, from the time-varying model.

    Returns
    -------
    pandas.DataFrame
        Columns time, exposure, log_hr, se, hr, lower, upper (pointwise Wald CIs).
    """
    times = np.atleast_1d(np.asarray(times, dtype=float))
    gt = _g_values(tv.g, times, "times")
    grid = np.asarray(grid, dtype=float)
    D = rcs_basis(grid, tv.knots) - rcs_basis([ref], tv.knots)
    b, V = tv.cox.beta, tv.cox.vcov
    z = ndtri(0.5 + level / 2)
    out = []
    for t, gv in zip(times, gt, strict=True):
        L = np.zeros((D.shape[0], b.size))
        L[:, tv.spline_cols] = D
        L[:, tv.interaction_cols] = gv * D
        table = ratio_table(grid, *contrast(L, b, V), z)
        table.insert(0, "time", t)
        out.append(table)
    frame = pd.concat(out, ignore_index=True)
    frame.attrs.update(ref=ref, level=level, g=tv.g, interaction_test=tv.interaction_test)
    return frame
