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
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from hitrate.errors import InputFileError
from hitrate.i18n import Message
from hitrate.ingest import fastcsv
from hitrate.ingest.records import Damaged, split_records

Progress = Callable[[int, int], None]
DELIMITERS = (",", ";", "\t", "|")
_SNIFF_CHARS = 65_536
_PROGRESS_EVERY = 50_000
_TABLE_NUMBERS = itertools.count(1)
csv.field_size_limit(2**31 - 1)


@dataclass
class BadRecord:
    """A record that could not be read as a row (wrong number of fields), or a line of aggregated input set
    aside (:mod:`~hitrate.ingest.aggregated`): its line, why, its text, and the column at fault if one is."""

    row: int
    reason: Message
    raw: str
    column: str | None = None


@dataclass(frozen=True)
class CountLines:
    """What the lines of already-aggregated input were before each became its attempts
    (:func:`~hitrate.ingest.aggregated.expand_counts`): the lines read, the last line's number (an expanded
    row numbered above it is a line's second attempt or later), and the groups of the lines of 0 attempts."""

    read: int
    last_line: int
    empty_groups: list[str]


@dataclass
class DuckCells:
    """Cells held in a temporary table of a DuckDB connection (the fast CSV path given a connection):
    columns ``c0``... in file order, line numbers :data:`fastcsv.ROW_SQL`."""

    con: Any
    name: str
    rows: int


@dataclass(frozen=True)
class CsvSource:
    """A large UTF-8 CSV file not read yet (the fast path given a connection): an import reads it straight
    from the file when it can (:func:`fastcsv.source_sql`), else into a temporary table
    (:meth:`RawTable.materialized`)."""

    path: Path
    width: int
    delimiter: str
    ends_with_newline: bool


@dataclass
class RawTable:
    """A file read as text: ``columns`` (the header as written), ``cells`` (one text column per header
    column, named ``c0``, ``c1``... plus ``_row``), and records that could not be read.

    ``cells`` is an Arrow table, or None when the cells are held in DuckDB (``duck``) or not read yet
    (``csv``; :meth:`materialized` reads them); :meth:`arrow` gives them as Arrow and :meth:`register`
    names them in a DuckDB connection."""

    path: str
    columns: list[str]
    cells: pa.Table | None
    bad: list[BadRecord] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""
    typed: bool = False  # True for Excel/Parquet: numbers and dates come typed, decimal point is '.'
    renamed: list[str] = field(default_factory=list)  # header names used twice, as renamed: "Site (2)"
    skipped_non_data: int = 0  # footer, total and blank rows left out (see drop_non_data)
    duck: DuckCells | None = None
    csv: CsvSource | None = None
    counts: CountLines | None = None  # aggregated input: each row is one attempt of a line
    origin: str | None = None  # cells not read from a file (a CRM sync): the name of their source

    @classmethod
    def from_records(cls, origin: str, columns: list[str], rows: list[list[str | None]]) -> RawTable:
        """Cells that came from elsewhere than a file (a CRM's records, text or None each): ``origin`` names
        them in reports and the quarantine, row numbers count records from 1."""
        header, renamed, _ = check_header(columns, origin)
        table = to_arrow([tuple(r[i] for r in rows) for i in range(len(header))], list(range(1, len(rows) + 1)))
        return cls(origin, header, table, renamed=renamed, origin=origin)

    @property
    def num_rows(self) -> int:
        """Rows of cells (records read, less those that could not be read)."""
        if self.cells is not None:
            return int(self.cells.num_rows)
        return self.duck.rows if self.duck is not None else 0

    @property
    def read(self) -> int:
        """Records read from the file: rows plus records that could not be read."""
        return self.num_rows + len(self.bad)

    def materialized(self, con: Any) -> RawTable:
        """This table with its cells read: itself when they are; else the CSV file read into a temporary
        table of ``con``, or by Python's reader where DuckDB's would not give exact row numbers."""
        src = self.csv
        if src is None:
            return self
        name = f"_hr_file{next(_TABLE_NUMBERS)}"
        rows = fastcsv.read_into(con, name, src.path, src.width, src.delimiter, ends_with_newline=src.ends_with_newline)
        if rows is not None:
            return replace(self, csv=None, duck=DuckCells(con, name, rows))
        return read_csv(src.path, fast=False, delimiter=src.delimiter)

    def arrow(self) -> pa.Table:
        """The cells as an Arrow table (``c0``... and ``_row``)."""
        if self.csv is not None:
            raise ValueError("the cells are not read yet: call materialized() first")
        if self.cells is not None:
            return self.cells
        if self.duck is None:
            raise ValueError("a RawTable needs cells or a DuckDB table")
        sql = f"SELECT *, {fastcsv.ROW_SQL} AS _row FROM {self.duck.name}"
        return self.duck.con.execute(sql).fetch_arrow_table()

    def register(self, con: Any, name: str) -> None:
        """Make the cells readable as ``name`` in ``con``: a view over the DuckDB table when it is in ``con``,
        else the Arrow table registered. ``name`` is generated by the caller, never user text."""
        if self.duck is not None and self.duck.con is con:
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT *, {fastcsv.ROW_SQL} AS _row FROM {self.duck.name}"
            )
        else:
            con.register(name, self.arrow())

    def release(self) -> None:
        """Drop the DuckDB table holding the cells, if any."""
        if self.duck is not None:
            self.duck.con.execute(f"DROP TABLE IF EXISTS {self.duck.name}")


def read_file(
    path: str | Path,
    *,
    progress: Progress | None = None,
    con: Any = None,
    sheet: str | int | None = None,
    skip_rows: int = 0,
    delimiter: str | None = None,
) -> RawTable:
    """Read one file by its extension: ``.csv``/``.txt``/``.tsv`` (any common delimiter and encoding, or
    ``delimiter``), ``.xlsx`` (worksheet ``sheet``, see :mod:`hitrate.ingest.sheets`) or ``.parquet``;
    ``skip_rows`` lines (worksheet rows) before the header are left out. With a DuckDB connection ``con``, a
    large UTF-8 CSV file is only named here (``csv``: its header read, its records not): the import reads it
    with DuckDB (see :mod:`hitrate.ingest.fastcsv` and :meth:`RawTable.materialized`)."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(str(p), "ingest_files.no_such_file")
    if p.is_dir():
        raise InputFileError(str(p), "ingest_files.is_a_folder")
    suffix = p.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        from hitrate.ingest.sheets import read_xlsx

        return read_xlsx(p, sheet=sheet, skip_rows=skip_rows)
    if suffix in {".parquet", ".pq"}:
        return read_parquet(p)
    return read_csv(p, progress=progress, con=con, skip_rows=skip_rows, delimiter=delimiter)


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


def read_csv(
    path: Path,
    *,
    progress: Progress | None = None,
    con: Any = None,
    fast: bool = True,
    skip_rows: int = 0,
    delimiter: str | None = None,
) -> RawTable:
    """Read a delimited text file; see :func:`decode` and :func:`sniff_delimiter` (``delimiter`` given: that
    one). Large UTF-8 files with one record per line go to DuckDB's reader (:mod:`hitrate.ingest.fastcsv`)
    without being decoded here: left for the import to read when ``con`` is given (see :func:`read_file`),
    else into Arrow. ``fast=False``: Python's reader, always. ``skip_rows``: lines before the header (a
    report's title) left out.

    Records are split as a careful reader would (:func:`~hitrate.ingest.records.split_records`): a quote
    that is never closed is kept aside with its line number instead of swallowing the records after it."""
    quick = _read_csv_fast(path, progress, con, delimiter) if fast and not skip_rows else None
    if quick is not None:
        return quick
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(str(path), "ingest_files.cannot_read", error=exc.strerror) from None
    if _looks_binary(data):
        raise InputFileError(str(path), "ingest_checks.binary_file")
    text, encoding = decode(data, str(path))
    lines = iter(io.StringIO(text, newline=""))
    for _ in itertools.islice(lines, skip_rows):
        pass
    text_after = "".join(lines) if skip_rows else text
    if not text_after.strip():
        raise InputFileError(str(path), "ingest_files.empty")
    delimiter = delimiter or sniff_delimiter(text_after[:_SNIFF_CHARS])
    total = text.count("\n") + 1
    lines = iter(io.StringIO(text_after, newline=""))
    head = _HeaderLines(lines)
    try:
        header = next(csv.reader(head, delimiter=delimiter))
    except (csv.Error, StopIteration) as exc:
        raise InputFileError(str(path), "ingest_files.bad_header", error=str(exc)) from None
    header, renamed, unnamed = check_header([h.strip() for h in header], str(path))
    width = len(header)
    rows: list[list[str]] = []
    row_numbers: list[int] = []
    bad: list[BadRecord] = []
    for start, record in split_records(lines, delimiter, width, first=skip_rows + head.count + 1):
        if isinstance(record, Damaged):
            bad.append(BadRecord(start, record.reason, record.text))
            continue
        if unnamed and len(record) == width + unnamed and not any(c.strip() for c in record[width:]):
            record = record[:width]  # the trailing column with no name, empty
        if len(record) == width:
            rows.append(record)
            row_numbers.append(start)
        else:
            bad.append(BadRecord(start, _wrong_width(record, width, start), delimiter.join(record).rstrip()))
        if progress is not None and len(rows) % _PROGRESS_EVERY == 0:
            progress(start, total)
    if progress is not None:
        progress(total, total)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    cells = to_arrow(columns, row_numbers)
    return RawTable(str(path), header, cells, bad, encoding, delimiter, renamed=renamed)


class _HeaderLines:
    """The file's first lines for ``csv.reader`` to read the header from, counted."""

    def __init__(self, lines: Any) -> None:
        self.lines = lines
        self.count = 0

    def __iter__(self) -> _HeaderLines:
        return self

    def __next__(self) -> str:
        line: str = next(self.lines)
        self.count += 1
        return line


def _wrong_width(record: list[str], width: int, line: int) -> Message:
    """Why the record at ``line`` with the wrong number of fields was left out: a quote still open at the end
    of the file (its value holds the line break), a line of separators only, or the count."""
    if any("\n" in cell or "\r" in cell for cell in record):
        return Message("ingest_checks.unclosed_quote_end", line=line)
    if not any(cell.strip() for cell in record):
        return Message("ingest_checks.not_data", kind=Message("ingest_checks.kind_blank"))
    return Message("ingest_quarantine.fields", expected=width, found=len(record))


def _looks_binary(data: bytes) -> bool:
    """Whether the bytes are not text: NUL bytes in the first 8 KiB of a file without a UTF-16 BOM (a
    workbook, a zip or a database file named .csv)."""
    head = data[:8192]
    return not head.startswith((b"\xff\xfe", b"\xfe\xff")) and b"\x00" in head


def _read_csv_fast(
    path: Path, progress: Progress | None, con: Any = None, delimiter: str | None = None
) -> RawTable | None:
    """The DuckDB path for a large file whose first 256 KiB are UTF-8 and whose header is one line, every
    column named; None when it does not apply (the caller then reads the file record by record)."""
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
    delimiter = delimiter or sniff_delimiter(text)
    first = text.split("\n", 1)[0].rstrip("\r")
    record = next(csv.reader([first], delimiter=delimiter), [])
    if not record or '"' in first and first.count('"') % 2:  # a header cut across lines: not for this path
        return None
    header, renamed, unnamed = check_header([h.strip() for h in record], str(path))
    if unnamed:
        return None  # records end with an unnamed column: the Python reader checks it is empty
    if con is not None:
        src = CsvSource(path, len(header), delimiter, ends_with_newline)
        return RawTable(str(path), header, None, [], encoding, delimiter, renamed=renamed, csv=src)
    cells = fastcsv.read_cells(path, len(header), delimiter, ends_with_newline=ends_with_newline)
    if cells is None:
        return None
    if progress is not None:
        progress(cells.num_rows + 1, cells.num_rows + 1)
    return RawTable(str(path), header, cells, [], encoding, delimiter, renamed=renamed)


def read_parquet(path: Path) -> RawTable:
    """Read a Parquet file; every column is cast to text (timestamps as ISO)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise InputFileError(str(path), "ingest_files.not_parquet", error=str(exc)) from None
    header, _, _ = check_header([str(n) for n in table.column_names], str(path))
    arrays = {}
    for i, col in enumerate(table.columns):
        if pa.types.is_timestamp(col.type):  # ISO text with at most microseconds, which the date parser reads
            col = pc.cast(col, pa.timestamp("us", tz=col.type.tz))
        arrays[f"c{i}"] = pc.cast(col, pa.string())
    arrays["_row"] = pa.array(range(1, table.num_rows + 1), pa.int64())
    return RawTable(str(path), header, pa.table(arrays), [], "parquet", "", typed=True)


def check_header(header: list[str], path: str) -> tuple[list[str], list[str], int]:
    """The header with every name made unique, the renamed names, and the number of unnamed columns at its
    end (left out: an export that ends every line with its delimiter has one).

    CRMs repeat custom-field labels (Pipedrive exports carry a label twice when two custom fields share
    it), so a second ``Site`` becomes ``Site (2)`` rather than stopping the import.
    """
    if not header or all(not h for h in header):
        raise InputFileError(path, "ingest_files.no_header")
    unnamed = 0
    while header and not header[-1]:
        header, unnamed = header[:-1], unnamed + 1
    out: list[str] = []
    renamed: list[str] = []
    taken = set(header)
    for i, name in enumerate(header, start=1):
        if not name:
            raise InputFileError(path, "ingest_files.unnamed_column", number=i)
        unique, n = name, 2
        while unique in out or (unique != name and unique in taken):
            unique, n = f"{name} ({n})", n + 1
        if unique != name:
            renamed.append(unique)
        out.append(unique)
    return out, renamed, unnamed


def to_arrow(columns: list[tuple[str | None, ...]] | list[tuple[()]], rows: list[int]) -> pa.Table:
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

    cells = raw.arrow()
    keep = pa.array([True] * cells.num_rows, pa.bool_())
    pattern = "|".join(f"(?:{p})" for p in first_cell)
    if pattern and raw.columns:
        first = pc.utf8_trim_whitespace(cells.column("c0"))
        hit = pc.fill_null(pc.match_substring_regex(first, f"^(?:{pattern})$", ignore_case=True), False)
        keep = pc.and_(keep, pc.invert(hit))
    if blank_rows:
        filled = [
            pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(cells.column(f"c{i}")), ""), False)
            for i in range(len(raw.columns))
        ]
        any_filled = filled[0]
        for col in filled[1:]:
            any_filled = pc.or_(any_filled, col)
        keep = pc.and_(keep, any_filled)
    kept = cells.filter(keep)
    regex = re.compile(pattern, re.IGNORECASE) if pattern else None
    sep = raw.delimiter or ","
    bad = [b for b in raw.bad if not (regex and regex.fullmatch(b.raw.split(sep)[0].strip().strip('"')))]
    skipped = cells.num_rows - kept.num_rows + len(raw.bad) - len(bad)
    raw.release()
    return replace(raw, cells=kept, bad=bad, skipped_non_data=raw.skipped_non_data + skipped, duck=None)
