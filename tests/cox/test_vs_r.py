"""fit_cox against R survival::coxph (tests/reference/cox.R -> cox.json); runs without R."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mgrisk import rcs_basis
from mgrisk.cox import fit_cox

REF = Path(__file__).parents[1] / "reference"
CASES = json.loads((REF / "cox.json").read_text())["cases"]


def flchain(rows: str) -> pd.DataFrame:
    fl = pd.read_csv(REF / "data" / "flchain.csv")
    fl = fl[fl.creatinine.notna()].reset_index(drop=True)
    fl["row"] = np.arange(len(fl))
    return fl[fl.futime > 0].reset_index(drop=True) if "futime > 0" in rows else fl


def split_at(fl: pd.DataFrame, cuts) -> pd.DataFrame:
    """survSplit(Surv(futime / 365.25, death) ~ ., cut = cuts) in R's row order."""
    t = fl.futime / 365.25
    bounds = [0.0, *cuts]
    pieces = []
    for period, start in enumerate(bounds, start=1):
        stop = bounds[period] if period < len(bounds) else np.inf
        part = fl[t > start].copy()
        part["tstart"], part["tstop"] = start, np.minimum(t[t > start], stop)
        part["death"] = np.where(t[t > start] <= stop, part.death, 0)
        part["period"] = period
        pieces.append(part)
    out = pd.concat(pieces).sort_values(["row", "period"], kind="stable").reset_index(drop=True)
    out["late_kappa"] = out.kappa * (out.period >= 2)
    return out


def design(case):
    d = case["design"]
    if d["data"] == "inline":
        df = pd.DataFrame(d["inline"])
    elif d["data"] == "rotterdam":
        df = pd.read_csv(REF / "data" / "rotterdam.csv")
    else:
        df = flchain(d["rows"])
        if "split" in d:
            df = split_at(df, d["split"])
    cols = {}
    for spline in d.get("rcs", []):
        basis = rcs_basis(df[spline["var"]], spline["knots"])
        for j in range(basis.shape[1]):
            cols[spline["var"] + "'" * j] = basis[:, j]
    X = pd.DataFrame({c: cols[c] if c in cols else df[c] for c in d["columns"]})
    if "split" in d:
        time, entry, event = df.tstop, df.tstart, df.death
    elif d["data"] == "inline":
        time, entry, event = df.time, df.entry, df.status
    elif d.get("entry") == "age":
        time, entry, event = df.age + df.futime / 365.25, df.age, df.death
    else:
        time, entry, event = df[d["time"]], None, df[d["event"]]
    kwargs = {"entry": entry, "ties": d.get("ties", "efron")}
    if "weights" in d:
        kwargs["weights"] = 0.5 + (df.row % 3) / 2
    if "strata" in d:
        kwargs["strata"] = df[d["strata"]]
    if "cluster" in d:
        kwargs["cluster"] = df[d["cluster"]]
    elif d.get("robust"):
        kwargs["robust"] = True
    return X, time, event, kwargs


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_fit_matches_r_coxph(case):
    X, time, event, kwargs = design(case)
    if "breslow" in case["name"]:
        kwargs["ties"] = "breslow"
    fit = fit_cox(X, time, event, tol=1e-12, **kwargs)
    assert fit.n == case["n"] and fit.n_events == case["nevent"]
    np.testing.assert_allclose(fit.coef, case["coef"], rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(fit.loglik, case["loglik"], rtol=1e-8)
    np.testing.assert_allclose(fit.se, case["se"], rtol=1e-6)
    if case.get("naive_se") is not None:
        np.testing.assert_allclose(fit.model_se, case["naive_se"], rtol=1e-6)
    np.testing.assert_allclose(fit.variance, case["var"], rtol=1e-5, atol=1e-12)
    assert fit.score_test.chi2 == pytest.approx(case["score"], rel=1e-6)
    assert fit.wald_test.chi2 == pytest.approx(case["wald"], rel=1e-6)
    np.testing.assert_allclose(
        fit.linear_predictors[:20], case["linear_predictors"], rtol=1e-6, atol=1e-8
    )
    bh = fit.baseline_hazard
    ref = case["basehaz"]
    labels = list(dict.fromkeys(ref["strata"]))  # R's strata in level order, as ours
    strata = list(dict.fromkeys(bh.stratum))
    for t, h, s in zip(ref["time"], ref["hazard"], ref["strata"], strict=True):
        part = bh[bh.stratum.map(strata.index) == labels.index(s)]
        before = part[part.time <= t + 1e-12]
        ours = before.cumhaz.iloc[-1] if len(before) else 0.0
        assert ours == pytest.approx(h, rel=1e-6, abs=1e-12)
