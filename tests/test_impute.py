"""Multiple imputation: pooling against R mice 3.15 / rms (tests/reference/impute.R), the
chained-equations imputer against known truths, reproducibility across workers."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mgrisk import InputError, fit_dose_response
from mgrisk.impute import d1_test, rubin
from mgrisk.impute.pooled import PooledDoseResponse

REF = Path(__file__).parent / "reference"
FIXTURE = json.loads((REF / "impute.json").read_text())
LONG = pd.read_csv(REF / "data" / "impute_completed.csv")
SETS = [g.drop(columns=".imp").reset_index(drop=True) for _, g in LONG.groupby(".imp")]


@pytest.fixture(scope="module")
def pooled():
    return fit_dose_response(
        SETS, "mg", "exit", "event", entry="entry", adjust="female + egfr", knots=4
    )


def test_knots_from_the_stacked_data_sets(pooled):
    assert isinstance(pooled, PooledDoseResponse)
    np.testing.assert_allclose(pooled.knots, FIXTURE["knots"], rtol=1e-12)


def test_rubin_rules_equal_mice_pool(pooled):
    p = pooled.cox.pool
    f = FIXTURE
    assert p.m == f["m"] and p.dfcom == f["dfcom"]
    np.testing.assert_allclose(p.estimate, f["estimate"], rtol=1e-6)
    np.testing.assert_allclose(np.diag(p.ubar), f["ubar"], rtol=1e-6)
    np.testing.assert_allclose(np.diag(p.b), f["b"], rtol=1e-6)
    np.testing.assert_allclose(np.diag(p.t), f["t"], rtol=1e-6)
    np.testing.assert_allclose(p.t, f["t_full"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(p.df, f["df"], rtol=1e-6)
    np.testing.assert_allclose(p.riv, f["riv"], rtol=1e-6)
    np.testing.assert_allclose(p.lambda_, f["lambda"], rtol=1e-6)
    np.testing.assert_allclose(p.fmi, f["fmi"], rtol=1e-6)
    s = pooled.cox.summary()
    np.testing.assert_allclose(s.p, f["p"], rtol=1e-6)
    np.testing.assert_allclose(np.log(s["lower 95%"]), f["lower"], rtol=1e-6)
    np.testing.assert_allclose(np.log(s["upper 95%"]), f["upper"], rtol=1e-6)


@pytest.mark.parametrize(
    ("term", "key"), [("mg: nonlinear", "d1_nonlinear"), ("mg", "d1_exposure")]
)
def test_d1_equals_mice(pooled, term, key):
    t, ref = pooled.d1(term), FIXTURE[key]
    assert t.df1 == ref["df1"]
    for got, want in ((t.f, ref["f"]), (t.df2, ref["df2"]), (t.p, ref["p"]), (t.riv, ref["riv"])):
        assert got == pytest.approx(want, rel=1e-6)


def test_anova_uses_total_variance_as_rms_fit_mult_impute(pooled):
    a, ref = pooled.anova(), FIXTURE["rms_anova"]
    np.testing.assert_allclose(a.chi2.to_numpy(), ref["chi2"], rtol=1e-5)
    np.testing.assert_allclose(a.df.to_numpy(), ref["df"])
    np.testing.assert_allclose(pooled.cox.vcov, FIXTURE["rms_var"], rtol=1e-5, atol=1e-10)


def test_pooled_curve_is_the_pooled_coefficients_and_t(pooled):
    c = pooled.curve
    np.testing.assert_allclose(c.coef, FIXTURE["estimate"][:3], rtol=1e-6)
    np.testing.assert_allclose(c.cov, np.array(FIXTURE["t_full"])[:3, :3], rtol=1e-6)
    assert c.estimated_by.startswith("pooled over 5 imputations")
    assert c.resample is None


def test_results_and_renderers_run_on_the_pooled_fit(pooled, tmp_path):
    from mgrisk.html_report import write_report
    from mgrisk.report import result_dict, summary_text

    r = pooled.results(lr_test=True)
    assert "lr_nonlinear" in r.notes and "imputed" in r.notes["lr_nonlinear"]
    assert "Rubin" in summary_text(r)
    assert result_dict(r)["quantiles"] is not None
    write_report(r, tmp_path / "r.html", b"")
    # quantile table: the per-imputation counts averaged (600 people, 20 % each)
    assert r.quantiles.table.n.sum() == pytest.approx(600)


def test_quantile_hr_pooled_by_rubin(pooled):
    """Pooled Q1 HR equals Rubin's rules applied by hand to per-imputation fits with the same
    (stacked) cut-points."""
    x = pooled.x
    breaks = np.quantile(x, np.linspace(0, 1, 6))
    coefs, covs = [], []
    from mgrisk.cox import fit_cox

    for d in SETS:
        cat = np.searchsorted(breaks[1:-1], d.mg.to_numpy(), side="left")
        X = np.column_stack([(cat == k).astype(float) for k in (0, 1, 3, 4)] + [d.female, d.egfr])
        f = fit_cox(X, d.exit, (d.event == 1).astype(int), entry=d.entry)
        coefs.append(f.beta[:4])
        covs.append(f.vcov[:4, :4])
    want = rubin(coefs, covs)
    t = pooled.quantile_table().table
    np.testing.assert_allclose(np.log(t.hr.to_numpy()[[0, 1, 3, 4]]), want.estimate, rtol=1e-6)
    se = np.log(t.upper / t.lower).to_numpy()[[0, 1, 3, 4]] / (2 * 1.959963984540054)
    np.testing.assert_allclose(se, np.sqrt(np.diag(want.t)), rtol=1e-6)


def test_rubin_closed_form():
    # two imputations, estimates 1 and 3, within variances 1: T = 1 + 1.5 * 2 = 4
    p = rubin([[1.0], [3.0]], [[[1.0]], [[1.0]]], dfcom=np.inf)
    assert p.t[0, 0] == 4.0
    assert p.df[0] == pytest.approx(1 / 0.75**2)  # (m - 1) / lambda^2, lambda = 3 / 4


def test_d1_needs_enough_imputations():
    with pytest.raises(InputError, match="use more imputations"):
        d1_test([[1.0, 0.0], [2.0, 1.0]], [np.eye(2)] * 2, [0, 1], dfcom=50)


def test_list_input_errors():
    with pytest.raises(InputError, match="m >= 2"):
        fit_dose_response([SETS[0]], "mg", "exit", "event", entry="entry")
    with pytest.raises(InputError, match="10 rows, the first has 600"):
        fit_dose_response([SETS[0], SETS[1].iloc[:10]], "mg", "exit", "event", entry="entry")
    holed = SETS[1].copy()
    holed.loc[4, "mg"] = np.nan
    with pytest.raises(InputError, match="missing at row 5"):
        fit_dose_response([SETS[0], holed], "mg", "exit", "event", entry="entry")
