"""Hit rates: counts from the engine, Wilson intervals and value hit rate on top."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import engine
from .errors import SmallSampleWarning, ValueRateWarning
from .results import RatesResult
from .spec import Definitions, default_definitions
from .stats.intervals import wilson_interval

SMALL_SAMPLE = 10
ROW_COLUMNS = ("attempts", "hits", "hit_rate", "ci_low", "ci_high", "amount_won", "value_hit_rate")


def rates(
    source: Any,
    *,
    by: Sequence[str] = (),
    period: str | None = None,
    basis: str | None = None,
    date_from: dt.date | str | None = None,
    date_to: dt.date | str | None = None,
    where: Mapping[str, Sequence[str]] | None = None,
    definitions: Definitions | None = None,
    confidence: float = 0.95,
) -> RatesResult:
    """Hit rate per group with a Wilson score interval, and value hit rate.

    Parameters
    ----------
    source:
        A :class:`hitrate.Store`, or any Ibis backend holding an ``opportunities`` table.
    by:
        Fields to group by (``rep``, ``team``, ``lead_source``...); none gives one row for all data.
    period:
        ``week``, ``month``, ``quarter`` or ``year``: adds a ``period`` label (``2017-W09``,
        ``2017-03``, ``2017-Q1``, ``2017``) from the definitions' period date.
    basis:
        ``closed`` (won / (won + lost)) or ``cohort`` (won / all created, open included); overrides the
        definitions, and so changes the definitions hash.
    date_from, date_to:
        Inclusive range on the period date.
    where:
        Field -> accepted values (equality; several values mean any of them).

    Count hit rate is hits / attempts with the Wilson score interval. Value hit rate is the amount
    won divided by the amount of all attempts whose amount is known.
    """
    from .store import Store

    if isinstance(source, Store):
        from .definitions import definitions_in_force

        defs = definitions if definitions is not None else definitions_in_force(source)
        con = source  # the store caches table schemas and runs Ibis's compiled SQL on DuckDB directly
    else:
        defs = definitions if definitions is not None else default_definitions()
        con = source
    defs = defs.with_overrides(basis=basis)
    query = engine.Query.build(by=by, period=period, date_from=date_from, date_to=date_to, where=where)
    counts = engine.count(con, defs, query)
    return finish(counts, defs, query, confidence)


def finish(counts: pd.DataFrame, defs: Definitions, query: engine.Query, confidence: float = 0.95) -> RatesResult:
    """Turn the engine's counts into a :class:`RatesResult` (intervals, labels, warnings)."""
    frame = counts.copy()
    n = frame["attempts"].to_numpy(dtype=float)
    k = frame["hits"].to_numpy(dtype=float)
    low, high = wilson_interval(k, n, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["hit_rate"] = np.where(n > 0, k / n, np.nan)
        known = frame["amount_known"].to_numpy(dtype=float)
        frame["value_hit_rate"] = np.where(known > 0, frame["amount_won"].to_numpy(dtype=float) / known, np.nan)
    frame["ci_low"], frame["ci_high"] = low, high
    cols = list(query.by)
    if query.period is not None:
        frame["period"] = [engine.period_label(pd.Timestamp(s), query.period) for s in frame["period_start"]]
        cols.append("period")
    notes = _warnings(frame, defs)
    for note in notes:
        category = ValueRateWarning if note.startswith("value hit rate") else SmallSampleWarning
        warnings.warn(note, category, stacklevel=3)
    rows = frame[[*cols, *ROW_COLUMNS]].reset_index(drop=True)
    q: dict[str, Any] = {
        "by": list(query.by),
        "period": query.period,
        "from": query.date_from.isoformat() if query.date_from else None,
        "to": query.date_to.isoformat() if query.date_to else None,
        "where": {k: list(v) for k, v in query.where},
        "confidence": confidence,
    }
    return RatesResult(rows, defs, query.by, query.period, q, notes)


def _warnings(frame: pd.DataFrame, defs: Definitions) -> list[str]:
    notes: list[str] = []
    nonwins = int(frame["nonwins"].sum())
    if nonwins and int(frame["nonwin_amount_nonzero"].sum()) == 0 and int(frame["attempts_with_amount"].sum()):
        what = "lost" if defs.basis == "closed" else "lost and open"
        notes.append(
            f"value hit rate says nothing here: every {what} attempt has amount 0 or no amount, "
            "so only won amounts count and the ratio is 1 wherever anything was won"
        )
    small = int(((frame["attempts"] > 0) & (frame["attempts"] < SMALL_SAMPLE)).sum())
    if small:
        what = f"{small} of {len(frame)} groups have" if len(frame) > 1 else "this rate has"
        notes.append(
            f"{what} fewer than {SMALL_SAMPLE} attempts: the intervals are wide "
            "and such rates support no claim on their own"
        )
    return notes
