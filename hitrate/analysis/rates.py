"""Hit rates: counts from the engine, Wilson intervals and value hit rate on top."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hitrate.analysis._common import DefinitionsArg, query_echo, resolve_definitions
from hitrate.analysis.results import RatesResult
from hitrate.engine.counting import Counts, count
from hitrate.engine.query import Query, period_label
from hitrate.errors import SmallSampleWarning, ValueRateWarning
from hitrate.i18n import Message
from hitrate.spec.model import Definitions
from hitrate.stats.intervals import wilson_interval

__all__ = ["SMALL_SAMPLE", "finish", "rates", "resolve_definitions"]

SMALL_SAMPLE = 10


def rates(
    source: Any,
    *,
    by: str | Sequence[str] = (),
    period: str | None = None,
    basis: str | None = None,
    date_from: dt.date | str | None = None,
    date_to: dt.date | str | None = None,
    where: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
    definitions: DefinitionsArg = None,
    confidence: float = 0.95,
) -> RatesResult:
    """Hit rate per group with a Wilson score interval, and value hit rate.

    Parameters
    ----------
    source:
        A :class:`hitrate.Store`, or any Ibis backend holding an ``opportunities`` table.
    by:
        Field(s) to group by (``"rep"``, ``["team", "rep"]``, ``lead_source``...); none gives one row for all
        data.
    period:
        ``week``, ``month``, ``quarter`` or ``year``: adds a ``period`` label (``2017-W09``,
        ``2017-03``, ``2017-Q1``, ``2017``) from the definitions' period date.
    basis:
        ``closed`` (won / (won + lost)) or ``cohort`` (won / all created, open included); overrides the
        definitions, and so changes the definitions hash.
    date_from, date_to:
        Inclusive range on the period date.
    where:
        Field -> accepted values (equality; several values mean any of them), or ``FIELD=VALUE`` items as
        the command line's ``--where`` takes them.
    definitions:
        The definitions to count under, or the path of a definitions file (``--definitions``); default: the
        store's in force.
    confidence:
        Level of the Wilson intervals (0.95).

    The keyword arguments are the command line's options (``date_from``/``date_to`` are ``--from``/``--to``).

    Count hit rate is hits / attempts with the Wilson score interval. Value hit rate is the amount
    won divided by the amount of all attempts whose amount is known.
    """
    defs = resolve_definitions(source, definitions, basis)
    query = Query.build(by=by, period=period, date_from=date_from, date_to=date_to, where=where)
    result = finish(count(source, defs, query), defs, query, confidence)
    if defs.denominator == "sessions":
        result.add_method(Message("rates.conversion_note"))
    if defs.basis == "cohort" and len(result.columns["attempts"]):
        from hitrate.analysis.cohorts import eventual_columns

        labels = [*query.by, *(["period"] if query.period else [])]
        keys = list(zip(*(result.columns[f].tolist() for f in labels), strict=True)) if labels else [()]
        extra, notes = eventual_columns(source, defs, query, keys, confidence)
        result.columns.update(extra)
        result.warnings.extend(notes)
        result.add_method(Message("rates.eventual_method"))
    return result


def finish(counts: Counts, defs: Definitions, query: Query, confidence: float = 0.95) -> RatesResult:
    """Turn the engine's counts into a :class:`RatesResult` (intervals, labels, warnings)."""
    c = counts.columns
    n = c["attempts"].astype(float)
    k = c["hits"].astype(float)
    low, high = wilson_interval(k, n, confidence)
    known = c["amount_known"]
    with np.errstate(invalid="ignore", divide="ignore"):
        hit_rate = np.where(n > 0, k / n, np.nan)
        value_rate = np.where(known > 0, c["amount_won"] / known, np.nan)
    columns: dict[str, np.ndarray] = {name: c[name] for name in query.by}
    if query.period is not None:
        starts = c["period_start"].astype("datetime64[us]").tolist()
        columns["period"] = np.array([period_label(s, query.period) for s in starts], dtype=object)
    columns.update(
        attempts=c["attempts"],
        hits=c["hits"],
        hit_rate=hit_rate,
        ci_low=low,
        ci_high=high,
        amount_won=c["amount_won"],
        value_hit_rate=value_rate,
    )
    if query.period is not None:
        columns.update(_changes(c, query))
    notes = _warnings(counts, defs)
    for note in notes:
        meaningless = isinstance(note, Message) and note.key == "rates.value_rate_meaningless"
        category = ValueRateWarning if meaningless else SmallSampleWarning
        warnings.warn(str(note), category, stacklevel=3)
        if meaningless:  # not shown as a number that says nothing: empty, the warning saying why
            columns["value_hit_rate"] = np.full(len(value_rate), np.nan)
    q = {"by": list(query.by), "period": query.period, **query_echo(query), "confidence": confidence}
    result = RatesResult(columns, defs, query.by, query.period, q, notes)
    if query.by or query.period:  # the headline's "clearly", named
        result.add_method(Message("rates.method_clearly"))
    return result


def _changes(c: dict[str, np.ndarray], query: Query) -> dict[str, np.ndarray]:
    """Period-over-period change within each group's series: difference with a Newcombe interval, and a flag
    (``up``/``down``) when significant after Benjamini-Hochberg across the series (see
    :func:`hitrate.stats.compare.change_flags`)."""
    from hitrate.stats.compare import change_flags

    n = len(c["attempts"])
    series = np.zeros(n, dtype=np.int64)
    if query.by and n:  # rows come ordered by the groups, then by period: a new series where a group field changes
        changed = np.zeros(n - 1, dtype=bool)
        for f in query.by:
            values = np.asarray(c[f], dtype=object)
            changed |= values[1:] != values[:-1]
        series[1:] = np.cumsum(changed)
    diff, low, high, p, flag = change_flags(c["hits"], c["attempts"], groups=series)
    out = {"change": diff, "change_low": low, "change_high": high, "change_p": p}
    flags = flag.astype(object)
    return {**out, "change_flag": flags}


def _warnings(counts: Counts, defs: Definitions) -> list[Message | str]:
    c = counts.columns
    notes: list[Message | str] = []
    nonwins = int((c["attempts"] - c["hits"]).sum())
    won_amount, known_amount = float(c["amount_won"].sum()), float(c["amount_known"].sum())
    nonwin_amount = known_amount - won_amount  # what the attempts not won put in the denominator
    if nonwins and won_amount and abs(nonwin_amount) <= 1e-9 * max(1.0, abs(known_amount)):
        what = Message("rates.lost" if defs.basis == "closed" else "rates.lost_and_open")
        notes.append(Message("rates.value_rate_meaningless", what=what))
    attempts = c["attempts"]
    small = int(((attempts > 0) & (attempts < SMALL_SAMPLE)).sum())
    if small:
        if len(attempts) > 1:
            notes.append(Message("rates.small_sample_groups", small=small, groups=len(attempts), minimum=SMALL_SAMPLE))
        else:
            notes.append(Message("rates.small_sample_one", minimum=SMALL_SAMPLE))
    return notes
