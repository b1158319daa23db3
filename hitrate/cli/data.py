"""Commands that bring data in and say what it means: ``import``, ``presets``, ``quarantine``, ``definitions``,
``demo`` and ``report``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from hitrate.cli.cells import integer, number
from hitrate.cli.options import (
    DbOpt,
    DefsOpt,
    EngineOpt,
    Format,
    FormatOpt,
    Lang,
    ReportAliasOpt,
    Table,
    WhereOpt,
    argument,
    library_options,
    one_of,
    open_store,
    option,
    quiet,
    reads,
    value_of,
)
from hitrate.cli.output import (
    LazyProgress,
    Plain,
    emit,
    headers,
    language,
    note,
    progress_bar,
    say,
    show,
    stderr,
    table,
    text,
    user_errors,
    warn,
)

presets_app = typer.Typer(help=text("cli_help.presets.help"), no_args_is_help=True)
quarantine_app = typer.Typer(help=text("cli_help.quarantine.help"), no_args_is_help=True)
definitions_app = typer.Typer(help=text("cli_help.definitions.help"), no_args_is_help=True)


# -- import ----------------------------------------------------------------------------------------------------
@user_errors
def import_cmd(
    files: Annotated[list[Path], argument("cli_help.import.files", show_default=False)],
    table: Annotated[Table | None, option(help="cli_help.import.table", show_default=False)] = None,
    preset: Annotated[str | None, option(help="cli_help.import.preset", show_default=False)] = None,
    map_: Annotated[list[str] | None, option("--map", help="cli_help.import.map", show_default=False)] = None,
    won: Annotated[list[str] | None, option(help="cli_help.option.won", show_default=False)] = None,
    lost: Annotated[list[str] | None, option(help="cli_help.option.lost", show_default=False)] = None,
    date_format: Annotated[str | None, option(help="cli_help.import.date_format", show_default=False)] = None,
    decimal: Annotated[str | None, option(help="cli_help.import.decimal", show_default=False)] = None,
    strict: Annotated[bool, option("--strict", help="cli_help.import.strict")] = False,
    attempts: Annotated[str | None, option(help="cli_help.import.attempts", show_default=False)] = None,
    hits: Annotated[str | None, option(help="cli_help.import.hits", show_default=False)] = None,
    allow_outcome_changes: Annotated[
        bool, option("--allow-outcome-changes", help="cli_help.import.allow_outcome_changes")
    ] = False,
    map_as_dimension: Annotated[bool, option("--map-as-dimension", help="cli_help.import.map_as_dimension")] = False,
    sheet: Annotated[str | None, option(help="cli_help.import.sheet", show_default=False)] = None,
    skip_rows: Annotated[int, option(help="cli_help.import.skip_rows")] = 0,
    delimiter: Annotated[str | None, option(help="cli_help.import.delimiter", show_default=False)] = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
) -> None:
    from hitrate.ingest import import_given

    progress = LazyProgress(text("cli.import.reading"))
    with open_store(db, engine=engine, create=True) as store:
        try:
            report = import_given(
                store,
                files,
                table=value_of(table),
                preset=preset,
                map_items=map_,
                won=won,
                lost=lost,
                date_format=date_format,
                decimal=decimal,
                strict=strict,
                progress=progress,
                stage=progress.stage,
                attempts=attempts,
                hits=hits,
                allow_outcome_changes=allow_outcome_changes,
                map_as_dimension=map_as_dimension,
                sheet=sheet,
                skip_rows=skip_rows,
                delimiter=delimiter,
            )
        finally:
            progress.close()
    emit(report, fmt, import_table)
    warn(report.warnings)
    unmatched_keys(report.unmatched_keys)


IMPORT_COUNTS = ("read", "imported", "updated", "unchanged", "quarantined")


def import_table(report: Any) -> list[Any]:
    """The import as a table of counts per file, then what was detected in each file."""
    from rich.table import Table as RichTable

    t = RichTable(title=text("cli.import.title", batch=report.batch_id))
    for col in headers("cli.import.file", "cli.import.table"):
        t.add_column(col, overflow="fold")
    aggregated = report.attempts_represented is not None  # the counts are of lines, each many attempts
    counts = ("read", "attempts_represented", *IMPORT_COUNTS[1:]) if aggregated else IMPORT_COUNTS
    labels = [f"cli.import.{'lines_read' if c == 'read' and aggregated else c}" for c in counts]
    for col in headers(*labels):
        t.add_column(col, justify="right", no_wrap=True)
    for f in report.files:
        t.add_row(Path(f.path).name, f.table, *(integer(getattr(f, c) or 0) for c in counts))
    if len(report.files) > 1:
        t.add_row(text("cli.import.total"), "", *(integer(getattr(report, c)) for c in counts))
    lines: list[Any] = [t]
    for f in report.files:
        lines += file_details(f)
    if report.quarantined:
        quarantined = "cli.import.quarantined_lines" if aggregated else "cli.import.quarantined_rows"
        lines.append(text(quarantined, n=report.quarantined))
    return lines


def file_details(f: Any) -> list[str]:
    """What import detected in one file: encoding, delimiter, dates, decimal, preset, outcomes, stages."""
    detail = [text("cli.import.encoding", encoding=f.encoding)] if f.encoding else []
    if f.delimiter:
        detail.append(text("cli.import.delimiter", delimiter=repr(f.delimiter)))
    if f.date_format:
        detail.append(text("cli.import.dates", date_format=f.date_format))
    if f.decimal:
        detail.append(text("cli.import.decimal", decimal=repr(f.decimal)))
    lines = [text("cli.import.file_line", file=Path(f.path).name, details=", ".join(detail))]
    if f.preset_reason:
        lines.append(f"  {say(f.preset_reason)}")
    if f.skipped_non_data:
        lines.append(text("cli.import.skipped_non_data", n=f.skipped_non_data))
    if f.renamed_columns:
        lines.append(text("cli.import.renamed_columns", columns=", ".join(f.renamed_columns)))
    if f.outcomes:
        counts = ", ".join(f"{o} {n}" for o, n in f.outcomes.items())
        lines.append(text("cli.import.outcomes", columns=", ".join(f.outcome_from), counts=counts))
    if f.stages:
        stages = ", ".join(f"{s}→{v['outcome']} ({v['rows']})" for s, v in f.stages.items())
        lines.append(text("cli.import.stages", stages=stages))
    return lines


def unmatched_keys(unmatched: dict[str, Any]) -> None:
    """Notes on stderr: opportunities that name an account, rep or product the lookup table does not know."""
    if not unmatched:
        return
    err = stderr()
    for key, info in unmatched.items():
        values = ", ".join(info["values"][:8]) + (" ..." if len(info["values"]) > 8 else "")
        err.print(
            text("cli.import.unmatched", rows=info["rows"], key=key, table=info["table"], values=values),
            highlight=False,
        )
        for src, dst in info["suggestions"].items():
            err.print(text("cli.import.looks_like", value=src, known=dst), highlight=False)


# -- presets ---------------------------------------------------------------------------------------------------
@presets_app.command("list", help=text("cli_help.presets.list.help"))
@user_errors
def presets_list(fmt: FormatOpt = Format.table) -> None:
    from hitrate.ingest import load_preset, preset_names

    presets = [load_preset(name) for name in preset_names()]
    rows = [{"name": p.name, "tables": list(p.tables), "description": p.description} for p in presets]
    emit(presets, fmt, presets_table, data=rows)


def presets_table(presets: list[Any]) -> Any:
    cols = headers("cli.presets.name", "cli.presets.tables", "cli.presets.reads")
    t = table(text("cli.presets.title"), cols, overflow="fold")
    for p in presets:
        t.add_row(p.name, ", ".join(p.tables), p.description)
    return t


@presets_app.command("show", help=text("cli_help.presets.show.help"))
@user_errors
def presets_show(name: Annotated[str, argument("cli_help.presets.show.name", show_default=False)]) -> None:
    from hitrate.ingest.presets import load_preset, preset_yaml

    typer.echo(preset_yaml(load_preset(name)), nl=False)


# -- quarantine ------------------------------------------------------------------------------------------------
QUARANTINE_KEYS = ("batch_id", "table", "source", "row", "column", "reason", "raw")


@quarantine_app.command("list", help=text("cli_help.quarantine.list.help"))
@user_errors
def quarantine_list(
    limit: Annotated[int, option(help="cli_help.quarantine.list.limit")] = 50,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
) -> None:
    with open_store(db, engine=engine) as store:
        total = store.count("quarantine")
        sql = 'SELECT batch_id, table_name, source, "row", "column", reason, raw FROM quarantine ORDER BY source, "row"'
        rows = store.fetch(sql + (" LIMIT ?" if limit else ""), [limit] if limit else [])
        grouped = (
            'SELECT source, "column", reason, count(*), list("row" ORDER BY "row") FROM quarantine '
            'GROUP BY ALL ORDER BY source, min("row")'
        )
        groups = store.fetch(grouped + (" LIMIT ?" if limit else ""), [limit] if limit else [])
    data = {
        "total": total,
        "rows": [dict(zip(QUARANTINE_KEYS, r, strict=True)) for r in rows],
        "groups": [
            {"source": src, "column": col, "reason": why, "count": int(n), "rows": list(numbers)}
            for src, col, why, n, numbers in groups
        ],
    }
    emit(data, fmt, quarantine_table, data=data)


def quarantine_table(data: dict[str, Any]) -> Any:
    """One line per file, column and reason: rows with the same reason share a line, their numbers as spans
    (``2–201``)."""
    total, shown = data["total"], sum(g["count"] for g in data["groups"])
    if shown < total:
        title = text("cli.quarantine.title_first", total=total, shown=shown)
    else:
        title = text("cli.quarantine.title", total=total)
    cols = headers("cli.quarantine.file", "cli.quarantine.row", "cli.quarantine.column", "cli.quarantine.reason")
    t = table(title, cols, overflow="fold")
    for g in data["groups"]:
        t.add_row(Path(g["source"]).name, _spans(g["rows"]), g["column"] or "", g["reason"])
    return t


def _spans(numbers: list[int], most: int = 6) -> str:
    """Row numbers as spans: ``2–4, 7, 9–10``; after ``most`` spans, the count of the rest."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    out = [str(a) if a == b else f"{a}–{b}" for a, b in spans[:most]]
    if len(spans) > most:
        out.append(text("cli.quarantine.more_rows", n=sum(b - a + 1 for a, b in spans[most:])))
    return ", ".join(out)


# -- definitions -----------------------------------------------------------------------------------------------
@definitions_app.command("init", help=text("cli_help.definitions.init.help"))
@user_errors
def definitions_init(
    path: Annotated[Path, argument("cli_help.definitions.init.path")] = Path("hitrate.yaml"),
    force: Annotated[bool, option("--force", help="cli_help.definitions.init.force")] = False,
) -> None:
    from hitrate.errors import UserInputError
    from hitrate.spec.model import DEFAULT_YAML

    if path.exists() and not force:
        raise UserInputError("cli.definitions.exists", path=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DEFAULT_YAML, encoding="utf-8")
    note("cli.definitions.wrote", path=str(path))


@definitions_app.command("show", help=text("cli_help.definitions.show.help"))
@user_errors
def definitions_show(
    fmt: Annotated[Format, option("--format", help="cli_help.definitions.show.format")] = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
    definitions: DefsOpt = None,
) -> None:
    from hitrate.engine.definitions import definitions_in_force

    with open_store(db, definitions, engine) as store:
        defs = definitions_in_force(store)
    data = {
        "hash": defs.hash,
        "definitions": defs.model_dump(mode="json", exclude_none=True),
        "effective": defs.effective(),
    }
    emit(defs, fmt, lambda d: Plain(text("cli.definitions.yaml", hash=d.hash, yaml=d.to_yaml().rstrip())), data=data)


@definitions_app.command("check", help=text("cli_help.definitions.check.help"))
@user_errors
def definitions_check(
    path: Annotated[Path, argument("cli_help.definitions.check.path", show_default=False)],
    db: DbOpt = None,
    engine: EngineOpt = None,
) -> None:
    from hitrate.engine.expressions import check_definitions, fields_available
    from hitrate.errors import DefinitionsError, UserInputError
    from hitrate.i18n import Message
    from hitrate.spec.model import load_definitions

    defs = load_definitions(path)
    with open_store(db, engine=engine) as store:
        if store.count("opportunities"):
            known = sorted(fields_available(store.con))
            missing = sorted(defs.fields() - set(known))
            if missing:
                problems = [("", Message("cli.definitions.field_not_in_data", field=m, known=known)) for m in missing]
                raise DefinitionsError(str(path), problems)
            try:
                check_definitions(store.con, defs)
            except UserInputError as exc:
                raise DefinitionsError(
                    str(path), [("", Message("cli.definitions.does_not_fit", error=exc.message))]
                ) from None
    typer.echo(text("cli.definitions.valid", path=str(path), hash=defs.hash))


@definitions_app.command("history", help=text("cli_help.definitions.history.help"))
@user_errors
def definitions_history_cmd(fmt: FormatOpt = Format.table, db: DbOpt = None, engine: EngineOpt = None) -> None:
    from hitrate.engine.definitions import definitions_history

    with open_store(db, engine=engine) as store:
        versions = definitions_history(store)
    data = [
        {"seq": v.seq, "hash": v.hash, "source": v.source, "at": v.at.isoformat(), "in_force": v.in_force}
        for v in versions
    ]
    emit(versions, fmt, history_table, data=data, ascii=True)


def history_table(versions: list[Any]) -> Any:
    if not versions:
        return Plain(text("cli.definitions.builtin_in_force"))
    cols = headers("cli.definitions.seq", "cli.definitions.hash", "cli.definitions.source", "cli.definitions.at")
    t = table(text("cli.definitions.history_title"), [*cols, ""])
    for v in versions:
        in_force = text("cli.definitions.in_force") if v.in_force else ""
        t.add_row(str(v.seq), v.hash, v.source, v.at.strftime("%Y-%m-%d %H:%M"), in_force)
    return t


# -- demo and report -------------------------------------------------------------------------------------------
@user_errors
def demo_cmd(
    seed: Annotated[int, option(help="cli_help.demo.seed")] = 7,
    n: Annotated[int, option("--n", help="cli_help.demo.n")] = 20_000,
    force: Annotated[bool, option("--force", help="cli_help.demo.force")] = False,
    keep_users: Annotated[bool, option("--keep-users", help="security.cli_help.keep_users")] = False,
    output: Annotated[Path | None, option("--output", help="cli_help.demo.output", show_default=False)] = None,
    report: ReportAliasOpt = None,
    db: DbOpt = None,
    engine: EngineOpt = None,
) -> None:
    from hitrate.analysis.rates import rates
    from hitrate.cli.analyse import rates_table
    from hitrate.store_report import write_store_report
    from hitrate.synth.demo import build_demo

    started = time.monotonic()
    with open_store(db, engine=engine, create=True) as store:
        build_demo(store, seed=seed, n_opportunities=n, force=force, keep_users=keep_users)
        note("cli.demo.built", path=str(store.path), seed=seed, n=n)
        if force:
            note(
                "security.cli.demo_emptied" if not keep_users else "security.cli.demo_kept_users",
                n=store.count("users"),
            )
        with quiet():
            result = rates(store, by=["team"])
        show([say(result.headline()), rates_table(result, title=text("cli.demo.title"))])
        target = one_of(output, report, "--report") or Path("hitrate-report.html")
        with progress_bar(text("cli.progress.report")) as progress:
            path = write_store_report(store, target, title=text("cli.demo.report_title"), progress=progress)
    note("cli.demo.report_written", path=str(path), seconds=number(time.monotonic() - started, 1, group=False))


@reads
def report_cmd(
    data: Any,
    defs: Any,
    output: Annotated[Path, option(help="cli_help.option.report")] = Path("hitrate-report.html"),
    lang: Annotated[Lang | None, option("--lang", help="cli_help.report.lang", show_default=False)] = None,
) -> None:
    from hitrate.store_report import write_store_report

    with progress_bar(text("cli.progress.report")) as progress:
        path = write_store_report(
            data, output, lang=lang.value if lang else language(), definitions=defs, progress=progress
        )
    note("cli.report.written", path=str(path))


@reads
def doctor_cmd(data: Any, defs: Any, where: WhereOpt = None, fmt: FormatOpt = Format.table) -> None:
    from hitrate.analysis.doctor import doctor

    result = doctor(data, definitions=defs, **library_options(where=where))
    emit(result, fmt, lambda r: Plain(r.summary(language())))


__all__ = [
    "definitions_app",
    "demo_cmd",
    "doctor_cmd",
    "import_cmd",
    "import_table",
    "presets_app",
    "quarantine_app",
    "report_cmd",
]
