"""Import files into the store, losing nothing.

Every record read is stored (``imported`` new, ``updated`` changed, ``unchanged``) or
quarantined with its file, row, column and reason, so
``read == imported + updated + unchanged + quarantined`` for every file. One call is
one transaction: if anything fails, the store is left as it was. Re-importing rereads
every row: identical rows are ``unchanged`` and broken rows replace their earlier
quarantine entries instead of piling up.

Typing runs in DuckDB over the whole file at once (``try_strptime``, ``TRY_CAST``);
the only SQL text is generated from checked identifiers (``c0``, ``amount``...), and
every value from the user (formats, stage names) is a bound parameter.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hitrate.errors import AmbiguousDateFormatError, InputFileError, StrictImportError
from hitrate.ingest import fastcsv
from hitrate.ingest import mapping as mapping_mod
from hitrate.ingest.aggregated import ATTEMPT_ID, OUTCOME, expand_counts
from hitrate.ingest.import_warnings import amount_code_sql, file_warnings
from hitrate.ingest.outcome import outcome_sql
from hitrate.ingest.parsing import (
    COMMA_EVIDENCE,
    FORMATS,
    POINT_EVIDENCE,
    DateFormat,
    date_format_from_flag,
    date_sql,
    number_sql,
    text_sql,
)
from hitrate.ingest.presets import Preset, PresetTable, load_preset, preset_names
from hitrate.ingest.readers import Progress, RawTable, drop_non_data, read_file
from hitrate.ingest.recognise import recognise
from hitrate.store.embedded import Store
from hitrate.store.schema import TABLES, TableSchema, quote

DEFAULT_WON = ("won", "closed won", "closed-won", "closedwon", "win", "vundet", "vundne")
DEFAULT_LOST = ("lost", "closed lost", "closed-lost", "closedlost", "loss", "tabt", "tabte")
_RAW = "_hr_raw"
_CHECK = "_hr_check"  # row, key and problems of every row
_OUT = "_hr_out"  # the rows left out: with problems, or an earlier row of a repeated key
_ENTRIES = "_hr_entries"  # a file's quarantine entries, on their way into the quarantine table
_LOST = "_hr_lost"  # the cells of earlier rows of a repeated key, deleted from the file's table
_STAGE = "_hr_stage"
_EMPTY = "''"
_DATE_SAMPLE = 20_000  # rows tried first when detecting the date family (see _detect_date_format)


@dataclass
class FileReport:
    """What happened to one file."""

    path: str
    table: str
    read: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    encoding: str = ""
    delimiter: str = ""
    date_format: str | None = None
    decimal: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    dimensions: list[str] = field(default_factory=list)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    preset: str | None = None
    preset_reason: str = ""
    skipped_non_data: int = 0
    renamed_columns: list[str] = field(default_factory=list)
    outcome_from: list[str] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def adds_up(self) -> bool:
        return self.read == self.imported + self.updated + self.unchanged + self.quarantined


@dataclass
class ImportReport:
    """The outcome of one import: totals over all files, per-file details and unmatched keys."""

    batch_id: int
    files: list[FileReport]
    unmatched_keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    quarantine_sample: list[dict[str, Any]] = field(default_factory=list)

    def _sum(self, name: str) -> int:
        return sum(int(getattr(f, name)) for f in self.files)

    @property
    def read(self) -> int:
        return self._sum("read")

    @property
    def imported(self) -> int:
        return self._sum("imported")

    @property
    def updated(self) -> int:
        return self._sum("updated")

    @property
    def unchanged(self) -> int:
        return self._sum("unchanged")

    @property
    def quarantined(self) -> int:
        return self._sum("quarantined")

    @property
    def skipped_non_data(self) -> int:
        return self._sum("skipped_non_data")

    @property
    def warnings(self) -> list[str]:
        """Every file's warnings, each prefixed with its file name."""
        return [f"{Path(f.path).name}: {w}" for f in self.files for w in f.warnings]

    def to_dict(self) -> dict[str, Any]:
        """Totals as top-level integers, plus ``files``, ``unmatched_keys``, ``warnings`` and ``batch_id``."""
        return {
            "read": self.read,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
            "skipped_non_data": self.skipped_non_data,
            "batch_id": self.batch_id,
            "warnings": self.warnings,
            "files": [asdict(f) for f in self.files],
            "unmatched_keys": self.unmatched_keys,
            "quarantine_sample": self.quarantine_sample,
        }


@dataclass
class _Problem:
    column: str
    kind: str  # "date" | "number" | "missing"
    expected: str = ""


def import_files(
    store: Store,
    paths: Sequence[str | Path],
    *,
    table: str | None = None,
    preset: str | None = None,
    mapping: dict[str, str] | None = None,
    won: Sequence[str] | None = None,
    lost: Sequence[str] | None = None,
    date_format: str | None = None,
    decimal: str | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    stage: Callable[[str], None] | None = None,
    attempts: str | None = None,
    hits: str | None = None,
) -> ImportReport:
    """Import CSV/Excel/Parquet files into a canonical table; one transaction for all of them.

    Parameters
    ----------
    table:
        ``opportunities`` (default), ``reps``, ``accounts``, ``products``, ``stage_history`` or
        ``activities``; with a preset, the table is recognised from the file's columns when not given.
    preset:
        Name of a shipped preset, a preset file (YAML), or ``auto``: recognise each file's CRM from its
        header (see :mod:`hitrate.ingest.recognise`). ``None``: no preset.
    mapping:
        Canonical field -> source column; overrides the preset.
    won, lost:
        Stage values meaning won / lost (case-insensitive); every other stage is open.
    date_format:
        ``YYYY-MM-DD``, ``DD-MM-YYYY``, ``MM/DD/YYYY``... when detection finds the dates ambiguous.
    decimal:
        ``","`` or ``"."``; detected from the numbers when not given.
    strict:
        Refuse the whole import (:class:`StrictImportError`) if any row would be quarantined.
    progress:
        Called with (lines read, lines in all) while a CSV file is read record by record.
    stage:
        Called with a short description as each step starts (``"Checking 10,000,000 rows of x.csv"``...),
        for a progress display.
    attempts, hits:
        Already-aggregated input: the columns with each row's number of attempts and of hits. Each row
        becomes that many rows of opportunities, ``hits`` won and the rest lost (see
        :mod:`hitrate.ingest.aggregated`); give both or neither.
    """
    if not paths:
        raise InputFileError("import", "no files given")
    if table is not None and table not in TABLES:
        raise InputFileError("--table", f"unknown table '{table}'; expected one of: {', '.join(TABLES)}")
    if decimal is not None and decimal not in {",", "."}:
        raise InputFileError("--decimal", f"expected ',' or '.'; got '{decimal}'")
    fmt_flag = date_format_from_flag(date_format) if date_format else None
    pool = [load_preset(n) for n in preset_names()] if preset == "auto" else []
    preset_obj = load_preset(preset) if preset and preset != "auto" else None
    user_map = dict(mapping or {})
    if (attempts is None) != (hits is None):
        raise InputFileError("--attempts/--hits", "give both: the column of attempts and the column of hits")
    if attempts is not None:
        user_map.setdefault("id", ATTEMPT_ID)
        user_map.setdefault("stage", OUTCOME)
        won, lost = won or ["won"], lost or ["lost"]
    say = stage or (lambda _: None)
    raws: list[RawTable] = []
    try:
        for p in paths:  # read everything before touching the store (large CSV files: their header only)
            say(f"Reading {Path(p).name}")
            raw = read_file(p, progress=progress, con=store.raw)
            if attempts is not None and hits is not None:
                raw = expand_counts(raw.materialized(store.raw), attempts, hits)
            raws.append(raw)
        args = (table, preset, pool, preset_obj, user_map, won, lost, fmt_flag, decimal, strict, say)
        try:
            return _import_read(store, raws, *args)
        except _NotClean:  # a large file straight from disk was not clean: rolled back; again, read into tables
            say("Reading the files again, into tables")
            return _import_read(store, [raw.materialized(store.raw) for raw in raws], *args)
    finally:
        _reset_optimizers(store.raw)  # in case a failure inside the transaction kept it from resetting
        _drop_file_tables(store.raw)


class _NotClean(Exception):
    """A large CSV file read straight from disk turned out not to be clean: the import starts again with the
    file read into a table (see :func:`_store_direct`)."""


def _drop_file_tables(con: Any) -> None:
    """Drop the temporary tables that large CSV files were read into (``_hr_file<n>``)."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND starts_with(table_name, '_hr_file')"
    ).fetchall()
    for (name,) in rows:
        if re.fullmatch(r"_hr_file\d+", str(name)):  # only generated names reach the SQL
            con.execute(f"DROP TABLE IF EXISTS {name}")


def _reset_optimizers(con: Any) -> None:
    import duckdb

    # In an aborted transaction this fails; import_files resets it again once the transaction is rolled back.
    with contextlib.suppress(duckdb.Error):
        con.execute("RESET disabled_optimizers")


def _import_read(
    store: Store,
    raws: list[RawTable],
    table: str | None,
    preset: str | None,
    pool: list[Preset],
    preset_obj: Preset | None,
    user_map: dict[str, str],
    won: Sequence[str] | None,
    lost: Sequence[str] | None,
    fmt_flag: DateFormat | None,
    decimal: str | None,
    strict: bool,
    say: Callable[[str], None],
) -> ImportReport:
    """:func:`import_files` once the files are read."""
    batch_id = store.next_batch_id()
    started = dt.datetime.now()
    reports: list[FileReport] = []
    samples: list[dict[str, Any]] = []
    plans = [_plan(store, raw, table, preset_obj, pool if preset == "auto" else None, user_map) for raw in raws]
    with store.transaction():
        # New dimension columns first: DuckDB cannot alter a table after changing its rows in one transaction.
        for plan in plans:
            store.add_text_columns(plan.schema.name, list(plan.cmap.dimensions))
        for plan in plans:
            rows = f"{plan.raw.num_rows:,} rows of " if plan.raw.csv is None else ""
            say(f"Checking {rows}{Path(plan.raw.path).name}")
            rep, quarantined = _import_one(store, plan, won, lost, fmt_flag, decimal, batch_id, say)
            reports.append(rep)
            samples.extend(quarantined)
        total_q = sum(r.quarantined for r in reports)
        if strict and total_q:
            reasons = [f"{q['source']} row {q['row']}: {q['reason']}" for q in samples[:10]]
            raise StrictImportError(total_q, reasons)
        report = ImportReport(batch_id, reports, quarantine_sample=samples[:20])
        _record_batch(store, report, started)
        report.unmatched_keys = unmatched_keys(store)
        say("Committing")
    return report


@dataclass
class _Plan:
    """One file, read and mapped, before the store is touched."""

    raw: RawTable
    schema: TableSchema
    ptable: PresetTable | None
    cmap: mapping_mod.ColumnMap
    preset: str | None
    reason: str


def _plan(
    store: Store,
    raw: RawTable,
    table: str | None,
    preset: Preset | None,
    pool: list[Preset] | None,
    user_map: dict[str, str],
) -> _Plan:
    """Choose the preset (given, or recognised when ``pool`` is given) and table; drop non-data rows; map."""
    reason = f"preset {preset.name} (--preset)" if preset else ""
    if pool is not None:
        recognition = recognise(raw.path, raw.columns, pool)
        preset, reason = recognition.preset, recognition.reason
    tname = table or (preset.table_for(raw.columns) if preset else None) or "opportunities"
    ptable = preset.tables.get(tname) if preset else None
    if ptable is not None and ptable.non_data is not None:
        raw = raw.materialized(store.raw)
        raw = drop_non_data(raw, ptable.non_data.first_cell, blank_rows=ptable.non_data.blank_rows)
    preset_map = {f: ptable.columns_for(f) for f in ptable.map} if ptable else {}
    cmap = mapping_mod.resolve(raw.path, raw.columns, TABLES[tname], user_map, preset_map)
    return _Plan(raw, TABLES[tname], ptable, cmap, preset.name if preset else None, reason)


def _import_one(
    store: Store,
    plan: _Plan,
    won: Sequence[str] | None,
    lost: Sequence[str] | None,
    fmt_flag: DateFormat | None,
    decimal_flag: str | None,
    batch_id: int,
    say: Callable[[str], None] = lambda _: None,
) -> tuple[FileReport, list[dict[str, Any]]]:
    con = store.raw
    raw, schema, ptable, cmap = plan.raw, plan.schema, plan.ptable, plan.cmap
    source = str(Path(raw.path).resolve())
    rep = FileReport(
        path=raw.path,
        table=schema.name,
        read=raw.read,
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        mapping=cmap.source(raw.columns),
        dimensions=list(cmap.dimensions),
        preset=plan.preset,
        preset_reason=plan.reason,
        skipped_non_data=raw.skipped_non_data,
        renamed_columns=list(raw.renamed),
    )
    direct = raw.csv is not None  # straight from the file (see _store_direct)
    if direct:
        if ptable is not None and ptable.id_from == ["row"]:
            raise _NotClean  # ids from row numbers: only a table of the file has them
        sql, csv_params = _csv_source(raw)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_RAW} AS SELECT *, CAST(NULL AS BIGINT) AS _row FROM {sql} "
            f"LIMIT {_DATE_SAMPLE}",
            csv_params,
        )
    else:
        raw.register(con, _RAW)
    try:
        kinds = {f: schema.fields.get(f, "text") for f in cmap.fields}
        date_cols = [cmap.fields[f] for f, k in kinds.items() if k == "timestamp"]
        num_cols = [cmap.fields[f] for f, k in kinds.items() if k == "number"]
        fmt = fmt_flag or (date_format_from_flag(ptable.date_format) if ptable and ptable.date_format else None)
        if fmt is None and date_cols:
            fmt = _detect_date_format(store, raw, date_cols, whole=not direct)
        decimal = decimal_flag or (ptable.decimal if ptable else None)
        if decimal is None and num_cols:
            decimal = "." if raw.typed else _detect_decimal(store, raw.delimiter, num_cols, whole=not direct)
        rep.date_format = fmt.label if fmt else None
        rep.decimal = decimal
        won_values = [w.strip().lower() for w in (won or (ptable.won if ptable and ptable.won else DEFAULT_WON))]
        lost_values = [v.strip().lower() for v in (lost or (ptable.lost if ptable and ptable.lost else DEFAULT_LOST))]

        problems: list[_Problem] = []
        select: list[str] = ["_row"]
        flags: list[str] = []
        # Each cell is parsed once, in an inner query; the problem flags read the parsed values and
        # whether the cell had text (``_has_<idx>``) in the outer one.
        present: list[str] = []
        for f, idx in cmap.fields.items():
            cell = text_sql(f"c{idx}")
            kind = kinds[f]
            if kind == "timestamp":
                value = date_sql(cell, fast_iso=fmt is not None and fmt.name == "iso", raw=f"c{idx}")
                flags.append(f"_has_{idx} AND {quote(f)} IS NULL")
                problems.append(_Problem(raw.columns[idx], "date", fmt.label if fmt else "a date"))
                present.append(f"{cell} IS NOT NULL AS _has_{idx}")
            elif kind == "number":
                value = number_sql(cell, decimal or ".")
                flags.append(f"_has_{idx} AND {quote(f)} IS NULL")
                problems.append(_Problem(raw.columns[idx], "number", f"decimal '{decimal or '.'}'"))
                present.append(f"{cell} IS NOT NULL AS _has_{idx}")
            else:
                value = cell
            select.append(f"{value} AS {quote(f)}")
        for f in schema.required:
            idx = cmap.fields[f]
            flags.append(f"NOT _req_{idx}")
            problems.append(_Problem(raw.columns[idx], "missing", f))
            present.append(f"{text_sql(f'c{idx}')} IS NOT NULL AS _req_{idx}")
        params: dict[str, Any] = {}
        if fmt is not None and date_cols:
            params["fmts"] = list(fmt.patterns)
        key = schema.key
        # Rows without an id (no id column, or an empty cell) get a stable content-hash id over their cells.
        cells = ", ".join(f"coalesce(c{i}, '')" for f, i in sorted(cmap.fields.items()) if f != key)
        content_id = f"'{'k' if key == '_key' else 'h'}' || substr(sha256(concat_ws(chr(31), {cells})), 1, 20)"
        content_id = _preset_id(ptable, raw, params) or content_id
        if key not in cmap.fields:
            select.append(f"{content_id} AS {quote(key)}")
        else:
            given = text_sql(f"c{cmap.fields[key]}")
            select[select.index(f"{given} AS {quote(key)}")] = f"coalesce({given}, {content_id}) AS {quote(key)}"
        moved = _moves_close_date(ptable, cmap)
        if schema.name == "opportunities":
            rule = outcome_sql(ptable, raw.columns, f"lower(trim(c{cmap.fields['stage']}))")
            select.append(f"{rule.sql} AS outcome")
            params.update(rule.params)
            params["won"], params["lost"] = won_values, lost_values
            rep.outcome_from = [*rule.columns, raw.columns[cmap.fields["stage"]]]
            if moved:
                select.append("CAST(NULL AS TIMESTAMP) AS expected_close")
        # The list of a row's problems (indexes into ``problems``), NULL for a row without any: built only for
        # the rows that have one.
        flag_list = (
            f"CASE WHEN {' OR '.join(f'({c})' for c in flags)} THEN list_filter(["
            + ", ".join(f"CASE WHEN {c} THEN {k} END" for k, c in enumerate(flags))
            + "]::INTEGER[], lambda x: x IS NOT NULL) END"
            if flags
            else "CAST(NULL AS INTEGER[])"
        )
        present = list(dict.fromkeys(present))  # a column mapped to two fields is checked once
        helpers = [p.rsplit(" AS ", 1)[1] for p in present]
        keep = f"* EXCLUDE ({', '.join(helpers)})" if helpers else "*"

        def typed_from(cells: str) -> str:
            """The typed rows of the cells in ``cells`` (a generated table name or subquery)."""
            inner = f"SELECT {', '.join([*select, *present])} FROM {cells}"
            typed = f"SELECT {keep}, {flag_list} AS _problems FROM ({inner})"
            if schema.name == "opportunities" and ptable is not None:
                typed = _closed_fields_only_when_closed(typed, ptable, cmap)
            return typed

        if direct:
            rep, quarantined = _store_direct(store, plan, rep, typed_from, key, moved, params, batch_id, say)
            return rep, quarantined
        typed = typed_from(_RAW)
        # No typed copy of the file is kept: the keys are hashed to find repeated ones, and the rows are typed
        # on their way into the store (and once more only when some turn out to have problems).
        replaced = _replaced_rows(con, typed_from, key, params)
        columns = _stored_columns(plan, key, moved)
        col_sql = ", ".join(quote(c) for c in columns)
        # Rows with a problem are left out by their problem list, computed inline. Earlier rows of a repeated key
        # are deleted from the file's DuckDB table (their cells kept for the quarantine), or for cells in Arrow
        # left out by an anti-join: a join keeps DuckDB from inserting in parallel batches.
        staged = f"SELECT {col_sql} FROM ({typed}) WHERE _problems IS NULL"
        cells_of_out = _RAW
        if replaced and raw.duck is not None and raw.duck.con is con:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {_LOST} AS SELECT * FROM {_RAW} WHERE _row IN (SELECT _row FROM {_OUT})"
            )
            con.execute(f"DELETE FROM {raw.duck.name} WHERE {fastcsv.ROW_SQL} IN (SELECT _row FROM {_OUT})")
            cells_of_out = f"(SELECT * FROM {_RAW} UNION ALL SELECT * FROM {_LOST})"
        elif replaced:
            staged += f" AND _row NOT IN (SELECT _row FROM {_OUT})"
        say(f"Storing {Path(raw.path).name}")
        rep.imported, rep.updated, rep.unchanged, stored = _upsert(store, schema, columns, batch_id, staged, params)
        if rep.imported + rep.updated + rep.unchanged + replaced < raw.num_rows:
            # Some rows have problems: type the file once more to find them (a clean file never does).
            con.execute(
                f"INSERT INTO {_OUT} SELECT _row, _problems, NULL, NULL FROM ({typed}) WHERE _problems IS NOT NULL",
                params,
            )
        quarantined = _quarantine(store, raw, source, schema, problems, batch_id, cells_of_out)
        rep.quarantined = len(quarantined)
        _summaries(store, plan, rep, stored, _RAW)
    finally:
        _drop_scratch(store)
    return rep, quarantined


def _stored_columns(plan: _Plan, key: str, moved: bool) -> list[str]:
    """The columns a file's rows fill in its table: the key first, then the mapped fields, and for
    opportunities the outcome (and ``expected_close`` when open deals' close dates move there)."""
    columns = [key, *[c for c in plan.cmap.fields if c != key]]
    if plan.schema.name == "opportunities":
        columns += ["outcome", *(["expected_close"] if moved else [])]
    return columns


def _summaries(store: Store, plan: _Plan, rep: FileReport, stored: str, cells: str | None) -> None:
    """Stages, outcomes and warnings of an opportunities file, from ``stored`` (the rows as stored) and
    ``cells`` (the text cells; None when no amount cell carries a currency code)."""
    if plan.schema.name != "opportunities":
        return
    rep.stages = _stage_summary(store, stored)
    order = "list_position(['won', 'lost', 'open'], outcome)"
    counted = store.raw.execute(f"SELECT outcome, count(*) FROM {stored} GROUP BY 1 ORDER BY {order}").fetchall()
    rep.outcomes = {str(o): int(n) for o, n in counted}
    rep.warnings = file_warnings(store, stored, cells, plan.ptable, plan.cmap, rep.outcomes)


def _csv_source(raw: RawTable) -> tuple[str, dict[str, Any]]:
    """The ``read_csv`` call reading a large CSV file straight from disk (records it cannot read are left
    out, to be noticed by their number), and its parameters."""
    assert raw.csv is not None
    sql, params = fastcsv.source_sql(raw.csv.width, skip_bad=True)
    return sql, {**params, "csv_path": str(raw.csv.path), "csv_delim": raw.csv.delimiter}


def _store_direct(
    store: Store,
    plan: _Plan,
    rep: FileReport,
    typed_from: Callable[[str], str],
    key: str,
    moved: bool,
    params: dict[str, Any],
    batch_id: int,
    say: Callable[[str], None],
) -> tuple[FileReport, list[dict[str, Any]]]:
    """Store a large CSV file straight from disk, typing each value once, when the file is clean; raise
    :class:`_NotClean` otherwise, and the import starts again with the file read into a table first.

    Clean means: the table is empty (a first import), every line after the header is one record that DuckDB
    reads, no row has a problem, no key repeats, and no amount carries a currency code or sign (which the
    import warns about). The rows are inserted with a filter that leaves out any row with a problem or a
    code, and the file is clean exactly when the rows inserted equal the file's line breaks less the
    header's (a record DuckDB cannot read, a quoted line break or a blank line makes them fewer). Repeated
    keys are then counted among the rows stored. The file's first rows (:data:`_RAW`) are checked first, so
    a file that is not clean there costs no attempt. Nothing is quarantined, so no row numbers are needed."""
    con, raw, schema, cmap = store.raw, plan.raw, plan.schema, plan.cmap
    assert raw.csv is not None
    k = quote(key)
    first = con.execute(
        f"SELECT count(*) FILTER (WHERE _problems IS NOT NULL), count(*) - count(DISTINCT {k}) "
        f"FROM ({typed_from(_RAW)})",
        params,
    ).fetchone()
    empty = con.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {quote(schema.name)})").fetchone()
    if not first or first[0] or first[1] or not empty or not empty[0]:
        raise _NotClean
    sql, csv_params = _csv_source(raw)
    columns = _stored_columns(plan, key, moved)
    col_sql = ", ".join(quote(c) for c in columns)
    cells = f"SELECT *, CAST(NULL AS BIGINT) AS _row FROM {sql}"
    if "amount" in cmap.fields and "currency" not in cmap.fields:
        amount = f"c{cmap.fields['amount']}"
        cells += f" WHERE {amount_code_sql(amount)} IS NULL"
    staged = f"SELECT {col_sql} FROM ({typed_from(f'({cells})')}) WHERE _problems IS NULL"
    say(f"Storing {Path(raw.path).name}")
    imported, _, _, stored = _upsert(store, schema, columns, batch_id, staged, {**params, **csv_params})
    if imported != fastcsv.records_if_clean(raw.csv.path, ends_with_newline=raw.csv.ends_with_newline):
        raise _NotClean
    repeated = con.execute(f"SELECT count(*) - count(DISTINCT hash({k})) FROM {stored}").fetchone()
    if not repeated or repeated[0]:
        raise _NotClean
    source = str(Path(raw.path).resolve())
    con.execute("DELETE FROM quarantine WHERE source = ? AND table_name = ?", [source, schema.name])
    rep.read = rep.imported = imported
    _summaries(store, plan, rep, stored, None)
    return rep, []


def _preset_id(ptable: PresetTable | None, raw: RawTable, params: dict[str, Any]) -> str | None:
    """SQL for the id of a row without one when the preset says how (``id_from``): a hash of the named source
    columns (a stable match key), or with ``[row]`` of the file's name and the row number (rows that may
    repeat word for word, such as sessions). None: the content hash."""
    if ptable is None or not ptable.id_from:
        return None
    if ptable.id_from == ["row"]:
        params["id_file"] = Path(raw.path).name
        return "'r' || substr(sha256(concat_ws(chr(31), $id_file, CAST(_row AS VARCHAR))), 1, 20)"
    found = [mapping_mod.find_column(raw.columns, c) for c in ptable.id_from]
    if any(i is None for i in found):
        return None
    cells = ", ".join(f"coalesce(trim(c{i}), '')" for i in found)
    return f"'m' || substr(sha256(concat_ws(chr(31), {cells})), 1, 20)"


def _moves_close_date(ptable: PresetTable | None, cmap: mapping_mod.ColumnMap) -> bool:
    """Whether open rows' close dates become ``expected_close`` in a column the file does not map."""
    return (
        ptable is not None
        and ptable.open_close_date == "expected_close"
        and "closed_at" in cmap.fields
        and "expected_close" not in cmap.fields
    )


def _closed_fields_only_when_closed(typed: str, ptable: PresetTable, cmap: mapping_mod.ColumnMap) -> str:
    """With a preset: ``closed_at`` only on won and lost rows (an open deal's close date is a forecast,
    kept as ``expected_close`` or dropped, as the preset says), ``loss_reason`` only on lost ones.
    ``typed`` is the query of typed rows; the result is that query with those columns replaced."""
    replace: list[str] = []
    if "closed_at" in cmap.fields and ptable.open_close_date != "keep":
        if ptable.open_close_date == "expected_close":
            replace.append(
                "CASE WHEN outcome = 'open' THEN coalesce(expected_close, closed_at) ELSE expected_close END "
                "AS expected_close"
            )
        replace.append("CASE WHEN outcome = 'open' THEN NULL ELSE closed_at END AS closed_at")
    if "loss_reason" in cmap.fields and ptable.loss_reason_only_lost:
        replace.append("CASE WHEN outcome <> 'lost' THEN NULL ELSE loss_reason END AS loss_reason")
    return f"SELECT * REPLACE ({', '.join(replace)}) FROM ({typed})" if replace else typed


def _replaced_rows(con: Any, typed_from: Callable[[str], str], key: str, params: dict[str, Any]) -> int:
    """Create :data:`_OUT`, the rows left out, with the rows replaced by a later row of the same key (among
    rows that parse, the last row in the file wins); their number.

    Keys are compared by their 64-bit hash first (:data:`_CHECK`: row and hash, no text, and no typing of
    the other columns), so the search for repeated keys groups integers; only the rows whose hash repeats
    are typed and have their keys compared as text, so a hash collision never joins two different keys."""
    k = quote(key)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_OUT} (_row BIGINT, _problems INTEGER[], _winner BIGINT, {k} VARCHAR)")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_CHECK} AS SELECT _row, hash({k}) AS _h FROM ({typed_from(_RAW)})", params
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_STAGE} AS SELECT _row FROM {_CHECK} WHERE _h IN "
        f"(SELECT _h FROM {_CHECK} GROUP BY _h HAVING count(*) > 1)"
    )
    found = con.execute(f"SELECT count(*) FROM {_STAGE}").fetchone()
    if found and found[0]:
        con.execute(
            f"INSERT INTO {_OUT} SELECT _row, []::INTEGER[], _winner, {k} FROM ("
            f"SELECT _row, {k}, max(_row) OVER (PARTITION BY {k}) AS _winner FROM "
            f"({typed_from(f'(SELECT * FROM {_RAW} WHERE _row IN (SELECT _row FROM {_STAGE}))')}) "
            f"WHERE _problems IS NULL) WHERE _row <> _winner",
            params,
        )
    con.execute(f"DROP TABLE {_STAGE}")
    replaced = con.execute(f"SELECT count(*) FROM {_OUT}").fetchone()
    return int(replaced[0]) if replaced else 0


def _drop_scratch(store: Store) -> None:
    """Drop the scratch tables; after a failure the transaction is aborted and rollback drops them."""
    import duckdb

    con = store.raw
    with contextlib.suppress(duckdb.Error):
        sample = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [_RAW]
        ).fetchone()
        if sample and sample[0]:  # the first rows of a file read straight from disk
            con.execute(f"DROP TABLE {_RAW}")
        else:  # an Arrow table registered, or a view over the file's table
            con.unregister(_RAW)
            con.execute(f"DROP VIEW IF EXISTS {_RAW}")
        for name in (_CHECK, _OUT, _STAGE, _LOST):
            con.execute(f"DROP TABLE IF EXISTS {name}")


def _detect_date_format(store: Store, raw: RawTable, date_cols: list[int], *, whole: bool = True) -> DateFormat:
    """The date family that reads the most values; refuse when day-first and month-first tie.

    Trying every family on every value costs seconds per million rows (a failed parse tries each of a
    family's patterns), so the families are first tried on the file's first :data:`_DATE_SAMPLE` rows; a
    sample that reads dates and names one family decides. A sample that reads nothing or cannot tell
    day-first from month-first (no day above 12 yet) is decided on the whole file, as before."""
    sample = f"(SELECT * FROM {_RAW} LIMIT {_DATE_SAMPLE})"
    counts, per_col = _date_counts(store, sample, date_cols)
    best = max(counts.values())
    winners = [f for f in FORMATS if counts[f.name] == best]
    if best > 0 and len(winners) == 1:
        return winners[0]
    if not whole:
        raise _NotClean  # the sample cannot decide and the rest of the file is not at hand
    counts, per_col = _date_counts(store, _RAW, date_cols)
    best = max(counts.values())
    winners = [f for f in FORMATS if counts[f.name] == best]
    if best == 0 or len(winners) == 1:
        return winners[0]
    if {f.name for f in winners} >= {"dmy", "mdy"}:
        col = next(
            (raw.columns[i] for k, i in enumerate(date_cols) if per_col["dmy"][k] > 0), raw.columns[date_cols[0]]
        )
        sep = _date_separator(store, date_cols)
        raise AmbiguousDateFormatError(raw.path, col, [f"DD{sep}MM{sep}YYYY", f"MM{sep}DD{sep}YYYY"])
    return winners[0]


def _date_counts(store: Store, source: str, date_cols: list[int]) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Per date family: the values it reads in ``source``, in all and per column."""
    counts: dict[str, int] = {}
    per_col: dict[str, list[int]] = {}
    for fmt in FORMATS:
        parts = ", ".join(f"count({date_sql(f'nullif(trim(c{i}), {_EMPTY})', fmt.shape)})" for i in date_cols)
        row = store.raw.execute(f"SELECT {parts} FROM {source}", {"fmts": list(fmt.patterns)}).fetchone()
        values = [int(v) for v in (row or [])]
        per_col[fmt.name] = values
        counts[fmt.name] = sum(values)
    return counts, per_col


def _date_separator(store: Store, date_cols: list[int]) -> str:
    row = store.raw.execute(
        f"SELECT regexp_extract(coalesce({', '.join(f'nullif(trim(c{i}), {chr(39)}{chr(39)})' for i in date_cols)}), "
        f"'^\\d+([-/.])', 1) FROM {_RAW} LIMIT 1"
    ).fetchone()
    return str(row[0]) if row and row[0] else "-"


def _detect_decimal(store: Store, delimiter: str, num_cols: list[int], *, whole: bool = True) -> str:
    """``","`` when the numbers show a decimal comma (``12,50``, ``1.234``), ``"."`` otherwise.

    The evidence is counted first in the file's first :data:`_DATE_SAMPLE` rows: when they show one kind
    only, that decides (a file does not switch separators after thousands of rows). Otherwise, mixed or no
    evidence, the whole file is counted and the kind seen more often wins; a tie goes by the delimiter."""
    comma, point = _decimal_evidence(store, f"(SELECT * FROM {_RAW} LIMIT {_DATE_SAMPLE})", num_cols)
    if (comma > 0) != (point > 0):
        return "," if comma else "."
    if not whole:
        raise _NotClean
    comma, point = _decimal_evidence(store, _RAW, num_cols)
    if comma != point:
        return "," if comma > point else "."
    return "," if delimiter == ";" else "."


def _decimal_evidence(store: Store, source: str, num_cols: list[int]) -> tuple[int, int]:
    """Values in ``source`` that show a decimal comma and a decimal point, over the number columns."""
    comma = point = 0
    for i in num_cols:
        cell = f"regexp_replace(trim(c{i}), '[\\s\\x{{00a0}}\\x{{202f}}]', '', 'g')"
        row = store.raw.execute(
            f"SELECT count(*) FILTER (WHERE regexp_full_match({cell}, $c)), "
            f"count(*) FILTER (WHERE regexp_full_match({cell}, $p)) FROM {source}",
            {"c": COMMA_EVIDENCE, "p": POINT_EVIDENCE},
        ).fetchone()
        if row:
            comma += int(row[0])
            point += int(row[1])
    return comma, point


def _quarantine(
    store: Store,
    raw: RawTable,
    source: str,
    schema: TableSchema,
    problems: list[_Problem],
    batch_id: int,
    cells_of: str = _RAW,
) -> list[dict[str, Any]]:
    """Write this file's quarantine entries (replacing those of its earlier imports) and return them; the
    rows' cells are read from ``cells_of`` (a generated table name or subquery)."""
    con = store.raw
    ncols = len(raw.columns)
    cells = ", ".join(f"r.c{i}" for i in range(ncols))
    rows = con.execute(
        f"SELECT k._row, k._problems, k._winner, k.{quote(schema.key)}, {cells} FROM {_OUT} k "
        f"JOIN {cells_of} r ON r._row = k._row ORDER BY k._row"
    ).fetchall()
    entries: list[dict[str, Any]] = []
    for bad in raw.bad:
        entries.append({"row": bad.row, "column": None, "reason": bad.reason, "raw": bad.raw})
    for row_no, probs, winner, key, *values in rows:
        rawdict = dict(zip(raw.columns, values, strict=True))
        if probs:
            reasons = [_describe(problems[k], rawdict) for k in probs]
            column = problems[probs[0]].column
        else:
            reasons = [f"duplicate {schema.key} '{key}': row {winner} later in the file replaces this row"]
            column = None
        entries.append(
            {
                "row": row_no,
                "column": column,
                "reason": "; ".join(reasons),
                "raw": json.dumps(rawdict, ensure_ascii=False),
            }
        )
    entries.sort(key=lambda e: e["row"])
    con.execute("DELETE FROM quarantine WHERE source = ? AND table_name = ?", [source, schema.name])
    if entries:  # one insert from an Arrow table: executemany costs a statement per row (9 s for 12,000)
        import pyarrow as pa

        n = len(entries)
        table = pa.table(
            {
                "batch_id": pa.array([batch_id] * n, pa.int64()),
                "table_name": pa.array([schema.name] * n, pa.string()),
                "source": pa.array([source] * n, pa.string()),
                "row": pa.array([e["row"] for e in entries], pa.int64()),
                "column": pa.array([e["column"] for e in entries], pa.string()),
                "reason": pa.array([e["reason"] for e in entries], pa.string()),
                "raw": pa.array([e["raw"] for e in entries], pa.string()),
            }
        )
        con.register(_ENTRIES, table)
        try:
            con.execute(f"INSERT INTO quarantine SELECT * FROM {_ENTRIES}")
        finally:
            con.unregister(_ENTRIES)
    return [{"source": raw.path, **{k: v for k, v in e.items() if k != "raw"}} for e in entries]


def _describe(problem: _Problem, rawdict: dict[str, Any]) -> str:
    value = rawdict.get(problem.column)
    if problem.kind == "date":
        return f"column '{problem.column}': '{value}' is not a date (expected {problem.expected})"
    if problem.kind == "number":
        return f"column '{problem.column}': '{value}' is not a number ({problem.expected})"
    return f"column '{problem.column}': missing {problem.expected}"


def _upsert(
    store: Store, schema: TableSchema, columns: list[str], batch_id: int, staged: str, params: dict[str, Any]
) -> tuple[int, int, int, str]:
    """Insert new keys, update changed rows, count unchanged ones: (imported, updated, unchanged, and the
    table that now holds the file's rows as stored). ``staged`` is the query of the rows to store."""
    con = store.raw
    target, key = quote(schema.name), quote(columns[0])
    cols = ", ".join(quote(c) for c in columns)
    empty = con.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {target})").fetchone()
    # The filter on the problem list must stay above the typing: pushed down, it would type every value it
    # reads a second time (half the insert's time at 10M rows).
    con.execute("SET disabled_optimizers = 'filter_pushdown'")
    try:
        if empty and empty[0]:  # a first import: every row is new, no join and no staged copy needed
            row = con.execute(
                f"INSERT INTO {target} ({cols}, _batch) SELECT {cols}, {int(batch_id)} FROM ({staged})", params
            ).fetchone()
            return (int(row[0]) if row else 0), 0, 0, target
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_STAGE} AS {staged}", params)
    finally:
        _reset_optimizers(con)
    same = " AND ".join(f"s.{quote(c)} IS NOT DISTINCT FROM t.{quote(c)}" for c in columns[1:]) or "TRUE"
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE t.{key} IS NULL), "
        f"count(*) FILTER (WHERE t.{key} IS NOT NULL AND NOT ({same})), "
        f"count(*) FILTER (WHERE t.{key} IS NOT NULL AND ({same})) "
        f"FROM {_STAGE} s LEFT JOIN {target} t ON s.{key} = t.{key}"
    ).fetchone()
    new, changed, unchanged = (int(v) for v in row) if row else (0, 0, 0)
    if changed:
        sets = ", ".join(f"{quote(c)} = s.{quote(c)}" for c in columns[1:])
        con.execute(
            f"UPDATE {target} AS t SET {sets}, _batch = {int(batch_id)} FROM {_STAGE} s "
            f"WHERE s.{key} = t.{key} AND NOT ({same})"
        )
    if new:
        con.execute(
            f"INSERT INTO {target} ({cols}, _batch) SELECT {cols}, {int(batch_id)} FROM {_STAGE} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE t.{key} = s.{key})"
        )
    return new, changed, unchanged, _STAGE


def _stage_summary(store: Store, stored: str) -> dict[str, dict[str, Any]]:
    """Rows per stage value as stored (trimmed), with the outcome it gave (``mixed`` when rules differ)."""
    rows = store.raw.execute(
        f"SELECT stage, CASE WHEN count(DISTINCT outcome) = 1 THEN any_value(outcome) ELSE 'mixed' END, "
        f"count(*) FROM {stored} GROUP BY 1 ORDER BY 3 DESC"
    ).fetchall()
    return {str(s): {"outcome": o, "rows": int(n)} for s, o, n in rows}


def _record_batch(store: Store, report: ImportReport, started: dt.datetime) -> None:
    store.raw.execute(
        "INSERT INTO import_batches VALUES (?, 'import', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            report.batch_id,
            ",".join(sorted({f.table for f in report.files})),
            json.dumps([f.path for f in report.files], ensure_ascii=False),
            started,
            dt.datetime.now(),
            report.read,
            report.imported,
            report.updated,
            report.unchanged,
            report.quarantined,
        ],
    )


def unmatched_keys(store: Store) -> dict[str, dict[str, Any]]:
    """Values of ``rep``/``account``/``product`` in opportunities that the reps/accounts/products table
    does not know, with near matches (same letters and digits, ignoring case, spaces, punctuation)."""
    out: dict[str, dict[str, Any]] = {}
    opp_cols = set(store.columns("opportunities"))
    for lookup in ("reps", "accounts", "products"):
        key = TABLES[lookup].key
        if key not in opp_cols or not store.count(lookup) or not store.count("opportunities"):
            continue
        rows = store.fetch(
            f"SELECT o.{quote(key)}, count(*) FROM opportunities o WHERE o.{quote(key)} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {quote(lookup)} l WHERE l.{quote(key)} = o.{quote(key)}) GROUP BY 1 ORDER BY 2 DESC"
        )
        if not rows:
            continue
        known = [r[0] for r in store.fetch(f"SELECT {quote(key)} FROM {quote(lookup)}")]
        squash = {_squash(k): k for k in known}
        out[key] = {
            "table": lookup,
            "values": [r[0] for r in rows],
            "rows": sum(int(r[1]) for r in rows),
            "suggestions": {r[0]: squash[_squash(r[0])] for r in rows if _squash(r[0]) in squash},
        }
    return out


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", str(text)).lower()
