"""Classroom demo: the same truth at n = 1,000 and n = 10,000, side by side.

Small cohorts give wide, wobbly curves and nadirs that wander; the truth (dashed) is the same.
Run: python examples/classroom_variability.py
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from mgrisk import fit_dose_response, load_scenario, simulate_cohort
from mgrisk.plot import plot_truth_vs_estimate

HERE = Path(__file__).parent
scenario = load_scenario("rotterdam")
fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), sharey=True, layout="constrained")
for ax, n in zip(axes, (1_000, 10_000), strict=True):
    cohort = simulate_cohort(scenario, n=n, seed=7)
    fit = fit_dose_response(
        cohort, "mg", "exit", "event", entry="entry", adjust=scenario.adjust_formula()
    )
    plot_truth_vs_estimate(fit, scenario, ax)
    nadir = fit.nadir("inversion")
    ax.set_title(
        f"n = {n:,}: {fit.n_events} cases, nadir {nadir.estimate:.3f} "
        f"({nadir.lower:.3f}-{nadir.upper:.3f})",
        fontsize=10,
    )
(HERE / "out").mkdir(exist_ok=True)
fig.savefig(HERE / "out" / "classroom_variability.png", dpi=200)
print(f"wrote {HERE / 'out' / 'classroom_variability.png'}")
