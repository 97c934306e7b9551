"""The command line on bad arguments, awkward files and output places: one line, exit 2,
nothing written; and a European CSV read right."""

import json

import pytest

from mgrisk import simulate_cohort
from mgrisk.cli import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(code, err):
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("mgrisk: error: "), err
    assert "Traceback" not in err and "usage:" not in err


FIT = ["fit", "c.csv", "--exposure", "mg", "--time", "exit", "--event", "event", "--out", "o"]
ARGS = [
    (["--knots", "abc"], r"--knots 'abc': give a number of knots \(e.g. 4\) or the knots"),
    (["--knots", "2"], r"--knots 2: use 3 to 10 knots"),
    (["--knots", "4.5"], r"--knots '4.5' is not a whole number"),
    (["--knots", "0.9,0.8,1.0"], r"knots must be finite and increasing"),
    (["--knots", "0.8,nan,1.0"], r"knots must be finite and increasing"),
    (["--cause", "0"], r"--cause 0 means censored, not an event; give the event code"),
    (["--cause", "-1"], r"--cause -1: event codes are 1, 2"),
    (["--cause", "one"], r"--cause 'one' is not a whole number; e.g. --cause 1"),
    (["--bootstrap", "0"], r"--bootstrap 0 is too small: use 1 or more"),
    (["--jobs", "0"], r"--jobs 0 is too small: use 1 or more"),
    (["--jobs", "two"], r"--jobs 'two' is not a whole number"),
    (["--seed", "-3"], r"--seed -3 is too small: use 0 or more"),
    (["--delta", "-0.1"], r"--delta -0.1 must be above 0"),
    (["--delta", "x"], r"--delta 'x' is not a number"),
    (["--formats", "svg,xlsx"], r"--formats 'xlsx' is not a figure format"),
    (["--sep", "ab"], r"--sep 'ab': use one character"),
    (["--decimal", ";"], r"--decimal invalid choice"),
]


@pytest.mark.parametrize(("extra", "message"), ARGS, ids=[" ".join(a[0]) for a in ARGS])
def test_fit_arguments(capsys, extra, message):
    code, _, err = run(capsys, *FIT, *extra)
    one_line(code, err)
    assert pytest.importorskip("re").search(message, err), err


OTHER = [
    (
        ["check-shape", "rotterdam", "--expect", "U", "--alpha", "1.5"],
        r"--alpha 1.5 is not between 0 and 1",
    ),
    (
        ["check-shape", "rotterdam", "--expect", "U", "--alpha", "-1"],
        r"--alpha -1 is not between 0 and 1",
    ),
    (
        ["check-shape", "rotterdam", "--expect", "U", "--alpha", "0"],
        r"--alpha 0 is not between 0 and 1",
    ),
    (
        ["check-shape", "rotterdam", "--expect", "U", "--knots", "abc"],
        r"--knots 'abc' is not a whole number",
    ),
    (["check-shape", "rotterdam", "--expect", "V"], r"--expect invalid choice: 'V'"),
    (["check-shape", "rotterdam", "--expect", "U", "--n", "0"], r"--n 0 is too small"),
    (
        ["validate", "rotterdam", "--reps", "0", "--out", "o"],
        r"--reps 0 is too small: use 1 or more",
    ),
    (
        ["validate", "rotterdam", "--reps", "2", "--n", "10", "--out", "o"],
        r"n=10 people per replicate is too few to fit the spline model: use n >= 500",
    ),
    (
        ["validate", "rotterdam", "--reps", "2.5", "--out", "o"],
        r"--reps '2.5' is not a whole number",
    ),
    (
        ["validate", "rotterdam", "--reps", "2", "--jobs", "2", "--scheduler", "x", "--out", "o"],
        r"not allowed with argument",
    ),
    (["simulate", "rotterdam", "--n", "-5", "--out", "c.csv"], r"--n -5 is too small"),
    (
        ["simulate", "rotterdam", "--n", "100", "--out", "c.xlsx"],
        r"--out c.xlsx: '.xlsx' is not a format mgrisk writes; end the name with .csv",
    ),
    (["simulate", "rotterdam", "--n", "100", "--out", "cohort"], r"--out cohort: no suffix"),
    (["simulate", "rotterdam", "--out"], r"--out expected one argument"),
    (["frobnicate"], r"unknown command 'frobnicate'"),
    (["fit", "c.csv"], r"the following arguments are required: --out"),
]


@pytest.mark.parametrize(
    ("argv", "message"), OTHER, ids=[" ".join(a[0][:1] + a[0][-2:]) for a in OTHER]
)
def test_other_arguments(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    one_line(code, err)
    assert pytest.importorskip("re").search(message, err), err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("afile", r"--out afile: is an existing file, not a folder"),
        ("afile/sub", r"afile is a file, not a folder"),
        ("mine", r"--out mine: is a folder holding files that mgrisk did not write"),
        ("/proc/mgrisk-study", r"cannot write in /proc"),
    ],
)
def test_validate_refuses_a_bad_out_before_the_study(capsys, tmp_path, monkeypatch, out, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    code, _, err = run(capsys, "validate", "rotterdam", "--reps", "500", "--out", out)
    one_line(code, err)  # refused at once: 500 replicates would take minutes
    assert pytest.importorskip("re").search(message, err), err
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_simulate_refuses_a_path_under_a_file(capsys, tmp_path):
    (tmp_path / "afile").write_text("x")
    code, _, err = run(capsys, "simulate", "rotterdam", "--out", tmp_path / "afile" / "c.csv")
    one_line(code, err)
    assert "afile is a file, not a folder" in err


def test_validate_writes_a_run_record_and_a_failed_rerun_keeps_the_old_study(
    capsys, tmp_path, monkeypatch
):
    out = tmp_path / "study"
    code, _, err = run(
        capsys,
        "validate",
        "rotterdam",
        "--reps",
        "2",
        "--n",
        "800",
        "--jobs",
        "1",
        "--quiet",
        "--out",
        out,
    )
    assert code == 0, err
    names = sorted(p.name for p in out.iterdir())
    assert names == ["coverage.png", "nadirs.png", "run.json", "study.json", "summary.txt"]
    run_record = json.loads((out / "run.json").read_text())
    assert run_record["command"][:3] == ["mgrisk", "validate", "rotterdam"]
    assert {f["path"] for f in run_record["files"]} == set(names) - {"run.json"}
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    import mgrisk.plot

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(mgrisk.plot, "plot_nadir_distribution", broken)
    code, _, err = run(
        capsys,
        "validate",
        "rotterdam",
        "--reps",
        "2",
        "--n",
        "900",
        "--jobs",
        "1",
        "--quiet",
        "--out",
        out,
    )
    assert code == 130 and err == "mgrisk: interrupted\n"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study"]


def test_fit_reads_a_european_csv(capsys, tmp_path):
    path = tmp_path / "eu.csv"
    simulate_cohort("rotterdam", n=3000, seed=5).to_csv(path, sep=";", decimal=",", index=False)
    code, _, err = run(
        capsys,
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
        "--quiet",
        "--out",
        tmp_path / "o",
    )
    assert code == 0, err
    assert json.loads((tmp_path / "o" / "results.json").read_text())["n"] == 3000


def test_fit_refuses_duplicated_column_names(capsys, tmp_path):
    path = tmp_path / "dup.csv"
    df = simulate_cohort("rotterdam", n=300, seed=5)
    df.insert(6, "mg_copy", df.mg)
    df.to_csv(path, index=False, header=[*df.columns[:6], "mg", *df.columns[7:]])
    code, _, err = run(capsys, *["fit", path, *FIT[2:-1], tmp_path / "o"])
    one_line(code, err)
    assert "column name 'mg' appears twice (columns 5 and 7); rename one of them" in err


def test_messages_name_the_row_and_its_file_line(tmp_path, capsys):
    """A bad value is named by its row in the data (1-based, header not counted) and by its
    line in the file, which differ after a blank line; rows dropped for missing values do not
    shift the count (the design is built on the complete rows)."""
    path = tmp_path / "c.csv"
    rows = [f"{60 + i},{70 + i},{i % 2},{0.70 + 0.02 * i:.2f},{60 + i}" for i in range(12)]
    rows[1] = "61,71,0,0.72,"  # row 2, file line 4: egfr missing (dropped)
    rows[2] = "62,72,1,0.74,0"  # row 3, file line 5: log(0)
    rows[3] = "63,60,0,0.76,65"  # row 4, file line 6: exit before entry
    path.write_text("entry,exit,event,mg,egfr\n" + rows[0] + "\n\n" + "\n".join(rows[1:]) + "\n")
    base = ["fit", path, "--exposure", "mg", "--time", "exit", "--entry", "entry"]
    base += ["--event", "event", "--out", tmp_path / "o"]
    code, _, err = run(capsys, *base)
    one_line(code, err)
    assert "first at row(s) 4 (file line(s) 6) exit at or before entry" in err
    path.write_text(path.read_text().replace("63,60,0", "63,73,0"))
    code, _, err = run(capsys, *base, "--adjust", "I(log(egfr))")
    one_line(code, err)
    assert "at row 3 (file line 5) (e.g. log of zero" in err
    assert not (tmp_path / "o").exists()


def test_a_renumbered_cohort_frame_claims_no_file_line(tmp_path):
    """The checked frame's rows name their input row and file line; a frame renumbered from it
    (the sensitivity analyses' refits) names positions only, never another row's line."""
    from mgrisk import fit_dose_response
    from mgrisk.data import row_name
    from mgrisk.sensitivity import _frames
    from mgrisk.tables import read_table

    data = simulate_cohort("rotterdam", n=400, seed=2)
    data.loc[1, "mg"] = float("nan")  # input row 2 (file line 3) dropped
    data.to_csv(tmp_path / "c.csv", index=False)
    fit = fit_dose_response(read_table(tmp_path / "c.csv"), "mg", "exit", "event", entry="entry")
    assert row_name(fit.cohort.frame, 5) == "row 7 (file line 8)"  # the 6th complete row
    assert row_name(_frames(fit)[0], 5) == "row 6"
