"""Competing risks: Fine-Gray regression, Aalen-Johansen cumulative incidence, absolute risk.

- `fit_fine_gray`: the subdistribution hazards model with the results of R's
  ``survival::finegray`` + weighted ``coxph`` (Geskus weights with delayed entry), computed
  without expanding the data; ``fit_dose_response(..., model="fine-gray")`` uses it.
  `finegray_rows` gives R's expanded rows.
- `cumulative_incidence`: Aalen-Johansen curves overall or by group, CIs and Gray's test.
- `absolute_risk`: the cumulative incidence of one cause from cause-specific Cox models (as
  riskRegression::CSC + predictRisk), behind ``DoseResponse.absolute_risk``.
"""

from .absolute import absolute_risk
from .cif import CumulativeIncidence, confidence_limits, cumulative_incidence
from .finegray import (
    FineGrayRows,
    PreparedFineGray,
    finegray_rows,
    fit_fine_gray,
    prepare_fine_gray,
)

__all__ = [
    "CumulativeIncidence",
    "FineGrayRows",
    "PreparedFineGray",
    "absolute_risk",
    "confidence_limits",
    "cumulative_incidence",
    "finegray_rows",
    "fit_fine_gray",
    "prepare_fine_gray",
]
