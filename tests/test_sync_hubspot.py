"""What only HubSpot's sync has (the shared behaviour is in tests/test_sync_crms.py): owners' teams, the
documented example owner, pipelines with won and lost stages, paging by 100, a failure at the commit, and the
credentials file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_module

require_module("dlt")
require_module("uvicorn")

from typer.testing import CliRunner  # noqa: E402

import hitrate  # noqa: E402
from hitrate.cli import app  # noqa: E402
from hitrate.store.embedded import Store  # noqa: E402
from hitrate.sync import source_state  # noqa: E402
from hitrate.sync.state import stages  # noqa: E402
from tests.crm_server import serving  # noqa: E402
from tests.fake_hubspot import FakeHubSpot  # noqa: E402
from tests.sync_helpers import FAST, TOKEN, credentials, run, snapshot  # noqa: E402

N = 250


@pytest.fixture(scope="module")
def synth() -> Any:
    return hitrate.generate(n_opportunities=N, seed=11, with_activities=False)


@pytest.fixture
def fake(synth: Any) -> FakeHubSpot:
    f = FakeHubSpot(TOKEN)
    f.load_synth(synth)
    return f


@pytest.fixture
def url(fake: FakeHubSpot) -> Any:
    with serving(fake.app(fake.routes())) as base:
        yield base


def test_owners_teams_pipelines_and_stage_flags_come_from_hubspot(store: Store, fake: FakeHubSpot, url: str):
    run(store, fake, url)
    reps = dict(store.fetch("SELECT rep, team FROM reps"))
    assert reps["Jane Doe"] == "Sales Team"  # the owner of HubSpot's documented example, with its team
    assert store.fetch("SELECT email FROM reps WHERE rep = 'Jane Doe'") == [("jdoe@example.com",)]
    defined = stages(store, "hubspot")
    assert [s["stage"] for s in defined if s["is_won"]] == ["Closed Won"]
    assert [s["stage"] for s in defined if s["is_lost"]] == ["Closed Lost"]
    assert [s["position"] for s in defined] == list(range(6)) and defined[0]["probability"] == 0.2
    assert {s["pipeline"] for s in defined} == {"Sales Pipeline"}
    assert len(fake.requests_to("/crm/v3/objects/deals/search")) == 3  # 250 deals, 100 a page
    assert [r.query.get("archived") for r in fake.requests_to("/crm/v3/owners")] == ["false", "true"]


def test_a_failure_at_the_commit_rolls_back_rows_and_cursor(store: Store, fake: FakeHubSpot, url: str):
    from hitrate.sync.hubspot import fetch
    from hitrate.sync.load import store_fetched
    from hitrate.sync.run import connect

    run(store, fake, url)
    fake.touch("5", amount="5")
    before = snapshot(store, "opportunities"), source_state(store, "hubspot").cursor
    fetched = fetch(connect("hubspot", credentials=credentials(fake), api_base=url, retry=FAST), before[1])

    def killed() -> None:
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        store_fetched(store, fetched, fail_before_commit=killed)
    assert (snapshot(store, "opportunities"), source_state(store, "hubspot").cursor) == before


def test_the_credentials_file_is_read_only_when_private(tmp_path: Path, url: str):
    secret_file = tmp_path / "credentials.toml"
    secret_file.write_text(f'[hubspot]\ntoken = "{TOKEN}"\n', encoding="utf-8")
    os.chmod(secret_file, 0o644)
    db = ["--db", str(tmp_path / "s.duckdb")]
    args = ["sync", "hubspot", "--api-base", url, *db, "--credentials", str(secret_file)]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2
    assert str(secret_file) in refused.output and f"chmod 600 {secret_file}" in refused.output
    assert "0644" in refused.output and TOKEN not in refused.output
    os.chmod(secret_file, 0o600)
    accepted = CliRunner().invoke(app, args)
    assert accepted.exit_code == 0, accepted.output
    # The default file ($HITRATE_CREDENTIALS here) is held to the same rule, and read when private.
    env = {"HITRATE_HUBSPOT_TOKEN": "", "HITRATE_CREDENTIALS": str(secret_file)}
    assert CliRunner().invoke(app, ["sync", "hubspot", "--api-base", url, *db], env=env).exit_code == 0
    os.chmod(secret_file, 0o640)
    group = CliRunner().invoke(app, ["sync", "hubspot", "--api-base", url, *db], env=env)
    assert group.exit_code == 2 and "chmod 600" in group.output
    nowhere = {**env, "HITRATE_CREDENTIALS": str(tmp_path / "none.toml")}
    missing = CliRunner().invoke(app, ["sync", "hubspot", "--api-base", url, *db], env=nowhere)
    assert missing.exit_code == 2 and "no access token" in missing.output and "HITRATE_HUBSPOT_TOKEN" in missing.output
