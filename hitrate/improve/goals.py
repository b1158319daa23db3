"""Hit-rate goals per rep or team (any field's value) and period: progress to date and the chance of making it.

A goal is kept in the store's ``goals`` table: the group (``field = value``), the target rate, the period
(a month, a quarter, a year or any start–end dates) and who set it. :func:`progress` gives, per goal:

* **to date**: attempts, hits, hit rate and its Wilson interval over the period so far, counted exactly as
  ``hitrate rates --where FIELD=VALUE --from START --to END`` counts them (the same engine query);
* **the open pipeline**: each open deal of the group gets P(closes within the period) from the time-to-close
  curve (Aalen–Johansen, won and lost competing, open deals censored, pooled over all deals of the store by
  deal age: ``1 - S(age + days to period end) / S(age)``) and P(won | it closes) from its lead score
  (``lead_scores``, written by ``hitrate score predict``) or, without one, the group's own closed-basis hit rate
  over the last year shrunk towards its peers (beta-binomial empirical Bayes over every value of the field),
  with the odds multiplied by the month-of-year factor of each month the deal may close in (the binomial-GLM
  seasonal decomposition of ``hitrate trend``, over the whole store; none with less than two years of data);
* **the chance of making it**: the distribution of the deals' final (wins, losses) is computed exactly by
  convolution (:mod:`hitrate.stats.poisson_binomial`), and P(final rate ≥ target) read off it.

Assumptions, stated in every output: deals are independent; whether an open deal is won does not depend on
when it closes; deals not yet created do not count; the time-to-close pattern of past deals holds.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from hitrate.engine.query import in_range
from hitrate.errors import InvalidValueError, NotFoundError, UnknownFieldError, UserInputError
from hitrate.i18n import DEFAULT_LANG, Joined, Message, Param, Phrase
from hitrate.improve._base import RecordList, RowsResult

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from hitrate.store.embedded import Store

#: The assumptions of the probability, stated in every output.
ASSUMPTIONS = Message("goals.assumptions")
RATE_DAYS = 365  # the window of the group's own rate, when an open deal has no lead score
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Goal:
    """A hit-rate goal: ``field = value`` should reach ``target`` over ``start``..``end`` (inclusive)."""

    goal_id: int
    field: str
    value: str
    target: float
    start: dt.date
    end: dt.date
    set_by: str
    created: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        """The goal as JSON-ready data (dates as ISO text)."""
        from hitrate.report.result import json_ready

        out: dict[str, Any] = json_ready(self)
        out["created"] = self.created.isoformat(timespec="seconds")
        return out


class GoalList(RecordList[Goal]):
    """The goals in the store (``hitrate goals list``): a list of :class:`Goal` that is also a result."""

    KEY = "goals"
    TITLE = "goals.list_title"
    HEADLINE = "goals.list_headline"

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """Each goal's target, by who it is for."""
        import plotly.graph_objects as go

        fig = go.Figure(
            go.Bar(
                x=[g.target for g in self],
                y=[f"{g.goal_id}: {g.field} {g.value}" for g in self],
                orientation="h",
                customdata=[[g.start.isoformat(), g.end.isoformat()] for g in self],
                hovertemplate="%{y}: %{x:.1%} (%{customdata[0]} – %{customdata[1]})<extra></extra>",
            )
        )
        fig.update_layout(title=self.title().render(lang), xaxis_title=Message("goals.target").render(lang))
        fig.update_xaxes(tickformat=".0%", range=[0, 1])
        fig.update_yaxes(autorange="reversed")
        return fig


def parse_period(
    period: str | None, date_from: str | dt.date | None = None, date_to: str | dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """``2024-11`` (a month), ``2024-Q4`` (a quarter), ``2024`` (a year), or ``date_from``/``date_to`` (custom)."""
    if period is not None and (date_from is not None or date_to is not None):
        raise UserInputError("goals.period_or_dates", **_PERIOD_PARAMS)
    if period is not None:
        text = period.strip()
        if m := _MONTH.match(text) or _QUARTER.match(text) or _YEAR.match(text):
            in_range(dt.date(max(int(m[1]), dt.MINYEAR), 1, 1), "period", period)  # (year 0 has no dates)
        if m := _MONTH.match(text):
            year, month = int(m[1]), int(m[2])
            if not 1 <= month <= 12:
                raise InvalidValueError("goals.no_such_month", parameter="period", got=period, month=month)
            return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
        if m := _QUARTER.match(text):
            year, q = int(m[1]), int(m[2])
            last = 3 * q
            return dt.date(year, last - 2, 1), dt.date(year, last, calendar.monthrange(year, last)[1])
        if m := _YEAR.match(text):
            return dt.date(int(m[1]), 1, 1), dt.date(int(m[1]), 12, 31)
        raise InvalidValueError("goals.bad_period", parameter="period", got=period)
    if date_from is None or date_to is None:
        raise UserInputError("goals.needs_period", **_PERIOD_PARAMS)
    start, end = _date(date_from, "date_from"), _date(date_to, "date_to")
    if end < start:
        raise UserInputError("goals.to_before_from", end=end, start=start, **_PERIOD_PARAMS)
    return start, end


_PERIOD_PARAMS = {"period": Param("period"), "date_from": Param("date_from"), "date_to": Param("date_to")}


def _date(value: str | dt.date, parameter: str) -> dt.date:
    """``value`` as a date (from 1900 to 2199: :func:`~hitrate.engine.query.in_range`); errors name ``parameter``."""
    if isinstance(value, dt.date):
        return in_range(value, parameter)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidValueError("goals.not_a_date", parameter=parameter, got=value) from None
    return in_range(day, parameter, value)


def check_subject(store: Store, field: str, value: str) -> None:
    """Refuse a field the data does not have, or a value no opportunity has (the message names it)."""
    from hitrate.engine.counting import fetch
    from hitrate.engine.expressions import analysis_table, coerce_value, fields_available

    check_text(value, field)
    available = fields_available(store)
    if field not in available:
        raise UnknownFieldError(field, available, cast(str, Message("goals.subject_where")))
    t = analysis_table(store, {field})
    col = t[field]
    hit = t.filter(col == coerce_value(col, value, field))
    n = fetch(store, hit.aggregate(n=hit.count()))["n"]
    if not int(n[0]):
        raise NotFoundError("goals.no_such_value", field=field, value=value)


def parse_subject(text: str) -> tuple[str, str]:
    """``rep=Ana`` as ``("rep", "Ana")``."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise UserInputError("goals.bad_subject", text=text)
    return name.strip(), check_text(value.strip(), name.strip())


def check_text(value: str, what: str) -> str:
    """Refuse control characters (a NUL cannot reach a query) in a value the user typed; the message names it."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise UserInputError("goals.control_characters", what=what, value=repr(value))
    return value


def subject(who: str | None, field: str | None, value: str | None) -> tuple[str, str]:
    """The group a goal or intervention is for: ``who`` (``rep=Ana``) or ``field`` and ``value``."""
    if who is not None:
        return parse_subject(who)
    if field is None or value is None:
        raise UserInputError("goals.needs_subject", who=Param("who"), field=Param("field"), value=Param("value"))
    return field, value


def set_goal(
    store: Store,
    who: str | None = None,
    *,
    target: float,
    period: str | None = None,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
    set_by: str = "",
    field: str | None = None,
    value: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Goal:
    """``hitrate goals set WHO``: record a goal (checked: the field and value exist, the target is a rate strictly
    between 0 and 1).

    The group is ``who`` (``"rep=Ana"``) or ``field`` and ``value``; the period is ``period`` (``2024-11``,
    ``2024-Q4``, ``2024``), ``date_from`` and ``date_to``, or ``start`` and ``end`` (dates).
    """
    field, value = subject(who, field, value)
    if start is None or end is None or period is not None or date_from is not None or date_to is not None:
        start, end = parse_period(period, date_from, date_to)
    if not 0 < target < 1:
        raise InvalidValueError("goals.target_range", parameter="target", got=target)
    if end < start:
        raise UserInputError("goals.ends_before_start", end=end, start=start)
    check_subject(store, field, value)
    row = store.fetch("SELECT coalesce(max(goal_id), 0) + 1 FROM goals")
    goal = Goal(
        int(row[0][0]), field, value, float(target), start, end, set_by, dt.datetime.now().replace(microsecond=0)
    )
    store.raw.execute(
        "INSERT INTO goals VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [goal.goal_id, field, value, goal.target, start, end, set_by, goal.created],
    )
    return goal


def list_goals(store: Store, ids: Sequence[int] | None = None) -> GoalList:
    """``hitrate goals list``: the goals in the store (all, or those with these ids; an unknown id is an error)."""
    rows = store.fetch(
        "SELECT goal_id, field, value, target, period_start, period_end, set_by, created FROM goals ORDER BY goal_id"
    )
    goals = [Goal(int(r[0]), r[1], r[2], float(r[3]), r[4], r[5], r[6], r[7]) for r in rows]
    if ids:
        known = {g.goal_id for g in goals}
        missing = [i for i in ids if i not in known]
        if missing:
            raise NotFoundError("goals.no_such_goal", goal=missing[0])
        goals = [g for g in goals if g.goal_id in ids]
    return GoalList(goals)


@dataclass
class GoalsProgress(RowsResult):
    """One row per goal (see :func:`progress`), the method in words and warnings."""

    rows: list[dict[str, Any]]
    as_of: dt.date
    threshold: float
    method: Message | str
    warnings: list[Message | str] = field(default_factory=list)

    COLUMNS = ("goal_id", "field", "value", "target", "probability", "off_track")

    def to_frame(self) -> pd.DataFrame:
        """One row per goal (``win_probability_from`` a message, so a summary says it in its language)."""
        from hitrate.improve._base import as_message, rows_frame

        rows = [{**r, "win_probability_from": as_message(r["win_probability_from"])} for r in self.rows]
        return rows_frame(rows, self.COLUMNS)

    def off_track(self) -> list[dict[str, Any]]:
        """Goals whose probability of being reached is below the threshold."""
        return [r for r in self.rows if r["off_track"]]

    def to_dict(self) -> dict[str, Any]:
        """The as-of date, threshold, method, assumptions, warnings and rows, JSON-ready."""
        from hitrate.report.result import json_ready

        return {
            "as_of": self.as_of.isoformat(),
            "threshold": self.threshold,
            "method": str(self.method),
            "assumptions": str(ASSUMPTIONS),
            "warnings": [str(w) for w in self.warnings],
            "rows": json_ready(self.rows),
        }

    def title(self) -> Message:
        return Message("goals.progress_title", as_of=self.as_of)

    def headline(self) -> Message:
        """How many goals are off track, and the one least likely to be made; or that all are on track."""
        if not self.rows:
            return Message("goals.progress_none")
        off = self.off_track()
        if not off:
            return Message("goals.progress_all_on", goals=len(self.rows), threshold=self.threshold)
        worst = min(off, key=lambda r: r["probability"] if r["probability"] is not None else 0.0)
        return Message(
            "goals.progress_headline",
            off=len(off),
            goals=len(self.rows),
            value=worst["value"],
            target=worst["target"],
            end=worst["end"],
            p=worst["probability"],
        )

    def notes(self) -> list[Message | str]:
        return [*self.warnings, Message("goals.method_and_assumptions", method=self.method, assumptions=ASSUMPTIONS)]

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """Per goal, the probability of making it as a bar (red when off track), the threshold as a line."""
        return progress_figure(self.rows, self.threshold, self.title().render(lang), lang)


def progress_figure(rows: Sequence[Mapping[str, Any]], threshold: float, title: str, lang: str) -> go.Figure:
    """Goals' progress as a chart: per goal the probability of making it as a bar (red when off track), the
    threshold as a dotted line, and on hover the target and the hit rate so far (the CLI's ``plot()`` and the
    dashboard's goals page draw the same)."""
    import plotly.graph_objects as go

    from hitrate.i18n import format as fmt

    labels = [f"{r['goal_id']}: {r['field']} {r['value']}" for r in rows]
    hover = [
        Message(
            "goals.chart_hover", target=fmt.percent(r["target"], lang), rate=fmt.percent(r["hit_rate"], lang)
        ).render(lang)
        for r in rows
    ]
    fig = go.Figure(
        go.Bar(
            x=[r["probability"] for r in rows],
            y=labels,
            orientation="h",
            marker_color=["#c0392b" if r["off_track"] else "#2e86c1" for r in rows],
            text=hover,
            hovertemplate="%{y}: %{x:.0%}<br>%{text}<extra></extra>",
            textposition="none",
        )
    )
    fig.add_vline(x=threshold, line_dash="dot", line_color="grey")
    fig.update_layout(title=title, xaxis_title=Message("goals.probability").render(lang))
    fig.update_xaxes(tickformat=".0%", range=[0, 1])
    fig.update_yaxes(autorange="reversed")
    return fig


def data_as_of(store: Any) -> dt.date:
    """The export date: the latest created or closed date in the data (the embedded store or any Ibis backend)."""
    from hitrate.engine.counting import fetch
    from hitrate.engine.expressions import as_of_expr

    values = fetch(store, as_of_expr(store).name("as_of").as_table())["as_of"].tolist()
    value = values[0] if values else None
    if value is None or value != value:  # no row, NULL or NaT
        raise UserInputError("goals.no_dated_opportunities")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def goals_progress(
    store: Store,
    *,
    goal: Sequence[int] | None = None,
    threshold: float = 0.5,
    off_track: bool = False,
    confidence: float = 0.95,
) -> GoalsProgress:
    """``hitrate goals progress``: :func:`progress` of the goals ``goal`` (ids; all by default), only those off
    track with ``off_track``."""
    result = progress(store, ids=goal, threshold=threshold, confidence=confidence)
    if off_track:
        result.rows = result.off_track()
    return result


def progress(
    store: Store,
    *,
    ids: Sequence[int] | None = None,
    threshold: float = 0.5,
    confidence: float = 0.95,
) -> GoalsProgress:
    """Progress of each goal: to date (as ``hitrate rates``) and P(reaching the target) given the open pipeline.

    "Today" is the data's export date (latest created or closed date): deals open then are the pipeline. A goal
    is off track when its probability is below ``threshold``.
    """
    import warnings

    from hitrate.analysis.rates import rates, resolve_definitions
    from hitrate.stats.poisson_binomial import prob_rate_at_least

    if not 0 < threshold < 1:
        raise InvalidValueError("goals.threshold_range", parameter="threshold", got=threshold)
    goals = list_goals(store, ids)
    today = data_as_of(store)
    defs = resolve_definitions(store, None, None)
    curve = _time_to_close(store, today) if goals else None
    memo: dict[Any, Any] = {}  # seasonal factors and per-field rates, computed once for all goals
    rows: list[dict[str, Any]] = []
    notes: list[Message | str] = []
    methods: set[Message | str] = set()
    for goal in goals:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            to_date = rates(
                store,
                where={goal.field: [goal.value]},
                date_from=goal.start,
                date_to=min(goal.end, today),
                confidence=confidence,
            ).records()
        rec: dict[str, Any] = to_date[0] if to_date else {"attempts": 0, "hits": 0, "hit_rate": None}
        rec.setdefault("ci_low", None)
        rec.setdefault("ci_high", None)
        won, lost, source = _pipeline(store, goal, today, defs, curve, memo)
        prob, expected, method = prob_rate_at_least(
            int(rec["hits"]), int(rec["attempts"]), won, lost, goal.target, basis=defs.basis
        )
        methods.add(method)
        closing = float(won.sum() + lost.sum())
        final_attempts = rec["attempts"] + (closing if defs.basis == "closed" else 0.0)
        ok = prob == prob
        rows.append(
            {
                **goal.to_dict(),
                "attempts": int(rec["attempts"]),
                "hits": int(rec["hits"]),
                "hit_rate": rec["hit_rate"],
                "ci_low": rec["ci_low"],
                "ci_high": rec["ci_high"],
                "days_left": max((goal.end - today).days, 0),
                "open_deals": int(won.size),
                "expected_closing": closing,
                "expected_final_hits": expected,
                "projected_rate": expected / final_attempts if final_attempts > 0 else None,
                "probability": prob if ok else None,
                "win_probability_from": source,
                "off_track": bool(ok and prob < threshold),
            }
        )
        about = {"goal": goal.goal_id, "field": goal.field, "value": goal.value}
        if goal.start > today:
            notes.append(Message("goals.not_started", **about))
        elif rec["attempts"] < 10:
            notes.append(Message("goals.few_attempts", n=rec["attempts"], **about))
    outcomes = Joined(sorted(methods, key=str), "; ")
    return GoalsProgress(rows, today, threshold, Message("goals.method", outcomes=outcomes), notes)


def _time_to_close(store: Store, as_of: dt.date) -> tuple[np.ndarray, np.ndarray] | None:
    """Ages and Kaplan–Meier survival (still open) of the pooled Aalen–Johansen fit over all deals."""
    from hitrate.analysis.rates import resolve_definitions
    from hitrate.engine.counting import fetch
    from hitrate.engine.expressions import cohort_expr
    from hitrate.engine.query import Query
    from hitrate.stats.censoring import aalen_johansen

    defs = resolve_definitions(store, None, "closed")
    events = fetch(store, cohort_expr(store, defs, Query(), dt.datetime.combine(as_of, dt.time()))["events"])
    if not len(events["age"]):
        return None
    ages = np.asarray(events["age"], dtype=float)
    keep = ages >= 0
    fit = aalen_johansen(ages[keep], events["won"][keep], events["lost"][keep], events["censored"][keep])
    return fit.time, fit.survival


def _survival_at(curve: tuple[np.ndarray, np.ndarray], age: np.ndarray) -> np.ndarray:
    time, survival = curve
    s = np.concatenate([[1.0], survival])
    out: np.ndarray = s[np.searchsorted(time, age, side="right")]
    return out


def _pipeline(
    store: Store,
    goal: Goal,
    as_of: dt.date,
    defs: Any,
    curve: tuple[np.ndarray, np.ndarray] | None,
    memo: dict[Any, Any],
) -> tuple[np.ndarray, np.ndarray, Phrase]:
    """P(won within the period) and P(lost within it) for each open deal of the goal's group, and where the
    win probabilities came from."""
    import ibis

    from hitrate.engine.counting import fetch
    from hitrate.engine.expressions import classified
    from hitrate.engine.query import Query

    empty = np.zeros(0)
    if curve is None or as_of > goal.end:
        return empty, empty, Phrase(Message("goals.source_none_in_period"))
    query = Query.build(where={goal.field: [goal.value]})
    t = classified(store, defs, query, {"id", "created_at"})
    o = t.filter(~(t._won | t._lost) & t.created_at.notnull())
    if defs.basis == "cohort":  # only deals created in the period are among its attempts
        o = o.filter(
            (o.created_at >= ibis.timestamp(dt.datetime.combine(goal.start, dt.time())))
            & (o.created_at < ibis.timestamp(dt.datetime.combine(goal.end + dt.timedelta(days=1), dt.time())))
        )
    scores = store.table("lead_scores")
    s = scores.select(_sid=scores.id, _p=scores.probability)
    j = o.left_join(s, o.id == s._sid)
    j = j.mutate(
        age=ibis.timestamp(dt.datetime.combine(as_of, dt.time())).date().delta(j.created_at.date(), unit="day")
    )
    c = fetch(store, j.group_by(["age", "_p"]).aggregate(n=j.count()))
    if not len(c["n"]):
        return empty, empty, Phrase(Message("goals.source_no_open"))
    counts = np.asarray(c["n"], dtype=np.int64)
    age = np.repeat(np.maximum(np.asarray(c["age"], dtype=float), 0.0), counts)
    score = np.repeat(np.asarray(c["_p"], dtype=float), counts)
    scored = np.isfinite(score)
    fallback = _shrunk_rate(store, goal, as_of, memo) if not scored.all() else float("nan")
    if not scored.all() and "season" not in memo:
        memo["season"] = _season(store)
    season = memo.get("season")
    s_now = _survival_at(curve, age)
    won = np.zeros(age.size)
    closing = np.zeros(age.size)
    for first, last, month in _months(max(goal.start, as_of), goal.end):
        # P(closes within this calendar month | open at its age today), from the pooled survival curve
        with np.errstate(invalid="ignore", divide="ignore"):
            p_month = (
                _survival_at(curve, age + (first - as_of).days) - _survival_at(curve, age + (last - as_of).days + 1)
            ) / s_now
        p_month = np.clip(np.where(s_now > 0, p_month, 0.0), 0.0, 1.0)
        base = fallback if season is None else _with_odds_factor(fallback, season.get(month, 1.0))
        won += p_month * np.where(scored, score, base)
        closing += p_month
    closing = np.minimum(closing, 1.0)
    won = np.minimum(won, closing)
    n_scored = int(scored.sum())
    rest = Message("goals.source_shrunk_season" if season else "goals.source_shrunk", rate=fallback)
    if n_scored == age.size:
        source = Message("goals.source_scores", scored=age.size, of=age.size)
    elif n_scored:
        source = Message("goals.source_scores_else", scored=n_scored, of=age.size, rest=rest)
    else:
        source = rest
    return won, closing - won, Phrase(source)


def _months(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date, int]]:
    """The calendar months between two days (inclusive), clipped to them: (first day, last day, month)."""
    out = []
    day = first
    while day <= last:
        end = min(dt.date(day.year, day.month, calendar.monthrange(day.year, day.month)[1]), last)
        out.append((day, end, day.month))
        day = end + dt.timedelta(days=1)
    return out


def _with_odds_factor(p: float, factor: float) -> float:
    odds = p / (1 - p) * factor if p < 1 else float("inf")
    return 1.0 if odds == float("inf") else odds / (1 + odds)


def _season(store: Store) -> dict[int, float] | None:
    """Month-of-year odds factors of the whole store's closed-basis hit rate (binomial-GLM decomposition, as in
    ``hitrate trend``), or None when the data span fewer than two years."""
    import warnings

    from hitrate.analysis.rates import rates
    from hitrate.stats.seasonal import decompose

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = rates(store, period="month", basis="closed")
        if len(r.columns["attempts"]) < 24:
            return None
        starts = [np.datetime64(f"{label}-01") for label in r.columns["period"].tolist()]
        d = decompose(np.array(starts), r.columns["attempts"], r.columns["hits"], period="month")
    return None if d.seasonal_factors is None else {int(k): float(v) for k, v in d.seasonal_factors.items()}


def _shrunk_rate(store: Store, goal: Goal, as_of: dt.date, memo: dict[Any, Any]) -> float:
    """The group's closed-basis hit rate over the year before ``as_of`` (:data:`RATE_DAYS`), shrunk towards its
    peers' (beta-binomial empirical Bayes over every value of the field)."""
    import warnings

    from hitrate.analysis.rates import rates
    from hitrate.stats.shrinkage import fit_beta_binomial, shrink

    if ("rates", goal.field) not in memo:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            since = as_of - dt.timedelta(days=RATE_DAYS - 1)
            memo[("rates", goal.field)] = rates(store, by=[goal.field], basis="closed", date_from=since)
    r = memo[("rates", goal.field)]
    values = [str(v) for v in r.columns[goal.field].tolist()]
    k = np.asarray(r.columns["hits"], dtype=float)
    n = np.asarray(r.columns["attempts"], dtype=float)
    if goal.value not in values:
        return float(k.sum() / n.sum()) if n.sum() else 0.0
    i = values.index(goal.value)
    if (n > 0).sum() < 3:
        return float(k[i] / n[i]) if n[i] else float(k.sum() / max(n.sum(), 1.0))
    prior = fit_beta_binomial(k[n > 0], n[n > 0])
    mean, _, _ = shrink(k[i : i + 1], n[i : i + 1], prior)
    return float(mean[0])
