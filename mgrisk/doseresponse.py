"""Dose-response analysis: a restricted cubic spline of the exposure in a Cox model.

`fit_dose_response` validates the cohort, builds the design (``rcs(exposure, knots)`` plus an
adjustment formula), fits the cause-specific Cox model and returns a `DoseResponse`, from which
the HR curve, Wald tests (as ``rms::anova``), nadir, corridor, shape verdict and the quantile
table are read. Splines and the Cox engine are called, never re-implemented here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ._memo import memo
from .bootstrap import bootstrap_fits
from .checks.methods import ModelCheckMethods
from .cox import CoxResult, Test, default_robust, fit_prepared, prepare_cox
from .curve import ExposureSummary, SplineCurve, contrast, ratio_table
from .data import CohortData, check_cohort
from .design import Design, design_matrix
from .errors import InputError
from .formula import Categorical, Formula, Spline, parse_formula
from .nadir import Corridor, Nadir
from .quantiles import QuantileTable, quantile_table
from .shape import ShapeResult, shape_verdict, two_lines
from .splines import rcs_basis, rcs_knots

__all__ = ["DoseResponse", "Settings", "fit_dose_response"]

TIME_UNITS = ("years", "months", "weeks", "days")
MODELS = ("cause-specific", "fine-gray")


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
    unit: str | None = None
    timefix: bool = True
    model: str = "cause-specific"  # or "fine-gray" (subdistribution hazards)
    time_unit: str = "years"


def _robust(robust, frame, weights, cluster) -> bool:
    if robust is not None:
        return bool(robust)
    w = np.ones(len(frame)) if weights is None else frame[weights].to_numpy(dtype=float)
    return default_robust(w, cluster)


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise InputError(f"{name}={value!r}: use one of {', '.join(map(repr, choices))}")


def fit_dose_response(
    data: pd.DataFrame | list[pd.DataFrame],
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
    unit: str | None = None,
    time_unit: str = "years",
    model: str = "cause-specific",
    timefix: bool = True,
) -> DoseResponse:
    """Fit a Cox model with a restricted cubic spline of the exposure.

    Parameters
    ----------
    data : pandas.DataFrame or list of pandas.DataFrame
        One row per person (or per interval with ``entry``; name the person in ``cluster``).
        A list of m completed data sets (multiple imputation, `mgrisk.impute`) is fitted one by
        one and pooled by Rubin's rules (`mgrisk.impute.pooled`).
    exposure : str
        Exposure column (e.g. serum Mg in mmol/L); any column name works.
    time, entry : str
        Exit and entry columns; with ``entry``, (entry, exit] data such as age as the time scale
        with delayed entry.
    event : str
        Event codes: 0 censored, 1, 2, ... causes. ``cause`` is the event of interest; other
        codes are competing events, censored in this cause-specific analysis.
    adjust : str, optional
        Adjustment formula, e.g. ``"age + C(sex) + log(egfr)"`` (grammar in `mgrisk.formula`;
        it is parsed, never run as code; quote other names as ```serum Mg (mmol/L)```).
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
    unit : str, optional
        Unit of the exposure, for printing (e.g. "mmol/L"); without it texts and figures show
        the column name alone.
    time_unit : {"years", "months", "weeks", "days"}
        Unit of the time columns: names person-time and rates ("per 1,000 person-months").
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

    Examples
    --------
    >>> from mgrisk import simulate_cohort
    >>> cohort = simulate_cohort("rotterdam", n=3000, seed=1)
    >>> fit = fit_dose_response(cohort, "mg", "exit", "event", entry="entry",
    ...                         adjust="female + egfr", unit="mmol/L")
    >>> fit.curve.label
    'mg (mmol/L)'
    """
    if isinstance(data, list | tuple):  # m completed data sets: fit each, pool (Rubin's rules)
        options = {
            k: v for k, v in locals().items() if k not in ("data", "exposure", "time", "event")
        }
        from .impute.pooled import fit_imputed

        return fit_imputed(data, exposure, time, event, **options)
    _check_choice("model", model, MODELS)
    _check_choice("ties", ties, ("efron", "breslow"))
    _check_choice("time_unit", time_unit, TIME_UNITS)
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
    frame = cohort.frame
    x = frame[exposure].to_numpy()
    k = _knots(x, knots, exposure)
    formula = Formula(((Spline(exposure, tuple(map(float, k))),),)) + parse_formula(adjust)
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
        model,
        time_unit,
    )
    return DoseResponse.fit(settings, cohort, design)


def _knots(x: np.ndarray, knots, exposure: str) -> np.ndarray:
    if np.ndim(knots) == 0:
        if isinstance(knots, bool) or int(knots) != knots or not 3 <= int(knots) <= 10:
            raise InputError(f"knots={knots!r}: give a whole number from 3 to 10, or the knots")
        n_distinct = np.unique(x).size
        if n_distinct < int(knots):
            raise InputError(
                f"exposure '{exposure}': {n_distinct} distinct value(s), too few for "
                f"{int(knots)} knots; use fewer knots (at least 3 distinct values are needed)"
            )
        return rcs_knots(x, int(knots))
    k = np.asarray(knots, dtype=float)
    if k.size < 3 or np.any(np.diff(k) <= 0) or not np.isfinite(k).all():
        raise InputError(f"knots={list(knots)}: give at least 3 increasing finite values")
    return k


class DoseResponse(ModelCheckMethods):
    """A fitted dose-response model (see `fit_dose_response`).

    The spline's estimate is `curve` (a `SplineCurve`): ``hr_curve``, ``nadir`` and
    ``corridor`` are its methods, with the fit's reference as default. Model-level analyses
    (``anova``, ``quantile_table``, ``shape``, ``lr_test``) are computed once per arguments;
    `results` gathers everything a report shows, computed once.
    """

    def __init__(
        self,
        settings: Settings,
        cohort: CohortData,
        design: Design,
        prepared,
        cox: CoxResult,
        rows: np.ndarray | None = None,
    ):
        self.settings = settings
        self.cohort = cohort
        self.design = design
        self.prepared = prepared
        self.cox = cox
        self.rows = rows  # frame row of each prepared row (None: the same rows in order)
        self.x = cohort.frame[settings.exposure].to_numpy(dtype=float)
        self.knots = np.array(settings.knots)
        self.spline_cols = design.terms[settings.exposure]
        self._memo: dict = {}
        self.n_fits = 1  # Cox fits made for this analysis (the spline model)

    @classmethod
    def fit(cls, settings: Settings, cohort: CohortData, design: Design) -> DoseResponse:
        """Prepare the data and fit the spline model."""
        s, frame = settings, cohort.frame
        rows = None
        if s.model == "fine-gray":
            from .competing._dose import fine_gray_prepared

            prepared, rows = fine_gray_prepared(s, frame, design)
        else:
            prepared = prepare_cox(
                design.matrix,
                frame[s.time],
                event_indicator(frame, s),
                entry=None if s.entry is None else frame[s.entry],
                strata=None if s.strata is None else frame[s.strata],
                weights=None if s.weights is None else frame[s.weights],
                cluster=None if s.cluster is None else frame[s.cluster],
                fix_ties=s.timefix,
            )
        cox = fit_prepared(prepared, ties=s.ties, robust=s.robust)
        return cls(settings, cohort, design, prepared, cox, rows)

    # --- what the fit holds ------------------------------------------------------------------
    coef = property(lambda self: self.cox.coef)
    se = property(lambda self: self.cox.se)
    variance = property(lambda self: self.cox.variance)  # robust when settings.robust
    loglik = property(lambda self: self.cox.loglik)
    n = property(lambda self: self.cox.n if self.rows is None else len(self.cohort.frame))
    n_events = property(lambda self: self.cox.n_events)
    n_dropped = property(lambda self: self.cohort.n_dropped)

    @property
    def cov(self) -> pd.DataFrame:
        """The covariance every test and CI uses (the robust one when ``settings.robust``)."""
        return self.cox.variance

    @cached_property
    def curve(self) -> SplineCurve:
        """The spline's curve estimate: knots, coefficients, covariance, exposure summary."""
        s, cols = self.settings, self.spline_cols
        return SplineCurve(
            s.exposure,
            s.unit,
            s.knots,
            self.cox.beta[cols],
            self.cox.vcov[np.ix_(cols, cols)],
            ExposureSummary.of(self.x),
            self.estimated_by,
            "subdistribution hazard ratio" if s.model == "fine-gray" else "hazard ratio",
            self._resample_spline,
        )

    @property
    def estimated_by(self) -> str:
        """How the curve was estimated, in a few words (the report and figures say it)."""
        kind = "Fine-Gray model" if self.settings.model == "fine-gray" else "Cox model"
        return f"{kind}, {self.n:,} rows, {self.n_events:,} events"

    spline_coef = property(lambda self: self.curve.coef)
    spline_cov = property(lambda self: self.curve.cov)

    @property
    def data_range(self) -> tuple[float, float]:
        return self.curve.x.lo, self.curve.x.hi

    def reference_value(self, ref=None) -> float:
        """The reference exposure: a number, "median" (of the analysed rows) or "nadir"."""
        return self.curve.reference_value(self.settings.reference if ref is None else ref)

    # --- curve estimands (views of `curve`) -----------------------------------------------
    def hr_curve(
        self, grid=None, ref=None, level: float = 0.95, band: str = "pointwise", n_points: int = 101
    ) -> pd.DataFrame:
        """HR of the exposure versus ``ref`` (default: the fit's reference); see
        `SplineCurve.hr_curve`."""
        ref = self.settings.reference if ref is None else ref
        return self.curve.hr_curve(grid, ref, level, band, n_points)

    @memo
    def nadir(self, method: str = "inversion", level: float = 0.95, **boot) -> Nadir:
        """The nadir and its CI (default: test inversion); see `SplineCurve.nadir`."""
        return self.curve.nadir(method, level, **boot)

    @memo
    def corridor(
        self, rule: str = "delta", delta: float = 0.1, level: float = 0.95, **boot
    ) -> Corridor:
        """The low-risk corridor; see `SplineCurve.corridor`."""
        return self.curve.corridor(rule, delta, level, **boot)

    # --- tests -------------------------------------------------------------------------------
    def _wald(self, cols) -> Test:
        b, V = self.cox.beta[cols], self.cox.vcov[np.ix_(cols, cols)]
        return Test.of(b @ np.linalg.solve(V, b), len(cols))

    @memo
    def anova(self) -> pd.DataFrame:
        """Wald tests by term as ``rms::anova``: the exposure, its nonlinear part, each
        adjustment term (with the interactions it is part of), TOTAL NONLINEAR and TOTAL."""
        rows = {}
        terms, nonlinear = self.design.terms, self.design.nonlinear
        parts = {name: name.split(":") for name in terms}
        for name, cols in terms.items():
            if len(parts[name]) > 1:
                continue
            higher = [
                c
                for other, oc in terms.items()
                if len(parts[other]) > 1 and name in parts[other]
                for c in oc
            ]
            rows[name] = self._wald(cols + higher)
            if name in nonlinear:
                rows[f"{name}: nonlinear"] = self._wald(nonlinear[name])
        interaction = [c for name, cols in terms.items() if len(parts[name]) > 1 for c in cols]
        all_nonlinear = [c for cols in nonlinear.values() for c in cols]
        if len(nonlinear) > 1 or (nonlinear and interaction):  # as rms prints it
            rows["TOTAL NONLINEAR"] = self._wald(all_nonlinear)
        if interaction:
            rows["TOTAL INTERACTION"] = self._wald(interaction)
        rows["TOTAL"] = self._wald(list(range(len(self.coef))))
        return pd.DataFrame([asdict(t) for t in rows.values()], index=list(rows))

    def fit_exposure(self, columns: np.ndarray, names: list[str]) -> CoxResult:
        """Refit on the same rows with other exposure columns (e.g. categories) + the adjustment.

        Newton starts from the spline model: the adjustment at its coefficients, the new
        columns at the least-squares projection of the fitted spline log-HR on them (the same
        maximum, reached in fewer likelihood passes)."""
        adj_cols = [c for c in range(len(self.coef)) if c not in self.spline_cols]
        X = columns if self.rows is None else columns[self.rows]
        prepared = self.prepared.with_columns(X, names, keep=adj_cols)
        start = _projection(X, self._fitted_log_hr)
        self.n_fits += 1
        return fit_prepared(
            prepared,
            ties=self.settings.ties,
            robust=self.settings.robust,
            init=np.concatenate([start, self.cox.beta[adj_cols]]),
        )

    @cached_property
    def _fitted_log_hr(self) -> np.ndarray:
        """The spline's log-HR at each analysed row (up to a constant), in the caller's order."""
        data, beta = self.prepared, self.cox.beta_scaled
        return data.to_caller(sum(data.X[:, j] * beta[j] for j in self.spline_cols))

    @cached_property
    def linear_fit(self) -> CoxResult:
        """The model with the exposure entered linearly."""
        return self.fit_exposure(self.x[:, None], [self.settings.exposure])

    @memo
    def lr_test(self, what: str = "nonlinear") -> Test:
        """Likelihood-ratio test of nonlinearity: the spline model versus the linear one."""
        if what != "nonlinear":
            raise InputError(f"lr_test({what!r}): only 'nonlinear' is available")
        return Test.of(2 * (self.loglik[1] - self.linear_fit.loglik[1]), len(self.knots) - 2)

    # --- bootstrap ------------------------------------------------------------------------
    def bootstrap(self, n_boot: int = 200, seed: int = 0, jobs=None, progress: bool = True):
        """Bootstrap refits (persons, or clusters, resampled); computed once per (n_boot, seed)."""
        return self._bootstrap(n_boot, seed, jobs=jobs, progress=progress)

    @memo
    def _bootstrap(self, n_boot, seed, *, jobs, progress):
        return bootstrap_fits(
            self.prepared,
            n_boot=n_boot,
            seed=seed,
            jobs=jobs,
            progress=progress,
            ties=self.settings.ties,
        )

    def _resample_spline(self, n_boot, seed, jobs, progress):
        fits = self.bootstrap(n_boot, seed, jobs, progress)
        cols = self.spline_cols
        return [
            (c[cols], v[np.ix_(cols, cols)])
            for c, v in zip(fits.coef[fits.ok], fits.cov[fits.ok], strict=True)
        ]

    # --- shape, categories, knots, modifiers --------------------------------------------------
    @memo
    def shape(self, alpha: float = 0.05) -> ShapeResult:
        """Shape verdict with its evidence; the decision rule is in `mgrisk.shape`."""
        if not 0 < alpha < 1:
            raise InputError(f"alpha={alpha}: a test level must be between 0 and 1, e.g. 0.05")
        curve = self.curve
        lm = curve.end_slopes()

        def fit_lines(cols):
            fit = self.fit_exposure(cols, ["line_low", "line_high", "jump"])
            return fit.beta[:3], np.sqrt(np.diag(fit.vcov))[:3]

        inverted = lm["p_inverted_u"] < lm["p_u"]
        tl = self._two_lines(inverted, fit_lines)
        nadir, interior = curve.minimum()
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

    @memo
    def _two_lines(self, inverted, fit_lines) -> dict:
        c = self.curve
        return two_lines(self.x, c.coef, c.cov, c.knots, fit_lines, inverted=inverted)

    @property
    def person_time(self) -> np.ndarray:
        """Time at risk of each analysed row, in ``settings.time_unit``."""
        s, frame = self.settings, self.cohort.frame
        exit_ = frame[s.time].to_numpy(dtype=float)
        return exit_ - frame[s.entry].to_numpy(dtype=float) if s.entry else exit_

    @memo
    def quantile_table(
        self, q: int = 5, ref: str | int = "middle", level: float = 0.95
    ) -> QuantileTable:
        """The Rotterdam table: categories, n, events, person-time, rate per 1,000 person-time
        units, HR (same adjustment) vs the reference category, and p for trend."""
        s = self.settings
        return quantile_table(
            self.x,
            event_indicator(self.cohort.frame, s),
            self.person_time,
            self.fit_exposure,
            q=q,
            ref=ref,
            level=level,
            time_unit=s.time_unit,
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
            "time_unit",
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
        spline = (Spline(s.exposure, s.knots),)
        modifier = (Categorical(group),)
        others = parse_formula(s.adjust).without(group)
        formula = Formula((spline, modifier, spline + modifier)) + others
        design = design_matrix(formula, frame).first(s.exposure)
        model = DoseResponse.fit(s, self.cohort, design)
        self.n_fits += 1
        label = f"{s.exposure}:C({group})"
        inter = design.terms[label]
        test = model._wald(inter)
        if grid is None:
            grid = self.curve.grid()
        r = self.reference_value(ref)
        D = rcs_basis(np.asarray(grid, float), self.knots) - rcs_basis([r], self.knots)
        b, V = model.cox.beta, model.cox.vcov
        z = ndtri(0.5 + level / 2)
        k1 = len(self.knots) - 1
        out = []
        for i, lev in enumerate(levels):
            full = np.zeros((D.shape[0], b.size))
            full[:, model.spline_cols] = D
            if i > 0:
                full[:, inter[(i - 1) * k1 : i * k1]] = D
            table = ratio_table(grid, *contrast(full, b, V), z)
            table.insert(0, "group", lev)
            out.append(table)
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

        own = self.cox if self.settings.model == "cause-specific" else None
        grid = self.curve.grid(n_points) if grid is None else grid
        return absolute_risk_curve(
            self.settings,
            self.cohort,
            self.design,
            own,
            grid,
            at,
            time,
            start=start,
            level=level,
            conf_type=conf_type,
        )

    def to_meta_table(self, q: int = 5, ref: str | int = 1, study: str = "this cohort"):
        """The quantile table as a dose-response meta-analysis input (`mgrisk.dose_response_meta`):
        one row per category with its median exposure as dose, log HR and SE (empty on the
        reference), events as cases and person-time as n, type "ir".

        Examples
        --------
        >>> table = fit.to_meta_table()  # doctest: +SKIP
        >>> dose_response_meta(pd.concat([published, table]), study="study", dose="dose",
        ...                    log_rr="log_rr", se="se", type="type", cases="cases", n="n",
        ...                    highlight="this cohort")  # doctest: +SKIP
        """
        from .quantiles import quantile_categories

        qt = self.quantile_table(q=q, ref=ref, level=0.95)
        t = qt.table
        cat, _ = quantile_categories(self.x, q)
        z = float(ndtri(0.975))  # the table's CIs are 95 %: log(upper / lower) = 2 z se
        reference = t.index == qt.reference
        log_rr = np.where(reference, 0.0, np.log(t["hr"].to_numpy()))
        se = np.where(reference, np.nan, np.log(t["upper"] / t["lower"]).to_numpy() / (2 * z))
        return pd.DataFrame(
            {
                "study": study,
                "category": t.index.to_numpy(),
                "dose": [float(np.median(self.x[cat == k])) for k in range(q)],
                "log_rr": log_rr,
                "se": se,
                "cases": t["events"].to_numpy(),
                "n": t["person_time"].to_numpy(),
                "type": "ir",
            }
        )

    # --- missing data, sensitivity analyses and E-values (issue 19) ----------------------------
    #: How the data were imputed and pooled (set by `mgrisk.impute.PooledDoseResponse`).
    imputation: str | None = None

    @memo
    def evalues(
        self, percentiles=(5, 95), q: int = 5, rare: bool | None = None, level: float = 0.95
    ) -> pd.DataFrame:
        """E-values (VanderWeele & Ding 2017) of each quantile category versus the reference
        and of the HR at exposure percentiles versus the nadir; see
        `mgrisk.evalues.dose_response_evalues`."""
        from .evalues import dose_response_evalues

        return dose_response_evalues(self, percentiles, q, rare, level)

    def sensitivity(self, **options):
        """The sensitivity panel: the analysis re-run with early follow-up excluded, a lagged
        exposure, 3 to 6 knots, fractional polynomials and imputed data; see
        `mgrisk.sensitivity.sensitivity_panel`."""
        from .sensitivity import sensitivity_panel

        return sensitivity_panel(self, **options)

    # --- results and reporting ---------------------------------------------------------------
    def results(self, **options) -> Results:
        """Everything a report shows, computed once (see `mgrisk.results.Options`)."""
        from .results import Options, compute_results

        return compute_results(self, replace(Options(), **options))

    def summary(self, **options) -> str:
        """A readable report: data, model, coefficients, tests, nadir, corridor and shape."""
        from .report import summary_text

        return summary_text(self.results(**options))

    def to_dict(self, **options) -> dict:
        """Results with stable keys (schema in `mgrisk.report`)."""
        from .report import result_dict

        return result_dict(self.results(**options))

    def to_json(self, **options) -> str:
        return json.dumps(self.to_dict(**options), indent=2, default=float)


def _projection(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Slopes of the least-squares fit of y on X with an intercept (normal equations from the
    column sums: no n x (p + 1) copy of X)."""
    n, total = len(y), X.sum(axis=0)
    gram = np.block([[X.T @ X, total[:, None]], [total[None, :], np.array([[n]])]])
    return (np.linalg.pinv(gram) @ np.r_[X.T @ y, y.sum()])[:-1]


def event_indicator(frame: pd.DataFrame, settings: Settings) -> np.ndarray:
    """1.0 where the row has the event of interest, else 0.0."""
    return (frame[settings.event].to_numpy() == settings.cause).astype(float)


if False:  # pragma: no cover  (type checkers: Results lives in mgrisk.results)
    from .results import Results
