"""The forecast on the API and the dashboard: every role sees only its scope (a manager their teams, a rep their
own deals), the numbers are the library's, and the page draws the band chart and the backtest's accuracy."""

from __future__ import annotations

import re

import pytest

from tests.conftest import require_module  # noqa: E402

require_module("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from hitrate.improve.forecast import forecast  # noqa: E402
from hitrate.store.embedded import Store  # noqa: E402
from tests.web_helpers import MANAGED, OTHER_TEAM, PASSWORD, WebStore, build_web_store  # noqa: E402


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> WebStore:
    return build_web_store(tmp_path_factory.mktemp("forecast") / "web.duckdb", n=3000)


@pytest.fixture(scope="module")
def client(web: WebStore) -> TestClient:
    from hitrate.web import create_app

    return TestClient(create_app(web.path, secret="test"), raise_server_exceptions=False)


def get(client: TestClient, web: WebStore, role: str, **params: object) -> object:
    return client.get("/api/forecast", params=params, headers={"Authorization": f"Bearer {web.tokens[role]}"})


def test_each_role_gets_the_forecast_of_its_scope_only(client, web):
    params = {"as_of": "2024-10-01", "horizon": "quarter", "by": "team"}
    admin = get(client, web, "admin", **params)
    manager = get(client, web, "manager", **params)
    rep = get(client, web, "rep", as_of="2024-10-01", horizon="quarter", by="rep")
    assert admin.status_code == manager.status_code == rep.status_code == 200, manager.text
    assert {OTHER_TEAM, MANAGED} <= {r["team"] for r in admin.json()["rows"]}
    assert {r["team"] for r in manager.json()["rows"]} == {MANAGED}
    assert {r["rep"] for r in rep.json()["rows"]} == {web.rep}
    with Store(web.path, read_only=True) as store:
        mine = forecast(store, as_of="2024-10-01", horizon="quarter", where={"rep": [web.rep]}, by="rep").to_dict()
    assert [{k: pytest.approx(v, rel=1e-9) if isinstance(v, float) else v for k, v in r.items()}
            for r in rep.json()["rows"]] == mine["rows"]  # fmt: skip
    refused = get(client, web, "manager", as_of="2024-10-01", where=f"team={OTHER_TEAM}")
    assert refused.status_code == 403


def login(c: TestClient, name: str) -> None:
    page = c.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    c.post("/login", data={"username": name, "password": PASSWORD, "csrf": csrf}, follow_redirects=False)


@pytest.mark.parametrize(("name", "lang", "word"), [("mo", "en", "Forecast"), ("rita", "da", "Prognose")])
def test_the_page_shows_the_band_chart_and_the_accuracy_and_no_other_team(web, name, lang, word):
    from hitrate.web import create_app

    c = TestClient(create_app(web.path, secret="t"))
    login(c, name)
    page = c.get(f"/forecast?lang={lang}")
    assert page.status_code == 200, page.text
    assert word in page.text and 'id="forecast-chart"' in page.text
    assert 'id="forecast-accuracy"' in page.text
    assert OTHER_TEAM not in page.text


def test_the_api_takes_the_strata_as_the_command_line_does(client, web):
    """``strata`` (repeatable) and ``no_strata`` as ``--strata`` and ``--no-strata``; both at once is a 400 that
    names the two parameters."""
    params = {"as_of": "2024-10-01", "horizon": "quarter"}
    auto = get(client, web, "admin", **params).json()
    given = get(client, web, "admin", strata="lead_source", **params).json()
    off = get(client, web, "admin", no_strata="true", **params).json()
    assert auto["facts"]["strata"] == ["segment"]
    assert given["facts"]["strata"] == ["lead_source"] and off["facts"]["strata"] == []
    both = get(client, web, "admin", strata="segment", no_strata="true", **params)
    assert both.status_code == 400 and "no_strata" in both.text
