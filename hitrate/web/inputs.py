"""What every request's text must be before any route reads it: no NUL byte, no lone surrogate (text that cannot
be UTF-8), no value longer than :data:`MAX_VALUE` characters, and (on the API) no query parameter or JSON field
the operation does not know. Each is a 400 naming the parameter, never a 500 from deeper down."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from fastapi import Request

from hitrate.errors import UserInputError

#: The longest text a query parameter, form field or JSON string may hold (files are not limited here).
MAX_VALUE = 2000


class BadText(UserInputError):
    """A request's text the server refuses before reading it (400)."""


def check_text(where: str, value: str) -> None:
    """Refuse (:class:`BadText`) ``value`` of parameter ``where`` holding a NUL, a lone surrogate or too much."""
    if "\x00" in value:
        raise BadText("security.errors.nul", param=where)
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise BadText("security.errors.surrogate", param=where)
    if len(value) > MAX_VALUE:
        raise BadText("security.errors.too_long", param=where, n=len(value), maximum=MAX_VALUE)


def _pairs(raw: bytes) -> list[tuple[str, str]]:
    """A query string as text pairs; bytes that are not UTF-8 (raw or percent-encoded) are refused."""
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadText("security.errors.not_utf8", param="query") from None


def _strings(value: Any, where: str) -> None:
    if isinstance(value, str):
        check_text(where, value)
    elif isinstance(value, dict):
        for k, v in value.items():
            check_text(where, str(k))
            _strings(v, str(k))
    elif isinstance(value, list):
        for v in value:
            _strings(v, where)


async def clean_input(request: Request) -> None:
    """The app's first dependency: the checks of this module on the path, query string, and a JSON or form body;
    on an API route, query parameters it does not declare are refused too."""
    path = unquote_to_bytes(request.scope.get("raw_path") or request.url.path.encode())
    try:
        check_text("path", path.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadText("security.errors.not_utf8", param="path") from None
    pairs = _pairs(request.scope.get("query_string", b""))
    for name, value in pairs:
        check_text(name, name)
        check_text(name, value)
    _known_parameters(request, {name for name, _ in pairs})
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return  # the route's own validation answers 422
        _strings(body, "body")
    elif kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # FastAPI has read it already: this is its parsed copy
        for field, item in form.multi_items():
            if isinstance(item, str):
                check_text(field, item)


def _known_parameters(request: Request, names: set[str]) -> None:
    """On an API route (``/api/...``), refuse query parameters the operation does not declare."""
    route = request.scope.get("route")
    if route is None or not request.url.path.startswith("/api/") or not hasattr(route, "dependant"):
        return
    known: set[str] = set()
    stack = [route.dependant]
    while stack:  # the operation's own query parameters and those of its dependencies
        dependant = stack.pop()
        known |= {p.alias for p in dependant.query_params}
        stack += dependant.dependencies
    unknown = sorted(names - known)
    if unknown:
        from hitrate.i18n import Joined

        raise BadText("security.errors.unknown_parameter", names=Joined(unknown), known=Joined(sorted(known)))
