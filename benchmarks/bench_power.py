"""Power-grid speed: 4 sizes around the Rotterdam size (2,000 to 20,000 people, mean 9,250) x
500 replicates on 2 cores (the issue's goal: under a minute), against R's simulate-and-fit loop
(simulate + cph with rcs + Predict, as in bench_validate.py) on the same sizes in the same run.

Each mgrisk replicate does more than the R loop: the spline Cox fit, the HR curve with
pointwise and simultaneous bands, the nadir and its CI by test inversion, the corridor with
delta-method CIs of its ends, the shape verdict (linear model and two two-lines Cox fits) and
the nonlinearity test. R's time for the grid is its per-replicate time at each size (measured
on a few replicates) times 500, on one core, and halved for two cores (an ideal split).

Run: python benchmarks/bench_power.py [--reps 500] [--r-reps 10]
"""

import argparse
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from mgrisk import power

SIZES = [2000, 5000, 10000, 20000]

R_LOOP = r"""
suppressMessages(library(rms))
args <- commandArgs(TRUE); reps <- as.integer(args[1]); n <- as.integer(args[2])
cpu <- function() { p <- proc.time(); p[["user.self"]] + p[["sys.self"]] }
t0 <- proc.time()[["elapsed"]]; c0 <- cpu()
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
cat((proc.time()[["elapsed"]] - t0) / reps, (cpu() - c0) / reps, "\n")
"""


def r_seconds_per_replicate(r_reps: int) -> dict[int, tuple[float, float]] | None:
    """R's wall and CPU seconds per replicate at each size, or None without Rscript."""
    if not shutil.which("Rscript"):
        return None
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "loop.R"
        script.write_text(R_LOOP)
        for n in SIZES:
            text = subprocess.run(
                ["Rscript", str(script), str(r_reps), str(n)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            wall, cpu = map(float, text.split()[-2:])
            out[n] = (wall, cpu)
    return out


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (the pool's workers)."""
    me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--r-reps", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    power("rotterdam", n=[2000], reps=2, jobs=1)  # compile / warm the numba cache
    start, cpu0 = time.perf_counter(), cpu_seconds()
    grid = power("rotterdam", n=SIZES, reps=args.reps, seed=1, jobs=args.jobs, target=0.8)
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu0
    total = args.reps * len(SIZES)
    print(grid.summary())
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(
        f"\nmgrisk: {len(SIZES)} sizes x {args.reps} replicates = {total} Rotterdam-scenario "
        f"replicates on {args.jobs} cores in {wall:.1f} s wall (worker start-up included; "
        f"load average {load}), {cpu:.1f} CPU s ({cpu / total * 1e3:.1f} ms per replicate): "
        f"{cpu / args.jobs:.1f} s on {args.jobs} cores of its own"
    )
    r = r_seconds_per_replicate(args.r_reps)
    if r is None:
        print("Rscript not found: R loop skipped")
        return
    r_wall = sum(r[n][0] for n in SIZES) * args.reps
    r_cpu = sum(r[n][1] for n in SIZES) * args.reps
    print(
        "R loop (simulate + cph rcs + Predict only, 1 core, "
        f"{args.r_reps} replicates per size), wall/CPU ms per replicate: "
        + ", ".join(f"n {n:,} {r[n][0] * 1e3:.0f}/{r[n][1] * 1e3:.0f}" for n in SIZES)
        + f"\nR for the same grid: {r_wall:.0f} s wall, {r_cpu:.0f} CPU s; mgrisk "
        f"{wall:.1f} s wall, {cpu:.1f} CPU s, doing more per replicate: {r_wall / wall:.1f}x "
        f"faster in wall time (R on 1 core, mgrisk on {args.jobs}), {r_cpu / cpu:.1f}x in CPU"
    )


if __name__ == "__main__":
    main()
