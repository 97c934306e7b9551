"""Bootstrap refits of a prepared Cox model: reproducible whatever the number of workers.

Replicate i resamples persons (rows, or clusters when given) with multinomial counts drawn from
``numpy.random.SeedSequence(seed, spawn_key=(i,))``, so its draw depends on the seed and i alone.
Refits reuse the prepared (sorted, indexed) data with new weights. Work is split into chunks of
replicates over a process pool, with a progress bar; results are put back in replicate order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial

import numpy as np
from tqdm.auto import tqdm

from ._pool import run_chunks
from .cox import PreparedCox, fit_prepared
from .errors import ConvergenceError, InputError

__all__ = ["BootstrapFits", "bootstrap_fits", "replicate_weights"]

#: Replicates per task sent to a worker.
CHUNK = 16


@dataclass(frozen=True)
class BootstrapFits:
    """Coefficients and model-based covariances of B refits (NaN rows where a refit failed)."""

    coef: np.ndarray  # (B, p)
    cov: np.ndarray  # (B, p, p)
    seed: int

    @property
    def ok(self) -> np.ndarray:
        return np.isfinite(self.coef).all(axis=1)

    @property
    def n_failed(self) -> int:
        return int((~self.ok).sum())


def replicate_weights(seed: int, i: int, units: np.ndarray, n_units: int) -> np.ndarray:
    """Row weights of bootstrap replicate i: multinomial counts of the resampled units."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i,)))
    counts = rng.multinomial(n_units, np.full(n_units, 1.0 / n_units))
    return counts[units].astype(float)


_WORKER: dict = {}


def _init_worker(prepared, units, n_units, base_weights, fit_kwargs):
    _WORKER.update(
        prepared=prepared,
        units=units,
        n_units=n_units,
        base_weights=base_weights,
        fit_kwargs=fit_kwargs,
    )


def _run_chunk(seed: int, indices: range):
    w = _WORKER
    p = w["prepared"].X.shape[1]
    coef = np.full((len(indices), p), np.nan)
    cov = np.full((len(indices), p, p), np.nan)
    for k, i in enumerate(indices):
        weights = replicate_weights(seed, i, w["units"], w["n_units"]) * w["base_weights"]
        try:
            fit = fit_prepared(w["prepared"].with_weights(weights), **w["fit_kwargs"])
        except (ConvergenceError, InputError):
            continue
        coef[k] = fit.coef.to_numpy()
        cov[k] = fit.cov.to_numpy()
    return indices, coef, cov


def bootstrap_fits(
    prepared: PreparedCox,
    *,
    n_boot: int,
    seed: int = 0,
    jobs: int | None = None,
    progress: bool = True,
    **fit_kwargs,
) -> BootstrapFits:
    """Refit ``prepared`` on ``n_boot`` bootstrap resamples.

    Parameters
    ----------
    prepared : PreparedCox
        From `mgrisk.cox.prepare_cox`; its ``cluster`` (if any) is the resampling unit.
    n_boot : int
        Number of replicates.
    seed : int
        Replicate i depends on (seed, i) only: the same seed gives the same replicates whatever
        ``jobs`` is.
    jobs : int, optional
        Cores: this process and ``jobs - 1`` worker processes (default: all cores when the work
        is large enough to pay for starting workers, else 1).
    progress : bool
        Show a progress bar.
    **fit_kwargs
        Passed to `mgrisk.cox.fit_prepared` (e.g. ``ties``).
    """
    if n_boot < 1:
        raise InputError(f"n_boot={n_boot}: need at least 1 bootstrap replicate")
    if prepared.cluster is None:
        units, n_units = np.arange(prepared.n), prepared.n
    else:
        units = prepared.to_caller(prepared.cluster)
        n_units = int(units.max()) + 1
    base = prepared.to_caller(prepared.weights)
    fit_kwargs = {"on_failure": "raise", **fit_kwargs}
    if jobs is None:
        jobs = (os.cpu_count() or 1) if n_boot * prepared.n > 2_000_000 else 1
    chunks = [range(s, min(n_boot, s + CHUNK)) for s in range(0, n_boot, CHUNK)]
    p = prepared.X.shape[1]
    coef = np.full((n_boot, p), np.nan)
    cov = np.full((n_boot, p, p), np.nan)
    bar = tqdm(total=n_boot, desc="bootstrap", unit="fit", disable=not progress, leave=False)
    args = (prepared, units, n_units, base, fit_kwargs)
    for indices, c, v in run_chunks(partial(_run_chunk, seed), chunks, jobs, _init_worker, args):
        coef[indices.start : indices.stop] = c
        cov[indices.start : indices.stop] = v
        bar.update(len(indices))
    bar.close()
    return BootstrapFits(coef, cov, seed)
