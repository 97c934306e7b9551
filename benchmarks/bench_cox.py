"""Time mgrisk's Cox engine against its peers on the same generated cohorts, in one run.

Peers: the PyPI package ``survival`` (a Rust port of R's survival: its R-like ``coxph`` on a
formula, and its bare matrix fitters ``survival.r.coxph_fit`` / ``agreg_fit``), lifelines'
``CoxPHFitter``, statsmodels' ``PHReg`` and R's ``survival::coxph`` (through ``Rscript``, when it
is on PATH). Every fit uses Efron ties on the same five columns (a 4-knot restricted cubic spline
of serum Mg, age at entry, sex), right-censored (follow-up time) and as counting-process data
(entry, exit] on the age scale. For each size and layout the script prints the median wall time of
repeated fits after a warm-up call, the ratio peer / mgrisk, each peer's largest coefficient
difference from mgrisk, the bootstrap refit time (prepared data, new Poisson(1) weights), the
first-call (JIT / numba cache) cost in a fresh process and the peak memory of a 1M-row
counting-process fit.

Run ``python benchmarks/bench_cox.py --quick`` (10k and 100k rows) or without ``--quick`` for
10k, 100k and 1M rows; ``--help`` lists the options. Peers: ``pip install -e ".[bench]"``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mgrisk import rcs_basis, rcs_knots
from mgrisk.cox import fit_cox, fit_prepared, prepare_cox

RIGHT, COUNTING = "right", "counting"
LAYOUTS = (RIGHT, COUNTING)
NAMES = ["mg", "mg1", "mg2", "age", "sex"]  # rcs(mg, 4) columns, age at entry, sex
FORMULA_RHS = " + ".join(NAMES)
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
PROBE_SIZES = (2_000, 5_000)  # a single fit at each, to extrapolate a peer's time to larger n
REPEATS = {10_000: 7, 100_000: 5, 1_000_000: 3}
MIN_REPEATS = 3
CELL_BUDGET = 60.0  # seconds of repeated fits per cell before the repeat count is lowered
SCALING_BOUNDS = (1.0, 3.0)  # extrapolation exponent: at least linear, at most cubic
MEMORY_SIZE = 1_000_000

# Truth of the generated cohorts: Gompertz baseline on the age scale, U-shaped Mg effect.
GOMPERTZ_LAMBDA, GOMPERTZ_ALPHA = 1e-5, 0.1
MG_MEAN, MG_SD = 0.84, 0.065  # serum Mg, mmol/L
MG_CURVATURE, SEX_LOG_HR = 30.0, 0.3


# --- data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cohort:
    """One generated cohort: covariates and both layouts' times (ages in years)."""

    X: np.ndarray  # (n, 5) C-contiguous float64, columns NAMES
    entry: np.ndarray  # age at entry
    exit: np.ndarray  # age at exit (event or censoring)
    event: np.ndarray  # 1.0 event, 0.0 censored

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def followup(self) -> np.ndarray:
        return self.exit - self.entry

    @property
    def input_bytes(self) -> int:
        """Bytes of the arrays a counting-process fit takes (X, entry, exit, event)."""
        return self.X.nbytes + self.entry.nbytes + self.exit.nbytes + self.event.nbytes

    def frame(self) -> pd.DataFrame:
        """The cohort as a DataFrame with both layouts' columns (for formula interfaces)."""
        df = pd.DataFrame(self.X, columns=NAMES)
        df["entry"] = self.entry
        df["exit"] = self.exit
        df["time"] = self.followup
        df["event"] = self.event
        return df


def make_cohort(n: int, seed: int) -> Cohort:
    """Generate n people: Mg ~ N(0.84, 0.065), entry age ~ U(55, 80), sex 0/1, Gompertz event
    ages with log-hazard 30 (mg - 0.84)^2 + 0.3 sex, censoring at entry + U(2, 15) years."""
    rng = np.random.default_rng(seed)
    mg = rng.normal(MG_MEAN, MG_SD, n)
    entry = rng.uniform(55.0, 80.0, n)
    sex = rng.integers(0, 2, n).astype(float)
    eta = MG_CURVATURE * (mg - MG_MEAN) ** 2 + SEX_LOG_HR * sex
    u = rng.uniform(size=n)
    lam, alpha = GOMPERTZ_LAMBDA, GOMPERTZ_ALPHA
    # Inverse of the Gompertz cumulative hazard from the entry age (conditional on survival).
    event_age = np.log(np.exp(alpha * entry) - alpha * np.log(u) / (lam * np.exp(eta))) / alpha
    censor_age = entry + rng.uniform(2.0, 15.0, n)
    exit_ = np.minimum(event_age, censor_age)
    event = (event_age <= censor_age).astype(float)
    X = np.column_stack([rcs_basis(mg, rcs_knots(mg, 4)), entry, sex])
    return Cohort(np.ascontiguousarray(X), entry, exit_, event)


# --- timing -------------------------------------------------------------------------------


@dataclass
class Cell:
    """The timing of one engine on one size and layout."""

    times: list[float] = field(default_factory=list)  # seconds of the repeated fits
    warmup: float = math.nan
    coef: np.ndarray | None = None
    status: str = "ok"  # ok | skipped (> limit) | failed | not repeated
    notes: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else math.nan


def repeats_for(n: int, one_fit: float, budget: float = CELL_BUDGET) -> int:
    """Repeat count for size n (7 at 10k, 5 at 100k, 3 at 1M), lowered for slow fits."""
    default = REPEATS.get(n) or (7 if n <= 30_000 else 5 if n <= 300_000 else 3)
    if one_fit * default <= budget:
        return default
    return max(MIN_REPEATS, min(default, int(budget / max(one_fit, 1e-9))))


def convergence_notes(caught) -> list[str]:
    notes = []
    for w in caught:
        text = f"{w.category.__name__}: {str(w.message).splitlines()[0][:120]}"
        if ("converge" in text.lower() or "iteration" in text.lower()) and text not in notes:
            notes.append(text)
    return notes


def measure(
    fit: Callable[[], object],
    coef_of: Callable[[object], np.ndarray],
    n: int,
    limit: float,
    repeats: int | None = None,
) -> Cell:
    """A warm-up call (its coefficients and convergence warnings are kept), then repeated fits."""
    cell = Cell()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            result = fit()
            cell.warmup = time.perf_counter() - start
        cell.coef = np.asarray(coef_of(result), dtype=float)
    except Exception as exc:  # a peer's failure is a result to report, not a crash
        cell.status = "failed"
        cell.notes.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
        return cell
    cell.notes += [f"did not converge? {note}" for note in convergence_notes(caught)]
    if cell.warmup > limit:
        cell.status = "not repeated"
        cell.times = [cell.warmup]
        cell.notes.append(f"one fit took {cell.warmup:.0f} s (> {limit:.0f} s)")
        return cell
    count = repeats if repeats is not None else repeats_for(n, cell.warmup)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(count):
            start = time.perf_counter()
            fit()
            cell.times.append(time.perf_counter() - start)
    return cell


def predict_seconds(history: list[tuple[int, float]], n: int) -> tuple[float, str] | None:
    """One fit's time at n, extrapolated from the two largest smaller sizes measured."""
    points = sorted(p for p in history if p[0] < n and p[1] > 0)
    if not points:
        return None
    if len(points) == 1:
        (n1, t1), k = points[0], 1.0
        how = f"linear from {n1:,}"
    else:
        (n0, t0), (n1, t1) = points[-2], points[-1]
        k = math.log(t1 / t0) / math.log(n1 / n0) if t1 > t0 else SCALING_BOUNDS[0]
        k = min(max(k, SCALING_BOUNDS[0]), SCALING_BOUNDS[1])
        how = f"n^{k:.2f} from {n0:,}-{n1:,} rows"
    return t1 * (n / n1) ** k, how


# --- engines ------------------------------------------------------------------------------

Setup = Callable[[Cohort, str], tuple[Callable[[], object], Callable[[object], np.ndarray]]]


@dataclass(frozen=True)
class Peer:
    name: str
    setup: Setup | None  # (cohort, layout) -> (fit, coefficients); setup is not timed
    timefix: bool  # merges near-tied times as R's coxph does (aeqSurv)
    about: str


def mgrisk_setup(c: Cohort, layout: str):
    if layout == RIGHT:
        time_ = c.followup

        def fit():
            return fit_cox(c.X, time_, c.event)
    else:

        def fit():
            return fit_cox(c.X, c.exit, c.event, entry=c.entry)

    return fit, lambda r: r.coef.to_numpy()


def survival_formula_setup(c: Cohort, layout: str):
    import survival

    df = c.frame()
    response = "Surv(time, event)" if layout == RIGHT else "Surv(entry, exit, event)"
    formula = f"{response} ~ {FORMULA_RHS}"

    def fit():
        return survival.coxph(formula, data=df, ties="efron")

    return fit, lambda m: m.coefficients


def survival_bare_setup(c: Cohort, layout: str):
    from survival.r import Surv, agreg_fit, coxph_fit

    if layout == RIGHT:
        time_ = c.followup

        def fit():
            return coxph_fit(c.X, Surv(time_, c.event), method="efron")
    else:

        def fit():
            return agreg_fit(c.X, Surv(c.entry, c.exit, c.event), method="efron")

    return fit, lambda m: m.coefficients


def lifelines_setup(c: Cohort, layout: str):
    from lifelines import CoxPHFitter

    df = c.frame()
    if layout == RIGHT:
        data = df[[*NAMES, "time", "event"]]

        def fit():
            return CoxPHFitter().fit(data, duration_col="time", event_col="event")
    else:
        data = df[[*NAMES, "entry", "exit", "event"]]

        def fit():
            return CoxPHFitter().fit(
                data, duration_col="exit", event_col="event", entry_col="entry"
            )

    return fit, lambda m: m.params_[NAMES].to_numpy()


def statsmodels_setup(c: Cohort, layout: str):
    from statsmodels.duration.hazard_regression import PHReg

    if layout == RIGHT:
        time_ = c.followup

        def fit():
            return PHReg(time_, c.X, status=c.event, ties="efron").fit()
    else:

        def fit():
            return PHReg(c.exit, c.X, status=c.event, entry=c.entry, ties="efron").fit()

    return fit, lambda r: r.params


PYTHON_PEERS = [
    Peer(
        "survival",
        survival_formula_setup,
        True,
        "PyPI survival: survival.coxph('Surv(entry, exit, event) ~ ...', data, ties='efron')",
    ),
    Peer(
        "survival-bare",
        survival_bare_setup,
        False,
        "PyPI survival: survival.r.coxph_fit / agreg_fit(X, Surv(...), method='efron')",
    ),
    Peer(
        "lifelines",
        lifelines_setup,
        False,
        "lifelines CoxPHFitter().fit(df, 'exit', 'event', entry_col='entry') (Efron only)",
    ),
    Peer(
        "statsmodels",
        statsmodels_setup,
        False,
        "statsmodels PHReg(exit, X, status=event, entry=entry, ties='efron').fit()",
    ),
]
R_PEER = "R coxph"
R_INFO = Peer(
    R_PEER,
    None,
    True,
    "R survival::coxph(Surv(entry, exit, event) ~ ..., ties='efron') via Rscript",
)
PEER_MODULES = {
    "survival": "survival",
    "survival-bare": "survival",
    "lifelines": "lifelines",
    "statsmodels": "statsmodels",
}


def available_peers(wanted: set[str] | None) -> tuple[list[Peer], bool, list[str]]:
    peers, missing = [], []
    for peer in PYTHON_PEERS:
        if wanted is not None and peer.name not in wanted:
            continue
        try:
            __import__(PEER_MODULES[peer.name])
            peers.append(peer)
        except ImportError:
            missing.append(f"{peer.name}: not installed (pip install -e '.[bench]')")
    use_r = (wanted is None or "R" in wanted) and shutil.which("Rscript") is not None
    if (wanted is None or "R" in wanted) and not use_r:
        missing.append("R coxph: Rscript not on PATH")
    return peers, use_r, missing


# --- R through Rscript --------------------------------------------------------------------

R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(survival))
reps <- as.integer(args[2]); layouts <- strsplit(args[3], ",")[[1]]
d <- if (requireNamespace("data.table", quietly = TRUE)) {
  as.data.frame(data.table::fread(args[1]))
} else read.csv(args[1])
rhs <- "mg + mg1 + mg2 + age + sex"
forms <- list(right = as.formula(paste("Surv(time, event) ~", rhs)),
              counting = as.formula(paste("Surv(entry, exit, event) ~", rhs)))
cat("VERSION", as.character(packageVersion("survival")), R.version$major, R.version$minor, "\n")
for (lay in layouts) {
  f <- forms[[lay]]
  msgs <- character(0)
  warm <- system.time(fit <- withCallingHandlers(coxph(f, data = d, ties = "efron"),
    warning = function(w) { msgs <<- c(msgs, conditionMessage(w)); invokeRestart("muffleWarning") }
  ))[["elapsed"]]
  n_reps <- if (warm * reps > 60) max(3L, min(reps, as.integer(60 / warm))) else reps
  times <- numeric(n_reps)
  for (i in seq_len(n_reps)) {
    times[i] <- system.time(suppressWarnings(coxph(f, data = d, ties = "efron")))[["elapsed"]]
  }
  cat("RESULT", lay, warm, paste(times, collapse = ","), fit$iter,
      paste(sprintf("%.17g", coef(fit)), collapse = ","), "\n")
  for (m in unique(msgs)) cat("WARNING", lay, gsub("[\r\n]", " ", m), "\n")
}
"""


def write_csv(c: Cohort, path: Path) -> None:
    """Both layouts' columns, 17 significant digits so that R reads the same doubles."""
    c.frame().to_csv(path, index=False, float_format="%.17g")


def run_r(csv: Path, layouts: list[str], repeats: int, workdir: Path) -> dict[str, Cell]:
    """Time coxph in one R process: R startup and reading the CSV are not timed."""
    script = workdir / "bench_coxph.R"
    script.write_text(R_SCRIPT)
    cells = {layout: Cell() for layout in layouts}
    proc = subprocess.run(
        ["Rscript", "--vanilla", str(script), str(csv), str(repeats), ",".join(layouts)],
        capture_output=True,
        text=True,
        check=False,
    )
    for line in proc.stdout.splitlines():
        parts = line.split()
        if parts[:1] == ["RESULT"]:
            _, layout, warm, times, iters, coefs = parts
            cell = cells[layout]
            cell.warmup = float(warm)
            cell.times = [float(t) for t in times.split(",")]
            cell.coef = np.array([float(b) for b in coefs.split(",")])
            cell.notes.append(f"{iters} Newton iterations")
        elif parts[:1] == ["WARNING"]:
            cells[parts[1]].notes.append("did not converge? " + " ".join(parts[2:]))
    for cell in cells.values():
        if cell.coef is None:
            cell.status = "failed"
            cell.notes.append(f"Rscript exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
    return cells


def r_version(workdir: Path) -> str:
    proc = subprocess.run(
        [
            "Rscript",
            "--vanilla",
            "-e",
            'cat(R.version$major, R.version$minor, as.character(packageVersion("survival")))',
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    parts = proc.stdout.split()
    return f"R {parts[0]}.{parts[1]}, survival {parts[2]}" if len(parts) == 3 else "R ?"


# --- one run ------------------------------------------------------------------------------


@dataclass
class Row:
    """Everything measured for one size and layout."""

    n: int
    layout: str
    mgrisk: Cell
    refit: Cell
    refit_check: float  # max |coef difference| refit vs fit_cox(weights=w)
    se: np.ndarray
    ref_timefix: np.ndarray  # mgrisk coefficients (near-tied times merged, as R)
    ref_exact: np.ndarray | None  # mgrisk coefficients with fix_ties=False
    peers: dict[str, Cell] = field(default_factory=dict)


def reference_without_timefix(c: Cohort, layout: str) -> np.ndarray | None:
    """mgrisk's coefficients without R's timefix, to compare peers that do not merge ties."""
    entry = None if layout == RIGHT else c.entry
    time_ = c.followup if layout == RIGHT else c.exit
    try:
        prepared = prepare_cox(c.X, time_, c.event, entry=entry, fix_ties=False)
    except TypeError:  # an engine without the option
        return None
    return fit_prepared(prepared).coef.to_numpy()


def bootstrap_refit(c: Cohort, layout: str, n_reps: int, seed: int) -> tuple[Cell, float]:
    """Median time of fit_prepared(prepared.with_weights(w)), w ~ Poisson(1), fresh w each fit."""
    entry = None if layout == RIGHT else c.entry
    time_ = c.followup if layout == RIGHT else c.exit
    prepared = prepare_cox(c.X, time_, c.event, entry=entry)
    rng = np.random.default_rng(np.random.SeedSequence([seed, c.n, LAYOUTS.index(layout)]))
    draws = [rng.poisson(1.0, c.n).astype(float) for _ in range(n_reps + 1)]
    it = iter(draws)
    cell = measure(
        lambda: fit_prepared(prepared.with_weights(next(it))),
        lambda r: r.coef.to_numpy(),
        c.n,
        math.inf,
        repeats=n_reps,
    )
    direct = fit_cox(c.X, time_, c.event, entry=entry, weights=draws[0])
    check = float(np.max(np.abs(direct.coef.to_numpy() - cell.coef)))
    return cell, check


def skip_cell(prediction: tuple[float, str], limit: float) -> Cell:
    seconds, how = prediction
    return Cell(
        status=f"skipped (> {limit:.0f} s)",
        notes=[f"one fit predicted {seconds:.3g} s ({how})"],
    )


History = dict[tuple[str, str], list[tuple[int, float]]]  # (peer, layout) -> [(n, seconds)]


def single_fit(peer: Peer, c: Cohort, layout: str, workdir: Path, warm_up: bool = False):
    """Seconds of one fit of `peer` (R: in its own process, after a warm-up), None on failure."""
    if peer.setup is None:
        csv = workdir / f"single_{c.n}.csv"
        write_csv(c, csv)
        cell = run_r(csv, [layout], 1, workdir)[layout]
        csv.unlink()
        return cell.median if cell.times else None
    try:
        fit, _ = peer.setup(c, layout)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if warm_up:
                fit()  # imports and first-call costs out of the way
            start = time.perf_counter()
            fit()
            return time.perf_counter() - start
    except Exception:  # reported when the real sizes fail too
        return None


def probe(peers: list[Peer], seed: int, workdir: Path, history: History) -> None:
    """One fit of each peer at the probe sizes, for extrapolation."""
    for i, n in enumerate(PROBE_SIZES):
        c = make_cohort(n, seed + 1)
        for layout in LAYOUTS:
            for peer in peers:
                seconds = single_fit(peer, c, layout, workdir, warm_up=i == 0)
                if seconds is not None:
                    history[peer.name, layout].append((n, seconds))


def skip_prediction(
    peer: Peer, layout: str, n: int, limit: float, seed: int, workdir: Path, history: History
) -> tuple[float, str] | None:
    """The predicted time of one fit at n when it exceeds `limit` (skip), else None (run).

    A prediction near the limit (limit/10 .. 2 limit) is refined by one fit at n/4 first, so
    that the exponent comes from sizes closer to n (lifelines' counting-process fit steepens
    from about n^1.4 at 5k rows to n^1.9 at 100k).
    """
    points = history[peer.name, layout]
    prediction = predict_seconds(points, n)
    if prediction is None or prediction[0] <= limit / 10:
        return None
    m = n // 4
    if prediction[0] < 2 * limit and m > max(p[0] for p in points):
        seconds = single_fit(peer, make_cohort(m, seed + 2), layout, workdir)
        if seconds is not None:
            points.append((m, seconds))
            prediction = predict_seconds(points, n)
    return prediction if prediction is not None and prediction[0] > limit else None


def run_size(n: int, args, peers: list[Peer], workdir: Path, history: History) -> list[Row]:
    c = make_cohort(n, args.seed)
    print(f"  n={n:,}: {int(c.event.sum()):,} events; load {load()}", flush=True)
    csv = workdir / f"cohort_{n}.csv"
    rows = []
    for layout in LAYOUTS:
        fit, coef_of = mgrisk_setup(c, layout)
        cell = measure(fit, coef_of, n, math.inf)
        result = fit()
        refit, check = bootstrap_refit(c, layout, len(cell.times), args.seed)
        row = Row(
            n,
            layout,
            cell,
            refit,
            check,
            result.se.to_numpy(),
            result.coef.to_numpy(),
            reference_without_timefix(c, layout),
        )
        print(
            f"    {layout:9s} mgrisk {fmt_ms(cell.median)} ms, refit {fmt_ms(refit.median)} ms",
            flush=True,
        )
        for peer in peers:
            prediction = skip_prediction(peer, layout, n, args.limit, args.seed, workdir, history)
            if prediction is not None:
                row.peers[peer.name] = skip_cell(prediction, args.limit)
            elif peer.setup is None:  # R: one process times the repeated fits
                if not csv.exists():
                    write_csv(c, csv)
                reps = repeats_for(n, 0.0)
                row.peers[peer.name] = run_r(csv, [layout], reps, workdir)[layout]
            else:
                fit, coef_of = peer.setup(c, layout)
                row.peers[peer.name] = measure(fit, coef_of, n, args.limit)
            if row.peers[peer.name].times:
                history[peer.name, layout].append((n, row.peers[peer.name].median))
            print(
                f"    {layout:9s} {peer.name:14s} {cell_text(row.peers[peer.name], cell)}",
                flush=True,
            )
        rows.append(row)
    csv.unlink(missing_ok=True)
    return rows


# --- extras: first call and memory, each in a fresh process -------------------------------

FIRST_CALL = """
import time
t0 = time.perf_counter()
import json
import numpy as np
from mgrisk.cox import fit_cox
t1 = time.perf_counter()
rng = np.random.default_rng(0)
n = 2000
X = rng.normal(size=(n, 5))
entry = rng.uniform(55, 80, n)
exit_ = entry + rng.exponential(10 * np.exp(-0.3 * X[:, 0]))
event = (exit_ < entry + 8).astype(float)
exit_ = np.minimum(exit_, entry + 8)
fit_cox(X, exit_ - entry, event)
t2 = time.perf_counter()
fit_cox(X, exit_, event, entry=entry)
t3 = time.perf_counter()
fit_cox(X, exit_, event, entry=entry)
t4 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first_right": t2 - t1, "first_counting": t3 - t2,
                  "again_counting": t4 - t3, "total": t3 - t0}))
"""

MEMORY = """
import json, resource, sys, tracemalloc
import numpy as np
from mgrisk.cox import fit_cox
folder, mode = sys.argv[1], sys.argv[2]
X, entry, exit_, event = (np.load(f"{folder}/{k}.npy") for k in ("X", "entry", "exit", "event"))

def fit():
    fit_cox(X, exit_, event, entry=entry)

def rss():
    with open("/proc/self/status") as f:
        return 1024 * next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))

def reset_peak():  # restart the peak-RSS high-water mark (Linux >= 4.0)
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False

out = {"mode": mode}
if mode == "rusage":
    for label in ("first", "second"):  # the first fit also loads (or compiles) numba kernels
        out["reset"] = reset_peak()
        before = rss()
        fit()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        out[label] = {"before": before, "peak": peak}
else:
    fit()
    tracemalloc.start()
    fit()
    out["current"], out["peak"] = tracemalloc.get_traced_memory()
print(json.dumps(out))
"""


def first_call(workdir: Path) -> list[tuple[str, dict]]:
    """Fresh processes: one with an empty numba cache (compile), one reusing it (cache load)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(workdir / "numba_cache"))
    results = []
    for label in ("empty numba cache (compile)", "warm numba cache (load)"):
        proc = subprocess.run(
            [sys.executable, "-c", FIRST_CALL], env=env, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            results.append((label, {"error": proc.stderr.strip()[-300:]}))
        else:
            results.append((label, json.loads(proc.stdout.strip().splitlines()[-1])))
    return results


def peak_memory(n: int, seed: int, workdir: Path) -> tuple[dict, dict, int]:
    c = make_cohort(n, seed)
    folder = workdir / "memory"
    folder.mkdir(exist_ok=True)
    for key in ("X", "entry", "exit", "event"):
        np.save(folder / f"{key}.npy", getattr(c, key))
    out = []
    for mode in ("rusage", "tracemalloc"):
        proc = subprocess.run(
            [sys.executable, "-c", MEMORY, str(folder), mode],
            capture_output=True,
            text=True,
            check=False,
        )
        out.append(
            json.loads(proc.stdout.splitlines()[-1])
            if proc.returncode == 0
            else {"error": proc.stderr.strip()[-300:]}
        )
    shutil.rmtree(folder)
    return out[0], out[1], c.input_bytes


# --- printing -----------------------------------------------------------------------------


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def fmt_ms(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-"
    ms = seconds * 1000
    return f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


def fmt_size(n: int) -> str:
    return (
        f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)
    )


def cell_text(cell: Cell, reference: Cell) -> str:
    if cell.status.startswith("skipped") or cell.status == "failed":
        return cell.status
    text = f"{fmt_ms(cell.median)} ({cell.median / reference.median:.1f}x)"
    return text + ("*" if cell.status == "not repeated" else "")


def version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def print_tables(rows: list[Row], peers: list[Peer]) -> None:
    peer_names = [p.name for p in peers]
    timefix = {p.name: p.timefix for p in peers}
    width = 20
    print(
        "\nCox fits, Efron ties, 5 covariates. Median wall time in ms over repeated fits after"
        " a warm-up;\n(ratio = peer / mgrisk fit_cox, > 1 means mgrisk is faster)\n"
    )
    head = f"{'size':>5}  {'layout':9s} {'mgrisk':>9}" + "".join(
        f" {p:>{width}}" for p in peer_names
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        cells = "".join(
            f" {cell_text(row.peers[p], row.mgrisk) if p in row.peers else '-':>{width}}"
            for p in peer_names
        )
        print(f"{fmt_size(row.n):>5}  {row.layout:9s} {fmt_ms(row.mgrisk.median):>9}{cells}")
    if any(c.status == "not repeated" for row in rows for c in row.peers.values()):
        print("* a single fit, longer than the limit: not repeated")

    print(
        "\nBootstrap refit: fit_prepared(prepare_cox(...).with_weights(w)), w ~ Poisson(1)"
        " drawn anew for each fit\n"
    )
    head = (
        f"{'size':>5}  {'layout':9s} {'fit_cox ms':>11} {'refit ms':>9} {'refit/fit':>9}"
        f" {'reps':>4}  max|Δcoef| vs fit_cox(weights=w)"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        print(
            f"{fmt_size(row.n):>5}  {row.layout:9s} {fmt_ms(row.mgrisk.median):>11}"
            f" {fmt_ms(row.refit.median):>9} {row.refit.median / row.mgrisk.median:>9.2f}"
            f" {len(row.refit.times):>4}  {row.refit_check:.1e}"
        )

    print(
        "\nDetail: repeats, coefficient agreement with mgrisk (max |Δcoef| and in units of"
        " mgrisk's SE),\nconvergence. Peers that do not merge near-tied times (R's timefix)"
        " are compared with mgrisk\nprepared with fix_ties=False ('exact'); R and"
        " survival.coxph with mgrisk's default ('timefix').\n"
    )
    head = (
        f"{'size':>5}  {'layout':9s} {'engine':14s} {'reps':>4} {'median ms':>10}"
        f" {'min ms':>9} {'max|Δcoef|':>10} {'/SE':>8}  {'vs':7s} notes"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        print(
            f"{fmt_size(row.n):>5}  {row.layout:9s} {'mgrisk':14s} {len(row.mgrisk.times):>4}"
            f" {fmt_ms(row.mgrisk.median):>10} {fmt_ms(min(row.mgrisk.times)):>9}"
            f" {'':>10} {'':>8}  {'':7s} timefix vs exact: "
            f"{diff_text(row.ref_exact, row.ref_timefix, row.se)}"
        )
        for name in peer_names:
            cell = row.peers.get(name)
            if cell is None:
                continue
            merged = timefix[name]
            ref = row.ref_timefix if merged or row.ref_exact is None else row.ref_exact
            if cell.coef is not None:
                d = np.max(np.abs(cell.coef - ref))
                dse = np.max(np.abs(cell.coef - ref) / row.se)
                agree = f"{d:>10.1e} {dse:>8.1e}"
            else:
                agree = f"{'-':>10} {'-':>8}"
            status = [] if cell.status == "ok" else [cell.status]
            notes = "; ".join(status + cell.notes) or "ok"
            mn = fmt_ms(min(cell.times)) if cell.times else "-"
            print(
                f"{fmt_size(row.n):>5}  {row.layout:9s} {name:14s} {len(cell.times):>4}"
                f" {fmt_ms(cell.median):>10} {mn:>9} {agree}  "
                f"{'timefix' if merged else 'exact':7s} {notes}"
            )
    print("\nEngines:")
    print("  mgrisk         mgrisk.cox.fit_cox(X, exit, event, entry=entry) (prepare + fit)")
    for peer in peers:
        print(f"  {peer.name:14s} {peer.about}")


def diff_text(a: np.ndarray | None, b: np.ndarray, se: np.ndarray) -> str:
    if a is None:
        return "-"
    d = np.abs(a - b)
    return f"max|Δcoef| {d.max():.1e} ({(d / se).max():.1e} SE)"


def print_extras(jit, memory, n_memory: int) -> None:
    print(
        "\nFirst call in a fresh process (python -c: import mgrisk.cox, then fit_cox on 2,000"
        " rows),\nseconds:"
    )
    for label, r in jit:
        if "error" in r:
            print(f"  {label}: failed: {r['error']}")
            continue
        print(
            f"  {label:28s} import {r['import']:.2f}, first right-censored fit"
            f" {r['first_right']:.2f}, first counting-process fit {r['first_counting']:.2f},"
            f" total {r['total']:.2f} (a later fit: {r['again_counting'] * 1000:.1f} ms)"
        )
    rusage, traced, input_bytes = memory
    mib = 2.0**20
    print(
        f"\nPeak memory of a {n_memory:,}-row counting-process fit_cox in a fresh process;"
        f" input arrays\n(X, entry, exit, event) {input_bytes / mib:.0f} MiB:"
    )
    if "error" in rusage:
        print(f"  resource.getrusage: failed: {rusage['error']}")
    else:
        reset = (
            "high-water mark reset through /proc/self/clear_refs before each fit"
            if rusage["reset"]
            else "high-water mark NOT reset: the first figure includes the imports"
        )
        print(f"  resource.getrusage ru_maxrss, peak RSS ({reset}):")
        for label, what in (
            ("first", "first fit in the process (also loads or compiles the numba kernels)"),
            ("second", "second fit (the fit alone)"),
        ):
            r = rusage[label]
            extra = r["peak"] - r["before"]
            print(
                f"    {what}: {r['peak'] / mib:.0f} MiB, {extra / mib:.0f} MiB above the RSS"
                f" before it ({extra / input_bytes:.2f}x the input)"
            )
    if "error" in traced:
        print(f"  tracemalloc: failed: {traced['error']}")
    else:
        print(
            f"  tracemalloc, second fit: peak {traced['peak'] / mib:.0f} MiB allocated"
            f" ({traced['peak'] / input_bytes:.2f}x the input; numpy and numba allocations,"
            f" {traced['current'] / mib:.1f} MiB still held after it)"
        )


# --- main ---------------------------------------------------------------------------------


def parse_size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default=None,
        help="comma-separated row counts, e.g. 10k,100k,1M (default: all three)",
    )
    parser.add_argument("--quick", action="store_true", help="10k and 100k rows only")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument(
        "--limit",
        type=float,
        default=60.0,
        help="skip a peer when one fit is predicted to take longer (s)",
    )
    parser.add_argument(
        "--peers",
        default=None,
        help="comma-separated subset of: survival,survival-bare,lifelines,statsmodels,R",
    )
    parser.add_argument(
        "--no-extras", action="store_true", help="skip the first-call and peak-memory measurements"
    )
    args = parser.parse_args(argv)
    if args.sizes:
        sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    else:
        sizes = list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    wanted = None if args.peers is None else {p.strip() for p in args.peers.split(",")}
    peers, use_r, missing = available_peers(wanted)

    import numba

    print("mgrisk Cox benchmark")
    print(
        f"  python {sys.version.split()[0]}, numpy {np.__version__}, numba {numba.__version__}"
        f" ({numba.get_num_threads()} threads), {os.cpu_count()} CPUs, load {load()}"
    )
    print(
        f"  mgrisk {version('mgrisk')}, survival {version('survival')}, lifelines "
        f"{version('lifelines')}, statsmodels {version('statsmodels')}"
    )
    with tempfile.TemporaryDirectory(prefix="bench_cox_") as tmp:
        workdir = Path(tmp)
        if use_r:
            print(f"  {r_version(workdir)}")
        for line in missing:
            print(f"  not run: {line}")
        print(
            f"  sizes {', '.join(f'{n:,}' for n in sizes)}; seed {args.seed}; limit"
            f" {args.limit:.0f} s per fit"
        )
        if use_r:
            peers = [*peers, R_INFO]
        history: History = {(p.name, layout): [] for p in peers for layout in LAYOUTS}
        print(f"probing peers at {', '.join(f'{n:,}' for n in PROBE_SIZES)} rows ...", flush=True)
        probe(peers, args.seed, workdir, history)
        rows = []
        for n in sizes:
            rows += run_size(n, args, peers, workdir, history)
        print_tables(rows, peers)
        if not args.no_extras:
            print_extras(
                first_call(workdir), peak_memory(MEMORY_SIZE, args.seed, workdir), MEMORY_SIZE
            )
    print(f"\nload at the end: {load()} (1/5/15-minute averages; 2 cores shared with other work)")


if __name__ == "__main__":
    main()
