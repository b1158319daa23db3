"""The FastAPI application: the API, the pages, static assets (plotly.js bundled, no CDN), error mapping."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from hitrate.errors import HitrateError, StoreError, UserInputError
from hitrate.web.auth import LoginLimiter, Sessions
from hitrate.web.data import StoreAccess
from hitrate.web.scoping import Forbidden

STATIC = Path(__file__).parent / "static"


def create_app(db: str | Path | None = None, *, secret: str | None = None) -> FastAPI:
    """The dashboard and API over the store ``db`` (default ``$HITRATE_DB`` or ``./hitrate.duckdb``).

    The store is created or upgraded once here (a short write); afterwards the server opens it read-only per
    request. ``secret`` signs session cookies (default ``$HITRATE_SECRET``, else a random key per start).
    """
    import jinja2

    from hitrate._version import __version__
    from hitrate.store.embedded import Store, default_path
    from hitrate.web import api, improve, pages

    path = Path(db) if db is not None else default_path()
    with Store(path):
        pass
    app = FastAPI(
        title="hitrate",
        version=__version__,
        description="Hit rates, benchmarks, leads and definitions of a hitrate store, within your role's scope. "
        "Authenticate with `Authorization: Bearer <token>` (`hitrate users token NAME`).",
    )
    app.state.access = StoreAccess(path)
    app.state.sessions = Sessions(secret or os.environ.get("HITRATE_SECRET") or secrets.token_hex(32))
    app.state.limiter = LoginLimiter()
    app.state.templates = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.PackageLoader("hitrate.web", "templates"), jinja2.PackageLoader("hitrate.report", "templates")]
        ),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    app.include_router(api.router)
    app.include_router(improve.api_router)
    app.include_router(pages.router)
    app.include_router(improve.pages_router)
    _add_static(app)
    _add_errors(app)
    return app


def _add_static(app: FastAPI) -> None:
    from hitrate.report._render import plotly_js

    css = (STATIC / "hitrate.css").read_text(encoding="utf-8")
    headers = {"Cache-Control": "public, max-age=86400"}

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly() -> Response:
        return Response(plotly_js(), media_type="text/javascript", headers=headers)

    @app.get("/static/hitrate.css", include_in_schema=False)
    def stylesheet() -> Response:
        return Response(css, media_type="text/css", headers=headers)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def _add_errors(app: FastAPI) -> None:
    """User mistakes are 400 with the library's message (which names the field); scope is 403; a store
    locked by a CLI import for longer than the wait is 503."""

    @app.exception_handler(UserInputError)
    def user_error(request: Request, exc: UserInputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(Forbidden)
    def forbidden(request: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(StoreError)
    def store_error(request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(HitrateError)
    def other_error(request: Request, exc: HitrateError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    import duckdb

    @app.exception_handler(duckdb.IOException)
    def busy(request: Request, exc: duckdb.IOException) -> JSONResponse:
        if "lock" in str(exc).lower():
            return JSONResponse(
                {"detail": "the store is busy (another process is writing to it); try again"},
                status_code=503,
                headers={"Retry-After": "2"},
            )
        raise exc
