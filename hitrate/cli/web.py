"""The web face from the command line: ``serve`` (dashboard and REST API) and ``users`` (its accounts)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from hitrate.cli.options import DbOpt, option
from hitrate.cli.output import user_errors
from hitrate.cli.sync import Crm
from hitrate.cli.users import users_app


@user_errors
def serve_cmd(
    host: Annotated[str, option(help="cli_help.serve.host")] = "127.0.0.1",
    port: Annotated[int, option(help="cli_help.serve.port")] = 8000,
    forwarded_allow_ips: Annotated[
        str | None, option("--forwarded-allow-ips", help="security.cli_help.forwarded_allow_ips", show_default=False)
    ] = None,
    public_docs: Annotated[bool, option("--public-docs", help="security.cli_help.public_docs")] = False,
    sync: Annotated[list[Crm] | None, option("--sync", help="cli_help.serve.sync", show_default=False)] = None,
    sync_every: Annotated[str, option("--sync-every", help="cli_help.serve.sync_every")] = "1h",
    sync_api_base: Annotated[
        list[str] | None, option("--sync-api-base", help="cli_help.serve.sync_api_base", show_default=False)
    ] = None,
    sync_credentials: Annotated[
        Path | None, option("--sync-credentials", help="cli_help.serve.sync_credentials", show_default=False)
    ] = None,
    db: DbOpt = None,
) -> None:
    from hitrate.sync.schedule import parse_interval

    interval = parse_interval(sync_every)
    api_bases = _api_bases(sync_api_base or [])
    try:
        import uvicorn

        from hitrate.web import create_app
    except ImportError as exc:
        from hitrate.errors import MissingDependencyError

        raise MissingDependencyError("cli.serve.needs_web", error=str(exc)) from None
    if sync:  # each scheduled round's counts (or its error's one line) in the server's log
        import logging

        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s %(message)s"))
        logger = logging.getLogger("hitrate.sync")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    # X-Forwarded-For is believed only from the proxies named; without any, never (uvicorn trusts 127.0.0.1 by
    # default, so any local client could pose as any address to the sign-in limit).
    proxies = forwarded_allow_ips is not None
    uvicorn.run(
        create_app(
            db,
            public_docs=public_docs,
            sync=[crm.value for crm in sync or []],
            sync_every=interval,
            sync_api_bases=api_bases,
            sync_credentials=sync_credentials,
        ),
        host=host,
        port=port,
        log_level="info",
        server_header=False,
        proxy_headers=proxies,
        forwarded_allow_ips=forwarded_allow_ips if proxies else None,
    )


def _api_bases(pairs: list[str]) -> dict[str, str]:
    """``CRM=URL`` pairs as a mapping; a pair without ``=`` or of an unknown CRM is refused, naming it."""
    from hitrate.errors import InvalidValueError
    from hitrate.sync.credentials import check_crm

    bases = {}
    for pair in pairs:
        crm, sep, url = pair.partition("=")
        if not sep or not url.strip():
            raise InvalidValueError("sync.api_base_pair", parameter="sync_api_base", got=pair, value=pair)
        check_crm(crm.strip().lower())
        bases[crm.strip().lower()] = url.strip()
    return bases


__all__ = ["serve_cmd", "users_app"]
