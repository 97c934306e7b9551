"""A run's results, computed once: what text, JSON, CSV, HTML and figures render.

`compute_results` asks a fitted `DoseResponse` for each result once, with the `Options` that
say how (reference, CI methods, corridor rule, bootstrap, categories, test level), and stores
them with those options. Renderers (`mgrisk.report`, `mgrisk.html_report`, `mgrisk.plot`) read
a `Results` and compute nothing, so every output of one run states the same numbers. A result
that cannot be estimated (a quantile category without events, say) is kept as a note in its
section instead of failing the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.special import ndtr

from . import __version__
from .cox import Test
from .curve import ExposureSummary
from .errors import MgriskError
from .nadir import Corridor, Nadir
from .quantiles import QuantileTable
from .shape import ShapeResult

if TYPE_CHECKING:
    from .checks.summary import ModelChecks
    from .doseresponse import DoseResponse

__all__ = ["Options", "Results", "compute_results"]


@dataclass(frozen=True)
class Options:
    """How a run's results are computed.

    ``ref`` (None: the fit's reference) and ``level``/``band`` define the HR curve;
    ``nadir_method`` is the nadir CI ("inversion": coverage measured 0.94-0.95; see
    `SplineCurve.nadir`); the corridor uses ``corridor_rule`` ("delta": HR vs the nadir at
    most 1 + ``corridor_delta``; "ci") at ``corridor_level``; ``n_boot`` > 0 gives the corridor
    ends bootstrap CIs (and the nadir, with ``nadir_method="bootstrap"``); ``quantiles``
    categories; ``alpha`` the level of the shape tests; ``lr_test`` adds the likelihood-ratio
    test of nonlinearity (the Wald test of the nonlinear terms is always in ``anova``);
    ``checks`` adds the model checks (`mgrisk.checks.summary.ModelChecks`, tested at ``alpha``).
    """

    ref: str | float | None = None
    level: float = 0.95
    band: str = "pointwise"
    nadir_method: str = "inversion"
    corridor_rule: str = "delta"
    corridor_delta: float = 0.1
    corridor_level: float = 0.95
    n_boot: int = 0
    seed: int = 0
    jobs: int | None = field(default=None, compare=False)
    progress: bool = field(default=False, compare=False)
    quantiles: int = 5
    alpha: float = 0.05
    lr_test: bool = False  # the likelihood-ratio test of nonlinearity (fits the linear model)
    checks: bool = False  # model checks (PH tests, concordance, residuals; `mgrisk fit`: on)


@dataclass(frozen=True)
class Results:
    """Every result of one run, with the options that produced them."""

    options: Options
    model: dict  # what was fitted: data, model, conventions (see `describe`)
    coefficients: pd.DataFrame  # coef, se, z, p (spline terms are not HRs)
    anova: pd.DataFrame
    lr_nonlinear: Test | None
    curve: pd.DataFrame  # the HR curve versus the reference (options.ref)
    figure_curve: pd.DataFrame  # the HR curve versus the nadir (or the reference without one)
    nadir: Nadir
    corridor: Corridor
    shape: ShapeResult | None
    quantiles: QuantileTable | None
    quantile_points: pd.DataFrame | None  # category medians and HRs on figure_curve's scale
    exposure: ExposureSummary
    notes: dict[str, str] = field(default_factory=dict)  # section -> why it is missing
    n_fits: int = 0  # Cox fits this run made
    checks: ModelChecks | None = None  # PH tests, concordance, residual pictures (mgrisk.checks)
    evalues: pd.DataFrame | None = None  # E-values of the quantile and percentile contrasts

    @property
    def nadir_supported(self) -> bool:
        """An interior minimum whose confidence set is bounded inside the data."""
        return bool(self.nadir.interior and self.nadir.bounded)


def _section(notes: dict, name: str, compute):
    """A section's result, or None with the reason kept in ``notes``."""
    try:
        return compute()
    except MgriskError as exc:
        notes[name] = str(exc)
        return None


def describe(fit: DoseResponse) -> dict:
    """What was fitted, in the user's words (the methods paragraph is written from this)."""
    s, cohort = fit.settings, fit.cohort
    x = fit.x
    centiles = [float((x < k).mean() * 100 + (x == k).mean() * 50) for k in s.knots]
    events = cohort.event_counts
    return {
        "exposure": s.exposure,
        "unit": s.unit,
        "label": fit.curve.label,
        "event": s.event,
        "cause": s.cause,
        "hazard": "subdistribution (Fine-Gray)" if s.model == "fine-gray" else "cause-specific",
        "ratio": fit.curve.ratio,
        "competing_codes": sorted(k for k in events if k not in (0, s.cause)),
        "time": s.time,
        "entry": s.entry,
        "time_unit": s.time_unit,
        "adjust": s.adjust,
        "strata": s.strata,
        "weights": s.weights,
        "cluster": s.cluster,
        "ties": s.ties,
        "timefix": s.timefix,
        "robust": s.robust,
        "knots": list(s.knots),
        "knot_centiles": centiles,
        "n": fit.n,
        "n_input": cohort.n_input,
        "n_dropped": cohort.n_dropped,
        "dropped": dict(cohort.dropped),
        "event_counts": dict(events),
        "n_events": fit.n_events,
        "person_time": float(fit.person_time.sum()),
        "software": f"mgrisk {__version__}",
        "imputation": fit.imputation,
    }


def _coefficients(fit: DoseResponse) -> pd.DataFrame:
    """coef, se (robust when the fit is; then model_se too), z, p: no exponentiated "HRs",
    meaningless for spline terms."""
    c = fit.cox
    z = c.coef / c.se
    table = pd.DataFrame({"coef": c.coef, "se": c.se, "z": z, "p": 2 * ndtr(-np.abs(z))})
    if c.robust:
        table.insert(2, "model_se", c.model_se)
    return table


def _quantile_points(table: pd.DataFrame, x: np.ndarray, fit, ref: float) -> pd.DataFrame:
    """Category HRs placed on the curve's reference: each category's median exposure, and its
    HR (vs the reference category) times the curve's HR at the reference category's median."""
    cats = np.searchsorted(table.upper_bound.to_numpy()[:-1], x, side="left")
    medians = np.array([np.median(x[cats == k]) for k in range(len(table))])
    k_ref = int(np.flatnonzero(table.hr.to_numpy() == 1.0)[0])
    scale = fit.curve.hr_curve(grid=[medians[k_ref]], ref=ref).hr.iloc[0]
    return pd.DataFrame(
        {
            "category": table.index,
            "exposure": medians,
            "hr": table.hr.to_numpy() * scale,
            "lower": table.lower.to_numpy() * scale,
            "upper": table.upper.to_numpy() * scale,
        }
    )


def checks_section(fit: DoseResponse, alpha: float = 0.05) -> tuple:
    """The model checks (or None), the note saying why they are missing, and the Cox fits
    they made: what `with_checks` adds to a run's results (they may be computed in another
    process: the fits are counted there, and added here)."""
    from .checks.summary import model_checks

    notes, before = {}, fit.n_fits
    checks = _section(notes, "checks", lambda: model_checks(fit, alpha))
    made, fit.n_fits = fit.n_fits - before, before
    return checks, notes, made


def with_checks(results: Results, section: tuple) -> Results:
    """``results`` with the model checks of `checks_section` added."""
    checks, notes, made = section
    return replace(
        results,
        options=replace(results.options, checks=True),
        checks=checks,
        notes={**results.notes, **notes},
        n_fits=results.n_fits + made,
    )


def compute_results(fit: DoseResponse, options: Options) -> Results:
    """Compute every result of a run once (each Cox fit made once)."""
    o, notes = options, {}
    boot = dict(n_boot=o.n_boot, seed=o.seed, jobs=o.jobs, progress=o.progress)
    nadir_boot = boot if o.nadir_method == "bootstrap" else {}
    nadir = fit.nadir(o.nadir_method, o.level, **nadir_boot)
    corridor = fit.corridor(o.corridor_rule, o.corridor_delta, o.corridor_level, **boot)
    ref = fit.settings.reference if o.ref is None else o.ref
    curve = fit.hr_curve(ref=ref, level=o.level, band=o.band)
    figure_ref = nadir.estimate if nadir.interior else curve.attrs["ref"]
    figure_curve = fit.hr_curve(ref=figure_ref, level=o.level, band=o.band)
    quantiles = _section(notes, "quantiles", lambda: fit.quantile_table(q=o.quantiles))
    if quantiles is not None and _section(notes, "p_trend", lambda: quantiles.p_trend) is None:
        quantiles = None
    points = None
    if quantiles is not None:
        points = _quantile_points(quantiles.table, fit.x, fit, figure_ref)
    shape = _section(notes, "shape", lambda: fit.shape(o.alpha))
    lr = _section(notes, "lr_nonlinear", fit.lr_test) if o.lr_test else None
    evalues = _section(notes, "evalues", lambda: fit.evalues(q=o.quantiles))
    results = Results(
        options=o,
        model=describe(fit),
        coefficients=_coefficients(fit),
        anova=fit.anova(),
        lr_nonlinear=lr,
        curve=curve,
        figure_curve=figure_curve,
        nadir=nadir,
        corridor=corridor,
        shape=shape,
        quantiles=quantiles,
        quantile_points=points,
        exposure=fit.curve.x,
        notes=notes,
        n_fits=fit.n_fits,
        evalues=evalues,
    )
    return with_checks(results, checks_section(fit, o.alpha)) if o.checks else results
