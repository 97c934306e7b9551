"""Complete-case versus multiple imputation when the exposure is missing at random (MAR).

Each replicate simulates the Rotterdam-like cohort (``mgrisk.simulate_cohort``: U-shaped true
log HR of serum Mg for dementia, death competing, age as the time scale with delayed entry) and
deletes Mg with probability ``expit(a + 0.6 (age at entry - 65) / 10 + 1.5 [dementia])``: the
missingness depends on age and on the outcome (MAR given the imputation model), ``a`` set for
about 30 % missing. The analysis (4-knot spline, adjusted for sex, eGFR, diuretics and low
education) is run on the full data (before deletion), on the complete cases, and on ``m``
imputations pooled by Rubin's rules, twice: `mgrisk.impute` with predictive mean matching and
the outcome in the model (event indicators and Nelson-Aalen hazards per cause, a model per event
code), and with ``exposure="mg"`` (SMC-FCS: Mg drawn compatibly with the spline Cox models).
Recorded: the log HR at the 5th and 95th centiles of
Mg (0.733 and 0.947 mmol/L) versus the median (0.84), its bias against the scenario's truth, and
whether the pointwise 95 % CI covers the truth. Monte Carlo SEs: sd / sqrt(reps) for a bias,
sqrt(p (1 - p) / reps) for a coverage.

Measured after the fix of the baseline hazard (SMC-FCS's H_k re-estimated at the drawn Cox
coefficients, entry age in its covariate model): ``--reps 200 --n 4000 --m 10`` (seed 19) and
``--reps 400 ... --seed 20 --no-pmm``, 600 replicates for all but pmm; truth 0.356 at P5, 0.351
at P95; Mg missing 28 %; bias (MC SE), coverage (MC SE):

- full data: P5 -0.014 (0.006), 0.962 (0.008); P95 -0.017 (0.006), 0.945 (0.009)
- complete cases: P5 -0.019 (0.012), 0.968 (0.007); P95 -0.014 (0.013), 0.933 (0.010)
- pmm (200 replicates): P5 -0.123 (0.018), 0.900 (0.021); P95 -0.134 (0.022), 0.855 (0.025)
- SMC-FCS: P5 -0.040 (0.011), 0.935 (0.010); P95 -0.031 (0.011), 0.929 (0.011)

Before the fix (200 replicates, seed 19) SMC-FCS had P5 -0.071 (0.014), P95 -0.085 (0.017). The
full-data analysis itself is off by -0.014 / -0.017 (the spline estimator at 4,000 people), so
SMC-FCS adds -0.026 / -0.014 (about 7 % / 4 % of the true log HR); its SD of estimates is 0.26
against 0.29 for the complete cases, whose selection on the outcome alone leaves them nearly
unbiased here. The runs take 18 min (200, both imputations) and 27 min (400, SMC-FCS only) on
one core.

Run: ``PYTHONPATH=. python benchmarks/impute_study.py`` (fast: 20 replicates, n 3,000, m 5) or
``--reps 200 --n 4000 --m 10 --jobs 1``.
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np
from scipy.special import expit

from mgrisk import fit_dose_response, load_scenario, simulate_cohort
from mgrisk._pool import run_chunks
from mgrisk.impute import impute
from mgrisk.validate import replicate_seed

ADJUST = "female + egfr + diuretics + education_low"
GRID = np.array([0.84 - 1.6449 * 0.065, 0.84 + 1.6449 * 0.065])  # 5th, 95th centiles
REF = 0.84
SLOPE_AGE, SLOPE_EVENT, INTERCEPT = 0.6, 1.5, -1.15


def analyse(data):
    fit = fit_dose_response(data, "mg", "exit", "event", entry="entry", adjust=ADJUST)
    c = fit.hr_curve(grid=GRID, ref=REF)
    return c.log_hr.to_numpy(), c.se.to_numpy()


def replicate(args, i):
    seed = replicate_seed(args.seed, i)
    cohort = simulate_cohort("rotterdam", n=args.n, seed=seed)
    rng = np.random.default_rng(seed)
    p = expit(INTERCEPT + SLOPE_AGE * (cohort.entry - 65) / 10 + SLOPE_EVENT * (cohort.event == 1))
    holed = cohort.drop(columns=["true_log_hr", "id"])
    holed.loc[rng.random(len(cohort)) < p, "mg"] = np.nan
    columns = ["mg", "female", "egfr", "diuretics", "education_low"]
    same = dict(m=args.m, seed=seed, time="exit", event="event", entry="entry", jobs=1)
    done = None if args.no_pmm else impute(holed, columns, **same, progress=False)
    smc = impute(holed, columns, **same, exposure="mg", progress=False)
    arms = (analyse(cohort), analyse(holed), None if done is None else analyse(done), analyse(smc))
    return i, (*arms, float(holed.mg.isna().mean()))


def _chunk(args, indices):
    return [replicate(args, i) for i in indices]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--m", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--no-pmm", action="store_true", help="leave out the pmm arm")
    args = ap.parse_args(argv)
    s = load_scenario("rotterdam")
    truth = s.effect(GRID) - s.effect(np.array([REF]))
    t0 = time.perf_counter()
    chunks = [[i] for i in range(args.reps)]
    out = {}
    for done in run_chunks(partial(_chunk, args), chunks, args.jobs):
        out.update(done)
    print(f"{args.reps} replicates, n {args.n}, m {args.m}: {time.perf_counter() - t0:.0f} s")
    share = np.mean([out[i][4] for i in out])
    print(
        f"Mg missing: {share:.1%} on average; truth log HR at {GRID.round(3)} vs {REF}: "
        f"{truth.round(4)}"
    )
    z = 1.959963984540054
    arms = ("full data", "complete cases", f"pmm (m = {args.m})", f"SMC-FCS (m = {args.m})")
    for k, name in enumerate(arms):
        if out[0][k] is None:
            continue
        est = np.array([out[i][k][0] for i in sorted(out)])
        se = np.array([out[i][k][1] for i in sorted(out)])
        bias = est.mean(axis=0) - truth
        mc_bias = est.std(axis=0, ddof=1) / np.sqrt(args.reps)
        cover = (np.abs(est - truth) <= z * se).mean(axis=0)
        mc_cover = np.sqrt(cover * (1 - cover) / args.reps)
        cells = [
            f"P{q}: bias {b:+.4f} ({mb:.4f}), coverage {c:.3f} ({mc:.3f}), mean SE {s_:.4f}"
            for q, b, mb, c, mc, s_ in zip(
                (5, 95), bias, mc_bias, cover, mc_cover, se.mean(axis=0), strict=True
            )
        ]
        print(f"{name:>18}: " + "; ".join(cells))


if __name__ == "__main__":
    main()
