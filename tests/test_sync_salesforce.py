"""What only Salesforce's sync has (the shared behaviour is in tests/test_sync_crms.py): the shared Salesforce
sample exports served through the fake API give the store a file import gives, the sign-in flows, and stages
with their won and lost flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, require, require_module

require_module("dlt")
require_module("uvicorn")

from typer.testing import CliRunner  # noqa: E402

import hitrate  # noqa: E402
from hitrate.cli import app  # noqa: E402
from hitrate.errors import SyncError  # noqa: E402
from hitrate.ingest import import_files  # noqa: E402
from hitrate.store.embedded import Store  # noqa: E402
from hitrate.sync import Credentials, Secret, sync  # noqa: E402
from hitrate.sync.state import stages  # noqa: E402
from tests.crm_server import serving  # noqa: E402
from tests.fake_salesforce import CLIENT_ID, SECURITY_TOKEN, USERNAME, FakeSalesforce  # noqa: E402
from tests.sync_helpers import FAST, TOKEN, run  # noqa: E402

SAMPLES = DATA / "crm_exports" / "salesforce"
EXPORTS = [
    ("sfdc-assets_data-cloud-workshop__Opportunity.csv", None),
    (
        "earthfink1982_salesforce-in-powerbi__Opportunity.csv",
        "earthfink1982_salesforce-in-powerbi__OpportunityHistory.csv",
    ),
]


@pytest.mark.parametrize(("opportunities", "history"), EXPORTS, ids=["data-cloud-workshop", "salesforce-in-powerbi"])
def test_the_shared_salesforce_exports_served_by_the_api_give_the_store_a_file_import_gives(
    tmp_path: Path, opportunities: str, history: str | None
):
    if not SAMPLES.exists():
        require(f"the shared data folder {SAMPLES} is missing")
    files = [SAMPLES / opportunities, *([SAMPLES / history] if history else [])]
    fake = FakeSalesforce(TOKEN)
    fake.load_files(*files)
    synced, filed = tmp_path / "synced.duckdb", tmp_path / "filed.duckdb"
    with serving(fake.app(fake.routes())) as url, Store(synced) as s:
        report = run(s, fake, url)
    with Store(filed) as s:
        imported = import_files(s, files, preset="salesforce")
    assert report.imports.files[0].read == imported.files[0].read == len(fake.objects["Opportunity"])
    assert report.imports.files[0].outcomes == imported.files[0].outcomes
    runner = CliRunner()
    for args in ([], ["--by", "stage"], ["--by", "lead_source"], ["--by", "rep"], ["--period", "quarter"]):
        a = runner.invoke(app, ["rates", "--db", str(synced), *args])
        b = runner.invoke(app, ["rates", "--db", str(filed), *args])
        assert a.exit_code == b.exit_code == 0, a.output + b.output
        assert a.output == b.output
    with Store(synced) as a, Store(filed) as b:
        history_rows = "SELECT id, stage, entered_at FROM stage_history ORDER BY ALL"
        assert a.fetch(history_rows) == b.fetch(history_rows)
        assert len(a.fetch(history_rows)) == (48 if history else 0)


@pytest.fixture(scope="module")
def synth() -> Any:
    return hitrate.generate(n_opportunities=150, seed=5, with_activities=False)


@pytest.fixture
def fake(synth: Any) -> FakeSalesforce:
    f = FakeSalesforce(TOKEN)
    f.load_synth(synth)
    return f


@pytest.fixture
def url(fake: FakeSalesforce) -> Any:
    with serving(fake.app(fake.routes())) as base:
        yield base


def signed_in(store: Store, url: str, **values: str) -> Any:
    creds = Credentials("salesforce", {k: Secret(v) for k, v in values.items()})
    return sync(store, "salesforce", credentials=creds, api_base=url, retry=FAST)


def test_every_sign_in_flow_reaches_the_data(store: Store, fake: FakeSalesforce, url: str):
    soap = signed_in(store, url, username=USERNAME, password=TOKEN, security_token=SECURITY_TOKEN)
    assert soap.imports.files[0].imported == 150
    app_flow = dict(client_id=CLIENT_ID, client_secret=TOKEN)
    assert signed_in(store, url, **app_flow, username=USERNAME, password=TOKEN, security_token=SECURITY_TOKEN).read
    assert signed_in(store, url, **app_flow).read  # client credentials
    session = sorted(fake.sessions)[0]
    assert signed_in(store, url, access_token=session, instance_url=url).read
    logins = [(r.path, (r.body if isinstance(r.body, str) else "")[:40]) for r in fake.log if "/services/" in r.path]
    assert sum(p == "/services/Soap/u/60.0" for p, _ in logins) == 1
    assert sum(p == "/services/oauth2/token" for p, _ in logins) == 2


def test_a_refused_sign_in_and_an_expired_session_say_what_to_do(store: Store, fake: FakeSalesforce, url: str):
    with pytest.raises(SyncError, match=r"Salesforce refused to sign in \(INVALID_LOGIN\)"):
        signed_in(store, url, username=USERNAME, password="wrong", security_token=SECURITY_TOKEN)
    with pytest.raises(SyncError, match=r"refused to sign in \(invalid_client\)"):
        signed_in(store, url, client_id=CLIENT_ID, client_secret="wrong")
    with pytest.raises(SyncError, match=r"Salesforce refused the credentials \(HTTP 401"):
        signed_in(store, url, access_token="00Dexpired!token", instance_url=url)
    logins = [r for r in fake.log if r.path == "/services/Soap/u/60.0"]
    assert len(logins) == 1  # a refused sign-in is not retried
    with pytest.raises(SyncError, match="HITRATE_SALESFORCE_INSTANCE_URL"):
        sync(store, "salesforce", credentials=Credentials("salesforce", {"access_token": Secret("x")}), retry=FAST)
    with pytest.raises(SyncError, match="HITRATE_SALESFORCE_USERNAME"):
        sync(store, "salesforce", credentials=Credentials("salesforce"), api_base=url, retry=FAST)


def test_stages_come_with_order_probability_and_won_lost_flags(store: Store, fake: FakeSalesforce, url: str):
    run(store, fake, url)
    defined = stages(store, "salesforce")
    assert [(s["stage"], s["is_won"], s["is_lost"]) for s in defined if s["is_won"] or s["is_lost"]] == [
        ("Closed Won", True, False),
        ("Closed Lost", False, True),
    ]
    assert [s["position"] for s in defined] == [1, 2, 3, 4, 5, 6] and defined[2]["probability"] == 0.5
    teams = dict(store.fetch("SELECT rep, team FROM reps"))
    assert teams and all(t and t.startswith("Team") for t in teams.values())  # UserRole.Name
