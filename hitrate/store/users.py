"""Accounts of the web dashboard and API: users, roles, password hashes and API tokens, kept in the store.

Roles: ``admin`` sees everything; ``manager`` sees the teams they manage; ``rep`` sees their own rows.
Passwords are hashed with Argon2id (argon2-cffi, imported only when a password is set or checked); API
tokens are 32 random bytes, shown once and kept only as their SHA-256 (a token has full entropy, so a
fast hash is enough and lets a request find its account with one indexed lookup).

Sessions end: each account has a ``session_version`` that a session cookie carries; signing out
(:func:`end_sessions`) raises it, so every cookie of the account stops working at once. Replacing an account
(another role, scope or password), :func:`set_password` and :func:`remove_user` raise it and delete the
account's API tokens too. A token expires (:data:`TOKEN_DAYS` by default), remembers when it was last used, and
can be listed (:func:`list_tokens`) and revoked (:func:`revoke_tokens`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from hitrate.errors import NotFoundError, UserInputError
from hitrate.i18n import Joined, Param

if TYPE_CHECKING:
    from hitrate.store.embedded import Store

ROLES = ("admin", "manager", "rep")
MIN_PASSWORD = 8
#: Days an API token is valid by default.
TOKEN_DAYS = 90
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
#: An e-mail address as a digest may be sent to: one ``local@domain.tld``, no spaces, no header breaks.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+")


def check_email(email: str) -> str:
    """``email`` when it is one plain address (``ann@example.com``), else :class:`~hitrate.errors.UserInputError`
    naming it: a name, a list or a line break (which could add mail headers) is refused."""
    if not _EMAIL.fullmatch(email) or len(email) > 254:
        raise UserInputError("store.email_bad", email=repr(email), param=Param("email"))
    return email


@dataclass(frozen=True)
class User:
    """An account: who, which role, and the scope it may see (teams for a manager, a rep for a rep)."""

    name: str
    role: str
    teams: tuple[str, ...] = field(default=())
    rep: str | None = None
    #: Raised whenever the account's sessions must end; a session cookie holds the version it was made at.
    session_version: int = 0
    #: Where the weekly digest goes (``hitrate digest``); None for no digest.
    email: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "role": self.role, "teams": list(self.teams), "rep": self.rep, "email": self.email}


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
    email: str | None = None,
) -> User:
    """Create or replace an account; without ``password`` it can use API tokens only; ``email`` is where its
    weekly digest goes. Replacing an account ends its sessions and deletes its tokens (the old ones were given
    for the old role, scope or password)."""
    teams = [t for t in (teams or []) if t]
    _check(name, role, teams, rep)
    if email is not None:
        check_email(email)
    if password is not None and len(password) < MIN_PASSWORD:
        raise UserInputError("store.password_short", minimum=MIN_PASSWORD)
    hashed = hash_password(password) if password is not None else None
    before = get_user(store, name)
    store.raw.execute(
        "INSERT INTO users (name, role, teams, rep, password_hash, created, session_version, email) "
        "VALUES (?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT (name) DO UPDATE SET role = excluded.role, "
        "teams = excluded.teams, rep = excluded.rep, password_hash = excluded.password_hash, email = excluded.email",
        [name, role, json.dumps(teams), rep, hashed, _now(), email],
    )
    if before is not None:
        end_sessions(store, name, tokens=True)
    user = get_user(store, name)
    assert user is not None
    return user


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def get_user(store: Store, name: str) -> User | None:
    """The account called ``name``, or None."""
    rows = store.raw.execute(f"SELECT {_COLUMNS} FROM users WHERE name = ?", [name]).fetchall()
    return _user(rows[0]) if rows else None


def list_users(store: Store) -> list[User]:
    """Every account, by name."""
    return [_user(r) for r in store.raw.execute(f"SELECT {_COLUMNS} FROM users ORDER BY name").fetchall()]


_COLUMNS = ", ".join(("name", "role", "teams", "rep", "session_version", "email"))


def _user(row: tuple[object, ...]) -> User:
    return User(
        str(row[0]),
        str(row[1]),
        tuple(json.loads(str(row[2] or "[]"))),
        None if row[3] is None else str(row[3]),
        int(str(row[4] or 0)),
        None if row[5] is None else str(row[5]),
    )


def set_email(store: Store, name: str, email: str | None) -> User:
    """Give ``name`` the digest address ``email`` (None: no digest); the account's sessions and tokens stay."""
    _known(store, name)
    if email is not None:
        check_email(email)
    store.raw.execute("UPDATE users SET email = ? WHERE name = ?", [email, name])
    user = get_user(store, name)
    assert user is not None
    return user


def _known(store: Store, name: str) -> None:
    if get_user(store, name) is None:
        raise NotFoundError("store.no_such_user", name=repr(name))


def end_sessions(store: Store, name: str, *, tokens: bool = False) -> None:
    """End every session of ``name`` (signing out); with ``tokens``, delete their API tokens too."""
    store.raw.execute("UPDATE users SET session_version = session_version + 1 WHERE name = ?", [name])
    if tokens:
        store.raw.execute("DELETE FROM api_tokens WHERE name = ?", [name])


def end_every_session(store: Store) -> int:
    """End every session of every account and delete every API token (the data they were given for is gone);
    the accounts and their passwords stay. Returns the number of accounts."""
    store.raw.execute("UPDATE users SET session_version = session_version + 1")
    store.raw.execute("DELETE FROM api_tokens")
    return store.count("users")


def set_password(store: Store, name: str, password: str) -> None:
    """A new password for ``name``; every session and token of the account ends."""
    _known(store, name)
    if len(password) < MIN_PASSWORD:
        raise UserInputError("store.password_short", minimum=MIN_PASSWORD)
    store.raw.execute("UPDATE users SET password_hash = ? WHERE name = ?", [hash_password(password), name])
    end_sessions(store, name, tokens=True)


def remove_user(store: Store, name: str) -> None:
    """Delete the account ``name`` and its tokens (its sessions end: no account, no session)."""
    _known(store, name)
    store.raw.execute("DELETE FROM api_tokens WHERE name = ?", [name])
    store.raw.execute("DELETE FROM users WHERE name = ?", [name])


@dataclass(frozen=True)
class TokenInfo:
    """What is known of an API token besides its secret: id, label, account, when made, last used, expiry."""

    token_id: str
    label: str
    name: str
    created: datetime
    last_used: datetime | None
    expires: datetime

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"id": self.token_id, "label": self.label, "name": self.name}
        for key in ("created", "last_used", "expires"):
            value = getattr(self, key)
            out[key] = None if value is None else value.isoformat(timespec="seconds")
        return out


def new_token(store: Store, name: str, *, days: int = TOKEN_DAYS, label: str = "token") -> str:
    """A new API token for ``name``, valid ``days`` days (returned once; only its SHA-256 is kept)."""
    _known(store, name)
    if not 1 <= days <= 3660:
        raise UserInputError("security.errors.token_days", param=Param("days"), days=days)
    if not _NAME.match(label):
        raise UserInputError("security.errors.token_label", param=Param("label"), label=repr(label))
    token = "hr_" + secrets.token_urlsafe(32)
    digest, now = _digest(token), _now()
    store.raw.execute(
        "INSERT INTO api_tokens (token_sha256, name, created, token_id, label, expires) VALUES (?, ?, ?, ?, ?, ?)",
        [digest, name, now, digest[:12], label, now + timedelta(days=days)],
    )
    return token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_TOKEN_COLUMNS = ", ".join(("token_id", "label", "name", "created", "last_used", "expires"))


def list_tokens(store: Store, name: str) -> list[TokenInfo]:
    """The API tokens of ``name``, oldest first (expired ones too, until revoked)."""
    _known(store, name)
    rows = store.raw.execute(
        f"SELECT {_TOKEN_COLUMNS} FROM api_tokens WHERE name = ? ORDER BY created, token_id", [name]
    ).fetchall()
    return [TokenInfo(*r) for r in rows]


def revoke_tokens(store: Store, name: str, token_id: str | None = None) -> int:
    """Delete the token ``token_id`` of ``name`` (every token of theirs when None); how many went."""
    _known(store, name)
    if token_id is None:
        return len(store.raw.execute("DELETE FROM api_tokens WHERE name = ? RETURNING 1", [name]).fetchall())
    gone = store.raw.execute(
        "DELETE FROM api_tokens WHERE name = ? AND token_id = ? RETURNING 1", [name, token_id]
    ).fetchall()
    if not gone:
        raise NotFoundError("security.errors.no_such_token", name=repr(name), id=repr(token_id))
    return len(gone)


def token_record(store: Store, token: str) -> tuple[User, TokenInfo] | None:
    """The account and the record of an API token (expired or not), or None for a token the store lacks."""
    digest = _digest(token)
    rows = store.raw.execute(
        f"SELECT token_sha256, {_TOKEN_COLUMNS} FROM api_tokens WHERE token_sha256 = ?", [digest]
    ).fetchall()
    if not rows or not hmac.compare_digest(str(rows[0][0]), digest):
        return None
    user = get_user(store, str(rows[0][3]))
    return None if user is None else (user, TokenInfo(*rows[0][1:]))


def user_for_token(store: Store, token: str, now: datetime | None = None) -> User | None:
    """The account an API token belongs to, or None (no such token, or it expired)."""
    found = token_record(store, token)
    if found is None or found[1].expires <= (now or _now()):
        return None
    return found[0]


def touch_token(store: Store, token_id: str, when: datetime | None = None) -> None:
    """Remember that the token ``token_id`` was used (``when``, default now)."""
    store.raw.execute("UPDATE api_tokens SET last_used = ? WHERE token_id = ?", [when or _now(), token_id])


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
