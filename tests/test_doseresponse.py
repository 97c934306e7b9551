"""Dose-response analysis: known truths, coverage by simulation, bad input."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import gompertz_cohort

from mgrisk import fit_dose_response
from mgrisk.cox import fit_cox
from mgrisk.errors import InputError
from mgrisk.splines import rcs_basis

TRUE_NADIR, CURVATURE = 0.85, 40.0


@pytest.fixture(scope="module")
def big_fit():
    df = gompertz_cohort(200_000, seed=2, curvature=CURVATURE, nadir=TRUE_NADIR)
    return fit_dose_response(df, "mg", "exit", "event", entry="entry", adjust="C(sex)", knots=5)


def test_quadratic_truth_recovered(big_fit):
    """log HR = 40 (x - 0.85)^2: nadir 0.85; HR <= 1.1 corridor 0.85 +- sqrt(log 1.1 / 40).

    A restricted cubic spline is linear beyond its outer knots, so it cannot be a quadratic:
    even the least-squares projection of this truth on rcs(mg, 5) has its minimum at 0.867.
    The tolerances allow for that approximation, not for sampling error (n = 200,000).
    """
    nadir = big_fit.nadir()
    assert nadir.interior and abs(nadir.estimate - TRUE_NADIR) < 0.02
    half = np.sqrt(np.log(1.1) / CURVATURE)
    corridor = big_fit.corridor(delta=0.1)
    assert corridor.lower == pytest.approx(TRUE_NADIR - half, abs=0.015)
    assert corridor.upper == pytest.approx(TRUE_NADIR + half, abs=0.015)
    curve = big_fit.hr_curve(ref=TRUE_NADIR, grid=np.linspace(0.76, 0.94, 10))
    truth = CURVATURE * (curve.exposure - TRUE_NADIR) ** 2
    assert np.all(np.abs(curve.log_hr - truth) < 3 * curve.se + 0.05)
    assert big_fit.coef["C(sex)[T.1]"] == pytest.approx(0.3, abs=0.03)
    assert big_fit.shape().verdict == "U"


def test_simultaneous_critical_value_against_closed_forms(u_cohort):
    """The band's critical value: |N(0, 1)|'s 95 % quantile (1.960) when every grid point is one
    direction, and between that and Scheffe's bound sqrt(chi2_3 quantile) = 2.795 for a curve
    (max over directions of |a.z| / |a| is at most |z|). The max-|t| kernel matches numpy."""
    from scipy import stats

    from mgrisk._band_kernel import max_abs_projection

    fit = fit_dose_response(u_cohort, "mg", "exit", "event", entry="entry", adjust="C(sex)")
    k = len(fit.spline_cols)
    V = fit.spline_cov
    one_way = np.outer(np.linspace(-3.0, 2.0, 41), np.arange(1.0, k + 1.0))
    se = np.sqrt(np.einsum("ij,jk,ik->i", one_way, V, one_way))
    mc_error = 0.04  # 20,000 draws: the 95 % quantile of |Z| has SE about 0.013
    assert fit.curve._simultaneous_critical(one_way, se, 0.95) == pytest.approx(
        1.95996, abs=mc_error
    )
    crit = fit.hr_curve(ref=0.85, band="simultaneous").attrs["critical_value"]
    assert 1.96 < crit <= np.sqrt(stats.chi2.ppf(0.95, k)) + mc_error

    rng = np.random.default_rng(3)
    draws, A = rng.normal(size=(500, k)), rng.normal(size=(41, k))
    np.testing.assert_allclose(
        max_abs_projection(draws.T.copy(), A), np.abs(draws @ A.T).max(axis=1), rtol=1e-13
    )


def test_curve_band_and_tests_are_consistent(u_cohort):
    fit = fit_dose_response(u_cohort, "mg", "exit", "event", entry="entry", adjust="C(sex)")
    curve = fit.hr_curve(ref=0.85)
    at_ref = np.argmin(np.abs(curve.exposure - 0.85))
    assert fit.hr_curve(grid=[0.85], ref=0.85).log_hr.iloc[0] == pytest.approx(0.0, abs=1e-12)
    simultaneous = fit.hr_curve(ref=0.85, band="simultaneous")
    assert simultaneous.attrs["critical_value"] > 1.96
    assert (simultaneous.lower <= curve.lower + 1e-12).all()
    assert curve.index[at_ref] == at_ref
    table = fit.anova()
    assert table.loc["mg", "df"] == 3 and table.loc["mg: nonlinear", "df"] == 2
    assert table.loc["TOTAL", "chi2"] == pytest.approx(fit.cox.wald_test.chi2, rel=1e-10)
    assert list(fit.coef.index[:3]) == ["mg", "mg'", "mg''"]
    lr = fit.lr_test()
    linear = fit_cox(
        pd.DataFrame({"mg": u_cohort.mg, "sex": u_cohort.sex}),
        u_cohort.exit,
        u_cohort.event,
        entry=u_cohort.entry,
    )
    assert lr.chi2 == pytest.approx(2 * (fit.loglik[1] - linear.loglik[1]), rel=1e-9)


def test_quantile_table_counts_match_pandas(u_cohort):
    fit = fit_dose_response(u_cohort, "mg", "exit", "event", entry="entry", adjust="C(sex)")
    qt = fit.quantile_table()
    cats = pd.qcut(u_cohort.mg, 5, labels=False)  # (a, b] intervals, lowest included
    np.testing.assert_array_equal(qt.table.n, np.bincount(cats))
    np.testing.assert_array_equal(qt.table.events, u_cohort.groupby(cats).event.sum())
    py = (u_cohort.exit - u_cohort.entry).groupby(cats).sum()
    np.testing.assert_allclose(qt.table.person_time, py)
    assert qt.table.loc["Q3", "hr"] == 1.0 and qt.reference == "Q3"
    assert qt.table.loc["Q1", "hr"] > 1.2 and qt.table.loc["Q5", "hr"] > 1.2  # the U


SPLINE_KNOTS = [0.74, 0.81, 0.87, 0.94]
SPLINE_BETA = np.array([-8.0, 8.0, 2.0])  # a U whose nadir is known exactly


def spline_truth(mg):
    """The U spline, 0 at 0.85 mmol/L (near its minimum), so events stay plentiful."""
    return (rcs_basis(mg, SPLINE_KNOTS) - rcs_basis([0.85], SPLINE_KNOTS)) @ SPLINE_BETA


@pytest.mark.parametrize(("method", "n"), [("inversion", 4000), ("delta", 16000)])
def test_nadir_ci_coverage_by_simulation(method, n):
    """95 % CIs of the nadir cover the truth in about 95 % of 100 simulated cohorts, when the
    truth is a spline the model can represent (nadir found on a 10^6-point grid).

    Measured over 300 cohorts: n = 4,000 (~790 events): inversion 0.940, delta 0.877 (the delta
    method undercovers with few events); n = 16,000 (~3,180 events): inversion 0.963, delta 0.947.
    """
    grid = np.linspace(0.6, 1.1, 1_000_001)
    truth = grid[np.argmin(spline_truth(grid))]
    covered = []
    for rep in range(100):
        df = gompertz_cohort(n, seed=1000 + rep, log_hr=spline_truth)
        nadir = fit_dose_response(
            df, "mg", "exit", "event", entry="entry", adjust="C(sex)", knots=SPLINE_KNOTS
        ).nadir(method)
        covered.append(nadir.interior and nadir.lower <= truth <= nadir.upper)
    assert 0.89 <= np.mean(covered) <= 0.99


def test_bootstrap_is_reproducible_whatever_the_workers(u_cohort):
    fit = fit_dose_response(u_cohort.iloc[:3000], "mg", "exit", "event", entry="entry")
    one = fit.bootstrap(40, seed=5, jobs=1, progress=False)
    two = fit_dose_response(u_cohort.iloc[:3000], "mg", "exit", "event", entry="entry").bootstrap(
        40, seed=5, jobs=2, progress=False
    )  # three chunks: the worker takes two, this process one
    np.testing.assert_array_equal(one.coef, two.coef)
    nadir = fit.nadir("bootstrap", n_boot=24, seed=5, progress=False)
    assert nadir.lower < nadir.estimate < nadir.upper
    corridor = fit.corridor("ci", n_boot=24, seed=5, progress=False)
    assert corridor.lower_ci[0] <= corridor.lower_ci[1] and corridor.n_boot == 24


def test_null_and_monotone_shapes():
    null = gompertz_cohort(8000, seed=4, curvature=0.0)
    assert fit_dose_response(null, "mg", "exit", "event", entry="entry").shape().verdict == "flat"
    mono = gompertz_cohort(8000, seed=4, curvature=0.0)
    rng = np.random.default_rng(0)
    mono["mg2"] = mono.mg
    t = mono.exit.copy()
    fit = fit_dose_response(
        mono.assign(event=(rng.random(len(t)) < 0.3 + 2 * (mono.mg - 0.7)).astype(int)),
        "mg",
        "exit",
        "event",
        entry="entry",
    )
    assert fit.shape().verdict in ("increasing", "J")


def test_by_group_interaction_and_json(u_cohort):
    fit = fit_dose_response(u_cohort, "mg", "exit", "event", entry="entry", adjust="C(sex)")
    curves, test = fit.by("sex")
    assert test.df == 3 and test.p > 0.001  # no true interaction
    assert set(curves.group) == {0, 1}
    result = json.loads(fit.to_json())
    for key in (
        "n",
        "n_events",
        "n_dropped",
        "knots",
        "anova",
        "curve",
        "nadir",
        "corridor",
        "shape",
        "quantiles",
    ):
        assert key in result
    assert result["corridor"]["definition"].startswith("exposure range where the HR")
    assert "rows analysed: 20,000 of 20,000" in fit.summary()


def test_missing_rows_are_counted_and_bad_input_named(u_cohort):
    df = u_cohort.iloc[:2000].copy()
    df.loc[[5, 9], "mg"] = np.nan
    fit = fit_dose_response(df, "mg", "exit", "event", entry="entry")
    assert fit.n_dropped == 2 and fit.cohort.dropped == {"mg": 2}
    with pytest.raises(InputError, match=r"column 'mg': 2 missing value\(s\), first at row 6"):
        fit_dose_response(df, "mg", "exit", "event", entry="entry", missing="raise")
    with pytest.raises(InputError, match=r"exposure column 'magnesium' not found; available"):
        fit_dose_response(df, "magnesium", "exit", "event")
    bad = df.assign(mg=df.mg.astype(object))
    bad.loc[42, "mg"] = "0,81"
    with pytest.raises(InputError, match=r"column 'mg'.*first at row 43 \('0,81'\): use a decimal"):
        fit_dose_response(bad, "mg", "exit", "event")
    with pytest.raises(InputError, match=r"first at row\(s\) 4 exit at or before entry"):
        fit_dose_response(
            df.assign(entry=np.where(df.index == 3, 200.0, df.entry)),
            "mg",
            "exit",
            "event",
            entry="entry",
        )
    with pytest.raises(InputError, match=r"no events with code 3"):
        fit_dose_response(df, "mg", "exit", "event", entry="entry", cause=3)
    with pytest.raises(InputError, match=r"knots=2: give a whole number from 3 to 10"):
        fit_dose_response(df, "mg", "exit", "event", entry="entry", knots=2)


def test_competing_codes_are_censored_for_the_cause(u_cohort):
    df = u_cohort.iloc[:4000].copy()
    df.loc[df.index % 7 == 0, "event"] = 2
    fit = fit_dose_response(df, "mg", "exit", "event", entry="entry")
    assert fit.n_events == int((df.event == 1).sum())
    assert fit.cohort.event_counts[2] == int((df.event == 2).sum())
    direct = fit_cox(fit.design.matrix, df.exit, (df.event == 1), entry=df.entry)
    np.testing.assert_allclose(fit.coef, direct.coef, rtol=1e-10)
