"""Text summary and the JSON schema of a dose-response result.

``DoseResponse.to_dict()`` schema (stable keys; exposure values in the exposure's unit):

- ``exposure``, ``unit``, ``cause``: str, str, int
- ``n``, ``n_events``, ``n_dropped``: int; ``dropped``: {column: rows}; ``event_counts``:
  {code: rows}
- ``model``: {``ties``, ``time``, ``entry``, ``adjust``, ``strata``, ``robust``}
- ``knots``: [float]; ``coef``, ``se``: {name: float}; ``loglik``: [null, final]
- ``anova``: [{``term``, ``chi2``, ``df``, ``p``}]; ``lr_nonlinear``: {``chi2``, ``df``, ``p``}
- ``reference``: float; ``curve``: [{``exposure``, ``log_hr``, ``se``, ``hr``, ``lower``,
  ``upper``}] (pointwise 95 %)
- ``nadir``: {``estimate``, ``lower``, ``upper``, ``method``, ``level``, ``interior``,
  ``bounded``, ``note``} (delta method)
- ``corridor``: {``lower``, ``upper``, ``rule``, ``definition``, ``nadir``, ``open_lower``,
  ``open_upper``, ``lower_ci``, ``upper_ci``, ``n_boot``}
- ``shape``: {``verdict``, ``alpha``, ``association_p``, ``lind_mehlum``, ``two_lines``}
- ``quantiles``: {``table``: [{``category``, ``interval``, ``n``, ``events``,
  ``person_years``, ``rate_per_1000py``, ``hr``, ``lower``, ``upper``, ``p``}], ``p_trend``,
  ``reference``, ``convention``}
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .doseresponse import DoseResponse

__all__ = ["json_safe", "result_dict", "summary_text"]


def json_safe(value):
    """JSON-safe: numpy scalars and arrays to Python, NaN to None."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def result_dict(fit: DoseResponse, *, corridor_delta: float = 0.1) -> dict:
    s = fit.settings
    anova = fit.anova()
    curve = fit.hr_curve()
    quant = fit.quantile_table()
    shape = fit.shape()
    lr = fit.lr_test()
    return json_safe(
        {
            "exposure": s.exposure,
            "unit": s.unit,
            "cause": s.cause,
            "n": fit.n,
            "n_events": fit.n_events,
            "n_dropped": fit.n_dropped,
            "dropped": fit.cohort.dropped,
            "event_counts": fit.cohort.event_counts,
            "model": {
                "ties": s.ties,
                "time": s.time,
                "entry": s.entry,
                "adjust": s.adjust,
                "strata": s.strata,
                "robust": s.robust,
                "hazard": (
                    "subdistribution (Fine-Gray)"
                    if getattr(s, "model", "cause-specific") == "fine-gray"
                    else "cause-specific"
                ),
            },
            "knots": list(fit.knots),
            "coef": fit.coef.to_dict(),
            "se": fit.se.to_dict(),
            "loglik": list(fit.loglik),
            "anova": [{"term": t, **row} for t, row in anova.to_dict("index").items()],
            "lr_nonlinear": asdict(lr),
            "reference": curve.attrs["ref"],
            "curve": curve.to_dict("records"),
            "nadir": asdict(fit.nadir()) | {"intervals": None},
            "corridor": asdict(fit.corridor(delta=corridor_delta)),
            "shape": {
                "verdict": shape.verdict,
                "alpha": shape.alpha,
                "association_p": shape.association_p,
                "lind_mehlum": shape.lind_mehlum,
                "two_lines": shape.two_lines,
            },
            "quantiles": {
                "table": quant.table.reset_index().to_dict("records"),
                "p_trend": quant.p_trend,
                "reference": quant.reference,
                "convention": quant.convention,
            },
        }
    )


def summary_text(fit: DoseResponse, *, corridor_delta: float = 0.1) -> str:
    s = fit.settings
    u = s.unit
    counts = ", ".join(f"{k}: {v}" for k, v in fit.cohort.event_counts.items())
    dropped = (
        f"{fit.n_dropped} dropped for missing values ("
        + ", ".join(f"{c}: {v}" for c, v in fit.cohort.dropped.items())
        + ")"
        if fit.n_dropped
        else "none dropped for missing values"
    )
    time_scale = (
        f"counting process ({s.entry}, {s.time}] (e.g. age as the time scale)"
        if s.entry
        else f"follow-up time {s.time}"
    )
    nadir = fit.nadir()
    corridor = fit.corridor(delta=corridor_delta)
    fine_gray = getattr(s, "model", "cause-specific") == "fine-gray"
    lines = [
        f"Dose-response: {s.exposure} ({u}) and event code {s.cause} of '{s.event}'",
        f"rows analysed: {fit.n} of {fit.cohort.n_input} ({dropped}); event codes: {counts}"
        + (
            (
                "; other causes stay in the risk set with censoring weights (Fine-Gray "
                "subdistribution hazards)"
                if fine_gray
                else "; other causes are censored (cause-specific hazards)"
            )
            if len(fit.cohort.event_counts) > 2
            else ""
        ),
        (
            f"Fine-Gray model: HRs are subdistribution HRs ({fit.cox.n} weighted rows as R's "
            "finegray; "
            if fine_gray
            else "Cox model ("
        )
        + f"{s.ties} ties, {'robust' if s.robust else 'model-based'} variance), "
        f"{time_scale}; rcs({s.exposure}) knots: "
        + ", ".join(f"{k:.4g}" for k in fit.knots)
        + (f"; adjusted for {s.adjust}" if s.adjust else ""),
        "",
        fit.cox.summary().to_string(float_format=lambda v: f"{v:.4g}"),
        "",
        "Wald tests (as rms::anova):",
        fit.anova().to_string(float_format=lambda v: f"{v:.4g}"),
        f"likelihood-ratio test of nonlinearity: chi2 = {fit.lr_test().chi2:.4g}, "
        f"p = {fit.lr_test().p:.3g}",
        "",
        "Quantile table:",
        str(fit.quantile_table()),
        "",
        f"nadir: {nadir.estimate:.4g} {u}"
        + (
            f" (95% CI {nadir.lower:.4g} to {nadir.upper:.4g}, delta method)"
            if nadir.interior
            else f" ({nadir.note})"
        ),
        f"corridor: {corridor.lower:.4g} to {corridor.upper:.4g} {u}: {corridor.definition}"
        + (" [reaches the edge of the data]" if corridor.open_lower or corridor.open_upper else ""),
        str(fit.shape()),
    ]
    return "\n".join(lines)
