"""The CRM syncs page: each CRM's last sync, counts and error from the store's sync state, in English and Danish;
admins and managers see it, a rep gets 403; an admin's POST (with the form's CSRF token) starts a sync in a
background thread against a fake CRM (tests/fake_hubspot.py), the page answering while it runs, and the page
then shows the new state."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_module

require_module("fastapi")
require_module("dlt")
require_module("uvicorn")

from fastapi.testclient import TestClient  # noqa: E402

import hitrate  # noqa: E402
from hitrate.store.embedded import Store  # noqa: E402
from hitrate.store.users import add_user  # noqa: E402
from hitrate.sync import source_state  # noqa: E402
from tests.crm_server import serving  # noqa: E402
from tests.sync_helpers import TOKEN  # noqa: E402
from tests.web_helpers import PASSWORD, form_token, sign_in  # noqa: E402


@pytest.fixture
def fake() -> Any:
    from tests.fake_hubspot import FakeHubSpot

    f = FakeHubSpot(TOKEN)
    f.load_synth(hitrate.generate(n_opportunities=150, seed=3, with_activities=False))
    return f


@pytest.fixture
def site(tmp_path: Path, fake: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The app over a store with an admin, a manager and a rep, its HubSpot at the fake, the token in the
    environment; yields (app, fake, store path)."""
    from hitrate.web import create_app

    db = tmp_path / "web.duckdb"
    with Store(db) as s:
        add_user(s, "ann", "admin", password=PASSWORD)
        add_user(s, "mo", "manager", teams=["Team North"], password=PASSWORD)
        add_user(s, "rita", "rep", rep="Rita", password=PASSWORD)
    monkeypatch.setenv("HITRATE_HUBSPOT_TOKEN", TOKEN)
    monkeypatch.setenv("HITRATE_CREDENTIALS", str(tmp_path / "none.toml"))
    with serving(fake.app(fake.routes())) as url:
        yield create_app(db, secret="s", sync_api_bases={"hubspot": url}), fake, db


def client_of(app: Any, name: str) -> TestClient:
    c = TestClient(app)
    sign_in(c, name)
    return c


def test_the_page_shows_each_crm_in_english_and_danish_and_refuses_a_rep(site: Any):
    app, _, _ = site
    admin = client_of(app, "ann")
    en = admin.get("/sync?lang=en")
    assert en.status_code == 200
    assert all(label in en.text for label in ("HubSpot", "Pipedrive", "Salesforce"))
    assert "Last synced" in en.text and "never" in en.text and "Sync HubSpot now" in en.text
    da = admin.get("/sync?lang=da")
    assert da.status_code == 200 and "Senest synkroniseret" in da.text and "aldrig" in da.text
    assert "Synkronisér HubSpot nu" in da.text
    manager = client_of(app, "mo").get("/sync")
    assert manager.status_code == 200 and "Last synced" in manager.text
    assert 'action="/sync"' not in manager.text  # no buttons: only an admin starts a sync
    rep = client_of(app, "rita")
    assert rep.get("/sync").status_code == 403
    assert 'href="/sync"' not in rep.get("/").text
    assert rep.post("/sync", data={"crm": "hubspot", "csrf": form_token(rep, "/")}).status_code == 403


def test_a_post_without_the_form_token_or_by_a_manager_starts_nothing(site: Any):
    app, fake, _ = site
    admin = client_of(app, "ann")
    assert admin.post("/sync", data={"crm": "hubspot", "csrf": "forged"}).status_code == 403
    manager = client_of(app, "mo")
    assert manager.post("/sync", data={"crm": "hubspot", "csrf": form_token(manager, "/sync")}).status_code == 403
    assert admin.post("/sync", data={"crm": "zoho", "csrf": form_token(admin, "/sync")}).status_code == 400
    assert fake.log == [] and not app.state.syncs.running


def test_an_admins_post_starts_a_background_sync_and_the_page_shows_its_state(site: Any):
    app, fake, db = site
    admin = client_of(app, "ann")
    before = admin.get("/")
    assert before.status_code == 200
    fake.fail("GET", "/crm/v3/owners", delay=3.0)  # the CRM answers slowly: pages are read while the sync fetches
    r = admin.post("/sync", data={"crm": "hubspot", "csrf": form_token(admin, "/sync")}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/sync?started=hubspot"
    assert "hubspot" in app.state.syncs.running
    page = admin.get("/sync?started=hubspot")  # answered while the sync waits for the CRM
    assert page.status_code == 200 and "has started" in page.text and "syncing since" in page.text
    assert admin.get("/").status_code == 200
    again = admin.post("/sync", data={"crm": "hubspot", "csrf": form_token(admin, "/sync")})
    assert again.status_code == 409 and "already running" in again.text
    app.state.syncs.wait("hubspot", 60)
    assert not app.state.syncs.running
    with Store(db, read_only=True) as s:
        state = source_state(s, "hubspot")
    assert state.counts["read"] > 0 and state.error is None
    shown = admin.get("/sync").text
    row = re.search(r"<tr>\s*<td>HubSpot</td>(.*?)</tr>", shown, re.S)
    assert row is not None and "never" not in row.group(1) and "idle" in row.group(1)
    assert f"{state.counts['read']:,}" in row.group(1)
    assert TOKEN not in shown


def test_a_failed_sync_shows_its_error(site: Any):
    app, fake, _ = site
    fake.token = "another"  # the server's token is refused: 401
    admin = client_of(app, "ann")
    admin.post("/sync", data={"crm": "hubspot", "csrf": form_token(admin, "/sync")})
    app.state.syncs.wait("hubspot", 60)
    shown = admin.get("/sync").text
    assert "refused the credentials" in shown and TOKEN not in shown
