"""The command line: outputs written, and one readable line for every bad input."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mgrisk import simulate_cohort
from mgrisk.cli import main


@pytest.fixture(scope="module")
def cohort_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "cohort.csv"
    simulate_cohort("rotterdam", n=6000, seed=4).to_csv(path, index=False)
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_fit_writes_every_output(cohort_csv, tmp_path, capsys):
    code, out, err = run(
        capsys,
        "fit",
        cohort_csv,
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
        "--formats",
        "svg,pdf",
        "--quiet",
        "--out",
        tmp_path,
    )
    assert code == 0, err
    for name in (
        "summary.txt",
        "results.json",
        "curve.csv",
        "quintiles.csv",
        "corridor.png",
        "corridor.svg",
        "corridor.pdf",
        "report.html",
    ):
        assert (tmp_path / name).stat().st_size > 500, name
    result = json.loads((tmp_path / "results.json").read_text())
    assert result["n"] == 6000 and result["corridor"]["definition"]
    assert "Quantile table" in out and "nadir" in out
    html = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in html and "Corridor" in html


def test_checks_in_a_child_give_the_same_outputs(cohort_csv, tmp_path, capsys, monkeypatch):
    """A large cohort's model checks are computed in a forked child (`mgrisk._fork`): every
    output is the same as when this process computes them, the child's Cox fit counted."""
    import mgrisk._fork
    import mgrisk.cli

    argv = ["fit", cohort_csv, "--exposure", "mg", "--time", "exit", "--entry", "entry"]
    argv += ["--event", "event", "--adjust", "female + egfr", "--quiet", "--out"]
    forks = []
    start = mgrisk._fork.apart
    monkeypatch.setattr(
        mgrisk._fork, "apart", lambda fn, enabled=True: forks.append(enabled) or start(fn, enabled)
    )
    outputs = {}
    for rows in (10**9, 1):  # here, then in a child
        monkeypatch.setattr(mgrisk.cli, "APART_ROWS", rows)
        code, out, err = run(capsys, *argv, tmp_path / str(rows))
        assert code == 0, err
        outputs[rows] = (
            out.replace(str(tmp_path / str(rows)), "OUT"),
            {
                name: (tmp_path / str(rows) / name).read_text()
                for name in ("summary.txt", "results.json", "curve.csv")
            },
        )
    assert forks == [False, True]
    assert outputs[1] == outputs[10**9]
    assert json.loads(outputs[1][1]["results.json"])["cox_fits"] == 6  # the child's null fit


def test_model_file_and_flag_override(cohort_csv, tmp_path, capsys):
    code, _, err = run(
        capsys,
        "fit",
        cohort_csv,
        "--model",
        "rotterdam_mg_dementia",
        "--knots",
        "3",
        "--quiet",
        "--out",
        tmp_path,
    )
    assert code == 0, err
    assert len(json.loads((tmp_path / "results.json").read_text())["knots"]) == 3


def test_simulate_writes_csv_and_parquet(tmp_path, capsys):
    for name in ("c.csv", "c.parquet"):
        code, out, _ = run(
            capsys, "simulate", "rotterdam", "--n", "500", "--seed", "3", "--out", tmp_path / name
        )
        assert code == 0 and "500 people" in out
    a, b = pd.read_csv(tmp_path / "c.csv"), pd.read_parquet(tmp_path / "c.parquet")
    np.testing.assert_allclose(a.mg, b.mg)


def bad_file(tmp_path, cohort_csv, change):
    df = pd.read_csv(cohort_csv).head(2000)
    df = change(df)
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    return path


BAD = [
    ("missing file", lambda p, c: ["fit", p / "nope.csv"], "file not found"),
    (
        "unknown column",
        lambda p, c: ["fit", c, "--exposure", "magnesium"],
        r"exposure column 'magnesium' not found; available columns: id, entry",
    ),
    (
        "decimal comma",
        lambda p, c: [
            "fit",
            bad_file(p, c, lambda d: d.assign(mg=d.mg.astype(str).where(d.index != 7, "0,81"))),
        ],
        r"column 'mg': 1 non-numeric value\(s\), first at row 8 \(file line 9\) \('0,81'\): "
        "use a decimal point",
    ),
    (
        "zero follow-up",
        lambda p, c: [
            "fit",
            bad_file(p, c, lambda d: d.assign(exit=d.exit.where(d.index != 3, d.entry))),
            "--entry",
            "entry",
        ],
        r"'exit'/'entry': 1 row\(s\), first at row\(s\) 4 \(file line\(s\) 5\) exit at or before",
    ),
    (
        "negative follow-up",
        lambda p, c: [
            "fit",
            bad_file(p, c, lambda d: d.assign(exit=(d.exit - d.entry).where(d.index != 5, -1.0))),
        ],
        r"'exit': 1 row\(s\), first at row\(s\) 6 \(file line\(s\) 7\) have a negative time \(-1\)",
    ),
    ("event code", lambda p, c: ["fit", c, "--cause", "7"], r"no events with code 7"),
    (
        "bad event value",
        lambda p, c: [
            "fit",
            bad_file(p, c, lambda d: d.assign(event=d.event.where(d.index != 9, -1))),
        ],
        r"'event': 1 row\(s\), first at row\(s\) 10 \(file line\(s\) 11\) \(-1\) are not event",
    ),
    (
        "knots",
        lambda p, c: ["fit", c, "--knots", "2"],
        r"--knots 2: use 3 to 10 knots",
    ),
    (
        "few distinct values",
        lambda p, c: [
            "fit",
            bad_file(p, c, lambda d: d.assign(mg=np.round(d.mg * 5) / 5)),
            "--knots",
            "4",
        ],
        r"3 distinct value\(s\), too few for 4 knots; use fewer knots",
    ),
    (
        "model key",
        lambda p, c: ["fit", c, "--model", _bad_model(p)],
        r"key 'model.exposre' is not a known key",
    ),
    (
        "unknown scenario",
        lambda p, c: ["simulate", "rotterdm", "--out", p / "x.csv"],
        r"scenario 'rotterdm' not found",
    ),
]


def _bad_model(tmp_path):
    path = tmp_path / "bad_model.toml"
    path.write_text('[model]\nexposre = "mg"\nexposure = "mg"\ntime = "exit"\nevent = "event"\n')
    return path


@pytest.mark.parametrize(("label", "argv", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_and_nonzero(cohort_csv, tmp_path, capsys, label, argv, message):
    args = argv(tmp_path, cohort_csv)
    if args[0] == "fit" and "--model" not in args:
        defaults = ["--exposure", "mg", "--time", "exit", "--event", "event", "--quiet"]
        given = {args[i] for i in range(len(args)) if str(args[i]).startswith("--")}
        args += [
            a
            for i, a in enumerate(defaults)
            if not (a.startswith("--") and a in given) and not (i % 2 and defaults[i - 1] in given)
        ]
    code, _, err = run(capsys, *args, *(["--out", tmp_path / "o"] if args[0] == "fit" else []))
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("mgrisk: error: ")
    assert pytest.importorskip("re").search(message, err), err


def test_console_script_help_shows_examples():
    for command in ("demo", "fit", "simulate"):
        out = subprocess.run(
            [sys.executable, "-m", "mgrisk.cli", command, "--help"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "example: mgrisk " + command in out
