"""Model checks against R survival 3.x (tests/reference/checks.R -> checks.json); runs without R.

cox.zph score tests (km, identity, rank, log; terms TRUE and FALSE) and scaled Schoenfeld
residuals, concordance (value and SE), dfbeta and tt() models on flchain (days; age scale with
delayed entry; Breslow with strata) and rotterdam (strata and case weights).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mgrisk import InputError, fit_dose_response, simulate_cohort
from mgrisk.checks.concordance import concordance
from mgrisk.checks.ph import ph_test, transformed_times
from mgrisk.cox import fit_prepared, prepare_cox

REF = Path(__file__).parent / "reference"
FIXTURE = json.loads((REF / "checks.json").read_text())
CASES = {c["name"]: c for c in FIXTURE["cases"]}
FULL = [name for name, c in CASES.items() if "tt" in c]


def data(case):
    if case["data"] == "rotterdam":
        rt = pd.read_csv(REF / "data" / "rotterdam.csv")
        rt["w"] = 0.5 + (rt.pid % 4) / 4
        return rt
    fl = pd.read_csv(REF / "data" / "flchain.csv")
    fl = fl[fl.creatinine.notna() & (fl.futime > 0)].reset_index(drop=True)
    fl["exit"] = fl.age + fl.futime / 365.25
    return fl


_FITS = {}


def fit_case(name):
    if name not in _FITS:
        c = CASES[name]
        _FITS[name] = fit_dose_response(
            data(c),
            c["exposure"],
            c["time"],
            c["event"],
            entry=c.get("entry"),
            adjust=c["adjust"],
            knots=c["knots"],
            strata=c.get("strata"),
            weights=c.get("weights"),
            ties=c.get("ties", "efron"),
        )
    return _FITS[name]


@pytest.mark.parametrize("name", list(CASES))
def test_fit_is_r_fit(name):
    np.testing.assert_allclose(fit_case(name).coef, CASES[name]["coef"], rtol=1e-7, atol=1e-9)


_TIGHT = {}


def tight_fit(name):
    """The fit converged as far as R's (eps 1e-12): the tests are then compared at 1e-6; the
    default convergence (relative change 1e-9) moves the statistics by up to ~3e-6."""
    if name not in _TIGHT:
        fit = fit_case(name)
        _TIGHT[name] = fit_prepared(fit.prepared, ties=fit.settings.ties, tol=1e-13, max_iter=100)
    return _TIGHT[name]


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("transform", ["km", "identity", "rank", "log"])
@pytest.mark.parametrize("terms", [True, False])
def test_ph_test_equals_cox_zph(name, transform, terms):
    ref = CASES[name]["zph"][f"{transform}_{'terms' if terms else 'columns'}"]
    fit = fit_case(name)
    table = ph_test(fit.prepared, tight_fit(name), fit.design.terms if terms else None, transform)
    assert len(table) == len(ref["rows"])
    assert table.index[-1] == "GLOBAL"
    assert table.df.tolist() == ref["df"]
    np.testing.assert_allclose(table.chi2, ref["chi2"], rtol=1e-6)
    np.testing.assert_allclose(table.p, ref["p"], rtol=1e-6, atol=1e-12)
    # the user's call, on the fit as converged by default
    np.testing.assert_allclose(fit.ph_test(transform, terms).chi2, ref["chi2"], rtol=1e-5)


def _by_time(times, y):
    """Mean of each column per distinct event time (R and mgrisk order tied events apart)."""
    frame = pd.DataFrame(np.asarray(y, float)).assign(time=np.round(times, 9))
    return frame.groupby("time").mean()


@pytest.mark.parametrize("name", FULL)
@pytest.mark.parametrize("terms", [True, False])
def test_scaled_schoenfeld_equal_cox_zph(name, terms):
    ref = CASES[name][f"scaled_{'terms' if terms else 'columns'}"]
    fit = fit_case(name)
    res = fit.schoenfeld("km", terms)
    cols = list(fit.design.terms) if terms else fit.cox.names
    np.testing.assert_allclose(np.sort(res.time), np.sort(ref["time"]), rtol=1e-12)
    np.testing.assert_allclose(np.sort(res.ttime), np.sort(ref["x"]), rtol=1e-9, atol=1e-12)
    mine = _by_time(res.time, res[cols].to_numpy())
    theirs = _by_time(ref["time"], ref["y"])
    np.testing.assert_allclose(mine.to_numpy(), theirs.to_numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", list(CASES))
def test_concordance_equals_r(name):
    c = fit_case(name).concordance()
    assert c.value == pytest.approx(CASES[name]["concordance"], abs=1e-9)
    assert c.se == pytest.approx(np.sqrt(CASES[name]["concordance_var"]), rel=1e-6)


@pytest.mark.parametrize("name", FULL)
def test_dfbeta_equals_r(name):
    ref = CASES[name]
    dfb = fit_case(name).dfbeta().to_numpy()
    rows = np.array(ref["dfbeta_rows"], dtype=int) - 1
    np.testing.assert_allclose(dfb[rows], ref["dfbeta"], rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose((dfb**2).sum(axis=0), ref["dfbeta_sumsq"], rtol=1e-6)


@pytest.mark.parametrize("name", FULL)
def test_time_varying_equals_r_tt(name):
    ref = CASES[name]["tt"]
    tv = fit_case(name).time_varying("log")
    np.testing.assert_allclose(tv.cox.beta, ref["coef"], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(tv.cox.loglik[1], ref["loglik"][1], rtol=1e-10)
    # log(t) x spline columns are nearly collinear with the spline: rotterdam's information has
    # condition number ~6e12, so round-off alone moves its inverse by ~cond * eps ~ 1e-3
    # (observed 4e-5 between R and mgrisk); the flchain fits (cond <= 3e9) agree to 1e-6
    rtol = 1e-6 if np.linalg.cond(tv.cox.vcov) < 1e10 else 1e-4
    np.testing.assert_allclose(tv.cox.vcov, ref["var"], rtol=rtol, atol=1e-12)
    assert tv.interaction_test.chi2 == pytest.approx(ref["wald_interaction"], rel=rtol)


def test_hr_curve_by_time_is_the_contrast_of_the_tt_model():
    """At time t the log-HR is (B(x) - B(r)) (b + log(t) c): check it against R's coefficients
    (closed form on the fixture's tt model)."""
    from mgrisk.splines import rcs_basis

    name = "flchain age scale"
    fit, ref = fit_case(name), CASES[name]["tt"]
    curves = fit.hr_curve_by_time(times=[70, 90], grid=[0.8, 1.5], ref=1.0)
    b = np.array(ref["coef"])
    D = rcs_basis(np.array([0.8, 1.5]), fit.knots) - rcs_basis([1.0], fit.knots)
    for t in (70, 90):
        expected = D @ (b[:3] + np.log(t) * b[4:7])
        got = curves[curves.time == t].log_hr.to_numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)
    assert curves.attrs["interaction_test"].df == 3


# --- closed forms and invariances -----------------------------------------------------------
def test_km_transform_by_hand():
    # times 1, 2, 3, 4 with deaths at 1, 2, 4: S(t-) = 1, 3/4, 3/4 * 2/3 (= 1/2)
    d = prepare_cox([[0.0], [1.0], [0.5], [2.0]], [1.0, 2.0, 3.0, 4.0], [1, 1, 0, 1])
    np.testing.assert_allclose(transformed_times(d, "km"), [0.0, 0.25, 0.5])
    np.testing.assert_allclose(transformed_times(d, "rank"), [1.0, 2.0, 4.0])


def test_ph_test_invariances():
    """The score test does not change when the covariate is rescaled and shifted, nor when time
    is (g and a + b g give the same test: the centring and the scale cancel)."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=400)
    t = rng.exponential(np.exp(-0.7 * x)) ** np.where(x > 0, 0.5, 1.0)  # shapes 2 and 1
    ev = rng.random(400) < 0.8
    d1 = prepare_cox(x[:, None], t, ev)
    d2 = prepare_cox(3 * x[:, None] + 5, 2 * t + 0, ev)
    a = ph_test(d1, fit_prepared(d1), transform="identity")
    b = ph_test(d2, fit_prepared(d2), transform="identity")
    np.testing.assert_allclose(a.chi2, b.chi2, rtol=1e-7)
    km = ph_test(d1, fit_prepared(d1), transform="km")
    assert km.p.iloc[0] < 0.01  # Weibull shapes differ by x: the hazards are not proportional


def test_concordance_closed_form_with_ties():
    # deaths at 1 (score 2), 2 (score 1), 3 (score 1); censored at 4 (score 0)
    # pairs: (1 vs 2,3,4) scores 2>1,1,0: 3 concordant; (2 vs 3,4): tied, concordant;
    # (3 vs 4): concordant -> C = (5 + 0.5) / 6
    d = prepare_cox([[0.0], [1.0], [2.0], [3.0]], [1.0, 2.0, 3.0, 4.0], [1, 1, 1, 0])
    c = concordance(d, np.array([2.0, 1.0, 1.0, 0.0]))
    assert c.value == pytest.approx(5.5 / 6)
    assert (c.concordant, c.discordant, c.tied_risk) == (5.0, 0.0, 1.0)


def test_concordance_ignores_rows_not_yet_entered():
    # the row entering at 5 is not at risk at the death at 1: one pair only
    d = prepare_cox([[1.0], [0.0], [2.0]], [1.0, 3.0, 6.0], [1, 0, 0], entry=[0.0, 0.0, 5.0])
    c = concordance(d, np.array([1.0, 0.0, 2.0]))
    assert c.concordant + c.discordant + c.tied_risk == 1.0


# --- bad input ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sim_fit():
    cohort = simulate_cohort("rotterdam", n=1500, seed=3)
    return fit_dose_response(cohort, "mg", "exit", "event", entry="entry", adjust="female")


def test_unknown_transform_is_refused(sim_fit):
    with pytest.raises(InputError, match="transform='loess': use one of 'km'"):
        sim_fit.ph_test("loess")


def test_unknown_g_is_refused(sim_fit):
    with pytest.raises(InputError, match="g='exp': use one of 'log'"):
        sim_fit.hr_curve_by_time(times=[70], g="exp")


def test_influence_table_leaves_people_out(sim_fit):
    table = sim_fit.influence(top=3)
    assert len(table) == 4 and table.id.iloc[-1] == "all top"
    assert table.distance.iloc[:3].is_monotonic_decreasing
    # dfbeta approximates the exact change when the most influential person is left out
    top = table.id.iloc[0]
    coef, _ = sim_fit._refit_without([top])
    approx = sim_fit.dfbeta().loc[top].to_numpy()[sim_fit.spline_cols]
    np.testing.assert_allclose(sim_fit.curve.coef - coef, approx, rtol=0.25, atol=0.02)
    # leaving out nobody reproduces the fit
    coef0, _ = sim_fit._refit_without([])
    np.testing.assert_allclose(coef0, sim_fit.curve.coef, rtol=1e-7, atol=1e-9)
    assert table.attrs["nadir"] == pytest.approx(sim_fit.curve.minimum()[0])


# --- where users see them -------------------------------------------------------------------
def test_results_report_json_and_html_show_the_checks(sim_fit, tmp_path):
    from mgrisk.html_report import write_report
    from mgrisk.report import result_dict, summary_text

    r = sim_fit.results(checks=True)
    assert sim_fit.results().checks is None  # off unless asked for (the CLI asks)
    table = sim_fit.ph_test()
    np.testing.assert_allclose(r.checks.ph.chi2, table.chi2)
    text = summary_text(r)
    assert "Model checks: proportional hazards" in text and "concordance" in text
    assert r.checks.sentence in text
    d = result_dict(r)["checks"]
    assert [row["term"] for row in d["ph_test"]] == list(table.index)
    assert d["concordance"]["value"] == pytest.approx(sim_fit.concordance().value)
    html = write_report(r, tmp_path / "r.html", b"png").read_text()
    assert "<h2>Model checks</h2>" in html and "GLOBAL" in html


def test_sentence_names_the_failing_term(sim_fit):
    from dataclasses import replace

    checks = sim_fit.results(checks=True).checks
    fake = checks.ph.copy()
    fake.loc["female", "p"] = 0.001
    failing = replace(checks, ph=fake)
    assert failing.failing[:1] == ["female"]
    assert "'female' (p = 0.001)" in failing.sentence
    assert "No term fails" in replace(checks, ph=fake.assign(p=0.5)).sentence


def test_cli_fit_writes_the_residual_figures(tmp_path, capsys):
    from mgrisk.cli import main

    path = tmp_path / "cohort.csv"
    simulate_cohort("rotterdam", n=2500, seed=5).to_csv(path, index=False)
    argv = [
        "fit",
        path,
        "--exposure",
        "mg",
        "--time",
        "exit",
        "--entry",
        "entry",
        "--event",
        "event",
        "--adjust",
        "female",
        "--quiet",
        "--out",
        tmp_path / "out",
    ]
    assert main([str(a) for a in argv]) == 0, capsys.readouterr().err
    for name in ("schoenfeld.png", "functional_form.png"):
        assert (tmp_path / "out" / name).stat().st_size > 5000, name
    result = json.loads((tmp_path / "out" / "results.json").read_text())
    assert result["checks"]["ph_test"][-1]["term"] == "GLOBAL"
    assert "Model checks" in capsys.readouterr().out


def test_assert_proportional_hazards(sim_fit):
    from mgrisk.testing import assert_proportional_hazards

    p = sim_fit.ph_test().p["GLOBAL"]
    assert assert_proportional_hazards(sim_fit, alpha=p / 2) is sim_fit
    with pytest.raises(AssertionError, match="proportional hazards rejected for GLOBAL"):
        assert_proportional_hazards(sim_fit, alpha=min(0.999, p * 2))
    with pytest.raises(InputError, match="term='nope': not among the tested terms"):
        assert_proportional_hazards(sim_fit, term="nope")


def test_martingale_check_recovers_a_known_log_hr():
    """Simulated truth: log-HR 0.6 x, no other covariate; the log ratio of smoothed observed
    to expected events of the null model follows 0.6 x up to a constant (it attenuates strong
    effects: the null model's baseline hazard absorbs part of them)."""
    rng = np.random.default_rng(11)
    n = 20000
    x = rng.uniform(-1, 1, n)
    t = rng.exponential(np.exp(-0.6 * x))
    c = rng.exponential(2.0, n)
    frame = pd.DataFrame({"x": x, "time": np.minimum(t, c), "event": (t <= c).astype(int)})
    fit = fit_dose_response(frame, "x", "time", "event", knots=4)
    check = fit.martingale_check(n_points=21)
    inner = check[(check.exposure > -0.7) & (check.exposure < 0.7)]
    slope = np.polyfit(inner.exposure, inner.log_ratio, 1)[0]
    assert slope == pytest.approx(0.6, abs=0.12)
    np.testing.assert_allclose(
        inner.fitted - inner.fitted.mean(),
        0.6 * (inner.exposure - inner.exposure.mean()),
        atol=0.1,
    )
