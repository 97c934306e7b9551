"""Size (and power) of the proportional-hazards global test on simulated cohorts.

Cohorts from ``mgrisk.simulate_cohort("rotterdam", n, seed=i)`` (age as the time scale, delayed
entry, a U-shaped Mg effect and covariates, proportional hazards by construction) are fitted
with rcs(mg, 4) and ``--adjust``; the GLOBAL score test of ``ph_test`` (cox.zph's) is counted as
rejecting when p < 0.05. The rejection rate is printed with its Monte Carlo SE
sqrt(r (1 - r) / reps); a valid test gives 0.05 (3-7 % with a few hundred replicates).

``--power`` instead makes the exposure effect change with age: the event ages are redrawn
with log-HR(mg, age) = f(mg) * (age - 60) / 20 (the effect doubles between ages 70 and 90,
zero at 60), by inverse-transform sampling on a fine age grid, and the rate is the power.

Run ``python benchmarks/sim_ph_rejection.py`` (fast default: 100 replicates of n = 3,000) or
``--reps 1000 --n 5000``. Replicate i uses seed ``seed + i``: the results do not depend on the
order or on the number of processes.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mgrisk import fit_dose_response, simulate_cohort


def _age_varying(cohort, seed: int):
    """Redraw the first-cause event ages with an effect f(mg) (age - 60) / 20 (f: the
    scenario's true log-HR); Gompertz baseline fitted to the cohort's scale."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    out = cohort.copy()
    f = out.true_log_hr.to_numpy()
    a0, end = out.entry.to_numpy(), out.exit.to_numpy()
    grid = np.linspace(a0.min(), end.max() + 1e-9, 800)
    lam, alpha = 2e-4, 0.09  # baseline hazard 2e-4 exp(0.09 (age - 50)): ~10 % by 80
    age_eff = (grid - 60) / 20
    h = lam * np.exp(alpha * (grid[None, :] - 50) + f[:, None] * age_eff[None, :])
    H = np.concatenate([np.zeros((len(f), 1)), np.cumsum(np.diff(grid) * h[:, 1:], axis=1)], 1)
    H0 = np.array([np.interp(a, grid, Hi) for a, Hi in zip(a0, H, strict=True)])
    target = H0 - np.log(rng.random(len(f)))
    t = np.array(
        [np.interp(x, Hi, grid) if x < Hi[-1] else np.inf for x, Hi in zip(target, H, strict=True)]
    )
    out["event"] = (t <= end).astype(int)
    out["exit"] = np.minimum(t, end)
    return out[out.exit > out.entry]


def one(i: int, args) -> float:
    cohort = simulate_cohort("rotterdam", n=args.n, seed=args.seed + i)
    if args.power:
        cohort = _age_varying(cohort, args.seed + i)
    fit = fit_dose_response(cohort, "mg", "exit", "event", entry="entry", adjust=args.adjust)
    return float(fit.ph_test(args.transform, True).p["GLOBAL"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=20240518)
    ap.add_argument("--adjust", default="female + egfr + diuretics + education_low")
    ap.add_argument("--transform", default="km")
    ap.add_argument("--power", action="store_true", help="effect doubling between 70 and 90")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    p = np.array([one(i, args) for i in range(args.reps)])
    r = float(np.mean(p < 0.05))
    se = np.sqrt(r * (1 - r) / args.reps)
    what = "power" if args.power else "rejection rate (size)"
    print(
        f"{args.reps} cohorts of n = {args.n:,} (seeds {args.seed}..{args.seed + args.reps - 1}), "
        f"rcs(mg, 4) + {args.adjust}, {args.transform} transform: GLOBAL {what} at 0.05 = "
        f"{r:.3f} (Monte Carlo SE {se:.3f}); mean p = {p.mean():.3f}; "
        f"{time.perf_counter() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
