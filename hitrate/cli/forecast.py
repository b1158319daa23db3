"""``hitrate forecast`` (expected wins and amount by period, with intervals) and ``hitrate forecast backtest``."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import typer

from hitrate.cli.cells import estimate, integer, number, percent
from hitrate.cli.options import OutputOpt, TableFormat, TableFormatOpt, WhereOpt, library_options, option, reads
from hitrate.cli.output import emit, headers, progress_bar, say, table, text

Horizon = Enum("Horizon", [("month", "month"), ("quarter", "quarter"), ("year", "year")], type=str)
BacktestHorizon = Enum("BacktestHorizon", [("month", "month"), ("quarter", "quarter")], type=str)
ForecastPeriod = Enum("ForecastPeriod", [("week", "week"), ("month", "month"), ("quarter", "quarter")], type=str)
ByOpt = Annotated[list[str] | None, option("--by", help="forecast.help_by", show_default=False)]
LevelOpt = Annotated[float, option("--level", help="forecast.help_level")]
StrataOpt = Annotated[list[str] | None, option("--strata", help="forecast.help_strata", show_default=False)]
NoStrataOpt = Annotated[bool, option("--no-strata", help="forecast.help_no_strata")]

forecast_app = typer.Typer(help=text("forecast.help"), invoke_without_command=True)


@forecast_app.callback()
@reads
def forecast_cmd(
    data: Any,
    defs: Any,
    ctx: typer.Context,
    as_of: Annotated[str | None, option("--as-of", help="forecast.help_as_of", show_default=False)] = None,
    until: Annotated[str | None, option("--until", help="forecast.help_until", show_default=False)] = None,
    horizon: Annotated[Horizon | None, option("--horizon", help="forecast.help_horizon", show_default=False)] = None,
    period: Annotated[ForecastPeriod, option("--period", help="forecast.help_period")] = ForecastPeriod.month,
    by: ByOpt = None,
    where: WhereOpt = None,
    level: LevelOpt = 0.8,
    strata: StrataOpt = None,
    no_strata: NoStrataOpt = False,
    fmt: TableFormatOpt = TableFormat.table,
    output: OutputOpt = None,
) -> None:
    # ctx is read by the shared options: before a subcommand (forecast backtest) nothing is opened or run
    from hitrate.improve.forecast import forecast, strata_option

    options = library_options(horizon=horizon, period=period, where=where)
    layers = strata_option(strata, no_strata)
    result = forecast(
        data, as_of=as_of, until=until, by=by or (), level=level, strata=layers, definitions=defs, **options
    )  # fmt: skip
    emit(
        result, fmt, forecast_table, warnings=result.warnings, output=output, source=data, definitions=defs,
        headline=True,
    )  # fmt: skip


def forecast_table(result: Any) -> Any:
    """One row per group and period: wins (interval), booked, from open and new deals, amount (interval)."""
    from hitrate.improve.forecast import ASSUMPTIONS

    by = list(result.by)
    heads = ["forecast.col_period", "forecast.col_wins", "forecast.col_booked", "forecast.col_open"]
    heads += ["forecast.col_new", "forecast.col_closing", "forecast.col_amount"]
    t = table(
        say(result.title()),
        [*by, *headers(*heads)],
        "l" * (len(by) + 1) + "r" * (len(heads) - 1),
        method=f"{say(result.method)}. {say(ASSUMPTIONS)}.",
    )
    for r in result.rows:
        t.add_row(
            *(str(r[b]) for b in by),
            r["period"],
            estimate(number(r["expected_wins"], 0), integer(r["wins_low"]), integer(r["wins_high"])),
            integer(r["won_so_far"]),
            number(r["from_open"], 1),
            number(r["from_new"], 1),
            number(r["expected_closing"], 0),
            estimate(number(r["expected_amount"], 0), number(r["amount_low"], 0), number(r["amount_high"], 0)),
        )
    return t


@forecast_app.command("backtest", help=text("forecast.help_backtest"))
@reads
def backtest_cmd(
    data: Any,
    defs: Any,
    date_from: Annotated[str, option("--from", help="forecast.help_from", show_default=False)],
    date_to: Annotated[str, option("--to", help="forecast.help_to", show_default=False)],
    every: Annotated[str, option("--every", help="forecast.help_every")] = "month",
    horizon: Annotated[BacktestHorizon, option("--horizon", help="forecast.help_backtest_horizon")] = (
        BacktestHorizon.month
    ),
    by: ByOpt = None,
    where: WhereOpt = None,
    level: LevelOpt = 0.8,
    strata: StrataOpt = None,
    no_strata: NoStrataOpt = False,
    fmt: TableFormatOpt = TableFormat.table,
    output: OutputOpt = None,
) -> None:
    from hitrate.improve.backtest import forecast_backtest
    from hitrate.improve.forecast import strata_option

    options = library_options(horizon=horizon, where=where)
    with progress_bar(text("cli.progress.backtest")) as progress:
        result = forecast_backtest(
            data, date_from=date_from, date_to=date_to, every=every, by=by or (), level=level,
            strata=strata_option(strata, no_strata), definitions=defs, progress=progress, **options,
        )  # fmt: skip
    emit(result, fmt, backtest_table, warnings=result.warnings, output=output, source=data, definitions=defs)


def backtest_table(result: Any) -> list[Any]:
    """The points, then the accuracy of each method."""
    by = list(result.by)
    heads = ["forecast.col_as_of", "forecast.col_period", "forecast.col_forecast", "forecast.col_actual"]
    heads += ["forecast.series_stage_weighted", "forecast.col_run_rate"]
    points = table(say(result.title()), [*by, *headers(*heads)], "l" * (len(by) + 2) + "r" * 4)
    for r in result.rows:
        points.add_row(
            *(str(r[b]) for b in by),
            str(r["as_of"]),
            r["period"],
            estimate(number(r["forecast"], 0), integer(r["low"]), integer(r["high"])),
            integer(r["actual"]),
            number(r["stage_weighted"], 0),
            number(r["run_rate"], 0),
        )
    heads = ["forecast.col_method", "forecast.col_mae", "forecast.col_mape", "forecast.col_bias"]
    summary = table(
        say(result.headline()), [*headers(*heads, "forecast.col_coverage")], "lrrrr"
    )  # fmt: skip
    for method, s in result.accuracy.items():
        summary.add_row(
            text(f"forecast.method_{method}"),
            number(s["mae"], 1),
            percent(s["mape"]),
            number(s["bias"], 1, sign=True),
            percent(s["coverage"]) if s["coverage"] is not None else "",
        )
    return [points, summary]
