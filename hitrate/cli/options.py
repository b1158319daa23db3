"""The options many commands share (``--db``, ``--engine``, ``--definitions``, ``--format``, ``--where``...), their
choices, and what they open: the store, or another engine's data with the definitions for the run.

Help texts come from the catalogue (``cli_help.option.*``); heavy libraries are imported only when a command
opens its data.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hitrate.cli.output import check_output, text, user_errors

if TYPE_CHECKING:
    from hitrate.store.embedded import Store


#: The choices of options; each value is what the user types.
Format = Enum("Format", [("table", "table"), ("json", "json")], type=str)
#: The formats of a command that shows tables: on stdout, or in the ``--output`` file (an Excel workbook needs one).
TableFormat = Enum(
    "TableFormat", [("table", "table"), ("json", "json"), ("csv", "csv"), ("xlsx", "xlsx")], type=str
)  # fmt: skip
Period = Enum("Period", [("week", "week"), ("month", "month"), ("quarter", "quarter"), ("year", "year")], type=str)
Basis = Enum("Basis", [("closed", "closed"), ("cohort", "cohort")], type=str)
Strategy = Enum(
    "Strategy",
    [("auto", "auto"), ("favourite", "favourite"), ("underdog", "underdog"), ("home", "home"), ("draw", "draw"),
     ("away", "away"), ("log", "log")],
    type=str,
)  # fmt: skip
OutreachView = Enum(
    "OutreachView", [("funnel", "funnel"), ("sequences", "sequences"), ("personalisation", "personalisation")], type=str
)
OddsFormat = Enum(
    "OddsFormat",
    [("auto", "auto"), ("decimal", "decimal"), ("fractional", "fractional"), ("american", "american")],
    type=str,
)
Lang = Enum("Lang", [("en", "en"), ("da", "da")], type=str)
Table = Enum(
    "Table",
    [("opportunities", "opportunities"), ("reps", "reps"), ("accounts", "accounts"), ("products", "products"),
     ("stage_history", "stage_history"), ("activities", "activities")],
    type=str,
)  # fmt: skip
Role = Enum("Role", [("admin", "admin"), ("manager", "manager"), ("rep", "rep")], type=str)


def option(*names: str, help: str, show_default: bool = True, **kwargs: Any) -> Any:
    """A Typer option; ``help`` is a message id of the catalogue."""
    return typer.Option(*names, help=text(help), show_default=show_default, **kwargs)


def argument(help: str, show_default: bool = True, **kwargs: Any) -> Any:
    """A Typer argument; ``help`` is a message id of the catalogue."""
    return typer.Argument(help=text(help), show_default=show_default, **kwargs)


DbOpt = Annotated[Path | None, option("--db", envvar="HITRATE_DB", help="cli_help.option.db", show_default=False)]
EngineOpt = Annotated[
    str | None, option("--engine", envvar="HITRATE_ENGINE", help="cli_help.option.engine", show_default=False)
]
BasisOpt = Annotated[Basis | None, option(help="cli_help.option.basis", show_default=False)]
FromOpt = Annotated[str | None, option("--from", help="cli_help.option.from", show_default=False)]
ToOpt = Annotated[str | None, option("--to", help="cli_help.option.to", show_default=False)]
WhereOpt = Annotated[list[str] | None, option(help="cli_help.option.where", show_default=False)]
DefsOpt = Annotated[
    Path | None,
    option("--definitions", envvar="HITRATE_DEFINITIONS", help="cli_help.option.definitions", show_default=False),
]
FormatOpt = Annotated[Format, option("--format", help="cli_help.option.format")]
TableFormatOpt = Annotated[TableFormat, option("--format", help="cli_help.option.table_format")]
OutputOpt = Annotated[Path | None, option("--output", help="cli_help.option.output", show_default=False)]


def alias(name: str, kind: Any = Path | None) -> Any:
    """A hidden option ``name`` (``--out``): an older spelling of an option, kept so that scripts keep working."""
    return Annotated[kind, typer.Option(name, hidden=True, show_default=False)]


#: The older spellings of ``--output``: ``score predict --out``, ``demo --report``, ``coach --html``.
OutAliasOpt = alias("--out")
ReportAliasOpt = alias("--report")
HtmlAliasOpt = alias("--html")


def one_of(output: Path | None, old: Path | None, old_name: str) -> Path | None:
    """The file of ``--output`` or of its older spelling ``old_name``; both given is a user error."""
    if output is not None and old is not None:
        from hitrate.errors import UserInputError

        raise UserInputError("cli.output_twice", old=old_name)
    return output if output is not None else old


TypesOpt = Annotated[list[str] | None, option("--type", help="cli_help.option.types")]
CampaignOpt = Annotated[str | None, option(help="cli_help.option.campaign", show_default=False)]


def value_of(choice: Enum | None) -> Any:
    """The value of an optional choice (None when not given)."""
    return choice.value if choice is not None else None


def parse_where(items: list[str] | None) -> dict[str, list[str]]:
    """``--where FIELD=VALUE`` options as the library takes them."""
    from hitrate.engine.query import parse_where as parse

    return parse(items, "--where")


def split_list(value: str | None) -> list[str]:
    """``A,B, C`` -> ``["A", "B", "C"]`` (empty parts left out)."""
    return [x.strip() for x in (value or "").split(",") if x.strip()]


# -- the data a command works on ------------------------------------------------------------------------------


def open_store(
    db: Path | None, definitions: Path | None = None, engine: str | None = None, *, create: bool = False
) -> Store:
    """The embedded store (``--db``, or a ``duckdb://`` ``--engine``), with ``definitions`` put in force.

    Only commands that write (``create``: import, demo, users, goals, interventions, feedback) make a new
    store; the others refuse a store that is not there, so a mistyped ``--db`` is said, not created."""
    from hitrate.store.embedded import Store

    store = Store(store_path(db, engine), create=create)
    if definitions is not None:
        from hitrate.engine.definitions import use_definitions

        use_definitions(store, definitions)
    return store


def store_path(db: Path | None, engine: str | None) -> Path | None:
    """The store file: ``--db``, or the path of a ``duckdb://`` engine (both given must agree). Commands
    that write (import, demo, quarantine, definitions) need the embedded store."""
    if engine is None:
        return db
    from hitrate.errors import UserInputError
    from hitrate.store.backends import duckdb_path, is_embedded, redact

    if not is_embedded(engine):
        raise UserInputError("cli.engine_not_embedded", engine=redact(engine))
    path = duckdb_path(engine)
    if db is not None and Path(db).resolve() != path.resolve():
        raise UserInputError("cli.db_and_engine_differ", db=str(db), engine=engine)
    return path


@contextlib.contextmanager
def source(db: Path | None, engine: str | None, definitions: Path | None) -> Iterator[tuple[Any, Any]]:
    """What a reading command works on: ``(source, definitions)``. The embedded store with a definitions
    file put in force (``definitions`` None: the store's in force), or another engine's Ibis backend with
    the file's definitions for this run (None: the built-in ones). The command speaks in the words of the
    definitions' unit (:func:`hitrate.i18n.unit_words`: sessions and conversions for web sessions)."""
    from hitrate.i18n import unit_words
    from hitrate.spec.model import default_definitions, load_definitions
    from hitrate.store.backends import close, connect, is_embedded

    if is_embedded(engine):
        from hitrate.engine.definitions import definitions_in_force

        with open_store(db, definitions, engine) as store, unit_words(definitions_in_force(store).denominator):
            yield store, None
        return
    assert engine is not None
    defs = load_definitions(definitions) if definitions is not None else None
    data = connect(engine)
    try:
        with unit_words((defs or default_definitions()).denominator):
            yield data, defs
    finally:
        close(data)


def shared_options(
    opener: Callable[..., AbstractContextManager[tuple[Any, Any]]],
    front: Sequence[tuple[str, Any]] = (),
    back: Sequence[tuple[str, Any]] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator giving commands the same options and what they open (and :func:`user_errors`).

    The command's signature becomes: its own required parameters, ``front``, its own optional parameters,
    ``back`` (each a ``(name, Annotated type)`` with default None; ``--help`` lists them in that order). The
    command is called with the two values ``opener(**shared options)`` yields, then its own arguments (and the
    shared options it names among its parameters).
    """
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD

    def shared(items: Sequence[tuple[str, Any]]) -> list[inspect.Parameter]:
        return [inspect.Parameter(name, kind, default=None, annotation=hint) for name, hint in items]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        names = [name for name, _ in (*front, *back)]
        own = list(inspect.signature(command, eval_str=True).parameters.values())[2:]
        wanted = [p.name for p in own if p.name in names]  # shared options the command reads itself too
        own = [p for p in own if p.name not in names]
        required = [p for p in own if p.default is inspect.Parameter.empty]
        optional = [p for p in own if p.default is not inspect.Parameter.empty]
        params = required + shared(front) + optional + shared(back)

        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            # a group's own command (forecast) called before its subcommand (forecast backtest): open nothing; the
            # context is Typer's click Context, which typer.Context subclasses, so it is known by its attribute
            if any(getattr(v, "invoked_subcommand", None) is not None for v in (*args, *kwargs.values())):
                return None
            given = {name: kwargs.pop(name, None) for name in names}
            # a workbook without its file is said before the data are opened and counted
            check_output(kwargs.get("fmt"), kwargs.get("output") or kwargs.get("out"))
            with opener(**given) as (first, second):
                return command(first, second, *args, **kwargs, **{name: given[name] for name in wanted})

        run.__signature__ = inspect.Signature(params, return_annotation=None)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params}
        return user_errors(run)

    return decorate


#: A command that reads the data: it takes ``--db``, ``--engine`` and ``--definitions`` after its own options, and
#: is called with what they name (see :func:`source`) as its first two arguments, ``data`` and ``defs``.
reads = shared_options(source, back=[("db", DbOpt), ("engine", EngineOpt), ("definitions", DefsOpt)])


def library_options(**options: Any) -> dict[str, Any]:
    """Options as the library takes them: a choice as its value, ``--where`` as a mapping of fields to values."""
    out: dict[str, Any] = {}
    for name, value in options.items():
        out[name] = parse_where(value) if name == "where" else value_of(value) if isinstance(value, Enum) else value
    return out


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Python warnings silenced: the command prints the result's own warnings once, on stderr."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
