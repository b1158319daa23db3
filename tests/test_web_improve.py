"""Goals, loss reasons and reps' feedback on the API and pages: every role against another team's data."""

from __future__ import annotations

import re

import pytest

from tests.conftest import require_module

require_module("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from hitrate.store.embedded import Store  # noqa: E402
from tests.web_helpers import MANAGED, OTHER_TEAM, WebStore, build_web_store  # noqa: E402


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> WebStore:
    return build_web_store(tmp_path_factory.mktemp("improve") / "web.duckdb")


@pytest.fixture(scope="module")
def client(web: WebStore) -> TestClient:
    from hitrate.web import create_app

    return TestClient(create_app(web.path, secret="test"), raise_server_exceptions=False)


def call(client: TestClient, web: WebStore, role: str, method: str, url: str, **kwargs: object) -> object:
    return client.request(method, url, headers={"Authorization": f"Bearer {web.tokens[role]}"}, **kwargs)


def lost_deal(web: WebStore, rep: str) -> str:
    with Store(web.path, read_only=True) as s:
        return str(s.fetch("SELECT min(id) FROM opportunities WHERE outcome = 'lost' AND rep = ?", [rep])[0][0])


def other_rep(web: WebStore) -> str:
    return sorted(web.reps_in(OTHER_TEAM))[0]


def names_of_others(web: WebStore, keep: set[str]) -> set[str]:
    return set(web.team_of) - keep


# -- goals ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def goals(client, web) -> None:
    for who in (f"team={MANAGED}", f"team={OTHER_TEAM}", f"rep={web.rep}", f"rep={other_rep(web)}"):
        r = call(client, web, "admin", "post", "/api/goals", json={"for": who, "target": 0.3, "period": "2025-Q1"})
        assert r.status_code == 200, r.text


def test_every_role_sees_only_the_goals_in_its_scope(client, web, goals):
    seen = {}
    for role in ("admin", "manager", "rep"):
        r = call(client, web, role, "get", "/api/goals")
        assert r.status_code == 200, r.text
        seen[role] = {(g["field"], g["value"]) for g in r.json()["rows"]}
    assert {("team", OTHER_TEAM), ("rep", other_rep(web))} <= seen["admin"]
    assert seen["manager"] == {("team", MANAGED), ("rep", web.rep)}
    assert seen["rep"] == {("rep", web.rep)}
    rep_text = call(client, web, "rep", "get", "/api/goals").text
    assert not any(name in rep_text for name in names_of_others(web, {web.rep}))
    assert OTHER_TEAM not in call(client, web, "manager", "get", "/api/goals").text


@pytest.mark.parametrize(
    ("role", "who", "status"),
    [
        ("manager", f"team={OTHER_TEAM}", 403),
        ("manager", f"team={MANAGED}", 200),
        ("rep", "rep={rep}", 403),
        ("admin", "rep=Nobody Here", 400),
    ],
)
def test_who_may_set_a_goal(client, web, role, who, status):
    r = call(client, web, role, "post", "/api/goals", json={"for": who.format(rep=web.rep), "target": 0.3,
                                                             "period": "2025-Q1"})  # fmt: skip
    assert r.status_code == status, r.text
    if status == 400:
        assert "Nobody Here" in r.json()["detail"]


@pytest.mark.parametrize(
    ("body", "named"),
    [({"target": 1.4, "period": "2025-Q1"}, "target 1.4"), ({"target": 0.3, "period": "2025-Q7"}, "2025-Q7")],
)
def test_bad_goals_are_named_never_a_500(client, web, body, named):
    r = call(client, web, "admin", "post", "/api/goals", json={"for": f"team={MANAGED}", **body})
    assert r.status_code == 400 and named in r.json()["detail"]


def test_goal_errors_name_the_bodys_fields(client, web, monkeypatch):
    """A goal's body says ``from``/``to``; a library error about ``date_from`` names ``from`` (as sent)."""
    from hitrate.errors import InvalidParameterError
    from hitrate.improve import goals

    def bad_period(*args: object) -> object:
        raise InvalidParameterError("date_from", "a date on or before 'to'", "2025-02-01")

    monkeypatch.setattr(goals, "parse_period", bad_period)
    body = {"for": f"team={MANAGED}", "target": 0.3, "from": "2025-02-01", "to": "2025-01-01"}
    r = call(client, web, "admin", "post", "/api/goals", json=body)
    assert r.status_code == 400
    assert r.json()["detail"] == "The 'from' parameter must be a date on or before 'to'. Got '2025-02-01' instead."


# -- feedback ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "whose", "status"),
    [
        ("rep", "own", 200),
        ("rep", "other team", 403),
        ("manager", "own", 200),
        ("manager", "other team", 403),
        ("admin", "other team", 200),
    ],
)
def test_feedback_on_a_lost_deal_by_role_and_team(client, web, role, whose, status):
    deal = lost_deal(web, web.rep if whose == "own" else other_rep(web))
    r = call(client, web, role, "post", "/api/feedback", json={"deal": deal, "reason": "price", "note": role})
    assert r.status_code == status, r.text
    if status == 403:
        assert other_rep(web) not in r.text and "not found among your deals" in r.text


def test_feedback_errors_name_the_deal(client, web):
    r = call(client, web, "admin", "post", "/api/feedback", json={"deal": "NOPE", "reason": "price"})
    assert r.status_code == 400 and "NOPE" in r.json()["detail"]
    for role in ("admin", "rep"):  # found by schemathesis: a NUL in the id broke the compiled SQL
        r = call(client, web, role, "post", "/api/feedback", json={"deal": "\u0000", "reason": "0"})
        assert r.status_code == 400 and "deal: text with a NUL byte" in r.json()["detail"]
    r = call(client, web, "admin", "post", "/api/goals", json={"for": "rep=\u0000", "target": 0.3, "period": "2025"})
    assert r.status_code == 400
    with Store(web.path, read_only=True) as s:
        won = s.fetch("SELECT min(id) FROM opportunities WHERE outcome = 'won'")[0][0]
    r = call(client, web, "admin", "post", "/api/feedback", json={"deal": won, "reason": "price"})
    assert r.status_code == 400 and "is not lost" in r.json()["detail"]


def test_feedback_lists_stay_in_scope(client, web):
    for deal_rep in (web.rep, other_rep(web)):
        call(client, web, "admin", "post", "/api/feedback", json={"deal": lost_deal(web, deal_rep), "reason": "x"})
    reps = {role: {r["rep"] for r in call(client, web, role, "get", "/api/feedback").json()} for role in
            ("admin", "manager", "rep")}  # fmt: skip
    assert {web.rep, other_rep(web)} <= reps["admin"]
    assert reps["manager"] <= web.reps_in(MANAGED) and web.rep in reps["manager"]
    assert reps["rep"] == {web.rep}


def test_reasons_count_the_reps_reason_over_the_crms(client, web):
    deal = lost_deal(web, web.rep)
    call(client, web, "rep", "post", "/api/feedback", json={"deal": deal, "reason": "Champion left"})
    body = call(client, web, "rep", "get", "/api/reasons", params={"by": "rep"}).json()
    assert {r["rep"] for r in body["rows"]} == {web.rep}
    row = next(r for r in body["rows"] if r["reason"] == "champion left")
    assert row["lost"] == 1 and row["recorded_by_reps"] == 1
    refused = call(client, web, "manager", "get", "/api/reasons", params={"where": f"team={OTHER_TEAM}"})
    assert refused.status_code == 403


# -- pages ---------------------------------------------------------------------------------------------------------
def login(c: TestClient, name: str) -> None:
    from tests.web_helpers import PASSWORD

    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    c.post("/login", data={"username": name, "password": PASSWORD, "csrf": csrf}, follow_redirects=False)


def test_pages_need_a_session(client):
    for url in ("/goals", "/reasons"):
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


@pytest.mark.parametrize("url", ["/goals", "/reasons"])
@pytest.mark.parametrize(("name", "keep"), [("mo", "managed"), ("rita", "rep")])
def test_pages_never_show_another_team(web, goals, url, name, keep):
    from hitrate.web import create_app

    c = TestClient(create_app(web.path, secret="t"))
    login(c, name)
    page = c.get(url)
    assert page.status_code == 200
    assert OTHER_TEAM not in page.text
    allowed = web.reps_in(MANAGED) if keep == "managed" else {web.rep}
    assert not any(n in page.text for n in names_of_others(web, allowed))


def test_the_feedback_form_needs_csrf_and_scope_and_speaks_danish(web):
    from hitrate.web import create_app

    c = TestClient(create_app(web.path, secret="t"))
    login(c, "rita")
    page = c.get("/reasons?lang=da")
    assert "Tabsårsager" in page.text and "Registrér årsagen" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    mine, theirs = lost_deal(web, web.rep), lost_deal(web, other_rep(web))
    suggested = re.findall(r'<option value="(OPP\d+)"', page.text)
    with Store(web.path, read_only=True) as st:
        owners = {
            r[0]
            for r in st.fetch(
                f"SELECT DISTINCT rep FROM opportunities WHERE id IN ({', '.join('?' * len(suggested))})", suggested
            )
        }
    assert suggested and owners == {web.rep}  # the form suggests only her own lost deals
    assert c.post("/reasons", data={"deal": mine, "reason": "price"}).status_code == 403
    r = c.post("/reasons", data={"deal": theirs, "reason": "price", "csrf": csrf})
    assert r.status_code == 403 and other_rep(web) not in r.text
    r = c.post("/reasons", data={"deal": mine, "reason": "timing", "note": "next year", "csrf": csrf})
    assert r.status_code == 200 and f"handel {mine}" in r.text
    assert "Mål" in c.get("/goals").text


def test_openapi_lists_the_new_endpoints(client, web):
    paths = call(client, web, "rep", "GET", "/openapi.json").json()["paths"]
    assert {"/api/goals", "/api/reasons", "/api/feedback"} <= set(paths)


# -- interventions (read-only on the web) ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def interventions(web) -> dict[str, int]:
    from hitrate.improve.interventions import add_intervention

    ids = {}
    with Store(web.path) as s:
        for key, (field, value) in {
            "managed team": ("team", MANAGED),
            "own rep": ("rep", web.rep),
            "other team": ("team", OTHER_TEAM),
        }.items():
            item = add_intervention(s, field=field, value=value, kind="coaching", started="2024-03-01", added_by="ann")
            ids[key] = item.intervention_id
    return ids


def test_interventions_list_and_effect_by_role(client, web, interventions):
    seen = {
        role: {(i["field"], i["value"]) for i in call(client, web, role, "get", "/api/interventions").json()}
        for role in ("admin", "manager", "rep")
    }
    assert ("team", OTHER_TEAM) in seen["admin"]
    assert seen["manager"] == {("team", MANAGED), ("rep", web.rep)}
    assert seen["rep"] == {("rep", web.rep)}

    def effect(role: str, key: str) -> object:
        return call(client, web, role, "get", f"/api/interventions/{interventions[key]}/effect", params={"window": 180})

    assert effect("admin", "other team").status_code == 200
    assert effect("manager", "other team").status_code == 403
    assert effect("rep", "own rep").status_code == 403
    mine = effect("manager", "own rep")  # peers: the other reps of the team they manage
    assert mine.status_code == 200, mine.text
    assert mine.json()["method"].endswith("within the --where rows")
    assert not any(name in mine.text for name in web.reps_in(OTHER_TEAM)) and OTHER_TEAM not in mine.text
    lonely = effect("manager", "managed team")  # one team managed: no peers in scope
    assert lonely.status_code == 400 and "no peers to compare with" in lonely.json()["detail"]


def test_a_manager_sets_a_goal_on_the_goals_page_and_a_rep_cannot(tmp_path):
    """The goals page's form (CSRF-checked) sets a goal for a team or rep in the manager's scope, shows it with
    its progress, refuses another team's and a bad target with a message, and a rep has no form."""
    import re as _re

    from fastapi.testclient import TestClient

    from hitrate.store.embedded import Store
    from hitrate.web import create_app
    from tests.web_helpers import MANAGED, OTHER_TEAM, build_web_store, form_token, sign_in

    web = build_web_store(tmp_path / "g.duckdb", n=1500)
    app = create_app(web.path, secret="s")
    mo = TestClient(app)
    sign_in(mo, "mo")
    page = mo.get("/goals").text
    form = _re.search(r'<select name="who".*?</select>', page, _re.S)
    assert form is not None
    choices = _re.findall(r'<option value="([^"]+)">', form.group(0))
    assert f"team={MANAGED}" in choices and f"team={OTHER_TEAM}" not in choices
    assert all(c == f"team={MANAGED}" or c.split("=", 1)[1] in web.reps_in(MANAGED) for c in choices)
    made = mo.post(
        "/goals", data={"who": f"team={MANAGED}", "target": "40", "period": "2024", "csrf": form_token(mo, "/goals")}
    )
    assert made.status_code == 200 and f"Goal saved: team={MANAGED}, 40.0%" in made.text
    assert f"Team: {MANAGED}<" in made.text  # the table shows it with its progress
    assert 'id="goals-chart"' in made.text and "The chance of making each goal" in made.text  # and the chart
    with Store(web.path, read_only=True) as s:
        assert s.fetch("SELECT field, value, target, set_by FROM goals") == [("team", MANAGED, 0.4, "mo")]
    other = mo.post(
        "/goals", data={"who": f"team={OTHER_TEAM}", "target": "40", "period": "2024", "csrf": form_token(mo, "/goals")}
    )
    assert other.status_code == 403
    bad = mo.post(
        "/goals", data={"who": f"team={MANAGED}", "target": "lots", "period": "2024", "csrf": form_token(mo, "/goals")}
    )
    assert bad.status_code == 400 and "is not a hit rate in percent" in bad.text
    forged = mo.post("/goals", data={"who": f"team={MANAGED}", "target": "40", "period": "2024", "csrf": "x"})
    assert forged.status_code == 403
    rita = TestClient(app)
    sign_in(rita, "rita")
    assert 'action="/goals"' not in rita.get("/goals").text
    da = mo.get("/goals?lang=da").text
    assert "Sæt målet" in da
