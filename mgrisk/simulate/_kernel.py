"""numba kernels of the cohort simulator (plain arrays only).

Randomness is counter-based: the uniform for (person i, slot s) is a splitmix64 hash of the
seed, i and s, so each person's draws depend on the seed and the person alone, never on the
number of threads or on the order people are processed in. Slots (64 per person):
0-19 age at entry, 20-39 exposure (truncated normals by rejection, 2 uniforms an attempt),
40-55 covariates (8 at most), 56 sex, 57 dementia time, 58 death time, 59 administrative end,
60 loss to follow-up.
"""

import numpy as np
from numba import njit, prange

from .._threads import threaded_from

__all__ = ["MAX_COVARIATES", "draw_population", "draw_times"]

MAX_COVARIATES = 8
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit
def _uniform(key, i, slot):
    """Uniform in (0, 1) for person i and slot (< 64): a bijective hash of (i, slot) and key."""
    z = _mix(key ^ _mix(np.uint64(i) * np.uint64(64) + np.uint64(slot)))
    return (np.float64(z >> np.uint64(11)) + 0.5) * 1.1102230246251565e-16  # 2**-53


@njit
def _normal(key, i, slot):
    u1 = _uniform(key, i, slot)
    u2 = _uniform(key, i, slot + 1)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


@njit
def _truncated_normal(key, i, first_slot, lo, hi):
    """Standard normal restricted to [lo, hi] by rejection (10 attempts, then clamped)."""
    z = 0.0
    for attempt in range(10):
        z = _normal(key, i, first_slot + 2 * attempt)
        if lo <= z <= hi:
            return z
    return min(max(z, lo), hi)


def seed_key(seed: int) -> np.uint64:
    """The hashing key of a seed (any integer)."""
    return np.uint64(_mix_py(seed & 0xFFFFFFFFFFFFFFFF ^ 0x5851F42D4C957F2D))


def _mix_py(z: int) -> int:
    mask = 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


#: People from which the kernels use all threads (below, starting threads costs more).
PARALLEL_PEOPLE = 100_000


@njit(cache=True)
def _person(
    i,
    key,
    age,
    exposure,
    female_share,
    cov_kind,
    cov_a,
    cov_b,
    cov_corr,
    bounds,
    age0,
    female,
    x,
    covs,
):
    age0[i] = age[0] + age[1] * _truncated_normal(key, i, 0, bounds[0], bounds[1])
    zx = _truncated_normal(key, i, 20, bounds[2], bounds[3])
    x[i] = exposure[0] + exposure[1] * zx
    for j in range(cov_kind.size):
        r = cov_corr[j]
        z = r * zx + np.sqrt(1.0 - r * r) * _normal(key, i, 40 + 2 * j)
        if cov_kind[j] == 0:
            covs[i, j] = cov_a[j] + cov_b[j] * z
        else:
            covs[i, j] = 1.0 if z > cov_a[j] else 0.0
    female[i] = 1.0 if _uniform(key, i, 56) < female_share else 0.0


@threaded_from(PARALLEL_PEOPLE)
def _population(n, *args):
    for i in prange(n):
        _person(i, *args)


def draw_population(key, n, age, exposure, female_share, cov_kind, cov_a, cov_b, cov_corr):
    """Age at entry, sex, exposure and covariates of n people.

    age, exposure: (mean, sd, min, max). Covariate j: kind 0 normal (a = mean, b = sd) or
    1 binary (1 when its latent normal exceeds a, the normal quantile of 1 - prevalence); the
    latent normal has correlation cov_corr with the exposure's.
    """
    bounds = np.array(
        [
            (age[2] - age[0]) / age[1],
            (age[3] - age[0]) / age[1],
            (exposure[2] - exposure[0]) / exposure[1],
            (exposure[3] - exposure[0]) / exposure[1],
        ]
    )
    out = (np.empty(n), np.empty(n), np.empty(n), np.empty((n, cov_kind.size)))
    _population(n, key, age, exposure, female_share, cov_kind, cov_a, cov_b, cov_corr, bounds, *out)
    return out


@njit
def _gompertz_time(a0, u, lam, alpha, eta):
    """Age at the event for someone event-free at a0: inverse of the Gompertz cumulative hazard
    H(t) = lam exp(eta) (exp(alpha t) - 1) / alpha, conditional on t > a0 (Bender et al. 2005)."""
    rate = lam * np.exp(eta)
    if rate <= 0.0:
        return np.inf
    if alpha == 0.0:
        return a0 - np.log(u) / rate
    return a0 + np.log1p(-alpha * np.log(u) / (rate * np.exp(alpha * a0))) / alpha


@njit(cache=True)
def _times(i, key, age0, eta_dementia, eta_death, hazard, censoring, exit_, event):
    a0 = age0[i]
    t1 = _gompertz_time(a0, _uniform(key, i, 57), hazard[0], hazard[1], eta_dementia[i])
    t2 = _gompertz_time(a0, _uniform(key, i, 58), hazard[2], hazard[3], eta_death[i])
    end = a0 + censoring[0] + (censoring[1] - censoring[0]) * _uniform(key, i, 59)
    if censoring[2] > 0.0:
        end = min(end, a0 - np.log(_uniform(key, i, 60)) / censoring[2])
    if t1 <= t2 and t1 <= end:
        exit_[i], event[i] = t1, 1
    elif t2 < t1 and t2 <= end:
        exit_[i], event[i] = t2, 2
    else:
        exit_[i], event[i] = end, 0
    if exit_[i] <= a0:  # an event so soon that a0 + t rounds to a0: one ulp later
        exit_[i] = np.nextafter(a0, np.inf)


@threaded_from(PARALLEL_PEOPLE)
def _draw_times(n, *args):
    for i in prange(n):
        _times(i, *args)


def draw_times(key, age0, eta_dementia, eta_death, hazard, censoring):
    """Exit age and event code (0 censored, 1 dementia, 2 death) of each person.

    hazard: (dementia lambda, alpha, death lambda, alpha); censoring: (follow-up min, max,
    loss rate per year). The competing events come from independent latent times, which gives
    exactly the cause-specific hazards of the scenario.
    """
    n = age0.size
    exit_, event = np.empty(n), np.empty(n, dtype=np.int64)
    _draw_times(n, key, age0, eta_dementia, eta_death, hazard, censoring, exit_, event)
    return exit_, event
