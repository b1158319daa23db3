"""Import that loses nothing: readers, detection, quarantine, upsert, atomicity."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from hitrate.analysis.rates import rates
from hitrate.cli import flag_name
from hitrate.errors import AmbiguousDateFormatError, InputFileError, StrictImportError
from hitrate.ingest import import_files, parse_map_flags
from hitrate.ingest.readers import decode, read_file, sniff_delimiter
from hitrate.store.embedded import Store

HEADER = "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value"
DANISH_STAGES = {"Won": "Vundet", "Lost": "Tabt", "Engaging": "I dialog", "Prospecting": "Emne"}
DANISH_MAP = [
    "id=Muligheds-ID",
    "rep=Sælger",
    "stage=Fase",
    "created_at=Startdato",
    "closed_at=Lukkedato",
    "amount=Beløb",
]


def write_lines(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def counts(report) -> tuple[int, int, int, int, int]:
    return report.read, report.imported, report.updated, report.unchanged, report.quarantined


def write_danish(src: Path, dst: Path) -> Path:
    """The Maven pipeline as a Danish Excel user would export it: ';', cp1252, dd-mm-yyyy, decimal comma."""
    with src.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    def dk_date(iso: str) -> str:
        return "" if not iso else f"{iso[8:10]}-{iso[5:7]}-{iso[0:4]}"

    def dk_amount(v: str) -> str:
        return "" if not v else f"{float(v):,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")

    with dst.open("w", encoding="cp1252", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["Muligheds-ID", "Sælger", "Produkt", "Konto", "Fase", "Startdato", "Lukkedato", "Beløb"])
        for r in rows:
            w.writerow(
                [
                    r["opportunity_id"],
                    r["sales_agent"],
                    r["product"],
                    r["account"],
                    DANISH_STAGES[r["deal_stage"]],
                    dk_date(r["engage_date"]),
                    dk_date(r["close_date"]),
                    dk_amount(r["close_value"]),
                ]
            )
    return dst


# --- readers -----------------------------------------------------------------------------------------------------
def test_decode_detects_bom_utf8_and_cp1252():
    assert decode("æøå".encode("utf-8-sig"), "x") == ("æøå", "utf-8-sig")
    assert decode("æøå".encode(), "x") == ("æøå", "utf-8")
    assert decode("Beløb €".encode("cp1252"), "x") == ("Beløb €", "cp1252")


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_sniff_delimiter(delim):
    text = "\n".join(delim.join(r) for r in [["a", "b", "c"], ["1", "2,5", "x"], ["3", "4", "y"]])
    if delim == ",":
        text = text.replace("2,5", '"2,5"')
    assert sniff_delimiter(text) == delim


def test_reader_keeps_wrong_field_counts_aside_with_line_numbers(tmp_path):
    p = write_lines(tmp_path / "a.csv", ["id,stage,amount", "1,Won,5", "2,Lost", "", "3,Won,1,extra", '4,"Won', 'x",2'])
    raw = read_file(p)
    assert raw.cells.num_rows == 2  # row 1 and the quoted multi-line record
    assert [(b.row, str(b.reason)) for b in raw.bad] == [
        (3, "expected 3 fields, found 2"),
        (5, "expected 3 fields, found 4"),
    ]
    assert raw.cells.column("_row").to_pylist() == [2, 6]


def test_header_problems_are_named(tmp_path):
    twice = read_file(write_lines(tmp_path / "d.csv", ["a,b,a,a", "1,2,3,4"]))  # CRMs repeat custom labels
    assert twice.columns == ["a", "b", "a (2)", "a (3)"]
    assert twice.renamed == ["a (2)", "a (3)"]
    with pytest.raises(InputFileError, match="empty"):
        read_file(write_lines(tmp_path / "e.csv", [""]))
    with pytest.raises(InputFileError, match="no such file"):
        read_file(tmp_path / "missing.csv")


# --- the Maven sample --------------------------------------------------------------------------------------------
def test_maven_preset_imports_everything_and_reports_unmatched_product(store, maven_dir):
    from tests.conftest import MAVEN_FILES

    report = import_files(store, MAVEN_FILES, preset="maven")
    assert [f.table for f in report.files] == ["opportunities", "reps", "accounts", "products"]
    assert counts(report) == (8927, 8927, 0, 0, 0)
    assert report.files[0].stages["Won"] == {"outcome": "won", "rows": 4238}
    assert report.files[0].stages["Engaging"]["outcome"] == "open"
    assert report.unmatched_keys["product"]["values"] == ["GTXPro"]
    assert report.unmatched_keys["product"]["rows"] == 1480
    assert report.unmatched_keys["product"]["suggestions"] == {"GTXPro": "GTX Pro"}
    assert "rep" not in report.unmatched_keys  # every pipeline agent is in sales_teams.csv


def test_maven_reimport_changes_nothing(maven_store, maven_dir):
    before = maven_store.fetch("SELECT * FROM opportunities ORDER BY id")
    again = import_files(maven_store, [maven_dir / "sales_pipeline.csv"], preset="maven")
    assert counts(again) == (8800, 0, 0, 8800, 0)
    assert maven_store.fetch("SELECT * FROM opportunities ORDER BY id") == before


def test_danish_cp1252_semicolon_file_gives_the_same_rates(tmp_path, maven_dir, maven_store):
    dk = write_danish(maven_dir / "sales_pipeline.csv", tmp_path / "salg.csv")
    with Store(tmp_path / "dk.duckdb") as s:
        report = import_files(s, [dk], mapping=parse_map_flags(DANISH_MAP), won=["Vundet"], lost=["Tabt"])
        f = report.files[0]
        assert (f.encoding, f.delimiter, f.date_format, f.decimal) == ("cp1252", ";", "DD-MM-YYYY", ",")
        assert counts(report) == (8800, 8800, 0, 0, 0)
        assert set(f.dimensions) == {"produkt", "konto"}
        dk_rates = rates(s, by=["rep"]).rows
        dk_amounts = s.fetch("SELECT sum(amount), min(created_at), max(closed_at) FROM opportunities")
    orig = rates(maven_store, by=["rep"]).rows
    pd.testing.assert_frame_equal(dk_rates, orig)
    assert dk_amounts == maven_store.fetch("SELECT sum(amount), min(created_at), max(closed_at) FROM opportunities")


# --- broken rows -------------------------------------------------------------------------------------------------
def broken_file(tmp_path: Path, maven_dir: Path) -> Path:
    lines = (maven_dir / "sales_pipeline.csv").read_text().splitlines()[:51]
    bad = [
        "BADDATE1,Moses Frase,GTX Basic,Cancity,Won,2017-13-45,2017-03-01,100",
        "BADAMT01,Moses Frase,GTX Basic,Cancity,Won,2017-01-05,2017-03-01,abc",
        "TOOMANY1,Moses Frase,GTX Basic,Cancity,Won,2017-01-05,2017-03-01,100,extra,fields",
        "SHORT001,Moses Frase,GTX Basic",
        "NOSTAGE1,Moses Frase,GTX Basic,Cancity,,2017-01-05,,",
        lines[1].replace(",1054", ",2000"),  # same id as data row 1: this later row wins
    ]
    return write_lines(tmp_path / "broken.csv", lines[:26] + bad + lines[26:])


def test_broken_rows_are_quarantined_with_reasons_and_counts_add_up(store, tmp_path, maven_dir):
    path = broken_file(tmp_path, maven_dir)
    report = import_files(store, [path], preset="maven")
    assert counts(report) == (56, 50, 0, 0, 6)
    assert report.files[0].adds_up()
    rows = store.fetch('SELECT "row", "column", reason FROM quarantine ORDER BY "row"')
    reasons = {r[0]: (r[1], r[2]) for r in rows}
    assert reasons[2] == (None, "duplicate id '1C1I7A6R': row 32 later in the file replaces this row")
    assert reasons[27] == ("engage_date", "column 'engage_date': '2017-13-45' is not a date (expected YYYY-MM-DD)")
    assert reasons[28] == ("close_value", "column 'close_value': 'abc' is not a number (decimal '.')")
    assert reasons[29] == (None, "expected 8 fields, found 10")
    assert reasons[30] == (None, "expected 8 fields, found 3")
    assert reasons[31] == ("deal_stage", "column 'deal_stage': missing stage")
    assert store.fetch("SELECT amount FROM opportunities WHERE id = '1C1I7A6R'") == [(2000.0,)]
    raw = json.loads(store.fetch('SELECT raw FROM quarantine WHERE "row" = 28')[0][0])
    assert raw["close_value"] == "abc" and raw["opportunity_id"] == "BADAMT01"


def test_importing_broken_file_twice_changes_nothing(store, tmp_path, maven_dir):
    path = broken_file(tmp_path, maven_dir)
    import_files(store, [path], preset="maven")
    snapshot = store.fetch("SELECT * EXCLUDE (_batch) FROM opportunities ORDER BY id")
    again = import_files(store, [path], preset="maven")
    assert counts(again) == (56, 0, 0, 50, 6)
    assert store.count("quarantine") == 6  # quarantined again, not duplicated
    assert store.fetch("SELECT * EXCLUDE (_batch) FROM opportunities ORDER BY id") == snapshot


def test_changed_rows_count_as_updated(store, tmp_path):
    a = write_lines(tmp_path / "a.csv", ["id,rep,stage,amount", "1,Ann,Won,10", "2,Bo,Lost,5"])
    assert counts(import_files(store, [a])) == (2, 2, 0, 0, 0)
    write_lines(a, ["id,rep,stage,amount", "1,Ann,Won,10", "2,Bo,Won,5", "3,Cy,Open,1"])
    assert counts(import_files(store, [a])) == (3, 1, 1, 1, 0)
    assert store.fetch("SELECT outcome FROM opportunities WHERE id = '2'") == [("won",)]


def test_strict_refuses_and_leaves_store_unchanged(store, tmp_path, maven_dir):
    path = broken_file(tmp_path, maven_dir)
    with pytest.raises(StrictImportError, match="6 row"):
        import_files(store, [path], preset="maven", strict=True)
    assert store.count("opportunities") == 0
    assert store.count("quarantine") == 0
    assert store.count("import_batches") == 0
    # the insert's optimizer setting does not outlive the import, failed or not
    assert store.fetch("SELECT current_setting('disabled_optimizers')") == [("",)]
    import_files(store, [path], preset="maven")
    assert store.fetch("SELECT current_setting('disabled_optimizers')") == [("",)]


def test_one_import_is_one_transaction(store, tmp_path):
    good = write_lines(tmp_path / "good.csv", ["id,stage", "1,Won", "2,Lost"])
    bad = write_lines(tmp_path / "bad.csv", ["id,stage,created_at", "3,Won,05/06/2017", "4,Won,06/05/2017"])
    with pytest.raises(AmbiguousDateFormatError):
        import_files(store, [good, bad])
    assert store.count("opportunities") == 0
    assert store.count("import_batches") == 0


def test_empty_cells_are_nulls_not_errors(store, tmp_path):
    p = write_lines(
        tmp_path / "e.csv",
        ["id,rep,stage,created_at,closed_at,amount", "1,,Open,2020-01-01,,", "2,Ann,Won,,2020-02-01,"],
    )
    assert counts(import_files(store, [p])) == (2, 2, 0, 0, 0)
    assert store.fetch("SELECT rep, closed_at, amount FROM opportunities WHERE id = '1'") == [(None, None, None)]


def test_rows_without_id_get_a_stable_content_hash_id(store, tmp_path):
    p = write_lines(tmp_path / "n.csv", ["rep,stage,amount", "Ann,Won,10", "Bo,Lost,5"])
    first = import_files(store, [p])
    ids = [r[0] for r in store.fetch("SELECT id FROM opportunities ORDER BY rep")]
    again = import_files(store, [p])
    assert counts(first) == (2, 2, 0, 0, 0) and counts(again) == (2, 0, 0, 2, 0)
    assert ids == [r[0] for r in store.fetch("SELECT id FROM opportunities ORDER BY rep")]
    assert all(i.startswith("h") and len(i) == 21 for i in ids)


# --- dates and numbers -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dates", "label"),
    [
        (["2017-03-01", "2017-12-31"], "YYYY-MM-DD"),
        (["01-03-2017", "31-12-2017"], "DD-MM-YYYY"),
        (["01/03/2017", "31/12/2017"], "DD-MM-YYYY"),
        (["03/01/2017", "12/31/2017"], "MM/DD/YYYY"),
        (["01.03.2017", "31.12.2017"], "DD-MM-YYYY"),
    ],
)
def test_date_formats_are_detected(store, tmp_path, dates, label):
    p = write_lines(tmp_path / "d.csv", ["id,stage,closed_at"] + [f"{i},Won,{d}" for i, d in enumerate(dates)])
    report = import_files(store, [p])
    assert report.files[0].date_format == label
    got = [r[0].date().isoformat() for r in store.fetch("SELECT closed_at FROM opportunities ORDER BY id")]
    assert got == ["2017-03-01", "2017-12-31"]


def test_ambiguous_dates_are_refused_naming_column_and_flag(store, tmp_path):
    p = write_lines(tmp_path / "amb.csv", ["id,stage,Lukkedato", "1,Won,05/06/2017", "2,Won,06/05/2017"])
    with pytest.raises(AmbiguousDateFormatError) as info:
        import_files(store, [p], mapping={"closed_at": "Lukkedato"})
    assert "date_format DD/MM/YYYY or date_format MM/DD/YYYY" in str(info.value)  # the library's parameter
    msg = info.value.render("en", flag_name)  # as the command line says it
    assert "Lukkedato" in msg and "--date-format DD/MM/YYYY" in msg and "--date-format MM/DD/YYYY" in msg
    report = import_files(store, [p], mapping={"closed_at": "Lukkedato"}, date_format="DD/MM/YYYY")
    assert report.imported == 2
    assert store.fetch("SELECT closed_at FROM opportunities WHERE id = '1'")[0][0].month == 6


@pytest.mark.parametrize(
    ("values", "decimal", "expected"),
    [
        (["1.234,50", "12,5"], ",", [1234.5, 12.5]),
        (["1,234.50", "12.5"], ".", [1234.5, 12.5]),
        (["kr 1.000", "2.500,-"], ",", [1000.0, 2500.0]),
        (["$1,000", "2,500"], ".", [1000.0, 2500.0]),
    ],
)
def test_decimal_separator_is_detected(store, tmp_path, values, decimal, expected):
    p = tmp_path / "n.csv"
    with p.open("w", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["id", "stage", "amount"])
        for i, v in enumerate(values):
            w.writerow([i, "Won", v])
    report = import_files(store, [p])
    assert report.files[0].decimal == decimal
    assert [r[0] for r in store.fetch("SELECT amount FROM opportunities ORDER BY id")] == expected


def test_unknown_preset_table_map_and_missing_stage_are_clear_errors(store, tmp_path):
    p = write_lines(tmp_path / "x.csv", ["id,status", "1,Won"])
    with pytest.raises(InputFileError, match="unknown preset 'nope'; expected one of: .*maven.*auto or a YAML file"):
        import_files(store, [p], preset="nope")
    with pytest.raises(InputFileError, match=r"no column for 'stage'.*map stage=COLUMN.*id, status") as info:
        import_files(store, [p])
    assert "name it with --map stage=COLUMN" in info.value.render("en", flag_name)
    with pytest.raises(InputFileError, match="no column 'Fase'"):
        import_files(store, [p], mapping={"stage": "Fase"})
    with pytest.raises(InputFileError, match="FIELD=COLUMN"):
        parse_map_flags(["stage"])
    assert import_files(store, [p], mapping={"stage": "status"}).imported == 1


# --- other formats and tables ------------------------------------------------------------------------------------
def test_xlsx_and_parquet_import_like_csv(tmp_path, maven_dir, maven_store):
    frame = pd.read_csv(maven_dir / "sales_pipeline.csv")
    xlsx, parquet = tmp_path / "p.xlsx", tmp_path / "p.parquet"
    frame.head(300).to_excel(xlsx, index=False)
    typed = frame.assign(
        engage_date=pd.to_datetime(frame["engage_date"]), close_date=pd.to_datetime(frame["close_date"])
    )
    typed.to_parquet(parquet, index=False)
    with Store(tmp_path / "x.duckdb") as s:
        r = import_files(s, [xlsx], preset="maven")
        assert counts(r) == (300, 300, 0, 0, 0)
        assert r.files[0].stages["Won"]["rows"] == int((frame.head(300)["deal_stage"] == "Won").sum())
    with Store(tmp_path / "p.duckdb") as s:
        r = import_files(s, [parquet], preset="maven")
        assert counts(r) == (8800, 8800, 0, 0, 0)
        pd.testing.assert_frame_equal(rates(s, by=["rep"]).rows, rates(maven_store, by=["rep"]).rows)


def test_reps_attributes_join_by_key(store, tmp_path):
    opps = write_lines(tmp_path / "o.csv", ["id,rep,stage", "1,Ann,Won", "2,Bo,Lost", "3,Cy,Won"])
    reps = write_lines(tmp_path / "r.csv", ["Navn,Hold,Ansat", "Ann,Nord,2020-01-01", "Bo,Syd,2021-05-01"])
    import_files(store, [opps])
    report = import_files(store, [reps], table="reps", mapping={"rep": "Navn", "team": "Hold", "hired_at": "Ansat"})
    assert report.unmatched_keys["rep"]["values"] == ["Cy"]
    rows = rates(store, by=["team"]).rows.fillna({"team": "(none)"})
    assert rows[["team", "attempts", "hits"]].to_dict(orient="records") == [
        {"team": "Nord", "attempts": 1, "hits": 1},
        {"team": "Syd", "attempts": 1, "hits": 0},
        {"team": "(none)", "attempts": 1, "hits": 1},
    ]


def test_stage_history_and_activities_load(store, tmp_path):
    hist = write_lines(
        tmp_path / "h.csv", ["id,stage,entered_at", "1,Prospecting,2020-01-01", "1,Won,2020-02-01", "1,Won,2020-02-01"]
    )
    acts = write_lines(
        tmp_path / "a.csv",
        ["id,opportunity_id,rep,type,at,campaign,variant,outcome", "a1,1,Ann,call,2020-01-05 10:30,Spring,A,replied"],
    )
    r = import_files(store, [hist], table="stage_history")
    assert counts(r) == (3, 2, 0, 0, 1)  # an exact repeat of a stage change is a duplicate
    r = import_files(store, [acts], table="activities")
    assert counts(r) == (1, 1, 0, 0, 0)
    assert store.fetch('SELECT "at", variant FROM activities')[0][1] == "A"


def test_two_files_in_one_import_may_update_rows_and_add_dimensions(store, tmp_path):
    a = write_lines(tmp_path / "a.csv", ["id,stage", "1,Won", "2,Lost"])
    import_files(store, [a])
    b = write_lines(tmp_path / "b.csv", ["id,stage", "1,Lost"])
    c = write_lines(tmp_path / "c.csv", ["id,stage,Region", "3,Won,Nord"])
    report = import_files(store, [b, c])
    assert counts(report) == (2, 1, 1, 0, 0)
    assert store.fetch("SELECT id, outcome, region FROM opportunities ORDER BY id") == [
        ("1", "lost", None),
        ("2", "lost", None),
        ("3", "won", "Nord"),
    ]


def test_empty_id_cells_get_a_content_hash_id(store, tmp_path):
    p = write_lines(tmp_path / "e.csv", ["id,stage,rep", ",Lost,Ann", "7,Won,Bo", ",Won,Cy"])
    report = import_files(store, [p])
    assert counts(report) == (3, 3, 0, 0, 0)
    ids = sorted(r[0] for r in store.fetch("SELECT id FROM opportunities"))
    assert ids[0] == "7" and all(i.startswith("h") for i in ids[1:])
    assert counts(import_files(store, [p])) == (3, 0, 0, 3, 0)


def test_stage_summary_counts_stored_rows_only(store, tmp_path):
    p = write_lines(tmp_path / "s.csv", ["id,stage,amount", "1,Won,1", "2,Won,abc", "3,Lost,2"])
    report = import_files(store, [p])
    assert report.files[0].stages == {"Won": {"outcome": "won", "rows": 1}, "Lost": {"outcome": "lost", "rows": 1}}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("LeadSource", "lead_source"),
        ("Sælger", "saelger"),
        ("Lead Source (new)", "lead_source_new"),
        ("2nd touch", "_2nd_touch"),
        ("Beløb i kr.", "beloeb_i_kr"),
        ("åben", "aaben"),
    ],
)
def test_normalise_name(name, expected):
    from hitrate.store.schema import IDENTIFIER, normalise_name

    assert normalise_name(name) == expected
    assert IDENTIFIER.match(normalise_name(name))


# --- the report as a result object, and its words in Danish -----------------------------------------------------
def _small_import(store, tmp_path):
    p = write_lines(
        tmp_path / "r.csv",
        ["id,stage,amount,created_at", "1,Won,5,2024-01-01", "2,Lost,x,2024-01-02", "3,Won,7,2024-01-03"],
    )
    return import_files(store, [p])


def test_an_import_report_shows_itself_as_frame_text_html_chart_and_json(store, tmp_path):
    report = _small_import(store, tmp_path)
    frame = report.to_frame()
    assert frame.to_dict("records") == [
        {
            "file": "r.csv",
            "table": "opportunities",
            "read": 3,
            "imported": 2,
            "updated": 0,
            "unchanged": 0,
            "quarantined": 1,
            "skipped_non_data": 0,
        }
    ]
    assert str(report.title()) == f"Import batch {report.batch_id}"
    assert str(report.headline()) == "Read 3 rows: 2 imported, 0 updated, 0 unchanged, 1 quarantined."
    text = report.summary()
    assert text.splitlines()[:2] == [str(report.title()), str(report.headline())] and "r.csv" in text
    assert "Læste 3 rækker: 2 importeret, 0 opdateret, 0 uændret, 1 i karantæne." in report.summary("da")
    html = report._repr_html_()
    assert "Import batch" in html and "<table" in html and "r.csv" in html
    figure = report.plot()
    assert [bar.name for bar in figure.data] == ["imported", "updated", "unchanged", "quarantined"]
    assert [tuple(bar.y) for bar in figure.data] == [(2,), (0,), (0,), (1,)] and tuple(figure.data[0].x) == ("r.csv",)
    assert [bar.name for bar in report.plot("da").data] == ["importeret", "opdateret", "uændret", "i karantæne"]
    data = report.to_dict()
    assert list(data) == [
        "read",
        "imported",
        "updated",
        "unchanged",
        "quarantined",
        "attempts_represented",
        "skipped_non_data",
        "batch_id",
        "warnings",
        "files",
        "unmatched_keys",
        "quarantine_sample",
    ]
    assert data["quarantine_sample"] == [
        {
            "source": str(tmp_path / "r.csv"),
            "row": 3,
            "column": "amount",
            "reason": "column 'amount': 'x' is not a number (decimal '.')",
        }
    ]
    assert json.loads(json.dumps(data)) == data


def test_a_file_report_shows_itself_too(store, tmp_path):
    file = _small_import(store, tmp_path).files[0]
    assert file.to_frame()["quarantined"].tolist() == [1]
    assert str(file.title()) == "Import of r.csv into opportunities"
    assert file.summary().splitlines()[1] == "Read 3 rows: 2 imported, 0 updated, 0 unchanged, 1 quarantined."
    assert "Import af r.csv til opportunities" in file.summary("da")
    assert "Import of r.csv" in file._repr_html_()
    assert [tuple(bar.y) for bar in file.plot().data] == [(2,), (0,), (0,), (1,)]
    data = file.to_dict()
    assert list(data)[:7] == ["path", "table", "read", "imported", "updated", "unchanged", "quarantined"]
    assert data["outcome_from"] == ["stage"] and data["warnings"] == [] and data["preset_reason"] == ""


def test_quarantine_reasons_are_english_in_the_store_and_messages_in_the_report(store, tmp_path):
    report = _small_import(store, tmp_path)
    assert store.fetch("SELECT reason FROM quarantine") == [("column 'amount': 'x' is not a number (decimal '.')",)]
    reason = report.quarantine_sample[0]["reason"]
    assert reason.render("da") == "kolonnen 'amount': 'x' er ikke et tal (decimaltegn '.')"


def test_import_errors_name_the_parameter_each_face_its_way(store, tmp_path):
    p = write_lines(tmp_path / "x.csv", ["id,stage", "1,Won"])
    with pytest.raises(InputFileError) as info:
        import_files(store, [p], table="nope")
    assert str(info.value).startswith("table: unknown table 'nope'; expected one of: opportunities")
    assert info.value.render("en", flag_name).startswith("--table: unknown table 'nope'")
    assert info.value.render("da", flag_name).startswith("--table: ukendt tabel 'nope'; forventede en af:")
    with pytest.raises(ValueError, match="decimal: expected ',' or '.'; got ';'"):  # also a ValueError
        import_files(store, [p], decimal=";")
    with pytest.raises(LookupError):  # an unknown preset is also a NotFoundError
        import_files(store, [p], preset="nope")


def test_steps_are_announced_as_english_labels_that_carry_their_message(store, tmp_path):
    p = write_lines(tmp_path / "s.csv", ["id,stage", "1,Won", "2,Lost"])
    steps: list[str] = []
    import_files(store, [p], stage=steps.append)
    assert steps == ["Reading s.csv", "Checking 2 rows of s.csv", "Storing s.csv", "Committing"]
    assert [step.message.render("da") for step in steps] == [  # type: ignore[attr-defined]
        "Læser s.csv",
        "Kontrollerer 2 rækker i s.csv",
        "Gemmer s.csv",
        "Gennemfører importen",
    ]
