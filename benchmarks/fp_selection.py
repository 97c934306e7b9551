"""How often the function selection procedure finds a known FP2 truth, and its exact powers, by n.

Truth: log HR = -3 log x + 0.3 x^2 (FP2 powers 0 and 2, minimum at x = 2.24), x ~ uniform(0.3,
4), age adjustment (0.03 per year), exponential event times (rate 0.05 exp(log HR)), uniform
censoring on (0, 15): about 31 % of people have the event. The same generator as
tests/test_sensitivity.py. The procedure (`mgrisk.fracpoly.select_fp`, alpha 0.05) compares the
best of the 36 FP2 power pairs with the null (4 df), the linear (3 df) and the best FP1 (2 df)
partial-likelihood deviances. Recorded per n: the share of replicates selecting an FP2, and
selecting FP2 with exactly the powers (0, 2); Monte Carlo SE of a rate p: sqrt(p (1 - p) /
reps).

Measured (seed 1000, 500 replicates per n; FP2 selected in every replicate at every n; rate of
exactly (0, 2), MC SE): n 1,000 (308 events) 0.250 (0.019); 2,000 (616) 0.382 (0.022); 4,000
(1,232) 0.556 (0.022); 8,000 (2,463) 0.740 (0.020); 16,000 (4,928) 0.854 (0.016). The runner-up
is (0.5, 1), nearly the same curve on (0.3, 4). "Most replicates" holds from about 1,200 events.

Set ``NUMBA_NUM_THREADS=1`` for n >= 10,000 (threaded Cox kernels): with numba's TBB layer,
repeated threaded fits slow down run after run (0.5 s to 15 s a replicate over 55 replicates of
16,000 here; constant 0.14 s on one thread).

Run: ``PYTHONPATH=. python benchmarks/fp_selection.py`` (fast: 40 replicates of 2,000 and
8,000) or ``NUMBA_NUM_THREADS=1 ... --reps 500 --n 1000 2000 4000 8000 16000`` (4 min).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from test_sensitivity import _fp2_cohort

from mgrisk import fit_dose_response
from mgrisk.fracpoly import select_fp

TRUE_POWERS = (0.0, 2.0)


def rates(n: int, reps: int, seed: int) -> tuple[Counter, float]:
    """Choices of the procedure over ``reps`` cohorts of ``n``, and the mean number of events."""
    picks: Counter = Counter()
    events = []
    for i in range(reps):
        d = _fp2_cohort(n, seed + i)
        events.append(d.event.sum())
        sel = select_fp(fit_dose_response(d, "x", "time", "event", adjust="age"))
        picks[(sel.selected, sel.chosen.powers if sel.chosen else None)] += 1
    return picks, float(np.mean(events))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--n", type=int, nargs="+", default=[2000, 8000])
    ap.add_argument("--seed", type=int, default=1000)
    args = ap.parse_args(argv)
    mc = lambda p: np.sqrt(p * (1 - p) / args.reps)  # noqa: E731
    for n in args.n:
        t0 = time.perf_counter()
        picks, events = rates(n, args.reps, args.seed)
        fp2 = sum(v for (s, _), v in picks.items() if s == "FP2") / args.reps
        exact = picks[("FP2", TRUE_POWERS)] / args.reps
        print(
            f"n {n:>6} ({events:,.0f} events on average), {args.reps} replicates, "
            f"{time.perf_counter() - t0:.0f} s: FP2 selected {fp2:.3f} (MC SE {mc(fp2):.3f}); "
            f"with powers (0, 2) {exact:.3f} (MC SE {mc(exact):.3f}); most frequent: "
            f"{picks.most_common(3)}"
        )


if __name__ == "__main__":
    main()
