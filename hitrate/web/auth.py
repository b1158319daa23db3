"""Who is asking: bearer tokens for the API, a signed session cookie for pages, CSRF tokens on forms, and a
limit on failed logins.

The session cookie is signed (itsdangerous, with a key made at start-up or given as ``HITRATE_SECRET``),
``HttpOnly``, ``SameSite=Lax``, and ``Secure`` when the request came over TLS. It holds the user name and the
session's CSRF token; every form carries that token and a POST without it is refused. Failed sign-ins slow
down the client that makes them (:class:`LoginLimiter`); the client is the connection's address, or the one a
proxy named with ``hitrate serve --forwarded-allow-ips`` forwards (uvicorn reads ``X-Forwarded-For`` only then).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hitrate.errors import HitrateError
from hitrate.store.users import User
from hitrate.web.data import StoreAccess, user_for_token, user_named

COOKIE = "hitrate_session"
SESSION_AGE = 8 * 3600


class NotAuthenticated(HitrateError):
    """No valid credentials (the API answers 401)."""


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0


@dataclass
class LoginLimiter:
    """Exponential back-off on failed sign-ins, per (user name, client) and per client.

    A key's first ``free`` failures cost nothing; after that each attempt must wait ``BASE * 2 ** (n - free)``
    seconds (at most ``CAP``) from the last failure. Nothing is kept per user name alone, so a stranger's wrong
    passwords slow only the stranger's own client: the user signs in from theirs. An attempt is counted when it
    starts (:meth:`begin`, under the lock), before the password is checked, so concurrent guesses count; a right
    password takes back its own count (:meth:`succeeded`). Failures are forgotten ``FORGET`` seconds after the
    last one.
    """

    BASE = 1.0
    CAP = 900.0
    FORGET = 3600.0
    #: Failures free of back-off: per (user, client), and per client (which may try several names).
    FREE_PAIR = 5
    FREE_CLIENT = 20

    clock: Callable[[], float] = time.monotonic
    failures: dict[str, _Failures] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def keys(self, user: str, client: str) -> tuple[tuple[str, int], tuple[str, int]]:
        return (f"pair:{user}\x1f{client}", self.FREE_PAIR), (f"client:{client}", self.FREE_CLIENT)

    def begin(self, user: str, client: str) -> float:
        """Seconds to wait before ``user`` may try again from ``client`` (0: go on, the attempt is counted)."""
        now = self.clock()
        with self.lock:
            wait = 0.0
            for key, free in self.keys(user, client):
                f = self.failures.get(key)
                if f is not None and now - f.last > self.FORGET:
                    del self.failures[key]
                    f = None
                if f is not None and f.count >= free:
                    wait = max(wait, f.last + min(self.CAP, self.BASE * 2 ** (f.count - free)) - now)
            if wait > 0:
                return wait
            for key, _ in self.keys(user, client):
                f = self.failures.setdefault(key, _Failures())
                f.count += 1
                f.last = now
            return 0.0

    def succeeded(self, user: str, client: str) -> None:
        """The password was right: the pair starts afresh, the client's count loses this attempt."""
        with self.lock:
            (pair, _), (per_client, _) = self.keys(user, client)
            self.failures.pop(pair, None)
            f = self.failures.get(per_client)
            if f is not None:
                f.count = max(0, f.count - 1)


class Sessions:
    """Signed session cookies: ``{"u": user name or None, "v": the account's session version, "csrf": token,
    "lang": "en"|"da"}``."""

    def __init__(self, secret: str) -> None:
        from itsdangerous import URLSafeTimedSerializer

        self.signer = URLSafeTimedSerializer(secret, salt="hitrate-session")

    def load(self, cookie: str | None) -> dict[str, Any]:
        from itsdangerous import BadSignature

        if cookie:
            try:
                data = self.signer.loads(cookie, max_age=SESSION_AGE)
                if isinstance(data, dict) and isinstance(data.get("csrf"), str):
                    return data
            except BadSignature:
                pass
        return {"u": None, "csrf": secrets.token_urlsafe(24), "lang": "en"}

    def dump(self, session: dict[str, Any]) -> str:
        return str(self.signer.dumps(session))


def set_cookie(response: Any, request: Any, value: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure over TLS."""
    response.set_cookie(
        COOKIE,
        value,
        max_age=SESSION_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def csrf_ok(session: dict[str, Any], token: str | None) -> bool:
    """The form's token matches the session's (constant-time)."""
    return bool(token) and hmac.compare_digest(str(session.get("csrf", "")), str(token))


def bearer_user(access: StoreAccess, authorization: str | None) -> User:
    """The account of an ``Authorization: Bearer <token>`` header; :class:`NotAuthenticated` otherwise."""
    if not authorization:
        raise NotAuthenticated("web.errors.token_required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("web.errors.bearer_expected")
    user = user_for_token(access, token.strip())
    if user is None:
        raise NotAuthenticated("web.errors.token_unknown")
    return user


def session_user(access: StoreAccess, session: dict[str, Any]) -> User | None:
    """The signed-in account of a session, if it still exists and the session was made at the account's current
    session version (signing out, a new password, role or scope end every older session)."""
    name = session.get("u")
    user = user_named(access, name) if isinstance(name, str) else None
    if user is None or session.get("v") != user.session_version:
        return None
    return user


def end_sessions(access: StoreAccess, name: str) -> None:
    """End every session of the account ``name`` (one short write)."""
    from hitrate.store.users import end_sessions as end

    with access.writing() as store:
        end(store, name)
