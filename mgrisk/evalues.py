"""E-values: how strong unmeasured confounding would have to be to explain an association away.

VanderWeele & Ding (Ann Intern Med 2017;167:268-274, doi 10.7326/M16-2607): for a risk ratio
RR > 1, ``E = RR + sqrt(RR (RR - 1))`` is the minimum strength of association, on the risk
ratio scale, that an unmeasured confounder would need with both the exposure and the outcome
(conditional on the measured covariates) to fully explain away the estimate; RR < 1 is inverted
first. The E-value of the CI is that of the limit nearer 1 (1 when the CI includes 1).

Hazard ratios: with a rare outcome (under 15 % by the end of follow-up) HR ~ RR; otherwise
the paper's square-root transformation ``RR ~ (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError, MgriskError

__all__ = ["RARE_OUTCOME", "EValue", "dose_response_evalues", "evalue", "hr_to_rr"]

#: The paper's threshold for a rare outcome: under 15 % with the event by the end of follow-up.
RARE_OUTCOME = 0.15


@dataclass(frozen=True)
class EValue:
    """E-values of an estimate and of its CI limit nearer 1, on the risk ratio scale."""

    rr: float  # the estimate on the risk ratio scale (converted from an HR when common)
    rr_lower: float
    rr_upper: float
    point: float  # E-value of the estimate
    ci: float  # E-value of the CI limit nearer 1 (1 when the CI includes 1)
    conversion: str  # "none", "rare outcome: HR ~ RR" or "common outcome: square-root"


def _e(rr: float) -> float:
    rr = 1 / rr if rr < 1 else rr
    return float(rr + np.sqrt(rr * (rr - 1)))


def hr_to_rr(hr, rare: bool = True):
    """An HR on the risk ratio scale: itself when the outcome is rare, else the square-root
    transformation ``(1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))`` (VanderWeele & Ding 2017)."""
    hr = np.asarray(hr, dtype=float)
    if rare:
        return hr
    return (1 - 0.5 ** np.sqrt(hr)) / (1 - 0.5 ** np.sqrt(1 / hr))


def evalue(
    estimate: float,
    lower: float | None = None,
    upper: float | None = None,
    *,
    measure: str = "RR",
    rare: bool = True,
) -> EValue:
    """E-values of a ratio estimate and its CI.

    Parameters
    ----------
    estimate, lower, upper : float
        The ratio and its CI limits (> 0; the limits may be omitted).
    measure : {"RR", "HR"}
        Risk (or rate) ratio, or hazard ratio.
    rare : bool
        HR only: the outcome is rare (< 15 % by the end of follow-up), so HR ~ RR; else the
        square-root transformation.

    Examples
    --------
    Smoking and lung cancer (Hammond & Horn), the paper's first example: RR 10.73 (8.02-14.36).

    >>> e = evalue(10.73, 8.02, 14.36)
    >>> round(e.point, 2), round(e.ci, 2)
    (20.95, 15.52)
    """
    if measure not in ("RR", "HR"):
        raise InputError(f"measure={measure!r}: use 'RR' or 'HR'")
    values = [v for v in (estimate, lower, upper) if v is not None]
    if not all(np.isfinite(v) and v > 0 for v in values):
        raise InputError(f"E-value of {values}: ratios must be finite and > 0")
    lo = np.nan if lower is None else lower
    hi = np.nan if upper is None else upper
    if lower is not None and upper is not None and not lo <= estimate <= hi:
        raise InputError(f"E-value: estimate {estimate} outside its CI ({lo}, {hi})")
    convert = measure == "HR" and not rare
    rr, rl, ru = (float(hr_to_rr(v, rare=not convert)) for v in (estimate, lo, hi))
    if rr >= 1:
        ci = np.nan if lower is None else (1.0 if rl <= 1 else _e(rl))
    else:
        ci = np.nan if upper is None else (1.0 if ru >= 1 else _e(ru))
    conversion = (
        "none"
        if measure == "RR"
        else ("common outcome: square-root" if convert else "rare outcome: HR ~ RR")
    )
    return EValue(rr, rl, ru, _e(rr), float(ci), conversion)


def dose_response_evalues(
    fit, percentiles=(5, 95), q: int = 5, rare: bool | None = None, level: float = 0.95
) -> pd.DataFrame:
    """E-values of a dose-response fit's contrasts: each quantile category versus the
    reference category, and the HR at each exposure percentile versus the nadir (the lowest
    point of the fitted curve when it has no interior minimum).

    ``rare=None`` decides from the share of analysed rows with the event (under 15 %: HR ~ RR;
    that share understates the cumulative incidence by the end of follow-up when censoring is
    heavy, so give ``rare`` when it is known). Columns: contrast, hr, lower, upper (``level``
    CI), rr, evalue, evalue_ci; ``attrs``: rare, conversion, note.
    """
    share = fit.n_events / fit.n
    rare = bool(share < RARE_OUTCOME) if rare is None else bool(rare)
    rows, notes = [], []
    try:
        qt = fit.quantile_table(q=q) if level == 0.95 else fit.quantile_table(q=q, level=level)
        for cat, r in qt.table.iterrows():
            if cat != qt.reference:
                rows.append((f"{cat} vs {qt.reference}", r.hr, r.lower, r.upper))
    except MgriskError as exc:
        notes.append(f"quantile categories: {exc}")
    nadir = fit.curve.minimum()[0]
    xs = np.quantile(fit.x, np.asarray(percentiles, dtype=float) / 100)
    curve = fit.curve.hr_curve(grid=xs, ref=nadir, level=level)
    u = fit.curve.unit_suffix
    for p, x, (_, r) in zip(percentiles, xs, curve.iterrows(), strict=True):
        rows.append((f"P{p:g} ({x:.4g}{u}) vs nadir ({nadir:.4g}{u})", r.hr, r.lower, r.upper))
    out = []
    for name, hr, lo, hi in rows:
        e = evalue(hr, lo, hi, measure="HR", rare=rare)
        out.append((name, hr, lo, hi, e.rr, e.point, e.ci))
    table = pd.DataFrame(
        out, columns=["contrast", "hr", "lower", "upper", "rr", "evalue", "evalue_ci"]
    ).set_index("contrast")
    conversion = "HR ~ RR (rare outcome)" if rare else "square-root transformation (common outcome)"
    table.attrs.update(
        rare=rare, conversion=conversion, share_with_event=share, note="; ".join(notes)
    )
    return table
