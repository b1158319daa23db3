"""Odds in every format bettors write them, converted exactly to decimal odds.

Formats (``--odds-format``; ``auto`` detects them per value and per column):

- **decimal** ``2.10`` (the stake included in the return), also with a decimal comma ``2,10``;
- **fractional** ``5/2`` (profit over stake), ``evens`` (= ``1/1``): decimal = 1 + 5/2 = 3.5;
- **American** (moneyline) ``+300`` (profit on a stake of 100): decimal = 1 + 300/100 = 4.0; ``-150`` (stake
  needed to win 100): decimal = 1 + 100/150 ≈ 1.667. American odds never lie strictly between −100 and +100.

``auto``: a value with a sign is American, one with a slash (or ``evens``) fractional, one with a comma a
decimal comma, a plain number decimal, except in a column that holds signed values, where a plain number of
at least 100 is American too (``300`` next to ``-150`` is ``+300``, never decimal odds of 300).

A value that fits no format, or decimal odds not above 1.0, is not a price: :func:`odds_problem` gives the
reason, and the bet is left out and counted (never read as something else).

Two faces of the same rules: :func:`decimal_odds_expr` (an Ibis expression, run in the engine on every
row) and :func:`to_decimal` (one value in Python, for the CLI, tests and the round trip).
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

FORMATS = ("auto", "decimal", "fractional", "american")
EVENS = ("evens", "evs", "even", "ev")

AMERICAN_RE = r"^[+-][0-9]+(\.[0-9]+)?$"
FRACTIONAL_RE = r"^[0-9]+(\.[0-9]+)?/[0-9]+(\.[0-9]+)?$"
DECIMAL_COMMA_RE = r"^[0-9]+,[0-9]+$"
DECIMAL_RE = r"^[0-9]+(\.[0-9]+)?$"


def _american(value: float) -> float | None:
    if value >= 100:
        return 1 + value / 100
    if value <= -100:
        return 1 + 100 / -value
    return None


def to_decimal(text: str | float | None, fmt: str = "auto", *, signed_column: bool = False) -> float | None:
    """Decimal odds of one value written in ``fmt`` (see the module docstring), or None when it is no price.

    ``signed_column``: the value's column holds American odds with a sign (``auto`` then reads plain numbers
    of 100 or more as American too).
    """
    if text is None:
        return None
    s = str(text).strip().lower()
    if fmt in ("auto", "fractional") and s in EVENS:
        return 2.0
    if fmt in ("auto", "fractional") and re.fullmatch(FRACTIONAL_RE, s):
        num, den = (Fraction(part) for part in s.split("/"))
        return float(1 + num / den) if den > 0 else None
    if fmt == "fractional":
        return None
    if re.fullmatch(AMERICAN_RE, s) and fmt in ("auto", "american"):
        return _american(float(s))
    if fmt in ("auto", "decimal") and re.fullmatch(DECIMAL_COMMA_RE, s):
        s = s.replace(",", ".")
    if not re.fullmatch(DECIMAL_RE, s):
        return None
    value = float(s)
    if fmt == "american" or (fmt == "auto" and signed_column and value >= 100):
        return _american(value)
    return value if value > 1.0 else None


def from_decimal(decimal: float, fmt: str) -> str:
    """``decimal`` odds written in ``fmt`` (``decimal``, ``fractional`` or ``american``): the inverse of
    :func:`to_decimal` (fractions in lowest terms from the exact binary value; American with a sign)."""
    if fmt == "decimal":
        return repr(float(decimal))
    profit = Fraction(decimal) - 1
    if fmt == "fractional":
        return f"{profit.numerator}/{profit.denominator}"
    american = profit * 100 if profit >= 1 else -100 / profit
    return f"{float(american):+.17g}"


def decimal_odds_expr(raw: Any, fmt: str = "auto") -> Any:
    """Decimal odds of an Ibis column of odds written in ``fmt`` (NULL where a value is no price).

    Same rules as :func:`to_decimal`; ``auto``'s column rule uses a window over the whole column.
    """
    import ibis

    s = raw.cast("string").strip().lower()
    number = s.try_cast("float64")
    american = ibis.cases((number >= 100, 1 + number / 100), (number <= -100, 1 + 100 / -number), else_=None)
    num = s.re_extract(r"^([0-9.]+)/", 1).try_cast("float64")
    den = s.re_extract(r"/([0-9.]+)$", 1).try_cast("float64")
    fractional = ibis.cases((s.isin(EVENS), 2.0), (s.re_search(FRACTIONAL_RE) & (den > 0), 1 + num / den), else_=None)
    plain = ibis.cases(
        (s.re_search(DECIMAL_RE), number),
        (s.re_search(DECIMAL_COMMA_RE), s.replace(",", ".").try_cast("float64")),
        else_=None,
    )
    decimal = ibis.ifelse(plain > 1.0, plain, None)
    signed = s.re_search(AMERICAN_RE)
    if fmt == "decimal":
        return decimal
    if fmt == "fractional":
        return fractional
    if fmt == "american":
        return ibis.ifelse(signed | s.re_search(DECIMAL_RE), american, None)
    signed_column = signed.any().over(ibis.window())
    return ibis.cases(
        (s.isin(EVENS) | s.re_search(FRACTIONAL_RE), fractional),
        (signed, american),
        (signed_column & s.re_search(DECIMAL_RE) & (number >= 100), american),
        else_=decimal,
    )


def odds_problem(raw: Any, decimal: Any) -> Any:
    """Why a row's odds are no price (Ibis): ``missing``, ``not_above_one`` (decimal odds ≤ 1.0), ``unreadable``,
    or NULL when ``decimal`` holds the price."""
    import ibis

    s = raw.cast("string").strip()
    number = s.replace(",", ".").try_cast("float64")
    return ibis.cases(
        (decimal.notnull(), ibis.null("string")),
        (raw.isnull() | (s == ""), "missing"),
        (number.notnull() & (number <= 1.0) & ~s.re_search(AMERICAN_RE), "not_above_one"),
        else_="unreadable",
    )
