"""Commands that measure: ``rates``, ``benchmark``, ``trend``, ``compare`` and ``funnel``."""

from __future__ import annotations

from typing import Annotated, Any

from hitrate.cli.cells import bars, estimate, integer, interval, label, number, percent, rate
from hitrate.cli.options import (
    BasisOpt,
    FromOpt,
    OutputOpt,
    Period,
    TableFormat,
    TableFormatOpt,
    ToOpt,
    WhereOpt,
    argument,
    library_options,
    option,
    parse_where,
    quiet,
    reads,
    split_list,
)
from hitrate.cli.output import Plain, emit, headers, say, table, text
from hitrate.i18n import Message

RATE_HEADERS = ("cli.col.attempts", "cli.col.hits", "cli.col.hit_rate", "cli.col.interval", "cli.col.value_hit_rate")


# -- rates -----------------------------------------------------------------------------------------------------
@reads
def rates_cmd(
    data: Any,
    defs: Any,
    by: Annotated[list[str] | None, option(help="cli_help.rates.by", show_default=False)] = None,
    period: Annotated[Period | None, option(help="cli_help.rates.period", show_default=False)] = None,
    basis: BasisOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    where: WhereOpt = None,
    fmt: TableFormatOpt = TableFormat.table,
    output: OutputOpt = None,
) -> None:
    from hitrate.analysis.rates import rates

    with quiet():
        scope = library_options(period=period, basis=basis, date_from=date_from, date_to=date_to, where=where)
        result = rates(data, definitions=defs, by=by or [], **scope)
    emit(
        result, fmt, rates_table, warnings=result.warnings, output=output, source=data, definitions=defs, headline=True
    )


def rates_table(result: Any, title: str | None = None) -> Any:
    """A Rich table of a rates result: every rate beside its attempts and interval."""
    defs = result.definitions
    labels = [*result.by, *(["period"] if result.period else [])]
    shown = [*result.by, *([text("cli.col.period")] if result.period else [])]
    records = result.records()
    # A value column of dashes only says nothing (sessions carry no amounts; a value rate that means nothing for
    # the data is left empty by rates, with a warning that says why), so it is left out.
    value = any(r["value_hit_rate"] is not None for r in records)
    heads = RATE_HEADERS if value else RATE_HEADERS[:-1]
    basis, denominator = Message(f"store_report.basis_{defs.basis}"), Message(f"rates.denominator_{defs.denominator}")
    # Rows that are periods get a bar of the hit rate, so the shape over time shows at a glance.
    drawn = bars(r["hit_rate"] for r in records) if result.period else None
    t = table(
        title or text("cli.rates.title", basis=basis),
        [*shown, *headers(*heads, *(["cli.col.bar"] if drawn else []))],
        "l" * len(labels) + "r" * len(heads),
        caption=text("cli.rates.caption", denominator=denominator, hash=defs.hash),
        method=result.method,
        no_wrap=True,
    )
    for i, rec in enumerate(records):
        t.add_row(
            *(label(rec[c], c) for c in labels),
            integer(rec["attempts"]),
            integer(rec["hits"]),
            percent(rec["hit_rate"]),
            interval(percent(rec["ci_low"]), percent(rec["ci_high"]), style="spaced"),
            *([percent(rec["value_hit_rate"])] if value else []),
            *([drawn[i]] if drawn else []),
        )
    return t


# -- benchmark -------------------------------------------------------------------------------------------------
@reads
def benchmark_cmd(
    data: Any,
    defs: Any,
    by: Annotated[str, option(help="cli_help.benchmark.by", show_default=False)],
    within: Annotated[str | None, option(help="cli_help.benchmark.within", show_default=False)] = None,
    adjust: Annotated[str | None, option(help="cli_help.benchmark.adjust", show_default=False)] = None,
    basis: BasisOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    where: WhereOpt = None,
    fmt: TableFormatOpt = TableFormat.table,
    output: OutputOpt = None,
) -> None:
    from hitrate.analysis.benchmark import benchmark

    with quiet():
        scope = library_options(basis=basis, date_from=date_from, date_to=date_to, where=where)
        result = benchmark(data, definitions=defs, by=by, within=within, adjust=split_list(adjust), **scope)
    emit(
        result, fmt, benchmark_table, warnings=result.warnings, output=output, source=data, definitions=defs,
        headline=True,
    )  # fmt: skip


def benchmark_table(result: Any) -> Any:
    """A Rich table of a benchmark: raw and shrunk rates with intervals, flag, and the adjustment if any."""
    defs = result.definitions
    heads = ["cli.col.attempts", "cli.col.hits", "cli.benchmark.hit_rate", "cli.benchmark.shrunk", "cli.benchmark.flag"]
    if result.adjust:
        heads += ["cli.benchmark.expected", "cli.benchmark.quality", "cli.benchmark.adjusted"]
    t = table(
        text("cli.benchmark.title", by=result.query["by"], basis=defs.basis),
        [*result.by, *headers(*heads)],
        "l" * len(result.by) + "r" * len(heads),
        caption=text("cli.benchmark.caption", overall=percent(result.query["overall_rate"]), hash=defs.hash),
        method=result.method,
        no_wrap=True,
    )
    for r in result.records():
        row = [
            *(label(r[c], c) for c in result.by),
            integer(r["attempts"]),
            integer(r["hits"]),
            estimate(percent(r["hit_rate"]), percent(r["ci_low"]), percent(r["ci_high"])),
            estimate(percent(r["shrunk_rate"]), percent(r["shrunk_low"]), percent(r["shrunk_high"])),
            text(f"cli.benchmark.flag_{r['flag']}") if r["flag"] in ("above", "below") else "",
        ]
        if result.adjust:
            qi = r["quality_index"]
            quality = [number(x, 2, group=False) for x in (qi, r["quality_low"], r["quality_high"])]
            row += [
                number(r["expected_hits"], 1),
                percent(None) if qi is None else estimate(*quality),
                percent(r["adjusted_rate"]),
            ]
        t.add_row(*row)
    return t


# -- trend -----------------------------------------------------------------------------------------------------
@reads
def trend_cmd(
    data: Any,
    defs: Any,
    period: Annotated[Period, option(help="cli_help.trend.period")] = Period.month,
    by: Annotated[str | None, option(help="cli_help.trend.by", show_default=False)] = None,
    basis: BasisOpt = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    where: WhereOpt = None,
    fmt: TableFormatOpt = TableFormat.table,
    output: OutputOpt = None,
) -> None:
    from hitrate.analysis.trend import trend

    scope = library_options(period=period, basis=basis, date_from=date_from, date_to=date_to, where=where)
    result = trend(data, definitions=defs, by=by, **scope)
    # The table shows each series' note under its factors: on stderr too it would be said twice.
    shown = [] if fmt == TableFormat.table else result.warnings
    emit(result, fmt, trend_table, warnings=shown, output=output, source=data, definitions=defs, headline=True)


def seasonal_table(name: str, series: dict[str, Any]) -> Any:
    """One series' seasonal factors on the odds scale, with their effect on the rate."""
    heads = headers("cli.trend.period_of_year", "cli.trend.factor", "cli.col.interval", "cli.trend.effect")
    t = table(text("cli.trend.factors_title", name=name), heads, "lrrr")
    for k, v in series["seasonal_factors"].items():
        low, high = series["seasonal_factor_low"][k], series["seasonal_factor_high"][k]
        t.add_row(
            str(k),
            number(v, 2, group=False),
            interval(number(low, 2, group=False), number(high, 2, group=False)),
            percent(series["seasonal_rate_effect"][k], sign=True),
        )
    return t


def trend_table(result: Any) -> Any:
    """Rich tables: the seasonal factors (odds and rate scale), then the series."""
    from rich.console import Group

    parts: list[Any] = []
    for s in result.series:
        name = " ".join(str(s[f]) for f in result.by) or text("cli.trend.all")
        if s["seasonal_factors"]:
            parts.append(seasonal_table(name, s))
        if s["note"]:
            parts.append(f"[italic]{name}: {say(s['note'])}[/]")
    heads = ["cli.col.attempts", "cli.benchmark.hit_rate", "cli.col.bar", "cli.trend.trend", "cli.trend.adjusted"]
    heads += ["cli.trend.unusual", "cli.trend.yoy"]
    t = table(
        text("cli.trend.title", period=Message(f"rates.period_{result.period}")),
        [*result.by, text("cli.col.period"), *headers(*heads)],
        "l" * (len(result.by) + 1) + "rrl" + "r" * (len(heads) - 3),
        caption=text("cli.trend.caption", hash=result.definitions.hash),
        method=result.method,
        no_wrap=True,
    )
    records = result.records()
    for r, bar in zip(records, bars(r["hit_rate"] for r in records), strict=True):
        t.add_row(
            *(str(r[c]) for c in [*result.by, "period"]),
            integer(r["attempts"]),
            estimate(percent(r["hit_rate"]), percent(r["ci_low"]), percent(r["ci_high"])),
            bar,
            percent(r["trend"]),
            percent(r["adjusted_rate"]),
            text(f"cli.trend.unusual_{r['unusual']}") if r["unusual"] in ("high", "low") else r["unusual"] or "",
            "" if r["yoy_difference"] is None else percent(r["yoy_difference"], sign=True),
        )
    parts.append(t)
    return Group(*parts)


# -- compare ---------------------------------------------------------------------------------------------------
@reads
def compare_cmd(
    data: Any,
    defs: Any,
    a: Annotated[str, argument("cli_help.compare.a", show_default=False)],
    b: Annotated[str, argument("cli_help.compare.b", show_default=False)],
    by: Annotated[str | None, option(help="cli_help.compare.by", show_default=False)] = None,
    period: Annotated[Period | None, option(help="cli_help.compare.period", show_default=False)] = None,
    basis: BasisOpt = None,
    where: WhereOpt = None,
    fmt: TableFormatOpt = TableFormat.table,
    output: OutputOpt = None,
) -> None:
    from hitrate.analysis.compare import compare

    result = compare(data, a, b, definitions=defs, by=by, **library_options(period=period, basis=basis, where=where))
    emit(result, fmt, comparison, output=output, source=data, definitions=defs)


def comparison(result: Any) -> Plain:
    """The comparison in plain words, from A to B: the change in points and relative, with intervals, the p-value."""
    return Plain(say(result.headline()))


# -- funnel ----------------------------------------------------------------------------------------------------
@reads
def funnel_cmd(
    data: Any,
    defs: Any,
    by: Annotated[str | None, option(help="cli_help.funnel.by", show_default=False)] = None,
    stages: Annotated[str | None, option(help="cli_help.funnel.stages", show_default=False)] = None,
    where: WhereOpt = None,
    fmt: TableFormatOpt = TableFormat.table,
    output: OutputOpt = None,
) -> None:
    from hitrate.analysis.funnel import stage_funnel

    order = split_list(stages) or None
    result = stage_funnel(data, by=by, stages=order, definitions=defs, where=parse_where(where))
    emit(
        result,
        fmt,
        lambda r: funnel_table(r, by),
        warnings=result.warnings,
        output=output,
        source=data,
        definitions=defs,
        headline=True,
    )


def funnel_table(result: Any, by: str | None = None) -> Any:
    """The stage funnel: reached, conversion to the next stage, win rate from here, lost here, days."""
    heads = ["cli.funnel.reached", "cli.funnel.to_next", "cli.funnel.win_rate", "cli.funnel.lost_here"]
    heads += ["cli.funnel.median_days"]
    title = text("cli.funnel.title_by", by=by) if by else text("cli.funnel.title")
    groups = [by] if by else []
    t = table(
        title,
        [*groups, text("cli.funnel.stage"), *headers(*heads)],
        "l" * (len(groups) + 1) + "r" * len(heads),
        method=result.method,
    )
    for r in result.rows:
        t.add_row(
            *([str(r[by])] if by else []),
            r["stage"],
            integer(r["reached"]),
            rate(r["conversion"], r["conversion_low"], r["conversion_high"], style="hyphen"),
            rate(r["win_rate"], r["win_rate_low"], r["win_rate_high"], style="hyphen"),
            integer(r["lost_here"]),
            "" if r["median_days"] is None else number(r["median_days"], 1, group=False),
        )
    return t


__all__ = [
    "benchmark_cmd",
    "benchmark_table",
    "compare_cmd",
    "funnel_cmd",
    "rates_cmd",
    "rates_table",
    "trend_cmd",
    "trend_table",
]
