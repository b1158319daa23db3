"""Messy real exports (issue 15): every physical record accounted for, non-data rows recognised by content,
outcome values checked against the data, mapping mistakes caught.

Every file here is written by the test; the expected counts follow from how it was written (N data
records, k of them damaged on purpose), never from running the import.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hitrate.errors import InputFileError
from hitrate.ingest import fastcsv, import_files
from hitrate.ingest.errors import ImportParameterError
from hitrate.ingest.outcome_check import OutcomeChangesError, OutcomeValuesError
from hitrate.store.embedded import Store

HEAD = "Id;Sælger;Fase;Oprettet;Lukket;Beløb"
STAGES = ["Vundet", "Tabt", "Tabt", "Forhandling"]
MAP = {"id": "Id", "rep": "Sælger", "stage": "Fase", "created_at": "Oprettet", "closed_at": "Lukket", "amount": "Beløb"}


def row(i: int, stage: str | None = None) -> list[str]:
    """The record of deal ``i``, as a Danish CRM writes it."""
    day = 1 + i % 28
    stage = stage or STAGES[i % 4]
    return [f"D{i:04d}", f"Sælger {i % 7}", stage, f"{day:02d}-03-2024", f"{day:02d}-05-2024", f"{1000 + i},50"]


def write(path: Path, lines: list[str], *, encoding: str = "cp1252", newline: str = "\r\n") -> Path:
    path.write_bytes("".join(line + newline for line in lines).encode(encoding))
    return path


def lines_of(rows: list[list[str]]) -> list[str]:
    return [";".join(r) for r in rows]


def stored_texts(store: Store) -> list[str]:
    """Every text value stored in opportunities."""
    cols = [c for c in store.columns("opportunities") if c not in {"created_at", "closed_at", "expected_close"}]
    rows = store.fetch(f"SELECT {', '.join(cols)} FROM opportunities")
    return [str(v) for r in rows for v in r if isinstance(v, str)]


def adds_up(report: object) -> bool:
    return all(f.adds_up() for f in report.files)  # type: ignore[attr-defined]


def test_an_unclosed_quote_is_kept_aside_by_its_line_and_swallows_nothing(store: Store, tmp_path: Path) -> None:
    """1,000 records; record 500 (file line 501) opens a quote that never closes. The Python csv module alone
    would read records 500-1000 as one field of one record (issue 15: `read 486`)."""
    rows = [row(i) for i in range(1000)]
    rows[499][1] = '"' + rows[499][1]
    path = write(tmp_path / "quote.csv", [HEAD, *lines_of(rows)])
    report = import_files(store, [path], mapping=MAP, won=["Vundet"], lost=["Tabt"])
    assert (report.read, report.imported, report.quarantined) == (1000, 999, 1)
    assert adds_up(report)
    entry = report.quarantine_sample[0]
    assert entry["row"] == 501 and "line 501" in str(entry["reason"]) and "quote" in str(entry["reason"])
    assert not any("\n" in v or "\r" in v or len(v) > 40 for v in stored_texts(store))
    assert store.count("opportunities") == 999


def test_a_stray_quote_closed_lines_later_still_swallows_nothing(store: Store, tmp_path: Path) -> None:
    """A quote opened in record 100 and one closed in record 110 would make one record of eleven lines with
    the header's width: the first line is kept aside and the ten lines after it are records again."""
    rows = [row(i) for i in range(200)]
    rows[99][1] = '"' + rows[99][1]
    rows[109][1] = rows[109][1] + '"'
    path = write(tmp_path / "stray.csv", [HEAD, *lines_of(rows)])
    report = import_files(store, [path], mapping=MAP, won=["Vundet"], lost=["Tabt"])
    assert (report.read, report.imported, report.quarantined) == (200, 199, 1)
    assert not any("\n" in v or "\r" in v for v in stored_texts(store))


def test_a_properly_quoted_note_over_several_lines_is_one_record(store: Store, tmp_path: Path) -> None:
    rows = [row(i) for i in range(20)]
    rows[5][1] = '"Sælger\nmed to linjer"'
    path = write(tmp_path / "note.csv", [HEAD, *lines_of(rows)])
    report = import_files(store, [path], mapping=MAP, won=["Vundet"], lost=["Tabt"])
    assert (report.read, report.imported, report.quarantined) == (20, 20, 0)
    assert store.fetch("SELECT rep FROM opportunities WHERE id = 'D0005'") == [("Sælger\nmed to linjer",)]


@pytest.mark.parametrize("where", ["end", "middle"])
def test_a_totals_line_anywhere_is_not_a_deal(store: Store, tmp_path: Path, where: str) -> None:
    """`;;;I alt;123.456.789,00` (issue 15) stored an open deal worth 123,456,789."""
    rows = lines_of([row(i) for i in range(300)])
    total = ";".join(["", "", "I alt", "", "", "123.456.789,00"])
    rows.insert(300 if where == "end" else 150, total)
    path = write(tmp_path / "totals.csv", [HEAD, *rows])
    report = import_files(store, [path], mapping=MAP, won=["Vundet"], lost=["Tabt"])
    assert (report.read, report.imported, report.quarantined) == (301, 300, 1)
    assert str(report.quarantine_sample[0]["reason"]) == "not a data row (totals line)"
    assert store.fetch("SELECT count(*) FROM opportunities WHERE amount > 1e6") == [(0,)]


def test_repeated_headers_blank_lines_titles_and_subtotals_are_not_data(store: Store, tmp_path: Path) -> None:
    """A report printed in pages: a repeated header, a separator line of delimiters, a subtotal in the rep
    column and a footer in one cell, between 40 data rows."""
    rows = lines_of([row(i) for i in range(40)])
    extra = [HEAD, ";;;;;", ";Subtotal;;;;45.000,00", "Udskrevet af CRM 2024-06-01;;;;;", ";;Grand Total:;;;1,00"]
    lines = [HEAD, *rows[:10], extra[0], *rows[10:20], extra[1], *rows[20:30], extra[2], *rows[30:], *extra[3:]]
    report = import_files(store, [write(tmp_path / "pages.csv", lines)], mapping=MAP, won=["Vundet"], lost=["Tabt"])
    assert (report.read, report.imported, report.quarantined) == (45, 40, 5)
    reasons = sorted(str(e["reason"]) for e in report.quarantine_sample)
    assert reasons == sorted(
        [
            "not a data row (repeated header)",
            "not a data row (blank line)",
            "not a data row (totals line)",
            "not a data row (report header or footer)",
            "not a data row (totals line)",
        ]
    )


def test_the_fast_path_quarantines_totals_and_damaged_records_as_the_python_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large UTF-8 file goes through DuckDB's reader; a totals line and an unclosed quote make it not clean,
    and the import reads it again record by record: the counts equal the Python reader's."""
    rows = [row(i) for i in range(400)]
    rows[300][1] = '"' + rows[300][1]
    lines = [HEAD, *lines_of(rows), ";;I alt;;;1.000,00"]
    path = write(tmp_path / "big.csv", lines, encoding="utf-8", newline="\n")
    results = []
    for limit in (0, 10**12):
        monkeypatch.setattr(fastcsv, "FAST_PATH_MIN_BYTES", limit)
        s = Store(tmp_path / f"s{limit}.duckdb")
        try:
            r = import_files(s, [path], mapping=MAP, won=["Vundet"], lost=["Tabt"])
            results.append((r.read, r.imported, r.quarantined, s.count("opportunities")))
        finally:
            s.close()
    assert results[0] == results[1] == (401, 399, 2, 399)


def test_won_values_that_match_nothing_stop_before_writing_and_list_the_values(store: Store, tmp_path: Path) -> None:
    rows = [row(i) for i in range(40)]  # 10 Vundet, 20 Tabt, 10 Forhandling
    path = write(tmp_path / "danish.csv", [HEAD, *lines_of(rows)])
    with pytest.raises(OutcomeValuesError) as err:
        import_files(store, [path], mapping=MAP, won=["Won"], lost=["Lost"])
    text = str(err.value)
    assert "Tabt (20)" in text and "Vundet (10)" in text and "Forhandling (10)" in text
    assert "did you mean won Vundet lost Tabt?" in text
    assert store.count("opportunities") == 0 and store.count("import_batches") == 0


def test_lost_values_that_match_nothing_are_a_warning(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "danish.csv", [HEAD, *lines_of([row(i) for i in range(40)])])
    report = import_files(store, [path], mapping=MAP, won=["Vundet"], lost=["Lost"])
    assert report.imported == 40
    assert any("no lost deals" in str(w) for w in report.warnings)


def test_a_reimport_that_rewrites_stored_outcomes_stops_unless_allowed(store: Store, tmp_path: Path) -> None:
    """Issue 15: re-importing with other values turned 561 won deals into open ones (`updated 561`)."""
    path = write(tmp_path / "danish.csv", [HEAD, *lines_of([row(i) for i in range(400)])])
    import_files(store, [path], mapping=MAP, won=["Vundet"], lost=["Tabt"])
    with pytest.raises(OutcomeChangesError) as err:
        import_files(store, [path], mapping=MAP, won=["Vundet"], lost=["Lost"])
    assert "200 of the 400 stored deals" in str(err.value) and "lost → open: 200" in str(err.value)
    assert store.fetch("SELECT count(*) FROM opportunities WHERE outcome = 'lost'") == [(200,)]
    report = import_files(store, [path], mapping=MAP, won=["Vundet"], lost=["Lost"], allow_outcome_changes=True)
    assert report.updated == 200


def test_open_deals_that_close_are_not_outcome_changes(store: Store, tmp_path: Path) -> None:
    rows = [row(i) for i in range(400)]
    path = write(tmp_path / "a.csv", [HEAD, *lines_of(rows)])
    import_files(store, [path], mapping=MAP, won=["Vundet"], lost=["Tabt"])
    closed = [row(i, "Vundet") if i % 4 == 3 else row(i) for i in range(400)]  # every open deal won
    report = import_files(
        store, [write(tmp_path / "a.csv", [HEAD, *lines_of(closed)])], mapping=MAP, won=["Vundet"], lost=["Tabt"]
    )
    assert report.updated == 100


@pytest.mark.parametrize("won,lost", [(["1"], ["0"]), (None, None), (["Won"], ["Lost"])])
def test_a_true_false_column_reads_as_booleans(
    store: Store, tmp_path: Path, won: list[str] | None, lost: object
) -> None:
    """Issue 15: `--won 1 --lost 0` on a TRUE/FALSE column made every deal open."""
    lines = ["id,won_flag"] + [f"O{i},{'TRUE' if i % 3 == 0 else 'FALSE'}" for i in range(30)]
    path = write(tmp_path / "flags.csv", lines)
    report = import_files(store, [path], mapping={"stage": "won_flag"}, won=won, lost=lost)  # type: ignore[arg-type]
    assert report.files[0].outcomes == {"won": 10, "lost": 20}


def test_a_map_close_to_a_canonical_field_is_refused_unless_kept_as_a_dimension(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "d.csv", [HEAD, *lines_of([row(i) for i in range(20)])])
    mapping = {**{k: v for k, v in MAP.items() if k != "amount"}, "ammount": "Beløb"}
    with pytest.raises(ImportParameterError, match="did you mean amount"):
        import_files(store, [path], mapping=mapping, won=["Vundet"], lost=["Tabt"])
    report = import_files(store, [path], mapping=mapping, won=["Vundet"], lost=["Tabt"], map_as_dimension=True)
    assert "ammount" in report.files[0].dimensions


def test_a_trailing_unnamed_empty_column_is_ignored(store: Store, tmp_path: Path) -> None:
    """X Education's Leads.csv ends every line with a comma (`header column 38 has no name`)."""
    lines = ["Prospect ID,Lead Stage,Lead Source,"] + [f"P{i},{'Won' if i % 2 else 'Lost'},Google," for i in range(12)]
    report = import_files(
        store, [write(tmp_path / "leads.csv", lines)], mapping={"id": "Prospect ID", "stage": "Lead Stage"}
    )
    assert (report.read, report.imported, report.quarantined) == (12, 12, 0)
    assert "source__3" not in store.columns("opportunities") and "lead_source" in store.columns("opportunities")


def test_a_trailing_unnamed_column_with_a_value_is_quarantined(store: Store, tmp_path: Path) -> None:
    lines = ["id,stage,"] + [f"O{i},Won," for i in range(5)] + ["O9,Lost,surprise"]
    report = import_files(store, [write(tmp_path / "t.csv", lines)])
    assert (report.read, report.imported, report.quarantined) == (6, 5, 1)


def test_skip_rows_and_delimiter(store: Store, tmp_path: Path) -> None:
    lines = ["Pipeline report", "exported 2024-06-01", "id|stage|amount"] + [f"O{i}|Won|{i}" for i in range(6)]
    report = import_files(store, [write(tmp_path / "r.txt", lines)], skip_rows=2, delimiter="|")
    assert (report.read, report.imported) == (6, 6)
    assert store.fetch("SELECT min(amount), max(amount) FROM opportunities") == [(0.0, 5.0)]
    with pytest.raises(ImportParameterError):
        import_files(store, [tmp_path / "r.txt"], delimiter="||")


def test_a_binary_file_is_named_as_one_without_its_bytes(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb4\x1a\xa5\x9b" * 50)
    with pytest.raises(InputFileError) as err:
        import_files(store, [path])
    assert "not a text file" in str(err.value) and "PK" not in str(err.value)


def test_xlsx_header_below_title_rows_and_data_on_another_sheet(store: Store, tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "Forside"
    cover.append(["Salgsrapport 2024"])
    data = wb.create_sheet("Data")
    data.append(["Salgsrapport 2024"])
    data.append(["Filtreret: alle sælgere"])
    data.append([])
    data.append(["Id", "Fase", "Beløb"])
    for i in range(6):
        data.append([f"O{i}", "Vundet" if i % 2 else "Tabt", 100.0 * i])
    path = tmp_path / "rapport.xlsx"
    wb.save(path)
    with pytest.raises(InputFileError, match="'Data'"):
        import_files(store, [path], mapping={"id": "Id", "stage": "Fase"})
    for sheet in ("Data", 2, "2"):
        report = import_files(store, [path], mapping={"id": "Id", "stage": "Fase"}, sheet=sheet)
        assert report.read == 6
    assert store.count("quarantine") == 0
    with pytest.raises(InputFileError, match="Forside, Data"):
        import_files(store, [path], sheet="Nope")


def test_quarantine_rows_keep_their_raw_text_as_json(store: Store, tmp_path: Path) -> None:
    rows = lines_of([row(i) for i in range(20)]) + [";;I alt;;;10,00"]
    import_files(store, [write(tmp_path / "x.csv", [HEAD, *rows])], mapping=MAP, won=["Vundet"], lost=["Tabt"])
    raw = store.fetch("SELECT raw FROM quarantine")[0][0]
    assert json.loads(raw)["Fase"] == "I alt"
