"""``hitrate digest``: each user's weekly summary by e-mail and/or to a chat webhook, once or ``--every week``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hitrate.cli.options import DbOpt, Format, FormatOpt, Lang, open_store, option
from hitrate.cli.output import emit, headers, language, say, table, text, user_errors
from hitrate.cli.schedule import every_interval

if TYPE_CHECKING:
    from hitrate.digest.deliver import DigestReport

#: Schedules ``--every`` takes besides an interval.
_WORDS = {"week": "7d", "weekly": "7d", "day": "1d", "daily": "1d"}


@user_errors
def digest_cmd(
    to: Annotated[list[str] | None, option("--to", help="cli_help.digest.to", show_default=False)] = None,
    smtp: Annotated[str | None, option("--smtp", help="cli_help.digest.smtp", show_default=False)] = None,
    sender: Annotated[str | None, option("--from", help="cli_help.digest.sender", show_default=False)] = None,
    smtp_insecure: Annotated[bool, option("--smtp-insecure", help="cli_help.digest.smtp_insecure")] = False,
    webhook: Annotated[str | None, option("--webhook", help="cli_help.digest.webhook", show_default=False)] = None,
    lang: Annotated[Lang | None, option("--lang", help="cli_help.digest.lang", show_default=False)] = None,
    as_of: Annotated[str | None, option("--as-of", help="cli_help.digest.as_of", show_default=False)] = None,
    dashboard_url: Annotated[
        str | None, option("--dashboard-url", help="cli_help.digest.dashboard_url", show_default=False)
    ] = None,
    resend: Annotated[bool, option("--resend", help="cli_help.digest.resend")] = False,
    every: Annotated[str | None, option("--every", help="cli_help.digest.every", show_default=False)] = None,
    runs: Annotated[int | None, option("--runs", help="cli_help.digest.runs", show_default=False, min=1)] = None,
    fmt: FormatOpt = Format.table,
    db: DbOpt = None,
) -> None:
    from hitrate.digest.deliver import SmtpSettings, check_webhook
    from hitrate.errors import UserInputError
    from hitrate.sync.schedule import parse_interval

    settings = SmtpSettings.parse(smtp, sender, insecure=smtp_insecure) if smtp else None
    hook = webhook or os.environ.get("HITRATE_DIGEST_WEBHOOK") or None
    if hook is not None:
        check_webhook(hook)
    if settings is None and hook is None:
        raise UserInputError("digest.no_channel")
    interval = None
    if every is not None:
        try:
            interval = parse_interval(_WORDS.get(every.strip().lower(), every))
        except UserInputError:
            raise UserInputError("digest.every_bad", value=every) from None
    link = dashboard_url or os.environ.get("HITRATE_DASHBOARD_URL") or None

    def once() -> DigestReport:
        from hitrate.digest.deliver import send_digest

        with open_store(db) as store:
            return send_digest(
                store,
                to=to,
                smtp=settings,
                webhook=hook,
                lang=lang.value if lang else language(),
                as_of=as_of,
                dashboard_url=link,
                resend=resend,
            )

    if interval is None:
        report = once()
        emit(report, fmt, _table, warnings=report.notes())  # each failure also as one line on stderr
        if report.count("failed"):
            raise typer.Exit(1)
        return
    every_interval(once, interval, runs, fmt)


def _table(report: DigestReport) -> Any:
    """One line per delivery, then the counts."""
    status = {"sent": "digest.sent_to", "already": "digest.already", "failed": "digest.failed_to"}
    rows = [
        [d.user, d.recipient, d.channel, text(status[d.status], recipient=d.recipient, channel=d.channel,
                                              period=report.period, error=d.error or "")]
        for d in report.deliveries
    ]  # fmt: skip
    heads = headers("cli.digest.user", "cli.digest.recipient", "cli.digest.channel", "cli.digest.status")
    return [table(text("digest.title"), heads, rows=rows), say(report.headline())]


__all__ = ["digest_cmd"]
