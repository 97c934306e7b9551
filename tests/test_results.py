"""One run, one set of results: every output states the same numbers, in the caller's units."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from mgrisk import InputError, fit_dose_response, simulate_cohort
from mgrisk.cli import main
from mgrisk.report import result_dict, summary_text


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort("rotterdam", n=6000, seed=11)


def test_an_exposure_without_unit_says_nothing_of_mmol(cohort, tmp_path, capsys):
    bmi = cohort.rename(columns={"mg": "bmi"})
    path = tmp_path / "bmi.csv"
    bmi.to_csv(path, index=False)
    argv = [
        "fit",
        path,
        "--exposure",
        "bmi",
        "--time",
        "exit",
        "--entry",
        "entry",
        "--event",
        "event",
        "--out",
        tmp_path / "o",
        "--quiet",
    ]
    assert main([str(a) for a in argv]) == 0
    out = tmp_path / "o"
    for name in ("summary.txt", "results.json", "report.html", "curve.csv", "quintiles.csv"):
        assert "mmol" not in (out / name).read_text(), name
    assert json.loads((out / "results.json").read_text())["unit"] is None
    assert "mmol" not in capsys.readouterr().out


def test_months_give_person_months_and_rates(cohort):
    months = cohort.assign(entry=cohort.entry * 12, exit=cohort.exit * 12)
    fit = fit_dose_response(months, "mg", "exit", "event", entry="entry", time_unit="months")
    table = fit.quantile_table()
    # independent count: pandas on the same quintile cut
    cut = pd.cut(months.mg, np.quantile(months.mg, np.linspace(0, 1, 6)), include_lowest=True)
    person_time = (months.exit - months.entry).groupby(cut, observed=True).sum().to_numpy()
    events = (months.event == 1).groupby(cut, observed=True).sum().to_numpy()
    np.testing.assert_allclose(table.table.person_time, person_time, rtol=1e-12)
    np.testing.assert_allclose(table.table.rate_per_1000, 1000 * events / person_time)
    assert table.rate_label == "per 1,000 person-months"
    text = fit.summary()
    assert "person-months" in text and "person-years" not in text
    with pytest.raises(InputError, match=r"time_unit='fortnights': use one of"):
        fit_dose_response(months, "mg", "exit", "event", time_unit="fortnights")


def _numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"\d+\.\d+", text)]


@pytest.mark.parametrize("rule", ["delta", "ci"])
def test_every_output_of_a_run_states_the_same_corridor_and_nadir(cohort, tmp_path, rule):
    path = tmp_path / "c.csv"
    cohort.to_csv(path, index=False)
    out = tmp_path / rule
    argv = [
        "fit",
        path,
        "--exposure",
        "mg",
        "--time",
        "exit",
        "--entry",
        "entry",
        "--event",
        "event",
        "--adjust",
        "female + egfr",
        "--unit",
        "mmol/L",
        "--corridor",
        rule,
        "--out",
        out,
        "--quiet",
    ]
    assert main([str(a) for a in argv]) == 0
    result = json.loads((out / "results.json").read_text())
    corridor, nadir = result["corridor"], result["nadir"]
    assert corridor["rule"] == rule and nadir["method"] == "inversion"
    expected = f"corridor {corridor['lower']:.4g} to {corridor['upper']:.4g} mmol/L"
    summary = (out / "summary.txt").read_text()
    report = (out / "report.html").read_text()
    assert expected in summary and "C" + expected[1:] in report and "mmol/L" in report
    assert corridor["definition"] in summary and corridor["definition"] in report
    if nadir["supported"]:
        n = f"nadir {nadir['estimate']:.4g} mmol/L (95% CI {nadir['lower']:.4g} to"
        assert n in summary and "N" + n[1:] in report


def test_results_are_computed_once_with_few_fits(cohort):
    fit = fit_dose_response(cohort, "mg", "exit", "event", entry="entry", adjust="female")
    first = fit.results()
    # spline model, quantile categories, trend, two-lines (2), linear model (LR test)
    assert first.n_fits <= 6
    again = fit.results()
    assert fit.n_fits == first.n_fits and again.nadir is first.nadir
    assert summary_text(first) == summary_text(again)
    assert result_dict(first)["options"]["nadir_method"] == "inversion"


def test_no_nadir_is_printed_where_the_data_support_none():
    mono = simulate_cohort("monotone", n=6000, seed=2)
    fit = fit_dose_response(mono, "mg", "exit", "event", entry="entry")
    r = fit.results()
    assert not r.nadir_supported
    text = summary_text(r)
    assert "no nadir supported by the data" in text and "\nnadir " not in text
    d = result_dict(r)
    assert d["nadir"]["estimate"] is None and d["nadir"]["lower"] is None


def test_reference_outside_the_data_is_refused(cohort):
    fit = fit_dose_response(cohort, "mg", "exit", "event", entry="entry")
    with pytest.raises(InputError, match=r"ref=5: outside the data \(0\.\d+ to 1\.\d+\)"):
        fit.hr_curve(ref=5)


def test_quantile_table_failure_is_a_note_not_a_failed_run(cohort):
    few = cohort.copy()
    few["event"] = np.where(few.mg < few.mg.quantile(0.2), 0, few.event)  # no events in Q1
    fit = fit_dose_response(few, "mg", "exit", "event", entry="entry")
    r = fit.results()
    assert r.quantiles is None and "Q1 have no events" in r.notes["quantiles"]
    assert "not estimable: quantile categories Q1 have no events" in summary_text(r)


def test_a_result_asked_for_in_other_words_is_not_fitted_again(cohort):
    """quantile_table(), quantile_table(5) and quantile_table(q=5) are one analysis: the run's
    table is the one the user asked for, fitted once."""
    fit = fit_dose_response(cohort, "mg", "exit", "event", entry="entry", adjust="female")
    table = fit.quantile_table()
    fits = fit.n_fits
    assert fit.quantile_table(5) is table and fit.quantile_table(q=5, level=0.95) is table
    assert fit.results(quantiles=5).quantiles is table
    assert fit.n_fits == fits + 3  # the run's own: trend and two-lines (2), not the table again
