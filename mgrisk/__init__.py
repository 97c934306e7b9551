"""mgrisk: dose-response and U-curve risk modelling in cohort data."""

from ._lazy import lazy_exports

__version__ = "0.1.0"

#: Each public name and the submodule it comes from (imported on first use).
_EXPORTS = {
    "ConvergenceError": ".errors",
    "ConvergenceWarning": ".errors",
    "CoxResult": ".cox",
    "DoseResponse": ".doseresponse",
    "InputError": ".errors",
    "MgriskError": ".errors",
    "RCSTransformer": ".transformer",
    "Scenario": ".scenario",
    "SplineWarning": ".errors",
    "StudyResult": ".validate",
    "cumulative_incidence": ".competing",
    "dose_response_meta": ".meta",
    "evalue": ".evalues",
    "fit_cox": ".cox",
    "fit_dose_response": ".doseresponse",
    "fit_fine_gray": ".competing",
    "impute": ".impute",
    "load_scenario": ".scenario",
    "power": ".power_study",
    "plot_imputed_vs_complete": ".plot",
    "plot_sensitivity": ".plot",
    "prepare_cox": ".cox",
    "rcs": ".splines",
    "rcs_basis": ".splines",
    "rcs_column_names": ".splines",
    "rcs_knots": ".splines",
    "rcs_restate": ".splines",
    "select_fp": ".fracpoly",
    "sensitivity_panel": ".sensitivity",
    "simulate_cohort": ".simulate",
    "simulation_study": ".validate",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
