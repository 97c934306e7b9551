"""Rubin's rules: pool the estimates of m analyses of multiply imputed data.

For m completed data sets with estimates Q_i (p,) and covariances U_i (p, p) (Rubin 1987):

- pooled estimate ``Qbar = mean(Q_i)``; within variance ``Ubar = mean(U_i)``; between variance
  ``B = cov(Q_i)`` (divisor m - 1); total variance ``T = Ubar + (1 + 1/m) B`` (full matrices,
  so Wald tests of several coefficients use T, as ``rms::fit.mult.impute``);
- per coefficient, as ``mice::pool``: relative increase in variance ``riv = (1 + 1/m) b / ubar``,
  ``lambda = (1 + 1/m) b / t``, Barnard-Rubin (1999) degrees of freedom with ``dfcom`` the
  complete-data degrees of freedom (lambda floored at 1e-4 as mice does), and the fraction of
  missing information ``fmi = (riv + 2 / (df + 3)) / (riv + 1)``.

`d1_test` is the D1 pooled Wald test of several coefficients (Li, Raghunathan & Rubin 1991) with
Reiter's (2007) small-sample denominator degrees of freedom, as ``mice::D1`` (through
``mitml::testModels``). Both are checked against R mice 3.15 in ``tests/reference/impute.R``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.special import fdtrc, ndtri, stdtr, stdtrit

from ..errors import InputError

__all__ = ["D1Test", "PooledCox", "RubinPool", "d1_test", "rubin"]

#: mice's floor on lambda in the Barnard-Rubin degrees of freedom (keeps df finite when the
#: between-imputation variance is zero).
LAMBDA_FLOOR = 1e-4


@dataclass(frozen=True)
class RubinPool:
    """Pooled estimates (Rubin's rules) with the per-coefficient figures of ``mice::pool``."""

    estimate: np.ndarray  # (p,)
    ubar: np.ndarray  # (p, p) mean within-imputation covariance
    b: np.ndarray  # (p, p) between-imputation covariance
    m: int
    dfcom: float

    @cached_property
    def t(self) -> np.ndarray:
        """Total covariance ``Ubar + (1 + 1/m) B``."""
        return self.ubar + (1 + 1 / self.m) * self.b

    @property
    def riv(self) -> np.ndarray:
        """Relative increase in variance due to nonresponse, per coefficient."""
        return (1 + 1 / self.m) * np.diag(self.b) / np.diag(self.ubar)

    @property
    def lambda_(self) -> np.ndarray:
        """Proportion of the total variance due to nonresponse, per coefficient."""
        return (1 + 1 / self.m) * np.diag(self.b) / np.diag(self.t)

    @property
    def df(self) -> np.ndarray:
        """Barnard-Rubin degrees of freedom, per coefficient."""
        lam = np.maximum(self.lambda_, LAMBDA_FLOOR)
        old = (self.m - 1) / lam**2
        if np.isinf(self.dfcom):
            return old
        obs = (self.dfcom + 1) / (self.dfcom + 3) * self.dfcom * (1 - lam)
        return old * obs / (old + obs)

    @property
    def fmi(self) -> np.ndarray:
        """Fraction of missing information, per coefficient."""
        return (self.riv + 2 / (self.df + 3)) / (self.riv + 1)


def rubin(coefs, covs, dfcom: float = np.inf) -> RubinPool:
    """Pool m estimates and covariances by Rubin's rules.

    Parameters
    ----------
    coefs : array (m, p)
        Estimates of each completed-data analysis (e.g. log hazard ratios).
    covs : array (m, p, p)
        Their covariances (the one each analysis uses: robust if robust).
    dfcom : float
        Complete-data degrees of freedom (``mice`` uses events minus coefficients for a Cox
        model; ``inf`` gives Rubin's 1987 df).

    Returns
    -------
    RubinPool

    Examples
    --------
    >>> pooled = rubin([[1.0], [3.0]], [[[1.0]], [[1.0]]])
    >>> float(pooled.estimate[0]), float(pooled.t[0, 0])  # 1 + (1 + 1/2) * 2
    (2.0, 4.0)
    """
    Q = np.asarray(coefs, dtype=float)
    U = np.asarray(covs, dtype=float)
    if Q.ndim != 2 or U.shape != (Q.shape[0], Q.shape[1], Q.shape[1]):
        raise InputError(
            f"rubin: coefs must be (m, p) and covs (m, p, p); got {Q.shape} and {U.shape}"
        )
    m = Q.shape[0]
    if m < 2:
        raise InputError(f"rubin: {m} completed data set(s); pooling needs at least 2")
    return RubinPool(
        Q.mean(axis=0),
        U.mean(axis=0),
        np.cov(Q, rowvar=False).reshape(U.shape[1:]),
        m,
        float(dfcom),
    )


@dataclass(frozen=True)
class D1Test:
    """The D1 pooled Wald test: F statistic, its degrees of freedom, p and the average RIV."""

    f: float
    df1: int
    df2: float
    p: float
    riv: float


def d1_test(coefs, covs, index, dfcom: float | None = None) -> D1Test:
    """D1 test that the coefficients ``index`` are all zero (as ``mice::D1``).

    ``F = Qbar' [(1 + r) Ubar]^-1 Qbar / k`` with ``r = (1 + 1/m) tr(B Ubar^-1) / k``; the
    denominator df is Reiter's (2007) with ``dfcom`` given (mice always gives one), else Li et
    al.'s (1991). Needs k (m - 1) > 4 with ``dfcom``.

    Examples
    --------
    >>> q = [[1.0, 0.0], [2.0, 0.5], [1.5, 0.1], [1.2, 0.3]]
    >>> t = d1_test(q, [np.eye(2)] * 4, [0, 1], dfcom=100)  # mitml:::.D1 gives F = 0.9057
    >>> round(t.f, 4), t.df1
    (0.9057, 2)
    """
    Q = np.asarray(coefs, dtype=float)[:, index]
    U = np.asarray(covs, dtype=float)[:, index][:, :, index]
    m, k = Q.shape
    qbar, ubar = Q.mean(axis=0), U.mean(axis=0)
    b = np.cov(Q, rowvar=False).reshape(k, k)
    r = (1 + 1 / m) * np.trace(np.linalg.solve(ubar, b)) / k
    f = float(qbar @ np.linalg.solve((1 + r) * ubar, qbar) / k)
    t = k * (m - 1)
    if dfcom is not None:
        if t <= 4:
            raise InputError(
                f"D1 test: k (m - 1) = {t} <= 4; use more imputations (m >= {4 // k + 2})"
            )
        a = r * t / (t - 2)
        vstar = (dfcom + 1) / (dfcom + 3) * dfcom
        c0, c1, c2 = 1 / (t - 4), vstar - 2 * (1 + a), vstar - 4 * (1 + a)
        z = (
            1 / c2
            + c0 * (a**2 * c1 / ((1 + a) ** 2 * c2))
            + c0 * (8 * a**2 * c1 / ((1 + a) * c2**2) + 4 * a**2 / ((1 + a) * c2))
            + c0 * (4 * a**2 / (c2 * c1) + 16 * a**2 * c1 / c2**3)
            + c0 * (8 * a**2 / c2**2)
        )
        v = 4 + 1 / z
    elif t > 4:
        v = 4 + (t - 4) * (1 + (1 - 2 / t) / r) ** 2
    else:
        v = t * (1 + 1 / k) * (1 + 1 / r) ** 2 / 2
    return D1Test(f, k, float(v), float(fdtrc(k, v, f)), float(r))


@dataclass(frozen=True, eq=False)
class PooledCox:
    """Cox-model figures pooled over m imputations, with the attributes a `CoxResult` offers to
    the analysis layer: ``beta``, ``vcov`` (the total variance T), ``coef``, ``se``,
    ``variance``, ``cov``, ``summary()``, ``n``, ``n_events``, ``loglik`` (the mean of the
    per-imputation log partial likelihoods: no likelihood of the pooled estimate exists, so it
    serves only to compare models fitted on the same imputations).
    """

    names: list[str]
    pool: RubinPool
    n: int
    n_events: int
    loglik: np.ndarray
    robust: bool

    @property
    def beta(self) -> np.ndarray:
        return self.pool.estimate

    @property
    def vcov(self) -> np.ndarray:
        return self.pool.t

    @property
    def coef(self) -> pd.Series:
        return pd.Series(self.beta, index=self.names, name="coef")

    @property
    def se(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.vcov)), index=self.names, name="se")

    @property
    def variance(self) -> pd.DataFrame:
        return pd.DataFrame(self.vcov, index=self.names, columns=self.names)

    cov = variance

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Pooled coefficients as ``summary(pool(...), conf.int = TRUE)``: estimate, HR, total
        SE, t (in column ``z``), Barnard-Rubin df, p and CI from the t distribution, riv, fmi."""
        p = self.pool
        b, se, df = self.beta, np.sqrt(np.diag(self.vcov)), p.df
        t = b / se
        q = stdtrit(df, 0.5 + level / 2) if np.isfinite(df).all() else ndtri(0.5 + level / 2)
        return pd.DataFrame(
            {
                "coef": b,
                "hr": np.exp(b),
                "se": se,
                "z": t,
                "df": df,
                "p": 2 * stdtr(df, -np.abs(t)),
                f"lower {level:.0%}": np.exp(b - q * se),
                f"upper {level:.0%}": np.exp(b + q * se),
                "riv": p.riv,
                "fmi": p.fmi,
            },
            index=self.names,
        )


def pool_cox(fits, dfcom: float | None = None) -> PooledCox:
    """Pool Cox results (each with ``beta``, ``vcov``, ``names``, ``n``, ``n_events``,
    ``loglik``, ``robust``) fitted to the m completed data sets."""
    names = list(fits[0].names)
    for i, f in enumerate(fits[1:], start=2):
        if list(f.names) != names:
            raise InputError(
                f"completed data set {i}: model terms {list(f.names)} differ from the first's "
                f"{names}; a category is probably absent from one data set: give every data set "
                "the same levels"
            )
    events = [f.n_events for f in fits]
    if dfcom is None:  # mice's default for coxph: events minus coefficients
        dfcom = max(float(np.mean(events)) - len(names), 1.0)
    pool = rubin([f.beta for f in fits], [f.vcov for f in fits], dfcom)
    return PooledCox(
        names,
        pool,
        int(fits[0].n),
        round(float(np.mean(events))),
        np.mean([f.loglik for f in fits], axis=0),
        bool(fits[0].robust),
    )
