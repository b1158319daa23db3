"""The dashboard's pages: server-rendered HTML with the report's offline Plotly charts.

Every page asks :mod:`.data` for its numbers with the signed-in user, so the scope is applied where the
query is built; the templates only format what they are given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hitrate.errors import HitrateError
from hitrate.store.users import User, check_password
from hitrate.web import data, i18n
from hitrate.web.auth import COOKIE, LoginLimiter, csrf_ok, session_user, set_cookie
from hitrate.web.scoping import Forbidden

router = APIRouter(include_in_schema=False)
NAV = (
    ("overview", "/"),
    ("benchmark", "/benchmark"),
    ("trends", "/trends"),
    ("rep", "/rep"),
    ("leads", "/leads"),
    ("goals", "/goals"),
    ("reasons", "/reasons"),
    ("definitions", "/definitions"),
    ("import", "/import"),
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
        self.t = i18n.text(self.lang)
        self.user: User | None = session_user(self.app.state.access, self.session)

    @property
    def access(self) -> data.StoreAccess:
        return self.app.state.access  # type: ignore[no-any-return]

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        keep = [(k, v) for k, v in self.request.query_params.items() if k != "lang"]
        html = self.app.state.templates.get_template(template).render(
            lang=self.lang, t=self.t, user=self.user, nav=NAV, csrf=self.session["csrf"], keep=keep, **context
        )
        return self.finish(HTMLResponse(html, status_code=status))

    def finish(self, response: Response) -> Response:
        if self.dirty:
            set_cookie(response, self.request, self.app.state.sessions.dump(self.session))
        return response


def page(name: str) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., Response]]:
    """A signed-in page: the function returns the template context; errors become a message, not a 500."""

    def wrap(func: Callable[..., dict[str, Any]]) -> Callable[..., Response]:
        def view(request: Request) -> Response:
            p = Page(request)
            if p.user is None:
                return p.finish(RedirectResponse(f"/login?next={request.url.path}", status_code=303))
            try:
                context = func(p)
            except Forbidden:
                return p.render("page.html", 403, title=p.t[name], page=name, message=p.t["forbidden"])
            except HitrateError as exc:
                return p.render("page.html", 400, title=p.t[name], page=name, message=str(exc))
            context.setdefault("title", p.t[name])
            return p.render("page.html", page=name, **context)

        view.__name__, view.__doc__ = func.__name__, func.__doc__  # not functools.wraps: FastAPI reads the signature
        return view

    return wrap


def _team_filter(p: Page) -> tuple[dict[str, list[str]], list[str], str]:
    """The ``?team=`` filter (validated by the user's scope in :mod:`.data`), and the team menu."""
    if p.user is None or p.user.role == "rep" or "team" not in data.fields(p.access):
        return {}, [], ""
    team = p.request.query_params.get("team", "")
    teams = data.field_values(p.access, p.user, "team")
    return ({"team": [team]} if team else {}), teams, team


@router.get("/login")
def login_form(request: Request) -> Response:
    p = Page(request)
    return p.render("login.html", title=p.t["login"], page="login")


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    p = Page(request)
    if not csrf_ok(p.session, csrf):
        return p.render("login.html", 403, title=p.t["login"], page="login", error="CSRF")
    limiter: LoginLimiter = request.app.state.limiter
    keys = (f"ip:{request.client.host if request.client else '?'}", f"user:{username}")
    if limiter.blocked(*keys):
        return p.render("login.html", 429, title=p.t["login"], page="login", error=p.t["too_many"])
    with p.access.reading() as store:
        user = check_password(store, username, password)
    if user is None:
        limiter.failed(*keys)
        return p.render("login.html", 401, title=p.t["login"], page="login", error=p.t["bad_login"])
    limiter.succeeded(*keys)
    import secrets

    p.session = {"u": user.name, "csrf": secrets.token_urlsafe(24), "lang": p.lang}  # a new session id
    p.dirty = True
    target = request.query_params.get("next", "/")
    return p.finish(RedirectResponse(target if target.startswith("/") and not target.startswith("//") else "/", 303))


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    p = Page(request)
    if csrf_ok(p.session, csrf):
        p.session = {"u": None, "csrf": p.session["csrf"], "lang": p.lang}
        p.dirty = True
    return p.finish(RedirectResponse("/login", 303))


@router.get("/")
@page("overview")
def overview(p: Page) -> dict[str, Any]:
    """This month against last month and the same month last year, and the monthly series."""
    from hitrate.report import RateTable

    assert p.user is not None
    where, teams, team = _team_filter(p)
    result = data.rates_json(p.access, p.user, period="month", where=where)
    rows = [r for r in result["rows"] if r["attempts"]]
    if not rows:
        return {"teams": teams, "team_selected": team, "message": p.t["no_data"]}
    by_label = {r["period"]: r for r in rows}
    this = rows[-1]
    year, month = str(this["period"]).split("-", 1) if "-" in str(this["period"]) else (str(this["period"]), "")
    picks = [
        ("this_period", this),
        ("last_period", rows[-2] if len(rows) > 1 else None),
        ("last_year", by_label.get(f"{int(year) - 1}-{month}") if year.isdigit() else None),
    ]
    cards = [_card(p, key, row) for key, row in picks]
    frame = _frame(rows, ["period"])
    overall = sum(r["hits"] for r in rows) / max(1, sum(r["attempts"] for r in rows))
    sections = [RateTable(p.t["trend"], frame, "period", "trend", overall, p.t["trend_note"])]
    return {"teams": teams, "team_selected": team, "cards": cards, "sections": _contexts(sections, p.lang)}


def _card(p: Page, key: str, row: dict[str, Any] | None) -> dict[str, str]:
    if row is None:
        return {"title": p.t[key], "period": "–", "rate": "–", "interval": "–", "hits": "–", "attempts": "–"}
    return {
        "title": p.t[key],
        "period": str(row.get("period", "")),
        "rate": i18n.pct(row["hit_rate"], p.lang),
        "interval": i18n.interval(row["ci_low"], row["ci_high"], p.lang),
        "hits": i18n.count(row["hits"], p.lang),
        "attempts": i18n.count(row["attempts"], p.lang),
    }


def _frame(rows: list[dict[str, Any]], labels: list[str]) -> Any:
    import pandas as pd

    from hitrate.report.result import RATE_COLUMNS

    frame = pd.DataFrame(rows)
    for column in RATE_COLUMNS:  # a trend's rows have no amounts: shown as missing
        if column not in frame.columns:
            frame[column] = float("nan")
    return frame[[*labels, *RATE_COLUMNS]]


def _contexts(sections: list[Any], lang: str) -> list[dict[str, Any]]:
    from markupsafe import Markup

    from hitrate.report._render import section_contexts

    out = section_contexts(sections, lang)
    for section in out:
        for block in section["blocks"]:
            if block.get("type") == "figure":
                block["html"] = Markup(block["html"])
    return out


@router.get("/benchmark")
@page("benchmark")
def benchmark_page(p: Page) -> dict[str, Any]:
    """Funnel and caterpillar plots of reps, the quality index, and (for a rep) the anonymised peers."""
    import pandas as pd

    from hitrate.report import CaterpillarPlot, FunnelPlot

    assert p.user is not None
    where, teams, team = _team_filter(p)
    adjust = [f for f in ("lead_source",) if f in data.fields(p.access)]
    bench = data.benchmark_json(p.access, p.user, by="rep", adjust=adjust, where=where)
    rows = bench["rows"]
    context: dict[str, Any] = {"teams": teams, "team_selected": team}
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
        tables.append(
            {
                "id": "quality",
                "caption": f"{p.t['quality']}: {p.t['quality_note']}",
                "headers": [p.t["rep"], p.t["attempts"], "index", p.t["interval"]],
                "rows": [
                    [
                        r["rep"],
                        i18n.count(r["attempts"], p.lang),
                        _factor(r.get("quality_index"), p.lang),
                        f"{_factor(r.get('quality_low'), p.lang)}–{_factor(r.get('quality_high'), p.lang)}",
                    ]
                    for r in rows
                ],
            }
        )
    peers = bench.get("peers")
    if peers and peers.get("hit_rate"):
        tables.append(
            {
                "id": "peers",
                "caption": f"{p.t['peers']}: {p.t['peers_note'].format(n=peers['n'])}",
                "headers": [p.t["quantile"], p.t["hit_rate"]],
                "rows": [[q, i18n.pct(v, p.lang)] for q, v in peers["hit_rate"].items()],
            }
        )
    return {**context, "sections": _contexts(sections, p.lang), "tables": tables}


def _factor(value: Any, lang: str) -> str:
    from hitrate.report._i18n import fmt_factor

    return fmt_factor(value, lang)


@router.get("/trends")
@page("trends")
def trends_page(p: Page) -> dict[str, Any]:
    """The monthly series with its band, the seasonal view and cohort curves."""
    import pandas as pd

    from hitrate.report import CohortCurves, RateTable, SeasonalPlot

    assert p.user is not None
    where, teams, team = _team_filter(p)
    result = data.trend_json(p.access, p.user, period="month", where=where)
    rows = [r for r in result["rows"] if r["attempts"]]
    context: dict[str, Any] = {"teams": teams, "team_selected": team}
    if not rows:
        return {**context, "message": p.t["no_data"]}
    frame = pd.DataFrame(rows)
    s = result["series"][0] if result["series"] else {}

    def ints(d: Any) -> Any:
        return None if d is None else {int(k): float(v) for k, v in d.items()}

    sections: list[Any] = [
        RateTable(p.t["trend"], _frame(rows, ["period"]), "period", "trend", None, p.t["trend_note"]),
        SeasonalPlot(
            p.t["seasonal"],
            frame,
            "period",
            ints(s.get("seasonal_factors")),
            ints(s.get("seasonal_factor_low")),
            ints(s.get("seasonal_factor_high")),
            s.get("note", ""),
        ),
    ]
    if "created_at" in data.fields(p.access):
        curves = pd.DataFrame(data.cohorts_json(p.access, p.user, where=where))
        if len(curves):
            sections.append(CohortCurves(p.t["cohorts"], curves, "cohort", p.t["cohorts_note"]))
    return {**context, "sections": _contexts(sections, p.lang)}


@router.get("/rep")
@page("rep")
def rep_page(p: Page) -> dict[str, Any]:
    """One rep's card: their rate by month, and where they stand (peers anonymised for a rep)."""
    assert p.user is not None
    reps = data.field_values(p.access, p.user, "rep")
    rep = p.user.rep if p.user.role == "rep" else p.request.query_params.get("rep") or (reps[0] if reps else "")
    if not rep:
        return {"message": p.t["no_data"]}
    if rep not in reps:
        raise Forbidden(f"rep {rep}: not in your scope")
    result = data.rates_json(p.access, p.user, period="month", where={"rep": [rep]})
    rows = [r for r in result["rows"] if r["attempts"]]
    if not rows:
        return {"title": p.t["rep_card"].format(rep=rep), "message": p.t["no_data"]}
    from hitrate.report import RateTable

    total = data.rates_json(p.access, p.user, where={"rep": [rep]})["rows"][0]
    cards = [{**_card(p, "hit_rate", total), "period": f"{rows[0]['period']} – {rows[-1]['period']}"}]
    section = RateTable(p.t["trend"], _frame(rows, ["period"]), "period", "trend", total["hit_rate"], p.t["trend_note"])
    sections: list[Any] = [section]
    tables: list[dict[str, Any]] = []
    message = None
    try:
        card = data.coach_json(p.access, p.user, rep)
    except HitrateError as exc:  # e.g. a rep without peers: the rest of the page still shows
        message = p.t["coach_error"].format(error=exc)
    else:
        from hitrate.improve.coach_card import card_sections

        tables += _coach_tables(p, card)
        sections += [s for s in card_sections(card, p.lang) if s.kind != "trend"]  # the page has a monthly one
    if p.user.role != "rep":
        tables.append(
            {
                "id": "reps",
                "caption": p.t["choose_rep"],
                "headers": [p.t["rep"]],
                "rows": [[r] for r in reps],
            }
        )
    return {
        "title": p.t["rep_card"].format(rep=rep),
        "cards": cards,
        "sections": _contexts(sections, p.lang),
        "tables": tables,
        "message": message,
    }


@router.get("/coach/{rep}")
def coach_page(request: Request, rep: str) -> Response:
    """The rep card at its own address: the Rep page for that rep (the scope is checked there)."""
    from urllib.parse import urlencode

    return RedirectResponse(f"/rep?{urlencode({'rep': rep})}", status_code=303)


def _coach_tables(p: Page, card: dict[str, Any]) -> list[dict[str, Any]]:
    """The rep card's statements, stage conversions, activity mix and segments as page tables."""
    from hitrate.improve.coach import statements

    lang = p.lang

    def conv(c: dict[str, Any]) -> str:
        return f"{i18n.count(c['advanced'], lang)}/{i18n.count(c['reached'], lang)} = {i18n.pct(c['conversion'], lang)}"

    def diff(r: dict[str, Any]) -> str:
        if r.get("difference") is None:
            return "–"
        pts = [f"{100 * r[k]:+.1f}" for k in ("difference", "difference_low", "difference_high")]
        text = f"{pts[0]} ({pts[1]} – {pts[2]})"
        return text.replace(".", ",") if lang == "da" else text

    def per(x: dict[str, Any]) -> str:
        v = x.get("per_opportunity")
        text = "–" if v is None else f"{v:.2f}"
        return text.replace(".", ",") if lang == "da" else text

    weak = (card.get("weak_stage") or {}).get("stage")
    out = [
        {
            "id": "coach",
            "caption": p.t["coach"],
            "headers": [p.t["rep_card"].format(rep=card["rep"])],
            "rows": [[line] for line in statements(card, lang)],
        }
    ]
    if card["stages"]:
        out.append(
            {
                "id": "stages",
                "caption": p.t["coach_stages"],
                "headers": [
                    p.t["stage"],
                    p.t["to_stage"],
                    p.t["rep"],
                    p.t["peers_col"],
                    p.t["difference"],
                    p.t["lost_here"],
                ],
                "rows": [
                    [
                        r["stage"] + (f" ({p.t['weak_stage']})" if r["stage"] == weak else ""),
                        r["to"],
                        f"{conv(r)} ({i18n.interval(r['conversion_low'], r['conversion_high'], lang)})",
                        conv(r["peers"]),
                        diff(r),
                        i18n.count(r["lost_here"], lang),
                    ]
                    for r in card["stages"]
                ],
            }
        )
    if card["activities"]:
        out.append(
            {
                "id": "activities",
                "caption": p.t["coach_activities"],
                "headers": [p.t["activity"], p.t["rep"], p.t["peers_col"], p.t["best"]],
                "rows": [[r["type"], per(r["rep"]), per(r["peers"]), per(r["best"])] for r in card["activities"]],
            }
        )
    for f, rows in card["segments"].items():
        out.append(
            {
                "id": f"segments-{f}",
                "caption": p.t["coach_segments"].format(field=f),
                "headers": [f, p.t["rep"], p.t["peers_col"], p.t["difference"]],
                "rows": [
                    [
                        str(r[f]),
                        f"{i18n.count(r['hits'], lang)}/{i18n.count(r['attempts'], lang)} = "
                        f"{i18n.pct(r['hit_rate'], lang)}",
                        f"{i18n.count(r['peers']['hits'], lang)}/{i18n.count(r['peers']['attempts'], lang)} = "
                        f"{i18n.pct(r['peers']['hit_rate'], lang)}",
                        diff(r),
                    ]
                    for r in rows
                ],
            }
        )
    return out


@router.get("/leads")
@page("leads")
def leads_page(p: Page) -> dict[str, Any]:
    """Scored open leads in the user's scope, by probability, with reasons."""
    assert p.user is not None
    where, teams, team = _team_filter(p)
    result = data.leads_json(p.access, p.user, where=where, limit=200)
    if not result["leads"]:
        return {"teams": teams, "team_selected": team, "message": p.t["no_leads"]}

    def reasons(items: list[dict[str, Any]]) -> str:
        return "; ".join(f"{f['feature']}={f['value']}" for f in items)

    rows = [
        [r["id"], r.get("rep", ""), i18n.pct(r["probability"], p.lang), r["band"], reasons(r["up"]), reasons(r["down"])]
        for r in result["leads"]
    ]
    headers = [p.t["lead"], p.t["rep"], p.t["probability"], p.t["band"], p.t["reasons_up"], p.t["reasons_down"]]
    table = {"id": "leads", "caption": f"{result['total']}", "headers": headers, "rows": rows}
    return {"teams": teams, "team_selected": team, "tables": [table]}


@router.get("/definitions")
@page("definitions")
def definitions_page(p: Page) -> dict[str, Any]:
    """The definitions in force (YAML) and every version put in force."""
    import yaml

    d = data.definitions_json(p.access)
    history = {
        "id": "history",
        "caption": p.t["history"],
        "headers": ["#", p.t["hash"], p.t["source"], p.t["at"], ""],
        "rows": [
            [v["seq"], v["hash"], v["source"], i18n.date(v["at"], p.lang), p.t["in_force"] if v["in_force"] else ""]
            for v in d["history"]
        ],
    }
    body = yaml.safe_dump(d["definitions"], allow_unicode=True, sort_keys=False)
    return {"message": f"{p.t['in_force']}: {p.t['hash']} {d['hash']}", "pre": body, "tables": [history]}


@router.get("/import")
@page("import")
def import_page(p: Page) -> dict[str, Any]:
    """The upload form and the quarantine (admins)."""
    assert p.user is not None
    if p.user.role != "admin":
        return {"message": p.t["admins_only"]}
    return {"upload": True, "tables": [_quarantine_table(p)]}


def _quarantine_table(p: Page) -> dict[str, Any]:
    from pathlib import Path

    q = data.quarantine_json(p.access, 200)
    return {
        "id": "quarantine",
        "caption": f"{p.t['quarantine']}: {i18n.count(q['total'], p.lang)}",
        "headers": [p.t["file"], p.t["row"], p.t["column"], p.t["reason"]],
        "rows": [[Path(str(r["source"])).name, r["row"], r["column"] or "", r["reason"]] for r in q["rows"]],
    }


@router.post("/import")
def import_upload(
    request: Request,
    files: Annotated[list[UploadFile], File()],
    csrf: Annotated[str, Form(max_length=100)] = "",
    preset: Annotated[str, Form(pattern=r"^[a-z0-9_-]{0,40}$")] = "",
) -> Response:
    from hitrate.web.api import import_uploads

    p = Page(request)
    title = p.t["import"]
    if p.user is None:
        return p.finish(RedirectResponse("/login", 303))
    if not csrf_ok(p.session, csrf):
        return p.render("page.html", 403, title=title, page="import", message="CSRF")
    if p.user.role != "admin":
        return p.render("page.html", 403, title=title, page="import", message=p.t["admins_only"])
    try:
        report = import_uploads(p.access, files, preset or None)
    except HitrateError as exc:
        return p.render("page.html", 400, title=title, page="import", message=str(exc), upload=True)
    message = p.t["imported"].format(
        **{k: i18n.count(report[k], p.lang) for k in ("imported", "updated", "unchanged", "quarantined")}
    )
    return p.render(
        "page.html", title=title, page="import", message=message, upload=True, tables=[_quarantine_table(p)]
    )
