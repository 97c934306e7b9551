"""The explorer's pure functions: from the controls' settings to what the page shows.

Nothing here knows about the browser. One update is ``simulate`` (or a user's table) ->
``fit`` -> ``view``: a `View` holds the run's `Results` (computed once, through
`DoseResponse.results`), the simultaneous band and the truth on the same reference, and every
panel of the page renders from it. ``draw_cohorts`` refits 20 cohorts of the same truth to show
what a confidence interval means. Every number comes from mgrisk's analysis (spline Cox fit,
`SplineCurve` bands, nadir, corridor and shape tests); the only new computations are the
truth's curve (`mgrisk.explore.truth`) and comparisons of the estimate with it.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from ..doseresponse import DoseResponse, fit_dose_response
from ..errors import InputError
from ..nadir import Nadir
from ..results import Results
from ..scenario import Scenario
from ..simulate import simulate_cohort
from .truth import CONFOUNDER, Truth, build_scenario

__all__ = [
    "DRAWS",
    "Columns",
    "Draws",
    "ExploreSettings",
    "View",
    "draw_cohorts",
    "explore",
    "fit",
    "guess_columns",
    "numbers",
    "parse_knots",
    "replicate_seed",
    "shape_in_words",
    "simulate",
    "view",
    "warm_up",
]

#: Cohorts drawn by "draw 20 cohorts".
DRAWS = 20
#: Bootstrap replicates when the nadir CI method is "bootstrap" (slower: seconds, not ms).
N_BOOT = 100
#: Expected verdicts of `mgrisk.shape` for each true shape (an L is a reverse J, or decreasing
#: when its minimum is at the upper edge of the data).
EXPECTED_VERDICT = {
    "U": ("U",),
    "J": ("J",),
    "L": ("reverse-J", "decreasing"),
    "flat": ("flat",),
    "increasing": ("increasing",),
}


@dataclass(frozen=True)
class Columns:
    """The columns of a user's table (``adjust`` is a formula, parsed, never run as code)."""

    exposure: str
    time: str
    event: str
    entry: str | None = None
    adjust: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class ExploreSettings:
    """Every control of the explorer.

    Parameters
    ----------
    truth : Truth
        The true curve (simulated cohorts only).
    n, follow_up : int, float
        Cohort size and longest follow-up in years (`mgrisk.explore.truth.build_scenario`).
    knots : int or tuple of float
        3 to 7 knots placed as ``rms::rcs``, or the knots themselves.
    adjust : bool
        Adjust for the confounder (diuretics) besides sex, eGFR and education.
    reference : "nadir", "median" or float
        Reference of the HR curve.
    corridor_rule, corridor_delta, corridor_level
        As `mgrisk.results.Options`: "delta" (HR vs nadir <= 1 + delta) or "ci".
    nadir_method : {"inversion", "delta", "bootstrap"}
    seed : int
        The same seed gives the same cohort.
    level : float
        Confidence level of the bands and the nadir's CI.
    """

    truth: Truth = field(default_factory=Truth)
    n: int = 9569
    follow_up: float = 16.0
    knots: int | tuple[float, ...] = 4
    adjust: bool = True
    reference: str | float = "nadir"
    corridor_rule: str = "delta"
    corridor_delta: float = 0.1
    corridor_level: float = 0.95
    nadir_method: str = "inversion"
    seed: int = 2017
    level: float = 0.95

    def describe(self, columns: Columns | None = None) -> str:
        """The settings in one line (figures' captions and downloads)."""
        knots = (
            f"{self.knots} knots"
            if isinstance(self.knots, int)
            else "knots " + ", ".join(f"{k:g}" for k in self.knots)
        )
        rule = (
            f"corridor HR <= 1 + {self.corridor_delta:g}"
            if self.corridor_rule == "delta"
            else f"corridor: {self.corridor_level:.0%} CI includes 1"
        )
        model = f"{knots}; ref {self.reference}; {rule}; nadir CI {self.nadir_method}"
        if columns is not None:
            adjust = columns.adjust or "none"
            return f"data: {columns.exposure}, adjusted for {adjust}; {model}"
        t = self.truth
        truth = f"truth {t.shape}, nadir {t.nadir:g}, HR {t.hr_low:g} / {t.hr_high:g} at -/+0.1"
        confounder = "adjusted for diuretics" if self.adjust else "NOT adjusted for diuretics"
        return (
            f"{truth}; n {self.n:,}, follow-up {self.follow_up:g} y, seed {self.seed}; "
            f"{confounder}; {model}"
        )

    def to_dict(self) -> dict:
        """Plain values (for a download's metadata)."""
        out = asdict(self)
        out["knots"] = self.knots if isinstance(self.knots, int) else list(self.knots)
        return out


@dataclass(frozen=True)
class View:
    """What one update shows: the results and the overlays, all on one reference."""

    settings: ExploreSettings
    results: Results
    simultaneous: pd.DataFrame  # hr_curve with the simultaneous band, same grid and reference
    quantile_points: pd.DataFrame | None  # category HRs on the curve's reference
    truth: pd.DataFrame | None  # exposure, hr: the true HR against the curve's reference
    true_nadir: float | None
    true_shape: str | None
    columns: Columns | None = None  # a user's table (None: a simulated cohort)
    seconds: float = 0.0  # time from settings to this view

    @property
    def reference(self) -> float:
        return float(self.results.curve.attrs["ref"])


@dataclass(frozen=True)
class Draws:
    """``DRAWS`` cohorts of one truth, each fitted: curves on a common grid and reference."""

    grid: np.ndarray
    reference: float
    curves: np.ndarray  # (draws, grid) estimated HR vs reference
    truth: np.ndarray  # (grid,) true HR vs reference
    nadirs: tuple[Nadir, ...]
    true_nadir: float | None
    label: str  # the exposure's axis label

    @property
    def covering(self) -> int:
        """How many nadir CIs contain the true nadir."""
        if self.true_nadir is None:
            return 0
        return sum(bool(n.interior and n.lower <= self.true_nadir <= n.upper) for n in self.nadirs)


_NUMBER = re.compile(r"[^\s,;]+")


def parse_knots(text: str) -> tuple[float, ...]:
    """Knots typed by hand: numbers separated by commas, semicolons or spaces.

    Examples
    --------
    >>> parse_knots("0.76, 0.82; 0.87 0.93")
    (0.76, 0.82, 0.87, 0.93)
    """
    parts = _NUMBER.findall(text or "")
    values = []
    for part in parts:
        try:
            values.append(float(part))
        except ValueError:
            raise InputError(
                f"knots: {part!r} is not a number; type 3 to 7 increasing numbers such as "
                "0.76, 0.82, 0.87, 0.93"
            ) from None
    if not 3 <= len(values) <= 7:
        raise InputError(
            f"knots: {len(values)} given; type 3 to 7 increasing numbers such as 0.76, 0.82, 0.87"
        )
    if not all(math.isfinite(v) for v in values) or np.any(np.diff(values) <= 0):
        raise InputError(f"knots {values}: they must be finite and increasing")
    return tuple(values)


def _check_knots(knots) -> None:
    if isinstance(knots, int) and not 3 <= knots <= 7:
        raise InputError(f"knots = {knots}: choose 3 to 7")


def simulate(settings: ExploreSettings) -> tuple[Scenario, pd.DataFrame]:
    """The scenario of the settings' truth and a cohort drawn from it (same seed, same cohort).

    Examples
    --------
    >>> scenario, cohort = simulate(ExploreSettings(n=500, seed=1))
    >>> len(cohort), scenario.effect.true_nadir
    (500, 0.85)
    """
    scenario = build_scenario(settings.truth, settings.n, settings.follow_up)
    return scenario, simulate_cohort(scenario, seed=int(settings.seed))


def _adjust_formula(scenario: Scenario, adjust: bool) -> str:
    names = scenario.covariate_names
    return " + ".join(n for n in names if adjust or n != CONFOUNDER[0])


def fit(
    data: pd.DataFrame,
    settings: ExploreSettings,
    scenario: Scenario | None = None,
    columns: Columns | None = None,
) -> DoseResponse:
    """Fit the spline Cox model to a simulated cohort (``scenario``) or a user's table
    (``columns``)."""
    _check_knots(settings.knots)
    knots = settings.knots if isinstance(settings.knots, int) else list(settings.knots)
    if columns is None:
        if scenario is None:
            raise InputError("fit: give the scenario of a simulated cohort or the columns")
        return fit_dose_response(
            data,
            scenario.exposure,
            "exit",
            "event",
            entry="entry",
            adjust=_adjust_formula(scenario, settings.adjust),
            knots=knots,
            unit=scenario.unit,
        )
    return fit_dose_response(
        data,
        columns.exposure,
        columns.time,
        columns.event,
        entry=columns.entry,
        adjust=columns.adjust,
        knots=knots,
        unit=columns.unit,
    )


def view(
    model: DoseResponse,
    settings: ExploreSettings,
    scenario: Scenario | None = None,
    columns: Columns | None = None,
) -> View:
    """The run's `Results` (computed once with the settings' options) and its overlays."""
    start = time.perf_counter()
    bootstrap = settings.nadir_method == "bootstrap"
    results = model.results(
        ref=settings.reference,
        level=settings.level,
        band="pointwise",
        nadir_method=settings.nadir_method,
        corridor_rule=settings.corridor_rule,
        corridor_delta=settings.corridor_delta,
        corridor_level=settings.corridor_level,
        n_boot=N_BOOT if bootstrap else 0,
        seed=int(settings.seed),
        jobs=1,
        progress=False,
    )
    curve = results.curve
    ref = float(curve.attrs["ref"])
    grid = curve.exposure.to_numpy()
    simultaneous = model.curve.hr_curve(grid, ref, settings.level, "simultaneous")
    points = results.quantile_points
    if points is not None:  # from the figure's reference (the nadir) to the curve's
        figure_ref = float(results.figure_curve.attrs["ref"])
        scale = float(model.curve.hr_curve(grid=[figure_ref], ref=ref).hr.iloc[0])
        points = points.assign(
            hr=points.hr * scale, lower=points.lower * scale, upper=points.upper * scale
        )
    truth = true_nadir = true_shape = None
    if scenario is not None:
        f = scenario.effect
        truth = pd.DataFrame({"exposure": grid, "hr": np.exp(f(grid) - f(ref))})
        true_nadir, true_shape = settings.truth.true_nadir, settings.truth.shape
    return View(
        settings,
        results,
        simultaneous,
        points,
        truth,
        true_nadir,
        true_shape,
        columns,
        time.perf_counter() - start,
    )


def explore(settings: ExploreSettings) -> View:
    """One full update for a simulated cohort: simulate, fit, compute the results.

    Examples
    --------
    >>> v = explore(ExploreSettings(n=2000, seed=3))
    >>> v.true_shape, v.results.model["n"]
    ('U', 2000)
    """
    start = time.perf_counter()
    scenario, cohort = simulate(settings)
    model = fit(cohort, settings, scenario)
    return replace(view(model, settings, scenario), seconds=time.perf_counter() - start)


def replicate_seed(seed: int, i: int) -> int:
    """The seed of replicate ``i`` of ``seed``: its own stream (`numpy.random.SeedSequence`)."""
    return int(np.random.SeedSequence(int(seed), spawn_key=(i,)).generate_state(1)[0])


def draw_cohorts(settings: ExploreSettings, draws: int = DRAWS) -> Draws:
    """Fit ``draws`` cohorts of the same truth (each with its own seed from the settings' seed)
    and collect their HR curves against the true nadir (or the truth's reference) and their
    nadirs with CIs (inversion when the settings ask for the slow bootstrap)."""
    method = "inversion" if settings.nadir_method == "bootstrap" else settings.nadir_method
    scenario = build_scenario(settings.truth, settings.n, settings.follow_up)
    ref = settings.truth.nadir
    grid = None
    curves, nadirs = [], []
    for i in range(draws):
        cohort = simulate_cohort(scenario, seed=replicate_seed(settings.seed, i))
        model = fit(cohort, settings, scenario)
        if grid is None:
            grid = model.curve.grid()
        curves.append(model.curve.hr_curve(grid, ref, settings.level).hr.to_numpy())
        nadirs.append(model.nadir(method, settings.level))
    f = scenario.effect
    return Draws(
        grid,
        ref,
        np.array(curves),
        np.exp(f(grid) - f(ref)),
        tuple(nadirs),
        settings.truth.true_nadir,
        model.curve.label,
    )


def guess_columns(names: list[str]) -> dict[str, str | None]:
    """Likely exposure, time, event and entry columns of a table (by common names).

    Examples
    --------
    >>> guess_columns(["id", "entry", "exit", "event", "mg"])["exposure"]
    'mg'
    """
    lower = {n.lower(): n for n in names}

    def first(*candidates):
        return next((lower[c] for c in candidates if c in lower), None)

    return {
        "exposure": first("mg", "magnesium", "serum_mg", "exposure")
        or (names[0] if names else None),
        "time": first("exit", "time", "futime", "stop", "age_exit"),
        "event": first("event", "status", "death", "dementia"),
        "entry": first("entry", "start", "age", "age_entry"),
    }


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _evidence(p: float, alpha: float) -> str:
    return "clear evidence" if p < alpha / 5 else "evidence" if p < alpha else "no clear evidence"


def shape_in_words(v: View) -> list[str]:
    """The shape verdict and its tests in plain words, one sentence each."""
    r = v.results
    out = []
    if v.true_shape is not None:
        out.append(f"The true curve is {v.true_shape}-shaped.")
    s = r.shape
    if s is None:
        out.append(f"The shape tests could not be run: {r.notes.get('shape', 'no reason given')}.")
        return out
    verdict = f"The tests call the estimated curve {s.verdict} (at level {s.alpha:g})."
    if v.true_shape is not None:
        agree = s.verdict in EXPECTED_VERDICT[v.true_shape]
        verdict += (
            " That matches the truth."
            if agree
            else " That is not the truth's shape: try more people, longer follow-up or "
            "another seed."
        )
    out.append(verdict)
    out.append(
        f"Is risk related to the exposure at all? {_evidence(s.association_p, s.alpha)} "
        f"(overall test of the spline, {_p(s.association_p)})."
    )
    name = r.model["exposure"]
    key = f"{name}: nonlinear"
    if key in r.anova.index:
        p = float(r.anova.loc[key, "p"])
        out.append(
            f"Does the curve bend? {_evidence(p, s.alpha)} (test of the nonlinear terms, {_p(p)})."
        )
    lm = s.lind_mehlum
    out.append(
        f"Does risk fall at the low end ({lm['x_low']:.3g}) and rise at the high end "
        f"({lm['x_high']:.3g})? Slopes {lm['slope_low']:+.3g} and {lm['slope_high']:+.3g} per "
        f"unit; Lind-Mehlum test of a U, {_p(lm['p_u'])}."
    )
    tl = s.two_lines
    if "p_low" in tl:
        out.append(
            f"Two straight lines meeting at {tl['breakpoint']:.3g}: slope {tl['slope_low']:+.3g} "
            f"({_p(tl['p_low'])}) then {tl['slope_high']:+.3g} ({_p(tl['p_high'])}); a U needs "
            "both significant with opposite signs."
        )
    return out


def numbers(v: View) -> dict[str, str]:
    """The page's key numbers as text: label -> value."""
    r = v.results
    unit = f" {r.model['unit']}" if r.model["unit"] else ""
    nadir = r.nadir
    if nadir.interior:
        nadir_text = (
            f"{nadir.estimate:.3f}{unit} ({nadir.level:.0%} CI {nadir.lower:.3f} to "
            f"{nadir.upper:.3f}, {nadir.method})"
        )
        if not nadir.bounded:
            nadir_text += ": not supported, " + nadir.note
    else:
        nadir_text = f"none inside the data ({nadir.note})"
    c = r.corridor
    out = {
        "people": f"{r.model['n']:,}",
        "events": f"{r.model['n_events']:,}",
        "knots": ", ".join(f"{k:.3g}" for k in r.model["knots"]),
        "reference": f"{v.reference:.3f}{unit}",
        "nadir": nadir_text,
        "corridor": f"{c.lower:.3f} to {c.upper:.3f}{unit} ({c.definition})",
    }
    if v.true_nadir is not None:
        out["true nadir"] = f"{v.true_nadir:.3f}{unit}"
    if v.truth is not None:
        truth = v.truth.hr.to_numpy()
        inside = (r.curve.lower <= truth) & (truth <= r.curve.upper)
        sim = v.simultaneous
        everywhere = bool(np.all((sim.lower <= truth) & (truth <= sim.upper)))
        out["truth inside the bands"] = (
            f"pointwise: {inside.mean():.0%} of the grid; simultaneous: "
            f"{'everywhere' if everywhere else 'not everywhere'}"
        )
    out["update"] = f"{v.seconds * 1000:.0f} ms"
    return out


def warm_up() -> None:
    """Compile every kernel an update uses (serial and threaded builds), once per process."""
    for n in (600, 12_000):
        explore(ExploreSettings(n=n, seed=1))
    draw_cohorts(ExploreSettings(n=600, seed=1), draws=1)
