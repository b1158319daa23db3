"""The web face from the command line: ``serve`` (dashboard and REST API) and ``users`` (its accounts)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from hitrate.cli.options import DbOpt, Role, argument, open_store, option
from hitrate.cli.output import note, text, user_errors

users_app = typer.Typer(help=text("cli_help.users.help"), no_args_is_help=True)


@users_app.command("add", help=text("cli_help.users.add.help"))
@user_errors
def users_add(
    name: Annotated[str, argument("cli_help.users.add.name", show_default=False)],
    role: Annotated[Role, option(help="cli_help.users.add.role", show_default=False)],
    team: Annotated[list[str] | None, option(help="cli_help.users.add.team", show_default=False)] = None,
    rep: Annotated[str | None, option(help="cli_help.users.add.rep", show_default=False)] = None,
    password_stdin: Annotated[bool, option("--password-stdin", help="cli_help.users.add.password_stdin")] = False,
    db: DbOpt = None,
) -> None:
    from hitrate.errors import UserInputError
    from hitrate.store.users import add_user

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UserInputError("cli.users.no_password")
    with open_store(db) as store:
        user = add_user(store, name, role.value, teams=team or [], rep=rep, password=password)
    scopes = {
        "admin": text("cli.users.sees_everything"),
        "manager": text("cli.users.sees_teams", teams=user.teams),
        "rep": text("cli.users.sees_rep", rep=user.rep),
    }
    login = text("cli.users.password_and_tokens") if password else text("cli.users.tokens_only")
    note("cli.users.added", name=user.name, role=user.role, scope=scopes[user.role], login=login)


@users_app.command("token", help=text("cli_help.users.token.help"))
@user_errors
def users_token(
    name: Annotated[str, argument("cli_help.users.token.name", show_default=False)],
    db: DbOpt = None,
) -> None:
    from hitrate.store.users import new_token

    with open_store(db) as store:
        token = new_token(store, name)
    note("cli.users.token", name=name)
    typer.echo(token)


@user_errors
def serve_cmd(
    host: Annotated[str, option(help="cli_help.serve.host")] = "127.0.0.1",
    port: Annotated[int, option(help="cli_help.serve.port")] = 8000,
    db: DbOpt = None,
) -> None:
    try:
        import uvicorn

        from hitrate.web import create_app
    except ImportError as exc:
        from hitrate.errors import MissingDependencyError

        raise MissingDependencyError("cli.serve.needs_web", error=str(exc)) from None
    uvicorn.run(create_app(db), host=host, port=port, log_level="info")


__all__ = ["serve_cmd", "users_app"]
