"""Model files (``models/*.toml``): a named analysis a user can run on their data.

Schema (every key is checked; an unknown or mistyped key names the key and the file)::

    name = "rotterdam_mg_dementia"
    description = "..."
    source = "..."

    [model]
    exposure = "mg"            # column (any name)
    unit = "mmol/L"            # optional: the exposure's unit, for texts and figures
    time = "exit"              # exit column (age at the end of follow-up with entry)
    entry = "entry"            # optional: entry column (age as the time scale)
    event = "event"            # codes: 0 censored, 1.. causes
    cause = 1                  # the event of interest
    adjust = "female + egfr"   # optional formula (mgrisk.formula grammar; never run as code)
    knots = 4                  # number of knots, or a list of knots
    reference = "median"       # "median", "nadir" or a number
    time_unit = "years"        # "years", "months", "weeks" or "days"
    hazard = "cause-specific"  # or "fine-gray" (subdistribution hazards)
    ties = "efron"             # or "breslow"
    near_ties = "merge"        # "merge" as R survival::coxph, "keep" as rms::cph
    quantiles = 5              # categories of the quantile table
    nadir_ci = "inversion"     # "inversion", "bootstrap" or "delta"

    [corridor]
    rule = "delta"             # "delta" (HR vs nadir <= 1 + delta) or "ci"
    delta = 0.1
    level = 0.95

    [bootstrap]
    n = 0                      # replicates for nadir/corridor CIs (0: none)
    seed = 2017
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from ._toml import Reader, read_toml, shipped_dir
from .errors import InputError

__all__ = ["Model", "load_model", "model_names"]


@dataclass(frozen=True)
class Model:
    """A validated analysis specification; CLI flags override its fields."""

    name: str
    exposure: str
    time: str
    event: str
    description: str = ""
    source: str = ""
    unit: str | None = None
    entry: str | None = None
    cause: int = 1
    adjust: str | None = None
    knots: int | tuple[float, ...] = 4
    reference: str | float = "median"
    ties: str = "efron"
    time_unit: str = "years"
    hazard: str = "cause-specific"
    timefix: bool = True
    quantiles: int = 5
    nadir_ci: str | None = None  # None: bootstrap with bootstrap replicates, else inversion
    corridor_rule: str = "delta"
    corridor_delta: float = 0.1
    corridor_level: float = 0.95
    bootstrap: int = 0
    seed: int = 2017

    def override(self, **changes) -> Model:
        """A copy with the given (non-None) fields replaced."""
        known = {f.name for f in fields(self)}
        values = {k: v for k, v in changes.items() if v is not None and k in known}
        return Model(**{**{f.name: getattr(self, f.name) for f in fields(self)}, **values})


def _choice(reader: Reader, key: str, choices: tuple, default: str = ""):
    """A text key that must be one of ``choices`` (None when absent and no default)."""
    value = reader.get(key, str, default=default)
    if value == "" and not default:
        return None
    if value not in choices:
        reader._fail(key, f"= {value!r}; use one of {', '.join(map(repr, choices))}")
    return value


def model_names() -> list[str]:
    return sorted(p.stem for p in shipped_dir("models").glob("*.toml"))


def load_model(name_or_path: str | Path) -> Model:
    """Load a shipped model by name or a model file by path."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = shipped_dir("models") / f"{name_or_path}.toml"
        if not path.exists():
            raise InputError(f"model {name_or_path!r} not found; shipped models: {model_names()}")
    if not path.exists():
        raise InputError(f"model file {path} not found")
    doc = read_toml(path)
    top = Reader(doc, "model file", str(path))
    m = Reader(top.get("model", dict), "model", str(path))
    c = Reader(top.get("corridor", dict, default={}), "corridor", str(path))
    b = Reader(top.get("bootstrap", dict, default={}), "bootstrap", str(path))
    knots = m.table.get("knots", 4)
    if isinstance(knots, list):
        knots = tuple(float(k) for k in m.get("knots", list, of=float))
    else:
        knots = m.get("knots", int, default=4, lo=3, hi=10)
    if isinstance(m.table.get("reference", "median"), str):
        reference = m.get("reference", str, default="median")
    else:
        reference = m.get("reference")
    rule = _choice(c, "rule", ("delta", "ci"), "delta")
    model = Model(
        name=top.get("name", str, default=path.stem),
        description=top.get("description", str, default=""),
        source=top.get("source", str, default=""),
        exposure=m.get("exposure", str),
        unit=m.get("unit", str, default="") or None,
        time=m.get("time", str),
        event=m.get("event", str),
        entry=m.get("entry", str, default="") or None,
        cause=m.get("cause", int, default=1, lo=1),
        adjust=m.get("adjust", str, default="") or None,
        knots=knots,
        reference=reference,
        ties=_choice(m, "ties", ("efron", "breslow"), "efron"),
        time_unit=_choice(m, "time_unit", ("years", "months", "weeks", "days"), "years"),
        hazard=_choice(m, "hazard", ("cause-specific", "fine-gray"), "cause-specific"),
        timefix=_choice(m, "near_ties", ("merge", "keep"), "merge") == "merge",
        quantiles=m.get("quantiles", int, default=5, lo=2, hi=20),
        nadir_ci=_choice(m, "nadir_ci", ("inversion", "bootstrap", "delta")),
        corridor_rule=rule,
        corridor_delta=c.get("delta", default=0.1, lo=0),
        corridor_level=c.get("level", default=0.95, lo=0.5, hi=0.999),
        bootstrap=b.get("n", int, default=0, lo=0, hi=100_000),
        seed=b.get("seed", int, default=2017, lo=0),
    )
    for reader in (top, m, c, b):
        reader.done()
    return model
