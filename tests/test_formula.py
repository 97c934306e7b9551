"""Formulas are data: parsed by mgrisk's grammar, never run; any column name works."""

import json

import numpy as np
import pandas as pd
import patsy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mgrisk import InputError, fit_dose_response, simulate_cohort
from mgrisk.cli import main
from mgrisk.design import design_matrix
from mgrisk.formula import parse_formula, term_label

PAYLOADS = [
    "female + I(egfr + 0*__import__('os').system('touch {marker}'))",
    "female + os.system('touch {marker}')",
    "female + egfr.__class__",
    "female + (lambda: 1)",
    "female + lambda x: x",
    "female + egfr[0]",
    "female + getattr(egfr, 'x')",
    "female + I(open('{marker}', 'w'))",
    "female + exec('x')",
    "female + C(female, eval('1'))",
]


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort("rotterdam", n=3000, seed=3)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_are_refused_and_run_nothing_api(cohort, tmp_path, payload):
    marker = tmp_path / "ran"
    with pytest.raises(InputError, match=r"^formula .*; allowed: column names"):
        fit_dose_response(
            cohort, "mg", "exit", "event", entry="entry", adjust=payload.format(marker=marker)
        )
    assert not marker.exists()


@pytest.mark.parametrize("route", ["fit", "check-shape", "model file"])
def test_payloads_are_refused_on_every_cli_route(cohort, tmp_path, capsys, route):
    marker = tmp_path / "ran"
    payload = PAYLOADS[0].format(marker=marker)
    data = tmp_path / "c.csv"
    cohort.to_csv(data, index=False)
    columns = ["--exposure", "mg", "--time", "exit", "--entry", "entry", "--event", "event"]
    if route == "fit":
        argv = ["fit", data, *columns, "--adjust", payload, "--out", tmp_path / "o", "--quiet"]
    elif route == "check-shape":
        argv = ["check-shape", data, *columns, "--adjust", payload, "--expect", "U"]
    else:
        model = tmp_path / "m.toml"
        model.write_text(
            '[model]\nexposure = "mg"\ntime = "exit"\nentry = "entry"\nevent = "event"\n'
            f"adjust = {json.dumps(payload)}\n"
        )
        argv = ["fit", data, "--model", model, "--out", tmp_path / "o", "--quiet"]
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "not allowed" in err, err
    assert not marker.exists() and not (tmp_path / "o").exists()


@pytest.mark.parametrize("name", ["lambda", "class", "serum Mg (mmol/L)", "mg.serum", "Mg²⁺"])
def test_any_column_name_gives_the_same_fit(cohort, name):
    plain = fit_dose_response(cohort, "mg", "exit", "event", entry="entry", adjust="female + egfr")
    renamed = cohort.rename(columns={"mg": name, "egfr": f"{name} 2"})
    quoted = f"female + `{name} 2`"
    fit = fit_dose_response(renamed, name, "exit", "event", entry="entry", adjust=quoted)
    np.testing.assert_allclose(fit.coef.to_numpy(), plain.coef.to_numpy(), rtol=1e-12)
    assert fit.coef.index[0] == name and f"{name} 2" in fit.coef.index
    as_q = fit_dose_response(
        renamed, name, "exit", "event", entry="entry", adjust=f'female + Q("{name} 2")'
    )
    np.testing.assert_allclose(as_q.coef.to_numpy(), plain.coef.to_numpy(), rtol=1e-12)


def test_keyword_column_names_work_bare(cohort):
    df = cohort.rename(columns={"egfr": "lambda", "female": "class"})
    fit = fit_dose_response(df, "mg", "exit", "event", entry="entry", adjust="class + lambda")
    assert list(fit.coef.index[-2:]) == ["class", "lambda"]


SAFE = [
    "C(site) + age",
    "C(site) * age",
    "age:C(site)",
    "C(site, Treatment('c')) + np.log(age)",
    "I(age / 10) + I((age - 60) ** 2) + abs(age - 70) + sqrt(age) + exp(age / 100)",
    "site + female",
    "(age + female):C(site) + female",
    "female * age * C(site)",
    "log2(age) + log10(age) - 1",
]


@pytest.mark.parametrize("formula", SAFE)
def test_design_equals_patsy_on_safe_formulas(formula):
    """Independent reference: patsy's own evaluation of the same (harmless) formula."""
    rng = np.random.default_rng(5)
    df = pd.DataFrame(
        {
            "age": rng.uniform(50, 90, 300),
            "female": rng.integers(0, 2, 300).astype(float),
            "site": rng.choice(["a", "b", "c"], 300),
        }
    )
    ours = design_matrix(formula, df).matrix
    functions = {f: getattr(np, f) for f in ("log", "log2", "log10", "exp", "sqrt", "abs")}
    ref = patsy.dmatrix(
        formula.replace("Treatment('c')", "Treatment(reference='c')"),
        df,
        return_type="dataframe",
        eval_env=patsy.EvalEnvironment([functions, {"np": np}]),
    ).drop(columns="Intercept", errors="ignore")
    assert ours.shape == ref.shape
    # same column space and, column by column, the same values (patsy may order terms apart)
    ref_cols = {tuple(np.round(ref[c].to_numpy(), 10)) for c in ref.columns}
    our_cols = {tuple(np.round(ours[c].to_numpy(), 10)) for c in ours.columns}
    assert ref_cols == our_cols


def test_grammar_shapes():
    f = parse_formula("a * b - a:b + C(s) + rcs(x, knots=[1, 2, 3])")
    assert [term_label(t) for t in f.terms] == ["a", "b", "C(s)", "x"]
    assert parse_formula("rcs(x, 5)").terms[0][0].knots == 5
    assert parse_formula("-1 + a + 0").columns == ("a",)
    for bad, what in [
        ("a ~ b", "unexpected"),
        ("a + 2", "a number on its own"),
        ("C(a, Sum)", "Treatment"),
        ("rcs(a, 2)", "3 to 10"),
        ("a ** 2", "inside I"),
        ("``", "empty column name"),
        ("a; b", "character ';'"),
        ("__import__", "dunder"),
    ]:
        with pytest.raises(InputError, match=what):
            parse_formula(bad)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet="abcxyz_().,'\"`+-*/:[]{}=~;!@#$%^&|<> \\lambdaimportsystemos0123456789",
        max_size=40,
    )
)
def test_random_text_is_parsed_or_refused_never_run(text):
    """Any text: a Formula of plain records or one InputError line; nothing else."""
    try:
        f = parse_formula(text)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    for term in f.terms:
        for factor in term:
            assert type(factor).__module__ == "mgrisk.formula"


def test_unknown_column_and_role_conflicts_are_named(cohort):
    with pytest.raises(InputError, match=r"adjust: column 'egfrr' not found.*quote names"):
        fit_dose_response(cohort, "mg", "exit", "event", entry="entry", adjust="egfrr")
    with pytest.raises(InputError, match=r"adjust: 'exit' is the time column"):
        fit_dose_response(cohort, "mg", "exit", "event", entry="entry", adjust="exit")
    with pytest.raises(InputError, match=r"adjust: 'mg' is the exposure column; it is already"):
        fit_dose_response(cohort, "mg", "exit", "event", entry="entry", adjust="mg + female")
    with pytest.raises(InputError, match=r"C\(site\): one level only \('x'\).*remove it"):
        fit_dose_response(
            cohort.assign(site="x"), "mg", "exit", "event", entry="entry", adjust="C(site)"
        )
    with pytest.raises(InputError, match=r"log\(egfr\): value -?inf at row \d+"):
        fit_dose_response(
            cohort.assign(egfr=cohort.egfr.where(cohort.index != 4, 0.0)),
            "mg",
            "exit",
            "event",
            entry="entry",
            adjust="log(egfr)",
        )
    with pytest.raises(InputError, match=r"cause=0.*0 means censored"):
        fit_dose_response(cohort, "mg", "exit", "event", entry="entry", cause=0)
    dup = pd.concat([cohort, cohort[["mg"]]], axis=1)
    with pytest.raises(InputError, match=r"column name 'mg' appears more than once"):
        fit_dose_response(dup, "mg", "exit", "event", entry="entry")
    with pytest.raises(InputError, match=r"value 1e\+308 at row 9 is too large"):
        fit_dose_response(
            cohort.assign(exit=cohort.exit.where(cohort.index != 8, 1e308)),
            "mg",
            "exit",
            "event",
            entry="entry",
        )


def test_any_row_index_gives_the_same_fit(cohort):
    """A frame indexed by ids (not 0..n-1), with rows dropped for missing values, fits as the
    same rows renumbered: adjustment, strata and cluster columns stay aligned."""
    df = cohort.assign(site=np.where(cohort.index % 3 == 0, "a", "b"))
    df.loc[df.index[:40], "egfr"] = np.nan
    shuffled = df.set_index(df.index * 7 + 1000)
    kw = dict(entry="entry", adjust="female + egfr + C(site)", cluster="id")
    a = fit_dose_response(shuffled, "mg", "exit", "event", **kw)
    b = fit_dose_response(
        df.dropna(subset=["egfr"]).reset_index(drop=True), "mg", "exit", "event", **kw
    )
    assert a.n_dropped == 40 and a.n == b.n
    np.testing.assert_allclose(a.coef.to_numpy(), b.coef.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(
        a.refit(knots=3).coef.to_numpy(), b.refit(knots=3).coef.to_numpy(), rtol=1e-12
    )
