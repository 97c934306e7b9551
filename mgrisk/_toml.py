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
    try:
        return tomllib.loads(Path(path).read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None


class Reader:
    """Reads typed keys from a TOML table and names the key and file on any error."""

    def __init__(self, table: dict, where: str, path: str):
        if not isinstance(table, dict):
            raise InputError(f"{path}: [{where}] must be a table")
        self.table, self.where, self.path = table, where, path
        self.used: set[str] = set()

    def _fail(self, key: str, what: str):
        raise InputError(f"{self.path}: key '{self.where}.{key}' {what}")

    def get(self, key, kind=float, default=None, lo=-math.inf, hi=math.inf):
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
            if not lo <= value <= hi:
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
