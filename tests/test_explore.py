"""The explorer's pure functions: the truth against closed forms, the update path against
mgrisk's own analysis, reproducibility, bad input as one message, and a light core."""

import math
import socket
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from mgrisk.errors import InputError
from mgrisk.explore.figures import curve_figure, draws_figure, exposure_figure, figure_bytes
from mgrisk.explore.model import (
    Columns,
    ExploreSettings,
    draw_cohorts,
    explore,
    fit,
    guess_columns,
    numbers,
    parse_knots,
    replicate_seed,
    shape_in_words,
    simulate,
    view,
)
from mgrisk.explore.truth import BOWL, STEEPNESS_AT, Truth, build_scenario, true_effect

SMALL = ExploreSettings(n=3000, seed=7)  # a U with a bounded nadir CI


@pytest.fixture(scope="module")
def small_view():
    return explore(SMALL)


# --- the truth ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shape", "low", "high"), [("U", 1.35, 1.35), ("J", 1.1, 1.7), ("U", 2.5, 1.2)]
)
def test_steepness_is_the_true_hr_at_a_tenth_from_the_nadir(shape, low, high):
    f = true_effect(Truth(shape, 0.83, low, high))
    nadir = 0.83
    assert math.exp(f(nadir - STEEPNESS_AT) - f(nadir)) == pytest.approx(low, rel=1e-12)
    assert math.exp(f(nadir + STEEPNESS_AT) - f(nadir)) == pytest.approx(high, rel=1e-12)
    # closed form of the bowl: c d^2 inside it
    c_low = math.log(low) / (BOWL * (2 * STEEPNESS_AT - BOWL))
    assert f(nadir - 0.03) == pytest.approx(c_low * 0.03**2, rel=1e-12)


@pytest.mark.parametrize("shape", ["U", "J", "L"])
def test_true_nadir_is_the_minimum_of_the_curve_on_a_fine_grid(shape):
    truth = Truth(shape, 0.8, 1.6, 1.4)
    grid = np.linspace(0.5, 1.2, 700_001)
    values = true_effect(truth)(grid)
    lowest = grid[values <= values.min() + 1e-15]
    assert truth.true_nadir == pytest.approx(lowest[0], abs=1e-6)  # L: where the plateau starts
    if shape == "L":
        assert np.all(values[grid >= 0.8] == 0.0)


def test_truth_is_smooth_where_the_bowl_meets_the_straight_tails():
    f = true_effect(Truth("U", 0.85, 1.8, 1.5))
    h = 1e-7
    for knot in (0.85 - BOWL, 0.85 + BOWL):
        left = (f(knot) - f(knot - h)) / h
        right = (f(knot + h) - f(knot)) / h
        assert left == pytest.approx(right, rel=1e-5)


def test_increasing_and_flat_truths():
    f = true_effect(Truth("increasing", 0.84, 1.0, 1.3))
    assert math.exp(f(0.94) - f(0.84)) == pytest.approx(1.3)
    assert f(0.84) == 0.0
    assert Truth("increasing").true_nadir is None
    assert np.all(true_effect(Truth("flat"))(np.linspace(0.5, 1.2, 11)) == 0.0)


def test_the_simulator_draws_from_this_truth():
    scenario, cohort = simulate(replace(SMALL, truth=Truth("J", 0.8, 1.2, 2.0)))
    expected = true_effect(Truth("J", 0.8, 1.2, 2.0))(cohort.mg.to_numpy())
    np.testing.assert_allclose(cohort.true_log_hr, expected, rtol=1e-12, atol=1e-12)
    conf = next(c for c in scenario.covariates if c.name == "diuretics")
    assert conf.corr_exposure < -0.3 and conf.log_hr_dementia > 0.5


@pytest.mark.parametrize(
    ("truth", "n", "message"),
    [
        (Truth("W"), 1000, "shape='W'"),
        (Truth("U", 0.85, 0.8, 1.3), 1000, "steepness below the nadir = 0.8"),
        (Truth("U", 0.85, 1.3, 9.0), 1000, "steepness above the nadir = 9"),
        (Truth("U", 1.5), 1000, "nadir = 1.5 is outside the exposure range"),
        (Truth(), 10, "cohort size = 10"),
    ],
)
def test_impossible_truths_are_one_clear_message(truth, n, message):
    with pytest.raises(InputError, match=message):
        build_scenario(truth, n=n)


# --- settings -------------------------------------------------------------------------------
def test_knots_by_hand():
    assert parse_knots("0.76,0.82 ; 0.87  0.93") == (0.76, 0.82, 0.87, 0.93)
    with pytest.raises(InputError, match="'8x' is not a number"):
        parse_knots("0.7, 0,8x, 0.9")
    with pytest.raises(InputError, match="2 given"):
        parse_knots("0.7 0.9")
    with pytest.raises(InputError, match="increasing"):
        parse_knots("0.9 0.8 0.85")
    with pytest.raises(InputError, match="knots = 9"):
        explore(replace(SMALL, knots=9))


def test_the_seed_gives_the_same_cohort():
    _, a = simulate(SMALL)
    _, b = simulate(SMALL)
    _, c = simulate(replace(SMALL, seed=6))
    pd.testing.assert_frame_equal(a, b)
    assert not a.mg.equals(c.mg)
    assert replicate_seed(1, 0) == replicate_seed(1, 0) != replicate_seed(1, 1)


# --- the update path ------------------------------------------------------------------------
def test_view_shows_mgrisk_results(small_view):
    v = small_view
    scenario, cohort = simulate(SMALL)
    direct = fit(cohort, SMALL, scenario).results(ref="nadir")
    assert v.results.nadir == direct.nadir
    assert v.results.corridor == direct.corridor
    pd.testing.assert_frame_equal(v.results.curve, direct.curve)
    assert v.results.model["n"] == 3000
    # the simultaneous band contains the pointwise one, on the same grid and reference
    np.testing.assert_allclose(v.simultaneous.exposure, v.results.curve.exposure)
    assert np.all(v.simultaneous.lower <= v.results.curve.lower + 1e-12)
    assert np.all(v.simultaneous.upper >= v.results.curve.upper - 1e-12)
    # the truth is on the curve's reference: HR 1 there
    ref = v.reference
    f = scenario.effect
    np.testing.assert_allclose(v.truth.hr, np.exp(f(v.truth.exposure) - f(ref)))
    assert v.true_nadir == 0.85 and v.true_shape == "U"


def test_quintile_points_follow_the_reference():
    at_nadir = explore(SMALL)
    at_median = explore(replace(SMALL, reference="median"))
    ratio = at_median.quantile_points.hr / at_nadir.quantile_points.hr
    np.testing.assert_allclose(ratio, ratio.iloc[0])  # one rescaling for all categories
    # the HR of the nadir versus the median, read from the curve versus the median
    c = at_median.results.curve
    expected = np.interp(at_nadir.reference, c.exposure, c.hr)
    assert ratio.iloc[0] == pytest.approx(expected, rel=2e-3)


def test_adjustment_switches_the_confounder_only():
    scenario, cohort = simulate(SMALL)
    on = fit(cohort, SMALL, scenario).settings.adjust
    off = fit(cohort, replace(SMALL, adjust=False), scenario).settings.adjust
    assert "diuretics" in on and "diuretics" not in off
    assert set(on.split(" + ")) - set(off.split(" + ")) == {"diuretics"}


def test_numbers_and_words_read_the_results(small_view):
    v = small_view
    text = numbers(v)
    assert f"{v.results.nadir.estimate:.3f}" in text["nadir"]
    assert f"{v.results.corridor.lower:.3f}" in text["corridor"]
    assert text["events"] == f"{v.results.model['n_events']:,}"
    words = shape_in_words(v)
    assert words[0] == "The true curve is U-shaped."
    assert f"estimated curve {v.results.shape.verdict} " in words[1]


def test_corridor_rule_and_nadir_method_reach_the_results():
    s = replace(SMALL, corridor_rule="ci", corridor_level=0.9, nadir_method="delta")
    r = explore(s).results
    assert r.corridor.rule == "ci" and r.nadir.method == "delta"
    assert r.options.corridor_level == 0.9


def test_draw_cohorts_counts_the_cis_that_cover_the_truth():
    d = draw_cohorts(replace(SMALL, n=1500), draws=3)
    assert d.curves.shape == (3, d.grid.size)
    manual = sum(
        n.interior and n.lower <= d.true_nadir <= n.upper for n in d.nadirs
    )  # independent count
    assert d.covering == manual
    np.testing.assert_allclose(np.interp(0.85, d.grid, d.truth), 1.0, atol=1e-3)


def test_user_table(tmp_path):
    from mgrisk.tables import read_table

    _, cohort = simulate(SMALL)
    path = tmp_path / "mine.csv"
    cohort.drop(columns="true_log_hr").to_csv(path, index=False)
    data = read_table(path)
    guess = guess_columns(list(data.columns))
    assert guess == {"exposure": "mg", "time": "exit", "event": "event", "entry": "entry"}
    cols = Columns("mg", "exit", "event", "entry", "female + egfr", "mmol/L")
    v = view(fit(data, SMALL, columns=cols), SMALL, columns=cols)
    assert v.truth is None and v.true_shape is None
    assert "adjusted for female + egfr" in SMALL.describe(cols)
    with pytest.raises(InputError, match="mgg"):
        fit(data, SMALL, columns=replace(cols, exposure="mgg"))


# --- pictures -------------------------------------------------------------------------------
def test_downloads_carry_their_settings(small_view):
    caption = small_view.settings.describe()
    png = figure_bytes(curve_figure(small_view), "png", caption)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and b"Description" in png
    assert caption.encode("latin-1") in png
    svg = figure_bytes(exposure_figure(small_view), "svg", caption).decode()
    assert "seed 7" in svg and "<dc:description>" in svg
    draws = draw_cohorts(replace(SMALL, n=1200), draws=2)
    assert figure_bytes(draws_figure(draws), "png", caption)[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="pdf"):
        figure_bytes(curve_figure(small_view), "pdf", caption)


# --- the app's boundary ---------------------------------------------------------------------
def test_importing_mgrisk_and_the_app_module_does_not_import_the_framework():
    code = (
        "import sys, mgrisk, mgrisk.explore.app, mgrisk.explore.model; "
        "print(any(m == 'shiny' or m.startswith('shiny.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_bad_settings_become_a_problem_not_a_traceback():
    from mgrisk.explore.app import Problem, _guard

    p = _guard(lambda: parse_knots("a b c"))
    assert isinstance(p, Problem) and "not a number" in p.message
    assert _guard(lambda: 3) == 3


def test_cli_refuses_a_busy_port(capsys):
    pytest.importorskip("shiny")
    from mgrisk.cli import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["explore", "--port", str(port), "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 cannot be used" in err
    assert main(["explore", "--port", "70000", "--no-browser"]) == 2
    assert "from 1 to 65535" in capsys.readouterr().err
