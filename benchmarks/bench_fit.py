"""End-to-end `mgrisk fit` on a large CSV against its floor: reading the CSV plus one Cox fit.

The floor is what any run must do: ``pandas.read_csv`` of the file and one Cox fit of the same
design (spline + adjustment, (entry, exit] data), timed warm in this process; a second floor runs
the same in a fresh process (imports and numba's cache loading included, as in the whole run).
The whole run (a fresh process: imports, reading, input checks, the spline fit, the quantile,
trend and two two-lines fits, curve, nadir, corridor, shape, E-values, the model checks with the
null-model fit (in a forked child meanwhile), three figures, HTML, JSON, CSV) is timed in a
subprocess, with its peak resident memory and its CPU time. Floor and run alternate, so both see
the same machine: on a shared VM the first touch of fresh memory costs from 0.3 to 3 s of
system time per process, which moves the fresh floor more than anything in mgrisk.

    python benchmarks/bench_fit.py --n 1000000 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mgrisk import fit_cox, rcs_basis, rcs_knots, simulate_cohort

ADJUST = ["female", "egfr", "diuretics", "education_low"]


def _median_seconds(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _timed(command: list[str]):
    """Wall seconds, CPU seconds (user + system, all threads) and rusage of one command."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if status:
        raise SystemExit(f"{command[:4]} failed (status {status})")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mgrisk-bench-fit-"))
    path = folder / "cohort.csv"
    simulate_cohort("rotterdam", n=args.n, seed=1).to_csv(path, index=False)
    print(f"{args.n:,} rows, {path.stat().st_size / 1e6:.0f} MB CSV")

    read = _median_seconds(lambda: pd.read_csv(path), args.repeat)
    df = pd.read_csv(path)
    X = np.column_stack([rcs_basis(df.mg, rcs_knots(df.mg, 4)), df[ADJUST].to_numpy(float)])
    event = (df.event == 1).to_numpy(float)
    fit_cox(X, df.exit, event, entry=df.entry)  # compiled and warm
    one_fit = _median_seconds(lambda: fit_cox(X, df.exit, event, entry=df.entry), args.repeat)
    floor = read + one_fit

    fresh_floor = [
        sys.executable,
        "-c",
        "import sys, numpy as np, pandas as pd; from mgrisk import fit_cox, rcs_basis, rcs_knots; "
        "df = pd.read_csv(sys.argv[1]); "
        "X = np.column_stack([rcs_basis(df.mg, rcs_knots(df.mg, 4)), "
        f"df[{ADJUST!r}].to_numpy(float)]); "
        "fit_cox(X, df.exit, (df.event == 1).to_numpy(float), entry=df.entry)",
        str(path),
    ]
    command = [
        sys.executable,
        "-m",
        "mgrisk.cli",
        "fit",
        str(path),
        "--exposure",
        "mg",
        "--time",
        "exit",
        "--entry",
        "entry",
        "--event",
        "event",
        "--adjust",
        " + ".join(ADJUST),
        "--unit",
        "mmol/L",
        "--quiet",
    ]
    fresh, runs, peak = [], [], 0
    fresh_cpu, run_cpu = [], []
    for i in range(args.repeat):  # interleaved, so that both see the same machine
        seconds, cpu, _ = _timed(fresh_floor)
        fresh.append(seconds)
        fresh_cpu.append(cpu)
        seconds, cpu, usage = _timed([*command, "--out", str(folder / f"out{i}")])
        runs.append(seconds)
        run_cpu.append(cpu)
        peak = max(peak, usage.ru_maxrss)  # this run's own peak (kB)
    fresh, whole = statistics.median(fresh), statistics.median(runs)
    fits = json.loads((folder / "out0" / "results.json").read_text())["cox_fits"]
    print(f"read_csv (pandas)          {read:7.2f} s")
    print(f"one Cox fit, same design   {one_fit:7.2f} s")
    print(f"floor (read + one fit)     {floor:7.2f} s")
    print(
        f"mgrisk fit, whole run      {whole:7.2f} s  (runs: {', '.join(f'{t:.2f}' for t in runs)})"
    )
    print(f"ratio whole / floor        {whole / floor:7.2f}x")
    print(f"fresh-process floor        {fresh:7.2f} s  (python -c: imports, read_csv, one fit)")
    print(f"ratio whole / fresh floor  {whole / fresh:7.2f}x")
    print(
        f"CPU seconds (user + sys)   floor {statistics.median(fresh_cpu):.2f}, "
        f"run {statistics.median(run_cpu):.2f} (two processes from the main fit on)"
    )
    print(f"Cox fits in the run        {fits}")
    print(f"peak resident memory       {peak / 1024:7.0f} MB")


if __name__ == "__main__":
    main()
