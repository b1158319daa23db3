"""Tables as an Excel workbook: one sheet per table, numbers as numbers, and a sheet of notes.

A result describes its tables as :class:`DataTable` objects (``Result.tables()``): a short key, the columns in
order, the rows, and which columns hold proportions (shown as percentages) and amounts (shown as money).
The command line's ``--format csv`` writes the first of them, ``--format xlsx`` all of them through
:func:`write_workbook`::

    from hitrate.report.workbook import WorkbookNotes, write_workbook

    write_workbook(result.tables(), WorkbookNotes(command="hitrate rates --by rep"), "rates.xlsx", lang="da")

Every sheet has its header row frozen and filtered; counts are whole numbers with a thousands separator,
proportions percentages with one decimal, amounts money (in the store's currency when it is known), dates
dates. Text a spreadsheet would run (``=HYPERLINK(...)``, ``+1+1``) gets a leading ``'``, exactly as in CSV
(:mod:`hitrate.report.safe_cells`). The notes sheet holds the definitions the numbers were counted under, the
command that made the file, the method and every warning, in the language asked.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from hitrate.i18n import DEFAULT_LANG, Message, check_lang
from hitrate.report.safe_cells import safe_cell

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from hitrate.report.result import Result

#: Columns counted in whole things (attempts, deals): shown with a thousands separator and no decimals.
COUNT_FORMAT = "#,##0"
#: Proportions (0.287) shown as percentages (28.7%).
PERCENT_FORMAT = "0.0%"
#: Amounts without a known currency.
MONEY_FORMAT = "#,##0.00"
#: Dates.
DATE_FORMAT = "yyyy-mm-dd"
#: Timestamps.
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
#: A currency code (ISO 4217) a number format may name.
_CURRENCY = re.compile(r"[A-Z]{3}\Z")
#: Characters a sheet name may not hold, and its longest length.
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_MAX = 31
#: The widest a column is made (characters).
_WIDEST = 60


@dataclass(frozen=True)
class DataTable:
    """One table of a result, as data: ``key`` names it (the sheet's name is the catalogue's
    ``workbook.sheet_<key>``), ``columns`` are the keys of ``rows`` in the order shown, ``percent`` the columns
    holding proportions, ``money`` those holding amounts and ``counts`` those holding whole numbers of things."""

    key: str
    columns: tuple[str, ...]
    rows: Sequence[Mapping[str, Any]]
    percent: frozenset[str] = frozenset()
    money: frozenset[str] = frozenset()
    counts: frozenset[str] = frozenset()

    def records(self) -> Iterator[dict[str, Any]]:
        """Each row as ``{column: value}`` over :attr:`columns` (a missing key as None)."""
        for row in self.rows:
            yield {c: row.get(c) for c in self.columns}

    def number_format(self, column: str, value: Any, currency: str | None = None) -> str | None:
        """The spreadsheet number format of ``value`` in ``column`` (None: the spreadsheet's own)."""
        if isinstance(value, bool) or not isinstance(value, (int, float, dt.date)):
            return None
        if isinstance(value, dt.datetime):
            return DATETIME_FORMAT
        if isinstance(value, dt.date):
            return DATE_FORMAT
        if column in self.percent:
            return PERCENT_FORMAT
        if column in self.money:
            return money_format(currency)
        if column in self.counts or isinstance(value, int):
            return COUNT_FORMAT
        return None


@dataclass
class WorkbookNotes:
    """What the notes sheet says: the ``command`` that made the file, the ``definitions`` hash and name, the
    ``method`` (how the intervals were found), the ``notes`` (warnings and caveats) and the ``currency``."""

    command: str | None = None
    definitions_hash: str | None = None
    definitions_name: str | None = None
    method: Sequence[Message | str] = ()
    notes: Sequence[Message | str] = ()
    currency: str | None = None
    made: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))

    def lines(self, lang: str) -> list[tuple[str, str]]:
        """The sheet's rows: ``(what, value)``, in ``lang``."""

        def say(value: Message | str) -> str:
            return value.render(lang) if isinstance(value, Message) else str(value)

        out: list[tuple[str, str]] = []
        if self.command:
            out.append(("workbook.note_command", self.command))
        if self.definitions_hash:
            out.append(("workbook.note_definitions_hash", self.definitions_hash))
        if self.definitions_name:
            out.append(("workbook.note_definitions_name", self.definitions_name))
        out += [("workbook.note_method", say(m)) for m in self.method]
        out += [("workbook.note_warning", say(n)) for n in self.notes]
        if self.currency:
            out.append(("workbook.note_currency", self.currency))
        out.append(("workbook.note_made", self.made.isoformat(sep=" ")))
        return [(Message(key).render(lang), value) for key, value in out]


def money_format(currency: str | None) -> str:
    """The number format of an amount: with its currency code (``#,##0.00 [$DKK]``) when known."""
    if currency and _CURRENCY.match(currency):
        return f"{MONEY_FORMAT} [${currency}]"
    return MONEY_FORMAT


def sheet_name(key: str, lang: str, taken: set[str]) -> str:
    """The sheet name of a table: the catalogue's ``workbook.sheet_<key>`` (the key itself when the catalogue
    has none), without the characters a sheet name may not hold, at most 31 characters, unique in ``taken``."""
    from hitrate.i18n import template

    found = template(f"workbook.sheet_{key}", lang)
    base = _NOT_IN_SHEET_NAMES.sub(" ", found if found is not None else key).strip()[:_SHEET_NAME_MAX] or "table"
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        tail = f" ({n})"
        name = base[: _SHEET_NAME_MAX - len(tail)] + tail
    taken.add(name.lower())
    return name


def cell_value(value: Any) -> Any:
    """A value as a spreadsheet cell holds it: numbers, booleans and dates as they are, NaN as empty, messages in
    English, lists joined with ``; ``, mappings as JSON, and text a spreadsheet would run with a leading ``'``."""
    from hitrate.report.result import clean

    if isinstance(value, (list, tuple)):
        return safe_cell("; ".join(str(clean(v)) for v in value))
    if isinstance(value, Mapping):
        return safe_cell(json.dumps(value, ensure_ascii=False, default=str))
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    value = clean(value)
    return safe_cell(value) if isinstance(value, str) else value


def write_workbook(
    tables: Sequence[DataTable],
    notes: WorkbookNotes,
    target: str | Path | IO[bytes],
    *,
    lang: str = DEFAULT_LANG,
) -> None:
    """Write ``tables`` (a sheet each, in order) and ``notes`` (the last sheet) as an Excel workbook to ``target``
    (a path or a binary file object). An unwritable path raises ``OSError``."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    lang = check_lang(lang)
    book = Workbook()
    first = book.active
    taken: set[str] = set()
    bold = Font(bold=True)
    for table in tables:
        sheet = book.create_sheet(sheet_name(table.key, lang, taken))
        _fill(sheet, table, notes.currency, bold)
    sheet = book.create_sheet(sheet_name("notes", lang, taken))
    sheet.append([safe_cell(Message("workbook.notes_what").render(lang)), Message("workbook.notes_value").render(lang)])
    for what, value in notes.lines(lang):
        sheet.append([safe_cell(what), safe_cell(value)])
    _finish(sheet, bold)
    if first is not None:
        book.remove(first)
    book.save(target)


def result_notes(
    result: Result, *, command: str | None = None, definitions: Any = None, currency: str | None = None
) -> WorkbookNotes:
    """The notes of a result's workbook: the definitions it was counted under (its own ``definitions``, else
    ``definitions``), its ``method`` and its notes (the method not twice), ``command`` and ``currency``."""
    defs = getattr(result, "definitions", None) or definitions
    method = getattr(result, "method", None)
    methods: list[Message | str] = [method] if isinstance(method, (Message, str)) and str(method) else []
    shown = {str(m) for m in methods}
    notes = [n for n in result.notes() if str(n) not in shown]
    return WorkbookNotes(
        command=command,
        definitions_hash=getattr(defs, "hash", None),
        definitions_name=getattr(defs, "name", None),
        method=methods,
        notes=notes,
        currency=currency,
    )


def write_result(
    result: Result,
    target: str | Path | IO[bytes],
    *,
    lang: str = DEFAULT_LANG,
    command: str | None = None,
    definitions: Any = None,
    currency: str | None = None,
) -> None:
    """Write ``result`` as a workbook: a sheet per table of ``result.tables()``, then the notes
    (:func:`result_notes`), in ``lang`` and in the words of the result's unit (sessions, conversions)."""
    with result._own_words():
        notes = result_notes(result, command=command, definitions=definitions, currency=currency)
        write_workbook(result.tables(), notes, target, lang=lang)


def _fill(sheet: Worksheet, table: DataTable, currency: str | None, bold: Any) -> None:
    """One table on its sheet: the header row, then a row per record with each number's format."""
    sheet.append([safe_cell(c) for c in table.columns])
    for record in table.records():
        values = [cell_value(record[c]) for c in table.columns]
        sheet.append(values)
        row = sheet.max_row
        for i, (column, value) in enumerate(zip(table.columns, values, strict=True), start=1):
            form = table.number_format(column, value, currency)
            if form is not None:
                sheet.cell(row=row, column=i).number_format = form
    _finish(sheet, bold)


def _finish(sheet: Worksheet, bold: Any) -> None:
    """Bold, frozen and filtered header row; columns as wide as their longest text (within reason)."""
    from openpyxl.utils import get_column_letter

    for cell in sheet[1]:
        cell.font = bold
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for i, column in enumerate(sheet.iter_cols(values_only=True), start=1):
        width = max((len(str(v)) for v in column if v is not None), default=8)
        sheet.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 8), _WIDEST)


__all__ = [
    "COUNT_FORMAT",
    "DATE_FORMAT",
    "MONEY_FORMAT",
    "PERCENT_FORMAT",
    "DataTable",
    "WorkbookNotes",
    "cell_value",
    "money_format",
    "result_notes",
    "sheet_name",
    "write_result",
    "write_workbook",
]
