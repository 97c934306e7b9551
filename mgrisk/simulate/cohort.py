"""Scenario -> arrays -> DataFrame: the public face of the simulator."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ..errors import InputError
from ..scenario import Covariate, Scenario, load_scenario
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
        ``event`` (0 censored, 1 dementia, 2 death; follow-up is at least 1e-4 years: an
        earlier event is recorded then); the exposure (named by the scenario, e.g.
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
    covs = s.covariates
    cov = np.zeros((7, len(covs)))
    for j, c in enumerate(covs):
        cov[:, j] = _kernel_column(c)
    age = (s.age_mean, s.age_sd, s.age_min, s.age_max)
    exposure = (s.exposure_mean, s.exposure_sd, s.exposure_min, s.exposure_max)
    pop = np.array([*_standard_bounds(*age), *_standard_bounds(*exposure), s.female_share])
    floats, ints, values = _kernel.simulate(
        _kernel.seed_key(int(seed)),
        n,
        pop,
        np.array([c.kind == "binary" for c in covs], dtype=np.int64),
        cov,
        (*s.effect.pieces, *s.effect_death.pieces),
        np.array(
            [
                s.dementia_lambda,
                s.dementia_alpha,
                s.death_lambda,
                s.death_alpha,
                s.female_log_hr_dementia,
                s.female_log_hr_death,
            ]
        ),
        np.array([s.follow_up_min, s.follow_up_max, s.loss_rate]),
    )
    columns = {"id": np.arange(n), "entry": floats[0], "exit": floats[1], "event": ints[0]}
    columns |= {s.exposure: floats[2], "female": ints[1]}
    for j, c in enumerate(covs):
        columns[c.name] = values[j] if c.kind == "normal" else values[j].astype(np.int64)
    columns["true_log_hr"] = floats[3]
    return pd.DataFrame(columns, copy=False)  # no copy: columns stay the kernel's arrays


def _kernel_column(c: Covariate) -> list[float]:
    """A covariate's column of the kernel's ``cov`` (see `_kernel.simulate`)."""
    r = c.corr_exposure
    hrs = [c.log_hr_dementia, c.log_hr_death]
    if c.kind == "normal":
        return [c.mean, c.sd, r, np.sqrt(1 - r * r), c.mean, *hrs]
    threshold = ndtri(1 - c.prevalence)  # of the latent standard normal
    return [threshold, 0.0, r, np.sqrt(1 - r * r), 0.0, *hrs]


def _standard_bounds(mean: float, sd: float, lo: float, hi: float) -> tuple[float, ...]:
    """mean, sd and the bounds of a truncated normal, the bounds in SDs from the mean."""
    return mean, sd, (lo - mean) / sd, (hi - mean) / sd
