"""The model checks as methods of a fitted `DoseResponse` (a mixin: the analysis's data,
fit and cache are the instance's): proportional hazards (cox.zph), concordance, dfbeta and
influence, time-varying effects, the functional form. Each result is computed once."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._memo import memo
from ..cox import fit_prepared
from ..errors import InputError
from ..splines import rcs_basis

__all__ = ["ModelCheckMethods"]


class ModelCheckMethods:
    """Model checks of a `DoseResponse` (see the class for the attributes they read)."""

    def _checkable(self, what: str) -> None:
        if self.settings.model != "cause-specific":
            raise InputError(
                f"{what}: available for the cause-specific Cox model; this fit is Fine-Gray "
                "(refit with model='cause-specific')"
            )
        if self.imputation is not None:
            raise InputError(
                f"{what}: not available for a fit pooled over imputations; check the model on "
                "one completed data set"
            )

    @memo
    def ph_test(self, transform: str = "km", terms: bool = True) -> pd.DataFrame:
        """Score tests of proportional hazards per term and GLOBAL, as ``survival::cox.zph``
        (the spline as one term with ``terms=True``); see `mgrisk.checks.ph.ph_test`."""
        from .ph import ph_test

        self._checkable("ph_test")
        terms_ = self.design.terms if terms else None
        return ph_test(self.prepared, self.cox, terms_, transform, self._zph(transform))

    @memo
    def schoenfeld(self, transform: str = "km", terms: bool = True) -> pd.DataFrame:
        """Scaled Schoenfeld residuals per event (as ``cox.zph(...)$y``) with time, transformed
        time, stratum and row; see `mgrisk.checks.ph.scaled_schoenfeld`."""
        from .ph import scaled_schoenfeld

        self._checkable("schoenfeld")
        terms_ = self.design.terms if terms else None
        return scaled_schoenfeld(self.prepared, self.cox, terms_, transform, self._zph(transform))

    @memo
    def _zph(self, transform: str):
        """The parts the PH test and the Schoenfeld residuals share (computed once)."""
        from .ph import zph_parts

        return zph_parts(self.prepared, self.cox, transform)

    @memo
    def concordance(self):
        """Harrell's C with R's standard error (``survival::concordance``)."""
        from .concordance import concordance

        self._checkable("concordance")
        return concordance(self.prepared, self.cox)

    def _ids(self) -> pd.Index:
        """The person of each dfbeta row: cluster labels (sorted) or the analysed rows."""
        s = self.settings
        if s.cluster is not None:
            return pd.Index(np.unique(self.cohort.frame[s.cluster]), name=s.cluster)
        return self.cohort.frame.index

    @memo
    def dfbeta(self) -> pd.DataFrame:
        """Approximate change of every coefficient when a person (cluster, or row) is left
        out, as R's ``residuals(fit, "dfbeta", collapse = cluster)``."""
        self._checkable("dfbeta")
        return pd.DataFrame(self.cox.dfbeta(), index=self._ids(), columns=self.cox.names)

    def _refit_without(self, ids: list) -> tuple[np.ndarray, np.ndarray]:
        s, frame = self.settings, self.cohort.frame
        who = frame[s.cluster] if s.cluster is not None else pd.Series(frame.index, frame.index)
        w = self.prepared.to_caller(self.prepared.weights)
        w = np.where(who.isin(ids).to_numpy(), 0.0, w)
        self.n_fits += 1
        fit = fit_prepared(
            self.prepared.with_weights(w), ties=s.ties, robust=s.robust, init=self.cox.beta
        )
        cols = self.spline_cols
        return fit.beta[cols], fit.vcov[np.ix_(cols, cols)]

    @memo
    def influence(
        self, top: int = 10, rule: str = "delta", delta: float = 0.1, level: float = 0.95
    ) -> pd.DataFrame:
        """The ``top`` most influential people on the curve (dfbeta) and the nadir and corridor
        ends refitted without each, and without all of them; see
        `mgrisk.checks.influence.influence_table`."""
        from .influence import influence_table

        dfb = self.dfbeta()
        return influence_table(
            list(dfb.index),
            dfb.to_numpy()[:, self.spline_cols],
            self.curve,
            self._refit_without,
            top=top,
            rule=rule,
            delta=delta,
            level=level,
        )

    @memo
    def time_varying(self, g: str = "log"):
        """The model with spline x g(time) interactions (R's ``tt()``); see
        `mgrisk.checks.timevarying.fit_time_varying`."""
        from .timevarying import fit_time_varying

        self._checkable("time_varying")
        self.n_fits += 1
        return fit_time_varying(
            self.prepared, self.cox, self.spline_cols, self.knots, g, ties=self.settings.ties
        )

    def hr_curve_by_time(
        self, times=(70, 80, 90), grid=None, ref=None, g: str = "log", level: float = 0.95
    ) -> pd.DataFrame:
        """HR curves of the exposure at each of ``times`` (the analysis's time scale, e.g. ages)
        from the model with spline x g(time) interactions, and in ``attrs`` the Wald test of
        all interaction terms (``interaction_test``).

        Examples
        --------
        >>> from mgrisk import fit_dose_response, simulate_cohort
        >>> fit = fit_dose_response(simulate_cohort("rotterdam", n=2000, seed=1), "mg",
        ...                         "exit", "event", entry="entry", adjust="female")
        >>> curves = fit.hr_curve_by_time(times=[70, 80, 90])
        >>> sorted(curves.time.unique().tolist())
        [70.0, 80.0, 90.0]
        """
        from .timevarying import hr_by_time

        grid = self.curve.grid() if grid is None else grid
        r = self.reference_value(ref)
        return hr_by_time(self.time_varying(g), times, grid, r, level)

    @memo
    def martingale_check(self, n_points: int = 101) -> pd.DataFrame:
        """Therneau's functional-form check: martingale residuals of the model without the
        exposure smoothed against it, with the fitted spline overlaid; see
        `mgrisk.checks.functional_form.martingale_check`."""
        from ..doseresponse import event_indicator
        from .functional_form import martingale_check, martingale_residuals

        self._checkable("martingale_check")
        adj = [c for c in range(len(self.coef)) if c not in self.spline_cols]
        if adj:  # the stored adjustment columns, from the full model's coefficients
            prepared = self.prepared.select(adj)
            self.n_fits += 1
            null = fit_prepared(prepared, ties=self.settings.ties, init=self.cox.beta[adj])
            beta, prepared = null.beta_scaled, null.data
        else:
            prepared, beta = self.prepared, np.zeros(len(self.coef))
        M = martingale_residuals(prepared, beta, self.settings.ties == "efron")
        event = event_indicator(self.cohort.frame, self.settings)
        grid = self.curve.grid(n_points)
        fitted = rcs_basis(grid, self.knots) @ self.curve.coef
        return martingale_check(self.x, event, M, fitted, grid)
