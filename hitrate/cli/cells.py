"""How a value reads in a table cell or a message: counts, numbers, percentages, intervals, p-values.

Every number goes through :mod:`hitrate.i18n.format` in the command line's language, rounded first as Python's
own format rounds (``f"{x:.1%}"``), so the English output reads exactly as it always has; ``group=False`` keeps a
number without thousands separators where the command line always printed it so (counts in the import table,
factors, days).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from hitrate.cli.output import language, text
from hitrate.i18n import format as fmt

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions
    from rich.measure import Measurement
    from rich.segment import Segment

#: A cell whose value cannot be computed.
MISSING = fmt.MISSING


@functools.cache
def _symbols(lang: str) -> tuple[str, str]:
    """The language's (decimal, group) separators, read off the formatter."""
    return fmt.number(0.5, lang, 1)[1], fmt.integer(1000, lang)[1]


def _ungrouped(formatted: str) -> str:
    return formatted.replace(_symbols(language())[1], "")


def integer(value: Any, *, group: bool = True) -> str:
    """A count with thousands separators (``1,234``); ``group=False`` without (``1234``)."""
    if fmt.is_missing(value):
        return fmt.MISSING
    out = fmt.integer(value, language())
    return out if group else _ungrouped(out)


def number(value: Any, digits: int = 2, *, group: bool = True, sign: bool = False) -> str:
    """A number with ``digits`` decimals (``1,234.5``); ``group=False`` leaves out the thousands separator (factors,
    days), ``sign=True`` writes ``+`` before positive numbers."""
    if fmt.is_missing(value):
        return fmt.MISSING
    value = float(value)
    if math.isinf(value):
        return fmt.number(value, language(), digits)
    rounded = round(value, digits)
    out = fmt.number(abs(rounded), language(), digits)
    if not group:
        out = _ungrouped(out)
    negative = math.copysign(1.0, rounded) < 0
    return ("-" if negative else "+" if sign else "") + out


def percent(value: Any, digits: int = 1, *, sign: bool = False) -> str:
    """A proportion as a percentage (``45.0%``); ``sign=True`` for a change (``+3.2%``, ``-1.5%``)."""
    if fmt.is_missing(value):
        return fmt.MISSING
    rounded = round(float(value) * 100, digits)
    out = _ungrouped(fmt.percent(abs(rounded) / 100, language(), digits))
    negative = math.copysign(1.0, rounded) < 0
    return ("-" if negative else "+" if sign else "") + out


def significant(value: Any, digits: int = 3) -> str:
    """A number to ``digits`` significant digits (p-values, ``0.0312``, ``1.2e-05``)."""
    if fmt.is_missing(value):
        return fmt.MISSING
    return f"{float(value):.{digits}g}".replace(".", _symbols(language())[0])


def interval(low: str, high: str, *, style: str = "dash") -> str:
    """Two formatted ends as an interval: ``style`` ``dash`` (``1.0%–2.0%``), ``spaced`` (``1.0% – 2.0%``),
    ``hyphen`` (``1.0%-2.0%``) or ``to`` (``+1.0% to +2.0%``)."""
    return text(f"cli.range.{style}", low=low, high=high)


def estimate(value: str, low: str, high: str, *, style: str = "dash") -> str:
    """A formatted estimate with its interval: ``45.0% (40.1%–49.9%)`` (``style`` as in :func:`interval`)."""
    return text("cli.estimate", value=value, interval=interval(low, high, style=style))


def rate(value: Any, low: Any, high: Any, *, style: str = "dash", sign: bool = False, empty: str = "") -> str:
    """A proportion with its interval as percentages (``45.0% (40.1%-49.9%)``); ``empty`` when it is missing."""
    if fmt.is_missing(value):
        return empty
    return estimate(percent(value, sign=sign), percent(low, sign=sign), percent(high, sign=sign), style=style)


def label(value: Any, field: str | None = None) -> str:
    """A group's value as a table label; a missing one is named after its ``field`` (``(no rep)``), never a
    blank row."""
    if value is None or fmt.is_missing(value):
        return text("rates.no_value", field=field) if field else ""
    if field == "period":  # "2. kvt. 2024" in Danish; hitrate's own label in English
        return fmt.period(value, language())
    return str(value)


#: A bar's width in characters, and its eighths: ``▏`` is one eighth of a character, ``█`` a whole one.
BAR_WIDTH = 12
EIGHTHS = " ▏▎▍▌▋▊▉"


class Bar:
    """A rate drawn as a horizontal bar of ``eighths`` eighths of a character (up to :data:`BAR_WIDTH`
    characters), a Rich renderable for a table cell. On a terminal that cannot show the block characters
    (Rich's ``ascii_only``: a legacy code page, ``PYTHONIOENCODING=ascii``) it is drawn with ``#``, one a
    whole character, rounded."""

    def __init__(self, eighths: int) -> None:
        self.eighths = eighths

    def text(self, *, ascii: bool = False) -> str:
        """The bar as characters."""
        if ascii:
            return "#" * (max(1, round(self.eighths / 8)) if self.eighths else 0)
        whole, part = divmod(self.eighths, 8)
        return "█" * whole + (EIGHTHS[part] if part else "")

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        from rich.segment import Segment

        yield Segment(self.text(ascii=options.ascii_only).ljust(BAR_WIDTH))

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        from rich.measure import Measurement

        return Measurement(BAR_WIDTH, BAR_WIDTH)

    def __str__(self) -> str:
        return self.text()


def bars(values: Iterable[Any]) -> list[Bar]:
    """Rates as bars scaled across them, so the shape of a series shows at a glance: the lowest rate a sliver
    (one eighth), the highest :data:`BAR_WIDTH` characters, the rest in between; a missing rate no bar, equal
    rates all full."""
    rates = [None if fmt.is_missing(v) else float(v) for v in values]
    known = [r for r in rates if r is not None]
    low, high = (min(known), max(known)) if known else (0.0, 0.0)
    most = BAR_WIDTH * 8
    out = []
    for r in rates:
        if r is None:
            out.append(Bar(0))
        elif high == low:
            out.append(Bar(most))
        else:
            out.append(Bar(1 + round((r - low) / (high - low) * (most - 1))))
    return out
