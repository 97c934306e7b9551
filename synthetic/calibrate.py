"""Calibrate the shipped scenarios to their published targets (deterministic: fixed seeds).

Run: python synthetic/calibrate.py [NAME ...]   (all calibrated scenarios by default)

For each scenario, the parameters marked ``(calibrated)`` in its TOML file are solved for, one
target at a time and in rounds until all hold together:

- ``age_mean``: the mean of the normal truncated to [age_min, age_max] equals the target mean
  age at entry (closed form, scipy's truncnorm);
- ``dementia_lambda``: the share of people with incident dementia equals cases / n;
- ``follow_up_max``: the median follow-up equals the target;
- the effect curve: the population quintile HRs (a Cox model on quintile dummies, age as the time
  scale with delayed entry, adjusted for the scenario's covariates, on POP people) equal the
  targets.

The values reached are written back into the file (``reached = [...]``) and printed.
"""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

from mgrisk.cox import fit_cox
from mgrisk.scenario import load_scenario
from mgrisk.simulate import simulate_cohort

HERE = Path(__file__).parent
POP = 2_000_000  # people in the "very large population" the HR targets refer to
SEED = 20170516

TARGETS = {
    # name: mean age, dementia cases / n (or None), median follow-up (or None), free effect
    # parameters. The quintile HR targets and their reference are the TOML's [targets].
    "rotterdam": dict(
        age=64.9, cases=823 / 9569, follow_up=7.8, free=("curvature_low", "curvature_high")
    ),
    "copenhagen": dict(
        age=None, cases=None, follow_up=None, free=("curvature_low", "curvature_high")
    ),
    # ARIC's median follow-up (24.2 y) cannot be reached with these competing death and
    # dementia hazards: fewer than half stay event-free that long. Follow-up is set, not solved.
    "aric": dict(age=None, cases=2519 / 12040, follow_up=None, free=("curvature_low",)),
}


def quintile_hrs(cohort: pd.DataFrame, scenario, ref: int) -> dict[int, float]:
    """Population quintile HRs vs the reference quintile, adjusted, age as the time scale."""
    x = cohort[scenario.exposure].to_numpy()
    cat = np.searchsorted(np.quantile(x, [0.2, 0.4, 0.6, 0.8]), x, side="left") + 1
    others = [q for q in range(1, 6) if q != ref]
    X = pd.DataFrame({f"Q{q}": (cat == q).astype(float) for q in others})
    for name in scenario.covariate_names:
        X[name] = cohort[name].astype(float)
    fit = fit_cox(X, cohort.exit, cohort.event == 1, entry=cohort.entry)
    return {q: float(np.exp(fit.coef[f"Q{q}"])) for q in others}


def calibrate(name: str) -> tuple[object, list[str]]:
    s = load_scenario(name)
    target = {**TARGETS[name], "hr": s.quintile_hr, "ref": s.reference_quintile}
    if target["age"] is not None:
        lo, hi = s.age_min, s.age_max

        def mean_gap(mu):
            a, b = (lo - mu) / s.age_sd, (hi - mu) / s.age_sd
            return stats.truncnorm.mean(a, b, loc=mu, scale=s.age_sd) - target["age"]

        s = replace(s, age_mean=float(optimize.brentq(mean_gap, lo - 20, hi)))
    for _ in range(3):
        if target["cases"] is not None:

            def share_gap(log_lam, s=s):
                c = simulate_cohort(
                    replace(s, dementia_lambda=float(np.exp(log_lam))), n=1_000_000, seed=SEED
                )
                return (c.event == 1).mean() - target["cases"]

            log_lam = np.log(s.dementia_lambda)
            s = replace(
                s,
                dementia_lambda=float(
                    np.exp(optimize.brentq(share_gap, log_lam - 3, log_lam + 3, xtol=1e-6))
                ),
            )
        if target["follow_up"] is not None:

            def fu_gap(top, s=s):
                c = simulate_cohort(replace(s, follow_up_max=top), n=1_000_000, seed=SEED)
                return (c.exit - c.entry).median() - target["follow_up"]

            s = replace(
                s,
                follow_up_max=float(
                    optimize.brentq(fu_gap, s.follow_up_min + 0.1, 80.0, xtol=1e-4)
                ),
            )

        def hr_gap(params, s=s, free=target["free"], hr=target["hr"]):
            effect = replace(s.effect, **dict(zip(free, np.abs(params), strict=True)))
            c = simulate_cohort(replace(s, effect=effect), n=POP, seed=SEED)
            hrs = quintile_hrs(c, s, target["ref"])
            return [np.log(hrs[q]) - np.log(hr[q]) for q in sorted(hr)]

        free = target["free"]
        start = [getattr(s.effect, p) for p in free]
        # HRs from common random numbers are piecewise constant at tiny scales: a 1 % step
        # gives a meaningful Jacobian
        sol = optimize.least_squares(
            hr_gap, start, bounds=(0.0, 500.0), diff_step=0.01, xtol=1e-8, ftol=1e-10
        )
        s = replace(s, effect=replace(s.effect, **dict(zip(free, sol.x, strict=True))))
    cohort = simulate_cohort(s, n=POP, seed=SEED)
    hrs = quintile_hrs(cohort, s, target["ref"])
    small = simulate_cohort(s, seed=SEED)
    reached = [
        f"Q{q} vs Q{target['ref']} HR {hrs[q]:.3f} (population of {POP:,})"
        for q in sorted(target["hr"])
    ]
    reached.append(f"{int((small.event == 1).sum())} dementia cases of {len(small):,}")
    reached.append(f"median follow-up {(small.exit - small.entry).median():.2f} y")
    reached.append(f"mean age at entry {small.entry.mean():.2f}")
    return s, reached


def write_back(s, reached: list[str]) -> None:
    path = Path(s.path)
    text = path.read_text()
    values = {
        "age_mean": s.age_mean,
        "dementia_lambda": s.dementia_lambda,
        "follow_up_max": s.follow_up_max,
        "curvature_low": s.effect.curvature_low,
        "curvature_high": s.effect.curvature_high,
    }
    for key, value in values.items():
        text = re.sub(
            rf"(?m)^({key} = )[^#\n]*(# \(calibrated\))",
            lambda m, v=value: f"{m.group(1)}{v:.6g}   {m.group(2)}",
            text,
            count=1,
        )
    line = "reached = [" + ", ".join(f'"{r}"' for r in reached) + "]"
    if re.search(r"(?m)^reached = .*$", text):
        text = re.sub(r"(?m)^reached = .*$", lambda m: line, text, count=1)
    else:
        text = re.sub(r"(?m)^(calibrated = .*)$", lambda m: m.group(1) + "\n" + line, text, count=1)
    path.write_text(text)


if __name__ == "__main__":
    for name in sys.argv[1:] or list(TARGETS):
        scenario, reached = calibrate(name)
        write_back(scenario, reached)
        print(f"{name}: " + "; ".join(reached))
