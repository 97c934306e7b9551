"""Cox proportional hazards models: prepared data, numba kernels, Newton fits, results."""

from .fit import fit_cox, fit_prepared
from .prepare import PreparedCox, prepare_cox
from .result import CoxResult, Test

__all__ = ["CoxResult", "PreparedCox", "Test", "fit_cox", "fit_prepared", "prepare_cox"]
