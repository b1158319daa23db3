"""One way out of a command: the result on stdout (a table, JSON or CSV) or in the ``--output`` file (those, or an
Excel workbook), warnings, notes and errors on stderr.

Every word comes from the catalogues (namespaces ``cli`` and ``cli_help``) in the command line's language
(:func:`language`), every number through :mod:`hitrate.cli.cells`. A library parameter inside a message is
written as its option (:func:`flag_name`: ``date_from`` -> ``--from``).

Rich is imported only when something is printed through it, so ``--help`` and JSON output start fast.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from hitrate import i18n

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

F = TypeVar("F", bound=Callable[..., Any])

_LANGUAGE = [i18n.DEFAULT_LANG]
_EXPLAIN = [False]
#: Rows a terminal table shows at most (``hitrate --limit``; 0: all). Rich lays out every cell of a table before
#: it prints a line, about a millisecond a row: 12,000 rows would take over ten seconds to appear.
DEFAULT_LIMIT = 500
_LIMIT = [DEFAULT_LIMIT]


def language() -> str:
    """The language the command line speaks (English until a ``--lang`` option sets another)."""
    return _LANGUAGE[0]


def set_language(lang: str) -> None:
    """Speak ``lang`` from now on (``en`` or ``da``): messages, table titles, headers and numbers."""
    _LANGUAGE[0] = i18n.check_lang(lang)


def explaining() -> bool:
    """Whether the command line shows each result's method (``hitrate --explain``) after its plain words."""
    return _EXPLAIN[0]


def set_explain(on: bool) -> None:
    """Show the method under each table from now on (``--explain``), or only the plain words and a pointer."""
    _EXPLAIN[0] = bool(on)


def set_limit(rows: int) -> None:
    """Show at most ``rows`` rows of a terminal table from now on (0: every row)."""
    _LIMIT[0] = max(0, int(rows))


# -- words -----------------------------------------------------------------------------------------------------

#: Library parameters whose command-line option (or argument) is not ``--`` + the name with dashes.
FLAG_NAMES: dict[str, str] = {
    "date_from": "--from",
    "date_to": "--to",
    "mapping": "--map",
    "types": "--type",
    "teams": "--team",
    "started": "--start",
    "ids": "--goal",
    "tenured_after_days": "--tenured-after",
    "n_opportunities": "--n",
    "spins": "--simulate",
    "password": "--password-stdin",
    "url": "--engine",
    "fmt": "--format",
    "out": "--output",
    "subject": "WHO",
    "who": "WHO",
    "deal_id": "DEAL",
    "intervention_id": "INTERVENTION_ID",
}


def flag_name(parameter: str) -> str:
    """How the command line writes a library parameter: ``by`` -> ``--by``, ``date_from`` -> ``--from``; a name
    that already is an option (``--where``) stays as it is."""
    if parameter.startswith("-"):
        return parameter
    return FLAG_NAMES.get(parameter, "--" + parameter.replace("_", "-"))


def text(key: str, /, **params: Any) -> str:
    """Message ``key`` of the catalogues in the command line's language, parameters written as options."""
    return i18n.text(key, language(), flag_name, **params)


def say(value: Any) -> str:
    """A library message (or plain text) as the command line writes it."""
    if isinstance(value, i18n.Message):
        return value.render(language(), flag_name)
    return str(value)


# -- consoles --------------------------------------------------------------------------------------------------


def stderr() -> Console:
    """Standard error, through Rich."""
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def stdout() -> Console:
    """Standard output; into a pipe or file, wide enough that tables keep their columns."""
    import os

    from rich.console import Console

    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return Console(soft_wrap=True)
    return Console(soft_wrap=True, width=160)


def note(key: str, /, **params: Any) -> None:
    """A line of information on stderr (what was written where)."""
    stderr().print(text(key, **params), highlight=False)


def warn(notes: Iterable[object]) -> None:
    """Warnings on stderr: coloured on a terminal, plain text otherwise (no Rich import for a pipe)."""
    lines = [say(n) for n in notes]
    if not lines:
        return
    prefix = text("cli.warning")
    if sys.stderr.isatty():
        err = stderr()
        for line in lines:
            err.print(f"[yellow]{prefix}[/] {line}", highlight=False)
    else:
        for line in lines:
            sys.stderr.write(f"{prefix} {line}\n")


def user_errors(func: F) -> F:
    """Turn hitrate's errors (user mistakes) into a one-line message and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from hitrate.errors import HitrateError

        try:
            return func(*args, **kwargs)
        except HitrateError as exc:
            _error(exc.render(language(), flag_name))
            raise typer.Exit(2) from None
        except Exception as exc:  # the store locked by another process is common enough to explain
            if type(exc).__name__ == "IOException" and "lock" in str(exc).lower():
                _error(text("cli.store_locked", error=str(exc)))
                raise typer.Exit(2) from None
            raise

    return wrapper  # type: ignore[return-value]


def _error(message: str) -> None:
    stderr().print(f"[bold red]{text('cli.error')}[/] {message}", markup=True, highlight=False)


# -- results ---------------------------------------------------------------------------------------------------


class Plain(str):
    """Text printed as it is (``typer.echo``), not through Rich."""

    __slots__ = ()


#: What a renderer gives: plain text, a Rich renderable, or a list of them (markup strings are printed by Rich).
Rendered = Any


def emit(
    result: Any,
    fmt_: Enum,
    render: Callable[[Any], Rendered] | None = None,
    *,
    data: Any = None,
    warnings: Iterable[object] = (),
    ascii: bool = False,
    output: Path | None = None,
    source: Any = None,
    definitions: Any = None,
    headline: bool = False,
) -> None:
    """Print a result as ``--format`` asks, after its warnings (on stderr); into ``output`` when given.

    ``json``: ``data`` (default ``result.to_dict()``) as one JSON document; ``csv``: the first of
    ``result.tables()``; ``table``: ``render(result)``, after the result's headline (its plain first sentence)
    when ``headline``; ``xlsx``: every table of the result in a workbook (:func:`write_xlsx`; ``source`` and
    ``definitions`` are the data and definitions the result was counted on, for its notes), which needs
    ``output``.
    """
    warn(warnings)
    if fmt_.value == "xlsx":
        write_xlsx(result, output, source=source, definitions=definitions)
        return
    with into(output):
        if fmt_.value == "json":
            print_json(result.to_dict() if data is None else data, ascii=ascii)
        elif fmt_.value == "csv":
            main = result.tables()[0]
            write_csv(main.columns, main.records())
        elif render is not None:
            said = result.headline() if headline else None
            show([None if said is None else Plain(say(said)), render(result)])


@contextlib.contextmanager
def into(output: Path | None) -> Iterator[None]:
    """Standard output into the file ``output`` for the block (nothing changes when it is None); the file is
    named on stderr after. A path that cannot be written is a user error naming ``--output``."""
    if output is None:
        yield
        return
    try:
        stream = open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115 (closed below, after the block)
    except OSError as exc:
        raise unwritable(output, exc) from None
    with stream, contextlib.redirect_stdout(stream):
        yield
    note("cli.output_written", path=str(output))


def unwritable(output: Path, exc: OSError) -> Exception:
    """The user error of an ``--output`` path that cannot be written."""
    from hitrate.errors import UserInputError

    return UserInputError("cli.output_unwritable", path=str(output), error=exc.strerror or str(exc))


def write_xlsx(result: Any, output: Path | None, *, source: Any = None, definitions: Any = None) -> None:
    """Every table of ``result`` in an Excel workbook at ``output`` (:mod:`hitrate.report.workbook`), with a notes
    sheet: the definitions (the result's own, else ``definitions`` as ``source`` resolves them), the command line,
    the method and the warnings, in the command line's language; amounts in the store's currency when it has one."""
    check_output("xlsx", output)
    assert output is not None
    from hitrate.report.workbook import write_result

    defs = definitions
    if getattr(result, "definitions", None) is None and source is not None and not hasattr(defs, "hash"):
        from hitrate.analysis.rates import resolve_definitions

        defs = resolve_definitions(source, defs, None)
    currency = None
    if source is not None:
        from hitrate.engine.currency import store_currency

        currency = store_currency(source)
    try:
        write_result(result, output, lang=language(), command=command_line(), definitions=defs, currency=currency)
    except OSError as exc:
        raise unwritable(output, exc) from None
    note("cli.output_written", path=str(output))


def check_output(fmt: Any, output: Path | None) -> None:
    """A workbook (``--format xlsx``, given as its value or the choice) needs ``--output``: a user error otherwise."""
    if getattr(fmt, "value", fmt) == "xlsx" and output is None:
        from hitrate.errors import UserInputError

        raise UserInputError("cli.xlsx_needs_output")


def command_line() -> str:
    """The command that is running, as a person would type it again: ``hitrate``, the command's names, then each
    option and argument given on the command line (in the command's order; defaults and environment left out).
    A password in a URL (``--engine postgresql://ann:secret@db/sales``) is shown as ``***``."""
    import shlex

    from hitrate.store.backends import redact

    ctx = _current_context()
    if ctx is None:
        return shlex.join(["hitrate", *(redact(w) if "://" in w else w for w in sys.argv[1:])])
    chain = []
    while ctx is not None:
        chain.append(ctx)
        ctx = ctx.parent
    words: list[str] = []
    for c in reversed(chain):
        words.append("hitrate" if c.parent is None else c.info_name or "")
        for param in c.command.params:
            source = c.get_parameter_source(param.name) if param.name else None
            if getattr(source, "name", None) != "COMMANDLINE":
                continue
            words += _given(param, c.params.get(param.name))
    return shlex.join(words)


def _current_context() -> Any:
    """The click context of the running command, or None: newer Typer runs on its own copy of click
    (``typer._click``), older Typer on click itself."""
    import importlib

    for name in ("typer._click.globals", "click.globals"):
        try:
            found = importlib.import_module(name).get_current_context(silent=True)
        except ImportError:
            continue
        if found is not None:
            return found
    return None


def _given(param: Any, value: Any) -> list[str]:
    """One parameter as typed: ``--by rep --by team``, ``--strict``, an argument's value."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    from hitrate.store.backends import redact

    plain = [v.value if isinstance(v, Enum) else str(v) for v in values if v is not None]
    plain = [redact(v) if "://" in v else v for v in plain]
    if not getattr(param, "opts", None) or not param.opts[0].startswith("-"):
        return plain
    flag = param.opts[0]
    if getattr(param, "is_flag", False):
        return [flag] if value else list(getattr(param, "secondary_opts", [])[:1])
    return [w for v in plain for w in (flag, v)]


def print_json(data: Any, *, ascii: bool = False) -> None:
    """One JSON document on stdout (values JSON does not know, such as dates, as text)."""
    typer.echo(json.dumps(data, ensure_ascii=ascii, default=str))


def write_csv(columns: Sequence[str], records: Iterable[dict[str, Any]]) -> None:
    """Records as CSV with a header row on stdout; text a spreadsheet would run (``=HYPERLINK(...)``, ``+1+1``)
    is written with a leading ``'`` (:mod:`hitrate.report.safe_cells`), numbers as they are."""
    from hitrate.report.safe_cells import write_safe_csv

    write_safe_csv(sys.stdout, columns, records)


def show(rendered: Rendered) -> None:
    """Print what a renderer gave: :class:`Plain` text as it is, anything else through Rich on stdout."""
    items = _flat(rendered)
    console: Console | None = None
    for item in items:
        if item is None:
            continue
        if isinstance(item, Plain):
            typer.echo(item)
            continue
        console = console or stdout()
        if isinstance(item, str):
            console.print(item, highlight=False)
        else:
            console.print(item)


def _flat(item: Any) -> list[Any]:
    """A renderer's output as one list: nested lists opened, anything else one item."""
    return [x for part in item for x in _flat(part)] if isinstance(item, list) else [item]


def table(
    title: str,
    columns: Sequence[str],
    align: str = "",
    *,
    caption: str | None = None,
    method: Any = None,
    rows: Iterable[Sequence[Any]] = (),
    **options: Any,
) -> Table:
    """A Rich table; ``align`` gives each column's side (``l`` or ``r``, one letter a column; columns past its
    end are left-aligned), ``options`` apply to every column (``no_wrap``, ``overflow``); ``rows`` fill it.

    ``caption`` is the plain line under the table; ``method`` (a message or text: the named methods and
    assumptions) is added under it with ``--explain``, and otherwise only pointed to."""

    caption = with_method(caption, method)
    t = _limited_table()(title=title, caption=caption)
    for i, col in enumerate(columns):
        t.add_column(col, justify="right" if align[i : i + 1] == "r" else "left", **options)
    for row in rows:
        t.add_row(*row)
    return t


@functools.cache
def _limited_table() -> type[Table]:
    """A Rich table that keeps the first ``--limit`` rows it is given and counts the rest; when it holds fewer
    rows than it was given, its caption says how many there are and how to see or write them all."""
    from rich.table import Table

    class LimitedTable(Table):
        given = 0

        def add_row(self, *cells: Any, **options: Any) -> None:
            self.given += 1
            if not _LIMIT[0] or self.given <= _LIMIT[0]:
                super().add_row(*cells, **options)

        def __rich_console__(self, console: Any, options: Any) -> Any:
            if self.given > self.row_count:
                from hitrate.cli.cells import integer

                more = text("cli.limited", shown=integer(self.row_count), rows=integer(self.given))
                self.caption = f"{self.caption}\n{more}" if self.caption else more
                self.given = self.row_count  # said once
            return super().__rich_console__(console, options)

    return LimitedTable


def with_method(caption: str | None, method: Any) -> str | None:
    """``caption`` and, under it, ``method`` with ``--explain``; without, ``caption`` and a pointer to
    ``--explain`` (just ``caption`` when there is no method)."""
    if method is None or not str(method):
        return caption
    extra = text("cli.method", method=say(method)) if explaining() else text("cli.explain_hint")
    return extra if not caption else f"{caption}\n{extra}"


def headers(*keys: str) -> list[str]:
    """Column headers from their message ids."""
    return [text(k) for k in keys]


# -- progress --------------------------------------------------------------------------------------------------


class LazyProgress:
    """A progress bar on stderr that appears only once work has taken more than ``delay`` seconds (one)."""

    delay = 1.0

    def __init__(self, label: Any) -> None:
        self.label = say(label)
        self.start = time.monotonic()
        self.bar: Any = None
        self.task: Any = None

    def _shown(self) -> Any:
        """The bar, started once a second has gone (None before)."""
        if self.bar is None and time.monotonic() - self.start >= self.delay:
            from rich.progress import Progress

            self.bar = Progress(console=stderr(), transient=True)
            self.bar.start()
        return self.bar

    def __call__(self, done: int, total: int) -> None:
        started = self.bar is not None
        bar = self._shown()
        if bar is None:
            return
        if not started:
            self.task = bar.add_task(self.label, total=total)
        bar.update(self.task, completed=done, total=total)

    def stage(self, label: Any) -> None:
        """A new step whose length is unknown: the bar shows its name and pulses. A library step label that
        carries its message (``label.message``) is said in the command line's language."""
        self.label = say(getattr(label, "message", label))
        started = self.bar is not None
        bar = self._shown()
        if bar is None:
            return
        if started:
            bar.remove_task(self.task)
        self.task = bar.add_task(self.label, total=None)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@contextlib.contextmanager
def progress_bar(label: Any) -> Iterator[LazyProgress]:
    """A :class:`LazyProgress` for the block, closed (and gone from the terminal) however the block ends; pass it
    as a library call's ``progress`` (or its :meth:`~LazyProgress.stage` as ``stage``)."""
    progress = LazyProgress(label)
    try:
        yield progress
    finally:
        progress.close()


_LazyProgress = LazyProgress  # the name tests and older code use
