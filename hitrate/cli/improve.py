"""Commands that act on the numbers: goals, interventions ("did it work?"), loss reasons and rep feedback.

Registered on :data:`hitrate.cli.app` when :mod:`hitrate.cli` is imported; like the rest of the command line
they parse, call the library and render. Heavy libraries are imported inside the commands.
"""

from __future__ import annotations

import getpass
import json
from typing import Annotated, Any

import typer

from hitrate.cli import DbOpt, Format, FromOpt, Period, ToOpt, WhereOpt, _open, _out, _parse_where, _warn, user_errors

goals_app = typer.Typer(help="Hit-rate goals per rep or team and period: progress and the chance of making it.")
intervention_app = typer.Typer(help="Interventions (coaching, training) and whether they raised the hit rate.")
feedback_app = typer.Typer(help="Reps' own reason and note for a lost deal.")
for _sub in (goals_app, intervention_app, feedback_app):
    _sub.info.no_args_is_help = True


def register(app: typer.Typer) -> None:
    """Add these commands to the ``hitrate`` app (called by :mod:`hitrate.cli`, also when run as ``-m``)."""
    app.add_typer(goals_app, name="goals")
    app.add_typer(intervention_app, name="intervention")
    app.add_typer(feedback_app, name="feedback")
    app.command("reasons")(reasons_cmd)


WhoArg = Annotated[str, typer.Argument(help="FIELD=VALUE: the rep or team (rep=Ana, team=North).", show_default=False)]


def _me() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment
        return "cli"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _json(payload: Any) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, default=str))


# --------------------------------------------------------------------------------------------------------------
# goals
# --------------------------------------------------------------------------------------------------------------
@goals_app.command("set")
@user_errors
def goals_set(
    who: WhoArg,
    target: Annotated[float, typer.Option(help="The hit rate to reach, between 0 and 1 (0.30).", show_default=False)],
    period: Annotated[
        str | None, typer.Option(help="2024-11 (month), 2024-Q4 (quarter) or 2024 (year).", show_default=False)
    ] = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    set_by: Annotated[str | None, typer.Option(help="Who sets the goal (default: your login).")] = None,
    db: DbOpt = None,
) -> None:
    """Set a hit-rate goal for a rep or team over a month, a quarter, a year or --from/--to."""
    from hitrate.improve.goals import parse_period, parse_subject, set_goal

    field, value = parse_subject(who)
    start, end = parse_period(period, date_from, date_to)
    with _open(db) as store:
        goal = set_goal(store, field=field, value=value, target=target, start=start, end=end, set_by=set_by or _me())
    typer.echo(f"goal {goal.goal_id}: {field} {value} to reach {target:.1%} from {start} to {end}")


@goals_app.command("list")
@user_errors
def goals_list(
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
) -> None:
    """The goals in the store, with who set them."""
    from hitrate.improve.goals import list_goals

    with _open(db) as store:
        goals = list_goals(store)
    if fmt is Format.json:
        _json([g.to_dict() for g in goals])
        return
    from rich.table import Table as RichTable

    t = RichTable(title="Goals")
    for col in ("id", "for", "target", "from", "to", "set by", "set on"):
        t.add_column(col)
    for g in goals:
        t.add_row(
            str(g.goal_id), f"{g.field} {g.value}", f"{g.target:.1%}", str(g.start), str(g.end), g.set_by,
            g.created.date().isoformat(),
        )  # fmt: skip
    _out().print(t)


@goals_app.command("progress")
@user_errors
def goals_progress(
    goal: Annotated[
        list[int] | None, typer.Option("--goal", help="Only this goal (id). Repeatable.", show_default=False)
    ] = None,
    threshold: Annotated[float, typer.Option(help="Off track below this probability of making it.")] = 0.5,
    off_track: Annotated[bool, typer.Option("--off-track", help="Only goals that are off track.")] = False,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
) -> None:
    """Progress to date (as hitrate rates counts it) and the probability of reaching each goal by period end."""
    from hitrate.improve.goals import ASSUMPTIONS, progress

    with _open(db) as store:
        result = progress(store, ids=goal, threshold=threshold)
    rows = result.off_track() if off_track else result.rows
    _warn(result.warnings)
    if fmt is Format.json:
        payload = result.to_dict()
        payload["rows"] = rows
        _json(payload)
        return
    from rich.table import Table as RichTable

    t = RichTable(
        title=f"Goals{' off track' if off_track else ''} (data as of {result.as_of})",
        caption=f"{result.method}. Assumptions: {ASSUMPTIONS}.",
    )
    cols = ("id", "for", "target", "from", "to", "days left", "attempts", "hits", "hit rate (95%)", "open",
            "P(make it)", "P(won) from")  # fmt: skip
    for col in cols:
        t.add_column(col, justify="right" if col in {"days left", "attempts", "hits", "open", "P(make it)"} else "left")
    for r in rows:
        t.add_row(
            str(r["goal_id"]),
            f"{r['field']} {r['value']}",
            f"{r['target']:.1%}",
            r["start"],
            r["end"],
            str(r["days_left"]),
            f"{r['attempts']:,}",
            f"{r['hits']:,}",
            "–" if r["hit_rate"] is None else f"{_pct(r['hit_rate'])} ({_pct(r['ci_low'])} – {_pct(r['ci_high'])})",
            f"{r['open_deals']:,}",
            ("[red]" if r["off_track"] else "") + _pct(r["probability"]),
            r["win_probability_from"],
        )
    _out().print(t)


# --------------------------------------------------------------------------------------------------------------
# interventions
# --------------------------------------------------------------------------------------------------------------
@intervention_app.command("add")
@user_errors
def intervention_add(
    who: WhoArg,
    kind: Annotated[str, typer.Option(help="What was done: coaching, training...", show_default=False)],
    start: Annotated[str, typer.Option(help="The day it started (YYYY-MM-DD).", show_default=False)],
    note: Annotated[str, typer.Option(help="A short note.")] = "",
    added_by: Annotated[str | None, typer.Option(help="Who records it (default: your login).")] = None,
    db: DbOpt = None,
) -> None:
    """Record an intervention for a rep or team, with the day it started."""
    from hitrate.improve.goals import parse_subject
    from hitrate.improve.interventions import add_intervention

    field, value = parse_subject(who)
    with _open(db) as store:
        item = add_intervention(
            store, field=field, value=value, kind=kind, started=start, note=note, added_by=added_by or _me()
        )
    typer.echo(f"intervention {item.intervention_id}: {kind} for {field} {value} from {item.started}")


@intervention_app.command("list")
@user_errors
def intervention_list(
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
) -> None:
    """The recorded interventions."""
    from hitrate.improve.interventions import list_interventions

    with _open(db) as store:
        items = list_interventions(store)
    if fmt is Format.json:
        _json([i.to_dict() for i in items])
        return
    from rich.table import Table as RichTable

    t = RichTable(title="Interventions")
    for col in ("id", "for", "what", "started", "added by", "note"):
        t.add_column(col)
    for i in items:
        t.add_row(str(i.intervention_id), f"{i.field} {i.value}", i.kind, str(i.started), i.added_by, i.note)
    _out().print(t)


@intervention_app.command("effect")
@user_errors
def intervention_effect(
    intervention_id: Annotated[int, typer.Argument(help="The intervention (id from list).", show_default=False)],
    window: Annotated[int, typer.Option(help="Days before and after the start to compare.")] = 90,
    where: WhereOpt = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
) -> None:
    """Did it work? Difference in differences of hit rate against peers, before and after the start."""
    from hitrate.improve.interventions import effect

    with _open(db) as store:
        r = effect(store, intervention_id, window=window, where=_parse_where(where))
    _warn(r.warnings)
    if fmt is Format.json:
        _json(r.to_dict())
        return
    from rich.table import Table as RichTable

    i = r.intervention
    t = RichTable(title=f"{i.kind} for {i.field} {i.value} from {i.started}: {r.window_days} days before and after")
    for col in ("group", "window", "decided", "won", "hit rate"):
        t.add_column(col, justify="left" if col in {"group", "window"} else "right")
    for c in r.cells:
        t.add_row(str(c["group"]), c["window"], f"{c['attempts']:,}", f"{c['hits']:,}", _pct(c["hit_rate"]))
    out = _out()
    out.print(t)
    if r.did_logodds is not None:
        out.print(
            f"Difference in differences (log-odds): {r.did_logodds:+.3f} ({r.did_logodds_low:+.3f} to "
            f"{r.did_logodds_high:+.3f}), p = {r.p_value:.3g}",
            highlight=False,
        )
    out.print(
        f"Difference in differences (probability): {r.did_probability:+.1%} ({r.did_probability_low:+.1%} to "
        f"{r.did_probability_high:+.1%})",
        highlight=False,
    )
    if r.baseline_logodds is not None:
        out.print(
            f"Against the year before the window (log-odds): {r.baseline_logodds:+.3f} ({r.baseline_low:+.3f} to "
            f"{r.baseline_high:+.3f})",
            highlight=False,
        )
    if r.placebo_logodds is not None:
        out.print(
            f"Placebo before the start (log-odds): {r.placebo_logodds:+.3f} ({r.placebo_low:+.3f} to "
            f"{r.placebo_high:+.3f})",
            highlight=False,
        )
    out.print(f"Method: {r.method}", highlight=False)
    for caveat in r.caveats:
        out.print(f"Caveat: {caveat}", highlight=False)


# --------------------------------------------------------------------------------------------------------------
# feedback and reasons
# --------------------------------------------------------------------------------------------------------------
@feedback_app.command("add")
@user_errors
def feedback_add(
    deal: Annotated[str, typer.Argument(help="The lost deal's id.", show_default=False)],
    reason: Annotated[str, typer.Option(help="Why it was lost (price, timing...).", show_default=False)],
    note: Annotated[str, typer.Option(help="A short note (at most 500 characters).")] = "",
    recorded_by: Annotated[str | None, typer.Option(help="Who records it (default: your login).")] = None,
    db: DbOpt = None,
) -> None:
    """Record (or replace) the reason and a short note for a lost deal."""
    from hitrate.improve.feedback import add_feedback

    with _open(db) as store:
        rec = add_feedback(store, deal_id=deal, reason=reason, note=note, recorded_by=recorded_by or _me())
    typer.echo(f"deal {rec['id']} ({rec['rep']}): lost to '{rec['reason']}'")


@feedback_app.command("list")
@user_errors
def feedback_list(
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
) -> None:
    """Recorded reasons and notes, newest first, beside the CRM's own loss reason."""
    from hitrate.improve.feedback import list_feedback

    with _open(db) as store:
        rows = list_feedback(store, limit=limit)
    if fmt is Format.json:
        _json(rows)
        return
    from rich.table import Table as RichTable

    t = RichTable(title="Rep feedback on lost deals")
    for col in ("deal", "rep", "reason", "CRM reason", "note", "by", "when"):
        t.add_column(col)
    for r in rows:
        t.add_row(
            r["id"], str(r["rep"]), r["reason"], str(r["crm_reason"] or ""), r["note"] or "", r["recorded_by"] or "",
            str(r["recorded"]),
        )  # fmt: skip
    _out().print(t)


@user_errors
def reasons_cmd(
    by: Annotated[
        list[str] | None, typer.Option(help="Group by this field (team, segment, stage...). Repeatable.")
    ] = None,
    period: Annotated[Period | None, typer.Option(help="Split into periods and test the change.")] = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    where: WhereOpt = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
    db: DbOpt = None,
) -> None:
    """Why deals are lost: reasons by group and period with shares, intervals and changes (reps' reasons first)."""
    from hitrate.improve.feedback import reasons

    with _open(db) as store:
        r = reasons(
            store,
            by=by or [],
            period=period.value if period else None,
            date_from=date_from,
            date_to=date_to,
            where=_parse_where(where),
        )
    _warn(r.warnings)
    if fmt is Format.json:
        _json(r.to_dict())
        return
    from rich.table import Table as RichTable

    t = RichTable(
        title=f"Loss reasons ({r.lost:,} lost deals, {r.recorded:,} with a rep's own reason)",
        caption=r.method,
    )
    labels = [*r.by, *(["period"] if r.period else [])]
    for col in [*labels, "reason", "lost", "of", "share (95%)", *(["change (95%)", "p", ""] if r.period else [])]:
        t.add_column(col, justify="left" if col in {*labels, "reason", ""} else "right")
    for row in r.rows:
        cells = [str(row[c]) for c in labels]
        cells += [
            row["reason"],
            f"{row['lost']:,}",
            f"{row['of']:,}",
            f"{row['share']:.1%} ({row['ci_low']:.1%} – {row['ci_high']:.1%})",
        ]
        if r.period:
            ch = row.get("change")
            cells += [
                "" if ch is None else f"{ch:+.1%} ({row['change_low']:+.1%} – {row['change_high']:+.1%})",
                "" if row.get("change_p") is None else f"{row['change_p']:.3g}",
                row.get("flag", ""),
            ]
        t.add_row(*cells)
    _out().print(t)


__all__ = ["feedback_app", "goals_app", "intervention_app", "reasons_cmd", "register"]
