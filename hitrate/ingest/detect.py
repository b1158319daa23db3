"""How a file writes its dates and decimals: given, from the preset, or detected from the cells.

Detection runs in DuckDB over the file's text cells (:data:`~hitrate.ingest.scratch.RAW`). Trying every
date family on every value costs seconds per million rows, so both detections look at the file's first
:data:`DATE_SAMPLE` rows first and read the whole file only when the sample cannot decide.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hitrate.errors import AmbiguousDateFormatError
from hitrate.ingest.parsing import COMMA_EVIDENCE, FORMATS, POINT_EVIDENCE, DateFormat, date_format_from_flag, date_sql
from hitrate.ingest.scratch import EMPTY, RAW, NotClean

if TYPE_CHECKING:
    from hitrate.ingest.presets import PresetTable
    from hitrate.ingest.readers import RawTable
    from hitrate.store.embedded import Store

DATE_SAMPLE = 20_000  # rows tried first when detecting the date family and the decimal separator


def date_format(
    store: Store, raw: RawTable, given: DateFormat | None, ptable: PresetTable | None, date_cols: list[int], whole: bool
) -> DateFormat | None:
    """The date format: ``given`` (``date_format``), else the preset's, else detected from ``date_cols``
    (None when the file has no date column). ``whole``: the whole file is at hand (else
    :class:`~hitrate.ingest.scratch.NotClean` when the sample cannot decide)."""
    fmt = given or (date_format_from_flag(ptable.date_format) if ptable and ptable.date_format else None)
    if fmt is None and date_cols:
        fmt = _detect_date_format(store, raw, date_cols, whole=whole)
    return fmt


def decimal(
    store: Store, raw: RawTable, given: str | None, ptable: PresetTable | None, num_cols: list[int], whole: bool
) -> str | None:
    """The decimal separator: ``given`` (``decimal``), else the preset's, else ``.`` for typed files
    (Excel, Parquet), else detected from ``num_cols`` (None when the file has no number column)."""
    found = given or (ptable.decimal if ptable else None)
    if found is None and num_cols:
        found = "." if raw.typed else _detect_decimal(store, raw.delimiter, num_cols, whole=whole)
    return found


def _sample() -> str:
    return f"(SELECT * FROM {RAW} LIMIT {DATE_SAMPLE})"


def _detect_date_format(store: Store, raw: RawTable, date_cols: list[int], *, whole: bool = True) -> DateFormat:
    """The date family that reads the most values; refuse when day-first and month-first tie.

    The families are first tried on the file's first :data:`DATE_SAMPLE` rows; a sample that reads dates and
    names one family decides. A sample that reads nothing or cannot tell day-first from month-first (no day
    above 12 yet) is decided on the whole file."""
    counts, per_col = _date_counts(store, _sample(), date_cols)
    best = max(counts.values())
    winners = [f for f in FORMATS if counts[f.name] == best]
    if best > 0 and len(winners) == 1:
        return winners[0]
    if not whole:
        raise NotClean  # the sample cannot decide and the rest of the file is not at hand
    counts, per_col = _date_counts(store, RAW, date_cols)
    best = max(counts.values())
    winners = [f for f in FORMATS if counts[f.name] == best]
    if best == 0 or len(winners) == 1:
        return winners[0]
    if {f.name for f in winners} >= {"dmy", "mdy"}:
        col = next(
            (raw.columns[i] for k, i in enumerate(date_cols) if per_col["dmy"][k] > 0), raw.columns[date_cols[0]]
        )
        sep = _date_separator(store, date_cols)
        raise AmbiguousDateFormatError(raw.path, col, [f"DD{sep}MM{sep}YYYY", f"MM{sep}DD{sep}YYYY"])
    return winners[0]


def _date_counts(store: Store, source: str, date_cols: list[int]) -> tuple[dict[str, int], dict[str, list[int]]]:
    """Per date family: the values it reads in ``source``, in all and per column."""
    counts: dict[str, int] = {}
    per_col: dict[str, list[int]] = {}
    for fmt in FORMATS:
        parts = ", ".join(f"count({date_sql(f'nullif(trim(c{i}), {EMPTY})', fmt.shape)})" for i in date_cols)
        row = store.raw.execute(f"SELECT {parts} FROM {source}", {"fmts": list(fmt.patterns)}).fetchone()
        values = [int(v) for v in (row or [])]
        per_col[fmt.name] = values
        counts[fmt.name] = sum(values)
    return counts, per_col


def _date_separator(store: Store, date_cols: list[int]) -> str:
    row = store.raw.execute(
        f"SELECT regexp_extract(coalesce({', '.join(f'nullif(trim(c{i}), {EMPTY})' for i in date_cols)}), "
        f"'^\\d+([-/.])', 1) FROM {RAW} LIMIT 1"
    ).fetchone()
    return str(row[0]) if row and row[0] else "-"


def _detect_decimal(store: Store, delimiter: str, num_cols: list[int], *, whole: bool = True) -> str:
    """``","`` when the numbers show a decimal comma (``12,50``, ``1.234``), ``"."`` otherwise.

    The evidence is counted first in the file's first :data:`DATE_SAMPLE` rows: when they show one kind
    only, that decides (a file does not switch separators after thousands of rows). Otherwise, mixed or no
    evidence, the whole file is counted and the kind seen more often wins; a tie goes by the delimiter."""
    comma, point = _decimal_evidence(store, _sample(), num_cols)
    if (comma > 0) != (point > 0):
        return "," if comma else "."
    if not whole:
        raise NotClean
    comma, point = _decimal_evidence(store, RAW, num_cols)
    if comma != point:
        return "," if comma > point else "."
    return "," if delimiter == ";" else "."


def _decimal_evidence(store: Store, source: str, num_cols: list[int]) -> tuple[int, int]:
    """Values in ``source`` that show a decimal comma and a decimal point, over the number columns."""
    comma = point = 0
    for i in num_cols:
        cell = f"regexp_replace(trim(c{i}), '[\\s\\x{{00a0}}\\x{{202f}}]', '', 'g')"
        row = store.raw.execute(
            f"SELECT count(*) FILTER (WHERE regexp_full_match({cell}, $c)), "
            f"count(*) FILTER (WHERE regexp_full_match({cell}, $p)) FROM {source}",
            {"c": COMMA_EVIDENCE, "p": POINT_EVIDENCE},
        ).fetchone()
        if row:
            comma += int(row[0])
            point += int(row[1])
    return comma, point
