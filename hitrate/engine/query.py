"""What to count: the query (groups, period, date range, filters) and period labels.

Light on purpose (no Ibis, no pandas): the command line builds queries before it knows
whether it needs the engine at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hitrate.errors import InvalidParameterError, UserInputError
from hitrate.i18n import Joined, Message, Param

PERIODS: dict[str, str] = {"week": "W", "month": "M", "quarter": "Q", "year": "Y"}
#: The first and last day a date given to hitrate may be: a period, window or horizon added to a day near the
#: calendar's ends overflows it (9999-12-31 has no next day), and pandas' timestamps end in 2262.
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


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
        by: str | Sequence[str] | None = (),
        period: str | None = None,
        date_from: dt.date | str | None = None,
        date_to: dt.date | str | None = None,
        where: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
    ) -> Query:
        """Validate and normalise query parameters.

        ``by`` may be one field name or several; dates may be ISO strings (``2024-01-31``); ``where`` maps a
        field to its accepted values, or is a list of ``FIELD=VALUE`` items (as :func:`parse_where` reads
        them). Raises :class:`~hitrate.errors.InvalidParameterError` for an unknown ``period`` and
        :class:`~hitrate.errors.UserInputError` for a field named twice in ``by``, ``period`` named as a
        field, or a date that is not one; every message names the parameter.
        """
        fields = as_fields(by)
        if period is not None and period not in PERIODS:
            raise InvalidParameterError("period", Message("engine.one_of", options=Joined(PERIODS)), period)
        if len(set(fields)) != len(fields):
            raise UserInputError("engine.by_twice", param=Param("by"), fields=Joined(fields))
        if "period" in fields:
            raise UserInputError("engine.period_not_a_field", param=Param("period"))
        return cls(
            by=fields,
            period=period,
            date_from=as_date(date_from, "date_from"),
            date_to=as_date(date_to, "date_to"),
            where=tuple(sorted((k, tuple(v)) for k, v in as_where(where).items())),
        )


def as_fields(by: str | Sequence[str] | None) -> tuple[str, ...]:
    """``by`` as a tuple of field names: one name (``"rep"``) or several (``["team", "rep"]``)."""
    if by is None:
        return ()
    return (by,) if isinstance(by, str) else tuple(by)


def as_where(where: Mapping[str, Sequence[str]] | Sequence[str] | None) -> dict[str, list[str]]:
    """``where`` as field -> accepted values: a mapping as it is, or ``FIELD=VALUE`` items (the command
    line's ``--where``) read by :func:`parse_where`."""
    if where is None:
        return {}
    if isinstance(where, Mapping):
        return {str(k): [v] if isinstance(v, str) else list(v) for k, v in where.items()}
    return parse_where([where] if isinstance(where, str) else list(where))


def as_date(value: dt.date | str | None, parameter: str) -> dt.date | None:
    """A date parameter (``date_from``, ``date_to``...) given as a date or ISO text; None stays None.

    Raises :class:`~hitrate.errors.UserInputError` naming ``parameter`` when the text is not a date, or the date
    is outside :data:`FIRST_DAY` .. :data:`LAST_DAY`."""
    if value is None:
        return value
    if isinstance(value, dt.date):
        return in_range(value, parameter)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise UserInputError("engine.not_a_date", param=Param(parameter), value=value) from None
    return in_range(day, parameter)


def in_range(day: dt.date, parameter: str, given: object = None) -> dt.date:
    """``day``; :class:`~hitrate.errors.UserInputError` naming ``parameter`` (and ``given``, what was written, by
    default the day) when it is outside :data:`FIRST_DAY` .. :data:`LAST_DAY`."""
    if not FIRST_DAY <= day <= LAST_DAY:
        shown = day.isoformat() if given is None else given
        raise UserInputError(
            "engine.date_out_of_range", param=Param(parameter), value=shown, first=FIRST_DAY, last=LAST_DAY
        )
    return day


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


def working_days(start: dt.date, end: dt.date) -> int:
    """Monday-to-Friday days from ``start`` to ``end``, both included (0 when ``end`` is before ``start``)."""
    import numpy as np

    return max(0, int(np.busday_count(start, end + dt.timedelta(days=1))))


def month_so_far(label: str, as_of: dt.date) -> tuple[int, int] | None:
    """For the month ``label`` (``2024-12``) as of ``as_of``: (working days so far, working days in the month)
    when the month is not over on that day, else None (a whole month, or one that has not begun)."""
    year, month = (int(x) for x in label.split("-", 1))
    first = dt.date(year, month, 1)
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    if not first <= as_of < last:
        return None
    return working_days(first, as_of), working_days(first, last)


def parse_where(items: Sequence[str] | None, name: str = Param("where")) -> dict[str, list[str]]:
    """``FIELD=VALUE`` items as field -> values (values of one field are alternatives).

    ``name`` is the parameter the items came from, for the message of
    :class:`~hitrate.errors.UserInputError` on an item without ``=``: a :class:`~hitrate.i18n.Param` (each
    face writes it its way: ``--where`` on the command line), or plain text shown as it is."""
    out: dict[str, list[str]] = {}
    for item in items or []:
        field, sep, value = item.partition("=")
        if not sep or not field.strip():
            raise UserInputError("engine.where_item", param=name, item=item)
        out.setdefault(field.strip(), []).append(value.strip())
    return out
