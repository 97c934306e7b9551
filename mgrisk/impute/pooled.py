"""The dose-response analysis of m completed data sets, pooled by Rubin's rules.

`fit_imputed` (reached through ``fit_dose_response(data=[df_1, ..., df_m], ...)``) fits the
same model to each completed data set, with the knots fixed across imputations (given, or
placed as ``rms::rcs`` on the m data sets stacked), and returns a `PooledDoseResponse`: a
`DoseResponse` whose ``cox`` is a `PooledCox` (estimates averaged, covariance the total
variance T), so ``anova`` (Wald tests with T, as ``rms::fit.mult.impute``), the pooled
`SplineCurve` (nadir, corridor, end slopes), ``results()`` and every renderer work unchanged.

Refits with other exposure columns (quantile categories, the trend, the linear model, the two
lines of the shape test) are made in every completed data set and pooled by Rubin's rules: the
columns are computed from the exposure of the m data sets stacked (so the quantile cut-points
and the two-lines breakpoint are the same in every imputation) and split back per imputation.
The quantile table's n, events and person-time are means over the imputations.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .._memo import memo
from ..doseresponse import DoseResponse, event_indicator, fit_dose_response
from ..errors import InputError
from ..quantiles import quantile_table
from ..splines import rcs_knots
from .pool import D1Test, PooledCox, d1_test, pool_cox

__all__ = ["PooledDoseResponse", "fit_imputed"]


class PooledDoseResponse(DoseResponse):
    """A `DoseResponse` pooled over m completed data sets (see the module docstring).

    ``fits`` are the per-imputation analyses; ``x`` is the exposure of all m data sets stacked
    (the curve's distribution summary, quantile cut-points, two-lines breakpoint). Not
    available: bootstrap CIs, the likelihood-ratio test (use `d1`), ``by`` and
    ``absolute_risk``.
    """

    def __init__(self, fits: list[DoseResponse], cox: PooledCox):
        first = fits[0]
        super().__init__(first.settings, first.cohort, first.design, None, cox)
        self.fits = fits
        self.m = len(fits)
        self.x = np.concatenate([f.x for f in fits])
        self.n_fits = sum(f.n_fits for f in fits)
        self.imputation = (
            f"{self.m} completed data sets analysed separately and pooled by Rubin's rules "
            "(total variance T for every test and CI; knots fixed across imputations)"
        )

    _resample_spline = None  # no bootstrap of a pooled curve

    @property
    def estimated_by(self) -> str:
        """How the curve was estimated: coefficients pooled with their total variance T."""
        return f"pooled over {self.m} imputations ({self.n:,} rows, {self.n_events:,} events each)"

    def _split(self, columns: np.ndarray) -> list[np.ndarray]:
        columns = np.asarray(columns, dtype=float)
        sizes = [f.x.size for f in self.fits]
        if columns.shape[0] != sum(sizes):
            raise InputError(
                f"pooled refit: {columns.shape[0]} rows of columns; give one row per row of the "
                f"{self.m} completed data sets stacked ({sum(sizes)})"
            )
        return np.split(columns, np.cumsum(sizes)[:-1])

    def fit_exposure(self, columns: np.ndarray, names: list[str]) -> PooledCox:
        """Refit every imputation with other exposure columns (rows: the m data sets stacked)
        plus the adjustment, and pool by Rubin's rules."""
        fits = [
            f.fit_exposure(c, names) for f, c in zip(self.fits, self._split(columns), strict=True)
        ]
        self.n_fits += len(fits)
        return pool_cox(fits, self.cox.pool.dfcom)

    @memo
    def quantile_table(self, q: int = 5, ref: str | int = "middle", level: float = 0.95):
        """The quantile table with cut-points from the stacked imputations, HRs pooled by
        Rubin's rules, and n, events and person-time averaged over the imputations."""
        s = self.settings
        event = np.concatenate([event_indicator(f.cohort.frame, s) for f in self.fits])
        time = np.concatenate([f.person_time for f in self.fits])
        qt = quantile_table(
            self.x, event, time, self.fit_exposure, q=q, ref=ref, level=level, time_unit=s.time_unit
        )
        table = qt.table.copy()
        for col in ("n", "events", "person_time"):
            table[col] = (table[col] / self.m).round(1)
        return replace(
            qt,
            table=table,
            convention=qt.convention + f"; cut-points of the {self.m} imputations stacked, n, "
            "events and person-time their means, HRs pooled by Rubin's rules",
        )

    def lr_test(self, what: str = "nonlinear"):
        raise InputError(
            "likelihood-ratio test: not available on multiply imputed data; use the Wald test "
            "with the total variance (anova) or the D1 test (d1)"
        )

    def bootstrap(self, *args, **kwargs):
        raise InputError(
            "bootstrap CIs are not available on pooled imputations; use the inversion nadir CI "
            "and delta-method corridor ends (both use the total variance T)"
        )

    def by(self, *args, **kwargs):
        raise InputError("by(): not available on pooled imputations; fit each imputation")

    def absolute_risk(self, *args, **kwargs):
        raise InputError("absolute_risk(): not available on pooled imputations")

    def refit(self, **changes) -> PooledDoseResponse:
        """The same analysis of the same completed data sets with some settings changed (a
        number of knots is placed on the stacked data sets)."""
        knots = changes.pop("knots", list(self.knots))
        if np.ndim(knots) == 0:
            knots = list(rcs_knots(self.x, int(knots)))
        return pool_dose_responses([f.refit(knots=knots, **changes) for f in self.fits])

    @memo
    def d1(self, term: str | None = None) -> D1Test:
        """The D1 pooled Wald test (as ``mice::D1``) of an ``anova`` term's coefficients: the
        exposure (default), ``"<exposure>: nonlinear"`` or an adjustment term."""
        s, design = self.settings, self.design
        term = s.exposure if term is None else term
        if term.endswith(": nonlinear") and term[: -len(": nonlinear")] in design.nonlinear:
            cols = design.nonlinear[term[: -len(": nonlinear")]]
        elif term in design.terms:
            cols = design.terms[term]
        else:
            raise InputError(
                f"d1({term!r}): not a term of the model; use one of "
                f"{list(design.terms) + [f'{t}: nonlinear' for t in design.nonlinear]}"
            )
        return d1_test(
            [f.cox.beta for f in self.fits],
            [f.cox.vcov for f in self.fits],
            list(cols),
            self.cox.pool.dfcom,
        )

    def per_imputation(self) -> pd.DataFrame:
        """Each imputation's coefficients (rows) next to the pooled ones (last row)."""
        rows = [f.cox.beta for f in self.fits] + [self.cox.beta]
        index = [f"imputation {i + 1}" for i in range(self.m)] + ["pooled"]
        return pd.DataFrame(rows, index=index, columns=self.cox.names)


def pool_dose_responses(fits: list[DoseResponse], dfcom: float | None = None):
    """Pool per-imputation `DoseResponse` fits (same settings and knots) into one."""
    return PooledDoseResponse(fits, pool_cox([f.cox for f in fits], dfcom))


def fit_imputed(
    datasets,
    exposure: str,
    time: str,
    event: str,
    *,
    knots: int | list[float] = 4,
    dfcom: float | None = None,
    **options,
) -> PooledDoseResponse:
    """Fit `fit_dose_response` to each of m completed data sets and pool by Rubin's rules.

    Parameters
    ----------
    datasets : list of pandas.DataFrame
        The m >= 2 completed data sets (e.g. from `mgrisk.impute`), same rows and columns.
    exposure, time, event, **options
        As `fit_dose_response`.
    knots : int or list of float
        Knots fixed across imputations: given, or this many placed as ``rms::rcs`` on the
        exposure of the m data sets stacked.
    dfcom : float, optional
        Complete-data degrees of freedom for the Barnard-Rubin df (default as ``mice``: events
        minus coefficients).

    Examples
    --------
    >>> completed = impute(cohort, time="exit", event="event", entry="entry", m=5, seed=1)
    ...  # doctest: +SKIP
    >>> fit = fit_dose_response(completed, "mg", "exit", "event", entry="entry",
    ...                         adjust="female + egfr")  # doctest: +SKIP
    """
    datasets = list(datasets)
    if len(datasets) < 2 or not all(isinstance(d, pd.DataFrame) for d in datasets):
        raise InputError(
            f"data: a list of {len(datasets)} item(s); give m >= 2 completed pandas DataFrames "
            "(e.g. mgrisk.impute(...)) or one DataFrame"
        )
    n = len(datasets[0])
    for i, d in enumerate(datasets[1:], start=2):
        if len(d) != n:
            raise InputError(
                f"completed data set {i}: {len(d)} rows, the first has {n}; give the m "
                "completed versions of the same cohort"
            )
    if (
        np.ndim(knots) == 0
        and not isinstance(knots, bool)
        and int(knots) == knots
        and 3 <= knots <= 10
    ):
        for i, d in enumerate(datasets, start=1):
            if exposure in d.columns and d[exposure].isna().any():
                row = int(np.flatnonzero(d[exposure].isna().to_numpy())[0]) + 1
                raise InputError(
                    f"completed data set {i}: exposure '{exposure}' is missing at row {row}; "
                    "give completed (imputed) data sets"
                )
        stacked = (
            np.concatenate(
                [pd.to_numeric(d[exposure], errors="coerce").to_numpy(float) for d in datasets]
            )
            if all(exposure in d.columns for d in datasets)
            else None
        )
        if stacked is not None:
            knots = list(rcs_knots(stacked, int(knots)))
    fits = [fit_dose_response(d, exposure, time, event, knots=knots, **options) for d in datasets]
    return pool_dose_responses(fits, dfcom)
