"""Dose-response figures against R rms 6.5 (tests/reference/doseresponse.R); runs without R."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mgrisk import fit_dose_response

REF = Path(__file__).parent / "reference"
FIXTURE = json.loads((REF / "doseresponse.json").read_text())
CASES = {c["name"]: c for c in FIXTURE["cases"]}


def data(case):
    if case["data"] == "rotterdam":
        return pd.read_csv(REF / "data" / "rotterdam.csv")
    fl = pd.read_csv(REF / "data" / "flchain.csv")
    fl = fl[fl.creatinine.notna() & (fl.futime > 0)].reset_index(drop=True)
    if case.get("entry"):
        fl["exit"] = fl.age + fl.futime / 365.25
    return fl


def fit_case(case, timefix=False):
    """As rms::cph fits it (cph does not merge near-tied times as coxph does); timefix=True for
    survival::coxph's figures."""
    return fit_dose_response(
        data(case),
        case["exposure"],
        case["time"],
        case["event"],
        entry=case.get("entry"),
        adjust=case["adjust"],
        knots=len(case["knots"]),
        timefix=timefix,
    )


@pytest.fixture(scope="module", params=list(CASES))
def pair(request):
    case = CASES[request.param]
    return case, fit_case(case)


def test_design_coefficients_and_variance(pair):
    case, fit = pair
    np.testing.assert_allclose(fit.knots, case["knots"], rtol=0, atol=1e-12)
    assert list(fit.coef.index) == case["names"]
    np.testing.assert_allclose(fit.coef, case["coef"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(fit.cov, case["var"], rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(fit.loglik, case["loglik"], rtol=1e-8)


def test_anova_matches_rms(pair):
    case, fit = pair
    table = fit.anova()
    ref = case["anova"]
    assert len(table) == len(ref["rows"])  # same rows, rms order
    np.testing.assert_allclose(table.chi2, ref["chi2"], rtol=1e-6)
    np.testing.assert_array_equal(table.df, ref["df"])
    np.testing.assert_allclose(table.p, ref["p"], rtol=1e-5, atol=1e-15)  # rms: 1 - pchisq


def test_contrast_vs_median_matches_rms(pair):
    case, fit = pair
    curve = fit.hr_curve(grid=case["grid"], ref=case["reference"])
    np.testing.assert_allclose(curve.log_hr, case["contrast"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(curve.se, case["contrast_se"], rtol=1e-6, atol=1e-9)


def test_lr_test_of_nonlinearity(pair):
    case, fit = pair
    lr = fit.lr_test()
    assert lr.chi2 == pytest.approx(case["lr_nonlinear"][0], rel=1e-6)
    assert lr.df == case["lr_nonlinear"][1]


def test_quintile_table_matches_r_cut_and_coxph(pair):
    case, _ = pair
    q = case["quintiles"]
    fit = fit_case(case, timefix=True)  # R's quintile models are survival::coxph
    table = fit.quantile_table().table
    np.testing.assert_allclose(np.r_[table.lower_bound, table.upper_bound.iloc[-1]], q["breaks"])
    np.testing.assert_array_equal(table.n, q["n"])
    others = table.drop(index="Q3")
    np.testing.assert_allclose(others.hr, q["hr"], rtol=1e-6)
    np.testing.assert_allclose(others.lower, q["lower"], rtol=1e-6)
    np.testing.assert_allclose(others.upper, q["upper"], rtol=1e-6)
    assert fit.quantile_table().p_trend == pytest.approx(q["p_trend"], rel=1e-5)


def test_aic_bic_over_knots():
    case = CASES["flchain creatinine 4 knots"]
    table = fit_case(case).compare_knots([3, 4, 5, 6])
    for k, aic, bic, _nobs, loglik in case["knots_ic"]:
        assert table.loc[int(k), "loglik"] == pytest.approx(loglik, rel=1e-9)
        assert table.loc[int(k), "aic"] == pytest.approx(aic, rel=1e-9)
        assert table.loc[int(k), "bic"] == pytest.approx(bic, rel=1e-9)


def test_interaction_test_matches_rms_anova():
    case = CASES["flchain creatinine 4 knots"]
    fit = fit_case(case)
    _, test = fit.by("sex")
    ref = FIXTURE["by_sex"]["anova"]
    row = ref["rows"].index("creatinine * sex  (Factor+Higher Order Factors)")
    assert test.chi2 == pytest.approx(ref["chi2"][row], rel=1e-6)
    assert test.df == ref["df"][row]
