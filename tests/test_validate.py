"""Simulation studies: reproducible whatever the backend, and the Rotterdam/null proofs."""

import numpy as np
import pytest

from mgrisk import simulation_study
from mgrisk.errors import InputError
from mgrisk.testing import assert_recovers, assert_shape
from mgrisk.validate import Analysis

# three chunks: with jobs=2, the worker takes the first two and this process the third
SMALL = dict(reps=21, n=2000, seed=3, analysis=Analysis(grid_points=11), progress=False)


def _array(value):
    """Numbers as a float array (NaN equals NaN there), anything else as objects."""
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return np.asarray(value, dtype=object)


def same(a, b):
    for ra, rb in zip(a.records, b.records, strict=True):
        assert ra.keys() == rb.keys()
        for key in ra:
            np.testing.assert_array_equal(_array(ra[key]), _array(rb[key]))


def test_same_seed_same_study_in_process_local_workers_and_dask():
    one = simulation_study("rotterdam", jobs=1, **SMALL)
    two = simulation_study("rotterdam", jobs=2, **SMALL)
    same(one, two)
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        via_dask = simulation_study(
            "rotterdam", backend="dask", scheduler=cluster.scheduler_address, **SMALL
        )
    same(one, via_dask)
    d = one.to_dict()
    for key in (
        "reps",
        "seconds",
        "quintile_hr_mean",
        "pointwise_coverage",
        "simultaneous_coverage",
        "nadir_bias",
        "nadir_coverage",
        "shape_rate",
    ):
        assert key in d
    assert d["reps"] == 21 and set(d["quintile_hr_mean"]) == {"Q1", "Q2", "Q3", "Q4", "Q5"}


def test_bad_backend_arguments():
    with pytest.raises(InputError, match="scheduler"):
        simulation_study("null", reps=1, backend="dask")
    with pytest.raises(InputError, match="backend='spark'"):
        simulation_study("null", reps=1, backend="spark")


def test_rotterdam_at_real_size_recovers_the_published_table():
    """200 Rotterdam-size replicates: quintile HRs near 1.32/1.30, pointwise coverage in
    [0.92, 0.98], U the most common verdict."""
    study = simulation_study("rotterdam", reps=200, seed=2017, jobs=2, progress=False)
    d = study.to_dict()
    assert abs(d["quintile_hr_mean"]["Q1"] - 1.32) <= 0.05
    assert abs(d["quintile_hr_mean"]["Q5"] - 1.30) <= 0.05
    assert 0.92 <= d["pointwise_coverage"] <= 0.98
    assert d["shape_rate"]["U"] == max(d["shape_rate"].values())


def test_null_scenario_false_positive_rate():
    """Under no effect, shape() says anything but "flat" in at most 7 % of 200 replicates."""
    study = simulation_study("null", reps=200, seed=7, jobs=2, progress=False)
    assert 1 - study.to_dict()["shape_rate"]["flat"] <= 0.07


def test_testing_assertions_explain_failures():
    study = assert_recovers("monotone", reps=4, n=4000, max_nadir_bias=None, min_coverage=0.5)
    assert study.reps == 4
    with pytest.raises(AssertionError, match=r"shape U in 0.00 of replicates"):
        assert_recovers("null", reps=3, n=3000, expected_shape="U", min_coverage=0.0)
    from mgrisk import simulate_cohort

    cohort = simulate_cohort("monotone", n=8000, seed=1)
    kwargs = dict(exposure="mg", time="exit", event="event", entry="entry")
    assert_shape(cohort, "increasing", **kwargs)
    with pytest.raises(AssertionError, match=r"expected a U shape, got increasing\nshape: "):
        assert_shape(cohort, "U", **kwargs)
