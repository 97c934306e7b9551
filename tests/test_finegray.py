"""Fine-Gray without data expansion against R's finegray + coxph and the expanded rows.

Golden values: tests/reference/finegray.R (R survival 3.5.3) on data it generates (ties,
delayed entry, strata, case weights) and on flchain with age as the time scale, and
tests/reference/competing_extra.R. The second reference is the expanded-data path
(``expand=True``: R's rows, row for row, fitted by the Cox engine), on random data.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mgrisk.competing import PreparedFineGray, finegray_rows, fit_fine_gray, prepare_fine_gray
from mgrisk.cox import fit_prepared
from mgrisk.cox.fit import likelihood
from mgrisk.errors import ConvergenceError, InputError
from mgrisk.splines import rcs_basis

HERE = Path(__file__).with_name("reference")
REF = json.loads((HERE / "finegray.json").read_text())
EXTRA = json.loads((HERE / "competing_extra.json").read_text())
TOL = 1e-8


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a / b - 1)))


def _check(fit, ref):
    assert _rel(fit.coef, ref["coef"]) < TOL
    assert _rel(fit.se, ref["robust_se"]) < TOL
    assert _rel(fit.model_se, ref["naive_se"]) < TOL
    np.testing.assert_allclose(fit.robust_cov, ref["var"], rtol=TOL, atol=0)
    np.testing.assert_allclose(fit.cov, ref["naive_var"], rtol=TOL, atol=0)
    np.testing.assert_allclose(fit.loglik, ref["loglik"], rtol=1e-12)


@pytest.fixture(scope="module")
def sim():
    return pd.DataFrame(
        {k: REF["sim"][k] for k in ("x1", "x2", "grp", "entry", "fu", "exit", "status", "wt")}
    )


CASES = {
    "sim_right": dict(time="fu"),
    "sim_delayed": dict(time="exit", entry="entry"),
    "sim_strata_weights": dict(time="exit", entry="entry", strata="grp", weights="wt"),
    "sim_right_strata_weights": dict(time="fu", strata="grp", weights="wt"),
}


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_r_finegray_coxph(sim, case, ties):
    spec = CASES[case]
    ref = next(c for c in REF[case] if c["ties"] == ties)
    kwargs = {k: sim[v] for k, v in spec.items() if k != "time"}
    fit = fit_fine_gray(
        sim[["x1", "x2"]], sim[spec["time"]], sim.status, ties=ties, tol=1e-12, **kwargs
    )
    assert isinstance(fit.data, PreparedFineGray) and fit.n == len(sim)
    _check(fit, ref)
    # the expanded rows behind R's fit: as many, with the same total weight
    rows = finegray_rows(sim[spec["time"]], sim.status, **kwargs)
    assert rows.n == ref["nrow"]
    assert rows.weight.sum() == pytest.approx(ref["sum_wt"], rel=1e-12)


@pytest.fixture(scope="module")
def flchain():
    fl = pd.read_csv(HERE / "data" / "flchain.csv")
    fl = fl[fl.creatinine.notna() & (fl.futime > 0)].reset_index(drop=True)
    fl["status"] = np.where(fl.death == 0, 0, np.where(fl.chapter == "Circulatory", 1, 2))
    fl["exit"] = fl.age + fl.futime / 365.25
    fl[["c1", "c2", "c3"]] = rcs_basis(fl.creatinine.to_numpy(), np.array(EXTRA["knots"]))
    return fl


def test_flchain_age_scale_strata_matches_r(flchain):
    """Age as the time scale (timefix merges near-tied ages), strata by sex."""
    ref = REF["flchain_age_strata"]
    assert len(flchain) == ref["n"]
    np.testing.assert_array_equal(EXTRA["knots"], ref["knots"])
    fit = fit_fine_gray(
        flchain[["c1", "c2", "c3"]],
        flchain.exit,
        flchain.status,
        entry=flchain.age,
        strata=flchain.sex,
        tol=1e-12,
    )
    _check(fit, ref["fit"])


@pytest.mark.parametrize("case", EXTRA["finegray"], ids=lambda c: c["ties"])
def test_flchain_right_censored_matches_r(flchain, case):
    X = flchain[["c1", "c2", "c3", "age", "sex"]]
    fit = fit_fine_gray(X, flchain.futime, flchain.status, ties=case["ties"], tol=1e-12)
    assert _rel(fit.coef, case["coef"]) < TOL
    assert _rel(fit.se, case["robust_se"]) < TOL
    assert _rel(fit.model_se, case["naive_se"]) < TOL
    np.testing.assert_allclose(fit.loglik, case["loglik"], rtol=1e-12)


def test_flchain_age_scale_matches_r(flchain):
    ref = EXTRA["age_scale"]
    fit = fit_fine_gray(
        flchain[["c1", "c2", "c3", "sex"]],
        flchain.exit,
        flchain.status,
        entry=flchain.age,
        tol=1e-12,
    )
    assert _rel(fit.coef, ref["coef"]) < TOL
    assert _rel(fit.se, ref["robust_se"]) < TOL


def test_crr_censoring_ties_as_expanded(flchain):
    X = flchain[["c1", "c2", "c3", "age", "sex"]]
    kw = dict(ties="breslow", tol=1e-12, censoring_ties="crr")
    fit = fit_fine_gray(X, flchain.futime, flchain.status, **kw)
    ref = fit_fine_gray(X, flchain.futime, flchain.status, expand=True, **kw)
    assert _rel(fit.coef, ref.coef) < TOL
    assert _rel(fit.se, ref.se) < TOL
    assert _rel(fit.coef, EXTRA["crr"]["coef"]) < 1e-9


# --- against the expanded rows on random data ------------------------------------------------
@st.composite
def cohorts(draw):
    n = draw(st.integers(8, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    grid = draw(st.sampled_from([0.5, 0.1, 0.0]))  # 0: no ties
    X = rng.normal(size=(n, 2))
    entry = rng.uniform(0, 3, n) if draw(st.booleans()) else None
    fu = rng.exponential(2.0, n)
    if grid:
        fu = np.maximum(np.round(fu / grid) * grid, grid)
        entry = None if entry is None else np.round(entry / grid) * grid
    time = fu if entry is None else entry + fu
    event = rng.choice(
        [0, 1, 2], n, p=draw(st.sampled_from([[0.3, 0.3, 0.4], [0.1, 0.4, 0.5], [0.5, 0.2, 0.3]]))
    )
    event[rng.integers(n)] = 1
    strata = rng.integers(0, draw(st.integers(1, 3)), n)
    weights = rng.uniform(0.2, 3.0, n) if draw(st.booleans()) else None
    ties = draw(st.sampled_from(["efron", "breslow"]))
    return X, time, event, entry, strata, weights, ties


@settings(max_examples=60, deadline=None)
@given(cohorts())
def test_same_likelihood_as_expanded_rows(cohort):
    """Log-likelihood, score, information and per-person score residuals at an arbitrary beta,
    and the robust variance at the estimate, equal those of R's expanded rows."""
    X, time, event, entry, strata, weights, ties = cohort
    kw = dict(entry=entry, strata=strata, weights=weights)
    rows = finegray_rows(time, event, **kw)
    assume(np.isfinite(rows.weight).all())
    assume(rows.n > 4 * X.shape[1])  # R drops strata without events of interest
    persons, _ = prepare_fine_gray(X, time, event, **kw)
    expanded, _ = prepare_fine_gray(X, time, event, expand=True, **kw)
    assert isinstance(persons, PreparedFineGray)
    efron = ties == "efron"
    mp, me = likelihood(persons, efron), likelihood(expanded, efron)
    beta = np.array([0.4, -0.7])  # raw coordinates; the kernels see centred, scaled columns
    sp, se_ = persons.scale, expanded.scale
    a = mp.evaluate(beta * sp)
    b = me.evaluate(beta * se_)
    assert abs(a[0] - b[0]) <= 1e-10 * (1 + abs(b[0]))
    np.testing.assert_allclose(a[1] * sp, b[1] * se_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(
        a[2] * np.outer(sp, sp), b[2] * np.outer(se_, se_), rtol=1e-8, atol=1e-10
    )
    # score residuals: a person's equals the fgwt-weighted sum over their expanded rows
    Lp = persons.to_caller(mp.score_residuals(beta * sp)[0]) * sp
    Le = me.score_residuals(beta * se_)[0] * se_
    person = rows.row[expanded.order]
    case = np.ones(len(time)) if weights is None else weights
    fgwt = expanded.weights / case[person]
    per_person = np.zeros_like(Lp)
    np.add.at(per_person, person, Le * fgwt[:, None])
    np.testing.assert_allclose(Lp, per_person, rtol=1e-8, atol=1e-10)
    try:  # either fit may stop on separation in tiny data (a coefficient runs to infinity; at
        # tol 1e-12 a near-separated fit's log-likelihood can wander at its rounding noise)
        fit = fit_fine_gray(X, time, event, ties=ties, tol=1e-12, **kw)
        ref = fit_fine_gray(X, time, event, ties=ties, tol=1e-12, expand=True, **kw)
    except (ConvergenceError, ZeroDivisionError):
        return  # compared above
    np.testing.assert_allclose(fit.coef, ref.coef, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fit.robust_cov, ref.robust_cov, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(fit.cov, ref.cov, rtol=1e-8, atol=1e-12)


# --- refits and threads ----------------------------------------------------------------------
def test_refit_with_new_weights_is_the_expanded_fit_with_them(sim):
    """Bootstrap refits reuse the prepared persons (``with_weights``): the same as the
    expanded rows fitted with the new case weights (R's weights do not use them)."""
    prepared, rows = prepare_fine_gray(
        sim[["x1", "x2"]], sim.exit, sim.status, entry=sim.entry, strata=sim.grp
    )
    assert rows.n == len(sim) and (rows.row == np.arange(len(sim))).all()
    counts = np.random.default_rng(3).poisson(1.0, len(sim)).astype(float)
    refit = fit_prepared(prepared.with_weights(counts), robust=True, tol=1e-12)
    assert isinstance(refit.data, PreparedFineGray)
    ref = fit_fine_gray(
        sim[["x1", "x2"]],
        sim.exit,
        sim.status,
        entry=sim.entry,
        strata=sim.grp,
        weights=counts,
        expand=True,
        tol=1e-12,
    )
    assert _rel(refit.coef, ref.coef) < TOL
    assert _rel(refit.se, ref.se) < TOL
    X2 = np.column_stack([sim.x1, sim.x1**2, sim.x2])
    wider = fit_prepared(prepared.with_X(X2), robust=True, tol=1e-12)
    ref = fit_fine_gray(
        X2, sim.exit, sim.status, entry=sim.entry, strata=sim.grp, expand=True, tol=1e-12
    )
    assert _rel(wider.coef, ref.coef) < TOL


def test_same_fit_whatever_the_threads():
    """Row work is split into fixed chunks added in a fixed order: 1 or 2 numba threads (and
    the one-thread path for small data) give the same numbers, bit for bit."""
    from mgrisk.competing import _fg_kernels

    code = (
        "import numpy as np, sys; from mgrisk.competing import fit_fine_gray; "
        "rng = np.random.default_rng(5); n = int(sys.argv[1]); "
        "X = rng.normal(size=(n, 3)); entry = rng.uniform(50, 70, n); "
        "exit_ = entry + np.round(rng.exponential(10 * np.exp(-0.3 * X[:, 0])), 1) + 0.1; "
        "event = rng.choice([0, 1, 2], n, p=[0.4, 0.3, 0.3]); "
        "f = fit_fine_gray(X, exit_, event, entry=entry, strata=rng.integers(0, 2, n)); "
        "v = [f.coef, f.se, f.model_se, f.robust_cov.to_numpy().ravel(), [f.loglik[1]]]; "
        "print(repr(np.concatenate(v).tolist()))"
    )
    for n in (_fg_kernels.PARALLEL_ROWS - 1, 3 * _fg_kernels.PARALLEL_ROWS):
        outs = [
            subprocess.run(
                [sys.executable, "-c", code, str(n)],
                env={**os.environ, "NUMBA_NUM_THREADS": threads},
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            for threads in ("1", "2")
        ]
        assert outs[0] == outs[1] and outs[0].startswith("[")


def test_input_errors():
    with pytest.raises(InputError, match="censoring_ties='km'"):
        fit_fine_gray([0.1, 0.2, 0.3], [1.0, 2.0, 3.0], [1, 2, 0], censoring_ties="km")
    with pytest.raises(InputError, match="no events with code 3"):
        fit_fine_gray([0.1, 0.2, 0.3], [1.0, 2.0, 3.0], [1, 2, 0], cause=3)
    with pytest.raises(InputError, match="exit at or before entry"):
        fit_fine_gray([0.1, 0.2, 0.3], [1.0, 2.0, 3.0], [1, 2, 0], entry=[0.5, 2.0, 1.0])
