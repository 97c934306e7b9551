"""CoxResult: the immutable outcome of a Cox fit; derived figures are computed when asked."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.special import chdtrc, ndtr, ndtri

if TYPE_CHECKING:
    from .fit import CoxLikelihood, NewtonState
    from .prepare import PreparedCox

__all__ = ["CoxResult", "Test"]


@dataclass(frozen=True)
class Test:
    """A chi-square test: statistic, degrees of freedom and p-value."""

    chi2: float
    df: int
    p: float

    @classmethod
    def of(cls, chi2: float, df: int) -> Test:
        return cls(float(chi2), int(df), float(chdtrc(df, chi2)))


@dataclass(frozen=True, eq=False)
class CoxResult:
    """A fitted Cox model (coefficients on the scale of the covariates as given).

    Attributes
    ----------
    coef, se : pandas.Series
        Log hazard ratios and their standard errors (robust ones when the fit was robust, as R's
        ``summary.coxph`` reports them; `model_se` has the model-based ones).
    cov : pandas.DataFrame
        Model-based covariance (inverse information), R's ``fit$naive.var`` when robust.
    loglik : numpy.ndarray
        Log partial likelihood at zero and at the estimate (R's ``fit$loglik``).
    n, n_events, n_iter, converged
    """

    data: PreparedCox
    model: CoxLikelihood
    beta_scaled: np.ndarray
    cov_scaled: np.ndarray
    final_loglik: float
    null: tuple | None  # (loglik, score, information) at zero, evaluated when first needed
    n_iter: int
    converged: bool
    robust: bool
    history: tuple[float, ...]

    @classmethod
    def from_fit(
        cls, data, model, state: NewtonState, cov_scaled, null, *, robust: bool
    ) -> CoxResult:
        return cls(
            data=data,
            model=model,
            beta_scaled=state.beta,
            cov_scaled=cov_scaled,
            final_loglik=state.loglik,
            null=null,
            n_iter=state.n_iter,
            converged=state.converged,
            robust=robust,
            history=tuple(state.history),
        )

    @cached_property
    def _at_zero(self) -> tuple:
        """Log-likelihood, score and information at zero (a likelihood pass when not kept)."""
        if self.null is not None:
            return self.null
        return self.model.evaluate(np.zeros(self.beta_scaled.size))

    @cached_property
    def loglik(self) -> np.ndarray:
        """Log partial likelihood at zero and at the estimate (R's ``fit$loglik``)."""
        return np.array([self._at_zero[0], self.final_loglik])

    @cached_property
    def score_null(self) -> float:
        """The score test statistic at zero."""
        _, u0, i0 = self._at_zero
        try:
            return float(u0 @ np.linalg.solve(i0, u0))
        except np.linalg.LinAlgError:
            return np.nan

    # --- coefficients and variances -------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return self.data.names

    @cached_property
    def beta(self) -> np.ndarray:
        """`coef` as a plain array."""
        return self.beta_scaled / self.data.scale

    @cached_property
    def vcov(self) -> np.ndarray:
        """`variance` (robust when the fit was robust) as a plain array."""
        if self.robust:
            return self.robust_cov.to_numpy()
        return self.cov_scaled / np.outer(self.data.scale, self.data.scale)

    @cached_property
    def coef(self) -> pd.Series:
        return pd.Series(self.beta, index=self.names, name="coef")

    @cached_property
    def cov(self) -> pd.DataFrame:
        s = self.data.scale
        return pd.DataFrame(self.cov_scaled / np.outer(s, s), index=self.names, columns=self.names)

    @cached_property
    def robust_cov(self) -> pd.DataFrame | None:
        """Sandwich covariance (R's ``fit$var`` with ``robust=TRUE`` or ``cluster()``)."""
        if not self.robust:
            return None
        d = self.data
        L, _, _ = self._residuals
        U = L * d.weights[:, None]  # weighted score residuals; the dfbetas are U @ cov_scaled
        if d.cluster is not None:
            U = pd.DataFrame(U).groupby(d.cluster, sort=False).sum().to_numpy()
        # cov (U'U) cov: the same sandwich as D'D with D = U cov, without the n x p x p product
        # (a tall-skinny matmul that threaded BLAS runs slowly on a busy machine)
        V = self.cov_scaled @ (U.T @ U) @ self.cov_scaled
        s = d.scale
        return pd.DataFrame(V / np.outer(s, s), index=self.names, columns=self.names)

    @property
    def model_se(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.cov)), index=self.names, name="se")

    @property
    def se(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.vcov)), index=self.names, name="se")

    @property
    def variance(self) -> pd.DataFrame:
        """The covariance used for inference: robust when the fit was robust."""
        return self.robust_cov if self.robust else self.cov

    # --- tests ----------------------------------------------------------------------------
    @property
    def lr_test(self) -> Test:
        return Test.of(2 * (self.loglik[1] - self.loglik[0]), len(self.names))

    @property
    def wald_test(self) -> Test:
        return Test.of(self.beta @ np.linalg.solve(self.vcov, self.beta), len(self.beta))

    @property
    def score_test(self) -> Test:
        return Test.of(self.score_null, len(self.names))

    # --- sizes ----------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.data.n

    @property
    def n_events(self) -> int:
        return int(self.data.event.sum())

    # --- predictions ----------------------------------------------------------------------
    @cached_property
    def _residuals(self):
        return self.model.score_residuals(self.beta_scaled)

    def dfbeta(self, collapse: bool = True) -> np.ndarray:
        """Approximate change of each coefficient when a row (or, with ``collapse`` and a
        cluster, a cluster) is left out: R's ``residuals(fit, type = "dfbeta", collapse =
        cluster)``, the case-weighted score residuals times the model-based covariance.
        Rows in the caller's order; clusters in the order of their sorted labels."""
        d = self.data
        L, _, _ = self._residuals
        D = (L * d.weights[:, None]) @ self.cov_scaled / d.scale
        if collapse and d.cluster is not None:
            return pd.DataFrame(D).groupby(d.cluster).sum().to_numpy()
        return d.to_caller(D)

    @cached_property
    def means(self) -> pd.Series:
        """Centring of `linear_predictors`, as R: 0 for columns holding only -1/0/1; otherwise
        weighted column means for right-censored data (coxph.fit) and plain column means for
        (entry, exit] data (agreg.fit)."""
        X = self.data.raw_X()
        zero_one = np.all(np.isin(np.round(X, 12), (-1.0, 0.0, 1.0)), axis=0)
        w = self.data.weights
        means = X.mean(axis=0) if self.data.entry is not None else w @ X / w.sum()
        return pd.Series(np.where(zero_one, 0.0, means), index=self.names)

    @property
    def linear_predictors(self) -> np.ndarray:
        """x beta - means beta (+ offset), as R's ``fit$linear.predictors`` (caller's row order)."""
        b = self.coef.to_numpy()
        lp = self.data.raw_X() @ b - self.means.to_numpy() @ b + self.data.offset
        return self.data.to_caller(lp)

    @cached_property
    def baseline_hazard(self) -> pd.DataFrame:
        """Cumulative baseline hazard at each event time (covariates at 0, R's
        ``basehaz(fit, centered = FALSE)``; Efron-adjusted increments with Efron ties)."""
        d = self.data
        _, haz, shift = self._residuals
        haz = haz * np.exp(-(shift + d.center @ self.coef.to_numpy()))
        out = pd.DataFrame({"stratum": d.event_strata, "time": d.event_times, "hazard": haz})
        out["cumhaz"] = out.groupby("stratum")["hazard"].cumsum()
        out["stratum"] = [d.strata_labels[s] for s in out["stratum"]]
        return out

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Coefficients, hazard ratios, standard errors, z, p and CIs as a DataFrame."""
        z_crit = ndtri(0.5 + level / 2)
        b, se = self.coef, self.se
        z = b / se
        lo, hi = f"lower {level:.0%}", f"upper {level:.0%}"
        table = pd.DataFrame(
            {
                "coef": b,
                "hr": np.exp(b),
                "se": se,
                "z": z,
                "p": 2 * ndtr(-np.abs(z)),
                lo: np.exp(b - z_crit * se),
                hi: np.exp(b + z_crit * se),
            }
        )
        if self.robust:
            table.insert(3, "model_se", self.model_se)
        return table
