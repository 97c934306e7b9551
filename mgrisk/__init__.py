"""mgrisk: dose-response and U-curve risk modelling in cohort data."""

from .competing import cumulative_incidence, fit_fine_gray
from .cox import CoxResult, fit_cox, prepare_cox
from .doseresponse import DoseResponse, fit_dose_response
from .errors import ConvergenceError, ConvergenceWarning, InputError, MgriskError, SplineWarning
from .scenario import Scenario, load_scenario
from .simulate import simulate_cohort
from .splines import RCSTransformer, rcs, rcs_basis, rcs_column_names, rcs_knots, rcs_restate
from .validate import StudyResult, simulation_study

__version__ = "0.1.0"

__all__ = [
    "ConvergenceError",
    "ConvergenceWarning",
    "CoxResult",
    "DoseResponse",
    "InputError",
    "MgriskError",
    "RCSTransformer",
    "Scenario",
    "SplineWarning",
    "StudyResult",
    "cumulative_incidence",
    "fit_cox",
    "fit_dose_response",
    "fit_fine_gray",
    "load_scenario",
    "prepare_cox",
    "rcs",
    "rcs_basis",
    "rcs_column_names",
    "rcs_knots",
    "rcs_restate",
    "simulate_cohort",
    "simulation_study",
]
