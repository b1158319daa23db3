"""Numbers, percentages, money and dates, formatted per language by Babel (CLDR locale data).

One function per kind of value, each taking the language: ``percent(0.4502, "en")`` is ``45.0%``,
``percent(0.4502, "da")`` is ``45,0 %``; ``integer(1234567, "da")`` is ``1.234.567``;
``money(1234.5, "DKK", "da")`` is ``1.234,50 kr.``; ``date(d, "da")`` is ``1. okt. 2024``. Every face (command
line, report, web, rep card) formats through here, so a number reads the same wherever it is shown.
Missing values (None, NaN, NaT, ``pd.NA``) print as :data:`MISSING`, an en dash.

The signs, patterns and month names come from CLDR through Babel (imported on first use); the rounding is
Python's own, so a number reads the same in every language and as the command line has always printed it.
Babel's non-breaking spaces are written as plain spaces, so text compares and wraps the same in a terminal,
a test and a browser.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from functools import cache
from typing import Any

MISSING = "–"
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


def is_missing(value: Any) -> bool:
    """True for ``None``, NaN, ``pd.NA`` and ``NaT`` (anything that is not a real value)."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return False
    try:
        return bool(value != value)  # NaN-like values (NaT, Decimal("NaN")) are not equal to themselves
    except TypeError:
        return True  # pd.NA: its comparisons return pd.NA, whose truth value is ambiguous


@cache
def _locale(lang: str) -> Any:
    from babel import Locale

    from . import check_lang

    return Locale.parse(check_lang(lang))


@cache
def _symbols(lang: str) -> tuple[str, str, str, str, str]:
    """(decimal sign, group sign, minus sign, percent prefix, percent suffix) of the language, from CLDR."""
    from babel.numbers import get_decimal_symbol, get_group_symbol, get_minus_sign_symbol

    locale = _locale(lang)
    pattern = locale.percent_formats[None]
    return (
        get_decimal_symbol(locale),
        get_group_symbol(locale),
        get_minus_sign_symbol(locale),
        str(pattern.prefix[0]),
        str(pattern.suffix[0]).translate(_SPACES),
    )


def _localised(text: str, lang: str) -> str:
    """Python's ``1,234.5`` / ``-3`` written with the language's signs."""
    decimal, group, minus, _, _ = _symbols(lang)
    return text.replace(",", "\0").replace(".", decimal).replace("\0", group).replace("-", minus)


def number(value: Any, lang: str, digits: int = 2) -> str:
    """A number with ``digits`` decimals and the language's separators (``1,234.50`` / ``1.234,50``).

    Rounding is Python's (the value's exact binary expansion, halves to even), so a number reads the same
    in every language and as the command line always printed it; the signs come from CLDR (Babel).
    """
    if is_missing(value):
        return MISSING
    if math.isinf(float(value)):
        return "∞" if float(value) > 0 else "-∞"
    return _localised(f"{float(value):,.{digits}f}", lang)


def integer(value: Any, lang: str) -> str:
    """A whole number with thousands separators (``1,234`` / ``1.234``)."""
    if is_missing(value):
        return MISSING
    return number(int(value), lang, 0)


def amount(value: Any, lang: str) -> str:
    """An amount of money without its currency, rounded to a whole number (``1,234,567`` / ``1.234.567``)."""
    if is_missing(value):
        return MISSING
    return number(round(float(value)), lang, 0)


def money(value: Any, currency: str | None, lang: str, digits: int = 0) -> str:
    """An amount with its currency in the language's way (``$1,235`` / ``1.235 kr.``); without a currency
    code, :func:`amount`."""
    if is_missing(value):
        return MISSING
    if not currency:
        return amount(value, lang) if digits == 0 else number(value, lang, digits)
    from babel.numbers import format_currency

    pattern = str(_locale(lang).currency_formats["standard"].pattern)
    if digits == 0:
        pattern = pattern.replace("#,##0.00", "#,##0")
    text = format_currency(float(value), currency, format=pattern, locale=_locale(lang), currency_digits=digits != 0)
    return str(text).translate(_SPACES)


def percent(value: Any, lang: str, digits: int = 1) -> str:
    """A proportion as a percentage: ``0.4502`` -> ``45.0%`` (en) / ``45,0 %`` (da)."""
    if is_missing(value):
        return MISSING
    _, _, _, prefix, suffix = _symbols(lang)
    return prefix + percent_number(value, lang, digits) + suffix


def percent_number(value: Any, lang: str, digits: int = 1) -> str:
    """A proportion as a percentage without the sign: ``0.4502`` -> ``45.0`` / ``45,0``."""
    if is_missing(value):
        return MISSING
    return _localised(f"{float(value):.{digits}%}"[:-1], lang)


def interval(low: Any, high: Any, lang: str, digits: int = 1) -> str:
    """An interval of proportions: ``36.4–53.9%`` (en) / ``36,4–53,9 %`` (da); :data:`MISSING` if an end is."""
    if is_missing(low) or is_missing(high):
        return MISSING
    whole = percent(high, lang, digits)
    high_number = percent_number(high, lang, digits)
    return whole.replace(high_number, f"{percent_number(low, lang, digits)}–{high_number}", 1)


def points(value: Any, lang: str, digits: int = 1) -> str:
    """A difference of proportions in percentage points, signed: ``+3.2`` / ``−1,5`` (no unit)."""
    if is_missing(value):
        return MISSING
    text = number(abs(float(value)) * 100, lang, digits)
    return ("+" if float(value) >= 0 else "−") + text


def factor(value: Any, lang: str) -> str:
    """A multiplicative factor with two decimals (``1.23`` / ``1,23``); ``∞`` when unbounded."""
    return number(value, lang, 2)


def factor_interval(low: Any, high: Any, lang: str) -> str:
    """An interval of factors, ``0.91–1.32``; :data:`MISSING` if either end is missing."""
    if is_missing(low) or is_missing(high):
        return MISSING
    return f"{factor(low, lang)}–{factor(high, lang)}"


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime()
    return value if isinstance(value, dt.date) else None


def date(value: Any, lang: str) -> str:
    """A date in the language's medium style: ``Oct 1, 2024`` / ``1. okt. 2024`` (a time of day is left out)."""
    if is_missing(value):
        return MISSING
    day = _as_date(value)
    if day is None:
        return str(value)
    from babel.dates import format_date

    plain = day.date() if isinstance(day, dt.datetime) else day
    return str(format_date(plain, "medium", locale=_locale(lang))).translate(_SPACES)


def datetime(value: Any, lang: str) -> str:
    """A date and time of day: ``Oct 1, 2024, 2:05 PM`` / ``1. okt. 2024 14.05``; midnight prints as the date."""
    if is_missing(value):
        return MISSING
    moment = _as_date(value)
    if moment is None:
        return str(value)
    if not isinstance(moment, dt.datetime) or moment.time() == dt.time():
        return date(moment, lang)
    from babel.dates import format_time

    joined = str(_locale(lang).datetime_formats["medium"])  # "{1}, {0}": {1} the date, {0} the time
    text = joined.replace("{1}", date(moment, lang)).replace("{0}", format_time(moment, "short", locale=_locale(lang)))
    return text.translate(_SPACES)


def iso_date(value: Any) -> str:
    """A date as ``YYYY-MM-DD`` (any language): machine-readable places such as CSV files and periods."""
    if is_missing(value):
        return MISSING
    day = _as_date(value)
    if day is None:
        return str(value)
    return (day.date() if isinstance(day, dt.datetime) else day).isoformat()


def label(value: Any) -> str:
    """A row label as text: dates without a midnight time, whole floats without ``.0``."""
    if is_missing(value):
        return MISSING
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat) and hasattr(value, "hour"):
        if (value.hour, value.minute, value.second, getattr(value, "microsecond", 0)) == (0, 0, 0, 0):
            return str(value.date()) if hasattr(value, "date") else str(isoformat())
        return str(isoformat(sep=" ", timespec="minutes"))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


#: Format specs of message placeholders: ``{rate:pct}``, ``{n:int}``, ``{day:date}``...
SPECS: dict[str, Callable[[Any, str], str]] = {
    "pct": percent,
    "pct0": lambda v, lang: percent(v, lang, 0),
    "pct2": lambda v, lang: percent(v, lang, 2),
    "spct0": lambda v, lang: ("+" if not is_missing(v) and float(v) >= 0 else "") + percent(v, lang, 0),
    "pts": points,
    "int": integer,
    "num": number,
    "num0": lambda v, lang: number(v, lang, 0),
    "num1": lambda v, lang: number(v, lang, 1),
    "num3": lambda v, lang: number(v, lang, 3),
    "amount": amount,
    "factor": factor,
    "date": date,
    "datetime": datetime,
    "iso": lambda v, lang: iso_date(v),
    "period": lambda v, lang: period(v, lang),
}


_PERIOD = re.compile(r"^(\d{4})(?:-(Q[1-4]|W\d{2}|\d{2}))?$")


def period(label: Any, lang: str) -> str:
    """A period label as people read it: in English as hitrate writes it (``2024-Q2``, ``2024-03``,
    ``2024-W09``, ``2024``); in Danish ``2. kvt. 2024``, ``mar. 2024``, ``uge 9 2024``, ``2024``. Anything else
    (not a period label) is returned as :func:`label` gives it."""
    text = label if isinstance(label, str) else None
    found = _PERIOD.match(text) if text is not None else None
    if found is None or lang == "en":
        return MISSING if is_missing(label) else str(label)
    year, part = found.group(1), found.group(2)
    if part is None:
        return year
    from hitrate.i18n import text as words

    if part.startswith("Q"):
        return words("format.quarter", lang, n=part[1], year=year)
    if part.startswith("W"):
        return words("format.week", lang, n=int(part[1:]), year=year)
    from babel.dates import format_date

    month = format_date(dt.date(int(year), int(part), 1), "MMM", locale=_locale(lang))
    return words("format.month", lang, month=str(month).translate(_SPACES), year=year)
