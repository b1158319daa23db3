"""The authorization matrix, generated from the app itself (issue 16): every operation of the OpenAPI document and
every other route the app answers (pages, static files, the API documents), for each role (anonymous, rep,
manager, admin), gets the answer written in :data:`MATRIX`; a route without an entry fails the test.

Then every GET operation is sent scope-escaping parameters, built from its parameters in the OpenAPI document
(``where`` on another team, another rep, another team's deal id; ``by`` rep, team and id; path ids of another
team's rep and intervention), and every GET page ``?team=`` and ``?rep=`` of others, as a rep and as a manager: no
answer is a 5xx and no answer holds a value from outside the caller's scope (other reps' names, other teams' names
and deal ids, their rates, their goals', interventions' and feedback's words), computed from the store as the
admin sees it. A value the request itself sent is not counted (an error may repeat what was asked)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import pytest

from tests.conftest import require_module

require_module("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from tests.web_helpers import MANAGED, OTHER_TEAM, PASSWORD, WebStore, build_web_store  # noqa: E402

ROLES = ("anonymous", "rep", "manager", "admin")
NAMES = {"rep": "rita", "manager": "mo", "admin": "ann"}

#: The documented answer of every route, per role: (anonymous, rep, manager, admin). Pages send an anonymous
#: caller to the sign-in page (303); the API answers 401. Requests are made as :func:`plain_request` builds them
#: (the caller's own rep, deal and intervention; a valid body).
MATRIX: dict[tuple[str, str], tuple[int, int, int, int]] = {
    # the API (bearer token)
    ("GET", "/api/rates"): (401, 200, 200, 200),
    ("GET", "/api/benchmark"): (401, 200, 200, 200),
    ("GET", "/api/coach/{rep}"): (401, 200, 200, 200),
    ("GET", "/api/leads"): (401, 200, 200, 200),
    ("GET", "/api/definitions"): (401, 200, 200, 200),
    ("GET", "/api/quarantine"): (401, 403, 403, 200),
    ("POST", "/api/imports"): (401, 403, 403, 200),
    ("GET", "/api/goals"): (401, 200, 200, 200),
    ("POST", "/api/goals"): (401, 403, 200, 200),
    ("GET", "/api/reasons"): (401, 200, 200, 200),
    ("GET", "/api/feedback"): (401, 200, 200, 200),
    ("POST", "/api/feedback"): (401, 200, 200, 200),
    ("GET", "/api/interventions"): (401, 200, 200, 200),
    ("GET", "/api/interventions/{intervention_id}/effect"): (401, 403, 200, 200),
    ("GET", "/api/forecast"): (401, 200, 200, 200),
    ("GET", "/api/doctor"): (401, 200, 200, 200),
    # pages (session cookie; forms carry the CSRF token)
    ("GET", "/login"): (200, 200, 200, 200),
    ("POST", "/login"): (401, 303, 303, 303),  # anonymous: a wrong password; the others: their own
    ("POST", "/logout"): (303, 303, 303, 303),
    ("GET", "/"): (303, 200, 200, 200),
    ("GET", "/benchmark"): (303, 200, 200, 200),
    ("GET", "/trends"): (303, 200, 200, 200),
    ("GET", "/rep"): (303, 200, 200, 200),
    ("GET", "/coach/{rep}"): (303, 303, 303, 303),  # to /rep?rep=..., where the scope is checked
    ("GET", "/leads"): (303, 200, 200, 200),
    ("GET", "/goals"): (303, 200, 200, 200),
    ("POST", "/goals"): (303, 403, 200, 200),  # the page's form: a rep sets no goal
    ("GET", "/forecast"): (303, 200, 200, 200),
    ("GET", "/doctor"): (303, 200, 200, 200),
    ("GET", "/reasons"): (303, 200, 200, 200),
    ("POST", "/reasons"): (303, 200, 200, 200),
    ("GET", "/definitions"): (303, 200, 200, 200),
    ("GET", "/import"): (303, 200, 200, 200),  # a non-admin is told it is for admins (no quarantine shown)
    ("POST", "/import"): (303, 403, 403, 200),
    ("GET", "/sync"): (303, 403, 200, 200),  # each CRM's last sync: admins and managers
    ("POST", "/sync"): (303, 403, 403, 303),  # start a sync (admins), then back to the page
    # static files and the API documents (signed-in users only)
    ("GET", "/static/plotly.min.js"): (200, 200, 200, 200),
    ("GET", "/static/hitrate.css"): (200, 200, 200, 200),
    ("GET", "/static/hitrate.js"): (200, 200, 200, 200),
    ("GET", "/openapi.json"): (401, 200, 200, 200),
    ("GET", "/docs"): (303, 200, 200, 200),
    ("GET", "/redoc"): (303, 200, 200, 200),
}
#: What each page downloads (``?download=ID&format=csv`` or ``xlsx``: its tables and charts as files), per role
#: (rep, manager, admin); anonymous callers are sent to the sign-in page. A download a page offers without an entry
#: here fails, as a route without an entry in :data:`MATRIX` does, and every file is searched for values outside the
#: caller's scope.
_CARD = {"activities", "coach", "monthly", "segments-lead_source", "segments-segment", "stages"}
DOWNLOADS: dict[str, tuple[set[str], set[str], set[str]]] = {
    "/": ({"monthly"}, {"monthly"}, {"monthly"}),
    "/benchmark": ({"benchmark", "peers", "quality"}, {"benchmark", "quality"}, {"benchmark", "quality"}),
    "/trends": ({"cohorts", "trend"}, {"cohorts", "trend"}, {"cohorts", "trend"}),
    "/rep": (_CARD, _CARD, _CARD),
    "/leads": ({"leads"}, {"leads"}, {"leads"}),
    "/goals": (set(), {"goals"}, {"goals"}),  # the rep has no goal of their own in this store
    "/forecast": ({"forecast", "forecast-accuracy"},) * 3,
    "/doctor": ({"doctor"}, {"doctor"}, {"doctor"}),
    "/reasons": ({"feedback", "reasons"},) * 3,
    "/definitions": ({"history"}, {"history"}, {"history"}),
    "/import": (set(), set(), {"quarantine"}),  # the quarantine: admins only
}
#: Requests that change the store or end sessions go last, in this order (the import adds rows; signing out ends
#: every session of the account).
LAST = (
    ("POST", "/api/imports"),
    ("POST", "/import"),
    ("POST", "/sync"),
    ("POST", "/login"),
    ("POST", "/logout"),
)


def all_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route the app answers, routers included into it (and into those) too."""

    def walk(routes: list[Any], prefix: str) -> Iterator[tuple[str, str]]:
        for route in routes:
            inner = getattr(route, "original_router", None)  # FastAPI >= 0.165 keeps an included router whole
            if inner is not None:
                yield from walk(inner.routes, prefix + route.include_context.prefix)
            else:
                yield from ((m, prefix + route.path) for m in getattr(route, "methods", None) or ())

    return set(walk(app.routes, ""))


def api_operations(app: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """Every operation of the OpenAPI document: (method, path) -> the operation."""
    return {(m.upper(), path): op for path, ops in app.openapi()["paths"].items() for m, op in ops.items()}


# -- the store, the callers and what each may not see ------------------------------------------------------------
@dataclass
class World:
    """The store, a client per role (cookie and bearer token), the caller's own ids, the other team's ids and,
    per role, the values it must never be shown."""

    web: WebStore
    app: Any
    clients: dict[str, TestClient]
    own: dict[str, str]
    other: dict[str, str]
    secrets: dict[str, set[str]] = field(default_factory=dict)


def signed_in(app: Any, role: str, web: WebStore) -> TestClient:
    """A client of ``role``: signed in (session cookie) and carrying its bearer token; anonymous: neither."""
    client = TestClient(app, raise_server_exceptions=False)
    if role == "anonymous":
        return client
    r = client.post("/login", data={"username": NAMES[role], "password": PASSWORD, "csrf": csrf_of(client)})
    assert r.status_code == 200 and "/login" not in str(r.url), r.text[:300]
    client.headers["Authorization"] = f"Bearer {web.tokens[role]}"
    return client


def csrf_of(client: TestClient) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert match is not None
    return match.group(1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    from hitrate.improve.feedback import add_feedback
    from hitrate.improve.goals import set_goal
    from hitrate.improve.interventions import add_intervention
    from hitrate.ingest import import_files
    from hitrate.store.embedded import Store
    from hitrate.web import create_app

    web = build_web_store(tmp_path_factory.mktemp("authz") / "web.duckdb", n=1200)
    south = sorted(web.reps_in(OTHER_TEAM))
    mate = sorted(web.reps_in(MANAGED) - {web.rep})[0]
    with Store(web.path) as s:

        def first(sql: str, *params: str) -> str:
            return str(s.fetch(sql, list(params))[0][0])

        own_lost = first("SELECT min(id) FROM opportunities WHERE rep = ? AND outcome = 'lost'", web.rep)
        south_lost = first(
            "SELECT min(id) FROM opportunities JOIN reps USING (rep) WHERE team = ? AND outcome = 'lost'", OTHER_TEAM
        )
        own_item = add_intervention(s, f"rep={web.rep}", kind="coaching", start="2024-03-01", note="own-rep-note")
        south_item = add_intervention(s, f"team={OTHER_TEAM}", kind="training", start="2024-03-01", note="south-note")
        set_goal(s, f"team={OTHER_TEAM}", target=0.41, period="2024", set_by="ann")
        set_goal(s, f"rep={mate}", target=0.39, period="2024", set_by="ann")
        add_feedback(s, south_lost, reason="price", note="south-feedback-note", recorded_by="ann")
        bad = web.path.with_name("bad.csv")  # a quarantined row: only an admin reads the quarantine
        bad.write_text("id,rep,stage,closed_at\nq1,Zed,Won,2024-01-02\nq2,Zed,Lost,quarantined-row-text\n")
        assert import_files(s, [bad]).quarantined == 1
        ids = dict(s.fetch("SELECT id, rep FROM opportunities"))
    empty = web.path.with_name("credentials.toml")  # no credentials: a sync an admin starts fails at once, offline
    empty.write_text("")
    empty.chmod(0o600)
    app = create_app(web.path, secret="authz", sync_credentials=empty)
    clients = {role: signed_in(app, role, web) for role in ROLES}
    own = {"rep": web.rep, "deal": own_lost, "intervention_id": str(own_item.intervention_id)}
    other = {
        "team": OTHER_TEAM,
        "rep": south[0],
        "mate": mate,
        "deal": south_lost,
        "intervention_id": str(south_item.intervention_id),
    }
    w = World(web, app, clients, own, other)
    w.secrets = secrets_by_role(w, ids)
    return w


def secrets_by_role(w: World, rep_of_deal: dict[str, str]) -> dict[str, set[str]]:
    """Per role, the values outside its scope, computed with the admin's view: names of reps and teams, deal
    ids, hit rates of teams and reps (as JSON writes them), and the words of others' interventions and feedback."""
    web = w.web
    admin = w.clients["admin"]
    rates: dict[str, dict[str, str]] = {}
    for by in ("team", "rep"):
        rows = admin.get("/api/rates", params={"by": by}).json()["rows"]
        # a rate is searched for by its first 8 digits, and only when it is no simple fraction (1/3 = 33/99 is
        # any group's rate): the reduced fraction's denominator is at least 50
        rates[by] = {
            str(r[by]): repr(r["hit_rate"])[:10] for r in rows if Fraction(r["hits"], r["attempts"]).denominator >= 50
        }
    teams = set(web.team_of.values())

    def outside(reps: set[str], team_names: set[str]) -> set[str]:
        out = {r for r in web.team_of if r not in reps} | (teams - team_names)
        out |= {d for d, r in rep_of_deal.items() if r not in reps and len(d) >= 6}  # ids, not any two letters
        out |= {v for r, v in rates["rep"].items() if r not in reps}
        out |= {v for t, v in rates["team"].items() if t not in team_names}
        return out | {"south-note", "south-feedback-note", "quarantined-row-text"}

    everything = outside(set(), set()) | {"own-rep-note"}
    return {
        "anonymous": everything,
        "rep": outside({web.rep}, {MANAGED}),
        "manager": outside(web.reps_in(MANAGED), {MANAGED}),
        "admin": set(),
    }


def leaked(w: World, role: str, body: str, sent: str) -> list[str]:
    """The values outside ``role``'s scope found in ``body``; a value in ``sent`` (the request) is not counted.
    Values that are one word (deal ids) are looked up among the body's words, the others (names, rates, notes)
    searched for as they are."""
    secrets = w.secrets[role]
    words = {v for v in secrets if _WORD.fullmatch(v)}
    found = (set(_WORD.findall(body)) & words) | {v for v in secrets - words if v in body}
    return sorted(v for v in found if v not in sent)


_WORD = re.compile(r"\w+")


# -- the matrix ----------------------------------------------------------------------------------------------------
def test_every_route_of_the_app_has_an_entry_in_the_matrix(world: World) -> None:
    """A new endpoint or page without an entry fails here; so does an entry whose route is gone."""
    routes = all_routes(world.app)
    assert set(api_operations(world.app)) <= routes
    assert sorted(routes - set(MATRIX)) == [], "routes without an entry in MATRIX"
    assert sorted(set(MATRIX) - routes) == [], "entries in MATRIX for routes the app no longer has"


def plain_request(w: World, role: str, method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The URL and keyword arguments of an ordinary request to the route: path parameters the caller's own (the
    rep account's rep and intervention, which a manager of its team sees too), a valid body or form."""
    url = path.replace("{rep}", w.own["rep"]).replace("{intervention_id}", w.own["intervention_id"])
    client = w.clients[role]
    csrf = csrf_of(client) if role != "anonymous" and method == "POST" else ""
    upload = {"files": ("more.csv", b"id,rep,stage\nnew1,Zed,Won\n", "text/csv")}
    kwargs: dict[str, Any] = {
        ("POST", "/api/imports"): {"files": upload},
        ("POST", "/api/goals"): {"json": {"for": f"team={MANAGED}", "target": 0.4, "period": "2024"}},
        ("POST", "/api/feedback"): {"json": {"deal": w.own["deal"], "reason": "price", "note": "n"}},
        ("POST", "/reasons"): {"data": {"deal": w.own["deal"], "reason": "price", "csrf": csrf}},
        ("POST", "/goals"): {"data": {"who": f"team={MANAGED}", "target": "40", "period": "2024", "csrf": csrf}},
        ("POST", "/import"): {"files": upload, "data": {"csrf": csrf}},
        ("POST", "/sync"): {"data": {"crm": "hubspot", "csrf": csrf}},
        ("POST", "/logout"): {"data": {"csrf": csrf}},
        ("GET", "/api/interventions/{intervention_id}/effect"): {"params": {"window": 180}},
    }.get((method, path), {})
    if (method, path) == ("POST", "/login"):
        name, password = (NAMES[role], PASSWORD) if role != "anonymous" else ("ann", "not-the-password")
        fresh = TestClient(w.app, raise_server_exceptions=False)
        kwargs = {"data": {"username": name, "password": password, "csrf": csrf_of(fresh)}, "client": fresh}
    return url, kwargs


def test_every_route_answers_each_role_as_documented(world: World) -> None:
    """Each route × role gives the status in :data:`MATRIX`, and no answer holds a value outside the caller's
    scope. All mismatches are listed at once."""
    order = [k for k in MATRIX if k not in LAST] + list(LAST)
    wrong, leaks = [], []
    try:
        for method, path in order:
            for role, expected in zip(ROLES, MATRIX[(method, path)], strict=True):
                url, kwargs = plain_request(world, role, method, path)
                client = kwargs.pop("client", world.clients[role])
                r = client.request(method, url, follow_redirects=False, **kwargs)
                if r.status_code != expected:
                    wrong.append(f"{method} {path} as {role}: {r.status_code}, documented {expected}: {r.text[:120]}")
                if found := leaked(world, role, r.text, url):
                    leaks.append(f"{method} {path} as {role}: {found[:5]}")
    finally:  # signing out ended every session of each account: sign in again for the tests after this one
        world.clients = {role: signed_in(world.app, role, world.web) for role in ROLES}
    assert not wrong, "\n".join(wrong)
    assert not leaks, "\n".join(leaks)


# -- scope-escaping parameters -------------------------------------------------------------------------------------
def escapes(w: World, role: str, path: str, op: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Requests that try to leave the caller's scope through the operation's own parameters (from the OpenAPI
    document): path parameters naming another team's rep (for a rep also a teammate) or intervention; ``where``
    on another team, rep or deal (alone and beside the caller's own deal); ``by`` rep, team and id, alone and
    with another team in ``where``."""
    given = {p["name"]: p["in"] for p in op.get("parameters", [])}
    other = w.other
    in_path = {
        "rep": [other["rep"], *([other["mate"]] if role == "rep" else [])],
        "intervention_id": [other["intervention_id"]],
    }
    names = [n for n, where in given.items() if where == "path"]
    if names:
        urls = [path]
        for name in names:
            urls = [u.replace("{" + name + "}", v) for u in urls for v in in_path[name]]
        return [(u, {}) for u in urls]
    queries: list[dict[str, Any]] = []
    if "where" in given:
        queries += [{"where": f"team={other['team']}"}, {"where": f"rep={other['rep']}"}]
        queries += [{"where": f"id={other['deal']}"}, {"where": [f"id={other['deal']}", f"id={w.own['deal']}"]}]
        queries += [{"where": f"rep={other['mate']}"}] if role == "rep" else []
    if "by" in given:
        queries += [{"by": b} for b in ("rep", "team", "id")]
        queries += [{"by": "rep", "where": f"team={other['team']}"}] if "where" in given else []
    return [(path, q) for q in queries]


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_scope_escaping_parameters_answer_no_5xx_and_nothing_outside_the_scope(world: World, role: str) -> None:
    client = world.clients[role]
    sent: list[tuple[str, dict[str, Any]]] = []
    for (method, path), op in api_operations(world.app).items():
        if method == "GET":
            sent += escapes(world, role, path, op)
    pages = [p for (m, p) in MATRIX if m == "GET" and not p.startswith(("/api/", "/static/"))]
    for page in pages:
        url = page.replace("{rep}", world.other["rep"])
        sent += [(url, {"team": world.other["team"]}), (url, {"rep": world.other["rep"]})]
    failures = []
    for url, params in sent:
        r = client.get(url, params=params, follow_redirects=True)
        if r.status_code >= 500:
            failures.append(f"GET {url} {params}: {r.status_code}")
        if found := leaked(world, role, r.text, f"{url} {params}"):
            failures.append(f"GET {url} {params}: shows {found[:5]}")
    assert len(sent) > 60
    assert not failures, "\n".join(failures)


def test_posts_naming_another_teams_deal_or_team_are_refused(world: World) -> None:
    """Writes that name another team's rows: 403, with the same words as for rows that do not exist."""
    other = world.other
    for role in ("rep", "manager"):
        c = world.clients[role]
        there = c.post("/api/feedback", json={"deal": other["deal"], "reason": "price"})
        missing = c.post("/api/feedback", json={"deal": "NO-SUCH-DEAL", "reason": "price"})
        assert there.status_code == missing.status_code == 403
        assert there.text.replace(other["deal"], "X") == missing.text.replace("NO-SUCH-DEAL", "X")
        goal = c.post("/api/goals", json={"for": f"team={other['team']}", "target": 0.4, "period": "2024"})
        assert goal.status_code == 403 and not leaked(world, role, goal.text, other["team"])
        form = c.post("/reasons", data={"deal": other["deal"], "reason": "price", "csrf": csrf_of(c)})
        assert form.status_code == 403 and not leaked(world, role, form.text, other["deal"])


# -- downloads -----------------------------------------------------------------------------------------------------
def download_links(html: str) -> dict[str, list[str]]:
    """A page's download links: the table's id -> the links' queries (one per format)."""
    out: dict[str, list[str]] = {}
    for query in re.findall(r'href="(\?[^"]*download=[^"]*)"', html):
        query = query.replace("&amp;", "&")
        out.setdefault(re.findall(r"download=([^&]+)", query)[0], []).append(query)
    return out


def file_text(body: bytes, content_type: str) -> str:
    """A downloaded file as text: a CSV as it is, a workbook's every cell."""
    import io

    if content_type.startswith("text/csv"):
        return body.decode("utf-8")
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(body))
    return "\n".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row)


def data_pages() -> list[str]:
    return [
        p for (m, p) in MATRIX if m == "GET" and not p.startswith(("/api/", "/static/", "/openapi", "/docs", "/redoc"))
    ]


def test_every_download_answers_as_documented_and_holds_nothing_outside_the_scope(world: World) -> None:
    """Each page's download links are those of :data:`DOWNLOADS`; each file (CSV and Excel) answers 200 and holds
    no value outside the caller's scope, also with another team or rep asked for (then the page's 403, or the
    caller's own rows); an anonymous caller is sent to sign in."""
    wrong, leaks = [], []
    for path in data_pages():
        if "{" in path or path == "/login":
            continue
        anonymous = world.clients["anonymous"].get(
            path, params={"download": "x", "format": "csv"}, follow_redirects=False
        )
        if anonymous.status_code != 303:
            wrong.append(f"{path} download as anonymous: {anonymous.status_code}")
        for role, documented in zip(
            ("rep", "manager", "admin"), DOWNLOADS.get(path, (set(), set(), set())), strict=True
        ):
            client = world.clients[role]
            offered = download_links(client.get(path).text)
            if set(offered) != documented:
                wrong.append(f"{path} as {role}: downloads {sorted(offered)}, documented {sorted(documented)}")
            for table, queries in offered.items():
                for query in queries:
                    for extra in ("", f"&team={world.other['team']}", f"&rep={world.other['rep']}"):
                        r = client.get(path + query + extra.replace(" ", "+"))
                        if r.status_code == 403 and extra:
                            continue
                        if r.status_code != 200 or "attachment" not in r.headers.get("content-disposition", ""):
                            wrong.append(f"{path} {table} {query}{extra} as {role}: {r.status_code}")
                            continue
                        text = file_text(r.content, r.headers["content-type"])
                        if found := leaked(world, role, text, extra):
                            leaks.append(f"{path} {table} {query}{extra} as {role}: {found[:5]}")
    assert not wrong, "\n".join(wrong)
    assert not leaks, "\n".join(leaks)
