"""Commands that help raise the hit rate: ``coach`` (the rep card), ``ramp``, ``worth``, ``outreach`` and
``experiment``. Goals, interventions, feedback and loss reasons are in :mod:`hitrate.cli.goals`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from hitrate.cli.cells import MISSING, estimate, integer, interval, number, percent, rate, significant
from hitrate.cli.options import (
    CampaignOpt,
    Format,
    FormatOpt,
    HtmlAliasOpt,
    Lang,
    OutreachView,
    Period,
    TypesOpt,
    argument,
    one_of,
    option,
    quiet,
    reads,
)
from hitrate.cli.output import Plain, emit, headers, language, note, say, table, text, user_errors, warn

experiment_app = typer.Typer(help=text("cli_help.experiment.help"), no_args_is_help=True)


# -- coach -----------------------------------------------------------------------------------------------------
@reads
def coach_cmd(
    data: Any,
    defs: Any,
    rep: Annotated[str, argument("cli_help.coach.rep", show_default=False)],
    peers_by: Annotated[str, option("--peers-by", help="cli_help.coach.peers_by")] = "team",
    period: Annotated[Period, option(help="cli_help.coach.period")] = Period.quarter,
    output: Annotated[Path | None, option("--output", help="cli_help.coach.html", show_default=False)] = None,
    html: HtmlAliasOpt = None,
    lang: Annotated[Lang | None, option("--lang", help="cli_help.coach.lang", show_default=False)] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from hitrate.improve.coach import rep_card

    peers = None if peers_by.lower() == "none" else peers_by
    with quiet():
        card = rep_card(data, rep, peers_by=peers, period=period.value, definitions=defs)
    warn(card.warnings)
    path = one_of(output, html, "--html")
    if path is not None:
        from hitrate.improve.coach_card import write_card

        note(
            "cli.coach.written",
            path=str(write_card(card, path, lang=lang.value if lang else language(), period=period.value)),
        )
    emit(card, fmt, card_view)


def points(value: Any, low: Any, high: Any) -> str:
    """A difference of rates in percentage points with its interval (``+3.2 (-1.0 to +7.4)``)."""
    if value is None:
        return MISSING
    ends = [number(100 * x, 1, sign=True, group=False) for x in (value, low, high)]
    return estimate(*ends, style="to")


def card_view(card: Any) -> list[Any]:
    """The card as its statements and three tables (stages, activities, segments)."""
    title = text("cli.coach.title_team", rep=card.rep, team=card.team) if card.team else None
    lines: list[Any] = [f"[bold]{title or text('cli.coach.title', rep=card.rep)}[/]"]
    lines += [f"• {say(line)}" for line in card.statements]
    if card.stages:
        lines.append(stages_table(card))
    if card.activities:
        lines.append(activities_table(card))
    for field, rows in card.segments.items():
        lines.append(segment_table(field, rows))
    return lines


def part_of(part: int, whole: int, shown_rate: str) -> str:
    """``hits/attempts rate``: ``12/40 30.0% (17.9%-45.1%)``."""
    return f"{integer(part)}/{integer(whole)} {shown_rate}"


def conversion(r: dict[str, Any]) -> str:
    """``advanced/reached rate (interval)``."""
    shown = estimate(
        percent(r["conversion"]),
        percent(r["conversion_low"]),
        percent(r["conversion_high"]),
        style="hyphen",
    )
    return part_of(r["advanced"], r["reached"], shown)


def stages_table(card: Any) -> Any:
    heads = ["cli.coach.stage", "cli.coach.to", "cli.coach.rep", "cli.coach.peers_ci", "cli.coach.difference"]
    heads += ["cli.coach.lost_here", "cli.coach.shrunk"]
    t = table(text("cli.coach.stages_title"), headers(*heads), "llrrrrr", method=card.method["stages"])
    weak = card.weak_stage["stage"] if card.weak_stage is not None else None
    for r in card.stages:
        t.add_row(
            r["stage"] + (text("cli.coach.weak") if r["stage"] == weak else ""),
            r["to"],
            conversion(r),
            conversion(r["peers"]),
            points(r["difference"], r["difference_low"], r["difference_high"]),
            integer(r["lost_here"]),
            odds_factor(r["shrunk_log_odds_ratio"]),
        )
    return t


def odds_factor(log_odds_ratio: float | None) -> str:
    """A log odds ratio as the factor it multiplies the odds by (``×0.74``): what a reader can picture."""
    import math

    return MISSING if log_odds_ratio is None else "×" + number(math.exp(log_odds_ratio), 2, group=False)


def activities_table(card: Any) -> Any:
    heads = headers("cli.coach.type", "cli.coach.rep", "cli.coach.peers", "cli.coach.best")
    t = table(text("cli.coach.activities_title"), heads, "lrrr", caption=text("cli.coach.best_caption", best=card.best))

    def per(x: dict[str, Any], ci: bool = True) -> str:
        if x["per_opportunity"] is None:
            return MISSING
        value = number(x["per_opportunity"], 2, group=False)
        if not ci:
            return value
        return estimate(value, number(x["low"], 2, group=False), number(x["high"], 2, group=False), style="hyphen")

    for r in card.activities:
        t.add_row(r["type"], per(r["rep"]), per(r["peers"], False), per(r["best"]))
    return t


def segment_table(field: str, rows: list[dict[str, Any]]) -> Any:
    heads = headers("cli.coach.rep", "cli.coach.peers_ci", "cli.coach.difference")
    t = table(text("cli.coach.segment_title", field=field), [field, *heads], "lrrr")
    for r in rows:
        p = r["peers"]
        rep_rate = estimate(percent(r["hit_rate"]), percent(r["ci_low"]), percent(r["ci_high"]), style="hyphen")
        t.add_row(
            str(r[field]),
            part_of(r["hits"], r["attempts"], rep_rate),
            part_of(p["hits"], p["attempts"], percent(p["hit_rate"])),
            points(r["difference"], r["difference_low"], r["difference_high"]),
        )
    return t


# -- ramp ------------------------------------------------------------------------------------------------------
@reads
def ramp_cmd(
    data: Any,
    defs: Any,
    tenured_after: Annotated[int, option("--tenured-after", help="cli_help.ramp.tenured_after")] = 365,
    fmt: FormatOpt = Format.table,
) -> None:
    from hitrate.analysis.ramp import ramp

    result = ramp(data, tenured_after_days=tenured_after, definitions=defs)
    emit(result, fmt, ramp_view, warnings=result.warnings)


def ramp_view(result: Any) -> list[Any]:
    """The tenured reps' rate, the fitted ramp, and the curves per hiring cohort."""
    lines: list[Any] = []
    ten = result.tenured
    if ten["hit_rate"] is not None:
        shown = rate(ten["hit_rate"], ten["ci_low"], ten["ci_high"], style="hyphen")
        lines.append(text("cli.ramp.tenured", rate=shown, attempts=integer(ten["attempts"])))
    f = result.fit
    if f is not None:
        lines.insert(0, say(result.headline()))
    heads = ["cli.ramp.cohort", "cli.ramp.month", "cli.ramp.reps", "cli.ramp.deals", "cli.benchmark.hit_rate"]
    t = table(text("cli.ramp.title"), headers(*heads), "lrrrr", method=None if f is None else f["method"])
    for r in result.curves:
        t.add_row(
            r["cohort"], str(r["month"]), str(r["reps"]), integer(r["attempts"]),
            rate(r["hit_rate"], r["ci_low"], r["ci_high"], style="hyphen"),
        )  # fmt: skip
    return [*lines, t]


# -- worth -----------------------------------------------------------------------------------------------------
@reads
def worth_cmd(
    data: Any,
    defs: Any,
    points: Annotated[float, option(help="cli_help.worth.points", show_default=False)],
    by: Annotated[str | None, option(help="cli_help.worth.by", show_default=False)] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from hitrate.analysis.worth import worth

    result = worth(data, points=points, by=by, definitions=defs)
    emit(result, fmt, lambda r: worth_table(r, points, by), warnings=result.warnings)


def worth_table(result: Any, points: float, by: str | None) -> Any:
    """Extra wins and revenue from +``points`` of hit rate, on the decided volume and the open pipeline."""
    from hitrate.analysis.worth import ASSUMPTION

    groups = [by] if by else []
    heads = ["cli.worth.decided", "cli.col.hit_rate", "cli.worth.extra_wins", "cli.worth.extra_revenue"]
    heads += ["cli.worth.open", "cli.worth.pipeline"]
    t = table(
        text("cli.worth.title", points=significant(points, 6)),
        [*groups, *headers(*heads)],
        "l" * len(groups) + "r" * len(heads),
        caption=text("cli.worth.caption", assumption=say(ASSUMPTION)),
    )
    for r in result.rows:
        revenue = "" if r["extra_revenue"] is None else number(r["extra_revenue"], 0)
        if r["extra_revenue_low"] is not None:
            low, high = number(r["extra_revenue_low"], 0), number(r["extra_revenue_high"], 0)
            revenue = text("cli.worth.revenue", revenue=revenue, interval=interval(low, high, style="hyphen"))
        pipeline = ""
        if r["pipeline_extra_revenue"] is not None:
            wins, revenue_open = number(r["pipeline_extra_wins"], 1), number(r["pipeline_extra_revenue"], 0)
            pipeline = text("cli.worth.pipeline_cell", wins=wins, revenue=revenue_open)
        change = ""
        if r["hit_rate"] is not None:
            change = text("cli.worth.change", rate=percent(r["hit_rate"]), new=percent(r["new_hit_rate"]))
        t.add_row(
            *([str(r[by])] if by else []),
            integer(r["decided"]),
            change,
            number(r["extra_wins"], 1),
            revenue,
            integer(r["open"]),
            pipeline,
        )
    return t


# -- experiment ------------------------------------------------------------------------------------------------
@experiment_app.command("plan", help=text("cli_help.experiment.plan.help"))
@user_errors
def experiment_plan(
    baseline: Annotated[float, option(help="cli_help.experiment.plan.baseline", show_default=False)],
    lift: Annotated[float | None, option(help="cli_help.experiment.plan.lift", show_default=False)] = None,
    relative_lift: Annotated[
        float | None, option(help="cli_help.experiment.plan.relative_lift", show_default=False)
    ] = None,
    power: Annotated[float, option(help="cli_help.experiment.plan.power")] = 0.8,
    alpha: Annotated[float, option(help="cli_help.experiment.plan.alpha")] = 0.05,
    fmt: FormatOpt = Format.table,
) -> None:
    from hitrate.improve.experiments import plan

    result = plan(baseline, lift, relative_lift=relative_lift, power=power, alpha=alpha)
    shown = Plain(
        text(
            "cli.experiment.plan",
            n=integer(result["n_per_variant"]),
            total=integer(result["n_total"]),
            baseline=percent(baseline),
            target=percent(result["target"]),
            lift=number(result["lift"] * 100, 1, sign=True),
            relative=percent(result["relative_lift"], 0, sign=True),
            power=percent(power, 0),
            alpha=significant(alpha, 6),
            h=number(result["effect_size_h"], 3, group=False),
            method=say(result["method"]),
        )
    )
    emit(result, fmt, lambda _: shown, data=result, ascii=True)


@experiment_app.command("compare", help=text("cli_help.experiment.compare.help"))
@reads
def experiment_compare(
    data: Any,
    defs: Any,
    by: Annotated[str, option(help="cli_help.experiment.compare.by")] = "variant",
    step: Annotated[str, option(help="cli_help.experiment.compare.step")] = "response",
    campaign: CampaignOpt = None,
    type_: TypesOpt = None,
    control: Annotated[str | None, option(help="cli_help.experiment.compare.control", show_default=False)] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from hitrate.improve.experiments import DEFAULT_TYPES, experiment

    result = experiment(
        data,
        by=by,
        step=step,
        campaign=campaign,
        types=type_ or DEFAULT_TYPES,
        control=control,
        definitions=defs,
    )
    emit(result, fmt, lambda r: experiment_table(r, by, step, campaign), warnings=result.warnings)


def with_campaign(title: str, campaign: str | None) -> str:
    """A table title, narrowed to a campaign when one was asked for."""
    return text("cli.campaign_suffix", title=title, campaign=campaign) if campaign else title


def experiment_table(result: Any, by: str, step: str, campaign: str | None) -> Any:
    heads = ["cli.experiment.touches", "cli.col.hits", "cli.experiment.rate", "cli.experiment.versus"]
    heads += ["cli.experiment.p", "cli.experiment.p_beat", "cli.experiment.p_best"]
    cols = [by, *(text(h, control=result.control) for h in heads)]
    t = table(with_campaign(text("cli.experiment.title", step=step, by=by), campaign), cols, "l" + "r" * len(heads))
    for r in result.rows:
        diff = (
            text("cli.experiment.control")
            if r["control"]
            else rate(r["difference"], r["diff_low"], r["diff_high"], style="to", sign=True)
        )
        t.add_row(
            str(r[by]),
            integer(r["attempts"]),
            integer(r["hits"]),
            rate(r["rate"], r["ci_low"], r["ci_high"], style="hyphen"),
            diff,
            "" if r["p_value"] is None else significant(r["p_value"]),
            "" if r["prob_beat"] is None else percent(r["prob_beat"]),
            percent(r["prob_best"]),
        )
    return t


# -- outreach --------------------------------------------------------------------------------------------------
@reads
def outreach_cmd(
    data: Any,
    defs: Any,
    by: Annotated[list[str] | None, option(help="cli_help.outreach.by", show_default=False)] = None,
    campaign: CampaignOpt = None,
    view: Annotated[OutreachView, option(help="cli_help.outreach.view")] = OutreachView.funnel,
    step: Annotated[str, option(help="cli_help.outreach.step")] = "response",
    type_: TypesOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from hitrate.errors import UserInputError
    from hitrate.improve import outreach

    types = tuple(type_ or outreach.DEFAULT_TYPES)
    fields = list(by or [])
    if view is not OutreachView.funnel and len(fields) > 1:
        raise UserInputError("cli.outreach.one_field", view=view.value, fields=fields)
    result: Any
    common: dict[str, Any] = {"campaign": campaign, "types": types, "definitions": defs}
    if view is OutreachView.funnel:
        result = outreach.funnel(data, by=fields, **common)
    elif view is OutreachView.sequences:
        result = outreach.rank_sequences(data, by=fields[0] if fields else "sequence", step=step, **common)
    else:
        result = outreach.personalisation_lift(data, by=fields[0] if fields else "segment", step=step, **common)
    render = {
        OutreachView.funnel: outreach_funnel_table,
        OutreachView.sequences: outreach_sequences_table,
        OutreachView.personalisation: outreach_lift_table,
    }[view]
    emit(result, fmt, lambda r: render(r, campaign), warnings=result.warnings)


def outreach_funnel_table(result: Any, campaign: str | None) -> Any:
    by = list(result.by)
    title = text("cli.outreach.funnel_title_by", by=by) if by else text("cli.outreach.funnel_title")
    heads = ["cli.outreach.leads", "cli.outreach.from_previous", "cli.outreach.from_touched"]
    cols = [*by, text("cli.outreach.step"), *headers(*heads)]
    t = table(with_campaign(title, campaign), cols, "l" * (len(by) + 1) + "r" * len(heads))
    for r in result.rows:
        touches = text("cli.outreach.touches", n=integer(r["touches"])) if r["step"] == "touched" else ""
        t.add_row(
            *[str(r[k]) for k in by],
            r["step"] + touches,
            integer(r["leads"]),
            rate(r["from_previous"], r["previous_low"], r["previous_high"], style="hyphen"),
            rate(r["from_first"], r["first_low"], r["first_high"], style="hyphen"),
        )
    return t


def outreach_sequences_table(result: Any, campaign: str | None) -> Any:
    title = text("cli.outreach.sequences_title", by=result.by, step=result.step)
    heads = ["cli.experiment.touches", "cli.col.hits", "cli.outreach.raw_rate", "cli.outreach.raw_rank"]
    heads += ["cli.outreach.shrunk_rate"]
    cols = [text("cli.outreach.rank"), result.by, *headers(*heads)]
    t = table(with_campaign(title, campaign), cols, "rl" + "r" * len(heads))
    for r in result.rows:
        t.add_row(
            str(r["rank"]),
            str(r[result.by]),
            integer(r["attempts"]),
            integer(r["hits"]),
            rate(r["rate"], r["ci_low"], r["ci_high"], style="hyphen"),
            str(r["raw_rank"]),
            rate(r["shrunk"], r["shrunk_low"], r["shrunk_high"], style="hyphen"),
        )
    return t


def outreach_lift_table(result: Any, campaign: str | None) -> Any:
    title = text("cli.outreach.lift_title", by=result.by, step=result.step)
    heads = ["cli.outreach.yes", "cli.outreach.n_yes", "cli.outreach.no", "cli.outreach.n_no", "cli.outreach.lift"]
    heads += ["cli.experiment.p", "cli.outreach.q"]
    t = table(with_campaign(title, campaign), [result.by, *headers(*heads)], "l" + "r" * len(heads))
    for r in result.rows:
        q = "" if r["q_value"] is None else significant(r["q_value"]) + (" *" if r["significant"] else "")
        t.add_row(
            str(r[result.by]),
            rate(r["rate_yes"], r["yes_low"], r["yes_high"], style="hyphen"),
            integer(r["attempts_yes"]),
            rate(r["rate_no"], r["no_low"], r["no_high"], style="hyphen"),
            integer(r["attempts_no"]),
            rate(r["lift"], r["lift_low"], r["lift_high"], style="to", sign=True),
            "" if r["p_value"] is None else significant(r["p_value"]),
            q,
        )
    return t


__all__ = ["coach_cmd", "experiment_app", "outreach_cmd", "ramp_cmd", "worth_cmd"]
