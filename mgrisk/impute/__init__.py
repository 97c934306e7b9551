"""Multiple imputation: chained equations (`impute`) and pooling by Rubin's rules.

`impute` completes a cohort m times (predictive mean matching, the outcome in the imputation
model); ``fit_dose_response(data=[...])`` fits each completed data set and pools
(`pooled.PooledDoseResponse`); `pool.rubin` and `pool.d1_test` are the rules themselves.
"""

import sys
import types

from .._lazy import lazy_exports

#: Each public name and the submodule it comes from (imported on first use).
_EXPORTS = {
    "D1Test": ".pool",
    "PooledCox": ".pool",
    "PooledDoseResponse": ".pooled",
    "RubinPool": ".pool",
    "d1_test": ".pool",
    "fit_imputed": ".pooled",
    "impute": ".chained",
    "pool_cox": ".pool",
    "rubin": ".pool",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


class _CallablePackage(types.ModuleType):
    """``mgrisk.impute`` is this package once any of its modules is imported (Python binds a
    subpackage to its parent's attribute), so the package itself calls `chained.impute`:
    ``mgrisk.impute(data, ...)`` works either way."""

    def __call__(self, *args, **kwargs):
        from .chained import impute

        return impute(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
