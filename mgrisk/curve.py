"""The curve estimate: a restricted cubic spline's knots, coefficients and covariance.

Every curve estimand (the HR curve with pointwise or simultaneous bands, the nadir with each CI
method, the low-risk corridor with its CIs, the end slopes of the Lind-Mehlum test) is a function
of a `SplineCurve` alone, whatever produced it: one Cox or Fine-Gray fit, pooled imputations, a
meta-analysis or a bootstrap. Bootstrap CIs need refits, so a curve may carry a ``resample``
function that returns the spline coefficients and covariances of bootstrap refits; nothing else
in it knows about Cox models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ._band_kernel import max_abs_projection
from .errors import InputError
from .nadir import (
    Corridor,
    Nadir,
    corridor_bounds,
    corridor_definition,
    corridor_end_delta_ci,
    nadir_delta,
    nadir_inversion,
    spline_minimum,
)
from .shape import lind_mehlum
from .splines import rcs_basis

__all__ = ["ExposureSummary", "SplineCurve", "contrast", "ratio_table"]

#: Monte Carlo draws (fixed seed) for the simultaneous band's critical value: its Monte Carlo
#: standard error is about 0.01.
BAND_DRAWS = 20_000

#: Bins of the exposure histogram kept with a curve (the figures' distribution strip).
HISTOGRAM_BINS = 40


@lru_cache(maxsize=8)
def _band_draws(dim: int) -> np.ndarray:
    """The simultaneous band's standard normal draws, one row per dimension (fixed seed;
    shared: never modify)."""
    return np.random.default_rng(20170516).standard_normal((BAND_DRAWS, dim)).T.copy()


@dataclass(frozen=True)
class ExposureSummary:
    """What curves need of the exposure's distribution: its range, centiles and histogram."""

    lo: float
    hi: float
    median: float
    p01: float  # 1st centile: default grid start and the Lind-Mehlum low point
    p99: float
    counts: tuple[int, ...] = ()  # histogram over [p01, p99]
    edges: tuple[float, ...] = ()

    @classmethod
    def of(cls, x) -> ExposureSummary:
        x = np.asarray(x, dtype=float)
        p01, median, p99 = np.quantile(x, [0.01, 0.5, 0.99])
        counts, edges = np.histogram(x[(x >= p01) & (x <= p99)], bins=HISTOGRAM_BINS)
        return cls(
            float(x.min()),
            float(x.max()),
            float(median),
            float(p01),
            float(p99),
            tuple(map(int, counts)),
            tuple(map(float, edges)),
        )


Resample = Callable[..., list[tuple[np.ndarray, np.ndarray]]]


@dataclass(frozen=True)
class SplineCurve:
    """A spline curve estimate: ``log HR(x) - log HR(r) = (B(x) - B(r)) coef``.

    Parameters
    ----------
    exposure, unit : str
        The exposure's column name and unit (None: figures and texts show the name alone).
    knots : tuple of float
        The spline's knots (exposure units).
    coef, cov : arrays (k - 1,), (k - 1, k - 1)
        The spline coefficients and their covariance.
    x : ExposureSummary
        The exposure's range, centiles and histogram in the data behind the estimate.
    estimated_by : str
        How the estimate was made (e.g. "Cox model, 9,569 people").
    ratio : str
        What the curve is: "hazard ratio", "subdistribution hazard ratio", ...
    resample : callable, optional
        ``resample(n_boot, seed, jobs, progress)`` -> list of (coef, cov) of bootstrap refits.

    Examples
    --------
    A linear log-HR with slope 2 per unit (only the first spline coefficient):

    >>> curve = SplineCurve("mg", "mmol/L", (0.7, 0.8, 0.9, 1.0), np.array([2.0, 0.0, 0.0]),
    ...                     np.eye(3) * 1e-2, ExposureSummary(0.6, 1.1, 0.85, 0.65, 1.05))
    >>> curve.hr_curve(grid=[0.95], ref=0.85).log_hr.round(12).tolist()
    [0.2]
    >>> curve.minimum()  # increasing: the lowest HR is at the lower edge, not a nadir
    (0.6, False)
    """

    exposure: str
    unit: str | None
    knots: tuple[float, ...]
    coef: np.ndarray
    cov: np.ndarray
    x: ExposureSummary
    estimated_by: str = ""
    ratio: str = "hazard ratio"
    resample: Resample | None = field(default=None, repr=False, compare=False)
    _draws: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def label(self) -> str:
        """The exposure with its unit, as axes and texts show it: "bmi" or "mg (mmol/L)"."""
        return f"{self.exposure} ({self.unit})" if self.unit else self.exposure

    @property
    def unit_suffix(self) -> str:
        return f" {self.unit}" if self.unit else ""

    def reference_value(self, ref: str | float = "median") -> float:
        """The reference exposure: a number inside the data, "median" or "nadir"."""
        if isinstance(ref, str):
            if ref == "median":
                return self.x.median
            if ref == "nadir":
                return self.minimum()[0]
            try:
                ref = float(ref)
            except ValueError:
                raise InputError(f"ref={ref!r}: use a number, 'median' or 'nadir'") from None
        ref = float(ref)
        if not self.x.lo <= ref <= self.x.hi:
            raise InputError(
                f"ref={ref:g}: outside the data ({self.x.lo:.4g} to {self.x.hi:.4g}"
                f"{self.unit_suffix}); an HR against an extrapolated point is not supported by "
                "the data: choose a value inside that range, 'median' or 'nadir'"
            )
        return ref

    # --- the curve -------------------------------------------------------------------------
    def grid(self, n_points: int = 101) -> np.ndarray:
        """The default grid: the 1st to 99th centile of the exposure."""
        return np.linspace(self.x.p01, self.x.p99, n_points)

    def hr_curve(
        self,
        grid=None,
        ref: str | float = "median",
        level: float = 0.95,
        band: str = "pointwise",
        n_points: int = 101,
    ) -> pd.DataFrame:
        """HR versus ``ref`` over a grid, with a pointwise or simultaneous band.

        The simultaneous band uses the max-|t| critical value over the grid (multivariate
        normal, Monte Carlo with a fixed seed). Columns: exposure, log_hr, se, hr, lower, upper;
        ``attrs``: ref, level, band, critical_value.
        """
        if band not in ("pointwise", "simultaneous"):
            raise InputError(f"band={band!r}: use 'pointwise' or 'simultaneous'")
        _check_level(level)
        grid = self.grid(n_points) if grid is None else np.asarray(grid, dtype=float)
        r = self.reference_value(ref)
        D = rcs_basis(grid, self.knots) - rcs_basis([r], self.knots)
        log_hr, se = contrast(D, self.coef, self.cov)
        crit = _z(level) if band == "pointwise" else self._simultaneous_critical(D, se, level)
        out = ratio_table(grid, log_hr, se, crit)
        out.attrs.update(ref=r, level=level, band=band, critical_value=float(crit))
        return out

    def _simultaneous_critical(self, D, se, level) -> float:
        keep = se > 1e-12 * max(se.max(), 1e-300)
        L = np.linalg.cholesky(self.cov)
        A = (D[keep] @ L) / se[keep][:, None]
        return float(np.quantile(max_abs_projection(_band_draws(L.shape[0]), A), level))

    # --- nadir and corridor ----------------------------------------------------------------
    def minimum(self) -> tuple[float, bool]:
        """Where the fitted curve is lowest in the data range, and whether that is inside it."""
        return spline_minimum(self.coef, self.knots, self.x.lo, self.x.hi)

    def bootstrap(self, n_boot: int, seed: int = 0, jobs=None, progress: bool = True) -> list:
        """(coef, cov) of ``n_boot`` bootstrap refits (computed once per n_boot and seed)."""
        if self.resample is None:
            raise InputError(
                f"this curve ({self.estimated_by or 'no model'}) has no refit function: "
                "bootstrap CIs are not available; use method='inversion'"
            )
        key = (n_boot, seed)
        if key not in self._draws:
            self._draws[key] = self.resample(n_boot, seed, jobs, progress)
        return self._draws[key]

    def nadir(
        self,
        method: str = "inversion",
        level: float = 0.95,
        *,
        n_boot: int = 200,
        seed: int = 0,
        jobs: int | None = None,
        progress: bool = True,
    ) -> Nadir:
        """The exposure with the lowest HR and its CI.

        Methods, with the coverage of their 95 % CIs measured by simulation
        (``benchmarks/nadir_coverage.py``: 1,000 cohorts per setting, a truth the 4-knot spline
        represents; Monte Carlo SE in brackets):

        - ``"inversion"`` (default): the set where the slope is not significantly different
          from zero, ``|f'(x)| / se(f'(x)) <= z``; it may be unbounded or split, and says so.
          Covers 0.957 (0.006) at ~900 events and 0.959 (0.006) at ~3,600; under a flat truth
          it gives an interior nadir with a finite CI in 0.4 % of cohorts.
        - ``"bootstrap"``: percentile interval of refitted nadirs (needs ``resample``).
        - ``"delta"``: ``se = sqrt(B'(x*) V B'(x*)) / |f''(x*)|``. Undercovers: 0.817 (0.012)
          at ~900 events, 0.893 (0.010) at ~3,600, because its SE is estimated from a poorly
          estimated f''; under a flat truth it reports a finite interior nadir in 22 % of cohorts.

        A nadir is ``supported`` only when the minimum is inside the data and its confidence
        set is bounded inside the data range.
        """
        _check_level(level)
        b, V, k = self.coef, self.cov, self.knots
        lo, hi = self.x.lo, self.x.hi
        x, interior = self.minimum()
        edge_note = (
            ""
            if interior
            else (
                f"no interior minimum: the lowest HR is at the {'lower' if x == lo else 'upper'} "
                "edge of the data"
            )
        )
        if method == "delta":
            low, up = nadir_delta(x, b, V, k, level) if interior else (np.nan, np.nan)
            bounded = bool(interior and lo <= low and up <= hi)
            return Nadir(x, low, up, method, level, interior, bounded, (), edge_note)
        if method == "inversion":
            runs = nadir_inversion(x, b, V, k, lo, hi, level)
            own = next((r for r in runs if r[0] <= x <= r[1]), [np.nan, np.nan])
            bounded = lo < own[0] and own[1] < hi
            notes = [edge_note] if edge_note else []
            if not bounded:
                notes.append("the confidence set reaches the edge of the data (unbounded)")
            if len(runs) > 1:
                notes.append(f"the confidence set is split into {len(runs)} intervals")
            return Nadir(
                x,
                own[0],
                own[1],
                method,
                level,
                interior,
                bool(bounded),
                tuple((float(a), float(c)) for a, c in runs),
                "; ".join(notes),
            )
        if method == "bootstrap":
            boots = self.bootstrap(n_boot, seed, jobs, progress)
            found = [spline_minimum(c, k, lo, hi) for c, _ in boots]
            xs = np.array([v for v, inner in found if inner])
            share = xs.size / max(len(found), 1)
            low, up = (
                np.quantile(xs, [(1 - level) / 2, (1 + level) / 2]) if xs.size else (np.nan,) * 2
            )
            note = f"{xs.size} of {n_boot} replicates with an interior minimum ({share:.0%})"
            return Nadir(
                x,
                float(low),
                float(up),
                method,
                level,
                interior,
                bool(interior and share >= level),
                (),
                "; ".join(filter(None, [edge_note, note])),
            )
        raise InputError(f"method={method!r}: use 'inversion', 'bootstrap' or 'delta'")

    def corridor(
        self,
        rule: str = "delta",
        delta: float = 0.1,
        level: float = 0.95,
        *,
        n_boot: int = 0,
        seed: int = 0,
        jobs: int | None = None,
        progress: bool = True,
    ) -> Corridor:
        """The low-risk corridor around the lowest point of the curve, by ``rule``:

        - ``"delta"``: where the HR versus the nadir is at most 1 + delta;
        - ``"ci"``: where the ``level`` CI of the HR versus the nadir includes 1.

        CIs of both ends: with ``n_boot`` > 0, bootstrap percentiles (nadir and corridor
        recomputed in every replicate); otherwise, for the ``delta`` rule, the delta method
        (se = sqrt(D V D') / |f'(end)|, D = B(end) - B(nadir); measured coverage of the ends
        0.93-0.95 by the independent study of issue 16); ends at the edge of the data get none.
        """
        if rule not in ("delta", "ci"):
            raise InputError(f"rule={rule!r}: use 'delta' or 'ci'")
        if rule == "delta" and not delta > 0:
            raise InputError(f"delta={delta}: must be > 0")
        _check_level(level)
        b, V, k = self.coef, self.cov, self.knots
        lo, hi = self.x.lo, self.x.hi
        x, _ = self.minimum()
        low, up, open_low, open_up = corridor_bounds(
            x, b, V, k, lo, hi, rule=rule, delta=delta, level=level
        )
        definition = corridor_definition(rule, delta, level, x, self.unit_suffix)
        ci_low = ci_up = None
        if n_boot:
            ends = []
            for c, v in self.bootstrap(n_boot, seed, jobs, progress):
                xb, _ = spline_minimum(c, k, lo, hi)
                ends.append(
                    corridor_bounds(xb, c, v, k, lo, hi, rule=rule, delta=delta, level=level)[:2]
                )
            q = [(1 - level) / 2, (1 + level) / 2]
            ends = np.array(ends)
            ci_low = tuple(map(float, np.quantile(ends[:, 0], q)))
            ci_up = tuple(map(float, np.quantile(ends[:, 1], q)))
        elif rule == "delta":
            if not open_low:
                ci_low = tuple(map(float, corridor_end_delta_ci(low, x, b, V, k, level)))
            if not open_up:
                ci_up = tuple(map(float, corridor_end_delta_ci(up, x, b, V, k, level)))
        return Corridor(low, up, rule, definition, x, open_low, open_up, ci_low, ci_up, n_boot)

    def end_slopes(self) -> dict:
        """Slopes of the log-HR at the 1st and 99th centiles and the Lind-Mehlum p-values."""
        return lind_mehlum(self.coef, self.cov, self.knots, self.x.p01, self.x.p99)


def contrast(L: np.ndarray, coef: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Estimates ``L coef`` and their standard errors ``sqrt(diag(L cov L'))``.

    >>> contrast(np.array([[1.0, 1.0]]), np.array([0.2, 0.3]), np.eye(2))
    (array([0.5]), array([1.41421356]))
    """
    est = L @ coef
    return est, np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", L, cov, L), 0.0))


def ratio_table(exposure, log_ratio, se, critical: float) -> pd.DataFrame:
    """A curve as every view shows it: exposure, log_hr, se, hr, lower, upper (the band is
    ``log_hr +- critical se`` on the log scale)."""
    return pd.DataFrame(
        {
            "exposure": exposure,
            "log_hr": log_ratio,
            "se": se,
            "hr": np.exp(log_ratio),
            "lower": np.exp(log_ratio - critical * se),
            "upper": np.exp(log_ratio + critical * se),
        }
    )


def _z(level: float) -> float:
    return float(ndtri(0.5 + level / 2))


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise InputError(f"level={level}: a confidence level must be between 0 and 1, e.g. 0.95")
