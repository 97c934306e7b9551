"""report.html: one self-contained page (figure embedded) that reads like a results section.

It renders a `Results` and computes nothing: the numbers are those of summary.txt and
results.json of the same run.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from .report import corridor_text, evalue_caption, methods_text, nadir_text, quantile_rows
from .results import Results

__all__ = ["write_report"]

STYLE = """body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222;
line-height:1.45}table{border-collapse:collapse;font-size:.9em;margin:.5em 0}td,th{border:1px
solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}.def{background:#eef6fb;
padding:.6em 1em;border-left:4px solid #0072B2}.note{color:#555;font-size:.9em}"""


def _p(text: str, cls: str = "") -> str:
    attr = f" class='{cls}'" if cls else ""
    return f"<p{attr}>{html.escape(text)}</p>"


def _sentence(text: str) -> str:
    """A clause as a sentence: first letter up (the rest as it is: units keep their case)."""
    return text[:1].upper() + text[1:] + "."


def _checks_section(r: Results) -> list[str]:
    """Model checks: the PH test table, concordance and the sentence on failing terms."""
    if r.checks is None:
        if "checks" in r.notes:
            return ["<h2>Model checks</h2>", _p(f"Not available: {r.notes['checks']}")]
        return []
    c, con = r.checks, r.checks.concordance
    return [
        "<h2>Model checks</h2>",
        _p(
            f"Proportional hazards: score test per term as survival::cox.zph ({c.transform} "
            "transform of time; the exposure's spline is one term)."
        ),
        c.ph.to_html(float_format="%.4g"),
        _p(
            f"Concordance (Harrell's C, as survival::concordance): {con.value:.4f} "
            f"(se {con.se:.4f})."
        ),
        _p(c.sentence, "def" if c.failing else "note"),
    ]


def write_report(
    results: Results, path: Path, png: bytes, *, title: str = "mgrisk dose-response report"
) -> Path:
    """Write the report: summary, figure, nadir, corridor, shape, quantile table, tests,
    coefficients and the methods paragraph."""
    r, m = results, results.model
    image = base64.b64encode(png).decode()
    fmt = "%.4g"
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        _p(
            f"Exposure {m['label']}, event code {m['cause']} of '{m['event']}': "
            f"{m['n']:,} of {m['n_input']:,} rows analysed ({m['n_dropped']:,} dropped for "
            f"missing values), {m['n_events']:,} events."
        ),
        f"<img alt='{html.escape(m['ratio'])} curve' style='max-width:100%' "
        f"src='data:image/png;base64,{image}'>",
        "<h2>Nadir, corridor and shape</h2>",
        _p(_sentence(nadir_text(r))),
        _p(_sentence(corridor_text(r)), "def"),
        _p(str(r.shape) if r.shape is not None else f"Shape: {r.notes['shape']}").replace(
            "\n", "<br>"
        ),
        "<h2>Quantile categories</h2>",
    ]
    if r.quantiles is not None:
        q = r.quantiles
        parts += [
            quantile_rows(r).rename_axis(None).to_html(),
            _p(f"Reference {q.reference}; p for trend = {q.p_trend:.3g}. {q.convention}.", "note"),
        ]
    else:
        parts.append(_p(f"Not estimable: {r.notes.get('quantiles') or r.notes.get('p_trend')}"))
    if r.evalues is not None:
        parts += ["<h2>E-values</h2>", _p(evalue_caption(r)), r.evalues.to_html(float_format=fmt)]
    parts += [
        "<h2>Wald tests (as rms::anova)</h2>",
        r.anova.to_html(float_format=fmt),
        "<h2>Coefficients</h2>",
        _p("Spline coefficients are not hazard ratios: the curve above is their reading.", "note"),
        r.coefficients.to_html(float_format=fmt),
        *_checks_section(r),
        "<h2>Methods</h2>",
        _p(methods_text(r)),
        "</body></html>",
    ]
    path = Path(path)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
