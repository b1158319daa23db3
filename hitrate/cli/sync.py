"""``hitrate sync hubspot|pipedrive|salesforce``: a CRM's deals into the store, once or ``--every`` an interval."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hitrate.cli.data import import_table
from hitrate.cli.options import DbOpt, Format, FormatOpt, argument, open_store, option
from hitrate.cli.output import emit, flag_name, language, print_json, say, stderr, text, user_errors, warn

if TYPE_CHECKING:
    from hitrate.sync.report import SyncReport

Crm = Enum("Crm", [("hubspot", "hubspot"), ("pipedrive", "pipedrive"), ("salesforce", "salesforce")], type=str)


@user_errors
def sync_cmd(
    crm: Annotated[Crm, argument("cli_help.sync.crm", show_default=False)],
    api_base: Annotated[str | None, option("--api-base", help="cli_help.sync.api_base", show_default=False)] = None,
    credentials: Annotated[
        Path | None, option("--credentials", help="cli_help.sync.credentials", show_default=False)
    ] = None,
    full: Annotated[bool, option("--full", help="cli_help.sync.full")] = False,
    every: Annotated[str | None, option("--every", help="cli_help.sync.every", show_default=False)] = None,
    runs: Annotated[int | None, option("--runs", help="cli_help.sync.runs", show_default=False, min=1)] = None,
    timeout: Annotated[float, option("--timeout", help="cli_help.sync.timeout", min=0.001)] = 60.0,
    retries: Annotated[int, option("--retries", help="cli_help.sync.retries", min=0)] = 4,
    backoff: Annotated[float, option("--backoff", help="cli_help.sync.backoff", min=0.0)] = 1.0,
    rescore: Annotated[bool, option("--rescore/--no-rescore", help="cli_help.sync.rescore")] = True,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
) -> None:
    from hitrate.sync.client import RetryPolicy
    from hitrate.sync.schedule import parse_interval

    retry = RetryPolicy(attempts=retries + 1, backoff=backoff, max_wait=max(60.0, backoff), timeout=timeout)
    interval = parse_interval(every) if every is not None else None

    def once() -> SyncReport:
        from hitrate.sync.run import sync

        with open_store(db, create=True) as store:  # opened per run: between runs others may use the store
            return sync(
                store,
                crm.value,
                credentials_file=credentials,
                api_base=api_base,
                retry=retry,
                full=full,
                rescore=rescore,
            )

    if interval is None:
        report = once()
        emit(report, fmt, _table)
        warn(report.warnings)
        return
    _every(once, interval, runs, fmt)


def _every(once: Any, interval: float, runs: int | None, fmt: Enum) -> None:
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
        warn(report.warnings)

    try:
        done = run_every(once, interval, runs=runs, on_run=on_run, describe=lambda r: str(r.headline()))
    except KeyboardInterrupt:
        stderr().print(text("cli.sync.stopped"), highlight=False)
        return
    if runs is not None and done and done[-1].error is not None:
        raise typer.Exit(1)


def _table(report: SyncReport) -> list[Any]:
    """The sync as the import's table, then its own line: deleted deals, requests, cursor, scores refreshed."""
    lines = import_table(report.imports)
    lines.append(
        text(
            "cli.sync.details",
            deleted=report.deleted,
            requests=report.requests,
            seconds=f"{report.seconds:.1f}",
            mode=text("cli.sync.full" if report.full else "cli.sync.incremental"),
        )
    )
    if report.rescored:
        lines.append(text("cli.sync.rescored", n=report.rescored))
    return lines


__all__ = ["sync_cmd"]
