"""Cox engine checked without R: invariances, equivalent data layouts, gradients, lifelines."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import approx_fprime

from mgrisk.cox import fit_cox, prepare_cox
from mgrisk.cox.fit import CoxLikelihood


def data(n=300, seed=0, ties=True):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n), rng.uniform(0, 3, n)])
    t = rng.exponential(np.exp(-(X @ [0.5, -0.4, 0.3])))
    if ties:
        t = np.ceil(t * 10) / 10
    return X, t, (rng.random(n) < 0.7).astype(float)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), ties=st.sampled_from(["efron", "breslow"]))
def test_row_order_does_not_matter(seed, ties):
    X, t, e = data(seed=seed)
    perm = np.random.default_rng(seed).permutation(len(t))
    a = fit_cox(X, t, e, ties=ties)
    b = fit_cox(X[perm], t[perm], e[perm], ties=ties)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.loglik, b.loglik, rtol=1e-12)
    np.testing.assert_allclose(a.linear_predictors[perm], b.linear_predictors, atol=1e-9)


@settings(max_examples=15, deadline=None)
@given(shift=st.floats(0.5, 100.0), scale=st.floats(0.01, 100.0))
def test_time_shift_and_covariate_scale(shift, scale):
    X, t, e = data(seed=3)
    entry = np.zeros_like(t)
    base = fit_cox(X, t, e, entry=entry)
    shifted = fit_cox(X, t + shift, e, entry=entry + shift)
    np.testing.assert_allclose(base.coef, shifted.coef, rtol=1e-8)
    Xs = X.copy()
    Xs[:, 2] *= scale
    scaled = fit_cox(Xs, t, e)
    plain = fit_cox(X, t, e)
    np.testing.assert_allclose(scaled.coef.iloc[2] * scale, plain.coef.iloc[2], rtol=1e-8)
    np.testing.assert_allclose(scaled.se.iloc[2] * scale, plain.se.iloc[2], rtol=1e-7)


def test_splitting_rows_in_time_changes_nothing():
    """(0, t] and the same interval cut into (0, s], (s, t] rows are the same data."""
    X, t, e = data(n=400, seed=5)
    s = t * np.random.default_rng(1).uniform(0.2, 0.8, t.size)
    whole = fit_cox(X, t, e, entry=np.zeros_like(t))
    X2 = np.vstack([X, X])
    entry2 = np.concatenate([np.zeros_like(t), s])
    exit2 = np.concatenate([s, t])
    e2 = np.concatenate([np.zeros_like(e), e])
    ids = np.concatenate([np.arange(t.size)] * 2)
    split = fit_cox(X2, exit2, e2, entry=entry2, cluster=ids)
    np.testing.assert_allclose(whole.coef, split.coef, rtol=1e-9)
    np.testing.assert_allclose(whole.loglik, split.loglik, rtol=1e-12)
    np.testing.assert_allclose(whole.model_se, split.model_se, rtol=1e-8)
    robust_whole = fit_cox(X, t, e, robust=True)
    np.testing.assert_allclose(robust_whole.se, split.se, rtol=1e-8)


def test_integer_weights_equal_duplicated_rows_breslow():
    X, t, e = data(n=200, seed=7)
    w = np.random.default_rng(2).integers(1, 4, t.size)
    weighted = fit_cox(X, t, e, weights=w, ties="breslow")
    rep = np.repeat(np.arange(t.size), w)
    duplicated = fit_cox(X[rep], t[rep], e[rep], ties="breslow")
    np.testing.assert_allclose(weighted.coef, duplicated.coef, rtol=1e-9)
    np.testing.assert_allclose(weighted.loglik, duplicated.loglik, rtol=1e-12)


def test_stratified_null_loglik_is_sum_over_strata():
    X, t, e = data(n=300, seed=9)
    strata = np.arange(t.size) % 3
    fit = fit_cox(X, t, e, strata=strata)
    parts = [fit_cox(X[strata == s], t[strata == s], e[strata == s]).loglik[0] for s in range(3)]
    assert fit.loglik[0] == pytest.approx(sum(parts), rel=1e-12)


@pytest.mark.parametrize("efron", [True, False])
@pytest.mark.parametrize("entry", [False, True])
def test_score_and_information_match_finite_differences(efron, entry):
    X, t, e = data(n=150, seed=4)
    d = prepare_cox(
        X,
        t,
        e,
        entry=t * 0.3 if entry else None,
        weights=np.linspace(0.5, 2, t.size),
        strata=np.arange(t.size) % 2,
    )
    model = CoxLikelihood(d, efron)
    beta = np.array([0.2, -0.1, 0.3])
    _, score, info = model.evaluate(beta)
    num_score = approx_fprime(beta, lambda b: model.evaluate(b)[0], 1e-7)
    np.testing.assert_allclose(score, num_score, rtol=1e-5, atol=1e-5)
    num_info = -np.array(
        [approx_fprime(beta, lambda b, j=j: model.evaluate(b)[1][j], 1e-7) for j in range(3)]
    )
    np.testing.assert_allclose(info, num_info, rtol=1e-5, atol=1e-5)


def test_agrees_with_lifelines_where_it_converges():
    lifelines = pytest.importorskip("lifelines")
    X, t, e = data(n=1000, seed=12)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(t=t, e=e)
    ref = lifelines.CoxPHFitter().fit(df, "t", "e")
    fit = fit_cox(df[["a", "b", "c"]], df.t, df.e)
    np.testing.assert_allclose(fit.coef, ref.params_, rtol=1e-5)
    np.testing.assert_allclose(fit.se, ref.standard_errors_, rtol=1e-5)
    assert fit.loglik[1] == pytest.approx(ref.log_likelihood_, rel=1e-9)


def test_large_linear_predictors_do_not_overflow():
    X, t, e = data(n=500, seed=2)
    big = fit_cox(X * 50.0, t, e)
    plain = fit_cox(X, t, e)
    np.testing.assert_allclose(big.coef * 50.0, plain.coef, rtol=1e-8)
    shifted = fit_cox(X + 1e4, t, e)
    np.testing.assert_allclose(shifted.coef, plain.coef, rtol=1e-7)


def test_same_fit_whatever_the_threads():
    """Row work is split into fixed chunks added in a fixed order: 1 or 2 numba threads (and
    the one-thread path for small data) give the same numbers, bit for bit."""
    import os
    import subprocess
    import sys

    from mgrisk.cox import _kernels

    code = (
        "import numpy as np, sys; from mgrisk.cox import fit_cox; "
        "rng = np.random.default_rng(5); n = int(sys.argv[1]); "
        "X = rng.normal(size=(n, 3)); entry = rng.uniform(50, 70, n); "
        "exit_ = entry + rng.exponential(10 * np.exp(-0.3 * X[:, 0])); "
        "f = fit_cox(X, exit_, (rng.random(n) < 0.5).astype(float), entry=entry, robust=True); "
        "v = [f.coef, f.se, f.robust_cov.to_numpy().ravel(), [f.loglik[1]]]; "
        "print(repr(np.concatenate(v).tolist()))"
    )
    for n in (_kernels.PARALLEL_ROWS - 1, 3 * _kernels.PARALLEL_ROWS):
        outs = [
            subprocess.run(
                [sys.executable, "-c", code, str(n)],
                env={**os.environ, "NUMBA_NUM_THREADS": threads},
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            for threads in ("1", "2")
        ]
        assert outs[0] == outs[1] and outs[0].startswith("[")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.5, 1.0, 1.0 + 1e-12, 2.5, 7.0, 1e300]), max_size=200))
def test_radix_sort_is_numpys_stable_argsort(values):
    """Large data is sorted by a radix sort, small data by numpy: same permutation (ties kept in
    row order) and the same sorted times, with and without ties."""
    from mgrisk.cox import _kernels

    for times in (np.array(values, dtype=float), np.unique(values)[::-1].copy()):
        expected = np.argsort(times, kind="stable")
        for order, sorted_times in (_kernels._radix_sort(times), _kernels._sort(times)):
            np.testing.assert_array_equal(order, expected)
            np.testing.assert_array_equal(sorted_times, np.sort(times))
