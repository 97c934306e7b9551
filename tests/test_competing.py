"""Competing risks: Fine-Gray, Aalen-Johansen, Gray's test and absolute risk.

Golden values come from tests/reference/competing_extra.R (R survival 3.5.3, cmprsk 2.2.11,
riskRegression 2022.11.28) on flchain with deaths split into circulatory (1) and other (2)
causes; the rest are closed forms, brute-force reference implementations written here, lifelines,
and simulations from known cause-specific or subdistribution hazards.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from mgrisk import fit_dose_response
from mgrisk.competing import (
    absolute_risk,
    cumulative_incidence,
    finegray_rows,
    fit_fine_gray,
)
from mgrisk.competing.absolute import CauseModel, _risk_and_influence
from mgrisk.cox import fit_cox, fit_prepared, prepare_cox
from mgrisk.errors import InputError
from mgrisk.splines import rcs_basis

REF = json.loads(Path(__file__).with_name("reference").joinpath("competing_extra.json").read_text())
DATA = Path(__file__).with_name("reference") / "data" / "flchain.csv"


@pytest.fixture(scope="module")
def flchain():
    fl = pd.read_csv(DATA)
    fl = fl[fl.creatinine.notna() & (fl.futime > 0)].reset_index(drop=True)
    fl["status"] = np.where(fl.death == 0, 0, np.where(fl.chapter == "Circulatory", 1, 2))
    fl["exit"] = fl.age + fl.futime / 365.25
    fl["cgroup"] = pd.cut(fl.creatinine, [-np.inf, 0.8, 1.0, 1.2, np.inf], labels=False) + 1
    B = rcs_basis(fl.creatinine.to_numpy(), np.array(REF["knots"]))
    fl[["c1", "c2", "c3"]] = B
    assert len(fl) == REF["n"]
    return fl


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a / b - 1)))


# --- Fine-Gray vs R finegray + coxph --------------------------------------------------------------
def test_finegray_rows_are_rs(flchain):
    rows = finegray_rows(flchain.futime, flchain.status)
    ref = REF["finegray_rows"]
    assert rows.n == ref["nrow"]
    assert rows.weight.sum() == pytest.approx(ref["sum_wt"], rel=1e-12)
    head = rows.to_frame().head(300)
    h = ref["head"]
    np.testing.assert_array_equal(head.row, np.array(h["id"]) - 1)
    np.testing.assert_array_equal(head.fgstart, h["start"])
    np.testing.assert_array_equal(head.fgstop, h["stop"])
    np.testing.assert_array_equal(head.fgstatus, h["status"])
    np.testing.assert_allclose(head.fgwt, h["wt"], rtol=1e-13)


@pytest.mark.parametrize("case", REF["finegray"], ids=lambda c: c["ties"])
def test_fine_gray_matches_r(flchain, case):
    X = flchain[["c1", "c2", "c3", "age", "sex"]]
    fit = fit_fine_gray(X, flchain.futime, flchain.status, ties=case["ties"], tol=1e-12)
    assert _rel(fit.coef, case["coef"]) < 1e-6
    assert _rel(fit.se, case["robust_se"]) < 1e-6
    assert _rel(fit.model_se, case["naive_se"]) < 1e-6
    np.testing.assert_allclose(fit.loglik, case["loglik"], rtol=1e-10)


def test_fine_gray_delayed_entry_matches_r(flchain):
    """Age as the time scale: R 3.5.3's finegray takes (start, stop] data with an id and
    weights by the censoring and entry distributions; so do we, row for row."""
    ref = REF["age_scale"]
    rows = finegray_rows(flchain.exit, flchain.status, entry=flchain.age)
    assert rows.delayed_entry and rows.n == ref["nrow"]
    assert rows.weight.sum() == pytest.approx(ref["sum_wt"], rel=1e-12)
    fit = fit_fine_gray(
        flchain[["c1", "c2", "c3", "sex"]],
        flchain.exit,
        flchain.status,
        entry=flchain.age,
        tol=1e-12,
    )
    assert _rel(fit.coef, ref["coef"]) < 1e-6
    assert _rel(fit.se, ref["robust_se"]) < 1e-6


def test_crr_difference_is_its_censoring_ties_and_breslow(flchain):
    """cmprsk::crr differs from finegray + coxph by (a) Breslow ties (coxph: Efron) and (b) its
    censoring Kaplan-Meier, where deaths at a tied time stay at risk of censoring; with both
    aligned its coefficients are reproduced. Its standard errors add a term for the estimated
    censoring distribution that the robust coxph variance leaves out (here < 1e-4 relative)."""
    crr = REF["crr"]
    X = flchain[["c1", "c2", "c3", "age", "sex"]].to_numpy()
    rows = finegray_rows(flchain.futime, flchain.status, censoring_ties="crr")
    prepared = prepare_cox(
        X[rows.row],
        rows.stop,
        rows.status,
        entry=rows.start,
        weights=rows.weight,
        cluster=rows.row,
    )
    fit = fit_prepared(prepared, ties="breslow", robust=True, tol=1e-12)
    assert _rel(fit.coef, crr["coef"]) < 1e-9
    assert 1e-6 < _rel(fit.se, crr["se"]) < 1e-3
    efron, breslow = REF["finegray"]
    assert _rel(efron["coef"], crr["coef"]) > 1e-5  # the ties
    assert _rel(breslow["coef"], crr["coef"]) > 1e-7  # the censoring Kaplan-Meier


def test_fine_gray_weights_reproduce_aalen_johansen():
    """Geskus (2011): the product-limit estimate from the weighted expanded rows equals the
    Aalen-Johansen cumulative incidence, with left truncation and right censoring. The
    Aalen-Johansen side is a brute-force implementation written here."""
    rng = np.random.default_rng(5)
    n = 300
    entry = rng.uniform(0, 2, n)
    t = entry + rng.exponential(3, n)
    e = rng.choice([0, 1, 2], n, p=[0.3, 0.3, 0.4])
    t = np.round(t, 1)  # ties between causes and censoring
    e[t <= entry] = 0
    t = np.maximum(t, entry + 0.05)
    rows = finegray_rows(t, e, entry=entry, fix_ties=False)
    times = np.unique(t[e == 1])
    at_risk = np.array([rows.weight[(rows.start < s) & (s <= rows.stop)].sum() for s in times])
    events = np.array([rows.weight[(rows.stop == s) & (rows.status == 1)].sum() for s in times])
    pl = 1 - np.cumprod(1 - events / at_risk)
    aj = _brute_aalen_johansen(t, e, entry)
    np.testing.assert_allclose(pl, [aj(s)[1] for s in times], rtol=1e-12, atol=1e-14)


# --- Aalen-Johansen and Gray's test ---------------------------------------------------------------
def _brute_aalen_johansen(t, e, entry=None, w=None):
    """F_k(s) by the textbook product-integral, one event time at a time."""
    entry = np.zeros_like(t) if entry is None else entry
    w = np.ones_like(t) if w is None else w
    times = np.unique(t[e > 0])
    S, F, path = 1.0, {1: 0.0, 2: 0.0}, []
    for s in times:
        Y = w[(entry < s) & (s <= t)].sum()
        d = {k: w[(t == s) & (e == k)].sum() for k in (1, 2)}
        for k in (1, 2):
            F[k] += S * d[k] / Y
        S *= 1 - (d[1] + d[2]) / Y
        path.append(dict(F))

    def at(s):
        i = np.searchsorted(times, s, "right") - 1
        return path[i] if i >= 0 else {1: 0.0, 2: 0.0}

    return at


@pytest.mark.parametrize("conf", ["log", "loglog"])
def test_aalen_johansen_matches_survfit(flchain, conf):
    ref = REF["aj"][conf]
    ci = cumulative_incidence(
        flchain, "futime", "status", conf_type="log" if conf == "log" else "log-log"
    )
    one, two = ci.at(ref["times"]), ci.at(ref["times"], cause=2)
    np.testing.assert_allclose(one.cif, ref["cif1"], atol=1e-12)
    np.testing.assert_allclose(two.cif, ref["cif2"], atol=1e-12)
    np.testing.assert_allclose(one.se, ref["se1"], rtol=1e-9)
    np.testing.assert_allclose(two.se, ref["se2"], rtol=1e-9)
    np.testing.assert_allclose(one.lower, ref["lower1"], atol=1e-12)
    np.testing.assert_allclose(one.upper, ref["upper1"], atol=1e-12)


def test_aalen_johansen_delayed_entry_matches_survfit(flchain):
    ref = REF["age_scale"]["aj"]
    ci = cumulative_incidence(flchain, "exit", "status", entry="age", conf_type="log")
    one, two = ci.at(ref["times"]), ci.at(ref["times"], cause=2)
    np.testing.assert_allclose(one.cif, ref["cif1"], atol=1e-12)
    np.testing.assert_allclose(two.cif, ref["cif2"], atol=1e-12)
    np.testing.assert_allclose(one.se, ref["se1"], rtol=1e-9)
    np.testing.assert_allclose(two.se, ref["se2"], rtol=1e-9)
    np.testing.assert_allclose(one.lower, ref["lower1"], atol=1e-12)
    by_sex = cumulative_incidence(flchain, "exit", "status", entry="age", by="sex")
    assert by_sex.gray is None and "delayed entry" in by_sex.note


def test_by_group_and_grays_test_match_cmprsk(flchain):
    ref = REF["cuminc"]
    ci = cumulative_incidence(flchain, "futime", "status", by="cgroup")
    assert ci.gray.chi2 == pytest.approx(ref["gray_stat"][0], rel=1e-9)
    assert ci.gray.df == ref["gray_df"][0] == 3
    assert ci.gray.p == pytest.approx(ref["gray_p"][0], abs=1e-12)
    est = np.array(ref["est"])  # rows "1 1", .., "4 1", "1 2", .., "4 2"
    table = ci.at(REF["aj"]["log"]["times"], cause="all")
    for g in range(4):
        for k in (1, 2):
            got = table[(table.group == g + 1) & (table.cause == k)].cif
            np.testing.assert_allclose(got, est[(k - 1) * 4 + g], atol=1e-12)
        by_group = ref["survfit_by_group"][g]
        got = table[(table.group == g + 1) & (table.cause == 1)].se
        np.testing.assert_allclose(got, by_group["se1"], rtol=1e-9)
    # Gray's test of cause 2 as cuminc's second line
    two = cumulative_incidence(flchain, "futime", "status", by="cgroup", cause=2)
    assert two.gray.chi2 == pytest.approx(ref["gray_stat"][1], rel=1e-9)


def test_quantile_groups(flchain):
    ci = cumulative_incidence(flchain, "futime", "status", by="creatinine", quantiles=3)
    assert len(ci.groups) == 3 and ci.groups[0].startswith("Q1 [")
    assert ci.gray.df == 2
    assert "Gray's test" in str(ci)


def test_ij_variance_is_the_jackknife_derivative():
    """The closed-form infinitesimal jackknife equals sum_i (dF/dw_i)^2 by numerical
    differentiation of the brute-force estimator, with delayed entry and ties."""
    rng = np.random.default_rng(3)
    n = 60
    entry = rng.uniform(0, 1, n)
    t = np.round(entry + rng.exponential(2, n), 1) + 0.01
    e = rng.choice([0, 1, 2], n)
    df = pd.DataFrame({"t": t, "e": e, "a": entry})
    s_eval = np.quantile(t, [0.3, 0.6, 0.9])
    got = cumulative_incidence(df, "t", "e", entry="a").at(s_eval).se.to_numpy()
    base = np.array([_brute_aalen_johansen(t, e, entry)(s)[1] for s in s_eval])
    eps = 1e-6
    grad = []
    for i in range(n):
        w = np.ones(n)
        w[i] += eps
        aj = _brute_aalen_johansen(t, e, entry, w)
        grad.append((np.array([aj(s)[1] for s in s_eval]) - base) / eps)
    np.testing.assert_allclose(got, np.sqrt((np.array(grad) ** 2).sum(axis=0)), rtol=1e-5)


def test_lifelines_agrees_without_ties():
    """What was compared with lifelines' AalenJohansenFitter: on tie-free data the estimates
    agree to machine precision and its Greenwood-type variance is variance="delta" here."""
    from lifelines import AalenJohansenFitter

    rng = np.random.default_rng(11)
    n = 500
    t = rng.exponential(5, n)
    e = rng.choice([0, 1, 2], n, p=[0.3, 0.3, 0.4])
    ajf = AalenJohansenFitter(calculate_variance=True, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ajf.fit(t, e, event_of_interest=1)
    ours = cumulative_incidence(pd.DataFrame({"t": t, "e": e}), "t", "e", variance="delta")
    times = np.sort(t[e > 0])[:-1]
    mine = ours.at(times)
    theirs = ajf.cumulative_density_.iloc[:, 0].reindex(times)
    np.testing.assert_allclose(mine.cif, theirs, atol=1e-12)
    np.testing.assert_allclose(mine.se**2, ajf.variance_.reindex(times), rtol=1e-8, atol=1e-15)


def test_aalen_johansen_covers_the_truth():
    """Constant cause-specific hazards 0.1 and 0.2: F_1(t) = 1/3 (1 - exp(-0.3 t)); pointwise
    95 % log-log intervals cover it at about the nominal rate (300 cohorts of 400)."""
    rng = np.random.default_rng(2024)
    times = np.array([1.0, 3.0, 6.0])
    truth = (1 - np.exp(-0.3 * times)) / 3
    hits = []
    for _ in range(300):
        t1, t2, c = rng.exponential(10, 400), rng.exponential(5, 400), rng.uniform(0, 10, 400)
        t = np.minimum.reduce([t1, t2, c])
        e = np.where(c == t, 0, np.where(t1 == t, 1, 2))
        ci = cumulative_incidence(pd.DataFrame({"t": t, "e": e}), "t", "e").at(times)
        hits.append((ci.lower <= truth) & (truth <= ci.upper))
    coverage = np.mean(hits)
    assert 0.92 < coverage < 0.975, coverage


# --- absolute risk vs riskRegression --------------------------------------------------------------
def _profiles(grid):
    kn = np.array(REF["knots"])
    return pd.DataFrame(
        np.column_stack(
            [rcs_basis(np.asarray(grid), kn), np.full(len(grid), 70.0), np.zeros(len(grid))]
        ),
        columns=["c1", "c2", "c3", "age", "sex"],
    )


@pytest.mark.parametrize("case", REF["risk"]["cases"], ids=lambda c: c["ties"])
def test_absolute_risk_matches_predictrisk(flchain, case):
    X = flchain[["c1", "c2", "c3", "age", "sex"]]
    fits = {
        k: fit_cox(X, flchain.futime, flchain.status == k, ties=case["ties"], tol=1e-12)
        for k in (1, 2)
    }
    assert _rel(fits[1].coef, case["coef1"]) < 1e-6 and _rel(fits[2].coef, case["coef2"]) < 1e-6
    P = _profiles(REF["risk"]["grid"])
    out = absolute_risk(fits, P, cause=1, time=REF["risk"]["time"])
    np.testing.assert_allclose(out.risk, case["risk"], atol=1e-6)
    assert np.max(np.abs(out.risk - case["risk"])) < 1e-12
    landmark = absolute_risk(fits, P, cause=1, time=REF["risk"]["time"], start=case["landmark"])
    np.testing.assert_allclose(landmark.risk, case["risk_landmark"], atol=1e-12)
    # standard errors: riskRegression's differ on tied data (see test_*_untied); within 1 %
    np.testing.assert_allclose(out.se, case["se"], rtol=0.01)


def test_dose_response_absolute_risk_matches_predictrisk(flchain):
    fit = fit_dose_response(
        flchain, "creatinine", "futime", "status", adjust="age + sex", knots=REF["knots"]
    )
    out = fit.absolute_risk(
        grid=REF["risk"]["grid"], at={"age": 70, "sex": 0}, time=REF["risk"]["time"]
    )
    assert list(out.columns) == ["exposure", "risk", "se", "lower", "upper"]
    np.testing.assert_allclose(out.risk, REF["risk"]["cases"][0]["risk"], atol=1e-6)
    assert (out.lower <= out.risk).all() and (out.risk <= out.upper).all()
    assert out.attrs["causes"] == [1, 2] and "delta method" in out.attrs["method"]
    # the Fine-Gray fit gives the same absolute risk (cause-specific models behind it)
    fg = fit.refit(model="fine-gray")
    again = fg.absolute_risk(
        grid=REF["risk"]["grid"], at={"age": 70, "sex": 0}, time=REF["risk"]["time"]
    )
    np.testing.assert_allclose(again.risk, out.risk, atol=1e-12)


def test_standard_errors_match_riskregression_untied():
    """Without ties riskRegression's standard errors are reproduced when S(s-) is
    differentiated as exp(-cumulative hazard), its choice; the exact product-limit derivative
    (our default) differs where the risk is high."""
    ref = REF["risk_untied"]
    d = pd.DataFrame(ref["data"])
    fits = {k: fit_cox(d[["x", "z"]], d.time, d.status == k, tol=1e-12) for k in (1, 2)}
    P = pd.DataFrame(ref["profiles"])
    rr = absolute_risk(fits, P, cause=1, time=ref["time"], derivative="exponential")
    np.testing.assert_allclose(rr.risk, ref["risk"], atol=1e-12)
    np.testing.assert_allclose(rr.se, ref["se"], rtol=1e-6)
    exact = absolute_risk(fits, P, cause=1, time=ref["time"])
    np.testing.assert_allclose(exact.se, ref["se"], rtol=0.02)


def test_influence_function_is_the_derivative(flchain):
    """The delta-method standard error is exact: each person's influence equals the derivative
    of the risk with respect to their case weight (numerical, refitting both models). Breslow
    ties: with Efron's the baseline's influence is taken in its Breslow form (as riskRegression),
    off by about 3e-5 relative here."""
    sub = flchain.iloc[:1500]
    X = sub[["c1", "c2", "c3", "age", "sex"]]
    x = _profiles([1.3]).to_numpy()[0]

    def models(w=None):
        return [
            CauseModel(
                k,
                fit_cox(X, sub.futime, sub.status == k, weights=w, ties="breslow", tol=1e-13),
            )
            for k in (1, 2)
        ]

    start, time = 365.25, 3652.5
    _, influence = _risk_and_influence(models(), x, 0, start, time, 1, len(sub))
    eps = 1e-3
    status = sub.status.to_numpy()
    people = [int(np.flatnonzero(status == k)[j]) for k in (0, 1, 2) for j in (0, 5)]
    for i in people:  # censored, circulatory and other deaths
        w = np.ones(len(sub))
        w[i] += eps
        up, _ = _risk_and_influence(models(w), x, 0, start, time, 1, len(sub))
        w[i] -= 2 * eps
        down, _ = _risk_and_influence(models(w), x, 0, start, time, 1, len(sub))
        assert (up - down) / (2 * eps) == pytest.approx(influence[i], rel=1e-5)


# --- Fine-Gray through the dose-response API ------------------------------------------------------
def _competing_cohort(
    n, seed, *, knots=(0.74, 0.81, 0.87, 0.94), b1=(-8.54, 11.34, -11.34), beta_sex=0.3
):
    """Age-scale cohort, Gompertz cause-specific hazards: dementia (1) with a spline U in Mg
    (close to 40 (mg - 0.85)^2),
    death (2) rising with age; latent independent times, delayed entry, censoring."""
    rng = np.random.default_rng(seed)
    mg = rng.normal(0.84, 0.065, n)
    sex = rng.integers(0, 2, n)
    a0 = rng.uniform(60, 80, n)
    eta1 = _eta1(mg, knots, b1) + beta_sex * sex
    eta2 = 2.0 * (mg - 0.84) + 0.5 * sex
    t1 = _gompertz_draw(rng, a0, LAMBDA1 * np.exp(eta1), ALPHA1)
    t2 = _gompertz_draw(rng, a0, LAMBDA2 * np.exp(eta2), ALPHA2)
    c = a0 + rng.uniform(5, 20, n)
    t = np.minimum.reduce([t1, t2, c])
    event = np.where(t == c, 0, np.where(t == t1, 1, 2))
    return pd.DataFrame({"mg": mg, "sex": sex, "entry": a0, "exit": t, "event": event})


LAMBDA1, ALPHA1, LAMBDA2, ALPHA2 = 8e-7, 0.12, 3e-5, 0.09


def _eta1(mg, knots, b1):
    B = rcs_basis(np.asarray(mg, float), np.array(knots))
    return B @ np.array(b1) - rcs_basis(np.array([0.84]), np.array(knots))[0] @ np.array(b1)


def _gompertz_draw(rng, a0, lam, alpha):
    u = rng.random(a0.size)
    return np.log(np.exp(alpha * a0) - alpha * np.log(u) / lam) / alpha


def _true_risk(mg, sex, start, stop, knots=(0.74, 0.81, 0.87, 0.94), b1=(-8.54, 11.34, -11.34)):
    """F_1(stop | event-free at start) by numerical integration of the known hazards."""
    k1 = LAMBDA1 * np.exp(_eta1([mg], knots, b1)[0] + 0.3 * sex)
    k2 = LAMBDA2 * np.exp(2.0 * (mg - 0.84) + 0.5 * sex)

    def integrand(a):
        H = (
            k1 * (np.exp(ALPHA1 * a) - np.exp(ALPHA1 * start)) / ALPHA1
            + k2 * (np.exp(ALPHA2 * a) - np.exp(ALPHA2 * start)) / ALPHA2
        )
        return k1 * np.exp(ALPHA1 * a) * np.exp(-H)

    return integrate.quad(integrand, start, stop, epsabs=1e-12, epsrel=1e-10)[0]


def test_every_dose_response_method_on_fine_gray():
    df = _competing_cohort(3000, seed=1)
    fit = fit_dose_response(
        df, "mg", "exit", "event", entry="entry", adjust="C(sex)", model="fine-gray"
    )
    assert fit.settings.model == "fine-gray" and fit.settings.robust
    assert fit.n == 3000 and fit.cox.n == 3000  # persons: R's weighted rows are not built
    assert fit.n_events == int((df.event == 1).sum())
    expanded = fit_fine_gray(fit.design.matrix, df.exit, df.event, entry=df.entry, expand=True)
    assert expanded.n > 3000
    np.testing.assert_allclose(fit.coef, expanded.coef, rtol=1e-9)
    np.testing.assert_allclose(fit.se, expanded.se, rtol=1e-9)
    assert "subdistribution" in fit.summary()
    assert fit.to_dict()["model"]["hazard"] == "subdistribution (Fine-Gray)"
    curve = fit.hr_curve()
    assert np.isfinite(curve.hr).all()
    assert fit.quantile_table().table.shape[0] == 5
    assert fit.nadir(method="inversion").method == "inversion"
    assert fit.corridor().rule == "delta"
    assert fit.shape().verdict
    curves, test = fit.by("sex")
    assert set(curves.group) == {0, 1} and test.df == 3
    assert fit.compare_knots((3, 4)).shape[0] == 2
    boot = fit.bootstrap(n_boot=2, progress=False)
    assert boot.coef.shape == (2, len(fit.coef))
    risk = fit.absolute_risk(grid=[0.8, 0.9], time=85, start=70)
    assert risk.attrs["at"] == {"sex": int(df.sex.mode()[0])}


def test_absolute_risk_errors():
    df = _competing_cohort(1500, seed=2)
    fit = fit_dose_response(df, "mg", "exit", "event", entry="entry", adjust="C(sex)")
    with pytest.raises(InputError, match="start="):
        fit.absolute_risk(time=85)
    with pytest.raises(InputError, match="time="):
        fit.absolute_risk(start=70)
    with pytest.raises(InputError, match="before the earliest entry"):
        fit.absolute_risk(time=85, start=40)
    with pytest.raises(InputError, match="after the end of follow-up"):
        fit.absolute_risk(time=150, start=70)
    with pytest.raises(InputError, match=r"not covariates of the model"):
        fit.absolute_risk(time=85, start=70, at={"bmi": 25})
    with pytest.raises(InputError, match="model="):
        fit_dose_response(df, "mg", "exit", "event", entry="entry", model="subdistribution")


def test_input_errors():
    df = pd.DataFrame({"t": [1.0, 2, 3], "e": [0, 2, 0]})
    with pytest.raises(InputError, match="no events with code 1"):
        cumulative_incidence(df, "t", "e")
    with pytest.raises(InputError, match="conf_type"):
        cumulative_incidence(df, "t", "e", cause=2, conf_type="arcsine")
    with pytest.raises(InputError, match="not event codes"):
        finegray_rows([1.0, 2.0], [0.5, 1])
    with pytest.raises(InputError, match="exit at or before entry"):
        finegray_rows([1.0, 2.0], [1, 0], entry=[1.0, 0.0])


# --- simulations (slow) ---------------------------------------------------------------------------
@pytest.mark.slow
def test_absolute_risk_covers_the_true_cumulative_incidence():
    """Risk of dementia by 85 for someone event-free at 70 (women), across Mg: the pointwise
    95 % band covers the truth (numerical integration of the known hazards) at about the
    nominal rate. The model is correctly specified (the truth is an rcs with the same knots)."""
    knots = [0.74, 0.81, 0.87, 0.94]
    grid = np.array([0.72, 0.78, 0.84, 0.90, 0.96])
    truth = np.array([_true_risk(m, 0, 70, 85) for m in grid])
    hits = []
    for r in range(200):
        df = _competing_cohort(3000, seed=1000 + r)
        fit = fit_dose_response(df, "mg", "exit", "event", entry="entry", adjust="sex", knots=knots)
        out = fit.absolute_risk(grid=grid, at={"sex": 0}, time=85, start=70)
        hits.append((out.lower <= truth) & (truth <= out.upper))
    hits = np.array(hits)
    coverage = hits.mean()
    assert 0.93 < coverage < 0.97, (coverage, hits.mean(axis=0))


def _subdistribution_cohort(rng, n, beta, p=0.3, truncate=True):
    """Fine & Gray (1999)'s design: F_1(t | x) = 1 - (1 - p (1 - exp(-t)))^exp(beta x); cause
    2 exponential with rate exp(-0.5 x). Entry L ~ U(0, 1.5) (left truncation: only people
    with T > L are seen), follow-up to L + U(0.5, 3)."""
    x = rng.normal(size=n)
    u = rng.random(n)
    p1 = 1 - (1 - p) ** np.exp(beta * x)
    one = u < p1
    t = np.empty(n)
    t[one] = -np.log(1 - (1 - (1 - u[one]) ** np.exp(-beta * x[one])) / p)
    t[~one] = rng.exponential(1 / np.exp(-0.5 * x[~one]))
    entry = rng.uniform(0, 1.5, n) if truncate else np.zeros(n)
    seen = t > entry
    c = entry + rng.uniform(0.5, 3, n)
    exit_ = np.minimum(t, c)
    event = np.where(t <= c, np.where(one, 1, 2), 0)
    return x[seen], entry[seen], exit_[seen], event[seen]


@pytest.mark.slow
def test_fine_gray_with_delayed_entry_is_unbiased():
    """Left truncation and right censoring, subdistribution hazards with log sHR 0.5: Geskus
    weights give an unbiased estimate with 95 % CIs at about the nominal rate; ignoring the
    late entry (everyone at risk from 0) is biased."""
    rng = np.random.default_rng(77)
    beta = 0.5
    est, cover, naive = [], [], []
    for _ in range(200):
        x, entry, exit_, event = _subdistribution_cohort(rng, 2500, beta)
        fit = fit_fine_gray(x, exit_, event, entry=entry)
        b, se = fit.coef.iloc[0], fit.se.iloc[0]
        est.append(b)
        cover.append(abs(b - beta) < 1.96 * se)
        naive.append(fit_fine_gray(x, exit_, event).coef.iloc[0])
    est, naive = np.array(est), np.array(naive)
    mc_se = est.std() / np.sqrt(est.size)
    assert abs(est.mean() - beta) < 3 * mc_se, (est.mean(), mc_se)
    assert 0.92 < np.mean(cover) < 0.98, np.mean(cover)
    assert abs(naive.mean() - beta) > 5 * naive.std() / np.sqrt(naive.size), naive.mean()


# --- figures ---------------------------------------------------------------------------------
def test_plots_show_the_risk_and_the_stacked_curves():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mgrisk.plot import plot_absolute_risk, plot_cumulative_incidence

    df = _competing_cohort(2000, seed=4)
    fit = fit_dose_response(df, "mg", "exit", "event", entry="entry", adjust="C(sex)")
    risk = fit.absolute_risk(grid=np.linspace(0.72, 0.96, 25), time=85, start=70, at={"sex": 0})
    ax = plot_absolute_risk(fit, risk=risk, cause_label="dementia")
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), 100 * risk.risk)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("dementia by 85 for someone event-free at 70" in t for t in labels)
    assert ax.get_ylabel() == "absolute risk (%)"
    plt.close(ax.figure)

    ci = cumulative_incidence(df.assign(years=df.exit - df.entry), "years", "event", by="sex")
    axes = plot_cumulative_incidence(ci, cause_labels={1: "dementia", 2: "death"})
    assert len(axes) == 2 and axes[0].get_title() == "0"
    stacked = axes[0].get_lines()[-1].get_ydata()  # the top of the stack: 1 - event-free
    curve = ci.curves[0]
    assert stacked[-1] == pytest.approx(curve.cif[-1].sum())
    assert stacked[-1] == pytest.approx(1 - curve.survival[-1])
    assert "Gray's test" in axes[-1].texts[0].get_text()
    plt.close(axes[0].figure)
