"""Commands for hit rate outside sales: ``bets`` (betting strategies and bet logs) and ``slots`` (slot machines)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from hitrate.cli.cells import MISSING, integer, interval, number, percent, significant
from hitrate.cli.options import DbOpt, EngineOpt, Format, FormatOpt, OddsFormat, Strategy, argument, option, source
from hitrate.cli.output import Plain, emit, headers, say, table, text, user_errors

slots_app = typer.Typer(help=text("cli_help.slots.help"), no_args_is_help=True)


# -- bets ------------------------------------------------------------------------------------------------------
@user_errors
def bets_cmd(
    strategy: Annotated[Strategy, option(help="cli_help.bets.strategy")] = Strategy.auto,
    by: Annotated[list[str] | None, option(help="cli_help.bets.by", show_default=False)] = None,
    odds: Annotated[str, option(help="cli_help.bets.odds")] = "odds",
    stake: Annotated[str, option(help="cli_help.bets.stake")] = "stake",
    odds_format: Annotated[OddsFormat, option(help="cli_help.bets.odds_format")] = OddsFormat.auto,
    date: Annotated[str | None, option(help="cli_help.bets.date", show_default=False)] = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
    engine: EngineOpt = None,
) -> None:
    from hitrate.domains.betting import bets

    with source(db, engine, None) as (store, _defs):
        options: dict[str, Any] = {"odds": odds, "stake": stake, "odds_format": odds_format.value, "date": date}
        result = bets(store, strategy=strategy.value, by=by or [], **options)
    emit(result, fmt, bets_table, warnings=result.warnings)


BETS_HEADERS = ("bets", "skipped", "hits", "hit_rate", "interval", "break_even", "fair", "profit", "yield", "p")


def bets_table(result: Any) -> Any:
    """Hit rate against the break-even rate its odds imply, yield and a one-sided p-value, per group."""
    t = table(
        text("cli.bets.title", strategy=result.strategy),
        [*result.by, *headers(*(f"cli.bets.{h}" for h in BETS_HEADERS))],
        "l" * len(result.by) + "r" * len(BETS_HEADERS),
        method=result.method,
        no_wrap=True,
    )
    for r in result.rows:
        low = r.get("ci_low")
        t.add_row(
            *(MISSING if r[g] is None else str(r[g]) for g in result.by),
            count(r["bets"]),
            integer(r["skipped"]),
            count(r["hits"]),
            percent(r.get("hit_rate")),
            MISSING if low is None else interval(percent(low), percent(r["ci_high"]), style="spaced"),
            percent(r.get("break_even")),
            percent(r.get("break_even_fair")),
            number(r.get("profit"), 2),
            percent(r.get("yield")),
            number(r.get("p_value"), 3, group=False),
        )
    return t


def count(value: Any) -> str:
    """A count of bets or hits: whole, or with its half (Asian-handicap half results)."""
    return integer(value) if value is None or float(value).is_integer() else number(value, 1)


# -- slots -----------------------------------------------------------------------------------------------------
def slot_line(stats: Any) -> Plain:
    """A machine's numbers in one line: hit frequency, payback and volatility, with the method."""
    return Plain(
        text(
            "cli.slots.line",
            source=say(stats.source),
            hit_frequency=percent(stats.hit_frequency, 2),
            hits=number(stats.hits, 0),
            outcomes=number(stats.outcomes, 0),
            payback=percent(stats.payback, 2),
            volatility=number(stats.volatility, 2, group=False),
            wager=significant(stats.wager, 6),
            method=say(stats.method),
        )
    )


@slots_app.command("par", help=text("cli_help.slots.par.help"))
@user_errors
def slots_par(
    file: Annotated[Path, argument("cli_help.slots.par.file", show_default=False)],
    wager: Annotated[float, option(help="cli_help.slots.par.wager")] = 1.0,
    pay: Annotated[str | None, option(help="cli_help.slots.par.pay", show_default=False)] = None,
    count: Annotated[str | None, option(help="cli_help.slots.par.count", show_default=False)] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from hitrate.domains.slots import par_from_table

    stats = par_from_table(file, wager=wager, pay=pay, count=count)
    emit(stats, fmt, slot_line, warnings=stats.warnings)


@slots_app.command("reels", help=text("cli_help.slots.reels.help"))
@user_errors
def slots_reels(
    file: Annotated[Path, argument("cli_help.slots.reels.file", show_default=False)],
    simulate: Annotated[int, option(help="cli_help.slots.reels.simulate")] = 0,
    seed: Annotated[int, option(help="cli_help.slots.reels.seed")] = 0,
    fmt: FormatOpt = Format.table,
) -> None:
    from hitrate.domains.slots import enumerate_machine, load_machine, simulated_stats

    machine = load_machine(file)
    stats = enumerate_machine(machine, str(file))
    if simulate > 0:
        stats.extra["simulation"] = simulated_stats(machine, simulate, seed=seed).to_dict()
    emit(stats, fmt, slot_line)


@slots_app.command("spins", help=text("cli_help.slots.spins.help"))
@user_errors
def slots_spins(
    file: Annotated[Path, argument("cli_help.slots.spins.file", show_default=False)],
    win: Annotated[str, option(help="cli_help.slots.spins.win")] = "win",
    wager: Annotated[str, option(help="cli_help.slots.spins.wager")] = "wager",
    by: Annotated[list[str] | None, option(help="cli_help.slots.spins.by", show_default=False)] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    from hitrate.domains.slots import spin_log_stats

    stats = spin_log_stats(file, win=win, wager=wager, by=by or [])
    emit(stats, fmt, spins_table if by else slot_line, warnings=stats.warnings)


SPIN_MEASURES = (
    "spins",
    "free_spins",
    "hits",
    "hit_frequency",
    "hit_frequency_ci",
    "payback",
    "payback_ci",
    "volatility",
)
SPINS_HEADERS = (
    "spins",
    "free_spins",
    "hits",
    "hit_frequency",
    "interval",
    "payback",
    "payback_interval",
    "volatility",
)


def spins_table(stats: Any) -> Any:
    """A spin log by machine (or any column): hit frequency and payback with their intervals, per group."""
    groups = [g for g in stats.extra["groups"][0] if g not in SPIN_MEASURES] if stats.extra["groups"] else []
    t = table(
        say(stats.source),
        [*groups, *headers(*(f"cli.slots.{h}" for h in SPINS_HEADERS))],
        "l" * len(groups) + "r" * len(SPINS_HEADERS),
        method=stats.extra["interval_methods"],
        no_wrap=True,
    )
    for r in stats.extra["groups"]:
        pci = r["payback_ci"]
        t.add_row(
            *(MISSING if r[g] is None else str(r[g]) for g in groups),
            integer(r["spins"]),
            integer(r["free_spins"]),
            integer(r["hits"]),
            percent(r["hit_frequency"], 2),
            interval(percent(r["hit_frequency_ci"][0], 2), percent(r["hit_frequency_ci"][1], 2), style="spaced"),
            percent(r["payback"], 2),
            MISSING if pci is None else interval(percent(pci[0], 2), percent(pci[1], 2), style="spaced"),
            number(r["volatility"], 2, group=False),
        )
    return t


__all__ = ["bets_cmd", "bets_table", "slots_app"]
