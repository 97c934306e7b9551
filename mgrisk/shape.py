"""Shape of a dose-response curve: Lind-Mehlum and two-lines tests, and a verdict.

Decision rule (``alpha`` the level of every test; slopes are of the spline log-HR at the 1st and
99th percentiles of the exposure, t = slope / se):

1. ``flat`` when the overall test of the exposure (all spline terms) has p >= alpha.
2. ``U`` when the Lind-Mehlum intersection-union test of a negative low-end and a positive
   high-end slope has p < alpha *and* the two-lines test agrees (first line's slope negative and
   second line's positive, each with two-sided p < alpha); ``inverted-U`` symmetrically.
3. Otherwise by which end slopes are significant (one-sided, level alpha):
   only the high end rising -> ``J`` when the curve has an interior minimum, else ``increasing``;
   only the low end falling -> ``reverse-J`` when it has an interior minimum, else ``decreasing``;
   both (the two-lines test disagreed) -> ``J`` or ``reverse-J`` by the larger |t|;
   rising (falling) at both ends, or at one end only -> ``increasing`` (``decreasing``);
   neither end significant -> the sign of the linear model's slope (fitted only then).

The two-lines test (Simonsohn 2018) is adapted to the Cox model: log h = b1 (x - xc)_- +
b2 (x - xc)_+ + b3 [x >= xc] + adjustment, with the breakpoint xc chosen by the "Robin Hood"
rule: the flat region is where the fitted curve is within one standard error of its extreme; a
first fit at the median exposure of that region gives z1, z2, and xc is the z2/(z1 + z2) quantile
of the exposure values in the region. Its type I error is measured by simulation (validation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from .nadir import corridor_bounds, spline_minimum
from .splines import rcs_basis

__all__ = ["ShapeResult", "lind_mehlum", "shape_verdict", "two_lines"]

#: z = 1: the "within one standard error" of the Robin Hood flat region.
ONE_SE_LEVEL = float(2 * ndtr(1.0) - 1)


@dataclass(frozen=True)
class ShapeResult:
    """The verdict and the evidence behind it."""

    verdict: str
    alpha: float
    association_p: float
    lind_mehlum: dict
    two_lines: dict
    nadir: float
    nadir_interior: bool

    def __str__(self) -> str:
        lm, tl = self.lind_mehlum, self.two_lines
        lines = [
            f"shape: {self.verdict} (alpha {self.alpha}); association p = {self.association_p:.3g}",
            f"  Lind-Mehlum: slopes {lm['slope_low']:+.3g} at {lm['x_low']:.3g} and "
            f"{lm['slope_high']:+.3g} at {lm['x_high']:.3g}; p(U) = {lm['p_u']:.3g}, "
            f"p(inverted U) = {lm['p_inverted_u']:.3g}",
        ]
        if "p_low" in tl:
            lines.append(
                f"  two lines at {tl['breakpoint']:.3g}: slopes {tl['slope_low']:+.3g} "
                f"(p {tl['p_low']:.3g}) and {tl['slope_high']:+.3g} (p {tl['p_high']:.3g})"
            )
        where = "" if self.nadir_interior else " (at the edge of the data)"
        lines.append(f"  lowest HR at {self.nadir:.4g}{where}")
        return "\n".join(lines)


def lind_mehlum(coef, cov, knots, x_low: float, x_high: float) -> dict:
    """Slopes of the spline at both ends with the intersection-union p-values for U / inverted U."""
    d1 = rcs_basis([x_low, x_high], knots, deriv=1)
    slope = d1 @ coef
    se = np.sqrt(np.einsum("ij,jk,ik->i", d1, cov, d1))
    t = slope / se
    return {
        "x_low": float(x_low),
        "x_high": float(x_high),
        "slope_low": float(slope[0]),
        "se_low": float(se[0]),
        "slope_high": float(slope[1]),
        "se_high": float(se[1]),
        "p_u": float(max(ndtr(t[0]), ndtr(-t[1]))),
        "p_inverted_u": float(max(ndtr(-t[0]), ndtr(t[1]))),
    }


def two_lines(
    x: np.ndarray, coef, cov, knots, fit_lines: Callable[[np.ndarray], tuple], *, inverted: bool
) -> dict:
    """Two-lines test with the Robin Hood breakpoint.

    ``fit_lines(columns)`` fits the Cox model with the given exposure columns (n x 3) plus the
    adjustment and returns (coef, se) of those three columns.
    """
    sign = -1.0 if inverted else 1.0
    lo, hi = float(np.min(x)), float(np.max(x))
    extreme, _ = spline_minimum(sign * np.asarray(coef), knots, lo, hi)
    flat_lo, flat_hi, _, _ = corridor_bounds(
        extreme,
        sign * np.asarray(coef),
        cov,
        knots,
        lo,
        hi,
        rule="ci",
        delta=0.0,
        level=ONE_SE_LEVEL,
    )
    region = np.sort(x[(x >= flat_lo) & (x <= flat_hi)])
    if region.size == 0:
        region = np.array([extreme])

    edge_lo, edge_hi = np.quantile(x, [0.05, 0.95])  # each line keeps >= 5 % of the data

    def at(xc: float):
        below = x < min(max(xc, edge_lo), edge_hi)
        xc = min(max(xc, edge_lo), edge_hi)
        cols = np.column_stack(
            [np.where(below, x - xc, 0.0), np.where(below, 0.0, x - xc), (~below).astype(float)]
        )
        b, se = fit_lines(cols)
        return b[:2], se[:2]

    first = at(float(np.median(region)))
    z1, z2 = np.abs(first[0] / first[1])
    xc = float(np.quantile(region, z2 / (z1 + z2))) if z1 + z2 > 0 else float(np.median(region))
    xc = float(np.clip(xc, edge_lo, edge_hi))
    b, se = at(xc)
    p = 2 * ndtr(-np.abs(b / se))
    return {
        "breakpoint": xc,
        "flat_region": (float(flat_lo), float(flat_hi)),
        "slope_low": float(b[0]),
        "se_low": float(se[0]),
        "p_low": float(p[0]),
        "slope_high": float(b[1]),
        "se_high": float(se[1]),
        "p_high": float(p[1]),
    }


def shape_verdict(
    association_p: float,
    lm: dict,
    tl_u: dict,
    tl_inv: dict,
    nadir_interior: bool,
    linear_slope: Callable[[], float],
    alpha: float,
) -> str:
    """Apply the module's decision rule (``linear_slope()`` fits the linear model)."""
    if association_p >= alpha:
        return "flat"

    def opposite(tl, first_sign):
        return (
            "p_low" in tl
            and tl["p_low"] < alpha
            and tl["p_high"] < alpha
            and np.sign(tl["slope_low"]) == first_sign
            and np.sign(tl["slope_high"]) == -first_sign
        )

    if lm["p_u"] < alpha and opposite(tl_u, -1):
        return "U"
    if lm["p_inverted_u"] < alpha and opposite(tl_inv, 1):
        return "inverted-U"
    crit = ndtri(1 - alpha)
    t_low = lm["slope_low"] / lm["se_low"]
    t_high = lm["slope_high"] / lm["se_high"]
    low_falls, high_rises = t_low < -crit, t_high > crit
    if high_rises and low_falls:
        return "J" if abs(t_high) >= abs(t_low) else "reverse-J"
    if high_rises and not t_low > crit:
        return "J" if nadir_interior and lm["slope_low"] < 0 else "increasing"
    if low_falls and not t_high < -crit:
        return "reverse-J" if nadir_interior and lm["slope_high"] > 0 else "decreasing"
    if t_low > crit or high_rises:
        return "increasing"
    if t_low < -crit or t_high < -crit:
        return "decreasing"
    return "increasing" if linear_slope() > 0 else "decreasing"
