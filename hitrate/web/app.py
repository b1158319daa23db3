"""The FastAPI application: the API, the pages, static assets (plotly.js bundled, no CDN), error mapping."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from hitrate.errors import HitrateError, PermissionDeniedError, StoreError
from hitrate.i18n import Message, text
from hitrate.web.auth import LoginLimiter, NotAuthenticated, Sessions
from hitrate.web.csp import DEFAULT_CSP, DOCS_CSP
from hitrate.web.data import StoreAccess
from hitrate.web.i18n import accepted_lang, error_text, param_name
from hitrate.web.inputs import clean_input
from hitrate.web.units import UnitWords

STATIC = Path(__file__).parent / "static"


def create_app(
    db: str | Path | None = None,
    *,
    secret: str | None = None,
    public_docs: bool = False,
    sync_api_bases: dict[str, str] | None = None,
    sync_credentials: str | Path | None = None,
    sync: Sequence[str] = (),
    sync_every: float = 3600.0,
) -> FastAPI:
    """The dashboard and API over the store ``db`` (default ``$HITRATE_DB`` or ``./hitrate.duckdb``).

    The store is created or upgraded once here (a short write); afterwards the server opens it read-only per
    request. ``secret`` signs session cookies (default ``$HITRATE_SECRET``, else a random key per start). The API
    documents (``/docs``, ``/redoc``, ``/openapi.json``) are for signed-in users and token holders only, unless
    ``public_docs``. ``sync_api_bases`` (CRM -> base URL) and ``sync_credentials`` (a credentials file) are what
    the syncs an admin starts on the CRM syncs page use (default: the vendors' URLs, the server's environment).
    ``sync`` names CRMs the server syncs itself while it runs: at start, then every ``sync_every`` seconds, in a
    background thread that holds no store connection while it fetches (readers keep seeing the last committed
    data); the schedule ends when the server stops.
    """
    import jinja2

    from hitrate._version import __version__
    from hitrate.store.embedded import Store, default_path
    from hitrate.sync.credentials import check_crm
    from hitrate.web import api, forecast, improve, pages, rep, syncs

    for crm in sync:
        check_crm(crm)
    path = Path(db) if db is not None else default_path()
    with Store(path):
        pass

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.syncs.schedule(list(sync), sync_every)
        try:
            yield
        finally:
            app.state.syncs.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="hitrate",
        version=__version__,
        description=text("web_api.about"),
        dependencies=[Depends(clean_input)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.access = StoreAccess(path)
    app.state.sessions = Sessions(secret or os.environ.get("HITRATE_SECRET") or secrets.token_hex(32))
    app.state.limiter = LoginLimiter()
    app.state.syncs = syncs.SyncRunner(app.state.access, api_bases=sync_api_bases, credentials_file=sync_credentials)
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
    app.include_router(rep.pages_router)
    app.include_router(forecast.api_router)
    app.include_router(forecast.pages_router)
    app.include_router(syncs.pages_router)
    _add_static(app)
    _add_docs(app, public_docs)
    _add_errors(app)
    app.add_middleware(UnitWords, access=app.state.access)
    return app


def _add_docs(app: FastAPI, public: bool) -> None:
    """``/openapi.json``, ``/docs`` and ``/redoc``: for a signed-in user or a valid bearer token (401, or to the
    sign-in page), or for anyone when ``public``. Swagger UI and ReDoc load their scripts from jsDelivr, which
    the Content-Security-Policy of these two pages allows (and no other page's)."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from fastapi.responses import RedirectResponse

    from hitrate.web.auth import COOKIE, bearer_user, session_user

    def allowed(request: Request) -> bool:
        if public:
            return True
        authorization = request.headers.get("authorization")
        if authorization:
            try:
                bearer_user(app.state.access, authorization)
            except NotAuthenticated:
                return False
            return True
        return session_user(app.state.access, app.state.sessions.load(request.cookies.get(COOKIE))) is not None

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(request: Request) -> Response:
        if not allowed(request):
            detail = Message("web.errors.token_required").render()
            return JSONResponse({"detail": detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return JSONResponse(app.openapi())

    def page(request: Request, html: Any) -> Response:
        if not allowed(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        html.headers["Content-Security-Policy"] = DOCS_CSP
        return html  # type: ignore[no-any-return]

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> Response:
        return page(request, get_swagger_ui_html(openapi_url="/openapi.json", title="hitrate"))

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> Response:
        return page(request, get_redoc_html(openapi_url="/openapi.json", title="hitrate"))


def _add_static(app: FastAPI) -> None:
    from hitrate.report._render import plotly_js

    css = (STATIC / "hitrate.css").read_text(encoding="utf-8")
    js = (STATIC / "hitrate.js").read_text(encoding="utf-8")
    headers = {"Cache-Control": "public, max-age=86400"}

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly() -> Response:
        return Response(plotly_js(), media_type="text/javascript", headers=headers)

    @app.get("/static/hitrate.css", include_in_schema=False)
    def stylesheet() -> Response:
        return Response(css, media_type="text/css", headers=headers)

    @app.get("/static/hitrate.js", include_in_schema=False)
    def script() -> Response:
        return Response(js, media_type="text/javascript", headers=headers)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", DEFAULT_CSP)
        return response


#: The answer to each kind of error, the first that fits: no credentials 401, outside the scope 403, a store
#: that refuses 409, any other error of hitrate (a user mistake) 400.
STATUS: tuple[tuple[type[HitrateError], int], ...] = (
    (NotAuthenticated, 401),
    (PermissionDeniedError, 403),
    (StoreError, 409),
    (HitrateError, 400),
)


def _add_errors(app: FastAPI) -> None:
    """hitrate's errors as JSON ``{"detail": ...}`` with the status of :data:`STATUS`, the message naming the
    parameters as the caller sent them (:func:`hitrate.web.i18n.param_name`, or the route's own names in
    ``request.state.param_names``), in the language the request's ``Accept-Language`` asks for (English or
    Danish; English by default); a store locked by a CLI import for longer than the wait is 503."""

    @app.exception_handler(HitrateError)
    def hitrate_error(request: Request, exc: HitrateError) -> JSONResponse:
        status = next(code for kind, code in STATUS if isinstance(exc, kind))
        names = getattr(request.state, "param_names", param_name)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        lang = accepted_lang(request.headers.get("accept-language"))
        return JSONResponse({"detail": error_text(exc, lang, names)}, status_code=status, headers=headers)

    import duckdb

    @app.exception_handler(duckdb.IOException)
    def busy(request: Request, exc: duckdb.IOException) -> JSONResponse:
        if "lock" in str(exc).lower():
            detail = Message("web.errors.store_busy").render()
            return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "2"})
        raise exc
