"""Property-based round trips: whatever way a CRM writes a table, import gives back the same values."""

from __future__ import annotations

import csv
import datetime as dt
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from hitrate.ingest import import_files
from hitrate.store.embedded import Store

# Text a CRM user types: letters (Danish too), digits, punctuation that collides with CSV syntax.
TEXT = (
    st.text(
        alphabet=st.sampled_from(list("abcdefghijklmnopqrstuvwxyzæøåÆØÅéü ABCXYZ0123456789,;|\"'-.&/()€")),
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(bool)
)

ROW = st.fixed_dictionaries(
    {
        "rep": st.one_of(st.none(), TEXT),
        "stage": st.sampled_from(["Won", "Lost", "Open", "Negotiation"]),
        "amount": st.one_of(st.none(), st.integers(-(10**7), 10**9).map(lambda c: c / 100)),
        "created": st.one_of(st.none(), st.dates(dt.date(1995, 1, 1), dt.date(2035, 12, 31))),
        "note": st.one_of(st.none(), TEXT),
    }
)


def fmt_amount(value: float | None, decimal: str, thousands: bool) -> str:
    if value is None:
        return ""
    text = f"{value:,.2f}" if thousands else f"{value:.2f}"
    if decimal == ",":
        text = text.replace(",", "X").replace(".", ",").replace("X", ".")
    return text


def fmt_date(value: dt.date | None, style: str) -> str:
    if value is None:
        return ""
    return value.strftime({"iso": "%Y-%m-%d", "dmy": "%d-%m-%Y", "mdy": "%m/%d/%Y", "dot": "%d.%m.%Y"}[style])


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(ROW, min_size=1, max_size=25),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    decimal=st.sampled_from([".", ","]),
    thousands=st.booleans(),
    date_style=st.sampled_from(["iso", "dmy", "mdy", "dot"]),
    crlf=st.booleans(),
)
def test_csv_round_trip(tmp_path_factory, rows, delimiter, encoding, decimal, thousands, date_style, crlf):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    w.writerow(["Nr", "Sælger", "Fase", "Beløb", "Oprettet", "Note"])
    for i, r in enumerate(rows):
        w.writerow(
            [
                f"id-{i}",
                r["rep"] or "",
                r["stage"],
                fmt_amount(r["amount"], decimal, thousands),
                fmt_date(r["created"], date_style),
                r["note"] or "",
            ]
        )
    path = tmp_path_factory.mktemp("rt") / "export.csv"
    path.write_bytes(buf.getvalue().encode(encoding))
    date_flag = {"iso": None, "dmy": "DD-MM-YYYY", "mdy": "MM/DD/YYYY", "dot": "DD.MM.YYYY"}[date_style]
    mapping = {"id": "Nr", "rep": "Sælger", "stage": "Fase", "amount": "Beløb", "created_at": "Oprettet"}
    with Store(":memory:") as store:
        report = import_files(store, [path], mapping=mapping, date_format=date_flag, decimal=decimal)
        assert (report.read, report.imported, report.quarantined) == (len(rows), len(rows), 0)
        got = store.fetch("SELECT id, rep, stage, amount, created_at, note, outcome FROM opportunities")
    by_id = {g[0]: g for g in got}
    for i, r in enumerate(rows):
        _, rep, stage, amount, created, note, outcome = by_id[f"id-{i}"]
        assert rep == r["rep"]
        assert stage == r["stage"]
        assert note == r["note"]
        assert amount == (None if r["amount"] is None else round(r["amount"], 2))
        assert (created.date() if created else None) == r["created"]
        assert outcome == {"Won": "won", "Lost": "lost"}.get(r["stage"], "open")


@settings(max_examples=25, deadline=None)
@given(rows=st.lists(ROW, min_size=1, max_size=20), delimiter=st.sampled_from([",", ";"]))
def test_detection_without_flags_round_trips_iso_dates_and_plain_numbers(tmp_path_factory, rows, delimiter):
    """With ISO dates and no thousands separators, detection alone must read every value back."""
    decimal = "," if delimiter == ";" else "."
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter)
    w.writerow(["id", "rep", "stage", "amount", "created_at"])
    for i, r in enumerate(rows):
        w.writerow(
            [i, r["rep"] or "", r["stage"], fmt_amount(r["amount"], decimal, False), fmt_date(r["created"], "iso")]
        )
    path = tmp_path_factory.mktemp("rt") / "plain.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    with Store(":memory:") as store:
        report = import_files(store, [path])
        assert report.quarantined == 0 and report.imported == len(rows)
        got = dict(store.fetch("SELECT id, amount FROM opportunities"))
    for i, r in enumerate(rows):
        assert got[str(i)] == (None if r["amount"] is None else round(r["amount"], 2))
