"""Power grids: Monte Carlo SEs and intervals from closed forms, the null's p-values uniform,
the same table on any number of cores or on dask, overrides that change the simulated truth."""

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mgrisk
from mgrisk import load_scenario, power, simulate_cohort
from mgrisk.cli import main
from mgrisk.errors import InputError
from mgrisk.power_study import median_interval, rate_column, target_size, true_shape
from mgrisk.scenario import parse_override
from mgrisk.testing import assert_power
from mgrisk.validate import SHAPES

#: two sizes x 12 replicates: two chunks per size, so two workers share the work
SMALL = dict(n=[1000, 2000], reps=12, seed=5)
Z = stats.norm.ppf(0.975)


@pytest.fixture(scope="module")
def small_grid():
    return power("rotterdam", jobs=1, target=0.5, **SMALL)


def test_same_seed_same_table_on_one_core_two_cores_and_dask(small_grid, monkeypatch):
    two = power("rotterdam", jobs=2, target=0.5, **SMALL)
    pd.testing.assert_frame_equal(small_grid.table, two.table, check_exact=True)
    pd.testing.assert_frame_equal(small_grid.p_values, two.p_values, check_exact=True)
    distributed = pytest.importorskip("distributed")
    # the workers must import this worktree's mgrisk, whatever is installed
    here = str(Path(mgrisk.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([here, os.environ.get("PYTHONPATH", "")]))
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        via_dask = power("rotterdam", scheduler=cluster.scheduler_address, target=0.5, **SMALL)
    pd.testing.assert_frame_equal(small_grid.table, via_dask.table, check_exact=True)
    pd.testing.assert_frame_equal(small_grid.p_values, via_dask.p_values, check_exact=True)
    assert small_grid.target == via_dask.target


def test_rates_are_binomial_with_closed_form_standard_errors(small_grid):
    t = small_grid.table
    assert list(t.n) == [1000, 2000] and small_grid.expected == "U"
    for r in t.itertuples(index=False):
        fitted = r.reps - r.failed
        rates = np.array([getattr(r, rate_column(v)) for v in SHAPES])
        np.testing.assert_allclose(rates.sum(), 1.0, atol=1e-12)
        # each rate is a count of replicates over the fitted ones, with SE sqrt(p(1-p)/R)
        np.testing.assert_allclose(rates * fitted, np.round(rates * fitted), atol=1e-9)
        for v, p in zip(SHAPES, rates, strict=True):
            assert getattr(r, rate_column(v) + "_se") == pytest.approx(
                math.sqrt(p * (1 - p) / fitted), abs=1e-15
            )
        assert (r.power, r.power_se) == (r.rate_U, r.rate_U_se)
        assert r.nadir_coverage_se == pytest.approx(
            math.sqrt(r.nadir_coverage * (1 - r.nadir_coverage) / fitted)
        )
    assert t.columns[:6].tolist() == ["n", "reps", "failed", "events", "power", "power_se"]
    assert len(small_grid.p_values) == 24 and small_grid.p_values.p.between(0, 1).all()


def test_null_nonlinearity_p_values_are_uniform_and_false_u_rare():
    """Under a flat truth the spline's nonlinearity test has uniform p-values: 80 replicates,
    KS test against U(0, 1), rejections at 0.05 within the binomial's 99.9th percentile."""
    grid = power("null", n=[1500, 3000], reps=40, seed=11, jobs=2)
    p = grid.p_values.p.to_numpy()
    assert np.isfinite(p).all() and p.size == 80
    assert stats.kstest(p, "uniform").pvalue > 1e-3
    assert (p < 0.05).sum() <= stats.binom.ppf(0.999, 80, 0.05)
    assert grid.expected == "flat"
    assert (grid.table.power == grid.table.rate_flat).all()
    false_u = (grid.table.rate_U * 40).sum()
    assert false_u <= stats.binom.ppf(0.999, 80, 0.07)
    assert grid.table.nadir_coverage.isna().all()  # no true nadir to cover


def _linear_in_log_n(se):
    n = np.array([1000, 2000, 4000, 8000])
    return pd.DataFrame(
        {"n": n, "events": 0.09 * n, "power": 0.1 + 0.2 * np.log(n / 1000), "power_se": se}
    )


def test_target_size_is_exact_for_power_linear_in_log_n():
    """Power 0.1 + 0.2 log(n / 1000): reaches 0.3 at n = 1000 e; the band p +- 1.96 SE reaches
    it at 1000 exp((0.2 -+ 1.96 SE) / 0.2); events 0.09 n."""
    t = target_size(_linear_in_log_n(0.02), 0.3)
    assert t.n == pytest.approx(1000 * math.e, rel=1e-12)
    assert t.n_lower == pytest.approx(1000 * math.exp((0.2 - Z * 0.02) / 0.2), rel=1e-9)
    assert t.n_upper == pytest.approx(1000 * math.exp((0.2 + Z * 0.02) / 0.2), rel=1e-9)
    assert t.events == pytest.approx(0.09 * t.n, rel=1e-12)
    assert t.events_upper == pytest.approx(0.09 * t.n_upper, rel=1e-12)
    assert t.reached and "interpolated" in t.note
    beyond = target_size(_linear_in_log_n(0.02), 0.9)
    assert not beyond.reached and math.isnan(beyond.events) and "try larger sizes" in beyond.note
    below = target_size(_linear_in_log_n(0.02), 0.05)
    assert below.n == 1000 and math.isnan(below.n_lower) and "smaller sizes" in below.note


def test_median_interval_ranks_match_conover():
    """Distribution-free 95 % CI of a median: ranks (2, 9) for 10 values and (40, 61) for 100
    (Conover, Practical Nonparametric Statistics, table A3), with coverage >= 95 %."""
    assert median_interval(np.arange(1.0, 11.0)) == (5.5, 2.0, 9.0)
    assert median_interval(np.arange(1.0, 101.0)) == (50.5, 40.0, 61.0)
    med, _, hi = median_interval(np.r_[np.ones(6), np.full(5, np.inf)])
    assert med == 1.0 and hi == np.inf  # unbounded widths count as infinitely wide
    rng = np.random.default_rng(1)
    samples = rng.exponential(size=(2000, 30))
    covered = [lo <= math.log(2) <= hi for _, lo, hi in map(median_interval, samples)]
    assert np.mean(covered) >= 0.94


@pytest.mark.parametrize(
    "scenario, overrides, shape",
    [
        ("rotterdam", {}, "U"),
        ("null", {}, "flat"),
        ("monotone", {}, "increasing"),
        ("rotterdam", {"effect": {"shape": "linear", "slope": -3.0, "reference": 0.84}},
         "decreasing"),
        ("rotterdam", {"effect": {"shape": "points", "x": [0.6, 0.85, 1.1], "log_hr": [0, 1, 0]}},
         "inverted-U"),
        ("rotterdam", {"effect": {"shape": "hinge", "nadir": 0.85, "slope_low": 0.0,
                                  "slope_high": 5.0}}, "increasing"),
    ],
)  # fmt: skip
def test_true_shape_from_the_truths_slopes(scenario, overrides, shape):
    assert true_shape(load_scenario(scenario, overrides)) == shape


def test_overrides_change_the_simulated_truth():
    """exposure.mean 0.9: the truncated normal's mean (scipy); female_share 0: no women;
    effect.curvature 20 sets both sides: true log HR 20 (mg - 0.85)^2 within the width."""
    s = load_scenario(
        "rotterdam",
        {"exposure.mean": 0.9, "population.female_share": 0, "effect.curvature": 20},
    )
    assert s.overrides == (
        ("exposure.mean", 0.9),
        ("population.female_share", 0),
        ("effect.curvature", 20),
    )
    cohort = simulate_cohort(s, n=20_000, seed=3)
    lo, hi = (0.5 - 0.9) / 0.065, (1.2 - 0.9) / 0.065
    mean = stats.truncnorm(lo, hi, loc=0.9, scale=0.065).mean()
    assert abs(cohort.mg.mean() - mean) < 4 * 0.065 / math.sqrt(20_000)
    assert (cohort.female == 0).all()
    near = cohort[(cohort.mg - 0.85).abs() < 0.06]
    np.testing.assert_allclose(near.true_log_hr, 20 * (near.mg - 0.85) ** 2, rtol=1e-12)
    stronger = s.with_overrides({"effect.curvature_high": 60})
    assert (stronger.effect.curvature_low, stronger.effect.curvature_high) == (20, 60)
    assert stronger.exposure_mean == 0.9  # earlier overrides kept


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"effect.curvature_low": -3},
         r"rotterdam\.toml \(overrides: .*key 'effect.curvature_low' = -3 must be at least 0"),
        ({"effect.curvatur": 2}, r"key 'effect.curvatur' is not a known key"),
        ({"efect.nadir": 0.8}, r"key 'scenario.efect' is not a known key"),
        ({"effect.nadir": 1.5}, r"nadir.* outside the exposure range"),
        ({"exposure.sd": "wide"}, r"key 'exposure.sd' must be a number, got 'wide'"),
        ({"covariates.bmi.mean": 25}, r"name one of \['egfr', 'diuretics', 'education_low'\]"),
        ({"population.n.x": 3}, r"'population.n' is a value, not a table"),
        ({"effect..nadir": 0.8}, r"not a dotted key"),
    ],
)  # fmt: skip
def test_bad_overrides_are_refused_as_bad_files_are(overrides, message):
    with pytest.raises(InputError, match=message):
        load_scenario("rotterdam", overrides)


def test_override_text_is_parsed_as_toml_data_never_run():
    assert parse_override("effect.curvature_low=20") == ("effect.curvature_low", 20)
    assert parse_override(" censoring.follow_up_max = 8.5 ") == ("censoring.follow_up_max", 8.5)
    assert parse_override("effect.shape=hinge") == ("effect.shape", "hinge")
    assert parse_override('effect={shape = "flat"}') == ("effect", {"shape": "flat"})
    assert parse_override("effect.x=[0.7, 0.9]") == ("effect.x", [0.7, 0.9])
    for text, message in [
        ("effect.curvature_low", "write KEY=VALUE"),
        ("=3", "write KEY=VALUE"),
        ("effect.nadir=", "give one value"),
        ("name=1\nsource=2", "give one value"),
        ("effect.nadir=__import__('os')", "is not a TOML value"),
    ]:
        with pytest.raises(InputError, match=message):
            parse_override(text)


def test_mgrisk_power_stays_the_function_once_its_module_is_imported():
    import mgrisk.power_study  # sets the attribute mgrisk.power_study, not mgrisk.power

    assert mgrisk.power is power and callable(mgrisk.power)


def test_bad_power_arguments():
    for kwargs, message in [
        (dict(n=[]), r"give the study sizes"),
        (dict(n=[100]), r"n=100 people per replicate is too few"),
        (dict(n=[2000.5]), r"not a whole number"),
        (dict(n=[2000], reps=1), r"reps=1: use at least 2"),
        (dict(n=[2000], target=1.2), r"target=1.2"),
        (dict(n=[2000], expected="W"), r"expected='W'"),
        (dict(n=[2000], overrides={"effect.nadir": 2}), r"effect.nadir"),
    ]:
        with pytest.raises(InputError, match=message):
            power("rotterdam", **{"reps": 2, **kwargs})


def test_cli_power_writes_the_results_folder(tmp_path, capsys):
    out = tmp_path / "plan"
    argv = ["power", "rotterdam", "--n", "1000,2000", "--reps", "4", "--jobs", "1", "--quiet"]
    argv += ["--set", "effect.curvature_low=20", "--set", "exposure.sd=0.07", "--target", "0.5"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "effect.curvature_low=20" in printed and "power 0.5" in printed
    names = {p.name for p in out.iterdir()}
    assert names == {
        "power.csv", "power.json", "power.png", "power_pvalues.csv", "summary.txt", "run.json"
    }  # fmt: skip
    table = pd.read_csv(out / "power.csv")
    assert table.n.tolist() == [1000, 2000] and {"events", "power", "rate_U"} <= set(table)
    saved = json.loads((out / "power.json").read_text())
    assert saved["overrides"] == {"effect.curvature_low": 20, "exposure.sd": 0.07}
    assert len(pd.read_csv(out / "power_pvalues.csv")) == 8


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--n", "100"], "--n 100 people is too few"),
        (["--n", "2000,many"], "--n 'many' is not a whole number"),
        (["--n", "2000", "--set", "curvature"], "--set override 'curvature': write KEY=VALUE"),
        (["--n", "2000", "--set", "effect.curvature_low=-1"], "must be at least 0"),
        (["--n", "2000", "--reps", "1"], "--reps 1 is too small"),
        (["--n", "2000", "--target", "1.5"], "--target 1.5 is not between 0 and 1"),
    ],
)
def test_cli_power_bad_input_is_one_line_exit_2(tmp_path, capsys, extra, message):
    code = main(["power", "rotterdam", *extra, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


def test_assert_power_guards_a_design():
    grid = assert_power("null", n=[1500], min_power=None, max_rates={"U": 0.5}, reps=10, seed=2)
    assert grid.table.reps.tolist() == [10]
    with pytest.raises(AssertionError, match=r"n 1,500: power 0\.\d+ \(MC SE 0\.\d+\) < 0.99"):
        assert_power("null", n=[1500], min_power=0.99, expected="U", reps=10, seed=2)
    with pytest.raises(AssertionError, match=r"median nadir CI width .* > 1e-06"):
        assert_power("rotterdam", n=[1500], min_power=0, max_nadir_ci_width=1e-6, reps=4)
    with pytest.raises(InputError, match="'V' is not a verdict"):
        assert_power("null", n=[1500], max_rates={"V": 0.1}, reps=4)


def test_plot_power_draws_power_and_nadir_precision(small_grid):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mgrisk.plot import plot_power

    left, right = plot_power(small_grid)
    try:
        line = left.get_lines()[0]
        np.testing.assert_array_equal(line.get_ydata(), small_grid.table.power)
        assert left.get_xscale() == "log" and right.get_ylabel().startswith("width")
    finally:
        plt.close("all")


@pytest.mark.slow
def test_done_means_null_false_u_and_rotterdam_power_at_40000():
    """The issue's figures: false-U rate of the null at Rotterdam size <= 7 %; power to call
    the Rotterdam U rises with n and passes 0.9 at 40,000 people."""
    null = power("null", n=[9569], reps=300, seed=21, jobs=2)
    assert null.table.rate_U.iloc[0] <= 0.07
    grid = power("rotterdam", n=[5000, 10000, 20000, 40000], reps=200, seed=21, jobs=2)
    assert np.all(np.diff(grid.table.power) > 0)
    assert grid.table.power.iloc[-1] > 0.9
