"""``hitrate doctor``: what in the store's data would mislead a number, counted in the engine.

Each check is one or two Ibis aggregations over the opportunities that count under the definitions
(:func:`hitrate.engine.expressions.classified`); only counts and a few example rows come back. A check that
finds nothing is left out of the result. The checks:

``closed_before_created``
    a close date before the created date (a lead won two days before its first contact). Kept as they are;
    cohort ages count such a deal at age 0 (:func:`hitrate.engine.expressions.cohort_expr`).
``future_dates``
    a created or close date after the store's last import (the export cannot know the future).
``stale_open``
    open deals older than three times the median time to close of the decided ones (at least its 90th
    percentile): forgotten deals that make cohort rates look worse than they are.
``blank_rep``, ``blank_team``
    deals with no rep, or whose team (the deal's own column, or the rep's team) is empty; only for a sales
    denominator (:attr:`~hitrate.spec.model.Definitions.sales`): sessions, bets and spins have no reps.
``zero_amount_lost_only``
    amounts of 0 on lost deals while no won deal has one: the CRM zeroes a lost deal's amount, and the value
    hit rate then counts lost deals as worth nothing.
``mixed_currencies``
    amounts in more than one currency (a ``currency`` column).
``unmapped_outcomes``
    stage values counted as open that look decided: the name says so (Closed, Lost, Vundet...) or most of
    their deals have a close date.
``duplicates``
    the same account, amount, created and close dates under different ids (a missing amount or close date
    matches a missing one; a deal with no created date is never a duplicate).
``shadowed_lookup``
    a column of the opportunities that a lookup table also has (a ``team`` column beside ``reps.team``): a
    deal's own value counts where it has one, the lookup's where it is empty
    (:func:`hitrate.engine.expressions.analysis_table`); the deals where the two differ, and those whose own
    value is empty while the lookup has one, are counted.

``where`` narrows every check to those deals (the web's scope: a manager's teams, a rep's own deals): the
counts and examples are theirs only; the typical time to close is theirs too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir

from hitrate.analysis._common import DefinitionsArg, resolve_definitions
from hitrate.analysis.doctor_result import DoctorResult, Finding
from hitrate.engine.counting import fetch
from hitrate.engine.expressions import as_of_expr, classified
from hitrate.engine.query import Query
from hitrate.i18n import Message
from hitrate.store.schema import LOOKUPS

#: How many example rows a finding shows.
EXAMPLES = 5
#: Stage names that say a deal is decided (a regular expression of hitrate's own, never user text).
DECIDED_WORDS = (
    r"(?i)(closed|won|lost|win|loss|cancel|dead|disqualif|reject|abandon|churn|vundet|tabt|lukket|annulleret|"
    r"gewonnen|verloren|gagn|perdu|ganad|perdid)"
)


def _rows(source: Any, expr: ir.Table) -> list[dict[str, Any]]:
    """A small result as a list of dicts (values as Python scalars, dates as ISO text)."""
    from hitrate.report.result import clean

    cols = fetch(source, expr)
    names = list(cols)
    size = len(cols[names[0]]) if names else 0
    return [{name: clean(cols[name][i]) for name in names} for i in range(size)]


def _one(source: Any, expr: ir.Table) -> dict[str, Any]:
    rows = _rows(source, expr)
    return rows[0] if rows else {}


def doctor(
    source: Any,
    *,
    where: Mapping[str, Sequence[str]] | Sequence[str] | None = None,
    definitions: DefinitionsArg = None,
) -> DoctorResult:
    """A data-quality report of the store: every check of the module docstring, with counts, examples and
    what to do about each finding. ``source``: a :class:`hitrate.Store` (or any Ibis backend with the
    canonical tables; the future-dates check needs the store's import history); ``where`` (a mapping or
    ``FIELD=VALUE`` items) keeps the checks to those deals; ``definitions`` as in :func:`hitrate.rates`."""
    defs = resolve_definitions(source, definitions, None)
    columns = set(source.table("opportunities").columns)
    extra = {c for c in ("id", "rep", "created_at", "closed_at", "amount", "stage", "account", "currency")
             if c in columns}  # fmt: skip
    t = classified(source, defs, Query.build(where=where), extra)
    t = t.mutate(_outcome=ibis.cases((t._won, "won"), (t._lost, "lost"), else_="open"))
    total = int(_one(source, t.aggregate(n=t.count())).get("n", 0))
    findings: list[Finding] = []
    if total:
        owned = (_blanks,) if defs.sales else ()  # sessions, bets and spins have no reps or teams to be missing
        for check in (_dates, _future, _stale, *owned, _zero_amounts, _currencies, _unmapped, _duplicates):
            findings += check(source, t, columns)
        findings += _shadowed(source, t, columns)
    return DoctorResult(total, findings, defs.hash)


def _examples(source: Any, t: ir.Table, cols: list[str], order: list[Any] | None = None) -> list[dict[str, Any]]:
    """The first few rows of ``t`` (by id, or ``order``): ``cols``, and ``counted_as`` (won, lost or open)."""
    picked = t.select(*cols, counted_as=t._outcome)
    return _rows(source, picked.order_by(order or ["id"]).limit(EXAMPLES))


def _dates(source: Any, t: ir.Table, columns: set[str]) -> list[Finding]:
    if not {"created_at", "closed_at"} <= columns:
        return []
    bad = t.filter(t.closed_at.date() < t.created_at.date())
    n = int(_one(source, bad.aggregate(n=bad.count()))["n"])
    if not n:
        return []
    examples = _examples(source, bad, ["id", "created_at", "closed_at"])
    return [Finding("closed_before_created", n, examples, Message("doctor.closed_before_created", n=n),
                    Message("doctor.fix_dates"))]  # fmt: skip


def _future(source: Any, t: ir.Table, columns: set[str]) -> list[Finding]:
    from hitrate.store.embedded import Store

    dates = [c for c in ("created_at", "closed_at") if c in columns]
    if not isinstance(source, Store) or not dates:
        return []
    row = source.fetch("SELECT max(finished_at) FROM import_batches WHERE kind = 'import'")
    last = row[0][0] if row else None
    if last is None:
        return []
    when = ibis.timestamp(last)
    bad = t.filter(ibis.or_(*[t[c] > when for c in dates]))
    n = int(_one(source, bad.aggregate(n=bad.count()))["n"])
    if not n:
        return []
    examples = _examples(source, bad, ["id", *dates])
    day = last.date() if isinstance(last, dt.datetime) else last
    return [Finding("future_dates", n, examples, Message("doctor.future_dates", n=n, date=day),
                    Message("doctor.fix_dates"))]  # fmt: skip


def _stale(source: Any, t: ir.Table, columns: set[str]) -> list[Finding]:
    if not {"created_at", "closed_at"} <= columns:
        return []
    decided = t.filter((t._outcome != "open") & t.closed_at.notnull() & t.created_at.notnull())
    days = ibis.greatest(decided.closed_at.date().delta(decided.created_at.date(), unit="day"), 0)
    typical = _one(source, decided.aggregate(median=days.quantile(0.5), p90=days.quantile(0.9), n=decided.count()))
    if not typical.get("n") or typical.get("median") is None:
        return []
    limit = max(3 * float(typical["median"]), float(typical["p90"]), 1.0)
    as_of = as_of_expr(source)
    opened = t.filter((t._outcome == "open") & t.created_at.notnull())
    opened = opened.mutate(age_days=as_of.date().delta(opened.created_at.date(), unit="day"))
    stale = opened.filter(opened.age_days > limit)
    n = int(_one(source, stale.aggregate(n=stale.count()))["n"])
    if not n:
        return []
    examples = _examples(source, stale, ["id", "created_at", "age_days"], [ibis.desc("age_days"), "id"])
    detail = Message("doctor.stale_open", n=n, days=round(limit), median=round(float(typical["median"])))
    return [Finding("stale_open", n, examples, detail, Message("doctor.fix_stale"))]


def _blank(column: ir.Value) -> ir.BooleanValue:
    return column.isnull() | (column.cast("string").strip() == "")


def _blanks(source: Any, t: ir.Table, columns: set[str]) -> list[Finding]:
    out: list[Finding] = []
    if "rep" in columns:
        bad = t.filter(_blank(t.rep))
        n = int(_one(source, bad.aggregate(n=bad.count()))["n"])
        if n:
            examples = _examples(source, bad, ["id"])
            out.append(Finding("blank_rep", n, examples, Message("doctor.blank_rep", n=n), Message("doctor.fix_rep")))
    from hitrate.engine.expressions import analysis_table, fields_available

    if "team" in fields_available(source):
        teams = analysis_table(source, {"id", "team", *({"rep"} & columns)})
        ids = t.select(_doc_id=t.id)
        teams = teams.inner_join(ids, teams.id == ids._doc_id)
        bad = teams.filter(_blank(teams.team))
        n = int(_one(source, bad.aggregate(n=bad.count()))["n"])
        if n:
            examples = _rows(source, bad.select("id", *({"rep"} & columns)).order_by("id").limit(EXAMPLES))
            out.append(Finding("blank_team", n, examples, Message("doctor.blank_team", n=n),
                               Message("doctor.fix_team")))  # fmt: skip
    return out


def _zero_amounts(source: Any, t: ir.Table, columns: set[str]) -> list[Finding]:
    if "amount" not in columns:
        return []
    zero = t.amount == 0
    counts = _one(source, t.aggregate(lost=t.count(where=zero & (t._outcome == "lost")),
                                      won=t.count(where=zero & (t._outcome == "won"))))  # fmt: skip
    n = int(counts["lost"])
    if not n or int(counts["won"]):
        return []
    bad = t.filter(zero & (t._outcome == "lost"))
    examples = _examples(source, bad, ["id", "amount"])
    return [Finding("zero_amount_lost_only", n, examples, Message("doctor.zero_amount_lost_only", n=n),
                    Message("doctor.fix_zero_amounts"))]  # fmt: skip


def _currencies(source: Any, t: ir.Table, columns: set[str]) -> list[Finding]:
    if "currency" not in columns:
        return []
    kept = t.filter(~_blank(t.currency))
    per = kept.group_by(currency=kept.currency.strip().upper()).aggregate(deals=kept.count())
    rows = _rows(source, per.order_by([per.deals.desc(), per.currency]))
    if len(rows) < 2:
        return []
    n = sum(int(r["deals"]) for r in rows[1:])
    detail = Message("doctor.mixed_currencies", n=len(rows), minority=n, main=rows[0]["currency"])
    return [Finding("mixed_currencies", n, rows[:EXAMPLES], detail, Message("doctor.fix_currencies"))]


def _unmapped(source: Any, t: ir.Table, columns: set[str]) -> list[Finding]:
    if "stage" not in columns:
        return []
    opened = t.filter((t._outcome == "open") & t.stage.notnull())
    closed = opened.closed_at.notnull() if "closed_at" in columns else ibis.literal(False)
    per = opened.group_by("stage").aggregate(deals=opened.count(), with_close_date=opened.count(where=closed))
    per = per.mutate(named=per.stage.re_search(DECIDED_WORDS))
    suspect = per.filter(per.named | (per.with_close_date * 2 > per.deals))
    rows = _rows(source, suspect.select("stage", "deals", "with_close_date").order_by([ibis.desc("deals"), "stage"]))
    if not rows:
        return []
    n = sum(int(r["deals"]) for r in rows)
    stages = ", ".join(str(r["stage"]) for r in rows[:EXAMPLES])
    detail = Message("doctor.unmapped_outcomes", n=n, stages=stages, count=len(rows))
    return [Finding("unmapped_outcomes", n, rows[:EXAMPLES], detail, Message("doctor.fix_outcomes", stages=stages))]


def _duplicates(source: Any, t: ir.Table, columns: set[str]) -> list[Finding]:
    keys = ["account", "amount", "created_at", "closed_at"]
    if not set(keys) <= columns:
        return []
    # A deal with no created date has nothing but its account (and perhaps an amount) to be the same as another
    # by: not evidence of a duplicate (the Maven sample's Prospecting deals have neither dates nor amounts).
    kept = t.filter(t.account.notnull() & ~_blank(t.account) & t.created_at.notnull())
    groups = kept.group_by(keys).aggregate(deals=kept.id.nunique(), ids=kept.id.group_concat(", "))
    groups = groups.filter(groups.deals > 1)
    counts = _one(source, groups.aggregate(groups=groups.count(), extra=(groups.deals - 1).sum()))
    n = int(counts.get("extra") or 0)
    if not n:
        return []
    examples = _rows(source, groups.order_by([groups.deals.desc(), groups.account]).limit(EXAMPLES))
    detail = Message("doctor.duplicates", n=n, groups=int(counts["groups"]))
    return [Finding("duplicates", n, examples, detail, Message("doctor.fix_duplicates"))]


def _shadowed(source: Any, t: ir.Table, columns: set[str]) -> list[Finding]:
    out: list[Finding] = []
    present = set(source.list_tables())
    opps = source.table("opportunities")
    ids = t.select(_doc_id=t.id)
    opps = opps.inner_join(ids, opps.id == ids._doc_id)  # the deals checked (within ``where``)
    for lookup in LOOKUPS:
        if lookup.name not in present or lookup.key not in columns:
            continue
        table = source.table(lookup.name)
        shared = sorted(c for c in set(table.columns) & columns if c != lookup.key and not c.startswith("_"))
        for field in shared:
            right = table.select(_lk_key=table[lookup.key], _lk_value=table[field])
            j = opps.inner_join(right, opps[lookup.key] == right._lk_key)
            own, other = j[field].cast("string"), j._lk_value.cast("string")
            differ = own.notnull() & other.notnull() & (own != other)
            hidden = _blank(j[field]) & other.notnull() & ~_blank(j._lk_value)
            counts = _one(source, j.aggregate(differ=j.count(where=differ), hidden=j.count(where=hidden)))
            n = int(counts["differ"]) + int(counts["hidden"])
            if not n:
                continue
            bad = j.filter(differ | hidden).select(
                "id", lookup.key, **{f"opportunities.{field}": own, f"{lookup.name}.{field}": other}
            )
            examples = _rows(source, bad.order_by("id").limit(EXAMPLES))
            detail = Message("doctor.shadowed_lookup", field=field, table=lookup.name, differ=int(counts["differ"]),
                             hidden=int(counts["hidden"]))  # fmt: skip
            out.append(Finding("shadowed_lookup", n, examples, detail,
                               Message("doctor.fix_shadowed", field=field, table=lookup.name)))  # fmt: skip
    return out


__all__ = ["doctor"]
