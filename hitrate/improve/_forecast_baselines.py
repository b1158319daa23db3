"""The backtest's counting: wins by group and month, and the two baselines (stage-weighted, run-rate)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np

from hitrate.engine.counting import fetch
from hitrate.engine.expressions import classified
from hitrate.engine.query import Query
from hitrate.improve._forecast_data import Coder, Key, next_start
from hitrate.spec.model import Definitions


def _ts(day: dt.date) -> Any:
    return ibis.timestamp(dt.datetime.combine(day, dt.time()))


@dataclass
class MonthlyWins:
    """Wins per group key and closed month (first day)."""

    wins: dict[tuple[Key, dt.date], float]

    def total(self, key: Key, first: dt.date, last: dt.date) -> float:
        """Wins of the group closed in the months from the one of ``first`` to the one of ``last``."""
        out = 0.0
        month = first.replace(day=1)
        while month <= last:
            out += self.wins.get((key, month), 0.0)
            month = next_start(month, "month")
        return out


def wins_by_month(store: Any, defs: Definitions, query: Query) -> MonthlyWins:
    """One engine query: wins per group and closed month."""
    by = list(query.by)
    t = classified(store, defs, query, {"closed_at"})
    t = t.filter(t._won & t.closed_at.notnull())
    t = t.mutate(month=t.closed_at.truncate("M"))
    c = fetch(store, t.group_by([*by, "month"]).aggregate(n=t.count()).order_by([*by, "month"]))
    coder = Coder(query.by)
    codes = coder.codes(c)
    months = [m.date() if isinstance(m, dt.datetime) else m for m in _dates(c["month"])]
    return MonthlyWins(
        {(coder.keys[g], m): float(n) for g, m, n in zip(codes.tolist(), months, c["n"].tolist(), strict=True)}
    )


def _dates(values: np.ndarray) -> list[Any]:
    if np.issubdtype(values.dtype, np.datetime64):
        return [dt.date.fromisoformat(str(v)[:10]) for v in values.astype("datetime64[D]")]
    return list(values)


def run_rate(months: MonthlyWins, key: Key, first: dt.date, horizon: str) -> float:
    """Mean wins of the three periods before the one starting on ``first``."""
    step = 1 if horizon == "month" else 3
    index = first.year * 12 + first.month - 1
    totals = []
    for k in (1, 2, 3):
        start = index - k * step
        begin = dt.date(start // 12, start % 12 + 1, 1)
        totals.append(months.total(key, begin, next_start(begin, horizon) - dt.timedelta(days=1)))
    return float(np.mean(totals))


def stage_weighted(
    store: Any, defs: Definitions, query: Query, as_of: dt.date, overall: float, open_deals: dict[Key, float]
) -> dict[Key, float]:
    """Per group: the deals open on ``as_of`` times their stage's historical win rate (the stage they were in
    on ``as_of`` by the stage history; the rate over the deals decided before ``as_of`` that entered the stage),
    or times ``overall`` (the historical win rate of all deals decided before it) without a stage history;
    ``open_deals``: the open deals per group (from the forecast)."""
    if not _has_history(store):
        return {key: n * overall for key, n in open_deals.items()}
    by = list(query.by)
    t = classified(store, defs, query, {"id", "created_at", "closed_at"})
    t = t.filter(t.created_at.notnull() & (t.created_at < _ts(as_of)))
    t = t.mutate(_then=(t._won | t._lost) & t.closed_at.notnull() & (t.closed_at < _ts(as_of)))
    h = store.table("stage_history")
    h = h.filter(h.entered_at < _ts(as_of))
    ever = h.select(_hid=h.id, _stage=h.stage).distinct()
    now = h.group_by("id").aggregate(_now=h.stage.argmax(h.entered_at)).rename(_nid="id")
    j = t.left_join(now, t.id == now._nid).left_join(ever, t.id == ever._hid)
    j = j.mutate(_current=j._now == j._stage)
    c = fetch(
        store,
        j.group_by([*by, "_stage"])
        .aggregate(
            open=j.count(where=~j._then & j._current), won=j.count(where=j._then & j._won), n=j.count(where=j._then)
        )
        .order_by([*by, "_stage"]),  # the same order each run: sums over stages add up the same way
    )
    coder = Coder(query.by)
    codes = coder.codes(c)
    stages = c["_stage"].tolist()
    won, n = np.asarray(c["won"], dtype=float), np.asarray(c["n"], dtype=float)
    rate: dict[Any, float] = {}
    for stage in set(stages):
        mine = np.array([s == stage for s in stages])
        rate[stage] = float(won[mine].sum() / n[mine].sum()) if n[mine].sum() else overall
    out = {key: 0.0 for key in open_deals}
    for g, stage, k in zip(codes.tolist(), stages, c["open"].tolist(), strict=True):
        out[coder.keys[g]] = out.get(coder.keys[g], 0.0) + float(k) * rate.get(stage, overall)
    # open deals with no stage entered before the as-of date count at the overall rate
    staged = {key: 0.0 for key in open_deals}
    for g, k in zip(codes.tolist(), c["open"].tolist(), strict=True):
        staged[coder.keys[g]] = staged.get(coder.keys[g], 0.0) + float(k)
    for key, total in open_deals.items():
        out[key] += max(total - staged.get(key, 0.0), 0.0) * overall
    return out


def _has_history(store: Any) -> bool:
    """Whether the store has a stage history with rows."""
    if "stage_history" not in store.list_tables():
        return False
    t = store.table("stage_history")
    return bool(fetch(store, t.count().name("n").as_table())["n"][0])
