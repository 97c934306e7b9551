"""Results computed once: a method's value kept on its instance, per arguments."""

from __future__ import annotations

import functools
import inspect

__all__ = ["memo"]


def memo(method):
    """Compute a method's result once per arguments and keep it in the instance's ``_memo``
    dict (e.g. a `DoseResponse` analysis: the Python API and a run share the same numbers).
    Arguments count as bound to the signature, defaults filled in: ``quantile_table()``,
    ``quantile_table(5)`` and ``quantile_table(q=5)`` are one call.

    >>> class Fit:
    ...     def __init__(self):
    ...         self._memo, self.fits = {}, 0
    ...     @memo
    ...     def table(self, q=5):
    ...         self.fits += 1
    ...         return q
    >>> f = Fit()
    >>> f.table(), f.table(5), f.table(q=5), f.fits
    (5, 5, 5, 1)
    """
    signature = inspect.signature(method)

    @functools.wraps(method)
    def once(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        key = (method.__name__, *(_hashable(v) for v in list(bound.arguments.values())[1:]))
        if key not in self._memo:
            self._memo[key] = method(self, *args, **kwargs)
        return self._memo[key]

    return once


def _hashable(value):
    """A ``**options`` dict as its sorted items; anything else as it is."""
    return tuple(sorted(value.items())) if isinstance(value, dict) else value
