"""The DuckDB fast path for large CSV files gives exactly what the Python reader gives, or steps aside."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hitrate.ingest import fastcsv
from hitrate.ingest.readers import read_csv

CELL = st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]) | st.sampled_from([",", '"', ";", " ", "ø"]))


def write(path: Path, rows: list[list[str]], *, delimiter: str = ",", newline_at_end: bool = True) -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    text = buf.getvalue()
    path.write_text(text if newline_at_end else text.rstrip("\n"), encoding="utf-8")
    return path


def python_cells(path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setattr(fastcsv, "FAST_PATH_MIN_BYTES", 10**12)
    return read_csv(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=30),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    newline_at_end=st.booleans(),
)
def test_same_cells_and_row_numbers_as_the_python_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list[list[str]], delimiter: str, newline_at_end: bool
) -> None:
    path = write(
        tmp_path / "f.csv", [["id", "stage", "note"], *rows], delimiter=delimiter, newline_at_end=newline_at_end
    )
    slow = python_cells(path, monkeypatch)
    fast = fastcsv.read_cells(path, 3, slow.delimiter, ends_with_newline=newline_at_end)  # type: ignore[attr-defined]
    if fast is not None:
        assert fast.equals(slow.cells)  # type: ignore[attr-defined]
    else:  # stepped aside: only for quoted line breaks, blank lines or short records
        assert any("\n" in c or "\r" in c for r in rows for c in r) or any(not "".join(r).strip() for r in rows)


def test_quoted_line_breaks_and_bad_records_step_aside(tmp_path: Path) -> None:
    multi = write(tmp_path / "m.csv", [["id", "note"], ["1", "two\nlines"], ["2", "x"]])
    assert fastcsv.read_cells(multi, 2, ",", ends_with_newline=True) is None
    short = tmp_path / "s.csv"
    short.write_text("id,note\n1,a\n2\n3,c\n", encoding="utf-8")
    assert fastcsv.read_cells(short, 2, ",", ends_with_newline=True) is None
    blank = tmp_path / "b.csv"
    blank.write_text("id,note\n1,a\n\n3,c\n", encoding="utf-8")
    assert fastcsv.read_cells(blank, 2, ",", ends_with_newline=True) is None


def test_large_file_goes_the_fast_way_with_the_same_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [["id", "stage", "amount"]] + [[f"O{i}", "Won" if i % 3 else "Lost", f"{i},5"] for i in range(2_000)]
    path = write(tmp_path / "big.csv", rows, delimiter=";")
    calls: list[int] = []
    original = fastcsv.read_cells

    def spy(*args: object, **kwargs: object) -> object:
        out = original(*args, **kwargs)  # type: ignore[arg-type]
        calls.append(0 if out is None else out.num_rows)
        return out

    monkeypatch.setattr(fastcsv, "read_cells", spy)
    monkeypatch.setattr(fastcsv, "FAST_PATH_MIN_BYTES", 0)
    fast = read_csv(path)
    assert calls == [2_000]
    monkeypatch.setattr(fastcsv, "FAST_PATH_MIN_BYTES", 10**12)
    slow = read_csv(path)
    assert fast.cells.equals(slow.cells) and fast.columns == slow.columns and fast.read == slow.read == 2_000


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(st.none(), st.text(), CELL, st.sampled_from([" ", "\u00a0x", "x\u3000", "\tx ", "ø ", " a b "])))
def test_text_cells_are_trimmed_as_trim_would(text: str | None) -> None:
    """``text_sql`` skips ``trim`` where it cannot change the cell; the result is ``nullif(trim(c), '')``."""
    import duckdb

    from hitrate.ingest.parsing import text_sql

    row = duckdb.execute(f"SELECT {text_sql('c')}, nullif(trim(c), '') FROM (SELECT $t AS c)", {"t": text}).fetchone()
    assert row is not None and row[0] == row[1]


def test_rows_keep_the_file_order_when_read_in_parallel(tmp_path: Path) -> None:
    """The fast path reads into a table whose ``rowid`` gives the line number: DuckDB must keep the file's
    order while reading a file of several buffers on several threads."""
    import duckdb

    path = tmp_path / "order.csv"
    n = 1_500_000
    with path.open("w", encoding="utf-8") as fh:
        fh.write("line,pad\n")
        fh.writelines(f"{i},abcdefghij\n" for i in range(2, n + 2))
    con = duckdb.connect()
    con.execute("SET threads = 4")
    assert fastcsv.read_into(con, "t", path, 2, ",", ends_with_newline=True) == n
    wrong = con.execute(f"SELECT count(*) FROM t WHERE CAST(c0 AS BIGINT) <> {fastcsv.ROW_SQL}").fetchone()
    assert wrong == (0,)
