"""Coverage of the nadir's 95 % CI (delta method, test inversion) against a known truth.

The truth is one the 4-knot restricted cubic spline represents: the Rotterdam scenario's curve
projected (least squares weighted by the exposure's density) onto the 4-knot spline with knots
at the exposure's population quantiles (.05 .35 .65 .95 of normal(0.84, 0.065)), simulated as a
``points`` effect on a 0.0025 mmol/L grid (interpolation error below 1e-4 on the log-HR scale).
Each replicate fits ``rcs(mg, 4)`` with those same knots (``--knots sample`` uses the sample's
quantiles instead, as ``knots=4`` does) adjusted for the scenario's covariates, with age as the
time scale, and records whether each CI contains the true nadir (an edge minimum or a missing CI
counts as not covering). Under the flat truth (``synthetic/null.toml``) it records how often each
method reports an interior nadir with a finite (bounded) CI. Monte Carlo SE: sqrt(p (1 - p) / R).

Run: python benchmarks/nadir_coverage.py            (fast: 100 replicates per setting)
     python benchmarks/nadir_coverage.py --reps 1000 --jobs 2
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from functools import partial

import numpy as np
from scipy.stats import norm

from mgrisk import fit_dose_response, load_scenario, simulate_cohort
from mgrisk._pool import run_chunks
from mgrisk.errors import ConvergenceError, InputError
from mgrisk.nadir import spline_minimum
from mgrisk.scenario import Effect
from mgrisk.splines import rcs_basis
from mgrisk.validate import replicate_seed

#: People per cohort giving about 900 and about 3,600 dementia events: with the spline truth
#: (Rotterdam hazards) and with the flat truth (null.toml has a lower baseline hazard).
SIZES = {"~900 events": 10_500, "~3,600 events": 42_000}
NULL_SIZES = {"~900 events": 26_800, "~3,600 events": 107_000}
#: Quantiles of the default 4 knots (rms / Hmisc).
KNOT_QUANTILES = (0.05, 0.35, 0.65, 0.95)
GRID_STEP = 0.0025
CHUNK = 10


def spline_truth(name: str = "rotterdam"):
    """The scenario with its effect replaced by its 4-knot spline projection; the knots, the
    spline coefficients and the true nadir."""
    s = load_scenario(name)
    knots = norm.ppf(KNOT_QUANTILES, s.exposure_mean, s.exposure_sd)
    x = np.linspace(s.exposure_min, s.exposure_max, 20_001)
    w = np.sqrt(norm.pdf(x, s.exposure_mean, s.exposure_sd))
    design = np.column_stack([np.ones_like(x), rcs_basis(x, knots)])
    beta = np.linalg.lstsq(design * w[:, None], s.effect(x) * w, rcond=None)[0][1:]
    nadir, interior = spline_minimum(beta, knots, s.exposure_min, s.exposure_max)
    assert interior
    points = np.arange(s.exposure_min, s.exposure_max + GRID_STEP / 2, GRID_STEP)
    log_hr = (rcs_basis(points, knots) - rcs_basis([nadir], knots)) @ beta
    effect = Effect(shape="points", x=tuple(points), log_hr=tuple(log_hr))
    return dataclasses.replace(s, effect=effect), knots, beta, nadir


def _one(s, n, knots, seed, i) -> dict:
    cohort = simulate_cohort(s, n=n, seed=replicate_seed(seed, i))
    fit = fit_dose_response(
        cohort,
        s.exposure,
        "exit",
        "event",
        entry="entry",
        adjust=s.adjust_formula(),
        knots=list(knots) if knots is not None else 4,
    )
    out = {"events": fit.n_events}
    for method in ("delta", "inversion"):
        nd = fit.nadir(method)
        out[method] = {
            "estimate": nd.estimate,
            "interior": nd.interior,
            "lower": nd.lower,
            "upper": nd.upper,
            "bounded": nd.bounded,
            "intervals": [list(v) for v in nd.intervals] or [[nd.lower, nd.upper]],
        }
    return out


def _chunk(s, n, knots, seed, indices):
    rows = []
    for i in indices:
        try:
            rows.append(_one(s, n, knots, seed, i))
        except (ConvergenceError, InputError) as exc:
            rows.append({"error": str(exc)})
    return indices, rows


def run(s, n, knots, reps, seed, jobs) -> list[dict]:
    chunks = [range(k, min(reps, k + CHUNK)) for k in range(0, reps, CHUNK)]
    rows: list = [None] * reps
    for indices, out in run_chunks(partial(_chunk, s, n, knots, seed), chunks, jobs):
        rows[indices.start : indices.stop] = out
    return rows


def _rate(hits: list[bool]) -> dict:
    r = len(hits)
    p = float(np.mean(hits)) if r else math.nan
    return {"p": p, "mc_se": math.sqrt(p * (1 - p) / r) if r else math.nan, "reps": r}


def covered(rec: dict, truth: float) -> bool:
    """The truth lies in the reported CI (for inversion: in the confidence set, all its parts)."""
    if not rec["interior"]:
        return False
    return any(np.isfinite(lo) and lo <= truth <= hi for lo, hi in rec["intervals"])


def finite_interior(rec: dict) -> bool:
    """An interior nadir with a CI bounded inside the data range."""
    finite = np.isfinite(rec["lower"]) and np.isfinite(rec["upper"])
    return bool(rec["interior"] and finite and rec["bounded"])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100, help="replicates per setting")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--knots", choices=["population", "sample"], default="population")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    s, knots, _, truth = spline_truth()
    fit_knots = knots if args.knots == "population" else None
    null = load_scenario("null")
    result = {
        "settings": {
            "truth": "rotterdam curve projected on rcs(mg, 4), knots at population quantiles",
            "knots_true": [round(float(k), 5) for k in knots],
            "fit_knots": args.knots,
            "true_nadir": truth,
            "reps": args.reps,
            "seed": args.seed,
            "level": 0.95,
        },
        "spline_truth": {},
        "flat_truth": {},
    }
    start = time.perf_counter()
    for label, n in SIZES.items():
        rows = [
            r for r in run(s, n, fit_knots, args.reps, args.seed, args.jobs) if "error" not in r
        ]
        result["spline_truth"][label] = {
            "n": n,
            "mean_events": float(np.mean([r["events"] for r in rows])),
            "failed": args.reps - len(rows),
            **{m: _rate([covered(r[m], truth) for r in rows]) for m in ("delta", "inversion")},
        }
        print(label, json.dumps(result["spline_truth"][label]), flush=True)
    for label, n in NULL_SIZES.items():
        rows = run(null, n, fit_knots, args.reps, args.seed, args.jobs)
        rows = [r for r in rows if "error" not in r]
        result["flat_truth"][label] = {
            "n": n,
            "mean_events": float(np.mean([r["events"] for r in rows])),
            "failed": args.reps - len(rows),
            **{m: _rate([finite_interior(r[m]) for r in rows]) for m in ("delta", "inversion")},
        }
        print("flat", label, json.dumps(result["flat_truth"][label]), flush=True)
    result["seconds"] = time.perf_counter() - start
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
