"""Results folders that are written whole or not at all, and say which run made them.

A run writes into a hidden temporary folder beside the target; only when every file is written
(and ``run.json`` lists them) is the temporary folder renamed into place. An existing results
folder is replaced as a whole, by renames, and only then; a failure or Ctrl-C part-way leaves it
untouched and removes the temporary folder. Single files (a simulated cohort) go the same way
through a temporary file beside the target and `os.replace`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import secrets
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ._meanwhile import meanwhile
from .errors import InputError

__all__ = [
    "RUN_RECORD",
    "check_out_file",
    "check_out_folder",
    "file_record",
    "replace_file",
    "results_folder",
]

#: The provenance file written into every results folder.
RUN_RECORD = "run.json"
#: Files an mgrisk run writes: a folder holding only these (or a run.json) may be replaced.
_KNOWN = {
    RUN_RECORD,
    "summary.txt",
    "results.json",
    "curve.csv",
    "quintiles.csv",
    "report.html",
    "study.json",
    "coverage.png",
    "nadirs.png",
    "schoenfeld.png",
    "functional_form.png",
    "meta_curve.csv",
    "meta.json",
    "meta.png",
    "meta_report.html",
    "power.csv",
    "power.json",
    "power.png",
    "power_pvalues.csv",
}
_KNOWN_PREFIXES = ("corridor.",)
_TMP = ".mgrisk-tmp-"


def _fresh_name(parent: Path, prefix: str, suffix: str = "") -> Path:
    """A name in ``parent`` that does not exist yet."""
    while True:
        path = parent / f"{prefix}{secrets.token_hex(4)}{suffix}"
        if not path.exists():
            return path


def _fresh_dir(parent: Path, prefix: str) -> Path:
    """A new folder in ``parent`` (permissions as the umask says, unlike mkdtemp's 0700)."""
    while True:
        path = _fresh_name(parent, prefix)
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def _existing_ancestor(path: Path) -> Path:
    for parent in path.parents:
        if parent.exists():
            return parent
    return Path(path.anchor or ".")


def _probe_writable(folder: Path, label: str, out: Path) -> None:
    """Create and remove a temporary folder in ``folder`` (os.access is wrong for root and on
    some file systems, so try it)."""
    if not folder.is_dir():
        raise InputError(
            f"{label} {out}: {folder} is a file, not a folder; choose a path outside it"
        )
    try:
        probe = _fresh_dir(folder, _TMP)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(
            f"{label} {out}: cannot write in {folder} ({reason.lower()}); "
            "choose a folder you can write to"
        ) from None
    os.rmdir(probe)


def _is_results_folder(folder: Path) -> bool:
    names = [p.name for p in folder.iterdir()]
    if RUN_RECORD in names:
        return True
    return all(
        (folder / n).is_file() and (n in _KNOWN or n.startswith(_KNOWN_PREFIXES)) for n in names
    )


def check_out_folder(out: str | Path, *, label: str = "--out") -> Path:
    """Refuse, before any work, an output folder that cannot be written or replaced.

    Refused: an existing file; a path under a file; a place where this process cannot write;
    an existing folder that is not an mgrisk results folder (it holds other files, which a
    replacement would lose); the current folder or one above it. Nothing is created.

    Parameters
    ----------
    out : str or Path
        The results folder.
    label : str
        How the caller names it in messages (the CLI option).

    Returns
    -------
    Path
        ``out`` as an absolute path.

    Examples
    --------
    >>> import tempfile
    >>> check_out_folder(Path(tempfile.mkdtemp()) / "results").name
    'results'
    """
    target = Path(os.path.abspath(out))
    if target.exists() and not target.is_dir():
        raise InputError(
            f"{label} {out}: is an existing file, not a folder; give a folder name "
            "(or remove the file)"
        )
    if target.is_dir():
        cwd = Path.cwd().resolve()
        if target.resolve() == cwd or target.resolve() in cwd.parents:
            raise InputError(
                f"{label} {out}: is the current folder (or holds it); give a new folder name"
            )
        if not _is_results_folder(target):
            raise InputError(
                f"{label} {out}: is a folder holding files that mgrisk did not write (it would "
                "replace them all); give a new or empty folder"
            )
    ancestor = _existing_ancestor(target)
    if ancestor.exists() and not ancestor.is_dir():
        raise InputError(
            f"{label} {out}: {ancestor} is a file, not a folder; choose a path outside it"
        )
    _probe_writable(ancestor, label, Path(out))
    return target


def check_out_file(out: str | Path, suffixes: Sequence[str], *, label: str = "--out") -> Path:
    """Refuse, before any work, an output file with a format not written or a place that
    cannot be written (an existing folder, a path under a file, an unwritable folder).

    Examples
    --------
    >>> import tempfile
    >>> check_out_file(Path(tempfile.mkdtemp()) / "c.csv", [".csv", ".parquet"]).suffix
    '.csv'
    """
    target = Path(os.path.abspath(out))
    if target.suffix.lower() not in suffixes:
        given = f"'{target.suffix}' is not a format mgrisk writes" if target.suffix else "no suffix"
        raise InputError(f"{label} {out}: {given}; end the name with " + " or ".join(suffixes))
    if target.is_dir():
        raise InputError(f"{label} {out}: is a folder; give a file name ending in {suffixes[0]}")
    ancestor = _existing_ancestor(target)
    _probe_writable(ancestor, label, Path(out))
    return target


def file_record(path: str | Path) -> dict:
    """Name, size in bytes and SHA-256 of a file (for provenance).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_text("mg")
    >>> file_record(p)["bytes"]
    2
    """
    path = Path(path)
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _run_record(folder: Path, command, inputs: list[dict], seed, extra) -> dict:
    from . import __version__

    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != RUN_RECORD)
    return {
        "command": list(command) if command is not None else list(sys.argv),
        "mgrisk_version": __version__,
        "python": sys.version.split()[0],
        "utc_time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "inputs": inputs,
        "files": [{**file_record(p), "path": str(p.relative_to(folder))} for p in files],
        **(extra or {}),
    }


@contextmanager
def results_folder(
    out: str | Path,
    *,
    command: Sequence[str] | None = None,
    inputs: Sequence[str | Path] = (),
    seed: int | None = None,
    extra: dict | None = None,
) -> Iterator[Path]:
    """Write a results folder whole or not at all; yields the temporary folder to write into.

    On success the temporary folder gets ``run.json`` (command, mgrisk version, UTC time, seed,
    SHA-256 and size of each input file and of every file written) and replaces ``out`` by
    renames. On any exception (Ctrl-C included) ``out`` is left as it was and the temporary
    folder is removed.

    Parameters
    ----------
    out : str or Path
        The results folder (checked by `check_out_folder` first).
    command : sequence of str, optional
        The command line to record (default ``sys.argv``).
    inputs : sequence of paths
        Input files to fingerprint.
    seed : int, optional
    extra : dict, optional
        More keys for ``run.json``.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "results"
    >>> with results_folder(out, command=["mgrisk", "demo"], seed=1) as tmp:
    ...     _ = (tmp / "summary.txt").write_text("ok")
    >>> sorted(p.name for p in out.iterdir())
    ['run.json', 'summary.txt']
    """
    target = check_out_folder(out)
    created = _make_parents(target)
    tmp = _fresh_dir(target.parent, f".{target.name}{_TMP}")
    fingerprints = meanwhile(lambda: [file_record(p) for p in inputs])  # the files as read
    try:
        yield tmp
        record = _run_record(tmp, command, fingerprints(), seed, extra)
        (tmp / RUN_RECORD).write_text(json.dumps(record, indent=2) + "\n")
        _swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_empty(created)
        raise


def _make_parents(target: Path) -> list[Path]:
    """Create the missing folders above ``target``; returns them, deepest first."""
    missing = [p for p in target.parents if not p.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _swap_in(tmp: Path, target: Path) -> None:
    """Rename tmp to target; an existing target is moved aside first and removed after."""
    if not target.exists():
        os.rename(tmp, target)
        return
    old = _fresh_name(target.parent, f".{target.name}.mgrisk-old-")
    os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def replace_file(out: str | Path) -> Iterator[Path]:
    """Write one file whole or not at all: yields a temporary path beside ``out`` (same
    suffix) that replaces ``out`` only when the block succeeds.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "c.csv"
    >>> with replace_file(out) as tmp:
    ...     _ = tmp.write_text("a\\n1\\n")
    >>> out.read_text()
    'a\\n1\\n'
    """
    target = Path(os.path.abspath(out))
    created = _make_parents(target)
    tmp = _fresh_name(target.parent, f".{target.stem}{_TMP}", target.suffix)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        _remove_empty(created)
        raise
