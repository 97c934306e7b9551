"""report.html: one self-contained page (figures embedded) to mail to a colleague."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .doseresponse import DoseResponse

__all__ = ["write_report"]

STYLE = """body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:right}th{background:#f3f3f3}pre{background:#f7f7f7;padding:1em;overflow-x:auto;
font-size:.85em}.def{background:#eef6fb;padding:.6em 1em;border-left:4px solid #0072B2}"""


def write_report(
    fit: DoseResponse,
    path: Path,
    png: bytes,
    *,
    corridor,
    nadir,
    title: str = "mgrisk dose-response report",
) -> Path:
    """Write the report with the summary, tables, tests, nadir, corridor and the figure."""
    s = fit.settings
    quant = fit.quantile_table()
    image = base64.b64encode(png).decode()
    nadir_text = (
        f"{nadir.estimate:.4g} {s.unit} ({nadir.level:.0%} CI {nadir.lower:.4g} to "
        f"{nadir.upper:.4g}, {nadir.method})"
        if nadir.interior
        else f"{nadir.estimate:.4g} {s.unit}: {nadir.note}"
    )
    corridor_ci = ""
    for side, ci in (("lower", corridor.lower_ci), ("upper", corridor.upper_ci)):
        if ci:
            corridor_ci += f" CI of the {side} end ({corridor.ci_method}): {ci[0]:.4g}-{ci[1]:.4g}."
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        f"<p>Exposure <b>{html.escape(s.exposure)}</b> ({html.escape(s.unit)}), event code "
        f"{s.cause} of <b>{html.escape(s.event)}</b>; {fit.n:,} rows analysed, "
        f"{fit.n_dropped:,} dropped for missing values; {fit.n_events:,} events.</p>",
        f"<img alt='hazard ratio curve' style='max-width:100%' "
        f"src='data:image/png;base64,{image}'>",
        "<h2>Nadir and corridor</h2>",
        f"<p>Nadir: {html.escape(nadir_text)}.</p>",
        f"<p class='def'>Corridor {corridor.lower:.4g} to {corridor.upper:.4g} {s.unit}: "
        f"{html.escape(corridor.definition)}.{corridor_ci}</p>",
        f"<p>{html.escape(str(fit.shape()))}</p>".replace("\n", "<br>"),
        "<h2>Quantile categories</h2>",
        quant.table.drop(columns=["lower_bound", "upper_bound"]).to_html(float_format="%.3g"),
        f"<p>Reference {quant.reference}; p for trend = {quant.p_trend:.3g}. "
        f"{html.escape(quant.convention)}.</p>",
        "<h2>Wald tests (as rms::anova)</h2>",
        fit.anova().to_html(float_format="%.4g"),
        "<h2>Coefficients</h2>",
        fit.cox.summary().to_html(float_format="%.4g"),
        "<h2>Full summary</h2>",
        f"<pre>{html.escape(fit.summary())}</pre>",
        "</body></html>",
    ]
    path = Path(path)
    path.write_text("\n".join(parts))
    return path
