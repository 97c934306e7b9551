"""Plan a study: power and precision for a dose-response shape, by simulation (`mgrisk.power`).

(Named `power_study`, not `power`: a submodule named as the function would replace
`mgrisk.power` the function by the module once imported.)

A power grid is a set of simulation studies (`validate.simulation_studies`), one per study size,
sharing one seed scheme: replicate i of every size is simulated from ``replicate_seed(seed, i)``,
so the cohort of a smaller size is the first people of the cohort of a larger one (a study that
grows; power estimates of neighbouring sizes are positively correlated, which keeps the curve
smooth). Every replicate runs the analysis a planner would run on the real cohort
(`validate.Analysis`) and is scored against the scenario's truth.

Monte Carlo uncertainty: a rate p over R replicates has SE sqrt(p (1 - p) / R); the median width
of the nadir's CI has the distribution-free 95 % interval of order statistics (binomial ranks).
The smallest size reaching a ``target`` power is interpolated linearly in log(n) between the two
sizes tried around the first crossing; its interval is where the power's 95 % Monte Carlo band
(p -+ 1.96 SE) crosses the target, interpolated the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import binom

from .errors import InputError
from .report import json_safe
from .scenario import Scenario, load_scenario
from .validate import SHAPES, Analysis, StudyResult, simulation_studies

__all__ = ["MC_LEVEL", "PowerResult", "TargetSize", "power", "rate_column", "true_shape"]

#: Level of the Monte Carlo bands and intervals (power band, median width, target size).
MC_LEVEL = 0.95
_Z = 1.959963984540054  # the standard normal's 97.5th percentile
#: Slopes of the true log HR (per exposure unit) smaller than this count as zero.
_FLAT = 1e-9


def rate_column(verdict: str) -> str:
    """The table's column of a verdict's rate: ``U`` -> ``rate_U``, ``reverse-J`` ->
    ``rate_reverse_J``."""
    return "rate_" + verdict.replace("-", "_")


def true_shape(scenario: Scenario) -> str:
    """The verdict an analysis of unlimited data would reach: the signs of the true log-HR's
    slopes at the exposure's 1st and 99th percentiles (where `shape` measures them).

    Falling then rising is ``U`` (rising then falling ``inverted-U``), rising or falling at
    either end with the other end flat or the same way ``increasing``/``decreasing``, no slope
    ``flat``. An asymmetric U is a U (``J`` and ``reverse-J`` are what a study too small to see
    the flatter side calls it).

    Examples
    --------
    >>> true_shape(load_scenario("rotterdam")), true_shape(load_scenario("null"))
    ('U', 'flat')
    """
    from scipy.special import ndtri

    x = scenario.exposure_mean + scenario.exposure_sd * ndtri(np.array([0.01, 0.99]))
    x = np.clip(x, scenario.exposure_min, scenario.exposure_max)
    h = 1e-6 * scenario.exposure_sd
    slope = (scenario.effect(x + h) - scenario.effect(x - h)) / (2 * h)
    low, high = (0 if abs(v) < _FLAT else int(np.sign(v)) for v in slope)
    if low < 0 < high:
        return "U"
    if low > 0 > high:
        return "inverted-U"
    if low >= 0 and high >= 0 and (low or high):
        return "increasing"
    if low <= 0 and high <= 0 and (low or high):
        return "decreasing"
    return "flat"


@dataclass(frozen=True)
class TargetSize:
    """The smallest study size reaching a target power, interpolated between sizes tried.

    ``n`` is people, ``events`` the mean number of events at that size; ``*_lower`` and
    ``*_upper`` bound them where the power's 95 % Monte Carlo band crosses the target (NaN:
    outside the sizes tried, see ``note``).
    """

    target: float
    n: float
    n_lower: float
    n_upper: float
    events: float
    events_lower: float
    events_upper: float
    note: str

    @property
    def reached(self) -> bool:
        return math.isfinite(self.n)


@dataclass(frozen=True)
class PowerResult:
    """A power grid: one row per study size in ``table``; see `power` for the columns."""

    scenario: Scenario
    analysis: Analysis
    expected: str
    reps: int
    seed: int
    seconds: float
    table: pd.DataFrame
    p_values: pd.DataFrame  # long: n, rep, p of the nonlinearity test (NaN: failed replicate)
    target: TargetSize | None
    studies: tuple[StudyResult, ...] = field(repr=False, default=())

    def to_dict(self) -> dict:
        """The grid with stable keys (JSON-ready)."""
        return json_safe(
            {
                "scenario": self.scenario.name,
                "overrides": dict(self.scenario.overrides),
                "expected_shape": self.expected,
                "reps": self.reps,
                "seed": self.seed,
                "seconds": self.seconds,
                "analysis": self.analysis.__dict__,
                "table": self.table.to_dict(orient="records"),
                "target": None if self.target is None else self.target.__dict__,
            }
        )

    def summary(self) -> str:
        """The grid as text: one line per size, then the target size."""
        s = self.scenario
        changed = ", ".join(f"{k}={v}" for k, v in s.overrides)
        lines = [
            f"power study: scenario {s.name}{f' ({changed})' if changed else ''}, "
            f"{self.reps} replicates per size, seed {self.seed}, {self.seconds:.1f} s; power = "
            f"rate of the verdict {self.expected} (alpha {self.analysis.shape_alpha})"
        ]
        for r in self.table.itertuples(index=False):
            width = "unbounded" if not np.isfinite(r.nadir_ci_width) else f"{r.nadir_ci_width:.3f}"
            line = (
                f"  n {r.n:>7,}  events {r.events:7.0f}  power {r.power:.3f} ({r.power_se:.3f})"
                f"  U {r.rate_U:.3f}  nonlinear p<alpha {r.nonlinear_power:.3f}"
                f"  nadir CI median width {width}"
            )
            if np.isfinite(r.nadir_coverage):
                line += f" coverage {r.nadir_coverage:.3f}"
            if r.failed:
                line += f"  ({r.failed} failed)"
            lines.append(line)
        t = self.target
        if t is not None:
            if t.reached:
                lo = "?" if not np.isfinite(t.n_lower) else f"{t.n_lower:,.0f}"
                hi = "?" if not np.isfinite(t.n_upper) else f"{t.n_upper:,.0f}"
                lines.append(
                    f"power {t.target:g} reached at n = {t.n:,.0f} ({lo} to {hi}), "
                    f"{t.events:,.0f} events; {t.note}"
                )
            else:
                lines.append(f"power {t.target:g} not reached: {t.note}")
        return "\n".join(lines)


def _rate(hits: np.ndarray) -> tuple[float, float]:
    """A rate over replicates and its Monte Carlo SE sqrt(p (1 - p) / R)."""
    if hits.size == 0:
        return math.nan, math.nan
    p = float(np.mean(hits))
    return p, math.sqrt(p * (1 - p) / hits.size)


def median_interval(values: np.ndarray, level: float = MC_LEVEL) -> tuple[float, float, float]:
    """Median and its distribution-free interval [x_(l), x_(R - l + 1)], l the binomial
    (R, 1/2) lower ``(1 - level) / 2`` quantile; infinite values allowed (NaN when R is too
    small for the level)."""
    x = np.sort(np.asarray(values, dtype=float))
    r = x.size
    if r == 0:
        return math.nan, math.nan, math.nan
    rank = int(binom.ppf((1 - level) / 2, r, 0.5))  # 1-based rank of the lower end
    median = float(np.median(x))  # inf when the middle value(s) are
    if rank < 1:
        return median, math.nan, math.nan
    return median, float(x[rank - 1]), float(x[r - rank])


def _row(study: StudyResult, expected: str, alpha: float) -> dict:
    ok = study.ok
    verdicts = np.array([r["shape"] for r in ok])
    power, power_se = _rate(verdicts == expected)
    row = {
        "n": study.n,
        "reps": study.reps,
        "failed": study.n_failed,
        "events": float(np.mean([r["events"] for r in ok])),
        "power": power,
        "power_se": power_se,
    }
    for v in SHAPES:
        row[rate_column(v)], row[rate_column(v) + "_se"] = _rate(verdicts == v)
    p = np.array([r["nonlinear_p"] for r in ok])
    row["nonlinear_power"], row["nonlinear_power_se"] = _rate(p < alpha)
    for q in (10, 50, 90):
        row[f"nonlinear_p_q{q}"] = float(np.quantile(p, q / 100))
    row["nadir_found"], _ = _rate(np.array([r["nadir"] == r["nadir"] for r in ok]))
    bounded = np.array([bool(r["nadir_bounded"]) for r in ok])
    row["nadir_ci_bounded"], _ = _rate(bounded)
    width = np.array([r["nadir_ci"][1] - r["nadir_ci"][0] for r in ok], dtype=float)
    width = np.where(bounded & np.isfinite(width), width, np.inf)
    row["nadir_ci_width"], row["nadir_ci_width_lower"], row["nadir_ci_width_upper"] = (
        median_interval(width)
    )
    d = study.to_dict()
    for key in ("nadir_coverage", "corridor_lower_coverage", "corridor_upper_coverage"):
        value = d[key] if d[key] is not None else math.nan
        row[key], row[key + "_se"] = (
            value,
            (math.sqrt(value * (1 - value) / len(ok)) if math.isfinite(value) else math.nan),
        )
    row["true_nadir"] = d["true_nadir"] if d["true_nadir"] is not None else math.nan
    return row


def _crossing(n: np.ndarray, y: np.ndarray, target: float) -> float:
    """The first n where y reaches the target, linear in log(n) between the sizes around it;
    n[0] when y[0] already does, NaN when no size does."""
    for k in range(len(n)):
        if y[k] >= target:
            if k == 0:
                return float(n[0])
            t = (target - y[k - 1]) / (y[k] - y[k - 1])
            return float(np.exp(np.log(n[k - 1]) + t * (np.log(n[k]) - np.log(n[k - 1]))))
    return math.nan


def target_size(table: pd.DataFrame, target: float) -> TargetSize:
    """The smallest size reaching ``target`` power (see the module docstring)."""
    n = table.n.to_numpy(float)
    y, se = table.power.to_numpy(float), table.power_se.to_numpy(float)
    point = _crossing(n, y, target)
    lower = _crossing(n, y + _Z * se, target)  # the optimistic end of the band: fewer people
    upper = _crossing(n, y - _Z * se, target)
    tried = f"{int(n[0]):,} to {int(n[-1]):,}"
    if not math.isfinite(point):
        note = f"the largest size tried ({int(n[-1]):,}) has power {y[-1]:.3f}: try larger sizes"
    elif y[0] >= target:
        note = f"reached at the smallest size tried ({int(n[0]):,}): try smaller sizes"
        lower = math.nan
    else:
        note = f"interpolated in log(n) between the sizes tried ({tried})"
    if lower == n[0] and y[0] < target:
        lower = math.nan  # the band reaches the target at or below the smallest size
    if math.isfinite(point) and not math.isfinite(upper):
        note += (
            f"; the lower end of its Monte Carlo band stays below {target:g} up to "
            f"{int(n[-1]):,} (larger sizes or more replicates bound it)"
        )

    def events(x: float) -> float:
        return float(np.interp(x, n, table.events)) if math.isfinite(x) else math.nan

    return TargetSize(
        target, point, lower, upper, events(point), events(lower), events(upper), note
    )


def power(
    scenario: Scenario | str,
    n: Sequence[int],
    *,
    reps: int = 200,
    seed: int = 0,
    jobs: int | None = None,
    scheduler: str | None = None,
    target: float | None = None,
    analysis: Analysis | None = None,
    expected: str | None = None,
    overrides: Mapping[str, object] | None = None,
    progress: bool = False,
) -> PowerResult:
    """Power and precision of a dose-response analysis at several study sizes, by simulation.

    Parameters
    ----------
    scenario : Scenario or str
        The truth (a shipped name such as ``"rotterdam"``, a .toml path, or a `Scenario`).
    n : sequence of int
        Study sizes [people], each at least `validate.MIN_STUDY_N`; sorted and made unique.
    reps : int
        Replicates per size; the Monte Carlo SE of a power p is sqrt(p (1 - p) / reps).
    seed : int
        The same seed gives the same table on any number of cores, locally or on dask.
    jobs : int, optional
        Local cores (default: all).
    scheduler : str, optional
        A dask.distributed scheduler's address (``tcp://host:8786``): the replicates run on its
        workers instead of local cores, with the same numbers.
    target : float, optional
        A power in (0, 1): also find the smallest size (and number of events) reaching it.
    analysis : Analysis, optional
        How each replicate is analysed (default `Analysis()` without the quintile table).
    expected : str, optional
        The verdict counted as power (default: `true_shape` of the scenario, e.g. ``U``).
    overrides : mapping, optional
        Scenario keys changed for this study, e.g. ``{"effect.curvature_low": 20}``
        (see `Scenario.with_overrides`); validated as the scenario file is.
    progress : bool
        Show a progress bar.

    Returns
    -------
    PowerResult
        ``table``: one row per size with ``n``, ``reps``, ``failed`` (replicates that could
        not be fitted), ``events`` (mean events), ``power`` and ``power_se``; ``rate_<verdict>``
        and ``rate_<verdict>_se`` for every verdict (``-`` written ``_``: ``rate_U``,
        ``rate_reverse_J``); ``nonlinear_power`` (+ ``_se``: the rms-style Wald test of the
        spline's nonlinear terms rejecting at ``shape_alpha``) and its p-values' 10th, 50th and
        90th percentiles ``nonlinear_p_q10/q50/q90``; ``nadir_found`` (an interior minimum),
        ``nadir_ci_bounded``, ``nadir_ci_width`` (median width of the nadir's CI in exposure
        units, unbounded CIs counted as infinitely wide) with its 95 % interval
        ``nadir_ci_width_lower/upper``; ``nadir_coverage``, ``corridor_lower_coverage``,
        ``corridor_upper_coverage`` (+ ``_se``; NaN without a true nadir). ``p_values``: every
        replicate's nonlinearity p. ``target``: a `TargetSize` or None.

    Examples
    --------
    >>> grid = power("rotterdam", n=[2000, 4000], reps=20, jobs=1, target=0.5)  # doctest: +SKIP
    >>> grid.table[["n", "events", "power", "power_se", "rate_U"]]  # doctest: +SKIP
    """
    s = load_scenario(scenario) if not isinstance(scenario, Scenario) else scenario
    if overrides:
        s = s.with_overrides(overrides)
    sizes = _sizes(n)
    if isinstance(reps, bool) or not isinstance(reps, int | np.integer) or reps < 2:
        raise InputError(f"reps={reps!r}: use at least 2 replicates per size (e.g. 200)")
    if target is not None and not (isinstance(target, float | int) and 0 < target < 1):
        raise InputError(f"target={target!r}: a power between 0 and 1, e.g. 0.8")
    expected = true_shape(s) if expected is None else expected
    if expected not in SHAPES:
        raise InputError(f"expected={expected!r}: use one of {', '.join(SHAPES)}")
    a = analysis if analysis is not None else Analysis(quintiles=False)
    studies = simulation_studies(
        s,
        sizes=sizes,
        reps=int(reps),
        analysis=a,
        seed=seed,
        jobs=jobs,
        backend="local" if scheduler is None else "dask",
        scheduler=scheduler,
        progress=progress,
    )
    table = pd.DataFrame([_row(st, expected, a.shape_alpha) for st in studies])
    p_values = pd.DataFrame(
        [
            {"n": st.n, "rep": i, "p": r.get("nonlinear_p", math.nan)}
            for st in studies
            for i, r in enumerate(st.records)
        ]
    )
    return PowerResult(
        s,
        a,
        expected,
        int(reps),
        seed,
        studies[0].seconds,
        table,
        p_values,
        None if target is None else target_size(table, float(target)),
        tuple(studies),
    )


def _sizes(n) -> list[int]:
    values = [n] if isinstance(n, int | np.integer) else list(n)
    if not values:
        raise InputError("n=[]: give the study sizes to try, e.g. n=[2000, 5000, 10000]")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise InputError(f"n: {v!r} is not a whole number of people, e.g. n=[2000, 5000]")
    return sorted({int(v) for v in values})
