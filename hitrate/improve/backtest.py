"""``hitrate forecast backtest``: the forecast made on past dates, against what then happened and two baselines.

For each as-of date (the first day of every month from ``date_from`` to ``date_to``) the forecast of the wins in
the period of the horizon that holds it (a month, or a quarter) is set beside

* **actual**: the wins then closed in that period (known: the data runs past it);
* **stage-weighted**: every deal open on the as-of date times the historical win rate of the stage it was in
  then (from the stage history, deals decided before the as-of date that passed through the stage); without a
  stage history, the historical win rate of all deals decided before it: what a CRM's weighted pipeline shows;
* **run-rate**: the mean wins of the three periods before.

Summary per method: mean absolute error, mean absolute percentage error (points with actual wins), bias (mean
forecast minus actual) and, for hitrate's intervals, the share of points whose actual lies inside them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hitrate._progress import Progress, Steps
from hitrate.errors import UserInputError
from hitrate.i18n import DEFAULT_LANG, Message
from hitrate.improve._base import RowsResult

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from hitrate.analysis._common import DefinitionsArg
    from hitrate.report import FindingsTable
    from hitrate.report.workbook import DataTable

METHODS = ("hitrate", "stage_weighted", "run_rate")


@dataclass
class BacktestResult(RowsResult):
    """One point per as-of date and group (``rows``) and each method's accuracy (``summary`` in JSON)."""

    rows: list[dict[str, Any]]
    accuracy: dict[str, dict[str, float | None]]
    horizon: str
    level: float
    by: tuple[str, ...]
    warnings: list[Message | str] = field(default_factory=list)

    COLUMNS = ("as_of", "period", "forecast", "low", "high", "actual", "stage_weighted", "run_rate")

    def tables(self) -> list[DataTable]:
        """The points (a row per as-of date and group), then each method's accuracy."""
        from hitrate.report.workbook import DataTable

        points = DataTable(
            "backtest", (*self.by, *self.COLUMNS), self.rows, counts=frozenset({"low", "high", "actual"})
        )
        accuracy = [{"method": method, **values} for method, values in self.accuracy.items()]
        columns = ("method", "mae", "mape", "bias", "coverage")
        return [points, DataTable("accuracy", columns, accuracy, frozenset({"mape", "coverage"}))]

    def to_dict(self) -> dict[str, Any]:
        """``horizon``, ``level``, ``points`` and ``summary`` (per method ``mae``, ``mape``, ``bias``,
        ``coverage``)."""
        from hitrate.report.result import json_ready

        return {
            "horizon": self.horizon,
            "level": self.level,
            "by": list(self.by),
            "points": json_ready(self.rows),
            "summary": json_ready(self.accuracy),
            "warnings": [str(w) for w in self.warnings],
        }

    def title(self) -> Message:
        return Message("forecast.backtest_title", horizon=Message(f"rates.period_{self.horizon}"), n=len(self.rows))

    def headline(self) -> Message:
        s = self.accuracy
        return Message(
            "forecast.backtest_headline",
            mae=s["hitrate"]["mae"] or 0.0,
            stage=s["stage_weighted"]["mae"] or 0.0,
            run=s["run_rate"]["mae"] or 0.0,
            coverage=s["hitrate"]["coverage"] or 0.0,
            level=self.level,
        )

    def plot(self, lang: str = DEFAULT_LANG) -> go.Figure:
        """Actual wins per as-of date, the forecast with its interval band and the two baselines."""
        import plotly.graph_objects as go

        x = [str(r["as_of"]) for r in self.rows]
        fig = go.Figure()
        fig.add_scatter(x=x, y=[r["high"] for r in self.rows], mode="lines", line={"width": 0}, showlegend=False)
        fig.add_scatter(
            x=x,
            y=[r["low"] for r in self.rows],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            name=Message("forecast.interval", level=self.level).render(lang),
        )
        for key in ("forecast", "actual", "stage_weighted", "run_rate"):
            fig.add_scatter(x=x, y=[r[key] for r in self.rows], mode="lines+markers", name=_name(key, lang))
        fig.update_layout(title=self.title().render(lang), yaxis_title=Message("forecast.wins").render(lang))
        return fig

    def sections(self, lang: str = DEFAULT_LANG) -> list[FindingsTable]:
        """The report's backtest section: the headline, the chart of forecasts against actual wins, then the
        accuracy of each method; how the points were made in its method block."""
        from hitrate.improve._forecast_tables import accuracy_cells
        from hitrate.report import FindingsTable

        heads, cells = accuracy_cells(self.accuracy, lang)
        method = Message("forecast.accuracy_note", n=len(self.rows)).render(lang)
        caption = Message("forecast.read_backtest").render(lang)
        figure = self.plot(lang) if self.rows else None
        return [
            FindingsTable(
                self.title().render(lang),
                heads,
                cells,
                frozenset({1, 2, 3, 4}),
                figure=figure,
                caption=caption,
                lead=self.headline().render(lang),
                method=method,
            )
        ]


def _name(key: str, lang: str) -> str:
    return Message(f"forecast.series_{key}").render(lang)


def summarise(rows: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """MAE, MAPE, bias per method, and the coverage of hitrate's intervals."""
    actual = np.array([r["actual"] for r in rows], dtype=float)
    out: dict[str, dict[str, float | None]] = {}
    for method, key in (("hitrate", "forecast"), ("stage_weighted", "stage_weighted"), ("run_rate", "run_rate")):
        f = np.array([np.nan if r[key] is None else r[key] for r in rows], dtype=float)
        ok = np.isfinite(f)
        err = f[ok] - actual[ok]
        pos = ok & (actual > 0)
        out[method] = {
            "mae": float(np.abs(err).mean()) if err.size else None,
            "mape": float((np.abs(f[pos] - actual[pos]) / actual[pos]).mean()) if pos.any() else None,
            "bias": float(err.mean()) if err.size else None,
            "coverage": None,
        }
    if rows:
        inside = [r["low"] <= r["actual"] <= r["high"] for r in rows]
        out["hitrate"]["coverage"] = float(np.mean(inside))
    return out


def first_days(date_from: dt.date, date_to: dt.date) -> list[dt.date]:
    """The first days of months from ``date_from`` (rounded up to a first day) to ``date_to``."""
    day = date_from if date_from.day == 1 else (date_from.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    out = []
    while day <= date_to:
        out.append(day)
        day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


def forecast_backtest(
    store: Any,
    *,
    date_from: dt.date | str,
    date_to: dt.date | str,
    every: str = "month",
    horizon: str = "month",
    by: str | Sequence[str] = (),
    where: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
    level: float = 0.8,
    strata: str | Sequence[str] | None = None,
    definitions: DefinitionsArg = None,
    progress: Progress | None = None,
) -> BacktestResult:
    """The forecast of the horizon's period (``month`` or ``quarter``) made on the first day of every month from
    ``date_from`` to ``date_to``, beside the actual wins and the stage-weighted and run-rate baselines (module
    docstring). ``every`` is ``month`` (the only spacing); ``strata`` as in
    :func:`~hitrate.improve.forecast.forecast`. ``progress(done, total)`` (:mod:`hitrate._progress`) is told
    after the wins by month, after the forecasts, and after each as-of date's baselines."""
    from hitrate.analysis._common import resolve_definitions
    from hitrate.engine.query import Query, as_date, period_label
    from hitrate.improve._forecast_baselines import run_rate, stage_weighted, wins_by_month
    from hitrate.improve._forecast_data import next_start, period_start
    from hitrate.improve.forecast import forecasts

    if every != "month":
        raise UserInputError("forecast.every_month", got=every)
    if horizon not in ("month", "quarter"):
        raise UserInputError("forecast.backtest_horizon", got=horizon)
    start, end = as_date(date_from, "date_from"), as_date(date_to, "date_to")
    assert start is not None and end is not None
    defs = resolve_definitions(store, definitions, None)
    query = Query.build(by=by, where=where)
    months = wins_by_month(store, defs, query)
    plans = []
    for day in first_days(start, end):
        first = period_start(day, horizon)
        plans.append((day, next_start(first, horizon) - dt.timedelta(days=1)))
    steps = Steps(progress, 2 + len(plans))
    steps.done()
    made_query = Query.build(by=query.by, where=dict(query.where), period=horizon)
    made = forecasts(store, defs, made_query, plans, level, strata)
    steps.done()
    rows: list[dict[str, Any]] = []
    for (day, last), f in zip(plans, made, strict=True):  # one as-of date each: a few dozen
        first = period_start(day, horizon)
        overall = f.facts["decided_won"] / f.facts["decided"] if f.facts["decided"] else 0.0
        open_deals = {tuple(r[b] for b in query.by): float(r["open_deals"]) for r in f.rows}
        stage = stage_weighted(store, defs, query, day, overall, open_deals)
        for r in f.rows:
            if r["period"] != period_label(first, horizon):
                continue
            key = tuple(r[b] for b in query.by)
            rows.append(
                {
                    **{b: r[b] for b in query.by},
                    "as_of": day,
                    "period": r["period"],
                    "forecast": r["expected_wins"],
                    "low": r["wins_low"],
                    "high": r["wins_high"],
                    "actual": months.total(key, first, last),
                    "stage_weighted": stage.get(key, 0.0) + months.total(key, first, day - dt.timedelta(days=1)),
                    "run_rate": run_rate(months, key, first, horizon),
                }
            )
        steps.done()
    steps.finish()
    return BacktestResult(rows, summarise(rows), horizon, level, query.by)
