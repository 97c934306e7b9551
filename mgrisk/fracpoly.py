"""Fractional polynomials (Royston & Altman, Appl Stat 1994) of the exposure in the Cox model.

FP1: ``beta x^p``; FP2: ``beta1 x^p1 + beta2 x^p2`` or, for a repeated power,
``beta1 x^p + beta2 x^p log x``; powers from {-2, -1, -0.5, 0, 0.5, 1, 2, 3}, with ``x^0 = log x``.
x is shifted to be positive when it is not (``x + shift``, shift = the smallest gap between
distinct values minus the minimum) and divided by a power of 10 (``scale``) for numerical
stability (neither changes the fitted curve of the FP family). The adjustment is the fit's.

`select_fp` is the function selection procedure (Royston & Sauerbrei 2008, ch. 4; the closed
test of R ``mfp``): the best FP2 against the null model (4 df; not significant: the exposure is
dropped), against the linear model (3 df; not significant: linear) and against the best FP1
(2 df; significant: FP2, else FP1); deviances of the partial likelihood, level ``alpha``.
Compared with mfp2 (Kipruto & Sauerbrei's R package; read, not copied): the same closed test and
degrees of freedom, the same shift; mfp2 scales by a power of 10 of the range, not of the
maximum, which changes neither the powers nor the deviances; mfp2 leaves power 1 out of the FP1
candidates of the FP2-vs-FP1 test, here FP1 is the best of all 8 powers.
Measured (``benchmarks/fp_selection.py``, 500 cohorts each): a truth -3 log x + 0.3 x^2 (FP2
powers 0, 2) is selected as FP2 in every cohort, with exactly its powers in 0.556 (MC SE
0.022) of cohorts of 4,000 people (1,232 events), 0.740 (0.020) of 8,000 and 0.250 (0.019) of
1,000; the runner-up (0.5, 1) is nearly the same curve.

An FP curve is not a spline: `FPCurve` has its own ``hr_curve`` and ``minimum``, and the nadir
CI and corridor are found on a fine grid (`GRID_POINTS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations_with_replacement

import numpy as np
import pandas as pd
from scipy.special import chdtrc, ndtri

from .cox import fit_prepared
from .curve import ExposureSummary
from .errors import InputError

__all__ = ["POWERS", "FPCurve", "FPFit", "fit_fp", "fp_columns", "select_fp"]

POWERS = (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 3.0)
#: Grid points for the nadir, its CI (test inversion) and the corridor of an FP curve.
GRID_POINTS = 4001


def fp_transform(x, shift: float, scale: float) -> np.ndarray:
    return (np.asarray(x, dtype=float) + shift) / scale


def _power(z, p):
    return np.log(z) if p == 0 else z**p


def _dpower(z, p):
    return 1 / z if p == 0 else p * z ** (p - 1)


def fp_columns(z, powers) -> np.ndarray:
    """The FP design columns of the transformed exposure z > 0 for ``powers`` (1 or 2)."""
    z = np.asarray(z, dtype=float)
    cols = [_power(z, powers[0])]
    if len(powers) == 2:
        p1, p2 = powers
        cols.append(_power(z, p2) * (np.log(z) if p1 == p2 else 1.0))
    return np.column_stack(cols)


def _fp_derivative(z, powers) -> np.ndarray:
    """d/dz of each FP column."""
    cols = [_dpower(z, powers[0])]
    if len(powers) == 2:
        p1, p2 = powers
        if p1 == p2:
            cols.append(_dpower(z, p2) * np.log(z) + _power(z, p2) / z)
        else:
            cols.append(_dpower(z, p2))
    return np.column_stack(cols)


def shift_scale(x) -> tuple[float, float]:
    """Royston-Altman preliminary transformation: shift to positive values, scale by 10^k."""
    x = np.asarray(x, dtype=float)
    shift = 0.0
    if x.min() <= 0:
        gaps = np.diff(np.unique(x))
        shift = float((gaps.min() if gaps.size else 1.0) - x.min())
    top = float((x + shift).max())
    scale = float(10 ** np.floor(np.log10(top))) if top > 0 else 1.0
    return shift, scale


@dataclass(frozen=True)
class FPCurve:
    """A fractional-polynomial curve: ``log HR(x) = F(x) coef``, F the FP columns of
    ``(x + shift) / scale``; with ``hr_curve`` and ``minimum`` as a `SplineCurve` has them."""

    exposure: str
    unit: str | None
    powers: tuple[float, ...]
    shift: float
    scale: float
    coef: np.ndarray
    cov: np.ndarray
    x: ExposureSummary

    @property
    def label(self) -> str:
        return f"{self.exposure} ({self.unit})" if self.unit else self.exposure

    @property
    def name(self) -> str:
        p = ", ".join(f"{v:g}" for v in self.powers)
        return f"FP{len(self.powers)}({p})"

    def _F(self, grid) -> np.ndarray:
        return fp_columns(fp_transform(grid, self.shift, self.scale), self.powers)

    def hr_curve(self, grid=None, ref: float | str = "median", level: float = 0.95):
        """HR versus ``ref`` (a value, "median" or "nadir") with a pointwise CI."""
        grid = np.linspace(self.x.p01, self.x.p99, 101) if grid is None else np.asarray(grid)
        r = {"median": self.x.median, "nadir": self.minimum()[0]}.get(ref, ref)
        D = self._F(grid) - self._F([float(r)])
        log_hr = D @ self.coef
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", D, self.cov, D), 0.0))
        z = float(ndtri(0.5 + level / 2))
        out = pd.DataFrame(
            {
                "exposure": grid,
                "log_hr": log_hr,
                "se": se,
                "hr": np.exp(log_hr),
                "lower": np.exp(log_hr - z * se),
                "upper": np.exp(log_hr + z * se),
            }
        )
        out.attrs.update(ref=float(r), level=level, band="pointwise")
        return out

    def _fine(self) -> np.ndarray:
        return np.linspace(self.x.lo, self.x.hi, GRID_POINTS)

    def minimum(self) -> tuple[float, bool]:
        """Where the curve is lowest in the data range (grid), and whether that is inside it."""
        g = self._fine()
        i = int(np.argmin(self._F(g) @ self.coef))
        return float(g[i]), 0 < i < g.size - 1

    def nadir_ci(self, level: float = 0.95) -> tuple[float, float]:
        """Test-inversion CI of the nadir on the grid: the run around the minimum where
        ``|f'(x)| / se(f'(x)) <= z`` (NaN ends where it reaches the edge of the data)."""
        g = self._fine()
        dz = 1 / self.scale
        G = _fp_derivative(fp_transform(g, self.shift, self.scale), self.powers) * dz
        slope = G @ self.coef
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", G, self.cov, G), 1e-300))
        inside = np.abs(slope) / se <= float(ndtri(0.5 + level / 2))
        return _run(g, inside, self.minimum()[0])

    def corridor(self, delta: float = 0.1) -> tuple[float, float]:
        """Exposure range around the minimum where the HR versus it is at most 1 + delta."""
        g = self._fine()
        x0 = self.minimum()[0]
        lh = (self._F(g) - self._F([x0])) @ self.coef
        return _run(g, lh <= np.log1p(delta), x0, edges=True)


def _run(g, inside, x0, edges: bool = False) -> tuple[float, float]:
    i = int(np.argmin(np.abs(g - x0)))
    if not inside[i]:
        return (np.nan, np.nan)
    lo = i
    while lo > 0 and inside[lo - 1]:
        lo -= 1
    hi = i
    while hi < g.size - 1 and inside[hi + 1]:
        hi += 1
    low = g[lo] if edges or lo > 0 else np.nan
    up = g[hi] if edges or hi < g.size - 1 else np.nan
    return float(low), float(up)


@dataclass(frozen=True)
class FPFit:
    """One FP model: its powers, deviance (-2 log partial likelihood) and curve."""

    powers: tuple[float, ...]
    deviance: float
    curve: FPCurve
    n_coef: int  # all coefficients (FP + adjustment), for the AIC


def fit_fp(fit, powers) -> FPFit:
    """Fit the FP with ``powers`` in place of the spline of a `DoseResponse` (same rows and
    adjustment; for pooled imputations, each imputation, pooled by Rubin's rules)."""
    powers = tuple(float(p) for p in powers)
    if not 1 <= len(powers) <= 2 or any(p not in POWERS for p in powers):
        raise InputError(f"powers={powers}: give 1 or 2 powers from {POWERS}")
    shift, scale = shift_scale(fit.x)
    F = fp_columns(fp_transform(fit.x, shift, scale), powers)
    names = [f"fp{i + 1}" for i in range(len(powers))]
    cox = fit.fit_exposure(F, names)
    k = len(powers)
    curve = FPCurve(
        fit.settings.exposure,
        fit.settings.unit,
        powers,
        shift,
        scale,
        np.asarray(cox.beta[:k]),
        np.asarray(cox.vcov[:k, :k]),
        fit.curve.x,
    )
    return FPFit(powers, float(-2 * cox.loglik[1]), curve, len(cox.beta))


def _null_deviance(fit) -> float:
    """Deviance of the model without the exposure (the adjustment only); for pooled
    imputations the mean over the imputations."""
    if hasattr(fit, "fits"):
        return float(np.mean([_null_deviance(f) for f in fit.fits]))
    adjust = [c for c in range(len(fit.cox.beta)) if c not in fit.spline_cols]
    if not adjust:
        return float(-2 * fit.loglik[0])
    names = [fit.cox.names[c] for c in adjust]
    prepared = fit.prepared.with_columns(
        np.asarray(fit.design.matrix, dtype=float)[:, adjust], names, keep=[]
    )
    cox = fit_prepared(prepared, ties=fit.settings.ties, robust=False)
    return float(-2 * cox.loglik[1])


@dataclass(frozen=True)
class FPSelection:
    """The function selection procedure: every FP1 and FP2 deviance, the tests and the choice."""

    fp1: list[FPFit]
    fp2: list[FPFit]
    null_deviance: float
    tests: dict  # name -> (chi2, df, p)
    selected: str  # "null", "linear", "FP1", "FP2"
    alpha: float

    @property
    def best_fp1(self) -> FPFit:
        return min(self.fp1, key=lambda f: f.deviance)

    @property
    def best_fp2(self) -> FPFit:
        return min(self.fp2, key=lambda f: f.deviance)

    @property
    def linear(self) -> FPFit:
        return next(f for f in self.fp1 if f.powers == (1.0,))

    @property
    def chosen(self) -> FPFit | None:
        return {"linear": self.linear, "FP1": self.best_fp1, "FP2": self.best_fp2}.get(
            self.selected
        )


def select_fp(fit, alpha: float = 0.05) -> FPSelection:
    """Function selection procedure (see the module docstring) for a `DoseResponse`."""
    fp1 = [fit_fp(fit, (p,)) for p in POWERS]
    fp2 = [fit_fp(fit, pp) for pp in combinations_with_replacement(POWERS, 2)]
    null = _null_deviance(fit)
    best2 = min(f.deviance for f in fp2)
    best1 = min(f.deviance for f in fp1)
    linear = next(f.deviance for f in fp1 if f.powers == (1.0,))
    tests = {
        "FP2 vs null": _test(null - best2, 4),
        "FP2 vs linear": _test(linear - best2, 3),
        "FP2 vs FP1": _test(best1 - best2, 2),
    }
    if tests["FP2 vs null"][2] >= alpha:
        selected = "null"
    elif tests["FP2 vs linear"][2] >= alpha:
        selected = "linear"
    elif tests["FP2 vs FP1"][2] >= alpha:
        selected = "FP1"
    else:
        selected = "FP2"
    return FPSelection(fp1, fp2, null, tests, selected, alpha)


def _test(chi2: float, df: int) -> tuple[float, int, float]:
    chi2 = max(float(chi2), 0.0)
    return chi2, df, float(chdtrc(df, chi2))
