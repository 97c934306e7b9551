"""mgrisk: dose-response and U-curve risk modelling in cohort data."""

from .errors import ConvergenceError, ConvergenceWarning, InputError, MgriskError, SplineWarning
from .splines import RCSTransformer, rcs, rcs_basis, rcs_column_names, rcs_knots, rcs_restate

__version__ = "0.1.0"

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "InputError",
    "MgriskError",
    "RCSTransformer",
    "SplineWarning",
    "rcs",
    "rcs_basis",
    "rcs_column_names",
    "rcs_knots",
    "rcs_restate",
]
