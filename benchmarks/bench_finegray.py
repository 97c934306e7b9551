"""Fine-Gray with age as the time scale: mgrisk without data expansion against the Cox fit of the
same data, the expanded-data path and R's ``finegray`` + ``coxph``.

One simulated Rotterdam-like cohort per size (`mgrisk.simulate_cohort("rotterdam")`: entry and
exit ages, 1 dementia, 2 death), design rcs(Mg, 4 knots) + female + eGFR + diuretics, Efron
ties. Timed (median of repeats after a warm-up call, one process):

- ``cox``: `mgrisk.fit_cox` of dementia (cause-specific, delayed entry), prepare + fit;
- ``fine-gray``: `mgrisk.fit_fine_gray` (prepare + fit + robust standard errors);
- ``expanded``: the same with ``expand=True`` (R's rows built and fitted by the Cox engine),
  once, only where the prediction from the smaller size (cost ~ n^2) is under ``--limit``;
- ``R``: ``finegray(Surv(entry, exit, fstat) ~ ., id = id)`` + ``coxph(..., weights = fgwt,
  cluster = id)`` through Rscript on the same data (CSV; reading excluded), once, where the
  prediction is under ``--r-limit``; otherwise the prediction is printed.

Then the peak memory of the largest fit in a fresh process (tracemalloc, and the resident set's
high-water mark above the data). Usage::

    python benchmarks/bench_finegray.py                    # 10k, 100k, 1M
    python benchmarks/bench_finegray.py --sizes 10k,50k --r-limit 600
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import mgrisk
from mgrisk.competing import fit_fine_gray
from mgrisk.splines import rcs_basis

COLUMNS = ["mg1", "mg2", "mg3", "female", "egfr", "diuretics"]
#: Repeats per size (median reported), fewer when one fit is slow.
REPEATS = {10_000: 7, 100_000: 5, 1_000_000: 3}

R_SCRIPT = r"""
suppressMessages(library(survival))
args <- commandArgs(TRUE)
d <- read.csv(args[1])
d$fstat <- factor(d$event, 0:2, c("censor", "dementia", "death"))
d$pid <- d$id
el <- system.time({
  fg <- finegray(Surv(entry, exit, fstat) ~ mg1 + mg2 + mg3 + female + egfr + diuretics + pid,
                 data = d, id = id, etype = "dementia")
  f <- coxph(Surv(fgstart, fgstop, fgstatus) ~ mg1 + mg2 + mg3 + female + egfr + diuretics,
             weights = fgwt, cluster = pid, data = fg)
  se <- sqrt(diag(f$var))
})[["elapsed"]]
cat(el, nrow(fg), "\n")
cat(sprintf("%.17g", coef(f)), "\n")
cat(sprintf("%.17g", se), "\n")
"""


def cohort(n: int, seed: int):
    """Design matrix, exit and entry ages and event codes of one simulated cohort."""
    df = mgrisk.simulate_cohort("rotterdam", n=n, seed=seed)
    mg = df["mg"].to_numpy()
    knots = np.quantile(mg, [0.05, 0.35, 0.65, 0.95])  # Harrell's 4-knot quantiles
    X = np.column_stack(
        [rcs_basis(mg, knots), df[["female", "egfr", "diuretics"]].to_numpy(dtype=float)]
    )
    return X, df["exit"].to_numpy(), df["entry"].to_numpy(), df["event"].to_numpy()


def timed(fn, repeats: int) -> tuple[float, object]:
    """Median seconds of ``repeats`` calls and the last result."""
    times = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), out


def run_r(X, exit_, entry, event, workdir: Path):
    """Seconds, expanded rows, coefficients and robust SEs of R's finegray + coxph."""
    csv = workdir / "cohort.csv"
    data = np.column_stack([np.arange(1, exit_.size + 1), entry, exit_, event, X])
    header = ",".join(["id", "entry", "exit", "event", *COLUMNS])
    np.savetxt(csv, data, delimiter=",", header=header, comments="", fmt="%.17g")
    script = workdir / "fg.R"
    script.write_text(R_SCRIPT)
    proc = subprocess.run(
        ["Rscript", "--vanilla", str(script), str(csv)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip()[-300:])
    lines = proc.stdout.split("\n")
    seconds, rows = lines[0].split()
    return (
        float(seconds),
        int(rows),
        np.array(lines[1].split(), float),
        np.array(lines[2].split(), float),
    )


def peak_memory(n: int, seed: int) -> str:
    """Peak memory of one Fine-Gray fit of n people, measured in a fresh process."""
    code = f"""
import tracemalloc, numpy as np, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from bench_finegray import cohort
from mgrisk.competing import fit_fine_gray
X, exit_, entry, event = cohort({n}, {seed})
fit_fine_gray(X[:2000], exit_[:2000], event[:2000], entry=entry[:2000]).se  # compile/load
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS'):
            return int(line.split()[1])
before = rss()
open('/proc/self/clear_refs', 'w').write('5')  # reset the high-water mark
tracemalloc.start()
fit_fine_gray(X, exit_, entry=entry, event=event).se
peak = tracemalloc.get_traced_memory()[1]
hwm = [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')][0]
data = X.nbytes + exit_.nbytes + entry.nbytes + event.nbytes
print(f"{{peak / 2**20:.0f}} MiB traced (tracemalloc), {{(hwm - before) / 2**10:.0f}} MiB "
      f"resident above the {{data / 2**20:.0f}} MiB of input arrays (VmHWM)")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return proc.stdout.strip() or proc.stderr.strip()[-300:]


def parse_size(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * factor)


def cox_fit(data):
    """The cause-specific Cox fit of dementia (prepare + fit)."""
    X, exit_, entry, event = data
    return mgrisk.fit_cox(X, exit_, (event == 1).astype(float), entry=entry)


def fine_gray_fit(data, expand: bool = False):
    """The Fine-Gray fit of dementia (prepare + fit + the robust variance R reports)."""
    X, exit_, entry, event = data
    fit = fit_fine_gray(X, exit_, event, entry=entry, expand=expand)
    _ = fit.se
    return fit


def run_size(n: int, args, last: dict, use_r: bool, workdir: Path) -> dict:
    data = cohort(n, args.seed)
    event = data[3]
    reps = REPEATS.get(n, 3)
    # alternate the two, so that the load of a shared machine falls on both alike
    pairs = [
        (timed(lambda: cox_fit(data), 1)[0], timed(lambda: fine_gray_fit(data), 1))
        for _ in range(reps)
    ]
    fit = pairs[-1][1][1]
    row = {
        "n": n,
        "events": int((event == 1).sum()),
        "cox": float(np.median([c for c, _ in pairs])),
        "fine-gray": float(np.median([f for _, (f, _) in pairs])),
    }
    for peer, limit in (("expanded", args.limit), ("R", args.r_limit)):
        if peer == "R" and not use_r:
            row[peer] = "no Rscript"
            continue
        prev = last[peer]
        guess = None if prev is None else prev[1] * (n / prev[0]) ** 2
        if guess is not None and guess > limit:
            row[peer] = f"skipped (predicted {guess:.0f} s ~ n^2)"
            continue
        if peer == "expanded":
            secs, ref = timed(lambda: fine_gray_fit(data, expand=True), 1)
            coef, se = ref.coef.to_numpy(), ref.se.to_numpy()
            row["expanded rows"] = ref.n
        else:
            secs, row["R rows"], coef, se = run_r(*data, workdir)
        last[peer] = (n, secs)
        row[peer] = secs
        row[f"{peer} diff"] = max(
            np.max(np.abs(fit.coef.to_numpy() / coef - 1)),
            np.max(np.abs(fit.se.to_numpy() / se - 1)),
        )
    return row


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10k,100k,1M")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--limit", type=float, default=60.0, help="expanded path: max seconds")
    ap.add_argument("--r-limit", type=float, default=240.0, help="R: max seconds")
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--no-memory", action="store_true")
    args = ap.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    use_r = not args.no_r and shutil.which("Rscript") is not None
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for n in (2000, 20_000):  # warm-up: compile or load the one- and all-threads kernels
        small = cohort(n, args.seed)
        cox_fit(small)
        fine_gray_fit(small)
    fine_gray_fit(cohort(2000, args.seed), expand=True)
    last = {"expanded": None, "R": None}  # (n, seconds) of the last run, for predictions
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            report(run_size(n, args, last, use_r, Path(tmp)))
    if not args.no_memory:
        print(
            f"\npeak memory of the {sizes[-1]:,}-person Fine-Gray fit: "
            f"{peak_memory(sizes[-1], args.seed)}"
        )


def report(row: dict) -> None:
    n, cox, fg = row["n"], row["cox"], row["fine-gray"]
    print(f"\n{n:,} people ({row['events']:,} dementia events)")
    print(f"  cox (cause-specific)     {cox:9.3f} s")
    print(f"  fine-gray (no expansion) {fg:9.3f} s   {fg / cox:5.2f} x cox")
    for peer in ("expanded", "R"):
        v = row.get(peer)
        if isinstance(v, float):
            extra = row.get(f"{peer} rows", "")
            print(
                f"  {peer:<24} {v:9.3f} s   {v / fg:7.1f} x fine-gray; {extra:,} expanded rows; "
                f"largest relative difference in coef/se {row[f'{peer} diff']:.1e}"
            )
        else:
            print(f"  {peer:<24} {v}")


if __name__ == "__main__":
    main()
