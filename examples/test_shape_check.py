"""A CI shape check a downstream project can copy: does our analysis still find the U-shape?

Run: python -m pytest examples/test_shape_check.py
Replace the simulated cohort with your own data (a DataFrame) and its column names.
"""

import pytest

from mgrisk import load_scenario, simulate_cohort
from mgrisk.testing import assert_recovers, assert_shape


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort("rotterdam", n=30_000, seed=1)  # or: pd.read_csv("our_cohort.csv")


def test_serum_mg_dementia_curve_is_u_shaped(cohort):
    assert_shape(
        cohort,
        expected="U",
        exposure="mg",
        time="exit",
        event="event",
        entry="entry",
        adjust=load_scenario("rotterdam").adjust_formula(),
    )


def test_method_recovers_the_truth_on_synthetic_data():
    assert_recovers(
        "rotterdam", reps=20, n=20_000, expected_shape="U", min_power=0.7, min_coverage=0.85
    )
