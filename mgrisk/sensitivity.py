"""The sensitivity panel: one analysis re-run under other assumptions, in one table and figure.

Variants of a fitted `DoseResponse` (each a new fit on the same data unless said otherwise):

- **early follow-up excluded** (reverse causation: prodromal dementia changes Mg): follow-up
  starts ``years`` after a person's first entry (with age as the time scale: entry age + years,
  so the time since entry, not age, is cut); rows ending before are dropped, others enter late;
- **lagged exposure** where people have repeated rows (``cluster`` names the person): each
  interval gets the exposure of the person's previous interval, first intervals dropped;
- **3 to 6 knots**, with the AIC (-2 log partial likelihood + 2 coefficients) and its choice;
- **fractional polynomials** (`mgrisk.fracpoly`): best FP1 and FP2 and the function selection
  procedure's choice;
- **complete cases versus imputed** when ``imputed`` (m completed data sets or a pooled fit) is
  given.

Spline variants keep the main analysis' knots (so curves differ by data, not by knot placement)
except in the knots rows. Each row: n, events, nadir with its CI (test inversion for splines,
the same on a grid for FPs; empty unless the minimum is inside the data and the CI bounded), the
corridor (HR versus the nadir <= 1 + delta), the shape verdict (splines: `mgrisk.shape`), p for
nonlinearity (splines: Wald test of the nonlinear terms; FPs: the deviance test against the
linear model) and the AIC. A variant that cannot be fitted becomes a row with a note. For pooled
imputations the log-likelihood (AIC, FP deviances) is the mean over the imputations: a
heuristic for comparing models, not a likelihood.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .errors import InputError, MgriskError
from .fracpoly import FPFit, select_fp

__all__ = ["SensitivityPanel", "sensitivity_panel"]

COLUMNS = (
    "n",
    "events",
    "nadir",
    "nadir_lower",
    "nadir_upper",
    "corridor_lower",
    "corridor_upper",
    "shape",
    "p_nonlinear",
    "aic",
    "note",
)


@dataclass(frozen=True)
class SensitivityPanel:
    """The panel's table (one row per variant) and each variant's HR curve versus the main
    analysis' reference (``curves``: variant -> DataFrame as `hr_curve`)."""

    table: pd.DataFrame
    curves: dict[str, pd.DataFrame]
    reference: float
    label: str
    notes: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        fmt = lambda v: f"{v:.4g}"  # noqa: E731
        return f"Sensitivity analyses (HR curves vs {self.reference:.4g}):\n" + self.table.drop(
            columns="note"
        ).to_string(float_format=fmt)


def _frames(fit) -> list[pd.DataFrame]:
    """The analysed rows (one frame, or one per imputation), renumbered from 0: a cohort frame
    keeps the input positions as its index, which a new `check_cohort` would misalign."""
    fits = fit.fits if hasattr(fit, "fits") else [fit]
    return [f.cohort.frame.reset_index(drop=True) for f in fits]


def _refit(fit, frames, **changes):
    from .doseresponse import fit_dose_response

    s = asdict(fit.settings)
    s.update(changes)
    keys = (
        "entry",
        "adjust",
        "cause",
        "strata",
        "weights",
        "cluster",
        "ties",
        "robust",
        "unit",
        "model",
        "timefix",
        "time_unit",
    )
    kw = {k: s[k] for k in keys}
    kw["knots"] = changes.get("knots", list(fit.knots))
    data = frames if len(frames) > 1 else frames[0]
    return fit_dose_response(data, s["exposure"], s["time"], s["event"], **kw)


def _exclude_early(frame: pd.DataFrame, s, years: float) -> pd.DataFrame:
    """Follow-up from ``years`` after the person's first entry (time since entry)."""
    d = frame.copy()
    entry = d[s.entry] if s.entry else pd.Series(0.0, index=d.index)
    first = entry.groupby(d[s.cluster]).transform("min") if s.cluster else entry
    start = np.maximum(entry, first + years)
    d["_entry_late"] = start
    return d[d[s.time] > start].reset_index(drop=True)


def _lagged(frame: pd.DataFrame, s) -> pd.DataFrame:
    if not s.cluster or not frame[s.cluster].duplicated().any():
        raise InputError("no repeated rows per person (cluster): the exposure cannot be lagged")
    order = [s.cluster, s.entry or s.time]
    d = frame.sort_values(order).copy()
    d["_lagged"] = d.groupby(s.cluster)[s.exposure].shift(1)
    return d[d["_lagged"].notna()].reset_index(drop=True)


def _spline_row(f, s, delta, alpha, level) -> dict:
    nadir = f.nadir("inversion", level)
    ok = nadir.interior and nadir.bounded
    c = f.corridor("delta", delta, level)
    try:
        shape = f.shape(alpha).verdict
    except MgriskError as exc:
        shape = f"n/a ({exc})"
    nonlin = f.anova().loc[f"{f.settings.exposure}: nonlinear", "p"]
    return {
        "n": f.n,
        "events": f.n_events,
        "nadir": nadir.estimate if ok else np.nan,
        "nadir_lower": nadir.lower if ok else np.nan,
        "nadir_upper": nadir.upper if ok else np.nan,
        "corridor_lower": c.lower,
        "corridor_upper": c.upper,
        "shape": shape,
        "p_nonlinear": float(nonlin),
        "aic": float(-2 * f.loglik[1] + 2 * len(f.coef)),
        "note": "",
    }


def _fp_row(fit, fp: FPFit, p_nonlinear: float, delta: float, level: float) -> dict:
    curve = fp.curve
    x0, interior = curve.minimum()
    lo, hi = curve.nadir_ci(level)
    ok = interior and np.isfinite(lo) and np.isfinite(hi)
    c_lo, c_hi = curve.corridor(delta)
    return {
        "n": fit.n,
        "events": fit.n_events,
        "nadir": x0 if ok else np.nan,
        "nadir_lower": lo if ok else np.nan,
        "nadir_upper": hi if ok else np.nan,
        "corridor_lower": c_lo,
        "corridor_upper": c_hi,
        "shape": "minimum inside the data" if interior else "minimum at the edge",
        "p_nonlinear": p_nonlinear,
        "aic": fp.deviance + 2 * fp.n_coef,
        "note": "",
    }


def sensitivity_panel(
    fit,
    *,
    exclude_years=(2, 5),
    knots=(3, 4, 5, 6),
    fp: bool = True,
    lag: bool = True,
    imputed=None,
    delta: float = 0.1,
    alpha: float = 0.05,
    level: float = 0.95,
    grid=None,
) -> SensitivityPanel:
    """Re-run a dose-response analysis under other assumptions (see the module docstring).

    Parameters
    ----------
    fit : DoseResponse
        The main analysis (a pooled fit of imputations works too).
    exclude_years : tuple of float
        Years of follow-up after entry to exclude, one variant each (time units of the data).
    knots : tuple of int
        Numbers of knots to compare by AIC.
    fp : bool
        Add the best FP1, FP2 and the function selection procedure's choice.
    lag : bool
        Add the lagged exposure where people have repeated rows.
    imputed : list of DataFrame or DoseResponse, optional
        Completed data sets (or their pooled fit): adds the imputed analysis next to ``fit``
        (then read as the complete-case analysis).
    delta, alpha, level : float
        Corridor (HR vs nadir <= 1 + delta), shape test level, CI level.
    grid : array, optional
        Exposure values of the curves (default: the main curve's grid).

    Returns
    -------
    SensitivityPanel

    Examples
    --------
    >>> panel = fit.sensitivity(imputed=completed)  # doctest: +SKIP
    >>> print(panel.table[["n", "events", "nadir", "p_nonlinear"]])  # doctest: +SKIP
    """
    s = fit.settings
    if s.model != "cause-specific":
        raise InputError(
            "sensitivity(): cause-specific models only (refit with model='cause-specific')"
        )
    grid = fit.curve.grid() if grid is None else np.asarray(grid, dtype=float)
    ref = fit.reference_value()
    rows, curves, notes = {}, {}, {}

    def add(name, make):
        try:
            f = make()
            rows[name] = _spline_row(f, s, delta, alpha, level)
            curves[name] = f.curve.hr_curve(grid, ref, level)
            return f
        except MgriskError as exc:
            rows[name] = {c: np.nan for c in COLUMNS} | {"shape": "", "note": str(exc)}
            notes[name] = str(exc)
            return None

    main = "complete cases" if imputed is not None else "main analysis"
    add(f"{main} ({len(fit.knots)} knots)", lambda: fit)
    if imputed is not None:
        m = len(imputed.fits) if hasattr(imputed, "fits") else len(imputed)
        add(
            f"imputed (m = {m})",
            lambda: imputed if hasattr(imputed, "fits") else _refit(fit, list(imputed)),
        )
    for years in exclude_years:
        add(
            f"first {years:g} {s.time_unit} excluded",
            lambda y=years: _refit(
                fit, [_exclude_early(d, s, y) for d in _frames(fit)], entry="_entry_late"
            ),
        )
    if lag:
        has_repeats = bool(s.cluster) and fit.cohort.frame[s.cluster].duplicated().any()
        if has_repeats:
            add(
                "exposure lagged one interval",
                lambda: _refit(fit, [_lagged(d, s) for d in _frames(fit)], exposure="_lagged"),
            )
        else:
            notes["lagged"] = "no repeated rows per person: the lagged exposure was not fitted"
    aic = {}
    for k in knots:
        name = f"{int(k)} knots"
        f = add(name, lambda k=k: _refit(fit, _frames(fit), knots=int(k)))
        if f is not None:
            aic[name] = rows[name]["aic"]
    if aic:
        best = min(aic, key=aic.get)
        rows[best]["note"] = "lowest AIC of the knots"
    if fp:
        try:
            sel = select_fp(fit, alpha)
            lin = sel.linear.deviance
            for label, f, df in (("FP1", sel.best_fp1, 1), ("FP2", sel.best_fp2, 3)):
                from scipy.special import chdtrc

                p = float(chdtrc(df, max(lin - f.deviance, 0.0)))
                name = f"{label} {f.curve.name}"
                rows[name] = _fp_row(fit, f, p, delta, level)
                curves[name] = f.curve.hr_curve(grid, ref, level)
            chosen = {"null": "no association", "linear": "linear"}.get(sel.selected, sel.selected)
            tests = "; ".join(f"{k}: p = {v[2]:.3g}" for k, v in sel.tests.items())
            notes["fp_selection"] = f"function selection (alpha {alpha}): {chosen} ({tests})"
            if sel.selected in ("FP1", "FP2"):
                rows[f"{sel.selected} {sel.chosen.curve.name}"]["note"] = "selected by the FSP"
        except MgriskError as exc:
            notes["fp_selection"] = str(exc)
    table = pd.DataFrame.from_dict(rows, orient="index")[list(COLUMNS)]
    table.index.name = "variant"
    return SensitivityPanel(table, curves, ref, fit.curve.label, notes)
