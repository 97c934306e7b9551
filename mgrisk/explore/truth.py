"""The true curve a teacher sets with the explorer's controls, as an mgrisk `Scenario`.

A truth has a shape (U, J, L, flat, increasing), a nadir and a steepness on each side. The
steepness is read where people can picture it: the true HR at ``STEEPNESS_AT`` (0.1 mmol/L,
about 1.5 SD of serum Mg) below and above the nadir, against the nadir. U and J curves are the
scenario file's ``quadratic`` effect (a bowl of half-width ``BOWL`` around the nadir, straight
beyond it, as the shipped Rotterdam scenario: a restricted cubic spline is linear in its tails),
so the simulator and the closed forms here describe one curve:

- within the bowl, log HR = c (x - nadir)^2, so log HR(nadir -/+ d) = c d^2 for d <= BOWL;
- beyond it, log HR = c w (2 d - w) with w = BOWL, hence c = log(HR) / (w (2 d - w)).

U and J differ only in their default steepness (a J is a U with one gentle side); L rises below
the nadir and is flat above it; increasing is log-linear, its steepness the HR per 0.1 mmol/L
(the nadir control is then its reference, where the HR is 1); flat has no effect.

The rest of the cohort (ages, hazards, competing death, covariates) is the shipped Rotterdam
scenario, with one confounder made strong enough to see: diuretics lower serum Mg and raise the
risk (latent correlation -0.6 with Mg, HR 2.7; 15 % take them), so the adjustment control
visibly matters: without it the default U comes out as a reverse J (low Mg looks worse).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ..errors import InputError
from ..scenario import MAX_LOG_HR, Effect, Scenario, load_scenario

__all__ = [
    "BOWL",
    "PRESETS",
    "SHAPES",
    "STEEPNESS_AT",
    "Truth",
    "build_scenario",
    "curvature_for",
    "true_effect",
]

SHAPES = ("U", "J", "L", "flat", "increasing")
#: Where each side's steepness is read: HR at nadir -/+ 0.1 mmol/L (~1.5 SD of serum Mg).
STEEPNESS_AT = 0.1
#: Half-width of the quadratic bowl (mmol/L); the curve is straight beyond nadir -/+ BOWL.
BOWL = 0.06
#: Default (HR below, HR above) of each shape; the Rotterdam scenario reaches about 1.33 / 1.44.
PRESETS = {
    "U": (1.35, 1.35),
    "J": (1.1, 1.7),
    "L": (1.7, 1.0),
    "flat": (1.0, 1.0),
    "increasing": (1.0, 1.3),
}
#: The confounder the adjustment control switches: (name, latent correlation with Mg, log HR).
CONFOUNDER = ("diuretics", -0.6, 1.0)
#: The largest steepness the controls accept (an HR of 5 at 0.1 mmol/L from the nadir).
MAX_STEEPNESS = 5.0


@dataclass(frozen=True)
class Truth:
    """A true curve as the controls set it.

    Parameters
    ----------
    shape : {"U", "J", "L", "flat", "increasing"}
    nadir : float
        Where the true HR is lowest (mmol/L); the reference (HR 1) of an increasing curve.
    hr_low, hr_high : float
        True HR at nadir - 0.1 and nadir + 0.1 mmol/L versus the nadir (>= 1). An L curve
        uses ``hr_low`` only, an increasing one ``hr_high`` only (HR per +0.1 mmol/L).
    """

    shape: str = "U"
    nadir: float = 0.85
    hr_low: float = PRESETS["U"][0]
    hr_high: float = PRESETS["U"][1]

    @property
    def true_nadir(self) -> float | None:
        """Where the true HR is lowest: the nadir of U, J and L curves (for an L, where the
        plateau starts), None for flat and increasing curves."""
        return self.nadir if self.shape in ("U", "J", "L") else None


def curvature_for(hr: float, width: float = BOWL, at: float = STEEPNESS_AT) -> float:
    """The bowl's curvature c that gives a true HR of ``hr`` at ``at`` from the nadir.

    Examples
    --------
    >>> c = curvature_for(1.35)
    >>> round(c * BOWL * (2 * STEEPNESS_AT - BOWL), 12) == round(math.log(1.35), 12)
    True
    """
    if at <= width:
        return math.log(hr) / at**2
    return math.log(hr) / (width * (2 * at - width))


def _check(truth: Truth) -> None:
    if truth.shape not in SHAPES:
        raise InputError(f"shape={truth.shape!r}: use one of {', '.join(SHAPES)}")
    for name in ("hr_low", "hr_high"):
        value = getattr(truth, name)
        if not (math.isfinite(value) and 1.0 <= value <= MAX_STEEPNESS):
            side = "below" if name == "hr_low" else "above"
            raise InputError(
                f"steepness {side} the nadir = {value:g}: give a true HR from 1 to "
                f"{MAX_STEEPNESS:g} at 0.1 mmol/L from the nadir"
            )


def true_effect(truth: Truth) -> Effect:
    """The truth as a scenario effect (what the simulator draws from).

    Examples
    --------
    >>> f = true_effect(Truth("U", 0.85, 1.35, 1.35))
    >>> round(float(np.exp(f(0.95))), 6)
    1.35
    """
    _check(truth)
    if truth.shape in ("U", "J", "L"):
        high = 0.0 if truth.shape == "L" else curvature_for(truth.hr_high)
        return Effect(
            "quadratic",
            nadir=truth.nadir,
            curvature_low=curvature_for(truth.hr_low),
            curvature_high=high,
            width_low=BOWL,
            width_high=BOWL,
        )
    if truth.shape == "increasing":
        slope = math.log(truth.hr_high) / STEEPNESS_AT
        return Effect("linear", slope=slope, reference=truth.nadir)
    return Effect("flat")


def build_scenario(
    truth: Truth, n: int = 9569, follow_up: float = 16.0, base: str = "rotterdam"
) -> Scenario:
    """The scenario the explorer simulates: ``base`` with the truth, the cohort size, the
    follow-up and the strong confounder (see the module docstring).

    Parameters
    ----------
    truth : Truth
    n : int
        People (the Rotterdam Study had 9,569).
    follow_up : float
        Longest follow-up (years): the study ends for each person at a uniform time between a
        fifth of it and all of it (Rotterdam: 3 to 16.1 years), earlier by death or loss.
    base : str
        The shipped scenario providing ages, hazards, covariates and the exposure.

    Examples
    --------
    >>> build_scenario(Truth(), n=1000).effect.shape
    'quadratic'
    """
    s = load_scenario(base)
    effect = true_effect(truth)
    if not s.exposure_min < truth.nadir < s.exposure_max:
        raise InputError(
            f"nadir = {truth.nadir:g} is outside the exposure range ({s.exposure_min:g}, "
            f"{s.exposure_max:g} {s.unit}): put it inside"
        )
    reach = np.abs(effect(np.linspace(s.exposure_min, s.exposure_max, 2001)))
    if not np.all(reach <= MAX_LOG_HR):
        raise InputError(
            f"the true curve reaches a log HR of {reach.max():.3g} within the exposure range; "
            "choose gentler sides"
        )
    if not (isinstance(n, int | np.integer) and 100 <= n <= 1_000_000):
        raise InputError(f"cohort size = {n}: give a whole number of people from 100 to 1,000,000")
    if not (math.isfinite(follow_up) and 1.0 <= follow_up <= 40.0):
        raise InputError(f"follow-up = {follow_up:g} years: choose 1 to 40 years")
    name, corr, log_hr = CONFOUNDER
    covariates = tuple(
        replace(c, corr_exposure=corr, log_hr_dementia=log_hr) if c.name == name else c
        for c in s.covariates
    )
    return replace(
        s,
        name=f"explorer ({truth.shape})",
        description=f"{truth.shape}-shaped truth set in the explorer, on the {base} cohort",
        n=int(n),
        effect=effect,
        follow_up_min=follow_up / 5.0,
        follow_up_max=float(follow_up),
        covariates=covariates,
    )
