"""End-to-end `mgrisk fit` on a large CSV against its floor: reading the CSV plus one Cox fit.

The floor is what any run must do: ``pandas.read_csv`` of the file and one Cox fit of the same
design (spline + adjustment, (entry, exit] data). It is timed three ways: warm in this process;
in a fresh process as a user would write it (imports and numba's cache loading included, as in
the whole run); and in a fresh process with the run's own memory settings (`mgrisk._memory`:
freed memory reused, no transparent huge pages), the strict comparison. The whole run (a fresh
process: imports, reading, input checks, the spline fit, the quantile, trend and two two-lines
fits, curve, nadir, corridor, shape, E-values, the model checks with the null-model fit and
their figures (in a forked child meanwhile), the main figure, HTML, JSON, CSV) is timed in a
subprocess, with its peak resident memory and its CPU time. Floors and run alternate, so all
see the same machine: on a VM that backs its memory lazily, first touches of fresh memory
(numpy's huge pages above all) cost from 0.1 to 5 s of system time per process, which moves
the user's floor more than anything in mgrisk.

    python benchmarks/bench_fit.py --n 1000000 --repeat 7
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

    floor_script = (
        "import sys, numpy as np, pandas as pd; from mgrisk import fit_cox, rcs_basis, rcs_knots; "
        "df = pd.read_csv(sys.argv[1]); "
        "X = np.column_stack([rcs_basis(df.mg, rcs_knots(df.mg, 4)), "
        f"df[{ADJUST!r}].to_numpy(float)]); "
        "fit_cox(X, df.exit, (df.event == 1).to_numpy(float), entry=df.entry)"
    )
    steady = "from mgrisk._memory import steady_memory; steady_memory(); "
    floors = {
        "as a user writes it": [sys.executable, "-c", floor_script, str(path)],
        "run's memory settings": [sys.executable, "-c", steady + floor_script, str(path)],
    }
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
    fresh = {name: [] for name in floors}
    fresh_cpu, runs, run_cpu, peak = [], [], [], 0
    for i in range(args.repeat):  # interleaved, so that all see the same machine
        for name, floor_command in floors.items():
            seconds, cpu, _ = _timed(floor_command)
            fresh[name].append(seconds)
            fresh_cpu.append(cpu)
        seconds, cpu, usage = _timed([*command, "--out", str(folder / f"out{i}")])
        runs.append(seconds)
        run_cpu.append(cpu)
        peak = max(peak, usage.ru_maxrss)  # this run's own peak (kB)
    whole = statistics.median(runs)
    fits = json.loads((folder / "out0" / "results.json").read_text())["cox_fits"]
    print(f"read_csv (pandas)          {read:7.2f} s")
    print(f"one Cox fit, same design   {one_fit:7.2f} s")
    print(f"floor (read + one fit)     {floor:7.2f} s  (warm, in this process)")
    print(f"mgrisk fit, whole run      {whole:7.2f} s  (runs: {_list(runs)})")
    print(f"ratio whole / warm floor   {whole / floor:7.2f}x")
    for name, times in fresh.items():
        median = statistics.median(times)
        print(f"fresh-process floor, {name}: {median:.2f} s (runs: {_list(times)})")
        print(f"  ratio whole / that floor {whole / median:7.2f}x")
    print(
        f"CPU seconds (user + sys)   floors {statistics.median(fresh_cpu):.2f}, "
        f"run {statistics.median(run_cpu):.2f} (two processes from the main fit on)"
    )
    print(f"Cox fits in the run        {fits}")
    print(f"peak resident memory       {peak / 1024:7.0f} MB")


def _list(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


if __name__ == "__main__":
    main()
