"""``hitrate sync --every``: runs on a schedule, each logged with its counts, a failing run not stopping the next,
Ctrl-C or a run limit ending it; and lead scores refreshed after a sync. No test sleeps for real seconds."""

from __future__ import annotations

import logging
import threading
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
from hitrate.errors import InvalidValueError, SyncError  # noqa: E402
from hitrate.store.embedded import Store  # noqa: E402
from hitrate.sync.schedule import parse_interval, run_every  # noqa: E402
from tests.crm_server import serving  # noqa: E402
from tests.fake_hubspot import FakeHubSpot  # noqa: E402
from tests.sync_helpers import TOKEN, run  # noqa: E402


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("15m", 900), ("1h", 3600), ("1d", 86400), ("0.1s", 0.1), ("45", 45)]
)
def test_intervals_read_as_people_write_them(text: str, seconds: float):
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["soon", "1w", "0s", "-5m", ""])
def test_a_bad_interval_is_refused_naming_the_option(text: str):
    with pytest.raises(InvalidValueError) as err:
        parse_interval(text)
    assert err.value.parameter == "every" and "30s, 15m, 1h or 1d" in str(err.value)


def test_a_failing_run_does_not_stop_the_next_and_every_run_is_logged(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger="hitrate.sync")
    calls = iter([1, SyncError("sync.server_error", crm="HubSpot", status=503, tries=5), 3, 4])

    def once() -> int:
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    done = run_every(once, 0.001, runs=4, describe=lambda n: f"read {n}")
    assert [r.result for r in done] == [1, None, 3, 4] and isinstance(done[1].error, SyncError)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "run 1: read 1" and lines[2] == "run 3: read 3"
    assert lines[1].startswith("run 2 failed: HubSpot kept failing (HTTP 503)")


def test_the_stop_event_ends_the_schedule_without_waiting_out_the_interval():
    stop = threading.Event()
    started = time.monotonic()
    threading.Timer(0.2, stop.set).start()  # as a signal handler or the dashboard would
    done = run_every(lambda: "ok", 3600, stop=stop)  # an hour's interval: stopped while it waits
    assert len(done) == 1 and done[0].result == "ok" and time.monotonic() - started < 10


@pytest.fixture(scope="module")
def synth() -> Any:
    return hitrate.generate(n_opportunities=200, seed=9, with_activities=False)


@pytest.fixture
def fake(synth: Any) -> FakeHubSpot:
    f = FakeHubSpot(TOKEN)
    f.load_synth(synth)
    return f


@pytest.fixture
def url(fake: FakeHubSpot) -> Any:
    with serving(fake.app(fake.routes())) as base:
        yield base


def test_sync_every_runs_on_and_prints_each_run(tmp_path: Path, fake: FakeHubSpot, url: str):
    fake.fail_deals(status=500, nth=3)  # run 1 asks two pages, run 2's first page fails (no retries)
    args = ["sync", "hubspot", "--api-base", url, "--db", str(tmp_path / "s.duckdb"), "--every", "0.1s"]
    result = CliRunner().invoke(app, [*args, "--runs", "3", "--retries", "0"], env={"HITRATE_HUBSPOT_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert "run 1: Read" in lines[0] and " 0 imported" not in lines[0]
    assert "run 2 failed: HubSpot kept failing (HTTP 500)" in lines[1]
    assert "run 3: Read" in lines[2] and " 0 imported, 0 updated" in lines[2]
    with Store(tmp_path / "s.duckdb") as s:
        assert s.count("opportunities") == 200 and s.fetch("SELECT error FROM crm_sync") == [(None,)]
    json_runs = CliRunner().invoke(
        app, [*args, "--runs", "2", "--format", "json"], env={"HITRATE_HUBSPOT_TOKEN": TOKEN}
    )
    assert [line.startswith('{"run": ') for line in json_runs.output.strip().splitlines()] == [True, True]


def test_with_a_run_limit_a_failed_last_run_exits_with_1(tmp_path: Path, url: str):
    args = ["sync", "hubspot", "--api-base", url, "--db", str(tmp_path / "s.duckdb"), "--every", "0.05s"]
    result = CliRunner().invoke(app, [*args, "--runs", "2"], env={"HITRATE_HUBSPOT_TOKEN": "wrong-token"})
    assert result.exit_code == 1 and result.output.count("refused the credentials") == 2


def test_a_sync_rescores_the_leads_whose_data_changed(tmp_path: Path, fake: FakeHubSpot, url: str):
    store = Store(tmp_path / "s.duckdb")
    run(store, fake, url)
    model = tmp_path / "leads.model"
    quick_model(store, model)
    kept = hitrate.score_predict(store, model=str(model)).kept
    assert kept == 200
    before = dict(store.fetch("SELECT id, scored_at FROM lead_scores"))
    open_deal = next(i for i, p in fake.deals.items() if p["hs_is_closed"] == "false")
    fake.touch(open_deal, amount="1", segment="Enterprise")
    report = run(store, fake, url)
    assert report.rescored == 1
    after = dict(store.fetch("SELECT id, scored_at FROM lead_scores"))
    assert [i for i in after if after[i] != before[i]] == [open_deal]
    assert run(store, fake, url).rescored == 0  # nothing changed: nothing scored
    model.unlink()
    fake.touch(open_deal, amount="2")
    gone = run(store, fake, url)
    assert gone.rescored == 0 and any("is gone" in str(w) for w in gone.warnings)
    store.close()


def quick_model(store: Store, path: Path) -> None:
    """A lead-scoring model of the store's decided leads, small enough to fit in a moment."""
    from hitrate.engine.definitions import definitions_in_force
    from hitrate.scoring.io import save_model
    from hitrate.scoring.model import LeadScorer
    from hitrate.scoring.store_leads import read_store_leads

    leads = read_store_leads(store, definitions_in_force(store))
    decided = leads.y.notna()
    scorer = LeadScorer(max_iter=10, n_repeats=1).fit(leads.features[decided], leads.y[decided].astype(int))
    save_model(scorer, path, training_frame=leads.features[decided])
