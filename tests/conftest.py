"""Shared test data: small cohorts simulated here from a known truth (independent of mgrisk)."""

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

# CI runs the property tests on a fixed sequence of examples (a red CI then means a change broke
# something, not that a new random example was drawn); locally they explore anew each run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def gompertz_cohort(
    n,
    seed,
    *,
    curvature=40.0,
    nadir=0.85,
    sex_log_hr=0.3,
    lam=1e-5,
    alpha=0.1,
    follow_up=(2.0, 15.0),
    log_hr=None,
):
    """Age-scale cohort with delayed entry: log HR = curvature (mg - nadir)^2 + sex_log_hr sex
    (or ``log_hr(mg)`` in place of the quadratic).

    Event times by inversion of the Gompertz cumulative hazard conditional on entry
    (Bender et al. 2005); administrative censoring after a uniform follow-up.
    """
    rng = np.random.default_rng(seed)
    mg = rng.normal(0.84, 0.065, n)
    age0 = rng.uniform(55, 80, n)
    sex = rng.integers(0, 2, n)
    effect = curvature * (mg - nadir) ** 2 if log_hr is None else log_hr(mg)
    eta = effect + sex_log_hr * sex
    t = np.log(np.exp(alpha * age0) - alpha * np.log(rng.random(n)) / (lam * np.exp(eta))) / alpha
    censor = age0 + rng.uniform(*follow_up, n)
    return pd.DataFrame(
        {
            "mg": mg,
            "entry": age0,
            "exit": np.minimum(t, censor),
            "event": (t <= censor).astype(int),
            "sex": sex,
        }
    )


@pytest.fixture(scope="session")
def u_cohort():
    return gompertz_cohort(20_000, seed=11)
