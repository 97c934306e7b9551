"""Simulator speed: 1M people (delayed entry, 4 covariates, competing death) vs numpy's floor.

The floor is numpy drawing six uniform arrays of n (what any simulator of this cohort must at
least do). Prints medians after warm-up, the ratio to the floor, and scaling from 10k to 10M.
Run: python benchmarks/bench_simulate.py [--max 10000000]
"""

import argparse
import statistics
import time

import numpy as np

from mgrisk import load_scenario, simulate_cohort


def median_time(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max", type=int, default=10_000_000)
    args = parser.parse_args()
    scenario = load_scenario("rotterdam")
    rng = np.random.default_rng(0)
    header = ("people", "mgrisk (ms)", "6 uniforms (ms)", "ratio", "ns/person")
    print("{:>12} {:>12} {:>16} {:>6} {:>10}".format(*header))
    for n in (10_000, 100_000, 1_000_000, 10_000_000):
        if n > args.max:
            break
        reps = 3 if n >= 10_000_000 else 7
        ours = median_time(lambda n=n: simulate_cohort(scenario, n=n, seed=1), reps)
        floor = median_time(lambda n=n: [rng.random(n) for _ in range(6)], reps)
        print(
            f"{n:>12,} {ours * 1e3:>12.1f} {floor * 1e3:>16.1f} {ours / floor:>6.1f} "
            f"{ours / n * 1e9:>10.0f}"
        )


if __name__ == "__main__":
    main()
