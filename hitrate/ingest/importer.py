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

The steps live in their own modules: the plan (:mod:`~hitrate.ingest.plan`: parameters checked, preset
recognised, columns mapped), formats (:mod:`~hitrate.ingest.detect`), typing and problems
(:mod:`~hitrate.ingest.typed`), quarantine (:mod:`~hitrate.ingest.quarantine`), storing and counting
(:mod:`~hitrate.ingest.upsert`), the direct path for large clean CSV files (:mod:`~hitrate.ingest.direct`)
and the report (:mod:`~hitrate.ingest.import_report`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hitrate.errors import StrictImportError
from hitrate.i18n import Message
from hitrate.ingest import detect, direct, fastcsv, outcome_check, quarantine
from hitrate.ingest.aggregated import expand_counts
from hitrate.ingest.errors import ImportParameterError
from hitrate.ingest.import_report import FileReport, ImportReport
from hitrate.ingest.plan import DEFAULT_LOST, DEFAULT_WON, Options, Plan, options, plan
from hitrate.ingest.quarantine import Entry
from hitrate.ingest.readers import Progress, RawTable, read_file
from hitrate.ingest.scratch import LOST, OUT, RAW, NotClean, drop_file_tables, drop_scratch, reset_optimizers
from hitrate.ingest.typed import TypedRows, columns_of_kind, typed_rows
from hitrate.ingest.upsert import record_batch, summarise, unmatched_keys, upsert
from hitrate.store.embedded import Store

__all__ = [
    "DEFAULT_LOST",
    "DEFAULT_WON",
    "FileReport",
    "ImportReport",
    "StepLabel",
    "TableInput",
    "import_files",
    "import_tables",
    "unmatched_keys",
]

Say = Callable[[Message], None]


class StepLabel(str):
    """The label of an import step as the ``stage`` callback gets it: the English text (what a progress
    display shows), carrying its :class:`~hitrate.i18n.Message` as ``message`` for a face that speaks
    another language."""

    message: Message

    def __new__(cls, message: Message) -> StepLabel:
        label = super().__new__(cls, str(message))
        label.message = message
        return label


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
    allow_outcome_changes: bool = False,
    map_as_dimension: bool = False,
    sheet: str | int | None = None,
    skip_rows: int = 0,
    delimiter: str | None = None,
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
        for a progress display: a :class:`StepLabel`, English text carrying its message.
    attempts, hits:
        Already-aggregated input: the columns with each line's number of attempts and of hits. Each line
        becomes that many rows of opportunities, ``hits`` won and the rest lost; the report counts lines, and
        ``attempts_represented`` the attempts stored (see :mod:`hitrate.ingest.aggregated`); give both or
        neither.
    allow_outcome_changes:
        Store a re-import that changes the outcome of more than 1% of the stored won and lost deals (without
        it the import stops and names the changes; see :mod:`hitrate.ingest.outcome_check`).
    map_as_dimension:
        Keep a ``mapping`` field whose name is close to a canonical field's (``ammount``) as a dimension
        instead of refusing it.
    sheet:
        The worksheet of an Excel file: its name, or its number from 1 (default: the first).
    skip_rows:
        Lines (rows of a worksheet) before the header to leave out, such as a report's title.
    delimiter:
        The CSV delimiter, when detection gets it wrong.

    No ``won`` value (nor any of the preset's) matching the outcome column stops the import before anything is
    written (:class:`~hitrate.ingest.outcome_check.OutcomeValuesError`), listing the values found.

    A parameter that cannot be used raises :class:`~hitrate.ingest.errors.ImportParameterError` (an
    :class:`~hitrate.errors.InputFileError`) naming it; a file that cannot be read or mapped,
    :class:`~hitrate.errors.InputFileError` naming the file.
    """
    if not paths:
        raise ImportParameterError("ingest.no_files", parameters=["paths"])
    opts = options(
        table=table,
        preset=preset,
        mapping=mapping,
        won=won,
        lost=lost,
        date_format=date_format,
        decimal=decimal,
        strict=strict,
        attempts=attempts,
        hits=hits,
        allow_outcome_changes=allow_outcome_changes,
        map_as_dimension=map_as_dimension,
    )
    if skip_rows < 0:
        raise ImportParameterError("ingest_checks.bad_skip_rows", parameters=["skip_rows"], value=skip_rows)
    if delimiter is not None and len(delimiter) != 1:
        raise ImportParameterError("ingest_checks.bad_delimiter", parameters=["delimiter"], value=delimiter)

    def say(message: Message) -> None:
        if stage is not None:
            stage(StepLabel(message))

    raws: list[RawTable] = []
    try:
        for p in paths:  # read everything before touching the store (large CSV files: their header only)
            say(Message("ingest.step_reading", file=Path(p).name))
            raw = read_file(p, progress=progress, con=store.raw, sheet=sheet, skip_rows=skip_rows, delimiter=delimiter)
            if attempts is not None and hits is not None:
                raw = expand_counts(raw.materialized(store.raw), attempts, hits)
            raws.append(raw)
        try:
            return _import_read(store, [(raw, opts) for raw in raws], say)
        except NotClean:  # a large file straight from disk was not clean: rolled back; again, read into tables
            say(Message("ingest.step_reading_again"))
            return _import_read(store, [(raw.materialized(store.raw), opts) for raw in raws], say)
    finally:
        reset_optimizers(store.raw)  # in case a failure inside the transaction kept it from resetting
        drop_file_tables(store.raw)


@dataclass(frozen=True)
class TableInput:
    """Cells read from somewhere other than a file (a CRM's records, :mod:`hitrate.sync`) for
    :func:`import_tables`: the cells (their ``origin`` names them in reports and the quarantine), the table
    they go to and the preset that maps them (None: columns by name)."""

    raw: RawTable
    table: str
    preset: str | None = None


def import_tables(
    store: Store,
    inputs: Sequence[TableInput],
    *,
    won: Sequence[str] | None = None,
    lost: Sequence[str] | None = None,
    strict: bool = False,
    allow_outcome_changes: bool = False,
    stage: Callable[[str], None] | None = None,
    before_commit: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import tables of text cells already read, each into its own table with its own preset, in one transaction:
    the same steps, rules, quarantine and counts as :func:`import_files`.

    ``before_commit`` is called inside the transaction with the report, after every row is stored: what it
    writes (a sync's cursor, its deletions) commits with the rows or not at all. It may change rows but not
    add columns (DuckDB cannot alter a table after changing its rows in one transaction). Quarantine entries
    of an input with an ``origin`` replace those of earlier imports of the same keys only, so an incremental
    sync keeps the entries of records it did not bring again."""
    items = [
        (
            item.raw,
            options(
                table=item.table,
                preset=item.preset,
                mapping=None,
                won=won,
                lost=lost,
                date_format=None,
                decimal=None,
                strict=strict,
                attempts=None,
                hits=None,
                allow_outcome_changes=allow_outcome_changes,
            ),
        )
        for item in inputs
    ]

    def say(message: Message) -> None:
        if stage is not None:
            stage(StepLabel(message))

    try:
        return _import_read(store, items, say, before_commit)
    finally:
        reset_optimizers(store.raw)


def _import_read(
    store: Store,
    items: list[tuple[RawTable, Options]],
    say: Say,
    before_commit: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """:func:`import_files` once the files are read (and :func:`import_tables`): each with its options."""
    batch_id = store.next_batch_id()
    started = dt.datetime.now()
    reports: list[FileReport] = []
    samples: list[Entry] = []
    plans = [(plan(store, raw, opts), opts) for raw, opts in items]
    strict = any(opts.strict for _, opts in plans)
    with store.transaction():
        # New dimension columns first: DuckDB cannot alter a table after changing its rows in one transaction.
        for p, _ in plans:
            store.add_text_columns(p.schema.name, list(p.cmap.dimensions))
        for p, opts in plans:
            name = Path(p.raw.path).name
            if p.raw.csv is None:
                say(Message("ingest.step_checking_rows", rows=p.raw.num_rows, file=name))
            else:
                say(Message("ingest.step_checking", file=name))
            rep, entries = _import_one(store, p, opts, batch_id, say)
            if not rep.read:
                rep.warnings.append(Message("ingest_checks.no_data_rows"))
            elif rep.quarantined == rep.read:
                rep.warnings.append(Message("ingest_checks.all_quarantined", n=rep.read))
            reports.append(rep)
            samples.extend(entries)
        total_q = sum(r.quarantined for r in reports)
        if strict and total_q:
            reasons = [
                Message("ingest.strict_reason", source=q["source"], row=q["row"], reason=q["reason"])
                for q in samples[:10]
            ]
            raise StrictImportError(total_q, reasons)
        report = ImportReport(batch_id, reports, quarantine_sample=samples[:20])
        record_batch(store, report, started)
        report.unmatched_keys = unmatched_keys(store)
        if before_commit is not None:
            before_commit(report)
        say(Message("ingest.step_committing"))
    return report


def _import_one(store: Store, p: Plan, opts: Options, batch_id: int, say: Say) -> tuple[FileReport, list[Entry]]:
    """Type one file's rows, store them and quarantine the rest; its report and quarantine entries."""
    rep = _file_report(p)
    whole = not direct.open_cells(store.raw, p)  # a file straight from disk: its first rows only
    try:
        fmt = detect.date_format(store, p.raw, opts.date_format, p.ptable, columns_of_kind(p, "timestamp"), whole)
        dec = detect.decimal(store, p.raw, opts.decimal, p.ptable, columns_of_kind(p, "number"), whole)
        rep.date_format = fmt.label if fmt else None
        rep.decimal = dec
        won, lost = opts.won_values(p.ptable), opts.lost_values(p.ptable)
        if p.schema.name == "opportunities" and not opts.counts:
            won, lost = outcome_check.boolean_values(store.raw, p, won, lost)
        rows = typed_rows(p, fmt, dec, won, lost)
        rep.outcome_from = rows.outcome_from
        notes = _outcome_notes(store, p, rows, opts, whole)
        if not whole:
            rep = direct.store_direct(store, p, rep, rows, batch_id, say)
            rep.warnings += notes
            return rep, []
        rep, entries = _store_table(store, p, rep, rows, batch_id, say, opts.allow_outcome_changes)
        rep.warnings += notes
        return rep, entries
    finally:
        drop_scratch(store.raw)


def _outcome_notes(store: Store, p: Plan, rows: TypedRows, opts: Options, whole: bool) -> list[Message]:
    """Stop the import when no row comes out won (:func:`~hitrate.ingest.outcome_check.check_values`); the
    warnings for the file's report. Aggregated input is not checked: its outcomes are its counts."""
    if opts.counts:
        return []
    ptable = p.ptable
    return outcome_check.check_values(
        store.raw,
        p,
        rows,
        opts.won or opts.won_values(ptable),  # as the user wrote them, for the messages
        opts.lost or opts.lost_values(ptable),
        whole=whole,
        lost_given=bool(opts.lost),
        won_given=bool(opts.won),
    )


def _file_report(p: Plan) -> FileReport:
    """The report of a file before its rows are stored: how it was read and mapped."""
    raw = p.raw
    return FileReport(
        path=raw.path,
        table=p.schema.name,
        read=raw.read,
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        mapping=p.cmap.source(raw.columns),
        dimensions=list(p.cmap.dimensions),
        preset=p.preset,
        preset_reason=p.reason,
        skipped_non_data=raw.skipped_non_data,
        renamed_columns=list(raw.renamed),
    )


def _store_table(
    store: Store, p: Plan, rep: FileReport, rows: TypedRows, batch_id: int, say: Say, allow_changes: bool
) -> tuple[FileReport, list[Entry]]:
    """Store the rows of a file whose cells are all at hand (:data:`~hitrate.ingest.scratch.RAW`) and
    quarantine the rest.

    No typed copy of the file is kept: the keys are hashed to find repeated ones, and the rows are typed on
    their way into the store (and once more only when some turn out to have problems)."""
    con, raw = store.raw, p.raw
    replaced = quarantine.replaced_rows(con, rows.sql, rows.key, rows.params)
    # Rows with a problem are left out by their problem list, computed inline. Earlier rows of a repeated key
    # are deleted from the file's DuckDB table (their cells kept for the quarantine), or for cells in Arrow
    # left out by an anti-join: a join keeps DuckDB from inserting in parallel batches.
    staged = rows.staged(RAW)
    cells_of_out = RAW
    if replaced and raw.duck is not None and raw.duck.con is con:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {LOST} AS SELECT * FROM {RAW} WHERE _row IN (SELECT _row FROM {OUT})"
        )
        con.execute(f"DELETE FROM {raw.duck.name} WHERE {fastcsv.ROW_SQL} IN (SELECT _row FROM {OUT})")
        cells_of_out = f"(SELECT * FROM {RAW} UNION ALL SELECT * FROM {LOST})"
    elif replaced:
        staged += f" AND _row NOT IN (SELECT _row FROM {OUT})"
    say(Message("ingest.step_storing", file=Path(raw.path).name))
    guard = None if allow_changes or p.schema.name != "opportunities" else raw.path
    lines = raw.counts
    rep.imported, rep.updated, rep.unchanged, stored = upsert(
        store, p.schema, rows.columns(), batch_id, staged, rows.params, guard=guard, lines=lines
    )
    kept = rep.imported + rep.updated + rep.unchanged
    if lines is not None:  # the counts are of lines: the rows stored are the attempts
        found = con.execute(f"SELECT count(*) FROM {stored}").fetchone()
        kept = rep.attempts_represented = int(found[0]) if found else 0
    if kept + replaced < raw.num_rows:
        # Some rows have problems: type the file once more to find them (a clean file never does).
        con.execute(
            f"INSERT INTO {OUT} SELECT _row, _problems, NULL, NULL FROM ({rows.sql(RAW)}) WHERE _problems IS NOT NULL",
            rows.params,
        )
    if lines is not None:  # a line's attempts share its cells and problems: one entry per line, at its number
        con.execute(f"DELETE FROM {OUT} WHERE _row > {int(lines.last_line)}")
        rep.read = lines.read
    source = raw.origin or str(Path(raw.path).resolve())
    by_key = _key_column(p) if raw.origin else None
    entries = quarantine.write(store, raw, source, p.schema, rows.problems, batch_id, cells_of_out, by_key)
    rep.quarantined = len(entries)
    summarise(store, p, rep, stored, RAW)
    return rep, entries


def _key_column(p: Plan) -> int | None:
    """The position of the source column holding the table's key (``id`` for stage history, whose key is made
    of its fields), or None when it is not mapped."""
    fields = p.cmap.fields
    return fields.get(p.schema.key, fields.get("id"))
