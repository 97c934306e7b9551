"""scikit-learn transformer of restricted cubic splines (a module of its own: importing
scikit-learn takes about a second, which the Cox and dose-response code does not need)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .errors import InputError
from .splines import _validate_knots, rcs_basis, rcs_column_names, rcs_knots

__all__ = ["RCSTransformer"]


class RCSTransformer(TransformerMixin, BaseEstimator):
    """scikit-learn transformer: a restricted cubic spline of each input column.

    Parameters
    ----------
    n_knots : int
        Knots per column, placed as ``rms::rcs`` places them.
    knots : sequence of float, or sequence of sequences, optional
        Fixed knots (one sequence for a single column, or one per column).

    Attributes
    ----------
    knots_ : list of numpy.ndarray
        The knots of each column.

    Examples
    --------
    >>> RCSTransformer(n_knots=3).fit_transform(np.arange(10.0)[:, None]).shape
    (10, 2)
    """

    def __init__(self, n_knots: int = 4, knots=None):
        self.n_knots = n_knots
        self.knots = knots

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=float)
        if self.knots is None and X.shape[0] < 6:
            raise InputError(f"n_samples = {X.shape[0]}: at least 6 rows are needed to place knots")
        if self.knots is None:
            self.knots_ = [rcs_knots(X[:, j], self.n_knots) for j in range(X.shape[1])]
        else:
            given = [self.knots] if np.ndim(self.knots) == 1 else list(self.knots)
            if len(given) != X.shape[1]:
                raise InputError(f"knots given for {len(given)} column(s) but X has {X.shape[1]}")
            self.knots_ = [_validate_knots(k) for k in given]
        return self

    def transform(self, X):
        check_is_fitted(self, "knots_")
        X = validate_data(self, X, dtype=float, reset=False)
        return np.hstack([rcs_basis(X[:, j], k) for j, k in enumerate(self.knots_)])

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "knots_")
        if input_features is None:
            input_features = getattr(
                self, "feature_names_in_", [f"x{j}" for j in range(self.n_features_in_)]
            )
        return np.array(
            [
                c
                for f, k in zip(input_features, self.knots_, strict=True)
                for c in rcs_column_names(str(f), k.size)
            ],
            dtype=object,
        )
