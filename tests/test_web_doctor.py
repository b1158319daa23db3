"""``hitrate doctor`` on the dashboard (issue 15, deliverable 5): ``GET /api/doctor`` and the Data quality page
count and show only the deals in the caller's scope. Deals closed before they were created are planted for the
rep account's rep, another rep of the same team and a rep of another team; each role's count is held to the
store's rows in its scope, and no answer names a deal outside it."""

from __future__ import annotations

import re

import pytest

from tests.conftest import require_module

require_module("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from hitrate.store.embedded import Store  # noqa: E402
from tests.web_helpers import MANAGED, OTHER_TEAM, WebStore, build_web_store, sign_in  # noqa: E402

#: Planted deals per owner: the rep account's own, a teammate's, another team's.
PLANTED = {"own": 2, "teammate": 1, "other_team": 1}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> tuple[WebStore, dict[str, list[str]]]:
    """The store, and the ids of the deals planted with a close date before their created date, per owner."""
    web = build_web_store(tmp_path_factory.mktemp("web-doctor") / "doctor.duckdb", n=1200)
    teammate = sorted(web.reps_in(MANAGED) - {web.rep})[0]
    other = sorted(web.reps_in(OTHER_TEAM))[0]
    planted: dict[str, list[str]] = {}
    with Store(web.path) as s:
        for owner, rep in (("own", web.rep), ("teammate", teammate), ("other_team", other)):
            sql = "SELECT id FROM opportunities WHERE rep = ? AND closed_at IS NOT NULL ORDER BY id LIMIT ?"
            planted[owner] = [r[0] for r in s.fetch(sql, [rep, PLANTED[owner]])]
            for deal in planted[owner]:
                s.raw.execute("UPDATE opportunities SET closed_at = created_at - INTERVAL 2 DAY WHERE id = ?", [deal])
    return web, planted


def in_scope(web: WebStore, role: str) -> set[str]:
    """The ids of the deals a role may see, read from the store."""
    sql = "SELECT o.id FROM opportunities o LEFT JOIN reps r USING (rep)"
    with Store(web.path, read_only=True) as s:
        if role == "admin":
            return {r[0] for r in s.fetch(sql)}
        if role == "manager":
            return {r[0] for r in s.fetch(sql + " WHERE r.team = ?", [MANAGED])}
        return {r[0] for r in s.fetch(sql + " WHERE o.rep = ?", [web.rep])}


def named_ids(text: str) -> set[str]:
    """Every deal id an answer names."""
    return set(re.findall(r"OPP\d{7}", text))


@pytest.fixture(scope="module")
def client(web: tuple[WebStore, dict[str, list[str]]]) -> TestClient:
    from hitrate.web import create_app

    return TestClient(create_app(web[0].path, secret="t"), raise_server_exceptions=False)


@pytest.mark.parametrize(
    ("role", "sees"), [("admin", {"own", "teammate", "other_team"}), ("manager", {"own", "teammate"}), ("rep", {"own"})]
)
def test_the_api_counts_and_shows_only_the_deals_in_scope(web, client, role, sees):
    store, planted = web
    r = client.get("/api/doctor", headers={"Authorization": f"Bearer {store.tokens[role]}"})
    assert r.status_code == 200, r.text
    body = r.json()
    scope = in_scope(store, role)
    assert body["opportunities"] == len(scope)
    found = {f["check"]: f for f in body["findings"]}
    dates = found["closed_before_created"]
    assert dates["count"] == sum(PLANTED[o] for o in sees)
    assert {e["id"] for e in dates["examples"]} == {d for o in sees for d in planted[o]}
    assert named_ids(r.text) <= scope  # no finding's example names a deal outside the scope
    hidden = {d for o in set(PLANTED) - sees for d in planted[o]}
    assert not named_ids(r.text) & hidden


def test_a_where_outside_the_scope_is_refused(web, client):
    store, _ = web
    manager = {"Authorization": f"Bearer {store.tokens['manager']}"}
    assert client.get("/api/doctor", params={"where": f"team={OTHER_TEAM}"}, headers=manager).status_code == 403
    rep = {"Authorization": f"Bearer {store.tokens['rep']}"}
    other = sorted(store.reps_in(OTHER_TEAM))[0]
    assert client.get("/api/doctor", params={"where": f"rep={other}"}, headers=rep).status_code == 403
    assert client.get("/api/doctor").status_code == 401
    narrowed = client.get("/api/doctor", params={"where": f"rep={store.rep}"}, headers=manager)
    assert narrowed.status_code == 200 and named_ids(narrowed.text) <= in_scope(store, "rep")


@pytest.mark.parametrize(
    ("name", "lang", "words", "sees"),
    [
        ("rita", "da", ("Datakvalitet", "lukket før de blev oprettet"), {"own"}),
        ("mo", "en", ("Data quality", "closed before they were created"), {"own", "teammate"}),
    ],
)
def test_the_data_quality_page_shows_the_findings_in_scope(web, name, lang, words, sees):
    from hitrate.web import create_app

    store, planted = web
    c = TestClient(create_app(store.path, secret="t"))
    sign_in(c, name)
    page = c.get(f"/doctor?lang={lang}")
    assert page.status_code == 200, page.text
    assert 'href="/doctor" aria-current="page"' in page.text
    assert all(w in page.text for w in words), words
    assert {d for o in sees for d in planted[o]} <= named_ids(page.text)
    assert named_ids(page.text) <= in_scope(store, "manager" if name == "mo" else "rep")
    assert 'href="/doctor"' in c.get(f"/?lang={lang}").text  # in the navigation of every page
