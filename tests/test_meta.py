"""Dose-response meta-analysis against R dosresmeta 2.2 (tests/reference/meta.R), closed forms
and the definitions of the Greenland-Longnecker and Hamling counts; runs without R."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as t_dist

from mgrisk.curve import SplineCurve
from mgrisk.errors import InputError
from mgrisk.meta import (
    category_doses,
    check_meta_table,
    dose_response_meta,
    rereference,
    rr_ci_to_log,
)
from mgrisk.meta.covariance import (
    covariance_from_counts,
    gl_counts,
    gl_covariance,
    hamling_counts,
    reproduced_log_rr,
)
from mgrisk.meta.models import Blocks, _evaluate
from mgrisk.splines import rcs_basis, rcs_knots

REF = Path(__file__).parent / "reference"
FIXTURE = json.loads((REF / "meta.json").read_text())
DATA = {
    name: pd.read_csv(REF / "data" / f"meta_{name}.csv")
    for name in ("alcohol_cvd", "coffee_mort", "milk_ov", "alcohol_crc")
}
COLS = dict(study="id", dose="dose", log_rr="logrr", se="se", type="type", cases="cases", n="n")

# Two R fits stop short of the optimum (their log-likelihood is lower than mgrisk's, and mgrisk's
# likelihood evaluated at R's Psi is R's log-likelihood): coffee_mort's spline by two-stage ML
# (mixmeta's optimizer) and by one-stage REML (Nelder-Mead). The one-stage REML optimum equals
# the two-stage REML one, as it must when every study informs every coefficient.
SHORT_OF_OPTIMUM = {("coffee_mort", "spline", 2, "ml"), ("coffee_mort", "spline", 1, "reml")}


def _fit(case, **kw):
    knots = None if case["shape"] == "linear" else case["knots"]
    return dose_response_meta(
        DATA[case["data"]],
        **COLS,
        knots=knots,
        method=case["method"],
        stage=case["stage"],
        ci_counts="odds",  # dosresmeta's grl treats cumulative-incidence RRs as odds ratios
        categories="point",  # dosresmeta: each category's RR is the curve at its dose
        **{"ci": "z", **kw},  # dosresmeta: normal quantiles
    )


def _key(case):
    return (case["data"], case["shape"], case["stage"], case["method"])


def _id(case):
    return "-".join(map(str, _key(case)))


def _study(name, j):
    d = DATA[name]
    d = d[d.id == j]
    return d, int(np.flatnonzero(d.se.isna())[0])


@pytest.mark.parametrize(
    "case", [c for c in FIXTURE["fits"] if _key(c) not in SHORT_OF_OPTIMUM], ids=_id
)
def test_agrees_with_dosresmeta(case):
    fit = _fit(case)
    np.testing.assert_allclose(fit.coef, case["coef"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        fit.cov, np.reshape(case["cov"], fit.cov.shape), rtol=1e-6, atol=1e-10
    )
    if case["psi"] is not None:
        np.testing.assert_allclose(
            fit.psi, np.reshape(case["psi"], fit.psi.shape), rtol=1e-6, atol=1e-9
        )
    curve = fit.curve(case["grid"], ref=case["ref"])
    np.testing.assert_allclose(curve.log_rr, case["log_rr"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(curve.se, case["se"], rtol=1e-6, atol=1e-9)
    if case["stage"] == 2:
        assert fit.Q == pytest.approx(case["Q"], rel=1e-9)
        assert fit.Q_df == case["Q_df"]
        assert fit.I2 == pytest.approx(max(0, (case["Q"] - case["Q_df"]) / case["Q"]) * 100)
    if not (case["stage"] == 2 and case["method"] == "reml"):  # mixmeta's REML constant differs
        assert fit.loglik == pytest.approx(case["loglik"], abs=1e-8)


@pytest.mark.parametrize(
    "case", [c for c in FIXTURE["fits"] if _key(c) in SHORT_OF_OPTIMUM], ids=_id
)
def test_beats_dosresmeta_where_its_optimizer_stops_short(case):
    fit = _fit(case)
    psi_r = np.array(case["psi"])
    eye = np.eye(2)
    if case["stage"] == 2:
        labels = list(fit.study_coef)
        blocks = Blocks(
            [fit.study_coef[k] for k in labels],
            [eye] * len(labels),
            [eye] * len(labels),
            [fit.study_cov[k] for k in labels],
        )
        ll_at_r, beta_at_r, _, _ = _evaluate(blocks, psi_r, case["method"], False)
        assert ll_at_r == pytest.approx(case["loglik"], abs=1e-8)
        np.testing.assert_allclose(beta_at_r, case["coef"], rtol=1e-6)
    assert fit.loglik > case["loglik"] + 0.05
    assert fit.converged
    if case["stage"] == 1:  # equals the two-stage REML fit (R's two-stage REML agrees)
        two = next(c for c in FIXTURE["fits"] if _key(c) == ("coffee_mort", "spline", 2, "reml"))
        np.testing.assert_allclose(fit.psi, np.array(two["psi"]), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(fit.coef, two["coef"], rtol=1e-6)


@pytest.mark.parametrize("name", sorted(DATA))
def test_knots_as_rms_places_them(name):
    case = next(c for c in FIXTURE["fits"] if c["data"] == name and c["shape"] == "spline")
    np.testing.assert_allclose(rcs_knots(DATA[name].dose, 3), case["knots"], rtol=1e-12)
    fit = dose_response_meta(
        DATA[name], **COLS, knots=3, method="fixed", ci_counts="odds", categories="point"
    )
    np.testing.assert_allclose(
        fit.coef,
        next(c for c in FIXTURE["fits"] if _key(c) == (name, "spline", 2, "fixed"))["coef"],
        rtol=1e-6,
    )


@pytest.mark.parametrize("study", FIXTURE["studies"], ids=lambda s: f"{s['data']}-{s['id']}")
def test_greenland_longnecker_counts(study):
    d, ref = _study(study["data"], study["id"])
    y, c, n, kind = d.logrr.to_numpy(), d.cases.to_numpy(), d.n.to_numpy(), study["type"]
    a = gl_counts(y, c, n, kind, ref, ci_counts="odds")  # dosresmeta's convention
    np.testing.assert_allclose(a, study["gl_cases"], rtol=1e-8)
    S = gl_covariance(y, d.se.to_numpy(), c, n, kind, ref, ci_counts="odds")
    np.testing.assert_allclose(S, np.array(study["gl_cov"]), rtol=1e-8, atol=1e-14)
    for convention in ("risk", "odds"):  # the counts reproduce the reported RRs, keep the cases
        a = gl_counts(y, c, n, kind, ref, ci_counts=convention)
        np.testing.assert_allclose(
            reproduced_log_rr(a, n, kind, ref, ci_counts=convention), y, rtol=0, atol=1e-8
        )
        assert a.sum() == pytest.approx(c.sum(), rel=1e-12)


def test_gl_counts_of_crude_rates_are_the_data():
    # crude rate ratios: the observed cells reproduce them, so GL returns them (from any start
    # with the same total) and the
    # covariance is Poisson's: var 1/A_i + 1/A_0, cov 1/A_0
    a, py = np.array([40.0, 55.0, 30.0]), np.array([1e4, 1.2e4, 5e3])
    y = np.log(a / py) - np.log(a[0] / py[0])
    se = np.sqrt(1 / a + 1 / a[0])
    se[0] = np.nan
    np.testing.assert_allclose(gl_counts(y, [44.0, 51.0, 30.0], py, "ir", 0), a, rtol=1e-10)
    S = gl_covariance(y, se, a.round(), py, "ir", 0)
    expected = np.full((2, 2), 1 / a[0]) + np.diag(1 / a[1:])
    np.testing.assert_allclose(S, expected, rtol=1e-10)


@pytest.mark.parametrize(
    "study",
    [s for s in FIXTURE["studies"] if "hamling_cases" in s],
    ids=lambda s: f"{s['data']}-{s['id']}",
)
def test_hamling_counts(study):
    d, ref = _study(study["data"], study["id"])
    y, se = d.logrr.to_numpy(), d.se.to_numpy()
    a, m = hamling_counts(y, se, d.cases.to_numpy(), d.n.to_numpy(), "cc", ref)
    # the counts reproduce the ORs and the variances exactly (Hamling's definition)
    np.testing.assert_allclose(reproduced_log_rr(a, m, "cc", ref), y, atol=1e-10)
    comp = 1 / a + 1 / (m - a)
    others = np.arange(len(y)) != ref
    np.testing.assert_allclose(comp[others] + comp[ref], se[others] ** 2, rtol=1e-10)
    # R finds them by Nelder-Mead at its default tolerance: agreement to ~1e-4
    np.testing.assert_allclose(a, study["hamling_cases"], rtol=2e-4)
    np.testing.assert_allclose(m, study["hamling_n"], rtol=2e-4)
    v = np.where(others, se**2, 0.0)
    S = covariance_from_counts(a, m, v, "cc", ref)
    np.testing.assert_allclose(S, np.array(study["hamling_cov"]), rtol=2e-4)


@pytest.mark.parametrize("kind", ["ci", "ir"])
def test_hamling_counts_reproduce_rr_and_variance(kind):
    y = np.array([0.0, 0.3, 0.5, 0.2])
    se = np.array([np.nan, 0.2, 0.25, 0.3])
    a, m = hamling_counts(y, se, [40, 35, 25, 20], [500, 400, 300, 250], kind, 0)
    np.testing.assert_allclose(reproduced_log_rr(a, m, kind, 0), y, atol=1e-10)
    comp = 1 / a - 1 / m if kind == "ci" else 1 / a
    np.testing.assert_allclose(comp[1:] + comp[0], se[1:] ** 2, rtol=1e-10)


def test_fixed_linear_is_inverse_variance_mean():
    # one non-reference row per study, independent errors: the GLS slope of study i is
    # y_i / d_i with variance se_i^2 / d_i^2, and the fixed-effect pooled slope their
    # inverse-variance weighted mean
    d = np.array([1.0, 2.0, 0.5])
    y = np.array([0.1, 0.5, 0.02])
    s = np.array([0.05, 0.1, 0.04])
    fit = _slopes_meta(d, y, s, method="fixed")
    w = d**2 / s**2
    assert fit.coef[0] == pytest.approx(np.sum(w * y / d) / w.sum(), rel=1e-12)
    assert fit.cov[0, 0] == pytest.approx(1 / w.sum(), rel=1e-12)
    q = np.sum(w * (y / d - fit.coef[0]) ** 2)
    assert fit.Q == pytest.approx(q, rel=1e-12)


def test_hksj_is_knapp_hartung_in_one_dimension():
    # one slope per study (one non-reference category, independent errors): Jackson-Riley's
    # scale is Knapp-Hartung's sum w_i (b_i - b)^2 / (k - 1), w_i = 1 / (v_i + tau^2), t_{k-1}
    d = np.array([1.0, 2.0, 0.5, 1.5, 1.0])
    y = np.array([0.1, 0.5, 0.02, 0.3, 0.35])
    s = np.array([0.05, 0.1, 0.04, 0.08, 0.06])
    fit = _slopes_meta(d, y, s, ci="hksj")
    b, v, tau2 = y / d, (s / d) ** 2, fit.psi[0, 0]
    w = 1 / (v + tau2)
    mean = np.sum(w * b) / w.sum()
    assert fit.coef[0] == pytest.approx(mean, rel=1e-8)
    kh = np.sum(w * (b - mean) ** 2) / 4
    assert fit.ci_scale == pytest.approx(kh, rel=1e-8) and fit.df == 4
    c = fit.curve([1.0], ref=0.0)
    se = np.sqrt(kh / w.sum())
    assert np.log(c.upper.iloc[0]) == pytest.approx(mean + t_dist.ppf(0.975, 4) * se, rel=1e-6)


def _slopes_meta(d, y, s, **options):
    """The linear meta-analysis of one study per dose d: the reference at 0 and one category
    with log RR y (SE s), independent errors, each category's RR at its dose."""
    k = len(d)
    table = pd.DataFrame(
        {
            "id": np.repeat(np.arange(1, k + 1), 2),
            "dose": np.ravel(np.column_stack([np.zeros(k), d])),
            "b": np.ravel(np.column_stack([np.zeros(k), y])),
            "s": np.ravel(np.column_stack([np.full(k, np.nan), s])),
        }
    )
    return dose_response_meta(
        table,
        study="id",
        dose="dose",
        log_rr="b",
        se="s",
        covariance="independent",
        knots=None,
        categories="point",
        **options,
    )


def test_curve_is_a_spline_curve_with_prediction_intervals():
    case = next(c for c in FIXTURE["fits"] if _key(c) == ("alcohol_cvd", "spline", 2, "reml"))
    fit = _fit(case)
    assert isinstance(fit.curve, SplineCurve)
    grid, ref = np.array(case["grid"]), case["ref"]
    out = fit.curve(grid, ref=ref)
    D = rcs_basis(grid, case["knots"]) - rcs_basis([ref], case["knots"])
    psi = np.array(case["psi"])
    se_pred = np.sqrt(np.array(case["se"]) ** 2 + np.einsum("ij,jk,ik->i", D, psi, D))
    np.testing.assert_allclose(
        np.log(out.pi_upper), np.array(case["log_rr"]) + 1.959963984540054 * se_pred, rtol=1e-6
    )
    np.testing.assert_allclose(
        np.log(out.upper),
        np.array(case["log_rr"]) + 1.959963984540054 * np.array(case["se"]),
        rtol=1e-6,
    )
    # the same curve estimate as a cohort fit: hr_curve, nadir by R's coefficients
    hr = fit.curve.hr_curve(grid=grid, ref=ref)
    np.testing.assert_allclose(hr.log_hr, case["log_rr"], rtol=1e-6, atol=1e-9)
    fine = np.linspace(fit.curve.x.lo, fit.curve.x.hi, 200_001)
    brute = fine[np.argmin(rcs_basis(fine, case["knots"]) @ np.array(case["coef"]))]
    nadir = fit.curve.nadir()
    assert nadir.estimate == pytest.approx(brute, abs=1e-3)
    corridor = fit.curve.corridor()
    assert corridor.lower <= nadir.estimate <= corridor.upper


def test_linear_curve_has_no_curvature():
    case = next(c for c in FIXTURE["fits"] if _key(c) == ("alcohol_cvd", "linear", 2, "reml"))
    fit = _fit(case)
    out = fit.curve(case["grid"], ref=case["ref"])
    np.testing.assert_allclose(out.log_rr, case["log_rr"], rtol=1e-6, atol=1e-9)
    assert "nonlinear" not in fit.tests().index


def test_tests_are_wald_on_r_estimates():
    from scipy.stats import chi2

    case = next(c for c in FIXTURE["fits"] if _key(c) == ("milk_ov", "spline", 2, "reml"))
    t = _fit(case).tests()
    b, V = np.array(case["coef"]), np.array(case["cov"])
    assert t.loc["overall", "chi2"] == pytest.approx(b @ np.linalg.solve(V, b), rel=1e-5)
    assert t.loc["nonlinear", "chi2"] == pytest.approx(b[1] ** 2 / V[1, 1], rel=1e-5)
    assert t.loc["nonlinear", "p"] == pytest.approx(chi2.sf(b[1] ** 2 / V[1, 1], 1), rel=1e-4)


def test_one_stage_takes_studies_two_stage_cannot():
    d = DATA["alcohol_crc"].copy()
    first = d[d.id == 1].index
    d = d.drop(first[2:])  # study 1 keeps its reference and one other category
    with pytest.raises(InputError, match=r"two-stage spline model: studies \[1\].*stage=1"):
        dose_response_meta(d, **COLS, knots=3, stage=2)
    fit = dose_response_meta(d, **COLS, knots=3, stage=1)
    assert fit.converged and fit.n_studies == 8


# --- the input table ---------------------------------------------------------------------------
def _table(**changes):
    t = pd.DataFrame(
        {
            "id": ["A", "A", "A", "B", "B"],
            "dose": [0.7, 0.8, 0.9, 0.75, 0.95],
            "b": [0.0, -0.1, -0.2, 0.0, 0.1],
            "s": [np.nan, 0.1, 0.12, np.nan, 0.2],
            "type": ["ir", "ir", "ir", "cc", "cc"],
            "d": [30, 40, 20, 50, 60],
            "n": [1000.0, 1200, 900, 300, 400],
        }
    )
    for k, v in changes.items():
        row, col = k.split("_", 1)
        t.loc[int(row[1:]) - 1, col] = v
    return t


CHECK = dict(study="id", dose="dose", log_rr="b", se="s", type="type", cases="d", n="n")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"r1_s": 0.1}, r"study 'A', row 1: SE given for the reference row.*leave"),
        ({"r1_s": 0.1, "r1_b": 0.05}, r"study 'A', rows 1-3: no reference row; add"),
        ({"r5_d": 500}, r"study 'B', row 5: cases 500 >= n 400.*persons"),
        ({"r4_type": "cohort"}, r"study 'B', row 4: types \['cc', 'cohort'\]"),
        ({"r2_s": np.nan}, r"study 'A', rows \[1, 2\]: 2 rows without SE"),
        ({"r4_b": 0.2}, r"study 'B', row 4: no SE but log RR 0.2 != 0.*rereference"),
        ({"r3_dose": np.nan}, r"study 'A', row 3: dose missing"),
        ({"r2_d": 0}, r"study 'A', row 2: cases 0 <= 0"),
    ],
)
def test_table_problems_named_with_study_row_and_fix(changes, message):
    with pytest.raises(InputError, match=message):
        check_meta_table(_table(**changes), **CHECK)


def test_table_missing_column_and_non_numeric():
    with pytest.raises(InputError, match=r"column 'cases' \(cases\) not in the table"):
        check_meta_table(_table(), **{**CHECK, "cases": "cases"})
    t = _table()
    t["s"] = t["s"].astype(object)
    t.loc[2, "s"] = "0,12"
    with pytest.raises(InputError, match=r"column 's': 1 non-numeric values, first at row 3"):
        check_meta_table(t, **CHECK)


def test_reference_may_be_any_row():
    t = _table()
    t = t.iloc[[1, 0, 2, 4, 3]].reset_index(drop=True)  # references on rows 2 and 5
    checked = check_meta_table(t, **CHECK)
    assert checked.ref.tolist() == [False, True, False, False, True]
    a = dose_response_meta(_table(), **{k: v for k, v in CHECK.items()}, knots=None)
    b = dose_response_meta(t, **CHECK, knots=None)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-10)


def test_rr_with_ci_converts():
    b, se = rr_ci_to_log([1.0, 2.0], [np.nan, 1.5], [np.nan, 2.0 * 2.0 / 1.5])
    assert b[1] == pytest.approx(np.log(2))
    assert se[1] == pytest.approx(np.log(2.0 / 1.5) / 1.959963984540054)
    t = _table()
    t["rr"], t["lo"], t["hi"] = np.exp(t.b), np.exp(t.b - 1.96 * t.s), np.exp(t.b + 1.96 * t.s)
    checked = check_meta_table(
        t,
        study="id",
        dose="dose",
        rr="rr",
        lower="lo",
        upper="hi",
        type="type",
        cases="d",
        n="n",
    )
    np.testing.assert_allclose(
        checked.se[~checked.ref], t.s[~checked.ref] * 1.96 / 1.959963984540054
    )


def test_category_doses():
    out = category_doses(
        [np.nan, 10, 20, 40], [10, 20, 40, np.nan], median=[np.nan, 14, np.nan, np.nan]
    )
    np.testing.assert_allclose(out, [5, 14, 30, 50])
    with pytest.raises(InputError, match="category 1: both bounds missing"):
        category_doses([np.nan], [np.nan])


def test_rereference_matches_crude_rates():
    a, py = np.array([40.0, 55.0, 30.0]), np.array([1e4, 1.2e4, 5e3])
    y = np.log(a / py) - np.log(a[0] / py[0])
    se = np.sqrt(1 / a + 1 / a[0])
    se[0] = np.nan
    S = gl_covariance(y, se, a, py, "ir", 0)
    y2, se2 = rereference(y, S, 2)
    np.testing.assert_allclose(y2, np.log(a / py) - np.log(a[2] / py[2]), atol=1e-12)
    np.testing.assert_allclose(se2[:2], np.sqrt(1 / a[:2] + 1 / a[2]), rtol=1e-10)


# --- your cohort among them, the figure and the command line ----------------------------------
def _rotterdam_fit():
    from mgrisk import fit_dose_response

    dr = json.loads((REF / "doseresponse.json").read_text())
    case = next(
        c for c in (dr if isinstance(dr, list) else dr["cases"]) if c["data"] == "rotterdam"
    )
    rt = pd.read_csv(REF / "data" / "rotterdam.csv")
    fit = fit_dose_response(
        rt,
        case["exposure"],
        case["time"],
        case["event"],
        adjust=case["adjust"],
        knots=len(case["knots"]),
        timefix=True,
    )
    return rt, case, fit


def test_to_meta_table_is_the_r_quintile_table():
    rt, case, fit = _rotterdam_fit()
    q = case["quintiles"]
    table = fit.to_meta_table(ref=3)
    ref = table.se.isna().to_numpy()
    assert ref.tolist() == [False, False, True, False, False]
    np.testing.assert_allclose(np.exp(table.log_rr[~ref]), q["hr"], rtol=1e-6)
    se = np.log(np.array(q["upper"]) / np.array(q["lower"])) / (2 * 1.959963984540054)
    np.testing.assert_allclose(table.se[~ref], se, rtol=1e-6)
    cat = pd.cut(rt[case["exposure"]], q["breaks"], include_lowest=True)  # R's cut
    np.testing.assert_allclose(
        table.dose, rt.groupby(cat, observed=True)[case["exposure"]].median()
    )
    assert table.cases.sum() == (rt[case["event"]] == 1).sum()
    assert (table.type == "ir").all()
    pooled = dose_response_meta(
        pd.concat([table, table.assign(study="copy")]),
        study="study",
        dose="dose",
        log_rr="log_rr",
        se="se",
        type="type",
        cases="cases",
        n="n",
        knots=None,
        method="fixed",
        highlight="this cohort",
    )
    alone = dose_response_meta(
        table,
        study="study",
        dose="dose",
        log_rr="log_rr",
        se="se",
        type="type",
        cases="cases",
        n="n",
        knots=None,
        method="fixed",
    )
    # two identical studies: the same slope, half the variance
    assert pooled.coef[0] == pytest.approx(alone.coef[0], rel=1e-10)
    assert pooled.cov[0, 0] == pytest.approx(alone.cov[0, 0] / 2, rel=1e-10)


def test_plot_meta_draws_the_pooled_curve_and_the_highlight():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mgrisk.plot import plot_meta

    fit = dose_response_meta(DATA["milk_ov"], **COLS, knots=3, highlight=3)
    fig, ax = plt.subplots()
    plot_meta(fit, ax)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    pooled = fit.curve(None)
    np.testing.assert_allclose(lines["pooled"].get_ydata(), pooled.rr)
    assert "3 (fit)" in lines and "3 categories" in [t.get_text() for t in ax.get_legend().texts]
    plt.close(fig)


def test_cli_meta_writes_curve_report_and_agrees_with_r(tmp_path, capsys):
    from mgrisk.cli import main

    case = next(c for c in FIXTURE["fits"] if _key(c) == ("milk_ov", "spline", 2, "reml"))
    path = REF / "data" / "meta_milk_ov.csv"
    argv = [
        "meta",
        str(path),
        "--study",
        "id",
        "--dose",
        "dose",
        "--log-rr",
        "logrr",
        "--se",
        "se",
        "--type",
        "type",
        "--cases",
        "cases",
        "--n",
        "n",
        "--categories",
        "point",
        "--ci",
        "z",
        "--out",
        str(tmp_path),
    ]
    assert main(argv) == 0
    out = json.loads((tmp_path / "meta.json").read_text())
    np.testing.assert_allclose(out["coef"], case["coef"], rtol=1e-6)
    np.testing.assert_allclose(out["psi"], case["psi"], rtol=1e-6, atol=1e-9)
    assert out["heterogeneity"]["Q"] == pytest.approx(case["Q"], rel=1e-9)
    curve = pd.read_csv(tmp_path / "meta_curve.csv")
    assert list(curve.columns) == [
        "exposure",
        "log_rr",
        "se",
        "rr",
        "lower",
        "upper",
        "pi_lower",
        "pi_upper",
    ]
    report = (tmp_path / "meta_report.html").read_text()
    assert "Cochran" in report and "nonlinearity" in report and "data:image/png" in report
    assert (tmp_path / "meta.png").stat().st_size > 10_000
    bad = argv[:]
    bad[bad.index("cases") if "cases" in bad else 0] = "cases"
    bad[bad.index("--cases") + 1] = "events"
    assert main(bad) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mgrisk: error: column 'events' (cases) not in")
