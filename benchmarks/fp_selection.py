"""How often the function selection procedure finds a known FP2 truth, and its exact powers.

Truth: log HR = -3 log x + 0.3 x^2 (FP2 powers 0 and 2, minimum at x = 2.24), x ~ uniform(0.3,
4), age adjustment, exponential event times, uniform censoring (about 30 % events); the same
generator as tests/test_sensitivity.py. Monte Carlo SE of a rate p: sqrt(p (1 - p) / reps).

Run: ``PYTHONPATH=. python benchmarks/fp_selection.py`` (100 replicates of 4,000 people).
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


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=1000)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    picks = Counter()
    for i in range(args.reps):
        fit = fit_dose_response(
            _fp2_cohort(args.n, args.seed + i), "x", "time", "event", adjust="age"
        )
        sel = select_fp(fit)
        picks[(sel.selected, sel.chosen.powers if sel.chosen else None)] += 1
    fp2 = sum(v for (s, _), v in picks.items() if s == "FP2") / args.reps
    exact = picks[("FP2", (0.0, 2.0))] / args.reps
    mc = lambda p: np.sqrt(p * (1 - p) / args.reps)  # noqa: E731
    print(f"{args.reps} replicates of {args.n}: {time.perf_counter() - t0:.0f} s")
    print(
        f"FP2 selected: {fp2:.3f} (MC SE {mc(fp2):.3f}); with powers (0, 2): {exact:.3f} "
        f"(MC SE {mc(exact):.3f})"
    )
    print("most frequent choices:", picks.most_common(5))


if __name__ == "__main__":
    main()
