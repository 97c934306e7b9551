"""Random corruptions of a valid cohort CSV, model files and scenario files, run through the
command line in this process: the answer is a result (dropped rows counted) or one clear line
with exit 2, never an uncaught exception or a traceback.

The default run tries a few hundred inputs in well under a minute; ``-m slow`` runs the
variants with ten times as many. Every input tried is counted (printed at the end of the
module with ``-s``; the counts are also in ``FUZZ_COUNTS``).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import sys
import warnings
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mgrisk import simulate_cohort  # noqa: E402
from mgrisk.cli import main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODELS = sorted((ROOT / "models").glob("*.toml"))
SCENARIOS = sorted((ROOT / "synthetic").glob("*.toml"))
N = 600
FUZZ_COUNTS: Counter = Counter()

TEXTS = ["abc", "0,81", "NA", "n/a", "", " ", "1.2.3", "--", "TRUE", "1e", "０.８", "0.8 mmol/L"]
NUMBERS = ["1e308", "-1e308", "1e-308", "inf", "-inf", "nan", "-1", "0", "-0.5", "1e12", "99999"]


def _settings(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,  # the same inputs every run: a failure here is reproducible
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )


@functools.cache
def valid_grid() -> tuple[list[str], list[list[str]]]:
    """The valid cohort as a header row and data rows of text (not a fixture: hypothesis
    would print it with every failing example)."""
    text = simulate_cohort("rotterdam", n=N, seed=1).to_csv(index=False)
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    if FUZZ_COUNTS:
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(FUZZ_COUNTS.items()))
        print(f"\nfuzz inputs tried: {sum(FUZZ_COUNTS.values())} ({summary})", file=sys.stderr)


# --- corruptions of the cohort CSV -------------------------------------------------------------
row = st.integers(0, N - 1)
col = st.integers(0, 9)
CORRUPTION = st.one_of(
    st.tuples(st.just("empty cell"), row, col),
    st.tuples(st.just("text"), row, col, st.sampled_from(TEXTS)),
    st.tuples(st.just("number"), row, col, st.sampled_from(NUMBERS)),
    st.tuples(st.just("float"), row, col, st.floats(allow_nan=True, allow_infinity=True).map(repr)),
    st.tuples(st.just("swap columns"), col, col),
    st.tuples(st.just("duplicate header"), col, col),
    st.tuples(st.just("drop header")),
    st.tuples(st.just("delete row"), row),
    st.tuples(st.just("blank line"), row),
    st.tuples(st.just("short row"), row),
    st.tuples(st.just("long row"), row),
    st.tuples(st.just("constant column"), col, st.sampled_from(["0", "1", "0.84", ""])),
    st.tuples(st.just("european")),
    st.tuples(st.just("truncate"), st.floats(0, 1)),
)


def corrupt(corruptions) -> tuple[str, str]:
    """The CSV text after the corruptions, and how to read it (sep)."""
    grid = valid_grid()
    header, rows = list(grid[0]), [list(r) for r in grid[1]]
    sep, european, cut = ",", False, None
    for c in corruptions:
        kind = c[0]
        if kind in ("empty cell", "text", "number", "float") and c[1] < len(rows):
            r = rows[c[1]]
            if c[2] < len(r):
                r[c[2]] = "" if kind == "empty cell" else c[3]
        elif kind == "swap columns":
            for r in [header, *rows]:
                if max(c[1], c[2]) < len(r):
                    r[c[1]], r[c[2]] = r[c[2]], r[c[1]]
        elif kind == "duplicate header" and max(c[1], c[2]) < len(header):
            header[c[2]] = header[c[1]]
        elif kind == "drop header" and rows:
            header = rows.pop(0)
        elif kind == "delete row" and c[1] < len(rows):
            del rows[c[1]]
        elif kind == "blank line" and c[1] < len(rows):
            rows.insert(c[1], [])
        elif kind == "short row" and c[1] < len(rows):
            rows[c[1]] = rows[c[1]][:-1]
        elif kind == "long row" and c[1] < len(rows):
            rows[c[1]] = [*rows[c[1]], "1"]
        elif kind == "constant column":
            for r in rows:
                if c[1] < len(r):
                    r[c[1]] = c[2]
        elif kind == "european":
            european = True
        elif kind == "truncate":
            cut = c[1]
    if european:  # as a European spreadsheet writes it: ';' and decimal commas
        sep = ";"
        rows = [[v.replace(".", ",") for v in r] for r in rows]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    if cut is not None:
        text = text[: int(len(text) * cut)]
    return text, sep


def run(capsys, argv) -> tuple[int, str, str]:
    """The CLI in this process: exit status, stdout, stderr (with the warnings the command line
    would print there); any escaping exception fails the test with the input that caused it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("error", category=RuntimeWarning, module="mgrisk")
        code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    shown = "".join(
        warnings.formatwarning(w.message, w.category, w.filename, w.lineno) for w in caught
    )
    return code, out, shown + err


def assert_clean(code, err, ok=(0,)):
    """A result, or exactly one line on stderr with exit 2; never a traceback."""
    assert "Traceback" not in err, err
    if code in ok:
        return
    assert code == 2, (code, err)
    assert err.count("\n") == 1 and err.startswith("mgrisk: error: "), err


FIT = ["--exposure", "mg", "--time", "exit", "--entry", "entry", "--event", "event"]
ADJUST = ["--adjust", "female + egfr"]


def _data_lines(text: str) -> int:
    """Non-blank lines after the header (the rows a person counts)."""
    lines = [ln for ln in re.split(r"\r\n|\r|\n", text) if ln.strip()]
    return max(len(lines) - 1, 0)


def fuzz_check_shape(tmp_path, capsys, corruptions):
    text, _ = corrupt(corruptions)
    path = tmp_path / "cohort.csv"
    path.write_text(text)
    FUZZ_COUNTS["csv check-shape"] += 1
    code, _, err = run(capsys, ["check-shape", path, "--expect", "U", *FIT, *ADJUST])
    assert_clean(code, err, ok=(0, 1))


def fuzz_fit(tmp_path, capsys, corruptions):
    text, _ = corrupt(corruptions)
    path = tmp_path / "cohort.csv"
    path.write_text(text)
    out = tmp_path / f"out{FUZZ_COUNTS['csv fit']}"
    FUZZ_COUNTS["csv fit"] += 1
    code, _, err = run(capsys, ["fit", path, *FIT, *ADJUST, "--quiet", "--out", out])
    assert_clean(code, err)
    if code == 0:  # nothing silently dropped: every row analysed or counted as dropped
        result = json.loads((out / "results.json").read_text())
        assert result["n"] + result["n_dropped"] == _data_lines(text), result["dropped"]


@_settings(120)
@given(corruptions=st.lists(CORRUPTION, min_size=1, max_size=3))
def test_fuzz_csv_check_shape(tmp_path, capsys, corruptions):
    fuzz_check_shape(tmp_path, capsys, corruptions)


@_settings(12)
@given(corruptions=st.lists(CORRUPTION, min_size=1, max_size=2))
def test_fuzz_csv_fit(tmp_path, capsys, corruptions):
    fuzz_fit(tmp_path, capsys, corruptions)


# --- corruptions of TOML files (model and scenario) --------------------------------------------
VALUES = [
    '""',
    '"abc"',
    "0",
    "-1",
    "-0.5",
    "1e308",
    "-1e308",
    "inf",
    "nan",
    "true",
    "[]",
    "[1, 2]",
    '["a"]',
    "{}",
    "3",
    "0.5",
    "1.5",
    "100",
    '"mg"',
]
TOML_CORRUPTION = st.one_of(
    st.tuples(st.just("delete line"), st.integers(0, 200)),
    st.tuples(st.just("value"), st.integers(0, 200), st.sampled_from(VALUES)),
    st.tuples(st.just("duplicate line"), st.integers(0, 200)),
    st.tuples(st.just("unknown key"), st.integers(0, 200)),
    st.tuples(st.just("swap values"), st.integers(0, 200), st.integers(0, 200)),
    st.tuples(st.just("truncate"), st.floats(0, 1)),
)


def corrupt_toml(text: str, corruptions) -> str:
    lines = text.splitlines()
    keyed = [i for i, ln in enumerate(lines) if "=" in ln and not ln.lstrip().startswith("#")]
    cut = None
    for c in corruptions:
        kind = c[0]
        if kind == "truncate":
            cut = c[1]
            continue
        if not keyed:
            continue
        i = keyed[c[1] % len(keyed)]
        key = lines[i].split("=", 1)[0].strip()
        if kind == "delete line":
            lines[i] = ""
        elif kind == "value":
            lines[i] = f"{key} = {c[2]}"
        elif kind == "duplicate line":
            lines.insert(i, lines[i])
        elif kind == "unknown key":
            lines.insert(i, f"{key}_x = 1")
        elif kind == "swap values":
            j = keyed[c[2] % len(keyed)]
            a, b = lines[i].split("=", 1), lines[j].split("=", 1)
            if len(a) == 2 and len(b) == 2:
                lines[i], lines[j] = f"{a[0]}={b[1]}", f"{b[0]}={a[1]}"
        keyed = [k for k, ln in enumerate(lines) if "=" in ln and not ln.lstrip().startswith("#")]
    out = "\n".join(lines) + "\n"
    return out[: int(len(out) * cut)] if cut is not None else out


@pytest.fixture(scope="module")
def cohort_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "cohort.csv"
    simulate_cohort("rotterdam", n=N, seed=1).to_csv(path, index=False)
    return path


def fuzz_model(cohort_csv, tmp_path, capsys, model, corruptions):
    path = tmp_path / "model.toml"
    path.write_text(corrupt_toml(model.read_text(), corruptions))
    out = tmp_path / f"out{FUZZ_COUNTS['model fit']}"
    FUZZ_COUNTS["model fit"] += 1
    code, _, err = run(capsys, ["fit", cohort_csv, "--model", path, "--quiet", "--out", out])
    assert_clean(code, err)


def fuzz_scenario(tmp_path, capsys, scenario, corruptions):
    path = tmp_path / "scenario.toml"
    path.write_text(corrupt_toml(scenario.read_text(), corruptions))
    out = tmp_path / "cohort.csv"
    FUZZ_COUNTS["scenario simulate"] += 1
    code, _, err = run(capsys, ["simulate", path, "--n", "300", "--seed", "1", "--out", out])
    assert_clean(code, err)
    if code == 0:  # a cohort that makes sense
        df = pd.read_csv(out)
        assert len(df) == 300
        assert (df.exit > df.entry).all() and set(df.event) <= {0, 1, 2}
        assert df.drop(columns=["true_log_hr"]).notna().all().all()


@_settings(12)
@given(model=st.sampled_from(MODELS), corruptions=st.lists(TOML_CORRUPTION, min_size=1, max_size=3))
def test_fuzz_model_files(cohort_csv, tmp_path, capsys, model, corruptions):
    fuzz_model(cohort_csv, tmp_path, capsys, model, corruptions)


@_settings(150)
@given(
    scenario=st.sampled_from(SCENARIOS),
    corruptions=st.lists(TOML_CORRUPTION, min_size=1, max_size=3),
)
def test_fuzz_scenario_files(tmp_path, capsys, scenario, corruptions):
    fuzz_scenario(tmp_path, capsys, scenario, corruptions)


# --- the same with ten times as many inputs ----------------------------------------------------
@pytest.mark.slow
@_settings(1200)
@given(corruptions=st.lists(CORRUPTION, min_size=1, max_size=4))
def test_fuzz_csv_check_shape_long(tmp_path, capsys, corruptions):
    fuzz_check_shape(tmp_path, capsys, corruptions)


@pytest.mark.slow
@_settings(120)
@given(corruptions=st.lists(CORRUPTION, min_size=1, max_size=3))
def test_fuzz_csv_fit_long(tmp_path, capsys, corruptions):
    fuzz_fit(tmp_path, capsys, corruptions)


@pytest.mark.slow
@_settings(120)
@given(model=st.sampled_from(MODELS), corruptions=st.lists(TOML_CORRUPTION, min_size=1, max_size=4))
def test_fuzz_model_files_long(cohort_csv, tmp_path, capsys, model, corruptions):
    fuzz_model(cohort_csv, tmp_path, capsys, model, corruptions)


@pytest.mark.slow
@_settings(1500)
@given(
    scenario=st.sampled_from(SCENARIOS),
    corruptions=st.lists(TOML_CORRUPTION, min_size=1, max_size=4),
)
def test_fuzz_scenario_files_long(tmp_path, capsys, scenario, corruptions):
    fuzz_scenario(tmp_path, capsys, scenario, corruptions)
