"""``hitrate sync hubspot|pipedrive|salesforce``: a CRM's deals into the store, once or ``--every`` an interval."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from hitrate.cli.data import import_table
from hitrate.cli.options import DbOpt, Format, FormatOpt, argument, open_store, option
from hitrate.cli.output import emit, progress_bar, text, user_errors, warn
from hitrate.cli.schedule import every_interval

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

        with open_store(db, create=True) as store, progress_bar(text("cli.progress.sync")) as progress:
            # opened per run: between runs others may use the store
            return sync(
                store,
                crm.value,
                credentials_file=credentials,
                api_base=api_base,
                retry=retry,
                full=full,
                rescore=rescore,
                stage=progress.stage,
            )

    if interval is None:
        report = once()
        emit(report, fmt, _table)
        warn(report.warnings)
        return
    every_interval(once, interval, runs, fmt)


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
