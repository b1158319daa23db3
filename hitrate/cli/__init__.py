"""The ``hitrate`` command line: parse, call the library, render. Nothing else lives here.

Heavy libraries (Ibis, DuckDB, pandas) are imported inside the commands, so ``--help``
and light commands start fast.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from hitrate.analysis.results import RatesResult
    from hitrate.store.embedded import Store

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="hitrate",
    help="Measure and raise hit rate: the share of leads, inquiries, meetings or opportunities that end in a "
    "closed sale.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
quarantine_app = typer.Typer(
    help="Rows that could not be stored, with file, row, column and reason.", no_args_is_help=True
)
definitions_app = typer.Typer(
    help="The definitions in force: what counts, what is won, which basis.", no_args_is_help=True
)
score_app = typer.Typer(
    help="Lead scoring: which leads to work first, with calibrated, explained probabilities.", no_args_is_help=True
)
presets_app = typer.Typer(
    help="Import presets: how each CRM's export is read (columns, won/lost, quirks).", no_args_is_help=True
)
users_app = typer.Typer(
    help="Accounts of the web dashboard and API: roles, passwords, API tokens.", no_args_is_help=True
)
app.add_typer(users_app, name="users")
app.add_typer(presets_app, name="presets")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(score_app, name="score")
experiment_app = typer.Typer(
    help="Outreach experiments: plan the sample size, compare variants on a funnel step.", no_args_is_help=True
)
app.add_typer(definitions_app, name="definitions")
app.add_typer(experiment_app, name="experiment")
slots_app = typer.Typer(
    help="Slot machines: hit frequency, payback (return to player) and volatility from a PAR sheet, reel strips "
    "or a spin log.",
    no_args_is_help=True,
)
app.add_typer(slots_app, name="slots")


class Format(str, Enum):
    table = "table"
    json = "json"


class RatesFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


class Period(str, Enum):
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


class Basis(str, Enum):
    closed = "closed"
    cohort = "cohort"


class Strategy(str, Enum):
    favourite = "favourite"
    underdog = "underdog"
    home = "home"
    draw = "draw"
    away = "away"
    log = "log"


class OutreachView(str, Enum):
    funnel = "funnel"
    sequences = "sequences"
    personalisation = "personalisation"


class Lang(str, Enum):
    en = "en"
    da = "da"


class Table(str, Enum):
    opportunities = "opportunities"
    reps = "reps"
    accounts = "accounts"
    products = "products"
    stage_history = "stage_history"
    activities = "activities"


DbOpt = Annotated[
    Path | None,
    typer.Option(
        "--db", envvar="HITRATE_DB", help="The store (DuckDB file). Default ./hitrate.duckdb.", show_default=False
    ),
]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        envvar="HITRATE_ENGINE",
        help="Where the data lives: duckdb:///store.duckdb (default store), postgresql://user@host/db, "
        "spark+local:///parquet/folder or spark://host:port/folder.",
        show_default=False,
    ),
]
BasisOpt = Annotated[
    Basis | None,
    typer.Option(
        help="closed: won/(won+lost); cohort: won/all created. Default: the definitions' basis.", show_default=False
    ),
]
FromOpt = Annotated[str | None, typer.Option("--from", help="First date (YYYY-MM-DD), inclusive.", show_default=False)]
ToOpt = Annotated[str | None, typer.Option("--to", help="Last date (YYYY-MM-DD), inclusive.", show_default=False)]
WhereOpt = Annotated[
    list[str] | None,
    typer.Option(
        help="FIELD=VALUE: keep only these rows. Repeatable; values of one field are alternatives.", show_default=False
    ),
]
DefsOpt = Annotated[
    Path | None,
    typer.Option(
        "--definitions",
        envvar="HITRATE_DEFINITIONS",
        help="Definitions file (YAML) to validate, record in the store and put in force.",
        show_default=False,
    ),
]


def _err() -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def _out() -> Console:
    """Standard output; into a pipe or file, wide enough that tables keep their columns."""
    import os

    from rich.console import Console

    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return Console(soft_wrap=True)
    return Console(soft_wrap=True, width=160)


#: Library parameters whose command-line option is not ``--`` + the name with dashes.
FLAG_NAMES: dict[str, str] = {"date_from": "--from", "date_to": "--to", "definitions": "--definitions"}


def flag_name(parameter: str) -> str:
    """How the command line writes a library parameter: ``by`` -> ``--by``, ``date_from`` -> ``--from``."""
    return FLAG_NAMES.get(parameter, "--" + parameter.replace("_", "-"))


def user_errors(func: F) -> F:
    """Turn hitrate's errors (user mistakes) into a one-line message and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from hitrate.errors import HitrateError

        try:
            return func(*args, **kwargs)
        except HitrateError as exc:
            _err().print(f"[bold red]error:[/] {exc.render('en', flag_name)}", markup=True, highlight=False)
            raise typer.Exit(2) from None
        except Exception as exc:  # the store locked by another process is common enough to explain
            if type(exc).__name__ == "IOException" and "lock" in str(exc).lower():
                _err().print(f"[bold red]error:[/] the store is in use by another process ({exc})", highlight=False)
                raise typer.Exit(2) from None
            raise

    return wrapper  # type: ignore[return-value]


def _open(db: Path | None, definitions: Path | None = None, engine: str | None = None) -> Store:
    """The embedded store (``--db``, or a ``duckdb://`` ``--engine``), with ``definitions`` put in force."""
    from hitrate.store.embedded import Store

    store = Store(_store_path(db, engine))
    if definitions is not None:
        from hitrate.engine.definitions import use_definitions

        use_definitions(store, definitions)
    return store


def _store_path(db: Path | None, engine: str | None) -> Path | None:
    """The store file: ``--db``, or the path of a ``duckdb://`` engine (both given must agree). Commands
    that write (import, demo, quarantine, definitions) need the embedded store."""
    if engine is None:
        return db
    from hitrate.errors import UserInputError
    from hitrate.store.backends import duckdb_path, is_embedded, redact

    if not is_embedded(engine):
        raise UserInputError(
            f"--engine {redact(engine)}: this command writes to the embedded store; use a duckdb:// engine "
            "or --db (other engines are read where the data lives)"
        )
    path = duckdb_path(engine)
    if db is not None and Path(db).resolve() != path.resolve():
        raise UserInputError(f"--db {db} and --engine {engine} name different stores; give one of them")
    return path


@contextlib.contextmanager
def _source(db: Path | None, engine: str | None, definitions: Path | None) -> Iterator[tuple[Any, Any]]:
    """What a reading command works on: ``(source, definitions)``. The embedded store with a definitions
    file put in force (``definitions`` None: the store's in force), or another engine's Ibis backend with
    the file's definitions for this run (None: the built-in ones)."""
    from hitrate.store.backends import close, connect, is_embedded

    if is_embedded(engine):
        with _open(db, definitions, engine) as store:
            yield store, None
        return
    assert engine is not None
    from hitrate.spec.model import load_definitions

    defs = load_definitions(definitions) if definitions is not None else None
    source = connect(engine)
    try:
        yield source, defs
    finally:
        close(source)


# --------------------------------------------------------------------------------------------------------------
# import
# --------------------------------------------------------------------------------------------------------------
class _LazyProgress:
    """A progress bar on stderr that appears only once work has taken more than a second."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.start = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.start < 1.0:
                return
            from rich.progress import Progress

            self.bar = Progress(console=_err(), transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total)
        self.bar.update(self.task, completed=done, total=total)

    def stage(self, label: str) -> None:
        """A new step whose length is unknown: the bar shows its name and pulses."""
        self.label = label
        if self.bar is None:
            if time.monotonic() - self.start < 1.0:
                return
            from rich.progress import Progress

            self.bar = Progress(console=_err(), transient=True)
            self.bar.start()
        else:
            self.bar.remove_task(self.task)
        self.task = self.bar.add_task(label, total=None)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command("import")
@user_errors
def import_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(help="CSV (any common delimiter/encoding), .xlsx or .parquet files.", show_default=False),
    ],
    table: Annotated[
        Table | None,
        typer.Option(
            help="Canonical table to load (default: recognised from the preset, else opportunities).",
            show_default=False,
        ),
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option(
            help="auto: recognise the CRM from the header (the default without --map); a preset name "
            "(salesforce, hubspot, pipedrive, odoo, zoho, dynamics, maven); or a preset YAML file.",
            show_default=False,
        ),
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="FIELD=COLUMN: which source column feeds a "
            "canonical field (id, rep, created_at, closed_at, stage, amount, "
            "any dimension). Repeatable.",
            show_default=False,
        ),
    ] = None,
    won: Annotated[
        list[str] | None, typer.Option(help="A stage value that means won. Repeatable.", show_default=False)
    ] = None,
    lost: Annotated[
        list[str] | None, typer.Option(help="A stage value that means lost. Repeatable.", show_default=False)
    ] = None,
    date_format: Annotated[
        str | None,
        typer.Option(
            help="YYYY-MM-DD, DD-MM-YYYY, DD/MM/YYYY, MM/DD/YYYY or a strptime pattern (default: detected).",
            show_default=False,
        ),
    ] = None,
    decimal: Annotated[
        str | None, typer.Option(help="Decimal separator , or . (default: detected).", show_default=False)
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail the whole import if any row would be quarantined.")
    ] = False,
    attempts: Annotated[
        str | None,
        typer.Option(help="Aggregated input: the column with each row's number of attempts.", show_default=False),
    ] = None,
    hits: Annotated[
        str | None,
        typer.Option(help="Aggregated input: the column with each row's number of hits.", show_default=False),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
) -> None:
    """Import CRM exports or any attempts/hits table; every row is stored or quarantined with a reason, in one
    transaction."""
    from hitrate.ingest import import_files, parse_map_flags

    if preset is None and not map_ and attempts is None:
        preset = "auto"
    progress = _LazyProgress("Reading")
    with _open(db, engine=engine) as store:
        try:
            report = import_files(
                store,
                files,
                table=table.value if table else None,
                preset=preset,
                mapping=parse_map_flags(map_),
                won=won,
                lost=lost,
                date_format=date_format,
                decimal=decimal,
                strict=strict,
                progress=progress,
                stage=progress.stage,
                attempts=attempts,
                hits=hits,
            )
        finally:
            progress.close()
    if fmt is Format.json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, default=str))
    else:
        _print_import(report)
    _warn(report.warnings)
    if report.unmatched_keys:
        err = _err()
        for key, info in report.unmatched_keys.items():
            vals = ", ".join(info["values"][:8]) + (" ..." if len(info["values"]) > 8 else "")
            err.print(
                f"note: {info['rows']} opportunities name a {key} that {info['table']} does not know: {vals}",
                highlight=False,
            )
            for src, dst in info["suggestions"].items():
                err.print(f"      '{src}' looks like '{dst}'", highlight=False)


def _print_import(report: Any) -> None:
    from rich.table import Table as RichTable

    t = RichTable(title=f"Import batch {report.batch_id}")
    for col in ("file", "table", "read", "imported", "updated", "unchanged", "quarantined"):
        if col in ("file", "table"):
            t.add_column(col, overflow="fold")
        else:
            t.add_column(col, justify="right", no_wrap=True)
    for f in report.files:
        t.add_row(
            Path(f.path).name,
            f.table,
            *(str(getattr(f, c)) for c in ("read", "imported", "updated", "unchanged", "quarantined")),
        )
    if len(report.files) > 1:
        t.add_row(
            "total", "", *(str(getattr(report, c)) for c in ("read", "imported", "updated", "unchanged", "quarantined"))
        )
    out = _out()
    out.print(t)
    for f in report.files:
        detail = [f"encoding {f.encoding}"] if f.encoding else []
        if f.delimiter:
            detail.append(f"delimiter {f.delimiter!r}")
        if f.date_format:
            detail.append(f"dates {f.date_format}")
        if f.decimal:
            detail.append(f"decimal {f.decimal!r}")
        out.print(f"{Path(f.path).name}: " + ", ".join(detail), highlight=False)
        if f.preset_reason:
            out.print(f"  {f.preset_reason}", highlight=False)
        if f.skipped_non_data:
            out.print(f"  {f.skipped_non_data} non-data row(s) skipped (footer, totals, blank rows)", highlight=False)
        if f.renamed_columns:
            out.print(f"  header names repeated, kept as: {', '.join(f.renamed_columns)}", highlight=False)
        if f.outcomes:
            counts = ", ".join(f"{o} {n}" for o, n in f.outcomes.items())
            out.print(f"  outcome from {', '.join(f.outcome_from)}: {counts}", highlight=False)
        if f.stages:
            stages = ", ".join(f"{s}→{v['outcome']} ({v['rows']})" for s, v in f.stages.items())
            out.print(f"  stages: {stages}", highlight=False)
    if report.quarantined:
        out.print(f"{report.quarantined} row(s) quarantined; see [bold]hitrate quarantine list[/]")


# --------------------------------------------------------------------------------------------------------------
# presets
# --------------------------------------------------------------------------------------------------------------
@presets_app.command("list")
@user_errors
def presets_list(fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table) -> None:
    """List the shipped import presets: name, tables, and the CRM exports each reads."""
    from hitrate.ingest import load_preset, preset_names

    presets = [load_preset(name) for name in preset_names()]
    if fmt is Format.json:
        rows = [{"name": p.name, "tables": list(p.tables), "description": p.description} for p in presets]
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    from rich.table import Table as RichTable

    t = RichTable(title="Import presets (hitrate import FILE --preset NAME; auto recognises them)")
    for col in ("name", "tables", "reads"):
        t.add_column(col, overflow="fold")
    for p in presets:
        t.add_row(p.name, ", ".join(p.tables), p.description)
    _out().print(t)


@presets_app.command("show")
@user_errors
def presets_show(
    name: Annotated[str, typer.Argument(help="A shipped preset's name, or a preset YAML file.", show_default=False)],
) -> None:
    """Print what a preset maps, as YAML: columns per field, won/lost rules and stages, quirks handled.

    The output is a valid preset file: save it, edit it, and import with --preset FILE.
    """
    from hitrate.ingest.presets import load_preset, preset_yaml

    typer.echo(preset_yaml(load_preset(name)), nl=False)


# --------------------------------------------------------------------------------------------------------------
# quarantine
# --------------------------------------------------------------------------------------------------------------
@quarantine_app.command("list")
@user_errors
def quarantine_list(
    limit: Annotated[int, typer.Option(help="Show at most this many rows (0: all).")] = 50,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
) -> None:
    """List quarantined rows: file, row, column, reason."""
    with _open(db, engine=engine) as store:
        total = store.count("quarantine")
        sql = 'SELECT batch_id, table_name, source, "row", "column", reason, raw FROM quarantine ORDER BY source, "row"'
        rows = store.fetch(sql + (" LIMIT ?" if limit else ""), [limit] if limit else [])
    keys = ("batch_id", "table", "source", "row", "column", "reason", "raw")
    if fmt is Format.json:
        typer.echo(
            json.dumps(
                {"total": total, "rows": [dict(zip(keys, r, strict=True)) for r in rows]},
                ensure_ascii=False,
                default=str,
            )
        )
        return
    from rich.table import Table as RichTable

    t = RichTable(title=f"Quarantine: {total} row(s)" + (f", first {len(rows)}" if len(rows) < total else ""))
    for col in ("file", "row", "column", "reason"):
        t.add_column(col, overflow="fold")
    for r in rows:
        t.add_row(Path(r[2]).name, str(r[3]), r[4] or "", r[5])
    _out().print(t)


# --------------------------------------------------------------------------------------------------------------
# definitions
# --------------------------------------------------------------------------------------------------------------
@definitions_app.command("init")
@user_errors
def definitions_init(
    path: Annotated[Path, typer.Argument(help="Where to write the file.")] = Path("hitrate.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write the built-in definitions to a YAML file, commented, to edit."""
    from hitrate.errors import UserInputError
    from hitrate.spec.model import DEFAULT_YAML

    if path.exists() and not force:
        raise UserInputError(f"{path}: already exists; use --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DEFAULT_YAML, encoding="utf-8")
    _err().print(f"wrote {path}; use it with --definitions {path}", highlight=False)


@definitions_app.command("show")
@user_errors
def definitions_show(
    fmt: Annotated[Format, typer.Option("--format", help="Output format (table prints YAML).")] = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
    definitions: DefsOpt = None,
) -> None:
    """Print the definitions in force and their hash."""
    from hitrate.engine.definitions import definitions_in_force

    with _open(db, definitions, engine) as store:
        defs = definitions_in_force(store)
    if fmt is Format.json:
        typer.echo(
            json.dumps(
                {
                    "hash": defs.hash,
                    "definitions": defs.model_dump(mode="json", exclude_none=True),
                    "effective": defs.effective(),
                },
                ensure_ascii=False,
            )
        )
        return
    typer.echo(f"# hash: {defs.hash}")
    typer.echo(defs.to_yaml().rstrip())


@definitions_app.command("check")
@user_errors
def definitions_check(
    path: Annotated[Path, typer.Argument(help="Definitions file to validate.", show_default=False)],
    db: DbOpt = None,
    engine: EngineOpt = None,
) -> None:
    """Validate a definitions file (and its fields against the store's data); print its hash."""
    from hitrate.engine.expressions import check_definitions, fields_available
    from hitrate.errors import DefinitionsError, UserInputError
    from hitrate.spec.model import load_definitions

    defs = load_definitions(path)
    with _open(db, engine=engine) as store:
        if store.count("opportunities"):
            known = set(fields_available(store.con))
            missing = sorted(defs.fields() - known)
            if missing:
                problems = [
                    ("", f"field '{m}' is not in the data; known fields: {', '.join(sorted(known))}") for m in missing
                ]
                raise DefinitionsError(str(path), problems)
            try:
                check_definitions(store.con, defs)
            except UserInputError as exc:
                raise DefinitionsError(str(path), [("", f"does not fit the data: {exc}")]) from None
    typer.echo(f"{path}: valid, hash {defs.hash}")


@definitions_app.command("history")
@user_errors
def definitions_history_cmd(
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
) -> None:
    """List every version of the definitions put in force in this store."""
    from hitrate.engine.definitions import definitions_history

    with _open(db, engine=engine) as store:
        versions = definitions_history(store)
    if fmt is Format.json:
        typer.echo(
            json.dumps(
                [
                    {"seq": v.seq, "hash": v.hash, "source": v.source, "at": v.at.isoformat(), "in_force": v.in_force}
                    for v in versions
                ]
            )
        )
        return
    if not versions:
        typer.echo("The built-in definitions are in force (no file given yet).")
        return
    from rich.table import Table as RichTable

    t = RichTable(title="Definitions history")
    for col in ("#", "hash", "source", "put in force", ""):
        t.add_column(col)
    for v in versions:
        t.add_row(str(v.seq), v.hash, v.source, v.at.strftime("%Y-%m-%d %H:%M"), "in force" if v.in_force else "")
    _out().print(t)


# --------------------------------------------------------------------------------------------------------------
# rates
# --------------------------------------------------------------------------------------------------------------
def _parse_where(items: list[str] | None) -> dict[str, list[str]]:
    from hitrate.engine.query import parse_where

    return parse_where(items, "--where")


@app.command("rates")
@user_errors
def rates_cmd(
    by: Annotated[
        list[str] | None,
        typer.Option(help="Group by this field (rep, team, lead_source...). Repeatable.", show_default=False),
    ] = None,
    period: Annotated[Period | None, typer.Option(help="Split into periods.", show_default=False)] = None,
    basis: BasisOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    where: WhereOpt = None,
    fmt: Annotated[RatesFormat, typer.Option("--format", help="Output format.")] = RatesFormat.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
    definitions: DefsOpt = None,
) -> None:
    """Hit rate per group, with attempts, hits, a 95% Wilson interval and value hit rate."""
    import warnings

    from hitrate.analysis.rates import rates

    with _source(db, engine, definitions) as (store, defs), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = rates(
            store,
            definitions=defs,
            by=by or [],
            period=period.value if period else None,
            basis=basis.value if basis else None,
            date_from=date_from,
            date_to=date_to,
            where=_parse_where(where),
        )
    _emit_rates(result, fmt)


def _warn(notes: Sequence[object]) -> None:
    """Warnings on stderr: coloured on a terminal, plain text otherwise (no Rich import for a pipe)."""
    if not notes:
        return
    if sys.stderr.isatty():
        err = _err()
        for note in notes:
            err.print(f"[yellow]warning:[/] {note}", highlight=False)
    else:
        for note in notes:
            sys.stderr.write(f"warning: {note}\n")


def _emit_rates(result: RatesResult, fmt: RatesFormat) -> None:
    _warn(result.warnings)
    if fmt is RatesFormat.json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    elif fmt is RatesFormat.csv:
        _write_csv(result)
    else:
        _out().print(rates_table(result))


def rates_table(result: RatesResult, title: str | None = None) -> Any:
    """A Rich table of a rates result: every rate beside its attempts and interval."""
    from rich.table import Table as RichTable

    defs = result.definitions
    t = RichTable(
        title=title or f"{'Conversion rate' if defs.denominator == 'sessions' else 'Hit rate'} ({defs.basis} basis)",
        caption=f"{defs.denominator}; 95% Wilson intervals; definitions {defs.hash}",
    )
    labels = [*result.by, *(["period"] if result.period else [])]
    for col in labels:
        t.add_column(col, no_wrap=True)
    for col in ("attempts", "hits", "hit rate", "95% interval", "value hit rate"):
        t.add_column(col, justify="right", no_wrap=True)

    def pct(v: float | None) -> str:
        return "–" if v is None else f"{v:.1%}"

    for rec in result.records():
        t.add_row(
            *("" if rec[c] is None else str(rec[c]) for c in labels),
            f"{rec['attempts']:,}",
            f"{rec['hits']:,}",
            pct(rec["hit_rate"]),
            f"{pct(rec['ci_low'])} – {pct(rec['ci_high'])}",
            pct(rec["value_hit_rate"]),
        )
    return t


# --------------------------------------------------------------------------------------------------------------
# benchmark
# --------------------------------------------------------------------------------------------------------------
@app.command("benchmark")
@user_errors
def benchmark_cmd(
    by: Annotated[str, typer.Option(help="The groups to compare (rep, team, segment...).", show_default=False)],
    within: Annotated[
        str | None,
        typer.Option(help="Fit the shrinkage prior per parent group (e.g. team when --by rep).", show_default=False),
    ] = None,
    adjust: Annotated[
        str | None,
        typer.Option(
            help="FIELD[,FIELD]: adjust for lead quality and mix over these fields (indirect standardisation); "
            "model: use the lead scores in the store as expected hits.",
            show_default=False,
        ),
    ] = None,
    basis: BasisOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    where: WhereOpt = None,
    fmt: Annotated[RatesFormat, typer.Option("--format", help="Output format.")] = RatesFormat.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
    definitions: DefsOpt = None,
) -> None:
    """Compare groups honestly: shrunk rates for small samples, funnel flags, adjustment for lead mix."""
    import warnings

    from hitrate.analysis.benchmark import benchmark

    fields = [f.strip() for f in (adjust or "").split(",") if f.strip()]
    with _source(db, engine, definitions) as (store, defs), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = benchmark(
            store,
            definitions=defs,
            by=by,
            within=within,
            adjust=fields,
            basis=basis.value if basis else None,
            date_from=date_from,
            date_to=date_to,
            where=_parse_where(where),
        )
    _warn(result.warnings)
    if fmt is RatesFormat.json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    elif fmt is RatesFormat.csv:
        _write_csv(result)
    else:
        _out().print(benchmark_table(result))


def _write_csv(result: RatesResult) -> None:
    import csv

    writer = csv.DictWriter(sys.stdout, fieldnames=list(result.columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(result.records())


def benchmark_table(result: Any) -> Any:
    """A Rich table of a benchmark: raw and shrunk rates with intervals, flag, and the adjustment if any."""
    from rich.table import Table as RichTable

    defs = result.definitions
    t = RichTable(
        title=f"Benchmark by {result.query['by']} ({defs.basis} basis)",
        caption=f"overall {result.query['overall_rate']:.1%}; shrunk = beta-binomial empirical Bayes; "
        f"flags at 5% false discovery rate; definitions {defs.hash}",
    )
    for col in result.by:
        t.add_column(col, no_wrap=True)
    heads = ["attempts", "hits", "hit rate (95%)", "shrunk (95%)", "flag"]
    if result.adjust:
        heads += ["expected", "quality (95%)", "adjusted"]
    for h in heads:
        t.add_column(h, justify="right", no_wrap=True)

    def pct(v: float | None) -> str:
        return "–" if v is None else f"{v:.1%}"

    for r in result.records():
        row = [
            *("" if r[c] is None else str(r[c]) for c in result.by),
            f"{r['attempts']:,}",
            f"{r['hits']:,}",
            f"{pct(r['hit_rate'])} ({pct(r['ci_low'])}–{pct(r['ci_high'])})",
            f"{pct(r['shrunk_rate'])} ({pct(r['shrunk_low'])}–{pct(r['shrunk_high'])})",
            {"above": "▲ above", "below": "▼ below"}.get(r["flag"], ""),
        ]
        if result.adjust:
            qi = r["quality_index"]
            row += [
                "–" if r["expected_hits"] is None else f"{r['expected_hits']:,.1f}",
                "–" if qi is None else f"{qi:.2f} ({r['quality_low']:.2f}–{r['quality_high']:.2f})",
                pct(r["adjusted_rate"]),
            ]
        t.add_row(*row)
    return t


@app.command("trend")
@user_errors
def trend_cmd(
    period: Annotated[Period, typer.Option(help="month or week.")] = Period.month,
    by: Annotated[str | None, typer.Option(help="One series per value of this field.", show_default=False)] = None,
    basis: BasisOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    where: WhereOpt = None,
    fmt: Annotated[RatesFormat, typer.Option("--format", help="Output format.")] = RatesFormat.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
    definitions: DefsOpt = None,
) -> None:
    """Hit rate over time: trend, seasonal factors, seasonally adjusted series, unusual periods, year over year."""
    from hitrate.analysis.trend import trend

    with _source(db, engine, definitions) as (store, defs):
        result = trend(
            store,
            definitions=defs,
            period=period.value,
            by=by,
            basis=basis.value if basis else None,
            date_from=date_from,
            date_to=date_to,
            where=_parse_where(where),
        )
    _warn(result.warnings)
    if fmt is RatesFormat.json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    elif fmt is RatesFormat.csv:
        _write_csv(result)
    else:
        _out().print(trend_table(result))


def trend_table(result: Any) -> Any:
    """Rich tables: the seasonal factors (odds and rate scale), then the series."""
    from rich.console import Group
    from rich.table import Table as RichTable

    parts: list[Any] = []
    for s in result.series:
        name = " ".join(str(s[f]) for f in result.by) or "all"
        if s["seasonal_factors"]:
            f = RichTable(title=f"Seasonal factors ({name}): odds multiplier, geometric mean 1")
            f.add_column("period of year")
            for h in ("factor", "95% interval", "effect on rate"):
                f.add_column(h, justify="right")
            for k, v in s["seasonal_factors"].items():
                lo, hi = s["seasonal_factor_low"][k], s["seasonal_factor_high"][k]
                eff = s["seasonal_rate_effect"][k]
                f.add_row(str(k), f"{v:.2f}", f"{lo:.2f}–{hi:.2f}", f"{eff:+.1%}")
            parts.append(f)
        if s["note"]:
            parts.append(f"[italic]{name}: {s['note']}[/]")
    t = RichTable(title=f"Hit rate by {result.period}", caption=f"definitions {result.definitions.hash}")
    for col in [*result.by, "period"]:
        t.add_column(col, no_wrap=True)
    for h in ("attempts", "hit rate (95%)", "trend", "seasonally adjusted", "unusual", "vs a year before"):
        t.add_column(h, justify="right", no_wrap=True)

    def pct(v: float | None) -> str:
        return "–" if v is None else f"{v:.1%}"

    for r in result.records():
        yoy = "" if r["yoy_difference"] is None else f"{r['yoy_difference']:+.1%}"
        t.add_row(
            *(str(r[c]) for c in [*result.by, "period"]),
            f"{r['attempts']:,}",
            f"{pct(r['hit_rate'])} ({pct(r['ci_low'])}–{pct(r['ci_high'])})",
            pct(r["trend"]),
            pct(r["adjusted_rate"]),
            r["unusual"] or "",
            yoy,
        )
    parts.append(t)
    return Group(*parts)


@app.command("compare")
@user_errors
def compare_cmd(
    a: Annotated[
        str, typer.Argument(help="First group value (with --by) or period label (with --period).", show_default=False)
    ],
    b: Annotated[str, typer.Argument(help="Second group value or period label.", show_default=False)],
    by: Annotated[str | None, typer.Option(help="The field whose two values are compared.", show_default=False)] = None,
    period: Annotated[
        Period | None, typer.Option(help="Compare two periods (labels like 2017-Q1, 2017-03).", show_default=False)
    ] = None,
    basis: BasisOpt = None,
    where: WhereOpt = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
    definitions: DefsOpt = None,
) -> None:
    """Difference in hit rate between two groups or two periods: Newcombe interval and p-value."""
    from hitrate.analysis.compare import compare

    with _source(db, engine, definitions) as (store, defs):
        result = compare(
            store,
            a,
            b,
            definitions=defs,
            by=by,
            period=period.value if period else None,
            basis=basis.value if basis else None,
            where=_parse_where(where),
        )
    if fmt is Format.json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        typer.echo(result.summary())


# --------------------------------------------------------------------------------------------------------------
# bets
# --------------------------------------------------------------------------------------------------------------
@app.command("bets")
@user_errors
def bets_cmd(
    strategy: Annotated[
        Strategy,
        typer.Option(help="favourite/underdog (lowest/highest odds), home/draw/away, or log (a bet log)."),
    ] = Strategy.favourite,
    by: Annotated[
        list[str] | None,
        typer.Option(
            help="Group by season, odds_band or any field (league, tipster, market...). Repeatable.", show_default=False
        ),
    ] = None,
    odds: Annotated[str, typer.Option(help="Bet log: the field with each bet's decimal odds.")] = "odds",
    stake: Annotated[str, typer.Option(help="Bet log: the field with each bet's stake (1 when absent).")] = "stake",
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
) -> None:
    """Hit rate of a betting strategy or bet log against the break-even rate its odds imply, yield and ROI."""
    from hitrate.domains.betting import bets

    with _source(db, engine, None) as (store, _defs):
        result = bets(store, strategy=strategy.value, by=by or [], odds=odds, stake=stake)
    _warn(result.warnings)
    if fmt is Format.json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    from rich.table import Table as RichTable

    t = RichTable(title=f"Bets: {result.strategy}", caption=result.method)
    heads = ["bets", "skipped", "hits", "hit rate", "95% interval", "break-even", "fair b/e", "yield", "p (> b/e)"]
    for col in [*result.by, *heads]:
        t.add_column(col, justify="left" if col in result.by else "right", no_wrap=True)

    def pct(v: Any) -> str:
        return "–" if v is None else f"{v:.1%}"

    for r in result.rows:
        t.add_row(
            *("–" if r[g] is None else str(r[g]) for g in result.by),
            f"{r['bets']:,}",
            f"{r['skipped']:,}",
            f"{r['hits']:,}",
            pct(r.get("hit_rate")),
            "–" if r.get("ci_low") is None else f"{pct(r['ci_low'])} – {pct(r['ci_high'])}",
            pct(r.get("break_even")),
            pct(r.get("break_even_fair")),
            pct(r.get("yield")),
            "–" if r.get("p_value") is None else f"{r['p_value']:.3f}",
        )
    _out().print(t)


# --------------------------------------------------------------------------------------------------------------
# slots
# --------------------------------------------------------------------------------------------------------------
def _emit_slots(stats: Any, fmt: Format) -> None:
    if fmt is Format.json:
        typer.echo(json.dumps(stats.to_dict(), ensure_ascii=False))
        return
    typer.echo(
        f"{stats.source}: hit frequency {stats.hit_frequency:.2%} ({stats.hits:,.0f} of {stats.outcomes:,.0f}), "
        f"payback {stats.payback:.2%}, volatility {stats.volatility:.2f} per spin (wager {stats.wager:g}; "
        f"{stats.method})"
    )


@slots_app.command("par")
@user_errors
def slots_par(
    file: Annotated[Path, typer.Argument(help="The PAR sheet's outcome table (CSV).", show_default=False)],
    wager: Annotated[float, typer.Option(help="Credits wagered per spin; the table's pays are at this wager.")] = 1.0,
    pay: Annotated[
        str | None, typer.Option(help="Pay column (default: max_pay_credits, pay...).", show_default=False)
    ] = None,
    count: Annotated[
        str | None,
        typer.Option(
            help="Count or probability column (default: num_hits, count..., probability).", show_default=False
        ),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """Theoretical hit frequency, payback and volatility from a PAR sheet's outcome table."""
    from hitrate.domains.slots import par_from_table

    _emit_slots(par_from_table(file, wager=wager, pay=pay, count=count), fmt)


@slots_app.command("reels")
@user_errors
def slots_reels(
    file: Annotated[
        Path, typer.Argument(help="Reel strips and paytable (YAML, see docs/gaming.md).", show_default=False)
    ],
    simulate: Annotated[int, typer.Option(help="Also simulate this many spins (seeded) to check.")] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the simulation.")] = 0,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """Exact hit frequency, payback and volatility of reel strips and a paytable, by enumerating every stop."""
    from hitrate.domains.slots import enumerate_machine, load_machine, simulated_stats

    machine = load_machine(file)
    stats = enumerate_machine(machine, str(file))
    if simulate > 0:
        stats.extra["simulation"] = simulated_stats(machine, simulate, seed=seed).to_dict()
    _emit_slots(stats, fmt)


@slots_app.command("spins")
@user_errors
def slots_spins(
    file: Annotated[Path, typer.Argument(help="Spin log (CSV or Parquet), one row per spin.", show_default=False)],
    win: Annotated[str, typer.Option(help="Column with the credits won per spin.")] = "win",
    wager: Annotated[str, typer.Option(help="Column with the credits wagered per spin (1 when absent).")] = "wager",
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """Observed hit frequency, return to player and volatility of a spin log, with intervals."""
    from hitrate.domains.slots import spin_log_stats

    _emit_slots(spin_log_stats(file, win=win, wager=wager), fmt)


# --------------------------------------------------------------------------------------------------------------
# score
# --------------------------------------------------------------------------------------------------------------
def _score_leads(
    files: list[Path] | None,
    preset: str | None,
    map_: list[str] | None,
    won: list[str] | None,
    lost: list[str] | None,
    db: Path | None,
    definitions: Path | None,
    engine: str | None = None,
) -> tuple[Any, Any]:
    """The leads a score command works on: the FILES read as import reads them, or the store's leads."""
    from hitrate.spec.model import default_definitions, load_definitions

    loaded = load_definitions(definitions) if definitions is not None else None
    if files:
        from hitrate.ingest import parse_map_flags
        from hitrate.scoring.training import read_leads

        leads = read_leads(files, preset=preset, mapping=parse_map_flags(map_), won=won, lost=lost)
        return leads, loaded or default_definitions()
    if preset or map_ or won or lost:
        from hitrate.errors import UserInputError

        raise UserInputError("--preset, --map, --won and --lost apply to FILES; none were given (store mode)")
    from hitrate.analysis.rates import resolve_definitions
    from hitrate.scoring.store_leads import read_store_leads

    with _source(db, engine, None) as (source, _):
        defs = resolve_definitions(source, loaded, None)
        return read_store_leads(source, defs), defs


ScoreFiles = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Lead files (CSV, .xlsx, .parquet), read as import reads them. None: the leads in the store, with "
        "account, rep, product and activity features.",
        show_default=False,
    ),
]
ScoreDefsOpt = Annotated[
    Path | None,
    typer.Option(
        "--definitions",
        envvar="HITRATE_DEFINITIONS",
        show_default=False,
        help="Definitions file (default: the store's in force, or the built-in ones for files): what counts, what "
        "is won; its post_outcome columns are never used.",
    ),
]
ModelOpt = Annotated[Path, typer.Option("--model", help="The model file.", show_default=False)]
PresetOpt = Annotated[str | None, typer.Option(help="Import preset for the files.", show_default=False)]
MapOpt = Annotated[
    list[str] | None, typer.Option("--map", help="FIELD=COLUMN, as in import. Repeatable.", show_default=False)
]
WonOpt = Annotated[list[str] | None, typer.Option(help="A stage value that means won. Repeatable.", show_default=False)]
LostOpt = Annotated[
    list[str] | None, typer.Option(help="A stage value that means lost. Repeatable.", show_default=False)
]


@score_app.command("train")
@user_errors
def score_train(
    model: ModelOpt,
    files: ScoreFiles = None,
    preset: PresetOpt = None,
    map_: MapOpt = None,
    won: WonOpt = None,
    lost: LostOpt = None,
    exclude: Annotated[
        list[str] | None, typer.Option(help="A column never to use as a feature. Repeatable.", show_default=False)
    ] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            help="A column to keep although the leakage guard would exclude it. Repeatable.", show_default=False
        ),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
    definitions: ScoreDefsOpt = None,
) -> None:
    """Train a lead-scoring model: leakage guard, gradient boosting with calibration, baselines, honest split."""
    from hitrate.scoring.training import train

    leads, defs = _score_leads(files, preset, map_, won, lost, db, definitions, engine)
    post = [c for c in defs.post_outcome if c in leads.features.columns]
    result = train(
        leads, model, exclude=exclude or [], allow=allow or [], post_outcome=post, definitions_hash=defs.hash
    )
    if fmt is Format.json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
        return
    out = _out()
    m = result.metrics
    out.print(
        f"Held-out ({result.split['method']}, {result.split['test']:,} leads): AUC {m['auc']:.3f}, "
        f"Brier {m['brier']:.3f}, log loss {m['log_loss']:.3f}",
        highlight=False,
    )
    for name, b in result.baselines.items():
        out.print(f"  baseline {name}: AUC {b['auc']:.3f}, Brier {b['brier']:.3f}", highlight=False)
    for e in result.excluded:
        out.print(f"excluded {e['feature']}: {e['reason']}", highlight=False)
    for w in result.warnings:
        out.print(f"[yellow]warning[/] {w['feature']}: {w['reason']}", highlight=False)
    out.print(f"Model written to {result.model_path}", highlight=False)


@score_app.command("evaluate")
@user_errors
def score_evaluate(
    model: ModelOpt,
    files: ScoreFiles = None,
    preset: PresetOpt = None,
    map_: MapOpt = None,
    won: WonOpt = None,
    lost: LostOpt = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
    definitions: ScoreDefsOpt = None,
) -> None:
    """Evaluate a saved model on decided leads: AUC, Brier, log loss, calibration, lift, top-k hit rates."""
    from hitrate.scoring.training import evaluate_model

    leads, _ = _score_leads(files, preset, map_, won, lost, db, definitions, engine)
    result = evaluate_model(leads, model)
    _warn(list(result.get("warnings", [])))
    if fmt is Format.json:
        typer.echo(json.dumps(result, ensure_ascii=False, default=str))
        return
    from rich.table import Table as RichTable

    out = _out()
    out.print(
        f"{result['leads']:,} decided leads: AUC {result['auc']:.3f}, Brier {result['brier']:.3f}, "
        f"log loss {result['log_loss']:.3f}",
        highlight=False,
    )
    t = RichTable(title="If reps work only the top k% of leads")
    for col in ("top", "leads", "hits", "hit rate", "lift"):
        t.add_column(col, justify="right")
    for row in result["top"]:
        t.add_row(
            f"{row['share']}%", f"{row['leads']:,}", f"{row['hits']:,}", f"{row['hit_rate']:.1%}", f"{row['lift']:.2f}"
        )
    out.print(t)


@score_app.command("explain")
@user_errors
def score_explain(
    model: ModelOpt,
    files: ScoreFiles = None,
    preset: PresetOpt = None,
    map_: MapOpt = None,
    won: WonOpt = None,
    lost: LostOpt = None,
    top: Annotated[int, typer.Option(help="Factors shown each way per lead.")] = 3,
    limit: Annotated[int, typer.Option(help="Leads shown in the table (JSON has all).")] = 20,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
    definitions: ScoreDefsOpt = None,
) -> None:
    """Why each lead scores as it does: the top factors up and down, and the model's global importance."""
    from hitrate.scoring.training import explain

    leads, _ = _score_leads(files, preset, map_, won, lost, db, definitions, engine)
    result = explain(leads, model, top=top)
    if fmt is Format.json:
        typer.echo(json.dumps(result, ensure_ascii=False, default=str))
        return
    from rich.table import Table as RichTable

    out = _out()
    g = RichTable(title="Global importance (drop in held-out AUC when shuffled)")
    g.add_column("feature")
    g.add_column("importance", justify="right")
    for name, value in sorted(result["importance"].items(), key=lambda kv: -kv[1])[:15]:
        g.add_row(name, f"{value:.3f}")
    out.print(g)
    t = RichTable(title=f"Top factors for the first {min(limit, len(result['leads']))} leads")
    for col in ("id", "probability", "pushes up", "pushes down"):
        t.add_column(col, overflow="fold")
    for row in result["leads"][:limit]:
        t.add_row(
            str(row["id"]),
            f"{row['probability']:.1%}",
            "; ".join(f"{f['feature']}={f['value']} ({f['effect']:+.1%})" for f in row["up"]),
            "; ".join(f"{f['feature']}={f['value']} ({f['effect']:+.1%})" for f in row["down"]),
        )
    out.print(t)


@score_app.command("predict")
@user_errors
def score_predict(
    model: ModelOpt,
    out: Annotated[
        Path, typer.Option("--out", help="Where to write the scores (.csv, .json or .parquet).", show_default=False)
    ],
    files: ScoreFiles = None,
    preset: PresetOpt = None,
    map_: MapOpt = None,
    won: WonOpt = None,
    lost: LostOpt = None,
    db: DbOpt = None,
    engine: EngineOpt = None,
    definitions: ScoreDefsOpt = None,
) -> None:
    """Score leads with a saved model: id, probability, band (A-D) and the top reasons, one row per lead.
    The scores are also kept in the store (table lead_scores) for the dashboard."""
    from hitrate.errors import UserInputError
    from hitrate.scoring.training import predict

    leads, _ = _score_leads(files, preset, map_, won, lost, db, definitions, engine)
    scores = predict(leads, model)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        scores.to_csv(out, index=False)
    elif suffix == ".json":
        scores.to_json(out, orient="records", force_ascii=False)
    elif suffix in (".parquet", ".pq"):
        scores.to_parquet(out, index=False)
    else:
        raise UserInputError(f"--out {out}: expected a .csv, .json or .parquet file")
    from hitrate.scoring.training import save_scores
    from hitrate.store.backends import is_embedded

    # Scores are kept in the embedded store: the --engine's when it is one, else --db.
    with _open(db, engine=engine if is_embedded(engine) else None) as store:
        save_scores(store, scores, model)
        where = store.path
    _err().print(f"{len(scores):,} leads scored into {out} and the store {where}", highlight=False)


@app.command("funnel")
@user_errors
def funnel_cmd(
    by: Annotated[str | None, typer.Option(help="One funnel per value of this field.", show_default=False)] = None,
    stages: Annotated[
        str | None,
        typer.Option(
            help="STAGE[,STAGE...]: the open stages in pipeline order (default: inferred).", show_default=False
        ),
    ] = None,
    where: WhereOpt = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
    definitions: DefsOpt = None,
) -> None:
    """Stage funnel from stage history: reached, conversion to the next stage, win rate from each stage,
    where deals are lost, days in stage."""
    from hitrate.analysis.funnel import stage_funnel

    order = [x.strip() for x in stages.split(",") if x.strip()] if stages else None
    with _source(db, engine, definitions) as (store, defs):
        result = stage_funnel(store, by=by, stages=order, definitions=defs, where=_parse_where(where))
    _warn(result.warnings)
    if fmt is Format.json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
        return
    from rich.table import Table as RichTable

    t = RichTable(title="Stage funnel" + (f" by {by}" if by else ""))
    for col in ([by] if by else []) + [
        "stage",
        "reached",
        "to next (95%)",
        "win rate from here (95%)",
        "lost here",
        "median days",
    ]:
        t.add_column(col, justify="left" if col in (by, "stage") else "right")
    for r in result.rows:
        conv = (
            ""
            if r["conversion"] is None
            else f"{r['conversion']:.1%} ({r['conversion_low']:.1%}-{r['conversion_high']:.1%})"
        )
        win = "" if r["win_rate"] is None else f"{r['win_rate']:.1%} ({r['win_rate_low']:.1%}-{r['win_rate_high']:.1%})"
        days = "" if r["median_days"] is None else f"{r['median_days']:.1f}"
        t.add_row(
            *([str(r[by])] if by else []), r["stage"], f"{r['reached']:,}", conv, win, f"{r['lost_here']:,}", days
        )
    _out().print(t)


@app.command("ramp")
@user_errors
def ramp_cmd(
    tenured_after: Annotated[
        int, typer.Option("--tenured-after", help="Days after hire from which a rep counts as tenured.")
    ] = 365,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
    definitions: DefsOpt = None,
) -> None:
    """Onboarding: hit rate by month since hire per hiring cohort against tenured reps, and how long new
    reps take to reach the team's level (fitted ramp with intervals)."""
    from hitrate.analysis.ramp import ramp

    with _source(db, engine, definitions) as (store, defs):
        result = ramp(store, tenured_after_days=tenured_after, definitions=defs)
    _warn(result.warnings)
    if fmt is Format.json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
        return
    out = _out()
    ten = result.tenured
    if ten["hit_rate"] is not None:
        out.print(
            f"Tenured reps: {ten['hit_rate']:.1%} ({ten['ci_low']:.1%}-{ten['ci_high']:.1%}) of "
            f"{ten['attempts']:,} decided deals",
            highlight=False,
        )
    f = result.fit
    if f is not None:
        high = "unbounded" if f["days_to_90_high"] is None else f"{f['days_to_90_high']:.0f}"
        out.print(
            f"New hires start {f['depth']:.2f} ({f['depth_low']:.2f}-{f['depth_high']:.2f}) below on the logit "
            f"scale; 90% of the gap is gone after {f['days_to_90']:.0f} days ({f['days_to_90_low']:.0f}-{high}), "
            f"about {f['months_to_90']:.1f} months",
            highlight=False,
        )
    from rich.table import Table as RichTable

    t = RichTable(title="Hit rate by month since hire, per hiring cohort")
    for col in ("cohort", "month", "reps", "deals", "hit rate (95%)"):
        t.add_column(col, justify="left" if col == "cohort" else "right")
    for r in result.curves:
        t.add_row(
            r["cohort"], str(r["month"]), str(r["reps"]), f"{r['attempts']:,}",
            f"{r['hit_rate']:.1%} ({r['ci_low']:.1%}-{r['ci_high']:.1%})",
        )  # fmt: skip
    out.print(t)


@app.command("coach")
@user_errors
def coach_cmd(
    rep: Annotated[str, typer.Argument(help="The rep, by name as in the data.", show_default=False)],
    peers_by: Annotated[
        str,
        typer.Option(
            "--peers-by", help="Peers are the other reps with the rep's value of this field; 'none': all other reps."
        ),
    ] = "team",
    period: Annotated[Period, typer.Option(help="Periods of the trend.")] = Period.quarter,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Also write the card as a self-contained HTML file.", show_default=False),
    ] = None,
    lang: Annotated[Lang, typer.Option(help="Language of the HTML file: en or da.")] = Lang.en,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
    definitions: DefsOpt = None,
) -> None:
    """The rep card: hit rate against peers with intervals, quality index, trend, stage-by-stage conversion
    (the weak stage), activity mix against the team's best, strongest and weakest segments and lead sources."""
    import warnings

    from hitrate.improve.coach import rep_card

    with _source(db, engine, definitions) as (store, defs), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        card = rep_card(
            store,
            rep,
            peers_by=None if peers_by.lower() == "none" else peers_by,
            period=period.value,
            definitions=defs,
        )
    _warn(card.warnings)
    if html is not None:
        from hitrate.improve.coach_card import write_card

        path = write_card(card, html, lang=lang.value, period=period.value)
        _err().print(f"Rep card written to {path}.", highlight=False)
    if fmt is Format.json:
        typer.echo(json.dumps(card.to_dict(), ensure_ascii=False))
        return
    _print_card(card)


def _print_card(card: Any) -> None:
    """The card as its statements and three tables (stages, activities, segments)."""
    from rich.table import Table as RichTable

    out = _out()
    team = f" ({card.team})" if card.team else ""
    out.print(f"[bold]Rep card: {card.rep}{team}[/]", highlight=False)
    for line in card.statements:
        out.print(f"• {line}", highlight=False)

    def pct(v: float | None) -> str:
        return "–" if v is None else f"{v:.1%}"

    def conv(r: dict[str, Any]) -> str:
        interval = f"{pct(r['conversion_low'])}-{pct(r['conversion_high'])}"
        return f"{r['advanced']:,}/{r['reached']:,} {pct(r['conversion'])} ({interval})"

    if card.stages:
        t = RichTable(title="Conversion to the next stage: rep against peers", caption=card.method["stages"])
        for col in ("stage", "to", "rep (95%)", "peers (95%)", "difference (95%)", "lost here", "shrunk log OR"):
            t.add_column(col, justify="left" if col in ("stage", "to") else "right")
        for r in card.stages:
            weak = card.weak_stage is not None and r["stage"] == card.weak_stage["stage"]
            t.add_row(
                r["stage"] + (" ◀ weak" if weak else ""),
                r["to"],
                conv(r),
                conv(r["peers"]),
                "–"
                if r["difference"] is None
                else f"{100 * r['difference']:+.1f} "
                f"({100 * r['difference_low']:+.1f} to {100 * r['difference_high']:+.1f})",
                f"{r['lost_here']:,}",
                f"{r['shrunk_log_odds_ratio']:+.2f}",
            )
        out.print(t)
    if card.activities:
        t = RichTable(title="Activities per decided opportunity", caption=f"team's best: {', '.join(card.best)}")
        for col in ("type", "rep (95%)", "peers", "team's best (95%)"):
            t.add_column(col, justify="left" if col == "type" else "right")

        def per(x: dict[str, Any], ci: bool = True) -> str:
            if x["per_opportunity"] is None:
                return "–"
            return f"{x['per_opportunity']:.2f}" + (f" ({x['low']:.2f}-{x['high']:.2f})" if ci else "")

        for r in card.activities:
            t.add_row(r["type"], per(r["rep"]), per(r["peers"], False), per(r["best"]))
        out.print(t)
    for f, rows in card.segments.items():
        t = RichTable(title=f"Hit rate by {f}: rep against peers")
        for col in (f, "rep (95%)", "peers (95%)", "difference (95%)"):
            t.add_column(col, justify="left" if col == f else "right")
        for r in rows:
            t.add_row(
                str(r[f]),
                f"{r['hits']:,}/{r['attempts']:,} {pct(r['hit_rate'])} ({pct(r['ci_low'])}-{pct(r['ci_high'])})",
                f"{r['peers']['hits']:,}/{r['peers']['attempts']:,} {pct(r['peers']['hit_rate'])}",
                "–"
                if r["difference"] is None
                else f"{100 * r['difference']:+.1f} "
                f"({100 * r['difference_low']:+.1f} to {100 * r['difference_high']:+.1f})",
            )
        out.print(t)


@app.command("worth")
@user_errors
def worth_cmd(
    points: Annotated[float, typer.Option(help="Percentage points of hit rate to value, e.g. 5.", show_default=False)],
    by: Annotated[str | None, typer.Option(help="One row per value of this field.", show_default=False)] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
    definitions: DefsOpt = None,
) -> None:
    """What +X points of hit rate are worth: extra won deals and revenue, on this volume and on the open pipeline."""
    from hitrate.analysis.worth import ASSUMPTION, worth

    with _source(db, engine, definitions) as (store, defs):
        result = worth(store, points=points, by=by, definitions=defs)
    _warn(result.warnings)
    if fmt is Format.json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
        return
    from rich.table import Table as RichTable

    t = RichTable(title=f"+{points:g} points of hit rate", caption=f"Assumption: {ASSUMPTION}.")
    cols = [*([by] if by else []), "decided", "hit rate", "extra wins", "extra revenue (95%)", "open", "pipeline +"]
    for col in cols:
        t.add_column(col, justify="left" if col == by else "right")
    for r in result.rows:
        rev = "" if r["extra_revenue"] is None else f"{r['extra_revenue']:,.0f}"
        if r["extra_revenue_low"] is not None:
            rev += f" ({r['extra_revenue_low']:,.0f}-{r['extra_revenue_high']:,.0f})"
        t.add_row(
            *([str(r[by])] if by else []),
            f"{r['decided']:,}",
            "" if r["hit_rate"] is None else f"{r['hit_rate']:.1%} -> {r['new_hit_rate']:.1%}",
            f"{r['extra_wins']:,.1f}",
            rev,
            f"{r['open']:,}",
            ""
            if r["pipeline_extra_revenue"] is None
            else f"{r['pipeline_extra_wins']:,.1f} wins, {r['pipeline_extra_revenue']:,.0f}",
        )
    _out().print(t)


# --------------------------------------------------------------------------------------------------------------
# experiment
# --------------------------------------------------------------------------------------------------------------
@experiment_app.command("plan")
@user_errors
def experiment_plan(
    baseline: Annotated[float, typer.Option(help="Today's rate at the step, e.g. 0.20.", show_default=False)],
    lift: Annotated[
        float, typer.Option(help="Absolute change to detect, e.g. 0.05 for 20% -> 25%.", show_default=False)
    ],
    power: Annotated[float, typer.Option(help="Chance of detecting the lift if it is real.")] = 0.8,
    alpha: Annotated[float, typer.Option(help="Two-sided significance level.")] = 0.05,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """Sample size per variant for an A/B test: two-sided test, Cohen's h, normal approximation."""
    from hitrate.improve.experiments import plan

    result = plan(baseline, lift, power=power, alpha=alpha)
    if fmt is Format.json:
        typer.echo(json.dumps(result))
        return
    typer.echo(
        f"{result['n_per_variant']:,} per variant ({result['n_total']:,} in all) to detect "
        f"{baseline:.1%} -> {result['target']:.1%} with power {power:.0%} at alpha {alpha:g} "
        f"(Cohen's h {result['effect_size_h']:.3f}; {result['method']})"
    )


@experiment_app.command("compare")
@user_errors
def experiment_compare(
    by: Annotated[str, typer.Option(help="The activity field whose values are the arms.")] = "variant",
    step: Annotated[str, typer.Option(help="Funnel step: response, meeting, opportunity or won.")] = "response",
    campaign: Annotated[str | None, typer.Option(help="Only this campaign's touches.", show_default=False)] = None,
    type_: Annotated[
        list[str] | None,
        typer.Option("--type", help="Activity types that count as touches (default email, call). Repeatable."),
    ] = None,
    control: Annotated[
        str | None, typer.Option(help="The arm the others are compared with (default: the first).", show_default=False)
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
    definitions: DefsOpt = None,
) -> None:
    """Compare variants on a funnel step: difference with interval, p-value, probability to beat the control."""
    from hitrate.improve.experiments import DEFAULT_TYPES, experiment

    with _source(db, engine, definitions) as (store, defs):
        result = experiment(
            store,
            by=by,
            step=step,
            campaign=campaign,
            types=type_ or DEFAULT_TYPES,
            control=control,
            definitions=defs,
        )
    _warn(result.warnings)
    if fmt is Format.json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    from rich.table import Table as RichTable

    t = RichTable(title=f"{step} by {by}" + (f", campaign {campaign}" if campaign else ""))
    for col in (by, "touches", "hits", "rate (95%)", f"vs {result.control} (95%)", "p", "P(beat)", "P(best)"):
        t.add_column(col, justify="left" if col == by else "right")
    for r in result.rows:
        diff = "control" if r["control"] else f"{r['difference']:+.1%} ({r['diff_low']:+.1%} to {r['diff_high']:+.1%})"
        t.add_row(
            str(r[by]),
            f"{r['attempts']:,}",
            f"{r['hits']:,}",
            f"{r['rate']:.1%} ({r['ci_low']:.1%}-{r['ci_high']:.1%})",
            diff,
            "" if r["p_value"] is None else f"{r['p_value']:.3g}",
            "" if r["prob_beat"] is None else f"{r['prob_beat']:.1%}",
            f"{r['prob_best']:.1%}",
        )
    _out().print(t)


@app.command("outreach")
@user_errors
def outreach_cmd(
    by: Annotated[
        list[str] | None,
        typer.Option(
            help="Activity field(s) to group by (funnel: repeatable, e.g. campaign, variant, segment); the field "
            "ranked (sequences, default sequence) or split (personalisation, default segment).",
            show_default=False,
        ),
    ] = None,
    campaign: Annotated[str | None, typer.Option(help="Only this campaign's touches.", show_default=False)] = None,
    view: Annotated[
        OutreachView, typer.Option(help="funnel, sequences (ranked with shrinkage) or personalisation (lift table).")
    ] = OutreachView.funnel,
    step: Annotated[
        str,
        typer.Option(help="Step the sequences and personalisation views rate: response, meeting, opportunity, won."),
    ] = "response",
    type_: Annotated[
        list[str] | None,
        typer.Option("--type", help="Activity types that count as touches (default email, call). Repeatable."),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
    definitions: DefsOpt = None,
) -> None:
    """Outreach funnel: leads from touch to reply, meeting, opportunity and won per campaign, variant or segment;
    sequences ranked with shrinkage; the segment x personalisation lift table."""
    from hitrate.errors import UserInputError
    from hitrate.improve import outreach

    types = tuple(type_ or outreach.DEFAULT_TYPES)
    fields = list(by or [])
    if view is not OutreachView.funnel and len(fields) > 1:
        raise UserInputError(f"--by: the {view.value} view takes one field; got {', '.join(fields)}")
    result: Any
    with _source(db, engine, definitions) as (store, defs):
        common: dict[str, Any] = {"campaign": campaign, "types": types, "definitions": defs}
        if view is OutreachView.funnel:
            result = outreach.funnel(store, by=fields, **common)
        elif view is OutreachView.sequences:
            result = outreach.rank_sequences(store, by=fields[0] if fields else "sequence", step=step, **common)
        else:
            result = outreach.personalisation_lift(store, by=fields[0] if fields else "segment", step=step, **common)
    _warn(result.warnings)
    if fmt is Format.json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    render = {
        OutreachView.funnel: _outreach_funnel_table,
        OutreachView.sequences: _outreach_sequences_table,
        OutreachView.personalisation: _outreach_lift_table,
    }[view]
    _out().print(render(result, campaign))


def _ci(rate: float | None, low: float | None, high: float | None) -> str:
    return "" if rate is None else f"{rate:.1%} ({low:.1%}-{high:.1%})"


def _outreach_funnel_table(result: Any, campaign: str | None) -> Any:
    from rich.table import Table as RichTable

    t = RichTable(
        title="Outreach funnel (leads)"
        + (f" by {', '.join(result.by)}" if result.by else "")
        + (f", campaign {campaign}" if campaign else "")
    )
    for col in [*result.by, "step", "leads", "from previous (95%)", "from touched (95%)"]:
        t.add_column(col, justify="left" if col in (*result.by, "step") else "right")
    for r in result.rows:
        t.add_row(
            *[str(r[k]) for k in result.by],
            r["step"] + (f" ({r['touches']:,} touches)" if r["step"] == "touched" else ""),
            f"{r['leads']:,}",
            _ci(r["from_previous"], r["previous_low"], r["previous_high"]),
            _ci(r["from_first"], r["first_low"], r["first_high"]),
        )
    return t


def _outreach_sequences_table(result: Any, campaign: str | None) -> Any:
    from rich.table import Table as RichTable

    t = RichTable(
        title=f"{result.by} ranked by {result.step} rate, shrunk" + (f", campaign {campaign}" if campaign else "")
    )
    for col in ("rank", result.by, "touches", "hits", "raw rate (95%)", "raw rank", "shrunk rate (95%)"):
        t.add_column(col, justify="left" if col == result.by else "right")
    for r in result.rows:
        t.add_row(
            str(r["rank"]),
            str(r[result.by]),
            f"{r['attempts']:,}",
            f"{r['hits']:,}",
            _ci(r["rate"], r["ci_low"], r["ci_high"]),
            str(r["raw_rank"]),
            _ci(r["shrunk"], r["shrunk_low"], r["shrunk_high"]),
        )
    return t


def _outreach_lift_table(result: Any, campaign: str | None) -> Any:
    from rich.table import Table as RichTable

    t = RichTable(
        title=f"{result.step} rate, personalised vs not, by {result.by}"
        + (f", campaign {campaign}" if campaign else "")
    )
    for col in (result.by, "personalised (95%)", "n yes", "not (95%)", "n no", "lift (95%)", "p", "q (BH)"):
        t.add_column(col, justify="left" if col == result.by else "right")
    for r in result.rows:
        lift = "" if r["lift"] is None else f"{r['lift']:+.1%} ({r['lift_low']:+.1%} to {r['lift_high']:+.1%})"
        t.add_row(
            str(r[result.by]),
            _ci(r["rate_yes"], r["yes_low"], r["yes_high"]),
            f"{r['attempts_yes']:,}",
            _ci(r["rate_no"], r["no_low"], r["no_high"]),
            f"{r['attempts_no']:,}",
            lift,
            "" if r["p_value"] is None else f"{r['p_value']:.3g}",
            "" if r["q_value"] is None else f"{r['q_value']:.3g}" + (" *" if r["significant"] else ""),
        )
    return t


# --------------------------------------------------------------------------------------------------------------
# demo and report
# --------------------------------------------------------------------------------------------------------------
@app.command("demo")
@user_errors
def demo_cmd(
    seed: Annotated[int, typer.Option(help="Seed of the synthetic generator.")] = 7,
    n: Annotated[int, typer.Option("--n", help="Number of synthetic opportunities.")] = 20_000,
    force: Annotated[bool, typer.Option("--force", help="Replace a store that holds imported data.")] = False,
    report: Annotated[Path, typer.Option(help="Where to write the HTML report.")] = Path("hitrate-report.html"),
    db: DbOpt = None,
    engine: EngineOpt = None,
) -> None:
    """Build a demo store from the synthetic generator, print hit rate by team, write the HTML report."""
    from hitrate.analysis.report import write_store_report
    from hitrate.synth.demo import build_demo

    started = time.monotonic()
    err = _err()
    with _open(db, engine=engine) as store:
        build_demo(store, seed=seed, n_opportunities=n, force=force)
        err.print(f"Built the demo store in {store.path} (seed {seed}, {n:,} opportunities).", highlight=False)
        import warnings

        from hitrate.analysis.rates import rates

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = rates(store, by=["team"])
        _out().print(rates_table(result, title="Hit rate by team (synthetic demo data)"))
        path = write_store_report(store, report, title="hitrate demo report")
    err.print(f"Report written to {path} ({time.monotonic() - started:.1f} s in all).", highlight=False)


@app.command("report")
@user_errors
def report_cmd(
    output: Annotated[Path, typer.Option(help="Where to write the HTML report.")] = Path("hitrate-report.html"),
    lang: Annotated[Lang, typer.Option(help="Language of the report: en (English) or da (Danish).")] = Lang.en,
    db: DbOpt = None,
    engine: EngineOpt = None,
    definitions: DefsOpt = None,
) -> None:
    """Write a self-contained HTML report (by team, by rep, monthly trend) that opens offline."""
    from hitrate.analysis.report import write_store_report

    with _source(db, engine, definitions) as (store, defs):
        path = write_store_report(store, output, lang=lang.value, definitions=defs)
    _err().print(f"Report written to {path}.", highlight=False)


# --------------------------------------------------------------------------------------------------------------
# web: serve and users
# --------------------------------------------------------------------------------------------------------------
class Role(str, Enum):
    admin = "admin"
    manager = "manager"
    rep = "rep"


@users_app.command("add")
@user_errors
def users_add(
    name: Annotated[str, typer.Argument(help="The user name (letters, digits, _ . @ -).", show_default=False)],
    role: Annotated[
        Role, typer.Option(help="admin: everything; manager: their teams; rep: their own rows.", show_default=False)
    ],
    team: Annotated[
        list[str] | None, typer.Option(help="A team a manager manages. Repeatable.", show_default=False)
    ] = None,
    rep: Annotated[
        str | None, typer.Option(help="The rep (as in the data) a rep account is.", show_default=False)
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (first line).")
    ] = False,
    db: DbOpt = None,
) -> None:
    """Add (or replace) an account. Without --password-stdin it is token-only (API), and it never prompts."""
    from hitrate.errors import UserInputError
    from hitrate.store.users import add_user

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UserInputError("--password-stdin: standard input held no password")
    with _open(db) as store:
        user = add_user(store, name, role.value, teams=team or [], rep=rep, password=password)
    scope = {"admin": "everything", "manager": f"teams {', '.join(user.teams)}", "rep": f"rep {user.rep}"}[user.role]
    login = "password and API tokens" if password else "API tokens only (hitrate users token NAME)"
    _err().print(f"user {user.name}: {user.role}, sees {scope}; signs in with {login}", highlight=False)


@users_app.command("token")
@user_errors
def users_token(
    name: Annotated[str, typer.Argument(help="The user to make a token for.", show_default=False)],
    db: DbOpt = None,
) -> None:
    """Make a new API token for a user and print it (last line); only its hash is kept."""
    from hitrate.store.users import new_token

    with _open(db) as store:
        token = new_token(store, name)
    _err().print(f"a new API token for {name}; send it as 'Authorization: Bearer <token>':", highlight=False)
    typer.echo(token)


@app.command("serve")
@user_errors
def serve_cmd(
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.")] = 8000,
    db: DbOpt = None,
) -> None:
    """Serve the web dashboard and REST API (OpenAPI at /docs) over the store; CLI imports may run beside it."""
    try:
        import uvicorn

        from hitrate.web import create_app
    except ImportError as exc:
        from hitrate.errors import UserInputError

        raise UserInputError(f"hitrate serve needs the web extra: pip install 'hitrate[web]' ({exc})") from None
    uvicorn.run(create_app(db), host=host, port=port, log_level="info")


from hitrate.cli.improve import register as _register_improve  # noqa: E402  (it imports this module's helpers)

_register_improve(app)


def main() -> None:
    """Entry point of the ``hitrate`` console script."""
    app()
