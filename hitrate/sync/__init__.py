"""Live CRM sync: HubSpot, Pipedrive and Salesforce deals into the store through the import path of files.

::

    from hitrate.sync import sync, connect

    report = sync(store, "hubspot")            # HITRATE_HUBSPOT_TOKEN, or the credentials file
    print(report.summary())                    # read = imported + updated + unchanged + quarantined

    client = connect("pipedrive")              # an authenticated client with paging, retries and clear errors
    client.get("/api/v2/stages")

The parts: :mod:`~hitrate.sync.credentials` (environment or a private file, never shown),
:mod:`~hitrate.sync.client` (:class:`CrmClient` on dlt's REST client: paginators, retries with ``Retry-After``
and back-off, one-line errors), one connector per CRM (:mod:`~hitrate.sync.hubspot`,
:mod:`~hitrate.sync.pipedrive`, :mod:`~hitrate.sync.salesforce`: ``connect`` and ``fetch`` to a
:class:`~hitrate.sync.records.Fetched`), :mod:`~hitrate.sync.load` (the import path and the cursor in one
transaction), :mod:`~hitrate.sync.state` (cursors, runs, stages, deleted deals), :mod:`~hitrate.sync.rescore`
(lead scores after a sync), :mod:`~hitrate.sync.schedule` (``every``) and :mod:`~hitrate.sync.push` (the stored
lead scores written back to the CRM: ``hitrate score push``). Names load lazily: ``import
hitrate.sync`` does not import dlt.
"""

from __future__ import annotations

from hitrate._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "CrmClient": "client",
        "HeaderAuth": "client",
        "RetryPolicy": "client",
        "CRMS": "credentials",
        "Credentials": "credentials",
        "Secret": "credentials",
        "load_credentials": "credentials",
        "Fetched": "records",
        "StageDef": "records",
        "PushReport": "push",
        "push": "push",
        "SyncReport": "report",
        "connect": "run",
        "connector": "run",
        "sync": "run",
        "SourceState": "state",
        "source_state": "state",
        "sync_states": "state",
    },
)
