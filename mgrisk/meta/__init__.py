"""Dose-response meta-analysis of published category tables, your own cohort among them.

- `table`: the input table's validation, RR/CI conversion, dose assignment, re-referencing;
- `covariance`: within-study covariances (Greenland-Longnecker 1992, Hamling 2008);
- `models`: per-study GLS and the (RE)ML mixed model behind the two-stage and one-stage fits;
- `result`: the pooled estimate, its tests and its curve (a `mgrisk.curve.SplineCurve`);
- `fit`: `dose_response_meta`, which strings them together.
"""

from .fit import dose_response_meta, within_covariances
from .result import MetaCurve, MetaResult
from .table import MetaTable, category_doses, check_meta_table, rereference, rr_ci_to_log

__all__ = [
    "MetaCurve",
    "MetaResult",
    "MetaTable",
    "category_doses",
    "check_meta_table",
    "dose_response_meta",
    "rereference",
    "rr_ci_to_log",
    "within_covariances",
]
