"""Category RRs as averages over the exposure within categories, and the pooled curve's CIs.

References: dense numerical sums over the normal density (not mgrisk's quadrature), closed-form
quantiles of the normal, a known truth in noise-free and simulated tables, scipy's t quantiles
and the univariate Knapp-Hartung formula.
"""

from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtri
from scipy.stats import norm
from scipy.stats import t as t_dist

from mgrisk.errors import InputError
from mgrisk.meta import dose_response_meta
from mgrisk.meta.categories import category_nodes, exposure_fit, tilted_design
from mgrisk.splines import rcs_basis

KNOTS = (0.72, 0.85, 0.98)
COEF = np.array([-4.3803, 4.9515])  # U-shape, nadir 0.862 (benchmarks/meta_coverage.py)
SD = 0.08
QUINTILE_Z = ndtri(np.linspace(0, 1, 6)[1:-1])
COLS = dict(study="study", dose="dose", log_rr="log_rr", se="se", type="type", cases="cases")


def _truth(x):
    return rcs_basis(np.atleast_1d(x), KNOTS) @ COEF


def _dense_category_means(mu, slope=0.0, sd=SD):
    """E[exp f(X) | quintile k] for X ~ N(mu, sd^2) by a dense Riemann sum; the medians."""
    x = np.linspace(mu - 9 * sd, mu + 9 * sd, 400_001)
    w = norm.pdf(x, mu, sd)
    risk = np.exp(_truth(x) + slope * (x - 0.85))
    cuts = np.r_[-np.inf, mu + sd * QUINTILE_Z, np.inf]
    means = []
    for k in range(5):
        m = (x > cuts[k]) & (x <= cuts[k + 1])
        means.append(np.sum(risk[m] * w[m]) / np.sum(w[m]))
    return np.array(means), mu + sd * ndtri((2 * np.arange(5) + 1) / 10)


def _noise_free_table(mus):
    """Quintile tables whose log RRs are the exact ratios of average risks (no sampling)."""
    parts = []
    for s, mu in enumerate(mus):
        means, dose = _dense_category_means(mu)
        parts.append(_study_rows(s, dose, means))
    return pd.concat(parts, ignore_index=True)


def _study_rows(study, dose, means) -> pd.DataFrame:
    """A study's quintile rows whose log RRs are the exact ratios of the categories' average
    risks ``means`` (the first the reference), with Poisson-like SEs from 1,000 cases."""
    cases = 1000 * means / means.mean()
    se = np.sqrt(1 / cases + 1 / cases[0])
    se[0] = np.nan
    return pd.DataFrame(
        {
            "study": study,
            "dose": dose,
            "log_rr": np.log(means / means[0]),
            "se": se,
            "cases": cases,
            "n": 1e5,
            "type": "ir",
        }
    )


def test_exposure_fit_is_the_normal_of_the_medians():
    # medians of categories with shares 0.1, 0.4, 0.3, 0.2 of N(1.2, 0.3^2): quantiles at the
    # mid-shares 0.05, 0.3, 0.65, 0.9
    share = np.array([0.1, 0.4, 0.3, 0.2])
    dose = 1.2 + 0.3 * ndtri(np.array([0.05, 0.3, 0.65, 0.9]))
    assert exposure_fit(dose[::-1], share[::-1]) == pytest.approx((1.2, 0.3), abs=1e-12)
    assert exposure_fit(np.exp(dose), share, "lognormal") == pytest.approx((1.2, 0.3), abs=1e-12)


def test_category_average_matches_a_dense_sum():
    means, dose = _dense_category_means(0.83, slope=0.7)
    nodes = category_nodes(dose, np.full(5, 0.2))
    beta = COEF + np.array([0.7, 0.0])  # f(x) + 0.7 x: the same curve up to a constant
    X, r = tilted_design(nodes, lambda x: rcs_basis(x, KNOTS), beta)
    np.testing.assert_allclose(X @ beta + r, np.log(means[1:] / means[0]), atol=2e-6)


def test_default_recovers_the_curve_from_exact_category_averages():
    # the lowest quintile's average risk lies ~0.05 above the curve at its median (a U-shape's
    # curved open tail): the point model is biased there, the default is not
    data = _noise_free_table([0.80, 0.83, 0.85, 0.87, 0.90])
    grid = np.array([0.70, 0.75, 0.95, 1.00])
    truth = _truth(grid) - _truth([0.85])
    fit = dose_response_meta(data, **COLS, n="n", knots=list(KNOTS), method="fixed")
    assert fit.categories == "piecewise"
    np.testing.assert_allclose(fit.coef, COEF, rtol=1e-4)
    np.testing.assert_allclose(fit.curve(grid, ref=0.85).log_rr, truth, atol=2e-4)
    point = dose_response_meta(
        data, **COLS, n="n", knots=list(KNOTS), method="fixed", categories="point"
    )
    error = point.curve(grid, ref=0.85).log_rr.to_numpy() - truth
    assert error[0] > 0.05 and error.min() > 0.01


def _gamma_table(mus, shape=4.0):
    """Noise-free quintile tables of a right-skewed exposure (gamma, skewness 2 / sqrt(shape))
    with SD 0.08: exact ratios of average risks by a dense sum over the gamma density."""
    from scipy.stats import gamma

    parts = []
    for s, mu in enumerate(mus):
        g = gamma(shape, loc=mu - SD * np.sqrt(shape), scale=SD / np.sqrt(shape))
        x = np.linspace(g.ppf(1e-12), g.ppf(1 - 1e-12), 400_001)
        w, risk = g.pdf(x), np.exp(_truth(x))
        cuts = g.ppf(np.linspace(0, 1, 6))
        means = [
            np.sum((risk * w)[(x > a) & (x <= b)]) / np.sum(w[(x > a) & (x <= b)])
            for a, b in pairwise(cuts)
        ]
        parts.append(_study_rows(s, g.ppf((2 * np.arange(5) + 1) / 10), np.array(means)))
    return pd.concat(parts, ignore_index=True)


def test_piecewise_follows_a_skewed_exposure():
    # a skewed exposure has a short lower tail: one normal through the medians invents a long
    # one and is biased several times more than the piecewise default, which bends with the
    # medians (largest errors at 0.70-1.00 mmol/L, exact category averages as data)
    data = _gamma_table([0.80, 0.83, 0.85, 0.87, 0.90])
    grid = np.linspace(0.70, 1.00, 7)
    truth = _truth(grid) - _truth([0.85])
    error = {}
    for model in ("piecewise", "normal", "point"):
        fit = dose_response_meta(
            data, **COLS, n="n", knots=list(KNOTS), method="fixed", categories=model
        )
        error[model] = np.max(np.abs(fit.curve(grid, ref=0.85).log_rr.to_numpy() - truth))
    assert error["piecewise"] < error["normal"] / 3 and error["piecewise"] < error["point"] / 2


def _simulated_table(rng, studies=10, n=4000):
    """As benchmarks/meta_coverage.py: quintile tables of crude rate ratios, random slopes."""
    parts = []
    for s in range(studies):
        mu = rng.normal(0.85, 0.03)
        x = rng.normal(mu, SD, n)
        rate = 0.01 * np.exp(_truth(x) - _truth([mu]) + rng.normal(0, 1.0) * (x - 0.85))
        events = rng.poisson(rate * 10)
        cat = np.searchsorted(np.quantile(x, [0.2, 0.4, 0.6, 0.8]), x)
        d = np.bincount(cat, weights=events, minlength=5)
        pt = np.bincount(cat, minlength=5) * 10.0
        se = np.sqrt(1 / d + 1 / d[0])
        se[0] = np.nan
        dose = [np.median(x[cat == k]) for k in range(5)]
        parts.append(
            pd.DataFrame(
                {
                    "study": s,
                    "dose": dose,
                    "log_rr": np.log(d / pt / (d[0] / pt[0])),
                    "se": se,
                    "cases": d,
                    "n": pt,
                    "type": "ir",
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def test_default_is_unbiased_at_the_open_quintile_by_simulation():
    # 20 meta-analyses of 10 simulated cohorts: at 0.70 mmol/L the point model's mean error is
    # ~1.1 SD (several MC SEs), the default's within 3 MC SEs of 0
    rng = np.random.default_rng(20)
    truth = float(_truth([0.70])[0] - _truth([0.85])[0])
    est = {"piecewise": [], "point": []}
    for _ in range(20):
        data = _simulated_table(rng)
        for model in est:
            fit = dose_response_meta(data, **COLS, n="n", knots=list(KNOTS), categories=model)
            est[model].append(float(fit.curve([0.70], ref=0.85).log_rr.iloc[0]))
    for model, values in est.items():
        values = np.array(values)
        z = (values.mean() - truth) / (values.std(ddof=1) / np.sqrt(values.size))
        assert abs(z) < 3 if model == "piecewise" else z > 3, (model, z)


def test_default_ci_is_t_with_studies_minus_one_df():
    data = _noise_free_table([0.80, 0.83, 0.85, 0.87, 0.90])
    rng = np.random.default_rng(1)
    data["log_rr"] += np.where(data.se.isna(), 0, rng.normal(0, data.se.fillna(0)))
    fit = dose_response_meta(data, **COLS, n="n", knots=list(KNOTS))
    c = fit.curve([0.7, 1.0], ref=0.85)
    crit = t_dist.ppf(0.975, 4)
    np.testing.assert_allclose(np.log(c.upper), c.log_rr + crit * c.se, rtol=1e-12)
    hr = fit.curve.hr_curve(grid=[0.7, 1.0], ref=0.85)
    np.testing.assert_allclose(np.log(hr.upper), c.log_rr + crit * c.se, rtol=1e-9)
    z = fit.with_ci("z").curve([0.7, 1.0], ref=0.85)
    np.testing.assert_allclose(np.log(z.upper), c.log_rr + 1.959963984540054 * c.se, rtol=1e-12)


def test_categories_need_sizes():
    data = _noise_free_table([0.85, 0.87]).drop(columns="n")
    with pytest.raises(InputError, match=r"categories='piecewise' needs each category's size.*n="):
        dose_response_meta(data, **COLS, knots=list(KNOTS), covariance="independent")
    with pytest.raises(InputError, match=r"ci='x': use 't', 'z' or 'hksj'"):
        dose_response_meta(data, **COLS, knots=list(KNOTS), covariance="independent", ci="x")
