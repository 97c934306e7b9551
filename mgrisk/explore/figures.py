"""The explorer's pictures (matplotlib ``Figure`` objects, no pyplot: safe in a server).

They draw a `View` or `Draws` and compute nothing. Colours and styles follow `mgrisk.plot`
(Okabe-Ito, and every element also differs by line style, marker or hatch). `figure_bytes`
writes a picture as PNG or SVG with the settings that made it, as a caption and as metadata.
"""

from __future__ import annotations

import io
import textwrap

import numpy as np

from ..plot import (
    BLACK,
    BLUE,
    GREEN,
    ORANGE,
    SKY,
    VERMILION,
    draw_corridor,
    draw_distribution,
    draw_nadir,
    draw_quantile_points,
)
from .model import Draws, View

__all__ = ["curve_figure", "draws_figure", "exposure_figure", "figure_bytes"]

FORMATS = ("png", "svg")


def _figure(size=(9.0, 4.8)):
    from matplotlib.figure import Figure

    return Figure(figsize=size, layout="constrained")


def _plain_log_axis(ax, label: str) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator

    ax.set_yscale("log")
    ax.set_ylabel(label)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_minor_locator(LogLocator(base=10, subs=np.arange(1, 10) / 1.0))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))


def curve_figure(v: View, size=(9.0, 4.8)):
    """Truth against the estimate: HR versus the reference with its pointwise and
    simultaneous bands, the nadir and its CI, the corridor, the quintile HRs, the knots and the
    exposure's histogram along the bottom."""
    r = v.results
    curve, sim = r.curve, v.simultaneous
    fig = _figure(size)
    ax = fig.add_subplot()
    draw_distribution(ax, r.exposure.counts, r.exposure.edges)
    level = f"{r.options.level:.0%}"
    ax.fill_between(
        sim.exposure,
        sim.lower,
        sim.upper,
        color="#DDDDDD",
        linewidth=0,
        label=f"{level} simultaneous band",
    )
    ax.fill_between(
        curve.exposure,
        curve.lower,
        curve.upper,
        color="#AAAAAA",
        linewidth=0,
        alpha=0.8,
        label=f"{level} pointwise band",
    )
    c = r.corridor
    draw_corridor(ax, c, _wrap(f"corridor {c.lower:.3g} to {c.upper:.3g}"))
    ax.plot(curve.exposure, curve.hr, color=BLACK, linewidth=2, label="estimate (spline)")
    if v.truth is not None:
        ax.plot(
            v.truth.exposure,
            v.truth.hr,
            color=ORANGE,
            linewidth=2.5,
            linestyle=(0, (5, 2)),
            label=f"truth ({v.true_shape})",
        )
    ax.axhline(1.0, color="#555555", linestyle=":", linewidth=1)
    draw_nadir(ax, r, curve)
    if v.true_nadir is not None:
        ax.axvline(
            v.true_nadir,
            color=ORANGE,
            linestyle="-.",
            linewidth=1,
            label=f"true nadir {v.true_nadir:.3g}",
        )
    if v.quantile_points is not None:
        draw_quantile_points(ax, v.quantile_points, f"quintile HRs (vs {r.quantiles.reference})")
    knots = r.model["knots"]
    ax.plot(
        knots,
        [0.0] * len(knots),
        "^",
        color=BLUE,
        markersize=8,
        clip_on=False,
        transform=ax.get_xaxis_transform(),
        label="knots",
    )
    ax.set_xlim(curve.exposure.min(), curve.exposure.max())
    top = max(float(sim.upper.max()), float(curve.hr.max()))
    bottom = min(float(sim.lower.min()), 0.9)
    ax.set_ylim(bottom * 0.85, top * 1.15)
    ax.set_xlabel(r.model["label"])
    _plain_log_axis(ax, f"{r.model['ratio']} vs {v.reference:.3g}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return fig


def exposure_figure(v: View, size=(9.0, 2.6)):
    """The exposure's histogram (1st to 99th centile) with the knots and quintile cut-points."""
    r = v.results
    fig = _figure(size)
    ax = fig.add_subplot()
    counts, edges = np.asarray(r.exposure.counts), np.asarray(r.exposure.edges)
    ax.bar(
        edges[:-1],
        counts,
        width=np.diff(edges),
        align="edge",
        color=SKY,
        edgecolor=BLUE,
        linewidth=0.5,
        hatch="//",
        label="people",
    )
    for i, k in enumerate(r.model["knots"]):
        ax.axvline(k, color=BLACK, linewidth=1.5, label="knots" if i == 0 else None)
    if r.quantiles is not None:
        cuts = r.quantiles.table.upper_bound.to_numpy()[:-1]
        for i, q in enumerate(cuts):
            ax.axvline(
                q,
                color=GREEN,
                linestyle="--",
                linewidth=1,
                label="quintile cut-points" if i == 0 else None,
            )
    ax.set_xlabel(r.model["label"])
    ax.set_ylabel("people")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return fig


def draws_figure(d: Draws, size=(9.0, 6.0)):
    """20 cohorts of one truth: their estimated curves around the truth, and their nadir CIs
    against the true nadir (how many contain it is what "95 % CI" promises)."""
    fig = _figure(size)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    for i, hr in enumerate(d.curves):
        top.plot(
            d.grid,
            hr,
            color=BLUE,
            alpha=0.45,
            linewidth=1,
            label=f"{len(d.curves)} estimates" if i == 0 else None,
        )
    top.plot(d.grid, d.truth, color=ORANGE, linewidth=3, linestyle=(0, (5, 2)), label="truth")
    top.axhline(1.0, color="#555555", linestyle=":", linewidth=1)
    _plain_log_axis(top, f"HR vs {d.reference:.3g}")
    top.legend(loc="upper center", fontsize=8, frameon=False)
    for i, n in enumerate(d.nadirs):
        if not n.interior or not np.isfinite(n.lower):
            bottom.plot([d.grid[0], d.grid[-1]], [i, i], color="#BBBBBB", linestyle=":")
            continue
        hit = d.true_nadir is not None and n.lower <= d.true_nadir <= n.upper
        bottom.errorbar(
            [n.estimate],
            [i],
            xerr=[[n.estimate - n.lower], [n.upper - n.estimate]],
            fmt="o" if hit else "x",
            color=BLUE if hit else VERMILION,
            capsize=2,
            markersize=4,
        )
    if d.true_nadir is not None:
        bottom.axvline(d.true_nadir, color=ORANGE, linewidth=2, linestyle=(0, (5, 2)))
        title = (
            f"{d.covering} of {len(d.nadirs)} nadir CIs ({d.nadirs[0].method}) contain the true "
            f"nadir {d.true_nadir:.3g} (crosses: missed; dotted: no nadir inside the data)"
        )
    else:
        title = "the truth has no nadir: every interior nadir found is a false one"
    bottom.set_title(_wrap(title, 100), fontsize=9)
    bottom.set_xlim(d.grid[0], d.grid[-1])  # CIs wider than the grid run off the edge
    bottom.set_yticks([])
    bottom.set_ylabel("cohort")
    bottom.set_xlabel(d.label)
    return fig


def _wrap(text: str, width: int = 48) -> str:
    return "\n".join(textwrap.wrap(text, width))


def figure_bytes(fig, fmt: str, settings: str) -> bytes:
    """The figure as PNG or SVG, its settings written below it and in the file's metadata.

    Examples
    --------
    >>> fig = _figure((2, 2))
    >>> figure_bytes(fig, "svg", "seed 1")[:5]
    b'<?xml'
    """
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: use png or svg")
    fig.text(
        0.005,
        0.002,
        _wrap("mgrisk explore: " + settings, 160),
        fontsize=6.5,
        color="#444444",
        va="bottom",
    )
    fig.get_layout_engine().set(h_pad=0.3 + 0.12 * settings.count(";") / 6)
    meta = {"Title": "mgrisk explore", "Description": settings}
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=150 if fmt == "png" else 72, metadata=meta)
    return buffer.getvalue()
