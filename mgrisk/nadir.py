"""Nadir and low-risk corridor of a fitted spline log-HR curve f(x) = B(x) beta.

Everything is found exactly: between knots f is a cubic polynomial, so the nadir is a root of a
quadratic, and the ends of the inversion set and of the corridors are real roots of polynomials
of degree 3 to 6, solved piece by piece over the data range. Confidence intervals: delta method
(``se = sqrt(B'(x*) V B'(x*)) / |f''(x*)|``), test inversion (the set where
``|f'(x)| / se(f'(x)) <= z``, which may be unbounded or split) and bootstrap percentiles. There is
no single published definition of a risk corridor, so two rules are offered and the rule used is
always stated: ``delta`` (HR vs the nadir <= 1 + delta) and ``ci`` (the CI of the HR vs the
nadir includes 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial import polynomial
from scipy.special import ndtri

from .splines import rcs_basis, rcs_pieces

__all__ = [
    "Corridor",
    "Nadir",
    "corridor_bounds",
    "corridor_end_delta_ci",
    "nadir_delta",
    "nadir_inversion",
    "spline_minimum",
]


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
    # relative to the largest, coefficients below 1e-14 are rounding noise: zero them (a
    # subnormal b would otherwise send -c / b to infinity)
    a, b, c = (v / scale if abs(v / scale) >= 1e-14 else 0.0 for v in (a, b, c))
    if a == 0:
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
    coef = np.asarray(coef, dtype=float)
    edges, P = rcs_pieces(knots, lo, hi)
    candidates = [lo, hi]
    for a, w, (_, c1, c2, c3) in zip(edges, np.diff(edges), coef @ P, strict=False):
        # f = c0 + c1 s + c2 s^2 + c3 s^3 in s = (x - a) / w: minima where f' = 0, f'' > 0
        for r in _quadratic_roots(3 * c3, 2 * c2, c1):
            if 0 <= r <= 1 and 2 * c2 + 6 * c3 * r > 0:
                candidates.append(float(a + w * r))
    candidates = np.array(candidates)
    values = rcs_basis(candidates, knots) @ coef
    best = int(np.argmin(values))
    x = float(candidates[best])
    return x, best >= 2 and lo < x < hi


def nadir_delta(x: float, coef, cov, knots, level: float) -> tuple[float, float]:
    """Delta-method CI of the nadir: se = sqrt(B'(x) V B'(x)) / |f''(x)|."""
    d1 = rcs_basis([x], knots, deriv=1)[0]
    curvature = float(rcs_basis([x], knots, deriv=2)[0] @ coef)
    se = np.sqrt(d1 @ cov @ d1) / abs(curvature) if curvature else np.inf
    return x - _z(level) * se, x + _z(level) * se


def _antidiagonal_sums(outer: np.ndarray) -> np.ndarray:
    """(m, p, q) products of coefficients -> (m, p + q - 1) coefficients of the product."""
    out = np.zeros((outer.shape[0], outer.shape[1] + outer.shape[2] - 1))
    for d in range(outer.shape[1]):
        out[:, d : d + outer.shape[2]] += outer[:, d]
    return out


def _square(c: np.ndarray) -> np.ndarray:
    """Squares of polynomials piece by piece: (m, d) -> (m, 2d - 1)."""
    return _antidiagonal_sums(c[:, :, None] * c[:, None, :])


def _quadratic_form(P: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Polynomials of B(x) V B(x)' piece by piece, from basis polynomials P (m, k - 1, d)."""
    return _antidiagonal_sums(np.einsum("ijd,jl,ile->ide", P, cov, P))


def _real_roots(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Real roots in (0, 1) of each row's polynomial (coefficients lowest degree first), by the
    eigenvalues of companion matrices, one batch per degree: (row of each root, root).
    Near-double roots (tiny imaginary parts) are kept: an extra candidate end is harmless."""
    polys = np.where(np.abs(polys) > 1e-13 * np.abs(polys).max(axis=1, keepdims=True), polys, 0)
    degree = np.where(polys.any(axis=1), polys.shape[1] - 1 - np.argmax(polys[:, ::-1] != 0, 1), 0)
    rows, roots = [np.empty(0, dtype=int)], [np.empty(0)]
    for d in np.unique(degree[degree > 0]):
        of_d = np.flatnonzero(degree == d)
        companion = np.zeros((of_d.size, d, d))
        companion[:, np.arange(1, d), np.arange(d - 1)] = 1.0
        companion[:, :, -1] = -polys[of_d, :d] / polys[of_d, d, None]
        r = np.linalg.eigvals(companion)
        keep = (np.abs(r.imag) <= 1e-7) & (r.real > 0) & (r.real < 1)
        rows.append(np.repeat(of_d, d).reshape(r.shape)[keep])
        roots.append(r.real[keep])
    return np.concatenate(rows), np.concatenate(roots)


def _runs(edges: np.ndarray, polys: np.ndarray, excess, extra=()) -> list[list[float]]:
    """The intervals of {x in [edges[0], edges[-1]] : excess(x) <= 0}, exactly.

    Their ends are among the edges, ``extra`` and the real roots of ``polys[i]``, a polynomial
    in s on piece i that vanishes where ``excess`` changes sign; ``excess`` (vectorised) then
    classifies each stretch between consecutive candidate ends by its midpoint.
    """
    fixed = np.concatenate([edges, extra])
    piece, s = _real_roots(polys)
    roots = edges[piece] + np.diff(edges)[piece] * s
    # a root next to a fixed end is that end (e.g. the double root at the nadir)
    near = np.abs(roots[:, None] - fixed).min(axis=1) <= 1e-9 * (edges[-1] - edges[0])
    ends = np.unique(np.concatenate([fixed, roots[~near]]))
    runs: list[list[float]] = []
    for i in np.flatnonzero(excess((ends[:-1] + ends[1:]) / 2) <= 0):
        if runs and runs[-1][1] == ends[i]:
            runs[-1][1] = float(ends[i + 1])
        else:
            runs.append([float(ends[i]), float(ends[i + 1])])
    return runs


def nadir_inversion(x: float, coef, cov, knots, lo: float, hi: float, level: float):
    """Test-inversion confidence set: {x : |f'(x)| / se(f'(x)) <= z} on [lo, hi].

    Returns the list of intervals (one when the set is connected).
    """
    coef, cov, z = np.asarray(coef, dtype=float), np.asarray(cov, dtype=float), _z(level)

    def excess(v):  # > 0 outside the set
        d1 = rcs_basis(v, knots, deriv=1)
        return (d1 @ coef) ** 2 - z**2 * np.einsum("ij,jk,ik->i", d1, cov, d1)

    edges, P = rcs_pieces(knots, lo, hi)
    d1 = polynomial.polyder(P, axis=2) / np.diff(edges)[:, None, None]
    slope = coef @ d1
    return _runs(edges, _square(slope) - z**2 * _quadratic_form(d1, cov), excess, [x])


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
    coef, cov, z = np.asarray(coef, dtype=float), np.asarray(cov, dtype=float), _z(level)
    b0 = rcs_basis([x_nadir], knots)[0]

    def excess(v):  # <= 0 inside the corridor
        D = rcs_basis(v, knots) - b0
        if rule == "delta":
            return D @ coef - np.log1p(delta)
        return D @ coef - z * np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", D, cov, D), 0))

    edges, D = rcs_pieces(knots, lo, hi)
    D[:, :, 0] -= b0  # B(x) - B(x*)
    log_hr = coef @ D
    if rule == "delta":
        log_hr[:, 0] -= np.log1p(delta)
        polys = log_hr
    else:  # the ends solve log_hr^2 = z^2 var(log_hr)
        polys = _square(log_hr) - z**2 * _quadratic_form(D, cov)
    runs = _runs(edges, polys, excess, [x_nadir])
    run = next((r for r in runs if r[0] <= x_nadir <= r[1]), [x_nadir, x_nadir])
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
