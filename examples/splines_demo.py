"""Restricted cubic splines on a simulated serum Mg sample: knots, basis and restated curve.

Run: python examples/splines_demo.py
"""

import numpy as np

from mgrisk import rcs_basis, rcs_knots, rcs_restate

rng = np.random.default_rng(2017)
mg = rng.normal(0.84, 0.065, 9569)  # serum Mg, mmol/L (Rotterdam-like; see shared DOMAIN.md)

for k in (3, 4, 5):
    print(f"{k} knots (mmol/L):", np.round(rcs_knots(mg, k), 4))

knots = rcs_knots(mg, 4)
# A U-shaped log-HR with its lowest point near 0.84 mmol/L, fitted by least squares on the basis.
grid = np.linspace(np.quantile(mg, 0.01), np.quantile(mg, 0.99), 9)
truth = 30.0 * (mg - 0.84) ** 2
coef, *_ = np.linalg.lstsq(rcs_basis(mg, knots), truth - truth.mean(), rcond=None)
fit = rcs_basis(grid, knots) @ coef
print("\nlog-HR of a quadratic truth approximated by rcs(mg, 4), relative to 0.84 mmol/L:")
ref = rcs_basis([0.84], knots) @ coef
for g, f in zip(grid, fit - ref, strict=True):
    print(f"  mg = {g:.3f}  log HR = {f:+.4f}  (truth {30.0 * (g - 0.84) ** 2:+.4f})")
print("\nThe fitted spline restated as in Hmisc::rcspline.restate:\n ", rcs_restate(coef, knots))
