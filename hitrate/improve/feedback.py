"""Win/loss reasons: reps' own reason and note per lost deal, and the distribution of reasons over time.

Reps record why a deal was lost (``deal_feedback``: the deal's id, a reason, a short note, who recorded it),
scoped like the dashboard: a rep only on their own deals, a manager on their teams' deals, an admin (or the
command line, which has the store file) on any. :func:`reasons` counts lost deals by reason per group and
period in the engine (one grouped query). The reason of a deal is the rep's recorded reason when there is
one, else the CRM's ``loss_reason`` field (imported with the presets), else ``(none)``, in lower case (so
"Price" and "price" are one reason): every output says how many reasons came from reps. Shares carry Wilson
intervals, and with ``period`` each reason's share is compared with the period before by the project's change
test (:func:`hitrate.stats.compare.change_flags`: Newcombe interval, Pearson/Fisher p-value,
Benjamini–Hochberg within each reason's series).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hitrate.errors import (
    InvalidParameterError,
    InvalidValueError,
    NotFoundError,
    PermissionDeniedError,
    UserInputError,
)
from hitrate.i18n import DEFAULT_LANG, Joined, Message, Param, Phrase
from hitrate.improve._base import RowsResult, rate_table
from hitrate.report.result import json_ready

if TYPE_CHECKING:
    from hitrate.report import RateTable
    from hitrate.report.workbook import DataTable
    from hitrate.spec.model import Definitions
    from hitrate.store.embedded import Store
    from hitrate.store.users import User

NO_REASON = "(none)"
LOST_AT = "lost_at_stage"  # a --by pseudo-field: the open stage a lost deal left from (stage history)
UNKNOWN_STAGE = "(unknown)"
MAX_REASON = 80
MAX_NOTE = 500


class NotYourDeal(PermissionDeniedError):
    """A deal outside the caller's scope, or one that does not exist (the two look the same to them)."""

    def __init__(self, deal_id: str) -> None:
        self.deal_id = deal_id
        super().__init__("feedback.not_yours", deal=deal_id)


def _deal(store: Store, deal_id: str) -> dict[str, Any] | None:
    """The deal's rep, team (when known) and whether it is lost under the definitions in force."""
    from hitrate.analysis.rates import resolve_definitions
    from hitrate.engine.counting import fetch
    from hitrate.engine.expressions import classified, fields_available
    from hitrate.engine.query import Query

    defs = resolve_definitions(store, None, None)
    extra = {"id", "rep"} | ({"team"} if "team" in fields_available(store) else set())
    t = classified(store, defs, Query(), extra)
    t = t.filter(t.id == deal_id)
    cols = {"rep": t.rep, "team": t.team if "team" in t.columns else t.rep, "won": t._won, "lost": t._lost}
    c = fetch(store, t.select(**cols).limit(1))
    if not len(c["rep"]):
        return None
    return {k: (None if v[0] is None else v[0]) for k, v in c.items()} | {"has_team": "team" in t.columns}


def _in_scope(user: User | None, deal: dict[str, Any]) -> bool:
    if user is None or user.role == "admin":
        return True
    if user.role == "rep":
        return bool(user.rep) and deal["rep"] == user.rep
    if user.role == "manager":
        return deal["has_team"] and deal["team"] in user.teams
    return False


def add_feedback(
    store: Store,
    deal: str | None = None,
    *,
    reason: str,
    note: str = "",
    user: User | None = None,
    recorded_by: str = "",
    deal_id: str | None = None,
) -> dict[str, Any]:
    """``hitrate feedback add DEAL``: record (or replace) the reason and note for a lost deal (``deal``, or
    ``deal_id``); ``user`` None is the command line (no scope)."""
    if deal is None and deal_id is None:
        raise InvalidParameterError("deal", Message("feedback.a_deal_id"), None, caller="add_feedback")
    deal_id = str(deal if deal is not None else deal_id)
    reason = " ".join(reason.split())
    if not reason or len(reason) > MAX_REASON:
        raise InvalidValueError("feedback.bad_reason", parameter="reason", got=reason, most=MAX_REASON)
    if len(note) > MAX_NOTE:
        raise InvalidValueError("feedback.long_note", parameter="note", got=len(note), most=MAX_NOTE)
    from hitrate.improve.goals import check_text

    check_text(deal_id, "deal")
    check_text(reason, "reason")
    found = _deal(store, deal_id)
    if found is None or not _in_scope(user, found):
        if user is None or user.role == "admin":
            raise NotFoundError("feedback.no_such_deal", deal=deal_id)
        raise NotYourDeal(deal_id)
    if not found["lost"] or found["won"]:
        raise UserInputError("feedback.not_lost", deal=deal_id)
    who = recorded_by or (user.name if user else "")
    now = dt.datetime.now().replace(microsecond=0)
    store.raw.execute(
        "INSERT INTO deal_feedback VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET reason = excluded.reason, "
        "note = excluded.note, rep = excluded.rep, recorded_by = excluded.recorded_by, recorded = excluded.recorded",
        [deal_id, reason, note, found["rep"], who, now],
    )
    return {"id": deal_id, "reason": reason, "note": note, "rep": found["rep"], "recorded_by": who, "recorded": now}


def list_feedback(store: Store, *, user: User | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """``hitrate feedback list``: recorded reasons, newest first, within ``user``'s scope (a rep: their deals; a
    manager: their teams)."""
    from hitrate.engine.counting import fetch
    from hitrate.engine.expressions import analysis_table, fields_available

    has_team = "team" in fields_available(store)
    t = analysis_table(store, {"id", "rep", "loss_reason"} | ({"team"} if has_team else set()))
    fb = store.table("deal_feedback")
    j = fb.inner_join(t.select(_oid=t.id, _team=t.team if has_team else t.rep, _crm=t.loss_reason), fb.id == t.id)
    if user is not None and user.role == "rep":
        j = j.filter(j.rep == (user.rep or ""))
    elif user is not None and user.role == "manager":
        j = j.filter(j._team.isin(list(user.teams)) if has_team else j.rep.isnull())
    expr = j.select("id", "rep", "reason", "note", "recorded_by", "recorded", crm_reason=j._crm)
    c = fetch(store, expr.order_by([expr.recorded.desc(), expr.id]).limit(limit))
    names = list(c)
    return [{k: _plain(c[k][i]) for k in names} for i in range(len(c["id"]))]


def recent_lost_deals(
    store: Store, *, where: Mapping[str, Sequence[str]] | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The latest lost deals (lost and not won under the definitions in force) among the rows ``where`` selects,
    newest close first: ``id``, ``closed_at`` and the CRM's ``loss_reason`` (None without that field), as plain
    data. The web's feedback form offers them."""
    import ibis

    from hitrate.analysis.rates import resolve_definitions
    from hitrate.engine.counting import fetch
    from hitrate.engine.expressions import classified, fields_available
    from hitrate.engine.query import Query

    defs = resolve_definitions(store, None, None)
    has_crm = "loss_reason" in fields_available(store)
    t = classified(store, defs, Query.build(where=where), {"id", "closed_at"} | ({"loss_reason"} if has_crm else set()))
    t = t.filter(t._lost & ~t._won)
    crm = t.loss_reason if has_crm else ibis.null().cast("string")
    expr = t.select("id", "closed_at", loss_reason=crm)
    c = fetch(store, expr.order_by([expr.closed_at.desc(), expr.id]).limit(limit))
    return [{k: _plain(c[k][i]) for k in c} for i in range(len(c["id"]))]


def _plain(value: Any) -> Any:
    from hitrate.report.result import clean

    return clean(value)


@dataclass
class ReasonsResult(RowsResult):
    """Lost deals by reason per group (and period): counts, shares with Wilson intervals, changes."""

    by: list[str]
    period: str | None
    rows: list[dict[str, Any]]
    recorded: int
    lost: int
    method: str  # a Worded message: the command line prints it as a table caption
    warnings: list[Message | str] = field(default_factory=list)
    #: The definitions the lost deals were counted under (closed basis).
    definitions: Definitions | None = field(default=None, repr=False)

    COLUMNS = ("reason", "lost", "of", "share", "ci_low", "ci_high")

    def to_dict(self) -> dict[str, Any]:
        """``by``, ``period``, ``lost``, ``recorded_by_reps``, ``method``, ``warnings``, ``rows``, JSON-ready."""
        out: dict[str, Any] = json_ready(
            {
                "by": self.by,
                "period": self.period,
                "lost": self.lost,
                "recorded_by_reps": self.recorded,
                "method": self.method,
                "warnings": self.warnings,
                "rows": self.rows,
            }
        )
        return out

    def tables(self) -> list[DataTable]:
        """One table: a row per group (and period) and reason; with periods, the change from the period before
        with its interval, p-value and flag."""
        from hitrate.report.workbook import DataTable

        changes = ("change", "change_low", "change_high", "change_p", "flag") if self.period else ()
        labels = (*self.by, *(("period",) if self.period else ()))
        columns = (*labels, *self.COLUMNS, *changes, "recorded_by_reps")
        percent = frozenset({"share", "ci_low", "ci_high", "change", "change_low", "change_high"})
        return [DataTable("reasons", columns, self.rows, percent, counts=frozenset({"lost", "of", "recorded_by_reps"}))]

    def title(self) -> Message:
        return Message("feedback.reasons_title")

    def headline(self) -> Message:
        """The reason deals are lost to most often, with its share of the lost deals; or that none is recorded."""
        counts: dict[str, int] = {}
        for r in self.rows:
            counts[str(r["reason"])] = counts.get(str(r["reason"]), 0) + int(r["lost"])
        if not counts or not self.lost:
            return Message("feedback.none_yet", lost=self.lost)
        top = max(counts, key=lambda k: (counts[k], k))
        return Message(
            "feedback.reasons_headline",
            reason=top,
            share=counts[top] / self.lost,
            lost=self.lost,
            recorded=self.recorded,
        )

    def notes(self) -> list[Message | str]:
        return [*self.warnings, self.method]

    def sections(self, lang: str = DEFAULT_LANG) -> list[RateTable]:
        """Each reason's share of the lost deals (per group and period) with its Wilson interval."""
        labels = [*self.by, *(["period"] if self.period else [])]
        rows = [
            (
                " · ".join([*(str(r[k]) for k in labels), str(r["reason"])]),
                r["of"],
                r["lost"],
                r["share"],
                r["ci_low"],
                r["ci_high"],
            )
            for r in self.rows
        ]
        table = rate_table(self.title().render(lang), rows, Message("feedback.reason").render(lang))
        return [] if table is None else [table]


def reasons(
    source: Store,
    *,
    by: Sequence[str] = (),
    period: str | None = None,
    date_from: dt.date | str | None = None,
    date_to: dt.date | str | None = None,
    where: Mapping[str, Sequence[str]] | None = None,
    confidence: float = 0.95,
) -> ReasonsResult:
    """Distribution of loss reasons per group (and period), the rep's recorded reason overriding the CRM's."""
    import ibis

    from hitrate.analysis.rates import resolve_definitions
    from hitrate.engine.counting import fetch
    from hitrate.engine.expressions import classified, fields_available
    from hitrate.engine.query import PERIODS, Query, period_label
    from hitrate.stats.compare import change_flags
    from hitrate.stats.intervals import wilson_interval

    Query.build(by=by)  # checks the names (no field twice, not 'period')
    fields = [b for b in by if b != LOST_AT]
    query = Query.build(by=fields, period=period, date_from=date_from, date_to=date_to, where=where)
    defs = resolve_definitions(source, None, "closed")
    date_field = defs.effective_period_date
    has_crm = "loss_reason" in fields_available(source)
    t = classified(source, defs, query, {"id", date_field} | ({"loss_reason"} if has_crm else set()))
    t = t.filter(t._lost & ~t._won)
    if LOST_AT in by:
        t = _with_lost_at_stage(source, t)
    d = t[date_field]
    if query.date_from is not None:
        t = t.filter(d >= ibis.timestamp(dt.datetime.combine(query.date_from, dt.time())))
    if query.date_to is not None:
        t = t.filter(d < ibis.timestamp(dt.datetime.combine(query.date_to + dt.timedelta(days=1), dt.time())))
    fb = source.table("deal_feedback")
    j = t.left_join(fb.select(_fid=fb.id, _freason=fb.reason), t.id == fb.id)
    crm = j.loss_reason if has_crm else ibis.null().cast("string")
    # Lower case and trimmed, so a rep's "Price" and the CRM's "price" are one reason.
    j = j.mutate(_reason=ibis.coalesce(j._freason.strip().lower(), crm.strip().lower(), ibis.literal(NO_REASON)))
    groups = list(by)
    if query.period is not None:
        j = j.filter(j[date_field].notnull()).mutate(period_start=j[date_field].truncate(PERIODS[query.period]))
        groups.append("period_start")
    agg = j.group_by([*groups, "_reason"]).aggregate(n=j.count(), recorded=j._freason.count())
    c = fetch(source, agg.order_by([ibis.asc(g, nulls_first=False) for g in [*groups, "_reason"]]))
    n = np.asarray(c["n"], dtype=float)
    keys = [tuple(_plain(c[g][i]) for g in by) for i in range(len(n))]
    periods = [c["period_start"][i] for i in range(len(n))] if query.period else [None] * len(n)
    labels = [None if p is None else period_label(_as_datetime(p), str(query.period)) for p in periods]
    reason = [str(r) for r in c["_reason"]]
    totals: dict[tuple[Any, ...], float] = {}
    for key, lab, count in zip(keys, labels, n, strict=True):
        totals[(key, lab)] = totals.get((key, lab), 0.0) + count
    total = np.array([totals[(k, lab)] for k, lab in zip(keys, labels, strict=True)])
    low, high = wilson_interval(n, total, confidence)
    rows = []
    for i in range(len(n)):
        row: dict[str, Any] = dict(zip(by, keys[i], strict=True))
        if query.period:
            row["period"] = labels[i]
        row.update(
            reason=reason[i],
            lost=int(n[i]),
            of=int(total[i]),
            share=float(n[i] / total[i]),
            ci_low=float(low[i]),
            ci_high=float(high[i]),
            recorded_by_reps=int(c["recorded"][i]),
        )
        rows.append(row)
    if rows and all(r["reason"] == NO_REASON for r in rows):  # nothing recorded anywhere: not a 100% "(none)"
        rows = []
    if query.period and rows:
        _add_changes(rows, list(by), change_flags, 1 - confidence)
    lost = int(n.sum())
    recorded = int(np.asarray(c["recorded"]).sum()) if len(n) else 0
    notes: list[Message | str] = []
    if lost and lost < 30:
        notes.append(Message("feedback.few_lost", lost=lost))
    if not has_crm and not recorded:
        notes.append(Message("feedback.no_reasons"))
    elif lost and not rows:
        notes.append(Message("feedback.none_yet", lost=lost))
    parts = [Message("feedback.method", none=NO_REASON)]
    if query.period:
        parts.append(Message("feedback.method_change"))
    if LOST_AT in by:
        parts.append(Message("feedback.method_lost_at", field=LOST_AT))
    method = Phrase(Joined(parts, "; "))
    return ReasonsResult(list(by), query.period, rows, recorded, lost, method, notes, defs)


def _with_lost_at_stage(source: Store, t: Any) -> Any:
    """``t`` (lost deals) with ``lost_at_stage``: the stage of the deal's latest stage-history entry whose stage
    is not its final stage (the open stage it was lost from); ``(unknown)`` without such an entry."""
    import ibis

    if "stage_history" not in set(source.list_tables()):
        raise UserInputError("feedback.needs_history", by=Param("by"), field=LOST_AT, table=Param("table"))
    opps = source.table("opportunities")
    h = source.table("stage_history")
    h = h.filter(h.entered_at.notnull())
    h = h.inner_join(opps.select(_oid=opps.id, _final=opps.stage), h.id == opps.id)
    h = h.filter(h.stage != h._final)
    h = h.mutate(_k=ibis.row_number().over(group_by=h.id, order_by=[ibis.desc(h.entered_at), ibis.desc(h.stage)]))
    last = h.filter(h._k == 0).select(_sid=h.id, _lost_at=h.stage)
    j = t.left_join(last, t.id == last._sid)
    return j.mutate(**{LOST_AT: ibis.coalesce(j._lost_at, ibis.literal(UNKNOWN_STAGE))}).drop("_sid", "_lost_at")


def _as_datetime(value: Any) -> dt.datetime:
    if isinstance(value, np.datetime64):
        return value.astype("datetime64[us]").item()  # type: ignore[no-any-return]
    return value  # type: ignore[no-any-return]


def _add_changes(rows: list[dict[str, Any]], by: list[str], change_flags: Any, alpha: float) -> None:
    """Each reason's share against the period before (same group), via the change test; periods without that
    reason count as 0 of the period's lost deals."""
    periods = sorted({r["period"] for r in rows})
    series: dict[tuple[Any, ...], dict[str, dict[str, Any]]] = {}
    totals: dict[tuple[Any, ...], dict[str, int]] = {}
    for r in rows:
        group = tuple(r[b] for b in by)
        series.setdefault((*group, r["reason"]), {})[r["period"]] = r
        totals.setdefault(group, {})[r["period"]] = r["of"]
    for key, by_period in series.items():
        group = key[:-1]
        present = [p for p in periods if p in totals[group]]
        hits = [by_period[p]["lost"] if p in by_period else 0 for p in present]
        attempts = [totals[group][p] for p in present]
        diff, low, high, p_value, flag = change_flags(hits, attempts, alpha)
        for i, p in enumerate(present):
            if p in by_period:
                by_period[p].update(
                    change=None if np.isnan(diff[i]) else float(diff[i]),
                    change_low=None if np.isnan(low[i]) else float(low[i]),
                    change_high=None if np.isnan(high[i]) else float(high[i]),
                    change_p=None if np.isnan(p_value[i]) else float(p_value[i]),
                    flag=str(flag[i]),
                )
