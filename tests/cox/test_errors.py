"""Bad input and failed fits give specific mgrisk errors."""

import numpy as np
import pandas as pd
import pytest

from mgrisk.cox import fit_cox, prepare_cox
from mgrisk.errors import ConvergenceError, ConvergenceWarning, InputError


def small(n=50, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    return X, rng.exponential(size=n) + 0.1, (rng.random(n) < 0.6).astype(float)


def test_missing_covariate_names_column_and_rows():
    X, t, e = small()
    X.loc[7, "b"] = np.nan  # the 8th row, as a person counts
    with pytest.raises(InputError, match=r"column 'b'.*first at row\(s\) 8"):
        fit_cox(X, t, e)


def test_exit_before_entry_names_rows():
    X, t, e = small()
    entry = np.zeros_like(t)
    entry[[3, 9]] = t[[3, 9]] + 1  # rows 4 and 10 as a person counts
    with pytest.raises(InputError, match=r"2 row\(s\), first at row\(s\) 4, 10 exit at or before"):
        fit_cox(X, t, e, entry=entry)


def test_negative_time_no_events_bad_codes():
    X, t, e = small()
    t[4] = -1
    with pytest.raises(InputError, match=r"negative time"):
        fit_cox(X, t, e)
    X, t, e = small()
    with pytest.raises(InputError, match="no events"):
        fit_cox(X, t, np.zeros_like(e))
    e[5] = 2
    with pytest.raises(InputError, match=r"'event': .* not 0 or 1"):
        fit_cox(X, t, e)


def test_constant_and_collinear_columns_are_named():
    X, t, e = small()
    with pytest.raises(InputError, match=r"\['k'\] are constant"):
        fit_cox(X.assign(k=1.0), t, e)
    with pytest.raises(InputError, match=r"columns \['a', 'b', 'c'\] are collinear"):
        fit_cox(X.assign(c=2 * X.a - X.b), t, e)


def test_negative_weights_and_wrong_lengths():
    X, t, e = small()
    with pytest.raises(InputError, match="negative"):
        fit_cox(X, t, e, weights=-np.ones_like(t))
    with pytest.raises(InputError, match="has 49 values, expected 50"):
        fit_cox(X, t[:-1], e)


def test_separating_covariate_is_named_as_infinite():
    X, t, e = small(n=80, seed=3)
    X["sep"] = (t < np.median(t)).astype(float) * e  # events only where sep = 1 early on
    order = np.argsort(t)
    e = np.zeros_like(e)
    e[order[:20]] = 1
    X["sep"] = 0.0
    X.loc[order[:20], "sep"] = 1.0  # every early event has sep = 1, none of the others
    with pytest.raises(ConvergenceError, match=r"'sep'.*infinite"):
        fit_cox(X, t, e)
    with pytest.warns(ConvergenceWarning, match="sep"):
        fit_cox(X, t, e, on_failure="warn")


def test_non_convergence_reports_history():
    X, t, e = small()
    with pytest.raises(ConvergenceError, match="no convergence in 1 iterations") as info:
        fit_cox(X, t, e, max_iter=1, tol=1e-300)
    assert len(info.value.history) >= 2


def test_prepared_refit_with_new_weights_equals_fresh_fit():
    X, t, e = small(n=200, seed=5)
    w = np.random.default_rng(0).integers(0, 3, t.size).astype(float)
    from mgrisk.cox import fit_prepared

    refit = fit_prepared(prepare_cox(X, t, e).with_weights(w))
    keep = w > 0
    fresh = fit_cox(X[keep], t[keep], e[keep], weights=w[keep])
    np.testing.assert_allclose(refit.coef, fresh.coef, rtol=1e-10)


def test_one_validator_for_every_entry_point():
    """Cohort frames, the Cox engine, Fine-Gray and cumulative incidence share one rule and one
    message for times: time 0 is allowed, a negative time is not, entry must precede exit."""
    from mgrisk import cumulative_incidence, fit_dose_response, fit_fine_gray, simulate_cohort

    df = simulate_cohort("rotterdam", n=400, seed=4).assign(time=lambda d: d.exit - d.entry)
    bad = df.assign(time=df.time.where(df.index != 6, -2.0))
    expected = r"'time': 1 row\(s\), first at row\(s\) 7 have a negative time \(-2\)"
    calls = [
        lambda d: fit_dose_response(d, "mg", "time", "event"),
        lambda d: fit_cox(d[["mg"]], d.time, (d.event == 1).astype(float)),
        lambda d: fit_fine_gray(d[["mg"]], d.time, d.event),
        lambda d: cumulative_incidence(d, "time", "event"),
    ]
    for call in calls:
        with pytest.raises(InputError, match=expected):
            call(bad)
    zero = df.assign(time=df.time.where(df.index != 6, 0.0))
    assert fit_cox(zero[["mg"]], zero.time, (zero.event == 1).astype(float)).n == 400
    assert fit_dose_response(zero, "mg", "time", "event").n == 400
