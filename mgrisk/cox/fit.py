"""Fit Cox models: Newton-Raphson as R's coxph does it, on prepared data.

The loop (`newton`) works on any object with ``evaluate(beta) -> (loglik, score, information)``;
`CoxLikelihood` supplies that from the numba kernels. Convergence is R's rule (relative change of
the log-likelihood <= tol), with step-halving when the log-likelihood falls. Afterwards the size
of the next Newton step is checked against R's ``toler.inf`` so that a coefficient running to
infinity (monotone likelihood) is named, not returned as a finite number.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import singledispatch

import numpy as np

from ..errors import ConvergenceError, ConvergenceWarning, InputError
from . import _kernels, _warmup
from .prepare import PreparedCox, prepare_cox
from .result import CoxResult

__all__ = ["CoxLikelihood", "fit_cox", "fit_prepared", "likelihood", "newton"]


@dataclass(frozen=True)
class CoxLikelihood:
    """The partial likelihood of prepared data, in the centred and scaled coordinates."""

    data: PreparedCox
    efron: bool

    def _args(self):
        d = self.data
        return (d.exit_pos, d.entry_pos, d.death_ptr, d.death_rows, d.block_end, self.efron)

    def evaluate(self, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        d = self.data
        args = (d.exit_pos, d.entry_pos, d.death_ptr, d.death_rows, d.block_end, d.event)
        return _kernels.cox_pass(d.X, d.weights, d.offset, beta, *args, self.efron)

    def score_residuals(self, beta: np.ndarray):
        d = self.data
        return _kernels.score_residuals(d.X, d.weights, d.offset, beta, *self._args())


@singledispatch
def likelihood(data: PreparedCox, efron: bool):
    """The object `fit_prepared` maximises for ``data``: `CoxLikelihood` for `PreparedCox`.

    Other prepared data (a subclass of `PreparedCox`, e.g. Fine-Gray's) register their own
    likelihood, with ``evaluate`` and ``score_residuals`` as `CoxLikelihood` has them.

    Examples
    --------
    >>> data = prepare_cox([[0.0], [1.0], [2.0]], [1.0, 2.0, 3.0], [1, 1, 0])
    >>> type(likelihood(data, True)).__name__
    'CoxLikelihood'
    """
    return CoxLikelihood(data, efron)


@dataclass
class NewtonState:
    beta: np.ndarray
    loglik: float
    score: np.ndarray
    info: np.ndarray
    n_iter: int
    converged: bool
    history: list[float]


def _is_positive_definite(info: np.ndarray) -> bool:
    if not np.isfinite(info).all():
        return False
    try:
        np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        return False
    return True


def _solve(info: np.ndarray, score: np.ndarray) -> np.ndarray | None:
    return np.linalg.solve(info, score) if _is_positive_definite(info) else None


def newton(
    model, beta0: np.ndarray, *, tol: float = 1e-9, max_iter: int = 50, start=None
) -> NewtonState:
    """Maximise ``model.evaluate`` by Newton-Raphson with step-halving (R's coxph loop).

    ``start`` may give ``model.evaluate(beta0)`` when the caller already has it.
    """
    beta = np.array(beta0, dtype=float)
    loglik, score, info = model.evaluate(beta) if start is None else start
    if not np.isfinite(loglik):
        raise ConvergenceError("the log-likelihood is not finite at the initial values")
    history = [loglik]
    step = _solve(info, score)
    halving = 0
    for it in range(1, max_iter + 1):
        if step is None:
            raise ConvergenceError(
                "the information matrix is not positive definite (collinear covariates, or a "
                f"coefficient running to infinity) at iteration {it}",
                history,
            )
        new_beta = beta + step
        new_ll, new_score, new_info = model.evaluate(new_beta)
        history.append(new_ll)
        if not np.isfinite(new_ll) or new_ll < loglik - 1e-12 * abs(loglik):
            halving += 1
            if halving > 30:
                raise ConvergenceError(
                    f"step-halving failed at iteration {it}: the log-likelihood does not "
                    "increase along the Newton direction (numerical trouble, or coefficients "
                    "running to infinity)",
                    history,
                )
            step = step / 2  # step-halving: try half of the last step from the best point
            continue
        # R's rule |1 - loglik / new_ll| <= tol, written without dividing by a zero new_ll
        converged = abs(new_ll - loglik) <= tol * abs(new_ll) and halving == 0
        halving = 0
        beta, loglik, score, info = new_beta, new_ll, new_score, new_info
        if converged:
            return NewtonState(beta, loglik, score, info, it, True, history)
        step = _solve(info, score)
    return NewtonState(beta, loglik, score, info, max_iter, False, history)


def fit_prepared(
    data: PreparedCox,
    *,
    ties: str = "efron",
    robust: bool = False,
    init=None,
    tol: float = 1e-9,
    max_iter: int = 50,
    on_failure: str = "raise",
) -> CoxResult:
    """Fit a Cox model to prepared data (see `fit_cox`); reuse `data` for bootstrap refits."""
    if ties not in ("efron", "breslow"):
        raise InputError(f"ties={ties!r}: use 'efron' (R's default) or 'breslow'")
    if on_failure not in ("raise", "warn"):
        raise InputError(f"on_failure={on_failure!r}: use 'raise' or 'warn'")
    model = likelihood(data, ties == "efron")
    p = data.X.shape[1]
    _warmup.wait()  # for the kernels a child process may be compiling (`_warmup.start`)
    beta0 = np.zeros(p) if init is None else np.asarray(init, dtype=float).ravel()
    if beta0.size != p:
        raise InputError(f"init: {beta0.size} values for {p} coefficients")
    beta0 = beta0 * data.scale  # to the centred and scaled coordinates
    try:
        # the null model's figures come free with a start at zero; else when first asked for
        null = model.evaluate(np.zeros(p)) if init is None else None
        start = null if init is None else None
        state = newton(model, beta0, tol=tol, max_iter=max_iter, start=start)
    except ZeroDivisionError:  # every risk score underflowed beside one that overflowed
        raise ConvergenceError(_overflow_message(data)) from None
    problems = []
    if not state.converged:
        problems.append(
            f"no convergence in {max_iter} iterations (log-likelihood history: "
            + ", ".join(f"{v:.6f}" for v in state.history[-5:])
            + ")"
        )
    cov_scaled = _inverse(state.info, data.names)
    # R's check: a coefficient whose next Newton step is still large is running to infinity.
    step = np.abs(cov_scaled @ state.score)
    infinite = ~np.isfinite(state.score) | (step > np.sqrt(tol) * (1 + np.abs(state.beta)))
    if infinite.any():
        names = [data.names[j] for j in np.flatnonzero(infinite)]
        problems.append(
            f"the log-likelihood converged before coefficient(s) {names}: they may be infinite "
            "(monotone likelihood, e.g. a covariate that separates events from non-events)"
        )
    if problems:
        message = "; ".join(problems)
        if on_failure == "raise":
            raise ConvergenceError(message, state.history)
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
    return CoxResult.from_fit(data, model, state, cov_scaled, null, robust=robust)


#: Distance from the mean, in mean absolute deviations, beyond which a value is named as a
#: likely data error when risk scores overflow.
EXTREME = 1e3


def _overflow_message(data: PreparedCox) -> str:
    """Name the columns whose extreme values make the risk scores overflow."""
    far = np.abs(data.X).max(axis=0)
    parts = []
    for j in np.flatnonzero(far > EXTREME):
        k = int(np.argmax(np.abs(data.X[:, j])))
        value = data.X[k, j] * data.scale[j] + data.center[j]
        parts.append(f"'{data.names[j]}' ({value:g} at row {data.order[k] + 1})")
    where = f" from column(s) {', '.join(parts)}" if parts else ""
    return (
        f"the risk scores overflow{where}: values that far from the others are likely data "
        "errors; fix them, or transform the column (e.g. log)"
    )


def _inverse(info: np.ndarray, names: list[str]) -> np.ndarray:
    if not _is_positive_definite(info):
        raise ConvergenceError(
            f"the information matrix is singular at the solution (columns {names}); "
            "a coefficient may be infinite or the design collinear"
        )
    return np.linalg.inv(info)


def default_robust(weights: np.ndarray, cluster) -> bool:
    """R coxph's default: robust variance with a cluster or with non-integer weights."""
    return cluster is not None or bool(np.any(weights != np.floor(weights)))


def fit_cox(
    X,
    time,
    event,
    *,
    entry=None,
    strata=None,
    weights=None,
    ties: str = "efron",
    robust: bool | None = None,
    cluster=None,
    offset=None,
    init=None,
    tol: float = 1e-9,
    max_iter: int = 50,
    on_failure: str = "raise",
) -> CoxResult:
    """Fit a Cox proportional hazards model, with the results of R's ``survival::coxph``.

    Parameters
    ----------
    X : array-like or DataFrame, shape (n, p)
        Covariates (column names are kept; unnamed columns are ``x0``, ``x1``, ...).
    time : array-like, shape (n,)
        Exit time (follow-up time, or age at the end of follow-up with ``entry``).
    event : array-like, shape (n,)
        1 for an event at ``time``, 0 for censoring.
    entry : array-like, shape (n,), optional
        Entry time for counting-process (entry, exit] data: delayed entry with age as the time
        scale, or several rows per person for time-varying covariates (name the person in
        ``cluster``).
    strata : array-like, optional
        Stratum of each row (separate baseline hazards).
    weights : array-like, optional
        Case weights (>= 0, need not be integers).
    ties : {"efron", "breslow"}
    robust : bool, optional
        Use the robust (sandwich) variance, grouped by ``cluster`` when given. Default, as R's
        coxph: robust when ``cluster`` is given or any weight is not an integer.
    cluster : array-like, optional
        Person (or cluster) identifier for the robust variance.
    offset : array-like, optional
        Fixed part of the linear predictor.
    init : array-like, optional
        Initial coefficients.
    tol : float
        Convergence criterion on the relative change of the log-likelihood (R's ``eps``).
    max_iter : int
        Maximum number of Newton iterations.
    on_failure : {"raise", "warn"}
        Non-convergence or an infinite coefficient raises `ConvergenceError`, or warns.

    Returns
    -------
    CoxResult

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=(2000, 1))
    >>> t = rng.exponential(np.exp(-0.5 * x[:, 0]))
    >>> fit = fit_cox(x, t, np.ones(2000))
    >>> bool(abs(fit.coef["x0"] - 0.5) < 0.1)
    True
    """
    data = prepare_cox(
        X,
        time,
        event,
        entry=entry,
        strata=strata,
        weights=weights,
        offset=offset,
        cluster=cluster,
    )
    if robust is None:
        robust = default_robust(data.weights, cluster)
    return fit_prepared(
        data,
        ties=ties,
        robust=robust,
        init=init,
        tol=tol,
        max_iter=max_iter,
        on_failure=on_failure,
    )
