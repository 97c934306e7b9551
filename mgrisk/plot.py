"""Figures (matplotlib, imported lazily): HR curves with corridor, truth vs estimate, studies.

Colours are the Okabe-Ito palette (safe for colour-blind readers) and every element also differs
by line style, marker or hatch, so the figures read in grey-scale. Functions take ``ax=None``
and return the axes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .doseresponse import DoseResponse

__all__ = [
    "draw_corridor",
    "draw_distribution",
    "draw_nadir",
    "draw_quantile_points",
    "plot_coverage",
    "plot_functional_form",
    "plot_hr_curve",
    "plot_imputed_vs_complete",
    "plot_nadir_distribution",
    "plot_schoenfeld",
    "plot_sensitivity",
    "plot_truth_vs_estimate",
]

BLACK, ORANGE, SKY, GREEN, BLUE, VERMILION = (
    "#000000",
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#0072B2",
    "#D55E00",
)


#: Points drawn at most in a residual scatter (every k-th residual beyond that; a picture of a
#: million points shows no more and takes seconds to draw).
SCATTER_POINTS = 5_000


def _axes(ax, figsize=(7.0, 4.6)):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _exposure_label(fit) -> str:
    """The exposure with its unit when one was given: "bmi", "mg (mmol/L)"."""
    return fit.curve.label


def _ci_band(ax, curve, label: str) -> None:
    """The confidence band of an `hr_curve` frame, in light grey."""
    ax.fill_between(
        curve.exposure,
        curve.lower,
        curve.upper,
        color="#BBBBBB",
        alpha=0.6,
        linewidth=0,
        label=label,
    )


def draw_distribution(ax, counts, edges):
    """Histogram of the exposure along the bottom eighth of the axes."""
    twin = ax.twinx()
    counts, edges = np.asarray(counts), np.asarray(edges)
    twin.bar(
        edges[:-1],
        counts,
        width=np.diff(edges),
        align="edge",
        color="#DDDDDD",
        edgecolor="#999999",
        linewidth=0.4,
        zorder=0,
    )
    twin.set_ylim(0, counts.max() * 8)  # bars fill the bottom eighth
    twin.set_yticks([])
    ax.set_zorder(twin.get_zorder() + 1)
    ax.patch.set_visible(False)


def draw_corridor(ax, corridor, label: str) -> None:
    """The corridor as a light hatched span (the figures of a run and of the explorer)."""
    ax.axvspan(
        corridor.lower,
        corridor.upper,
        facecolor=SKY,
        alpha=0.12,
        hatch="//",
        edgecolor="#9CCBE8",
        linewidth=0,
        label=label,
    )


def draw_nadir(ax, results, curve) -> None:
    """The nadir and its CI on ``curve``, only where the data support one (else a legend line
    that says why)."""
    nadir = results.nadir
    if not results.nadir_supported:
        ax.plot([], [], " ", label=_wrap("no nadir supported by the data: " + nadir.note, 48))
        return
    ax.errorbar(
        [nadir.estimate],
        [float(np.interp(nadir.estimate, curve.exposure, curve.hr))],
        xerr=[[nadir.estimate - nadir.lower], [nadir.upper - nadir.estimate]],
        fmt="D",
        color=VERMILION,
        markersize=7,
        capsize=4,
        label=f"nadir {nadir.estimate:.3g} ({nadir.level:.0%} CI, {nadir.method})",
    )


def draw_quantile_points(ax, points, label: str) -> None:
    """Quantile-category HRs with their CIs at the categories' median exposures."""
    y = points.hr.to_numpy()
    ax.errorbar(
        points.exposure,
        y,
        yerr=[y - points.lower.to_numpy(), points.upper.to_numpy() - y],
        fmt="s",
        color=GREEN,
        markersize=5,
        capsize=3,
        linestyle="none",
        label=label,
    )


def plot_hr_curve(
    fit,
    ax=None,
    *,
    corridor: bool = True,
    quantiles: bool = True,
    distribution: bool = True,
    **options,
):
    """HR curve versus the nadir (log axis) with its CI band, the HR = 1 line, the nadir and
    its CI, the corridor with its definition, the exposure's distribution and the quintile HRs
    on the curve's reference. It draws a run's `Results` and computes nothing.

    Parameters
    ----------
    fit : Results or DoseResponse
        A DoseResponse is drawn through ``fit.results(**options)`` (e.g. ``band=
        "simultaneous"``, ``corridor_rule="ci"``, ``level=0.9``).
    corridor, quantiles, distribution : bool
        Draw the corridor, the quantile-category HRs, the exposure histogram.

    Examples
    --------
    >>> # plot_hr_curve(fit.results(corridor_rule="ci"))
    """
    from .results import Results

    r = fit if isinstance(fit, Results) else fit.results(**options)
    ax = _axes(ax, (9.0, 4.6))
    curve, ratio, level = r.figure_curve, r.model["ratio"], r.options.level
    lo, hi = curve.exposure.min(), curve.exposure.max()
    if distribution:
        draw_distribution(ax, r.exposure.counts, r.exposure.edges)
    ax.set_yscale("log")
    _ci_band(ax, curve, f"{level:.0%} CI ({r.options.band})")
    ax.plot(curve.exposure, curve.hr, color=BLACK, linewidth=2, label=f"{ratio} (spline)")
    ax.axhline(1.0, color="#555555", linestyle="--", linewidth=1)
    c = r.corridor
    if corridor:
        draw_corridor(ax, c, _wrap(f"corridor {c.lower:.3g}-{c.upper:.3g}: {c.definition}", 52))
    draw_nadir(ax, r, curve)
    if quantiles and r.quantile_points is not None:
        draw_quantile_points(
            ax,
            r.quantile_points,
            _wrap(
                f"quintile HRs (vs {r.quantiles.reference}, at category medians, placed on "
                "the curve's reference)",
                48,
            ),
        )
    ax.set_xlim(lo, hi)
    where = "the nadir" if r.nadir.interior else f"{curve.attrs['ref']:.3g}"
    ax.set_xlabel(r.model["label"])
    _finish_log_axis(ax, f"{ratio} vs {where}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, frameon=False)
    top = max(curve.upper.max(), ax.get_ylim()[1])
    ax.set_ylim(min(curve.lower.min(), 0.9) * 0.8, top * 1.3)
    return ax


def _finish_log_axis(ax, ylabel: str) -> None:
    """HR label and plain numbers on the log axis."""
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(_plain_formatter())
    ax.yaxis.set_minor_formatter(_plain_formatter(minor=True))


def _wrap(text: str, width: int = 60) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def _plain_formatter(minor: bool = False):
    from matplotlib.ticker import FuncFormatter

    def fmt(value, _):
        if minor and not np.isclose(value / 10 ** np.floor(np.log10(value)), [2, 3, 5]).any():
            return ""
        return f"{value:g}"

    return FuncFormatter(fmt)


def plot_truth_vs_estimate(fit: DoseResponse, scenario, ax=None, *, level: float = 0.95):
    """The true log-HR curve of a scenario, the estimate and its band, both vs the true nadir
    (or the exposure median when the truth has none)."""
    ax = _axes(ax)
    ref = scenario.effect.true_nadir or float(np.median(fit.x))
    curve = fit.hr_curve(ref=ref, level=level)
    truth = np.exp(scenario.effect(curve.exposure) - scenario.effect(ref))
    ax.set_yscale("log")
    _ci_band(ax, curve, f"estimate, {level:.0%} CI")
    ax.plot(curve.exposure, curve.hr, color=BLACK, linewidth=2, label=f"estimate (n = {fit.n:,})")
    ax.plot(
        curve.exposure,
        truth,
        color=ORANGE,
        linewidth=2.5,
        linestyle=(0, (5, 2)),
        label=f"truth ({scenario.name})",
    )
    ax.axhline(1.0, color="#555555", linestyle=":", linewidth=1)
    ax.set_xlabel(_exposure_label(fit))
    _finish_log_axis(ax, f"hazard ratio vs {ref:.3g}")
    ax.legend(fontsize=8, frameon=False)
    return ax


def plot_coverage(study, ax=None, *, nominal: float = 0.95):
    """Pointwise coverage of the CI along the exposure grid in a simulation study."""
    ax = _axes(ax, (6.0, 3.6))
    grid, cover = study.grid, study.pointwise_coverage_by_x
    ax.plot(grid, cover, color=BLUE, marker="o", markersize=3, label="pointwise coverage")
    ax.axhline(nominal, color=BLACK, linestyle="--", linewidth=1, label=f"nominal {nominal:.0%}")
    ax.set_ylim(min(0.8, np.nanmin(cover) - 0.02), 1.0)
    ax.set_xlabel(study.exposure_label)
    ax.set_ylabel("coverage")
    ax.legend(fontsize=8, frameon=False)
    return ax


def plot_nadir_distribution(study, ax=None):
    """Histogram of the estimated nadirs over the replicates, with the true nadir."""
    ax = _axes(ax, (6.0, 3.6))
    nadirs = study.nadirs[np.isfinite(study.nadirs)]
    ax.hist(nadirs, bins=30, color=SKY, edgecolor=BLUE, hatch="//", label="estimated nadirs")
    if study.true_nadir is not None:
        ax.axvline(
            study.true_nadir,
            color=VERMILION,
            linewidth=2,
            linestyle="--",
            label=f"true nadir {study.true_nadir:.3g}",
        )
    ax.set_xlabel(study.exposure_label)
    ax.set_ylabel("replicates")
    ax.legend(fontsize=8, frameon=False)
    return ax


# --- competing risks: absolute risk by exposure, stacked cumulative incidence ------------------
# (mgrisk.competing; the same conventions: Okabe-Ito colours plus hatches, ax=None, axes back)
__all__ += ["plot_absolute_risk", "plot_cumulative_incidence"]


def plot_absolute_risk(
    fit: DoseResponse,
    ax=None,
    *,
    risk=None,
    cause_label: str | None = None,
    distribution: bool = True,
    **risk_kwargs,
):
    """Absolute risk (cumulative incidence of the cause of interest, competing causes
    accounted for) across the exposure, with its pointwise CI band.

    Parameters
    ----------
    fit : DoseResponse
    risk : DataFrame, optional
        A result of ``fit.absolute_risk``; computed from ``risk_kwargs`` (``time``, ``start``,
        ``at``, ``grid``, ``level``) when not given.
    cause_label : str, optional
        Name of the cause of interest (e.g. "dementia").
    distribution : bool
        Show the exposure's distribution along the bottom.
    """
    ax = _axes(ax)
    if risk is None:
        risk = fit.absolute_risk(**risk_kwargs)
    a = risk.attrs
    x = risk.exposure.to_numpy()
    if distribution:
        summary = fit.curve.x
        draw_distribution(ax, summary.counts, summary.edges)
    level = a.get("level", 0.95)
    ax.fill_between(
        x,
        100 * risk.lower,
        100 * risk.upper,
        color="#BBBBBB",
        alpha=0.6,
        linewidth=0,
        label=f"{level:.0%} CI (pointwise, delta method)",
    )
    span = (
        f"by {a['time']:g} for someone event-free at {a['start']:g}"
        if a.get("start")
        else f"by {a.get('time', 0):g}"
    )
    name = cause_label or f"cause {a.get('cause', 1)}"
    ax.plot(x, 100 * risk.risk, color=VERMILION, linewidth=2, label=f"risk of {name} {span}")
    profile = ", ".join(
        f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}" for k, v in a.get("at", {}).items()
    )
    if profile:
        ax.plot([], [], " ", label=_wrap(f"profile: {profile}"))
    causes = a.get("causes")
    if causes and len(causes) > 1:
        ax.plot(
            [],
            [],
            " ",
            label=f"competing causes {[c for c in causes if c != a.get('cause')]} accounted for",
        )
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(0, max(100 * risk.upper.max(), 1e-9) * 1.35)
    ax.set_xlabel(_exposure_label(fit))
    ax.set_ylabel("absolute risk (%)")
    ax.legend(loc="upper center", fontsize=7.5, frameon=False)
    return ax


#: fill colour and hatch of causes 1, 2, 3, ... in stacked plots (the event-free part is white)
_CAUSE_STYLE = [(VERMILION, "//"), (SKY, ".."), (GREEN, "\\\\"), (ORANGE, "xx"), (BLUE, "--")]


def plot_cumulative_incidence(
    ci, axes=None, *, cause_labels: dict | None = None, xlabel: str = "time", max_time=None
):
    """Stacked Aalen-Johansen cumulative incidence, one panel per group: the cause of interest
    at the bottom, the other causes above it, and the event-free probability on top.

    Parameters
    ----------
    ci : CumulativeIncidence
        From `mgrisk.competing.cumulative_incidence` (e.g. ``by="mg", quantiles=5``).
    axes : sequence of Axes, optional
        One per group; default a row of panels sharing the y axis.
    cause_labels : dict, optional
        Names of the causes, e.g. ``{1: "dementia", 2: "death"}``.
    xlabel : str
        The time axis (e.g. "years since baseline", "age").
    max_time : float, optional
        Right end of the time axis.

    Returns
    -------
    numpy array of Axes
    """
    groups = list(ci.curves)
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(
            1,
            len(groups),
            figsize=(2.6 * len(groups) + 1.2, 3.6),
            sharey=True,
            layout="constrained",
            squeeze=False,
        )
        axes = axes[0]
    axes = np.atleast_1d(axes)
    order = [ci.cause] + [k for k in ci.causes if k != ci.cause]
    names = {k: f"cause {k}" for k in order} | (cause_labels or {})
    style = {k: _CAUSE_STYLE[i % len(_CAUSE_STYLE)] for i, k in enumerate(order)}
    for ax, g in zip(axes, groups, strict=True):
        curve = ci.curves[g]
        t = np.concatenate([[min(0.0, curve.time[0])], curve.time])
        end = curve.time[-1] if max_time is None else max_time
        keep = t <= end
        t = np.append(t[keep], end)
        bottom = np.zeros(t.size)
        for k in order:
            if k not in curve.causes:
                continue
            f = np.concatenate([[0.0], curve.cif[:, curve.causes.index(k)]])[keep]
            top = bottom + np.append(f, f[-1])
            colour, hatch = style[k]
            ax.fill_between(
                t,
                bottom,
                top,
                step="post",
                facecolor=colour,
                alpha=0.55,
                hatch=hatch,
                edgecolor="#333333",
                linewidth=0.6,
                label=names[k],
            )
            bottom = top
        ax.step(t, bottom, where="post", color=BLACK, linewidth=1)
        ax.set_title(str(g), fontsize=9)
        ax.set_xlim(t[0], end)
        ax.set_ylim(0, 1)
        ax.set_xlabel(xlabel)
    axes[0].set_ylabel("cumulative incidence (stacked)")
    axes[0].legend(loc="upper left", fontsize=7.5, frameon=False)
    if ci.gray is not None:
        axes[-1].text(
            0.98,
            0.98,
            f"Gray's test (cause {ci.cause}): p = {ci.gray.p:.2g}",
            transform=axes[-1].transAxes,
            ha="right",
            va="top",
            fontsize=7.5,
        )
    return axes


def plot_meta(result, ax=None, *, grid=None, ref: float | None = None, level: float = 0.95):
    """A dose-response meta-analysis: each study's own curve (thin, grey), the pooled curve with
    its confidence band and prediction interval, and the highlighted study (e.g. your cohort,
    ``result.highlight``) in vermilion.

    Parameters
    ----------
    result : mgrisk.meta.MetaResult
    grid, ref : optional
        Doses of the pooled curve (default: the doses' 1st to 99th centile) and the reference
        dose (default: the lowest dose).
    """
    ax = _axes(ax, figsize=(8.0, 4.8))
    pooled = result.curve(grid, ref=ref, level=level)
    r = pooled.attrs["ref"]
    studies = result.study_curves(ref=r)
    highlight = result.highlight
    first = True
    for label, part in studies.groupby("study", sort=False):
        if highlight is not None and label == highlight:
            continue
        ax.plot(
            part.exposure,
            part.rr,
            color="#888888",
            lw=0.8,
            alpha=0.7,
            label="single studies" if first else None,
        )
        first = False
    ax.fill_between(
        pooled.exposure,
        pooled.lower,
        pooled.upper,
        color="#BBBBBB",
        alpha=0.6,
        linewidth=0,
        label=f"pooled, {level:.0%} CI",
    )
    ax.plot(
        pooled.exposure,
        pooled.pi_lower,
        color=BLACK,
        lw=0.9,
        ls=":",
        label=f"{level:.0%} prediction interval",
    )
    ax.plot(pooled.exposure, pooled.pi_upper, color=BLACK, lw=0.9, ls=":")
    ax.plot(pooled.exposure, pooled.rr, color=BLACK, lw=2.2, label="pooled")
    if highlight is not None:
        t = result.table
        idx = t.rows_of(highlight) if highlight in t.studies else np.array([], dtype=int)
        if idx.size:
            part = studies[studies.study == highlight]
            if len(part):
                ax.plot(
                    part.exposure,
                    part.rr,
                    color=VERMILION,
                    lw=2.0,
                    ls="--",
                    label=f"{highlight} (fit)",
                )
            se = np.where(t.ref[idx], 0.0, t.se[idx])
            shift = float(result.curve(np.array([t.dose[idx[0]]]), ref=r).log_rr.iloc[0])
            y = np.exp(t.log_rr[idx] + shift)  # its categories, anchored on the pooled curve
            z = 1.959963984540054
            ax.errorbar(
                t.dose[idx],
                y,
                yerr=[y - y * np.exp(-z * se), y * np.exp(z * se) - y],
                fmt="s",
                color=VERMILION,
                ms=5,
                capsize=2,
                label=f"{highlight} categories",
            )
    ax.axhline(1.0, color="#666666", lw=0.7)
    ax.set_yscale("log")
    _finish_log_axis(ax, f"relative risk vs {r:.4g}{result.curve.unit_suffix}")
    ax.set_xlabel(result.curve.label)
    ax.set_title(_wrap(result.curve.estimated_by, 70), fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, frameon=False)


# --- model checks (mgrisk.checks) ----------------------------------------------------------
def plot_schoenfeld(checks, axes=None):
    """Scaled Schoenfeld residuals against transformed time, one panel per term, with a smooth
    and its 95 % band (as cox.zph's plot), and a last panel with the exposure's implied log-HR
    at a few exposure values over time. ``checks`` is a `ModelChecks` (``Results.checks``).
    Returns the axes."""
    import matplotlib.pyplot as plt

    terms = list(checks.schoenfeld_smooth.term.unique())
    if axes is None:
        n = len(terms) + 1
        cols = min(n, 3)
        rows = (n + cols - 1) // cols
        width, height = 4.2 * cols, 3.3 * rows
        fig, grid = plt.subplots(rows, cols, figsize=(width, height), squeeze=False)
        fig.subplots_adjust(  # margins in inches: a layout engine doubles the drawing time
            left=0.75 / width,
            right=1 - 0.15 / width,
            bottom=0.6 / height,
            top=1 - 0.35 / height,
            wspace=0.32,
            hspace=0.5,
        )
        axes = grid.ravel()
        for ax in axes[n:]:
            ax.set_visible(False)
    res, sm = checks.schoenfeld, checks.schoenfeld_smooth
    xlab = f"time ({checks.transform} transform)"
    for ax, term in zip(axes, terms, strict=False):
        shown = res.iloc[:: max(1, len(res) // SCATTER_POINTS)]  # the smooth uses them all
        ax.plot(shown.ttime, shown[term], ".", ms=2.5, color=SKY, alpha=0.5, label="residuals")
        s = sm[sm.term == term]
        ax.fill_between(
            s.ttime, s.lower, s.upper, color=BLUE, alpha=0.2, hatch="//", label="95 % band"
        )
        ax.plot(s.ttime, s.fit, "-", color=BLUE, lw=2, label="smooth")
        p = checks.ph.p[term]
        ax.set_title(f"{term}: PH test p = {p:.3g}", fontsize=9)
        ax.set_xlabel(xlab)
        ax.set_ylabel("beta(t)" if len(s) and term != checks.exposure else "multiplier of log-HR")
        lo, hi = np.nanquantile(res[term], [0.01, 0.99])
        pad = 0.1 * (hi - lo)
        ax.set_ylim(lo - pad, hi + pad)
    last = axes[len(terms)] if len(axes) > len(terms) else None
    if last is not None:
        styles = ["-", "--", "-.", ":"]
        for k, (label, part) in enumerate(checks.log_hr_over_time.groupby("value", sort=False)):
            last.plot(part.ttime, part.log_hr, styles[k % 4], lw=1.8, label=label)
        last.axhline(0, color=BLACK, lw=0.6)
        last.set_title(f"{checks.exposure}: implied log-HR over time", fontsize=9)
        last.set_xlabel(xlab)
        last.set_ylabel("log-HR")
        last.legend(fontsize=7)
    return axes


def plot_functional_form(checks, ax=None):
    """Therneau's functional-form check: the smoothed martingale residuals of the model
    without the exposure (with band), the log ratio of smoothed observed to expected events,
    and the fitted spline's log-HR shifted to the same mean. Returns the axes."""
    ax = _axes(ax)
    f = checks.functional_form
    ax.fill_between(
        f.exposure,
        f.lower,
        f.upper,
        color=SKY,
        alpha=0.3,
        hatch="..",
        label="martingale smooth, 95 % band",
    )
    ax.plot(f.exposure, f.martingale, "-", color=SKY, lw=1.5, label="martingale residuals (smooth)")
    ax.plot(
        f.exposure,
        f.log_ratio,
        "--",
        color=VERMILION,
        lw=2,
        label="log(observed / expected), smoothed",
    )
    ax.plot(f.exposure, f.fitted, "-", color=BLACK, lw=2, label="fitted spline log-HR")
    ax.axhline(0, color=BLACK, lw=0.5)
    ax.set_xlabel(checks.exposure)
    ax.set_ylabel("residual / log-HR")
    ax.set_title("Functional form: model without the exposure", fontsize=10)
    ax.legend(fontsize=8)
    return ax


# --- study planning (mgrisk.power) -------------------------------------------------------------
__all__ += ["plot_power"]


def plot_power(result, axes=None):
    """Power and the nadir's precision against study size (people, and events on the top axis),
    with 95 % Monte Carlo bands: left the rate of the expected verdict (p -+ 1.96 SE) and the
    target size when one was asked for; right the median width of the nadir's CI with its
    order-statistic interval (unbounded widths off the scale). ``result`` is a `PowerResult`.
    Returns the two axes."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10.0, 4.0), layout="constrained")
    left, right = axes
    t = result.table
    n, events = t.n.to_numpy(float), t.events.to_numpy(float)
    z = 1.959963984540054
    left.fill_between(
        n,
        np.clip(t.power - z * t.power_se, 0, 1),
        np.clip(t.power + z * t.power_se, 0, 1),
        color=SKY,
        alpha=0.35,
        hatch="//",
        linewidth=0,
        label="95 % Monte Carlo band",
    )
    left.plot(n, t.power, "o-", color=BLUE, lw=2, label=f"power: verdict {result.expected}")
    if result.expected != "U":
        left.plot(n, t.rate_U, "s--", color=VERMILION, lw=1.5, label="verdict U")
    target = result.target
    if target is not None:
        left.axhline(target.target, color=BLACK, ls=":", lw=1, label=f"target {target.target:g}")
        if target.reached:
            left.axvline(target.n, color=GREEN, ls="--", lw=1.5)
            left.annotate(
                f"n = {target.n:,.0f}\n{target.events:,.0f} events",
                (target.n, target.target),
                xytext=(6, -28),
                textcoords="offset points",
                fontsize=8,
            )
    left.set_ylim(0, 1.02)
    left.set_ylabel("rate over replicates")
    left.set_title(f"{result.scenario.name}: {result.reps} replicates per size", fontsize=9)
    left.legend(fontsize=8, frameon=False, loc="lower right")

    width = t.nadir_ci_width.to_numpy(float)
    finite = np.isfinite(width)
    if finite.any():
        lo = t.nadir_ci_width_lower.to_numpy(float)
        hi = t.nadir_ci_width_upper.to_numpy(float)
        top = 1.5 * np.nanmax(np.where(np.isfinite(hi), hi, width))
        right.fill_between(
            n,
            np.where(np.isfinite(lo), lo, 0),
            np.where(np.isfinite(hi), hi, top),
            color="#BBBBBB",
            alpha=0.6,
            linewidth=0,
            label="95 % interval of the median",
        )
        right.plot(n[finite], width[finite], "o-", color=BLACK, lw=2, label="median CI width")
        right.set_ylim(0, top)
        right.legend(fontsize=8, frameon=False)
    else:
        right.text(
            0.5,
            0.5,
            "no bounded nadir CI in most replicates",
            ha="center",
            transform=right.transAxes,
            fontsize=9,
        )
    unit = f" ({result.scenario.unit})" if result.scenario.unit else ""
    right.set_ylabel(f"width of the nadir's {result.analysis.level:.0%} CI{unit}")
    right.set_title(f"nadir CI: {result.analysis.nadir_method}", fontsize=9)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlim(n[0] / 1.15, n[-1] * 1.15)
        ax.set_xlabel("people")
        ax.xaxis.set_major_formatter(_plain_formatter())
        ax.xaxis.set_minor_formatter(_plain_formatter(minor=True))
        if len(n) > 1 and np.all(np.diff(events) > 0):
            top_axis = ax.secondary_xaxis("top", functions=_events_scale(n, events))
            top_axis.xaxis.set_major_formatter(_plain_formatter())
            top_axis.xaxis.set_minor_formatter(_plain_formatter(minor=True))
            top_axis.set_xlabel("events (mean)", fontsize=8)
            top_axis.tick_params(labelsize=7)
    return axes


def _events_scale(n: np.ndarray, events: np.ndarray):
    """People <-> mean events: interpolated between the sizes tried, proportional beyond."""

    def forward(x):
        x = np.asarray(x, dtype=float)
        out = np.interp(x, n, events)
        return np.where(
            x < n[0], x * events[0] / n[0], np.where(x > n[-1], x * events[-1] / n[-1], out)
        )

    def inverse(e):
        e = np.asarray(e, dtype=float)
        out = np.interp(e, events, n)
        return np.where(
            e < events[0],
            e * n[0] / events[0],
            np.where(e > events[-1], e * n[-1] / events[-1], out),
        )

    return forward, inverse


_STYLES = [
    (BLACK, "-"),
    (BLUE, "--"),
    (VERMILION, "-."),
    (GREEN, ":"),
    (ORANGE, (0, (5, 2))),
    (SKY, (0, (3, 1, 1, 1))),
    ("#CC79A7", (0, (1, 1))),
    ("#777777", (0, (8, 2, 2, 2))),
]


def plot_imputed_vs_complete(complete, imputed, ax=None, *, level: float = 0.95):
    """Complete-case and imputed (pooled) HR curves with their CI bands, both versus the
    complete-case fit's reference, on a log axis.

    Parameters
    ----------
    complete, imputed : DoseResponse
        The complete-case fit and the fit pooled over imputations (`fit_dose_response` of a
        list of completed data sets).

    Examples
    --------
    >>> # plot_imputed_vs_complete(fit_cc, fit_mi)
    """
    ax = _axes(ax)
    ref = complete.reference_value()
    grid = complete.curve.grid()
    ax.set_yscale("log")
    for fit, label, (colour, style) in (
        (complete, f"complete cases (n = {complete.n:,})", _STYLES[0]),
        (imputed, f"imputed, {getattr(imputed, 'm', '')} data sets pooled", _STYLES[1]),
    ):
        c = fit.curve.hr_curve(grid, ref, level)
        ax.fill_between(c.exposure, c.lower, c.upper, color=colour, alpha=0.12, linewidth=0)
        ax.plot(c.exposure, c.hr, color=colour, linestyle=style, linewidth=2, label=label)
    ax.axhline(1.0, color="#555555", linestyle=":", linewidth=1)
    ax.set_xlabel(complete.curve.label)
    _finish_log_axis(ax, f"{complete.curve.ratio} vs {ref:.3g} ({level:.0%} CI bands)")
    ax.legend(fontsize=8, frameon=False)
    return ax


def plot_sensitivity(panel, ax=None):
    """The sensitivity panel's curves overlaid (each variant versus the main analysis'
    reference), on a log axis; see `mgrisk.sensitivity.sensitivity_panel`."""
    ax = _axes(ax, (9.0, 4.8))
    ax.set_yscale("log")
    for i, (name, c) in enumerate(panel.curves.items()):
        colour, style = _STYLES[i % len(_STYLES)]
        width = 2.4 if i == 0 else 1.4
        ax.plot(c.exposure, c.hr, color=colour, linestyle=style, linewidth=width, label=name)
    ax.axhline(1.0, color="#555555", linestyle=":", linewidth=1)
    ax.set_xlabel(panel.label)
    _finish_log_axis(ax, f"hazard ratio vs {panel.reference:.3g}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, frameon=False)
    return ax
