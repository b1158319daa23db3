"""Commands that run on a schedule (``hitrate sync --every``, ``hitrate digest --every``): each run's line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import Enum
from typing import Any

import typer

from hitrate.cli.output import flag_name, language, print_json, say, stderr, text, warn


def every_interval(once: Callable[[], Any], interval: float, runs: int | None, fmt: Enum) -> None:
    """Run ``once`` every ``interval`` seconds until Ctrl-C or ``runs`` runs: each run's counts (a line, or a JSON
    document per line) on stdout, a failed run's one-line error on stderr; the schedule goes on after a failure.
    Exit code 0 when stopped, 1 when ``runs`` was given and the last run failed."""
    from hitrate.errors import HitrateError
    from hitrate.sync.schedule import Run, run_every

    def on_run(item: Run[Any]) -> None:
        at = dt.datetime.fromtimestamp(item.started).isoformat(timespec="seconds")
        if item.error is not None:
            error = item.error
            line = error.render(language(), flag_name) if isinstance(error, HitrateError) else type(error).__name__
            stderr().print(text("cli.sync.run_failed", at=at, run=item.number, error=line), highlight=False)
            return
        report = item.result
        assert report is not None  # a run without an error has its report
        if fmt.value == "json":
            print_json({"run": item.number, "at": at, **report.to_dict()})
        else:
            typer.echo(text("cli.sync.run_line", at=at, run=item.number, line=say(report.headline())))
        warn(report.notes())

    try:
        done = run_every(once, interval, runs=runs, on_run=on_run, describe=lambda r: str(r.headline()))
    except KeyboardInterrupt:
        stderr().print(text("cli.sync.stopped"), highlight=False)
        return
    if runs is not None and done and done[-1].error is not None:
        raise typer.Exit(1)


__all__ = ["every_interval"]
