"""Synthetic cohorts simulated from a scenario's known truth."""

from .cohort import simulate_cohort

__all__ = ["simulate_cohort"]
