"""Scenario -> arrays -> DataFrame: the public face of the simulator."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import InputError
from ..scenario import Scenario, load_scenario
from . import _kernel

__all__ = ["simulate_cohort"]


def simulate_cohort(scenario: Scenario | str, n: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Simulate a cohort from a scenario's known truth.

    Parameters
    ----------
    scenario : Scenario or str
        A `Scenario` or the name/path of one (see `mgrisk.load_scenario`).
    n : int, optional
        Number of people (default: the scenario's).
    seed : int
        The same seed gives the same cohort, whatever the number of threads.

    Returns
    -------
    pandas.DataFrame
        ``id``; ``entry`` (age at baseline, years); ``exit`` (age at the end of follow-up);
        ``event`` (0 censored, 1 dementia, 2 death); the exposure (named by the scenario, e.g.
        ``mg`` in mmol/L); ``female`` (0/1) and the scenario's covariates; ``true_log_hr`` (the
        true log HR of the exposure for the event of interest, 0 at the nadir or reference).

    Examples
    --------
    >>> cohort = simulate_cohort("rotterdam", n=1000, seed=1)
    >>> list(cohort.columns[:5])
    ['id', 'entry', 'exit', 'event', 'mg']
    """
    s = load_scenario(scenario) if not isinstance(scenario, Scenario) else scenario
    n = s.n if n is None else int(n)
    if n < 1:
        raise InputError(f"n={n}: need at least one person")
    if len(s.covariates) > _kernel.MAX_COVARIATES:
        raise InputError(f"{s.path}: at most {_kernel.MAX_COVARIATES} covariates are supported")
    key = _kernel.seed_key(int(seed))
    covs = s.covariates
    kind = np.array([0 if c.kind == "normal" else 1 for c in covs], dtype=np.int64)
    a = np.array([c.mean if c.kind == "normal" else stats.norm.ppf(1 - c.prevalence) for c in covs])
    b = np.array([c.sd if c.kind == "normal" else 0.0 for c in covs])
    corr = np.array([c.corr_exposure for c in covs])
    age0, female, x, values = _kernel.draw_population(
        key,
        n,
        np.array([s.age_mean, s.age_sd, s.age_min, s.age_max]),
        np.array([s.exposure_mean, s.exposure_sd, s.exposure_min, s.exposure_max]),
        s.female_share,
        kind,
        a.reshape(-1),
        b.reshape(-1),
        corr.reshape(-1),
    )
    true_log_hr = s.effect(x)
    eta1 = true_log_hr + s.female_log_hr_dementia * female
    eta2 = s.effect_death(x) + s.female_log_hr_death * female
    for j, c in enumerate(covs):
        eta1 = eta1 + c.log_hr_dementia * (values[:, j] - (c.mean if c.kind == "normal" else 0))
        eta2 = eta2 + c.log_hr_death * (values[:, j] - (c.mean if c.kind == "normal" else 0))
    exit_, event = _kernel.draw_times(
        key,
        age0,
        eta1,
        eta2,
        np.array([s.dementia_lambda, s.dementia_alpha, s.death_lambda, s.death_alpha]),
        np.array([s.follow_up_min, s.follow_up_max, s.loss_rate]),
    )
    out = pd.DataFrame(
        {
            "id": np.arange(n),
            "entry": age0,
            "exit": exit_,
            "event": event,
            s.exposure: x,
            "female": female.astype(np.int64),
        }
    )
    for j, c in enumerate(covs):
        out[c.name] = values[:, j] if c.kind == "normal" else values[:, j].astype(np.int64)
    out["true_log_hr"] = true_log_hr
    return out
