"""Results computed once: a method's value kept on its instance, per arguments."""

from __future__ import annotations

import functools

__all__ = ["memo"]


def memo(method):
    """Compute a method's result once per arguments and keep it in the instance's ``_memo``
    dict (e.g. a `DoseResponse` analysis: the Python API and a run share the same numbers)."""

    @functools.wraps(method)
    def once(self, *args, **kwargs):
        key = (method.__name__, args, tuple(sorted(kwargs.items())))
        if key not in self._memo:
            self._memo[key] = method(self, *args, **kwargs)
        return self._memo[key]

    return once
