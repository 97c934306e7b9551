"""Simulation-study speed: Rotterdam-size replicates per second on 1 and 2 cores, against a
base-R loop (simulate + cph with rcs + Predict) when Rscript is on the PATH. A replicate of the
study does more than the R loop (four Cox fits: spline, two lines twice, quintiles; plus the
simultaneous band, nadir and corridor), so the same work as the loop (simulate, spline fit,
curve) is also timed in one process.

Run: python benchmarks/bench_validate.py [--reps 200]
"""

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from mgrisk import fit_dose_response, load_scenario, simulate_cohort, simulation_study

R_LOOP = r"""
suppressMessages(library(rms))
reps <- as.integer(commandArgs(TRUE)[1]); n <- 9569
t0 <- proc.time()[["elapsed"]]
for (i in seq_len(reps)) {
  set.seed(i)
  mg <- pmin(pmax(rnorm(n, 0.84, 0.065), 0.5), 1.2); a0 <- pmin(pmax(rnorm(n, 64.9, 9.8), 45), 100)
  female <- rbinom(n, 1, 0.566); egfr <- rnorm(n, 80, 17)
  eta <- 30 * (mg - 0.85)^2 + 0.15 * female - 0.004 * (egfr - 80)
  u <- runif(n); t <- log(exp(0.16 * a0) - 0.16 * log(u) / (2e-8 * exp(eta))) / 0.16
  end <- a0 + runif(n, 3, 13); ev <- as.integer(t <= end); ex <- pmin(t, end)
  d <- data.frame(mg, a0, ex, ev, female, egfr)
  dd <- datadist(d); options(datadist = "dd")
  f <- cph(Surv(a0, ex, ev) ~ rcs(mg, 4) + female + egfr, data = d)
  p <- Predict(f, mg = seq(0.7, 1.0, length.out = 41), ref.zero = TRUE)
}
cat((proc.time()[["elapsed"]] - t0) / reps, "\n")
"""


def same_work_as_r(reps: int) -> float:
    """Seconds per replicate of what the R loop does: simulate a Rotterdam-size cohort, fit
    rcs(mg, 4) + female + egfr with age as the time scale, HR curve on 41 points."""
    s, grid = load_scenario("rotterdam"), np.linspace(0.7, 1.0, 41)
    start = time.perf_counter()
    for i in range(reps):
        cohort = simulate_cohort(s, seed=i)
        fit = fit_dose_response(
            cohort, "mg", "exit", "event", entry="entry", adjust="female + egfr", knots=4
        )
        fit.hr_curve(grid=grid, ref=0.85)
    return (time.perf_counter() - start) / reps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=200)
    args = parser.parse_args()
    simulation_study("rotterdam", reps=2, jobs=1, progress=False)  # compile / warm the cache
    rows = []
    for jobs in (1, 2):
        start = time.perf_counter()
        study = simulation_study("rotterdam", reps=args.reps, jobs=jobs, seed=1, progress=False)
        wall = time.perf_counter() - start
        rows.append((jobs, wall, study.reps / wall))
        how = "this process" if jobs == 1 else f"this process + {jobs - 1} worker"
        print(
            f"mgrisk, {jobs} core(s) ({how}): {args.reps} Rotterdam-size replicates in "
            f"{wall:.1f} s (worker start-up included): {study.reps / wall:.1f} replicates/s, "
            f"{wall / study.reps * 1e3:.0f} ms per replicate"
        )
    if shutil.which("Rscript"):
        reps_r = min(args.reps, 30)
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "loop.R"
            script.write_text(R_LOOP)
            out = subprocess.run(
                ["Rscript", str(script), str(reps_r)], capture_output=True, text=True, check=True
            ).stdout
        per_rep = float(out.split()[-1])
        best = min(r[1] / args.reps for r in rows)
        same = same_work_as_r(args.reps)
        print(
            f"R loop (simulate + cph rcs + Predict, 1 core): {per_rep * 1e3:.0f} ms per "
            f"replicate ({reps_r} replicates); mgrisk (curve, nadir, corridor, shape, "
            f"quintiles) is {per_rep / best:.1f}x faster per replicate\n"
            f"the R loop's work in mgrisk (1 core): {same * 1e3:.1f} ms per replicate, "
            f"{per_rep / same:.1f}x faster"
        )
    else:
        print("Rscript not found: R loop skipped")


if __name__ == "__main__":
    main()
