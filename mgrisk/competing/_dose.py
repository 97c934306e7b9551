"""The competing-risks side of a dose-response analysis: Fine-Gray data and absolute risk.

`mgrisk.doseresponse` calls these (``model="fine-gray"`` and ``DoseResponse.absolute_risk``)
with the analysis' settings, complete-case cohort and design; they never refit what the
analysis already has and never import the analysis layer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..cox import CoxResult, fit_prepared, prepare_cox
from ..data import CohortData, formula_columns
from ..design import Design
from ..errors import InputError
from .absolute import absolute_risk
from .finegray import prepare_fine_gray

__all__ = ["MODELS", "absolute_risk_curve", "cause_specific_fits", "fine_gray_prepared"]

MODELS = ("cause-specific", "fine-gray")


def _column(frame: pd.DataFrame, name: str | None):
    return None if name is None else frame[name].to_numpy()


def fine_gray_prepared(settings, frame: pd.DataFrame, design: Design):
    """The Fine-Gray data of the design (clustered by person, or by ``settings.cluster``) and,
    for each prepared row, the frame row it comes from."""
    s = settings
    prepared, rows = prepare_fine_gray(
        design.matrix,
        frame[s.time].to_numpy(dtype=float),
        frame[s.event].to_numpy(dtype=float),
        entry=None if s.entry is None else frame[s.entry].to_numpy(dtype=float),
        strata=_column(frame, s.strata),
        weights=None if s.weights is None else frame[s.weights].to_numpy(dtype=float),
        cluster=_column(frame, s.cluster),
        cause=s.cause,
        fix_ties=s.timefix,
    )
    return prepared, rows.row


def cause_specific_fits(
    settings, cohort: CohortData, design: Design, own: CoxResult | None
) -> dict[int, CoxResult]:
    """A cause-specific Cox model for every cause in the data, with the design, rows, entry,
    strata, weights and ties of the analysis (``own``: its fit of the cause, if cause-specific)."""
    s, frame = settings, cohort.frame
    event = frame[s.event].to_numpy()
    fits = {}
    for k in sorted(c for c in cohort.event_counts if c > 0):
        if k == s.cause and own is not None:
            fits[k] = own
            continue
        prepared = prepare_cox(
            design.matrix,
            frame[s.time],
            (event == k).astype(float),
            entry=None if s.entry is None else frame[s.entry],
            strata=_column(frame, s.strata),
            weights=None if s.weights is None else frame[s.weights],
            fix_ties=s.timefix,
        )
        fits[k] = fit_prepared(prepared, ties=s.ties)
    return fits


def _default_profile(frame: pd.DataFrame, columns: list[str]) -> dict:
    """Median of each continuous covariate, mode (the smallest if tied) of the others."""
    at = {}
    for c in columns:
        v = frame[c]
        continuous = pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v)
        if continuous and v.nunique() > 2:
            at[c] = float(v.median())
        else:
            at[c] = v.mode().sort_values().iloc[0]
            at[c] = at[c].item() if isinstance(at[c], np.generic) else at[c]
    return at


def absolute_risk_curve(
    settings,
    cohort: CohortData,
    design: Design,
    own: CoxResult | None,
    grid,
    at: dict | None = None,
    time: float | None = None,
    *,
    start: float | None = None,
    level: float = 0.95,
    conf_type: str = "log-log",
) -> pd.DataFrame:
    """Cumulative incidence of the analysis' cause by ``time`` across the exposure grid (see
    `DoseResponse.absolute_risk`)."""
    s, frame = settings, cohort.frame
    if time is None:
        raise InputError(
            "time=: give the horizon in the time scale's unit (e.g. time=10 for 10 years; with "
            "age as the time scale an age, e.g. time=85 with start=70)"
        )
    time = float(time)
    if s.entry is not None and start is None:
        raise InputError(
            "start=: with entry times (age as the time scale) give the age from which the "
            f"risk runs (the person is event-free then), e.g. start=70 and time=85; ages at "
            f"entry range from {frame[s.entry].min():.4g} to {frame[s.entry].max():.4g}"
        )
    start = 0.0 if start is None else float(start)
    if s.entry is not None and start < frame[s.entry].min():
        raise InputError(
            f"start={start:g} is before the earliest entry ({frame[s.entry].min():.4g}): no one "
            "was under observation then, so the hazards there are unknown"
        )
    if time > frame[s.time].max():
        raise InputError(
            f"time={time:g} is after the end of follow-up ({frame[s.time].max():.4g}); the "
            "risk cannot be estimated there"
        )
    covariates = [c for c in formula_columns(s.adjust, frame) if c != s.exposure]
    if s.strata is not None and s.strata not in covariates:
        covariates.append(s.strata)
    profile = _default_profile(frame, covariates)
    unknown = sorted(set(at or {}) - set(covariates))
    if unknown:
        raise InputError(f"at: {unknown} are not covariates of the model ({covariates})")
    profile.update(at or {})
    grid = np.atleast_1d(np.asarray(grid, dtype=float))
    new = pd.DataFrame({s.exposure: grid} | {c: [v] * grid.size for c, v in profile.items()})
    fits = cause_specific_fits(s, cohort, design, own)
    design = design.build(new)
    out = absolute_risk(
        fits,
        design,
        cause=s.cause,
        time=time,
        start=start,
        stratum=None if s.strata is None else profile[s.strata],
        cluster=_column(frame, s.cluster),
        level=level,
        conf_type=conf_type,
    )
    out.insert(0, "exposure", grid)
    out.attrs.update(
        time=time,
        start=start,
        at=profile,
        cause=s.cause,
        causes=sorted(fits),
        level=level,
        conf_type=conf_type,
        method=(
            f"cumulative incidence of cause {s.cause} in ({start:g}, {time:g}] for someone "
            "event-free at the start, from cause-specific Cox models of causes "
            f"{sorted(fits)} (product limit, as riskRegression::CSC + predictRisk); "
            f"{level:.0%} pointwise CIs by the delta method (influence functions), on the "
            f"{conf_type} scale"
        ),
    )
    return out
