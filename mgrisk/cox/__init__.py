"""Cox proportional hazards models: prepared data, numba kernels, Newton fits, results.

Other packages (``mgrisk.competing``, the analysis layer) use the names exported here, never the
private modules: besides the fit, the time sorting and grouping (`argsort_times`, `time_groups`,
`TIMEFIX_TOLERANCE`) and the risk-set sums (`risk_set_sums`) the competing-risks code shares.
"""

from .._lazy import lazy_exports

#: Each public name and the submodule it comes from (imported on first use).
_EXPORTS = {
    "CoxResult": ".result",
    "PreparedCox": ".prepare",
    "TIMEFIX_TOLERANCE": ".prepare",
    "Test": ".result",
    "argsort_times": "._kernels",
    "check_survival": ".checks",
    "default_robust": ".fit",
    "efron_terms": "._kernels",
    "fit_cox": ".fit",
    "first_rows": ".checks",
    "fit_prepared": ".fit",
    "information_weights": "._kernels",
    "likelihood": ".fit",
    "prepare_cox": ".prepare",
    "residual_rows": "._kernels",
    "risk_set_sums": "._kernels",
    "risk_weights": "._kernels",
    "time_groups": "._kernels",
    "weighted_gram": "._kernels",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
