"""How text cells become typed values: date formats, decimal separators, detection.

Parsing runs in the engine (DuckDB's ``try_strptime`` and ``TRY_CAST``), vectorised.
The SQL text here is fixed; formats and values travel as bound parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hitrate.ingest.errors import ImportParameterError

_TIMES = (
    "",
    " %H:%M:%S",
    " %H:%M",
    "T%H:%M:%S",
    "T%H:%M",
    " %H:%M:%S.%f",
    "T%H:%M:%S.%f",
    "T%H:%M:%SZ",
    "T%H:%M:%S.%fZ",
    " %I:%M %p",
    " %I:%M:%S %p",
)
# A time of day followed by a zone (``Z``, ``UTC``, ``+0000``, ``+05:30``): the zone is dropped and the wall-clock
# time kept, as the CRM showed it (Salesforce API exports write ``2024-01-22T16:14:25.000+0000``).
_ZONE = r"(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?)\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$"


def _with_times(dates: tuple[str, ...]) -> list[str]:
    return [d + t for d in dates for t in _TIMES]


@dataclass(frozen=True)
class DateFormat:
    """A family of strptime patterns that read one way of writing dates."""

    name: str
    patterns: tuple[str, ...]
    label: str  # how a person writes it, used in messages: YYYY-MM-DD, DD-MM-YYYY...
    # A regular expression every value the patterns read matches (a fixed constant, never user text):
    # detection tries the patterns only on such values, since a failed parse tries every pattern.
    shape: str = ""


# Two-digit years (``%y``, as Excel re-saves US dates: ``02/03/24``) come first: ``%Y`` would read ``24`` as year 24,
# while ``%y`` refuses a four-digit year.
ISO = DateFormat("iso", tuple(_with_times(("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"))), "YYYY-MM-DD", r"^\d{4}")
DMY = DateFormat(
    "dmy",
    tuple(_with_times(("%d-%m-%y", "%d/%m/%y", "%d.%m.%y", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y"))),
    "DD-MM-YYYY",
    r"^\d{1,2}[-/.]\d{1,2}[-/.]\d",
)
MDY = DateFormat(
    "mdy",
    tuple(_with_times(("%m/%d/%y", "%m-%d-%y", "%m.%d.%y", "%m/%d/%Y", "%m-%d-%Y", "%m.%d.%Y", "%b %d, %Y"))),
    "MM/DD/YYYY",
    r"^(\d{1,2}[-/.]\d{1,2}[-/.]\d|[A-Za-z]{3} \d)",
)
FORMATS = (ISO, DMY, MDY)

_ALIASES = {
    "iso": ISO,
    "yyyy-mm-dd": ISO,
    "ymd": ISO,
    "dmy": DMY,
    "dd-mm-yyyy": DMY,
    "dd/mm/yyyy": DMY,
    "dd.mm.yyyy": DMY,
    "mdy": MDY,
    "mm/dd/yyyy": MDY,
    "mm-dd-yyyy": MDY,
}
_STRPTIME_OK = re.compile(r"^(?:%[YmdHMSfbBjpyz%]|[^%])+$")


def date_format_from_flag(flag: str) -> DateFormat:
    """``--date-format``: a name (``iso``, ``dmy``, ``mdy``), a layout (``DD-MM-YYYY``, ``MM/DD/YYYY``...)
    or a strptime pattern (``%d-%m-%Y``)."""
    key = flag.strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    if "%" in flag and _STRPTIME_OK.match(flag):
        return DateFormat("custom", (flag,), flag)
    raise ImportParameterError("ingest.not_a_date_format", parameters=["date_format"], value=flag)


def text_sql(column: str) -> str:
    """SQL for the text of ``column`` trimmed, NULL when empty: ``nullif(trim(c), '')``, with ``trim`` (which
    allocates a new string) only where it can change something.

    DuckDB's ``trim`` strips Unicode space separators (U+0020, U+00A0, U+2000–U+200A...) and nothing else
    (not tabs or line breaks). A cell made only of ASCII characters (``strlen`` = ``length``) can therefore
    only start or end with U+0020, which ``prefix``/``suffix`` see without copying; every other cell is
    trimmed. ``column`` is a generated identifier (``c0``...), never user text."""
    c = column
    return (
        f"CASE WHEN prefix({c}, ' ') OR suffix({c}, ' ') OR strlen({c}) <> length({c}) "
        f"THEN nullif(trim({c}), '') ELSE nullif({c}, '') END"
    )


def date_sql(cell: str, shape: str = "", *, fast_iso: bool = False, raw: str | None = None) -> str:
    """SQL that reads the text in column ``cell`` as a timestamp with the patterns bound as ``$fmts``.

    A zone after the time (``Z``, ``+0000``, ``+05:30``, ``UTC``) is dropped: the wall-clock time is kept.
    ``cell`` is a generated identifier or expression over one (``c0``...), never user text; ``shape`` (a
    :class:`DateFormat`'s constant) skips the patterns for values that cannot match any of them;
    ``fast_iso`` reads plain ISO dates and date-times with DuckDB's cast first (the ISO family only), from
    ``raw`` (the untrimmed cell, when ``cell`` is an expression that trims it) or else ``cell``.
    """
    parse = f"try_strptime(regexp_replace({cell}, '{_ZONE}', '\\1'), $fmts)"
    if fast_iso:
        # ISO family: the two commonest shapes (YYYY-MM-DD, YYYY-MM-DD HH:MM:SS or with a T) through DuckDB's
        # native cast, behind a regular expression of exactly those shapes with hours 00-23 and minutes and
        # seconds 00-59 (the cast alone accepts more: '24:00:00' as the next day, a 'T ' separator, a
        # one-digit day); the cast refuses impossible days, and a refused value goes to the patterns.
        # tests/test_import_dates.py holds both ways to the same result.
        c = raw or cell
        native = (
            f"CASE WHEN regexp_full_match({c}, '\\d{{4}}-\\d{{2}}-\\d{{2}}([ T]([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d)?') "
            f"THEN TRY_CAST({c} AS TIMESTAMP) END"
        )
        # An empty cell needs neither: the patterns are tried only on a cell with text.
        parse = f"coalesce({native}, CASE WHEN {c} <> '' THEN {parse} END)"
    if not shape:
        return parse
    if "'" in shape:
        raise ValueError("a date shape must not contain quotes")
    return f"CASE WHEN regexp_matches({cell}, '{shape}') THEN {parse} END"


def number_sql(cell: str, decimal: str) -> str:
    """SQL that reads the text in column ``cell`` as a number with the given decimal separator.

    Accepts thousands separators (``1.234,50`` or ``1,234.50``), spaces and no-break spaces, and a
    currency sign or code before or after (kr, DKK, EUR, USD, $, €, £). Anything else is NULL.
    ``cell`` is a generated identifier (``c0``...), never user text.
    """
    cleaned = (
        f"regexp_replace(regexp_replace({cell}, '[\\s\\x{{00a0}}\\x{{202f}}]', '', 'g'), "
        "'^(kr\\.?|dkk|eur|usd|sek|nok|gbp|\\$|€|£)|(kr\\.?|dkk|eur|usd|sek|nok|gbp|\\$|€|£|,-)$', '', 'gi')"
    )
    if decimal == ",":
        pattern = r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$"
        body = f"replace(replace({cleaned}, '.', ''), ',', '.')"
        plain = r"^[+-]?\d+$"
    else:
        pattern = r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?([eE][+-]?\d+)?$"
        body = f"replace({cleaned}, ',', '')"
        plain = r"^[+-]?\d+(\.\d+)?$"
    # Plain numbers (the bulk of any export) are cast directly; only the rest is cleaned and checked.
    return (
        f"CASE WHEN regexp_full_match({cell}, '{plain}') THEN TRY_CAST({cell} AS DOUBLE) "
        f"WHEN regexp_full_match({cleaned}, '{pattern}') THEN TRY_CAST({body} AS DOUBLE) END"
    )


# Evidence for a decimal comma / decimal point in one cleaned text value.
COMMA_EVIDENCE = r"^[+-]?\d*(\.\d{3})*,\d{1,2}$|^[+-]?\d+,\d{4,}$|^[+-]?\d{1,3}(\.\d{3})+$"
POINT_EVIDENCE = r"^[+-]?\d*(,\d{3})*\.\d{1,2}$|^[+-]?\d+\.\d{4,}$|^[+-]?\d{1,3}(,\d{3})+$"
