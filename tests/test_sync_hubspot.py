"""``hitrate sync hubspot`` against a local fake of HubSpot's CRM v3 API (tests/fake_hubspot.py): the real client,
paging, retries and import path run; nothing inside hitrate is mocked."""

from __future__ import annotations

import csv
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_module

require_module("dlt")
require_module("uvicorn")

from typer.testing import CliRunner  # noqa: E402

import hitrate  # noqa: E402
from hitrate.cli import app  # noqa: E402
from hitrate.errors import SyncError  # noqa: E402
from hitrate.ingest import import_files  # noqa: E402
from hitrate.store.embedded import Store  # noqa: E402
from hitrate.sync import Credentials, RetryPolicy, Secret, source_state, sync  # noqa: E402
from hitrate.sync.state import deleted_ids, stages  # noqa: E402
from tests.crm_server import serving  # noqa: E402
from tests.fake_hubspot import FakeHubSpot  # noqa: E402

TOKEN = "secret-XYZ"
FAST = RetryPolicy(attempts=3, backoff=0.01, max_wait=0.05, timeout=5)
N = 320  # more than three pages of 100


@pytest.fixture(scope="module")
def synth() -> Any:
    return hitrate.generate(n_opportunities=N, seed=7, with_activities=False)


@pytest.fixture
def fake(synth: Any) -> FakeHubSpot:
    f = FakeHubSpot(TOKEN)
    f.load_synth(synth)
    return f


@pytest.fixture
def url(fake: FakeHubSpot) -> Any:
    with serving(fake.app(fake.routes())) as base:
        yield base


def creds(token: str = TOKEN) -> Credentials:
    return Credentials("hubspot", {"token": Secret(token)})


def run(store: Store, url: str, **kwargs: Any) -> Any:
    return sync(store, "hubspot", credentials=creds(kwargs.pop("token", TOKEN)), api_base=url, retry=FAST, **kwargs)


def table(store: Store, name: str) -> list[tuple[Any, ...]]:
    exclude = " EXCLUDE (_batch)" if "_batch" in store._all_columns(name) else ""
    return store.fetch(f"SELECT *{exclude} FROM {name} ORDER BY ALL")


def test_first_sync_stores_every_deal_owner_stage_and_history_as_the_generator_made_them(
    store: Store, fake: FakeHubSpot, url: str, synth: Any
):
    report = run(store, url)
    deals = next(f for f in report.imports.files if f.table == "opportunities")
    assert deals.read == deals.imported == N and report.full
    assert report.read == report.imported + report.updated + report.unchanged + report.quarantined
    truth = synth.opportunities["outcome"].value_counts()
    assert deals.outcomes == {"won": truth["won"], "lost": truth["lost"], "open": truth.get("open", 0)}
    rates = hitrate.rates(store)
    assert (rates.rows["attempts"][0], rates.rows["hits"][0]) == (truth["won"] + truth["lost"], truth["won"])
    # Owners with their HubSpot team; the docs' example owner too.
    reps = dict(store.fetch("SELECT rep, team FROM reps"))
    assert reps["Jane Doe"] == "Sales Team" and len(reps) == len(synth.reps) + 1
    assert set(synth.reps["rep"]) <= set(reps)
    # Stage history from hs_v2_date_entered_*: one row per stage each deal entered (HubSpot keeps the last date).
    expected = synth.stage_history.drop_duplicates(["id", "stage"]).shape[0]
    assert store.count("stage_history") == expected
    # Pipelines and stages with order, probability and won/lost flags.
    defined = stages(store, "hubspot")
    won = [s["stage"] for s in defined if s["is_won"]]
    lost = [s["stage"] for s in defined if s["is_lost"]]
    assert (won, lost) == (["Closed Won"], ["Closed Lost"]) and len(defined) == 6
    assert [s["position"] for s in defined] == sorted(s["position"] for s in defined)
    # Custom properties are dimensions; the cursor is the last modification seen.
    assert {"segment", "product", "region", "lead_source"} <= set(store.columns("opportunities"))
    last = max(p["hs_lastmodifieddate"] for p in fake.deals.values())
    assert source_state(store, "hubspot").cursor == {"deals": last}
    # Four pages of 100, as HubSpot pages.
    assert len(fake.requests_to("/crm/v3/objects/deals/search")) == 4


def test_the_same_deals_from_a_sync_and_from_an_export_file_give_the_same_rates(
    tmp_path: Path, fake: FakeHubSpot, url: str
):
    synced, filed = tmp_path / "synced.duckdb", tmp_path / "filed.duckdb"
    with Store(synced) as s:
        run(s, url)
    rows = fake.export_rows()
    export = tmp_path / "hubspot-crm-exports-all-deals.csv"
    with export.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with Store(filed) as s:
        import_files(s, [export], preset="hubspot")
    runner = CliRunner()
    for args in ([], ["--by", "rep"], ["--by", "lead_source", "--by", "segment"], ["--period", "quarter"]):
        a = runner.invoke(app, ["rates", "--db", str(synced), *args])
        b = runner.invoke(app, ["rates", "--db", str(filed), *args])
        assert a.exit_code == b.exit_code == 0, a.output + b.output
        assert a.output == b.output


def test_a_second_sync_fetches_only_what_changed_and_counts_one_updated(store: Store, fake: FakeHubSpot, url: str):
    run(store, url)
    cursor = source_state(store, "hubspot").cursor
    before = len(fake.log)
    fake.touch("17", amount="99999")
    report = run(store, url)
    deals = next(f for f in report.imports.files if f.table == "opportunities")
    assert deals.updated == 1 and deals.imported == 0 and not report.full
    assert store.fetch("SELECT amount FROM opportunities WHERE id = '17'") == [(99999.0,)]
    searches = [r for r in fake.log[before:] if r.path.endswith("/search")]
    assert len(searches) == 1
    (flt,) = searches[0].body["filterGroups"][0]["filters"]
    assert flt["propertyName"] == "hs_lastmodifieddate" and flt["operator"] == "GTE"
    # Only the deals modified at or after the cursor came back: the changed one and the one at the cursor.
    assert deals.read == 2 and cursor is not None
    assert source_state(store, "hubspot").cursor == {"deals": fake.deals["17"]["hs_lastmodifieddate"]}
    # A third sync with nothing changed updates nothing.
    assert run(store, url).updated == 0


def test_an_archived_deal_leaves_the_counts_and_keeps_its_history(store: Store, fake: FakeHubSpot, url: str):
    run(store, url)
    won_id = next(i for i, p in fake.deals.items() if p["hs_is_closed_won"] == "true")
    history = store.fetch("SELECT count(*) FROM stage_history WHERE id = ?", [won_id])[0][0]
    hits = hitrate.rates(store).rows["hits"][0]
    fake.archive(won_id)
    report = run(store, url)
    assert report.deleted == 1
    assert store.fetch("SELECT count(*) FROM opportunities WHERE id = ?", [won_id]) == [(0,)]
    assert hitrate.rates(store).rows["hits"][0] == hits - 1
    assert store.fetch("SELECT count(*) FROM stage_history WHERE id = ?", [won_id])[0][0] == history > 0
    assert deleted_ids(store, "hubspot") == [won_id]
    kept = json.loads(store.fetch("SELECT row FROM crm_deleted WHERE id = ?", [won_id])[0][0])
    assert kept["outcome"] == "won"
    assert run(store, url).deleted == 0  # already removed


def test_a_sync_that_fails_on_page_three_leaves_the_rows_and_the_cursor_as_they_were(
    store: Store, fake: FakeHubSpot, url: str
):
    run(store, url, full=True)
    before = {t: table(store, t) for t in ("opportunities", "reps", "stage_history", "crm_stages")}
    cursor = source_state(store, "hubspot").cursor
    for deal_id in ("3", "150", "290"):
        fake.touch(deal_id, amount="1")
    fake.fail("POST", "/crm/v3/objects/deals/search", status=500, nth=3, times=FAST.attempts)
    with pytest.raises(SyncError) as err:
        run(store, url, full=True)
    assert "HubSpot" in str(err.value) and "500" in str(err.value)
    assert {t: table(store, t) for t in before} == before
    state = source_state(store, "hubspot")
    assert state.cursor == cursor and state.error == str(err.value)
    # Pages 1 and 2 were fetched, page 3 failed on every try.
    statuses = [r.status for r in fake.requests_to("/crm/v3/objects/deals/search")][-(2 + FAST.attempts) :]
    assert statuses == [200, 200] + [500] * FAST.attempts
    # The next good run stores the changes and clears the error.
    assert run(store, url).updated == 3 and source_state(store, "hubspot").error is None


def test_a_failure_at_the_commit_rolls_back_rows_and_cursor(store: Store, fake: FakeHubSpot, url: str):
    from hitrate.sync.hubspot import fetch
    from hitrate.sync.load import store_fetched
    from hitrate.sync.run import connect

    run(store, url)
    fake.touch("5", amount="5")
    before = table(store, "opportunities"), source_state(store, "hubspot").cursor
    fetched = fetch(connect("hubspot", credentials=creds(), api_base=url, retry=FAST), before[1])

    def boom() -> None:
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        store_fetched(store, fetched, fail_before_commit=boom)
    assert (table(store, "opportunities"), source_state(store, "hubspot").cursor) == before


def test_429_with_retry_after_and_a_500_then_success_are_retried(store: Store, fake: FakeHubSpot, url: str):
    fake.fail("POST", "/crm/v3/objects/deals/search", status=429, nth=2, headers={"Retry-After": "1"})
    fake.fail("GET", "/crm/v3/owners", status=503)
    started = time.monotonic()
    patient = RetryPolicy(attempts=3, backoff=0.01, max_wait=5, timeout=5)  # Retry-After is honoured up to max_wait
    report = sync(store, "hubspot", credentials=creds(), api_base=url, retry=patient)
    assert report.imports.files[0].imported == N
    statuses = [r.status for r in fake.requests_to("/crm/v3/objects/deals/search")]
    assert statuses == [200, 429, 200, 200, 200]
    assert 1.0 <= time.monotonic() - started < 20  # the Retry-After second was waited
    assert [r.status for r in fake.requests_to("/crm/v3/owners")][:2] == [503, 200]


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ({"status": 429, "headers": {"Retry-After": "0"}, "times": 99}, ["HubSpot", "429", "wait"]),
        ({"status": 502, "times": 99}, ["HubSpot", "502", "try again later"]),
        ({"status": 200, "delay": 1.0, "times": 99}, ["HubSpot", "did not answer within 0.3 seconds", "--timeout"]),
    ],
)
def test_rate_limits_server_errors_and_timeouts_that_persist_are_one_line_without_a_traceback(
    tmp_path: Path, fake: FakeHubSpot, url: str, fault: dict[str, Any], words: list[str]
):
    fake.fail("GET", "/crm/v3/pipelines/deals", **fault)
    args = ["sync", "hubspot", "--api-base", url, "--db", str(tmp_path / "s.duckdb")]
    result = CliRunner().invoke(
        app, [*args, "--retries", "2", "--backoff", "0.01", "--timeout", "0.3"], env={"HITRATE_HUBSPOT_TOKEN": TOKEN}
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    for word in words:
        assert word in result.output
    assert len(fake.requests_to("/crm/v3/pipelines/deals")) == 3  # the first try and two retries


def test_an_expired_token_says_so_and_names_what_to_set(tmp_path: Path, url: str):
    args = ["sync", "hubspot", "--api-base", url, "--db", str(tmp_path / "s.duckdb")]
    result = CliRunner().invoke(app, args, env={"HITRATE_HUBSPOT_TOKEN": "expired-token"})
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "HubSpot refused the credentials (HTTP 401" in result.output and "HITRATE_HUBSPOT_TOKEN" in result.output
    missing = CliRunner().invoke(app, args, env={"HITRATE_HUBSPOT_TOKEN": "", "HITRATE_CREDENTIALS": "/nonexistent"})
    assert missing.exit_code == 2 and "no access token" in missing.output


def test_no_credential_appears_in_output_logs_store_or_errors(
    tmp_path: Path, fake: FakeHubSpot, url: str, caplog: pytest.LogCaptureFixture
):
    db = tmp_path / "s.duckdb"
    caplog.set_level(logging.DEBUG)
    env = {"HITRATE_HUBSPOT_TOKEN": TOKEN}
    ok = CliRunner().invoke(app, ["sync", "hubspot", "--api-base", url, "--db", str(db), "--format", "json"], env=env)
    assert ok.exit_code == 0, ok.output
    fake.fail("POST", "/crm/v3/objects/deals/search", status=500, times=99, body={"echo": TOKEN})
    bad = CliRunner().invoke(app, ["sync", "hubspot", "--api-base", url, "--db", str(db), "--backoff", "0"], env=env)
    assert bad.exit_code == 2
    with Store(db) as s, pytest.raises(SyncError) as err:
        sync(s, "hubspot", credentials=creds(), api_base=url, retry=FAST, full=True)
    shown = [ok.output, bad.output, caplog.text, str(err.value), repr(err.value), repr(creds())]
    assert all(TOKEN not in text for text in shown)
    assert err.value.__cause__ is None and err.value.__context__ is None or TOKEN not in str(err.value.__context__)
    assert TOKEN.encode() not in db.read_bytes()
    assert any(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in fake.log)  # it was sent, in a header


def test_sync_json_prints_what_import_json_prints_plus_the_sync(tmp_path: Path, url: str):
    db = tmp_path / "s.duckdb"
    args = ["sync", "hubspot", "--api-base", url, "--db", str(db), "--format", "json"]
    result = CliRunner().invoke(app, args, env={"HITRATE_HUBSPOT_TOKEN": TOKEN})
    data = json.loads(result.output)
    keys = {"read", "imported", "updated", "unchanged", "quarantined", "batch_id", "files", "warnings"}
    assert keys <= set(data)
    assert data["read"] == data["imported"] + data["updated"] + data["unchanged"] + data["quarantined"]
    assert data["sync"]["crm"] == "hubspot" and data["sync"]["full"] is True and data["sync"]["requests"] >= 8
    assert [f["path"] for f in data["files"]] == ["hubspot:deals", "hubspot:owners", "hubspot:stage_history"]


def test_the_credentials_file_is_read_only_when_private(tmp_path: Path, url: str):
    secret_file = tmp_path / "credentials.toml"
    secret_file.write_text(f'[hubspot]\ntoken = "{TOKEN}"\n', encoding="utf-8")
    os.chmod(secret_file, 0o644)
    args = ["sync", "hubspot", "--api-base", url, "--db", str(tmp_path / "s.duckdb"), "--credentials", str(secret_file)]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2
    assert str(secret_file) in refused.output and f"chmod 600 {secret_file}" in refused.output
    assert "0644" in refused.output and TOKEN not in refused.output
    os.chmod(secret_file, 0o600)
    accepted = CliRunner().invoke(app, args)
    assert accepted.exit_code == 0, accepted.output
    # The default file (HITRATE_CREDENTIALS) is held to the same rule.
    os.chmod(secret_file, 0o640)
    default = CliRunner().invoke(
        app, args[:-2], env={"HITRATE_HUBSPOT_TOKEN": "", "HITRATE_CREDENTIALS": str(secret_file)}
    )
    assert default.exit_code == 2 and "chmod 600" in default.output
