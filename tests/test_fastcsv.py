"""The DuckDB fast path for large CSV files gives exactly what the Python reader gives, or steps aside."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hitrate.ingest import fastcsv
from hitrate.ingest.readers import RawTable, read_csv

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


def _import_result(path: Path, tmp_path: Path, name: str) -> tuple[object, object, object]:
    from hitrate.ingest import import_files
    from hitrate.store.embedded import Store

    with Store(tmp_path / f"{name}.duckdb") as store:
        report = import_files(store, [path])
        stored = store.fetch("SELECT id, stage, created_at, amount, rep, outcome FROM opportunities ORDER BY id")
        quarantined = store.fetch('SELECT "row", "column", reason, raw FROM quarantine ORDER BY "row"')
    return report.to_dict()["files"][0]["stages"], stored, quarantined


def test_an_import_through_the_fast_path_stores_and_quarantines_what_the_python_path_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bad dates and numbers, a missing stage, a key repeated (the later row wins), a key repeated where the
    later row is broken (the earlier row is stored, the later quarantined for its problem), and text with
    spaces to trim: the same stored rows and quarantine entries whichever reader read the file."""
    rows = [["id", "stage", "created_at", "amount", "rep"]]
    rows += [[f"O{i}", "Won" if i % 3 else "Lost", f"2024-01-{1 + i % 28:02d}", f"{i}.5", " Ann "] for i in range(300)]
    rows += [
        ["B1", "Won", "2024-13-45", "1", "Bo"],
        ["B2", "Lost", "2024-02-01", "abc", "Bo"],
        ["B3", "", "2024-02-01", "1", "Bo"],
        ["O5", "Lost", "2024-03-01 10:00:00", "99", "Bo"],  # replaces O5
        ["O7", "Won", "not a date", "99", "Bo"],  # broken: O7's first row stays
        ["O9", "Won", "2024-03-01T10:00:00Z", "1 234.50 kr", "\u00a0Cy"],
    ]
    path = write(tmp_path / "f.csv", rows)
    monkeypatch.setattr(fastcsv, "FAST_PATH_MIN_BYTES", 0)
    fast = _import_result(path, tmp_path, "fast")
    monkeypatch.setattr(fastcsv, "FAST_PATH_MIN_BYTES", 10**12)
    slow = _import_result(path, tmp_path, "slow")
    assert fast == slow
    stored, quarantined = slow[1], slow[2]
    assert len(stored) == 300  # O0...O299, three of them from the later rows; B1-B3 quarantined
    assert [q[0] for q in quarantined] == [7, 11, 302, 303, 304, 306]
    assert "row 305 later in the file replaces this row" in quarantined[0][2]
    assert "row 307 later in the file replaces this row" in quarantined[1][2]
    assert "'not a date' is not a date" in quarantined[5][2]
    by_id = {r[0]: r for r in stored}
    assert by_id["O7"][1] == "Won" and by_id["O9"][3:5] == (1234.5, "Cy") and by_id["O0"][4] == "Ann"
    assert by_id["O5"][1:3] == ("Lost", dt.datetime(2024, 3, 1, 10))


def _report_and_rows(path: Path, tmp_path: Path, name: str) -> tuple[dict[str, object], list[tuple[object, ...]]]:
    from hitrate.ingest import import_files
    from hitrate.store.embedded import Store

    with Store(tmp_path / f"{name}.duckdb") as store:
        report = import_files(store, [path]).to_dict()
        rows = store.fetch(
            "SELECT id, stage, created_at, amount, rep, outcome, _batch FROM opportunities ORDER BY id"
        ) + store.fetch('SELECT "row", "column", reason, raw FROM quarantine ORDER BY "row"')
    file = report["files"][0]  # type: ignore[index]
    keep = ("read", "imported", "quarantined", "stages", "outcomes", "warnings", "date_format", "decimal")
    return {k: file[k] for k in keep}, rows


def _clean_rows(n: int) -> list[list[str]]:
    rows = [["id", "stage", "created_at", "amount", "rep"]]
    return rows + [
        [f"O{i}", ["Won", "Lost", "Open"][i % 3], f"2024-01-{1 + i % 28:02d}", f"{i}.5", f"R{i % 7}"]
        for i in range(400)
    ]


@pytest.mark.parametrize(
    "tail",
    [
        [],  # clean: stored straight from the file
        [["B1", "Won", "2024-13-45", "1", "Bo"]],  # a bad date after the first rows
        [["O3", "Lost", "2024-03-01", "7", "Bo"]],  # a repeated key after the first rows
        [["C1", "Won", "2024-03-01", "EUR 12", "Bo"], ["C2", "Won", "2024-03-01", "USD 3", "Bo"]],  # currencies
        [["S1", "Won"]],  # a record of the wrong width
        [["Q1", "Won", "2024-03-01", "1", "two\nlines"]],  # a quoted line break
    ],
    ids=["clean", "bad-date", "repeated-key", "currencies", "short-record", "line-break"],
)
def test_a_large_file_read_straight_from_disk_or_again_gives_what_the_python_reader_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tail: list[list[str]]
) -> None:
    """A large clean file is stored straight from disk; a file that turns out not to be clean after the
    first rows (problems, a repeated key, currency codes, a bad record, a line break) is imported again from
    a table. Either way, the stored rows, the quarantine and the report equal the Python reader's."""
    from hitrate.ingest import detect, direct

    path = write(tmp_path / "f.csv", _clean_rows(400) + tail)
    monkeypatch.setattr(detect, "DATE_SAMPLE", 50)  # the first rows are all clean
    attempts: list[bool] = []
    original = direct.store_direct

    def spy(*args: object, **kwargs: object) -> object:
        attempts.append(True)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(direct, "store_direct", spy)
    read_again: list[bool] = []
    materialized = RawTable.materialized

    def counted(self: RawTable, con: object) -> RawTable:
        read_again.append(self.csv is not None)
        return materialized(self, con)

    monkeypatch.setattr(RawTable, "materialized", counted)
    monkeypatch.setattr(fastcsv, "FAST_PATH_MIN_BYTES", 0)
    fast = _report_and_rows(path, tmp_path, "fast")
    assert attempts, "the file should have been tried straight from disk"
    assert any(read_again) == bool(tail), "read into a table again exactly when the file is not clean"
    monkeypatch.setattr(fastcsv, "FAST_PATH_MIN_BYTES", 10**12)
    slow = _report_and_rows(path, tmp_path, "slow")
    assert fast == slow
    report = slow[0]
    assert report["read"] == 400 + len(tail)
    if tail == []:
        assert report["quarantined"] == 0 and report["imported"] == 400
    if tail and tail[0][0] == "C1":
        assert any("currencies" in w for w in report["warnings"])  # type: ignore[union-attr]
