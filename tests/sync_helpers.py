"""Shared by the sync tests: the fake CRMs by name, credentials for them, a fast retry policy, table snapshots."""

from __future__ import annotations

from typing import Any

from hitrate.store.embedded import Store
from hitrate.sync import Credentials, RetryPolicy, Secret, sync

TOKEN = "secret-XYZ"
FAST = RetryPolicy(attempts=3, backoff=0.01, max_wait=0.05, timeout=5)


def fake_for(crm: str, token: str = TOKEN) -> Any:
    """A fresh fake of ``crm``'s API accepting ``token``."""
    if crm == "hubspot":
        from tests.fake_hubspot import FakeHubSpot

        return FakeHubSpot(token)
    if crm == "pipedrive":
        from tests.fake_pipedrive import FakePipedrive

        return FakePipedrive(token)
    from tests.fake_salesforce import FakeSalesforce

    return FakeSalesforce(token)


def credentials(fake: Any, token: str = TOKEN) -> Credentials:
    """What a user of ``fake``'s CRM would set, as :class:`Credentials`."""
    prefix = f"HITRATE_{fake.crm.upper()}_"
    values = {k[len(prefix) :].lower(): Secret(v) for k, v in fake.env(token).items() if k.startswith(prefix)}
    return Credentials(fake.crm, values)


def run(store: Store, fake: Any, url: str, token: str = TOKEN, **kwargs: Any) -> Any:
    """One sync of ``fake``'s CRM at ``url`` into ``store``."""
    kwargs.setdefault("retry", FAST)
    return sync(store, fake.crm, credentials=credentials(fake, token), api_base=url, **kwargs)


def snapshot(store: Store, name: str) -> list[tuple[Any, ...]]:
    """Every row of a table, bookkeeping column ``_batch`` left out, in a stable order."""
    exclude = " EXCLUDE (_batch)" if "_batch" in store._all_columns(name) else ""
    return store.fetch(f"SELECT *{exclude} FROM {name} ORDER BY ALL")


def deals_report(report: Any) -> Any:
    """The file report of a sync's deals."""
    return next(f for f in report.imports.files if f.table == "opportunities")
