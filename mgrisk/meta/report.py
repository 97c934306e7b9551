"""Renderings of a `MetaResult`: a JSON-ready dict and a self-contained HTML report.

Nothing here computes a new estimate: the pooled curve, tests and heterogeneity come from the
result; the nadir and corridor from its `SplineCurve`, as for a cohort fit.
"""

from __future__ import annotations

import base64
import html

import numpy as np

from ..report import json_safe
from .result import MetaResult

__all__ = ["meta_dict", "meta_html"]

COVARIANCE_NAMES = {
    "gl": "Greenland-Longnecker",
    "hamling": "Hamling",
    "independent": "ignored (independent)",
}

CATEGORY_NAMES = {
    "piecewise": "each category's RR the ratio of average risks over an exposure distribution "
    "fitted per study to the category medians (piecewise normal)",
    "normal": "each category's RR the ratio of average risks over a normal exposure fitted per "
    "study",
    "lognormal": "each category's RR the ratio of average risks over a log-normal exposure "
    "fitted per study",
    "point": "each category's RR the curve at its assigned dose",
}


def _nadir_corridor(result: MetaResult) -> dict:
    if result.shape != "spline":
        return {"note": "linear trend: no nadir or corridor"}
    c = result.curve
    n = c.nadir()
    k = c.corridor()
    return {
        "nadir": {
            "estimate": n.estimate,
            "lower": n.lower,
            "upper": n.upper,
            "interior": n.interior,
            "supported": n.bounded,
            "note": n.note,
        },
        "corridor": {"lower": k.lower, "upper": k.upper, "definition": k.definition},
    }


def meta_dict(result: MetaResult, curve=None) -> dict:
    """Model, coefficients, heterogeneity, tests, nadir/corridor and the pooled curve."""
    out = result.summary()
    out["psi"] = result.psi.tolist()
    out.update(_nadir_corridor(result))
    if curve is not None:
        out["curve"] = {col: curve[col].tolist() for col in curve.columns}
        out["curve_reference"] = curve.attrs.get("ref")
    out["studies"] = {str(k): {"coef": v.tolist()} for k, v in result.study_coef.items()}
    return json_safe(out)


def _table_html(df) -> str:
    return df.to_html(float_format=lambda v: f"{v:.4g}", na_rep="", border=0, classes="t")


def meta_html(result: MetaResult, png: bytes | None = None, curve=None) -> str:
    """A self-contained HTML report: study table, heterogeneity, tests, nadir, figure."""
    h = result.heterogeneity()
    t = result.tests()
    nc = _nadir_corridor(result)
    stage = "One-stage" if result.stage == 1 else "Two-stage"
    how = (
        "fixed-effect" if result.method == "fixed" else f"random-effects ({result.method.upper()})"
    )
    shape = (
        "linear trend"
        if result.shape == "linear"
        else f"restricted cubic spline, knots {', '.join(f'{k:.4g}' for k in result.knots)}"
    )
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>mgrisk meta-analysis</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table.t{border-collapse:collapse}table.t td,table.t th{padding:2px 8px;"
        "border-bottom:1px solid #ddd;text-align:right}</style></head><body>",
        "<h1>Dose-response meta-analysis</h1>",
        f"<p>{stage} {how} meta-analysis of {result.n_studies} studies "
        f"({result.table.dose.size} categories): {html.escape(shape)} in "
        f"{html.escape(result.curve.label)}; within-study covariance "
        f"{COVARIANCE_NAMES[result.covariance]}; {CATEGORY_NAMES[result.categories]}; "
        f"confidence intervals by {html.escape(result.ci_text())}.</p>",
        "<h2>Studies</h2>",
        _table_html(result.study_table()),
        "<h2>Heterogeneity</h2>",
        f"<p>Cochran's Q = {h['Q']:.3f} on {h['df']} df (p = {h['p']:.3g}); "
        f"I² = {h['I2']:.1f} %; between-study SD(s) {', '.join(f'{v:.3g}' for v in h['tau'])}.</p>",
        "<h2>Tests (Wald)</h2>",
        _table_html(
            t.rename(index={"overall": "overall association", "nonlinear": "nonlinearity"})
        ),
        "<h2>Pooled coefficients</h2>",
        f"<p>{', '.join(f'{b:.5g}' for b in result.coef)} (SE "
        f"{', '.join(f'{s:.3g}' for s in np.sqrt(np.diag(result.cov)))})</p>",
    ]
    if "nadir" in nc:
        n, k = nc["nadir"], nc["corridor"]
        parts.append(
            f"<h2>Nadir and corridor</h2><p>Lowest pooled RR at {n['estimate']:.4g}"
            f"{html.escape(result.curve.unit_suffix)} (95 % CI {n['lower']:.4g} to {n['upper']:.4g}"
            f"{'; ' + html.escape(n['note']) if n['note'] else ''}). Corridor "
            f"{k['lower']:.4g} to {k['upper']:.4g}: {html.escape(k['definition'])}.</p>"
        )
    if png is not None:
        parts.append(
            "<h2>Figure</h2><img alt='pooled dose-response curve' style='max-width:100%' "
            f"src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
        )
    if curve is not None:
        parts += ["<h2>Pooled curve</h2>", _table_html(curve)]
    parts.append("</body></html>")
    return "\n".join(parts)
