"""Splitting a delimited text into records the way a careful reader would: no quote swallows records.

Python's ``csv`` module reads a field that opens with ``"`` up to the next ``"``, across any number of line
breaks. A quote that an export forgot to close therefore swallows the lines after it: they vanish into one
field of one record. :func:`split_records` reads record by record and takes a record that spans several
lines for an unclosed quote when

* it does not have the header's number of fields, or
* it spans more than :data:`MAX_RECORD_LINES` lines, or
* one of its lines after the first reads on its own as a complete record of the header's width, its quotes balanced or
  taken as plain characters (for a file of at least :data:`MIN_WIDTH` columns, four with commas, where a
  line of prose rarely has exactly the header's number of delimiters).

The first line of such a record is kept aside (a :class:`Damaged` entry with its line number and why) and
reading goes on at the next line, so every other record is read as the file holds it. A record spread over
lines on purpose (a note with line breaks, properly quoted) is read as one record.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass

from hitrate.i18n import Message

#: A quoted value spanning more lines than this is taken for a quote that was never closed.
MAX_RECORD_LINES = 100
#: Below this many columns, a swallowed line is not tested for being a record of its own.
MIN_WIDTH = 3


@dataclass(frozen=True)
class Damaged:
    """A physical line that is not a record: its number, why, and its text (line break removed)."""

    line: int
    reason: Message
    text: str


class _Lines:
    """The lines of a text, handed to ``csv.reader`` one by one, counted, and put back on request."""

    def __init__(self, source: Iterator[str]) -> None:
        self.source = source
        self.again: list[str] = []  # lines to hand out again, last first
        self.number = 0  # the number of the last line handed out
        self.taken: list[str] = []  # the lines handed out since the last mark()

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.again.pop() if self.again else next(self.source)
        self.number += 1
        self.taken.append(line)
        return line

    def mark(self) -> None:
        """Start counting the lines of a new record."""
        self.taken = []

    def put_back(self, lines: list[str]) -> None:
        """Hand ``lines`` out again, in order, with their own line numbers."""
        self.again.extend(reversed(lines))
        self.number -= len(lines)


def _text(line: str) -> str:
    return line.rstrip("\r\n")


def _is_record(line: str, delimiter: str, width: int) -> bool:
    """Whether ``line`` alone reads as a complete record of ``width`` fields: with its quotes balanced, or
    with every quote taken as a character (a stray quote in an otherwise whole record)."""
    text = _text(line)
    if not text:
        return False
    if len(text.split(delimiter)) == width:
        return True
    return not text.count('"') % 2 and len(next(csv.reader([text], delimiter=delimiter), [])) == width


def _swallowed(record: list[str], taken: list[str], delimiter: str, width: int) -> bool:
    """Whether a record read over several lines (``taken``) is an unclosed quote (see the module)."""
    if len(record) != width or len(taken) > MAX_RECORD_LINES:
        return True
    if width < MIN_WIDTH or (delimiter == "," and width < MIN_WIDTH + 1):
        return False
    # The lines after the first: the first line of a value quoted over lines on purpose reads as whole too.
    return any(_is_record(line, delimiter, width) for line in taken[1:])


def split_records(
    lines: Iterator[str], delimiter: str, width: int, *, first: int = 1
) -> Iterator[tuple[int, list[str] | Damaged]]:
    """The records of ``lines`` (the file's lines after the header, with their line breaks; the first is line
    ``first``): ``(line number, fields)`` for each record, ``(line number, Damaged)`` for a line that opens a
    quote that swallows records or that ``csv`` cannot read. Empty lines are not records and are passed
    over."""
    src = _Lines(lines)
    src.number = first - 1
    reader = csv.reader(src, delimiter=delimiter)
    while True:
        src.mark()
        start = src.number + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            taken = list(src.taken)
            reason = Message("ingest_checks.unreadable", line=start, error=str(exc))
            yield start, Damaged(start, reason, _text(taken[0]))
            src.put_back(taken[1:])
            reader = csv.reader(src, delimiter=delimiter)
            continue
        taken = list(src.taken)
        if len(taken) > 1 and _swallowed(record, taken, delimiter, width):
            reason = Message("ingest_checks.unclosed_quote", line=start, lines=len(taken) - 1)
            yield start, Damaged(start, reason, _text(taken[0]))
            src.put_back(taken[1:])
            reader = csv.reader(src, delimiter=delimiter)
            continue
        if not record or (len(record) == 1 and not record[0].strip() and width > 1):
            continue  # an empty line
        yield start, record
