"""Accounts of the web dashboard and API: users, roles, password hashes and API tokens, kept in the store.

Roles: ``admin`` sees everything; ``manager`` sees the teams they manage; ``rep`` sees their own rows.
Passwords are hashed with Argon2id (argon2-cffi, imported only when a password is set or checked); API
tokens are 32 random bytes, shown once and kept only as their SHA-256 (a token has full entropy, so a
fast hash is enough and lets a request find its account with one indexed lookup).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from hitrate.errors import NotFoundError, UserInputError
from hitrate.i18n import Joined, Param

if TYPE_CHECKING:
    from hitrate.store.embedded import Store

ROLES = ("admin", "manager", "rep")
MIN_PASSWORD = 8
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


@dataclass(frozen=True)
class User:
    """An account: who, which role, and the scope it may see (teams for a manager, a rep for a rep)."""

    name: str
    role: str
    teams: tuple[str, ...] = field(default=())
    rep: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "role": self.role, "teams": list(self.teams), "rep": self.rep}


def _check(name: str, role: str, teams: list[str], rep: str | None) -> None:
    if not _NAME.match(name):
        raise UserInputError("store.user_name", name=repr(name))
    if role not in ROLES:
        raise UserInputError("store.role_choice", param=Param("role"), role=repr(role), options=Joined(ROLES))
    if role == "manager" and not teams:
        raise UserInputError("store.manager_needs_teams", param=Param("role"), teams=Param("teams"))
    if role == "rep" and not rep:
        raise UserInputError("store.rep_needs_rep", param=Param("role"), rep=Param("rep"))


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` (argon2-cffi's defaults)."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def add_user(
    store: Store,
    name: str,
    role: str,
    *,
    teams: list[str] | None = None,
    rep: str | None = None,
    password: str | None = None,
) -> User:
    """Create or replace an account; without ``password`` it can use API tokens only."""
    teams = [t for t in (teams or []) if t]
    _check(name, role, teams, rep)
    if password is not None and len(password) < MIN_PASSWORD:
        raise UserInputError("store.password_short", minimum=MIN_PASSWORD)
    hashed = hash_password(password) if password is not None else None
    store.raw.execute(
        "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET role = excluded.role, "
        "teams = excluded.teams, rep = excluded.rep, password_hash = excluded.password_hash",
        [name, role, json.dumps(teams), rep, hashed, datetime.now(UTC).replace(tzinfo=None)],
    )
    return User(name, role, tuple(teams), rep)


def get_user(store: Store, name: str) -> User | None:
    """The account called ``name``, or None."""
    rows = store.raw.execute("SELECT name, role, teams, rep FROM users WHERE name = ?", [name]).fetchall()
    return _user(rows[0]) if rows else None


def list_users(store: Store) -> list[User]:
    """Every account, by name."""
    return [_user(r) for r in store.raw.execute("SELECT name, role, teams, rep FROM users ORDER BY name").fetchall()]


def _user(row: tuple[object, ...]) -> User:
    return User(
        str(row[0]), str(row[1]), tuple(json.loads(str(row[2] or "[]"))), None if row[3] is None else str(row[3])
    )


def new_token(store: Store, name: str) -> str:
    """A new API token for ``name`` (returned once; only its SHA-256 is kept)."""
    if get_user(store, name) is None:
        raise NotFoundError("store.no_such_user", name=repr(name))
    token = "hr_" + secrets.token_urlsafe(32)
    store.raw.execute(
        "INSERT INTO api_tokens VALUES (?, ?, ?)", [_digest(token), name, datetime.now(UTC).replace(tzinfo=None)]
    )
    return token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_for_token(store: Store, token: str) -> User | None:
    """The account an API token belongs to, or None."""
    digest = _digest(token)
    rows = store.raw.execute("SELECT token_sha256, name FROM api_tokens WHERE token_sha256 = ?", [digest]).fetchall()
    if not rows or not hmac.compare_digest(str(rows[0][0]), digest):
        return None
    return get_user(store, str(rows[0][1]))


_DUMMY_HASH: list[str] = []


def check_password(store: Store, name: str, password: str) -> User | None:
    """The account if ``password`` is right, else None; takes as long for an unknown name (no user probing)."""
    from argon2 import PasswordHasher
    from argon2.exceptions import VerifyMismatchError

    rows = store.raw.execute("SELECT password_hash FROM users WHERE name = ?", [name]).fetchall()
    stored = str(rows[0][0]) if rows and rows[0][0] is not None else None
    if stored is None:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hash_password(secrets.token_hex(8)))
        stored, known = _DUMMY_HASH[0], False
    else:
        known = True
    try:
        PasswordHasher().verify(stored, password)
    except VerifyMismatchError:
        return None
    except Exception:  # a malformed hash never lets anyone in
        return None
    return get_user(store, name) if known else None
