"""Dates as CRMs write them: zones and ``T`` separators (API exports), Excel's two-digit years, AM/PM."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hitrate.ingest import import_files


def _import_dates(store, tmp_path: Path, created: str, closed: str) -> tuple[dt.datetime, dt.datetime]:
    path = tmp_path / "dates.csv"
    path.write_text(f'id,stage,created,closed\n1,Won,"{created}","{closed}"\n', encoding="utf-8")
    report = import_files(store, [path], mapping={"created_at": "created", "closed_at": "closed"})
    assert report.quarantined == 0
    row = store.fetch("SELECT created_at, closed_at FROM opportunities")[0]
    return row[0], row[1]


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        ("2024-01-22T16:14:25.000+0000", dt.datetime(2024, 1, 22, 16, 14, 25)),  # Salesforce API
        ("2021-03-02T16:56:44+0530", dt.datetime(2021, 3, 2, 16, 56, 44)),  # Zoho API: wall-clock kept
        ("2021-03-02T16:56:44+05:30", dt.datetime(2021, 3, 2, 16, 56, 44)),
        ("2024-01-22T16:14:25Z", dt.datetime(2024, 1, 22, 16, 14, 25)),
        ("2024-01-22 16:14 UTC", dt.datetime(2024, 1, 22, 16, 14)),
    ],
)
def test_a_zone_after_the_time_is_dropped_and_the_wall_clock_kept(store, tmp_path, created, expected):
    assert _import_dates(store, tmp_path, created, "2024-02-01")[0] == expected


def test_excel_resaved_two_digit_years_and_am_pm_times(store, tmp_path):
    created, closed = _import_dates(store, tmp_path, "02/23/26 08:55 PM", "02/03/24")
    assert created == dt.datetime(2026, 2, 23, 20, 55)
    assert closed == dt.datetime(2024, 2, 3)


def test_four_digit_years_still_read_after_the_two_digit_patterns(store, tmp_path):
    created, closed = _import_dates(store, tmp_path, "12/31/2017 10:00", "01/02/2018")
    assert created == dt.datetime(2017, 12, 31, 10)
    assert closed == dt.datetime(2018, 1, 2)


def test_month_name_dates_as_zoho_writes_them(store, tmp_path):
    created, _ = _import_dates(store, tmp_path, "Oct 7, 2025 6:55 PM", "Oct 17, 2025")
    assert created == dt.datetime(2025, 10, 7, 18, 55)


_PIECES = st.sampled_from(
    ["0", "1", "2", "9", "12", "13", "24", "29", "30", "31", "59", "60", "99", "-", "/", ":", " ", "T", "Z", "+"]
)


@settings(max_examples=300, deadline=None)
@example(text="2024-01-01 00:00:0Z")
@example(text="2024-01-1Z")
@example(text="-202-01-01")
@example(text="2024-01-01 10:00+02")
@example(text="2024-01-01 24:00:00")
@example(text="2024-01-01 23:59:60")
@example(text="2024-02-30")
@example(text="1999-02-28T24:00:00")
@example(text="2024-12-3T 23:59:59")
@example(text="1999-02-28T 6:00:00")
@given(
    text=st.one_of(
        st.builds(
            lambda y, m, d, sep, h, mi, s: f"{y}-{m}-{d}{sep}{h}:{mi}:{s}",
            st.sampled_from(["2024", "0024", "1999", "9999", "0000", "+202", "-202"]),
            st.sampled_from(["01", "02", "12", "13", "00", "1 "]),
            st.sampled_from(["01", "28", "29", "30", "31", "32", "00"]),
            st.sampled_from([" ", "T", "t", "_"]),
            st.sampled_from(["00", "10", "23", "24", "99"]),
            st.sampled_from(["00", "59", "60"]),
            st.sampled_from(["00", "59", "60", "61", "0Z", "5 "]),
        ),
        st.lists(_PIECES, min_size=1, max_size=10).map(lambda parts: "2024-" + "".join(parts)),
    )
)
def test_the_native_iso_cast_reads_what_the_patterns_read(text: str) -> None:
    """The fast ISO path of ``date_sql`` (DuckDB's cast behind a length guard) against the ISO patterns
    alone, on values of the guarded lengths and near misses (bad months, days, hours, leap seconds, offsets,
    signs, separators)."""
    import duckdb

    from hitrate.ingest.parsing import ISO, date_sql

    cell = "nullif(trim(c), '')"
    fast = date_sql(cell, fast_iso=True, raw="c")
    slow = date_sql(cell)
    row = duckdb.execute(
        f"SELECT {fast}, {slow} FROM (SELECT $t AS c)", {"t": text, "fmts": list(ISO.patterns)}
    ).fetchone()
    assert row is not None and row[0] == row[1], text
