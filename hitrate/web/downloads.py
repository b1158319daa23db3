"""Every table of a page as a file: CSV and Excel, the rows the page shows, numbers as numbers.

A page's table (:func:`hitrate.web.pages.table`) may carry a :class:`Download`: the tables the page computed in the
user's scope, as data. Where the page shows a library result these are the result's own
:meth:`~hitrate.report.result.Result.tables` (what ``hitrate <command> --format csv`` and ``--format xlsx``
write); elsewhere the raw records behind the page's cells. The page answers ``?download=<table id>&format=csv``
(or ``xlsx``) with the file instead of the HTML, from the same call that builds the page, so the scope and the
filters are the page's own and nothing is computed twice (the results are cached).

CSV is the first table through the command line's formula neutralising (:mod:`hitrate.report.safe_cells`); the
workbook is :func:`hitrate.report.workbook.write_workbook`'s: a sheet per table, then the notes (the definitions'
hash, the page's address as the command, the method and the warnings, the currency).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from fastapi.responses import Response

if TYPE_CHECKING:
    from hitrate.report.workbook import DataTable, WorkbookNotes
    from hitrate.web.data import Computed

__all__ = ["FORMATS", "Download", "of_records", "of_result", "respond"]

#: The formats a table downloads as: the media type of each.
FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: What a file name may hold.
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Download:
    """What one page table downloads as: ``tables`` (made only when asked; the CSV is the first, the workbook has
    them all) and the computation whose notes go with them (None: the definitions and the address only)."""

    tables: Callable[[], list[DataTable]]
    source: Computed | None = None

    def notes(self, *, command: str, definitions: Any, currency: str | None) -> WorkbookNotes:
        """The workbook's notes sheet."""
        from hitrate.web.data import Computed

        source = self.source if self.source is not None else Computed({})
        return source.notes(command=command, definitions=definitions, currency=currency)


def of_result(
    source: Computed, first: str | None = None, keep: Callable[[Mapping[str, Any]], bool] | None = None
) -> Download:
    """The tables of a computed result (its ``tables()``, within the scope), the one keyed ``first`` first; with
    ``keep``, only the rows it keeps (the page's own filter on a result computed for the whole scope)."""

    def tables() -> list[DataTable]:
        found = source.tables()
        if keep is not None:
            found = [replace(t, rows=[r for r in t.rows if keep(r)]) for t in found]
        return sorted(found, key=lambda t: t.key != first) if first else found

    return Download(tables, source)


def of_records(
    key: str,
    columns: Sequence[str],
    records: Iterable[Mapping[str, Any]],
    *,
    percent: Iterable[str] = (),
    money: Iterable[str] = (),
    counts: Iterable[str] = (),
) -> Download:
    """Raw records as one table: ``columns`` of each record, proportions in ``percent``, amounts in ``money``."""
    from hitrate.report.workbook import DataTable

    rows = [dict(r) for r in records]
    table = DataTable(key, tuple(columns), rows, frozenset(percent), frozenset(money), frozenset(counts))
    return Download(lambda: [table])


def respond(
    download: Download,
    fmt: str,
    *,
    name: str,
    lang: str,
    command: str,
    definitions: Any,
    currency: str | None,
) -> Response:
    """The file of ``download`` in ``fmt`` (``csv`` or ``xlsx``), as an attachment named after ``name``."""
    tables = download.tables()
    if fmt == "csv":
        from hitrate.report.safe_cells import write_safe_csv

        text = io.StringIO()
        if tables:
            write_safe_csv(text, tables[0].columns, tables[0].records())
        body = text.getvalue().encode("utf-8")
    else:
        from hitrate.report.workbook import write_workbook

        notes = download.notes(command=command, definitions=definitions, currency=currency)
        book = io.BytesIO()
        write_workbook(tables, notes, book, lang=lang)
        body = book.getvalue()
    filename = f"hitrate-{_UNSAFE.sub('_', name).strip('_') or 'table'}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    return Response(body, media_type=FORMATS[fmt], headers=headers)
