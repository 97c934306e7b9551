"""numba kernel of the cohort simulator (plain arrays only).

Randomness is counter-based: person i's draws are SplitMix64 outputs at counters
i * STRIDE + 0, 1, 2, ... of the seed's stream, so they depend on the seed and the person
alone, never on the number of threads or the order people are processed in. Each person takes,
in order: age at entry and exposure (truncated normals, by rejection), the covariates' latent
normals, sex, the dementia and the death time, the administrative end and the loss time.
Normals come in pairs (Marsaglia's polar method, Box-Muller after three rejections).
"""

import numpy as np
from numba import njit, prange

from .._threads import threaded_from

__all__ = ["MAX_COVARIATES", "seed_key", "simulate"]

MAX_COVARIATES = 8
#: Normals tried for a truncated normal before it is clamped to its range.
TRUNCATION_TRIES = 10
#: Counters per person: at most 14 pairs of normals (10 tries for each truncated normal, 8
#: covariates) of at most 8 counters each, and 5 uniforms: 117 at most.
STRIDE = 128
#: Shortest follow-up (years, about an hour): an event sooner is recorded then, as in data
#: recorded to the hour; sooner exits would be merged with the entry by R's timefix.
MIN_FOLLOW_UP = 1e-4
#: People from which the kernel uses all threads (below, starting threads costs more).
PARALLEL_PEOPLE = 100_000
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit
def _uniform(key, counter):
    """Uniform in (0, 1): SplitMix64's output at ``counter`` of the stream seeded by key."""
    z = _mix(key + np.uint64(counter) * _GOLDEN)
    return (np.float64(np.int64(z >> np.uint64(11))) + 0.5) * 1.1102230246251565e-16  # 2**-53


@njit
def _normal_pair(key, c):
    """Two independent standard normals from counters c, c + 1, ...; returns them and the next
    free counter (at most c + 8)."""
    for _ in range(3):  # polar method: accepted with probability pi / 4
        u = 2.0 * _uniform(key, c) - 1.0
        v = 2.0 * _uniform(key, c + 1) - 1.0
        c += 2
        q = u * u + v * v
        if 0.0 < q < 1.0:
            f = np.sqrt(-2.0 * np.log(q) / q)
            return u * f, v * f, c
    r = np.sqrt(-2.0 * np.log(_uniform(key, c)))  # Box-Muller, on fresh uniforms
    t = 2.0 * np.pi * _uniform(key, c + 1)
    return r * np.cos(t), r * np.sin(t), c + 2


@njit
def _next_normal(key, c, spare):
    """The next standard normal: the spare of the last pair if there is one (not NaN)."""
    if spare == spare:
        return spare, c, np.nan
    z, spare, c = _normal_pair(key, c)
    return z, c, spare


@njit
def _truncated_normal(key, c, spare, lo, hi):
    """Standard normal restricted to [lo, hi] by rejection (then clamped)."""
    z = 0.0
    for _ in range(TRUNCATION_TRIES):
        z, c, spare = _next_normal(key, c, spare)
        if lo <= z <= hi:
            break
    return min(max(z, lo), hi), c, spare


@njit
def _piecewise(x, breaks, pieces):
    """`Effect.__call__` at x, from `Effect.pieces`."""
    k = 0
    while k < breaks.size and x >= breaks[k]:
        k += 1
    d = x - pieces[k, 0]
    return pieces[k, 1] + d * (pieces[k, 2] + d * pieces[k, 3])


@njit
def _gompertz_time(a0, u, lam, alpha, eta):
    """Age at the event for someone event-free at a0: inverse of the Gompertz cumulative hazard
    H(t) = lam exp(eta) (exp(alpha t) - 1) / alpha, conditional on t > a0 (Bender et al. 2005)."""
    if lam <= 0.0:
        return np.inf
    if alpha == 0.0:
        return a0 - np.log(u) / (lam * np.exp(eta))
    return a0 + np.log1p(-alpha * np.log(u) / (lam * np.exp(eta + alpha * a0))) / alpha


@threaded_from(PARALLEL_PEOPLE)
def _people(
    n,
    key,
    pop,
    cov_kind,
    cov,
    breaks1,
    pieces1,
    breaks2,
    pieces2,
    hazard,
    censoring,
    floats,
    ints,
    covs,
):
    """Person i's draws and outcomes into column i of floats, ints and covs (one loop body:
    a call per person with these many array arguments would cost more than its draws)."""
    for i in prange(n):
        c = i * STRIDE
        spare = np.nan
        z, c, spare = _truncated_normal(key, c, spare, pop[2], pop[3])
        a0 = pop[0] + pop[1] * z
        zx, c, spare = _truncated_normal(key, c, spare, pop[6], pop[7])
        x = pop[4] + pop[5] * zx
        log_hr = _piecewise(x, breaks1, pieces1)
        female = 1 if _uniform(key, c) < pop[8] else 0
        c += 1
        eta1 = log_hr + hazard[4] * female
        eta2 = _piecewise(x, breaks2, pieces2) + hazard[5] * female
        for j in range(cov_kind.size):
            e, c, spare = _next_normal(key, c, spare)
            z = cov[2, j] * zx + cov[3, j] * e
            if cov_kind[j] == 0:
                v = cov[0, j] + cov[1, j] * z
            else:
                v = 1.0 if z > cov[0, j] else 0.0
            covs[j, i] = v
            eta1 += cov[5, j] * (v - cov[4, j])
            eta2 += cov[6, j] * (v - cov[4, j])
        t1 = _gompertz_time(a0, _uniform(key, c), hazard[0], hazard[1], eta1)
        t2 = _gompertz_time(a0, _uniform(key, c + 1), hazard[2], hazard[3], eta2)
        end = a0 + censoring[0] + (censoring[1] - censoring[0]) * _uniform(key, c + 2)
        if censoring[2] > 0.0:
            end = min(end, a0 - np.log(_uniform(key, c + 3)) / censoring[2])
        if t1 <= t2 and t1 <= end:
            exit_, event = t1, 1
        elif t2 < t1 and t2 <= end:
            exit_, event = t2, 2
        else:
            exit_, event = end, 0
        exit_ = max(exit_, a0 + MIN_FOLLOW_UP)
        floats[0, i], floats[1, i], floats[2, i], floats[3, i] = a0, exit_, x, log_hr
        ints[0, i], ints[1, i] = event, female


def seed_key(seed: int) -> np.uint64:
    """The stream key of a seed (any integer)."""
    mask = 0xFFFFFFFFFFFFFFFF
    z = (seed & mask) ^ 0x5851F42D4C957F2D
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return np.uint64(z ^ (z >> 31))


def simulate(key, n, pop, cov_kind, cov, effects, hazard, censoring):
    """Draw n people. Returns floats (4, n): age at entry, exit age, exposure, true log HR;
    ints (2, n): event (0 censored, 1 dementia, 2 death), female (0/1); covariates (p, n).

    pop: age mean, sd, lower and upper bound (in SDs), the same of the exposure, female share.
    cov (7, p): per covariate a, b (normal: mean, sd; binary: a = the latent normal's threshold),
    the latent normal's correlation r with the exposure's and sqrt(1 - r^2), the value its log
    HRs are centred at, log HR for dementia, for death; cov_kind: 0 normal, 1 binary.
    effects: (breaks, pieces) of the exposure's effect on dementia and on death
    (`Effect.pieces`). hazard: Gompertz lambda,
    alpha of dementia, of death, female log HR of each. censoring: follow-up min, max (years),
    loss rate (per year). The competing events come from independent latent times, which gives
    exactly the cause-specific hazards of the scenario.
    """
    floats = np.empty((4, n))
    ints = np.empty((2, n), dtype=np.int64)
    covs = np.empty((cov_kind.size, n))
    _people(n, key, pop, cov_kind, cov, *effects, hazard, censoring, floats, ints, covs)
    return floats, ints, covs
