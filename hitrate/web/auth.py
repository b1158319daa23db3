"""Who is asking: bearer tokens for the API, a signed session cookie for pages, CSRF tokens on forms, and a
limit on failed logins.

The session cookie is signed (itsdangerous, with a key made at start-up or given as ``HITRATE_SECRET``),
``HttpOnly``, ``SameSite=Lax``, and ``Secure`` when the request came over TLS. It holds the user name and the
session's CSRF token; every form carries that token and a POST without it is refused.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from hitrate.errors import HitrateError
from hitrate.store.users import User
from hitrate.web.data import StoreAccess, user_for_token, user_named

COOKIE = "hitrate_session"
SESSION_AGE = 8 * 3600
MAX_FAILURES = 5
FAILURE_WINDOW = 300.0


class NotAuthenticated(HitrateError):
    """No valid credentials (the API answers 401)."""


@dataclass
class LoginLimiter:
    """At most ``MAX_FAILURES`` failed logins per client address and per user name in ``FAILURE_WINDOW`` s."""

    failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self.lock:
            for key in keys:
                q = self.failures[key]
                while q and now - q[0] > FAILURE_WINDOW:
                    q.popleft()
                if len(q) >= MAX_FAILURES:
                    return True
        return False

    def failed(self, *keys: str) -> None:
        with self.lock:
            for key in keys:
                self.failures[key].append(time.monotonic())

    def succeeded(self, *keys: str) -> None:
        with self.lock:
            for key in keys:
                self.failures.pop(key, None)


class Sessions:
    """Signed session cookies: ``{"u": user name or None, "csrf": token, "lang": "en"|"da"}``."""

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
    """The signed-in account of a session, if it still exists."""
    name = session.get("u")
    return user_named(access, name) if isinstance(name, str) else None
