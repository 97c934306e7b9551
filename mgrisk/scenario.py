"""Simulation scenarios: data-generating truths written as TOML files (``synthetic/*.toml``).

Schema (every key is checked; units in brackets)::

    name = "rotterdam"                 # str
    description = "..."                # str
    source = "Kieboom 2017, doi ..."    # str: the publication the figures come from
    calibrated = ["Q1 HR 1.32", ...]   # list of str: the figures calibrate.py targets
    reached = ["Q1 HR 1.321", ...]     # list of str: what calibrate.py reached (optional)

    [targets]                          # optional: published quintile HRs
    reference_quintile = 3
    quintile_hr = { Q1 = 1.32, Q5 = 1.30 }

    [population]
    n = 9569                           # people (default of simulate_cohort)
    female_share = 0.566               # [0, 1]
    age_mean = 64.9                    # age at entry [years]: normal, truncated to
    age_sd = 9.8                       #   [age_min, age_max]
    age_min = 45.0
    age_max = 100.0

    [exposure]
    name = "mg"  unit = "mmol/L"       # column name and unit
    mean = 0.84  sd = 0.065            # normal, truncated to [min, max]
    min = 0.5    max = 1.2

    [[covariates]]                     # any number
    name = "egfr"
    kind = "normal" | "binary"         # normal: mean, sd; binary: prevalence
    mean = 75.0  sd = 15.0             # (normal)
    prevalence = 0.2                   # (binary)
    corr_exposure = 0.1                # latent-normal correlation with the exposure [-1, 1]
    log_hr_dementia = -0.005           # per unit (or for 1 vs 0)
    log_hr_death = -0.01

    [effect]                           # true log HR of the exposure on the event of interest
    shape = "quadratic" | "hinge" | "linear" | "points" | "flat"
    nadir = 0.85                       # quadratic, hinge: where the log HR is 0 and lowest
    curvature_low = 30.0               # quadratic: log HR = curvature (x - nadir)^2, with its
    curvature_high = 30.0              #   own curvature on each side of the nadir,
    width_low = 0.07  width_high = 0.07  # and straight (C1) beyond nadir -/+ width (optional)
    slope_low = -5.0  slope_high = 5.0 # hinge: slopes below and above the nadir [per mmol/L]
    slope = 2.0  reference = 0.84      # linear: slope (x - reference)
    x = [...]  log_hr = [...]          # points: linear interpolation, flat beyond the ends

    [effect_death]                     # optional, same keys: exposure effect on death

    [hazard]                           # Gompertz baselines on the age scale:
    dementia_lambda = 1e-6             #   h(t) = lambda exp(alpha t) [per year, age t]
    dementia_alpha = 0.15
    death_lambda = 3e-5
    death_alpha = 0.09

    [censoring]
    follow_up_min = 4.0                # administrative end: entry + uniform(min, max) [years]
    follow_up_max = 12.0
    loss_rate = 0.005                  # random loss to follow-up [per year, exponential]

Overrides change a scenario for one study without editing its file: dotted keys of the file
(``effect.curvature_low``, ``censoring.follow_up_max``, ``covariates.egfr.log_hr_dementia``
naming a covariate by its name) with TOML values (``20``, ``"hinge"``, ``[0.7, 0.9]``, or a whole
table ``{shape = "flat"}``). They are applied to the file's data and the result is validated by
the very rules a file is, so a bad override fails as a bad file does, naming the key. Setting a
key that has ``_low``/``_high`` forms (``curvature``, ``width``) sets both sides: the file's
``curvature_low``/``curvature_high`` are dropped unless overridden too.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from ._toml import Reader as _Reader
from ._toml import read_toml, shipped_dir, tomllib
from .errors import InputError

__all__ = [
    "Covariate",
    "Effect",
    "Scenario",
    "apply_overrides",
    "load_scenario",
    "parse_override",
    "scenario_names",
]

SHAPES = ("quadratic", "hinge", "linear", "points", "flat")


@dataclass(frozen=True)
class Effect:
    """A true log-HR curve of the exposure."""

    shape: str
    nadir: float = math.nan
    curvature_low: float = 0.0
    curvature_high: float = 0.0
    width_low: float = math.inf
    width_high: float = math.inf
    slope_low: float = 0.0
    slope_high: float = 0.0
    slope: float = 0.0
    reference: float = math.nan
    x: tuple[float, ...] = ()
    log_hr: tuple[float, ...] = ()

    @cached_property
    def pieces(self) -> tuple[np.ndarray, np.ndarray]:
        """The curve as polynomial pieces: (breaks, rows of (origin, c0, c1, c2)). Piece k
        holds from breaks[k - 1] (inclusive) to breaks[k]: log HR = c0 + c1 d + c2 d^2 with
        d = x - origin. The simulator's kernel evaluates these very pieces."""
        c = self.nadir
        if self.shape == "quadratic":  # straight (C1) beyond nadir -/+ width
            lo, hi = self.curvature_low, self.curvature_high
            wl, wh = self.width_low, self.width_high
            breaks, rows = [c], [(c, 0.0, 0.0, lo), (c, 0.0, 0.0, hi)]
            if math.isfinite(wl):
                breaks.insert(0, c - wl)
                rows.insert(0, (c - wl, lo * wl**2, -2.0 * lo * wl, 0.0))
            if math.isfinite(wh):
                breaks.append(c + wh)
                rows.append((c + wh, hi * wh**2, 2.0 * hi * wh, 0.0))
        elif self.shape == "hinge":
            breaks, rows = [c], [(c, 0.0, self.slope_low, 0.0), (c, 0.0, self.slope_high, 0.0)]
        elif self.shape == "linear":
            breaks, rows = [], [(self.reference, 0.0, self.slope, 0.0)]
        elif self.shape == "points":  # linear interpolation, flat beyond the ends
            x, y = self.x, self.log_hr
            breaks = list(x)
            rows = [(x[0], y[0], 0.0, 0.0)]
            rows += [
                (x[k], y[k], (y[k + 1] - y[k]) / (x[k + 1] - x[k]), 0.0) for k in range(len(x) - 1)
            ]
            rows.append((x[-1], y[-1], 0.0, 0.0))
        else:
            breaks, rows = [], [(0.0, 0.0, 0.0, 0.0)]
        return np.array(breaks, dtype=float), np.array(rows, dtype=float)

    def __call__(self, x) -> np.ndarray:
        """The true log HR at x (0 at the nadir, or at ``reference`` for a linear shape)."""
        breaks, rows = self.pieces
        x = np.asarray(x, dtype=float)
        origin, c0, c1, c2 = rows[np.searchsorted(breaks, x, side="right")].T
        d = x - origin
        return c0 + d * (c1 + d * c2)

    @property
    def true_nadir(self) -> float | None:
        """Where the true HR is lowest, when that is a single interior point."""
        if self.shape in ("quadratic", "hinge"):
            return self.nadir
        if self.shape == "points" and len(self.x) > 2:
            k = int(np.argmin(self.log_hr))
            return self.x[k] if 0 < k < len(self.x) - 1 else None
        return None


@dataclass(frozen=True)
class Covariate:
    name: str
    kind: str
    mean: float = 0.0
    sd: float = 1.0
    prevalence: float = 0.5
    corr_exposure: float = 0.0
    log_hr_dementia: float = 0.0
    log_hr_death: float = 0.0


@dataclass(frozen=True)
class Scenario:
    """A validated simulation scenario (see the module docstring for the schema)."""

    name: str
    description: str
    source: str
    path: str
    n: int
    female_share: float
    age_mean: float
    age_sd: float
    age_min: float
    age_max: float
    exposure: str
    unit: str
    exposure_mean: float
    exposure_sd: float
    exposure_min: float
    exposure_max: float
    effect: Effect
    effect_death: Effect
    dementia_lambda: float
    dementia_alpha: float
    death_lambda: float
    death_alpha: float
    follow_up_min: float
    follow_up_max: float
    loss_rate: float
    covariates: tuple[Covariate, ...] = ()
    female_log_hr_dementia: float = 0.0
    female_log_hr_death: float = 0.0
    calibrated: tuple[str, ...] = field(default=())
    reached: tuple[str, ...] = field(default=())
    reference_quintile: int = 3
    quintile_hr: dict = field(default_factory=dict)  # published targets {1: 1.32, 5: 1.30}
    overrides: tuple[tuple[str, object], ...] = ()  # (dotted key, value) applied to the file

    def with_overrides(self, overrides: Mapping[str, object]) -> Scenario:
        """This scenario's file with ``overrides`` on top of the ones it already has, validated.

        Parameters
        ----------
        overrides : mapping of str to a TOML value
            Dotted keys of the scenario file (see the module docstring) and their new values.

        Examples
        --------
        >>> weak = load_scenario("rotterdam").with_overrides({"effect.curvature_low": 20})
        >>> weak.effect.curvature_low
        20.0
        """
        return load_scenario(self.path, {**dict(self.overrides), **dict(overrides)})

    @property
    def covariate_names(self) -> list[str]:
        return ["female", *[c.name for c in self.covariates]]

    def adjust_formula(self) -> str:
        """The adjustment for the scenario's covariates (age is the time scale)."""
        return " + ".join(self.covariate_names)


def _shipped_dir() -> Path:
    return shipped_dir("synthetic")


def scenario_names() -> list[str]:
    """Names of the scenarios shipped with mgrisk."""
    return sorted(p.stem for p in _shipped_dir().glob("*.toml"))


#: Columns the simulator writes itself: no exposure or covariate may take these names.
RESERVED = ("id", "entry", "exit", "event", "female", "true_log_hr")
#: Largest |log HR| a true curve may reach over the exposure range (an HR of about 5e8):
#: beyond it every person has the event at once and the scenario measures nothing.
MAX_LOG_HR = 20.0
#: Largest covariate mean or SD: beyond it a value is not a measurement (rescale the unit).
LARGEST = 1e9


def _effect(table: dict, where: str, path: str, lo: float, hi: float) -> Effect:
    r = _Reader(table, where, path)
    shape = r.get("shape", str)
    if shape not in SHAPES:
        r._fail("shape", f"= {shape!r}; use one of {SHAPES}")
    kw: dict = {"shape": shape}
    if shape in ("quadratic", "hinge"):
        kw["nadir"] = r.get("nadir")
        if not lo < kw["nadir"] < hi:
            r._fail(
                "nadir",
                f"= {kw['nadir']:g} is outside the exposure range ({lo:g}, {hi:g}) "
                "([exposure] min and max): put the nadir inside it",
            )
    if shape == "quadratic":
        both = r.get("curvature", default=math.nan, lo=0)
        kw["curvature_low"] = r.get("curvature_low", default=both, lo=0)
        kw["curvature_high"] = r.get("curvature_high", default=both, lo=0)
        if math.isnan(kw["curvature_low"]) or math.isnan(kw["curvature_high"]):
            r._fail("curvature", "is missing (or give curvature_low and curvature_high)")
        width = r.get("width", default=math.inf, lo=0)
        kw["width_low"] = r.get("width_low", default=width, lo=0)
        kw["width_high"] = r.get("width_high", default=width, lo=0)
    if shape == "hinge":
        kw["slope_low"] = r.get("slope_low")
        kw["slope_high"] = r.get("slope_high")
    if shape == "linear":
        kw["slope"] = r.get("slope")
        kw["reference"] = r.get("reference")
    if shape == "points":
        xs, ys = r.get("x", list, of=float), r.get("log_hr", list, of=float)
        if len(xs) != len(ys) or len(xs) < 2 or np.any(np.diff(xs) <= 0):
            r._fail("x", "and log_hr must be lists of equal length >= 2, x increasing")
        kw["x"], kw["log_hr"] = tuple(map(float, xs)), tuple(map(float, ys))
    r.done()
    effect = Effect(**kw)
    with np.errstate(all="ignore"):
        reach = np.abs(effect(np.linspace(lo, hi, 2001)))
    if not np.all(reach <= MAX_LOG_HR):
        r._fail(
            "shape",
            f"curve reaches a log HR of {np.nanmax(reach):.3g} within the exposure range; keep "
            f"|log HR| <= {MAX_LOG_HR:g} (smaller curvatures or slopes)",
        )
    return effect


def _name(r: _Reader, key: str) -> str:
    name = r.get(key, str)
    if not name.isidentifier() or name in RESERVED:
        why = (
            f"is a column the simulator writes ({', '.join(RESERVED)})"
            if name in RESERVED
            else ("is not a valid column name")
        )
        r._fail(key, f"= {name!r} {why}: use letters, digits and _ (e.g. 'mg', 'egfr')")
    return name


def _within(r: _Reader, key: str, value: float, lo: float, hi: float, what: str) -> None:
    if not lo <= value <= hi:
        r._fail(key, f"= {value:g} is outside {what} [{lo:g}, {hi:g}]: put it inside")


#: A dotted key of a scenario file: names separated by dots.
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
#: A bare word given as a value (``shape=hinge``): taken as text.
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_VALUE_HELP = 'numbers (20, 1e-6), text ("hinge"), lists ([0.7, 0.9]) or tables ({shape = "flat"})'


def parse_override(text: str) -> tuple[str, object]:
    """``"key=value"`` -> (key, value): a dotted key and a TOML value (parsed as data, never run).

    A bare word (``effect.shape=hinge``) is text; ``true``/``false``, numbers, quoted text,
    lists and inline tables are as in TOML.

    Examples
    --------
    >>> parse_override("effect.curvature_low=20")
    ('effect.curvature_low', 20)
    >>> parse_override("effect.shape=hinge")
    ('effect.shape', 'hinge')
    """
    key, eq, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not eq or not _KEY.fullmatch(key):
        raise InputError(
            f"override {text!r}: write KEY=VALUE with a dotted key of the scenario file, "
            "e.g. effect.curvature_low=20"
        )
    if not raw or "\n" in raw or "\r" in raw:
        raise InputError(f"override {text!r}: give one value after '=', e.g. {key}=20")
    try:
        value = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        if _WORD.fullmatch(raw):
            return key, raw
        raise InputError(
            f"override {text!r}: {raw!r} is not a TOML value; use {_VALUE_HELP}"
        ) from None
    if set(value) != {"v"}:  # pragma: no cover - one line parses to one key
        raise InputError(f"override {text!r}: give one value after '='")
    return key, value["v"]


def apply_overrides(doc: dict, overrides: Mapping[str, object], where: str = "scenario") -> dict:
    """A copy of a scenario file's data with ``overrides`` (dotted keys) set; not validated.

    ``covariates.NAME.key`` sets a key of the covariate called NAME. Setting ``curvature`` or
    ``width`` drops the table's ``_low``/``_high`` forms unless they are overridden too.
    """
    doc = copy.deepcopy(doc)
    for key, value in overrides.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise InputError(
                f"{where}: override key {key!r} is not a dotted key of the scenario file, "
                "e.g. effect.curvature_low"
            )
        parts = key.split(".")
        table, k = doc, 0
        while k < len(parts) - 1:
            part = parts[k]
            if isinstance(table.get(part), list):  # [[covariates]]: the next part is a name
                names = [c.get("name") for c in table[part] if isinstance(c, dict)]
                if k + 2 >= len(parts) or parts[k + 1] not in names:
                    raise InputError(
                        f"{where}: override {key!r}: after '{part}.' name one of {names} and "
                        f"a key, e.g. {part}.{names[0] if names else 'NAME'}.KEY"
                    )
                table, k = table[part][names.index(parts[k + 1])], k + 2
                continue
            table = table.setdefault(part, {})  # a table the file leaves to its defaults
            if not isinstance(table, dict):
                raise InputError(
                    f"{where}: override {key!r}: '{'.'.join(parts[: k + 1])}' is a value, "
                    "not a table"
                )
            k += 1
        last = parts[-1]
        table[last] = value
        for side in (f"{key}_low", f"{key}_high"):
            if side not in overrides:
                table.pop(side.rsplit(".", 1)[-1], None)
    return doc


def load_scenario(
    name_or_path: str | Path, overrides: Mapping[str, object] | None = None
) -> Scenario:
    """Load and validate a scenario: a shipped name (``"rotterdam"``) or a path to a TOML file.

    Parameters
    ----------
    name_or_path : str or Path
    overrides : mapping of str to a TOML value, optional
        Dotted keys of the file and their values for this study (see the module docstring),
        validated as the file is: ``{"effect.curvature_low": 20, "censoring.follow_up_max": 8}``.

    Examples
    --------
    >>> load_scenario("rotterdam").n
    9569
    >>> load_scenario("rotterdam", {"population.n": 40000}).n
    40000
    """
    candidate = Path(name_or_path)
    if candidate.suffix != ".toml":
        candidate = _shipped_dir() / f"{name_or_path}.toml"
        if not candidate.exists():
            raise InputError(
                f"scenario {name_or_path!r} not found; shipped scenarios: {scenario_names()} "
                "(or give a path to a .toml file)"
            )
    if not candidate.exists():
        raise InputError(f"scenario file {candidate} not found")
    path = str(candidate)
    doc = read_toml(candidate)
    if overrides:
        shown = ", ".join(f"{k}={v!r}" for k, v in overrides.items())
        label = f"{path} (overrides: {shown})"
        doc = apply_overrides(doc, overrides, label)
        scenario = _validate(doc, path, label)
        return replace(scenario, overrides=tuple(overrides.items()))
    return _validate(doc, path, path)


def _validate(doc: dict, path: str, label: str) -> Scenario:
    """The scenario in a file's data, every key checked; errors name ``label`` (the file)."""
    top = _Reader(doc, "", label)
    top.where = "scenario"
    pop = _Reader(top.get("population", dict), "population", label)
    exp = _Reader(top.get("exposure", dict), "exposure", label)
    haz = _Reader(top.get("hazard", dict), "hazard", label)
    cen = _Reader(top.get("censoring", dict), "censoring", label)
    tgt = _Reader(top.get("targets", dict, default={}), "targets", label)
    ref_q = tgt.get("reference_quintile", int, default=3, lo=1, hi=5)
    raw = tgt.get("quintile_hr", dict, default={})
    if any(
        k not in {f"Q{q}" for q in range(1, 6)}
        or isinstance(v, bool)
        or not isinstance(v, int | float)
        or v <= 0
        for k, v in raw.items()
    ):
        tgt._fail("quintile_hr", f"= {raw}: use Q1..Q5 = positive hazard ratios")
    targets = {int(k[1]): float(v) for k, v in raw.items()}
    exposure_min, exposure_max = exp.get("min"), exp.get("max")
    if not exposure_min < exposure_max:
        exp._fail("min", f"= {exposure_min:g} must be below max = {exposure_max:g}")
    age_min, age_max = pop.get("age_min", lo=0, hi=120), pop.get("age_max", lo=0, hi=130)
    if not age_min < age_max:
        pop._fail("age_min", f"= {age_min:g} must be below age_max = {age_max:g}")
    exposure_mean, age_mean = exp.get("mean"), pop.get("age_mean", lo=0, hi=120)
    _within(exp, "mean", exposure_mean, exposure_min, exposure_max, "[exposure] min and max")
    _within(pop, "age_mean", age_mean, age_min, age_max, "age_min and age_max")
    covs = []
    for i, table in enumerate(top.get("covariates", list, default=[])):
        c = _Reader(table, f"covariates[{i}]", label)
        kind = c.get("kind", str)
        if kind not in ("normal", "binary"):
            c._fail("kind", f"= {kind!r}; use 'normal' or 'binary'")
        cov = Covariate(
            name=_name(c, "name"),
            kind=kind,
            mean=c.get("mean", default=0.0, lo=-LARGEST, hi=LARGEST) if kind == "normal" else 0.0,
            sd=c.get("sd", default=1.0, above=0, hi=LARGEST) if kind == "normal" else 1.0,
            prevalence=c.get("prevalence", default=0.5, lo=0, hi=1) if kind == "binary" else 0.5,
            corr_exposure=c.get("corr_exposure", default=0.0, lo=-0.99, hi=0.99),
            log_hr_dementia=c.get("log_hr_dementia", default=0.0),
            log_hr_death=c.get("log_hr_death", default=0.0),
        )
        c.done()
        spread = 6 * cov.sd if kind == "normal" else 1.0  # 6 SDs: the extremes of 10^9 people
        for key in ("log_hr_dementia", "log_hr_death"):
            if abs(getattr(cov, key)) * spread > MAX_LOG_HR:
                c._fail(
                    key,
                    f"= {getattr(cov, key):g} gives log HRs beyond +-{MAX_LOG_HR:g} "
                    f"(over 6 SDs of {cov.name}): use a smaller effect or a smaller sd",
                )
        covs.append(cov)
    scenario = Scenario(
        name=top.get("name", str),
        description=top.get("description", str, default=""),
        source=top.get("source", str, default=""),
        path=path,
        n=pop.get("n", int, lo=1, hi=10**9),
        female_share=pop.get("female_share", lo=0, hi=1),
        age_mean=age_mean,
        age_sd=pop.get("age_sd", above=0),
        age_min=age_min,
        age_max=age_max,
        female_log_hr_dementia=pop.get(
            "female_log_hr_dementia", default=0.0, lo=-MAX_LOG_HR, hi=MAX_LOG_HR
        ),
        female_log_hr_death=pop.get(
            "female_log_hr_death", default=0.0, lo=-MAX_LOG_HR, hi=MAX_LOG_HR
        ),
        exposure=_name(exp, "name"),
        unit=exp.get("unit", str, default=""),
        exposure_mean=exposure_mean,
        exposure_sd=exp.get("sd", above=0),
        exposure_min=exposure_min,
        exposure_max=exposure_max,
        effect=_effect(top.get("effect", dict), "effect", label, exposure_min, exposure_max),
        effect_death=_effect(
            top.get("effect_death", dict, default={"shape": "flat"}),
            "effect_death",
            label,
            exposure_min,
            exposure_max,
        ),
        # Gompertz h(t) = lambda exp(alpha t) on the age scale: alpha per year of age (ageing
        # raises the hazard by 8-16 % a year for dementia and death), lambda per year
        dementia_lambda=haz.get("dementia_lambda", above=0, hi=1),
        dementia_alpha=haz.get("dementia_alpha", lo=0, hi=1),
        death_lambda=haz.get("death_lambda", lo=0, hi=1),
        death_alpha=haz.get("death_alpha", lo=0, hi=1),
        follow_up_min=cen.get("follow_up_min", lo=0, hi=100),
        follow_up_max=cen.get("follow_up_max", above=0, hi=100),
        loss_rate=cen.get("loss_rate", default=0.0, lo=0, hi=10),
        covariates=tuple(covs),
        calibrated=tuple(top.get("calibrated", list, default=[])),
        reached=tuple(top.get("reached", list, default=[])),
        reference_quintile=ref_q,
        quintile_hr=targets,
    )
    for reader in (top, pop, exp, haz, cen, tgt):
        reader.done()
    if scenario.follow_up_min > scenario.follow_up_max:
        cen._fail(
            "follow_up_min",
            f"= {scenario.follow_up_min:g} exceeds follow_up_max = {scenario.follow_up_max:g}",
        )
    names = [*scenario.covariate_names, scenario.exposure]
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice is not None:
        raise InputError(
            f"{label}: the name {twice!r} is used twice (exposure and covariates, or two "
            "covariates); give each a name of its own"
        )
    return scenario
