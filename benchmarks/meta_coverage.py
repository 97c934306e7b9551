"""Coverage of the pooled dose-response curve and of its nadir, by simulation with a known truth.

Each replicate draws ``studies`` cohorts: exposure (serum Mg, mmol/L) normal with a study-specific
mean (``--exposure skewed``: a gamma with skewness 1, same mean and SD), follow-up ``years``,
events Poisson with rate ``base * exp(f(x) + u_s (x - 0.85))``, where ``f`` is a U-shaped
restricted cubic spline (knots 0.72, 0.85, 0.98; nadir 0.862 mmol/L) and ``u_s ~ N(0, tau^2)`` a
study's own slope deviation (heterogeneity; mean 0, so the pooled curve's target is
``f(x) - f(0.85)``). Each cohort is summarised as a paper reports it: quintile categories, their
medians as doses, cases, person-time and crude rate ratios against the lowest quintile with their
SEs. The tables are pooled by two-stage REML (Greenland-Longnecker covariances, 3-knot spline with
the truth's knots, or with ``--data-knots`` at the doses' quantiles) under each category model
(``categories=``: "point", the curve at the median, as dosresmeta; "piecewise", the default,
the average risk over an exposure distribution fitted per study to the medians; "normal",
"lognormal") and each CI (``ci=``: "t", "z", "hksj"). Printed per
method: the coverage of the 95 % CI of the pooled curve (vs 0.85) at each grid point and by grid
region, the 95 % CI (test inversion) coverage of the true nadir, and per category model the bias
of the pooled log RR in SDs across replicates and the mean SE over that SD. Monte Carlo SE of a
coverage p: sqrt(p (1 - p) / reps) (for a region's mean, an upper bound).

Run: ``PYTHONPATH=. python benchmarks/meta_coverage.py`` (fast: 100 replicates, ~1 min) or
``--full`` (1,000 replicates, ~7 min); ``--reps``, ``--studies``, ``--n``, ``--tau``, ``--seed``,
``--categories point,piecewise,normal,lognormal``, ``--exposure normal|skewed``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from mgrisk.meta import dose_response_meta
from mgrisk.splines import rcs_basis

KNOTS = (0.72, 0.85, 0.98)
COEF = np.array([-4.3803, 4.9515])  # U-shape: nadir 0.862; RR 2.05 at 0.65, 1.57 at 1.05 mmol/L
REF = 0.85
GRID = np.linspace(0.70, 1.00, 13)
CIS = ("t", "z", "hksj")
#: grid regions: the open-ended lowest quintile, the middle, the highest quintile
REGIONS = {"0.700-0.775": (0.70, 0.78), "0.800-0.900": (0.79, 0.91), "0.925-1.000": (0.92, 1.01)}
SD = 0.08  # SD of the exposure within a study (mmol/L)


def truth(x) -> np.ndarray:
    return rcs_basis(np.atleast_1d(x), KNOTS) @ COEF


def true_nadir() -> float:
    fine = np.linspace(0.65, 1.05, 400_001)
    return float(fine[np.argmin(truth(fine))])


def exposure(rng, mu: float, n: int, kind: str) -> np.ndarray:
    """n exposures with mean mu and SD 0.08: normal, or a gamma with skewness 1 ("skewed")."""
    if kind == "normal":
        return rng.normal(mu, SD, n)
    shape = 4.0  # skewness 2 / sqrt(shape) = 1
    return mu + SD * (rng.gamma(shape, 1.0, n) - shape) / np.sqrt(shape)


def study_table(rng, label, n, years, base, tau, kind="normal") -> pd.DataFrame:
    mu = rng.normal(0.85, 0.03)
    x = exposure(rng, mu, n, kind)
    slope = rng.normal(0.0, tau)
    rate = base * np.exp(truth(x) - truth([mu]) + slope * (x - 0.85))
    events = rng.poisson(rate * years)
    cut = np.quantile(x, np.linspace(0, 1, 6))
    cat = np.clip(np.searchsorted(cut[1:-1], x, side="left"), 0, 4)
    d = np.bincount(cat, weights=events, minlength=5)
    pt = np.bincount(cat, minlength=5) * float(years)
    log_rr = np.log(d / pt) - np.log(d[0] / pt[0])
    se = np.sqrt(1 / d + 1 / d[0])
    se[0] = np.nan
    dose = np.array([np.median(x[cat == k]) for k in range(5)])
    return pd.DataFrame(
        {
            "study": label,
            "dose": dose,
            "log_rr": log_rr,
            "se": se,
            "cases": d,
            "n": pt,
            "type": "ir",
        }
    )


def replicate(seed_seq, args, nadir0) -> dict:
    """One replicate: per category model, the pooled log RR on the grid, and per CI method the
    grid points covered and whether the nadir's CI covers the true nadir."""
    rng = np.random.default_rng(seed_seq)
    tables = [
        study_table(rng, s, args.n, 10.0, 0.01, args.tau, args.exposure)
        for s in range(args.studies)
    ]
    data = pd.concat(tables, ignore_index=True)
    knots = 3 if args.data_knots else (args.fit_knots or list(KNOTS))
    target = truth(GRID) - truth([REF])
    out = {}
    for model in args.categories:
        fit = dose_response_meta(
            data,
            study="study",
            dose="dose",
            log_rr="log_rr",
            se="se",
            type="type",
            cases="cases",
            n="n",
            knots=knots,
            method="reml",
            categories=model,
        )
        c = fit.curve(GRID, ref=REF)
        out[model] = {"log_rr": c.log_rr.to_numpy(), "se": c.se.to_numpy()}
        for ci in CIS:
            other = fit.with_ci(ci)
            c = other.curve(GRID, ref=REF)
            covered = (np.log(c.lower) <= target) & (target <= np.log(c.upper))
            nad = other.curve.nadir()
            nadir_cov = bool(np.isfinite(nad.lower) and nad.lower <= nadir0 <= nad.upper)
            out[(model, ci)] = (covered, nadir_cov)
    return out


def _p(p: float, reps: int) -> str:
    return f"{p:.3f} ({np.sqrt(p * (1 - p) / reps):.3f})"


def report(out: list, args, nadir0: float, seconds: float) -> None:
    reps = len(out)
    target = truth(GRID) - truth([REF])
    keep = GRID != REF
    print(
        f"{reps} replicates x {args.studies} studies x {args.n} persons, tau {args.tau}, "
        f"exposure {args.exposure}, knots "
        f"{'data quantiles' if args.data_knots else args.fit_knots or 'truth'}; "
        f"{seconds:.0f} s; true nadir {nadir0:.4f} mmol/L"
    )
    print("\ncoverage of the 95 % CI of log RR vs 0.85 mmol/L by grid region, MC SE in brackets;")
    print("nadir: 95 % CI (test inversion) covering the true nadir")
    head = "".join(f"{r:>16s}" for r in REGIONS)
    print(f"{'categories':>10s} {'ci':>5s}{head}{'min point':>12s}{'nadir':>16s}")
    for model in args.categories:
        for ci in CIS:
            cov = np.array([o[(model, ci)][0] for o in out])
            p = cov.mean(axis=0)
            cells = ""
            for lo, hi in REGIONS.values():
                sel = keep & (GRID >= lo) & (GRID <= hi)
                cells += f"{_p(p[sel].mean(), reps):>16s}"
            q = np.mean([o[(model, ci)][1] for o in out])
            print(f"{model:>10s} {ci:>5s}{cells}{p[keep].min():>12.3f}{_p(q, reps):>16s}")
    print("\nper grid point (mmol/L):")
    print(f"{'':>16s}" + "".join(f"{g:>7.3f}" for g in GRID[keep]))
    for model in args.categories:
        est = np.array([o[model]["log_rr"] for o in out])
        se = np.array([o[model]["se"] for o in out])
        sd = est.std(axis=0, ddof=1)
        bias = (est.mean(axis=0) - target)[keep] / sd[keep]
        print(f"{model + ' bias/SD':>16s}" + "".join(f"{v:>+7.2f}" for v in bias))
        ratio = se.mean(axis=0)[keep] / sd[keep]
        print(f"{model + ' SE/SD':>16s}" + "".join(f"{v:>7.3f}" for v in ratio))
        for ci in CIS:
            p = np.mean([o[(model, ci)][0] for o in out], axis=0)[keep]
            print(f"{model + ' ' + ci:>16s}" + "".join(f"{v:>7.3f}" for v in p))
    print(f"(MC SE of a point's coverage near 0.95: {np.sqrt(0.95 * 0.05 / reps):.3f})")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--full", action="store_true", help="1,000 replicates")
    ap.add_argument("--studies", type=int, default=10)
    ap.add_argument("--n", type=int, default=4000, help="persons per study")
    ap.add_argument("--tau", type=float, default=1.0, help="SD of study slopes (per mmol/L)")
    ap.add_argument("--data-knots", action="store_true", help="knots at the doses' quantiles")
    ap.add_argument("--fit-knots", help="fixed knots of the fitted spline, e.g. 0.75,0.85,0.95")
    ap.add_argument(
        "--categories", default="point,piecewise", help="category models, comma-separated"
    )
    ap.add_argument("--exposure", choices=["normal", "skewed"], default="normal")
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args(argv)
    args.categories = [c.strip() for c in args.categories.split(",") if c.strip()]
    if args.fit_knots:
        args.fit_knots = [float(v) for v in args.fit_knots.split(",")]
    reps = 1000 if args.full else args.reps
    nadir0 = true_nadir()
    seeds = np.random.SeedSequence(args.seed).spawn(reps)
    t0 = time.perf_counter()
    out = [replicate(s, args, nadir0) for s in seeds]
    report(out, args, nadir0, time.perf_counter() - t0)


if __name__ == "__main__":
    main()
