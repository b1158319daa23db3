"""Read CSV, Excel and Parquet files into a table of text cells, losing nothing.

Every cell arrives as text (``None`` for an empty cell); typing is done later in
the engine, where it is vectorised and where a failure becomes a quarantined row
rather than an exception. A CSV record with the wrong number of fields is kept
aside as a :class:`BadRecord` with its line number.

``row`` numbers are what a person sees: the line in a text editor where the CSV
record starts (the header is line 1), the row number in Excel, the record number
(from 1) in Parquet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa

from ..errors import InputFileError
from . import fastcsv

Progress = Callable[[int, int], None]
DELIMITERS = (",", ";", "\t", "|")
_SNIFF_CHARS = 65_536
_PROGRESS_EVERY = 50_000
csv.field_size_limit(2**31 - 1)


@dataclass
class BadRecord:
    """A record that could not be read as a row (wrong number of fields)."""

    row: int
    reason: str
    raw: str


@dataclass
class RawTable:
    """A file read as text: ``columns`` (the header as written), ``cells`` (one text column per header
    column, named ``c0``, ``c1``... plus ``_row``), and records that could not be read."""

    path: str
    columns: list[str]
    cells: pa.Table
    bad: list[BadRecord] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""
    typed: bool = False  # True for Excel/Parquet: numbers and dates come typed, decimal point is '.'
    renamed: list[str] = field(default_factory=list)  # header names used twice, as renamed: "Site (2)"
    skipped_non_data: int = 0  # footer, total and blank rows left out (see drop_non_data)

    @property
    def read(self) -> int:
        """Records read from the file: rows plus records that could not be read."""
        return int(self.cells.num_rows) + len(self.bad)


def read_file(path: str | Path, *, progress: Progress | None = None) -> RawTable:
    """Read one file by its extension: ``.csv``/``.txt``/``.tsv`` (any common delimiter and encoding),
    ``.xlsx`` or ``.parquet``."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(str(p), "no such file")
    if p.is_dir():
        raise InputFileError(str(p), "is a folder, expected a CSV, .xlsx or .parquet file")
    suffix = p.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return read_xlsx(p)
    if suffix in {".parquet", ".pq"}:
        return read_parquet(p)
    return read_csv(p, progress=progress)


def decode(data: bytes, path: str) -> tuple[str, str]:
    """Decode bytes as UTF-8 (with or without BOM), UTF-16 (with BOM), else cp1252, else Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def sniff_delimiter(sample: str) -> str:
    """The delimiter under which the first lines split most consistently into the header's field count."""
    lines = sample.splitlines()[:60]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a sample may be cut short
    best, best_score = ",", (-1, -1)
    for delim in DELIMITERS:
        rows = list(csv.reader(lines, delimiter=delim))
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = sum(1 for r in rows[1:] if len(r) == width)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def read_csv(path: Path, *, progress: Progress | None = None) -> RawTable:
    """Read a delimited text file; see :func:`decode` and :func:`sniff_delimiter`. Large UTF-8 files with one
    record per line go to DuckDB's reader (:mod:`hitrate.ingest.fastcsv`) without being decoded here."""
    fast = _read_csv_fast(path, progress)
    if fast is not None:
        return fast
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(str(path), f"cannot read the file ({exc.strerror})") from None
    text, encoding = decode(data, str(path))
    if not text.strip():
        raise InputFileError(str(path), "the file is empty (expected a header row and data rows)")
    delimiter = sniff_delimiter(text[:_SNIFF_CHARS])
    total = text.count("\n") + 1
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise InputFileError(str(path), f"line 1: cannot read the header ({exc})") from None
    header, renamed = _check_header([h.strip() for h in header], str(path))
    width = len(header)
    rows: list[list[str]] = []
    row_numbers: list[int] = []
    bad: list[BadRecord] = []
    start = reader.line_num + 1
    try:
        for record in reader:
            if len(record) == width:
                rows.append(record)
                row_numbers.append(start)
            elif record and any(cell.strip() for cell in record):
                bad.append(BadRecord(start, f"expected {width} fields, found {len(record)}", delimiter.join(record)))
            start = reader.line_num + 1
            if progress is not None and len(rows) % _PROGRESS_EVERY == 0:
                progress(start, total)
    except csv.Error as exc:
        raise InputFileError(str(path), f"line {start}: cannot read the record ({exc})") from None
    if progress is not None:
        progress(total, total)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    cells = _to_arrow(columns, row_numbers)
    return RawTable(str(path), header, cells, bad, encoding, delimiter, renamed=renamed)


def _read_csv_fast(path: Path, progress: Progress | None) -> RawTable | None:
    """The DuckDB path for a large file whose first 256 KiB are UTF-8 and whose header is one line; None
    when it does not apply (the caller then reads the file record by record)."""
    try:
        size = path.stat().st_size
        if size < fastcsv.FAST_PATH_MIN_BYTES:
            return None
        with path.open("rb") as fh:
            head = fh.read(4 * _SNIFF_CHARS)
            fh.seek(size - 1)
            ends_with_newline = fh.read(1) == b"\n"
    except OSError:
        return None
    encoding = "utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8"
    cut = head.rfind(b"\n")
    if cut < 0:
        return None
    try:
        text = head[: cut + 1].decode(encoding)
    except UnicodeDecodeError:
        return None
    delimiter = sniff_delimiter(text)
    first = text.split("\n", 1)[0].rstrip("\r")
    record = next(csv.reader([first], delimiter=delimiter), [])
    if not record or '"' in first and first.count('"') % 2:  # a header cut across lines: not for this path
        return None
    header, renamed = _check_header([h.strip() for h in record], str(path))
    cells = fastcsv.read_cells(path, len(header), delimiter, ends_with_newline=ends_with_newline)
    if cells is None:
        return None
    if progress is not None:
        progress(cells.num_rows + 1, cells.num_rows + 1)
    return RawTable(str(path), header, cells, [], encoding, delimiter, renamed=renamed)


def read_xlsx(path: Path) -> RawTable:
    """Read the first worksheet of an Excel workbook; row numbers are Excel's."""
    import datetime as dt

    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise InputFileError(str(path), f"cannot open as an Excel workbook ({exc})") from None
    try:
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header_row = next(it, None)
        if header_row is None:
            raise InputFileError(str(path), "the first worksheet is empty")
        header = ["" if v is None else str(v).strip() for v in header_row]
        while header and header[-1] == "":
            header.pop()
        header, renamed = _check_header(header, str(path))
        width = len(header)
        rows: list[list[str | None]] = []
        numbers: list[int] = []
        for n, values in enumerate(it, start=2):
            cells = list(values[:width]) + [None] * (width - len(values))
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells):
                continue
            out: list[str | None] = []
            for v in cells:
                if v is None:
                    out.append(None)
                elif isinstance(v, dt.datetime):
                    out.append(v.isoformat(sep=" "))
                elif isinstance(v, dt.date):
                    out.append(v.isoformat())
                elif isinstance(v, float) and v.is_integer():
                    out.append(str(int(v)))
                else:
                    out.append(str(v))
            rows.append(out)
            numbers.append(n)
    finally:
        wb.close()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    return RawTable(str(path), header, _to_arrow(columns, numbers), [], "xlsx", "", typed=True, renamed=renamed)


def read_parquet(path: Path) -> RawTable:
    """Read a Parquet file; every column is cast to text (timestamps as ISO)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise InputFileError(str(path), f"cannot read as Parquet ({exc})") from None
    header, _ = _check_header([str(n) for n in table.column_names], str(path))
    arrays = {}
    for i, col in enumerate(table.columns):
        if pa.types.is_timestamp(col.type):  # ISO text with at most microseconds, which the date parser reads
            col = pc.cast(col, pa.timestamp("us", tz=col.type.tz))
        arrays[f"c{i}"] = pc.cast(col, pa.string())
    arrays["_row"] = pa.array(range(1, table.num_rows + 1), pa.int64())
    return RawTable(str(path), header, pa.table(arrays), [], "parquet", "", typed=True)


def _check_header(header: list[str], path: str) -> tuple[list[str], list[str]]:
    """The header with every name made unique, and the renamed names.

    CRMs repeat custom-field labels (Pipedrive exports carry a label twice when two custom fields share
    it), so a second ``Site`` becomes ``Site (2)`` rather than stopping the import.
    """
    if not header or all(not h for h in header):
        raise InputFileError(path, "no header row (expected column names in the first row)")
    out: list[str] = []
    renamed: list[str] = []
    taken = set(header)
    for i, name in enumerate(header, start=1):
        if not name:
            raise InputFileError(path, f"header column {i} has no name")
        unique, n = name, 2
        while unique in out or (unique != name and unique in taken):
            unique, n = f"{name} ({n})", n + 1
        if unique != name:
            renamed.append(unique)
        out.append(unique)
    return out, renamed


def _to_arrow(columns: list[tuple[str | None, ...]] | list[tuple[()]], rows: list[int]) -> pa.Table:
    arrays: dict[str, pa.Array] = {}
    for i, col in enumerate(columns):
        arrays[f"c{i}"] = pa.array(col, pa.string())
    arrays["_row"] = pa.array(rows, pa.int64())
    return pa.table(arrays)


def drop_non_data(raw: RawTable, first_cell: list[str], *, blank_rows: bool) -> RawTable:
    """``raw`` without the rows that are not data: those whose first cell fully matches one of the
    regular expressions ``first_cell`` (ignoring case; report footers such as ``Total`` or
    ``Confidential Information - Do Not Distribute``) and, with ``blank_rows``, rows with every cell
    empty. Their number is kept in ``skipped_non_data``; they do not count as read."""
    import re

    import pyarrow.compute as pc

    keep = pa.array([True] * raw.cells.num_rows, pa.bool_())
    pattern = "|".join(f"(?:{p})" for p in first_cell)
    if pattern and raw.columns:
        first = pc.utf8_trim_whitespace(raw.cells.column("c0"))
        hit = pc.fill_null(pc.match_substring_regex(first, f"^(?:{pattern})$", ignore_case=True), False)
        keep = pc.and_(keep, pc.invert(hit))
    if blank_rows:
        filled = [
            pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(raw.cells.column(f"c{i}")), ""), False)
            for i in range(len(raw.columns))
        ]
        any_filled = filled[0]
        for col in filled[1:]:
            any_filled = pc.or_(any_filled, col)
        keep = pc.and_(keep, any_filled)
    cells = raw.cells.filter(keep)
    regex = re.compile(pattern, re.IGNORECASE) if pattern else None
    sep = raw.delimiter or ","
    bad = [b for b in raw.bad if not (regex and regex.fullmatch(b.raw.split(sep)[0].strip().strip('"')))]
    skipped = raw.cells.num_rows - cells.num_rows + len(raw.bad) - len(bad)
    return replace(raw, cells=cells, bad=bad, skipped_non_data=raw.skipped_non_data + skipped)
