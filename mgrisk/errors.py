"""The exceptions and warnings every mgrisk module raises.

`InputError` also subclasses `ValueError` so that code (and scikit-learn's estimator checks)
catching `ValueError` keeps working.
"""

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "InputError",
    "MgriskError",
    "MgriskWarning",
    "SplineWarning",
]


class MgriskError(Exception):
    """Base class of every error mgrisk raises on purpose."""


class InputError(MgriskError, ValueError):
    """Bad data or arguments: the message names the column, row or value and the fix."""


class ConvergenceError(MgriskError):
    """A fit did not converge; `history` holds the log-likelihood of each iteration."""

    def __init__(self, message: str, history: list[float] | None = None):
        super().__init__(message)
        self.history = list(history or [])


class MgriskWarning(UserWarning):
    """Base class of mgrisk's warnings."""


class SplineWarning(MgriskWarning):
    """The knot algorithm had to deviate from the default quantiles (as Hmisc warns)."""


class ConvergenceWarning(MgriskWarning):
    """A fit stopped without converging (raised instead of an error when asked to warn)."""
