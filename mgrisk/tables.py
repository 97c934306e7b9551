"""Reading and writing data tables: CSV (comma, semicolon or tab separated; decimal point or
comma, as European spreadsheets write them) and Parquet.

Every problem is one `InputError` naming the file, the line and the fix. Lines are counted as
a text editor counts them: 1-based, the header is line 1, the first data row is line 2. The
DataFrame returned keeps, in ``df.attrs["lines"]``, the file line of each row (blank lines are
skipped), so that later checks can name the line a person sees.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import io
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ._meanwhile import meanwhile
from .errors import InputError
from .results_folder import check_out_file, replace_file

__all__ = ["READ_SUFFIXES", "WRITE_SUFFIXES", "check_table_path", "read_table", "write_table"]

#: Suffixes read as Parquet; anything else is read as delimited text.
PARQUET = (".parquet", ".pq")
READ_SUFFIXES = (".csv", ".tsv", ".txt", *PARQUET)
#: The only formats written.
WRITE_SUFFIXES = (".csv", *PARQUET)
_SEPARATORS = (",", ";", "\t", "|")
_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar"}
_SPREADSHEETS = (".xlsx", ".xls", ".xlsm", ".ods", ".numbers")
#: Lines looked at to detect the separator and the decimal mark.
_SNIFF_LINES = 200
#: From this size on, a plain file is parsed as two halves at once.
_HALVES_BYTES = 2**23
_COMMA_DECIMAL = re.compile(r"^\s*[-+]?\d*,\d+(?:[eE][-+]?\d+)?\s*$")
_NEWLINE = re.compile(r"\r\n|\r|\n")  # as pandas counts lines
_POINT_DECIMAL = re.compile(r"^\s*[-+]?\d*\.\d+(?:[eE][-+]?\d+)?\s*$")


# pandas' warning that its chunks read a column as different types, for this module's calls
# only: `_halves` checks the types itself (a filter, not catch_warnings: threads read at once).
warnings.filterwarnings("ignore", category=pd.errors.DtypeWarning, module=__name__)


def _separator(sep: str | None) -> str | None:
    if sep is None:
        return None
    named = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";"}
    sep = named.get(sep.lower(), sep)
    if len(sep) != 1 or sep.isalnum() or sep in "\"'.\n\r":
        raise InputError(f"sep={sep!r}: use one character such as ',' ';' or '\\t' (or 'tab')")
    return sep


def _decimal(decimal: str | None) -> str | None:
    if decimal is None or decimal in (".", ","):
        return decimal
    raise InputError(f"decimal={decimal!r}: use '.' or ','")


def _raw(path: Path) -> tuple[bytes, str]:
    """The file's bytes and the encoding that decodes them (UTF-8, else Windows-1252/Latin-1)."""
    try:
        raw = path.read_bytes()
    except PermissionError:
        raise InputError(f"{path}: cannot be read (permission denied)") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if b"\x00" in raw[:65536]:
        hint = (
            "; save it as CSV from the spreadsheet"
            if raw[:2] == b"PK" or raw[:4] == b"\xd0\xcf\x11\xe0"
            else ""
        )
        raise InputError(f"{path}: is not a text file (binary content); give CSV or Parquet{hint}")
    if raw.isascii():
        return raw, "utf-8"
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return raw, encoding
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _line_fields(raw: bytes, sep: str):
    """(file line number, start, end, fields) of every non-empty line, or None when the file
    has quotes or bare carriage returns (then Python's csv rules split the lines)."""
    if _quoted(raw):
        return None
    from ._text_kernel import line_fields

    return line_fields(np.frombuffer(raw, np.uint8), ord(sep), raw.count(b"\n") + 1)


def _plain(raw: bytes, sep: str, rows: int, fields: int) -> bool:
    """Whether the file is the header and ``rows`` lines of ``fields`` fields each, with no
    quotes, blank lines or bare carriage returns: then each row's file line is its position + 1.
    (pandas refuses a line with too many fields; with none too long, the separators' count
    leaves no room for a short one.)"""
    if _quoted(raw):
        return False
    from ._text_kernel import byte_counts

    ends, seps = byte_counts(np.frombuffer(raw, np.uint8), ord(sep))
    lines = ends + (not raw.endswith(b"\n"))
    return lines == rows + 1 and seps == lines * (fields - 1)


def _line_numbers(path: Path, raw: bytes, encoding: str, sep: str, fields: int) -> np.ndarray:
    """The file line of the header and of each data line (blank lines left out); a line with
    more or fewer fields than the header is refused, naming it."""
    layout = _line_fields(raw, sep)
    if layout is None:  # quotes or bare carriage returns: Python splits the lines
        lines = _lines(raw.decode(encoding))
        _check_rows(path, lines, sep, fields)
        return np.array([number for number, _ in lines], dtype=np.int64)
    numbers, _, _, counts = layout  # numba counted the fields of every line (no quotes)
    bad = np.flatnonzero(counts[1:] != fields)
    if bad.size:
        _bad_row(path, int(numbers[bad[0] + 1]), int(counts[bad[0] + 1]), fields, sep)
    return numbers


def _read_csv(raw: bytes, **options) -> pd.DataFrame:
    """pandas' ``read_csv`` of ``raw``, read whole (each column's type from all its values).

    A large file without quotes or bare carriage returns is parsed as two halves at once, each
    in pandas' chunks (its parser lets go of the GIL: 0.7 s instead of 0.9 s for 1M rows, and
    fewer fresh pages). That frame is kept only where it is the whole reading's: both halves
    read alike (same columns and types, no index taken from the rows), every text column all
    text (no chunk of numbers merged with one of words) and every float below 2**53 in size
    (a chunk of integers merged into floats is exact; no two integer kinds were merged). Else
    the file is read whole."""
    options.update(skip_blank_lines=True)
    cut = raw.find(b"\n", len(raw) // 2) + 1
    if len(raw) >= _HALVES_BYTES and (os.cpu_count() or 1) > 1 and cut > 0 and not _quoted(raw):
        try:
            frame = _halves(raw, cut, options)
        except Exception:  # pandas' message comes from the whole read below
            frame = None
        if frame is not None:
            return frame
    return pd.read_csv(io.BytesIO(raw), low_memory=False, **options)


def _halves(raw: bytes, cut: int, options: dict) -> pd.DataFrame | None:
    """``raw[:cut]`` and the header with ``raw[cut:]`` read by two threads, in pandas' chunks;
    None unless the frame is the whole reading's (see `_read_csv`)."""
    names = list(pd.read_csv(io.BytesIO(raw[: raw.find(b"\n") + 1]), **options).columns)
    rest = io.BytesIO(memoryview(raw)[cut:])
    second = meanwhile(lambda: pd.read_csv(rest, header=None, names=names, **options))
    try:
        first = pd.read_csv(io.BytesIO(memoryview(raw)[:cut]), **options)
    except Exception:
        with contextlib.suppress(Exception):  # the whole reading names the problem
            second()
        raise
    halves = [first, second()]
    alike = all(
        isinstance(h.index, pd.RangeIndex)
        and list(h.columns) == names
        and h.dtypes.equals(first.dtypes)
        for h in halves
    )
    if not alike:
        return None
    frame = pd.concat(halves, ignore_index=True)
    return frame if all(_as_read_whole(column) for _, column in frame.items()) else None


def _as_read_whole(column: pd.Series) -> bool:
    """Whether pandas' chunks cannot have given this column other values than a whole read:
    text all text, floats below 2**53 in size."""
    if column.dtype == object:
        return pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty")
    if column.dtype.kind == "f":
        return not (np.abs(column.to_numpy()) >= 2.0**53).any()
    return True


def _quoted(raw: bytes) -> bool:
    """Whether ``raw`` has quotes or carriage returns not followed by a newline (then a line
    break is not always a row break)."""
    return b'"' in raw or (b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n"))


def _lines(text: str) -> list[tuple[int, str]]:
    """(file line number, line) of every non-blank line."""
    return [(i, line) for i, line in enumerate(_NEWLINE.split(text), 1) if line.strip()]


def _fields(line: str, sep: str) -> list[str]:
    return next(csv.reader([line], delimiter=sep), [])


def _detect_separator(lines: list[tuple[int, str]]) -> str:
    """The candidate that splits the header into most fields and the first data lines into as
    many (the header alone when they disagree)."""
    header, sample = lines[0][1], [line for _, line in lines[1:_SNIFF_LINES]]
    best, best_score = ",", (False, 1)
    for sep in _SEPARATORS:
        n = len(_fields(header, sep))
        consistent = all(len(_fields(line, sep)) == n for line in sample)
        score = (consistent and n > 1, n)
        if score > best_score:
            best, best_score = sep, score
    return best


def _detect_decimal(lines: list[tuple[int, str]], sep: str) -> str:
    if sep == ",":
        return "."
    comma = point = 0
    for _, line in lines[1:_SNIFF_LINES]:
        for cell in _fields(line, sep):
            comma += bool(_COMMA_DECIMAL.match(cell))
            point += bool(_POINT_DECIMAL.match(cell))
    return "," if comma > point else "."


def _check_header(path: Path, names: list[str]) -> None:
    seen: dict[str, int] = {}
    for j, name in enumerate(names, 1):
        key = name.strip()
        if key and key in seen:
            raise InputError(
                f"{path}: column name {key!r} appears twice (columns {seen[key]} and {j}); "
                "rename one of them"
            )
        seen.setdefault(key, j)


def _check_rows(path: Path, lines: list[tuple[int, str]], sep: str, n: int) -> None:
    """Every data line has as many fields as the header (a short line is a truncated or
    damaged row: refused rather than read as missing values)."""
    for number, line in lines[1:]:
        k = len(_fields(line, sep))
        if k != n:
            _bad_row(path, number, k, n, sep)


def _bad_row(path: Path, number: int, k: int, n: int, sep: str):
    sep_name = _SEP_NAMES.get(sep, repr(sep))
    hint = (
        "a decimal comma in a comma-separated file? use a decimal point, or separate fields "
        "with ';' (--sep ';')"
        if k > n and sep == ","
        else "a truncated or damaged row? fix or delete that line"
    )
    raise InputError(
        f"{path}: line {number} has {k} {sep_name}-separated fields but the header has {n} ({hint})"
    )


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except ImportError:
        raise InputError(f"{path}: reading Parquet needs pyarrow: pip install pyarrow") from None
    except Exception as exc:  # pyarrow raises its own error types for damaged files
        raise InputError(
            f"{path}: is not a readable Parquet file ({type(exc).__name__}); "
            "check the file or give a CSV"
        ) from None
    _check_header(path, [str(c) for c in df.columns])
    if df.empty:
        raise InputError(f"{path}: has no data rows")
    df.attrs["lines"] = range(1, len(df) + 1)
    df.attrs["path"] = str(path)
    return df


def read_table(
    path: str | Path, *, sep: str | None = None, decimal: str | None = None
) -> pd.DataFrame:
    """Read a CSV or Parquet file, one row per person (or interval).

    The separator (comma, semicolon, tab or bar) and the decimal mark (point or comma) are
    detected unless given: a semicolon- or tab-separated file whose numbers have decimal commas
    (as European spreadsheets write them) is read as such. Refused, each with one line naming
    the file and the fix: a missing file, a folder, an unreadable or binary file, an empty or
    header-only file, a column name used twice (pandas would rename the second ``mg`` to
    ``mg.1``), and a line with more or fewer fields than the header (the line is named, 1-based,
    the header being line 1). Text that is not UTF-8 is read as Windows-1252 (Latin-1).

    Parameters
    ----------
    path : str or Path
        ``.parquet``/``.pq`` files are read as Parquet, anything else as delimited text.
    sep : str, optional
        Field separator: one character, ``"\\t"`` or ``"tab"`` for tabs.
    decimal : {".", ","}, optional
        Decimal mark of the numbers.

    Returns
    -------
    pandas.DataFrame
        With ``attrs["lines"]``, the file line of each row, and ``attrs["path"]``.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "eu.csv"
    >>> _ = p.write_text("id;mg\\n1;0,81\\n2;0,86\\n")
    >>> read_table(p).mg.tolist()
    [0.81, 0.86]
    """
    p = Path(path)
    sep, decimal = _separator(sep), _decimal(decimal)
    if not p.exists():
        raise InputError(f"{path}: file not found")
    if p.is_dir():
        raise InputError(f"{path}: is a folder; give a CSV or Parquet file")
    if p.suffix.lower() in _SPREADSHEETS:
        raise InputError(
            f"{path}: spreadsheet files are not read; save the sheet as CSV (or Parquet)"
        )
    if p.suffix.lower() in PARQUET:
        return _read_parquet(p)
    raw, encoding = _raw(p)
    head = raw[: raw.find(b"\n", 2**16) if len(raw) > 2**16 else len(raw)]  # for sniffing
    sniffed = _lines(head.decode(encoding, errors="replace"))[:_SNIFF_LINES]
    if not sniffed:
        raise InputError(f"{path}: the file is empty; it needs a header line and data rows")
    sep = sep or _detect_separator(sniffed)
    decimal = decimal or _detect_decimal(sniffed, sep)
    if sep == decimal:
        raise InputError(f"{path}: the separator and the decimal mark are both {sep!r}")
    names = _fields(sniffed[0][1], sep)
    _check_header(p, names)
    options = dict(sep=sep, decimal=decimal, encoding=encoding, skipinitialspace=True)
    try:
        df = _read_csv(raw, **options)
    except (ValueError, pd.errors.ParserError) as exc:
        _line_numbers(p, raw, encoding, sep, len(names))  # names the bad line, if one is
        raise InputError(f"{path}: cannot be read as CSV ({str(exc).strip()})") from None
    if _plain(raw, sep, len(df), len(names)):
        numbers = range(1, len(df) + 2)  # a range: pandas copies attrs with every operation
    else:  # blank, short or quoted lines: look at each line
        numbers = _line_numbers(p, raw, encoding, sep, len(names))
        if len(df) != numbers.size - 1:  # e.g. a quoted field spanning lines
            raise InputError(
                f"{path}: {numbers.size - 1} data lines but {len(df)} rows read "
                "(a quote left open?)"
            )
    if df.empty:
        raise InputError(f"{path}: has a header line but no data rows")
    df.attrs["lines"] = numbers[1:]
    df.attrs["path"] = str(p)
    return df


def check_table_path(path: str | Path) -> Path:
    """Refuse, before any work, an output file mgrisk does not write: only CSV (``.csv``) and
    Parquet (``.parquet``, ``.pq``; needs pyarrow), in a place that can be written.

    Examples
    --------
    >>> try:
    ...     check_table_path("cohort.xlsx")
    ... except InputError as exc:
    ...     print(str(exc)[:60])
    --out cohort.xlsx: '.xlsx' is not a format mgrisk writes; en
    """
    target = check_out_file(path, WRITE_SUFFIXES)
    if target.suffix.lower() in PARQUET and importlib.util.find_spec("pyarrow") is None:
        raise InputError(f"--out {path}: writing Parquet needs pyarrow: pip install pyarrow")
    return target


def write_table(df: pd.DataFrame, path: str | Path) -> None:
    """Write a table as CSV or Parquet (by the suffix), whole or not at all.

    Anything but ``.csv``, ``.parquet`` and ``.pq`` is refused before writing (see
    `check_table_path`). The file is written beside the target and renamed into place.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "t.csv"
    >>> write_table(pd.DataFrame({"mg": [0.8]}), p)
    >>> p.read_text()
    'mg\\n0.8\\n'
    """
    target = check_table_path(path)
    with replace_file(target) as tmp:
        if target.suffix.lower() in PARQUET:
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False)
