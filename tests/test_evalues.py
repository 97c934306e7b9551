"""E-values against the closed forms and the worked examples of VanderWeele & Ding (Ann Intern
Med 2017;167:268-274)."""

import numpy as np
import pytest

from mgrisk import InputError, fit_dose_response, simulate_cohort
from mgrisk.evalues import evalue, hr_to_rr


def test_smoking_and_lung_cancer():
    """Hammond & Horn, RR 10.73 (8.02-14.36): E-values 20.95 and 15.52 (the paper's example;
    R EValue's vignette prints 20.94777 and 15.52336)."""
    e = evalue(10.73, 8.02, 14.36)
    assert e.point == pytest.approx(20.94777, abs=5e-6)
    assert e.ci == pytest.approx(15.52336, abs=5e-6)


def test_protective_estimate_inverted_leukaemia_example():
    """RR 0.80 (0.71-0.91): E-values of 1/0.80 and of 1/0.91, the limit nearer 1 (1.81, 1.43)."""
    e = evalue(0.80, 0.71, 0.91)
    assert e.point == pytest.approx(1.25 + np.sqrt(1.25 * 0.25))
    u = 1 / 0.91
    assert e.ci == pytest.approx(u + np.sqrt(u * (u - 1)))
    assert (round(e.point, 2), round(e.ci, 2)) == (1.81, 1.43)


def test_breastfeeding_example():
    """Victora et al., RR 3.9 (1.8-8.7): E-values 7.26 and 3.0."""
    e = evalue(3.9, 1.8, 8.7)
    assert (round(e.point, 2), round(e.ci, 1)) == (7.26, 3.0)


def test_ci_including_one_has_e_value_one():
    assert evalue(1.3, 0.9, 1.8).ci == 1.0
    assert evalue(0.7, 0.4, 1.2).ci == 1.0


def test_hazard_ratios_rare_and_common():
    assert evalue(2.0, measure="HR", rare=True).point == pytest.approx(2 + np.sqrt(2))
    # common outcome: RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)) (the paper's Table)
    hr = 0.56
    rr = (1 - 0.5 ** np.sqrt(hr)) / (1 - 0.5 ** np.sqrt(1 / hr))
    e = evalue(hr, 0.46, 0.69, measure="HR", rare=False)
    assert e.rr == pytest.approx(rr)
    assert e.point == pytest.approx(1 / rr + np.sqrt(1 / rr * (1 / rr - 1)))
    assert hr_to_rr(1.0, rare=False) == pytest.approx(1.0)


def test_bad_input():
    with pytest.raises(InputError, match="must be finite and > 0"):
        evalue(-1.0)
    with pytest.raises(InputError, match="outside its CI"):
        evalue(2.0, 2.5, 3.0)


def test_dose_response_evalues_in_results():
    cohort = simulate_cohort("rotterdam", n=3000, seed=3)
    fit = fit_dose_response(cohort, "mg", "exit", "event", entry="entry", adjust="female + egfr")
    r = fit.results()
    t = r.evalues
    assert list(t.index[:4]) == ["Q1 vs Q3", "Q2 vs Q3", "Q4 vs Q3", "Q5 vs Q3"]
    q1 = r.quantiles.table.loc["Q1"]
    want = evalue(q1.hr, q1.lower, q1.upper, measure="HR", rare=True)
    assert t.loc["Q1 vs Q3", "evalue"] == pytest.approx(want.point)
    assert t.attrs["rare"] is (fit.n_events / fit.n < 0.15)
    from mgrisk.report import result_dict, summary_text

    assert "E-values (VanderWeele & Ding 2017" in summary_text(r)
    assert len(result_dict(r)["evalues"]) == 6
