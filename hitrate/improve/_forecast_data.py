"""The forecast's counting: the pipeline as it stood on the as-of date, as small tables by group and deal age.

Everything is an Ibis aggregation pushed to the engine; Python sees one row per (group, stratum, age) or
(group, month). Time travel: the as-of date ``D`` is the morning of that day, everything dated before it is
known. A deal created on or after ``D`` does not exist; a deal decided on or after ``D`` (or decided with no
close date) was open on ``D`` whatever it became; its recorded amount is not used (in many CRMs the amount is
set at the close), only the amount of deals still undecided in the data is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import numpy as np

from hitrate.engine.counting import fetch
from hitrate.engine.expressions import classified
from hitrate.engine.query import PERIODS, Query
from hitrate.spec.model import Definitions

Key = tuple[Any, ...]


def _ts(day: dt.date) -> Any:
    return ibis.timestamp(dt.datetime.combine(day, dt.time()))


@dataclass
class Tables:
    """The aggregated tables and the group keys (``keys[code]`` is the tuple of the ``by`` fields' values);
    ``events`` has a ``stratum`` code too (``strata_keys[code]``: the values of the ``strata`` fields, as text,
    ``()`` when there are none)."""

    keys: list[Key]
    events: dict[str, np.ndarray]
    arrivals: dict[str, np.ndarray]
    booked: dict[str, np.ndarray]
    undated: int
    strata: tuple[str, ...] = ()
    strata_keys: list[Key] = field(default_factory=lambda: [()])


class Coder:
    """Group keys to integer codes, shared by every table."""

    def __init__(self, by: tuple[str, ...]) -> None:
        self.by = by
        self.keys: list[Key] = []
        self.index: dict[Key, int] = {}

    def codes(self, table: dict[str, np.ndarray]) -> np.ndarray:
        """The code of each row of ``table`` (new keys get new codes)."""
        n = len(next(iter(table.values()))) if table else 0
        if not self.by:
            if not self.keys:
                self.keys.append(())
                self.index[()] = 0
            return np.zeros(n, dtype=np.int64)
        cols = [table[f].tolist() for f in self.by]
        out = np.empty(n, dtype=np.int64)
        for i, key in enumerate(zip(*cols, strict=True)):  # one row per group and age: aggregated rows
            code = self.index.get(key)
            if code is None:
                code = self.index[key] = len(self.keys)
                self.keys.append(key)
            out[i] = code
        return out


def pipeline_tables(
    store: Any, defs: Definitions, query: Query, as_of: Sequence[dt.date], strata: Sequence[str] = ()
) -> dict[dt.date, Tables]:
    """Per as-of date and group, three small tables, for all the as-of dates at once (each row of the data is
    paired with every as-of date in the engine, so a backtest runs three queries, not three per date): by
    stratum (the values of the ``strata`` fields, as text) and deal age, won, lost and open (censored) counts
    with the open deals' known amounts and the won deals' amounts; by created month, the deals created (a
    missing month: open deals without a created date); the wins booked from the start of the period
    (``query.period``) holding the as-of date up to it."""
    by = list(query.by)
    layers = [s for s in strata if s not in by]
    days = sorted(set(as_of))
    c = classified(store, defs, query, {"created_at", "closed_at", "amount", *layers})
    c = c.mutate(_as_of=ibis.array([_ts(d) for d in days]).unnest())
    dated = c.created_at.notnull() & (c.created_at < c._as_of)
    a = c.filter(dated | (c.created_at.isnull() & ~(c._won | c._lost)))
    a = a.mutate(month=a.created_at.truncate("M"))
    arrivals = a.group_by(["_as_of", *by, "month"]).aggregate(n=a.count())
    t = c.filter(dated)
    decided_then = (t._won | t._lost) & t.closed_at.notnull() & (t.closed_at < t._as_of)
    end = decided_then.ifelse(t.closed_at, t._as_of)
    t = t.mutate(
        age=end.date().delta(t.created_at.date(), unit="day"),
        _then=decided_then,
        _lost_only=t._lost & ~t._won,
        _open=~decided_then,
        _amount=(t._won | t._lost).ifelse(ibis.null().cast("float64"), t.amount.cast("float64")),
        _won_amount=(decided_then & t._won).ifelse(t.amount.cast("float64"), ibis.null().cast("float64")),
    )
    t = t.mutate(**{f: t[f].cast("string") for f in layers})
    events = t.group_by(["_as_of", *by, *layers, "age"]).aggregate(
        won=t.count(where=t._then & t._won),
        lost=t.count(where=t._then & t._lost_only),
        censored=t.count(where=t._open),
        known=t._amount.count(where=t._open),
        amount=t._amount.sum(where=t._open),
        amount_sq=(t._amount * t._amount).sum(where=t._open),
        won_known=t._won_amount.count(),
        won_amount=t._won_amount.sum(),
        won_amount_sq=(t._won_amount * t._won_amount).sum(),
    )
    b = c.filter(c._won & c.closed_at.notnull() & (c.closed_at < c._as_of))
    b = b.filter(b.closed_at >= b._as_of.truncate(PERIODS[query.period or "month"]))
    booked = b.group_by(["_as_of", *by]).aggregate(n=b.count(), amount=b.amount.cast("float64").sum())
    coder = Coder(query.by)
    # sorted by their keys, so group and stratum codes (and the order of every sum over them) are the same each run
    events = events.order_by(["_as_of", *by, *layers, "age"])
    arrivals = arrivals.order_by(["_as_of", *by, "month"])
    booked = booked.order_by(["_as_of", *by])
    got = {name: fetch(store, e) for name, e in (("events", events), ("arrivals", arrivals), ("booked", booked))}
    for table in got.values():
        table["group"] = coder.codes(table)
        table["_day"] = np.array([_day(v) for v in table["_as_of"].tolist()], dtype=object)
    layer_coder = Coder(tuple(layers))
    got["events"]["stratum"] = layer_coder.codes(got["events"])
    out = {}
    for day in days:
        part = {name: {k: np.asarray(v)[table["_day"] == day] for k, v in table.items()} for name, table in got.items()}
        arr = part["arrivals"]
        missing = np.array([m is None or m != m for m in arr["month"].tolist()], dtype=bool)  # NaT or None
        arrivals_then = {k: v[~missing] for k, v in arr.items()}
        undated = int(np.asarray(arr["n"], dtype=float)[missing].sum())
        out[day] = Tables(
            coder.keys, part["events"], arrivals_then, part["booked"], undated, tuple(layers), layer_coder.keys
        )
    return out


def first_seen(store: Any, defs: Definitions, query: Query, fields: Sequence[str]) -> dict[str, np.ndarray]:
    """For each field, the earliest created date of each of its values (missing values left out) among the
    deals that count: a field has ``(first < D).sum()`` values before the as-of date ``D``. One small engine
    query per field."""
    out = {}
    for f in fields:
        t = classified(store, defs, query, {"created_at", f})
        t = t.filter(t.created_at.notnull() & t[f].notnull())
        got = fetch(store, t.group_by(f).aggregate(_first=t.created_at.min()))
        out[f] = np.array([_day(v) for v in got["_first"].tolist()], dtype="datetime64[D]")
    return out


def _day(value: Any) -> dt.date:
    """A timestamp from the engine as a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def period_start(day: dt.date, period: str) -> dt.date:
    """The first day of the period (week from Monday, month, quarter, year) that holds ``day``."""
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


def next_start(day: dt.date, period: str) -> dt.date:
    """The first day of the period after the one that starts on ``day``."""
    if period == "week":
        return day + dt.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def periods_between(as_of: dt.date, until: dt.date, period: str) -> list[tuple[dt.date, dt.date]]:
    """The periods from the one holding ``as_of`` to the one holding ``until``: (first day, last day), the first
    day of the first period possibly before ``as_of`` and the last period cut at ``until``."""
    out = []
    start = period_start(as_of, period)
    while start <= until:
        nxt = next_start(start, period)
        out.append((start, min(nxt - dt.timedelta(days=1), until)))
        start = nxt
    return out


def actual_wins(store: Any, defs: Definitions, query: Query, first: dt.date, last: dt.date) -> dict[Key, float]:
    """Wins closed from ``first`` to ``last`` (inclusive), per group key: what then happened."""
    by = list(query.by)
    t = classified(store, defs, query, {"closed_at"})
    t = t.filter(t._won & (t.closed_at >= _ts(first)) & (t.closed_at < _ts(last + dt.timedelta(days=1))))
    c = fetch(store, (t.group_by(by) if by else t).aggregate(n=t.count()))
    keys = zip(*[c[f].tolist() for f in by], strict=True) if by else [()] * len(c["n"])
    return {tuple(k): float(n) for k, n in zip(keys, c["n"].tolist(), strict=True)}
