"""Time the proportional-hazards test against one Cox fit of the same design, and R's cox.zph.

Cohorts from ``simulate_cohort("rotterdam", n)`` as (entry, exit] rows on the age scale; design
rcs(mg, 4) + female + egfr (5 columns), Efron ties. For each size: the median of repeated
``fit_prepared`` calls (one Cox fit, prepared data), of ``ph_test`` (km transform, terms) on that
fit, their ratio (target: the test within 3x of a fit), and, when Rscript is on PATH, R's
``coxph`` and ``cox.zph`` on the same rows and columns (its chi-squares are printed next to
mgrisk's). Run ``python benchmarks/bench_checks.py`` (100k and 1M rows) or ``--sizes 100k``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mgrisk import rcs_basis, rcs_knots, simulate_cohort
from mgrisk.checks.ph import ph_test
from mgrisk.cox import fit_prepared, prepare_cox

R_SCRIPT = r"""
suppressMessages(library(survival))
d <- read.csv(commandArgs(TRUE)[1])
t0 <- proc.time()[["elapsed"]]
f <- coxph(Surv(entry, exit, event) ~ mg + mg1 + mg2 + female + egfr, data = d)
t1 <- proc.time()[["elapsed"]]
z <- cox.zph(f, transform = "km", terms = FALSE)
t2 <- proc.time()[["elapsed"]]
cat(sprintf('{"fit": %.4f, "zph": %.4f, "chi2": [%s]}', t1 - t0, t2 - t1,
            paste(sprintf("%.10g", z$table[, "chisq"]), collapse = ",")))
"""


def _size(text: str) -> int:
    text = text.lower().replace(",", "")
    mult = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * mult)


def _median_time(fn, repeats: int) -> float:
    fn()  # warm-up (numba compile / cache load)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(n: int, repeats: int, use_r: bool) -> dict:
    cohort = simulate_cohort("rotterdam", n=n, seed=1)
    cohort["event"] = (cohort.event == 1).astype(int)
    B = rcs_basis(cohort.mg.to_numpy(), rcs_knots(cohort.mg.to_numpy(), 4))
    X = np.column_stack([B, cohort.female, cohort.egfr])
    names = ["mg", "mg1", "mg2", "female", "egfr"]
    data = prepare_cox(X, cohort.exit, cohort.event, entry=cohort.entry, names=names)
    fit = fit_prepared(data)
    t_fit = _median_time(lambda: fit_prepared(data), repeats)
    t_ph = _median_time(lambda: ph_test(data, fit, None, "km"), repeats)
    out = {"n": n, "events": int(cohort.event.sum()), "fit": t_fit, "ph": t_ph}
    out["chi2"] = ph_test(data, fit, None, "km").chi2.tolist()
    if use_r:
        with tempfile.TemporaryDirectory() as tmp:
            csv, script = Path(tmp) / "d.csv", Path(tmp) / "zph.R"
            frame = pd.DataFrame(X, columns=names).assign(
                entry=cohort.entry, exit=cohort.exit, event=cohort.event
            )
            frame.to_csv(csv, index=False, float_format="%.17g")
            script.write_text(R_SCRIPT)
            res = subprocess.run(
                ["Rscript", str(script), str(csv)], capture_output=True, text=True, check=True
            )
            r = json.loads(res.stdout.strip().splitlines()[-1])
            out.update(r_fit=r["fit"], r_zph=r["zph"], r_chi2=r["chi2"])
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100k,1m")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-r", action="store_true")
    args = ap.parse_args(argv)
    use_r = not args.no_r and shutil.which("Rscript") is not None
    print(f"{'rows':>10} {'events':>8} {'fit (s)':>9} {'ph_test (s)':>12} {'ph/fit':>7}", end="")
    print(f" {'R coxph (s)':>12} {'R cox.zph (s)':>14} {'R zph / mgrisk':>15}" if use_r else "")
    for text in args.sizes.split(","):
        n = _size(text)
        r = run(n, args.repeats if n < 1_000_000 else max(3, args.repeats // 2), use_r)
        line = (
            f"{r['n']:>10,} {r['events']:>8,} {r['fit']:>9.3f} {r['ph']:>12.3f} "
            f"{r['ph'] / r['fit']:>7.2f}"
        )
        if use_r:
            diff = np.max(np.abs(np.array(r["chi2"]) / np.array(r["r_chi2"]) - 1))
            line += (
                f" {r['r_fit']:>12.2f} {r['r_zph']:>14.2f} {r['r_zph'] / r['ph']:>15.1f}"
                f"   (largest relative chi2 difference from R: {diff:.1e})"
            )
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
