"""Already-aggregated input: one line per group with its number of attempts and hits.

``hitrate import FILE --attempts COL --hits COL`` turns each line into ``attempts`` rows, ``hits`` of them
won and the rest lost, every other column kept as it is (the group's dimensions). After that the table
is like any row-level import, so every command (rates, benchmark, trend, compare) reads it unchanged.
The expansion runs in DuckDB (``unnest(range(...))``), never row by row in Python.

**Lines, not rows, are counted.** The import's ``read``, ``imported``, ``updated``, ``unchanged`` and
``quarantined`` count the file's lines (``read`` = the other four), and ``attempts_represented`` the
attempts of the lines stored. Every bad line is quarantined in the same run with its line number and reason:
a count that is not a whole number of 0 or more, hits above attempts, a totals line (a group cell that is
``Total``, ``I alt``...), or any problem of a typed cell. A line of 0 attempts has nothing to store: it is
``unchanged`` (``updated`` when the group had attempts stored).

**A line is its group.** The expanded rows' ids (in the column :data:`ATTEMPT_ID`) are ``a`` + 20 hex digits
of SHA-256 over the line's cells other than the counts, a dash and the occurrence number from the second
line of the same group in the file on (rows are events), then a dot and the attempt's number:
``a3f….1``... So the same file imported again changes nothing, and a corrected file updates its groups'
attempts in place (attempts a group no longer has are removed). The outcome (``won``/``lost``) is in
:data:`OUTCOME`.

Each expanded row has a row number for the import's checks: a line's first attempt has the line's own
number, the others numbers above the file's last line, so the quarantine keeps one entry per line, at its
line (:attr:`~hitrate.ingest.readers.CountLines.last_line`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from hitrate.errors import InputFileError
from hitrate.i18n import Joined, Message, Param
from hitrate.ingest import mapping as mapping_mod
from hitrate.ingest.nondata import TOTAL_CELL
from hitrate.ingest.readers import BadRecord, CountLines, RawTable

ATTEMPT_ID = "hitrate_attempt"
OUTCOME = "hitrate_outcome"
#: SQL of the group (line key) of an expanded row's id in the column ``{}``: what precedes the dot.
GROUP_OF = "split_part({}, '.', 1)"


def expand_counts(raw: RawTable, attempts: str, hits: str) -> RawTable:
    """``raw`` with each good line repeated ``attempts`` times (the first ``hits`` copies won, the rest lost)
    and every bad line kept aside with its reason (:attr:`~hitrate.ingest.readers.RawTable.bad`), so one run
    quarantines them all; its :attr:`~hitrate.ingest.readers.RawTable.counts` says what the lines were.

    Raises :class:`InputFileError` when a count column is not in the file or both name the same column."""
    import duckdb

    a, h = _count_columns(raw, attempts, hits)
    keep = [i for i in range(len(raw.columns)) if i not in (a, h)]
    group = "concat_ws(chr(31), " + ", ".join([f"coalesce(c{i}, '')" for i in keep] or ["''"]) + ")"
    totals = " OR ".join(f"coalesce(regexp_full_match(lower(trim(c{i})), $total), false)" for i in keep) or "false"
    whole = "{v} IS NOT NULL AND {v} >= 0 AND {v} = floor({v})"
    lines = (
        f"SELECT *, TRY_CAST(trim(c{a}) AS DOUBLE) AS _a, TRY_CAST(trim(c{h}) AS DOUBLE) AS _h, ({totals}) AS _total, "
        f"'a' || substr(sha256({group}), 1, 20) || "
        f"coalesce('-' || nullif(row_number() OVER (PARTITION BY {group} ORDER BY _row), 1), '') AS _g FROM src"
    )
    checked = f"SELECT *, NOT ({whole.format(v='_a')}) AS _bad_a, NOT ({whole.format(v='_h')}) AS _bad_h FROM ({lines})"
    params = {"total": TOTAL_CELL}
    con = duckdb.connect()
    try:
        con.register("src", raw.arrow())
        con.execute(f"CREATE TEMP TABLE lines AS {checked}", params)
        bad = con.execute(
            "SELECT _row, _total, _bad_a, _bad_h, _h > _a AND NOT (_bad_a OR _bad_h), "
            f"{', '.join(f'c{i}' for i in range(len(raw.columns)))} FROM lines "
            "WHERE _total OR _bad_a OR _bad_h OR _h > _a ORDER BY _row"
        ).fetchall()
        empty = [g for (g,) in con.execute("SELECT _g FROM lines WHERE NOT _total AND _a = 0 AND _h = 0").fetchall()]
        last = con.execute("SELECT coalesce(max(_row), 0) FROM src").fetchone()
        last_line = max([int(last[0]) if last else 0, *(b.row for b in raw.bad)])
        n = len(keep)
        cols = "".join(f"c{i} AS c{k}, " for k, i in enumerate(keep))
        expanded = con.execute(
            f"SELECT {cols}_g || '.' || _i AS c{n}, CASE WHEN _i <= _h THEN 'won' ELSE 'lost' END AS c{n + 1}, "
            f"CASE WHEN _i = 1 THEN _row ELSE {last_line} + row_number() OVER (ORDER BY _row, _i) END AS _row "
            f"FROM (SELECT *, unnest(range(1, CAST(_a AS BIGINT) + 1)) AS _i FROM lines "
            "WHERE NOT (_total OR _bad_a OR _bad_h OR _h > _a)) ORDER BY _row"
        ).fetch_arrow_table()
    finally:
        con.close()
    count_names = (raw.columns[a], raw.columns[h])
    set_aside = [_bad_line(raw.columns, count_names, row) for row in bad]
    columns = [raw.columns[i] for i in keep] + [ATTEMPT_ID, OUTCOME]
    counts = CountLines(read=raw.read, last_line=last_line, empty_groups=empty)
    raw.release()
    return replace(raw, columns=columns, cells=expanded, duck=None, bad=[*raw.bad, *set_aside], counts=counts)


def _count_columns(raw: RawTable, attempts: str, hits: str) -> tuple[int, int]:
    """The indexes of the attempts and hits columns; raises :class:`InputFileError` naming what is wrong."""
    idx = {}
    for param, name in (("attempts", attempts), ("hits", hits)):
        i = mapping_mod.find_column(raw.columns, name)
        if i is None:
            raise InputFileError(
                raw.path, "ingest.count_no_column", param=Param(param), column=name, columns=Joined(raw.columns)
            )
        idx[param] = i
    if idx["attempts"] == idx["hits"]:
        raise InputFileError(raw.path, "ingest.counts_same_column", attempts=Param("attempts"), hits=Param("hits"))
    return idx["attempts"], idx["hits"]


def _bad_line(columns: list[str], count_names: tuple[str, str], found: tuple[Any, ...]) -> BadRecord:
    """A line set aside, with every reason it has. ``found``: its number; whether it is a totals line, its
    attempts or hits are not whole numbers of 0 or more, its hits are above its attempts; then its cells."""
    row, total, bad_a, bad_h, above, *values = found
    cells = dict(zip(columns, values, strict=True))
    attempts, hits = count_names
    if total:
        reason = Message("ingest_checks.not_data", kind=Message("ingest_checks.kind_totals"))
        return BadRecord(int(row), reason, json.dumps(cells, ensure_ascii=False))
    reasons = [
        Message("ingest_quarantine.count_not_whole", column=name, value=cells[name])
        for name, is_bad in ((attempts, bad_a), (hits, bad_h))
        if is_bad
    ]
    if above:
        reasons.append(
            Message(
                "ingest_quarantine.hits_above_attempts", hits=hits, h=cells[hits], attempts=attempts, a=cells[attempts]
            )
        )
    column = attempts if bad_a else hits
    return BadRecord(int(row), Joined(reasons, "; "), json.dumps(cells, ensure_ascii=False), column)
