"""Multiple imputation: chained equations (`impute`) and pooling by Rubin's rules.

`impute` completes a cohort m times (predictive mean matching, the outcome in the imputation
model); ``fit_dose_response(data=[...])`` fits each completed data set and pools
(`pooled.PooledDoseResponse`); `pool.rubin` and `pool.d1_test` are the rules themselves.
"""

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
