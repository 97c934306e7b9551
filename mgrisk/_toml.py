"""Shared TOML reading for scenario and model files: typed keys, errors naming key and file."""

from __future__ import annotations

import math
import sys
from importlib import resources
from pathlib import Path

from .errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Reader", "read_toml", "shipped_dir"]


def shipped_dir(kind: str) -> Path:
    """Folder of shipped TOML files (``models`` or ``synthetic``): inside an installed wheel,
    or the repository's top-level folder for an editable install."""
    packaged = resources.files("mgrisk") / "_shipped" / kind
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[1] / kind


def read_toml(path: Path) -> dict:
    """Parse a TOML file (data only: nothing in it is ever run), one line on any problem."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a .toml file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(
            f"{path}: is not UTF-8 text; save it as UTF-8 (TOML files must be)"
        ) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({(exc.strerror or str(exc)).lower()})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc}); a truncated or mistyped file?") from None


class Reader:
    """Reads typed keys from a TOML table and names the key and file on any error."""

    def __init__(self, table: dict, where: str, path: str):
        if not isinstance(table, dict):
            raise InputError(f"{path}: [{where}] must be a table")
        self.table, self.where, self.path = table, where, path
        self.used: set[str] = set()

    def _fail(self, key: str, what: str):
        raise InputError(f"{self.path}: key '{self.where}.{key}' {what}")

    def get(self, key, kind=float, default=None, lo=-math.inf, hi=math.inf, *, above=None, of=None):
        """The value of ``key`` checked: its type (``kind``), ``lo <= value <= hi``,
        ``value > above`` and, for a list, the type of its items (``of``: float or str)."""
        if above is not None and isinstance(self.table.get(key), int | float):
            value = self.table[key]
            if not isinstance(value, bool) and math.isfinite(value) and not value > above:
                self._fail(key, f"= {value:g} must be above {above:g}: give a positive value")
        value = self._get(key, kind, default, lo, hi)
        if of is not None and key in self.table:
            if of is float:
                bad = [v for v in value if isinstance(v, bool) or not isinstance(v, int | float)]
                bad = bad or [v for v in value if not math.isfinite(v)]
                if bad:
                    self._fail(key, f"must be a list of numbers, got {bad[0]!r} in it")
                value = [float(v) for v in value]
            elif not all(isinstance(v, of) for v in value):
                self._fail(key, f"must be a list of {of.__name__}, got {value!r}")
        return value

    def _get(self, key, kind, default, lo, hi):
        self.used.add(key)
        if key not in self.table:
            if default is None:
                self._fail(key, "is missing")
            return default
        value = self.table[key]
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                self._fail(key, f"must be a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                self._fail(key, f"must be a finite number, got {value}")
            if not lo <= value <= hi:
                if lo == -math.inf:
                    self._fail(key, f"= {value:g} must be at most {hi:g}")
                if hi == math.inf:
                    self._fail(key, f"= {value:g} must be at least {lo:g}")
                self._fail(key, f"= {value} is outside [{lo}, {hi}]")
        elif kind is int:
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                self._fail(key, f"must be a whole number in [{lo}, {hi}], got {value!r}")
        elif kind is str:
            if not isinstance(value, str):
                self._fail(key, f"must be text, got {value!r}")
        elif kind is list:
            if not isinstance(value, list):
                self._fail(key, f"must be a list, got {value!r}")
        elif kind is dict:
            if not isinstance(value, dict):
                self._fail(key, f"must be a table, got {value!r}")
        return value

    def done(self):
        unknown = set(self.table) - self.used
        if unknown:
            self._fail(sorted(unknown)[0], f"is not a known key (known: {sorted(self.used)})")
