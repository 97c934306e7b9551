"""Results folders: written whole or not at all, refused up front, with a run record."""

import hashlib
import json
import os

import pytest

from mgrisk.errors import InputError
from mgrisk.results_folder import check_out_folder, replace_file, results_folder


def _write(folder, **files):
    for name, text in files.items():
        (folder / name).write_text(text)


def test_new_folder_gets_every_file_and_a_run_record(tmp_path):
    data = tmp_path / "cohort.csv"
    data.write_text("id,mg\n1,0.8\n")
    out = tmp_path / "a" / "b" / "results"
    with results_folder(out, command=["mgrisk", "fit"], inputs=[data], seed=7) as tmp:
        assert tmp.parent == out.parent and not out.exists()
        _write(tmp, **{"summary.txt": "s", "results.json": "{}"})
    assert sorted(p.name for p in out.iterdir()) == ["results.json", "run.json", "summary.txt"]
    run = json.loads((out / "run.json").read_text())
    assert run["command"] == ["mgrisk", "fit"] and run["seed"] == 7
    assert run["inputs"][0]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert run["inputs"][0]["bytes"] == data.stat().st_size
    assert [f["path"] for f in run["files"]] == ["results.json", "summary.txt"]
    assert run["mgrisk_version"] and run["utc_time"].endswith("+00:00")
    assert sorted(p.name for p in out.parent.iterdir()) == ["results"]  # no temporary left


def test_a_success_replaces_the_old_folder_as_a_whole(tmp_path):
    out = tmp_path / "results"
    with results_folder(out) as tmp:
        _write(tmp, **{"summary.txt": "old", "corridor.svg": "old"})
    with results_folder(out) as tmp:
        _write(tmp, **{"summary.txt": "new"})
    assert sorted(p.name for p in out.iterdir()) == ["run.json", "summary.txt"]
    assert (out / "summary.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_a_failure_part_way_leaves_the_old_folder_untouched(tmp_path, exc):
    out = tmp_path / "results"
    with results_folder(out) as tmp:
        _write(tmp, **{"summary.txt": "old", "corridor.png": "old"})
    before = {p.name: p.read_text() for p in out.iterdir()}
    with pytest.raises(type(exc)), results_folder(out) as tmp:
        _write(tmp, **{"summary.txt": "new"})
        raise exc
    assert {p.name: p.read_text() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_a_failure_in_a_new_place_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), results_folder(tmp_path / "x" / "y" / "results") as tmp:
        _write(tmp, **{"summary.txt": "new"})
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("afile", r"--out afile: is an existing file, not a folder; give a folder name"),
        ("afile/sub", r"--out afile/sub: .*afile is a file, not a folder; choose a path outside"),
        ("mine", r"--out mine: is a folder holding files that mgrisk did not write"),
        (".", r"--out \.: is the current folder"),
        ("/proc/mgrisk-results", r"cannot write in /proc .*choose a folder you can write to"),
    ],
)
def test_bad_places_are_refused_before_any_work(tmp_path, monkeypatch, out, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "cohort.csv").write_text("x")
    with pytest.raises(InputError, match=message):
        check_out_folder(out)
    with pytest.raises(InputError, match=message), results_folder(out):
        pytest.fail("the block must not run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "mine"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_folder_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    with pytest.raises(InputError, match=r"cannot write in .*locked \(permission denied\)"):
        check_out_folder(locked / "results")


def test_an_empty_or_old_results_folder_may_be_replaced(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "old").mkdir()
    _write(tmp_path / "old", **{"summary.txt": "s", "corridor.pdf": "p"})
    assert check_out_folder(tmp_path / "empty") == tmp_path / "empty"
    assert check_out_folder(tmp_path / "old") == tmp_path / "old"


def test_replace_file(tmp_path):
    out = tmp_path / "c.csv"
    out.write_text("old")
    with pytest.raises(KeyboardInterrupt), replace_file(out) as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["c.csv"]
    with replace_file(out) as tmp:
        tmp.write_text("new")
    assert out.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["c.csv"]
