"""``hitrate users``: the accounts of the web dashboard and API, their passwords, sessions and API tokens."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hitrate.cli.options import DbOpt, Format, FormatOpt, Role, argument, open_store, option
from hitrate.cli.output import emit, headers, note, table, text, user_errors

if TYPE_CHECKING:
    from hitrate.store.embedded import Store

users_app = typer.Typer(help=text("cli_help.users.help"), no_args_is_help=True)
NameArg = Annotated[str, argument("security.cli_help.name", show_default=False)]


@users_app.command("add", help=text("cli_help.users.add.help"))
@user_errors
def users_add(
    name: Annotated[str, argument("cli_help.users.add.name", show_default=False)],
    role: Annotated[Role, option(help="cli_help.users.add.role", show_default=False)],
    team: Annotated[list[str] | None, option(help="cli_help.users.add.team", show_default=False)] = None,
    rep: Annotated[str | None, option(help="cli_help.users.add.rep", show_default=False)] = None,
    password_stdin: Annotated[bool, option("--password-stdin", help="cli_help.users.add.password_stdin")] = False,
    email: Annotated[str | None, option("--email", help="cli_help.users.add.email", show_default=False)] = None,
    allow_unknown: Annotated[bool, option("--allow-unknown", help="security.cli_help.allow_unknown")] = False,
    db: DbOpt = None,
) -> None:
    from hitrate.errors import UserInputError
    from hitrate.store.users import add_user

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UserInputError("cli.users.no_password")
    with open_store(db, create=True) as store:
        if not allow_unknown:
            scope = [("rep", rep)] if role.value == "rep" and rep else []
            scope += [("team", t) for t in team or []] if role.value == "manager" else []
            for field, value in scope:
                _check_in_store(store, field, value)
        user = add_user(store, name, role.value, teams=team or [], rep=rep, password=password, email=email)
    scopes = {
        "admin": text("cli.users.sees_everything"),
        "manager": text("cli.users.sees_teams", teams=user.teams),
        "rep": text("cli.users.sees_rep", rep=user.rep),
    }
    login = text("cli.users.password_and_tokens") if password else text("cli.users.tokens_only")
    note("cli.users.added", name=user.name, role=user.role, scope=scopes[user.role], login=login)


def _check_in_store(store: Store, field: str, value: str) -> None:
    """Refuse a rep or team the store does not hold: such an account would see nothing, and nobody would know
    why. The message names the value and ``--allow-unknown``."""
    from hitrate.errors import NotFoundError, UserInputError
    from hitrate.i18n import Param
    from hitrate.improve.goals import check_subject

    try:
        check_subject(store, field, value)
    except (NotFoundError, UserInputError):
        raise UserInputError(
            "security.errors.unknown_scope", field=field, value=value, flag=Param("allow_unknown")
        ) from None


@users_app.command("email", help=text("cli_help.users.email.help"))
@user_errors
def users_email(
    name: Annotated[str, argument("cli_help.users.email.name", show_default=False)],
    address: Annotated[str | None, argument("cli_help.users.email.address", show_default=False)] = None,
    remove: Annotated[bool, option("--remove", help="cli_help.users.email.remove")] = False,
    db: DbOpt = None,
) -> None:
    from hitrate.errors import UserInputError
    from hitrate.store.users import set_email

    if (address is None) == (not remove):
        raise UserInputError("cli.users.email_or_remove")
    with open_store(db) as store:
        user = set_email(store, name, None if remove else address)
    if user.email:
        note("cli.digest.email_set", name=user.name, email=user.email)
    else:
        note("cli.digest.email_removed", name=user.name)


@users_app.command("token", help=text("cli_help.users.token.help"))
@user_errors
def users_token(
    name: Annotated[str, argument("cli_help.users.token.name", show_default=False)],
    days: Annotated[int, option(help="security.cli_help.days")] = 90,
    label: Annotated[str, option(help="security.cli_help.label")] = "token",
    db: DbOpt = None,
) -> None:
    from hitrate.store.users import new_token

    with open_store(db, create=True) as store:
        token = new_token(store, name, days=days, label=label)
    note("cli.users.token", name=name)
    typer.echo(token)


@users_app.command("tokens", help=text("security.cli_help.tokens"))
@user_errors
def users_tokens(name: NameArg, fmt: FormatOpt = Format.table, db: DbOpt = None) -> None:
    from hitrate.store.users import list_tokens

    with open_store(db) as store:
        tokens = list_tokens(store, name)

    def render(items: list[Any]) -> Any:
        keys = ("id", "label", "created", "last_used", "expires")
        heads = headers(*(f"security.cli.{k}" for k in keys))
        rows = [[str(t.to_dict()[k] or "") for k in keys] for t in items]
        return table(text("security.cli.tokens_of", name=name), heads, rows=rows)

    emit(tokens, fmt, render, data=[t.to_dict() for t in tokens])


@users_app.command("revoke", help=text("security.cli_help.revoke"))
@user_errors
def users_revoke(
    name: NameArg,
    token_id: Annotated[str | None, argument("security.cli_help.token_id", show_default=False)] = None,
    all_: Annotated[bool, option("--all", help="security.cli_help.all")] = False,
    db: DbOpt = None,
) -> None:
    from hitrate.errors import UserInputError
    from hitrate.i18n import Param
    from hitrate.store.users import revoke_tokens

    if (token_id is None) == (not all_):
        raise UserInputError("security.errors.revoke_which", id="TOKEN_ID", all=Param("all"))
    with open_store(db) as store:
        n = revoke_tokens(store, name, token_id)
    note("security.cli.revoked", n=n, name=name)


@users_app.command("list", help=text("security.cli_help.list"))
@user_errors
def users_list(fmt: FormatOpt = Format.table, db: DbOpt = None) -> None:
    from hitrate.store.users import list_users

    with open_store(db) as store:
        users = list_users(store)

    def render(items: list[Any]) -> Any:
        rows = [
            [u.name, u.role, ", ".join(u.teams) if u.role == "manager" else u.rep or "", u.email or ""] for u in items
        ]
        heads = headers("security.cli.name", "security.cli.role", "security.cli.scope", "security.cli.email")
        return table(text("security.cli.users"), heads, rows=rows)

    emit(users, fmt, render, data=[u.to_dict() for u in users])


@users_app.command("remove", help=text("security.cli_help.remove"))
@user_errors
def users_remove(name: NameArg, db: DbOpt = None) -> None:
    from hitrate.store.users import remove_user

    with open_store(db) as store:
        remove_user(store, name)
    note("security.cli.removed", name=name)


@users_app.command("passwd", help=text("security.cli_help.passwd"))
@user_errors
def users_passwd(name: NameArg, db: DbOpt = None) -> None:
    from hitrate.errors import UserInputError
    from hitrate.store.users import set_password

    if sys.stdin.isatty():
        password = typer.prompt(text("security.cli.new_password"), hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise UserInputError("security.errors.no_password")
    with open_store(db) as store:
        set_password(store, name, password)
    note("security.cli.password_set", name=name)
