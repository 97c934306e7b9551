"""m = 20 imputations of a Rotterdam-size cohort and the pooled analysis: mgrisk against R mice.

Data: ``simulate_cohort("rotterdam", seed=1)`` (9,569 people) with 25 % of Mg and 10 % of eGFR
removed completely at random. The same work on both sides:

- mgrisk: `mgrisk.impute` (pmm, 10 iterations, the outcome as event indicators and Nelson-Aalen
  hazards per cause, entry age) on ``--jobs`` cores, then ``fit_dose_response`` of the 20 data
  sets (4-knot spline + sex, eGFR, diuretics, low education; Rubin's rules) and its ``results()``
  (anova, curve, nadir, corridor, quantile table and shape, all pooled); also with SMC-FCS for Mg;
- R: ``mice(m = 20, maxit = 10)`` (pmm, the same predictors: the event indicators and hazards
  are computed once in Python and given to R as columns), then ``with(coxph(...))`` on the same
  spline basis (``Hmisc::rcspline.eval``, mgrisk's knots) and ``pool``. R's time is measured
  inside R (``system.time``, start-up excluded) and as the wall time of the Rscript call.

Run: ``PYTHONPATH=. python benchmarks/bench_impute.py [--m 20 --jobs 2]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from mgrisk import fit_dose_response, simulate_cohort
from mgrisk.impute import impute
from mgrisk.impute.chained import _outcome_predictors

ADJUST = "female + egfr + diuretics + education_low"
COLUMNS = ["mg", "female", "egfr", "diuretics", "education_low"]

R_SCRIPT = r"""
suppressMessages({library(mice); library(survival); library(Hmisc); library(jsonlite)})
args <- commandArgs(TRUE)
d <- read.csv(args[1]); m <- as.integer(args[2]); knots <- as.numeric(strsplit(args[3], ",")[[1]])
t <- system.time({
  imp <- mice(d[, c("mg", "female", "egfr", "diuretics", "education_low", "d1", "h1", "d2",
                    "h2", "entry")], m = m, maxit = 10, printFlag = FALSE, seed = 1)
  fits <- lapply(seq_len(m), function(i) {
    x <- complete(imp, i)
    B <- rcspline.eval(x$mg, knots = knots, inclx = TRUE); colnames(B) <- paste0("s", 1:3)
    coxph(Surv(d$entry, d$exit, d$event == 1) ~ B + x$female + x$egfr + x$diuretics +
            x$education_low)
  })
  p <- pool(as.mira(fits))
})
cat(toJSON(list(seconds = unname(t["elapsed"]), estimate = p$pooled$estimate), digits = 10))
"""


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--m", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-r", action="store_true")
    args = ap.parse_args(argv)
    cohort = simulate_cohort("rotterdam", seed=1)
    rng = np.random.default_rng(1)
    holed = cohort.drop(columns=["true_log_hr", "id"])
    holed.loc[rng.random(len(holed)) < 0.25, "mg"] = np.nan
    holed.loc[rng.random(len(holed)) < 0.10, "egfr"] = np.nan
    kw = dict(time="exit", event="event", entry="entry", jobs=args.jobs, progress=False)
    print(
        f"{len(holed):,} people, Mg missing {holed.mg.isna().mean():.1%}, m = {args.m}, "
        f"{args.jobs} core(s)"
    )
    for label, extra in (("pmm", {}), ("SMC-FCS for Mg", {"exposure": "mg"})):
        t0 = time.perf_counter()
        done = impute(holed, COLUMNS, m=args.m, seed=1, **kw, **extra)
        t1 = time.perf_counter()
        fit = fit_dose_response(done, "mg", "exit", "event", entry="entry", adjust=ADJUST)
        fit.results()
        t2 = time.perf_counter()
        print(
            f"mgrisk {label:>15}: impute {t1 - t0:6.1f} s + pooled analysis {t2 - t1:5.1f} s "
            f"({fit.n_fits} Cox fits) = {t2 - t0:6.1f} s"
        )
        if label == "pmm":
            knots, estimate = fit.knots, fit.cox.beta
    if args.no_r:
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = holed.copy()
        H = _outcome_predictors(holed, "exit", "event", "entry")
        data[["d1", "h1", "d2", "h2"]] = H[:, :4]
        path = Path(tmp) / "d.csv"
        data.to_csv(path, index=False)
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT)
        t0 = time.perf_counter()
        run = subprocess.run(
            [
                "Rscript",
                str(script),
                str(path),
                str(args.m),
                ",".join(repr(float(k)) for k in knots),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - t0
    r = json.loads(run.stdout.strip().splitlines()[-1])
    r["seconds"] = float(np.ravel(r["seconds"])[0])
    print(
        f"R mice + coxph + pool     : {r['seconds']:6.1f} s inside R ({wall:.1f} s wall, one core)"
    )
    diff = np.abs(np.array(r["estimate"]) - estimate[: len(r["estimate"])])
    print(
        f"pooled coefficients, mgrisk pmm vs R mice (different random draws): largest "
        f"difference {diff.max():.3g} (spline and adjustment terms)"
    )


if __name__ == "__main__":
    main()
