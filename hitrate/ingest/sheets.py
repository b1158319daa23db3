"""Excel workbooks: the worksheet to read, and its header row below any title rows.

Reports exported to Excel often open with a title, a filter line and a blank row before the table; the
data may sit on a worksheet other than the first (a cover sheet first). :func:`read_xlsx` reads the
worksheet asked for (``sheet``: its name or number from 1; the first by default), leaves out
``skip_rows`` rows, and takes as header the first of the next :data:`LOOK_AHEAD` rows that fills at least
half as many cells as the fullest of them (and two or more) with text only. When the worksheet read by
default holds no table but another one does, the error names it. Row numbers are Excel's.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

from hitrate.errors import InputFileError
from hitrate.i18n import Joined, Param
from hitrate.ingest.readers import RawTable, check_header, to_arrow

LOOK_AHEAD = 30  # rows searched for the header


def _filled(values: tuple[Any, ...]) -> int:
    return sum(1 for v in values if v is not None and not (isinstance(v, str) and not v.strip()))


def _header_at(rows: list[tuple[Any, ...]]) -> int | None:
    """The index of the header among the first rows of a worksheet, None when they hold no table."""
    most = max((_filled(r) for r in rows), default=0)
    if most < 2:
        return None
    for i, r in enumerate(rows):
        cells = [v for v in r if v is not None and not (isinstance(v, str) and not v.strip())]
        if len(cells) >= max(2, (most + 1) // 2) and all(isinstance(v, str) for v in cells):
            return i
    return next(i for i, r in enumerate(rows) if _filled(r) >= 2)


def _pick(wb: Any, path: Path, sheet: str | int | None) -> Any:
    """The worksheet named or numbered by ``sheet`` (the first when None)."""
    names = list(wb.sheetnames)
    if sheet is None:
        return wb.worksheets[0]
    if isinstance(sheet, str) and sheet in names:
        return wb[sheet]
    text = str(sheet).strip()
    if text.isdigit() and 1 <= int(text) <= len(names):
        return wb.worksheets[int(text) - 1]
    raise InputFileError(str(path), "ingest_checks.no_sheet", sheet=sheet, sheets=Joined(names), param=Param("sheet"))


def _other_tables(wb: Any, first: Any) -> list[str]:
    """The names of the other worksheets whose first rows hold a table."""
    found = []
    for ws in wb.worksheets:
        if ws.title != first.title:
            head = list(itertools.islice(ws.iter_rows(values_only=True), LOOK_AHEAD))
            if _header_at(head) is not None:
                found.append(ws.title)
    return found


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def read_xlsx(path: Path, *, sheet: str | int | None = None, skip_rows: int = 0) -> RawTable:
    """Read a worksheet of an Excel workbook (see the module); row numbers are Excel's."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise InputFileError(str(path), "ingest_files.not_excel", error=str(exc)) from None
    try:
        ws = _pick(wb, path, sheet)
        it = itertools.islice(ws.iter_rows(values_only=True), skip_rows, None)
        head = list(itertools.islice(it, LOOK_AHEAD))
        at = _header_at(head)
        if at is None:
            others = _other_tables(wb, ws) if sheet is None else []
            if others:
                named = Joined([f"'{o}'" for o in others])
                raise InputFileError(
                    str(path), "ingest_checks.data_on_other_sheet", sheet=ws.title, others=named, param=Param("sheet")
                )
            raise InputFileError(str(path), "ingest_checks.sheet_without_table", sheet=ws.title)
        header, renamed, _ = check_header(["" if v is None else str(v).strip() for v in head[at]], str(path))
        width = len(header)
        rows: list[list[str | None]] = []
        numbers: list[int] = []
        first = skip_rows + at + 2  # Excel's number of the row after the header
        for n, values in enumerate(itertools.chain(head[at + 1 :], it), start=first):
            cells = list(values[:width]) + [None] * (width - len(values))
            if _filled(tuple(cells)) == 0:
                continue
            rows.append([_text(v) for v in cells])
            numbers.append(n)
    finally:
        wb.close()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    return RawTable(str(path), header, to_arrow(columns, numbers), [], "xlsx", "", typed=True, renamed=renamed)
