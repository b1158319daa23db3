"""Quarantine: the rows an import leaves out, each with its file, row, column and reason.

A row is left out when a cell has a problem (see :class:`~hitrate.ingest.typed.Problem`), when a later row
of the file has the same key (the last row wins), or when the reader could not read the record. The
reasons are :class:`~hitrate.i18n.Message` objects; the quarantine table keeps their English text (the
persisted record ``hitrate quarantine list`` shows), and an import's report carries the messages.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hitrate.i18n import Joined, Message
from hitrate.ingest.scratch import CHECK, ENTRIES, OUT, RAW, STAGE
from hitrate.store.schema import TableSchema, quote

if TYPE_CHECKING:
    from hitrate.ingest.readers import RawTable
    from hitrate.ingest.typed import Problem
    from hitrate.store.embedded import Store

#: A quarantine entry as the import's report carries it: ``source``, ``row``, ``column`` and ``reason``.
Entry = dict[str, Any]


def replaced_rows(con: Any, typed_from: Callable[[str], str], key: str, params: dict[str, Any]) -> int:
    """Create :data:`~hitrate.ingest.scratch.OUT`, the rows left out, with the rows replaced by a later row
    of the same key (among rows that parse, the last row in the file wins); their number.

    Keys are compared by their 64-bit hash first (:data:`~hitrate.ingest.scratch.CHECK`: row and hash, no
    text, and no typing of the other columns), so the search for repeated keys groups integers; only the
    rows whose hash repeats are typed and have their keys compared as text, so a hash collision never joins
    two different keys."""
    k = quote(key)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {OUT} (_row BIGINT, _problems INTEGER[], _winner BIGINT, {k} VARCHAR)")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {CHECK} AS SELECT _row, hash({k}) AS _h FROM ({typed_from(RAW)})", params
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {STAGE} AS SELECT _row FROM {CHECK} WHERE _h IN "
        f"(SELECT _h FROM {CHECK} GROUP BY _h HAVING count(*) > 1)"
    )
    found = con.execute(f"SELECT count(*) FROM {STAGE}").fetchone()
    if found and found[0]:
        con.execute(
            f"INSERT INTO {OUT} SELECT _row, []::INTEGER[], _winner, {k} FROM ("
            f"SELECT _row, {k}, max(_row) OVER (PARTITION BY {k}) AS _winner FROM "
            f"({typed_from(f'(SELECT * FROM {RAW} WHERE _row IN (SELECT _row FROM {STAGE}))')}) "
            f"WHERE _problems IS NULL) WHERE _row <> _winner",
            params,
        )
    con.execute(f"DROP TABLE {STAGE}")
    replaced = con.execute(f"SELECT count(*) FROM {OUT}").fetchone()
    return int(replaced[0]) if replaced else 0


def write(
    store: Store,
    raw: RawTable,
    source: str,
    schema: TableSchema,
    problems: list[Problem],
    batch_id: int,
    cells_of: str = RAW,
    by_key: int | None = None,
) -> list[Entry]:
    """Write this file's quarantine entries (replacing those of its earlier imports) and return them; the
    rows' cells are read from ``cells_of`` (a generated table name or subquery). ``source`` is the file's
    resolved path, or the name of cells that came from elsewhere (a CRM sync). ``by_key``: the position of the
    key column; only earlier entries of the keys these cells hold are replaced (an incremental sync brings some
    records again, and the entries of the others stay)."""
    con = store.raw
    cells = ", ".join(f"r.c{i}" for i in range(len(raw.columns)))
    rows = con.execute(
        f"SELECT k._row, k._problems, k._winner, k.{quote(schema.key)}, {cells} FROM {OUT} k "
        f"JOIN {cells_of} r ON r._row = k._row ORDER BY k._row"
    ).fetchall()
    entries: list[dict[str, Any]] = [
        {"row": bad.row, "column": bad.column, "reason": bad.reason, "raw": bad.raw} for bad in raw.bad
    ]
    for row_no, probs, winner, key, *values in rows:
        rawdict = dict(zip(raw.columns, values, strict=True))
        if probs:
            reason: Message = Joined([problems[k].describe(rawdict.get(problems[k].column)) for k in probs], "; ")
            column = problems[probs[0]].column or None
        else:
            reason = Message("ingest_quarantine.replaced", key=schema.key, value=key, winner=winner)
            column = None
        entries.append(
            {"row": row_no, "column": column, "reason": reason, "raw": json.dumps(rawdict, ensure_ascii=False)}
        )
    entries.sort(key=lambda e: e["row"])
    if by_key is None:
        clear(con, source, schema.name)
    else:
        _clear_keys(con, source, schema.name, raw.columns[by_key], f"(SELECT c{int(by_key)} FROM {cells_of})")
    if entries:
        _insert(con, entries, batch_id, schema.name, source)
    return [{"source": raw.path, **{k: v for k, v in e.items() if k != "raw"}} for e in entries]


def clear(con: Any, source: str, table: str) -> None:
    """Remove the quarantine entries of earlier imports of ``source`` into ``table``."""
    con.execute("DELETE FROM quarantine WHERE source = ? AND table_name = ?", [source, table])


def _clear_keys(con: Any, source: str, table: str, column: str, keys: str) -> None:
    """Remove the entries of ``source`` into ``table`` whose cell ``column`` is among ``keys`` (a generated
    subquery of key cells)."""
    path = '$."' + column.replace('"', '\\"') + '"'
    con.execute(
        f"DELETE FROM quarantine WHERE source = ? AND table_name = ? AND json_extract_string(raw, ?) IN {keys}",
        [source, table, path],
    )


def _insert(con: Any, entries: list[dict[str, Any]], batch_id: int, table: str, source: str) -> None:
    """One insert from an Arrow table (executemany costs a statement per row: 9 s for 12,000); the reasons
    as English text."""
    import pyarrow as pa

    n = len(entries)
    arrow = pa.table(
        {
            "batch_id": pa.array([batch_id] * n, pa.int64()),
            "table_name": pa.array([table] * n, pa.string()),
            "source": pa.array([source] * n, pa.string()),
            "row": pa.array([e["row"] for e in entries], pa.int64()),
            "column": pa.array([e["column"] for e in entries], pa.string()),
            "reason": pa.array([str(e["reason"]) for e in entries], pa.string()),
            "raw": pa.array([e["raw"] for e in entries], pa.string()),
        }
    )
    con.register(ENTRIES, arrow)
    try:
        con.execute(f"INSERT INTO quarantine SELECT * FROM {ENTRIES}")
    finally:
        con.unregister(ENTRIES)
