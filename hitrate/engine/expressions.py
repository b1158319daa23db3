"""Definitions + data -> aggregated counts, as Ibis expressions pushed down to the engine.

This is the counting half of hitrate. It filters, classifies and groups rows where the
data lives (DuckDB, PostgreSQL, Spark: any Ibis backend) and returns one small table:
per group ``attempts``, ``hits`` and amounts. Statistics then run on that table.
No row of data passes through Python here.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import ibis
import ibis.expr.types as ir

from hitrate.engine.query import PERIODS, Query
from hitrate.errors import UnknownFieldError, UserInputError
from hitrate.i18n import Message, Param
from hitrate.spec.model import Condition, Definitions
from hitrate.store.schema import LOOKUPS


def analysis_table(con: Any, fields: set[str]) -> ir.Table:
    """``opportunities`` with the lookup tables (reps, accounts, products) left-joined by key,
    but only when ``fields`` asks for one of their columns.

    A field both tables have (a ``team`` column of the opportunities beside ``reps.team``) is the deal's own
    value where it has one and the lookup's where it is missing: an opportunities file with a ``team`` column
    of its own overrides the rep's team for its deals and never hides it for the others (``hitrate doctor``
    counts where the two differ). Only a column of the same type in both is filled so."""
    opps = con.table("opportunities")
    present = set(con.list_tables())
    own = set(opps.columns)
    have = set(own)
    filled: set[str] = set()
    for lookup in LOOKUPS:
        if lookup.name not in present or lookup.key not in own:
            continue
        table = con.table(lookup.name)
        usable = {f for f in fields if f in table.columns and not f.startswith("_") and f != lookup.key}
        wanted = sorted(usable - have)
        shared = sorted(f for f in usable & (own - filled) if table[f].type() == opps[f].type())
        if not wanted and not shared:
            continue
        right = table.select(
            _lk_key=table[lookup.key], **{f: table[f] for f in wanted}, **{f"_lk_{f}": table[f] for f in shared}
        )
        opps = opps.left_join(right, opps[lookup.key] == right["_lk_key"]).drop("_lk_key")
        if shared:
            opps = opps.mutate(**{f: ibis.coalesce(opps[f], opps[f"_lk_{f}"]) for f in shared})
            opps = opps.drop(*(f"_lk_{f}" for f in shared))
        have |= set(wanted)
        filled |= set(shared)
    # Only the fields the query reads: a smaller expression compiles faster and reads fewer columns.
    keep = [c for c in opps.columns if c in fields]
    return opps.select(keep) if keep else opps


def fields_available(con: Any) -> list[str]:
    """Every field a query may name: opportunity columns and lookup-table attributes."""
    opps = con.table("opportunities")
    out = {c for c in opps.columns if not c.startswith("_")}
    present = set(con.list_tables())
    for lookup in LOOKUPS:
        if lookup.name in present and lookup.key in out:
            out |= {c for c in con.table(lookup.name).columns if not c.startswith("_")}
    return sorted(out)


def compile_condition(cond: Condition, t: ir.Table, where: str = "definitions") -> ir.BooleanValue:
    """A structured condition as an Ibis boolean expression.

    A comparison with a missing value is NULL, which every use here (WHERE, FILTER, AND, OR) treats as
    false; no condition is ever negated after compiling, so no COALESCE is needed (it costs 7-15% of the
    query). ``ne`` and ``not_in`` hold for a missing value (a missing stage is not 'Spam').
    """
    if cond.any is not None:
        parts = [compile_condition(c, t, where) for c in cond.any]
        return functools.reduce(operator.or_, parts)
    assert cond.field is not None
    if cond.field not in t.columns:
        raise UnknownFieldError(cond.field, [c for c in t.columns if not c.startswith("_")], where)
    col = t[cond.field]
    op = cond.op
    if op == "is_null":
        return col.isnull()
    if op == "not_null":
        return col.notnull()
    if op in ("in", "not_in"):
        values = [coerce_value(col, v, where) for v in cond.values or []]
        expr = col.isin(values)
        return (col.isnull() | ~expr) if op == "not_in" else expr
    value = coerce_value(col, cond.value, where)
    if op == "ne":
        return col.isnull() | (col != value)
    cmp = {"eq": operator.eq, "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}[op]
    return cmp(col, value)


def compile_conditions(conds: Sequence[Condition], t: ir.Table, where: str) -> ir.BooleanValue:
    """All conditions must hold; an empty list holds for every row."""
    if not conds:
        return ibis.literal(True)
    return functools.reduce(operator.and_, [compile_condition(c, t, f"{where}[{i}]") for i, c in enumerate(conds)])


def coerce_value(col: ir.Value, value: Any, where: str | Message = "definitions") -> Any:
    """A user's value in the type of the column it is compared with: the engine's typed comparison.

    Every comparison of a column with a value a person gave (a definitions condition, the query's
    ``where``, a goal's subject) goes through here, so ``amount = '5'`` compares as a number on every engine
    (the text of a number is engine-specific: ``'5.0'`` on one, ``'5'`` on another). The value comes back as

    * text, for a text column (``True`` -> ``'true'``, ``5`` -> ``'5'``);
    * a ``float``, for a numeric column given text (``'5'`` -> ``5.0``);
    * a ``datetime``, for a timestamp column given ISO text (``'2024-03-01'``, ``'2024-03-01 09:30'``);
    * unchanged, otherwise (a number for a numeric column, a date for a timestamp column).

    ``where`` says where the value came from, for the message: a definitions key (``"won[0]"``) or a
    :class:`~hitrate.i18n.Message` naming a parameter (``where team``). Raises
    :class:`~hitrate.errors.UserInputError` (``engine.not_a_number``, ``engine.not_a_datetime``) when text
    does not fit a numeric or timestamp column.
    """
    dtype = col.type()
    if dtype.is_string():
        return str(value).lower() if isinstance(value, bool) else str(value)
    if dtype.is_numeric() and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise UserInputError("engine.not_a_number", at=where, value=value) from None
    if dtype.is_timestamp() and isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            raise UserInputError("engine.not_a_datetime", at=where, value=value) from None
    return value


def apply_where(
    t: ir.Table, where: Mapping[str, Sequence[Any]] | Iterable[tuple[str, Sequence[Any]]], available: Sequence[str] = ()
) -> ir.Table:
    """The rows of ``t`` whose fields have one of the accepted values: the query's ``where``.

    ``where`` maps a field to its accepted values (several values mean any of them), or is the query's
    ``(field, values)`` pairs. Each value is compared in the column's own type (:func:`coerce_value`); a
    missing value matches nothing. Raises :class:`~hitrate.errors.UnknownFieldError` (naming the ``where``
    parameter and the fields in ``available``, by default those of ``t``) for a field ``t`` does not have,
    and :class:`~hitrate.errors.UserInputError` for a value that does not fit its column.
    """
    pairs = where.items() if isinstance(where, Mapping) else where
    for field, values in pairs:
        if field not in t.columns:
            names = list(available) or [c for c in t.columns if not c.startswith("_")]
            raise UnknownFieldError(field, names, Param("where"))
        col = t[field]
        at = Message("engine.where_field", param=Param("where"), field=field)
        t = t.filter(col.isin([_bound(col, coerce_value(col, v, at)) for v in values]))
    return t


#: The values of ``where`` taken out of the SQL while :func:`bound_values` collects them: name -> value.
_BOUND: ContextVar[dict[str, Any] | None] = ContextVar("hitrate_bound_values", default=None)
#: How a collected value stands in the compiled SQL until :func:`hitrate.engine.counting.bind` puts a parameter
#: marker there (private-use characters: no value a person gives reaches the SQL text, so none can collide).
PLACEHOLDER = "\ue000{}\ue000"


@contextmanager
def bound_values() -> Iterator[dict[str, Any]]:
    """Collect the ``where`` values of the expressions built in the block as bound parameters: each value
    stands in the expression as a placeholder literal (``PLACEHOLDER``, cast to the column's type) and goes
    into the yielded mapping, for the SQL to be run with them as parameters (never as SQL text)."""
    token = _BOUND.set({})
    try:
        values = _BOUND.get()
        assert values is not None
        yield values
    finally:
        _BOUND.reset(token)


def _bound(col: ir.Value, value: Any) -> Any:
    values = _BOUND.get()
    if values is None:
        return value
    name = f"p{len(values)}"
    values[name] = value
    marker = ibis.literal(PLACEHOLDER.format(name))
    return marker if col.type().is_string() else marker.cast(col.type())


def in_dates(t: ir.Table, column: str, date_from: dt.date | None, date_to: dt.date | None) -> ir.Table:
    """The rows of ``t`` whose ``column`` falls from ``date_from`` to ``date_to`` (both days included; None
    leaves that end open)."""
    when = t[column]
    if date_from is not None:
        t = t.filter(when >= ibis.timestamp(dt.datetime.combine(date_from, dt.time())))
    if date_to is not None:
        t = t.filter(when < ibis.timestamp(dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time())))
    return t


def _check_query_fields(con: Any, t: ir.Table, query: Query, extra: Iterable[str] = ()) -> None:
    """Every field the query groups by (``by``), filters on (``where``) or needs (``extra``) is in ``t``."""
    wanted: list[tuple[str, str]] = [(f, Param("by")) for f in query.by]
    wanted += [(f, Param("where")) for f, _ in query.where]
    wanted += [(f, "query") for f in sorted(extra)]
    for field, where in wanted:
        if field not in t.columns:
            raise UnknownFieldError(field, fields_available(con), where)


def count_expr(con: Any, defs: Definitions, query: Query) -> tuple[ir.Table, list[str]]:
    """The aggregation expression and its group columns (``period_start`` last when a period is asked).

    One row per group, ordered by the groups (missing values last), with ``attempts``, ``hits``,
    ``amount_won`` (amount of won attempts) and ``amount_known`` (amount of all attempts whose amount is
    known): the same four aggregates a hand-written query would compute.
    """
    fields = set(query.by) | defs.fields() | {k for k, _ in query.where} | {"amount"}
    t = analysis_table(con, fields)
    _check_query_fields(con, t, query)
    date_field = defs.effective_period_date
    if date_field not in t.columns:
        raise UnknownFieldError(date_field, fields_available(con), "definitions: period_date")

    t = t.filter(compile_conditions(defs.opportunity, t, "opportunity"))
    won = compile_conditions(defs.won, t, "won")
    lost = compile_conditions(defs.lost, t, "lost")
    t = t.mutate(_won=won)
    if defs.basis == "closed":
        t = t.filter(t._won | lost)  # a row that is both counts as won
    t = in_dates(apply_where(t, query.where), date_field, query.date_from, query.date_to)
    groups = list(query.by)
    if query.period is not None:
        t = t.filter(t[date_field].notnull())
        t = t.mutate(period_start=t[date_field].truncate(PERIODS[query.period]))
        groups.append("period_start")
    amount = t["amount"] if "amount" in t.columns else ibis.null().cast("float64")
    # Aggregates with FILTER clauses: NULL amounts drop out of sum() and count() by themselves.
    metrics = {
        "attempts": t.count(),
        "hits": t.count(where=t._won),
        "amount_won": amount.sum(where=t._won),
        "amount_known": amount.sum(),
    }
    if groups:
        agg = t.group_by(groups).aggregate(**metrics)
        return agg.order_by(group_order(agg, groups)), groups
    return t.aggregate(**metrics), groups


#: Month names (English and Danish, full and short) in calendar order, for :func:`group_order`.
MONTHS = (
    ("jan", "january", "januar"),
    ("feb", "february", "februar"),
    ("mar", "march", "marts"),
    ("apr", "april"),
    ("may", "maj"),
    ("jun", "june", "juni"),
    ("jul", "july", "juli"),
    ("aug", "august"),
    ("sep", "sept", "september"),
    ("oct", "october", "okt", "oktober"),
    ("nov", "november"),
    ("dec", "december"),
)


def group_order(t: ir.Table, groups: Sequence[str]) -> list[Any]:
    """Sort keys that order group values as people read them: numbers written as text by their value (``2``
    before ``10``), month names in calendar order (``Feb`` before ``Mar``), the rest alphabetically; empty
    values last. Typed columns (numbers, dates) keep their own order."""
    import ibis

    keys: list[Any] = []
    for g in groups:
        col = t[g]
        if col.type().is_string():
            text = col.strip().lower()
            month = ibis.cases(
                *((text.isin(names), i) for i, names in enumerate(MONTHS, start=1)), else_=ibis.null("int64")
            )
            # The pattern guards the cast: on PostgreSQL a try_cast is a plain cast, which fails on text.
            number = ibis.ifelse(text.re_search(r"^-?[0-9]+(\.[0-9]+)?$"), text.try_cast("float64"), None)
            keys += [ibis.asc(number, nulls_first=False), ibis.asc(month, nulls_first=False)]
        keys.append(ibis.asc(col, nulls_first=False))
    return keys


def check_definitions(con: Any, defs: Definitions) -> None:
    """Compile (without running) the definitions against the data: unknown fields and values that do not
    fit a field's type raise :class:`UserInputError` naming the key."""
    count_expr(con, defs, Query())


def classified(con: Any, defs: Definitions, query: Query, extra: set[str]) -> ir.Table:
    """The opportunities that count, each classified won or lost, filtered by the query's ``where``.

    The building block of every analysis that needs more than :func:`count_expr`'s four aggregates (the
    stage funnel, ramp, worth, cohorts, the rep card...): it returns an Ibis table expression, not data, for
    the caller to group and aggregate in the engine.

    Rows: the opportunities that meet the definitions' ``opportunity`` conditions and the query's ``where``
    (values compared in each column's type, :func:`coerce_value`). Nothing else is applied: not the basis
    (open rows stay; filter on ``_won | _lost`` for decided ones), not the date range, not the period.

    Columns: the fields the query names (``by``, ``where``), the fields the definitions read, the ``extra``
    fields asked for (lookup-table attributes such as a rep's ``team`` or ``hired_at`` are joined in by key,
    :func:`analysis_table`), and two booleans: ``_won`` (the definitions' ``won`` conditions hold) and
    ``_lost`` (their ``lost`` conditions hold). A row can be both (it counts as won; use
    ``_lost & ~_won`` for losses); a condition on a missing value is NULL, which filters and
    ``count(where=...)`` treat as false.

    Raises :class:`~hitrate.errors.UnknownFieldError` for a field the data does not have (naming the ``by``
    or ``where`` parameter it came from, or ``query`` for an ``extra`` field) and
    :class:`~hitrate.errors.UserInputError` when a value does not fit its column's type.
    """
    fields = set(query.by) | defs.fields() | {k for k, _ in query.where} | extra
    t = analysis_table(con, fields)
    _check_query_fields(con, t, query, extra)
    t = t.filter(compile_conditions(defs.opportunity, t, "opportunity"))
    won = compile_conditions(defs.won, t, "won")
    lost = compile_conditions(defs.lost, t, "lost")
    return apply_where(t.mutate(_won=won, _lost=lost), query.where)


def as_of_expr(con: Any) -> ir.Scalar:
    """The export date, taken as the latest created or closed date in the data."""
    t = con.table("opportunities")
    return ibis.greatest(t.created_at.max(), t.closed_at.max())


def cohort_expr(con: Any, defs: Definitions, query: Query, as_of: dt.datetime) -> dict[str, ir.Table]:
    """Aggregates for eventual hit rates of cohorts (competing risks, open deals censored).

    Rows need ``created_at``; a row is won (``won``), lost (``lost``, not won) or open. Its age is whole days
    from ``created_at`` to ``closed_at`` for decided rows, to ``as_of`` for open ones (decided rows without a
    close date are aged at ``as_of`` too). A row closed before it was created (dates that contradict each
    other, as real exports hold) counts at age 0 and in ``early``; ``hitrate doctor`` lists it. Returns small
    tables, each grouped by ``query.by`` too:

    ``events``: per age, ``won``, ``lost`` and ``censored`` (open) counts, pooled over cohorts, and ``early``
    (rows whose dates put them below age 0, counted at age 0);
    ``cohorts``: per cohort (``period_start``, the created period), ``n``, ``won``, ``lost``;
    ``open``: per cohort and age, the number of open rows;
    ``wins``: per cohort and age, the number of rows won at that age (for cohort curves).
    """
    period = query.period or "month"
    t = classified(con, defs, query, {"created_at", "closed_at"})
    t = in_dates(t.filter(t.created_at.notnull()), "created_at", query.date_from, query.date_to)
    decided = t._won | t._lost
    end = decided.ifelse(ibis.coalesce(t.closed_at, ibis.timestamp(as_of)), ibis.timestamp(as_of))
    t = t.mutate(_days=end.date().delta(t.created_at.date(), unit="day"))
    t = t.mutate(
        age=ibis.greatest(t._days, 0),
        period_start=t.created_at.truncate(PERIODS[period]),
        _open=~decided,
    )
    by = list(query.by)
    lost_only = t._lost & ~t._won
    events = t.group_by([*by, "age"]).aggregate(
        won=t.count(where=t._won),
        lost=t.count(where=lost_only),
        censored=t.count(where=t._open),
        early=t.count(where=t._days < 0),
    )
    cohorts = t.group_by([*by, "period_start"]).aggregate(
        n=t.count(), won=t.count(where=t._won), lost=t.count(where=lost_only)
    )
    o = t.filter(t._open)
    opened = o.group_by([*by, "period_start", "age"]).aggregate(count=o.count())
    w = t.filter(t._won)
    wins = w.group_by([*by, "period_start", "age"]).aggregate(won=w.count())
    return {
        "events": events.order_by([*group_order(events, by), "age"]),
        "cohorts": cohorts.order_by([*group_order(cohorts, by), "period_start"]),
        "open": opened.order_by([*group_order(opened, by), "period_start", "age"]),
        "wins": wins.order_by([*group_order(wins, by), "period_start", "age"]),
    }


def model_expected_expr(con: Any, defs: Definitions, query: Query) -> tuple[ir.Table, list[str]]:
    """Per group, over attempts that have a lead score (table ``lead_scores``, joined by ``id``): the number
    of scored attempts, their hits and the sum of their scored probabilities (the hits a model expects)."""
    t = classified(con, defs, query, {"id"})
    if defs.basis == "closed":
        t = t.filter(t._won | t._lost)
    scores = con.table("lead_scores")
    s = scores.select(_score_id=scores.id, _p=scores.probability)
    j = t.inner_join(s, t.id == s._score_id)
    groups = list(query.by)
    metrics = {"scored": j.count(), "scored_hits": j.count(where=j._won), "expected": j._p.sum()}
    if groups:
        agg = j.group_by(groups).aggregate(**metrics)
        return agg.order_by(group_order(agg, groups)), groups
    return j.aggregate(**metrics), groups
