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


# --- the imputer -------------------------------------------------------------------------------
from mgrisk.impute import impute  # noqa: E402
from mgrisk.impute.chained import nelson_aalen_at_risk  # noqa: E402


def test_nelson_aalen_respects_delayed_entry():
    # t = 1: at risk persons 1 and 3 (person 2 enters at 1.5): 1/2; t = 2: persons 2 and 3: 1/2
    h = nelson_aalen_at_risk([0.0, 1.5, 0.0], [1.0, 2.0, 3.0], [1, 1, 0])
    np.testing.assert_allclose(h, [0.5, 1.0 - 0.5, 1.0])


def _mar_frame(n, seed):
    """y = 1 + 2 x + N(0, 1); b ~ Bernoulli(expit(x)); g in {a, b, c} by x; y, b and g missing
    more often for large x (MAR given x)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    y = 1 + 2 * x + rng.normal(0, 1, n)
    b = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(float)
    g = np.where(x < -0.5, "a", np.where(x < 0.5, "b", "c")).astype(object)
    d = pd.DataFrame({"x": x, "y": y, "b": b, "g": g})
    miss = rng.random(n) < 1 / (1 + np.exp(-(2 * x - 0.5)))
    d.loc[miss, "y"] = np.nan
    d.loc[rng.random(n) < 1 / (1 + np.exp(-(2 * x - 1))), "b"] = np.nan
    d.loc[rng.random(n) < 0.2, "g"] = None
    return d


@pytest.mark.parametrize("method", ["pmm", "norm"])
def test_imputation_recovers_known_means_under_mar(method):
    """Truth: E y = 1, P(b = 1) = 1/2; complete cases are biased downwards (large x missing)."""
    d = _mar_frame(4000, 1)
    assert d.y.mean() < 0.5  # the complete-case mean is far from the truth 1
    done = impute(d, m=5, seed=2, method=method, progress=False)
    assert np.mean([c.y.mean() for c in done]) == pytest.approx(1.0, abs=0.1)
    assert np.mean([c.b.mean() for c in done]) == pytest.approx(0.5, abs=0.03)
    slope = np.mean([np.polyfit(c.x, c.y, 1)[0] for c in done])
    assert slope == pytest.approx(2.0, abs=0.1)
    if method == "pmm":  # pmm imputes observed values only
        observed = set(d.y.dropna())
        assert all(v in observed for c in done for v in c.y)
    for c in done:
        assert c.isna().sum().sum() == 0
        assert set(c.g) == {"a", "b", "c"}
        # categories follow x: imputed rows with x > 1 are nearly all "c"
        imputed_c = c.g[d.g.isna() & (d.x > 1)]
        assert (imputed_c == "c").mean() > 0.8


def test_outcome_in_the_model_removes_attenuation():
    """Linear log HR 1 per SD of z; 40 % of z missing completely at random. Imputing without the
    outcome attenuates the HR towards 1 (~ by the missing share); with the event indicator and
    the Nelson-Aalen hazard (White & Royston) the pooled estimate is near the truth."""
    from mgrisk.cox import fit_cox
    from mgrisk.impute import rubin

    rng = np.random.default_rng(7)
    n = 3000
    z = rng.normal(0, 1, n)
    w = 0.5 * z + rng.normal(0, 1, n)
    t = rng.exponential(1 / (0.1 * np.exp(z)))
    c = rng.uniform(0, 10, n)
    d = pd.DataFrame({"time": np.minimum(t, c), "event": (t <= c).astype(int), "z": z, "w": w})
    d.loc[rng.random(n) < 0.4, "z"] = np.nan

    def pooled(sets):
        fits = [fit_cox(s[["z", "w"]], s.time, s.event) for s in sets]
        return rubin([f.beta for f in fits], [f.vcov for f in fits])

    with_outcome = pooled(
        impute(d, ["z", "w"], m=5, seed=1, time="time", event="event", progress=False)
    )
    without = pooled(impute(d, ["z", "w"], m=5, seed=1, progress=False))
    se = np.sqrt(with_outcome.t[0, 0])
    assert abs(with_outcome.estimate[0] - 1.0) < 3 * se
    assert without.estimate[0] < 1.0 - 3 * se


def test_same_seed_same_data_whatever_the_workers():
    d = _mar_frame(400, 3)
    one = impute(d, m=3, seed=11, jobs=1, progress=False)
    two = impute(d, m=3, seed=11, jobs=2, progress=False)
    for a, b in zip(one, two, strict=True):
        pd.testing.assert_frame_equal(a, b)
    other = impute(d, m=3, seed=12, jobs=1, progress=False)
    assert not one[0].equals(other[0])
    # imputation i depends on (seed, i) only: the first two of m = 3 are those of m = 2
    pd.testing.assert_frame_equal(impute(d, m=2, seed=11, progress=False)[1], one[1])


def test_imputer_input_errors():
    d = _mar_frame(100, 1)
    with pytest.raises(InputError, match="method='mice'"):
        impute(d, method="mice")
    with pytest.raises(InputError, match="column 'zz' not found"):
        impute(d, ["zz"])
    d["time"], d["event"] = 1.0, 0
    with pytest.raises(InputError, match="leave time, entry and event out"):
        impute(d, ["y", "time"], time="time", event="event")
    d.loc[3, "time"] = np.nan
    with pytest.raises(InputError, match="column 'time': missing or non-numeric at row 4"):
        impute(d, ["y"], time="time", event="event")


def test_smcfcs_keeps_a_u_shape_that_pmm_flattens():
    """Truth: log HR = 40 (mg - 0.85)^2, so log HR(0.72) - log HR(0.85) = 0.676. Mg missing for
    half the people with the event and a fifth of the others (MAR given the outcome). SMC-FCS
    recovers the curvature (pooled estimate within 2.5 SE of the truth); predictive mean
    matching with linear outcome terms leaves it lower."""
    from conftest import gompertz_cohort

    d = gompertz_cohort(6000, seed=5)
    truth = 40 * (0.72 - 0.85) ** 2
    rng = np.random.default_rng(5)
    holed = d.copy()
    holed.loc[rng.random(len(d)) < np.where(d.event == 1, 0.5, 0.2), "mg"] = np.nan
    kw = dict(m=5, seed=3, time="exit", event="event", entry="entry", progress=False)

    def at(sets):
        fit = fit_dose_response(sets, "mg", "exit", "event", entry="entry", adjust="sex")
        return fit.hr_curve(grid=[0.72], ref=0.85).iloc[0]

    smc = at(impute(holed, ["mg", "sex"], exposure="mg", **kw))
    pmm = at(impute(holed, ["mg", "sex"], **kw))
    assert abs(smc.log_hr - truth) < 2.5 * smc.se
    assert pmm.log_hr < smc.log_hr


def test_breslow_with_risk_scores_and_delayed_entry():
    """By hand: risk scores 2, 3, 1; person 2 enters at 1.5. At t = 1 persons 1 and 3 are at
    risk (2 + 1): 1/3; at t = 2 persons 2 and 3 (3 + 1): 1/4."""
    h = nelson_aalen_at_risk([0.0, 1.5, 0.0], [1.0, 2.0, 3.0], [1, 1, 0], risk=[2.0, 3.0, 1.0])
    np.testing.assert_allclose(h, [1 / 3, 1 / 4, 1 / 3 + 1 / 4])


def test_smcfcs_draws_do_not_depend_on_where_a_covariate_is_centred():
    """Adding a constant to a covariate changes neither the Cox coefficients nor the
    likelihood of any value of the exposure, so the draws are the same. A baseline hazard left at
    beta-hat while the coefficients are drawn (the flattening bug) is off by exp(c (b - beta)),
    which a shift c of the covariate changes."""
    from conftest import gompertz_cohort

    from mgrisk.impute.chained import _norm_draw, _standardise
    from mgrisk.impute.smcfcs import smc_draw
    from mgrisk.splines import rcs_knots

    d = gompertz_cohort(800, seed=2)
    x = d.mg.to_numpy().copy()
    ry = np.random.default_rng(1).random(x.size) > 0.3
    x[~ry] = x[ry].mean()
    z = np.column_stack([d.sex.to_numpy(float), np.random.default_rng(3).normal(0, 1, x.size)])
    args = (d.exit.to_numpy(), d.entry.to_numpy(), d.event.to_numpy(float), rcs_knots(x[ry], 4))

    def draws(Z):
        rng = np.random.default_rng(5)
        return smc_draw(x, ry, Z, *args, rng, _norm_draw, _standardise)

    a, b = draws(z), draws(z + np.array([0.0, 50.0]))
    assert np.isclose(a, b, rtol=0, atol=1e-9).mean() > 0.99


def test_smcfcs_conditions_on_age_at_entry():
    """Mg rises 0.004 mmol/L per year of age at entry (no effect on the outcome) and is missing
    more often at older entry (43 %): MAR given entry age. With entry in the covariate model the
    completed data keep the slope and the mean (0.84 at the mean entry age); without it the
    imputed values ignore age (slope 0.0018, mean 0.825, as the complete cases)."""
    from conftest import gompertz_cohort
    from scipy.special import expit

    d = gompertz_cohort(2000, seed=4, curvature=0.0)
    rng = np.random.default_rng(40)
    d["mg"] = 0.84 + 0.004 * (d.entry - 67.5) + rng.normal(0, 0.05, len(d))
    holed = d.copy()
    holed.loc[rng.random(len(d)) < expit(-0.5 + 0.2 * (d.entry - 67.5)).to_numpy(), "mg"] = np.nan
    sets = impute(
        holed, ["mg", "sex"], m=5, seed=1, time="exit", event="event", entry="entry",
        exposure="mg", progress=False,
    )  # fmt: skip
    slope = np.mean([np.polyfit(s.entry, s.mg, 1)[0] for s in sets])
    assert slope == pytest.approx(0.004, abs=0.0008)
    mean = np.mean([s.mg.mean() for s in sets])
    assert mean == pytest.approx(0.84 + 0.004 * (d.entry.mean() - 67.5), abs=0.004)
