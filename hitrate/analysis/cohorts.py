"""Eventual hit rates of cohorts whose deals are still open, and time to close.

On the cohort basis (won / all created in a period) a young cohort looks bad because its deals are still
open. Here each cohort's eventual rate is estimated with competing-risks cumulative incidence (won and
lost compete, open deals are censored; Aalen-Johansen), pooled across the cohorts of a group by deal age,
so a young cohort borrows the time-to-close pattern of older ones. All inputs are aggregated by the engine
(:func:`hitrate.engine.cohort_expr`): counts per age, per cohort, and per cohort and age of open deals.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hitrate.engine.counting import fetch
from hitrate.engine.query import Query, period_label
from hitrate.errors import UserInputError
from hitrate.i18n import Message
from hitrate.spec.model import Definitions

EVENTUAL_COLUMNS = ("eventual_rate", "eventual_low", "eventual_high", "median_days_to_win", "median_days_to_lose")


def as_of(source: Any) -> dt.datetime | None:
    """The export date of the data: the latest created or closed date."""
    from hitrate.engine.expressions import as_of_expr

    value = fetch(source, as_of_expr(source).name("as_of").as_table())["as_of"][0]
    if isinstance(value, np.datetime64):
        value = value.astype("datetime64[us]").item()
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time())


def eventual_columns(
    source: Any, defs: Definitions, query: Query, row_keys: list[tuple[Any, ...]], confidence: float = 0.95
) -> tuple[dict[str, np.ndarray], list[Message]]:
    """Eventual rate (with a prediction interval) and median days to win / to lose, aligned with ``row_keys``
    (the ``by`` values, then the period label when ``query.period`` is set)."""
    from hitrate.engine.expressions import cohort_expr
    from hitrate.stats.censoring import aalen_johansen, eventual_rates, median_time_to

    size = len(row_keys)
    out = {name: np.full(size, np.nan) for name in EVENTUAL_COLUMNS}
    notes: list[Message] = []
    if defs.effective_period_date != "created_at":
        return out, [Message("cohorts.eventual_needs_created_at", date=defs.effective_period_date)]
    when = as_of(source)
    if when is None:
        return out, [Message("cohorts.eventual_needs_dates")]
    exprs = cohort_expr(
        source,
        defs,
        Query.build(
            by=query.by,
            period=query.period or "month",
            date_from=query.date_from,
            date_to=query.date_to,
            where=dict(query.where),
        ),
        when,
    )
    events, cohorts, opened = (fetch(source, exprs[k]) for k in ("events", "cohorts", "open"))
    by = list(query.by)
    position = {key: i for i, key in enumerate(row_keys)}
    early = int(events["early"].sum()) if len(events["early"]) else 0
    if early:
        notes.append(Message("cohorts.closed_before_created", n=early))

    def keys(cols: dict[str, np.ndarray], with_period: bool) -> list[tuple[Any, ...]]:
        parts = [cols[f].tolist() for f in by]
        if with_period:
            starts = cols["period_start"].astype("datetime64[us]").tolist()
            parts.append([period_label(s, query.period) for s in starts] if query.period else [None] * len(starts))
        return list(zip(*parts, strict=True)) if parts else [()] * len(next(iter(cols.values())))

    ev_group = keys(events, False)
    co_key = keys(cohorts, True)
    op_key = keys(opened, True)
    for group in dict.fromkeys(ev_group):
        m = np.array([g == group for g in ev_group])
        ci = aalen_johansen(
            events["age"][m].astype(float),
            events["won"][m].astype(float),
            events["lost"][m].astype(float),
            events["censored"][m].astype(float),
        )
        win_days = median_time_to(events["age"][m].astype(float), events["won"][m].astype(float))
        lose_days = median_time_to(events["age"][m].astype(float), events["lost"][m].astype(float))
        cm = np.array([k[: len(by)] == group for k in co_key])
        om = np.array([k[: len(by)] == group for k in op_key]) if op_key else np.zeros(0, dtype=bool)
        labels = sorted({k[len(by)] for k, keep in zip(co_key, cm, strict=True) if keep}, key=str)
        code = {lab: i for i, lab in enumerate(labels)}
        c_codes = np.array([code[k[len(by)]] for k, keep in zip(co_key, cm, strict=True) if keep])
        n, won, lost = (
            np.bincount(c_codes, weights=cohorts[f][cm].astype(float), minlength=len(labels))
            for f in ("n", "won", "lost")
        )
        o_codes = np.array([code[k[len(by)]] for k, keep in zip(op_key, om, strict=True) if keep], dtype=np.int64)
        res = eventual_rates(
            ci,
            np.arange(len(labels)),
            n,
            won,
            lost,
            o_codes,
            opened["age"][om].astype(float) if len(o_codes) else np.zeros(0),
            opened["count"][om].astype(float) if len(o_codes) else np.zeros(0),
            confidence=confidence,
        )
        for i, lab in enumerate(labels):
            row = position.get((*group, lab) if query.period else group)
            if row is None:
                continue
            out["eventual_rate"][row] = res.eventual_rate[i]
            out["eventual_low"][row] = res.eventual_low[i]
            out["eventual_high"][row] = res.eventual_high[i]
            out["median_days_to_win"][row] = win_days
            out["median_days_to_lose"][row] = lose_days
    return out, notes


def cohort_curves(
    source: Any, defs: Definitions, *, period: str = "quarter", where: Mapping[str, Sequence[str]] | None = None
) -> dict[str, np.ndarray]:
    """Cumulative share of each cohort's deals won by deal age (days): ``cohort``, ``age``,
    ``cumulative_win_rate`` and ``n`` (the cohort's size), one row per cohort and age at which a deal was won;
    ``where`` keeps only the rows it accepts (field -> values)."""
    from hitrate.engine.expressions import cohort_expr

    when = as_of(source)
    if when is None:
        raise UserInputError("cohorts.curves_need_dates")
    exprs = cohort_expr(source, defs.with_overrides(basis="cohort"), Query.build(period=period, where=where), when)
    wins, cohorts = fetch(source, exprs["wins"]), fetch(source, exprs["cohorts"])
    size = {s: int(n) for s, n in zip(cohorts["period_start"].tolist(), cohorts["n"].tolist(), strict=True)}
    starts = wins["period_start"].tolist()
    out: dict[str, list[Any]] = {"cohort": [], "age": [], "cumulative_win_rate": [], "n": []}
    running: dict[Any, float] = {}
    for start, age, won in zip(starts, wins["age"].tolist(), wins["won"].tolist(), strict=True):
        running[start] = running.get(start, 0.0) + float(won)
        out["cohort"].append(period_label(start, period))
        out["age"].append(int(age))
        out["cumulative_win_rate"].append(running[start] / size[start])
        out["n"].append(size[start])
    return {
        "cohort": np.array(out["cohort"], dtype=object),
        "age": np.array(out["age"], dtype=np.int64),
        "cumulative_win_rate": np.array(out["cumulative_win_rate"], dtype=float),
        "n": np.array(out["n"], dtype=np.int64),
    }
