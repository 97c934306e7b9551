"""Cox proportional hazards models: prepared data, numba kernels, Newton fits, results."""

from .._lazy import lazy_exports

#: Each public name and the submodule it comes from (imported on first use).
_EXPORTS = {
    "CoxResult": ".result",
    "PreparedCox": ".prepare",
    "Test": ".result",
    "fit_cox": ".fit",
    "fit_prepared": ".fit",
    "prepare_cox": ".prepare",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
