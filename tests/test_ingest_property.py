"""Property (issue 15): a valid CSV file corrupted the ways real exports are (unclosed quotes, stray
delimiters, cut lines, totals lines, a BOM, mixed line endings) loses no record without a reason, and no
stored value spans records.

The expected outcome follows from how each file is written: every record of the file is one line; a
corrupted record (a quote opened in the rep cell and never closed, a delimiter inside the rep cell, the line
cut in half) is quarantined by its line number; a totals line is read and quarantined; every other record is
stored under its own id with its own cells.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hitrate.ingest import import_files
from hitrate.store.embedded import Store

HEAD = ["id", "rep", "stage", "created_at", "amount"]
REPS = ["Ana", "Bo", "Cy Dee", "Æbel Øst", "Lise-Lotte"]
KINDS = ["quote", "stray", "cut", "total"]
_STORES = itertools.count()


@st.composite
def messy_files(draw: st.DrawFn) -> tuple[bytes, set[str], set[int], int, str]:
    """A file's bytes, the ids that must be stored, the lines that must be quarantined, the records a careful
    reader counts, and the delimiter."""
    n = draw(st.integers(3, 30))
    delim = draw(st.sampled_from([";", ",", "\t", "|"]))
    records = [
        [
            f"D{i:03d}",
            draw(st.sampled_from(REPS)),
            ["Won", "Lost", "Open"][i % 3],
            f"2024-03-{1 + i % 28:02d}",
            str(100 + i),
        ]
        for i in range(n)
    ]
    damage = draw(st.dictionaries(st.integers(0, n - 1), st.sampled_from(KINDS), max_size=4))
    lines: list[str] = []
    must_store: set[str] = set()
    must_quarantine: set[int] = set()
    for i, rec in enumerate(records):
        kind = damage.get(i)
        cells = list(rec)
        if kind == "quote":
            cells[1] = '"' + cells[1]
        elif kind == "stray":
            cells[1] = cells[1][:1] + delim + cells[1][1:]
        line = delim.join(cells)
        if kind == "cut":
            line = line[: len(line) // 2]
        lines.append(line)
        if kind in (None, "total"):
            must_store.add(rec[0])
        else:
            must_quarantine.add(len(lines) + 1)  # the header is line 1
        if kind == "total":
            lines.append(
                delim.join(["", "", draw(st.sampled_from(["Total", "I alt", "Grand Total", "Sum"])), "", "9999"])
            )
            must_quarantine.add(len(lines) + 1)
    endings = [draw(st.sampled_from(["\n", "\r\n"])) for _ in range(len(lines) + 1)]
    last = draw(st.booleans())
    text = "".join(line + end for line, end in zip([delim.join(HEAD), *lines], endings, strict=True))
    if not last:
        text = text.rstrip("\r\n")
    bom = draw(st.booleans())
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    return data, must_store, must_quarantine, len(lines), delim


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("messy")


@settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messy_files())
def test_no_record_is_lost_without_a_reason_and_no_value_spans_records(
    folder: Path, case: tuple[bytes, set[str], set[int], int, str]
) -> None:
    data, must_store, must_quarantine, records, _ = case
    n = next(_STORES)
    path = folder / f"export{n}.csv"
    path.write_bytes(data)
    store = Store(folder / f"store{n}.duckdb")
    try:
        report = import_files(store, [path])
        assert report.read == records
        assert report.imported + report.quarantined == report.read
        stored = {r[0]: r[1] for r in store.fetch("SELECT id, rep FROM opportunities")}
        assert set(stored) == must_store
        assert all(rep in REPS for rep in stored.values())
        quarantined = {int(r[0]) for r in store.fetch('SELECT "row" FROM quarantine')}
        assert quarantined == must_quarantine
        assert all(r[0] for r in store.fetch("SELECT reason FROM quarantine"))
        texts = store.fetch("SELECT id, rep, stage FROM opportunities")
        assert not any("\n" in v or "\r" in v for r in texts for v in r if v)
    finally:
        store.close()
