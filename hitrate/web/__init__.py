"""The web dashboard and REST API (``hitrate serve``): FastAPI on top of the library.

Layout: :mod:`.app` (the app factory), :mod:`.auth` (sessions, tokens, CSRF, login rate limit),
:mod:`.scoping` (what each role may see, applied where queries are built), :mod:`.data` (the library calls,
read-only store per request, results cached per data version), :mod:`.api` and :mod:`.pages` (routes),
:mod:`.i18n` (English and Danish). FastAPI, Jinja2 and argon2 are the ``web`` extra.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def create_app(*args: Any, **kwargs: Any) -> Any:
    """The FastAPI application serving a store; see :func:`hitrate.web.app.create_app`."""
    from hitrate.web.app import create_app as _create

    return _create(*args, **kwargs)
