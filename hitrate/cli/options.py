"""The options many commands share (``--db``, ``--engine``, ``--definitions``, ``--format``, ``--where``...), their
choices, and what they open: the store, or another engine's data with the definitions for the run.

Help texts come from the catalogue (``cli_help.option.*``); heavy libraries are imported only when a command
opens its data.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hitrate.cli.output import text

if TYPE_CHECKING:
    from hitrate.store.embedded import Store


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


class Role(str, Enum):
    admin = "admin"
    manager = "manager"
    rep = "rep"


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
RatesFormatOpt = Annotated[RatesFormat, option("--format", help="cli_help.option.format")]
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


def open_store(db: Path | None, definitions: Path | None = None, engine: str | None = None) -> Store:
    """The embedded store (``--db``, or a ``duckdb://`` ``--engine``), with ``definitions`` put in force."""
    from hitrate.store.embedded import Store

    store = Store(store_path(db, engine))
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
    the file's definitions for this run (None: the built-in ones)."""
    from hitrate.store.backends import close, connect, is_embedded

    if is_embedded(engine):
        with open_store(db, definitions, engine) as store:
            yield store, None
        return
    assert engine is not None
    from hitrate.spec.model import load_definitions

    defs = load_definitions(definitions) if definitions is not None else None
    data = connect(engine)
    try:
        yield data, defs
    finally:
        close(data)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Python warnings silenced: the command prints the result's own warnings once, on stderr."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
