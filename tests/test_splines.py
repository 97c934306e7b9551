"""Restricted cubic splines against R (Hmisc 4.8 / rms 6.5 fixtures) and by their properties."""

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import patsy
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.utils.estimator_checks import parametrize_with_checks

from mgrisk import RCSTransformer, rcs, rcs_basis, rcs_knots, rcs_restate
from mgrisk.design import design_matrix
from mgrisk.errors import InputError, SplineWarning
from mgrisk.splines import rcs_pieces

FIXTURE = json.loads((Path(__file__).parent / "reference" / "splines.json").read_text())
CASES = {c["name"]: c for c in FIXTURE["cases"]}


def as_array(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@pytest.mark.parametrize("name", list(CASES))
def test_knots_warnings_and_basis_match_r(name):
    case = CASES[name]
    x = as_array(case["x"])
    if case["error"]:
        with pytest.raises(InputError), warnings.catch_warnings():
            warnings.simplefilter("ignore", SplineWarning)
            rcs_knots(x, case["nk"])
        return
    if case["knots_given"] is not None:
        knots = np.array(case["knots_given"], dtype=float)
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            knots = rcs_knots(x, case["nk"])
        ours = [str(w.message) for w in caught if issubclass(w.category, SplineWarning)]
        expected = case["warnings"]
        expected = [expected] if isinstance(expected, str) else expected  # jsonlite unboxes
        assert len(ours) == len(expected)
        for mine, r in zip(ours, expected, strict=True):
            assert re.sub(r"\s+", " ", mine) == re.sub(r"\s+", " ", r)
    ref = np.array(case["knots"])
    np.testing.assert_allclose(knots, ref, rtol=0, atol=1e-12 * max(1.0, np.abs(ref).max()))
    basis = rcs_basis(as_array(case["basis_x"]), ref)
    r_basis = np.array([[np.nan if v is None else v for v in row] for row in case["basis"]])
    np.testing.assert_allclose(basis, r_basis, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", FIXTURE["restate"])
def test_restate_matches_rcspline_restate(case):
    restated = rcs_restate(case["coef"], case["knots"])
    expected = np.array(case["restated"])  # linear, then the cubic coefficients in knot order
    assert restated.linear == pytest.approx(expected[0], rel=1e-12)
    np.testing.assert_allclose(restated.cubic, expected[1:], rtol=1e-10, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(
    coef=st.lists(st.floats(-20, 20), min_size=4, max_size=4),
    gaps=st.lists(st.floats(0.05, 2.0), min_size=4, max_size=4),
)
def test_spline_properties(coef, gaps):
    knots = np.cumsum([0.3, *gaps])
    coef = np.array(coef)
    f = rcs_restate(coef, knots)
    x = np.linspace(knots[0] - 1, knots[-1] + 1, 301)
    np.testing.assert_allclose(
        f(x), rcs_basis(x, knots) @ coef, atol=1e-8 * (1 + np.abs(coef).sum())
    )
    for piece in f.pieces.itertuples():  # the piecewise polynomials are the same function
        inside = (x >= piece.lower) & (x <= piece.upper)
        poly = piece.c0 + piece.c1 * x + piece.c2 * x**2 + piece.c3 * x**3
        np.testing.assert_allclose(poly[inside], f(x)[inside], atol=1e-6 * (1 + np.abs(coef).sum()))
    outside = np.concatenate(
        [np.linspace(knots[0] - 2, knots[0], 5), np.linspace(knots[-1], knots[-1] + 2, 5)]
    )
    np.testing.assert_allclose(
        rcs_basis(outside, knots, deriv=2) @ coef, 0, atol=1e-9 * (1 + np.abs(coef).sum())
    )
    for t in knots:  # continuous first and second derivatives at every knot
        for d in (1, 2):
            left, right = rcs_basis([t - 1e-9, t + 1e-9], knots, deriv=d) @ coef
            assert left == pytest.approx(right, abs=1e-5 * (1 + np.abs(coef).sum()))
    h = 1e-6
    mid = np.linspace(knots[0] - 0.5, knots[-1] + 0.5, 41)
    fd1 = (rcs_basis(mid + h, knots) - rcs_basis(mid - h, knots)) / (2 * h)
    np.testing.assert_allclose(rcs_basis(mid, knots, deriv=1), fd1, atol=1e-5)
    fd2 = (rcs_basis(mid + h, knots, deriv=1) - rcs_basis(mid - h, knots, deriv=1)) / (2 * h)
    np.testing.assert_allclose(rcs_basis(mid, knots, deriv=2), fd2, atol=1e-4)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 1000), n_knots=st.integers(3, 6))
def test_patsy_transform_reuses_knots_for_new_data(seed, n_knots):
    df = pd.DataFrame({"mg": np.random.default_rng(seed).normal(0.84, 0.065, 300)})
    design = design_matrix(f"rcs(mg, {n_knots})", df)
    assert list(design.matrix.columns) == ["mg" + "'" * j for j in range(n_knots - 1)]
    np.testing.assert_array_equal(
        design.build(df.iloc[::-1]).to_numpy(), design.matrix.to_numpy()[::-1]
    )
    np.testing.assert_allclose(
        design.matrix.to_numpy(), rcs_basis(df.mg, rcs_knots(df.mg, n_knots))
    )
    plain = patsy.dmatrix("rcs(mg, 4) - 1", df, return_type="dataframe")
    (again,) = patsy.build_design_matrices(
        [plain.design_info], df.iloc[:7], return_type="dataframe"
    )
    np.testing.assert_array_equal(again.to_numpy(), plain.to_numpy()[:7])
    assert rcs is not None


def test_explicit_knots_in_formula_and_nan_handling():
    df = pd.DataFrame({"mg": [0.7, 0.8, 0.85, 0.9, 1.0, 1.1]})
    design = design_matrix("rcs(mg, knots=[0.75, 0.85, 0.95])", df)
    np.testing.assert_allclose(design.matrix.to_numpy(), rcs_basis(df.mg, [0.75, 0.85, 0.95]))
    x = np.array([np.nan, *np.linspace(0, 1, 200)])
    np.testing.assert_array_equal(rcs_knots(x, 4), rcs_knots(x[1:], 4))  # NaN ignored
    assert np.isnan(rcs_basis(x[:3], [0.1, 0.5, 0.9])[0]).all()


def test_bad_input_is_an_input_error():
    with pytest.raises(InputError, match="at least 3 knots"):
        rcs_knots(np.arange(50.0), 2)
    with pytest.raises(InputError, match="strictly increasing"):
        rcs_basis([1.0], [0.0, 2.0, 1.0])
    with pytest.raises(InputError, match="at least 3 knots"):
        rcs_basis([1.0], [0.0, 1.0])
    with pytest.raises(InputError, match="infinite value at row 2"):
        rcs_knots([1.0, 2.0, np.inf, 4.0, 5.0, 6.0, 7.0], 3)
    with pytest.raises(InputError, match="only 4 non-missing"):
        rcs_knots([1.0, 2.0, 3.0, 4.0, np.nan], 3)


# scikit-learn's dtype check fits integer data with 3-4 distinct values: too few for 3 knots,
# which rms refuses too (fewer than 3 unique knots).
@parametrize_with_checks(
    [RCSTransformer(n_knots=3)],
    expected_failed_checks=lambda est: {"check_estimators_dtypes": "too few distinct values"},
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_transformer_feature_names_and_fixed_knots():
    X = pd.DataFrame({"mg": np.linspace(0.6, 1.1, 100), "age": np.linspace(50, 90, 100)})
    t = RCSTransformer(n_knots=4).fit(X)
    assert list(t.get_feature_names_out()) == ["mg", "mg'", "mg''", "age", "age'", "age''"]
    np.testing.assert_allclose(t.transform(X)[:, :3], rcs_basis(X.mg, rcs_knots(X.mg, 4)))
    fixed = RCSTransformer(knots=[0.7, 0.8, 0.9]).fit(X[["mg"]])
    np.testing.assert_allclose(fixed.knots_[0], [0.7, 0.8, 0.9])


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(0.0, 10.0), min_size=3, max_size=7, unique=True),
    st.floats(-5.0, 5.0),
    st.floats(0.1, 20.0),
)
def test_pieces_are_the_basis(knots, lo, width):
    """rcs_pieces' polynomials, evaluated piece by piece, equal rcs_basis on [lo, hi]."""
    knots = np.sort(knots)
    assume(np.diff(knots).min() > 1e-3)
    hi = lo + width
    edges, P = rcs_pieces(knots, lo, hi)
    x = np.linspace(lo, hi, 2001)
    piece = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(P) - 1)
    s = (x - edges[piece]) / np.diff(edges)[piece]
    values = np.einsum("njd,nd->nj", P[piece], s[:, None] ** np.arange(4))
    expected = rcs_basis(x, knots)
    # the basis is a difference of cubes scaled by 1 / (last knot - first)^2: rounding grows
    # with the size of those cubes, not with the result's
    cubes = np.abs(x - knots[0]).max() ** 3 / (knots[-1] - knots[0]) ** 2
    scale = max(cubes, np.abs(expected).max())
    assert np.allclose(values, expected, rtol=1e-12, atol=1e-11 * scale)
