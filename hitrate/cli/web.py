"""The web face from the command line: ``serve`` (dashboard and REST API) and ``users`` (its accounts)."""

from __future__ import annotations

from typing import Annotated

from hitrate.cli.options import DbOpt, option
from hitrate.cli.output import user_errors
from hitrate.cli.users import users_app


@user_errors
def serve_cmd(
    host: Annotated[str, option(help="cli_help.serve.host")] = "127.0.0.1",
    port: Annotated[int, option(help="cli_help.serve.port")] = 8000,
    forwarded_allow_ips: Annotated[
        str | None, option("--forwarded-allow-ips", help="security.cli_help.forwarded_allow_ips", show_default=False)
    ] = None,
    public_docs: Annotated[bool, option("--public-docs", help="security.cli_help.public_docs")] = False,
    db: DbOpt = None,
) -> None:
    try:
        import uvicorn

        from hitrate.web import create_app
    except ImportError as exc:
        from hitrate.errors import MissingDependencyError

        raise MissingDependencyError("cli.serve.needs_web", error=str(exc)) from None
    # X-Forwarded-For is believed only from the proxies named; without any, never (uvicorn trusts 127.0.0.1 by
    # default, so any local client could pose as any address to the sign-in limit).
    proxies = forwarded_allow_ips is not None
    uvicorn.run(
        create_app(db, public_docs=public_docs),
        host=host,
        port=port,
        log_level="info",
        server_header=False,
        proxy_headers=proxies,
        forwarded_allow_ips=forwarded_allow_ips if proxies else None,
    )


__all__ = ["serve_cmd", "users_app"]
