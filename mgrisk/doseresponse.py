"""Dose-response analysis: a restricted cubic spline of the exposure in a Cox model.

`fit_dose_response` validates the cohort, builds the design (``rcs(exposure, knots)`` plus an
adjustment formula), fits the cause-specific Cox model and returns a `DoseResponse`, from which
the HR curve, Wald tests (as ``rms::anova``), nadir, corridor, shape verdict and the quantile
table are read. Splines and the Cox engine are called, never re-implemented here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ._band_kernel import max_abs_projection
from .bootstrap import BootstrapFits, bootstrap_fits
from .cox import CoxResult, Test, fit_prepared, prepare_cox
from .cox.fit import default_robust
from .data import CohortData, check_cohort, parse_formula
from .design import Design, design_matrix
from .errors import InputError
from .nadir import (
    Corridor,
    Nadir,
    corridor_bounds,
    corridor_definition,
    corridor_end_delta_ci,
    nadir_delta,
    nadir_inversion,
    spline_minimum,
)
from .quantiles import QuantileTable, quantile_table
from .shape import ShapeResult, lind_mehlum, shape_verdict, two_lines
from .splines import rcs_basis, rcs_knots

__all__ = ["DoseResponse", "Settings", "fit_dose_response"]

#: Monte Carlo draws (fixed seed) for the simultaneous band's critical value: its Monte Carlo
#: standard error is about 0.01.
BAND_DRAWS = 20_000


@lru_cache(maxsize=8)
def _band_draws(dim: int) -> np.ndarray:
    """The simultaneous band's standard normal draws, one row per dimension (fixed seed;
    shared: never modify)."""
    return np.random.default_rng(20170516).standard_normal((BAND_DRAWS, dim)).T.copy()


@dataclass(frozen=True)
class Settings:
    """What was asked for: columns, model and conventions (stored with the result)."""

    exposure: str
    time: str
    event: str
    entry: str | None
    adjust: str | None
    knots: tuple[float, ...]
    cause: int
    strata: str | None
    weights: str | None
    cluster: str | None
    ties: str
    reference: str | float
    robust: bool
    unit: str
    timefix: bool = True
    model: str = "cause-specific"  # or "fine-gray" (subdistribution hazards)


def _robust(robust, frame, weights, cluster) -> bool:
    if robust is not None:
        return bool(robust)
    w = np.ones(len(frame)) if weights is None else frame[weights].to_numpy(dtype=float)
    return default_robust(w, cluster)


def _terms(formula: str | None) -> list[str]:
    """The right-hand-side terms of a patsy formula, by name."""
    if not formula:
        return []
    return [t.name() for t in parse_formula(formula).rhs_termlist if t.name() != "Intercept"]


def _spline_term(exposure: str, knots) -> str:
    return f"rcs({exposure}, knots=[{', '.join(repr(float(k)) for k in knots)}])"


def fit_dose_response(
    data: pd.DataFrame,
    exposure: str,
    time: str,
    event: str,
    *,
    entry: str | None = None,
    adjust: str | None = None,
    knots: int | list[float] = 4,
    cause: int = 1,
    strata: str | None = None,
    weights: str | None = None,
    cluster: str | None = None,
    ties: str = "efron",
    reference: str | float = "median",
    robust: bool | None = None,
    missing: str = "drop",
    unit: str = "mmol/L",
    model: str = "cause-specific",
    timefix: bool = True,
) -> DoseResponse:
    """Fit a Cox model with a restricted cubic spline of the exposure.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person (or per interval with ``entry``; name the person in ``cluster``).
    exposure : str
        Exposure column (e.g. serum Mg in mmol/L); must be a valid Python name.
    time, entry : str
        Exit and entry columns; with ``entry``, (entry, exit] data such as age as the time scale
        with delayed entry.
    event : str
        Event codes: 0 censored, 1, 2, ... causes. ``cause`` is the event of interest; other
        codes are competing events, censored in this cause-specific analysis.
    adjust : str, optional
        patsy formula of the adjustment, e.g. ``"age + C(sex) + egfr"``.
    knots : int or list of float
        Number of knots (placed as ``rms::rcs``) or the knots themselves.
    strata, weights, cluster : str, optional
        Columns: strata, case weights, person/cluster id (implies robust variance).
    ties : {"efron", "breslow"}
    reference : "median", "nadir" or float
        Default reference of `hr_curve` (rms uses the median).
    robust : bool, optional
        Use the robust (sandwich) variance for every test and CI. Default as R's coxph: robust
        with a ``cluster`` or non-integer weights.
    missing : {"drop", "raise"}
        Rows with missing values in used columns are dropped and counted, or an error.
    unit : str
        Unit of the exposure, for printing.
    model : {"cause-specific", "fine-gray"}
        Cause-specific hazards (other causes censored), or the Fine-Gray subdistribution
        hazards of ``cause`` (`mgrisk.competing`): curves are then subdistribution HRs, and
        the variance is robust, clustered by person (or ``cluster``), unless ``robust=False``.
    timefix : bool
        Merge near-tied times as R's ``survival::coxph`` does (its default). ``rms::cph`` does
        not merge them: ``timefix=False`` reproduces cph on times computed in floating point
        (e.g. ``age + futime / 365.25``).

    Returns
    -------
    DoseResponse
    """
    if model not in ("cause-specific", "fine-gray"):
        raise InputError(f"model={model!r}: use 'cause-specific' or 'fine-gray'")
    if model == "fine-gray" and robust is None:
        robust = True
    cohort = check_cohort(
        data,
        exposure=exposure,
        time=time,
        event=event,
        entry=entry,
        adjust=adjust,
        strata=strata,
        weights=weights,
        cluster=cluster,
        cause=cause,
        missing=missing,
    )
    if not exposure.isidentifier():
        raise InputError(f"exposure column '{exposure}' must be a valid Python name; rename it")
    frame = cohort.frame
    x = frame[exposure].to_numpy()
    k = rcs_knots(x, int(knots)) if np.ndim(knots) == 0 else np.asarray(knots, dtype=float)
    formula = _spline_term(exposure, k) + (f" + {adjust}" if adjust else "")
    design = design_matrix(formula, frame).first(exposure)
    settings = Settings(
        exposure,
        time,
        event,
        entry,
        adjust,
        tuple(map(float, k)),
        cause,
        strata,
        weights,
        cluster,
        ties,
        reference,
        _robust(robust, frame, weights, cluster),
        unit,
        timefix,
        model=model,
    )
    return DoseResponse(settings, cohort, design)


class DoseResponse:
    """A fitted dose-response model (see `fit_dose_response`)."""

    def __init__(self, settings: Settings, cohort: CohortData, design: Design):
        self.settings = settings
        self.cohort = cohort
        self.design = design
        s, frame = settings, cohort.frame
        self.x = frame[s.exposure].to_numpy(dtype=float)
        self.knots = np.array(s.knots)
        self.spline_cols = design.terms[s.exposure]
        self.event_indicator = (frame[s.event].to_numpy() == s.cause).astype(float)
        self.prepared = prepare_cox(
            design.matrix,
            frame[s.time],
            self.event_indicator,
            entry=None if s.entry is None else frame[s.entry],
            strata=None if s.strata is None else frame[s.strata],
            weights=None if s.weights is None else frame[s.weights],
            cluster=None if s.cluster is None else frame[s.cluster],
            fix_ties=s.timefix,
        )
        self.rows = None  # frame row of each prepared row (Fine-Gray expands them)
        if s.model == "fine-gray":
            from .competing._dose import fine_gray_prepared

            self.prepared, self.rows = fine_gray_prepared(self)
        self.cox: CoxResult = fit_prepared(self.prepared, ties=s.ties, robust=s.robust)
        self._boot: dict[tuple[int, int], BootstrapFits] = {}

    # --- what the fit holds ------------------------------------------------------------------
    coef = property(lambda self: self.cox.coef)
    se = property(lambda self: self.cox.se)
    cov = property(lambda self: self.cox.variance)
    loglik = property(lambda self: self.cox.loglik)
    n = property(lambda self: self.cox.n if self.rows is None else len(self.cohort.frame))
    n_events = property(lambda self: self.cox.n_events)
    n_dropped = property(lambda self: self.cohort.n_dropped)

    @cached_property
    def spline_coef(self) -> np.ndarray:
        return self.cox.beta[self.spline_cols]

    @cached_property
    def spline_cov(self) -> np.ndarray:
        return self.cox.vcov[np.ix_(self.spline_cols, self.spline_cols)]

    @property
    def data_range(self) -> tuple[float, float]:
        return float(self.x.min()), float(self.x.max())

    def reference_value(self, ref=None) -> float:
        """The reference exposure: a number, "median" (of the analysed rows) or "nadir"."""
        ref = self.settings.reference if ref is None else ref
        if isinstance(ref, str):
            if ref == "median":
                return float(np.median(self.x))
            if ref == "nadir":
                return self.nadir().estimate
            raise InputError(f"ref={ref!r}: use a number, 'median' or 'nadir'")
        return float(ref)

    # --- curve and tests -------------------------------------------------------------------------
    def hr_curve(
        self, grid=None, ref=None, level: float = 0.95, band: str = "pointwise", n_points: int = 101
    ) -> pd.DataFrame:
        """HR of the exposure versus ``ref`` over a grid, with a pointwise or simultaneous band.

        The default grid spans the 1st to 99th percentile of the exposure. The simultaneous band
        uses the max-|t| critical value over the grid (multivariate normal, Monte Carlo with
        a fixed seed). Columns: exposure, log_hr, se, hr, lower, upper.
        """
        if band not in ("pointwise", "simultaneous"):
            raise InputError(f"band={band!r}: use 'pointwise' or 'simultaneous'")
        if grid is None:
            grid = np.linspace(*np.quantile(self.x, [0.01, 0.99]), n_points)
        grid = np.asarray(grid, dtype=float)
        r = self.reference_value(ref)
        D = rcs_basis(grid, self.knots) - rcs_basis([r], self.knots)
        log_hr = D @ self.spline_coef
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", D, self.spline_cov, D), 0.0))
        crit = (
            ndtri(0.5 + level / 2)
            if band == "pointwise"
            else self._simultaneous_critical(D, se, level)
        )
        out = pd.DataFrame(
            {
                "exposure": grid,
                "log_hr": log_hr,
                "se": se,
                "hr": np.exp(log_hr),
                "lower": np.exp(log_hr - crit * se),
                "upper": np.exp(log_hr + crit * se),
            }
        )
        out.attrs.update(ref=r, level=level, band=band, critical_value=float(crit))
        return out

    def _simultaneous_critical(self, D, se, level) -> float:
        keep = se > 1e-12 * max(se.max(), 1e-300)
        L = np.linalg.cholesky(self.spline_cov)
        A = (D[keep] @ L) / se[keep][:, None]
        return float(np.quantile(max_abs_projection(_band_draws(L.shape[0]), A), level))

    def _wald(self, cols) -> Test:
        b, V = self.cox.beta[cols], self.cox.vcov[np.ix_(cols, cols)]
        return Test.of(b @ np.linalg.solve(V, b), len(cols))

    def anova(self) -> pd.DataFrame:
        """Wald tests by term as ``rms::anova``: the exposure, its nonlinear part, each
        adjustment term (with the interactions it is part of), TOTAL NONLINEAR and TOTAL."""
        rows = {}
        terms, nonlinear = self.design.terms, self.design.nonlinear
        for name, cols in terms.items():
            if ":" in name:
                continue
            higher = [
                c
                for other, oc in terms.items()
                if ":" in other and name in other.split(":")
                for c in oc
            ]
            rows[name] = self._wald(cols + higher)
            if name in nonlinear:
                rows[f"{name}: nonlinear"] = self._wald(nonlinear[name])
        interaction = [c for name, cols in terms.items() if ":" in name for c in cols]
        all_nonlinear = [c for cols in nonlinear.values() for c in cols]
        if len(nonlinear) > 1 or (nonlinear and interaction):  # as rms prints it
            rows["TOTAL NONLINEAR"] = self._wald(all_nonlinear)
        if interaction:
            rows["TOTAL INTERACTION"] = self._wald(interaction)
        rows["TOTAL"] = self._wald(list(range(len(self.coef))))
        return pd.DataFrame([asdict(t) for t in rows.values()], index=list(rows))

    @cached_property
    def _adjustment(self) -> pd.DataFrame:
        """The design's adjustment columns (all but the spline's)."""
        keep = [c for c in range(self.design.matrix.shape[1]) if c not in self.spline_cols]
        return self.design.matrix.iloc[:, keep]

    def fit_exposure(self, columns: np.ndarray, names: list[str]) -> CoxResult:
        """Refit on the same rows with other exposure columns (e.g. categories) + the adjustment."""
        adj = self._adjustment
        X = np.column_stack([columns, adj.to_numpy()]) if adj.shape[1] else columns
        X = X if self.rows is None else X[self.rows]
        prepared = self.prepared.with_X(X, names + list(adj.columns))
        return fit_prepared(prepared, ties=self.settings.ties, robust=self.settings.robust)

    @cached_property
    def linear_fit(self) -> CoxResult:
        """The model with the exposure entered linearly."""
        return self.fit_exposure(self.x[:, None], [self.settings.exposure])

    def lr_test(self, what: str = "nonlinear") -> Test:
        """Likelihood-ratio test of nonlinearity: the spline model versus the linear one."""
        if what != "nonlinear":
            raise InputError(f"lr_test({what!r}): only 'nonlinear' is available")
        return Test.of(2 * (self.loglik[1] - self.linear_fit.loglik[1]), len(self.knots) - 2)

    # --- nadir, corridor, bootstrap --------------------------------------------------------
    def bootstrap(
        self, n_boot: int = 200, seed: int = 0, jobs: int | None = None, progress: bool = True
    ) -> BootstrapFits:
        """Bootstrap refits (persons, or clusters, resampled); cached per (n_boot, seed)."""
        key = (n_boot, seed)
        if key not in self._boot:
            self._boot[key] = bootstrap_fits(
                self.prepared,
                n_boot=n_boot,
                seed=seed,
                jobs=jobs,
                progress=progress,
                ties=self.settings.ties,
            )
        return self._boot[key]

    def nadir(
        self,
        method: str = "delta",
        level: float = 0.95,
        *,
        n_boot: int = 200,
        seed: int = 0,
        jobs: int | None = None,
        progress: bool = True,
    ) -> Nadir:
        """The exposure with the lowest HR and its CI by ``delta``, ``inversion`` or
        ``bootstrap`` (percentile). Says when the minimum is at the edge of the data and when
        the confidence set is unbounded or split.

        Measured coverage of 95 % CIs (spline truth, 300 simulated cohorts): with ~800 events
        inversion 0.94 but delta 0.88 (it undercovers with few events); with ~3,200 events
        inversion 0.96, delta 0.95. Prefer ``inversion`` (or ``bootstrap``) in small cohorts.
        """
        b, V, k = self.spline_coef, self.spline_cov, self.knots
        lo, hi = self.data_range
        x, interior = spline_minimum(b, k, lo, hi)
        edge_note = (
            ""
            if interior
            else (
                f"no interior minimum: the lowest HR is at the {'lower' if x == lo else 'upper'} "
                "edge of the data"
            )
        )
        if method == "delta":
            low, up = nadir_delta(x, b, V, k, level) if interior else (np.nan, np.nan)
            bounded = bool(interior and lo <= low and up <= hi)
            return Nadir(x, low, up, method, level, interior, bounded, (), edge_note)
        if method == "inversion":
            runs = nadir_inversion(x, b, V, k, lo, hi, level)
            own = next((r for r in runs if r[0] <= x <= r[1]), [np.nan, np.nan])
            bounded = lo < own[0] and own[1] < hi
            notes = [edge_note] if edge_note else []
            if not bounded:
                notes.append("the confidence set reaches the edge of the data (unbounded)")
            if len(runs) > 1:
                notes.append(f"the confidence set is split into {len(runs)} intervals")
            return Nadir(
                x,
                own[0],
                own[1],
                method,
                level,
                interior,
                bool(bounded),
                tuple((float(a), float(c)) for a, c in runs),
                "; ".join(notes),
            )
        if method == "bootstrap":
            boots = self._boot_spline(n_boot, seed, jobs, progress)
            found = [spline_minimum(c, k, lo, hi) for c, _ in boots]
            xs = np.array([v for v, inner in found if inner])
            share = xs.size / max(len(found), 1)
            low, up = (
                np.quantile(xs, [(1 - level) / 2, (1 + level) / 2]) if xs.size else (np.nan,) * 2
            )
            note = f"{xs.size} of {n_boot} replicates with an interior minimum ({share:.0%})"
            return Nadir(
                x,
                float(low),
                float(up),
                method,
                level,
                interior,
                bool(share >= level),
                (),
                "; ".join(filter(None, [edge_note, note])),
            )
        raise InputError(f"method={method!r}: use 'delta', 'inversion' or 'bootstrap'")

    def _boot_spline(self, n_boot, seed, jobs, progress):
        fits = self.bootstrap(n_boot, seed, jobs, progress)
        cols = self.spline_cols
        return [
            (c[cols], v[np.ix_(cols, cols)])
            for c, v in zip(fits.coef[fits.ok], fits.cov[fits.ok], strict=True)
        ]

    def corridor(
        self,
        rule: str = "delta",
        delta: float = 0.1,
        level: float = 0.95,
        *,
        n_boot: int = 0,
        seed: int = 0,
        jobs: int | None = None,
        progress: bool = True,
    ) -> Corridor:
        """The low-risk corridor around the nadir, by ``rule``:

        - ``"delta"``: where the HR versus the nadir is at most 1 + delta;
        - ``"ci"``: where the ``level`` CI of the HR versus the nadir includes 1.

        CIs of both ends: with ``n_boot`` > 0, bootstrap percentiles (nadir and corridor
        recomputed in every replicate); otherwise, for the ``delta`` rule, the delta method
        (se = sqrt(D V D') / |f'(end)|, D = B(end) - B(nadir)); ends at the edge of the data
        get none.
        """
        if rule not in ("delta", "ci"):
            raise InputError(f"rule={rule!r}: use 'delta' or 'ci'")
        if rule == "delta" and not delta > 0:
            raise InputError(f"delta={delta}: must be > 0")
        b, V, k = self.spline_coef, self.spline_cov, self.knots
        lo, hi = self.data_range
        x, _ = spline_minimum(b, k, lo, hi)
        low, up, open_low, open_up = corridor_bounds(
            x, b, V, k, lo, hi, rule=rule, delta=delta, level=level
        )
        definition = corridor_definition(rule, delta, level, x, f" {self.settings.unit}")
        ci_low = ci_up = None
        if n_boot:
            ends = []
            for c, v in self._boot_spline(n_boot, seed, jobs, progress):
                xb, _ = spline_minimum(c, k, lo, hi)
                ends.append(
                    corridor_bounds(xb, c, v, k, lo, hi, rule=rule, delta=delta, level=level)[:2]
                )
            q = [(1 - level) / 2, (1 + level) / 2]
            ends = np.array(ends)
            ci_low = tuple(map(float, np.quantile(ends[:, 0], q)))
            ci_up = tuple(map(float, np.quantile(ends[:, 1], q)))
        elif rule == "delta":
            if not open_low:
                ci_low = tuple(map(float, corridor_end_delta_ci(low, x, b, V, k, level)))
            if not open_up:
                ci_up = tuple(map(float, corridor_end_delta_ci(up, x, b, V, k, level)))
        return Corridor(low, up, rule, definition, x, open_low, open_up, ci_low, ci_up, n_boot)

    # --- shape, categories, knots, modifiers --------------------------------------------------
    def shape(self, alpha: float = 0.05) -> ShapeResult:
        """Shape verdict with its evidence; the decision rule is in `mgrisk.shape`."""
        b, V, k = self.spline_coef, self.spline_cov, self.knots
        lo, hi = self.data_range
        x_low, x_high = np.quantile(self.x, [0.01, 0.99])
        lm = lind_mehlum(b, V, k, x_low, x_high)

        def fit_lines(cols):
            fit = self.fit_exposure(cols, ["line_low", "line_high", "jump"])
            return fit.beta[:3], np.sqrt(np.diag(fit.vcov))[:3]

        inverted = lm["p_inverted_u"] < lm["p_u"]
        tl = two_lines(self.x, b, V, k, fit_lines, inverted=inverted)
        nadir, interior = spline_minimum(b, k, lo, hi)
        association = self._wald(self.spline_cols).p
        verdict = shape_verdict(
            association,
            lm,
            {} if inverted else tl,
            tl if inverted else {},
            interior,
            lambda: float(self.linear_fit.beta[0]),
            alpha,
        )
        return ShapeResult(verdict, alpha, association, lm, tl, nadir, interior)

    def quantile_table(
        self, q: int = 5, ref: str | int = "middle", level: float = 0.95
    ) -> QuantileTable:
        """The Rotterdam table: categories, n, events, person-years, rate per 1,000
        person-years, HR (same adjustment) vs the reference category, and p for trend."""
        s, frame = self.settings, self.cohort.frame
        exit_ = frame[s.time].to_numpy(dtype=float)
        person_time = exit_ - frame[s.entry].to_numpy(dtype=float) if s.entry else exit_
        return quantile_table(
            self.x, self.event_indicator, person_time, self.fit_exposure, q=q, ref=ref, level=level
        )

    def refit(self, **changes) -> DoseResponse:
        """The same analysis on the same complete rows with some settings changed."""
        s = asdict(self.settings)
        s.update(changes)
        keys = (
            "entry",
            "adjust",
            "knots",
            "cause",
            "strata",
            "weights",
            "cluster",
            "ties",
            "reference",
            "robust",
            "unit",
            "model",
            "timefix",
        )
        kw = {k: s[k] for k in keys}
        if "knots" not in changes:
            kw["knots"] = list(self.knots)
        return fit_dose_response(self.cohort.frame, s["exposure"], s["time"], s["event"], **kw)

    def compare_knots(self, knots=(3, 4, 5, 6)) -> pd.DataFrame:
        """AIC, BIC (penalty log(n) per coefficient, n the rows analysed, as R's BIC of an rms
        cph fit) and the nonlinearity tests for each number of knots."""
        rows = []
        for k in knots:
            fit = self.refit(knots=int(k))
            p = len(fit.coef)
            ll = fit.loglik[1]
            nonlin = fit.anova().loc[f"{self.settings.exposure}: nonlinear"]
            rows.append(
                {
                    "knots": int(k),
                    "loglik": ll,
                    "aic": -2 * ll + 2 * p,
                    "bic": -2 * ll + np.log(fit.n) * p,
                    "nonlinear_chi2": nonlin.chi2,
                    "nonlinear_df": int(nonlin.df),
                    "nonlinear_p": nonlin.p,
                    "lr_nonlinear_p": fit.lr_test().p,
                }
            )
        return pd.DataFrame(rows).set_index("knots")

    def by(self, group: str, grid=None, ref=None, level: float = 0.95):
        """Curves per level of a modifier (spline x group interaction) and the interaction test.

        Returns (curves, test): a DataFrame like `hr_curve` with a ``group`` column, each level
        relative to ``ref`` within that level, and the Wald test of all interaction terms.
        """
        frame = self.cohort.frame
        if group not in frame.columns:
            raise InputError(
                f"group column '{group}' is not among the analysed columns "
                f"{list(frame.columns)}; add it to the adjustment formula"
            )
        s = self.settings
        levels = sorted(frame[group].unique())
        formula = f"{_spline_term(s.exposure, self.knots)} * C({group})"
        others = [t for t in _terms(s.adjust) if t not in (group, f"C({group})")]
        adjust = " + ".join([formula, *others])
        model = DoseResponse(s, self.cohort, design_matrix(adjust, frame).first(s.exposure))
        inter = [
            c
            for name, cols in model.design.terms.items()
            if ":" in name and name.startswith("rcs(")
            for c in cols
        ]
        test = model._wald(inter)
        if grid is None:
            grid = np.linspace(*np.quantile(self.x, [0.01, 0.99]), 101)
        r = self.reference_value(ref)
        D = rcs_basis(np.asarray(grid, float), self.knots) - rcs_basis([r], self.knots)
        b, V = model.coef.to_numpy(), model.cov.to_numpy()
        z = ndtri(0.5 + level / 2)
        k1 = len(self.knots) - 1
        out = []
        for i, lev in enumerate(levels):
            full = np.zeros((D.shape[0], b.size))
            full[:, model.spline_cols] = D
            if i > 0:
                full[:, inter[(i - 1) * k1 : i * k1]] = D
            lh = full @ b
            se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", full, V, full), 0))
            out.append(
                pd.DataFrame(
                    {
                        "group": lev,
                        "exposure": grid,
                        "log_hr": lh,
                        "se": se,
                        "hr": np.exp(lh),
                        "lower": np.exp(lh - z * se),
                        "upper": np.exp(lh + z * se),
                    }
                )
            )
        return pd.concat(out, ignore_index=True), test

    # --- absolute risk (competing risks) -------------------------------------------------------
    def absolute_risk(
        self,
        grid=None,
        at: dict | None = None,
        time: float | None = None,
        *,
        start: float | None = None,
        level: float = 0.95,
        conf_type: str = "log-log",
        n_points: int = 101,
    ) -> pd.DataFrame:
        """Predicted cumulative incidence of the cause of interest by ``time`` across the
        exposure, accounting for the competing causes (as riskRegression::CSC + predictRisk).

        Cause-specific Cox models with this design are fitted for every cause in the data
        (whatever ``model``); the risk is for the covariate profile ``at`` (a dict; default the
        median of continuous covariates, the mode of the others) and someone event-free at
        ``start`` (required with age as the time scale: e.g. ``start=70, time=85`` is the risk
        of the event by 85 from 70). Pointwise CIs by the delta method (influence functions).
        Columns: exposure, risk, se, lower, upper; ``attrs`` say what was computed.
        """
        from .competing._dose import absolute_risk_curve

        return absolute_risk_curve(
            self, grid, at, time, start=start, level=level, conf_type=conf_type, n_points=n_points
        )

    # --- reporting --------------------------------------------------------------------------
    def summary(self, *, corridor_delta: float = 0.1) -> str:
        """A readable report: data, model, coefficients, tests, nadir, corridor and shape."""
        from .report import summary_text

        return summary_text(self, corridor_delta=corridor_delta)

    def to_dict(self, *, corridor_delta: float = 0.1) -> dict:
        """Results with stable keys (schema in `mgrisk.report`)."""
        from .report import result_dict

        return result_dict(self, corridor_delta=corridor_delta)

    def to_json(self, **kwargs) -> str:
        return json.dumps(self.to_dict(**kwargs), indent=2, default=float)
