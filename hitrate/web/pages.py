"""The dashboard's pages: server-rendered HTML with the report's offline Plotly charts.

Every page asks :mod:`.data` for its numbers with the signed-in user, so the scope is applied where the
query is built; the templates only format what they are given.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hitrate.engine.query import month_so_far
from hitrate.errors import HitrateError, PermissionDeniedError
from hitrate.i18n import Message, ParamNames, render_all
from hitrate.i18n import format as fmt
from hitrate.store.users import User, check_password
from hitrate.web import data, i18n
from hitrate.web.auth import COOKIE, LoginLimiter, csrf_ok, end_sessions, session_user, set_cookie
from hitrate.web.csp import PAGE_CSP
from hitrate.web.downloads import FORMATS, Download, of_records, of_result, respond
from hitrate.web.scoping import scoped_where
from hitrate.web.units import in_force
from hitrate.web.uploads import UPLOAD_FIELDS, ImportOptions, import_options, import_uploads

router = APIRouter(include_in_schema=False)
NAV = (
    ("overview", "/"),
    ("benchmark", "/benchmark"),
    ("trends", "/trends"),
    ("rep", "/rep"),
    ("leads", "/leads"),
    ("goals", "/goals"),
    ("forecast", "/forecast"),
    ("reasons", "/reasons"),
    ("definitions", "/definitions"),
    ("doctor", "/doctor"),
    ("import", "/import"),
    ("sync", "/sync"),
)


class Page:
    """One request's page state: session, user, language, and the response cookie to write."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.app = request.app
        self.session: dict[str, Any] = self.app.state.sessions.load(request.cookies.get(COOKIE))
        asked = request.query_params.get("lang")
        self.lang = i18n.pick_lang(asked, self.session.get("lang"))
        self.dirty = COOKIE not in request.cookies or (asked in i18n.LANGS and asked != self.session.get("lang"))
        self.session["lang"] = self.lang
        self.t = i18n.words(self.lang)
        self.user: User | None = session_user(self.app.state.access, self.session)

    @property
    def access(self) -> data.StoreAccess:
        return self.app.state.access  # type: ignore[no-any-return]

    def here(self) -> list[tuple[str, str]]:
        """The page's query parameters (its filters), without a download's."""
        return [(k, v) for k, v in self.request.query_params.items() if k not in ("download", "format")]

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        keep = [(k, v) for k, v in self.here() if k != "lang"]
        html = self.app.state.templates.get_template(template).render(
            lang=self.lang, t=self.t, user=self.user, nav=NAV, csrf=self.session["csrf"], keep=keep, **context
        )
        # Every <script> the page holds is the server's (templates escape any text that could start one), so each
        # gets this response's nonce: the Content-Security-Policy runs those and no other inline script.
        nonce = secrets.token_urlsafe(16)
        html = html.replace("<script", f'<script nonce="{nonce}"')
        response = HTMLResponse(html, status_code=status)
        response.headers["Content-Security-Policy"] = PAGE_CSP.format(nonce=nonce)
        return self.finish(response)

    def show(self, name: str, status: int = 200, **context: Any) -> Response:
        """The page ``name`` (``page.html``), titled after it unless the context has a title."""
        context.setdefault("title", self.t[name])
        for shown in _downloadable(context):  # a CSV and an Excel link under each table that downloads
            query = [(k, v) for k, v in self.here() if k != "lang"]
            shown["links"] = [(f, "?" + urlencode([*query, ("download", shown["id"]), ("format", f)])) for f in FORMATS]
        return self.render("page.html", status, page=name, **context)

    def download(self, name: str, context: dict[str, Any], asked: str) -> Response:
        """The page's table ``asked`` as a file (``?format=csv`` or ``xlsx``): the tables the page itself computed,
        so within its scope and filters; 404 for a table the page does not have (or does not download)."""
        form = self.request.query_params.get("format", "csv")
        found = [shown["download"] for shown in _downloadable(context) if shown["id"] == asked]
        if not found or form not in FORMATS:
            return self.show(name, 404, **{**context, "message": self.t["no_download"]})
        team = context.get("team_selected") or ""
        return self.finish(
            respond(
                found[0],
                form,
                name="-".join(x for x in (name, asked, team) if x),
                lang=self.lang,
                command=str(self.request.url.remove_query_params(["download", "format"])),
                definitions=in_force(self.access),
                currency=data.currency(self.access),
            )
        )

    def error(self, name: str, exc: HitrateError, names: ParamNames = i18n.param_name, **context: Any) -> Response:
        """The page ``name`` saying what went wrong: 403 outside the user's scope, 400 for any other error (its
        parameters written as ``names`` says, the page's fields by default)."""
        if isinstance(exc, PermissionDeniedError):
            return self.show(name, 403, message=self.t["forbidden"], **context)
        return self.show(name, 400, message=i18n.error_text(exc, self.lang, names), **context)

    def finish(self, response: Response) -> Response:
        if self.dirty:
            set_cookie(response, self.request, self.app.state.sessions.dump(self.session))
        return response

    def refuse_form(self, name: str, csrf: str) -> Response | None:
        """The answer to a form sent to page ``name`` that may not go on: to the login page without a session,
        403 without the form's token; None when it may."""
        if self.user is None:
            return self.login_first(f"/{name}")
        if not csrf_ok(self.session, csrf):
            return self.show(name, 403, message=self.t["csrf"])
        return None

    def login_first(self, target: str | None = None) -> Response:
        """To the login page, and back to ``target`` (this page) after it."""
        return self.finish(RedirectResponse(f"/login?next={target or self.request.url.path}", status_code=303))


def method(p: Page, *parts: data.Computed | Message | str) -> list[str]:
    """The page's method block ("How this is worked out", one click away): each computation's method and each
    note of ``parts``, in the page's language."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, data.Computed):
            out += part.method(p.lang)
        elif part:
            out += render_all([part], p.lang)
    return out


def _downloadable(context: dict[str, Any]) -> list[dict[str, Any]]:
    """The page's tables and files that download."""
    shown = [*(context.get("tables") or []), *(context.get("files") or [])]
    return [t for t in shown if t.get("download") is not None]


def page(name: str) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., Response]]:
    """A signed-in page: the function returns the template context; errors become a message, not a 500."""

    def wrap(func: Callable[..., dict[str, Any]]) -> Callable[..., Response]:
        def view(request: Request) -> Response:
            p = Page(request)
            if p.user is None:
                return p.login_first()
            try:
                context = func(p)
            except HitrateError as exc:
                return p.error(name, exc)
            asked = request.query_params.get("download")
            if asked is not None:
                return p.download(name, context, asked)
            return p.show(name, **context)

        view.__name__, view.__doc__ = func.__name__, func.__doc__  # not functools.wraps: FastAPI reads the signature
        return view

    return wrap


def table(
    id: str,
    caption: str,
    headers: list[str],
    rows: list[list[Any]],
    empty: str | None = None,
    download: Download | None = None,
) -> dict[str, Any]:
    """A table of a page (``_tables.html``): its id, caption, column headers and rows of cells; ``empty`` is
    what it says when it has no row; ``download`` the data it downloads as (CSV and Excel links under it)."""
    return {"id": id, "caption": caption, "headers": headers, "rows": rows, "empty": empty, "download": download}


def _team_filter(p: Page) -> tuple[dict[str, list[str]], list[str], str]:
    """The ``?team=`` filter, and the team menu (a manager's teams; none for a rep). A team outside the user's
    scope is refused here (:class:`Forbidden`, a 403), as the queries it feeds would refuse it."""
    if p.user is None or p.user.role == "rep" or "team" not in data.fields(p.access):
        return {}, [], ""
    team = p.request.query_params.get("team", "")
    where = {"team": [team]} if team else {}
    scoped_where(p.user, where)
    teams = data.field_values(p.access, p.user, "team")
    return where, teams, team


def team_context(p: Page) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """The team filter's ``where`` and the page context of its menu (the teams, the one chosen)."""
    where, teams, team = _team_filter(p)
    return where, {"teams": teams, "team_selected": team}


def _login_page(p: Page, status: int = 200, error: str | None = None) -> Response:
    return p.render("login.html", status, title=p.t["login"], page="login", error=error)


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(Page(request))


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    p = Page(request)
    if not csrf_ok(p.session, csrf):
        return _login_page(p, 403, p.t["csrf"])
    limiter: LoginLimiter = request.app.state.limiter
    client = request.client.host if request.client else "?"
    wait = limiter.begin(username, client)  # counted now: concurrent guesses count
    if wait > 0:
        response = _login_page(p, 429, p.t["too_many"])
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response
    with p.access.reading() as store:
        user = check_password(store, username, password)
    if user is None:
        return _login_page(p, 401, p.t["bad_login"])
    limiter.succeeded(username, client)
    p.session = {"u": user.name, "v": user.session_version, "csrf": secrets.token_urlsafe(24), "lang": p.lang}
    p.dirty = True
    target = request.query_params.get("next", "/")
    return p.finish(RedirectResponse(target if target.startswith("/") and not target.startswith("//") else "/", 303))


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    p = Page(request)
    if csrf_ok(p.session, csrf):
        if p.user is not None:  # every session of the account ends, this one and any copy of its cookie
            end_sessions(p.access, p.user.name)
        p.session = {"u": None, "csrf": p.session["csrf"], "lang": p.lang}
        p.dirty = True
    return p.finish(RedirectResponse("/login", 303))


@router.get("/")
@page("overview")
def overview(p: Page) -> dict[str, Any]:
    """This month against last month and the same month last year, and the monthly series."""
    assert p.user is not None
    context, result, rows = _monthly_rows(p, data.rates_computed)
    if not rows:
        return {**context, "message": p.t["no_data"]}
    by_label = {r["period"]: r for r in rows}
    this = rows[-1]
    year, month = str(this["period"]).split("-", 1) if "-" in str(this["period"]) else (str(this["period"]), "")
    picks = [
        ("this_period", this),
        ("last_period", rows[-2] if len(rows) > 1 else None),
        ("last_year", by_label.get(f"{int(year) - 1}-{month}") if year.isdigit() else None),
    ]
    cards = [rate_card(p, p.t[key], row) for key, row in picks]
    so_far = month_so_far(str(this["period"]), data.as_of(p.access)) if month else None
    if so_far is not None:  # a month not over yet is marked, so it is not read as a whole one
        cards[0]["so_far"] = p.t("so_far", days=so_far[0], of=so_far[1])
    overall = sum(r["hits"] for r in rows) / max(1, sum(r["attempts"] for r in rows))
    sections = [monthly_section(p, rows, overall)]
    files = [file("monthly", p.t["monthly"], of_result(result))]
    return {
        **context,
        "cards": cards,
        "sections": section_contexts(sections, p.lang),
        "files": files,
        "method": method(p, result),
    }


def file(id: str, caption: str, download: Download) -> dict[str, Any]:
    """A download of a page's chart or section (a ``table`` shown by the report's template, not ``_tables.html``):
    its id, what it is, and the data (the CSV and Excel links)."""
    return {"id": id, "caption": caption, "download": download}


def _monthly_rows(p: Page, compute: Callable[..., data.Computed]) -> tuple[dict[str, Any], data.Computed, list[Any]]:
    """The team filter's context (the menu and the team chosen), ``compute``'s monthly result within it, and the
    result's months that have attempts."""
    assert p.user is not None
    where, context = team_context(p)
    result = compute(p.access, p.user, period="month", where=where)
    return context, result, [r for r in result.data["rows"] if r["attempts"]]


def rate_card(p: Page, title: str, row: dict[str, Any] | None, period: str | None = None) -> dict[str, str]:
    """A card: one hit rate in large type, with its period, interval and hits of attempts."""
    if row is None:
        return {"title": title, **dict.fromkeys(("period", "rate", "interval", "hits", "attempts"), fmt.MISSING)}
    return {
        "title": title,
        "period": period or fmt.period(str(row.get("period", "")), p.lang),
        "rate": fmt.percent(row["hit_rate"], p.lang),
        "interval": fmt.interval(row["ci_low"], row["ci_high"], p.lang),
        "hits": fmt.integer(row["hits"], p.lang),
        "attempts": fmt.integer(row["attempts"], p.lang),
    }


def monthly_section(p: Page, rows: list[dict[str, Any]], overall: float | None) -> Any:
    """The monthly series as a trend section, its band the 95% interval (a trend's rows have no amounts: those
    columns are shown as missing)."""
    import pandas as pd

    from hitrate.report import RateTable
    from hitrate.report.result import RATE_COLUMNS

    frame = pd.DataFrame(rows)
    for column in RATE_COLUMNS:
        if column not in frame.columns:
            frame[column] = float("nan")
    frame = frame[["period", *RATE_COLUMNS]]
    return RateTable(
        p.t["monthly"], frame, "period", "trend", overall, p.t["trend_note"], currency=data.currency(p.access)
    )


@router.get("/benchmark")
@page("benchmark")
def benchmark_page(p: Page) -> dict[str, Any]:
    """Funnel and caterpillar plots of reps, the quality index, and (for a rep) the anonymised peers. Sessions,
    bets and spins have no reps: the page says so (as the report leaves its rep benchmark out)."""
    import pandas as pd

    from hitrate.report import CaterpillarPlot, FunnelPlot

    assert p.user is not None
    where, context = team_context(p)
    defs = in_force(p.access)
    if not defs.sales:
        unit = Message(f"store_report.denominator_{defs.denominator}")
        return {**context, "message": p.t("no_reps", unit=unit)}
    adjust = [f for f in ("lead_source",) if f in data.fields(p.access)]
    computed = data.benchmark_computed(p.access, p.user, by="rep", adjust=adjust, where=where)
    bench = computed.data
    rows = bench["rows"]
    if not rows:
        return {**context, "message": p.t["no_data"]}
    frame = pd.DataFrame(rows)
    rate = float(bench["query"]["overall_rate"])
    sections = [
        FunnelPlot(p.t["funnel"], frame, "rep", rate, p.t["funnel_note"]),
        CaterpillarPlot(p.t["caterpillar"], frame, "rep", rate, p.t["caterpillar_note"]),
    ]
    tables = []
    if adjust:
        quality = [
            [
                r["rep"],
                fmt.integer(r["attempts"], p.lang),
                fmt.factor(r.get("quality_index"), p.lang),
                fmt.factor_interval(r.get("quality_low"), r.get("quality_high"), p.lang),
            ]
            for r in rows
        ]
        headers = [p.t["rep"], p.t["attempts"], p.t["quality_index"], p.t["interval"]]
        tables.append(table("quality", p.t["quality_caption"], headers, quality, download=of_result(computed)))
    peers = bench.get("peers")
    if peers and peers.get("hit_rate"):
        quantiles = [[q, fmt.percent(v, p.lang)] for q, v in peers["hit_rate"].items()]
        caption = p.t("peers_caption", n=peers["n"])
        records = [{"quantile": q, "hit_rate": v} for q, v in peers["hit_rate"].items()]
        download = of_records("peers", ("quantile", "hit_rate"), records, percent=["hit_rate"])
        tables.append(table("peers", caption, [p.t["quantile"], p.t["hit_rate"]], quantiles, download=download))
    files = [file("benchmark", p.t["funnel"], of_result(computed))]
    return {
        **context,
        "sections": section_contexts(sections, p.lang),
        "tables": tables,
        "files": files,
        "method": method(p, computed, p.t["caterpillar_method"]),
    }


@router.get("/trends")
@page("trends")
def trends_page(p: Page) -> dict[str, Any]:
    """The monthly series with its band, the seasonal view and cohort curves (a sales process's deals only:
    sessions, bets and spins are decided as they happen, so there is nothing to follow by age, as in the report)."""
    import pandas as pd

    from hitrate.report import CohortCurves, SeasonalPlot

    assert p.user is not None
    context, result, rows = _monthly_rows(p, data.trend_computed)
    if not rows:
        return {**context, "message": p.t["no_data"]}
    s = result.data["series"][0] if result.data["series"] else {}
    series = getattr(result.result, "series", [])
    note = render_all([series[0].get("note") or ""], p.lang)[0] if series else ""  # how the season was measured
    seasons = s.get("seasonal_factors") is not None

    def ints(d: Any) -> Any:
        return None if d is None else {int(k): float(v) for k, v in d.items()}

    sections: list[Any] = [
        monthly_section(p, rows, None),
        SeasonalPlot(
            p.t["seasonal"],
            pd.DataFrame(rows),
            "period",
            ints(s.get("seasonal_factors")),
            ints(s.get("seasonal_factor_low")),
            ints(s.get("seasonal_factor_high")),
            "" if seasons else note,  # why there are no factors, where there are none
        ),
    ]
    files = [file("trend", p.t["seasonal"], of_result(result))]
    if in_force(p.access).sales and "created_at" in data.fields(p.access):
        cohorts = data.cohorts_json(p.access, p.user, where=_team_filter(p)[0])
        curves = pd.DataFrame(cohorts)
        if len(curves):
            sections.append(CohortCurves(p.t["cohorts"], curves, "cohort", p.t["cohorts_note"]))
            records = [{str(k): v for k, v in r.items()} for r in curves.to_dict("records")]
            files.append(file("cohorts", p.t["cohorts"], of_records("cohorts", tuple(cohorts), records)))
    return {
        **context,
        "sections": section_contexts(sections, p.lang),
        "files": files,
        "method": method(p, result, note if seasons else ""),
    }


@router.get("/leads")
@page("leads")
def leads_page(p: Page) -> dict[str, Any]:
    """Scored open leads in the user's scope, by probability, with reasons."""
    from hitrate.scoring.reasons import reasons_text as reasons

    assert p.user is not None
    where, context = team_context(p)
    result = data.leads_json(p.access, p.user, where=where, limit=200)
    if not result["leads"]:
        return {**context, "message": p.t["no_leads"]}

    rows = [
        [
            r["id"],
            r.get("rep", ""),
            fmt.percent(r["probability"], p.lang),
            r["band"],
            reasons(r["up"]),
            reasons(r["down"]),
        ]
        for r in result["leads"]
    ]
    headers = [p.t["lead"], p.t["rep"], p.t["probability"], p.t["band"], p.t["reasons_up"], p.t["reasons_down"]]
    columns = ("id", "rep", "probability", "band", "up", "down", "scored_at")
    records = [{**r, "rep": r.get("rep"), "up": reasons(r["up"]), "down": reasons(r["down"])} for r in result["leads"]]
    download = of_records("leads", columns, records, percent=["probability"])
    leads = table("leads", p.t("leads_caption", n=result["total"]), headers, rows, download=download)
    return {**context, "tables": [leads]}


@router.get("/definitions")
@page("definitions")
def definitions_page(p: Page) -> dict[str, Any]:
    """The definitions in force (YAML) and every version put in force."""
    import yaml

    d = data.definitions_json(p.access)
    rows = [
        [v["seq"], v["hash"], v["source"], fmt.datetime(v["at"], p.lang), p.t["in_force"] if v["in_force"] else ""]
        for v in d["history"]
    ]
    columns = ("seq", "hash", "source", "at", "in_force")
    download = of_records("history", columns, d["history"])
    history = table(
        "history", p.t["history"], ["#", p.t["hash"], p.t["source"], p.t["at"], ""], rows, download=download
    )
    from hitrate.spec.model import Definitions
    from hitrate.spec.words import rules

    body = yaml.safe_dump(d["definitions"], allow_unicode=True, sort_keys=False)
    readable = rules(
        Definitions.model_validate(d["definitions"]), p.lang
    )  # the rules in words; the YAML one click away
    return {"message": p.t("in_force_hash", hash=d["hash"]), "rules": readable, "pre": body, "tables": [history]}


@router.get("/doctor")
@page("doctor")
def doctor_page(p: Page) -> dict[str, Any]:
    """``hitrate doctor`` over the deals in the user's scope: the findings with their counts, examples and what
    to do (the report's data-quality section)."""
    assert p.user is not None
    where, context = team_context(p)
    result = data.doctor_result(p.access, p.user, where=where)
    sections = result.sections(p.lang)
    return {
        **context,
        "message": p.t["doctor_note"],
        "sections": section_contexts(sections, p.lang),
        "files": [file("doctor", p.t["doctor"], of_result(data.Computed({}, result)))],
    }


@router.get("/import")
@page("import")
def import_page(p: Page) -> dict[str, Any]:
    """The upload form and the quarantine (admins)."""
    assert p.user is not None
    if p.user.role != "admin":
        return {"message": p.t["admins_only"]}
    return {"upload": {}, "tables": [_quarantine_table(p)]}


def _quarantine_table(p: Page) -> dict[str, Any]:
    from pathlib import Path

    q = data.quarantine_json(p.access, 200)
    records = [{**r, "source": Path(str(r["source"])).name} for r in q["rows"]]
    rows = [[r["source"], r["row"], r["column"] or "", r["reason"]] for r in records]
    headers = [p.t["file"], p.t["row"], p.t["column"], p.t["reason"]]
    download = of_records("quarantine", ("batch_id", "table", "source", "row", "column", "reason", "raw"), records)
    return table("quarantine", p.t("quarantine_caption", n=q["total"]), headers, rows, download=download)


@router.post("/import")
def import_upload(
    request: Request,
    files: Annotated[list[UploadFile], File()],
    options: Annotated[ImportOptions, Depends(import_options)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Import the uploaded files with the form's options (``hitrate import``'s, as ``POST /api/imports`` takes
    them); the form keeps what was typed, and an error is said in the page's language naming the form's fields."""
    p = Page(request)
    if (refused := p.refuse_form("import", csrf)) is not None:
        return refused
    assert p.user is not None
    if p.user.role != "admin":
        return p.show("import", 403, message=p.t["admins_only"])
    typed = _typed(options)
    try:
        uploaded = import_uploads(p.access, files, options)
    except HitrateError as exc:
        return p.error("import", exc, UPLOAD_FIELDS, upload=typed)
    report = uploaded.report
    counts = {k: report[k] for k in ("imported", "updated", "unchanged", "quarantined")}
    warnings = [[w.render(p.lang, UPLOAD_FIELDS)] for w in uploaded.warnings]
    tables = [table("warnings", p.t["upload_warnings"], [p.t["upload_warning"]], warnings)] if warnings else []
    # (an upload's warnings have no download: they are the answer to one POST, which a link cannot ask again)
    message = p.t("imported", **counts)
    return p.show("import", message=message, upload=typed, tables=[*tables, _quarantine_table(p)])


def _typed(options: ImportOptions) -> dict[str, Any]:
    """The form's fields as typed, to fill the form again (lists one item per line)."""
    typed: dict[str, Any] = options.kwargs()
    for name in ("map_items", "won", "lost"):
        typed[name] = "\n".join(typed[name] or [])
    return typed


def section_contexts(sections: list[Any], lang: str) -> list[dict[str, Any]]:
    """The report's sections as the pages draw them (``_section.html``, the report's own template)."""
    from hitrate.report._render import section_contexts as contexts

    return contexts(sections, lang)
