"""Assertions for downstream test suites: is the curve's shape what it should be?

>>> from mgrisk.testing import assert_shape   # in a pytest file
>>> # assert_shape(cohort_df, expected="U", exposure="mg", time="exit", event="event",
>>> #              entry="entry", adjust="female + egfr")
"""

from __future__ import annotations

import pandas as pd

from .doseresponse import DoseResponse, fit_dose_response
from .scenario import Scenario, load_scenario
from .validate import SHAPES, Analysis, StudyResult, simulation_study

__all__ = ["assert_power", "assert_proportional_hazards", "assert_recovers", "assert_shape"]


def assert_shape(
    result_or_data, expected: str = "U", *, alpha: float = 0.05, **fit_kwargs
) -> DoseResponse:
    """Fail unless the dose-response shape verdict is ``expected``.

    Parameters
    ----------
    result_or_data : DoseResponse or pandas.DataFrame
        A fitted result, or data to fit with ``fit_kwargs`` (exposure, time, event, entry, ...).
    expected : str
        One of U, inverted-U, J, reverse-J, increasing, decreasing, flat.
    """
    fit = result_or_data
    if isinstance(result_or_data, pd.DataFrame):
        fit = fit_dose_response(result_or_data, **fit_kwargs)
    shape = fit.shape(alpha)
    if shape.verdict != expected:
        raise AssertionError(f"expected a {expected} shape, got {shape.verdict}\n{shape}")
    return fit


def assert_recovers(
    scenario: Scenario | str,
    *,
    reps: int = 50,
    n: int | None = None,
    seed: int = 0,
    analysis: Analysis | None = None,
    min_coverage: float = 0.90,
    max_nadir_bias: float | None = 0.02,
    expected_shape: str | None = None,
    min_power: float = 0.5,
    jobs: int | None = 1,
) -> StudyResult:
    """Fail unless a simulation study recovers the scenario's truth: pointwise CI coverage of
    the log-HR curve >= ``min_coverage``, |nadir bias| <= ``max_nadir_bias`` (when the truth has
    a nadir) and, if given, ``expected_shape`` in at least ``min_power`` of replicates."""
    s = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    study = simulation_study(
        s, reps=reps, n=n, seed=seed, analysis=analysis, jobs=jobs, progress=False
    )
    d = study.to_dict()
    problems = []
    if d["pointwise_coverage"] < min_coverage:
        problems.append(f"pointwise coverage {d['pointwise_coverage']:.3f} < {min_coverage}")
    if (
        max_nadir_bias is not None
        and d["nadir_bias"] is not None
        and abs(d["nadir_bias"]) > max_nadir_bias
    ):
        problems.append(
            f"nadir bias {d['nadir_bias']:+.4f} beyond +-{max_nadir_bias} "
            f"(true nadir {d['true_nadir']})"
        )
    if expected_shape is not None and d["shape_rate"][expected_shape] < min_power:
        problems.append(
            f"shape {expected_shape} in {d['shape_rate'][expected_shape]:.2f} of "
            f"replicates < {min_power}"
        )
    if problems:
        raise AssertionError(f"{s.name}: " + "; ".join(problems) + "\n" + study.summary())
    return study


def assert_proportional_hazards(
    result_or_data,
    *,
    alpha: float = 0.05,
    transform: str = "km",
    term: str = "GLOBAL",
    **fit_kwargs,
) -> DoseResponse:
    """Fail when the proportional-hazards score test (as ``survival::cox.zph``) rejects.

    Parameters
    ----------
    result_or_data : DoseResponse or pandas.DataFrame
        A fitted result, or data to fit with ``fit_kwargs``.
    alpha : float
        The test level: fail when p < alpha.
    transform : {"km", "rank", "identity", "log"}
        The function of time tested.
    term : str
        "GLOBAL" (default), or a term (the exposure's name tests its spline as one term).

    Examples
    --------
    >>> from mgrisk import simulate_cohort
    >>> cohort = simulate_cohort("rotterdam", n=2000, seed=2)
    >>> fit = assert_proportional_hazards(cohort, exposure="mg", time="exit", event="event",
    ...                                   entry="entry", alpha=0.001)
    """
    from .errors import InputError

    fit = result_or_data
    if isinstance(result_or_data, pd.DataFrame):
        fit = fit_dose_response(result_or_data, **fit_kwargs)
    if not 0 < alpha < 1:
        raise InputError(f"alpha={alpha}: a test level must be between 0 and 1, e.g. 0.05")
    table = fit.ph_test(transform, True)
    if term not in table.index:
        raise InputError(f"term={term!r}: not among the tested terms {list(table.index)}")
    p = float(table.p[term])
    if p < alpha:
        raise AssertionError(
            f"proportional hazards rejected for {term}: p = {p:.3g} < {alpha} "
            f"({transform} transform)\n{table.to_string()}"
        )
    return fit


def assert_power(
    scenario: Scenario | str,
    n,
    *,
    min_power: float | None = 0.8,
    max_rates: dict[str, float] | None = None,
    max_nadir_ci_width: float | None = None,
    reps: int = 200,
    seed: int = 0,
    expected: str | None = None,
    overrides: dict | None = None,
    analysis: Analysis | None = None,
    jobs: int | None = 1,
    scheduler: str | None = None,
):
    """Fail unless a planned study design keeps its power: a guard for CI pipelines.

    At every size in ``n`` (people), the simulated power (rate of the ``expected`` verdict,
    default the scenario's true shape) must be at least ``min_power``; each verdict in
    ``max_rates`` (e.g. ``{"U": 0.07}`` for a null scenario's false-U rate) at most its value;
    the median width of the nadir's CI (exposure units) at most ``max_nadir_ci_width``.
    Estimates, not bounds: the message gives each one's Monte Carlo SE, so choose ``reps`` to
    make it small against the margin (SE = sqrt(p (1 - p) / reps)). A fixed ``seed`` makes the
    check deterministic.

    Returns
    -------
    PowerResult

    Examples
    --------
    >>> assert_power("rotterdam", n=[20000], min_power=0.8, reps=100)  # doctest: +SKIP
    >>> assert_power("null", n=[9569], min_power=None, max_rates={"U": 0.07})  # doctest: +SKIP
    """
    from .errors import InputError
    from .power_study import power, rate_column

    for verdict, limit in (max_rates or {}).items():
        if verdict not in SHAPES:
            raise InputError(f"max_rates: {verdict!r} is not a verdict; use {', '.join(SHAPES)}")
        if not 0 <= limit <= 1:
            raise InputError(f"max_rates[{verdict!r}] = {limit}: a rate between 0 and 1")
    if min_power is not None and not 0 <= min_power <= 1:
        raise InputError(f"min_power={min_power}: a power between 0 and 1, e.g. 0.8")
    grid = power(
        scenario,
        n,
        reps=reps,
        seed=seed,
        jobs=jobs,
        scheduler=scheduler,
        analysis=analysis,
        expected=expected,
        overrides=overrides,
    )
    problems = []
    for r in grid.table.itertuples(index=False):
        if min_power is not None and r.power < min_power:
            problems.append(
                f"n {r.n:,}: power {r.power:.3f} (MC SE {r.power_se:.3f}) < {min_power} for "
                f"verdict {grid.expected}"
            )
        for verdict, limit in (max_rates or {}).items():
            rate, se = getattr(r, rate_column(verdict)), getattr(r, rate_column(verdict) + "_se")
            if rate > limit:
                problems.append(
                    f"n {r.n:,}: rate of verdict {verdict} {rate:.3f} (MC SE {se:.3f}) > {limit}"
                )
        if max_nadir_ci_width is not None and not r.nadir_ci_width <= max_nadir_ci_width:
            problems.append(
                f"n {r.n:,}: median nadir CI width {r.nadir_ci_width:.4g} > {max_nadir_ci_width}"
            )
    if problems:
        raise AssertionError(
            f"{grid.scenario.name}: " + "; ".join(problems) + "\n" + grid.summary()
        )
    return grid
