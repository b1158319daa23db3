"""The ``hitrate`` command line: parse, call the library, emit. Nothing else lives here.

One module per family of commands, in the order ``hitrate --help`` lists them:

- :mod:`~hitrate.cli.data`: ``import``, ``presets``, ``quarantine``, ``definitions``, ``demo``, ``report``
- :mod:`~hitrate.cli.sync`: ``sync`` (a CRM's deals, once or on a schedule)
- :mod:`~hitrate.cli.analyse`: ``rates``, ``benchmark``, ``trend``, ``compare``, ``funnel``
- :mod:`~hitrate.cli.improve`: ``coach``, ``ramp``, ``worth``, ``outreach``, ``experiment``
- :mod:`~hitrate.cli.goals`: ``goals``, ``intervention``, ``feedback``, ``reasons``
- :mod:`~hitrate.cli.score`: ``score``
- :mod:`~hitrate.cli.domains`: ``bets``, ``slots``
- :mod:`~hitrate.cli.web`: ``serve``, ``users``

and two shared modules: :mod:`~hitrate.cli.options` (the options many commands take, and the data they open)
and :mod:`~hitrate.cli.output` (one way to print a result as a table, JSON or CSV; warnings and errors on
stderr; the words of the catalogues, namespaces ``cli`` and ``cli_help``).

Heavy libraries (Ibis, DuckDB, pandas) are imported inside the commands, so ``--help`` and light commands
start fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from hitrate.cli import analyse, data, digest, domains, forecast, goals, improve, score, sync, web
from hitrate.cli.options import Lang
from hitrate.cli.output import DEFAULT_LIMIT, flag_name, set_explain, set_language, set_limit, text

app = typer.Typer(
    name="hitrate",
    help=text("cli_help.app"),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: The top-level commands: name, function, help text.
COMMANDS: list[tuple[str, Callable[..., Any], str]] = [
    ("import", data.import_cmd, text("cli_help.import.help")),
    ("sync", sync.sync_cmd, text("cli_help.sync.help")),
    ("rates", analyse.rates_cmd, text("cli_help.rates.help")),
    ("benchmark", analyse.benchmark_cmd, text("cli_help.benchmark.help")),
    ("trend", analyse.trend_cmd, text("cli_help.trend.help")),
    ("compare", analyse.compare_cmd, text("cli_help.compare.help")),
    ("bets", domains.bets_cmd, text("cli_help.bets.help")),
    ("funnel", analyse.funnel_cmd, text("cli_help.funnel.help")),
    ("ramp", improve.ramp_cmd, text("cli_help.ramp.help")),
    ("coach", improve.coach_cmd, text("cli_help.coach.help")),
    ("worth", improve.worth_cmd, text("cli_help.worth.help")),
    ("outreach", improve.outreach_cmd, text("cli_help.outreach.help")),
    ("demo", data.demo_cmd, text("cli_help.demo.help")),
    ("report", data.report_cmd, text("cli_help.report.help")),
    ("doctor", data.doctor_cmd, text("doctor.help")),
    ("serve", web.serve_cmd, text("cli_help.serve.help")),
    ("reasons", goals.reasons_cmd, text("cli_help.reasons.help")),
    ("digest", digest.digest_cmd, text("cli_help.digest.help")),
]
#: The groups of subcommands, each a Typer app of its family's module.
GROUPS: list[tuple[str, typer.Typer]] = [
    ("users", web.users_app),
    ("presets", data.presets_app),
    ("quarantine", data.quarantine_app),
    ("score", score.score_app),
    ("definitions", data.definitions_app),
    ("experiment", improve.experiment_app),
    ("slots", domains.slots_app),
    ("goals", goals.goals_app),
    ("intervention", goals.intervention_app),
    ("feedback", goals.feedback_app),
    ("forecast", forecast.forecast_app),
]


@app.callback()
def _speak(
    lang: Annotated[
        Lang, typer.Option("--lang", envvar="HITRATE_LANG", help=text("cli_help.option.lang"), show_envvar=True)
    ] = Lang.en,
    explain: Annotated[
        bool,
        typer.Option("--explain", envvar="HITRATE_EXPLAIN", help=text("cli_help.option.explain"), show_envvar=True),
    ] = False,
    limit: Annotated[
        int,
        typer.Option("--limit", envvar="HITRATE_LIMIT", min=0, help=text("cli_help.option.limit"), show_envvar=True),
    ] = DEFAULT_LIMIT,
) -> None:
    """Every command speaks ``--lang`` (or ``HITRATE_LANG``): messages, tables, numbers and dates; with
    ``--explain`` (or ``HITRATE_EXPLAIN=1``) tables also show how their numbers are worked out; terminal tables
    show at most ``--limit`` rows (``HITRATE_LIMIT``; 0: all)."""
    set_language(lang.value)
    set_explain(explain)
    set_limit(limit)


for _name, _command, _help in COMMANDS:
    app.command(_name, help=_help)(_command)
for _name, _group in GROUPS:
    app.add_typer(_group, name=_name)


def main() -> None:
    """Entry point of the ``hitrate`` console script."""
    app()


__all__ = ["app", "flag_name", "main"]
