"""Commands that follow improvement through: ``goals``, ``intervention`` ("did it work?"), ``feedback`` (reps'
reasons for lost deals) and ``reasons`` (why deals are lost)."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from hitrate.cli.cells import MISSING, estimate, integer, number, percent, significant
from hitrate.cli.options import (
    DbOpt,
    Format,
    FormatOpt,
    FromOpt,
    OutputOpt,
    Period,
    TableFormat,
    TableFormatOpt,
    ToOpt,
    WhereOpt,
    argument,
    library_options,
    open_store,
    option,
    parse_where,
)
from hitrate.cli.output import emit, headers, say, table, text, user_errors

goals_app = typer.Typer(help=text("cli_help.goals.help"), no_args_is_help=True)
intervention_app = typer.Typer(help=text("cli_help.intervention.help"), no_args_is_help=True)
feedback_app = typer.Typer(help=text("cli_help.feedback.help"), no_args_is_help=True)

WhoArg = Annotated[str, argument("cli_help.option.who", show_default=False)]


def me() -> str:
    """Who runs the command: the login name (``cli`` when the environment has none)."""
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment
        return "cli"


def listing(fetch: Callable[[Any], list[Any]], render: Callable[[Any], Any], fmt: Format, db: Path | None) -> None:
    """What the store records (goals, interventions): ``fetch(store)``, emitted as a table or as their dicts."""
    with open_store(db) as store:
        items = fetch(store)
    emit(items, fmt, render, data=[i.to_dict() for i in items])


# -- goals -----------------------------------------------------------------------------------------------------
@goals_app.command("set", help=text("cli_help.goals.set.help"))
@user_errors
def goals_set(
    who: WhoArg,
    target: Annotated[float, option(help="cli_help.goals.set.target", show_default=False)],
    period: Annotated[str | None, option(help="cli_help.goals.set.period", show_default=False)] = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    set_by: Annotated[str | None, option(help="cli_help.goals.set.set_by")] = None,
    db: DbOpt = None,
) -> None:
    from hitrate.improve.goals import parse_period, parse_subject, set_goal

    field, value = parse_subject(who)
    start, end = parse_period(period, date_from, date_to)
    with open_store(db, create=True) as store:
        goal = set_goal(store, field=field, value=value, target=target, start=start, end=end, set_by=set_by or me())
    typer.echo(
        text(
            "cli.goals.set",
            id=goal.goal_id,
            field=field,
            value=value,
            target=percent(target),
            start=start,
            end=end,
        )
    )


@goals_app.command("list", help=text("cli_help.goals.list.help"))
@user_errors
def goals_list(fmt: FormatOpt = Format.table, db: DbOpt = None) -> None:
    from hitrate.improve.goals import list_goals

    listing(list_goals, goals_table, fmt, db)


def goals_table(goals: list[Any]) -> Any:
    heads = ["cli.goals.id", "cli.goals.for", "cli.goals.target", "cli.goals.from", "cli.goals.to"]
    rows = [
        [str(g.goal_id), subject(g.field, g.value), percent(g.target), str(g.start), str(g.end), g.set_by,
         g.created.date().isoformat()]
        for g in goals
    ]  # fmt: skip
    return table(text("cli.goals.title"), headers(*heads, "cli.goals.set_by", "cli.goals.set_on"), rows=rows)


def subject(field: str, value: str) -> str:
    """Whom a goal or intervention is for: ``rep Ana``."""
    return text("cli.goals.subject", field=field, value=value)


@goals_app.command("progress", help=text("cli_help.goals.progress.help"))
@user_errors
def goals_progress(
    goal: Annotated[list[int] | None, option("--goal", help="cli_help.goals.progress.goal", show_default=False)] = None,
    threshold: Annotated[float, option(help="cli_help.goals.progress.threshold")] = 0.5,
    off_track: Annotated[bool, option("--off-track", help="cli_help.goals.progress.off_track")] = False,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
) -> None:
    from hitrate.improve.goals import progress

    with open_store(db) as store:
        result = progress(store, ids=goal, threshold=threshold)
    rows = result.off_track() if off_track else result.rows
    data = {**result.to_dict(), "rows": rows}
    emit(result, fmt, lambda r: progress_table(r, rows, off_track), data=data, warnings=result.warnings, headline=True)


def progress_table(result: Any, rows: list[dict[str, Any]], off_track: bool) -> Any:
    from hitrate.improve.goals import ASSUMPTIONS

    heads = ["cli.goals.id", "cli.goals.for", "cli.goals.target", "cli.goals.from", "cli.goals.to"]
    heads += ["cli.goals.days_left", "cli.col.attempts", "cli.col.hits", "cli.benchmark.hit_rate", "cli.goals.open"]
    heads += ("cli.goals.p_make_it", "cli.goals.p_won_from")
    title = "cli.goals.progress_off_track" if off_track else "cli.goals.progress_title"
    t = table(
        text(title, as_of=result.as_of),
        headers(*heads),
        "lllllrrrlrrl",
        method=text("cli.goals.caption", method=say(result.method), assumptions=say(ASSUMPTIONS)),
    )
    for r in rows:
        shown = MISSING
        if r["hit_rate"] is not None:
            shown = estimate(percent(r["hit_rate"]), percent(r["ci_low"]), percent(r["ci_high"]), style="spaced")
        t.add_row(
            str(r["goal_id"]),
            subject(r["field"], r["value"]),
            percent(r["target"]),
            r["start"],
            r["end"],
            str(r["days_left"]),
            integer(r["attempts"]),
            integer(r["hits"]),
            shown,
            integer(r["open_deals"]),
            ("[red]" if r["off_track"] else "") + percent(r["probability"]),
            say(r["win_probability_from"]),
        )
    return t


# -- interventions ---------------------------------------------------------------------------------------------
@intervention_app.command("add", help=text("cli_help.intervention.add.help"))
@user_errors
def intervention_add(
    who: WhoArg,
    kind: Annotated[str, option(help="cli_help.intervention.add.kind", show_default=False)],
    start: Annotated[str, option(help="cli_help.intervention.add.start", show_default=False)],
    note: Annotated[str, option(help="cli_help.intervention.add.note")] = "",
    added_by: Annotated[str | None, option(help="cli_help.option.recorded_by")] = None,
    db: DbOpt = None,
) -> None:
    from hitrate.improve.goals import parse_subject
    from hitrate.improve.interventions import add_intervention

    field, value = parse_subject(who)
    with open_store(db, create=True) as store:
        item = add_intervention(
            store, field=field, value=value, kind=kind, started=start, note=note, added_by=added_by or me()
        )
    typer.echo(
        text("cli.intervention.added", id=item.intervention_id, kind=kind, field=field, value=value, start=item.started)
    )


@intervention_app.command("list", help=text("cli_help.intervention.list.help"))
@user_errors
def intervention_list(fmt: FormatOpt = Format.table, db: DbOpt = None) -> None:
    from hitrate.improve.interventions import list_interventions

    listing(list_interventions, interventions_table, fmt, db)


def interventions_table(items: list[Any]) -> Any:
    heads = ["cli.goals.id", "cli.goals.for", "cli.intervention.what", "cli.intervention.started"]
    heads += ["cli.intervention.added_by", "cli.intervention.note"]
    rows = [
        [str(i.intervention_id), subject(i.field, i.value), i.kind, str(i.started), i.added_by, i.note] for i in items
    ]
    return table(text("cli.intervention.title"), headers(*heads), rows=rows)


@intervention_app.command("effect", help=text("cli_help.intervention.effect.help"))
@user_errors
def intervention_effect(
    intervention_id: Annotated[int, argument("cli_help.intervention.effect.id", show_default=False)],
    window: Annotated[int, option(help="cli_help.intervention.effect.window")] = 90,
    where: WhereOpt = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
) -> None:
    from hitrate.improve.interventions import effect

    with open_store(db) as store:
        result = effect(store, intervention_id, window=window, where=parse_where(where))
    emit(result, fmt, effect_view, warnings=result.warnings)


def log_odds(value: float, low: float, high: float) -> str:
    """A log-odds difference with its interval: ``+0.123 (-0.050 to +0.296)``."""
    return estimate(*(number(x, 3, sign=True, group=False) for x in (value, low, high)), style="to")


def effect_view(r: Any) -> list[Any]:
    """The before/after cells of the intervention and its peers, then the estimates and caveats."""
    i = r.intervention
    title = text("cli.intervention.effect_title", kind=i.kind, field=i.field, value=i.value, start=i.started,
                 days=r.window_days)  # fmt: skip
    heads = ["cli.intervention.group", "cli.intervention.window", "cli.intervention.decided"]
    heads += ["cli.intervention.won", "cli.col.hit_rate"]
    t = table(title, headers(*heads), "llrrr")
    for c in r.cells:
        t.add_row(
            str(c["group"]),
            c["window"],
            integer(c["attempts"]),
            integer(c["hits"]),
            percent(c["hit_rate"]),
        )
    lines: list[Any] = [t]
    if r.did_logodds is not None:
        shown = log_odds(r.did_logodds, r.did_logodds_low, r.did_logodds_high)
        lines.append(text("cli.intervention.did_logodds", estimate=shown, p=significant(r.p_value)))
    probability = [percent(x, sign=True) for x in (r.did_probability, r.did_probability_low, r.did_probability_high)]
    lines.append(text("cli.intervention.did_probability", estimate=estimate(*probability, style="to")))
    if r.baseline_logodds is not None:
        shown = log_odds(r.baseline_logodds, r.baseline_low, r.baseline_high)
        lines.append(text("cli.intervention.baseline", estimate=shown))
    if r.placebo_logodds is not None:
        lines.append(
            text("cli.intervention.placebo", estimate=log_odds(r.placebo_logodds, r.placebo_low, r.placebo_high))
        )
    lines.append(text("cli.intervention.method", method=say(r.method)))
    lines += [text("cli.intervention.caveat", caveat=say(c)) for c in r.caveats]
    return lines


# -- feedback and reasons --------------------------------------------------------------------------------------
@feedback_app.command("add", help=text("cli_help.feedback.add.help"))
@user_errors
def feedback_add(
    deal: Annotated[str, argument("cli_help.feedback.add.deal", show_default=False)],
    reason: Annotated[str, option(help="cli_help.feedback.add.reason", show_default=False)],
    note: Annotated[str, option(help="cli_help.feedback.add.note")] = "",
    recorded_by: Annotated[str | None, option(help="cli_help.option.recorded_by")] = None,
    db: DbOpt = None,
) -> None:
    from hitrate.improve.feedback import add_feedback

    with open_store(db, create=True) as store:
        rec = add_feedback(store, deal_id=deal, reason=reason, note=note, recorded_by=recorded_by or me())
    typer.echo(text("cli.feedback.added", deal=rec["id"], rep=rec["rep"], reason=rec["reason"]))


@feedback_app.command("list", help=text("cli_help.feedback.list.help"))
@user_errors
def feedback_list(
    limit: Annotated[int, option(help="cli_help.feedback.list.limit")] = 100,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
) -> None:
    from hitrate.improve.feedback import list_feedback

    with open_store(db) as store:
        rows = list_feedback(store, limit=limit)
    emit(rows, fmt, feedback_table, data=rows)


def feedback_table(rows: list[dict[str, Any]]) -> Any:
    heads = ["cli.feedback.deal", "cli.feedback.rep", "cli.feedback.reason", "cli.feedback.crm_reason"]
    heads += ["cli.feedback.note", "cli.feedback.by", "cli.feedback.when"]
    cells = [
        [r["id"], str(r["rep"]), r["reason"], str(r["crm_reason"] or ""), r["note"] or "", r["recorded_by"] or "",
         str(r["recorded"])]
        for r in rows
    ]  # fmt: skip
    return table(text("cli.feedback.title"), headers(*heads), rows=cells)


@user_errors
def reasons_cmd(
    by: Annotated[list[str] | None, option(help="cli_help.reasons.by")] = None,
    period: Annotated[Period | None, option(help="cli_help.reasons.period")] = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    where: WhereOpt = None,
    fmt: TableFormatOpt = TableFormat.table,
    output: OutputOpt = None,
    db: DbOpt = None,
) -> None:
    from hitrate.improve.feedback import reasons

    with open_store(db) as store:
        scope = library_options(period=period, date_from=date_from, date_to=date_to, where=where)
        result = reasons(store, by=by or [], **scope)
        emit(result, fmt, reasons_table, warnings=result.warnings, output=output, source=store, headline=True)


def reasons_table(r: Any) -> Any:
    """Loss reasons with their share of lost deals, and the change between periods when asked."""
    labels = [*r.by, *(["period"] if r.period else [])]
    heads = ["cli.feedback.reason", "cli.reasons.lost", "cli.reasons.of", "cli.reasons.share"]
    if not r.rows:  # said in words by the headline, not as an empty table or a 100% "(none)"
        return None
    changes = ["cli.reasons.change", "cli.experiment.p"] if r.period else []
    cols = [*r.by, *([text("cli.col.period")] if r.period else []), *headers(*heads, *changes)]
    t = table(
        text("cli.reasons.title", lost=integer(r.lost), recorded=integer(r.recorded)),
        cols + ([""] if r.period else []),
        "l" * (len(labels) + 1) + "r" * (len(heads) + len(changes) - 1) + "l",
        method=r.method,
    )
    for row in r.rows:
        share = [percent(row[k]) for k in ("share", "ci_low", "ci_high")]
        cells = [str(row[c]) for c in labels]
        cells += [
            row["reason"],
            integer(row["lost"]),
            integer(row["of"]),
            estimate(*share, style="spaced"),
        ]
        if r.period:
            change = row.get("change")
            if change is not None:
                ends = [percent(row[k], sign=True) for k in ("change", "change_low", "change_high")]
            cells += [
                "" if change is None else estimate(*ends, style="spaced"),
                "" if row.get("change_p") is None else significant(row["change_p"]),
                row.get("flag", ""),
            ]
        t.add_row(*cells)
    return t


__all__ = ["feedback_app", "goals_app", "intervention_app", "reasons_cmd"]
