"""What to count: the query (groups, period, date range, filters) and period labels.

Light on purpose (no Ibis, no pandas): the command line builds queries before it knows
whether it needs the engine at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hitrate.errors import UserInputError

PERIODS: dict[str, str] = {"week": "W", "month": "M", "quarter": "Q", "year": "Y"}


@dataclass(frozen=True)
class Query:
    """What to count: groups, period, date range and equality filters (``where``)."""

    by: tuple[str, ...] = ()
    period: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def build(
        cls,
        *,
        by: Sequence[str] = (),
        period: str | None = None,
        date_from: dt.date | str | None = None,
        date_to: dt.date | str | None = None,
        where: Mapping[str, Sequence[str]] | None = None,
    ) -> Query:
        """Validate and normalise query parameters (dates may be ISO strings)."""
        if period is not None and period not in PERIODS:
            raise UserInputError(f"The 'period' parameter must be one of {', '.join(PERIODS)}. Got '{period}' instead.")
        if len(set(by)) != len(by):
            raise UserInputError(f"--by names a field twice: {', '.join(by)}")
        if "period" in by:
            raise UserInputError("'period' is not a field; use --period week|month|quarter|year")
        return cls(
            by=tuple(by),
            period=period,
            date_from=_as_date(date_from, "--from"),
            date_to=_as_date(date_to, "--to"),
            where=tuple(sorted((k, tuple(v)) for k, v in (where or {}).items())),
        )


def _as_date(value: dt.date | str | None, flag: str) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserInputError(f"{flag}: '{value}' is not a date; expected YYYY-MM-DD") from None


def period_label(start: dt.datetime | dt.date, period: str) -> str:
    """``2017-03`` (month), ``2017-Q1`` (quarter), ``2017-W09`` (ISO week), ``2017`` (year)."""
    if period == "month":
        return f"{start.year:04d}-{start.month:02d}"
    if period == "quarter":
        return f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}"
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return f"{start.year:04d}"


def parse_where(items: Sequence[str] | None, name: str = "where") -> dict[str, list[str]]:
    """``FIELD=VALUE`` items as field -> values (values of one field are alternatives); ``name`` is how the
    caller calls the parameter, for the message."""
    out: dict[str, list[str]] = {}
    for item in items or []:
        field, sep, value = item.partition("=")
        if not sep or not field.strip():
            raise UserInputError(f"{name} '{item}': expected FIELD=VALUE (e.g. {name} team=North)")
        out.setdefault(field.strip(), []).append(value.strip())
    return out
