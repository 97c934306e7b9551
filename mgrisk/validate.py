"""Simulation studies: does the analysis recover a scenario's known truth?

Each replicate simulates a cohort (seed derived from the study seed and the replicate index
alone), runs the dose-response analysis and records estimates next to the truth. Replicates run
in-process, on local worker processes or on a dask.distributed cluster, in chunks; results are
put back in replicate order, so a seed gives the same study whatever the backend and number of
workers.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from functools import cached_property, partial

import numpy as np
import pandas as pd
from scipy.special import ndtri
from tqdm.auto import tqdm

from ._pool import run_chunks
from .errors import ConvergenceError, InputError
from .report import json_safe
from .scenario import Scenario, load_scenario

__all__ = [
    "MIN_STUDY_N",
    "Analysis",
    "StudyResult",
    "replicate_seed",
    "simulation_studies",
    "simulation_study",
]

SHAPES = ("U", "inverted-U", "J", "reverse-J", "increasing", "decreasing", "flat")
CHUNK = 10
#: Fewest people per replicate: about 40 events in the Rotterdam scenario; with fewer most
#: replicates cannot be fitted (a quintile with no events, monotone likelihood).
MIN_STUDY_N = 500
#: Seconds to wait for a dask scheduler to answer.
CONNECT_TIMEOUT = 5


@dataclass(frozen=True)
class Analysis:
    """How each replicate is analysed (defaults: the scenario's covariates, 4 knots, age as
    the time scale, nadir CI by test inversion, corridor HR <= 1 + delta vs the nadir)."""

    knots: int = 4
    adjust: str | None = None  # None: the scenario's covariates
    level: float = 0.95
    nadir_method: str = "inversion"
    corridor_delta: float = 0.1
    shape_alpha: float = 0.05
    grid_points: int = 41
    quintiles: bool = True  # False: no quintile table (a Cox fit less; quintile HRs are NaN)


def _grid(s: Scenario, points: int) -> np.ndarray:
    """Fixed grid over the exposure's 2nd-98th percentiles (of its normal distribution)."""
    z = ndtri([0.02, 0.98])
    lo, hi = s.exposure_mean + s.exposure_sd * z
    return np.linspace(max(lo, s.exposure_min), min(hi, s.exposure_max), points)


def _reference(s: Scenario) -> float:
    return s.effect.true_nadir if s.effect.true_nadir is not None else s.exposure_mean


def _true_corridor(s: Scenario, delta: float) -> tuple[float, float]:
    """Where the true HR vs the true nadir is at most 1 + delta (on a fine grid)."""
    nadir = s.effect.true_nadir
    if nadir is None:
        return (np.nan, np.nan)
    x = np.linspace(s.exposure_min, s.exposure_max, 200_001)
    inside = x[s.effect(x) - s.effect(nadir) <= np.log1p(delta)]
    return float(inside.min()), float(inside.max())


def replicate_seed(seed: int, i: int) -> int:
    """Seed of replicate i: depends on the study seed and i alone."""
    return int(np.random.SeedSequence(seed, spawn_key=(i,)).generate_state(1)[0])


def _one(s: Scenario, n: int, a: Analysis, seed: int, i: int) -> dict:
    from .doseresponse import fit_dose_response
    from .simulate import simulate_cohort

    grid, ref = _grid(s, a.grid_points), _reference(s)
    cohort = simulate_cohort(s, n=n, seed=replicate_seed(seed, i))
    adjust = a.adjust if a.adjust is not None else s.adjust_formula()
    fit = fit_dose_response(
        cohort,
        s.exposure,
        "exit",
        "event",
        entry="entry",
        adjust=adjust or None,
        knots=a.knots,
        unit=s.unit,
    )
    curve = fit.hr_curve(grid=grid, ref=ref, level=a.level)
    simultaneous = fit.hr_curve(grid=grid, ref=ref, level=a.level, band="simultaneous")
    nadir = fit.nadir(a.nadir_method, level=a.level)
    corridor = fit.corridor("delta", delta=a.corridor_delta, level=a.level)
    quintile_hr = (
        fit.quantile_table(ref=s.reference_quintile).table.hr.to_numpy()
        if a.quintiles
        else np.full(5, np.nan)
    )
    return {
        "log_hr": curve.log_hr.to_numpy(),
        "se": curve.se.to_numpy(),
        "critical": simultaneous.attrs["critical_value"],
        "nadir": nadir.estimate if nadir.interior else np.nan,
        "nadir_ci": (nadir.lower, nadir.upper),
        "nadir_bounded": nadir.bounded,
        "corridor": (corridor.lower, corridor.upper),
        "corridor_ci": (
            corridor.lower_ci or (np.nan, np.nan),
            corridor.upper_ci or (np.nan, np.nan),
        ),
        "shape": fit.shape(a.shape_alpha).verdict,
        "quintile_hr": quintile_hr,
        "nonlinear_p": float(fit.anova().loc[f"{s.exposure}: nonlinear", "p"]),
        "events": fit.n_events,
    }


def _run_task(s: Scenario, sizes: tuple, a: Analysis, seed: int, task: tuple):
    """Replicates ``task[1]`` of the study of size ``sizes[task[0]]``."""
    k, indices = task
    return task, _run_chunk(s, sizes[k], a, seed, indices)[1]


def _run_chunk(s: Scenario, n: int, a: Analysis, seed: int, indices: range):
    out = []
    for i in indices:
        try:
            out.append(_one(s, n, a, seed, i))
        except (ConvergenceError, InputError) as exc:
            out.append({"error": str(exc)})
    return indices, out


def _collect(results, records: list[list], bar) -> None:
    for (k, indices), out in results:
        records[k][indices.start : indices.stop] = out
        bar.update(len(indices))


def _connect(client_class, scheduler: str):
    """A dask client, or one line when the scheduler does not answer within the timeout."""
    import logging

    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # no retry chatter on the console while connecting
    try:
        return client_class(scheduler, timeout=CONNECT_TIMEOUT)
    except Exception as exc:  # refused, timed out, or something that is not a scheduler
        raise InputError(
            f"scheduler {scheduler!r}: no dask scheduler answered within {CONNECT_TIMEOUT} s "
            f"({type(exc).__name__}); start one (dask scheduler) or check the address "
            "(tcp://host:8786)"
        ) from None
    finally:
        quiet.setLevel(level)


@dataclass
class StudyResult:
    """Estimates of every replicate next to the scenario's truth, and their summaries."""

    scenario: Scenario
    analysis: Analysis
    n: int
    seed: int
    seconds: float
    grid: np.ndarray
    truth: np.ndarray
    records: list[dict] = field(repr=False)

    @property
    def ok(self) -> list[dict]:
        return [r for r in self.records if "error" not in r]

    @property
    def reps(self) -> int:
        return len(self.records)

    @property
    def n_failed(self) -> int:
        return self.reps - len(self.ok)

    @property
    def exposure_label(self) -> str:
        return f"{self.scenario.exposure} ({self.scenario.unit})"

    @property
    def true_nadir(self) -> float | None:
        return self.scenario.effect.true_nadir

    @cached_property
    def _curves(self):
        est = np.array([r["log_hr"] for r in self.ok])
        se = np.array([r["se"] for r in self.ok])
        crit = np.array([r["critical"] for r in self.ok])
        return est, se, crit

    @property
    def bias_by_x(self) -> np.ndarray:
        return self._curves[0].mean(axis=0) - self.truth

    @property
    def rmse_by_x(self) -> np.ndarray:
        return np.sqrt(((self._curves[0] - self.truth) ** 2).mean(axis=0))

    @property
    def pointwise_coverage_by_x(self) -> np.ndarray:
        est, se, _ = self._curves
        z = ndtri(0.5 + self.analysis.level / 2)
        at_ref = se.max(axis=0) < 1e-12  # the reference point has no uncertainty
        cover = (np.abs(est - self.truth) <= z * se + 1e-12).mean(axis=0)
        return np.where(at_ref, np.nan, cover)

    @property
    def simultaneous_coverage(self) -> float:
        est, se, crit = self._curves
        return float((np.abs(est - self.truth) <= crit[:, None] * se + 1e-12).all(axis=1).mean())

    @property
    def nadirs(self) -> np.ndarray:
        return np.array([r["nadir"] for r in self.ok])

    def _covered(self, truth, key, index=None) -> float:
        hits = []
        for r in self.ok:
            lo, hi = r[key] if index is None else r[key][index]
            hits.append(bool(np.isfinite(lo) and lo <= truth <= hi))
        return float(np.mean(hits)) if hits and np.isfinite(truth) else np.nan

    def to_dict(self) -> dict:
        """Summaries with stable keys (see `summary` for their meaning)."""
        true_nadir = self.true_nadir if self.true_nadir is not None else np.nan
        corridor = _true_corridor(self.scenario, self.analysis.corridor_delta)
        shapes = pd.Series([r["shape"] for r in self.ok]).value_counts(normalize=True)
        quint = np.array([r["quintile_hr"] for r in self.ok])
        return json_safe(
            {
                "scenario": self.scenario.name,
                "reps": self.reps,
                "failed": self.n_failed,
                "n": self.n,
                "seed": self.seed,
                "seconds": self.seconds,
                "mean_events": float(np.mean([r["events"] for r in self.ok])),
                "quintile_hr_mean": {
                    f"Q{q + 1}": float(v) for q, v in enumerate(np.exp(np.log(quint).mean(axis=0)))
                },
                "quintile_reference": f"Q{self.scenario.reference_quintile}",
                "quintile_hr_target": {f"Q{q}": v for q, v in self.scenario.quintile_hr.items()},
                "pointwise_coverage": float(np.nanmean(self.pointwise_coverage_by_x)),
                "simultaneous_coverage": self.simultaneous_coverage,
                "max_abs_bias": float(np.max(np.abs(self.bias_by_x))),
                "mean_rmse": float(np.mean(self.rmse_by_x)),
                "true_nadir": true_nadir,
                "nadir_bias": float(np.nanmean(self.nadirs) - true_nadir)
                if np.isfinite(self.nadirs).any()
                else np.nan,
                "nadir_found": float(np.isfinite(self.nadirs).mean()),
                "nadir_coverage": self._covered(true_nadir, "nadir_ci"),
                "true_corridor": corridor,
                "corridor_lower_coverage": self._covered(corridor[0], "corridor_ci", 0),
                "corridor_upper_coverage": self._covered(corridor[1], "corridor_ci", 1),
                "shape_rate": {k: float(shapes.get(k, 0.0)) for k in SHAPES},
                "grid": self.grid,
                "bias_by_x": self.bias_by_x,
                "pointwise_coverage_by_x": self.pointwise_coverage_by_x,
            }
        )

    def summary(self) -> str:
        d = self.to_dict()
        lines = [
            f"simulation study: scenario {d['scenario']}, {d['reps']} replicates of n = "
            f"{self.n:,} ({d['failed']} failed), mean events {d['mean_events']:.0f}, "
            f"{d['seconds']:.1f} s",
            f"quintile HRs (geometric mean, vs {d['quintile_reference']}): "
            + ", ".join(f"{k} {v:.3f}" for k, v in d["quintile_hr_mean"].items())
            + (f"; published targets {d['quintile_hr_target']}" if d["quintile_hr_target"] else ""),
            f"log-HR curve: max |bias| {d['max_abs_bias']:.3f}, mean RMSE {d['mean_rmse']:.3f}; "
            f"coverage of {self.analysis.level:.0%} CIs: pointwise {d['pointwise_coverage']:.3f},"
            f" simultaneous {d['simultaneous_coverage']:.3f}",
        ]
        if d["true_nadir"] is not None:
            lines.append(
                f"nadir (true {d['true_nadir']:.3g}): found in {d['nadir_found']:.0%}, bias "
                f"{d['nadir_bias']:+.4f}, {self.analysis.nadir_method} CI coverage "
                f"{d['nadir_coverage']:.3f}; corridor ends in their delta-method CIs: lower "
                f"{d['corridor_lower_coverage']:.3f}, upper {d['corridor_upper_coverage']:.3f}"
            )
        rates = ", ".join(f"{k} {v:.3f}" for k, v in d["shape_rate"].items() if v)
        lines.append(f"shape verdicts: {rates}")
        return "\n".join(lines)


def simulation_study(
    scenario: Scenario | str,
    *,
    reps: int,
    n: int | None = None,
    analysis: Analysis | None = None,
    seed: int = 0,
    jobs: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    progress: bool = True,
) -> StudyResult:
    """Run ``reps`` replicates of simulate -> analyse against the scenario's truth.

    Parameters
    ----------
    scenario : Scenario or str
    reps : int
    n : int, optional
        People per replicate (default: the scenario's).
    analysis : Analysis, optional
    seed : int
        Replicate i uses a seed derived from (seed, i): results do not depend on the backend or
        the number of workers.
    jobs : int, optional
        Local cores (default: all): this process and ``jobs - 1`` worker processes.
    backend : {"local", "dask"}
        ``dask`` sends the chunks to the dask.distributed scheduler at ``scheduler``.
    progress : bool
        Show a progress bar.
    """
    s = load_scenario(scenario) if not isinstance(scenario, Scenario) else scenario
    n = s.n if n is None else int(n)
    (study,) = simulation_studies(
        s,
        sizes=[n],
        reps=reps,
        analysis=analysis,
        seed=seed,
        jobs=jobs,
        backend=backend,
        scheduler=scheduler,
        progress=progress,
    )
    return study


def simulation_studies(
    scenario: Scenario,
    *,
    sizes: list[int],
    reps: int,
    analysis: Analysis | None = None,
    seed: int = 0,
    jobs: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    progress: bool = True,
) -> list[StudyResult]:
    """One simulation study per size in ``sizes``, all on one pool of workers (or one dask
    client); each is the study ``simulation_study(scenario, n=size, seed=seed, ...)`` gives.

    Replicate i of every size uses the seed ``replicate_seed(seed, i)``; the simulator draws
    person j's numbers from (seed, j) alone, so replicate i's cohort of a smaller size is the
    first people of its cohort of a larger size (common random numbers: a study that grows).
    ``seconds`` of each study is the wall time of the whole set.
    """
    s = scenario
    a = analysis or Analysis()
    if reps < 1:
        raise InputError(f"reps={reps}: need at least one replicate")
    for n in sizes:
        if n < MIN_STUDY_N:
            raise InputError(
                f"n={n} people per replicate is too few to fit the spline model: use n >= "
                f"{MIN_STUDY_N} (the scenario's own n is {s.n:,})"
            )
    if backend not in ("local", "dask"):
        raise InputError(f"backend={backend!r}: use 'local' or 'dask'")
    # largest sizes first: the longest chunks start first, the shortest fill in at the end
    order = sorted(range(len(sizes)), key=lambda k: -sizes[k])
    tasks = [(k, range(i, min(reps, i + CHUNK))) for k in order for i in range(0, reps, CHUNK)]
    records: list[list] = [[None] * reps for _ in sizes]
    run_task = partial(_run_task, s, tuple(sizes), a, seed)
    client = None
    if backend == "dask":
        try:
            from distributed import Client, as_completed
        except ImportError:
            raise InputError(
                "backend='dask' needs dask.distributed: pip install 'mgrisk[dask]'"
            ) from None
        if scheduler is None:
            raise InputError("backend='dask' needs scheduler='tcp://host:port'")
        client = _connect(Client, scheduler)
    total = reps * len(sizes)
    bar = tqdm(total=total, desc=f"study {s.name}", unit="rep", disable=not progress, leave=False)
    start = time.perf_counter()
    try:
        if client is not None:
            with client:
                futures = client.map(run_task, tasks, pure=False)
                try:
                    results = (f.result() for f in as_completed(futures))
                    _collect(results, records, bar)
                finally:  # Ctrl-C or an error: the cluster stops working for us
                    client.cancel(futures)
        else:
            jobs = (os.cpu_count() or 1) if jobs is None else jobs
            _collect(run_chunks(run_task, tasks, jobs), records, bar)
    finally:  # also on Ctrl-C: no progress bar left behind
        bar.close()
    seconds = time.perf_counter() - start
    grid = _grid(s, a.grid_points)
    truth = s.effect(grid) - s.effect(_reference(s))
    studies = []
    for n, rows in zip(sizes, records, strict=True):
        if all("error" in r for r in rows):
            raise InputError(
                f"all {reps} replicates failed (first: {rows[0]['error']}); with n={n:,} people "
                "there are too few events: use a larger n"
            )
        studies.append(StudyResult(s, a, n, seed, seconds, grid, truth, rows))
    return studies
