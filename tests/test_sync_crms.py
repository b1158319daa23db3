"""``hitrate sync`` for every CRM against a local fake of its API (tests/fake_*.py) fed by the synthetic generator:
the real client, paging, retries and import path run; nothing inside hitrate is mocked. What only one CRM has is
in tests/test_sync_<crm>.py."""

from __future__ import annotations

import csv
import json
import logging
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
from hitrate.sync import source_state  # noqa: E402
from hitrate.sync.state import deleted_ids  # noqa: E402
from tests.crm_server import serving  # noqa: E402
from tests.sync_helpers import FAST, TOKEN, deals_report, fake_for, run, snapshot  # noqa: E402

CRMS = ["hubspot", "pipedrive", "salesforce"]
N = 320  # more than three pages of 100


@pytest.fixture(scope="module")
def synth() -> Any:
    return hitrate.generate(n_opportunities=N, seed=7, with_activities=False)


@pytest.fixture(params=CRMS)
def fake(request: pytest.FixtureRequest, synth: Any) -> Any:
    f = fake_for(request.param)
    f.load_synth(synth)
    return f


@pytest.fixture
def url(fake: Any) -> Any:
    with serving(fake.app(fake.routes())) as base:
        yield base


def test_a_first_sync_stores_every_deal_owner_and_stage_as_the_generator_made_them(
    store: Store, fake: Any, url: str, synth: Any
):
    report = run(store, fake, url)
    deals = deals_report(report)
    assert deals.read == deals.imported == N and report.full and not report.quarantined
    assert all(f.adds_up() for f in report.imports.files)
    truth = synth.opportunities["outcome"].value_counts()
    assert deals.outcomes == {"won": truth["won"], "lost": truth["lost"], "open": truth["open"]}
    rates = hitrate.rates(store)
    assert (rates.rows["attempts"][0], rates.rows["hits"][0]) == (truth["won"] + truth["lost"], truth["won"])
    assert set(synth.reps["rep"]) <= {r[0] for r in store.fetch("SELECT rep FROM reps")}
    assert store.fetch("SELECT count(DISTINCT rep) FROM opportunities") == [(synth.opportunities["rep"].nunique(),)]
    # Stage history: one row per stage each deal entered, the closing stage included.
    assert store.count("stage_history") == len(synth.stage_history.drop_duplicates(["id", "stage"]))
    assert fake.dimensions <= set(store.columns("opportunities"))  # custom fields included
    assert source_state(store, fake.crm).cursor == report.cursor and report.cursor["deals"]


def test_the_same_deals_from_a_sync_and_from_an_export_file_give_the_same_rates(tmp_path: Path, fake: Any, url: str):
    synced, filed = tmp_path / "synced.duckdb", tmp_path / "filed.duckdb"
    with Store(synced) as s:
        run(s, fake, url)
    rows = fake.export_rows()
    export = tmp_path / f"{fake.crm}-export.csv"
    with export.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with Store(filed) as s:
        import_files(s, [export], preset=fake.crm)
    runner = CliRunner()
    segment = min(d for d in fake.dimensions if d.startswith("segment"))
    for args in ([], ["--by", "rep"], ["--by", "lead_source", "--by", segment], ["--period", "quarter"]):
        a = runner.invoke(app, ["rates", "--db", str(synced), *args])
        b = runner.invoke(app, ["rates", "--db", str(filed), *args])
        assert a.exit_code == b.exit_code == 0, a.output + b.output
        assert a.output == b.output


def test_a_second_sync_fetches_only_what_changed_and_counts_one_updated(store: Store, fake: Any, url: str):
    first = run(store, fake, url)
    before = len(fake.log)
    changed = str(fake.deal_ids()[16])
    fake.change_amount(changed, 99999)
    report = run(store, fake, url)
    deals = deals_report(report)
    assert (deals.imported, deals.updated) == (0, 1) and not report.full
    assert deals.read <= 2  # the changed deal, and the one the cursor stood on (the filter is "at or after")
    assert store.fetch("SELECT amount FROM opportunities WHERE id = ?", [changed]) == [(99999.0,)]
    asked = [r for r in fake.deals_log() if fake.log.index(r) >= before and fake.since(r) != fake.CONTINUED]
    assert asked and all(fake.since(r) is not None for r in asked)
    assert {fake.since(r) for r in asked} == {fake.cursor_filter(first.cursor["deals"])}
    assert report.cursor["deals"] != first.cursor["deals"]
    assert deals_report(run(store, fake, url)).updated == 0  # nothing changed since


def test_a_deal_deleted_in_the_crm_leaves_the_counts_and_keeps_its_history(store: Store, fake: Any, url: str):
    run(store, fake, url)
    hits = hitrate.rates(store).rows["hits"][0]
    gone = fake.remove_won()
    history = store.fetch("SELECT count(*) FROM stage_history WHERE id = ?", [gone])[0][0]
    report = run(store, fake, url)
    assert report.deleted == 1
    assert store.fetch("SELECT count(*) FROM opportunities WHERE id = ?", [gone]) == [(0,)]
    assert hitrate.rates(store).rows["hits"][0] == hits - 1
    assert store.fetch("SELECT count(*) FROM stage_history WHERE id = ?", [gone])[0][0] == history > 0
    assert deleted_ids(store, fake.crm) == [gone]
    kept = json.loads(store.fetch('SELECT "row" FROM crm_deleted WHERE id = ?', [gone])[0][0])
    assert kept["outcome"] == "won"
    assert run(store, fake, url).deleted == 0  # already removed


def test_a_sync_that_fails_on_page_three_leaves_the_rows_and_the_cursor_as_they_were(store: Store, fake: Any, url: str):
    run(store, fake, url)
    tables = ("opportunities", "reps", "stage_history", "crm_stages", "crm_deleted")
    before = {t: snapshot(store, t) for t in tables}
    cursor = source_state(store, fake.crm).cursor
    ids = fake.deal_ids()
    for deal_id in (ids[2], ids[150], ids[290]):
        fake.change_amount(deal_id, 1)
    fake.remove_won()
    fake.fail_deals(status=500, nth=3, times=FAST.attempts)
    with pytest.raises(SyncError) as err:
        run(store, fake, url, full=True)
    assert "500" in str(err.value)
    assert {t: snapshot(store, t) for t in tables} == before
    state = source_state(store, fake.crm)
    assert state.cursor == cursor and state.error == str(err.value)
    statuses = [r.status for r in fake.deals_log()][-(2 + FAST.attempts) :]
    assert statuses == [200, 200] + [500] * FAST.attempts  # pages 1 and 2, then page 3 on every try
    # The next good run stores the changes and clears the error.
    again = run(store, fake, url)
    assert (deals_report(again).updated, again.deleted) == (3, 1) and source_state(store, fake.crm).error is None


def test_a_500_then_success_and_a_429_with_retry_after_are_retried(store: Store, fake: Any, url: str):
    fake.fail_deals(status=503, nth=1)
    fake.fail_deals(status=429, nth=2, headers={"Retry-After": "1"})
    report = run(store, fake, url)
    assert deals_report(report).imported == N
    statuses = [r.status for r in fake.deals_log()]
    assert statuses[:3] == [503, 200, 429] and statuses[3] == 200


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ({"status": 429, "headers": {"Retry-After": "0"}, "times": 99}, ["429", "wait a few minutes"]),
        ({"status": 502, "times": 99}, ["502", "try again later"]),
        ({"status": 200, "delay": 1.0, "times": 99}, ["did not answer within 0.3 seconds", "--timeout"]),
    ],
    ids=["429", "502", "timeout"],
)
def test_rate_limits_server_errors_and_timeouts_that_persist_are_one_line_naming_the_crm(
    tmp_path: Path, fake: Any, url: str, fault: dict[str, Any], words: list[str]
):
    fake.fail_deals(**fault)
    args = ["sync", fake.crm, "--api-base", url, "--db", str(tmp_path / "s.duckdb")]
    result = CliRunner().invoke(
        app, [*args, "--retries", "2", "--backoff", "0.01", "--timeout", "0.3"], env=fake.env(TOKEN)
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    for word in [fake.label, *words]:
        assert word in result.output
    assert len(fake.deals_log()) == 3  # a try and two retries


def test_an_expired_token_says_so_and_names_what_to_set(tmp_path: Path, fake: Any, url: str):
    args = ["sync", fake.crm, "--api-base", url, "--db", str(tmp_path / "s.duckdb")]
    result = CliRunner().invoke(app, args, env=fake.env("expired-token"))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert fake.label in result.output and ("401" in result.output or "refused to sign in" in result.output)
    assert f"HITRATE_{fake.crm.upper()}" in result.output or "security token" in result.output


def test_no_credential_appears_in_output_logs_store_or_errors(
    tmp_path: Path, fake: Any, url: str, caplog: pytest.LogCaptureFixture
):
    db = tmp_path / "s.duckdb"
    caplog.set_level(logging.DEBUG)
    env = fake.env(TOKEN)
    ok = CliRunner().invoke(app, ["sync", fake.crm, "--api-base", url, "--db", str(db), "--format", "json"], env=env)
    assert ok.exit_code == 0, ok.output
    fake.fail_deals(status=500, times=99, body={"echo": TOKEN})
    bad = CliRunner().invoke(app, ["sync", fake.crm, "--api-base", url, "--db", str(db), "--backoff", "0"], env=env)
    assert bad.exit_code == 2
    with Store(db) as s, pytest.raises(SyncError) as err:
        run(s, fake, url, full=True)
    shown = [ok.output, bad.output, caplog.text, str(err.value), repr(err.value), str(err.value.params)]
    assert all(TOKEN not in text for text in shown)
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert TOKEN.encode() not in db.read_bytes()
    assert any(TOKEN in json.dumps(r.headers) + json.dumps(r.body or "") for r in fake.log)  # it was sent


def test_sync_json_prints_what_import_json_prints_plus_the_sync(tmp_path: Path, fake: Any, url: str):
    args = ["sync", fake.crm, "--api-base", url, "--db", str(tmp_path / "s.duckdb"), "--format", "json"]
    data = json.loads(CliRunner().invoke(app, args, env=fake.env(TOKEN)).output)
    assert {"read", "imported", "updated", "unchanged", "quarantined", "batch_id", "files", "warnings"} <= set(data)
    assert data["read"] == data["imported"] + data["updated"] + data["unchanged"] + data["quarantined"]
    assert data["sync"]["crm"] == fake.crm and data["sync"]["full"] is True
    assert [f["path"] for f in data["files"]] == [f"{fake.crm}:{t}" for t in ("deals", "owners", "stage_history")]


def test_the_sync_report_shows_the_five_faces_of_every_result(store: Store, fake: Any, url: str):
    import pandas as pd
    import plotly.graph_objects as go

    report = run(store, fake, url)
    assert report.summary().startswith(f"Sync of {fake.label} (batch 1)") and "Synkronisering" in report.summary("da")
    assert list(report.to_frame()["file"]) == [f"{fake.crm}:deals", f"{fake.crm}:owners", f"{fake.crm}:stage_history"]
    assert isinstance(report.to_frame(), pd.DataFrame)
    json.dumps(report.to_dict(), allow_nan=False)
    html = report._repr_html_()
    assert html.startswith('<div class="hitrate-result">') and "<table" in html
    assert isinstance(report.plot(), go.Figure) and report.plot().data and isinstance(report.plot("da"), go.Figure)


def test_an_error_that_would_show_a_credential_is_hidden():
    from hitrate.sync.client import CrmClient

    client = CrmClient("hubspot", "http://127.0.0.1:9", None, FAST, secrets=[TOKEN])
    with pytest.raises(SyncError) as err, client.errors(f"/crm/v3/objects/deals/{TOKEN}"):
        raise ValueError("not JSON")
    assert TOKEN not in str(err.value) and "not shown" in str(err.value)
    with pytest.raises(SyncError) as plain, client.errors("/crm/v3/objects/deals"):
        raise ValueError("not JSON")
    assert "/crm/v3/objects/deals" in str(plain.value)
