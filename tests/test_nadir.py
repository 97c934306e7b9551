"""Nadir and corridor maths against brute force, Monte Carlo and closed forms."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtri

from mgrisk.nadir import corridor_bounds, nadir_delta, nadir_inversion, spline_minimum
from mgrisk.splines import rcs_basis

KNOTS = np.array([0.74, 0.81, 0.86, 0.94])
LO, HI = 0.6, 1.1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=3, max_size=3))
def test_minimum_matches_dense_grid(coef):
    coef = np.array(coef)
    x, interior = spline_minimum(coef, KNOTS, LO, HI)
    grid = np.linspace(LO, HI, 200_001)
    f = rcs_basis(grid, KNOTS) @ coef
    assert rcs_basis([x], KNOTS)[0] @ coef <= f.min() + 1e-9
    if interior:
        assert LO < x < HI


@settings(max_examples=30, deadline=None)
@given(delta=st.floats(0.01, 0.5))
def test_delta_corridor_matches_dense_grid(delta):
    coef = np.array([-8.0, 8.0, 2.0])
    x, _ = spline_minimum(coef, KNOTS, LO, HI)
    low, up, _, _ = corridor_bounds(
        x, coef, np.eye(3), KNOTS, LO, HI, rule="delta", delta=delta, level=0.95
    )
    grid = np.linspace(LO, HI, 400_001)
    f = rcs_basis(grid, KNOTS) @ coef - rcs_basis([x], KNOTS)[0] @ coef
    inside = grid[(f <= np.log1p(delta))]
    assert low == pytest.approx(inside.min(), abs=2e-6)
    assert up == pytest.approx(inside.max(), abs=2e-6)


def _grid_runs(inside: np.ndarray, grid: np.ndarray) -> list[tuple[float, float]]:
    """Runs of True on a dense grid: the brute-force answer, to within one grid step."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], inside.astype(int), [0]])))
    return [(grid[a], grid[b - 1]) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _random_fit(seed: int):
    rng = np.random.default_rng(seed)
    coef = rng.normal(0, 1, 3) * [10, 30, 60]
    A = rng.normal(size=(3, 3))
    return coef, A @ A.T * rng.choice([0.1, 1.0, 10.0, 100.0])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000))
def test_inversion_set_matches_dense_grid(seed):
    coef, cov = _random_fit(seed)
    x, _ = spline_minimum(coef, KNOTS, LO, HI)
    grid = np.linspace(LO, HI, 200_001)
    d1 = rcs_basis(grid, KNOTS, deriv=1)
    t2 = (d1 @ coef) ** 2 / np.einsum("ij,jk,ik->i", d1, cov, d1)
    expected = _grid_runs(t2 <= 1.959963984540054**2, grid)
    runs = nadir_inversion(x, coef, cov, KNOTS, LO, HI, 0.95)
    assert len(runs) == len(expected)
    step = (HI - LO) / 200_000
    assert np.allclose(runs, expected, atol=step, rtol=0)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.6827, 0.95]))
def test_ci_corridor_matches_dense_grid(seed, level):
    coef, cov = _random_fit(seed)
    x, _ = spline_minimum(coef, KNOTS, LO, HI)
    grid = np.union1d(np.linspace(LO, HI, 200_001), [x])
    D = rcs_basis(grid, KNOTS) - rcs_basis([x], KNOTS)[0]
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", D, cov, D), 0))
    inside = D @ coef <= ndtri(0.5 + level / 2) * se + 1e-12
    own = next(r for r in _grid_runs(inside, grid) if r[0] <= x <= r[1])
    low, up, _, _ = corridor_bounds(x, coef, cov, KNOTS, LO, HI, rule="ci", delta=0, level=level)
    assert (low, up) == pytest.approx(own, abs=(HI - LO) / 200_000)


def test_delta_method_se_matches_monte_carlo():
    """sd of the nadir over draws of beta ~ N(b, V) equals the delta-method se (small V)."""
    coef = np.array([-8.0, 8.0, 2.0])
    cov = np.diag([0.02, 0.05, 0.3]) ** 2
    x, _ = spline_minimum(coef, KNOTS, LO, HI)
    low, up = nadir_delta(x, coef, cov, KNOTS, 0.95)
    se_delta = (up - low) / (2 * 1.959963984540054)
    draws = np.random.default_rng(1).multivariate_normal(coef, cov, 4000)
    xs = np.array([spline_minimum(c, KNOTS, LO, HI)[0] for c in draws])
    assert np.std(xs) == pytest.approx(se_delta, rel=0.05)


def test_inversion_set_contains_nadir_and_reports_split_sets():
    coef = np.array([-8.0, 8.0, 2.0])
    x, _ = spline_minimum(coef, KNOTS, LO, HI)
    runs = nadir_inversion(x, coef, np.diag([0.5, 1.5, 5.0]) ** 2, KNOTS, LO, HI, 0.95)
    assert any(a <= x <= b for a, b in runs)
    flat = nadir_inversion(x, coef, np.diag([30.0, 60.0, 200.0]) ** 2, KNOTS, LO, HI, 0.95)
    assert flat[0][0] == LO and flat[-1][1] == HI  # so uncertain the set spans the data


def test_ci_corridor_closed_form_for_known_contrast():
    """With V = s^2 I and a linear spline (cubic terms 0), the CI corridor is where
    |b (x - x0)| <= z s |x - x0| ... i.e. everything when |b| <= z s, nothing else."""
    coef = np.array([0.5, 0.0, 0.0])
    low, up, open_low, open_up = corridor_bounds(
        LO, coef, np.eye(3) * 1.0, KNOTS, LO, HI, rule="ci", delta=0.0, level=0.95
    )
    assert (low, up, open_low, open_up) == (LO, HI, True, True)
    low, up, _, _ = corridor_bounds(
        LO, np.array([5.0, 0, 0]), np.eye(3) * 1e-4, KNOTS, LO, HI, rule="ci", delta=0.0, level=0.95
    )
    assert up == pytest.approx(LO, abs=(HI - LO) / 1000)
