"""The explorer's update path for a Rotterdam-size cohort (9,569 people), kernels compiled.

A change of a control recomputes what depends on it, as the app's reactive graph does: a truth,
size, follow-up or seed control simulates, fits and computes the results; knots or adjustment
refit; reference, corridor or nadir CI recompute the results only. Each update is timed up to
the PNG of the main picture (what the browser receives), and "draw 20 cohorts" separately.
The issue asks for a redraw within 1 s. Prints the median and the slowest of each.
Run: python benchmarks/bench_explore.py [--reps 7]
"""

import argparse
import statistics
import time
from dataclasses import replace

from mgrisk.explore.figures import curve_figure, figure_bytes
from mgrisk.explore.model import ExploreSettings, draw_cohorts, fit, simulate, view, warm_up
from mgrisk.explore.truth import Truth

BASE = ExploreSettings()  # the Rotterdam size, U truth, 4 knots, delta corridor

CHANGES = {
    "nadir (truth)": ("simulate", lambda s, i: replace(s, truth=Truth("U", 0.80 + 0.01 * i))),
    "steepness (truth)": (
        "simulate",
        lambda s, i: replace(s, truth=Truth("U", 0.85, 1.3, 1.3 + 0.1 * i)),
    ),
    "seed": ("simulate", lambda s, i: replace(s, seed=100 + i)),
    "knots": ("fit", lambda s, i: replace(s, knots=3 + i % 5)),
    "adjustment": ("fit", lambda s, i: replace(s, adjust=bool(i % 2))),
    "corridor delta": ("view", lambda s, i: replace(s, corridor_delta=0.05 + 0.02 * i)),
    "nadir CI method": (
        "view",
        lambda s, i: replace(s, nadir_method=("inversion", "delta")[i % 2]),
    ),
}


def update(stage: str, settings: ExploreSettings, state: dict) -> None:
    """What the app recomputes for a change at ``stage``, then the main picture's PNG."""
    if stage == "simulate":
        state["sim"] = simulate(settings)
    if stage in ("simulate", "fit"):
        scenario, cohort = state["sim"]
        state["fit"] = fit(cohort, settings, scenario)
    v = view(state["fit"], settings, state["sim"][0])
    figure_bytes(curve_figure(v), "png", settings.describe())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=7)
    args = parser.parse_args()
    start = time.perf_counter()
    warm_up()
    print(
        f"warm-up (compiling the kernels, or loading them from numba's cache): "
        f"{time.perf_counter() - start:.1f} s"
    )
    state: dict = {}
    update("simulate", BASE, state)
    update("simulate", BASE, state)  # matplotlib's first figure loads fonts
    print(f"{'control changed':<20} {'recomputes':<10} {'median (ms)':>12} {'slowest (ms)':>13}")
    for name, (stage, change) in CHANGES.items():
        times = []
        for i in range(args.reps):
            settings = change(BASE, i)
            t = time.perf_counter()
            update(stage, settings, state)
            times.append(time.perf_counter() - t)
        print(
            f"{name:<20} {stage:<10} {statistics.median(times) * 1e3:>12.0f} "
            f"{max(times) * 1e3:>13.0f}"
        )
    times = []
    for i in range(3):
        t = time.perf_counter()
        draw_cohorts(replace(BASE, seed=i))
        times.append(time.perf_counter() - t)
    print(
        f"{'draw 20 cohorts':<20} {'20 fits':<10} {statistics.median(times) * 1e3:>12.0f} "
        f"{max(times) * 1e3:>13.0f}"
    )


if __name__ == "__main__":
    main()
