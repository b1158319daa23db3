"""The probe's findings (issue 16), each reproduced as a test: a rep reading another team's rate through the
benchmark's peers, a single deal's outcome by differencing ``where=id=...`` answers, and answers that tell
whether another team's deal or intervention exists. Every value searched for is computed as the admin."""

from __future__ import annotations

import pytest

from tests.conftest import require_module  # noqa: E402

require_module("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from tests.web_helpers import MANAGED, OTHER_TEAM, WebStore, build_web_store  # noqa: E402


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> WebStore:
    return build_web_store(tmp_path_factory.mktemp("sec") / "web.duckdb", n=2000)


@pytest.fixture(scope="module")
def client(web: WebStore) -> TestClient:
    from hitrate.web import create_app

    return TestClient(create_app(web.path, secret="test"), raise_server_exceptions=False)


def get(client: TestClient, web: WebStore, role: str, url: str, **params: object):
    return client.get(url, params=params, headers={"Authorization": f"Bearer {web.tokens[role]}"})


def _deals(web: WebStore) -> tuple[str, str, str]:
    """Another team's closed deal, the rep's own lost deal and own won deal."""
    from hitrate.store.embedded import Store

    with Store(web.path, read_only=True) as s:
        other = s.fetch(
            "SELECT min(id) FROM opportunities JOIN reps USING (rep) WHERE closed_at IS NOT NULL AND team <> ?",
            [MANAGED],
        )[0][0]
        lost = s.fetch("SELECT min(id) FROM opportunities WHERE rep = ? AND outcome = 'lost'", [web.rep])[0][0]
        won = s.fetch("SELECT min(id) FROM opportunities WHERE rep = ? AND outcome = 'won'", [web.rep])[0][0]
    return other, lost, won


def test_a_reps_benchmark_never_shows_another_teams_rate(client, web):
    """Probe: ``/api/benchmark?where=team=Team South`` as a rep of Team North answered the other team's rate as
    ``query.overall_rate`` (and its reps' quantiles)."""
    theirs = get(client, web, "admin", "/api/rates", where=f"team={OTHER_TEAM}").json()["rows"][0]["hit_rate"]
    r = get(client, web, "rep", "/api/benchmark", where=f"team={OTHER_TEAM}")
    assert str(theirs)[:8] not in r.text
    assert r.status_code == 403, r.text


def test_a_deals_outcome_cannot_be_read_by_differencing(client, web):
    """Probe: with ``where=id=OTHER&where=id=OWN_LOST&where=id=OWN_WON`` the overall rate (2/3 or 1/3) told
    whether another rep's deal was won. Now the peers take no ``where``, and a rate over the rep's own rows
    counts only their own two deals, whatever the third id."""
    other, lost, won = _deals(web)
    ids = [f"id={other}", f"id={lost}", f"id={won}"]
    r = get(client, web, "rep", "/api/benchmark", where=ids)
    assert r.status_code == 403
    assert "0.666" not in r.text and "0.333" not in r.text
    rows = get(client, web, "rep", "/api/rates", where=ids).json()["rows"]
    assert (rows[0]["attempts"], rows[0]["hits"]) == (2, 1)


@pytest.mark.parametrize(
    ("role", "url", "params"),
    [
        ("rep", "/api/benchmark", {}),
        ("rep", "/api/benchmark", {"by": "team"}),
        ("rep", "/api/rates", {"by": "rep"}),
        ("rep", "/api/leads", {}),
        ("rep", "/api/reasons", {"by": "rep"}),
        ("manager", "/api/benchmark", {}),
        ("manager", "/api/rates", {}),
    ],
)
def test_an_id_outside_the_scope_answers_as_one_that_does_not_exist(client, web, role, url, params):
    """Probe: ``where=id=X`` alone answered 500 when X existed and 400 when not: an existence oracle."""
    other, _, _ = _deals(web)
    there = get(client, web, role, url, **params, where=f"id={other}")
    missing = get(client, web, role, url, **params, where="id=NO-SUCH-DEAL")
    assert there.status_code == missing.status_code < 500
    assert there.text.replace(other, "X") == missing.text.replace("NO-SUCH-DEAL", "X")


def test_another_teams_intervention_answers_as_one_that_does_not_exist(web):
    """``/api/interventions/{id}/effect`` answered 400 "no such intervention" for an unknown id and 403 for another
    team's: a manager could list the ids that exist."""
    from hitrate.improve.interventions import add_intervention
    from hitrate.store.embedded import Store
    from hitrate.web import create_app

    with Store(web.path) as s:
        theirs = add_intervention(s, f"team={OTHER_TEAM}", kind="training", start="2023-06-01").intervention_id
    c = TestClient(create_app(web.path, secret="t"), raise_server_exceptions=False)
    there = get(c, web, "manager", f"/api/interventions/{theirs}/effect")
    missing = get(c, web, "manager", "/api/interventions/987654/effect")
    assert there.status_code == missing.status_code == 403
    assert there.json()["detail"].replace(str(theirs), "X") == missing.json()["detail"].replace("987654", "X")
    assert get(c, web, "admin", "/api/interventions/987654/effect").status_code == 400  # an admin is told


def test_a_reps_peers_are_everyone_over_whole_months(client, web):
    """The peers' quantiles come from every other rep, over the whole months around the dates asked: the answer
    for 2023-03-14..2023-05-02 is the answer for 2023-03-01..2023-05-31."""
    a = get(client, web, "rep", "/api/benchmark", date_from="2023-03-14", date_to="2023-05-02").json()
    b = get(client, web, "rep", "/api/benchmark", date_from="2023-03-01", date_to="2023-05-31").json()
    assert a["peers"] == b["peers"] and a["peers"]["n"] >= 5
    assert a["query"]["overall_rate"] == b["query"]["overall_rate"]


def test_too_few_peers_are_refused(tmp_path):
    """With four reps a rep's peers are three: fewer than five, so neither the benchmark nor the rep card shows
    their aggregates (an admin still sees them)."""
    from hitrate.store.embedded import Store
    from hitrate.web import create_app

    web = build_web_store(tmp_path / "few.duckdb", n=600)
    keep = sorted(web.team_of)[:4]
    if web.rep not in keep:
        keep[0] = web.rep
    with Store(web.path) as s:
        s.raw.execute(f"DELETE FROM opportunities WHERE rep NOT IN ({', '.join('?' * len(keep))})", keep)
    c = TestClient(create_app(web.path, secret="t"), raise_server_exceptions=False)
    r = get(c, web, "rep", "/api/benchmark")
    assert r.status_code == 403 and "at least 5 other reps" in r.json()["detail"]
    assert get(c, web, "rep", f"/api/coach/{web.rep}").status_code == 403
    assert get(c, web, "admin", "/api/benchmark").status_code == 200


# -- text the server refuses before reading it: 400, never a 500 ---------------------------------------------------
@pytest.mark.parametrize(
    ("method", "url", "kwargs", "named"),
    [
        ("get", "/api/rates", {"params": {"where": "team=Team\x00North"}}, "where"),
        ("get", "/api/rates", {"params": {"where": "team=" + "x" * 3000}}, "where"),
        ("get", "/api/rates?where=team%3D%ED%A0%80", {}, "query"),  # a lone surrogate, UTF-8-encoded
        ("get", "/api/rates", {"params": {"colour": "red"}}, "colour"),
        ("get", "/api/coach/A%00B", {}, "path"),
        ("post", "/api/feedback", {"content": '{"deal": "x", "reason": "price", "note": "\\ud800"}'}, "note"),
        ("post", "/api/feedback", {"json": {"deal": "x", "reason": "price\u0000"}}, "reason"),
    ],
    ids=["nul", "long", "surrogate", "unknown-param", "nul-path", "surrogate-json", "nul-json"],
)
def test_bad_text_is_a_clean_400(client, web, method, url, kwargs, named):
    """Probe: a NUL byte in a ``where`` value and a lone surrogate in a feedback note answered 500."""
    headers = {"Authorization": f"Bearer {web.tokens['rep']}", "Content-Type": "application/json"}
    r = getattr(client, method)(url, headers=headers, **kwargs)
    assert r.status_code == 400, r.text
    assert named in r.json()["detail"]


def test_an_unknown_json_field_is_refused(client, web):
    h = {"Authorization": f"Bearer {web.tokens['admin']}"}
    r = client.post("/api/feedback", headers=h, json={"deal": "x", "reason": "price", "colour": "red"})
    assert r.status_code == 422 and "colour" in r.text


def test_where_values_are_bound_parameters_not_sql_text(web):
    """The compiled SQL the store keeps for a query holds ``$p0`` where the value was, and the value beside it as
    data: a value written as SQL is counted as the text it is."""
    import json

    from hitrate import rates
    from hitrate.store.embedded import Store

    evil = "x') OR 1=1 --"
    with Store(web.path) as s:
        s.raw.execute("DELETE FROM compiled_queries")
        r = rates(s, where={"team": [evil, MANAGED]})
        bodies = [json.loads(b) for (b,) in s.fetch("SELECT body FROM compiled_queries")]
        alone = rates(s, where={"team": [MANAGED]})
    assert r.to_dict()["rows"] == alone.to_dict()["rows"]
    (body,) = bodies
    assert evil not in body["sql"] and MANAGED not in body["sql"] and "$p0" in body["sql"]
    assert sorted(v for _, v in body["params"].values()) == sorted([evil, MANAGED])


# -- less to learn from outside ------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/docs", "/redoc", "/openapi.json"])
def test_api_documents_are_for_signed_in_users(web, url):
    """Probe: ``/docs``, ``/redoc`` and ``/openapi.json`` answered anonymous users."""
    from hitrate.web import create_app

    c = TestClient(create_app(web.path, secret="t"))
    assert c.get(url, follow_redirects=False).status_code in (303, 401)
    assert c.get(url, headers={"Authorization": "Bearer nope"}, follow_redirects=False).status_code in (303, 401)
    r = c.get(url, headers={"Authorization": f"Bearer {web.tokens['rep']}"})
    assert r.status_code == 200
    public = TestClient(create_app(web.path, secret="t", public_docs=True))
    assert public.get(url).status_code == 200


def test_every_answer_has_a_content_security_policy(client, web):
    """Pages run only scripts from the server and inline ones carrying the response's nonce; JSON runs nothing."""
    import re

    api = get(client, web, "rep", "/api/definitions")
    assert api.headers["Content-Security-Policy"].startswith("default-src 'none'")
    page = client.get("/login")
    policy = page.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "unsafe-inline" not in policy.split("style-src")[0]  # scripts: no inline without the nonce
    scripts = re.findall(r"<script[^>]*>", page.text)
    assert scripts and all(f'nonce="{nonce}"' in s for s in scripts)
    assert " on" + "change=" not in page.text  # no inline handlers (the policy would block them)
    assert nonce not in client.get("/login").headers["Content-Security-Policy"]  # a new nonce per answer


def test_imports_never_name_the_servers_upload_folder(tmp_path):
    """Probe: import responses and ``import_batches`` held the server's temporary upload path."""
    from hitrate.store.embedded import Store
    from hitrate.web import create_app

    web = build_web_store(tmp_path / "i.duckdb", n=300)
    c = TestClient(create_app(web.path, secret="t"))
    csv = b"id,rep,stage,created_at,closed_at\nnew1,Zed,Won,2024-01-02,2024-02-01\nnew2,Zed,Lost,2024-01-02,x\n"
    h = {"Authorization": f"Bearer {web.tokens['admin']}"}
    r = c.post("/api/imports", headers=h, files={"files": ("more.csv", csv)}, data={"preset": "auto"})
    assert r.status_code == 200, r.text
    assert "hitrate-upload-" not in r.text and "more.csv" in r.text
    with Store(web.path, read_only=True) as s:
        stored = str(s.fetch("SELECT sources FROM import_batches")) + str(s.fetch("SELECT source FROM quarantine"))
    assert "hitrate-upload-" not in stored and "more.csv" in stored
    assert "hitrate-upload-" not in c.get("/api/quarantine", headers=h).text
