"""Figures render headless with real content: band, curve, corridor, nadir, quintiles."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PolyCollection

from mgrisk import fit_dose_response, load_scenario, simulate_cohort
from mgrisk.plot import plot_hr_curve, plot_truth_vs_estimate


@pytest.fixture(scope="module")
def fit():
    cohort = simulate_cohort("rotterdam", n=8000, seed=8)
    return fit_dose_response(
        cohort, "mg", "exit", "event", entry="entry", adjust="female", unit="mmol/L"
    )


def pixels(fig):
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3]


def test_hr_curve_has_band_curve_corridor_nadir_and_quintiles(fit):
    fig, ax = plt.subplots()
    plot_hr_curve(fit, ax)
    labels = [" ".join(t.get_text().split()) for t in ax.get_legend().get_texts()]
    assert any(lbl.startswith("95% CI") for lbl in labels)
    assert any("corridor" in lbl and "HR versus the nadir" in lbl for lbl in labels)
    assert any(lbl.startswith("nadir") for lbl in labels)
    assert any(lbl.startswith("quintile HRs") for lbl in labels)
    assert any(isinstance(c, PolyCollection) for c in ax.collections)  # the band
    curve = next(line for line in ax.get_lines() if line.get_label() == "hazard ratio (spline)")
    assert len(curve.get_xdata()) > 50 and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "mg (mmol/L)"
    image = pixels(fig)
    assert image.std() > 20 and len(np.unique(image.reshape(-1, 3), axis=0)) > 50  # not blank
    plt.close(fig)


def test_truth_vs_estimate(fit):
    fig, ax = plt.subplots()
    plot_truth_vs_estimate(fit, load_scenario("rotterdam"), ax)
    truth = next(line for line in ax.get_lines() if line.get_label().startswith("truth"))
    assert np.nanmin(truth.get_ydata()) == pytest.approx(1.0, abs=0.02)  # 1 at the true nadir
    assert pixels(fig).std() > 20
    plt.close(fig)
