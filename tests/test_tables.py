"""Reading and writing tables: European CSVs read right, every bad file one line naming it."""

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mgrisk.errors import InputError
from mgrisk.tables import read_table, write_table


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "id": np.arange(50),
            "mg": rng.normal(0.84, 0.065, 50).round(4),
            "exit": rng.uniform(60, 90, 50).round(3),
            "event": rng.integers(0, 3, 50),
        }
    )


@pytest.mark.parametrize(
    ("sep", "decimal", "suffix"),
    [
        (",", ".", ".csv"),
        (";", ",", ".csv"),
        ("\t", ".", ".tsv"),
        ("\t", ",", ".txt"),
        (";", ".", ".csv"),
    ],
)
def test_separators_and_decimal_marks_are_detected(cohort, tmp_path, sep, decimal, suffix):
    path = tmp_path / f"c{suffix}"
    cohort.to_csv(path, sep=sep, decimal=decimal, index=False)
    df = read_table(path)
    pd.testing.assert_frame_equal(df, cohort)
    assert list(df.attrs["lines"][:2]) == [2, 3]


def test_explicit_sep_and_decimal(cohort, tmp_path):
    path = tmp_path / "c.csv"
    cohort.to_csv(path, sep=";", decimal=",", index=False)
    pd.testing.assert_frame_equal(read_table(path, sep=";", decimal=","), cohort)
    pd.testing.assert_frame_equal(read_table(path, sep="semicolon"), cohort)


def test_latin1_text_is_read(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes("id;mg;ort\n1;0,8;K\xf6ln\n".encode("latin-1"))
    df = read_table(path)
    assert df.ort[0] == "Köln" and df.mg[0] == 0.8


def test_blank_lines_keep_file_line_numbers(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id,mg\n1,0.8\n\n2,0.9\n")
    assert list(read_table(path).attrs["lines"]) == [2, 4]


BAD = [
    (
        "dup.csv",
        "id,mg,exit,mg\n1,0.8,70,0.9\n",
        r"column name 'mg' appears twice \(columns 2 and 4\)",
    ),
    ("hdr.csv", "id,mg,exit\n", r"has a header line but no data rows"),
    ("empty.csv", "", r"the file is empty"),
    ("blank.csv", "\n\n  \n", r"the file is empty"),
    (
        "ragged.csv",
        "id,mg,exit\n1,0.8,70\n2,0,81,70\n",
        r"line 3 has 4 comma-separated fields but the header has 3 \(a decimal comma",
    ),
    (
        "short.csv",
        "id,mg,exit\n1,0.8,70\n2,0.81\n",
        r"line 3 has 2 comma-separated fields .* truncated",
    ),
    (
        "eu_short.csv",
        "id;mg;exit\n1;0,8;70\n\n2;0,81\n",
        r"line 4 has 2 semicolon-separated fields",
    ),
    ("quote.csv", 'id,mg\n1,"0.8\n2,0.9\n', r"quote|fields"),
    ("x.xlsx", "PK", r"spreadsheet files are not read; save the sheet as CSV"),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_files_are_one_line_naming_the_file(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError, match=message) as info:
        read_table(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_binary_missing_folder_and_bad_parquet(tmp_path):
    (tmp_path / "bin.csv").write_bytes(b"PK\x03\x04\x00\x00zip")
    with pytest.raises(InputError, match=r"not a text file .* save it as CSV"):
        read_table(tmp_path / "bin.csv")
    with pytest.raises(InputError, match=r"nope.csv: file not found"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(InputError, match=r"is a folder; give a CSV or Parquet file"):
        read_table(tmp_path)
    (tmp_path / "bad.parquet").write_text("id,mg\n1,0.8\n")
    with pytest.raises(InputError, match=r"bad.parquet: is not a readable Parquet file"):
        read_table(tmp_path / "bad.parquet")
    with pytest.raises(InputError, match=r"sep='ab': use one character"):
        read_table(tmp_path / "bin.csv", sep="ab")
    with pytest.raises(InputError, match=r"decimal=';': use '.' or ','"):
        read_table(tmp_path / "bin.csv", decimal=";")


def test_write_csv_and_parquet_round_trip(cohort, tmp_path):
    for name in ("c.csv", "c.parquet", "sub/c.pq"):
        write_table(cohort, tmp_path / name)
        pd.testing.assert_frame_equal(read_table(tmp_path / name), cohort)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "c.parquet", "sub"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("c.xlsx", r"'.xlsx' is not a format mgrisk writes; end the name with .csv"),
        ("c", r"no suffix; end the name with .csv"),
        ("afile/c.csv", r"afile is a file, not a folder"),
        ("d.csv", r"is a folder; give a file name"),
    ],
)
def test_write_refuses_before_writing(cohort, tmp_path, monkeypatch, name, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(InputError, match=message):
        write_table(cohort, name)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "d.csv"]
    assert not any((tmp_path / "d.csv").iterdir())


def test_a_failed_write_leaves_the_old_file(cohort, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("old\n")

    class Boom(pd.DataFrame):
        def to_csv(self, *args, **kwargs):
            with open(args[0], "w") as f:
                f.write("half")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_table(Boom(cohort), path)
    assert path.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["c.csv"]


_CELLS = st.sampled_from(["1", "-2", "0.84", "1e3", "", "NA", "x", "True", " 7", "9" * 20, "1,5"])


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.one_of(st.lists(_CELLS, min_size=3, max_size=3), st.lists(_CELLS, max_size=5)),
        min_size=1,
        max_size=12,
    ),
    sep=st.sampled_from([",", ";"]),
)
def test_a_file_read_as_two_halves_is_the_file_read_whole(rows, sep):
    """What the two-halves reading of a large file gives (the frame, its file lines, or the
    error) is what pandas' whole reading gives, whatever the halves hold: missing values,
    numbers in one half and words in the other, short, long and blank lines."""
    import mgrisk.tables as tables

    text = sep.join("abc") + "\n" + "".join(sep.join(r) + "\n" for r in rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.csv"
        path.write_text(text)
        read = []
        for size in (2**62, 0):  # whole, then as two halves
            tables._HALVES_BYTES, before = size, tables._HALVES_BYTES
            try:
                df = read_table(path)
                read.append((df, list(df.attrs["lines"])))
            except InputError as exc:
                read.append(str(exc))
            finally:
                tables._HALVES_BYTES = before
    (whole, halves) = read
    if isinstance(whole, str):
        assert halves == whole
    else:
        pd.testing.assert_frame_equal(halves[0], whole[0])
        assert halves[1] == whole[1]


def _wide_file(path: Path, rows: int, cells: dict[tuple[int, int], str]) -> bytes:
    """A CSV of 64 integer columns (pandas then reads 8,192-row chunks); ``cells`` sets a few."""
    body = np.arange(rows)[:, None] % 7 + np.zeros(64, dtype=int)
    lines = [",".join(f"c{j}" for j in range(64))]
    for i, row in enumerate(body.astype(str).tolist()):
        for j in range(64):
            row[j] = cells.get((i, j), row[j])
        lines.append(",".join(row))
    raw = ("\n".join(lines) + "\n").encode()
    path.write_bytes(raw)
    return raw


@pytest.mark.parametrize(
    ("cells", "kept"),
    [
        ({(10000, 1): "1.5", (30000, 1): "2.5"}, True),  # integer chunks merged into floats
        ({(10000, 1): "x", (30000, 1): "y"}, False),  # chunks of words, chunks of numbers
        ({(10000, 2): str(2**64 - 1), (30000, 2): "1e300"}, False),  # two integer kinds
        ({(10000, 3): "True", (30000, 3): "False"}, False),  # chunks of booleans
    ],
    ids=["ints and floats", "numbers and words", "two integer kinds", "booleans"],
)
@pytest.mark.filterwarnings("ignore::pandas.errors.DtypeWarning")  # pytest's filters come first
def test_pandas_chunks_are_kept_only_as_the_whole_read(tmp_path, cells, kept):
    """Two halves read in pandas' chunks give the frame pandas reads whole, or are dropped for
    the whole reading: a column whose chunks pandas merged into other values is noticed."""
    import mgrisk.tables as tables

    path = tmp_path / "wide.csv"
    raw = _wide_file(path, 40000, cells)
    options = dict(sep=",", decimal=".", encoding="utf-8", skipinitialspace=True)
    halves = tables._halves(
        raw, raw.find(b"\n", len(raw) // 2) + 1, {**options, "skip_blank_lines": True}
    )
    assert (halves is not None) == kept
    whole = pd.read_csv(path, low_memory=False, **options)
    tables._HALVES_BYTES, before = 0, tables._HALVES_BYTES
    try:
        pd.testing.assert_frame_equal(read_table(path), whole, check_exact=True)
    finally:
        tables._HALVES_BYTES = before


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=300), sep=st.sampled_from([",", ";", "\t"]))
def test_byte_counts_are_pythons(raw, sep):
    from mgrisk._text_kernel import byte_counts

    got = byte_counts(np.frombuffer(raw, np.uint8), ord(sep))
    assert got == (raw.count(b"\n"), raw.count(sep.encode()))
