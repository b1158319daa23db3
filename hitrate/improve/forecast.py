"""``hitrate forecast``: expected wins and amount won per group and period up to a horizon, with intervals.

The forecast is made as on the morning of the as-of date: everything dated before it is known, nothing after
it is used (:mod:`hitrate.improve._forecast_data`). Wins in a period come from three places:

* **booked**: deals already won in the period before the as-of date (a period that started before it);
* **from open deals**: each deal open on the as-of date wins within the period with
  ``P = (F_win(a + last) - F_win(a + first - 1)) / S(a - 1)``, ``a`` its age, ``first``/``last`` the period's
  days counted from the as-of date, ``F_win`` and ``S`` the Aalen–Johansen cumulative incidence of a win and the
  probability of being still open by deal age (won and lost competing, open deals censored), per group and
  shrunk towards the pooled curves (:func:`hitrate.stats.forecast.age_curves`), and where the data have a
  stratum field (``strata``: by default the first of :data:`STRATA_FIELDS` with 2 to 20 values) per stratum
  within the group, shrunk towards the group's curve (:func:`hitrate.stats.forecast.strata_curves`); with
  two years of closed months the win odds of each calendar month are multiplied by its month-of-year factor
  (the binomial-GLM seasonal decomposition of ``hitrate trend``);
* **from new deals**: deals created per day after the as-of date (:func:`hitrate.stats.forecast.arrival_model`)
  times the chance that a deal created on that day is won within the period (the group's curves from age 0).

The interval is that of the sum of the open deals' wins (Poisson-binomial) and the new deals' negative-binomial
count (:func:`hitrate.stats.forecast.count_interval`); amounts by a compound sum matched to a gamma.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hitrate.errors import InvalidParameterError, InvalidValueError, UnknownFieldError, UserInputError
from hitrate.i18n import DEFAULT_LANG, Joined, Message, Param
from hitrate.improve._base import RowsResult

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from hitrate.analysis._common import DefinitionsArg
    from hitrate.engine.query import Query
    from hitrate.improve._forecast_model import Season
    from hitrate.report import FindingsTable
    from hitrate.report.workbook import DataTable
    from hitrate.spec.model import Definitions

HORIZONS = ("month", "quarter", "year")
PERIODS = ("week", "month", "quarter")
#: What the forecast assumes, in plain words, stated in every output.
ASSUMPTIONS = Message("forecast.assumptions")
#: The fields the open deals' curves are stratified by when ``strata`` is not given: the first of them the
#: data have with :data:`AUTO_STRATA_VALUES` values among the deals created before the as-of date.
STRATA_FIELDS = ("segment", "lead_source", "source")
#: The fewest and most values a field of :data:`STRATA_FIELDS` needs to be chosen by default.
AUTO_STRATA_VALUES = (2, 20)
#: The most strata (the product of the ``strata`` fields' numbers of values) a forecast takes.
MAX_STRATA = 200


@dataclass
class ForecastResult(RowsResult):
    """One row per group and period: expected wins (booked, from open deals, from new deals) and amount, each
    with its interval at ``level``."""

    rows: list[dict[str, Any]]
    as_of: dt.date
    until: dt.date
    level: float
    by: tuple[str, ...]
    definitions: Definitions
    method: Message
    facts: dict[str, Any] = field(default_factory=dict)
    warnings: list[Message | str] = field(default_factory=list)

    COLUMNS = ("period", "expected_wins", "wins_low", "wins_high", "from_open", "from_new", "expected_amount")
    #: The columns of :meth:`tables` (and of ``--format csv``) after the groups.
    TABLE_COLUMNS = ("period", "expected_wins", "wins_low", "wins_high", "won_so_far", "from_open", "from_new",
                     "expected_closing", "expected_amount", "amount_low", "amount_high")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """``as_of``, ``until``, ``level``, ``definitions``, ``method``, ``assumptions``, ``warnings``, ``rows``."""
        from hitrate.report.result import json_ready

        d = self.definitions
        return {
            "as_of": self.as_of.isoformat(),
            "until": self.until.isoformat(),
            "level": self.level,
            "by": list(self.by),
            "definitions": {"hash": d.hash, "name": d.name, "basis": d.basis},
            "method": str(self.method),
            "assumptions": str(ASSUMPTIONS),
            "facts": json_ready(self.facts),
            "warnings": [str(w) for w in self.warnings],
            "rows": json_ready(self.rows),
        }

    def tables(self) -> list[DataTable]:
        """One table: a row per group and period, the amounts as money."""
        from hitrate.report.workbook import DataTable

        money = frozenset({"expected_amount", "amount_low", "amount_high"})
        counts = frozenset({"wins_low", "wins_high", "won_so_far"})
        return [DataTable("forecast", (*self.by, *self.TABLE_COLUMNS), self.rows, money=money, counts=counts)]

    def title(self) -> Message:
        return Message("forecast.title", as_of=self.as_of, until=self.until)

    def headline(self) -> Message:
        wins = sum(r["expected_wins"] for r in self.rows)
        return Message("forecast.headline", wins=round(wins), until=self.until, level=self.level)

    def notes(self) -> list[Message | str]:
        return [*self.warnings, self.method, ASSUMPTIONS]

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """Expected wins per period, one line per group, with the interval as a band."""
        return band_figure(self.rows, self.by, self.level, self.title().render(lang), lang)

    def sections(self, lang: str = DEFAULT_LANG) -> list[FindingsTable]:
        """The report's forecast section: the headline, the band chart, then the table per group and period; the
        method and assumptions in its method block."""
        from hitrate.improve._forecast_tables import forecast_cells
        from hitrate.report import FindingsTable
        from hitrate.report.words import column_name, report_words

        groups = [column_name(b, report_words(lang)) for b in self.by]
        heads, cells = forecast_cells(self.rows, self.by, groups, lang)
        method = f"{self.method.render(lang)}. {ASSUMPTIONS.render(lang)}."
        caption = Message("forecast.read_forecast", level=self.level).render(lang)
        numeric = frozenset(range(len(self.by) + 1, len(heads)))
        figure = self.plot(lang) if self.rows else None
        lead = self.headline().render(lang)
        title = self.title().render(lang)
        return [
            FindingsTable(
                title, heads, cells, numeric, "", "", figure=figure, caption=caption, lead=lead, method=method
            )
        ]


def band_figure(rows: Sequence[Mapping[str, Any]], by: Sequence[str], level: float, title: str, lang: str) -> go.Figure:
    """The forecast's rows as a chart: expected wins per period, one line per group, the interval as a band."""
    import plotly.graph_objects as go

    fig = go.Figure()
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(r[f] for f in by), []).append(r)
    band = Message("forecast.interval", level=level).render(lang)
    for key, mine in groups.items():
        name = " · ".join(str(k) for k in key) or Message("forecast.wins").render(lang)
        x = [r["period"] for r in mine]
        fig.add_scatter(x=x, y=[r["wins_high"] for r in mine], mode="lines", line={"width": 0}, showlegend=False,
                        legendgroup=name, hoverinfo="skip")  # fmt: skip
        fig.add_scatter(x=x, y=[r["wins_low"] for r in mine], mode="lines", line={"width": 0}, fill="tonexty",
                        name=f"{name}: {band}", legendgroup=name, hoverinfo="skip")  # fmt: skip
        fig.add_scatter(x=x, y=[r["expected_wins"] for r in mine], mode="lines+markers", name=name, legendgroup=name)
    fig.update_layout(title=title, yaxis_title=Message("forecast.wins").render(lang))
    return fig


def default_as_of(store: Any) -> dt.date:
    """The day after the latest created or closed date in the data (everything in the store is then known)."""
    from hitrate.improve.goals import data_as_of

    return data_as_of(store) + dt.timedelta(days=1)


def horizon_end(as_of: dt.date, horizon: str) -> dt.date:
    """The last day of the month, quarter or year holding ``as_of``."""
    from hitrate.improve._forecast_data import next_start, period_start

    if horizon not in HORIZONS:
        raise InvalidParameterError("horizon", Message("engine.one_of", options=Joined(HORIZONS)), horizon)
    return next_start(period_start(as_of, horizon), horizon) - dt.timedelta(days=1)


def win_seasons(
    store: Any, defs: Definitions, where: Mapping[str, Sequence[str]], days: Sequence[dt.date]
) -> dict[dt.date, Season | None]:
    """For each as-of date: the month-of-year odds factors of the closed-basis hit rate over the complete months
    before it (with the standard errors of their logarithms and the dispersion), or None with fewer than 24
    months. One engine query for all the dates."""
    import math
    import warnings

    import numpy as np

    from hitrate.analysis.rates import rates
    from hitrate.improve._forecast_model import Season
    from hitrate.stats.seasonal import decompose

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = rates(store, period="month", basis="closed", where=dict(where), definitions=defs)
    starts = np.array([np.datetime64(f"{label}-01") for label in r.columns["period"].tolist()], dtype="datetime64[M]")
    out: dict[dt.date, Season | None] = {}
    for day in days:  # one small GLM per as-of date
        done = starts + 1 <= np.datetime64(day, "M")  # complete months before the as-of date
        out[day] = None
        if done.sum() < 24:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d = decompose(
                starts[done].astype("datetime64[D]"), r.columns["attempts"][done], r.columns["hits"][done],
                period="month", confidence=0.95,
            )  # fmt: skip
        if d.seasonal_factors is None or d.seasonal_factor_low is None or d.seasonal_factor_high is None:
            continue
        z = 2 * 1.959963984540054
        high, low = d.seasonal_factor_high, d.seasonal_factor_low
        values = [*d.seasonal_factors.values(), *high.values(), *low.values()]
        if not all(math.isfinite(v) and v > 0 for v in values):  # a month without data: no usable factors
            continue
        se = {int(k): math.log(high[k] / low[k]) / z for k in d.seasonal_factors}
        out[day] = Season({int(k): float(v) for k, v in d.seasonal_factors.items()}, se, float(d.dispersion))
    return out


def forecast(
    store: Any,
    *,
    as_of: dt.date | str | None = None,
    until: dt.date | str | None = None,
    horizon: str | None = None,
    period: str = "month",
    by: str | Sequence[str] = (),
    where: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
    level: float = 0.8,
    strata: str | Sequence[str] | None = None,
    definitions: DefinitionsArg = None,
) -> ForecastResult:
    """Expected wins and amount won per group (``by``) and period up to ``until`` (or the end of the ``horizon``:
    ``month``, ``quarter``, ``year``; default the end of the quarter), as on the morning of ``as_of`` (default:
    the day after the latest date in the data), split into booked, from open deals and from new deals, each
    count and amount with a central interval at ``level`` (default 80%). ``strata``: the field(s) whose values
    get their own open-deal curves within each group; None chooses (:data:`STRATA_FIELDS`), ``()`` turns the
    strata off. See the module docstring."""
    from hitrate.analysis._common import resolve_definitions
    from hitrate.engine.query import Query, as_date

    if period not in PERIODS:
        raise InvalidParameterError("period", Message("engine.one_of", options=Joined(PERIODS)), period)
    if until is not None and horizon is not None:
        raise UserInputError("forecast.until_or_horizon")
    day = as_date(as_of, "as_of") or default_as_of(store)
    end = as_date(until, "until") or horizon_end(day, horizon or "quarter")
    defs = resolve_definitions(store, definitions, None)
    query = Query.build(by=by, where=where, period=period)
    return forecasts(store, defs, query, [(day, end)], level, strata)[0]


def chosen_strata(
    store: Any, defs: Definitions, query: Query, strata: str | Sequence[str] | None, days: Sequence[dt.date]
) -> dict[dt.date, tuple[str, ...]]:
    """The stratum fields of each as-of date. Given (``strata``): those fields (less the ``by`` fields), the
    same for every date, as long as they have at most :data:`MAX_STRATA` combinations of values. None: the
    first field of :data:`STRATA_FIELDS` the data have that is not a ``by`` field and has
    :data:`AUTO_STRATA_VALUES` values among the deals created before the date (so nothing recorded later
    chooses), or none."""
    import math

    import numpy as np

    from hitrate.engine.expressions import fields_available
    from hitrate.improve._forecast_data import first_seen

    available = fields_available(store)
    if strata is not None:
        fields = (strata,) if isinstance(strata, str) else tuple(strata)
        for f in fields:
            if f not in available:
                raise UnknownFieldError(f, available, Param("strata"))
        fields = tuple(dict.fromkeys(f for f in fields if f not in query.by))
        seen = first_seen(store, defs, query, fields)
        n = math.prod(len(v) for v in seen.values())
        if n > MAX_STRATA:
            raise UserInputError("forecast.too_many_strata", n=n, most=MAX_STRATA, fields=Joined(fields))
        return {day: fields for day in days}
    low, high = AUTO_STRATA_VALUES
    out: dict[dt.date, tuple[str, ...]] = {}
    for f in (f for f in STRATA_FIELDS if f in available and f not in query.by):  # a query only while undecided
        undecided = [day for day in days if day not in out]
        if not undecided:
            break
        (first,) = first_seen(store, defs, query, [f]).values()
        for day in undecided:
            if low <= int((first < np.datetime64(day)).sum()) <= high:
                out[day] = (f,)
    return {day: out.get(day, ()) for day in days}


def forecasts(
    store: Any,
    defs: Definitions,
    query: Query,
    plans: Sequence[tuple[dt.date, dt.date]],
    level: float,
    strata: str | Sequence[str] | None = None,
) -> list[ForecastResult]:
    """The forecast for each ``(as_of, until)`` of ``plans`` (groups ``query.by``, rows by ``query.period``,
    open deals stratified as :func:`chosen_strata` says), the counting of all the dates with the same strata
    in the same three engine queries."""
    from hitrate.improve._forecast_data import Tables, pipeline_tables
    from hitrate.improve._forecast_model import compute

    if not 0 < level < 1:
        raise InvalidValueError("forecast.level_range", parameter="level", got=level)
    for day, end in plans:
        if end < day:
            raise UserInputError("forecast.until_before_as_of", until=end, as_of=day)
        if (end - day).days > 731:
            raise UserInputError("forecast.too_far", until=end, as_of=day)
    days = [day for day, _ in plans]
    layers = chosen_strata(store, defs, query, strata, days)
    tables: dict[dt.date, Tables] = {}
    for fields in dict.fromkeys(layers.values()):  # usually one: the same strata on every date
        tables.update(pipeline_tables(store, defs, query, [d for d in days if layers[d] == fields], fields))
    seasons = win_seasons(store, defs, dict(query.where), days)
    out = []
    for day, end in plans:  # one small computation per as-of date
        mine = tables[day]
        raw, facts = compute(mine, day, end, query.period or "month", level, seasons[day])
        rows = [{**dict(zip(query.by, mine.keys[r.pop("group")], strict=True)), **r} for r in raw]
        with_goals(store, defs, query, day, rows)
        facts["seasonal_win_odds"] = seasons[day] is not None
        warnings: list[Message | str] = []
        if mine.undated:
            warnings.append(Message("forecast.undated", n=mine.undated))
        if not rows:
            warnings.append(Message("forecast.no_deals", as_of=day))
        method = Message("forecast.method", strength=round(facts["prior_strength"], 1), strata=strata_words(facts))
        out.append(ForecastResult(rows, day, end, level, query.by, defs, method, facts, warnings))
    return out


def strata_option(strata: Sequence[str] | None, no_strata: bool) -> tuple[str, ...] | None:
    """The command line's and the web API's ``strata`` fields and ``no strata`` switch as the library's
    ``strata``: the fields, ``()`` (none), or None (the forecast chooses); both given is an error."""
    if strata and no_strata:
        raise UserInputError("forecast.strata_or_no_strata", strata=Param("strata"), no_strata=Param("no_strata"))
    return () if no_strata else tuple(strata) if strata else None


def strata_words(facts: Mapping[str, Any]) -> Message:
    """How the open deals' curves were stratified, for the method's sentence: nothing when they were not."""
    if not facts["strata"]:
        return Joined([])
    return Message(
        "forecast.method_strata", fields=Joined(facts["strata"]), strength=round(facts["strata_prior_strength"], 1)
    )


def with_goals(store: Any, defs: Definitions, query: Query, as_of: dt.date, rows: list[dict[str, Any]]) -> None:
    """Give each row whose group and period have a hit-rate goal (``hitrate goals set``; the goal's field one of
    the ``by`` fields, or a ``where`` field with one value; its period the row's) the ``goal`` and the
    ``goal_probability`` of reaching it, by the maths of ``hitrate goals progress``: to date, the deals decided
    in the period before the as-of date; then each open deal won, lost or still open at the period's end, the
    final rate's distribution exact by convolution. Deals not yet created are not counted (as in goals
    progress). Closed basis only (on the cohort basis a deal's period is its creation, so its later outcome
    would be read)."""
    import numpy as np

    from hitrate.store.embedded import Store

    opened = [r.pop("_open") for r in rows]
    if not isinstance(store, Store) or defs.basis != "closed" or not rows:
        return
    from hitrate.improve.goals import list_goals
    from hitrate.stats.poisson_binomial import prob_rate_at_least

    fixed = {f: v[0] for f, v in query.where if len(v) == 1}
    for row, (n, won, lost) in zip(rows, opened, strict=True):
        subject = {**fixed, **{f: row[f] for f in query.by}}
        found = [g for g in list_goals(store) if str(subject.get(g.field, "\0")) == g.value and g.start == row["start"]]
        if not found:
            continue
        goal = found[0]
        hits, attempts = _to_date(store, defs, query, goal.field, goal.value, goal.start, as_of)
        prob, _, _ = prob_rate_at_least(hits, attempts, np.repeat(won, n), np.repeat(lost, n), goal.target)
        row["goal"] = goal.target
        row["goal_probability"] = prob if prob == prob else None


def _to_date(
    store: Any, defs: Definitions, query: Query, field: str, value: str, start: dt.date, as_of: dt.date
) -> tuple[int, int]:
    """Won and decided deals of the group closed from ``start`` to the day before ``as_of``."""
    import warnings

    from hitrate.analysis.rates import rates

    if as_of <= start:
        return 0, 0
    where = {**{f: list(v) for f, v in query.where}, field: [value]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = rates(store, where=where, definitions=defs, date_from=start, date_to=as_of - dt.timedelta(days=1))
    rec = r.records()
    return (int(rec[0]["hits"]), int(rec[0]["attempts"])) if rec else (0, 0)
