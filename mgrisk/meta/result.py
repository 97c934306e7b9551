"""The pooled dose-response estimate: coefficients, heterogeneity, tests, and its curve.

`MetaResult.curve` is a `mgrisk.curve.SplineCurve` (a `MetaCurve`) built from the pooled spline
coefficients and covariance, so nadir, corridor, bands and end slopes are computed exactly as for
a cohort's Cox fit; calling it, ``result.curve(grid, ref)``, gives the pooled relative risks with
confidence and prediction intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri
from scipy.stats import chi2
from scipy.stats import t as t_dist

from ..curve import SplineCurve
from ..errors import InputError
from ..nadir import corridor_definition
from ..splines import rcs_basis
from .table import MetaTable

__all__ = ["MetaCurve", "MetaResult", "normal_level"]


def normal_level(level: float, df: float) -> float:
    """The level whose normal critical value is the t critical value with ``df`` at ``level``
    (``level`` itself for df = inf), so normal-based interval code gives t intervals.

    >>> round(normal_level(0.95, 9), 4)  # t_9 = 2.2622 = z at 0.9763
    0.9763
    """
    if not np.isfinite(df):
        return float(level)
    return float(2 * ndtr(t_dist.ppf(0.5 + level / 2, df)) - 1)


@dataclass(frozen=True)
class MetaCurve(SplineCurve):
    """A pooled curve: a `SplineCurve` with the between-study covariance ``psi``.

    ``curve(grid, ref)`` returns exposure, log_rr, se, rr, lower, upper (confidence interval of
    the pooled curve: t quantiles with ``df`` degrees of freedom, normal for df = inf) and
    pi_lower, pi_upper (prediction interval of a new study's curve: variance
    ``D (V + Psi) D'``, Higgins et al. 2009, normal quantiles; coverage not measured).
    ``hr_curve``, ``nadir`` and ``corridor`` use the same t quantiles (the simultaneous band:
    the normal max-|z| critical value at the level whose pointwise z is that t; not measured).
    Measured by `benchmarks/meta_coverage.py` (10 studies, U-shaped truth, the defaults
    categories="piecewise", ci="t"; 1,000 replicates): the 95 % CI covers 0.947-0.967
    pointwise (MC SE 0.007) and the nadir's (inversion) 0.959 (0.006).
    """

    psi: np.ndarray | None = None
    basis: str = "spline"  # or "linear": coef[1:] are structural zeros
    df: float = float("inf")  # t degrees of freedom of the CIs (inf: normal)

    def hr_curve(self, grid=None, ref="median", level: float = 0.95, **kw) -> pd.DataFrame:
        out = super().hr_curve(grid, ref, normal_level(level, self.df), **kw)
        out.attrs["level"] = level
        return out

    def nadir(self, method: str = "inversion", level: float = 0.95, **kw):
        found = super().nadir(method, normal_level(level, self.df), **kw)
        return replace(found, level=level)

    def corridor(self, rule: str = "delta", delta: float = 0.1, level: float = 0.95, **kw):
        found = super().corridor(rule, delta, normal_level(level, self.df), **kw)
        text = corridor_definition(rule, delta, level, found.nadir, self.unit_suffix)
        return replace(found, definition=text)

    def design(self, x) -> np.ndarray:
        return rcs_basis(x, self.knots)

    def __call__(
        self, grid=None, ref: str | float | None = None, level: float = 0.95
    ) -> pd.DataFrame:
        grid = self.grid() if grid is None else np.asarray(grid, dtype=float).ravel()
        r = self.x.lo if ref is None else self.reference_value(ref)
        D = self.design(grid) - self.design([r])
        log_rr = D @ self.coef
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", D, self.cov, D), 0.0))
        psi = np.zeros_like(self.cov) if self.psi is None else self.psi
        se_pred = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", D, self.cov + psi, D), 0.0))
        z = float(ndtri(0.5 + level / 2))
        crit = z if not np.isfinite(self.df) else float(t_dist.ppf(0.5 + level / 2, self.df))
        out = pd.DataFrame(
            {
                "exposure": grid,
                "log_rr": log_rr,
                "se": se,
                "rr": np.exp(log_rr),
                "lower": np.exp(log_rr - crit * se),
                "upper": np.exp(log_rr + crit * se),
                "pi_lower": np.exp(log_rr - z * se_pred),
                "pi_upper": np.exp(log_rr + z * se_pred),
            }
        )
        out.attrs.update(ref=r, level=level, df=self.df)
        return out


@dataclass(frozen=True)
class MetaResult:
    """A dose-response meta-analysis (made by `mgrisk.dose_response_meta`).

    Attributes
    ----------
    coef, cov : arrays (q,), (q, q)
        Pooled coefficients of the dose basis (per exposure unit for the linear trend; the rms
        spline columns otherwise) and their covariance.
    psi : array (q, q)
        Between-study covariance (zeros for method="fixed").
    ci : str
        How the curve's CIs are made (see `mgrisk.dose_response_meta`): ``cov * ci_scale``
        with t quantiles on ``df`` degrees of freedom. ``cov`` itself is never scaled;
        ``with_ci`` gives the same fit with other CIs.
    q_gen, q_gen_df : float, int
        ``sum_i r_i' (S_i + Z_i Psi Z_i')^-1 r_i`` at the fit and its degrees of freedom
        (block rows - coefficients); their ratio is Jackson & Riley's scale factor.
    Q, Q_df, I2 : float
        Cochran's (multivariate) Q with its degrees of freedom, and I-squared in %.
    study_coef, study_cov : dict
        Two-stage: each study's GLS coefficients and covariance (studies with fewer non-reference
        rows than coefficients are absent).
    """

    coef: np.ndarray
    cov: np.ndarray
    psi: np.ndarray
    method: str
    stage: int
    shape: str  # "linear" or "spline"
    knots: tuple[float, ...] | None
    table: MetaTable
    Q: float
    Q_df: int
    loglik: float
    converged: bool
    covariance: str
    categories: str = "point"  # how a category's RR relates to the curve (see dose_response_meta)
    ci: str = "z"  # the curve's CIs: "t" (df = studies - 1), "z", or "hksj" (scaled, t)
    q_gen: float = float("nan")  # residual quadratic form at the fitted Psi (Jackson-Riley)
    q_gen_df: int = 0  # its degrees of freedom: observations (block rows) - coefficients
    exposure: str = "dose"
    unit: str | None = None
    study_coef: dict = field(default_factory=dict, repr=False)
    study_cov: dict = field(default_factory=dict, repr=False)
    highlight: object = None  # a study label to highlight in figures (e.g. your cohort)

    @property
    def ci_scale(self) -> float:
        """Factor on ``cov`` in the curve's CIs: Jackson & Riley's ``q_gen / q_gen_df`` for
        ci="hksj", else 1."""
        return self.q_gen / self.q_gen_df if self.ci == "hksj" else 1.0

    @property
    def df(self) -> float:
        """t degrees of freedom of the curve's CIs: studies - 1 ("t"), ``q_gen_df`` ("hksj"),
        inf ("z": normal quantiles)."""
        if self.ci == "t":
            return float(self.n_studies - 1)
        return float(self.q_gen_df) if self.ci == "hksj" else float("inf")

    def with_ci(self, ci: str) -> MetaResult:
        """The same fit with the curve's CIs made by ``ci`` ("t", "z" or "hksj")."""
        if ci not in ("t", "z", "hksj"):
            raise InputError(f"ci={ci!r}: use 't', 'z' or 'hksj'")
        return replace(self, ci=ci)

    @property
    def I2(self) -> float:
        """I-squared: ``max(0, (Q - df) / Q)`` in %."""
        return float(max(0.0, (self.Q - self.Q_df) / self.Q) * 100) if self.Q > 0 else 0.0

    @property
    def Q_p(self) -> float:
        return float(chi2.sf(self.Q, self.Q_df)) if self.Q_df > 0 else float("nan")

    @property
    def n_studies(self) -> int:
        return len(self.table.studies)

    @cached_property
    def curve(self) -> MetaCurve:
        """The pooled curve as a `SplineCurve` (linear trend: a spline with zero curvature)."""
        doses = self.table.dose
        from ..curve import ExposureSummary

        summary = ExposureSummary.of(doses)
        if self.shape == "spline":
            knots, coef, cov, psi = self.knots, self.coef, self.cov, self.psi
        else:
            lo, hi = float(doses.min()), float(doses.max())
            knots = (lo, (lo + hi) / 2, hi) if hi > lo else (lo, lo + 1, lo + 2)
            coef = np.array([self.coef[0], 0.0])
            cov = np.zeros((2, 2))
            cov[0, 0] = self.cov[0, 0]
            psi = np.zeros((2, 2))
            psi[0, 0] = self.psi[0, 0]
        stage = "one-stage" if self.stage == 1 else "two-stage"
        how = (
            "fixed-effect" if self.method == "fixed" else f"random-effects ({self.method.upper()})"
        )
        return MetaCurve(
            self.exposure,
            self.unit,
            tuple(float(k) for k in knots),
            np.asarray(coef, dtype=float),
            np.asarray(cov, dtype=float) * self.ci_scale,
            summary,
            estimated_by=f"{stage} {how} dose-response meta-analysis of {self.n_studies} studies",
            ratio="relative risk",
            psi=np.asarray(psi, dtype=float),
            basis=self.shape,
            df=self.df,
        )

    def ci_text(self) -> str:
        """How the curve's CIs are made, in words."""
        if self.ci == "z":
            return "normal quantiles"
        if self.ci == "t":
            return f"t quantiles with {self.df:g} df (studies - 1)"
        return f"Jackson-Riley scaled covariance (x {self.ci_scale:.3g}), t with {self.df:g} df"

    def tests(self) -> pd.DataFrame:
        """Wald tests: overall association (all coefficients 0) and, for a spline,
        nonlinearity (the nonlinear coefficients 0). Columns chi2, df, p."""
        rows = {"overall": np.arange(len(self.coef))}
        if self.shape == "spline":
            rows["nonlinear"] = np.arange(1, len(self.coef))
        out = []
        for name, idx in rows.items():
            b = self.coef[idx]
            stat = float(b @ np.linalg.solve(self.cov[np.ix_(idx, idx)], b))
            out.append(
                {"test": name, "chi2": stat, "df": idx.size, "p": float(chi2.sf(stat, idx.size))}
            )
        return pd.DataFrame(out).set_index("test")

    def heterogeneity(self) -> dict:
        """Q, its df and p, I-squared (%), and tau (the square roots of Psi's diagonal)."""
        return {
            "Q": float(self.Q),
            "df": int(self.Q_df),
            "p": self.Q_p,
            "I2": self.I2,
            "psi": self.psi.tolist(),
            "tau": np.sqrt(np.clip(np.diag(self.psi), 0, None)).tolist(),
        }

    def design(self, x) -> np.ndarray:
        """The dose basis at x: the dose itself (linear) or the rms spline columns."""
        x = np.asarray(x, dtype=float).ravel()
        return x[:, None] if self.shape == "linear" else rcs_basis(x, self.knots)

    def study_curves(self, grid=None, ref: float | None = None) -> pd.DataFrame:
        """Each study's own fitted curve (its GLS coefficients) over its dose range, in long
        form: study, exposure, log_rr, rr. Studies without their own estimate are left out."""
        c = self.curve
        r = c.x.lo if ref is None else float(ref)
        parts = []
        for label, b in self.study_coef.items():
            idx = self.table.rows_of(label)
            d = self.table.dose[idx]
            g = np.linspace(d.min(), d.max(), 50) if grid is None else np.asarray(grid, float)
            D = self.design(g) - self.design([r])
            lr = D @ b
            parts.append(
                pd.DataFrame({"study": label, "exposure": g, "log_rr": lr, "rr": np.exp(lr)})
            )
        if not parts:
            return pd.DataFrame(columns=["study", "exposure", "log_rr", "rr"])
        return pd.concat(parts, ignore_index=True)

    def study_table(self) -> pd.DataFrame:
        """One row per study: type, categories, dose range, cases, and its own slope or
        coefficients when estimated."""
        t = self.table.frame()
        g = t.groupby("study", sort=False)
        out = pd.DataFrame(
            {
                "type": g["type"].first(),
                "categories": g.size(),
                "dose_min": g["dose"].min(),
                "dose_max": g["dose"].max(),
                "reference_dose": t[t.reference].set_index("study")["dose"],
                "cases": g["cases"].sum(min_count=1),
            }
        )
        return out

    def summary(self) -> dict:
        """A JSON-ready summary (numbers only, stable keys)."""
        t = self.tests()
        return {
            "model": {
                "shape": self.shape,
                "knots": list(self.knots) if self.knots else None,
                "stage": self.stage,
                "method": self.method,
                "covariance": self.covariance,
                "categories": self.categories,
                "ci": self.ci,
                "ci_df": self.df,
                "ci_scale": self.ci_scale,
                "studies": self.n_studies,
                "rows": int(self.table.dose.size),
                "converged": self.converged,
                "loglik": self.loglik,
            },
            "coef": self.coef.tolist(),
            "cov": self.cov.tolist(),
            "heterogeneity": self.heterogeneity(),
            "tests": {k: {c: float(v) for c, v in row.items()} for k, row in t.iterrows()},
        }
