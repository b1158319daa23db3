"""The REST API and pages in-process: the authorisation matrix, error mapping, sessions, CSRF, login limits."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_module

require_module("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from tests.web_helpers import MANAGED, OTHER_TEAM, PASSWORD, WebStore, build_web_store  # noqa: E402


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> WebStore:
    return build_web_store(tmp_path_factory.mktemp("web") / "web.duckdb")


@pytest.fixture(scope="module")
def client(web: WebStore) -> TestClient:
    from hitrate.web import create_app

    return TestClient(create_app(web.path, secret="test"), raise_server_exceptions=False)


def get(client: TestClient, web: WebStore, role: str, url: str, **params: object) -> object:
    return client.get(url, params=params, headers={"Authorization": f"Bearer {web.tokens[role]}"})


# -- the authorisation matrix: every endpoint x role x another team's data ---------------------------------------
ROW_ENDPOINTS = [
    ("/api/rates", {"by": "rep"}),
    ("/api/rates", {"by": ["team", "rep"], "period": "quarter"}),
    ("/api/benchmark", {"by": "rep"}),
    ("/api/benchmark", {"by": "team"}),
    ("/api/leads", {}),
    ("/api/reasons", {"by": "rep"}),
    ("/api/reasons", {"by": ["team", "rep"], "period": "quarter"}),
]


def _reps_and_teams(web: WebStore, body: dict) -> tuple[set[str], set[str]]:
    rows = body.get("rows", body.get("leads", []))
    reps = {r["rep"] for r in rows if r.get("rep") is not None}
    teams = {r["team"] for r in rows if r.get("team") is not None} | {web.team_of[r] for r in reps}
    return reps, teams


@pytest.mark.parametrize(("url", "params"), ROW_ENDPOINTS)
def test_admin_sees_every_team(client, web, url, params):
    r = get(client, web, "admin", url, **params)
    assert r.status_code == 200, r.text
    _, teams = _reps_and_teams(web, r.json())
    assert teams == set(web.team_of.values())


@pytest.mark.parametrize(("url", "params"), ROW_ENDPOINTS)
def test_manager_sees_only_the_teams_they_manage(client, web, url, params):
    r = get(client, web, "manager", url, **params)
    assert r.status_code == 200, r.text
    reps, teams = _reps_and_teams(web, r.json())
    assert teams == {MANAGED}
    assert reps <= web.reps_in(MANAGED)
    assert not any(name in r.text for name in web.reps_in(OTHER_TEAM))


@pytest.mark.parametrize(("url", "params"), ROW_ENDPOINTS)
def test_manager_asking_for_another_team_is_refused(client, web, url, params):
    r = get(client, web, "manager", url, **params, where=f"team={OTHER_TEAM}")
    assert r.status_code == 403
    assert OTHER_TEAM in r.json()["detail"]


@pytest.mark.parametrize(("url", "params"), ROW_ENDPOINTS)
def test_rep_sees_only_their_own_rows(client, web, url, params):
    r = get(client, web, "rep", url, **params)
    assert r.status_code == 200, r.text
    reps, _ = _reps_and_teams(web, r.json())
    assert reps <= {web.rep}
    others = set(web.team_of) - {web.rep}
    assert not any(name in r.text for name in others), "another rep's name leaked"


@pytest.mark.parametrize(("url", "params"), ROW_ENDPOINTS)
def test_rep_asking_for_another_rep_or_team_is_refused_or_filtered(client, web, url, params):
    other_rep = sorted(web.reps_in(OTHER_TEAM))[0]
    assert get(client, web, "rep", url, **params, where=f"rep={other_rep}").status_code == 403
    r = get(client, web, "rep", url, **params, where=f"team={OTHER_TEAM}")
    assert r.status_code in (200, 400, 403)  # filtered to nothing (a benchmark of nothing says so); peers take none
    assert not any(name in r.text for name in set(web.team_of) - {web.rep})
    if r.status_code == 200:
        reps, _ = _reps_and_teams(web, r.json())
        assert reps <= {web.rep}


def test_rep_benchmark_has_their_row_and_anonymised_peers(client, web):
    body = get(client, web, "rep", "/api/benchmark", by="rep").json()
    assert [r["rep"] for r in body["rows"]] == [web.rep]
    peers = body["peers"]
    assert peers["n"] == len(web.team_of) - 1
    assert set(peers["hit_rate"]) == {"p10", "p25", "p50", "p75", "p90"}


@pytest.mark.parametrize("role", ["manager", "rep"])
@pytest.mark.parametrize(("method", "url"), [("get", "/api/quarantine"), ("post", "/api/imports")])
def test_only_an_admin_imports_or_reads_the_quarantine(client, web, role, method, url):
    headers = {"Authorization": f"Bearer {web.tokens[role]}"}
    if method == "get":
        r = client.get(url, headers=headers)
    else:
        r = client.post(url, headers=headers, files={"files": ("x.csv", b"id,rep\n1,a\n")})
    assert r.status_code == 403


@pytest.mark.parametrize("role", ["admin", "manager", "rep"])
def test_every_role_reads_the_definitions(client, web, role):
    r = get(client, web, role, "/api/definitions")
    assert r.status_code == 200 and len(r.json()["hash"]) == 12


@pytest.mark.parametrize("url", ["/api/rates", "/api/benchmark", "/api/leads", "/api/definitions", "/api/quarantine"])
@pytest.mark.parametrize("auth", [None, "Bearer nope", "Basic abc", "Bearer "])
def test_no_or_a_bad_token_is_401(client, url, auth):
    headers = {"Authorization": auth} if auth else {}
    r = client.get(url, headers=headers)
    assert r.status_code == 401


# -- shapes and errors ---------------------------------------------------------------------------------------------
def test_rates_json_matches_the_cli(client, web):
    from typer.testing import CliRunner

    from hitrate.cli import app

    api = get(client, web, "admin", "/api/rates", by="team", period="quarter").json()
    out = CliRunner().invoke(
        app, ["rates", "--by", "team", "--period", "quarter", "--format", "json", "--db", str(web.path)]
    )
    import json

    assert api == json.loads(out.stdout)


@pytest.mark.parametrize(
    ("params", "status", "named"),
    [
        ({"by": "nosuch"}, 400, "nosuch"),
        ({"where": "nosuch=1"}, 400, "nosuch"),
        ({"where": "team"}, 400, "where 'team'"),
        ({"period": "decade"}, 422, "period"),
        ({"basis": "x"}, 422, "basis"),
        ({"date_from": "2024-13"}, 422, "date_from"),
        ({"by": "rep; DROP TABLE users"}, 400, "rep; DROP TABLE users"),
    ],
)
def test_bad_parameters_are_named_never_a_500(client, web, params, status, named):
    r = get(client, web, "admin", "/api/rates", **params)
    assert r.status_code == status
    assert named in r.text


def test_an_unknown_field_is_named_as_the_api_caller_wrote_it(client, web):
    r = get(client, web, "admin", "/api/rates", by="nosuch")
    detail = r.json()["detail"]
    assert r.status_code == 400 and "'nosuch' (by)" in detail and "--" not in detail, detail


def test_library_parameters_are_written_the_webs_way_in_the_pages_language(web, monkeypatch):
    """The web's part: a library error naming ``Param("by")`` reaches an API caller as ``by`` (English) and a
    page in the page's language, never as the command line's ``--by``."""
    from hitrate.errors import UnknownFieldError
    from hitrate.i18n import Param
    from hitrate.web import create_app, data

    def unknown(*args: object, **kwargs: object) -> dict:
        raise UnknownFieldError("nosuch", ["rep", "team"], Param("by"))

    monkeypatch.setattr(data, "rates_json", unknown)
    c = TestClient(create_app(web.path, secret="t"))
    r = get(c, web, "admin", "/api/rates", by="nosuch")
    assert (r.status_code, r.json()) == (400, {"detail": "unknown field 'nosuch' (by); expected one of: rep, team"})
    login(c, "ann")
    page = c.get("/?lang=da")
    assert page.status_code == 400 and "ukendt felt &#39;nosuch&#39; (by); forventede et af: rep, team" in page.text


def test_a_numeric_field_filters_by_its_value(tmp_path):
    """``where=amount=1054`` keeps the lead whose amount is 1054.0: the engine compares in the field's type
    (as text the two differ: '1054' against '1054.0')."""
    from hitrate.store.embedded import Store
    from hitrate.web import create_app

    web = build_web_store(tmp_path / "n.duckdb", n=300)
    with Store(web.path) as s:
        lead = s.fetch("SELECT min(id) FROM lead_scores")[0][0]
        s.raw.execute("UPDATE opportunities SET amount = 1054.0 WHERE id = ?", [lead])
        same = {r[0] for r in s.fetch("SELECT id FROM lead_scores JOIN opportunities USING (id) WHERE amount = 1054")}
    c = TestClient(create_app(web.path, secret="t"))
    r = get(c, web, "admin", "/api/leads", where="amount=1054")
    assert r.status_code == 200, r.text
    assert {lead["id"] for lead in r.json()["leads"]} == same and lead in same
    assert get(c, web, "admin", "/api/leads", where="amount=many").status_code == 400


def test_benchmark_by_an_unknown_or_malformed_field(client, web):
    assert get(client, web, "admin", "/api/benchmark", by="nosuch").status_code == 400
    r = get(client, web, "admin", "/api/benchmark", by="a b")
    assert r.status_code == 422 and "by" in r.text


def test_openapi_document_lists_the_endpoints(client, web):
    paths = get(client, web, "rep", "/openapi.json").json()["paths"]
    assert {"/api/rates", "/api/benchmark", "/api/leads", "/api/definitions", "/api/imports"} <= set(paths)


def test_an_admin_imports_through_the_api(tmp_path):
    from hitrate.web import create_app

    web = build_web_store(tmp_path / "w.duckdb", n=500)
    c = TestClient(create_app(web.path, secret="t"))
    h = {"Authorization": f"Bearer {web.tokens['admin']}"}
    before = c.get("/api/rates", headers=h).json()["rows"][0]["attempts"]
    csv = b"id,rep,stage,created_at,closed_at\nnew1,Zed,Won,2024-01-02,2024-02-01\nnew2,Zed,Lost,2024-01-02,x\n"
    r = c.post("/api/imports", headers=h, files={"files": ("more.csv", csv)}, data={"preset": "auto"})
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 1 and r.json()["quarantined"] == 1
    assert c.get("/api/rates", headers=h).json()["rows"][0]["attempts"] == before + 1
    assert c.get("/api/quarantine", headers=h).json()["total"] == 1


# -- pages: sessions, CSRF, rate limit, scope, language --------------------------------------------------------------
def login(client: TestClient, name: str, password: str = PASSWORD) -> object:
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"username": name, "password": password, "csrf": csrf}, follow_redirects=False)


def test_pages_need_a_session(client):
    for url in ("/", "/benchmark", "/trends", "/rep", "/leads", "/definitions", "/import"):
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_login_sets_a_safe_cookie_and_shows_the_overview(web):
    from hitrate.web import create_app

    c = TestClient(create_app(web.path, secret="t"))
    r = login(c, "ann")
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    page = c.get("/")
    assert page.status_code == 200 and 'class="rate"' in page.text and "plotly" in page.text
    # this month is not over on the data's last day: its card says how far it is
    from hitrate.engine.query import month_so_far
    from hitrate.improve.goals import data_as_of
    from hitrate.store.embedded import Store

    with Store(web.path, read_only=True) as s:
        day = data_as_of(s)
    so_far = month_so_far(f"{day.year}-{day.month:02d}", day)
    assert so_far is not None and f"so far: {so_far[0]} of {so_far[1]} working days" in page.text
    assert page.text.count("so far:") == 1  # only this month's card


def test_a_login_without_the_csrf_token_is_refused(web):
    from hitrate.web import create_app

    c = TestClient(create_app(web.path, secret="t"))
    c.get("/login")
    r = c.post("/login", data={"username": "ann", "password": PASSWORD})
    assert r.status_code == 403


def test_failed_logins_are_rate_limited(web):
    from hitrate.web import create_app

    c = TestClient(create_app(web.path, secret="t"))
    codes = [login(c, "ann", "wrong-password").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    assert login(c, "ann").status_code == 429  # even the right password, for a while


def test_a_token_only_account_cannot_log_in(web):
    from hitrate.web import create_app

    assert login(TestClient(create_app(web.path, secret="t")), "sam", "").status_code in (401, 422)


@pytest.mark.parametrize("url", ["/", "/benchmark", "/trends", "/rep", "/leads"])
def test_a_managers_pages_never_show_another_team(web, url):
    from hitrate.web import create_app

    c = TestClient(create_app(web.path, secret="t"))
    login(c, "mo")
    page = c.get(url)
    assert page.status_code == 200
    assert OTHER_TEAM not in page.text
    assert not any(name in page.text for name in web.reps_in(OTHER_TEAM))
    if url != "/rep":  # the rep card has no team filter
        assert c.get(url, params={"team": OTHER_TEAM}).status_code == 403
    else:
        other = sorted(web.reps_in(OTHER_TEAM))[0]
        assert c.get(url, params={"rep": other}).status_code == 403


@pytest.mark.parametrize("url", ["/", "/benchmark", "/trends", "/rep", "/leads"])
def test_a_reps_pages_show_only_their_own_name(web, url):
    from hitrate.web import create_app

    c = TestClient(create_app(web.path, secret="t"))
    login(c, "rita")
    page = c.get(url)
    assert page.status_code == 200
    assert not any(name in page.text for name in set(web.team_of) - {web.rep})


def test_language_switch_formats_numbers_per_locale(web):
    from hitrate.web import create_app

    c = TestClient(create_app(web.path, secret="t"))
    login(c, "ann")
    en = c.get("/").text
    da = c.get("/?lang=da").text
    assert re.search(r'class="rate">\d+\.\d%<', en)
    assert re.search(r'class="rate">\d+,\d %<', da)
    assert "Overblik" in da and 'lang="da"' in da
    assert "Overblik" in c.get("/").text  # the choice sticks to the session


def test_import_page_needs_the_csrf_token_and_an_admin(web):
    from hitrate.web import create_app

    c = TestClient(create_app(web.path, secret="t"))
    login(c, "mo")
    assert c.post("/import", files={"files": ("a.csv", b"id\n1\n")}).status_code == 403
    assert "admin" in c.get("/import").text


# -- users from the command line -----------------------------------------------------------------------------------
def test_users_add_without_a_password_never_prompts_and_token_is_the_last_line(tmp_path: Path):
    db = str(tmp_path / "u.duckdb")
    cmd = [sys.executable, "-m", "hitrate.cli"]
    add = subprocess.run(
        [*cmd, "users", "add", "bo", "--role", "rep", "--rep", "Bo", "--allow-unknown", "--db", db],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert add.returncode == 0, add.stderr
    tok = subprocess.run([*cmd, "users", "token", "bo", "--db", db], capture_output=True, text=True, timeout=120)
    token = tok.stdout.strip().splitlines()[-1]
    from hitrate.store.embedded import Store
    from hitrate.store.users import user_for_token

    with Store(db) as store:
        user = user_for_token(store, token)
        assert user is not None and user.rep == "Bo"
        assert token not in str(store.fetch("SELECT * FROM api_tokens"))  # only the hash is kept


def test_users_add_reads_the_password_from_stdin(tmp_path: Path):
    from typer.testing import CliRunner

    from hitrate.cli import app
    from hitrate.store.embedded import Store
    from hitrate.store.users import check_password

    db = str(tmp_path / "u.duckdb")
    r = CliRunner().invoke(
        app,
        ["users", "add", "al", "--role", "manager", "--team", "T", "--allow-unknown", "--password-stdin", "--db", db],
        input="long-password\n",
    )
    assert r.exit_code == 0, r.output
    with Store(db) as store:
        assert check_password(store, "al", "long-password") is not None
        assert check_password(store, "al", "wrong") is None
        assert "long-password" not in str(store.fetch("SELECT * FROM users"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users", "add", "x", "--role", "manager"], "--team"),
        (["users", "add", "x", "--role", "rep"], "--rep"),
        (["users", "add", "a b", "--role", "admin"], "user name"),
        (["users", "token", "nobody"], "no user called"),
    ],
)
def test_users_mistakes_are_named(tmp_path, args, message):
    from typer.testing import CliRunner

    from hitrate.cli import app

    r = CliRunner().invoke(app, [*args, "--db", str(tmp_path / "u.duckdb")])
    assert r.exit_code == 2 and message in r.output


def test_the_rep_list_links_to_each_reps_page_in_the_managers_scope(web):
    """A manager switches rep by clicking the list, not by editing the URL; every link opens that rep's page
    and names only reps of the manager's team."""
    from html import unescape
    from urllib.parse import parse_qs, urlparse

    from hitrate.web import create_app

    c = TestClient(create_app(web.path, secret="t"))
    login(c, "mo")
    page = c.get("/rep").text
    links = re.findall(r'<a href="(/rep\?rep=[^"]+)">([^<]+)</a>', page)
    managed = web.reps_in("Team North")
    assert {unescape(name) for _, name in links} == managed
    href, name = links[-1]
    assert parse_qs(urlparse(unescape(href)).query)["rep"] == [unescape(name)]
    opened = c.get(unescape(href))
    assert opened.status_code == 200 and unescape(name) in opened.text
