"""Text and JSON renderings of a run's `Results` (they compute nothing).

``result_dict`` schema (stable keys; exposure values in the exposure's unit, ``null`` where a
number is not supported by the data):

- ``exposure``, ``unit`` (null when not given), ``cause``, ``time_unit``
- ``n``, ``n_events``, ``n_dropped``, ``dropped`` {column: rows}, ``event_counts`` {code: rows},
  ``person_time``
- ``model``: {``hazard``, ``ties``, ``timefix``, ``time``, ``entry``, ``adjust``, ``strata``,
  ``robust``, ``knot_centiles``, ``software``}
- ``knots``: [float]; ``coef``, ``se``: {name: float}
- ``anova``: [{``term``, ``chi2``, ``df``, ``p``}]; ``lr_nonlinear``: {``chi2``, ``df``, ``p``}
- ``reference``: float; ``curve``: [{``exposure``, ``log_hr``, ``se``, ``hr``, ``lower``,
  ``upper``}] (``options.level``, ``options.band``)
- ``nadir``: {``estimate``, ``lower``, ``upper``, ``method``, ``level``, ``interior``,
  ``bounded``, ``supported``, ``intervals``, ``note``}; ``estimate`` and the CI are null unless
  ``supported``; ``lowest_hr_at`` is where the fitted curve is lowest in any case
- ``corridor``: {``lower``, ``upper``, ``rule``, ``definition``, ``nadir``, ``open_lower``,
  ``open_upper``, ``lower_ci``, ``upper_ci``, ``ci_method``, ``n_boot``}
- ``shape``: {``verdict``, ``alpha``, ``association_p``, ``lind_mehlum``, ``two_lines``} or null
- ``quantiles``: {``table``: [{``category``, ``interval``, ``n``, ``events``, ``person_time``,
  ``rate_per_1000``, ``hr``, ``lower``, ``upper``, ``p``}], ``p_trend``, ``reference``,
  ``rate_unit``, ``convention``} or null
- ``checks``: {``ph_test``: [{``term``, ``chi2``, ``df``, ``p``}] (``GLOBAL`` last),
  ``transform``, ``alpha``, ``failing``: [term], ``concordance``: {``value``, ``se``,
  ``concordant``, ``discordant``, ``tied_risk``}, ``sentence``} or null (not asked for)
- ``notes``: {section: why it could not be estimated}; ``options``: how results were computed;
  ``cox_fits``: the number of Cox fits the run made; ``evalues``: [{``contrast``, ``hr``,
  ``lower``, ``upper``, ``rr``, ``evalue``, ``evalue_ci``}] or null
- ``methods``: the methods paragraph
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd

from .results import Results

__all__ = [
    "checks_text",
    "corridor_text",
    "evalue_caption",
    "json_safe",
    "methods_text",
    "nadir_text",
    "quantile_rows",
    "result_dict",
    "summary_text",
]

REFERENCES = (
    "Harrell FE. Regression Modeling Strategies, 2nd ed. Springer 2015 (restricted cubic "
    "splines, rms). Therneau TM, Grambsch PM. Modeling Survival Data. Springer 2000 (Cox "
    "model, survival). Lind JT, Mehlum H. Oxf Bull Econ Stat 2010;72:109-18 (U test). "
    "Simonsohn U. AMPPS 2018;1:538-55 (two-lines test)."
)


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


def _g(v: float, digits: int = 3) -> str:
    return f"{v:.{digits}g}" if np.isfinite(v) else "n/a"


def _hr(hr: float, lo: float, hi: float) -> str:
    """'1.22 (0.99-1.51)', as a results table prints it."""
    return f"{hr:.2f} ({lo:.2f}-{hi:.2f})"


def nadir_text(r: Results) -> str:
    """The nadir sentence: a number only where the data support an interior minimum."""
    n, u = r.nadir, _unit(r)
    lowest = f"lowest estimated HR at {n.estimate:.4g}{u}"
    if r.nadir_supported:
        return (
            f"nadir {n.estimate:.4g}{u} ({n.level:.0%} CI {n.lower:.4g} to {n.upper:.4g}, "
            f"{_method(n.method)})" + (f"; {n.note}" if n.note else "")
        )
    return (
        f"no nadir supported by the data ({n.note or 'the confidence set is unbounded'}); {lowest}"
    )


def _method(method: str) -> str:
    return {"inversion": "test inversion", "delta": "delta method"}.get(method, method)


def _unit(r: Results) -> str:
    return f" {r.model['unit']}" if r.model["unit"] else ""


def corridor_text(r: Results) -> str:
    c, u = r.corridor, _unit(r)
    around = "" if r.nadir_supported else " (around the lowest point of the fitted curve)"
    text = f"corridor {c.lower:.4g} to {c.upper:.4g}{u}: {c.definition}{around}"
    if c.open_lower or c.open_upper:
        text += " [reaches the edge of the data]"
    level = f"{r.options.corridor_level:.0%}"
    for side, ci in (("lower", c.lower_ci), ("upper", c.upper_ci)):
        if ci:
            text += f"; {side} end {level} CI {ci[0]:.4g}-{ci[1]:.4g} ({c.ci_method})"
    return text


def quantile_rows(r: Results) -> pd.DataFrame:
    """The quantile table as a results section prints it: plain counts, "HR (CI)" strings."""
    q = r.quantiles
    t = q.table
    return pd.DataFrame(
        {
            r.model["label"]: t.interval,
            "n": [f"{v:,}" for v in t.n],
            "events": [f"{v:,}" for v in t.events],
            f"person-{q.time_unit}": [f"{v:,.0f}" for v in t.person_time],
            f"rate {q.rate_label}": [f"{v:.2f}" for v in t.rate_per_1000],
            "HR (95% CI)": [
                "1 (reference)" if k == q.reference else _hr(h, lo, hi)
                for k, h, lo, hi in zip(t.index, t.hr, t.lower, t.upper, strict=True)
            ],
        },
        index=t.index,
    )


def methods_text(r: Results) -> str:
    """A methods paragraph for a paper, written from what was fitted."""
    m = r.model
    knots = ", ".join(
        f"{k:.4g} ({c:.0f}th)" for k, c in zip(m["knots"], m["knot_centiles"], strict=True)
    )
    if m["entry"]:
        scale = (
            f"with time at risk from '{m['entry']}' to '{m['time']}' ({m['time_unit']}; delayed "
            "entry, e.g. age as the time scale)"
        )
    else:
        scale = f"with follow-up time '{m['time']}' in {m['time_unit']}"
    hazard = (
        "a Fine-Gray model of the subdistribution hazard (other causes kept in the risk set with "
        "censoring weights)"
        if m["hazard"] != "cause-specific"
        else "a Cox proportional hazards model"
        + (" (cause-specific: other causes censored)" if m["competing_codes"] else "")
    )
    ties = f"{m['ties'].capitalize()} ties, near-tied times " + (
        "merged as R survival::coxph does" if m["timefix"] else "not merged, as rms::cph"
    )
    adjust = f"adjusted for {m['adjust']}" if m["adjust"] else "without adjustment"
    o = r.options
    return (
        f"The association of {m['label']} with event {m['cause']} of '{m['event']}' was "
        f"estimated with {hazard} {scale}, {adjust}. The exposure entered as a restricted "
        f"cubic spline with {len(m['knots'])} knots at {knots} centiles (Harrell's default "
        f"placement). {ties}; {'robust' if m['robust'] else 'model-based'} variance. "
        f"{m['n']:,} of {m['n_input']:,} rows were analysed ({m['n_dropped']:,} dropped for "
        f"missing values), with {m['n_events']:,} events. The nadir's {o.level:.0%} CI is "
        f"by {_method(o.nadir_method)}; the corridor is {r.corridor.definition}. The shape was "
        f"judged by the Lind-Mehlum test on the spline's slopes at the 1st and 99th centiles "
        f"and the two-lines test (level {o.alpha}). "
        + (f"Missing values: {m['imputation']}. " if m.get("imputation") else "")
        + f"Software: {m['software']}. "
        f"References: {REFERENCES}"
    )


def summary_text(r: Results) -> str:
    """The readable report: data, model, coefficients, tests, quantiles, nadir, corridor."""
    m = r.model
    counts = ", ".join(f"{k}: {v:,}" for k, v in m["event_counts"].items())
    dropped = (
        f"{m['n_dropped']:,} dropped for missing values ("
        + ", ".join(f"{c}: {v:,}" for c, v in m["dropped"].items())
        + ")"
        if m["n_dropped"]
        else "none dropped for missing values"
    )
    fmt = lambda v: f"{v:.4g}"  # noqa: E731
    lines = [
        f"Dose-response: {m['label']} and event code {m['cause']} of '{m['event']}'",
        f"rows analysed: {m['n']:,} of {m['n_input']:,} ({dropped}); event codes: {counts}",
        "",
        "Methods: " + methods_text(r).split(" References:")[0],
        "",
        "Coefficients (spline terms are not hazard ratios: read the curve):",
        r.coefficients.to_string(float_format=fmt),
        "",
        "Wald tests (as rms::anova):",
        r.anova.to_string(float_format=fmt),
    ]
    if r.lr_nonlinear is not None:
        lines.append(
            f"likelihood-ratio test of nonlinearity: chi2 = {r.lr_nonlinear.chi2:.4g}, "
            f"df = {r.lr_nonlinear.df}, p = {r.lr_nonlinear.p:.3g}"
        )
    lines += ["", "Quantile table:"]
    if r.quantiles is not None:
        q = r.quantiles
        lines += [
            quantile_rows(r).to_string(),
            f"reference {q.reference}; p for trend = {q.p_trend:.3g}; {q.convention}",
        ]
    else:
        lines.append(f"not estimable: {r.notes.get('quantiles') or r.notes.get('p_trend')}")
    lines += ["", nadir_text(r), corridor_text(r)]
    lines.append(str(r.shape) if r.shape is not None else f"shape: {r.notes['shape']}")
    if r.evalues is not None:
        lines += ["", evalue_caption(r), r.evalues.to_string(float_format=fmt)]
    text = checks_text(r)
    return "\n".join(lines + (["", text] if text else []))


def checks_text(r: Results) -> str:
    """The model checks section: PH tests (cox.zph's score test), concordance, a sentence on
    terms that fail; empty when the run did not ask for checks."""
    if r.checks is None:
        return f"Model checks: not available ({r.notes['checks']})" if "checks" in r.notes else ""
    c = r.checks
    con = c.concordance
    return "\n".join(
        [
            f"Model checks: proportional hazards (score test as survival::cox.zph, "
            f"{c.transform} transform of time):",
            c.ph.to_string(float_format=lambda v: f"{v:.4g}"),
            f"concordance (Harrell's C, as survival::concordance) = {con.value:.4f} "
            f"(se {con.se:.4f})",
            c.sentence,
        ]
    )


def evalue_caption(r: Results) -> str:
    """What the E-value table shows (VanderWeele & Ding 2017) and the HR-to-RR convention."""
    return (
        "E-values (VanderWeele & Ding 2017: the confounder-exposure and confounder-outcome risk "
        "ratios that could explain each HR away; evalue_ci for the CI limit nearer 1; "
        f"{r.evalues.attrs['conversion']}):"
    )


def result_dict(r: Results) -> dict:
    """The results with stable keys (schema in this module's docstring)."""
    m = r.model
    nadir = asdict(r.nadir) | {"supported": r.nadir_supported, "lowest_hr_at": r.nadir.estimate}
    if not r.nadir_supported:
        nadir |= {"estimate": None, "lower": None, "upper": None}
    quantiles = None
    if r.quantiles is not None:
        q = r.quantiles
        quantiles = {
            "table": q.table.reset_index().to_dict("records"),
            "p_trend": q.p_trend,
            "reference": q.reference,
            "rate_unit": q.rate_label,
            "convention": q.convention,
        }
    shape = None
    if r.shape is not None:
        s = r.shape
        shape = {
            "verdict": s.verdict,
            "alpha": s.alpha,
            "association_p": s.association_p,
            "lind_mehlum": s.lind_mehlum,
            "two_lines": s.two_lines,
        }
    keys = (
        "hazard",
        "ties",
        "timefix",
        "time",
        "entry",
        "adjust",
        "strata",
        "robust",
        "knot_centiles",
        "software",
    )
    return json_safe(
        {
            "exposure": m["exposure"],
            "unit": m["unit"],
            "cause": m["cause"],
            "time_unit": m["time_unit"],
            "n": m["n"],
            "n_events": m["n_events"],
            "n_dropped": m["n_dropped"],
            "dropped": m["dropped"],
            "event_counts": m["event_counts"],
            "person_time": m["person_time"],
            "model": {k: m[k] for k in keys},
            "knots": m["knots"],
            "coef": r.coefficients.coef.to_dict(),
            "se": r.coefficients.se.to_dict(),
            "anova": [{"term": t, **row} for t, row in r.anova.to_dict("index").items()],
            "lr_nonlinear": None if r.lr_nonlinear is None else asdict(r.lr_nonlinear),
            "reference": r.curve.attrs["ref"],
            "curve": r.curve.to_dict("records"),
            "nadir": nadir,
            "corridor": asdict(r.corridor) | {"ci_method": r.corridor.ci_method},
            "shape": shape,
            "quantiles": quantiles,
            "notes": r.notes,
            "options": asdict(r.options),
            "cox_fits": r.n_fits,
            "checks": None if r.checks is None else r.checks.to_dict(),
            "evalues": None if r.evalues is None else r.evalues.reset_index().to_dict("records"),
            "methods": methods_text(r),
        }
    )
