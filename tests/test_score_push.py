"""``hitrate score push`` against the fake CRMs (tests/fake_*.py), extended with their documented write endpoints:
HubSpot's batch read and update (100 a batch, HTTP 207 for partial failures), Pipedrive's ``GET /api/v2/deals?ids``
and ``PATCH /api/v2/deals/{id}``, Salesforce's sObject collections (200 a batch, ``allOrNone`` false). The fakes
record what was written; nothing inside hitrate is mocked."""

from __future__ import annotations

import json
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
from hitrate.sync.push import MAX_TEXT, push, value_of  # noqa: E402
from tests.crm_server import serving  # noqa: E402
from tests.sync_helpers import FAST, TOKEN, credentials, fake_for, run  # noqa: E402

CRMS = ["hubspot", "pipedrive", "salesforce"]
N = 450  # 260 of them open: three HubSpot batches of up to 100, two Salesforce batches of up to 200


@pytest.fixture(scope="module")
def synth() -> Any:
    return hitrate.generate(n_opportunities=N, seed=7, with_activities=False, start="2024-10-01")


@pytest.fixture(params=CRMS)
def fake(request: pytest.FixtureRequest, synth: Any) -> Any:
    f = fake_for(request.param)
    f.load_synth(synth)
    return f


@pytest.fixture
def url(fake: Any) -> Any:
    with serving(fake.app(fake.routes())) as base:
        yield base


def score_everything(store: Store) -> dict[str, str]:
    """Scores for every stored deal, as ``score predict`` keeps them (reasons as JSON lists); the value a push
    writes for each open one."""
    ids = [str(r[0]) for r in store.fetch("SELECT id FROM opportunities ORDER BY id")]
    rows = []
    for n, deal_id in enumerate(ids):
        p = (n * 37 % 100) / 100
        band = "A" if p >= 0.75 else "B" if p >= 0.5 else "C" if p >= 0.25 else "D"
        up = json.dumps([{"feature": "region", "value": f"R{n % 4}", "effect": 0.1}])
        down = json.dumps([{"feature": "product", "value": f"P{n % 3}", "effect": -0.05}])
        rows.append([deal_id, p, band, up, down, "model.joblib", "abc", "2025-01-01"])
    store.raw.executemany("INSERT INTO lead_scores VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    open_ids = {str(r[0]) for r in store.fetch("SELECT id FROM opportunities WHERE outcome = 'open'")}
    return {r[0]: value_of(r[1], r[2], r[3], r[4]) for r in rows if r[0] in open_ids}


def synced(store: Store, fake: Any, url: str) -> tuple[str, dict[str, str]]:
    """The fake synced into the store, every deal scored, the score property made: its name, and the values."""
    run(store, fake, url, rescore=False)
    return fake.add_score_property(), score_everything(store)


def pushing(store: Store, fake: Any, url: str, prop: str, **kwargs: Any) -> Any:
    return push(store, fake.crm, prop, credentials=credentials(fake), api_base=url, retry=FAST, **kwargs)


def test_a_dry_run_lists_every_change_and_writes_nothing(store: Store, fake: Any, url: str, tmp_path: Path):
    prop, wanted = synced(store, fake, url)
    assert len(wanted) == 260
    # an open deal a file brought, scored too: not the CRM's, never pushed
    extra = tmp_path / "more.csv"
    extra.write_text("id,rep,stage,created_at\nfile-1,Zed,Proposal,2024-12-01\n")
    import_files(store, [extra])
    store.raw.execute("INSERT INTO lead_scores VALUES ('file-1', 0.9, 'A', '[]', '[]', 'm', 'x', '2025-01-01')")
    report = pushing(store, fake, url, prop)
    assert not report.applied and report.counts["change"] == 260 and report.counts["scored"] == 260
    assert {r.id: r.new for r in report.records} == wanted
    assert all(r.old is None and r.status == "change" for r in report.records)
    assert fake.written == [] and fake.writes() == []
    assert "file-1" not in {r.id for r in report.records}


def test_apply_writes_only_changed_values_in_batches_of_the_documented_size(store: Store, fake: Any, url: str):
    prop, wanted = synced(store, fake, url)
    ids = sorted(wanted)
    for deal_id in ids[:5]:  # already right in the CRM: not written again
        fake_set(fake, deal_id, prop, wanted[deal_id])
    report = pushing(store, fake, url, prop, apply=True)
    assert report.ok and report.counts["written"] == 255 and report.counts["unchanged"] == 5
    assert sorted(i for i, _, _ in fake.written) == sorted(ids[5:])
    assert all(fake.value(i, prop) == wanted[i] for i in ids)
    sizes = [batch_size(fake, r) for r in fake.writes()]
    assert sizes == {"hubspot": [100, 100, 55], "pipedrive": [1] * 255, "salesforce": [200, 55]}[fake.crm]
    assert report.batches == len(sizes)
    again = pushing(store, fake, url, prop, apply=True)
    assert again.counts["unchanged"] == 260 and again.batches == 0
    assert len(fake.writes()) == len(sizes) and len(fake.written) == 255  # the second push wrote nothing


def test_a_refused_record_is_reported_and_the_rest_are_written(store: Store, fake: Any, url: str):
    prop, wanted = synced(store, fake, url)
    refused = sorted(wanted)[7]
    fake.refuse.add(refused)
    env = {**fake.env(TOKEN), "HITRATE_DB": str(store.path)}
    store.close()
    args = ["score", "push", fake.crm, "--property", prop, "--api-base", url, "--retries", "0"]
    result = CliRunner().invoke(app, [*args, "--apply", "--format", "json"], env=env)
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    failed = [r for r in doc["records"] if r["status"] == "failed"]
    assert [r["id"] for r in failed] == [refused] and failed[0]["error"]
    assert doc["counts"]["written"] == 259 and doc["counts"]["failed"] == 1
    assert fake.value(refused, prop) is None
    assert TOKEN not in result.output
    table = CliRunner().invoke(app, args, env=env)  # the dry run after: only the refused one is left
    assert table.exit_code == 0, table.output
    assert refused in table.output and "1 to change" in table.output and TOKEN not in table.output


def test_a_property_the_crm_lacks_is_named(store: Store, fake: Any, url: str):
    run(store, fake, url, rescore=False)
    with pytest.raises(SyncError) as caught:
        pushing(store, fake, url, "no_such_score")
    assert "no_such_score" in str(caught.value) and fake.label in str(caught.value)


def test_the_pushed_text_fits_a_text_field_and_other_values_are_numbers_or_bands():
    long = json.dumps([{"feature": "region", "value": "x" * 120, "effect": 0.1}] * 4)
    assert value_of(0.724, "B", long, "[]") == "72% (B): +region=" + "x" * 120
    assert len(value_of(0.724, "B", long, long)) <= MAX_TEXT
    assert value_of(0.724, "B", '[{"feature": "a", "value": "1", "effect": 0.1}]', None) == "72% (B): +a=1"
    assert (value_of(0.724, "B", None, None, "score"), value_of(0.724, "B", None, None, "band")) == ("72", "B")


def fake_set(fake: Any, deal_id: str, prop: str, value: str) -> None:
    """Set a deal's score property in the fake, as if an earlier push had written it."""
    if fake.crm == "hubspot":
        fake.deals[deal_id][prop] = value
    elif fake.crm == "pipedrive":
        from tests.fake_pipedrive import SCORE_KEY

        fake.deals[int(deal_id)]["custom_fields"][SCORE_KEY] = value
    else:
        fake.deal(deal_id)[prop] = value


def batch_size(fake: Any, logged: Any) -> int:
    if fake.crm == "hubspot":
        return len(logged.body["inputs"])
    if fake.crm == "salesforce":
        return len(logged.body["records"])
    return 1
