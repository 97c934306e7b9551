"""Nadir and low-risk corridor of a fitted spline log-HR curve f(x) = B(x) beta.

The nadir is found exactly: f' is a quadratic between knots, so its roots are solved piece by
piece over the data range. Confidence intervals: delta method
(``se = sqrt(B'(x*) V B'(x*)) / |f''(x*)|``), test inversion (the set where
``|f'(x)| / se(f'(x)) <= z``, which may be unbounded or split) and bootstrap percentiles. There is
no single published definition of a risk corridor, so two rules are offered and the rule used is
always stated: ``delta`` (HR vs the nadir <= 1 + delta) and ``ci`` (the CI of the HR vs the
nadir includes 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.special import ndtri

from .splines import rcs_basis, rcs_restate

__all__ = [
    "Corridor",
    "Nadir",
    "corridor_bounds",
    "corridor_end_delta_ci",
    "nadir_delta",
    "nadir_inversion",
    "spline_minimum",
]

#: Grid points used to bracket roots of the inversion and corridor conditions.
GRID_POINTS = 2001


@dataclass(frozen=True)
class Nadir:
    """The exposure with the lowest HR and its confidence interval (exposure units)."""

    estimate: float
    lower: float
    upper: float
    method: str
    level: float
    interior: bool  # False: the lowest HR is at an edge of the data (no interior minimum)
    bounded: bool  # False: the confidence set reaches an edge of the data range
    intervals: tuple[tuple[float, float], ...] = ()  # inversion: the confidence set
    note: str = ""

    @property
    def split(self) -> bool:
        return len(self.intervals) > 1


@dataclass(frozen=True)
class Corridor:
    """A low-risk corridor: the exposure range [lower, upper] around the nadir."""

    lower: float
    upper: float
    rule: str
    definition: str
    nadir: float
    open_lower: bool  # True: the corridor reaches the lowest exposure in the data
    open_upper: bool
    lower_ci: tuple[float, float] | None = None  # CI of each end: bootstrap percentile, or
    upper_ci: tuple[float, float] | None = None  # delta method (rule "delta", no bootstrap)
    n_boot: int = 0

    @property
    def ci_method(self) -> str:
        return f"bootstrap ({self.n_boot} replicates)" if self.n_boot else "delta method"


def _z(level: float) -> float:
    return float(ndtri(0.5 + level / 2))


def _quadratic_roots(a: float, b: float, c: float) -> list[float]:
    """Real roots of a x^2 + b x + c (scaled, and stable against cancellation)."""
    scale = max(abs(a), abs(b), abs(c))
    if scale == 0:
        return []
    a, b, c = a / scale, b / scale, c / scale
    if abs(a) < 1e-14:
        return [-c / b] if b else []
    disc = b * b - 4 * a * c
    if disc < 0:
        return []
    q = -0.5 * (b + np.copysign(np.sqrt(disc), b))
    return [q / a] + ([c / q] if q else [])


def spline_minimum(coef, knots, lo: float, hi: float) -> tuple[float, bool]:
    """Where f(x) = rcs_basis(x, knots) @ coef is lowest on [lo, hi]; and whether inside.

    Returns (x, interior): interior is False when the minimum is at lo or hi.
    """
    pieces = rcs_restate(coef, knots).pieces
    candidates = [lo, hi]
    for row in pieces.itertuples():
        a, b = max(row.lower, lo), min(row.upper, hi)
        if a >= b:
            continue
        # f'(x) = c1 + 2 c2 x + 3 c3 x^2 on this piece
        for r in _quadratic_roots(3 * row.c3, 2 * row.c2, row.c1):
            if a <= r <= b and 2 * row.c2 + 6 * row.c3 * r > 0:
                candidates.append(float(r))
    candidates = np.array(candidates)
    values = rcs_basis(candidates, knots) @ np.asarray(coef, dtype=float)
    best = int(np.argmin(values))
    x = float(candidates[best])
    return x, best >= 2 and lo < x < hi


def nadir_delta(x: float, coef, cov, knots, level: float) -> tuple[float, float]:
    """Delta-method CI of the nadir: se = sqrt(B'(x) V B'(x)) / |f''(x)|."""
    d1 = rcs_basis([x], knots, deriv=1)[0]
    curvature = float(rcs_basis([x], knots, deriv=2)[0] @ coef)
    se = np.sqrt(d1 @ cov @ d1) / abs(curvature) if curvature else np.inf
    return x - _z(level) * se, x + _z(level) * se


def _intervals(inside: np.ndarray, grid: np.ndarray, boundary) -> list[list[float]]:
    """Connected runs of ``inside`` on the grid, ends refined by root-finding ``boundary``."""
    runs: list[list[float]] = []
    for i, flag in enumerate(inside):
        if flag and (i == 0 or not inside[i - 1]):
            start = grid[0] if i == 0 else optimize.brentq(boundary, grid[i - 1], grid[i])
            runs.append([start, grid[-1]])
        if flag and i + 1 < inside.size and not inside[i + 1]:
            runs[-1][1] = optimize.brentq(boundary, grid[i], grid[i + 1])
    return runs


def nadir_inversion(x: float, coef, cov, knots, lo: float, hi: float, level: float):
    """Test-inversion confidence set: {x : |f'(x)| / se(f'(x)) <= z} on [lo, hi].

    Returns the list of intervals (one when the set is connected).
    """
    z = _z(level)

    def excess(v):  # > 0 outside the set
        d1 = rcs_basis(np.atleast_1d(v), knots, deriv=1)
        t2 = (d1 @ coef) ** 2 / np.einsum("ij,jk,ik->i", d1, cov, d1)
        return t2 - z**2 if np.ndim(v) else float(t2[0] - z**2)

    grid = np.union1d(np.linspace(lo, hi, GRID_POINTS), [x])
    return _intervals(excess(grid) <= 0, grid, excess)


def corridor_bounds(
    x_nadir: float,
    coef,
    cov,
    knots,
    lo: float,
    hi: float,
    *,
    rule: str,
    delta: float,
    level: float,
) -> tuple[float, float, bool, bool]:
    """Ends of the corridor around the nadir: (lower, upper, open_lower, open_upper)."""
    coef = np.asarray(coef, dtype=float)
    b0 = rcs_basis([x_nadir], knots)[0]
    z = _z(level)

    def excess(v):  # <= 0 inside the corridor
        D = rcs_basis(np.atleast_1d(v), knots) - b0
        log_hr = D @ coef
        if rule == "delta":
            out = log_hr - np.log1p(delta)
        else:
            out = log_hr - z * np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", D, cov, D), 0))
        return out if np.ndim(v) else float(out[0])

    grid = np.union1d(np.linspace(lo, hi, GRID_POINTS), [x_nadir])
    inside = excess(grid) <= 1e-12
    at = int(np.searchsorted(grid, x_nadir))
    inside[at] = True
    run = next(r for r in _intervals(inside, grid, excess) if r[0] <= x_nadir <= r[1])
    return run[0], run[1], run[0] <= lo, run[1] >= hi


def corridor_end_delta_ci(end: float, x_nadir: float, coef, cov, knots, level: float):
    """Delta-method CI of a corridor end where f(end) - f(x*) = log(1 + delta): as f'(x*) = 0,
    se = sqrt(D V D') / |f'(end)| with D = B(end) - B(x*)."""
    D = rcs_basis([end], knots)[0] - rcs_basis([x_nadir], knots)[0]
    slope = float(rcs_basis([end], knots, deriv=1)[0] @ coef)
    se = np.sqrt(D @ cov @ D) / abs(slope) if slope else np.inf
    return end - _z(level) * se, end + _z(level) * se


def corridor_definition(rule: str, delta: float, level: float, nadir: float, unit: str) -> str:
    """The definition printed with every corridor."""
    where = f"the nadir ({nadir:.3f}{unit})"
    if rule == "delta":
        return f"exposure range where the HR versus {where} is at most {1 + delta:.2f} (1 + delta)"
    return f"exposure range where the {level:.0%} CI of the HR versus {where} includes 1"
