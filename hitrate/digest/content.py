"""What one recipient's weekly digest says (:func:`build_digest`), before it is written as a mail or a chat post.

Everything is in the recipient's scope, as the dashboard shows it (:func:`~hitrate.store.scope.scoped_where`): an
admin the whole store, a manager their teams, a rep their own deals. The digest holds:

- **This week and this month so far** (to the as-of date, default the data's export date: its latest created or
  closed date), each with its hit rate, attempts and Wilson interval, against the period before (last week, last
  month) and the same days a year earlier. A partial period says how far it is ("so far: 3 of 5 working days").
- **Changes beyond noise**: each of those four comparisons, and this month against last month per team (an admin)
  or per rep (a manager), is a two-proportion test (:func:`~hitrate.stats.compare.compare_proportions`: Pearson
  chi-square, Fisher's exact test for small counts); the p-values are adjusted together with Benjamini–Hochberg,
  and only changes whose adjusted p-value is below 5% are listed. Nothing else is called a change.
- **Goals off track**: the goals the recipient may see (:func:`~hitrate.store.scope.may_see`) whose probability of
  being reached is below one half (:func:`~hitrate.improve.goals.progress`).
- **Leads to work**: the five open leads in scope with the highest stored lead score (``hitrate score predict``).
- **The forecast**: expected wins by the end of the month, with an 80% interval (:func:`~hitrate.improve.forecast`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hitrate.engine.query import working_days
from hitrate.i18n import Message

if TYPE_CHECKING:
    from hitrate.stats.compare import Difference
    from hitrate.store.embedded import Store
    from hitrate.store.users import User

#: The false discovery rate below which a change is listed (Benjamini–Hochberg over the digest's comparisons).
NOISE_FDR = 0.05
#: How many open leads the digest names.
TOP_LEADS = 5
#: A goal is off track below this probability of being reached.
OFF_TRACK = 0.5


@dataclass(frozen=True)
class Rate:
    """The hit rate of a span of days: attempts, hits, the rate and its Wilson interval (None without attempts)."""

    start: dt.date
    end: dt.date
    attempts: int
    hits: int
    rate: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Change:
    """A change beyond noise: ``subject`` (a team or rep; "" for the whole scope) in ``span`` against
    ``against``, the difference with its Newcombe interval and the Benjamini–Hochberg-adjusted p-value."""

    subject: str
    span: str
    against: str
    difference: Difference
    p_adjusted: float


@dataclass(frozen=True)
class Window:
    """This week or this month so far (``span``: ``week`` or ``month``), the period before and a year before,
    and how far the span is (working days so far, of all)."""

    span: str
    current: Rate
    previous: Rate
    last_year: Rate
    days_so_far: int
    days_in_all: int


@dataclass
class Digest:
    """One recipient's digest: their account, the language, the as-of date and the ISO week it is for, the
    windows, the changes beyond noise, off-track goals, leads to work, the forecast and the dashboard link."""

    user: User
    lang: str
    as_of: dt.date
    period: str
    windows: list[Window]
    changes: list[Change]
    goals: list[dict[str, Any]]
    leads: list[dict[str, Any]]
    forecast: dict[str, Any] | None
    dashboard_url: str | None = None

    def headline(self) -> Message:
        """The first sentence: this month's hit rate so far in plain words, and whether it moved beyond noise."""
        month = next(w for w in self.windows if w.span == "month")
        moved = [c for c in self.changes if c.subject == "" and c.span == "month" and c.against == "previous"]
        if month.current.attempts == 0:
            return Message("digest.headline_none")
        key = "digest.headline_same"
        if moved:
            key = "digest.headline_up" if moved[0].difference.difference > 0 else "digest.headline_down"
        return Message(
            key,
            rate=month.current.rate,
            hits=month.current.hits,
            attempts=month.current.attempts,
            before=month.previous.rate,
        )


def week_key(day: dt.date) -> str:
    """The ISO week of ``day`` as ``2024-W49``: the period a digest is for (nothing is sent twice for it)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _year_before(day: dt.date) -> dt.date:
    """The same date a year earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


Span = tuple[dt.date, dt.date]


def spans(as_of: dt.date) -> dict[str, tuple[Span, Span, Span]]:
    """For ``week`` and ``month``: (this span so far, the whole span before, the same days a year before).

    The week is ISO (Monday to Sunday); a year before it is the same ISO week's same weekdays of the year before.
    """
    monday = as_of - dt.timedelta(days=as_of.weekday())
    year, week, weekday = as_of.isocalendar()
    try:
        monday_then = dt.date.fromisocalendar(year - 1, week, 1)
    except ValueError:  # week 53 in a year of 52
        monday_then = dt.date.fromisocalendar(year - 1, 52, 1)
    first = as_of.replace(day=1)
    last_month_end = first - dt.timedelta(days=1)
    return {
        "week": (
            (monday, as_of),
            (monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)),
            (monday_then, monday_then + dt.timedelta(days=weekday - 1)),
        ),
        "month": (
            (first, as_of),
            (last_month_end.replace(day=1), last_month_end),
            (_year_before(first), _year_before(as_of)),
        ),
    }


def build_digest(
    store: Store,
    user: User,
    *,
    as_of: dt.date | str | None = None,
    lang: str = "en",
    dashboard_url: str | None = None,
) -> Digest:
    """The digest of ``user`` (their scope) as of ``as_of`` (default the data's export date); see the module
    docstring for what it holds and the methods."""
    from hitrate.engine.query import as_date
    from hitrate.improve.goals import data_as_of
    from hitrate.store.scope import scoped_where

    day = as_date(as_of, "as_of") if as_of is not None else data_as_of(store)
    assert day is not None
    where = scoped_where(user)
    windows = [_window(store, span, *periods, where) for span, periods in spans(day).items()]
    group = {"admin": "team", "manager": "rep"}.get(user.role)
    groups = _group_changes(store, group, spans(day)["month"], where) if group else []
    tests: list[tuple[str, str, str, Difference]] = []
    for w in windows:
        for against, before in (("previous", w.previous), ("last_year", w.last_year)):
            diff = _difference(w.current, before)
            if diff is not None:
                tests.append(("", w.span, against, diff))
    tests += groups
    changes = _beyond_noise(tests)
    return Digest(
        user=user,
        lang=lang,
        as_of=day,
        period=week_key(day),
        windows=windows,
        changes=changes,
        goals=_goals(store, user, where),
        leads=_leads(store, where),
        forecast=_forecast(store, day, where),
        dashboard_url=dashboard_url,
    )


def _rows(store: Store, **query: Any) -> list[dict[str, Any]]:
    """``hitrate rates`` rows (counted by the engine). Its small-sample warnings are not repeated: the digest
    shows every rate with its attempts and interval, and calls nothing a change unless it is beyond noise."""
    import warnings

    from hitrate.analysis.rates import rates
    from hitrate.errors import HitrateWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HitrateWarning)
        records: list[dict[str, Any]] = rates(store, **query).rows.to_dict("records")  # type: ignore[assignment]
        return records


def _rate(store: Store, start: dt.date, end: dt.date, where: Mapping[str, Sequence[str]]) -> Rate:
    rows = _rows(store, date_from=start, date_to=end, where=where)
    if not rows or not rows[0]["attempts"]:
        return Rate(start, end, 0, 0, None, None, None)
    r = rows[0]
    return Rate(start, end, int(r["attempts"]), int(r["hits"]), r["hit_rate"], r["ci_low"], r["ci_high"])


def _window(
    store: Store,
    span: str,
    current: Span,
    previous: Span,
    last_year: Span,
    where: Mapping[str, Sequence[str]],
) -> Window:
    whole_end = current[0] + (dt.timedelta(days=6) if span == "week" else _month_length(current[0]))
    return Window(
        span=span,
        current=_rate(store, *current, where),
        previous=_rate(store, *previous, where),
        last_year=_rate(store, *last_year, where),
        days_so_far=working_days(*current),
        days_in_all=working_days(current[0], whole_end),
    )


def _month_length(first: dt.date) -> dt.timedelta:
    """From the first of a month to its last day."""
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1) - first


def _difference(a: Rate, b: Rate) -> Difference | None:
    from hitrate.stats.compare import compare_proportions

    if not a.attempts or not b.attempts:
        return None
    return compare_proportions(a.hits, a.attempts, b.hits, b.attempts)


def _group_changes(
    store: Store,
    group: str,
    month: tuple[Span, Span, Span],
    where: Mapping[str, Sequence[str]],
) -> list[tuple[str, str, str, Difference]]:
    """This month so far against last month, per ``group`` value (counted by the engine, two queries)."""
    (start, end), (p_start, p_end), _ = month
    now = {r[group]: r for r in _rows(store, by=group, date_from=start, date_to=end, where=where)}
    before = {r[group]: r for r in _rows(store, by=group, date_from=p_start, date_to=p_end, where=where)}
    out = []
    for value in sorted(set(now) & set(before), key=str):
        if value is None:
            continue
        a, b = now[value], before[value]
        diff = _difference(
            Rate(start, end, int(a["attempts"]), int(a["hits"]), None, None, None),
            Rate(p_start, p_end, int(b["attempts"]), int(b["hits"]), None, None, None),
        )
        if diff is not None:
            out.append((str(value), "month", "previous", diff))
    return out


def _beyond_noise(tests: list[tuple[str, str, str, Difference]]) -> list[Change]:
    """The comparisons whose Benjamini–Hochberg-adjusted p-value (over all of them) is below :data:`NOISE_FDR`,
    largest change first."""
    from hitrate.stats.multiple import benjamini_hochberg

    if not tests:
        return []
    adjusted = benjamini_hochberg([t[3].p_value for t in tests])
    kept = [Change(s, span, against, d, float(q)) for (s, span, against, d), q in zip(tests, adjusted, strict=True)]
    kept = [c for c in kept if c.p_adjusted < NOISE_FDR]
    return sorted(kept, key=lambda c: (c.subject != "", -abs(c.difference.difference), c.subject))


def _goals(store: Store, user: User, where: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    """Off-track goals the user may see, least likely first."""
    from hitrate.improve.goals import list_goals, progress
    from hitrate.store.scope import may_see

    reps: set[str] = set()
    if user.role == "manager":
        reps = {str(r["rep"]) for r in _rows(store, by="rep", where=where) if r["rep"] is not None}
    ids = [g.goal_id for g in list_goals(store) if may_see(user, g.field, g.value, reps)]
    if not ids:
        return []
    rows = progress(store, ids=ids, threshold=OFF_TRACK).off_track()
    return sorted(rows, key=lambda r: (r["probability"], r["goal_id"]))


def _leads(store: Store, where: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    from hitrate.scoring.stored import scored_leads

    return list(scored_leads(store, where, TOP_LEADS, open_only=True)["leads"])


def _forecast(store: Store, as_of: dt.date, where: Mapping[str, Sequence[str]]) -> dict[str, Any] | None:
    """Expected wins by the end of the month (80% interval), or None when the data cannot give one."""
    import warnings

    from hitrate.errors import HitrateError
    from hitrate.improve.forecast import forecast

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = forecast(store, as_of=as_of + dt.timedelta(days=1), horizon="month", where=where)
    except HitrateError:
        return None
    rows = result.to_dict()["rows"]
    return rows[0] if rows else None
