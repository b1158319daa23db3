"""``hitrate serve --sync CRM --sync-every INTERVAL``: the server syncs a CRM itself, at start and then every
interval, in a background thread; pages answer meanwhile; a failing round does not stop the next; the schedule
ends with the server. In process (the app's lifespan, as uvicorn runs it) and as a real ``hitrate serve``
process against a fake HubSpot (tests/fake_hubspot.py), its log holding each round's counts and no credential."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_module

require_module("fastapi")
require_module("dlt")
require_module("uvicorn")

import httpx  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

import hitrate  # noqa: E402
from hitrate.store.embedded import Store  # noqa: E402
from hitrate.store.users import add_user  # noqa: E402
from hitrate.sync import source_state  # noqa: E402
from tests.crm_server import serving as serving_crm  # noqa: E402
from tests.sync_helpers import TOKEN  # noqa: E402
from tests.web_helpers import PASSWORD, build_web_store, serving, sign_in  # noqa: E402


def until(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll ``check`` until it returns something true (returned), failing with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def fake() -> Any:
    from tests.fake_hubspot import FakeHubSpot

    f = FakeHubSpot(TOKEN)
    f.load_synth(hitrate.generate(n_opportunities=120, seed=5, with_activities=False))
    return f


def test_the_app_syncs_on_its_schedule_while_pages_answer_and_stops_with_the_server(
    tmp_path: Path, fake: Any, monkeypatch: pytest.MonkeyPatch
):
    from hitrate.web import create_app

    db = tmp_path / "web.duckdb"
    with Store(db) as s:
        add_user(s, "ann", "admin", password=PASSWORD)
    monkeypatch.setenv("HITRATE_HUBSPOT_TOKEN", TOKEN)
    monkeypatch.setenv("HITRATE_CREDENTIALS", str(tmp_path / "none.toml"))
    with serving_crm(fake.app(fake.routes())) as url:
        app = create_app(db, secret="s", sync=["hubspot"], sync_every=0.3, sync_api_bases={"hubspot": url})
        runner = app.state.syncs
        assert runner.rounds == 0 and not fake.log  # nothing before the server starts
        with TestClient(app) as client:
            until(lambda: runner.rounds >= 1, "the first round")
            first = runner.last["hubspot"]
            assert first.startswith("Read ") and " 0 imported" not in first
            sign_in(client, "ann")
            fake.change_amount(fake.deal_ids()[0], 123456.0)
            until(lambda: " 1 updated" in runner.last["hubspot"], "a round that sees the changed deal")
            assert client.get("/").status_code == 200  # pages answer between and during rounds
            fake.token = "another"  # the CRM now refuses the server's token: rounds fail, the schedule goes on
            failed_at = until(lambda: runner.last["hubspot"].startswith("failed: ") and runner.rounds, "a failure")
            until(lambda: runner.rounds > failed_at, "the round after a failed one")
            page = client.get("/sync").text
            assert "refused the credentials" in page and TOKEN not in page
        assert runner._scheduler is None  # the server's stop ended the schedule
        requests = len(fake.log)
        time.sleep(0.8)
        assert len(fake.log) == requests  # no round after the stop
    with Store(db, read_only=True) as s:
        state = source_state(s, "hubspot")
        assert state.error is not None and TOKEN not in state.error


def test_hitrate_serve_sync_runs_the_schedule_and_logs_each_round(tmp_path: Path, fake: Any):
    web = build_web_store(tmp_path / "store.duckdb", n=300)
    headers = {"Authorization": f"Bearer {web.tokens['admin']}"}

    def attempts(url: str) -> int:
        r = httpx.get(url + "/api/rates", headers=headers, timeout=60)
        assert r.status_code == 200, r.text
        return int(r.json()["rows"][0]["attempts"])

    log = tmp_path / "server.log"
    with serving_crm(fake.app(fake.routes())) as crm_url:
        args = ["--sync", "hubspot", "--sync-every", "1s", "--sync-api-base", f"hubspot={crm_url}"]
        env = {"HITRATE_HUBSPOT_TOKEN": TOKEN, "HITRATE_CREDENTIALS": str(tmp_path / "none.toml")}
        with serving(web.path, log, args, env) as url:
            until(lambda: "run 1: hubspot: Read" in log.read_text(), "the first round in the log")
            synced = attempts(url)
            assert synced > 300  # the generator's 300 deals and the CRM's
            until(lambda: "run 2: hubspot: Read" in log.read_text(), "the second round")
            assert attempts(url) == synced  # an unchanged CRM changes nothing
    text = log.read_text()
    assert TOKEN not in text
    second = next(line for line in text.splitlines() if "run 2: hubspot:" in line)
    assert " 0 imported, 0 updated" in second, second


def test_serve_refuses_a_bad_sync_option_naming_it():
    from typer.testing import CliRunner

    from hitrate.cli import app

    runner = CliRunner()
    bad_pair = runner.invoke(app, ["serve", "--sync", "hubspot", "--sync-api-base", "https://api-eu1.hubapi.com"])
    assert bad_pair.exit_code == 2 and "is not CRM=URL" in bad_pair.output and "Traceback" not in bad_pair.output
    bad_crm = runner.invoke(app, ["serve", "--sync-api-base", "zoho=https://zoho.example"])
    assert bad_crm.exit_code == 2 and "zoho" in bad_crm.output
    bad_every = runner.invoke(app, ["serve", "--sync", "hubspot", "--sync-every", "soon"])
    assert bad_every.exit_code == 2 and "'soon' is not an interval" in bad_every.output
    unknown = runner.invoke(app, ["serve", "--sync", "zoho"])
    assert unknown.exit_code == 2 and "zoho" in unknown.output
