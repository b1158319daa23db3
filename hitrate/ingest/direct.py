"""The direct path for large, clean CSV files: stored straight from DuckDB's reader, each value typed once.

A large UTF-8 CSV file is named by the reader but not read (:class:`~hitrate.ingest.readers.CsvSource`).
The import first reads its first :data:`~hitrate.ingest.detect.DATE_SAMPLE` rows into
:data:`~hitrate.ingest.scratch.RAW`, detects formats there and checks them; when they are clean it inserts
the whole file straight from ``read_csv`` (:func:`store_direct`). Whatever turns out not to be clean raises
:class:`~hitrate.ingest.scratch.NotClean`: the transaction is rolled back and the import starts again with
the file read into a table, where every row has its number for the quarantine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitrate.i18n import Message
from hitrate.ingest import detect, fastcsv, quarantine
from hitrate.ingest.import_warnings import amount_code_sql
from hitrate.ingest.scratch import RAW, NotClean
from hitrate.ingest.upsert import summarise, upsert
from hitrate.store.schema import quote

if TYPE_CHECKING:
    from hitrate.ingest.import_report import FileReport
    from hitrate.ingest.plan import Plan
    from hitrate.ingest.readers import RawTable
    from hitrate.ingest.typed import TypedRows
    from hitrate.store.embedded import Store


def open_cells(con: Any, plan: Plan) -> bool:
    """Make the file's text cells readable as :data:`~hitrate.ingest.scratch.RAW`: for a file read straight
    from disk its first rows only (True), else all of them (False)."""
    raw = plan.raw
    if raw.csv is None:
        raw.register(con, RAW)
        return False
    if plan.ptable is not None and plan.ptable.id_from == ["row"]:
        raise NotClean  # ids from row numbers: only a table of the file has them
    sql, csv_params = csv_source(raw)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {RAW} AS SELECT *, CAST(NULL AS BIGINT) AS _row FROM {sql} "
        f"LIMIT {detect.DATE_SAMPLE}",
        csv_params,
    )
    return True


def csv_source(raw: RawTable) -> tuple[str, dict[str, Any]]:
    """The ``read_csv`` call reading a large CSV file straight from disk (records it cannot read are left
    out, to be noticed by their number), and its parameters."""
    assert raw.csv is not None
    sql, params = fastcsv.source_sql(raw.csv.width, skip_bad=True)
    return sql, {**params, "csv_path": str(raw.csv.path), "csv_delim": raw.csv.delimiter}


def store_direct(
    store: Store, plan: Plan, rep: FileReport, rows: TypedRows, batch_id: int, say: Callable[[Message], None]
) -> FileReport:
    """Store a large CSV file straight from disk, typing each value once, when the file is clean; raise
    :class:`~hitrate.ingest.scratch.NotClean` otherwise, and the import starts again with the file read into
    a table first.

    Clean means: the table is empty (a first import), every line after the header is one record that DuckDB
    reads, no row has a problem, no key repeats, and no amount carries a currency code or sign (which the
    import warns about). The rows are inserted with a filter that leaves out any row with a problem or a
    code, and the file is clean exactly when the rows inserted equal the file's line breaks less the
    header's (a record DuckDB cannot read, a quoted line break or a blank line makes them fewer). Repeated
    keys are then counted among the rows stored. The file's first rows (:data:`~hitrate.ingest.scratch.RAW`)
    are checked first, so a file that is not clean there costs no attempt. Nothing is quarantined, so no
    row numbers are needed."""
    con, raw, schema, cmap = store.raw, plan.raw, plan.schema, plan.cmap
    assert raw.csv is not None
    k = quote(rows.key)
    first = con.execute(
        f"SELECT count(*) FILTER (WHERE _problems IS NOT NULL), count(*) - count(DISTINCT {k}) FROM ({rows.sql(RAW)})",
        rows.params,
    ).fetchone()
    empty = con.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {quote(schema.name)})").fetchone()
    if not first or first[0] or first[1] or not empty or not empty[0]:
        raise NotClean
    sql, csv_params = csv_source(raw)
    cells = f"SELECT *, CAST(NULL AS BIGINT) AS _row FROM {sql}"
    if "amount" in cmap.fields and "currency" not in cmap.fields:
        amount = f"c{cmap.fields['amount']}"
        cells += f" WHERE {amount_code_sql(amount)} IS NULL"
    say(Message("ingest.step_storing", file=Path(raw.path).name))
    params = {**rows.params, **csv_params}
    imported, _, _, stored = upsert(store, schema, rows.columns(), batch_id, rows.staged(f"({cells})"), params)
    if imported != fastcsv.records_if_clean(raw.csv.path, ends_with_newline=raw.csv.ends_with_newline):
        raise NotClean
    repeated = con.execute(f"SELECT count(*) - count(DISTINCT hash({k})) FROM {stored}").fetchone()
    if not repeated or repeated[0]:
        raise NotClean
    quarantine.clear(con, str(Path(raw.path).resolve()), schema.name)
    rep.read = rep.imported = imported
    summarise(store, plan, rep, stored, None)
    return rep
